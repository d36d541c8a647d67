import ArgumentParser
import Foundation
import TouchlogAudit
import TouchlogBench
import TouchlogProjections
import TouchlogStore

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the engine against baselines run in this process, and print the ratios.",
        discussion: """
            Generates a deterministic workload and runs, per phase, the engine and its baseline in this \
            process: append (parsed events into the log, against raw MDB_APPEND puts of the same record \
            bytes, batch by batch interleaved), ingest (JSON Lines end to end, against the Python \
            eventsourcing SQLite recorder run now, or --peer-rate, and UmaDB's server started now), replay (one customer's history, latency \
            percentiles, against raw reads of the same records), rebuild (every projection folded \
            from position 1 under the default rules, against a raw cursor scan of the events), audit (the whole \
            store: chain, indexes, projections against a fresh fold; against the same scan), commit (one event \
            per durable commit, against one raw put \
            per commit). Commits are durable unless --no-sync. The memory phase, run only when named, generates the \
            events into a file and runs ingest (projections caught up), rebuild, rebuild --dry-run and audit on \
            a fresh store as child processes of this touchlog binary (or --touchlog), durable; for each it \
            prints the wall time, the rate, the largest RssAnon (what the process holds) and the peak VmHWM \
            (which also counts the LMDB map's reclaimable file pages), read from /proc/PID/status every \
            20 ms, against the 512 MiB bound of DESIGN.md section 6. Temporary stores are removed afterwards. \
            --volume instead ingests one growing log step by step and writes the rate of each step as CSV \
            and an SVG chart. Progress goes to standard error.
            """)

    @OptionGroup var output: OutputOptions

    @Option(help: "Events in the workload.")
    var events = 1_000_000
    @Option(help: "Customers the events are spread over (about events/100 gives 100-event histories).")
    var customers = 10_000
    @Option(help: "Events per atomic commit, for the engine and the baselines alike.")
    var batchSize = 10_000
    @Flag(help: "Commit without fsync (MDB_NOSYNC) in the engine and the baselines. Default: durable.")
    var noSync = false
    @Option(help: "The store format of the engine's stores: 3 (personal content sealed, the default) or 2.")
    var storeFormat: Int = 3
    @Option(
        help: ArgumentHelp(
            "Comma-separated phases: append, ingest, replay, rebuild, audit, commit (the default), memory, "
                + "serve."),
        completion: .list(BenchPhase.allCases.map(\.rawValue)))
    var phases = BenchPhase.defaultPhases.map(\.rawValue).joined(separator: ",")
    @Option(help: "Generator seed.")
    var seed: UInt64 = 42
    @Option(help: "Customers whose history the replay phase reads.")
    var replaySamples = 1_000
    @Option(help: "Events of the commit phase, one durable commit each.")
    var commitEvents = 1_000
    @Option(help: "Events the serve phase sends in each run.")
    var serveEvents = 20_000
    @Option(help: "Concurrent HTTP clients of the serve phase (and threads of UmaDB's client).")
    var serveClients = 64
    @Option(help: "Runs of each serve measurement (the median is reported).")
    var serveRuns = 3
    @Option(help: "The Python peer's events/s measured in this sitting (instead of running it).")
    var peerRate: Double?
    @Option(
        help: ArgumentHelp(
            "Python with the peers eventsourcing 9.5.6 and umadb 0.7.8 (see Tools/peer-venv.sh).",
            valueName: "path"))
    var peerPython: String?
    @Option(
        help: ArgumentHelp(
            "The peer script (default: Benchmarks/peers/peer_eventsourcing.py of this checkout).",
            valueName: "path"))
    var peerScript: String?
    @Option(
        help: ArgumentHelp("Directory for the temporary stores (default: the system's).", valueName: "dir"))
    var workDir: String?
    @Option(
        help: ArgumentHelp(
            "The touchlog binary the memory phase runs (default: this one).", valueName: "path"))
    var touchlog: String?

    @Flag(help: "Throughput versus volume: ingest one growing log step by step; write CSV and SVG.")
    var volume = false
    @Option(help: "With --volume: events per step.")
    var step = 1_000_000
    @Option(help: ArgumentHelp("With --volume: the CSV file to write.", valueName: "path"))
    var csv: String?
    @Option(
        help: ArgumentHelp(
            "The SVG chart to write: with --volume the rate per step; otherwise each phase's engine, baseline "
                + "and peers (medians over --repeat runs, min to max).", valueName: "path"))
    var svg: String?
    @Option(
        name: .customLong("repeat"),
        help: "Run every phase this many times (fresh stores each time) and end with medians, min and max.")
    var repeatCount = 1

    func validate() throws {
        if volume {
            do { try volumeRun().validate() } catch { throw ValidationError(error.description) }
            if csv == nil && svg == nil {
                throw ValidationError("--volume needs --csv PATH and/or --svg PATH")
            }
            return
        }
        if csv != nil { throw ValidationError("--csv goes with --volume") }
        guard (1...100).contains(repeatCount) else { throw ValidationError("--repeat must be from 1 to 100") }
        do { try benchOptions().validate() } catch let error as BenchOptionError {
            throw ValidationError(error.description)
        }
    }

    func benchOptions() throws -> BenchOptions {
        var options = BenchOptions()
        options.events = events
        options.customers = customers
        options.batchSize = batchSize
        options.noSync = noSync
        guard Store.supportedFormats.contains(storeFormat) else {
            throw ValidationError("--store-format must be 2 or 3, not \(storeFormat)")
        }
        options.storeFormat = storeFormat
        switch BenchPhase.parseList(phases) {
        case .success(let list): options.phases = list
        case .failure(let error): throw error
        }
        options.seed = seed
        options.replaySamples = replaySamples
        options.commitEvents = commitEvents
        options.serveEvents = serveEvents
        options.serveClients = serveClients
        options.serveRuns = serveRuns
        options.peerRate = peerRate
        options.peerPython = peerPython
        options.peerScript = peerScript
        options.workDirectory = workDir
        options.touchlogExecutable = touchlog
        options.rebuild = { store in
            let summary = try ProjectionStore(store: store).rebuild(rules: .default)
            return Int(summary.folded)
        }
        options.audit = { store in
            let auditor = Auditor(store: store)
            let report = try auditor.audit()
            if let problem = report.problems.first {
                throw BenchOptionError(
                    "the audit found \(report.problems.count) problems, first: \(problem.message)")
            }
            return report.eventsChecked
        }
        return options
    }

    func volumeRun() -> VolumeRun {
        var run = VolumeRun()
        run.events = events
        run.step = step
        run.customers = customers
        run.batchSize = batchSize
        run.noSync = noSync
        run.seed = seed
        run.workDirectory = workDir
        return run
    }

    func run() throws {
        let console = Console.current
        let progress: (String) -> Void = { console.message("bench: \($0)") }
        try reportingFailures {
            if volume { return try runVolume(progress) }
            var runs: [[PhaseResult]] = []
            for run in 1...repeatCount {
                if repeatCount > 1 && !output.json { console.line("run \(run) of \(repeatCount)") }
                runs.append(try runOnce(console))
            }
            let summaries = PhaseSummary.summaries(of: runs)
            if repeatCount > 1 {
                if output.json {
                    console.exactLine(try jsonLine(["summary": summaries]))
                } else {
                    console.line("medians of \(repeatCount) runs (min to max):")
                    for summary in summaries { for line in Self.text(summary) { console.line("\(line)") } }
                }
            }
            if let svg {
                let mode = noSync ? "no sync" : "durable"
                let chart = SVGBarChart(
                    title:
                        "touchlog bench: \(formatCount(events)) events, \(formatCount(customers)) customers, "
                        + "batch \(formatCount(batchSize)), \(mode), \(repeatCount) run(s)")
                let groups = summaries.filter { !$0.bars.isEmpty }.map { ($0.phase.rawValue, $0.bars) }
                try chart.render(groups).write(toFile: svg, atomically: true, encoding: .utf8)
            }
        }
    }

    /// Runs every phase once on fresh stores, printing each result as it comes; returns the results.
    private func runOnce(_ console: Console) throws -> [PhaseResult] {
        var results: [PhaseResult] = []
        let progress: (String) -> Void = { console.message("bench: \($0)") }
        let runner = try BenchRunner(try benchOptions(), progress: progress)
        defer { runner.close() }
        if !output.json {
            console.line(
                "phase    engine/s      baseline/s    ratio    target                               met   peak RSS"
            )
        }
        try runner.run { result in
            results.append(result)
            if output.json {
                console.exactLine(try jsonLine(result))
            } else {
                console.line("\(Self.text(result))")
                if let latency = result.latency {
                    console.line(
                        "         replay latency over \(latency.samples) customers (mean \(String(format: "%.1f", latency.meanEvents)) events): p50 \(latency.p50Ms) ms, p99 \(latency.p99Ms) ms, p99.9 \(latency.p999Ms) ms"
                    )
                    if let p50 = latency.hundredEventP50Ms, let p99 = latency.hundredEventP99Ms {
                        console.line(
                            "         100-event histories (\(latency.hundredEventSamples) customers): p50 \(p50) ms, p99 \(p99) ms"
                        )
                    }
                }
                for step in result.steps ?? [] { console.line("\(Self.text(step))") }
                for run in result.serveRuns ?? [] { console.line("         \(Self.text(run))") }
                // With peers, each peer line carries its own note.
                if let note = result.note, result.peers == nil || result.serveRuns != nil {
                    console.line("         \(note)")
                }
                for part in result.parts ?? [] { console.line("         \(Self.text(part))") }
                for peer in result.peers ?? [] { console.line("         \(Self.text(peer))") }
            }
        }
        if !output.json {
            console.line("process peak RSS \(Self.mib(MemoryStats.processPeakBytes())) (getrusage)")
        }
        return results
    }

    private func runVolume(_ progress: @escaping (String) -> Void) throws {
        let run = volumeRun()
        var points: [VolumeRun.Point] = []
        var csvLines = [VolumeRun.csvHeader]
        try run.run(progress: progress) { point in
            points.append(point)
            csvLines.append(VolumeRun.csvLine(point))
            // Rewritten after every step, so a long run that is stopped keeps what it measured.
            if let csv {
                try (csvLines.joined(separator: "\n") + "\n").write(
                    toFile: csv, atomically: true, encoding: .utf8)
            }
            if let svg {
                let mode = noSync ? "no-sync" : "durable"
                let chart = SVGChart(
                    title:
                        "touchlog ingest rate per \(formatCount(step)) events (\(mode), batch \(formatCount(batchSize)), \(formatCount(customers)) customers)"
                )
                try chart.render(points.map { (Double($0.events), $0.rate) })
                    .write(toFile: svg, atomically: true, encoding: .utf8)
            }
            if output.json {
                Console.current.exactLine(
                    "{\"events\":\(point.events),\"rate\":\(Int(point.rate.rounded())),\"seconds\":\(String(format: "%.3f", point.seconds))}"
                )
            } else {
                Console.current.exactLine(VolumeRun.csvLine(point))
            }
        }
    }

    static func text(_ r: PhaseResult) -> String {
        func rate(_ v: Double?) -> String { v.map { formatCount(Int($0.rounded())) } ?? "-" }
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(1, n - s.count)) }
        let ratio = r.ratio.map { String(format: "%.3fx", $0) } ?? "-"
        let met = r.meetsTarget.map { $0 ? "yes" : "NO" } ?? "-"
        return pad(r.phase.rawValue, 9) + pad(rate(r.rate), 14) + pad(rate(r.baseline), 14) + pad(ratio, 9)
            + pad(r.target, 37) + pad(met, 6) + mib(r.peakRSSBytes)
    }

    /// One command of the memory phase: time, rate, the largest RssAnon and VmHWM, against the bound.
    static func text(_ s: PhaseResult.MemoryStep) -> String {
        var text =
            "         \(s.step): \(formatCount(s.events)) events in \(String(format: "%.1f", s.seconds)) s"
        text +=
            " (\(formatCount(Int(s.rate.rounded()))) events/s), max RssAnon \(mib(s.maxAnonymousRSSBytes))"
        text +=
            ", peak VmHWM \(mib(s.peakRSSBytes)); under \(mib(s.boundBytes)): \(s.underBound ? "yes" : "NO")"
        return text
    }

    /// A phase over the runs: "ingest   touchlog 210,000/s (190,000-220,000), ratio 2.1x (1.9-2.3) ...".
    static func text(_ summary: PhaseSummary) -> [String] {
        func rate(_ s: Spread?) -> String {
            guard let s else { return "-" }
            return "\(formatCount(Int(s.median.rounded())))/s (\(formatCount(Int(s.min.rounded())))-"
                + "\(formatCount(Int(s.max.rounded()))))"
        }
        func ratio(_ s: Spread?) -> String {
            guard let s else { return "-" }
            return String(format: "%.2fx (%.2f-%.2f)", s.median, s.min, s.max)
        }
        var lines = [
            "\(summary.phase.rawValue): touchlog \(rate(summary.rate)), baseline \(rate(summary.baseline)), "
                + "ratio \(ratio(summary.ratio)); target \(summary.target)"
        ]
        for part in summary.parts { lines.append("         \(part.name): \(rate(part.rate))") }
        for peer in summary.peers {
            let name = "peer \(peer.name)" + (peer.version.map { " " + $0 } ?? "")
            lines.append(
                "         \(name): \(rate(peer.rate)), engine \(ratio(peer.ratio)) (target "
                    + String(format: "%gx", peer.targetRatio) + ")")
        }
        return lines
    }

    /// One timed part of a phase: "append: 1.52 s (197,000 events/s)".
    static func text(_ part: PhaseResult.Part) -> String {
        "\(part.name): \(String(format: "%.2f", part.seconds)) s (\(formatCount(Int(part.rate.rounded())))"
            + " events/s)"
    }

    /// One peer of the ingest phase: "peer umadb 0.7.8: 120,000 events/s, engine 1.52x (target 2x: NO)".
    static func text(_ run: ServeRun) -> String {
        "\(run.name), \(run.clients) clients, \(run.eventsPerRequest) per request: \(formatCount(Int(run.rate.rounded()))) events/s, p50 \(run.p50Ms) ms, p99 \(run.p99Ms) ms, \(String(format: "%.1f", run.ratioToOnePerCommit))x one per commit (median of \(run.runs))"
    }

    static func text(_ peer: PeerRun) -> String {
        let name = "peer \(peer.name)" + (peer.version.map { " " + $0 } ?? "")
        guard let rate = peer.rate else { return "\(name): \(peer.note ?? "not run")" }
        let target = String(format: "%gx", peer.targetRatio)
        guard let ratio = peer.ratio else {
            return "\(name): \(formatCount(Int(rate.rounded()))) events/s (target \(target))"
        }
        let met = peer.meetsTarget == true ? "met" : "NO"
        return "\(name): \(formatCount(Int(rate.rounded()))) events/s, engine "
            + String(format: "%.2fx", ratio) + " (target \(target): \(met))"
    }

    static func mib(_ bytes: Int) -> String { String(format: "%.0f MiB", Double(bytes) / 1_048_576) }
}
