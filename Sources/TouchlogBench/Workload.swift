import CloudEvents
import TouchlogDomain
import TouchlogGenerator
@_spi(Benchmarks) import TouchlogStore

/// The deterministic workload: generated CloudEvents JSON, parsed and validated into touchpoints in
/// batches (outside every timed section).
struct Workload {
    private var generator: TouchpointGenerator
    private var line: [UInt8] = []

    init(seed: UInt64, events: Int, customers: Int) {
        generator = TouchpointGenerator(
            GeneratorConfiguration(seed: seed, events: events, customers: customers))
        line.reserveCapacity(1024)
    }

    /// Up to `count` more touchpoints; empty when the workload is exhausted.
    mutating func nextBatch(_ count: Int) throws -> [Touchpoint] {
        var batch: [Touchpoint] = []
        batch.reserveCapacity(count)
        while batch.count < count {
            line.removeAll(keepingCapacity: true)
            guard generator.writeNext(into: &line) else { break }
            batch.append(try Touchpoint(validating: try CloudEvent(json: line)))
        }
        return batch
    }

    /// The customer id the generator gives customer `index` (0-based) of `customers`.
    static func customerID(_ index: Int, of customers: Int) -> String {
        let width = max(6, String(customers).count)
        let digits = String(index + 1)
        return "cus-" + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// Encodes touchpoints into the exact record bytes the engine stores (positions, stream links and the
/// hash chain included), for the raw baseline. Keeps the chain state between batches.
struct RawRecordEncoder {
    private var position: UInt64 = 0
    private var predecessor = ChainHash.genesis
    private var streams: [String: (last: UInt64, version: UInt64)] = [:]
    private let recordedAt = Timestamp.now()
    private var record: [UInt8] = []

    /// The records of one batch, back to back, with where each ends.
    struct Batch {
        var firstPosition: UInt64 = 1
        var bytes: [UInt8] = []
        var ends: [Int] = []
        var count: Int { ends.count }
        func record(_ i: Int) -> ArraySlice<UInt8> { bytes[(i == 0 ? 0 : ends[i - 1])..<ends[i]] }
    }

    mutating func encode(_ touchpoints: [Touchpoint], into batch: inout Batch) {
        batch.bytes.removeAll(keepingCapacity: true)
        batch.ends.removeAll(keepingCapacity: true)
        batch.firstPosition = position + 1
        for touchpoint in touchpoints {
            position += 1
            let stream = streams[touchpoint.customer] ?? (0, 0)
            predecessor = EventLog.encodeRecord(
                touchpoint, position: position, version: stream.version + 1, previousPosition: stream.last,
                recordedAt: recordedAt, predecessorHash: predecessor, into: &record)
            streams[touchpoint.customer] = (position, stream.version + 1)
            batch.bytes.append(contentsOf: record)
            batch.ends.append(batch.bytes.count)
        }
    }
}
