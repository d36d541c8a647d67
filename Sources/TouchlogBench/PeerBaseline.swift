import Foundation

/// The Python `eventsourcing` SQLite recorder (`Benchmarks/peers/peer_eventsourcing.py` of this
/// repository), run as a child process in the same sitting as the engine.
public enum PeerBaseline {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// The peer script, relative to a checkout of this repository.
    public static let scriptInCheckout = "Benchmarks/peers/peer_eventsourcing.py"
    /// The interpreter of the venv `Tools/peer-venv.sh` makes, relative to a checkout.
    public static let pythonInCheckout = ".build/peer-venv/bin/python3"

    /// The checkout this `touchlog` was built in: the nearest ancestor directory of `executable` that
    /// holds ``scriptInCheckout`` (a build puts the executable in `CHECKOUT/.build/TRIPLE/CONFIG/`), so a
    /// bench run from any directory finds the repository's peer; nil for a copy installed elsewhere.
    public static func checkout(ofExecutable executable: String) -> String? {
        var directory = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent(scriptInCheckout).path)
            {
                return directory.path
            }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    /// The checkouts to look in, nearest first: the working directory, then the one this executable was
    /// built in (when it is another).
    static func checkouts(workingDirectory: String, executable: String) -> [String] {
        var list = [workingDirectory]
        if let built = checkout(ofExecutable: executable), built != workingDirectory { list.append(built) }
        return list
    }

    /// Interpreters tried in order when none is named: `$TOUCHLOG_PEER_PYTHON`, the venv that
    /// `Tools/peer-venv.sh` makes in the working directory's checkout and in the executable's, then
    /// `python3`.
    public static func candidatePythons(
        _ named: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath,
        executable: String = "/proc/self/exe"
    ) -> [String] {
        if let named { return [named] }
        var list: [String] = []
        if let fromEnvironment = environment["TOUCHLOG_PEER_PYTHON"], !fromEnvironment.isEmpty {
            list.append(fromEnvironment)
        }
        list += checkouts(workingDirectory: workingDirectory, executable: executable).map {
            $0 + "/" + pythonInCheckout
        }
        list.append("/usr/bin/python3")
        return list
    }

    /// Peer scripts tried in order when none is named: `$TOUCHLOG_PEER_SCRIPT`, then the repository's
    /// own (``scriptInCheckout``) in the working directory's checkout and in the executable's.
    public static func candidateScripts(
        _ named: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath,
        executable: String = "/proc/self/exe"
    ) -> [String] {
        if let named { return [named] }
        var list: [String] = []
        if let fromEnvironment = environment["TOUCHLOG_PEER_SCRIPT"], !fromEnvironment.isEmpty {
            list.append(fromEnvironment)
        }
        list += checkouts(workingDirectory: workingDirectory, executable: executable).map {
            $0 + "/" + scriptInCheckout
        }
        return list
    }

    /// Runs the peer on `events` events of `stateBytes` bytes, `batch` per insert, over `customers`
    /// streams, with its database in `directory`; returns its events per second and its version.
    /// - Throws: `Unavailable` saying what is missing (no interpreter with `eventsourcing`, no script).
    static func measure(
        python: String?, script: String?, directory: String, events: Int, stateBytes: Int, batch: Int,
        customers: Int
    ) throws -> PeerReading {
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
        // "peer=eventsourcing-sqlite version=9.5.6 ...: 63000 events/s in 7.9s"
        return try PeerReading(output: output)
    }

    /// Runs a program and returns its standard output; throws when it fails, with the last line of its
    /// standard error (kept in a temporary file, so a chatty child never blocks on a full pipe).
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        let errorPath = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("touchlog-peer-\(UUID().uuidString).stderr").path
        guard FileManager.default.createFile(atPath: errorPath, contents: nil),
            let errorFile = FileHandle(forWritingAtPath: errorPath)
        else { throw Unavailable(description: "cannot create \(errorPath) for the peer's messages") }
        defer {
            try? errorFile.close()
            try? FileManager.default.removeItem(atPath: errorPath)
        }
        process.standardError = errorFile
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            let message =
                (try? String(contentsOfFile: errorPath, encoding: .utf8))?
                .split(separator: "\n").last.map { ": " + $0 } ?? ""
            throw Unavailable(description: "\(executable) exited with \(process.terminationStatus)\(message)")
        }
        return text
    }
}
