import ArgumentParser
import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogImport
import TouchlogIngest
import TouchlogProjections
import TouchlogStore

/// `touchlog import`: history from other systems, turned into catalog events by a declarative mapping.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import history exported from another system (CSV, JSON Lines, JSON) as events.",
        usage: """
            touchlog import --mapping <file|name> <file> [--dry-run] [--rejects <path>] [options]
            touchlog import <name> <file> [options]
            touchlog import --list
            touchlog import --mapping <name> --print
            """,
        discussion: """
            A mapping (TOML, docs/IMPORT.md) says how each row becomes catalog events: the customer, ticket, \
            rep, channel and time of a row, which events it yields and when, each event's data and a stable \
            id, so that importing the same file again appends nothing. --mapping takes a file or the name of a \
            built-in mapping; 'touchlog import NAME FILE' is the same as --mapping NAME FILE (--list names the \
            built-in mappings; --mapping NAME --print writes one out to edit). The input is CSV with a header, \
            JSON Lines or a JSON array, plain or gzip, or - for standard input.
            Strict by default: the first unreadable row stops the import with FILE:LINE: reason and exit 65, \
            and nothing of the batch that held it is written. With --rejects, each unreadable row is written \
            to PATH with its reason (JSON Lines) and the import goes on. --dry-run maps the whole file without \
            a store (none is opened or created): the events of the first rows, and the counts.
            The ServiceNow incident audit export ('touchlog import servicenow FILE'): each row is one update \
            of one incident; an incident's rows, in sys_mod_count order, become ticket events (opened, \
            assigned, status, priority, reopened, solved, closed) with ids from the incident number, the row \
            and the kind of change; --verify then compares the tickets with the export's own reopen_count and \
            made_sla. The mapping and the quirks handled are in docs/SERVICENOW.md.
            \(RejectsFile.formatHelp)
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(
        help: ArgumentHelp(
            "The mapping: a TOML file, or the name of a built-in mapping (see --list).",
            valueName: "file|name"))
    var mapping: String?

    @Flag(help: "Name the built-in mappings.")
    var list = false

    @Flag(help: "With --mapping NAME: write the built-in mapping out (TOML), as a starting point to edit.")
    var print = false

    @Flag(help: "Map the whole file without writing: the events of the first rows, and the counts.")
    var dryRun = false

    @Option(help: ArgumentHelp("With --dry-run: the rows whose events are shown.", valueName: "rows"))
    var sample = 5

    @Argument(
        help: ArgumentHelp(
            "The export (CSV, JSON Lines or JSON, plain or gzip, or - for standard input), after the name of a "
                + "built-in mapping when --mapping is not given.",
            valueName: "name> <file"))
    var inputs: [String] = []

    @Option(
        help: ArgumentHelp("Write unreadable rows here with their reasons, and go on.", valueName: "path"))
    var rejects: String?

    @Flag(help: "With --rejects: replace an existing file at that path.")
    var force = false

    @Option(
        help: ArgumentHelp(
            "The 'source' of the imported events, instead of the mapping's.", valueName: "uri-reference"))
    var source: String?

    @Option(help: "Events per atomic, durable commit.")
    var batchSize = 10_000

    @Flag(help: "Hold every row until the end, for inputs whose cases are not contiguous.")
    var groupInMemory = false

    @Flag(
        help:
            "ServiceNow only: afterwards, fold the imported tickets and compare them with the export's reopen_count and made_sla."
    )
    var verify = false

    /// The mapping named and the file, from `--mapping` or the first argument.
    private var chosen: (mapping: String, file: String?)? {
        if let mapping { return (mapping, inputs.first) }
        guard inputs.count == 2 else { return nil }
        return (inputs[0], inputs[1])
    }

    func validate() throws {
        if list {
            guard mapping == nil, inputs.isEmpty, !print, !dryRun else {
                throw ValidationError("--list takes no mapping, file or other mode")
            }
            return
        }
        if mapping != nil, inputs.count > 1 {
            throw ValidationError("give one file after --mapping (got \(inputs.count) arguments)")
        }
        guard let chosen else {
            throw ValidationError(
                "give --mapping FILE|NAME and the file, or a built-in mapping's name and the file")
        }
        if print {
            guard chosen.file == nil, !dryRun else {
                throw ValidationError("--print takes no file and no --dry-run")
            }
            return
        }
        guard chosen.file != nil else { throw ValidationError("give the file to import") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard sample >= 0 else { throw ValidationError("--sample must be 0 or more") }
        if force && rejects == nil { throw ValidationError("--force applies only with --rejects") }
        if dryRun && (rejects != nil || verify) {
            throw ValidationError("--dry-run writes nothing: no --rejects or --verify")
        }
        if verify && chosen.mapping != "servicenow" {
            throw ValidationError("--verify applies only to the built-in mapping servicenow")
        }
        if let source {
            // The source must pass CloudEvents' own check of a URI-reference: parse a minimal event that has it.
            var probe = Array(#"{"specversion":"1.0","id":"x","type":"t","source":"#.utf8)
            JSONValue.string(source).write(into: &probe)
            probe.append(UInt8(ascii: "}"))
            do { _ = try CloudEvent(json: probe) } catch {
                throw ValidationError("--source must be a non-empty URI-reference: \(error.message)")
            }
        }
    }

    /// What `--list --json` prints, one a line.
    private struct Listed: Encodable {
        var name, summary: String
    }

    /// What `--json` prints after `import servicenow` (its counts name incidents).
    private struct ServiceNowOutput: Encodable {
        var rows, incidents, events, appended, duplicates, rejected: Int
        var check: ServiceNowCheck.Report?
    }

    func run() throws {
        try reportingFailures {
            if list {
                for builtin in BuiltinMapping.all {
                    if output.json {
                        Console.current.exactLine(
                            try jsonLine(Listed(name: builtin.name, summary: builtin.summary)))
                    } else {
                        Console.current.line("\(builtin.name)  \(builtin.summary)")
                    }
                }
                return
            }
            let chosen = chosen!
            var (loaded, text) = try loadMapping(chosen.mapping)
            if print {
                Console.current.exactLine(text.hasSuffix("\n") ? String(text.dropLast()) : text)
                return
            }
            if let source { loaded.source = source }
            let isServiceNow =
                chosen.mapping == "servicenow" && BuiltinMapping.named("servicenow")?.toml == text
            var options = MappedImportOptions(
                file: chosen.file!, rejects: rejects, force: force, batchSize: batchSize,
                groupInMemory: groupInMemory,
                json: output.json)
            if isServiceNow { options.caseWord = "incidents" }
            if dryRun {
                try dryRunImport(loaded, options: options, sample: sample)
                return
            }
            guard isServiceNow else {
                _ = try mappedImport(loaded, options: options, storeOptions: storeOptions)
                return
            }
            final class Collected { var facts: [IncidentFacts] = [] }
            let collected = Collected()
            var report: ServiceNowCheck.Report?
            let summary = try mappedImport(
                loaded, options: options, storeOptions: storeOptions, printsSummary: !output.json,
                configure: { importer in
                    guard verify else { return }
                    importer.caseHandler = {
                        if let facts = IncidentFacts($0) { collected.facts.append(facts) }
                    }
                },
                afterwards: { store, _ in
                    guard verify else { return }
                    report = try ServiceNowCheck(log: store.log, source: loaded.source).report(
                        facts: collected.facts)
                })
            if output.json {
                Console.current.exactLine(
                    try jsonLine(
                        ServiceNowOutput(
                            rows: summary.rows, incidents: summary.cases, events: summary.events,
                            appended: summary.appended, duplicates: summary.duplicates,
                            rejected: summary.rejected,
                            check: report)))
                return
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

/// Reads `--mapping`: a file (a path with '/' or ending in .toml, or any existing file) or a built-in name.
/// - Throws: `CommandFailure`: 66 for no such file or built-in, 74 for a file that cannot be read, 65 with
///   `FILE:LINE: key: reason` for a mapping that is not valid.
func loadMapping(_ argument: String) throws -> (ImportMapping, String) {
    let looksLikeFile = argument.contains("/") || argument.hasSuffix(".toml")
    if !looksLikeFile || !FileManager.default.fileExists(atPath: argument),
        let builtin = BuiltinMapping.named(argument)
    {
        do { return (try builtin.load(), builtin.toml) } catch {
            throw CommandFailure("built-in mapping '\(argument)': \(error)", exitCode: ExitStatus.dataError)
        }
    }
    guard FileManager.default.fileExists(atPath: argument) else {
        let names = BuiltinMapping.all.map(\.name).joined(separator: ", ")
        throw CommandFailure(
            "no mapping file '\(argument)' and no built-in mapping of that name (built-in: \(names))",
            exitCode: ExitStatus.notFound)
    }
    guard let data = FileManager.default.contents(atPath: argument) else {
        throw CommandFailure("cannot read the mapping file '\(argument)'", exitCode: ExitStatus.ioError)
    }
    do {
        let text: String
        do { text = try TOMLDocument.text(utf8: Array(data)) } catch {
            throw MappingError(line: error.line, message: error.message)
        }
        return (try ImportMapping(toml: text), text)
    } catch let error as MappingError {
        let location = error.line.map { ":\($0)" } ?? ""
        let key = error.key.map { "\($0): " } ?? ""
        throw CommandFailure("\(argument)\(location): \(key)\(error.message)", exitCode: ExitStatus.dataError)
    }
}

/// What a mapped import needs from its command line.
struct MappedImportOptions {
    var file: String
    var rejects: String?
    var force: Bool
    var batchSize: Int
    var groupInMemory: Bool
    var json: Bool
    /// How the counts name cases ("cases", or "incidents" for `import servicenow`).
    var caseWord = "cases"
    var name: String { file == "-" ? "<stdin>" : file }
}

/// What `--json` prints after an import.
private struct ImportOutput: Encodable {
    var rows, cases, events, appended, duplicates, rejected: Int
}

/// Opens the input, plain or gzip.
private func openInput(_ file: String) throws -> DecompressingFileReader {
    do { return try DecompressingFileReader(path: file) } catch {
        throw CommandFailure(error.message, exitCode: ExitStatus.ioError)
    }
}

/// Imports `options.file` through `mapping` into the store, prints the counts (unless `printsSummary` is
/// false) and returns them. `configure` adjusts the importer (a case handler).
func mappedImport(
    _ mapping: ImportMapping, options: MappedImportOptions, storeOptions: StoreOptions,
    printsSummary: Bool = true,
    configure: (inout MappedImporter) -> Void = { _ in },
    afterwards: (Store, MappedImportSummary) throws -> Void = { _, _ in }
) throws -> MappedImportSummary {
    try storeOptions.withStore(.writing) { store in
        let input = try openInput(options.file)
        var importer = MappedImporter(mapping: mapping)
        importer.batchSize = options.batchSize
        importer.groupsInMemory = options.groupInMemory
        configure(&importer)
        let rejectsFile = try options.rejects.map {
            try RejectsFile(
                path: $0, replacing: options.force, input: options.file, inputName: options.name,
                store: storeOptions.path)
        }
        if let rejectsFile {
            importer.rejectHandler = {
                try rejectsFile.write(line: $0.line, reason: $0.reason, bytes: $0.bytes)
            }
        }
        let meter = ProgressMeter("import", unit: "rows")
        importer.progress = { meter.update($0.rows) }
        let started = Date()
        let summary: MappedImportSummary
        do {
            summary = try importer.run(input, named: options.name, into: store)
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
        if printsSummary {
            if options.json {
                Console.current.exactLine(
                    try jsonLine(
                        ImportOutput(
                            rows: summary.rows, cases: summary.cases, events: summary.events,
                            appended: summary.appended, duplicates: summary.duplicates,
                            rejected: summary.rejected)))
            } else {
                Console.current.line("\(describe(summary, caseWord: options.caseWord))")
            }
        }
        if Console.current.errorIsTerminal && elapsed > 0 {
            Console.current.message(
                "import: \(formatCount(Int(Double(summary.rows) / elapsed))) rows/s, \(formatCount(Int(Double(summary.events) / elapsed))) events/s"
            )
        }
        try afterwards(store, summary)
        return summary
    }
}

/// "read 10 rows, 10 cases, 23 events: appended 23, duplicates 0, rejected 0".
func describe(_ summary: MappedImportSummary, caseWord: String) -> String {
    var text = "read \(summary.rows) rows, \(summary.cases) \(caseWord), \(summary.events) events: "
    text += "appended \(summary.appended), duplicates \(summary.duplicates), rejected \(summary.rejected)"
    if summary.appended == 0 && summary.duplicates > 0 && summary.rejected == 0 {
        text += " (nothing new: every event was already in the log)"
    }
    return text
}

/// What `--dry-run --json` prints.
private struct DryRunOutput: Encodable {
    var rows, cases, events, customers, tickets, rejected: Int
    var types: [String: Int]
    var rejections: [String]
}

/// `--dry-run`: maps the whole input with no store at all; prints the first rows' events and the counts.
func dryRunImport(_ mapping: ImportMapping, options: MappedImportOptions, sample: Int) throws {
    let input = try openInput(options.file)
    var importer = MappedImporter(mapping: mapping)
    importer.groupsInMemory = options.groupInMemory
    let report: DryRunReport
    do { report = try importer.dryRun(input, named: options.name, sampleRows: sample) } catch {
        throw CommandFailure(
            error.description, exitCode: error.isReadFailure ? ExitStatus.ioError : ExitStatus.dataError)
    }
    if options.json {
        // The sample events as CloudEvents JSON Lines, then the counts as one object.
        for (_, event) in report.sample {
            Console.current.exactLine(String(decoding: event.jsonBytes(), as: UTF8.self))
        }
        Console.current.exactLine(
            try jsonLine(
                DryRunOutput(
                    rows: report.rows, cases: report.cases, events: report.events,
                    customers: report.customers,
                    tickets: report.tickets, rejected: report.rejected, types: report.eventsByType,
                    rejections: report.rejections)))
        return
    }
    Console.current.line("events of the first \(sample) rows:")
    for (line, event) in report.sample {
        Console.current.line("  line \(line): \(String(decoding: event.jsonBytes(), as: UTF8.self))")
    }
    let types = report.eventsByType.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    let counts =
        "would read \(report.rows) rows, \(report.cases) cases, \(report.events) events (\(types)); "
        + "\(report.customers) customers, \(report.tickets) tickets; rejected \(report.rejected)"
    Console.current.line("\(counts)")
    for rejection in report.rejections { Console.current.line("  rejected: \(rejection)") }
    Console.current.line("dry run: nothing was written")
}
