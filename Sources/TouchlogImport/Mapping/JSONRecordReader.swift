import CloudEvents

/// Reads JSON values one after the other from a byte source, with the line where each starts: JSON Lines,
/// concatenated objects, or the elements of a top-level JSON array, which is streamed element by element.
///
/// Values are delimited structurally (strings, escapes, bracket depth), not parsed; `JSONValue.parse` does
/// that. Memory: one read buffer and the value being read, at most `maximumValueBytes`.
public struct JSONRecordReader<Source: ByteSource> {
    /// The largest value accepted, in bytes.
    public var maximumValueBytes = 64 << 20

    private var source: Source
    private var buffer: [UInt8]
    private var position = 0
    private var filled = 0
    private var atEnd = false
    private var line = 1
    private var started = false
    /// Inside a top-level array: after `[`, or after an element.
    private enum ArrayState { case none, first, afterElement, closed }
    private var array = ArrayState.none

    public init(_ source: Source, bufferSize: Int = 1 << 16) {
        self.source = source
        self.buffer = [UInt8](repeating: 0, count: max(bufferSize, 16))
    }

    /// Why the JSON could not be read.
    public struct ReadError: Error, Sendable {
        public var line: Int
        public var message: String
        public var readFailure: ByteSourceError?
    }

    private mutating func peek() throws(ReadError) -> UInt8? {
        if position == filled {
            if atEnd { return nil }
            position = 0
            let result = buffer.withUnsafeMutableBytes { raw in
                Result { () throws(ByteSourceError) in try source.read(into: raw) }
            }
            switch result {
            case .success(let count): filled = count
            case .failure(let error):
                atEnd = true
                filled = 0
                throw ReadError(line: line, message: error.message, readFailure: error)
            }
            if filled == 0 {
                atEnd = true
                return nil
            }
        }
        return buffer[position]
    }

    private mutating func skipWhitespace() throws(ReadError) {
        while let byte = try peek() {
            switch byte {
            case 0x0A:
                line += 1
                position += 1
            case 0x20, 0x09, 0x0D:
                position += 1
            default:
                return
            }
        }
    }

    /// The next value's bytes and its first line; nil at the end of the input.
    public mutating func next() throws(ReadError) -> (line: Int, bytes: [UInt8])? {
        if !started {
            started = true
            // A UTF-8 byte order mark.
            if try peek() == 0xEF {
                for _ in 0..<3 { if try peek() != nil { position += 1 } }
            }
            try skipWhitespace()
            if try peek() == UInt8(ascii: "[") {
                position += 1
                array = .first
            }
        }
        try skipWhitespace()
        switch array {
        case .none:
            guard try peek() != nil else { return nil }
        case .closed:
            guard let byte = try peek() else { return nil }
            throw ReadError(
                line: line,
                message: "unexpected '\(Character(Unicode.Scalar(byte)))' after the JSON array's ']'")
        case .first:
            if try peek() == UInt8(ascii: "]") {
                position += 1
                array = .closed
                return try next()
            }
        case .afterElement:
            guard let byte = try peek() else {
                throw ReadError(line: line, message: "the JSON array is not closed with ']'")
            }
            position += 1
            if byte == UInt8(ascii: "]") {
                array = .closed
                try skipWhitespace()
                return try next()
            }
            guard byte == UInt8(ascii: ",") else {
                throw ReadError(line: line, message: "expected ',' or ']' after an element of the JSON array")
            }
            try skipWhitespace()
        }
        let startLine = line
        let bytes = try readValue()
        if array != .none { array = .afterElement }
        return (startLine, bytes)
    }

    /// One value's bytes: an object or an array by its brackets, a scalar up to a delimiter.
    private mutating func readValue() throws(ReadError) -> [UInt8] {
        var out: [UInt8] = []
        var depth = 0
        var inString = false
        var escaped = false
        let startLine = line
        while let byte = try peek() {
            if !inString && depth == 0 && !out.isEmpty {
                // A scalar ends at whitespace or a delimiter; a container ended when its depth came back to 0.
                if out[0] == UInt8(ascii: "{") || out[0] == UInt8(ascii: "[") || out[0] == UInt8(ascii: "\"")
                {
                    break
                }
                if byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 || byte == UInt8(ascii: ",")
                    || byte == UInt8(ascii: "]")
                {
                    break
                }
            }
            position += 1
            if byte == 0x0A { line += 1 }
            out.append(byte)
            guard out.count <= maximumValueBytes else {
                throw ReadError(
                    line: startLine,
                    message:
                        "a JSON value is longer than \(maximumValueBytes) bytes: give the records as JSON Lines "
                        + "or as one JSON array")
            }
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth < 0 {
                    throw ReadError(line: line, message: "unbalanced '\(Character(Unicode.Scalar(byte)))'")
                }
            default: break
            }
        }
        if inString || depth > 0 {
            throw ReadError(
                line: startLine,
                message: "the JSON value starting here is not closed before the end of the input")
        }
        return out
    }
}
