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
/// The customer's own events are folded in `EventOrder` (event time first): every sum is kept as of
/// `asOf`, the latest event time, and when a later event comes the sums are first multiplied by
/// 0.5^(elapsed / half-life). The service part (SLA verdicts, reopens, escalations) is not folded
/// from events but taken from the final state of the tickets the customer owns (`settle`), each
/// weighted by its age at `asOf`. So the score depends on the events and their times only, never on
/// the order they arrived in, the wall clock, or when the fold ran.
public struct CustomerLoyalty: Sendable, Equatable {
    public var customer: String
    /// The latest event time among the customer's events: the "now" of the score.
    public var asOf: Timestamp
    /// The highest log position among the customer's events.
    public var lastPosition: UInt64
    /// The last event applied, in `EventOrder`: a later one is applied on top, an earlier one makes the
    /// customer folded again from all their events.
    var watermark: EventOrder = .start
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

    /// The customer folded from all their own events, which must be in `EventOrder` (the service part
    /// stays empty until `settle`).
    static func folded(customer: String, _ events: some Collection<FoldEvent>, rules: Rules)
        -> CustomerLoyalty?
    {
        guard let first = events.first else { return nil }
        var loyalty = CustomerLoyalty(customer: customer, at: first.occurredAt, rules: rules)
        for event in events { loyalty.apply(event, rules: rules) }
        return loyalty
    }

    /// Applies one of the customer's own events, the next in `EventOrder`.
    mutating func apply(_ event: FoldEvent, rules: Rules) {
        let weight = advance(to: event.occurredAt, halfLifeDays: rules.halfLifeDays)
        switch event.kind {
        case .contactReceived:
            contacts += weight
        case .ticketOpened:
            tickets += weight
            contacts += weight
        case .ticketReplied(.customer, _):
            contacts += weight
        case .csat(let score):
            csatSum += weight * Double(score - 3) / 2
            csatCount += weight
        case .nps(let score):
            npsSum += weight * (score >= 9 ? 1 : score >= 7 ? 0 : -1)
            npsCount += weight
        case .ces(let score):
            cesSum += weight * Double(score - 4) / 3
            cesCount += weight
        case .orderPlaced(_, let amount, _):
            orders += weight
            orderCents += weight * Double(amount.cents)
            if lastOrderAt.map({ event.occurredAt > $0 }) ?? true { lastOrderAt = event.occurredAt }
        case .orderRefunded(_, let amount, _):
            refunds += weight
            refundCents += weight * Double(amount.cents)
        default:
            break
        }
        lastPosition = max(lastPosition, event.position)
        watermark = event.order
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

    /// Sets the service part from the tally of the tickets the customer owns, and rescores.
    mutating func settle(_ tally: ServiceTally, rules: Rules) {
        slaMet = tally.slaMet
        slaBreached = tally.slaBreached
        reopens = tally.reopens
        escalations = tally.escalations
        rescore(rules)
    }

    /// Moves `asOf` to `time` if it is later (decaying every folded sum), and returns the weight of an
    /// observation made at `time`: 1 when it is the latest (always, in `EventOrder`).
    mutating func advance(to time: Timestamp, halfLifeDays: Double) -> Double {
        let delta = time.microsecondsSinceEpoch - asOf.microsecondsSinceEpoch
        if delta == 0 { return 1 }
        let factor = exp2(-Double(delta.magnitude) / (halfLifeDays * 86_400_000_000))
        if delta < 0 { return factor }
        csatSum *= factor
        csatCount *= factor
        npsSum *= factor
        npsCount *= factor
        cesSum *= factor
        cesCount *= factor
        contacts *= factor
        tickets *= factor
        orders *= factor
        refunds *= factor
        orderCents *= factor
        refundCents *= factor
        asOf = time
        return 1
    }
}
