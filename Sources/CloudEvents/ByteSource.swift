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
