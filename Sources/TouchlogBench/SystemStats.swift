#if canImport(Glibc)
    import Glibc
#endif

/// Monotonic time in seconds (`clock_gettime(CLOCK_MONOTONIC)`).
@inline(__always)
func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Resident memory of this process, from `/proc/self` on Linux and `getrusage` elsewhere.
public enum MemoryStats {
    /// Resets the peak resident size (`VmHWM`) by writing 5 to `/proc/self/clear_refs` (Linux 4.0+),
    /// so the next `peakResidentBytes()` covers only what follows. Returns false where that is not possible.
    @discardableResult
    public static func resetPeak() -> Bool {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var five: UInt8 = UInt8(ascii: "5")
        return write(fd, &five, 1) == 1
    }

    /// The peak resident size: `VmHWM` (since the last reset), else `getrusage`'s `ru_maxrss`.
    public static func peakResidentBytes() -> Int {
        statusField("VmHWM:") ?? processPeakBytes()
    }

    /// The peak resident size of the whole process life (`getrusage(RUSAGE_SELF)`, `ru_maxrss`).
    public static func processPeakBytes() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Int(usage.ru_maxrss) * 1024
    }

    /// The anonymous resident size now (`RssAnon`: heap and stacks, not the file pages of the LMDB map).
    public static func anonymousResidentBytes() -> Int? { statusField("RssAnon:") }

    /// A `kB` field of `/proc/self/status`, in bytes.
    private static func statusField(_ name: String) -> Int? {
        statusFields("/proc/self/status", [name])[0]
    }

    /// What another process holds now, from `/proc/PID/status`: `RssAnon` (its heap and stacks) and
    /// `VmHWM` (its peak resident size, file-backed pages of a memory map included); nil once it has ended.
    public static func residentBytes(ofProcess pid: Int32) -> (anonymous: Int, peak: Int)? {
        let fields = statusFields("/proc/\(pid)/status", ["RssAnon:", "VmHWM:"])
        guard let anonymous = fields[0], let peak = fields[1] else { return nil }
        return (anonymous, peak)
    }

    /// The `kB` fields `names` of a `/proc/.../status` file, in bytes, in the order asked (nil: absent).
    private static func statusFields(_ path: String, _ names: [String]) -> [Int?] {
        var values = [Int?](repeating: nil, count: names.count)
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return values }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 8192)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return values }
        let text = String(decoding: bytes[0..<n], as: UTF8.self)
        for line in text.split(separator: "\n") {
            guard let index = names.firstIndex(where: { line.hasPrefix($0) }) else { continue }
            let digits = line.dropFirst(names[index].count).filter { $0.isNumber }
            values[index] = Int(digits).map { $0 * 1024 }
        }
        return values
    }
}

/// Percentile of sorted values (nearest rank).
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
}
