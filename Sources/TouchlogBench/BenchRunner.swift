import CloudEvents
import Foundation
import LMDB
import TouchlogDomain
import TouchlogGenerator
import TouchlogIngest
import TouchlogProjections
import TouchlogStore

/// Runs the phases of `touchlog bench`: each measures the engine and its baseline in this process, on
/// the same workload, with the same batch size and durability, and reports both rates and their ratio.
///
/// The append phase interleaves the two: batch k goes to the raw store, then to the engine, so that both
/// see the same disk and the same page cache at the same moment (this machine's raw rate moves by 3x
/// from one run to the next; a ratio taken over interleaved batches does not).
public final class BenchRunner {
    public let options: BenchOptions
    private let progress: (String) -> Void
    private let root: String
    private var loaded: (raw: RawBaseline, store: Store)?

    /// Creates the runner and its temporary directory (removed by `close()` or on deinit).
    /// - Parameter progress: receives progress lines (for standard error).
    public init(_ options: BenchOptions, progress: @escaping (String) -> Void = { _ in }) throws {
        try options.validate()
        self.options = options
        self.progress = progress
        let parent = options.workDirectory ?? NSTemporaryDirectory()
        var template = Array((parent.hasSuffix("/") ? parent : parent + "/").utf8CString.dropLast())
        template += Array("touchlog-bench-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            throw BenchOptionError(
                "cannot create a temporary directory in '\(parent)': \(String(cString: strerror(errno)))")
        }
        root = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { close() }

    /// Removes the temporary stores.
    public func close() {
        loaded = nil
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs every phase of the options, in the order of `BenchPhase.allCases`, calling `report` after each.
    public func run(_ report: (PhaseResult) throws -> Void) throws {
        for phase in BenchPhase.allCases where options.phases.contains(phase) {
            try report(try run(phase))
        }
    }

    /// Runs one phase.
    public func run(_ phase: BenchPhase) throws -> PhaseResult {
        MemoryStats.resetPeak()
        var result: PhaseResult
        switch phase {
        case .append: result = try runAppend()
        case .ingest: result = try runIngest()
        case .replay: result = try runReplay()
        case .rebuild: result = try runRebuild()
        case .audit: result = try runAudit()
        case .commit: result = try runCommit()
        case .memory: result = try runMemory()
        case .serve: result = try runServe()
        }
        // The ingest and memory phases measure their own peak (of the ingest alone, of the children).
        if result.peakRSSBytes == 0 { result.peakRSSBytes = MemoryStats.peakResidentBytes() }
        if let r = result.rate, let b = result.baseline, b > 0 { result.ratio = r / b }
        return result
    }

    private func makeDirectory(_ name: String) throws -> String {
        let path = root + "/" + name
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    private func openStore(_ name: String) throws -> Store {
        var storeOptions = Store.Options()
        storeOptions.noSync = options.noSync
        storeOptions.format = options.storeFormat
        return try Store(path: root + "/" + name, options: storeOptions)
    }

    private func result(_ phase: BenchPhase, baseline: String, target: String) -> PhaseResult {
        PhaseResult(
            phase: phase, batchSize: options.batchSize, durable: !options.noSync, baselineName: baseline,
            target: target)
    }

    // MARK: Append

    private func runAppend() throws -> PhaseResult {
        var result = result(
            .append, baseline: "raw LMDB MDB_APPEND of the same record bytes, no indexes",
            target: "ratio >= 0.6 (with streams, idempotency, chain and tree)")
        let (timing, stores) = try load()
        loaded = stores
        result.events = options.events
        result.seconds = timing.engine
        result.baselineSeconds = timing.raw
        result.rate = Double(options.events) / timing.engine
        result.baseline = Double(options.events) / timing.raw
        result.maxAnonymousRSSBytes = timing.maxAnonymous
        result.meetsTarget = result.rate! / result.baseline! >= 0.6
        return result
    }

    /// Builds the raw store and the engine's log from the workload, batch by batch, interleaved.
    private func load() throws -> (
        (raw: Double, engine: Double, maxAnonymous: Int?), (raw: RawBaseline, store: Store)
    ) {
        let raw = try RawBaseline(path: try makeDirectory("raw"), noSync: options.noSync)
        let store = try openStore("engine")
        let log = store.log
        var workload = Workload(seed: options.seed, events: options.events, customers: options.customers)
        var encoder = RawRecordEncoder()
        var rawSeconds = 0.0
        var engineSeconds = 0.0
        var done = 0
        var maxAnonymous: Int?
        var lastReport = monotonicSeconds()
        progress(
            "append: \(options.events) events in batches of \(options.batchSize), raw baseline and engine interleaved"
        )
        // Rounds of ten batches: the raw baseline appends a round, then the engine appends the same
        // round as a stream of batches (each batch prepared while the one before it commits).
        let roundBatches = 10
        while true {
            var round: [[Touchpoint]] = []
            while round.count < roundBatches {
                let touchpoints = try workload.nextBatch(options.batchSize)
                if touchpoints.isEmpty { break }
                round.append(touchpoints)
            }
            if round.isEmpty { break }
            let encoded = round.map { touchpoints in
                var records = RawRecordEncoder.Batch()
                encoder.encode(touchpoints, into: &records)
                return records
            }
            let requests = round.map { $0.map { AppendRequest($0) } }
            let t0 = monotonicSeconds()
            for records in encoded { try raw.append(records) }
            let t1 = monotonicSeconds()
            try log.append(batches: requests) { _ in }
            let t2 = monotonicSeconds()
            rawSeconds += t1 - t0
            engineSeconds += t2 - t1
            done += round.reduce(0) { $0 + $1.count }
            if let anonymous = MemoryStats.anonymousResidentBytes() {
                maxAnonymous = max(maxAnonymous ?? 0, anonymous)
            }
            if t2 - lastReport >= 2 {
                lastReport = t2
                progress(
                    "append: \(done) events, engine \(Int(Double(done) / engineSeconds))/s, raw \(Int(Double(done) / rawSeconds))/s"
                )
            }
        }
        return ((rawSeconds, engineSeconds, maxAnonymous), (raw, store))
    }

    /// The raw store and the engine's log holding the workload (loaded untimed when the append phase did not run).
    private func loadedStores() throws -> (raw: RawBaseline, store: Store) {
        if let loaded { return loaded }
        progress("loading \(options.events) events (untimed) for the phases that read")
        let stores = try load().1
        loaded = stores
        return stores
    }

    // MARK: Ingest

    private func runIngest() throws -> PhaseResult {
        var result = result(
            .ingest, baseline: "Python eventsourcing 9.5.6 SQLite recorder (peer_eventsourcing.py)",
            target: "ratio >= 5, >= 2x UmaDB (peers)")
        let file = root + "/ingest.jsonl"
        progress("ingest: generating \(options.events) events as JSON Lines (untimed)")
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else {
            throw BenchOptionError("cannot create \(file): \(String(cString: strerror(errno)))")
        }
        do {
            try TouchpointGenerator.writeJSONLines(
                GeneratorConfiguration(
                    seed: options.seed, events: options.events, customers: options.customers),
                toFileDescriptor: fd)
        } catch {
            Glibc.close(fd)
            throw error
        }
        Glibc.close(fd)
        let fileBytes = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        defer { try? FileManager.default.removeItem(atPath: file) }

        let store = try openStore("ingest-store")
        var source = CloudEventSource(try EventInputReader(path: file))
        var ingestor = IngestPipeline()
        ingestor.batchSize = options.batchSize
        // What `touchlog ingest` does, in its two parts timed apart: the pipeline's append (read, validate,
        // commit durably), then the projections' catch-up that `IngestPipeline.run` does after it.
        ingestor.updatesProjections = false
        var maxAnonymous: Int?
        var lastReport = monotonicSeconds()
        let start = lastReport
        let report = progress
        ingestor.progress = { summary in
            if let anonymous = MemoryStats.anonymousResidentBytes() {
                maxAnonymous = max(maxAnonymous ?? 0, anonymous)
            }
            let now = monotonicSeconds()
            if now - lastReport >= 2 {
                lastReport = now
                report(
                    "ingest: \(summary.appended) events, \(Int(Double(summary.appended) / (now - start)))/s")
            }
        }
        MemoryStats.resetPeak()
        progress("ingest: \(fileBytes) bytes of JSON Lines, end to end through IngestPipeline")
        let t0 = monotonicSeconds()
        let summary = try ingestor.run(&source, named: file, into: store)
        let t1 = monotonicSeconds()
        progress("ingest: bringing the projections up to date")
        _ = try ProjectionStore(store: store).catchUp()
        let seconds = monotonicSeconds() - t0
        let peak = MemoryStats.peakResidentBytes()
        guard summary.appended == options.events else {
            throw BenchOptionError("ingest appended \(summary.appended) of \(options.events) events")
        }
        result.events = summary.appended
        result.seconds = seconds
        result.rate = Double(summary.appended) / seconds
        result.parts = [
            PhaseResult.Part(name: "append", seconds: t1 - t0, events: summary.appended),
            PhaseResult.Part(name: "projections", seconds: seconds - (t1 - t0), events: summary.appended),
        ]
        result.maxAnonymousRSSBytes = maxAnonymous

        var eventsourcing = PeerRun(name: "eventsourcing", targetRatio: 5)
        if let peerRate = options.peerRate {
            result.baseline = peerRate
            result.note = "peer rate given with --peer-rate"
            eventsourcing.record(
                PeerReading(rate: peerRate, version: nil), events: options.events, engineRate: result.rate)
            eventsourcing.note = result.note
        } else {
            progress("ingest: running the Python peer on \(options.events) events")
            do {
                let stateBytes = max(1, fileBytes / max(1, options.events))
                let reading = try PeerBaseline.measure(
                    python: options.peerPython, script: options.peerScript, directory: root,
                    events: options.events,
                    stateBytes: stateBytes, batch: options.batchSize, customers: options.customers)
                result.baseline = reading.rate
                result.baselineSeconds = Double(options.events) / reading.rate
                result.note =
                    "peer run in this process's sitting with \(stateBytes)-byte events (the mean JSON line)"
                eventsourcing.record(reading, events: options.events, engineRate: result.rate)
            } catch {
                result.note = "peer not available: \(error)"
            }
            eventsourcing.note = result.note
            try? FileManager.default.removeItem(atPath: root + "/peer.db")
        }
        progress("ingest: running the UmaDB peer on the same \(options.events) events")
        let umadb = UmaDBPeer.run(
            python: options.peerPython, jsonLines: file, events: options.events, batch: options.batchSize,
            engineRate: result.rate)
        result.peers = [eventsourcing, umadb]
        // Met when every peer that ran is beaten by its target ratio.
        let judged = result.peers!.compactMap(\.meetsTarget)
        if !judged.isEmpty { result.meetsTarget = !judged.contains(false) }
        // The peak of the ingest alone (the peer is another process).
        result.peakRSSBytes = peak
        return result
    }

    // MARK: Replay

    private func runReplay() throws -> PhaseResult {
        var result = result(
            .replay, baseline: "raw mdb_get of the same records, no decoding",
            target: "p50 < 1 ms for a 100-event history")
        let (raw, store) = try loadedStores()
        let log = store.log
        // Customers spread evenly over the id range (the generator's popularity is shuffled over ids).
        let samples = min(options.replaySamples, options.customers)
        let stride = max(1, options.customers / samples)
        var customers: [String] = []
        for i in 0..<samples {
            customers.append(Workload.customerID((i * stride) % options.customers, of: options.customers))
        }
        // Customers with about 100 events, for the target's figure.
        var hundred: [String] = []
        var index = 0
        while hundred.count < samples && index < options.customers {
            let id = Workload.customerID(index, of: options.customers)
            if (90...110).contains(try log.version(ofCustomer: id)) { hundred.append(id) }
            index += 1
        }
        progress("replay: \(customers.count) customers, and \(hundred.count) with 90 to 110 events")

        func measure(_ ids: [String]) throws -> (latencies: [Double], events: Int, positions: [[UInt64]]) {
            var latencies: [Double] = []
            var events = 0
            var positions: [[UInt64]] = []
            for id in ids {
                let t0 = monotonicSeconds()
                let stream = try log.stream(ofCustomer: id)
                latencies.append(monotonicSeconds() - t0)
                events += stream.count
                positions.append(stream.map(\.position))
            }
            return (latencies.sorted(), events, positions)
        }
        let all = try measure(customers)
        let hundredRun = try measure(hundred)
        // The baseline reads the same records by position, raw.
        var rawSeconds = 0.0
        for list in all.positions {
            let t0 = monotonicSeconds()
            _ = try raw.read(list)
            rawSeconds += monotonicSeconds() - t0
        }
        let engineSeconds = all.latencies.reduce(0, +)
        result.events = all.events
        result.seconds = engineSeconds
        result.baselineSeconds = rawSeconds
        result.rate = Double(all.events) / engineSeconds
        result.baseline = Double(all.events) / rawSeconds
        let ms = { (s: Double) in (s * 1e6).rounded() / 1e3 }
        result.latency = PhaseResult.Latency(
            samples: all.latencies.count,
            meanEvents: Double(all.events) / Double(max(1, all.latencies.count)),
            p50Ms: ms(percentile(all.latencies, 0.5)), p99Ms: ms(percentile(all.latencies, 0.99)),
            p999Ms: ms(percentile(all.latencies, 0.999)), hundredEventSamples: hundredRun.latencies.count,
            hundredEventP50Ms: hundredRun.latencies.isEmpty ? nil : ms(percentile(hundredRun.latencies, 0.5)),
            hundredEventP99Ms: hundredRun.latencies.isEmpty ? nil : ms(percentile(hundredRun.latencies, 0.99))
        )
        if hundredRun.latencies.isEmpty {
            result.note = "no customer has 90 to 110 events: use about events/100 customers"
        } else {
            result.meetsTarget = percentile(hundredRun.latencies, 0.5) < 0.001
            result.note = "log of \(options.events) events; the target asks for 5,000,000"
        }
        return result
    }

    // MARK: Rebuild

    private func runRebuild() throws -> PhaseResult {
        var result = result(
            .rebuild, baseline: "raw cursor scan of the events table, no decoding",
            target: "rate >= 1,000,000 events/s")
        guard let rebuild = options.rebuild else {
            result.note = "not available: no projections module is wired into the bench yet"
            return result
        }
        let (raw, store) = try loadedStores()
        progress("rebuild: folding every projection from position 1")
        try timeAgainstScan(raw, into: &result, target: 1_000_000) { try rebuild(store) }
        return result
    }

    /// Times `work` (which returns how many events it handled), then the raw cursor scan of the same
    /// events, into `result`; met when the engine's rate reaches `target` events per second.
    private func timeAgainstScan(
        _ raw: RawBaseline, into result: inout PhaseResult, target: Double, _ work: () throws -> Int
    ) throws {
        let t0 = monotonicSeconds()
        let events = try work()
        let t1 = monotonicSeconds()
        let scanned = try raw.scan()
        let t2 = monotonicSeconds()
        result.events = events
        result.seconds = t1 - t0
        result.baselineSeconds = t2 - t1
        result.rate = Double(events) / (t1 - t0)
        result.baseline = Double(scanned) / (t2 - t1)
        result.meetsTarget = result.rate! >= target
    }

    // MARK: Audit

    private func runAudit() throws -> PhaseResult {
        var result = result(
            .audit, baseline: "raw cursor scan of the events table, no decoding",
            target: "rate >= 500,000 events/s")
        guard let audit = options.audit else {
            result.note = "not available: no audit is wired into the bench"
            return result
        }
        let (raw, store) = try loadedStores()
        progress("audit: bringing the projections up to date (untimed)")
        _ = try ProjectionStore(store: store).catchUp()
        progress("audit: the chain, the indexes and every projection against a fresh fold")
        try timeAgainstScan(raw, into: &result, target: 500_000) { try audit(store) }
        return result
    }

    // MARK: Memory

    private func runMemory() throws -> PhaseResult {
        var result = result(
            .memory, baseline: "none: the bound is absolute",
            target: "RssAnon < \(MemoryPhase.boundBytes / 1_048_576) MiB in every command")
        let phase = MemoryPhase(options: options, directory: try makeDirectory("memory"), progress: progress)
        defer { try? FileManager.default.removeItem(atPath: root + "/memory") }
        try phase.run(into: &result)
        return result
    }

    // MARK: Serve

    private func runServe() throws -> PhaseResult {
        var result = result(
            .serve, baseline: "one event per durable commit (EventLog.append of one event per transaction)",
            target: "ratio >= 20, >= 2x UmaDB's server (64 clients, one event per request)")
        let phase = ServePhase(options: options, directory: try makeDirectory("serve"), progress: progress)
        defer { try? FileManager.default.removeItem(atPath: root + "/serve") }
        try phase.run(into: &result)
        return result
    }

    // MARK: Commit

    private func runCommit() throws -> PhaseResult {
        var result = result(
            .commit, baseline: "raw LMDB, one MDB_APPEND put per commit", target: "none (reported)")
        let count = min(options.commitEvents, options.events)
        let raw = try RawBaseline(path: try makeDirectory("commit-raw"), noSync: options.noSync)
        let log = try openStore("commit-engine").log
        var workload = Workload(seed: options.seed, events: count, customers: options.customers)
        let touchpoints = try workload.nextBatch(count)
        var encoder = RawRecordEncoder()
        var records = RawRecordEncoder.Batch()
        progress("commit: \(touchpoints.count) events, one durable commit each, raw and engine interleaved")
        var rawSeconds = 0.0
        var engineSeconds = 0.0
        for touchpoint in touchpoints {
            encoder.encode([touchpoint], into: &records)
            let request = [AppendRequest(touchpoint)]
            let t0 = monotonicSeconds()
            try raw.append(records)
            let t1 = monotonicSeconds()
            _ = try log.append(request)
            let t2 = monotonicSeconds()
            rawSeconds += t1 - t0
            engineSeconds += t2 - t1
        }
        result.events = touchpoints.count
        result.seconds = engineSeconds
        result.baselineSeconds = rawSeconds
        result.rate = Double(touchpoints.count) / engineSeconds
        result.baseline = Double(touchpoints.count) / rawSeconds
        return result
    }
}
