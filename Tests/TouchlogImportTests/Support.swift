import CloudEvents
import Foundation
import Testing
import TouchlogDomain
import TouchlogImport
import TouchlogIngest
import TouchlogStore
import TouchlogTestSupport

/// The columns the importer reads, in a different order than the real export's (order must not matter).
let testColumns = [
    "number", "sys_mod_count", "incident_state", "caller_id", "sys_updated_by", "sys_updated_at",
    "contact_type",
    "priority", "assigned_to", "opened_at", "opened_by", "category", "reopen_count", "made_sla",
    "resolved_by",
    "closed_code",
]

/// One row of a hand-made export: defaults for everything but what a test sets.
struct TestRow {
    var number = "INC9"
    var mods = 0
    var state = "New"
    var caller = "Caller 7"
    var updatedBy = "Updated by 1"
    var updatedAt = "1/3/2016 09:00"
    var contact = "Phone"
    var priority = "3 - Moderate"
    var assignee = "?"
    var openedAt = "1/3/2016 08:55"
    var openedBy = "Opened by  2"
    var category = "Category 5"
    var reopens = 0
    var madeSLA = true
    var resolvedBy = "Resolved by 3"
    var closedCode = "code 6"

    var csv: String {
        [
            number, "\(mods)", state, caller, updatedBy, updatedAt, contact, priority, assignee, openedAt,
            openedBy,
            category, "\(reopens)", "\(madeSLA)", resolvedBy, closedCode,
        ].joined(separator: ",")
    }
}

/// A hand-made export: the header and the rows, one per line.
func exportText(_ rows: [TestRow]) -> String {
    ([testColumns.joined(separator: ",")] + rows.map(\.csv)).joined(separator: "\n") + "\n"
}

/// The events a mapping makes of `text`, in order, without a store (through a dry run).
func mappedEvents(_ mapping: ImportMapping, _ text: String) throws -> [Touchpoint] {
    var importer = MappedImporter(mapping: mapping)
    final class Collected { var events: [Touchpoint] = [] }
    let collected = Collected()
    importer.caseHandler = { collected.events += $0.events.map(\.touchpoint) }
    let report = try importer.dryRun(MemoryByteSource(text), named: "input")
    #expect(report.rejected == 0, "\(report.rejections)")
    return collected.events
}

/// The built-in ServiceNow mapping.
func serviceNowMapping() throws -> ImportMapping { try #require(BuiltinMapping.named("servicenow")).load() }

/// One event as a line of text: id, type, time, subject and the tags, then the data.
func summary(_ touchpoint: Touchpoint) -> String {
    let event = touchpoint.event
    var parts = [event.id, event.type, event.time ?? "-", event.subject ?? "-"]
    for name in ["ticketid", "channel", "repid", "updatedby", "sysmodcount", "inreplyto"] {
        switch event.extensionValue(name) {
        case .string(let text): parts.append("\(name)=\(text)")
        case .number(let text): parts.append("\(name)=\(text)")
        default: break
        }
    }
    if case .json(let bytes) = event.data { parts.append(String(decoding: bytes, as: UTF8.self)) }
    return parts.joined(separator: " ")
}
