import LMDB
import SystemPackage
import TouchlogDomain

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A Touchlog store: one directory holding one LMDB environment, and every named database of its
/// layout (docs/STORAGE.md), opened once when the store opens, in one transaction.
///
/// The store is the only owner of the environment. The log (`log`), the projections and the seals reach
/// their databases through `databases` and open scoped transactions through `withReadTransaction` and
/// `withWriteTransaction`; nothing hands out the environment itself. Open a store once per process and
/// share it (LMDB: "Do not have open an LMDB database twice in the same process at the same time").
public final class Store: Sendable {
    /// The store format this code writes for new stores (3: personal content sealed per customer).
    public static let formatVersion = 3
    /// The formats this code reads and appends to: 2 (the plaintext records of format 1) and 3.
    public static let supportedFormats = [2, 3]

    /// What a process may do with a store.
    public enum Access: Sendable, Equatable {
        /// Append, catch projections up, seal. Creates the store when `Options.create` allows.
        case readWrite
        /// Read only (`MDB_RDONLY`): never creates, never writes, works on a copy the process may only read.
        case readOnly
    }

    /// How a store is opened.
    public struct Options: Sendable {
        /// Initial LMDB map size; it doubles whenever a write needs more.
        public var initialMapSize: Int = 1 << 30
        /// Commit without fsync (`MDB_NOSYNC`): much faster, but a machine crash (not a process crash)
        /// can lose the last acknowledged batches. Off by default.
        public var noSync: Bool = false
        /// Create the store if it does not exist (only with `.readWrite`).
        public var create: Bool = true
        /// Read-write or read-only.
        public var access: Access = .readWrite
        /// The format of a store made by this open (2 only to make stores to migrate, in tests).
        public var format: Int = Store.formatVersion
        public init() {}
    }

    /// The named databases of a store, opened once at open.
    public struct Databases: Sendable {
        /// `meta`: the store format.
        let meta: Database
        /// `events`: position -> record.
        let events: Database
        /// `streams`: customer -> stream head.
        let streams: Database
        /// `idruns`: the idempotency index's sorted runs.
        let idRuns: Database
        /// `seals`: sequence number -> signed seal (TouchlogAudit). Nil in a read-only store that has none.
        public let seals: Database?
        /// `merkle`: the Merkle tree's nodes (`MerkleTree`). Nil in a read-only store made before the tree.
        let merkle: Database?
        /// `checkpoints`: sequence number -> signed checkpoint (TouchlogAudit). Nil in a read-only store
        /// that has none.
        public let checkpoints: Database?
        /// `access`: sequence number -> one read of a customer's history through the service
        /// (`ReadAccessLog`). Nil in a read-only store that has none.
        public let readAccess: Database?
        /// The projections' databases (TouchlogProjections). Nil in a read-only store that has none.
        public let projections: ProjectionDatabases?
        /// Format 3: the customers' pseudonyms and keys and the sealed content; nil in format 2.
        let sealing: Sealing?
    }

    /// What a store of format 3 has besides the databases of format 2 (docs/STORAGE.md, "format 3").
    struct Sealing: Sendable {
        /// `customerids`: HMAC-SHA256(secret, customer id) -> pseudonym.
        let customerIDs: Database
        /// `customerkeys`: pseudonym -> state (1 live, 2 erased) ‖ AES-256 key while live.
        let customerKeys: Database
        /// `content`: position -> sealed personal content.
        let content: Database
        /// The key of the customer-id hash (`meta` `idsecret`, 32 random bytes).
        let secret: [UInt8]
    }

    /// The databases of the projections: their meta data, and two slots for two generations.
    public struct ProjectionDatabases: Sendable {
        /// `projection.meta`: the active slot, each slot's generation and rules.
        public let meta: Database
        /// The slots, in the order of `Store.projectionSlotNames`.
        public let slots: [ProjectionSlotDatabases]
    }

    /// The databases of one projection slot.
    public struct ProjectionSlotDatabases: Sendable {
        /// `projection.SLOT.tickets`: ticket id -> ticket state.
        public let tickets: Database
        /// `projection.SLOT.customers`: customer id -> loyalty state.
        public let customers: Database
        /// `projection.SLOT.timeline`: rep timeline entries.
        public let timeline: Database
        /// `projection.SLOT.customer_tickets`: (customer, ticket) -> nothing: the tickets each customer owns.
        public let customerTickets: Database
        /// Every database of the slot.
        public var all: [Database] { [tickets, customers, timeline, customerTickets] }

        public init(tickets: Database, customers: Database, timeline: Database, customerTickets: Database) {
            self.tickets = tickets
            self.customers = customers
            self.timeline = timeline
            self.customerTickets = customerTickets
        }
    }

    /// The names of the projection slots (`projection.a.*`, `projection.b.*`).
    public static let projectionSlotNames = ["a", "b"]

    /// The store directory.
    public let path: String
    /// Read-write or read-only.
    public let access: Access
    /// Every named database of the store.
    public let databases: Databases
    /// The store's format: 2 or 3.
    public var format: Int { databases.sealing == nil ? 2 : 3 }
    /// The append-only event log.
    public let log: EventLog
    /// How many reader slots of killed processes were cleared when the store was opened.
    public var staleReadersCleared: Int { environment.staleReadersCleared }

    let environment: Environment

    /// Opens the store in `path`, creating the directory (mode 0700) and the databases when `options`
    /// allow it.
    ///
    /// The directory must be a directory, not a symbolic link (also when the path ends in `/` or `/.`),
    /// and the store's files must be regular files, not links: nothing is followed out of the store.
    /// For writing, the directory and its files must belong to this user and the directory must not be
    /// writable by others, so that no other user can plant a file in it.
    /// - Throws: `StoreError.invalidStorePath` for a path that cannot be a store, `StoreError.notAStore`
    ///   when there is no store and it may not be created, `StoreError.unsupportedFormat` for another
    ///   format, `StoreError.storage` when LMDB or the system fails.
    public init(path: String, options: Options = Options()) throws {
        let path = Store.normalized(path)
        let create = options.create && options.access == .readWrite
        try Store.checkDirectory(path, access: options.access, create: create)
        var environmentOptions = Environment.Options()
        environmentOptions.mapSize = options.initialMapSize
        environmentOptions.noSync = options.noSync
        environmentOptions.readOnly = options.access == .readOnly
        environmentOptions.fileMode = 0o600
        environmentOptions.maxDatabases = 64
        if options.access == .readOnly && !Store.canOpenLockFile(path) {
            // A copy this user may only read (files of another user, mode 0400): LMDB needs to write its
            // lock file even to read, so read without it. Read-only media need no help: LMDB itself
            // goes lockless on EROFS.
            environmentOptions.noLock = true
        }
        let environment = try storage("opening the store at '\(path)'") {
            do {
                return try Environment(path: path, options: environmentOptions)
            } catch LMDBError.noSpace where options.access == .readOnly && !environmentOptions.noLock {
                // No room for the lock file's reader table on a full disk: a reading command still reads.
                environmentOptions.noLock = true
                return try Environment(path: path, options: environmentOptions)
            }
        }
        let (databases, identityHasher) =
            switch options.access {
            case .readWrite: try Store.createDatabases(in: environment, path: path, format: options.format)
            case .readOnly: try Store.openDatabases(in: environment, path: path)
            }
        self.path = path
        self.access = options.access
        self.environment = environment
        self.databases = databases
        self.log = EventLog(
            environment: environment, databases: databases, identityHasher: identityHasher, path: path,
            isReadOnly: options.access == .readOnly)
        // A store made before the Merkle tree (or appended to by a version without it) gets it built now.
        if options.access == .readWrite { try log.extendTree() }
    }

    // MARK: Transactions

    /// Runs `body` in a read-only transaction: a consistent snapshot of the last commit. Keep it short.
    /// - Throws: `StoreError.storage` when LMDB fails, or what `body` throws.
    public func withReadTransaction<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        try storage("reading the store") { try environment.withReadTransaction(body) }
    }

    /// Runs `body` in a durable write transaction, committed when it returns and aborted when it throws;
    /// with `growingMap`, a full map is doubled and `body` runs again from the start.
    /// - Throws: `StoreError.readOnly` in a read-only store, `StoreError.storage`, or what `body` throws.
    public func withWriteTransaction<R>(
        growingMap: Bool = true, _ body: (borrowing WriteTransaction) throws -> R
    ) throws -> R {
        guard access == .readWrite else { throw StoreError.readOnly(path: path) }
        return try storage("writing the store") {
            try environment.withWriteTransaction(growingMap: growingMap, body)
        }
    }

    /// Clears reader slots left by processes that no longer exist (`mdb_reader_check`); returns how many.
    /// Opening a store does this too.
    @discardableResult
    public func clearStaleReaders() throws -> Int {
        try storage("clearing stale readers") { try environment.clearStaleReaders() }
    }

    /// Facts about the environment: map size, pages, readers.
    public func environmentInfo() -> EnvironmentInfo { environment.info() }

    // MARK: Backup

    /// Copies the store, as one consistent snapshot, into the existing empty directory `path`
    /// (`Environment.copy(to:compact:)`: `mdb_env_copy2` with compaction, then an fsync of the copy and of
    /// the directory, which LMDB 0.9.24 does not do). Other processes may go on appending meanwhile: the copy
    /// holds the last commit before it started, seals and projections included.
    /// The copy's `data.mdb` is made owner-only (0600) like the store's own files: `mdb_env_copy2` creates
    /// it with the umask's mode, so `path` should be a directory only this user can enter.
    /// - Throws: `StoreError.storage` when LMDB or the system fails.
    ///
    /// A store of format 3 is copied without the customers' keys unless `withKeys`: the copy is made in
    /// a staging directory inside `path`, every live entry of its `customerkeys` becomes "withheld"
    /// (`03`, no key bytes) and `meta` `keyless` is set, and that copy is copied again, compacted, into
    /// `path` (so no freed page keeps a key), and the staging directory removed. Its events read with
    /// `withheld:HEX` as subject and no personal content; it audits (chain, commitments are not
    /// opened), and refuses appends.
    public func backup(to path: String, withKeys: Bool = true) throws {
        guard format == 3 && !withKeys else {
            return try storage("copying the store to '\(path)'") {
                try environment.copy(to: path, compact: true)
                guard chmod(path + "/data.mdb", 0o600) == 0 else { throw Errno(rawValue: errno) }
            }
        }
        let staging = path + "/.staging-with-keys"
        try storage("copying the store to '\(staging)'") {
            guard mkdir(staging, 0o700) == 0 else { throw Errno(rawValue: errno) }
        }
        defer {
            for file in Store.fileNames { unlink(staging + "/" + file) }
            rmdir(staging)
        }
        try backup(to: staging, withKeys: true)
        let copy = try Store(path: staging)
        try copy.withholdKeys()
        try copy.backup(to: path, withKeys: true)
    }

    /// The `meta` key that marks a backup made without keys (`backup(to:withKeys:)`): appends are refused.
    static let keylessName = "keyless"

    /// Turns every live key of this copy into "withheld" and marks the copy keyless, in one transaction.
    private func withholdKeys() throws {
        guard let sealing = databases.sealing else { return }
        try withWriteTransaction { txn in
            var live: [[UInt8]] = []
            try txn.withCursor(on: sealing.customerKeys) { cursor in
                try cursor.unsafeForEach(from: nil as [UInt8]?) { key, value in
                    if value.first == EventLog.KeyState.live.rawValue { live.append(Array(key)) }
                    return true
                }
            }
            for pseudonym in live {
                try txn.put(
                    [EventLog.KeyState.withheld.rawValue], forKey: pseudonym, in: sealing.customerKeys)
            }
            try txn.put([1], forKey: Store.keylessName, in: databases.meta)
        }
    }

    // MARK: Opening

    /// The `meta` key of the identity hash's key (16 random bytes, written when the store is made).
    static let identityKeyName = "idkey"
    /// The `meta` key of the log's origin, the first line of its checkpoints (docs/PROOFS.md).
    static let originName = "origin"

    /// A new origin: `touchlog/` and 32 random hexadecimal digits, so that no two stores share one.
    private static func newOrigin() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = (0..<2).map { _ in
            let text = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }
        return "touchlog/" + digits.joined()
    }

    /// The log's origin, the first line of its checkpoints; nil in a read-only store made before
    /// checkpoints (a writing command records one).
    public func origin() throws -> String? {
        try withReadTransaction { txn in
            try txn.value(forKey: Store.originName, in: databases.meta).map {
                String(decoding: $0, as: UTF8.self)
            }
        }
    }

    /// Creates (or opens) every named database in one write transaction, checking or recording the format
    /// and the identity hash's key.
    private static func createDatabases(in environment: Environment, path: String, format newFormat: Int)
        throws
        -> (Databases, IdentityHasher)
    {
        precondition(supportedFormats.contains(newFormat), "a store is made in a supported format")
        return try storage("opening the databases") {
            try environment.withWriteTransaction(growingMap: true) { txn in
                let meta = try txn.createDatabase(named: "meta")
                let format: Int
                if let stored = try txn.value(forKey: "format", in: meta) {
                    format = try checkFormat(stored, path: path)
                } else {
                    format = newFormat
                    try txn.put(Array(String(format).utf8), forKey: "format", in: meta)
                    try txn.put(IdentityHasher.randomKey(), forKey: identityKeyName, in: meta)
                    if format == 3 {
                        try txn.put(SecureRandom.bytes(32), forKey: secretName, in: meta)
                    }
                }
                var sealing: Sealing?
                if format == 3 {
                    sealing = Sealing(
                        customerIDs: try txn.createDatabase(named: "customerids"),
                        customerKeys: try txn.createDatabase(named: "customerkeys"),
                        content: try txn.createDatabase(named: "content"),
                        secret: try secret(try txn.value(forKey: secretName, in: meta), path: path))
                }
                let hasher = try identityHasher(try txn.value(forKey: identityKeyName, in: meta), path: path)
                let projections = ProjectionDatabases(
                    meta: try txn.createDatabase(named: "projection.meta"),
                    slots: try projectionSlotNames.map { name in
                        ProjectionSlotDatabases(
                            tickets: try txn.createDatabase(named: "projection.\(name).tickets"),
                            customers: try txn.createDatabase(named: "projection.\(name).customers"),
                            timeline: try txn.createDatabase(named: "projection.\(name).timeline"),
                            customerTickets: try txn.createDatabase(
                                named: "projection.\(name).customer_tickets"))
                    })
                let databases = Databases(
                    meta: meta,
                    events: try txn.createDatabase(named: "events"),
                    streams: try txn.createDatabase(named: "streams"),
                    idRuns: try txn.createDatabase(named: "idruns"),
                    seals: try txn.createDatabase(named: "seals"),
                    merkle: try txn.createDatabase(named: MerkleTree.databaseName),
                    checkpoints: try txn.createDatabase(named: "checkpoints"),
                    readAccess: try txn.createDatabase(named: "access"),
                    projections: projections, sealing: sealing)
                if try txn.value(forKey: originName, in: meta) == nil {
                    try txn.put(Array(newOrigin().utf8), forKey: originName, in: meta)
                }
                return (databases, hasher)
            }
        }
    }

    /// Opens the existing named databases in one read transaction; the log's must all be there.
    private static func openDatabases(in environment: Environment, path: String) throws
        -> (Databases, IdentityHasher)
    {
        try storage("opening the databases") {
            try environment.withDatabaseOpeningTransaction { txn in
                let meta = try existing("meta", txn, path: path)
                guard let format = try txn.value(forKey: "format", in: meta) else {
                    throw StoreError.notAStore(path: path, reason: "it records no format")
                }
                var sealing: Sealing?
                if try checkFormat(format, path: path) == 3 {
                    sealing = Sealing(
                        customerIDs: try existing("customerids", txn, path: path),
                        customerKeys: try existing("customerkeys", txn, path: path),
                        content: try existing("content", txn, path: path),
                        secret: try secret(try txn.value(forKey: secretName, in: meta), path: path))
                }
                let hasher = try identityHasher(try txn.value(forKey: identityKeyName, in: meta), path: path)
                var projections: ProjectionDatabases?
                // A store whose projections were made by a version without every database of today's
                // slots has none a reader can use (a writing command rebuilds them).
                if let projectionMeta = try txn.openDatabase(named: "projection.meta") {
                    var slots: [ProjectionSlotDatabases] = []
                    for name in projectionSlotNames {
                        guard
                            let customerTickets = try txn.openDatabase(
                                named: "projection.\(name).customer_tickets")
                        else { break }
                        slots.append(
                            ProjectionSlotDatabases(
                                tickets: try existing("projection.\(name).tickets", txn, path: path),
                                customers: try existing("projection.\(name).customers", txn, path: path),
                                timeline: try existing("projection.\(name).timeline", txn, path: path),
                                customerTickets: customerTickets))
                    }
                    if slots.count == projectionSlotNames.count {
                        projections = ProjectionDatabases(meta: projectionMeta, slots: slots)
                    }
                }
                let databases = Databases(
                    meta: meta, events: try existing("events", txn, path: path),
                    streams: try existing("streams", txn, path: path),
                    idRuns: try existing("idruns", txn, path: path),
                    seals: try txn.openDatabase(named: "seals"),
                    merkle: try txn.openDatabase(named: MerkleTree.databaseName),
                    checkpoints: try txn.openDatabase(named: "checkpoints"),
                    readAccess: try txn.openDatabase(named: "access"),
                    projections: projections, sealing: sealing)
                return (databases, hasher)
            }
        }
    }

    /// A database that a store must have.
    private static func existing(_ name: String, _ txn: borrowing ReadTransaction, path: String) throws
        -> Database
    {
        guard let database = try txn.openDatabase(named: name) else {
            throw StoreError.notAStore(path: path, reason: "it has no '\(name)' database")
        }
        return database
    }

    /// The identity hasher of a stored key; the unkeyed hash for a store made before keys.
    private static func identityHasher(_ key: [UInt8]?, path: String) throws -> IdentityHasher {
        guard let key else { return .unkeyed }
        guard let hasher = IdentityHasher(key: key) else {
            throw StoreError.corruptIndex(reason: "the identity key in 'meta' is \(key.count) bytes, not 16")
        }
        return hasher
    }

    /// The format `format` names, when this code supports it.
    @discardableResult
    private static func checkFormat(_ format: [UInt8], path: String) throws -> Int {
        let found = String(decoding: format, as: UTF8.self)
        guard let number = Int(found), supportedFormats.contains(number) else {
            throw StoreError.unsupportedFormat(
                path: path, found: found,
                supported: supportedFormats.map(String.init).joined(separator: " or "))
        }
        return number
    }

    /// The `meta` key of the customer-id hash's key (format 3).
    static let secretName = "idsecret"

    private static func secret(_ bytes: [UInt8]?, path: String) throws -> [UInt8] {
        guard let bytes, bytes.count == 32 else {
            throw StoreError.corruptIndex(
                reason: "the store has no 32-byte 'idsecret' in 'meta' (format 3 needs one)")
        }
        return bytes
    }

    // MARK: The directory

    /// The files LMDB keeps in the store directory.
    static let fileNames = ["data.mdb", "lock.mdb"]

    /// Whether this process can open (or create) the store's lock file for writing, as LMDB does.
    static func canOpenLockFile(_ path: String) -> Bool {
        let lock = path + "/lock.mdb"
        if Glibc.access(lock, F_OK) == 0 { return Glibc.access(lock, W_OK) == 0 }
        return Glibc.access(path, W_OK) == 0 || errno == EROFS
    }

    /// `path` without trailing `/` and `/.` components, so that `link/` and `link/.` are checked as
    /// `link` (a trailing slash makes `lstat` follow a symbolic link).
    static func normalized(_ path: String) -> String {
        var path = path
        while path.count > 1 {
            if path.hasSuffix("/") {
                path.removeLast()
            } else if path.hasSuffix("/.") {
                path.removeLast(2)
            } else {
                break
            }
        }
        return path.isEmpty ? "." : path
    }

    /// Checks (and with `create`, makes) the store directory and the files in it, without following links.
    private static func checkDirectory(_ path: String, access: Access, create: Bool) throws {
        var info = stat()
        if lstat(path, &info) != 0 {
            let code = errno
            guard code == ENOENT, create else {
                if code == ENOENT {
                    throw StoreError.notAStore(path: path, reason: "there is no such directory")
                }
                throw StoreError.storage(
                    operation: "opening the store at '\(path)'", cause: Errno(rawValue: code))
            }
            if mkdir(path, 0o700) != 0 {
                throw StoreError.storage(
                    operation: "creating the store directory '\(path)'", cause: Errno(rawValue: errno))
            }
            return
        }
        if info.st_mode & S_IFMT == S_IFLNK {
            throw StoreError.invalidStorePath(
                path: path, reason: "it is a symbolic link; name the directory itself")
        }
        if info.st_mode & S_IFMT != S_IFDIR {
            throw StoreError.invalidStorePath(path: path, reason: "it is not a directory")
        }
        let user = geteuid()
        if access == .readWrite {
            if info.st_uid != user {
                throw StoreError.invalidStorePath(
                    path: path, reason: "it belongs to user \(info.st_uid), not to this user (\(user))")
            }
            if info.st_mode & (S_IWGRP | S_IWOTH) != 0 {
                throw StoreError.invalidStorePath(
                    path: path,
                    reason: "other users can write to it, so they could plant files in it (chmod 700 it)")
            }
        }
        var hasData = false
        for name in fileNames {
            let file = path + "/" + name
            var fileInfo = stat()
            guard lstat(file, &fileInfo) == 0 else {
                let code = errno
                if code == ENOENT { continue }
                throw StoreError.storage(operation: "checking '\(file)'", cause: Errno(rawValue: code))
            }
            if fileInfo.st_mode & S_IFMT == S_IFLNK {
                throw StoreError.invalidStorePath(
                    path: path, reason: "'\(name)' is a symbolic link; a store's files are never followed")
            }
            if fileInfo.st_mode & S_IFMT != S_IFREG {
                throw StoreError.invalidStorePath(path: path, reason: "'\(name)' is not a regular file")
            }
            if access == .readWrite && fileInfo.st_uid != user {
                throw StoreError.invalidStorePath(
                    path: path,
                    reason: "'\(name)' belongs to user \(fileInfo.st_uid), not to this user (\(user))")
            }
            if name == "data.mdb" { hasData = true }
        }
        if !hasData && !create {
            throw StoreError.notAStore(path: path, reason: "it holds no data.mdb")
        }
    }
}
