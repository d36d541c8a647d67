import Foundation
import Testing
import TouchlogBench
import TouchlogTestSupport

/// `touchlog bench` finds the UmaDB peer in this repository and, when `Tools/peer-venv.sh` has installed
/// umadb, runs it and reads its rate and version. No timing is asserted.
@Suite struct UmaDBPeerTests {
    static let checkout = PeerLookupTests.checkout
    static let venvPython = checkout + "/" + PeerBaseline.pythonInCheckout

    /// Whether this checkout's peer venv has umadb (else the runs below are skipped, saying why).
    static let venvHasUmaDB: Bool = {
        guard FileManager.default.isExecutableFile(atPath: venvPython) else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: venvPython)
        process.arguments = ["-c", "import umadb"]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    @Test func theRepositoryHoldsTheUmaDBScript() throws {
        let text = try String(
            contentsOfFile: Self.checkout + "/" + UmaDBPeer.scriptInCheckout, encoding: .utf8)
        #expect(text.contains("import umadb"))
        #expect(text.contains("events/s in"), "prints the line the bench reads")
        let venv = try String(contentsOfFile: Self.checkout + "/Tools/peer-venv.sh", encoding: .utf8)
        #expect(venv.contains("umadb==\(UmaDBPeer.pinnedVersion)"), "the venv script pins the version")
    }

    @Test func theLookupFindsTheRepositoryScriptFromHereAndFromElsewhere() throws {
        let here = UmaDBPeer.candidateScripts(environment: [:], workingDirectory: Self.checkout)
        #expect(here == [Self.checkout + "/" + UmaDBPeer.scriptInCheckout])
        let elsewhere = try TemporaryDirectory(prefix: "touchlog-umadb")
        let scripts = UmaDBPeer.candidateScripts(environment: [:], workingDirectory: elsewhere.path)
        #expect(
            scripts == [
                elsewhere.path + "/" + UmaDBPeer.scriptInCheckout,
                Self.checkout + "/" + UmaDBPeer.scriptInCheckout,
            ])
        #expect(
            UmaDBPeer.candidateScripts(
                environment: ["TOUCHLOG_UMADB_SCRIPT": "/y/u.py"], workingDirectory: elsewhere.path
            ).first == "/y/u.py")
    }

    @Test func thePeerLineGivesRateAndVersion() throws {
        let reading = try PeerReading(
            output: "starting\npeer=umadb version=0.7.8 events=10 per_append=5: 1234 events/s in 0.0s\n")
        #expect(reading == PeerReading(rate: 1234, version: "0.7.8"))
        #expect(try PeerReading(output: "peer=x events=1: 5 events/s in 0.2s").version == nil)
        #expect(throws: (any Error).self) { try PeerReading(output: "Traceback (most recent call last):") }
    }

    @Test(
        .enabled(if: venvHasUmaDB, "no .build/peer-venv with umadb in this checkout: run Tools/peer-venv.sh"))
    func aSmallRunAppendsEveryEventAndReportsARate() throws {
        let directory = try TemporaryDirectory(prefix: "touchlog-umadb")
        let file = directory.path + "/events.jsonl"
        let generated = runTouchlog(["generate", "--events", "1000", "--customers", "20", "-o", file])
        #expect(generated.exitCode == 0, "\(generated.error)")
        // The script itself checks that the server holds every event afterwards (else it fails).
        let reading = try UmaDBPeer.measure(
            python: Self.venvPython, jsonLines: file, events: 1000, batch: 100)
        #expect(reading.rate > 0)
        #expect(reading.version == UmaDBPeer.pinnedVersion)
        // The server's temporary data directory is gone.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["events.jsonl"])
    }

    @Test(
        .enabled(if: venvHasUmaDB, "no .build/peer-venv with umadb in this checkout: run Tools/peer-venv.sh"))
    func aFileWithTooFewEventsIsAnErrorThatSaysSo() throws {
        let directory = try TemporaryDirectory(prefix: "touchlog-umadb")
        let file = directory.path + "/events.jsonl"
        #expect(runTouchlog(["generate", "--events", "10", "-o", file]).exitCode == 0)
        #expect {
            try UmaDBPeer.measure(python: Self.venvPython, jsonLines: file, events: 11, batch: 5)
        } throws: { error in
            "\(error)".contains("10 events, fewer than the 11 asked for")
        }
    }

    /// The ingest phase lists both peers with their versions and the engine's ratio to each; without
    /// umadb it says so in one line and goes on.
    @Test func theIngestPhaseReportsUmaDBBesideTheOtherPeer() throws {
        let workspace = try Workspace()
        let arguments = [
            "bench", "--phases", "ingest", "--events", "500", "--customers", "10", "--batch-size", "100",
            "--no-sync", "--peer-rate", "1000", "--work-dir", workspace.path,
        ]
        let json = runTouchlog(arguments + ["--json"])
        #expect(json.exitCode == 0, "\(json.error)")
        let line = try #require(json.outputLines.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let peers = try #require(object["peers"] as? [[String: Any]])
        #expect(peers.map { $0["name"] as? String } == ["eventsourcing", "umadb"])
        #expect(peers.map { $0["target_ratio"] as? Double } == [5, 2])
        // What `touchlog ingest` does, in two parts that make up the phase's time.
        let parts = try #require(object["parts"] as? [[String: Any]])
        #expect(parts.map { $0["name"] as? String } == ["append", "projections"])
        let partSeconds = parts.compactMap { $0["seconds"] as? Double }.reduce(0, +)
        let seconds = try #require(object["seconds"] as? Double)
        #expect(abs(partSeconds - seconds) <= 0.002 + 0.01 * seconds)
        #expect(parts.allSatisfy { ($0["rate"] as? Double ?? 0) > 0 })
        let umadb = peers[1]
        let text = runTouchlog(arguments)
        #expect(text.exitCode == 0, "\(text.error)")
        let umadbLines = text.outputLines.filter { $0.contains("peer umadb") }
        #expect(umadbLines.count == 1)
        if Self.venvHasUmaDB {
            #expect(umadb["version"] as? String == UmaDBPeer.pinnedVersion)
            let rate = try #require(umadb["rate"] as? Double)
            let ratio = try #require(umadb["ratio"] as? Double)
            let engine = try #require(object["rate"] as? Double)
            #expect(rate > 0 && abs(ratio - engine / rate) <= 0.01 * max(1, ratio))
            #expect(umadbLines.first?.contains("peer umadb \(UmaDBPeer.pinnedVersion): ") == true)
            #expect(umadbLines.first?.contains("(target 2x: ") == true)
        } else {
            #expect(umadb["rate"] is NSNull)
            #expect((umadb["note"] as? String)?.contains("umadb is not installed") == true)
            #expect(umadbLines.first?.contains("run Tools/peer-venv.sh") == true)
        }
    }
}
