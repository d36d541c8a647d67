import Foundation
import LMDB
import Testing
import TouchlogStore
import TouchlogTestSupport

/// `touchlog erase` and `touchlog hold` on stores of format 3 (docs/STORAGE.md, "Format 3").
@Suite struct EraseCommandTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    /// A sample of 3,000 events of 40 customers, ingested.
    func ingestSample() throws {
        let sample = workspace.path + "/sample.jsonl"
        #expect(
            runTouchlog(["generate", "--events", "3000", "--customers", "40", "-o", sample]).exitCode == 0)
        let ingest = workspace.run("ingest", sample)
        #expect(ingest.exitCode == 0, "\(ingest.error)")
    }

    func json(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// Whether the file at `path` holds `text`'s UTF-8 bytes anywhere.
    func file(_ path: String, contains text: String) throws -> Bool {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        return bytes.range(of: Data(text.utf8)) != nil
    }

    /// The tickets of `customer` as `ticket list --customer --json` gives them, by id.
    func tickets(_ customer: String) throws -> [String: [String: Any]] {
        let listed = workspace.run("ticket", "list", "--customer", customer, "--json")
        #expect(listed.exitCode == 0, "\(listed.error)")
        var found: [String: [String: Any]] = [:]
        for line in listed.outputLines {
            let ticket = try json(line)
            found[try #require(ticket["id"] as? String)] = ticket
        }
        return found
    }

    /// The service's read-access log named the customer: after the erasure it keeps every read (who,
    /// when, from where) under the pseudonym, no entry names the id, and other customers' entries stay.
    @Test func anErasureMovesTheCustomersReadsInTheAccessLogToThePseudonym() throws {
        try ingestSample()
        let pseudonym = try #require(try workspace.openLog().pseudonym(ofCustomer: "cus-000007"))
        do {
            let store = try workspace.openStore()
            try ReadAccessLog(store: store).record([
                .init(
                    who: "auditor", when: "2026-12-05T10:00:00Z", customer: "cus-000007",
                    from: "127.0.0.1:5000",
                    what: "/v1/customers/cus-000007/events"),
                .init(
                    who: "auditor", when: "2026-12-05T10:01:00Z", customer: "cus-000008",
                    from: "127.0.0.1:5000",
                    what: "/v1/customers/cus-000008/events"),
            ])
        }
        #expect(workspace.run("access", "--customer", "cus-000007", "--json").outputLines.count == 1)
        let erased = workspace.run("erase", "--customer", "cus-000007", "--reason", "asked to be forgotten")
        #expect(erased.exitCode == 0, "\(erased.error)")
        let all = workspace.run("access", "--json")
        #expect(all.exitCode == 0, "\(all.error)")
        let entries = try all.outputLines.map { try json($0) }
        #expect(entries.map { $0["customer"] as? String } == [pseudonym.erasedName, "cus-000008"])
        #expect(entries.map { $0["who"] as? String } == ["auditor", "auditor"])
        #expect(entries.first?["when"] as? String == "2026-12-05T10:00:00Z")
        #expect(workspace.run("access", "--customer", "cus-000007", "--json").outputLines.isEmpty)
    }

    @Test func anErasedCustomerReadsAsErasedAndAuditAndAnEarlierSealStillVerify() throws {
        try ingestSample()
        let key = workspace.path + "/seal.key"
        #expect(runTouchlog(["keygen", key]).exitCode == 0)
        let sealed = workspace.run("seal", "--key", key, "--json")
        #expect(sealed.exitCode == 0, "\(sealed.error)")
        let kept = workspace.path + "/kept.json"
        try sealed.output.write(toFile: kept, atomically: true, encoding: .utf8)
        let before = try tickets("cus-000007")
        #expect(!before.isEmpty)
        let pseudonym = try #require(try workspace.openLog().pseudonym(ofCustomer: "cus-000007"))
        #expect(
            try file(workspace.store + "/data.mdb", contains: "cus-000007") == false, "never in the clear")

        let erased = workspace.run(
            "erase", "--customer", "cus-000007", "--reason", "asked to be forgotten", "--json")
        #expect(erased.exitCode == 0, "\(erased.error)")
        #expect(try json(erased.output)["pseudonym"] as? String == pseudonym.erasedName)

        // The stream reads as erased under its pseudonym; the id leads nowhere.
        let replay = workspace.run("replay", "--customer", pseudonym.erasedName, "--json")
        #expect(replay.exitCode == 0, "\(replay.error)")
        let events = try replay.outputLines.map(json)
        #expect(events.count > 2)
        for event in events {
            #expect(event["subject"] as? String == pseudonym.erasedName)
            #expect(event["erased"] as? Bool == true)
            if let data = event["data"] as? [String: Any] {
                #expect(data["summary"] == nil, "personal data members are gone: \(data)")
            }
        }
        #expect(events.last?["type"] as? String == "touchlog.erasure.completed")
        #expect(events.dropLast().last?["type"] as? String == "touchlog.erasure.requested")
        #expect(workspace.run("replay", "--customer", "cus-000007").exitCode == 66)

        // The projections keep what needs no personal data: same tickets, times and verdicts.
        let after = try tickets(pseudonym.erasedName)
        #expect(Set(after.keys) == Set(before.keys))
        for (id, ticket) in after {
            #expect(ticket["customer"] as? String == pseudonym.erasedName)
            for field in ["status", "priority", "opened", "first_reply_minutes", "resolution_minutes", "sla"]
            {
                #expect(
                    "\(ticket[field] ?? "nil")" == "\(before[id]?[field] ?? "nil")",
                    "ticket \(id) field \(field)")
            }
        }

        let audit = workspace.run("audit", "--seal", kept, "--public-key", key + ".pub", "--seals")
        #expect(audit.exitCode == 0, "\(audit.output)\(audit.error)")
        #expect(audit.outputLines.first?.hasPrefix("OK:") == true)

        // No plaintext copy of the id anywhere: the store's file, nor a backup of it.
        #expect(try file(workspace.store + "/data.mdb", contains: "cus-000007") == false)
        let backup = workspace.path + "/backup"
        #expect(workspace.run("backup", backup).exitCode == 0)
        #expect(try file(backup + "/data.mdb", contains: "cus-000007") == false)
        #expect(try file(workspace.store + "/data.mdb", contains: "cus-000008") == false)

        // Again: the id is no longer known (nothing erased twice), and the same id starts afresh.
        #expect(workspace.run("erase", "--customer", "cus-000007", "--reason", "again").exitCode == 66)
        let fresh = workspace.run(
            "append", "--type", "contact.received", "--customer", "cus-000007", "--channel", "email",
            "--time", "2024-02-01T10:00:00Z", "--expected-version", "0")
        #expect(fresh.exitCode == 0, "a new stream: \(fresh.error)")
    }

    @Test func anErasureUnderAHoldIsRefusedRecordedAndAllowedOnceReleased() throws {
        try ingestSample()
        #expect(
            workspace.run("hold", "place", "--customer", "cus-000003", "--matter", "Doe v. Acme").exitCode
                == 0)
        let refused = workspace.run("erase", "--customer", "cus-000003", "--reason", "GDPR")
        #expect(refused.exitCode == 1)
        #expect(refused.error.contains("under legal hold ('Doe v. Acme')"), "\(refused.error)")
        let stream = workspace.run("replay", "--customer", "cus-000003", "--json")
        let types = try stream.outputLines.map { try json($0)["type"] as? String }
        #expect(types.suffix(2) == ["touchlog.hold.placed", "touchlog.erasure.refused"])

        let releaseOther = workspace.run("hold", "release", "--customer", "cus-000003", "--matter", "other")
        #expect(releaseOther.exitCode == 65)
        #expect(releaseOther.error.contains("no hold for matter 'other'"), "\(releaseOther.error)")
        #expect(
            workspace.run("hold", "release", "--customer", "cus-000003", "--matter", "Doe v. Acme").exitCode
                == 0)
        #expect(workspace.run("erase", "--customer", "cus-000003", "--reason", "GDPR").exitCode == 0)
        #expect(workspace.run("audit").exitCode == 0)
    }

    @Test func producersCannotSendTouchlogsOwnTypes() throws {
        let forged =
            #"{"specversion":"1.0","id":"f1","source":"urn:x","type":"touchlog.hold.released","subject":"cus-1","time":"2024-05-01T10:00:00Z","data":{"matter":"m"}}"#
        let result = workspace.run("ingest", try workspace.file("forged.jsonl", lines: [forged]))
        #expect(result.exitCode == 65)
        #expect(result.error.contains("types starting 'touchlog.' are Touchlog's own"), "\(result.error)")
    }

    @Test func eraseOnAStoreOfFormatTwoAsksForMigrate() throws {
        let store = try TestStore.openStore(at: workspace.store, format: 2)
        _ = try store.log.append([try touchpoint(id: "e1", customer: "cus-1")])
        let result = workspace.run("erase", "--customer", "cus-1", "--reason", "x")
        #expect(result.exitCode == 65)
        #expect(result.error.contains("run 'touchlog migrate"), "\(result.error)")
    }

    /// Runs `touchlog ARGS` as a child process that kills itself (SIGKILL) at the fault point `fault`.
    func runKilled(at fault: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: touchlogExecutable())
        process.arguments = arguments + ["--store", workspace.store]
        var environment = ProcessInfo.processInfo.environment
        environment["TOUCHLOG_TEST_FAULT"] = fault
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "killed at \(fault)")
        return process.terminationStatus
    }

    /// Two erasures that destroyed their keys and stopped before finishing (two `erase` processes at
    /// once, both killed after their key step) each stay pending, and the next `erase` finishes both:
    /// neither completion is lost.
    @Test func twoErasuresLeftPendingAreBothFinishedByTheNextErase() throws {
        try ingestSample()
        do {
            // What the two processes did before they were killed: each destroyed its customer's key.
            let opened = try workspace.openLog()
            #expect(try opened.destroyKey(ofCustomer: "cus-000005") != nil)
            #expect(try opened.destroyKey(ofCustomer: "cus-000007") != nil)
        }
        let pending = try workspace.openLog().pendingErasures()
        #expect(pending.count == 2)

        let again = workspace.run("erase", "--customer", "cus-000009", "--reason", "GDPR")
        #expect(again.exitCode == 0, "\(again.error)")
        let log = try workspace.openLog()
        #expect(try log.pendingErasures().isEmpty)
        for pseudonym in pending {
            let types = try log.stream(ofCustomer: pseudonym.erasedName).map(\.event.type)
            #expect(types.last == "touchlog.erasure.completed")
            #expect(types.filter { $0 == "touchlog.erasure.completed" }.count == 1)
        }
        #expect(workspace.run("audit").exitCode == 0)
    }

    @Test(arguments: ["erase.requested", "erase.destroyed"])
    func anEraseKilledBetweenItsStepsIsFinishedByRunningItAgain(fault: String) throws {
        try ingestSample()
        let pseudonym = try #require(try workspace.openLog().pseudonym(ofCustomer: "cus-000005"))
        _ = try runKilled(at: fault, ["erase", "--customer", "cus-000005", "--reason", "GDPR"])

        let log = try workspace.openLog()
        switch fault {
        case "erase.requested":
            // Killed before the key was destroyed: key and content intact, every event readable.
            #expect(try log.status(ofCustomer: "cus-000005") == .live(pseudonym))
            let stream = try log.stream(ofCustomer: "cus-000005")
            #expect(stream.allSatisfy { $0.customer == "cus-000005" })
            #expect(stream.last?.event.type == "touchlog.erasure.requested")
        default:
            // Killed after: the key and content are gone together; the completion is pending.
            #expect(try log.status(ofCustomer: pseudonym.erasedName) == .erased(pseudonym))
            #expect(try log.pendingErasures() == [pseudonym])
            #expect(try log.stream(ofCustomer: pseudonym.erasedName).allSatisfy(\.isErased))
        }
        #expect(workspace.run("audit").exitCode == 0, "a killed erase leaves a consistent store")

        let again = workspace.run("erase", "--customer", "cus-000005", "--reason", "GDPR")
        #expect(again.exitCode == 0, "\(again.error)")
        let finished = try workspace.openLog()
        #expect(try finished.pendingErasures().isEmpty)
        let types = try finished.stream(ofCustomer: pseudonym.erasedName).map(\.event.type)
        #expect(types.filter { $0 == "touchlog.erasure.requested" }.count == 1, "the request is not repeated")
        #expect(types.last == "touchlog.erasure.completed")
        #expect(types.filter { $0 == "touchlog.erasure.completed" }.count == 1)
        #expect(workspace.run("audit").exitCode == 0)
    }

    /// The 32 key bytes of the first live customer in the store's `customerkeys`, read raw.
    func someKey() throws -> [UInt8] {
        var options = Environment.Options()
        options.maxDatabases = 64
        options.readOnly = true
        let environment = try Environment(path: workspace.store, options: options)
        return try environment.withReadTransaction { txn in
            let keys = try #require(try txn.openDatabase(named: "customerkeys"))
            return try txn.withCursor(on: keys) { cursor -> [UInt8] in
                #expect(try cursor.first())
                let entry = try #require(try cursor.current())
                #expect(entry.value.count == 33 && entry.value[0] == 1, "a live key")
                return Array(entry.value[1...])
            }
        }
    }

    @Test func aBackupHoldsNoKeysUnlessAsked() throws {
        try ingestSample()
        let key = try someKey()
        let keyless = workspace.path + "/keyless"
        let copied = workspace.run("backup", keyless)
        #expect(copied.exitCode == 0, "the copy audits: \(copied.output)\(copied.error)")
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: keyless + "/data.mdb")).range(of: Data(key)) == nil,
            "no key bytes in the copy")
        #expect(
            try !FileManager.default.contentsOfDirectory(atPath: keyless).contains(".staging-with-keys"),
            "no staging left")
        let replay = runTouchlog(["replay", "--customer", "cus-000001", "--json", "--store", keyless])
        #expect(replay.exitCode == 0, "\(replay.error)")
        let first = try json(try #require(replay.outputLines.first))
        #expect((first["subject"] as? String)?.hasPrefix("withheld:") == true)
        #expect(first["withheld"] as? Bool == true)
        let append = runTouchlog([
            "append", "--type", "contact.received", "--customer", "cus-000001", "--channel", "email",
            "--store", keyless,
        ])
        #expect(append.exitCode == 65)
        #expect(append.error.contains("backup made without keys"), "\(append.error)")

        let withKeys = workspace.path + "/with-keys"
        #expect(workspace.run("backup", withKeys, "--with-keys").exitCode == 0)
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: withKeys + "/data.mdb")).range(of: Data(key)) != nil)
        let full = runTouchlog(["replay", "--customer", "cus-000001", "--json", "--store", withKeys])
        #expect(try json(try #require(full.outputLines.first))["subject"] as? String == "cus-000001")
    }
}
