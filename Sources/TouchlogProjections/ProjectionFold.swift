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
    /// The records held: loaded from storage or made by this fold.
    var tickets: [String: TicketState] = [:]
    var customers: [String: CustomerLoyalty] = [:]
    /// The records changed since `takeChanges()`.
    private(set) var dirtyTickets: Set<String> = []
    private(set) var dirtyCustomers: Set<String> = []
    /// Records an event reached out of `EventOrder` in this chunk: folded again by `finish`.
    private var refoldTickets: Set<String> = []
    private var refoldCustomers: Set<String> = []
    /// The owner each ticket changed in this chunk had in storage before it (nil: a new ticket).
    private var storedOwners: [String: String?] = [:]
    /// Timeline entries not yet taken by `takeChanges()` (when `keepsTimeline`).
    private(set) var timeline: [RepTimelineEntry] = []
    /// Whether to collect timeline entries (a dry run does not need them).
    let keepsTimeline: Bool

    init(rules: Rules, keepsTimeline: Bool = true) {
        self.rules = rules
        self.keepsTimeline = keepsTimeline
    }

    /// Records held.
    var count: Int { tickets.count + customers.count }

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
        tickets.removeAll()
        customers.removeAll()
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
        let order = event.order
        if let id = event.ticketID, event.kind.isTicketEvent {
            var index = tickets.index(forKey: id)
            if index == nil, let stored = try loadTicket(id) {
                tickets[id] = stored
                index = tickets.index(forKey: id)
            }
            if let index {
                if dirtyTickets.insert(id).inserted {
                    storedOwners[id] = .some(tickets.values[index].customer)
                }
                Self.take(event, order, into: &tickets.values[index], refolding: &refoldTickets)
            } else {
                dirtyTickets.insert(id)
                storedOwners[id] = .some(nil)
                var ticket = TicketState(id: id, customer: event.customer, firstEventAt: event.occurredAt)
                ticket.apply(event)
                ticket.eventPositions.append(event.position)
                tickets[id] = ticket
            }
        }
        var index = customers.index(forKey: event.customer)
        if index == nil {
            if let stored = try loadCustomer(event.customer) {
                customers[event.customer] = stored
            } else {
                customers[event.customer] = CustomerLoyalty(
                    customer: event.customer, at: event.occurredAt, rules: rules)
            }
            index = customers.index(forKey: event.customer)
        }
        if !refoldCustomers.isEmpty && refoldCustomers.contains(event.customer) {
            // Folded again by `finish`, from the log.
        } else if !customers.values[index!].apply(event, rules: rules) {
            refoldCustomers.insert(event.customer)
        }
        dirtyCustomers.insert(event.customer)
        if keepsTimeline, let rep = event.repID { timeline.append(RepTimelineEntry(event, rep: rep)) }
    }

    private static func take(
        _ event: FoldEvent, _ order: EventOrder, into ticket: inout TicketState, refolding: inout Set<String>
    ) {
        ticket.eventPositions.append(event.position)
        if !refolding.isEmpty && refolding.contains(ticket.id) { return }
        if ticket.takesInOrder(event, order) {
            ticket.apply(event)
        } else {
            refolding.insert(ticket.id)
        }
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
        for id in refoldTickets {
            let held = tickets[id]!
            var ticket = TicketState.folded(id: id, try eventsAt(held.eventPositions).inFoldOrder())!
            ticket.firstReplyVerdict = held.firstReplyVerdict
            ticket.resolutionVerdict = held.resolutionVerdict
            tickets[id] = ticket
        }
        refoldTickets.removeAll()
        for customer in refoldCustomers {
            let all = try customerEvents(customer)
            if let loyalty = CustomerLoyalty.folded(customer: customer, all, rules: rules) {
                customers[customer] = loyalty
            }
        }
        refoldCustomers.removeAll()
        var settling = dirtyCustomers
        for (id, stored) in storedOwners {
            // The chunk's positions were appended in `EventOrder`: put them back in log order.
            tickets[id]!.eventPositions.sort()
            let owner = tickets[id]!.customer
            settling.insert(owner)
            if stored != owner {
                if let stored { settling.insert(stored) }
                try moveTicket(id, stored, owner)
            }
        }
        storedOwners.removeAll()
        for customer in settling {
            guard var loyalty = try customers[customer] ?? loadCustomer(customer) else { continue }
            var tally = CustomerLoyalty.ServiceTally(asOf: loyalty.asOf, rules: rules)
            for id in try ownedTickets(customer) {
                // Settled in place where held (no copy of the record); a stored one is loaded and kept.
                if let index = tickets.index(forKey: id) {
                    if tally.add(&tickets.values[index], rules: rules) { dirtyTickets.insert(id) }
                } else if var ticket = try loadTicket(id), tally.add(&ticket, rules: rules) {
                    // Held only when its verdicts moved (and it must be written): a customer with
                    // thousands of tickets does not fill memory with them.
                    dirtyTickets.insert(id)
                    tickets[id] = ticket
                }
            }
            loyalty.settle(tally, rules: rules)
            customers[customer] = loyalty
            dirtyCustomers.insert(customer)
        }
    }

    /// The changed records (keys in UTF-8 byte order, which is LMDB's) and the timeline entries
    /// collected since the last call; the fold keeps holding the records.
    mutating func takeChanges() -> (
        tickets: [TicketState], customers: [CustomerLoyalty], timeline: [RepTimelineEntry]
    ) {
        let changedTickets = dirtyTickets.sorted(by: utf8Less).map { tickets[$0]! }
        let changedCustomers = dirtyCustomers.sorted(by: utf8Less).map { customers[$0]! }
        let written = changedTickets.count + changedCustomers.count
        if written > Self.recordBudget {
            eventsPerChunk = max(5_000, eventsPerChunk / 2)
        } else if written < Self.recordBudget / 4 {
            eventsPerChunk = min(100_000, eventsPerChunk * 2)
        }
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

    public var tickets: [String: TicketState] { core.tickets }
    public var customers: [String: CustomerLoyalty] { core.customers }

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
