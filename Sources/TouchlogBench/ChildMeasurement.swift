import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One `touchlog` command run as a child process, watched for memory while it runs.
///
/// The child's memory is read from `/proc/PID/status` every `interval` seconds: the largest `RssAnon`
/// (anonymous memory: heap and stacks, what the process itself holds) and the largest `VmHWM` (its peak
/// resident size, which also counts the file-backed, reclaimable pages of the LMDB map it touched).
/// At the end, `wait4`'s `ru_maxrss` (the same peak, as the kernel kept it) covers the last moments.
struct ChildMeasurement {
    /// Standard output and standard error of the child, each in its own file.
    var outputPath: String
    var errorPath: String
    /// Variables set in the child's environment on top of this process's.
    var environment: [String: String] = [:]
    var interval = 0.020
    /// Receives a line every `reportEvery` seconds while the child runs.
    var reportEvery = 5.0

    /// How the child ended and what it held.
    struct Outcome {
        /// The exit status, or 128 + the signal that ended it.
        var exitStatus: Int32
        var seconds: Double
        var maxAnonymousBytes: Int
        var peakResidentBytes: Int
        /// How many times `/proc/PID/status` was read.
        var samples: Int
    }

    /// Runs `executable ARGUMENTS` to its end.
    /// - Parameter progress: receives "NAME: 25 s, RssAnon ..." lines while the child runs.
    func run(_ executable: String, _ arguments: [String], name: String, progress: (String) -> Void) throws
        -> Outcome
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var variables = ProcessInfo.processInfo.environment
        variables.merge(environment) { _, new in new }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let t0 = monotonicSeconds()
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard rc == 0 else {
            throw BenchOptionError("cannot start '\(executable)': \(String(cString: strerror(rc)))")
        }
        var maxAnonymous = 0
        var peak = 0
        var samples = 0
        var lastReport = t0
        var anonymous = 0
        while true {
            // Sample first, then look for the end: the last sample is at most one interval old.
            if let now = MemoryStats.residentBytes(ofProcess: pid) {
                anonymous = now.anonymous
                maxAnonymous = max(maxAnonymous, now.anonymous)
                peak = max(peak, now.peak)
                samples += 1
            }
            var status: Int32 = 0
            var usage = rusage()
            let ended = wait4(pid, &status, WNOHANG, &usage)
            if ended == pid {
                let seconds = monotonicSeconds() - t0
                let signal = status & 0x7f
                return Outcome(
                    exitStatus: signal == 0 ? (status >> 8) & 0xff : 128 + signal, seconds: seconds,
                    maxAnonymousBytes: maxAnonymous,
                    peakResidentBytes: max(peak, Int(usage.ru_maxrss) * 1024),
                    samples: samples)
            }
            if ended < 0 && errno != EINTR {
                throw BenchOptionError(
                    "waiting for \(name) (pid \(pid)): \(String(cString: strerror(errno)))")
            }
            let now = monotonicSeconds()
            if now - lastReport >= reportEvery {
                lastReport = now
                progress(
                    "\(name): \(Int(now - t0)) s, RssAnon \(mebibytes(anonymous)) (max \(mebibytes(maxAnonymous))), VmHWM \(mebibytes(peak))"
                )
            }
            usleep(useconds_t(interval * 1_000_000))
        }
    }
}

/// 123456789 -> "118 MiB".
func mebibytes(_ bytes: Int) -> String { "\(Int((Double(bytes) / 1_048_576).rounded())) MiB" }
