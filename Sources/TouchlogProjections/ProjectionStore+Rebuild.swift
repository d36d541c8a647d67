import CloudEvents
import LMDB
import TouchlogDomain
import TouchlogStore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ProjectionStore {
    /// How far a rebuild has come.
    public struct RebuildProgress: Sendable, Equatable {
        /// Positions folded by this run (not counting what a resumed run found done).
        public var folded: UInt64
        /// The position the new generation has reached, and the head it is heading for.
        public var position: UInt64
        public var head: UInt64
    }

    /// What a rebuild did.
    public struct RebuildSummary: Sendable, Equatable {
        /// The new, now active generation.
        public var generation: ProjectionGeneration
        /// The generation it replaced, if any.
        public var replaced: UInt64?
        /// Positions folded by this run.
        public var folded: UInt64
        /// Where this run started: 0, or the position a half-built generation had reached.
        public var resumedFrom: UInt64
    }

    /// Builds a new generation under `rules` beside the active one, then makes it active in one write
    /// transaction, and drops the old generation's data.
    ///
    /// Readers and catch-ups keep using the active generation until the switch. The new generation
    /// is written in transactions of `chunkSize` events, each recording how far it got: when a
    /// rebuild stops half-way (killed, or `progress` throws), the old generation stays active, and
    /// the next rebuild with the same rules resumes where it stopped (other rules start afresh).
    /// - Throws: `ProjectionError.rebuildInProgress` when another live process is building,
    ///   `StoreError.storage`, or what `progress` throws.
    public func rebuild(
        rules: Rules, chunkSize: Int = defaultRebuildChunkSize,
        progress: ((RebuildProgress) throws -> Void)? = nil
    ) throws -> RebuildSummary {
        let pid = getpid()
        var session: Session?
        let (start, replaced) = try write(&session) { txn, _ -> (ProjectionGeneration, UInt64?) in
            let active = try activeGeneration(txn)
            let slot = active.map { 1 - $0.slot } ?? 0
            let existing = try generation(txn, slot: slot)
            if let existing, existing.state == .building, existing.builder != pid,
                processIsAlive(existing.builder)
            {
                throw ProjectionError.rebuildInProgress(pid: existing.builder)
            }
            if var existing, existing.state == .building, existing.rulesHash == rules.hash,
                existing.isCurrent,
                existing.number > (active?.number ?? 0)
            {
                existing.builder = pid
                try put(existing, txn)
                return (existing, active?.number)
            }
            for database in slots[slot].all { try txn.removeAll(in: database) }
            let generation = ProjectionGeneration(
                slot: slot, number: max(active?.number ?? 0, existing?.number ?? 0) + 1, state: .building,
                position: 0,
                rulesVersion: rules.version, rulesHash: rules.hash, builder: pid)
            try txn.put(Array(rules.canonicalText.utf8), forKey: Self.rulesKey(slot), in: meta)
            try put(generation, txn)
            return (generation, active?.number)
        }
        var folded: UInt64 = 0
        var finished: ProjectionGeneration
        while true {
            let (advanced, done, reached, head) = try write(&session) {
                txn, session -> (UInt64, Bool, ProjectionGeneration, UInt64) in
                guard var building = try generation(txn, slot: start.slot), building.number == start.number,
                    building.state == .building, building.builder == pid
                else { throw ProjectionError.rebuildSuperseded(generation: start.number) }
                if session?.continues(building) != true {
                    session = Session(
                        fold: ChunkFold(rules: rules), slot: building.slot, generation: building.number,
                        position: building.position)
                }
                let head = try headPosition(txn)
                let advanced = try advance(txn, &building, &session!, head: head, limit: chunkSize)
                let done = building.position >= head
                if done {
                    // The switch: one transaction retires the old generation and activates the new.
                    if var old = try activeGeneration(txn) {
                        old.state = .retired
                        try put(old, txn)
                    }
                    building.state = .active
                    building.builder = 0
                    try txn.put([UInt8(building.slot)], forKey: Self.activeKey, in: meta)
                }
                try put(building, txn)
                return (advanced, done, building, head)
            }
            folded += advanced
            if done {
                finished = reached
                break
            }
            try progress?(RebuildProgress(folded: folded, position: reached.position, head: head))
        }
        session = nil
        try dropRetired()
        return RebuildSummary(
            generation: finished, replaced: replaced, folded: folded, resumedFrom: start.position)
    }

    /// Empties the databases of a retired generation (`mdb_drop` on each; none is duplicate-sorted).
    func dropRetired() throws {
        var none: Session?
        try write(&none) { txn, _ in
            for slot in slots.indices {
                guard var old = try generation(txn, slot: slot), old.state == .retired else { continue }
                for database in slots[slot].all { try txn.removeAll(in: database) }
                old.position = 0
                try put(old, txn)
            }
        }
    }

    // MARK: Dry run

    /// A customer whose tier the new rules change.
    public struct TierChange: Sendable, Equatable {
        public var customer: String
        public var from: String
        public var to: String
        public var oldScore: Double
        public var newScore: Double
        public var scoreDelta: Double { newScore - oldScore }
    }

    /// A ticket whose SLA verdicts the new rules change.
    public struct SLAChange: Sendable, Equatable {
        public var ticket: String
        public var customer: String
        public var firstReply: (from: SLAVerdict, to: SLAVerdict)
        public var resolution: (from: SLAVerdict, to: SLAVerdict)

        public static func == (a: SLAChange, b: SLAChange) -> Bool {
            a.ticket == b.ticket && a.customer == b.customer && a.firstReply == b.firstReply
                && a.resolution == b.resolution
        }
    }

    /// What new rules would change, against the active generation.
    public struct DryRunReport: Sendable, Equatable {
        /// The active generation compared against (nil when there was none: everything is new).
        public var current: ProjectionGeneration?
        /// The position both reflect.
        public var position: UInt64
        /// Customers whose tier moved, biggest score movers first (then by id).
        public var tierChanges: [TierChange]
        /// Tickets whose SLA flags changed, by ticket id.
        public var slaChanges: [SLAChange]
        public var customers: Int
        public var tickets: Int
    }

    /// Folds the log under `rules` up to the active generation's position, into a scratch slot outside
    /// the store (bounded memory), and reports what differs from the active generation, writing
    /// nothing to the store but the catch-up of the active generation (none in a read-only store:
    /// there the comparison is at the position the active generation reflects).
    public func dryRun(rules: Rules, progress: ((RebuildProgress) throws -> Void)? = nil) throws
        -> DryRunReport
    {
        let writable = store.access == .readWrite
        if writable { try catchUp() }
        for _ in 0..<5 {
            guard let current = try activeGeneration() else { break }
            let scratch = try ScratchSlot()
            var fold = ChunkFold(rules: rules, keepsTimeline: false)
            // The log read ahead on a second thread, as a rebuild reads it.
            let reader =
                current.position > Self.readAheadThreshold
                ? FoldEventReader(store: store, from: 1, through: current.position) : nil
            var next: UInt64 = 1
            while next <= current.position {
                let end = min(
                    current.position, next + UInt64(min(Self.scratchChunkSize, fold.eventsPerChunk)) - 1)
                try storage("reading the log") {
                    try store.withReadTransaction { txn in
                        try scratch.withWriteTransaction { scratchTxn in
                            try Self.fold(
                                log: log, txn, into: scratch.slot, scratchTxn, from: next, through: end,
                                &fold,
                                reader: reader)
                        }
                    }
                }
                try progress?(RebuildProgress(folded: end, position: end, head: current.position))
                next = end + 1
            }
            fold.evict()
            let report = try storage("comparing the projections") {
                try store.withReadTransaction { txn -> DryRunReport? in
                    guard let now = try activeGeneration(txn), now.number == current.number,
                        now.position == current.position
                    else { return nil }
                    return try scratch.withReadTransaction { fresh in
                        try compare(now, txn, with: scratch.slot, fresh)
                    }
                }
            }
            if let report { return report }
            // The active generation moved on (events were appended, or a rebuild switched): again.
            if writable { try catchUp() }
        }
        throw ProjectionError.busy(
            "the projections kept moving on while being compared (events are being appended or a rebuild switched); try again"
        )
    }

    /// The tier and SLA changes between the generation `now` and a fresh fold of the same events.
    private func compare(
        _ now: ProjectionGeneration, _ txn: borrowing ReadTransaction, with fresh: Slot,
        _ freshTxn: borrowing ReadTransaction
    ) throws -> DryRunReport {
        let slot = slots[now.slot]
        var tierChanges: [TierChange] = []
        var slaChanges: [SLAChange] = []
        var customers = 0
        var tickets = 0
        var names = CustomerNames()
        try txn.withCursor(on: slot.customers) { cursor in
            try cursor.unsafeForEach(from: nil as [UInt8]?) { key, value in
                let id = String(decoding: key, as: UTF8.self)
                guard let old = ProjectionCodec.decodeCustomer(id: id, value) else {
                    throw ProjectionError.corruptRecord(database: "customers", key: id)
                }
                customers += 1
                if let new = try Self.loadCustomer(id, slot: fresh, freshTxn), new.tier != old.tier {
                    tierChanges.append(
                        TierChange(
                            customer: try names.name(id, store.log, txn), from: old.tier, to: new.tier,
                            oldScore: old.score,
                            newScore: new.score))
                }
                return true
            }
        }
        try txn.withCursor(on: slot.tickets) { cursor in
            try cursor.unsafeForEach(from: nil as [UInt8]?) { key, value in
                let id = String(decoding: key, as: UTF8.self)
                guard let old = ProjectionCodec.decodeTicket(id: id, value) else {
                    throw ProjectionError.corruptRecord(database: "tickets", key: id)
                }
                tickets += 1
                if let new = try Self.loadTicket(id, slot: fresh, freshTxn),
                    new.firstReplyVerdict != old.firstReplyVerdict
                        || new.resolutionVerdict != old.resolutionVerdict
                {
                    slaChanges.append(
                        SLAChange(
                            ticket: id, customer: old.customer,
                            firstReply: (old.firstReplyVerdict, new.firstReplyVerdict),
                            resolution: (old.resolutionVerdict, new.resolutionVerdict)))
                }
                return true
            }
        }
        tierChanges.sort {
            let a = abs($0.scoreDelta)
            let b = abs($1.scoreDelta)
            return a != b ? a > b : utf8Less($0.customer, $1.customer)
        }
        return DryRunReport(
            current: now, position: now.position, tierChanges: tierChanges, slaChanges: slaChanges,
            customers: customers, tickets: tickets)
    }
}
