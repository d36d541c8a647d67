/// The byte-level JSON scanner behind ``JSONValue/parse(_:)`` and ``CloudEvent/init(json:)``.
///
/// It works on a borrowed buffer (valid only while the caller's `withUnsafeBufferPointer` runs)
/// and can either build ``JSONValue`` trees or only validate (`skipValue`), which is what the
/// event parser uses for `data` so that no tree is built on the hot path.
struct JSONScanner: ~Copyable {
    /// Containers (objects and arrays) may nest this deep; one more is an error.
    static let maximumDepth = 64

    /// A scanned string literal: its raw content between the quotes, and whether it has escapes.
    struct StringToken {
        var start: Int
        var end: Int
        var hasEscapes: Bool
        var count: Int { end - start }
    }

    /// A key of an object being scanned: its decoded bytes live in `keyBytes[start..<end]`.
    private struct KeyEntry {
        var start: Int
        var end: Int
        var offset: Int
    }

    let bytes: UnsafeBufferPointer<UInt8>
    var pos = 0
    private(set) var depth = 0
    private var keyBytes: [UInt8] = []
    private var keys: [KeyEntry] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var end: Int { bytes.count }
    var isAtEnd: Bool { pos >= bytes.count }

    /// The byte at `pos`, or `nil` at the end.
    var current: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    func error(_ reason: String, at offset: Int? = nil) -> JSONError {
        JSONError(offset: offset ?? pos, reason: reason)
    }

    mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x0A, 0x0D, 0x09: pos += 1
            default: return
            }
        }
    }

    /// After the top-level value: only whitespace may follow.
    mutating func expectEnd() throws(JSONError) {
        skipWhitespace()
        if pos < bytes.count { throw error("unexpected data after the JSON value") }
    }

    /// Consumes `byte` (after optional whitespace) or throws `message`.
    mutating func expect(_ byte: UInt8, _ message: @autoclosure () -> String) throws(JSONError) {
        skipWhitespace()
        guard pos < bytes.count else { throw error("unexpected end of input") }
        guard bytes[pos] == byte else { throw error(message()) }
        pos += 1
    }

    /// Describes an unexpected byte for an error message.
    func describeByte(_ b: UInt8) -> String {
        if b >= 0x21 && b < 0x7F { return "unexpected character '\(Character(Unicode.Scalar(b)))'" }
        return "unexpected byte 0x\(String(b, radix: 16, uppercase: true))"
    }

    func unexpected() -> JSONError {
        guard pos < bytes.count else { return error("unexpected end of input") }
        let b = bytes[pos]
        if b == UInt8(ascii: "N") || b == UInt8(ascii: "I") {
            return error("NaN and Infinity are not valid JSON")
        }
        return error(describeByte(b))
    }

    // MARK: Containers

    mutating func enterContainer() throws(JSONError) {
        depth += 1
        if depth > Self.maximumDepth { throw error("nesting deeper than \(Self.maximumDepth)") }
    }

    mutating func leaveContainer() { depth -= 1 }

    /// Starts the duplicate-key bookkeeping of a new object; pass the result to `endObject`.
    func beginObject() -> (keys: Int, bytes: Int) { (keys.count, keyBytes.count) }

    /// Ends the duplicate-key bookkeeping of an object. Large objects are checked here by sorting.
    mutating func endObject(_ frame: (keys: Int, bytes: Int)) throws(JSONError) {
        let count = keys.count - frame.keys
        if count > Self.linearKeyLimit { try checkDuplicatesSorted(from: frame.keys) }
        keys.removeSubrange(frame.keys...)
        keyBytes.removeSubrange(frame.bytes...)
    }

    /// Objects with up to this many keys are checked for duplicates as each key arrives.
    private static let linearKeyLimit = 16

    /// Records the key just scanned (decoded into `keyBytes`) and rejects a duplicate in this object.
    /// - Returns: the range of the decoded key in the key buffer (valid until the next key).
    @discardableResult
    mutating func registerKey(_ token: StringToken, frame: (keys: Int, bytes: Int)) throws(JSONError) -> Range<Int> {
        let start = keyBytes.count
        let input = bytes
        Self.appendDecoded(input, token, to: &keyBytes)
        let end = keyBytes.count
        let offset = token.start - 1
        let existing = keys.count - frame.keys
        if existing < Self.linearKeyLimit {
            let length = end - start
            let duplicate = keyBytes.withUnsafeBufferPointer { kb -> Bool in
                for i in frame.keys..<keys.count {
                    let k = keys[i]
                    if k.end - k.start == length
                        && (length == 0 || memoryEqual(kb.baseAddress! + k.start, kb.baseAddress! + start, length))
                    {
                        return true
                    }
                }
                return false
            }
            if duplicate { throw duplicateKeyError(start..<end, offset: offset) }
        }
        keys.append(KeyEntry(start: start, end: end, offset: offset))
        return start..<end
    }

    private func duplicateKeyError(_ range: Range<Int>, offset: Int) -> JSONError {
        var name = String(decoding: keyBytes[range], as: UTF8.self)
        if name.count > 64 { name = String(name.prefix(64)) + "..." }
        return error("duplicate key \"\(name)\"", at: offset)
    }

    private func checkDuplicatesSorted(from first: Int) throws(JSONError) {
        let entries = keys[first...]
        let sorted = keyBytes.withUnsafeBufferPointer { kb in
            entries.sorted { a, b in
                let order = compareBytes(kb, a.start..<a.end, b.start..<b.end)
                return order != 0 ? order < 0 : a.offset < b.offset
            }
        }
        var firstDuplicate: KeyEntry?
        keyBytes.withUnsafeBufferPointer { kb in
            for i in sorted.indices.dropFirst()
            where compareBytes(kb, sorted[i - 1].start..<sorted[i - 1].end, sorted[i].start..<sorted[i].end) == 0 {
                if firstDuplicate == nil || sorted[i].offset < firstDuplicate!.offset { firstDuplicate = sorted[i] }
            }
        }
        if let d = firstDuplicate { throw duplicateKeyError(d.start..<d.end, offset: d.offset) }
    }

    /// Compares the decoded key at `range` with `name`.
    func key(_ range: Range<Int>, equals name: StaticString) -> Bool {
        guard range.count == name.utf8CodeUnitCount else { return false }
        return keyBytes.withUnsafeBufferPointer { kb in
            memoryEqual(kb.baseAddress! + range.lowerBound, name.utf8Start, range.count)
        }
    }

    /// Calls `body` with the decoded bytes of the key at `range`.
    func withKeyBytes<R>(_ range: Range<Int>, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        keyBytes.withUnsafeBufferPointer { kb in body(UnsafeBufferPointer(rebasing: kb[range])) }
    }

    // MARK: Values (building)

    /// Parses the value at `pos` (whitespace already skipped) into a tree.
    mutating func parseValue() throws(JSONError) -> JSONValue {
        guard pos < bytes.count else { throw error("unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "\""):
            let token = try scanString()
            return .string(makeString(token))
        case UInt8(ascii: "{"):
            return try parseObject()
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let range = try scanNumber()
            return .number(makeString(range))
        case UInt8(ascii: "t"):
            try scanLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try scanLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try scanLiteral("null")
            return .null
        default:
            throw unexpected()
        }
    }

    private mutating func parseObject() throws(JSONError) -> JSONValue {
        try enterContainer()
        pos += 1
        let frame = beginObject()
        var members: [JSONMember] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            pos += 1
        } else {
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else {
                    if current == UInt8(ascii: "}") && !members.isEmpty { throw error("trailing comma in object") }
                    throw isAtEnd ? error("unexpected end of input") : error("expected a string key")
                }
                let keyToken = try scanString()
                try registerKey(keyToken, frame: frame)
                try expect(UInt8(ascii: ":"), "expected ':' after key")
                skipWhitespace()
                let value = try parseValue()
                members.append(JSONMember(key: makeString(keyToken), value: value))
                skipWhitespace()
                guard let b = current else { throw error("unexpected end of input") }
                pos += 1
                if b == UInt8(ascii: ",") { continue }
                if b == UInt8(ascii: "}") { break }
                pos -= 1
                throw error("expected ',' or '}' in object")
            }
        }
        try endObject(frame)
        leaveContainer()
        return .object(members)
    }

    private mutating func parseArray() throws(JSONError) -> JSONValue {
        try enterContainer()
        pos += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            pos += 1
        } else {
            while true {
                skipWhitespace()
                if current == UInt8(ascii: "]") && !elements.isEmpty { throw error("trailing comma in array") }
                elements.append(try parseValue())
                skipWhitespace()
                guard let b = current else { throw error("unexpected end of input") }
                pos += 1
                if b == UInt8(ascii: ",") { continue }
                if b == UInt8(ascii: "]") { break }
                pos -= 1
                throw error("expected ',' or ']' in array")
            }
        }
        leaveContainer()
        return .array(elements)
    }

    // MARK: Values (validating only)

    /// Validates the value at `pos` (whitespace already skipped) without building anything.
    mutating func skipValue() throws(JSONError) {
        guard pos < bytes.count else { throw error("unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "\""): _ = try scanString()
        case UInt8(ascii: "{"): try skipObject()
        case UInt8(ascii: "["): try skipArray()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try scanNumber()
        case UInt8(ascii: "t"): try scanLiteral("true")
        case UInt8(ascii: "f"): try scanLiteral("false")
        case UInt8(ascii: "n"): try scanLiteral("null")
        default: throw unexpected()
        }
    }

    private mutating func skipObject() throws(JSONError) {
        try enterContainer()
        pos += 1
        let frame = beginObject()
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            pos += 1
        } else {
            var first = true
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else {
                    if current == UInt8(ascii: "}") && !first { throw error("trailing comma in object") }
                    throw isAtEnd ? error("unexpected end of input") : error("expected a string key")
                }
                first = false
                let keyToken = try scanString()
                try registerKey(keyToken, frame: frame)
                try expect(UInt8(ascii: ":"), "expected ':' after key")
                skipWhitespace()
                try skipValue()
                skipWhitespace()
                guard let b = current else { throw error("unexpected end of input") }
                pos += 1
                if b == UInt8(ascii: ",") { continue }
                if b == UInt8(ascii: "}") { break }
                pos -= 1
                throw error("expected ',' or '}' in object")
            }
        }
        try endObject(frame)
        leaveContainer()
    }

    private mutating func skipArray() throws(JSONError) {
        try enterContainer()
        pos += 1
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            pos += 1
        } else {
            var first = true
            while true {
                skipWhitespace()
                if current == UInt8(ascii: "]") && !first { throw error("trailing comma in array") }
                first = false
                try skipValue()
                skipWhitespace()
                guard let b = current else { throw error("unexpected end of input") }
                pos += 1
                if b == UInt8(ascii: ",") { continue }
                if b == UInt8(ascii: "]") { break }
                pos -= 1
                throw error("expected ',' or ']' in array")
            }
        }
        leaveContainer()
    }

    // MARK: Scalars

    mutating func scanLiteral(_ literal: StaticString) throws(JSONError) {
        let n = literal.utf8CodeUnitCount
        let p = literal.utf8Start
        for i in 0..<n {
            guard pos + i < bytes.count else { throw error("unexpected end of input", at: bytes.count) }
            guard bytes[pos + i] == p[i] else { throw error("invalid literal (expected '\(literal)')") }
        }
        pos += n
    }

    /// Scans a number (RFC 8259 grammar) and returns the range of its literal text.
    mutating func scanNumber() throws(JSONError) -> Range<Int> {
        let start = pos
        var i = pos
        let n = bytes.count
        @inline(__always) func isDigit(_ i: Int) -> Bool {
            i < n && bytes[i] &- UInt8(ascii: "0") < 10
        }
        if bytes[i] == UInt8(ascii: "-") {
            i += 1
            if i < n && (bytes[i] == UInt8(ascii: "I") || bytes[i] == UInt8(ascii: "N")) {
                throw error("NaN and Infinity are not valid JSON", at: start)
            }
        }
        guard isDigit(i) else { throw error("invalid number: expected a digit", at: i) }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if isDigit(i) { throw error("invalid number: leading zeros are not allowed", at: start) }
        } else {
            while isDigit(i) { i += 1 }
        }
        if i < n && bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard isDigit(i) else { throw error("invalid number: expected a digit after '.'", at: i) }
            while isDigit(i) { i += 1 }
        }
        if i < n && (bytes[i] | 0x20) == UInt8(ascii: "e") {
            i += 1
            if i < n && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
            guard isDigit(i) else { throw error("invalid number: expected a digit in the exponent", at: i) }
            while isDigit(i) { i += 1 }
        }
        pos = i
        return start..<i
    }

    /// Scans a string literal starting at the opening quote: checks UTF-8, control characters and
    /// escapes, and leaves `pos` after the closing quote.
    mutating func scanString() throws(JSONError) -> StringToken {
        let open = pos
        var i = pos + 1
        let n = bytes.count
        let base = bytes.baseAddress!
        var hasEscapes = false
        while true {
            // Fast path: plain printable ASCII.
            while i < n {
                let b = base[i]
                if b >= 0x20 && b < 0x80 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
                    i += 1
                } else {
                    break
                }
            }
            guard i < n else { throw error("unterminated string", at: open) }
            let b = base[i]
            if b == UInt8(ascii: "\"") { break }
            if b == UInt8(ascii: "\\") {
                hasEscapes = true
                i = try scanEscape(at: i)
            } else if b < 0x20 {
                throw error("unescaped control character 0x\(b < 0x10 ? "0" : "")\(String(b, radix: 16, uppercase: true)) in string", at: i)
            } else {
                i = try scanUTF8Sequence(at: i)
            }
        }
        pos = i + 1
        return StringToken(start: open + 1, end: i, hasEscapes: hasEscapes)
    }

    /// Validates the escape at `i` (a backslash); returns the index after it.
    private func scanEscape(at i: Int) throws(JSONError) -> Int {
        let n = bytes.count
        guard i + 1 < n else { throw error("unterminated string", at: i) }
        switch bytes[i + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
            UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return i + 2
        case UInt8(ascii: "u"):
            let unit = try hex4(at: i + 2)
            if unit >= 0xDC00 && unit <= 0xDFFF { throw error("lone surrogate \\u\(hexString(unit)) in string", at: i) }
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard i + 7 < n, bytes[i + 6] == UInt8(ascii: "\\"), bytes[i + 7] == UInt8(ascii: "u") else {
                    throw error("lone surrogate \\u\(hexString(unit)) in string", at: i)
                }
                let low = try hex4(at: i + 8)
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw error("lone surrogate \\u\(hexString(unit)) in string", at: i)
                }
                return i + 12
            }
            return i + 6
        default:
            throw error("invalid escape sequence in string", at: i)
        }
    }

    private func hexString(_ unit: UInt16) -> String {
        let s = String(unit, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - s.count) + s
    }

    private func hex4(at i: Int) throws(JSONError) -> UInt16 {
        guard i + 4 <= bytes.count else { throw error("invalid \\u escape: expected 4 hex digits", at: i - 2) }
        var v: UInt16 = 0
        for k in 0..<4 {
            guard let d = hexValue(bytes[i + k]) else {
                throw error("invalid \\u escape: expected 4 hex digits", at: i - 2)
            }
            v = v << 4 | UInt16(d)
        }
        return v
    }

    /// Validates one multi-byte UTF-8 sequence at `i` (lead byte >= 0x80); returns the index after it.
    private func scanUTF8Sequence(at i: Int) throws(JSONError) -> Int {
        let n = bytes.count
        let b0 = bytes[i]
        @inline(__always) func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            i + k < n && bytes[i + k] >= lo && bytes[i + k] <= hi
        }
        switch b0 {
        case 0xC2...0xDF:
            if cont(1) { return i + 2 }
        case 0xE0:
            if cont(1, 0xA0) && cont(2) { return i + 3 }
        case 0xE1...0xEC, 0xEE, 0xEF:
            if cont(1) && cont(2) { return i + 3 }
        case 0xED:
            if cont(1, 0x80, 0x9F) && cont(2) { return i + 3 }
        case 0xF0:
            if cont(1, 0x90) && cont(2) && cont(3) { return i + 4 }
        case 0xF1...0xF3:
            if cont(1) && cont(2) && cont(3) { return i + 4 }
        case 0xF4:
            if cont(1, 0x80, 0x8F) && cont(2) && cont(3) { return i + 4 }
        default:
            break
        }
        throw error("invalid UTF-8", at: i)
    }

    // MARK: Decoding

    /// Makes a `String` from already-validated bytes.
    func makeString(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// Makes a `String` from a scanned string literal, decoding escapes if any.
    func makeString(_ token: StringToken) -> String {
        if !token.hasEscapes { return makeString(token.start..<token.end) }
        return String(unsafeUninitializedCapacity: token.count) { out in
            Self.decode(bytes, token, into: out.baseAddress!)
        }
    }

    /// Appends the decoded bytes of a scanned string literal.
    static func appendDecoded(_ bytes: UnsafeBufferPointer<UInt8>, _ token: StringToken, to array: inout [UInt8]) {
        if !token.hasEscapes {
            array.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[token.start..<token.end]))
            return
        }
        let old = array.count
        array.append(contentsOf: repeatElement(0, count: token.count))
        let written = array.withUnsafeMutableBufferPointer { buf in decode(bytes, token, into: buf.baseAddress! + old) }
        array.removeLast(token.count - written)
    }

    /// Decodes a validated string literal with escapes into `out` (room for `token.count` bytes,
    /// which always suffices: every escape is at least as long as what it stands for).
    /// - Returns: the number of bytes written.
    private static func decode(
        _ bytes: UnsafeBufferPointer<UInt8>, _ token: StringToken, into out: UnsafeMutablePointer<UInt8>
    ) -> Int {
        var i = token.start
        var o = 0
        while i < token.end {
            let b = bytes[i]
            if b != UInt8(ascii: "\\") {
                out[o] = b
                o += 1
                i += 1
                continue
            }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out[o] = 0x08; o += 1
            case UInt8(ascii: "f"): out[o] = 0x0C; o += 1
            case UInt8(ascii: "n"): out[o] = 0x0A; o += 1
            case UInt8(ascii: "r"): out[o] = 0x0D; o += 1
            case UInt8(ascii: "t"): out[o] = 0x09; o += 1
            case UInt8(ascii: "u"):
                var scalar = UInt32(unsafeHex4(bytes, at: i))
                i += 4
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    let low = UInt32(unsafeHex4(bytes, at: i + 2))
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                o += encodeUTF8(scalar, into: out + o)
            default:  // " \ /
                out[o] = e
                o += 1
            }
        }
        return o
    }

    private static func unsafeHex4(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> UInt16 {
        var v: UInt16 = 0
        for k in 0..<4 { v = v << 4 | UInt16(hexValue(bytes[i + k])!) }
        return v
    }
}

@inline(__always)
func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
    default: return nil
    }
}

/// Writes the UTF-8 encoding of `scalar` (a valid Unicode scalar value); returns the byte count.
@inline(__always)
func encodeUTF8(_ scalar: UInt32, into out: UnsafeMutablePointer<UInt8>) -> Int {
    switch scalar {
    case 0..<0x80:
        out[0] = UInt8(scalar)
        return 1
    case 0x80..<0x800:
        out[0] = UInt8(0xC0 | scalar >> 6)
        out[1] = UInt8(0x80 | scalar & 0x3F)
        return 2
    case 0x800..<0x10000:
        out[0] = UInt8(0xE0 | scalar >> 12)
        out[1] = UInt8(0x80 | scalar >> 6 & 0x3F)
        out[2] = UInt8(0x80 | scalar & 0x3F)
        return 3
    default:
        out[0] = UInt8(0xF0 | scalar >> 18)
        out[1] = UInt8(0x80 | scalar >> 12 & 0x3F)
        out[2] = UInt8(0x80 | scalar >> 6 & 0x3F)
        out[3] = UInt8(0x80 | scalar & 0x3F)
        return 4
    }
}

@inline(__always)
func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    for i in 0..<count where a[i] != b[i] { return false }
    return true
}

/// Lexicographic byte comparison of two ranges of one buffer: negative, zero or positive.
func compareBytes(_ buffer: UnsafeBufferPointer<UInt8>, _ a: Range<Int>, _ b: Range<Int>) -> Int {
    let n = min(a.count, b.count)
    for k in 0..<n {
        let x = buffer[a.lowerBound + k], y = buffer[b.lowerBound + k]
        if x != y { return Int(x) - Int(y) }
    }
    return a.count - b.count
}
