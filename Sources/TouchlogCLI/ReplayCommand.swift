import ArgumentParser
import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogProjections
import TouchlogReport
import TouchlogStore

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay one customer's full history in order, each event with what it changed.",
        discussion: """
            Events come in stream order (the order the log appended them). --until keeps events that \
            happened at or before TIME (event time); --as-known-at keeps events the log had recorded at or \
            before TIME (recorded time). Both together show what was known at one moment about another. \
            Exit 66 for a customer with no events in the store.
            As it reads, replay checks the customer's stream as 'audit --customer' does: each event's hash, \
            its link to the event before it in the log, and its stream version and link. An event that fails \
            is marked NOT INTACT with what is wrong; the last line says whether the stream is intact, and the \
            command then exits 1 with the first bad position (with --json, that goes to standard error).
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "The customer id (the events' subject).")
    var customer: String
    @Option(
        help: ArgumentHelp("Only events that happened at or before this RFC 3339 time.", valueName: "time"))
    var until: String?
    @Option(
        help: ArgumentHelp(
            "Only events the log had recorded at or before this RFC 3339 time.", valueName: "time"))
    var asKnownAt: String?

    func run() throws {
        let untilTime = try until.map { try parseTime($0, option: "--until") }
        let knownAt = try asKnownAt.map { try parseTime($0, option: "--as-known-at") }
        let intact: Bool = try storeOptions.withStore(.reading) { store in
            // The stream and the log's own check of it (each hash, chain and stream link), one snapshot.
            let (stream, verification) = try store.log.verifiedStream(ofCustomer: customer)
            if stream.isEmpty, try store.log.version(ofCustomer: customer) == 0 {
                throw CommandFailure.notFound("customer", customer)
            }
            let events = stream.filter { stored in
                (untilTime.map { stored.occurredAt <= $0 } ?? true)
                    && (knownAt.map { stored.recordedAt <= $0 } ?? true)
            }
            let problems = verification.problems
            var buffer = OutputBuffer()
            if output.json {
                for stored in events {
                    buffer.write {
                        stored.writeJSON(into: &$0)
                        $0.append(0x0a)
                    }
                }
                buffer.flush()
                if let verdict = Self.failure(problems, customer: customer) {
                    Console.current.message("touchlog: \(verdict)")
                }
                return problems.isEmpty
            }
            if events.isEmpty {
                Console.current.message("no events of customer '\(customer)' within the cuts given")
            }
            let problemsAt = Dictionary(grouping: problems.filter { $0.position != nil }) { $0.position! }
            // A store that was never caught up has no projections yet: narrate with the built-in rules.
            let rules =
                store.databases.projections == nil
                ? nil : try ProjectionStore(store: store).activeRules()
            var narrator = ReplayNarrator(rules: rules ?? .default)
            let colour = Console.current.usesColour
            for stored in events {
                let found = problemsAt[stored.position] ?? []
                let mark: TerminalText = found.isEmpty ? "" : "  \("NOT INTACT", colour: colour ? .red : nil)"
                buffer.appendLine(
                    "v\(stored.version)  \(stored.event.time ?? stored.occurredAt.rfc3339)  \(stored.event.type)  (position \(stored.position), recorded \(stored.recordedAt.rfc3339))\(mark)"
                )
                for problem in found { buffer.appendLine("    ! \(problem.kind): \(problem.message)") }
                for change in narrator.apply(stored) { buffer.appendLine("    \(change)") }
            }
            if let verdict = Self.failure(problems, customer: customer) {
                buffer.appendLine("\("NOT INTACT", colour: colour ? .red : nil): \(verdict)")
            } else {
                buffer.appendLine(
                    "\("intact", colour: colour ? .green : nil): the \(stream.count) events of '\(customer)' have their hashes and stream links"
                )
            }
            buffer.flush()
            return problems.isEmpty
        }
        if !intact { throw ExitCode(ExitStatus.auditFailed) }
    }

    /// What is wrong with the stream, first bad position first; nil when it is intact.
    static func failure(_ problems: [AuditProblem], customer: String) -> String? {
        guard let first = problems.first else { return nil }
        let place = first.position.map { "first bad position \($0)" } ?? "the stream"
        return
            "the stream of '\(customer)' is not intact: \(place): \(first.kind): \(first.message) (\(problems.count) problem(s); 'touchlog audit' checks the whole log)"
    }
}
