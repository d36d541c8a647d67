import CloudEvents
import TouchlogDomain
import TouchlogProjections
import TouchlogStore

/// What an ingest source yields, in input order.
public enum IngestItem: Sendable {
    /// Events committed together, in one batch: one input event, or the events of one imported case.
    /// `line` is the input line of the last of them; `bytes` about how much input they came from.
    case events([AppendRequest], line: Int, bytes: Int)
    /// Input that is not valid: a strict ingest stops at it, a lenient one sets it aside and goes on.
    case invalid(RejectedEvent)
}

/// The input could not be read any further (an I/O error, a malformed batch array, corrupt gzip data).
public struct IngestReadError: Error, Sendable {
    public var line: Int?
    public var reason: String
    /// True for an I/O failure, false when the bytes themselves are malformed.
    public var isIOFailure: Bool

    public init(line: Int?, reason: String, isIOFailure: Bool) {
        self.line = line
        self.reason = reason
        self.isIOFailure = isIOFailure
    }
}

/// Where an ingest reads its events: CloudEvents JSON (`CloudEventSource`), an export mapped to events
/// (the importers), a request body.
public protocol IngestSource: ~Copyable {
    /// The next item; nil at the end of the input.
    /// - Throws: `IngestReadError` when the input cannot be read any further.
    mutating func next() throws(IngestReadError) -> IngestItem?
}

/// The events were committed, but bringing the projections up to date afterwards failed. They catch up
/// on the next command that reads them.
public struct ProjectionUpdateError: Error, CustomStringConvertible {
    /// What was committed.
    public var committed: IngestSummary
    public var cause: any Error

    public var description: String {
        "the events were committed (\(committed.appended) appended), but updating the projections failed: "
            + "\(cause); they catch up on the next command that reads them"
    }
}

/// The one ingest pipeline: read, validate, batch, prepare, commit durably, then bring the projections
/// up to date. `touchlog ingest`, `import` and `append`, the benchmarks and the service all go through it.
///
/// Reading and validating run on the calling thread while the batch before commits on a writer thread
/// (`PipelinedCommitter`), which itself prepares each batch while the one before it commits. A batch
/// ends at `batchSize` events or `batchBytes` bytes of input, never inside an item. Counts move into
/// the summary only once their batch has committed, so what is reported is what is durable.
public struct IngestPipeline {
    /// Events per atomic, durable commit.
    public var batchSize = 10_000
    /// Input bytes per commit: with large events a batch ends earlier, so that memory stays bounded.
    public var batchBytes = 64 << 20
    /// Without a handler, the first invalid item stops the ingest (strict). With one, each invalid item
    /// goes to it and the ingest goes on.
    public var rejectHandler: ((RejectedEvent) throws -> Void)?
    /// Called after each committed batch with the running counts.
    public var progress: ((IngestSummary) -> Void)?
    /// Called after each committed (durable, acknowledged) batch with the running counts, the input line
    /// of the batch's last event (every event up to it is now in the log) and the batch's outcomes.
    public var commitHandler:
        ((_ summary: IngestSummary, _ throughLine: Int, _ result: AppendResult) throws -> Void)?
    /// Bring the projections up to date after the last commit.
    public var updatesProjections = true
    /// Called during the projections' catch-up with the number of events folded so far.
    public var projectionProgress: ((UInt64) -> Void)?

    public init() {}

    /// Ingests every item of `source` (named `name` in messages) into `store`, then catches the
    /// projections up.
    /// - Throws: `IngestError` for an invalid item in strict mode or an unreadable input (batches before
    ///   it stay committed); `StoreError` when the store fails (the failing batch is not written);
    ///   `ProjectionUpdateError` when everything was committed but the projections could not follow.
    public func run(_ source: inout some IngestSource & ~Copyable, named name: String, into store: Store)
        throws -> IngestSummary
    {
        let summary = try append(&source, named: name, into: store.log)
        guard updatesProjections, summary.appended > 0 || summary.duplicates > 0 else { return summary }
        do {
            _ = try ProjectionStore(store: store).catchUp(progress: projectionProgress)
        } catch {
            throw ProjectionUpdateError(committed: summary, cause: error)
        }
        return summary
    }

    /// Reads, validates and commits; no projections.
    private func append(_ source: inout some IngestSource & ~Copyable, named name: String, into log: EventLog)
        throws -> IngestSummary
    {
        var summary = IngestSummary()
        var batch: [AppendRequest] = []
        // Not `batchSize`: an over-large --batch-size must not allocate its whole size up front.
        batch.reserveCapacity(min(batchSize, 16_384))
        var lines: [Int] = []
        var batchInputBytes = 0
        // Strict: a conflict under a known identity stops the ingest with nothing of its batch written.
        // Lenient: the log stores the rest and reports it, and it goes to the reject handler.
        let committer = PipelinedCommitter(
            log: log, depth: 2, conflicts: rejectHandler == nil ? .fail : .report)
        defer { committer.finish() }

        func collect() throws {
            let (results, failure) = committer.drain()
            for committed in results {
                summary.appended += committed.result.appended
                summary.duplicates += committed.result.duplicates
                for (index, outcome) in committed.result.outcomes.enumerated() {
                    guard case .conflict(let position) = outcome, let rejectHandler else { continue }
                    summary.conflicts += 1
                    summary.rejected += 1
                    try rejectHandler(
                        RejectedEvent(
                            line: committed.lines[index], bytes: [],
                            reason: IngestPipeline.conflictReason(position: position)))
                }
                progress?(summary)
                try commitHandler?(summary, committed.throughLine, committed.result)
            }
            guard let (error, failedLines) = failure else { return }
            if case .identityConflict(_, _, let position, let index) = error as? StoreError {
                summary.conflicts += 1
                throw IngestError(
                    file: name, line: index < failedLines.count ? failedLines[index] : nil,
                    reason: IngestPipeline.conflictReason(position: position), committed: summary,
                    isReadFailure: false)
            }
            throw error
        }

        func commit() throws {
            guard !batch.isEmpty else { return }
            committer.submit(batch, lines: lines)
            batch = []
            batch.reserveCapacity(min(batchSize, 16_384))
            lines = []
            batchInputBytes = 0
            try collect()
        }

        /// Stops the ingest: waits for the batches already handed to the writer, then throws.
        func stop(line: Int?, reason: String, isReadFailure: Bool) throws -> Never {
            committer.finish()
            try collect()
            throw IngestError(
                file: name, line: line, reason: reason, committed: summary, isReadFailure: isReadFailure)
        }

        while true {
            let item: IngestItem
            do {
                guard let next = try source.next() else { break }
                item = next
            } catch {
                try stop(line: error.line, reason: error.reason, isReadFailure: error.isIOFailure)
            }
            summary.read += 1
            switch item {
            case .invalid(let rejected):
                guard let rejectHandler else {
                    try stop(line: rejected.line, reason: rejected.reason, isReadFailure: false)
                }
                summary.rejected += 1
                try rejectHandler(rejected)
            case .events(let requests, let line, let bytes):
                if !batch.isEmpty
                    && (batch.count + requests.count > batchSize || batchInputBytes + bytes > batchBytes)
                {
                    try commit()
                }
                batch.append(contentsOf: requests)
                lines.append(contentsOf: repeatElement(line, count: requests.count))
                batchInputBytes += bytes
                if batch.count >= batchSize || batchInputBytes >= batchBytes { try commit() }
            }
        }
        try commit()
        committer.finish()
        try collect()
        return summary
    }
}

extension IngestPipeline {
    /// Why an event under a known identity with other content is refused.
    static func conflictReason(position: UInt64) -> String {
        "its source and id are already in the log at position \(position) with other content: "
            + "a conflict, not a retry (give the changed event an id of its own)"
    }
}

/// CloudEvents JSON Lines or a batch array, each event parsed and checked against Touchlog's rules.
public struct CloudEventSource: IngestSource, ~Copyable {
    private var reader: EventInputReader

    public init(_ reader: consuming EventInputReader) {
        self.reader = reader
    }

    public mutating func next() throws(IngestReadError) -> IngestItem? {
        let record: EventInputRecord
        do {
            guard let next = try reader.next() else { return nil }
            record = next
        } catch {
            guard error.isRecoverable else {
                throw IngestReadError(
                    line: error.line, reason: error.message, isIOFailure: error.isReadFailure)
            }
            return .invalid(
                RejectedEvent(
                    line: error.line ?? 0, bytes: error.bytes, length: error.length, reason: error.message))
        }
        do throws(CloudEventError) {
            let parsed = try CloudEvent.parse(json: record.bytes)
            let touchpoint = try Touchpoint(validating: parsed)
            return .events([AppendRequest(touchpoint)], line: record.line, bytes: record.bytes.count)
        } catch {
            return .invalid(RejectedEvent(line: record.line, bytes: record.bytes, reason: error.description))
        }
    }
}

/// Requests already built in memory (`touchlog append`, tests, the service), each its own item.
public struct RequestSource: IngestSource {
    private var requests: [AppendRequest]
    private var index = 0

    public init(_ requests: [AppendRequest]) { self.requests = requests }

    public mutating func next() throws(IngestReadError) -> IngestItem? {
        guard index < requests.count else { return nil }
        defer { index += 1 }
        return .events([requests[index]], line: index + 1, bytes: 0)
    }
}
