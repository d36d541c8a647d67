import CloudEvents
import LMDB
import TouchlogDomain
import TouchlogStore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The projections of a store, kept in named databases of the log's own LMDB environment
/// (docs/STORAGE.md, "Projections").
///
/// Two slots of databases hold up to two generations: the active one, which readers use and
/// `catchUp()` keeps current, and at times one being built by `rebuild`. Each generation records
/// the log position it reflects; a catch-up folds the events after it and moves the position in
/// the same write transaction as the state, so an event is never skipped nor applied twice.
public final class ProjectionStore: Sendable {
    /// The store whose log is folded and whose databases hold the projections.
    public let store: Store
    /// The store's log.
    public var log: EventLog { store.log }
    let meta: Database
    let slots: [Slot]

    /// The databases of one slot.
    typealias Slot = Store.ProjectionSlotDatabases

    /// Events folded per write transaction of a catch-up, at most: the fold shortens its transactions
    /// when they write many records (`ChunkFold.eventsPerChunk`), and keeps at most `heldRecordLimit`
    /// records between them, so that memory stays bounded (DESIGN.md section 6).
    public static let defaultChunkSize = 100_000
    /// Events folded per write transaction of a rebuild (a stopped rebuild resumes from the last of these).
    public static let defaultRebuildChunkSize = 100_000

    /// The projections of `store`, in the databases the store opened.
    /// - Throws: `ProjectionError.missing` for a read-only store that has no projections.
    public init(store: Store) throws {
        guard let databases = store.databases.projections else {
            throw ProjectionError.missing(path: store.path)
        }
        self.store = store
        self.meta = databases.meta
        self.slots = databases.slots
    }

    // MARK: Meta

    static let activeKey = "active"
    static func generationKey(_ slot: Int) -> String { "generation.\(ProjectionGeneration.slotNames[slot])" }
    static func rulesKey(_ slot: Int) -> String { "rules.\(ProjectionGeneration.slotNames[slot])" }

    func activeGeneration(_ txn: borrowing some ReadableTransaction & ~Copyable) throws
        -> ProjectionGeneration?
    {
        guard
            let slot = try txn.withUnsafeValue(
                forKey: Self.activeKey, in: meta, { $0.count == 1 ? Int($0[0]) : nil })
        else {
            return nil
        }
        guard let slot, slot < slots.count, let generation = try generation(txn, slot: slot) else {
            throw ProjectionError.corruptRecord(database: "projection.meta", key: Self.activeKey)
        }
        return generation
    }

    func generation(_ txn: borrowing some ReadableTransaction & ~Copyable, slot: Int) throws
        -> ProjectionGeneration?
    {
        let key = Self.generationKey(slot)
        guard
            let found = try txn.withUnsafeValue(
                forKey: key, in: meta, { ProjectionGeneration(slot: slot, decoding: $0) })
        else { return nil }
        guard let found else { throw ProjectionError.corruptRecord(database: "projection.meta", key: key) }
        return found
    }

    func put(_ generation: ProjectionGeneration, _ txn: borrowing WriteTransaction) throws {
        try txn.put(generation.encoded(), forKey: Self.generationKey(generation.slot), in: meta)
    }

    /// The rules stored with a generation, checked against its hash.
    func rules(of generation: ProjectionGeneration, _ txn: borrowing some ReadableTransaction & ~Copyable)
        throws -> Rules
    {
        guard let bytes = try txn.value(forKey: Self.rulesKey(generation.slot), in: meta) else {
            throw ProjectionError.corruptRules(generation: generation.number, reason: "they are missing")
        }
        let rules: Rules
        do { rules = try Rules(toml: String(decoding: bytes, as: UTF8.self)) } catch {
            throw ProjectionError.corruptRules(generation: generation.number, reason: error.description)
        }
        guard rules.hash == generation.rulesHash else {
            throw ProjectionError.corruptRules(
                generation: generation.number, reason: "their hash does not match")
        }
        return rules
    }

    func headPosition(_ txn: borrowing some ReadableTransaction & ~Copyable) throws -> UInt64 {
        try log.headPosition(txn)
    }

    /// How far the projections are behind the log, from one snapshot: the position the active generation
    /// reflects (0 before the first catch-up) and the head of the log.
    public func lag() throws -> (position: UInt64, head: UInt64) {
        try storage("reading the projection generation") {
            try store.withReadTransaction { txn in
                (try activeGeneration(txn)?.position ?? 0, try headPosition(txn))
            }
        }
    }

    /// The active generation, or nil before the first catch-up.
    public func activeGeneration() throws -> ProjectionGeneration? {
        try storage("reading the projection generation") {
            try store.withReadTransaction { txn in try activeGeneration(txn) }
        }
    }

    /// The rules of the active generation, or nil before the first catch-up.
    public func activeRules() throws -> Rules? {
        try storage("reading the projection rules") {
            try store.withReadTransaction { txn in
                guard let active = try activeGeneration(txn) else { return nil }
                return try rules(of: active, txn)
            }
        }
    }

    // MARK: Folding into a slot

    /// Records a fold keeps in memory between write transactions at most; above it, it forgets them
    /// after writing and loads what the next events touch (the bound of DESIGN.md section 6).
    static let heldRecordLimit = 60_000

    /// The fold of one catch-up or rebuild, kept in memory between its write transactions; valid only
    /// while the generation's stored position is the one it reached.
    struct Session {
        var fold: ChunkFold
        var slot: Int
        var generation: UInt64
        var position: UInt64
        /// Reads the log ahead of the fold on a second thread, for a fold of more than
        /// `readAheadThreshold` positions.
        var reader: FoldEventReader?

        func continues(_ generation: ProjectionGeneration) -> Bool {
            slot == generation.slot && self.generation == generation.number && position == generation.position
        }
    }

    /// Runs `body` in a write transaction; forgets the session when the transaction does not commit
    /// (or runs again after growing the map), so memory never holds state the store does not.
    func write<R>(_ session: inout Session?, _ body: (borrowing WriteTransaction, inout Session?) throws -> R)
        throws -> R
    {
        var attempt = 0
        do {
            return try storage("updating the projections") {
                try store.withWriteTransaction(growingMap: true) { txn in
                    attempt += 1
                    if attempt > 1 { session = nil }
                    return try body(txn, &session)
                }
            }
        } catch {
            session = nil
            throw error
        }
    }

    /// Folds the events after `generation.position` (at most `limit`) into its slot and advances the
    /// position; the caller writes the generation record in the same transaction. Returns how many
    /// positions it advanced.
    func advance(
        _ txn: borrowing WriteTransaction, _ generation: inout ProjectionGeneration, _ session: inout Session,
        head: UInt64, limit: Int
    ) throws -> UInt64 {
        guard generation.position < head else { return 0 }
        let first = generation.position + 1
        let last = min(head, generation.position + UInt64(max(1, min(limit, session.fold.eventsPerChunk))))
        if session.reader?.covers(first, last) != true {
            session.reader =
                head - generation.position > Self.readAheadThreshold
                ? FoldEventReader(store: store, from: first, through: head) : nil
        }
        try Self.fold(
            log: log, txn, into: slots[generation.slot], txn, from: first, through: last, &session.fold,
            reader: session.reader)
        let advanced = last - generation.position
        generation.position = last
        session.position = last
        return advanced
    }

    /// Positions left to fold above which a catch-up or rebuild reads the log on a second thread
    /// (`FoldEventReader`); a short catch-up (the service's, after each commit) reads in its own.
    static let readAheadThreshold: UInt64 = 16_384

    /// Folds the log's events `first...last` (read in `logTxn`) into the slot's databases (written in
    /// `txn`, which may belong to another environment: a scratch slot), writes every record that
    /// changed, and forgets the records held when they are more than `heldRecordLimit`. With
    /// `passingDamaged`, a record that does not decode is passed over as an unknown type is (the audit's
    /// fresh fold: the log's own verification reports it, and the records it shaped then differ);
    /// without, it throws. With `reader` (which must cover `first...last`, and is used only without
    /// `passingDamaged`), the events are those its thread read ahead.
    static func fold(
        log: EventLog, _ logTxn: borrowing some ReadableTransaction & ~Copyable, into slot: Slot,
        _ txn: borrowing WriteTransaction, from first: UInt64, through last: UInt64, _ fold: inout ChunkFold,
        passingDamaged: Bool = false, reader: FoldEventReader? = nil
    ) throws {
        // The chunk's events go in the fold's buffer, kept from chunk to chunk: a fresh array of a
        // quarter million events each time costs more in page faults than the fold itself.
        var events = fold.takeEventBuffer()
        events.reserveCapacity(Int(min(last - first + 1, 1 << 18)))
        if let reader {
            precondition(!passingDamaged && reader.covers(first, last))
            try reader.take(through: last, into: &events)
        } else {
            try log.forEachRecord(
                from: first, in: logTxn, undecodable: passingDamaged ? { _ in } : nil, opening: false
            ) {
                record in
                if record.position > last { return false }
                if let event = FoldEvent.folding(record) { events.append(event) }
                return record.position < last
            }
        }
        try Self.fold(
            log: log, logTxn, events: events, through: last, into: slot, txn, &fold,
            passingDamaged: passingDamaged)
        fold.returnEventBuffer(&events)
    }

    /// Folds `events` (the slot has folded every catalog event before them that it is meant to) into
    /// the slot, as `fold(log:...)` does with a range of the log.
    static func fold(
        log: EventLog, _ logTxn: borrowing some ReadableTransaction & ~Copyable, events: [FoldEvent],
        through last: UInt64, into slot: Slot, _ txn: borrowing WriteTransaction, _ fold: inout ChunkFold,
        passingDamaged: Bool = false
    ) throws {
        // In `EventOrder` within the chunk: then only an event older than what a record took in an
        // earlier chunk makes it folded again.
        for index in ChunkFold.foldOrder(events) {
            try fold.apply(
                events[index], loadTicket: { try loadTicket($0, slot: slot, txn) },
                loadCustomer: { try loadCustomer($0, slot: slot, txn) })
        }
        try finish(log: log, logTxn, through: last, into: slot, txn, &fold, passingDamaged: passingDamaged)
    }

    /// Ends a chunk folded into the slot: see `ChunkFold.finish`; then writes what changed.
    private static func finish(
        log: EventLog, _ logTxn: borrowing some ReadableTransaction & ~Copyable, through last: UInt64,
        into slot: Slot, _ txn: borrowing WriteTransaction, _ fold: inout ChunkFold, passingDamaged: Bool
    ) throws {
        func eventAt(_ position: UInt64) throws -> FoldEvent? {
            do {
                return try log.withRecord(at: position, in: logTxn, opening: false) { FoldEvent.folding($0) }
                    ?? nil
            } catch StoreError.corruptRecord where passingDamaged {
                return nil
            }
        }
        try fold.finish(
            loadTicket: { try loadTicket($0, slot: slot, txn) },
            loadCustomer: { try loadCustomer($0, slot: slot, txn) },
            eventsAt: { try $0.compactMap(eventAt) },
            customerEvents: { customer in
                try log.streamPositions(ofCustomer: customer, through: last, in: logTxn).compactMap(eventAt)
            },
            moveTicket: { id, from, to in
                if let from {
                    _ = try txn.delete(forKey: ProjectionCodec.ownerKey(from, id), in: slot.customerTickets)
                }
                try txn.put([], forKey: ProjectionCodec.ownerKey(to, id), in: slot.customerTickets)
            },
            ownedTickets: { customer in try ownedTickets(customer, slot: slot, txn) })
        let changes = fold.takeChanges()
        try write(TicketProjection.self, changes.tickets, into: slot, txn)
        try write(LoyaltyProjection.self, changes.customers, into: slot, txn)
        try writeTimeline(changes.timeline, into: slot, txn)
        if fold.count > heldRecordLimit { fold.evict() }
    }

    /// Writes records of `projection` (in key order: sorted writes touch fewer pages).
    private static func write<P: Projection>(
        _ projection: P.Type, _ records: [P.Record], into slot: Slot, _ txn: borrowing WriteTransaction
    ) throws {
        let database = P.database(in: slot)
        for record in records {
            let (key, value) = P.encode(record)
            try txn.put(value, forKey: key, in: database)
        }
    }

    /// The ids of the tickets `customer` owns, in key order.
    static func ownedTickets(
        _ customer: String, slot: Slot, _ txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> [String] {
        let prefix = ProjectionCodec.ownerPrefix(customer)
        var ids: [String] = []
        try txn.withCursor(on: slot.customerTickets) { cursor in
            try cursor.unsafeForEach(from: prefix) { key, _ in
                guard key.starts(with: prefix) else { return false }
                ids.append(
                    String(decoding: UnsafeRawBufferPointer(rebasing: key[prefix.count...]), as: UTF8.self))
                return true
            }
        }
        return ids
    }

    /// Writes timeline entries in key order: grouped by rep (reps in key order), each rep's entries
    /// by event time and position. The entries arrive in log order, which is nearly event-time order,
    /// so sorting each rep's indices is close to linear; no entry is moved and no key is compared as bytes.
    static func writeTimeline(
        _ entries: [RepTimelineEntry], into slot: Slot, _ txn: borrowing WriteTransaction
    ) throws {
        var byRep: [String: [Int]] = [:]
        for index in entries.indices { byRep[entries[index].rep, default: []].append(index) }
        var key = ByteWriter(capacity: 64)
        var value = ByteWriter(capacity: 64)
        for rep in byRep.keys.sorted(by: ProjectionCodec.repKeyOrder) {
            var indices = byRep[rep]!
            // Fields read in place: a copy of an entry retains its four strings.
            indices.sort { x, y in
                let (a, b) = (entries[x].occurredAt, entries[y].occurredAt)
                return a != b
                    ? a.microsecondsSinceEpoch < b.microsecondsSinceEpoch
                    : entries[x].position < entries[y].position
            }
            for index in indices {
                key.bytes.removeAll(keepingCapacity: true)
                value.bytes.removeAll(keepingCapacity: true)
                ProjectionCodec.writeTimelineKey(
                    rep: rep, time: entries[index].occurredAt, position: entries[index].position, to: &key)
                ProjectionCodec.write(entries[index], to: &value)
                try txn.put(value.bytes, forKey: key.bytes, in: slot.timeline)
            }
        }
    }

    static func loadTicket(_ id: String, slot: Slot, _ txn: borrowing some ReadableTransaction & ~Copyable)
        throws -> TicketState?
    {
        guard
            let found = try txn.withUnsafeValue(
                forKey: id, in: slot.tickets, { ProjectionCodec.decodeTicket(id: id, $0) })
        else { return nil }
        guard let found else { throw ProjectionError.corruptRecord(database: "tickets", key: id) }
        return found
    }

    static func loadCustomer(_ id: String, slot: Slot, _ txn: borrowing some ReadableTransaction & ~Copyable)
        throws -> CustomerLoyalty?
    {
        guard
            let found = try txn.withUnsafeValue(
                forKey: id, in: slot.customers, { ProjectionCodec.decodeCustomer(id: id, $0) })
        else { return nil }
        guard let found else { throw ProjectionError.corruptRecord(database: "customers", key: id) }
        return found
    }

    // MARK: Catch-up

    /// What a catch-up did.
    public struct CatchUpSummary: Sendable, Equatable {
        /// Log positions folded (events of unknown types count too: they are passed over).
        public var positions: UInt64
        /// The position the active generation reflects now.
        public var position: UInt64
        public var generation: UInt64
    }

    /// Brings the active generation up to the head of the log, in write transactions of `chunkSize`
    /// events; the first call creates generation 1 with the built-in rules. An active generation built
    /// by other versions of the projection code (`ProjectionGeneration.isCurrent`) is rebuilt first,
    /// with its own rules.
    ///
    /// Each transaction reads the generation's position, folds the events after it and writes the
    /// state with the new position: a crash between transactions loses nothing and repeats nothing.
    /// `progress` is called after each transaction with the positions folded so far.
    /// - Throws: `StoreError.storage`, `ProjectionError`, or what `progress` throws.
    @discardableResult
    public func catchUp(chunkSize: Int = defaultChunkSize, progress: ((UInt64) throws -> Void)? = nil) throws
        -> CatchUpSummary
    {
        if let active = try activeGeneration(), !active.isCurrent {
            // Built by other versions of the projection code: fold it again with its rules.
            let rules = try activeRules() ?? .default
            let rebuilt = try rebuild(rules: rules) { try progress?($0.folded) }
            return CatchUpSummary(
                positions: rebuilt.folded, position: rebuilt.generation.position,
                generation: rebuilt.generation.number)
        }
        var session: Session?
        var total: UInt64 = 0
        while true {
            let (advanced, done, generation) = try write(&session) {
                txn, session -> (UInt64, Bool, ProjectionGeneration) in
                var active: ProjectionGeneration
                if let found = try activeGeneration(txn) {
                    active = found
                } else {
                    active = try initialize(txn)
                }
                if session?.continues(active) != true {
                    session = Session(
                        fold: ChunkFold(rules: try rules(of: active, txn)), slot: active.slot,
                        generation: active.number, position: active.position)
                }
                let head = try headPosition(txn)
                let advanced = try advance(txn, &active, &session!, head: head, limit: chunkSize)
                if advanced > 0 { try put(active, txn) }
                return (advanced, active.position >= head, active)
            }
            total += advanced
            if done {
                return CatchUpSummary(
                    positions: total, position: generation.position, generation: generation.number)
            }
            try progress?(total)
        }
    }

    /// Creates generation 1 in slot a with the built-in rules, active at position 0.
    private func initialize(_ txn: borrowing WriteTransaction) throws -> ProjectionGeneration {
        let rules = Rules.default
        let generation = ProjectionGeneration(
            slot: 0, number: 1, state: .active, position: 0, rulesVersion: rules.version,
            rulesHash: rules.hash, builder: 0)
        for database in slots[0].all { try txn.removeAll(in: database) }
        try txn.put(Array(rules.canonicalText.utf8), forKey: Self.rulesKey(0), in: meta)
        try put(generation, txn)
        try txn.put([0], forKey: Self.activeKey, in: meta)
        return generation
    }
}

/// Runs `body`, turning an `LMDBError` into `StoreError.storage` that names `operation`.
func storage<R>(_ operation: String, _ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch let error as LMDBError {
        throw StoreError.storage(operation: operation, cause: error)
    }
}

/// Whether the process `pid` exists (`kill(pid, 0)`).
func processIsAlive(_ pid: Int32) -> Bool {
    guard pid > 0 else { return false }
    return kill(pid, 0) == 0 || errno == EPERM
}
