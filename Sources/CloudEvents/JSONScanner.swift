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

    /// A key of an object being scanned. Keys without escapes are referenced in the input;
    /// keys with escapes are decoded into `keyBytes`.
    struct KeyEntry {
        var start: Int
        var end: Int
        var offset: Int
        var inScratch: Bool
        var count: Int { end - start }
    }

    let bytes: UnsafeBufferPointer<UInt8>
    var pos = 0
    private(set) var depth = 0
    /// Decoded keys with escapes, and the keys of the objects being scanned (see JSONScanner+Keys.swift).
    var keyBytes: [UInt8] = []
    var keys: [KeyEntry] = []

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
            // Fast path, 8 bytes at a time: no quote, backslash, control or non-ASCII byte.
            while i + 8 <= n {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                let ones: UInt64 = 0x0101_0101_0101_0101
                let highs: UInt64 = 0x8080_8080_8080_8080
                let quote = w ^ (ones &* 0x22)
                let backslash = w ^ (ones &* 0x5C)
                // A byte b has its high bit set in (b - k) & ~b only if b < k (for k <= 0x80), and
                // the zero-byte test (x - 1) & ~x finds a byte equal to the pattern.
                let special =
                    ((w &- ones &* 0x20) | (quote &- ones) & ~quote | (backslash &- ones) & ~backslash | w)
                    & highs
                if special != 0 { break }
                i += 8
            }
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
                throw error(
                    "unescaped control character 0x\(b < 0x10 ? "0" : "")\(String(b, radix: 16, uppercase: true)) in string",
                    at: i)
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
            if unit >= 0xDC00 && unit <= 0xDFFF {
                throw error("lone surrogate \\u\(hexString(unit)) in string", at: i)
            }
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
        guard i + 4 <= bytes.count else {
            throw error("invalid \\u escape: expected 4 hex digits", at: i - 2)
        }
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
