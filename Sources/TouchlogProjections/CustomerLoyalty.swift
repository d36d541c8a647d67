import CloudEvents
import TouchlogDomain
import TouchlogStore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A customer's loyalty: decayed observations and the score and tier they give (DESIGN.md section 3).
///
/// The customer's own observations (contacts, ratings, orders) are kept as exact sums (`OwnSums`):
/// each observation adds its value times a fixed-point weight 2^((time - reference) / half-life), an
/// integer, so the sums do not depend on the order the events are added in and a late event costs one
/// addition. The decayed values as of `asOf` (the latest event time) are derived from them. The
/// service part (SLA verdicts, reopens, escalations) is taken from the final state of the tickets the
/// customer owns (`settle`), each weighted by its age at `asOf`. So the score depends on the events and
/// their times only, never on the order they arrived in, the wall clock, or when the fold ran.
public struct CustomerLoyalty: Sendable, Equatable {
    public var customer: String
    /// The latest event time among the customer's events: the "now" of the score.
    public var asOf: Timestamp
    /// The highest log position among the customer's events.
    public var lastPosition: UInt64
    /// The exact sums the decayed values below are derived from.
    var own = OwnSums(reference: Timestamp(microsecondsSinceEpoch: 0))
    /// Sums of mapped ratings (-1...1) and the decayed number of ratings, per kind.
    public var csatSum = 0.0, csatCount = 0.0
    public var npsSum = 0.0, npsCount = 0.0
    public var cesSum = 0.0, cesCount = 0.0
    /// SLA verdicts met and breached, reopens and escalations of the customer's tickets, each ticket
    /// weighted by the decay from its opening to `asOf` (set by `settle`).
    public var slaMet = 0.0, slaBreached = 0.0
    public var reopens = 0.0, escalations = 0.0
    /// Decayed customer contacts (ticket.opened, customer replies, contact.received) and tickets opened.
    public var contacts = 0.0, tickets = 0.0
    /// Decayed orders, refunds, and their amounts in cents.
    public var orders = 0.0, refunds = 0.0
    public var orderCents = 0.0, refundCents = 0.0
    /// The latest order's event time.
    public var lastOrderAt: Timestamp?
    /// The score as of `asOf` under the rules it was folded with, 0-100.
    public var score: Double
    public var tier: String

    init(customer: String, at time: Timestamp, rules: Rules) {
        self.customer = customer
        asOf = time
        own = OwnSums(reference: OwnSums.reference(asOf: time, rules: rules))
        lastPosition = 0
        score = 0
        tier = ""
        rescore(rules)
    }

    /// The three parts of the score (before clamping to 0-100).
    public struct Parts: Sendable, Equatable {
        public var satisfaction: Double
        public var service: Double
        public var value: Double
    }

    /// The parts of the score under `rules`.
    public func parts(_ rules: Rules) -> Parts {
        let w = rules.loyalty
        let ratingWeight = w.csatWeight * csatCount + w.npsWeight * npsCount + w.cesWeight * cesCount
        let satisfaction =
            ratingWeight > 0
            ? w.satisfactionPoints * (w.csatWeight * csatSum + w.npsWeight * npsSum + w.cesWeight * cesSum)
                / ratingWeight
            : 0
        var service = 0.0
        if slaMet + slaBreached > 0 {
            service += w.slaPoints * (slaMet - slaBreached) / (slaMet + slaBreached)
        }
        service -= w.reopenPenalty * reopens
        service -= w.escalationPenalty * escalations
        if tickets > 0 { service -= w.effortPenalty * max(0, contacts / tickets - w.effortTarget) }
        service = max(service, w.serviceFloor)
        var value = min(w.frequencyCap, w.frequencyPoints * orders)
        value += min(
            w.monetaryCap, max(-w.monetaryCap, w.monetaryPointsPer100 * (orderCents - refundCents) / 10_000))
        value -= w.refundPenalty * refunds
        if let lastOrderAt {
            let days =
                Double(asOf.microsecondsSinceEpoch - lastOrderAt.microsecondsSinceEpoch) / 86_400_000_000
            value += w.recencyPoints * exp2(-max(0, days) / w.recencyHalfLifeDays)
        }
        value = max(value, w.valueFloor)
        return Parts(satisfaction: satisfaction, service: service, value: value)
    }

    /// Sets the score (rounded as shown, so that the tier agrees with what users see) and the tier.
    mutating func rescore(_ rules: Rules) {
        let p = parts(rules)
        score = Rules.roundedScore(rules.loyalty.base + p.satisfaction + p.service + p.value)
        tier = rules.tier(for: score)
    }

    // MARK: Folding

    /// The customer folded from all their own events (any order; the service part stays empty until
    /// `settle`).
    static func folded(customer: String, _ events: some Collection<FoldEvent>, rules: Rules)
        -> CustomerLoyalty?
    {
        guard let first = events.first else { return nil }
        var latest = first.occurredAt
        for event in events where event.occurredAt > latest { latest = event.occurredAt }
        var loyalty = CustomerLoyalty(customer: customer, at: latest, rules: rules)
        loyalty.own = OwnSums(reference: OwnSums.reference(asOf: latest, rules: rules))
        for event in events { _ = loyalty.apply(event, rules: rules) }
        loyalty.refreshDecayed(rules)
        return loyalty
    }

    /// Adds one of the customer's own events, in any order. Returns false, changing nothing, when the
    /// event moves `asOf` so far that the sums' reference moves (`OwnSums.reference`): the customer must
    /// then be folded again from all their events (once per eight half-lives of event time).
    mutating func apply(_ event: FoldEvent, rules: Rules) -> Bool {
        let time = event.occurredAt
        if time > asOf {
            guard OwnSums.reference(asOf: time, rules: rules) == own.reference else { return false }
            asOf = time
        }
        own.add(event.kind, at: time, rules: rules)
        if case .orderPlaced = event.kind, lastOrderAt.map({ time > $0 }) ?? true { lastOrderAt = time }
        lastPosition = max(lastPosition, event.position)
        return true
    }

    /// Sets the decayed values as of `asOf` from the exact sums: each divided by the weight of an
    /// observation at `asOf` (so an observation at `asOf` counts exactly its value).
    mutating func refreshDecayed(_ rules: Rules) {
        let now = nearestDouble(own.weight(at: asOf, rules: rules))
        func value(_ sum: Int128, _ scale: Double = 1) -> Double {
            now > 0 ? nearestDouble(sum) / now / scale : 0
        }
        contacts = value(own.contacts)
        tickets = value(own.tickets)
        csatSum = value(own.csatHalves, 2)
        csatCount = value(own.csatCount)
        npsSum = value(own.nps)
        npsCount = value(own.npsCount)
        cesSum = value(own.cesThirds, 3)
        cesCount = value(own.cesCount)
        orders = value(own.orders)
        orderCents = value(own.orderCents)
        refunds = value(own.refunds)
        refundCents = value(own.refundCents)
    }

    /// The exact sums of a customer's own observations: each is the sum of value x weight over the
    /// observations, the weight 2^((time - reference) / half-life) in units of 2^-32, rounded once per
    /// observation. Integer additions: the same events give the same sums in any order.
    struct OwnSums: Equatable, Sendable {
        /// The time every weight is relative to: a function of `asOf` only (`reference(asOf:rules:)`).
        var reference: Timestamp
        var contacts: Int128 = 0, tickets: Int128 = 0
        /// CSAT as (score - 3) (halves of the -1...1 mapping), NPS as -1/0/+1, CES as (score - 4) (thirds).
        var csatHalves: Int128 = 0, csatCount: Int128 = 0
        var nps: Int128 = 0, npsCount: Int128 = 0
        var cesThirds: Int128 = 0, cesCount: Int128 = 0
        var orders: Int128 = 0, orderCents: Int128 = 0
        var refunds: Int128 = 0, refundCents: Int128 = 0

        /// The weight's unit: 2^32.
        static let unit = 4_294_967_296.0

        /// The reference for a customer whose latest event is at `asOf`: the start of the eight-half-life
        /// period before the one `asOf` falls in, so that weights stay below 2^16 (x 2^32): sums of
        /// cents fit an Int128 for any realistic history.
        static func reference(asOf: Timestamp, rules: Rules) -> Timestamp {
            let length = rules.halfLifeDays * 8 * 86_400_000_000
            // A period beyond about 3,000 years (a half-life meant as "no decay"): one reference for all.
            guard length < 1e17 else { return Timestamp(microsecondsSinceEpoch: 0) }
            let period = Int64(length)
            guard period > 0 else { return asOf }
            let time = asOf.microsecondsSinceEpoch
            let start = time >= 0 ? time / period * period : -((-time + period - 1) / period) * period
            let (reference, overflow) = start.subtractingReportingOverflow(period)
            return Timestamp(microsecondsSinceEpoch: overflow ? start : reference)
        }

        /// The weight of an observation at `time`: 2^((time - reference) / half-life) in units of 2^-32.
        func weight(at time: Timestamp, rules: Rules) -> Int128 {
            let exponent =
                Double(time.microsecondsSinceEpoch - reference.microsecondsSinceEpoch)
                / (rules.halfLifeDays * 86_400_000_000)
            return Int128((exp2(min(exponent, 40)) * Self.unit).rounded())
        }

        /// Adds the observation of an event of `kind` at `time`.
        mutating func add(_ kind: TouchpointKind, at time: Timestamp, rules: Rules) {
            let weight = weight(at: time, rules: rules)
            switch kind {
            case .contactReceived, .ticketReplied(.customer, _):
                contacts += weight
            case .ticketOpened:
                tickets += weight
                contacts += weight
            case .csat(let score):
                csatHalves += weight * Int128(score - 3)
                csatCount += weight
            case .nps(let score):
                nps += weight * (score >= 9 ? 1 : score >= 7 ? 0 : -1)
                npsCount += weight
            case .ces(let score):
                cesThirds += weight * Int128(score - 4)
                cesCount += weight
            case .orderPlaced(_, let amount, _):
                orders += weight
                orderCents += weight * Int128(amount.cents)
            case .orderRefunded(_, let amount, _):
                refunds += weight
                refundCents += weight * Int128(amount.cents)
            default:
                break
            }
        }

        /// Every sum, in a fixed order (the codec's).
        static var fields: [WritableKeyPath<OwnSums, Int128>] {
            [
                \.contacts, \.tickets, \.csatHalves, \.csatCount, \.nps, \.npsCount, \.cesThirds, \.cesCount,
                \.orders, \.orderCents, \.refunds, \.refundCents,
            ]
        }
    }

    /// Sums the service part over the tickets a customer owns: `add` each ticket in ticket-id byte
    /// order (so that the sums are the same bit for bit whatever order the tickets changed in), then
    /// `settle` the customer with it.
    struct ServiceTally {
        let asOf: Timestamp
        let scale: Double
        var slaMet = 0.0, slaBreached = 0.0, reopens = 0.0, escalations = 0.0

        init(asOf: Timestamp, rules: Rules) {
            self.asOf = asOf
            scale = rules.halfLifeDays * 86_400_000_000
        }

        /// Settles the ticket's SLA verdicts as of `asOf` and counts it, weighted by the decay from its
        /// opening; returns whether its verdicts moved.
        mutating func add(_ ticket: inout TicketState, rules: Rules) -> Bool {
            let moved = ticket.settle(now: asOf, rules: rules)
            let since = ticket.openedAt ?? ticket.firstEventAt
            let age = Double(max(0, asOf.microsecondsSinceEpoch - since.microsecondsSinceEpoch))
            let weight = exp2(-age / scale)
            for verdict in [ticket.firstReplyVerdict, ticket.resolutionVerdict] {
                if verdict == .met { slaMet += weight }
                if verdict == .breached { slaBreached += weight }
            }
            reopens += weight * Double(ticket.reopens)
            escalations += weight * Double(ticket.escalations)
            return moved
        }
    }

    /// Sets the decayed values, the service part from the tally of the tickets the customer owns, and
    /// the score.
    mutating func settle(_ tally: ServiceTally, rules: Rules) {
        refreshDecayed(rules)
        slaMet = tally.slaMet
        slaBreached = tally.slaBreached
        reopens = tally.reopens
        escalations = tally.escalations
        rescore(rules)
    }

}

/// `Double(value)`, the nearest double, without the generic conversion of a whole Int128 where the value
/// fits an Int64 (nearly always): both round to nearest, so the result is the same.
func nearestDouble(_ value: Int128) -> Double {
    value >= Int128(Int64.min) && value <= Int128(Int64.max)
        ? Double(Int64(truncatingIfNeeded: value)) : Double(value)
}
