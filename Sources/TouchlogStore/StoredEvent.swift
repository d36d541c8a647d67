import CloudEvents
import Crypto
import TouchlogDomain

/// One event as the log stores it: the CloudEvent and what the log added when it appended it.
public struct StoredEvent: Sendable, Equatable {
    /// 1-based place in the global order.
    public var position: UInt64
    /// 1-based version in its customer's stream.
    public var version: UInt64
    /// Position of the customer's previous event, 0 for the first.
    public var previousPosition: UInt64
    /// When the log appended it.
    public var recordedAt: Timestamp
    /// When it happened (its `time`).
    public var occurredAt: Timestamp
    public var hash: ChainHash
    public var predecessorHash: ChainHash
    public var event: CloudEvent
    /// The customer's pseudonym in a store of format 3; nil in format 2.
    public var pseudonym: Pseudonym?

    public init(
        position: UInt64, version: UInt64, previousPosition: UInt64, recordedAt: Timestamp,
        occurredAt: Timestamp,
        hash: ChainHash, predecessorHash: ChainHash, event: CloudEvent, pseudonym: Pseudonym? = nil
    ) {
        self.position = position
        self.version = version
        self.previousPosition = previousPosition
        self.recordedAt = recordedAt
        self.occurredAt = occurredAt
        self.hash = hash
        self.predecessorHash = predecessorHash
        self.event = event
        self.pseudonym = pseudonym
    }

    /// The customer the event belongs to (its `subject`; `erased:HEX` once erased).
    public var customer: String { event.subject ?? "" }

    /// The name the projections key the customer by (`EventRecordView.customerKey`).
    public var customerKey: String { pseudonym?.projectionName ?? customer }

    /// Whether the customer's personal content is erased (format 3).
    public var isErased: Bool { pseudonym != nil && customer.hasPrefix(Pseudonym.erasedPrefix) }

    /// The event as CloudEvents JSON with the log's attributes: `sequence` (version zero-padded to 20
    /// digits) with `sequencetype` "Integer", `recordedtime`, `position`, `hash` and `predecessorhash`.
    ///
    /// A producer's own value of one of these names, stored with the event, is written under
    /// `Touchpoint.producerValueName(for:)` (`origrecordedtime`, ...), unchanged, so the log never
    /// overwrites it and the output never has two members of one name.
    public func writeJSON(into buffer: inout [UInt8]) {
        var sequence = String(version)
        sequence = String(repeating: "0", count: max(0, 20 - sequence.utf8.count)) + sequence
        let logAttributes = [
            CloudEventExtension(name: "sequence", value: .string(sequence)),
            CloudEventExtension(name: "sequencetype", value: .string("Integer")),
            CloudEventExtension(name: "recordedtime", value: .string(recordedAt.rfc3339)),
            CloudEventExtension(name: "position", value: .number(String(position))),
            CloudEventExtension(name: "hash", value: .string(hash.description)),
            CloudEventExtension(name: "predecessorhash", value: .string(predecessorHash.description)),
        ]
        // Almost no event carries such a value: the copy is made only for those that do.
        guard event.extensions.contains(where: { Touchpoint.isLogAssigned($0.name) }) else {
            event.writeJSON(into: &buffer, additionalAttributes: logAttributes)
            return
        }
        var renamed = event
        for i in renamed.extensions.indices
        where Touchpoint.isLogAssigned(renamed.extensions[i].name) {
            renamed.extensions[i].name = Touchpoint.producerValueName(for: renamed.extensions[i].name)
        }
        renamed.writeJSON(into: &buffer, additionalAttributes: logAttributes)
    }
}

extension StoredEvent {
    /// Decodes a record of the `events` database (the value stored under `position`).
    /// - Throws: `StoreError.corruptRecord` when the bytes are not a valid record.
    public init(record bytes: UnsafeRawBufferPointer, position: UInt64) throws(StoreError) {
        guard let record = EventRecordView(bytes: bytes, position: position) else {
            throw StoreError.corruptRecord(position: position)
        }
        self = record.storedEvent
    }
}

extension StoredEvent {
    /// The personal content of an event of format 3 as a proof bundle discloses it: the salt and the
    /// content (subject, personal extensions, data) whose SHA-256, salt first, is the record's
    /// commitment (docs/STORAGE.md, "Personal content"; docs/PROOFS.md, "Disclosures").
    public struct Disclosure: Sendable, Equatable {
        public var salt: [UInt8]
        public var content: [UInt8]

        public init(salt: [UInt8], content: [UInt8]) {
            self.salt = salt
            self.content = content
        }

        /// Splits an opened content (salt ‖ content, as `EventLog.disclosure(at:)` gives it).
        public init(opened: [UInt8]) {
            precondition(opened.count >= SealedRecord.saltCount, "an opened content starts with its salt")
            self.init(
                salt: Array(opened.prefix(SealedRecord.saltCount)),
                content: Array(opened.dropFirst(SealedRecord.saltCount)))
        }

        /// The salt's size: 16 bytes.
        public static let saltCount = SealedRecord.saltCount
    }

    /// Why a leaf and its disclosure do not give an event (docs/PROOFS.md, "Verifying a bundle").
    public enum LeafProblem: Error, Sendable, Equatable, CustomStringConvertible {
        /// The bytes are not the hashed bytes of a record of the format given.
        case notARecord
        /// A disclosure for a leaf that seals no content (format 1, or format 3 with content byte 0).
        case nothingToDisclose
        /// SHA-256(salt ‖ content) is not the leaf's commitment.
        case commitmentMismatch
        /// The committed content is not a subject, extensions and data.
        case contentDoesNotDecode
        /// A member of the leaf's clear `data` is not in the disclosed `data` with the same value.
        case clearDataNotDisclosed

        public var description: String {
            switch self {
            case .notARecord: "the leaf is not an event record"
            case .nothingToDisclose: "the leaf has no sealed content to disclose"
            case .commitmentMismatch: "the disclosed salt and content are not what the leaf commits to"
            case .contentDoesNotDecode: "the disclosed content does not decode"
            case .clearDataNotDisclosed: "the leaf's clear data is not in the disclosed data"
            }
        }
    }

    /// Decodes an event from its hashed bytes (`EventRecordView.hashedBytes`, a proof bundle's `leaf`) of
    /// a record of format `recordFormat` (1, or 3 in a store of format 3): the event and what the log
    /// recorded with it, its stored hash being the hash of those bytes. A record of format 3 gives, with
    /// its `disclosure`, the event as the log reads it while its customer is live, and without, the event
    /// as it reads once the customer is erased (`erased:HEX`, the clear fields only).
    /// - Throws: `LeafProblem`, checked in the order of its cases.
    public init(hashedBytes: [UInt8], recordFormat: Int = 1, disclosure: Disclosure? = nil)
        throws(LeafProblem)
    {
        let format: UInt8
        switch recordFormat {
        case Int(EventRecord.format): format = EventRecord.format
        case Int(SealedRecord.format): format = SealedRecord.format
        default: throw .notARecord
        }
        guard let (position, record) = HashedBytes.record(from: hashedBytes, format: format) else {
            throw .notARecord
        }
        let decoded = record.withUnsafeBytes { bytes in
            Result { () throws(LeafProblem) in
                try StoredEvent.decode(bytes, at: position, disclosure: disclosure)
            }
        }
        self = try decoded.get()
    }

    private static func decode(_ bytes: UnsafeRawBufferPointer, at position: UInt64, disclosure: Disclosure?)
        throws(LeafProblem) -> StoredEvent
    {
        guard bytes.first == SealedRecord.format else {
            guard let view = EventRecordView(bytes: bytes, position: position) else { throw .notARecord }
            guard disclosure == nil else { throw .nothingToDisclose }
            return view.storedEvent
        }
        guard let fields = SealedRecord.Fields(bytes) else { throw .notARecord }
        /// The event of the record read with the opened content `plain` (nil: as erased).
        func event(plain: [UInt8]?) -> StoredEvent? {
            SealedRecord.logicalRecord(bytes, fields, plain: plain)?.withUnsafeBytes { logical in
                EventRecordView(
                    bytes: logical, position: position, hashed: bytes, pseudonym: fields.pseudonym)?
                    .storedEvent
            }
        }
        guard let erasedEvent = event(plain: nil) else { throw .notARecord }
        guard let disclosure else { return erasedEvent }
        guard fields.contentKind == .sealed else { throw .nothingToDisclose }
        let plain = disclosure.salt + disclosure.content
        guard disclosure.salt.count == SealedRecord.saltCount,
            Array(SHA256.hash(data: plain)) == fields.commitment
        else { throw .commitmentMismatch }
        guard let disclosed = event(plain: plain) else { throw .contentDoesNotDecode }
        guard Self.isClearData(erasedEvent.event.data, partOf: disclosed.event.data) else {
            throw .clearDataNotDisclosed
        }
        return disclosed
    }

    /// Whether every member of the clear `data` of a record of format 3 (a JSON object, or none) is a
    /// member of the whole `data`, a JSON object, with the same value (`JSONValue.isSameValue(as:)`;
    /// docs/PROOFS.md). A sealed record keeps copies of those members in the clear; a disclosure whose
    /// data lacks them is not the content the record was written with.
    static func isClearData(_ clear: CloudEventData?, partOf whole: CloudEventData?) -> Bool {
        guard case .json(let clearText) = clear else { return true }
        guard case .json(let wholeText) = whole, case .object(let clearMembers)? = parsed(clearText),
            case .object(let members)? = parsed(wholeText)
        else { return false }
        return clearMembers.allSatisfy { wanted in
            members.contains { $0.key == wanted.key && $0.value.isSameValue(as: wanted.value) }
        }
    }

    /// `text` parsed; nil when it is not JSON (which makes the clear data not part of it).
    private static func parsed(_ text: [UInt8]) -> JSONValue? {
        do { return try JSONValue.parse(text) } catch { return nil }
    }
}
