import Testing

@testable import CloudEvents

private func parse(_ text: String) throws(JSONError) -> JSONValue {
    try JSONValue.parse(Array(text.utf8))
}

@Suite struct JSONValueTests {
    @Test func parsesAllKinds() throws {
        let value = try parse(#" {"a": [1, -2.50, 3e2, true, false, null], "b": {"c": "d"}, "e": ""} "#)
        #expect(
            value
                == .object([
                    JSONMember(
                        key: "a",
                        value: .array([
                            .number("1"), .number("-2.50"), .number("3e2"), .bool(true), .bool(false), .null,
                        ])),
                    JSONMember(key: "b", value: .object([JSONMember(key: "c", value: .string("d"))])),
                    JSONMember(key: "e", value: .string("")),
                ]))
        #expect(value["b"]?["c"]?.stringValue == "d")
        #expect(value["missing"] == nil)
        #expect(value["a"]?["x"] == nil)
        #expect(value["e"]?.stringValue == "")
    }

    @Test(arguments: [
        ("0", "0"), ("-0", "-0"), ("12.50", "12.50"), ("-3e2", "-3e2"), ("1E+10", "1E+10"),
        ("1.5e-7", "1.5e-7"),
        ("123456789012345678901234567890", "123456789012345678901234567890"),
    ])
    func numbersKeepTheirText(input: String, literal: String) throws {
        #expect(try parse(input) == .number(literal))
    }

    @Test(arguments: [
        (#""plain""#, "plain"),
        (#""a\"b\\c\/d""#, "a\"b\\c/d"),
        (#""\b\f\n\r\t""#, "\u{8}\u{C}\n\r\t"),
        (#""\u00e9\u4e2d""#, "é中"),
        (#""\ud83d\ude00""#, "😀"),
        (#""\u0000""#, "\u{0}"),
        ("\"é中😀\"", "é中😀"),
        (#""mixed é \u00e9 😀""#, "mixed é é 😀"),
    ])
    func stringsAndEscapes(input: String, expected: String) throws {
        let value = try parse(input)
        #expect(value.stringValue == expected)
        #expect(value.stringValue.map { Array($0.utf8) } == Array(expected.utf8))
    }

    /// Invalid JSON texts with the reason each must give.
    static let invalid: [(String, String)] = [
        ("", "unexpected end of input"),
        ("   ", "unexpected end of input"),
        (#"{"a":1,}"#, "trailing comma"),
        ("[1,2,]", "trailing comma"),
        ("[1 2]", "expected ',' or ']'"),
        (#"{"a" 1}"#, "expected ':'"),
        (#"{a:1}"#, "expected a string key"),
        ("01", "leading zeros"),
        ("-01", "leading zeros"),
        ("1.", "expected a digit after '.'"),
        ("1e", "exponent"),
        ("-", "expected a digit"),
        (".5", "unexpected character '.'"),
        ("+1", "unexpected character '+'"),
        ("NaN", "NaN and Infinity"),
        ("Infinity", "NaN and Infinity"),
        ("-Infinity", "NaN and Infinity"),
        ("tru", "unexpected end of input"),
        ("nul1", "invalid literal"),
        (#""abc"#, "unterminated string"),
        ("\"a\u{01}b\"", "unescaped control character 0x01"),
        ("\"a\tb\"", "unescaped control character 0x09"),
        (#""\x""#, "invalid escape"),
        (#""\u12""#, "expected 4 hex digits"),
        (#""\ud800""#, "lone surrogate"),
        (#""\ud800x""#, "lone surrogate"),
        (#""\udc00""#, "lone surrogate"),
        (#""\ud800\u0041""#, "lone surrogate"),
        (#"{"a":1,"a":2}"#, "duplicate key \"a\""),
        (#"{"a":1,"\u0061":2}"#, "duplicate key \"a\""),
        (#"{"x":{"a":1,"b":{"a":2},"a":3}}"#, "duplicate key \"a\""),
        ("1 2", "unexpected data after the JSON value"),
        ("{} x", "unexpected data after the JSON value"),
        ("'a'", "unexpected character"),
    ]

    @Test(arguments: invalid)
    func rejectsInvalidJSON(input: String, reason: String) {
        #expect {
            try parse(input)
        } throws: { error in
            guard let error = error as? JSONError else { return false }
            return error.reason.contains(reason)
        }
    }

    @Test(arguments: [
        [0x22, 0xC3, 0x22] as [UInt8],  // truncated 2-byte sequence
        [0x22, 0xC0, 0xAF, 0x22],  // overlong
        [0x22, 0xED, 0xA0, 0x80, 0x22],  // encoded surrogate
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
        [0x22, 0xFF, 0x22],
        [0x22, 0x80, 0x22],  // lone continuation byte
    ])
    func rejectsInvalidUTF8(bytes: [UInt8]) {
        #expect(throws: JSONError.self) { try JSONValue.parse(bytes) }
        do {
            _ = try JSONValue.parse(bytes)
        } catch {
            #expect(error.reason == "invalid UTF-8")
            #expect(error.offset == 1)
        }
    }

    @Test func errorOffsetsPointAtTheProblem() {
        do {
            _ = try parse(#"{"a": "x", "b": tru}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 16)
            #expect(error.description.hasPrefix("invalid JSON at byte 16: "))
        }
        do {
            _ = try parse(#"{"id":"1","id":"2"}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 10)
            #expect(error.reason == #"duplicate key "id""#)
        }
    }

    /// The string scanner checks 8 bytes at a time: put each kind of special byte at every alignment.
    @Test(arguments: 0..<20)
    func specialBytesAtEveryAlignment(offset: Int) throws {
        let prefix = String(repeating: "a", count: offset)
        let suffix = String(repeating: "b", count: 11)
        #expect(try parse("\"\(prefix)\\n\(suffix)\"") == .string(prefix + "\n" + suffix))
        #expect(try parse("\"\(prefix)é\(suffix)\"") == .string(prefix + "é" + suffix))
        #expect(try parse("\"\(prefix)\"").stringValue == prefix)
        #expect(try parse("\"\(prefix)\u{7F}~ \(suffix)\"") == .string(prefix + "\u{7F}~ " + suffix))
        #expect(throws: JSONError(offset: offset + 1, reason: "unescaped control character 0x1F in string")) {
            try parse("\"\(prefix)\u{1F}\(suffix)\"")
        }
        let invalid =
            [UInt8(ascii: "\"")] + Array(prefix.utf8) + [0xFF] + Array(suffix.utf8) + [UInt8(ascii: "\"")]
        #expect(throws: JSONError(offset: offset + 1, reason: "invalid UTF-8")) {
            try JSONValue.parse(invalid)
        }
        #expect(throws: JSONError(offset: 0, reason: "unterminated string")) {
            try parse("\"\(prefix)\(suffix)")
        }
    }

    @Test func nestingLimit() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try parse(ok)
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONError(offset: 64, reason: "nesting deeper than 64")) { try parse(deep) }
        let deepObjects = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(throws: JSONError.self) { try parse(deepObjects) }
    }

    @Test func duplicateKeysInLargeObjects() throws {
        var members = (0..<100).map { #""k\#($0)":\#($0)"# }
        _ = try parse("{" + members.joined(separator: ",") + "}")
        members.append(#""k42":0"#)
        members.append(#""k7":0"#)
        do {
            _ = try parse("{" + members.joined(separator: ",") + "}")
            Issue.record("expected an error")
        } catch {
            #expect(error.reason == #"duplicate key "k42""#)
        }
    }

    @Test func keysThatDifferOnlyByNormalisationAreDistinct() throws {
        // "é" precomposed and decomposed are equal Swift strings but different JSON keys.
        let value = try parse("{\"\u{E9}\":1,\"e\u{301}\":2}")
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.count == 2)
    }

    @Test func genericCollectionsParseToo() throws {
        let text = Array(#"{"a":[1,2]}"#.utf8)
        #expect(try JSONValue.parse(text[...]) == JSONValue.parse(text))
        #expect(try JSONValue.parse(text.lazy.map { $0 }) == JSONValue.parse(text))
    }

    @Test func writesCompactJSON() throws {
        let input =
            #" { "a" : [ 1 , -2.50 , true , null ] , "s" : "q\"\\\n\u0001é" , "o" : { } , "e" : [ ] } "#
        var out: [UInt8] = []
        try parse(input).write(into: &out)
        let text = String(decoding: out, as: UTF8.self)
        #expect(text == #"{"a":[1,-2.50,true,null],"s":"q\"\\\n\u0001é","o":{},"e":[]}"#)
        #expect(try JSONValue.parse(out) == parse(input))
    }
}

@Suite struct JSONObjectTextTests {
    @Test func membersAreFoundByTheirDecodedKey() throws {
        let text = try JSONObjectText(
            parsing: Array(
                #" { "a" : [1, {"a": 2}], "\u0062" : "x\ny", "c": null, "d": {"e": -2.50}, "": true } "#.utf8)
        )
        #expect(text.isObject && !text.isNull)
        #expect(text["a"] == .array([.number("1"), .object([JSONMember(key: "a", value: .number("2"))])]))
        #expect(text["b"] == .string("x\ny"))
        #expect(text["c"] == .null)
        #expect(text["d"]?["e"] == .number("-2.50"))
        #expect(text[""] == .bool(true))
        #expect(text["e"] == nil)
        #expect(text["\\u0062"] == nil)
    }

    @Test func textsThatAreNotObjectsHaveNoMembers() throws {
        let null = try JSONObjectText(parsing: Array(" null ".utf8))
        #expect(null.isNull && !null.isObject && null["a"] == nil)
        for input in [#""a""#, "[1]", "3", "true"] {
            let text = try JSONObjectText(parsing: Array(input.utf8))
            #expect(!text.isObject && !text.isNull && text["a"] == nil)
        }
        let empty = try JSONObjectText(parsing: Array("{}".utf8))
        #expect(empty.isObject && empty["a"] == nil)
    }

    @Test(arguments: JSONValueTests.invalid)
    func rejectsInvalidJSONWithTheErrorsOfParse(input: String, reason: String) {
        let bytes = Array(input.utf8)
        do {
            _ = try JSONValue.parse(bytes)
            Issue.record("expected an error")
        } catch let expected {
            #expect(throws: expected) { _ = try JSONObjectText(parsing: bytes) }
        }
    }
}
