import Foundation
import Testing
import TouchlogCLI

/// Every kind of bad input gets the documented result: `FILE:LINE: reason`, exit 65, nothing of its batch.
@Suite struct BadInputTests {
    static let head = #""specversion":"1.0","id":"bad","source":"urn:test""#
    static let body =
        #""type":"contact.received","subject":"c1","time":"2024-05-01T10:00:00Z","channel":"email""#

    /// (name, the bad line's bytes, a substring of the expected reason)
    static let cases: [(String, [UInt8], String)] = [
        ("malformed JSON", Array("{\(head),\(body)".utf8), "invalid JSON"),
        ("truncated line", Array("{\(head),\"type\":\"contact.rec".utf8), "invalid JSON"),
        ("not an object", Array("[1,2]".utf8), "object"),
        (
            "id not a string", Array(#"{"specversion":"1.0","id":7,"source":"urn:test",\#(body)}"#.utf8),
            "'id'"
        ),
        (
            "source not a string", Array(#"{"specversion":"1.0","id":"x","source":{},\#(body)}"#.utf8),
            "'source'"
        ),
        (
            "specversion wrong", Array(#"{"specversion":"0.3","id":"x","source":"urn:test",\#(body)}"#.utf8),
            "specversion"
        ),
        (
            "type not a string",
            Array(#"{\#(head),"type":true,"subject":"c1","time":"2024-05-01T10:00:00Z"}"#.utf8), "'type'"
        ),
        (
            "subject not a string",
            Array(#"{\#(head),"type":"x.y","subject":5,"time":"2024-05-01T10:00:00Z"}"#.utf8), "'subject'"
        ),
        ("empty id", Array(#"{"specversion":"1.0","id":"","source":"urn:test",\#(body)}"#.utf8), "'id'"),
        (
            "source with a space",
            Array(#"{"specversion":"1.0","id":"x","source":"not a uri",\#(body)}"#.utf8), "'source'"
        ),
        (
            "time not RFC 3339",
            Array(#"{\#(head),"type":"x.y","subject":"c1","time":"2024-05-01 10:00"}"#.utf8), "'time'"
        ),
        (
            "time on Feb 30",
            Array(#"{\#(head),"type":"x.y","subject":"c1","time":"2024-02-30T10:00:00Z"}"#.utf8), "'time'"
        ),
        ("missing time", Array(#"{\#(head),"type":"x.y","subject":"c1"}"#.utf8), "'time'"),
        (
            "missing subject", Array(#"{\#(head),"type":"x.y","time":"2024-05-01T10:00:00Z"}"#.utf8),
            "'subject'"
        ),
        ("upper-case attribute name", Array(#"{\#(head),\#(body),"Region":"eu"}"#.utf8), "Region"),
        ("attribute name with a dash", Array(#"{\#(head),\#(body),"my-attr":"eu"}"#.utf8), "my-attr"),
        ("extension that is an object", Array(#"{\#(head),\#(body),"meta":{"a":1}}"#.utf8), "meta"),
        (
            "data and data_base64", Array(#"{\#(head),\#(body),"data":{},"data_base64":"AAAA"}"#.utf8),
            "data_base64"
        ),
        (
            "invalid base64",
            Array(
                #"{\#(head),"type":"x.y","subject":"c1","time":"2024-05-01T10:00:00Z","data_base64":"@@@"}"#
                    .utf8), "base64"
        ),
        (
            "invalid UTF-8", Array("{\(head),\(body),\"note\":\"".utf8) + [0xC3, 0x28] + Array("\"}".utf8),
            "UTF-8"
        ),
        ("control character in a string", Array("{\(head),\(body),\"note\":\"a\u{01}b\"}".utf8), "control"),
        (
            "deep nesting",
            Array(
                "{\(head),\(body),\"data\":\(String(repeating: "[", count: 100))\(String(repeating: "]", count: 100))}"
                    .utf8), "nesting"
        ),
        ("duplicate key", Array(#"{\#(head),\#(body),"subject":"c2"}"#.utf8), "duplicate"),
        (
            "number out of range in data",
            Array(
                #"{\#(head),"type":"feedback.nps","subject":"c1","time":"2024-05-01T10:00:00Z","data":{"score":1e400}}"#
                    .utf8), "score"
        ),
        (
            "known type with invalid data",
            Array(
                #"{\#(head),"type":"ticket.status_changed","subject":"c1","time":"2024-05-01T10:00:00Z","ticketid":"t","data":{"status":"done"}}"#
                    .utf8), "status"
        ),
        (
            "known type missing a tag",
            Array(
                #"{\#(head),"type":"ticket.assigned","subject":"c1","time":"2024-05-01T10:00:00Z","ticketid":"t"}"#
                    .utf8), "repid"
        ),
        (
            "huge line",
            Array("{\(head),\(body),\"note\":\"\(String(repeating: "x", count: 1_100_000))\"}".utf8),
            "longer than"
        ),
    ]

    @Test(arguments: cases)
    func aBadLineStopsTheIngestWithItsLineAndWritesNothingOfItsBatch(
        name: String, bad: [UInt8], reason: String
    ) throws {
        let workspace = try Workspace()
        let file = workspace.path + "/input.jsonl"
        var bytes: [UInt8] = []
        for line in [contactLine(id: "g1"), contactLine(id: "g2")] { bytes += Array(line.utf8) + [0x0a] }
        bytes += bad + [0x0a]
        bytes += Array(contactLine(id: "g3").utf8) + [0x0a]
        #expect(FileManager.default.createFile(atPath: file, contents: Data(bytes)))

        let result = workspace.run("ingest", file)
        #expect(result.exitCode == 65, "\(name)")
        #expect(result.error.contains("\(file):3: "), "\(name): \(result.error.prefix(300))")
        #expect(result.error.contains(reason), "\(name): \(result.error.prefix(300))")
        // Nothing of the batch: this first ingest stored nothing, so it leaves no store behind.
        #expect(
            workspace.run("stats", "--json").exitCode == ExitStatus.notFound, "\(name): nothing of the batch")
        #expect(!FileManager.default.fileExists(atPath: workspace.store), "\(name): no empty store left")
    }

    /// CloudEvents attribute types and the producer's values of the log's attribute names: (name, the bad
    /// line's bytes, the whole reason printed after `FILE:LINE: `).
    static let attributeCases: [(String, [UInt8], String)] = [
        (
            "datacontenttype that is not a media type",
            Array(#"{\#(head),\#(body),"datacontenttype":"xyz"}"#.utf8),
            #"'datacontenttype' is not an RFC 2046 media type: "xyz" has no '/' and subtype after its type (a media type looks like "application/json")"#
        ),
        (
            "integer extension above 32 bits", Array(#"{\#(head),\#(body),"count":2147483648}"#.utf8),
            "extension attribute 'count' is 2147483648, outside the CloudEvents Integer range -2147483648...2147483647 (signed 32-bit)"
        ),
        (
            "extension number with a fraction", Array(#"{\#(head),\#(body),"ratio":1.5}"#.utf8),
            "extension attribute 'ratio' is 1.5, a number with a fraction or an exponent: a CloudEvents Integer is a whole number (send other numbers as a string, or in data)"
        ),
        (
            "extension that is an array", Array(#"{\#(head),\#(body),"tags":["a"]}"#.utf8),
            "extension attribute 'tags' must be a string, an integer or a boolean (the CloudEvents types in JSON), not an array"
        ),
        (
            "source with an unclosed IP literal",
            Array(#"{"specversion":"1.0","id":"x","source":"http://[::1",\#(body)}"#.utf8),
            #"'source' is not a valid URI-reference: "http://[::1" has an IP literal host without its closing ']'"#
        ),
        (
            "relative dataschema", Array(#"{\#(head),\#(body),"dataschema":"/schemas/contact.json"}"#.utf8),
            #"'dataschema' is not a valid absolute URI: "/schemas/contact.json" has no scheme (an absolute URI starts with one, such as "https:")"#
        ),
        (
            "recordedtime that is not a timestamp", Array(#"{\#(head),\#(body),"recordedtime":"soon"}"#.utf8),
            #"'recordedtime' must be an RFC 3339 timestamp string (the CloudEvents recordedtime extension: when the producer created the event), not "soon""#
        ),
        (
            "empty sequence", Array(#"{\#(head),\#(body),"sequence":""}"#.utf8),
            "'sequence' must be a non-empty string (the CloudEvents sequence extension), not an empty string"
        ),
        (
            "an orig name the log gives back", Array(#"{\#(head),\#(body),"origposition":3}"#.utf8),
            "'origposition' is the name under which Touchlog gives back a producer's 'position'; an event must not carry it (send 'position' itself)"
        ),
    ]

    @Test(arguments: attributeCases)
    func aBadAttributeStopsTheIngestWithItsLineAndTheWholeReason(name: String, bad: [UInt8], reason: String)
        throws
    {
        let workspace = try Workspace()
        let file = workspace.path + "/input.jsonl"
        var bytes: [UInt8] = []
        for line in [contactLine(id: "g1"), contactLine(id: "g2")] { bytes += Array(line.utf8) + [0x0a] }
        bytes += bad + [0x0a]
        #expect(FileManager.default.createFile(atPath: file, contents: Data(bytes)))

        let result = workspace.run("ingest", file)
        #expect(result.exitCode == 65, "\(name)")
        #expect(result.error.contains("\(file):3: \(reason)\n"), "\(name): \(result.error.prefix(400))")
        #expect(workspace.run("stats", "--json").exitCode == ExitStatus.notFound, "\(name): nothing stored")
    }

    @Test func aByteOrderMarkAndCRLFLineEndsAreAccepted() throws {
        let workspace = try Workspace()
        let file = workspace.path + "/crlf.jsonl"
        let text = "\u{FEFF}" + contactLine(id: "a") + "\r\n" + contactLine(id: "b") + "\r\n\r\n"
        #expect(FileManager.default.createFile(atPath: file, contents: Data(text.utf8)))
        let result = workspace.run("ingest", file, "--json")
        #expect(result.exitCode == 0, "\(result.error)")
        #expect(result.output.contains("\"appended\":2"))
    }

    @Test func anEmptyFileIngestsNothing() throws {
        let workspace = try Workspace()
        let file = try workspace.file("empty.jsonl", lines: ["", "   "])
        let result = workspace.run("ingest", file, "--json")
        #expect(result.exitCode == 0)
        #expect(
            result.output == "{\"appended\":0,\"conflicts\":0,\"duplicates\":0,\"read\":0,\"rejected\":0}\n")
    }
}
