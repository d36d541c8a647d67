extension CloudEvent {
    /// Parses and validates one event in the CloudEvents 1.0 JSON format.
    ///
    /// The whole text is checked as JSON first (a syntax error anywhere is reported as
    /// "invalid JSON at byte N: ..."), then the first rule broken in document order is reported,
    /// then missing required attributes. `data` is validated but not turned into a tree: its bytes
    /// are copied with whitespace outside strings removed. A `null` `data` or `data_base64` is
    /// treated like any other null attribute: unset.
    /// - Throws: ``CloudEventError`` naming the attribute and the rule.
    public init(json bytes: some Collection<UInt8>) throws(CloudEventError) {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(CloudEventError) in try CloudEvent(unsafeJSON: buffer) }
        }
        if let result {
            self = try result.get()
        } else {
            self = try Array(bytes).withUnsafeBufferPointer { buffer throws(CloudEventError) in
                try CloudEvent(unsafeJSON: buffer)
            }
        }
    }

    /// Parses and validates one event from `[UInt8]` without going through the generic path.
    public init(json bytes: [UInt8]) throws(CloudEventError) {
        self = try bytes.withUnsafeBufferPointer { buffer throws(CloudEventError) in
            try CloudEvent(unsafeJSON: buffer)
        }
    }

    init(unsafeJSON buffer: UnsafeBufferPointer<UInt8>) throws(CloudEventError) {
        self = try CloudEvent.parse(unsafeJSON: buffer).event
    }

    /// Parses and validates one event like ``init(json:)``, and also hands over what the
    /// parse computed on the way: `time` parsed and `data` validated.
    public static func parse(json bytes: [UInt8]) throws(CloudEventError) -> ParsedCloudEvent {
        try bytes.withUnsafeBufferPointer { buffer throws(CloudEventError) in try parse(unsafeJSON: buffer) }
    }

    static func parse(unsafeJSON buffer: UnsafeBufferPointer<UInt8>) throws(CloudEventError)
        -> ParsedCloudEvent
    {
        var parser = EventParser(buffer)
        do {
            try parser.parse()
        } catch {
            throw CloudEventError(attribute: nil, message: error.description)
        }
        if let problem = parser.problem { throw problem }
        let event = try parser.makeEvent()
        var data: JSONObjectText?
        if case .json(let bytes) = event.data { data = JSONObjectText(validated: bytes) }
        return ParsedCloudEvent(event: event, timestamp: parser.timestamp, data: data)
    }
}

/// An event just parsed by ``CloudEvent/parse(json:)``, with what the parse computed on the way, so
/// that a caller checking the event further (Touchlog's catalog) does not parse `time` or `data` again.
/// Only the parser makes one, so the details always belong to `event`.
public struct ParsedCloudEvent: Sendable {
    public let event: CloudEvent
    /// `time`, parsed; nil when the event has none.
    public let timestamp: Timestamp?
    /// The JSON `data`, already validated; nil when the event has none or has `data_base64`.
    public let data: JSONObjectText?
}

/// Copies validated JSON text without whitespace outside strings.
func compactJSON(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: text.count) { out, count in
        var o = 0
        var i = 0
        let n = text.count
        while i < n {
            let b = text[i]
            i += 1
            switch b {
            case 0x20, 0x0A, 0x0D, 0x09:
                continue
            case UInt8(ascii: "\""):
                out[o] = b
                o += 1
                // Copy the string through its closing quote; escapes are two bytes or more.
                while true {
                    let c = text[i]
                    out[o] = c
                    o += 1
                    i += 1
                    if c == UInt8(ascii: "\"") { break }
                    if c == UInt8(ascii: "\\") {
                        out[o] = text[i]
                        o += 1
                        i += 1
                    }
                }
            default:
                out[o] = b
                o += 1
            }
        }
        count = o
    }
}
