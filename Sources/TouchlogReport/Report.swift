import CloudEvents
import Crypto
import Foundation
import TouchlogAudit
import TouchlogDomain
import TouchlogProjections
import TouchlogStore

/// One customer's history (or one ticket's), verified and narrated, ready to be written as HTML and CSV.
///
/// Built from the customer's whole stream and the log's own check of it
/// (`EventLog.verifiedStream(ofCustomer:)`): every event of the stream up to `until` is folded by
/// ``ReplayNarrator`` (so each event's "what changed" and each ticket's final state are the projections'
/// own), and the events in the window (and of the ticket, for a ticket report) become the rows.
public struct Report: Sendable {
    /// What the report is about.
    public enum Subject: Sendable, Equatable {
        case customer(String)
        /// A ticket and the customer it belongs to.
        case ticket(String, customer: String)

        public var customer: String {
            switch self {
            case .customer(let id), .ticket(_, let id): id
            }
        }
    }

    /// One event of the report: the stored event, what it changed, and what the check found wrong with it.
    public struct Row: Sendable {
        public var stored: StoredEvent
        public var changes: [String]
        public var problems: [AuditProblem]
        /// The event's channel tag, else its ticket's channel; nil for neither.
        public var channel: Channel?
        public var ticketID: String?
        public var repID: String?
        public var kind: TouchpointKind?
    }

    public var subject: Subject
    public var since: Timestamp?
    public var until: Timestamp?
    public var generatedAt: Timestamp
    /// The events of the report in stream order.
    public var rows: [Row]
    /// The tickets the rows touch, in the state the fold left them at the end of the window, by id.
    public var tickets: [TicketState]
    /// The number of events in the customer's stream as read back (before the window).
    public var streamCount: Int
    /// The stream read back is versions 1...streamCount with none missing.
    public var streamComplete: Bool
    /// What the log's check of the customer's stream found, first bad position first.
    public var problems: [AuditProblem]
    /// The latest record of the store's `seals` database, if any.
    public var latestSeal: StoredSeal?

    /// Folds `stream` (a customer's whole stream, oldest first, as `verifiedStream(ofCustomer:)` returns
    /// it) under `rules` and keeps the events that happened in `since...until` (event time; either may be
    /// nil) and, for a ticket report, that carry the ticket's id.
    public init(
        subject: Subject, stream: [StoredEvent], verification: LogVerification, rules: Rules,
        since: Timestamp? = nil, until: Timestamp? = nil, latestSeal: StoredSeal? = nil,
        generatedAt: Timestamp = .now()
    ) {
        self.subject = subject
        self.since = since
        self.until = until
        self.generatedAt = generatedAt
        self.latestSeal = latestSeal
        problems = verification.sortedProblems
        streamCount = stream.count
        streamComplete = stream.enumerated().allSatisfy { $0.element.version == UInt64($0.offset + 1) }
        let problemsAt = Dictionary(grouping: problems.filter { $0.position != nil }) { $0.position! }
        var narrator = ReplayNarrator(rules: rules)
        var rows: [Row] = []
        for stored in stream {
            if let until, stored.occurredAt > until { continue }
            let changes = narrator.apply(stored)
            if let since, stored.occurredAt < since { continue }
            // An event that does not validate is still a row: the narrator's lines say why it was not
            // interpreted, and its tags are read as stored.
            let touchpoint = try? Touchpoint(validating: stored.event)
            let ticketID = touchpoint?.ticketID ?? Self.tag("ticketid", of: stored.event)
            if case .ticket(let id, _) = subject, ticketID != id { continue }
            rows.append(
                Row(
                    stored: stored, changes: changes, problems: problemsAt[stored.position] ?? [],
                    channel: touchpoint?.channel, ticketID: ticketID,
                    repID: touchpoint?.repID ?? Self.tag("repid", of: stored.event), kind: touchpoint?.kind))
        }
        let states = narrator.tickets
        // An event with no channel of its own (an assignment, a reply) is on its ticket's channel.
        for index in rows.indices where rows[index].channel == nil {
            rows[index].channel = rows[index].ticketID.flatMap { states[$0]?.channel }
        }
        let touched = Set(rows.compactMap(\.ticketID))
        tickets = touched.compactMap { states[$0] }.sorted { $0.id < $1.id }
        self.rows = rows
    }

    /// A tag of an event that does not validate as a touchpoint, read as it was stored (a string).
    private static func tag(_ name: String, of event: CloudEvent) -> String? {
        if case .string(let value) = event.extensionValue(name) { return value }
        return nil
    }

    /// The title: "customer X", or "ticket T of customer X".
    public var title: String {
        switch subject {
        case .customer(let id): "customer \(id)"
        case .ticket(let ticket, let customer): "ticket \(ticket) of customer \(customer)"
        }
    }

    /// Whether the stream passed the log's check: no problem and complete.
    public var isIntact: Bool { problems.isEmpty && streamComplete }

    /// The verification verdict, one line a fact: the chain and stream links, completeness, the latest
    /// seal, erasures and holds. Plain text: the HTML escapes it.
    public var verdictLines: [String] {
        let customer = subject.customer
        var lines: [String] = []
        if let first = problems.first {
            let place = first.position.map { "first bad position \($0)" } ?? "the stream"
            lines.append(
                "chain: NOT INTACT: \(place): \(first.kind): \(first.message) (\(problems.count) problem(s); 'touchlog audit' checks the whole log)"
            )
        } else {
            lines.append(
                "chain: intact: the \(streamCount) events of '\(customer)' have their hashes, chain links and stream links"
            )
        }
        if streamComplete {
            lines.append("stream: complete: versions 1 to \(streamCount), none missing")
        } else {
            lines.append(
                "stream: INCOMPLETE: \(streamCount) events read back, and versions are missing before them")
        }
        lines.append(sealLine)
        lines.append("erasures and holds: none (store format 2 has none)")
        return lines
    }

    private var sealLine: String {
        guard let latestSeal else { return "seal: none in the store ('touchlog seal --key FILE' makes one)" }
        switch latestSeal.content {
        case .malformed(let reason):
            return "seal: the latest seal record (\(latestSeal.name)) is not a seal: \(reason)"
        case .seal(let seal):
            let last = rows.last?.stored.position ?? 0
            let coverage =
                seal.position >= last
                ? "covers every event of this report"
                : "covers the events up to position \(seal.position); later ones are not sealed yet"
            return
                "seal: \(latestSeal.name), position \(seal.position), hash \(seal.hash.prefix(16))…, sealed \(seal.sealedTime), key fingerprint \(Self.fingerprint(ofPublicKey: seal.publicKey)); \(coverage) (signature not checked here: 'touchlog audit --seals --public-key FILE' checks it)"
        }
    }

    /// A short fingerprint of a signer's key: "SHA256:" and the first 16 bytes of the SHA-256 of the
    /// raw key, in hex pairs; for text that is not base64, says so.
    public static func fingerprint(ofPublicKey base64: String) -> String {
        guard let raw = Data(base64Encoded: base64) else { return "(not base64)" }
        let digest = SHA256.hash(data: raw)
        return "SHA256:" + digest.prefix(16).map { String(format: "%02x", $0) }.joined(separator: ":")
    }
}

extension LogVerification {
    /// The problems with a position first, by position; then those without.
    fileprivate var sortedProblems: [AuditProblem] { problems.sortedByPosition() }
}
