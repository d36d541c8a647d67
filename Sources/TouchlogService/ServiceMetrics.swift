import Synchronization

/// The service's counters, read by `GET /metrics` in the Prometheus text format (version 0.0.4).
public final class ServiceMetrics: Sendable {
    /// Upper bounds of the commit latency histogram, in seconds.
    static let latencyBounds: [Double] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5]
    /// Upper bounds of the group size histogram, in requests.
    static let groupBounds: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]

    private struct Histogram {
        var bounds: [Double]
        var counts: [UInt64]
        var sum = 0.0
        var count: UInt64 = 0
        init(_ bounds: [Double]) {
            self.bounds = bounds
            counts = Array(repeating: 0, count: bounds.count)
        }
        mutating func observe(_ value: Double) {
            for (i, bound) in bounds.enumerated() where value <= bound { counts[i] += 1 }
            sum += value
            count += 1
        }
        func write(_ name: String, into text: inout String) {
            for (i, bound) in bounds.enumerated() {
                text += "\(name)_bucket{le=\"\(bound)\"} \(counts[i])\n"
            }
            text += "\(name)_bucket{le=\"+Inf\"} \(count)\n\(name)_sum \(sum)\n\(name)_count \(count)\n"
        }
    }

    private struct State {
        var commits: UInt64 = 0
        var committedEvents: UInt64 = 0
        var queueDepth = 0
        var groupSizes = Histogram(ServiceMetrics.groupBounds)
        var commitSeconds = Histogram(ServiceMetrics.latencyBounds)
        var responses: [Int: UInt64] = [:]
        var streams = 0
    }

    private let state = Mutex(State())

    public init() {}

    func recordCommit(events: Int, requests: Int, duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        state.withLock {
            $0.commits += 1
            $0.committedEvents += UInt64(events)
            $0.groupSizes.observe(Double(requests))
            $0.commitSeconds.observe(seconds)
        }
    }

    func setQueueDepth(_ depth: Int) { state.withLock { $0.queueDepth = depth } }

    func recordResponse(status: Int) { state.withLock { $0.responses[status, default: 0] += 1 } }

    func streamOpened() { state.withLock { $0.streams += 1 } }
    func streamClosed() { state.withLock { $0.streams -= 1 } }

    /// Commits so far (for tests and the bench).
    public var commits: UInt64 { state.withLock { $0.commits } }

    /// The metrics in the Prometheus text format.
    public func prometheusText() -> String {
        let state = state.withLock { $0 }
        var text = """
            # HELP touchlog_commits_total Durable commits of the group committer.
            # TYPE touchlog_commits_total counter
            touchlog_commits_total \(state.commits)
            # HELP touchlog_committed_events_total Events handed to the committer and committed (appended or duplicate).
            # TYPE touchlog_committed_events_total counter
            touchlog_committed_events_total \(state.committedEvents)
            # HELP touchlog_queue_depth Requests waiting for the writer.
            # TYPE touchlog_queue_depth gauge
            touchlog_queue_depth \(state.queueDepth)
            # HELP touchlog_streams Open event streams.
            # TYPE touchlog_streams gauge
            touchlog_streams \(state.streams)
            # HELP touchlog_group_requests Requests per commit.
            # TYPE touchlog_group_requests histogram

            """
        state.groupSizes.write("touchlog_group_requests", into: &text)
        text += """
            # HELP touchlog_commit_seconds Time of one durable commit.
            # TYPE touchlog_commit_seconds histogram

            """
        state.commitSeconds.write("touchlog_commit_seconds", into: &text)
        text += """
            # HELP touchlog_http_responses_total Responses by status code.
            # TYPE touchlog_http_responses_total counter

            """
        for (status, count) in state.responses.sorted(by: { $0.key < $1.key }) {
            text += "touchlog_http_responses_total{code=\"\(status)\"} \(count)\n"
        }
        return text
    }
}
