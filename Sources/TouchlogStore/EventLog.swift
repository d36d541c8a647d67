import CloudEvents
import LMDB
import TouchlogDomain

/// The append-only touchpoint log in one LMDB environment (the store directory).
///
/// Append batches atomically: every event of a batch is committed in one durable transaction or none is.
/// Positions are global and gapless; each customer has a stream with versions 1, 2, 3...; `source` + `id`
/// identify an event forever, so appending it again is acknowledged as a duplicate and stores nothing.
/// No API updates or deletes an event. The layout is described in docs/STORAGE.md.
public final class EventLog: Sendable {
    /// The store format this code writes and reads.
    public static var formatVersion: Int { Store.formatVersion }

    /// The environment of the store that owns this log; never handed out.
    let environment: Environment
    let databases: Store.Databases
    /// The hash of `source` + `id` that keys the idempotency index (keyed per store).
    let identityHasher: IdentityHasher
    /// The store directory.
    public let path: String
    /// Whether the store was opened read-only: appends are refused.
    public let isReadOnly: Bool
    /// The Merkle tree over the log; nil in a read-only store made before the tree.
    public let tree: MerkleTree?

    /// The log of a store; only `Store` makes one, after opening its databases.
    init(
        environment: Environment, databases: Store.Databases, identityHasher: IdentityHasher, path: String,
        isReadOnly: Bool
    ) {
        self.environment = environment
        self.databases = databases
        self.identityHasher = identityHasher
        self.path = path
        self.isReadOnly = isReadOnly
        tree = databases.merkle.map { MerkleTree(database: $0, events: databases.events) }
    }

    // MARK: Looking up

    /// The position of the event with this `source` and `id` among the indexed events, if any.
    func findEvent(
        _ hash: UInt64, source: String, id: String, _ index: IdentityIndex,
        _ txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> UInt64? {
        var found: UInt64?
        try index.forEachPosition(of: hash) { candidate in
            if try isEvent(at: candidate, source: source, id: id, txn) {
                found = candidate
                return false
            }
            return true
        }
        return found
    }

    /// The position of the event with this `source` and `id`, if the log has it.
    func findEvent(source: String, id: String, _ txn: borrowing some ReadableTransaction & ~Copyable) throws
        -> UInt64?
    {
        try txn.withUnsafeEntries(in: databases.idRuns) { runs in
            try findEvent(
                identityHasher.hash(source: source, id: id), source: source, id: id, IdentityIndex(runs), txn)
        }
    }

    /// Whether the event at `position` has this `source` and `id`.
    func isEvent(
        at position: UInt64, source: String, id: String, _ txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> Bool {
        try txn.withUnsafeValue(forKey: BigEndianKey(position), in: databases.events) { bytes in
            // A record that does not decode is no event (the audit reports it).
            guard let record = EventRecordView.identity(bytes, position: position) else { return false }
            return record.source == source && record.id == id
        } ?? false
    }

    struct Head: Sendable {
        var position: UInt64
        var hash: ChainHash
        var recordedAt: Timestamp
    }

    func readHead(_ txn: borrowing some ReadableTransaction & ~Copyable) throws -> Head {
        try txn.withCursor(on: databases.events) { cursor -> Head in
            guard try cursor.last() else {
                return Head(position: 0, hash: .genesis, recordedAt: Timestamp(microsecondsSinceEpoch: 0))
            }
            let head = try cursor.withUnsafeCurrent { key, value -> Head? in
                guard let position = BigEndianKey(bytes: key)?.value,
                    let (hash, recorded) = EventRecordView.Header.hashAndRecordedTime(value)
                else { return nil }
                return Head(position: position, hash: hash, recordedAt: recorded)
            }
            guard let head = head ?? nil else { throw StoreError.corruptRecord(position: 0) }
            return head
        }
    }

    /// The head of the stream of `customer` (in format 3, of its pseudonym); nil for an unknown customer.
    func readStream(_ customer: String, _ txn: borrowing some ReadableTransaction & ~Copyable) throws
        -> StreamHead?
    {
        if databases.sealing != nil {
            guard let key = try customerKey(customer, txn) else { return nil }
            return try readStream(pseudonym: key.pseudonym, txn)
        }
        return try txn.withUnsafeValue(forKey: customer, in: databases.streams) { StreamHead(decoding: $0) }
            ?? nil
    }

    // MARK: Reading

    /// The last position of the log (0 when empty) in the snapshot of `txn`: a key, no record read.
    public func headPosition(_ txn: borrowing some ReadableTransaction & ~Copyable) throws -> UInt64 {
        try txn.withCursor(on: databases.events) { cursor -> UInt64 in
            guard try cursor.last() else { return 0 }
            guard
                let position = try cursor.withUnsafeCurrent({ key, _ in BigEndianKey(bytes: key)?.value })
                    ?? nil
            else { throw StoreError.corruptRecord(position: 0) }
            return position
        }
    }

    /// The head of the log: the last position (0 when empty) and its hash.
    public func head() throws -> (position: UInt64, hash: ChainHash) {
        try storage("reading the head of the log") {
            try environment.withReadTransaction { txn in
                let head = try readHead(txn)
                return (head.position, head.hash)
            }
        }
    }

    /// The event at `position`, or nil when there is none.
    public func event(at position: UInt64) throws -> StoredEvent? {
        try storage("reading position \(position)") {
            try environment.withReadTransaction { txn in
                try withRecord(at: position, in: txn) { $0.storedEvent }
            }
        }
    }

    /// The version of a customer's stream: how many events it has (0 for an unknown customer).
    public func version(ofCustomer customer: String) throws -> UInt64 {
        try storage("reading the stream of '\(customer)'") {
            try environment.withReadTransaction { txn in try readStream(customer, txn)?.version ?? 0 }
        }
    }

    /// The position of the event with this `source` and `id`, if the log has it.
    public func position(source: String, id: String) throws -> UInt64? {
        try storage("looking up an event id") {
            try environment.withReadTransaction { txn in
                try findEvent(source: source, id: id, txn)
            }
        }
    }

    /// Calls `body` with each event from `position` on, in global order, in batches of short read
    /// transactions, until `body` returns false or the log ends.
    public func forEachEvent(from position: UInt64 = 1, _ body: (StoredEvent) throws -> Bool) throws {
        var next = max(position, 1)
        let chunk = 4096
        while true {
            var events: [StoredEvent] = []
            events.reserveCapacity(chunk)
            try storage("reading the log from position \(next)") {
                try environment.withReadTransaction { txn in
                    try forEachRecord(from: next, in: txn) { record in
                        events.append(record.storedEvent)
                        return events.count < chunk
                    }
                }
            }
            for event in events {
                guard try body(event) else { return }
            }
            guard events.count == chunk, let last = events.last else { return }
            next = last.position + 1
        }
    }

    /// A customer's stream in version order (oldest first), from one consistent snapshot, keeping only
    /// events that happened at or before `occurredUntil` and were recorded at or before `recordedUntil`.
    public func stream(
        ofCustomer customer: String, occurredUntil: Timestamp? = nil, recordedUntil: Timestamp? = nil
    ) throws -> [StoredEvent] {
        try stream(ofCustomer: customer).filter { stored in
            (occurredUntil.map { stored.occurredAt <= $0 } ?? true)
                && (recordedUntil.map { stored.recordedAt <= $0 } ?? true)
        }
    }

    /// A customer's whole stream in version order (oldest first), from one consistent snapshot.
    public func stream(ofCustomer customer: String) throws -> [StoredEvent] {
        try storage("reading the stream of '\(customer)'") {
            try environment.withReadTransaction { txn in
                guard let head = try readStream(customer, txn) else { return [] }
                var events: [StoredEvent] = []
                events.reserveCapacity(Int(head.version))
                var position = head.lastPosition
                while position != 0 {
                    guard let event = try withRecord(at: position, in: txn, { $0.storedEvent }) else {
                        throw StoreError.corruptRecord(position: position)
                    }
                    events.append(event)
                    position = event.previousPosition
                }
                return events.reversed()
            }
        }
    }

    /// The positions of a customer's events (oldest first) up to `position`, in the snapshot of `txn`:
    /// the stream's links are followed back from its head, one record header each.
    /// - Throws: `StoreError.corruptRecord` for a link to a position that has no record.
    public func streamPositions(
        ofCustomer customer: String, through position: UInt64 = .max,
        in txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> [UInt64] {
        guard let head = try readStream(customer, txn) else { return [] }
        var positions: [UInt64] = []
        var next = head.lastPosition
        while next != 0 {
            let at = next
            guard let previous = try withRecord(at: at, in: txn, { $0.previousPosition }) else {
                throw StoreError.corruptRecord(position: at)
            }
            if at <= position { positions.append(at) }
            next = previous
        }
        return positions.reversed()
    }

    /// Counts and sizes of the store.
    public func statistics() throws -> StoreStatistics {
        try storage("reading statistics") {
            try environment.withReadTransaction { txn in
                let head = try readHead(txn)
                let events = try txn.statistics(of: databases.events)
                let streams = try txn.statistics(of: databases.streams)
                let ids = try txn.statistics(of: databases.idRuns)
                let info = environment.info()
                return StoreStatistics(
                    events: events.entries, customers: streams.entries, headPosition: head.position,
                    headHash: head.hash, lastRecordedAt: head.position == 0 ? nil : head.recordedAt,
                    eventBytes: events.bytes, streamBytes: streams.bytes, idBytes: ids.bytes,
                    mapSize: info.mapSize, usedBytes: info.usedBytes, formatVersion: format)
            }
        }
    }
}

/// One event to append, optionally with the version its customer's stream must be at.
public struct AppendRequest: Sendable {
    public var touchpoint: Touchpoint
    /// Optimistic concurrency: the stream's current version must equal this (0 = the stream must be new).
    public var expectedVersion: UInt64?
    /// Format 3: append to the stream of this erased customer, with no personal content (the
    /// `touchlog.erasure.completed` event, whose subject is the `erased:` name). Only the log sets it.
    var erasedStream: Pseudonym?
    /// The recorded time to keep (`migrate`); nil: the batch's. Only the log sets it.
    var recordedAt: Timestamp?

    public init(_ touchpoint: Touchpoint, expectedVersion: UInt64? = nil) {
        self.touchpoint = touchpoint
        self.expectedVersion = expectedVersion
    }
}

/// What happened to one event of a batch.
public enum AppendOutcome: Sendable, Equatable {
    case appended(position: UInt64, version: UInt64)
    /// Already in the log at `position` with the same content (an idempotent retry); nothing was stored.
    case duplicate(position: UInt64)
    /// The event at `position` has the same `source` and `id` but other content; nothing was stored.
    case conflict(position: UInt64)
}

/// What `append` does with an event whose `source` and `id` are known with other content.
public enum IdentityConflictHandling: Sendable {
    /// Store nothing for that event, report it as `AppendOutcome.conflict`, and commit the rest.
    case report
    /// Throw `StoreError.identityConflict`: nothing of the batch is written.
    case fail
}

/// What a committed batch did, event by event.
public struct AppendResult: Sendable, Equatable {
    public var outcomes: [AppendOutcome]
    public var appended: Int { outcomes.count { if case .appended = $0 { true } else { false } } }
    public var duplicates: Int { outcomes.count { if case .duplicate = $0 { true } else { false } } }
    public var conflicts: Int { outcomes.count { if case .conflict = $0 { true } else { false } } }
}

/// Counts, sizes and positions of a store.
public struct StoreStatistics: Sendable, Equatable, Codable {
    public var events: Int
    public var customers: Int
    public var headPosition: UInt64
    public var headHash: String
    public var lastRecordedAt: String?
    public var eventBytes: Int
    public var streamBytes: Int
    public var idBytes: Int
    public var mapSize: Int
    public var usedBytes: Int
    public var formatVersion: Int

    init(
        events: Int, customers: Int, headPosition: UInt64, headHash: ChainHash, lastRecordedAt: Timestamp?,
        eventBytes: Int, streamBytes: Int, idBytes: Int, mapSize: Int, usedBytes: Int, formatVersion: Int
    ) {
        self.events = events
        self.customers = customers
        self.headPosition = headPosition
        self.headHash = headHash.description
        self.lastRecordedAt = lastRecordedAt?.rfc3339
        self.eventBytes = eventBytes
        self.streamBytes = streamBytes
        self.idBytes = idBytes
        self.mapSize = mapSize
        self.usedBytes = usedBytes
        self.formatVersion = formatVersion
    }
}

/// The head of a customer's stream: the `streams` value (16 bytes: last position, version, big-endian).
struct StreamHead: BytesRepresentable {
    var lastPosition: UInt64
    var version: UInt64

    init(lastPosition: UInt64, version: UInt64) {
        self.lastPosition = lastPosition
        self.version = version
    }

    init?(decoding bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 16 else { return nil }
        self.init(
            lastPosition: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            version: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var pair = (lastPosition.bigEndian, version.bigEndian)
        return try withUnsafeBytes(of: &pair, body)
    }

    var encoded: [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(16)
        for value in [lastPosition, version] {
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            }
        }
        return bytes
    }
}
