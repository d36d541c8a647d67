#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension TouchpointGenerator {
    /// Writes all events as JSON Lines (each followed by "\n") to a file descriptor, in chunks
    /// of about 1 MiB. Does not close the descriptor.
    ///
    /// Calls POSIX `write(2)`, continuing after partial writes and `EINTR`.
    /// - Throws: ``GeneratorWriteError`` with the `errno` of the failed write.
    public static func writeJSONLines(
        _ configuration: GeneratorConfiguration, toFileDescriptor fd: Int32
    ) throws {
        let chunkSize = 1 << 20
        var generator = TouchpointGenerator(configuration)
        var chunk: [UInt8] = []
        chunk.reserveCapacity(chunkSize + 4096)
        var written = 0
        while generator.writeNext(into: &chunk) {
            chunk.append(UInt8(ascii: "\n"))
            if chunk.count >= chunkSize {
                try writeAll(chunk, to: fd, offset: written)
                written += chunk.count
                chunk.removeAll(keepingCapacity: true)
            }
        }
        if !chunk.isEmpty {
            try writeAll(chunk, to: fd, offset: written)
        }
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32, offset: Int) throws {
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let result = write(fd, raw.baseAddress! + done, raw.count - done)
                if result < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    throw GeneratorWriteError(
                        fileDescriptor: fd, code: code, bytesWritten: offset + done)
                }
                done += result
            }
        }
    }
}

/// Writing generated events to a file descriptor failed.
public struct GeneratorWriteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The descriptor that was written to.
    public var fileDescriptor: Int32
    /// The `errno` of the failed `write(2)`.
    public var code: Int32
    /// How many bytes had been written before the failure.
    public var bytesWritten: Int

    public var description: String {
        let reason = String(cString: strerror(code))
        return "could not write generated events to file descriptor \(fileDescriptor) after "
            + "\(bytesWritten) bytes: \(reason) (errno \(code))"
    }
}
