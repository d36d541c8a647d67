import Foundation
import LMDB
import TouchlogStore

/// One record of the `checkpoints` database: the signed checkpoint and the verifier key of its signer.
public struct StoredCheckpoint: Equatable {
    public var number: UInt64
    public var signed: SignedCheckpoint
    public var verifierKey: NoteVerifierKey

    public static func == (a: StoredCheckpoint, b: StoredCheckpoint) -> Bool {
        a.number == b.number && a.signed == b.signed && a.verifierKey.text == b.verifierKey.text
    }
}

/// The checkpoints `seal` signs, kept in the store's `checkpoints` database (key: sequence number,
/// value: JSON `{"checkpoint": SIGNED_NOTE, "vkey": VERIFIER_KEY}`). This type is the database's only
/// reader and writer.
public struct CheckpointBook: Sendable {
    let store: Store

    public init(store: Store) { self.store = store }

    struct Record: Codable {
        var checkpoint: String
        var vkey: String
    }

    /// Stores `signed`, made by the key `verifierKey`, after the last checkpoint, in `txn`.
    func add(_ signed: SignedCheckpoint, verifierKey: NoteVerifierKey, _ txn: borrowing WriteTransaction)
        throws
    {
        guard let database = store.databases.checkpoints else { throw StoreError.readOnly(path: store.path) }
        let last = try txn.withCursor(on: database) { cursor in
            try cursor.last()
                ? (try cursor.withUnsafeCurrent { key, _ in BigEndianKey(bytes: key)?.value } ?? nil) ?? 0 : 0
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let value = try encoder.encode(Record(checkpoint: signed.text, vkey: verifierKey.text))
        try txn.put(Array(value), forKey: BigEndianKey(last + 1), in: database, options: .noOverwrite)
    }

    /// Every stored checkpoint, oldest first.
    /// - Throws: `CheckpointError.malformed` for a record that is not a checkpoint (naming its number).
    public func all() throws -> [StoredCheckpoint] {
        guard let database = store.databases.checkpoints else { return [] }
        return try store.withReadTransaction { txn in
            var result: [StoredCheckpoint] = []
            try txn.withCursor(on: database) { cursor in
                try cursor.unsafeForEach(from: nil as BigEndianKey?) { key, value in
                    let number = BigEndianKey(bytes: key)?.value ?? 0
                    guard let record = try? JSONDecoder().decode(Record.self, from: Data(value)) else {
                        throw CheckpointError.malformed(
                            "stored checkpoint \(number) is not a checkpoint record")
                    }
                    result.append(
                        StoredCheckpoint(
                            number: number, signed: try SignedCheckpoint(parsing: record.checkpoint),
                            verifierKey: try NoteVerifierKey(parsing: record.vkey)))
                    return true
                }
            }
            return result
        }
    }

    /// The latest stored checkpoint; nil when there is none.
    public func latest() throws -> StoredCheckpoint? { try all().last }
}
