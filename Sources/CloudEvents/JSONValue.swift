/// A parsed JSON value. Numbers keep their literal source text so nothing is lost or rounded.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The literal text as written, e.g. "12.50", "-3e2".
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in source order.
    case object([JSONMember])
}

/// One member of a JSON object.
public struct JSONMember: Sendable, Equatable {
    public var key: String
    public var value: JSONValue

    public init(key: String, value: JSONValue) {
        self.key = key
        self.value = value
    }
}

extension JSONValue {
    /// The value of the member named `key` of an object; `nil` if absent or if this is not an object.
    ///
    /// Keys are compared by their UTF-8 bytes (JSON keys are code point sequences, not
    /// canonically equivalent Swift strings).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for member in members where member.key.utf8.elementsEqual(key.utf8) {
            return member.value
        }
        return nil
    }

    /// The payload of a `.string`, or `nil`.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// Parses one complete JSON text (RFC 8259).
    ///
    /// Surrounding whitespace is allowed; anything else after the value is an error. Besides the
    /// grammar, the parser rejects invalid UTF-8, lone surrogates in `\u` escapes, duplicate keys
    /// in one object and nesting deeper than ``JSONScanner/maximumDepth`` (64).
    /// - Throws: ``JSONError`` with the byte offset of the first problem.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONError) -> JSONValue {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONError) in try parse(unsafeBuffer: buffer) }
        }
        if let result { return try result.get() }
        return try Array(bytes).withUnsafeBufferPointer { buffer throws(JSONError) in
            try parse(unsafeBuffer: buffer)
        }
    }

    /// Parses one complete JSON text from `[UInt8]` without going through the generic path.
    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONError) in try parse(unsafeBuffer: buffer) }
    }

    static func parse(unsafeBuffer buffer: UnsafeBufferPointer<UInt8>) throws(JSONError) -> JSONValue {
        var scanner = JSONScanner(buffer)
        scanner.skipWhitespace()
        let value = try scanner.parseValue()
        try scanner.expectEnd()
        return value
    }

    /// Appends compact JSON text (no insignificant whitespace) to `buffer`: members in stored
    /// order, numbers as their literal text, strings escaped minimally (`"`, `\`, control characters).
    public func write(into buffer: inout [UInt8]) {
        switch self {
        case .null: buffer.append(contentsOf: "null".utf8)
        case .bool(let b): buffer.append(contentsOf: b ? "true".utf8 : "false".utf8)
        case .number(let text): buffer.append(contentsOf: text.utf8)
        case .string(let s): JSONWriter.writeString(s, into: &buffer)
        case .array(let elements):
            buffer.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { buffer.append(UInt8(ascii: ",")) }
                element.write(into: &buffer)
            }
            buffer.append(UInt8(ascii: "]"))
        case .object(let members):
            buffer.append(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { buffer.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(member.key, into: &buffer)
                buffer.append(UInt8(ascii: ":"))
                member.value.write(into: &buffer)
            }
            buffer.append(UInt8(ascii: "}"))
        }
    }
}

/// Why a JSON text was rejected.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The byte offset in the input where the problem was found.
    public var offset: Int
    /// What is wrong, e.g. "unterminated string", "duplicate key \"id\"", "invalid UTF-8".
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    /// "invalid JSON at byte 17: unterminated string".
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

enum JSONWriter {
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Writes `s` as a JSON string literal, escaping only what RFC 8259 requires.
    static func writeString(_ s: String, into buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let b = utf8[i]
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                if runStart < i {
                    buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                }
                runStart = i + 1
                buffer.append(UInt8(ascii: "\\"))
                switch b {
                case UInt8(ascii: "\""): buffer.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): buffer.append(UInt8(ascii: "\\"))
                case 0x0A: buffer.append(UInt8(ascii: "n"))
                case 0x0D: buffer.append(UInt8(ascii: "r"))
                case 0x09: buffer.append(UInt8(ascii: "t"))
                case 0x08: buffer.append(UInt8(ascii: "b"))
                case 0x0C: buffer.append(UInt8(ascii: "f"))
                default:
                    buffer.append(contentsOf: [
                        UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)],
                        hex[Int(b & 0xF)],
                    ])
                }
            }
            if runStart < utf8.count {
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
            }
        }
        buffer.append(UInt8(ascii: "\""))
    }
}
