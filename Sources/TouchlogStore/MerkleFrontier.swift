/// An RFC 6962 Merkle tree being built leaf by leaf: the roots of its complete subtrees ("peaks"),
/// which are all that is needed to add the next leaf and to compute the root.
///
/// Adding a leaf completes the leaf node and, while the peak before it is of the same height, their
/// parent: the nodes come out in post-order, the order in which `MerkleTree` stores them.
public struct MerkleFrontier: Sendable, Equatable {
    /// A complete subtree: its height (0 for a leaf) and its hash.
    public struct Peak: Sendable, Equatable {
        public var level: Int
        public var hash: ChainHash
    }

    /// The peaks, left to right; their levels strictly decrease (one per set bit of `size`).
    public private(set) var peaks: [Peak]
    /// How many leaves the tree has.
    public private(set) var size: UInt64

    /// The empty tree.
    public init() {
        peaks = []
        size = 0
    }

    init(size: UInt64, peaks: [Peak]) {
        self.size = size
        self.peaks = peaks
    }

    /// Adds the leaf hash `leaf` and calls `node` with the level and hash of each node this completes,
    /// in post-order: the leaf node (level 0) first, then each new parent.
    @inline(__always)
    public mutating func append(_ leaf: ChainHash, _ node: (Int, ChainHash) throws -> Void) rethrows {
        var hash = leaf
        var level = 0
        try node(level, hash)
        while let last = peaks.last, last.level == level {
            peaks.removeLast()
            hash = .merkleNode(last.hash, hash)
            level += 1
            try node(level, hash)
        }
        peaks.append(Peak(level: level, hash: hash))
        size += 1
    }

    /// Adds the leaf hash `leaf` and appends the nodes this completes at `minimumLevel` or above to
    /// `nodes`, in post-order (what `MerkleTree` stores).
    @inline(__always)
    public mutating func append(_ leaf: ChainHash, nodesFrom minimumLevel: Int, into nodes: inout [ChainHash])
    {
        append(leaf) { level, hash in
            if level >= minimumLevel { nodes.append(hash) }
        }
    }

    /// Adds the leaf hash `leaf`.
    public mutating func append(_ leaf: ChainHash) {
        append(leaf) { _, _ in }
    }

    /// The tree's root (RFC 6962 MTH): the peaks folded from the right; SHA-256 of nothing when empty.
    public var root: ChainHash {
        guard var hash = peaks.last?.hash else { return .emptyTreeRoot }
        for peak in peaks.dropLast().reversed() { hash = .merkleNode(peak.hash, hash) }
        return hash
    }
}

/// The proofs of RFC 9162 section 2.1 (inclusion and consistency), as lists of the subtrees whose
/// hashes make them, and their verification.
public enum MerkleProof {
    /// The largest power of two smaller than `n` (n > 1): where RFC 6962 splits a tree of n leaves.
    static func split(_ n: UInt64) -> UInt64 {
        precondition(n > 1)
        return UInt64(1) << (63 - (n - 1).leadingZeroBitCount)
    }

    /// The leaf ranges whose subtree hashes make the inclusion proof of leaf `index` in a tree of `size`
    /// leaves (RFC 9162 2.1.3.1, PATH), from the leaf's sibling up to the root's child.
    public static func inclusionRanges(index: UInt64, size: UInt64) -> [Range<UInt64>] {
        precondition(index < size)
        var ranges: [Range<UInt64>] = []
        func path(_ m: UInt64, _ low: UInt64, _ high: UInt64) {
            let n = high - low
            guard n > 1 else { return }
            let k = split(n)
            if m < k {
                path(m, low, low + k)
                ranges.append(low + k..<high)
            } else {
                path(m - k, low + k, high)
                ranges.append(low..<low + k)
            }
        }
        path(index, 0, size)
        return ranges
    }

    /// The leaf ranges whose subtree hashes make the consistency proof from a tree of `old` leaves to
    /// one of `new` leaves (RFC 9162 2.1.4.1, PROOF); empty when `old` is 0 or equals `new`.
    public static func consistencyRanges(old: UInt64, new: UInt64) -> [Range<UInt64>] {
        precondition(old <= new)
        guard old > 0, old < new else { return [] }
        var ranges: [Range<UInt64>] = []
        func subproof(_ m: UInt64, _ low: UInt64, _ high: UInt64, _ complete: Bool) {
            let n = high - low
            if m == n {
                if !complete { ranges.append(low..<high) }
                return
            }
            let k = split(n)
            if m <= k {
                subproof(m, low, low + k, complete)
                ranges.append(low + k..<high)
            } else {
                subproof(m - k, low + k, high, false)
                ranges.append(low..<low + k)
            }
        }
        subproof(old, 0, new, true)
        return ranges
    }

    /// Whether `proof` proves the leaf hash `leaf` at `index` in the tree of `size` leaves whose root is
    /// `root` (RFC 9162 2.1.3.2).
    public static func verifyInclusion(
        index: UInt64, size: UInt64, leaf: ChainHash, proof: [ChainHash], root: ChainHash
    ) -> Bool {
        guard index < size else { return false }
        var fn = index
        var sn = size - 1
        var hash = leaf
        for sibling in proof {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                hash = .merkleNode(sibling, hash)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                hash = .merkleNode(hash, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && hash == root
    }

    /// Whether `proof` proves that the tree of `new` leaves with root `newRoot` extends the tree of
    /// `old` leaves with root `oldRoot` (RFC 9162 2.1.4.2). Every tree extends the empty one.
    public static func verifyConsistency(
        old: UInt64, new: UInt64, oldRoot: ChainHash, newRoot: ChainHash, proof: [ChainHash]
    ) -> Bool {
        guard old <= new else { return false }
        if old == 0 { return proof.isEmpty }
        if old == new { return proof.isEmpty && oldRoot == newRoot }
        guard !proof.isEmpty else { return false }
        var path = proof
        if old & (old - 1) == 0 { path.insert(oldRoot, at: 0) }
        var fn = old - 1
        var sn = new - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var oldHash = path[0]
        var newHash = path[0]
        for hash in path.dropFirst() {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                oldHash = .merkleNode(hash, oldHash)
                newHash = .merkleNode(hash, newHash)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                newHash = .merkleNode(newHash, hash)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && oldHash == oldRoot && newHash == newRoot
    }
}

/// Hashes of chosen disjoint leaf ranges, and of the whole tree, from leaves given one at a time in
/// order: proofs over a tree that is not stored (the stream heads tree), in memory bounded by the
/// number of ranges times the tree's height.
public struct MerkleRangeHasher {
    private let ranges: [Range<UInt64>]
    private var frontiers: [MerkleFrontier]
    private var whole = MerkleFrontier()

    /// `ranges` must not overlap.
    public init(ranges: [Range<UInt64>]) {
        self.ranges = ranges
        frontiers = Array(repeating: MerkleFrontier(), count: ranges.count)
    }

    /// Adds the next leaf hash.
    public mutating func append(_ leaf: ChainHash) {
        let index = whole.size
        for k in ranges.indices where ranges[k].contains(index) { frontiers[k].append(leaf) }
        whole.append(leaf)
    }

    /// How many leaves were added.
    public var size: UInt64 { whole.size }
    /// The root of all the leaves added.
    public var root: ChainHash { whole.root }
    /// The hash of each range, in the order given (complete once every leaf of the range was added).
    public var rangeHashes: [ChainHash] { frontiers.map(\.root) }
}
