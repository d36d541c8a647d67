import Crypto
import Foundation
import Testing
import TouchlogAudit
import TouchlogStore
import TouchlogTestSupport

/// `keygen` (the `.vkey`), `seal` (its checkpoint), `checkpoint`, `audit --checkpoint`, `prove` and
/// `verify-bundle`, and the Python verifier (Tools/verify_bundle.py) and pymerkle cross-check
/// (Tools/pymerkle_check.py) in the venv of Tools/proof-venv.sh, which the test makes when it is missing.
@Suite struct ProofCommandTests {
    static let checkout = PeerLookupTests.checkout
    static let python = checkout + "/.build/proof-venv/bin/python3"

    let workspace: Workspace
    let key: String
    init() throws {
        workspace = try Workspace()
        key = workspace.path + "/seal.key"
        #expect(runTouchlog(["keygen", key]).exitCode == 0)
    }

    /// Ingests events `ids` spread over customers c0...c3.
    func ingest(_ name: String, ids: ClosedRange<Int>) throws {
        let lines = ids.map {
            contactLine(id: "e\($0)", customer: "c\($0 % 4)", time: "2024-05-01T10:\(10 + $0 % 50):00Z")
        }
        let result = workspace.run("ingest", try workspace.file(name, lines: lines))
        #expect(result.exitCode == 0, "\(result.error)")
    }

    /// Runs `script` with `arguments` in the proof venv (made first when missing).
    static func runPython(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        if !FileManager.default.isExecutableFile(atPath: python) {
            let setup = try run("/bin/bash", [checkout + "/Tools/proof-venv.sh"])
            try #require(setup.status == 0, "Tools/proof-venv.sh failed: \(setup.output)")
        }
        return try run(python, [checkout + "/Tools/" + script] + arguments)
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// Both verifiers on `bundle`: the Swift one through `touchlog verify-bundle`, and the Python one.
    func verifyBoth(_ bundle: String, key vkey: String? = nil) throws -> (
        swift: CommandResult, python: String
    ) {
        let swift = runTouchlog(["verify-bundle", bundle, "--key", vkey ?? key + ".vkey"])
        let python = try Self.runPython("verify_bundle.py", [bundle, "--key", vkey ?? key + ".vkey"])
        #expect(swift.exitCode == python.status, "\(swift.output) / \(python.output)")
        #expect(swift.output == python.output, "the two verifiers give the same verdict and reason")
        return (swift, python.output)
    }

    @Test func keygenWritesTheC2SPVerifierKeyBesideTheKeys() throws {
        let text = try String(contentsOfFile: key + ".vkey", encoding: .utf8)
        let verifier = try NoteVerifierKey(parsing: text)
        let publicKey = try SealKey.loadPublicKey(key + ".pub")
        #expect(verifier.publicKey.rawRepresentation == publicKey.rawRepresentation)
        #expect(verifier.name == "touchlog")
        // The key id as c2sp.org/signed-note defines it, computed here on its own.
        let digest = Array(
            SHA256.hash(data: Array("touchlog\n".utf8) + [0x01] + Array(publicKey.rawRepresentation)))
        #expect(
            text == "touchlog+\(digest.prefix(4).map { String(format: "%02x", $0) }.joined())+"
                + Data([0x01] + Array(publicKey.rawRepresentation)).base64EncodedString() + "\n")
    }

    @Test func aBundleVerifiesInBothVerifiersAndAgreesWithPymerkle() throws {
        try ingest("a.jsonl", ids: 1...23)
        #expect(workspace.run("seal", "--key", key).exitCode == 0)
        let checkpoint = workspace.run("checkpoint")
        #expect(checkpoint.exitCode == 0)
        let signed = try SignedCheckpoint(parsing: checkpoint.output)
        #expect(signed.checkpoint.size == 23)
        #expect(signed.checkpoint.streamHeads?.size == 4)
        var bundles: [String] = []
        for customer in ["c0", "c1", "c2", "c3"] {
            let bundle = workspace.path + "/bundle-" + customer
            let proved = workspace.run("prove", "--customer", customer, "--out", bundle)
            #expect(proved.exitCode == 0, "\(proved.error)")
            #expect(try String(contentsOfFile: bundle + "/checkpoint", encoding: .utf8) == checkpoint.output)
            let verified = try verifyBoth(bundle)
            #expect(verified.swift.exitCode == 0)
            #expect(
                verified.python.hasPrefix("OK: \(customer == "c0" ? 5 : 6) events of customer \(customer)"))
            try checkFormatThreeLines(bundle)
            bundles.append(bundle)
        }
        let pymerkle = try Self.runPython("pymerkle_check.py", bundles)
        #expect(pymerkle.status == 0, "\(pymerkle.output)")
        #expect(pymerkle.output.hasPrefix("OK: pymerkle agrees on the root of 23 leaves"))
    }

    /// The bytes of base64 `text`, which must be there.
    func decoded(_ text: String?) throws -> [UInt8] {
        let text = try #require(text)
        return Array(try #require(Data(base64Encoded: text)))
    }

    /// The lines of `events.jsonl` of `bundle` as JSON objects.
    func events(_ bundle: String) throws -> [[String: Any]] {
        try String(contentsOfFile: bundle + "/events.jsonl", encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// Each line of a live customer's bundle of a store of format 3: its leaf is the stored record's hashed
    /// bytes, which hold no personal content, and its disclosures the salt and content the leaf commits to.
    func checkFormatThreeLines(_ bundle: String) throws {
        for line in try events(bundle) {
            #expect(line["record_format"] as? Int == 3)
            let leaf = try decoded(line["leaf"] as? String)
            let disclosures = try #require(line["disclosures"] as? [String: String])
            let salt = try decoded(disclosures["salt"])
            let content = try decoded(disclosures["content"])
            #expect(salt.count == 16)
            // Record bytes 113..<145 are hashed bytes 88..<120: the 8-byte position replaces 33 bytes.
            #expect(Array(SHA256.hash(data: salt + content)) == Array(leaf[88..<120]), "the commitment")
            let event = try #require(line["event"] as? [String: Any])
            let summary = try #require((event["data"] as? [String: Any])?["summary"] as? String)
            #expect(content.firstRange(of: Array(summary.utf8)) != nil, "the disclosed data")
            #expect(leaf.firstRange(of: Array(summary.utf8)) == nil, "the leaf holds no personal data")
        }
    }

    @Test func proveNeedsACheckpointAndAKnownCustomerAndAnEmptyDirectory() throws {
        try ingest("a.jsonl", ids: 1...3)
        let none = workspace.run("prove", "--customer", "c1", "--out", workspace.path + "/b")
        #expect(none.exitCode == 66 && none.error.contains("no checkpoint"))
        #expect(workspace.run("checkpoint").exitCode == 66)
        #expect(workspace.run("seal", "--key", key).exitCode == 0)
        let unknown = workspace.run("prove", "--customer", "nobody", "--out", workspace.path + "/b")
        #expect(unknown.exitCode == 66 && unknown.error.contains("'nobody'"))
        #expect(workspace.run("prove", "--customer", "c1", "--out", workspace.path + "/b").exitCode == 0)
        let again = workspace.run("prove", "--customer", "c1", "--out", workspace.path + "/b")
        #expect(again.exitCode == 64 && again.error.contains("not an empty directory"))
    }

    /// The tamper cases of issue 16: each is rejected by both verifiers with the same reason.
    @Test func everyTamperedBundleFailsInBothVerifiersWithItsReason() throws {
        try ingest("a.jsonl", ids: 1...23)
        #expect(workspace.run("seal", "--key", key).exitCode == 0)
        let original = workspace.path + "/bundle"
        #expect(workspace.run("prove", "--customer", "c1", "--out", original).exitCode == 0)
        var copies = 0
        func tampered(_ change: (String) throws -> Void) throws -> String {
            copies += 1
            let copy = workspace.path + "/tampered-\(copies)"
            try FileManager.default.copyItem(atPath: original, toPath: copy)
            try change(copy)
            return copy
        }
        func lines(_ path: String) throws -> [String] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        func write(_ lines: [String], _ path: String) throws {
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }

        // A changed byte in an event's content.
        let changedEvent = try tampered { dir in
            var events = try lines(dir + "/events.jsonl")
            events[2] = events[2].replacingOccurrences(of: "hello e", with: "hellO e")
            try write(events, dir + "/events.jsonl")
        }
        #expect(
            try verifyBoth(changedEvent).python
                == "FAILED: events.jsonl:3: the event is not the one its leaf holds\n")

        // A changed byte in a leaf (the hashed bytes): its inclusion proof no longer holds.
        let changedLeaf = try tampered { dir in
            var events = try lines(dir + "/events.jsonl")
            var object = try #require(
                try JSONSerialization.jsonObject(with: Data(events[1].utf8)) as? [String: Any])
            let text = try #require(object["leaf"] as? String)
            var leaf = Array(try #require(Data(base64Encoded: text)))
            leaf[leaf.count - 3] ^= 0x01  // inside the data's text
            object["leaf"] = Data(leaf).base64EncodedString()
            events[1] = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            try write(events, dir + "/events.jsonl")
        }
        let leafResult = try verifyBoth(changedLeaf).python
        #expect(leafResult.hasPrefix("FAILED: events.jsonl:2: "), "\(leafResult)")

        // A changed byte in a disclosure, its salt or its content: the leaf does not commit to it.
        for member in ["salt", "content"] {
            let changedDisclosure = try tampered { dir in
                var events = try lines(dir + "/events.jsonl")
                var object = try #require(
                    try JSONSerialization.jsonObject(with: Data(events[1].utf8)) as? [String: Any])
                var disclosures = try #require(object["disclosures"] as? [String: String])
                var bytes = try decoded(disclosures[member])
                bytes[bytes.count - 2] ^= 0x01
                disclosures[member] = Data(bytes).base64EncodedString()
                object["disclosures"] = disclosures
                events[1] = String(
                    decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
                try write(events, dir + "/events.jsonl")
            }
            #expect(
                try verifyBoth(changedDisclosure).python
                    == "FAILED: events.jsonl:2: the disclosed salt and content are not what the leaf commits to\n"
            )
        }

        // Another customer's completeness proof: its stream is not this customer's pseudonym.
        let other = workspace.path + "/bundle-c2"
        #expect(workspace.run("prove", "--customer", "c2", "--out", other).exitCode == 0)
        let otherStream = try tampered { dir in
            try FileManager.default.removeItem(atPath: dir + "/completeness.json")
            try FileManager.default.copyItem(
                atPath: other + "/completeness.json", toPath: dir + "/completeness.json")
        }
        #expect(
            try verifyBoth(otherStream).python
                == "FAILED: completeness.json: its stream is not the key of the bundle's customer's stream\n")

        // A dropped event in the middle: the versions have a gap.
        let droppedMiddle = try tampered { dir in
            var events = try lines(dir + "/events.jsonl")
            events.remove(at: 2)
            try write(events, dir + "/events.jsonl")
        }
        #expect(
            try verifyBoth(droppedMiddle).python
                == "FAILED: events.jsonl:3: version 4, expected 3: the stream has a gap or is out of order\n")

        // The last event dropped: the stream head committed by the checkpoint says there is one more.
        let droppedLast = try tampered { dir in
            var events = try lines(dir + "/events.jsonl")
            events.removeLast()
            try write(events, dir + "/events.jsonl")
        }
        #expect(
            try verifyBoth(droppedLast).python.hasPrefix(
                "FAILED: completeness.json: the stream head (position 21, version 6) is not the last event (position 17, version 5): events are missing"
            ))

        // A reordered proof: two hashes of an inclusion proof swapped.
        let reordered = try tampered { dir in
            let path = dir + "/proofs/4.tlog-proof"
            var proof = try String(contentsOfFile: path, encoding: .utf8).split(
                separator: "\n", omittingEmptySubsequences: false
            ).map(String.init)
            proof.swapAt(2, 3)
            try proof.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        #expect(
            try verifyBoth(reordered).python
                == "FAILED: proofs/4.tlog-proof: the inclusion proof does not lead to the checkpoint's root\n"
        )

        // A checkpoint signed by another key (under the same name), everywhere in the bundle.
        let otherKey = workspace.path + "/other.key"
        #expect(runTouchlog(["keygen", otherKey]).exitCode == 0)
        let forged = try tampered { dir in
            let signed = try SignedCheckpoint(
                parsing: try String(contentsOfFile: dir + "/checkpoint", encoding: .utf8))
            let resigned = try SignedCheckpoint.sign(
                signed.checkpoint, with: try SealKey.loadPrivateKey(otherKey), name: "touchlog")
            try resigned.text.write(toFile: dir + "/checkpoint", atomically: true, encoding: .utf8)
            for name in try FileManager.default.contentsOfDirectory(atPath: dir + "/proofs") {
                let path = dir + "/proofs/" + name
                let text = try String(contentsOfFile: path, encoding: .utf8)
                try text.replacingOccurrences(of: signed.text, with: resigned.text).write(
                    toFile: path, atomically: true, encoding: .utf8)
            }
        }
        let vkey = try NoteVerifierKey.load(key + ".vkey")
        #expect(
            try verifyBoth(forged).python
                == "FAILED: checkpoint: not signed by the key touchlog+\(vkey.keyIDHex)\n")
        // ... which verifies under the other key: the signature is what was wrong.
        #expect(try verifyBoth(forged, key: otherKey + ".vkey").swift.exitCode == 0)
    }

    /// An erased customer is still proved complete, under its pseudonym: the same leaves, nothing disclosed,
    /// the events as they read once erased; a bundle made while the customer lived still verifies.
    @Test func anErasedCustomerIsProvedUnderItsPseudonym() throws {
        try ingest("a.jsonl", ids: 1...23)
        #expect(workspace.run("seal", "--key", key).exitCode == 0)
        let live = workspace.path + "/live"
        #expect(workspace.run("prove", "--customer", "c1", "--out", live).exitCode == 0)
        let pseudonym = try #require(try workspace.openLog().pseudonym(ofCustomer: "c1"))
        let completeness = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: live + "/completeness.json")))
                as? [String: Any])
        #expect(completeness["stream"] as? String == Data(pseudonym.bytes).base64EncodedString())

        let erased = workspace.run("erase", "--customer", "c1", "--reason", "asked to be forgotten")
        #expect(erased.exitCode == 0, "\(erased.error)")
        #expect(workspace.run("seal", "--key", key).exitCode == 0)
        let gone = workspace.run("prove", "--customer", "c1", "--out", workspace.path + "/gone")
        #expect(gone.exitCode == 66, "the id leads nowhere once erased")
        let bundle = workspace.path + "/erased"
        let proved = workspace.run("prove", "--customer", pseudonym.erasedName, "--out", bundle)
        #expect(proved.exitCode == 0, "\(proved.error)")
        let verified = try verifyBoth(bundle)
        #expect(
            verified.python
                == "OK: 8 events of customer \(pseudonym.erasedName), complete as of checkpoint tree size 25\n"
        )
        let lines = try events(bundle)
        #expect(
            lines.map { ($0["event"] as? [String: Any])?["type"] as? String }.suffix(2) == [
                "touchlog.erasure.requested", "touchlog.erasure.completed",
            ])
        for line in lines {
            #expect((line["disclosures"] as? [String: Any])?.isEmpty == true)
            let event = try #require(line["event"] as? [String: Any])
            #expect(event["subject"] as? String == pseudonym.erasedName && event["erased"] as? Bool == true)
        }
        let liveLines = try events(live)
        #expect(liveLines.map { $0["leaf"] as? String } == lines.prefix(6).map { $0["leaf"] as? String })
        #expect(try verifyBoth(live).swift.exitCode == 0, "a bundle kept from before the erasure")
    }

    /// A backup made without keys cannot open the content a bundle discloses: prove refuses there
    /// rather than write a bundle that shows the customer as withheld.
    @Test func proveRefusesACopyWithoutKeys() throws {
        try ingest("a.jsonl", ids: 1...5)
        #expect(workspace.run("seal", "--key", key).exitCode == 0)
        let copy = workspace.path + "/copy"
        let backup = workspace.run("backup", copy)
        #expect(backup.exitCode == 0, "\(backup.error)")
        let refused = runTouchlog([
            "prove", "--customer", "c1", "--out", workspace.path + "/b", "--store", copy,
        ])
        #expect(refused.exitCode == 65, "\(refused.error)")
        #expect(refused.error.contains("is not in this copy of the store"), "\(refused.error)")
        #expect(!FileManager.default.fileExists(atPath: workspace.path + "/b"), "nothing written")
    }

    /// A store of format 2: leaves of record format 1, nothing disclosed, the stream keyed by the id.
    @Test func aStoreOfFormatTwoIsProvedAsBefore() throws {
        do {
            let old = try TestStore.openStore(at: workspace.store, format: 2)
            _ = try old.log.append(
                try (1...9).map {
                    try touchpoint(id: "e\($0)", customer: "c\($0 % 2)", data: #"{"summary":"hi"}"#)
                })
        }
        #expect(workspace.run("seal", "--key", key).exitCode == 0)
        let bundle = workspace.path + "/bundle"
        #expect(workspace.run("prove", "--customer", "c1", "--out", bundle).exitCode == 0)
        #expect(
            try verifyBoth(bundle).python
                == "OK: 5 events of customer c1, complete as of checkpoint tree size 9\n")
        for line in try events(bundle) {
            #expect(line["record_format"] as? Int == 1)
            #expect((line["disclosures"] as? [String: Any])?.isEmpty == true)
        }
        let completeness = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: bundle + "/completeness.json")))
                as? [String: Any])
        #expect(completeness["stream"] as? String == Data("c1".utf8).base64EncodedString())
    }

    /// `audit --checkpoint FILE`: a checkpoint kept outside the store catches a log cut short or rewritten,
    /// even when the stored seals and checkpoints went with it.
    @Test func aKeptCheckpointCatchesATruncatedOrRewrittenLog() throws {
        try ingest("a.jsonl", ids: 1...4)
        let backup = workspace.path + "/backup.mdb"
        try FileManager.default.copyItem(atPath: workspace.store + "/data.mdb", toPath: backup)
        try ingest("b.jsonl", ids: 5...8)
        #expect(workspace.run("seal", "--key", key).exitCode == 0)
        let kept = workspace.path + "/kept.checkpoint"
        try workspace.run("checkpoint").output.write(toFile: kept, atomically: true, encoding: .utf8)

        let good = workspace.run("audit", "--checkpoint", kept, "--public-key", key + ".vkey")
        #expect(good.exitCode == 0, "\(good.output)")
        #expect(good.outputLines.first?.hasSuffix(", 2 checkpoints checked") == true, "\(good.output)")
        try ingest("c.jsonl", ids: 9...12)
        #expect(
            workspace.run("audit", "--checkpoint", kept, "--public-key", key + ".pub").exitCode == 0,
            "extended")

        // Another signer's key: the signature fails.
        let otherKey = workspace.path + "/other.key"
        #expect(runTouchlog(["keygen", otherKey]).exitCode == 0)
        let wrongKey = workspace.run("audit", "--checkpoint", kept, "--public-key", otherKey + ".vkey")
        #expect(
            wrongKey.exitCode == 1 && wrongKey.output.contains("checkpoint_signature"), "\(wrongKey.output)")

        // An older copy of the store put back: 4 events, no seal, no checkpoint. Consistent by itself.
        try FileManager.default.removeItem(atPath: workspace.store + "/data.mdb")
        try FileManager.default.copyItem(atPath: backup, toPath: workspace.store + "/data.mdb")
        #expect(workspace.run("audit").exitCode == 0, "consistent by itself")
        let cut = workspace.run("audit", "--checkpoint", kept, "--public-key", key + ".vkey")
        #expect(cut.exitCode == 1)
        #expect(cut.output.contains("checkpoint_consistency"), "\(cut.output)")
        #expect(cut.output.contains("covers 8 events; the log has 4: events were removed from its end"))

        // The same length with another history (events 5...8 differ): no consistency proof holds.
        try ingest("d.jsonl", ids: 105...108)
        let rewritten = workspace.run("audit", "--checkpoint", kept, "--public-key", key + ".vkey", "--json")
        #expect(rewritten.exitCode == 1)
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(rewritten.output.utf8)) as? [String: Any])
        let problems = try #require(report["problems"] as? [[String: Any]])
        #expect(problems.map { $0["kind"] as? String } == ["checkpoint_consistency"])
        #expect((problems.first?["message"] as? String)?.contains("the log does not extend it") == true)
    }
}
