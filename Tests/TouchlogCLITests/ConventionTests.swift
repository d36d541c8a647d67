import ArgumentParser
import Foundation
import Synchronization
import Testing
import TouchlogProjections

@testable import TouchlogCLI

/// The conventions of the command line that users of jq, sqlite3 and kubectl expect: --version, exit 66 for
/// what is not there, usage errors that list the valid values, tail(1)'s habits, --json everywhere, no colour.
@Suite struct ConventionTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    func ingestStory() throws {
        let file = try workspace.file("story.jsonl", lines: ProjectionCommandTests.story)
        let ingest = workspace.run("ingest", file)
        #expect(ingest.exitCode == 0, "\(ingest.error)")
    }

    /// `touchlog help ARGS`, its words joined by single spaces (help wraps its lines).
    func help(_ arguments: String...) -> String { help(arguments) }

    func help(_ arguments: [String]) -> String {
        runTouchlog(["help"] + arguments).output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    @Test func versionPrintsTheVersionAndExitsZero() {
        let result = runTouchlog(["--version"])
        #expect(result.exitCode == 0)
        #expect(result.output == touchlogVersion + "\n")
        #expect(result.error.isEmpty)
    }

    @Test func notFoundIsExit66WithOneMessageStyle() throws {
        try ingestStory()
        let cases: [([String], String)] = [
            (["replay", "--customer", "nobody"], "no customer 'nobody' in the store"),
            (["replay", "--customer", "nobody", "--json"], "no customer 'nobody' in the store"),
            (["audit", "--customer", "nobody"], "no customer 'nobody' in the store"),
            (["loyalty", "show", "nobody"], "no customer 'nobody' in the store"),
            (["ticket", "show", "t9"], "no ticket 't9' in the store"),
            (["rep", "timeline", "r9"], "no rep 'r9' in the store"),
            (["rep", "stats", "r9", "--json"], "no rep 'r9' in the store"),
        ]
        for (command, message) in cases {
            let result = workspace.run(command)
            #expect(result.exitCode == ExitStatus.notFound, "\(command)")
            #expect(result.error == "touchlog: \(message)\n", "\(command)")
            #expect(result.output.isEmpty, "\(command)")
        }
        // Known, but nothing within the cuts: not "not found".
        let cut = workspace.run("replay", "--customer", "c1", "--until", "2000-01-01T00:00:00Z")
        #expect(cut.exitCode == 0)
        #expect(workspace.run("rep", "timeline", "r1", "--since", "2030-01-01T00:00:00Z").exitCode == 0)
        #expect(workspace.run("audit", "--customer", "c1").exitCode == 0)
    }

    @Test func notFoundIsDocumentedInTheHelp() {
        #expect(help().contains("66 not found"))
        for command in [
            ["replay"], ["audit"], ["loyalty", "show"], ["ticket", "show"], ["rep", "timeline"],
            ["rep", "stats"],
        ] {
            let text = help(command)
            #expect(text.contains("Exit 66"), "\(command)")
        }
    }

    @Test func anUnknownTierIsAUsageErrorListingTheTiers() throws {
        try ingestStory()
        let result = workspace.run("loyalty", "top", "--tier", "nosuch")
        #expect(result.exitCode == ExitStatus.usage)
        let tiers = Rules.default.tiers.map(\.name)
        #expect(result.error.contains("--tier must be one of \(tiers.joined(separator: ", ")), not 'nosuch'"))
        #expect(workspace.run("loyalty", "top", "--tier", tiers[0]).exitCode == 0)
        #expect(help("loyalty", "top").contains("'touchlog rules show' lists them"))
    }

    @Test func tailPrintsTheLastTenOrTheLastN() throws {
        let file = try workspace.file("t.jsonl", lines: (1...25).map { contactLine(id: "e\($0)") })
        #expect(workspace.run("ingest", file).exitCode == 0)
        func positions(_ result: CommandResult) -> [Int] {
            result.outputLines.compactMap { Int($0.prefix { $0 != " " }) }
        }
        #expect(positions(workspace.run("tail")) == Array(16...25))
        #expect(positions(workspace.run("tail", "-n", "3")) == [23, 24, 25])
        #expect(positions(workspace.run("tail", "--lines", "30")) == Array(1...25))
        #expect(positions(workspace.run("tail", "-n", "0")).isEmpty)
        #expect(positions(workspace.run("tail", "--from", "20")) == Array(20...25))
        #expect(positions(workspace.run("tail", "--from", "20", "-n", "2")) == [20, 21])
        #expect(workspace.run("tail", "-n", "-1").exitCode == ExitStatus.usage)
        #expect(workspace.run("tail", "--limit", "2").exitCode == ExitStatus.usage)
        let text = help("tail")
        #expect(text.contains("-n, --lines <n>"))
        #expect(text.contains("--from <position>"))
        #expect(text.contains("the last 10 events"))
    }

    @Test func repRangesAreSinceAndUntil() throws {
        try ingestStory()
        let window = workspace.run(
            "rep", "stats", "r1", "--since", "2024-05-01T14:30:00Z", "--until", "2024-05-01T15:30:00Z")
        #expect(window.exitCode == 0, "\(window.error)")
        #expect(window.output.contains("solved              1"))
        let json = workspace.run(
            "rep", "stats", "r1", "--since", "2024-05-01T14:30:00Z", "--until", "2024-05-01T15:30:00Z",
            "--json")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(object["since"] as? String == "2024-05-01T14:30:00Z")
        #expect(object["until"] as? String == "2024-05-01T15:30:00Z")
        #expect(object["from"] == nil && object["to"] == nil)
        #expect(workspace.run("rep", "timeline", "r1", "--from", "2024-05-01T14:30:00Z").exitCode == 64)
        #expect(workspace.run("rep", "stats", "r1", "--to", "2024-05-01T14:30:00Z").exitCode == 64)
        for command in ["timeline", "stats"] {
            let text = help("rep", command)
            #expect(text.contains("--since <time>") && text.contains("--until <time>"), "\(command)")
            #expect(!text.contains("--from") && !text.contains("--to "), "\(command)")
        }
    }

    @Test func sealPrintsALineOrWithJSONTheSeal() throws {
        try ingestStory()
        let key = workspace.path + "/seal.key"
        #expect(runTouchlog(["keygen", key]).exitCode == 0)
        let text = workspace.run("seal", "--key", key)
        #expect(text.exitCode == 0, "\(text.error)")
        #expect(text.outputLines.count == 1)
        #expect(text.output.hasPrefix("sealed position 7, hash "))
        let json = workspace.run("seal", "--key", key, "--json")
        #expect(json.exitCode == 0)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(object["position"] as? Int == 7)
        #expect(help("seal").contains("--json"))
    }

    @Test func theProgressMeterWritesNoEscapeSequence() {
        let error = Mutex<[UInt8]>([])
        let console = Console(
            errorIsTerminal: true, writeOutput: { _ in },
            writeError: { bytes in error.withLock { $0 += bytes } })
        Console.$current.withValue(console) {
            let meter = ProgressMeter("ingest")
            meter.update(5, force: true)
            meter.finish(1_000)
        }
        let written = error.withLock { $0 }
        #expect(String(decoding: written, as: UTF8.self).contains("ingest: 1,000 events"))
        #expect(!written.contains(0x1B), "no colour or cursor control: nothing for NO_COLOR to turn off")
    }
}
