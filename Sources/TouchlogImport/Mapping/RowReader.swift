import CloudEvents

/// One row of the input as the mapping reads it: the values of the columns it names.
struct InputRow {
    /// The 1-based input line where the row starts.
    var line: Int
    /// The row's place among the rows of one JSON record (`each`); 0 otherwise.
    var element: Int
    /// By column slot (`ImportMapping.columns`); nil for no value.
    var columns: [String?]
    /// The input the row came from, for a rejects file.
    var input: RowInput
}

/// The input a row came from, kept so that a rejects file gets it exactly: the CSV record (written back
/// only when it is rejected), or the JSON value that held it.
enum RowInput {
    case csv(CSVRecord)
    case json([UInt8])
    case none

    /// The input's bytes.
    var bytes: [UInt8] {
        switch self {
        case .csv(let record): record.csvBytes
        case .json(let bytes): bytes
        case .none: []
        }
    }

    /// About how many bytes of input it is (for the ingest's batch size in bytes).
    var size: Int {
        switch self {
        case .csv(let record): record.storage.count + record.count
        case .json(let bytes): bytes.count
        case .none: 0
        }
    }
}

/// A row, or part of the input, that cannot be read.
struct RowReadError: Error {
    var line: Int?
    var message: String
    /// The input, for a rejects file.
    var bytes: [UInt8] = []
    /// False when reading cannot go on (an I/O error, JSON whose structure is broken).
    var isRecoverable = true
    var isIOFailure = false
}

/// Reads the rows of the input, CSV or JSON, as the mapping names its columns.
struct RowReader<Input: ByteSource> {
    private enum Reader {
        case csv(CSVReader<Input>)
        case json(JSONRecordReader<Input>)
    }

    private var reader: Reader
    private let mapping: ImportMapping
    /// CSV: the header's index of each column slot; the header's field count.
    private(set) var headerIndex: [Int]?
    private var fieldCount = 0
    /// JSON: rows of the current record not yet given out.
    private var pending: [InputRow] = []
    private var pendingIndex = 0
    /// JSON: each column's path, split at the dots.
    private let paths: [[Substring]]
    private let eachPath: [Substring]?
    /// `null`, as a list: there are one or two, and comparing a few short strings beats hashing each value.
    private let nulls: [String]

    init(_ input: Input, mapping: ImportMapping) {
        self.mapping = mapping
        switch mapping.format {
        case .csv: reader = .csv(CSVReader(input))
        case .json: reader = .json(JSONRecordReader(input))
        }
        paths = mapping.columns.map { $0.split(separator: ".", omittingEmptySubsequences: false) }
        eachPath = mapping.each.map { $0.split(separator: ".", omittingEmptySubsequences: false) }
        nulls = mapping.nulls.sorted()
    }

    /// The next row; nil at the end.
    mutating func next() throws(RowReadError) -> InputRow? {
        switch reader {
        case .csv(var csv):
            defer { reader = .csv(csv) }
            return try nextCSV(&csv)
        case .json(var json):
            defer { reader = .json(json) }
            return try nextJSON(&json)
        }
    }

    // MARK: CSV

    private mutating func nextCSV(_ csv: inout CSVReader<Input>) throws(RowReadError) -> InputRow? {
        let record: CSVRecord
        do {
            if headerIndex == nil {
                guard let header = try csv.next() else {
                    throw RowReadError(
                        line: nil, message: "the input is empty (a CSV file needs a header)",
                        isRecoverable: false)
                }
                try readHeader(header)
            }
            guard let next = try csv.next() else { return nil }
            record = next
        } catch let error as CSVError {
            throw RowReadError(
                line: error.readFailure == nil ? error.line : nil, message: error.message,
                isRecoverable: error.isRecoverable,
                isIOFailure: error.readFailure.map { !$0.isDataError } ?? false)
        } catch let error as RowReadError {
            throw error
        } catch {
            throw RowReadError(line: nil, message: "\(error)", isRecoverable: false)
        }
        guard record.count == fieldCount else {
            throw RowReadError(
                line: record.line,
                message: "the row has \(record.count) fields; the header has \(fieldCount)",
                bytes: record.csvBytes)
        }
        var columns: [String?] = []
        columns.reserveCapacity(headerIndex!.count)
        for (slot, index) in headerIndex!.enumerated() {
            guard let text = record.field(index) else {
                throw RowReadError(
                    line: record.line,
                    message: "column \(index + 1) '\(mapping.columns[slot])' is not valid UTF-8",
                    bytes: record.csvBytes)
            }
            columns.append(nulls.contains(text) ? nil : text)
        }
        return InputRow(line: record.line, element: 0, columns: columns, input: .csv(record))
    }

    private mutating func readHeader(_ header: CSVRecord) throws(RowReadError) {
        var index: [String: Int] = [:]
        for position in 0..<header.count {
            var name = header.field(position) ?? ""
            if position == 0, name.hasPrefix("\u{FEFF}") { name.removeFirst() }  // a UTF-8 byte order mark
            if index[name] == nil { index[name] = position }
        }
        var found: [Int] = []
        for (slot, name) in mapping.columns.enumerated() {
            guard let position = index[name] else {
                throw RowReadError(
                    line: header.line,
                    message:
                        "the header has no column '\(name)' (named by \(mapping.columnKeys[slot]) of the mapping)",
                    isRecoverable: false)
            }
            found.append(position)
        }
        headerIndex = found
        fieldCount = header.count
    }

    // MARK: JSON

    private mutating func nextJSON(_ json: inout JSONRecordReader<Input>) throws(RowReadError) -> InputRow? {
        while pendingIndex >= pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
            let value: (line: Int, bytes: [UInt8])
            do {
                guard let next = try json.next() else { return nil }
                value = next
            } catch {
                throw RowReadError(
                    line: error.readFailure == nil ? error.line : nil, message: error.message,
                    isRecoverable: false,
                    isIOFailure: error.readFailure.map { !$0.isDataError } ?? false)
            }
            let parsed: JSONValue
            do { parsed = try JSONValue.parse(value.bytes) } catch {
                throw RowReadError(line: value.line, message: error.description, bytes: value.bytes)
            }
            try expand(parsed, line: value.line, bytes: value.bytes)
        }
        defer { pendingIndex += 1 }
        return pending[pendingIndex]
    }

    /// Queues the rows of one top-level value.
    private mutating func expand(_ value: JSONValue, line: Int, bytes: [UInt8]) throws(RowReadError) {
        var records: [JSONValue] = [value]
        // A page: an object holding its records in the member `records` names; any other value is a record.
        if let name = mapping.records, let inner = value[name] {
            guard case .array(let items) = inner else {
                throw RowReadError(
                    line: line, message: "member '\(name)' is not an array (input.records of the mapping)",
                    bytes: bytes)
            }
            records = items
        }
        // Rows of one top-level value share its line; their order in it is `element`.
        var element = 0
        for record in records {
            guard case .object = record else {
                throw RowReadError(line: line, message: "a record is not a JSON object", bytes: bytes)
            }
            guard let eachPath else {
                pending.append(
                    InputRow(line: line, element: element, columns: columns(record, nil), input: .json(bytes))
                )
                element += 1
                continue
            }
            switch Self.lookup(record, eachPath[...]) {
            case nil, .null:
                continue
            case .array(let elements):
                for item in elements {
                    pending.append(
                        InputRow(
                            line: line, element: element, columns: columns(record, item), input: .json(bytes))
                    )
                    element += 1
                }
            default:
                throw RowReadError(
                    line: line,
                    message: "member '\(mapping.each!)' is not an array (input.each of the mapping)",
                    bytes: bytes)
            }
        }
    }

    /// The value of each column: a path into the record, or into the element for a path under `each`.
    private func columns(_ record: JSONValue, _ element: JSONValue?) -> [String?] {
        paths.map { path in
            var found: JSONValue?
            if let element, let eachPath, path.count > eachPath.count,
                Array(path.prefix(eachPath.count)) == eachPath
            {
                found = Self.lookup(element, path.dropFirst(eachPath.count))
            } else {
                found = Self.lookup(record, path[...])
            }
            guard let found, let text = Self.text(found) else { return nil }
            return nulls.contains(text) ? nil : text
        }
    }

    private static func lookup(_ value: JSONValue, _ path: ArraySlice<Substring>) -> JSONValue? {
        var current = value
        for part in path {
            guard let next = current[String(part)] else { return nil }
            current = next
        }
        return current
    }

    /// A JSON value as column text: strings as they are, numbers as written, booleans `true`/`false`, other
    /// values as compact JSON; null is no value.
    private static func text(_ value: JSONValue) -> String? {
        switch value {
        case .null: return nil
        case .string(let text): return text
        case .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        default:
            var bytes: [UInt8] = []
            value.write(into: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
