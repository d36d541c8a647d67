import ArgumentParser
import Foundation
import TouchlogAudit
import TouchlogStore

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Print the latest signed checkpoint (C2SP tlog-checkpoint), to keep outside the store.",
        discussion: """
            'touchlog seal' signs a checkpoint of the log's Merkle tree beside its seal and stores it. Keep the \
            printed note where the store's owner cannot change it: 'touchlog audit --checkpoint FILE \
            --public-key KEY.vkey' then proves that the store still extends it (a log cut short or rewritten \
            fails, even when the stored seals and checkpoints went with it). Exit 66 when the store has none.
            """)

    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try storeOptions.withStore(.reading) { store in
            guard let latest = try CheckpointBook(store: store).latest() else {
                throw CommandFailure(
                    "the store has no checkpoint: sign one with 'touchlog seal --key FILE'",
                    exitCode: ExitStatus.notFound)
            }
            Console.current.exactLine(String(latest.signed.text.dropLast()))
        }
    }
}

struct ProveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Write a customer's proof bundle: events, inclusion proofs, completeness, checkpoint.",
        discussion: """
            The bundle (docs/PROOFS.md) proves the customer's events, and that none of them is left out, as of \
            the store's latest checkpoint ('touchlog seal' makes one): checkpoint, events.jsonl, \
            proofs/LEAF_INDEX.tlog-proof, completeness.json and key.vkey. Anyone can check it offline with \
            'touchlog verify-bundle DIR --key KEY.vkey' or Tools/verify_bundle.py. DIR must not exist or be \
            empty; it is made owner-only (the bundle holds personal data). In a store of format 3 each leaf \
            commits to the event's personal content, which the bundle discloses (salt and content) while the \
            customer is live; an erased customer is proved by its erased:HEX name, with nothing disclosed. \
            Read-only on the store. Exit 66 when the store has no checkpoint or the customer no event it covers.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "The customer whose events to prove.")
    var customer: String
    @Option(help: ArgumentHelp("The directory to write the bundle into.", valueName: "dir"))
    var out: String

    func run() throws {
        try storeOptions.withStore(.reading) { store in
            let summary = try ProofBundle.write(store: store, customer: customer, to: out)
            Console.current.line(
                "wrote \(summary.events) event(s) of customer \(customer) to \(out), proven against the checkpoint of tree size \(summary.checkpointSize)"
            )
        }
    }
}

struct VerifyBundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-bundle",
        abstract: "Check a proof bundle offline against the checkpoint signer's verifier key.",
        discussion: """
            Checks the checkpoint's signature; each event against its leaf and the leaf's inclusion proof; that \
            the stream's versions run 1..N without a gap, each event linking the one before; and that the \
            stream's head is committed by the checkpoint's stream heads tree. Needs no store. Prints OK, or \
            FAILED with the reason and exit 1. Tools/verify_bundle.py makes the same checks.
            """)

    @Argument(help: ArgumentHelp("The bundle directory ('touchlog prove' wrote it).", valueName: "dir"))
    var directory: String
    @Option(
        help: ArgumentHelp(
            "The checkpoint signer's C2SP verifier key ('touchlog keygen' writes FILE.vkey; FILE.pub works too).",
            valueName: "file"))
    var key: String

    func run() throws {
        let verifier = try reportingFailures { try SealKey.loadVerifier(key) }
        let verified: BundleVerifier.Verified
        do {
            verified = try BundleVerifier.verify(directory: directory, key: verifier)
        } catch {
            Console.current.line("FAILED: \(error.reason)")
            throw ExitCode(ExitStatus.auditFailed)
        }
        Console.current.line(
            "OK: \(verified.events) events of customer \(verified.customer ?? "-"), complete as of checkpoint tree size \(verified.checkpointSize)"
        )
    }
}
