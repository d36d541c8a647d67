import Testing

@testable import CloudEvents

/// A valid event's members, in order; tests replace or remove single members.
private let baseMembers: [(String, String)] = [
    ("specversion", #""1.0""#),
    ("id", #""evt-1""#),
    ("source", #""https://example.com/crm""#),
    ("type", #""contact.received""#),
]

private func event(_ members: [(String, String)]) -> String {
    "{" + members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
}

/// The base event with `name` set to the raw JSON `value` (replacing it, or appended), or removed if `nil`.
private func event(setting name: String, to value: String?) -> String {
    var members = baseMembers.filter { $0.0 != name }
    if let value {
        if let i = baseMembers.firstIndex(where: { $0.0 == name }) {
            members.insert((name, value), at: i)
        } else {
            members.append((name, value))
        }
    }
    return event(members)
}

private func parseEvent(_ text: String) throws(CloudEventError) -> CloudEvent {
    try CloudEvent(json: Array(text.utf8))
}

@Suite struct CloudEventParsingTests {
    @Test func parsesAFullEvent() throws {
        let text = """
            {"specversion":"1.0","id":"A234-1234-1234","source":"https://example.com/crm/events?x=1#f",
             "type":"ticket.opened","subject":"cust-42","time":"2024-05-01T10:00:00.5+02:00",
             "datacontenttype":"application/json","dataschema":"urn:example:schema:ticket",
             "channel":"email","ticketid":"T-1","priority":3,"low":-2147483648,"vip":true,"gone":null,
             "data": { "priority" : "high", "summary" : "Can't log in \\u00e9 ",  "tags": [ 1, 2 ] } }
            """
        let e = try parseEvent(text)
        #expect(e.id == "A234-1234-1234")
        #expect(e.source == "https://example.com/crm/events?x=1#f")
        #expect(e.type == "ticket.opened")
        #expect(e.subject == "cust-42")
        #expect(e.time == "2024-05-01T10:00:00.5+02:00")
        #expect(e.timestamp == Timestamp(rfc3339: "2024-05-01T08:00:00.5Z"))
        #expect(e.datacontenttype == "application/json")
        #expect(e.dataschema == "urn:example:schema:ticket")
        #expect(
            e.extensions == [
                CloudEventExtension(name: "channel", value: .string("email")),
                CloudEventExtension(name: "ticketid", value: .string("T-1")),
                CloudEventExtension(name: "priority", value: .number("3")),
                CloudEventExtension(name: "low", value: .number("-2147483648")),
                CloudEventExtension(name: "vip", value: .bool(true)),
            ])
        #expect(e.extensionValue("channel") == .string("email"))
        #expect(e.extensionValue("gone") == nil)
        #expect(e.extensionValue("nope") == nil)
        let data = try #require(e.data)
        guard case .json(let bytes) = data else {
            Issue.record("expected JSON data")
            return
        }
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == #"{"priority":"high","summary":"Can't log in \u00e9 ","tags":[1,2]}"#)
    }

    @Test func minimalEventHasNoOptionals() throws {
        let e = try parseEvent(event(baseMembers))
        #expect(e == CloudEvent(id: "evt-1", source: "https://example.com/crm", type: "contact.received"))
    }

    @Test(arguments: ["subject", "time", "datacontenttype", "dataschema", "data", "data_base64", "myext"])
    func nullOptionalIsUnset(name: String) throws {
        let e = try parseEvent(event(setting: name, to: "null"))
        #expect(e == CloudEvent(id: "evt-1", source: "https://example.com/crm", type: "contact.received"))
    }

    @Test func base64Data() throws {
        let e = try parseEvent(event(setting: "data_base64", to: #""SGVsbG8=""#))
        #expect(e.data == .base64("SGVsbG8="))
        let empty = try parseEvent(event(setting: "data_base64", to: #""""#))
        #expect(empty.data == .base64(""))
    }

    @Test(arguments: [
        (#""hello""#, #""hello""#), ("42", "42"), ("[ ]", "[]"), ("false", "false"), (" { } ", "{}"),
        (#"{ "a b" : " x\t\"y " }"#, #"{"a b":" x\t\"y "}"#),
    ])
    func anyJSONData(raw: String, compact: String) throws {
        let e = try parseEvent(event(setting: "data", to: raw))
        #expect(e.data == .json(Array(compact.utf8)))
    }

    @Test(arguments: [
        "https://example.com/a", "/relative/path", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
        "mailto:x@y.z",
        "a/b:c", "//host:80/p?q#f", "http://[::1]:8080/x", "%41bc", "x", "./a:b", "https://ex.com/a%20b",
        "http://u@h/~a!$&'()*+,;=",
    ])
    func validSources(source: String) throws {
        let e = try parseEvent(event(setting: "source", to: "\"\(source)\""))
        #expect(e.source == source)
    }

    /// Each rule, the attribute it names, and a substring the message must contain.
    static let rejections: [(String, String?, String)] = [
        // JSON level
        (#"{"specversion":"1.0","id":"1""#, nil, "invalid JSON at byte"),
        (#"{"specversion":"1.0","id":"1",}"#, nil, "trailing comma"),
        (#"{"specversion":"1.0","id":"1","id":"2","source":"s","type":"t"}"#, nil, "duplicate key \"id\""),
        (
            #"{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"a":1,"a":2}}"#, nil,
            "duplicate key \"a\""
        ),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"t","data":01}"#, nil, "leading zeros"),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"t","data":NaN}"#, nil, "NaN"),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"t","data":"\ud800"}"#, nil, "lone surrogate"),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"t"} x"#, nil, "unexpected data after"),
        (
            #"{"specversion":"1.0","id":"1","source":"s","type":"t","data":"#
                + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "}", nil,
            "nesting deeper than 64"
        ),
        ("[]", nil, "must be a JSON object, not an array"),
        (#""event""#, nil, "must be a JSON object, not a string"),
        ("", nil, "unexpected end of input"),
        // A JSON error wins over a rule broken earlier.
        (#"{"specversion":"0.3","id":"1","source":"s","type":"t","data":tru}"#, nil, "invalid JSON"),
        // specversion
        (
            event(setting: "specversion", to: nil), "specversion",
            "required attribute 'specversion' is missing"
        ),
        (
            event(setting: "specversion", to: "null"), "specversion",
            "required attribute 'specversion' is missing"
        ),
        (event(setting: "specversion", to: #""0.3""#), "specversion", "unsupported specversion \"0.3\""),
        (event(setting: "specversion", to: #""1.0 ""#), "specversion", "unsupported specversion"),
        (
            event(setting: "specversion", to: "1.0"), "specversion",
            "'specversion' must be a string, not a number"
        ),
        // id
        (event(setting: "id", to: nil), "id", "required attribute 'id' is missing"),
        (event(setting: "id", to: "null"), "id", "required attribute 'id' is missing"),
        (event(setting: "id", to: #""""#), "id", "'id' must not be empty"),
        (event(setting: "id", to: "42"), "id", "'id' must be a string, not a number"),
        (event(setting: "id", to: #"{"a":1}"#), "id", "'id' must be a string, not an object"),
        // source
        (event(setting: "source", to: nil), "source", "required attribute 'source' is missing"),
        (event(setting: "source", to: "null"), "source", "required attribute 'source' is missing"),
        (event(setting: "source", to: #""""#), "source", "'source' must not be empty"),
        (event(setting: "source", to: "[]"), "source", "'source' must be a string, not an array"),
        (event(setting: "source", to: #""https://ex.com/a b""#), "source", "contains a space"),
        (event(setting: "source", to: #""https://ex.com/\u0007""#), "source", "control character"),
        (event(setting: "source", to: #""https://ex.com/é""#), "source", "non-ASCII"),
        (event(setting: "source", to: #""https://ex.com/%zz""#), "source", "malformed percent-encoding"),
        (event(setting: "source", to: #""https://ex.com/%4""#), "source", "malformed percent-encoding"),
        (event(setting: "source", to: #""https://ex.com/<x>""#), "source", "'<'"),
        (event(setting: "source", to: #""a#b#c""#), "source", "more than one '#'"),
        (event(setting: "source", to: #""1http://x""#), "source", "invalid scheme"),
        (event(setting: "source", to: #"":x""#), "source", "invalid scheme"),
        (event(setting: "source", to: #""/a[b]""#), "source", "outside an IP literal"),
        (event(setting: "source", to: #""a\\b""#), "source", "not a valid URI-reference"),
        // type
        (event(setting: "type", to: nil), "type", "required attribute 'type' is missing"),
        (event(setting: "type", to: "null"), "type", "required attribute 'type' is missing"),
        (event(setting: "type", to: #""""#), "type", "'type' must not be empty"),
        (event(setting: "type", to: "true"), "type", "'type' must be a string, not a boolean"),
        // subject
        (event(setting: "subject", to: #""""#), "subject", "'subject' must not be empty"),
        (event(setting: "subject", to: "7"), "subject", "'subject' must be a string, not a number"),
        // time
        (
            event(setting: "time", to: #""2024-13-01T00:00:00Z""#), "time",
            #"'time' is not an RFC 3339 timestamp: "2024-13-01T00:00:00Z""#
        ),
        (event(setting: "time", to: #""2024-05-01""#), "time", "not an RFC 3339 timestamp"),
        (event(setting: "time", to: #""""#), "time", "not an RFC 3339 timestamp"),
        (event(setting: "time", to: "1714557600"), "time", "'time' must be a string, not a number"),
        // datacontenttype
        (
            event(setting: "datacontenttype", to: #""""#), "datacontenttype",
            "'datacontenttype' must not be empty"
        ),
        (
            event(setting: "datacontenttype", to: "false"), "datacontenttype",
            "must be a string, not a boolean"
        ),
        // dataschema
        (event(setting: "dataschema", to: #""""#), "dataschema", "'dataschema' must not be empty"),
        (event(setting: "dataschema", to: #""/schemas/x.json""#), "dataschema", "not a valid absolute URI"),
        (event(setting: "dataschema", to: #""https://ex.com/a b""#), "dataschema", "contains a space"),
        (event(setting: "dataschema", to: "{}"), "dataschema", "must be a string, not an object"),
        // data and data_base64
        (
            event(baseMembers + [("data", "1"), ("data_base64", #""AA==""#)]), "data_base64",
            "mutually exclusive"
        ),
        (event(baseMembers + [("data_base64", #""AA==""#), ("data", "{}")]), "data", "mutually exclusive"),
        (
            event(setting: "data_base64", to: "12"), "data_base64",
            "'data_base64' must be a string, not a number"
        ),
        (event(setting: "data_base64", to: #""AAA""#), "data_base64", "not a multiple of 4"),
        (event(setting: "data_base64", to: #""AA=A""#), "data_base64", "padding"),
        (event(setting: "data_base64", to: #""A===""#), "data_base64", "padding"),
        (event(setting: "data_base64", to: #""AA-_""#), "data_base64", "not base64"),
        (event(setting: "data_base64", to: #""AA A""#), "data_base64", "not base64"),
        // extensions
        (event(setting: "Channel", to: #""email""#), "Channel", "invalid attribute name \"Channel\""),
        (event(setting: "ticket_id", to: #""T-1""#), "ticket_id", "invalid attribute name"),
        (event(setting: "", to: #""x""#), "", "invalid attribute name"),
        (event(setting: "é", to: #""x""#), "é", "invalid attribute name"),
        (
            event(setting: "tags", to: #"["a"]"#), "tags",
            "extension attribute 'tags' must be a string, an integer or a boolean (the CloudEvents types in JSON), not an array"
        ),
        (event(setting: "meta", to: #"{"a":1}"#), "meta", "not an object"),
    ]

    @Test(arguments: rejections)
    func rejects(input: String, attribute: String?, message: String) {
        do {
            let e = try parseEvent(input)
            Issue.record("accepted \(input) as \(e)")
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
            #expect(error.attribute == attribute)
            #expect(error.description == error.message)
        }
    }

    @Test func reportsTheFirstRuleBroken() {
        let text = event([
            ("specversion", #""1.0""#), ("id", #""""#), ("source", #""a b""#), ("type", #""t""#),
        ])
        #expect(throws: CloudEventError(attribute: "id", message: "'id' must not be empty")) {
            try parseEvent(text)
        }
    }

    @Test func jsonErrorMessageHasOffset() {
        #expect(
            throws: CloudEventError(attribute: nil, message: "invalid JSON at byte 6: unterminated string")
        ) { try parseEvent(#"{"id":"abc"#) }
    }

    @Test(arguments: ["ab", "a1", "0", "x9y8", "abcdefghijklmnopqrstuvwxyz0123456789"])
    func validExtensionNames(name: String) throws {
        let e = try parseEvent(event(setting: name, to: "1"))
        #expect(e.extensions == [CloudEventExtension(name: name, value: .number("1"))])
        #expect(CloudEvent.isValidExtensionName(name))
    }

    @Test func reservedNamesAreNeverExtensions() {
        for name in CloudEvent.reservedAttributeNames {
            #expect(!CloudEvent.isValidExtensionName(name))
        }
        #expect(!CloudEvent.isValidExtensionName("A"))
        #expect(!CloudEvent.isValidExtensionName(""))
    }

    @Test func escapedAttributeNamesAreRecognised() throws {
        // "\u0069d" is "id".
        let e = try parseEvent(#"{"specversion":"1.0","\u0069d":"x","source":"s","type":"t"}"#)
        #expect(e.id == "x")
        #expect(throws: CloudEventError.self) {
            try parseEvent(#"{"specversion":"1.0","\u0069d":"x","id":"y","source":"s","type":"t"}"#)
        }
    }

    @Test func duplicateExtensionsAreRejectedEvenWhenEscaped() {
        let text = #"{"specversion":"1.0","id":"1","source":"s","type":"t","channel":"a","\u0063hannel":"b"}"#
        #expect(
            throws: CloudEventError(
                attribute: nil, message: #"invalid JSON at byte 68: duplicate key "channel""#)
        ) {
            try parseEvent(text)
        }
        // A null extension is unset but its key still counts.
        #expect(throws: CloudEventError.self) {
            try parseEvent(#"{"specversion":"1.0","id":"1","source":"s","type":"t","x":null,"x":1}"#)
        }
    }

    @Test func unicodeAndEscapesInAttributes() throws {
        let e = try parseEvent(
            #"{"specversion":"1.0","id":"\u00e9\ud83d\ude00 \"q\" \\ \/","source":"s","type":"t","subject":"Zoë 中文 😀","note":"tab\there"}"#
        )
        #expect(e.id == "é😀 \"q\" \\ /")
        #expect(e.subject == "Zoë 中文 😀")
        #expect(e.extensionValue("note") == .string("tab\there"))
    }

    @Test func genericCollectionInput() throws {
        let bytes = Array(event(baseMembers).utf8)
        let fromSlice = try CloudEvent(json: bytes[...])
        let fromLazy = try CloudEvent(json: bytes.lazy.map { $0 })
        #expect(fromSlice == fromLazy)
        #expect(fromSlice.id == "evt-1")
    }
}

@Suite struct CloudEventWritingTests {
    static let roundTripInputs: [String] = [
        event(baseMembers),
        """
        { "specversion" : "1.0", "type":"ticket.opened", "id":"1", "source":"/crm",
          "data": { "a" : [ 1 , 2.50 , { "b" : null } ], "s": "x \\" y\\n" },
          "ticketid":"T1","score":-300,"ok":false,"time":"2024-05-01t10:00:00.123456789z",
          "subject":"c\\u00e9", "datacontenttype":"application/json","dataschema":"https://s/x" }
        """,
        event(baseMembers + [("data_base64", #""SGVsbG8gd29ybGQ=""#), ("repid", #""r-7""#)]),
        event(baseMembers + [("data", #""just a string""#)]),
        event(baseMembers + [("subject", #""ctl \u0001 \u001f \t""#)]),
    ]

    @Test(arguments: roundTripInputs)
    func roundTrip(input: String) throws {
        let first = try CloudEvent(json: Array(input.utf8))
        var out: [UInt8] = []
        first.writeJSON(into: &out)
        #expect(!out.contains(UInt8(ascii: "\n")))
        let second = try CloudEvent(json: out)
        #expect(second == first)
        // Writing is deterministic and already compact: a second pass gives the same bytes.
        #expect(second.jsonBytes() == out)
        // The data means the same as the input's data.
        if case .json(let bytes) = first.data {
            let original = try JSONValue.parse(Array(input.utf8))["data"]
            #expect(try JSONValue.parse(bytes) == original)
        }
    }

    @Test func writesInTheDocumentedOrder() throws {
        let e = CloudEvent(
            id: "1", source: "/s", type: "t", subject: "c", time: "2024-05-01T10:00:00Z",
            datacontenttype: "application/json", dataschema: "https://x/s",
            extensions: [
                CloudEventExtension(name: "zz", value: .string("z")),
                CloudEventExtension(name: "aa", value: .number("1")),
            ],
            data: .json(Array(#"{"k":true}"#.utf8)))
        var out: [UInt8] = []
        e.writeJSON(
            into: &out,
            additionalAttributes: [
                CloudEventExtension(name: "sequence", value: .string("00000000000000000001")),
                CloudEventExtension(name: "position", value: .number("1")),
            ])
        #expect(
            String(decoding: out, as: UTF8.self)
                == #"{"specversion":"1.0","id":"1","source":"/s","type":"t","subject":"c","time":"2024-05-01T10:00:00Z","datacontenttype":"application/json","dataschema":"https://x/s","zz":"z","aa":1,"sequence":"00000000000000000001","position":1,"data":{"k":true}}"#
        )
        let base64 = CloudEvent(id: "2", source: "/s", type: "t", data: .base64("AA=="))
        #expect(
            String(decoding: base64.jsonBytes(), as: UTF8.self)
                == #"{"specversion":"1.0","id":"2","source":"/s","type":"t","data_base64":"AA=="}"#)
    }
}

@Suite struct ParsedCloudEventTests {
    @Test func parseHandsOverTheParsedTimeAndTheValidatedData() throws {
        let bytes = Array(
            #"{"specversion":"1.0","id":"1","source":"s","type":"t","time":"2024-05-01T12:00:00.5+02:00","data": { "a" : [1, 2] }}"#
                .utf8)
        let parsed = try CloudEvent.parse(json: bytes)
        #expect(parsed.event == (try CloudEvent(json: bytes)))
        #expect(parsed.timestamp == Timestamp(rfc3339: "2024-05-01T12:00:00.5+02:00"))
        #expect(parsed.data?.bytes == Array(#"{"a":[1,2]}"#.utf8))
        #expect(parsed.data?.isObject == true)
        #expect(parsed.data?["a"] == .array([.number("1"), .number("2")]))

        let binary = try CloudEvent.parse(
            json: Array(#"{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"AAAA"}"#.utf8))
        #expect(binary.timestamp == nil && binary.data == nil)
        let scalar = try CloudEvent.parse(
            json: Array(
                #"{"specversion":"1.0","id":"1","source":"s","type":"t","data":"x","time":null}"#.utf8))
        #expect(scalar.timestamp == nil && scalar.data?.isObject == false && scalar.data?.isNull == false)
    }

    @Test func parseRejectsWhatInitRejects() {
        let bytes = Array(#"{"specversion":"1.0","id":"1","source":"s","type":"t","time":"yesterday"}"#.utf8)
        #expect(
            throws: CloudEventError(
                attribute: "time", message: #"'time' is not an RFC 3339 timestamp: "yesterday""#)
        ) {
            _ = try CloudEvent.parse(json: bytes)
        }
    }
}
