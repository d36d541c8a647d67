/// The bytes of an event: the attributes every event has, tags and `data` fields, appended to the
/// caller's buffer from precomputed pieces (no `String` on the hot path).
extension TouchpointGenerator {
    /// Writes the attributes every event has, up to and including `time`.
    @inline(__always)
    mutating func begin(
        _ type: StaticString, customer: Int, at simulated: Int64, into buffer: inout [UInt8]
    ) {
        buffer.append(contentsOf: idPrefix)
        buffer.appendDecimal(emitted)
        buffer.append(contentsOf: sourceAndType)
        buffer.appendLiteral(type)
        buffer.appendLiteral("\",\"subject\":\"cus-")
        buffer.appendDecimal(customer + 1, width: customerDigits)
        buffer.appendLiteral("\",\"time\":\"")
        buffer.appendTimestamp(eventTime(simulated))
        buffer.append(UInt8(ascii: "\""))
    }

    /// The `time` to print: the simulated time cut to whole seconds after `start`, or, for a
    /// late arrival, a time 30 seconds to 3 days before the previous event's.
    @inline(__always)
    private mutating func eventTime(_ simulated: Int64) -> Int64 {
        let start = configuration.start
        var time = start + (simulated - start) / 1_000_000 * 1_000_000
        let fraction = configuration.lateFraction
        if fraction > 0 && lateRandom.chance(fraction) && lastEmittedTime > start {
            let draw = lateRandom.unit()
            let back = Int64(30 + 259_170 * draw * draw * draw) * 1_000_000
            time = Swift.max(start, Swift.min(time, lastEmittedTime) - back)
        }
        lastEmittedTime = time
        return time
    }

    @inline(__always)
    func appendTicketTag(_ number: Int, into buffer: inout [UInt8]) {
        buffer.appendLiteral(",\"ticketid\":\"tkt-")
        buffer.appendDecimal(number, width: 7)
        buffer.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    func appendRepresentativeTag(_ representative: Int, into buffer: inout [UInt8]) {
        buffer.appendLiteral(",\"repid\":\"rep-")
        buffer.appendDecimal(representative + 1, width: 4)
        buffer.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    func appendScoreData(_ score: Int, into buffer: inout [UInt8]) {
        buffer.appendLiteral(",\"data\":{\"score\":")
        buffer.appendDecimal(score)
        buffer.append(UInt8(ascii: "}"))
    }

    @inline(__always)
    func appendOrderData(
        order: Int, cents: Int, currency: UInt8, into buffer: inout [UInt8]
    ) {
        buffer.appendLiteral(",\"data\":{\"order\":\"ord-")
        buffer.appendDecimal(order, width: 7)
        buffer.appendLiteral("\",\"amount\":")
        buffer.appendCents(cents)
        buffer.append(contentsOf: content.currencyFields[Int(currency)])
    }
}
