import Foundation
import Glibc
import Testing
import TouchlogCLI

@Suite struct CommandTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    @Test func appendChecksTheExpectedVersion() {
        let common = [
            "--type", "contact.received", "--customer", "c1", "--channel", "phone", "--time",
            "2024-05-01T10:00:00Z",
        ]
        let first = runTouchlog(
            ["append", "--store", workspace.store, "--expected-version", "0", "--json"] + common)
        #expect(first.exitCode == 0)
        #expect(first.output == "{\"outcome\":\"appended\",\"position\":1,\"version\":1}\n")
        let conflict = runTouchlog(
            ["append", "--store", workspace.store, "--expected-version", "0"] + common)
        #expect(conflict.exitCode == 65)
        #expect(conflict.error.contains("expected version 0, actual version 1"))
        let second = runTouchlog(
            ["append", "--store", workspace.store, "--expected-version", "1", "--id", "fixed"] + common)
        #expect(second.exitCode == 0)
        #expect(second.output.contains("position 2, version 2"))
        let again = runTouchlog(["append", "--store", workspace.store, "--id", "fixed"] + common)
        #expect(again.output.contains("duplicate: already in the log at position 2"))
    }

    @Test func appendRejectsAnInvalidEventWithTheRule() {
        let result = workspace.run(
            "append", "--type", "ticket.opened", "--customer", "c1", "--channel", "fax")
        #expect(result.exitCode == 65)
        #expect(result.error.contains("'channel' must be one of"))
    }

    @Test func replayShowsTheHistoryInOrderWithWhatChanged() throws {
        let lines = [
            #"{"specversion":"1.0","id":"1","source":"urn:t","type":"ticket.opened","subject":"c1","time":"2024-05-01T10:00:00Z","ticketid":"t1","channel":"chat","data":{"priority":"high"}}"#,
            #"{"specversion":"1.0","id":"2","source":"urn:t","type":"ticket.assigned","subject":"c1","time":"2024-05-01T10:05:00Z","ticketid":"t1","repid":"r1"}"#,
            #"{"specversion":"1.0","id":"3","source":"urn:t","type":"contact.received","subject":"c2","time":"2024-05-01T10:06:00Z","channel":"email"}"#,
            #"{"specversion":"1.0","id":"4","source":"urn:t","type":"ticket.solved","subject":"c1","time":"2024-05-01T11:00:00Z","ticketid":"t1","repid":"r1"}"#,
            #"{"specversion":"1.0","id":"5","source":"urn:t","type":"ticket.replied","subject":"c1","time":"2024-05-01T12:00:00Z","ticketid":"t1","data":{"author":"customer"}}"#,
        ]
        let file = try workspace.file("t.jsonl", lines: lines)
        #expect(workspace.run("ingest", file).exitCode == 0)
        let replay = workspace.run("replay", "--customer", "c1")
        #expect(replay.exitCode == 0)
        let text = replay.output
        #expect(text.contains("v1  2024-05-01T10:00:00Z  ticket.opened"))
        #expect(text.contains("t1: status none → new, priority high, via chat"))
        #expect(text.contains("t1: status new → open, assignee none → r1"))
        #expect(text.contains("t1: status open → solved"))
        #expect(text.contains("t1: status solved → open, reopen #1"))
        #expect(!text.contains("c2"))
        let order = ["ticket.opened", "ticket.assigned", "ticket.solved", "ticket.replied"].map {
            text.range(of: $0)!.lowerBound
        }
        #expect(order == order.sorted())

        let until = workspace.run("replay", "--customer", "c1", "--until", "2024-05-01T10:30:00Z", "--json")
        #expect(until.outputLines.count == 2)
        #expect(until.outputLines[1].contains("\"sequence\":\"00000000000000000002\""))
        let knownBefore = workspace.run(
            "replay", "--customer", "c1", "--as-known-at", "2000-01-01T00:00:00Z", "--json")
        #expect(knownBefore.outputLines.isEmpty)
        let bad = workspace.run("replay", "--customer", "c1", "--until", "yesterday")
        #expect(bad.exitCode == 64)
    }

    @Test func tailPrintsTheGlobalLogFromAPosition() throws {
        let file = try workspace.file(
            "t.jsonl", lines: (1...7).map { contactLine(id: "e\($0)", customer: "c\($0 % 3)") })
        _ = workspace.run("ingest", file)
        let tail = workspace.run("tail", "--from", "5", "--json")
        #expect(tail.exitCode == 0)
        #expect(tail.outputLines.count == 3)
        #expect(tail.outputLines[0].contains("\"id\":\"e5\""))
        #expect(tail.outputLines[0].contains("\"position\":5"))
        let text = workspace.run("tail", "--from", "1", "-n", "2")
        #expect(text.outputLines.count == 2)
        #expect(text.outputLines[0].hasPrefix("1  2024-05-01T10:00:00Z  c1  contact.received  channel=email"))
    }

    @Test func readingCommandsDoNotCreateAMissingStore() throws {
        let result = workspace.run("tail")
        #expect(result.exitCode == ExitStatus.notFound)
        #expect(result.error.contains("no store at"))
        #expect(!FileManager.default.fileExists(atPath: workspace.store))
        // An existing, empty directory is not a store either: reading commands write nothing into it.
        try FileManager.default.createDirectory(atPath: workspace.store, withIntermediateDirectories: false)
        for command in [
            ["stats"], ["tail"], ["replay", "--customer", "c1"], ["audit"], ["ticket", "list"],
            ["report", "--customer", "c1", "--out", workspace.path + "/report"],
        ] {
            let reading = workspace.run(command)
            #expect(reading.exitCode == ExitStatus.notFound, "\(command)")
            #expect(reading.error.contains("holds no data.mdb"), "\(command): \(reading.error)")
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: workspace.store).isEmpty, "\(command)")
        }
    }

    @Test func statsCountEventsAndCustomers() throws {
        let file = try workspace.file(
            "t.jsonl", lines: (1...9).map { contactLine(id: "e\($0)", customer: "c\($0 % 3)") })
        _ = workspace.run("ingest", file)
        let stats = workspace.run("stats", "--json")
        let object = try JSONSerialization.jsonObject(with: Data(stats.output.utf8)) as? [String: Any]
        #expect(object?["events"] as? Int == 9)
        #expect(object?["customers"] as? Int == 3)
        #expect(object?["head_position"] as? Int == 9)
        #expect((object?["head_hash"] as? String)?.count == 64)
    }

    @Test func generatedSamplesIngestCleanly() throws {
        let sample = workspace.path + "/sample.jsonl"
        let generate = runTouchlog(["generate", "--events", "3000", "--customers", "200", "--output", sample])
        #expect(generate.exitCode == 0)
        let ingest = workspace.run("ingest", sample, "--json")
        #expect(ingest.exitCode == 0, "\(ingest.error)")
        #expect(
            ingest.output
                == "{\"appended\":3000,\"conflicts\":0,\"duplicates\":0,\"read\":3000,\"rejected\":0}\n")
    }

    @Test func helpNamesEveryCommandAndTheExitCodes() {
        let help = runTouchlog(["--help"])
        #expect(help.exitCode == 0)
        for command in ["ingest", "append", "replay", "tail", "stats", "generate"] {
            #expect(help.output.contains("  \(command) "), "\(command)")
        }
        // Help wraps its lines: compare words.
        #expect(
            help.output.split(whereSeparator: \.isWhitespace).joined(separator: " ").contains(
                "65 bad input data"))
        let ingestHelp = runTouchlog(["ingest", "--help"])
        #expect(ingestHelp.output.contains("--rejects <path>"))
        #expect(ingestHelp.output.contains("exit 65"))
    }
}

@Suite struct FollowTests {
    @Test(.timeLimit(.minutes(1)))
    func tailFollowPrintsEventsAppendedByAnotherProcessAsTheyArrive() throws {
        let workspace = try Workspace()
        _ = workspace.run("ingest", try workspace.file("a.jsonl", lines: [contactLine(id: "first")]))
        let follower = try ChildTouchlog(["tail", "--follow", "--json", "--store", workspace.store])
        defer {
            follower.kill()
            follower.wait()
        }
        func waitFor(_ count: Int) {
            for _ in 0..<200 where follower.output.count < count { usleep(25_000) }
        }
        waitFor(1)
        #expect(follower.output.count == 1)
        _ = workspace.run(
            "ingest",
            try workspace.file("b.jsonl", lines: [contactLine(id: "second"), contactLine(id: "third")]))
        waitFor(3)
        #expect(follower.output.count == 3)
        #expect(follower.output.last?.contains("\"id\":\"third\"") == true)
        #expect(follower.output.last?.contains("\"position\":3") == true)
    }
}
