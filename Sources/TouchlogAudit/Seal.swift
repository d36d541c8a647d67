import CloudEvents
import Crypto
import Foundation
import LMDB
import TouchlogDomain
import TouchlogStore

/// A signed statement that the log had `hash` at `position` at `sealedAt`.
///
/// Any later change to an event at or before `position` changes the hash chain at `position`, even if
/// the whole chain is recomputed, so the seal no longer matches: only the private key could make a
/// new seal, and the auditor holds the public key.
public struct Seal: Sendable, Equatable, Codable {
    public var position: UInt64
    public var hash: String
    public var sealedTime: String
    /// Base64 of the signer's raw public key, to tell keys apart (verification uses the auditor's key).
    public var publicKey: String
    /// Base64 of the Ed25519 signature over `statement`.
    public var signature: String

    enum CodingKeys: String, CodingKey {
        case position, hash
        case sealedTime = "sealed_time"
        case publicKey = "public_key"
        case signature
    }

    /// The exact bytes that are signed.
    public var statement: [UInt8] {
        Array("touchlog-seal-v1\nposition=\(position)\nhash=\(hash)\nsealedtime=\(sealedTime)\n".utf8)
    }

    /// Whether `key` signed this seal's statement.
    public func isSigned(by key: Curve25519.Signing.PublicKey) -> Bool {
        guard let signature = Data(base64Encoded: signature) else { return false }
        return key.isValidSignature(signature, for: Data(statement))
    }

    /// One line of JSON.
    public func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

extension Seal {
    /// The seals in a file kept outside the store: one seal's JSON a line, as `seal --json`, `seal export`
    /// and `seal list --json` write them (blank lines are skipped).
    /// - Throws: `SealError.badSealFile` when the file cannot be read, a line is not a seal (with its
    ///   number and why), or it holds no seal.
    public static func load(fromFile path: String) throws -> [Seal] {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw SealError.badSealFile(path: path, line: nil, reason: "cannot read it")
        }
        var seals: [Seal] = []
        for (index, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
            do {
                seals.append(try JSONDecoder().decode(Seal.self, from: Data(line)))
            } catch let error as DecodingError {
                throw SealError.badSealFile(
                    path: path, line: index + 1, reason: "not a seal: \(StoredSeal.reason(error))")
            }
        }
        if seals.isEmpty {
            throw SealError.badSealFile(
                path: path, line: nil, reason: "holds no seal (write one with 'touchlog seal export')")
        }
        return seals
    }
}

/// The seals kept in the store's own `seals` database (key: sequence number, value: the seal's JSON).
public struct SealBook: Sendable {
    let store: Store

    public init(store: Store) { self.store = store }

    /// Signs the current head of the log with `key`, stores the seal and returns it; a checkpoint of the
    /// Merkle tree at the same size is signed and stored with it (`sealWithCheckpoint`).
    public func seal(with key: Curve25519.Signing.PrivateKey, at time: Timestamp = .now()) throws -> Seal {
        try sealWithCheckpoint(with: key, at: time).seal
    }

    /// Signs the current head of the log with `key` twice, in one write transaction that stores both: the
    /// seal (position, chain hash, time) and a C2SP checkpoint (origin, tree size, Merkle root, and the
    /// root of the stream heads tree at that size; docs/PROOFS.md) under the key name `touchlog`.
    /// - Throws: `SealError.emptyLog`, `StoreError`.
    public func sealWithCheckpoint(with key: Curve25519.Signing.PrivateKey, at time: Timestamp = .now())
        throws
        -> (seal: Seal, checkpoint: SignedCheckpoint)
    {
        guard let seals = store.databases.seals, let origin = try store.origin() else {
            throw StoreError.readOnly(path: store.path)
        }
        let verifier = NoteVerifierKey(publicKey: key.publicKey)
        // Written once by `touchlog migrate`: every checkpoint of a migrated store names the old head.
        let migratedFrom = try store.log.migratedFrom()
        return try store.withWriteTransaction { txn in
            let head = try store.log.head(in: txn)
            guard head.position > 0 else { throw SealError.emptyLog }
            var seal = Seal(
                position: head.position, hash: head.hash.description, sealedTime: time.rfc3339,
                publicKey: key.publicKey.rawRepresentation.base64EncodedString(), signature: "")
            seal.signature = try key.signature(for: Data(seal.statement)).base64EncodedString()
            let text = try seal.jsonText()
            let next = try txn.withCursor(on: seals) { cursor in
                try cursor.last()
                    ? (try cursor.withUnsafeCurrent { key, _ in BigEndianKey(bytes: key)?.value } ?? nil) ?? 0
                    : 0
            }
            try txn.put(Array(text.utf8), forKey: BigEndianKey(next + 1), in: seals, options: .noOverwrite)
            let checkpoint = Checkpoint(
                origin: origin, size: head.position, root: try store.log.treeRoot(size: head.position, txn),
                streamHeads: try store.log.streamHeadsRoot(asOf: head.position, in: txn),
                migratedFrom: migratedFrom)
            let signed = try SignedCheckpoint.sign(checkpoint, with: key, name: verifier.name)
            try CheckpointBook(store: store).add(signed, verifierKey: verifier, txn)
            return (seal, signed)
        }
    }

    /// Every stored seal, oldest first, each with its number; one whose bytes are not a seal is
    /// returned as malformed (with why), so that a damaged record never hides the seals after it.
    /// - Throws: `StoreError` when the `seals` database cannot be read.
    public func all() throws -> [StoredSeal] {
        guard let seals = store.databases.seals else { return [] }
        return try store.withReadTransaction { txn in
            var result: [StoredSeal] = []
            try txn.withCursor(on: seals) { cursor in
                try cursor.unsafeForEach(from: nil as BigEndianKey?) { key, value in
                    let number = BigEndianKey(bytes: key)?.value
                    let content: StoredSeal.Content
                    do {
                        content = .seal(try JSONDecoder().decode(Seal.self, from: Data(value)))
                    } catch let error as DecodingError {
                        content = .malformed(reason: StoredSeal.reason(error))
                    }
                    result.append(StoredSeal(number: number, key: Array(key), content: content))
                    return true
                }
            }
            return result
        }
    }
}

/// One record of the `seals` database: its number and the seal it holds, or why it holds none.
public struct StoredSeal: Sendable, Equatable {
    /// What the record holds.
    public enum Content: Sendable, Equatable {
        case seal(Seal)
        /// Bytes that are not a seal's JSON (the `seals` database was changed outside touchlog).
        case malformed(reason: String)
    }

    /// The seal's sequence number (its key); nil when the key is not 8 bytes.
    public var number: UInt64?
    /// The raw key, to name a record whose key is not a number.
    public var key: [UInt8]
    public var content: Content

    /// How an audit names the record: `seal 3`, or `the seal record with key 0a0b` for a key that is
    /// not a number.
    public var name: String {
        if let number { return "seal \(number)" }
        return "the seal record with key " + key.map { String(format: "%02x", $0) }.joined()
    }

    /// One line of JSON (`seal list --json`): the seal's members as ``Seal/jsonText()`` writes them and its
    /// `number`; for a record that is not a seal, `number` and `malformed` (why). A key that is not a number
    /// is given as `key` in hex.
    public func jsonText() throws -> String {
        struct Line: Encodable {
            var number: UInt64?
            var key: String?
            var malformed: String?
            var position: UInt64?
            var hash: String?
            var sealedTime: String?
            var publicKey: String?
            var signature: String?

            enum CodingKeys: String, CodingKey {
                case number, key, malformed, position, hash, signature
                case sealedTime = "sealed_time"
                case publicKey = "public_key"
            }
        }
        var line = Line(number: number)
        if number == nil { line.key = key.map { String(format: "%02x", $0) }.joined() }
        switch content {
        case .seal(let seal):
            line.position = seal.position
            line.hash = seal.hash
            line.sealedTime = seal.sealedTime
            line.publicKey = seal.publicKey
            line.signature = seal.signature
        case .malformed(let reason):
            line.malformed = reason
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(line), as: UTF8.self)
    }

    /// A short reason for a decoding failure: which field, or that the bytes are not JSON.
    static func reason(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, _): return "it has no '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "its '\(path(context))' has the wrong type: \(context.debugDescription)"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "it is not JSON" : "its '\(path(context))' is invalid: \(context.debugDescription)"
        @unknown default: return "it does not decode: \(error)"
        }
    }
}
