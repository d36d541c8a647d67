import CloudEvents
import TouchlogDomain
import TouchlogStore

/// The state of one ticket (DESIGN.md section 3): the fold of every event that names it, in the order
/// of `EventOrder` (event time first), so that it does not depend on the order the events arrived in.
public struct TicketState: Sendable, Equatable {
    /// The `ticketid`.
    public var id: String
    /// The customer who owns the ticket: the customer of its (first) `ticket.opened`, or of its first
    /// event while it has none.
    public var customer: String
    public var status: TicketStatus
    public var priority: Priority
    /// The channel of `ticket.opened`.
    public var channel: Channel?
    /// The `source` of `ticket.opened` (which SLA targets apply may depend on it).
    public var source: String?
    /// The rep of the latest `ticket.assigned`.
    public var assignee: String?
    /// The time of `ticket.opened`; nil while the log has none (an anomaly).
    public var openedAt: Timestamp?
    /// The earliest public reply by a rep, who wrote it and at which position.
    public var firstReplyAt: Timestamp?
    public var firstReplyBy: String?
    public var firstReplyPosition: UInt64
    /// The latest `ticket.solved`.
    public var solvedAt: Timestamp?
    /// The latest `ticket.closed` or `ticket.merged`.
    public var closedAt: Timestamp?
    /// When the ticket was last resolved: solved, or closed or merged without a solve; cleared by a reopen.
    public var resolvedAt: Timestamp?
    public var reopens: Int
    /// Public replies by reps.
    public var publicReplies: Int
    public var escalations: Int
    /// Customer replies on the closed ticket: someone wrote and nobody will see it.
    public var followUps: Int
    /// The target of `ticket.merged`.
    public var mergedInto: String?
    /// The earliest and the latest event time among the ticket's events.
    public var firstEventAt: Timestamp
    public var lastEventAt: Timestamp
    /// The highest log position among the ticket's events.
    public var lastPosition: UInt64
    /// The SLA verdicts, as of the latest event of the ticket's customer (set by `settle`).
    public var firstReplyVerdict: SLAVerdict
    public var resolutionVerdict: SLAVerdict
    /// Events that broke the lifecycle, in the order they were applied: applied where they could be,
    /// never dropped.
    public var anomalies: [TicketAnomaly]
    /// The last event applied, in `EventOrder`: a later event is applied on top, an earlier one makes
    /// the ticket folded again from all its events.
    var watermark: EventOrder
    /// The log positions of the ticket's events, ascending: what a fold again reads.
    var eventPositions: [UInt64]

    public var firstReplyBreached: Bool { firstReplyVerdict == .breached }
    public var resolutionBreached: Bool { resolutionVerdict == .breached }

    /// A ticket before its first event, owned by `customer`.
    init(id: String, customer: String, firstEventAt: Timestamp) {
        self.id = id
        self.customer = customer
        status = .new
        priority = .normal
        channel = nil
        source = nil
        assignee = nil
        openedAt = nil
        firstReplyAt = nil
        firstReplyBy = nil
        firstReplyPosition = 0
        solvedAt = nil
        closedAt = nil
        resolvedAt = nil
        reopens = 0
        publicReplies = 0
        escalations = 0
        followUps = 0
        mergedInto = nil
        self.firstEventAt = firstEventAt
        lastEventAt = firstEventAt
        lastPosition = 0
        firstReplyVerdict = .pending
        resolutionVerdict = .pending
        anomalies = []
        watermark = .start
        eventPositions = []
    }

    /// Minutes from opened to the first public rep reply (fractional; nil without both).
    public var firstReplyMinutes: Double? { minutes(from: openedAt, to: firstReplyAt) }
    /// Minutes from opened to resolved (fractional; nil while unresolved).
    public var resolutionMinutes: Double? { minutes(from: openedAt, to: resolvedAt) }

    private func minutes(from start: Timestamp?, to end: Timestamp?) -> Double? {
        guard let start, let end else { return nil }
        return Double(max(0, end.microsecondsSinceEpoch - start.microsecondsSinceEpoch)) / 60_000_000
    }

    // MARK: Folding

    /// The ticket folded from all its events, which must be in `EventOrder` (verdicts pending until
    /// `settle`).
    static func folded(id: String, _ events: some Collection<FoldEvent>) -> TicketState? {
        guard let first = events.first else { return nil }
        var owner = first.customer
        for event in events {
            if case .ticketOpened = event.kind {
                owner = event.customer
                break
            }
        }
        var ticket = TicketState(id: id, customer: owner, firstEventAt: first.occurredAt)
        ticket.eventPositions.reserveCapacity(events.count)
        for event in events {
            ticket.apply(event)
            ticket.eventPositions.append(event.position)
        }
        ticket.eventPositions.sort()
        return ticket
    }

    /// Whether `event` (at `order`, newer in the log than every event applied) can be applied on top of
    /// this state and give what a fold of all the ticket's events gives: it comes after the last
    /// applied, and it is not an opening that would change the owner of a ticket that had none.
    func takesInOrder(_ event: FoldEvent, _ order: EventOrder) -> Bool {
        guard watermark < order else { return false }
        if openedAt == nil, case .ticketOpened = event.kind, event.customer != customer { return false }
        return true
    }

    /// Applies one event, the next in `EventOrder`.
    mutating func apply(_ event: FoldEvent) {
        let time = event.occurredAt
        var anomalies: [String] = []
        var reopened = false
        if event.customer != customer {
            anomalies.append(
                "the ticket belongs to customer '\(customer)', this event to '\(event.customer)'")
        }
        if case .ticketOpened(let priority, _) = event.kind, openedAt == nil, watermark != .start {
            // The opening comes after other events of the ticket in event time (they were recorded as
            // anomalies): take its fields, keep the status the ticket has reached.
            takeOpening(priority, event)
        } else if let transition = TicketLifecycle.apply(event.kind, to: watermark == .start ? nil : status) {
            status = transition.status
            reopened = transition.reopened
            if transition.followUp { followUps += 1 }
            // Before the opening (in event time) every event is an anomaly (L2); the lifecycle reports it
            // for the first, and goes on from the status reached for the others.
            let beforeOpening =
                openedAt == nil && watermark != .start ? TicketLifecycle.beforeOpeningAnomaly : nil
            let reasons = [beforeOpening, transition.anomaly].compactMap { $0 }
            if !reasons.isEmpty { anomalies.append(reasons.joined(separator: "; ")) }
            switch event.kind {
            case .ticketOpened(let priority, _) where openedAt == nil:
                takeOpening(priority, event)
            case .ticketAssigned:
                assignee = event.repID
            case .ticketReplied(let author, let isPublic) where author == .rep && isPublic:
                publicReplies += 1
                if firstReplyAt == nil {
                    firstReplyAt = time
                    firstReplyBy = event.repID
                    firstReplyPosition = event.position
                }
            case .ticketPriorityChanged(let priority):
                self.priority = priority
            case .ticketEscalated:
                escalations += 1
            case .ticketSolved:
                solvedAt = time
                resolvedAt = time
            case .ticketClosed:
                closedAt = time
                if resolvedAt == nil { resolvedAt = time }
            case .ticketMerged(let into):
                mergedInto = into
                closedAt = time
                if resolvedAt == nil { resolvedAt = time }
                if into == id { anomalies.append("merged into itself") }
            default:
                break
            }
        }
        if reopened {
            reopens += 1
            resolvedAt = nil
        }
        if time > lastEventAt { lastEventAt = time }
        if time < firstEventAt { firstEventAt = time }
        lastPosition = max(lastPosition, event.position)
        watermark = event.order
        for reason in anomalies {
            self.anomalies.append(
                TicketAnomaly(position: event.position, type: event.type.name, reason: reason))
        }
    }

    private mutating func takeOpening(_ priority: Priority, _ event: FoldEvent) {
        openedAt = event.occurredAt
        self.priority = priority
        channel = event.channel
        source = event.openingSource
    }

    /// Sets the SLA verdicts as of `now` (the latest event time of the ticket's customer) under `rules`;
    /// returns whether they changed.
    mutating func settle(now: Timestamp, rules: Rules) -> Bool {
        let (firstReply, resolution) = rules.slaVerdicts(
            priority: priority, source: source, channel: channel, opened: openedAt, firstReply: firstReplyAt,
            resolved: resolvedAt, now: now)
        defer {
            firstReplyVerdict = firstReply
            resolutionVerdict = resolution
        }
        return firstReply != firstReplyVerdict || resolution != resolutionVerdict
    }
}

/// An event that broke the ticket lifecycle.
public struct TicketAnomaly: Sendable, Equatable, Codable {
    /// The event's position in the log.
    public var position: UInt64
    /// The event's type.
    public var type: String
    /// What rule it broke.
    public var reason: String

    public init(position: UInt64, type: String, reason: String) {
        self.position = position
        self.type = type
        self.reason = reason
    }
}
