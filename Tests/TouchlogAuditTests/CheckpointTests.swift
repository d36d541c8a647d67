import Crypto
import Foundation
import Testing
import TouchlogAudit
import TouchlogTestSupport

@testable import TouchlogStore

/// C2SP signed notes, verifier keys and checkpoints, and the checkpoint `seal` stores.
@Suite struct CheckpointTests {
    let checkpoint = Checkpoint(
        origin: "touchlog/0123", size: 42, root: .merkleLeaf(hashedBytes: [1]),
        streamHeads: (3, .merkleLeaf(hashedBytes: [2])))

    @Test func aSignedCheckpointRoundTripsAndVerifiesOnlyWithItsKey() throws {
        let key = Curve25519.Signing.PrivateKey()
        let signed = try SignedCheckpoint.sign(checkpoint, with: key, name: "touchlog")
        let lines = signed.text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "touchlog/0123" && lines[1] == "42")
        #expect(lines[2] == Substring(Data(checkpoint.root.bytes).base64EncodedString()))
        #expect(lines[3].hasPrefix("touchlog-stream-heads 3 "))
        #expect(lines[4] == "" && lines[5].hasPrefix("\u{2014} touchlog "))
        let parsed = try SignedCheckpoint(parsing: signed.text)
        #expect(parsed == signed)
        #expect(parsed.checkpoint == checkpoint)
        try parsed.verify(with: NoteVerifierKey(publicKey: key.publicKey))
        let other = NoteVerifierKey(publicKey: Curve25519.Signing.PrivateKey().publicKey)
        #expect(throws: CheckpointError.self) { try parsed.verify(with: other) }
        // The same key under another name is another verifier: its signature line is not this one's.
        #expect(throws: CheckpointError.self) {
            try parsed.verify(with: NoteVerifierKey(name: "other", publicKey: key.publicKey))
        }
        // A changed note text fails the signature.
        let changed = signed.text.replacingOccurrences(of: "\n42\n", with: "\n43\n")
        #expect(throws: CheckpointError.self) {
            try SignedCheckpoint(parsing: changed).verify(with: NoteVerifierKey(publicKey: key.publicKey))
        }
    }

    @Test(arguments: [
        "", "touchlog/1\n42\n", "touchlog/1\n042\nAAAA\n\n\u{2014} touchlog AAAAAAAA\n",
        "touchlog/1\n42\nnot base64\n\n\u{2014} touchlog AAAAAAAA\n", "touchlog/1\n42\n",
    ])
    func aMalformedNoteIsRejected(text: String) {
        #expect(throws: CheckpointError.self) { try SignedCheckpoint(parsing: text) }
    }

    @Test func verifierKeysRoundTripAlsoWhenTheirBase64HoldsAPlus() throws {
        var sawPlus = false
        for _ in 0..<64 {
            let key = NoteVerifierKey(publicKey: Curve25519.Signing.PrivateKey().publicKey)
            let parsed = try NoteVerifierKey(parsing: key.text + "\n")
            #expect(parsed.text == key.text && parsed.keyID == key.keyID)
            sawPlus = sawPlus || key.text.split(separator: "+").count > 3
        }
        #expect(sawPlus, "some base64 of 64 random keys holds a '+'")
        #expect(throws: CheckpointError.self) { try NoteVerifierKey(parsing: "touchlog+00000000+AAAA") }
        let key = NoteVerifierKey(publicKey: Curve25519.Signing.PrivateKey().publicKey)
        let wrongID = key.text.replacingOccurrences(of: key.keyIDHex, with: "00000000")
        #expect(throws: CheckpointError.self) { try NoteVerifierKey(parsing: wrongID) }
    }

    @Test func sealStoresACheckpointOfTheTreeAndTheStreamHeadsInTheSameTransaction() throws {
        let test = try TestStore(prefix: "checkpoint")
        let store = try test.openStore()
        _ = try store.log.append(
            try (0..<21).map {
                try touchpoint(id: "e\($0)", customer: "c\($0 % 5)", time: "2024-05-01T10:00:00Z")
            })
        let key = Curve25519.Signing.PrivateKey()
        let (seal, signed) = try SealBook(store: store).sealWithCheckpoint(with: key)
        #expect(seal.position == 21 && signed.checkpoint.size == 21)
        #expect(signed.checkpoint.origin == (try store.origin()))
        try store.withReadTransaction { txn in
            #expect(try store.log.treeRoot(size: 21, txn) == signed.checkpoint.root)
            let heads = try store.log.streamHeadsRoot(asOf: 21, in: txn)
            #expect(heads.size == 5 && signed.checkpoint.streamHeads?.root == heads.root)
            // As of 10 events, c0's head is its event at position 6 (version 2), under its pseudonym.
            let c0 = try #require(try store.log.streamKey(ofCustomer: "c0", in: txn))
            #expect(c0 == (try store.log.pseudonym(ofCustomer: "c0"))?.bytes)
            #expect(try store.log.streamKey(ofCustomer: "nobody", in: txn) == nil)
            var entries: [StreamHeadEntry] = []
            try store.log.forEachStreamHead(asOf: 10, in: txn) { entries.append($0) }
            #expect(
                entries.map(\.stream) == entries.map(\.stream).sorted { $0.lexicographicallyPrecedes($1) })
            #expect(entries.contains(StreamHeadEntry(stream: c0, lastPosition: 6, version: 2)))
            #expect(entries.count == 5)
        }
        let stored = try #require(try CheckpointBook(store: store).latest())
        #expect(stored.signed == signed && stored.number == 1)
        #expect(stored.verifierKey.text == NoteVerifierKey(publicKey: key.publicKey).text)
        let report = try Auditor(store: store).audit(
            sealKey: key.publicKey, checkpointKey: NoteVerifierKey(publicKey: key.publicKey))
        #expect(report.ok && report.checkpointsChecked == 1, "\(report.problems)")
    }

    @Test func theAuditRecomputesTheStreamHeadsOfTheLatestCheckpoint() throws {
        let store = try TamperableStore()
        _ = try SealBook(store: try store.openStore()).seal(with: Curve25519.Signing.PrivateKey())
        #expect(try store.audit().ok)
        // The `streams` index says c1 ended one version earlier than the checkpoint committed to.
        try store.tamper { txn, _, streams, _ in
            let head = try #require(try txn.value(forKey: "c1", in: streams))
            var changed = head
            changed[15] -= 1
            try txn.put(changed, forKey: "c1", in: streams)
        }
        let report = try store.audit()
        #expect(
            report.problems.map(\.kind.rawValue).contains("checkpoint_stream_heads"), "\(report.problems)")
        #expect(report.problems.map(\.kind.rawValue).contains("stream_index"))
    }
}
