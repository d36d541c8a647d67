/// A ticket's status in the help-desk lifecycle (DESIGN.md section 3).
public enum TicketStatus: String, Sendable, CaseIterable, Codable {
    case new, open, pending
    case onHold = "on_hold"
    case solved, closed
}

/// The help-desk lifecycle: what an event does to a ticket's status. The rules, L1 to L9, are stated
/// in docs/PROJECTIONS.md ("Ticket lifecycle"); each is marked below where it is applied.
///
/// An event that breaks the lifecycle is still applied where it can be and reported as an anomaly:
/// it is never dropped (real exports contain Closed -> Active). The status and the reopen are decided
/// here; the fields an event carries (assignee, priority, times) are applied by the fold.
public enum TicketLifecycle {
    /// The result of applying one event to a ticket.
    public struct Transition: Sendable, Equatable {
        /// The status after the event.
        public var status: TicketStatus
        /// Whether the event reopened a solved (or closed) ticket: the ticket's reopens count it.
        public var reopened: Bool
        /// Whether a customer wrote on a closed ticket, where nobody will see it: someone must follow
        /// up outside the ticket (L8).
        public var followUp: Bool
        /// Why the event broke the lifecycle, if it did.
        public var anomaly: String?

        public init(
            status: TicketStatus, reopened: Bool = false, followUp: Bool = false, anomaly: String? = nil
        ) {
            self.status = status
            self.reopened = reopened
            self.followUp = followUp
            self.anomaly = anomaly
        }
    }

    /// The anomaly of an event that no `ticket.opened` precedes in event time (L2).
    public static let beforeOpeningAnomaly = "happened before the ticket was opened"
    /// The anomaly of a customer reply on a closed ticket (L8).
    public static let customerWroteOnClosedAnomaly = "customer wrote on a closed ticket; nobody will see it"

    /// Applies `kind` to a ticket whose status is `current`; `current` is nil when no `ticket.opened`
    /// precedes the event in event-time order. Returns nil for kinds that do not concern a ticket.
    public static func apply(_ kind: TouchpointKind, to current: TicketStatus?) -> Transition? {
        guard let type = kind.ticketType else { return nil }
        guard let current else {
            // L1: the opening makes the ticket new.
            if case .ticketOpened = kind { return Transition(status: .new) }
            // L2: applied as if from new, and reported (with whatever else the event breaks).
            var transition = step(kind, from: .new)
            transition.anomaly = [beforeOpeningAnomaly, transition.anomaly].compactMap { $0 }.joined(
                separator: "; ")
            return transition
        }
        if current == .closed { return afterClosing(kind, type: type) }
        return step(kind, from: current)
    }

    /// L1 and L3 to L7, L9: `kind` on a ticket that is open in the wide sense (not closed).
    private static func step(_ kind: TouchpointKind, from current: TicketStatus) -> Transition {
        switch kind {
        case .ticketOpened:
            // L1
            return Transition(status: current, anomaly: "ticket opened again (it is \(current.rawValue))")
        case .ticketAssigned, .ticketReplied(.rep, isPublic: true):
            // L3
            return Transition(status: current == .new ? .open : current)
        case .ticketReplied(.customer, _):
            // L4
            switch current {
            case .pending, .onHold: return Transition(status: .open)
            case .solved: return Transition(status: .open, reopened: true)
            default: return Transition(status: current)
            }
        case .ticketStatusChanged(let target):
            // L5: leaving solved for open, pending or on hold is a reopen.
            return Transition(status: TicketStatus(target), reopened: current == .solved)
        case .ticketSolved:
            // L6
            return Transition(status: .solved)
        case .ticketReopened:
            // L6
            if current == .solved { return Transition(status: .open, reopened: true) }
            return Transition(
                status: current, anomaly: "reopened while \(current.rawValue) (only solved tickets reopen)")
        case .ticketClosed, .ticketMerged:
            // L7
            return Transition(status: .closed)
        default:
            // L3 (a private rep reply), L9 (priority change, escalation).
            return Transition(status: current)
        }
    }

    /// L8: `kind` (of type `type`) on a closed ticket. Always an anomaly; a status change, solve or
    /// reopen is applied (a reopen counts), a customer reply leaves the ticket closed for follow-up.
    private static func afterClosing(_ kind: TouchpointKind, type: KnownType) -> Transition {
        let next: TicketStatus
        var reopened = false
        switch kind {
        case .ticketReplied(.customer, _):
            return Transition(status: .closed, followUp: true, anomaly: customerWroteOnClosedAnomaly)
        case .ticketStatusChanged(let target):
            next = TicketStatus(target)
        case .ticketSolved:
            next = .solved
        case .ticketReopened:
            next = .open
            reopened = true
        default:
            next = .closed
        }
        var anomaly = "\(type.name) after it was closed"
        if next != .closed { anomaly += " (closed -> \(next.rawValue))" }
        return Transition(status: next, reopened: reopened, anomaly: anomaly)
    }
}

extension TicketStatus {
    /// The status a `ticket.status_changed` sets.
    fileprivate init(_ settable: SettableStatus) {
        switch settable {
        case .open: self = .open
        case .pending: self = .pending
        case .onHold: self = .onHold
        }
    }
}

extension TouchpointKind {
    /// The type of a kind that concerns a ticket; nil for the others (contacts, feedback, orders and
    /// self-service may carry a `ticketid` without changing the ticket).
    fileprivate var ticketType: KnownType? {
        switch self {
        case .ticketOpened: .ticketOpened
        case .ticketAssigned: .ticketAssigned
        case .ticketReplied: .ticketReplied
        case .ticketStatusChanged: .ticketStatusChanged
        case .ticketPriorityChanged: .ticketPriorityChanged
        case .ticketEscalated: .ticketEscalated
        case .ticketSolved: .ticketSolved
        case .ticketReopened: .ticketReopened
        case .ticketClosed: .ticketClosed
        case .ticketMerged: .ticketMerged
        default: nil
        }
    }
}
