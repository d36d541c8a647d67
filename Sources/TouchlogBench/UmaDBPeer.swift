import Foundation

/// UmaDB (PyPI `umadb`, its gRPC server and Python client) as a peer of the ingest phase:
/// `Benchmarks/peers/peer_umadb.py` of this repository starts the server on a free loopback port and
/// appends the bench's own JSON Lines to it, a batch per append, the customer as tag.
public enum UmaDBPeer {
    /// The peer script, relative to a checkout of this repository.
    public static let scriptInCheckout = "Benchmarks/peers/peer_umadb.py"
    /// The version `Tools/peer-venv.sh` installs.
    public static let pinnedVersion = "0.7.8"
    /// The ratio over UmaDB that DESIGN.md section 6 asks of the engine's ingest.
    public static let targetRatio = 2.0

    /// Scripts tried in order: `$TOUCHLOG_UMADB_SCRIPT`, then ``scriptInCheckout`` in the working
    /// directory's checkout and in the executable's (the same lookup as `PeerBaseline`).
    public static func candidateScripts(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath,
        executable: String = "/proc/self/exe"
    ) -> [String] {
        var list: [String] = []
        if let fromEnvironment = environment["TOUCHLOG_UMADB_SCRIPT"], !fromEnvironment.isEmpty {
            list.append(fromEnvironment)
        }
        list += PeerBaseline.checkouts(workingDirectory: workingDirectory, executable: executable).map {
            $0 + "/" + scriptInCheckout
        }
        return list
    }

    /// Runs the peer on the first `events` lines of `jsonLines`, `batch` per append, with the first of
    /// `PeerBaseline.candidatePythons(python)` that has `umadb`; returns its rate and version.
    /// - Throws: `PeerBaseline.Unavailable` saying what is missing or how the peer failed.
    public static func measure(python: String?, jsonLines: String, events: Int, batch: Int) throws
        -> PeerReading
    {
        let (script, interpreter) = try locate(python: python)
        return try PeerReading(
            output: try PeerBaseline.run(interpreter, [script, jsonLines, String(events), String(batch)]))
    }

    /// The peer's script and the first of `PeerBaseline.candidatePythons(python)` that has `umadb`.
    /// - Throws: `PeerBaseline.Unavailable` saying which is missing.
    private static func locate(python: String?) throws -> (script: String, interpreter: String) {
        let fm = FileManager.default
        guard let script = candidateScripts().first(where: { fm.fileExists(atPath: $0) }) else {
            throw PeerBaseline.Unavailable(
                description: "peer_umadb.py not found (tried \(candidateScripts().joined(separator: ", ")))")
        }
        let pythons = PeerBaseline.candidatePythons(python).filter { fm.isExecutableFile(atPath: $0) }
        guard
            let interpreter = pythons.first(where: {
                (try? PeerBaseline.run($0, ["-c", "import umadb"])) != nil
            })
        else {
            throw PeerBaseline.Unavailable(
                description:
                    "umadb is not installed (no Python with umadb \(pinnedVersion) among "
                    + "\(PeerBaseline.candidatePythons(python).joined(separator: ", "))); run Tools/peer-venv.sh"
            )
        }
        return (script, interpreter)
    }

    /// Runs the peer with `clients` threads, each appending one event per call, on the first `events`
    /// lines of `jsonLines`; returns its output (rate, `p50_ms=`, `p99_ms=`).
    /// - Throws: `PeerBaseline.Unavailable` saying what is missing or how the peer failed.
    public static func measureConcurrent(python: String?, jsonLines: String, events: Int, clients: Int) throws
        -> String
    {
        let (script, interpreter) = try locate(python: python)
        return try PeerBaseline.run(interpreter, [script, jsonLines, String(events), "1", String(clients)])
    }

    /// The peer's figures beside the engine's `engineRate`, or a note saying why it did not run.
    static func run(python: String?, jsonLines: String, events: Int, batch: Int, engineRate: Double?)
        -> PeerRun
    {
        var peer = PeerRun(name: "umadb", targetRatio: targetRatio)
        do {
            peer.record(
                try measure(python: python, jsonLines: jsonLines, events: events, batch: batch),
                events: events,
                engineRate: engineRate)
            peer.note = "its gRPC server on loopback, default settings, the same JSON Lines, customer as tag"
        } catch {
            peer.note = "not available: \(error)"
        }
        return peer
    }
}
