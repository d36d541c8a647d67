import CloudEvents
import Crypto
import LMDB
import TouchlogDomain

/// The result of verifying the log: how much was checked and what was wrong, in position order.
public struct LogVerification: Sendable, Equatable {
    public var eventsChecked: Int
    public var problems: [AuditProblem]
    /// The head the verification saw (its consistent snapshot).
    public var headPosition: UInt64
    public var headHash: ChainHash
    /// The root of the Merkle tree recomputed from the events (over the whole log); nil for a
    /// verification of one customer.
    public var treeRoot: ChainHash?
    /// Whether the stored tree was compared node by node with the recomputation (a read-only store made
    /// before the tree has none).
    public var treeChecked: Bool = false

    /// The first position with a problem, if any problem has a position.
    public var firstBadPosition: UInt64? { problems.compactMap(\.position).min() }
}

extension EventLog {
    /// Verifies the whole log in one consistent snapshot: positions gapless from 1, every record's hash,
    /// the chain of predecessor hashes, recorded times that never go backwards, each customer's stream
    /// links and versions, and the `streams` and `idruns` indexes against the events they index.
    /// Read-only: it can run while another process appends.
    /// - Parameter progress: called with the number of events checked so far, every 65,536 events.
    public func verify(progress: ((Int) -> Void)? = nil) throws -> LogVerification {
        try verify(progress: progress, limits: AuditPassLimits())
    }

    /// `verify(progress:)` with the given bounds on what one pass holds (tests use small ones).
    func verify(progress: ((Int) -> Void)? = nil, limits: AuditPassLimits) throws -> LogVerification {
        try storage("verifying the log") {
            try environment.withReadTransaction { txn in
                try verifyAll(txn, progress: progress, limits: limits)
            }
        }
    }

    /// Verifies one customer's stream end to end: each event's hash, its link to the event before it in
    /// the global chain (its predecessor hash, and a recorded time not before that event's), its stream
    /// version and link, its subject, and its idempotency index entry.
    public func verify(customer: String) throws -> LogVerification {
        try storage("verifying the stream of '\(customer)'") {
            try environment.withReadTransaction { txn in try verifyCustomer(customer, txn) }
        }
    }

    /// A customer's whole stream in version order (oldest first) and its verification as
    /// ``verify(customer:)`` does it, from one consistent snapshot: what `replay` shows, and which of its
    /// events are not intact.
    ///
    /// The stream is read back from its head as far as records decode and link: a record that is
    /// missing or does not decode ends it there (the verification names that position), and no damaged
    /// link can make the walk go round for ever.
    public func verifiedStream(ofCustomer customer: String) throws -> (
        events: [StoredEvent], verification: LogVerification
    ) {
        try storage("verifying the stream of '\(customer)'") {
            try environment.withReadTransaction { txn in
                let verification = try verifyCustomer(customer, txn)
                guard let head = try readStream(customer, txn) else { return ([], verification) }
                var events: [StoredEvent] = []
                var position = head.lastPosition
                while position != 0 && events.count < Int(head.version) {
                    let event: StoredEvent?
                    do {
                        event = try withRecord(at: position, in: txn) { $0.storedEvent }
                    } catch StoreError.corruptRecord {
                        break
                    }
                    guard let event else { break }
                    events.append(event)
                    position = event.previousPosition
                }
                return (events.reversed(), verification)
            }
        }
    }

    private func verifyAll(
        _ txn: borrowing ReadTransaction, progress: ((Int) -> Void)?, limits: AuditPassLimits
    ) throws -> LogVerification {
        // The sealed content (format 3) is opened on a thread of its own, in a snapshot of its own but
        // only up to this snapshot's head: nothing else this walk checks depends on it.
        let through = try readHead(txn).position
        let contentCheck =
            databases.sealing == nil ? nil : BackgroundThread { try self.verifyContent(through: through) }
        let customers = try txn.statistics(of: databases.streams).entries
        let split = AuditSplit(
            passes: max(
                1, Int((through + UInt64(limits.identities) - 1) / UInt64(limits.identities)),
                (customers + limits.streams - 1) / limits.streams))
        let walked = Result { try walkAll(txn, progress: progress, split) }
        let contentProblems = Result { try contentCheck?.wait() ?? [] }
        let (walk, streams, walkedIdentities, treeProblems) = try walked.get()
        var verification = walk
        var identities = walkedIdentities
        var problems = verification.problems
        problems += try contentProblems.get()
        problems += treeProblems
        let head = verification.headPosition
        problems += try verifyStreamIndex(streams, head: head, txn, split, pass: 0)
        problems += try verifyIdentityIndex(&identities, txn, split, pass: 0)
        // A large store: the other slices of the streams and identity hashes, one pass each.
        for pass in 1..<split.passes {
            var (streams, identities) = ([StreamKey: StreamHead](), [(key: UInt64, position: UInt64)]())
            try txn.withCursor(on: databases.events) { cursor in
                try cursor.unsafeForEach(from: nil as BigEndianKey?) { key, value in
                    guard let position = BigEndianKey(bytes: key)?.value,
                        let links = EventRecordView.Header.links(value),
                        let (stream, identity) = streamAndIdentity(value, at: position)
                    else { return true }  // the first pass reported it
                    if split.pass(of: stream) == pass {
                        link(stream, links, at: position, &streams, &problems)
                    }
                    if split.pass(of: identity) == pass { identities.append((identity, position)) }
                    return true
                }
            }
            problems += try verifyStreamIndex(streams, head: head, txn, split, pass: pass)
            problems += try verifyIdentityIndex(&identities, txn, split, pass: pass)
        }
        verification.problems = problems.sortedByPosition()
        return verification
    }

    /// Checks that the event at `position` (its header's `links`) is the next of `stream`, and makes
    /// it the stream's head in `streams`.
    @inline(__always)
    private func link(
        _ stream: StreamKey, _ links: EventRecordView.Header.Links, at position: UInt64,
        _ streams: inout [StreamKey: StreamHead], _ problems: inout [AuditProblem]
    ) {
        func follow(_ head: inout StreamHead) {
            if links.version != head.version + 1 || links.previousPosition != head.lastPosition {
                problems.append(
                    AuditProblem(
                        position: position, kind: .streamLink,
                        message:
                            "customer '\(stream.name)': version \(links.version) after position \(links.previousPosition), expected version \(head.version + 1) after position \(head.lastPosition)"
                    ))
            }
            head = StreamHead(lastPosition: position, version: head.version + 1)
        }
        follow(&streams[stream, default: StreamHead(lastPosition: 0, version: 0)])
    }

    /// The walk of the whole log: each record's hash, chain link, recorded time and stream link, and
    /// the stored Merkle tree against one recomputed from the records. Returns the verification with
    /// the walk's problems, the heads of the streams and the identity index entries the log calls for
    /// (of the first pass of `split`: only those are linked and kept), and the tree's problems.
    private func walkAll(_ txn: borrowing ReadTransaction, progress: ((Int) -> Void)?, _ split: AuditSplit)
        throws -> (
            LogVerification, [StreamKey: StreamHead], [(key: UInt64, position: UInt64)], [AuditProblem]
        )
    {
        var problems: [AuditProblem] = []
        var expected: UInt64 = 1
        var previousHash = ChainHash.genesis
        // The position and recorded time of the record before, when its header could be read.
        var previousRecorded: (position: UInt64, time: Timestamp)?
        var streams: [StreamKey: StreamHead] = [:]
        var identities: [(key: UInt64, position: UInt64)] = []
        var checked = 0
        var tree = TreeCheck(comparing: self.tree != nil)
        /// Walks the events; `nextStoredNode` gives the stored tree's next node (nil past its end).
        func walk(_ nextStoredNode: () throws -> (key: UInt64?, hash: ChainHash?)?) throws {
            try txn.withCursor(on: databases.events) { cursor in
                try cursor.unsafeForEach(from: nil as BigEndianKey?) { key, value in
                    guard let position = BigEndianKey(bytes: key)?.value else {
                        problems.append(
                            AuditProblem(
                                position: expected, kind: .undecodable,
                                message: "a key of the events table is not 8 bytes"))
                        return true
                    }
                    if position != expected {
                        // Keys out of order come only from a damaged file: report them, never trap on them.
                        let message =
                            position > expected
                            ? "positions jump from \(expected &- 1) to \(position): \(position - expected) event(s) missing"
                            : "positions go back from \(expected &- 1) to \(position)"
                        problems.append(AuditProblem(position: expected, kind: .gap, message: message))
                    }
                    expected = position &+ 1
                    checked += 1
                    try tree.add(ChainHash(leafOf: position, record: value), at: position, nextStoredNode)
                    if checked % 65_536 == 0 { progress?(checked) }
                    guard let links = EventRecordView.Header.links(value),
                        let (stream, identity) = streamAndIdentity(value, at: position)
                    else {
                        problems.append(
                            AuditProblem(
                                position: position, kind: .undecodable, message: "the record does not decode")
                        )
                        let header = EventRecordView.Header.hashAndRecordedTime(value)
                        previousHash = header?.0 ?? .genesis
                        if let recorded = header?.1 {
                            checkRecordedTime(
                                recorded, at: position, after: previousRecorded, into: &problems)
                        }
                        previousRecorded = header.map { (position, $0.1) }
                        return true
                    }
                    let recomputed = ChainHash(position: position, record: value)
                    if recomputed != links.hash {
                        problems.append(
                            .hashMismatch(at: position, stored: links.hash, recomputed: recomputed))
                    }
                    if links.predecessorHash != previousHash {
                        problems.append(
                            .chainBroken(
                                at: position, predecessor: links.predecessorHash,
                                previous: previousHash.description))
                    }
                    checkRecordedTime(
                        links.recordedAt, at: position, after: previousRecorded, into: &problems)
                    previousRecorded = (position, links.recordedAt)
                    if split.passes == 1 || split.pass(of: stream) == 0 {
                        link(stream, links, at: position, &streams, &problems)
                    }
                    if split.passes == 1 || split.pass(of: identity) == 0 {
                        identities.append((identity, position))
                    }
                    previousHash = links.hash
                    return true
                }
            }
        }
        if let merkle = self.tree {
            try txn.withCursor(on: merkle.database) { treeCursor in
                var positioned = try treeCursor.first()
                try walk {
                    guard positioned else { return nil }
                    let node = try treeCursor.withUnsafeCurrent { key, value in
                        (
                            BigEndianKey(bytes: key)?.value,
                            value.count == 32 ? ChainHash(unsafeBytes: value) : nil
                        )
                    }
                    positioned = try treeCursor.next()
                    return node
                }
                if tree.problems.isEmpty && positioned {
                    tree.problems.append(
                        AuditProblem(
                            position: expected, kind: .tree,
                            message:
                                "the Merkle tree has nodes beyond the log's last event (position \(expected - 1)): events were removed from the end"
                        ))
                }
            }
        } else {
            try walk { nil }
        }
        let verification = LogVerification(
            eventsChecked: checked, problems: problems, headPosition: expected - 1, headHash: previousHash,
            treeRoot: tree.frontier.root, treeChecked: self.tree != nil)
        return (verification, streams, identities, tree.problems)
    }

    /// The stream the record `value` (stored at `position`) belongs to and its identity hash, read in
    /// place; nil when the record does not decode. A record of format 3 is read without its sealed
    /// content, which `verifyContent(through:)` checks.
    private func streamAndIdentity(_ value: UnsafeRawBufferPointer, at position: UInt64) -> (
        StreamKey, UInt64
    )? {
        if value.first == SealedRecord.format {
            guard databases.sealing != nil, let fields = SealedRecord.Fields(value) else { return nil }
            let pseudonym = UnsafeRawBufferPointer(
                rebasing: value[
                    SealedRecord.pseudonymOffset..<SealedRecord.pseudonymOffset + Pseudonym.byteCount])
            return (
                StreamKey(pseudonym: pseudonym),
                identityHasher.hash(
                    source: UnsafeRawBufferPointer(rebasing: value[fields.source]),
                    id: UnsafeRawBufferPointer(rebasing: value[fields.id]))
            )
        }
        guard let record = EventRecordView(bytes: value, position: position) else { return nil }
        return (StreamKey(subject: record.subject ?? ""), record.identityHash(identityHasher))
    }

    /// Opens the sealed content of every record of format 3 up to position `through`, in a snapshot
    /// of its own: it must be authentic under its customer's key, be what the record commits to, and
    /// decode. A customer's key is read once. Records that do not decode are left to the walk.
    private func verifyContent(through: UInt64) throws -> [AuditProblem] {
        guard let sealing = databases.sealing else { return [] }
        return try environment.withReadTransaction { txn in
            var problems: [AuditProblem] = []
            var keys: [StreamKey: StoredKey] = [:]
            // The contents are read in step with the events (both are keyed by position): a cursor
            // step for each rather than a search of the content database per event.
            try txn.withCursor(on: sealing.content) { contents in
                var positioned = try contents.first()
                try txn.withCursor(on: databases.events) { cursor in
                    try cursor.unsafeForEach(from: nil as BigEndianKey?) { key, value in
                        guard let position = BigEndianKey(bytes: key)?.value else { return true }
                        guard position <= through else { return false }
                        guard value.first == SealedRecord.format, let fields = SealedRecord.Fields(value),
                            fields.contentKind == .sealed
                        else { return true }
                        // The first content at or after this position (keys that are no position are
                        // passed over).
                        while positioned,
                            try contents.withUnsafeCurrent({ key, _ in
                                BigEndianKey(bytes: key).map { $0.value < position } ?? true
                            }) == true
                        {
                            positioned = try contents.next()
                        }
                        let reason: String?
                        do {
                            let stream = StreamKey(
                                pseudonym: UnsafeRawBufferPointer(
                                    rebasing: value[SealedRecord.pseudonymOffset...]))
                            guard
                                let live = try liveKey(of: stream, fields, at: position, sealing, &keys, txn)
                            else { return true }
                            let found =
                                try positioned
                                && contents.withUnsafeCurrent { key, _ in
                                    BigEndianKey(bytes: key)?.value == position
                                } == true
                            reason =
                                found
                                ? try contents.withUnsafeCurrent { _, content in
                                    try contentProblem(at: position, fields, live, content)
                                } ?? nil
                                : try contentProblem(at: position, fields, live, nil)
                        } catch StoreError.sealedContent(_, let why) {
                            reason = "its personal content cannot be read: " + why
                        }
                        if let reason {
                            problems.append(
                                AuditProblem(position: position, kind: .undecodable, message: reason))
                        }
                        return true
                    }
                }
            }
            return problems
        }
    }

    /// The key of the customer of the record at `position` (`fields`, its pseudonym as `stream`) while
    /// it lives; nil when the customer is erased or withheld. Read once per customer into `keys`.
    /// - Throws: `StoreError.sealedContent` when `customerkeys` has no key for it, or one that does not
    ///   decode.
    private func liveKey(
        of stream: StreamKey, _ fields: SealedRecord.Fields, at position: UInt64, _ sealing: Store.Sealing,
        _ keys: inout [StreamKey: StoredKey], _ txn: borrowing ReadTransaction
    ) throws -> SymmetricKey? {
        let stored: StoredKey
        if let cached = keys[stream] {
            stored = cached
        } else {
            guard let found = try storedKey(fields.pseudonym, sealing, txn) else {
                throw StoreError.sealedContent(
                    position: position,
                    reason: "its customer (pseudonym \(fields.pseudonym.hex)) has no key in 'customerkeys'")
            }
            // Bounded whatever the number of customers: past the limit the cache starts again.
            if keys.count >= AuditPassLimits.cachedKeys { keys.removeAll(keepingCapacity: true) }
            keys[stream] = found
            stored = found
        }
        guard case .live(let key) = stored else { return nil }
        return key
    }

    /// What is wrong with the sealed `content` of the record at `position` (`fields`) under its
    /// customer's `key`: nil when it opens and decodes.
    /// - Throws: `StoreError.sealedContent` when it cannot be read (missing, not authentic, not what
    ///   was committed), as `withView` reports it.
    private func contentProblem(
        at position: UInt64, _ fields: SealedRecord.Fields, _ key: SymmetricKey,
        _ content: UnsafeRawBufferPointer?
    ) throws -> String? {
        guard let content else {
            throw StoreError.sealedContent(
                position: position, reason: "its entry in 'content' is missing while its customer's key lives"
            )
        }
        do {
            return try SealedRecord.withOpened(
                content: content, key: key, position: position, commitment: fields.commitment
            ) { plain -> String? in
                // As `withView` reads it: content that does not parse cannot be read; a data kind no
                // record has makes a record that does not decode.
                guard let parts = SealedRecord.personalContent(plain) else {
                    return "its personal content cannot be read: its opened content does not decode"
                }
                return EventRecordView.DataKind(rawValue: plain[parts.data.lowerBound]) == nil
                    ? "the record does not decode" : nil
            }
        } catch {
            throw StoreError.sealedContent(position: position, reason: error.reason)
        }
    }

    /// Adds a problem when `recorded`, the recorded time at `position`, is earlier than the one of the
    /// record before it.
    @inline(__always)
    private func checkRecordedTime(
        _ recorded: Timestamp, at position: UInt64, after previous: (position: UInt64, time: Timestamp)?,
        into problems: inout [AuditProblem]
    ) {
        guard let previous, recorded < previous.time else { return }
        problems.append(
            .recordedTimeGoesBack(
                at: position, recorded: recorded, previousPosition: previous.position, previous: previous.time
            ))
    }

    /// Compares the `streams` index with the heads the log computed (`head` is the last position).
    ///
    /// A disagreement is reported at the later of the two last positions (when within the log): if an
    /// event moved to another customer, the index still names it and the log's head of the customer
    /// is the event before it, which is not where the damage is.
    private func verifyStreamIndex(
        _ computed: [StreamKey: StreamHead], head: UInt64, _ txn: borrowing ReadTransaction,
        _ split: AuditSplit, pass: Int
    ) throws -> [AuditProblem] {
        var problems: [AuditProblem] = []
        var remaining = computed
        try txn.withCursor(on: databases.streams) { cursor in
            try cursor.unsafeForEach(from: nil as BigEndianKey?) { key, value in
                let stream =
                    databases.sealing != nil && key.count == Pseudonym.byteCount
                    ? StreamKey(pseudonym: key) : StreamKey(subject: String(decoding: key, as: UTF8.self))
                guard split.passes == 1 || split.pass(of: stream) == pass else { return true }
                let customer = stream.name
                let indexed = StreamHead(decoding: value)
                guard let actual = remaining.removeValue(forKey: stream) else {
                    problems.append(
                        AuditProblem(
                            position: indexed?.lastPosition, kind: .streamIndex,
                            message: "the streams index has customer '\(customer)', who has no events"))
                    return true
                }
                if indexed?.lastPosition != actual.lastPosition || indexed?.version != actual.version {
                    let claimed = indexed?.lastPosition ?? 0
                    problems.append(
                        AuditProblem(
                            position: claimed <= head
                                ? max(actual.lastPosition, claimed) : actual.lastPosition,
                            kind: .streamIndex,
                            message:
                                "the streams index says customer '\(customer)' is at version \(indexed?.version ?? 0), position \(indexed?.lastPosition ?? 0); the log says version \(actual.version), position \(actual.lastPosition)"
                        ))
                }
                return true
            }
        }
        for (stream, head) in remaining {
            problems.append(
                AuditProblem(
                    position: head.lastPosition, kind: .streamIndex,
                    message: "the streams index has no entry for customer '\(stream.name)'"))
        }
        return problems
    }

    /// Compares the `idruns` index with the entries the log calls for, those of the identity hashes of
    /// `pass` of `split`; the runs' own order and filters are checked in the first pass.
    private func verifyIdentityIndex(
        _ identities: inout [(key: UInt64, position: UInt64)], _ txn: borrowing ReadTransaction,
        _ split: AuditSplit, pass: Int
    ) throws -> [AuditProblem] {
        var problems: [AuditProblem] = []
        identities.sort { ($0.key, $0.position) < ($1.key, $1.position) }
        var index = 0
        try txn.withUnsafeEntries(in: databases.idRuns) { runEntries in
            var sources: [SortedIdentityEntries] = []
            for (key, value) in runEntries {
                let number = BigEndianKey(bytes: key)?.value.description ?? "?"
                guard let run = IdentityRun(value) else {
                    guard pass == 0 else { continue }
                    problems.append(
                        AuditProblem(
                            position: nil, kind: .idIndex, message: "the id index run \(number) is malformed")
                    )
                    continue
                }
                for entry in 0..<(pass == 0 ? run.count : 0) {
                    if entry > 0 && run.entries.entry(at: entry - 1) >= run.entries.entry(at: entry) {
                        problems.append(
                            AuditProblem(
                                position: run.entries.position(at: entry), kind: .idIndex,
                                message: "the id index run \(number) is out of order at entry \(entry)"))
                    }
                    // An entry its run's filter denies could never be found: the event would look new.
                    if !run.mayContain(run.entries.hash(at: entry)) {
                        problems.append(
                            AuditProblem(
                                position: run.entries.position(at: entry), kind: .idIndex,
                                message: "the filter of id index run \(number) lacks the entry of this event")
                        )
                    }
                }
                sources.append(split.slice(run.entries, pass: pass))
            }
            // All runs in one sorted sequence, compared with the entries the log calls for.
            var merged = MergedIdentityEntries(sources)
            while let entry = merged.next() {
                let (hash, position) = (entry.hash, entry.position)
                // Entries the log has and the index lacks come first in the merged order.
                while index < identities.count
                    && (identities[index].key, identities[index].position) < (hash, position)
                {
                    problems.append(
                        AuditProblem(
                            position: identities[index].position, kind: .idIndex,
                            message: "the id index has no entry for this event"))
                    index += 1
                }
                if index < identities.count && identities[index] == (hash, position) {
                    index += 1
                } else {
                    problems.append(
                        AuditProblem(
                            position: position, kind: .idIndex,
                            message:
                                "the id index has an entry (hash \(String(hash, radix: 16))) pointing at position \(position) that does not match the event there, or twice"
                        ))
                }
            }
        }
        for missing in identities[index...] {
            problems.append(
                AuditProblem(
                    position: missing.position, kind: .idIndex,
                    message: "the id index has no entry for this event"))
        }
        // Events that share a key may be true duplicates (same source and id): compare them.
        var start = 0
        while start < identities.count {
            var end = start + 1
            while end < identities.count && identities[end].key == identities[start].key { end += 1 }
            if end - start > 1 {
                var seen: [String: UInt64] = [:]
                for entry in identities[start..<end] {
                    guard
                        let identity = try txn.withUnsafeValue(
                            forKey: BigEndianKey(entry.position), in: databases.events,
                            { EventRecordView.identity($0, position: entry.position) }), let identity
                    else { continue }
                    let name = identity.source + "\u{0}" + identity.id
                    if let first = seen[name] {
                        problems.append(
                            AuditProblem(
                                position: entry.position, kind: .duplicateEvent,
                                message:
                                    "source '\(identity.source)' and id '\(identity.id)' are already at position \(first)"
                            ))
                    } else {
                        seen[name] = entry.position
                    }
                }
            }
            start = end
        }
        return problems
    }

    private func verifyCustomer(_ customer: String, _ txn: borrowing ReadTransaction) throws
        -> LogVerification
    {
        let head = try readHead(txn)
        guard let stream = try readStream(customer, txn) else {
            return LogVerification(
                eventsChecked: 0,
                problems: [
                    AuditProblem(
                        position: nil, kind: .unknownCustomer, message: "no events for customer '\(customer)'"
                    )
                ],
                headPosition: head.position, headHash: head.hash)
        }
        var problems: [AuditProblem] = []
        var position = stream.lastPosition
        var version = stream.version
        var checked = 0
        // Format 3: the stream's events carry its pseudonym, not the customer id.
        let pseudonym = try customerKey(customer, txn)?.pseudonym
        let keys = KeyCache()
        while position != 0 {
            let record = try txn.withUnsafeValue(forKey: BigEndianKey(position), in: databases.events) {
                value -> (StoredEvent?, ChainHash) in
                let recomputed = ChainHash(position: position, record: value)
                let stored = try withView(value, at: position, keys: keys, txn) { $0.storedEvent }
                return (stored, recomputed)
            }
            guard let (decoded, recomputed) = record, let stored = decoded else {
                problems.append(
                    AuditProblem(
                        position: position, kind: record == nil ? .gap : .undecodable,
                        message: record == nil
                            ? "the stream links to position \(position), which has no event"
                            : "the record does not decode"))
                break
            }
            checked += 1
            if recomputed != stored.hash {
                problems.append(.hashMismatch(at: position, stored: stored.hash, recomputed: recomputed))
            }
            let before: (ChainHash, Timestamp?)? =
                position == 1
                ? (ChainHash.genesis, nil)
                : try txn.withUnsafeValue(forKey: BigEndianKey(position - 1), in: databases.events) {
                    EventRecordView.Header.hashAndRecordedTime($0)
                } ?? nil
            if stored.predecessorHash != before?.0 {
                problems.append(
                    .chainBroken(
                        at: position, predecessor: stored.predecessorHash,
                        previous: before.map(\.0.description) ?? "missing"))
            }
            if let previous = before?.1 {
                checkRecordedTime(
                    stored.recordedAt, at: position, after: (position - 1, previous), into: &problems)
            }
            if stored.version != version
                || (pseudonym.map { stored.pseudonym != $0 } ?? (stored.customer != customer))
            {
                problems.append(
                    AuditProblem(
                        position: position, kind: .streamLink,
                        message:
                            "expected version \(version) of customer '\(customer)', found version \(stored.version) of '\(stored.customer)'"
                    ))
            }
            let indexed = try findEvent(source: stored.event.source, id: stored.event.id, txn)
            if indexed != position {
                problems.append(
                    AuditProblem(
                        position: position, kind: .idIndex,
                        message:
                            "the id index points at \(indexed.map { "position \($0)" } ?? "nothing") for this event"
                    ))
            }
            position = stored.previousPosition
            version -= 1
            if version == 0 && position != 0 {
                problems.append(
                    AuditProblem(
                        position: position, kind: .streamLink, message: "the stream goes on past version 1"))
                break
            }
        }
        if version != 0 && problems.isEmpty {
            problems.append(
                AuditProblem(
                    position: nil, kind: .streamLink,
                    message:
                        "the stream ends at version \(version + 1); the streams index says \(stream.version) events"
                ))
        }
        problems = problems.sortedByPosition()
        return LogVerification(
            eventsChecked: checked, problems: problems, headPosition: head.position, headHash: head.hash)
    }
}

/// The audit's check of the Merkle tree: the tree recomputed from the events' leaves as the walk goes,
/// each node of the stored levels compared with the stored node of the same post-order key. Reports the first node that
/// differs (one problem: every node after it depends on it or is shifted by it).
private struct TreeCheck {
    var frontier = MerkleFrontier()
    var problems: [AuditProblem] = []
    /// The key of the next node the recomputation makes.
    private var key: UInt64 = 0
    /// Whether nodes are compared: the store has a tree, and no difference was found yet.
    private var comparing: Bool

    init(comparing: Bool) { self.comparing = comparing }

    /// Adds the leaf of the event at `position`; `nextStoredNode` gives the stored tree's next node,
    /// nil when it has no more (or the store has no tree: nothing is compared then).
    @inline(__always)
    mutating func add(
        _ leaf: ChainHash, at position: UInt64,
        _ nextStoredNode: () throws -> (key: UInt64?, hash: ChainHash?)?
    ) throws {
        try frontier.append(leaf) { level, node in
            guard level >= MerkleTree.storedLevel else { return }
            defer { key += 1 }
            guard comparing else { return }
            guard let stored = try nextStoredNode() else {
                comparing = false
                problems.append(
                    AuditProblem(
                        position: position, kind: .tree,
                        message: "the Merkle tree ends before this event: node \(key) is missing"))
                return
            }
            if stored.key != key || stored.hash != node {
                comparing = false
                problems.append(
                    AuditProblem(
                        position: position, kind: .tree,
                        message:
                            "the Merkle tree's node \(key) is \(stored.hash.map(\.description) ?? "not a hash") under key \(stored.key.map(String.init) ?? "?"); recomputed from the events it is \(node)"
                    ))
            }
        }
    }
}

/// A customer's stream as the audit's walk keys it, made without allocating: the pseudonym of a record
/// of format 3, the subject of one of format 1.
struct StreamKey: Hashable {
    /// The pseudonym's 16 bytes as two words, in memory order (zero for a subject).
    private let words: (first: UInt64, second: UInt64)
    /// The subject of a record of format 1 (empty for a pseudonym).
    private let subject: String
    private let isPseudonym: Bool

    init(pseudonym bytes: UnsafeRawBufferPointer) {
        words = (
            bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
            bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        )
        subject = ""
        isPseudonym = true
    }

    init(subject: String) {
        words = (0, 0)
        self.subject = subject
        isPseudonym = false
    }

    /// How problems name the customer: the pseudonym's `ps:` name (as the projections key it), or the
    /// subject.
    var name: String {
        guard isPseudonym else { return subject }
        var copy = words
        return withUnsafeBytes(of: &copy) { Pseudonym(unsafeBytes: $0).projectionName }
    }

    static func == (a: StreamKey, b: StreamKey) -> Bool {
        a.words == b.words && a.isPseudonym == b.isPseudonym && a.subject == b.subject
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.first)
        hasher.combine(words.second)
        hasher.combine(isPseudonym)
        if !isPseudonym { hasher.combine(subject) }
    }
}

/// Bounds on what one pass of the audit's walk holds, so that its memory does not grow with the store
/// (DESIGN.md section 6): the identity index entries the log calls for (16 bytes each, sorted) and the
/// heads of the streams. A store with more is checked in several passes, each over one slice of the
/// identity hashes and of the streams.
struct AuditPassLimits {
    var identities = 1 << 22
    var streams = 1 << 20
    /// Customer keys the opening of sealed content keeps read.
    static let cachedKeys = 1 << 16
}

/// The split of the identity hashes and the streams into the audit's passes: pass `i` of `n` takes the
/// hashes in the `i`-th of `n` equal slices of the 64-bit range (a contiguous range, so each sorted
/// run of the index is sliced by two searches) and the streams whose hash falls there.
struct AuditSplit {
    let passes: Int

    @inline(__always) func pass(of hash: UInt64) -> Int {
        Int(truncatingIfNeeded: hash.multipliedFullWidth(by: UInt64(passes)).high)
    }

    @inline(__always) func pass(of stream: StreamKey) -> Int {
        pass(of: UInt64(truncatingIfNeeded: stream.hashValue))
    }

    /// The smallest hash of `pass` (`pass == passes`: past the last).
    func lowestHash(of pass: Int) -> UInt64? {
        guard pass < passes else { return nil }
        return UInt64((UInt128(pass) << 64 + UInt128(passes) - 1) / UInt128(passes))
    }

    /// The entries of `entries` (sorted) whose hashes are in `pass`.
    func slice(_ entries: SortedIdentityEntries, pass: Int) -> SortedIdentityEntries {
        guard passes > 1, let base = entries.base else { return entries }
        let start = entries.lowerBound(lowestHash(of: pass)!)
        let end = lowestHash(of: pass + 1).map { entries.lowerBound($0) } ?? entries.count
        return SortedIdentityEntries(base: base + start &* 16, count: end - start)
    }
}
