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
            checks every stored seal, which catches a history rewritten with a recomputed chain; with --seal \
            FILE, the seals kept in FILE outside the store, which also catch a log cut short (or rewritten) \
            whose stored seals were removed with it. The full audit also recomputes the Merkle tree and checks \
            every stored checkpoint against it (and the stream heads of the latest); with --checkpoint FILE \
            and --public-key KEY.vkey, a checkpoint kept outside the store: its signature, and a consistency \
            proof that the store's tree extends it. Read-only: \
            it reads one consistent snapshot and can run while another process ingests. Exit 0 when all \
            holds, 1 with the first bad position on any problem. Exit 66 when --customer names a customer with \
            no events in the store.
            The text output starts with the verdict: OK, or FAILED with the first bad position and what is \
            wrong there; then every problem; then the ticket anomalies counted by the rule they broke, with a \
            few examples (--anomalies lists them all; --json always has them all). The verdict is green or red \
            only when standard output is a terminal, NO_COLOR is not set and TERM is not dumb.
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
    @Option(
        name: .customLong("seal"),
        help: ArgumentHelp(
            "Verify the seals in a file kept outside the store (needs --public-key; may be repeated).",
            discussion: "A file that 'seal --json', 'seal export' or 'seal list --json' wrote.",
            valueName: "file"))
    var sealFiles: [String] = []
    @Option(
        name: .customLong("checkpoint"),
        help: ArgumentHelp(
            "Verify a signed checkpoint kept outside the store (needs --public-key; may be repeated).",
            discussion:
                "A file that 'touchlog checkpoint' wrote: its signature, and a consistency proof that the store's Merkle tree extends it.",
            valueName: "file"))
    var checkpointFiles: [String] = []
    @Option(
        help: ArgumentHelp(
            "The public key file from 'touchlog keygen' (FILE.pub, or the C2SP verifier key FILE.vkey).",
            valueName: "file"),
        completion: .file(extensions: ["pub", "vkey"]))
    var publicKey: String?

    @Flag(help: "List every ticket anomaly, not only the count of each kind and a few examples.")
    var anomalies = false

    func validate() throws {
        if seals && publicKey == nil { throw ValidationError("--seals needs --public-key FILE") }
        if !sealFiles.isEmpty && publicKey == nil { throw ValidationError("--seal needs --public-key FILE") }
        if !checkpointFiles.isEmpty && publicKey == nil {
            throw ValidationError("--checkpoint needs --public-key FILE")
        }
    }

    func run() throws {
        let report: AuditReport = try storeOptions.withStore(.reading) { store in
            let verifier = try publicKey.map { try SealKey.loadVerifier($0) }
            let key = verifier?.publicKey
            if let customer, try store.log.version(ofCustomer: customer) == 0 {
                throw CommandFailure.notFound("customer", customer)
            }
            var auditor = Auditor(store: store)
            let meter = ProgressMeter("audit")
            auditor.progress = { meter.update($0) }
            let kept = try sealFiles.flatMap { try Seal.load(fromFile: $0) }
            let keptCheckpoints = try checkpointFiles.map { path in
                (name: "checkpoint file '\(path)'", checkpoint: try SignedCheckpoint.load(fromFile: path))
            }
            let report = try auditor.audit(
                customer: customer, sealKey: seals || !kept.isEmpty ? key : nil, checkingStoredSeals: seals,
                keptSeals: kept, checkpointKey: verifier, keptCheckpoints: keptCheckpoints)
            meter.finish(report.eventsChecked)
            return report
        }
        if output.json {
            Console.current.exactLine(try jsonLine(report))
        } else {
            for line in Self.text(
                report, sealsChecked: seals || !sealFiles.isEmpty, allAnomalies: anomalies,
                colour: Console.current.usesColour)
            {
                Console.current.line(line)
            }
        }
        if !report.ok { throw ExitCode(ExitStatus.auditFailed) }
    }

    /// The text report: the verdict first (OK, or FAILED with the first bad position and what is wrong
    /// there), then every problem, then the anomalies summarised by rule (all of them with `allAnomalies`).
    /// The verdict word is green or red when `colour` says so.
    static func text(_ report: AuditReport, sealsChecked: Bool, allAnomalies: Bool, colour: Bool)
        -> [TerminalText]
    {
        var counts = "\(formatCount(report.eventsChecked)) events checked"
        counts += ", \(formatCount(report.projectionRecordsChecked)) projection records checked"
        if sealsChecked { counts += ", \(report.sealsChecked) seals checked" }
        if report.checkpointsChecked > 0 { counts += ", \(report.checkpointsChecked) checkpoints checked" }
        var lines: [TerminalText] = []
        if let first = report.problems.first {
            let place = report.firstBadPosition.map { "first bad position \($0)" } ?? "no position"
            lines.append(
                "\("FAILED", colour: colour ? .red : nil): \(place): \(first.kind): \(first.message) (\(report.problems.count) problem(s); \(counts))"
            )
            for problem in report.problems {
                lines.append(
                    "  position \(problem.position.map(String.init) ?? "-"): \(problem.kind): \(problem.message)"
                )
            }
        } else {
            lines.append("\("OK", colour: colour ? .green : nil): \(counts)")
        }
        guard !report.anomalies.isEmpty else { return lines }
        lines.append(
            "ticket anomalies: \(formatCount(report.anomalies.count)) (rule-breaking events, kept as facts\(allAnomalies ? "" : "; --anomalies lists them all"))"
        )
        for group in report.anomalySummary() {
            lines.append("  \(formatCount(group.count))  \(group.rule)")
            if !allAnomalies {
                for example in group.examples { lines.append("      e.g. \(describe(example))") }
            }
        }
        if allAnomalies {
            for anomaly in report.anomalies { lines.append("anomaly \(describe(anomaly))") }
        }
        return lines
    }

    private static func describe(_ anomaly: AnomalyEntry) -> String {
        "at position \(anomaly.position): ticket \(anomaly.ticket) of \(anomaly.customer): \(anomaly.type): \(anomaly.reason)"
    }
}

struct SealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Sign the head of the log, list the stored seals, or export one to keep outside the store.",
        discussion: """
            'touchlog seal --key FILE' is 'touchlog seal sign --key FILE'. A seal kept outside the store \
            (written by 'seal --json' or 'seal export') is checked with 'touchlog audit --seal FILE \
            --public-key FILE.pub': it catches a log that was cut short or rewritten even if the stored \
            seals went with it.
            """,
        subcommands: [SealSignCommand.self, SealListCommand.self, SealExportCommand.self],
        defaultSubcommand: SealSignCommand.self)
}

struct SealSignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign the head of the log (position, hash, time) and store the seal in the log's store.",
        discussion: """
            Prints what was sealed in one line; with --json, the seal itself, which is worth keeping outside \
            the store too ('touchlog audit --seal FILE' checks it).
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(help: ArgumentHelp("The private key file from 'touchlog keygen'.", valueName: "file"))
    var key: String

    func run() throws {
        try storeOptions.withStore(.updating) { store in
            let privateKey = try SealKey.loadPrivateKey(key)
            let (seal, checkpoint) = try SealBook(store: store).sealWithCheckpoint(with: privateKey)
            if output.json {
                Console.current.exactLine(try seal.jsonText())
            } else {
                Console.current.line(
                    "sealed position \(seal.position), hash \(seal.hash), at \(seal.sealedTime); signed the checkpoint of tree size \(checkpoint.checkpoint.size) ('touchlog checkpoint' prints it)"
                )
            }
        }
    }
}

struct SealListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the seals stored in the store, oldest first.",
        discussion: """
            One line a seal: its number, the position and hash it sealed, when, and the signer's public key. \
            A record that is not a seal is listed with why. With --json, JSON Lines: each seal as 'seal \
            --json' writes it, with its \"number\" (a record that is not a seal: \"number\" and \"malformed\"). \
            Listing checks no signature: 'touchlog audit --seals --public-key FILE' does.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        try storeOptions.withStore(.reading) { store in
            let seals = try SealBook(store: store).all()
            var buffer = OutputBuffer()
            for stored in seals {
                if output.json {
                    buffer.appendExactLine(try stored.jsonText())
                    continue
                }
                switch stored.content {
                case .seal(let seal):
                    buffer.appendLine(
                        "\(stored.name)  position \(seal.position)  hash \(seal.hash)  sealed \(seal.sealedTime)  key \(seal.publicKey)"
                    )
                case .malformed(let reason):
                    buffer.appendLine("\(stored.name)  not a seal: \(reason)")
                }
            }
            buffer.flush()
            if seals.isEmpty && !output.json { Console.current.message("no seals in the store") }
        }
    }
}

struct SealExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print a stored seal as one line of JSON, to keep outside the store.",
        discussion: """
            The latest seal, or the one numbered N ('seal list' shows the numbers). Keep the line somewhere \
            the store's owner cannot change; 'touchlog audit --seal FILE --public-key FILE.pub' checks the \
            log against it. Exit 66 when the store has no such seal, 65 when that record is not a seal.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: ArgumentHelp("The seal's number (default: the latest).", valueName: "n"))
    var number: UInt64?

    func run() throws {
        try storeOptions.withStore(.reading) { store in
            let seals = try SealBook(store: store).all()
            let chosen: StoredSeal?
            if let number {
                chosen = seals.first { $0.number == number }
                if chosen == nil { throw CommandFailure.notFound("seal", String(number)) }
            } else {
                chosen = seals.last
            }
            guard let stored = chosen else {
                throw CommandFailure(
                    "the store has no seals: make one with 'touchlog seal --key FILE'",
                    exitCode: ExitStatus.notFound)
            }
            guard case .seal(let seal) = stored.content else {
                throw CommandFailure("\(stored.name) is not a seal", exitCode: ExitStatus.dataError)
            }
            Console.current.exactLine(try seal.jsonText())
        }
    }
}

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract:
            "Make an Ed25519 key pair for seals and checkpoints: FILE (private, owner-only), FILE.pub and FILE.vkey.",
        discussion: """
            FILE.vkey is the C2SP signed-note verifier key (NAME+KEYID_HEX+BASE64(0x01 || public key), name \
            'touchlog') that checks checkpoints and proof bundles ('touchlog verify-bundle DIR --key FILE.vkey').
            """)

    @Argument(
        help: ArgumentHelp(
            "Where to write the private key; the public key goes to FILE.pub.", valueName: "file"))
    var file: String

    func run() throws {
        try reportingFailures {
            _ = try SealKey.generate(
                privatePath: file, publicPath: file + ".pub", verifierPath: file + ".vkey")
            Console.current.message(
                "wrote the private key to \(file) (mode 0600), the public key to \(file).pub and its verifier key to \(file).vkey"
            )
        }
    }
}
