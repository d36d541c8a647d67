import Foundation
import Testing

@testable import TouchlogGenerator

@Suite struct ByteWritingTests {
    @Test func timestampsMatchFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var random = RandomSource(seed: 99)
        var samples: [Int64] = [0, 951_782_400, 951_868_800, 4_107_542_400, 253_402_300_799, -86_400]
        for _ in 0..<5000 { samples.append(Int64(random.below(8_000_000_000)) - 1_000_000_000) }
        for seconds in samples {
            var buffer: [UInt8] = []
            buffer.appendTimestamp(seconds * 1_000_000)
            let expected = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(String(decoding: buffer, as: UTF8.self) == expected, "\(seconds)")
        }
    }

    @Test func fractionsUseSixDigits() {
        var buffer: [UInt8] = []
        buffer.appendTimestamp(1_709_648_527_000_042)
        #expect(String(decoding: buffer, as: UTF8.self) == "2024-03-05T14:22:07.000042Z")
    }

    @Test(arguments: [
        (0, 1, "0"), (7, 4, "0007"), (123, 7, "0000123"), (12_345_678, 6, "12345678"),
        (Int.max, 1, "9223372036854775807"),
    ])
    func decimals(value: Int, width: Int, expected: String) {
        var buffer: [UInt8] = []
        buffer.appendDecimal(value, width: width)
        #expect(String(decoding: buffer, as: UTF8.self) == expected)
    }

    @Test(arguments: [(12990, "129.90"), (5, "0.05"), (100, "1.00"), (179_800, "1798.00")])
    func cents(value: Int, expected: String) {
        var buffer: [UInt8] = []
        buffer.appendCents(value)
        #expect(String(decoding: buffer, as: UTF8.self) == expected)
    }

    @Test func escapingRoundTripsThroughJSONSerialization() throws {
        let samples = ["plain", "quote \" and backslash \\", "tab\tnew\nline\r", "\u{01}\u{1F}", "Café – ☕️"]
        for sample in samples {
            var buffer = Array("[\"".utf8)
            buffer.appendJSONEscaped(sample)
            buffer.append(contentsOf: "\"]".utf8)
            let parsed = try JSONSerialization.jsonObject(with: Data(buffer)) as? [String]
            #expect(parsed == [sample])
        }
    }

    @Test func popularityTablePowerIsAccurate() {
        for (base, exponent) in [(1.0, 1.1), (11.0, 1.1), (1010.0, 1.1), (1e8, 1.1), (4.0, 0.6)] {
            let expected = Foundation.pow(base, -exponent)
            let actual = PopularityTable.power(base, -exponent)
            #expect(abs(actual - expected) <= expected * 1e-12, "\(base)^-\(exponent)")
        }
    }

    @Test func popularityTableFollowsItsWeights() {
        var setup = RandomSource(seed: 5)
        let table = PopularityTable(count: 6, exponent: 1.1, offset: 2, random: &setup)
        var random = RandomSource(seed: 6)
        var counts = [Int](repeating: 0, count: 6)
        let draws = 300_000
        for _ in 0..<draws { counts[table.pick(&random)] += 1 }
        let weights = (1...6).map { PopularityTable.power(Double($0) + 2, -1.1) }
        let total = weights.reduce(0, +)
        let observed = counts.sorted(by: >).map { Double($0) / Double(draws) }
        for (share, weight) in zip(observed, weights) {
            #expect(abs(share - weight / total) < 0.005, "\(observed) vs \(weights.map { $0 / total })")
        }
    }
}
