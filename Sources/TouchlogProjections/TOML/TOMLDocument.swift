/// A parsed TOML 1.0.0 document (https://toml.io/en/v1.0.0): the rules file's format.
///
/// Every valid document is read, every invalid one rejected with the line and column of the first
/// problem: comments, bare/quoted/dotted keys, the four kinds of string, decimal, hexadecimal,
/// octal and binary integers (64-bit), floats with `inf` and `nan`, booleans, offset and local
/// date-times, local dates and times, arrays, inline tables, tables and arrays of tables, with the
/// specification's rules against defining a key or table twice. The text must be UTF-8 without a
/// byte order mark; LF and CRLF line endings are both read (a CRLF inside a multi-line string
/// becomes LF, so a value does not depend on the platform that wrote the file).
public struct TOMLDocument: Sendable, Equatable {
    /// The whole document as a tree: the root table.
    public private(set) var root: Table

    /// Every value reachable from the root through tables (header, dotted-key and inline tables
    /// alike) that is not itself a table, with its full key path, in file order. An array of
    /// tables is one entry, an `.array` of `.table`s, at its first `[[...]]` header. Rules files
    /// read these: a value set with `a.b = 1`, `[a]` then `b = 1`, or `a = { b = 1 }` is the
    /// same entry `["a", "b"]`.
    public private(set) var entries: [Entry]

    /// Every table header (`[a.b]` and `[[a.b]]`), with its line, in file order.
    public private(set) var tables: [(path: [String], line: Int)]

    /// One key's value, where its key was written.
    public struct Entry: Sendable, Equatable {
        public var path: [String]
        public var value: Value
        /// The 1-based line of the key.
        public var line: Int
        /// The 1-based column of the key, counted in Unicode scalars.
        public var column: Int
    }

    public static func == (a: TOMLDocument, b: TOMLDocument) -> Bool {
        a.root == b.root && a.tables.map(\.path) == b.tables.map(\.path)
    }

    /// Parses `text`.
    /// - Throws: `TOMLError` with the 1-based line and column of the first problem.
    public init(parsing text: String) throws(TOMLError) {
        try self.init(parsing: Array(text.utf8))
    }

    /// Parses UTF-8 `bytes`; invalid UTF-8 is an error (a `String` made from the bytes would have
    /// replaced it silently).
    /// - Throws: `TOMLError` with the 1-based line and column of the first problem.
    public init(parsing bytes: [UInt8]) throws(TOMLError) {
        var parser = TOMLParser(bytes)
        let root = try parser.parseDocument()
        self.root = root.table
        self.tables = parser.headers.map { (path: $0.path, line: parser.location(of: $0.offset).line) }
        var found: [(offset: Int, path: [String], value: Value)] = []
        root.collectEntries(path: [], into: &found)
        self.entries = found.sorted { $0.offset < $1.offset }.map {
            let location = parser.location(of: $0.offset)
            return Entry(path: $0.path, value: $0.value, line: location.line, column: location.column)
        }
    }

    /// `bytes` as a `String`, or an error at the first byte that is not UTF-8 (for callers that
    /// read a file and hand its text to `init(parsing:)` or to `Rules(toml:)`).
    /// - Throws: `TOMLError` naming the line and column of the first invalid byte.
    public static func text(utf8 bytes: [UInt8]) throws(TOMLError) -> String {
        try TOMLParser(bytes).validateEncoding()
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension TOMLDocument {
    /// A TOML value.
    public enum Value: Sendable, Equatable {
        case string(String)
        case integer(Int64)
        case float(Double)
        case boolean(Bool)
        case offsetDateTime(OffsetDateTime)
        case localDateTime(LocalDateTime)
        case localDate(LocalDate)
        case localTime(LocalTime)
        case array([Value])
        case table(Table)

        /// Floats are equal when they are the same IEEE 754 value: `nan` equals `nan` (TOML has
        /// one), and `-0.0` differs from `0.0` (the specification maps them apart).
        public static func == (a: Value, b: Value) -> Bool {
            switch (a, b) {
            case (.string(let x), .string(let y)): x == y
            case (.integer(let x), .integer(let y)): x == y
            case (.float(let x), .float(let y)): (x.isNaN && y.isNaN) || (x == y && x.sign == y.sign)
            case (.boolean(let x), .boolean(let y)): x == y
            case (.offsetDateTime(let x), .offsetDateTime(let y)): x == y
            case (.localDateTime(let x), .localDateTime(let y)): x == y
            case (.localDate(let x), .localDate(let y)): x == y
            case (.localTime(let x), .localTime(let y)): x == y
            case (.array(let x), .array(let y)): x == y
            case (.table(let x), .table(let y)): x == y
            default: false
            }
        }
    }

    /// A table: keys in the order they were first defined, each with its value. Two tables are
    /// equal when they have the same keys with equal values, in any order (TOML tables are
    /// unordered).
    public struct Table: Sendable, Equatable, ExpressibleByDictionaryLiteral {
        /// The keys, in the order they were defined.
        public private(set) var keys: [String] = []
        private var values: [String: Value] = [:]

        public init() {}

        public init(dictionaryLiteral elements: (String, Value)...) {
            for (key, value) in elements { self[key] = value }
        }

        public subscript(key: String) -> Value? {
            get { values[key] }
            set {
                if values[key] == nil, newValue != nil { keys.append(key) }
                if newValue == nil { keys.removeAll { $0 == key } }
                values[key] = newValue
            }
        }

        /// The keys with their values, in the order they were defined.
        public var pairs: [(key: String, value: Value)] { keys.map { ($0, values[$0]!) } }

        public static func == (a: Table, b: Table) -> Bool { a.values == b.values }
    }

    /// A calendar date without a time zone (`1979-05-27`).
    public struct LocalDate: Sendable, Hashable, CustomStringConvertible {
        public var year: Int
        public var month: Int
        public var day: Int

        public init(year: Int, month: Int, day: Int) {
            self.year = year
            self.month = month
            self.day = day
        }

        public var description: String { "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))" }
    }

    /// A time of day without a date or time zone (`07:32:00.999999`). Fractions of a second are
    /// kept to the nanosecond; finer digits are truncated, as the specification asks.
    public struct LocalTime: Sendable, Hashable, CustomStringConvertible {
        public var hour: Int
        public var minute: Int
        /// 0 to 60 (60 is a leap second, which RFC 3339 allows).
        public var second: Int
        public var nanosecond: Int

        public init(hour: Int, minute: Int, second: Int, nanosecond: Int = 0) {
            self.hour = hour
            self.minute = minute
            self.second = second
            self.nanosecond = nanosecond
        }

        public var description: String {
            var text = "\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
            if nanosecond > 0 {
                var fraction = pad(nanosecond, 9)
                while fraction.hasSuffix("0") { fraction.removeLast() }
                text += "." + fraction
            }
            return text
        }
    }

    /// A date and time without a time zone (`1979-05-27T07:32:00`).
    public struct LocalDateTime: Sendable, Hashable, CustomStringConvertible {
        public var date: LocalDate
        public var time: LocalTime

        public init(date: LocalDate, time: LocalTime) {
            self.date = date
            self.time = time
        }

        public var description: String { "\(date)T\(time)" }
    }

    /// A date and time at an offset from UTC (`1979-05-27T00:32:00-07:00`): one instant.
    public struct OffsetDateTime: Sendable, Hashable, CustomStringConvertible {
        public var date: LocalDate
        public var time: LocalTime
        /// Minutes east of UTC (`Z` is 0, `-07:00` is -420).
        public var offsetMinutes: Int

        public init(date: LocalDate, time: LocalTime, offsetMinutes: Int) {
            self.date = date
            self.time = time
            self.offsetMinutes = offsetMinutes
        }

        public var description: String {
            guard offsetMinutes != 0 else { return "\(date)T\(time)Z" }
            let sign = offsetMinutes < 0 ? "-" : "+"
            let minutes = abs(offsetMinutes)
            return "\(date)T\(time)\(sign)\(pad(minutes / 60, 2)):\(pad(minutes % 60, 2))"
        }
    }
}

/// `value` in decimal with leading zeros to `width` digits.
private func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

/// Why a TOML text was rejected, and where: the 1-based line and column (in Unicode scalars) of
/// the character that made it invalid.
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// "line 12, column 7: expected '=' after the key 'name'".
    public var description: String { "line \(line), column \(column): \(message)" }
}
