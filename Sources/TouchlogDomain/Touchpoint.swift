import CloudEvents

/// How a customer reached us or we reached them: the `channel` extension attribute.
public enum Channel: String, Sendable, CaseIterable, Codable {
    case email, phone, chat, web, social
    case selfService = "self_service"
    case inPerson = "in_person"
    case ivr
}

/// A ticket priority (`priority` in `ticket.opened` and `ticket.priority_changed`).
public enum Priority: String, Sendable, CaseIterable, Codable, Comparable {
    case low, normal, high, urgent

    public static func < (a: Priority, b: Priority) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A status that `ticket.status_changed` may set.
public enum SettableStatus: String, Sendable, CaseIterable, Codable {
    case open, pending
    case onHold = "on_hold"
}

/// Who wrote a ticket reply.
public enum ReplyAuthor: String, Sendable, CaseIterable, Codable {
    case rep, customer
}

/// What a known event type says, decoded from its `data` by the catalog (DESIGN.md section 2).
public enum TouchpointKind: Sendable, Equatable {
    case contactReceived(summary: String?)
    case contactSent(summary: String?)
    case ticketOpened(priority: Priority, summary: String?)
    case ticketAssigned
    case ticketReplied(author: ReplyAuthor, isPublic: Bool)
    case ticketStatusChanged(SettableStatus)
    case ticketPriorityChanged(Priority)
    case ticketEscalated(level: String?, reason: String?)
    case ticketSolved
    case ticketReopened
    case ticketClosed
    case ticketMerged(into: String)
    case csat(score: Int)
    case nps(score: Int)
    case ces(score: Int)
    case orderPlaced(order: String, amount: Decimal2, currency: String)
    case orderRefunded(order: String, amount: Decimal2, currency: String)
    case selfServiceViewed(article: String)
}

/// A decimal amount with two fraction digits, kept exactly as cents (no floating point).
public struct Decimal2: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var cents: Int64
    public init(cents: Int64) { self.cents = cents }

    /// Parses a JSON number literal with at most two fraction digits and no exponent ("129.9", "12", "0.05").
    public init?(literal: String) { self.init(utf8: literal.utf8) }

    /// Parses the UTF-8 bytes of such a literal: an optional minus, 1 to 15 digits, and optionally a
    /// point and 1 or 2 digits.
    @inlinable public init?(utf8 literal: some Collection<UInt8>) {
        var sign: Int64 = 1
        var units: Int64 = 0
        var wholeDigits = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var inFraction = false
        for (offset, byte) in literal.enumerated() {
            if offset == 0, byte == UInt8(ascii: "-") {
                sign = -1
            } else if byte == UInt8(ascii: ".") {
                guard !inFraction else { return nil }
                inFraction = true
            } else {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                let digit = Int64(byte - UInt8(ascii: "0"))
                if inFraction {
                    fractionDigits += 1
                    guard fractionDigits <= 2 else { return nil }
                    fraction = fraction * 10 + digit
                } else {
                    wholeDigits += 1
                    guard wholeDigits <= 15 else { return nil }
                    units = units * 10 + digit
                }
            }
        }
        guard wholeDigits > 0, !inFraction || fractionDigits > 0 else { return nil }
        if fractionDigits == 1 { fraction *= 10 }
        cents = sign * (units * 100 + fraction)
    }

    public var description: String {
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return (cents < 0 ? "-" : "") + "\(magnitude / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    public static func < (a: Decimal2, b: Decimal2) -> Bool { a.cents < b.cents }
}

/// A CloudEvent that satisfies Touchlog's rules: it names its customer (`subject`) and when it happened
/// (`time`), its tags are well formed, and a known type carries valid data.
///
/// Unknown types are valid touchpoints with `kind == nil`: stored, replayed and audited, ignored by projections.
public struct Touchpoint: Sendable, Equatable {
    /// The event as received. A producer's own values of `logAssignedAttributes` stay in it, as
    /// extension attributes; the log's values are kept apart (``StoredEvent``).
    public var event: CloudEvent
    /// The customer the touchpoint belongs to: the event's `subject`.
    public var customer: String { event.subject ?? "" }
    /// When it happened: the event's `time`.
    public var occurredAt: Timestamp
    public var channel: Channel?
    public var ticketID: String?
    public var repID: String?
    /// The decoded data of a known type; nil for unknown types.
    public var kind: TouchpointKind?

    /// The longest customer id, ticket id or rep id accepted, in UTF-8 bytes (ids become LMDB keys,
    /// which LMDB limits to 511 bytes).
    public static let maximumIdentifierBytes = 256

    /// Attributes that the log assigns on output (`tail --json`, `replay --json`): `sequence` (the stream
    /// version) with `sequencetype`, `recordedtime` (when the log appended the event), `position`, `hash`
    /// and `predecessorhash`. A producer's own value of one of them is stored with the event, never
    /// overwritten, and given back under ``producerValueName(for:)``: the CloudEvents recordedtime
    /// extension forbids intermediaries to change a producer's `recordedtime`, and the others are kept alike.
    public static let logAssignedAttributes: Set<String> = [
        "sequence", "sequencetype", "recordedtime", "position", "hash", "predecessorhash",
    ]

    /// Whether `name` is one of `logAssignedAttributes` (most names are told apart by length and first
    /// letter, without hashing).
    @inline(__always)
    public static func isLogAssigned(_ name: String) -> Bool {
        mayBeLogNamed(name) && logAssignedAttributes.contains(name)
    }

    /// The name under which output gives back a producer's value of the log-assigned attribute `name`:
    /// `orig` and the name (`origrecordedtime`, `origsequence`, ...; at most 19 characters, within the
    /// CloudEvents advice of 20).
    public static func producerValueName(for name: String) -> String { "orig" + name }

    /// The names ``producerValueName(for:)`` gives: an input event must not carry them, or its output
    /// would have two attributes of one name.
    public static let producerValueAttributes: Set<String> = Set(logAssignedAttributes.map(producerValueName))

    /// Validates `event` against Touchlog's rules and the catalog. The event may have been built in code,
    /// so its extension values are checked against the CloudEvents types too (the parser did that for
    /// an event read from JSON).
    /// - Throws: `CloudEventError` naming the attribute and the rule that failed.
    public init(validating event: consuming CloudEvent) throws(CloudEventError) {
        for e in event.extensions {
            if let problem = CloudEvent.extensionValueProblem(name: e.name, value: e.value) {
                throw CloudEventError(attribute: e.name, message: problem)
            }
        }
        try self.init(validating: event, timestamp: nil, data: nil)
    }

    /// Validates an event of a `SystemType`, which Touchlog itself appends (`erase`, `hold`): the
    /// same rules, but the `touchlog.` prefix that `init(validating:)` refuses is required.
    public init(system event: consuming CloudEvent) throws(CloudEventError) {
        guard SystemType(rawValue: event.type) != nil else {
            throw CloudEventError(attribute: "type", message: "'\(event.type)' is not a Touchlog system type")
        }
        try self.init(validating: event, timestamp: nil, data: nil, system: true)
    }

    /// Validates an event just parsed, like `init(validating:)`, without parsing its `time` and `data`
    /// again: the parse already did.
    public init(validating parsed: ParsedCloudEvent) throws(CloudEventError) {
        try self.init(validating: parsed.event, timestamp: parsed.timestamp, data: parsed.data)
    }

    /// `timestamp` and `data`, when given, are `time` parsed and the JSON `data` validated.
    private init(
        validating event: consuming CloudEvent, timestamp: Timestamp?, data: JSONObjectText?,
        system: Bool = false
    ) throws(CloudEventError) {
        if !system && event.type.hasPrefix(SystemType.prefix) {
            throw CloudEventError(
                attribute: "type",
                message:
                    "types starting 'touchlog.' are Touchlog's own (erase, hold) and cannot be sent: '\(event.type)'"
            )
        }
        for e in event.extensions where Touchpoint.mayBeLogNamed(e.name) {
            try Touchpoint.checkProducerValue(e)
        }
        guard let subject = event.subject else {
            throw CloudEventError(
                attribute: "subject",
                message: "Touchlog requires 'subject': the customer id the touchpoint belongs to")
        }
        try Touchpoint.checkIdentifier(subject, attribute: "subject")
        guard let timeText = event.time else {
            throw CloudEventError(
                attribute: "time", message: "Touchlog requires 'time': when the touchpoint happened")
        }
        guard let time = timestamp ?? Timestamp(rfc3339: timeText) else {
            throw CloudEventError(
                attribute: "time", message: "'time' is not an RFC 3339 timestamp: \"\(timeText)\"")
        }
        let channel = try Touchpoint.channel(of: event)
        let ticketID = try Touchpoint.identifierTag("ticketid", of: event)
        let repID = try Touchpoint.identifierTag("repid", of: event)
        self.kind = try Catalog.decode(event, data: data, channel: channel, ticketID: ticketID, repID: repID)
        self.occurredAt = time
        self.channel = channel
        self.ticketID = ticketID
        self.repID = repID
        self.event = event
    }

    /// Whether `name` may be one of `logAssignedAttributes` or `producerValueAttributes`, without hashing it:
    /// all of them start with 'h', 'o', 'p', 'r' or 's' and are 4, 8, 12, 15, 16 or 19 bytes long (so the
    /// usual `channel`, `ticketid` and `repid` are passed over at once).
    @inline(__always)
    static func mayBeLogNamed(_ name: String) -> Bool {
        let utf8 = name.utf8
        switch utf8.count {
        case 4, 8, 12, 15, 16, 19: break
        default: return false
        }
        let first = utf8.first!
        return first == UInt8(ascii: "h") || first == UInt8(ascii: "o") || first == UInt8(ascii: "p")
            || first == UInt8(ascii: "r") || first == UInt8(ascii: "s")
    }

    /// Checks a producer's value of a log-assigned attribute against the CloudEvents extension that defines
    /// it (recordedtime: an RFC 3339 timestamp; sequence and sequencetype: non-empty strings), and refuses
    /// the names under which the log gives such values back.
    static func checkProducerValue(_ e: CloudEventExtension) throws(CloudEventError) {
        let name = e.name
        if producerValueAttributes.contains(name) {
            let original = String(name.dropFirst(4))
            throw CloudEventError(
                attribute: name,
                message:
                    "'\(name)' is the name under which Touchlog gives back a producer's '\(original)'; an event must not carry it (send '\(original)' itself)"
            )
        }
        switch name {
        case "recordedtime":
            guard case .string(let text) = e.value, Timestamp(rfc3339: text) != nil else {
                throw CloudEventError(
                    attribute: name,
                    message:
                        "'recordedtime' must be an RFC 3339 timestamp string (the CloudEvents recordedtime extension: when the producer created the event), not \(describe(e.value))"
                )
            }
        case "sequence", "sequencetype":
            guard case .string(let text) = e.value, !text.isEmpty else {
                throw CloudEventError(
                    attribute: name,
                    message:
                        "'\(name)' must be a non-empty string (the CloudEvents sequence extension), not \(describe(e.value))"
                )
            }
        default:
            break
        }
    }

    /// A value in a message: its JSON text, shortened, for strings and numbers; its kind otherwise.
    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text.isEmpty ? "an empty string" : "\"\(text.prefix(80))\""
        case .number(let text): "the number \(text.prefix(80))"
        case .bool(let flag): "\(flag)"
        case .null: "null"
        case .array: "an array"
        case .object: "an object"
        }
    }

    static func checkIdentifier(_ value: String, attribute: String) throws(CloudEventError) {
        if value.isEmpty {
            throw CloudEventError(attribute: attribute, message: "'\(attribute)' must not be empty")
        }
        if value.utf8.count > maximumIdentifierBytes {
            throw CloudEventError(
                attribute: attribute,
                message: "'\(attribute)' is longer than \(maximumIdentifierBytes) bytes (\(value.utf8.count))"
            )
        }
    }

    private static func identifierTag(_ name: String, of event: CloudEvent) throws(CloudEventError) -> String?
    {
        guard let value = event.extensionValue(name) else { return nil }
        guard case .string(let text) = value else {
            throw CloudEventError(attribute: name, message: "'\(name)' must be a string")
        }
        try checkIdentifier(text, attribute: name)
        return text
    }

    private static func channel(of event: CloudEvent) throws(CloudEventError) -> Channel? {
        guard let value = event.extensionValue("channel") else { return nil }
        guard case .string(let text) = value, let channel = Channel(rawValue: text) else {
            let allowed = Channel.allCases.map(\.rawValue).joined(separator: ", ")
            throw CloudEventError(attribute: "channel", message: "'channel' must be one of \(allowed)")
        }
        return channel
    }
}
