import TouchlogProjections

/// Reads a table of the mapping, remembering which keys were read so that an unknown one is an error.
struct TableReader {
    let table: TOMLDocument.Table
    let path: [String]
    let loader: MappingLoader

    func key(_ name: String) -> String { (path + [name]).joined(separator: ".") }
    var key: String { path.joined(separator: ".") }

    func error(_ name: String?, _ message: String) -> MappingError {
        let full = name.map(key) ?? key
        return MappingError(line: loader.line(of: full), key: full.isEmpty ? nil : full, message: message)
    }

    func string(_ name: String) throws(MappingError) -> String? {
        guard let value = table[name] else { return nil }
        guard case .string(let text) = value else { throw error(name, "must be a string") }
        return text
    }

    func bool(_ name: String) throws(MappingError) -> Bool? {
        guard let value = table[name] else { return nil }
        guard case .boolean(let flag) = value else { throw error(name, "must be true or false") }
        return flag
    }

    /// A string or an array of strings.
    func strings(_ name: String) throws(MappingError) -> [String]? {
        guard let value = table[name] else { return nil }
        switch value {
        case .string(let text): return [text]
        case .array(let items):
            var out: [String] = []
            for item in items {
                guard case .string(let text) = item else {
                    throw error(name, "must be a string or an array of strings")
                }
                out.append(text)
            }
            return out
        default: throw error(name, "must be a string or an array of strings")
        }
    }

    func table(_ name: String) throws(MappingError) -> TableReader? {
        guard let value = table[name] else { return nil }
        guard case .table(let inner) = value else { throw error(name, "must be a table") }
        return TableReader(table: inner, path: path + [name], loader: loader)
    }

    /// Fails on any key but `known`.
    func only(_ known: Set<String>) throws(MappingError) {
        for name in table.keys where !known.contains(name) {
            throw error(
                name,
                "is not a key of \(key.isEmpty ? "a mapping" : "'\(key)'") (known: \(known.sorted().joined(separator: ", ")))"
            )
        }
    }
}

/// Turns the TOML tree into an `ImportMapping`: resolves names, checks every key.
struct MappingLoader {
    let lines: [String: Int]

    /// The line of `key`, or of the nearest table that holds it.
    func line(of key: String) -> Int? {
        var parts = key.split(separator: ".", omittingEmptySubsequences: false)
        while !parts.isEmpty {
            if let line = lines[parts.joined(separator: ".")] { return line }
            parts.removeLast()
        }
        return nil
    }

    private var columnSlots: [String: Int] = [:]
    private var columns: [String] = []
    /// For each column, the first mapping key that named it (for "the header has no column" errors).
    private var columnKeys: [String] = []
    /// The key whose template or name is being resolved.
    private var currentKey = ""
    private var fieldSlots: [String: Int] = [:]

    init(lines: [String: Int]) { self.lines = lines }

    private mutating func column(_ name: String) -> Int {
        if let slot = columnSlots[name] { return slot }
        columns.append(name)
        columnKeys.append(currentKey)
        columnSlots[name] = columns.count - 1
        return columns.count - 1
    }

    /// Resolves a name of a field definition: the row's own columns and the fields above it.
    private mutating func resolveInField(_ name: String, fieldsAbove: Int) throws(MappingError) -> Reference {
        if name == "@line" { return Reference(scope: .row, target: .line, text: name) }
        if name.hasPrefix("@") {
            throw MappingError(
                message: "'{\(name)}' is not known in a field (only {@line}; {@row} is for events)")
        }
        if name.hasPrefix("prev.") || name.hasPrefix("first.") {
            throw MappingError(
                message:
                    "a field reads only its own row: '{\(name)}' belongs in an event (or use keep = \"first\")"
            )
        }
        if let slot = fieldSlots[name], slot < fieldsAbove {
            return Reference(scope: .row, target: .field(slot), text: name)
        }
        return Reference(scope: .row, target: .column(column(name)), text: name)
    }

    /// Resolves a name of an event or a condition: fields, then columns, with `prev.` or `first.`.
    private mutating func resolveInEvent(_ name: String) throws(MappingError) -> Reference {
        var scope = Reference.Scope.row
        var bare = Substring(name)
        if bare.hasPrefix("prev.") {
            scope = .previous
            bare = bare.dropFirst(5)
        } else if bare.hasPrefix("first.") {
            scope = .first
            bare = bare.dropFirst(6)
        }
        let base = String(bare)
        switch base {
        case "@row": return Reference(scope: scope, target: .rowKey, text: name)
        case "@line": return Reference(scope: scope, target: .line, text: name)
        case "@thread": return Reference(scope: scope, target: .thread, text: name)
        default: break
        }
        if base.hasPrefix("@") {
            throw MappingError(
                message: "'{\(name)}' is not known (the row's own: {@row}, {@line}, {@thread})")
        }
        if let slot = fieldSlots[base] { return Reference(scope: scope, target: .field(slot), text: name) }
        return Reference(scope: scope, target: .column(column(base)), text: name)
    }

    private mutating func template(
        _ text: String, in reader: TableReader, _ name: String, fieldsAbove: Int? = nil
    )
        throws(MappingError) -> Template
    {
        currentKey = reader.key(name)
        do {
            if let fieldsAbove {
                return try Template.parse(text) { (part) throws(MappingError) in
                    try resolveInField(part, fieldsAbove: fieldsAbove)
                }
            }
            return try Template.parse(text) { (part) throws(MappingError) in try resolveInEvent(part) }
        } catch {
            throw reader.error(name, error.message)
        }
    }

    private mutating func reference(_ text: String, in reader: TableReader, _ name: String)
        throws(MappingError)
        -> Reference
    {
        currentKey = reader.key(name)
        do { return try resolveInEvent(text) } catch { throw reader.error(name, error.message) }
    }

    mutating func load(_ root: TableReader, into mapping: inout ImportMapping) throws(MappingError) {
        try root.only([
            "source", "null", "input", "case", "thread", "tables", "fields", "extensions", "events",
        ])
        guard let source = try root.string("source"), !source.isEmpty else {
            throw root.error("source", "is required: the 'source' of the imported events (a URI-reference)")
        }
        mapping.source = source
        if let nulls = try root.strings("null") { mapping.nulls = Set(nulls) }

        guard let input = try root.table("input") else {
            throw root.error("input", "is required, with format = \"csv\" or \"json\"")
        }
        try input.only(["format", "records", "each"])
        let formatText = try input.string("format") ?? ""
        guard let format = ImportMapping.Format(rawValue: formatText) else {
            throw input.error(
                "format", "must be \"csv\" or \"json\" (JSON Lines, a JSON array, or JSON objects)")
        }
        mapping.format = format
        mapping.records = try input.string("records")
        mapping.each = try input.string("each")
        if format == .csv, mapping.records != nil || mapping.each != nil {
            throw input.error(
                mapping.records != nil ? "records" : "each", "applies only to format = \"json\"")
        }

        // Value tables.
        var tables: [String: ImportMapping.ValueTable] = [:]
        if let tablesReader = try root.table("tables") {
            for name in tablesReader.table.keys {
                guard let table = try tablesReader.table(name) else { continue }
                tables[name] = try valueTable(table)
            }
        }

        // Fields, in order: each may use the ones above it.
        if let fieldsReader = try root.table("fields") {
            for name in fieldsReader.table.keys {
                try loadField(name, in: fieldsReader, tables: tables, into: &mapping)
            }
        }
        if let time = fieldSlots["time"], mapping.fields[time].type == .time { mapping.orderTime = time }

        if let caseReader = try root.table("case") {
            try caseReader.only(["id", "sequence", "repair_lost_first"])
            guard let id = try caseReader.string("id") else {
                throw caseReader.error(
                    "id", "is required: a template naming the case of a row, such as \"{number}\"")
            }
            mapping.caseID = try template(id, in: caseReader, "id")
            if let sequence = try caseReader.string("sequence") {
                let found = try reference(sequence, in: caseReader, "sequence")
                switch (found.scope, found.target) {
                case (.row, .field), (.row, .column): mapping.sequence = found
                default: throw caseReader.error("sequence", "must name a column or a field of the row")
                }
            }
            try loadRest(root, caseReader: caseReader, into: &mapping)
        } else {
            try loadRest(root, caseReader: nil, into: &mapping)
        }
    }

    private mutating func loadRest(
        _ root: TableReader, caseReader: TableReader?, into mapping: inout ImportMapping
    )
        throws(MappingError)
    {
        if let thread = try root.table("thread") {
            try thread.only(["id", "parent"])
            guard caseReader == nil else {
                throw thread.error(nil, "a mapping has [case] or [thread], not both")
            }
            guard let id = try thread.string("id"), let parent = try thread.string("parent") else {
                throw thread.error(
                    nil,
                    "needs id (a template naming a row, such as \"{id}\") and parent (the row it replies to)")
            }
            mapping.threadID = try template(id, in: thread, "id")
            mapping.threadParent = try template(parent, in: thread, "parent")
        }
        if let caseReader {
            mapping.repairLostFirst = try caseReader.bool("repair_lost_first") ?? false
            if mapping.repairLostFirst, mapping.sequence == nil {
                throw caseReader.error("repair_lost_first", "needs a sequence")
            }
        }
        var extensions: [(String, Template)] = []
        if let reader = try root.table("extensions") {
            extensions = try extensionList(reader)
        }
        guard let eventsReader = try root.table("events"), !eventsReader.table.keys.isEmpty else {
            throw root.error("events", "is required: at least one [events.NAME] table")
        }
        for name in eventsReader.table.keys {
            guard let reader = try eventsReader.table(name) else { continue }
            mapping.rules.append(try rule(name, reader, extensions: extensions))
        }
        mapping.columns = columns
        mapping.columnKeys = columnKeys
    }

    private func valueTable(_ reader: TableReader) throws(MappingError) -> ImportMapping.ValueTable {
        var table = ImportMapping.ValueTable(key: reader.key, entries: [:])
        for name in reader.table.keys {
            guard let text = try reader.string(name) else { continue }
            if name == "*" { table.fallback = text } else { table.entries[name] = text }
        }
        return table
    }

    private mutating func loadField(
        _ name: String, in fieldsReader: TableReader, tables: [String: ImportMapping.ValueTable],
        into mapping: inout ImportMapping
    ) throws(MappingError) {
        let key = fieldsReader.key(name)
        guard !name.isEmpty, !name.hasPrefix("@"), !name.contains("."), !name.contains("{"),
            !name.contains("}")
        else {
            throw fieldsReader.error(
                name, "a field's name must not be empty, start with @, or hold '.', '{' or '}'")
        }
        let above = mapping.fields.count
        let field: ImportMapping.Field
        if case .string(let text) = fieldsReader.table[name] {
            field = ImportMapping.Field(
                name: name, key: key, line: line(of: key),
                value: try template(text, in: fieldsReader, name, fieldsAbove: above))
        } else {
            guard let reader = try fieldsReader.table(name) else {
                throw fieldsReader.error(name, "must be a template string or a table")
            }
            try reader.only([
                "value", "ignore", "slug", "table", "time", "zone", "type", "default", "keep", "start",
                "required",
            ])
            guard let value = try reader.string("value") else {
                throw reader.error("value", "is required: a template such as \"{Column}\"")
            }
            field = ImportMapping.Field(
                name: name, key: key, line: line(of: key),
                value: try template(value, in: reader, "value", fieldsAbove: above))
            if let ignore = try reader.strings("ignore") { field.ignore = Set(ignore) }
            field.slug = try reader.bool("slug") ?? false
            if let tableValue = reader.table["table"] {
                switch tableValue {
                case .string(let tableName):
                    guard let table = tables[tableName] else {
                        throw reader.error("table", "names no table: there is no [tables.\(tableName)]")
                    }
                    field.table = table
                case .table:
                    field.table = try valueTable(try reader.table("table")!)
                default:
                    throw reader.error("table", "must name a [tables.NAME] or be an inline table")
                }
            }
            if let formats = try reader.strings("time") {
                guard !formats.isEmpty else { throw reader.error("time", "must name at least one format") }
                for format in formats {
                    do { field.timeFormats.append(try TimeFormat(format)) } catch {
                        throw reader.error("time", error.message)
                    }
                }
                field.type = .time
            }
            if let zone = try reader.string("zone") {
                guard !field.timeFormats.isEmpty else { throw reader.error("zone", "applies only with time") }
                do { field.zone = try MappingTimeZone(zone) } catch {
                    throw reader.error("zone", error.message)
                }
            }
            if let type = try reader.string("type") {
                guard field.timeFormats.isEmpty else {
                    throw reader.error("type", "does not apply with time (a time is a time)")
                }
                guard let parsed = ValueType(rawValue: type), parsed != .time else {
                    throw reader.error("type", "must be string, integer, number or boolean")
                }
                field.type = parsed
            }
            field.defaultValue = try reader.string("default")
            if let keep = try reader.string("keep") {
                guard let parsed = ImportMapping.Field.Keep(rawValue: keep), parsed != .none else {
                    throw reader.error(
                        "keep",
                        "must be \"first\" (the case's first row's value) or \"last\" (the last value seen)")
                }
                field.keep = parsed
            }
            field.start = try reader.string("start")
            field.required = try reader.bool("required") ?? false
        }
        guard fieldSlots[name] == nil else { throw fieldsReader.error(name, "is defined twice") }
        fieldSlots[name] = mapping.fields.count
        mapping.fields.append(field)
    }

    private mutating func extensionList(_ reader: TableReader) throws(MappingError) -> [(String, Template)] {
        var out: [(String, Template)] = []
        for name in reader.table.keys {
            guard let text = try reader.string(name) else { continue }
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 &- 0x61 < 26 || $0 &- 0x30 < 10 }) else {
                throw reader.error(
                    name, "an extension attribute's name is made of a-z and 0-9 only (CloudEvents)")
            }
            guard !["ticketid", "repid", "channel"].contains(name) else {
                throw reader.error(name, "is set by the event's ticket, rep and channel, not as an extension")
            }
            out.append((name, try template(text, in: reader, name)))
        }
        return out
    }

    private mutating func dataMembers(_ reader: TableReader) throws(MappingError) -> [ImportMapping
        .DataMember]
    {
        var out: [ImportMapping.DataMember] = []
        for name in reader.table.keys {
            if case .string(let text) = reader.table[name] {
                out.append(
                    .init(name: name, value: try template(text, in: reader, name), nullWhenMissing: false))
                continue
            }
            guard let member = try reader.table(name) else { continue }
            try member.only(["value", "missing"])
            guard let value = try member.string("value") else { throw member.error("value", "is required") }
            let missing = try member.string("missing") ?? "omit"
            guard missing == "omit" || missing == "null" else {
                throw member.error("missing", "must be \"omit\" (leave the member out) or \"null\"")
            }
            out.append(
                .init(
                    name: name, value: try template(value, in: member, "value"),
                    nullWhenMissing: missing == "null"))
        }
        return out
    }

    private mutating func references(_ reader: TableReader, _ name: String, rowOnly: Bool = false)
        throws(MappingError) -> [Reference]
    {
        guard let names = try reader.strings(name) else { return [] }
        var out: [Reference] = []
        for text in names {
            let found = try reference(text, in: reader, name)
            if rowOnly, found.scope != .row {
                throw reader.error(
                    name, "compares a row with the row before it: name '\(text)' without prev. or first.")
            }
            out.append(found)
        }
        return out
    }

    private mutating func comparisons(_ reader: TableReader, _ name: String) throws(MappingError)
        -> [(reference: Reference, values: [Template])]
    {
        guard let table = try reader.table(name) else { return [] }
        var out: [(reference: Reference, values: [Template])] = []
        for column in table.table.keys {
            let found = try reference(column, in: table, column)
            guard let values = try table.strings(column) else { continue }
            var templates: [Template] = []
            for value in values { templates.append(try template(value, in: table, column)) }
            out.append((found, templates))
        }
        return out
    }

    private mutating func rule(_ name: String, _ reader: TableReader, extensions: [(String, Template)])
        throws(MappingError) -> ImportMapping.EventRule
    {
        try reader.only([
            "type", "id", "when", "customer", "time", "ticket", "rep", "channel", "data", "last_data",
            "extensions",
        ])
        guard let type = try reader.string("type"), !type.isEmpty else {
            throw reader.error(
                "type", "is required: the event type, such as \"ticket.opened\" (touchlog catalog)")
        }
        guard let id = try reader.string("id") else {
            throw reader.error(
                "id",
                "is required: a template that gives each event a stable id, such as \"{Ticket ID}/opened\"")
        }
        let idTemplate = try template(id, in: reader, "id")
        guard !idTemplate.references.isEmpty else {
            throw reader.error(
                "id", "must name at least one column or field: every event needs an id of its own")
        }
        func defaulted(_ attribute: String) -> String? {
            fieldSlots[attribute] != nil ? "{\(attribute)}" : nil
        }
        guard let customer = try reader.string("customer") ?? defaulted("customer") else {
            throw reader.error(
                "customer", "is required: set it here, or define fields.customer for every event")
        }
        guard let time = try reader.string("time") ?? defaulted("time") else {
            throw reader.error("time", "is required: set it here, or define fields.time for every event")
        }
        let rule = ImportMapping.EventRule(
            name: name, key: reader.key, line: line(of: reader.key), type: type, id: idTemplate,
            customer: try template(customer, in: reader, "customer"),
            time: try template(time, in: reader, "time"))
        if let ticket = try reader.string("ticket") ?? defaulted("ticket") {
            rule.ticket = try template(ticket, in: reader, "ticket")
        }
        if let rep = try reader.string("rep") ?? defaulted("rep") {
            rule.rep = try template(rep, in: reader, "rep")
        }
        if let channel = try reader.string("channel") ?? defaulted("channel") {
            rule.channel = try template(channel, in: reader, "channel")
        }
        if let data = try reader.table("data") { rule.data = try dataMembers(data) }
        if let data = try reader.table("last_data") { rule.lastData = try dataMembers(data) }
        rule.extensions = extensions.map { (name: $0.0, value: $0.1) }
        if let own = try reader.table("extensions") {
            for (name, value) in try extensionList(own) {
                rule.extensions.removeAll { $0.name == name }
                rule.extensions.append((name: name, value: value))
            }
        }
        if let when = try reader.table("when") {
            try when.only(["first", "present", "absent", "changed", "unchanged", "is", "is_not"])
            rule.condition.first = try when.bool("first")
            rule.condition.present = try references(when, "present")
            rule.condition.absent = try references(when, "absent")
            rule.condition.changed = try references(when, "changed", rowOnly: true)
            rule.condition.unchanged = try references(when, "unchanged", rowOnly: true)
            rule.condition.equals = try comparisons(when, "is")
            rule.condition.differs = try comparisons(when, "is_not")
        }
        return rule
    }
}
