import Foundation
import Testing
import TouchlogTestSupport

/// `ingest` then `tail --json`: a producer's `recordedtime`, `sequence`, `sequencetype`, `position`, `hash`
/// and `predecessorhash` come back unchanged as `orig` + the name, and the log's own keep the names.
@Suite struct ProducerAttributeTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    /// The first event `tail --json` prints, as a JSON object.
    private func tailFirstEvent(_ workspace: Workspace) throws -> [String: Any] {
        let tail = workspace.run("tail", "--json")
        #expect(tail.exitCode == 0, "\(tail.error)")
        let line = try #require(tail.outputLines.first)
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// (attribute, the producer's value as JSON text)
    static let attributes: [(String, String)] = [
        ("recordedtime", #""2024-05-01T10:00:07.25+02:00""#), ("sequence", #""0000000042""#),
        ("sequencetype", #""Integer""#), ("position", "123"), ("hash", #""abc""#),
        ("predecessorhash", #""def""#),
    ]

    @Test(arguments: attributes)
    func theProducersValueComesBackUnderItsOrigNameAndTheLogsUnderTheName(name: String, value: String) throws
    {
        let line = touchpointLine(id: "p1", extra: #""channel":"email","\#(name)":\#(value)"#)
        let file = try workspace.file("in.jsonl", lines: [line])
        let ingest = workspace.run("ingest", file)
        #expect(ingest.exitCode == 0, "\(ingest.error)")
        let event = try tailFirstEvent(workspace)
        let tail = workspace.run("tail", "--json").output
        // The producer's value, byte for byte, under its orig name.
        #expect(tail.contains(#""orig\#(name)":\#(value)"#), "\(tail)")
        // The log's own values under the documented names.
        #expect(event["position"] as? Int == 1)
        #expect(event["sequence"] as? String == "00000000000000000001")
        #expect(event["sequencetype"] as? String == "Integer")
        #expect((event["hash"] as? String)?.count == 64)
        #expect(event["predecessorhash"] as? String == String(repeating: "0", count: 64))
        let recorded = try #require(event["recordedtime"] as? String)
        #expect(recorded != "2024-05-01T10:00:07.25+02:00" && recorded.hasSuffix("Z"))
        // Ingesting the same line again is an idempotent retry.
        #expect(workspace.run("ingest", file).output.contains("appended 0, duplicates 1"))
    }

    @Test func allSixTogetherAndACopyCarryingOrigNamesIsRefused() throws {
        let extra = ([#""channel":"chat""#] + Self.attributes.map { #""\#($0.0)":\#($0.1)"# }).joined(
            separator: ",")
        let file = try workspace.file("in.jsonl", lines: [touchpointLine(id: "p1", extra: extra)])
        #expect(workspace.run("ingest", file).exitCode == 0)
        let first = try tailFirstEvent(workspace)
        #expect(first["origrecordedtime"] as? String == "2024-05-01T10:00:07.25+02:00")
        #expect(first["origsequence"] as? String == "0000000042")
        #expect(first["origposition"] as? Int == 123)
        #expect(first["orighash"] as? String == "abc")
        #expect(first["origpredecessorhash"] as? String == "def")
        #expect(first["position"] as? Int == 1)

        // An event copied from `tail --json` that carries orig names is refused, with the reason.
        let copied = try workspace.file("copied.jsonl", lines: workspace.run("tail", "--json").outputLines)
        let other = try Workspace()
        let refused = other.run("ingest", copied)
        #expect(refused.exitCode == 65)
        #expect(
            refused.error.contains(
                "\(copied):1: 'origrecordedtime' is the name under which Touchlog gives back a producer's 'recordedtime'"
            ), "\(refused.error)")
    }

    @Test func anotherStoreKeepsTheFirstStoresValuesAsTheProducers() throws {
        let file = try workspace.file("in.jsonl", lines: [touchpointLine(id: "p1")])
        #expect(workspace.run("ingest", file).exitCode == 0)
        let first = try tailFirstEvent(workspace)
        let copied = try workspace.file("copied.jsonl", lines: workspace.run("tail", "--json").outputLines)
        let other = try Workspace()
        #expect(other.run("ingest", copied).exitCode == 0)
        let second = try tailFirstEvent(other)
        #expect(second["origrecordedtime"] as? String == first["recordedtime"] as? String)
        #expect(second["orighash"] as? String == first["hash"] as? String)
        #expect(second["origposition"] as? Int == 1)
        #expect(second["hash"] as? String != first["hash"] as? String)
        // In the same store the copy is a conflict: it carries attributes the stored event does not.
        let again = workspace.run("ingest", copied, "--json", "--rejects", workspace.path + "/rejects.jsonl")
        #expect(again.output.contains("\"conflicts\":1"), "\(again.output) \(again.error)")
    }
}
