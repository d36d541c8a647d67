import CloudEvents
import Foundation
import TouchlogStore

/// Checks a proof bundle offline, with nothing but the bundle and the verifier key (docs/PROOFS.md):
/// the checkpoint's signature; each event against its leaf and the leaf's inclusion in the checkpoint's
/// tree; the stream gapless and linked from version 1; and its head committed by the checkpoint's stream
/// heads tree. `Tools/verify_bundle.py` makes the same checks in the same order with the same reasons.
public enum BundleVerifier {
    /// What a bundle that verifies proves.
    public struct Verified: Sendable, Equatable {
        public var events: Int
        public var customer: String?
        public var checkpointSize: UInt64
    }

    /// Why a bundle does not verify: the file (and line) and what is wrong.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
        init(_ reason: String) { self.reason = reason }
    }

    /// Verifies the bundle in `directory` against `key`.
    /// - Throws: `Failure` with the reason.
    public static func verify(directory: String, key: NoteVerifierKey) throws(Failure) -> Verified {
        let checkpointText = try text(directory, ProofBundle.checkpointFile)
        let signed: SignedCheckpoint
        do { signed = try SignedCheckpoint(parsing: checkpointText) } catch {
            throw Failure("checkpoint: not a signed checkpoint")
        }
        do { try signed.verify(with: key) } catch {
            throw Failure("checkpoint: not signed by the key \(key.name)+\(key.keyIDHex)")
        }
        let checkpoint = signed.checkpoint
        guard let headsTree = checkpoint.streamHeads else {
            throw Failure("checkpoint: it has no stream heads line")
        }
        let size = checkpoint.size

        var lines = try text(directory, ProofBundle.eventsFile).split(
            separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        guard !lines.isEmpty else { throw Failure("events.jsonl: no events") }
        // The bundle's customer: its stream key (the pseudonym in format 3, the subject in format 1), the
        // name to print (the disclosed subject, or the erased name when nothing is disclosed) and the
        // position and version of its last event so far.
        var streamKey: [UInt8]?
        var customer: String?
        var pseudonym: Pseudonym?
        var previous: (position: UInt64, version: UInt64) = (0, 0)
        for (offset, line) in lines.enumerated() {
            let place = "events.jsonl:\(offset + 1)"
            let entry = try Entry(line, place: place)
            let (version, index, event) = (entry.version, entry.index, entry.event)
            let stored: StoredEvent
            do {
                stored = try StoredEvent(
                    hashedBytes: entry.leaf, recordFormat: entry.recordFormat, disclosure: entry.disclosure)
            } catch {
                throw Failure("\(place): \(error)")
            }
            guard index == stored.position - 1 else {
                throw Failure("\(place): index \(index) is not the leaf's position minus 1")
            }
            guard index < size else {
                throw Failure(
                    "\(place): position \(stored.position) is beyond the checkpoint's tree size \(size)")
            }
            guard version == stored.version else {
                throw Failure("\(place): version \(version) is not the leaf's version \(stored.version)")
            }
            var expectedJSON: [UInt8] = []
            stored.writeJSON(into: &expectedJSON)
            guard let expected = Self.parsed(expectedJSON), expected.isSameValue(as: event) else {
                throw Failure("\(place): the event is not the one its leaf holds")
            }
            guard version == previous.version + 1 else {
                throw Failure(
                    "\(place): version \(version), expected \(previous.version + 1): the stream has a gap or is out of order"
                )
            }
            guard stored.previousPosition == previous.position else {
                throw Failure(
                    "\(place): the leaf links to position \(stored.previousPosition), expected \(previous.position): not the stream's next event"
                )
            }
            // In format 3 the stream is the pseudonym's, and a disclosed subject names the customer.
            let subject = entry.recordFormat == 3 && entry.disclosure == nil ? nil : stored.event.subject
            let keyOfEvent =
                entry.recordFormat == 3
                ? stored.pseudonym?.bytes : stored.event.subject.map { Array($0.utf8) }
            if offset > 0, keyOfEvent != streamKey {
                throw Failure(
                    entry.recordFormat == 3
                        ? "\(place): the event's pseudonym is not the bundle's customer's"
                        : "\(place): the event's subject is not the bundle's customer")
            }
            streamKey = keyOfEvent
            pseudonym = stored.pseudonym
            if let subject, let known = customer, subject != known {
                throw Failure("\(place): the event's subject is not the bundle's customer")
            }
            customer = customer ?? subject
            let name = "\(ProofBundle.proofsDirectory)/\(index).tlog-proof"
            let proof = try parseProof(try text(directory, name), name: name)
            guard proof.index == index else { throw Failure("\(name): it is for index \(proof.index)") }
            guard proof.checkpoint == checkpointText else {
                throw Failure("\(name): its checkpoint is not the bundle's checkpoint")
            }
            guard
                MerkleProof.verifyInclusion(
                    index: index, size: size, leaf: .merkleLeaf(hashedBytes: entry.leaf), proof: proof.hashes,
                    root: checkpoint.root)
            else { throw Failure("\(name): the inclusion proof does not lead to the checkpoint's root") }
            previous = (stored.position, version)
        }
        customer = customer ?? pseudonym?.erasedName

        let completeness: ProofBundle.Completeness
        let headLeaf: [UInt8]
        let stream: [UInt8]
        let headsProof: [ChainHash]
        do {
            completeness = try JSONDecoder().decode(
                ProofBundle.Completeness.self,
                from: Data(try text(directory, ProofBundle.completenessFile).utf8))
            guard let leaf = Data(base64Encoded: completeness.streamHeads.leaf),
                let key = Data(base64Encoded: completeness.stream)
            else { throw Failure("") }
            headLeaf = Array(leaf)
            stream = Array(key)
            headsProof = try completeness.streamHeads.proof.map { text in
                guard let hash = Data(base64Encoded: text), hash.count == 32 else { throw Failure("") }
                return ChainHash(bytes: Array(hash))
            }
        } catch let failure as Failure where failure.reason.hasSuffix("cannot read it") {
            throw failure
        } catch {
            throw Failure("completeness.json: not a completeness proof")
        }
        guard completeness.checkpointSize == size else {
            throw Failure(
                "completeness.json: it is for tree size \(completeness.checkpointSize), the checkpoint's is \(size)"
            )
        }
        guard stream == streamKey else {
            throw Failure("completeness.json: its stream is not the key of the bundle's customer's stream")
        }
        let head = completeness.head
        guard head.lastPosition == previous.position, head.version == previous.version else {
            throw Failure(
                "completeness.json: the stream head (position \(head.lastPosition), version \(head.version)) is not the last event (position \(previous.position), version \(previous.version)): events are missing"
            )
        }
        let entry = StreamHeadEntry(stream: stream, lastPosition: head.lastPosition, version: head.version)
        guard entry.leafBytes == headLeaf else {
            throw Failure("completeness.json: the head entry is not the one in its leaf")
        }
        guard completeness.streamHeads.size == headsTree.size,
            MerkleProof.verifyInclusion(
                index: completeness.streamHeads.index, size: completeness.streamHeads.size,
                leaf: entry.leafHash,
                proof: headsProof, root: headsTree.root)
        else {
            throw Failure("completeness.json: the stream head is not in the checkpoint's stream heads tree")
        }
        return Verified(events: lines.count, customer: customer, checkpointSize: size)
    }

    /// One line of `events.jsonl`, its members checked for their types.
    struct Entry {
        var version: UInt64
        var index: UInt64
        var recordFormat: Int
        var leaf: [UInt8]
        var event: JSONValue
        var disclosure: StoredEvent.Disclosure?

        init(_ line: Substring, place: String) throws(Failure) {
            struct Members: Decodable {
                var version: UInt64
                var index: UInt64
                var leaf: String
                var recordFormat: Int?
                enum CodingKeys: String, CodingKey {
                    case version, index, leaf
                    case recordFormat = "record_format"
                }
            }
            guard let members = try? JSONDecoder().decode(Members.self, from: Data(line.utf8)),
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                object["event"] is [String: Any],
                let event = BundleVerifier.parsed(Array(line.utf8))?["event"],
                let leaf = Data(base64Encoded: members.leaf).map(Array.init),
                let disclosures = (object["disclosures"] ?? [String: Any]()) as? [String: Any]
            else { throw Failure("\(place): not a JSON object with version, index, leaf and event") }
            (version, index, self.leaf, self.event) = (members.version, members.index, leaf, event)
            recordFormat = members.recordFormat ?? 1
            guard recordFormat == 1 || recordFormat == 3 else {
                throw Failure("\(place): record_format \(recordFormat) is not 1 or 3")
            }
            guard !disclosures.isEmpty else { return }
            guard Set(disclosures.keys) == ["salt", "content"],
                let salt = (disclosures["salt"] as? String).flatMap({ Data(base64Encoded: $0) }),
                salt.count == StoredEvent.Disclosure.saltCount,
                let content = (disclosures["content"] as? String).flatMap({ Data(base64Encoded: $0) })
            else { throw Failure("\(place): the disclosures are not a salt of 16 bytes and a content") }
            disclosure = StoredEvent.Disclosure(salt: Array(salt), content: Array(content))
        }
    }

    /// `text` parsed as JSON; nil when it is not JSON (then it is not the event looked for).
    static func parsed(_ text: [UInt8]) -> JSONValue? {
        do { return try JSONValue.parse(text) } catch { return nil }
    }

    private static func text(_ directory: String, _ name: String) throws(Failure) -> String {
        guard let bytes = FileManager.default.contents(atPath: directory + "/" + name),
            let text = String(validating: bytes, as: UTF8.self)
        else { throw Failure("\(name): cannot read it") }
        return text
    }

    /// A C2SP tlog-proof: its index, its hashes and the checkpoint after them.
    static func parseProof(_ text: String, name: String) throws(Failure) -> (
        index: UInt64, hashes: [ChainHash], checkpoint: String
    ) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let malformed = Failure("\(name): not a tlog-proof")
        guard lines.count >= 3, lines[0] == "c2sp.org/tlog-proof@v1" else { throw malformed }
        var at = 1
        if lines[at].hasPrefix("extra ") { at += 1 }
        guard lines[at].hasPrefix("index "), let index = Checkpoint.decimal(String(lines[at].dropFirst(6)))
        else {
            throw malformed
        }
        at += 1
        var hashes: [ChainHash] = []
        while at < lines.count, !lines[at].isEmpty {
            guard let hash = Checkpoint.hash(base64: lines[at]) else { throw malformed }
            hashes.append(hash)
            at += 1
        }
        guard at < lines.count else { throw malformed }
        return (index, hashes, lines[(at + 1)...].joined(separator: "\n"))
    }
}
