import CloudEvents
import TouchlogDomain
import TouchlogStore

/// The state of one ticket (DESIGN.md section 3), folded from every event that names it.
public struct TicketState: Sendable, Equatable {
    /// The `ticketid`.
    public var id: String
    /// The customer of the event that created the ticket (normally its `ticket.opened`).
    public var customer: String
    public var status: TicketStatus
    public var priority: Priority
    /// The channel of `ticket.opened`.
    public var channel: Channel?
    /// The rep of the latest `ticket.assigned`.
    public var assignee: String?
    /// The time of `ticket.opened`; nil while the log has none (an anomaly).
    public var openedAt: Timestamp?
    /// The earliest public reply by a rep (by event time), who wrote it and at which position.
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
    /// The target of `ticket.merged`.
    public var mergedInto: String?
    /// The latest event time among the ticket's events.
    public var lastEventAt: Timestamp
    /// The position of the last event applied.
    public var lastPosition: UInt64
    /// Whether the first reply came (or is already) later than the priority's target.
    public var firstReplyBreached: Bool
    /// Whether the resolution came (or is already) later than the priority's target.
    public var resolutionBreached: Bool
    /// Which SLA outcomes have been counted in the customer's loyalty (bit 0 first reply, bit 1 resolution).
    public var slaCounted: UInt8
    /// Events that broke the lifecycle, in log order: applied where they could be, never dropped.
    public var anomalies: [TicketAnomaly]

    init(id: String, customer: String, at time: Timestamp, position: UInt64) {
        self.id = id
        self.customer = customer
        status = .new
        priority = .normal
        channel = nil
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
        mergedInto = nil
        lastEventAt = time
        lastPosition = position
        firstReplyBreached = false
        resolutionBreached = false
        slaCounted = 0
        anomalies = []
    }

    /// Minutes from opened to the first public rep reply (fractional; nil without both).
    public var firstReplyMinutes: Double? { minutes(from: openedAt, to: firstReplyAt) }
    /// Minutes from opened to resolved (fractional; nil while unresolved).
    public var resolutionMinutes: Double? { minutes(from: openedAt, to: resolvedAt) }

    private func minutes(from start: Timestamp?, to end: Timestamp?) -> Double? {
        guard let start, let end else { return nil }
        return Double(max(0, end.microsecondsSinceEpoch - start.microsecondsSinceEpoch)) / 60_000_000
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
