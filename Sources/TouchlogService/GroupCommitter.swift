import Foundation
import TouchlogStore

/// The one writer of the service: requests queue here (bounded), and a dedicated thread takes everything
/// queued, up to `maxGroupEvents` events and `maxGroupBytes` bytes, into one durable `EventLog.append`,
/// then answers every request of the group.
///
/// Only fully received, parsed and validated requests reach the queue, so a slow client never holds the
/// writer. Each request stays atomic inside its group: a request whose event conflicts (same source
/// and id, other content) or whose expected version does not hold is answered alone and the rest of the
/// group is committed without it.
public final class GroupCommitter: @unchecked Sendable {
    // @unchecked Sendable: `queue`, `stopping` and `thread` are read and written only with `condition`
    // locked; the log and the bounds are immutable.

    /// What became of one request.
    public enum Reply: Sendable {
        /// Durable: one acknowledgement per event of the request, in order.
        case committed([Acknowledgement])
        /// Nothing of the request was written: why (a `StoreError` for conflicts, storage failures).
        case failed(any Error)
        /// The queue was full: nothing was written; try again later.
        case queueFull
        /// The service is stopping: nothing was written.
        case draining
    }

    /// What the log did with one event, and the chain hash of the record at its position (the new
    /// record, or the original of a duplicate).
    public struct Acknowledgement: Sendable {
        public var outcome: AppendOutcome
        /// The stream version of the event at the outcome's position (the original's, for a duplicate).
        public var version: UInt64?
        public var hash: ChainHash?
    }

    /// Bounds of the queue and of one group.
    public struct Limits: Sendable {
        /// Requests waiting at most; one more is refused (429).
        public var maxQueuedRequests = 4_096
        /// Events of one commit at most (a larger single request is still committed alone).
        public var maxGroupEvents = 10_000
        /// Request bytes of one commit at most.
        public var maxGroupBytes = 16 << 20
        /// Request bytes waiting at most (parsed requests hold about this much memory); more is refused (429).
        public var maxQueuedBytes = 256 << 20
        public init() {}
    }

    private final class Pending {
        let requests: [AppendRequest]
        let bytes: Int
        let continuation: CheckedContinuation<Reply, Never>
        init(_ requests: [AppendRequest], bytes: Int, _ continuation: CheckedContinuation<Reply, Never>) {
            self.requests = requests
            self.bytes = bytes
            self.continuation = continuation
        }
    }

    private let store: Store
    private var log: EventLog { store.log }
    private let limits: Limits
    private let metrics: ServiceMetrics
    /// Called on the writer thread after each commit that appended events, with the new head position.
    private let committed: @Sendable (UInt64) -> Void
    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var queuedBytes = 0
    private var stopping = false
    private var finished = false

    public init(
        store: Store, limits: Limits = Limits(), metrics: ServiceMetrics,
        committed: @escaping @Sendable (UInt64) -> Void
    ) {
        self.store = store
        self.limits = limits
        self.metrics = metrics
        self.committed = committed
    }

    /// Starts the writer thread.
    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "touchlog.writer"
        thread.start()
    }

    /// Queues `requests` (one HTTP request's events, `bytes` of body) and waits until the commit that
    /// holds them has returned.
    public func submit(_ requests: [AppendRequest], bytes: Int) async -> Reply {
        await withCheckedContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            if stopping {
                continuation.resume(returning: .draining)
                return
            }
            if queue.count >= limits.maxQueuedRequests
                || (!queue.isEmpty && queuedBytes + bytes > limits.maxQueuedBytes)
            {
                continuation.resume(returning: .queueFull)
                return
            }
            queue.append(Pending(requests, bytes: bytes, continuation))
            queuedBytes += bytes
            metrics.setQueueDepth(queue.count)
            condition.signal()
        }
    }

    /// Refuses new requests, commits and answers everything already queued, and returns once the
    /// writer thread has finished.
    public func stop() {
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
            var group = [queue[0]]
            var events = queue[0].requests.count
            var bytes = queue[0].bytes
            var taken = 1
            while taken < queue.count, events + queue[taken].requests.count <= limits.maxGroupEvents,
                bytes + queue[taken].bytes <= limits.maxGroupBytes
            {
                events += queue[taken].requests.count
                bytes += queue[taken].bytes
                group.append(queue[taken])
                taken += 1
            }
            queue.removeFirst(taken)
            queuedBytes -= bytes
            metrics.setQueueDepth(queue.count)
            condition.unlock()
            commit(group)
        }
    }

    /// Commits `group` in as few transactions as its conflicts allow, and answers each request.
    private func commit(_ group: [Pending]) {
        var remaining = group
        while !remaining.isEmpty {
            let requests = remaining.flatMap(\.requests)
            let started = ContinuousClock.now
            do {
                // `.fail`: a conflicting event throws with its index, so its request alone is refused.
                let result = try log.append(requests, conflicts: .fail)
                metrics.recordCommit(
                    events: requests.count, requests: remaining.count, duration: ContinuousClock.now - started
                )
                let records = recordDetails(of: result.outcomes)
                var start = 0
                var appended = false
                for pending in remaining {
                    let range = start..<start + pending.requests.count
                    let outcomes = range.map {
                        Acknowledgement(
                            outcome: result.outcomes[$0], version: records[$0]?.version,
                            hash: records[$0]?.hash)
                    }
                    start += pending.requests.count
                    if outcomes.contains(where: { if case .appended = $0.outcome { true } else { false } }) {
                        appended = true
                    }
                    pending.continuation.resume(returning: .committed(outcomes))
                }
                if appended,
                    case .appended(let position, _) = result.outcomes.last(where: {
                        if case .appended = $0 { true } else { false }
                    })
                {
                    committed(position)
                }
                remaining = []
            } catch StoreError.identityConflict(let source, let id, let position, let index) {
                // Answer the request that holds event `index`, then commit the others again.
                var start = 0
                let owner = remaining.firstIndex { pending in
                    defer { start += pending.requests.count }
                    return index < start + pending.requests.count
                }!
                let local = index - (start - remaining[owner].requests.count)
                remaining[owner].continuation.resume(
                    returning: .failed(
                        StoreError.identityConflict(source: source, id: id, position: position, index: local))
                )
                remaining.remove(at: owner)
            } catch StoreError.versionConflict where remaining.count > 1 {
                // The error does not say which request: commit each on its own, in arrival order.
                for pending in remaining { commit([pending]) }
                remaining = []
            } catch {
                for pending in remaining { pending.continuation.resume(returning: .failed(error)) }
                remaining = []
            }
        }
    }

    /// The version and chain hash at each outcome's position, read in one transaction after the commit;
    /// nil where they cannot be read (the commit stands: both are also in every read of the event).
    private func recordDetails(of outcomes: [AppendOutcome]) -> [(version: UInt64, hash: ChainHash)?] {
        do {
            return try store.withReadTransaction { txn in
                try outcomes.map { outcome -> (version: UInt64, hash: ChainHash)? in
                    let position: UInt64
                    switch outcome {
                    case .appended(let at, _), .duplicate(let at), .conflict(let at): position = at
                    }
                    return try log.withRecord(at: position, in: txn) { ($0.version, $0.hash) }
                }
            }
        } catch {
            return Array(repeating: nil, count: outcomes.count)
        }
    }
}
