import CloudEvents
import Testing
import TouchlogDomain
import TouchlogStore

@testable import TouchlogProjections

@Suite struct TicketProjectionTests {
    @Test func aTicketWalksEveryTransitionOfTheLifecycle() throws {
        var script = Script()
        var statuses: [TicketStatus] = []
        var fold = ProjectionFold(rules: .default)
        func step(_ type: String, minutes: Double, rep: String? = nil, data: String? = nil) throws {
            try script.add(type, at: at(minutes: minutes), ticket: "t1", rep: rep, data: data)
            fold.apply(script.touchpoints.last!, position: UInt64(script.touchpoints.count))
            statuses.append(fold.tickets["t1"]!.status)
        }
        try step("ticket.opened", minutes: 0, data: #"{"priority":"high"}"#)
        try step("ticket.replied", minutes: 1, rep: "r1", data: #"{"author":"rep","public":false}"#)
        try step("ticket.replied", minutes: 10, rep: "r1", data: #"{"author":"rep"}"#)
        try step("ticket.status_changed", minutes: 11, data: #"{"status":"pending"}"#)
        try step("ticket.replied", minutes: 20, data: #"{"author":"customer"}"#)
        try step("ticket.status_changed", minutes: 21, data: #"{"status":"on_hold"}"#)
        try step("ticket.replied", minutes: 30, data: #"{"author":"customer"}"#)
        try step("ticket.assigned", minutes: 31, rep: "r2")
        try step("ticket.priority_changed", minutes: 32, data: #"{"priority":"urgent"}"#)
        try step("ticket.escalated", minutes: 33, data: #"{"level":2}"#)
        try step("ticket.solved", minutes: 60, rep: "r2")
        try step("ticket.replied", minutes: 70, data: #"{"author":"customer"}"#)
        try step("ticket.solved", minutes: 80, rep: "r2")
        try step("ticket.reopened", minutes: 90)
        try step("ticket.solved", minutes: 100, rep: "r2")
        try step("ticket.closed", minutes: 200)
        #expect(
            statuses == [
                .new, .new, .open, .pending, .open, .onHold, .open, .open, .open, .open, .solved, .open,
                .solved, .open,
                .solved, .closed,
            ])
        let ticket = try #require(fold.tickets["t1"])
        #expect(ticket.customer == "c1")
        #expect(ticket.priority == .urgent)
        #expect(ticket.channel == .email)
        #expect(ticket.assignee == "r2")
        #expect(ticket.reopens == 2)
        #expect(ticket.publicReplies == 1)
        #expect(ticket.escalations == 1)
        #expect(ticket.firstReplyMinutes == 10)
        #expect(ticket.firstReplyBy == "r1")
        #expect(ticket.firstReplyPosition == 3)
        // Resolved by the last solve (a close after a solve does not move it).
        #expect(ticket.resolutionMinutes == 100)
        #expect(ticket.openedAt?.rfc3339 == at(minutes: 0))
        #expect(ticket.closedAt?.rfc3339 == at(minutes: 200))
        // Urgent: 60 minutes to first reply (10 taken), 480 to resolution (100 taken).
        #expect(!ticket.firstReplyBreached)
        #expect(!ticket.resolutionBreached)
        #expect(ticket.anomalies.isEmpty)
    }

    @Test func whileSolvedAReopenClearsTheResolutionUntilTheNextSolve() throws {
        var script = Script()
        try script.add("ticket.opened", at: at(minutes: 0), ticket: "t1")
        try script.add("ticket.solved", at: at(minutes: 30), ticket: "t1")
        try script.add("ticket.replied", at: at(minutes: 40), ticket: "t1", data: #"{"author":"customer"}"#)
        let reopened = try #require(script.fold().tickets["t1"])
        #expect(reopened.status == .open)
        #expect(reopened.reopens == 1)
        #expect(reopened.resolutionMinutes == nil)
        #expect(reopened.solvedAt?.rfc3339 == at(minutes: 30))
    }

    @Test func assignmentMovesNewToOpenAndClosingWithoutASolveResolves() throws {
        var script = Script()
        try script.add("ticket.opened", at: at(minutes: 0), ticket: "t2")
        try script.add("ticket.assigned", at: at(minutes: 5), ticket: "t2", rep: "r1")
        #expect(script.fold().tickets["t2"]?.status == .open)
        try script.add("ticket.closed", at: at(minutes: 50), ticket: "t2")
        let closed = try #require(script.fold().tickets["t2"])
        #expect(closed.status == .closed)
        #expect(closed.resolutionMinutes == 50)
        #expect(closed.anomalies.isEmpty)
    }

    @Test func aMergeClosesTheSourceAndNamesTheTarget() throws {
        var script = Script()
        try script.add("ticket.opened", at: at(minutes: 0), ticket: "t3")
        try script.add("ticket.opened", at: at(minutes: 1), ticket: "t4")
        try script.add("ticket.merged", at: at(minutes: 5), ticket: "t4", data: #"{"into":"t3"}"#)
        let fold = script.fold()
        let source = try #require(fold.tickets["t4"])
        #expect(source.status == .closed)
        #expect(source.mergedInto == "t3")
        #expect(source.resolutionMinutes == 4)
        #expect(source.anomalies.isEmpty)
        #expect(fold.tickets["t3"]?.status == .new)
        #expect(fold.tickets["t3"]?.mergedInto == nil)

        try script.add("ticket.merged", at: at(minutes: 6), ticket: "t3", data: #"{"into":"t3"}"#)
        let selfMerge = try #require(script.fold().tickets["t3"])
        #expect(selfMerge.anomalies.map(\.reason) == ["merged into itself"])
        #expect(selfMerge.anomalies.first?.position == 4)
    }

    /// Normal priority: 480 minutes to first reply, 4320 to resolution. Exactly the target is met.
    @Test(arguments: [
        (Int64(0), false), (Int64(1), true), (Int64(-1), false),
    ])
    func slaFlagsAtTheBoundary(offset: Int64, breached: Bool) throws {
        var script = Script()
        try script.add("ticket.opened", at: at(minutes: 0), ticket: "t1")
        try script.add(
            "ticket.replied", at: at(minutes: 480, micros: offset), ticket: "t1", rep: "r1",
            data: #"{"author":"rep"}"#)
        // t2 is another customer's: t1's verdicts are as of c1's latest event (the reply).
        try script.add("ticket.opened", "c2", at: at(minutes: 0), ticket: "t2")
        try script.add("ticket.solved", "c2", at: at(minutes: 4320, micros: offset), ticket: "t2")
        let fold = script.fold()
        #expect(fold.tickets["t1"]?.firstReplyVerdict == (breached ? .breached : .met))
        #expect(fold.tickets["t1"]?.resolutionVerdict == .pending)
        #expect(fold.tickets["t2"]?.resolutionVerdict == (breached ? .breached : .met))
        // Solved with no reply recorded: its events cannot show a first reply (imports carry none).
        #expect(fold.tickets["t2"]?.firstReplyVerdict == .unknown)
    }

    @Test func aTicketWithNoReplyIsBreachedOnceAnEventIsPastTheTarget() throws {
        var script = Script()
        try script.add("ticket.opened", at: at(minutes: 0), ticket: "t1", data: #"{"priority":"urgent"}"#)
        try script.add("ticket.replied", at: at(minutes: 60), ticket: "t1", data: #"{"author":"customer"}"#)
        #expect(script.fold().tickets["t1"]?.firstReplyBreached == false)
        try script.add("ticket.replied", at: at(minutes: 61), ticket: "t1", data: #"{"author":"customer"}"#)
        #expect(script.fold().tickets["t1"]?.firstReplyBreached == true)
        // A priority change moves the target: high allows 240 minutes.
        try script.add(
            "ticket.priority_changed", at: at(minutes: 62), ticket: "t1", data: #"{"priority":"high"}"#)
        #expect(script.fold().tickets["t1"]?.firstReplyBreached == false)
    }

    @Test func ruleBreakingEventsAreAppliedAndRecordedAsAnomalies() throws {
        var script = Script()
        // An assignment appended before the opening but happening after it (minute 5): in event time it
        // follows the opening, so it breaks nothing (new -> open).
        try script.add("ticket.assigned", at: at(minutes: 5), ticket: "tx", rep: "r1")
        try script.add("ticket.opened", at: at(minutes: 0), ticket: "tx", data: #"{"priority":"low"}"#)
        // Opened again.
        try script.add("ticket.opened", at: at(minutes: 6), ticket: "tx")
        // Closed, then reopened (imports do this: Closed -> Active).
        try script.add("ticket.closed", at: at(minutes: 10), ticket: "tx")
        try script.add("ticket.reopened", at: at(minutes: 11), ticket: "tx")
        // Reopened while open.
        try script.add("ticket.reopened", at: at(minutes: 12), ticket: "tx")
        // Another customer's event on it.
        try script.add(
            "ticket.replied", "c2", at: at(minutes: 13), ticket: "tx", data: #"{"author":"customer"}"#)
        // An event that happened before the ticket was opened, appended last.
        try script.add("ticket.escalated", at: at(minutes: -1), ticket: "tx")
        let ticket = try #require(script.fold().tickets["tx"])
        #expect(ticket.status == .open)
        #expect(ticket.priority == .low)
        #expect(ticket.assignee == "r1")
        #expect(ticket.openedAt?.rfc3339 == at(minutes: 0))
        #expect(ticket.reopens == 1)
        #expect(ticket.escalations == 1)
        // In event-time order, each with the position of the event that broke a rule.
        #expect(ticket.anomalies.map(\.position) == [8, 3, 5, 6, 7])
        #expect(
            ticket.anomalies.map(\.reason) == [
                "happened before the ticket was opened",
                "ticket opened again (it is open)",
                "ticket.reopened after it was closed (closed -> open)",
                "reopened while open (only solved tickets reopen)",
                "the ticket belongs to customer 'c1', this event to 'c2'",
            ])
        #expect(ticket.anomalies.map(\.type)[2] == "ticket.reopened")
    }

    @Test func feedbackWithATicketIdDoesNotTouchTheTicket() throws {
        var script = Script()
        try script.add("ticket.opened", at: at(minutes: 0), ticket: "t1")
        try script.add("feedback.csat", at: at(minutes: 5), ticket: "t9", rep: "r1", data: #"{"score":5}"#)
        let fold = script.fold()
        #expect(fold.tickets["t9"] == nil)
        #expect(fold.tickets["t1"]?.lastPosition == 1)
    }
}
