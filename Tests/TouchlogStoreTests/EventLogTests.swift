import CloudEvents
import Crypto
import Foundation
import LMDB
import SystemPackage
import Testing
import TouchlogDomain
import TouchlogTestSupport

@testable import TouchlogStore

@Suite struct EventLogTests {
    let store: TestStore
    init() throws { store = try TestStore() }

    @Test func positionsAreGaplessAndStreamVersionsCountPerCustomer() throws {
        let log = try store.open()
        let customers = ["a", "b", "a", "c", "a", "b"]
        var batch = try customers.enumerated().map {
            try touchpoint(id: "e\($0.offset)", customer: $0.element)
        }
        let first = try log.append(Array(batch[0..<4]))
        batch.removeFirst(4)
        let second = try log.append(batch)
        #expect(
            first.outcomes == [
                .appended(position: 1, version: 1), .appended(position: 2, version: 1),
                .appended(position: 3, version: 2), .appended(position: 4, version: 1),
            ])
        #expect(second.outcomes == [.appended(position: 5, version: 3), .appended(position: 6, version: 2)])
        var positions: [UInt64] = []
        try log.forEachEvent {
            positions.append($0.position)
            return true
        }
        #expect(positions == [1, 2, 3, 4, 5, 6])
        #expect(try log.version(ofCustomer: "a") == 3)
        #expect(try log.version(ofCustomer: "nobody") == 0)
        #expect(try log.stream(ofCustomer: "a").map(\.position) == [1, 3, 5])
        #expect(try log.stream(ofCustomer: "a").map(\.version) == [1, 2, 3])
    }

    @Test func duplicatesAreAcknowledgedAndNotStoredAcrossReopening() throws {
        do {
            let log = try store.open()
            let result = try log.append([try touchpoint(id: "x1"), try touchpoint(id: "x2")])
            #expect(result.appended == 2)
        }
        let log = try store.open()
        let again = try log.append([
            try touchpoint(id: "x1"), try touchpoint(id: "x3"), try touchpoint(id: "x3"),
            try touchpoint(id: "x1", source: "urn:other"),
        ])
        #expect(
            again.outcomes == [
                .duplicate(position: 1), .appended(position: 3, version: 3), .duplicate(position: 3),
                .appended(position: 4, version: 4),
            ])
        #expect(try log.statistics().events == 4)
        #expect(try log.position(source: "urn:test", id: "x2") == 2)
        #expect(try log.position(source: "urn:test", id: "nope") == nil)
    }

    @Test func anEventWhoseIdKeyCollidesWithAnotherEventIsStillAppended() throws {
        let log = try store.open()
        _ = try log.append([try touchpoint(id: "first")])
        // Plant an index entry for "second" pointing at "first", as a hash collision would look.
        try log.environment.withWriteTransaction { txn in
            try txn.withUnsafeEntries(in: log.databases.idRuns) { runs in
                let planted = IdentityEntry(
                    hash: log.identityHasher.hash(source: "urn:test", id: "second"), position: 1)
                try IdentityIndex(runs).add([planted], in: log.databases.idRuns, txn)
            }
        }
        let result = try log.append([try touchpoint(id: "second"), try touchpoint(id: "second")])
        #expect(result.outcomes == [.appended(position: 2, version: 2), .duplicate(position: 2)])
        #expect(try log.position(source: "urn:test", id: "second") == 2)
        #expect(try log.position(source: "urn:test", id: "first") == 1)
    }

    @Test func anExpectedVersionMismatchWritesNothingOfTheBatch() throws {
        let log = try store.open()
        _ = try log.append([try touchpoint(id: "1", customer: "a")])
        #expect(throws: StoreError.versionConflict(customer: "a", expected: 0, actual: 1)) {
            try log.append([
                AppendRequest(try touchpoint(id: "2", customer: "b")),
                AppendRequest(try touchpoint(id: "3", customer: "a"), expectedVersion: 0),
            ])
        }
        #expect(try log.statistics().events == 1)
        #expect(try log.version(ofCustomer: "b") == 0)
        let ok = try log.append([AppendRequest(try touchpoint(id: "3", customer: "a"), expectedVersion: 1)])
        #expect(ok.outcomes == [.appended(position: 2, version: 2)])
    }

    @Test func theMapGrowsFromATinyInitialSizeWithoutLosingABatch() throws {
        let log = try store.open(initialMapSize: 64 << 10)
        let summary = String(repeating: "long summary text ", count: 20)
        for batch in 0..<4 {
            let events = try (0..<500).map { i in
                try touchpoint(
                    id: "b\(batch)-\(i)", customer: "c\(i % 37)", data: "{\"summary\":\"\(summary)\"}")
            }
            #expect(try log.append(events).appended == 500)
        }
        let stats = try log.statistics()
        #expect(stats.events == 2000)
        #expect(stats.mapSize > 64 << 10)
        #expect(try log.stream(ofCustomer: "c5").count == 4 * (0..<500).filter { $0 % 37 == 5 }.count)
    }

    @Test func eachEventHashesItsRecordAndLinksToThePreviousHash() throws {
        // Records of format 1 (a store of format 2), which `EventRecord.encode` writes.
        let formatTwo = try TestStore(format: 2)
        let log = try formatTwo.open()
        _ = try log.append((0..<5).map { try touchpoint(id: "h\($0)", customer: "c\($0 % 2)") })
        _ = try log.append([try touchpoint(id: "h5")])
        var previous = ChainHash.genesis
        var count = 0
        try log.forEachEvent { stored in
            #expect(stored.predecessorHash == previous)
            var record: [UInt8] = []
            let recomputed = EventRecord.encode(
                stored.event, position: stored.position, version: stored.version,
                previousPosition: stored.previousPosition, recordedAt: stored.recordedAt,
                occurredAt: stored.occurredAt, predecessorHash: stored.predecessorHash, into: &record)
            #expect(recomputed == stored.hash)
            previous = stored.hash
            count += 1
            return true
        }
        #expect(count == 6)
        #expect(try log.head().hash == previous)
        #expect(try log.head().position == 6)
    }

    @Test func changingOneByteOfAnEventChangesItsHash() throws {
        let event = try touchpoint(id: "t", data: "{\"summary\":\"hello\"}").event
        var record: [UInt8] = []
        let original = EventRecord.encode(
            event, position: 1, version: 1, previousPosition: 0, recordedAt: .init(microsecondsSinceEpoch: 1),
            occurredAt: .init(microsecondsSinceEpoch: 2), predecessorHash: .genesis, into: &record)
        var tampered = event
        tampered.data = .json(Array("{\"summary\":\"hellO\"}".utf8))
        let changed = EventRecord.encode(
            tampered, position: 1, version: 1, previousPosition: 0,
            recordedAt: .init(microsecondsSinceEpoch: 1),
            occurredAt: .init(microsecondsSinceEpoch: 2), predecessorHash: .genesis, into: &record)
        #expect(original != changed)
        let moved = EventRecord.encode(
            event, position: 2, version: 1, previousPosition: 0, recordedAt: .init(microsecondsSinceEpoch: 1),
            occurredAt: .init(microsecondsSinceEpoch: 2), predecessorHash: .genesis, into: &record)
        #expect(original != moved)
    }

    @Test func attributesAndDataComeBackEqualInMeaning() throws {
        let log = try store.open()
        let text = """
            {"specversion":"1.0","id":"rt-1","source":"https://crm.example.com/hooks?x=1","type":"ticket.opened",
             "subject":"cus-ü","time":"2024-05-01T12:00:00.25+02:00","datacontenttype":"application/json",
             "dataschema":"https://schemas.example.com/ticket","channel":"chat","ticketid":"tkt-9","vip":true,
             "tier":3,"note":"a \\"quoted\\" \\u00e9 note",
             "data": { "priority" : "high", "summary":"Login \\n fails", "nested":{"a":[1,2.50,-3e2,null]} }}
            """
        let event = try CloudEvent(json: Array(text.utf8))
        _ = try log.append([try Touchpoint(validating: event)])
        let stored = try #require(try log.event(at: 1))
        #expect(stored.event == event)
        var json: [UInt8] = []
        stored.writeJSON(into: &json)
        let reparsed = try CloudEvent(json: json)
        #expect(reparsed.id == event.id && reparsed.source == event.source && reparsed.type == event.type)
        #expect(reparsed.subject == event.subject && reparsed.time == event.time)
        #expect(reparsed.datacontenttype == event.datacontenttype && reparsed.dataschema == event.dataschema)
        #expect(reparsed.data == event.data)
        #expect(reparsed.extensions.prefix(event.extensions.count) == event.extensions[...])
        let added = Dictionary(uniqueKeysWithValues: reparsed.extensions.map { ($0.name, $0.value) })
        #expect(added["sequence"] == .string("00000000000000000001"))
        #expect(added["sequencetype"] == .string("Integer"))
        #expect(added["position"] == .number("1"))
        #expect(added["hash"] == .string(stored.hash.description))
        #expect(added["predecessorhash"] == .string(ChainHash.genesis.description))
        #expect(added["recordedtime"] == .string(stored.recordedAt.rfc3339))
        let data = try JSONValue.parse(
            try #require({ if case .json(let b) = reparsed.data { b } else { nil } }()))
        #expect(data["nested"]?["a"] == .array([.number("1"), .number("2.50"), .number("-3e2"), .null]))
        #expect(data["summary"] == .string("Login \n fails"))
    }

    @Test func recordedTimeNeverGoesBackwardsAndCutsSelectPrefixes() throws {
        let log = try store.open()
        _ = try log.append([
            try touchpoint(id: "1", time: "2024-01-03T00:00:00Z"),
            try touchpoint(id: "2", time: "2024-01-01T00:00:00Z"),
        ])
        let firstBatchRecorded = try #require(try log.event(at: 2)).recordedAt
        usleep(2000)
        _ = try log.append([try touchpoint(id: "3", time: "2024-01-02T00:00:00Z")])
        let all = try log.stream(ofCustomer: "cus-1")
        #expect(all.map(\.event.id) == ["1", "2", "3"])
        #expect(all[2].recordedAt > all[1].recordedAt)
        #expect(all[0].recordedAt == all[1].recordedAt)

        let until = try log.stream(
            ofCustomer: "cus-1", occurredUntil: Timestamp(rfc3339: "2024-01-02T00:00:00Z"))
        #expect(until.map(\.event.id) == ["2", "3"])
        let known = try log.stream(ofCustomer: "cus-1", recordedUntil: firstBatchRecorded)
        #expect(known.map(\.event.id) == ["1", "2"])
        let both = try log.stream(
            ofCustomer: "cus-1", occurredUntil: Timestamp(rfc3339: "2024-01-02T00:00:00Z"),
            recordedUntil: firstBatchRecorded)
        #expect(both.map(\.event.id) == ["2"])
    }

    @Test func aStorePathThatIsASymlinkOrAFileIsRefused() throws {
        let file = store.directory + "/plain"
        #expect(FileManager.default.createFile(atPath: file, contents: Data()))
        #expect(throws: StoreError.invalidStorePath(path: file, reason: "it is not a directory")) {
            _ = try TestStore.openLog(at: file)
        }
        _ = try store.open()
        let link = store.directory + "/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: store.path)
        #expect(throws: StoreError.self) { _ = try TestStore.openLog(at: link) }
    }

    @Test func storeFilesAreOwnerOnly() throws {
        _ = try store.open()
        let directoryMode =
            try FileManager.default.attributesOfItem(atPath: store.path)[.posixPermissions] as? NSNumber
        #expect(directoryMode?.intValue == 0o700)
        let dataMode =
            try FileManager.default.attributesOfItem(atPath: store.path + "/data.mdb")[.posixPermissions]
            as? NSNumber
        #expect(dataMode?.intValue == 0o600)
    }
}

@Suite struct StoreErrorCauseTests {
    let store: TestStore
    init() throws { store = try TestStore() }

    @Test func aStoreDirectoryThatCannotBeCreatedNamesTheSystemError() throws {
        let file = store.directory + "/plain"
        #expect(FileManager.default.createFile(atPath: file, contents: Data()))
        let error = try #require(throws: StoreError.self) { _ = try Store(path: file + "/store") }
        #expect(error.systemError == .notDirectory)
        #expect(error.description.contains(Errno.notDirectory.description), "\(error)")
        #expect(error.description.contains(file + "/store"), "\(error)")
    }

    @Test func aStoreFileThatIsNotARegularFileIsRefusedBeforeLMDBOpensIt() throws {
        // A directory where LMDB's data file should be: refused by name, nothing opened.
        try FileManager.default.createDirectory(
            atPath: store.path + "/data.mdb", withIntermediateDirectories: true)
        #expect(
            throws: StoreError.invalidStorePath(path: store.path, reason: "'data.mdb' is not a regular file")
        ) {
            _ = try store.open()
        }
    }

    @Test func storageErrorsCompareByTheirCause() {
        let full = StoreError.storage(operation: "appending", cause: LMDBError.mapFull)
        #expect(full == .storage(operation: "appending", cause: LMDBError.mapFull))
        #expect(full != .storage(operation: "appending", cause: LMDBError.keyExists))
        #expect(full != .storage(operation: "appending", cause: Errno.noSpace))
        #expect(
            StoreError.storage(operation: "x", cause: Errno.noSpace)
                == .storage(operation: "x", cause: Errno.noSpace))
        #expect(
            StoreError.storage(operation: "x", cause: Errno.noSpace).description.contains("file system full"))
    }
}
