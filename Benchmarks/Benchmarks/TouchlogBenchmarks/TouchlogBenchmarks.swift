// Micro-benchmarks of the hot paths: CloudEvents parsing, validation, record encoding and decoding,
// the chain hash, and one batch append. Instructions and allocations are the stable metrics on this
// noisy 2-core machine; wall clock is reported too. Thresholds live in Thresholds/ (see README).
import Benchmark
import CloudEvents
import Foundation
import TouchlogDomain
@_spi(Benchmarks) import TouchlogStore
import TouchlogGenerator

/// 1,000 generated events: their JSON lines, parsed events and validated touchpoints.
struct Sample {
    let lines: [[UInt8]]
    let events: [CloudEvent]
    let touchpoints: [Touchpoint]
    let records: [[UInt8]]

    init(count: Int = 1_000) {
        let generator = TouchpointGenerator(GeneratorConfiguration(seed: 7, events: count, customers: 100))
        lines = Array(generator)
        events = lines.map { try! CloudEvent(json: $0) }
        touchpoints = events.map { try! Touchpoint(validating: $0) }
        var buffer: [UInt8] = []
        var predecessor = ChainHash.genesis
        var records: [[UInt8]] = []
        for (i, touchpoint) in touchpoints.enumerated() {
            predecessor = EventLog.encodeRecord(
                touchpoint, position: UInt64(i + 1), version: 1, previousPosition: 0,
                recordedAt: Timestamp(microsecondsSinceEpoch: 1_700_000_000_000_000), predecessorHash: predecessor,
                into: &buffer)
            records.append(buffer)
        }
        self.records = records
    }
}

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .instructions, .mallocCountTotal, .throughput]
    // Instructions and mallocs may grow by 5% before a threshold check fails; wall clock is not
    // checked (it moves by 2-3x from one run to the next here).
    let tolerances: [BenchmarkMetric: BenchmarkThresholds] = [
        .instructions: .init(relative: [.p50: 5.0]),
        .mallocCountTotal: .init(relative: [.p50: 5.0]),
    ]
    Benchmark.defaultConfiguration = .init(
        metrics: metrics, scalingFactor: .kilo, maxDuration: .seconds(2), maxIterations: 1_000,
        thresholds: tolerances)
    let sample = Sample()

    Benchmark("CloudEvents parse (1,000 events)") { benchmark in
        for line in sample.lines { blackHole(try CloudEvent(json: line)) }
    }

    Benchmark("Touchpoint validate (1,000 events)") { benchmark in
        for event in sample.events { blackHole(try Touchpoint(validating: event)) }
    }

    Benchmark("EventRecord encode with hash (1,000 events)") { benchmark in
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1024)
        var predecessor = ChainHash.genesis
        for (i, touchpoint) in sample.touchpoints.enumerated() {
            predecessor = EventLog.encodeRecord(
                touchpoint, position: UInt64(i + 1), version: 1, previousPosition: 0,
                recordedAt: Timestamp(microsecondsSinceEpoch: 1_700_000_000_000_000), predecessorHash: predecessor,
                into: &buffer)
        }
        blackHole(predecessor)
    }

    Benchmark("EventRecord decode (1,000 events)") { benchmark in
        for (i, record) in sample.records.enumerated() {
            try record.withUnsafeBytes { blackHole(try StoredEvent(record: $0, position: UInt64(i + 1))) }
        }
    }

    Benchmark("Chain hash SHA-256 (1,000 records)") { benchmark in
        for (i, record) in sample.records.enumerated() {
            blackHole(EventLog.recordHash(position: UInt64(i + 1), record: record))
        }
    }

    // One batch of 1,000 events into a fresh store per iteration, without fsync (MDB_NOSYNC), so the
    // figure is the CPU of the append path; `touchlog bench` measures durable commits.
    Benchmark(
        "EventLog append one batch (1,000 events, no-sync)",
        configuration: .init(maxDuration: .seconds(3), maxIterations: 200)
    ) { benchmark in
        let directory = NSTemporaryDirectory() + "touchlog-benchmark-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = Store.Options()
        options.noSync = true
        options.initialMapSize = 64 << 20
        let log = try Store(path: directory, options: options).log
        let requests = sample.touchpoints.map { AppendRequest($0) }
        benchmark.startMeasurement()
        blackHole(try log.append(requests))
        benchmark.stopMeasurement()
    }
}
