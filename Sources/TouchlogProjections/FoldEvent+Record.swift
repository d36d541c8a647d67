import CloudEvents
import TouchlogStore

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
            if name.elementsEqual("channel".utf8) {
                guard kind == 0, let found = channelCode(value) else { return .unsure }
                channel = found
            } else if name.elementsEqual("ticketid".utf8) {
                guard kind == 0 else { return .unsure }
                ticketID = String(decoding: value, as: UTF8.self)
            } else if name.elementsEqual("repid".utf8) {
                guard kind == 0 else { return .unsure }
                repID = String(decoding: value, as: UTF8.self)
            }
        }
        var data = DataMembers()
        switch r.readByte() {
        case 0: break
        case 1:
            guard let range = r.readRange(),
                let members = DataMembers(UnsafeRawBufferPointer(rebasing: bytes[range]))
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

    private static let typeBytes: [[UInt8]] = Catalog.knownTypes.map { Array($0.utf8) }

    private static func knownTypeCode(_ bytes: UnsafeRawBufferPointer) -> Int? {
        for (index, type) in typeBytes.enumerated()
        where type.count == bytes.count && type.elementsEqual(bytes) {
            return index
        }
        return nil
    }

    private static func channelCode(_ bytes: UnsafeRawBufferPointer) -> Channel? {
        for channel in Channel.allCases where channel.rawValue.utf8.elementsEqual(bytes) { return channel }
        return nil
    }
}

/// The top-level members of a flat JSON object, as raw text: strings without escapes, numbers,
/// booleans, null. Nil for anything else (the full path handles it).
private struct DataMembers {
    var members: [(key: String, value: Value)] = []

    enum Value {
        case string(String)
        /// A string with escapes, which the fold never needs undone (a summary); a field the fold
        /// reads that has one goes the validating way.
        case escapedString
        case number(String)
        case bool(Bool)
        case null
    }

    init() {}

    init?(_ text: UnsafeRawBufferPointer) {
        var i = 0
        let n = text.count
        func skipSpace() {
            while i < n, text[i] == 0x20 || text[i] == 0x09 || text[i] == 0x0A || text[i] == 0x0D { i += 1 }
        }
        /// A string's text, or nil (and skipped) when it has escapes; `valid` turns false on bad input.
        var valid = true
        func string() -> String? {
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
            return escaped
                ? nil : String(decoding: UnsafeRawBufferPointer(rebasing: text[start..<i]), as: UTF8.self)
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
                    value = .number(
                        String(decoding: UnsafeRawBufferPointer(rebasing: text[start..<i]), as: UTF8.self))
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
                if members.contains(where: { $0.key == key }) { return nil }
                members.append((key, value))
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

    /// The value of `key`; a null member counts as absent (as the catalog reads it).
    private func value(_ key: String) -> Value? {
        for member in members where member.key == key {
            if case .null = member.value { return nil }
            return member.value
        }
        return nil
    }

    /// A present string member, or nil when absent; `.none` inside when present but not a string.
    private func string(_ key: String) -> String?? {
        switch value(key) {
        case nil: return .some(nil)
        case .string(let s): return .some(s)
        default: return nil  // escaped or not a string
        }
    }

    private func isString(_ key: String) -> Bool {
        switch value(key) {
        case .string, .escapedString: return true
        default: return false
        }
    }

    private func integer(_ key: String, _ range: ClosedRange<Int>) -> Int? {
        guard case .number(let literal) = value(key), let number = Int(literal), range.contains(number) else {
            return nil
        }
        return number
    }

    private func enumeration<E: RawRepresentable>(_ key: String, _: E.Type) -> E??
    where E.RawValue == String {
        guard let text = string(key) else { return nil }
        guard let text else { return .some(nil) }
        guard let value = E(rawValue: text) else { return nil }
        return .some(value)
    }

    /// The kind of catalog type `code`, decoded as `Catalog` does for the fields the fold reads;
    /// nil when a field is missing or invalid.
    func kind(_ code: Int) -> TouchpointKind? {
        switch code {
        case 0: return .contactReceived(summary: nil)
        case 1: return .contactSent(summary: nil)
        case 2:
            guard let priority = enumeration("priority", Priority.self) else { return nil }
            return .ticketOpened(priority: priority ?? .normal, summary: nil)
        case 3: return .ticketAssigned
        case 4:
            guard let author = enumeration("author", ReplyAuthor.self), let author else { return nil }
            var isPublic = true
            switch value("public") {
            case nil: break
            case .bool(let flag): isPublic = flag
            default: return nil
            }
            return .ticketReplied(author: author, isPublic: isPublic)
        case 5:
            guard let status = enumeration("status", SettableStatus.self), let status else { return nil }
            return .ticketStatusChanged(status)
        case 6:
            guard let priority = enumeration("priority", Priority.self), let priority else { return nil }
            return .ticketPriorityChanged(priority)
        case 7: return .ticketEscalated(level: nil, reason: nil)
        case 8: return .ticketSolved
        case 9: return .ticketReopened
        case 10: return .ticketClosed
        case 11:
            guard let into = string("into"), let into, !into.isEmpty,
                into.utf8.count <= Touchpoint.maximumIdentifierBytes
            else { return nil }
            return .ticketMerged(into: into)
        case 12: return integer("score", 1...5).map { .csat(score: $0) }
        case 13: return integer("score", 0...10).map { .nps(score: $0) }
        case 14: return integer("score", 1...7).map { .ces(score: $0) }
        case 15, 16:
            guard case .number(let literal) = value("amount"), let amount = Decimal2(literal: literal),
                amount.cents >= 0,
                isString("order"), isString("currency")
            else { return nil }
            return code == 15
                ? .orderPlaced(order: "", amount: amount, currency: "")
                : .orderRefunded(order: "", amount: amount, currency: "")
        case 17:
            guard isString("article") else { return nil }
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
