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
    /// The event as received (minus log-assigned attributes, which the log sets itself).
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

    /// Attributes that the log assigns on output; an input event that carries them (for example one
    /// copied from `touchlog tail --json`) has them removed, so the log's own values are the only ones.
    public static let logAssignedAttributes: Set<String> = [
        "sequence", "sequencetype", "recordedtime", "position", "hash", "predecessorhash",
    ]

    /// Validates `event` against Touchlog's rules and the catalog.
    /// - Throws: `CloudEventError` naming the attribute and the rule that failed.
    public init(validating event: consuming CloudEvent) throws(CloudEventError) {
        try self.init(validating: event, timestamp: nil, data: nil)
    }

    /// Validates an event just parsed, like `init(validating:)`, without parsing its `time` and `data`
    /// again: the parse already did.
    public init(validating parsed: ParsedCloudEvent) throws(CloudEventError) {
        try self.init(validating: parsed.event, timestamp: parsed.timestamp, data: parsed.data)
    }

    /// `timestamp` and `data`, when given, are `time` parsed and the JSON `data` validated.
    private init(validating event: consuming CloudEvent, timestamp: Timestamp?, data: JSONObjectText?)
        throws(CloudEventError)
    {
        // Checked before removing: an unconditional removeAll would copy the (shared) extensions array
        // of every event, although almost none carries a log-assigned attribute.
        if event.extensions.contains(where: { Touchpoint.isLogAssigned($0.name) }) {
            event.extensions.removeAll { Touchpoint.isLogAssigned($0.name) }
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

    /// Whether `name` is one of `logAssignedAttributes`, without hashing it (all of them start with
    /// 'h', 'p', 'r' or 's', and are 4 to 15 bytes long).
    @inline(__always)
    static func isLogAssigned(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard (4...15).contains(utf8.count), let first = utf8.first,
            first == UInt8(ascii: "h") || first == UInt8(ascii: "p") || first == UInt8(ascii: "r")
                || first == UInt8(ascii: "s")
        else { return false }
        return logAssignedAttributes.contains(name)
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
