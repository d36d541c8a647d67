import CloudEvents
import TouchlogDomain
import TouchlogStore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The fold of the projections (DESIGN.md section 3), written once: each ticket is the fold of its
/// events in `EventOrder`, each customer the fold of their own events in that order plus the final
/// state of the tickets they own, and each rep timeline entry one event. The result depends on the
/// events and their times only, not on the order they were appended in, nor on how they were cut into
/// chunks: an event older than what a record has taken makes that record folded again from all its
/// events.
///
/// `ChunkFold` holds the records it loaded or made and marks the ones it changed; where the records
/// and events it does not hold live (a projection slot in LMDB, or memory) is its caller's business,
/// reached through the closures of `fold`.
struct ChunkFold {
    let rules: Rules
    /// The records held (loaded from storage or made by this fold), each in a slot given at first
    /// sight: an event looks its ids up once, and the records are changed in place in the arrays.
    private var ticketSlots: [String: Int] = [:]
    private var heldTickets: [TicketState] = []
    private var customerSlots: [String: Int] = [:]
    private var heldCustomers: [CustomerLoyalty] = []
    /// Per slot: changed since `takeChanges()`, and reached out of `EventOrder` in this chunk (folded
    /// again by `finish`).
    private var ticketFlags: [HeldFlags] = []
    private var customerFlags: [HeldFlags] = []
    /// The slots changed since `takeChanges()`.
    private var dirtyTickets: [Int] = []
    private var dirtyCustomers: [Int] = []
    /// The slots an event reached out of `EventOrder` in this chunk.
    private var refoldTickets: [Int] = []
    private var refoldCustomers: [Int] = []
    /// The owner each ticket changed by an event of this chunk had in storage before it (nil: a new
    /// ticket).
    private var storedOwners: [(slot: Int, owner: String?)] = []
    /// Timeline entries not yet taken by `takeChanges()` (when `keepsTimeline`).
    private(set) var timeline: [RepTimelineEntry] = []
    /// Whether to collect timeline entries (a dry run does not need them).
    let keepsTimeline: Bool

    private struct HeldFlags {
        var dirty = false
        var refold = false
    }

    init(rules: Rules, keepsTimeline: Bool = true) {
        self.rules = rules
        self.keepsTimeline = keepsTimeline
    }

    /// Records held.
    var count: Int { heldTickets.count + heldCustomers.count }

    /// The records held, by id.
    var tickets: [String: TicketState] { ticketSlots.mapValues { heldTickets[$0] } }
    var customers: [String: CustomerLoyalty] { customerSlots.mapValues { heldCustomers[$0] } }

    /// The ticket or customer held under `id`, or nil.
    func ticket(_ id: String) -> TicketState? { ticketSlots[id].map { heldTickets[$0] } }
    func customer(_ id: String) -> CustomerLoyalty? { customerSlots[id].map { heldCustomers[$0] } }

    /// Events to fold in the next write transaction, at most: halved when a transaction wrote more than
    /// `recordBudget` records, doubled back (up to 100,000) when it wrote less than a quarter of that.
    /// LMDB keeps a write transaction's dirty pages in memory until it commits, and records spread over
    /// millions of customers dirty a page each: this bounds that memory, whatever the store's size,
    /// while a store of few customers keeps long transactions. The result does not depend on it.
    private(set) var eventsPerChunk = 100_000
    static let recordBudget = 30_000

    /// An empty array for a chunk's events, with the capacity the last chunk left in it.
    private var eventBuffer: [FoldEvent] = []

    mutating func takeEventBuffer() -> [FoldEvent] {
        defer { eventBuffer = [] }
        return eventBuffer
    }

    mutating func returnEventBuffer(_ events: inout [FoldEvent]) {
        events.removeAll(keepingCapacity: true)
        swap(&eventBuffer, &events)
    }

    /// Forgets every record held (changes must have been taken).
    mutating func evict() {
        precondition(dirtyTickets.isEmpty && dirtyCustomers.isEmpty, "evicting unwritten changes")
        ticketSlots.removeAll()
        heldTickets.removeAll()
        ticketFlags.removeAll()
        customerSlots.removeAll()
        heldCustomers.removeAll()
        customerFlags.removeAll()
    }

    /// The indices of `events` in `EventOrder`: the order to apply a chunk in.
    static func foldOrder(_ events: [FoldEvent]) -> [Int] {
        let orders = events.map(\.order)
        var indices = Array(orders.indices)
        for step in orders.indices.dropFirst() where orders[step] < orders[step - 1] {
            indices.sort { orders[$0] < orders[$1] }
            break
        }
        return indices
    }

    /// Holds `ticket` in a new slot.
    private mutating func hold(_ ticket: TicketState) -> Int {
        let slot = heldTickets.count
        ticketSlots[ticket.id] = slot
        heldTickets.append(ticket)
        ticketFlags.append(HeldFlags())
        return slot
    }

    /// Holds `customer` in a new slot.
    private mutating func hold(_ customer: CustomerLoyalty) -> Int {
        let slot = heldCustomers.count
        customerSlots[customer.customer] = slot
        heldCustomers.append(customer)
        customerFlags.append(HeldFlags())
        return slot
    }

    /// Marks a held ticket changed; returns whether it was not already.
    @discardableResult
    private mutating func markTicket(_ slot: Int) -> Bool {
        guard !ticketFlags[slot].dirty else { return false }
        ticketFlags[slot].dirty = true
        dirtyTickets.append(slot)
        return true
    }

    private mutating func markCustomer(_ slot: Int) {
        guard !customerFlags[slot].dirty else { return }
        customerFlags[slot].dirty = true
        dirtyCustomers.append(slot)
    }

    /// Applies one event of a chunk of the log (each newer in the log than everything folded before;
    /// best applied in `EventOrder`, see `foldOrder`); `finish` ends the chunk.
    ///
    /// An event that comes after everything its ticket and customer have taken (in `EventOrder`) is
    /// applied on top, as most events are; one that does not marks the record, and `finish` folds it
    /// again from all its events. Either way the record ends as the fold of all its events in order.
    /// `loadTicket` and `loadCustomer` give a stored record this fold does not hold, or nil.
    mutating func apply(
        _ event: FoldEvent, loadTicket: (String) throws -> TicketState?,
        loadCustomer: (String) throws -> CustomerLoyalty?
    ) throws {
        if let id = event.ticketID, event.kind.isTicketEvent {
            if let slot = try ticketSlots[id] ?? loadTicket(id).map({ hold($0) }) {
                if markTicket(slot) { storedOwners.append((slot, heldTickets[slot].customer)) }
                heldTickets[slot].eventPositions.append(event.position)
                if !ticketFlags[slot].refold {
                    if heldTickets[slot].takesInOrder(event, event.order) {
                        heldTickets[slot].apply(event)
                    } else {
                        ticketFlags[slot].refold = true
                        refoldTickets.append(slot)
                    }
                }
            } else {
                var ticket = TicketState(id: id, customer: event.customer, firstEventAt: event.occurredAt)
                ticket.apply(event)
                ticket.eventPositions.append(event.position)
                let slot = hold(ticket)
                markTicket(slot)
                storedOwners.append((slot, nil))
            }
        }
        let slot: Int
        if let held = customerSlots[event.customer] {
            slot = held
        } else if let stored = try loadCustomer(event.customer) {
            slot = hold(stored)
        } else {
            slot = hold(CustomerLoyalty(customer: event.customer, at: event.occurredAt, rules: rules))
        }
        if customerFlags[slot].refold {
            // Folded again by `finish`, from the log.
        } else if !heldCustomers[slot].apply(event, rules: rules) {
            customerFlags[slot].refold = true
            refoldCustomers.append(slot)
        }
        markCustomer(slot)
        if keepsTimeline, let rep = event.repID { timeline.append(RepTimelineEntry(event, rep: rep)) }
    }

    /// Ends a chunk: folds again the records an event reached out of order, records owner changes, and
    /// settles every customer whose tickets or events changed.
    /// - Parameters:
    ///   - loadTicket, loadCustomer: a stored record this fold does not hold, or nil.
    ///   - eventsAt: the catalog events at these positions (a ticket folded again).
    ///   - customerEvents: every catalog event of the customer in the log, this chunk's included.
    ///   - moveTicket: records that the ticket's owner changed from the first customer (nil for a new
    ///     ticket) to the second, before `ownedTickets` is asked.
    ///   - ownedTickets: the ids of the tickets the customer owns, in UTF-8 byte order.
    mutating func finish(
        loadTicket: (String) throws -> TicketState?,
        loadCustomer: (String) throws -> CustomerLoyalty?,
        eventsAt: ([UInt64]) throws -> [FoldEvent],
        customerEvents: (String) throws -> [FoldEvent],
        moveTicket: (String, String?, String) throws -> Void,
        ownedTickets: (String) throws -> [String]
    ) throws {
        let rules = self.rules
        for slot in refoldTickets {
            let held = heldTickets[slot]
            var ticket = TicketState.folded(id: held.id, try eventsAt(held.eventPositions).inFoldOrder())!
            ticket.firstReplyVerdict = held.firstReplyVerdict
            ticket.resolutionVerdict = held.resolutionVerdict
            heldTickets[slot] = ticket
            ticketFlags[slot].refold = false
        }
        refoldTickets.removeAll(keepingCapacity: true)
        for slot in refoldCustomers {
            let customer = heldCustomers[slot].customer
            if let loyalty = CustomerLoyalty.folded(
                customer: customer, try customerEvents(customer), rules: rules)
            {
                heldCustomers[slot] = loyalty
            }
            customerFlags[slot].refold = false
        }
        refoldCustomers.removeAll(keepingCapacity: true)
        // Every customer settled is marked changed, and every changed one is settled: the owners of
        // the tickets changed (before and after) join the changed customers.
        for (slot, stored) in storedOwners {
            // The chunk's positions were appended in `EventOrder`: put them back in log order.
            heldTickets[slot].eventPositions.sort()
            let owner = heldTickets[slot].customer
            try settling(owner, loadCustomer)
            if stored != owner {
                if let stored { try settling(stored, loadCustomer) }
                try moveTicket(heldTickets[slot].id, stored, owner)
            }
        }
        storedOwners.removeAll(keepingCapacity: true)
        var next = 0
        while next < dirtyCustomers.count {
            let slot = dirtyCustomers[next]
            next += 1
            var tally = CustomerLoyalty.ServiceTally(asOf: heldCustomers[slot].asOf, rules: rules)
            for id in try ownedTickets(heldCustomers[slot].customer) {
                // Settled in place where held (no copy of the record); a stored one is loaded and kept.
                if let held = ticketSlots[id] {
                    if tally.add(&heldTickets[held], rules: rules) { markTicket(held) }
                } else if var ticket = try loadTicket(id), tally.add(&ticket, rules: rules) {
                    // Held only when its verdicts moved (and it must be written): a customer with
                    // thousands of tickets does not fill memory with them.
                    markTicket(hold(ticket))
                }
            }
            heldCustomers[slot].settle(tally, rules: rules)
        }
    }

    /// Marks the customer changed (to be settled), loading them when not held; one neither held nor
    /// stored is passed over.
    private mutating func settling(_ customer: String, _ loadCustomer: (String) throws -> CustomerLoyalty?)
        throws
    {
        if let slot = try customerSlots[customer] ?? loadCustomer(customer).map({ hold($0) }) {
            markCustomer(slot)
        }
    }

    /// The changed records (keys in UTF-8 byte order, which is LMDB's) and the timeline entries
    /// collected since the last call; the fold keeps holding the records.
    mutating func takeChanges() -> (
        tickets: [TicketState], customers: [CustomerLoyalty], timeline: [RepTimelineEntry]
    ) {
        let heldTickets = self.heldTickets
        let heldCustomers = self.heldCustomers
        let changedTickets = dirtyTickets.sorted { utf8Less(heldTickets[$0].id, heldTickets[$1].id) }
            .map { heldTickets[$0] }
        let changedCustomers = dirtyCustomers.sorted {
            utf8Less(heldCustomers[$0].customer, heldCustomers[$1].customer)
        }.map { heldCustomers[$0] }
        let written = changedTickets.count + changedCustomers.count
        if written > Self.recordBudget {
            eventsPerChunk = max(5_000, eventsPerChunk / 2)
        } else if written < Self.recordBudget / 4 {
            eventsPerChunk = min(100_000, eventsPerChunk * 2)
        }
        for slot in dirtyTickets { ticketFlags[slot].dirty = false }
        for slot in dirtyCustomers { customerFlags[slot].dirty = false }
        dirtyTickets.removeAll(keepingCapacity: true)
        dirtyCustomers.removeAll(keepingCapacity: true)
        defer { timeline.removeAll(keepingCapacity: true) }
        return (changedTickets, changedCustomers, timeline)
    }
}

/// The projections folded in memory: for one customer's history (`replay`) and for tests. Holds every
/// event it was given; `ProjectionStore` folds the log itself in bounded memory with the same fold.
public struct ProjectionFold: Sendable {
    public var rules: Rules { core.rules }
    private var core: ChunkFold
    private var events: [UInt64: FoldEvent] = [:]
    private var customerPositions: [String: [UInt64]] = [:]
    /// The tickets each customer owns, in UTF-8 byte order.
    private var owned: [String: [String]] = [:]
    private var timeline: [RepTimelineEntry] = []

    public init(rules: Rules, keepsTimeline: Bool = true) {
        core = ChunkFold(rules: rules, keepsTimeline: keepsTimeline)
    }

    /// The records folded, by id (made on each call: `ticket(_:)` and `customer(_:)` look one up).
    public var tickets: [String: TicketState] { core.tickets }
    public var customers: [String: CustomerLoyalty] { core.customers }

    /// The ticket or customer of that id, or nil.
    public func ticket(_ id: String) -> TicketState? { core.ticket(id) }
    public func customer(_ id: String) -> CustomerLoyalty? { core.customer(id) }

    /// Applies one stored event. Returns false for an event the projections ignore: an unknown type
    /// (or one that no longer validates).
    @discardableResult
    public mutating func apply(_ stored: StoredEvent) -> Bool {
        guard let event = FoldEvent(stored) else { return false }
        apply([event])
        return true
    }

    /// Applies one validated touchpoint as if it were stored at `position` (positions must grow).
    /// Returns false for an unknown type.
    @discardableResult
    public mutating func apply(_ touchpoint: Touchpoint, position: UInt64) -> Bool {
        guard let event = FoldEvent(touchpoint, position: position) else { return false }
        apply([event])
        return true
    }

    /// Applies events in position order, as one chunk.
    mutating func apply(_ chunk: [FoldEvent]) {
        for event in chunk {
            events[event.position] = event
            customerPositions[event.customer, default: []].append(event.position)
        }
        let events = self.events
        let customerPositions = self.customerPositions
        // Taken out for the closures and put back after (a copy would be made at each call otherwise).
        var owned: [String: [String]] = [:]
        swap(&owned, &self.owned)
        defer { swap(&owned, &self.owned) }
        // Memory holds everything: nothing is loaded, and nothing here throws.
        for index in ChunkFold.foldOrder(chunk) {
            try! core.apply(chunk[index], loadTicket: { _ in nil }, loadCustomer: { _ in nil })
        }
        try! core.finish(
            loadTicket: { _ in nil }, loadCustomer: { _ in nil },
            eventsAt: { $0.map { events[$0]! } },
            customerEvents: { customerPositions[$0, default: []].map { events[$0]! } },
            moveTicket: { id, from, to in
                if let from { owned[from]?.removeAll { $0 == id } }
                var ids = owned.removeValue(forKey: to) ?? []
                var low = 0
                var high = ids.count
                while low < high {
                    let middle = (low + high) / 2
                    if utf8Less(ids[middle], id) { low = middle + 1 } else { high = middle }
                }
                ids.insert(id, at: low)
                owned[to] = ids
            },
            ownedTickets: { owned[$0] ?? [] })
        timeline += core.takeChanges().timeline
    }

    /// Takes the timeline entries collected since the last call, in log order.
    public mutating func takeTimeline() -> [RepTimelineEntry] {
        defer { timeline.removeAll(keepingCapacity: true) }
        return timeline
    }
}

/// Byte order of UTF-8, which is LMDB's key order: `memcmp` of the common length, then the shorter first
/// (a native String's UTF-8 is contiguous: `withUTF8` copies nothing).
func utf8Less(_ a: String, _ b: String) -> Bool {
    var a = a
    var b = b
    return a.withUTF8 { x in
        b.withUTF8 { y in
            let common = min(x.count, y.count)
            let order = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)
            return order != 0 ? order < 0 : x.count < y.count
        }
    }
}

extension TouchpointKind {
    /// The kind without the fields the fold does not read.
    var readByFold: TouchpointKind {
        switch self {
        case .contactReceived: return .contactReceived(summary: nil)
        case .contactSent: return .contactSent(summary: nil)
        case .ticketOpened(let priority, _): return .ticketOpened(priority: priority, summary: nil)
        case .ticketEscalated: return .ticketEscalated(level: nil, reason: nil)
        case .orderPlaced(_, let amount, _): return .orderPlaced(order: "", amount: amount, currency: "")
        case .orderRefunded(_, let amount, _): return .orderRefunded(order: "", amount: amount, currency: "")
        case .selfServiceViewed: return .selfServiceViewed(article: "")
        default: return self
        }
    }

    /// Whether the kind concerns the ticket named by `ticketid` (feedback and contacts may carry a
    /// `ticketid` too, without changing the ticket).
    var isTicketEvent: Bool {
        switch self {
        case .ticketOpened, .ticketAssigned, .ticketReplied, .ticketStatusChanged, .ticketPriorityChanged,
            .ticketEscalated, .ticketSolved, .ticketReopened, .ticketClosed, .ticketMerged:
            return true
        default:
            return false
        }
    }
}

extension RepTimelineEntry {
    /// The timeline entry of `event`, which names `rep`.
    init(_ event: FoldEvent, rep: String) {
        var detail: UInt8 = 0
        switch event.kind {
        case .csat(let score): detail = UInt8(score)
        case .ticketReplied(let author, let isPublic): detail = (isPublic ? 1 : 0) | (author == .rep ? 2 : 0)
        default: break
        }
        self.init(
            rep: rep, occurredAt: event.occurredAt, position: event.position, type: event.type.name,
            customer: event.customer, ticket: event.ticketID, detail: detail)
    }
}
