import Foundation
import LMDB
import Testing

@testable import TouchlogCLI

#if canImport(Glibc)
    import Glibc
#endif

/// `audit` for a reader: the verdict on the first line, anomalies counted by rule (all of them only with
/// `--anomalies`), colour only on a terminal without `NO_COLOR`.
@Suite struct AuditOutputTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    /// Three tickets changed after they were closed (one anomaly each) and two events on a ticket never
    /// opened: five anomalies of two rules.
    static let anomalies: [String] = {
        var lines: [String] = []
        var id = 0
        func event(_ type: String, ticket: String, minute: Int, data: String? = nil) -> String {
            id += 1
            let data = data.map { #","data":\#($0)"# } ?? ""
            return
                #"{"specversion":"1.0","id":"\#(id)","source":"urn:t","type":"\#(type)","subject":"c1","time":"2024-05-01T10:\#(String(format: "%02d", minute)):00Z","ticketid":"\#(ticket)","channel":"chat"\#(data)}"#
        }
        for (index, ticket) in ["t1", "t2", "t3"].enumerated() {
            lines.append(
                event("ticket.opened", ticket: ticket, minute: index * 3, data: #"{"priority":"high"}"#))
            lines.append(event("ticket.closed", ticket: ticket, minute: index * 3 + 1))
            lines.append(
                event(
                    "ticket.status_changed", ticket: ticket, minute: index * 3 + 2,
                    data: #"{"status":"open"}"#))
        }
        lines.append(event("ticket.solved", ticket: "t9", minute: 30))
        lines.append(event("ticket.closed", ticket: "t8", minute: 31))
        return lines
    }()

    func ingestAnomalies() throws {
        let ingest = workspace.run("ingest", try workspace.file("anomalies.jsonl", lines: Self.anomalies))
        #expect(ingest.exitCode == 0, "\(ingest.error)")
    }

    @Test func theVerdictComesFirstAndAnomaliesAreCountedByRule() throws {
        try ingestAnomalies()
        let audit = workspace.run("audit")
        #expect(audit.exitCode == 0, "\(audit.error)")
        let lines = audit.outputLines
        #expect(lines.first?.hasPrefix("OK: 11 events checked, ") == true, "\(lines)")
        #expect(lines.count > 1 && lines[1].hasPrefix("ticket anomalies: 5 "), "\(lines)")
        #expect(lines.contains("  3  ticket.status_changed after it was closed"), "\(lines)")
        #expect(lines.contains("  2  happened before the ticket was opened"), "\(lines)")
        // Examples, at most three of a rule, and no full list.
        let examples = lines.filter { $0.hasPrefix("      e.g. at position ") }
        #expect(examples.count == 5)
        #expect(
            lines.contains(
                "      e.g. at position 3: ticket t1 of c1: ticket.status_changed: ticket.status_changed after it was closed (closed -> open)"
            ))
        #expect(!lines.contains { $0.hasPrefix("anomaly ") })

        let all = workspace.run("audit", "--anomalies")
        #expect(all.exitCode == 0)
        #expect(all.outputLines.first == lines.first)
        #expect(all.outputLines.filter { $0.hasPrefix("anomaly at position ") }.count == 5)
        #expect(!all.output.contains("e.g."))

        // --json keeps every anomaly with its detail.
        let json = workspace.run("audit", "--json")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect((object["anomalies"] as? [[String: Any]])?.count == 5)
    }

    @Test func aFailedAuditNamesTheFirstBadPositionOnItsFirstLine() throws {
        try ingestAnomalies()
        try workspace.flipByte(of: "high", at: 4)
        let audit = workspace.run("audit")
        #expect(audit.exitCode == 1)
        let first = try #require(audit.outputLines.first)
        #expect(first.hasPrefix("FAILED: first bad position 4: hash_mismatch: "), "\(first)")
        #expect(audit.outputLines.dropFirst().first?.hasPrefix("  position 4: hash_mismatch") == true)
    }

    @Test(
        arguments: [
            (true, [:], true), (false, [:], false), (true, ["NO_COLOR": "1"], false),
            (true, ["NO_COLOR": ""], true),
            (true, ["TERM": "dumb"], false), (true, ["TERM": "xterm-256color"], true),
            (false, ["TERM": "xterm"], false),
        ] as [(Bool, [String: String], Bool)])
    func colourOnlyOnATerminalWithoutNoColour(terminal: Bool, environment: [String: String], colour: Bool) {
        #expect(Console.usesColour(outputIsTerminal: terminal, environment: environment) == colour)
    }

    @Test func theVerdictIsColouredOnAPseudoTerminalUnlessNoColourOrDumb() throws {
        try ingestAnomalies()
        let base = ProcessInfo.processInfo.environment.filter { $0.key != "NO_COLOR" }
        let coloured = try runOnTerminal(
            ["audit", "--store", workspace.store], environment: base.merging(["TERM": "xterm"]) { $1 })
        #expect(coloured.contains("\u{1B}[32mOK\u{1B}[0m: 11 events checked"), "\(coloured)")
        let noColour = try runOnTerminal(
            ["audit", "--store", workspace.store],
            environment: base.merging(["TERM": "xterm", "NO_COLOR": "1"]) { $1 })
        #expect(noColour.hasPrefix("OK: 11 events checked"), "\(noColour)")
        #expect(!noColour.contains("\u{1B}"))
        let dumb = try runOnTerminal(
            ["audit", "--store", workspace.store], environment: base.merging(["TERM": "dumb"]) { $1 })
        #expect(dumb.hasPrefix("OK: 11 events checked") && !dumb.contains("\u{1B}"), "\(dumb)")
        // Through a pipe (the in-process runner's console is no terminal): never.
        #expect(!workspace.run("audit").output.contains("\u{1B}"))
    }

    /// Runs the built `touchlog` with standard output on a new pseudo-terminal and returns what it wrote there.
    func runOnTerminal(_ arguments: [String], environment: [String: String]) throws -> String {
        // Swift's Glibc module leaves out the pseudo-terminal functions (they need _XOPEN_SOURCE): look
        // them up in the C library.
        func function<F>(_ name: String, as _: F.Type) throws -> F {
            unsafeBitCast(
                try #require(dlsym(UnsafeMutableRawPointer(bitPattern: 0), name), "no \(name)"), to: F.self)
        }
        let openMaster = try function("posix_openpt", as: (@convention(c) (Int32) -> Int32).self)
        let grant = try function("grantpt", as: (@convention(c) (Int32) -> Int32).self)
        let unlock = try function("unlockpt", as: (@convention(c) (Int32) -> Int32).self)
        let slaveName = try function(
            "ptsname", as: (@convention(c) (Int32) -> UnsafeMutablePointer<CChar>?).self)
        let master = openMaster(O_RDWR | O_NOCTTY)
        try #require(master >= 0, "posix_openpt: \(String(cString: strerror(errno)))")
        defer { close(master) }
        try #require(grant(master) == 0 && unlock(master) == 0)
        let name = String(cString: try #require(slaveName(master)))
        let slave = open(name, O_RDWR | O_NOCTTY)
        try #require(slave >= 0, "open \(name): \(String(cString: strerror(errno)))")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: touchlogExecutable())
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        process.standardError = FileHandle.nullDevice
        try process.run()
        close(slave)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            // Once the child has gone, reading the master ends with EIO (Linux) or 0.
            let count = read(master, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        process.waitUntilExit()
        // The terminal turns each newline into CR LF.
        return String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    }
}

extension Workspace {
    /// Flips one bit of the middle byte of `text` in the record at `position` of the store, as someone
    /// with the file could: the record still decodes, its stored hash no longer fits.
    func flipByte(of text: String, at position: UInt64) throws {
        var options = Environment.Options()
        options.maxDatabases = 64
        let environment = try Environment(path: store, options: options)
        try environment.withWriteTransaction { txn in
            let events = try #require(try txn.openDatabase(named: "events"))
            var record = try #require(try txn.value(forKey: BigEndianKey(position), in: events))
            let range = try #require(
                record.firstRange(of: Array(text.utf8)), "'\(text)' is not in the record")
            record[range.lowerBound + text.utf8.count / 2] ^= 0x01
            try txn.put(record, forKey: BigEndianKey(position), in: events)
        }
    }
}
