import ArgumentParser
import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogIngest
import TouchlogStore

struct AppendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append one event, built from options or read as CloudEvents JSON from standard input.",
        discussion: """
            With --type, the event is built from the options; without it, one CloudEvents JSON object is read \
            from standard input. --expected-version N appends only if the customer's stream is at version N \
            (0: the customer has no events yet); otherwise exit 65 with the actual version.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(
        help: "Event type, e.g. ticket.opened (omit to read the event from standard input).",
        completion: .list(Catalog.knownTypes))
    var type: String?
    @Option(help: "Customer id (the event's subject).")
    var customer: String?
    @Option(help: "Event source (URI-reference).")
    var source = "urn:touchlog:cli"
    @Option(help: "Event id (default: a new UUID).")
    var id: String?
    @Option(help: "When it happened, RFC 3339 (default: now).")
    var time: String?
    @Option(
        help: "Channel tag: \(Channel.allCases.map(\.rawValue).joined(separator: ", ")).",
        completion: .list(Channel.allCases.map(\.rawValue)))
    var channel: String?
    @Option(help: "Ticket id tag.")
    var ticket: String?
    @Option(help: "Representative id tag.")
    var rep: String?
    @Option(help: "The event's data, as JSON.")
    var data: String?
    @Option(help: "Append only if the customer's stream is at this version.")
    var expectedVersion: UInt64?

    func run() throws {
        try storeOptions.withStore(.writing) { store in
            let event = try buildEvent()
            let touchpoint: Touchpoint
            do { touchpoint = try Touchpoint(validating: event) } catch let error as CloudEventError {
                throw CommandFailure("invalid event: \(error.description)", exitCode: ExitStatus.dataError)
            }
            var source = RequestSource([AppendRequest(touchpoint, expectedVersion: expectedVersion)])
            var pipeline = IngestPipeline()
            final class Outcomes { var all: [AppendOutcome] = [] }
            let outcomes = Outcomes()
            pipeline.commitHandler = { _, _, result in outcomes.all += result.outcomes }
            do {
                _ = try pipeline.run(&source, named: "<append>", into: store)
            } catch let error as IngestError {
                throw CommandFailure(error.reason, exitCode: ExitStatus.dataError)
            }
            switch outcomes.all.first {
            case .appended(let position, let version):
                if output.json {
                    Console.current.exactLine(
                        try jsonLine(Outcome(outcome: "appended", position: position, version: version)))
                } else {
                    Console.current.line(
                        "appended at position \(position), version \(version) of '\(touchpoint.customer)'")
                }
            case .duplicate(let position):
                if output.json {
                    Console.current.exactLine(
                        try jsonLine(Outcome(outcome: "duplicate", position: position, version: nil)))
                } else {
                    Console.current.line(
                        "duplicate: already in the log at position \(position); nothing appended")
                }
            case .conflict(let position):
                // Not reached: the append is strict, so a conflict stops it above.
                throw CommandFailure(
                    "conflict with the event at position \(position); nothing appended",
                    exitCode: ExitStatus.dataError)
            case nil:
                break
            }
        }
    }

    private struct Outcome: Encodable {
        var outcome: String
        var position: UInt64
        var version: UInt64?
    }

    private func buildEvent() throws -> CloudEvent {
        do {
            guard let type else {
                let bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
                return try CloudEvent(json: bytes)
            }
            var object: [JSONMember] = [
                JSONMember(key: "specversion", value: .string("1.0")),
                JSONMember(key: "id", value: .string(id ?? UUID().uuidString.lowercased())),
                JSONMember(key: "source", value: .string(source)),
                JSONMember(key: "type", value: .string(type)),
                JSONMember(key: "time", value: .string(time ?? Timestamp.now().rfc3339)),
            ]
            if let customer { object.append(JSONMember(key: "subject", value: .string(customer))) }
            if let channel { object.append(JSONMember(key: "channel", value: .string(channel))) }
            if let ticket { object.append(JSONMember(key: "ticketid", value: .string(ticket))) }
            if let rep { object.append(JSONMember(key: "repid", value: .string(rep))) }
            if let data {
                do {
                    object.append(JSONMember(key: "data", value: try JSONValue.parse(Array(data.utf8))))
                } catch {
                    throw ValidationError("--data is not valid JSON: \(error.reason)")
                }
            }
            var bytes: [UInt8] = []
            JSONValue.object(object).write(into: &bytes)
            return try CloudEvent(json: bytes)
        } catch let error as CloudEventError {
            throw CommandFailure("invalid event: \(error.description)", exitCode: ExitStatus.dataError)
        }
    }
}
