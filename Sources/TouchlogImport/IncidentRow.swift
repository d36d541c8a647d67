import CloudEvents
import TouchlogDomain
import TouchlogStore

/// One row of the ServiceNow incident audit export: one update of one incident, as far as Touchlog uses it.
///
/// References ("Caller 2403") are turned into identifiers ("caller-2403"); `?`, ServiceNow's null, is nil.
public struct IncidentRow: Sendable, Equatable {
    /// Where the row starts in the input (1-based; the header is line 1).
    public var line: Int
    /// `number`: the incident, which becomes the ticket id.
    public var number: String
    /// `incident_state`.
    public var state: IncidentState
    /// `incident_state` as written.
    public var stateText: String
    /// `sys_mod_count`: how many updates the incident had before this row.
    public var modCount: Int
    /// `caller_id`: the customer.
    public var caller: String?
    /// `sys_updated_by`: who made this update.
    public var updatedBy: String?
    /// `sys_updated_at`: when.
    public var updatedAt: Timestamp
    /// `contact_type`, mapped.
    public var channel: Channel
    /// `contact_type` as written.
    public var contactType: String
    /// `priority`, mapped.
    public var priority: Priority
    /// `assigned_to`: the rep.
    public var assignee: String?
    /// `opened_at`.
    public var openedAt: Timestamp?
    /// `opened_by`.
    public var openedBy: String?
    /// `category`.
    public var category: String?
    /// `reopen_count`: ServiceNow's own count of reopens so far (used by the checks, not imported).
    public var reopenCount: Int?
    /// `made_sla`: ServiceNow's SLA verdict so far (used by the checks, not imported).
    public var madeSLA: Bool?
    /// `resolved_by` (back-filled: true only once the incident is resolved for the last time).
    public var resolvedBy: String?
    /// `closed_code` (back-filled: true only once the incident is closed for the last time).
    public var closedCode: String?

    public init(
        line: Int, number: String, state: IncidentState, stateText: String, modCount: Int, caller: String?,
        updatedBy: String?, updatedAt: Timestamp, channel: Channel, contactType: String, priority: Priority,
        assignee: String?, openedAt: Timestamp? = nil, openedBy: String? = nil, category: String? = nil,
        reopenCount: Int? = nil, madeSLA: Bool? = nil, resolvedBy: String? = nil, closedCode: String? = nil
    ) {
        self.line = line
        self.number = number
        self.state = state
        self.stateText = stateText
        self.modCount = modCount
        self.caller = caller
        self.updatedBy = updatedBy
        self.updatedAt = updatedAt
        self.channel = channel
        self.contactType = contactType
        self.priority = priority
        self.assignee = assignee
        self.openedAt = openedAt
        self.openedBy = openedBy
        self.category = category
        self.reopenCount = reopenCount
        self.madeSLA = madeSLA
        self.resolvedBy = resolvedBy
        self.closedCode = closedCode
    }
}

/// Why a row could not be read: a message naming the column and the value.
public struct RowError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The columns of the export, found by name in its header (their order does not matter).
public struct IncidentColumns: Sendable {
    /// The columns the importer reads; the export has 36, the others are ignored.
    public static let required = [
        "number", "incident_state", "sys_mod_count", "caller_id", "sys_updated_by", "sys_updated_at",
        "contact_type", "priority", "assigned_to", "opened_at", "opened_by", "category", "reopen_count",
        "made_sla", "resolved_by", "closed_code",
    ]

    let number, state, modCount, caller, updatedBy, updatedAt, contactType, priority, assignee: Int
    let openedAt, openedBy, category, reopenCount, madeSLA, resolvedBy, closedCode: Int
    /// How many fields every row must have.
    public let fieldCount: Int

    /// Finds the columns in the header record.
    /// - Throws: `RowError` naming the missing columns.
    public init(header: CSVRecord) throws(RowError) {
        var index: [String: Int] = [:]
        for position in 0..<header.count {
            var name = header.field(position) ?? ""
            if position == 0, name.hasPrefix("\u{FEFF}") { name.removeFirst() }  // a UTF-8 byte order mark
            if index[name] == nil { index[name] = position }
        }
        let missing = IncidentColumns.required.filter { index[$0] == nil }
        guard missing.isEmpty else {
            throw RowError(
                "this is not a ServiceNow incident export: the header lacks the column(s) "
                    + missing.joined(separator: ", "))
        }
        func at(_ name: String) -> Int { index[name]! }
        number = at("number")
        state = at("incident_state")
        modCount = at("sys_mod_count")
        caller = at("caller_id")
        updatedBy = at("sys_updated_by")
        updatedAt = at("sys_updated_at")
        contactType = at("contact_type")
        priority = at("priority")
        assignee = at("assigned_to")
        openedAt = at("opened_at")
        openedBy = at("opened_by")
        category = at("category")
        reopenCount = at("reopen_count")
        madeSLA = at("made_sla")
        resolvedBy = at("resolved_by")
        closedCode = at("closed_code")
        fieldCount = header.count
    }

    /// Reads one row.
    /// - Throws: `RowError` naming the column and the value that could not be read.
    public func row(_ record: CSVRecord) throws(RowError) -> IncidentRow {
        guard record.count == fieldCount else {
            throw RowError("the row has \(record.count) fields; the header has \(fieldCount)")
        }
        func text(_ column: Int) throws(RowError) -> String {
            guard let value = record.field(column) else {
                throw RowError("column '\(name(column))' is not valid UTF-8")
            }
            return value
        }
        /// The value, nil for ServiceNow's null `?` (and for an empty field).
        func optional(_ column: Int) throws(RowError) -> String? {
            let value = try text(column)
            return value == "?" || value.isEmpty ? nil : value
        }
        func required(_ column: Int) throws(RowError) -> String {
            guard let value = try optional(column) else {
                throw RowError("column '\(name(column))' is empty")
            }
            return value
        }
        func name(_ column: Int) -> String {
            IncidentColumns.required.first { self[$0] == column } ?? "\(column + 1)"
        }

        let number = try required(self.number)
        let stateText = try required(state)
        let state: IncidentState
        if let known = ServiceNowMapping.states[stateText] {
            state = known
        } else if let code = Int(stateText), code < 0 {
            state = .unknown(stateText)  // -100: a code with no state
        } else {
            throw RowError(
                "unknown incident_state '\(stateText)' (see docs/SERVICENOW.md for the states mapped)")
        }
        let modText = try required(modCount)
        guard let mods = Int(modText), mods >= 0 else {
            throw RowError("sys_mod_count '\(modText)' is not a non-negative integer")
        }
        let updatedText = try required(updatedAt)
        guard let updated = ServiceNowTime.parse(updatedText) else {
            throw RowError("sys_updated_at '\(updatedText)' is not a date d/m/yyyy H:MM")
        }
        let contact = try required(contactType)
        guard let channel = ServiceNowMapping.channels[contact] else {
            throw RowError(
                "unknown contact_type '\(contact)' (see docs/SERVICENOW.md for the channels mapped)")
        }
        let priorityText = try required(priority)
        guard let priority = ServiceNowMapping.priorities[priorityText] else {
            throw RowError(
                "unknown priority '\(priorityText)' (see docs/SERVICENOW.md for the priorities mapped)")
        }
        var openedAt: Timestamp?
        if let openedText = try optional(self.openedAt) {
            guard let parsed = ServiceNowTime.parse(openedText) else {
                throw RowError("opened_at '\(openedText)' is not a date d/m/yyyy H:MM")
            }
            openedAt = parsed
        }
        var reopens: Int?
        if let reopenText = try optional(reopenCount) {
            guard let value = Int(reopenText), value >= 0 else {
                throw RowError("reopen_count '\(reopenText)' is not a non-negative integer")
            }
            reopens = value
        }
        var made: Bool?
        if let madeText = try optional(madeSLA) {
            switch madeText {
            case "true": made = true
            case "false": made = false
            default: throw RowError("made_sla '\(madeText)' is neither true nor false")
            }
        }
        return IncidentRow(
            line: record.line, number: number, state: state, stateText: stateText, modCount: mods,
            caller: try optional(caller).map(ServiceNowMapping.identifier),
            updatedBy: try optional(updatedBy).map(ServiceNowMapping.identifier), updatedAt: updated,
            channel: channel, contactType: contact, priority: priority,
            assignee: try optional(assignee).map(ServiceNowMapping.identifier), openedAt: openedAt,
            openedBy: try optional(openedBy).map(ServiceNowMapping.identifier),
            category: try optional(category),
            reopenCount: reopens, madeSLA: made,
            resolvedBy: try optional(resolvedBy).map(ServiceNowMapping.identifier),
            closedCode: try optional(closedCode))
    }

    private subscript(name: String) -> Int {
        switch name {
        case "number": number
        case "incident_state": state
        case "sys_mod_count": modCount
        case "caller_id": caller
        case "sys_updated_by": updatedBy
        case "sys_updated_at": updatedAt
        case "contact_type": contactType
        case "priority": priority
        case "assigned_to": assignee
        case "opened_at": openedAt
        case "opened_by": openedBy
        case "category": category
        case "reopen_count": reopenCount
        case "made_sla": madeSLA
        case "resolved_by": resolvedBy
        case "closed_code": closedCode
        default: -1
        }
    }
}

/// ServiceNow's export times: day first, `d/m/yyyy H:MM` (seconds optional), no time zone.
public enum ServiceNowTime {
    /// Parses a time, taken as UTC (the export names no zone; see docs/SERVICENOW.md).
    public static func parse(_ text: String) -> Timestamp? {
        rfc3339(text).flatMap { Timestamp(rfc3339: $0) }
    }

    /// The RFC 3339 text of a time ("29/2/2016 01:23" -> "2016-02-29T01:23:00Z"), or nil; the calendar is
    /// checked by `Timestamp(rfc3339:)`. Works on the UTF-8 bytes: it runs twice for every row.
    public static func rfc3339(_ text: String) -> String? {
        // Fields: day, month, year, hour, minute, second; with the separator expected after each.
        var values = [0, 0, 0, 0, 0, 0]
        var digits = [0, 0, 0, 0, 0, 0]
        let separators: [UInt8] = [
            UInt8(ascii: "/"), UInt8(ascii: "/"), UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: ":"),
        ]
        var field = 0
        for byte in text.utf8 {
            if byte &- 0x30 < 10 {
                values[field] = values[field] * 10 + Int(byte &- 0x30)
                digits[field] += 1
                guard digits[field] <= 4 else { return nil }
            } else if field < 5, byte == separators[field], digits[field] > 0 {
                field += 1
            } else {
                return nil
            }
        }
        // d/m/yyyy H:MM, seconds optional.
        guard field == 4 || (field == 5 && digits[5] == 2), (1...2).contains(digits[0]),
            (1...2).contains(digits[1]),
            digits[2] == 4, (1...2).contains(digits[3]), digits[4] == 2
        else { return nil }
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(values[2])-\(two(values[1]))-\(two(values[0]))T\(two(values[3])):\(two(values[4])):\(two(values[5]))Z"
    }
}
