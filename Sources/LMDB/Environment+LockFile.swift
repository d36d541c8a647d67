#if canImport(Glibc)
    import Glibc
#endif

extension Environment {
    /// Bytes LMDB 0.9.24 uses in `lock.mdb` for `readers` reader slots, rounded up generously: a 128-byte
    /// header (`MDB_txninfo`) and one 64-byte `MDB_reader` per slot (mdb.c, `mdb_env_setup_locks`).
    static func lockFileBytes(readers: Int) -> Int {
        let bytes = 128 + 64 * max(readers, 1)
        let page = 4096
        return (bytes + page - 1) / page * page + page
    }

    /// Allocates the disk blocks of the lock file before LMDB maps it.
    ///
    /// `mdb_env_setup_locks` sizes `lock.mdb` with `ftruncate` and then writes its reader table through
    /// `mmap`: on a full file system the first write to an unallocated page is a SIGBUS, not an error.
    /// `posix_fallocate` turns that into `ENOSPC` at open. The file is opened without following links
    /// and created owner-only (`mode`) if missing.
    /// - Throws: `LMDBError` with the system error (`ENOSPC` on a full disk) when the blocks cannot be had.
    static func allocateLockFile(inDirectory path: String, readers: Int, mode: mode_t) throws(LMDBError) {
        let file = path + "/lock.mdb"
        let fd = open(file, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else {
            // Not ours to write (a read-only copy): LMDB decides how to read it.
            if errno == EACCES || errno == EROFS || errno == EPERM { return }
            throw LMDBError(rawValue: errno)
        }
        defer { close(fd) }
        let rc = posix_fallocate(fd, 0, off_t(lockFileBytes(readers: readers)))
        // posix_fallocate returns the error number; file systems without it are left to LMDB.
        if rc != 0 && rc != EOPNOTSUPP && rc != EINVAL { throw LMDBError(rawValue: rc) }
    }
}
