import Foundation
import Testing

/// `seal list`, `seal export` and `audit --seal FILE`: seals listed, and a seal kept outside the store
/// checked against the log.
@Suite struct SealCommandTests {
    let workspace: Workspace
    let key: String
    init() throws {
        workspace = try Workspace()
        key = workspace.path + "/seal.key"
        #expect(runTouchlog(["keygen", key]).exitCode == 0)
    }

    func ingest(_ name: String, ids: ClosedRange<Int>) throws {
        let lines = ids.map {
            contactLine(id: "e\($0)", customer: "c\($0 % 2)", time: "2024-05-01T10:\(10 + $0):00Z")
        }
        let result = workspace.run("ingest", try workspace.file(name, lines: lines))
        #expect(result.exitCode == 0, "\(result.error)")
    }

    func object(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func sealListShowsEachStoredSealAsTextOrJSONLines() throws {
        #expect(workspace.run("seal", "list").exitCode == 66, "no store yet")
        try ingest("a.jsonl", ids: 1...3)
        let none = workspace.run("seal", "list")
        #expect(none.exitCode == 0 && none.output.isEmpty && none.error == "no seals in the store\n")
        #expect(workspace.run("seal", "--key", key).exitCode == 0)
        try ingest("b.jsonl", ids: 4...5)
        let second = workspace.run("seal", "sign", "--key", key, "--json")
        #expect(second.exitCode == 0)

        let text = workspace.run("seal", "list")
        #expect(text.exitCode == 0)
        #expect(text.outputLines.count == 2)
        #expect(text.outputLines[0].hasPrefix("seal 1  position 3  hash "))
        #expect(text.outputLines[1].hasPrefix("seal 2  position 5  hash "))

        let json = workspace.run("seal", "list", "--json")
        let objects = try json.outputLines.map(object)
        #expect(objects.map { $0["number"] as? Int } == [1, 2])
        #expect(objects.map { $0["position"] as? Int } == [3, 5])
        // The second line is the seal 'seal --json' printed, with its number.
        var printed = try object(second.output)
        printed["number"] = 2
        #expect(NSDictionary(dictionary: printed).isEqual(to: objects[1]))

        let export = workspace.run("seal", "export")
        #expect(export.exitCode == 0)
        #expect(export.output == second.output, "export prints the latest seal as 'seal --json' did")
        #expect(try object(workspace.run("seal", "export", "1").output)["position"] as? Int == 3)
        let missing = workspace.run("seal", "export", "9")
        #expect(missing.exitCode == 66 && missing.error == "touchlog: no seal '9' in the store\n")
    }

    @Test func aKeptSealCatchesALogRolledBackToAnEarlierCopy() throws {
        try ingest("a.jsonl", ids: 1...4)
        // The store as it was after 4 events: what an older backup holds.
        let backup = workspace.path + "/backup.mdb"
        try FileManager.default.copyItem(atPath: workspace.store + "/data.mdb", toPath: backup)
        try ingest("b.jsonl", ids: 5...8)
        #expect(workspace.run("seal", "--key", key).exitCode == 0)
        let kept = workspace.path + "/kept.json"
        let export = workspace.run("seal", "export")
        try export.output.write(toFile: kept, atomically: true, encoding: .utf8)

        let good = workspace.run("audit", "--seal", kept, "--public-key", key + ".pub")
        #expect(good.exitCode == 0, "\(good.output)")
        #expect(good.outputLines.first?.contains(", 1 seals checked") == true, "\(good.output)")

        // Put the backup back: the log is cut to 4 events and its stored seal went with it.
        try FileManager.default.removeItem(atPath: workspace.store + "/data.mdb")
        try FileManager.default.copyItem(atPath: backup, toPath: workspace.store + "/data.mdb")
        #expect(
            workspace.run("audit", "--seals", "--public-key", key + ".pub").exitCode == 0,
            "consistent by itself")
        let audit = workspace.run("audit", "--seal", kept, "--public-key", key + ".pub")
        #expect(audit.exitCode == 1)
        let first = try #require(audit.outputLines.first)
        #expect(first.hasPrefix("FAILED: first bad position 8: seal_mismatch: "), "\(first)")
        #expect(first.contains("covers position 8, which the log no longer has"))

        // JSON Lines of 'seal list --json' are a kept-seal file too, and so is a signature check.
        let otherKey = workspace.path + "/other.key"
        #expect(runTouchlog(["keygen", otherKey]).exitCode == 0)
        let wrongKey = workspace.run("audit", "--seal", kept, "--public-key", otherKey + ".pub", "--json")
        #expect(wrongKey.exitCode == 1)
        let problems = try #require(try object(wrongKey.output)["problems"] as? [[String: Any]])
        #expect(problems.contains { $0["kind"] as? String == "seal_signature" })
    }

    @Test func aFileThatIsNotASealIsBadInputNamingItsLine() throws {
        try ingest("a.jsonl", ids: 1...2)
        #expect(workspace.run("seal", "--key", key).exitCode == 0)
        let good = workspace.run("seal", "export").output
        let file = try workspace.file(
            "seals.jsonl", lines: [good.trimmingCharacters(in: .newlines), #"{"position":2}"#])
        let audit = workspace.run("audit", "--seal", file, "--public-key", key + ".pub")
        #expect(audit.exitCode == 65)
        #expect(audit.error == "touchlog: \(file):2: not a seal: it has no 'hash'\n", "\(audit.error)")
        #expect(workspace.run("audit", "--seal", file).exitCode == 64, "needs --public-key")
        let empty = try workspace.file("empty.jsonl", lines: [])
        #expect(workspace.run("audit", "--seal", empty, "--public-key", key + ".pub").exitCode == 65)
    }
}
