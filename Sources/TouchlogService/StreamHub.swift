import Synchronization

/// Wakes the live streams: after each commit, on every heartbeat tick, and once more when the service
/// stops (their signal sequences then end). A stream reads the log itself, so a slow one holds nothing
/// of the writer's: the writer only yields a wake-up that replaces any not yet taken.
final class StreamHub: Sendable {
    private struct State {
        var next = 0
        var subscribers: [Int: AsyncStream<Void>.Continuation] = [:]
        var closed = false
    }
    private let state = Mutex(State())

    /// A new subscription: its id (to unsubscribe) and its wake-ups; nil once the hub is closed.
    func subscribe() -> (Int, AsyncStream<Void>)? {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id: Int? = state.withLock {
            guard !$0.closed else { return nil }
            $0.next += 1
            $0.subscribers[$0.next] = continuation
            return $0.next
        }
        guard let id else { return nil }
        continuation.yield()  // catch up at once
        return (id, stream)
    }

    func unsubscribe(_ id: Int) {
        let continuation = state.withLock { $0.subscribers.removeValue(forKey: id) }
        continuation?.finish()
    }

    /// Wakes every stream.
    func wake() {
        let all = state.withLock { Array($0.subscribers.values) }
        for continuation in all { continuation.yield() }
    }

    /// Wakes one stream (its heartbeat).
    func wake(_ id: Int) {
        let continuation = state.withLock { $0.subscribers[id] }
        continuation?.yield()
    }

    /// Ends every stream and refuses new ones.
    func close() {
        let all = state.withLock { state in
            state.closed = true
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for continuation in all { continuation.finish() }
    }
}
