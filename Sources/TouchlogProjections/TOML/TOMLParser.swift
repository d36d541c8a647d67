/// Reads TOML 1.0.0 from UTF-8 bytes into a `TOMLTableNode` tree: the document's structure (lines,
/// comments, headers, key/value pairs), keys, strings, arrays and inline tables. Numbers and
/// dates are in `TOMLParser+Scalars.swift`, the rules about redefinition in `TOMLTableNode.swift`.
///
/// Every error names the offset of the character at fault; `location(of:)` turns it into a line and
/// a column when the error is made.
struct TOMLParser {
    let bytes: [UInt8]
    var index = 0
    /// The offset where each line starts, for `location(of:)`.
    private let lineStarts: [Int]
    /// The headers read, in file order.
    private(set) var headers: [(path: [String], offset: Int)] = []
    /// Arrays and inline tables open around the current value (deeper is an error, so that a
    /// hostile file cannot exhaust the stack).
    private var depth = 0
    static let maximumDepth = 100

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var starts = [0]
        for (offset, byte) in bytes.enumerated() where byte == .lineFeed { starts.append(offset + 1) }
        lineStarts = starts
    }

    // MARK: Positions and errors

    /// The 1-based line and column (in Unicode scalars) of the byte at `offset`.
    func location(of offset: Int) -> (line: Int, column: Int) {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        let start = lineStarts[low]
        let end = min(offset, bytes.count)
        let scalars = bytes[start..<max(start, end)].reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
        return (low + 1, scalars + 1)
    }

    func error(at offset: Int, _ message: String) -> TOMLError {
        let location = location(of: offset)
        return TOMLError(line: location.line, column: location.column, message: message)
    }

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    func byte(at offset: Int) -> UInt8? { offset < bytes.count ? bytes[offset] : nil }

    /// What is at `offset`, for messages: the character in quotes, or "the end of the line/file".
    func found(at offset: Int) -> String {
        guard let byte = self.byte(at: offset) else { return "the end of the file" }
        if byte == .lineFeed || (byte == .carriageReturn && self.byte(at: offset + 1) == .lineFeed) {
            return "the end of the line"
        }
        if byte < 0x20 || byte == 0x7F { return "the control character \(scalarName(UInt32(byte)))" }
        var end = offset + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        return "'" + String(decoding: bytes[offset..<end], as: UTF8.self) + "'"
    }

    // MARK: Encoding

    /// Checks that the bytes are UTF-8 without a byte order mark.
    /// - Throws: `TOMLError` at the first byte that is not part of a well-formed UTF-8 sequence
    ///   (overlong forms, surrogates and values above U+10FFFF included).
    func validateEncoding() throws(TOMLError) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw error(
                at: 0, "the file starts with a byte order mark (U+FEFF): save it as UTF-8 without a BOM")
        }
        var offset = 0
        while offset < bytes.count {
            let lead = bytes[offset]
            if lead < 0x80 {
                offset += 1
                continue
            }
            let length: Int
            var scalar: UInt32
            switch lead {
            case 0xC2...0xDF: (length, scalar) = (2, UInt32(lead & 0x1F))
            case 0xE0...0xEF: (length, scalar) = (3, UInt32(lead & 0x0F))
            case 0xF0...0xF4: (length, scalar) = (4, UInt32(lead & 0x07))
            default: throw invalidUTF8(at: offset)
            }
            guard offset + length <= bytes.count else { throw invalidUTF8(at: offset) }
            for next in bytes[(offset + 1)..<(offset + length)] {
                guard next & 0xC0 == 0x80 else { throw invalidUTF8(at: offset) }
                scalar = scalar << 6 | UInt32(next & 0x3F)
            }
            let overlong = (length == 3 && scalar < 0x800) || (length == 4 && scalar < 0x10000)
            guard !overlong, !(0xD800...0xDFFF).contains(scalar), scalar <= 0x10FFFF else {
                throw invalidUTF8(at: offset)
            }
            offset += length
        }
    }

    private func invalidUTF8(at offset: Int) -> TOMLError {
        error(
            at: offset,
            "the file is not valid UTF-8 (byte 0x\(hexByte(bytes[offset])) here); TOML files are UTF-8")
    }

    // MARK: Document

    /// Reads the whole document.
    /// - Throws: `TOMLError` at the first problem.
    mutating func parseDocument() throws(TOMLError) -> TOMLTableNode {
        try validateEncoding()
        let root = TOMLTableNode(origin: .root, path: [], offset: 0)
        var current = root
        while true {
            skipWhitespace()
            guard let byte = peek else { return root }
            switch byte {
            case .lineFeed, .carriageReturn, .hash:
                try expectEndOfLine(after: "")
                continue
            case .openBracket:
                current = try parseHeader(root: root)
                try expectEndOfLine(after: "the table header")
            default:
                try parseKeyValue(into: current)
                try expectEndOfLine(after: "a key/value pair (one pair per line)")
            }
        }
    }

    /// `[key]` or `[[key]]`: the table that the following pairs go into.
    private mutating func parseHeader(root: TOMLTableNode) throws(TOMLError) -> TOMLTableNode {
        let start = index
        let isArray = byte(at: index + 1) == .openBracket
        index += isArray ? 2 : 1
        skipWhitespace()
        let key = try parseKey()
        skipWhitespace()
        let path = key.map(\.name)
        if isArray {
            guard peek == .closeBracket, byte(at: index + 1) == .closeBracket else {
                throw error(
                    at: index,
                    "expected ']]' to close the header [[\(tomlKeyPath(path))]], found \(found(at: index))")
            }
            index += 2
            headers.append((path, start))
            return try appendTable(key, in: root, headerOffset: start)
        }
        guard peek == .closeBracket else {
            throw error(
                at: index,
                "expected ']' to close the header [\(tomlKeyPath(path))], found \(found(at: index))")
        }
        index += 1
        headers.append((path, start))
        return try openTable(key, in: root, headerOffset: start)
    }

    /// `key = value`, defined in `table`.
    private mutating func parseKeyValue(into table: TOMLTableNode) throws(TOMLError) {
        if peek == .equals { throw error(at: index, "a key is missing before '='") }
        let key = try parseKey()
        skipWhitespace()
        guard peek == .equals else {
            throw error(
                at: index,
                "expected '=' after the key '\(tomlKeyPath(key.map(\.name)))', found \(found(at: index))")
        }
        index += 1
        skipWhitespace()
        var value = try parseValue(path: table.path + key.map(\.name))
        // A value is where its key is (for `TOMLDocument.entries` and "first on line N").
        if case .value(let plain, _) = value { value = .value(plain, offset: key[0].offset) }
        try define(key, value, in: table)
    }

    /// Spaces and tabs.
    mutating func skipWhitespace() {
        while let byte = peek, byte == .space || byte == .tab { index += 1 }
    }

    /// Whitespace, then an optional comment, then a newline or the end of the file.
    /// - Throws: `TOMLError` when anything else follows `what` on its line.
    private mutating func expectEndOfLine(after what: String) throws(TOMLError) {
        skipWhitespace()
        if peek == .hash { try skipComment() }
        if peek == nil { return }
        if try consumeNewline() { return }
        let after = what.isEmpty ? "" : " after \(what)"
        throw error(at: index, "expected the end of the line\(after), found \(found(at: index))")
    }

    /// Consumes LF or CRLF; false when the next byte starts neither.
    /// - Throws: `TOMLError` at a carriage return that no line feed follows.
    private mutating func consumeNewline() throws(TOMLError) -> Bool {
        switch peek {
        case .lineFeed:
            index += 1
            return true
        case .carriageReturn:
            guard byte(at: index + 1) == .lineFeed else {
                throw error(at: index, "a carriage return (U+000D) must be followed by a line feed")
            }
            index += 2
            return true
        default: return false
        }
    }

    /// From `#` to the end of the line (not included).
    /// - Throws: `TOMLError` at a control character other than tab.
    private mutating func skipComment() throws(TOMLError) {
        index += 1
        while let byte = peek, byte != .lineFeed {
            if byte == .carriageReturn, self.byte(at: index + 1) == .lineFeed { return }
            if isControl(byte) {
                throw error(
                    at: index, "the control character \(scalarName(UInt32(byte))) is not allowed in a comment"
                )
            }
            index += 1
        }
    }

    /// Whitespace, newlines and comments, as arrays allow between their elements.
    private mutating func skipBlankLines() throws(TOMLError) {
        while true {
            skipWhitespace()
            if peek == .hash { try skipComment() }
            guard try consumeNewline() else { return }
        }
    }

    // MARK: Keys

    /// A key: bare or quoted parts, separated by dots with optional whitespace around them.
    mutating func parseKey() throws(TOMLError) -> [TOMLKeyPart] {
        var parts: [TOMLKeyPart] = []
        while true {
            skipWhitespace()
            let start = index
            switch peek {
            case .quote:
                if byte(at: index + 1) == .quote, byte(at: index + 2) == .quote {
                    throw error(at: index, "a key cannot be a multi-line string")
                }
                parts.append(TOMLKeyPart(name: try parseBasicString(), offset: start))
            case .apostrophe:
                if byte(at: index + 1) == .apostrophe, byte(at: index + 2) == .apostrophe {
                    throw error(at: index, "a key cannot be a multi-line string")
                }
                parts.append(TOMLKeyPart(name: try parseLiteralString(), offset: start))
            default:
                while let byte = peek, isBareKeyByte(byte) { index += 1 }
                guard index > start else {
                    throw error(
                        at: index,
                        "expected a key (letters, digits, '_' and '-', or a quoted string), found \(found(at: index))"
                    )
                }
                parts.append(
                    TOMLKeyPart(name: String(decoding: bytes[start..<index], as: UTF8.self), offset: start))
            }
            skipWhitespace()
            guard peek == .dot else { return parts }
            index += 1
        }
    }

    private func isBareKeyByte(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || isDigit(byte) || byte == 0x5F
            || byte == 0x2D
    }

    // MARK: Values

    /// Any value; an inline table comes back as its (closed) table node. `path` is the value's key
    /// path, for messages.
    mutating func parseValue(path: [String]) throws(TOMLError) -> TOMLTableNode.Child {
        let start = index
        switch peek {
        case nil, .lineFeed, .carriageReturn, .hash:
            throw error(at: index, "expected a value, found \(found(at: index))")
        case .quote:
            let isMultiLine = byte(at: index + 1) == .quote && byte(at: index + 2) == .quote
            return .value(
                .string(try isMultiLine ? parseMultiLineBasicString() : parseBasicString()), offset: start)
        case .apostrophe:
            let isMultiLine = byte(at: index + 1) == .apostrophe && byte(at: index + 2) == .apostrophe
            return .value(
                .string(try isMultiLine ? parseMultiLineLiteralString() : parseLiteralString()), offset: start
            )
        case .openBracket:
            return .value(try parseArray(path: path), offset: start)
        case .openBrace:
            return .table(try parseInlineTable(path: path))
        default:
            return .value(try parseScalar(), offset: start)
        }
    }

    /// A value inside an array: inline tables become table values there and then.
    private mutating func parseArrayElement(path: [String]) throws(TOMLError) -> TOMLDocument.Value {
        switch try parseValue(path: path) {
        case .value(let value, _): value
        case .table(let node): .table(node.table)
        case .tables(let nodes, _): .array(nodes.map { .table($0.table) })
        }
    }

    private mutating func enterNesting() throws(TOMLError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw error(at: index, "arrays and inline tables are nested more than \(Self.maximumDepth) deep")
        }
    }

    /// `[ value, value, ... ]`: any values, with newlines, comments and a trailing comma allowed.
    private mutating func parseArray(path: [String]) throws(TOMLError) -> TOMLDocument.Value {
        let open = index
        try enterNesting()
        defer { depth -= 1 }
        index += 1
        var elements: [TOMLDocument.Value] = []
        while true {
            try skipBlankLines()
            if peek == .closeBracket {
                index += 1
                return .array(elements)
            }
            guard peek != nil else { throw error(at: open, "this array has no closing ']'") }
            if peek == .comma { throw error(at: index, "expected a value or ']' in the array, found ','") }
            elements.append(try parseArrayElement(path: path))
            try skipBlankLines()
            switch peek {
            case .comma: index += 1
            case .closeBracket:
                index += 1
                return .array(elements)
            case nil: throw error(at: open, "this array has no closing ']'")
            default:
                throw error(
                    at: index, "expected ',' or ']' after an array element, found \(found(at: index))")
            }
        }
    }

    /// `{ key = value, ... }` on one line, no trailing comma; closed once read.
    private mutating func parseInlineTable(path: [String]) throws(TOMLError) -> TOMLTableNode {
        let open = index
        try enterNesting()
        defer { depth -= 1 }
        index += 1
        let node = TOMLTableNode(origin: .dotted, path: path, offset: open)
        skipWhitespace()
        if peek == .closeBrace {
            index += 1
            node.freeze()
            return node
        }
        while true {
            skipWhitespace()
            try expectInlineTableContinues(open: open)
            if peek == .closeBrace { throw error(at: index, "an inline table cannot end with a comma") }
            if peek == .comma { throw error(at: index, "expected a key in the inline table, found ','") }
            try parseKeyValue(into: node)
            skipWhitespace()
            try expectInlineTableContinues(open: open)
            switch peek {
            case .comma: index += 1
            case .closeBrace:
                index += 1
                node.freeze()
                return node
            default:
                throw error(
                    at: index,
                    "expected ',' or '}' after a value in the inline table, found \(found(at: index))")
            }
        }
    }

    private func expectInlineTableContinues(open: Int) throws(TOMLError) {
        switch peek {
        case nil: throw error(at: open, "this inline table has no closing '}'")
        case .lineFeed, .carriageReturn:
            throw error(
                at: index, "an inline table must be on one line (only a value inside it may span lines)")
        default: return
        }
    }

    // MARK: Strings

    /// `"..."` on one line, with escapes.
    mutating func parseBasicString() throws(TOMLError) -> String {
        let open = index
        index += 1
        var text: [UInt8] = []
        while true {
            guard let byte = peek else { throw error(at: open, "this string has no closing '\"'") }
            switch byte {
            case .quote:
                index += 1
                return String(decoding: text, as: UTF8.self)
            case .backslash:
                try appendEscape(to: &text)
            case .lineFeed, .carriageReturn:
                throw error(
                    at: open,
                    "this string has no closing '\"' on its line (a multi-line string starts with \"\"\")")
            default:
                if isControl(byte) { throw controlCharacterInString(byte) }
                text.append(byte)
                index += 1
            }
        }
    }

    /// `'...'` on one line, as written.
    mutating func parseLiteralString() throws(TOMLError) -> String {
        let open = index
        index += 1
        let start = index
        while true {
            guard let byte = peek else { throw error(at: open, "this string has no closing \"'\"") }
            switch byte {
            case .apostrophe:
                index += 1
                return String(decoding: bytes[start..<(index - 1)], as: UTF8.self)
            case .lineFeed, .carriageReturn:
                throw error(
                    at: open,
                    "this string has no closing \"'\" on its line (a multi-line string starts with ''')")
            default:
                if isControl(byte) { throw controlCharacterInString(byte) }
                index += 1
            }
        }
    }

    /// `"""..."""`: escapes, line-ending backslashes, newlines kept (CRLF as LF), the newline right
    /// after the opening quotes dropped.
    private mutating func parseMultiLineBasicString() throws(TOMLError) -> String {
        let open = index
        index += 3
        _ = try consumeNewline()
        var text: [UInt8] = []
        while true {
            guard let byte = peek else {
                throw error(at: open, "this multi-line string has no closing '\"\"\"'")
            }
            switch byte {
            case .quote:
                if let closed = try closeMultiLine(quote: .quote, text: &text) { return closed }
            case .backslash:
                if let next = self.byte(at: index + 1),
                    next == .space || next == .tab || next == .lineFeed || next == .carriageReturn
                {
                    try skipLineEndingBackslash()
                } else {
                    try appendEscape(to: &text)
                }
            case .lineFeed, .carriageReturn:
                _ = try consumeNewline()
                text.append(.lineFeed)
            default:
                if isControl(byte) { throw controlCharacterInString(byte) }
                text.append(byte)
                index += 1
            }
        }
    }

    /// `'''...'''`: as written (CRLF as LF), the newline right after the opening quotes dropped.
    private mutating func parseMultiLineLiteralString() throws(TOMLError) -> String {
        let open = index
        index += 3
        _ = try consumeNewline()
        var text: [UInt8] = []
        while true {
            guard let byte = peek else {
                throw error(at: open, "this multi-line string has no closing \"'''\"")
            }
            switch byte {
            case .apostrophe:
                if let closed = try closeMultiLine(quote: .apostrophe, text: &text) { return closed }
            case .lineFeed, .carriageReturn:
                _ = try consumeNewline()
                text.append(.lineFeed)
            default:
                if isControl(byte) { throw controlCharacterInString(byte) }
                text.append(byte)
                index += 1
            }
        }
    }

    /// At a run of `quote`s in a multi-line string: one or two are text; three to five close the
    /// string, the ones before the last three being text; six or more are an error.
    private mutating func closeMultiLine(quote: UInt8, text: inout [UInt8]) throws(TOMLError) -> String? {
        let start = index
        while peek == quote { index += 1 }
        let count = index - start
        if count > 5 {
            throw error(
                at: start + 5,
                "three \(quote == .quote ? "quotation marks" : "apostrophes") in a row end a multi-line string; escape one of them or use the other kind of string"
            )
        }
        text.append(contentsOf: repeatElement(quote, count: count < 3 ? count : count - 3))
        return count < 3 ? nil : String(decoding: text, as: UTF8.self)
    }

    /// A backslash that ends its line (whitespace may follow it): it and every space, tab and
    /// newline up to the next other character are dropped.
    private mutating func skipLineEndingBackslash() throws(TOMLError) {
        let backslash = index
        index += 1
        skipWhitespace()
        guard try consumeNewline() else {
            throw error(
                at: backslash,
                "a backslash followed by whitespace must end its line (a line-ending backslash); write \\\\ for a backslash"
            )
        }
        while true {
            skipWhitespace()
            guard try consumeNewline() else { return }
        }
    }

    /// The escape at the backslash under `index`, appended as UTF-8.
    /// - Throws: `TOMLError` at the backslash when the escape is not one TOML defines, or names no
    ///   Unicode scalar value.
    private mutating func appendEscape(to text: inout [UInt8]) throws(TOMLError) {
        let backslash = index
        index += 1
        guard let escape = peek else { throw error(at: backslash, "the string ends inside an escape") }
        index += 1
        switch escape {
        case UInt8(ascii: "b"): text.append(0x08)
        case UInt8(ascii: "t"): text.append(0x09)
        case UInt8(ascii: "n"): text.append(0x0A)
        case UInt8(ascii: "f"): text.append(0x0C)
        case UInt8(ascii: "r"): text.append(0x0D)
        case .quote: text.append(.quote)
        case .backslash: text.append(.backslash)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = escape == UInt8(ascii: "u") ? 4 : 8
            var code: UInt32 = 0
            for _ in 0..<count {
                guard let digit = peek.flatMap(hexValue) else {
                    throw error(
                        at: backslash,
                        "\\\(Character(Unicode.Scalar(escape))) must be followed by \(count) hexadecimal digits"
                    )
                }
                code = code << 4 | UInt32(digit)
                index += 1
            }
            guard let scalar = Unicode.Scalar(code) else {
                throw error(
                    at: backslash,
                    "\(String(decoding: bytes[backslash..<index], as: UTF8.self)) is not a Unicode scalar value (surrogates and values above 10FFFF are not)"
                )
            }
            text.append(contentsOf: String(Character(scalar)).utf8)
        default:
            let written =
                escape > 0x20 && escape < 0x7F
                ? "'\\\(Character(Unicode.Scalar(escape)))'" : "a backslash before \(found(at: index - 1))"
            throw error(
                at: backslash,
                "\(written) is not an escape TOML defines (\\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX)"
            )
        }
    }

    private func controlCharacterInString(_ byte: UInt8) -> TOMLError {
        error(
            at: index,
            "the control character \(scalarName(UInt32(byte))) is not allowed in a string (in a basic string, write it as an escape)"
        )
    }
}

/// Control characters other than tab: not allowed as such in comments and strings.
func isControl(_ byte: UInt8) -> Bool { (byte < 0x20 && byte != .tab) || byte == 0x7F }

func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: byte - 0x30
    case 0x41...0x46: byte - 0x41 + 10
    case 0x61...0x66: byte - 0x61 + 10
    default: nil
    }
}

func hexByte(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}

/// "U+000D".
func scalarName(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

extension UInt8 {
    static let tab: UInt8 = 0x09
    static let lineFeed: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let apostrophe: UInt8 = 0x27
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let colon: UInt8 = 0x3A
    static let equals: UInt8 = 0x3D
    static let openBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D
    static let underscore: UInt8 = 0x5F
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
}
