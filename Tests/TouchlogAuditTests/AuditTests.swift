import CloudEvents
import Crypto
import Foundation
import LMDB
import Testing
import TouchlogAudit
import TouchlogDomain
import TouchlogGenerator
import TouchlogProjections
import TouchlogTestSupport

@testable import TouchlogStore

/// A store on disk tampered with through raw LMDB between openings: 12 events of 3 customers, or a
/// generated sample with its projections caught up (as `ingest` leaves a store). Of format 2 unless
/// asked: the tampering edits records of format 1 (FormatThreeAuditTests tamper with format 3).
final class TamperableStore {
    private let store: TestStore
    var directory: String { store.directory }
    var path: String { store.path }

    init(format: Int = 2) throws {
        store = try TestStore(prefix: "audit", format: format)
        let log = try store.open()
        for batch in 0..<3 {
            let events = try (0..<4).map { i -> Touchpoint in
                let n = batch * 4 + i + 1
                return try touchpoint(
                    id: "e\(n)", customer: "c\(n % 3)", time: "2024-05-01T10:\(10 + n):00Z",
                    extra: #""channel":"chat""#, data: #"{"summary":"hello number \#(n)"}"#)
            }
            _ = try log.append(events)
        }
    }

    /// The events of `configuration`, appended in batches of 500, with the projections caught up.
    init(generated configuration: GeneratorConfiguration, format: Int = 2) throws {
        store = try TestStore(prefix: "audit", format: format)
        let opened = try store.openStore()
        let touchpoints = try generatedTouchpoints(configuration)
        for start in stride(from: 0, to: touchpoints.count, by: 500) {
            _ = try opened.log.append(Array(touchpoints[start..<min(touchpoints.count, start + 500)]))
        }
        try ProjectionStore(store: opened).catchUp()
    }

    /// Opens the log again (the one way tests open a store).
    func open() throws -> EventLog { try store.open() }

    /// Opens the whole store again (for the audit and the seals).
    func openStore() throws -> Store { try store.openStore() }

    func audit(customer: String? = nil, key: Curve25519.Signing.PublicKey? = nil) throws -> AuditReport {
        try Auditor(store: try openStore()).audit(customer: customer, sealKey: key)
    }

    /// Rewrites the events from `first` to the head, changing each with `change`, and recomputes their
    /// hashes so the chain is consistent by itself, as a forger would; the forger also drops the Merkle
    /// tree, which the next opening for writing builds again from the forged events.
    func rewriteRecomputingChain(from first: UInt64, _ change: @escaping (inout StoredEvent) -> Void) throws {
        let head = try open().head().position
        try tamper { txn, events, _, _ in
            var previous =
                first == 1
                ? ChainHash.genesis
                : try #require(
                    try txn.withUnsafeValue(forKey: BigEndianKey(first - 1), in: events) {
                        try StoredEvent(record: $0, position: first - 1).hash
                    })
            for position in first...head {
                var stored = try #require(
                    try txn.withUnsafeValue(forKey: BigEndianKey(position), in: events) {
                        try StoredEvent(record: $0, position: position)
                    })
                change(&stored)
                var record: [UInt8] = []
                previous = EventRecord.encode(
                    stored.event, position: position, version: stored.version,
                    previousPosition: stored.previousPosition,
                    recordedAt: stored.recordedAt, occurredAt: stored.occurredAt, predecessorHash: previous,
                    into: &record)
                try txn.put(record, forKey: BigEndianKey(position), in: events)
            }
            try txn.removeAll(in: try #require(try txn.openDatabase(named: "merkle")))
        }
    }

    /// Opens the environment directly (no EventLog is open) and lets `body` change it.
    func tamper(
        _ body: (borrowing WriteTransaction, _ events: Database, _ streams: Database, _ idRuns: Database)
            throws
            -> Void
    )
        throws
    {
        var options = Environment.Options()
        options.maxDatabases = 64
        let environment = try Environment(path: path, options: options)
        try environment.withWriteTransaction { txn in
            let events = try #require(try txn.openDatabase(named: "events"))
            let streams = try #require(try txn.openDatabase(named: "streams"))
            let idRuns = try #require(try txn.openDatabase(named: "idruns"))
            try body(txn, events, streams, idRuns)
        }
    }
}

@Suite struct AuditTests {
    let store: TamperableStore
    init() throws { store = try TamperableStore() }

    @Test func aCleanStoreAuditsWithNoProblems() throws {
        let report = try store.audit()
        #expect(report.ok)
        #expect(report.eventsChecked == 12)
        #expect(report.problems.isEmpty)
        #expect(report.firstBadPosition == nil)
        let customer = try store.audit(customer: "c1")
        #expect(customer.ok)
        #expect(customer.eventsChecked == 4)
    }

    @Test func oneChangedByteOfDataIsAHashMismatchAtItsPosition() throws {
        try store.tamper { txn, events, _, _ in
            var record = try #require(try txn.value(forKey: BigEndianKey(5), in: events))
            let at = try #require(record.indices.first { record[$0...].starts(with: Array("hello".utf8)) })
            record[at] = UInt8(ascii: "j")
            try txn.put(record, forKey: BigEndianKey(5), in: events)
        }
        let report = try store.audit()
        #expect(!report.ok)
        #expect(report.firstBadPosition == 5)
        #expect(report.problems.first?.kind.rawValue == "hash_mismatch")
        let customer = try store.audit(customer: "c2")
        #expect(customer.firstBadPosition == 5)
        #expect(customer.problems.first?.kind.rawValue == "hash_mismatch")
    }

    @Test func anEventRemovedFromTheMiddleIsAGap() throws {
        try store.tamper { txn, events, _, _ in
            let removed = try txn.delete(forKey: BigEndianKey(6), in: events)
            #expect(removed)
        }
        let report = try store.audit()
        #expect(report.firstBadPosition == 6)
        #expect(report.problems.first?.kind.rawValue == "gap")
        #expect(report.problems.contains { $0.position == 7 && $0.kind.rawValue == "chain_broken" })
    }

    @Test func twoSwappedEventsFailAtTheFirstOfThem() throws {
        try store.tamper { txn, events, _, _ in
            let third = try #require(try txn.value(forKey: BigEndianKey(3), in: events))
            let eighth = try #require(try txn.value(forKey: BigEndianKey(8), in: events))
            try txn.put(eighth, forKey: BigEndianKey(3), in: events)
            try txn.put(third, forKey: BigEndianKey(8), in: events)
        }
        let report = try store.audit()
        #expect(report.firstBadPosition == 3)
        #expect(report.problems.first?.kind.rawValue == "hash_mismatch")
    }

    @Test func anAlteredStreamIndexEntryIsReported() throws {
        try store.tamper { txn, _, streams, _ in
            // c0 has events at 3, 6, 9, 12: claim it ends at 9 with version 3.
            var head = [UInt8](repeating: 0, count: 16)
            head[7] = 9
            head[15] = 3
            try txn.put(head, forKey: "c0", in: streams)
        }
        let report = try store.audit()
        #expect(report.firstBadPosition == 12)
        #expect(report.problems.map(\.kind.rawValue) == ["stream_index"])
        // A per-customer audit follows the index to the stream's end, so it sees only positions 3, 6, 9;
        // proving the index complete takes the full audit above.
        #expect(try store.audit(customer: "c0").eventsChecked == 3)
    }

    @Test func anIdIndexEntryPointingAtTheWrongEventIsReported() throws {
        let hash = try store.open().identityHasher.hash(source: "urn:test", id: "e4")
        try store.tamper { txn, _, _, idRuns in
            // Add a run with a second, wrong position under e4's hash.
            try txn.withUnsafeEntries(in: idRuns) { runs in
                #expect(!runs.isEmpty)
                try IdentityIndex(runs).add([IdentityEntry(hash: hash, position: 10)], in: idRuns, txn)
            }
        }
        let report = try store.audit()
        #expect(report.problems.contains { $0.kind.rawValue == "id_index" && $0.position == 10 })
        #expect(!report.ok)
    }

    @Test func anIdIndexFilterThatDeniesAnEntryIsReported() throws {
        // A filter that loses bits would let an event be appended twice: the audit must see it.
        try store.tamper { txn, _, _, idRuns in
            let (key, value) = try #require(
                try txn.withCursor(on: idRuns) { cursor in
                    try cursor.first() ? try cursor.current() : nil
                })
            var run = value
            let blocks = IdentityRun(run.withUnsafeBytes { $0 })?.blocks ?? 0
            #expect(blocks > 0)
            for offset in IdentityRun.headerSize..<(IdentityRun.headerSize + blocks * IdentityRun.blockSize) {
                run[offset] = 0
            }
            try txn.put(run, forKey: key, in: idRuns)
        }
        let report = try store.audit()
        #expect(report.problems.contains { $0.kind.rawValue == "id_index" && $0.message.contains("filter") })
        #expect(!report.ok)
    }

    @Test func aRewriteWithARecomputedChainPassesTheChainButFailsTheSeal() throws {
        let key = Curve25519.Signing.PrivateKey()
        let seal = try SealBook(store: try store.openStore()).seal(with: key)
        #expect(seal.position == 12)
        #expect(try store.audit(key: key.publicKey).ok)

        // Rewrite event 4's data and recompute every hash from there on, as a forger would.
        try store.rewriteRecomputingChain(from: 4) { stored in
            if stored.position == 4 { stored.event.data = .json(Array("{\"summary\":\"forged\"}".utf8)) }
        }
        // The recomputed chain (and tree) is consistent by itself; the checkpoint stored with the seal is not.
        #expect(try store.audit().problems.map(\.kind.rawValue) == ["checkpoint_consistency"])
        let sealed = try store.audit(key: key.publicKey)
        #expect(!sealed.ok)
        #expect(sealed.sealsChecked == 1)
        #expect(sealed.problems.map(\.kind.rawValue) == ["seal_mismatch", "checkpoint_consistency"])
        #expect(sealed.firstBadPosition == 12)
    }

    @Test func aRecordedTimeBeforeThePreviousEventsIsReportedEvenWithARecomputedChain() throws {
        // Events 5 to 8 are the second batch: move event 6's recorded time before event 5's.
        let earlier = try #require(try store.open().event(at: 5)).recordedAt.microsecondsSinceEpoch - 1
        try store.rewriteRecomputingChain(from: 6) { stored in
            if stored.position == 6 { stored.recordedAt = Timestamp(microsecondsSinceEpoch: earlier) }
        }
        let report = try store.audit()
        #expect(report.problems.map(\.kind.rawValue) == ["recorded_time"])
        #expect(report.firstBadPosition == 6)
        let message = try #require(report.problems.first?.message)
        #expect(message.contains("position 5"), "names the event it goes back from: \(message)")
        // Event 6 is customer c0's: its own audit checks each event against the one before it too.
        let customer = try store.audit(customer: "c0")
        #expect(customer.problems.map(\.kind.rawValue) == ["recorded_time"])
        #expect(customer.firstBadPosition == 6)
    }

    @Test(arguments: [Array("not json".utf8), Array(#"{"position":12}"#.utf8), [0xff, 0x00]])
    func aGarbageSealIsAProblemNamingItAndTheOtherSealsAreStillChecked(garbage: [UInt8]) throws {
        let key = Curve25519.Signing.PrivateKey()
        let book = SealBook(store: try store.openStore())
        for _ in 0..<3 { _ = try book.seal(with: key) }
        try store.tamper { txn, _, _, _ in
            let seals = try #require(try txn.openDatabase(named: "seals"))
            try txn.put(garbage, forKey: BigEndianKey(2), in: seals)
        }
        let report = try store.audit(key: key.publicKey)
        #expect(report.sealsChecked == 3)
        #expect(report.problems.map(\.kind.rawValue) == ["seal_malformed"])
        #expect(report.problems.first?.message.hasPrefix("seal 2 is not a seal") == true)
        #expect(!report.ok)

        // The other seals are still checked: a rewritten history fails seals 1 and 3.
        try store.rewriteRecomputingChain(from: 4) { stored in
            if stored.position == 4 { stored.event.data = .json(Array(#"{"summary":"forged"}"#.utf8)) }
        }
        let rewritten = try store.audit(key: key.publicKey)
        #expect(
            rewritten.problems.map(\.kind.rawValue) == [
                "seal_mismatch", "seal_mismatch", "seal_malformed", "checkpoint_consistency",
                "checkpoint_consistency", "checkpoint_consistency",
            ])
    }

    @Test func aSealCheckedWithAnotherKeyFailsItsSignature() throws {
        _ = try SealBook(store: try store.openStore()).seal(with: Curve25519.Signing.PrivateKey())
        let report = try store.audit(key: Curve25519.Signing.PrivateKey().publicKey)
        #expect(report.problems.map(\.kind.rawValue) == ["seal_signature"])
    }

    @Test func theJSONReportHasTheFieldsScriptsReadEvenWhenNull() throws {
        let data = try JSONEncoder().encode(try store.audit())
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["ok"] as? Bool == true)
        #expect(object["events_checked"] as? Int == 12)
        #expect(object.keys.contains("first_bad_position"))
        #expect((object["problems"] as? [Any])?.isEmpty == true)
    }
}

/// Seals kept outside the store (`audit --seal FILE`).
@Suite struct KeptSealTests {
    let store: TamperableStore
    init() throws { store = try TamperableStore() }

    @Test func aKeptSealCatchesARewriteWhoseStoredSealsWereRemoved() throws {
        let key = Curve25519.Signing.PrivateKey()
        let seal = try SealBook(store: try store.openStore()).seal(with: key)
        let directory = try TemporaryDirectory(prefix: "seal")
        let kept = try Seal.load(fromFile: try directory.file("kept.json", lines: [try seal.jsonText()]))
        #expect(kept == [seal])
        try store.rewriteRecomputingChain(from: 4) { stored in
            if stored.position == 4 { stored.event.data = .json(Array("{\"summary\":\"forged\"}".utf8)) }
        }
        // The forger also empties the seals and checkpoints databases.
        try store.tamper { txn, _, _, _ in
            let seals = try #require(try txn.openDatabase(named: "seals"))
            #expect(try txn.delete(forKey: BigEndianKey(1), in: seals))
            try txn.removeAll(in: try #require(try txn.openDatabase(named: "checkpoints")))
        }
        #expect(try store.audit(key: key.publicKey).ok, "nothing in the store shows the rewrite")
        let report = try Auditor(store: try store.openStore()).audit(
            sealKey: key.publicKey, checkingStoredSeals: false, keptSeals: kept)
        #expect(report.sealsChecked == 1)
        #expect(report.problems.map(\.kind.rawValue) == ["seal_mismatch"])
        #expect(report.firstBadPosition == 12)
    }
}
