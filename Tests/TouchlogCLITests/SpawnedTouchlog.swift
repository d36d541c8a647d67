import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A `touchlog` child process started with `posix_spawn`, with its standard descriptors arranged as a
/// test needs: some closed (`touchlog stats <&- >&-`), standard output to a pipe, standard error to a file.
struct SpawnedTouchlog: Sendable {
    struct SpawnError: Error, CustomStringConvertible {
        var code: Int32
        var description: String { "posix_spawn failed: \(String(cString: strerror(code)))" }
    }

    let pid: pid_t

    /// Starts `touchlog ARGS`.
    /// - Parameters:
    ///   - closing: descriptors closed in the child before it runs.
    ///   - output: a descriptor that becomes the child's standard output.
    ///   - errorPath: a file that receives the child's standard error.
    init(_ arguments: [String], closing: [Int32] = [], output: Int32? = nil, errorPath: String? = nil) throws
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let output { posix_spawn_file_actions_adddup2(&actions, output, 1) }
        if let errorPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
        for descriptor in closing { posix_spawn_file_actions_addclose(&actions, descriptor) }
        let executable = touchlogExecutable()
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard rc == 0 else { throw SpawnError(code: rc) }
        self.pid = pid
    }

    /// Waits up to `seconds` for the child to end; returns its exit status, or `nil` if it still runs
    /// (or was killed by a signal, given as 128 + the signal).
    func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            var status: Int32 = 0
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid {
                let signal = status & 0x7f
                return signal == 0 ? (status >> 8) & 0xff : 128 + signal
            }
            if Date() > deadline { return nil }
            usleep(10_000)
        }
    }

    /// Kills the child (SIGKILL) and reaps it.
    func kill() {
        _ = Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }
}
