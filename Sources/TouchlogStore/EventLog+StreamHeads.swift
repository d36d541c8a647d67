import LMDB

/// The head of one stream as a leaf of the stream heads tree (docs/PROOFS.md): the stream's key in the
/// `streams` database, the position of its last event and its version, as of some log size.
///
/// The heads tree is an RFC 6962 tree over these leaves in the byte order of the keys; a checkpoint
/// commits to its root, so that a proof bundle can show that a customer's stream ended where the bundle
/// says (nothing of it left out).
public struct StreamHeadEntry: Sendable, Equatable {
    /// The stream's key: the key of the `streams` database (`EventLog.streamKey(ofCustomer:)`).
    public var stream: [UInt8]
    public var lastPosition: UInt64
    public var version: UInt64

    public init(stream: [UInt8], lastPosition: UInt64, version: UInt64) {
        self.stream = stream
        self.lastPosition = lastPosition
        self.version = version
    }

    /// The leaf bytes: the key's length (2 bytes, big-endian), the key, the last position and the
    /// version (8 bytes each, big-endian).
    public var leafBytes: [UInt8] {
        var bytes: [UInt8] = [UInt8(stream.count >> 8), UInt8(stream.count & 0xff)]
        bytes += stream
        for value in [lastPosition, version] {
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            }
        }
        return bytes
    }

    /// Decodes `leafBytes`; nil when the bytes are not a leaf.
    public init?(leafBytes bytes: [UInt8]) {
        guard bytes.count >= 18 else { return nil }
        let length = Int(bytes[0]) << 8 | Int(bytes[1])
        guard bytes.count == 2 + length + 16 else { return nil }
        func number(_ at: Int) -> UInt64 { bytes[at..<at + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        self.init(
            stream: Array(bytes[2..<2 + length]), lastPosition: number(2 + length),
            version: number(2 + length + 8))
    }

    /// The leaf hash: SHA-256(0x00 || `leafBytes`).
    public var leafHash: ChainHash { .merkleLeaf(hashedBytes: leafBytes) }
}

/// A stream's entry in the heads tree with its inclusion proof, and the tree's size and root.
public struct StreamHeadProof: Sendable, Equatable {
    public var entry: StreamHeadEntry
    public var index: UInt64
    public var size: UInt64
    public var root: ChainHash
    public var proof: [ChainHash]
}

extension EventLog {
    /// The key of a customer's stream in the `streams` database, in the snapshot of `txn`: the one
    /// place that names a stream, which the heads tree and proof bundles use. In format 3 the
    /// customer's pseudonym (16 bytes; `customer` may also be an `erased:HEX` or `ps:HEX` name), in
    /// format 2 the customer id as UTF-8. Nil when the store has no stream of that customer.
    /// - Throws: `StoreError.sealedContent` for a `customerids` or `customerkeys` entry that does not
    ///   decode.
    public func streamKey(ofCustomer customer: String, in txn: borrowing some ReadableTransaction & ~Copyable)
        throws -> [UInt8]?
    {
        guard databases.sealing != nil else {
            return try readStream(customer, txn) == nil ? nil : Array(customer.utf8)
        }
        guard let key = try customerKey(customer, txn), try readStream(pseudonym: key.pseudonym, txn) != nil
        else { return nil }
        return key.pseudonym.bytes
    }

    /// Calls `body` with the head of every stream as of the first `size` events, in key order: a stream
    /// whose last event is later is followed back along its links to its last event at or before `size`;
    /// a stream that had no event by then is left out.
    /// - Throws: `StoreError.corruptRecord` for a link to a record that is missing or does not decode,
    ///   `StoreError.corruptIndex` for a `streams` value that is not a stream head, or what `body` throws.
    public func forEachStreamHead(
        asOf size: UInt64, in txn: borrowing some ReadableTransaction & ~Copyable,
        _ body: (StreamHeadEntry) throws -> Void
    ) throws {
        try txn.withCursor(on: databases.streams) { cursor in
            try cursor.unsafeForEach(from: nil as BigEndianKey?) { key, value in
                guard var head = StreamHead(decoding: value) else {
                    throw StoreError.corruptIndex(reason: "a 'streams' value is \(value.count) bytes, not 16")
                }
                while head.lastPosition > size {
                    let at = head.lastPosition
                    guard
                        let previous = try withRecord(
                            at: at, in: txn, opening: false, { ($0.previousPosition, $0.version) })
                    else { throw StoreError.corruptRecord(position: at) }
                    head = StreamHead(lastPosition: previous.0, version: previous.1 - 1)
                }
                if head.lastPosition > 0 {
                    try body(
                        StreamHeadEntry(
                            stream: Array(key), lastPosition: head.lastPosition, version: head.version))
                }
                return true
            }
        }
    }

    /// The size and root of the stream heads tree as of the first `size` events.
    public func streamHeadsRoot(asOf size: UInt64, in txn: borrowing some ReadableTransaction & ~Copyable)
        throws -> (size: UInt64, root: ChainHash)
    {
        var tree = MerkleFrontier()
        try forEachStreamHead(asOf: size, in: txn) { tree.append($0.leafHash) }
        return (tree.size, tree.root)
    }

    /// The entry of the stream `stream` in the heads tree as of the first `size` events, with its
    /// inclusion proof; nil when that stream had no event by then. Two passes over the streams: one to
    /// find the entry's index and the tree's size, one to hash the proof's subtrees.
    public func streamHeadProof(
        stream: [UInt8], asOf size: UInt64, in txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> StreamHeadProof? {
        var count: UInt64 = 0
        var found: (entry: StreamHeadEntry, index: UInt64)?
        try forEachStreamHead(asOf: size, in: txn) { entry in
            if entry.stream == stream { found = (entry, count) }
            count += 1
        }
        guard let found else { return nil }
        var hasher = MerkleRangeHasher(ranges: MerkleProof.inclusionRanges(index: found.index, size: count))
        try forEachStreamHead(asOf: size, in: txn) { hasher.append($0.leafHash) }
        return StreamHeadProof(
            entry: found.entry, index: found.index, size: count, root: hasher.root, proof: hasher.rangeHashes)
    }
}
