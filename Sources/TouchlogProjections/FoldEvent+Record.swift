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

    /// Reads only what the fold needs from a record the log lends: the event time, type, subject, the
    /// `channel`, `ticketid` and `repid` tags and the few `data` members the fold reads, without
    /// building the whole `StoredEvent` nor parsing `data` into a tree. Anything unexpected (an escape
    /// in a data string the fold reads, a nested value, a missing field) answers `.unsure`, and the
    /// caller takes the full, validating path; for every valid event both paths give the same
    /// `FoldEvent` (a test checks it on generated samples).
    static func decode(_ record: borrowing EventRecordView) -> Decoded {
        guard let type = record.knownType else { return .ignored }
        guard record.subjectBytes != nil else { return .unsure }
        var channel: Channel?
        var ticketID: String?
        var repID: String?
        for tag in record.extensions where tag.kind == .string || tag.kind == .number {
            if bytesEqual(tag.name, Self.channelName) {
                guard tag.kind == .string, let found = channelCode(tag.text) else { return .unsure }
                channel = found
            } else if bytesEqual(tag.name, Self.ticketIDName) {
                guard tag.kind == .string else { return .unsure }
                ticketID = String(decoding: tag.text, as: UTF8.self)
            } else if bytesEqual(tag.name, Self.repIDName) {
                guard tag.kind == .string else { return .unsure }
                repID = String(decoding: tag.text, as: UTF8.self)
            }
        }
        var data = DataMembers()
        switch record.dataKind {
        case .absent: break
        case .json:
            guard let members = DataMembers(record.dataText, type: type) else { return .unsure }
            data = members
        case .base64: return .unsure
        }
        guard let kind = data.kind(type) else { return .unsure }
        // The tags each type requires (the catalog checked them on append). Types the lean path does not
        // know (a type added to the catalog, or a rare one) take the validating path: `.unsure`.
        switch type {
        case .contactReceived, .selfServiceViewed: if channel == nil { return .unsure }
        case .contactSent: if channel == nil || repID == nil { return .unsure }
        case .ticketOpened: if channel == nil || ticketID == nil { return .unsure }
        case .ticketAssigned: if ticketID == nil || repID == nil { return .unsure }
        case .ticketReplied:
            if ticketID == nil { return .unsure }
            if case .ticketReplied(.rep, _) = kind, repID == nil { return .unsure }
        case .ticketStatusChanged, .ticketPriorityChanged, .ticketEscalated, .ticketSolved, .ticketReopened,
            .ticketClosed:
            if ticketID == nil { return .unsure }
        case .csat, .nps, .ces, .orderPlaced, .orderRefunded: break
        default: return .unsure
        }
        return .event(
            FoldEvent(
                position: record.position, occurredAt: record.occurredAt,
                identityDigest: record.stableIdentityDigest, type: type,
                customer: record.customerKey, ticketID: ticketID, repID: repID,
                channel: channel, kind: kind, openingSource: type == .ticketOpened ? record.source : nil))
    }

    /// The fold's reading of a record: the lean decoder, or the validating path where it is unsure;
    /// nil for a type the projections ignore (or a record that no longer validates).
    static func folding(_ record: borrowing EventRecordView) -> FoldEvent? {
        switch decode(record) {
        case .event(let event): return event
        case .ignored: return nil
        case .unsure: return FoldEvent(record.storedEvent)
        }
    }

    private static let channelName = Array("channel".utf8)
    private static let ticketIDName = Array("ticketid".utf8)
    private static let repIDName = Array("repid".utf8)
    private static let channelBytes: [(Channel, [UInt8])] = Channel.allCases.map {
        ($0, Array($0.rawValue.utf8))
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
/// of the text, read with the CloudEvents scanner (`JSONObjectMembers`): nothing is allocated. Nil for
/// anything but a flat object of strings, numbers, booleans and null (the full path handles it), for
/// a key with escapes, or when a member the fold reads appears twice (the log's JSON parser rejects
/// duplicate keys on append, so a stored record has none).
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

    /// The names of the members the fold reads for each type, in the order of `found`.
    static func wanted(_ type: KnownType) -> [String] {
        switch type {
        case .ticketOpened, .ticketPriorityChanged: ["priority"]
        case .ticketReplied: ["author", "public"]
        case .ticketStatusChanged: ["status"]
        case .csat, .nps, .ces: ["score"]
        case .orderPlaced, .orderRefunded: ["amount", "order", "currency"]
        case .selfServiceViewed: ["article"]
        default: []
        }
    }

    /// `wanted` as UTF-8, by type code (an in-memory table, filled once).
    static let keys: [[[UInt8]]] = {
        var keys = [[[UInt8]]](repeating: [], count: Int(KnownType.allCases.map(\.rawValue).max()!) + 1)
        for type in KnownType.allCases { keys[Int(type.rawValue)] = wanted(type).map { Array($0.utf8) } }
        return keys
    }()

    let text: UnsafeRawBufferPointer
    /// The values of `keys[type]`, nil when absent.
    var found: InlineArray<3, Value?> = .init(repeating: nil)

    /// An empty `data` (no data at all).
    init() { text = UnsafeRawBufferPointer(start: nil, count: 0) }

    init?(_ text: UnsafeRawBufferPointer, type: KnownType) {
        self.text = text
        let wanted = Self.keys[Int(type.rawValue)]
        // Text that does not read as a flat object answers nil, and the validating path reports why.
        do {
            var members = try JSONObjectMembers(text)
            while let member = try members.next() {
                let value: Value
                switch member.value {
                case .string(let range, let hasEscapes): value = hasEscapes ? .escapedString : .string(range)
                case .number(let range): value = .number(range)
                case .bool(let flag): value = .bool(flag)
                case .null: value = .null
                case .container: return nil
                }
                guard !member.keyHasEscapes else { return nil }
                let key = UnsafeRawBufferPointer(rebasing: text[member.key])
                for (slot, name) in wanted.enumerated() where bytesEqual(key, name) {
                    if found[slot] != nil { return nil }
                    found[slot] = value
                }
            }
        } catch {
            return nil
        }
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

    /// The kind of a `type` event, decoded as `Catalog` does for the fields the fold reads; nil when a
    /// field is missing or invalid.
    func kind(_ type: KnownType) -> TouchpointKind? {
        switch type {
        case .contactReceived: return .contactReceived(summary: nil)
        case .contactSent: return .contactSent(summary: nil)
        case .ticketOpened:
            guard let priority = enumeration(0, Priority.self) else { return nil }
            return .ticketOpened(priority: priority ?? .normal, summary: nil)
        case .ticketAssigned: return .ticketAssigned
        case .ticketReplied:
            guard let author = enumeration(0, ReplyAuthor.self), let author else { return nil }
            var isPublic = true
            switch value(1) {
            case nil: break
            case .bool(let flag): isPublic = flag
            default: return nil
            }
            return .ticketReplied(author: author, isPublic: isPublic)
        case .ticketStatusChanged:
            guard let status = enumeration(0, SettableStatus.self), let status else { return nil }
            return .ticketStatusChanged(status)
        case .ticketPriorityChanged:
            guard let priority = enumeration(0, Priority.self), let priority else { return nil }
            return .ticketPriorityChanged(priority)
        case .ticketEscalated: return .ticketEscalated(level: nil, reason: nil)
        case .ticketSolved: return .ticketSolved
        case .ticketReopened: return .ticketReopened
        case .ticketClosed: return .ticketClosed
        case .csat: return integer(0, 1...5).map { .csat(score: $0) }
        case .nps: return integer(0, 0...10).map { .nps(score: $0) }
        case .ces: return integer(0, 1...7).map { .ces(score: $0) }
        case .orderPlaced, .orderRefunded:
            guard case .number(let literal) = value(0),
                let amount = Decimal2(utf8: bytes(literal)),
                amount.cents >= 0,
                isString(1), isString(2)
            else { return nil }
            return type == .orderPlaced
                ? .orderPlaced(order: "", amount: amount, currency: "")
                : .orderRefunded(order: "", amount: amount, currency: "")
        case .selfServiceViewed:
            guard isString(0) else { return nil }
            return .selfServiceViewed(article: "")
        default:
            // Not decoded here (a type added to the catalog, or a rare one such as ticket.merged):
            // the validating path decodes it through the catalog.
            return nil
        }
    }
}
