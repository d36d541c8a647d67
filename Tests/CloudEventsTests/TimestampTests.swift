import Testing

@testable import CloudEvents

@Suite struct TimestampTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.000001Z", 1),
        ("2024-05-01T10:00:00Z", 1_714_557_600_000_000),
        ("2024-05-01T12:00:00.5+02:00", 1_714_557_600_500_000),
        ("2024-05-01t10:00:00z", 1_714_557_600_000_000),
        ("2024-05-01T05:30:00-04:30", 1_714_557_600_000_000),
        ("2024-05-01T10:00:00-00:00", 1_714_557_600_000_000),
        ("2024-05-01T10:00:00.123456789Z", 1_714_557_600_123_456),  // truncated, not rounded
        ("2024-05-01T10:00:00.1234569Z", 1_714_557_600_123_456),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000_000),  // leap day
        ("2000-02-29T00:00:00Z", 951_782_400_000_000),  // divisible by 400
        ("1969-12-31T23:59:59.5Z", -500_000),
        ("1900-01-01T00:00:00Z", -2_208_988_800_000_000),
        ("2016-12-31T23:59:60Z", 1_483_228_800_000_000),  // leap second: the next minute's first instant
        ("9999-12-31T23:59:59.999999Z", 253_402_300_799_999_999),
        ("0001-01-01T00:00:00Z", -62_135_596_800_000_000),
        ("2024-05-01T00:00:00+23:59", 1_714_435_260_000_000),
    ])
    func parses(text: String, micros: Int64) {
        #expect(Timestamp(rfc3339: text)?.microsecondsSinceEpoch == micros)
        #expect(Timestamp(rfc3339: text[...])?.microsecondsSinceEpoch == micros)
    }

    @Test(arguments: [
        "", "2024-05-01", "2024-05-01T10:00:00", "2024-05-01 10:00:00Z", "2024-13-01T00:00:00Z",
        "2024-00-01T00:00:00Z", "2024-01-00T00:00:00Z", "2024-01-32T00:00:00Z", "2023-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T10:60:00Z",
        "2024-05-01T10:00:61Z", "2024-05-01T10:00:00.Z", "2024-05-01T10:00:00+24:00",
        "2024-05-01T10:00:00+02:60",
        "2024-05-01T10:00:00+0200", "2024-05-01T10:00:00+02", "2024-05-01T10:00:00ZZ", "2024-5-01T10:00:00Z",
        "24-05-01T10:00:00Z", "2024-05-01T10:00:00,5Z", " 2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z ",
        "２024-05-01T10:00:00Z", "2024-05-01T1a:00:00Z", "+2024-05-01T10:00:00Z",
    ])
    func rejects(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    /// RFC 3339 section 5.7: a leap second is 23:59:60 UTC, whatever offset the text is written in.
    @Test(arguments: [
        ("2016-12-31T23:59:60Z", 1_483_228_800_000_000),
        ("2016-12-31T23:59:60.25Z", 1_483_228_800_250_000),
        ("2017-01-01T00:59:60+01:00", 1_483_228_800_000_000),
        ("2016-12-31T18:59:60-05:00", 1_483_228_800_000_000),
        ("2015-07-01T05:29:60+05:30", 1_435_708_800_000_000),
    ])
    func acceptsALeapSecondOnlyAtTheEndOfAUTCDay(text: String, micros: Int64) {
        #expect(Timestamp(rfc3339: text)?.microsecondsSinceEpoch == micros)
    }

    @Test(arguments: [
        "2024-05-01T10:00:60Z",  // not the last minute of the day
        "2016-12-31T22:59:60Z",
        "2016-12-31T23:58:60Z",
        "2016-12-31T23:59:60+01:00",  // 22:59:60 UTC
        "2017-01-01T00:59:60Z",
        "2016-12-31T23:59:60-00:01",  // 00:00:60 UTC
    ])
    func rejectsALeapSecondAnywhereElse(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    /// RFC 3339 writes four-digit years: an instant that normalises to UTC outside 0000-9999 is rejected,
    /// not wrapped to year 0000 when printed.
    @Test(arguments: [
        "9999-12-31T23:59:60Z", "9999-12-31T23:59:60.999999Z", "9999-12-31T23:59:60-00:00",
        "9999-12-31T23:30:00-00:30", "9999-12-31T20:59:60-03:00", "0000-01-01T00:00:00+00:01",
        "0000-01-01T00:59:59.999999+01:00",
    ])
    func rejectsTimesWhoseUTCYearIsNotFourDigits(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func theFirstAndLastFourDigitYearsRoundTrip() throws {
        for text in ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"] {
            let time = try #require(Timestamp(rfc3339: text))
            #expect(time.rfc3339 == text)
        }
        #expect(Timestamp(rfc3339: "0000-01-01T01:00:00+01:00")?.rfc3339 == "0000-01-01T00:00:00Z")
        #expect(Timestamp(rfc3339: "9999-12-31T22:59:59-01:00")?.rfc3339 == "9999-12-31T23:59:59Z")
    }

    @Test func aYearBeyond9999IsWrittenWhole() {
        #expect(Timestamp(microsecondsSinceEpoch: 253_402_300_800_000_000).rfc3339 == "10000-01-01T00:00:00Z")
    }

    @Test(
        arguments: [
            (0, "1970-01-01T00:00:00Z"),
            (1, "1970-01-01T00:00:00.000001Z"),
            (1_714_557_600_500_000, "2024-05-01T10:00:00.500000Z"),
            (1_714_557_600_123_456, "2024-05-01T10:00:00.123456Z"),
            (1_709_164_800_000_000, "2024-02-29T00:00:00Z"),
            (-500_000, "1969-12-31T23:59:59.500000Z"),
            (-1, "1969-12-31T23:59:59.999999Z"),
            (253_402_300_799_999_999, "9999-12-31T23:59:59.999999Z"),
        ] as [(Int64, String)])
    func formats(micros: Int64, text: String) {
        let t = Timestamp(microsecondsSinceEpoch: micros)
        #expect(t.rfc3339 == text)
        #expect(t.description == text)
        #expect(Timestamp(rfc3339: text) == t)
    }

    @Test func roundTripsEveryDayOfFourHundredYears() {
        // Every day 1900-2299 (covers all leap-year rules), at a varying time of day.
        var micros = Timestamp(rfc3339: "1900-01-01T00:00:00Z")!.microsecondsSinceEpoch
        let end = Timestamp(rfc3339: "2300-01-01T00:00:00Z")!.microsecondsSinceEpoch
        var k: Int64 = 0
        while micros < end {
            let t = Timestamp(microsecondsSinceEpoch: micros + (k * 1_234_567_891) % 86_400_000_000)
            #expect(Timestamp(rfc3339: t.rfc3339) == t)
            micros += 86_400_000_000
            k += 1
        }
    }

    @Test func orderingAndNow() {
        let a = Timestamp(rfc3339: "2024-05-01T10:00:00Z")!
        let b = Timestamp(rfc3339: "2024-05-01T11:00:00+02:00")!
        #expect(b < a)
        let now = Timestamp.now()
        #expect(now > Timestamp(rfc3339: "2024-01-01T00:00:00Z")!)
        #expect(now < Timestamp(rfc3339: "2200-01-01T00:00:00Z")!)
    }
}
