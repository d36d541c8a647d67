#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A point in time with microsecond precision (UTC), as used for CloudEvents `time` and the
/// log's recorded time.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var microsecondsSinceEpoch: Int64

    public init(microsecondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    /// The current wall-clock time (`clock_gettime(CLOCK_REALTIME)`).
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(microsecondsSinceEpoch: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000)
    }

    /// Parses an RFC 3339 `date-time`: "2024-05-01T10:00:00Z", "2024-05-01T12:00:00.5+02:00".
    ///
    /// Lower-case `t` and `z` are accepted (RFC 3339 section 5.6, note). Fractions beyond
    /// microseconds are truncated. Months, days (with leap years), hours 0-23, minutes 0-59,
    /// seconds 0-60 and offsets (hours 0-23, minutes 0-59) are range-checked. `-00:00` means UTC.
    ///
    /// A leap second (`:60`) is accepted only where one can occur: at 23:59:60 UTC once the offset is
    /// applied ("2016-12-31T23:59:60Z", "2017-01-01T00:59:60+01:00"; RFC 3339 section 5.7), and is
    /// counted as the first instant of the next minute, since the timeline here (like POSIX time) has
    /// no leap seconds. An instant whose UTC form falls outside the years 0000-9999, which RFC 3339
    /// cannot write ("9999-12-31T23:59:60Z", "0000-01-01T00:00:00+01:00"), is rejected rather than
    /// printed with a wrong year.
    /// Returns `nil` if the text is not a valid RFC 3339 date-time.
    public init?(rfc3339 text: some StringProtocol) {
        var text = String(text)
        let parsed = text.withUTF8 { Self.parse($0) }
        guard let parsed else { return nil }
        self.init(microsecondsSinceEpoch: parsed)
    }

    /// Parses RFC 3339 bytes into microseconds since the epoch, or `nil`.
    static func parse(_ p: UnsafeBufferPointer<UInt8>) -> Int64? {
        let n = p.count
        // YYYY-MM-DDTHH:MM:SS is 19 bytes; the shortest valid form adds "Z".
        guard n >= 20 else { return nil }
        func digits(_ at: Int, _ count: Int) -> Int? {
            var v = 0
            for k in at..<(at + count) {
                let d = p[k] &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                v = v * 10 + Int(d)
            }
            return v
        }
        guard let year = digits(0, 4), p[4] == UInt8(ascii: "-"),
            let month = digits(5, 2), p[7] == UInt8(ascii: "-"),
            let day = digits(8, 2), p[10] | 0x20 == UInt8(ascii: "t"),
            let hour = digits(11, 2), p[13] == UInt8(ascii: ":"),
            let minute = digits(14, 2), p[16] == UInt8(ascii: ":"),
            let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var i = 19
        var micros = 0
        if p[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            while i < n, p[i] &- UInt8(ascii: "0") < 10 {
                if i - fractionStart < 6 { micros = micros * 10 + Int(p[i] &- UInt8(ascii: "0")) }
                i += 1
            }
            let digitCount = i - fractionStart
            guard digitCount > 0 else { return nil }
            for _ in digitCount..<max(digitCount, 6) { micros *= 10 }
        }
        guard i < n else { return nil }
        var offsetSeconds = 0
        if p[i] | 0x20 == UInt8(ascii: "z") {
            i += 1
        } else if p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") {
            guard n - i == 6, let oh = digits(i + 1, 2), p[i + 3] == UInt8(ascii: ":"),
                let om = digits(i + 4, 2),
                oh <= 23, om <= 59
            else { return nil }
            offsetSeconds = (oh * 60 + om) * 60 * (p[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == n else { return nil }
        // RFC 3339 section 5.7: a leap second is the 61st second of the last minute of a UTC day.
        if second == 60 {
            let utcMinuteOfDay = ((hour * 60 + minute - offsetSeconds / 60) % 1440 + 1440) % 1440
            guard utcMinuteOfDay == 23 * 60 + 59 else { return nil }
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        guard representableSeconds.contains(seconds) else { return nil }
        return seconds * 1_000_000 + Int64(micros)
    }

    /// The seconds since the epoch whose UTC date has a four-digit year: 0000-01-01T00:00:00Z through
    /// 9999-12-31T23:59:59Z.
    static let representableSeconds: ClosedRange<Int64> =
        Int64(daysFromCivil(year: 0, month: 1, day: 1)) * 86_400...Int64(
            daysFromCivil(year: 10_000, month: 1, day: 1)) * 86_400 - 1

    /// Canonical UTC form: "2024-05-01T10:00:00Z", or with exactly 6 fraction digits
    /// ("2024-05-01T10:00:00.123456Z") when the fraction is non-zero.
    ///
    /// Parsing never yields a year outside 0000-9999; a value made from a count beyond it is written
    /// with every digit of its year ("10000-01-01T00:00:00Z"), never with the year cut to four digits.
    public var rfc3339: String {
        let (seconds, micros) = microsecondsSinceEpoch.quotientAndRemainder(dividingBy: 1_000_000)
        var secs = seconds
        var frac = micros
        if frac < 0 {
            frac += 1_000_000
            secs -= 1
        }
        var (days, secOfDay) = secs.quotientAndRemainder(dividingBy: 86_400)
        if secOfDay < 0 {
            secOfDay += 86_400
            days -= 1
        }
        let (y, m, d) = civilFromDays(Int(days))
        var out: [UInt8] = []
        out.reserveCapacity(27)
        func put(_ v: Int, _ width: Int) {
            var length = 1
            var rest = v / 10
            while rest > 0 {
                length += 1
                rest /= 10
            }
            var digits = [UInt8](repeating: UInt8(ascii: "0"), count: max(width, length))
            var v = v
            for k in stride(from: digits.count - 1, through: 0, by: -1) {
                digits[k] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
            out.append(contentsOf: digits)
        }
        if y < 0 { out.append(UInt8(ascii: "-")) }
        put(abs(y), 4)
        out.append(UInt8(ascii: "-"))
        put(m, 2)
        out.append(UInt8(ascii: "-"))
        put(d, 2)
        out.append(UInt8(ascii: "T"))
        put(Int(secOfDay / 3600), 2)
        out.append(UInt8(ascii: ":"))
        put(Int(secOfDay / 60 % 60), 2)
        out.append(UInt8(ascii: ":"))
        put(Int(secOfDay % 60), 2)
        if frac != 0 {
            out.append(UInt8(ascii: "."))
            put(Int(frac), 6)
        }
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { rfc3339 }
}

func isLeapYear(_ y: Int) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

func daysInMonth(year: Int, month: Int) -> Int {
    switch month {
    case 2: return isLeapYear(year) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
}
