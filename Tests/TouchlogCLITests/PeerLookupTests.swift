import Foundation
import Testing
import TouchlogBench
import TouchlogTestSupport

/// `touchlog bench` finds the Python peer in this repository (a fresh clone has no ../shared/), from its
/// checkout or from any directory, through the executable it was built as.
@Suite struct PeerLookupTests {
    /// This checkout: the test bundle is built in CHECKOUT/.build/..., like `touchlog`.
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func theRepositoryHoldsThePeerScript() throws {
        let script = Self.checkout + "/" + PeerBaseline.scriptInCheckout
        let text = try String(contentsOfFile: script, encoding: .utf8)
        #expect(text.contains("from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore"))
        #expect(text.contains("events/s in"), "prints the line the bench reads")
    }

    @Test func theLookupFindsTheRepositoryScriptFirst() throws {
        let scripts = PeerBaseline.candidateScripts(nil, environment: [:], workingDirectory: Self.checkout)
        #expect(scripts.first == Self.checkout + "/" + PeerBaseline.scriptInCheckout)
        #expect(scripts.first.map { FileManager.default.fileExists(atPath: $0) } == true)
        #expect(!scripts.contains { $0.contains("shared") })
        let pythons = PeerBaseline.candidatePythons(nil, environment: [:], workingDirectory: Self.checkout)
        #expect(pythons.first == Self.checkout + "/" + PeerBaseline.pythonInCheckout)
    }

    @Test func fromAnotherDirectoryTheExecutablesCheckoutIsFound() throws {
        let elsewhere = try TemporaryDirectory(prefix: "touchlog-peer")
        // The executable of this process lives in the checkout's .build, as touchlog does.
        #expect(PeerBaseline.checkout(ofExecutable: "/proc/self/exe") == Self.checkout)
        #expect(PeerBaseline.checkout(ofExecutable: touchlogExecutable()) == Self.checkout)
        let scripts = PeerBaseline.candidateScripts(nil, environment: [:], workingDirectory: elsewhere.path)
        #expect(
            scripts == [
                elsewhere.path + "/" + PeerBaseline.scriptInCheckout,
                Self.checkout + "/" + PeerBaseline.scriptInCheckout,
            ])
        #expect(PeerBaseline.checkout(ofExecutable: elsewhere.path + "/touchlog") == nil)
        // A script named on the command line or in the environment comes first.
        #expect(PeerBaseline.candidateScripts("/x/peer.py") == ["/x/peer.py"])
        #expect(
            PeerBaseline.candidateScripts(
                nil, environment: ["TOUCHLOG_PEER_SCRIPT": "/y/p.py"], workingDirectory: elsewhere.path
            )
            .first == "/y/p.py")
    }
}
