/// Fast appends of JSON fragments, decimal numbers and RFC 3339 times to a byte buffer.
///
/// The hot path of the generator: no `String` formatting, no Foundation, only integer code.
extension Array where Element == UInt8 {
    /// Appends the UTF-8 bytes of a literal.
    @inline(__always)
    mutating func appendLiteral(_ text: StaticString) {
        text.withUTF8Buffer { append(contentsOf: $0) }
    }

    /// Appends a non-negative integer in decimal, left-padded with zeros to `width` digits.
    @inline(__always)
    mutating func appendDecimal(_ value: Int, width: Int = 1) {
        precondition(value >= 0)
        // Digits come out least significant first: append them, then reverse in place.
        let first = count
        var remaining = value
        repeat {
            append(UInt8(truncatingIfNeeded: 0x30 &+ remaining % 10))
            remaining /= 10
        } while remaining > 0
        while count - first < width { append(UInt8(ascii: "0")) }
        self[first...].reverse()
    }

    /// Appends exactly two decimal digits.
    @inline(__always)
    mutating func appendTwoDigits(_ value: Int) {
        append(UInt8(truncatingIfNeeded: 0x30 + value / 10))
        append(UInt8(truncatingIfNeeded: 0x30 + value % 10))
    }

    /// Appends an amount in cents as a JSON number with two decimals, e.g. `129.90`.
    @inline(__always)
    mutating func appendCents(_ cents: Int) {
        appendDecimal(cents / 100)
        append(UInt8(ascii: "."))
        appendTwoDigits(cents % 100)
    }

    /// Appends a time in microseconds since the Unix epoch as RFC 3339 UTC:
    /// `2024-03-05T14:22:07Z`, with six fraction digits only when the time has a fraction.
    ///
    /// Dates come from Howard Hinnant's `civil_from_days`, valid for years 1 to 9999 here.
    mutating func appendTimestamp(_ microseconds: Int64) {
        let seconds = floorDivide(microseconds, 1_000_000)
        let fraction = Int(microseconds - seconds * 1_000_000)
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = Int(seconds - days * 86_400)

        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        let month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        let year = Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0)

        appendTwoDigits(year / 100)
        appendTwoDigits(year % 100)
        append(UInt8(ascii: "-"))
        appendTwoDigits(month)
        append(UInt8(ascii: "-"))
        appendTwoDigits(day)
        append(UInt8(ascii: "T"))
        appendTwoDigits(secondOfDay / 3600)
        append(UInt8(ascii: ":"))
        appendTwoDigits(secondOfDay / 60 % 60)
        append(UInt8(ascii: ":"))
        appendTwoDigits(secondOfDay % 60)
        if fraction != 0 {
            append(UInt8(ascii: "."))
            appendDecimal(fraction, width: 6)
        }
        append(UInt8(ascii: "Z"))
    }

    /// Appends `text` as the inside of a JSON string: quote, backslash and control characters
    /// escaped, everything else (valid UTF-8, as Swift strings are) copied.
    mutating func appendJSONEscaped(_ text: String) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): appendLiteral("\\\"")
            case UInt8(ascii: "\\"): appendLiteral("\\\\")
            case 0x0A: appendLiteral("\\n")
            case 0x0D: appendLiteral("\\r")
            case 0x09: appendLiteral("\\t")
            case 0x08: appendLiteral("\\b")
            case 0x0C: appendLiteral("\\f")
            case 0x00..<0x20:
                appendLiteral("\\u00")
                append(hex[Int(byte >> 4)])
                append(hex[Int(byte & 0x0F)])
            default: append(byte)
            }
        }
    }
}

/// Integer division rounding towards negative infinity.
@inline(__always)
func floorDivide(_ dividend: Int64, _ divisor: Int64) -> Int64 {
    let quotient = dividend / divisor
    return (dividend % divisor < 0) ? quotient - 1 : quotient
}
