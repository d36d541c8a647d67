import ArgumentParser
import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogProjections
import TouchlogStore

struct RepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rep",
        abstract: "Show a representative's timeline and stats.",
        discussion: "The timeline holds every catalog event whose repid names the rep, in event-time order.",
        subcommands: [RepTimelineCommand.self, RepStatsCommand.self])
}

struct RepTimelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "Every event naming the rep, in event-time order, with customer and ticket.",
        discussion: "Exit 66 for a rep that no event names.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var range: TimeRangeOptions
    @Argument(help: "The rep id (the events' repid).")
    var id: String

    func run() throws {
        let (from, to) = try range.range()
        try storeOptions.withProjections { _, projections in
            let entries = try projections.repTimeline(id, from: from, to: to)
            if entries.isEmpty { try requireRep(id, projections) }
            var buffer = OutputBuffer()
            for entry in entries {
                if output.json {
                    buffer.appendExactLine(try jsonLine(EntryJSON(entry)))
                    continue
                }
                var detail = ""
                if let score = entry.csatScore { detail = "  CSAT \(score)" }
                if entry.type == "ticket.replied" {
                    detail =
                        "  " + (entry.detail & 1 == 1 ? "public" : "private")
                        + (entry.detail & 2 == 2 ? "" : " (customer)")
                }
                buffer.appendLine(
                    "\(entry.occurredAt.rfc3339)  \(entry.type)  \(entry.customer)  \(entry.ticket ?? "-")\(detail)  (position \(entry.position))"
                )
            }
            buffer.flush()
            if entries.isEmpty && !output.json {
                Console.current.message("no events name rep '\(id)' (in that range)")
            }
        }
    }

    struct EntryJSON: Encodable {
        var rep: String
        var time: String
        var position: UInt64
        var type: String
        var customer: String
        var ticket: String?
        var csatScore: Int?
        var isPublic: Bool?

        init(_ entry: RepTimelineEntry) {
            rep = entry.rep
            time = entry.occurredAt.rfc3339
            position = entry.position
            type = entry.type
            customer = entry.customer
            ticket = entry.ticket
            csatScore = entry.csatScore
            isPublic = entry.type == "ticket.replied" ? entry.detail & 1 == 1 : nil
        }

        enum CodingKeys: String, CodingKey {
            case rep, time, position, type, customer, ticket, csatScore
            case isPublic = "public"
        }
    }
}

struct RepStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Assigned, solved, public replies, median first reply and CSAT over a range of event time.",
        discussion: """
            Median first reply: over the tickets whose first public rep reply was this rep's, within the range. \
            CSAT: the share of 4 and 5 among the feedback.csat events naming the rep. Exit 66 for a rep that no \
            event names.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var range: TimeRangeOptions
    @Argument(help: "The rep id (the events' repid).")
    var id: String

    func run() throws {
        let (from, to) = try range.range()
        try storeOptions.withProjections { _, projections in
            try requireRep(id, projections)
            let stats = try projections.repStats(id, from: from, to: to)
            let json = StatsJSON(stats, from: from, to: to)
            if output.json {
                Console.current.exactLine(try jsonLine(json))
                return
            }
            let share = stats.csatSatisfiedShare.map { String(format: "%.1f%%", $0 * 100) } ?? "-"
            Console.current.line(
                """
                rep                 \(id)
                range               \(from?.rfc3339 ?? "beginning") to \(to?.rfc3339 ?? "end")
                events              \(stats.events)
                assigned            \(stats.assigned)
                solved              \(stats.solved)
                public replies      \(stats.publicReplies)
                median first reply  \(formatMinutes(stats.medianFirstReplyMinutes)) minutes
                CSAT 4-5            \(share) of \(stats.csatRatings) ratings
                """)
        }
    }

    /// `rep stats --json`, also the body of the service's `GET /v1/reps/{id}/stats`.
    struct StatsJSON: Encodable {
        var rep: String
        var since: String?
        var until: String?
        var events: Int
        var assigned: Int
        var solved: Int
        var publicReplies: Int
        var medianFirstReplyMinutes: Double?
        var csatRatings: Int
        var csatSatisfiedShare: Double?

        init(_ stats: RepStats, from: Timestamp?, to: Timestamp?) {
            rep = stats.rep
            since = from?.rfc3339
            until = to?.rfc3339
            events = stats.events
            assigned = stats.assigned
            solved = stats.solved
            publicReplies = stats.publicReplies
            medianFirstReplyMinutes = stats.medianFirstReplyMinutes.map { (($0 * 100).rounded()) / 100 }
            csatRatings = stats.csatRatings
            csatSatisfiedShare = stats.csatSatisfiedShare.map { ($0 * 10_000).rounded() / 10_000 }
        }

        enum CodingKeys: String, CodingKey {
            case rep, since, until, events, assigned, solved, publicReplies, medianFirstReplyMinutes
            case csatRatings, csatSatisfiedShare
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(rep, forKey: .rep)
            try c.encode(since, forKey: .since)
            try c.encode(until, forKey: .until)
            try c.encode(events, forKey: .events)
            try c.encode(assigned, forKey: .assigned)
            try c.encode(solved, forKey: .solved)
            try c.encode(publicReplies, forKey: .publicReplies)
            try c.encode(medianFirstReplyMinutes, forKey: .medianFirstReplyMinutes)
            try c.encode(csatRatings, forKey: .csatRatings)
            try c.encode(csatSatisfiedShare, forKey: .csatSatisfiedShare)
        }
    }
}

/// Throws the "not found" failure when no event names rep `id` (at any time).
func requireRep(_ id: String, _ projections: ProjectionStore) throws {
    if try projections.repTimeline(id, from: nil, to: nil).isEmpty {
        throw CommandFailure.notFound("rep", id)
    }
}
