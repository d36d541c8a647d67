import CloudEvents

/// A known touchpoint type, with the stable one-byte code that derived records store for it.
///
/// The codes are a disk format (projection records hold them), so they are written out here and
/// never derived from the order of the cases: a new type takes the next unused code, and no code is
/// ever changed or reused (CatalogTests pins each one).
///
///     code  type                     code  type
///     0     contact.received         9     ticket.reopened
///     1     contact.sent             10    ticket.closed
///     2     ticket.opened            11    ticket.merged
///     3     ticket.assigned          12    feedback.csat
///     4     ticket.replied           13    feedback.nps
///     5     ticket.status_changed    14    feedback.ces
///     6     ticket.priority_changed  15    order.placed
///     7     ticket.escalated         16    order.refunded
///     8     ticket.solved            17    selfservice.viewed
public enum KnownType: UInt8, CaseIterable, Sendable {
    case contactReceived = 0
    case contactSent = 1
    case ticketOpened = 2
    case ticketAssigned = 3
    case ticketReplied = 4
    case ticketStatusChanged = 5
    case ticketPriorityChanged = 6
    case ticketEscalated = 7
    case ticketSolved = 8
    case ticketReopened = 9
    case ticketClosed = 10
    case ticketMerged = 11
    case csat = 12
    case nps = 13
    case ces = 14
    case orderPlaced = 15
    case orderRefunded = 16
    case selfServiceViewed = 17

    /// The type's name: the CloudEvents `type` attribute.
    public var name: String {
        switch self {
        case .contactReceived: "contact.received"
        case .contactSent: "contact.sent"
        case .ticketOpened: "ticket.opened"
        case .ticketAssigned: "ticket.assigned"
        case .ticketReplied: "ticket.replied"
        case .ticketStatusChanged: "ticket.status_changed"
        case .ticketPriorityChanged: "ticket.priority_changed"
        case .ticketEscalated: "ticket.escalated"
        case .ticketSolved: "ticket.solved"
        case .ticketReopened: "ticket.reopened"
        case .ticketClosed: "ticket.closed"
        case .ticketMerged: "ticket.merged"
        case .csat: "feedback.csat"
        case .nps: "feedback.nps"
        case .ces: "feedback.ces"
        case .orderPlaced: "order.placed"
        case .orderRefunded: "order.refunded"
        case .selfServiceViewed: "selfservice.viewed"
        }
    }

    /// The known type called `name`; nil for an unknown type.
    public init?(name: String) {
        // All known types start with one of these letters: most unknown types are turned away without
        // hashing the name.
        guard let first = name.utf8.first, "ctfos".utf8.contains(first), let known = Self.byName[name] else {
            return nil
        }
        self = known
    }

    /// The known types by name: one hash lookup instead of comparing the name with each of them.
    private static let byName = Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, $0) })
}

/// The catalog of known touchpoint types (DESIGN.md section 2): which tags each requires and what its
/// `data` holds. Unknown types pass through undecoded.
public enum Catalog {
    /// The name of every known type, in the order of their codes.
    public static let knownTypes: [String] = KnownType.allCases.sorted { $0.rawValue < $1.rawValue }.map(
        \.name)

    /// Decodes and validates the data and tags (already read from `event`) of a known type; nil for an
    /// unknown type. `data`, when given, is the event's JSON `data` already validated.
    static func decode(
        _ event: CloudEvent, data validated: JSONObjectText?, channel: Channel?, ticketID: String?,
        repID: String?
    ) throws(CloudEventError) -> TouchpointKind? {
        let type = event.type
        guard let known = KnownType(name: type) else { return nil }
        let data = try DataFields(type: type, data: event.data, validated: validated)
        func require<T>(_ tag: String, _ value: T?) throws(CloudEventError) {
            if value == nil {
                throw CloudEventError(
                    attribute: tag, message: "type '\(type)' requires the '\(tag)' extension attribute")
            }
        }
        switch known {
        case .contactReceived:
            try require("channel", channel)
            return .contactReceived(summary: try data.string("summary"))
        case .contactSent:
            try require("channel", channel)
            try require("repid", repID)
            return .contactSent(summary: try data.string("summary"))
        case .ticketOpened:
            try require("ticketid", ticketID)
            try require("channel", channel)
            return .ticketOpened(
                priority: try data.enumeration("priority", Priority.self) ?? .normal,
                summary: try data.string("summary"))
        case .ticketAssigned:
            try require("ticketid", ticketID)
            try require("repid", repID)
            return .ticketAssigned
        case .ticketReplied:
            try require("ticketid", ticketID)
            let author = try data.required("author", try data.enumeration("author", ReplyAuthor.self))
            if author == .rep { try require("repid", repID) }
            return .ticketReplied(author: author, isPublic: try data.bool("public") ?? true)
        case .ticketStatusChanged:
            try require("ticketid", ticketID)
            return .ticketStatusChanged(
                try data.required("status", try data.enumeration("status", SettableStatus.self)))
        case .ticketPriorityChanged:
            try require("ticketid", ticketID)
            return .ticketPriorityChanged(
                try data.required("priority", try data.enumeration("priority", Priority.self)))
        case .ticketEscalated:
            try require("ticketid", ticketID)
            return .ticketEscalated(level: try data.scalarText("level"), reason: try data.string("reason"))
        case .ticketSolved:
            try require("ticketid", ticketID)
            return .ticketSolved
        case .ticketReopened:
            try require("ticketid", ticketID)
            return .ticketReopened
        case .ticketClosed:
            try require("ticketid", ticketID)
            return .ticketClosed
        case .ticketMerged:
            try require("ticketid", ticketID)
            let into = try data.required("into", try data.string("into"))
            try Touchpoint.checkIdentifier(into, attribute: "data.into")
            return .ticketMerged(into: into)
        case .csat:
            return .csat(score: try data.required("score", try data.integer("score", in: 1...5)))
        case .nps:
            return .nps(score: try data.required("score", try data.integer("score", in: 0...10)))
        case .ces:
            return .ces(score: try data.required("score", try data.integer("score", in: 1...7)))
        case .orderPlaced, .orderRefunded:
            let order = try data.required("order", try data.string("order"))
            let amount = try data.required("amount", try data.amount("amount"))
            let currency = try data.required("currency", try data.currency("currency"))
            return known == .orderPlaced
                ? .orderPlaced(order: order, amount: amount, currency: currency)
                : .orderRefunded(order: order, amount: amount, currency: currency)
        case .selfServiceViewed:
            try require("channel", channel)
            return .selfServiceViewed(article: try data.required("article", try data.string("article")))
        }
    }
}

/// Typed access to the members of a known type's `data` object, with errors that name the field.
///
/// The members are read from the JSON text as they are asked for (`JSONObjectText`), not from a parsed
/// tree: a catalog check builds only the few values it looks at.
private struct DataFields {
    let type: String
    /// The `data` text; `nil` when the event has none.
    let object: JSONObjectText?

    init(type: String, data: CloudEventData?, validated: JSONObjectText?) throws(CloudEventError) {
        self.type = type
        switch data {
        case nil:
            object = nil
        case .base64:
            throw CloudEventError(
                attribute: "data_base64",
                message: "type '\(type)' carries JSON 'data', not 'data_base64'")
        case .json(let bytes):
            let text: JSONObjectText
            if let validated {
                text = validated
            } else {
                do { text = try JSONObjectText(parsing: bytes) } catch {
                    throw CloudEventError(
                        attribute: "data", message: "'data' is not valid JSON: \(error.reason)")
                }
            }
            guard text.isObject || text.isNull else {
                throw CloudEventError(
                    attribute: "data", message: "type '\(type)' requires 'data' to be a JSON object")
            }
            object = text
        }
    }

    private func value(_ field: String) -> JSONValue? {
        guard let value = object?[field] else { return nil }
        if case .null = value { return nil }
        return value
    }

    private func invalid(_ field: String, _ rule: String) -> CloudEventError {
        CloudEventError(attribute: "data.\(field)", message: "'data.\(field)' of type '\(type)' \(rule)")
    }

    func required<T>(_ field: String, _ value: T?) throws(CloudEventError) -> T {
        guard let value else { throw invalid(field, "is required") }
        return value
    }

    func string(_ field: String) throws(CloudEventError) -> String? {
        guard let value = value(field) else { return nil }
        guard case .string(let text) = value else { throw invalid(field, "must be a string") }
        return text
    }

    func bool(_ field: String) throws(CloudEventError) -> Bool? {
        guard let value = value(field) else { return nil }
        guard case .bool(let flag) = value else { throw invalid(field, "must be true or false") }
        return flag
    }

    /// A string or a number, as text (`level` may be "L2" or 2).
    func scalarText(_ field: String) throws(CloudEventError) -> String? {
        switch value(field) {
        case nil: return nil
        case .string(let text): return text
        case .number(let literal): return literal
        default: throw invalid(field, "must be a string or a number")
        }
    }

    func enumeration<E: RawRepresentable & CaseIterable>(_ field: String, _: E.Type) throws(CloudEventError)
        -> E?
    where E.RawValue == String {
        guard let text = try string(field) else { return nil }
        guard let value = E(rawValue: text) else {
            throw invalid(
                field, "must be one of \(E.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(text)\""
            )
        }
        return value
    }

    func integer(_ field: String, in range: ClosedRange<Int>) throws(CloudEventError) -> Int? {
        guard let value = value(field) else { return nil }
        guard case .number(let literal) = value, let number = Int(literal), range.contains(number) else {
            throw invalid(field, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func amount(_ field: String) throws(CloudEventError) -> Decimal2? {
        guard let value = value(field) else { return nil }
        guard case .number(let literal) = value, let amount = Decimal2(literal: literal), amount.cents >= 0
        else {
            throw invalid(field, "must be a non-negative decimal number with at most two fraction digits")
        }
        return amount
    }

    func currency(_ field: String) throws(CloudEventError) -> String? {
        guard let text = try string(field) else { return nil }
        guard text.utf8.count == 3, text.utf8.allSatisfy({ (65...90).contains($0) }) else {
            throw invalid(field, "must be a three-letter ISO 4217 code such as \"EUR\"")
        }
        return text
    }
}
