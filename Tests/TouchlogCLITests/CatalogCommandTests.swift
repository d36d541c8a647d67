import Foundation
import Testing
import TouchlogDomain

/// `touchlog catalog` (and `help catalog`) prints the catalog of event types; shell completion offers
/// store directories, event types and the active rules' tiers.
@Suite struct CatalogCommandTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    @Test func catalogPrintsEveryTypeWithItsTagsAndData() {
        let result = runTouchlog(["catalog"])
        #expect(result.exitCode == 0)
        for entry in Catalog.entries {
            #expect(
                result.output.contains("\n\(entry.name) (code \(entry.type.rawValue)): \(entry.summary)\n"))
        }
        #expect(
            result.output.contains(
                "  channel   one of email, phone, chat, web, social, self_service, in_person, ivr\n"))
        #expect(
            result.output.contains(
                "feedback.csat (code 12): a CSAT rating\n  tags: none\n  data.score     required  integer from 1 to 5; e.g. 4\n"
            ))
        #expect(result.output.contains("  tags: ticketid; repid when data.author is rep\n"))
        let help = runTouchlog(["help", "catalog"]).output.split(whereSeparator: \.isWhitespace).joined(
            separator: " ")
        #expect(help.contains("The known types: \(Catalog.knownTypes.joined(separator: ", "))."))
    }

    @Test func catalogJSONIsOneObjectAType() throws {
        let result = runTouchlog(["catalog", "--json"])
        #expect(result.exitCode == 0)
        let objects = try result.outputLines.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(objects.map { $0["type"] as? String } == Catalog.knownTypes)
        let order = try #require(objects.first { $0["type"] as? String == "order.placed" })
        let fields = try #require(order["data"] as? [[String: Any]])
        #expect(fields.map { $0["name"] as? String } == ["order", "amount", "currency"])
        #expect(fields[1]["example"] as? Double == 49.90, "examples are JSON values")
        #expect(fields.allSatisfy { $0["required"] as? Bool == true })
        let replied = try #require(objects.first { $0["type"] as? String == "ticket.replied" })
        #expect((replied["conditional_tags"] as? [[String: String]])?.first?["name"] == "repid")
    }

    /// What bash offers for the last word of `words` with touchlog's generated completion script.
    func complete(_ words: [String], in directory: String) throws -> [String] {
        let script = workspace.path + "/complete.bash"
        try """
        source <("$TOUCHLOG" --generate-completion-script bash)
        COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _touchlog "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf '%s\\n' "${COMPREPLY[@]}"
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script] + words
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = ProcessInfo.processInfo.environment
        environment["TOUCHLOG"] = touchlogExecutable()
        // The completion script calls the program by the first word: put the built one first on PATH.
        environment["PATH"] =
            URL(fileURLWithPath: touchlogExecutable()).deletingLastPathComponent().path + ":"
            + (environment["PATH"] ?? "")
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func bashCompletesEventTypesStoreDirectoriesAndStatuses() throws {
        #expect(
            try complete(["touchlog", "append", "--type", "ticket.s"], in: workspace.path) == [
                "ticket.status_changed", "ticket.solved",
            ])
        #expect(
            try complete(["touchlog", "append", "--type", "feed"], in: workspace.path) == [
                "feedback.csat", "feedback.nps", "feedback.ces",
            ])
        try FileManager.default.createDirectory(
            atPath: workspace.path + "/stores/alpha", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: workspace.path + "/stores/afile", contents: Data())
        #expect(
            try complete(["touchlog", "tail", "--store", "stores/a"], in: workspace.path) == ["stores/alpha"])
        #expect(
            try complete(["touchlog", "ticket", "list", "--status", "o"], in: workspace.path) == [
                "open", "on_hold",
            ])
    }

    @Test func tiersAreCompletedFromTheStoresActiveRules() throws {
        #expect(
            try complete(["touchlog", "loyalty", "top", "--tier", "g"], in: workspace.path) == ["gold"],
            "built-in rules without a store")
        let file = try workspace.file("story.jsonl", lines: ProjectionCommandTests.story)
        #expect(workspace.run("ingest", file).exitCode == 0)
        let rules = runTouchlog(["rules", "show"]).output.replacingOccurrences(
            of: "\ngold = ", with: "\ngoldish = ")
        let rulesFile = workspace.path + "/rules.toml"
        try rules.write(toFile: rulesFile, atomically: true, encoding: .utf8)
        let rebuild = workspace.run("rebuild", "--rules", rulesFile)
        #expect(rebuild.exitCode == 0, "\(rebuild.error)")
        #expect(
            try complete(
                ["touchlog", "loyalty", "top", "--store", workspace.store, "--tier", "g"], in: workspace.path)
                == ["goldish"])
        #expect(
            try complete(["touchlog", "loyalty", "top", "--tier", "g"], in: workspace.path) == ["gold"],
            "no store here")
    }
}
