import Foundation
import Testing
import TouchlogAudit
import TouchlogCLI
import TouchlogStore

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 12: `--rejects` creates a new file, never overwrites the input, the store or an old file, and
/// keeps each bad line's bytes exactly.
@Suite struct RejectsFileTests {
    let workspace: Workspace
    let input: String
    let inputText: String

    init() throws {
        workspace = try Workspace()
        var lines = (1...4).map { contactLine(id: "e\($0)") }
        lines[2] = "{not json"
        input = try workspace.file("events.jsonl", lines: lines)
        inputText = try String(contentsOfFile: input, encoding: .utf8)
    }

    private func entries(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    private func mode(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }

    @Test func theInputItselfIsRefusedUnderAnyName() throws {
        let hardLink = workspace.path + "/hard.jsonl"
        let softLink = workspace.path + "/soft.jsonl"
        #expect(link(input, hardLink) == 0)
        #expect(symlink(input, softLink) == 0)
        for (path, force) in [(input, false), (input, true), (hardLink, true), (softLink, true)] {
            let result = workspace.run("ingest", input, "--rejects", path, force ? "--force" : "--json")
            #expect(result.exitCode == 64, "\(path) \(force): \(result.error)")
            #expect(result.error.contains("it is the input file itself"), "\(result.error)")
            #expect(try String(contentsOfFile: input, encoding: .utf8) == inputText)
        }
        // Standard input, when it is the same file.
        let stdin = dup(0)
        defer {
            dup2(stdin, 0)
            close(stdin)
        }
        let descriptor = open(input, O_RDONLY)
        #expect(dup2(descriptor, 0) == 0)
        close(descriptor)
        let fromStdin = workspace.run("ingest", "-", "--rejects", hardLink, "--force")
        #expect(fromStdin.exitCode == 64, "\(fromStdin.error)")
        #expect(try String(contentsOfFile: input, encoding: .utf8) == inputText)
        // Every one of these first ingests was refused before it stored anything: no store is left behind.
        #expect(workspace.run("stats").exitCode == ExitStatus.notFound)
    }

    @Test func nothingInsideTheStoreIsEverWritten() throws {
        #expect(workspace.run("ingest", input, "--rejects", workspace.path + "/first.jsonl").exitCode == 0)
        let data = workspace.store + "/data.mdb"
        let before = try Data(contentsOf: URL(fileURLWithPath: data))
        for (path, force) in [(data, false), (data, true), (workspace.store + "/new.jsonl", false)] {
            let result = workspace.run("ingest", input, "--rejects", path, force ? "--force" : "--json")
            #expect(result.exitCode == 64, "\(path): \(result.error)")
            #expect(result.error.contains("inside the store"), "\(result.error)")
        }
        // Another name for the store directory is caught too.
        let alias = workspace.path + "/alias"
        #expect(symlink(workspace.store, alias) == 0)
        let throughAlias = workspace.run("ingest", input, "--rejects", alias + "/data.mdb", "--force")
        #expect(throughAlias.exitCode == 64, "\(throughAlias.error)")
        #expect(!FileManager.default.fileExists(atPath: workspace.store + "/new.jsonl"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: data)) == before)
        let opened = try workspace.openStore()
        #expect(try opened.log.statistics().events == 3)
        #expect(try Auditor(store: opened).audit().ok)
    }

    @Test func anExistingFileIsRefusedUnlessForcedAndAnEmptyOneIsNotLeft() throws {
        let rejects = workspace.path + "/rejects.jsonl"
        try "keep me\n".write(toFile: rejects, atomically: false, encoding: .utf8)
        #expect(chmod(rejects, 0o644) == 0)
        let refused = workspace.run("ingest", input, "--rejects", rejects)
        #expect(refused.exitCode == 64)
        #expect(refused.error.contains("the file exists; choose a new path, or pass --force"))
        #expect(try String(contentsOfFile: rejects, encoding: .utf8) == "keep me\n")
        #expect(workspace.run("tail").outputLines.isEmpty, "nothing ingested before the refusal")

        let forced = workspace.run("ingest", input, "--rejects", rejects, "--force")
        #expect(forced.exitCode == 0, "\(forced.error)")
        #expect(try entries(rejects).map { $0["line"] as? Int } == [3])
        #expect(mode(rejects) == 0o600)

        // Nothing rejected: no file is left behind, so a re-run of a fixed input needs no --force.
        let clean = try workspace.file("clean.jsonl", lines: [contactLine(id: "c1")])
        let none = workspace.path + "/none.jsonl"
        #expect(workspace.run("ingest", clean, "--rejects", none).exitCode == 0)
        #expect(!FileManager.default.fileExists(atPath: none))

        // A symlink at the path is replaced with --force, never written through.
        let target = workspace.path + "/target"
        let linked = workspace.path + "/linked.jsonl"
        #expect(symlink(target, linked) == 0)
        #expect(workspace.run("ingest", input, "--rejects", linked).exitCode == 64)
        #expect(workspace.run("ingest", input, "--rejects", linked, "--force").exitCode == 0)
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(mode(linked) == 0o600)

        #expect(workspace.run("ingest", input, "--force").exitCode == 64, "--force needs --rejects")
    }

    @Test func eachBadLineIsKeptByteForByte() throws {
        var bytes = Array(contactLine(id: "ok1").utf8) + [0x0a]
        let invalidUTF8: [UInt8] = Array(#"{"id":"bad "#.utf8) + [0xff, 0xfe, 0xc3] + Array(#""}"#.utf8)
        bytes += invalidUTF8 + [0x0a]
        let long =
            Array(#"{"x":""#.utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 1_048_600)
            + Array(#""}"#.utf8)
        bytes += long + [0x0d, 0x0a]
        bytes += Array("{\u{1B}]0;x\u{07} not json".utf8) + [0x0a]
        let file = workspace.path + "/raw.jsonl"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let rejects = workspace.path + "/rejects.jsonl"
        let result = workspace.run("ingest", file, "--rejects", rejects, "--json")
        #expect(result.exitCode == 0, "\(result.error)")
        let written = try entries(rejects)
        try #require(written.count == 3)

        #expect(written[0]["line"] as? Int == 2)
        #expect(written[0]["input"] == nil)
        #expect(written[0]["truncated"] == nil)
        #expect(written[0]["length"] as? Int == invalidUTF8.count)
        let raw = Data(base64Encoded: try #require(written[0]["input_base64"] as? String))
        #expect(raw.map(Array.init) == invalidUTF8)

        #expect(written[1]["line"] as? Int == 3)
        #expect(written[1]["truncated"] as? Bool == true)
        #expect(written[1]["length"] as? Int == long.count)
        let startText = try #require(written[1]["input_base64"] as? String)
        let start = try #require(Data(base64Encoded: startText))
        #expect(start.count == 1_048_576)
        #expect(Array(start) == Array(long.prefix(1_048_576)))

        #expect(written[2]["line"] as? Int == 4)
        #expect(written[2]["input"] as? String == "{\u{1B}]0;x\u{07} not json")
        #expect(written[2]["input_base64"] == nil)
    }

    @Test func importRefusesTheSameWay() throws {
        let export = try workspace.file("export.csv", lines: ["number,state", "INC1,New"])
        let text = try String(contentsOfFile: export, encoding: .utf8)
        let result = workspace.run("import", "servicenow", export, "--rejects", export, "--force")
        #expect(result.exitCode == 64, "\(result.error)")
        #expect(try String(contentsOfFile: export, encoding: .utf8) == text)
    }

    @Test func theHelpDocumentsTheFormat() {
        let help = runTouchlog(["ingest", "--help"])
        for words in ["input_base64", "truncated", "length", "--force", "0600"] {
            #expect(help.output.contains(words), "\(words)")
        }
    }
}
