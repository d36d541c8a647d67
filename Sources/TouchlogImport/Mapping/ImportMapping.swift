import CloudEvents
import TouchlogProjections

/// A mapping file is not a valid mapping: the TOML line, the key, and why.
public struct MappingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line of the mapping file, when known.
    public var line: Int?
    /// The key that failed, such as `events.opened.when.is`.
    public var key: String?
    public var message: String

    public init(line: Int? = nil, key: String? = nil, message: String) {
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var text = ""
        if let line { text += "line \(line): " }
        if let key { text += "\(key): " }
        return text + message
    }
}

/// A declarative import mapping (docs/IMPORT.md): how the rows of an export (CSV, JSON Lines or JSON)
/// become catalog events. Read from TOML; the engine is `MappedSource`.
public struct ImportMapping {
    public enum Format: String, Sendable {
        case csv, json
    }

    /// One named value computed from each row (`[fields]`). A class: it is read for every row, and a
    /// reference is not copied value by value.
    final class Field {
        enum Keep: String, Sendable {
            case none, first, last
        }

        var name: String
        var key: String
        var line: Int?
        var value: Template
        var ignore: Set<String> = []
        var slug = false
        var table: ValueTable?
        var timeFormats: [TimeFormat] = []
        var zone = MappingTimeZone.utc
        var type = ValueType.string
        var defaultValue: String?
        var keep = Keep.none
        var start: String?
        /// A row without a value here is not read (it is rejected).
        var required = false

        init(name: String, key: String, line: Int?, value: Template) {
            self.name = name
            self.key = key
            self.line = line
            self.value = value
        }
    }

    /// A value table (`[tables.NAME]` or inline): text -> text; `*` for anything else; "" for no value.
    struct ValueTable: Sendable {
        var key: String
        var entries: [String: String]
        var fallback: String?
    }

    /// A condition (`when`): every part must hold.
    final class Condition {
        var first: Bool?
        var present: [Reference] = []
        var absent: [Reference] = []
        var changed: [Reference] = []
        var unchanged: [Reference] = []
        var equals: [(reference: Reference, values: [Template])] = []
        var differs: [(reference: Reference, values: [Template])] = []
    }

    /// One member of an event's `data`.
    struct DataMember: Sendable {
        var name: String
        var value: Template
        /// With no value: `null` (true) or left out (false).
        var nullWhenMissing: Bool
    }

    /// One event a row can yield (`[events.NAME]`).
    final class EventRule {
        var name: String
        var key: String
        var line: Int?
        var type: String
        var id: Template
        var customer: Template
        var time: Template
        var ticket: Template?
        var rep: Template?
        var channel: Template?
        var data: [DataMember] = []
        var lastData: [DataMember] = []
        var extensions: [(name: String, value: Template)] = []
        let condition = Condition()

        init(
            name: String, key: String, line: Int?, type: String, id: Template, customer: Template,
            time: Template
        ) {
            self.name = name
            self.key = key
            self.line = line
            self.type = type
            self.id = id
            self.customer = customer
            self.time = time
        }
    }

    /// The `source` of every event.
    public var source: String
    public internal(set) var format: Format
    /// JSON: the member of each top-level object that holds the records.
    var records: String?
    /// JSON: the array member of each record that holds the rows (one row per element).
    var each: String?
    /// Values that mean "no value", in every column.
    var nulls: Set<String> = [""]
    /// `[case]`: the rows of one case, and their order.
    var caseID: Template?
    var sequence: Reference?
    var repairLostFirst = false
    /// `[thread]`: a row's own id and the id of the row it replies to; rows are threads of replies.
    var threadID: Template?
    var threadParent: Template?
    var fields: [Field] = []
    var rules: [EventRule] = []
    /// The columns the mapping reads, by slot (names in the header, or JSON paths).
    var columns: [String] = []
    /// For each column, the mapping key that first named it.
    var columnKeys: [String] = []
    /// The field that orders a case's rows after the sequence: `time`, when it is a time.
    var orderTime: Int?
    /// The mapping's TOML text.
    public let text: String

    /// The field named `name`, by slot.
    func field(named name: String) -> Int? { fields.firstIndex { $0.name == name } }

    /// Reads a mapping from TOML text.
    /// - Throws: `MappingError` with the line and the key that failed.
    public init(toml text: String) throws(MappingError) {
        self.text = text
        let document: TOMLDocument
        do { document = try TOMLDocument(parsing: text) } catch {
            throw MappingError(line: error.line, message: error.message)
        }
        var lines: [String: Int] = [:]
        for header in document.tables {
            lines[header.path.joined(separator: "."), default: header.line] = header.line
        }
        for entry in document.entries { lines[entry.path.joined(separator: ".")] = entry.line }
        var loader = MappingLoader(lines: lines)
        let root = TableReader(table: document.root, path: [], loader: loader)
        source = ""
        format = .csv
        try loader.load(root, into: &self)
    }
}
