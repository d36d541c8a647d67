import LMDB
import Testing
import TouchlogDomain
import TouchlogGenerator
import TouchlogStore
import TouchlogTestSupport

@testable import TouchlogProjections

/// The fold's second thread (`FoldEventReader`): the events it reads ahead are those the fold reads in
/// its own transaction, a rebuild through it gives the same bytes, and its errors reach the fold.
@Suite struct FoldEventReaderTests {
    let store: TestStore
    init() throws { store = try TestStore(prefix: "touchlog-fold-reader") }

    /// The catalog events of `first...last`, read in one transaction as the fold reads without a reader.
    func eventsRead(_ opened: Store, from first: UInt64, through last: UInt64) throws -> [FoldEvent] {
        var events: [FoldEvent] = []
        try opened.withReadTransaction { txn in
            try opened.log.forEachRecord(from: first, in: txn, opening: false) { record in
                if record.position > last { return false }
                if let event = FoldEvent.folding(record) { events.append(event) }
                return record.position < last
            }
        }
        return events
    }

    @Test func theReaderHandsOutTheEventsOfEachChunkAsTheFoldsOwnTransactionReadsThem() throws {
        let opened = try store.openStore()
        _ = try opened.log.append(try generated(12_000))
        let expected = try eventsRead(opened, from: 1, through: 12_000)
        #expect(expected.count > 11_000)
        // Blocks of 1,000 positions, at most two waiting; chunks that end inside blocks and across them.
        let reader = FoldEventReader(store: opened, from: 1, through: 12_000, blockSize: 1_000, depth: 2)
        var taken: [FoldEvent] = []
        var first: UInt64 = 1
        for end: UInt64 in [1, 999, 1_000, 1_001, 4_500, 4_500, 9_999, 12_000] {
            #expect(reader.covers(first, end))
            var chunk: [FoldEvent] = []
            try reader.take(through: end, into: &chunk)
            #expect(chunk == (try eventsRead(opened, from: first, through: end)))
            #expect(chunk.allSatisfy { $0.position >= first && $0.position <= end })
            taken += chunk
            first = end + 1
        }
        #expect(taken == expected)
        #expect(!reader.covers(12_001, 12_001))
    }

    @Test func aReaderStoppedEarlyEndsItsThread() throws {
        let opened = try store.openStore()
        _ = try opened.log.append(try generated(6_000))
        // Taken in part, then released while its thread waits for room: the release waits for the thread.
        var reader: FoldEventReader? = FoldEventReader(
            store: opened, from: 1, through: 6_000, blockSize: 500, depth: 1)
        var chunk: [FoldEvent] = []
        try reader!.take(through: 700, into: &chunk)
        #expect(chunk == (try eventsRead(opened, from: 1, through: 700)))
        reader = nil
        // The store is still usable: a write transaction commits.
        _ = try opened.log.append(Array(try generated(6_001).suffix(1)))
        #expect(try opened.log.head().position == 6_001)
    }

    @Test func aRebuildReadingAheadGivesTheBytesOfCatchUpsReadingInTheirOwnTransaction() throws {
        let (log, projections) = try store.openWithProjections()
        let sample = try generatedTouchpoints(
            GeneratorConfiguration(events: 40_000, customers: 600, representatives: 20))
        // Catch-ups of less than `readAheadThreshold` positions each read in their own transaction.
        var offset = 0
        while offset < sample.count {
            let size = min(Int(ProjectionStore.readAheadThreshold) / 2, sample.count - offset)
            _ = try log.append(Array(sample[offset..<offset + size]))
            offset += size
            #expect(try projections.catchUp(chunkSize: 3_000).position == UInt64(offset))
        }
        let incremental = try #require(try projections.activeContents())
        #expect(incremental.customerKeys.count > 500)
        // A rebuild of the 40,000 reads ahead on the second thread, in chunks that end inside its blocks.
        #expect(40_000 > ProjectionStore.readAheadThreshold)
        let summary = try projections.rebuild(rules: .default, chunkSize: 3_000)
        #expect(summary.folded == 40_000)
        #expect(try projections.activeContents() == incremental)
        let again = try projections.rebuild(rules: .default)
        #expect(again.generation.position == 40_000)
        #expect(try projections.activeContents() == incremental)
    }

    @Test func aDryRunReadingAheadReportsWhatTheRebuildThenGives() throws {
        let (log, projections) = try store.openWithProjections()
        _ = try log.append(
            try generatedTouchpoints(
                GeneratorConfiguration(events: 20_000, customers: 300, representatives: 20)))
        try projections.catchUp()
        #expect(20_000 > ProjectionStore.readAheadThreshold)
        let same = try projections.dryRun(rules: .default)
        #expect(same.tierChanges.isEmpty)
        #expect(same.slaChanges.isEmpty)
        #expect(same.customers == (try #require(try projections.activeContents())).customerKeys.count)
        let changed = try rules([
            "loyalty.satisfaction.points": "35.0", "sla.normal.first_reply_minutes": "60",
        ])
        let report = try projections.dryRun(rules: changed)
        #expect(!report.tierChanges.isEmpty)
        #expect(!report.slaChanges.isEmpty)
        _ = try projections.rebuild(rules: changed)
        for change in report.tierChanges {
            #expect(try projections.loyalty(change.customer)?.loyalty.tier == change.to)
        }
        for change in report.slaChanges {
            #expect(
                try projections.ticket(change.ticket)?.firstReplyBreached
                    == (change.firstReply.to == .breached))
            #expect(
                try projections.ticket(change.ticket)?.resolutionBreached
                    == (change.resolution.to == .breached))
        }
        let again = try projections.dryRun(rules: changed)
        #expect(again.tierChanges.isEmpty)
        #expect(again.slaChanges.isEmpty)
    }

    @Test func aRecordThatDoesNotDecodeStopsTheReaderAndTheRebuildWithItsPosition() throws {
        let sample = try generatedTouchpoints(
            GeneratorConfiguration(events: 20_000, customers: 300, representatives: 20))
        do {
            let log = try store.open()
            _ = try log.append(sample)
        }
        // The store closed: its record at 17,000 becomes bytes that are no record.
        do {
            var options = Environment.Options()
            options.maxDatabases = 64
            let environment = try Environment(path: store.path, options: options)
            try environment.withWriteTransaction { txn in
                let events = try #require(try txn.openDatabase(named: "events"))
                try txn.put([0xEE, 1, 2, 3], forKey: BigEndianKey(17_000), in: events)
            }
        }
        let opened = try store.openStore()
        let projections = try ProjectionStore(store: opened)
        let reader = FoldEventReader(store: opened, from: 1, through: 20_000, blockSize: 1_024, depth: 2)
        var events: [FoldEvent] = []
        // Everything before the damage is handed out; the damage itself throws, whatever the chunk.
        try reader.take(through: 16_999, into: &events)
        #expect(events == (try eventsRead(opened, from: 1, through: 16_999)))
        #expect(throws: StoreError.corruptRecord(position: 17_000)) {
            var more: [FoldEvent] = []
            try reader.take(through: 18_000, into: &more)
        }
        // The rebuild (reading ahead: 20,000 positions) fails as reading in its own transaction fails.
        #expect(20_000 > ProjectionStore.readAheadThreshold)
        #expect(throws: StoreError.corruptRecord(position: 17_000)) {
            try projections.rebuild(rules: .default, chunkSize: 2_000)
        }
        #expect(try projections.activeGeneration() == nil)
    }
}
