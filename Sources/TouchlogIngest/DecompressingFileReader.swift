import CZlib
import CloudEvents
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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

    /// Opens `path` for reading (`open` through swift-system's `FileDescriptor`); "-" reads a duplicate
    /// of standard input (`dup`), so closing this reader leaves standard input open.
    /// - Throws: `ByteSourceError` (an I/O error) naming the system error when the file cannot be opened.
    public init(path: String) throws(ByteSourceError) {
        self.path = path
        let descriptor: FileDescriptor
        do {
            descriptor =
                path == "-"
                ? try FileDescriptor.standardInput.duplicate()
                : try FileDescriptor.open(
                    FilePath(path), .readOnly, options: .closeOnExec, retryOnInterrupt: true)
        } catch {
            throw ByteSourceError("cannot open '\(path)': \(error)", isDataError: false)
        }
        // "gzdopen ... will close the file descriptor fd when gzclose() is called" (zlib.h); on failure it
        // does not, so close it here.
        guard let file = gzdopen(descriptor.rawValue, "rb") else {
            try? descriptor.close()  // Nothing was read; the error that matters is the one thrown below.
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
            // "If an error occurred in the file system and not in the compression library, errnum is set to
            // Z_ERRNO and the application may consult errno to get the exact error code" (zlib.h).
            throw ByteSourceError("cannot read '\(path)': \(Errno(rawValue: errno))", isDataError: false)
        }
        throw ByteSourceError("'\(path)' is not valid gzip data: \(message)", isDataError: true)
    }
}
