import ArgumentParser
import CloudEvents
import Foundation
import TouchlogStore

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay one customer's full history in order, each event with what it changed.",
        discussion: """
            Events come in stream order (the order the log appended them). --until keeps events that \
            happened at or before TIME (event time); --as-known-at keeps events the log had recorded at or \
            before TIME (recorded time). Both together show what was known at one moment about another.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "The customer id (the events' subject).")
    var customer: String
    @Option(help: ArgumentHelp("Only events that happened at or before this RFC 3339 time.", valueName: "time"))
    var until: String?
    @Option(help: ArgumentHelp("Only events the log had recorded at or before this RFC 3339 time.", valueName: "time"))
    var asKnownAt: String?

    func run() throws {
        let untilTime = try until.map { try parseTime($0, option: "--until") }
        let knownAt = try asKnownAt.map { try parseTime($0, option: "--as-known-at") }
        try storeOptions.withLog(create: false) { log in
            let events = try log.stream(ofCustomer: customer, occurredUntil: untilTime, recordedUntil: knownAt)
            var buffer = OutputBuffer()
            if output.json {
                for stored in events { buffer.write { stored.writeJSON(into: &$0); $0.append(0x0a) } }
                buffer.flush()
                return
            }
            if events.isEmpty {
                Console.current.message("no events for customer '\(customer)' (with the cuts given)")
            }
            var narrator = ReplayNarrator()
            for stored in events {
                buffer.appendLine(
                    "v\(stored.version)  \(stored.event.time ?? stored.occurredAt.rfc3339)  \(stored.event.type)"
                        + "  (position \(stored.position), recorded \(stored.recordedAt.rfc3339))")
                for change in narrator.apply(stored) { buffer.appendLine("    \(change)") }
            }
            buffer.flush()
        }
    }
}

/// Folds one customer's events and says, for each, what it changed: ticket statuses, assignees,
/// priorities, ratings and order value.
struct ReplayNarrator {
    private struct Ticket {
        var status: TicketStatus?
        var priority: Priority?
        var assignee: String?
        var reopens = 0
    }

    private var tickets: [String: Ticket] = [:]
    private var orderValue: [String: Decimal2] = [:]

    mutating func apply(_ stored: StoredEvent) -> [String] {
        let touchpoint: Touchpoint
        do { touchpoint = try Touchpoint(validating: stored.event) } catch {
            return ["not interpreted: \(error.description)"]
        }
        guard let kind = touchpoint.kind else { return ["type '\(stored.event.type)' is not in the catalog: stored, not interpreted"] }
        var changes: [String] = []
        if let ticketID = touchpoint.ticketID, let change = applyToTicket(ticketID, kind, touchpoint, &changes) {
            changes.insert(change, at: 0)
        }
        switch kind {
        case .contactReceived(let summary):
            changes.append("customer reached out via \(touchpoint.channel?.rawValue ?? "?")" + quoted(summary))
        case .contactSent(let summary):
            changes.append("\(touchpoint.repID ?? "a rep") reached out via \(touchpoint.channel?.rawValue ?? "?")" + quoted(summary))
        case .csat(let score): changes.append("CSAT \(score) of 5")
        case .nps(let score): changes.append("NPS \(score) of 10")
        case .ces(let score): changes.append("effort score \(score) of 7")
        case .orderPlaced(let order, let amount, let currency):
            orderValue[currency, default: Decimal2(cents: 0)].cents += amount.cents
            changes.append("order \(order) placed: \(amount) \(currency); net order value \(orderValue[currency]!) \(currency)")
        case .orderRefunded(let order, let amount, let currency):
            orderValue[currency, default: Decimal2(cents: 0)].cents -= amount.cents
            changes.append("order \(order) refunded: \(amount) \(currency); net order value \(orderValue[currency]!) \(currency)")
        case .selfServiceViewed(let article): changes.append("viewed help article \(article)")
        default: break
        }
        return changes
    }

    private mutating func applyToTicket(
        _ id: String, _ kind: TouchpointKind, _ touchpoint: Touchpoint, _ notes: inout [String]
    ) -> String? {
        var ticket = tickets[id] ?? Ticket()
        defer { tickets[id] = ticket }
        guard let transition = TicketLifecycle.apply(kind, to: ticket.status) else { return nil }
        var parts: [String] = []
        let before = ticket.status
        if before != transition.status {
            parts.append("status \(before?.rawValue ?? "none") → \(transition.status.rawValue)")
        }
        ticket.status = transition.status
        if transition.reopened {
            ticket.reopens += 1
            parts.append("reopen #\(ticket.reopens)")
        }
        switch kind {
        case .ticketOpened(let priority, let summary):
            ticket.priority = priority
            parts.append("priority \(priority.rawValue), via \(touchpoint.channel?.rawValue ?? "?")" + quoted(summary))
        case .ticketAssigned:
            if let rep = touchpoint.repID, rep != ticket.assignee {
                parts.append("assignee \(ticket.assignee ?? "none") → \(rep)")
                ticket.assignee = rep
            }
        case .ticketPriorityChanged(let priority):
            parts.append("priority \(ticket.priority?.rawValue ?? "none") → \(priority.rawValue)")
            ticket.priority = priority
        case .ticketReplied(let author, let isPublic):
            parts.append("\(isPublic ? "public" : "private") reply by \(author == .rep ? touchpoint.repID ?? "a rep" : "the customer")")
        case .ticketEscalated(let level, let reason):
            parts.append("escalated" + (level.map { " to level \($0)" } ?? "") + quoted(reason))
        case .ticketMerged(let into):
            parts.append("merged into \(into)")
        default:
            break
        }
        if let anomaly = transition.anomaly { notes.append("anomaly: \(anomaly)") }
        return "\(id): " + (parts.isEmpty ? "no change" : parts.joined(separator: ", "))
    }

    private func quoted(_ text: String?) -> String {
        text.map { ": \"\($0)\"" } ?? ""
    }
}
