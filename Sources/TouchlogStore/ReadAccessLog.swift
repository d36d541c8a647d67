import CloudEvents
import Foundation
import LMDB

/// Who read which customer's history through the service, when and from where: the store's `access`
/// database (key: sequence number, value: the entry's JSON). The one owner of that database's format.
public struct ReadAccessLog: Sendable {
    /// One read of one customer's history.
    public struct Entry: Codable, Sendable, Equatable {
        /// The token's name (`anonymous` when the service runs without tokens).
        public var who: String
        /// RFC 3339, when the read was served.
        public var when: String
        public var customer: String
        /// The client's address, `host:port`.
        public var from: String
        /// What was read: the request path and query.
        public var what: String

        public init(who: String, when: String, customer: String, from: String, what: String) {
            self.who = who
            self.when = when
            self.customer = customer
            self.from = from
            self.what = what
        }
    }

    let store: Store

    public init(store: Store) { self.store = store }

    /// Appends `entries` in one durable transaction.
    /// - Throws: `StoreError` when the store cannot be written.
    public func record(_ entries: [Entry]) throws {
        guard !entries.isEmpty else { return }
        guard let database = store.databases.readAccess else { throw StoreError.readOnly(path: store.path) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let values = try entries.map { Array(try encoder.encode($0)) }
        try store.withWriteTransaction { txn in
            var next = try txn.withCursor(on: database) { cursor in
                try cursor.last()
                    ? (try cursor.withUnsafeCurrent { key, _ in BigEndianKey(bytes: key)?.value } ?? nil) ?? 0
                    : 0
            }
            for value in values {
                next += 1
                try txn.put(value, forKey: BigEndianKey(next), in: database, options: .noOverwrite)
            }
        }
    }

    /// The entries of `customer` (every entry when nil), oldest first.
    /// - Throws: `StoreError` when the database cannot be read, `ReadAccessLogError` for an entry that is
    ///   not an entry's JSON (the database was changed outside touchlog).
    public func entries(customer: String?) throws -> [Entry] {
        guard let database = store.databases.readAccess else { return [] }
        return try store.withReadTransaction { txn in
            var result: [Entry] = []
            try txn.withCursor(on: database) { cursor in
                try cursor.unsafeForEach(from: nil as BigEndianKey?) { key, value in
                    let entry: Entry
                    do {
                        entry = try JSONDecoder().decode(Entry.self, from: Data(value))
                    } catch {
                        throw ReadAccessLogError(number: BigEndianKey(bytes: key)?.value, reason: "\(error)")
                    }
                    if customer == nil || entry.customer == customer { result.append(entry) }
                    return true
                }
            }
            return result
        }
    }
}

extension ReadAccessLog {
    /// Rewrites, inside `txn`, every entry of `customer` to name `replacement` instead (an erasure's
    /// pseudonym): afterwards no entry holds the id, while who read when and from where stays.
    /// Entries that do not decode are left as they are (the database was changed outside touchlog).
    static func redact(
        customer: String, as replacement: String, in database: Database, _ txn: borrowing WriteTransaction
    ) throws {
        var rewritten: [(key: UInt64, value: [UInt8])] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try txn.withCursor(on: database) { cursor in
            try cursor.unsafeForEach(from: nil as BigEndianKey?) { key, value in
                guard let number = BigEndianKey(bytes: key)?.value,
                    var entry = try? JSONDecoder().decode(Entry.self, from: Data(value)),
                    entry.customer == customer
                else { return true }
                entry.customer = replacement
                rewritten.append((number, Array(try encoder.encode(entry))))
                return true
            }
        }
        for (number, value) in rewritten { try txn.put(value, forKey: BigEndianKey(number), in: database) }
    }
}

/// An entry of the `access` database that does not decode.
public struct ReadAccessLogError: Error, CustomStringConvertible {
    public var number: UInt64?
    public var reason: String
    public var description: String {
        "the read-access log's entry \(number.map(String.init) ?? "?") is not an entry: \(reason) (the store's 'access' database was changed outside touchlog)"
    }
}
