import Foundation
import TouchlogGenerator

/// One generated line, parsed with Foundation (tests only), plus what the raw bytes show.
struct GeneratedEvent {
    let bytes: [UInt8]
    let object: [String: Any]
    /// Top-level keys in the order they appear in the bytes.
    let keys: [String]

    init(_ bytes: [UInt8]) throws {
        self.bytes = bytes
        let value = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        guard let object = value as? [String: Any] else {
            throw ParseFailure("not a JSON object: \(String(decoding: bytes, as: UTF8.self))")
        }
        self.object = object
        self.keys = Self.topLevelKeys(bytes)
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }
    var id: String { object["id"] as? String ?? "" }
    var type: String { object["type"] as? String ?? "" }
    var subject: String { object["subject"] as? String ?? "" }
    var time: String { object["time"] as? String ?? "" }
    var ticket: String? { object["ticketid"] as? String }
    var representative: String? { object["repid"] as? String }
    var channel: String? { object["channel"] as? String }
    var data: [String: Any]? { object["data"] as? [String: Any] }

    /// The time attribute in seconds since the epoch (the generator emits `...:ssZ`, or with six
    /// fraction digits when the start has a fraction).
    var seconds: Int64? { Self.parseTime(time) }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ` (optionally with a fraction, which is dropped) strictly.
    /// Uses the inverse of the generator's algorithm (days from civil date), so a formatting
    /// mistake there shows up here; `ByteWritingTests` checks the formatting against Foundation.
    static func parseTime(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 20 || (bytes.count == 27 && bytes[19] == UInt8(ascii: ".")),
            bytes.last == UInt8(ascii: "Z"), bytes[4] == UInt8(ascii: "-"),
            bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (0..<24).contains(hour), (0..<60).contains(minute),
            (0..<60).contains(second)
        else { return nil }
        if bytes.count == 27 && number(20..<26) == nil { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...monthDays[month - 1]).contains(day) else { return nil }
        var days = 0
        if year >= 1970 {
            for y in 1970..<year { days += ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 366 : 365 }
        } else {
            for y in year..<1970 { days -= ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 366 : 365 }
        }
        days += monthDays.prefix(month - 1).reduce(0, +) + day - 1
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// The raw integer after `"key":` in the line, if the value is a plain integer.
    func rawInteger(_ key: String) -> Int? {
        guard let range = text.range(of: "\"\(key)\":") else { return nil }
        let digits = text[range.upperBound...].prefix { $0 == "-" || $0.isASCII && $0.isNumber }
        let next = text[range.upperBound...].dropFirst(digits.count).first
        guard next == "," || next == "}" else { return nil }
        return Int(digits)
    }

    /// The raw text of the value after `"key":` up to the next `,` or `}`.
    func rawValue(_ key: String) -> Substring? {
        guard let range = text.range(of: "\"\(key)\":") else { return nil }
        return text[range.upperBound...].prefix { $0 != "," && $0 != "}" }
    }

    /// Scans the raw bytes for the keys of the outermost object, in order.
    static func topLevelKeys(_ bytes: [UInt8]) -> [String] {
        var keys: [String] = []
        var depth = 0
        var inString = false
        var escaped = false
        var current: [UInt8] = []
        var lastString: [UInt8]? = nil
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    lastString = current
                    continue
                }
                current.append(byte)
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                current = []
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                lastString = nil
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            case UInt8(ascii: ":"):
                if depth == 1, let key = lastString { keys.append(String(decoding: key, as: UTF8.self)) }
                lastString = nil
            case UInt8(ascii: ","):
                lastString = nil
            default:
                break
            }
        }
        return keys
    }
}

struct ParseFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// All events of a configuration, as raw lines.
func generateLines(_ configuration: GeneratorConfiguration) -> [[UInt8]] {
    Array(TouchpointGenerator(configuration))
}

/// All events of a configuration, parsed.
func generateEvents(_ configuration: GeneratorConfiguration) throws -> [GeneratedEvent] {
    try generateLines(configuration).map(GeneratedEvent.init)
}
