import LMDB
import SystemPackage
import TouchlogStore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A projection slot outside the store: an LMDB environment of its own in a private temporary
/// directory, removed when the slot is dropped. What `audit` and `rebuild --dry-run` fold the log
/// into, so that they compare in bounded memory without writing to the store (which may be a
/// read-only copy).
///
/// It is scratch: commits do not sync (`MDB_NOSYNC`); a crash loses it, and nothing needs it then.
final class ScratchSlot {
    let slot: Store.ProjectionSlotDatabases
    private let environment: Environment
    private let directory: String

    /// Makes the slot in a new directory (mode 0700) under `$TMPDIR` (else /tmp).
    init() throws {
        let base = TemporaryDirectory.path
        var template = Array((base + "/touchlog-scratch-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw StoreError.storage(
                operation: "making a scratch directory in '\(base)'", cause: Errno(rawValue: errno))
        }
        directory = String(cString: made)
        var options = Environment.Options()
        options.mapSize = 1 << 40
        options.noSync = true
        options.maxDatabases = 8
        do {
            environment = try Environment(path: directory, options: options)
            slot = try environment.withWriteTransaction { txn in
                Store.ProjectionSlotDatabases(
                    tickets: try txn.createDatabase(named: "tickets"),
                    customers: try txn.createDatabase(named: "customers"),
                    timeline: try txn.createDatabase(named: "timeline"),
                    customerTickets: try txn.createDatabase(named: "customer_tickets"))
            }
        } catch let error as LMDBError {
            Self.remove(directory)
            throw StoreError.storage(operation: "making a scratch projection in '\(directory)'", cause: error)
        }
    }

    deinit { Self.remove(directory) }

    private static func remove(_ directory: String) {
        for name in ["data.mdb", "lock.mdb"] { unlink(directory + "/" + name) }
        rmdir(directory)
    }

    func withWriteTransaction<R>(_ body: (borrowing WriteTransaction) throws -> R) throws -> R {
        try storage("writing the scratch projection in '\(directory)'") {
            try environment.withWriteTransaction(body)
        }
    }

    func withReadTransaction<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        try storage("reading the scratch projection in '\(directory)'") {
            try environment.withReadTransaction(body)
        }
    }
}

enum TemporaryDirectory {
    /// `$TMPDIR` when set and not empty, else /tmp.
    static var path: String {
        if let value = getenv("TMPDIR"), value.pointee != 0 {
            let path = String(cString: value)
            return path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        }
        return "/tmp"
    }
}
