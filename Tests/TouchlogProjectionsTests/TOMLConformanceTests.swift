import Foundation
import Testing

@testable import TouchlogProjections

/// TOML 1.0.0 conformance: documents written from the specification's rules (https://toml.io/en/v1.0.0),
/// named after the toml-test suite's categories. A valid document must parse to exactly the expected
/// tree; an invalid one must be rejected at the expected line and column with a message that says why.
@Suite struct TOMLConformanceTests {
    @Test(arguments: validCases)
    func validDocumentParsesToItsTree(_ test: ValidCase) throws {
        let document = try TOMLDocument(parsing: test.document)
        #expect(document.root == test.expected)
    }

    @Test(arguments: invalidCases)
    func invalidDocumentIsRejectedWhereItIsWrong(_ test: InvalidCase) {
        #expect {
            _ = try TOMLDocument(parsing: test.document)
        } throws: { error in
            guard let error = error as? TOMLError else { return false }
            let matches =
                error.line == test.line && error.column == test.column && error.message.contains(test.reason)
            if !matches { Issue.record("\(test.name): got \(error)") }
            return matches
        }
    }

    @Test func theTablesHaveEnoughCases() {
        #expect(validCases.count >= 60)
        #expect(invalidCases.count >= 60)
        #expect(Set(validCases.map(\.name)).count == validCases.count)
        #expect(Set(invalidCases.map(\.name)).count == invalidCases.count)
    }

    @Test func anErrorSaysLineAndColumn() {
        #expect(
            throws: TOMLError(
                line: 2, column: 5,
                message: "'01': a number cannot start with a zero (leading zeros are not allowed)")
        ) {
            try TOMLDocument(parsing: "a = 1\nb = 01")
        }
        #expect("\(TOMLError(line: 12, column: 7, message: "why"))" == "line 12, column 7: why")
    }

    @Test func entriesAreEveryNonTableValueInFileOrderWithTheirKeyPosition() throws {
        let document = try TOMLDocument(
            parsing: """
                top = 1
                [b]
                x = 2
                [a]
                inline = { y = 3, z.w = [4] }
                  dotted.key = "v"
                [[list]]
                n = 5
                [[list]]
                """)
        let entries = document.entries.map { ($0.path.joined(separator: "."), $0.line, $0.column) }
        #expect(entries.map(\.0) == ["top", "b.x", "a.inline.y", "a.inline.z.w", "a.dotted.key", "list"])
        #expect(entries.map(\.1) == [1, 3, 5, 5, 6, 7])
        #expect(entries.map(\.2) == [1, 1, 12, 19, 3, 1])
        #expect(document.entries.last?.value == .array([.table(["n": .integer(5)]), .table([:])]))
        #expect(document.tables.map(\.path) == [["b"], ["a"], ["list"], ["list"]])
        #expect(document.tables.map(\.line) == [2, 4, 7, 9])
    }

    @Test func aColumnCountsCharactersNotBytes() {
        #expect {
            try TOMLDocument(parsing: "\"ключ\" = 1 2")
        } throws: { error in
            (error as? TOMLError).map { $0.line == 1 && $0.column == 12 } ?? false
        }
    }

    @Test func textFromBytesRejectsInvalidUTF8AndKeepsValidText() throws {
        #expect(try TOMLDocument.text(utf8: Array("a = 'é'".utf8)) == "a = 'é'")
        #expect(
            throws: TOMLError(
                line: 2, column: 6,
                message: "the file is not valid UTF-8 (byte 0xFE here); TOML files are UTF-8")
        ) {
            try TOMLDocument.text(utf8: Array("a = 1\nb = '".utf8) + [0xFE, 0x27])
        }
    }

    // MARK: Rules

    /// The built-in rules text still reads as the rules it documents, value for value.
    @Test func theBuiltInRulesParseToTheRulesTheyDocument() throws {
        let rules = try Rules(toml: Rules.defaultText)
        // The values of Rules.defaultText, written in the canonical form by hand.
        let expected = """
            version = "1"
            half_life_days = 90.0

            [sla.urgent]
            first_reply_minutes = 60
            resolution_minutes = 480

            [sla.high]
            first_reply_minutes = 240
            resolution_minutes = 1440

            [sla.normal]
            first_reply_minutes = 480
            resolution_minutes = 4320

            [sla.low]
            first_reply_minutes = 1440
            resolution_minutes = 10080

            [loyalty]
            base = 50.0

            [loyalty.satisfaction]
            points = 25.0
            csat_weight = 1.0
            nps_weight = 1.5
            ces_weight = 0.5

            [loyalty.service]
            sla_points = 10.0
            reopen_penalty = 3.0
            escalation_penalty = 2.0
            effort_target = 2.0
            effort_penalty = 4.0
            floor = -30.0

            [loyalty.value]
            frequency_points = 2.0
            frequency_cap = 10.0
            monetary_points_per_100 = 1.0
            monetary_cap = 10.0
            refund_penalty = 3.0
            recency_points = 10.0
            recency_half_life_days = 30.0
            floor = -20.0

            [tiers]
            platinum = 80.0
            gold = 65.0
            silver = 50.0
            bronze = 35.0
            at_risk = 0.0

            """
        #expect(rules.canonicalText == expected)
        #expect(rules == Rules.default)
        #expect(try Rules(toml: rules.canonicalText) == rules)
    }

    /// The same rules written with TOML 1.0's other forms (inline tables, dotted keys, hexadecimal,
    /// CRLF) are the same rules, with the same hash.
    @Test func theBuiltInRulesWrittenInOtherTOMLFormsAreTheSameRules() throws {
        let text = """
            version = '''1'''
            half_life_days = 9e1
            sla.urgent = { first_reply_minutes = 0x3C, resolution_minutes = 480 }
            sla.high = { first_reply_minutes = 240, resolution_minutes = 1_440 }
            [sla.normal]
            first_reply_minutes = 480
            resolution_minutes = 4320
            [sla.low]
            first_reply_minutes = 1440
            resolution_minutes = 10080
            [loyalty]
            base = 50
            satisfaction = { points = 25.0, csat_weight = 1.0, nps_weight = 1.5, ces_weight = 0.5 }
            service.sla_points = 10.0
            service.reopen_penalty = 3.0
            service.escalation_penalty = 2.0
            service.effort_target = 2.0
            service.effort_penalty = 4.0
            service.floor = -30.0
            [loyalty.value]
            frequency_points = 2.0
            frequency_cap = 10.0
            monetary_points_per_100 = 1.0
            monetary_cap = 10.0
            refund_penalty = 3.0
            recency_points = 10.0
            recency_half_life_days = 30.0
            floor = -20.0
            [tiers]
            platinum = 80.0
            gold = 65.0
            silver = 50.0
            bronze = 35.0
            "at_risk" = 0.0
            """
        let rules = try Rules(toml: text.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(rules == Rules.default)
        #expect(rules.hashHex == Rules.default.hashHex)
    }

    @Test func aRulesFileWithATOMLErrorSaysLineAndColumn() {
        #expect(throws: RulesError(line: 3, column: 27, message: "an inline table cannot end with a comma")) {
            try Rules(toml: "version = '1'\nhalf_life_days = 90.0\nsla.low = { x = 1, y = 2, }\n")
        }
        #expect("\(RulesError(line: 3, column: 24, message: "why"))" == "line 3, column 24: why")
    }
}

// MARK: - The tables

struct ValidCase: Sendable, CustomTestStringConvertible {
    var name: String
    var document: [UInt8]
    var expected: TOMLDocument.Table
    var testDescription: String { name }
}

struct InvalidCase: Sendable, CustomTestStringConvertible {
    var name: String
    var document: [UInt8]
    var line: Int
    var column: Int
    /// Words the message must contain.
    var reason: String
    var testDescription: String { name }
}

private func valid(_ name: String, _ document: String, _ expected: TOMLDocument.Table) -> ValidCase {
    ValidCase(name: name, document: Array(document.utf8), expected: expected)
}

private func invalid(_ name: String, _ document: String, _ line: Int, _ column: Int, _ reason: String)
    -> InvalidCase
{
    InvalidCase(name: name, document: Array(document.utf8), line: line, column: column, reason: reason)
}

private func invalid(_ name: String, bytes: [UInt8], _ line: Int, _ column: Int, _ reason: String)
    -> InvalidCase
{
    InvalidCase(name: name, document: bytes, line: line, column: column, reason: reason)
}

private func date(_ year: Int, _ month: Int, _ day: Int) -> TOMLDocument.LocalDate {
    .init(year: year, month: month, day: day)
}

private func time(_ hour: Int, _ minute: Int, _ second: Int, _ nanosecond: Int = 0) -> TOMLDocument.LocalTime
{
    .init(hour: hour, minute: minute, second: second, nanosecond: nanosecond)
}

let validCases: [ValidCase] = [
    // Comments
    valid("comment/full-line-and-trailing", "# a comment\na = 1 # trailing\n# last", ["a": .integer(1)]),
    valid("comment/at-eof-without-newline", "a = 1 #no newline", ["a": .integer(1)]),
    valid("comment/hash-in-string", ##"a = "# not a comment" # comment"##, ["a": .string("# not a comment")]),
    valid("comment/non-ascii-and-tab", "#\tünïcødé ✓ 😀\na = true", ["a": .boolean(true)]),
    valid("empty-file", "", [:]),
    valid("empty-lines-whitespace-comments", "  \n\t# x\n\n   # y", [:]),
    // Keys
    valid(
        "key/bare-characters", "A-z_0-9 = 1\n1234 = 2\n-_- = 3",
        ["A-z_0-9": .integer(1), "1234": .integer(2), "-_-": .integer(3)]),
    valid(
        "key/quoted", "\"127.0.0.1\" = 1\n'key two' = 2\n\"ʎǝʞ\" = 3\n'quoted \"value\"' = 4",
        [
            "127.0.0.1": .integer(1), "key two": .integer(2), "ʎǝʞ": .integer(3),
            "quoted \"value\"": .integer(4),
        ]),
    valid("key/empty-quoted", "\"\" = 1\n'x'.'' = 2", ["": .integer(1), "x": .table(["": .integer(2)])]),
    valid("key/escapes-in-quoted", #""a\tb\u00e9" = 1"#, ["a\tbé": .integer(1)]),
    valid(
        "key/dotted-whitespace", "fruit . color = 'red'\nfruit. shape = 'round'\n  fruit .name='f'",
        ["fruit": .table(["color": .string("red"), "shape": .string("round"), "name": .string("f")])]),
    valid(
        "key/dotted-quoted-dot", #"site."google.com" = true"#,
        ["site": .table(["google.com": .boolean(true)])]),
    valid("key/numeric-dotted", "3.14159 = 'pi'", ["3": .table(["14159": .string("pi")])]),
    valid(
        "key/dotted-extends-its-tables",
        "fruit.apple.smooth = true\nfruit.orange = 2\nfruit.apple.color = 'red'",
        [
            "fruit": .table([
                "apple": .table(["smooth": .boolean(true), "color": .string("red")]), "orange": .integer(2),
            ])
        ]),
    valid("key/equals-without-spaces", "a=1\nb='x'", ["a": .integer(1), "b": .string("x")]),
    valid("key/case-sensitive", "a = 1\nA = 2", ["a": .integer(1), "A": .integer(2)]),
    valid(
        "key/keywords-as-keys", "true = 1\ninf = 2\nnan = 3\n0x1 = 4",
        ["true": .integer(1), "inf": .integer(2), "nan": .integer(3), "0x1": .integer(4)]),
    valid(
        "key/out-of-order-dotted", "apple.type = 'fruit'\norange.type = 'fruit'\napple.skin = 'thin'",
        [
            "apple": .table(["type": .string("fruit"), "skin": .string("thin")]),
            "orange": .table(["type": .string("fruit")]),
        ]),
    // Strings
    valid("string/escapes", #"a = "\b\t\n\f\r\"\\ end""#, ["a": .string("\u{08}\t\n\u{0C}\r\"\\ end")]),
    valid("string/unicode-escapes", #"a = "\u00E9\u00e9 \U0001F600 \u0000""#, ["a": .string("éé 😀 \u{0}")]),
    valid(
        "string/literal-has-no-escapes", #"a = 'C:\Users\nodejs\templates'"#,
        ["a": .string(#"C:\Users\nodejs\templates"#)]),
    valid("string/empty", "a = \"\"\nb = ''", ["a": .string(""), "b": .string("")]),
    valid("string/tab-allowed", "a = \"x\ty\"\nb = 'x\ty'", ["a": .string("x\ty"), "b": .string("x\ty")]),
    valid("string/non-ascii", "a = \"ʎǝʞ ✓ 😀\"", ["a": .string("ʎǝʞ ✓ 😀")]),
    valid(
        "string/multi-line-basic-drops-first-newline", "a = \"\"\"\nRoses are red\nViolets are blue\"\"\"",
        ["a": .string("Roses are red\nViolets are blue")]),
    valid(
        "string/multi-line-basic-line-ending-backslash",
        "a = \"\"\"\\\n   The quick \\\n\n  brown fox.\\\n   \"\"\"",
        ["a": .string("The quick brown fox.")]),
    valid(
        "string/multi-line-basic-backslash-then-spaces", "a = \"\"\"one \\   \n\t two\"\"\"",
        ["a": .string("one two")]),
    valid(
        "string/multi-line-basic-quotes-inside", #"a = """one "" two " three""""#,
        ["a": .string(#"one "" two " three"#)]),
    valid(
        "string/multi-line-basic-quotes-at-the-ends", "a = \"\"\"\"quoted\"\"\"\"\"",
        ["a": .string(#""quoted"""#)]),
    valid(
        "string/multi-line-basic-escaped-quotes", #"a = """three: ""\". end""""#,
        ["a": .string(#"three: """. end"#)]),
    valid(
        "string/multi-line-basic-escapes", "a = \"\"\"\\t\\u00E9\n\\\\\"\"\"", ["a": .string("\té\n\\")]),
    valid(
        "string/multi-line-literal", "a = '''\nI [dw]on't need \\d{2} apples\n  kept as is\n'''",
        ["a": .string("I [dw]on't need \\d{2} apples\n  kept as is\n")]),
    valid(
        "string/multi-line-literal-apostrophes", "a = ''''That,' she said, 'is still pointless.''''",
        ["a": .string("'That,' she said, 'is still pointless.'")]),
    valid(
        "string/multi-line-crlf-read-as-lf", "a = \"\"\"\r\nx\r\ny\"\"\"\r\nb = '''x\r\n'''",
        ["a": .string("x\ny"), "b": .string("x\n")]),
    valid("string/multi-line-empty", "a = \"\"\"\"\"\"\nb = ''''''", ["a": .string(""), "b": .string("")]),
    // Integers
    valid(
        "integer/decimal", "a = +99\nb = 42\nc = 0\nd = -17\ne = -0\nf = +0",
        [
            "a": .integer(99), "b": .integer(42), "c": .integer(0), "d": .integer(-17), "e": .integer(0),
            "f": .integer(0),
        ]),
    valid(
        "integer/underscores", "a = 1_000\nb = 5_349_221\nc = 53_49_221\nd = 1_2_3_4_5",
        ["a": .integer(1000), "b": .integer(5_349_221), "c": .integer(5_349_221), "d": .integer(12345)]),
    valid(
        "integer/hexadecimal-octal-binary",
        "a = 0xDEADBEEF\nb = 0xdead_beef\nc = 0o755\nd = 0b1101_0110\ne = 0o01234567",
        [
            "a": .integer(0xDEAD_BEEF), "b": .integer(0xDEAD_BEEF), "c": .integer(0o755),
            "d": .integer(0b1101_0110),
            "e": .integer(0o01234567),
        ]),
    valid(
        "integer/leading-zeros-after-prefix", "a = 0x00ff\nb = 0o0007\nc = 0b0001\nd = 0x0",
        ["a": .integer(255), "b": .integer(7), "c": .integer(1), "d": .integer(0)]),
    valid(
        "integer/64-bit-limits",
        "max = 9223372036854775807\nmin = -9223372036854775808\nhex = 0x7FFFFFFFFFFFFFFF",
        ["max": .integer(.max), "min": .integer(.min), "hex": .integer(.max)]),
    // Floats
    valid(
        "float/fraction", "a = +1.0\nb = 3.1415\nc = -0.01\nd = 0.1",
        ["a": .float(1), "b": .float(3.1415), "c": .float(-0.01), "d": .float(0.1)]),
    valid(
        "float/exponent", "a = 5e+22\nb = 1e06\nc = -2E-2\nd = 6.626e-34\ne = 0e0\nf = 1e-06",
        [
            "a": .float(5e22), "b": .float(1e6), "c": .float(-0.02), "d": .float(6.626e-34), "e": .float(0),
            "f": .float(1e-6),
        ]),
    valid(
        "float/underscores", "a = 224_617.445_991_228\nb = 1_0.5e1_0",
        ["a": .float(224_617.445_991_228), "b": .float(10.5e10)]),
    valid(
        "float/inf-and-nan", "a = inf\nb = +inf\nc = -inf\nd = nan\ne = +nan\nf = -nan",
        [
            "a": .float(.infinity), "b": .float(.infinity), "c": .float(-.infinity), "d": .float(.nan),
            "e": .float(.nan), "f": .float(.nan),
        ]),
    valid(
        "float/signed-zero", "a = -0.0\nb = +0.0\nc = 0.0",
        ["a": .float(-0.0), "b": .float(0.0), "c": .float(0.0)]),
    valid(
        "float/limits", "a = 1.7976931348623157e308\nb = 5e-324\nc = 1e-400",
        ["a": .float(.greatestFiniteMagnitude), "b": .float(.leastNonzeroMagnitude), "c": .float(0)]),
    // Booleans
    valid(
        "bool/true-and-false", "t = true\nf = false\nl = [true,false]",
        ["t": .boolean(true), "f": .boolean(false), "l": .array([.boolean(true), .boolean(false)])]),
    // Dates and times
    valid(
        "datetime/offset",
        "a = 1979-05-27T07:32:00Z\nb = 1979-05-27T00:32:00-07:00\nc = 1979-05-27T00:32:00.999999+05:30",
        [
            "a": .offsetDateTime(.init(date: date(1979, 5, 27), time: time(7, 32, 0), offsetMinutes: 0)),
            "b": .offsetDateTime(.init(date: date(1979, 5, 27), time: time(0, 32, 0), offsetMinutes: -420)),
            "c": .offsetDateTime(
                .init(date: date(1979, 5, 27), time: time(0, 32, 0, 999_999_000), offsetMinutes: 330)),
        ]),
    valid(
        "datetime/space-and-lower-case-delimiters",
        "a = 1979-05-27 07:32:00Z\nb = 1979-05-27t07:32:00z\nc = 1979-05-27 07:32:00",
        [
            "a": .offsetDateTime(.init(date: date(1979, 5, 27), time: time(7, 32, 0), offsetMinutes: 0)),
            "b": .offsetDateTime(.init(date: date(1979, 5, 27), time: time(7, 32, 0), offsetMinutes: 0)),
            "c": .localDateTime(.init(date: date(1979, 5, 27), time: time(7, 32, 0))),
        ]),
    valid(
        "local-datetime/with-and-without-fraction", "a = 1979-05-27T07:32:00\nb = 1979-05-27T00:32:00.5",
        [
            "a": .localDateTime(.init(date: date(1979, 5, 27), time: time(7, 32, 0))),
            "b": .localDateTime(.init(date: date(1979, 5, 27), time: time(0, 32, 0, 500_000_000))),
        ]),
    valid(
        "local-date/leap-years", "a = 1979-05-27\nb = 2000-02-29\nc = 2024-02-29\nd = 0000-01-01 # a comment",
        [
            "a": .localDate(date(1979, 5, 27)), "b": .localDate(date(2000, 2, 29)),
            "c": .localDate(date(2024, 2, 29)), "d": .localDate(date(0, 1, 1)),
        ]),
    valid(
        "local-time/with-fraction", "a = 07:32:00\nb = 00:32:00.999999\nc = 23:59:59.1",
        [
            "a": .localTime(time(7, 32, 0)), "b": .localTime(time(0, 32, 0, 999_999_000)),
            "c": .localTime(time(23, 59, 59, 100_000_000)),
        ]),
    valid(
        "datetime/fraction-truncated-to-nanoseconds", "a = 00:00:00.1234567899",
        ["a": .localTime(time(0, 0, 0, 123_456_789))]),
    valid(
        "datetime/leap-second", "a = 1990-12-31T23:59:60Z",
        ["a": .offsetDateTime(.init(date: date(1990, 12, 31), time: time(23, 59, 60), offsetMinutes: 0))]),
    valid(
        "datetime/in-array", "a = [1979-05-27 07:32:00, 07:32:00,1979-05-27]",
        [
            "a": .array([
                .localDateTime(.init(date: date(1979, 5, 27), time: time(7, 32, 0))),
                .localTime(time(7, 32, 0)),
                .localDate(date(1979, 5, 27)),
            ])
        ]),
    // Arrays
    valid(
        "array/mixed-types", #"a = [1, "two", 3.0, true, 1979-05-27, [4], {x = 5}]"#,
        [
            "a": .array([
                .integer(1), .string("two"), .float(3), .boolean(true), .localDate(date(1979, 5, 27)),
                .array([.integer(4)]),
                .table(["x": .integer(5)]),
            ])
        ]),
    valid(
        "array/newlines-comments-trailing-comma",
        "a = [\n  1, # one\n  # between\n  2\n  ,\n]\nb = [ 1, 2, ]",
        ["a": .array([.integer(1), .integer(2)]), "b": .array([.integer(1), .integer(2)])]),
    valid(
        "array/nested", "a = [[1, 2], [[3]], [], [\"a\", ['b']]]",
        [
            "a": .array([
                .array([.integer(1), .integer(2)]), .array([.array([.integer(3)])]), .array([]),
                .array([.string("a"), .array([.string("b")])]),
            ])
        ]),
    valid("array/empty-with-comment", "a = [ # nothing\n]\nb = []", ["a": .array([]), "b": .array([])]),
    valid(
        "array/strings-of-every-kind",
        #"a = [ "all", 'strings', """are the same""", '''type''', "with, comma" ]"#,
        [
            "a": .array([
                .string("all"), .string("strings"), .string("are the same"), .string("type"),
                .string("with, comma"),
            ])
        ]),
    valid(
        "array/no-spaces", "a=[1,2,[3]]", ["a": .array([.integer(1), .integer(2), .array([.integer(3)])])]),
    // Inline tables
    valid(
        "inline-table/basic", #"name = { first = "Tom", last = "Preston-Werner" }"#,
        ["name": .table(["first": .string("Tom"), "last": .string("Preston-Werner")])]),
    valid(
        "inline-table/empty-and-nested", "a = {}\nb = { c = { d = 1 } }",
        ["a": .table([:]), "b": .table(["c": .table(["d": .integer(1)])])]),
    valid(
        "inline-table/dotted-keys", #"animal = { type.name = "pug", type.age = 3 }"#,
        ["animal": .table(["type": .table(["name": .string("pug"), "age": .integer(3)])])]),
    valid(
        "inline-table/value-may-span-lines", "a = { b = [\n 1, # one\n 2\n], c = \"\"\"x\ny\"\"\" }",
        ["a": .table(["b": .array([.integer(1), .integer(2)]), "c": .string("x\ny")])]),
    valid(
        "inline-table/in-array", "points = [ { x = 1, y = 2 },\n           { x = 7, y = 8 } ]",
        [
            "points": .array([
                .table(["x": .integer(1), "y": .integer(2)]), .table(["x": .integer(7), "y": .integer(8)]),
            ])
        ]),
    valid("inline-table/no-spaces", "a={b=1,c='x'}", ["a": .table(["b": .integer(1), "c": .string("x")])]),
    valid(
        "inline-table/under-a-header", "[a]\nb = { c = 1 }", ["a": .table(["b": .table(["c": .integer(1)])])]),
    // Tables
    valid(
        "table/names", "[table-1]\nkey = 1\n[dog.\"tater.man\"]\ntype.name = 'pug'\n['j'.\"ʞ\".l]",
        [
            "table-1": .table(["key": .integer(1)]),
            "dog": .table(["tater.man": .table(["type": .table(["name": .string("pug")])])]),
            "j": .table(["ʞ": .table(["l": .table([:])])]),
        ]),
    valid(
        "table/whitespace-in-header", "[ a . b . 'c' ]  # comment\nx = 1",
        ["a": .table(["b": .table(["c": .table(["x": .integer(1)])])])]),
    valid(
        "table/super-table-after-sub-table", "[x.y.z.w]\na = 1\n[x]\nb = 2",
        ["x": .table(["y": .table(["z": .table(["w": .table(["a": .integer(1)])])]), "b": .integer(2)])]),
    valid(
        "table/sub-table-of-dotted-keys",
        "[fruit]\napple.color = 'red'\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true",
        [
            "fruit": .table([
                "apple": .table([
                    "color": .string("red"), "taste": .table(["sweet": .boolean(true)]),
                    "texture": .table(["smooth": .boolean(true)]),
                ])
            ])
        ]),
    valid(
        "table/empty", "[a]\n[b.c]\n[d]",
        ["a": .table([:]), "b": .table(["c": .table([:])]), "d": .table([:])]),
    valid(
        "table/implicit-table-takes-dotted-keys", "[a.b.c]\nz = 1\n[a]\nb.d = 2",
        ["a": .table(["b": .table(["c": .table(["z": .integer(1)]), "d": .integer(2)])])]),
    valid(
        "table/out-of-order", "[fruit.apple]\n[animal]\n[fruit.orange]",
        ["fruit": .table(["apple": .table([:]), "orange": .table([:])]), "animal": .table([:])]),
    valid("table/without-newline-at-end", "[a]", ["a": .table([:])]),
    // Arrays of tables
    valid(
        "array-of-tables/basic",
        "[[products]]\nname = 'Hammer'\nsku = 738594937\n\n[[products]]\n\n[[products]]\nname = 'Nail'",
        [
            "products": .array([
                .table(["name": .string("Hammer"), "sku": .integer(738_594_937)]), .table([:]),
                .table(["name": .string("Nail")]),
            ])
        ]),
    valid(
        "array-of-tables/nested-and-sub-tables",
        """
        [[fruits]]
        name = "apple"
        [fruits.physical]
        color = "red"
        [[fruits.varieties]]
        name = "red delicious"
        [[fruits.varieties]]
        name = "granny smith"
        [[fruits]]
        name = "banana"
        [[fruits.varieties]]
        name = "plantain"
        """,
        [
            "fruits": .array([
                .table([
                    "name": .string("apple"), "physical": .table(["color": .string("red")]),
                    "varieties": .array([
                        .table(["name": .string("red delicious")]), .table(["name": .string("granny smith")]),
                    ]),
                ]),
                .table([
                    "name": .string("banana"), "varieties": .array([.table(["name": .string("plantain")])]),
                ]),
            ])
        ]),
    valid(
        "array-of-tables/implicit-parent-defined-after", "[[a.b]]\nx = 1\n[a]\ny = 2",
        ["a": .table(["b": .array([.table(["x": .integer(1)])]), "y": .integer(2)])]),
    valid(
        "array-of-tables/dotted-keys-in-element", "[[a]]\nb.c = 1\n[[a]]\nb.c = 2",
        ["a": .array([.table(["b": .table(["c": .integer(1)])]), .table(["b": .table(["c": .integer(2)])])])]),
    // Line endings
    valid(
        "newline/crlf", "a = 1\r\n[t]\r\nb = 'x' # comment\r\n\r\nc = [\r\n1,\r\n]\r\n",
        ["a": .integer(1), "t": .table(["b": .string("x"), "c": .array([.integer(1)])])]),
    // The specification's first example
    valid(
        "spec/example",
        """
        # This is a TOML document

        title = "TOML Example"

        [owner]
        name = "Tom Preston-Werner"
        dob = 1979-05-27T07:32:00-08:00

        [database]
        enabled = true
        ports = [ 8000, 8001, 8002 ]
        data = [ ["delta", "phi"], [3.14] ]
        temp_targets = { cpu = 79.5, case = 72.0 }

        [servers]

        [servers.alpha]
        ip = "10.0.0.1"
        role = "frontend"
        """,
        [
            "title": .string("TOML Example"),
            "owner": .table([
                "name": .string("Tom Preston-Werner"),
                "dob": .offsetDateTime(
                    .init(date: date(1979, 5, 27), time: time(7, 32, 0), offsetMinutes: -480)),
            ]),
            "database": .table([
                "enabled": .boolean(true), "ports": .array([.integer(8000), .integer(8001), .integer(8002)]),
                "data": .array([.array([.string("delta"), .string("phi")]), .array([.float(3.14)])]),
                "temp_targets": .table(["cpu": .float(79.5), "case": .float(72)]),
            ]),
            "servers": .table(["alpha": .table(["ip": .string("10.0.0.1"), "role": .string("frontend")])]),
        ]),
]

let invalidCases: [InvalidCase] = [
    // Encoding
    invalid(
        "encoding/byte-order-mark", bytes: [0xEF, 0xBB, 0xBF] + Array("a = 1".utf8), 1, 1, "byte order mark"),
    invalid(
        "encoding/bad-byte-in-string", bytes: Array("a = \"x".utf8) + [0xFF] + Array("\"".utf8), 1, 7,
        "not valid UTF-8"),
    invalid(
        "encoding/truncated-sequence-in-comment", bytes: Array("a = 1\n# ".utf8) + [0xC3], 2, 3,
        "not valid UTF-8"),
    invalid(
        "encoding/overlong", bytes: Array("a = '".utf8) + [0xC0, 0xAF] + Array("'".utf8), 1, 6,
        "not valid UTF-8"),
    invalid(
        "encoding/encoded-surrogate", bytes: Array("a = '".utf8) + [0xED, 0xA0, 0x80] + Array("'".utf8), 1, 6,
        "not valid UTF-8"),
    invalid("encoding/utf16", bytes: [0xFF, 0xFE, 0x61, 0x00], 1, 1, "not valid UTF-8"),
    // Control characters
    invalid("control/null-in-string", "a = \"x\u{0}y\"", 1, 7, "U+0000 is not allowed in a string"),
    invalid("control/del-in-literal-string", "a = 'x\u{7F}'", 1, 7, "U+007F"),
    invalid("control/unit-separator-in-multi-line-string", "a = \"\"\"x\u{1F}\"\"\"", 1, 9, "U+001F"),
    invalid("control/backspace-in-multi-line-literal", "a = '''\u{08}'''", 1, 8, "U+0008"),
    invalid("control/del-in-comment", "a = 1 # \u{7F}", 1, 9, "U+007F is not allowed in a comment"),
    invalid("control/bare-cr-in-comment", "# a\rb\na = 1", 1, 4, "U+000D is not allowed in a comment"),
    invalid("control/bare-cr-line-ending", "a = 1\rb = 2", 1, 6, "carriage return"),
    invalid("control/bare-cr-in-multi-line-string", "a = '''x\ry'''", 1, 9, "carriage return"),
    invalid("control/form-feed-after-value", "a = 1\u{0C}", 1, 6, "expected the end of the line"),
    invalid("control/newline-in-basic-string", "a = \"x\ny\"", 1, 5, "no closing '\"' on its line"),
    // Keys
    invalid("key/missing", "= 1", 1, 1, "a key is missing before '='"),
    invalid("key/no-equals", "a 1", 1, 3, "expected '=' after the key 'a', found '1'"),
    invalid(
        "key/newline-before-equals", "a\n= 1", 1, 2,
        "expected '=' after the key 'a', found the end of the line"),
    invalid("key/without-value", "a =", 1, 4, "expected a value, found the end of the file"),
    invalid("key/without-value-before-comment", "a = # nothing", 1, 5, "expected a value"),
    invalid("key/two-pairs-on-one-line", "first = 'Tom' last = 'P'", 1, 15, "expected the end of the line"),
    invalid("key/bare-invalid-character", "a$b = 1", 1, 2, "expected '=' after the key 'a', found '$'"),
    invalid("key/non-ascii-bare", "é = 1", 1, 1, "expected a key"),
    invalid("key/multi-line-string", "\"\"\"a\"\"\" = 1", 1, 1, "multi-line"),
    invalid(
        "key/duplicate", "name = 'Tom'\nname = 'Pradyun'", 2, 1, "'name' is defined twice (first on line 1)"),
    invalid("key/duplicate-bare-and-quoted", "spelling = 1\n\"spelling\" = 2", 2, 1, "defined twice"),
    invalid("key/duplicate-in-table", "[a]\nb = 1\n'b' = 2", 3, 1, "'a.b' is defined twice"),
    invalid(
        "key/dotted-through-a-value", "fruit.apple = 1\nfruit.apple.smooth = true", 2, 7,
        "'fruit.apple' is already a value (on line 1)"),
    invalid("key/value-over-dotted-table", "a.b = 1\na = 2", 2, 1, "'a' is defined twice"),
    invalid("key/trailing-dot", "a. = 1", 1, 4, "expected a key"),
    invalid("key/leading-dot", ".a = 1", 1, 1, "expected a key"),
    invalid("key/unclosed-quote", "\"a = 1", 1, 1, "no closing"),
    invalid("key/after-value-in-array", "a = [1]b = 2", 1, 8, "expected the end of the line"),
    // Strings
    invalid("string/unknown-escape", #"a = "\x41""#, 1, 6, #"'\x' is not an escape"#),
    invalid("string/slash-escape", #"a = "\/""#, 1, 6, "is not an escape"),
    invalid("string/short-unicode-escape", #"a = "\u12""#, 1, 6, "4 hexadecimal digits"),
    invalid("string/surrogate-escape", #"a = "\uD800""#, 1, 6, "not a Unicode scalar value"),
    invalid("string/escape-above-10FFFF", #"a = "\U00110000""#, 1, 6, "not a Unicode scalar value"),
    invalid("string/escaped-newline-in-basic-string", "a = \"x\\\ny\"", 1, 7, "is not an escape"),
    invalid("string/unclosed-basic", "a = \"abc\nb = 1", 1, 5, "no closing"),
    invalid("string/unclosed-literal", "a = 'abc", 1, 5, "no closing"),
    invalid("string/unclosed-multi-line-basic", "a = \"\"\"abc\n\n", 1, 5, "no closing '\"\"\"'"),
    invalid("string/unclosed-multi-line-literal", "a = '''abc\nb = 1", 1, 5, "no closing"),
    invalid(
        "string/six-quotes-in-multi-line-basic", "a = \"\"\"x\"\"\"\"\"\"", 1, 14,
        "three quotation marks in a row"),
    invalid(
        "string/six-apostrophes-in-multi-line-literal", "a = '''x''''''", 1, 14, "three apostrophes in a row"),
    invalid("string/backslash-space-not-at-end-of-line", "a = \"\"\"x\\  y\"\"\"", 1, 9, "must end its line"),
    invalid("string/two-strings", #"a = "x" "y""#, 1, 9, "expected the end of the line"),
    invalid("string/unquoted", "a = hello", 1, 5, "'hello' is not a value"),
    // Integers
    invalid("integer/leading-zero", "a = 012", 1, 5, "leading zeros"),
    invalid("integer/leading-zero-with-sign", "a = -01", 1, 5, "leading zeros"),
    invalid("integer/double-underscore", "a = 1__000", 1, 6, "underscore"),
    invalid("integer/trailing-underscore", "a = 1_", 1, 6, "underscore"),
    invalid("integer/leading-underscore", "a = _1", 1, 5, "underscore"),
    invalid("integer/overflow", "a = 9223372036854775808", 1, 5, "does not fit in a 64-bit integer"),
    invalid(
        "integer/negative-overflow", "a = -9223372036854775809", 1, 5, "does not fit in a 64-bit integer"),
    invalid(
        "integer/hexadecimal-overflow", "a = 0x8000000000000000", 1, 5, "does not fit in a 64-bit integer"),
    invalid("integer/signed-hexadecimal", "a = +0x10", 1, 5, "cannot have a sign"),
    invalid("integer/negative-binary", "a = -0b1", 1, 5, "cannot have a sign"),
    invalid("integer/capital-prefix", "a = 0X10", 1, 5, "is not a value"),
    invalid("integer/octal-digit-8", "a = 0o78", 1, 8, "'8' is not an octal digit"),
    invalid("integer/binary-digit-2", "a = 0b102", 1, 9, "'2' is not a binary digit"),
    invalid("integer/prefix-without-digits", "a = 0x", 1, 5, "has no digits"),
    invalid("integer/underscore-after-prefix", "a = 0x_1", 1, 7, "underscore"),
    invalid("integer/double-sign", "a = +-1", 1, 5, "is not a value"),
    // Floats
    invalid("float/leading-point", "a = .7", 1, 5, "is not a value"),
    invalid("float/trailing-point", "a = 7.", 1, 6, "decimal point must have a digit on each side"),
    invalid("float/point-before-exponent", "a = 3.e+20", 1, 6, "decimal point"),
    invalid("float/exponent-without-digits", "a = 1e+", 1, 6, "exponent must have digits"),
    invalid("float/leading-zero", "a = 03.14", 1, 5, "leading zeros"),
    invalid("float/underscore-before-point", "a = 1_.5", 1, 6, "underscore"),
    invalid("float/underscore-after-exponent", "a = 1e_5", 1, 7, "underscore"),
    invalid("float/double-point", "a = 1.2.3", 1, 5, "is not a value"),
    invalid("float/exponent-before-point", "a = 1e2.5", 1, 5, "is not a value"),
    invalid("float/capital-inf", "a = Inf", 1, 5, "is not a value"),
    invalid("float/nan-with-suffix", "a = nan_", 1, 5, "is not a value"),
    invalid("float/too-large", "a = 1e400", 1, 5, "too large for a 64-bit float"),
    // Booleans
    invalid("bool/capitalised", "a = True", 1, 5, "'True' is not a value"),
    invalid("bool/with-suffix", "a = truely", 1, 5, "is not a value"),
    // Dates and times
    invalid("datetime/month-13", "a = 1979-13-01", 1, 10, "month 13 does not exist"),
    invalid("datetime/february-29-of-a-common-year", "a = 2023-02-29", 1, 13, "day 29 does not exist"),
    invalid("datetime/february-29-of-1900", "a = 1900-02-29T00:00:00Z", 1, 13, "day 29"),
    invalid("datetime/april-31", "a = 2024-04-31", 1, 13, "day 31"),
    invalid("datetime/day-0", "a = 2024-01-00", 1, 13, "day 0"),
    invalid("datetime/hour-24", "a = 1979-05-27T24:00:00", 1, 16, "hour 24"),
    invalid("datetime/minute-60", "a = 1979-05-27T23:60:00", 1, 19, "minute 60"),
    invalid("datetime/second-61", "a = 07:32:61", 1, 11, "second 61"),
    invalid("datetime/no-seconds", "a = 1979-05-27T07:32Z", 1, 16, "HH:MM:SS"),
    invalid("datetime/month-without-leading-zero", "a = 1979-5-27", 1, 5, "is not a date"),
    invalid("datetime/hour-without-leading-zero", "a = 1979-05-27T7:32:00", 1, 16, "HH:MM:SS"),
    invalid("datetime/bad-delimiter", "a = 1979-05-27X07:32:00", 1, 15, "'T' or a space"),
    invalid("datetime/trailing-t", "a = 1979-05-27T", 1, 16, "HH:MM:SS"),
    invalid("datetime/offset-without-leading-zero", "a = 1979-05-27T07:32:00+7:00", 1, 24, "offset"),
    invalid("datetime/offset-hour-24", "a = 1979-05-27T07:32:00+24:00", 1, 24, "out of range"),
    invalid("local-time/with-offset", "a = 07:32:00Z", 1, 13, "cannot have an offset"),
    invalid("local-time/fraction-without-digits", "a = 07:32:00.", 1, 13, "at least one digit"),
    invalid("local-time/no-seconds", "a = 07:32", 1, 5, "HH:MM:SS"),
    // Arrays
    invalid("array/unclosed", "a = [1, 2", 1, 5, "no closing ']'"),
    invalid("array/unclosed-over-lines", "a = [\n1,\n", 1, 5, "no closing ']'"),
    invalid("array/missing-comma", "a = [1 2]", 1, 8, "expected ',' or ']'"),
    invalid("array/double-comma", "a = [1,,2]", 1, 8, "expected a value or ']'"),
    invalid("array/only-comma", "a = [,]", 1, 6, "expected a value or ']'"),
    invalid("array/table-inside", "a = [[b]\n]", 1, 7, "'b' is not a value"),
    invalid(
        "array/too-deep", "a = " + String(repeating: "[", count: 150), 1, 105, "nested more than 100 deep"),
    invalid(
        "key/too-deep", "[a]\n" + Array(repeating: "b", count: 150).joined(separator: ".") + " = 1", 2, 199,
        "nested more than 100 tables deep"),
    invalid(
        "table/too-deep", "[" + Array(repeating: "b", count: 101).joined(separator: ".") + "]", 1, 202,
        "nested more than 100 tables deep"),
    // Inline tables
    invalid("inline-table/trailing-comma", "a = {b = 1,}", 1, 12, "cannot end with a comma"),
    invalid("inline-table/newline", "a = {b = 1,\nc = 2}", 1, 12, "must be on one line"),
    invalid("inline-table/newline-before-close", "a = {b = 1\n}", 1, 11, "must be on one line"),
    invalid("inline-table/missing-comma", "a = {b = 1 c = 2}", 1, 12, "expected ',' or '}'"),
    invalid(
        "inline-table/double-comma", "a = {b = 1,,c = 2}", 1, 12,
        "expected a key in the inline table, found ','"),
    invalid("inline-table/duplicate-key", "a = {b = 1, b = 2}", 1, 13, "'a.b' is defined twice"),
    invalid("inline-table/unclosed", "a = {b = 1", 1, 5, "no closing '}'"),
    invalid("inline-table/comment-inside", "a = {b = 1 # c\n}", 1, 12, "expected ',' or '}'"),
    invalid(
        "inline-table/extended-by-dotted-keys", "[product]\ntype = { name = 'Nail' }\ntype.edible = false", 3,
        1, "'product.type' is an inline table (on line 2)"),
    invalid("inline-table/extended-by-sub-table", "a = {b = 1}\n[a.c]", 2, 2, "'a' is an inline table"),
    invalid("inline-table/redefined-by-header", "a = {}\n[a]", 2, 2, "'a' is an inline table"),
    invalid(
        "inline-table/over-dotted-table", "[product]\ntype.name = 'Nail'\ntype = { edible = false }", 3, 1,
        "'product.type' is defined twice"),
    invalid(
        "inline-table/nested-inline-extended", "a = { b = { c = 1 }, b.d = 2 }", 1, 22,
        "'a.b' is an inline table"),
    invalid(
        "inline-table/array-of-tables-into-inline", "a = { b = [] }\n[[a.b]]", 2, 3, "'a' is an inline table"),
    // Tables
    invalid(
        "table/duplicate", "[fruit]\napple = 'red'\n[fruit]\norange = 'o'", 3, 2,
        "table [fruit] is defined twice (first on line 1)"),
    invalid(
        "table/over-a-key", "[fruit]\napple = 'red'\n[fruit.apple]", 3, 8,
        "'fruit.apple' is already a value (on line 2)"),
    invalid(
        "table/over-dotted-keys", "[fruit]\napple.color = 'red'\n[fruit.apple]", 3, 8,
        "already defined by dotted keys"),
    invalid(
        "table/over-nested-dotted-keys", "[fruit]\napple.taste.sweet = true\n[fruit.apple.taste]", 3, 14,
        "already defined by dotted keys"),
    invalid(
        "table/dotted-keys-into-header-table", "[a.b.c]\nz = 1\n[a]\nb.c.t = 2", 4, 3,
        "table [a.b.c] is defined by its header (on line 1)"),
    invalid("table/root-key-over-header-table", "a.b = 1\n[a]", 2, 2, "already defined by dotted keys"),
    invalid("table/empty-name", "[]", 1, 2, "expected a key"),
    invalid("table/unclosed", "[a\nb = 1", 1, 3, "expected ']' to close the header [a]"),
    invalid(
        "table/text-after-header", "[a] b = 1", 1, 5, "expected the end of the line after the table header"),
    invalid("table/through-a-value", "a = 1\n[a.b]", 2, 2, "'a' is already a value"),
    invalid("table/through-a-static-array", "a = [{ b = 1 }]\n[a.c]", 2, 2, "'a' is already a value"),
    invalid("table/nested-brackets", "[a[b]]", 1, 3, "expected ']' to close"),
    // Arrays of tables
    invalid(
        "array-of-tables/append-to-static-array", "fruits = []\n[[fruits]]", 2, 3,
        "can only add to an array of tables"),
    invalid(
        "array-of-tables/after-table", "[a]\n[[a]]", 2, 3,
        "'a' is a table (on line 1), not an array of tables"),
    invalid(
        "array-of-tables/table-after-it", "[[a]]\n[a]", 2, 2,
        "'a' is an array of tables (on line 1), not a table"),
    invalid(
        "array-of-tables/parent-implied-a-table", "[[albums.songs]]\n[[albums]]", 2, 3, "'albums' is a table"),
    invalid(
        "array-of-tables/table-over-nested-array", "[[fruits]]\n[[fruits.varieties]]\n[fruits.varieties]", 3,
        9,
        "'fruits.varieties' is an array of tables"),
    invalid(
        "array-of-tables/array-over-sub-table", "[[fruits]]\n[fruits.physical]\n[[fruits.physical]]", 3, 10,
        "'fruits.physical' is a table"),
    invalid(
        "array-of-tables/dotted-keys-append", "[[a.b]]\n[a]\nb.y = 2", 3, 1, "'a.b' is an array of tables"),
    invalid("array-of-tables/unclosed", "[[a]\nb = 1", 1, 4, "expected ']]'"),
    invalid("array-of-tables/space-between-brackets", "[ [a]]", 1, 3, "expected a key"),
]
