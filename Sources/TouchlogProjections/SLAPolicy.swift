import CloudEvents
import TouchlogDomain

/// What a ticket's history says about one service-level target.
public enum SLAVerdict: UInt8, Sendable, CaseIterable {
    /// Not decided yet: the target time has not passed (in event time).
    case pending
    case met
    case breached
    /// The ticket's events cannot show it (resolved with no reply recorded, or never opened).
    case unknown
    /// The rules do not apply this target to the ticket.
    case notApplicable

    /// The name in output.
    public var name: String {
        switch self {
        case .pending: "pending"
        case .met: "met"
        case .breached: "breached"
        case .unknown: "unknown"
        case .notApplicable: "not_applicable"
        }
    }
}

extension Rules {
    /// The verdicts on a ticket's first-reply and resolution targets, as of `now` (the latest event
    /// time of the ticket's customer: event time, never the wall clock).
    public func slaVerdicts(
        priority: Priority, source: String?, channel: Channel?, opened: Timestamp?, firstReply: Timestamp?,
        resolved: Timestamp?, now: Timestamp
    ) -> (firstReply: SLAVerdict, resolution: SLAVerdict) {
        guard let opened else { return (.unknown, .unknown) }
        let target = self.target(for: priority)
        func verdict(_ end: Timestamp?, _ minutes: Int64, unknownWithoutEnd: Bool) -> SLAVerdict {
            let limit = minutes * 60_000_000
            if let end {
                return end.microsecondsSinceEpoch - opened.microsecondsSinceEpoch > limit ? .breached : .met
            }
            if unknownWithoutEnd { return .unknown }
            return now.microsecondsSinceEpoch - opened.microsecondsSinceEpoch > limit ? .breached : .pending
        }
        return (
            verdict(firstReply, target.firstReplyMinutes, unknownWithoutEnd: resolved != nil),
            verdict(resolved, target.resolutionMinutes, unknownWithoutEnd: false)
        )
    }

    /// `raw` rounded to two decimals (half away from zero) and clamped to 0...100: the score shown,
    /// which decides the tier.
    public func roundedScore(_ raw: Double) -> Double {
        min(100, max(0, (raw * 100).rounded(.toNearestOrAwayFromZero) / 100))
    }
}
