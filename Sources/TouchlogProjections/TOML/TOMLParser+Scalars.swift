/// Booleans, integers, floats and the four date and time types: the values that are one token.
extension TOMLParser {
    /// The value whose token starts at `index`.
    /// - Throws: `TOMLError` at the token, or at the part of it that is wrong.
    mutating func parseScalar() throws(TOMLError) -> TOMLDocument.Value {
        let start = index
        skipToken()
        // "1979-05-27 07:32:00": RFC 3339 allows a space between the date and the time.
        if index - start == 10, isDate(at: start), peek == .space, let next = byte(at: index + 1),
            isDigit(next)
        {
            index += 1
            skipToken()
        }
        let token = Array(bytes[start..<index])
        if token == Array("true".utf8) { return .boolean(true) }
        if token == Array("false".utf8) { return .boolean(false) }
        if token.count >= 5, token[0..<4].allSatisfy(isDigit), token[4] == .minus {
            return try parseDateTime(token, at: start)
        }
        if token.count >= 3, isDigit(token[0]), isDigit(token[1]), token[2] == .colon {
            let (time, end) = try parseTime(token, from: 0, at: start)
            guard end == token.count else {
                if [UInt8(ascii: "Z"), UInt8(ascii: "z"), .plus, .minus].contains(token[end]) {
                    throw error(at: start + end, "a time without a date cannot have an offset")
                }
                throw error(at: start + end, "unexpected \(found(at: start + end)) after the time")
            }
            return .localTime(time)
        }
        return try parseNumber(token, at: start)
    }

    /// Moves `index` past a token: up to whitespace, a newline, a comment, ',', ']', '}' or a
    /// control character.
    private mutating func skipToken() {
        while let byte = peek {
            switch byte {
            case .space, .tab, .lineFeed, .carriageReturn, .hash, .comma, .closeBracket, .closeBrace: return
            default:
                if isControl(byte) { return }
                index += 1
            }
        }
    }

    private func isDate(at offset: Int) -> Bool {
        let shape = Array("dddd-dd-dd".utf8)
        return shape.indices.allSatisfy { i in
            guard let byte = self.byte(at: offset + i) else { return false }
            return shape[i] == UInt8(ascii: "d") ? isDigit(byte) : byte == shape[i]
        }
    }

    private func invalidValue(_ token: [UInt8], at start: Int) -> TOMLError {
        error(
            at: start,
            "'\(String(decoding: token, as: UTF8.self))' is not a value (a string, number, boolean, date, time, array or inline table)"
        )
    }

    // MARK: Numbers

    /// A decimal, hexadecimal, octal or binary integer, or a float (with `inf` and `nan`).
    private func parseNumber(_ token: [UInt8], at start: Int) throws(TOMLError) -> TOMLDocument.Value {
        var i = 0
        let negative = token.first == .minus
        if token.first == .plus || token.first == .minus { i = 1 }
        let rest = token[i...]
        if rest.elementsEqual("inf".utf8) { return .float(negative ? -.infinity : .infinity) }
        if rest.elementsEqual("nan".utf8) { return .float(negative ? -.nan : .nan) }
        if rest.count >= 2, rest.first == UInt8(ascii: "0"),
            let radix = [UInt8(ascii: "x"): 16, UInt8(ascii: "o"): 8, UInt8(ascii: "b"): 2][rest[i + 1]]
        {
            guard i == 0 else {
                throw error(at: start, "a hexadecimal, octal or binary integer cannot have a sign")
            }
            return .integer(try parseRadixInteger(token, radix: radix, at: start))
        }
        // Integer part: decimal digits, no leading zero.
        var end = i
        while end < token.count, isDigit(token[end]) || token[end] == .underscore { end += 1 }
        guard end > i else { throw invalidValue(token, at: start) }
        let integerPart = try digits(token, i..<end, at: start)
        if integerPart.count > 1, integerPart.first == UInt8(ascii: "0") {
            throw error(
                at: start,
                "'\(String(decoding: token, as: UTF8.self))': a number cannot start with a zero (leading zeros are not allowed)"
            )
        }
        let sign: [UInt8] = negative ? [.minus] : []
        if end == token.count {
            guard let value = Int64(String(decoding: sign + integerPart, as: UTF8.self)) else {
                throw error(
                    at: start,
                    "'\(String(decoding: token, as: UTF8.self))' does not fit in a 64-bit integer (\(Int64.min) to \(Int64.max))"
                )
            }
            return .integer(value)
        }
        // Fraction: '.' and at least one digit.
        var number = sign + integerPart
        if token[end] == .dot {
            let fractionStart = end + 1
            end = fractionStart
            while end < token.count, isDigit(token[end]) || token[end] == .underscore { end += 1 }
            guard end > fractionStart else {
                throw error(at: start + fractionStart - 1, "a decimal point must have a digit on each side")
            }
            let fraction = try digits(token, fractionStart..<end, at: start)
            number += [.dot] + fraction
        }
        // Exponent: 'e' or 'E', an optional sign, at least one digit (leading zeros allowed).
        if end < token.count, token[end] == UInt8(ascii: "e") || token[end] == UInt8(ascii: "E") {
            let exponentMark = end
            number.append(UInt8(ascii: "e"))
            end += 1
            if end < token.count, token[end] == .plus || token[end] == .minus {
                number.append(token[end])
                end += 1
            }
            let exponentStart = end
            while end < token.count, isDigit(token[end]) || token[end] == .underscore { end += 1 }
            guard end > exponentStart else {
                throw error(at: start + exponentMark, "an exponent must have digits")
            }
            number += try digits(token, exponentStart..<end, at: start)
        }
        guard end == token.count else { throw invalidValue(token, at: start) }
        guard let value = Double(String(decoding: number, as: UTF8.self)) else {
            throw invalidValue(token, at: start)
        }
        guard value.isFinite else {
            throw error(
                at: start,
                "'\(String(decoding: token, as: UTF8.self))' is too large for a 64-bit float (write inf for infinity)"
            )
        }
        return .float(value)
    }

    /// `0x`, `0o` or `0b` and digits of `radix`, at most `Int64.max`.
    private func parseRadixInteger(_ token: [UInt8], radix: Int, at start: Int) throws(TOMLError) -> Int64 {
        guard token.count > 2 else {
            throw error(at: start, "'\(String(decoding: token, as: UTF8.self))' has no digits")
        }
        let body = try digits(token, 2..<token.count, at: start, radix: radix)
        var value: Int64 = 0
        for digit in body {
            let (shifted, overflow) = value.multipliedReportingOverflow(by: Int64(radix))
            let (sum, overflow2) = shifted.addingReportingOverflow(Int64(hexValue(digit)!))
            guard !overflow, !overflow2 else {
                throw error(
                    at: start,
                    "'\(String(decoding: token, as: UTF8.self))' does not fit in a 64-bit integer (at most \(Int64.max))"
                )
            }
            value = sum
        }
        return value
    }

    /// The digits of `token[range]` without their underscores.
    /// - Throws: `TOMLError` at a character that is not a digit of `radix`, or at an underscore
    ///   that is not between two digits.
    private func digits(_ token: [UInt8], _ range: Range<Int>, at start: Int, radix: Int = 10)
        throws(TOMLError)
        -> [UInt8]
    {
        var out: [UInt8] = []
        for i in range {
            let byte = token[i]
            if byte == .underscore {
                let between =
                    i > range.lowerBound && i + 1 < range.upperBound && token[i - 1] != .underscore
                    && token[i + 1] != .underscore
                guard between else {
                    throw error(at: start + i, "an underscore in a number must be between two digits")
                }
                continue
            }
            guard let value = hexValue(byte), Int(value) < radix else {
                let kind = [16: "a hexadecimal", 8: "an octal", 2: "a binary"][radix] ?? "a"
                throw error(at: start + i, "\(found(at: start + i)) is not \(kind) digit")
            }
            out.append(byte)
        }
        return out
    }

    // MARK: Dates and times

    /// `YYYY-MM-DD`, then optionally `T` (or `t`, or a space) and a time, then optionally `Z` or
    /// `±HH:MM`.
    private func parseDateTime(_ token: [UInt8], at start: Int) throws(TOMLError) -> TOMLDocument.Value {
        guard token.count >= 10, isDate(at: start) else {
            throw error(
                at: start, "'\(String(decoding: token, as: UTF8.self))' is not a date: expected YYYY-MM-DD")
        }
        let year = number(token, 0, 4)
        let month = number(token, 5, 2)
        let day = number(token, 8, 2)
        guard (1...12).contains(month) else { throw error(at: start + 5, "month \(month) does not exist") }
        let days = daysIn(month: month, year: year)
        guard (1...days).contains(day) else {
            throw error(
                at: start + 8, "day \(day) does not exist: month \(month) of \(year) has \(days) days")
        }
        let date = TOMLDocument.LocalDate(year: year, month: month, day: day)
        guard token.count > 10 else { return .localDate(date) }
        guard [UInt8(ascii: "T"), UInt8(ascii: "t"), .space].contains(token[10]) else {
            throw error(
                at: start + 10,
                "expected 'T' or a space between the date and the time, found \(found(at: start + 10))")
        }
        let (time, end) = try parseTime(token, from: 11, at: start)
        guard end < token.count else { return .localDateTime(.init(date: date, time: time)) }
        switch token[end] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard end + 1 == token.count else {
                throw error(
                    at: start + end + 1, "unexpected \(found(at: start + end + 1)) after the date-time")
            }
            return .offsetDateTime(.init(date: date, time: time, offsetMinutes: 0))
        case .plus, .minus:
            let shape = end + 6 == token.count && token[end + 3] == .colon
            guard shape, let hours = twoDigits(token, end + 1), let minutes = twoDigits(token, end + 4) else {
                throw error(at: start + end, "expected the offset as +HH:MM or -HH:MM, or Z")
            }
            guard hours <= 23, minutes <= 59 else {
                throw error(
                    at: start + end,
                    "the offset \(String(decoding: token[end...], as: UTF8.self)) is out of range")
            }
            let offset = (hours * 60 + minutes) * (token[end] == .minus ? -1 : 1)
            return .offsetDateTime(.init(date: date, time: time, offsetMinutes: offset))
        default:
            throw error(at: start + end, "unexpected \(found(at: start + end)) after the time")
        }
    }

    /// `HH:MM:SS` with an optional fraction, from `token[from]`; also the index after it.
    func parseTime(_ token: [UInt8], from: Int, at start: Int) throws(TOMLError) -> (
        TOMLDocument.LocalTime, Int
    ) {
        guard token.count >= from + 8, token[from + 2] == .colon, token[from + 5] == .colon,
            let hour = twoDigits(token, from), let minute = twoDigits(token, from + 3),
            let second = twoDigits(token, from + 6)
        else {
            throw error(at: start + from, "expected a time as HH:MM:SS (two digits each, seconds included)")
        }
        guard hour <= 23 else { throw error(at: start + from, "hour \(hour) does not exist (00 to 23)") }
        guard minute <= 59 else {
            throw error(at: start + from + 3, "minute \(minute) does not exist (00 to 59)")
        }
        guard second <= 60 else {
            throw error(at: start + from + 6, "second \(second) does not exist (00 to 60)")
        }
        var end = from + 8
        var nanosecond = 0
        if end < token.count, token[end] == .dot {
            end += 1
            let fractionStart = end
            while end < token.count, isDigit(token[end]) { end += 1 }
            guard end > fractionStart else {
                throw error(at: start + fractionStart - 1, "a fraction of a second needs at least one digit")
            }
            // Nanoseconds: further digits are truncated, as the specification asks.
            for i in 0..<9 {
                nanosecond =
                    nanosecond * 10 + (fractionStart + i < end ? Int(token[fractionStart + i] - 0x30) : 0)
            }
        }
        return (.init(hour: hour, minute: minute, second: second, nanosecond: nanosecond), end)
    }

    private func number(_ token: [UInt8], _ offset: Int, _ count: Int) -> Int {
        token[offset..<(offset + count)].reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    private func twoDigits(_ token: [UInt8], _ offset: Int) -> Int? {
        guard offset + 2 <= token.count, isDigit(token[offset]), isDigit(token[offset + 1]) else {
            return nil
        }
        return number(token, offset, 2)
    }

    private func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
