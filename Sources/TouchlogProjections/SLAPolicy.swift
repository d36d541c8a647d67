import CloudEvents
import TouchlogDomain

/// What an SLA target says about one ticket, as of the latest event time known for its customer.
///
/// The raw values are stable: projections may store them.
public enum SLAVerdict: UInt8, Sendable, CaseIterable {
    /// Not decided yet: no reply (or no resolution), and the target time has not passed.
    case pending
    /// Done within the target (exactly the target counts as met).
    case met
    /// Done later than the target, or not done and the target time has passed.
    case breached
    /// The events cannot decide: no `ticket.opened`, or a resolved ticket with no first reply
    /// (imports carry no reply events, so a missing reply is no evidence of a late one).
    case unknown
    /// The rules say this target does not apply to the ticket (`[sla.applies]`).
    case notApplicable

    /// The name used in output: "pending", "met", "breached", "unknown", "not_applicable".
    public var name: String {
        switch self {
        case .pending: "pending"
        case .met: "met"
        case .breached: "breached"
        case .unknown: "unknown"
        case .notApplicable: "not_applicable"
        }
    }
}

extension Rules {
    /// The tickets one SLA target does not apply to (a part of `[sla.applies]`): those whose
    /// `ticket.opened` came from one of `sources`, or whose channel is one of `channels`.
    public struct SLAExceptions: Sendable, Equatable {
        /// Source patterns, sorted by their UTF-8 bytes, no repeats: an exact CloudEvents `source`,
        /// or a prefix followed by `*` ("urn:servicenow:*" matches every source that starts with
        /// "urn:servicenow:").
        public private(set) var sources: [String]
        /// Channels, in `Channel.allCases` order, no repeats.
        public private(set) var channels: [Channel]

        /// No exceptions: the target applies to every ticket.
        public static let none = SLAExceptions(sources: [], channels: [])

        /// Exceptions from `sources` and `channels` in any order, repeats dropped (so equal sets
        /// compare, and hash, alike). Patterns are not checked here; `Rules(toml:)` checks a file's.
        public init(sources: [String], channels: [Channel]) {
            let sorted = sources.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            var unique: [String] = []
            for source in sorted where !(unique.last.map { $0.utf8.elementsEqual(source.utf8) } ?? false) {
                unique.append(source)
            }
            self.sources = unique
            self.channels = Channel.allCases.filter(channels.contains)
        }

        public var isEmpty: Bool { sources.isEmpty && channels.isEmpty }

        /// Whether a ticket opened by an event from `source` on `channel` is excepted. Sources are
        /// compared byte for byte (a CloudEvents `source` is an identifier, not text to normalise);
        /// an unknown source or channel matches no pattern of its kind.
        public func excludes(source: String?, channel: Channel?) -> Bool {
            if let channel, channels.contains(channel) { return true }
            guard let source else { return false }
            for pattern in sources {
                if pattern.utf8.last == UInt8(ascii: "*") {
                    if source.utf8.starts(with: pattern.utf8.dropLast()) { return true }
                } else if source.utf8.elementsEqual(pattern.utf8) {
                    return true
                }
            }
            return false
        }
    }

    /// The full keys of `[sla.applies]`, in canonical order: for each target, `except_sources`
    /// then `except_channels`.
    static var appliesKeys: [String] {
        appliesTargets.flatMap { target, _ in
            ["sla.applies.\(target)_except_sources", "sla.applies.\(target)_except_channels"]
        }
    }

    /// The targets `[sla.applies]` names, with the property each sets.
    static var appliesTargets: [(String, KeyPath<Rules, SLAExceptions>)] {
        [("first_reply", \.firstReplyExceptions), ("resolution", \.resolutionExceptions)]
    }

    /// Reads `[sla.applies]` `<target>_except_sources` and `<target>_except_channels` from `entries`
    /// (full key -> entry). Both are optional, empty when absent: rules written before the table
    /// existed keep their meaning.
    /// - Throws: `RulesError` naming the key and its line: not an array of strings, an empty
    ///   pattern, a `*` before a pattern's end, a name that is not a channel.
    static func readExceptions(
        _ target: String, from entries: [String: TOMLDocument.Entry]
    ) throws(RulesError) -> SLAExceptions {
        func strings(_ path: String) throws(RulesError) -> (values: [String], line: Int) {
            guard let entry = entries[path] else { return ([], 0) }
            let wrongType = RulesError(
                line: entry.line, message: "'\(path)' must be an array of strings, like [\"a\", \"b\"]")
            guard case .array(let elements) = entry.value else { throw wrongType }
            var values: [String] = []
            for element in elements {
                guard case .string(let text) = element else { throw wrongType }
                values.append(text)
            }
            return (values, entry.line)
        }

        let sourcesPath = "sla.applies.\(target)_except_sources"
        let sources = try strings(sourcesPath)
        for pattern in sources.values {
            guard !pattern.isEmpty else {
                throw RulesError(line: sources.line, message: "'\(sourcesPath)' holds an empty source")
            }
            guard !pattern.utf8.dropLast().contains(UInt8(ascii: "*")) else {
                throw RulesError(
                    line: sources.line,
                    message:
                        "'\(sourcesPath)': '\(pattern)' has a '*' before its end ('*' may only end a pattern, "
                        + "which then matches every source starting with what comes before it)")
            }
        }

        let channelsPath = "sla.applies.\(target)_except_channels"
        let names = try strings(channelsPath)
        var channels: [Channel] = []
        for name in names.values {
            guard let channel = Channel(rawValue: name) else {
                throw RulesError(
                    line: names.line,
                    message:
                        "'\(channelsPath)': '\(name)' is not a channel (one of "
                        + Channel.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            channels.append(channel)
        }
        return SLAExceptions(sources: sources.values, channels: channels)
    }

    /// The verdicts of a ticket's two SLA targets (first reply and resolution).
    ///
    /// - Parameters:
    ///   - priority: the ticket's current priority (its target applies).
    ///   - source: the CloudEvents `source` of the ticket's `ticket.opened`; `channel` its channel.
    ///     Both decide whether a target applies (`[sla.applies]`).
    ///   - opened, firstReply, resolved: the times of the opening, of the first public rep reply,
    ///     and of the resolution (solve, or close or merge without a solve), when known.
    ///   - now: the latest event time known for the ticket's customer: an event time, never the
    ///     wall clock, so that a replay gives the same verdicts.
    ///
    /// No opening: unknown for both. A target that does not apply: notApplicable. First reply: met
    /// when the reply took at most the target, breached when longer; with no reply, unknown if the
    /// ticket is resolved (its events cannot show a first reply), else breached once `now` is later
    /// than the target time, else pending. Resolution: met or breached by the resolution time; with
    /// none, breached once `now` is later than the target time, else pending. Exactly the target is
    /// met; one microsecond more is breached.
    public func slaVerdicts(
        priority: Priority, source: String?, channel: Channel?, opened: Timestamp?, firstReply: Timestamp?,
        resolved: Timestamp?, now: Timestamp
    ) -> (firstReply: SLAVerdict, resolution: SLAVerdict) {
        guard let opened else { return (.unknown, .unknown) }
        let target = target(for: priority)

        func verdict(done: Timestamp?, minutes: Int64) -> SLAVerdict {
            let limit = minutes * 60_000_000
            if let done { return elapsed(from: opened, to: done) <= limit ? .met : .breached }
            return elapsed(from: opened, to: now) > limit ? .breached : .pending
        }

        let firstReplyVerdict: SLAVerdict
        if firstReplyExceptions.excludes(source: source, channel: channel) {
            firstReplyVerdict = .notApplicable
        } else if firstReply == nil && resolved != nil {
            firstReplyVerdict = .unknown
        } else {
            firstReplyVerdict = verdict(done: firstReply, minutes: target.firstReplyMinutes)
        }
        let resolutionVerdict =
            resolutionExceptions.excludes(source: source, channel: channel)
            ? .notApplicable : verdict(done: resolved, minutes: target.resolutionMinutes)
        return (firstReplyVerdict, resolutionVerdict)
    }

    /// Microseconds from `start` to `end`, saturating instead of overflowing (timestamps of valid
    /// events are far from the limits; this keeps the function total on any input).
    private func elapsed(from start: Timestamp, to end: Timestamp) -> Int64 {
        let (difference, overflow) = end.microsecondsSinceEpoch.subtractingReportingOverflow(
            start.microsecondsSinceEpoch)
        guard overflow else { return difference }
        return end > start ? .max : .min
    }
}
