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

    /// Format 3 seals a batch in chunks on several threads and then chains the chunks in order
    /// (`PreparedBatch.seal()`): batches of several chunks, pipelined, with another writer moving the
    /// head between a batch's prediction and its commit, must chain, audit and read back as appended.
    @Test func sealedBatchesOfSeveralChunksChainAndReadBackAfterAnotherWriter() throws {
        let log = try store.open()
        #expect(log.format == 3)
        let size = 3 * PreparedBatch.minimumChunk + 7
        let batches = try (0..<3).map { round in
            try (0..<size).map { index in
                AppendRequest(
                    try touchpoint(
                        id: "s\(round)-\(index)", customer: "c\(index % 37)",
                        extra: #""channel":"email","email":"c\#(index % 37)@example.com""#))
            }
        }
        let intruder = AppendRequest(try touchpoint(id: "intruder", customer: "c1"))
        var results: [AppendResult] = []
        try log.append(batches: batches) { result in
            results.append(result)
            // Batch 1 is already prepared after batch 0: this append moves the head under it.
            if results.count == 1 { _ = try log.append([intruder]) }
        }
        #expect(results.map(\.appended) == [size, size, size])
        // The intruder is at size + 1; batch 1's first event is c0's after c0's events of batch 0.
        let c0InBatch0 = UInt64((size + 36) / 37)
        #expect(results[1].outcomes.first == .appended(position: UInt64(size) + 2, version: c0InBatch0 + 1))
        #expect(try log.verify().problems.isEmpty)

        // Every event reads back (its content opened and checked against its commitment) where its
        // outcome put it, chunk boundaries included.
        for (batch, result) in zip(batches, results) {
            for (request, outcome) in zip(batch, result.outcomes) {
                guard case .appended(let position, _) = outcome else {
                    Issue.record("\(request.touchpoint.event.id): \(outcome)")
                    continue
                }
                let stored = try #require(try log.event(at: position))
                #expect(stored.event.id == request.touchpoint.event.id)
                #expect(stored.event.hasSameContent(as: request.touchpoint.event))
            }
        }
        // Sent again, every event of the batches is a duplicate of where it went.
        let again = try log.append(batches[2])
        #expect(
            again.outcomes
                == results[2].outcomes.map { outcome in
                    guard case .appended(let position, _) = outcome else { return outcome }
                    return .duplicate(position: position)
                })
    }
}
