import CloudEvents
import Foundation
import Testing
import TouchlogDomain
import TouchlogStore
import TouchlogTestSupport

/// Seeded random operations against the real `EventLog` and against `LogModel`, a plain in-memory log
/// (arrays and dictionaries): after every step, the two must agree on every outcome and on everything
/// the log can be asked. A failure names the seed and the step; the same seed replays the same run.
@Suite struct LogModelTests {
    /// Steps per seed: some 600 requests, 350 events, duplicates of all kinds, 20 to 30 failed batches, 10
    /// to 20 reopenings.
    static let steps = 150

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func theLogAgreesWithTheModelAfterEveryStep(seed: UInt64) throws {
        let store = try TestStore(prefix: "log-model")
        var run = ModelRun(seed: seed)
        var log: EventLog? = try store.open(noSync: true)
        var counts: [String: Int] = [:]
        var compared = Compared()
        for step in 1...Self.steps {
            let context = "seed \(seed), step \(step)"
            let operation = try run.nextOperation()
            counts[operation.name, default: 0] += 1
            switch operation {
            case .append(let requests):
                let expected = run.model.append(requests)
                let actual = Result { try #require(log).append(requests).outcomes }
                try #require(
                    Outcomes(actual) == Outcomes(expected), "\(context): appending \(describe(requests))")
            case .appendTouchpoints(let touchpoints):
                let expected = run.model.append(touchpoints.map { AppendRequest($0) })
                let actual = Result { try #require(log).append(touchpoints).outcomes }
                try #require(Outcomes(actual) == Outcomes(expected), "\(context): appending touchpoints")
            case .appendBatches(let batches):
                // As the log does: batches in order, empty ones skipped, nothing after the first failure.
                var expected: [Outcomes] = []
                for batch in batches where !batch.isEmpty {
                    let outcome = run.model.append(batch)
                    expected.append(Outcomes(outcome))
                    if case .failure = outcome { break }
                }
                var actual: [Outcomes] = []
                do {
                    try #require(log).append(batches: batches) { actual.append(.appended($0.outcomes)) }
                } catch let error as StoreError {
                    actual.append(.failed(error))
                }
                try #require(actual == expected, "\(context): appending batches \(batches.map(describe))")
            case .reopen:
                // Closed before it is opened again: one environment per store and process (lmdb.h).
                weak let closing = log
                log = nil
                // The writer thread of `append(batches:)` may hold the log a moment after the last batch.
                for _ in 0..<1000 where closing != nil { usleep(1000) }
                try #require(closing == nil, "\(context): the log did not close")
                log = try store.open(noSync: true)
            }
            let whole = step % 10 == 0 || step == Self.steps || operation.name == "reopen"
            try compare(
                try #require(log), run.model, touched: operation.identities, previous: &compared,
                whole: whole,
                &run.random, context)
        }
        // The run did what it is for: every kind of operation and of request, and batches that failed.
        #expect(counts.keys.sorted() == ["append", "appendBatches", "appendTouchpoints", "reopen"])
        let coverage = run.model.coverage
        #expect(coverage.conflicts > 5, "\(coverage)")
        #expect(coverage.versionsHeld > 50, "\(coverage)")
        #expect(coverage.duplicates > 20 && coverage.inBatchDuplicates > 3, "\(coverage)")
        #expect(coverage.otherContent > 20 && coverage.inBatchOtherContent > 3, "\(coverage)")
        #expect(run.model.events.count > 200)
    }

    /// Everything the log can be asked, against the model. Every step reads every customer's stream (the
    /// replay API: together, the whole log) and verifies the whole log; the events the step appended are
    /// read with the tail API from the head `previous` recorded. With `whole` (every tenth step, after
    /// reopening, at the end), the tail API reads the whole log from position 1 as well, tails start
    /// anywhere, and every identity is looked up. (Reading everything twice after every step would make
    /// the test quadratic and slow, for no more than the streams and the chain already show.)
    func compare(
        _ log: EventLog, _ model: LogModel, touched: [Identity], previous: inout Compared, whole: Bool,
        _ random: inout SeededRandom, _ context: String
    ) throws {
        let count = UInt64(model.events.count)
        let head = try log.head()
        try #require(head.position == count, "\(context): head")

        // The log read back in order from `from`, against the model event by event, chain and all.
        let from = whole ? 1 : previous.position + 1
        var read: [StoredEvent] = []
        try log.forEachEvent(from: from) {
            read.append($0)
            return true
        }
        try #require(read.count == Int(count + 1 - from), "\(context): events read from \(from)")
        var predecessor = whole ? ChainHash.genesis : previous.hash
        var recorded = whole ? nil : previous.recordedAt
        for (stored, expected) in zip(read, model.events[Int(from - 1)...]) {
            let what = "\(context): position \(expected.position)"
            try #require(stored.position == expected.position, "\(what)")
            try #require(stored.version == expected.version, "\(what): version")
            try #require(stored.previousPosition == expected.previousPosition, "\(what): previous position")
            try #require(stored.event == expected.touchpoint.event, "\(what): the event")
            try #require(stored.occurredAt == expected.touchpoint.occurredAt, "\(what): occurred at")
            try #require(stored.predecessorHash == predecessor, "\(what): chain")
            try #require(recorded.map { $0 <= stored.recordedAt } ?? true, "\(what): recorded time went back")
            predecessor = stored.hash
            recorded = stored.recordedAt
        }
        try #require(head.hash == predecessor, "\(context): head hash")
        if whole, previous.position > 0 {
            try #require(
                read[Int(previous.position) - 1].hash == previous.hash, "\(context): an earlier event changed"
            )
        }
        previous = Compared(position: count, hash: head.hash, recordedAt: recorded)

        if whole {
            // Tailing from anywhere gives the rest of the log; stopping early gives exactly what was taken.
            let start = UInt64.random(in: 1...count + 1, using: &random)
            var tail: [StoredEvent] = []
            try log.forEachEvent(from: start) {
                tail.append($0)
                return true
            }
            try #require(tail == Array(read.dropFirst(Int(start) - 1)), "\(context): tail from \(start)")
            let wanted = Int.random(in: 1...3, using: &random)
            var taken = 0
            try log.forEachEvent(from: start) { _ in
                taken += 1
                return taken < wanted
            }
            try #require(taken == min(wanted, tail.count), "\(context): tail stopped after \(wanted)")
            try #require(try log.event(at: start) == tail.first, "\(context): event at \(start)")
            try #require(try log.event(at: 0) == nil, "\(context): event at 0")
        }

        // Each customer's stream (the replay API) and version, and a customer the log never saw.
        for customer in model.streams.keys.sorted() + ["never-seen"] {
            let positions = model.streams[customer] ?? []
            let stream = try log.stream(ofCustomer: customer)
            try #require(stream.map(\.position) == positions, "\(context): stream of \(customer)")
            try #require(
                stream.map(\.version) == (0..<UInt64(positions.count)).map { $0 + 1 },
                "\(context): versions of \(customer)")
            try #require(
                stream.map(\.event) == positions.map { model.events[Int($0) - 1].touchpoint.event },
                "\(context): events of \(customer)")
            try #require(
                try log.version(ofCustomer: customer) == UInt64(positions.count), "\(context): \(customer)")
        }

        // The identities of this step (all, with `whole`) find their positions, or none if not stored.
        for identity in whole ? Array(model.positions.keys) + touched : touched {
            try #require(
                try log.position(source: identity.source, id: identity.id) == model.positions[identity],
                "\(context): position of \(identity)")
        }

        let statistics = try log.statistics()
        try #require(statistics.events == model.events.count, "\(context): statistics")
        try #require(statistics.customers == model.streams.count, "\(context): statistics")
        let verification = try log.verify()
        try #require(verification.problems.isEmpty, "\(context): \(verification.problems.prefix(3))")
        try #require(verification.eventsChecked == model.events.count, "\(context): events verified")
        try #require(verification.headPosition == count, "\(context): verified head")
    }
}

/// The head of the log when the last step was compared.
struct Compared {
    var position: UInt64 = 0
    var hash = ChainHash.genesis
    var recordedAt: Timestamp?
}

/// The random side of a run: the next operation, drawn from the model's state.
struct ModelRun {
    enum Operation {
        case append([AppendRequest])
        case appendTouchpoints([Touchpoint])
        case appendBatches([[AppendRequest]])
        case reopen

        /// The identities the operation sends.
        var identities: [Identity] {
            switch self {
            case .append(let requests): requests.map { Identity($0.touchpoint) }
            case .appendTouchpoints(let touchpoints): touchpoints.map(Identity.init)
            case .appendBatches(let batches): batches.joined().map { Identity($0.touchpoint) }
            case .reopen: []
            }
        }

        var name: String {
            switch self {
            case .append: "append"
            case .appendTouchpoints: "appendTouchpoints"
            case .appendBatches: "appendBatches"
            case .reopen: "reopen"
            }
        }
    }

    var random: SeededRandom
    var model = LogModel()
    /// Numbers new events' ids and contents.
    private var counter = 0
    static let customers = ["c0", "c1", "c2", "c3"]
    static let sources = ["urn:a", "urn:b"]

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func nextOperation() throws -> Operation {
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<55:
            return .append(try batch(after: model))
        case 55..<65:
            return .appendTouchpoints(try batch(after: model, versions: false).map(\.touchpoint))
        case 65..<92:
            // Several batches, each drawn as if the ones before it had committed, sometimes an empty one.
            var preview = model
            var batches: [[AppendRequest]] = []
            for _ in 0..<Int.random(in: 2...4, using: &random) {
                let next = try batch(after: preview)
                _ = preview.append(next)
                batches.append(next)
            }
            return .appendBatches(batches)
        default:
            return .reopen
        }
    }

    /// A batch of 0 to 6 requests for a log in state `state`: new events, exact duplicates of stored
    /// events and of earlier ones of the batch, identities reused with other content, and expected
    /// versions that hold or (rarely) do not.
    mutating func batch(after state: LogModel, versions: Bool = true) throws -> [AppendRequest] {
        var preview = state
        var requests: [AppendRequest] = []
        let size = Int.random(in: 0...20, using: &random) == 0 ? 0 : Int.random(in: 1...6, using: &random)
        for _ in 0..<size {
            // An earlier event to send again: from this batch half the time, else one of the last stored.
            let earlier =
                !requests.isEmpty && Bool.random(using: &random)
                ? requests.map(\.touchpoint) : preview.events.suffix(40).map(\.touchpoint)
            let touchpoint: Touchpoint
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<15 where !earlier.isEmpty:
                // The same event again: stored already, or earlier in this batch.
                touchpoint = earlier.randomElement(using: &random)!
            case 15..<30 where !earlier.isEmpty:
                // Its identity again, with another customer, time or data.
                let original = earlier.randomElement(using: &random)!
                touchpoint = try newTouchpoint(source: original.event.source, id: original.event.id)
            case 30..<36 where !earlier.isEmpty:
                // Another source's event with the same id: a different identity.
                let original = earlier.randomElement(using: &random)!
                let source = Self.sources.first { $0 != original.event.source }!
                touchpoint = try newTouchpoint(source: source, id: original.event.id)
            default:
                counter += 1
                touchpoint = try newTouchpoint(
                    source: Self.sources.randomElement(using: &random)!, id: "e\(counter)")
            }
            var request = AppendRequest(touchpoint)
            if versions {
                let version = preview.version(ofCustomer: touchpoint.customer)
                switch Int.random(in: 0..<100, using: &random) {
                case 0..<35: request.expectedVersion = version
                case 35..<39: request.expectedVersion = version + 1
                case 39..<41: request.expectedVersion = version == 0 ? 3 : version - 1
                default: break
                }
            }
            _ = preview.append([request])
            requests.append(request)
        }
        return requests
    }

    /// A valid touchpoint with this identity and fresh content (customer, time and summary drawn anew).
    mutating func newTouchpoint(source: String, id: String) throws -> Touchpoint {
        counter += 1
        let customer = Self.customers.randomElement(using: &random)!
        let minute = Int.random(in: 10...59, using: &random)
        return try touchpoint(
            id: id, customer: customer, time: "2024-05-01T10:\(minute):00Z", source: source,
            data: #"{"summary":"content \#(counter)"}"#)
    }
}
