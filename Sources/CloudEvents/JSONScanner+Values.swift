/// Whole values: parsed into ``JSONValue`` trees, or only validated (the hot path for `data`).
extension JSONScanner {
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
                try expectMemberKey(afterMember: !members.isEmpty)
                let keyToken = try scanString()
                try registerKey(keyToken, frame: frame)
                try expect(UInt8(ascii: ":"), "expected ':' after key")
                skipWhitespace()
                let value = try parseValue()
                members.append(JSONMember(key: makeString(keyToken), value: value))
                if try consumeSeparator(closing: UInt8(ascii: "}"), orFail: "expected ',' or '}' in object") {
                    continue
                }
                break
            }
        }
        try endObject(frame)
        leaveContainer()
        return .object(members)
    }

    /// After a member or an element: skips whitespace, then consumes `,` (true: another follows) or
    /// `closing` (false: the container ends); anything else is the error `orFail`, at that byte.
    mutating func consumeSeparator(closing: UInt8, orFail message: String) throws(JSONError) -> Bool {
        skipWhitespace()
        guard let b = current else { throw error("unexpected end of input") }
        if b == UInt8(ascii: ",") {
            pos += 1
            return true
        }
        if b == closing {
            pos += 1
            return false
        }
        throw error(message)
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
                if current == UInt8(ascii: "]") && !elements.isEmpty {
                    throw error("trailing comma in array")
                }
                elements.append(try parseValue())
                if try consumeSeparator(closing: UInt8(ascii: "]"), orFail: "expected ',' or ']' in array") {
                    continue
                }
                break
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
                try expectMemberKey(afterMember: !first)
                first = false
                let keyToken = try scanString()
                try registerKey(keyToken, frame: frame)
                try expect(UInt8(ascii: ":"), "expected ':' after key")
                skipWhitespace()
                try skipValue()
                if try consumeSeparator(closing: UInt8(ascii: "}"), orFail: "expected ',' or '}' in object") {
                    continue
                }
                break
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
                if try consumeSeparator(closing: UInt8(ascii: "]"), orFail: "expected ',' or ']' in array") {
                    continue
                }
                break
            }
        }
        leaveContainer()
    }
}
