/// The attributes the JSON format gives meaning to.
private enum Attribute: UInt16 {
    case specversion, id, source, type, subject, time, datacontenttype, dataschema, data, dataBase64

    /// The attribute a member name stands for, or `nil` for an extension.
    ///
    /// Compares the first and last 2, 4 or 8 bytes (overlapping for odd lengths) with the
    /// little-endian words of each name, instead of byte loops: this runs for every member.
    @inline(__always)
    static func match(_ k: UnsafeBufferPointer<UInt8>) -> Attribute? {
        let p = UnsafeRawPointer(k.baseAddress!)
        let n = k.count
        switch n {
        case 2:
            return p.loadUnaligned(as: UInt16.self) == 0x6469 ? .id : nil
        case 4:
            switch p.loadUnaligned(as: UInt32.self) {
            case 0x6570_7974: return .type
            case 0x656d_6974: return .time
            case 0x6174_6164: return .data
            default: return nil
            }
        case 6, 7:
            let (a, z) = (
                p.loadUnaligned(as: UInt32.self), p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
            )
            if n == 6 { return a == 0x7275_6f73 && z == 0x6563_7275 ? .source : nil }
            return a == 0x6a62_7573 && z == 0x7463_656a ? .subject : nil
        case 10, 11, 15:
            let (a, z) = (
                p.loadUnaligned(as: UInt64.self), p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            )
            switch (n, a, z) {
            case (10, 0x6568_6373_6174_6164, 0x616d_6568_6373_6174): return .dataschema
            case (11, 0x7372_6576_6365_7073, 0x6e6f_6973_7265_7663): return .specversion
            case (11, 0x7361_625f_6174_6164, 0x3436_6573_6162_5f61): return .dataBase64
            case (15, 0x746e_6f63_6174_6164, 0x6570_7974_746e_6574): return .datacontenttype
            default: return nil
            }
        default:
            return nil
        }
    }

    var name: String {
        switch self {
        case .specversion: "specversion"
        case .id: "id"
        case .source: "source"
        case .type: "type"
        case .subject: "subject"
        case .time: "time"
        case .datacontenttype: "datacontenttype"
        case .dataschema: "dataschema"
        case .data: "data"
        case .dataBase64: "data_base64"
        }
    }
}

/// One pass over an event's bytes: JSON syntax, duplicate keys and the CloudEvents rules.
struct EventParser: ~Copyable {
    var scanner: JSONScanner
    /// The first rule broken (reported only if the JSON itself is valid).
    var problem: CloudEventError?

    /// The spec attributes seen, by `Attribute.rawValue` bit.
    var seen: UInt16 = 0
    var specversionSeen = false
    var id: String?
    var source: String?
    var type: String?
    var subject: String?
    var time: String?
    var datacontenttype: String?
    var dataschema: String?
    var extensions: [CloudEventExtension] = []
    var dataRange: Range<Int>?
    var dataBase64: String?
    /// `time`, parsed.
    var timestamp: Timestamp?

    init(_ buffer: UnsafeBufferPointer<UInt8>) {
        scanner = JSONScanner(buffer)
    }

    mutating func fail(_ attribute: String?, _ message: @autoclosure () -> String) {
        if problem == nil { problem = CloudEventError(attribute: attribute, message: message()) }
    }

    mutating func parse() throws(JSONError) {
        scanner.skipWhitespace()
        guard let first = scanner.current else {
            throw scanner.error("unexpected end of input (empty event)")
        }
        guard first == UInt8(ascii: "{") else {
            let kind = Self.kindName(first)
            try scanner.skipValue()
            try scanner.expectEnd()
            fail(nil, "an event must be a JSON object, not \(kind)")
            return
        }
        try scanner.enterContainer()
        scanner.pos += 1
        let frame = scanner.beginObject()
        scanner.skipWhitespace()
        if scanner.current == UInt8(ascii: "}") {
            scanner.pos += 1
        } else {
            var first = true
            while true {
                scanner.skipWhitespace()
                try scanner.expectMemberKey(afterMember: !first)
                first = false
                let keyToken = try scanner.scanString()
                let key = scanner.decodeKey(keyToken)
                // Spec attributes are checked for duplicates with a bit set; only extensions go
                // through the scanner's general key list.
                let attribute = attribute(for: key)
                if let attribute {
                    let bit: UInt16 = 1 << attribute.rawValue
                    if seen & bit != 0 { throw scanner.duplicateKeyError(key) }
                    seen |= bit
                } else {
                    try scanner.register(key, frame: frame)
                }
                try scanner.expect(UInt8(ascii: ":"), "expected ':' after key")
                scanner.skipWhitespace()
                if let attribute {
                    try member(attribute)
                } else {
                    try extensionMember(key)
                }
                if try scanner.consumeSeparator(
                    closing: UInt8(ascii: "}"), orFail: "expected ',' or '}' in object")
                {
                    continue
                }
                break
            }
        }
        try scanner.endObject(frame)
        scanner.leaveContainer()
        try scanner.expectEnd()
    }

    private func attribute(for key: JSONScanner.KeyEntry) -> Attribute? {
        scanner.withKeyBytes(key) { Attribute.match($0) }
    }

    static func kindName(_ first: UInt8) -> String {
        switch first {
        case UInt8(ascii: "{"): "an object"
        case UInt8(ascii: "["): "an array"
        case UInt8(ascii: "\""): "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): "a boolean"
        case UInt8(ascii: "n"): "null"
        default: "a number"
        }
    }

    /// Scans a string member value: the token, `nil` for `null`, or records a type problem.
    private mutating func stringToken(_ attribute: Attribute) throws(JSONError) -> JSONScanner.StringToken? {
        guard let b = scanner.current else { throw scanner.error("unexpected end of input") }
        if b == UInt8(ascii: "\"") { return try scanner.scanString() }
        if b == UInt8(ascii: "n") {
            try scanner.scanLiteral("null")
            return nil
        }
        try scanner.skipValue()
        fail(attribute.name, "'\(attribute.name)' must be a string, not \(Self.kindName(b))")
        return nil
    }

    private mutating func member(_ attribute: Attribute) throws(JSONError) {
        switch attribute {
        case .data:
            let start = scanner.pos
            if scanner.current == UInt8(ascii: "n") && start + 4 <= scanner.end {
                // `null` data is unset, like any null attribute.
                let save = scanner.pos
                if (try? scanner.scanLiteral("null")) != nil { return }
                scanner.pos = save
            }
            try scanner.skipValue()
            dataRange = start..<scanner.pos
            if dataBase64 != nil {
                fail("data", "'data' and 'data_base64' are mutually exclusive; an event has one or neither")
            }
            return
        default:
            break
        }
        guard let token = try stringToken(attribute) else { return }
        let raw = UnsafeBufferPointer(rebasing: scanner.bytes[token.start..<token.end])
        let name = attribute.name
        switch attribute {
        case .specversion:
            specversionSeen = true
            if token.hasEscapes || raw.count != 3 || raw[0] != UInt8(ascii: "1")
                || raw[1] != UInt8(ascii: ".")
                || raw[2] != UInt8(ascii: "0")
            {
                let value = scanner.makeString(token)
                if value != "1.0" {
                    fail(
                        name, "unsupported specversion \"\(Self.excerpt(value))\": only \"1.0\" is supported")
                }
            }
        case .id, .type, .subject, .datacontenttype:
            guard token.count > 0 else {
                fail(name, "'\(name)' must not be empty")
                return
            }
            switch attribute {
            case .id: id = scanner.makeString(token)
            case .type: type = scanner.makeString(token)
            case .subject: subject = scanner.makeString(token)
            default:
                // The usual value costs no allocation as a literal, and needs no check.
                if !token.hasEscapes && raw.count == 16
                    && memoryEqual(raw.baseAddress!, ("application/json" as StaticString).utf8Start, 16)
                {
                    datacontenttype = "application/json"
                    return
                }
                let value = scanner.makeString(token)
                if let problem = scanner.withDecoded(token, { Validation.mediaTypeProblem($0) }) {
                    fail(
                        name,
                        "'datacontenttype' is not an RFC 2046 media type: \"\(Self.excerpt(value))\" \(problem)"
                    )
                    return
                }
                datacontenttype = value
            }
        case .source, .dataschema:
            guard token.count > 0 else {
                fail(name, "'\(name)' must not be empty")
                return
            }
            let problem = scanner.withDecoded(token) {
                Validation.uriReferenceProblem($0, requireScheme: attribute == .dataschema)
            }
            let value = scanner.makeString(token)
            if let problem {
                let what = attribute == .source ? "URI-reference" : "absolute URI"
                fail(name, "'\(name)' is not a valid \(what): \"\(Self.excerpt(value))\" \(problem)")
                return
            }
            if attribute == .source { source = value } else { dataschema = value }
        case .time:
            let value = scanner.makeString(token)
            guard let microseconds = scanner.withDecoded(token, { Timestamp.parse($0) }) else {
                fail(name, "'time' is not an RFC 3339 timestamp: \"\(Self.excerpt(value))\"")
                return
            }
            time = value
            timestamp = Timestamp(microsecondsSinceEpoch: microseconds)
        case .dataBase64:
            if let problem = scanner.withDecoded(token, { Validation.base64Problem($0) }) {
                fail(name, "'data_base64' is not valid base64: \(problem)")
                return
            }
            dataBase64 = scanner.makeString(token)
            if dataRange != nil {
                fail(name, "'data' and 'data_base64' are mutually exclusive; an event has one or neither")
            }
        case .data:
            break
        }
    }

    private mutating func extensionMember(_ key: JSONScanner.KeyEntry) throws(JSONError) {
        let validName = scanner.withKeyBytes(key) { k in
            !k.isEmpty && k.allSatisfy { Validation.isDigit($0) || $0 &- UInt8(ascii: "a") < 26 }
        }
        let name = scanner.withKeyBytes(key) { String(decoding: $0, as: UTF8.self) }
        guard let b = scanner.current else { throw scanner.error("unexpected end of input") }
        guard validName else {
            try scanner.skipValue()
            fail(
                name,
                "invalid attribute name \"\(Self.excerpt(name))\": extension attribute names use only lower-case letters a-z and digits 0-9"
            )
            return
        }
        let value: JSONValue
        switch b {
        case UInt8(ascii: "\""): value = .string(scanner.makeString(try scanner.scanString()))
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            value = try scanner.parseValue()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            value = try scanner.parseValue()
            if let problem = CloudEvent.extensionValueProblem(name: name, value: value) {
                fail(name, problem)
                return
            }
        case UInt8(ascii: "n"):
            try scanner.scanLiteral("null")
            return
        default:
            try scanner.skipValue()
            fail(name, CloudEvent.untypedExtensionProblem(name: name, kind: Self.kindName(b)))
            return
        }
        if extensions.capacity == 0 { extensions.reserveCapacity(4) }
        extensions.append(CloudEventExtension(name: name, value: value))
    }

    static func excerpt(_ s: String) -> String {
        s.count <= 80 ? s : String(s.prefix(80)) + "..."
    }

    /// The event; its attributes are moved out of the parser (`take()`), not copied and then released.
    mutating func makeEvent() throws(CloudEventError) -> CloudEvent {
        guard specversionSeen else { throw missing("specversion") }
        guard let id = id.take() else { throw missing("id") }
        guard let source = source.take() else { throw missing("source") }
        guard let type = type.take() else { throw missing("type") }
        var data: CloudEventData?
        if let dataRange {
            data = .json(compactJSON(UnsafeBufferPointer(rebasing: scanner.bytes[dataRange])))
        } else if let dataBase64 = dataBase64.take() {
            data = .base64(dataBase64)
        }
        var extensions: [CloudEventExtension] = []
        swap(&extensions, &self.extensions)
        return CloudEvent(
            id: id, source: source, type: type, subject: subject.take(), time: time.take(),
            datacontenttype: datacontenttype.take(), dataschema: dataschema.take(), extensions: extensions,
            data: data)
    }

    private func missing(_ name: String) -> CloudEventError {
        CloudEventError(attribute: name, message: "required attribute '\(name)' is missing")
    }
}
