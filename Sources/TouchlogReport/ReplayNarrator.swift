import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogProjections
import TouchlogStore

/// Folds one customer's events with the real projection fold (the active rules) and says, for each,
/// what it changed and the ticket and loyalty state it produced.
public struct ReplayNarrator {
    private var fold: ProjectionFold
    private var orderValue: [String: Decimal2] = [:]

    public init(rules: Rules) { fold = ProjectionFold(rules: rules) }

    /// Every ticket the events applied so far touched, in the state they left it.
    public var tickets: [String: TicketState] { fold.tickets }

    /// Minutes with at most two decimals, "-" for none: as `ticket show` and replay print them.
    public static func formatMinutes(_ minutes: Double?) -> String {
        guard let minutes else { return "-" }
        return String(format: "%.2f", minutes).replacingOccurrences(of: ".00", with: "")
    }

    /// Applies `stored` and says what it changed, one line a change (ticket, rating, order, loyalty).
    public mutating func apply(_ stored: StoredEvent) -> [String] {
        if let system = SystemType(rawValue: stored.event.type) { return [system.summary] }
        let touchpoint: Touchpoint
        do { touchpoint = try Touchpoint(validating: stored.event) } catch {
            return ["not interpreted: \(error.description)"]
        }
        guard let kind = touchpoint.kind else {
            return ["type '\(stored.event.type)' is not in the catalog: stored, not interpreted"]
        }
        let ticketID = touchpoint.ticketID
        let before = ticketID.flatMap { fold.ticket($0) }
        fold.apply(stored)
        var changes: [String] = []
        if let ticketID, let after = fold.ticket(ticketID), after.lastPosition == stored.position {
            changes.append(describeTicket(ticketID, before, after, kind, touchpoint))
            for anomaly in after.anomalies.dropFirst(before?.anomalies.count ?? 0) {
                changes.append("anomaly: \(anomaly.reason)")
            }
            changes.append("  state: " + ticketState(after))
        }
        switch kind {
        case .contactReceived(let summary):
            changes.append(
                "customer reached out via \(touchpoint.channel?.rawValue ?? "?")" + quoted(summary))
        case .contactSent(let summary):
            changes.append(
                "\(touchpoint.repID ?? "a rep") reached out via \(touchpoint.channel?.rawValue ?? "?")"
                    + quoted(summary))
        case .csat(let score): changes.append("CSAT \(score) of 5")
        case .nps(let score): changes.append("NPS \(score) of 10")
        case .ces(let score): changes.append("effort score \(score) of 7")
        case .orderPlaced(let order, let amount, let currency):
            orderValue[currency, default: Decimal2(cents: 0)].cents += amount.cents
            changes.append(
                "order \(order) placed: \(amount) \(currency); net order value \(orderValue[currency]!) \(currency)"
            )
        case .orderRefunded(let order, let amount, let currency):
            orderValue[currency, default: Decimal2(cents: 0)].cents -= amount.cents
            changes.append(
                "order \(order) refunded: \(amount) \(currency); net order value \(orderValue[currency]!) \(currency)"
            )
        case .selfServiceViewed(let article): changes.append("viewed help article \(article)")
        default: break
        }
        if let loyalty = fold.customer(stored.customerKey) {
            let parts = loyalty.parts(fold.rules)
            changes.append(
                String(
                    format: "loyalty %.2f (%@): satisfaction %+.2f, service %+.2f, value %+.2f",
                    loyalty.score, loyalty.tier,
                    parts.satisfaction, parts.service, parts.value))
        }
        return changes
    }

    private func describeTicket(
        _ id: String, _ before: TicketState?, _ after: TicketState, _ kind: TouchpointKind,
        _ touchpoint: Touchpoint
    ) -> String {
        var parts: [String] = []
        if before?.status != after.status {
            parts.append("status \(before?.status.rawValue ?? "none") → \(after.status.rawValue)")
        }
        if after.reopens > (before?.reopens ?? 0) { parts.append("reopen #\(after.reopens)") }
        switch kind {
        case .ticketOpened(_, let summary):
            parts.append(
                "priority \(after.priority.rawValue), via \(after.channel?.rawValue ?? "?")" + quoted(summary)
            )
        case .ticketAssigned:
            if before?.assignee != after.assignee {
                parts.append("assignee \(before?.assignee ?? "none") → \(after.assignee ?? "none")")
            }
        case .ticketPriorityChanged:
            parts.append("priority \(before?.priority.rawValue ?? "none") → \(after.priority.rawValue)")
        case .ticketReplied(let author, let isPublic):
            parts.append(
                "\(isPublic ? "public" : "private") reply by \(author == .rep ? touchpoint.repID ?? "a rep" : "the customer")"
            )
        case .ticketEscalated(let level, let reason):
            parts.append("escalated" + (level.map { " to level \($0)" } ?? "") + quoted(reason))
        case .ticketMerged(let into):
            parts.append("merged into \(into)")
        default:
            break
        }
        if after.firstReplyBreached && !(before?.firstReplyBreached ?? false) {
            parts.append("first-reply SLA breached")
        }
        if after.resolutionBreached && !(before?.resolutionBreached ?? false) {
            parts.append("resolution SLA breached")
        }
        return "\(id): " + (parts.isEmpty ? "no change" : parts.joined(separator: ", "))
    }

    private func ticketState(_ ticket: TicketState) -> String {
        var text =
            "\(ticket.status.rawValue), \(ticket.priority.rawValue), assignee \(ticket.assignee ?? "-")"
        text +=
            ", reopens \(ticket.reopens), replies \(ticket.publicReplies), escalations \(ticket.escalations)"
        text += ", first reply \(Self.formatMinutes(ticket.firstReplyMinutes)) min"
        text += ticket.firstReplyBreached ? " (breached)" : ""
        text += ", resolution \(Self.formatMinutes(ticket.resolutionMinutes)) min"
        text += ticket.resolutionBreached ? " (breached)" : ""
        return text
    }

    private func quoted(_ text: String?) -> String {
        text.map { ": \"\($0)\"" } ?? ""
    }
}
