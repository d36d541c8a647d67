import Crypto
import TouchlogDomain
import TouchlogStore

/// The rules the projections are folded under: SLA targets, loyalty weights, the half-life and the
/// tiers, read from a versioned TOML file (`touchlog rules show` prints the built-in default).
///
/// Two texts that parse to the same rules have the same `canonicalText` and so the same `hash`:
/// comments, spacing and key order do not matter, values do.
public struct Rules: Sendable, Equatable {
    /// The `version` the file declares (a string or an integer in the file), recorded with each projection.
    public var version: String
    /// Observations count half as much after this many days of event time.
    public var halfLifeDays: Double
    /// Targets per priority; every priority has one.
    public var sla: [Priority: SLATarget]
    /// The tickets the first-reply target does not apply to (`[sla.applies]`; none by default).
    public var firstReplyExceptions: SLAExceptions
    /// The tickets the resolution target does not apply to (`[sla.applies]`; none by default).
    public var resolutionExceptions: SLAExceptions
    public var loyalty: LoyaltyWeights
    /// Tiers from the highest minimum score down; the last has minimum 0.
    public var tiers: [Tier]

    /// Service-level targets of one priority, in minutes from `ticket.opened`.
    public struct SLATarget: Sendable, Equatable {
        /// Until the first public reply by a rep.
        public var firstReplyMinutes: Int64
        /// Until the ticket is solved (or closed, or merged, without a solve).
        public var resolutionMinutes: Int64

        public init(firstReplyMinutes: Int64, resolutionMinutes: Int64) {
            self.firstReplyMinutes = firstReplyMinutes
            self.resolutionMinutes = resolutionMinutes
        }
    }

    /// A loyalty tier: customers whose score reaches `minimumScore` (and no higher tier's) are in it.
    public struct Tier: Sendable, Equatable {
        public var name: String
        public var minimumScore: Double

        public init(name: String, minimumScore: Double) {
            self.name = name
            self.minimumScore = minimumScore
        }
    }

    /// The weights of the loyalty score (see `LoyaltyWeights` and the default rules for each).
    public struct LoyaltyWeights: Sendable, Equatable {
        public var base: Double
        public var satisfactionPoints: Double
        public var csatWeight: Double
        public var npsWeight: Double
        public var cesWeight: Double
        public var slaPoints: Double
        public var reopenPenalty: Double
        public var escalationPenalty: Double
        public var effortTarget: Double
        public var effortPenalty: Double
        public var serviceFloor: Double
        public var frequencyPoints: Double
        public var frequencyCap: Double
        public var monetaryPointsPer100: Double
        public var monetaryCap: Double
        public var refundPenalty: Double
        public var recencyPoints: Double
        public var recencyHalfLifeDays: Double
        public var valueFloor: Double
    }

    /// The built-in rules: `Rules.defaultText` parsed.
    public static let `default`: Rules = {
        do { return try Rules(toml: defaultText) } catch {
            preconditionFailure("the built-in rules do not parse: \(error)")
        }
    }()

    /// The tier of `score`: the highest tier whose minimum it reaches.
    ///
    /// `score` must be the rounded score (`roundedScore`), the value stored and shown: tiers are
    /// decided on what the user sees, so a raw 49.9999, shown as 50.00, is silver when silver
    /// starts at 50. The score is compared as given.
    public func tier(for score: Double) -> String {
        for tier in tiers where score >= tier.minimumScore { return tier.name }
        return tiers.last?.name ?? ""
    }

    /// A loyalty score as stored and shown: `raw` clamped to 0...100 and rounded to the nearest
    /// hundredth, halves away from zero (49.9999 -> 50.0, 49.994 -> 49.99, 0.125 -> 0.13).
    /// Tiers are decided on this value, so the tier agrees with the two decimals shown.
    public static func roundedScore(_ raw: Double) -> Double {
        let clamped = min(100, max(0, raw))
        return (clamped * 100).rounded(.toNearestOrAwayFromZero) / 100
    }

    /// The SLA target of `priority`.
    public func target(for priority: Priority) -> SLATarget {
        sla[priority]
            ?? SLATarget(firstReplyMinutes: .max / 120_000_000, resolutionMinutes: .max / 120_000_000)
    }

    // MARK: Canonical text and hash

    /// The rules written in one fixed form (fixed key order, no comments, shortest round-trip
    /// numbers): what the hash covers and what each generation stores.
    public var canonicalText: String {
        var lines: [String] = []
        lines.append("version = \(quoted(version))")
        lines.append("half_life_days = \(number(halfLifeDays))")
        for priority in Priority.allCases.reversed() {
            let target = self.target(for: priority)
            lines.append("")
            lines.append("[sla.\(priority.rawValue)]")
            lines.append("first_reply_minutes = \(target.firstReplyMinutes)")
            lines.append("resolution_minutes = \(target.resolutionMinutes)")
        }
        // Written only when it excepts something, so rules without exceptions keep the canonical
        // text (and hash) they had before the table existed.
        if !(firstReplyExceptions.isEmpty && resolutionExceptions.isEmpty) {
            lines.append("")
            lines.append("[sla.applies]")
            for (target, path) in Rules.appliesTargets {
                let exceptions = self[keyPath: path]
                lines.append("\(target)_except_sources = \(array(exceptions.sources))")
                lines.append("\(target)_except_channels = \(array(exceptions.channels.map(\.rawValue)))")
            }
        }
        for (table, keys) in Rules.loyaltyKeys {
            lines.append("")
            lines.append("[\(table)]")
            for (key, path) in keys { lines.append("\(key) = \(number(loyalty[keyPath: path]))") }
        }
        lines.append("")
        lines.append("[tiers]")
        for tier in tiers { lines.append("\(key(tier.name)) = \(number(tier.minimumScore))") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// SHA-256 of `canonicalText`.
    public var hash: [UInt8] { Array(SHA256.hash(data: Array(canonicalText.utf8))) }

    /// `hash` in lower-case hexadecimal.
    public var hashHex: String { hex(hash) }

    private func number(_ value: Double) -> String { value.description }

    private func array(_ strings: [String]) -> String {
        "[" + strings.map(quoted).joined(separator: ", ") + "]"
    }

    private func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let digits = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private func key(_ name: String) -> String {
        let bare =
            !name.isEmpty
            && name.utf8.allSatisfy {
                ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39)
                    || $0 == 0x5F || $0 == 0x2D
            }
        return bare ? name : quoted(name)
    }

    /// The loyalty keys of the file, table by table, in canonical order.
    static var loyaltyKeys: [(String, [(String, WritableKeyPath<LoyaltyWeights, Double>)])] {
        [
            ("loyalty", [("base", \.base)]),
            (
                "loyalty.satisfaction",
                [
                    ("points", \.satisfactionPoints), ("csat_weight", \.csatWeight),
                    ("nps_weight", \.npsWeight), ("ces_weight", \.cesWeight),
                ]
            ),
            (
                "loyalty.service",
                [
                    ("sla_points", \.slaPoints), ("reopen_penalty", \.reopenPenalty),
                    ("escalation_penalty", \.escalationPenalty), ("effort_target", \.effortTarget),
                    ("effort_penalty", \.effortPenalty), ("floor", \.serviceFloor),
                ]
            ),
            (
                "loyalty.value",
                [
                    ("frequency_points", \.frequencyPoints), ("frequency_cap", \.frequencyCap),
                    ("monetary_points_per_100", \.monetaryPointsPer100), ("monetary_cap", \.monetaryCap),
                    ("refund_penalty", \.refundPenalty), ("recency_points", \.recencyPoints),
                    ("recency_half_life_days", \.recencyHalfLifeDays), ("floor", \.valueFloor),
                ]
            ),
        ]
    }

    // MARK: Reading

    /// Reads rules from TOML 1.0 text (see `TOMLDocument`).
    ///
    /// Every key the rules define is required, and a key the rules do not define is an error (a
    /// misspelt weight must not silently fall back to a default). The one exception is the table
    /// `[sla.applies]`: it and each of its keys may be left out (no exceptions), so that rules
    /// files written before it existed, and the rules stored with older projections, still read
    /// with the same meaning; an unknown key in it is still an error.
    /// - Throws: `RulesError` with the line of the problem.
    public init(toml text: String) throws(RulesError) {
        let document: TOMLDocument
        do { document = try TOMLDocument(parsing: text) } catch {
            throw RulesError(line: error.line, column: error.column, message: error.message)
        }
        var entries: [String: TOMLDocument.Entry] = [:]
        for entry in document.entries { entries[entry.path.joined(separator: ".")] = entry }
        var used: Set<String> = []

        func entry(_ path: String) throws(RulesError) -> TOMLDocument.Entry {
            guard let entry = entries[path] else {
                throw RulesError(line: nil, message: "'\(path)' is missing")
            }
            used.insert(path)
            return entry
        }
        func double(_ path: String, minimum: Double? = nil) throws(RulesError) -> Double {
            let found = try entry(path)
            let value: Double
            switch found.value {
            case .float(let v): value = v
            case .integer(let v): value = Double(v)
            default: throw RulesError(line: found.line, message: "'\(path)' must be a number")
            }
            if let minimum, value < minimum {
                throw RulesError(
                    line: found.line, message: "'\(path)' must be at least \(minimum), not \(value)")
            }
            return value
        }
        func positiveDouble(_ path: String) throws(RulesError) -> Double {
            let value = try double(path)
            guard value > 0 else {
                throw RulesError(line: entries[path]?.line, message: "'\(path)' must be greater than 0")
            }
            return value
        }
        func minutes(_ path: String) throws(RulesError) -> Int64 {
            let found = try entry(path)
            guard case .integer(let value) = found.value, value > 0, value <= 1_000_000_000 else {
                throw RulesError(
                    line: found.line,
                    message: "'\(path)' must be a whole number of minutes from 1 to 1000000000")
            }
            return value
        }

        let versionEntry = try entry("version")
        switch versionEntry.value {
        case .string(let text) where !text.isEmpty: version = text
        case .integer(let number): version = String(number)
        default:
            throw RulesError(
                line: versionEntry.line, message: "'version' must be a non-empty string or an integer")
        }
        halfLifeDays = try positiveDouble("half_life_days")
        var sla: [Priority: SLATarget] = [:]
        for priority in Priority.allCases {
            sla[priority] = SLATarget(
                firstReplyMinutes: try minutes("sla.\(priority.rawValue).first_reply_minutes"),
                resolutionMinutes: try minutes("sla.\(priority.rawValue).resolution_minutes"))
        }
        self.sla = sla
        firstReplyExceptions = try Rules.readExceptions("first_reply", from: entries)
        resolutionExceptions = try Rules.readExceptions("resolution", from: entries)
        used.formUnion(Rules.appliesKeys)
        var weights = LoyaltyWeights(
            base: 0, satisfactionPoints: 0, csatWeight: 0, npsWeight: 0, cesWeight: 0, slaPoints: 0,
            reopenPenalty: 0, escalationPenalty: 0, effortTarget: 0, effortPenalty: 0, serviceFloor: 0,
            frequencyPoints: 0, frequencyCap: 0, monetaryPointsPer100: 0, monetaryCap: 0, refundPenalty: 0,
            recencyPoints: 0, recencyHalfLifeDays: 1, valueFloor: 0)
        for (table, keys) in Rules.loyaltyKeys {
            for (key, path) in keys {
                let full = table + "." + key
                switch key {
                case "recency_half_life_days": weights[keyPath: path] = try positiveDouble(full)
                case "floor": weights[keyPath: path] = try double(full)
                case "base": weights[keyPath: path] = try double(full, minimum: 0)
                default: weights[keyPath: path] = try double(full, minimum: 0)
                }
            }
        }
        if let floor = entries["loyalty.service.floor"], weights.serviceFloor > 0 {
            throw RulesError(line: floor.line, message: "'loyalty.service.floor' must be 0 or less")
        }
        if let floor = entries["loyalty.value.floor"], weights.valueFloor > 0 {
            throw RulesError(line: floor.line, message: "'loyalty.value.floor' must be 0 or less")
        }
        if let base = entries["loyalty.base"], weights.base > 100 {
            throw RulesError(line: base.line, message: "'loyalty.base' must be from 0 to 100")
        }
        loyalty = weights
        var tiers: [Tier] = []
        for candidate in document.entries where candidate.path.count == 2 && candidate.path[0] == "tiers" {
            let path = candidate.path.joined(separator: ".")
            let minimum = try double(path)
            guard (0...100).contains(minimum) else {
                throw RulesError(
                    line: candidate.line,
                    message: "tier '\(candidate.path[1])' must have a minimum score from 0 to 100")
            }
            tiers.append(Tier(name: candidate.path[1], minimumScore: minimum))
        }
        tiers.sort {
            $0.minimumScore != $1.minimumScore ? $0.minimumScore > $1.minimumScore : $0.name < $1.name
        }
        guard tiers.last?.minimumScore == 0 else {
            throw RulesError(
                line: nil,
                message:
                    "[tiers] needs at least one tier, and one with minimum score 0 (every score has a tier)")
        }
        self.tiers = tiers
        if let unknown = document.entries.first(where: { !used.contains($0.path.joined(separator: ".")) }) {
            throw RulesError(
                line: unknown.line,
                message:
                    "'\(unknown.path.joined(separator: "."))' is not a rule (see 'touchlog rules show' for every key)"
            )
        }
    }
}

/// Why a rules file was rejected.
public struct RulesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line, when the problem is on one.
    public var line: Int?
    /// The 1-based column, when the problem is a TOML syntax error (`TOMLError` has one).
    public var column: Int?
    public var message: String

    public init(line: Int?, column: Int? = nil, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// "line 12, column 7: reason", "line 12: reason" or "reason".
    public var description: String {
        switch (line, column) {
        case (let line?, let column?): "line \(line), column \(column): \(message)"
        case (let line?, nil): "line \(line): \(message)"
        default: message
        }
    }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}
