import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogStore

extension Report {
    /// The page: self-contained HTML (inline CSS and SVG; no script, no reference outside the file, so it
    /// renders the same offline, archived or printed). The verdict first, then the timeline, then one
    /// table row per event. Every text that came from the store is escaped by `HTMLText.escape`.
    public func html() -> String {
        var page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>\(HTMLText.escape("Touchlog report: " + title))</title>
            <style>
            body { font-family: sans-serif; font-size: 13px; color: #222; margin: 24px; }
            h1 { font-size: 20px; margin: 0 0 4px 0; }
            h2 { font-size: 15px; margin: 20px 0 6px 0; }
            .meta { color: #555; margin: 0 0 12px 0; }
            .verdict { border: 2px solid #2e7d32; background: #f1f8e9; padding: 8px 12px; margin: 0; list-style: none; }
            .verdict.bad { border-color: #c62828; background: #ffebee; }
            .verdict li { margin: 2px 0; }
            .verdict .bad { color: #b71c1c; font-weight: bold; }
            svg.timeline { border: 1px solid #ccc; max-width: 100%; height: auto; }
            table { border-collapse: collapse; width: 100%; font-size: 12px; }
            th, td { border: 1px solid #ddd; padding: 3px 5px; text-align: left; vertical-align: top; }
            th { background: #eceff1; position: sticky; top: 0; }
            td.changes { white-space: pre-wrap; }
            td.time, td.hash { white-space: nowrap; font-family: monospace; }
            tr.event.bad td { background: #ffebee; }
            tr.event:nth-child(even) td { background: #fafafa; }
            @media print { th { position: static; } tr { break-inside: avoid; } }
            </style>
            </head>
            <body>
            <h1>\(HTMLText.escape("Touchlog report: " + title))</h1>

            """
        let window =
            (since.map { "from \($0.rfc3339) " } ?? "") + (until.map { "until \($0.rfc3339) " } ?? "")
        page +=
            "<p class=\"meta\">\(HTMLText.escape("generated \(generatedAt.rfc3339); \(window.isEmpty ? "the whole history" : "events that happened \(window)(event time)"); \(rows.count) event(s) shown of the \(streamCount) in the customer's stream; \(tickets.count) ticket(s); times are UTC"))</p>\n"
        page += "<h2>Verification</h2>\n<ul class=\"verdict\(isIntact ? "" : " bad")\">\n"
        for line in verdictLines {
            let bad = line.contains("NOT INTACT") || line.contains("INCOMPLETE")
            page += "<li\(bad ? " class=\"bad\"" : "")>\(HTMLText.escape(line))</li>\n"
        }
        page += "</ul>\n<h2>Timeline</h2>\n"
        page += ReportTimeline.svg(self)
        page += "\n<h2>History</h2>\n<table>\n<thead><tr>"
        for heading in Self.columns { page += "<th>\(heading)</th>" }
        page += "</tr></thead>\n<tbody>\n"
        for row in rows {
            let stored = row.stored
            var changes = row.problems.map { "NOT INTACT: \($0.kind): \($0.message)" }
            changes += row.changes
            page += "<tr class=\"event\(row.problems.isEmpty ? "" : " bad")\">"
            page += "<td>v\(stored.version)<br>#\(stored.position)</td>"
            page += "<td class=\"time\">\(HTMLText.escape(stored.occurredAt.rfc3339))</td>"
            page += "<td class=\"time\">\(HTMLText.escape(stored.recordedAt.rfc3339))</td>"
            page += "<td>\(HTMLText.escape(stored.event.type))</td>"
            page += "<td>\(HTMLText.escape(row.channel?.rawValue ?? ""))</td>"
            page += "<td>\(HTMLText.escape(row.repID ?? ""))</td>"
            page += "<td>\(HTMLText.escape(row.ticketID ?? ""))</td>"
            page += "<td class=\"changes\">\(HTMLText.escape(changes.joined(separator: "\n")))</td>"
            page +=
                "<td class=\"hash\" title=\"\(HTMLText.escape(stored.hash.description))\">\(HTMLText.escape(String(stored.hash.description.prefix(12))))</td>"
            page += "</tr>\n"
        }
        page += "</tbody>\n</table>\n</body>\n</html>\n"
        return page
    }

    /// The history table's headings.
    static let columns = [
        "version / position", "event time", "recorded time", "type", "channel", "rep", "ticket",
        "what changed",
        "hash",
    ]

    /// The rows as CSV (RFC 4180, CRLF lines, a header line): UTC times, and every field formula-safe.
    public func csv() -> String {
        var text = CSVText.record([
            "position", "version", "event_time", "recorded_time", "type", "channel", "rep", "ticket",
            "source",
            "id", "what_changed", "hash", "intact",
        ])
        for row in rows {
            let stored = row.stored
            let changes = row.problems.map { "NOT INTACT: \($0.kind): \($0.message)" } + row.changes
            text += CSVText.record([
                String(stored.position), String(stored.version), stored.occurredAt.rfc3339,
                stored.recordedAt.rfc3339, stored.event.type, row.channel?.rawValue ?? "", row.repID ?? "",
                row.ticketID ?? "", stored.event.source, stored.event.id, changes.joined(separator: "; "),
                stored.hash.description, row.problems.isEmpty ? "yes" : "no",
            ])
        }
        return text
    }
}
