import Crypto
import TouchlogDomain
import TouchlogProjections
import TouchlogStore

extension AuditProblem.Kind {
    /// A seal is not signed by the auditor's public key.
    public static let sealSignature = AuditProblem.Kind(rawValue: "seal_signature")
    /// A record of the `seals` database is not a seal (its bytes do not decode): reported with the
    /// seal's number while every other seal is still checked.
    public static let sealMalformed = AuditProblem.Kind(rawValue: "seal_malformed")
    /// The event at a seal's position no longer has the sealed hash (or is gone).
    public static let sealMismatch = AuditProblem.Kind(rawValue: "seal_mismatch")
    /// A stored projection record differs from a fresh fold of the log under its recorded rules.
    public static let projection = AuditProblem.Kind(rawValue: "projection")
    /// A checkpoint is not signed by the auditor's key.
    public static let checkpointSignature = AuditProblem.Kind(rawValue: "checkpoint_signature")
    /// The log does not extend a checkpoint: it is shorter, of another origin, or its tree's history
    /// differs (the consistency proof fails).
    public static let checkpointConsistency = AuditProblem.Kind(rawValue: "checkpoint_consistency")
    /// The stream heads tree recomputed as of the latest stored checkpoint does not have its root.
    public static let checkpointStreamHeads = AuditProblem.Kind(rawValue: "checkpoint_stream_heads")
}

/// A ticket event that broke the help-desk lifecycle: kept in the log, reported by the audit.
public struct AnomalyEntry: Sendable, Equatable, Codable {
    public var position: UInt64
    public var ticket: String
    public var customer: String
    public var type: String
    public var reason: String
}

extension AnomalyEntry {
    /// The rule the event broke, without the details in a final parenthesis ("happened before the ticket
    /// was opened (2024-01-02T10:00:00Z)" is "happened before the ticket was opened"): what anomalies are
    /// counted by.
    public var rule: String {
        guard reason.hasSuffix(")"), let open = reason.range(of: " (", options: .backwards) else {
            return reason
        }
        return String(reason[..<open.lowerBound])
    }
}

/// The anomalies that broke one rule: how many, and the first few (in position order).
public struct AnomalyGroup: Sendable, Equatable {
    public var rule: String
    public var count: Int
    public var examples: [AnomalyEntry]
}

/// What `touchlog audit` reports.
public struct AuditReport: Sendable, Equatable, Codable {
    /// True when nothing was found wrong.
    public var ok: Bool { problems.isEmpty }
    public var eventsChecked: Int
    public var sealsChecked: Int
    /// Checkpoints checked against the log's tree (stored ones, and ones kept outside the store).
    public var checkpointsChecked: Int = 0
    /// Ticket, customer and timeline records compared with a fresh fold.
    public var projectionRecordsChecked: Int
    public var problems: [AuditProblem]
    /// Rule-breaking ticket events (not problems: the log keeps them as facts).
    public var anomalies: [AnomalyEntry]
    /// The first position with a problem.
    public var firstBadPosition: UInt64? { problems.compactMap(\.position).min() }

    /// The anomalies by the rule they broke, the most frequent first (ties by rule), each with its first
    /// `examples` anomalies: what a reader needs before the full list.
    public func anomalySummary(examples: Int = 3) -> [AnomalyGroup] {
        var groups: [String: AnomalyGroup] = [:]
        for anomaly in anomalies.sorted(by: { $0.position < $1.position }) {
            let rule = anomaly.rule
            var group = groups[rule] ?? AnomalyGroup(rule: rule, count: 0, examples: [])
            group.count += 1
            if group.examples.count < examples { group.examples.append(anomaly) }
            groups[rule] = group
        }
        return groups.values.sorted { ($0.count, $1.rule) > ($1.count, $0.rule) }
    }

    enum CodingKeys: String, CodingKey {
        case ok
        case eventsChecked = "events_checked"
        case sealsChecked = "seals_checked"
        case checkpointsChecked = "checkpoints_checked"
        case problems, anomalies
        case projectionRecordsChecked = "projection_records_checked"
        case firstBadPosition = "first_bad_position"
    }

    public init(
        eventsChecked: Int, sealsChecked: Int, projectionRecordsChecked: Int, problems: [AuditProblem],
        anomalies: [AnomalyEntry]
    ) {
        self.eventsChecked = eventsChecked
        self.sealsChecked = sealsChecked
        self.projectionRecordsChecked = projectionRecordsChecked
        self.problems = problems
        self.anomalies = anomalies
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        eventsChecked = try container.decode(Int.self, forKey: .eventsChecked)
        sealsChecked = try container.decode(Int.self, forKey: .sealsChecked)
        checkpointsChecked = try container.decodeIfPresent(Int.self, forKey: .checkpointsChecked) ?? 0
        projectionRecordsChecked = try container.decode(Int.self, forKey: .projectionRecordsChecked)
        problems = try container.decode([AuditProblem].self, forKey: .problems)
        anomalies = try container.decode([AnomalyEntry].self, forKey: .anomalies)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ok, forKey: .ok)
        try container.encode(eventsChecked, forKey: .eventsChecked)
        try container.encode(sealsChecked, forKey: .sealsChecked)
        try container.encode(checkpointsChecked, forKey: .checkpointsChecked)
        try container.encode(projectionRecordsChecked, forKey: .projectionRecordsChecked)
        try container.encode(problems, forKey: .problems)
        try container.encode(firstBadPosition, forKey: .firstBadPosition)
        try container.encode(anomalies, forKey: .anomalies)
    }
}

/// Verifies that the stored history is complete and unaltered: the hash chain, positions, indexes,
/// every projection record against a fresh fold of the log, and (with a public key) every seal.
/// It changes no data.
public struct Auditor {
    let store: Store
    var log: EventLog { store.log }
    /// Called with the number of events checked so far during a full audit.
    public var progress: ((Int) -> Void)?

    public init(store: Store) { self.store = store }

    /// Audits the whole log, or one customer's stream; with `sealKey`, also every stored seal (unless
    /// `checkingStoredSeals` is false) and every seal of `keptSeals`, seals kept outside the store, which
    /// catch a log cut short or rewritten even when its stored seals went with it.
    ///
    /// The full audit also checks the Merkle tree against a recomputation, every stored checkpoint against
    /// the tree (a consistency proof from its size to the head; its signature too with `checkpointKey`
    /// when stored seals are checked), and the stream heads tree of the latest one. With `checkpointKey`,
    /// each of `keptCheckpoints` (kept outside the store) is checked the same way, signature included.
    public func audit(
        customer: String? = nil, sealKey: Curve25519.Signing.PublicKey? = nil,
        checkingStoredSeals: Bool = true,
        keptSeals: [Seal] = [],
        checkpointKey: NoteVerifierKey? = nil,
        keptCheckpoints: [(name: String, checkpoint: SignedCheckpoint)] = []
    ) throws -> AuditReport {
        // The projections' fresh fold and the log's check read the store independently: the fold runs on
        // a thread of its own while this one checks the log, and the audit takes the time of the longer.
        let store = self.store
        let projectionCheck = BackgroundThread {
            try ProjectionStore(store: store).verify(customer: customer)
        }
        let verification = try customer.map { try log.verify(customer: $0) } ?? log.verify(progress: progress)
        let projections = try projectionCheck.wait()
        var problems = verification.problems
        problems += projections.mismatches.map {
            AuditProblem(position: $0.position, kind: .projection, message: $0.description)
        }
        let anomalies = projections.anomalies.map {
            AnomalyEntry(
                position: $0.anomaly.position, ticket: $0.ticket, customer: $0.customer,
                type: $0.anomaly.type,
                reason: $0.anomaly.reason)
        }
        var sealsChecked = 0
        if let sealKey {
            for seal in keptSeals {
                sealsChecked += 1
                problems += try check(seal, with: sealKey)
            }
        }
        if let sealKey, checkingStoredSeals {
            for stored in try SealBook(store: store).all() {
                sealsChecked += 1
                switch stored.content {
                case .seal(let seal):
                    problems += try check(seal, with: sealKey)
                case .malformed(let reason):
                    problems.append(
                        AuditProblem(
                            position: nil, kind: .sealMalformed,
                            message:
                                "\(stored.name) is not a seal (\(reason)): the seals database was changed outside touchlog; the other seals are still checked"
                        ))
                }
            }
        }
        var checkpointsChecked = 0
        if let checkpointKey {
            for kept in keptCheckpoints {
                checkpointsChecked += 1
                problems += try check(kept.checkpoint, named: kept.name, key: checkpointKey, verification)
            }
        }
        if customer == nil {
            let stored = try CheckpointBook(store: store).all()
            for checkpoint in stored {
                checkpointsChecked += 1
                problems += try check(
                    checkpoint.signed, named: "stored checkpoint \(checkpoint.number)",
                    key: checkingStoredSeals ? checkpointKey : nil, verification)
            }
            if let latest = stored.last { problems += try checkStreamHeads(of: latest, verification) }
        }
        problems = problems.sortedByPosition()
        var report = AuditReport(
            eventsChecked: verification.eventsChecked, sealsChecked: sealsChecked,
            projectionRecordsChecked: projections.tickets + projections.customers
                + projections.timelineEntries,
            problems: problems, anomalies: anomalies)
        report.checkpointsChecked = checkpointsChecked
        return report
    }

    /// Checks one checkpoint: its signature under `key` (when given), its origin, and that the log's tree
    /// extends it: the log is at least as long, and the consistency proof from the checkpoint's size to
    /// the head leads from its root to the root recomputed from the events.
    func check(
        _ signed: SignedCheckpoint, named name: String, key: NoteVerifierKey?, _ verification: LogVerification
    ) throws -> [AuditProblem] {
        var problems: [AuditProblem] = []
        if let key {
            do { try signed.verify(with: key) } catch {
                problems.append(
                    AuditProblem(position: nil, kind: .checkpointSignature, message: "\(name): \(error)"))
            }
        }
        let checkpoint = signed.checkpoint
        if let origin = try store.origin(), origin != checkpoint.origin {
            problems.append(
                AuditProblem(
                    position: nil, kind: .checkpointConsistency,
                    message: "\(name) is of the log '\(checkpoint.origin)'; this store is '\(origin)'"))
            return problems
        }
        let head = verification.headPosition
        guard checkpoint.size <= head else {
            problems.append(
                AuditProblem(
                    position: head + 1, kind: .checkpointConsistency,
                    message:
                        "\(name) covers \(checkpoint.size) events; the log has \(head): events were removed from its end"
                ))
            return problems
        }
        let consistent = try store.withReadTransaction { txn -> Bool in
            guard let tree = log.tree else { return false }
            let newRoot = try verification.treeRoot ?? tree.root(size: head, txn)
            let proof = try tree.consistencyProof(old: checkpoint.size, new: head, txn)
            return MerkleProof.verifyConsistency(
                old: checkpoint.size, new: head, oldRoot: checkpoint.root, newRoot: newRoot, proof: proof)
        }
        if !consistent {
            problems.append(
                AuditProblem(
                    position: nil, kind: .checkpointConsistency,
                    message:
                        "\(name): the log does not extend it: no consistency proof leads from its root at tree size \(checkpoint.size) to the root of the log's \(head) events (the history it covers was rewritten)"
                ))
        }
        return problems
    }

    /// Recomputes the stream heads tree as of the latest stored checkpoint and compares its root.
    func checkStreamHeads(of stored: StoredCheckpoint, _ verification: LogVerification) throws
        -> [AuditProblem]
    {
        let checkpoint = stored.signed.checkpoint
        guard checkpoint.size <= verification.headPosition else { return [] }  // reported as cut short
        let heads = try store.withReadTransaction { txn in
            try log.streamHeadsRoot(asOf: checkpoint.size, in: txn)
        }
        guard let committed = checkpoint.streamHeads, committed.size == heads.size,
            committed.root == heads.root
        else {
            return [
                AuditProblem(
                    position: nil, kind: .checkpointStreamHeads,
                    message:
                        "stored checkpoint \(stored.number): the stream heads as of \(checkpoint.size) events make a tree of \(heads.size) with root \(heads.root); the checkpoint commits to \(checkpoint.streamHeads.map { "\($0.size) with root \($0.root)" } ?? "none")"
                )
            ]
        }
        return []
    }

    /// Checks one seal: its signature under `key`, and that the event at its position still has its hash.
    public func check(_ seal: Seal, with key: Curve25519.Signing.PublicKey) throws -> [AuditProblem] {
        var problems: [AuditProblem] = []
        if !seal.isSigned(by: key) {
            problems.append(
                AuditProblem(
                    position: seal.position, kind: .sealSignature,
                    message: "the seal of \(seal.sealedTime) is not signed by the given public key"))
        }
        guard let event = try log.event(at: seal.position) else {
            problems.append(
                AuditProblem(
                    position: seal.position, kind: .sealMismatch,
                    message:
                        "the seal of \(seal.sealedTime) covers position \(seal.position), which the log no longer has"
                ))
            return problems
        }
        if event.hash.description != seal.hash {
            problems.append(
                AuditProblem(
                    position: seal.position, kind: .sealMismatch,
                    message:
                        "the seal of \(seal.sealedTime) says position \(seal.position) had hash \(seal.hash); it now has \(event.hash): the history up to it was rewritten"
                ))
        }
        return problems
    }
}
