/// A ticket's status in the help-desk lifecycle (DESIGN.md section 3).
public enum TicketStatus: String, Sendable, CaseIterable, Codable {
    case new, open, pending
    case onHold = "on_hold"
    case solved, closed
}

/// The help-desk lifecycle: what an event does to a ticket's status.
///
/// `ticket.opened` makes a ticket new; assignment or a public rep reply moves new to open; a customer
/// reply on pending, on hold or solved moves it to open (from solved, a reopen); nothing returns to new;
/// closed is terminal. An event that breaks these rules is still applied where it can be, and reported
/// as an anomaly: it is never dropped.
public enum TicketLifecycle {
    /// The result of applying one event to a ticket.
    public struct Transition: Sendable, Equatable {
        /// The status after the event.
        public var status: TicketStatus
        /// Whether the event reopened a solved ticket.
        public var reopened: Bool
        /// Why the event broke the lifecycle, if it did.
        public var anomaly: String?
    }

    /// Applies `kind` to a ticket whose status is `current` (nil: the ticket was never opened).
    /// Returns nil for kinds that do not touch a ticket's status.
    public static func apply(_ kind: TouchpointKind, to current: TicketStatus?) -> Transition? {
        func to(_ status: TicketStatus, reopened: Bool = false, anomaly: String? = nil) -> Transition {
            var anomaly = anomaly
            if anomaly == nil, current == nil {
                anomaly = "event on a ticket that was never opened"
            }
            if anomaly == nil, current == .closed, status != .closed {
                anomaly =
                    "ticket changed after it was closed (\(TicketStatus.closed.rawValue) -> \(status.rawValue))"
            }
            return Transition(status: status, reopened: reopened, anomaly: anomaly)
        }
        let status = current ?? .new
        switch kind {
        case .ticketOpened:
            if let current {
                return Transition(
                    status: current, reopened: false,
                    anomaly: "ticket opened again (it is \(current.rawValue))")
            }
            return Transition(status: .new, reopened: false, anomaly: nil)
        case .ticketAssigned:
            return to(status == .new ? .open : status)
        case .ticketReplied(let author, let isPublic):
            switch (author, status) {
            case (.rep, .new) where isPublic: return to(.open)
            case (.customer, .pending), (.customer, .onHold): return to(.open)
            case (.customer, .solved): return to(.open, reopened: true)
            default: return to(status)
            }
        case .ticketStatusChanged(let target):
            let next: TicketStatus =
                switch target {
                case .open: .open
                case .pending: .pending
                case .onHold: .onHold
                }
            return to(next)
        case .ticketSolved:
            return to(.solved)
        case .ticketReopened:
            guard status == .solved || status == .closed else {
                return to(status, anomaly: "reopened while \(status.rawValue) (only solved tickets reopen)")
            }
            return to(.open, reopened: true)
        case .ticketClosed:
            return to(.closed)
        case .ticketMerged:
            return to(.closed)
        case .ticketPriorityChanged, .ticketEscalated:
            return to(status)
        default:
            return nil
        }
    }
}
