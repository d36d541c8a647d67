import Testing

@testable import CloudEvents

/// `JSONObjectMembers`: the top-level members of an object as byte ranges, checked as `JSONValue.parse`
/// checks them.
@Suite struct JSONObjectMembersTests {
    /// Each member as (key, value kind and text), read from `text`.
    private func members(_ json: String) throws -> [(String, String)] {
        try Array(json.utf8).withUnsafeBytes { raw in
            func text(_ range: Range<Int>) -> String { String(decoding: raw[range], as: UTF8.self) }
            var reader = try JSONObjectMembers(raw)
            var found: [(String, String)] = []
            while let member = try reader.next() {
                let value: String
                switch member.value {
                case .string(let range, let hasEscapes):
                    value = "string\(hasEscapes ? "\\" : "") " + text(range)
                case .number(let range): value = "number " + text(range)
                case .bool(let flag): value = "bool \(flag)"
                case .null: value = "null"
                case .container(let range): value = "container " + text(range)
                }
                found.append(((member.keyHasEscapes ? "\\" : "") + text(member.key), value))
            }
            return found
        }
    }

    @Test func readsEachMemberAsRangesOfTheText() throws {
        let found = try members(
            #" { "a" : "x", "b\u0041":-1.5e3,"c":true,"d":false,"e":null,"f":{"g":[1,{}]},"h":"q\"" } "#)
        #expect(found.map(\.0) == ["a", #"\b\u0041"#, "c", "d", "e", "f", "h"])
        #expect(
            found.map(\.1) == [
                "string x", "number -1.5e3", "bool true", "bool false", "null", #"container {"g":[1,{}]}"#,
                #"string\ q\""#,
            ])
        #expect(try members("{}").isEmpty)
    }

    @Test(arguments: [
        ("null", "expected an object"), ("[1]", "expected an object"), ("", "unexpected end of input"),
        (#"{"a":1,}"#, "trailing comma in object"), (#"{"a" 1}"#, "expected ':' after key"),
        (#"{"a":1} x"#, "unexpected data after the JSON value"),
        (#"{"a":01}"#, "invalid number: leading zeros are not allowed"),
        (#"{"a":{"b":1,"b":2}}"#, #"duplicate key "b""#), (#"{"a":1"#, "unexpected end of input"),
    ])
    func rejectsWhatTheParserRejects(text: String, reason: String) {
        let error = #expect(throws: JSONError.self) { try members(text) }
        #expect(error?.reason == reason, "\(text)")
    }
}
