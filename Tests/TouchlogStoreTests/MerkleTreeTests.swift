import Crypto
import LMDB
import Testing
import TouchlogTestSupport

@testable import TouchlogStore

/// The RFC 6962 tree: hashing, the post-order numbering, proofs against a naive MTH, and the tree the
/// store keeps with its events.
@Suite struct MerkleTreeTests {
    /// RFC 6962 MTH, computed by its definition.
    static func naiveRoot(_ leaves: ArraySlice<ChainHash>) -> ChainHash {
        guard leaves.count > 0 else { return .emptyTreeRoot }
        guard leaves.count > 1 else { return leaves.first! }
        var k = 1
        while k * 2 < leaves.count { k *= 2 }
        let start = leaves.startIndex
        return .merkleNode(naiveRoot(leaves[start..<start + k]), naiveRoot(leaves[(start + k)...]))
    }

    static func leaves(_ count: Int) -> [ChainHash] {
        (0..<count).map { ChainHash.merkleLeaf(hashedBytes: [UInt8(truncatingIfNeeded: $0), 7]) }
    }

    static func proof(_ ranges: [Range<UInt64>], _ leaves: [ChainHash]) -> [ChainHash] {
        ranges.map { naiveRoot(leaves[Int($0.lowerBound)..<Int($0.upperBound)]) }
    }

    @Test func leavesAndNodesAreHashedAsRFC6962Says() {
        let bytes: [UInt8] = [1, 2, 3]
        #expect(ChainHash.merkleLeaf(hashedBytes: bytes).bytes == Array(SHA256.hash(data: [0] + bytes)))
        let (a, b) = (ChainHash.merkleLeaf(hashedBytes: [1]), ChainHash.merkleLeaf(hashedBytes: [2]))
        #expect(ChainHash.merkleNode(a, b).bytes == Array(SHA256.hash(data: [1] + a.bytes + b.bytes)))
        #expect(ChainHash.emptyTreeRoot.bytes == Array(SHA256.hash(data: [UInt8]())))
    }

    @Test func theFrontiersRootIsTheMTHAndItsNodesComeInTheStoredNumbering() {
        let leaves = Self.leaves(300)
        var frontier = MerkleFrontier()
        var emitted: [ChainHash] = []
        #expect(frontier.root == .emptyTreeRoot)
        for (n, leaf) in leaves.enumerated() {
            frontier.append(leaf, nodesFrom: MerkleTree.storedLevel, into: &emitted)
            #expect(frontier.root == Self.naiveRoot(leaves[0...n]))
            let blocks = UInt64(n + 1) >> UInt64(MerkleTree.storedLevel)
            #expect(UInt64(emitted.count) == MerkleTree.nodes(blocks: blocks))
            #expect(MerkleTree.blocks(nodes: UInt64(emitted.count)) == blocks)
        }
        #expect(MerkleTree.blocks(nodes: 2) == nil, "no tree has 2 nodes")
        // Node (level, index) is the subtree over its leaves, at the key the numbering gives it.
        for level in MerkleTree.storedLevel..<9 {
            for index in 0..<(300 >> level) {
                let low = index << level
                let hash = Self.naiveRoot(leaves[low..<low + (1 << level)])
                #expect(emitted[Int(MerkleTree.key(level: level, index: UInt64(index)))] == hash)
            }
        }
    }

    @Test func everyInclusionAndConsistencyProofOfSmallTreesVerifiesAndATamperedOneFails() {
        let leaves = Self.leaves(33)
        for size in 1...33 {
            let root = Self.naiveRoot(leaves[0..<size])
            for index in 0..<size {
                let proof = Self.proof(
                    MerkleProof.inclusionRanges(index: UInt64(index), size: UInt64(size)), leaves)
                #expect(
                    MerkleProof.verifyInclusion(
                        index: UInt64(index), size: UInt64(size), leaf: leaves[index], proof: proof,
                        root: root))
                #expect(
                    !MerkleProof.verifyInclusion(
                        index: UInt64(index), size: UInt64(size), leaf: leaves[(index + 1) % 33],
                        proof: proof,
                        root: root))
                if proof.count > 1 {
                    var reordered = proof
                    reordered.swapAt(0, 1)
                    #expect(
                        !MerkleProof.verifyInclusion(
                            index: UInt64(index), size: UInt64(size), leaf: leaves[index], proof: reordered,
                            root: root))
                }
            }
            for old in 1...size {
                let oldRoot = Self.naiveRoot(leaves[0..<old])
                let proof = Self.proof(
                    MerkleProof.consistencyRanges(old: UInt64(old), new: UInt64(size)), leaves)
                #expect(
                    MerkleProof.verifyConsistency(
                        old: UInt64(old), new: UInt64(size), oldRoot: oldRoot, newRoot: root, proof: proof))
                let otherRoot = ChainHash.merkleNode(oldRoot, oldRoot)
                #expect(
                    !MerkleProof.verifyConsistency(
                        old: UInt64(old), new: UInt64(size), oldRoot: otherRoot, newRoot: root, proof: proof))
            }
        }
    }

    /// In both formats: the leaves cover the stored record (in format 3 the sealed one, not the view of
    /// it in the layout of format 1), and decode, with the disclosed content in format 3, to the event.
    @Test(arguments: [2, 3]) func theStoreKeepsTheTreeOfItsEventsAndProvesFromIt(format: Int) throws {
        let test = try TestStore(prefix: "merkle", format: format)
        let store = try test.openStore()
        for batch in 0..<3 {
            _ = try store.log.append(
                try (0..<(5 + batch * 4)).map { i in
                    try touchpoint(id: "e\(batch)-\(i)", customer: "c\(i % 3)", time: "2024-05-01T10:00:00Z")
                })
        }
        let tree = try #require(store.log.tree)
        try store.withReadTransaction { txn in
            var leaves: [ChainHash] = []
            try store.log.forEachRecord(from: 1, in: txn) { record in
                #expect(record.leafHash == ChainHash.merkleLeaf(hashedBytes: record.hashedBytes))
                // The chain hash covers the same bytes, and they decode to the same event.
                #expect(record.hash.bytes == Array(SHA256.hash(data: record.hashedBytes)))
                let disclosure = try store.log.disclosure(at: record.position, in: txn)
                #expect((disclosure == nil) == (format == 2))
                if let disclosure {
                    #expect(Array(record.hashedBytes.dropFirst(8)) == Array(disclosure.record.dropFirst(33)))
                }
                let decoded = try StoredEvent(
                    hashedBytes: record.hashedBytes, recordFormat: format == 3 ? 3 : 1,
                    disclosure: disclosure?.content.map(StoredEvent.Disclosure.init(opened:)))
                #expect(decoded == record.storedEvent)
                leaves.append(record.leafHash)
                return true
            }
            #expect(leaves.count == 27)
            #expect(
                try tree.storedSize(txn) == 16, "one block of 16 leaves stored, the rest hashed on demand")
            for size in [1, 5, 14, 27] {
                let root = Self.naiveRoot(leaves[0..<size])
                #expect(try tree.root(size: UInt64(size), txn) == root)
                for index in 0..<size {
                    let proof = try tree.inclusionProof(index: UInt64(index), size: UInt64(size), txn)
                    #expect(
                        MerkleProof.verifyInclusion(
                            index: UInt64(index), size: UInt64(size), leaf: leaves[index], proof: proof,
                            root: root))
                }
                let consistency = try tree.consistencyProof(old: UInt64(size), new: 27, txn)
                #expect(
                    MerkleProof.verifyConsistency(
                        old: UInt64(size), new: 27, oldRoot: root, newRoot: Self.naiveRoot(leaves[...]),
                        proof: consistency))
            }
        }
        #expect(
            try store.log.verify().treeRoot == (try store.withReadTransaction { try tree.root(size: 27, $0) })
        )
    }

    @Test func aStoreWithoutItsTreeGetsItBuiltWhenOpenedForWritingAndTheAuditChecksIt() throws {
        let test = try TestStore(prefix: "merkle")
        var store: Store? = try test.openStore()
        _ = try store!.log.append(
            try (0..<40).map {
                try touchpoint(id: "e\($0)", customer: "c\($0 % 2)", time: "2024-05-01T10:00:00Z")
            })
        let root = try store!.withReadTransaction { try store!.log.treeRoot(size: 40, $0) }
        store = nil
        // As a store made before the tree: its nodes gone.
        try tamper(test.path) { txn, merkle in try txn.removeAll(in: merkle) }
        var readOnly = Store.Options()
        readOnly.access = .readOnly
        let reader = try Store(path: test.path, options: readOnly)
        #expect(try reader.log.verify().problems.map(\.kind) == [.tree], "the audit sees the tree missing")
        #expect(try reader.log.verify().problems.first?.position == 16, "the first stored node is at leaf 16")
        let reopened = try test.openStore()
        #expect(try reopened.withReadTransaction { try reopened.log.treeRoot(size: 40, $0) } == root)
        #expect(try reopened.log.verify().problems.isEmpty)

        // A changed node is found, at the event whose leaf first makes it.
        try tamper(test.path) { txn, merkle in
            try txn.put(
                ChainHash.merkleLeaf(hashedBytes: [9]),
                forKey: BigEndianKey(MerkleTree.key(level: 4, index: 1)),
                in: merkle)
        }
        let problems = try reopened.log.verify().problems
        #expect(problems.map(\.kind) == [.tree])
        #expect(problems.first?.position == 32, "found at the event whose leaf completes the node")
    }

    /// Changes the `merkle` database of the store at `path` through raw LMDB.
    func tamper(_ path: String, _ body: (borrowing WriteTransaction, Database) throws -> Void) throws {
        var options = Environment.Options()
        options.maxDatabases = 64
        let environment = try Environment(path: path, options: options)
        try environment.withWriteTransaction { txn in
            try body(txn, try #require(try txn.openDatabase(named: "merkle")))
        }
    }
}
