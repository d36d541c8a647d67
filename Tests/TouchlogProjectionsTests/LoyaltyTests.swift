import CloudEvents
import Testing
import TouchlogDomain
import TouchlogStore

@testable import TouchlogProjections

/// Expectations computed by hand from the default weights (Rules+Default.swift): base 50,
/// satisfaction 25 (CSAT 1, NPS 1.5, CES 0.5), SLA 10, reopen 3, escalation 2, effort 4 above 2
/// contacts per ticket, floor -30, frequency 2 (cap 10), 1 per 100 spent (cap 10), refund 3,
/// recency 10 halving every 30 days; half-life 90 days.
@Suite struct LoyaltyTests {
    /// The default rules without the 90-day decay (a half-life of a billion days), for exact sums.
    let steady: Rules
    init() throws { steady = try TouchlogProjectionsTests.rules(["half_life_days": "1e9"]) }

    func score(_ script: Script, _ rules: Rules = .default, customer: String = "c1") throws -> CustomerLoyalty
    {
        try #require(script.fold(rules).customers[customer])
    }

    @Test(arguments: [
        (#"{"score":5}"#, "feedback.csat", 75.0, "gold"),
        (#"{"score":1}"#, "feedback.csat", 25.0, "at_risk"),
        (#"{"score":4}"#, "feedback.csat", 62.5, "silver"),
        (#"{"score":10}"#, "feedback.nps", 75.0, "gold"),
        (#"{"score":7}"#, "feedback.nps", 50.0, "silver"),
        (#"{"score":6}"#, "feedback.nps", 25.0, "at_risk"),
        (#"{"score":7}"#, "feedback.ces", 75.0, "gold"),
        (#"{"score":1}"#, "feedback.ces", 25.0, "at_risk"),
    ])
    func eachRatingMapsToSatisfaction(data: String, type: String, expected: Double, tier: String) throws {
        var script = Script()
        try script.add(type, at: at(), data: data)
        let loyalty = try score(script)
        #expect(loyalty.score == expected)
        #expect(loyalty.tier == tier)
    }

    @Test func ratingsOfDifferentKindsAreAveragedByTheirWeights() throws {
        var script = Script()
        try script.add("feedback.csat", at: at(), data: #"{"score":1}"#)
        try script.add("feedback.nps", at: at(), data: #"{"score":9}"#)
        // (1 x -1 + 1.5 x 1) / (1 + 1.5) = 0.2 -> 5 points.
        let loyalty = try score(script)
        #expect(abs(loyalty.parts(.default).satisfaction - 5) < 1e-9)
        #expect(abs(loyalty.score - 55) < 1e-9)
    }

    @Test func observationsDecayWithTheHalfLifeInEventTime() throws {
        var script = Script()
        try script.add("feedback.csat", at: at(days: 0), data: #"{"score":5}"#)
        try script.add("feedback.csat", at: at(days: 90), data: #"{"score":1}"#)
        // As of day 90: (0.5 x 1 - 1) / (0.5 + 1) = -1/3 -> -8.333 -> 41.667, shown and kept as 41.67, bronze.
        let loyalty = try score(script)
        #expect(loyalty.score == 41.67)
        #expect(loyalty.tier == "bronze")
        #expect(loyalty.asOf.rfc3339 == at(days: 90))

        // The same ratings arriving in the other order (the older one late) give the same score.
        var late = Script()
        try late.add("feedback.csat", at: at(days: 90), data: #"{"score":1}"#)
        try late.add("feedback.csat", at: at(days: 0), data: #"{"score":5}"#)
        #expect(try score(late).score == loyalty.score)

        // A count decays too: a reopen 90 days before the latest event costs half of 3 points.
        var reopen = Script()
        try reopen.add("ticket.opened", at: at(days: 0), ticket: "t1")
        try reopen.add("ticket.solved", at: at(days: 0, micros: 1), ticket: "t1")
        try reopen.add("ticket.reopened", at: at(days: 0, micros: 2), ticket: "t1")
        try reopen.add("contact.received", at: at(days: 90))
        let decayed = try score(reopen)
        #expect(abs(decayed.reopens - 0.5) < 1e-6)
    }

    @Test func serviceCountsSLAsReopensEscalationsAndEffort() throws {
        var script = Script()
        try script.add("ticket.opened", at: at(minutes: 0), ticket: "t1")
        try script.add(
            "ticket.replied", at: at(minutes: 10), ticket: "t1", rep: "r1", data: #"{"author":"rep"}"#)
        try script.add("ticket.escalated", at: at(minutes: 20), ticket: "t1")
        try script.add("ticket.solved", at: at(minutes: 30), ticket: "t1")
        try script.add("ticket.replied", at: at(minutes: 40), ticket: "t1", data: #"{"author":"customer"}"#)
        // SLA: the first reply met -> +10 (the customer's reply reopened the ticket: its resolution is
        // pending again, and counts neither way); one reopen -3; one escalation -2; 2 contacts per
        // ticket cost nothing.
        var loyalty = try score(script, steady)
        #expect(abs(loyalty.slaMet - 1) < 1e-6)
        #expect(loyalty.slaBreached == 0)
        #expect(abs(loyalty.parts(steady).service - 5) < 1e-6)
        #expect(abs(loyalty.score - 55) < 1e-6)
        // Three more contacts: 5 per ticket, 3 over the target -> -12.
        for minute in [50.0, 51, 52] { try script.add("contact.received", at: at(minutes: minute)) }
        loyalty = try score(script, steady)
        #expect(abs(loyalty.parts(steady).service - -7) < 1e-6)
        // Service never takes off more than the floor.
        for minute in 60..<80 {
            try script.add("ticket.escalated", at: at(minutes: Double(minute)), ticket: "t1")
        }
        loyalty = try score(script, steady)
        #expect(loyalty.parts(steady).service == -30)
        #expect(abs(loyalty.score - 20) < 1e-6)
    }

    @Test func aBreachedSLACountsAgainstTheCustomer() throws {
        var script = Script()
        try script.add("ticket.opened", at: at(minutes: 0), ticket: "t1", data: #"{"priority":"urgent"}"#)
        try script.add(
            "ticket.replied", at: at(minutes: 61), ticket: "t1", rep: "r1", data: #"{"author":"rep"}"#)
        let loyalty = try score(script, steady)
        #expect(abs(loyalty.slaBreached - 1) < 1e-6)
        #expect(loyalty.slaMet == 0)
        #expect(abs(loyalty.parts(steady).service - -10) < 1e-6)
    }

    @Test func valueCountsOrdersRefundsRecencyAndFrequency() throws {
        var script = Script()
        for order in 1...3 {
            try script.add(
                "order.placed", at: at(), data: #"{"order":"o\#(order)","amount":100.00,"currency":"EUR"}"#)
        }
        // Frequency 3 x 2 = 6, spend 300 -> 3, an order right now -> 10: 19 -> 69.
        var loyalty = try score(script)
        #expect(loyalty.parts(.default).value == 19)
        #expect(loyalty.score == 69)
        try script.add("order.refunded", at: at(), data: #"{"order":"o1","amount":100,"currency":"EUR"}"#)
        // Refund -3 and spend 200 -> 2: 15 -> exactly 65, the gold threshold.
        loyalty = try score(script)
        #expect(loyalty.score == 65)
        #expect(loyalty.tier == "gold")
        // Frequency is capped at 10.
        for order in 4...9 {
            try script.add(
                "order.placed", at: at(), data: #"{"order":"o\#(order)","amount":0.01,"currency":"EUR"}"#)
        }
        #expect(abs(try score(script).parts(.default).value - 19.0006) < 1e-9)
    }

    @Test func valueNeverTakesOffMoreThanItsFloor() throws {
        var script = Script()
        for refund in 1...5 {
            try script.add(
                "order.refunded", at: at(), data: #"{"order":"o\#(refund)","amount":100,"currency":"EUR"}"#)
        }
        // 5 refunds -15 and spend -5 -> -20, the floor; two more cannot go lower.
        #expect(try score(script).parts(.default).value == -20)
        for refund in 6...7 {
            try script.add(
                "order.refunded", at: at(), data: #"{"order":"o\#(refund)","amount":100,"currency":"EUR"}"#)
        }
        let loyalty = try score(script)
        #expect(loyalty.parts(.default).value == -20)
        #expect(loyalty.score == 30)
        #expect(loyalty.tier == "at_risk")
    }

    @Test func recencyHalvesWithItsOwnHalfLife() throws {
        var script = Script()
        try script.add(
            "order.placed", at: at(days: 0), data: #"{"order":"o1","amount":100,"currency":"EUR"}"#)
        try script.add("contact.received", at: at(days: 30))
        // Frequency 2, spend 1, recency 10 x 0.5 = 5: 8 -> 58.
        let loyalty = try score(script, steady)
        #expect(abs(loyalty.parts(steady).value - 8) < 1e-6)
        #expect(abs(loyalty.score - 58) < 1e-6)
    }

    @Test func tiersAreTheHighestMinimumReached() throws {
        let rules = Rules.default
        #expect(rules.tiers.map(\.name) == ["platinum", "gold", "silver", "bronze", "at_risk"])
        #expect(rules.tier(for: 100) == "platinum")
        #expect(rules.tier(for: 80) == "platinum")
        #expect(rules.tier(for: 79.999) == "gold")
        #expect(rules.tier(for: 65) == "gold")
        #expect(rules.tier(for: 64.999) == "silver")
        #expect(rules.tier(for: 35) == "bronze")
        #expect(rules.tier(for: 34.999) == "at_risk")
        #expect(rules.tier(for: 0) == "at_risk")
        var script = Script()
        try script.add("contact.sent", at: at(), rep: "r1")
        #expect(
            try score(script, try TouchlogProjectionsTests.rules(["loyalty.base": "65.0"])).tier == "gold")
        #expect(
            try score(script, try TouchlogProjectionsTests.rules(["loyalty.base": "64.99"])).tier == "silver")
    }
}
