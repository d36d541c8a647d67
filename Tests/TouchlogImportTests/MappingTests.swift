import CloudEvents
import Testing
import TouchlogDomain
import TouchlogImport
import TouchlogStore

@Suite struct MappingTests {
    @Test(arguments: [
        ("Phone", Channel.phone), ("Email", .email), ("Self service", .selfService), ("IVR", .ivr),
        ("Direct opening", .inPerson),
    ])
    func contactTypesOfTheExportMapToChannels(contactType: String, channel: Channel) {
        #expect(ServiceNowMapping.channels[contactType] == channel)
    }

    @Test(arguments: [
        ("1 - Critical", Priority.urgent), ("2 - High", .high), ("3 - Moderate", .normal), ("4 - Low", .low),
    ])
    func prioritiesMap(text: String, priority: Priority) {
        #expect(ServiceNowMapping.priorities[text] == priority)
    }

    @Test(arguments: [
        ("New", IncidentState.new), ("Active", .active), ("Awaiting User Info", .awaiting(.pending)),
        ("Awaiting Vendor", .awaiting(.onHold)), ("Awaiting Problem", .awaiting(.onHold)),
        ("Awaiting Evidence", .awaiting(.onHold)), ("Resolved", .resolved), ("Closed", .closed),
    ])
    func statesOfTheExportMap(text: String, state: IncidentState) {
        #expect(ServiceNowMapping.states[text] == state)
    }

    @Test(arguments: [
        ("Caller 2403", "caller-2403"), ("Opened by  8", "opened-by-8"), ("Resolver 89", "resolver-89"),
        ("Updated by 21", "updated-by-21"), (" Odd  Spacing ", "odd-spacing"),
    ])
    func referencesBecomeIdentifiers(text: String, identifier: String) {
        #expect(ServiceNowMapping.identifier(text) == identifier)
    }

    @Test(arguments: [
        ("29/2/2016 01:23", "2016-02-29T01:23:00Z"), ("5/3/2016 12:00", "2016-03-05T12:00:00Z"),
        ("18/2/2017 9:05", "2017-02-18T09:05:00Z"), ("1/12/2016 23:59:30", "2016-12-01T23:59:30Z"),
    ])
    func dayFirstTimesAreReadAsUTC(text: String, rfc3339: String) {
        #expect(ServiceNowTime.parse(text)?.rfc3339 == rfc3339)
    }

    @Test(arguments: [
        "29/2/2017 01:23", "31/4/2016 10:00", "1/13/2016 10:00", "2016-03-01 10:00", "1/3/2016",
        "1/3/2016 24:00", "?", "",
    ])
    func impossibleTimesAreRefused(text: String) {
        #expect(ServiceNowTime.parse(text) == nil)
    }

    @Test func aRowWithAnUnknownValueIsRefusedNamingTheColumn() throws {
        var row = TestRow()
        row.contact = "Carrier pigeon"
        #expect(
            throws: RowError(
                "unknown contact_type 'Carrier pigeon' (see docs/SERVICENOW.md for the channels mapped)")
        ) {
            try incidentRows([row])
        }
        row = TestRow()
        row.updatedAt = "30/2/2016 10:00"
        #expect(throws: RowError("sys_updated_at '30/2/2016 10:00' is not a date d/m/yyyy H:MM")) {
            try incidentRows([row])
        }
        row = TestRow()
        row.state = "Pondering"
        #expect(throws: RowError.self) { try incidentRows([row]) }
    }

    @Test func questionMarksAreNullAndMinus100IsAnUnknownState() throws {
        var row = TestRow()
        row.caller = "?"
        row.state = "-100"
        let read = try #require(try incidentRows([row]).first)
        #expect(read.caller == nil)
        #expect(read.assignee == nil)
        #expect(read.state == .unknown("-100"))
    }

    @Test func aHeaderWithoutTheColumnsIsNotAnExport() throws {
        #expect(throws: RowError.self) {
            try IncidentColumns(header: CSVRecord(line: 1, fields: ["number", "state"]))
        }
    }
}
