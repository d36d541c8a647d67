import Foundation
import LMDB
import SystemPackage
import Testing
import TouchlogTestSupport

/// What a transaction reads of the `things` database, through every read operation.
private struct Reading: Equatable {
    var lent: String?
    var copied: [UInt8]?
    var absent: [UInt8]?
    var walked: [String]
    var entries: [String]
    var count: Int
    var found: Bool
    var missing: Bool
}

/// Reads through `ReadableTransaction` only, as the upper modules do.
private func readEverything(
    _ txn: borrowing some ReadableTransaction & ~Copyable, in db: Database
) throws -> Reading {
    let lent = try txn.withUnsafeValue(forKey: "b", in: db) { String(decoding: $0, as: UTF8.self) }
    var walked: [String] = []
    try txn.withCursor(on: db) { cursor in
        try cursor.unsafeForEach(from: "b") { key, value in
            walked.append(String(decoding: key, as: UTF8.self) + "=" + String(decoding: value, as: UTF8.self))
            return true
        }
    }
    let entries = try txn.withUnsafeEntries(in: db) { entries in
        entries.map { String(decoding: $0.key, as: UTF8.self) }
    }
    return Reading(
        lent: lent, copied: try txn.value(forKey: "a", in: db), absent: try txn.value(forKey: "z", in: db),
        walked: walked, entries: entries, count: try txn.statistics(of: db).entries,
        found: try txn.openDatabase(named: "things") != nil,
        missing: try txn.openDatabase(named: "nothing", options: []) == nil)
}

@Suite struct TransactionTests {
    let directory: TemporaryDirectory
    init() throws { directory = try TemporaryDirectory(prefix: "lmdb-tests") }

    private let expected = Reading(
        lent: "two", copied: Array("one".utf8), absent: nil, walked: ["b=two", "c=three"],
        entries: ["a", "b", "c"], count: 3, found: true, missing: true)

    @Test func readAndWriteTransactionsServeTheSameReads() throws {
        let env = try Environment(path: directory.path)
        // The write transaction reads its own writes before they are committed.
        let (db, inWrite) = try env.withWriteTransaction { txn in
            let db = try txn.createDatabase(named: "things")
            for (key, value) in [("a", "one"), ("b", "two"), ("c", "three")] {
                try txn.put(Array(value.utf8), forKey: key, in: db)
            }
            return (db, try readEverything(txn, in: db))
        }
        let inRead = try env.withReadTransaction { try readEverything($0, in: db) }
        #expect(inWrite == expected)
        #expect(inRead == expected)
    }

    @Test func aMissingDirectoryIsASystemErrorThatLMDBPassesThrough() throws {
        let error = try #require(throws: LMDBError.self) {
            _ = try Environment(path: directory.path + "/missing")
        }
        #expect(error.systemError == .noSuchFileOrDirectory)
        #expect(error.description == Errno.noSuchFileOrDirectory.description)
        #expect("\(error)".contains("No such file or directory"))
    }

    @Test func lmdbsOwnCodesAreNoSystemErrors() {
        #expect(LMDBError.mapFull.systemError == nil)
        #expect(LMDBError.keyExists.systemError == nil)
        #expect(LMDBError.noSpace.systemError == .noSpace)
        #expect(LMDBError.inputOutput.systemError == .ioError)
        #expect(LMDBError(systemError: .permissionDenied).rawValue == Errno.permissionDenied.rawValue)
    }

    @Test func aCopyHoldsTheCommittedData() throws {
        let env = try Environment(path: directory.path)
        try env.withWriteTransaction { txn in
            try txn.put(Array("one".utf8), forKey: "a", in: try txn.createDatabase(named: "things"))
        }
        let backup = try TemporaryDirectory(prefix: "lmdb-copy")
        try env.copy(to: backup.path)
        let copy = try Environment(path: backup.path)
        // A database handle belongs to its environment: open it again in the copy.
        let value = try copy.withReadTransaction { txn in
            try txn.value(forKey: "a", in: try #require(try txn.openDatabase(named: "things")))
        }
        #expect(value == Array("one".utf8))
    }

    @Test func aCopyIntoAMissingDirectoryNamesTheSystemError() throws {
        let env = try Environment(path: directory.path)
        let error = try #require(throws: LMDBError.self) {
            try env.copy(to: directory.path + "/missing")
        }
        #expect(error.systemError == .noSuchFileOrDirectory)
    }
}
