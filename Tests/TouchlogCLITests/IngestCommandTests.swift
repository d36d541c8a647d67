import Foundation
import Testing

@Suite struct IngestCommandTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    @Test func ingestingTheSameFileTwiceAppendsNothingTheSecondTime() throws {
        let file = try workspace.file(
            "events.jsonl", lines: (1...25).map { contactLine(id: "e\($0)", customer: "c\($0 % 4)") })
        let first = workspace.run("ingest", file, "--json")
        #expect(first.exitCode == 0)
        #expect(first.output == "{\"appended\":25,\"duplicates\":0,\"read\":25,\"rejected\":0}\n")
        let second = workspace.run("ingest", file)
        #expect(second.exitCode == 0)
        #expect(second.output.contains("read 25, appended 0, duplicates 25, rejected 0"))
        #expect(second.output.contains("nothing new"))
    }

    @Test func aBadEventStopsAStrictIngestAndNothingOfItsBatchIsWritten() throws {
        var lines = (1...10).map { contactLine(id: "e\($0)") }
        lines[6] =
            #"{"specversion":"1.0","id":"bad","source":"urn:test","type":"contact.received","time":"2024-05-01T10:00:00Z","channel":"email"}"#
        let file = try workspace.file("events.jsonl", lines: lines)
        let result = workspace.run("ingest", file, "--batch-size", "4")
        #expect(result.exitCode == 65)
        #expect(result.error.contains("\(file):7: Touchlog requires 'subject'"))
        // Batch 1 (lines 1-4) was committed; batch 2 (lines 5-8) held the bad event and was not.
        let tail = workspace.run("tail", "--json")
        #expect(tail.outputLines.count == 4)
        #expect(!tail.output.contains("\"e5\""))

        // Fixing the file and re-running appends only what is missing.
        lines[6] = contactLine(id: "e7")
        _ = try workspace.file("events.jsonl", lines: lines)
        let rerun = workspace.run("ingest", file, "--json", "--batch-size", "4")
        #expect(rerun.output == "{\"appended\":6,\"duplicates\":4,\"read\":10,\"rejected\":0}\n")
    }

    @Test func rejectsModeWritesEachBadLineWithItsReasonAndStoresTheRest() throws {
        var lines = (1...6).map { contactLine(id: "e\($0)") }
        lines[1] = "{not json"
        lines[4] = contactLine(id: "e5", time: "2024-02-30T10:00:00Z")
        let file = try workspace.file("events.jsonl", lines: lines)
        let rejects = workspace.path + "/rejects.jsonl"
        let result = workspace.run("ingest", file, "--rejects", rejects, "--json")
        #expect(result.exitCode == 0)
        #expect(result.output == "{\"appended\":4,\"duplicates\":0,\"read\":6,\"rejected\":2}\n")
        let written = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n")
        #expect(written.count == 2)
        let first = try JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: Any]
        #expect(first?["line"] as? Int == 2)
        #expect(first?["input"] as? String == "{not json")
        #expect((first?["reason"] as? String)?.isEmpty == false)
        let second = try JSONSerialization.jsonObject(with: Data(written[1].utf8)) as? [String: Any]
        #expect(second?["line"] as? Int == 5)
        #expect((second?["reason"] as? String)?.contains("time") == true)
        let mode = try FileManager.default.attributesOfItem(atPath: rejects)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
    }

    @Test func aKnownTypeWithBadDataIsRejectedWithTheRule() throws {
        let line = """
            {"specversion":"1.0","id":"x","source":"urn:test","type":"feedback.csat","subject":"c","time":"2024-05-01T10:00:00Z","data":{"score":9}}
            """
        let file = try workspace.file("bad.jsonl", lines: [line])
        let result = workspace.run("ingest", file)
        #expect(result.exitCode == 65)
        #expect(
            result.error.contains(
                "bad.jsonl:1: 'data.score' of type 'feedback.csat' must be an integer from 1 to 5"))
    }

    /// Issue 12: a batch array that cannot be split into events is bad input (65), not an I/O error (74).
    @Test func aMalformedBatchArrayIsBadDataWithFileAndLine() throws {
        let file = workspace.path + "/batch.json"
        try "[\(contactLine(id: "a")),\n  garbage".write(toFile: file, atomically: true, encoding: .utf8)
        let result = workspace.run("ingest", file)
        #expect(result.exitCode == 65, "\(result.error)")
        #expect(result.error.contains("\(file):2: malformed batch array"), "\(result.error)")
        let unbalanced = try workspace.file("unbalanced.json", lines: ["[", contactLine(id: "b") + "}"])
        let second = workspace.run("ingest", unbalanced)
        #expect(second.exitCode == 65, "\(second.error)")
        #expect(second.error.contains("\(unbalanced):2: malformed batch array"), "\(second.error)")
    }

    @Test func aMissingInputFileIsAnIOError() {
        let result = workspace.run("ingest", workspace.path + "/missing.jsonl")
        #expect(result.exitCode == 74)
        #expect(result.error.contains("missing.jsonl"))
    }
}

@Suite struct BatchFormatTests {
    @Test func aJSONArrayBatchIngestsAndErrorsNameTheLineOfTheBadElement() throws {
        let workspace = try Workspace()
        let good = try workspace.file(
            "batch.json", lines: ["[", contactLine(id: "a") + ",", contactLine(id: "b"), "]"])
        let result = workspace.run("ingest", good, "--json")
        #expect(result.exitCode == 0, "\(result.error)")
        #expect(result.output.contains("\"appended\":2"))

        let bad = try workspace.file(
            "bad.json", lines: ["[", contactLine(id: "c") + ",", #"{"specversion":"1.0","id":"d"}"#, "]"])
        let failed = workspace.run("ingest", bad)
        #expect(failed.exitCode == 65)
        #expect(failed.error.contains("bad.json:3: "))
    }
}
