import ArgumentParser
import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogProjections
import TouchlogStore

struct TicketCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ticket",
        abstract: "Show tickets as the projections fold them: status, times, SLA flags, anomalies.",
        subcommands: [TicketShowCommand.self, TicketListCommand.self])
}

struct TicketShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one ticket.",
        discussion: """
            Minutes are from ticket.opened to the first public rep reply and to the resolution (the latest \
            solve, or a close or merge without one), in event time. An SLA flag is breached when that took \
            longer than the target of the ticket's priority in the rules, or when the ticket has no reply \
            (resolution) yet and one of its events is already later than the target. Anomalies are events \
            that broke the lifecycle: applied where they could be, never dropped. Exit 66 for an unknown ticket.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The ticket id (the events' ticketid).")
    var id: String

    func run() throws {
        try storeOptions.withProjections { _, projections in
            guard let ticket = try projections.ticket(id) else {
                throw CommandFailure.notFound("ticket", id)
            }
            if output.json {
                Console.current.exactLine(try jsonLine(TicketJSON(ticket)))
                return
            }
            let rules = try projections.activeRules() ?? .default
            let target = rules.target(for: ticket.priority)
            func time(_ value: Timestamp?) -> String { value?.rfc3339 ?? "-" }
            func sla(_ minutes: Double?, _ limit: Int64, _ breached: Bool) -> String {
                "\(formatMinutes(minutes)) minutes (target \(limit), \(breached ? "breached" : minutes == nil ? "not breached yet" : "met"))"
            }
            var lines: [TerminalText] = [
                "ticket       \(ticket.id)",
                "customer     \(ticket.customer)",
                "status       \(ticket.status.rawValue)",
                "priority     \(ticket.priority.rawValue)",
                "channel      \(ticket.channel?.rawValue ?? "-")",
                "assignee     \(ticket.assignee ?? "-")",
                "opened       \(time(ticket.openedAt))",
                "first reply  \(time(ticket.firstReplyAt))\(ticket.firstReplyBy.map { " by \($0)" } ?? "")",
                "  SLA        \(sla(ticket.firstReplyMinutes, target.firstReplyMinutes, ticket.firstReplyBreached))",
                "solved       \(time(ticket.solvedAt))",
                "closed       \(time(ticket.closedAt))",
                "resolution   \(sla(ticket.resolutionMinutes, target.resolutionMinutes, ticket.resolutionBreached))",
                "reopens      \(ticket.reopens)",
                "replies      \(ticket.publicReplies)",
                "escalations  \(ticket.escalations)",
                "merged into  \(ticket.mergedInto ?? "-")",
                "anomalies    \(ticket.anomalies.isEmpty ? "none" : String(ticket.anomalies.count))",
            ]
            for anomaly in ticket.anomalies {
                lines.append("  position \(anomaly.position) (\(anomaly.type)): \(anomaly.reason)")
            }
            for line in lines { Console.current.line(line) }
        }
    }
}

struct TicketListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List tickets by id, optionally filtered by status, assignee or customer.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @Option(
        help: "Only tickets with this status: new, open, pending, on_hold, solved, closed.",
        completion: .list(TicketStatus.allCases.map(\.rawValue)))
    var status: String?
    @Option(help: "Only tickets assigned to this rep.")
    var rep: String?
    @Option(help: "Only tickets of this customer.")
    var customer: String?

    func validate() throws {
        if let status, TicketStatus(rawValue: status) == nil {
            throw ValidationError(
                "--status must be one of \(TicketStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        try storeOptions.withProjections { _, projections in
            let tickets = try projections.tickets(
                status: status.flatMap(TicketStatus.init), rep: rep, customer: customer)
            var buffer = OutputBuffer()
            for ticket in tickets {
                if output.json {
                    buffer.appendExactLine(try jsonLine(TicketJSON(ticket)))
                    continue
                }
                var flags: [String] = []
                if ticket.firstReplyBreached { flags.append("first reply breached") }
                if ticket.resolutionBreached { flags.append("resolution breached") }
                if !ticket.anomalies.isEmpty { flags.append("\(ticket.anomalies.count) anomalies") }
                buffer.appendLine(
                    "\(ticket.id)  \(ticket.status.rawValue)  \(ticket.priority.rawValue)  \(ticket.customer)  \(ticket.assignee ?? "-")  reopens \(ticket.reopens)  \(flags.isEmpty ? "ok" : flags.joined(separator: ", "))"
                )
            }
            buffer.flush()
            if tickets.isEmpty && !output.json { Console.current.message("no tickets match") }
        }
    }
}

/// `ticket show --json`: the fields issue 3 names, and a few more.
struct TicketJSON: Encodable {
    var ticket: TicketState
    init(_ ticket: TicketState) { self.ticket = ticket }

    enum Key: String, CodingKey {
        case id, customer, status, priority, channel, assignee, reopens, replies, escalations
        case firstReplyMinutes = "first_reply_minutes"
        case resolutionMinutes = "resolution_minutes"
        case slaFirstReplyBreached = "sla_first_reply_breached"
        case slaResolutionBreached = "sla_resolution_breached"
        case anomalies, opened
        case firstReply = "first_reply"
        case firstReplyBy = "first_reply_by"
        case solved, closed
        case mergedInto = "merged_into"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(ticket.id, forKey: .id)
        try c.encode(ticket.customer, forKey: .customer)
        try c.encode(ticket.status.rawValue, forKey: .status)
        try c.encode(ticket.priority.rawValue, forKey: .priority)
        try c.encode(ticket.channel?.rawValue, forKey: .channel)
        try c.encode(ticket.assignee, forKey: .assignee)
        try c.encode(ticket.reopens, forKey: .reopens)
        try c.encode(ticket.publicReplies, forKey: .replies)
        try c.encode(ticket.escalations, forKey: .escalations)
        try c.encode(ticket.firstReplyMinutes.map(roundedScore), forKey: .firstReplyMinutes)
        try c.encode(ticket.resolutionMinutes.map(roundedScore), forKey: .resolutionMinutes)
        try c.encode(ticket.firstReplyBreached, forKey: .slaFirstReplyBreached)
        try c.encode(ticket.resolutionBreached, forKey: .slaResolutionBreached)
        try c.encode(ticket.anomalies, forKey: .anomalies)
        try c.encode(ticket.openedAt?.rfc3339, forKey: .opened)
        try c.encode(ticket.firstReplyAt?.rfc3339, forKey: .firstReply)
        try c.encode(ticket.firstReplyBy, forKey: .firstReplyBy)
        try c.encode(ticket.solvedAt?.rfc3339, forKey: .solved)
        try c.encode(ticket.closedAt?.rfc3339, forKey: .closed)
        try c.encode(ticket.mergedInto, forKey: .mergedInto)
    }
}
