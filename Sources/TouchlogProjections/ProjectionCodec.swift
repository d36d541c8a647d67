import CloudEvents
import TouchlogDomain
import TouchlogStore

/// Appends the compact binary encoding of projection records (docs/STORAGE.md, "Projections").
///
/// Deterministic: the same record always gives the same bytes (integers are LEB128 or big-endian,
/// doubles their IEEE 754 bit pattern, big-endian), so a rebuild and incremental maintenance store
/// identical values.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 128) { bytes.reserveCapacity(capacity) }

    mutating func writeByte(_ value: UInt8) { bytes.append(value) }

    mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func writeUInt64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    mutating func writeTime(_ time: Timestamp) {
        writeUInt64(UInt64(bitPattern: time.microsecondsSinceEpoch))
    }

    mutating func writeOptionalTime(_ time: Timestamp?) {
        guard let time else {
            writeByte(0)
            return
        }
        writeByte(1)
        writeTime(time)
    }

    mutating func writeDouble(_ value: Double) { writeUInt64(value.bitPattern) }

    /// Two's complement, big-endian, 16 bytes.
    mutating func writeInt128(_ value: Int128) {
        let bits = UInt128(bitPattern: value)
        writeUInt64(UInt64(truncatingIfNeeded: bits >> 64))
        writeUInt64(UInt64(truncatingIfNeeded: bits))
    }

    mutating func writeString(_ text: String) {
        writeVarint(UInt64(text.utf8.count))
        bytes.append(contentsOf: text.utf8)
    }

    mutating func writeOptionalString(_ text: String?) {
        guard let text else {
            writeByte(0)
            return
        }
        writeVarint(UInt64(text.utf8.count) + 1)
        bytes.append(contentsOf: text.utf8)
    }
}

/// What `ByteWriter` writes beyond the store's common encodings: times, doubles, Int counts.
extension ByteReader {
    mutating func readInt() -> Int? { readVarint().flatMap { $0 <= UInt64(Int.max) ? Int($0) : nil } }

    mutating func readTime() -> Timestamp? {
        readUInt64().map { Timestamp(microsecondsSinceEpoch: Int64(bitPattern: $0)) }
    }

    /// nil on bad input, .some(nil) when absent.
    mutating func readOptionalTime() -> Timestamp?? {
        switch readByte() {
        case 0: return .some(nil)
        case 1: return readTime().map { .some($0) }
        default: return nil
        }
    }

    mutating func readDouble() -> Double? { readUInt64().map { Double(bitPattern: $0) } }

    mutating func readInt128() -> Int128? {
        guard let high = readUInt64(), let low = readUInt64() else { return nil }
        return Int128(bitPattern: UInt128(high) << 64 | UInt128(low))
    }
}

enum ProjectionCodec {
    /// The format of ticket, customer and timeline records (2: order-independent fold, verdicts, the
    /// ticket's event positions and the last event applied).
    static let recordFormat: UInt8 = 2

    // MARK: Tickets (key: ticket id)

    static func encode(_ ticket: TicketState) -> [UInt8] {
        var w = ByteWriter(capacity: 160 + 4 * ticket.eventPositions.count)
        w.writeByte(recordFormat)
        w.writeString(ticket.customer)
        w.writeByte(ticket.status.code)
        w.writeByte(ticket.priority.code)
        w.writeByte(ticket.channel.map { $0.code + 1 } ?? 0)
        w.writeByte(ticket.firstReplyVerdict.rawValue)
        w.writeByte(ticket.resolutionVerdict.rawValue)
        w.writeOptionalString(ticket.source)
        w.writeOptionalString(ticket.assignee)
        w.writeOptionalTime(ticket.openedAt)
        w.writeOptionalTime(ticket.firstReplyAt)
        w.writeOptionalString(ticket.firstReplyBy)
        w.writeVarint(ticket.firstReplyPosition)
        w.writeOptionalTime(ticket.solvedAt)
        w.writeOptionalTime(ticket.closedAt)
        w.writeOptionalTime(ticket.resolvedAt)
        w.writeVarint(UInt64(ticket.reopens))
        w.writeVarint(UInt64(ticket.publicReplies))
        w.writeVarint(UInt64(ticket.escalations))
        w.writeVarint(UInt64(ticket.followUps))
        w.writeOptionalString(ticket.mergedInto)
        w.writeTime(ticket.firstEventAt)
        w.writeTime(ticket.lastEventAt)
        w.writeVarint(ticket.lastPosition)
        ticket.watermark.write(to: &w)
        // Positions ascending, each as its distance from the one before.
        w.writeVarint(UInt64(ticket.eventPositions.count))
        var previous: UInt64 = 0
        for position in ticket.eventPositions {
            w.writeVarint(position - previous)
            previous = position
        }
        w.writeVarint(UInt64(ticket.anomalies.count))
        for anomaly in ticket.anomalies {
            w.writeVarint(anomaly.position)
            w.writeString(anomaly.type)
            w.writeString(anomaly.reason)
        }
        return w.bytes
    }

    static func decodeTicket(id: String, _ bytes: UnsafeRawBufferPointer) -> TicketState? {
        var r = ByteReader(bytes)
        guard r.readByte() == recordFormat, let customer = r.readString(),
            let status = r.readByte().flatMap(TicketStatus.init(code:)),
            let priority = r.readByte().flatMap(Priority.init(code:)),
            let channelCode = r.readByte(),
            channelCode == 0 || Channel(code: channelCode - 1) != nil,
            let firstReplyVerdict = r.readByte().flatMap(SLAVerdict.init(rawValue:)),
            let resolutionVerdict = r.readByte().flatMap(SLAVerdict.init(rawValue:)),
            let source = r.readOptionalString(),
            let assignee = r.readOptionalString(), let openedAt = r.readOptionalTime(),
            let firstReplyAt = r.readOptionalTime(), let firstReplyBy = r.readOptionalString(),
            let firstReplyPosition = r.readVarint(), let solvedAt = r.readOptionalTime(),
            let closedAt = r.readOptionalTime(), let resolvedAt = r.readOptionalTime(),
            let reopens = r.readInt(), let publicReplies = r.readInt(), let escalations = r.readInt(),
            let followUps = r.readInt(), let mergedInto = r.readOptionalString(),
            let firstEventAt = r.readTime(), let lastEventAt = r.readTime(),
            let lastPosition = r.readVarint(),
            let watermark = r.readEventOrder(), let positionCount = r.readInt(), positionCount <= bytes.count
        else { return nil }
        var ticket = TicketState(id: id, customer: customer, firstEventAt: firstEventAt)
        var previous: UInt64 = 0
        ticket.eventPositions.reserveCapacity(positionCount)
        for _ in 0..<positionCount {
            guard let delta = r.readVarint(), delta > 0, delta <= UInt64.max - previous else { return nil }
            previous += delta
            ticket.eventPositions.append(previous)
        }
        guard let anomalyCount = r.readInt(), anomalyCount <= bytes.count else { return nil }
        for _ in 0..<anomalyCount {
            guard let position = r.readVarint(), let type = r.readString(), let reason = r.readString() else {
                return nil
            }
            ticket.anomalies.append(TicketAnomaly(position: position, type: type, reason: reason))
        }
        guard r.isAtEnd else { return nil }
        ticket.status = status
        ticket.priority = priority
        ticket.channel = channelCode == 0 ? nil : Channel(code: channelCode - 1)
        ticket.firstReplyVerdict = firstReplyVerdict
        ticket.resolutionVerdict = resolutionVerdict
        ticket.source = source
        ticket.assignee = assignee
        ticket.openedAt = openedAt
        ticket.firstReplyAt = firstReplyAt
        ticket.firstReplyBy = firstReplyBy
        ticket.firstReplyPosition = firstReplyPosition
        ticket.solvedAt = solvedAt
        ticket.closedAt = closedAt
        ticket.resolvedAt = resolvedAt
        ticket.reopens = reopens
        ticket.publicReplies = publicReplies
        ticket.escalations = escalations
        ticket.followUps = followUps
        ticket.mergedInto = mergedInto
        ticket.lastEventAt = lastEventAt
        ticket.lastPosition = lastPosition
        ticket.watermark = watermark
        return ticket
    }

    // MARK: Customers (key: customer id)

    static var loyaltySums: [WritableKeyPath<CustomerLoyalty, Double>] {
        [
            \.csatSum, \.csatCount, \.npsSum, \.npsCount, \.cesSum, \.cesCount, \.slaMet, \.slaBreached,
            \.reopens,
            \.escalations, \.contacts, \.tickets, \.orders, \.refunds, \.orderCents, \.refundCents,
        ]
    }

    static func encode(_ loyalty: CustomerLoyalty) -> [UInt8] {
        var w = ByteWriter(capacity: 180)
        w.writeByte(recordFormat)
        w.writeTime(loyalty.asOf)
        w.writeVarint(loyalty.lastPosition)
        w.writeTime(loyalty.own.reference)
        for path in CustomerLoyalty.OwnSums.fields { w.writeInt128(loyalty.own[keyPath: path]) }
        for path in loyaltySums { w.writeDouble(loyalty[keyPath: path]) }
        w.writeOptionalTime(loyalty.lastOrderAt)
        w.writeDouble(loyalty.score)
        w.writeString(loyalty.tier)
        return w.bytes
    }

    static func decodeCustomer(id: String, _ bytes: UnsafeRawBufferPointer) -> CustomerLoyalty? {
        var r = ByteReader(bytes)
        guard r.readByte() == recordFormat, let asOf = r.readTime(), let lastPosition = r.readVarint(),
            let reference = r.readTime()
        else {
            return nil
        }
        var loyalty = CustomerLoyalty(customer: id, asOf: asOf, lastPosition: lastPosition)
        loyalty.own.reference = reference
        for path in CustomerLoyalty.OwnSums.fields {
            guard let sum = r.readInt128() else { return nil }
            loyalty.own[keyPath: path] = sum
        }
        for path in loyaltySums {
            guard let value = r.readDouble() else { return nil }
            loyalty[keyPath: path] = value
        }
        guard let lastOrderAt = r.readOptionalTime(), let score = r.readDouble(), let tier = r.readString(),
            r.isAtEnd
        else { return nil }
        loyalty.lastOrderAt = lastOrderAt
        loyalty.score = score
        loyalty.tier = tier
        return loyalty
    }

    // MARK: Owners (key: customer, ticket id; empty value)

    /// u16 length of the customer id, the customer id, the ticket id: each customer's tickets together,
    /// in ticket-id byte order.
    static func ownerKey(_ customer: String, _ ticket: String) -> [UInt8] {
        ownerPrefix(customer) + Array(ticket.utf8)
    }

    /// The customer and ticket of an owner key.
    static func decodeOwnerKey(_ key: UnsafeRawBufferPointer) -> (customer: String, ticket: String)? {
        guard key.count >= 2 else { return nil }
        let count = Int(key[0]) << 8 | Int(key[1])
        guard key.count >= 2 + count else { return nil }
        return (
            String(decoding: UnsafeRawBufferPointer(rebasing: key[2..<2 + count]), as: UTF8.self),
            String(decoding: UnsafeRawBufferPointer(rebasing: key[(2 + count)...]), as: UTF8.self)
        )
    }

    static func ownerPrefix(_ customer: String) -> [UInt8] {
        let count = customer.utf8.count
        return [UInt8(count >> 8), UInt8(count & 0xFF)] + Array(customer.utf8)
    }

    // MARK: Rep timeline (key: rep, event time, position)

    /// u16 length of the rep id, the rep id, the event time (i64 with its sign bit flipped, so
    /// byte order is time order), the position: every entry of a rep together, in event-time order.
    static func timelineKey(rep: String, time: Timestamp, position: UInt64) -> [UInt8] {
        var w = ByteWriter(capacity: rep.utf8.count + 18)
        writeTimelineKey(rep: rep, time: time, position: position, to: &w)
        return w.bytes
    }

    static func writeTimelineKey(rep: String, time: Timestamp, position: UInt64, to w: inout ByteWriter) {
        let count = rep.utf8.count
        w.writeByte(UInt8(count >> 8))
        w.writeByte(UInt8(count & 0xFF))
        w.bytes.append(contentsOf: rep.utf8)
        w.writeUInt64(UInt64(bitPattern: time.microsecondsSinceEpoch) ^ (1 << 63))
        w.writeUInt64(position)
    }

    /// Whether rep `a`'s timeline keys sort before rep `b`'s: by length (the u16 prefix), then by
    /// UTF-8 bytes.
    static func repKeyOrder(_ a: String, _ b: String) -> Bool {
        let (x, y) = (a.utf8.count, b.utf8.count)
        return x != y ? x < y : utf8Less(a, b)
    }

    static func repPrefix(_ rep: String) -> [UInt8] {
        let count = rep.utf8.count
        return [UInt8(count >> 8), UInt8(count & 0xFF)] + Array(rep.utf8)
    }

    static func encode(_ entry: RepTimelineEntry) -> [UInt8] {
        var w = ByteWriter(capacity: 48)
        write(entry, to: &w)
        return w.bytes
    }

    /// The type code written for a timeline entry of a type the catalog does not know.
    static let noTypeCode = UInt8.max

    static func write(_ entry: RepTimelineEntry, to w: inout ByteWriter) {
        w.writeByte(recordFormat)
        // The type's catalog code; an entry of an unknown type (none is folded) gets one no type has.
        w.writeByte(KnownType(name: entry.type)?.rawValue ?? Self.noTypeCode)
        w.writeByte(entry.detail)
        w.writeString(entry.customer)
        w.writeOptionalString(entry.ticket)
    }

    /// The rep, event time and position of a timeline key.
    static func decodeTimelineKey(_ key: UnsafeRawBufferPointer) -> (
        rep: String, time: Timestamp, position: UInt64
    )? {
        guard key.count >= 18 else { return nil }
        let repCount = Int(key[0]) << 8 | Int(key[1])
        guard key.count == 2 + repCount + 16 else { return nil }
        let rep = String(decoding: UnsafeRawBufferPointer(rebasing: key[2..<2 + repCount]), as: UTF8.self)
        var k = ByteReader(UnsafeRawBufferPointer(rebasing: key[(2 + repCount)...]))
        guard let timeBits = k.readUInt64(), let position = k.readUInt64() else { return nil }
        return (rep, Timestamp(microsecondsSinceEpoch: Int64(bitPattern: timeBits ^ (1 << 63))), position)
    }

    static func decodeTimeline(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
        -> RepTimelineEntry?
    {
        guard let (rep, time, position) = decodeTimelineKey(key) else { return nil }
        var r = ByteReader(value)
        guard r.readByte() == recordFormat, let type = r.readByte().flatMap(KnownType.init(rawValue:)),
            let detail = r.readByte(), let customer = r.readString(), let ticket = r.readOptionalString(),
            r.isAtEnd
        else { return nil }
        return RepTimelineEntry(
            rep: rep, occurredAt: time, position: position, type: type.name,
            customer: customer,
            ticket: ticket, detail: detail)
    }
}

extension CustomerLoyalty {
    /// A record being decoded: the sums are filled in by the codec.
    init(customer: String, asOf: Timestamp, lastPosition: UInt64) {
        self.customer = customer
        self.asOf = asOf
        self.lastPosition = lastPosition
        score = 0
        tier = ""
    }
}
