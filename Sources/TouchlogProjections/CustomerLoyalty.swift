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
/// Every sum is kept as of `asOf`, the latest event time among the customer's events: when a later
/// event arrives, the sums are first multiplied by 0.5^(elapsed / half-life); an observation older
/// than `asOf` (a late arrival) is added with weight 0.5^(age / half-life). So the score depends on
/// event times only, never on the wall clock or on when the fold ran.
public struct CustomerLoyalty: Sendable, Equatable {
    public var customer: String
    /// The latest event time among the customer's events: the "now" of the score.
    public var asOf: Timestamp
    /// The position of the last event applied.
    public var lastPosition: UInt64
    /// Sums of mapped ratings (-1...1) and the decayed number of ratings, per kind.
    public var csatSum = 0.0, csatCount = 0.0
    public var npsSum = 0.0, npsCount = 0.0
    public var cesSum = 0.0, cesCount = 0.0
    /// Decayed counts of SLA outcomes.
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

    init(customer: String, at time: Timestamp, position: UInt64, rules: Rules) {
        self.customer = customer
        asOf = time
        lastPosition = position
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

    mutating func rescore(_ rules: Rules) {
        let p = parts(rules)
        score = min(100, max(0, rules.loyalty.base + p.satisfaction + p.service + p.value))
        tier = rules.tier(for: score)
    }

    /// Moves `asOf` to `time` if it is later (decaying every sum), and returns the weight of an
    /// observation made at `time`: 1 when it is the latest, less for a late arrival.
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
        slaMet *= factor
        slaBreached *= factor
        reopens *= factor
        escalations *= factor
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
