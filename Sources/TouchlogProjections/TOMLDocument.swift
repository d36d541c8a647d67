/// A parsed file in the subset of TOML 1.0 that Touchlog reads for its rules.
///
/// The subset: comments (`#` to the end of the line), table headers (`[a.b]`), bare, quoted and
/// dotted keys, basic strings (`"..."` with `\" \\ \b \t \n \f \r \uXXXX \UXXXXXXXX` escapes),
/// literal strings (`'...'`), decimal integers (sign and `_` separators allowed), floats
/// (`1.5`, `-2e3`, `6.02E+23`), booleans and arrays of those scalars (which may span lines and end
/// with a comma). Not read: multi-line strings, dates and times, hexadecimal, octal and binary
/// integers, `inf` and `nan`, inline tables and arrays of tables. Anything outside the subset is
/// an error naming its line, never silently skipped.
public struct TOMLDocument: Sendable, Equatable {
    /// A value of the subset.
    public enum Value: Sendable, Equatable {
        case string(String)
        case integer(Int64)
        case float(Double)
        case boolean(Bool)
        case array([Value])
    }

    /// One `key = value` line: its full key path (table path and key) and where it was.
    public struct Entry: Sendable, Equatable {
        public var path: [String]
        public var value: Value
        public var line: Int
    }

    /// Every key/value pair, in file order.
    public private(set) var entries: [Entry] = []
    /// Every table header, with its line.
    public private(set) var tables: [(path: [String], line: Int)] = []

    public static func == (a: TOMLDocument, b: TOMLDocument) -> Bool {
        a.entries == b.entries && a.tables.map(\.path) == b.tables.map(\.path)
    }

    /// Parses `text`.
    /// - Throws: `TOMLError` with the 1-based line of the first problem.
    public init(parsing text: String) throws(TOMLError) {
        var parser = TOMLParser(Array(text.utf8))
        try parser.parse(into: &self)
    }

    fileprivate mutating func add(_ entry: Entry) { entries.append(entry) }
    fileprivate mutating func addTable(_ path: [String], line: Int) { tables.append((path, line)) }
}

/// Why a TOML text was rejected, with its 1-based line number.
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    /// "line 12: expected '=' after the key".
    public var description: String { "line \(line): \(message)" }
}

private struct TOMLParser {
    let bytes: [UInt8]
    var index = 0
    var line = 1
    var currentTable: [String] = []
    var definedKeys: Set<[String]> = []
    var definedTables: Set<[String]> = []

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    func fail(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }

    mutating func skipSpaces() {
        while let byte = peek, byte == 0x20 || byte == 0x09 { index += 1 }
    }

    /// Skips spaces and a comment; the line must end here.
    mutating func expectEndOfLine() throws(TOMLError) {
        skipSpaces()
        skipComment()
        guard let byte = peek else { return }
        if byte == 0x0A {
            index += 1
            line += 1
            return
        }
        if byte == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A {
            index += 2
            line += 1
            return
        }
        throw fail("unexpected '\(printable(byte))' after the value (one key = value per line)")
    }

    mutating func skipComment() {
        guard peek == UInt8(ascii: "#") else { return }
        while let byte = peek, byte != 0x0A { index += 1 }
    }

    /// Skips whitespace, newlines and comments (inside arrays).
    mutating func skipBlank() {
        while let byte = peek {
            switch byte {
            case 0x20, 0x09, 0x0D: index += 1
            case 0x0A:
                index += 1
                line += 1
            case UInt8(ascii: "#"): skipComment()
            default: return
            }
        }
    }

    mutating func parse(into document: inout TOMLDocument) throws(TOMLError) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        while !atEnd {
            skipSpaces()
            guard let byte = peek else { break }
            switch byte {
            case 0x0A:
                index += 1
                line += 1
            case 0x0D: try expectEndOfLine()
            case UInt8(ascii: "#"): skipComment()
            case UInt8(ascii: "["):
                let headerLine = line
                let path = try parseTableHeader()
                document.addTable(path, line: headerLine)
                try expectEndOfLine()
            default:
                let entryLine = line
                let key = try parseKey()
                skipSpaces()
                guard peek == UInt8(ascii: "=") else {
                    throw fail("expected '=' after the key '\(key.joined(separator: "."))'")
                }
                index += 1
                skipSpaces()
                let value = try parseValue()
                let path = currentTable + key
                guard !definedKeys.contains(path), !definedTables.contains(path) else {
                    throw fail("'\(path.joined(separator: "."))' is defined twice")
                }
                for prefixLength in currentTable.count..<path.count
                where definedKeys.contains(Array(path[..<prefixLength])) {
                    throw fail("'\(path[..<prefixLength].joined(separator: "."))' is a value, not a table")
                }
                definedKeys.insert(path)
                document.add(TOMLDocument.Entry(path: path, value: value, line: entryLine))
                try expectEndOfLine()
            }
        }
    }

    mutating func parseTableHeader() throws(TOMLError) -> [String] {
        index += 1
        if peek == UInt8(ascii: "[") {
            throw fail("arrays of tables ([[...]]) are not in the TOML subset Touchlog reads")
        }
        skipSpaces()
        let path = try parseKey()
        skipSpaces()
        guard peek == UInt8(ascii: "]") else { throw fail("expected ']' to end the table header") }
        index += 1
        guard !definedTables.contains(path) else {
            throw fail("table [\(path.joined(separator: "."))] is defined twice")
        }
        for prefixLength in 1...path.count where definedKeys.contains(Array(path[..<prefixLength])) {
            throw fail("'\(path[..<prefixLength].joined(separator: "."))' is a value, not a table")
        }
        definedTables.insert(path)
        currentTable = path
        return path
    }

    /// A dotted key: bare or quoted parts separated by dots.
    mutating func parseKey() throws(TOMLError) -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            guard let byte = peek else { throw fail("expected a key") }
            if byte == UInt8(ascii: "\"") {
                parts.append(try parseBasicString())
            } else if byte == UInt8(ascii: "'") {
                parts.append(try parseLiteralString())
            } else {
                let start = index
                while let b = peek, isBareKeyByte(b) { index += 1 }
                guard index > start else { throw fail("expected a key, found '\(printable(byte))'") }
                parts.append(String(decoding: bytes[start..<index], as: UTF8.self))
            }
            skipSpaces()
            guard peek == UInt8(ascii: ".") else { return parts }
            index += 1
        }
    }

    func isBareKeyByte(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F
            || b == 0x2D
    }

    mutating func parseValue() throws(TOMLError) -> TOMLDocument.Value {
        guard let byte = peek, byte != 0x0A, byte != UInt8(ascii: "#") else {
            throw fail("expected a value after '='")
        }
        switch byte {
        case UInt8(ascii: "\""): return .string(try parseBasicString())
        case UInt8(ascii: "'"): return .string(try parseLiteralString())
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "{"): throw fail("inline tables ({...}) are not in the TOML subset Touchlog reads")
        default: break
        }
        let start = index
        while let b = peek,
            !(b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == UInt8(ascii: "#")
                || b == UInt8(ascii: ",") || b == UInt8(ascii: "]"))
        {
            index += 1
        }
        let token = String(decoding: bytes[start..<index], as: UTF8.self)
        if token == "true" { return .boolean(true) }
        if token == "false" { return .boolean(false) }
        return try parseNumber(token)
    }

    func parseNumber(_ token: String) throws(TOMLError) -> TOMLDocument.Value {
        let invalid = fail(
            "'\(token)' is not a value of the TOML subset (a string, integer, float, boolean or array)")
        var digits = Array(token.utf8)
        guard !digits.isEmpty else { throw invalid }
        // Underscores must sit between two digits.
        for (i, b) in digits.enumerated() where b == UInt8(ascii: "_") {
            guard i > 0, i + 1 < digits.count, isDigit(digits[i - 1]), isDigit(digits[i + 1]) else {
                throw invalid
            }
        }
        digits.removeAll { $0 == UInt8(ascii: "_") }
        var body = digits[...]
        if let first = body.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            body = body.dropFirst()
        }
        guard let first = body.first, isDigit(first) else {
            if token.hasSuffix("inf") || token.hasSuffix("nan") {
                throw fail("inf and nan are not in the TOML subset Touchlog reads")
            }
            throw invalid
        }
        // Integer part: no leading zeros.
        var i = body.startIndex
        while i < body.endIndex, isDigit(body[i]) { i += 1 }
        if body[body.startIndex] == UInt8(ascii: "0"), i - body.startIndex > 1 {
            throw fail("'\(token)': leading zeros are not allowed")
        }
        if i == body.endIndex {
            guard let value = Int64(String(decoding: digits, as: UTF8.self)) else {
                throw fail("'\(token)' does not fit in a 64-bit integer")
            }
            return .integer(value)
        }
        if body[i] == UInt8(ascii: "x") || body[i] == UInt8(ascii: "o") || body[i] == UInt8(ascii: "b") {
            throw fail("hexadecimal, octal and binary integers are not in the TOML subset Touchlog reads")
        }
        if body[i] == UInt8(ascii: "-") || body[i] == UInt8(ascii: ":") {
            throw fail("dates and times are not in the TOML subset Touchlog reads")
        }
        // Fraction: '.' followed by at least one digit.
        if body[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            while i < body.endIndex, isDigit(body[i]) { i += 1 }
            guard i > fractionStart else { throw invalid }
        }
        // Exponent: e or E, optional sign, at least one digit.
        if i < body.endIndex, body[i] == UInt8(ascii: "e") || body[i] == UInt8(ascii: "E") {
            i += 1
            if i < body.endIndex, body[i] == UInt8(ascii: "+") || body[i] == UInt8(ascii: "-") { i += 1 }
            let exponentStart = i
            while i < body.endIndex, isDigit(body[i]) { i += 1 }
            guard i > exponentStart else { throw invalid }
        }
        guard i == body.endIndex, let value = Double(String(decoding: digits, as: UTF8.self)), value.isFinite
        else {
            throw invalid
        }
        return .float(value)
    }

    func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    mutating func parseArray() throws(TOMLError) -> TOMLDocument.Value {
        index += 1
        var elements: [TOMLDocument.Value] = []
        while true {
            skipBlank()
            guard let byte = peek else { throw fail("unterminated array: expected ']'") }
            if byte == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            if byte == UInt8(ascii: "[") {
                throw fail("nested arrays are not in the TOML subset Touchlog reads (arrays hold scalars)")
            }
            elements.append(try parseValue())
            skipBlank()
            guard let next = peek else { throw fail("unterminated array: expected ']'") }
            if next == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard next == UInt8(ascii: "]") else { throw fail("expected ',' or ']' in the array") }
        }
    }

    mutating func parseLiteralString() throws(TOMLError) -> String {
        index += 1
        if peek == UInt8(ascii: "'"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "'") {
            throw fail("multi-line strings are not in the TOML subset Touchlog reads")
        }
        let start = index
        while let byte = peek, byte != UInt8(ascii: "'") {
            if byte == 0x0A { throw fail("unterminated string: a string must end on its line") }
            index += 1
        }
        guard peek != nil else { throw fail("unterminated string") }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        index += 1
        return text
    }

    mutating func parseBasicString() throws(TOMLError) -> String {
        index += 1
        if peek == UInt8(ascii: "\""), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") {
            throw fail("multi-line strings are not in the TOML subset Touchlog reads")
        }
        var out: [UInt8] = []
        while true {
            guard let byte = peek else { throw fail("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case 0x0A:
                throw fail("unterminated string: a string must end on its line")
            case UInt8(ascii: "\\"):
                guard let escape = peek else { throw fail("unterminated string") }
                index += 1
                switch escape {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "u"), UInt8(ascii: "U"):
                    let count = escape == UInt8(ascii: "u") ? 4 : 8
                    guard index + count <= bytes.count,
                        let code = UInt32(
                            String(decoding: bytes[index..<index + count], as: UTF8.self), radix: 16),
                        let scalar = Unicode.Scalar(code)
                    else { throw fail("invalid \\\(Character(Unicode.Scalar(escape))) escape in a string") }
                    index += count
                    out.append(contentsOf: String(Character(scalar)).utf8)
                default:
                    throw fail("invalid escape '\\\(printable(escape))' in a string")
                }
            default:
                if byte < 0x20 && byte != 0x09 { throw fail("control character in a string: escape it") }
                out.append(byte)
            }
        }
    }

    func printable(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F
            ? String(Character(Unicode.Scalar(byte))) : "\\u{\(String(byte, radix: 16))}"
    }
}
