import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension FileDescriptor {
    /// Flushes the file's data and metadata to the device (`fsync`), retrying when interrupted.
    ///
    /// swift-system 1.8 wraps `open` and `close` but not `fsync`; this is the one place in the module
    /// that reads `errno`, and it reports it as `Errno`.
    /// - Throws: `Errno` (for example `.ioError`).
    func synchronize() throws(Errno) {
        while fsync(rawValue) != 0 {
            let error = Errno(rawValue: errno)
            guard error == .interrupted else { throw error }
        }
    }
}
