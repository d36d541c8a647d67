#if canImport(Glibc)
    import Glibc
#endif

/// Makes sure descriptors 0, 1 and 2 are open, opening `/dev/null` onto each one that is closed.
///
/// `open(2)` returns the lowest free descriptor. In a process started with standard input and output
/// closed (`touchlog stats <&- >&-`), `mdb_env_open` would get descriptor 0 or 1 for `data.mdb`, and the
/// first thing the process printed would be written into the store's first page. SQLite refuses the
/// same way to keep a database on descriptors 0-2 (`robust_open` in `os_unix.c`). `Environment.init` calls
/// this before opening anything; the `touchlog` executable calls it first thing too.
///
/// The `/dev/null` descriptors are opened without `O_CLOEXEC`, as standard descriptors are inherited.
/// - Throws: `LMDBError` with the `errno` of `open(2)` when `/dev/null` cannot be opened.
public func ensureStandardDescriptorsOpen() throws(LMDBError) {
    // Common case: all three are open, and nothing is opened.
    guard (0...2).contains(where: { fcntl($0, F_GETFD) == -1 && errno == EBADF }) else { return }
    while true {
        let descriptor = open("/dev/null", O_RDWR)
        guard descriptor >= 0 else { throw LMDBError(rawValue: errno) }
        // It took the lowest free descriptor: one of 0-2 that was closed (and others may be), or none was.
        if descriptor > 2 {
            close(descriptor)
            return
        }
    }
}
