import LMDB

/// The RFC 6962 / RFC 9162 Merkle tree over the log, kept in the `merkle` database (docs/PROOFS.md).
///
/// Leaf k (0-based) is the event at position k + 1; its leaf hash is SHA-256(0x00 || the event's hashed
/// bytes). The database holds every node of every complete subtree, numbered in post-order: node
/// (level h, index i), the subtree over leaves i·2^h ..< (i+1)·2^h, has the key
/// `nodes(leaves: i·2^h) + 2^(h+1) - 2` (8 bytes, big-endian) and its 32-byte hash as value. Adding a
/// leaf adds the leaf node and the parents it completes, each with a key larger than every key before
/// it, so the append path writes the tree with `MDB_APPEND`, in the transaction of the events it covers.
///
/// The tree is derived from `events`: a store made before it gets it built when first opened for
/// writing (`EventLog.extendTree`), and the audit checks every node against a recomputation.
/// This type is the only reader and writer of the `merkle` database.
public struct MerkleTree: Sendable {
    /// The database's name in the store.
    static let databaseName = "merkle"

    let database: Database

    // MARK: Numbering

    /// How many nodes the complete subtrees of a tree of `leaves` leaves have: 2n - popcount(n).
    static func nodes(leaves: UInt64) -> UInt64 { 2 * leaves - UInt64(leaves.nonzeroBitCount) }

    /// The key of node (`level`, `index`).
    static func key(level: Int, index: UInt64) -> UInt64 {
        nodes(leaves: index << UInt64(level)) + (UInt64(1) << UInt64(level + 1)) - 2
    }

    /// The number of leaves whose tree has exactly `nodes` nodes; nil when no tree has that many.
    static func leaves(nodes count: UInt64) -> UInt64? {
        var low: UInt64 = 0
        var high = count
        while low < high {
            let middle = low + (high - low) / 2
            if nodes(leaves: middle) < count { low = middle + 1 } else { high = middle }
        }
        return nodes(leaves: low) == count ? low : nil
    }

    // MARK: Reading

    /// How many leaves the stored tree covers, in the snapshot of `txn`.
    /// - Throws: `StoreError.corruptTree` when the node count is not that of any tree.
    public func size(_ txn: borrowing some ReadableTransaction & ~Copyable) throws -> UInt64 {
        let count = try txn.withCursor(on: database) { cursor -> UInt64 in
            guard try cursor.last() else { return 0 }
            guard let last = try cursor.withUnsafeCurrent({ key, _ in BigEndianKey(bytes: key)?.value }) ?? nil
            else { throw StoreError.corruptTree(reason: "a key of the tree is not 8 bytes") }
            return last + 1
        }
        guard let leaves = Self.leaves(nodes: count) else {
            throw StoreError.corruptTree(reason: "it holds \(count) nodes, which no tree has")
        }
        return leaves
    }

    /// The hash of node (`level`, `index`).
    /// - Throws: `StoreError.corruptTree` when the node is missing or not 32 bytes.
    func node(level: Int, index: UInt64, _ txn: borrowing some ReadableTransaction & ~Copyable) throws
        -> ChainHash
    {
        let key = Self.key(level: level, index: index)
        let hash = try txn.withUnsafeValue(forKey: BigEndianKey(key), in: database) { value -> ChainHash? in
            value.count == 32 ? ChainHash(unsafeBytes: value) : nil
        }
        guard let hash = hash ?? nil else {
            throw StoreError.corruptTree(reason: "node \(key) (level \(level), index \(index)) is missing or not 32 bytes")
        }
        return hash
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
                MerkleFrontier.Peak(level: level, hash: try node(level: level, index: start >> UInt64(level), txn)))
            start += UInt64(1) << UInt64(level)
        }
        return MerkleFrontier(size: size, peaks: peaks)
    }

    /// The root of the tree of the first `size` leaves.
    public func root(size: UInt64, _ txn: borrowing some ReadableTransaction & ~Copyable) throws -> ChainHash {
        try frontier(size: size, txn).root
    }

    /// The hash (RFC 6962 MTH) of the leaves in `range`, a range of the kind RFC 6962 splits a tree into
    /// (its start a multiple of the largest power of two below its length, as every range of a proof).
    func hash(of range: Range<UInt64>, _ txn: borrowing some ReadableTransaction & ~Copyable) throws -> ChainHash {
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

    /// Appends `nodes`, the post-order nodes that adding leaves to a tree of `size` leaves made.
    /// - Throws: `LMDBError.keyExists` when the stored tree is not of `size` leaves.
    func append(_ nodes: [ChainHash], after size: UInt64, _ txn: borrowing WriteTransaction) throws {
        var key = Self.nodes(leaves: size)
        for node in nodes {
            try txn.put(node, forKey: BigEndianKey(key), in: database, options: .append)
            key += 1
        }
    }
}
