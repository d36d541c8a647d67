import Foundation
import LMDB
import Testing
import TouchlogDomain
import TouchlogTestSupport

@testable import TouchlogStore

@Suite struct IdentityIndexTests {
    let store: TestStore
    init() throws { store = try TestStore() }

    /// The size classes of the runs now in the index.
    func runSizes(_ log: EventLog) throws -> [Int] {
        try log.environment.withReadTransaction { txn in
            try txn.withUnsafeEntries(in: log.databases.idRuns) { runs in
                try IdentityIndex(runs).runs.map(\.run.count)
            }
        }
    }

    @Test func batchesOfEverySizeMergeIntoFewRunsAndEveryEventStaysFindable() throws {
        let log = try store.open()
        var next = 0
        var appended: [String] = []
        // 1, 2, ..., 40 events per batch, twice: many merges, across several size classes.
        for size in Array(1...40) + Array(1...40) {
            let ids = (0..<size).map { "m\(next + $0)" }
            next += size
            let result = try log.append(try ids.map { try touchpoint(id: $0, customer: "c\($0.count % 7)") })
            #expect(result.appended == size)
            appended += ids
        }
        let sizes = try runSizes(log)
        #expect(sizes.reduce(0, +) == appended.count)
        for sizeClass in Set(sizes.map(IdentityIndex.sizeClass)) {
            #expect(
                sizes.filter { IdentityIndex.sizeClass($0) == sizeClass }.count < IdentityIndex.mergeFactor)
        }
        for (offset, id) in appended.enumerated() {
            #expect(try log.position(source: "urn:test", id: id) == UInt64(offset + 1))
        }
        // Sending everything again, in one batch, appends nothing.
        let again = try log.append(try appended.map { try touchpoint(id: $0, customer: "c\($0.count % 7)") })
        #expect(again.appended == 0)
        #expect(again.outcomes.first == .duplicate(position: 1))
        #expect(try log.verify().problems.isEmpty)
    }

    /// Values computed from the definition in docs/STORAGE.md (by a separate Python script), so code
    /// and document cannot drift apart: stored runs depend on this function.
    @Test(arguments: [
        ("urn:test", "e4", 0x986a_d322_ddd1_27d0 as UInt64),
        ("https://crm.example.com/ingest", "evt-00000000000000012345", 0xea04_d324_c590_e6ac),
        ("", "", 0x297d_8376_16bd_21a4),
        ("urn:é", "ü-日本", 0x68b5_e39c_5bf0_a319),
    ])
    func theUnkeyedIdentityHashIsTheDocumentedFunction(source: String, id: String, expected: UInt64) {
        #expect(IdentityKey.unkeyed(source: source, id: id) == expected)
        #expect(IdentityHasher.unkeyed.hash(source: source, id: id) == expected)
    }

    /// SipHash-2-4's reference vectors (key 00 01 .. 0f, message 00 01 .. of 0, 7, 8 and 15 bytes), fed
    /// whole and in pieces.
    @Test(arguments: [
        (0, 0x726f_db47_dd0e_0e31 as UInt64), (7, 0xab02_00f5_8b01_d137), (8, 0x93f5_f579_9a93_2462),
        (15, 0xa129_ca61_49be_45e5),
    ])
    func sipHashMatchesItsReferenceVectors(length: Int, expected: UInt64) {
        let key = IdentityHasher(key: (0..<16).map { UInt8($0) })!.key!
        let message = (0..<length).map { UInt8($0) }
        for split in 0...length {
            var hasher = SipHasher24(key: key)
            message[..<split].withUnsafeBytes { hasher.absorb($0) }
            message[split...].withUnsafeBytes { hasher.absorb($0) }
            #expect(hasher.finalize() == expected, "split at \(split)")
        }
    }

    /// Each store hashes identities under a random key of its own, so no one outside it can aim ids at
    /// one hash; a store made before keyed hashes keeps the unkeyed hash its index was built with.
    @Test func eachStoreHasItsOwnIdentityKey() throws {
        let other = try TestStore()
        let (a, b) = (try store.open(), try other.open())
        #expect(a.identityHasher.key != nil)
        #expect(
            a.identityHasher.hash(source: "urn:test", id: "e1")
                != b.identityHasher.hash(source: "urn:test", id: "e1"))
        _ = try a.append([try touchpoint(id: "e1")])
        #expect(try a.position(source: "urn:test", id: "e1") == 1)
        #expect(try a.verify().problems.isEmpty)
    }

    @Test func aStoreWithoutAnIdentityKeyUsesTheUnkeyedHash() throws {
        // A store as the version before keys made it: a format, and no 'idkey'.
        try FileManager.default.createDirectory(atPath: store.path, withIntermediateDirectories: false)
        do {
            var options = Environment.Options()
            options.maxDatabases = 8
            let environment = try Environment(path: store.path, options: options)
            try environment.withWriteTransaction { txn in
                let meta = try txn.createDatabase(named: "meta")
                try txn.put(Array("2".utf8), forKey: "format", in: meta)
            }
        }
        let log = try store.open()
        #expect(log.identityHasher.key == nil)
        _ = try log.append([try touchpoint(id: "e1"), try touchpoint(id: "e2")])
        #expect(try log.position(source: "urn:test", id: "e2") == 2)
        #expect(try log.verify().problems.isEmpty)
    }

    @Test func aRunsFilterAdmitsEveryEntryAndRejectsNearlyAllOthers() throws {
        var random = SystemRandomNumberGenerator()
        let entries = (0..<20_000).map { IdentityEntry(hash: random.next(), position: UInt64($0 + 1)) }
            .sorted()
        var bytes = [UInt8](repeating: 0xAA, count: IdentityRun.encodedSize(entries: entries.count))
        var next = 0
        bytes.withUnsafeMutableBytes { target in
            IdentityRun.write(count: entries.count, into: target) {
                defer { next += 1 }
                return entries[next]
            }
        }
        try bytes.withUnsafeBytes { buffer in
            let run = try #require(IdentityRun(buffer))
            #expect(run.count == entries.count)
            for entry in entries {
                #expect(run.mayContain(entry.hash))
                var found: [UInt64] = []
                _ = run.forEachPosition(of: IdentityRun.FilterProbe(entry.hash)) {
                    found.append($0)
                    return true
                }
                #expect(found == [entry.position])
            }
            let others = 100_000
            let admitted = (0..<others).count { _ in run.mayContain(random.next()) }
            // 16 bits per entry: about 0.3 % pass; 1 % would mean a broken filter.
            #expect(admitted < others / 100)
        }
        // A truncated run does not read.
        bytes.removeLast()
        #expect(bytes.withUnsafeBytes { IdentityRun($0) } == nil)
    }
}
