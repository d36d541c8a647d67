import CloudEvents
import TouchlogDomain
import TouchlogIngest
import TouchlogStore

/// Counts of one import, as `touchlog import servicenow` prints them.
public struct ServiceNowImportSummary: Sendable, Equatable, Codable {
    /// Rows read from the export (not counting the header), readable or not.
    public var rows = 0
    /// Incidents turned into events.
    public var incidents = 0
    /// Events made from them.
    public var events = 0
    /// Events newly stored.
    public var appended = 0
    /// Events already in the log (same `source` + `id`): an earlier import of the same rows.
    public var duplicates = 0
    /// Rows set aside as unreadable (only with a reject handler).
    public var rejected = 0

    public init() {}
}

/// An unreadable row stopped a strict import (`FILE:LINE: reason`), or the input could not be read.
/// Batches committed before it stay committed.
public struct ImportError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var reason: String
    /// What was committed before the error.
    public var committed: ServiceNowImportSummary
    /// True when the input could not be read (an I/O error) rather than holding bad data.
    public var isReadFailure: Bool

    public var description: String {
        if let line { return "\(file):\(line): \(reason)" }
        return "\(file): \(reason)"
    }
}

/// A row that a lenient import set aside.
public struct RejectedRow: Sendable, Equatable {
    public var line: Int
    /// The row as CSV text (empty when the CSV itself could not be read).
    public var text: String
    public var reason: String
    /// The row as CSV, each field's bytes exactly as read (`text` replaces invalid UTF-8).
    public var bytes: [UInt8]

    public init(line: Int, text: String, reason: String, bytes: [UInt8]? = nil) {
        self.line = line
        self.text = text
        self.reason = reason
        self.bytes = bytes ?? Array(text.utf8)
    }
}

/// What the checks need to know about an incident from the export itself: its last row's counters.
public struct IncidentFacts: Sendable, Equatable {
    public var number: String
    public var lastRow: IncidentRow
}

/// Imports a ServiceNow incident audit export (CSV, plain or gzip) into a store, through the one ingest
/// pipeline (`IngestPipeline`): batches committed durably, then the projections brought up to date.
///
/// Streams the input: an incident's rows are collected until the next incident starts, mapped with
/// `IncidentMapper`, and appended in atomic batches of about `batchSize` events (an incident's events are
/// never split between batches). Memory is one incident's rows, one batch and the set of incident numbers
/// already seen (about 50 bytes each). Exports whose incidents are not contiguous need
/// `groupsInMemory`, which holds every row until the end (about 300 bytes a row).
public struct ServiceNowImporter {
    /// Events per atomic, durable commit (a batch ends after the incident that reaches it).
    public var batchSize = 10_000
    /// The `source` of the events.
    public var source = ServiceNowMapping.defaultSource
    /// Without a handler, the first unreadable row stops the import (strict). With one, each unreadable row
    /// goes to it and the import goes on.
    public var rejectHandler: ((RejectedRow) throws -> Void)?
    /// Called after each committed batch with the running counts.
    public var progress: ((ServiceNowImportSummary) -> Void)?
    /// Collect every row until the end, for exports whose incidents are not contiguous.
    public var groupsInMemory = false
    /// Called with each incident's last row (for the checks against the export's own counters).
    public var incidentHandler: ((IncidentFacts) -> Void)?
    /// Bring the projections up to date after the last commit.
    public var updatesProjections = true

    public init() {}

    /// Imports every row of `input` (named `name` in messages) into `store`.
    /// - Throws: `ImportError` for an unreadable row in strict mode or an unreadable input; `StoreError`
    ///   when the store fails (the failing batch is not written); `ProjectionUpdateError` when everything
    ///   was committed but the projections could not follow.
    public func run<Input: ByteSource>(_ input: Input, named name: String, into store: Store) throws
        -> ServiceNowImportSummary
    {
        var rows = ServiceNowSource(
            input, source: source, groupsInMemory: groupsInMemory, strict: rejectHandler == nil,
            incidentHandler: incidentHandler)
        let counts = rows.counts
        func summary(_ ingest: IngestSummary) -> ServiceNowImportSummary {
            var summary = counts.summary
            summary.appended = ingest.appended
            summary.duplicates = ingest.duplicates
            return summary
        }
        var pipeline = IngestPipeline()
        pipeline.batchSize = batchSize
        pipeline.updatesProjections = updatesProjections
        if let rejectHandler {
            pipeline.rejectHandler = { rejected in
                try rejectHandler(
                    RejectedRow(
                        line: rejected.line, text: String(decoding: rejected.bytes, as: UTF8.self),
                        reason: rejected.reason, bytes: rejected.bytes))
            }
        }
        if let progress { pipeline.progress = { progress(summary($0)) } }
        do {
            return summary(try pipeline.run(&rows, named: name, into: store))
        } catch let error as IngestError {
            throw ImportError(
                file: error.file, line: error.line, reason: error.reason, committed: summary(error.committed),
                isReadFailure: error.isReadFailure)
        }
    }
}

/// The rows of a ServiceNow export as ingest items: one item per incident, holding its events.
struct ServiceNowSource<Input: ByteSource>: IngestSource {
    /// The counts that only the source knows (rows, incidents, events, rows set aside), shared with the
    /// importer while the pipeline reads.
    final class Counts {
        var summary = ServiceNowImportSummary()
    }

    let counts = Counts()
    private var reader: CSVReader<Input>
    private let mapper: IncidentMapper
    private let groupsInMemory: Bool
    /// A strict import stops at the first bad row: nothing is counted as rejected.
    private let strict: Bool
    private let incidentHandler: ((IncidentFacts) -> Void)?
    private var columns: IncidentColumns?
    private var current: [IncidentRow] = []
    private var currentBytes = 0
    private var finished: Set<String> = []
    private var grouped: [String: [IncidentRow]] = [:]
    private var groupOrder: [String] = []
    private var ended = false
    /// Items found while reading a row, given out before reading on (an incident completed by the row,
    /// then the row's own rejection).
    private var ready: [IngestItem] = []

    init(
        _ input: Input, source: String, groupsInMemory: Bool, strict: Bool,
        incidentHandler: ((IncidentFacts) -> Void)?
    ) {
        self.reader = CSVReader(input)
        self.mapper = IncidentMapper(source: source)
        self.groupsInMemory = groupsInMemory
        self.strict = strict
        self.incidentHandler = incidentHandler
    }

    mutating func next() throws(IngestReadError) -> IngestItem? {
        if columns == nil { try readHeader() }
        while ready.isEmpty && !ended { try readRow() }
        return ready.isEmpty ? nil : ready.removeFirst()
    }

    private mutating func readHeader() throws(IngestReadError) {
        do {
            guard let header = try reader.next() else {
                throw IngestReadError(line: nil, reason: "the input is empty", isIOFailure: false)
            }
            columns = try IncidentColumns(header: header)
        } catch let error as CSVError {
            throw IngestReadError(
                line: error.line, reason: error.message,
                isIOFailure: error.readFailure.map { !$0.isDataError } ?? false)
        } catch let error as RowError {
            throw IngestReadError(line: 1, reason: error.message, isIOFailure: false)
        } catch let error as IngestReadError {
            throw error
        } catch {
            throw IngestReadError(line: nil, reason: "\(error)", isIOFailure: false)
        }
    }

    /// Reads one row; queues what it completes.
    private mutating func readRow() throws(IngestReadError) {
        let record: CSVRecord
        do {
            guard let next = try reader.next() else {
                endInput()
                return
            }
            record = next
        } catch {
            guard error.isRecoverable else {
                throw IngestReadError(
                    line: error.readFailure == nil ? error.line : nil, reason: error.message,
                    isIOFailure: error.readFailure.map { !$0.isDataError } ?? false)
            }
            counts.summary.rows += 1
            reject(line: error.line, reason: error.message)
            return
        }
        counts.summary.rows += 1
        guard let columns else { return }
        let row: IncidentRow
        do {
            row = try columns.row(record)
        } catch {
            reject(line: record.line, bytes: record.csvBytes, reason: error.message)
            return
        }
        if groupsInMemory {
            if grouped[row.number] == nil { groupOrder.append(row.number) }
            grouped[row.number, default: []].append(row)
            return
        }
        if let number = current.first?.number, number != row.number {
            finished.insert(number)
            complete(current, bytes: currentBytes)
            current.removeAll(keepingCapacity: true)
            currentBytes = 0
        }
        if finished.contains(row.number) {
            reject(
                line: row.line, bytes: record.csvBytes,
                reason: "incident \(row.number) has rows earlier in the file, with other incidents between: "
                    + "import the export with --group-in-memory")
            return
        }
        current.append(row)
        currentBytes += record.csvText.utf8.count
    }

    private mutating func endInput() {
        ended = true
        if groupsInMemory {
            for number in groupOrder {
                complete(grouped.removeValue(forKey: number) ?? [], bytes: 0)
            }
        } else {
            complete(current, bytes: currentBytes)
            current = []
        }
    }

    /// Maps an incident's rows to its events, or sets the incident aside.
    private mutating func complete(_ rows: [IncidentRow], bytes: Int) {
        guard !rows.isEmpty else { return }
        do {
            let touchpoints = try mapper.events(for: rows)
            counts.summary.incidents += 1
            counts.summary.events += touchpoints.count
            if let incidentHandler, let last = IncidentMapper.order(rows).last?.row {
                incidentHandler(IncidentFacts(number: last.number, lastRow: last))
            }
            ready.append(
                .events(touchpoints.map { AppendRequest($0) }, line: rows[rows.count - 1].line, bytes: bytes))
        } catch {
            // The whole incident is set aside; count its other rows too.
            if !strict { counts.summary.rejected += rows.count - 1 }
            reject(line: error.line, reason: "incident \(rows[0].number): \(error.message)")
        }
    }

    private mutating func reject(line: Int?, bytes: [UInt8] = [], reason: String) {
        if !strict { counts.summary.rejected += 1 }
        ready.append(.invalid(RejectedEvent(line: line ?? 0, bytes: bytes, reason: reason)))
    }
}
