import LMDB

/// The RFC 6962 / RFC 9162 Merkle tree over the log, kept in the `merkle` database (docs/PROOFS.md).
///
/// Leaf k (0-based) is the event at position k + 1; its leaf hash is SHA-256(0x00 || the event's hashed
/// bytes). The database holds the nodes of every complete subtree of `storedLevel` or more levels (16
/// leaves or more), numbered in post-order: node (level h, index i), the subtree over leaves
/// i·2^h ..< (i+1)·2^h, has the key `nodes(blocks: i·2^(h-L)) + 2^(h-L+1) - 2` (L = `storedLevel`;
/// 8 bytes, big-endian) and its 32-byte hash as value. The lower nodes are hashed again from the events
/// when a proof needs them (at most 15 leaves each), which keeps the append path's writes to one node
/// per 8 events. Each node an append completes has a larger key than every key before it, so the
/// append path writes the tree with `MDB_APPEND`, in the transaction of the events it covers.
///
/// The tree is derived from `events`: a store made before it gets it built when first opened for
/// writing (`EventLog.extendTree`), and the audit checks every node against a recomputation.
/// This type is the only reader and writer of the `merkle` database.
public struct MerkleTree: Sendable {
    /// The database's name in the store.
    static let databaseName = "merkle"
    /// The lowest level of the stored nodes: a "block" is a complete subtree of 2^storedLevel leaves.
    static let storedLevel = 4

    let database: Database
    /// The log's `events` database, whose records are the leaves.
    let events: Database

    // MARK: Numbering

    /// How many stored nodes the complete subtrees of `blocks` blocks have: 2n - popcount(n).
    static func nodes(blocks: UInt64) -> UInt64 { 2 * blocks - UInt64(blocks.nonzeroBitCount) }

    /// The leaves of the complete blocks among the first `size`: what the stored nodes of a log of
    /// `size` events cover.
    static func completeBlocks(_ size: UInt64) -> UInt64 { size & ~((UInt64(1) << UInt64(storedLevel)) - 1) }

    /// The key of node (`level`, `index`), `level` at least `storedLevel`.
    static func key(level: Int, index: UInt64) -> UInt64 {
        precondition(level >= storedLevel)
        let height = UInt64(level - storedLevel)
        return nodes(blocks: index << height) + (UInt64(1) << (height + 1)) - 2
    }

    /// The number of blocks whose tree has exactly `nodes` stored nodes; nil when no tree has that many.
    static func blocks(nodes count: UInt64) -> UInt64? {
        var low: UInt64 = 0
        var high = count
        while low < high {
            let middle = low + (high - low) / 2
            if nodes(blocks: middle) < count { low = middle + 1 } else { high = middle }
        }
        return nodes(blocks: low) == count ? low : nil
    }

    // MARK: Reading

    /// How many leaves the stored nodes cover (a multiple of 2^storedLevel), in the snapshot of `txn`:
    /// the tree of any size up to this plus 15 can be read.
    /// - Throws: `StoreError.corruptTree` when the node count is not that of any tree.
    public func storedSize(_ txn: borrowing some ReadableTransaction & ~Copyable) throws -> UInt64 {
        let count = try txn.withCursor(on: database) { cursor -> UInt64 in
            guard try cursor.last() else { return 0 }
            guard
                let last = try cursor.withUnsafeCurrent({ key, _ in BigEndianKey(bytes: key)?.value }) ?? nil
            else { throw StoreError.corruptTree(reason: "a key of the tree is not 8 bytes") }
            return last + 1
        }
        guard let blocks = Self.blocks(nodes: count) else {
            throw StoreError.corruptTree(reason: "it holds \(count) nodes, which no tree has")
        }
        return blocks << UInt64(Self.storedLevel)
    }

    /// The hash of node (`level`, `index`): stored, or hashed from the events' records below `storedLevel`.
    /// - Throws: `StoreError.corruptTree` when a stored node is missing or not 32 bytes,
    ///   `StoreError.corruptRecord` when an event it covers is missing.
    func node(level: Int, index: UInt64, _ txn: borrowing some ReadableTransaction & ~Copyable) throws
        -> ChainHash
    {
        guard level >= Self.storedLevel else {
            let first = index << UInt64(level)
            return try leaves(first..<first + (UInt64(1) << UInt64(level)), txn).root
        }
        let key = Self.key(level: level, index: index)
        let hash = try txn.withUnsafeValue(forKey: BigEndianKey(key), in: database) { value -> ChainHash? in
            value.count == 32 ? ChainHash(unsafeBytes: value) : nil
        }
        guard let hash = hash ?? nil else {
            throw StoreError.corruptTree(
                reason: "node \(key) (level \(level), index \(index)) is missing or not 32 bytes")
        }
        return hash
    }

    /// The tree of the leaves in `range` (leaf indexes), hashed from the events' records.
    /// - Throws: `StoreError.corruptRecord` when an event of the range is missing.
    func leaves(_ range: Range<UInt64>, _ txn: borrowing some ReadableTransaction & ~Copyable) throws
        -> MerkleFrontier
    {
        var frontier = MerkleFrontier()
        guard !range.isEmpty else { return frontier }
        try txn.withCursor(on: events) { cursor in
            try cursor.unsafeForEach(from: BigEndianKey(range.lowerBound + 1)) { key, value in
                let position = range.lowerBound + frontier.size + 1
                guard BigEndianKey(bytes: key)?.value == position else {
                    throw StoreError.corruptRecord(position: position)
                }
                frontier.append(ChainHash(leafOf: position, record: value))
                return frontier.size < UInt64(range.count)
            }
        }
        guard frontier.size == UInt64(range.count) else {
            throw StoreError.corruptRecord(position: range.lowerBound + frontier.size + 1)
        }
        return frontier
    }

    /// The peaks of the tree of the first `size` leaves.
    /// - Throws: `StoreError.corruptTree` when the stored tree is smaller or damaged.
    public func frontier(size: UInt64, _ txn: borrowing some ReadableTransaction & ~Copyable) throws
        -> MerkleFrontier
    {
        var peaks: [MerkleFrontier.Peak] = []
        var start: UInt64 = 0
        for level in stride(from: 63, through: 0, by: -1) where size & (UInt64(1) << UInt64(level)) != 0 {
            peaks.append(
                MerkleFrontier.Peak(
                    level: level, hash: try node(level: level, index: start >> UInt64(level), txn)))
            start += UInt64(1) << UInt64(level)
        }
        return MerkleFrontier(size: size, peaks: peaks)
    }

    /// The root of the tree of the first `size` leaves.
    public func root(size: UInt64, _ txn: borrowing some ReadableTransaction & ~Copyable) throws -> ChainHash
    {
        try frontier(size: size, txn).root
    }

    /// The hash (RFC 6962 MTH) of the leaves in `range`, a range of the kind RFC 6962 splits a tree into
    /// (its start a multiple of the largest power of two below its length, as every range of a proof).
    func hash(of range: Range<UInt64>, _ txn: borrowing some ReadableTransaction & ~Copyable) throws
        -> ChainHash
    {
        var pieces: [ChainHash] = []
        var low = range.lowerBound
        while low < range.upperBound {
            let n = range.upperBound - low
            let k = n & (n - 1) == 0 ? n : MerkleProof.split(n)
            precondition(low % k == 0, "a proof range is aligned")
            let level = k.trailingZeroBitCount
            pieces.append(try node(level: level, index: low >> UInt64(level), txn))
            low += k
        }
        guard var hash = pieces.last else { return .emptyTreeRoot }
        for piece in pieces.dropLast().reversed() { hash = .merkleNode(piece, hash) }
        return hash
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves (RFC 9162 2.1.3.1).
    public func inclusionProof(
        index: UInt64, size: UInt64, _ txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> [ChainHash] {
        try MerkleProof.inclusionRanges(index: index, size: size).map { try hash(of: $0, txn) }
    }

    /// The consistency proof from the tree of the first `old` leaves to that of the first `new`
    /// (RFC 9162 2.1.4.1).
    public func consistencyProof(
        old: UInt64, new: UInt64, _ txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> [ChainHash] {
        try MerkleProof.consistencyRanges(old: old, new: new).map { try hash(of: $0, txn) }
    }

    // MARK: Writing

    /// Appends `nodes`, the post-order nodes of `storedLevel` or more that adding leaves to a tree of
    /// `size` leaves made.
    /// - Throws: `LMDBError.keyExists` when the stored tree is not that of `size` leaves.
    func append(_ nodes: [ChainHash], after size: UInt64, _ txn: borrowing WriteTransaction) throws {
        var key = Self.nodes(blocks: size >> UInt64(Self.storedLevel))
        for node in nodes {
            try txn.put(node, forKey: BigEndianKey(key), in: database, options: .append)
            key += 1
        }
    }
}
