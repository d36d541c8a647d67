import Foundation
import Testing
import TouchlogTestSupport

/// The slice of the real ServiceNow export kept with the import tests.
private let slice = serviceNowSlicePath

private let header =
    "number,incident_state,sys_mod_count,caller_id,sys_updated_by,sys_updated_at,contact_type,priority,assigned_to,"
    + "opened_at,opened_by,category,reopen_count,made_sla,resolved_by,closed_code"

private func row(
    _ number: String, _ state: String, mods: Int, time: String, priority: String = "3 - Moderate"
) -> String {
    "\(number),\(state),\(mods),Caller 1,Updated by 2,\(time),Phone,\(priority),Resolver 3,1/3/2016 08:00,Opened by  4,"
        + "Category 5,0,true,Resolved by 6,code 7"
}

@Suite struct ImportCommandTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    @Test func theSliceImportsOnceAndAgainAppendsNothing() {
        let first = workspace.run("import", "servicenow", slice, "--json")
        #expect(first.exitCode == 0)
        #expect(
            first.output
                == #"{"appended":1596,"duplicates":0,"events":1596,"incidents":288,"rejected":0,"rows":2115}"#
                + "\n")
        let second = workspace.run("import", "servicenow", slice)
        #expect(second.exitCode == 0)
        #expect(
            second.output.contains(
                "read 2115 rows, 288 incidents, 1596 events: appended 0, duplicates 1596, rejected 0"))
        #expect(second.output.contains("nothing new"))
    }

    @Test func verifyComparesTheTicketsWithTheExportsCounters() {
        let result = workspace.run("import", "servicenow", slice, "--verify")
        #expect(result.exitCode == 0)
        #expect(result.output.contains("check: 288 tickets, 237 customers, 92 reps, 1596 events"))
        #expect(result.output.contains("lifecycle anomalies: 12 in 12 tickets"))
        #expect(result.output.contains("reopens = reopen_count: 288 of 288"))
    }

    @Test func anUnreadableRowIsFileLineAndExit65() throws {
        let file = try workspace.file(
            "export.csv",
            lines: [
                header, row("INC1", "New", mods: 0, time: "1/3/2016 09:00"),
                row("INC1", "Active", mods: 1, time: "31/2/2016 09:30"),
            ])
        let result = workspace.run("import", "servicenow", file)
        #expect(result.exitCode == 65)
        #expect(
            result.error.contains(
                "\(file):3: column 6 'sys_updated_at', fields.time: '31/2/2016 09:30' fits no time format"))
        #expect(workspace.run("tail", "--json").outputLines.isEmpty)
    }

    @Test func withRejectsTheRowIsSetAsideAndTheRestImported() throws {
        let file = try workspace.file(
            "export.csv",
            lines: [
                header, row("INC1", "New", mods: 0, time: "1/3/2016 09:00"),
                row("INC1", "Active", mods: 1, time: "1/3/2016 09:30", priority: "9 - Whenever"),
                row("INC1", "Resolved", mods: 2, time: "1/3/2016 10:00"),
            ])
        let rejects = workspace.path + "/rejects.jsonl"
        let result = workspace.run("import", "servicenow", file, "--rejects", rejects, "--json")
        #expect(result.exitCode == 0)
        #expect(
            result.output == #"{"appended":3,"duplicates":0,"events":3,"incidents":1,"rejected":1,"rows":3}"#
                + "\n")
        let written = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n")
        #expect(written.count == 1)
        let entry = try JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: Any]
        #expect(entry?["line"] as? Int == 3)
        #expect(entry?["file"] as? String == file)
        #expect(
            (entry?["reason"] as? String)?.contains(
                "fields.priority: '9 - Whenever' is not in tables.priorities")
                == true)
        #expect((entry?["input"] as? String)?.hasPrefix("INC1,Active,1,") == true)
    }

    /// Issue 12: a rejected row keeps its fields' bytes exactly, invalid UTF-8 included.
    @Test func aRejectedRowKeepsItsBytesExactly() throws {
        // An unknown priority, and an invalid UTF-8 byte at the end of its last field.
        let bad =
            Array(row("INC1", "Active", mods: 1, time: "1/3/2016 09:30", priority: "9 - Whenever").utf8)
            + [0xFF]
        var bytes = Array((header + "\n" + row("INC1", "New", mods: 0, time: "1/3/2016 09:00") + "\n").utf8)
        bytes += bad + [0x0A]
        let file = workspace.path + "/export.csv"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let rejects = workspace.path + "/rejects.jsonl"
        let result = workspace.run("import", "servicenow", file, "--rejects", rejects, "--json")
        #expect(result.exitCode == 0, "\(result.error)")
        let written = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n")
        try #require(written.count == 1)
        let entry = try #require(
            try JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: Any])
        #expect(entry["input"] == nil)
        let encoded = try #require(entry["input_base64"] as? String)
        let raw = try #require(Data(base64Encoded: encoded))
        #expect(Array(raw) == bad)
    }

    @Test func aMissingFileIsAnIOErrorAndAWrongHeaderIsBadData() throws {
        let missing = workspace.run("import", "servicenow", workspace.path + "/missing.csv")
        #expect(missing.exitCode == 74)
        #expect(missing.error.contains("missing.csv"))
        let notAnExport = try workspace.file("other.csv", lines: ["a,b", "1,2"])
        let wrong = workspace.run("import", "servicenow", notAnExport)
        #expect(wrong.exitCode == 65)
        #expect(
            wrong.error.contains("other.csv:1: the header has no column 'number' (named by fields.ticket"))
    }

    @Test func theSourceMustBeAURIReference() {
        let result = workspace.run("import", "servicenow", slice, "--source", "not a uri")
        #expect(result.exitCode == 64)
        #expect(result.error.contains("--source must be a non-empty URI-reference"))
        let custom = workspace.run("import", "servicenow", slice, "--source", "urn:acme:servicenow", "--json")
        #expect(custom.exitCode == 0)
        #expect(
            workspace.run("tail", "--json").outputLines.first?.contains(#""source":"urn:acme:servicenow""#)
                == true)
    }

    @Test func helpNamesTheCommandAndItsOptions() {
        let help = runTouchlog(["import", "servicenow", "--help"])
        #expect(help.exitCode == 0)
        #expect(help.output.contains("touchlog import <name> <file>"))
        #expect(help.output.contains("--mapping <file|name>"))
        #expect(help.output.contains("--rejects <path>"))
        #expect(help.output.contains("docs/SERVICENOW.md"))
        #expect(help.output.contains("docs/IMPORT.md"))
        #expect(runTouchlog(["--help"]).output.contains("import"))
    }
}

@Suite struct ImportAuditTests {
    @Test func anImportedStoreAuditsCleanAndListsTheRuleBreakingTransitionsAsAnomalies() throws {
        let workspace = try Workspace()
        #expect(workspace.run("import", "servicenow", slice).exitCode == 0)
        let audit = workspace.run("audit", "--json")
        #expect(audit.exitCode == 0, "\(audit.output.prefix(300))")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(audit.output.utf8)) as? [String: Any])
        #expect(report["events_checked"] as? Int == 1596)
        #expect(
            (report["projection_records_checked"] as? Int ?? 0) > 0,
            "import brings the projections up to date")
        let anomalies = try #require(report["anomalies"] as? [[String: Any]])
        // The slice holds 12 Closed -> Active rows: imported as facts, reported, not dropped.
        #expect(
            anomalies.filter { ($0["reason"] as? String)?.contains("after it was closed") == true }.count
                == 12)
        let ticket = try #require(anomalies.first?["ticket"] as? String)
        let shown = workspace.run("ticket", "show", ticket, "--json")
        #expect(shown.output.contains("after it was closed"))
    }
}

/// `touchlog import --mapping`: any export through a TOML mapping.
@Suite struct MappedImportCommandTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/examples").path

    @Test func theREADMEExampleImportsOnceAndAgainAppendsNothing() {
        let mapping = Self.examples + "/tickets.toml"
        let tickets = Self.examples + "/tickets.csv"
        let first = workspace.run("import", "--mapping", mapping, tickets, "--json")
        #expect(first.exitCode == 0, "\(first.error)")
        #expect(
            first.output == #"{"appended":7,"cases":3,"duplicates":0,"events":7,"rejected":0,"rows":3}"#
                + "\n")
        let second = workspace.run("import", "--mapping", mapping, tickets)
        #expect(
            second.output.contains("read 3 rows, 3 cases, 7 events: appended 0, duplicates 7, rejected 0"))
        let shown = workspace.run("ticket", "show", "kag-1001", "--json")
        #expect(shown.exitCode == 0)
        #expect(shown.output.contains(#""status":"solved""#))
    }

    @Test func aDryRunShowsTheFirstRowsAndTheCountsAndCreatesNoStore() {
        let result = workspace.run(
            "import", "--mapping", Self.examples + "/tickets.toml", Self.examples + "/tickets.csv",
            "--dry-run",
            "--sample", "1")
        #expect(result.exitCode == 0, "\(result.error)")
        #expect(result.outputLines.first == "events of the first 1 rows:")
        #expect(result.outputLines.filter { $0.hasPrefix("  line 2: ") }.count == 4)
        #expect(!result.output.contains("line 3:"))
        #expect(
            result.output.contains(
                "would read 3 rows, 3 cases, 7 events (ticket.opened 3, ticket.replied 2, feedback.csat 1, "
                    + "ticket.solved 1); 2 customers, 3 tickets; rejected 0"))
        #expect(!FileManager.default.fileExists(atPath: workspace.store))
    }

    @Test func listAndPrintTheBuiltInMappings() throws {
        let list = workspace.run("import", "--list")
        #expect(list.exitCode == 0)
        #expect(
            list.outputLines.map { String($0.prefix { $0 != " " }) } == [
                "servicenow", "zendesk", "freshdesk",
            ])
        let printed = workspace.run("import", "--mapping", "freshdesk", "--print")
        #expect(printed.exitCode == 0)
        #expect(printed.output.hasPrefix("# Freshdesk ticket export"))
        // What --print writes is a mapping file that imports like the built-in one.
        let file = try workspace.file("freshdesk.toml", lines: [printed.output])
        let export = try workspace.file(
            "tickets.csv",
            lines: [
                "Ticket ID,Source,Priority,Agent,Created time,Initial response time,Resolved time,Closed time,"
                    + "Last update time,Survey results,Contact ID",
                "7,Phone,Urgent,Sam Patel,2024-08-01 09:00:00,,,,2024-08-01 09:00:00,,3001",
            ])
        let dry = workspace.run("import", "--mapping", file, export, "--dry-run", "--json")
        #expect(dry.exitCode == 0, "\(dry.error)")
        #expect(dry.outputLines.first?.contains(#""channel":"phone""#) == true)
        #expect(dry.outputLines.last?.contains(#""events":1"#) == true)
    }

    @Test func aBadMappingIsItsFileLineAndKeyAndExit65() throws {
        let mapping = try workspace.file(
            "bad.toml",
            lines: [
                #"source = "urn:x""#, "[input]", #"format = "csv""#, "[fields]", #"customer = "{c}""#,
                #"time = { value = "{t}", time = "rfc3339", zone = "Mars/Olympus" }"#,
            ])
        let data = try workspace.file("in.csv", lines: ["c,t", "a,2024-01-01T00:00:00Z"])
        let result = workspace.run("import", "--mapping", mapping, data)
        #expect(result.exitCode == 65)
        #expect(result.error.contains("\(mapping):6: fields.time.zone: 'Mars/Olympus' is not a time zone"))
        let missing = workspace.run("import", "--mapping", "nosuch", data)
        #expect(missing.exitCode == 66)
        #expect(missing.error.contains("no built-in mapping of that name"))
        #expect(!FileManager.default.fileExists(atPath: workspace.store))
    }

    @Test func theBuiltInNameIsAShorthandForMapping() {
        let dry = workspace.run("import", "servicenow", slice, "--dry-run", "--json")
        #expect(dry.exitCode == 0)
        #expect(dry.outputLines.last?.contains(#""events":1596"#) == true)
        #expect(dry.outputLines.last?.contains(#""cases":288"#) == true)
        #expect(!FileManager.default.fileExists(atPath: workspace.store))
    }

    @Test func aRejectedJSONRowKeepsItsRecordExactlyAndTheRestIsImported() throws {
        let mapping = try workspace.file(
            "messages.toml",
            lines: [
                #"source = "urn:x""#, "[input]", #"format = "json""#, "[fields]", #"customer = "{from}""#,
                #"time = { value = "{at}", time = "rfc3339", required = true }"#, "[events.received]",
                #"type = "contact.received""#, #"id = "{id}""#, #"channel = "email""#,
            ])
        let bad = #"{"id":"m2","from":"ben","at":"soon"}"#
        let data = try workspace.file(
            "messages.jsonl",
            lines: [
                #"{"id":"m1","from":"ana","at":"2024-01-01T10:00:00Z"}"#, bad,
                #"{"id":"m3","from":"cy","at":"2024-01-01T11:00:00Z"}"#,
            ])
        let strict = workspace.run("import", "--mapping", mapping, data)
        #expect(strict.exitCode == 65)
        #expect(strict.error.contains("\(data):2: member 'at', fields.time: 'soon' fits no time format"))
        let rejects = workspace.path + "/rejects.jsonl"
        let lenient = workspace.run("import", "--mapping", mapping, data, "--rejects", rejects, "--json")
        #expect(lenient.exitCode == 0)
        #expect(lenient.output.contains(#""appended":2"#))
        #expect(lenient.output.contains(#""rejected":1"#))
        let entry = try #require(
            try JSONSerialization.jsonObject(
                with: Data(try String(contentsOfFile: rejects, encoding: .utf8).utf8)) as? [String: Any])
        #expect(entry["input"] as? String == bad)
        #expect(entry["line"] as? Int == 2)
    }
}
