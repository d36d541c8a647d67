import Dispatch
import Foundation

/// Work started now on a thread of its own, its result waited for later.
///
/// A thread of its own rather than a global dispatch queue's: the audit's parts (the projections'
/// fold, the opening of sealed content, the log's walk) must run at once, and a queue sized to the
/// cores may hold one back until another ends, or behind unrelated work queued in the same process.
public final class BackgroundThread<Value: Sendable>: @unchecked Sendable {
    // Written once by the work's thread before `done` is signalled, read only after waiting for it.
    private var result: Result<Value, any Error>?
    private let done = DispatchSemaphore(value: 0)

    /// Starts `work` now on a new thread.
    public init(_ work: @escaping @Sendable () throws -> Value) {
        let thread = Thread { [self] in
            result = Result { try work() }
            done.signal()
        }
        thread.start()
    }

    /// Waits for the work to end; returns its value or throws its error.
    public func wait() throws -> Value {
        done.wait()
        return try result!.get()
    }
}
