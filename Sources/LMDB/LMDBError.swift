import CLMDB
import SystemPackage

/// An error code returned by an LMDB function, with LMDB's own message.
///
/// Match specific codes with `catch LMDBError.mapFull` (the `~=` below), as with swift-system's `Errno`.
/// LMDB's own codes are negative (`MDB_KEYEXIST` ... `MDB_BAD_DBI`); some functions pass a system
/// error through instead ("Other errors are system errors; see errno.h", lmdb.h), for example `ENOSPC`
/// from a commit or `ENOENT` and `EACCES` from `mdb_env_open`. `systemError` names those as `Errno`.
/// The wrapper's own system calls throw `Errno` itself, never an `LMDBError`.
public struct LMDBError: Error, RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C return code of the LMDB function.
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `MDB_KEYEXIST`: the key/data pair already exists (with `noOverwrite`, or an out-of-order `append`).
    public static let keyExists = LMDBError(rawValue: MDB_KEYEXIST)
    /// `MDB_NOTFOUND`. The wrapper turns it into `nil` wherever "absent" is a normal answer.
    public static let notFound = LMDBError(rawValue: MDB_NOTFOUND)
    /// `MDB_CORRUPTED`: the file is not a valid LMDB store, or is damaged.
    public static let corrupted = LMDBError(rawValue: MDB_CORRUPTED)
    /// `MDB_PANIC`: the environment hit a fatal error and must be closed.
    public static let panic = LMDBError(rawValue: MDB_PANIC)
    /// `MDB_VERSION_MISMATCH`: the file was written by an incompatible LMDB version.
    public static let versionMismatch = LMDBError(rawValue: MDB_VERSION_MISMATCH)
    /// `MDB_INVALID`: the file is not an LMDB data file.
    public static let invalid = LMDBError(rawValue: MDB_INVALID)
    /// `MDB_MAP_FULL`: the map size is reached; grow it and retry the transaction.
    public static let mapFull = LMDBError(rawValue: MDB_MAP_FULL)
    /// `MDB_DBS_FULL`: more named databases than `maxDatabases`.
    public static let databasesFull = LMDBError(rawValue: MDB_DBS_FULL)
    /// `MDB_READERS_FULL`: every reader slot is taken.
    public static let readersFull = LMDBError(rawValue: MDB_READERS_FULL)
    /// `MDB_TXN_FULL`: the transaction has too many dirty pages.
    public static let transactionFull = LMDBError(rawValue: MDB_TXN_FULL)
    /// `MDB_MAP_RESIZED`: another process grew the map; adopt the new size and retry.
    public static let mapResized = LMDBError(rawValue: MDB_MAP_RESIZED)
    /// `MDB_INCOMPATIBLE`: a database was opened with flags that do not match how it was created.
    public static let incompatible = LMDBError(rawValue: MDB_INCOMPATIBLE)
    /// `MDB_BAD_TXN`: the transaction hit an earlier error and can only be aborted.
    public static let badTransaction = LMDBError(rawValue: MDB_BAD_TXN)
    /// `MDB_BAD_VALSIZE`: a key is empty or longer than the maximum key size (511 bytes), or a value is too large.
    public static let badValueSize = LMDBError(rawValue: MDB_BAD_VALSIZE)
    /// `ENOSPC` passed through by LMDB: the file system is full.
    public static let noSpace = LMDBError(systemError: .noSpace)
    /// `EIO` passed through by LMDB: a read or write failed; LMDB 0.9.24 also reports a short write
    /// (a full disk) this way.
    public static let inputOutput = LMDBError(systemError: .ioError)

    /// The code LMDB returns when it passes the system error `systemError` through.
    public init(systemError: Errno) { self.rawValue = systemError.rawValue }

    /// The system error that LMDB passed through, or nil for one of LMDB's own codes.
    public var systemError: Errno? {
        rawValue > 0 ? Errno(rawValue: rawValue) : nil
    }

    /// LMDB's message for the code (`mdb_strerror`; for a system error, `strerror`).
    public var description: String {
        String(cString: mdb_strerror(rawValue))
    }

    /// Lets `catch LMDBError.mapFull` match any thrown error with that code.
    public static func ~= (pattern: LMDBError, value: any Error) -> Bool {
        (value as? LMDBError) == pattern
    }
}

/// Throws the LMDB error for a non-zero return code. Called after every C call that returns one.
@inline(__always)
func check(_ rc: Int32) throws(LMDBError) {
    if rc != MDB_SUCCESS { throw LMDBError(rawValue: rc) }
}
