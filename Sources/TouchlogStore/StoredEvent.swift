import CloudEvents
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
    /// Decodes an event from its hashed bytes (`EventRecordView.hashedBytes`, a proof bundle's `leaf`):
    /// the event and what the log recorded with it, its stored hash being the hash of those bytes.
    /// - Throws: `StoreError.corruptRecord` when the bytes are not the hashed bytes of a valid record.
    public init(hashedBytes: [UInt8]) throws(StoreError) {
        guard let (position, record) = HashedBytes.record(from: hashedBytes) else {
            throw StoreError.corruptRecord(position: HashedBytes.position(of: hashedBytes) ?? 0)
        }
        let decoded = record.withUnsafeBytes { bytes in
            EventRecordView(bytes: bytes, position: position)?.storedEvent
        }
        guard let decoded else { throw StoreError.corruptRecord(position: position) }
        self = decoded
    }
}
