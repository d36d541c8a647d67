import CloudEvents
import LMDB
import Testing
import TouchlogDomain
import TouchlogGenerator
import TouchlogStore
import TouchlogTestSupport

@testable import TouchlogProjections

/// Generated touchpoints (seeded, so every run sees the same sample): the first `count` of one sample
/// of 12,000 events of 400 customers, generated and validated once for all tests.
func generated(_ count: Int) throws -> [Touchpoint] {
    Array(try sample.get().prefix(count))
}

private let sample = Result {
    try generatedTouchpoints(GeneratorConfiguration(events: 12_000, customers: 400, representatives: 20))
}

struct Stop: Error {}

@Suite struct ProjectionStoreTests {
    let store: TestStore
    init() throws { store = try TestStore(prefix: "touchlog-projections") }

    @Test func aRebuildFromScratchGivesTheBytesThatIncrementalMaintenanceGave() throws {
        let (log, projections) = try store.openWithProjections()
        let sample = try generated(12_000)
        var offset = 0
        // Uneven batches, and catch-ups of several transactions each.
        for size in [1, 2_999, 4_000, 2_500, 2_500] {
            _ = try log.append(Array(sample[offset..<offset + size]))
            offset += size
            let summary = try projections.catchUp(chunkSize: 2_500)
            #expect(summary.position == UInt64(offset))
        }
        // A catch-up with nothing new changes nothing.
        #expect(try projections.catchUp().positions == 0)
        let incremental = try #require(try projections.activeContents())
        #expect(incremental.ticketKeys.count > 500)
        #expect(incremental.customerKeys.count > 300)
        #expect(incremental.timelineKeys.count > 3_000)

        let summary = try projections.rebuild(rules: .default, chunkSize: 5_000)
        #expect(summary.generation.number == 2)
        #expect(summary.generation.slot == 1)
        #expect(summary.generation.position == 12_000)
        #expect(summary.replaced == 1)
        #expect(summary.folded == 12_000)
        let rebuilt = try #require(try projections.activeContents())
        #expect(rebuilt.ticketKeys == incremental.ticketKeys)
        #expect(rebuilt.customerKeys == incremental.customerKeys)
        #expect(rebuilt.timelineKeys == incremental.timelineKeys)
        #expect(rebuilt == incremental)
        // The fresh fold of verify agrees too.
        let verification = try projections.verify()
        #expect(verification.isConsistent, "\(verification.mismatches.prefix(3))")
        #expect(verification.tickets == incremental.ticketKeys.count)
        // The old generation's databases were emptied.
        let old = try projections.store.withReadTransaction { txn in
            try txn.statistics(of: projections.slots[0].tickets).entries
        }
        #expect(old == 0)
    }

    @Test func aDryRunReportsExactlyTheCustomersWhoseTierMovesAndRebuildAgrees() throws {
        let (log, projections) = try store.openWithProjections()
        let sample = try generated(5_000)
        _ = try log.append(sample)
        try projections.catchUp()
        let changed = try rules([
            "loyalty.satisfaction.points": "35.0", "sla.normal.first_reply_minutes": "60",
        ])

        // What the report must say, from two independent in-memory folds.
        var before = ProjectionFold(rules: .default)
        var after = ProjectionFold(rules: changed)
        for (index, touchpoint) in sample.enumerated() {
            before.apply(touchpoint, position: UInt64(index + 1))
            after.apply(touchpoint, position: UInt64(index + 1))
        }
        let movers = Set(
            before.customers.values.filter { after.customers[$0.customer]!.tier != $0.tier }.map(\.customer))
        let slaMoved = Set(
            before.tickets.values.filter {
                after.tickets[$0.id]!.firstReplyBreached != $0.firstReplyBreached
                    || after.tickets[$0.id]!.resolutionBreached != $0.resolutionBreached
            }.map(\.id))
        #expect(!movers.isEmpty)
        #expect(!slaMoved.isEmpty)

        let report = try projections.dryRun(rules: changed)
        #expect(Set(report.tierChanges.map(\.customer)) == movers)
        #expect(report.tierChanges.count == movers.count)
        #expect(Set(report.slaChanges.map(\.ticket)) == slaMoved)
        let deltas = report.tierChanges.map { abs($0.scoreDelta) }
        #expect(deltas == deltas.sorted(by: >))
        for change in report.tierChanges {
            #expect(change.from == before.customers[change.customer]!.tier)
            #expect(change.to == after.customers[change.customer]!.tier)
        }
        // Nothing switched.
        #expect(try projections.activeGeneration()?.number == 1)
        #expect(try projections.activeGeneration()?.rulesHash == Rules.default.hash)

        let summary = try projections.rebuild(rules: changed)
        #expect(summary.generation.rulesHash == changed.hash)
        for change in report.tierChanges {
            let shown = try #require(try projections.loyalty(change.customer))
            #expect(shown.loyalty.tier == change.to)
            #expect(shown.generation.number == 2)
        }
        for id in slaMoved {
            #expect(try projections.ticket(id)?.firstReplyBreached == after.tickets[id]!.firstReplyBreached)
        }
        // A second dry run of the same rules reports nothing.
        let again = try projections.dryRun(rules: changed)
        #expect(again.tierChanges.isEmpty)
        #expect(again.slaChanges.isEmpty)
    }

    @Test func aRebuildStoppedHalfWayLeavesTheOldGenerationAndTheNextOneResumes() throws {
        let (log, projections) = try store.openWithProjections()
        let sample = try generated(6_000)
        _ = try log.append(Array(sample[..<5_000]))
        try projections.catchUp()
        let before = try #require(try projections.activeContents())
        let changed = try rules(["loyalty.base": "40.0"])

        #expect(throws: Stop.self) {
            try projections.rebuild(rules: changed, chunkSize: 2_000) { progress in
                if progress.folded >= 4_000 { throw Stop() }
            }
        }
        // The old generation is active, readable and correct, and catch-up keeps it current.
        #expect(try projections.activeGeneration()?.number == 1)
        #expect(try projections.activeContents() == before)
        #expect(try projections.verify().isConsistent)
        _ = try log.append(Array(sample[5_000...]))
        #expect(try projections.catchUp().position == 6_000)
        #expect(try projections.verify().isConsistent)
        let someCustomer = try #require(sample.first?.customer)
        #expect(try projections.loyalty(someCustomer)?.generation.rulesHash == Rules.default.hash)

        // The next rebuild with the same rules resumes at 4,000 and completes, events appended since included.
        let resumed = try projections.rebuild(rules: changed, chunkSize: 2_000)
        #expect(resumed.resumedFrom == 4_000)
        #expect(resumed.folded == 2_000)
        #expect(resumed.generation.number == 2)
        #expect(resumed.generation.position == 6_000)
        let verification = try projections.verify()
        #expect(verification.isConsistent, "\(verification.mismatches.prefix(3))")
        // Byte for byte what a rebuild from scratch gives.
        let resumedContents = try projections.activeContents()
        _ = try projections.rebuild(rules: changed)
        #expect(try projections.activeGeneration()?.number == 3)
        #expect(try projections.activeContents() == resumedContents)
    }

    @Test func aStoppedRebuildWithOtherRulesIsDiscardedNotResumed() throws {
        let (log, projections) = try store.openWithProjections()
        _ = try log.append(try generated(3_000))
        try projections.catchUp()
        #expect(throws: Stop.self) {
            try projections.rebuild(rules: try rules(["loyalty.base": "40.0"]), chunkSize: 1_000) { _ in
                throw Stop()
            }
        }
        let other = try rules(["loyalty.base": "45.0"])
        let summary = try projections.rebuild(rules: other, chunkSize: 1_000)
        #expect(summary.resumedFrom == 0)
        #expect(summary.folded == 3_000)
        #expect(try projections.activeRules() == other)
        #expect(try projections.verify().isConsistent)
    }

    @Test func verifyNamesTheFirstDifferingFieldAndMissingRecords() throws {
        // Format 2, whose projections key customers by id: the test changes records by key.
        let formatTwo = try TestStore(format: 2)
        let (log, projections) = try formatTwo.openWithProjections()
        var script = Script()
        try script.add("ticket.opened", at: at(minutes: 0), ticket: "t1")
        try script.add("ticket.assigned", at: at(minutes: 1), ticket: "t1", rep: "r1")
        try script.add("ticket.closed", at: at(minutes: 2), ticket: "t1")
        try script.add("ticket.reopened", at: at(minutes: 3), ticket: "t1")
        try script.add("feedback.csat", "c2", at: at(minutes: 4), data: #"{"score":5}"#)
        _ = try log.append(script.touchpoints)
        try projections.catchUp()
        let clean = try projections.verify()
        #expect(clean.isConsistent)
        #expect(clean.anomalies.map(\.anomaly.position) == [4])
        #expect(clean.anomalies.first?.ticket == "t1")
        #expect(try projections.anomalies(customer: "c1") == clean.anomalies)

        let active = try #require(try projections.activeGeneration())
        let slot = projections.slots[active.slot]
        var tampered = try #require(try projections.ticket("t1"))
        tampered.status = .solved
        try projections.store.withWriteTransaction { txn in
            try txn.put(ProjectionCodec.encode(tampered), forKey: "t1", in: slot.tickets)
            try txn.delete(forKey: "c2", in: slot.customers)
        }
        let verification = try projections.verify()
        #expect(verification.mismatches.count == 2)
        let first = try #require(verification.mismatches.first)
        #expect(first.kind == .ticket)
        #expect(first.key == "t1")
        #expect(first.field == "status")
        #expect(first.expected == "open")
        #expect(first.found == "solved")
        #expect(first.position == 4)
        #expect(verification.mismatches.last?.kind == .customer)
        #expect(verification.mismatches.last?.field == "(missing)")
        #expect(verification.firstBadPosition == 4)
        #expect(try projections.verify(customer: "c2").mismatches.map(\.field) == ["(missing)"])
        #expect(try projections.verify(customer: "c1").mismatches.map(\.field) == ["status"])
    }

    @Test func repTimelineAndStatsOverATimeRange() throws {
        let (log, projections) = try store.openWithProjections()
        var s = Script()
        try s.add("ticket.opened", "c1", at: at(minutes: 0), ticket: "t1")
        try s.add("ticket.assigned", "c1", at: at(minutes: 1), ticket: "t1", rep: "r1")
        try s.add(
            "ticket.replied", "c1", at: at(minutes: 30), ticket: "t1", rep: "r1", data: #"{"author":"rep"}"#)
        try s.add("ticket.solved", "c1", at: at(minutes: 40), ticket: "t1", rep: "r1")
        try s.add("feedback.csat", "c1", at: at(minutes: 50), ticket: "t1", rep: "r1", data: #"{"score":5}"#)
        try s.add("ticket.opened", "c2", at: at(minutes: 100), ticket: "t2")
        try s.add("ticket.assigned", "c2", at: at(minutes: 101), ticket: "t2", rep: "r1")
        try s.add(
            "ticket.replied", "c2", at: at(minutes: 110), ticket: "t2", rep: "r1",
            data: #"{"author":"rep","public":false}"#)
        try s.add(
            "ticket.replied", "c2", at: at(minutes: 190), ticket: "t2", rep: "r1", data: #"{"author":"rep"}"#)
        try s.add(
            "ticket.replied", "c2", at: at(minutes: 200), ticket: "t2", rep: "r1", data: #"{"author":"rep"}"#)
        try s.add("feedback.csat", "c2", at: at(minutes: 300), ticket: "t2", rep: "r1", data: #"{"score":2}"#)
        try s.add("ticket.opened", "c1", at: at(minutes: 0), ticket: "t3")
        try s.add("ticket.assigned", "c1", at: at(minutes: 1), ticket: "t3", rep: "r2")
        try s.add(
            "ticket.replied", "c1", at: at(minutes: 5), ticket: "t3", rep: "r2", data: #"{"author":"rep"}"#)
        try s.add("ticket.assigned", "c1", at: at(minutes: 10), ticket: "t3", rep: "r1")
        try s.add(
            "ticket.replied", "c1", at: at(minutes: 20), ticket: "t3", rep: "r1", data: #"{"author":"rep"}"#)
        try s.add("feedback.csat", "c1", at: at(minutes: 400), rep: "r1", data: #"{"score":4}"#)
        _ = try log.append(Array(s.touchpoints[..<9]))
        try projections.catchUp()
        _ = try log.append(Array(s.touchpoints[9...]))
        try projections.catchUp()

        let timeline = try projections.repTimeline("r1")
        #expect(
            timeline.map(\.occurredAt.rfc3339)
                == [1, 10, 20, 30, 40, 50, 101, 110, 190, 200, 300, 400].map { at(minutes: Double($0)) })
        #expect(timeline.map(\.position) == [2, 15, 16, 3, 4, 5, 7, 8, 9, 10, 11, 17])
        #expect(timeline[1].customer == "c1")
        #expect(timeline[1].ticket == "t3")
        #expect(timeline[1].type == "ticket.assigned")
        #expect(timeline.last?.ticket == nil)

        let all = try projections.repStats("r1")
        #expect(all.assigned == 3)
        #expect(all.solved == 1)
        #expect(all.publicReplies == 4)
        // First replies that were r1's: t1 after 30 minutes, t2 after 90 (t3's was r2's).
        #expect(all.medianFirstReplyMinutes == 60)
        #expect(all.csatRatings == 3)
        #expect(all.csatSatisfiedShare == 2.0 / 3.0)

        let from = try #require(Timestamp(rfc3339: at(minutes: 100)))
        let to = try #require(Timestamp(rfc3339: at(minutes: 250)))
        let window = try projections.repStats("r1", from: from, to: to)
        #expect(window.events == 4)
        #expect(window.assigned == 1)
        #expect(window.solved == 0)
        #expect(window.publicReplies == 2)
        #expect(window.medianFirstReplyMinutes == 90)
        #expect(window.csatRatings == 0)
        #expect(window.csatSatisfiedShare == nil)
        #expect(try projections.repTimeline("r1", from: from, to: to).map(\.position) == [7, 8, 9, 10])
        #expect(try projections.repTimeline("r").isEmpty)
        #expect(try projections.repStats("r2").medianFirstReplyMinutes == 5)

        #expect(try projections.tickets(rep: "r1").map(\.id) == ["t1", "t2", "t3"])
        #expect(try projections.tickets(customer: "c2").map(\.id) == ["t2"])
        #expect(try projections.tickets(status: .solved).map(\.id) == ["t1"])
    }

    @Test func theFirstCatchUpCreatesGenerationOneWithTheDefaultRules() throws {
        let (_, projections) = try store.openWithProjections()
        #expect(try projections.activeGeneration() == nil)
        let summary = try projections.catchUp()
        #expect(summary.positions == 0)
        let active = try #require(try projections.activeGeneration())
        #expect(active.number == 1)
        #expect(active.state == .active)
        #expect(active.rulesVersion == Rules.default.version)
        #expect(try projections.activeRules() == Rules.default)
    }

    /// A generation built by other versions of the projection code (here: one that recorded none, as
    /// before versions were recorded) is rebuilt by the next catch-up, with its own rules, and a
    /// reader is told to rebuild rather than shown records it may misread.
    @Test func aGenerationOfOtherProjectionCodeIsRebuiltBeforeUse() throws {
        let (log, projections) = try store.openWithProjections()
        _ = try log.append(try generated(3_000))
        let rules = try TouchlogProjectionsTests.rules(["loyalty.base": "55.0"])
        _ = try projections.rebuild(rules: rules)
        var active = try #require(try projections.activeGeneration())
        #expect(active.isCurrent)
        active.code = ""
        try projections.store.withWriteTransaction { txn in try projections.put(active, txn) }
        #expect(try projections.activeGeneration()?.isCurrent == false)

        _ = try log.append(try generated(4_000).suffix(1_000).map { $0 })
        let summary = try projections.catchUp()
        let rebuilt = try #require(try projections.activeGeneration())
        #expect(rebuilt.isCurrent)
        #expect(rebuilt.number == active.number + 1)
        #expect(rebuilt.position == 4_000)
        #expect(summary.position == 4_000)
        #expect(try projections.activeRules() == rules)
        #expect(try projections.verify().isConsistent)
        #expect(
            ProjectionError.outdated(path: "s", code: "").description.contains("run 'touchlog rebuild'"))
    }
}
