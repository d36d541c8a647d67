import LMDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a store operation failed, in words that say what to do.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An `--expected-version` check failed: the customer's stream is at `actual`.
    case versionConflict(customer: String, expected: UInt64, actual: UInt64)
    /// Request `index` of a batch has the `source` and `id` of the event at `position`, with other content.
    case identityConflict(source: String, id: String, position: UInt64, index: Int)
    /// The store path exists but cannot be a store (a symlink, a file, ...).
    case invalidStorePath(path: String, reason: String)
    /// There is no store at `path`, and the command may not create one (a reading command, or a
    /// read-only open).
    case notAStore(path: String, reason: String)
    /// A write was asked of a store opened read-only.
    case readOnly(path: String)
    /// A system call failed while doing `operation`; `errno` says why.
    case system(operation: String, errno: Int32)
    /// The store was written by a newer Touchlog whose format this one does not know.
    case unsupportedFormat(path: String, found: String, supported: String)
    /// A record's bytes do not decode: the store is damaged.
    case corruptRecord(position: UInt64)
    /// The idempotency index does not read: the store is damaged.
    case corruptIndex(reason: String)
    /// LMDB or the operating system failed while doing `operation`.
    case storage(operation: String, code: LMDBError)

    public var description: String {
        switch self {
        case .versionConflict(let customer, let expected, let actual):
            return
                "version conflict on customer '\(customer)': expected version \(expected), actual version \(actual)"
        case .invalidStorePath(let path, let reason):
            return "cannot use '\(path)' as a store: \(reason)"
        case .identityConflict(let source, let id, let position, _):
            return
                "source '\(source)' and id '\(id)' are already in the log at position \(position) with other content: a conflict, not a retry (nothing of the batch was written)"
        case .notAStore(let path, let reason):
            return
                "no store at '\(path)': \(reason) (ingest events first, or name the store with --store or TOUCHLOG_STORE)"
        case .readOnly(let path):
            return "the store at '\(path)' is open read-only: this needs to write"
        case .system(let operation, let code):
            return "\(operation) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .unsupportedFormat(let path, let found, let supported):
            if let older = Int(found), let current = Int(supported), older < current {
                return
                    "the store at '\(path)' has format \(found), written by an older touchlog; this touchlog reads format \(supported): export the events with that touchlog ('touchlog tail --json --store PATH') and ingest them into a new store"
            }
            return
                "the store at '\(path)' has format \(found), this touchlog reads format \(supported): use a newer touchlog"
        case .corruptRecord(let position):
            return
                "the record at position \(position) does not decode: the store is damaged (run 'touchlog audit')"
        case .corruptIndex(let reason):
            return "the idempotency index is damaged: \(reason) (run 'touchlog audit')"
        case .storage(let operation, let code):
            var text = "storage error while \(operation): \(code) (code \(code.rawValue))"
            // LMDB 0.9.24 reports a short write (a full disk) as EIO, so both point at free space.
            if code == .noSpace || code == LMDBError(rawValue: 5) {
                text += "; is the store's file system full? Nothing of the failed batch was written"
            } else if code == .mapFull {
                text += "; the store reached its map size"
            }
            return text
        }
    }
}

/// Runs `body`, turning an `LMDBError` into `StoreError.storage` that names `operation`.
func storage<R>(_ operation: String, _ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch let error as LMDBError {
        throw StoreError.storage(operation: operation, code: error)
    }
}
