import CLMDB

/// A named database (`MDB_dbi`) opened once at start; valid for the life of the environment.
public struct Database: Sendable, Hashable {
    let dbi: MDB_dbi
}

/// How a named database is created and kept.
public struct DatabaseOptions: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `MDB_CREATE`: create the database if it does not exist.
    public static let create = DatabaseOptions(rawValue: UInt32(MDB_CREATE))
    /// `MDB_DUPSORT`: several sorted values per key.
    public static let duplicateSort = DatabaseOptions(rawValue: UInt32(MDB_DUPSORT))
    /// `MDB_DUPFIXED`: with `duplicateSort`, all values of a key have the same size.
    public static let duplicateFixed = DatabaseOptions(rawValue: UInt32(MDB_DUPFIXED))
}

/// How `put` stores a value.
public struct PutOptions: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `MDB_NOOVERWRITE`: fail with `LMDBError.keyExists` when the key is present.
    public static let noOverwrite = PutOptions(rawValue: UInt32(MDB_NOOVERWRITE))
    /// `MDB_APPEND`: the key sorts after every key in the database (fast bulk load); a key out of
    /// order fails with `LMDBError.keyExists`.
    public static let append = PutOptions(rawValue: UInt32(MDB_APPEND))
    /// `MDB_APPENDDUP`: like `append`, for the values of a duplicate-sorted key.
    public static let appendDuplicate = PutOptions(rawValue: UInt32(MDB_APPENDDUP))
    /// `MDB_NODUPDATA`: in a duplicate-sorted database, fail when the key/value pair exists.
    public static let noDuplicateData = PutOptions(rawValue: UInt32(MDB_NODUPDATA))
}

/// Entry counts of a database (`mdb_stat`).
public struct DatabaseStatistics: Sendable, Equatable {
    public var entries: Int
    public var depth: Int
    public var branchPages: Int
    public var leafPages: Int
    public var overflowPages: Int
    /// Bytes of the pages the database uses.
    public var bytes: Int
}

/// The operations every transaction offers: reading values and walking cursors.
///
/// Bytes that LMDB hands out live only while the transaction is open: they are lent to closures
/// (methods named `unsafe…`), and the convenience getters return copies.
///
/// Only `ReadTransaction` and `WriteTransaction` have an LMDB transaction behind them, and both exist
/// only borrowed, inside `Environment.withReadTransaction` and `withWriteTransaction`. The protocol
/// hands out no handle, so nothing outside this module can keep a transaction past its scope. Write
/// code that serves both as `borrowing some ReadableTransaction & ~Copyable`: called with a concrete
/// transaction, a specialised caller calls these methods directly, without a witness table.
public protocol ReadableTransaction: ~Copyable {
    /// Lends the value stored under `key` to `body`, or returns nil when the key is absent (`mdb_get`).
    /// - Throws: `LMDBError` other than not-found, or what `body` throws.
    func withUnsafeValue<R>(
        forKey key: some BytesRepresentable, in database: Database,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R?

    /// A copy of the value stored under `key`, or nil when absent (`mdb_get`).
    /// - Throws: `LMDBError` other than not-found.
    func value(forKey key: some BytesRepresentable, in database: Database) throws -> [UInt8]?

    /// Opens a cursor on `database` for the duration of `body` (`mdb_cursor_open`, `mdb_cursor_close`).
    /// - Throws: `LMDBError`, or what `body` throws.
    func withCursor<R>(on database: Database, _ body: (borrowing Cursor) throws -> R) throws -> R

    /// Lends every entry of `database` to `body` at once, in key order: for small databases of large
    /// values that must be read side by side (a merge of sorted runs).
    ///
    /// The bytes stay valid until `body` returns, also when `body` writes, provided that `database`
    /// was not written earlier in this transaction: without `MDB_WRITEMAP` LMDB never changes a
    /// committed page in place and does not reuse the pages a transaction frees before it commits.
    /// - Throws: `LMDBError`, or what `body` throws.
    func withUnsafeEntries<R>(
        in database: Database,
        _ body: ([(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)]) throws -> R
    ) throws -> R

    /// Entry and page counts of `database` (`mdb_stat`).
    func statistics(of database: Database) throws(LMDBError) -> DatabaseStatistics

    /// Opens an existing named database (`mdb_dbi_open` without `MDB_CREATE`); nil when it does not exist.
    func openDatabase(named name: String, options: DatabaseOptions) throws(LMDBError) -> Database?
}

extension ReadableTransaction where Self: ~Copyable {
    /// Opens an existing named database with default options; nil when it does not exist.
    public func openDatabase(named name: String) throws(LMDBError) -> Database? {
        try openDatabase(named: name, options: [])
    }
}

/// The `MDB_txn` pointer of an open transaction and the read operations on it.
///
/// Internal on purpose: it is copyable, so only the `~Copyable` transaction types, which are lent
/// `borrowing` and never outlive their scope, may hold it.
struct TransactionPointer {
    let pointer: OpaquePointer

    @inline(__always)
    func withUnsafeValue<R>(
        forKey key: some BytesRepresentable, in database: Database,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        var found = MDB_val()
        let rc = key.withKeyBytes { keyBytes in
            var k = MDB_val(bytes: keyBytes)
            return mdb_get(pointer, database.dbi, &k, &found)
        }
        if rc == MDB_NOTFOUND { return nil }
        try check(rc)
        return try body(found.buffer)
    }

    @inline(__always)
    func withCursor<R>(on database: Database, _ body: (borrowing Cursor) throws -> R) throws -> R {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(pointer, database.dbi, &cursor))
        guard let cursor else { throw LMDBError.badTransaction }
        defer { mdb_cursor_close(cursor) }
        return try body(Cursor(pointer: cursor))
    }

    func withUnsafeEntries<R>(
        in database: Database,
        _ body: ([(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)]) throws -> R
    ) throws -> R {
        var entries: [(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)] = []
        try withCursor(on: database) { cursor in
            try cursor.unsafeForEach(from: nil as BigEndianKey?) { key, value in
                entries.append((key, value))
                return true
            }
        }
        return try body(entries)
    }

    func statistics(of database: Database) throws(LMDBError) -> DatabaseStatistics {
        var stat = MDB_stat()
        try check(mdb_stat(pointer, database.dbi, &stat))
        let pages = Int(stat.ms_branch_pages + stat.ms_leaf_pages + stat.ms_overflow_pages)
        return DatabaseStatistics(
            entries: Int(stat.ms_entries), depth: Int(stat.ms_depth),
            branchPages: Int(stat.ms_branch_pages), leafPages: Int(stat.ms_leaf_pages),
            overflowPages: Int(stat.ms_overflow_pages), bytes: pages * Int(stat.ms_psize))
    }

    func openDatabase(named name: String, options: DatabaseOptions) throws(LMDBError) -> Database? {
        var dbi: MDB_dbi = 0
        let rc = mdb_dbi_open(pointer, name, options.subtracting(.create).rawValue, &dbi)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc)
        return Database(dbi: dbi)
    }
}

/// A read-only snapshot. Exists only inside `Environment.withReadTransaction`.
public struct ReadTransaction: ~Copyable, ReadableTransaction {
    let transaction: TransactionPointer

    /// Lends the value stored under `key` to `body`, or returns nil when the key is absent (`mdb_get`).
    public func withUnsafeValue<R>(
        forKey key: some BytesRepresentable, in database: Database,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        try transaction.withUnsafeValue(forKey: key, in: database, body)
    }

    /// A copy of the value stored under `key`, or nil when absent (`mdb_get`).
    public func value(forKey key: some BytesRepresentable, in database: Database) throws -> [UInt8]? {
        try transaction.withUnsafeValue(forKey: key, in: database) { Array($0) }
    }

    /// Opens a cursor on `database` for the duration of `body` (`mdb_cursor_open`, `mdb_cursor_close`).
    public func withCursor<R>(on database: Database, _ body: (borrowing Cursor) throws -> R) throws -> R {
        try transaction.withCursor(on: database, body)
    }

    /// Lends every entry of `database` to `body` at once, in key order (a cursor walk).
    public func withUnsafeEntries<R>(
        in database: Database,
        _ body: ([(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)]) throws -> R
    ) throws -> R {
        try transaction.withUnsafeEntries(in: database, body)
    }

    /// Entry and page counts of `database` (`mdb_stat`).
    public func statistics(of database: Database) throws(LMDBError) -> DatabaseStatistics {
        try transaction.statistics(of: database)
    }

    /// Opens an existing named database (`mdb_dbi_open` without `MDB_CREATE`); nil when it does not exist.
    public func openDatabase(named name: String, options: DatabaseOptions) throws(LMDBError) -> Database? {
        try transaction.openDatabase(named: name, options: options)
    }
}

/// A read-write transaction. Exists only inside `Environment.withWriteTransaction`; committed when the
/// closure returns, aborted when it throws.
public struct WriteTransaction: ~Copyable, ReadableTransaction {
    let transaction: TransactionPointer
    private var pointer: OpaquePointer { transaction.pointer }

    /// Lends the value stored under `key` to `body`, or returns nil when the key is absent (`mdb_get`).
    /// It sees this transaction's own writes.
    public func withUnsafeValue<R>(
        forKey key: some BytesRepresentable, in database: Database,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        try transaction.withUnsafeValue(forKey: key, in: database, body)
    }

    /// A copy of the value stored under `key`, or nil when absent (`mdb_get`).
    public func value(forKey key: some BytesRepresentable, in database: Database) throws -> [UInt8]? {
        try transaction.withUnsafeValue(forKey: key, in: database) { Array($0) }
    }

    /// Opens a cursor on `database` for the duration of `body` (`mdb_cursor_open`, `mdb_cursor_close`).
    public func withCursor<R>(on database: Database, _ body: (borrowing Cursor) throws -> R) throws -> R {
        try transaction.withCursor(on: database, body)
    }

    /// Lends every entry of `database` to `body` at once, in key order (a cursor walk); see
    /// `ReadableTransaction.withUnsafeEntries(in:_:)` for how long the bytes stay valid when `body` writes.
    public func withUnsafeEntries<R>(
        in database: Database,
        _ body: ([(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)]) throws -> R
    ) throws -> R {
        try transaction.withUnsafeEntries(in: database, body)
    }

    /// Entry and page counts of `database` (`mdb_stat`).
    public func statistics(of database: Database) throws(LMDBError) -> DatabaseStatistics {
        try transaction.statistics(of: database)
    }

    /// Opens an existing named database (`mdb_dbi_open` without `MDB_CREATE`); nil when it does not exist.
    public func openDatabase(named name: String, options: DatabaseOptions) throws(LMDBError) -> Database? {
        try transaction.openDatabase(named: name, options: options)
    }

    /// Opens (with `.create`, creates) a named database (`mdb_dbi_open`). Open every database once, at start.
    public func createDatabase(named name: String, options: DatabaseOptions = [.create]) throws(LMDBError)
        -> Database
    {
        var dbi: MDB_dbi = 0
        try check(mdb_dbi_open(pointer, name, options.union(.create).rawValue, &dbi))
        return Database(dbi: dbi)
    }

    /// Stores `value` under `key` (`mdb_put`).
    /// - Throws: `.keyExists` (with `noOverwrite`, or `append` out of order), `.mapFull`,
    ///   `.badValueSize` (empty key or key over 511 bytes), and any other `LMDBError`.
    public func put(
        _ value: some BytesRepresentable, forKey key: some BytesRepresentable, in database: Database,
        options: PutOptions = []
    ) throws(LMDBError) {
        let rc = key.withKeyBytes { keyBytes in
            value.withKeyBytes { valueBytes in
                var k = MDB_val(bytes: keyBytes)
                var v = MDB_val(bytes: valueBytes)
                return mdb_put(pointer, database.dbi, &k, &v, options.rawValue)
            }
        }
        try check(rc)
    }

    /// Reserves `count` bytes for the value of `key` and lets `body` fill them in place
    /// (`mdb_put` with `MDB_RESERVE`), saving a copy for large values.
    public func putReserving(
        count: Int, forKey key: some BytesRepresentable, in database: Database, options: PutOptions = [],
        _ body: (UnsafeMutableRawBufferPointer) throws -> Void
    ) throws {
        var reserved = MDB_val(mv_size: count, mv_data: nil)
        let rc = key.withKeyBytes { keyBytes in
            var k = MDB_val(bytes: keyBytes)
            return mdb_put(
                pointer, database.dbi, &k, &reserved, options.rawValue | UInt32(MDB_RESERVE))
        }
        try check(rc)
        try body(UnsafeMutableRawBufferPointer(start: reserved.mv_data, count: count))
    }

    /// Removes every entry of `database`, keeping the database (`mdb_drop` with del = 0).
    public func removeAll(in database: Database) throws(LMDBError) {
        try check(mdb_drop(pointer, database.dbi, 0))
    }

    /// Deletes the entry under `key` (`mdb_del`); returns false when absent. For derived data only:
    /// the event log itself is append-only.
    @discardableResult
    public func delete(forKey key: some BytesRepresentable, in database: Database) throws(LMDBError) -> Bool {
        let rc = key.withKeyBytes { keyBytes in
            var k = MDB_val(bytes: keyBytes)
            return mdb_del(pointer, database.dbi, &k, nil)
        }
        if rc == MDB_NOTFOUND { return false }
        try check(rc)
        return true
    }
}

extension MDB_val {
    init(bytes: UnsafeRawBufferPointer) {
        self.init(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
    }

    var buffer: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: mv_data, count: mv_size)
    }
}
