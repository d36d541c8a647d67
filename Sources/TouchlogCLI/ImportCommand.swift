import ArgumentParser
import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogImport
import TouchlogIngest
import TouchlogStore

/// `touchlog import`: history from other systems, turned into catalog events.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import history exported from another system as events.",
        subcommands: [ServiceNowImportCommand.self])
}

/// `touchlog import servicenow FILE`.
struct ServiceNowImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "servicenow",
        abstract: "Import a ServiceNow incident audit export (CSV, plain or gzip) as ticket events.",
        discussion: """
            Each row of the export is one update of one incident. An incident's rows, in sys_mod_count order, \
            become ticket events: the first opens the ticket (customer = caller_id, channel = contact_type, \
            priority), each later one becomes what changed (assignment, status, priority, reopen, solved, \
            closed), at its sys_updated_at, with the updater in the 'updatedby' attribute. Event ids come from \
            the incident number, the row and the kind of change, so importing the same export again appends \
            nothing. Rows that break the help-desk lifecycle (Closed -> Active) are imported as they are. The \
            mapping and the quirks handled are in docs/SERVICENOW.md.
            Strict by default: the first unreadable row stops the import with FILE:LINE: reason and exit 65, \
            and nothing of the batch that held it is written. With --rejects, each unreadable row is written \
            to PATH with its reason (JSON Lines) and the import goes on.
            \(RejectsFile.formatHelp)
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Argument(
        help: ArgumentHelp(
            "The export: CSV, plain or gzip (.gz), or - for standard input.", valueName: "file"))
    var file: String

    @Option(
        help: ArgumentHelp("Write unreadable rows here with their reasons, and go on.", valueName: "path"))
    var rejects: String?

    @Flag(help: "With --rejects: replace an existing file at that path.")
    var force = false

    @Option(help: ArgumentHelp("The 'source' of the imported events.", valueName: "uri-reference"))
    var source = ServiceNowMapping.defaultSource

    @Option(help: "Events per atomic, durable commit.")
    var batchSize = 10_000

    @Flag(help: "Hold every row until the end, for exports whose incidents are not contiguous.")
    var groupInMemory = false

    @Flag(
        help:
            "Afterwards, fold the imported tickets and compare them with the export's reopen_count and made_sla."
    )
    var verify = false

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        if force && rejects == nil { throw ValidationError("--force applies only with --rejects") }
        // The source must pass CloudEvents' own check of a URI-reference: parse a minimal event that has it.
        var probe = Array(#"{"specversion":"1.0","id":"x","type":"t","source":"#.utf8)
        JSONValue.string(source).write(into: &probe)
        probe.append(UInt8(ascii: "}"))
        do { _ = try CloudEvent(json: probe) } catch {
            throw ValidationError("--source must be a non-empty URI-reference: \(error.message)")
        }
    }

    /// What `--json` prints.
    private struct Output: Encodable {
        var rows, incidents, events, appended, duplicates, rejected: Int
        var check: ServiceNowCheck.Report?
    }

    func run() throws {
        let name = file == "-" ? "<stdin>" : file
        try storeOptions.withStore(.writing) { store in
            let input: DecompressingFileReader
            do { input = try DecompressingFileReader(path: file) } catch let error as ByteSourceError {
                throw CommandFailure(error.message, exitCode: ExitStatus.ioError)
            }
            var importer = ServiceNowImporter()
            importer.batchSize = batchSize
            importer.source = source
            importer.groupsInMemory = groupInMemory
            let rejectsFile = try rejects.map {
                try RejectsFile(
                    path: $0, replacing: force, input: file, inputName: name, store: storeOptions.path)
            }
            if let rejectsFile {
                importer.rejectHandler = {
                    try rejectsFile.write(line: $0.line, reason: $0.reason, bytes: $0.bytes)
                }
            }
            final class Collected { var facts: [IncidentFacts] = [] }
            let collected = Collected()
            if verify { importer.incidentHandler = { collected.facts.append($0) } }
            let meter = ProgressMeter("import", unit: "rows")
            importer.progress = { meter.update($0.rows) }
            let started = Date()
            let summary: ServiceNowImportSummary
            do {
                summary = try importer.run(input, named: name, into: store)
            } catch let error as ImportError {
                // The import's own error is the one to report; the rejects file keeps what it has.
                do { try rejectsFile?.close() } catch {
                    Console.current.message("touchlog: \(error)")
                }
                var text = error.description
                if error.committed.appended + error.committed.duplicates > 0 {
                    text += " (committed before it: \(error.committed.appended) events appended, "
                    text += "\(error.committed.duplicates) duplicates)"
                }
                throw CommandFailure(
                    text, exitCode: error.isReadFailure ? ExitStatus.ioError : ExitStatus.dataError)
            }
            meter.finish(summary.rows)
            try rejectsFile?.close()
            let elapsed = Date().timeIntervalSince(started)
            let report =
                verify
                ? try ServiceNowCheck(log: store.log, source: source).report(facts: collected.facts) : nil
            if output.json {
                Console.current.exactLine(
                    try jsonLine(
                        Output(
                            rows: summary.rows, incidents: summary.incidents, events: summary.events,
                            appended: summary.appended, duplicates: summary.duplicates,
                            rejected: summary.rejected,
                            check: report)))
                return
            }
            var text = "read \(summary.rows) rows, \(summary.incidents) incidents, \(summary.events) events: "
            text +=
                "appended \(summary.appended), duplicates \(summary.duplicates), rejected \(summary.rejected)"
            if summary.appended == 0 && summary.duplicates > 0 && summary.rejected == 0 {
                text += " (nothing new: every event was already in the log)"
            }
            Console.current.line("\(text)")
            if Console.current.errorIsTerminal && elapsed > 0 {
                Console.current.message(
                    "import: \(formatCount(Int(Double(summary.rows) / elapsed))) rows/s, \(formatCount(Int(Double(summary.events) / elapsed))) events/s"
                )
            }
            if let report { for line in describe(report) { Console.current.line(line) } }
        }
    }

    private func describe(_ report: ServiceNowCheck.Report) -> [TerminalText] {
        func percent(_ part: Int, _ whole: Int) -> String {
            whole == 0 ? "-" : String(format: "%.1f%%", Double(part) * 100 / Double(whole))
        }
        let exceptions =
            report.reopenExceptions.isEmpty
            ? "" : " (exceptions: \(report.reopenExceptions.prefix(10).joined(separator: ", ")))"
        var lines: [TerminalText] = [
            "check: \(report.tickets) tickets, \(report.customers) customers, \(report.reps) reps, \(report.events) events",
            "  lifecycle anomalies: \(report.anomalies) in \(report.anomalousTickets) tickets",
            "  reopens = reopen_count: \(report.reopenAgreements) of \(report.reopenAgreements + report.reopenExceptions.count)\(exceptions)",
            "  made_sla agrees with the resolution time: \(report.slaAgreements) of \(report.slaTickets) (\(percent(report.slaAgreements, report.slaTickets)))",
        ]
        for fit in report.sla {
            lines.append(
                "    \(fit.priority): target \(fit.targetMinutes) min, \(fit.agreements) of \(fit.tickets) (\(percent(fit.agreements, fit.tickets))), made_sla true on \(fit.madeSLA)"
            )
        }
        if !report.missingTickets.isEmpty {
            lines.append("  incidents without a ticket: \(report.missingTickets.count)")
        }
        return lines
    }
}
