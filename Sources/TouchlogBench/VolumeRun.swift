import CloudEvents
import Foundation
import SystemPackage
import TouchlogDomain
import TouchlogGenerator
import TouchlogIngest
import TouchlogStore

/// Throughput versus volume: ingests one growing log, `step` events at a time, end to end (JSON Lines
/// through `IngestPipeline`), and records the rate of each step, so a chart shows whether ingest degrades.
///
/// Each step's input is generated into a temporary file first (untimed), so the timed part is only the
/// ingest, and the disk never holds more than one step of input.
public struct VolumeRun {
    public var events = 20_000_000
    public var step = 1_000_000
    public var customers = 100_000
    public var batchSize = 10_000
    public var noSync = false
    public var seed: UInt64 = 42
    public var workDirectory: String?

    public init() {}

    /// One step of the run.
    public struct Point: Sendable, Equatable {
        /// Events in the log after this step.
        public var events: Int
        /// Events per second of this step.
        public var rate: Double
        public var seconds: Double
        /// Anonymous resident memory after the step, and the size of the store.
        public var anonymousRSSBytes: Int
        public var storeBytes: Int
    }

    public func validate() throws(BenchOptionError) {
        guard events >= 1 else { throw BenchOptionError("--events must be at least 1") }
        guard step >= 1 else { throw BenchOptionError("--step must be at least 1") }
        guard (1...99_999_999).contains(customers) else {
            throw BenchOptionError("--customers must be from 1 to 99999999")
        }
        guard batchSize >= 1 else { throw BenchOptionError("--batch-size must be at least 1") }
    }

    /// The CSV header that `csvLine` rows follow.
    public static let csvHeader = "events,rate_events_per_s,seconds,anon_rss_bytes,store_bytes"

    public static func csvLine(_ p: Point) -> String {
        "\(p.events),\(Int(p.rate.rounded())),\(String(format: "%.3f", p.seconds)),\(p.anonymousRSSBytes),\(p.storeBytes)"
    }

    /// Runs the whole volume, calling `onPoint` after each step (to write the CSV as it goes).
    public func run(progress: (String) -> Void = { _ in }, onPoint: (Point) throws -> Void) throws {
        try validate()
        let parent = workDirectory ?? NSTemporaryDirectory()
        let root =
            (parent.hasSuffix("/") ? parent : parent + "/")
            + "touchlog-volume-\(getpid())-\(Int(monotonicSeconds() * 1000))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var storeOptions = Store.Options()
        storeOptions.noSync = noSync
        let store = try Store(path: root + "/store", options: storeOptions)
        var generator = TouchpointGenerator(
            GeneratorConfiguration(seed: seed, events: events, customers: customers))
        var ingestor = IngestPipeline()
        ingestor.batchSize = batchSize
        // The volume run charts the append path; projections are not kept.
        ingestor.updatesProjections = false
        var total = 0
        let file = root + "/step.jsonl"
        var chunk: [UInt8] = []
        chunk.reserveCapacity(1 << 21)
        while total < events {
            // Generate the step's input (untimed).
            let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            guard fd >= 0 else { throw BenchOptionError("cannot create \(file)") }
            var inStep = 0
            while inStep < step, generator.writeNext(into: &chunk) {
                chunk.append(0x0a)
                inStep += 1
                if chunk.count >= 1 << 20 { try writeAll(fd, &chunk) }
            }
            try writeAll(fd, &chunk)
            close(fd)
            if inStep == 0 { break }
            var source = CloudEventSource(try EventInputReader(path: file))
            let t0 = monotonicSeconds()
            let summary = try ingestor.run(&source, named: file, into: store)
            let seconds = monotonicSeconds() - t0
            total += summary.appended
            let stats = try store.log.statistics()
            let point = Point(
                events: total, rate: Double(summary.appended) / seconds, seconds: seconds,
                anonymousRSSBytes: MemoryStats.anonymousResidentBytes() ?? 0, storeBytes: stats.usedBytes)
            progress("volume: \(total) events, \(Int(point.rate))/s for the last \(summary.appended)")
            try onPoint(point)
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: inout [UInt8]) throws {
        do {
            _ = try FileDescriptor(rawValue: fd).writeAll(bytes)
        } catch let error as Errno {
            throw BenchOptionError("write failed: \(String(cString: strerror(error.rawValue)))")
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
