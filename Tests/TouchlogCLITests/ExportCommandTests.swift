import Foundation
import Testing

@testable import TouchlogCLI

/// Parses RFC 4180 CSV (CRLF rows, quoted fields with doubled quotes) into rows of fields; fails on a
/// row that does not end in CRLF or a quote that is not closed.
func parseCSV(_ text: String) throws -> [[String]] {
    struct Malformed: Error { var at: Int }
    let bytes = Array(text.utf8)
    var rows: [[String]] = []
    var row: [String] = []
    var field: [UInt8] = []
    var index = 0
    var quoted = false
    while index < bytes.count {
        let byte = bytes[index]
        if quoted {
            if byte == UInt8(ascii: "\"") {
                if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\"") {
                    field.append(byte)
                    index += 1
                } else {
                    quoted = false
                }
            } else {
                field.append(byte)
            }
        } else if byte == UInt8(ascii: "\"") && field.isEmpty {
            quoted = true
        } else if byte == UInt8(ascii: ",") {
            row.append(String(decoding: field, as: UTF8.self))
            field = []
        } else if byte == 0x0D {
            guard index + 1 < bytes.count, bytes[index + 1] == 0x0A else { throw Malformed(at: index) }
            row.append(String(decoding: field, as: UTF8.self))
            rows.append(row)
            row = []
            field = []
            index += 1
        } else {
            field.append(byte)
        }
        index += 1
    }
    guard !quoted, row.isEmpty, field.isEmpty else { throw Malformed(at: index) }
    return rows
}

/// A JSON value as the CSV export writes it: null empty, a number or a string as its text, and (for the
/// columns that hold booleans, since Foundation's numbers do not tell) a boolean `true`/`false`.
private func csvText(_ value: Any, boolean: Bool = false) -> String {
    switch value {
    case is NSNull: return ""
    case let number as NSNumber: return boolean ? (number.boolValue ? "true" : "false") : number.stringValue
    default: return "\(value)"
    }
}

@Suite struct ExportCommandTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    func ingestSample(events: Int = 4000, customers: Int = 150) throws {
        let sample = workspace.path + "/sample.jsonl"
        let generate = runTouchlog([
            "generate", "--events", String(events), "--customers", String(customers), "-o", sample,
        ])
        #expect(generate.exitCode == 0)
        let ingest = workspace.run("ingest", sample)
        #expect(ingest.exitCode == 0, "\(ingest.error)")
    }

    func object(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// The rows of an export as dictionaries by header; checks the header first.
    func table(_ csv: String, header expected: [String]) throws -> [[String: String]] {
        let rows = try parseCSV(csv)
        let header = try #require(rows.first)
        #expect(header == expected)
        return rows.dropFirst().map { row in
            #expect(row.count == header.count)
            return Dictionary(uniqueKeysWithValues: zip(header, row))
        }
    }

    @Test func ticketsExportAsCSVWithTheFieldsOfTicketShowAndAsItsJSONLines() throws {
        try ingestSample()
        let list = workspace.run("ticket", "list", "--json")
        #expect(list.exitCode == 0)
        let expectedLines = list.outputLines
        #expect(expectedLines.count > 100)

        let jsonl = workspace.run("export", "tickets", "--format", "jsonl")
        #expect(jsonl.exitCode == 0, "\(jsonl.error)")
        #expect(jsonl.outputLines == expectedLines, "each line is the line 'ticket list --json' writes")

        let csv = workspace.run("export", "tickets")
        #expect(csv.exitCode == 0, "\(csv.error)")
        let rows = try table(csv.output, header: ExportTable.tickets.columns)
        #expect(rows.count == expectedLines.count)
        #expect(rows.map { $0["id"] } == expectedLines.map { try? object($0)["id"] as? String })
        // A few tickets, one with anomalies if the sample has one, compared field by field with 'ticket show'.
        var picks = [rows[0], rows[rows.count / 2], rows[rows.count - 1]]
        if let anomalous = rows.first(where: { $0["anomalies"] != "0" }) { picks.append(anomalous) }
        for row in picks {
            let id = try #require(row["id"])
            let shown = try object(workspace.run("ticket", "show", id, "--json").output)
            for column in ExportTable.tickets.columns {
                let value = try #require(shown[column], "ticket show --json has \(column)")
                let expected =
                    column == "anomalies"
                    ? String((value as? [Any])?.count ?? -1)
                    : csvText(value, boolean: column.hasSuffix("_breached"))
                #expect(row[column] == expected, "ticket \(id), column \(column)")
            }
        }
    }

    @Test func loyaltyRepsAndCustomersExportOneRowEachWithTheShowCommandsFigures() throws {
        try ingestSample()
        let customerCount = try #require(
            try object(workspace.run("stats", "--json").output)["customers"] as? Int)
        #expect(customerCount > 100)
        let loyalty = try table(
            workspace.run("export", "loyalty").output,
            header: ["customer", "score", "tier", "as_of", "satisfaction", "service", "value"])
        #expect(loyalty.count == customerCount)
        for row in [loyalty[0], loyalty[loyalty.count / 2], loyalty[loyalty.count - 1]] {
            let shown = try object(
                workspace.run("loyalty", "show", try #require(row["customer"]), "--json").output)
            for column in ["score", "tier", "as_of", "satisfaction", "service", "value"] {
                #expect(row[column] == csvText(try #require(shown[column])), "\(row["customer"]!) \(column)")
            }
        }

        let reps = try table(
            workspace.run("export", "reps").output,
            header: [
                "rep", "events", "assigned", "solved", "public_replies", "median_first_reply_minutes",
                "csat_ratings", "csat_satisfied_share",
            ])
        #expect(reps.count > 5)
        for row in [reps[0], reps[reps.count - 1]] {
            let shown = try object(workspace.run("rep", "stats", try #require(row["rep"]), "--json").output)
            for column in ["events", "assigned", "solved", "public_replies", "csat_ratings"] {
                #expect(row[column] == csvText(try #require(shown[column])), "\(row["rep"]!) \(column)")
            }
            let median = (shown["median_first_reply_minutes"] as? Double).map { roundedScore($0) }
            #expect(row["median_first_reply_minutes"].flatMap(Double.init) == median)
            #expect(
                row["csat_satisfied_share"].flatMap(Double.init) == shown["csat_satisfied_share"] as? Double)
        }

        let customers = try table(
            workspace.run("export", "customers").output,
            header: ["customer", "events", "first_event", "last_event", "tickets", "tier"])
        #expect(customers.count == customerCount)
        #expect(customers.reduce(0) { $0 + Int($1["events"]!)! } == 4000, "every event counted once")
        let log = try workspace.openLog()
        for row in [customers[0], customers[100]] {
            let id = try #require(row["customer"])
            let stream = try log.stream(ofCustomer: id)
            #expect(row["events"] == String(stream.count))
            #expect(row["first_event"] == stream.map(\.occurredAt).min()?.rfc3339)
            #expect(row["last_event"] == stream.map(\.occurredAt).max()?.rfc3339)
            #expect(row["last_event"]?.hasSuffix("Z") == true, "UTC")
            let owned = workspace.run("ticket", "list", "--customer", id, "--json").outputLines.count
            #expect(row["tickets"] == String(owned))
            #expect(
                row["tier"]
                    == (try object(workspace.run("loyalty", "show", id, "--json").output)["tier"] as? String))
        }

        let lines = workspace.run("export", "customers", "--format", "jsonl").outputLines
        #expect(lines.count == customerCount)
        let first = try object(lines[0])
        #expect(first["customer"] as? String == customers[0]["customer"])
        #expect(first["events"] as? Int == Int(customers[0]["events"]!))
    }

    @Test func outWritesTheSameBytesToAPrivateFile() throws {
        try ingestSample(events: 1000, customers: 50)
        let file = workspace.path + "/tickets.csv"
        let written = workspace.run("export", "tickets", "--out", file)
        #expect(written.exitCode == 0 && written.output.isEmpty, "\(written.error)")
        #expect(
            try String(contentsOfFile: file, encoding: .utf8) == workspace.run("export", "tickets").output)
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let missing = workspace.run("export", "tickets", "--out", workspace.path + "/no/such/dir/t.csv")
        #expect(missing.exitCode == 74)
        #expect(missing.error.contains("cannot create the export file"))
        let noStore = runTouchlog(["export", "tickets", "--store", workspace.path + "/none"])
        #expect(noStore.exitCode == 66)
        #expect(workspace.run("export", "orders").exitCode == 64)
    }

    @Test(arguments: [
        ("plain", "plain"),
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-3", "'-3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "\"'\rx\""),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("=HYPERLINK(\"x\",1)", "\"'=HYPERLINK(\"\"x\"\",1)\""),
        ("line\nbreak", "\"line\nbreak\""),
        ("a=b", "a=b"),
    ])
    func csvFieldsAreQuotedAndFormulaSafe(text: String, written: String) {
        var buffer: [UInt8] = []
        CSVWriter.writeField(text, into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == written)
    }

    @Test func fieldsFromTheLogThatLookLikeFormulasAreEscapedInTheExport() throws {
        func event(_ id: Int, _ type: String, customer: String, extra: String) -> String {
            #"{"specversion":"1.0","id":"\#(id)","source":"urn:t","type":"\#(type)","subject":"\#(customer)","time":"2024-05-01T10:0\#(id):00Z","ticketid":"=t1",\#(extra)}"#
        }
        let lines = [
            event(
                1, "ticket.opened", customer: "=cmd|' /C calc'!A0",
                extra: #""channel":"chat","data":{"priority":"high"}"#),
            event(
                2, "ticket.assigned", customer: "=cmd|' /C calc'!A0", extra: #""repid":"@rep,1","data":{}"#),
        ]
        let ingest = workspace.run("ingest", try workspace.file("f.jsonl", lines: lines))
        #expect(ingest.exitCode == 0, "\(ingest.error)")
        let tickets = try table(
            workspace.run("export", "tickets").output, header: ExportTable.tickets.columns)
        #expect(tickets.count == 1)
        #expect(tickets[0]["id"] == "'=t1")
        #expect(tickets[0]["customer"] == "'=cmd|' /C calc'!A0")
        #expect(tickets[0]["assignee"] == "'@rep,1")
        let raw = workspace.run("export", "customers").output
        #expect(raw.contains("\r\n'=cmd|' /C calc'!A0,2,2024-05-01T10:01:00Z,2024-05-01T10:02:00Z,1,"))
        // JSON Lines keeps values as they are: escaping is for spreadsheets.
        let json = try object(workspace.run("export", "tickets", "--format", "jsonl").output)
        #expect(json["id"] as? String == "=t1")
    }
}
