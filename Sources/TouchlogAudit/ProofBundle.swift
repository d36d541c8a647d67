import Foundation
import LMDB
import SystemPackage
import TouchlogStore

#if canImport(Glibc)
    import Glibc
#endif

/// A proof bundle (docs/PROOFS.md): one customer's events with their leaves and inclusion proofs, the
/// proof that the customer's stream is complete, the signed checkpoint they lead to, and its verifier
/// key, in a directory:
///
///     checkpoint                   the signed note, verbatim
///     events.jsonl                 {"version","index","leaf","event","disclosures"} per event, in stream order
///     proofs/LEAF_INDEX.tlog-proof C2SP tlog-proof of each event
///     completeness.json            the stream's head and its inclusion proof in the stream heads tree
///     key.vkey                     the checkpoint's C2SP verifier key
public enum ProofBundle {
    /// The file names of a bundle.
    static let checkpointFile = "checkpoint"
    static let eventsFile = "events.jsonl"
    static let proofsDirectory = "proofs"
    static let completenessFile = "completeness.json"
    static let keyFile = "key.vkey"

    /// What `write` wrote.
    public struct Summary: Sendable, Equatable {
        public var events: Int
        public var checkpointSize: UInt64
    }

    /// `completeness.json`.
    struct Completeness: Codable, Equatable {
        struct Head: Codable, Equatable {
            var lastPosition: UInt64
            var version: UInt64
            enum CodingKeys: String, CodingKey {
                case lastPosition = "last_position"
                case version
            }
        }
        struct StreamHeads: Codable, Equatable {
            var size: UInt64
            var index: UInt64
            var leaf: String
            var proof: [String]
        }
        var customer: String
        var stream: String
        var checkpointSize: UInt64
        var head: Head
        var streamHeads: StreamHeads
        enum CodingKeys: String, CodingKey {
            case customer, stream, head
            case checkpointSize = "checkpoint_size"
            case streamHeads = "stream_heads"
        }
    }

    /// Writes the bundle of `customer` as of the store's latest checkpoint into `directory`, which must
    /// not exist or be empty (it is made owner-only: the bundle holds the customer's personal data).
    /// - Throws: `ProofError` when the store has no checkpoint, no such customer as of it, or its tree
    ///   does not match its checkpoint; `CocoaError`/`StoreError` when writing or reading fails.
    public static func write(store: Store, customer: String, to directory: String) throws -> Summary {
        guard let stored = try CheckpointBook(store: store).latest() else {
            throw ProofError.noCheckpoint
        }
        let checkpoint = stored.signed.checkpoint
        let size = checkpoint.size
        let log = store.log
        guard let tree = log.tree else { throw ProofError.noCheckpoint }
        if log.format == 3, case .withheld = try log.status(ofCustomer: customer) {
            throw ProofError.keyWithheld(customer)
        }
        let recordFormat = log.format == 3 ? 3 : 1
        /// One line of `events.jsonl` and its inclusion proof.
        struct Entry {
            var version: UInt64
            var index: UInt64
            var leaf: [UInt8]
            var event: [UInt8]
            var disclosure: StoredEvent.Disclosure?
            var proof: [ChainHash]
        }
        let (entries, heads): ([Entry], StreamHeadProof) = try store.withReadTransaction { txn in
            guard try log.treeRoot(size: size, txn) == checkpoint.root else {
                throw ProofError.treeMismatch(size: size)
            }
            var entries: [Entry] = []
            for position in try log.streamPositions(ofCustomer: customer, through: size, in: txn) {
                let (leaf, stored) =
                    try log.withRecord(at: position, in: txn) { ($0.hashedBytes, $0.storedEvent) }
                    ?? { throw StoreError.corruptRecord(position: position) }()
                var json: [UInt8] = []
                stored.writeJSON(into: &json)
                let disclosure = try log.disclosure(at: position, in: txn)?.content.map {
                    StoredEvent.Disclosure(opened: $0)
                }
                entries.append(
                    Entry(
                        version: stored.version, index: position - 1, leaf: leaf, event: json,
                        disclosure: disclosure,
                        proof: try tree.inclusionProof(index: position - 1, size: size, txn)))
            }
            guard !entries.isEmpty, let stream = try log.streamKey(ofCustomer: customer, in: txn),
                let heads = try log.streamHeadProof(stream: stream, asOf: size, in: txn)
            else { throw ProofError.unknownCustomer(customer, size: size) }
            guard heads.size == checkpoint.streamHeads?.size, heads.root == checkpoint.streamHeads?.root
            else {
                throw ProofError.streamHeadsMismatch(size: size)
            }
            return (entries, heads)
        }

        try makeDirectory(directory)
        try makeDirectory(directory + "/" + proofsDirectory)
        let checkpointText = stored.signed.text
        try file(directory, checkpointFile, Array(checkpointText.utf8))
        try file(directory, keyFile, Array((stored.verifierKey.text + "\n").utf8))
        var lines: [UInt8] = []
        for entry in entries {
            lines += Array(
                "{\"version\":\(entry.version),\"index\":\(entry.index),\"record_format\":\(recordFormat),\"leaf\":\"\(base64(entry.leaf))\",\"event\":"
                    .utf8)
            lines += entry.event
            // Format 1 leaves hold the content; format 3 ones commit to it, disclosed while the customer lives.
            if let disclosure = entry.disclosure {
                lines += Array(
                    ",\"disclosures\":{\"salt\":\"\(base64(disclosure.salt))\",\"content\":\"\(base64(disclosure.content))\"}}\n"
                        .utf8)
            } else {
                lines += Array(",\"disclosures\":{}}\n".utf8)
            }
            var proof = "c2sp.org/tlog-proof@v1\nindex \(entry.index)\n"
            for hash in entry.proof { proof += base64(hash.bytes) + "\n" }
            proof += "\n" + checkpointText
            try file(directory, "\(proofsDirectory)/\(entry.index).tlog-proof", Array(proof.utf8))
        }
        try file(directory, eventsFile, lines)
        let completeness = Completeness(
            customer: customer, stream: base64(heads.entry.stream), checkpointSize: size,
            head: .init(lastPosition: heads.entry.lastPosition, version: heads.entry.version),
            streamHeads: .init(
                size: heads.size, index: heads.index, leaf: base64(heads.entry.leafBytes),
                proof: heads.proof.map { base64($0.bytes) }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try file(directory, completenessFile, Array(try encoder.encode(completeness)) + [0x0A])
        return Summary(events: entries.count, checkpointSize: size)
    }

    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// Makes `path` (mode 0700), or accepts it when it is an empty directory.
    private static func makeDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue, try FileManager.default.contentsOfDirectory(atPath: path).isEmpty
            else {
                throw ProofError.outputNotEmpty(path)
            }
            return
        }
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    }

    /// Writes a new file, owner-only from its first byte (`O_CREAT | O_EXCL`, mode 0600). No fsync: a
    /// bundle is written again if the machine stops meanwhile.
    private static func file(_ directory: String, _ name: String, _ bytes: [UInt8]) throws {
        let path = directory + "/" + name
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ProofError.cannotWrite(path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        do {
            _ = try FileDescriptor(rawValue: descriptor).writeAll(bytes)
        } catch let error as Errno {
            throw ProofError.cannotWrite(path, reason: String(cString: strerror(error.rawValue)))
        }
    }
}

/// Why a proof bundle could not be written.
public enum ProofError: Error, Sendable, Equatable, CustomStringConvertible {
    case noCheckpoint
    case unknownCustomer(String, size: UInt64)
    case treeMismatch(size: UInt64)
    case streamHeadsMismatch(size: UInt64)
    case outputNotEmpty(String)
    case cannotWrite(String, reason: String)
    /// The customer's key is not in this copy of the store (a backup made without keys).
    case keyWithheld(String)

    public var description: String {
        switch self {
        case .noCheckpoint:
            return "the store has no checkpoint: sign one with 'touchlog seal --key FILE' first"
        case .unknownCustomer(let customer, let size):
            return
                "customer '\(customer)' has no events in the first \(size) events, which the latest checkpoint covers (seal again to include later ones)"
        case .treeMismatch(let size):
            return
                "the store's Merkle tree of \(size) events does not have the root of its latest checkpoint: the store was changed (run 'touchlog audit')"
        case .streamHeadsMismatch(let size):
            return
                "the stream heads as of \(size) events do not have the root of the latest checkpoint: the store was changed (run 'touchlog audit')"
        case .outputNotEmpty(let path):
            return "'\(path)' exists and is not an empty directory: name a new one"
        case .cannotWrite(let path, let reason):
            return "cannot write '\(path)': \(reason)"
        case .keyWithheld(let customer):
            return
                "the key of customer '\(customer)' is not in this copy of the store (a backup made without keys): prove from the store itself"
        }
    }
}
