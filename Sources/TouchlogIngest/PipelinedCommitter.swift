import Dispatch
import Foundation
import TouchlogStore

/// Appends batches, in order, on a writer thread, with at most `depth` batches waiting, so the caller
/// can read and parse the next batch meanwhile.
///
/// The writer hands the batches to `EventLog.append(batches:committed:)`, which prepares each one
/// (encoding, hashing, checks) while the one before it commits: three stages on their own threads.
/// After a failed batch, the batches queued behind it are dropped, not committed: the caller sees the
/// failure at its next `drain()` and stops.
final class PipelinedCommitter: @unchecked Sendable {
    // @unchecked Sendable: `queued`, `closed`, `completed` and `failure` are read and written only
    // inside `state.sync`; the writer thread keeps its own state (the input lines of its batches).
    private let state = DispatchQueue(label: "touchlog.ingest.state")
    private let slots: DispatchSemaphore
    private let available = DispatchSemaphore(value: 0)
    private let writerDone = DispatchSemaphore(value: 0)
    private var queued: [(batch: [AppendRequest], lines: [Int])] = []
    /// Set by the first `finish()`: no more batches come.
    private var closed = false
    private var completed: [CommittedBatch] = []
    private var failure: (any Error)?
    /// The input lines of the requests of the batch that failed.
    private var failedLines: [Int] = []

    init(log: EventLog, depth: Int, conflicts: IdentityConflictHandling) {
        slots = DispatchSemaphore(value: depth)
        let writer = Thread { [self] in
            // The input lines of the batches taken and not yet committed, oldest first.
            var lines: [[Int]] = []
            let batches = AnySequence { [self] in
                AnyIterator { () -> [AppendRequest]? in
                    guard let next = self.take() else { return nil }
                    lines.append(next.lines)
                    return next.batch
                }
            }
            do {
                try log.append(batches: batches, conflicts: conflicts) { result in
                    let committed = CommittedBatch(result: result, lines: lines.removeFirst())
                    state.sync { completed.append(committed) }
                }
            } catch {
                let failed = lines.first ?? []
                state.sync {
                    if failure == nil {
                        failure = error
                        failedLines = failed
                    }
                }
                // Drop what is queued or still submitted, so that no caller waits for a slot.
                while take() != nil {}
            }
            writerDone.signal()
        }
        writer.name = "touchlog.ingest.writer"
        writer.start()
    }

    /// What one committed batch did, event by event, and the input line of each of its events.
    struct CommittedBatch {
        var result: AppendResult
        var lines: [Int]
        /// The input line of the batch's last event.
        var throughLine: Int { lines.last ?? 0 }
    }

    /// Queues `batch` for the writer; blocks while `depth` batches are already waiting. Dropped after
    /// a failure.
    func submit(_ batch: [AppendRequest], lines: [Int]) {
        if state.sync(execute: { failure != nil || closed }) { return }
        slots.wait()
        state.sync { queued.append((batch, lines)) }
        available.signal()
    }

    /// The next queued batch, waiting for one; nil once the queue is closed and empty.
    private func take() -> (batch: [AppendRequest], lines: [Int])? {
        available.wait()
        let next = state.sync { queued.isEmpty ? nil : queued.removeFirst() }
        if next != nil {
            slots.signal()
        } else {
            // Closed: leave the signal for the next call, which must also see the end.
            available.signal()
        }
        return next
    }

    /// The batches committed since the last call, in order, and the failure if one happened with the
    /// input lines of the batch that failed.
    func drain() -> (results: [CommittedBatch], failure: (error: any Error, lines: [Int])?) {
        state.sync {
            defer { completed.removeAll() }
            return (completed, failure.map { ($0, failedLines) })
        }
    }

    /// Waits until every queued batch has committed or been dropped. Later calls return at once.
    func finish() {
        let first = state.sync { () -> Bool in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        available.signal()
        writerDone.wait()
    }
}
