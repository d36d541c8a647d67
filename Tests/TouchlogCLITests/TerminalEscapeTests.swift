import Foundation
import Testing

@testable import TouchlogCLI

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 12: text from events reaches the terminal escaped in every human-readable output, so an event
/// cannot retitle the terminal, clear it, or forge a line; `--json` stays exact.
@Suite struct TerminalEscapeTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    /// A customer id with a newline that would forge a line, a type with an OSC title sequence, a ticket
    /// id that clears the screen, a rep id with OSC, and data with U+2028 and a C1 CSI.
    static let customer = "cus\n9  2024-01-01T00:00:00Z  forged  line"
    static let ticket = "T\u{1B}[2J"
    static let rep = "rep\u{1B}]0;owned\u{07}"
    static let hostile = [
        #"{"specversion":"1.0","id":"h1","source":"urn:t","type":"x\u001b]0;pwned\u0007","subject":"cus\n9  2024-01-01T00:00:00Z  forged  line","time":"2024-05-01T10:00:00Z","data":{"note":"a\u2028b\u009b31mred\u007f"}}"#,
        #"{"specversion":"1.0","id":"h2","source":"urn:t","type":"ticket.opened","subject":"cus\n9  2024-01-01T00:00:00Z  forged  line","time":"2024-05-01T10:01:00Z","ticketid":"T\u001b[2J","channel":"chat","data":{"priority":"high","summary":"s\u001b[31m\r\u2029"}}"#,
        #"{"specversion":"1.0","id":"h3","source":"urn:t","type":"ticket.assigned","subject":"cus\n9  2024-01-01T00:00:00Z  forged  line","time":"2024-05-01T10:02:00Z","ticketid":"T\u001b[2J","repid":"rep\u001b]0;owned\u0007"}"#,
    ]

    func ingestHostileEvents() throws {
        let file = try workspace.file("hostile.jsonl", lines: Self.hostile)
        let ingest = workspace.run("ingest", file)
        #expect(ingest.exitCode == 0, "\(ingest.error)")
    }

    /// No character a terminal acts on, other than the line ends, and exactly `lines` lines.
    func expectVisible(_ text: String, lines: Int? = nil, _ context: String) {
        let acting = text.unicodeScalars.filter { scalar in
            switch scalar.value {
            case 0x0A: return false
            case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029: return true
            default: return false
            }
        }
        #expect(acting.isEmpty, "\(context): \(acting.map { String($0.value, radix: 16) })")
        if let lines { #expect(text.split(separator: "\n").count == lines, "\(context): \(text)") }
        #expect(!text.contains("\nforged") && !text.contains("\n9  2024"), "\(context): a forged line")
    }

    @Test func tailEscapesEventText() throws {
        try ingestHostileEvents()
        let tail = workspace.run("tail")
        #expect(tail.exitCode == 0)
        expectVisible(tail.output, lines: 3, "tail")
        #expect(tail.output.contains(#"x\u{1B}]0;pwned\u{7}"#))
        #expect(tail.output.contains(#"cus\u{A}9"#))
    }

    @Test func replayEscapesEventText() throws {
        try ingestHostileEvents()
        let replay = workspace.run("replay", "--customer", Self.customer)
        #expect(replay.exitCode == 0, "\(replay.error)")
        expectVisible(replay.output, "replay")
        // Every line is an event header ("v1  ...") or a change under it, indented, then the verdict.
        for line in replay.outputLines.dropLast() {
            #expect(line.hasPrefix("v") || line.hasPrefix("    "), "\(line)")
        }
        #expect(replay.outputLines.last?.hasPrefix("intact: the 3 events of ") == true)
        let none = workspace.run("replay", "--customer", "nobody\u{1B}]0;x\u{07}")
        expectVisible(none.error, lines: 1, "replay's message")
    }

    @Test func ticketCommandsEscapeEventText() throws {
        try ingestHostileEvents()
        let list = workspace.run("ticket", "list")
        #expect(list.exitCode == 0, "\(list.error)")
        expectVisible(list.output, lines: 1, "ticket list")
        #expect(list.output.contains(#"T\u{1B}[2J"#))
        let show = workspace.run("ticket", "show", Self.ticket)
        #expect(show.exitCode == 0, "\(show.error)")
        expectVisible(show.output, lines: 18, "ticket show")
    }

    @Test func repCommandsEscapeEventText() throws {
        try ingestHostileEvents()
        let timeline = workspace.run("rep", "timeline", Self.rep)
        #expect(timeline.exitCode == 0, "\(timeline.error)")
        expectVisible(timeline.output, lines: 1, "rep timeline")
        #expect(timeline.output.contains("ticket.assigned"))
        let stats = workspace.run("rep", "stats", Self.rep)
        #expect(stats.exitCode == 0, "\(stats.error)")
        expectVisible(stats.output, lines: 8, "rep stats")
    }

    @Test func errorMessagesEscapeWhatTheyQuote() throws {
        try ingestHostileEvents()
        let missing = workspace.run("ticket", "show", "none\u{1B}]0;x\u{07}\nforged")
        #expect(missing.exitCode == 66)
        expectVisible(missing.error, lines: 1, "ticket show's error")
        #expect(missing.error.contains(#"none\u{1B}]0;x\u{7}\u{A}forged"#))
        // A strict ingest quotes the bad value in FILE:LINE: reason.
        let bad = try workspace.file(
            "bad.jsonl",
            lines: [
                #"{"specversion":"1.0","id":"b1","source":"urn:t","type":"ticket.opened","subject":"c","time":"2024-05-01T10:00:00Z","ticketid":"t","channel":"chat\u001b]0;x\u0007\nforged","data":{"priority":"high"}}"#
            ])
        let ingest = workspace.run("ingest", bad)
        #expect(ingest.exitCode == 65)
        expectVisible(ingest.error, lines: 1, "ingest's error")
    }

    @Test func jsonStaysExact() throws {
        try ingestHostileEvents()
        let tail = workspace.run("tail", "--json")
        let events = try tail.outputLines.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(events.count == 3)
        #expect(events.first?["type"] as? String == "x\u{1B}]0;pwned\u{07}")
        #expect(events.first?["subject"] as? String == Self.customer)
        let note = (events.first?["data"] as? [String: Any])?["note"] as? String
        #expect(note == "a\u{2028}b\u{9B}31mred\u{7F}")
        let list = workspace.run("ticket", "list", "--json")
        let ticket = try #require(
            try JSONSerialization.jsonObject(with: Data(list.output.utf8)) as? [String: Any])
        #expect(ticket["id"] as? String == Self.ticket)
        #expect(ticket["assignee"] as? String == Self.rep)
    }

    @Test func theEscapeCoversControlsSeparatorsAndBidiOverrides() {
        #expect("plain text, é ü ©".escapedForTerminal == "plain text, é ü ©")
        #expect("a\u{1B}[31mb".escapedForTerminal == #"a\u{1B}[31mb"#)
        #expect("a\nb\tc\rd\u{0}".escapedForTerminal == #"a\u{A}b\u{9}c\u{D}d\u{0}"#)
        #expect("\u{7F}\u{80}\u{9B}\u{9F}\u{A0}".escapedForTerminal == "\\u{7F}\\u{80}\\u{9B}\\u{9F}\u{A0}")
        #expect(
            "\u{2028}\u{2029}\u{202E}\u{2066}\u{2069}".escapedForTerminal
                == #"\u{2028}\u{2029}\u{202E}\u{2066}\u{2069}"#)
        #expect("\u{2027}\u{202F}\u{2065}\u{206A}".escapedForTerminal == "\u{2027}\u{202F}\u{2065}\u{206A}")
    }
}

/// Usage errors, which ArgumentParser words and which quote what was typed, are escaped too.
@Suite struct UsageErrorEscapeTests {
    @Test func aUsageErrorQuotingTypedControlCharactersIsEscaped() throws {
        let workspace = try Workspace()
        let errors = workspace.path + "/stderr"
        let child = try SpawnedTouchlog(
            ["replay", "--customer", "c", "--until", "x\u{1B}]0;owned\u{07}", "--store", workspace.store],
            errorPath: errors)
        let status = child.wait(seconds: 60)
        if status == nil { child.kill() }
        #expect(status == 64)
        let text = try String(contentsOfFile: errors, encoding: .utf8)
        #expect(text.contains(#"x\u{1B}]0;owned\u{7}"#), "\(text)")
        #expect(!text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, "\(text)")
        // Help is printed as it is, and exits 0.
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(null) }
        let help = try SpawnedTouchlog(["--help"], output: null, errorPath: errors)
        #expect(help.wait(seconds: 60) == 0)
    }
}
