import Crypto

/// A SHA-256 digest in the log's hash chain.
///
/// Kept inline (four words, no heap allocation): the append path makes one per event.
public struct ChainHash: Sendable, Hashable, CustomStringConvertible {
    private var words: (UInt64, UInt64, UInt64, UInt64)

    /// The 32 bytes of the digest.
    public var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 32, "a chain hash has 32 bytes")
        self.init(unsafeBytes: bytes.withUnsafeBytes { $0 })
    }

    /// Copies the first 32 bytes of `raw`.
    init(unsafeBytes raw: UnsafeRawBufferPointer) {
        precondition(raw.count >= 32, "a chain hash has 32 bytes")
        words = (
            raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
            raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
            raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
            raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        )
    }

    /// The chain hash of the event record `record` stored at `position`: SHA-256 of the position
    /// (8 bytes, big-endian) and every byte of the record after its own hash (docs/STORAGE.md).
    init(position: UInt64, record: some ContiguousBytesSlice) {
        var hasher = SHA256()
        var bigEndian = position.bigEndian
        Swift.withUnsafeBytes(of: &bigEndian) { hasher.update(bufferPointer: $0) }
        record.withBytes { bytes in
            let hashed = min(EventRecord.hashRange.upperBound, bytes.count)
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[hashed...]))
        }
        self = hasher.finalize().withUnsafeBytes { ChainHash(unsafeBytes: $0) }
    }

    /// Lends the 32 bytes, in digest order.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = words
        return try Swift.withUnsafeBytes(of: &copy) { try body($0) }
    }

    public static func == (a: ChainHash, b: ChainHash) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// The predecessor of the first event: 32 zero bytes.
    public static let genesis = ChainHash(bytes: [UInt8](repeating: 0, count: 32))

    /// Lower-case hexadecimal, as the `hash` and `predecessorhash` attributes show it.
    public var description: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(64)
        withUnsafeBytes { raw in
            for byte in raw {
                text.append(digits[Int(byte >> 4)])
                text.append(digits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// Contiguous bytes that can be lent as a buffer: a record being built, or one read from LMDB.
protocol ContiguousBytesSlice {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: ContiguousBytesSlice where Element == UInt8 {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
    }
}

extension UnsafeRawBufferPointer: ContiguousBytesSlice {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(self) }
}

extension EventLog {
    /// The chain hash of `record` stored at `position`: SHA-256 of the position and the record's bytes
    /// after its own hash (docs/STORAGE.md). For benchmarks and tools; not part of the stable API.
    @_spi(Benchmarks)
    public static func recordHash(position: UInt64, record: [UInt8]) -> ChainHash {
        ChainHash(position: position, record: record)
    }
}
