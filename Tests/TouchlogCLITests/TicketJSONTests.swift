import CloudEvents
import Foundation
import Testing

@testable import TouchlogCLI

/// `ticket list --json` writes JSON Lines with the project's JSON writer: each line is the ticket's
/// `ticket show --json`, keys in order, numbers as JSONEncoder wrote them.
@Suite struct TicketJSONTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    @Test func everyListedLineIsTheTicketsShowJSON() throws {
        let sample = workspace.path + "/sample.jsonl"
        #expect(
            runTouchlog(["generate", "--events", "3000", "--customers", "100", "-o", sample]).exitCode == 0)
        #expect(workspace.run("ingest", sample).exitCode == 0)
        let list = workspace.run("ticket", "list", "--json")
        #expect(list.exitCode == 0, "\(list.error)")
        let text = workspace.run("ticket", "list")
        #expect(list.outputLines.count == text.outputLines.count && list.outputLines.count > 100)
        var checked = 0
        for (index, line) in list.outputLines.enumerated() {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let id = try #require(object["id"] as? String)
            #expect(text.outputLines[index].hasPrefix(id + "  "), "the same tickets in the same order")
            #expect(object.count == 23)
            // Keys in order, as sorted keys wrote them.
            let keys = try #require(try JSONValue.parse(Array(line.utf8)).objectKeys)
            #expect(keys == keys.sorted())
            if index % 25 == 0 {
                #expect(workspace.run("ticket", "show", id, "--json").output == line + "\n")
                checked += 1
            }
        }
        #expect(checked > 4)
        #expect(list.output.contains(#""first_reply_minutes":"#))
    }

    @Test(arguments: [
        (240.0, "240"), (1.23, "1.23"), (111.88, "111.88"), (-3.0, "-3"), (0.5, "0.5"), (0.0, "0"),
        (12345.67, "12345.67"),
    ])
    func numbersAreWrittenAsJSONEncoderWroteThem(value: Double, text: String) throws {
        #expect(jsonNumber(value) == .number(text))
        let encoded = String(decoding: try JSONEncoder().encode([value]), as: UTF8.self)
        #expect(encoded == "[\(text)]", "what ticket --json wrote before")
    }
}

extension JSONValue {
    /// The keys of an object, in order; nil for another value.
    fileprivate var objectKeys: [String]? {
        guard case .object(let members) = self else { return nil }
        return members.map(\.key)
    }
}
