import Foundation
import Logging
import TouchlogStore

/// Records reads of customers' histories in the store's read-access log before they are answered:
/// a read waits until its entry is durable, and the entries of concurrent reads share one commit
/// (a background thread takes everything queued).
final class AccessRecorder: @unchecked Sendable {
    // @unchecked Sendable: `queue`, `stopping` and `finished` are used only with `condition` locked.
    private struct Pending {
        var entry: ReadAccessLog.Entry
        var continuation: CheckedContinuation<(any Error)?, Never>
    }

    private let log: ReadAccessLog
    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var stopping = false
    private var finished = false

    init(store: Store) { log = ReadAccessLog(store: store) }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "touchlog.access"
        thread.start()
    }

    /// Records `entry` durably; returns why it could not be, nil once it is.
    func record(_ entry: ReadAccessLog.Entry) async -> (any Error)? {
        await withCheckedContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard !stopping else {
                continuation.resume(returning: ServiceStopping())
                return
            }
            queue.append(Pending(entry: entry, continuation: continuation))
            condition.signal()
        }
    }

    /// Records what is queued, then ends the thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let group = queue
            queue = []
            condition.unlock()
            var failure: (any Error)?
            do { try log.record(group.map(\.entry)) } catch { failure = error }
            for pending in group { pending.continuation.resume(returning: failure) }
        }
    }
}

struct ServiceStopping: Error, CustomStringConvertible {
    var description: String { "the service is stopping" }
}
