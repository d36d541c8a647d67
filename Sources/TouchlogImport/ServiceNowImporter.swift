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

/// Imports a ServiceNow incident audit export (CSV, plain or gzip) into the log.
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

    public init() {}

    /// Imports every row of `input` (named `name` in messages) into `log`.
    /// - Throws: `ImportError` for an unreadable row in strict mode or an unreadable input; `StoreError`
    ///   when the store fails (the failing batch is not written).
    public func run<Source: ByteSource>(_ input: Source, named name: String, into log: EventLog) throws
        -> ServiceNowImportSummary
    {
        var reader = CSVReader(input)
        var summary = ServiceNowImportSummary()
        var batch: [AppendRequest] = []
        batch.reserveCapacity(batchSize + 256)
        let mapper = IncidentMapper(source: source)

        func commit() throws {
            guard !batch.isEmpty else { return }
            let result = try log.append(batch)
            summary.appended += result.appended
            summary.duplicates += result.duplicates
            batch.removeAll(keepingCapacity: true)
            progress?(summary)
        }

        func reject(line: Int?, text: String, bytes: [UInt8]? = nil, reason: String) throws {
            guard let rejectHandler else {
                throw ImportError(
                    file: name, line: line, reason: reason, committed: summary, isReadFailure: false)
            }
            summary.rejected += 1
            try rejectHandler(RejectedRow(line: line ?? 0, text: text, reason: reason, bytes: bytes))
        }

        func importIncident(_ rows: [IncidentRow]) throws {
            guard !rows.isEmpty else { return }
            do {
                let touchpoints = try mapper.events(for: rows)
                summary.incidents += 1
                summary.events += touchpoints.count
                batch.append(contentsOf: touchpoints.map { AppendRequest($0) })
                if let incidentHandler, let last = IncidentMapper.order(rows).last?.row {
                    incidentHandler(IncidentFacts(number: last.number, lastRow: last))
                }
            } catch {
                // The whole incident is set aside; count its other rows too.
                if rejectHandler != nil { summary.rejected += rows.count - 1 }
                try reject(line: error.line, text: "", reason: "incident \(rows[0].number): \(error.message)")
            }
            if batch.count >= batchSize { try commit() }
        }

        // The header.
        let columns: IncidentColumns
        do {
            guard let header = try reader.next() else {
                throw ImportError(
                    file: name, line: nil, reason: "the input is empty", committed: summary,
                    isReadFailure: false)
            }
            columns = try IncidentColumns(header: header)
        } catch let error as CSVError {
            throw ImportError(
                file: name, line: error.line, reason: error.message, committed: summary,
                isReadFailure: error.readFailure.map { !$0.isDataError } ?? false)
        } catch let error as RowError {
            throw ImportError(
                file: name, line: 1, reason: error.message, committed: summary, isReadFailure: false)
        }

        var current: [IncidentRow] = []
        var finished: Set<String> = []
        var grouped: [String: [IncidentRow]] = [:]
        var groupOrder: [String] = []

        while true {
            let record: CSVRecord
            do {
                guard let next = try reader.next() else { break }
                record = next
            } catch {
                guard error.isRecoverable else {
                    let readFailure = error.readFailure.map { !$0.isDataError } ?? false
                    throw ImportError(
                        file: name, line: error.readFailure == nil ? error.line : nil, reason: error.message,
                        committed: summary, isReadFailure: readFailure)
                }
                summary.rows += 1
                try reject(line: error.line, text: "", reason: error.message)
                continue
            }
            summary.rows += 1
            let row: IncidentRow
            do {
                row = try columns.row(record)
            } catch {
                try reject(
                    line: record.line, text: record.csvText, bytes: record.csvBytes, reason: error.message)
                continue
            }
            if groupsInMemory {
                if grouped[row.number] == nil { groupOrder.append(row.number) }
                grouped[row.number, default: []].append(row)
                continue
            }
            if let number = current.first?.number, number != row.number {
                finished.insert(number)
                try importIncident(current)
                current.removeAll(keepingCapacity: true)
            }
            if finished.contains(row.number) {
                try reject(
                    line: row.line, text: record.csvText, bytes: record.csvBytes,
                    reason:
                        "incident \(row.number) has rows earlier in the file, with other incidents between: "
                        + "import the export with --group-in-memory")
                continue
            }
            current.append(row)
        }
        if groupsInMemory {
            for number in groupOrder {
                try importIncident(grouped.removeValue(forKey: number) ?? [])
            }
        } else {
            try importIncident(current)
        }
        try commit()
        return summary
    }
}
