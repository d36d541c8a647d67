import CloudEvents
import TouchlogDomain
import TouchlogStore

/// The pure, deterministic fold of the log into ticket state, customer loyalty and rep timelines
/// under one set of rules (DESIGN.md section 3).
///
/// Apply events in log order. The same events under the same rules always give the same state, bit
/// for bit, whether they are applied in one run or in several (the state carries everything the
/// next event needs). `ProjectionStore` keeps this state in LMDB; `replay` and `verify` fold in memory.
public struct ProjectionFold: Sendable {
    public let rules: Rules
    public internal(set) var tickets: [String: TicketState] = [:]
    public internal(set) var customers: [String: CustomerLoyalty] = [:]
    /// Timeline entries not yet taken by `takeTimeline()` (when `keepsTimeline`).
    var timeline: [RepTimelineEntry] = []
    /// Whether to collect timeline entries (a dry run does not need them).
    var keepsTimeline: Bool

    public init(rules: Rules, keepsTimeline: Bool = true) {
        self.rules = rules
        self.keepsTimeline = keepsTimeline
    }

    /// Applies one stored event. Returns false for an event the projections ignore: an unknown type
    /// (or one that no longer validates).
    @discardableResult
    public mutating func apply(_ stored: StoredEvent) -> Bool {
        guard let event = FoldEvent(stored) else { return false }
        apply(event)
        return true
    }

    /// Applies one validated touchpoint as if it were stored at `position` (positions must grow).
    /// Returns false for an unknown type.
    @discardableResult
    public mutating func apply(_ touchpoint: Touchpoint, position: UInt64) -> Bool {
        guard let event = FoldEvent(touchpoint, position: position) else { return false }
        apply(event)
        return true
    }

    /// Takes the timeline entries collected since the last call.
    public mutating func takeTimeline() -> [RepTimelineEntry] {
        defer { timeline.removeAll(keepingCapacity: true) }
        return timeline
    }

    /// Timeline entries collected and not yet taken.
    public var pendingTimeline: [RepTimelineEntry] { timeline }

    mutating func apply(_ event: FoldEvent) {
        let time = event.occurredAt
        var ticketOutcome = TicketOutcome()
        if let ticketID = event.ticketID, event.kind.isTicketEvent {
            ticketOutcome = applyToTicket(ticketID, event)
        }
        // The event's own customer: every catalog event moves their "now" and may observe something.
        observe(event.customer, at: event) { loyalty, weight in
            switch event.kind {
            case .contactReceived:
                loyalty.contacts += weight
            case .ticketOpened where ticketOutcome.opened:
                loyalty.tickets += weight
                loyalty.contacts += weight
            case .ticketReplied(.customer, _):
                loyalty.contacts += weight
            case .csat(let score):
                loyalty.csatSum += weight * Double(score - 3) / 2
                loyalty.csatCount += weight
            case .nps(let score):
                loyalty.npsSum += weight * (score >= 9 ? 1 : score >= 7 ? 0 : -1)
                loyalty.npsCount += weight
            case .ces(let score):
                loyalty.cesSum += weight * Double(score - 4) / 3
                loyalty.cesCount += weight
            case .orderPlaced(_, let amount, _):
                loyalty.orders += weight
                loyalty.orderCents += weight * Double(amount.cents)
                if loyalty.lastOrderAt.map({ time > $0 }) ?? true { loyalty.lastOrderAt = time }
            case .orderRefunded(_, let amount, _):
                loyalty.refunds += weight
                loyalty.refundCents += weight * Double(amount.cents)
            default:
                break
            }
        }
        // What the ticket's service did counts for the ticket's customer.
        if ticketOutcome.observes, let owner = ticketOutcome.owner {
            observe(owner, at: event) { loyalty, weight in
                if ticketOutcome.reopened { loyalty.reopens += weight }
                if ticketOutcome.escalated { loyalty.escalations += weight }
                for met in ticketOutcome.slaOutcomes {
                    if met { loyalty.slaMet += weight } else { loyalty.slaBreached += weight }
                }
            }
        }
        if keepsTimeline, let rep = event.repID {
            var detail: UInt8 = 0
            switch event.kind {
            case .csat(let score): detail = UInt8(score)
            case .ticketReplied(let author, let isPublic):
                detail = (isPublic ? 1 : 0) | (author == .rep ? 2 : 0)
            default: break
            }
            timeline.append(
                RepTimelineEntry(
                    rep: rep, occurredAt: time, position: event.position, type: event.type.name,
                    customer: event.customer,
                    ticket: event.ticketID, detail: detail))
        }
    }

    private mutating func observe(
        _ customer: String, at event: FoldEvent, _ body: (inout CustomerLoyalty, Double) -> Void
    ) {
        // Updated in place in the dictionary: no copy of the record in and out.
        var index = customers.index(forKey: customer)
        if index == nil {
            customers[customer] = CustomerLoyalty(
                customer: customer, at: event.occurredAt, position: event.position, rules: rules)
            index = customers.index(forKey: customer)
        }
        Self.observe(&customers.values[index!], event, rules, body)
    }

    private static func observe(
        _ loyalty: inout CustomerLoyalty, _ event: FoldEvent, _ rules: borrowing Rules,
        _ body: (inout CustomerLoyalty, Double) -> Void
    ) {
        let weight = loyalty.advance(to: event.occurredAt, halfLifeDays: rules.halfLifeDays)
        loyalty.lastPosition = event.position
        body(&loyalty, weight)
        loyalty.rescore(rules)
    }

    struct TicketOutcome {
        var owner: String?
        var opened = false
        var reopened = false
        var escalated = false
        var slaOutcomes: [Bool] = []
        var observes: Bool { reopened || escalated || !slaOutcomes.isEmpty }
    }

    private mutating func applyToTicket(_ id: String, _ event: FoldEvent) -> TicketOutcome {
        // Updated in place in the dictionary: no copy of the record in and out.
        var index = tickets.index(forKey: id)
        let isNew = index == nil
        if isNew {
            tickets[id] = TicketState(
                id: id, customer: event.customer, at: event.occurredAt, position: event.position)
            index = tickets.index(forKey: id)
        }
        return Self.update(&tickets.values[index!], id: id, isNew: isNew, event, rules)
    }

    /// Applies `event` to `ticket`; `isNew` when the event created it.
    private static func update(
        _ ticket: inout TicketState, id: String, isNew: Bool, _ event: FoldEvent, _ rules: borrowing Rules
    ) -> TicketOutcome {
        let time = event.occurredAt
        let existingStatus = isNew ? nil : ticket.status
        var outcome = TicketOutcome()
        var anomalies: [String] = []
        if !isNew, ticket.customer != event.customer {
            anomalies.append(
                "the ticket belongs to customer '\(ticket.customer)', this event to '\(event.customer)'")
        }
        if case .ticketOpened(let priority, _) = event.kind, !isNew, ticket.openedAt == nil {
            // The opening arrived after other events of the ticket (they were recorded as anomalies):
            // take its fields, keep the status the ticket has reached.
            ticket.openedAt = time
            ticket.priority = priority
            ticket.channel = event.channel
            outcome.opened = true
        } else if let transition = TicketLifecycle.apply(event.kind, to: existingStatus) {
            ticket.status = transition.status
            if transition.reopened { outcome.reopened = true }
            if let anomaly = transition.anomaly { anomalies.append(anomaly) }
            switch event.kind {
            case .ticketOpened(let priority, _) where isNew:
                ticket.openedAt = time
                ticket.priority = priority
                ticket.channel = event.channel
                outcome.opened = true
            case .ticketAssigned:
                ticket.assignee = event.repID
            case .ticketReplied(let author, let isPublic) where author == .rep && isPublic:
                ticket.publicReplies += 1
                if ticket.firstReplyAt.map({ time < $0 }) ?? true {
                    ticket.firstReplyAt = time
                    ticket.firstReplyBy = event.repID
                    ticket.firstReplyPosition = event.position
                }
            case .ticketPriorityChanged(let priority):
                ticket.priority = priority
            case .ticketEscalated:
                ticket.escalations += 1
                outcome.escalated = true
            case .ticketSolved:
                ticket.solvedAt = time
                ticket.resolvedAt = time
            case .ticketClosed:
                ticket.closedAt = time
                if ticket.resolvedAt == nil { ticket.resolvedAt = time }
            case .ticketMerged(let into):
                ticket.mergedInto = into
                ticket.closedAt = time
                if ticket.resolvedAt == nil { ticket.resolvedAt = time }
                if into == id { anomalies.append("merged into itself") }
            default:
                break
            }
        }
        if outcome.reopened {
            ticket.reopens += 1
            ticket.resolvedAt = nil
        }
        if let opened = ticket.openedAt, time < opened {
            anomalies.append("happened before the ticket was opened (\(opened.rfc3339))")
        }
        if time > ticket.lastEventAt { ticket.lastEventAt = time }
        ticket.lastPosition = event.position
        outcome.slaOutcomes = evaluateSLA(&ticket, rules)
        for reason in anomalies {
            ticket.anomalies.append(
                TicketAnomaly(position: event.position, type: event.type.name, reason: reason))
        }
        outcome.owner = ticket.customer
        return outcome
    }

    /// Sets the breach flags from the ticket's times and returns the outcomes decided for the first
    /// time by this event (true = met), which the customer's loyalty counts once each.
    private static func evaluateSLA(_ ticket: inout TicketState, _ rules: Rules) -> [Bool] {
        guard let opened = ticket.openedAt else { return [] }
        let target = rules.target(for: ticket.priority)
        var decided: [Bool] = []
        func check(_ end: Timestamp?, limitMinutes: Int64, bit: UInt8) -> Bool {
            let limit = limitMinutes * 60_000_000
            let breached: Bool
            let known: Bool
            if let end {
                breached = end.microsecondsSinceEpoch - opened.microsecondsSinceEpoch > limit
                known = true
            } else {
                breached = ticket.lastEventAt.microsecondsSinceEpoch - opened.microsecondsSinceEpoch > limit
                known = breached
            }
            if known && ticket.slaCounted & bit == 0 {
                ticket.slaCounted |= bit
                decided.append(!breached)
            }
            return breached
        }
        ticket.firstReplyBreached = check(ticket.firstReplyAt, limitMinutes: target.firstReplyMinutes, bit: 1)
        ticket.resolutionBreached = check(ticket.resolvedAt, limitMinutes: target.resolutionMinutes, bit: 2)
        return decided
    }

    /// The keys of the records changed by events after `position`, sorted (the stored bytes do not
    /// depend on the order; sorted writes touch fewer pages).
    ///
    /// Every event a record takes sets its `lastPosition`, so no per-event bookkeeping is needed: one
    /// pass over the records in memory finds them (a catch-up holds only the records it touched or
    /// loaded; a rebuild calls this once per transaction of 250,000 events).
    func changes(after position: UInt64) -> (tickets: [String], customers: [String]) {
        var tickets: [String] = []
        for (id, ticket) in self.tickets where ticket.lastPosition > position { tickets.append(id) }
        var customers: [String] = []
        for (id, loyalty) in self.customers where loyalty.lastPosition > position { customers.append(id) }
        return (tickets.sorted(), customers.sorted())
    }

    /// Sizes the record tables for about this many records, so that they are not grown step by step.
    mutating func reserveCapacity(tickets: Int, customers: Int) {
        self.tickets.reserveCapacity(tickets)
        self.customers.reserveCapacity(customers)
    }

    /// Adds records loaded from storage (for a fold that continues from stored state).
    mutating func load(ticket: TicketState) { tickets[ticket.id] = ticket }
    mutating func load(customer: CustomerLoyalty) { customers[customer.customer] = customer }
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

/// One catalog event as the fold reads it: what the fold does not read (summaries, order numbers,
/// currencies, escalation levels, articles) is left out, so that the lean record decoder and the
/// validating path give equal values.
struct FoldEvent: Sendable, Equatable {
    var position: UInt64
    var occurredAt: Timestamp
    var type: KnownType
    var customer: String
    var ticketID: String?
    var repID: String?
    var channel: Channel?
    var kind: TouchpointKind

    init(
        position: UInt64, occurredAt: Timestamp, type: KnownType, customer: String, ticketID: String?,
        repID: String?,
        channel: Channel?, kind: TouchpointKind
    ) {
        self.position = position
        self.occurredAt = occurredAt
        self.type = type
        self.customer = customer
        self.ticketID = ticketID
        self.repID = repID
        self.channel = channel
        self.kind = kind
    }

    /// Nil for an unknown type, or a stored event that no longer validates (the log validated it
    /// when it was appended; a catalog change could make it invalid, and the projections then pass
    /// over it as over an unknown type).
    init?(_ stored: StoredEvent) {
        guard KnownType(name: stored.event.type) != nil,
            let touchpoint = try? Touchpoint(validating: stored.event)
        else { return nil }
        self.init(touchpoint, position: stored.position)
    }

    init?(_ touchpoint: Touchpoint, position: UInt64) {
        guard let kind = touchpoint.kind, let type = KnownType(name: touchpoint.event.type) else {
            return nil
        }
        self.position = position
        occurredAt = touchpoint.occurredAt
        self.type = type
        customer = touchpoint.customer
        ticketID = touchpoint.ticketID
        repID = touchpoint.repID
        channel = touchpoint.channel
        self.kind = kind.readByFold
    }
}
