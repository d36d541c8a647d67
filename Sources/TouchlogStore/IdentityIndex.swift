import LMDB
import TouchlogDomain

#if !_endian(little)
    #error("The idempotency index runs are stored little-endian and read in place.")
#endif

/// One entry of the idempotency index: an event's identity hash and its position.
struct IdentityEntry: Comparable {
    var hash: UInt64
    var position: UInt64

    static func < (a: IdentityEntry, b: IdentityEntry) -> Bool {
        (a.hash, a.position) < (b.hash, b.position)
    }
}

/// Entries sorted by hash, then position, read in place: 16 bytes each, hash then position,
/// both little-endian (the layout of `IdentityEntry` on the little-endian machines this runs on).
struct SortedIdentityEntries {
    let base: UnsafeRawPointer?
    let count: Int

    @inline(__always) func hash(at index: Int) -> UInt64 {
        base.unsafelyUnwrapped.loadUnaligned(fromByteOffset: index &* 16, as: UInt64.self)
    }

    @inline(__always) func position(at index: Int) -> UInt64 {
        base.unsafelyUnwrapped.loadUnaligned(fromByteOffset: index &* 16 &+ 8, as: UInt64.self)
    }

    @inline(__always) func entry(at index: Int) -> IdentityEntry {
        IdentityEntry(hash: hash(at: index), position: position(at: index))
    }

    /// Calls `body` with the position of each entry whose hash is `hash`, until it returns false;
    /// returns false when `body` did.
    func forEachPosition(of hash: UInt64, _ body: (UInt64) throws -> Bool) rethrows -> Bool {
        var index = lowerBound(hash)
        while index < count && self.hash(at: index) == hash {
            guard try body(position(at: index)) else { return false }
            index += 1
        }
        return true
    }

    /// The index of the first entry whose hash is not below `hash`.
    func lowerBound(_ hash: UInt64) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low &+ high) >> 1
            if self.hash(at: middle) < hash { low = middle &+ 1 } else { high = middle }
        }
        return low
    }
}

/// One immutable run of the idempotency index: the value of an `idruns` entry.
///
/// Layout (docs/STORAGE.md): a 48-byte header (format 1, entry count, filter block count, three
/// reserved words; u64 little-endian), a split-block Bloom filter of 32-byte blocks, then the entries
/// sorted by hash and position. The filter answers "certainly not here" for nearly every new event
/// with one cache line, so a lookup searches the entries only when the hash may be present.
struct IdentityRun {
    static let headerSize = 48
    static let format: UInt64 = 1
    static let blockSize = 32
    /// Filter bits per entry: about 0.3 % of absent hashes pass the filter.
    static let bitsPerEntry = 16

    let count: Int
    let blocks: Int
    let filter: UnsafeRawPointer
    let entries: SortedIdentityEntries

    /// Reads a run in place; nil when the bytes are not a well-formed run.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= IdentityRun.headerSize, let start = bytes.baseAddress else { return nil }
        let format = UInt64(littleEndian: start.loadUnaligned(as: UInt64.self))
        let count = UInt64(littleEndian: start.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let blocks = UInt64(littleEndian: start.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        guard format == IdentityRun.format, count < 1 << 40,
            blocks == IdentityRun.blockCount(entries: Int(count)),
            bytes.count == IdentityRun.encodedSize(entries: Int(count))
        else { return nil }
        self.count = Int(count)
        self.blocks = Int(blocks)
        filter = start + IdentityRun.headerSize
        entries = SortedIdentityEntries(
            base: filter + Int(blocks) * IdentityRun.blockSize, count: Int(count))
    }

    static func blockCount(entries: Int) -> Int {
        max(1, (entries * bitsPerEntry + blockSize * 8 - 1) / (blockSize * 8))
    }

    static func encodedSize(entries: Int) -> Int {
        headerSize + blockCount(entries: entries) * blockSize + entries * 16
    }

    /// False when no entry of this run has `hash`; true when one may have it.
    @inline(__always) func mayContain(_ hash: UInt64) -> Bool {
        mayContain(FilterProbe(hash))
    }

    @inline(__always) func mayContain(_ probe: FilterProbe) -> Bool {
        let words = filter.loadUnaligned(
            fromByteOffset: probe.block(of: blocks) &* IdentityRun.blockSize, as: SIMD8<UInt32>.self)
        return words & probe.masks == probe.masks
    }

    /// Calls `body` with the position of each entry whose hash is `probe.hash`, until it returns false.
    func forEachPosition(of probe: FilterProbe, _ body: (UInt64) throws -> Bool) rethrows -> Bool {
        guard mayContain(probe) else { return true }
        return try entries.forEachPosition(of: probe.hash, body)
    }

    /// What the filters of all runs test for one hash, computed once per lookup.
    struct FilterProbe {
        let hash: UInt64
        /// The mixed hash: its high half picks the block, its low half the bits.
        let mixed: UInt64
        /// The bit each of the block's eight words must have.
        let masks: SIMD8<UInt32>

        @inline(__always) init(_ hash: UInt64) {
            self.init(hash: hash, mixed: FilterProbe.mix(hash))
        }

        /// The identity hash is mixed again (splitmix64's finaliser) so every filter bit depends on every key bit.
        @inline(__always) static func mix(_ hash: UInt64) -> UInt64 {
            var mixed = hash
            mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
            return mixed ^ (mixed >> 31)
        }

        @inline(__always) init(hash: UInt64, mixed: UInt64) {
            self.hash = hash
            self.mixed = mixed
            // The eight odd multipliers of Parquet's split-block Bloom filter pick one bit per word.
            let salts = SIMD8<UInt32>(
                0x47b6_137b, 0x4497_4d91, 0x8824_ad5b, 0xa2b7_289d, 0x7054_95c7, 0x2df1_424b, 0x9efc_4947,
                0x5c6b_fb31)
            let shifts = (SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: mixed)) &* salts) &>> 27
            masks = SIMD8<UInt32>(repeating: 1) &<< shifts
        }

        /// The block of a filter of `blocks` blocks that holds this hash.
        @inline(__always) func block(of blocks: Int) -> Int {
            Int(truncatingIfNeeded: ((mixed >> 32) &* UInt64(truncatingIfNeeded: blocks)) >> 32)
        }
    }

    /// Writes a run of `count` entries, taken in order from `next`, into `target`
    /// (exactly `encodedSize(entries: count)` bytes).
    static func write(count: Int, into target: UnsafeMutableRawBufferPointer, next: () -> IdentityEntry) {
        let blocks = blockCount(entries: count)
        let start = target.baseAddress!
        start.storeBytes(of: format.littleEndian, as: UInt64.self)
        start.storeBytes(of: UInt64(count).littleEndian, toByteOffset: 8, as: UInt64.self)
        start.storeBytes(of: UInt64(blocks).littleEndian, toByteOffset: 16, as: UInt64.self)
        (start + 24).initializeMemory(
            as: UInt8.self, repeating: 0, count: headerSize - 24 + blocks * blockSize)
        let filter = start + headerSize
        let entries = filter + blocks * blockSize
        for index in 0..<count {
            let entry = next()
            entries.storeBytes(of: entry.hash.littleEndian, toByteOffset: index &* 16, as: UInt64.self)
            entries.storeBytes(
                of: entry.position.littleEndian, toByteOffset: index &* 16 &+ 8, as: UInt64.self)
            let probe = FilterProbe(entry.hash)
            let word = filter + probe.block(of: blocks) &* blockSize
            word.storeBytes(
                of: word.loadUnaligned(as: SIMD8<UInt32>.self) | probe.masks, as: SIMD8<UInt32>.self)
        }
    }
}

/// The runs of the idempotency index as one transaction sees them.
///
/// Each batch adds its new entries as one run. Runs fall into size classes (powers of four); when
/// a class would hold four runs, they are merged into one run of the next class, so each entry is
/// rewritten about once per class, always sequentially, and a lookup probes at most three runs per
/// class. Only runs committed before the transaction are read, in place.
struct IdentityIndex {
    static let mergeFactor = 4
    /// No merge makes a run larger than this (1.2 GB): an LMDB value must stay under 4 GiB, and one
    /// transaction should not rewrite more. Past it, runs of the largest merged class (about 42
    /// million entries each) simply accumulate.
    static let largestRun = 1 << 26

    /// The runs with their `idruns` keys, oldest first.
    let runs: [(number: UInt64, run: IdentityRun)]

    /// Reads the runs from the entries of `idruns`.
    /// - Throws: `StoreError.corruptIndex` when an entry is not a well-formed run.
    init(_ entries: [(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)]) throws {
        runs = try entries.map { entry in
            guard let number = BigEndianKey(bytes: entry.key)?.value, let run = IdentityRun(entry.value)
            else {
                throw StoreError.corruptIndex(
                    reason: "an entry of the idruns database is not a well-formed run")
            }
            return (number, run)
        }
    }

    /// Calls `body` with every indexed position whose hash is `hash`, until it returns false.
    @inline(__always)
    func forEachPosition(of hash: UInt64, _ body: (UInt64) throws -> Bool) rethrows {
        let probe = IdentityRun.FilterProbe(hash)
        for index in runs.indices {
            guard try runs[index].run.forEachPosition(of: probe, body) else { return }
        }
    }

    /// Every indexed position whose hash is `hash`.
    func positions(of hash: UInt64) -> [UInt64] {
        var positions: [UInt64] = []
        forEachPosition(of: hash) {
            positions.append($0)
            return true
        }
        return positions
    }

    /// Which of `hashes` some run may hold: the only ones a lookup must search for. The filters are
    /// read run by run, so each stays in the cache while the whole batch is tested against it.
    func mayContain(_ hashes: [UInt64]) -> [Bool] {
        var found = [Bool](repeating: false, count: hashes.count)
        if runs.isEmpty { return found }
        let mixed = hashes.map(IdentityRun.FilterProbe.mix)
        for index in runs.indices {
            let run = runs[index].run
            for item in mixed.indices where !found[item] {
                found[item] = run.mayContain(IdentityRun.FilterProbe(hash: hashes[item], mixed: mixed[item]))
            }
        }
        return found
    }

    /// Size class of a run of `count` entries: floor(log4(count)).
    static func sizeClass(_ count: Int) -> Int {
        (Int.bitWidth - 1 - max(count, 1).leadingZeroBitCount) / 2
    }

    /// Adds `newEntries` (sorted) as a run, merged with the runs that its size class then fills up,
    /// and removes those runs. Runs inside the write transaction that read this index.
    func add(_ newEntries: [IdentityEntry], in database: Database, _ txn: borrowing WriteTransaction) throws {
        if newEntries.isEmpty { return }
        var merged: [Int] = []
        var total = newEntries.count
        while true {
            let sizeClass = IdentityIndex.sizeClass(total)
            let peers = runs.indices.filter {
                !merged.contains($0) && IdentityIndex.sizeClass(runs[$0].run.count) == sizeClass
            }
            let peerEntries = peers.reduce(0) { $0 + runs[$1].run.count }
            guard peers.count >= IdentityIndex.mergeFactor - 1,
                total + peerEntries <= IdentityIndex.largestRun
            else { break }
            merged += peers
            total += peerEntries
        }
        let number = (runs.last?.number ?? 0) + 1
        try newEntries.withUnsafeBytes { newBytes in
            var merge = MergedIdentityEntries(
                merged.map { runs[$0].run.entries }
                    + [SortedIdentityEntries(base: newBytes.baseAddress, count: newEntries.count)])
            try txn.putReserving(
                count: IdentityRun.encodedSize(entries: total), forKey: BigEndianKey(number), in: database,
                options: .append
            ) { target in
                IdentityRun.write(count: total, into: target) { merge.next()! }
            }
        }
        for index in merged {
            try txn.delete(forKey: BigEndianKey(runs[index].number), in: database)
        }
    }
}

/// The entries of several sorted sources in one sorted sequence (a k-way merge over a handful).
struct MergedIdentityEntries: IteratorProtocol {
    private let sources: [SortedIdentityEntries]
    private var offsets: [Int]

    init(_ sources: [SortedIdentityEntries]) {
        self.sources = sources
        offsets = [Int](repeating: 0, count: sources.count)
    }

    mutating func next() -> IdentityEntry? {
        var best = -1
        var bestEntry = IdentityEntry(hash: .max, position: .max)
        for source in sources.indices where offsets[source] < sources[source].count {
            let candidate = sources[source].entry(at: offsets[source])
            if best < 0 || candidate < bestEntry {
                best = source
                bestEntry = candidate
            }
        }
        if best < 0 { return nil }
        offsets[best] += 1
        return bestEntry
    }
}
