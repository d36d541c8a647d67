import CloudEvents
import Foundation
import LMDB
import Testing
import TouchlogDomain
import TouchlogGenerator
import TouchlogStore
import TouchlogTestSupport

@testable import TouchlogProjections

/// The projections depend on the events and their event times, not on the order the events arrived in
/// (issue 13): the same events appended in several orders, in batches of several sizes and folded in
/// chunks of several sizes, give the same tickets, customers and rep timelines, and each store's
/// projections agree with a fresh fold of its log.
@Suite struct ArrivalOrderTests {
    /// Generated help-desk traffic with many late events, plus hand-made cases that break the
    /// lifecycle: an opening that comes after other events, a ticket with events of two customers,
    /// a merge, a reopen out of closed, two events of one ticket at the same instant.
    static let events: [Touchpoint] = {
        do {
            var events = try generatedTouchpoints(
                GeneratorConfiguration(
                    seed: 7, events: 2_500, customers: 25, representatives: 6, lateFraction: 0.2))
            var script = Script()
            try script.add(
                "ticket.replied", "x1", at: at(minutes: 5), ticket: "hx", data: #"{"author":"customer"}"#)
            try script.add(
                "ticket.opened", "x1", at: at(minutes: 0), ticket: "hx", data: #"{"priority":"urgent"}"#)
            try script.add("ticket.assigned", "x1", at: at(minutes: 1), ticket: "hx", rep: "r9")
            try script.add(
                "ticket.replied", "x2", at: at(minutes: 2), ticket: "hx", data: #"{"author":"customer"}"#)
            try script.add("ticket.opened", "x2", at: at(minutes: 3), ticket: "hy")
            try script.add("ticket.merged", "x2", at: at(minutes: 9), ticket: "hy", data: #"{"into":"hx"}"#)
            try script.add("ticket.solved", "x1", at: at(minutes: 30), ticket: "hx", rep: "r9")
            try script.add("ticket.closed", "x1", at: at(minutes: 40), ticket: "hx")
            try script.add("ticket.reopened", "x1", at: at(minutes: 50), ticket: "hx")
            try script.add(
                "ticket.replied", "x1", at: at(minutes: 50), ticket: "hx", rep: "r9",
                data: #"{"author":"rep"}"#)
            try script.add(
                "ticket.status_changed", "x1", at: at(minutes: 50), ticket: "hx",
                data: #"{"status":"pending"}"#)
            try script.add(
                "feedback.csat", "x1", at: at(days: 2), ticket: "hx", rep: "r9", data: #"{"score":2}"#)
            try script.add(
                "order.placed", "x2", at: at(days: 1),
                data: #"{"order":"o1","amount":12.50,"currency":"EUR"}"#)
            events += script.touchpoints
            return events
        } catch {
            fatalError("the test events do not build: \(error)")
        }
    }()

    enum Arrival: String, CaseIterable, CustomTestStringConvertible {
        case reversed, shuffled, byTicket, byEventTime
        var testDescription: String { rawValue }
    }

    static func arranged(_ arrival: Arrival) -> [Touchpoint] {
        switch arrival {
        case .reversed:
            return events.reversed()
        case .shuffled:
            var random = SeededRandom(seed: 11)
            return events.shuffled(using: &random)
        case .byTicket:
            // Each ticket's events together, tickets in reverse order of their first event.
            var order: [String] = []
            var groups: [String: [Touchpoint]] = [:]
            for event in events {
                let key = event.ticketID ?? "customer " + event.customer
                if groups[key] == nil { order.append(key) }
                groups[key, default: []].append(event)
            }
            return order.reversed().flatMap { groups[$0]! }
        case .byEventTime:
            return events.sorted { $0.occurredAt < $1.occurredAt }
        }
    }

    /// What a store's projections hold, with each log position replaced by the identity of the event
    /// there (positions depend on the arrival order; nothing else may).
    struct Outcome: Equatable {
        var tickets: [String: [String]] = [:]
        var customers: [String: [String]] = [:]
        var timeline: [String] = []
        var consistent = false
    }

    /// Appends `touchpoints` in batches of `batch`, catching the projections up after each in chunks
    /// of `chunk`, and reads the outcome.
    static func outcome(_ touchpoints: [Touchpoint], batch: Int, chunk: Int) throws -> Outcome {
        // Format 2: its projections key customers by id, so that stores made apart compare record by
        // record (format 3 keys them by a pseudonym drawn at random in each store).
        let directory = try TestStore(format: 2)
        let store = try directory.openStore(noSync: true)
        let projections = try ProjectionStore(store: store)
        var start = 0
        while start < touchpoints.count {
            let slice = Array(touchpoints[start..<min(touchpoints.count, start + batch)])
            _ = try store.log.append(slice)
            try projections.catchUp(chunkSize: chunk)
            start += slice.count
        }
        var identity: [UInt64: String] = [:]
        try store.log.forEachEvent { stored in
            identity[stored.position] = stored.event.source + " " + stored.event.id
            return true
        }
        func name(_ position: UInt64) -> String { identity[position] ?? "position \(position)" }
        var outcome = Outcome()
        let positional: Set<String> = ["first_reply_position", "last_position", "events", "anomalies"]
        for ticket in try projections.tickets() {
            var fields = ticket.fieldDescriptions.filter { !positional.contains($0.0) }.map {
                "\($0.0)=\($0.1)"
            }
            fields += ticket.anomalies.map { "anomaly \(name($0.position)) \($0.type): \($0.reason)" }
            fields.append(
                "first reply event \(ticket.firstReplyPosition == 0 ? "-" : name(ticket.firstReplyPosition))")
            outcome.tickets[ticket.id] = fields
        }
        for loyalty in try projections.topLoyalty(limit: .max) {
            outcome.customers[loyalty.customer] =
                loyalty.fieldDescriptions.filter { !positional.contains($0.0) }.map { "\($0.0)=\($0.1)" }
        }
        for rep in Set(try projections.tickets().compactMap(\.assignee) + ["r9"]) {
            for entry in try projections.repTimeline(rep) {
                outcome.timeline.append(
                    "\(rep) \(entry.occurredAt.rfc3339) \(name(entry.position)) \(entry.type) \(entry.customer) \(entry.ticket ?? "-") \(entry.detail)"
                )
            }
        }
        outcome.timeline.sort()
        outcome.consistent = try projections.verify().isConsistent
        return outcome
    }

    /// The events in the order the generator wrote them, appended at once and folded in one chunk.
    static let reference: Result<Outcome, Error> = Result {
        try outcome(events, batch: events.count, chunk: 1_000_000)
    }

    @Test func theReferenceIsConsistentAndNotEmpty() throws {
        let reference = try Self.reference.get()
        #expect(reference.consistent)
        #expect(reference.tickets.count > 100)
        #expect(reference.customers.count == 27)
        #expect(reference.timeline.count > 100)
        // The hand-made ticket is owned by the customer of its opening, whatever came first.
        #expect(reference.tickets["hx"]?.contains("customer=x1") == true)
    }

    @Test(arguments: Arrival.allCases, [(97, 50), (1_000, 333), (5_000, 100_000)])
    func theSameEventsInAnotherOrderGiveTheSameProjections(arrival: Arrival, sizes: (Int, Int)) throws {
        let reference = try Self.reference.get()
        let outcome = try Self.outcome(Self.arranged(arrival), batch: sizes.0, chunk: sizes.1)
        #expect(outcome.consistent)
        #expect(outcome.tickets.count == reference.tickets.count)
        for (id, fields) in reference.tickets where outcome.tickets[id] != fields {
            Issue.record("ticket \(id): \(fields) != \(outcome.tickets[id] ?? [])")
            break
        }
        for (id, fields) in reference.customers where outcome.customers[id] != fields {
            Issue.record("customer \(id): \(fields) != \(outcome.customers[id] ?? [])")
            break
        }
        #expect(outcome.timeline == reference.timeline)
    }

    /// `replay` folds in memory with the same fold: what it shows at the end is what the store holds.
    @Test func theFoldInMemoryGivesWhatTheStoreHolds() throws {
        var fold = ProjectionFold(rules: .default)
        for (index, touchpoint) in Self.arranged(.shuffled).enumerated() {
            fold.apply(touchpoint, position: UInt64(index + 1))
        }
        let reference = try Self.reference.get()
        #expect(fold.tickets.count == reference.tickets.count)
        for (id, ticket) in fold.tickets {
            let fields = ticket.fieldDescriptions.filter {
                !["first_reply_position", "last_position", "events", "anomalies"].contains($0.0)
            }.map { "\($0.0)=\($0.1)" }
            #expect(Array((reference.tickets[id] ?? []).prefix(fields.count)) == fields, "\(id)")
        }
        for (id, loyalty) in fold.customers {
            let fields = loyalty.fieldDescriptions.filter { $0.0 != "last_position" }.map {
                "\($0.0)=\($0.1)"
            }
            #expect(reference.customers[id] == fields, "\(id)")
        }
    }
}
