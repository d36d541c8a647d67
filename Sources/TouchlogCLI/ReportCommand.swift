import ArgumentParser
import CloudEvents
import Foundation
import TouchlogAudit
import TouchlogProjections
import TouchlogReport
import TouchlogStore

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract:
            "Write one customer's (or one ticket's) verified history as HTML, CSV and PDF for auditors.",
        discussion: """
            Writes into --out DIR (made if missing): report.html, one self-contained page (inline CSS and SVG, \
            no script, no external reference) with the verification verdict at the top (the customer's \
            stream checked as 'replay' checks it, whether it is complete, the latest stored seal and its \
            key's fingerprint), a timeline (one lane per channel, tickets as spans coloured by final status \
            and outlined by SLA verdict, ratings and orders as marks, gathered where dense), and the \
            history, one row per event with what it changed; events.csv, the same rows (RFC 4180, UTC, \
            formula-safe); report.pdf, printed from the HTML by headless Chromium (chromium) or WeasyPrint \
            when one is installed, else a note on standard error and no PDF.
            --since and --until keep the events that happened in that window (event time); the events \
            before --since are still folded, so what each event changed is as in a full replay. Read-only. \
            Exit 66 for an unknown customer or ticket; exit 1 (after writing the report, which shows it) when \
            the stream is not intact.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "The customer id (the events' subject).")
    var customer: String?
    @Option(help: "A ticket id (the events' ticketid): the report of that ticket's events.")
    var ticket: String?
    @Option(
        help: ArgumentHelp("Only events that happened at or after this RFC 3339 time.", valueName: "time"))
    var since: String?
    @Option(
        help: ArgumentHelp("Only events that happened at or before this RFC 3339 time.", valueName: "time"))
    var until: String?
    @Option(
        help: ArgumentHelp("The directory to write the report into.", valueName: "dir"),
        completion: .directory)
    var out: String

    func validate() throws {
        if (customer == nil) == (ticket == nil) {
            throw ValidationError("give either --customer ID or --ticket ID")
        }
    }

    func run() throws {
        let sinceTime = try since.map { try parseTime($0, option: "--since") }
        let untilTime = try until.map { try parseTime($0, option: "--until") }
        if let sinceTime, let untilTime, untilTime < sinceTime {
            throw ValidationError("--until (\(untilTime.rfc3339)) is before --since (\(sinceTime.rfc3339))")
        }
        let intact: Bool = try storeOptions.withStore(.reading) { store in
            let subject = try subject(in: store)
            let (stream, verification) = try store.log.verifiedStream(ofCustomer: subject.customer)
            if stream.isEmpty, try store.log.version(ofCustomer: subject.customer) == 0 {
                throw CommandFailure.notFound("customer", subject.customer)
            }
            // A store that was never caught up has no projections yet: narrate with the built-in rules.
            let rules =
                store.databases.projections == nil ? nil : try ProjectionStore(store: store).activeRules()
            let report = Report(
                subject: subject, stream: stream, verification: verification, rules: rules ?? .default,
                since: sinceTime, until: untilTime, latestSeal: try SealBook(store: store).all().last)
            let renderer = PDFRenderer.find()
            let files = try report.write(to: out, renderer: renderer)
            Console.current.line(
                "wrote \(files.html) (\(report.rows.count) events, \(report.tickets.count) tickets)")
            Console.current.line("wrote \(files.csv)")
            if let pdf = files.pdf, let renderer {
                Console.current.line("wrote \(pdf) with \(renderer.tool.rawValue)")
            } else {
                Console.current.message(
                    "touchlog: note: no PDF: neither chromium nor weasyprint is on PATH (Debian: apt-get install chromium)"
                )
            }
            if !report.isIntact {
                let verdict =
                    ReplayCommand.failure(report.problems, customer: subject.customer)
                    ?? "the stream of '\(subject.customer)' is not complete: versions are missing"
                Console.current.message("touchlog: \(verdict)")
            }
            return report.isIntact
        }
        if !intact { throw ExitCode(ExitStatus.auditFailed) }
    }

    /// The customer given, or the ticket given and its customer: from the projections when they hold the
    /// ticket, else from the first event in the log that names it.
    private func subject(in store: Store) throws -> Report.Subject {
        if let customer { return .customer(customer) }
        let ticket = ticket!
        if store.databases.projections != nil, let state = try ProjectionStore(store: store).ticket(ticket) {
            return .ticket(ticket, customer: state.customer)
        }
        var owner: String?
        try store.log.forEachEvent { stored in
            if case .string(ticket) = stored.event.extensionValue("ticketid") {
                owner = stored.customer
                return false
            }
            return true
        }
        guard let owner else { throw CommandFailure.notFound("ticket", ticket) }
        return .ticket(ticket, customer: owner)
    }
}
