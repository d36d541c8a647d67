import CloudEvents
import Foundation
import Testing
import TouchlogDomain
import TouchlogGenerator
import TouchlogProjections
import TouchlogTestSupport

@testable import TouchlogReport
@testable import TouchlogStore

/// A customer's events stored in a fresh store, and the stream and check the report is built from.
private func storedStream(_ touchpoints: [Touchpoint], customer: String) throws -> (
    [StoredEvent], LogVerification
) {
    let scratch = try TestStore()
    return try withExtendedLifetime(scratch) {
        let store = try scratch.openStore()
        let result = try store.log.append(touchpoints)
        #expect(result.appended == touchpoints.count)
        return try store.log.verifiedStream(ofCustomer: customer)
    }
}

/// The quiet customer: five events on two channels, one ticket, a rating and an order; the ticket's
/// summary, the rep's id and the order's id carry hostile text.
private func quietCustomer() throws -> [Touchpoint] {
    let hostileSummary = #"<script>alert(\"x\")</script> & 'quotes' \u0007 bell"#
    return [
        try touchpoint(
            id: "q1", customer: "cus-q", type: "contact.received", time: "2024-05-01T09:00:00Z",
            extra: #""channel":"chat""#, data: #"{"summary":"hi"}"#),
        try touchpoint(
            id: "q2", customer: "cus-q", type: "ticket.opened", time: "2024-05-01T09:05:00Z",
            extra: #""channel":"email","ticketid":"tkt-1""#,
            data: #"{"priority":"high","summary":"\#(hostileSummary)"}"#),
        try touchpoint(
            id: "q3", customer: "cus-q", type: "ticket.assigned", time: "2024-05-01T09:30:00Z",
            extra: #""ticketid":"tkt-1","repid":"rep-<b>&amp;""#, data: nil),
        try touchpoint(
            id: "q4", customer: "cus-q", type: "feedback.csat", time: "2024-05-01T12:00:00Z",
            extra: #""ticketid":"tkt-1""#, data: #"{"score":5}"#),
        try touchpoint(
            id: "q5", customer: "cus-q", type: "order.placed", time: "2024-05-02T10:00:00Z", extra: "",
            data: #"{"order":"=HYPERLINK(\"http://evil\")","amount":12.50,"currency":"EUR"}"#),
    ]
}

private func count(_ needle: String, in text: String) -> Int {
    text.components(separatedBy: needle).count - 1
}

@Suite struct ReportTests {
    @Test func quietCustomerPage() throws {
        let (stream, verification) = try storedStream(try quietCustomer(), customer: "cus-q")
        let report = Report(
            subject: .customer("cus-q"), stream: stream, verification: verification, rules: .default)
        let html = report.html()
        let check = HTMLCheck(html)
        #expect(check.problems.isEmpty, "\(check.problems)")
        #expect(check.counts["svg"] == 1)
        // One lane a channel present (chat, email), one row an event.
        #expect(ReportTimeline.lanes(of: report) == [.email, .chat])
        #expect(count("<g class=\"lane\"", in: html) == 2)
        #expect(count("<tr class=\"event", in: html) == 5)
        #expect(count("<rect class=\"ticket\"", in: html) == 1)
        // A day and a bit: ticks every six hours.
        #expect(html.contains(">05-01 12:00</text>") && html.contains(">05-02 06:00</text>"))
        // The verdict comes first, before the timeline and the table.
        let verdict = try #require(html.range(of: "chain: intact: the 5 events of &#39;cus-q&#39;"))
        #expect(verdict.lowerBound < html.range(of: "<svg")!.lowerBound)
        #expect(html.contains("stream: complete: versions 1 to 5, none missing"))
        #expect(html.contains("seal: none in the store"))
        #expect(html.contains("erasures and holds: none (store format 2 has none)"))
        // The hostile text is there, escaped, never as markup.
        #expect(!html.contains("<script"))
        #expect(
            html.contains(
                "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39; \u{FFFD} bell"))
        #expect(html.contains("rep-&lt;b&gt;&amp;amp;"))
        // What changed comes from the narrator: the ticket's status and the rating.
        #expect(html.contains("tkt-1: status none → new, priority high, via email"))
        #expect(html.contains("CSAT 5 of 5"))
    }

    @Test func csvIsFormulaSafeWithUTCTimes() throws {
        let (stream, verification) = try storedStream(try quietCustomer(), customer: "cus-q")
        let report = Report(
            subject: .customer("cus-q"), stream: stream, verification: verification, rules: .default)
        let lines = report.csv().components(separatedBy: "\r\n")
        #expect(lines.first?.hasPrefix("position,version,event_time,recorded_time,type,") == true)
        #expect(lines.count == 1 + 5 + 1)  // header, five rows, and the empty string after the last CRLF
        #expect(lines[1].hasPrefix("1,1,2024-05-01T09:00:00Z,"))
        // The order's id is a formula: quoted as text, its quotes doubled, the line kept whole.
        let order = try #require(lines.first { $0.contains("order.placed") })
        #expect(order.contains(#"order =HYPERLINK(""http://evil"") placed: 12.50 EUR"#))
        #expect(!lines.contains { $0.hasPrefix("=") || $0.contains(",=") || $0.contains(",\"=") })
    }

    @Test func hostileTicketAndRepIdsInTheTimelineAreEscaped() throws {
        let ticket = #"t\"><script>alert(1)</script>"#
        let touchpoints = [
            try touchpoint(
                id: "h1", customer: "cus-h", type: "ticket.opened", time: "2024-05-01T09:05:00Z",
                extra: #""channel":"web","ticketid":"\#(ticket)""#, data: #"{"priority":"low"}"#),
            try touchpoint(
                id: "h2", customer: "cus-h", type: "ticket.closed", time: "2024-05-01T10:05:00Z",
                extra: #""ticketid":"\#(ticket)""#, data: nil),
        ]
        let (stream, verification) = try storedStream(touchpoints, customer: "cus-h")
        let html = Report(
            subject: .customer("cus-h"), stream: stream, verification: verification, rules: .default
        ).html()
        let check = HTMLCheck(html)
        #expect(check.problems.isEmpty, "\(check.problems)")
        #expect(!html.contains("<script"))
        #expect(html.contains("t&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;: closed"))
    }

    @Test func ticketReportKeepsTheTicketsEventsWithTheWholeFold() throws {
        let (stream, verification) = try storedStream(try quietCustomer(), customer: "cus-q")
        let report = Report(
            subject: .ticket("tkt-1", customer: "cus-q"), stream: stream, verification: verification,
            rules: .default)
        #expect(report.rows.map(\.stored.event.id) == ["q2", "q3", "q4"])
        #expect(report.tickets.map(\.id) == ["tkt-1"])
        #expect(report.title == "ticket tkt-1 of customer cus-q")
        let html = report.html()
        #expect(HTMLCheck(html).problems.isEmpty)
        #expect(count("<tr class=\"event", in: html) == 3)
        // The chat contact is not the ticket's: its lane is not drawn.
        #expect(ReportTimeline.lanes(of: report) == [.email])
    }

    @Test func windowKeepsEventsInItAndNarratesFromTheWholeHistory() throws {
        let (stream, verification) = try storedStream(try quietCustomer(), customer: "cus-q")
        let report = Report(
            subject: .customer("cus-q"), stream: stream, verification: verification, rules: .default,
            since: Timestamp(rfc3339: "2024-05-01T09:10:00Z"),
            until: Timestamp(rfc3339: "2024-05-01T23:00:00Z"))
        #expect(report.rows.map(\.stored.event.id) == ["q3", "q4"])
        // The assignment moves the ticket opened before the window from new to open.
        #expect(report.rows[0].changes.first == "tkt-1: status new → open, assignee none → rep-<b>&amp;")
        #expect(
            report.html().contains(
                "events that happened from 2024-05-01T09:10:00Z until 2024-05-01T23:00:00Z"))
    }

    @Test func aStreamThatIsNotIntactIsSaidFirstAndMarkedOnItsRow() throws {
        let (stream, verification) = try storedStream(try quietCustomer(), customer: "cus-q")
        var broken = verification
        broken.problems = [
            AuditProblem(position: 3, kind: .hashMismatch, message: "the record's hash is not its own")
        ]
        let report = Report(
            subject: .customer("cus-q"), stream: stream, verification: broken, rules: .default)
        #expect(!report.isIntact)
        let html = report.html()
        #expect(html.contains("<ul class=\"verdict bad\">"))
        #expect(html.contains("chain: NOT INTACT: first bad position 3: hash_mismatch"))
        #expect(count("<tr class=\"event bad\"", in: html) == 1)
        #expect(report.csv().components(separatedBy: "\r\n").filter { $0.hasSuffix(",no") }.count == 1)
    }

    @Test func aStreamWithAVersionMissingIsNotComplete() throws {
        let (stream, verification) = try storedStream(try quietCustomer(), customer: "cus-q")
        let report = Report(
            subject: .customer("cus-q"), stream: Array(stream.dropFirst()), verification: verification,
            rules: .default)
        #expect(!report.streamComplete)
        #expect(report.html().contains("stream: INCOMPLETE"))
    }

    @Test func sealFingerprintIsTheKeysSHA256() {
        // SHA-256 of 32 zero bytes starts 66687aadf862bd77...
        let zeros = Data(repeating: 0, count: 32).base64EncodedString()
        #expect(Report.fingerprint(ofPublicKey: zeros).hasPrefix("SHA256:66:68:7a:ad:f8:62:bd:77"))
        #expect(Report.fingerprint(ofPublicKey: "not base64!") == "(not base64)")
    }

    @Test func busyCustomerHasABoundedTimeline() throws {
        let touchpoints = try generatedTouchpoints(GeneratorConfiguration(events: 5_000, customers: 1))
        let (stream, verification) = try storedStream(touchpoints, customer: "cus-000001")
        #expect(stream.count == 5_000)
        let report = Report(
            subject: .customer("cus-000001"), stream: stream, verification: verification, rules: .default)
        let svg = ReportTimeline.svg(report)
        #expect(svg.utf8.count < 2_000_000, "the timeline is \(svg.utf8.count) bytes")
        let html = report.html()
        let check = HTMLCheck(html)
        #expect(check.problems.isEmpty, "\(check.problems.prefix(5))")
        let channels = Set(report.rows.compactMap(\.channel)).union(report.tickets.compactMap(\.channel))
        #expect(count("<g class=\"lane\"", in: html) == ReportTimeline.lanes(of: report).count)
        #expect(
            ReportTimeline.lanes(of: report).compactMap { $0 } == Channel.allCases.filter(channels.contains))
        #expect(count("<tr class=\"event", in: html) == 5_000)
        // Marks and ticks are gathered per bin: never more shapes than bins in a row.
        let bins = Int((ReportTimeline.width - 140) / ReportTimeline.binWidth) + 1
        #expect(count("<circle", in: svg) <= bins + 3)
        // The generated customer's events span 22 years: a tick every five years.
        #expect(svg.contains(">2030</text>") && !svg.contains(">2031</text>"))
    }

    @Test func overlappingTicketsAreCountedPerBinInsteadOfDrawnOneByOne() throws {
        // 300 tickets on one channel, each opened a minute after the one before and answered by the customer
        // 300 minutes after its opening: all open at once at minute 300, more than six rows of spans.
        func minute(_ offset: Int) -> String {
            Timestamp(microsecondsSinceEpoch: 1_714_557_600_000_000 + Int64(offset) * 60_000_000).rfc3339
        }
        var touchpoints: [Touchpoint] = []
        for index in 0..<300 {
            touchpoints.append(
                try touchpoint(
                    id: "o\(index)", customer: "cus-d", type: "ticket.opened", time: minute(index),
                    extra: #""channel":"phone","ticketid":"tkt-\#(index)""#, data: #"{"priority":"urgent"}"#))
        }
        for index in 0..<300 {
            touchpoints.append(
                try touchpoint(
                    id: "r\(index)", customer: "cus-d", type: "ticket.replied", time: minute(300 + index),
                    extra: #""ticketid":"tkt-\#(index)""#, data: #"{"author":"customer"}"#))
        }
        let (stream, verification) = try storedStream(touchpoints, customer: "cus-d")
        let report = Report(
            subject: .customer("cus-d"), stream: stream, verification: verification, rules: .default)
        let svg = ReportTimeline.svg(report)
        #expect(svg.contains("<g class=\"tickets-aggregated\">"))
        #expect(count("<rect class=\"ticket\"", in: svg) == 0)
        // The count of open tickets at the end, all of them urgent and past their first-reply target.
        #expect(svg.contains("300 ticket(s) open (300 new), 300 with an SLA breach"))
        #expect(HTMLCheck(report.html()).problems.isEmpty)
    }
}
