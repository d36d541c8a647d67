import TouchlogStore

/// A store in a temporary directory of its own, removed with the directory when the last reference goes.
///
/// Tests open stores only through `TestStore.openStore(at:initialMapSize:noSync:)` (directly, through
/// `open()`, `openStore()`, `openLog(at:)` or `withTemporaryLog`): how a store is opened is decided in
/// that one function.
public final class TestStore {
    private let scratch: TemporaryDirectory
    /// The temporary directory; the store is its subdirectory `store`, so a test can put files beside it.
    public var directory: String { scratch.path }
    /// The store directory (created by the first `open()`).
    public var path: String { directory + "/store" }

    /// The map size tests open stores with: small, so growing the map is exercised; it grows on demand.
    public static let defaultMapSize = 1 << 24

    /// The format the store is made in (2 for tests of the plaintext records of format 1).
    public let format: Int

    public init(prefix: String = "touchlog-tests", format: Int = Store.formatVersion) throws {
        scratch = try TemporaryDirectory(prefix: prefix)
        self.format = format
    }

    /// Opens (creating it the first time) the store of this test; again after closing means reopening.
    /// Keep this `TestStore` alive while the log is open: releasing it removes the directory.
    /// `noSync` commits without fsync: for tests of many small commits that never crash the machine.
    public func open(initialMapSize: Int = TestStore.defaultMapSize, noSync: Bool = false) throws -> EventLog
    {
        try openStore(initialMapSize: initialMapSize, noSync: noSync).log
    }

    /// Opens (creating it the first time) the store of this test, for what needs the whole store
    /// (projections, seals, the audit).
    public func openStore(initialMapSize: Int = TestStore.defaultMapSize, noSync: Bool = false) throws
        -> Store
    {
        try TestStore.openStore(at: path, initialMapSize: initialMapSize, noSync: noSync, format: format)
    }

    /// Opens the log of the store at `path`, creating the store if needed.
    public static func openLog(
        at path: String, initialMapSize: Int = TestStore.defaultMapSize, noSync: Bool = false
    ) throws -> EventLog {
        try openStore(at: path, initialMapSize: initialMapSize, noSync: noSync).log
    }

    /// Opens the store at `path`, creating it if needed: the one place tests open a store.
    /// - Throws: what opening a store throws (`StoreError`).
    public static func openStore(
        at path: String, initialMapSize: Int = TestStore.defaultMapSize, noSync: Bool = false,
        format: Int = Store.formatVersion
    ) throws -> Store {
        var options = Store.Options()
        options.format = format
        options.initialMapSize = initialMapSize
        options.noSync = noSync
        return try Store(path: path, options: options)
    }
}

/// Runs `body` with a log in a fresh temporary store, removed afterwards.
public func withTemporaryLog<Result>(
    initialMapSize: Int = TestStore.defaultMapSize, _ body: (EventLog) throws -> Result
) throws -> Result {
    let store = try TestStore()
    return try withExtendedLifetime(store) { try body(try store.open(initialMapSize: initialMapSize)) }
}
