import Testing

@testable import CloudEvents

/// An event with the required attributes and `member` (raw JSON text, `"name":value`) added.
private func event(with member: String) -> [UInt8] {
    Array(#"{"specversion":"1.0","id":"e1","source":"urn:test","type":"t",\#(member)}"#.utf8)
}

/// The CloudEvents 1.0 attribute types the parser enforces: `datacontenttype` (RFC 2046 media type),
/// `source` (RFC 3986 URI-reference), `dataschema` (URI) and extension values (String, Boolean, Integer).
@Suite struct AttributeTypeTests {
    // MARK: datacontenttype

    @Test(arguments: [
        "application/json", "text/plain", "application/cloudevents+json",
        "application/vnd.apache.thrift.binary",
        "text/plain; charset=utf-8", "text/plain;charset=\"utf-8\"", "multipart/mixed; boundary=\"a b;c=d\"",
        "text/plain ; a=1 ;\tb=2", "application/x-www-form-urlencoded", "text/x.y_z~!#$%&'*+-^`{|}",
        #"text/plain; q="a \"quoted\" \\ word""#, "TEXT/PLAIN; CHARSET=UTF-8", "text/plain; a=\"\"",
    ])
    func mediaTypesAreAccepted(mediaType: String) throws {
        let escaped = mediaType.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\t", with: "\\t")
        let e = try CloudEvent(json: event(with: #""datacontenttype":"\#(escaped)""#))
        #expect(e.datacontenttype == mediaType)
    }

    /// (value, the reason after the quoted value)
    static let badMediaTypes: [(String, String)] = [
        ("xyz", #"has no '/' and subtype after its type (a media type looks like "application/json")"#),
        ("text/", "has no subtype after '/'"),
        (
            "/json",
            "does not start with a type (a token such as \"text\" or \"application\"): '/' at position 0 is not allowed in a token"
        ),
        ("text/plain/x", "has '/' at position 10 where ';' and a parameter, or the end, should be"),
        ("text/plain charset=x", "has 'c' at position 11 where ';' and a parameter, or the end, should be"),
        ("text/plain;", "has a ';' not followed by a parameter name at position 11"),
        ("text/plain; charset", "has a parameter without '=' and a value at position 19"),
        ("text/plain; charset =utf-8", "has a parameter without '=' and a value at position 19"),
        (
            "text/plain; charset=",
            "has a parameter without a value at position 20 (a token or a quoted string)"
        ),
        (
            "text/plain; charset=\"utf-8",
            "has a quoted parameter value without its closing '\"' or with a control character"
        ),
        ("text/plain; a=b c", "has 'c' at position 16 where ';' and a parameter, or the end, should be"),
        ("text/plain ", "ends with white space"),
        ("text/pl@in", "has '@' at position 7 where ';' and a parameter, or the end, should be"),
        ("téxt/plain", "has a non-ASCII character at position 1 where '/' and a subtype should be"),
        (
            " text/plain",
            "does not start with a type (a token such as \"text\" or \"application\"): a space at position 0 is not allowed in a token"
        ),
    ]

    @Test(arguments: badMediaTypes)
    func badMediaTypesAreRejectedNamingTheAttribute(mediaType: String, reason: String) {
        let escaped = mediaType.replacingOccurrences(of: "\"", with: "\\\"")
        #expect(
            throws: CloudEventError(
                attribute: "datacontenttype",
                message: "'datacontenttype' is not an RFC 2046 media type: \"\(mediaType)\" \(reason)")
        ) { try CloudEvent(json: event(with: #""datacontenttype":"\#(escaped)""#)) }
    }

    // MARK: extension values

    @Test(arguments: [
        ("0", JSONValue.number("0")), ("-0", .number("-0")), ("2147483647", .number("2147483647")),
        ("-2147483648", .number("-2147483648")), ("42", .number("42")), ("true", .bool(true)),
        ("false", .bool(false)), (#""1.5""#, .string("1.5")), (#""2147483648""#, .string("2147483648")),
    ])
    func integersInRangeBooleansAndStringsAreAccepted(json: String, value: JSONValue) throws {
        let e = try CloudEvent(json: event(with: #""ext":\#(json)"#))
        #expect(e.extensions == [CloudEventExtension(name: "ext", value: value)])
        // Written back as it came, so the output means the same.
        #expect(String(decoding: e.jsonBytes(), as: UTF8.self).contains(#","ext":\#(json)"#))
    }

    @Test(arguments: ["2147483648", "-2147483649", "9999999999", "12345678901234567890", "-99999999999"])
    func integersOutsideThe32BitRangeAreRejected(literal: String) {
        #expect(
            throws: CloudEventError(
                attribute: "count",
                message:
                    "extension attribute 'count' is \(literal), outside the CloudEvents Integer range -2147483648...2147483647 (signed 32-bit)"
            )
        ) { try CloudEvent(json: event(with: #""count":\#(literal)"#)) }
    }

    @Test(arguments: ["1.5", "-0.0", "1e3", "2E-1", "1.0", "10e0"])
    func numbersWithAFractionOrExponentAreRejected(literal: String) {
        #expect(
            throws: CloudEventError(
                attribute: "ratio",
                message:
                    "extension attribute 'ratio' is \(literal), a number with a fraction or an exponent: a CloudEvents Integer is a whole number (send other numbers as a string, or in data)"
            )
        ) { try CloudEvent(json: event(with: #""ratio":\#(literal)"#)) }
    }

    @Test(arguments: [(#"{"a":1}"#, "an object"), ("[1]", "an array"), ("[]", "an array")])
    func objectsAndArraysAreRejected(json: String, kind: String) {
        #expect(
            throws: CloudEventError(
                attribute: "meta",
                message:
                    "extension attribute 'meta' must be a string, an integer or a boolean (the CloudEvents types in JSON), not \(kind)"
            )
        ) { try CloudEvent(json: event(with: #""meta":\#(json)"#)) }
    }

    @Test func theSameRulesApplyToValuesBuiltInCode() {
        #expect(CloudEvent.extensionValueProblem(name: "n", value: .number("2147483647")) == nil)
        #expect(CloudEvent.extensionValueProblem(name: "n", value: .string("x")) == nil)
        #expect(
            CloudEvent.extensionValueProblem(name: "n", value: .number("2147483648"))?.contains("outside")
                == true)
        #expect(
            CloudEvent.extensionValueProblem(name: "n", value: .number("0.5"))?.contains("fraction") == true)
        #expect(
            CloudEvent.extensionValueProblem(name: "n", value: .array([]))?.hasSuffix("not an array") == true)
    }

    // MARK: source and dataschema

    @Test(arguments: [
        "http://[::1]", "http://[::1]:8080/x", "http://[2001:db8::7]/c=GB?objectClass?one",
        "http://[::ffff:192.0.2.1]/", "http://[1:2:3:4:5:6:7:8]", "http://[1:2:3:4:5:6:1.2.3.4]",
        "http://[::]", "http://[1::]", "http://[1:2:3:4:5:6::7]", "http://[v7.a:b!]", "//[fe80::1]",
        "http://user:pa%20ss@host.example:80/p", "http://h:/p", "http://%41.example/", "ldap://[2001:db8::7]",
        "http://192.0.2.16:80/", "urn:oasis:names:specification:docbook:dtd:xml:4.1.2", "?q=1", "#frag",
        "http://a/b?c=%5Bd%5D#e", "1-555-123-4567", "tel:+1-816-555-1212", "mailto:x@y.z",
    ])
    func uriReferencesAreAccepted(source: String) throws {
        let text = #"{"specversion":"1.0","id":"e1","source":"\#(source)","type":"t"}"#
        #expect(try CloudEvent(json: Array(text.utf8)).source == source)
    }

    /// (source, the reason after the quoted value)
    static let badSources: [(String, String)] = [
        ("http://[::1", "has an IP literal host without its closing ']'"),
        ("http://[::1/x]", "has an IP literal host without its closing ']'"),
        ("http://[::1]x", "has 'x' after its IP literal host, where only ':' and a port may follow"),
        (
            "http://[1.2.3.4]",
            #"has an IP literal host "[1.2.3.4]" that is neither an IPv6 address nor 'v' HEX '.' text (IPvFuture)"#
        ),
        (
            "http://[1:2:3:4:5:6:7]",
            #"has an IP literal host "[1:2:3:4:5:6:7]" that is neither an IPv6 address nor 'v' HEX '.' text (IPvFuture)"#
        ),
        (
            "http://[1:2:3:4:5:6:7:8:9]",
            #"has an IP literal host "[1:2:3:4:5:6:7:8:9]" that is neither an IPv6 address nor 'v' HEX '.' text (IPvFuture)"#
        ),
        (
            "http://[1::2::3]",
            #"has an IP literal host "[1::2::3]" that is neither an IPv6 address nor 'v' HEX '.' text (IPvFuture)"#
        ),
        (
            "http://[12345::]",
            #"has an IP literal host "[12345::]" that is neither an IPv6 address nor 'v' HEX '.' text (IPvFuture)"#
        ),
        (
            "http://[::1.2.3.256]",
            #"has an IP literal host "[::1.2.3.256]" that is neither an IPv6 address nor 'v' HEX '.' text (IPvFuture)"#
        ),
        (
            "http://[:::]",
            #"has an IP literal host "[:::]" that is neither an IPv6 address nor 'v' HEX '.' text (IPvFuture)"#
        ),
        (
            "http://[1:2:3:4:5:6:7::8]",
            #"has an IP literal host "[1:2:3:4:5:6:7::8]" that is neither an IPv6 address nor 'v' HEX '.' text (IPvFuture)"#
        ),
        (
            "http://[fe80::1%25eth0]",
            #"has an IP literal host "[fe80::1%25eth0]" that is neither an IPv6 address nor 'v' HEX '.' text (IPvFuture)"#
        ),
        (
            "http://[v.x]",
            #"has an IP literal host "[v.x]" that is neither an IPv6 address nor 'v' HEX '.' text (IPvFuture)"#
        ),
        ("http://::1]/", "has a port that is not only digits (position 8)"),
        ("http://host:8o/", "has a port that is not only digits (position 13)"),
        ("http://a@b@c/", "has '@' in its host at position 10, which is not allowed there"),
        ("http://h]/", "has ']' outside an IP literal host"),
        ("http://ho%zzst/", "has malformed percent-encoding at position 9"),
        ("http://ho st/", "contains a space at position 9"),
        ("http://a/[x]", "has '[' outside an IP literal host"),
        ("http://a/b#c#d", "has more than one '#'"),
        ("http://a/b|c", "contains '|' at position 10, which is not allowed in a URI"),
        ("1http://x", "has an invalid scheme"),
    ]

    @Test(arguments: badSources)
    func badSourcesAreRejectedNamingTheAttribute(source: String, reason: String) {
        let text = #"{"specversion":"1.0","id":"e1","source":"\#(source)","type":"t"}"#
        #expect(
            throws: CloudEventError(
                attribute: "source", message: "'source' is not a valid URI-reference: \"\(source)\" \(reason)"
            )
        ) { try CloudEvent(json: Array(text.utf8)) }
    }

    @Test(arguments: ["https://example.com/schema.json", "urn:example:schema", "https://x/s.json#/defs/a"])
    func dataschemaAcceptsURIs(schema: String) throws {
        #expect(try CloudEvent(json: event(with: #""dataschema":"\#(schema)""#)).dataschema == schema)
    }

    @Test(arguments: [
        ("/schemas/x.json", #"has no scheme (an absolute URI starts with one, such as "https:")"#),
        ("schema.json", #"has no scheme (an absolute URI starts with one, such as "https:")"#),
        ("https://[::1/s", "has an IP literal host without its closing ']'"),
    ])
    func dataschemaMustBeAnAbsoluteURI(schema: String, reason: String) {
        #expect(
            throws: CloudEventError(
                attribute: "dataschema",
                message: "'dataschema' is not a valid absolute URI: \"\(schema)\" \(reason)")
        ) { try CloudEvent(json: event(with: #""dataschema":"\#(schema)""#)) }
    }
}
