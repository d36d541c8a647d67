import LMDB

extension EventLog {
    /// How many leaves one transaction of `extendTree()` adds: bounds the transaction's dirty pages.
    static let treeExtensionChunk: UInt64 = 200_000

    /// Builds the Merkle tree of the events it does not cover yet (a store made before the tree, or
    /// appended to by a version without it), in transactions of at most `treeExtensionChunk` leaves.
    /// Opening a store for writing does this; it does nothing when the tree is complete.
    /// - Throws: `StoreError.corruptTree` or `StoreError.corruptRecord` when the tree or the events are
    ///   damaged, `StoreError.storage`.
    func extendTree() throws {
        guard tree != nil else { return }
        while true {
            let done = try storage("building the Merkle tree") {
                try environment.withWriteTransaction(growingMap: true) { txn in
                    try extendTree(txn, limit: Self.treeExtensionChunk)
                }
            }
            if done { return }
        }
    }

    /// Adds to the tree the leaves of up to `limit` events it does not cover; returns whether it now
    /// covers the whole log.
    @discardableResult
    func extendTree(_ txn: borrowing WriteTransaction, limit: UInt64 = .max) throws -> Bool {
        guard let tree else { return true }
        let stored = try tree.storedSize(txn)
        let head = try headPosition(txn)
        if stored == MerkleTree.completeBlocks(head) { return true }
        guard stored < head else {
            throw StoreError.corruptTree(reason: "it covers \(stored) events, the log has \(head)")
        }
        let end = MerkleTree.completeBlocks(head - stored <= limit ? head : stored + limit)
        var frontier = try tree.frontier(size: stored, txn)
        var nodes: [ChainHash] = []
        try txn.withCursor(on: databases.events) { cursor in
            try cursor.unsafeForEach(from: BigEndianKey(stored + 1)) { key, value in
                let expected = frontier.size + 1
                guard BigEndianKey(bytes: key)?.value == expected else {
                    throw StoreError.corruptRecord(position: expected)
                }
                frontier.append(
                    ChainHash(leafOf: expected, record: value), nodesFrom: MerkleTree.storedLevel,
                    into: &nodes)
                return frontier.size < end
            }
        }
        try tree.append(nodes, after: stored, txn)
        return end == MerkleTree.completeBlocks(head)
    }

    /// The root of the Merkle tree of the first `size` events, in the snapshot of `txn`.
    /// - Throws: `StoreError.corruptTree` when the store has no tree of that size.
    public func treeRoot(size: UInt64, _ txn: borrowing some ReadableTransaction & ~Copyable) throws
        -> ChainHash
    {
        guard let tree else { throw StoreError.corruptTree(reason: "the store has no tree yet") }
        guard size <= (try headPosition(txn)) else {
            throw StoreError.corruptTree(reason: "the log has fewer than \(size) events")
        }
        return try tree.root(size: size, txn)
    }
}

extension EventLog {
    /// The head of the log (the last position, 0 when empty, and its chain hash) in the snapshot of `txn`.
    public func head(in txn: borrowing some ReadableTransaction & ~Copyable) throws -> (
        position: UInt64, hash: ChainHash
    ) {
        let head = try readHead(txn)
        return (head.position, head.hash)
    }
}
