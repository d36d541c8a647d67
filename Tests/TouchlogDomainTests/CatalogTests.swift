import CloudEvents
import Testing
import TouchlogDomain
import TouchlogTestSupport

/// The catalog (DESIGN.md section 2): what each known type's `data` decodes to, and the exact error
/// for each rule it breaks.
@Suite struct CatalogTests {
    /// A known type with `data`; `tags` are extension members, `data` a JSON fragment or nil.
    private func validate(_ type: String, tags: String = "", data: String?) throws -> Touchpoint {
        var extra = tags
        if let data { extra += (extra.isEmpty ? "" : ",") + "\"data\":" + data }
        return try touchpoint(id: "e1", type: type, extra: extra)
    }

    /// The message a known type with this `data` is rejected with, the same whether the touchpoint is
    /// validated from the event or from the parse's hand-over (as ingest does).
    private func failure(_ type: String, tags: String = "", data: String?) -> String? {
        var extra = tags
        if let data { extra += (extra.isEmpty ? "" : ",") + "\"data\":" + data }
        let bytes = touchpointJSON(id: "e1", type: type, extra: extra)
        func message(_ body: () throws(CloudEventError) -> Touchpoint) -> String? {
            do {
                _ = try body()
                return nil
            } catch {
                return error.message
            }
        }
        let fromEvent = message { () throws(CloudEventError) in
            try Touchpoint(validating: CloudEvent(json: bytes))
        }
        let fromParse = message { () throws(CloudEventError) in
            try Touchpoint(validating: CloudEvent.parse(json: bytes))
        }
        #expect(fromEvent == fromParse)
        return fromEvent
    }

    static let decoded: [(type: String, tags: String, data: String?, kind: TouchpointKind)] = [
        ("contact.received", #""channel":"email""#, nil, .contactReceived(summary: nil)),
        ("contact.received", #""channel":"email""#, "null", .contactReceived(summary: nil)),
        ("contact.received", #""channel":"email""#, #"{"summary":null}"#, .contactReceived(summary: nil)),
        (
            "contact.received", #""channel":"email""#, #"{ "summary" : "a \"b\"\n\u00e9", "x":[1,{"y":2}] }"#,
            .contactReceived(summary: "a \"b\"\n\u{e9}")
        ),
        (
            "contact.received", #""channel":"email""#, #"{"\u0073ummary":"escaped key"}"#,
            .contactReceived(summary: "escaped key")
        ),
        ("contact.sent", #""channel":"email","repid":"r1""#, #"{"summary":"s"}"#, .contactSent(summary: "s")),
        (
            "ticket.opened", #""channel":"chat","ticketid":"t1""#, "{}",
            .ticketOpened(priority: .normal, summary: nil)
        ),
        (
            "ticket.opened", #""channel":"chat","ticketid":"t1""#, #"{"priority":"urgent","summary":"down"}"#,
            .ticketOpened(priority: .urgent, summary: "down")
        ),
        ("ticket.assigned", #""ticketid":"t1","repid":"r1""#, nil, .ticketAssigned),
        (
            "ticket.replied", #""ticketid":"t1""#, #"{"author":"customer"}"#,
            .ticketReplied(author: .customer, isPublic: true)
        ),
        (
            "ticket.replied", #""ticketid":"t1","repid":"r1""#, #"{"author":"rep","public":false}"#,
            .ticketReplied(author: .rep, isPublic: false)
        ),
        (
            "ticket.status_changed", #""ticketid":"t1""#, #"{"status":"on_hold"}"#,
            .ticketStatusChanged(.onHold)
        ),
        (
            "ticket.priority_changed", #""ticketid":"t1""#, #"{"priority":"low"}"#,
            .ticketPriorityChanged(.low)
        ),
        (
            "ticket.escalated", #""ticketid":"t1""#, #"{"level":2,"reason":"vip"}"#,
            .ticketEscalated(level: "2", reason: "vip")
        ),
        (
            "ticket.escalated", #""ticketid":"t1""#, #"{"level":"L2"}"#,
            .ticketEscalated(level: "L2", reason: nil)
        ),
        ("ticket.solved", #""ticketid":"t1""#, nil, .ticketSolved),
        ("ticket.reopened", #""ticketid":"t1""#, nil, .ticketReopened),
        ("ticket.closed", #""ticketid":"t1""#, nil, .ticketClosed),
        ("ticket.merged", #""ticketid":"t1""#, #"{"into":"t2"}"#, .ticketMerged(into: "t2")),
        ("feedback.csat", "", #"{"score":5}"#, .csat(score: 5)),
        ("feedback.nps", "", #"{"score":0}"#, .nps(score: 0)),
        ("feedback.ces", "", #"{"score":7}"#, .ces(score: 7)),
        (
            "order.placed", "", #"{"order":"o1","amount":129.9,"currency":"EUR"}"#,
            .orderPlaced(order: "o1", amount: Decimal2(cents: 12990), currency: "EUR")
        ),
        (
            "order.refunded", "", #"{"order":"o1","amount":0.05,"currency":"USD"}"#,
            .orderRefunded(order: "o1", amount: Decimal2(cents: 5), currency: "USD")
        ),
        (
            "selfservice.viewed", #""channel":"web""#, #"{"article":"kb-1"}"#,
            .selfServiceViewed(article: "kb-1")
        ),
    ]

    @Test(arguments: decoded.indices)
    func knownTypesDecodeTheirData(index: Int) throws {
        let (type, tags, data, kind) = Self.decoded[index]
        #expect(try validate(type, tags: tags, data: data).kind == kind)
    }

    static let rejected: [(type: String, tags: String, data: String?, message: String)] = [
        ("contact.received", "", nil, "type 'contact.received' requires the 'channel' extension attribute"),
        (
            "contact.sent", #""channel":"email""#, nil,
            "type 'contact.sent' requires the 'repid' extension attribute"
        ),
        (
            "ticket.opened", #""channel":"chat""#, nil,
            "type 'ticket.opened' requires the 'ticketid' extension attribute"
        ),
        (
            "contact.received", #""channel":"email""#, "[1]",
            "type 'contact.received' requires 'data' to be a JSON object"
        ),
        (
            "contact.received", #""channel":"email""#, #""text""#,
            "type 'contact.received' requires 'data' to be a JSON object"
        ),
        (
            "contact.received", #""channel":"email""#, #"{"summary":3}"#,
            "'data.summary' of type 'contact.received' must be a string"
        ),
        (
            "ticket.opened", #""channel":"chat","ticketid":"t1""#, #"{"priority":"asap"}"#,
            #"'data.priority' of type 'ticket.opened' must be one of low, normal, high, urgent, not "asap""#
        ),
        (
            "ticket.opened", #""channel":"chat","ticketid":"t1""#, #"{"priority":{"a":1}}"#,
            "'data.priority' of type 'ticket.opened' must be a string"
        ),
        ("ticket.replied", #""ticketid":"t1""#, "{}", "'data.author' of type 'ticket.replied' is required"),
        (
            "ticket.replied", #""ticketid":"t1""#, #"{"author":null}"#,
            "'data.author' of type 'ticket.replied' is required"
        ),
        (
            "ticket.replied", #""ticketid":"t1""#, #"{"author":"rep"}"#,
            "type 'ticket.replied' requires the 'repid' extension attribute"
        ),
        (
            "ticket.replied", #""ticketid":"t1""#, #"{"author":"customer","public":"yes"}"#,
            "'data.public' of type 'ticket.replied' must be true or false"
        ),
        (
            "ticket.status_changed", #""ticketid":"t1""#, #"{"status":"closed"}"#,
            #"'data.status' of type 'ticket.status_changed' must be one of open, pending, on_hold, not "closed""#
        ),
        (
            "ticket.escalated", #""ticketid":"t1""#, #"{"level":[2]}"#,
            "'data.level' of type 'ticket.escalated' must be a string or a number"
        ),
        ("ticket.merged", #""ticketid":"t1""#, #"{"into":""}"#, "'data.into' must not be empty"),
        (
            "feedback.csat", "", #"{"score":6}"#,
            "'data.score' of type 'feedback.csat' must be an integer from 1 to 5"
        ),
        (
            "feedback.csat", "", #"{"score":4.0}"#,
            "'data.score' of type 'feedback.csat' must be an integer from 1 to 5"
        ),
        (
            "feedback.nps", "", #"{"score":"9"}"#,
            "'data.score' of type 'feedback.nps' must be an integer from 0 to 10"
        ),
        ("feedback.ces", "", nil, "'data.score' of type 'feedback.ces' is required"),
        (
            "order.placed", "", #"{"order":"o1","amount":1.234,"currency":"EUR"}"#,
            "'data.amount' of type 'order.placed' must be a non-negative decimal number with at most two fraction digits"
        ),
        (
            "order.placed", "", #"{"order":"o1","amount":-1,"currency":"EUR"}"#,
            "'data.amount' of type 'order.placed' must be a non-negative decimal number with at most two fraction digits"
        ),
        (
            "order.placed", "", #"{"order":"o1","amount":1e2,"currency":"EUR"}"#,
            "'data.amount' of type 'order.placed' must be a non-negative decimal number with at most two fraction digits"
        ),
        (
            "order.refunded", "", #"{"order":"o1","amount":1,"currency":"eur"}"#,
            #"'data.currency' of type 'order.refunded' must be a three-letter ISO 4217 code such as "EUR""#
        ),
        (
            "order.placed", "", #"{"amount":1,"currency":"EUR"}"#,
            "'data.order' of type 'order.placed' is required"
        ),
        (
            "selfservice.viewed", #""channel":"web""#, "{}",
            "'data.article' of type 'selfservice.viewed' is required"
        ),
    ]

    @Test(arguments: rejected.indices)
    func knownTypesWithBadDataAreRejectedNamingTheRule(index: Int) {
        let (type, tags, data, message) = Self.rejected[index]
        #expect(failure(type, tags: tags, data: data) == message)
    }

    /// `knownTypes` lists the names in the order of their codes (`knownTypesKeepTheirCodes`).
    @Test func knownTypesKeepTheirOrder() {
        #expect(
            Catalog.knownTypes == [
                "contact.received", "contact.sent", "ticket.opened", "ticket.assigned", "ticket.replied",
                "ticket.status_changed", "ticket.priority_changed", "ticket.escalated", "ticket.solved",
                "ticket.reopened", "ticket.closed", "ticket.merged", "feedback.csat", "feedback.nps",
                "feedback.ces", "order.placed", "order.refunded", "selfservice.viewed",
            ])
    }

    /// Projection records store a type as its code: each code is pinned here, so that reordering or
    /// renumbering `KnownType` cannot silently change what stored records mean.
    @Test func knownTypesKeepTheirCodes() {
        let codes: [(String, UInt8)] = [
            ("contact.received", 0), ("contact.sent", 1), ("ticket.opened", 2), ("ticket.assigned", 3),
            ("ticket.replied", 4), ("ticket.status_changed", 5), ("ticket.priority_changed", 6),
            ("ticket.escalated", 7), ("ticket.solved", 8), ("ticket.reopened", 9), ("ticket.closed", 10),
            ("ticket.merged", 11), ("feedback.csat", 12), ("feedback.nps", 13), ("feedback.ces", 14),
            ("order.placed", 15), ("order.refunded", 16), ("selfservice.viewed", 17),
        ]
        #expect(KnownType.allCases.count == codes.count)
        for (name, code) in codes {
            #expect(KnownType(name: name)?.rawValue == code, "\(name)")
            #expect(KnownType(rawValue: code)?.name == name, "code \(code)")
        }
        #expect(KnownType(name: "custom.thing") == nil)
    }

    /// Ticket records store a status, a priority and a channel as their codes: pinned here like the
    /// types' codes.
    @Test func channelsPrioritiesAndStatusesKeepTheirCodes() {
        func codes<T: StableCode & RawRepresentable>(_: T.Type) -> [String: UInt8]
        where T.RawValue == String {
            Dictionary(uniqueKeysWithValues: T.allCases.map { ($0.rawValue, $0.code) })
        }
        #expect(
            codes(Channel.self) == [
                "email": 0, "phone": 1, "chat": 2, "web": 3, "social": 4, "self_service": 5, "in_person": 6,
                "ivr": 7,
            ])
        #expect(codes(Priority.self) == ["low": 0, "normal": 1, "high": 2, "urgent": 3])
        #expect(
            codes(TicketStatus.self) == [
                "new": 0, "open": 1, "pending": 2, "on_hold": 3, "solved": 4, "closed": 5,
            ])
        for channel in Channel.allCases { #expect(Channel(code: channel.code) == channel) }
        #expect(Channel(code: 8) == nil && Priority(code: 4) == nil && TicketStatus(code: 6) == nil)
        #expect(KnownType(code: 17) == .selfServiceViewed && KnownType(code: 18) == nil)
    }

    @Test func unknownTypesAreNotDecoded() throws {
        #expect(try validate("custom.thing", data: #"{"score":"any"}"#).kind == nil)
        #expect(try validate("feedback.csatx", data: "[1]").kind == nil)
    }

    @Test func aKnownTypeWithBinaryDataIsRejected() throws {
        var event = try validate("feedback.nps", data: #"{"score":3}"#).event
        event.data = .base64("AAAA")
        #expect(
            throws: CloudEventError(
                attribute: "data_base64",
                message: "type 'feedback.nps' carries JSON 'data', not 'data_base64'")
        ) { _ = try Touchpoint(validating: event) }
    }

    /// An event built in code (not parsed) may hold any bytes as `data`: the catalog checks them as JSON.
    @Test func aBuiltEventWithInvalidJSONDataIsRejected() throws {
        var event = try validate("feedback.nps", data: #"{"score":3}"#).event
        let cases: [(String, String)] = [
            (#"{"score":3"#, "'data' is not valid JSON: unexpected end of input"),
            (#"{"score":3,"score":4}"#, #"'data' is not valid JSON: duplicate key "score""#),
            (#"{"score":3} x"#, "'data' is not valid JSON: unexpected data after the JSON value"),
            (#"{"score":01}"#, "'data' is not valid JSON: invalid number: leading zeros are not allowed"),
            ("", "'data' is not valid JSON: unexpected end of input"),
        ]
        for (data, message) in cases {
            event.data = .json(Array(data.utf8))
            #expect(throws: CloudEventError(attribute: "data", message: message)) {
                _ = try Touchpoint(validating: event)
            }
        }
        event.data = .json(Array(#" { "score" : 3 } "#.utf8))
        #expect(try Touchpoint(validating: event).kind == .nps(score: 3))
    }
}

@Suite struct Decimal2Tests {
    @Test func literalsWithAtMostTwoFractionDigitsParseExactly() {
        let cases: [(String, Int64?)] = [
            ("0", 0), ("12", 1200), ("129.9", 12990), ("119.80", 11980), ("0.05", 5), ("-3.5", -350),
            ("-0", 0), ("999999999999999", 99_999_999_999_999_900), ("1000000000000000", nil),
            ("1.234", nil), ("1.", nil), (".5", nil), ("", nil), ("-", nil), ("1e2", nil), ("+1", nil),
            ("1.2.3", nil), ("1,5", nil), (" 1", nil), ("١", nil), ("--1", nil), ("1.-5", nil),
        ]
        for (literal, cents) in cases {
            #expect(Decimal2(literal: literal)?.cents == cents, "\(literal)")
        }
    }
}
