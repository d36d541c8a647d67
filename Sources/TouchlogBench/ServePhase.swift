import Foundation
import Synchronization
import TouchlogGenerator
import TouchlogStore

#if canImport(Glibc)
    import Glibc
#endif

/// `bench --phases serve`: a real `touchlog serve` (a child process) under N concurrent keep-alive
/// clients of this process, one event per request and then batches of 100, each run on a fresh store;
/// against the one-event-per-commit rate of the same machine (durable `EventLog.append` of one event
/// per transaction, in process) and UmaDB's server driven by its Python client with the same number of
/// threads. Each figure is the median of `runs` runs.
struct ServePhase {
    let options: BenchOptions
    let directory: String
    let progress: (String) -> Void

    /// One load run: events/s over the wall time, and per-request latency percentiles.
    struct Load {
        var rate: Double
        var p50Ms: Double
        var p99Ms: Double
    }

    func run(into result: inout PhaseResult) throws {
        let events = options.serveEvents
        let file = directory + "/serve.jsonl"
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else {
            throw BenchOptionError("cannot create \(file): \(String(cString: strerror(errno)))")
        }
        do {
            try TouchpointGenerator.writeJSONLines(
                GeneratorConfiguration(seed: options.seed, events: events, customers: options.customers),
                toFileDescriptor: fd)
        } catch {
            Glibc.close(fd)
            throw error
        }
        Glibc.close(fd)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map {
            Array($0.utf8)
        }

        // The baseline: one event per durable commit.
        var baselineRates: [Double] = []
        for run in 0..<options.serveRuns {
            baselineRates.append(try onePerCommit(run: run))
        }
        let baseline = median(baselineRates)
        progress(
            "serve: one event per durable commit: \(Int(baseline)) events/s (median of \(options.serveRuns))")

        var runs: [ServeRun] = []
        for perRequest in [1, 100] {
            var loads: [Load] = []
            for run in 0..<options.serveRuns {
                let load = try served(lines, perRequest: perRequest, run: run)
                progress(
                    "serve: \(options.serveClients) clients, \(perRequest) per request, run \(run + 1): \(Int(load.rate)) events/s, p50 \(load.p50Ms) ms, p99 \(load.p99Ms) ms"
                )
                loads.append(load)
            }
            runs.append(
                ServeRun(
                    name: "touchlog serve", clients: options.serveClients, eventsPerRequest: perRequest,
                    events: lines.count, runs: loads.count, rate: median(loads.map(\.rate)),
                    p50Ms: median(loads.map(\.p50Ms)), p99Ms: median(loads.map(\.p99Ms)),
                    ratioToOnePerCommit: median(loads.map(\.rate)) / baseline))
        }
        result.events = lines.count
        result.rate = runs[0].rate
        result.baseline = baseline
        result.serveRuns = runs

        var umadb = PeerRun(name: "umadb", targetRatio: UmaDBPeer.targetRatio)
        do {
            var readings: [PeerReading] = []
            var latencies: [(Double, Double)] = []
            for run in 0..<options.serveRuns {
                let output = try UmaDBPeer.measureConcurrent(
                    python: options.peerPython, jsonLines: file, events: lines.count,
                    clients: options.serveClients)
                let reading = try PeerReading(output: output)
                readings.append(reading)
                let p50 = Self.field("p50_ms", in: output) ?? .nan
                let p99 = Self.field("p99_ms", in: output) ?? .nan
                latencies.append((p50, p99))
                progress(
                    "serve: umadb, \(options.serveClients) threads, run \(run + 1): \(Int(reading.rate)) events/s"
                )
            }
            let rate = median(readings.map(\.rate))
            umadb.record(
                PeerReading(rate: rate, version: readings.first?.version), events: lines.count,
                engineRate: result.rate)
            runs.append(
                ServeRun(
                    name: "umadb server", clients: options.serveClients, eventsPerRequest: 1,
                    events: lines.count,
                    runs: readings.count, rate: rate, p50Ms: median(latencies.map(\.0)),
                    p99Ms: median(latencies.map(\.1)), ratioToOnePerCommit: rate / baseline))
            result.serveRuns = runs
            umadb.note =
                "its gRPC server on loopback, \(options.serveClients) client threads of its Python client, one event per append"
        } catch {
            umadb.note = "not available: \(error)"
        }
        result.peers = [umadb]
        let meetsBaseline = (result.rate ?? 0) / baseline >= 20
        result.meetsTarget = meetsBaseline && umadb.meetsTarget != false
        result.note =
            "\(options.serveClients) clients, one event per request, durable; median of \(options.serveRuns) runs each"
        try? FileManager.default.removeItem(atPath: file)
    }

    /// `name=VALUE` in a peer's last line.
    static func field(_ name: String, in output: String) -> Double? {
        let line = output.split(separator: "\n").last ?? ""
        return line.split(separator: " ").first { $0.hasPrefix(name + "=") }.flatMap {
            Double($0.dropFirst(name.count + 1).filter { $0 != ":" })
        }
    }

    /// Appends `serveBaselineEvents` events one per durable transaction into a fresh store.
    private func onePerCommit(run: Int) throws -> Double {
        let path = directory + "/one-per-commit-\(run)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try Store(path: path).log
        var workload = Workload(
            seed: options.seed &+ UInt64(run), events: options.commitEvents, customers: options.customers)
        let touchpoints = try workload.nextBatch(options.commitEvents)
        let t0 = monotonicSeconds()
        for touchpoint in touchpoints { _ = try log.append([AppendRequest(touchpoint)]) }
        return Double(touchpoints.count) / (monotonicSeconds() - t0)
    }

    /// Starts `touchlog serve` on a fresh store, sends every line with `serveClients` clients,
    /// `perRequest` events a request, and stops it.
    private func served(_ lines: [[UInt8]], perRequest: Int, run: Int) throws -> Load {
        let store = directory + "/serve-\(perRequest)-\(run)"
        let errorPath = store + ".err"
        defer {
            try? FileManager.default.removeItem(atPath: store)
            try? FileManager.default.removeItem(atPath: errorPath)
        }
        let server = try ServerProcess(
            executable: options.touchlogExecutable ?? MemoryPhase.runningExecutable(), store: store,
            errorPath: errorPath)
        defer { server.stop() }
        let requests = stride(from: 0, to: lines.count, by: perRequest).map {
            lines[$0..<min($0 + perRequest, lines.count)]
        }
        let next = Mutex(0)
        let latencies = Mutex<[Double]>([])
        let failures = Mutex<[String]>([])
        let clients = options.serveClients
        let port = server.port
        let t0 = monotonicSeconds()
        // Threads of their own: `concurrentPerform` would run only as many clients at once as there are cores.
        let group = DispatchGroup()
        for _ in 0..<clients {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                do {
                    let connection = try HTTPConnection(port: port, timeout: 60)
                    var mine: [Double] = []
                    while true {
                        let index = next.withLock { value in
                            defer { value += 1 }
                            return value
                        }
                        guard index < requests.count else { break }
                        let batch = requests[index]
                        let body: [UInt8] =
                            perRequest == 1
                            ? batch.first!
                            : Array("[".utf8) + Array(batch.joined(separator: Array(",".utf8)))
                                + Array("]".utf8)
                        let type =
                            perRequest == 1
                            ? "application/cloudevents+json" : "application/cloudevents-batch+json"
                        let started = monotonicSeconds()
                        let response = try connection.request(
                            "POST", "/v1/events", headers: [("Content-Type", type)], body: body)
                        mine.append(monotonicSeconds() - started)
                        guard response.status == 201 || response.status == 200 else {
                            throw BenchOptionError(
                                "the service answered \(response.status): \(response.text)")
                        }
                    }
                    latencies.withLock { $0 += mine }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            thread.start()
        }
        group.wait()
        let seconds = monotonicSeconds() - t0
        if let failure = failures.withLock({ $0.first }) {
            throw BenchOptionError("serve: a client failed: \(failure)")
        }
        // What the server says of its commits (mean requests per commit, mean commit time).
        if let metrics = try? HTTPConnection(port: port).request("GET", "/metrics").text {
            func value(_ name: String) -> Double {
                metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap {
                    Double($0.split(separator: " ")[1])
                } ?? .nan
            }
            let commits = value("touchlog_commits_total")
            progress(
                "serve: \(Int(commits)) commits, \(String(format: "%.1f", value("touchlog_group_requests_sum") / commits)) requests and \(String(format: "%.2f", value("touchlog_commit_seconds_sum") / commits * 1000)) ms each on average"
            )
        }
        let sorted = latencies.withLock { $0 }.sorted()
        let ms = { (s: Double) in (s * 1e5).rounded() / 1e2 }
        return Load(
            rate: Double(lines.count) / seconds, p50Ms: ms(percentile(sorted, 0.5)),
            p99Ms: ms(percentile(sorted, 0.99)))
    }
}

/// A `touchlog serve` child on a free loopback port of a fresh store.
final class ServerProcess {
    let process = Process()
    let port: Int

    init(executable: String, store: String, errorPath: String) throws {
        guard
            FileManager.default.createFile(
                atPath: errorPath, contents: nil, attributes: [.posixPermissions: 0o600])
        else { throw BenchOptionError("cannot create \(errorPath)") }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["serve", "--store", store, "--listen", "127.0.0.1:0"]
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = monotonicSeconds() + 30
        while true {
            let text = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on 127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits), text[range.upperBound...].dropFirst(digits.count).first == "\n" {
                    self.port = port
                    return
                }
            }
            if !process.isRunning || monotonicSeconds() > deadline {
                if process.isRunning { process.terminate() }
                throw BenchOptionError("touchlog serve did not start: \(text)")
            }
            usleep(20_000)
        }
    }

    /// SIGTERM, and waits for the graceful stop.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// One row of the serve phase: a server under `clients` concurrent clients.
public struct ServeRun: Sendable, Encodable, Equatable {
    public var name: String
    public var clients: Int
    public var eventsPerRequest: Int
    public var events: Int
    public var runs: Int
    /// Median events/s over the runs.
    public var rate: Double
    /// Median per-request latency percentiles, milliseconds.
    public var p50Ms: Double
    public var p99Ms: Double
    /// `rate` over the one-event-per-commit rate.
    public var ratioToOnePerCommit: Double
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
