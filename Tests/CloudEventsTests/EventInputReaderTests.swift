import Foundation
import Testing
import TouchlogTestSupport

@testable import CloudEvents

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct EventInputReaderTests {
    /// Reads `input` from a file, from memory and in reads of 1 to 7 bytes: each gives `expected`.
    private func check(
        _ input: [UInt8], _ expected: [(Int?, String)], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let sources = try readFromEverySource(input)
        for (name, got) in [("file", sources.file), ("memory", sources.memory), ("chunked", sources.chunked)]
        {
            #expect(got.map(\.0) == expected.map(\.0), "\(name)", sourceLocation: sourceLocation)
            #expect(got.map(\.1) == expected.map(\.1), "\(name)", sourceLocation: sourceLocation)
        }
    }

    private func check(
        _ input: String, _ expected: [(Int?, String)], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try check(Array(input.utf8), expected, sourceLocation: sourceLocation)
    }

    @Test func jsonLinesWithBlankLinesAndCRLF() throws {
        try check(
            "{\"a\":1}\n\n   \n{\"b\":2}\r\n\t\r\n{\"c\":3}\n",
            [(1, #"{"a":1}"#), (4, #"{"b":2}"#), (6, #"{"c":3}"#)])
    }

    @Test func lastLineWithoutNewline() throws {
        try check("{\"a\":1}\n{\"b\":2}", [(1, #"{"a":1}"#), (2, #"{"b":2}"#)])
        try check("{\"a\":1}\r\n{\"b\":2}\r", [(1, #"{"a":1}"#), (2, #"{"b":2}"#)])
    }

    @Test func byteOrderMarkAtStartIsSkipped() throws {
        try check(
            [0xEF, 0xBB, 0xBF] + Array("{\"a\":1}\n{\"b\":2}\n".utf8), [(1, #"{"a":1}"#), (2, #"{"b":2}"#)])
        try check([0xEF, 0xBB, 0xBF] + Array("\n\n[{\"a\":1}]".utf8), [(3, #"{"a":1}"#)])
    }

    @Test func emptyInputs() throws {
        try check("", [])
        try check("\n \r\n\n", [])
        try check([0xEF, 0xBB, 0xBF], [])
        try check(" [ ] \n", [])
    }

    @Test func linesAreYieldedAsWrittenEvenIfNotJSON() throws {
        try check("not json\n  {\"a\": 1}  \n", [(1, "not json"), (2, "  {\"a\": 1}  ")])
    }

    @Test(arguments: [
        EventInputReader.maximumEventBytes + 1,  // found within the buffer
        EventInputReader.maximumEventBytes + 5_000,
        3 * EventInputReader.maximumEventBytes,  // must be skipped without buffering it
    ])
    func overlongLineIsRecoverable(length: Int) throws {
        var input = Array("{\"a\":1}\n".utf8)
        input += [UInt8](repeating: UInt8(ascii: "x"), count: length) + Array("\r\n{\"b\":2}\n".utf8)
        input += [UInt8](repeating: UInt8(ascii: "y"), count: length)  // over-long last line, no newline
        try check(
            input,
            [
                (1, #"{"a":1}"#),
                (2, "ERROR: event is longer than the maximum of 1048576 bytes"),
                (3, #"{"b":2}"#),
                (4, "ERROR: event is longer than the maximum of 1048576 bytes"),
            ])
    }

    @Test func lineOfExactlyTheMaximumIsAccepted() throws {
        let big = "\"" + String(repeating: "z", count: EventInputReader.maximumEventBytes - 2) + "\""
        let file = try TemporaryFile("\n" + big + "\r\n{}\n")
        let got = try readAll(path: file.path)
        #expect(got.count == 2)
        #expect(got.first?.0 == 2)
        #expect(got.first?.1.utf8.count == EventInputReader.maximumEventBytes)
        #expect(got.last?.0 == 3)
    }

    @Test func manyLinesAcrossChunkBoundaries() throws {
        // About 6 MiB in lines of varying length, so lines straddle every read.
        var input: [UInt8] = []
        var expected: [(Int?, String)] = []
        var lineNumber = 0
        var k = 0
        while input.count < 6 * 1_048_576 {
            lineNumber += 1
            if k % 7 == 3 {
                input += Array((k % 2 == 0 ? "\n" : "\r\n").utf8)
            } else {
                let line = #"{"id":"\#(k)","pad":"\#(String(repeating: "p", count: (k * 7919) % 3000))"}"#
                expected.append((lineNumber, line))
                input += Array(line.utf8) + Array((k % 2 == 0 ? "\n" : "\r\n").utf8)
            }
            k += 1
        }
        try check(input, expected)
    }

    @Test func batchArrayWithLineNumbers() throws {
        let input = """
            [
              {"id":"1","s":"a ] tricky, \\"string\\" {"},
              {"id":"2",
               "data":[1,[2,{"x":"]"}]]},

              42 , "not an event",
            {"id":"3"}]

            """
        try check(
            input,
            [
                (2, #"{"id":"1","s":"a ] tricky, \"string\" {"}"#),
                (3, "{\"id\":\"2\",\n   \"data\":[1,[2,{\"x\":\"]\"}]]}"),
                (6, "42"),
                (6, #""not an event""#),
                (7, #"{"id":"3"}"#),
            ])
    }

    @Test func batchElementsParseAsEvents() throws {
        let input =
            #"[{"specversion":"1.0","id":"1","source":"/s","type":"t"}, [1], {"specversion":"1.0","id":"2","source":"/s","type":"t"}]"#
        let file = try TemporaryFile(input)
        var reader = try EventInputReader(path: file.path)
        var ids: [String] = []
        var rejected = 0
        while let record = try reader.next() {
            do {
                ids.append(try CloudEvent(json: record.bytes).id)
            } catch {
                #expect(error.message.contains("must be a JSON object"))
                rejected += 1
            }
        }
        #expect(ids == ["1", "2"])
        #expect(rejected == 1)
    }

    @Test(arguments: [
        ("[{\"a\":1},]", "trailing comma"),
        ("[{\"a\":1}", "not closed"),
        ("[{\"a\":1},\n{\"b\":[2}]", "unbalanced '}'"),
        ("[,{\"a\":1}]", "expected an event before ','"),
        ("[{\"a\":1}] {\"b\":2}", "unexpected data after the batch array"),
        ("[{\"a\":\"unterminated}]", "not closed"),
    ])
    func malformedBatchIsFatal(input: String, message: String) throws {
        let file = try TemporaryFile(input)
        let got = try readAll(path: file.path)
        let last = try #require(got.last)
        #expect(last.1.hasPrefix("ERROR(fatal): malformed batch array: "))
        #expect(last.1.contains(message), "\(last.1)")
        let sources = try readFromEverySource(Array(input.utf8))
        for other in [sources.memory, sources.chunked] {
            #expect(other.map(\.0) == got.map(\.0))
            #expect(other.map(\.1) == got.map(\.1))
        }
    }

    @Test func overlongBatchElementIsRecoverable() throws {
        let big = #"{"pad":""# + String(repeating: "x", count: EventInputReader.maximumEventBytes) + #""}"#
        try check(
            "[{\"a\":1},\n" + big + ",\n{\"b\":2}]",
            [
                (1, #"{"a":1}"#), (2, "ERROR: event is longer than the maximum of 1048576 bytes"),
                (3, #"{"b":2}"#),
            ])
    }

    @Test func crOnlyLineEndsAreNamed() throws {
        let message =
            "ERROR: found a carriage return (CR) without a line feed: CR-only line ends are not supported; convert them to LF or CRLF"
        try check("{\"a\":1}\r{\"b\":2}\r{\"c\":3}\r", [(1, message)])
        try check("{\"a\":1} \r\r\t{\"b\":2}", [(1, message)])
        // Larger than one event: named the same, not reported as an over-long event.
        let many = String(
            repeating: #"{"pad":"\#(String(repeating: "p", count: 200))"}"# + "\r", count: 8_000)
        try check(many + "\n{\"z\":1}\n", [(1, message), (2, #"{"z":1}"#)])
        // One line of a file with LF ends: only that line is bad.
        try check(
            "{\"a\":1}\n{\"b\":2}\r{\"c\":3}\r\n{\"d\":4}\n",
            [(1, #"{"a":1}"#), (2, message), (3, #"{"d":4}"#)])
    }

    @Test func aCRThatJSONAllowsIsLeftToTheParser() throws {
        // Whitespace inside an event, and a lone CR at the very end, are not CR-only line ends.
        try check(
            "{\"a\":\r1}\n[1,\r{}]\n{\"b\":2}\r", [(1, "{\"a\":\r1}"), (2, "[1,\r{}]"), (3, #"{"b":2}"#)])
        try check("{\"a\":1}\rx\n", [(1, "{\"a\":1}\rx")])
    }

    @Test func aReadErrorOfTheSourceIsFatalAndNamesTheLine() throws {
        var reader = EventInputReader(
            FailingByteSource("{\"a\":1}\n{\"b\":", then: "cannot read 'in.jsonl': Input/output error"))
        let got = try readAll(&reader)
        #expect(got.map(\.0) == [1, 2])
        #expect(got.map(\.1) == [#"{"a":1}"#, "ERROR(fatal): cannot read 'in.jsonl': Input/output error"])
    }

    @Test func aDirectoryIsAReadErrorNamingIt() throws {
        let directory = FileManager.default.temporaryDirectory.path
        var reader = try EventInputReader(path: directory)
        let got = try readAll(&reader)
        #expect(got.count == 1)
        #expect(got.first?.0 == 1)
        #expect(got.first?.1 == "ERROR(fatal): cannot read '\(directory)': Is a directory")
    }

    @Test func missingFileIsAnError() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "no-such-\(UUID().uuidString)"
        ).path
        do {
            _ = try EventInputReader(path: path)
            Issue.record("opened a missing file")
        } catch {
            #expect(error.isRecoverable == false)
            #expect(error.line == nil)
            #expect(error.message.contains("cannot open"))
            #expect(error.message.contains("No such file"))
            #expect(error.message.contains(path))
        }
    }

    @Test func fileDescriptorIsNotClosed() throws {
        let file = try TemporaryFile("{\"a\":1}\n")
        let fd = open(file.path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        do {
            var reader = EventInputReader(fileDescriptor: fd)
            let record = try #require(try reader.next())
            #expect(record.line == 1)
            #expect(try reader.next() == nil)
        }
        #expect(fcntl(fd, F_GETFD) != -1)
    }

    @Test func errorDescriptions() {
        #expect(EventInputError(line: 3, message: "bad", isRecoverable: true).description == "line 3: bad")
        #expect(EventInputError(line: nil, message: "bad", isRecoverable: false).description == "bad")
    }
}

extension EventInputRecord: Equatable {
    public static func == (a: EventInputRecord, b: EventInputRecord) -> Bool {
        a.line == b.line && a.bytes == b.bytes
    }
}
