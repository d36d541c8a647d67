import Testing

@testable import TouchlogProjections

/// The fold's faster helpers give exactly what the plain forms they replace give.
@Suite struct FoldHelperTests {
    @Test func utf8LessIsTheByteOrderOfUTF8() {
        let texts = [
            "", "a", "a\u{0}", "ab", "b", "B", "z", "ps:00fe", "ps:00ff", "ps:00ff0", "é", "e\u{301}", "e",
            "\u{FFFD}", "\u{10FFFF}", "日本", "日", String(repeating: "x", count: 40),
            String(repeating: "x", count: 39) + "y",
        ]
        for a in texts {
            for b in texts {
                #expect(utf8Less(a, b) == a.utf8.lexicographicallyPrecedes(b.utf8), "\(a) < \(b)")
            }
        }
    }

    @Test func nearestDoubleIsDoubleOfTheWholeValue() {
        var values: [Int128] = [
            0, 1, -1, Int128(Int64.max), Int128(Int64.min), Int128(Int64.max) + 1, Int128(Int64.min) - 1,
            (1 << 53) + 1, -(1 << 53) - 1, (1 << 64) + 1, Int128.max, Int128.min, (1 << 100) + 12_345,
        ]
        var random = SystemRandomNumberGenerator()
        for shift in 0..<127 { values.append(Int128(bitPattern: UInt128(random.next() as UInt64)) << shift) }
        for value in values { #expect(nearestDouble(value) == Double(value), "\(value)") }
    }
}
