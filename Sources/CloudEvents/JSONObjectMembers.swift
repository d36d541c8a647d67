/// One top-level member of a JSON object, as byte ranges of the object's text (`JSONObjectMembers`).
public struct JSONMemberRange: Sendable, Equatable {
    /// A member's value: scalars by the range of their text, containers whole.
    public enum Value: Sendable, Equatable {
        /// The string's content between its quotes, escapes not undone.
        case string(Range<Int>, hasEscapes: Bool)
        /// The number's literal.
        case number(Range<Int>)
        case bool(Bool)
        case null
        /// An object or an array (checked, not read): its whole text.
        case container(Range<Int>)
    }

    /// The key's content between its quotes, escapes not undone.
    public var key: Range<Int>
    public var keyHasEscapes: Bool
    public var value: Value
}

/// Reads the top-level members of one JSON object, one at a time, as byte ranges of its text: for a
/// reader that wants a few scalar members fast (the projections' fold reads stored `data` this way),
/// without building a tree or decoding strings.
///
/// The text is checked as it is read, as `JSONValue.parse` checks it, except that duplicate keys of
/// the object itself are not looked for (a reader that cares compares the keys it reads).
public struct JSONObjectMembers: ~Copyable {
    private var scanner: JSONScanner
    private var first = true
    private var finished = false

    /// Starts reading `text`, which must hold one JSON object (and whitespace); the bytes must stay
    /// valid while the members are read.
    /// - Throws: `JSONError` when the text does not start with an object.
    public init(_ text: UnsafeRawBufferPointer) throws(JSONError) {
        scanner = JSONScanner(text.assumingMemoryBound(to: UInt8.self))
        scanner.skipWhitespace()
        guard scanner.current == UInt8(ascii: "{") else {
            throw scanner.isAtEnd
                ? scanner.error("unexpected end of input") : scanner.error("expected an object")
        }
        try scanner.enterContainer()
        scanner.pos += 1
    }

    /// The next member; nil after the last one, once the object is closed and only whitespace follows.
    /// - Throws: `JSONError` at the first byte that is not valid JSON.
    public mutating func next() throws(JSONError) -> JSONMemberRange? {
        if finished { return nil }
        scanner.skipWhitespace()
        if first {
            if scanner.current == UInt8(ascii: "}") {
                scanner.pos += 1
                try finish()
                return nil
            }
        } else if try !scanner.consumeSeparator(
            closing: UInt8(ascii: "}"), orFail: "expected ',' or '}' in object")
        {
            try finish()
            return nil
        }
        scanner.skipWhitespace()
        try scanner.expectMemberKey(afterMember: !first)
        first = false
        let key = try scanner.scanString()
        try scanner.expect(UInt8(ascii: ":"), "expected ':' after key")
        scanner.skipWhitespace()
        let start = scanner.pos
        guard let lead = scanner.current else { throw scanner.error("unexpected end of input") }
        let value: JSONMemberRange.Value
        switch lead {
        case UInt8(ascii: "\""):
            let token = try scanner.scanString()
            value = .string(token.start..<token.end, hasEscapes: token.hasEscapes)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            value = .number(try scanner.scanNumber())
        case UInt8(ascii: "t"):
            try scanner.scanLiteral("true")
            value = .bool(true)
        case UInt8(ascii: "f"):
            try scanner.scanLiteral("false")
            value = .bool(false)
        case UInt8(ascii: "n"):
            try scanner.scanLiteral("null")
            value = .null
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            try scanner.skipValue()
            value = .container(start..<scanner.pos)
        default:
            throw scanner.unexpected()
        }
        return JSONMemberRange(key: key.start..<key.end, keyHasEscapes: key.hasEscapes, value: value)
    }

    private mutating func finish() throws(JSONError) {
        scanner.leaveContainer()
        try scanner.expectEnd()
        finished = true
    }
}
