import SystemPackage

/// A file (or standard input) read as it is, with `read(2)` through swift-system.
///
/// Reads go straight into the caller's buffer: no buffer of its own, no copy, no decompression
/// (`DecompressingFileReader` in TouchlogIngest reads gzip). Interrupted reads (`EINTR`) are retried.
public final class FileByteSource: ByteSource {
    /// The file's name in messages: its path, "standard input" or "file descriptor N".
    public let name: String
    private let descriptor: FileDescriptor
    private let closesDescriptor: Bool
    /// The name as messages quote it: a path in quotes, the other names as they are.
    private let quotedName: String

    /// Opens `path` read-only (`open(2)` with `O_CLOEXEC`); the source closes it when it goes away.
    /// - Throws: `ByteSourceError` (an I/O error) naming the path when the file cannot be opened.
    public init(path: String) throws(ByteSourceError) {
        do {
            descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec)
        } catch {
            throw ByteSourceError("cannot open '\(path)': \(error)", isDataError: false)
        }
        name = path
        quotedName = "'\(path)'"
        closesDescriptor = true
    }

    /// Reads an open descriptor, which the source does not close (`.standardInput`, a pipe, a test's file).
    public init(fileDescriptor: FileDescriptor) {
        descriptor = fileDescriptor
        name =
            fileDescriptor == .standardInput ? "standard input" : "file descriptor \(fileDescriptor.rawValue)"
        quotedName = name
        closesDescriptor = false
    }

    deinit {
        guard closesDescriptor else { return }
        do {
            try descriptor.close()
        } catch {
            // The file was only read: a failing close(2) (EINTR, EIO) cannot lose data, and a deinit
            // has no caller to tell. Every read error has already been reported by `read(into:)`.
        }
    }

    /// Reads the next bytes into `buffer`; 0 at the end of the file. Calls `read(2)`, retrying on `EINTR`.
    /// - Throws: `ByteSourceError` (an I/O error) naming the file and the `Errno`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ByteSourceError) -> Int {
        do {
            return try descriptor.read(into: buffer, retryOnInterrupt: true)
        } catch {
            throw ByteSourceError("cannot read \(quotedName): \(error)", isDataError: false)
        }
    }
}
