import CloudEvents
import Testing
import TouchlogDomain
import TouchlogImport
import TouchlogIngest
import TouchlogStore

/// The built-in ServiceNow mapping (a TOML mapping like any other) on hand-made incidents: the events it
/// gives are those the code-based importer gave before it (docs/SERVICENOW.md).
@Suite struct ServiceNowMappingTests {
    /// The events of a hand-made export.
    func events(_ rows: [TestRow]) throws -> [Touchpoint] {
        try mappedEvents(try serviceNowMapping(), exportText(rows))
    }

    /// A whole incident: opened, assigned, waiting on the caller with a priority raise, solved, reopened,
    /// reassigned and solved again, closed. Rows are given out of order, as an export may hold them.
    static let history: [TestRow] = {
        var rows: [TestRow] = []
        var row = TestRow()
        rows.append(row)
        row.mods = 1
        row.updatedAt = "1/3/2016 09:10"
        row.state = "Active"
        row.assignee = "Resolver 4"
        rows.append(row)
        row.mods = 2
        row.updatedAt = "1/3/2016 10:00"
        row.state = "Awaiting User Info"
        row.priority = "2 - High"
        row.updatedBy = "Updated by 5"
        rows.append(row)
        row.mods = 3
        row.updatedAt = "1/3/2016 11:00"
        row.state = "Resolved"
        rows.append(row)
        row.mods = 4
        row.updatedAt = "1/3/2016 12:00"
        row.state = "Active"
        row.reopens = 1
        rows.append(row)
        row.mods = 5
        row.updatedAt = "1/3/2016 13:00"
        row.state = "Resolved"
        row.assignee = "Resolver 8"
        rows.append(row)
        row.mods = 6
        row.updatedAt = "5/3/2016 13:00"
        row.state = "Closed"
        row.updatedBy = "Updated by 908"
        rows.append(row)
        return [rows[0], rows[1], rows[3], rows[2], rows[6], rows[4], rows[5]]
    }()

    @Test func anIncidentHistoryBecomesTheseEvents() throws {
        let events = try events(Self.history)
        let common = "ticketid=INC9"
        #expect(
            events.map(summary) == [
                "INC9/0/opened ticket.opened 2016-03-01T09:00:00Z caller-7 \(common) channel=phone updatedby=updated-by-1 sysmodcount=0 "
                    + #"{"priority":"normal","openedat":"2016-03-01T08:55:00Z","openedby":"opened-by-2","category":"Category 5"}"#,
                "INC9/1/assigned ticket.assigned 2016-03-01T09:10:00Z caller-7 \(common) repid=resolver-4 updatedby=updated-by-1 sysmodcount=1",
                "INC9/1/status ticket.status_changed 2016-03-01T09:10:00Z caller-7 \(common) updatedby=updated-by-1 sysmodcount=1 "
                    + #"{"status":"open","state":"Active"}"#,
                "INC9/2/priority ticket.priority_changed 2016-03-01T10:00:00Z caller-7 \(common) updatedby=updated-by-5 sysmodcount=2 "
                    + #"{"priority":"high"}"#,
                "INC9/2/status ticket.status_changed 2016-03-01T10:00:00Z caller-7 \(common) updatedby=updated-by-5 sysmodcount=2 "
                    + #"{"status":"pending","state":"Awaiting User Info"}"#,
                "INC9/3/solved ticket.solved 2016-03-01T11:00:00Z caller-7 \(common) repid=resolver-4 updatedby=updated-by-5 sysmodcount=3",
                "INC9/4/reopened ticket.reopened 2016-03-01T12:00:00Z caller-7 \(common) updatedby=updated-by-5 sysmodcount=4",
                "INC9/5/assigned ticket.assigned 2016-03-01T13:00:00Z caller-7 \(common) repid=resolver-8 updatedby=updated-by-5 sysmodcount=5",
                // Back-filled closure fields appear only where they became true: the last resolution, the closing.
                "INC9/5/solved ticket.solved 2016-03-01T13:00:00Z caller-7 \(common) repid=resolver-8 updatedby=updated-by-5 sysmodcount=5 "
                    + #"{"resolvedby":"resolved-by-3"}"#,
                "INC9/6/closed ticket.closed 2016-03-05T13:00:00Z caller-7 \(common) updatedby=updated-by-908 sysmodcount=6 "
                    + #"{"closecode":"code 6"}"#,
            ])
        // Folded with the help-desk lifecycle, the events give ServiceNow's own reopen count.
        let check = ServiceNowCheck(touchpoints: events)
        let ticket = try #require(check.tickets["INC9"])
        #expect(ticket.reopens == 1)
        #expect(ticket.status == .closed)
        #expect(ticket.priority == .high)
        #expect(ticket.anomalies.isEmpty)
        #expect(ticket.resolutionMinutes == 240)
        #expect(check.reps == ["resolver-4", "resolver-8"])
    }

    @Test func theSameRowsGiveTheSameEventsWhateverTheirOrder() throws {
        #expect(try events(Self.history) == events(Self.history.reversed()))
    }

    @Test func aClosedTicketThatBecomesActiveIsImportedAndIsAnAnomaly() throws {
        let states = ["New", "Resolved", "Closed", "Active", "Resolved", "Closed"]
        let rows = states.enumerated().map { index, state in
            var row = TestRow()
            row.mods = index
            row.state = state
            row.updatedAt = "\(index + 1)/3/2016 10:00"
            row.reopens = index >= 3 ? 1 : 0
            return row
        }
        let events = try events(rows)
        #expect(
            events.map(\.event.type) == [
                "ticket.opened", "ticket.solved", "ticket.closed", "ticket.reopened", "ticket.solved",
                "ticket.closed",
            ])
        let ticket = try #require(ServiceNowCheck(touchpoints: events).tickets["INC9"])
        #expect(ticket.reopens == 1)
        #expect(ticket.anomalies == ["ticket.reopened after it was closed (closed -> open)"])
        #expect(ticket.status == .closed)
    }

    @Test func aMissingFirstRowNumberIsRepairedFromTheRepeatedModCount() throws {
        // As INC0000130 in the export: no row 0, two rows numbered 2, the earlier of them first.
        var rows: [TestRow] = []
        for (mods, time, state) in [
            (2, "09:27", "New"), (1, "09:59", "New"), (2, "14:13", "Active"), (3, "15:00", "Resolved"),
        ] {
            var row = TestRow()
            row.mods = mods
            row.updatedAt = "29/2/2016 " + time
            row.state = state
            rows.append(row)
        }
        let events = try events(rows)
        #expect(events.map(\.event.id) == ["INC9/0/opened", "INC9/2/status", "INC9/3/solved"])
        #expect(events.first?.event.time == "2016-02-29T09:27:00Z")
    }

    @Test func repeatedModCountsWithARowZeroKeepDistinctIds() throws {
        var rows = [TestRow(), TestRow(), TestRow()]
        rows[1].mods = 1
        rows[1].state = "Active"
        rows[1].updatedAt = "1/3/2016 10:00"
        rows[2].mods = 1
        rows[2].state = "Resolved"
        rows[2].updatedAt = "1/3/2016 11:00"
        let events = try events(rows)
        #expect(events.map(\.event.id) == ["INC9/0/opened", "INC9/1/status", "INC9/1-2/solved"])
    }

    @Test func unknownStatesUnassignmentAndCorrectionsAreKeptAsFieldChanges() throws {
        var rows = (0..<5).map { index -> TestRow in
            var row = TestRow()
            row.mods = index
            row.updatedAt = "1/3/2016 1\(index):00"
            row.state = "Active"
            row.assignee = "Resolver 4"
            return row
        }
        rows[0].state = "New"
        rows[2].state = "-100"
        rows[3].state = "-100"
        rows[3].assignee = "?"
        rows[3].caller = "Caller 8"
        rows[4].state = "Active"
        rows[4].assignee = "?"
        rows[4].caller = "Caller 8"
        let events = try events(rows)
        #expect(
            events.map(summary).map { $0.split(separator: " ").first.map(String.init) ?? "" } == [
                "INC9/0/opened", "INC9/0/assigned", "INC9/1/status", "INC9/2/changed-incident_state",
                "INC9/3/changed-caller_id", "INC9/3/changed-assigned_to", "INC9/4/changed-incident_state",
            ])
        // The ticket stays the first caller's; a later caller is a recorded correction.
        #expect(Set(events.map(\.customer)) == ["caller-7"])
        #expect(events[5].event.data == .json(Array(#"{"field":"assigned_to","value":null}"#.utf8)))
        #expect(events[3].event.data == .json(Array(#"{"field":"incident_state","value":"-100"}"#.utf8)))
    }

    @Test func aCallerlessIncidentBelongsToTheUnknownCaller() throws {
        var row = TestRow()
        row.caller = "?"
        let events = try events([row])
        #expect(events.map(\.customer) == ["unknown-caller"])
    }

    @Test func aRowWithAnUnknownValueOrAnImpossibleTimeIsRejectedNamingTheColumnAndTheKey() throws {
        var bad = TestRow()
        bad.mods = 1
        bad.contact = "Carrier pigeon"
        var late = TestRow()
        late.mods = 2
        late.updatedAt = "30/2/2016 10:00"
        var importer = MappedImporter(mapping: try serviceNowMapping())
        let report = try importer.dryRun(
            MemoryByteSource(exportText([TestRow(), bad, late])), named: "x.csv")
        #expect(report.rejected == 2)
        #expect(
            report.rejections == [
                "x.csv:3: column 7 'contact_type', fields.contact: 'Carrier pigeon' is not in tables.channels",
                "x.csv:4: column 6 'sys_updated_at', fields.time: '30/2/2016 10:00' fits no time format of the field "
                    + "(%d/%m/%Y %H:%M or %d/%m/%Y %H:%M:%S)",
            ])
        importer.rejectHandler = nil
    }

    @Test(arguments: [
        ("29/2/2016 01:23", "2016-02-29T01:23:00Z"), ("5/3/2016 12:00", "2016-03-05T12:00:00Z"),
        ("18/2/2017 9:05", "2017-02-18T09:05:00Z"), ("1/12/2016 23:59:30", "2016-12-01T23:59:30Z"),
    ])
    func dayFirstTimesAreReadAsUTC(text: String, rfc3339: String) throws {
        var row = TestRow()
        row.updatedAt = text
        #expect(try events([row]).first?.event.time == rfc3339)
    }

    @Test func aHeaderWithoutTheColumnsStopsTheImportAtLine1() throws {
        let importer = MappedImporter(mapping: try serviceNowMapping())
        do {
            _ = try importer.dryRun(MemoryByteSource("number,state\nINC1,New\n"), named: "x.csv")
            Issue.record("a header without the columns was read")
        } catch {
            #expect(error.line == 1)
            #expect(error.reason.hasPrefix("the header has no column 'sys_updated_at' (named by fields.time"))
        }
    }
}
