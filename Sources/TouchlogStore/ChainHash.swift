import Crypto
import LMDB

/// A SHA-256 digest in the log's hash chain, and in its Merkle tree.
///
/// Kept inline (four words, no heap allocation): the append path makes one per event.
public struct ChainHash: Sendable, Hashable, CustomStringConvertible, BytesRepresentable {
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
        record.withBytes { bytes in
            HashedBytes.withParts(position: position, record: bytes) { prefix, rest in
                hasher.update(bufferPointer: prefix)
                hasher.update(bufferPointer: rest)
            }
        }
        self = hasher.finalize().withUnsafeBytes { ChainHash(unsafeBytes: $0) }
    }

    /// The Merkle leaf hash of the event record `record` stored at `position`: SHA-256 of 0x00 and the
    /// record's hashed bytes (RFC 6962 section 2.1; docs/PROOFS.md).
    init(leafOf position: UInt64, record: UnsafeRawBufferPointer) {
        var hasher = SHA256()
        Swift.withUnsafeBytes(of: UInt8(0)) { hasher.update(bufferPointer: $0) }
        HashedBytes.withParts(position: position, record: record) { prefix, rest in
            hasher.update(bufferPointer: prefix)
            hasher.update(bufferPointer: rest)
        }
        self = hasher.finalize().withUnsafeBytes { ChainHash(unsafeBytes: $0) }
    }

    /// The Merkle leaf hash of an event given its hashed bytes (as a proof bundle carries them):
    /// SHA-256(0x00 || hashed bytes).
    public static func merkleLeaf(hashedBytes: [UInt8]) -> ChainHash {
        var hasher = SHA256()
        hasher.update(data: [UInt8(0)])
        hasher.update(data: hashedBytes)
        return hasher.finalize().withUnsafeBytes { ChainHash(unsafeBytes: $0) }
    }

    /// An RFC 6962 interior node: SHA-256(0x01 || left || right).
    public static func merkleNode(_ left: ChainHash, _ right: ChainHash) -> ChainHash {
        var hasher = SHA256()
        Swift.withUnsafeBytes(of: UInt8(1)) { hasher.update(bufferPointer: $0) }
        left.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        right.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return hasher.finalize().withUnsafeBytes { ChainHash(unsafeBytes: $0) }
    }

    /// The root of the empty tree: SHA-256 of no bytes (RFC 6962 section 2.1).
    public static let emptyTreeRoot = SHA256.hash(data: [UInt8]()).withUnsafeBytes {
        ChainHash(unsafeBytes: $0)
    }

    /// Lends the 32 bytes as an LMDB value.
    public func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
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
    public var description: String { withUnsafeBytes { lowerHex($0) } }
}

/// `bytes` as lower-case hexadecimal: two digits a byte. The one hex writer of the store (hashes,
/// pseudonyms); called for every record the fold reads in format 3, so it writes the digits directly.
func lowerHex(_ bytes: UnsafeRawBufferPointer) -> String {
    String(unsafeUninitializedCapacity: bytes.count * 2) { text in
        for (offset, byte) in bytes.enumerated() {
            text[2 * offset] = hexDigit(byte >> 4)
            text[2 * offset + 1] = hexDigit(byte & 0x0f)
        }
        return bytes.count * 2
    }
}

/// The ASCII lower-case hexadecimal digit of `nibble` (0-15).
@inline(__always) private func hexDigit(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
}

/// The bytes of an event that its hashes cover, the "hashed bytes" (docs/PROOFS.md): its position as
/// 8 big-endian bytes, then every byte of its record after the record's own hash (record bytes 33…).
/// The chain hash is SHA-256(hashed bytes); the Merkle leaf hash is SHA-256(0x00 || hashed bytes).
///
/// The one definition of what is hashed: the chain, the Merkle tree, `EventRecordView.hashedBytes` and
/// proof bundles all go through it, so a change to what a record holds changes them together.
enum HashedBytes {
    /// Lends the hashed bytes of `record` stored at `position` to `body` as their two parts, the
    /// position's 8 bytes and the rest of the record, without copying the record.
    @inline(__always)
    static func withParts<R>(
        position: UInt64, record: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        var bigEndian = position.bigEndian
        return try Swift.withUnsafeBytes(of: &bigEndian) { prefix in
            let start = min(EventRecord.hashRange.upperBound, record.count)
            return try body(prefix, UnsafeRawBufferPointer(rebasing: record[start...]))
        }
    }

    /// The position the hashed bytes start with; nil when they are shorter than 8 bytes.
    static func position(of hashedBytes: [UInt8]) -> UInt64? {
        guard hashedBytes.count >= 8 else { return nil }
        return hashedBytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The record of format `format` whose hashed bytes at their position are `hashedBytes`: the format
    /// byte and the chain hash put back in front of the rest (the hashed bytes do not hold the format).
    /// Nil when the bytes are too short to be a record.
    static func record(from hashedBytes: [UInt8], format: UInt8) -> (position: UInt64, record: [UInt8])? {
        guard let position = position(of: hashedBytes),
            hashedBytes.count >= 8 + EventRecord.headerSize - EventRecord.hashRange.upperBound
        else { return nil }
        var record = [format] + [UInt8](repeating: 0, count: EventRecord.hashRange.count)
        record += hashedBytes[8...]
        let hash = ChainHash(position: position, record: record)
        record.replaceSubrange(EventRecord.hashRange, with: hash.bytes)
        return (position, record)
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
