import ArgumentParser
import Foundation
import TouchlogAudit
import TouchlogDomain
import TouchlogStore

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify that the history is complete and unaltered.",
        discussion: """
            Checks every event's hash and its link to the one before, that positions are gapless, that \
            the customer-stream and event-id indexes match the events, and that every projection record \
            equals a fresh fold of the log under its recorded rules; lists ticket anomalies (rule-breaking \
            events, kept as facts). With --seals and --public-key, also \
            checks every stored seal, which catches a history rewritten with a recomputed chain. Read-only: \
            it reads one consistent snapshot and can run while another process ingests. Exit 0 when all \
            holds, 1 with the first bad position on any problem. Exit 66 when --customer names a customer with \
            no events in the store.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(
        help: ArgumentHelp(
            "Audit only this customer's stream, end to end.",
            discussion:
                "Checks every event the stream index leads to; the full audit also proves the index complete."
        ))
    var customer: String?
    @Flag(help: "Verify the stored seals (needs --public-key).")
    var seals = false
    @Option(help: ArgumentHelp("The public key file from 'touchlog keygen'.", valueName: "file"))
    var publicKey: String?

    func validate() throws {
        if seals && publicKey == nil { throw ValidationError("--seals needs --public-key FILE") }
    }

    func run() throws {
        let report: AuditReport = try storeOptions.withStore(.reading) { store in
            let key = try publicKey.map { try SealKey.loadPublicKey($0) }
            if let customer, try store.log.version(ofCustomer: customer) == 0 {
                throw CommandFailure.notFound("customer", customer)
            }
            var auditor = Auditor(store: store)
            let meter = ProgressMeter("audit")
            auditor.progress = { meter.update($0) }
            let report = try auditor.audit(customer: customer, sealKey: seals ? key : nil)
            meter.finish(report.eventsChecked)
            return report
        }
        if output.json {
            Console.current.exactLine(try jsonLine(report))
        } else {
            for anomaly in report.anomalies {
                Console.current.line(
                    "anomaly at position \(anomaly.position): ticket \(anomaly.ticket) of \(anomaly.customer): \(anomaly.type): \(anomaly.reason)"
                )
            }
            for problem in report.problems {
                Console.current.line(
                    "position \(problem.position.map(String.init) ?? "-"): \(problem.kind): \(problem.message)"
                )
            }
            var summary =
                "\(report.ok ? "ok" : "FAILED"): \(formatCount(report.eventsChecked)) events checked"
            summary += ", \(formatCount(report.projectionRecordsChecked)) projection records checked"
            if seals { summary += ", \(report.sealsChecked) seals checked" }
            if !report.anomalies.isEmpty { summary += ", \(report.anomalies.count) ticket anomalies" }
            if let first = report.firstBadPosition { summary += ", first bad position \(first)" }
            if !report.problems.isEmpty { summary += ", \(report.problems.count) problem(s)" }
            Console.current.line("\(summary)")
        }
        if !report.ok { throw ExitCode(ExitStatus.auditFailed) }
    }
}

struct SealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Sign the head of the log (position, hash, time) and store the seal in the log's store.",
        discussion: """
            Prints what was sealed in one line; with --json, the seal itself, which is worth keeping outside \
            the store too.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(help: ArgumentHelp("The private key file from 'touchlog keygen'.", valueName: "file"))
    var key: String

    func run() throws {
        try storeOptions.withStore(.updating) { store in
            let privateKey = try SealKey.loadPrivateKey(key)
            let seal = try SealBook(store: store).seal(with: privateKey)
            if output.json {
                Console.current.exactLine(try seal.jsonText())
            } else {
                Console.current.line(
                    "sealed position \(seal.position), hash \(seal.hash), at \(seal.sealedTime)")
            }
        }
    }
}

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make an Ed25519 key pair for seals: FILE (private, owner-only) and FILE.pub.")

    @Argument(
        help: ArgumentHelp(
            "Where to write the private key; the public key goes to FILE.pub.", valueName: "file"))
    var file: String

    func run() throws {
        try reportingFailures {
            _ = try SealKey.generate(privatePath: file, publicPath: file + ".pub")
            Console.current.message(
                "wrote the private key to \(file) (mode 0600) and the public key to \(file).pub")
        }
    }
}
