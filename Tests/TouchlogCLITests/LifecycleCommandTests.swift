import Foundation
import Testing

/// The ticket lifecycle's rules (docs/PROJECTIONS.md, L1-L9) through the command line: a few events of
/// one ticket are ingested into a fresh store, then `ticket show --json` and `replay` are read.
@Suite struct LifecycleCommandTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    /// One event of ticket t1 of customer c1: its type, rep and `data`.
    struct Step: Sendable, CustomTestStringConvertible {
        var type: String
        var rep: String?
        var data: String?
        var testDescription: String { type + (data.map { " " + $0 } ?? "") }

        static let opened = Step(type: "ticket.opened")
        static func assigned(_ rep: String = "r1") -> Step { Step(type: "ticket.assigned", rep: rep) }
        static func repReply(public isPublic: Bool = true) -> Step {
            Step(type: "ticket.replied", rep: "r1", data: #"{"author":"rep","public":\#(isPublic)}"#)
        }
        static let customerReply = Step(type: "ticket.replied", data: #"{"author":"customer"}"#)
        static func status(_ status: String) -> Step {
            Step(type: "ticket.status_changed", data: #"{"status":"\#(status)"}"#)
        }
        static func priority(_ priority: String) -> Step {
            Step(type: "ticket.priority_changed", data: #"{"priority":"\#(priority)"}"#)
        }
        static let escalated = Step(type: "ticket.escalated", data: #"{"level":"2"}"#)
        static let solved = Step(type: "ticket.solved", rep: "r1")
        static let reopened = Step(type: "ticket.reopened")
        static let closed = Step(type: "ticket.closed")
        static let merged = Step(type: "ticket.merged", data: #"{"into":"t2"}"#)
    }

    /// What the command line shows of ticket t1 after the steps.
    struct Shown {
        var ticket: [String: Any]
        /// The replay of customer c1, one entry per event (its heading and what it changed).
        var replay: [String]
        var status: String? { ticket["status"] as? String }
        var reopens: Int? { ticket["reopens"] as? Int }
        /// The ticket's anomalies as "POSITION TYPE: REASON".
        var anomalies: [String] {
            (ticket["anomalies"] as? [[String: Any]] ?? []).map {
                "\($0["position"] as? Int ?? 0) \($0["type"] as? String ?? "?"): \($0["reason"] as? String ?? "?")"
            }
        }
    }

    /// Ingests `steps` (a minute apart, in event-time order; positions are 1, 2, ...) and reads t1 back.
    func run(_ steps: [Step]) throws -> Shown {
        let lines = steps.enumerated().map { index, step in
            var line =
                #"{"specversion":"1.0","id":"\#(index + 1)","source":"urn:lifecycle","type":"\#(step.type)","subject":"c1","#
                + #""time":"2024-05-01T10:\#(String(format: "%02d", index)):00Z","ticketid":"t1","channel":"chat""#
            if let rep = step.rep { line += #","repid":"\#(rep)""# }
            if let data = step.data { line += #","data":\#(data)"# }
            return line + "}"
        }
        let ingest = workspace.run("ingest", try workspace.file("events.jsonl", lines: lines))
        try #require(ingest.exitCode == 0, "\(ingest.error)")
        let shown = workspace.run("ticket", "show", "t1", "--json")
        try #require(shown.exitCode == 0, "\(shown.error)")
        let ticket = try #require(
            try JSONSerialization.jsonObject(with: Data(shown.output.utf8)) as? [String: Any])
        let replay = workspace.run("replay", "--customer", "c1")
        try #require(replay.exitCode == 0, "\(replay.error)")
        var entries: [String] = []
        for line in replay.outputLines {
            if line.hasPrefix("v") {
                entries.append(line)
            } else if !entries.isEmpty {
                entries[entries.count - 1] += "\n" + line
            }
        }
        try #require(entries.count == steps.count, "\(replay.output)")
        return Shown(ticket: ticket, replay: entries)
    }

    @Test func l1AnOpeningMakesTheTicketNewAndASecondOneIsAnAnomaly() throws {
        let shown = try run([.opened, .assigned(), .opened])
        #expect(shown.status == "open")
        #expect(shown.reopens == 0)
        #expect(shown.anomalies == ["3 ticket.opened: ticket opened again (it is open)"])
        #expect(shown.replay[0].contains("t1: status none → new"))
        #expect(shown.replay[2].contains("anomaly: ticket opened again (it is open)"))
        #expect(!shown.replay[2].contains("status open →"))
    }

    @Test func l2AnEventBeforeTheOpeningIsAppliedAsIfFromNewAndIsAnAnomaly() throws {
        let shown = try run([.assigned(), .opened, .customerReply])
        #expect(shown.status == "open")
        #expect(shown.ticket["assignee"] as? String == "r1")
        #expect(shown.anomalies == ["1 ticket.assigned: happened before the ticket was opened"])
        #expect(shown.replay[0].contains("t1: status none → open"))
        #expect(shown.replay[0].contains("anomaly: happened before the ticket was opened"))
    }

    @Test func l3AssignmentOrAPublicRepReplyMovesNewToOpen() throws {
        let byReply = try run([
            .opened, .repReply(public: false), .repReply(), .status("pending"), .repReply(),
        ])
        #expect(byReply.status == "pending")
        #expect(byReply.anomalies.isEmpty)
        #expect(byReply.replay[1].contains("state: new,"), "a private reply leaves new")
        #expect(byReply.replay[2].contains("t1: status new → open, public reply by r1"))
        #expect(byReply.replay[4].contains("t1: public reply by r1"))
        #expect(byReply.replay[4].contains("state: pending,"))
    }

    @Test func l3AnAssignmentMovesNewToOpenAndLeavesOtherStatuses() throws {
        let shown = try run([.opened, .assigned(), .status("on_hold"), .assigned("r2")])
        #expect(shown.status == "on_hold")
        #expect(shown.ticket["assignee"] as? String == "r2")
        #expect(shown.anomalies.isEmpty)
        #expect(shown.replay[1].contains("t1: status new → open, assignee none → r1"))
        #expect(shown.replay[3].contains("t1: assignee r1 → r2"))
    }

    @Test func l4ACustomerReplyMovesPendingOnHoldAndSolvedToOpen() throws {
        let shown = try run([
            .opened, .customerReply, .assigned(), .status("pending"), .customerReply, .status("on_hold"),
            .customerReply, .solved, .customerReply,
        ])
        #expect(shown.status == "open")
        #expect(shown.reopens == 1)
        #expect(shown.anomalies.isEmpty)
        #expect(shown.replay[1].contains("state: new,"), "a customer reply leaves new")
        #expect(shown.replay[4].contains("t1: status pending → open, public reply by the customer"))
        #expect(shown.replay[6].contains("t1: status on_hold → open"))
        #expect(shown.replay[8].contains("t1: status solved → open, reopen #1"))
    }

    @Test func l5LeavingSolvedByAStatusChangeIsAReopen() throws {
        let shown = try run([.opened, .assigned(), .solved, .status("on_hold"), .solved])
        #expect(shown.status == "solved")
        #expect(shown.reopens == 1)
        #expect(shown.anomalies.isEmpty)
        #expect(shown.replay[3].contains("t1: status solved → on_hold, reopen #1"))
        #expect(shown.replay[4].contains("t1: status on_hold → solved"))
    }

    @Test func l6AReopenMovesSolvedToOpenAndOnAnOpenTicketIsAnAnomaly() throws {
        let shown = try run([.opened, .assigned(), .reopened, .solved, .reopened])
        #expect(shown.status == "open")
        #expect(shown.reopens == 1)
        #expect(shown.anomalies == ["3 ticket.reopened: reopened while open (only solved tickets reopen)"])
        #expect(shown.replay[2].contains("anomaly: reopened while open (only solved tickets reopen)"))
        #expect(shown.replay[3].contains("t1: status open → solved"))
        #expect(shown.replay[4].contains("t1: status solved → open, reopen #1"))
    }

    @Test(arguments: [Step.closed, Step.merged])
    func l7ClosingOrMergingMakesTheTicketClosed(_ end: Step) throws {
        let shown = try run([.opened, .assigned(), end])
        #expect(shown.status == "closed")
        #expect(shown.anomalies.isEmpty)
        #expect(shown.replay[2].contains("t1: status open → closed"))
    }

    /// L8 cases: one event on a closed ticket, what it leaves, and the field it still sets.
    struct AfterClosing: Sendable, CustomTestStringConvertible {
        var step: Step
        var status: String
        var reopens: Int
        var reason: String
        var field: (key: String, value: String)?
        var testDescription: String { step.testDescription }
    }

    static let afterClosing = [
        AfterClosing(
            step: .assigned("r2"), status: "closed", reopens: 0,
            reason: "ticket.assigned after it was closed",
            field: ("assignee", "r2")),
        AfterClosing(
            step: .priority("urgent"), status: "closed", reopens: 0,
            reason: "ticket.priority_changed after it was closed", field: ("priority", "urgent")),
        AfterClosing(
            step: .repReply(), status: "closed", reopens: 0, reason: "ticket.replied after it was closed"),
        AfterClosing(
            step: .escalated, status: "closed", reopens: 0, reason: "ticket.escalated after it was closed"),
        AfterClosing(
            step: .closed, status: "closed", reopens: 0, reason: "ticket.closed after it was closed"),
        AfterClosing(
            step: .merged, status: "closed", reopens: 0, reason: "ticket.merged after it was closed",
            field: ("merged_into", "t2")),
        AfterClosing(
            step: .opened, status: "closed", reopens: 0, reason: "ticket.opened after it was closed"),
        AfterClosing(
            step: .reopened, status: "open", reopens: 1,
            reason: "ticket.reopened after it was closed (closed -> open)"),
        AfterClosing(
            step: .status("pending"), status: "pending", reopens: 0,
            reason: "ticket.status_changed after it was closed (closed -> pending)"),
        AfterClosing(
            step: .solved, status: "solved", reopens: 0,
            reason: "ticket.solved after it was closed (closed -> solved)"),
    ]

    @Test(arguments: afterClosing)
    func l8AnyEventOnAClosedTicketIsAnAnomalyAndIsStillApplied(_ scenario: AfterClosing) throws {
        let shown = try run([.opened, .assigned(), .solved, .closed, scenario.step])
        #expect(shown.status == scenario.status)
        #expect(shown.reopens == scenario.reopens)
        #expect(shown.anomalies == ["5 \(scenario.step.type): \(scenario.reason)"])
        #expect(shown.replay[4].contains("anomaly: \(scenario.reason)"))
        if scenario.status != "closed" {
            #expect(shown.replay[4].contains("t1: status closed → \(scenario.status)"))
        } else {
            #expect(!shown.replay[4].contains("t1: status"))
        }
        if let field = scenario.field {
            #expect(shown.ticket[field.key] as? String == field.value)
        }
        #expect(shown.ticket["follow_ups"] as? Int == 0)
    }

    /// The follow-up is counted on the ticket (`follow_ups` in `ticket show --json`).
    @Test func l8ACustomerReplyOnAClosedTicketLeavesItClosedAndAsksForFollowUp() throws {
        let shown = try run([.opened, .assigned(), .solved, .closed, .customerReply])
        #expect(shown.status == "closed")
        #expect(shown.reopens == 0)
        #expect(
            shown.anomalies == ["5 ticket.replied: customer wrote on a closed ticket; nobody will see it"])
        #expect(shown.replay[4].contains("anomaly: customer wrote on a closed ticket; nobody will see it"))
        #expect(!shown.replay[4].contains("t1: status"))
        #expect(shown.ticket["follow_ups"] as? Int == 1)
    }

    @Test func l9PriorityChangesAndEscalationsLeaveTheStatus() throws {
        let shown = try run([.opened, .assigned(), .status("pending"), .priority("high"), .escalated])
        #expect(shown.status == "pending")
        #expect(shown.ticket["priority"] as? String == "high")
        #expect(shown.ticket["escalations"] as? Int == 1)
        #expect(shown.anomalies.isEmpty)
        #expect(shown.replay[3].contains("t1: priority normal → high"))
        #expect(shown.replay[4].contains("t1: escalated to level 2"))
        #expect(shown.replay[4].contains("state: pending,"))
    }
}
