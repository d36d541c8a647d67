import Crypto
import Foundation
import TouchlogStore

/// A C2SP signed-note verifier key for Ed25519 (c2sp.org/signed-note): a key name, the key id and the
/// public key, written `NAME+KEYID_HEX+BASE64(0x01 || public key)` (a `.vkey` file).
public struct NoteVerifierKey {
    /// The name signatures carry (`touchlog` for keys made by `touchlog keygen`).
    public var name: String
    public var publicKey: Curve25519.Signing.PublicKey

    /// The key name `touchlog keygen` gives keys.
    public static let defaultName = "touchlog"
    /// The signature type of Ed25519 in signed notes.
    static let ed25519Type: UInt8 = 0x01

    public init(name: String = NoteVerifierKey.defaultName, publicKey: Curve25519.Signing.PublicKey) {
        self.name = name
        self.publicKey = publicKey
    }

    /// The key id: the first four bytes of SHA-256(name || 0x0A || 0x01 || public key), big-endian.
    public var keyID: UInt32 {
        var hasher = SHA256()
        hasher.update(data: Array(name.utf8) + [0x0A, Self.ed25519Type])
        hasher.update(data: publicKey.rawRepresentation)
        return Array(hasher.finalize()).prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The key id as 8 lower-case hexadecimal digits.
    public var keyIDHex: String {
        let text = String(keyID, radix: 16)
        return String(repeating: "0", count: 8 - text.count) + text
    }

    /// `NAME+KEYID_HEX+BASE64(0x01 || public key)`.
    public var text: String {
        "\(name)+\(keyIDHex)+\(Data([Self.ed25519Type] + publicKey.rawRepresentation).base64EncodedString())"
    }

    /// Parses a verifier key's text (surrounding white space ignored).
    /// - Throws: `CheckpointError.badKey` saying what is wrong.
    public init(parsing text: String) throws(CheckpointError) {
        // The base64 part may itself hold '+': only the first two separate.
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw .badKey(
                "expected NAME+KEYID+BASE64 (three parts joined by '+'), found \(parts.count) part(s)")
        }
        guard !parts[0].isEmpty, !parts[0].contains(where: \.isWhitespace) else {
            throw .badKey("the key name is empty or holds a space")
        }
        guard let raw = Data(base64Encoded: String(parts[2])), raw.count == 33, raw.first == Self.ed25519Type,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw.dropFirst())
        else {
            throw .badKey("the key is not base64 of 0x01 and a 32-byte Ed25519 public key")
        }
        self.init(name: String(parts[0]), publicKey: key)
        guard keyIDHex == parts[1].lowercased(), parts[1].count == 8 else {
            throw .badKey("the key id \(parts[1]) is not the id of this name and key (\(keyIDHex))")
        }
    }

    /// Reads a `.vkey` file.
    /// - Throws: `CheckpointError.badKeyFile` naming the file and what is wrong.
    public static func load(_ path: String) throws -> NoteVerifierKey {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw CheckpointError.badKeyFile(path: path, reason: "cannot read it")
        }
        do {
            return try NoteVerifierKey(parsing: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw CheckpointError.badKeyFile(path: path, reason: error.description)
        }
    }
}

/// A C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): the log's origin, its size and the RFC 6962 root
/// of its Merkle tree, and Touchlog's one extension line, the stream heads tree (docs/PROOFS.md).
public struct Checkpoint: Sendable, Equatable {
    public var origin: String
    public var size: UInt64
    public var root: ChainHash
    /// The stream heads tree's size and root, from the extension line
    /// `touchlog-stream-heads SIZE BASE64_ROOT`; nil when the checkpoint has none.
    public var streamHeads: (size: UInt64, root: ChainHash)?

    /// For a store made by `touchlog migrate`: the head (position and chain hash) of the format-2 store it
    /// was made from, from the extension line `touchlog-migrated-from POSITION BASE64_HASH`; nil otherwise.
    public var migratedFrom: (position: UInt64, hash: ChainHash)?

    /// The extension line's first word.
    static let streamHeadsTag = "touchlog-stream-heads"
    /// The first word of the line naming the head of the store this one was migrated from.
    static let migratedFromTag = "touchlog-migrated-from"

    public init(
        origin: String, size: UInt64, root: ChainHash, streamHeads: (size: UInt64, root: ChainHash)?,
        migratedFrom: (position: UInt64, hash: ChainHash)? = nil
    ) {
        self.origin = origin
        self.size = size
        self.root = root
        self.streamHeads = streamHeads
        self.migratedFrom = migratedFrom
    }

    public static func == (a: Checkpoint, b: Checkpoint) -> Bool {
        a.origin == b.origin && a.size == b.size && a.root == b.root
            && a.streamHeads?.size == b.streamHeads?.size && a.streamHeads?.root == b.streamHeads?.root
            && a.migratedFrom?.position == b.migratedFrom?.position
            && a.migratedFrom?.hash == b.migratedFrom?.hash
    }

    /// The note text: origin, size, base64 root, the heads line when there is one; each line ends in a
    /// newline.
    public var text: String {
        var text = "\(origin)\n\(size)\n\(Data(root.bytes).base64EncodedString())\n"
        if let streamHeads {
            text +=
                "\(Self.streamHeadsTag) \(streamHeads.size) \(Data(streamHeads.root.bytes).base64EncodedString())\n"
        }
        if let migratedFrom {
            text +=
                "\(Self.migratedFromTag) \(migratedFrom.position) \(Data(migratedFrom.hash.bytes).base64EncodedString())\n"
        }
        return text
    }

    /// Parses a note text.
    /// - Throws: `CheckpointError.malformed` naming the line and what is wrong.
    public init(text: String) throws(CheckpointError) {
        guard text.hasSuffix("\n") else { throw .malformed("the note text does not end in a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3 else { throw .malformed("a checkpoint has at least three lines") }
        guard !lines[0].isEmpty else { throw .malformed("line 1: the origin is empty") }
        guard let size = Self.decimal(lines[1]) else {
            throw .malformed("line 2: '\(lines[1])' is not a tree size (a decimal without leading zeros)")
        }
        guard let root = Self.hash(base64: lines[2]) else {
            throw .malformed("line 3: '\(lines[2])' is not the base64 of a 32-byte root hash")
        }
        var streamHeads: (size: UInt64, root: ChainHash)?
        var migratedFrom: (position: UInt64, hash: ChainHash)?
        for (offset, line) in lines.dropFirst(3).enumerated() {
            guard !line.isEmpty else { throw .malformed("line \(offset + 4): an extension line is empty") }
            let words = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            if words.first == Self.migratedFromTag {
                guard words.count == 3, let position = Self.decimal(words[1]),
                    let hash = Self.hash(base64: words[2])
                else {
                    throw .malformed(
                        "line \(offset + 4): expected '\(Self.migratedFromTag) POSITION BASE64_HASH'")
                }
                migratedFrom = (position, hash)
                continue
            }
            guard words.first == Self.streamHeadsTag else { continue }  // other extensions are opaque
            guard words.count == 3, let headsSize = Self.decimal(words[1]),
                let headsRoot = Self.hash(base64: words[2])
            else {
                throw .malformed("line \(offset + 4): expected '\(Self.streamHeadsTag) SIZE BASE64_ROOT'")
            }
            streamHeads = (headsSize, headsRoot)
        }
        self.init(
            origin: lines[0], size: size, root: root, streamHeads: streamHeads, migratedFrom: migratedFrom)
    }

    static func decimal(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber),
            text == "0" || !text.hasPrefix("0")
        else { return nil }
        return UInt64(text)
    }

    static func hash(base64 text: String) -> ChainHash? {
        guard let bytes = Data(base64Encoded: text), bytes.count == 32 else { return nil }
        return ChainHash(bytes: Array(bytes))
    }
}

/// A signed note (c2sp.org/signed-note) holding a checkpoint: the note text, a blank line, and one
/// signature line per signer (`— NAME BASE64(KEYID || SIGNATURE)`).
public struct SignedCheckpoint: Sendable, Equatable {
    /// One signature line.
    public struct Signature: Sendable, Equatable {
        public var name: String
        public var keyID: UInt32
        public var signature: [UInt8]
    }

    public var checkpoint: Checkpoint
    /// The exact note text that was signed.
    public var noteText: String
    public var signatures: [Signature]

    init(checkpoint: Checkpoint, noteText: String, signatures: [Signature]) {
        self.checkpoint = checkpoint
        self.noteText = noteText
        self.signatures = signatures
    }

    /// The whole signed note, as stored and as written to files.
    public var text: String {
        noteText + "\n"
            + signatures.map {
                let id = withUnsafeBytes(of: $0.keyID.bigEndian) { Array($0) }
                return "\u{2014} \($0.name) \(Data(id + $0.signature).base64EncodedString())\n"
            }.joined()
    }

    /// Signs `checkpoint` with `key` under the verifier key's name.
    public static func sign(_ checkpoint: Checkpoint, with key: Curve25519.Signing.PrivateKey, name: String)
        throws -> SignedCheckpoint
    {
        let verifier = NoteVerifierKey(name: name, publicKey: key.publicKey)
        let text = checkpoint.text
        let signature = try key.signature(for: Data(text.utf8))
        return SignedCheckpoint(
            checkpoint: checkpoint, noteText: text,
            signatures: [Signature(name: name, keyID: verifier.keyID, signature: Array(signature))])
    }

    /// Parses a signed note holding a checkpoint.
    /// - Throws: `CheckpointError.malformed` saying what is wrong.
    public init(parsing text: String) throws(CheckpointError) {
        guard text.hasSuffix("\n") else { throw .malformed("the signed note does not end in a newline") }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) else {
            throw .malformed("the signed note holds a control character")
        }
        guard let split = text.range(of: "\n\n", options: .backwards) else {
            throw .malformed("no blank line between the note text and its signatures")
        }
        let noteText = String(text[..<split.lowerBound]) + "\n"
        var signatures: [Signature] = []
        for line in text[split.upperBound...].split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast()
        {
            guard line.hasPrefix("\u{2014} ") else {
                throw .malformed("a signature line does not start with an em dash and a space: '\(line)'")
            }
            let words = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard words.count == 2, !words[0].isEmpty, let raw = Data(base64Encoded: String(words[1])),
                raw.count > 4
            else { throw .malformed("a signature line is not 'NAME BASE64(KEYID || SIGNATURE)': '\(line)'") }
            let bytes = Array(raw)
            signatures.append(
                Signature(
                    name: String(words[0]), keyID: bytes.prefix(4).reduce(0) { $0 << 8 | UInt32($1) },
                    signature: Array(bytes.dropFirst(4))))
        }
        guard !signatures.isEmpty else { throw .malformed("the note has no signature line") }
        self.checkpoint = try Checkpoint(text: noteText)
        self.noteText = noteText
        self.signatures = signatures
    }

    /// Reads a signed checkpoint from a file (`touchlog checkpoint` writes one).
    /// - Throws: `CheckpointError.badFile` naming the file and what is wrong.
    public static func load(fromFile path: String) throws -> SignedCheckpoint {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw CheckpointError.badFile(path: path, reason: "cannot read it")
        }
        do { return try SignedCheckpoint(parsing: String(decoding: bytes, as: UTF8.self)) } catch {
            throw CheckpointError.badFile(path: path, reason: error.description)
        }
    }

    /// Checks that `key` signed the note: a signature line with its name and key id whose signature
    /// verifies (lines of other keys are ignored, as the signed-note spec says).
    /// - Throws: `CheckpointError.notSigned` with the reason.
    public func verify(with key: NoteVerifierKey) throws(CheckpointError) {
        let mine = signatures.filter { $0.name == key.name && $0.keyID == key.keyID }
        guard !mine.isEmpty else {
            throw .notSigned("it has no signature by the key \(key.name)+\(key.keyIDHex)")
        }
        for signature in mine
        where !key.publicKey.isValidSignature(Data(signature.signature), for: Data(noteText.utf8)) {
            throw .notSigned("its signature by the key \(key.name)+\(key.keyIDHex) does not verify")
        }
    }
}

/// Why a checkpoint, a verifier key or a proof could not be read or checked.
public enum CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case badKey(String)
    case badKeyFile(path: String, reason: String)
    case badFile(path: String, reason: String)
    case notSigned(String)

    public var description: String {
        switch self {
        case .malformed(let reason): return "not a checkpoint: \(reason)"
        case .badKey(let reason): return "not a verifier key: \(reason)"
        case .badKeyFile(let path, let reason): return "key file '\(path)': \(reason)"
        case .badFile(let path, let reason): return "\(path): \(reason)"
        case .notSigned(let reason): return "the checkpoint is not signed by the key: \(reason)"
        }
    }
}
