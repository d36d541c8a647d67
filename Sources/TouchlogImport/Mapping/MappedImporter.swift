import CloudEvents
import TouchlogDomain
import TouchlogIngest
import TouchlogStore

/// The counts of a mapped import.
public struct MappedImportSummary: Sendable, Equatable, Codable {
    /// Data rows read (the header not counted; for JSON, one per record, or per element of `each`).
    public var rows = 0
    /// Cases mapped (with no `[case]`, one per row).
    public var cases = 0
    /// Events the rows yielded.
    public var events = 0
    /// Events newly stored.
    public var appended = 0
    /// Events already in the log (same `source` + `id`): an earlier import of the same rows.
    public var duplicates = 0
    /// Rows set aside (only with a reject handler).
    public var rejected = 0

    public init() {}
}

/// A row that could not be read stopped a strict import (`FILE:LINE: reason`), or the input could not be
/// read. Batches committed before it stay committed.
public struct ImportError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var reason: String
    /// What was committed before the error.
    public var committed: MappedImportSummary
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
    public var reason: String
    /// The input it came from, exactly: the CSV record, or the JSON record.
    public var bytes: [UInt8]

    public init(line: Int, reason: String, bytes: [UInt8]) {
        self.line = line
        self.reason = reason
        self.bytes = bytes
    }
}

/// What one case of the input became: its id, its events with the line of the row of each, and a
/// look-up of its last row's fields by name (for checks against an export's own counters).
public struct MappedCase {
    public var id: String?
    public var events: [(line: Int, touchpoint: Touchpoint)]
    /// The value of the field `name` on the case's last row (in case order), or nil.
    public let lastField: (String) -> String?
}

/// Imports an export through a declarative mapping (`ImportMapping`), through the one ingest pipeline:
/// batches committed durably, then the projections brought up to date.
///
/// Streams the input: rows are read one at a time; a case's rows are held until the next case starts, then
/// mapped and appended in atomic batches of about `batchSize` events (a case's events are never split
/// between batches). Memory: one case's rows, one batch and the set of case ids already done. Inputs whose
/// cases are not contiguous need `groupsInMemory`, which holds every row until the end.
public struct MappedImporter {
    public var mapping: ImportMapping
    /// Events per atomic, durable commit (a batch ends after the case that reaches it).
    public var batchSize = 10_000
    /// Without a handler, the first unreadable row stops the import (strict). With one, each goes to it.
    public var rejectHandler: ((RejectedRow) throws -> Void)?
    /// Called after each committed batch with the running counts.
    public var progress: ((MappedImportSummary) -> Void)?
    /// Collect every row until the end, for inputs whose cases are not contiguous.
    public var groupsInMemory = false
    /// Called with each case once mapped.
    public var caseHandler: ((MappedCase) -> Void)?
    /// Bring the projections up to date after the last commit.
    public var updatesProjections = true

    public init(mapping: ImportMapping) { self.mapping = mapping }

    /// Imports every row of `input` (named `name` in messages) into `store`.
    /// - Throws: `ImportError` for an unreadable row in strict mode or an unreadable input; `StoreError`
    ///   when the store fails; `ProjectionUpdateError` when everything was committed but the projections
    ///   could not follow.
    public func run<Input: ByteSource>(_ input: Input, named name: String, into store: Store) throws
        -> MappedImportSummary
    {
        var source = MappedSource(
            input, mapping: mapping, groupsInMemory: groupsInMemory, strict: rejectHandler == nil,
            caseHandler: caseHandler)
        let counts = source.counts
        func summary(_ ingest: IngestSummary) -> MappedImportSummary {
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
                    RejectedRow(line: rejected.line, reason: rejected.reason, bytes: rejected.bytes))
            }
        }
        if let progress { pipeline.progress = { progress(summary($0)) } }
        do {
            return summary(try pipeline.run(&source, named: name, into: store))
        } catch let error as IngestError {
            throw ImportError(
                file: error.file, line: error.line, reason: error.reason, committed: summary(error.committed),
                isReadFailure: error.isReadFailure)
        }
    }
}

/// The rows of an input as ingest items: one item per case, holding its events.
struct MappedSource<Input: ByteSource>: IngestSource {
    /// The counts that only the source knows, shared with the importer while the pipeline reads.
    final class Counts {
        var summary = MappedImportSummary()
        /// For a dry run: the lines of the first `sampleLimit` rows.
        var sampleLimit = 0
        var sampleLines: Set<Int> = []
    }

    /// What the source yields before it becomes an ingest item.
    enum Item {
        case events([(line: Int, touchpoint: Touchpoint)], line: Int, bytes: Int)
        case rejected(RejectedEvent)
    }

    let counts = Counts()
    private var reader: RowReader<Input>
    private let mapper: CaseMapper
    private let groupsInMemory: Bool
    private let strict: Bool
    private let caseHandler: ((MappedCase) -> Void)?
    private var current: [EvaluatedRow] = []
    private var currentID: String?
    private var currentBytes = 0
    private var finished: Set<String> = []
    private var grouped: [String: [EvaluatedRow]] = [:]
    private var groupOrder: [String] = []
    private var ended = false
    /// `[thread]`: each row id's thread, and each thread's first row.
    private var threadOf: [String: String] = [:]
    private var threadRoots: [String: EvaluatedRow] = [:]
    private var ready: [Item] = []
    private var readyIndex = 0

    init(
        _ input: Input, mapping: ImportMapping, groupsInMemory: Bool, strict: Bool,
        caseHandler: ((MappedCase) -> Void)?
    ) {
        reader = RowReader(input, mapping: mapping)
        mapper = CaseMapper(mapping: mapping)
        self.groupsInMemory = groupsInMemory
        self.strict = strict
        self.caseHandler = caseHandler
    }

    mutating func next() throws(IngestReadError) -> IngestItem? {
        switch try nextItem() {
        case nil: return nil
        case .events(let events, let line, let bytes)?:
            return .events(events.map { AppendRequest($0.touchpoint) }, line: line, bytes: bytes)
        case .rejected(let rejected)?:
            return .invalid(rejected)
        }
    }

    /// The next case's events, or a row set aside; nil at the end.
    mutating func nextItem() throws(IngestReadError) -> Item? {
        while readyIndex == ready.count && !ended {
            ready.removeAll(keepingCapacity: true)
            readyIndex = 0
            try readRow()
        }
        guard readyIndex < ready.count else { return nil }
        defer { readyIndex += 1 }
        return ready[readyIndex]
    }

    /// Reads one row; queues what it completes.
    private mutating func readRow() throws(IngestReadError) {
        let input: InputRow
        do {
            guard let next = try reader.next() else {
                endInput()
                return
            }
            input = next
        } catch {
            guard error.isRecoverable else {
                throw IngestReadError(line: error.line, reason: error.message, isIOFailure: error.isIOFailure)
            }
            counts.summary.rows += 1
            reject(line: error.line, bytes: error.bytes, reason: error.message)
            return
        }
        counts.summary.rows += 1
        if mapper.columnPositions == nil, let index = reader.headerIndex {
            mapper.columnPositions = index.map { $0 + 1 }
        }
        if counts.summary.rows <= counts.sampleLimit { counts.sampleLines.insert(input.line) }
        var row: EvaluatedRow
        let id: String?
        let thread: (id: String, parent: String?)?
        do {
            row = try mapper.evaluate(input)
            id = try mapper.caseID(of: row)
            thread = try mapper.threadIDs(of: row)
        } catch {
            reject(line: input.line, bytes: input.input.bytes, reason: error.message)
            return
        }
        if let thread {
            // A reply belongs to its parent's thread; a row with no parent, or one not seen, starts its own.
            let root = thread.parent.flatMap { threadOf[$0] } ?? thread.id
            threadOf[thread.id] = root
            row.thread = root
            if root == thread.id {
                var kept = row
                kept.input = .none
                threadRoots[root] = kept
            }
            var single = [row]
            complete(&single, id: nil, bytes: input.input.size, root: threadRoots[root])
            return
        }
        guard let id else {
            var single = [row]
            complete(&single, id: nil, bytes: input.input.size)
            return
        }
        if groupsInMemory {
            if grouped[id] == nil { groupOrder.append(id) }
            grouped[id, default: []].append(row)
            return
        }
        if let currentID, currentID != id {
            finished.insert(currentID)
            var rows = current
            current = []
            complete(&rows, id: currentID, bytes: currentBytes)
            currentBytes = 0
        }
        if finished.contains(id) {
            currentID = nil
            reject(
                line: input.line, bytes: input.input.bytes,
                reason: "case '\(id)' has rows earlier in the file, with other cases between: "
                    + "import with --group-in-memory")
            return
        }
        currentID = id
        current.append(row)
        currentBytes += input.input.size
    }

    private mutating func endInput() {
        ended = true
        if groupsInMemory {
            for id in groupOrder {
                var rows = grouped.removeValue(forKey: id) ?? []
                complete(&rows, id: id, bytes: 0)
            }
        } else if let currentID {
            var rows = current
            current = []
            complete(&rows, id: currentID, bytes: currentBytes)
        }
    }

    /// Maps a case's rows to its events, or sets the case aside.
    private mutating func complete(
        _ rows: inout [EvaluatedRow], id: String?, bytes: Int, root: EvaluatedRow? = nil
    ) {
        guard !rows.isEmpty else { return }
        // The line of the case's last row in the input, before the rows are put in case order.
        let lastLine = rows[rows.count - 1].line
        mapper.order(&rows)
        let ordered = rows
        do {
            let events = try mapper.events(for: ordered, root: root)
            counts.summary.cases += 1
            counts.summary.events += events.count
            if let caseHandler {
                let mapping = mapper.mapping
                let last = ordered[ordered.count - 1]
                caseHandler(
                    MappedCase(
                        id: id, events: events,
                        lastField: { name in mapping.field(named: name).flatMap { last.fields[$0]?.text } }))
            }
            ready.append(.events(events, line: lastLine, bytes: bytes))
        } catch {
            // The whole case is set aside; count its other rows too.
            if !strict { counts.summary.rejected += rows.count - 1 }
            let prefix = id.map { "case '\($0)': " } ?? ""
            reject(
                line: error.line, bytes: rows.first { $0.line == error.line }?.input.bytes ?? [],
                reason: prefix + error.message)
        }
    }

    private mutating func reject(line: Int?, bytes: [UInt8], reason: String) {
        if !strict { counts.summary.rejected += 1 }
        ready.append(.rejected(RejectedEvent(line: line ?? 0, bytes: bytes, reason: reason)))
    }
}

/// What `touchlog import --dry-run` reports: counts for the whole input and the events of its first rows.
public struct DryRunReport: Sendable {
    public var rows = 0
    public var cases = 0
    public var events = 0
    public var eventsByType: [String: Int] = [:]
    public var customers = 0
    public var tickets = 0
    /// Rows that would be set aside, with the first few reasons (`FILE:LINE: reason`).
    public var rejected = 0
    public var rejections: [String] = []
    /// The events of the first `sampleRows` rows, in order, with each one's row line.
    public var sample: [(line: Int, event: CloudEvent)] = []
}

extension MappedImporter {
    /// Maps the whole input without a store: counts, and the events of the first `sampleRows` rows.
    /// Rows that cannot be read are counted and the first `sampleRows` reasons kept; nothing stops but an
    /// unreadable input.
    /// - Throws: `ImportError` when the input cannot be read any further.
    public func dryRun<Input: ByteSource>(_ input: Input, named name: String, sampleRows: Int = 5)
        throws(ImportError)
        -> DryRunReport
    {
        var report = DryRunReport()
        var source = MappedSource(
            input, mapping: mapping, groupsInMemory: groupsInMemory, strict: false, caseHandler: caseHandler)
        source.counts.sampleLimit = sampleRows
        var customers: Set<String> = []
        var tickets: Set<String> = []
        do {
            while let item = try source.nextItem() {
                switch item {
                case .events(let events, _, _):
                    for (line, touchpoint) in events {
                        report.eventsByType[touchpoint.event.type, default: 0] += 1
                        customers.insert(touchpoint.customer)
                        if let ticket = touchpoint.ticketID { tickets.insert(ticket) }
                        if source.counts.sampleLines.contains(line) {
                            report.sample.append((line, touchpoint.event))
                        }
                    }
                case .rejected(let rejected):
                    if report.rejections.count < sampleRows {
                        report.rejections.append("\(name):\(rejected.line): \(rejected.reason)")
                    }
                }
            }
        } catch {
            throw ImportError(
                file: name, line: error.line, reason: error.reason, committed: MappedImportSummary(),
                isReadFailure: error.isIOFailure)
        }
        report.rows = source.counts.summary.rows
        report.cases = source.counts.summary.cases
        report.events = source.counts.summary.events
        report.rejected = source.counts.summary.rejected
        report.customers = customers.count
        report.tickets = tickets.count
        return report
    }
}
