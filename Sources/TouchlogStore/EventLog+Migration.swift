import CloudEvents
import LMDB
import TouchlogDomain

/// `touchlog migrate`: a store of format 3 written from one of format 2 (docs/STORAGE.md, "Format 3").
extension EventLog {
    /// What a migration did.
    public struct MigrationSummary: Sendable, Equatable {
        public var events: UInt64
        /// The head of the store of format 2 (recorded in the new store's `meta` `migratedfrom`).
        public var sourceHead: UInt64
        public var sourceHash: ChainHash
        /// The head of the new store: the same position, another hash (the records differ).
        public var headHash: ChainHash
    }

    /// The `meta` key of the head a migrated store was written from: position (u64) ‖ hash (32 bytes).
    static let migratedFromName = "migratedfrom"

    /// Appends every event of `source` (a log of format 2) to this log, which must be of format 3 and
    /// empty, in order, in batches of `batchSize`, keeping each event's position, stream version and
    /// recorded time; then records `source`'s head position and hash in `meta` (`migratedfrom`), for
    /// the first checkpoint to carry, in the transaction of the last batch's successor.
    /// - Throws: `StoreError.refused` when `source` is not of format 2 or this log not an empty log of
    ///   format 3, or an event of `source` no longer validates (with its position); what reading and
    ///   appending throw.
    public func migrate(
        from source: EventLog, batchSize: Int = 10_000, progress: ((UInt64) -> Void)? = nil
    ) throws -> MigrationSummary {
        guard source.format == 2 else {
            throw StoreError.refused(
                reason:
                    "the store at '\(source.path)' has format \(source.format): only a store of format 2 is migrated"
            )
        }
        try requireFormat3()
        guard try head().position == 0 else {
            throw StoreError.refused(reason: "the store at '\(path)' is not empty: migrate into a new store")
        }
        let sourceHead = try source.head()
        var requests: [AppendRequest] = []
        requests.reserveCapacity(batchSize)
        var migrated: UInt64 = 0
        func flush() throws {
            guard !requests.isEmpty else { return }
            let result = try append(requests, conflicts: .fail)
            guard result.appended == requests.count else {
                throw StoreError.refused(
                    reason:
                        "position \(migrated + 1) on of '\(source.path)' repeats an event: the store is damaged (run 'touchlog audit')"
                )
            }
            migrated += UInt64(requests.count)
            progress?(migrated)
            requests.removeAll(keepingCapacity: true)
        }
        try source.forEachEvent { stored in
            let touchpoint: Touchpoint
            do {
                touchpoint =
                    SystemType(rawValue: stored.event.type) != nil
                    ? try Touchpoint(system: stored.event) : try Touchpoint(validating: stored.event)
            } catch {
                throw StoreError.refused(
                    reason:
                        "the event at position \(stored.position) of '\(source.path)' does not validate any more (\(error)): it cannot be migrated"
                )
            }
            var request = AppendRequest(touchpoint)
            request.recordedAt = stored.recordedAt
            requests.append(request)
            if requests.count == batchSize { try flush() }
            return true
        }
        try flush()
        let head = try self.head()
        try storage("recording the migration") {
            try environment.withWriteTransaction(growingMap: true) { txn in
                try txn.put(
                    BigEndianKey(sourceHead.position).withKeyBytes { Array($0) } + sourceHead.hash.bytes,
                    forKey: EventLog.migratedFromName, in: databases.meta)
            }
        }
        return MigrationSummary(
            events: migrated, sourceHead: sourceHead.position, sourceHash: sourceHead.hash,
            headHash: head.hash)
    }

    /// The head of the store of format 2 this store was migrated from (`meta` `migratedfrom`); nil for
    /// a store made new.
    public func migratedFrom() throws -> (position: UInt64, hash: ChainHash)? {
        try storage("reading 'migratedfrom'") {
            try environment.withReadTransaction { txn in
                guard let value = try txn.value(forKey: EventLog.migratedFromName, in: databases.meta),
                    value.count == 40, let position = BigEndianKey(bytes: value[0..<8])?.value
                else { return nil }
                return (position, ChainHash(bytes: Array(value[8...])))
            }
        }
    }
}
