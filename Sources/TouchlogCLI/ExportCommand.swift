import ArgumentParser
import CloudEvents
import Foundation
import TouchlogProjections
import TouchlogStore

#if canImport(Glibc)
    import Glibc
#endif

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export tickets, loyalty scores, rep stats or customers as CSV or JSON Lines.",
        discussion: """
            Reads the projections read-only, in one consistent snapshot, one record at a time, and writes \
            one row (or line) a record in id order, to standard output or to --out FILE (created 0600, \
            replaced if it exists).
            tickets: the fields of 'ticket show --json'; in CSV, anomalies is their count. loyalty: customer, \
            score, tier, as_of and the three parts. reps: each rep's 'rep stats' over all time. customers: \
            the customer, their events, first and last event time, the tickets they own, and their tier.
            CSV follows RFC 4180: a header row, CRLF line ends, a field quoted (with inner quotes doubled) \
            when it holds a comma, a quote, CR or LF. It is formula-safe: a text field that starts with =, \
            +, -, @, a tab or a carriage return is written with a single quote (') in front, so that a \
            spreadsheet shows it as text and never runs it; numbers are written as numbers. Times are UTC \
            RFC 3339; an unset value is an empty field in CSV and null in JSON Lines.
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case tickets, loyalty, reps, customers
    }

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv, jsonl
    }

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "What to export: tickets, loyalty, reps or customers.")
    var kind: Kind
    @Option(help: "csv (the default) or jsonl.")
    var format: Format = .csv
    @Option(
        help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"),
        completion: .file())
    var out: String?

    func run() throws {
        try storeOptions.withProjections { _, projections in
            var sink = try ExportSink(path: out)
            try export(projections, into: &sink)
            try sink.finish()
        }
    }

    private func export(_ projections: ProjectionStore, into sink: inout ExportSink) throws {
        let table: ExportTable
        switch kind {
        case .tickets: table = .tickets
        case .loyalty: table = .loyalty
        case .reps: table = .reps
        case .customers: table = .customers
        }
        if format == .csv {
            try sink.write { CSVWriter.writeRow(table.columns.map(JSONValue.string), into: &$0) }
        }
        func row(_ values: [JSONValue]) throws {
            try sink.write { buffer in
                switch format {
                case .csv: CSVWriter.writeRow(values, into: &buffer)
                case .jsonl:
                    JSONValue.object(zip(table.columns, values).map { JSONMember(key: $0, value: $1) })
                        .write(into: &buffer)
                    buffer.append(0x0A)
                }
            }
        }
        switch kind {
        case .tickets:
            try projections.forEachTicket { ticket in
                if format == .jsonl {
                    // The very line 'ticket list --json' writes: anomalies in full.
                    try sink.write {
                        TicketJSON.write(ticket, into: &$0)
                        $0.append(0x0A)
                    }
                } else {
                    try row(ExportTable.ticketRow(ticket))
                }
            }
        case .loyalty: try projections.forEachLoyalty { try row(ExportTable.loyaltyRow($0)) }
        case .reps: try projections.forEachRepStats { try row(ExportTable.repRow($0)) }
        case .customers: try projections.forEachCustomer { try row(ExportTable.customerRow($0)) }
        }
    }
}

/// The columns of each export and the values of one row, in column order (the JSON Lines keys too).
struct ExportTable {
    var columns: [String]

    /// The keys of `ticket show --json`, in its order; `anomalies` is a count.
    static let tickets = ExportTable(columns: [
        "anomalies", "assignee", "channel", "closed", "customer", "escalations", "first_reply",
        "first_reply_by",
        "first_reply_minutes", "follow_ups", "id", "merged_into", "opened", "priority", "reopens", "replies",
        "resolution_minutes", "sla_first_reply", "sla_first_reply_breached", "sla_resolution",
        "sla_resolution_breached", "solved", "status",
    ])
    static let loyalty = ExportTable(columns: [
        "customer", "score", "tier", "as_of", "satisfaction", "service", "value",
    ])
    /// The figures of `rep stats --json` over all time.
    static let reps = ExportTable(columns: [
        "rep", "events", "assigned", "solved", "public_replies", "median_first_reply_minutes", "csat_ratings",
        "csat_satisfied_share",
    ])
    static let customers = ExportTable(columns: [
        "customer", "events", "first_event", "last_event", "tickets", "tier",
    ])

    private static func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
    private static func time(_ value: Timestamp?) -> JSONValue { text(value?.rfc3339) }
    private static func count(_ value: some BinaryInteger) -> JSONValue { .number(String(value)) }
    /// Rounded to two decimals, as `ticket show --json` and `loyalty show --json` give them.
    private static func rounded(_ value: Double?) -> JSONValue {
        value.map { jsonNumber(roundedScore($0)) } ?? .null
    }

    static func ticketRow(_ ticket: TicketState) -> [JSONValue] {
        [
            count(ticket.anomalies.count), text(ticket.assignee), text(ticket.channel?.rawValue),
            time(ticket.closedAt), .string(ticket.customer), count(ticket.escalations),
            time(ticket.firstReplyAt),
            text(ticket.firstReplyBy), rounded(ticket.firstReplyMinutes), count(ticket.followUps),
            .string(ticket.id), text(ticket.mergedInto), time(ticket.openedAt),
            .string(ticket.priority.rawValue),
            count(ticket.reopens), count(ticket.publicReplies), rounded(ticket.resolutionMinutes),
            .string(ticket.firstReplyVerdict.name), .bool(ticket.firstReplyBreached),
            .string(ticket.resolutionVerdict.name), .bool(ticket.resolutionBreached), time(ticket.solvedAt),
            .string(ticket.status.rawValue),
        ]
    }

    static func loyaltyRow(_ report: ProjectionStore.LoyaltyReport) -> [JSONValue] {
        [
            .string(report.loyalty.customer), rounded(report.loyalty.score), .string(report.loyalty.tier),
            time(report.loyalty.asOf), rounded(report.parts.satisfaction), rounded(report.parts.service),
            rounded(report.parts.value),
        ]
    }

    static func repRow(_ stats: RepStats) -> [JSONValue] {
        [
            .string(stats.rep), count(stats.events), count(stats.assigned), count(stats.solved),
            count(stats.publicReplies), rounded(stats.medianFirstReplyMinutes), count(stats.csatRatings),
            stats.csatSatisfiedShare.map { jsonNumber($0) } ?? .null,
        ]
    }

    static func customerRow(_ summary: ProjectionStore.CustomerSummary) -> [JSONValue] {
        [
            .string(summary.customer), count(summary.events), time(summary.firstEventAt),
            time(summary.lastEventAt), count(summary.tickets), text(summary.tier),
        ]
    }
}

/// CSV rows per RFC 4180, formula-safe.
enum CSVWriter {
    /// Appends one row and its CRLF: null is an empty field, a number or a boolean its JSON text, a
    /// string `field(_:)`.
    static func writeRow(_ values: [JSONValue], into buffer: inout [UInt8]) {
        for (index, value) in values.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            switch value {
            case .null: break
            case .string(let text): writeField(text, into: &buffer)
            default: value.write(into: &buffer)
            }
        }
        buffer.append(contentsOf: [0x0D, 0x0A])
    }

    /// The bytes that make a text field a formula in a spreadsheet when they come first (OWASP's list):
    /// `=`, `+`, `-`, `@`, tab and carriage return.
    static let formulaStarts: Set<UInt8> = [
        UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D,
    ]

    /// Appends a text field: with a single quote in front when it starts like a formula, and quoted (inner
    /// quotes doubled) when it holds a comma, a quote, CR or LF.
    static func writeField(_ text: String, into buffer: inout [UInt8]) {
        let utf8 = text.utf8
        let escaped = utf8.first.map { formulaStarts.contains($0) } ?? false
        let quoted = utf8.contains {
            $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D
        }
        if quoted { buffer.append(UInt8(ascii: "\"")) }
        if escaped { buffer.append(UInt8(ascii: "'")) }
        for byte in utf8 {
            if byte == UInt8(ascii: "\"") { buffer.append(byte) }
            buffer.append(byte)
        }
        if quoted { buffer.append(UInt8(ascii: "\"")) }
    }
}

/// Where an export goes: standard output (through `OutputBuffer`), or a file written in 64 KiB pieces.
struct ExportSink {
    private var buffer = OutputBuffer()
    private var file: (descriptor: Int32, path: String)?
    private var bytes: [UInt8] = []

    /// Standard output when `path` is nil, else the file `path`, created 0600 (exports hold customer
    /// data) or emptied.
    init(path: String?) throws {
        guard let path else { return }
        var descriptor: Int32
        repeat {
            descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else {
            throw CommandFailure(
                "cannot create the export file '\(path)': \(String(cString: strerror(errno)))",
                exitCode: ExitStatus.ioError)
        }
        file = (descriptor, path)
        bytes.reserveCapacity(1 << 17)
    }

    /// Lends the pending bytes to `body` to append to; writes them out once they pass 64 KiB.
    mutating func write(_ body: (inout [UInt8]) -> Void) throws {
        guard file != nil else {
            buffer.write(body)
            return
        }
        body(&bytes)
        if bytes.count >= 1 << 16 { try flush() }
    }

    /// Writes what is pending; for a file, fsyncs and closes it.
    mutating func finish() throws {
        guard let file else {
            buffer.flush()
            return
        }
        defer {
            Glibc.close(file.descriptor)
            self.file = nil
        }
        try flush()
        guard fsync(file.descriptor) == 0 else {
            throw CommandFailure(
                "cannot write the export file '\(file.path)': \(String(cString: strerror(errno)))",
                exitCode: ExitStatus.ioError)
        }
    }

    private mutating func flush() throws {
        guard let file else { return }
        try bytes.withUnsafeBytes { pending in
            var offset = 0
            while offset < pending.count {
                let written = Glibc.write(
                    file.descriptor, pending.baseAddress! + offset, pending.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw CommandFailure(
                        "cannot write the export file '\(file.path)': \(String(cString: strerror(errno)))",
                        exitCode: ExitStatus.ioError)
                }
                offset += written
            }
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
