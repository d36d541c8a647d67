import LMDB

/// The key of the idempotency index: a 64-bit hash of `source` and `id` (docs/STORAGE.md).
///
/// A store made by this version has a random 128-bit key of its own (`meta` key `idkey`), and the hash
/// is SipHash-2-4 under that key of the message `le64(bytes of source) || source || le64(bytes of id) ||
/// id`: nobody outside the store can compute it, so nobody can send ids made to collide (an unkeyed
/// hash let 20,000 colliding ids be made in seconds, and each lookup then compared every one of them).
/// Stores made before keep the unkeyed hash they were built with (`IdentityKey.unkeyed`).
///
/// Different events can still share a hash by chance: the index keeps every position under it and a
/// lookup compares the real `source` and `id` of each candidate, so a collision never makes an event a
/// duplicate.
struct IdentityHasher: Sendable {
    /// The store's SipHash key; nil for a store made before keyed hashes.
    let key: (UInt64, UInt64)?

    /// The identity hash of `source` and `id` in this store.
    @inline(__always)
    func hash(source: String, id: String) -> UInt64 {
        source.withKeyBytes { source in id.withKeyBytes { id in hash(source: source, id: id) } }
    }

    /// The identity hash of the UTF-8 bytes of `source` and `id`, as a record holds them.
    @inline(__always)
    func hash(source: UnsafeRawBufferPointer, id: UnsafeRawBufferPointer) -> UInt64 {
        guard let key else { return IdentityKey.unkeyed(source: source, id: id) }
        var hasher = SipHasher24(key: key)
        hasher.absorbCounted(source)
        hasher.absorbCounted(id)
        return hasher.finalize()
    }

    /// A new random key, from the system's generator (getrandom).
    static func randomKey() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// The hasher of a stored key: 16 bytes, two little-endian words.
    init?(key bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        var k0: UInt64 = 0
        var k1: UInt64 = 0
        for index in 0..<8 {
            k0 |= UInt64(bytes[index]) << (8 * UInt64(index))
            k1 |= UInt64(bytes[8 + index]) << (8 * UInt64(index))
        }
        key = (k0, k1)
    }

    /// The unkeyed hash of stores made before keyed hashes.
    static let unkeyed = IdentityHasher(unkeyed: ())
    private init(unkeyed: Void) { key = nil }
}

/// SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash, fed in pieces.
struct SipHasher24 {
    private var v0, v1, v2, v3: UInt64
    /// Bytes absorbed so far, and the ones waiting to fill a word.
    private var length = 0
    private var tail: UInt64 = 0

    init(key: (UInt64, UInt64)) {
        v0 = key.0 ^ 0x736f_6d65_7073_6575
        v1 = key.1 ^ 0x646f_7261_6e64_6f6d
        v2 = key.0 ^ 0x6c79_6765_6e65_7261
        v3 = key.1 ^ 0x7465_6462_7974_6573
    }

    @inline(__always)
    private mutating func round() {
        v0 &+= v1
        v1 = v1.rotatedLeft(13) ^ v0
        v0 = v0.rotatedLeft(32)
        v2 &+= v3
        v3 = v3.rotatedLeft(16) ^ v2
        v0 &+= v3
        v3 = v3.rotatedLeft(21) ^ v0
        v2 &+= v1
        v1 = v1.rotatedLeft(17) ^ v2
        v2 = v2.rotatedLeft(32)
    }

    @inline(__always)
    private mutating func compress(_ word: UInt64) {
        v3 ^= word
        round()
        round()
        v0 ^= word
    }

    /// Absorbs the byte count of `bytes` (eight bytes, little-endian) and then `bytes`.
    @inline(__always)
    mutating func absorbCounted(_ bytes: UnsafeRawBufferPointer) {
        var count = UInt64(bytes.count).littleEndian
        withUnsafeBytes(of: &count) { absorb($0) }
        absorb(bytes)
    }

    /// Absorbs `bytes`.
    mutating func absorb(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        // Finish a partial word first.
        while length % 8 != 0 && offset < bytes.count {
            tail |= UInt64(bytes[offset]) << (8 * UInt64(length % 8))
            length += 1
            offset += 1
            if length % 8 == 0 {
                compress(tail)
                tail = 0
            }
        }
        while offset + 8 <= bytes.count {
            compress(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            offset += 8
            length += 8
        }
        while offset < bytes.count {
            tail |= UInt64(bytes[offset]) << (8 * UInt64(length % 8))
            length += 1
            offset += 1
        }
    }

    /// The hash of everything absorbed.
    mutating func finalize() -> UInt64 {
        let last = tail | (UInt64(truncatingIfNeeded: length) << 56)
        compress(last)
        v2 ^= 0xff
        for _ in 0..<4 { round() }
        return v0 ^ v1 ^ v2 ^ v3
    }
}

extension UInt64 {
    @inline(__always)
    fileprivate func rotatedLeft(_ count: UInt64) -> UInt64 { (self << count) | (self >> (64 - count)) }
}

/// The unkeyed identity hash of stores made before keyed hashes (docs/STORAGE.md).
///
/// Each string is absorbed as its byte count and then its UTF-8 bytes eight at a time (little-endian
/// words, the last one zero-padded): `h = (h ^ word) * 0xbf58476d1ce4e5b9; h ^= h >> 29`, from
/// `h = 0x9e3779b97f4a7c15`.
enum IdentityKey {
    static func unkeyed(source: String, id: String) -> UInt64 {
        var hash: UInt64 = 0x9e37_79b9_7f4a_7c15
        absorb(source, into: &hash)
        absorb(id, into: &hash)
        return hash
    }

    /// `unkeyed(source:id:)` of the UTF-8 bytes of `source` and `id`.
    static func unkeyed(source: UnsafeRawBufferPointer, id: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0x9e37_79b9_7f4a_7c15
        absorb(source, into: &hash)
        absorb(id, into: &hash)
        return hash
    }

    @inline(__always)
    private static func absorb(_ word: UInt64, into hash: inout UInt64) {
        hash = (hash ^ word) &* 0xbf58_476d_1ce4_e5b9
        hash ^= hash >> 29
    }

    @inline(__always)
    private static func absorb(_ text: String, into hash: inout UInt64) {
        text.withKeyBytes { absorb($0, into: &hash) }
    }

    @inline(__always)
    private static func absorb(_ bytes: UnsafeRawBufferPointer, into hash: inout UInt64) {
        absorb(UInt64(bytes.count), into: &hash)
        var offset = 0
        while offset + 8 <= bytes.count {
            absorb(
                UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)),
                into: &hash)
            offset += 8
        }
        if offset < bytes.count {
            var last: UInt64 = 0
            for index in offset..<bytes.count {
                last |= UInt64(bytes[index]) << (8 * UInt64(index - offset))
            }
            absorb(last, into: &hash)
        }
    }
}

/// A 64-bit digest of an event's identity (`source`, `id`) that is the same in every store (the unkeyed
/// identity hash): what orders events that happened at the same instant, so that an order built on it
/// does not depend on the order in which they were appended. Not for an index anyone can flood: the
/// store's identity index uses its keyed hash.
public func stableIdentityDigest(source: String, id: String) -> UInt64 {
    IdentityKey.unkeyed(source: source, id: id)
}
