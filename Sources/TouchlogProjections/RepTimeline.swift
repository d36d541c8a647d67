import CloudEvents
import TouchlogDomain
import TouchlogStore

/// One event that names a rep (its `repid`), as the rep timeline keeps it.
public struct RepTimelineEntry: Sendable, Equatable {
    public var rep: String
    public var occurredAt: Timestamp
    public var position: UInt64
    /// The event type (a catalog type).
    public var type: String
    public var customer: String
    public var ticket: String?
    /// For `feedback.csat`, the score; for `ticket.replied`, bit 0 = public, bit 1 = written by a rep; else 0.
    public var detail: UInt8

    public init(
        rep: String, occurredAt: Timestamp, position: UInt64, type: String, customer: String, ticket: String?,
        detail: UInt8
    ) {
        self.rep = rep
        self.occurredAt = occurredAt
        self.position = position
        self.type = type
        self.customer = customer
        self.ticket = ticket
        self.detail = detail
    }

    /// Whether this is a public reply written by the rep.
    public var isPublicRepReply: Bool { type == "ticket.replied" && detail & 3 == 3 }
    /// The CSAT score, for a `feedback.csat` entry.
    public var csatScore: Int? { type == "feedback.csat" ? Int(detail) : nil }
}

/// A rep's work over a time range of event time.
public struct RepStats: Sendable, Equatable {
    public var rep: String
    /// Events of the timeline in the range.
    public var events: Int
    /// `ticket.assigned` to the rep.
    public var assigned: Int
    /// `ticket.solved` naming the rep.
    public var solved: Int
    /// Public replies written by the rep.
    public var publicReplies: Int
    /// Median minutes to first reply over the tickets whose first public rep reply was the rep's, in the range.
    public var medianFirstReplyMinutes: Double?
    /// CSAT ratings naming the rep, and the share of them that are 4 or 5.
    public var csatRatings: Int
    public var csatSatisfiedShare: Double?

    public init(rep: String) {
        self.rep = rep
        events = 0
        assigned = 0
        solved = 0
        publicReplies = 0
        medianFirstReplyMinutes = nil
        csatRatings = 0
        csatSatisfiedShare = nil
    }

    /// The median of `values` (the mean of the middle two for an even count); nil when empty.
    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
