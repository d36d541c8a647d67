import ArgumentParser
import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogIngest
import TouchlogProjections
import TouchlogStore

#if canImport(Glibc)
    import Glibc
#endif

struct EraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Forget a customer: destroy its key and personal content (stores of format 3).",
        discussion: """
            Appends touchlog.erasure.requested (with --reason, sealed like any personal content), then in one \
            transaction destroys the customer's key, deletes its personal content and the keyed hash of its id, \
            then appends touchlog.erasure.completed under the customer's pseudonym. Afterwards the customer's \
            events read as erased (subject erased:HEX, only the catalog's non-personal data), projections keep \
            them under the same pseudonym, and audit and every earlier seal still verify. A kill at any point \
            leaves the key and content intact or an erasure that running erase again (with any customer) \
            finishes. Under a legal hold ('touchlog hold place') the erasure is refused, the refusal recorded \
            as touchlog.erasure.refused, exit 1. After an erasure the store cannot find the customer by its id \
            (exit 66). A store of format 2 is refused: run 'touchlog migrate' first.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "The customer id (the events' subject).")
    var customer: String
    @Option(help: "Why the customer is erased (recorded, sealed, in the erasure request).")
    var reason: String

    /// The source of Touchlog's own events.
    static let source = "urn:touchlog:erase"

    private struct Outcome: Encodable {
        var outcome: String
        var customer: String
        var pseudonym: String?
        var position: UInt64?
        var matters: [String]?
    }

    func run() throws {
        try storeOptions.withStore(.updating) { store in
            let log = store.log
            // Erasures killed before they finished (by this command or another run at the same time).
            let finished = try log.pendingErasures()
            for pending in finished {
                try log.completeErasure(of: pending, source: Self.source)
            }
            let pseudonym: Pseudonym
            switch try log.status(ofCustomer: customer) {
            case .unknown:
                guard !finished.isEmpty else { throw CommandFailure.notFound("customer", customer) }
                // A re-run after a kill: the id no longer leads anywhere, the pending erasure is done
                // (named when it was the only one: nothing leads from the id to its pseudonym).
                try report(
                    Outcome(
                        outcome: "finished", customer: customer,
                        pseudonym: finished.count == 1 ? finished[0].erasedName : nil))
                return
            case .erased(let erased):
                try log.completeErasure(of: erased, source: Self.source)
                try report(Outcome(outcome: "erased", customer: customer, pseudonym: erased.erasedName))
                return
            case .live(let live):
                pseudonym = live
            case .withheld:
                throw CommandFailure(
                    "the store at '\(storeOptions.path)' is a backup made without keys: erase in the store itself",
                    exitCode: ExitStatus.dataError)
            }
            let stream = try log.stream(ofCustomer: customer)
            let matters = HoldCommand.activeMatters(stream)
            if !matters.isEmpty {
                let position = try SystemEvents.append(
                    .erasureRefused, customer: customer,
                    data: .object([
                        JSONMember(key: "reason", value: .string(reason)),
                        JSONMember(key: "matters", value: .array(matters.map { .string($0) })),
                    ]), store: store)
                try report(
                    Outcome(outcome: "refused", customer: customer, position: position, matters: matters))
                throw CommandFailure(
                    "refused: customer '\(customer)' is under legal hold (\(matters.map { "'\($0)'" }.joined(separator: ", "))); the refusal is recorded at position \(position)",
                    exitCode: ExitStatus.auditFailed)
            }
            if stream.last?.event.type != SystemType.erasureRequested.rawValue {
                _ = try SystemEvents.append(
                    .erasureRequested, customer: customer,
                    data: .object([JSONMember(key: "reason", value: .string(reason))]), store: store)
            }
            FaultInjection.point("erase.requested")
            guard let destroyed = try log.destroyKey(ofCustomer: customer), destroyed == pseudonym else {
                throw CommandFailure(
                    "customer '\(customer)' changed while it was being erased: run erase again",
                    exitCode: ExitStatus.ioError)
            }
            FaultInjection.point("erase.destroyed")
            let position = try log.completeErasure(of: destroyed, source: Self.source)
            _ = try ProjectionStore(store: store).catchUp()
            try report(
                Outcome(
                    outcome: "erased", customer: customer, pseudonym: destroyed.erasedName, position: position
                ))
        }
    }

    private func report(_ outcome: Outcome) throws {
        if output.json {
            Console.current.exactLine(try jsonLine(outcome))
            return
        }
        switch outcome.outcome {
        case "finished":
            Console.current.line(
                "finished the pending erasure of \(outcome.pseudonym ?? ""); no customer '\(customer)' is left in the store"
            )
        case "refused":
            break  // the failure says it
        default:
            let completion = outcome.position.map { ", completion recorded at position \($0)" } ?? ""
            Console.current.line(
                "erased customer '\(customer)': its events now read as \(outcome.pseudonym ?? ""); key and personal content destroyed\(completion)"
            )
        }
    }
}

struct HoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Place or release a legal hold on a customer: erase is refused while one holds.",
        subcommands: [Place.self, Release.self])

    struct Place: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a legal hold (touchlog.hold.placed) on the customer for a matter.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "The customer id.") var customer: String
        @Option(help: "The matter the hold is for (a case name or number).") var matter: String

        func run() throws {
            try HoldCommand.record(
                .holdPlaced, customer: customer, matter: matter, storeOptions: storeOptions, json: output.json
            )
        }
    }

    struct Release: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record the end of the customer's hold for a matter (touchlog.hold.released).")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "The customer id.") var customer: String
        @Option(help: "The matter whose hold ends.") var matter: String

        func run() throws {
            try HoldCommand.record(
                .holdReleased, customer: customer, matter: matter, storeOptions: storeOptions,
                json: output.json)
        }
    }

    private struct Outcome: Encodable {
        var outcome: String
        var customer: String
        var matter: String
        var position: UInt64
    }

    static func record(
        _ type: SystemType, customer: String, matter: String, storeOptions: StoreOptions, json: Bool
    ) throws {
        try storeOptions.withStore(.writing) { store in
            let held = activeMatters(try store.log.stream(ofCustomer: customer))
            if type == .holdReleased && !held.contains(matter) {
                throw CommandFailure(
                    "customer '\(customer)' has no hold for matter '\(matter)'"
                        + (held.isEmpty
                            ? "" : " (held for: \(held.map { "'\($0)'" }.joined(separator: ", ")))"),
                    exitCode: ExitStatus.dataError)
            }
            let position = try SystemEvents.append(
                type, customer: customer, data: .object([JSONMember(key: "matter", value: .string(matter))]),
                store: store)
            if json {
                Console.current.exactLine(
                    try jsonLine(
                        Outcome(
                            outcome: type == .holdPlaced ? "placed" : "released", customer: customer,
                            matter: matter,
                            position: position)))
            } else {
                Console.current.line(
                    "\(type == .holdPlaced ? "placed" : "released") the hold of '\(customer)' for '\(matter)' at position \(position)"
                )
            }
        }
    }

    /// The matters under which the stream's customer is held: placed and not released since, in the
    /// order placed.
    static func activeMatters(_ stream: [StoredEvent]) -> [String] {
        var matters: [String] = []
        for stored in stream {
            guard let type = SystemType(rawValue: stored.event.type),
                type == .holdPlaced || type == .holdReleased,
                case .json(let bytes) = stored.event.data, let data = try? JSONValue.parse(bytes),
                case .string(let matter) = data["matter"]
            else { continue }
            if type == .holdPlaced {
                if !matters.contains(matter) { matters.append(matter) }
            } else {
                matters.removeAll { $0 == matter }
            }
        }
        return matters
    }
}

/// Appends Touchlog's own events (holds, erasure requests and refusals) through the one ingest
/// pipeline, which brings the projections up to date after it.
enum SystemEvents {
    static func append(_ type: SystemType, customer: String, data: JSONValue, store: Store) throws -> UInt64 {
        var bytes: [UInt8] = []
        data.write(into: &bytes)
        let event = CloudEvent(
            id: UUID().uuidString.lowercased(), source: EraseCommand.source, type: type.rawValue,
            subject: customer,
            time: Timestamp.now().rfc3339, data: .json(bytes))
        let touchpoint: Touchpoint
        do { touchpoint = try Touchpoint(system: event) } catch {
            throw CommandFailure("invalid customer id: \(error.description)", exitCode: ExitStatus.dataError)
        }
        var source = RequestSource([AppendRequest(touchpoint)])
        var pipeline = IngestPipeline()
        final class Outcomes { var all: [AppendOutcome] = [] }
        let outcomes = Outcomes()
        pipeline.commitHandler = { _, _, result in outcomes.all += result.outcomes }
        _ = try pipeline.run(&source, named: "<\(type.rawValue)>", into: store)
        guard case .appended(let position, _) = outcomes.all.first else {
            throw CommandFailure("the \(type.rawValue) event was not appended", exitCode: ExitStatus.ioError)
        }
        return position
    }
}

/// Points where a test makes this process die as a kill would (SIGKILL): the variable
/// `TOUCHLOG_TEST_FAULT` names the point. For the crash tests of `erase`; nothing else sets it.
enum FaultInjection {
    static func point(_ name: String) {
        guard ProcessInfo.processInfo.environment["TOUCHLOG_TEST_FAULT"] == name else { return }
        kill(getpid(), SIGKILL)
    }
}
