import CloudEvents
import Crypto
import Dispatch
import LMDB
import TouchlogDomain

extension EventLog {
    /// Appends `requests` as one atomic, durable batch, in order.
    ///
    /// An event whose `source` + `id` is already in the log (or earlier in the batch) with the same content
    /// is a duplicate: acknowledged with the position it has, not stored again. With other content it is
    /// a conflict, handled as `conflicts` says. When a request has an expected version and its customer's
    /// stream is at another version, nothing of the batch is written.
    /// The batch is acknowledged only once the commit has returned.
    /// - Throws: `StoreError.versionConflict`, `StoreError.identityConflict` (with `.fail`),
    ///   `StoreError.storage`.
    public func append(_ requests: [AppendRequest], conflicts: IdentityConflictHandling = .report) throws
        -> AppendResult
    {
        try commit(requests, prepared: nil, conflicts: conflicts)
    }

    /// Appends validated touchpoints with no version expectation.
    public func append(_ touchpoints: [Touchpoint]) throws -> AppendResult {
        try append(touchpoints.map { AppendRequest($0) })
    }

    /// Appends `batches` in order, each exactly as `append(_:)` would (atomic, durable), and calls
    /// `committed` with each batch's result once that batch is durable.
    ///
    /// While one batch commits on a writer thread, the next is encoded, hashed and checked on the
    /// calling thread against the log as it will be after the committing batch: the CPU work hides
    /// behind the commit's disk writes. The writer checks that prediction (the head it was made
    /// after) and does the work again in its transaction when another process appended meanwhile.
    /// After a failure, no later batch is written.
    /// - Throws: what `append(_:)` throws, or what `committed` throws.
    public func append(
        batches: some Sequence<[AppendRequest]>, conflicts: IdentityConflictHandling = .report,
        committed: (AppendResult) throws -> Void
    ) throws {
        guard !isReadOnly else { throw StoreError.readOnly(path: path) }
        let writer = DispatchQueue(label: "touchlog.append.writer")
        var inFlight: (batch: PreparedBatch?, outcome: CommitOutcome, done: DispatchSemaphore)?

        func finishInFlight() throws {
            guard let current = inFlight else { return }
            current.done.wait()
            inFlight = nil
            try committed(try current.outcome.result!.get())
        }
        // A failure of ours must not leave a batch committing unseen behind it.
        defer { inFlight?.done.wait() }

        for requests in batches where !requests.isEmpty {
            var prepared: PreparedBatch?
            do {
                prepared = try environment.withReadTransaction { txn in
                    try prepare(requests, after: inFlight?.batch, conflicts: conflicts, txn)
                }
            } catch {
                // A prediction that fails (say, a version conflict against a batch that does not commit
                // as predicted) is not the answer: the writer prepares the batch again in its
                // transaction, and that error, if it stands, is the one thrown.
                prepared = nil
            }
            try finishInFlight()
            let outcome = CommitOutcome()
            let done = DispatchSemaphore(value: 0)
            writer.async { [self, prepared] in
                outcome.result = Result { try commit(requests, prepared: prepared, conflicts: conflicts) }
                done.signal()
            }
            inFlight = (prepared, outcome, done)
        }
        try finishInFlight()
    }

    /// Writes `requests` in one write transaction: `prepared` when it was made after the log's
    /// current head, otherwise prepared again inside the transaction.
    private func commit(
        _ requests: [AppendRequest], prepared: PreparedBatch?, conflicts: IdentityConflictHandling
    ) throws -> AppendResult {
        if requests.isEmpty { return AppendResult(outcomes: []) }
        guard !isReadOnly else { throw StoreError.readOnly(path: path) }
        return try storage("appending a batch of \(requests.count) events") {
            try environment.withWriteTransaction(growingMap: true) { txn in
                if databases.sealing != nil,
                    try txn.value(forKey: Store.keylessName, in: databases.meta) != nil
                {
                    throw StoreError.refused(
                        reason:
                            "the store at '\(path)' is a backup made without keys ('touchlog backup'): it can be read and audited, not appended to"
                    )
                }
                // The tree covers the log before it grows (a no-op unless a version without the tree
                // appended since this store was opened).
                try extendTree(txn)
                let head = try readHead(txn)
                let batch =
                    if let prepared, prepared.before.position == head.position,
                        prepared.before.hash == head.hash, try prepared.erasures == erasureCount(txn)
                    {
                        prepared
                    } else {
                        try prepare(requests, after: nil, conflicts: conflicts, txn)
                    }
                try write(batch, txn)
                return AppendResult(outcomes: batch.outcomes)
            }
        }
    }

    /// Encodes and checks `requests` as they would be appended after `pending` (a batch prepared
    /// but maybe not yet committed), or after the head `txn` sees. Writes nothing.
    private func prepare(
        _ requests: [AppendRequest], after pending: PreparedBatch?, conflicts: IdentityConflictHandling,
        _ txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> PreparedBatch {
        let head = try pending?.after ?? readHead(txn)
        // Unwrapped once: binding an optional batch per event would copy it (and retain its storage).
        let pending =
            pending ?? PreparedBatch(before: head, recordedAt: head.recordedAt, requests: [], sealed: false)
        // Recorded time never goes backwards, so `--as-known-at` cuts are a prefix of the log.
        var batch = PreparedBatch(
            before: head, recordedAt: max(Timestamp.now(), head.recordedAt), requests: requests,
            sealed: databases.sealing != nil)
        if databases.sealing != nil { batch.erasures = try erasureCount(txn) }
        // The identity hashes of this batch's events, which no index run has yet.
        var batchHashes = Set<UInt64>(minimumCapacity: requests.count)

        try txn.withUnsafeEntries(in: databases.idRuns) { runEntries in
            let index = try IdentityIndex(runEntries)
            // The requests are read in place (borrowed from the array's storage), never copied: a copy
            // of a touchpoint retains and releases every one of its strings.
            try requests.withUnsafeBufferPointer { requests in
                var identities: [UInt64] = []
                identities.reserveCapacity(requests.count)
                for request in requests.indices {
                    let element = UnsafePointer(requests.baseAddress.unsafelyUnwrapped + request)
                    identities.append(
                        identityHasher.hash(
                            source: element.pointee.touchpoint.event.source,
                            id: element.pointee.touchpoint.event.id))
                }
                let mayBeIndexed = index.mayContain(identities)
                for request in requests.indices {
                    let element = UnsafePointer(requests.baseAddress.unsafelyUnwrapped + request)
                    let source = element.pointee.touchpoint.event.source
                    let id = element.pointee.touchpoint.event.id
                    let identity = identities[request]
                    // Candidates with the same identity hash: the index's, the pending batch's, this batch's.
                    var candidates: [UInt64] = []
                    if mayBeIndexed[request] { candidates += index.positions(of: identity) }
                    candidates += pending.sortedPositions(of: identity)
                    if !batchHashes.insert(identity).inserted {
                        // An earlier event of the batch has this hash: the same event, or a collision.
                        candidates += batch.identities.lazy.filter { $0.hash == identity }.map(\.position)
                    }
                    var existing: UInt64?
                    for candidate in candidates
                    where try isEvent(at: candidate, source: source, id: id, in: batch, pending, txn) {
                        existing = candidate
                        break
                    }
                    if let existing {
                        let stored = try event(at: existing, in: batch, pending, txn)
                        if stored.hasSameContent(as: element.pointee.touchpoint.event) {
                            batch.outcomes.append(.duplicate(position: existing))
                        } else if conflicts == .fail {
                            throw StoreError.identityConflict(
                                source: source, id: id, position: existing, index: request)
                        } else {
                            batch.outcomes.append(.conflict(position: existing))
                        }
                        continue
                    }

                    let customer = element.pointee.touchpoint.customer
                    var sealing: CustomerKey?
                    if databases.sealing != nil {
                        sealing = try batchCustomer(
                            customer, element.pointee.erasedStream, &batch, pending, txn)
                    }
                    // One hash of the customer id per event: the slot found here is updated below.
                    let slot = batch.streams.index(forKey: customer)
                    let stream =
                        if let slot { batch.streams.values[slot] } else {
                            try (pending.streams.isEmpty ? nil : pending.streams[customer])
                                ?? (sealing.map {
                                    $0.isNew ? nil : try readStream(pseudonym: $0.pseudonym, txn)
                                }
                                    ?? readStream(customer, txn))
                                ?? StreamHead(lastPosition: 0, version: 0)
                        }
                    if let expected = element.pointee.expectedVersion, expected != stream.version {
                        throw StoreError.versionConflict(
                            customer: customer, expected: expected, actual: stream.version)
                    }
                    let position = batch.after.position + 1
                    let appended = StreamHead(lastPosition: position, version: stream.version + 1)
                    batch.appendRecord(
                        element, index: request, previousPosition: stream.lastPosition,
                        version: appended.version, identity: identity, sealing: sealing)
                    if let slot {
                        batch.streams.values[slot] = appended
                    } else {
                        batch.streams[customer] = appended
                    }
                    batch.outcomes.append(.appended(position: position, version: appended.version))
                }
            }
        }
        batch.seal()
        batch.identities.sort()
        return batch
    }

    /// The pseudonym and key `customer`'s events of this batch are sealed under (format 3): the batch's,
    /// the pending batch's, the store's, or a new one (a new customer, or one erased before: its old
    /// pseudonym is no longer reachable from the id). `erased` appends to an erased customer's stream.
    private func batchCustomer(
        _ customer: String, _ erased: Pseudonym?, _ batch: inout PreparedBatch,
        _ pending: borrowing PreparedBatch,
        _ txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> CustomerKey {
        if let known = batch.customers[customer] { return known }
        var found: CustomerKey
        if let erased {
            found = CustomerKey(pseudonym: erased, key: nil)
        } else if Pseudonym(name: customer) != nil {
            throw StoreError.refused(
                reason:
                    "the subject '\(customer)' is a pseudonym's name ('erased:' or 'ps:' and 32 hexadecimal digits), which a store of format 3 keeps for its own use"
            )
        } else if var stored = pending.customers[customer] {
            stored.isNew = false
            found = stored
        } else if let stored = try customerKey(customer, txn), stored.key != nil {
            found = stored
        } else {
            found = CustomerKey(pseudonym: .random(), key: SymmetricKey(size: .bits256), isNew: true)
        }
        batch.customers[customer] = found
        return found
    }

    /// How many erasures the store has done (`meta` `erasures`): a batch prepared before an erasure
    /// is prepared again, so that no content is sealed under a key destroyed meanwhile.
    func erasureCount(_ txn: borrowing some ReadableTransaction & ~Copyable) throws -> UInt64 {
        try txn.withUnsafeValue(forKey: EventLog.erasureCountName, in: databases.meta) {
            BigEndianKey(bytes: $0)?.value ?? 0
        } ?? 0
    }

    static let erasureCountName = "erasures"

    /// Whether the event at `position` (in `batch`, in `pending`, or in the log) has this `source` and `id`.
    private func isEvent(
        at position: UInt64, source: String, id: String, in batch: borrowing PreparedBatch,
        _ pending: borrowing PreparedBatch, _ txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> Bool {
        if let known = batch.hasEvent(at: position, source: source, id: id)
            ?? pending.hasEvent(at: position, source: source, id: id)
        {
            return known
        }
        return try isEvent(at: position, source: source, id: id, txn)
    }

    /// The event at `position`, in `batch`, in `pending`, or in the log.
    private func event(
        at position: UInt64, in batch: borrowing PreparedBatch, _ pending: borrowing PreparedBatch,
        _ txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> CloudEvent {
        if let event = batch.event(at: position) ?? pending.event(at: position) { return event }
        guard let stored = try withRecord(at: position, in: txn, { $0.storedEvent }) else {
            throw StoreError.corruptRecord(position: position)
        }
        return stored.event
    }

    /// Writes a prepared batch: its records, the stream heads it moved, its index run, and the Merkle
    /// tree's nodes its events complete (hashed here, on the writer, where the commit's disk writes leave
    /// the processor idle, rather than on the thread that prepares the next batch).
    private func write(_ batch: PreparedBatch, _ txn: borrowing WriteTransaction) throws {
        guard let tree else { throw StoreError.readOnly(path: path) }
        var frontier = try tree.frontier(size: batch.before.position, txn)
        var nodes: [ChainHash] = []
        nodes.reserveCapacity(batch.recordEnds.count / 8 + 8)
        if let sealing = databases.sealing {
            try writeSealed(batch, sealing, frontier: &frontier, nodes: &nodes, txn)
            try tree.append(nodes, after: batch.before.position, txn)
            return
        }
        var start = 0
        for (offset, end) in batch.recordEnds.enumerated() {
            let record = batch.records.bytes(start..<end)
            let position = batch.before.position + UInt64(offset) + 1
            try txn.putReserving(
                count: record.count, forKey: BigEndianKey(position), in: databases.events, options: .append
            ) { $0.copyMemory(from: record) }
            frontier.append(
                ChainHash(leafOf: position, record: record), nodesFrom: MerkleTree.storedLevel, into: &nodes)
            start = end
        }
        for (customer, stream) in batch.streams {
            try txn.put(stream, forKey: customer, in: databases.streams)
        }
        try txn.withUnsafeEntries(in: databases.idRuns) { runs in
            try IdentityIndex(runs).add(batch.identities, in: databases.idRuns, txn)
        }
        try tree.append(nodes, after: batch.before.position, txn)
    }
}

extension EventLog {
    /// Writes a prepared batch of a store of format 3: its records and sealed content, the keys of its
    /// new customers, the stream heads it moved (keyed by pseudonym), and its index run; the records'
    /// leaves go to the tree's `frontier`, and the nodes they complete to `nodes`.
    fileprivate func writeSealed(
        _ batch: PreparedBatch, _ sealing: Store.Sealing, frontier: inout MerkleFrontier,
        nodes: inout [ChainHash], _ txn: borrowing WriteTransaction
    )
        throws
    {
        for (customer, key) in batch.customers where key.isNew {
            guard let secret = key.key else { continue }
            try txn.put(
                key.pseudonym.bytes, forKey: EventLog.customerIDHash(customer, secret: sealing.secret),
                in: sealing.customerIDs)
            try txn.put(EventLog.liveKeyValue(secret), forKey: key.pseudonym.bytes, in: sealing.customerKeys)
        }
        var position = batch.before.position
        for chunk in batch.sealed {
            var start = 0
            var contentStart = 0
            for index in chunk.recordEnds.indices {
                let (end, contentEnd) = (chunk.recordEnds[index], chunk.contentEnds[index])
                position += 1
                let record = chunk.records.bytes(start..<end)
                try txn.putReserving(
                    count: record.count, forKey: BigEndianKey(position), in: databases.events,
                    options: .append
                ) { $0.copyMemory(from: record) }
                frontier.append(
                    ChainHash(leafOf: position, record: record), nodesFrom: MerkleTree.storedLevel,
                    into: &nodes)
                if contentEnd > contentStart {
                    let content = chunk.contents.bytes(contentStart..<contentEnd)
                    try txn.putReserving(
                        count: content.count, forKey: BigEndianKey(position), in: sealing.content,
                        options: .append
                    ) { $0.copyMemory(from: content) }
                }
                (start, contentStart) = (end, contentEnd)
            }
        }
        for (customer, stream) in batch.streams {
            guard let key = batch.customers[customer] else {
                preconditionFailure("every customer of a sealed batch has its pseudonym")
            }
            try txn.put(stream, forKey: key.pseudonym.bytes, in: databases.streams)
        }
        try txn.withUnsafeEntries(in: databases.idRuns) { runs in
            try IdentityIndex(runs).add(batch.identities, in: databases.idRuns, txn)
        }
    }
}

/// Where the writer thread leaves a batch's result for the caller, who reads it only after the
/// writer signalled that it is done.
private final class CommitOutcome: @unchecked Sendable {
    // @unchecked Sendable: `result` is written once, on the writer queue, before `done.signal()`, and
    // read only after `done.wait()` returns; the semaphore orders the two accesses.
    var result: Result<AppendResult, any Error>?
}

/// A batch encoded and checked against the log as it stood (or will stand) at `before`:
/// what one write transaction then stores.
struct PreparedBatch: Sendable {
    /// The head this batch was prepared after; it is written only after that same head.
    let before: EventLog.Head
    /// The head after this batch.
    var after: EventLog.Head
    var outcomes: [AppendOutcome] = []
    /// The requests the batch was prepared from; the event at `before.position + k + 1` is
    /// `requests[appended[k]]`. Duplicate checks against this batch compare with them.
    let requests: [AppendRequest]
    var appended: [Int] = []
    /// Format 2: the new records, one after the other; record k (at position `before.position + k + 1`)
    /// ends at `recordEnds[k]`.
    let records: RecordBuffer
    var recordEnds: [Int] = []
    /// The heads of the streams this batch appends to.
    var streams: [String: StreamHead] = [:]
    /// The index entries of the new events, sorted once the batch is complete.
    var identities: [IdentityEntry] = []
    /// Format 3: the pseudonym and key of each customer of the batch.
    var customers: [String: CustomerKey] = [:]
    /// Format 3: the events to seal once the batch is checked (`seal()`), in position order.
    var sealJobs: [SealJob] = []
    /// Format 3: the stored records and their sealed content, in position order, in chunks sealed in
    /// parallel (`seal()`).
    var sealed: [SealedChunk] = []
    /// Format 3: the store's erasure count when the batch was prepared.
    var erasures: UInt64 = 0

    /// Format 3: what sealing an event the batch appends needs, besides its request.
    struct SealJob {
        var request: Int
        var customer: CustomerKey
        var version: UInt64
        var previousPosition: UInt64
        var recordedAt: Timestamp
    }

    /// An empty batch for `requests`, in a store of format 3 when `sealed`.
    init(before: EventLog.Head, recordedAt: Timestamp, requests: [AppendRequest], sealed: Bool) {
        self.before = before
        after = EventLog.Head(position: before.position, hash: before.hash, recordedAt: recordedAt)
        self.requests = requests
        let events = requests.count
        records = RecordBuffer(capacity: sealed ? 0 : events * 512)
        outcomes.reserveCapacity(events)
        appended.reserveCapacity(events)
        streams.reserveCapacity(min(events, 1 << 14))
        identities.reserveCapacity(events)
        if sealed {
            sealJobs.reserveCapacity(events)
        } else {
            recordEnds.reserveCapacity(events)
        }
    }

    /// Appends the event of `request` (the request at offset `index`) at the next position: in format 2
    /// its record, encoded and hashed; in format 3 (`sealing`) what `seal()` then needs. The request is
    /// read through a pointer into the caller's array: passed by value, it would be copied (every string
    /// retained).
    mutating func appendRecord(
        _ request: UnsafePointer<AppendRequest>, index: Int, previousPosition: UInt64, version: UInt64,
        identity: UInt64, sealing: CustomerKey?
    ) {
        let position = after.position + 1
        if let kept = request.pointee.recordedAt { after.recordedAt = kept }
        appended.append(index)
        identities.append(IdentityEntry(hash: identity, position: position))
        after.position = position
        if let sealing {
            sealJobs.append(
                SealJob(
                    request: index, customer: sealing, version: version, previousPosition: previousPosition,
                    recordedAt: after.recordedAt))
            return
        }
        let target = records.extend(by: EventRecord.encodedSize(request.pointee.touchpoint.event))
        after.hash = EventRecord.write(
            request.pointee.touchpoint.event, position: position, version: version,
            previousPosition: previousPosition, recordedAt: after.recordedAt,
            occurredAt: request.pointee.touchpoint.occurredAt, predecessorHash: after.hash, into: target)
        recordEnds.append(records.count)
    }

    /// Format 3: seals and encodes the records of `sealJobs` and chains them after `before`.
    ///
    /// Sealing (AES-GCM, the commitment) and encoding are most of a batch's work and each event's is
    /// independent of the others': the events are split into chunks sealed on all cores at once (the
    /// writer thread mostly waits for its commit's fsync meanwhile). Only the chain hashes, each
    /// covering its predecessor's, are then computed in order.
    mutating func seal() {
        guard !sealJobs.isEmpty else { return }
        let jobs = sealJobs
        let entropy = SecureRandom.bytes(jobs.count * SealedRecord.entropyCount)
        // Chunks by size, not by the number of cores: the same batch is split the same way everywhere.
        let chunkCount = max(1, min(16, jobs.count / PreparedBatch.minimumChunk))
        let chunks = (0..<chunkCount).map { _ in SealedChunk(events: jobs.count / chunkCount + 1) }
        let first = before.position + 1
        requests.withUnsafeBufferPointer { requests in
            entropy.withUnsafeBytes { entropy in
                let shared = SealInput(requests: requests, entropy: entropy)
                @Sendable func sealChunk(_ part: Int) {
                    let range =
                        (jobs.count * part / chunkCount)..<(jobs.count * (part + 1) / chunkCount)
                    chunks[part].seal(jobs[range], firstPosition: first + UInt64(range.lowerBound), shared)
                }
                // A small batch (one event per request in `touchlog serve`) is sealed right here.
                if chunkCount == 1 {
                    sealChunk(0)
                } else {
                    DispatchQueue.concurrentPerform(iterations: chunkCount, execute: sealChunk)
                }
            }
        }
        var hash = before.hash
        var position = before.position
        for chunk in chunks {
            var start = 0
            for end in chunk.recordEnds {
                position += 1
                hash = SealedRecord.chain(
                    chunk.records.mutableBytes(start..<end), position: position, after: hash)
                start = end
            }
        }
        after.hash = hash
        sealed = chunks
        sealJobs = []
    }

    /// The fewest events of a chunk: below that, handing a chunk to another thread costs more than
    /// it saves.
    static let minimumChunk = 512

    /// Whether the event this batch puts at `position` has this `source` and `id`; nil when the batch
    /// puts no event there.
    func hasEvent(at position: UInt64, source: String, id: String) -> Bool? {
        guard let index = requestIndex(at: position) else { return nil }
        return requests[index].touchpoint.event.source == source && requests[index].touchpoint.event.id == id
    }

    /// The event this batch puts at `position`; nil when it puts none there.
    func event(at position: UInt64) -> CloudEvent? {
        requestIndex(at: position).map { requests[$0].touchpoint.event }
    }

    /// The offset in `requests` of the event this batch puts at `position`.
    private func requestIndex(at position: UInt64) -> Int? {
        guard position > before.position && position <= after.position else { return nil }
        return appended[Int(position - before.position - 1)]
    }

    /// The positions of this batch's events whose identity hash is `hash`, once `identities` is sorted.
    func sortedPositions(of hash: UInt64) -> [UInt64] {
        var positions: [UInt64] = []
        identities.withUnsafeBytes { bytes in
            _ = SortedIdentityEntries(base: bytes.baseAddress, count: identities.count).forEachPosition(
                of: hash
            ) {
                positions.append($0)
                return true
            }
        }
        return positions
    }
}

/// What every thread sealing a batch reads: the batch's requests and its salts and nonces (event k of
/// the batch takes `SealedRecord.entropyCount` bytes from k times that).
private struct SealInput: @unchecked Sendable {
    // @unchecked Sendable: both buffers are only read, and outlive `concurrentPerform`, which returns
    // only when every thread reading them is done.
    let requests: UnsafeBufferPointer<AppendRequest>
    let entropy: UnsafeRawBufferPointer
}

/// Format 3: the sealed records of consecutive positions and their contents, encoded by one thread.
final class SealedChunk: @unchecked Sendable {
    // @unchecked Sendable: written only by the one thread that seals the chunk, inside
    // `concurrentPerform`, which returns after it is done; read-only from then on.
    let records: RecordBuffer
    /// Record k ends at `recordEnds[k]` in `records`, its content at `contentEnds[k]` in `contents`
    /// (an empty content: none).
    private(set) var recordEnds: [Int] = []
    let contents: RecordBuffer
    private(set) var contentEnds: [Int] = []

    init(events: Int) {
        records = RecordBuffer(capacity: events * 320)
        contents = RecordBuffer(capacity: events * 256)
        recordEnds.reserveCapacity(events)
        contentEnds.reserveCapacity(events)
    }

    /// Seals `jobs`, the first at `firstPosition`.
    fileprivate func seal(
        _ jobs: ArraySlice<PreparedBatch.SealJob>, firstPosition: UInt64, _ input: SealInput
    ) {
        var scratch = SealedRecord.Scratch()
        var position = firstPosition
        for offset in jobs.indices {
            let job = jobs[offset]
            let request = input.requests.baseAddress.unsafelyUnwrapped + job.request
            let entropy = UnsafeRawBufferPointer(
                rebasing: input.entropy[
                    offset * SealedRecord.entropyCount..<(offset + 1) * SealedRecord.entropyCount])
            SealedRecord.write(
                request.pointee.touchpoint.event, customer: job.customer, position: position,
                version: job.version, previousPosition: job.previousPosition, recordedAt: job.recordedAt,
                occurredAt: request.pointee.touchpoint.occurredAt, entropy: entropy, records: records,
                contents: contents, scratch: &scratch)
            recordEnds.append(records.count)
            contentEnds.append(contents.count)
            position += 1
        }
    }
}

/// The records of a prepared batch, one after the other in one growing allocation, encoded in place.
///
/// A class rather than a `[UInt8]`: encoding a borrowed event into an array's bytes makes Swift copy
/// the event first (it cannot tell the two apart), and that copy retains every string. Written only
/// while the batch is prepared, read-only once the batch goes to the writer thread.
final class RecordBuffer: @unchecked Sendable {
    // @unchecked Sendable: the bytes are written only by the thread that prepares the batch, before the
    // batch is handed to the writer queue (which orders the accesses); after that, every thread only reads.
    private var base: UnsafeMutableRawPointer
    private var capacity: Int
    /// Bytes in use.
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 1024)
        base = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    /// Appends `size` bytes for the caller to fill, and returns them.
    func extend(by size: Int) -> UnsafeMutableRawBufferPointer {
        if count + size > capacity {
            capacity = max(capacity * 2, count + size)
            let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
            grown.copyMemory(from: base, byteCount: count)
            base.deallocate()
            base = grown
        }
        defer { count += size }
        return UnsafeMutableRawBufferPointer(start: base + count, count: size)
    }

    /// The bytes in `range`, valid while this buffer lives.
    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(mutableBytes(range))
    }

    /// The bytes in `range` for the preparing thread to complete (a record's hashes), valid while this
    /// buffer lives and does not grow.
    func mutableBytes(_ range: Range<Int>) -> UnsafeMutableRawBufferPointer {
        precondition(range.upperBound <= count)
        return UnsafeMutableRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }
}
