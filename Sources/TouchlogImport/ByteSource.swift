import CZlib

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A stream of bytes read in chunks, so that inputs of any size need only a bounded buffer.
public protocol ByteSource {
    /// Fills the start of `buffer` with the next bytes and returns how many; 0 means the end.
    /// - Throws: `ByteSourceError` when the input cannot be read.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ByteSourceError) -> Int
}

/// The input could not be read: an I/O error, or compressed data that is corrupt or truncated.
public struct ByteSourceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// True when the bytes themselves are bad (corrupt or truncated gzip data), false for an I/O error.
    public var isDataError: Bool

    public init(_ message: String, isDataError: Bool) {
        self.message = message
        self.isDataError = isDataError
    }

    public var description: String { message }
}

/// Bytes held in memory (tests, small inputs).
public struct MemoryByteSource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ text: String) { self.bytes = Array(text.utf8) }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ByteSourceError) -> Int {
        let count = min(buffer.count, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }
}

/// A file (or standard input) read as a stream, inflated on the fly when it is gzip.
///
/// Uses zlib's `gzdopen`/`gzread`, which recognise the gzip magic bytes and otherwise pass the file through
/// unchanged ("If the file is not in gzip format, gzread copies the given number of bytes into the buffer
/// directly from the file", zlib.h). So `FILE.csv` and `FILE.csv.gz` read the same, whatever their names,
/// concatenated gzip members are read one after the other, and memory stays at zlib's buffers (128 KiB
/// here) and its 32 KiB window, however large the file. This class is the only place that touches zlib.
public final class DecompressingFileReader: ByteSource {
    private var file: gzFile?
    /// The file name, for messages.
    public let path: String

    /// Opens `path` for reading; "-" reads standard input.
    /// - Throws: `ByteSourceError` (an I/O error) when the file cannot be opened.
    public init(path: String) throws(ByteSourceError) {
        self.path = path
        let fd: Int32 = path == "-" ? dup(0) : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ByteSourceError(
                "cannot open '\(path)': \(String(cString: strerror(errno)))", isDataError: false)
        }
        // "gzdopen ... will close the file descriptor fd when gzclose() is called" (zlib.h); on failure it
        // does not, so close it here.
        guard let file = gzdopen(fd, "rb") else {
            close(fd)
            throw ByteSourceError("cannot read '\(path)': out of memory", isDataError: false)
        }
        // "gzbuffer() must be called after gzopen() or gzdopen(), and before any other calls that read".
        _ = gzbuffer(file, 1 << 17)
        self.file = file
    }

    deinit {
        if let file { _ = gzclose_r(file) }
    }

    /// Reads the next bytes, inflated; 0 at the end of the input. Calls `gzread`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ByteSourceError) -> Int {
        guard let file, let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let count = gzread(file, base, UInt32(min(buffer.count, Int(Int32.max))))
        var code: Int32 = 0
        if count > 0 { return Int(count) }
        let message = gzerror(file, &code).map { String(cString: $0) } ?? "unknown error"
        if count == 0 {
            // "Z_BUF_ERROR indicates that the input file ended in the middle of a gzip stream" (zlib.h).
            guard code == Z_BUF_ERROR else { return 0 }
            throw ByteSourceError(
                "'\(path)' ends in the middle of its gzip data (is it truncated?)", isDataError: true)
        }
        if code == Z_ERRNO {
            throw ByteSourceError(
                "cannot read '\(path)': \(String(cString: strerror(errno)))", isDataError: false)
        }
        throw ByteSourceError("'\(path)' is not valid gzip data: \(message)", isDataError: true)
    }
}
