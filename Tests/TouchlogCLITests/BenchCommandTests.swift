import Foundation
import Testing

/// `touchlog bench` on tiny workloads: option checks and the shape of `--json`. No timing is asserted.
@Suite struct BenchCommandTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    @Test(arguments: [
        (["--events", "0"], "--events must be at least 1"),
        (["--customers", "0"], "--customers must be from 1 to 99999999"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--phases", "append,warp"], "unknown phase 'warp'"),
        (["--phases", ""], "unknown phase ''"),
        (["--peer-rate=-3"], "--peer-rate must be a positive number"),
        (["--peer-rate", "0"], "--peer-rate must be a positive number"),
        (["--commit-events", "0"], "--commit-events must be at least 1"),
        (["--replay-samples", "0"], "--replay-samples must be at least 1"),
        (["--csv", "x.csv"], "--csv goes with --volume"),
        (["--repeat", "0"], "--repeat must be from 1 to 100"),
        (["--volume"], "--volume needs --csv PATH and/or --svg PATH"),
        (["--volume", "--step", "0", "--csv", "x.csv"], "--step must be at least 1"),
    ])
    func invalidOptionsAreUsageErrors(arguments: [String], message: String) {
        let result = runTouchlog(["bench"] + arguments)
        #expect(result.exitCode == 64)
        #expect(result.error.contains(message))
    }

    @Test func jsonReportsEveryPhaseWithRateBaselineAndRatio() throws {
        let result = runTouchlog([
            "bench", "--json", "--events", "300", "--customers", "10", "--batch-size", "100", "--no-sync",
            "--commit-events", "3", "--replay-samples", "5", "--peer-rate", "1000", "--work-dir",
            workspace.path,
        ])
        #expect(result.exitCode == 0, "\(result.error)")
        let objects = try result.outputLines.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(
            objects.map { $0["phase"] as? String } == [
                "append", "ingest", "replay", "rebuild", "audit", "commit",
            ])
        for object in objects {
            for key in ["rate", "baseline", "ratio", "baseline_name", "target", "peak_rss_bytes", "durable"] {
                #expect(object.keys.contains(key), "\(object["phase"] ?? "?") lacks \(key)")
            }
        }
        for object in objects {
            let rate = try #require(object["rate"] as? Double)
            let baseline = try #require(object["baseline"] as? Double)
            let ratio = try #require(object["ratio"] as? Double)
            #expect(rate > 0 && baseline > 0)
            #expect(abs(ratio - rate / baseline) <= 0.01 * max(1, ratio))
        }
        let rebuild = try #require(objects.first { $0["phase"] as? String == "rebuild" })
        #expect(rebuild["events"] as? Int == 300, "the rebuild folds every event of the workload")
        let audit = try #require(objects.first { $0["phase"] as? String == "audit" })
        #expect(audit["events"] as? Int == 300, "the audit checks every event of the workload")
        let replay = try #require(objects.first { $0["phase"] as? String == "replay" })
        let latency = try #require(replay["latency"] as? [String: Any])
        #expect(latency["p50_ms"] is Double && latency["p99_ms"] is Double && latency["p999_ms"] is Double)
        // The temporary stores are gone.
        let left = try FileManager.default.contentsOfDirectory(atPath: workspace.path)
        #expect(left.filter { $0.hasPrefix("touchlog-bench-") }.isEmpty)
    }

    /// `--repeat 3`: three runs, then one summary per phase whose median, minimum and maximum are those of
    /// the runs' own figures; `--svg` draws those medians, a group per phase.
    @Test func repeatedRunsEndWithMediansAndTheChartDrawsThem() throws {
        let svg = workspace.path + "/bench.svg"
        let result = runTouchlog([
            "bench", "--json", "--phases", "rebuild,audit", "--events", "400", "--customers", "10",
            "--no-sync",
            "--repeat", "3", "--svg", svg, "--work-dir", workspace.path,
        ])
        #expect(result.exitCode == 0, "\(result.error)")
        let objects = try result.outputLines.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(objects.count == 7, "three runs of two phases, then the summary")
        let summary = try #require(objects.last?["summary"] as? [[String: Any]])
        #expect(summary.map { $0["phase"] as? String } == ["rebuild", "audit"])
        for phase in summary {
            let name = try #require(phase["phase"] as? String)
            let rates = objects.dropLast().filter { $0["phase"] as? String == name }.compactMap {
                $0["rate"] as? Double
            }
            #expect(rates.count == 3)
            let rate = try #require(phase["rate"] as? [String: Any])
            #expect(rate["runs"] as? Int == 3)
            #expect(rate["median"] as? Double == rates.sorted()[1], "\(name): \(rate) of \(rates)")
            #expect(rate["min"] as? Double == rates.min())
            #expect(rate["max"] as? Double == rates.max())
        }
        let chart = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(
            chart.hasPrefix("<svg") && chart.contains(">rebuild</text>") && chart.contains(">audit</text>"))
        // Per phase the engine and the raw scan: four bars.
        #expect(chart.components(separatedBy: "<rect x=").count - 1 == 4)
    }

    @Test func volumeWritesCSVAndSVG() throws {
        let csv = workspace.path + "/volume.csv"
        let svg = workspace.path + "/volume.svg"
        let result = runTouchlog([
            "bench", "--volume", "--events", "300", "--step", "100", "--customers", "10", "--batch-size",
            "50",
            "--no-sync", "--csv", csv, "--svg", svg, "--work-dir", workspace.path,
        ])
        #expect(result.exitCode == 0, "\(result.error)")
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "events,rate_events_per_s,seconds,anon_rss_bytes,store_bytes")
        #expect(
            rows.dropFirst().map { $0.split(separator: ",").first.map(String.init) } == ["100", "200", "300"])
        let chart = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(chart.hasPrefix("<svg") && chart.contains("<polyline"))
    }
}

/// The memory phase on a small workload: every command runs as a child of the built binary and
/// reports its time and memory. The figures are checked for shape and sense, never for speed.
@Suite struct BenchMemoryPhaseTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    @Test func reportsTimeRateAndPeakMemoryOfEachCommand() throws {
        let result = runTouchlog([
            "bench", "--json", "--phases", "memory", "--events", "20000", "--customers", "5000",
            "--touchlog", touchlogExecutable(), "--work-dir", workspace.path,
        ])
        #expect(result.exitCode == 0, "\(result.error)")
        #expect(result.outputLines.count == 1)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.outputLines.first?.utf8 ?? "".utf8))
                as? [String: Any])
        #expect(object["phase"] as? String == "memory")
        #expect(object["events"] as? Int == 20000)
        let steps = try #require(object["steps"] as? [[String: Any]])
        #expect(steps.map { $0["step"] as? String } == ["ingest", "rebuild", "rebuild --dry-run", "audit"])
        for step in steps {
            let name = step["step"] as? String ?? "?"
            #expect(step["events"] as? Int == 20000, "\(name) handles every generated event")
            let command = try #require(step["command"] as? String)
            #expect(command.hasPrefix("touchlog " + name.split(separator: " ")[0]), "\(name): \(command)")
            let anonymous = try #require(step["max_anonymous_rss_bytes"] as? Int)
            let peak = try #require(step["peak_rss_bytes"] as? Int)
            #expect(anonymous > 0 && peak >= anonymous, "\(name): RssAnon \(anonymous), VmHWM \(peak)")
            #expect(try #require(step["rate"] as? Double) > 0)
            #expect(try #require(step["seconds"] as? Double) > 0)
            #expect(try #require(step["samples"] as? Int) >= 1)
            #expect(step["bound_bytes"] as? Int == 512 * 1_048_576)
            #expect(step["under_bound"] as? Bool == (anonymous < 512 * 1_048_576))
        }
        // The phase's figures are the worst of its commands.
        let anonymous = steps.compactMap { $0["max_anonymous_rss_bytes"] as? Int }
        #expect(object["max_anonymous_rss_bytes"] as? Int == anonymous.max())
        #expect(object["peak_rss_bytes"] as? Int == steps.compactMap { $0["peak_rss_bytes"] as? Int }.max())
        #expect(object["meets_target"] as? Bool == steps.allSatisfy { $0["under_bound"] as? Bool == true })
        #expect(result.error.contains("memory: audit done"), "progress goes to standard error")
        // The input, the store and the children's scratch directories are gone.
        let left = try FileManager.default.contentsOfDirectory(atPath: workspace.path)
        #expect(left.filter { $0.hasPrefix("touchlog-bench-") }.isEmpty)
    }

    @Test func aTouchlogThatCannotRunIsAUsageError() {
        let result = runTouchlog([
            "bench", "--phases", "memory", "--events", "10", "--touchlog", workspace.path + "/none",
        ])
        #expect(result.exitCode == 64)
        #expect(result.error.contains("--touchlog '\(workspace.path)/none' cannot be run"))
    }
}

@Suite struct BenchServePhaseTests {
    @Test func measuresTheServiceInBothModesAgainstOnePerCommit() throws {
        let workspace = try Workspace()
        let result = runTouchlog([
            "bench", "--json", "--phases", "serve", "--serve-events", "400", "--serve-clients", "8",
            "--serve-runs", "1", "--commit-events", "20", "--customers", "50",
            "--touchlog", touchlogExecutable(), "--work-dir", workspace.path,
            "--peer-python", workspace.path + "/no-such-python",
        ])
        #expect(result.exitCode == 0, "\(result.error)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.outputLines.first?.utf8 ?? "".utf8))
                as? [String: Any])
        #expect(object["phase"] as? String == "serve")
        #expect(object["events"] as? Int == 400)
        let runs = try #require(object["serve_runs"] as? [[String: Any]])
        #expect(runs.map { $0["events_per_request"] as? Int } == [1, 100])
        for run in runs {
            #expect(try #require(run["rate"] as? Double) > 0)
            #expect(try #require(run["p99_ms"] as? Double) >= (run["p50_ms"] as? Double ?? .infinity))
        }
        #expect(try #require(object["baseline"] as? Double) > 0)
        let peers = try #require(object["peers"] as? [[String: Any]])
        #expect(peers.first?["name"] as? String == "umadb")
        #expect((peers.first?["note"] as? String)?.hasPrefix("not available") == true)
    }
}
