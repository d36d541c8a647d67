import Foundation
import Testing
import TouchlogTestSupport

/// `replay` checks each event it reads (hash, chain link, stream link) with the log's own verification,
/// marks one that fails and exits 1 with the first bad position.
@Suite struct ReplayIntegrityTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    func ingestStory() throws {
        let file = try workspace.file("story.jsonl", lines: ProjectionCommandTests.story)
        let ingest = workspace.run("ingest", file)
        #expect(ingest.exitCode == 0, "\(ingest.error)")
    }

    @Test func anIntactStreamSaysSoAndExitsZero() throws {
        try ingestStory()
        let replay = workspace.run("replay", "--customer", "c1")
        #expect(replay.exitCode == 0, "\(replay.error)")
        #expect(replay.outputLines.last == "intact: the 7 events of 'c1' have their hashes and stream links")
        #expect(!replay.output.contains("NOT INTACT"))
    }

    @Test func aTamperedEventIsMarkedAndTheReplayExitsOneWithItsPosition() throws {
        try ingestStory()
        // The CSAT score 5 at position 5 becomes 4.
        try workspace.flipByte(of: #""score":5"#, at: 5)
        let replay = workspace.run("replay", "--customer", "c1")
        #expect(replay.exitCode == 1)
        let lines = replay.outputLines
        let marked = try #require(lines.firstIndex { $0.hasPrefix("v5  ") })
        #expect(lines[marked].contains("(position 5, recorded "), "\(lines[marked])")
        #expect(lines[marked].hasSuffix(")  NOT INTACT"), "\(lines[marked])")
        #expect(lines[marked + 1].hasPrefix("    ! hash_mismatch: stored hash "), "\(lines)")
        #expect(lines.filter { $0.hasSuffix("NOT INTACT") }.count == 1, "only the changed event is marked")
        let last = try #require(lines.last)
        #expect(
            last.hasPrefix(
                "NOT INTACT: the stream of 'c1' is not intact: first bad position 5: hash_mismatch: "),
            "\(last)")

        let json = workspace.run("replay", "--customer", "c1", "--json")
        #expect(json.exitCode == 1)
        #expect(json.outputLines.count == 7, "the events are still printed")
        #expect(
            json.error.hasPrefix(
                "touchlog: the stream of 'c1' is not intact: first bad position 5: hash_mismatch"),
            "\(json.error)")

        // The whole stream is checked, even where a cut shows only its first events.
        let cut = workspace.run("replay", "--customer", "c1", "--until", "2024-05-01T14:30:00Z")
        #expect(cut.exitCode == 1)
        #expect(!cut.outputLines.contains { $0.hasSuffix("NOT INTACT") })
        #expect(cut.outputLines.last?.contains("first bad position 5") == true)
    }

    @Test func anEventMovedToAnotherCustomerBreaksTheStreamLink() throws {
        // Format 2, whose records hold the subject (format 3 holds the pseudonym: FormatThreeAuditTests).
        _ = try TestStore.openStore(at: workspace.store, format: 2)
        try ingestStory()
        let other = try workspace.file(
            "other.jsonl", lines: [contactLine(id: "o1", customer: "c2", time: "2024-05-03T10:00:00Z")])
        #expect(workspace.run("ingest", other).exitCode == 0)
        // Event 8 ("c2") claims to be c1's: its subject changes, so its hash and c1's stream no longer fit.
        try workspace.flipByte(of: "c2", at: 8)
        let replay = workspace.run("replay", "--customer", "c2")
        #expect(replay.exitCode == 1)
        #expect(replay.outputLines.last?.contains("first bad position 8") == true, "\(replay.output)")
    }
}
