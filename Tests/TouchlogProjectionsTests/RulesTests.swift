import Testing

@testable import TouchlogProjections

@Suite struct RulesTests {
    @Test func theDefaultRulesParseAndTheCanonicalTextRoundTrips() throws {
        let rules = Rules.default
        #expect(rules.version == "1")
        #expect(rules.halfLifeDays == 90)
        #expect(rules.target(for: .urgent) == Rules.SLATarget(firstReplyMinutes: 60, resolutionMinutes: 480))
        #expect(rules.target(for: .low) == Rules.SLATarget(firstReplyMinutes: 1440, resolutionMinutes: 10080))
        #expect(rules.loyalty.npsWeight == 1.5)
        let reparsed = try Rules(toml: rules.canonicalText)
        #expect(reparsed == rules)
        #expect(reparsed.canonicalText == rules.canonicalText)
        #expect(rules.hashHex.count == 64)
    }

    @Test func commentsAndOrderDoNotChangeTheHashValuesDo() throws {
        let shuffled = Rules.default.canonicalText.split(separator: "\n\n").reversed().joined(
            separator: "\n\n# a comment\n\n")
        // Top-level keys must come before the first table: move them back to the top.
        let lines = shuffled.split(separator: "\n").map(String.init)
        let top = lines.filter { $0.hasPrefix("version") || $0.hasPrefix("half_life_days") }
        let rest = lines.filter { !($0.hasPrefix("version") || $0.hasPrefix("half_life_days")) }
        let reordered = try Rules(toml: (top + rest).joined(separator: "\n"))
        #expect(reordered.hash == Rules.default.hash)
        #expect(try rules(["loyalty.value.refund_penalty": "3.5"]).hash != Rules.default.hash)
        // An integer where a float is expected is the same value.
        #expect(try rules(["loyalty.value.refund_penalty": "3"]).hash == Rules.default.hash)
    }

    @Test(arguments: [
        ("half_life_days", "0", "line 14: 'half_life_days' must be greater than 0"),
        (
            "sla.high.first_reply_minutes", "1.5",
            "line 33: 'sla.high.first_reply_minutes' must be a whole number of minutes"
        ),
        ("loyalty.service.floor", "5", "'loyalty.service.floor' must be 0 or less"),
        ("version", "true", "line 10: 'version' must be a non-empty string or an integer"),
        ("loyalty.value.refund_penalty", "-1", "'loyalty.value.refund_penalty' must be at least 0.0"),
    ])
    func badValuesAreRejectedWithTheirLine(key: String, value: String, message: String) {
        #expect {
            _ = try rules([key: value])
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func unknownAndMissingKeysAreErrors() throws {
        let typo = Rules.default.canonicalText.replacingOccurrences(
            of: "refund_penalty", with: "refund_penalti")
        #expect(throws: RulesError(line: nil, message: "'loyalty.value.refund_penalty' is missing")) {
            try Rules(toml: typo)
        }
        let extra = Rules.default.canonicalText + "[extra]\ncolour = \"blue\"\n"
        let lines = Rules.default.canonicalText.split(separator: "\n", omittingEmptySubsequences: false).count
        #expect(
            throws: RulesError(
                line: lines + 1,
                message: "'extra.colour' is not a rule (see 'touchlog rules show' for every key)")
        ) {
            try Rules(toml: extra)
        }
        let noZeroTier = Rules.default.canonicalText.replacingOccurrences(
            of: "at_risk = 0.0", with: "at_risk = 1.0")
        #expect(throws: RulesError.self) { try Rules(toml: noZeroTier) }
    }
}
