import Foundation
import LMDB
import Testing
import TouchlogTestSupport

private struct TestFailure: Error {}

@Suite struct EnvironmentTests {
    let directory: TemporaryDirectory
    init() throws { directory = try TemporaryDirectory(prefix: "lmdb-tests") }

    private func open(mapSize: Int = 1 << 20) throws -> Environment {
        var options = Environment.Options()
        options.mapSize = mapSize
        return try Environment(path: directory.path, options: options)
    }

    @Test func committedWritesAreVisibleAfterReopening() throws {
        do {
            let env = try open()
            try env.withWriteTransaction { txn in
                let db = try txn.createDatabase(named: "things")
                try txn.put(Array("one".utf8), forKey: "a", in: db)
                try txn.put(Array("two".utf8), forKey: "b", in: db)
            }
        }
        let env = try open()
        let values = try env.withReadTransaction { txn -> [String?] in
            let db = try #require(try txn.openDatabase(named: "things"))
            return try ["a", "b", "c"].map { key in
                try txn.value(forKey: key, in: db).map { String(decoding: $0, as: UTF8.self) }
            }
        }
        #expect(values == ["one", "two", nil])
    }

    @Test func aThrowAbortsTheTransaction() throws {
        let env = try open()
        let db = try env.withWriteTransaction { try $0.createDatabase(named: "things") }
        #expect(throws: TestFailure.self) {
            try env.withWriteTransaction { txn in
                try txn.put([1], forKey: "kept?", in: db)
                throw TestFailure()
            }
        }
        let value = try env.withReadTransaction { try $0.value(forKey: "kept?", in: db) }
        #expect(value == nil)
    }

    @Test func appendOutOfOrderIsKeyExists() throws {
        let env = try open()
        let db = try env.withWriteTransaction { try $0.createDatabase(named: "log") }
        try env.withWriteTransaction { txn in
            try txn.put([1], forKey: BigEndianKey(1), in: db, options: .append)
            try txn.put([2], forKey: BigEndianKey(2), in: db, options: .append)
        }
        #expect(throws: LMDBError.keyExists) {
            try env.withWriteTransaction { txn in
                try txn.put([9], forKey: BigEndianKey(2), in: db, options: .append)
            }
        }
        #expect(throws: LMDBError.keyExists) {
            try env.withWriteTransaction { txn in
                try txn.put([9], forKey: BigEndianKey(1), in: db, options: .noOverwrite)
            }
        }
    }

    @Test func aTinyMapFillsUpAndGrowsOnDemand() throws {
        let env = try open(mapSize: 64 << 10)
        let db = try env.withWriteTransaction { try $0.createDatabase(named: "log") }
        let value = [UInt8](repeating: 7, count: 1000)
        #expect(throws: LMDBError.mapFull) {
            try env.withWriteTransaction { txn in
                for i in 1...1000 {
                    try txn.put(value, forKey: BigEndianKey(UInt64(i)), in: db, options: .append)
                }
            }
        }
        #expect(try env.withReadTransaction { try $0.statistics(of: db).entries } == 0)

        let before = env.mapSize
        var attempts = 0
        try env.withWriteTransaction(growingMap: true) { txn in
            attempts += 1
            for i in 1...1000 {
                try txn.put(value, forKey: BigEndianKey(UInt64(i)), in: db, options: .append)
            }
        }
        #expect(attempts > 1)
        #expect(env.mapSize > before)
        #expect(try env.withReadTransaction { try $0.statistics(of: db).entries } == 1000)
    }

    @Test func cursorsWalkInKeyOrder() throws {
        let env = try open()
        let db = try env.withWriteTransaction { txn in
            let db = try txn.createDatabase(named: "log")
            for i: UInt64 in [5, 1, 3, 300, 2] {
                try txn.put([UInt8(i & 0xff)], forKey: BigEndianKey(i), in: db)
            }
            return db
        }
        let seen = try env.withReadTransaction { txn in
            try txn.withCursor(on: db) { cursor -> [UInt64] in
                var keys: [UInt64] = []
                try cursor.unsafeForEach(from: BigEndianKey(2)) { key, _ in
                    keys.append(BigEndianKey(bytes: key)!.value)
                    return keys.count < 3
                }
                return keys
            }
        }
        #expect(seen == [2, 3, 5])
        let last = try env.withReadTransaction { txn in
            try txn.withCursor(on: db) { cursor in try cursor.last() ? cursor.current()?.key : nil }
        }
        #expect(last.flatMap { BigEndianKey(bytes: $0)?.value } == 300)
    }

    @Test func keysOverTheMaximumSizeAreRejected() throws {
        let env = try open()
        let db = try env.withWriteTransaction { try $0.createDatabase(named: "k") }
        #expect(env.maximumKeySize == 511)
        #expect(throws: LMDBError.badValueSize) {
            try env.withWriteTransaction { txn in
                try txn.put([1], forKey: [UInt8](repeating: 1, count: 512), in: db)
            }
        }
    }

    @Test func filesAreCreatedOwnerOnly() throws {
        _ = try open()
        for file in ["data.mdb", "lock.mdb"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: directory.path + "/" + file)
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o600, "\(file)")
        }
    }

    @Test func openingAMissingDirectoryFailsWithTheSystemError() throws {
        #expect(throws: LMDBError(rawValue: ENOENT)) {
            _ = try Environment(path: directory.path + "/missing")
        }
    }

    @Test func errorsCarryLMDBsMessage() {
        #expect(LMDBError.mapFull.description.contains("MDB_MAP_FULL"))
        #expect(LMDBError.keyExists.description.contains("MDB_KEYEXIST"))
    }
}
