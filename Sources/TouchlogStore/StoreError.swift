import LMDB
import SystemPackage

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
    /// The store was written by a newer Touchlog whose format this one does not know.
    case unsupportedFormat(path: String, found: String, supported: String)
    /// A record's bytes do not decode: the store is damaged.
    case corruptRecord(position: UInt64)
    /// The idempotency index does not read: the store is damaged.
    case corruptIndex(reason: String)
    /// The Merkle tree database does not match the log's shape: the store is damaged.
    case corruptTree(reason: String)
    /// The sealed personal content of the record at `position` (format 3) cannot be read: its key or
    /// content is missing where the customer is not erased, or it fails its authentication or
    /// commitment. Never taken for "erased": the store is damaged.
    case sealedContent(position: UInt64, reason: String)
    /// What was asked is refused as it stands (a reserved name, a store of another format); `reason`
    /// says what to do.
    case refused(reason: String)
    /// LMDB or the operating system failed while doing `operation`; `cause` is what failed: an
    /// `LMDBError` (whose `systemError` names a system error LMDB passed through) or an `Errno`.
    case storage(operation: String, cause: any Error)

    /// The system error behind a `storage` error, whether the operating system reported it directly or
    /// LMDB passed it through; nil for other errors.
    public var systemError: Errno? {
        guard case .storage(_, let cause) = self else { return nil }
        return (cause as? Errno) ?? (cause as? LMDBError)?.systemError
    }

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
        case .corruptTree(let reason):
            return "the Merkle tree is damaged: \(reason) (run 'touchlog audit')"
        case .sealedContent(let position, let reason):
            return
                "the personal content of position \(position) cannot be read: \(reason); the store is damaged (run 'touchlog audit')"
        case .refused(let reason):
            return reason
        case .storage(let operation, let cause):
            var text = "storage error while \(operation): \(cause)"
            if let code = systemError {
                text += " (errno \(code.rawValue))"
            } else if let code = cause as? LMDBError {
                text += " (code \(code.rawValue))"
            }
            // LMDB 0.9.24 reports a short write (a full disk) as EIO, so both point at free space.
            if systemError == .noSpace || systemError == .ioError {
                text += "; is the store's file system full? Nothing of the failed batch was written"
            } else if (cause as? LMDBError) == .mapFull {
                text += "; the store reached its map size"
            }
            return text
        }
    }

    /// Equal cases with equal values; two storage causes are equal when they are the same `LMDBError`
    /// or `Errno`, or, for other errors, when their type and description agree.
    public static func == (lhs: StoreError, rhs: StoreError) -> Bool {
        switch (lhs, rhs) {
        case (.versionConflict(let a, let b, let c), .versionConflict(let x, let y, let z)):
            return a == x && b == y && c == z
        case (.identityConflict(let a, let b, let c, let d), .identityConflict(let w, let x, let y, let z)):
            return a == w && b == x && c == y && d == z
        case (.invalidStorePath(let a, let b), .invalidStorePath(let x, let y)):
            return a == x && b == y
        case (.notAStore(let a, let b), .notAStore(let x, let y)):
            return a == x && b == y
        case (.readOnly(let a), .readOnly(let x)):
            return a == x
        case (.unsupportedFormat(let a, let b, let c), .unsupportedFormat(let x, let y, let z)):
            return a == x && b == y && c == z
        case (.corruptRecord(let a), .corruptRecord(let x)):
            return a == x
        case (.corruptIndex(let a), .corruptIndex(let x)):
            return a == x
        case (.corruptTree(let a), .corruptTree(let x)):
            return a == x
        case (.sealedContent(let a, let b), .sealedContent(let x, let y)):
            return a == x && b == y
        case (.refused(let a), .refused(let x)):
            return a == x
        case (.storage(let a, let cause), .storage(let x, let other)):
            guard a == x else { return false }
            if let cause = cause as? LMDBError, let other = other as? LMDBError { return cause == other }
            if let cause = cause as? Errno, let other = other as? Errno { return cause == other }
            return type(of: cause) == type(of: other) && "\(cause)" == "\(other)"
        default:
            return false
        }
    }
}

/// Runs `body`, turning an `LMDBError` or `Errno` into `StoreError.storage` that names `operation`
/// and carries the error as its cause.
func storage<R>(_ operation: String, _ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch let error as LMDBError {
        throw StoreError.storage(operation: operation, cause: error)
    } catch let error as Errno {
        throw StoreError.storage(operation: operation, cause: error)
    }
}
