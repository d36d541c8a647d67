import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogProjections

/// The report's timeline as inline SVG (no script, no reference outside itself).
///
/// One lane per channel present (in the catalog's channel order; events and tickets with no channel share
/// a "no channel" lane), each holding its tickets as spans from opened to closed (or to their last event
/// when not closed), filled by final status and outlined by SLA verdict, and below them a tick for each
/// event that belongs to no ticket (contacts, article views). Ratings (CSAT, NPS, CES) and orders are
/// marks in a row of their own under the lanes; a time axis with UTC ticks closes it.
///
/// The size is bounded whatever the number of events: marks and ticks are gathered in bins of
/// ``binWidth`` pixels (one shape a bin, its title giving the count), and a lane whose tickets would need
/// more than ``maxTicketRows`` rows (or number more than ``maxTicketSpans``) shows, per bin, how many
/// tickets were open, stacked by status, instead of one span a ticket.
public struct ReportTimeline {
    public static let width = 1000.0
    public static let binWidth = 3.0
    public static let maxTicketRows = 6
    public static let maxTicketSpans = 200
    static let left = 120.0
    static let right = 20.0
    static let rowHeight = 12.0
    static let rowGap = 3.0
    static let tickHeight = 10.0

    /// The lanes of `report`: the channels of its rows and tickets in catalog order, then nil (no channel)
    /// when an event other than a rating or an order, or a ticket, has no channel.
    public static func lanes(of report: Report) -> [Channel?] {
        var present = Set<Channel?>()
        for row in report.rows where !isMark(row.kind) { present.insert(row.channel) }
        for ticket in report.tickets { present.insert(ticket.channel) }
        return Channel.allCases.filter { present.contains($0) } + (present.contains(nil) ? [nil] : [])
    }

    /// Ratings and orders are marks in their own row, not events of a lane.
    static func isMark(_ kind: TouchpointKind?) -> Bool {
        switch kind {
        case .csat, .nps, .ces, .orderPlaced, .orderRefunded: true
        default: false
        }
    }

    /// The SVG element (to be placed inline in the HTML page).
    public static func svg(_ report: Report) -> String {
        var drawing = Drawing(report: report)
        return drawing.render()
    }
}

/// The layout and drawing of one timeline.
private struct Drawing {
    typealias T = ReportTimeline
    let report: Report
    let start: Double
    let end: Double
    let plotWidth = T.width - T.left - T.right
    var bins: Int { Int((plotWidth / T.binWidth).rounded(.up)) }
    var out = ""

    init(report: Report) {
        self.report = report
        var times = report.rows.map { seconds($0.stored.occurredAt) }
        for ticket in report.tickets {
            times.append(seconds(ticket.openedAt ?? ticket.firstEventAt))
            times.append(seconds(ticket.closedAt ?? ticket.lastEventAt))
        }
        var low = report.since.map(seconds) ?? times.min() ?? 0
        var high = report.until.map(seconds) ?? times.max() ?? 0
        if report.since == nil || report.until == nil {
            // Room at the edges a window did not fix, and at least ten minutes in all.
            let pad = max((high - low) * 0.02, max(0, 600 - (high - low)) / 2)
            if report.since == nil { low -= pad }
            if report.until == nil { high += pad }
        }
        if high <= low { high = low + 600 }
        start = low
        end = high
    }

    func x(_ t: Double) -> Double {
        T.left + (min(max(t, start), end) - start) / (end - start) * plotWidth
    }

    func bin(_ t: Double) -> Int { min(bins - 1, max(0, Int((x(t) - T.left) / T.binWidth))) }

    func binX(_ index: Int) -> Double { T.left + Double(index) * T.binWidth }

    mutating func render() -> String {
        let lanes = T.lanes(of: report)
        let marks = report.rows.filter { T.isMark($0.kind) }
        var y = 8.0
        var body = ""
        body += legend(y: &y)
        let plotTop = y
        for (index, lane) in lanes.enumerated() {
            body += drawLane(lane, index: index, y: &y)
        }
        if !marks.isEmpty { body += drawMarks(marks, y: &y) }
        if lanes.isEmpty && marks.isEmpty {
            body += text(T.left + plotWidth / 2, y + 20, "no events in this window", anchor: "middle")
            y += 30
        }
        body += axis(top: plotTop, y: &y)
        let height = Int(y.rounded(.up)) + 4
        return """
            <svg class="timeline" role="img" aria-label="\(HTMLText.escape("timeline of " + report.title))" \
            width="\(Int(T.width))" height="\(height)" viewBox="0 0 \(Int(T.width)) \(height)" \
            font-family="sans-serif" font-size="11">
            \(body)</svg>
            """
    }

    // MARK: Legend

    func legend(y: inout Double) -> String {
        var s = "<g class=\"legend\">"
        var lx = T.left
        for status in TicketStatus.allCases {
            s +=
                "<rect x=\"\(f(lx))\" y=\"\(f(y))\" width=\"14\" height=\"9\" fill=\"\(Palette.status(status))\"/>"
            s += text(lx + 18, y + 8, status.rawValue)
            lx += 30 + Double(status.rawValue.count) * 6
        }
        lx += 10
        s +=
            "<rect x=\"\(f(lx))\" y=\"\(f(y))\" width=\"14\" height=\"9\" fill=\"#fff\" \(Palette.outline(.breached))/>"
        s += text(lx + 18, y + 8, "SLA breached")
        lx += 100
        s +=
            "<rect x=\"\(f(lx))\" y=\"\(f(y))\" width=\"14\" height=\"9\" fill=\"#fff\" \(Palette.outline(.met))/>"
        s += text(lx + 18, y + 8, "SLA met")
        lx += 70
        s +=
            "<rect x=\"\(f(lx))\" y=\"\(f(y))\" width=\"14\" height=\"9\" fill=\"#fff\" \(Palette.outline(.pending))/>"
        s += text(lx + 18, y + 8, "SLA pending or unknown")
        y += 16
        lx = T.left
        for (name, colour) in [
            ("good rating", Palette.good), ("neutral", Palette.neutral), ("poor", Palette.poor),
        ] {
            s += "<circle cx=\"\(f(lx + 5))\" cy=\"\(f(y + 4))\" r=\"4\" fill=\"\(colour)\"/>"
            s += text(lx + 14, y + 8, name)
            lx += 24 + Double(name.count) * 6
        }
        s += "<rect x=\"\(f(lx))\" y=\"\(f(y))\" width=\"8\" height=\"8\" fill=\"\(Palette.order)\"/>"
        s += text(lx + 12, y + 8, "order")
        lx += 50
        s +=
            "<rect x=\"\(f(lx))\" y=\"\(f(y))\" width=\"8\" height=\"8\" fill=\"#fff\" stroke=\"\(Palette.order)\" stroke-width=\"1.5\"/>"
        s += text(lx + 12, y + 8, "refund")
        lx += 56
        s += "<rect x=\"\(f(lx))\" y=\"\(f(y))\" width=\"3\" height=\"10\" fill=\"\(Palette.contact)\"/>"
        s += text(lx + 8, y + 8, "contact or view (taller, darker: several in one spot; hover for counts)")
        y += 18
        return s + "</g>\n"
    }

    // MARK: Lanes

    mutating func drawLane(_ channel: Channel?, index: Int, y: inout Double) -> String {
        let name = channel?.rawValue ?? "no channel"
        let tickets = report.tickets.filter { $0.channel == channel }
        let ticks = report.rows.filter { $0.channel == channel && $0.ticketID == nil && !T.isMark($0.kind) }
        let top = y
        var inner = ""
        var contentY = top + 5
        if !tickets.isEmpty {
            if let rows = pack(tickets) {
                for (rowIndex, row) in rows.enumerated() {
                    let rowY = contentY + Double(rowIndex) * (T.rowHeight + T.rowGap)
                    for ticket in row { inner += span(ticket, y: rowY) }
                }
                contentY += Double(rows.count) * (T.rowHeight + T.rowGap)
            } else {
                let height = Double(T.maxTicketRows) * (T.rowHeight + T.rowGap)
                inner += aggregate(tickets, y: contentY, height: height)
                contentY += height
            }
        }
        if !ticks.isEmpty {
            inner += tickRow(ticks, y: contentY)
            contentY += T.tickHeight + 2
        }
        let height = max(contentY - top + 4, 34)
        y = top + height
        let band = index % 2 == 0 ? "#f4f6f8" : "#ffffff"
        return """
            <g class="lane" data-lane="\(HTMLText.escape(name))">\
            <rect x="0" y="\(f(top))" width="\(Int(T.width))" height="\(f(height))" fill="\(band)"/>\
            \(text(8, top + 14, name, weight: "bold"))\
            \(text(8, top + 27, "\(tickets.count) ticket(s)", size: 10, fill: "#555"))\
            \(inner)</g>

            """
    }

    /// Tickets placed in rows without overlap (first fit by start); nil when they need more than
    /// `maxTicketRows` rows or are more than `maxTicketSpans`.
    func pack(_ tickets: [TicketState]) -> [[TicketState]]? {
        guard tickets.count <= T.maxTicketSpans else { return nil }
        var rows: [[TicketState]] = []
        var rowEnds: [Double] = []
        for ticket in tickets.sorted(by: { spanStart($0) < spanStart($1) }) {
            let x0 = x(spanStart(ticket))
            if let free = rowEnds.firstIndex(where: { $0 + 2 <= x0 }) {
                rows[free].append(ticket)
                rowEnds[free] = max(x(spanEnd(ticket)), x0 + 3)
            } else {
                guard rows.count < T.maxTicketRows else { return nil }
                rows.append([ticket])
                rowEnds.append(max(x(spanEnd(ticket)), x0 + 3))
            }
        }
        return rows
    }

    func spanStart(_ ticket: TicketState) -> Double { seconds(ticket.openedAt ?? ticket.firstEventAt) }
    func spanEnd(_ ticket: TicketState) -> Double { seconds(ticket.closedAt ?? ticket.lastEventAt) }

    /// The worst of a ticket's two SLA verdicts, for its outline.
    func verdict(_ ticket: TicketState) -> SLAVerdict {
        let both = [ticket.firstReplyVerdict, ticket.resolutionVerdict]
        if both.contains(.breached) { return .breached }
        if both.contains(.pending) || both.contains(.unknown) { return .pending }
        if both.contains(.met) { return .met }
        return .notApplicable
    }

    func span(_ ticket: TicketState, y: Double) -> String {
        let x0 = x(spanStart(ticket))
        let width = max(x(spanEnd(ticket)) - x0, 3)
        let title =
            "\(ticket.id): \(ticket.status.rawValue), \(ticket.priority.rawValue), opened \((ticket.openedAt ?? ticket.firstEventAt).rfc3339), "
            + (ticket.closedAt.map { "closed \($0.rfc3339)" } ?? "last event \(ticket.lastEventAt.rfc3339)")
            + ", first-reply SLA \(ticket.firstReplyVerdict.name), resolution SLA \(ticket.resolutionVerdict.name)"
        return
            "<rect class=\"ticket\" x=\"\(f(x0))\" y=\"\(f(y))\" width=\"\(f(width))\" height=\"\(f(T.rowHeight))\" rx=\"2\" fill=\"\(Palette.status(ticket.status))\" \(Palette.outline(verdict(ticket)))><title>\(HTMLText.escape(title))</title></rect>"
    }

    /// Per bin, how many tickets were open, stacked by final status; a red bar over bins where one of them
    /// breached an SLA. Runs of equal bins are one shape.
    func aggregate(_ tickets: [TicketState], y: Double, height: Double) -> String {
        let statuses = TicketStatus.allCases
        var counts = [[Int]](repeating: [Int](repeating: 0, count: statuses.count), count: bins)
        var breached = [Int](repeating: 0, count: bins)
        for ticket in tickets {
            let status = statuses.firstIndex(of: ticket.status)!
            for index in bin(spanStart(ticket))...bin(spanEnd(ticket)) {
                counts[index][status] += 1
                if verdict(ticket) == .breached { breached[index] += 1 }
            }
        }
        let most = max(1, counts.map { $0.reduce(0, +) }.max() ?? 1)
        var s = "<g class=\"tickets-aggregated\">"
        var index = 0
        while index < bins {
            var next = index + 1
            while next < bins && counts[next] == counts[index] && breached[next] == breached[index] {
                next += 1
            }
            let total = counts[index].reduce(0, +)
            if total > 0 {
                let x0 = binX(index)
                let width = Double(next - index) * T.binWidth
                var parts: [String] = []
                var top = y + height - 3
                for (k, status) in statuses.enumerated() where counts[index][k] > 0 {
                    let h = (height - 3) * Double(counts[index][k]) / Double(most)
                    top -= h
                    s +=
                        "<rect x=\"\(f(x0))\" y=\"\(f(top))\" width=\"\(f(width))\" height=\"\(f(h))\" fill=\"\(Palette.status(status))\"/>"
                    parts.append("\(counts[index][k]) \(status.rawValue)")
                }
                if breached[index] > 0 {
                    s +=
                        "<rect x=\"\(f(x0))\" y=\"\(f(y + height - 3))\" width=\"\(f(width))\" height=\"3\" fill=\"\(Palette.breach)\"/>"
                }
                let title =
                    "\(timeLabel(binTime(index))) to \(timeLabel(binTime(next))): \(total) ticket(s) open (\(parts.joined(separator: ", "))), \(breached[index]) with an SLA breach"
                s +=
                    "<rect x=\"\(f(x0))\" y=\"\(f(y))\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"transparent\"><title>\(HTMLText.escape(title))</title></rect>"
            }
            index = next
        }
        return s + "</g>"
    }

    func binTime(_ index: Int) -> Double {
        start + Double(index) * T.binWidth / plotWidth * (end - start)
    }

    /// Events with no ticket: one thin tick for a lone event, a taller, darker bar for several in a bin.
    func tickRow(_ rows: [Report.Row], y: Double) -> String {
        var s = "<g class=\"ticks\">"
        for (index, members) in Dictionary(grouping: rows, by: { bin(seconds($0.stored.occurredAt)) })
            .sorted(by: { $0.key < $1.key })
        {
            let x0 = binX(index)
            if members.count == 1, let row = members.first {
                let title = "\(row.stored.event.type) at \(row.stored.occurredAt.rfc3339)"
                s +=
                    "<rect x=\"\(f(x0 + 1))\" y=\"\(f(y + 3))\" width=\"1.5\" height=\"\(f(T.tickHeight - 3))\" fill=\"\(Palette.contact)\" opacity=\"0.7\"><title>\(HTMLText.escape(title))</title></rect>"
            } else {
                let types = Dictionary(grouping: members, by: { $0.stored.event.type })
                    .map { "\($0.value.count) \($0.key)" }.sorted().joined(separator: ", ")
                s +=
                    "<rect x=\"\(f(x0))\" y=\"\(f(y))\" width=\"\(f(T.binWidth))\" height=\"\(f(T.tickHeight))\" fill=\"\(Palette.contact)\"><title>\(HTMLText.escape("\(members.count) events near \(timeLabel(binTime(index))): \(types)"))</title></rect>"
            }
        }
        return s + "</g>"
    }

    // MARK: Ratings and orders

    mutating func drawMarks(_ rows: [Report.Row], y: inout Double) -> String {
        let top = y
        var s = "<g class=\"marks\">"
        s += "<rect x=\"0\" y=\"\(f(top))\" width=\"\(Int(T.width))\" height=\"40\" fill=\"#fbf8ef\"/>"
        s += text(8, top + 14, "ratings", weight: "bold")
        s += text(8, top + 32, "orders", weight: "bold")
        let ratings = rows.filter {
            switch $0.kind {
            case .csat, .nps, .ces: true
            default: false
            }
        }
        let orders = rows.filter { !ratings.map(\.stored.position).contains($0.stored.position) }
        s += markRow(ratings, centre: top + 11, shape: .circle)
        s += markRow(orders, centre: top + 29, shape: .square)
        y = top + 40
        return s + "</g>\n"
    }

    enum Shape { case circle, square }

    func markRow(_ rows: [Report.Row], centre: Double, shape: Shape) -> String {
        var s = ""
        for (index, members) in Dictionary(grouping: rows, by: { bin(seconds($0.stored.occurredAt)) })
            .sorted(by: { $0.key < $1.key })
        {
            let cx = binX(index) + T.binWidth / 2
            if members.count == 1, let row = members.first {
                let (fill, stroke) = Palette.mark(row.kind)
                let title = HTMLText.escape("\(Self.markText(row)) at \(row.stored.occurredAt.rfc3339)")
                switch shape {
                case .circle:
                    s +=
                        "<circle cx=\"\(f(cx))\" cy=\"\(f(centre))\" r=\"4\" fill=\"\(fill)\" stroke=\"\(stroke)\"><title>\(title)</title></circle>"
                case .square:
                    s +=
                        "<rect x=\"\(f(cx - 4))\" y=\"\(f(centre - 4))\" width=\"8\" height=\"8\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"1.5\"><title>\(title)</title></rect>"
                }
            } else {
                // Several in one bin: a bar as tall as the count allows, in the colour most of them have.
                let colours = Dictionary(grouping: members, by: { Palette.mark($0.kind).fill })
                let colour = colours.max { ($0.value.count, $1.key) < ($1.value.count, $0.key) }!.key
                let h = min(14, 4 + 2 * log2(Double(members.count)))
                let summary = Dictionary(grouping: members, by: { Self.markClass($0.kind) })
                    .map { "\($0.value.count) \($0.key)" }.sorted().joined(separator: ", ")
                s +=
                    "<rect x=\"\(f(binX(index)))\" y=\"\(f(centre - h / 2))\" width=\"\(f(T.binWidth))\" height=\"\(f(h))\" fill=\"\(colour)\"><title>\(HTMLText.escape("\(members.count) near \(timeLabel(binTime(index))): \(summary)"))</title></rect>"
            }
        }
        return s
    }

    static func markText(_ row: Report.Row) -> String {
        switch row.kind {
        case .csat(let score): "CSAT \(score) of 5"
        case .nps(let score): "NPS \(score) of 10"
        case .ces(let score): "effort score \(score) of 7"
        case .orderPlaced(let order, let amount, let currency): "order \(order) placed: \(amount) \(currency)"
        case .orderRefunded(let order, let amount, let currency):
            "order \(order) refunded: \(amount) \(currency)"
        default: row.stored.event.type
        }
    }

    static func markClass(_ kind: TouchpointKind?) -> String {
        switch Palette.sentiment(kind) {
        case .good: "good ratings"
        case .neutral: "neutral ratings"
        case .poor: "poor ratings"
        case nil:
            if case .orderRefunded = kind { "refunds" } else { "orders" }
        }
    }

    // MARK: Axis

    func axis(top: Double, y: inout Double) -> String {
        var s = "<g class=\"axis\">"
        s +=
            "<line x1=\"\(f(T.left))\" y1=\"\(f(y))\" x2=\"\(f(T.left + plotWidth))\" y2=\"\(f(y))\" stroke=\"#333\"/>"
        for (tick, label) in ticks() {
            let tx = x(tick)
            s +=
                "<line x1=\"\(f(tx))\" y1=\"\(f(top))\" x2=\"\(f(tx))\" y2=\"\(f(y))\" stroke=\"#000\" stroke-opacity=\"0.12\"/>"
            s += "<line x1=\"\(f(tx))\" y1=\"\(f(y))\" x2=\"\(f(tx))\" y2=\"\(f(y + 5))\" stroke=\"#333\"/>"
            s += text(tx, y + 17, label, anchor: "middle")
        }
        s += text(8, y + 17, "time (UTC)", fill: "#555")
        y += 24
        return s + "</g>\n"
    }

    /// At most about eight ticks on round times: minutes and hours ("01-05 09:30"), days and weeks (from
    /// Mondays, "2024-01-08"), months ("2024-03") or years ("2030"), all UTC.
    func ticks() -> [(Double, String)] {
        let range = end - start
        let day = 86_400.0
        let fixed: [Double] = [
            60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, day, 2 * day, 7 * day, 14 * day,
        ]
        if let step = fixed.first(where: { range / $0 <= 8 }) {
            // Weeks start on Monday: the epoch was a Thursday, four days after one.
            let offset = step >= 7 * day ? 4 * day : 0
            var result: [(Double, String)] = []
            var tick = ((start - offset) / step).rounded(.up) * step + offset
            while tick <= end {
                let stamp = Timestamp(microsecondsSinceEpoch: Int64(tick * 1_000_000)).rfc3339
                result.append((tick, step >= day ? String(stamp.prefix(10)) : timeLabel(tick)))
                tick += step
            }
            return result
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let months = [1, 3, 6].first { range / (Double($0) * 30.44 * day) <= 8 }
        let years =
            months == nil
            ? [1, 2, 5, 10, 20, 50, 100, 1000].first { range / (Double($0) * 365.25 * day) <= 8 } ?? 1000 : 0
        let first = calendar.dateComponents([.year, .month], from: Date(timeIntervalSince1970: start))
        var year = first.year!
        var month = first.month!
        if let months {
            month = ((month - 1) / months) * months + 1
        } else {
            year = (year / years) * years
            month = 1
        }
        var result: [(Double, String)] = []
        while result.count < 20 {
            guard let date = calendar.date(from: DateComponents(year: year, month: month, day: 1)) else {
                break
            }
            let tick = date.timeIntervalSince1970
            if tick > end { break }
            if tick >= start {
                result.append((tick, months == nil ? String(year) : String(format: "%04d-%02d", year, month)))
            }
            if let months {
                month += months
                if month > 12 {
                    month -= 12
                    year += 1
                }
            } else {
                year += years
            }
        }
        return result
    }

    /// "01-05 09:30" (UTC), for ticks and titles.
    func timeLabel(_ t: Double) -> String {
        let stamp = Array(Timestamp(microsecondsSinceEpoch: Int64(t * 1_000_000)).rfc3339)
        guard stamp.count >= 16 else { return String(stamp) }
        return String(stamp[5..<10]) + " " + String(stamp[11..<16])
    }

    // MARK: Helpers

    func text(
        _ x: Double, _ y: Double, _ content: String, anchor: String = "start", size: Int = 11,
        fill: String = "#222", weight: String = "normal"
    ) -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\" fill=\"\(fill)\" font-weight=\"\(weight)\">\(HTMLText.escape(content))</text>"
    }
}

/// Seconds since the epoch, as the timeline's scale measures them.
private func seconds(_ time: Timestamp) -> Double { Double(time.microsecondsSinceEpoch) / 1_000_000 }

/// A coordinate with one decimal: enough on screen, short in the file.
private func f(_ value: Double) -> String { String(format: "%.1f", value) }

/// The timeline's colours (the HTML legend and table use the same).
enum Palette {
    static let good = "#2e7d32"
    static let neutral = "#f9a825"
    static let poor = "#c62828"
    static let order = "#00838f"
    static let contact = "#5c6bc0"
    static let breach = "#d50000"

    static func status(_ status: TicketStatus) -> String {
        switch status {
        case .new: "#90caf9"
        case .open: "#1e88e5"
        case .pending: "#ffb74d"
        case .onHold: "#ab47bc"
        case .solved: "#66bb6a"
        case .closed: "#9e9e9e"
        }
    }

    /// The outline of a ticket span by its worst SLA verdict: thick red for a breach, thin dark for met
    /// (or not applicable), dashed grey while pending or unknown.
    static func outline(_ verdict: SLAVerdict) -> String {
        switch verdict {
        case .breached: "stroke=\"\(breach)\" stroke-width=\"2.5\""
        case .met, .notApplicable: "stroke=\"#263238\" stroke-width=\"1\""
        case .pending, .unknown: "stroke=\"#607d8b\" stroke-width=\"1\" stroke-dasharray=\"3 2\""
        }
    }

    enum Sentiment { case good, neutral, poor }

    /// CSAT 4-5, NPS 9-10 and CES 5-7 (7 is the easiest) are good; CSAT 3, NPS 7-8, CES 4 neutral.
    static func sentiment(_ kind: TouchpointKind?) -> Sentiment? {
        switch kind {
        case .csat(let score): score >= 4 ? .good : score == 3 ? .neutral : .poor
        case .nps(let score): score >= 9 ? .good : score >= 7 ? .neutral : .poor
        case .ces(let score): score >= 5 ? .good : score == 4 ? .neutral : .poor
        default: nil
        }
    }

    static func mark(_ kind: TouchpointKind?) -> (fill: String, stroke: String) {
        switch sentiment(kind) {
        case .good: return (good, "#fff")
        case .neutral: return (neutral, "#fff")
        case .poor: return (poor, "#fff")
        case nil:
            if case .orderRefunded = kind { return ("#fff", order) }
            return (order, order)
        }
    }
}
