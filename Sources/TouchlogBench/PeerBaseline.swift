import Foundation

/// The Python `eventsourcing` SQLite recorder (`../shared/bench/peer_eventsourcing.py`), run as a
/// child process in the same sitting as the engine.
enum PeerBaseline {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// Interpreters tried in order when none is named: `$TOUCHLOG_PEER_PYTHON`, the venv that
    /// `Tools/peer-venv.sh` makes, the one the shared README makes, then `python3`.
    static func candidatePythons(_ named: String?) -> [String] {
        if let named { return [named] }
        var list: [String] = []
        if let fromEnvironment = ProcessInfo.processInfo.environment["TOUCHLOG_PEER_PYTHON"],
            !fromEnvironment.isEmpty
        {
            list.append(fromEnvironment)
        }
        list += [".build/peer-venv/bin/python3", "/tmp/esvenv/bin/python", "/usr/bin/python3"]
        return list
    }

    static func candidateScripts(_ named: String?) -> [String] {
        if let named { return [named] }
        var list: [String] = []
        if let fromEnvironment = ProcessInfo.processInfo.environment["TOUCHLOG_PEER_SCRIPT"],
            !fromEnvironment.isEmpty
        {
            list.append(fromEnvironment)
        }
        list += ["../shared/bench/peer_eventsourcing.py", "../../shared/bench/peer_eventsourcing.py"]
        return list
    }

    /// Runs the peer on `events` events of `stateBytes` bytes, `batch` per insert, over `customers`
    /// streams, with its database in `directory`; returns its events per second.
    /// - Throws: `Unavailable` saying what is missing (no interpreter with `eventsourcing`, no script).
    static func measure(
        python: String?, script: String?, directory: String, events: Int, stateBytes: Int, batch: Int,
        customers: Int
    ) throws -> Double {
        let fm = FileManager.default
        guard let scriptPath = candidateScripts(script).first(where: { fm.fileExists(atPath: $0) }) else {
            throw Unavailable(
                description:
                    "peer_eventsourcing.py not found (tried \(candidateScripts(script).joined(separator: ", "))); "
                    + "name it with --peer-script, or give --peer-rate")
        }
        let pythons = candidatePythons(python).filter { fm.isExecutableFile(atPath: $0) }
        guard
            let interpreter = pythons.first(where: { (try? run($0, ["-c", "import eventsourcing"])) != nil })
        else {
            throw Unavailable(
                description:
                    "no Python with eventsourcing 9.5.6 (tried \(candidatePythons(python).joined(separator: ", "))); "
                    + "run Tools/peer-venv.sh, name one with --peer-python, or give --peer-rate")
        }
        let output = try run(
            interpreter,
            [
                scriptPath, directory + "/peer.db", String(events), String(stateBytes), String(batch),
                String(customers),
            ])
        // "peer=eventsourcing-sqlite n=... : 63000 events/s in 7.9s"
        guard let range = output.range(of: ": "), let end = output.range(of: " events/s"),
            let rate = Double(output[range.upperBound..<end.lowerBound].trimmingCharacters(in: .whitespaces))
        else { throw Unavailable(description: "could not read the peer's output: \(output)") }
        return rate
    }

    /// Runs a program and returns its standard output; throws when it fails.
    private static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Unavailable(description: "\(executable) exited with \(process.terminationStatus)")
        }
        return text
    }
}
