import Testing
import TouchlogDomain
import TouchlogTestSupport

@testable import TouchlogStore

/// `append(batches:committed:)` prepares each batch while the one before it commits: its results must
/// be exactly those of appending the batches one by one.
@Suite struct AppendBatchesTests {
    let store: TestStore
    init() throws { store = try TestStore() }

    /// Batches whose outcomes depend on the batch before them: duplicates of its events, duplicates
    /// within a batch, and expected versions that count its events.
    func batches() throws -> [[AppendRequest]] {
        var batches: [[AppendRequest]] = []
        for round in 0..<6 {
            var batch = try (0..<40).map {
                AppendRequest(try touchpoint(id: "r\(round)-\($0)", customer: "c\($0 % 5)"))
            }
            if round > 0 {
                // Sent again: an event of the previous batch, and one of the first batch.
                batch.append(AppendRequest(try touchpoint(id: "r\(round - 1)-7", customer: "c2")))
                batch.append(AppendRequest(try touchpoint(id: "r0-0", customer: "c0")))
            }
            batch.append(AppendRequest(try touchpoint(id: "r\(round)-3", customer: "c3")))
            // c4 has had 8 events per earlier round, and 8 in this one so far.
            batch.append(
                AppendRequest(
                    try touchpoint(id: "v\(round)", customer: "c4"), expectedVersion: UInt64(round * 9 + 8)))
            batches.append(batch)
        }
        return batches
    }

    @Test func pipelinedBatchesGiveTheOutcomesOfOneByOne() throws {
        let batches = try batches()
        var pipelined: [AppendResult] = []
        try store.open().append(batches: batches) { pipelined.append($0) }

        let oneByOne = try withTemporaryLog { log in try batches.map { try log.append($0) } }
        #expect(pipelined == oneByOne)
        #expect(pipelined.flatMap(\.outcomes).contains(.duplicate(position: 1)))
        #expect(pipelined[3].duplicates == 3)

        let reopened = try store.open()
        #expect(try reopened.verify().problems.isEmpty)
        #expect(try reopened.statistics().events == oneByOne.reduce(0) { $0 + $1.appended })
        #expect(try reopened.version(ofCustomer: "c4") == 6 * 9)
    }

    @Test func anotherWriterBetweenPredictionAndCommitIsTakenIntoAccount() throws {
        let log = try store.open()
        let batches = try batches()
        var results: [AppendResult] = []
        // When batch 0 is acknowledged, batch 1 is already prepared after it; this append moves the head.
        try log.append(batches: batches) { result in
            results.append(result)
            if results.count == 1 {
                // Batch 1's first event, sent by another writer: a retry that lands first.
                _ = try log.append([batches[1][0]])
            }
        }
        // Batch 0 appended 41 events, so r1-0 is at 42 and batch 1 acknowledges it as a duplicate.
        #expect(results[1].outcomes.first == .duplicate(position: 42))
        #expect(results[1].outcomes[1] == .appended(position: 43, version: 9))
        #expect(try log.verify().problems.isEmpty)
    }

    @Test func aVersionConflictStopsAtItsBatchAfterTheEarlierOnesCommitted() throws {
        let log = try store.open()
        var batches = try batches()
        batches[2][batches[2].count - 1].expectedVersion = 99
        var committed = 0
        #expect(throws: StoreError.versionConflict(customer: "c4", expected: 99, actual: 26)) {
            try log.append(batches: batches) { _ in committed += 1 }
        }
        #expect(committed == 2)
        #expect(try log.statistics().events == 2 * 41)
        #expect(try log.version(ofCustomer: "c4") == 18)
    }
}
