import CloudEvents
import Foundation
import Testing
import TouchlogDomain

@testable import TouchlogProjections

/// Microseconds in `minutes` minutes.
private func m(_ minutes: Int64) -> Int64 { minutes * 60_000_000 }

/// One call of `slaVerdicts`: times are microseconds after `start` (nil: not known).
struct VerdictCase: Sendable, CustomTestStringConvertible {
    var name: String
    var priority: Priority = .urgent
    var source: String? = "urn:crm"
    var channel: Channel? = .email
    var opened: Int64? = 0
    var reply: Int64? = nil
    var resolved: Int64? = nil
    var now: Int64
    var firstReply: SLAVerdict
    var resolution: SLAVerdict

    var testDescription: String { name }

    func verdicts(_ rules: Rules) -> (firstReply: SLAVerdict, resolution: SLAVerdict) {
        func time(_ offset: Int64?) -> Timestamp? {
            offset.map { Timestamp(microsecondsSinceEpoch: start + $0) }
        }
        return rules.slaVerdicts(
            priority: priority, source: source, channel: channel, opened: time(opened),
            firstReply: time(reply), resolved: time(resolved), now: time(now)!)
    }
}

/// Rules excepting: from the first-reply target, sources "urn:servicenow:*" (a prefix) and "urn:crm"
/// (exact), and the self_service channel; from the resolution target, "urn:legacy" and social.
private func exceptingRules() throws -> Rules {
    try rules([
        "sla.applies.first_reply_except_sources": #"["urn:servicenow:*", "urn:crm"]"#,
        "sla.applies.first_reply_except_channels": #"["self_service"]"#,
        "sla.applies.resolution_except_sources": #"["urn:legacy"]"#,
        "sla.applies.resolution_except_channels": #"["social"]"#,
    ])
}

/// The 1-based line of the default rules text that sets `key` (`key = ...`).
private func defaultLine(of key: String) throws -> Int {
    let lines = Rules.defaultText.split(separator: "\n", omittingEmptySubsequences: false)
    let index = try #require(lines.firstIndex { $0.hasPrefix(key + " =") })
    return index + 1
}

@Suite struct SLAPolicyTests {
    // Default targets: urgent 60 minutes to first reply, 480 to resolution; normal 480 and 4320.
    @Test(arguments: [
        VerdictCase(
            name: "no opening: unknown for both, whatever else is known", opened: nil, reply: m(10),
            resolved: m(20), now: m(9999), firstReply: .unknown, resolution: .unknown),
        VerdictCase(
            name: "reply within the target, not resolved, target time not passed", reply: m(10), now: m(20),
            firstReply: .met, resolution: .pending),
        VerdictCase(
            name: "reply at exactly the target is met", reply: m(60), now: m(60), firstReply: .met,
            resolution: .pending),
        VerdictCase(
            name: "reply one microsecond over the target is breached", reply: m(60) + 1, now: m(61),
            firstReply: .breached, resolution: .pending),
        VerdictCase(
            name: "no reply, now at exactly the target: pending", now: m(60), firstReply: .pending,
            resolution: .pending),
        VerdictCase(
            name: "no reply, now one microsecond past the target: breached", now: m(60) + 1,
            firstReply: .breached, resolution: .pending),
        VerdictCase(
            name: "urgent ticket never answered, customer active two days later: both breached",
            now: m(2 * 1440), firstReply: .breached, resolution: .breached),
        VerdictCase(
            name: "resolved with no reply: first reply unknown (imports carry none)", resolved: m(30),
            now: m(9999), firstReply: .unknown, resolution: .met),
        VerdictCase(
            name: "resolved at exactly the target is met", reply: m(5), resolved: m(480), now: m(480),
            firstReply: .met, resolution: .met),
        VerdictCase(
            name: "resolved one microsecond over the target is breached", resolved: m(480) + 1,
            now: m(480) + 1, firstReply: .unknown, resolution: .breached),
        VerdictCase(
            name: "not resolved, now at exactly the resolution target: pending", reply: m(5), now: m(480),
            firstReply: .met, resolution: .pending),
        VerdictCase(
            name: "not resolved, now one microsecond past the resolution target: breached", reply: m(5),
            now: m(480) + 1, firstReply: .met, resolution: .breached),
        VerdictCase(
            name: "a late reply stays breached once resolved in time", reply: m(90), resolved: m(100),
            now: m(100), firstReply: .breached, resolution: .met),
        VerdictCase(
            name: "the priority's own target applies: normal has 480 minutes to first reply",
            priority: .normal, reply: m(61), now: m(61), firstReply: .met, resolution: .pending),
        VerdictCase(
            name: "normal, no reply, past its first-reply target only", priority: .normal, now: m(481),
            firstReply: .breached, resolution: .pending),
        VerdictCase(
            name: "now before the opening (events out of order): pending", now: -m(5), firstReply: .pending,
            resolution: .pending),
    ])
    func verdictsUnderTheDefaultRules(_ test: VerdictCase) {
        let verdicts = test.verdicts(.default)
        #expect(verdicts.firstReply == test.firstReply)
        #expect(verdicts.resolution == test.resolution)
    }

    @Test(arguments: [
        VerdictCase(
            name: "source matching a prefix pattern: first reply not applicable",
            source: "urn:servicenow:incident-event-log", resolved: m(30), now: m(30),
            firstReply: .notApplicable, resolution: .met),
        VerdictCase(
            name: "source equal to the prefix itself matches", source: "urn:servicenow:", now: m(9999),
            firstReply: .notApplicable, resolution: .breached),
        VerdictCase(
            name: "source that only shares part of the prefix applies", source: "urn:servicenowx", now: m(61),
            firstReply: .breached, resolution: .pending),
        VerdictCase(
            name: "source equal to an exact pattern: not applicable", source: "urn:crm", reply: m(90),
            now: m(90), firstReply: .notApplicable, resolution: .pending),
        VerdictCase(
            name: "an exact pattern is not a prefix", source: "urn:crm/eu", reply: m(90), now: m(90),
            firstReply: .breached, resolution: .pending),
        VerdictCase(
            name: "sources compare byte for byte (case matters)", source: "URN:CRM", reply: m(10), now: m(10),
            firstReply: .met, resolution: .pending),
        VerdictCase(
            name: "excepted channel: first reply not applicable", source: "urn:web", channel: .selfService,
            now: m(9999), firstReply: .notApplicable, resolution: .breached),
        VerdictCase(
            name: "resolution excepted by channel, first reply still judged", source: "urn:web",
            channel: .social, reply: m(10), now: m(9999), firstReply: .met, resolution: .notApplicable),
        VerdictCase(
            name: "resolution excepted by exact source", source: "urn:legacy", resolved: m(9000),
            now: m(9000), firstReply: .unknown, resolution: .notApplicable),
        VerdictCase(
            name: "both excepted", source: "urn:servicenow:x", channel: .social, now: m(9999),
            firstReply: .notApplicable, resolution: .notApplicable),
        VerdictCase(
            name: "unknown source and channel match no exception", source: nil, channel: nil, now: m(61),
            firstReply: .breached, resolution: .pending),
        VerdictCase(
            name: "no opening is unknown even for an excepted source", source: "urn:crm", opened: nil,
            now: m(9999), firstReply: .unknown, resolution: .unknown),
    ])
    func verdictsUnderExceptions(_ test: VerdictCase) throws {
        let verdicts = test.verdicts(try exceptingRules())
        #expect(verdicts.firstReply == test.firstReply)
        #expect(verdicts.resolution == test.resolution)
        // Without the exceptions, nothing is not applicable.
        let unexcepted = test.verdicts(.default)
        #expect(unexcepted.firstReply != .notApplicable && unexcepted.resolution != .notApplicable)
    }

    @Test func verdictNamesAndRawValuesAreStable() {
        #expect(
            SLAVerdict.allCases.map(\.name) == ["pending", "met", "breached", "unknown", "not_applicable"])
        #expect(SLAVerdict.allCases.map(\.rawValue) == [0, 1, 2, 3, 4])
    }

    @Test func aLoneStarExceptsEveryKnownSource() {
        let every = Rules.SLAExceptions(sources: ["*"], channels: [])
        #expect(every.excludes(source: "urn:anything", channel: .email))
        #expect(every.excludes(source: "", channel: nil))
        #expect(!every.excludes(source: nil, channel: .email))
    }

    // MARK: The rules text

    @Test func theDefaultRulesExceptNothingAndKeepTheirCanonicalText() throws {
        let rules = Rules.default
        #expect(rules.firstReplyExceptions == .none)
        #expect(rules.resolutionExceptions == .none)
        #expect(Rules.defaultText.contains("[sla.applies]"))
        // Rules without exceptions are written as before the table existed (same hash as before).
        #expect(!rules.canonicalText.contains("sla.applies"))
        // The table left out, or written empty, is the same rules.
        let withoutTable = Rules.defaultText.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("_except_") && $0 != "[sla.applies]" }.joined(separator: "\n")
        #expect(withoutTable != Rules.defaultText)
        #expect(try Rules(toml: withoutTable) == rules)
        #expect(
            try Rules(toml: rules.canonicalText + "\n[sla.applies]\nresolution_except_sources = []\n")
                == rules)
    }

    @Test func exceptionsRoundTripAndChangeTheHash() throws {
        let excepting = try exceptingRules()
        #expect(excepting.firstReplyExceptions.sources == ["urn:crm", "urn:servicenow:*"])
        #expect(excepting.firstReplyExceptions.channels == [.selfService])
        #expect(
            excepting.resolutionExceptions
                == Rules.SLAExceptions(sources: ["urn:legacy"], channels: [.social]))
        #expect(excepting.hash != Rules.default.hash)
        #expect(
            excepting.canonicalText.contains(
                """
                [sla.applies]
                first_reply_except_sources = ["urn:crm", "urn:servicenow:*"]
                first_reply_except_channels = ["self_service"]
                resolution_except_sources = ["urn:legacy"]
                resolution_except_channels = ["social"]
                """))
        let reparsed = try Rules(toml: excepting.canonicalText)
        #expect(reparsed == excepting)
        #expect(reparsed.canonicalText == excepting.canonicalText)

        // Order and repeats do not matter; every value does.
        let reordered = try withFirstReplySources(#"["urn:servicenow:*", "urn:crm", "urn:crm"]"#)
        let oneSource = try withFirstReplySources(#"["urn:servicenow:*"]"#)
        #expect(reordered.hash == (try withFirstReplySources(#"["urn:crm", "urn:servicenow:*"]"#)).hash)
        #expect(oneSource.hash != reordered.hash)
        #expect(oneSource.hash != Rules.default.hash)
        // The same pattern on the other target is other rules.
        let onResolution = try rules(["sla.applies.resolution_except_sources": #"["urn:servicenow:*"]"#])
        #expect(onResolution.hash != oneSource.hash)
        // An array may span lines and end with a comma.
        let multiLine = try rules([
            "sla.applies.first_reply_except_sources": "[\n  \"urn:servicenow:*\", # imports\n]"
        ])
        #expect(multiLine == oneSource)
    }

    /// The default rules with `first_reply_except_sources` set to `array`.
    private func withFirstReplySources(_ array: String) throws -> Rules {
        try rules(["sla.applies.first_reply_except_sources": array])
    }

    @Test(arguments: [
        (
            "first_reply_except_channels", #"["email", "fax"]"#,
            "'sla.applies.first_reply_except_channels': 'fax' is not a channel (one of email, phone, chat, "
                + "web, social, self_service, in_person, ivr)"
        ),
        (
            "resolution_except_channels", #"["Phone"]"#,
            "'sla.applies.resolution_except_channels': 'Phone' is not a channel"
        ),
        (
            "resolution_except_sources", #""urn:servicenow:*""#,
            #"'sla.applies.resolution_except_sources' must be an array of strings, like ["a", "b"]"#
        ),
        (
            "first_reply_except_sources", "[1, 2]",
            "'sla.applies.first_reply_except_sources' must be an array of strings"
        ),
        (
            "first_reply_except_sources", #"["urn:a", ""]"#,
            "'sla.applies.first_reply_except_sources' holds an empty source"
        ),
        (
            "first_reply_except_sources", #"["urn:*:incidents"]"#,
            "'sla.applies.first_reply_except_sources': 'urn:*:incidents' has a '*' before its end"
        ),
    ])
    func badExceptionsAreRejectedNamingTheKeyAndLine(key: String, value: String, message: String) throws {
        let line = try defaultLine(of: key)
        #expect {
            _ = try rules(["sla.applies." + key: value])
        } throws: { error in
            guard let error = error as? RulesError else { return false }
            return error.line == line && error.message.hasPrefix(message)
        }
    }

    @Test func anUnknownKeyInTheAppliesTableIsAnError() throws {
        let text = Rules.default.canonicalText + "\n[sla.applies]\nfirst_reply_except_tags = [\"vip\"]\n"
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).count - 1
        #expect(
            throws: RulesError(
                line: line,
                message:
                    "'sla.applies.first_reply_except_tags' is not a rule (see 'touchlog rules show' for every key)"
            )
        ) {
            try Rules(toml: text)
        }
    }

    // MARK: Scores and tiers

    @Test(arguments: [
        (49.9999, 50.0, "silver"),
        (49.995, 50.0, "silver"),
        (49.994, 49.99, "bronze"),
        (49.99, 49.99, "bronze"),
        (50.0, 50.0, "silver"),
        (64.995, 65.0, "gold"),
        (64.9949, 64.99, "silver"),
        (79.99999, 80.0, "platinum"),
        (0.125, 0.13, "at_risk"),  // a half goes away from zero (to even would give 0.12)
        (0.375, 0.38, "at_risk"),
        (-3.0, 0.0, "at_risk"),
        (100.004, 100.0, "platinum"),
        (250.0, 100.0, "platinum"),
    ])
    func tiersAreDecidedOnTheRoundedScore(raw: Double, rounded: Double, tier: String) {
        #expect(Rules.roundedScore(raw) == rounded)
        #expect(Rules.default.tier(for: Rules.roundedScore(raw)) == tier)
    }

    @Test func roundingARoundedScoreChangesNothingAndItsTierAgreesWithItsTwoDecimals() throws {
        let rules = Rules.default
        for hundredths in 0...10_000 {
            let score = Double(hundredths) / 100
            #expect(Rules.roundedScore(score) == score)
            // The value printed with two decimals, read back, reaches the tier's minimum.
            let shown = try #require(Double(String(format: "%.2f", score)))
            let tier = rules.tier(for: score)
            let minimum = try #require(rules.tiers.first { $0.name == tier }?.minimumScore)
            #expect(shown >= minimum)
            if let higher = rules.tiers.last(where: { $0.minimumScore > minimum }) {
                #expect(shown < higher.minimumScore)
            }
        }
    }
}
