import CloudEvents
import Foundation
import Testing
import TouchlogDomain
import TouchlogImport
import TouchlogIngest
import TouchlogStore
import TouchlogTestSupport

/// The repository's docs/examples directory (the README's sample ticket table and its mapping).
let examplesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docs/examples").path

func exampleText(_ name: String) throws -> String {
    try String(contentsOfFile: examplesDirectory + "/" + name, encoding: .utf8)
}

/// Exports of each shape a help desk hands over, each read through a mapping written only in TOML; every
/// event is checked field by field (`summary`: id, type, time, customer, tags, data).
@Suite struct MappingShapesTests {
    @Test func aTicketPerRowTableYieldsOpenedRepliedSolvedAndCSAT() throws {
        let mapping = try ImportMapping(toml: try exampleText("tickets.toml"))
        let events = try mappedEvents(mapping, try exampleText("tickets.csv"))
        #expect(
            events.map(summary) == [
                #"kag-1001/opened ticket.opened 2024-03-01T08:15:00Z ana@example.com ticketid=kag-1001 channel=email {"priority":"low"}"#,
                #"kag-1001/replied ticket.replied 2024-03-01T09:02:00Z ana@example.com ticketid=kag-1001 channel=email repid=dana-reed {"author":"rep"}"#,
                "kag-1001/solved ticket.solved 2024-03-02T15:40:00Z ana@example.com ticketid=kag-1001 channel=email repid=dana-reed",
                #"kag-1001/csat feedback.csat 2024-03-02T15:40:00Z ana@example.com ticketid=kag-1001 channel=email {"score":5}"#,
                #"kag-1002/opened ticket.opened 2024-03-01T10:30:00Z ben@example.com ticketid=kag-1002 channel=social {"priority":"urgent"}"#,
                #"kag-1002/replied ticket.replied 2024-03-01T10:41:00Z ben@example.com ticketid=kag-1002 channel=social repid=li-wei {"author":"rep"}"#,
                #"kag-1003/opened ticket.opened 2024-03-02T07:05:00Z ana@example.com ticketid=kag-1003 channel=chat {"priority":"normal"}"#,
            ])
        #expect(events.allSatisfy { $0.event.source == "urn:example:helpdesk-tickets" })
    }

    static let activityMapping = """
        source = "urn:example:process-log"
        [input]
        format = "csv"
        [case]
        id = "{case_id}"
        [tables.statuses]
        "Create ticket" = "open"
        "Assign" = ""
        "Reply" = ""
        "Wait for customer" = "pending"
        "Resolve" = "solved"
        [fields]
        ticket = "pm-{case_id}"
        customer = { value = "{customer}", keep = "first" }
        time = { value = "{timestamp}", time = "rfc3339" }
        rep = "{resource}"
        status = { value = "{activity}", table = "statuses", keep = "last", start = "new" }
        [events.opened]
        type = "ticket.opened"
        when.first = true
        id = "pm-{case_id}/opened"
        channel = "web"
        [events.assigned]
        type = "ticket.assigned"
        when.is = { activity = "Assign" }
        id = "pm-{case_id}/{@row}/assigned"
        [events.replied]
        type = "ticket.replied"
        when.is = { activity = "Reply" }
        id = "pm-{case_id}/{@row}/replied"
        data = { author = "rep" }
        [events.waiting]
        type = "ticket.status_changed"
        when = { changed = ["status"], is = { status = "pending" } }
        id = "pm-{case_id}/{@row}/status"
        data = { status = "{status}" }
        [events.solved]
        type = "ticket.solved"
        when = { changed = ["status"], is = { status = "solved" } }
        id = "pm-{case_id}/{@row}/solved"
        """

    @Test func aProcessMiningActivityLogYieldsAnEventPerActivityAndPerChangeOfStatus() throws {
        let log = """
            case_id,activity,timestamp,resource,customer
            C1,Create ticket,2024-05-01T08:00:00Z,,cust-1
            C1,Assign,2024-05-01T08:05:00Z,alice,cust-1
            C1,Reply,2024-05-01T08:20:00Z,alice,cust-1
            C1,Wait for customer,2024-05-01T08:21:00Z,alice,cust-1
            C1,Resolve,2024-05-01T09:00:00Z,alice,cust-1
            C2,Resolve,2024-05-02T10:00:00Z,bob,cust-2
            C2,Create ticket,2024-05-02T09:00:00Z,,cust-2

            """
        let events = try mappedEvents(try ImportMapping(toml: Self.activityMapping), log)
        #expect(
            events.map(summary) == [
                "pm-C1/opened ticket.opened 2024-05-01T08:00:00Z cust-1 ticketid=pm-C1 channel=web",
                "pm-C1/1/assigned ticket.assigned 2024-05-01T08:05:00Z cust-1 ticketid=pm-C1 repid=alice",
                #"pm-C1/2/replied ticket.replied 2024-05-01T08:20:00Z cust-1 ticketid=pm-C1 repid=alice {"author":"rep"}"#,
                #"pm-C1/3/status ticket.status_changed 2024-05-01T08:21:00Z cust-1 ticketid=pm-C1 repid=alice {"status":"pending"}"#,
                "pm-C1/4/solved ticket.solved 2024-05-01T09:00:00Z cust-1 ticketid=pm-C1 repid=alice",
                // A case's rows are put in time order: C2 was created before it was resolved.
                "pm-C2/opened ticket.opened 2024-05-02T09:00:00Z cust-2 ticketid=pm-C2 channel=web",
                "pm-C2/1/solved ticket.solved 2024-05-02T10:00:00Z cust-2 ticketid=pm-C2 repid=bob",
            ])
    }

    @Test func socialMessagesWithInReplyToBecomeThreads() throws {
        let mapping = try ImportMapping(
            toml: """
                source = "urn:example:social"
                [input]
                format = "json"
                [thread]
                id = "{id}"
                parent = "{in_reply_to}"
                [fields]
                time = { value = "{time}", time = "rfc3339" }
                [extensions]
                inreplyto = "{in_reply_to}"
                [events.opened]
                type = "ticket.opened"
                when.first = true
                id = "sm-{id}/opened"
                customer = "sm-{first.author}"
                ticket = "sm-{@thread}"
                channel = "social"
                data = { summary = "{text}" }
                [events.brand_reply]
                type = "ticket.replied"
                when.is = { brand = "true" }
                id = "sm-{id}"
                customer = "sm-{first.author}"
                ticket = "sm-{@thread}"
                rep = "sm-{author}"
                data = { author = "rep" }
                [events.customer_reply]
                type = "ticket.replied"
                when = { first = false, is = { brand = "false" } }
                id = "sm-{id}"
                customer = "sm-{first.author}"
                ticket = "sm-{@thread}"
                data = { author = "customer" }
                """)
        let messages = """
            {"id":"m1","author":"@ana","in_reply_to":null,"time":"2024-06-01T10:00:00Z","text":"My order is late","brand":false}
            {"id":"m2","author":"@acme_help","in_reply_to":"m1","time":"2024-06-01T10:05:00Z","text":"Sorry! DM us","brand":true}
            {"id":"m3","author":"@bob","time":"2024-06-01T10:06:00Z","text":"Love it","brand":false}
            {"id":"m4","author":"@ana","in_reply_to":"m2","time":"2024-06-01T10:09:00Z","text":"Sent","brand":false}

            """
        #expect(
            try mappedEvents(mapping, messages).map(summary) == [
                #"sm-m1/opened ticket.opened 2024-06-01T10:00:00Z sm-@ana ticketid=sm-m1 channel=social {"summary":"My order is late"}"#,
                #"sm-m2 ticket.replied 2024-06-01T10:05:00Z sm-@ana ticketid=sm-m1 repid=sm-@acme_help inreplyto=m1 {"author":"rep"}"#,
                #"sm-m3/opened ticket.opened 2024-06-01T10:06:00Z sm-@bob ticketid=sm-m3 channel=social {"summary":"Love it"}"#,
                // A reply to the brand's reply is in the first message's thread: the same ticket and customer.
                #"sm-m4 ticket.replied 2024-06-01T10:09:00Z sm-@ana ticketid=sm-m1 inreplyto=m2 {"author":"customer"}"#,
            ])
    }

    static let zendeskAudits = """
        {"audits":[
         {"id":100,"ticket_id":47,"created_at":"2024-07-01T09:00:00Z","author_id":501,"via":{"channel":"email"},"events":[
           {"id":1001,"type":"Comment","body":"My router is broken","public":true,"author_id":501},
           {"id":1002,"type":"Create","field_name":"status","value":"new"},
           {"id":1003,"type":"Create","field_name":"priority","value":"high"}]},
         {"id":101,"ticket_id":47,"created_at":"2024-07-01T09:30:00Z","author_id":900,"via":{"channel":"web"},"events":[
           {"id":1011,"type":"Change","field_name":"assignee_id","value":"900","previous_value":null},
           {"id":1012,"type":"Change","field_name":"status","value":"open","previous_value":"new"},
           {"id":1013,"type":"Comment","body":"Please restart it","public":true,"author_id":900}]},
         {"id":102,"ticket_id":47,"created_at":"2024-07-01T10:00:00Z","author_id":501,"via":{"channel":"email"},"events":[
           {"id":1021,"type":"Comment","body":"Works now","public":true,"author_id":501},
           {"id":1022,"type":"Change","field_name":"status","value":"solved","previous_value":"open"}]},
         {"id":103,"ticket_id":47,"created_at":"2024-07-02T08:00:00Z","author_id":501,"via":{"channel":"web"},"events":[
           {"id":1031,"type":"SatisfactionRating","score":"good","assignee_id":900,"body":"Thanks"}]},
         {"id":104,"ticket_id":47,"created_at":"2024-07-03T08:00:00Z","author_id":501,"via":{"channel":"email"},"events":[
           {"id":1041,"type":"Change","field_name":"status","value":"open","previous_value":"solved"}]}
        ],"next_page":null,"previous_page":null,"count":5}

        """

    @Test func zendeskTicketAuditsThroughTheBuiltInMapping() throws {
        let mapping = try #require(BuiltinMapping.named("zendesk")).load()
        let common = "zd-user-501 ticketid=zd-47"
        #expect(
            try mappedEvents(mapping, Self.zendeskAudits).map(summary) == [
                "zd-47/opened ticket.opened 2024-07-01T09:00:00Z \(common) channel=email",
                #"zd-47/1003 ticket.priority_changed 2024-07-01T09:00:00Z \#(common) {"priority":"high"}"#,
                "zd-47/1011 ticket.assigned 2024-07-01T09:30:00Z \(common) repid=zd-user-900",
                #"zd-47/1012 ticket.status_changed 2024-07-01T09:30:00Z \#(common) {"status":"open"}"#,
                #"zd-47/1013 ticket.replied 2024-07-01T09:30:00Z \#(common) repid=zd-user-900 {"author":"rep","public":true}"#,
                #"zd-47/1021 ticket.replied 2024-07-01T10:00:00Z \#(common) {"author":"customer","public":true}"#,
                "zd-47/1022 ticket.solved 2024-07-01T10:00:00Z \(common)",
                #"zd-47/1031 feedback.csat 2024-07-02T08:00:00Z \#(common) {"score":5}"#,
                "zd-47/1041/reopened ticket.reopened 2024-07-03T08:00:00Z \(common)",
            ])
    }

    @Test func freshdeskTicketExportThroughTheBuiltInMapping() throws {
        let mapping = try #require(BuiltinMapping.named("freshdesk")).load()
        let export = """
            Ticket ID,Subject,Status,Priority,Source,Type,Agent,Group,Created time,Due by Time,Resolved time,Closed time,Last update time,Initial response time,Time tracked,First response time (in hrs),Resolution time (in hrs),Agent interactions,Customer interactions,Resolution status,First response status,Tags,Survey results,Full name,Contact ID
            12,Login fails,Closed,High,Email,Incident,Sam Patel,Support,2024-08-01 09:00:00,2024-08-02 09:00:00,2024-08-01 15:30:00,2024-08-03 09:00:00,2024-08-03 09:00:00,2024-08-01 09:45:00,00:20,0.75,6.5,2,1,Within SLA,Within SLA,,Awesome,Kim Lee,3001
            13,Refund?,Open,Low,Portal,Question,No Agent,Support,2024-08-02 10:00:00,2024-08-03 10:00:00,,,2024-08-02 10:00:00,,,,,0,1,,,,,Ola Berg,3002

            """
        let common = "fd-contact-3001 ticketid=fd-12 channel=email"
        #expect(
            try mappedEvents(mapping, export).map(summary) == [
                #"fd-12/opened ticket.opened 2024-08-01T09:00:00Z \#(common) {"priority":"high"}"#,
                #"fd-12/first-response ticket.replied 2024-08-01T09:45:00Z \#(common) repid=fd-agent-sam-patel {"author":"rep"}"#,
                "fd-12/resolved ticket.solved 2024-08-01T15:30:00Z \(common) repid=fd-agent-sam-patel",
                "fd-12/closed ticket.closed 2024-08-03T09:00:00Z \(common)",
                #"fd-12/csat feedback.csat 2024-08-03T09:00:00Z \#(common) {"score":5}"#,
                #"fd-13/opened ticket.opened 2024-08-02T10:00:00Z fd-contact-3002 ticketid=fd-13 channel=web {"priority":"low"}"#,
            ])
    }

    @Test func reimportingAppendsNothing() throws {
        let store = try TestStore(prefix: "touchlog-mapping")
        let opened = try store.openStore()
        let importer = MappedImporter(mapping: try ImportMapping(toml: try exampleText("tickets.toml")))
        let first = try importer.run(
            MemoryByteSource(try exampleText("tickets.csv")), named: "t.csv", into: opened)
        #expect(first.rows == 3)
        #expect(first.cases == 3)
        #expect(first.appended == 7)
        let second = try importer.run(
            MemoryByteSource(try exampleText("tickets.csv")), named: "t.csv", into: opened)
        #expect(second.appended == 0)
        #expect(second.duplicates == 7)
        #expect(try opened.log.head().position == 7)
        // The same audits as a gzip-free JSON array of audits give the same events as the API page.
        let zendesk = MappedImporter(mapping: try #require(BuiltinMapping.named("zendesk")).load())
        let page = try zendesk.run(MemoryByteSource(Self.zendeskAudits), named: "audits.json", into: opened)
        #expect(page.appended == 9)
        let again = try zendesk.run(MemoryByteSource(Self.zendeskAudits), named: "audits.json", into: opened)
        #expect(again.appended == 0)
        #expect(again.duplicates == 9)
    }

    @Test func aJSONArrayOfRecordsAndJSONLinesReadAlike() throws {
        let mapping = try #require(BuiltinMapping.named("zendesk")).load()
        let page = try #require(try JSONValue.parse(Array(Self.zendeskAudits.utf8))["audits"])
        guard case .array(let audits) = page else { throw MappingError(message: "not an array") }
        let lines = audits.map { audit -> String in
            var bytes: [UInt8] = []
            audit.write(into: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
        let fromPage = try mappedEvents(mapping, Self.zendeskAudits)
        #expect(try mappedEvents(mapping, lines.joined(separator: "\n")) == fromPage)
        #expect(try mappedEvents(mapping, "[" + lines.joined(separator: ",\n") + "]") == fromPage)
    }
}

/// Errors name where: the mapping's line and key, or the input's line, column and the key that failed.
@Suite struct MappingErrorTests {
    func error(_ toml: String) -> MappingError? {
        do {
            _ = try ImportMapping(toml: toml)
            return nil
        } catch {
            return error
        }
    }

    let minimal = """
        source = "urn:x"
        [input]
        format = "csv"
        [fields]
        customer = "{c}"
        time = { value = "{t}", time = "rfc3339" }
        [events.opened]
        type = "ticket.opened"
        id = "{id}/opened"
        ticket = "t-{id}"
        channel = "web"
        """

    @Test func aMinimalMappingIsValid() {
        #expect(error(minimal) == nil)
    }

    @Test func badTOMLIsItsLine() {
        #expect(error("source = \"urn:x\"\n[input\n")?.line == 2)
    }

    @Test func anUnknownKeyIsItsLineAndKey() {
        let found = error(minimal + "\nwhen.frist = true\n")
        #expect(found?.line == 12)
        #expect(found?.key == "events.opened.when.frist")
        #expect(found?.message.hasPrefix("is not a key of 'events.opened.when'") == true)
    }

    @Test func aMissingTableAFormatAndATemplateAreNamed() {
        let table = error(
            minimal.replacingOccurrences(
                of: #"customer = "{c}""#, with: #"customer = { value = "{c}", table = "nope" }"#))
        #expect(table?.key == "fields.customer.table")
        #expect(table?.line == 5)
        let format = error(minimal.replacingOccurrences(of: "time = \"rfc3339\"", with: "time = \"%Y-%q\""))
        #expect(format?.key == "fields.time.time")
        #expect(format?.message.contains("unknown directive '%q'") == true)
        let template = error(minimal.replacingOccurrences(of: "{id}/opened", with: "{id/opened"))
        #expect(template?.key == "events.opened.id")
        #expect(template?.line == 9)
        let noID = error(minimal.replacingOccurrences(of: #"id = "{id}/opened""#, with: ""))
        #expect(noID?.key == "events.opened.id")
        #expect(noID?.message.hasPrefix("is required") == true)
        let both = error(minimal + "\n[case]\nid = \"{id}\"\n[thread]\nid = \"{id}\"\nparent = \"{p}\"\n")
        #expect(both?.message == "a mapping has [case] or [thread], not both")
        let fieldReadsPrevious = error(minimal.replacingOccurrences(of: #""{c}""#, with: #""{prev.c}""#))
        #expect(fieldReadsPrevious?.key == "fields.customer")
    }

    @Test func aBadRowIsItsLineColumnAndKeyAndStopsAStrictImport() throws {
        let mapping = try ImportMapping(toml: minimal)
        let store = try TestStore(prefix: "touchlog-mapping")
        let opened = try store.openStore()
        let input = "id,c,t\n1,ana,2024-01-01T10:00:00Z\n2,ben,yesterday\n"
        do {
            _ = try MappedImporter(mapping: mapping).run(
                MemoryByteSource(input), named: "in.csv", into: opened)
            Issue.record("a bad row was imported")
        } catch let error as ImportError {
            #expect(
                error.description
                    == "in.csv:3: column 3 't', fields.time: 'yesterday' fits no time format of the field (rfc3339)"
            )
            #expect(!error.isReadFailure)
        }
        #expect(try opened.log.head().position == 0)
        // A row whose event breaks the catalog (an unknown channel) names the rule's key.
        let channel = try ImportMapping(
            toml: minimal.replacingOccurrences(of: #"channel = "web""#, with: #"channel = "{c}""#))
        do {
            _ = try MappedImporter(mapping: channel).run(
                MemoryByteSource(input), named: "in.csv", into: opened)
            Issue.record("an invalid channel was imported")
        } catch let error as ImportError {
            #expect(error.description.hasPrefix("in.csv:2: events.opened: "))
            #expect(error.description.contains("channel"))
        }
    }
}

@Suite struct TimeFormatTests {
    func time(_ format: String, _ text: String, zone: String = "UTC") throws -> String? {
        let mapping = try ImportMapping(
            toml: """
                source = "urn:x"
                [input]
                format = "csv"
                [fields]
                customer = "c"
                time = { value = "{t}", time = "\(format)", zone = "\(zone)" }
                [events.e]
                type = "x.y"
                id = "{t}"
                """)
        var importer = MappedImporter(mapping: mapping)
        final class Seen { var time: String? }
        let seen = Seen()
        importer.caseHandler = { seen.time = $0.events.first?.touchpoint.event.time }
        let report = try importer.dryRun(MemoryByteSource("t\n\"\(text)\"\n"), named: "x")
        return report.rejected == 0 ? seen.time : nil
    }

    @Test func patternsZonesAndEpochs() throws {
        #expect(try time("%d/%m/%Y %H:%M", "29/2/2016 01:23") == "2016-02-29T01:23:00Z")
        #expect(try time("%d/%m/%Y %H:%M", "29/2/2017 01:23") == nil)
        #expect(
            try time("%Y-%m-%d %H:%M:%S", "2024-07-01 12:00:00", zone: "Europe/Berlin")
                == "2024-07-01T10:00:00Z")
        #expect(
            try time("%Y-%m-%d %H:%M:%S", "2024-01-01 12:00:00", zone: "Europe/Berlin")
                == "2024-01-01T11:00:00Z")
        #expect(try time("%Y-%m-%d %H:%M", "2024-01-01 12:00", zone: "-05:00") == "2024-01-01T17:00:00Z")
        #expect(try time("%m/%d/%Y %I:%M %p", "03/01/2024 1:05 PM") == "2024-03-01T13:05:00Z")
        #expect(try time("%d %b %Y %H:%M:%S%z", "5 Mar 2024 10:00:00+0100") == "2024-03-05T09:00:00Z")
        #expect(try time("%Y-%m-%dT%H:%M:%S.%f", "2024-03-05T10:00:00.25") == "2024-03-05T10:00:00.250000Z")
        #expect(try time("unix", "1700000000") == "2023-11-14T22:13:20Z")
        #expect(try time("unix_ms", "1700000000500") == "2023-11-14T22:13:20.500000Z")
    }
}
