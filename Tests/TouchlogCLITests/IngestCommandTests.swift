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
        #expect(
            first.output == "{\"appended\":25,\"conflicts\":0,\"duplicates\":0,\"read\":25,\"rejected\":0}\n")
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
        #expect(
            rerun.output == "{\"appended\":6,\"conflicts\":0,\"duplicates\":4,\"read\":10,\"rejected\":0}\n")
    }

    @Test func rejectsModeWritesEachBadLineWithItsReasonAndStoresTheRest() throws {
        var lines = (1...6).map { contactLine(id: "e\($0)") }
        lines[1] = "{not json"
        lines[4] = contactLine(id: "e5", time: "2024-02-30T10:00:00Z")
        let file = try workspace.file("events.jsonl", lines: lines)
        let rejects = workspace.path + "/rejects.jsonl"
        let result = workspace.run("ingest", file, "--rejects", rejects, "--json")
        #expect(result.exitCode == 0)
        #expect(
            result.output == "{\"appended\":4,\"conflicts\":0,\"duplicates\":0,\"read\":6,\"rejected\":2}\n")
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

    /// Compresses `path` with the system's gzip into `path.gz` and returns that path.
    private func gzip(_ path: String) throws -> String {
        let compressed = path + ".gz"
        try #require(FileManager.default.createFile(atPath: compressed, contents: nil))
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: compressed))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-c", path]
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        try output.close()
        try #require(process.terminationStatus == 0)
        return compressed
    }

    private var gzipLines: [String] { (1...500).map { contactLine(id: "e\($0)", customer: "c\($0 % 7)") } }

    @Test func aGzipFileIngestsLikeThePlainFile() throws {
        let plain = try workspace.file("events.jsonl", lines: gzipLines + ["{not json"])
        let compressed = try gzip(plain)
        let rejects = workspace.path + "/rejects"
        let fromPlain = runTouchlog([
            "ingest", plain, "--json", "--rejects", rejects + "-plain", "--store", workspace.path + "/plain",
        ])
        let fromGzip = runTouchlog([
            "ingest", compressed, "--json", "--rejects", rejects + "-gzip", "--store",
            workspace.path + "/gzip",
        ])
        #expect(fromPlain.exitCode == 0)
        #expect(
            fromPlain.output
                == "{\"appended\":500,\"conflicts\":0,\"duplicates\":0,\"read\":501,\"rejected\":1}\n")
        #expect(fromGzip.exitCode == 0)
        #expect(fromGzip.output == fromPlain.output)
        // The bad line has the same number either way.
        let rejectedPlain = try String(contentsOfFile: rejects + "-plain", encoding: .utf8)
        let rejectedGzip = try String(contentsOfFile: rejects + "-gzip", encoding: .utf8)
        #expect(rejectedPlain.contains("\"line\":501"))
        #expect(rejectedGzip.replacingOccurrences(of: compressed, with: plain) == rejectedPlain)
        // Strict mode names the gzip file and the line.
        let strict = runTouchlog(["ingest", compressed, "--store", workspace.path + "/strict"])
        #expect(strict.exitCode == 65)
        #expect(strict.error.contains("\(compressed):501: "))
    }

    @Test func gzipOnStandardInputIngestsToo() throws {
        let compressed = try gzip(try workspace.file("events.jsonl", lines: gzipLines))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: touchlogExecutable())
        process.arguments = ["ingest", "-", "--json", "--store", workspace.store]
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: compressed))
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(
            String(decoding: printed, as: UTF8.self)
                == "{\"appended\":500,\"conflicts\":0,\"duplicates\":0,\"read\":500,\"rejected\":0}\n")
    }

    /// Corrupt or truncated gzip data is bad input (65), as in `import`; an unreadable file is 74.
    @Test func aTruncatedGzipFileIsBadDataNamingIt() throws {
        let compressed = try gzip(try workspace.file("events.jsonl", lines: gzipLines))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: compressed))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: compressed))
        let result = workspace.run("ingest", compressed)
        #expect(result.exitCode == 65)
        #expect(result.error.contains("'\(compressed)' ends in the middle of its gzip data"))
    }

    @Test func crOnlyLineEndsAreNamed() throws {
        let file = workspace.path + "/mac.jsonl"
        let text = [contactLine(id: "e1"), contactLine(id: "e2")].joined(separator: "\r") + "\r"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let result = workspace.run("ingest", file)
        #expect(result.exitCode == 65)
        #expect(
            result.error.contains(
                "\(file):1: found a carriage return (CR) without a line feed: CR-only line ends are not supported"
            ))
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

/// Issue "never lose a store", item 10: a known identity with other content is reported, never dropped.
@Suite struct IdentityConflictCommandTests {
    @Test func aConflictStopsAStrictIngestWithItsLineAndTheEarlierPosition() throws {
        let workspace = try Workspace()
        let first = try workspace.file("first.jsonl", lines: [contactLine(id: "a"), contactLine(id: "b")])
        #expect(workspace.run("ingest", first).exitCode == 0)
        let changed = contactLine(id: "b", customer: "cus-9")
        let second = try workspace.file(
            "second.jsonl", lines: [contactLine(id: "c"), contactLine(id: "a"), changed])
        let strict = workspace.run("ingest", second)
        #expect(strict.exitCode == 65)
        #expect(strict.error.contains("second.jsonl:3: "), "\(strict.error)")
        #expect(
            strict.error.contains("already in the log at position 2 with other content"), "\(strict.error)")
        #expect(workspace.run("stats", "--json").output.contains("\"events\":2"), "nothing of its batch")

        let rejects = workspace.path + "/rejects.jsonl"
        let lenient = workspace.run("ingest", second, "--rejects", rejects, "--json")
        #expect(lenient.exitCode == 0)
        #expect(lenient.output.contains("\"appended\":1"), "\(lenient.output)")
        #expect(lenient.output.contains("\"duplicates\":1"), "\(lenient.output)")
        #expect(lenient.output.contains("\"conflicts\":1"), "\(lenient.output)")
        let rejected = try String(contentsOfFile: rejects, encoding: .utf8)
        #expect(rejected.contains("\"line\":3"), "\(rejected)")
        #expect(rejected.contains("position 2 with other content"), "\(rejected)")
    }
}
