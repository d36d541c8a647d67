import Testing

@testable import TouchlogReport

@Suite struct HTMLTextTests {
    @Test(arguments: [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("a & b", "a &amp; b"),
        ("\"double\" 'single'", "&quot;double&quot; &#39;single&#39;"),
        ("&amp;", "&amp;amp;"),
        ("tab\tline\ncr\r", "tab\tline\ncr\r"),
        ("nul\u{0}esc\u{1B}[31mdel\u{7F}c1\u{85}", "nul\u{FFFD}esc\u{FFFD}[31mdel\u{FFFD}c1\u{FFFD}"),
        ("plain text, ünïcödé ✓", "plain text, ünïcödé ✓"),
    ])
    func escapes(_ input: String, _ expected: String) {
        #expect(HTMLText.escape(input) == expected)
    }

    @Test func escapedTextPassesTheChecker() {
        let hostile = "<script>x</script> <img src=x onerror=alert(1)> \"' & \u{1}"
        let page = "<p title=\"\(HTMLText.escape(hostile))\">\(HTMLText.escape(hostile))</p>"
        let check = HTMLCheck(page)
        #expect(check.problems.isEmpty, "\(check.problems)")
        #expect(check.counts == ["p": 1])
        // The checker does catch the same text unescaped.
        #expect(!HTMLCheck("<p>\(hostile)</p>").problems.isEmpty)
    }
}

@Suite struct CSVTextTests {
    @Test(arguments: [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "\"'\rx\""),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("two\nlines", "\"two\nlines\""),
        ("=1,2", "\"'=1,2\""),
        ("plain", "plain"),
        ("", ""),
        ("a=b", "a=b"),
    ])
    func field(_ input: String, _ expected: String) {
        #expect(CSVText.field(input) == expected)
    }

    @Test func recordEndsWithCRLF() {
        #expect(CSVText.record(["a", "b,c", "-d"]) == "a,\"b,c\",'-d\r\n")
    }
}
