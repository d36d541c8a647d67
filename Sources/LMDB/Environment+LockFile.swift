import CLMDB

#if canImport(Glibc)
    import Glibc
#endif

extension Environment {
    /// Bytes of `lock.mdb` to reserve for `readers` reader slots: LMDB 0.9.24 uses a header and one
    /// 64-byte `MDB_reader` per slot (mdb.c, `mdb_env_setup_locks`); the header is a few cache lines.
    static func lockFileBytes(readers: Int) -> Int {
        let bytes = 1024 + 64 * max(readers, 1)
        let page = 4096
        return (bytes + page - 1) / page * page
    }

    /// Reserves the disk blocks of the lock file before LMDB maps it.
    ///
    /// `mdb_env_setup_locks` sizes `lock.mdb` with `ftruncate` and then writes its reader table through
    /// `mmap`: on a full file system the first write to an unallocated page is a SIGBUS, not an error.
    /// Reserving the blocks first (`fallocate` with `FALLOC_FL_KEEP_SIZE`, which leaves the file's size
    /// to LMDB, since LMDB derives the number of reader slots from it) turns that into `ENOSPC` at open.
    /// The file is opened without following links, and created owner-only (`mode`) if missing.
    /// - Throws: `LMDBError` with the system error (`ENOSPC` on a full disk) when the blocks cannot be had.
    static func reserveLockFile(inDirectory path: String, readers: Int, mode: mode_t) throws(LMDBError) {
        #if os(Linux)
            let file = path + "/lock.mdb"
            let fd = open(file, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode)
            guard fd >= 0 else {
                // Not ours to write (a read-only copy, read-only media): LMDB decides how to read it.
                if errno == EACCES || errno == EROFS || errno == EPERM { return }
                throw LMDBError(rawValue: errno)
            }
            defer { close(fd) }
            if touchlog_reserve_blocks(fd, Int64(lockFileBytes(readers: readers))) != 0 {
                // File systems without fallocate are left to LMDB.
                if errno == EOPNOTSUPP || errno == ENOSYS { return }
                throw LMDBError(rawValue: errno)
            }
        #endif
    }
}
