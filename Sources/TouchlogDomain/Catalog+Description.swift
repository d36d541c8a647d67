/// The catalog told to people: for each known type, the tags it requires and the fields of its `data`,
/// as `Catalog.decode` checks them (`touchlog catalog` prints it; CatalogDescriptionTests holds each
/// entry against `decode`, so the two cannot drift apart).
public struct CatalogEntry: Sendable, Equatable {
    /// One member of the type's `data` object.
    public struct Field: Sendable, Equatable {
        public var name: String
        /// What the value must be, in words: "string", "integer from 1 to 5", "one of low, normal, ...".
        public var rule: String
        public var required: Bool
        /// A valid value, as JSON text.
        public var example: String
    }

    public var type: KnownType
    /// The extension attributes the type requires.
    public var tags: [String]
    /// A tag required only in some cases, and when.
    public var conditionalTag: (tag: String, when: String)?
    public var fields: [Field]
    /// What the event says happened.
    public var summary: String

    public var name: String { type.name }

    public static func == (a: CatalogEntry, b: CatalogEntry) -> Bool {
        a.type == b.type && a.tags == b.tags && a.conditionalTag?.tag == b.conditionalTag?.tag
            && a.conditionalTag?.when == b.conditionalTag?.when && a.fields == b.fields
            && a.summary == b.summary
    }
}

extension Catalog {
    /// The tags (CloudEvents extension attributes) of the catalog and what each holds.
    public static let tags: [(name: String, rule: String)] = [
        ("channel", "one of " + Channel.allCases.map(\.rawValue).joined(separator: ", ")),
        ("ticketid", "the ticket's id"),
        ("repid", "the rep's id"),
    ]

    /// Every known type, in the order of their codes, with its tags and data fields.
    public static let entries: [CatalogEntry] = KnownType.allCases.sorted { $0.rawValue < $1.rawValue }.map(
        entry)

    private static func field(_ name: String, _ rule: String, required: Bool, example: String)
        -> CatalogEntry.Field
    {
        CatalogEntry.Field(name: name, rule: rule, required: required, example: example)
    }

    private static func oneOf<E: RawRepresentable & CaseIterable>(_: E.Type) -> String
    where E.RawValue == String {
        "one of " + E.allCases.map(\.rawValue).joined(separator: ", ")
    }

    private static func entry(_ type: KnownType) -> CatalogEntry {
        let summary = field("summary", "string", required: false, example: #""Where is my order?""#)
        let order = [
            field("order", "string", required: true, example: #""ord-1001""#),
            field(
                "amount", "non-negative decimal number, at most two fraction digits", required: true,
                example: "49.90"),
            field("currency", "three-letter ISO 4217 code", required: true, example: #""EUR""#),
        ]
        func make(_ tags: [String], _ fields: [CatalogEntry.Field], _ text: String) -> CatalogEntry {
            CatalogEntry(type: type, tags: tags, conditionalTag: nil, fields: fields, summary: text)
        }
        switch type {
        case .contactReceived: return make(["channel"], [summary], "the customer reached out")
        case .contactSent: return make(["channel", "repid"], [summary], "a rep reached out to the customer")
        case .ticketOpened:
            return make(
                ["ticketid", "channel"],
                [
                    field(
                        "priority", oneOf(Priority.self) + " (default normal)", required: false,
                        example: #""high""#), summary,
                ],
                "a ticket was opened")
        case .ticketAssigned: return make(["ticketid", "repid"], [], "the ticket was assigned to the rep")
        case .ticketReplied:
            var entry = make(
                ["ticketid"],
                [
                    field("author", oneOf(ReplyAuthor.self), required: true, example: #""customer""#),
                    field("public", "true or false (default true)", required: false, example: "true"),
                ],
                "a reply on the ticket")
            entry.conditionalTag = ("repid", "data.author is rep")
            return entry
        case .ticketStatusChanged:
            return make(
                ["ticketid"],
                [field("status", oneOf(SettableStatus.self), required: true, example: #""pending""#)],
                "the ticket's status was set")
        case .ticketPriorityChanged:
            return make(
                ["ticketid"],
                [field("priority", oneOf(Priority.self), required: true, example: #""urgent""#)],
                "the ticket's priority changed")
        case .ticketEscalated:
            return make(
                ["ticketid"],
                [
                    field("level", "string or number", required: false, example: #""L2""#),
                    field("reason", "string", required: false, example: #""customer waiting""#),
                ],
                "the ticket was escalated")
        case .ticketSolved: return make(["ticketid"], [], "the ticket was solved")
        case .ticketReopened: return make(["ticketid"], [], "a solved ticket was reopened")
        case .ticketClosed: return make(["ticketid"], [], "the ticket was closed")
        case .ticketMerged:
            return make(
                ["ticketid"],
                [field("into", "the other ticket's id", required: true, example: #""tkt-0000002""#)],
                "the ticket was merged into another")
        case .csat:
            return make(
                [], [field("score", "integer from 1 to 5", required: true, example: "4")], "a CSAT rating")
        case .nps:
            return make(
                [], [field("score", "integer from 0 to 10", required: true, example: "9")], "an NPS rating")
        case .ces:
            return make(
                [], [field("score", "integer from 1 to 7", required: true, example: "2")],
                "a customer effort score")
        case .orderPlaced: return make([], order, "an order was placed")
        case .orderRefunded: return make([], order, "an order was refunded")
        case .selfServiceViewed:
            return make(
                ["channel"], [field("article", "string", required: true, example: #""kb-42""#)],
                "the customer viewed a help article")
        }
    }
}
