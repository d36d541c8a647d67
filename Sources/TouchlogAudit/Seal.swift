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

/// The seals kept in the store's own `seals` database (key: sequence number, value: the seal's JSON).
public struct SealBook: Sendable {
    let store: Store

    public init(store: Store) { self.store = store }

    /// Signs the current head of the log with `key`, stores the seal and returns it.
    public func seal(with key: Curve25519.Signing.PrivateKey, at time: Timestamp = .now()) throws -> Seal {
        let head = try store.log.head()
        guard head.position > 0 else { throw SealError.emptyLog }
        var seal = Seal(
            position: head.position, hash: head.hash.description, sealedTime: time.rfc3339,
            publicKey: key.publicKey.rawRepresentation.base64EncodedString(), signature: "")
        seal.signature = try key.signature(for: Data(seal.statement)).base64EncodedString()
        let text = try seal.jsonText()
        guard let seals = store.databases.seals else { throw StoreError.readOnly(path: store.path) }
        try store.withWriteTransaction { txn in
            let next = try txn.withCursor(on: seals) { cursor in
                try cursor.last()
                    ? (try cursor.withUnsafeCurrent { key, _ in BigEndianKey(bytes: key)?.value } ?? nil) ?? 0
                    : 0
            }
            try txn.put(Array(text.utf8), forKey: BigEndianKey(next + 1), in: seals, options: .noOverwrite)
        }
        return seal
    }

    /// Every stored seal, oldest first.
    public func all() throws -> [Seal] {
        guard let seals = store.databases.seals else { return [] }
        return try store.withReadTransaction { txn in
            var result: [Seal] = []
            try txn.withCursor(on: seals) { cursor in
                try cursor.unsafeForEach(from: nil as BigEndianKey?) { key, value in
                    do {
                        result.append(try JSONDecoder().decode(Seal.self, from: Data(value)))
                    } catch {
                        throw SealError.malformedSeal(
                            "stored seal \(BigEndianKey(bytes: key)?.value ?? 0) does not decode: \(error)")
                    }
                    return true
                }
            }
            return result
        }
    }
}
