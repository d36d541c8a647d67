import CloudEvents
import Foundation

/// How a field reads a time: `"rfc3339"`, `"unix"` (seconds since 1970), `"unix_ms"`, or a pattern such
/// as `"%d/%m/%Y %H:%M"` (docs/IMPORT.md lists the directives), in a time zone unless the text names its
/// own offset (`%z`, or the offset of an RFC 3339 time).
struct TimeFormat: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case rfc3339
        case unixSeconds
        case unixMilliseconds
        case pattern([Piece])
    }

    enum Piece: Sendable, Equatable {
        case literal(UInt8)
        /// A number of `minimum...maximum` digits, for one component.
        case number(Component, minimum: Int, maximum: Int)
        /// `%f`: a fraction of a second, 1 to 9 digits.
        case fraction
        /// `%p`: AM or PM.
        case meridiem
        /// `%b`: an English month name, abbreviated or whole.
        case monthName
        /// `%z`: `Z`, `+hh:mm`, `+hhmm` or `+hh`.
        case offset
        /// A space in the pattern: one or more spaces in the text.
        case spaces
    }

    enum Component: Sendable, Equatable {
        case year, month, day, hour, hour12, minute, second
    }

    var kind: Kind
    /// As written in the mapping.
    var text: String

    /// Parses a format as written in a mapping.
    init(_ text: String) throws(MappingError) {
        self.text = text
        switch text {
        case "rfc3339":
            kind = .rfc3339
            return
        case "unix":
            kind = .unixSeconds
            return
        case "unix_ms":
            kind = .unixMilliseconds
            return
        default:
            break
        }
        var pieces: [Piece] = []
        var bytes = Array(text.utf8).makeIterator()
        var sawDay = false
        var sawHour12 = false
        var sawMeridiem = false
        while let byte = bytes.next() {
            if byte == UInt8(ascii: " ") {
                pieces.append(.spaces)
                continue
            }
            guard byte == UInt8(ascii: "%") else {
                pieces.append(.literal(byte))
                continue
            }
            guard let directive = bytes.next() else {
                throw MappingError(message: "time format '\(text)' ends with a lone '%'")
            }
            switch directive {
            case UInt8(ascii: "Y"): pieces.append(.number(.year, minimum: 4, maximum: 4))
            case UInt8(ascii: "m"): pieces.append(.number(.month, minimum: 1, maximum: 2))
            case UInt8(ascii: "d"):
                pieces.append(.number(.day, minimum: 1, maximum: 2))
                sawDay = true
            case UInt8(ascii: "H"): pieces.append(.number(.hour, minimum: 1, maximum: 2))
            case UInt8(ascii: "I"):
                pieces.append(.number(.hour12, minimum: 1, maximum: 2))
                sawHour12 = true
            case UInt8(ascii: "M"): pieces.append(.number(.minute, minimum: 2, maximum: 2))
            case UInt8(ascii: "S"): pieces.append(.number(.second, minimum: 2, maximum: 2))
            case UInt8(ascii: "f"): pieces.append(.fraction)
            case UInt8(ascii: "p"):
                pieces.append(.meridiem)
                sawMeridiem = true
            case UInt8(ascii: "b"): pieces.append(.monthName)
            case UInt8(ascii: "z"): pieces.append(.offset)
            case UInt8(ascii: "%"): pieces.append(.literal(UInt8(ascii: "%")))
            default:
                throw MappingError(
                    message:
                        "time format '\(text)' has an unknown directive '%\(Character(Unicode.Scalar(directive)))' "
                        + "(known: %Y %m %d %H %I %M %S %f %p %b %z %%, or the formats rfc3339, unix, unix_ms)"
                )
            }
        }
        guard sawDay else {
            throw MappingError(message: "time format '\(text)' has no day (%d)")
        }
        guard sawHour12 == sawMeridiem else {
            throw MappingError(message: "time format '\(text)' must use %I (12-hour clock) and %p together")
        }
        kind = .pattern(pieces)
    }

    /// The time `text` stands for, or nil when it does not fit the format (or names no real date).
    func parse(_ text: String, zone: MappingTimeZone) -> Timestamp? { parseWithText(text, zone: zone)?.time }

    /// The time and its RFC 3339 text in UTC (`Timestamp.rfc3339`), or nil.
    func parseWithText(_ text: String, zone: MappingTimeZone) -> (time: Timestamp, text: String)? {
        switch kind {
        case .rfc3339:
            return Timestamp(rfc3339: text).map { ($0, $0.rfc3339) }
        case .unixSeconds, .unixMilliseconds:
            guard let number = Double(text), number.isFinite else { return nil }
            let micros = number * (kind == .unixSeconds ? 1_000_000 : 1_000)
            guard abs(micros) < 253_402_300_800_000_000 else { return nil }
            let time = Timestamp(microsecondsSinceEpoch: Int64(micros.rounded()))
            return (time, time.rfc3339)
        case .pattern(let pieces):
            return parse(Array(text.utf8), pieces: pieces, zone: zone)
        }
    }

    private static let monthNames: [[UInt8]] = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december",
    ].map { Array($0.utf8) }

    private func parse(_ bytes: [UInt8], pieces: [Piece], zone: MappingTimeZone) -> (
        time: Timestamp, text: String
    )? {
        var index = 0
        var year = 0
        var month = 0
        var day = 0
        var hour = 0
        var minute = 0
        var second = 0
        var micros = 0
        var pm: Bool?
        var offsetSeconds: Int?
        func digit(_ at: Int) -> Int? {
            guard at < bytes.count, bytes[at] &- 0x30 < 10 else { return nil }
            return Int(bytes[at] &- 0x30)
        }
        for piece in pieces {
            switch piece {
            case .literal(let byte):
                guard index < bytes.count, bytes[index] == byte else { return nil }
                index += 1
            case .spaces:
                guard index < bytes.count, bytes[index] == 0x20 else { return nil }
                while index < bytes.count, bytes[index] == 0x20 { index += 1 }
            case .number(let component, let minimum, let maximum):
                var value = 0
                var count = 0
                while count < maximum, let next = digit(index) {
                    value = value * 10 + next
                    count += 1
                    index += 1
                }
                guard count >= minimum else { return nil }
                switch component {
                case .year: year = value
                case .month: month = value
                case .day: day = value
                case .hour, .hour12: hour = value
                case .minute: minute = value
                case .second: second = value
                }
            case .fraction:
                var count = 0
                var value = 0
                while let next = digit(index) {
                    if count < 6 { value = value * 10 + next }
                    count += 1
                    index += 1
                }
                guard (1...9).contains(count) else { return nil }
                if count < 6 { for _ in count..<6 { value *= 10 } }
                micros = value
            case .meridiem:
                guard index + 1 < bytes.count else { return nil }
                let first = bytes[index] | 0x20
                guard bytes[index + 1] | 0x20 == UInt8(ascii: "m"),
                    first == UInt8(ascii: "a") || first == UInt8(ascii: "p")
                else { return nil }
                pm = first == UInt8(ascii: "p")
                index += 2
            case .monthName:
                var end = index
                while end < bytes.count, (bytes[end] | 0x20) &- UInt8(ascii: "a") < 26 { end += 1 }
                let word = bytes[index..<end].map { $0 | 0x20 }
                guard word.count >= 3,
                    let found = Self.monthNames.firstIndex(where: {
                        word.count == 3 ? $0.starts(with: word) : $0 == word
                    })
                else { return nil }
                month = found + 1
                index = end
            case .offset:
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: "Z") || bytes[index] == UInt8(ascii: "z") {
                    offsetSeconds = 0
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-"),
                    let h1 = digit(index + 1), let h2 = digit(index + 2)
                else { return nil }
                let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
                index += 3
                var minutes = 0
                if index < bytes.count, bytes[index] == UInt8(ascii: ":") { index += 1 }
                if let m1 = digit(index), let m2 = digit(index + 1) {
                    minutes = m1 * 10 + m2
                    index += 2
                }
                guard h1 * 10 + h2 < 24, minutes < 60 else { return nil }
                offsetSeconds = sign * ((h1 * 10 + h2) * 3600 + minutes * 60)
            }
        }
        guard index == bytes.count else { return nil }
        if let pm {
            guard (1...12).contains(hour) else { return nil }
            hour = hour % 12 + (pm ? 12 : 0)
        }
        guard hour < 24, minute < 60, second < 60 else { return nil }
        // The calendar (30 February, month 13) is checked by the RFC 3339 parser, read as UTC first.
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let localText = "\(year)-\(two(month))-\(two(day))T\(two(hour)):\(two(minute)):\(two(second))Z"
        guard let local = Timestamp(rfc3339: localText) else { return nil }
        let seconds = local.microsecondsSinceEpoch / 1_000_000
        let offset = offsetSeconds ?? zone.offset(atLocalSeconds: seconds)
        let time = Timestamp(microsecondsSinceEpoch: (seconds - Int64(offset)) * 1_000_000 + Int64(micros))
        // In UTC with no fraction, the text just built is already the canonical form.
        return (time, offset == 0 && micros == 0 && year >= 1000 ? localText : time.rfc3339)
    }
}

/// The time zone a field's times are read in when they name no offset: `UTC`, a fixed offset such as
/// `+01:00`, or a zone of the IANA database such as `Europe/Berlin` (its offset at that local time).
struct MappingTimeZone: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case fixed(Int)
        case named(String)
    }

    var kind: Kind

    static let utc = MappingTimeZone(kind: .fixed(0))

    init(kind: Kind) { self.kind = kind }

    init(_ text: String) throws(MappingError) {
        if text == "UTC" || text == "Z" {
            kind = .fixed(0)
            return
        }
        let bytes = Array(text.utf8)
        if bytes.count == 6, bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-"),
            bytes[3] == UInt8(ascii: ":"), let hours = Int(String(decoding: bytes[1...2], as: UTF8.self)),
            let minutes = Int(String(decoding: bytes[4...5], as: UTF8.self)), hours < 24, minutes < 60
        {
            kind = .fixed((bytes[0] == UInt8(ascii: "-") ? -1 : 1) * (hours * 3600 + minutes * 60))
            return
        }
        guard TimeZone(identifier: text) != nil else {
            throw MappingError(
                message:
                    "'\(text)' is not a time zone (UTC, an offset such as +01:00, or an IANA name such as Europe/Berlin)"
            )
        }
        kind = .named(text)
    }

    /// The zone's offset from UTC, in seconds, at a local time given as seconds since 1970 read as UTC.
    func offset(atLocalSeconds local: Int64) -> Int {
        switch kind {
        case .fixed(let seconds):
            return seconds
        case .named(let name):
            guard let zone = TimeZone(identifier: name) else { return 0 }
            // The offset at the instant the local time would be in UTC, then once more at the instant found:
            // right except within the hour a clock change skips or repeats.
            let guess = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local)))
            return zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local - Int64(guess))))
        }
    }
}
