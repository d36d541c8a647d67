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
    private var queued: [(batch: [AppendRequest], throughLine: Int)] = []
    /// Set by the first `finish()`: no more batches come.
    private var closed = false
    private var completed: [CommittedBatch] = []
    private var failure: (any Error)?

    init(log: EventLog, depth: Int) {
        slots = DispatchSemaphore(value: depth)
        let writer = Thread { [self] in
            var throughLines: [Int] = []
            let batches = AnySequence { [self] in
                AnyIterator { () -> [AppendRequest]? in
                    guard let next = self.take() else { return nil }
                    throughLines.append(next.throughLine)
                    return next.batch
                }
            }
            do {
                try log.append(batches: batches) { result in
                    let committed = CommittedBatch(result: result, throughLine: throughLines.removeFirst())
                    state.sync { completed.append(committed) }
                }
            } catch {
                state.sync { if failure == nil { failure = error } }
                // Drop what is queued or still submitted, so that no caller waits for a slot.
                while take() != nil {}
            }
            writerDone.signal()
        }
        writer.name = "touchlog.ingest.writer"
        writer.start()
    }

    /// What one committed batch did, event by event; `throughLine` is the input line of its last event.
    struct CommittedBatch {
        var result: AppendResult
        var throughLine: Int
    }

    /// Queues `batch` for the writer; blocks while `depth` batches are already waiting. Dropped after
    /// a failure.
    func submit(_ batch: [AppendRequest], throughLine: Int) {
        if state.sync(execute: { failure != nil || closed }) { return }
        slots.wait()
        state.sync { queued.append((batch, throughLine)) }
        available.signal()
    }

    /// The next queued batch, waiting for one; nil once the queue is closed and empty.
    private func take() -> (batch: [AppendRequest], throughLine: Int)? {
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

    /// The counts of the batches committed since the last call, in order, and the failure if one happened.
    func drain() -> (results: [CommittedBatch], failure: (any Error)?) {
        state.sync {
            defer { completed.removeAll() }
            return (completed, failure)
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
