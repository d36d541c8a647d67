/// One JSON text, validated, whose top-level members are read straight from the bytes: looking up a
/// member builds only that member's value, not a tree of the whole text as ``JSONValue/parse(_:)`` does.
/// For reading a few members of a small object, such as the `data` of a catalog type.
public struct JSONObjectText: Sendable {
    /// The JSON text.
    public let bytes: [UInt8]
    /// Whether the text is an object (else members are never found).
    public let isObject: Bool
    /// Whether the text is `null`.
    public let isNull: Bool

    /// Validates `bytes` as one complete JSON text, with the same rules and errors as ``JSONValue/parse(_:)``.
    /// - Throws: ``JSONError`` with the byte offset of the first problem.
    public init(parsing bytes: [UInt8]) throws(JSONError) {
        let first = try bytes.withUnsafeBufferPointer { buffer throws(JSONError) -> UInt8 in
            var scanner = JSONScanner(buffer)
            scanner.skipWhitespace()
            let first = scanner.current
            try scanner.skipValue()
            try scanner.expectEnd()
            return first ?? 0
        }
        self.bytes = bytes
        isObject = first == UInt8(ascii: "{")
        isNull = first == UInt8(ascii: "n")
    }

    /// Wraps a text the event parser has already validated (compact: no leading whitespace).
    init(validated bytes: [UInt8]) {
        self.bytes = bytes
        isObject = bytes.first == UInt8(ascii: "{")
        isNull = bytes.first == UInt8(ascii: "n")
    }

    /// The value of the top-level member named `key` (compared by UTF-8 bytes, after decoding escapes),
    /// or `nil` if there is none or the text is not an object.
    public subscript(key: String) -> JSONValue? {
        guard isObject else { return nil }
        var key = key
        return key.withUTF8 { name in
            bytes.withUnsafeBufferPointer { buffer in
                // The text was validated in `init`: the scan below cannot fail.
                var scanner = JSONScanner(buffer)
                scanner.skipWhitespace()
                scanner.pos += 1
                while true {
                    scanner.skipWhitespace()
                    guard scanner.current == UInt8(ascii: "\""), let token = try? scanner.scanString(),
                        (try? scanner.expect(UInt8(ascii: ":"), "")) != nil
                    else { return nil }
                    scanner.skipWhitespace()
                    if scanner.withDecoded(token, { $0.elementsEqual(name) }) {
                        return try? scanner.parseValue()
                    }
                    guard (try? scanner.skipValue()) != nil,
                        (try? scanner.consumeSeparator(closing: UInt8(ascii: "}"), orFail: "")) == true
                    else { return nil }
                }
            }
        }
    }
}
