import CLMDB
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open LMDB environment: one directory holding `data.mdb` and `lock.mdb`.
///
/// Open it once per process and share it (LMDB: "Do not have open an LMDB database twice in the same
/// process at the same time"). Transactions are scoped to closures: `withReadTransaction` and
/// `withWriteTransaction`. Write transactions are serialised inside the process; a write that meets
/// `MDB_MAP_FULL` can grow the map and run again (see `withWriteTransaction(growingMap:_:)`).
public final class Environment: @unchecked Sendable {
    // @unchecked Sendable: the MDB_env handle is safe to share between threads when opened with
    // MDB_NOTLS; the only mutation of the environment (mdb_env_set_mapsize) runs under `gate`'s
    // exclusive side, which no open transaction of this process holds. The other stored properties
    // are constants or locks.

    /// How an environment is opened.
    public struct Options: Sendable {
        /// Initial map size in bytes; the map grows on demand when writes use `growingMap`.
        public var mapSize: Int = 64 << 20
        /// How many named databases may be opened.
        public var maxDatabases: Int = 16
        /// Reader slots (concurrent read transactions across all processes).
        public var maxReaders: Int = 126
        /// Permission bits of the files LMDB creates.
        public var fileMode: CModeT = 0o600
        /// `MDB_NOSYNC`: commits do not fsync. Faster, but a machine crash can lose the last commits
        /// and even corrupt the store. Off by default; the default is durable.
        public var noSync: Bool = false
        /// `MDB_RDONLY`: open for reading only.
        public var readOnly: Bool = false
        /// `MDB_NOLOCK`: use no lock file. Only for reading a store that no process writes (a copy on
        /// media or with files this user may only read): LMDB cannot then keep a writer from reusing
        /// pages a reader still reads.
        public var noLock: Bool = false

        public init() {}
    }

    let pointer: OpaquePointer
    /// Held shared by every transaction of this process and exclusive by a change of the map size,
    /// which LMDB allows only while no transaction of the process is open.
    private let gate: ReadWriteLock
    /// Held for the whole of a write (with its retries after a map resize): write transactions of
    /// this process run one at a time, and a retry never races another writer for the new map size.
    private let writerLock = Mutex(())
    /// Where the environment lives.
    public let path: String
    /// How many stale reader slots `mdb_reader_check` cleared when the environment was opened.
    public let staleReadersCleared: Int

    /// Opens (creating the files if needed) the environment in the existing directory `path`.
    ///
    /// Calls `mdb_env_create`, `mdb_env_set_maxdbs`, `mdb_env_set_maxreaders`, `mdb_env_set_mapsize`,
    /// `mdb_env_open` with `MDB_NOTLS`, then `mdb_reader_check` to clear slots left by killed processes.
    /// Opens `/dev/null` onto descriptors 0-2 first if any is closed (`ensureStandardDescriptorsOpen`).
    /// - Throws: `LMDBError`: `.invalid` for a file that is not LMDB, `.versionMismatch`, or a system
    ///   error that `mdb_env_open` passes through (`systemError` is `.noSuchFileOrDirectory` when the
    ///   directory does not exist, `.permissionDenied`, `.readOnlyFileSystem`, ...).
    public init(path: String, options: Options = Options()) throws(LMDBError) {
        // Never let data.mdb or lock.mdb become standard input, output or error.
        try ensureStandardDescriptorsOpen()
        var env: OpaquePointer?
        try check(mdb_env_create(&env))
        guard let env else { throw LMDBError.invalid }
        do {
            try check(mdb_env_set_maxdbs(env, MDB_dbi(options.maxDatabases)))
            try check(mdb_env_set_maxreaders(env, UInt32(options.maxReaders)))
            try check(mdb_env_set_mapsize(env, options.mapSize))
            var flags = UInt32(MDB_NOTLS)
            if options.noSync { flags |= UInt32(MDB_NOSYNC) }
            if options.readOnly { flags |= UInt32(MDB_RDONLY) }
            if options.noLock { flags |= UInt32(MDB_NOLOCK) }
            if !options.noLock {
                try Environment.reserveLockFile(
                    inDirectory: path, readers: options.maxReaders, mode: options.fileMode)
            }
            try check(mdb_env_open(env, path, flags, options.fileMode))
            var dead: Int32 = 0
            try check(mdb_reader_check(env, &dead))
            self.staleReadersCleared = Int(dead)
        } catch {
            // "If this function fails, mdb_env_close() must be called to discard the MDB_env handle."
            mdb_env_close(env)
            throw error
        }
        self.pointer = env
        self.path = path
        self.gate = ReadWriteLock()
    }

    deinit {
        mdb_env_close(pointer)
    }

    /// The current map size in bytes (`mdb_env_info`).
    public var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(pointer, &info)
        return info.me_mapsize
    }

    /// Facts about the environment: map size, last used page, last transaction id, readers.
    public func info() -> EnvironmentInfo {
        var info = MDB_envinfo()
        mdb_env_info(pointer, &info)
        var stat = MDB_stat()
        mdb_env_stat(pointer, &stat)
        return EnvironmentInfo(
            mapSize: info.me_mapsize, pageSize: Int(stat.ms_psize), lastPage: info.me_last_pgno,
            lastTransactionID: info.me_last_txnid, maxReaders: Int(info.me_maxreaders),
            readersInUse: Int(info.me_numreaders))
    }

    /// Grows the map to at least `newSize` bytes (`mdb_env_set_mapsize`).
    ///
    /// LMDB: "This function may only be called if no transactions are active in the current process."
    /// The exclusive side of `gate` guarantees that: it waits until every transaction of this
    /// process has ended.
    public func setMapSize(_ newSize: Int) throws(LMDBError) {
        gate.lockExclusive()
        defer { gate.unlock() }
        try check(mdb_env_set_mapsize(pointer, newSize))
    }

    /// Flushes the data to disk (`mdb_env_sync` with force), for environments opened with `noSync`.
    public func sync() throws(LMDBError) {
        try check(mdb_env_sync(pointer, 1))
    }

    /// Clears reader slots of processes that no longer exist (`mdb_reader_check`); returns how many.
    @discardableResult
    public func clearStaleReaders() throws(LMDBError) -> Int {
        var dead: Int32 = 0
        try check(mdb_reader_check(pointer, &dead))
        return Int(dead)
    }

    /// The largest key LMDB accepts in this environment (`mdb_env_get_maxkeysize`, 511 by default).
    public var maximumKeySize: Int { Int(mdb_env_get_maxkeysize(pointer)) }

    // MARK: Transactions

    /// Runs `body` in a read-only transaction, a consistent snapshot of the last commit.
    ///
    /// Keep it short: a long read transaction pins old pages and makes the file grow.
    /// - Throws: `LMDBError` from `mdb_txn_begin`, or whatever `body` throws.
    public func withReadTransaction<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        gate.lockShared()
        defer { gate.unlock() }
        let txn = try beginAdoptingResizes(flags: UInt32(MDB_RDONLY))
        // A read transaction changes nothing: aborting it is how it ends (mdb_txn_abort).
        defer { mdb_txn_abort(txn) }
        return try body(ReadTransaction(transaction: TransactionPointer(pointer: txn)))
    }

    /// Runs `body` in a read-only transaction that is committed when `body` returns: for opening the
    /// named databases of an environment opened read-only, whose handles must outlive the transaction.
    ///
    /// `mdb_dbi_open`: "The handle will be private to the current transaction until the transaction is
    /// successfully committed. If the transaction is aborted the handle will be closed automatically."
    /// - Throws: `LMDBError` from `mdb_txn_begin` or `mdb_txn_commit`, or whatever `body` throws.
    public func withDatabaseOpeningTransaction<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R
    {
        try committing(flags: UInt32(MDB_RDONLY)) { txn in try body(ReadTransaction(transaction: txn)) }
    }

    /// Runs `body` in a write transaction and commits it when `body` returns; a throw aborts it.
    ///
    /// Write transactions of this process run one at a time. With `growingMap`, a transaction that
    /// fails with `MDB_MAP_FULL` (in `body` or in the commit) is aborted, the map is doubled, and
    /// `body` runs again from the start in a new transaction: `body` must only change state outside the
    /// transaction after this function returns.
    /// - Throws: `LMDBError` (`.mapFull` without `growingMap`), or whatever `body` throws.
    public func withWriteTransaction<R>(
        growingMap: Bool = false, _ body: (borrowing WriteTransaction) throws -> R
    ) throws -> R {
        // `Mutex.withLock` returns its result as `sending`, which a caller's non-Sendable `R` is not: the
        // result leaves through `result` instead, set whenever the closure returns without throwing.
        var result: R?
        try writerLock.withLock { _ in
            while true {
                do {
                    result = try writeOnce(body)
                    return
                } catch LMDBError.mapFull where growingMap {
                    let current = mapSize
                    try setMapSize(current * 2)
                }
            }
        }
        return result!
    }

    private func writeOnce<R>(_ body: (borrowing WriteTransaction) throws -> R) throws -> R {
        try committing(flags: 0) { txn in try body(WriteTransaction(transaction: txn)) }
    }

    /// Begins a transaction with `flags`, runs `body`, and commits when it returns; a throw aborts it.
    private func committing<R>(flags: UInt32, _ body: (TransactionPointer) throws -> R) throws -> R {
        gate.lockShared()
        defer { gate.unlock() }
        let txn = try beginAdoptingResizes(flags: flags)
        let result: R
        do {
            result = try body(TransactionPointer(pointer: txn))
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        // "The transaction handle is freed. It and its cursors must not be used again after this call,
        // except with mdb_cursor_renew()": even when the commit fails, so it is never aborted after.
        try check(mdb_txn_commit(txn))
        return result
    }

    /// Begins a transaction; when another process has grown the map (`MDB_MAP_RESIZED`), adopts the
    /// new size with `mdb_env_set_mapsize(env, 0)` and tries again.
    ///
    /// Called with `gate` held shared; adopting the size needs it exclusive, so it is released and
    /// taken again around the resize.
    private func beginAdoptingResizes(flags: UInt32) throws(LMDBError) -> OpaquePointer {
        while true {
            var txn: OpaquePointer?
            let rc = mdb_txn_begin(pointer, nil, flags, &txn)
            if rc == MDB_MAP_RESIZED {
                gate.unlock()
                gate.lockExclusive()
                let adopt = mdb_env_set_mapsize(pointer, 0)
                gate.unlock()
                gate.lockShared()
                try check(adopt)
                continue
            }
            try check(rc)
            guard let txn else { throw LMDBError.badTransaction }
            return txn
        }
    }

    // MARK: Backup

    /// Copies the environment to the existing directory `path` (`mdb_env_copy2`, compacting with
    /// `compact`), then fsyncs the copy and its directory, which LMDB 0.9.24 does not do.
    /// - Throws: `LMDBError` from `mdb_env_copy2`; `Errno` when the copy cannot be opened or synced.
    public func copy(to path: String, compact: Bool = true) throws {
        try check(mdb_env_copy2(pointer, path, compact ? UInt32(MDB_CP_COMPACT) : 0))
        let directory = FilePath(path)
        for file in [directory.appending("data.mdb"), directory] {
            let descriptor = try FileDescriptor.open(file, .readOnly, options: .closeOnExec)
            try descriptor.closeAfter { try descriptor.synchronize() }
        }
    }
}

/// A snapshot of `mdb_env_info` and `mdb_env_stat`.
public struct EnvironmentInfo: Sendable, Equatable {
    public var mapSize: Int
    public var pageSize: Int
    public var lastPage: Int
    public var lastTransactionID: Int
    public var maxReaders: Int
    public var readersInUse: Int
    /// Bytes of the map in use: `(lastPage + 1) * pageSize`.
    public var usedBytes: Int { (lastPage + 1) * pageSize }
}

// MARK: Locks

/// A pthread read-write lock on the heap (`pthread_rwlock_rdlock`, `pthread_rwlock_wrlock`).
///
/// A readers-writer lock rather than a `Mutex`: transactions take it shared, so readers and the one
/// writer run side by side, and a change of the map size takes it exclusive, which waits until every
/// transaction of the process has ended. A `Mutex` would serialise the readers; `Synchronization` has
/// no condition variable to build this from one without spinning.
final class ReadWriteLock: @unchecked Sendable {
    // @unchecked Sendable: pthread_rwlock_t is made for sharing between threads; it lives at a fixed
    // heap address (it must not move) for the lifetime of this object, and nothing else is stored.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func lockShared() { pthread_rwlock_rdlock(lock) }
    func lockExclusive() { pthread_rwlock_wrlock(lock) }
    func unlock() { pthread_rwlock_unlock(lock) }
}
