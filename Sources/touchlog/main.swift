import LMDB
import TouchlogCLI

#if canImport(Glibc)
    import Glibc
#endif

// Before anything opens a file: a descriptor 0, 1 or 2 left closed by the caller (`touchlog stats <&- >&-`)
// would go to the first file opened, and what is printed would then be written into it (the store's
// data.mdb, a rejects file, a key). Open /dev/null onto any of them that is closed.
do {
    try ensureStandardDescriptorsOpen()
} catch {
    let message = "touchlog: cannot open /dev/null onto a closed standard descriptor: \(error)\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(74)
}
// A write to a pipe whose reader has gone fails with EPIPE instead of killing the process, so commands can
// notice and end cleanly (`tail --follow | head -1`).
signal(SIGPIPE, SIG_IGN)

Touchlog.main()
