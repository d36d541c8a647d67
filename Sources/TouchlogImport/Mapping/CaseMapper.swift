import CloudEvents
import TouchlogDomain

/// A row read and evaluated: its columns and its fields, before its case is complete.
struct EvaluatedRow {
    var line: Int
    var element: Int
    var columns: [String?]
    var fields: [Value?]
    /// `case.sequence` as an integer.
    var sequence: Int?
    /// `@row`: the row's key in its case, set when the case is ordered.
    var key = ""
    /// `@thread`: the id of its thread's first row (`[thread]` only).
    var thread: String?
    var input: RowInput
}

/// A row's value for a field of the mapping could not be computed: the column, the key and why.
struct FieldError: Error {
    var message: String
}

/// An event of a case could not be made (it breaks Touchlog's rules): the row's line and the rule's key.
struct CaseError: Error {
    var line: Int
    var message: String
}

/// The pure part of an import: evaluates rows and turns a case's rows into events. The same rows always
/// give the same events with the same ids.
final class CaseMapper {
    let mapping: ImportMapping
    /// CSV: each column slot's 1-based position in the header, once it is read (for messages).
    var columnPositions: [Int]?
    /// The row before a case's first: every column empty, every field its `start` value.
    private let startRow: EvaluatedRow

    init(mapping: ImportMapping) {
        self.mapping = mapping
        startRow = EvaluatedRow(
            line: 0, element: 0, columns: Array(repeating: nil, count: mapping.columns.count),
            fields: mapping.fields.map { field in field.start.map { Value($0, field.type) } }, input: .none)
    }

    // MARK: Rows

    /// The row's fields (those that read only the row itself; `keep` is applied with the case).
    func evaluate(_ row: InputRow) throws(FieldError) -> EvaluatedRow {
        var fields: [Value?] = []
        fields.reserveCapacity(mapping.fields.count)
        let definitions = mapping.fields
        for slot in definitions.indices {
            let field = definitions[slot]
            let raw = field.value.render { reference in
                switch reference.target {
                case .column(let slot): return row.columns[slot].map { Value($0) }
                case .field(let slot): return fields[slot]
                case .line: return Value(String(row.line))
                case .rowKey, .thread: return nil
                }
            }
            if raw == nil, field.required {
                let missing = field.value.references.first { reference in
                    if case .column(let slot) = reference.target { return row.columns[slot] == nil }
                    if case .field(let slot) = reference.target { return fields[slot] == nil }
                    return false
                }
                throw FieldError(
                    message: "\(missing.map(describe) ?? "a value") is empty, and \(field.key) is required")
            }
            fields.append(try convert(raw, field: field, row: row))
        }
        var evaluated = EvaluatedRow(
            line: row.line, element: row.element, columns: row.columns, fields: fields, input: row.input)
        if let sequence = mapping.sequence {
            guard let value = value(of: sequence, in: evaluated), let number = Int(value.text), number >= 0
            else {
                let text = value(of: sequence, in: evaluated).map { "'\($0.text)'" } ?? "no value"
                throw FieldError(
                    message: "\(describe(sequence)): \(text) is not a non-negative integer (case.sequence)")
            }
            evaluated.sequence = number
        }
        return evaluated
    }

    /// The row's case: `case.id`.
    func caseID(of row: EvaluatedRow) throws(FieldError) -> String? {
        guard let template = mapping.caseID else { return nil }
        guard let id = template.render({ value(of: $0, in: row) }) else {
            let missing = template.references.first { value(of: $0, in: row) == nil }
            throw FieldError(
                message: "\(missing.map(describe) ?? "a value") is empty: the row has no case (case.id)")
        }
        return id.text
    }

    @inline(__always)
    private func value(of reference: Reference, in row: EvaluatedRow) -> Value? {
        switch reference.target {
        case .column(let slot): return row.columns[slot].map { Value($0) }
        case .field(let slot): return row.fields[slot]
        case .line: return Value(String(row.line))
        case .rowKey: return Value(row.key)
        case .thread: return row.thread.map { Value($0) }
        }
    }

    /// A row's own id and its parent's, for `[thread]`.
    func threadIDs(of row: EvaluatedRow) throws(FieldError) -> (id: String, parent: String?)? {
        guard let idTemplate = mapping.threadID, let parentTemplate = mapping.threadParent else { return nil }
        guard let id = idTemplate.render({ value(of: $0, in: row) }) else {
            throw FieldError(message: "the row has no id: thread.id '\(idTemplate.text)' has no value")
        }
        return (id.text, parentTemplate.render({ value(of: $0, in: row) })?.text)
    }

    /// How a message names what a reference reads: "column 'X'" or "field 'x'".
    func describe(_ reference: Reference) -> String {
        switch reference.target {
        case .column(let slot):
            if let columnPositions {
                "column \(columnPositions[slot]) '\(mapping.columns[slot])'"
            } else {
                mapping.format == .csv
                    ? "column '\(mapping.columns[slot])'" : "member '\(mapping.columns[slot])'"
            }
        case .field(let slot): "field '\(mapping.fields[slot].name)'"
        case .line, .rowKey, .thread: "'\(reference.text)'"
        }
    }

    /// Applies a field's `ignore`, `slug`, `table`, `time` or `type`, and `default`.
    private func convert(_ raw: Value?, field: ImportMapping.Field, row: InputRow) throws(FieldError)
        -> Value?
    {
        guard var text = raw?.text, !field.ignore.contains(text) else {
            return field.defaultValue.map { Value($0, field.type == .time ? .string : field.type) }
        }
        func fail(_ why: String) -> FieldError {
            let from = field.value.soleReference.map { describe($0) + ", " } ?? ""
            return FieldError(message: "\(from)\(field.key): '\(text.prefix(120))' \(why)")
        }
        if field.slug { text = Self.slug(text) }
        if let table = field.table {
            guard let mapped = table.entries[text] ?? table.fallback else {
                throw fail("is not in \(table.key)")
            }
            guard !mapped.isEmpty else {
                return field.defaultValue.map { Value($0, field.type == .time ? .string : field.type) }
            }
            text = mapped
        }
        switch field.type {
        case .string:
            return Value(text)
        case .time:
            for format in field.timeFormats {
                if let parsed = format.parseWithText(text, zone: field.zone) {
                    return Value(parsed.text, .time, micros: parsed.time.microsecondsSinceEpoch)
                }
            }
            throw fail(
                "fits no time format of the field (\(field.timeFormats.map(\.text).joined(separator: " or ")))"
            )
        case .integer:
            guard let number = Int64(text) else { throw fail("is not an integer") }
            return Value(String(number), .integer)
        case .number:
            guard case .number(let literal)? = Self.number(text) else { throw fail("is not a number") }
            return Value(literal, .number)
        case .boolean:
            switch text.lowercased() {
            case "true", "yes", "1": return Value("true", .boolean)
            case "false", "no", "0": return Value("false", .boolean)
            default: throw fail("is not a boolean (true/false, yes/no, 1/0)")
            }
        }
    }

    private static func number(_ text: String) -> JSONValue? {
        do { return try JSONValue.parse(Array(text.utf8)) } catch { return nil }
    }

    /// An identifier made of a reference such as "Caller 2403": ASCII letters in lower case, each run of
    /// spaces or tabs one hyphen, none at either end ("caller-2403").
    static func slug(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var pendingSeparator = false
        for byte in text.utf8 {
            if byte == 0x20 || byte == 0x09 {
                pendingSeparator = !bytes.isEmpty
                continue
            }
            if pendingSeparator {
                bytes.append(UInt8(ascii: "-"))
                pendingSeparator = false
            }
            bytes.append(byte &- 0x41 < 26 ? byte + 0x20 : byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Cases

    /// The rows of one case in order, each with its key (`@row`).
    ///
    /// With a sequence: by sequence, then time, then input order; without: by time, then input order. With
    /// `repair_lost_first`, a case with no row 0 whose sequence repeats takes the earliest of the repeated
    /// rows as its row 0 (an audit log whose first update lost its number; docs/IMPORT.md).
    func order(_ rows: inout [EvaluatedRow]) {
        let times: [Int64] = rows.map { row in mapping.orderTime.flatMap { row.fields[$0]?.micros } ?? .min }
        var effective = rows.map { $0.sequence ?? 0 }
        if mapping.repairLostFirst {
            var counts: [Int: Int] = [:]
            for value in effective { counts[value, default: 0] += 1 }
            if counts[0] == nil {
                let repeated = rows.indices.filter { counts[effective[$0], default: 0] > 1 }
                if let first = repeated.min(by: {
                    (times[$0], rows[$0].line, rows[$0].element) < (
                        times[$1], rows[$1].line, rows[$1].element
                    )
                }) {
                    effective[first] = 0
                }
            }
        }
        let sorted = rows.indices.sorted {
            (effective[$0], times[$0], rows[$0].line, rows[$0].element)
                < (effective[$1], times[$1], rows[$1].line, rows[$1].element)
        }
        // Rows come in order far more often than not: then nothing moves.
        if !sorted.elementsEqual(rows.indices) { rows = sorted.map { rows[$0] } }
        var previous: Int?
        var repeats = 1
        for place in rows.indices {
            if mapping.sequence != nil {
                let number = effective[sorted[place]]
                repeats = number == previous ? repeats + 1 : 1
                previous = number
                rows[place].key = repeats == 1 ? "\(number)" : "\(number)-\(repeats)"
            } else {
                rows[place].key = "\(place)"
            }
        }
        // keep = "first" and "last".
        for (slot, field) in mapping.fields.enumerated() where field.keep != .none {
            var last: Value? = field.start.map { Value($0, field.type) }
            for index in rows.indices {
                switch field.keep {
                case .first:
                    rows[index].fields[slot] = rows[0].fields[slot]
                case .last:
                    if rows[index].fields[slot] == nil { rows[index].fields[slot] = last }
                    last = rows[index].fields[slot]
                case .none:
                    break
                }
            }
        }
    }

    /// One event before it becomes a CloudEvent.
    private struct Draft {
        var rule: Int
        var row: Int
        var data: [JSONMember]?
    }

    /// The events of one case, given its rows in order (`order`), each with the line of its row. For a row
    /// of a thread, `root` is the thread's first row: `first.` reads it, and `when.first` is whether the row
    /// is it.
    func events(for rows: [EvaluatedRow], root: EvaluatedRow? = nil) throws(CaseError)
        -> [(line: Int, touchpoint: Touchpoint)]
    {
        guard !rows.isEmpty else { return [] }
        let start = startRow
        let rules = mapping.rules
        // Rows are read where they are (never copied): each copy of a row would retain all its values.
        func lookup(_ index: Int) -> (Reference) -> Value? {
            { reference in
                switch reference.scope {
                case .row:
                    return self.value(of: reference, in: rows[index])
                case .previous:
                    if index > 0 { return self.value(of: reference, in: rows[index - 1]) }
                    return reference.target == .rowKey ? nil : self.value(of: reference, in: start)
                case .first:
                    if let root { return self.value(of: reference, in: root) }
                    return self.value(of: reference, in: rows[0])
                }
            }
        }
        var drafts: [Draft] = []
        for index in rows.indices {
            let values = lookup(index)
            let isFirst =
                root.map { $0.line == rows[index].line && $0.element == rows[index].element } ?? (index == 0)
            for ruleIndex in rules.indices
            where holds(
                rules[ruleIndex].condition, isFirst: isFirst, index: index, rows: rows, values: values)
            {
                drafts.append(
                    Draft(rule: ruleIndex, row: index, data: members(rules[ruleIndex].data, values)))
            }
        }
        // last_data: only on the case's last event of its rule.
        for (ruleIndex, rule) in mapping.rules.enumerated() where !rule.lastData.isEmpty {
            guard let last = drafts.lastIndex(where: { $0.rule == ruleIndex }) else { continue }
            if let extra = members(rule.lastData, lookup(drafts[last].row)) {
                drafts[last].data = (drafts[last].data ?? []) + extra
            }
        }
        var out: [(line: Int, touchpoint: Touchpoint)] = []
        out.reserveCapacity(drafts.count)
        for draft in drafts {
            let rule = rules[draft.rule]
            let line = rows[draft.row].line
            let values = lookup(draft.row)
            func fail(_ message: String) -> CaseError {
                CaseError(line: line, message: "\(rule.key): \(message)")
            }
            func required(_ template: Template, _ name: String) throws(CaseError) -> String {
                guard let value = template.render(values) else {
                    let missing = template.references.first { values($0) == nil }
                    throw fail("\(name) '\(template.text)': \(missing.map(describe) ?? "a value") is empty")
                }
                return value.text
            }
            let id = try required(rule.id, "id")
            let customer = try required(rule.customer, "customer")
            let time = try required(rule.time, "time")
            var extensions: [CloudEventExtension] = []
            if let ticket = rule.ticket {
                extensions.append(
                    CloudEventExtension(name: "ticketid", value: .string(try required(ticket, "ticket"))))
            }
            if let channel = rule.channel?.render(values) {
                extensions.append(CloudEventExtension(name: "channel", value: .string(channel.text)))
            }
            if let rep = rule.rep?.render(values) {
                extensions.append(CloudEventExtension(name: "repid", value: .string(rep.text)))
            }
            for (name, template) in rule.extensions {
                guard let value = template.render(values) else { continue }
                extensions.append(CloudEventExtension(name: name, value: Self.json(value)))
            }
            var data: CloudEventData?
            if let members = draft.data {
                var bytes: [UInt8] = []
                JSONValue.object(members).write(into: &bytes)
                data = .json(bytes)
            }
            let event = CloudEvent(
                id: id, source: mapping.source, type: rule.type, subject: customer, time: time,
                datacontenttype: data == nil ? nil : "application/json", extensions: extensions, data: data)
            do {
                out.append((line, try Touchpoint(validating: event)))
            } catch {
                throw fail(error.message)
            }
        }
        return out
    }

    /// A value as JSON: strings and times as strings, numbers as written, booleans as booleans.
    static func json(_ value: Value) -> JSONValue {
        switch value.type {
        case .string, .time: .string(value.text)
        case .integer, .number: .number(value.text)
        case .boolean: .bool(value.text == "true")
        }
    }

    private func members(_ list: [ImportMapping.DataMember], _ values: (Reference) -> Value?) -> [JSONMember]?
    {
        guard !list.isEmpty else { return nil }
        var out: [JSONMember] = []
        for member in list {
            if let value = member.value.render(values) {
                out.append(JSONMember(key: member.name, value: Self.json(value)))
            } else if member.nullWhenMissing {
                out.append(JSONMember(key: member.name, value: .null))
            }
        }
        return out.isEmpty ? nil : out
    }

    private func holds(
        _ condition: ImportMapping.Condition, isFirst: Bool, index: Int, rows: [EvaluatedRow],
        values: (Reference) -> Value?
    ) -> Bool {
        if let first = condition.first, first != isFirst { return false }
        for reference in condition.present where values(reference) == nil { return false }
        for reference in condition.absent where values(reference) != nil { return false }
        func previous(_ reference: Reference) -> Value? {
            index > 0 ? value(of: reference, in: rows[index - 1]) : value(of: reference, in: startRow)
        }
        for reference in condition.changed where value(of: reference, in: rows[index]) == previous(reference)
        {
            return false
        }
        for reference in condition.unchanged
        where value(of: reference, in: rows[index]) != previous(reference) {
            return false
        }
        for (reference, options) in condition.equals {
            guard let value = values(reference)?.text else { return false }
            if !options.contains(where: { Self.matches($0, value, values) }) { return false }
        }
        for (reference, options) in condition.differs {
            guard let value = values(reference)?.text else { continue }
            if options.contains(where: { Self.matches($0, value, values) }) { return false }
        }
        return true
    }

    /// Whether a value of `is` or `is_not` (a literal, most often) is `value`.
    @inline(__always)
    private static func matches(_ option: Template, _ value: String, _ values: (Reference) -> Value?) -> Bool
    {
        if option.parts.count == 1, case .literal(let text) = option.parts[0] { return text == value }
        return option.render(values)?.text == value
    }
}
