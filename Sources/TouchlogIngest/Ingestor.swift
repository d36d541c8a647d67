import CloudEvents
import Dispatch
import Foundation
import TouchlogDomain
import TouchlogStore

/// Counts of one ingest, as `touchlog ingest` prints them.
public struct IngestSummary: Sendable, Equatable, Codable {
    /// Events read from the input (valid or not).
    public var read = 0
    /// Events newly stored.
    public var appended = 0
    /// Events already in the log (same `source` + `id`), acknowledged and not stored again.
    public var duplicates = 0
    /// Invalid events written to the rejects file (only with a reject handler).
    public var rejected = 0

    public init() {}
}

/// A bad event stopped a strict ingest: `FILE:LINE: reason`. Batches committed before it stay committed.
public struct IngestError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var reason: String
    /// What was committed before the error (the batch holding the bad event is not among it).
    public var committed: IngestSummary
    /// True when the input itself could not be read (an I/O error), rather than holding a bad event.
    public var isReadFailure: Bool

    public var description: String {
        if let line { return "\(file):\(line): \(reason)" }
        return "\(file): \(reason)"
    }
}

/// An invalid event that a lenient ingest set aside.
public struct RejectedEvent: Sendable {
    public var line: Int
    /// The event's bytes as read, exactly; for an over-long event only its start (see `length`).
    public var bytes: [UInt8]
    /// The event's whole length in bytes: more than `bytes.count` when only its start was kept.
    public var length: Int
    public var reason: String
}

/// Reads CloudEvents from an input, validates them and appends them to the log in batches.
public struct Ingestor {
    /// Events per atomic, durable commit.
    public var batchSize = 10_000
    /// Without a handler, the first invalid event stops the ingest (strict). With one, each invalid
    /// event goes to it and the ingest goes on.
    public var rejectHandler: ((RejectedEvent) throws -> Void)?
    /// Called after each committed batch with the running counts.
    public var progress: ((IngestSummary) -> Void)?
    /// Called after each committed (durable, acknowledged) batch with the running counts and the input
    /// line of the batch's last event: every event up to that line is now in the log.
    public var commitHandler: ((_ summary: IngestSummary, _ throughLine: Int) throws -> Void)?

    public init() {}

    /// Ingests every event of `input` (named `name` in messages) into `log`.
    /// - Throws: `IngestError` for a bad event in strict mode or an unreadable input; `StoreError`
    ///   when the store fails (the failing batch is not written).
    public func ingest(_ input: inout EventInputReader, named name: String, into log: EventLog) throws
        -> IngestSummary
    {
        var summary = IngestSummary()
        var batch: [AppendRequest] = []
        batch.reserveCapacity(batchSize)
        // Reading, parsing and validating go on here while the previous batch commits on the writer
        // thread (two cores: one parses, one writes). Counts move into `summary` only once their batch
        // has committed, so what is reported is what is durable.
        let committer = PipelinedCommitter(log: log, depth: 2)
        defer { committer.finish() }
        var lastLine = 0

        func collect() throws {
            let (results, failure) = committer.drain()
            for result in results {
                summary.appended += result.appended
                summary.duplicates += result.duplicates
                progress?(summary)
                try commitHandler?(summary, result.throughLine)
            }
            if let failure { throw failure }
        }

        func commit() throws {
            guard !batch.isEmpty else { return }
            committer.submit(batch, throughLine: lastLine)
            batch = []
            batch.reserveCapacity(batchSize)
            try collect()
        }

        /// Stops the ingest: waits for the batches already handed to the writer, then throws.
        func stop(line: Int?, reason: String, isReadFailure: Bool) throws -> Never {
            committer.finish()
            try collect()
            throw IngestError(
                file: name, line: line, reason: reason, committed: summary, isReadFailure: isReadFailure)
        }

        func reject(line: Int?, bytes: [UInt8], length: Int? = nil, reason: String) throws {
            guard let rejectHandler else { try stop(line: line, reason: reason, isReadFailure: false) }
            summary.rejected += 1
            try rejectHandler(
                RejectedEvent(line: line ?? 0, bytes: bytes, length: length ?? bytes.count, reason: reason))
        }

        while true {
            let record: EventInputRecord
            do {
                guard let next = try input.next() else { break }
                record = next
            } catch {
                guard error.isRecoverable else {
                    try stop(line: error.line, reason: error.message, isReadFailure: error.isReadFailure)
                }
                summary.read += 1
                try reject(line: error.line, bytes: error.bytes, length: error.length, reason: error.message)
                continue
            }
            summary.read += 1
            do throws(CloudEventError) {
                let parsed = try CloudEvent.parse(json: record.bytes)
                batch.append(AppendRequest(try Touchpoint(validating: parsed)))
                lastLine = record.line
            } catch {
                try reject(line: record.line, bytes: record.bytes, reason: error.description)
                continue
            }
            if batch.count >= batchSize { try commit() }
        }
        try commit()
        committer.finish()
        try collect()
        return summary
    }
}

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
                    let committed = CommittedBatch(
                        appended: result.appended, duplicates: result.duplicates,
                        throughLine: throughLines.removeFirst())
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

    /// What one committed batch did; `throughLine` is the input line of its last event.
    struct CommittedBatch {
        var appended: Int
        var duplicates: Int
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
