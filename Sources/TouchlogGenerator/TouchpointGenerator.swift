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

    private let content = TouchpointContent()
    private var random: RandomSource
    /// Late arrivals draw from their own stream, so `lateFraction` changes only times.
    private var lateRandom: RandomSource
    private let customerPopularity: PopularityTable
    private let representativeLoad: PopularityTable
    private var customers: [CustomerState]
    private var tickets: [TicketState] = []
    private var freeSlots: [Int32] = []
    private var queue = StepQueue()

    /// When the next activity starts, in simulated microseconds.
    private var nextActivity: Int64
    /// The mean time between activities at an average hour, in microseconds.
    private let activityGap: Double
    private var emitted = 0
    private var lastEmittedTime: Int64
    private var ticketCount = 0
    private var orderCount = 0

    /// `{"specversion":"1.0","id":"evt-<run>-`: everything before the event counter.
    private let idPrefix: [UInt8]
    /// `","source":"<source>","type":"`: between the event counter and the type.
    private let sourceAndType: [UInt8]
    private let customerDigits: Int

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

    // MARK: - Tickets

    private mutating func openTicket(for customer: Int, at time: Int64, into buffer: inout [UInt8]) {
        ticketCount += 1
        let number = ticketCount
        let priority = content.priority.pick(&random)
        let channel = content.ticketChannel.pick(&random)
        var ticket = TicketState(
            number: number, customer: Int32(customer), priority: UInt8(priority),
            channel: UInt8(channel))
        // A customer who writes again about an open issue often creates a duplicate that an
        // agent merges into the earlier ticket.
        let earlier = customers[customer].openTicket
        if earlier != 0 && random.chance(0.2) {
            ticket.step = .merge
            ticket.mergeInto = earlier
            ticket.mergeSlot = customers[customer].openTicketSlot
        }
        let slot = allocate(ticket)
        if ticket.step != .merge {
            customers[customer].openTicket = number
            customers[customer].openTicketSlot = Int32(slot)
        }

        begin("ticket.opened", customer: customer, at: time, into: &buffer)
        buffer.append(contentsOf: content.channelTags[channel])
        appendTicketTag(number, into: &buffer)
        buffer.appendLiteral(",\"data\":{")
        buffer.append(contentsOf: content.priorityFields[priority])
        if random.chance(0.9) {
            let summaries = content.ticketSummaryFields
            buffer.append(contentsOf: summaries[random.below(summaries.count)])
        }
        buffer.appendLiteral("}}")

        let wait =
            ticket.step == .merge
            ? delay(120, 6 * 3600) : delay(60, 8 * 3600, scale: ticket.priorityScale)
        queue.schedule(slot: Int32(slot), at: time + wait)
    }

    private mutating func advanceTicket(in slot: Int, at time: Int64, into buffer: inout [UInt8]) {
        switch tickets[slot].step {
        case .merge:
            let ticket = tickets[slot]
            if tickets[Int(ticket.mergeSlot)].number == ticket.mergeInto {
                begin("ticket.merged", customer: Int(ticket.customer), at: time, into: &buffer)
                appendTicketTag(ticket.number, into: &buffer)
                buffer.appendLiteral(",\"data\":{\"into\":\"tkt-")
                buffer.appendDecimal(ticket.mergeInto, width: 7)
                buffer.appendLiteral("\"}}")
                release(slot)
            } else {
                // The earlier ticket closed meanwhile: this one is handled on its own.
                assign(slot, at: time, into: &buffer)
            }
        case .assign:
            assign(slot, at: time, into: &buffer)
        case .converse:
            converse(slot, at: time, into: &buffer)
        case .solve:
            var ticket = tickets[slot]
            begin("ticket.solved", customer: Int(ticket.customer), at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            appendRepresentativeTag(Int(ticket.representative), into: &buffer)
            buffer.append(UInt8(ascii: "}"))
            ticket.status = .solved
            ticket.step = .followUp
            ticket.csatDue = random.chance(0.38)
            ticket.cesDue = random.chance(0.12)
            ticket.reopenDue = ticket.reopens < 2 && random.chance(0.1)
            tickets[slot] = ticket
            scheduleFollowUp(slot, after: time)
        case .followUp:
            followUp(slot, at: time, into: &buffer)
        }
    }

    private mutating func assign(_ slot: Int, at time: Int64, into buffer: inout [UInt8]) {
        var ticket = tickets[slot]
        ticket.representative = Int32(representativeLoad.pick(&random))
        ticket.status = .open
        ticket.step = .converse
        ticket.awaitingCustomer = false
        ticket.turnsLeft = UInt8(1 + Self.turns.pick(&random))
        begin("ticket.assigned", customer: Int(ticket.customer), at: time, into: &buffer)
        appendTicketTag(ticket.number, into: &buffer)
        appendRepresentativeTag(Int(ticket.representative), into: &buffer)
        buffer.append(UInt8(ascii: "}"))
        let scale = ticket.priorityScale * ticket.channelScale
        tickets[slot] = ticket
        queue.schedule(slot: Int32(slot), at: time + delay(120, 86_400, scale: scale))
    }

    /// How many public rep replies a ticket needs before it is solved, minus one.
    private static let turns = WeightedChoice([32, 30, 18, 10, 6, 4])

    /// One step of the conversation on an open ticket.
    private mutating func converse(_ slot: Int, at time: Int64, into buffer: inout [UInt8]) {
        var ticket = tickets[slot]
        defer { tickets[slot] = ticket }
        let customer = Int(ticket.customer)
        let scale = ticket.priorityScale
        let replyScale = scale * ticket.channelScale

        if ticket.reassignDue {
            ticket.reassignDue = false
            var representative = representativeLoad.pick(&random)
            if configuration.representatives > 1 && representative == Int(ticket.representative) {
                representative =
                    (representative + 1 + random.below(configuration.representatives - 1))
                    % configuration.representatives
            }
            ticket.representative = Int32(representative)
            begin("ticket.assigned", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            appendRepresentativeTag(representative, into: &buffer)
            buffer.append(UInt8(ascii: "}"))
            queue.schedule(slot: Int32(slot), at: time + delay(300, 4 * 3600, scale: scale))
            return
        }
        if let status = ticket.statusDue {
            ticket.statusDue = nil
            ticket.status = status
            emitStatusChange(ticket, status, at: time, into: &buffer)
            let wait =
                status == .onHold
                ? delay(3600, 3 * 86_400) : delay(600, 3 * 86_400, scale: ticket.channelScale)
            queue.schedule(slot: Int32(slot), at: time + wait)
            return
        }
        if ticket.status == .onHold {
            // The third party answered: the representative picks the ticket up again.
            ticket.status = .open
            emitStatusChange(ticket, .open, at: time, into: &buffer)
            queue.schedule(slot: Int32(slot), at: time + delay(60, 4 * 3600, scale: scale))
            return
        }

        let roll = random.unit()
        if roll < 0.03 && ticket.escalations < 3 {
            ticket.escalations += 1
            begin("ticket.escalated", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            buffer.appendLiteral(",\"data\":{\"level\":")
            buffer.appendDecimal(Int(ticket.escalations))
            if random.chance(0.8) {
                let reasons = content.reasonFields
                buffer.append(contentsOf: reasons[random.below(reasons.count)])
            }
            buffer.appendLiteral("}}")
            ticket.reassignDue = random.chance(0.4)
            queue.schedule(slot: Int32(slot), at: time + delay(300, 8 * 3600, scale: scale))
        } else if roll < 0.06 {
            // Priorities mostly go up once a ticket drags on; sometimes an agent lowers one.
            let current = Int(ticket.priority)
            let raised = current < 3 && (current == 0 || random.chance(0.75))
            ticket.priority = UInt8(raised ? current + 1 : current - 1)
            begin("ticket.priority_changed", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            buffer.appendLiteral(",\"data\":{")
            buffer.append(contentsOf: content.priorityFields[Int(ticket.priority)])
            buffer.appendLiteral("}}")
            queue.schedule(slot: Int32(slot), at: time + delay(60, 4 * 3600, scale: scale))
        } else if roll < 0.10 && !ticket.awaitingCustomer {
            // An internal note: a rep reply the customer does not see.
            begin("ticket.replied", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            appendRepresentativeTag(Int(ticket.representative), into: &buffer)
            buffer.appendLiteral(",\"data\":{\"author\":\"rep\",\"public\":false}}")
            queue.schedule(slot: Int32(slot), at: time + delay(300, 8 * 3600, scale: scale))
        } else if !ticket.awaitingCustomer {
            begin("ticket.replied", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            appendRepresentativeTag(Int(ticket.representative), into: &buffer)
            buffer.appendLiteral(",\"data\":{\"author\":\"rep\",\"public\":true}}")
            ticket.status = .open
            ticket.turnsLeft -= 1
            if ticket.turnsLeft == 0 {
                ticket.step = .solve
                queue.schedule(slot: Int32(slot), at: time + delay(60, 2 * 86_400, scale: scale))
                return
            }
            let next = random.unit()
            if next < 0.6 {
                ticket.awaitingCustomer = true
                ticket.statusDue = .pending
                queue.schedule(slot: Int32(slot), at: time + delay(5, 300))
            } else if next < 0.66 {
                // Waiting on a third party (a carrier, a vendor), not on the customer.
                ticket.statusDue = .onHold
                queue.schedule(slot: Int32(slot), at: time + delay(5, 300))
            } else {
                ticket.awaitingCustomer = true
                queue.schedule(
                    slot: Int32(slot), at: time + delay(600, 3 * 86_400, scale: ticket.channelScale))
            }
        } else {
            // The customer answers (public by default: the catalog's `public` defaults to true).
            begin("ticket.replied", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            buffer.appendLiteral(",\"data\":{\"author\":\"customer\"}}")
            ticket.status = .open
            ticket.awaitingCustomer = false
            queue.schedule(slot: Int32(slot), at: time + delay(300, 86_400, scale: replyScale))
        }
    }

    private mutating func emitStatusChange(
        _ ticket: TicketState, _ status: TicketStatus, at time: Int64, into buffer: inout [UInt8]
    ) {
        begin("ticket.status_changed", customer: Int(ticket.customer), at: time, into: &buffer)
        appendTicketTag(ticket.number, into: &buffer)
        let index: Int
        switch status {
        case .pending: index = TouchpointContent.pending
        case .onHold: index = TouchpointContent.onHold
        default: index = TouchpointContent.open
        }
        buffer.append(contentsOf: content.statusData[index])
        buffer.append(UInt8(ascii: "}"))
    }

    /// After a solve: satisfaction surveys, maybe a reopen, and finally the close.
    private mutating func followUp(_ slot: Int, at time: Int64, into buffer: inout [UInt8]) {
        var ticket = tickets[slot]
        let customer = Int(ticket.customer)
        if ticket.csatDue {
            ticket.csatDue = false
            let troubled = ticket.reopens > 0 || ticket.escalations > 0
            let score = (troubled ? content.csatAfterTrouble : content.csat).pick(&random) + 1
            begin("feedback.csat", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            appendRepresentativeTag(Int(ticket.representative), into: &buffer)
            appendScoreData(score, into: &buffer)
            buffer.append(UInt8(ascii: "}"))
            tickets[slot] = ticket
            scheduleFollowUp(slot, after: time)
        } else if ticket.cesDue {
            ticket.cesDue = false
            begin("feedback.ces", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            appendScoreData(content.ces.pick(&random) + 1, into: &buffer)
            buffer.append(UInt8(ascii: "}"))
            tickets[slot] = ticket
            scheduleFollowUp(slot, after: time)
        } else if ticket.reopenDue {
            ticket.reopenDue = false
            ticket.reopens += 1
            if random.chance(0.6) {
                // The usual reopen: the customer answers the solved ticket.
                begin("ticket.replied", customer: customer, at: time, into: &buffer)
                appendTicketTag(ticket.number, into: &buffer)
                buffer.appendLiteral(",\"data\":{\"author\":\"customer\",\"public\":true}}")
            } else {
                begin("ticket.reopened", customer: customer, at: time, into: &buffer)
                appendTicketTag(ticket.number, into: &buffer)
                buffer.append(UInt8(ascii: "}"))
            }
            ticket.status = .open
            ticket.step = .converse
            ticket.awaitingCustomer = false
            ticket.turnsLeft = UInt8(1 + random.below(2))
            tickets[slot] = ticket
            let scale = ticket.priorityScale * ticket.channelScale
            queue.schedule(slot: Int32(slot), at: time + delay(300, 86_400, scale: scale))
        } else {
            begin("ticket.closed", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            buffer.append(UInt8(ascii: "}"))
            release(slot)
        }
    }

    private mutating func scheduleFollowUp(_ slot: Int, after time: Int64) {
        let ticket = tickets[slot]
        let wait: Int64
        if ticket.csatDue || ticket.cesDue {
            wait = delay(600, 2 * 86_400)
        } else if ticket.reopenDue {
            wait = delay(3600, 3 * 86_400)
        } else {
            // Help desks close solved tickets automatically after about four days.
            wait = delay(3 * 86_400, 5 * 86_400)
        }
        queue.schedule(slot: Int32(slot), at: time + wait)
    }

    private mutating func allocate(_ ticket: TicketState) -> Int {
        if let slot = freeSlots.popLast() {
            tickets[Int(slot)] = ticket
            return Int(slot)
        }
        tickets.append(ticket)
        return tickets.count - 1
    }

    private mutating func release(_ slot: Int) {
        let ticket = tickets[slot]
        let customer = Int(ticket.customer)
        if customers[customer].openTicket == ticket.number {
            customers[customer].openTicket = 0
        }
        tickets[slot].number = 0
        freeSlots.append(Int32(slot))
    }

    /// A waiting time in microseconds between `minimum` and `maximum` seconds, times `scale`.
    /// Cubing a uniform draw skews it towards the short end: the median is an eighth of the
    /// way, with a long tail (a minutes-to-days spread, as in help-desk data).
    @inline(__always)
    private mutating func delay(_ minimum: Int, _ maximum: Int, scale: Double = 1) -> Int64 {
        let draw = random.unit()
        let seconds = (Double(minimum) + Double(maximum - minimum) * draw * draw * draw) * scale
        return Swift.max(1_000_000, Int64(seconds * 1_000_000))
    }

    // MARK: - Writing

    /// Writes the attributes every event has, up to and including `time`.
    @inline(__always)
    private mutating func begin(
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
    private func appendTicketTag(_ number: Int, into buffer: inout [UInt8]) {
        buffer.appendLiteral(",\"ticketid\":\"tkt-")
        buffer.appendDecimal(number, width: 7)
        buffer.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    private func appendRepresentativeTag(_ representative: Int, into buffer: inout [UInt8]) {
        buffer.appendLiteral(",\"repid\":\"rep-")
        buffer.appendDecimal(representative + 1, width: 4)
        buffer.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    private func appendScoreData(_ score: Int, into buffer: inout [UInt8]) {
        buffer.appendLiteral(",\"data\":{\"score\":")
        buffer.appendDecimal(score)
        buffer.append(UInt8(ascii: "}"))
    }

    @inline(__always)
    private func appendOrderData(
        order: Int, cents: Int, currency: UInt8, into buffer: inout [UInt8]
    ) {
        buffer.appendLiteral(",\"data\":{\"order\":\"ord-")
        buffer.appendDecimal(order, width: 7)
        buffer.appendLiteral("\",\"amount\":")
        buffer.appendCents(cents)
        buffer.append(contentsOf: content.currencyFields[Int(currency)])
    }
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

enum TicketStatus: UInt8, Sendable {
    case new, open, pending, onHold, solved
}

/// What an open ticket does at its next scheduled step.
enum TicketStep: UInt8, Sendable {
    /// Merge into the customer's earlier open ticket (a duplicate).
    case merge
    case assign
    /// Replies, status changes, escalations, priority changes.
    case converse
    case solve
    /// Surveys, a reopen or the close.
    case followUp
}

/// An open ticket in the simulation; slots are reused after a close or merge.
struct TicketState: Sendable {
    /// The ticket number, 0 when the slot is free.
    var number: Int
    var customer: Int32
    var representative: Int32 = -1
    var priority: UInt8
    var channel: UInt8
    var step = TicketStep.assign
    var status = TicketStatus.new
    var statusDue: TicketStatus? = nil
    var awaitingCustomer = false
    var reassignDue = false
    var csatDue = false
    var cesDue = false
    var reopenDue = false
    var turnsLeft: UInt8 = 0
    var escalations: UInt8 = 0
    var reopens: UInt8 = 0
    var mergeInto = 0
    var mergeSlot: Int32 = -1

    init(number: Int, customer: Int32, priority: UInt8, channel: UInt8) {
        self.number = number
        self.customer = customer
        self.priority = priority
        self.channel = channel
    }

    /// Urgent tickets move five times faster than normal ones, low ones slower.
    var priorityScale: Double {
        switch priority {
        case 0: 1.5
        case 1: 1.0
        case 2: 0.5
        default: 0.2
        }
    }

    /// Chat and phone conversations go back and forth in minutes, not hours.
    var channelScale: Double {
        Int(channel) == TouchpointContent.chat || Int(channel) == TouchpointContent.phone
            ? 0.1 : 1.0
    }
}
