/// Produces realistic synthetic customer touchpoints as CloudEvents 1.0 JSON, deterministically.
///
/// A small discrete-event simulation. Activities (a ticket opened, a contact, a help-center view,
/// an order, a refund, an NPS answer) start at a steady rate that follows the time of day and
/// the day of the week; each picks its customer from a skewed popularity table, so a few
/// customers are very busy and most are quiet. An opened ticket then walks the help-desk
/// lifecycle of DESIGN.md section 3 (assignment, replies, pending and on-hold, escalations,
/// priority changes, solve, feedback, reopens, close, or a merge into the customer's other open
/// ticket); its next step waits in a time-ordered queue. Each call emits the earliest pending
/// thing, so tickets of different customers interleave and event times never go backwards,
/// except for the configured share of late arrivals.
///
/// Memory is proportional to customers, representatives and open tickets, never to events.
/// The hot path appends precomputed bytes and integers; it uses no Foundation and no `String`.
public struct TouchpointGenerator: IteratorProtocol, Sequence, Sendable {
    /// What this generator produces.
    public let configuration: GeneratorConfiguration

    // The simulation's state. Members without `private` are used by the extensions in
    // TouchpointGenerator+Tickets.swift and TouchpointGenerator+Writing.swift.
    let content = TouchpointContent()
    var random: RandomSource
    /// Late arrivals draw from their own stream, so `lateFraction` changes only times.
    var lateRandom: RandomSource
    private let customerPopularity: PopularityTable
    let representativeLoad: PopularityTable
    var customers: [CustomerState]
    var tickets: [TicketState] = []
    var freeSlots: [Int32] = []
    var queue = StepQueue()

    /// When the next activity starts, in simulated microseconds.
    private var nextActivity: Int64
    /// The mean time between activities at an average hour, in microseconds.
    private let activityGap: Double
    var emitted = 0
    var lastEmittedTime: Int64
    var ticketCount = 0
    private var orderCount = 0

    /// `{"specversion":"1.0","id":"evt-<run>-`: everything before the event counter.
    let idPrefix: [UInt8]
    /// `","source":"<source>","type":"`: between the event counter and the type.
    let sourceAndType: [UInt8]
    let customerDigits: Int

    /// Creates a generator. The configuration must pass ``GeneratorConfiguration/validate()``.
    public init(_ configuration: GeneratorConfiguration) {
        do {
            try configuration.validate()
        } catch {
            preconditionFailure(error.description)
        }
        self.configuration = configuration
        let seed = configuration.seed
        var setup = RandomSource(seed: seed)
        random = RandomSource(seed: SplitMix64.mix(seed ^ 0x7369_6D75_6C61_7465))
        lateRandom = RandomSource(seed: SplitMix64.mix(seed ^ 0x6C61_7465_6E65_7373))

        // Zipf-Mandelbrot with exponent 1.1: with 1,000 customers the top 10% make ~57% of the
        // activity and the busiest ~2.5%; the offset of 10 keeps one customer from dominating.
        customerPopularity = PopularityTable(
            count: configuration.customers, exponent: 1.1, offset: 10, random: &setup)
        // Some representatives carry more tickets than others, but far less skewed.
        representativeLoad = PopularityTable(
            count: configuration.representatives, exponent: 0.6, offset: 3, random: &setup)
        let currency = TouchpointContent().currency
        customers = (0..<configuration.customers).map { _ in
            CustomerState(currency: UInt8(currency.pick(&setup)))
        }

        // Each customer starts about one activity every two days on average.
        activityGap = 172_800_000_000 / Double(configuration.customers)
        nextActivity = configuration.start
        lastEmittedTime = configuration.start

        // The run identifier keeps ids of different runs apart; it ignores `events` (so a shorter
        // run is a prefix of a longer one) and `lateFraction` (same events, other times).
        var run = SplitMix64.mix(seed)
        run = SplitMix64.mix(run ^ UInt64(configuration.customers))
        run = SplitMix64.mix(run ^ (UInt64(configuration.representatives) << 32))
        run = SplitMix64.mix(run ^ UInt64(bitPattern: configuration.start))
        let hexDigits = Array("0123456789abcdef".utf8)
        var prefix = Array("{\"specversion\":\"1.0\",\"id\":\"evt-".utf8)
        for shift in stride(from: 60, through: 0, by: -4) {
            prefix.append(hexDigits[Int((run >> UInt64(shift)) & 0xF)])
        }
        prefix.append(UInt8(ascii: "-"))
        idPrefix = prefix
        var middle = Array("\",\"source\":\"".utf8)
        middle.appendJSONEscaped(configuration.source)
        middle.append(contentsOf: "\",\"type\":\"".utf8)
        sourceAndType = middle
        customerDigits = Swift.max(6, String(configuration.customers).count)
    }

    /// The next event's JSON bytes (one line, no newline), or `nil` after `events` events.
    public mutating func next() -> [UInt8]? {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(400)
        return writeNext(into: &buffer) ? buffer : nil
    }

    /// Appends the next event's JSON bytes to `buffer` (no newline).
    /// - Returns: false, leaving `buffer` unchanged, when all events have been produced.
    public mutating func writeNext(into buffer: inout [UInt8]) -> Bool {
        guard emitted < configuration.events else { return false }
        emitted += 1
        if let step = queue.first, step.time <= nextActivity {
            _ = queue.removeFirst()
            advanceTicket(in: Int(step.slot), at: step.time, into: &buffer)
        } else {
            startActivity(at: nextActivity, into: &buffer)
        }
        return true
    }

    // MARK: - Activities

    private mutating func startActivity(at time: Int64, into buffer: inout [UInt8]) {
        let customer = customerPopularity.pick(&random)
        scheduleNextActivity(after: time)
        switch TouchpointContent.Activity(rawValue: content.activity.pick(&random)) ?? .view {
        case .ticket:
            openTicket(for: customer, at: time, into: &buffer)
        case .contactReceived:
            let channel = content.inboundChannel.pick(&random)
            begin("contact.received", customer: customer, at: time, into: &buffer)
            buffer.append(contentsOf: content.channelTags[channel])
            if random.chance(0.45) {
                let summaries = content.inboundSummaryFields
                buffer.append(contentsOf: summaries[random.below(summaries.count)])
            }
            buffer.append(UInt8(ascii: "}"))
        case .contactSent:
            let channel = content.outboundChannel.pick(&random)
            let representative = representativeLoad.pick(&random)
            begin("contact.sent", customer: customer, at: time, into: &buffer)
            buffer.append(contentsOf: content.channelTags[channel])
            appendRepresentativeTag(representative, into: &buffer)
            if random.chance(0.6) {
                let summaries = content.outboundSummaryFields
                buffer.append(contentsOf: summaries[random.below(summaries.count)])
            }
            buffer.append(UInt8(ascii: "}"))
        case .view:
            let channel = content.viewChannel.pick(&random)
            let article = content.article.pick(&random)
            begin("selfservice.viewed", customer: customer, at: time, into: &buffer)
            buffer.append(contentsOf: content.channelTags[channel])
            buffer.append(contentsOf: content.articleData[article])
            buffer.append(UInt8(ascii: "}"))
        case .order:
            placeOrder(for: customer, at: time, into: &buffer)
        case .refund:
            let order = customers[customer].lastOrder
            guard order != 0 else {
                // Nothing to refund yet: the customer buys instead.
                placeOrder(for: customer, at: time, into: &buffer)
                return
            }
            let paid = customers[customer].lastOrderCents
            // Most refunds are full; the rest return part of the order.
            let cents = random.chance(0.7) ? paid : Swift.max(1, paid * (20 + random.below(61)) / 100)
            customers[customer].lastOrder = 0
            begin("order.refunded", customer: customer, at: time, into: &buffer)
            appendOrderData(
                order: order, cents: cents, currency: customers[customer].currency, into: &buffer)
            buffer.append(UInt8(ascii: "}"))
        case .nps:
            begin("feedback.nps", customer: customer, at: time, into: &buffer)
            appendScoreData(content.nps.pick(&random), into: &buffer)
            buffer.append(UInt8(ascii: "}"))
        }
    }

    /// Typical shelf prices in cents; orders are one to three of an item.
    private static let prices = [
        999, 1490, 1999, 2450, 2990, 3999, 4900, 5990, 7999, 9900, 12990, 14900, 19900, 24990,
        39900, 89900,
    ]
    private static let price = WeightedChoice([9, 10, 12, 9, 11, 10, 8, 8, 6, 5, 4, 3, 2, 1, 1, 1])
    private static let quantity = WeightedChoice([80, 15, 5])

    private mutating func placeOrder(
        for customer: Int, at time: Int64, into buffer: inout [UInt8]
    ) {
        orderCount += 1
        let cents = Self.prices[Self.price.pick(&random)] * (1 + Self.quantity.pick(&random))
        customers[customer].lastOrder = orderCount
        customers[customer].lastOrderCents = cents
        begin("order.placed", customer: customer, at: time, into: &buffer)
        appendOrderData(
            order: orderCount, cents: cents, currency: customers[customer].currency, into: &buffer)
        buffer.append(UInt8(ascii: "}"))
    }

    /// Activity follows office hours (UTC) and drops at weekends: the gap to the next activity
    /// is a uniform draw around the mean gap, divided by the current rate factor.
    private mutating func scheduleNextActivity(after time: Int64) {
        let seconds = floorDivide(time, 1_000_000)
        let days = floorDivide(seconds, 86_400)
        let hour = Int(seconds - days * 86_400) / 3600
        let weekday = Int(((days + 4) % 7 + 7) % 7)  // 1970-01-01 was a Thursday; 0 is Sunday
        let rate = Self.hourlyRate[hour] * (weekday == 0 || weekday == 6 ? 0.55 : 1.18)
        let gap = activityGap * 2 * random.unit() / rate
        nextActivity = time + Int64(gap) + 1
    }

    private static let hourlyRate: [Double] = [
        0.30, 0.25, 0.20, 0.20, 0.25, 0.35, 0.60, 0.90, 1.30, 1.60, 1.70, 1.60,
        1.40, 1.50, 1.60, 1.60, 1.50, 1.30, 1.10, 0.90, 0.80, 0.70, 0.50, 0.40,
    ]
}

/// What the generator remembers per customer.
struct CustomerState: Sendable {
    /// The number of the customer's most recent open ticket, 0 when none (merge target).
    var openTicket = 0
    var openTicketSlot: Int32 = -1
    /// The customer's last order not yet refunded, 0 when none.
    var lastOrder = 0
    var lastOrderCents = 0
    var currency: UInt8
}
