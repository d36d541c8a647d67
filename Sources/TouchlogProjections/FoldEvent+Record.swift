import CloudEvents
import TouchlogDomain
import TouchlogStore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension FoldEvent {
    /// What the lean decoder made of a record.
    enum Decoded {
        case event(FoldEvent)
        /// A type the projections ignore.
        case ignored
        /// Something the lean decoder does not handle: decode the record fully and validate it.
        case unsure
    }

    /// Reads only what the fold needs straight from an `events` record (docs/STORAGE.md, "Event
    /// record"): the event time, type, subject, the `channel`, `ticketid` and `repid` tags and the
    /// few `data` members the fold reads, without building the whole `StoredEvent` nor parsing
    /// `data` into a tree. Anything unexpected (an escape in a data string, a nested value, a
    /// missing field) answers `.unsure`, and the caller takes the full, validating path; for every
    /// valid event both paths give the same `FoldEvent` (a test checks it on generated samples).
    static func decode(record bytes: UnsafeRawBufferPointer, position: UInt64) -> Decoded {
        var r = ByteReader(bytes)
        guard bytes.count > 97, bytes[0] == 1 else { return .unsure }
        r.offset = 89
        guard let time = r.readTime(), r.skipString(), r.skipString(), let typeRange = r.readRange() else {
            return .unsure
        }
        guard let typeCode = knownTypeCode(UnsafeRawBufferPointer(rebasing: bytes[typeRange])) else {
            return .ignored
        }
        guard let subjectRange = r.readOptionalRange(), let subjectRange, r.skipOptionalString(),
            r.skipOptionalString(),
            r.skipOptionalString(), let extensionCount = r.readInt()
        else { return .unsure }
        var channel: Channel?
        var ticketID: String?
        var repID: String?
        for _ in 0..<extensionCount {
            guard let nameRange = r.readRange(), let kind = r.readByte() else { return .unsure }
            guard kind <= 1 else {
                if kind > 3 { return .unsure }
                continue
            }
            guard let valueRange = r.readRange() else { return .unsure }
            let name = UnsafeRawBufferPointer(rebasing: bytes[nameRange])
            let value = UnsafeRawBufferPointer(rebasing: bytes[valueRange])
            if bytesEqual(name, Self.channelName) {
                guard kind == 0, let found = channelCode(value) else { return .unsure }
                channel = found
            } else if bytesEqual(name, Self.ticketIDName) {
                guard kind == 0 else { return .unsure }
                ticketID = String(decoding: value, as: UTF8.self)
            } else if bytesEqual(name, Self.repIDName) {
                guard kind == 0 else { return .unsure }
                repID = String(decoding: value, as: UTF8.self)
            }
        }
        var data = DataMembers()
        switch r.readByte() {
        case 0: break
        case 1:
            guard let range = r.readRange(),
                let members = DataMembers(UnsafeRawBufferPointer(rebasing: bytes[range]), code: typeCode)
            else {
                return .unsure
            }
            data = members
        default: return .unsure
        }
        guard r.isAtEnd, let kind = data.kind(typeCode) else { return .unsure }
        // The tags each type requires (the catalog checked them on append).
        switch typeCode {
        case 0, 17: if channel == nil { return .unsure }
        case 1: if channel == nil || repID == nil { return .unsure }
        case 2: if channel == nil || ticketID == nil { return .unsure }
        case 3: if ticketID == nil || repID == nil { return .unsure }
        case 4:
            if ticketID == nil { return .unsure }
            if case .ticketReplied(.rep, _) = kind, repID == nil { return .unsure }
        case 5...11: if ticketID == nil { return .unsure }
        default: break
        }
        return .event(
            FoldEvent(
                position: position, occurredAt: time, type: Catalog.knownTypes[typeCode],
                customer: String(
                    decoding: UnsafeRawBufferPointer(rebasing: bytes[subjectRange]), as: UTF8.self),
                ticketID: ticketID, repID: repID, channel: channel, kind: kind))
    }

    private static let channelName = Array("channel".utf8)
    private static let ticketIDName = Array("ticketid".utf8)
    private static let repIDName = Array("repid".utf8)
    private static let typeBytes: [[UInt8]] = Catalog.knownTypes.map { Array($0.utf8) }
    private static let channelBytes: [(Channel, [UInt8])] = Channel.allCases.map { ($0, Array($0.rawValue.utf8)) }

    private static func knownTypeCode(_ bytes: UnsafeRawBufferPointer) -> Int? {
        for (index, type) in typeBytes.enumerated() where bytesEqual(bytes, type) { return index }
        return nil
    }

    private static func channelCode(_ bytes: UnsafeRawBufferPointer) -> Channel? {
        for (channel, name) in channelBytes where bytesEqual(bytes, name) { return channel }
        return nil
    }
}

/// Whether `bytes` are exactly `other` (a length check, then `memcmp`).
func bytesEqual(_ bytes: UnsafeRawBufferPointer, _ other: [UInt8]) -> Bool {
    guard bytes.count == other.count else { return false }
    return other.isEmpty
        || other.withUnsafeBytes { memcmp(bytes.baseAddress!, $0.baseAddress!, bytes.count) == 0 }
}

/// The members of a flat JSON `data` object that the fold reads for one catalog type, as byte ranges
/// of the text: nothing is allocated. Nil for anything but a flat object of strings, numbers,
/// booleans and null (the full path handles it), or when a member the fold reads appears twice
/// (the log's JSON parser rejects duplicate keys on append, so a stored record has none).
private struct DataMembers {
    enum Value {
        case string(Range<Int>)
        /// A string with escapes, which the fold never needs undone (a summary); a field the fold
        /// reads that has one goes the validating way.
        case escapedString
        case number(Range<Int>)
        case bool(Bool)
        case null
    }

    /// The members each type code reads, in the order of `found`.
    static let keys: [[[UInt8]]] = {
        var keys = [[[UInt8]]](repeating: [], count: Catalog.knownTypes.count)
        func set(_ codes: [Int], _ names: [String]) { for code in codes { keys[code] = names.map { Array($0.utf8) } } }
        set([2, 6], ["priority"])
        set([4], ["author", "public"])
        set([5], ["status"])
        set([11], ["into"])
        set([12, 13, 14], ["score"])
        set([15, 16], ["amount", "order", "currency"])
        set([17], ["article"])
        return keys
    }()

    let text: UnsafeRawBufferPointer
    /// The values of `keys[code]`, nil when absent.
    var found: InlineArray<3, Value?> = .init(repeating: nil)

    /// An empty `data` (no data at all).
    init() { text = UnsafeRawBufferPointer(start: nil, count: 0) }

    init?(_ text: UnsafeRawBufferPointer, code: Int) {
        self.text = text
        let wanted = Self.keys[code]
        var i = 0
        let n = text.count
        func skipSpace() {
            while i < n, text[i] == 0x20 || text[i] == 0x09 || text[i] == 0x0A || text[i] == 0x0D { i += 1 }
        }
        /// A string's range, or nil (and skipped) when it has escapes; `valid` turns false on bad input.
        var valid = true
        func string() -> Range<Int>? {
            guard i < n, text[i] == 0x22 else {
                valid = false
                return nil
            }
            i += 1
            let start = i
            var escaped = false
            while i < n, text[i] != 0x22 {
                if text[i] == 0x5C {
                    escaped = true
                    i += 1
                }
                i += 1
            }
            guard i < n else {
                valid = false
                return nil
            }
            defer { i += 1 }
            return escaped ? nil : start..<i
        }
        skipSpace()
        if i + 4 <= n, text[i] == UInt8(ascii: "n"), text[i + 1] == UInt8(ascii: "u") { return nil }
        guard i < n, text[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        skipSpace()
        if i < n, text[i] == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                skipSpace()
                guard let key = string(), valid else { return nil }
                skipSpace()
                guard i < n, text[i] == UInt8(ascii: ":") else { return nil }
                i += 1
                skipSpace()
                guard i < n else { return nil }
                let value: Value
                switch text[i] {
                case 0x22:
                    let s = string()
                    guard valid else { return nil }
                    value = s.map { .string($0) } ?? .escapedString
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    let start = i
                    while i < n,
                        (text[i] >= 0x30 && text[i] <= 0x39) || text[i] == UInt8(ascii: ".")
                            || text[i] == UInt8(ascii: "-")
                            || text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "e")
                            || text[i] == UInt8(ascii: "E")
                    {
                        i += 1
                    }
                    value = .number(start..<i)
                case UInt8(ascii: "t"):
                    guard i + 4 <= n, text[i + 1] == UInt8(ascii: "r") else { return nil }
                    i += 4
                    value = .bool(true)
                case UInt8(ascii: "f"):
                    guard i + 5 <= n, text[i + 1] == UInt8(ascii: "a") else { return nil }
                    i += 5
                    value = .bool(false)
                case UInt8(ascii: "n"):
                    guard i + 4 <= n else { return nil }
                    i += 4
                    value = .null
                default:
                    return nil
                }
                let keyBytes = UnsafeRawBufferPointer(rebasing: text[key])
                for (slot, name) in wanted.enumerated() where bytesEqual(keyBytes, name) {
                    if found[slot] != nil { return nil }
                    found[slot] = value
                }
                skipSpace()
                guard i < n else { return nil }
                if text[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                guard text[i] == UInt8(ascii: "}") else { return nil }
                i += 1
                break
            }
        }
        skipSpace()
        guard i == n else { return nil }
    }

    /// The value in `slot`; a null member counts as absent (as the catalog reads it).
    private func value(_ slot: Int) -> Value? {
        if case .null = found[slot] { return nil }
        return found[slot] ?? nil
    }

    private func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: text[range])
    }

    private func isString(_ slot: Int) -> Bool {
        switch value(slot) {
        case .string, .escapedString: return true
        default: return false
        }
    }

    /// A number literal as `Int(_:)` reads it (an optional minus, then digits only) within `range`.
    private func integer(_ slot: Int, _ range: ClosedRange<Int>) -> Int? {
        guard case .number(let literal) = value(slot) else { return nil }
        let digits = bytes(literal)
        let negative = digits.first == UInt8(ascii: "-")
        let start = negative ? 1 : 0
        guard start < digits.count else { return nil }
        var number = 0
        for digit in digits[start...] {
            guard digit >= 0x30, digit <= 0x39 else { return nil }
            let (times10, o1) = number.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(digit - 0x30))
            guard !o1, !o2 else { return nil }
            number = sum
        }
        if negative { number = -number }
        return range.contains(number) ? number : nil
    }

    /// The case of `E` whose raw value is the string in `slot`: nil when invalid (not a string, an
    /// escaped one, or no case), `.some(nil)` when absent.
    private func enumeration<E: RawRepresentable & CaseIterable>(_ slot: Int, _: E.Type) -> E??
    where E.RawValue == String {
        switch value(slot) {
        case nil: return .some(nil)
        case .string(let range):
            let text = bytes(range)
            for value in E.allCases where value.rawValue.utf8.elementsEqual(text) { return .some(value) }
            return nil
        default: return nil
        }
    }

    /// The kind of catalog type `code`, decoded as `Catalog` does for the fields the fold reads;
    /// nil when a field is missing or invalid.
    func kind(_ code: Int) -> TouchpointKind? {
        switch code {
        case 0: return .contactReceived(summary: nil)
        case 1: return .contactSent(summary: nil)
        case 2:
            guard let priority = enumeration(0, Priority.self) else { return nil }
            return .ticketOpened(priority: priority ?? .normal, summary: nil)
        case 3: return .ticketAssigned
        case 4:
            guard let author = enumeration(0, ReplyAuthor.self), let author else { return nil }
            var isPublic = true
            switch value(1) {
            case nil: break
            case .bool(let flag): isPublic = flag
            default: return nil
            }
            return .ticketReplied(author: author, isPublic: isPublic)
        case 5:
            guard let status = enumeration(0, SettableStatus.self), let status else { return nil }
            return .ticketStatusChanged(status)
        case 6:
            guard let priority = enumeration(0, Priority.self), let priority else { return nil }
            return .ticketPriorityChanged(priority)
        case 7: return .ticketEscalated(level: nil, reason: nil)
        case 8: return .ticketSolved
        case 9: return .ticketReopened
        case 10: return .ticketClosed
        case 11:
            guard case .string(let range) = value(0), !range.isEmpty,
                range.count <= Touchpoint.maximumIdentifierBytes
            else { return nil }
            return .ticketMerged(into: String(decoding: bytes(range), as: UTF8.self))
        case 12: return integer(0, 1...5).map { .csat(score: $0) }
        case 13: return integer(0, 0...10).map { .nps(score: $0) }
        case 14: return integer(0, 1...7).map { .ces(score: $0) }
        case 15, 16:
            guard case .number(let literal) = value(0),
                let amount = Decimal2(utf8: bytes(literal)),
                amount.cents >= 0,
                isString(1), isString(2)
            else { return nil }
            return code == 15
                ? .orderPlaced(order: "", amount: amount, currency: "")
                : .orderRefunded(order: "", amount: amount, currency: "")
        case 17:
            guard isString(0) else { return nil }
            return .selfServiceViewed(article: "")
        default: return nil
        }
    }
}

extension ByteReader {
    /// The byte range of a string (LEB128 length, bytes), consumed.
    mutating func readRange() -> Range<Int>? {
        guard let length = readInt(), length <= bytes.count - offset else { return nil }
        defer { offset += length }
        return offset..<offset + length
    }

    /// nil on bad input, .some(nil) when absent.
    mutating func readOptionalRange() -> Range<Int>?? {
        guard let marker = readInt() else { return nil }
        if marker == 0 { return .some(nil) }
        guard marker - 1 <= bytes.count - offset else { return nil }
        defer { offset += marker - 1 }
        return .some(offset..<offset + marker - 1)
    }

    mutating func skipString() -> Bool { readRange() != nil }
    mutating func skipOptionalString() -> Bool { readOptionalRange() != nil }
}
