import LMDB

/// The raw LMDB baseline: one `events` table, big-endian position keys, `MDB_APPEND` puts, through
/// the same LMDB wrapper the engine uses, with the same batch size and durability; no indexes.
final class RawBaseline {
    let environment: Environment
    let events: Database

    init(path: String, noSync: Bool) throws {
        var options = Environment.Options()
        options.mapSize = 1 << 30
        options.noSync = noSync
        options.maxDatabases = 4
        environment = try Environment(path: path, options: options)
        events = try environment.withWriteTransaction { txn in try txn.createDatabase(named: "events") }
    }

    /// Appends one batch of records in one write transaction (committed durably unless `noSync`).
    func append(_ batch: RawRecordEncoder.Batch) throws {
        let events = self.events
        try environment.withWriteTransaction(growingMap: true) { txn in
            var position = batch.firstPosition
            for i in 0..<batch.count {
                try txn.put(batch.record(i), forKey: BigEndianKey(position), in: events, options: .append)
                position += 1
            }
        }
    }

    /// Reads the records at `positions` (`mdb_get`, no decoding) in one read transaction; returns their bytes.
    func read(_ positions: [UInt64]) throws -> Int {
        let events = self.events
        return try environment.withReadTransaction { txn in
            var bytes = 0
            for position in positions {
                bytes += try txn.withUnsafeValue(forKey: BigEndianKey(position), in: events) { $0.count } ?? 0
            }
            return bytes
        }
    }

    /// Walks the whole `events` table with a cursor (no decoding); returns how many records it saw.
    func scan() throws -> Int {
        let events = self.events
        return try environment.withReadTransaction { txn in
            try txn.withCursor(on: events) { cursor in
                var count = 0
                var sum = 0
                try cursor.unsafeForEach(from: BigEndianKey?.none) { _, value in
                    count += 1
                    sum &+= value.count
                    return true
                }
                return count + (sum == -1 ? 1 : 0)
            }
        }
    }
}
