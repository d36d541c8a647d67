import CloudEvents
import TouchlogDomain
import TouchlogStore

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

    /// Forgets every record held (changes must have been taken).
    mutating func evict() {
        precondition(dirtyTickets.isEmpty && dirtyCustomers.isEmpty, "evicting unwritten changes")
        tickets.removeAll()
        customers.removeAll()
    }

    /// Folds `events`, a chunk of the log in position order, each newer in the log than everything
    /// folded before.
    /// - Parameters:
    ///   - loadTicket, loadCustomer: a stored record this fold does not hold, or nil.
    ///   - eventsAt: the catalog events at these positions (a ticket folded again).
    ///   - customerEvents: every catalog event of the customer in the log, this chunk's included.
    ///   - moveTicket: records that the ticket's owner changed from the first customer (nil for a new
    ///     ticket) to the second, before `ownedTickets` is asked.
    ///   - ownedTickets: the ids of the tickets the customer owns, in UTF-8 byte order.
    mutating func fold(
        _ events: [FoldEvent],
        loadTicket: (String) throws -> TicketState?,
        loadCustomer: (String) throws -> CustomerLoyalty?,
        eventsAt: ([UInt64]) throws -> [FoldEvent],
        customerEvents: (String) throws -> [FoldEvent],
        moveTicket: (String, String?, String) throws -> Void,
        ownedTickets: (String) throws -> [String]
    ) throws {
        var byTicket: [String: [FoldEvent]] = [:]
        var byCustomer: [String: [FoldEvent]] = [:]
        for event in events {
            if let id = event.ticketID, event.kind.isTicketEvent { byTicket[id, default: []].append(event) }
            byCustomer[event.customer, default: []].append(event)
            if keepsTimeline, let rep = event.repID { timeline.append(RepTimelineEntry(event, rep: rep)) }
        }
        var settling: Set<String> = []
        for (id, new) in byTicket {
            let new = new.inFoldOrder()
            let held = try tickets[id] ?? loadTicket(id)
            var ticket: TicketState
            if var held, held.takesInOrder(new) {
                for event in new { held.apply(event) }
                held.eventPositions += new.map(\.position).sorted()
                ticket = held
            } else {
                let all = try (held.map { try eventsAt($0.eventPositions) } ?? []) + new
                ticket = TicketState.folded(id: id, all.inFoldOrder())!
            }
            if let held, held.customer != ticket.customer { settling.insert(held.customer) }
            if held?.customer != ticket.customer { try moveTicket(id, held?.customer, ticket.customer) }
            // Verdicts are the owner's to settle; until then the ticket keeps the ones it had.
            if let held {
                ticket.firstReplyVerdict = held.firstReplyVerdict
                ticket.resolutionVerdict = held.resolutionVerdict
            }
            tickets[id] = ticket
            dirtyTickets.insert(id)
            settling.insert(ticket.customer)
        }
        for (customer, new) in byCustomer {
            let new = new.inFoldOrder()
            let held = try customers[customer] ?? loadCustomer(customer)
            var loyalty: CustomerLoyalty
            if var held, let first = new.first, held.watermark < first.order {
                for event in new { held.apply(event, rules: rules) }
                loyalty = held
            } else {
                let all = held == nil ? new : try customerEvents(customer).inFoldOrder()
                guard let folded = CustomerLoyalty.folded(customer: customer, all, rules: rules) else {
                    continue
                }
                loyalty = folded
            }
            customers[customer] = loyalty
            settling.insert(customer)
        }
        for customer in settling {
            guard var loyalty = try customers[customer] ?? loadCustomer(customer) else { continue }
            var owned: [TicketState] = []
            for id in try ownedTickets(customer) {
                if let ticket = try tickets[id] ?? loadTicket(id) { owned.append(ticket) }
            }
            loyalty.settle(tickets: &owned, rules: rules) { ticket in
                tickets[ticket.id] = ticket
                dirtyTickets.insert(ticket.id)
            }
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
    private var owned: [String: Set<String>] = [:]
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
        var owned = self.owned
        // Memory holds everything: nothing is loaded, and nothing here throws.
        try! core.fold(
            chunk, loadTicket: { _ in nil }, loadCustomer: { _ in nil },
            eventsAt: { $0.map { events[$0]! } },
            customerEvents: { customerPositions[$0, default: []].map { events[$0]! } },
            moveTicket: { id, from, to in
                if let from { owned[from]?.remove(id) }
                owned[to, default: []].insert(id)
            },
            ownedTickets: { owned[$0].map { $0.sorted(by: utf8Less) } ?? [] })
        self.owned = owned
        timeline += core.takeChanges().timeline
    }

    /// Takes the timeline entries collected since the last call, in log order.
    public mutating func takeTimeline() -> [RepTimelineEntry] {
        defer { timeline.removeAll(keepingCapacity: true) }
        return timeline
    }
}

/// Byte order of UTF-8, which is LMDB's key order.
func utf8Less(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

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
