import Foundation
import TouchlogGenerator

#if canImport(Glibc)
    import Glibc
#endif

/// The memory phase of `touchlog bench`: the commands whose memory DESIGN.md section 6 bounds, each
/// run as a child process of the `touchlog` binary on one fresh store and watched while it runs.
///
/// The events are generated into a file first (untimed; the generator runs in the bench process, not
/// in the children). Then, in order: `ingest` (projections caught up at its end), `rebuild`,
/// `rebuild --dry-run` and `audit`. Each step reports its wall time, its rate, the largest anonymous
/// resident size seen (`RssAnon`, what the process holds) and its peak resident size (`VmHWM`, which
/// also counts the LMDB map's file-backed, reclaimable pages), against the bound.
struct MemoryPhase {
    /// DESIGN.md section 6: "ingest, import, rebuild and audit stay under a fixed bound (say 512 MB)".
    static let boundBytes = 512 * 1_048_576

    let options: BenchOptions
    /// A fresh directory of the bench's own, for the input, the store and the children's `TMPDIR`.
    let directory: String
    let progress: (String) -> Void

    /// One step: what it runs and which key of its `--json` output counts the events it handled.
    private struct Step {
        var name: String
        var arguments: [String]
        var eventsKey: String
    }

    /// The binary the bench itself runs from (`/proc/self/exe`).
    static func runningExecutable() -> String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    }

    func run(into result: inout PhaseResult) throws {
        let executable = options.touchlogExecutable ?? Self.runningExecutable()
        guard access(executable, X_OK) == 0 else {
            throw BenchOptionError(
                "memory: cannot run '\(executable)': \(String(cString: strerror(errno))) (give the touchlog binary with --touchlog)"
            )
        }
        let loadBefore = Self.loadAverage()
        let file = directory + "/events.jsonl"
        let store = directory + "/store"
        let scratch = directory + "/tmp"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: false)

        progress(
            "memory: generating \(options.events) events over \(options.customers) customers into \(file) (untimed)"
        )
        MemoryStats.resetPeak()
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else {
            throw BenchOptionError("cannot create \(file): \(String(cString: strerror(errno)))")
        }
        defer { try? FileManager.default.removeItem(atPath: file) }
        do {
            try TouchpointGenerator.writeJSONLines(
                GeneratorConfiguration(
                    seed: options.seed, events: options.events, customers: options.customers),
                toFileDescriptor: fd)
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        let generatorPeak = MemoryStats.peakResidentBytes()

        let steps = [
            Step(
                name: "ingest", arguments: ["ingest", file, "--batch-size", "\(options.batchSize)"],
                eventsKey: "appended"),
            Step(name: "rebuild", arguments: ["rebuild"], eventsKey: "folded"),
            Step(name: "rebuild --dry-run", arguments: ["rebuild", "--dry-run"], eventsKey: "position"),
            Step(name: "audit", arguments: ["audit"], eventsKey: "events_checked"),
        ]
        var measured: [PhaseResult.MemoryStep] = []
        for (index, step) in steps.enumerated() {
            let arguments = step.arguments + ["--store", store, "--json"]
            let command = "touchlog " + arguments.joined(separator: " ")
            let child = ChildMeasurement(
                outputPath: directory + "/step\(index).out", errorPath: directory + "/step\(index).err",
                environment: ["TMPDIR": scratch])
            progress("memory: \(step.name): \(command)")
            let outcome = try child.run(
                executable, arguments, name: "memory: \(step.name)", progress: progress)
            guard outcome.exitStatus == 0 else {
                throw BenchOptionError(
                    "memory: '\(command)' ended with status \(outcome.exitStatus): \(Self.tail(child.errorPath)) \(Self.head(child.outputPath))"
                )
            }
            let events = try Self.count(step.eventsKey, in: child.outputPath, of: command)
            guard events == options.events else {
                throw BenchOptionError(
                    "memory: '\(command)' reports \(step.eventsKey) \(events), not the \(options.events) events generated"
                )
            }
            let figures = PhaseResult.MemoryStep(
                step: step.name, command: command, events: events, seconds: outcome.seconds,
                maxAnonymousRSSBytes: outcome.maxAnonymousBytes, peakRSSBytes: outcome.peakResidentBytes,
                boundBytes: Self.boundBytes, samples: outcome.samples)
            progress(
                "memory: \(step.name) done: \(events) events in \(String(format: "%.1f", outcome.seconds)) s, \(Int(figures.rate)) events/s, max RssAnon \(mebibytes(figures.maxAnonymousRSSBytes)), VmHWM \(mebibytes(figures.peakRSSBytes))"
            )
            measured.append(figures)
            if step.name == "ingest" { try? FileManager.default.removeItem(atPath: file) }
        }
        result.events = options.events
        result.seconds = measured.reduce(0) { $0 + $1.seconds }
        result.steps = measured
        result.maxAnonymousRSSBytes = measured.map(\.maxAnonymousRSSBytes).max()
        result.peakRSSBytes = measured.map(\.peakRSSBytes).max() ?? 0
        result.meetsTarget = measured.allSatisfy(\.underBound)
        result.note =
            "children of \(executable), durable commits, scratch in $TMPDIR=\(scratch); the generator (in the bench process) peaked at \(mebibytes(generatorPeak)); load average \(loadBefore) at the start, \(Self.loadAverage()) at the end"
    }

    /// The integer `key` of the first JSON line the child printed.
    private static func count(_ key: String, in path: String, of command: String) throws -> Int {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let value = object[key] as? Int
        else {
            throw BenchOptionError("memory: '\(command)' printed no \(key) in its JSON: \(head(path))")
        }
        return value
    }

    /// The last 500 bytes of a file, for an error message.
    private static func tail(_ path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return String(text.suffix(500)).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The first 500 bytes of a file, for an error message.
    private static func head(_ path: String) -> String {
        let handle = FileHandle(forReadingAtPath: path)
        defer { try? handle?.close() }
        let data = (try? handle?.read(upToCount: 500)) ?? nil
        return String(decoding: data ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The 1, 5 and 15-minute load averages of /proc/loadavg, as "1.20 0.80 0.60".
    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        let fields = text.split(separator: " ").prefix(3)
        return fields.count == 3 ? fields.joined(separator: " ") : "unknown"
    }
}
