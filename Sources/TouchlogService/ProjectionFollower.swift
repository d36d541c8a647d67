import Foundation
import Logging
import Synchronization
import TouchlogProjections
import TouchlogStore

/// Brings the projections up to date off the request path: after commits, a background thread runs the
/// same catch-up as `touchlog catch-up` (at most every `interval`, so that one catch-up covers many
/// commits). Reads say how far behind the projections are (`position`).
public final class ProjectionFollower: Sendable {
    private let store: Store
    private let interval: Duration
    private let logger: Logger
    private let condition = NSConditionBox()
    /// The log position the projections reflect, as last caught up.
    private let caughtUp = Mutex<UInt64>(0)

    public init(store: Store, interval: Duration = .milliseconds(100), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    /// The position the projections reflect, read from the store.
    public func position() -> UInt64 {
        (try? ProjectionStore(store: store).activeGeneration()?.position) ?? caughtUp.withLock { $0 }
    }

    /// Starts the thread; it catches up once at once (a store left behind by an interrupted ingest).
    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "touchlog.projections"
        thread.start()
        condition.signal(stop: false)
    }

    /// Asks for a catch-up (called after each commit that appended).
    public func notify() { condition.signal(stop: false) }

    /// Runs a last catch-up and ends the thread; returns when it has.
    public func stop() { condition.stopAndWait() }

    private func run() {
        while let stopping = condition.waitForWork() {
            do {
                let summary = try ProjectionStore(store: store).catchUp()
                caughtUp.withLock { $0 = summary.position }
            } catch {
                // The events are committed; the next catch-up (or `touchlog catch-up`) folds them.
                logger.error("projection catch-up failed", metadata: ["error": "\(error)"])
            }
            if stopping { break }
            Thread.sleep(
                forTimeInterval: Double(interval.components.seconds) + Double(interval.components.attoseconds)
                    * 1e-18)
        }
        condition.finished()
    }
}

/// A flag for work to do and a flag to stop, waited on by one thread.
final class NSConditionBox: @unchecked Sendable {
    // @unchecked Sendable: every field is read and written with `condition` locked.
    private let condition = NSCondition()
    private var pending = false
    private var stopping = false
    private var done = false

    func signal(stop: Bool) {
        condition.lock()
        pending = true
        if stop { stopping = true }
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for work; returns whether it is the last round (stopping), taking the pending flag.
    func waitForWork() -> Bool? {
        condition.lock()
        defer { condition.unlock() }
        while !pending { condition.wait() }
        pending = false
        return stopping
    }

    func finished() {
        condition.lock()
        done = true
        condition.broadcast()
        condition.unlock()
    }

    func stopAndWait() {
        signal(stop: true)
        condition.lock()
        while !done { condition.wait() }
        condition.unlock()
    }
}
