import CloudEvents
import TouchlogDomain

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A read-only view of one record of the `events` database (docs/STORAGE.md, "Event record"), with
/// each field by name: the one reader of record bytes. The log's own decoding (`StoredEvent`,
/// verification) and the projections' fold both read records through it.
///
/// The log lends a view inside a transaction (`EventLog.forEachRecord(from:in:_:)`,
/// `EventLog.withRecord(at:in:_:)`): it is `~Copyable` and lent `borrowing`, so it cannot be kept
/// past the call that lent it. The record's layout is checked once when the view is made; the fields
/// are then read at offsets found by that one pass, without copying. Fields given as bytes
/// (`typeBytes`, `subjectBytes`, extension names and values, `dataText`) point into the store's
/// memory and are valid only during that call; the `String` fields are copies.
public struct EventRecordView: ~Copyable {
    /// The record's position in the log (its key).
    public let position: UInt64
    /// The record in the layout of format 1 (for a stored record of format 3, the event its sealed
    /// content gives, made by `SealedRecord.logicalRecord`).
    private let bytes: UnsafeRawBufferPointer
    /// The bytes stored in `events`, which the chain hash covers (`bytes` itself in format 1).
    private let hashed: UnsafeRawBufferPointer
    /// The customer's pseudonym (format 3); nil in format 1.
    public let pseudonym: Pseudonym?
    private let idRange: Range<Int>
    private let sourceRange: Range<Int>
    private let typeRange: Range<Int>
    private let subjectRange: Range<Int>?
    private let timeRange: Range<Int>?
    private let contentTypeRange: Range<Int>?
    private let schemaRange: Range<Int>?
    /// Where the extensions start (after their count).
    private let extensionsStart: Int
    /// How many extension attributes the record has.
    public let extensionCount: Int
    /// What `data` the record holds.
    public let dataKind: DataKind
    private let dataRange: Range<Int>

    /// The kind byte of an extension attribute.
    public enum ExtensionKind: UInt8, Sendable {
        case string = 0
        /// A JSON number, kept as its literal.
        case number = 1
        case `true` = 2
        case `false` = 3
    }

    /// The kind byte of the `data` field.
    public enum DataKind: UInt8, Sendable {
        case absent = 0
        /// The `data` member as compact JSON text.
        case json = 1
        /// The `data_base64` string.
        case base64 = 2
    }

    /// One extension attribute, as bytes of the record.
    public struct Extension {
        public let name: UnsafeRawBufferPointer
        public let kind: ExtensionKind
        /// The text of a string or the literal of a number; empty for booleans.
        public let text: UnsafeRawBufferPointer
    }

    /// Checks the layout of the record `bytes` stored at `position` and finds its fields; nil when the
    /// bytes are not a valid record.
    init?(
        bytes: UnsafeRawBufferPointer, position: UInt64, hashed: UnsafeRawBufferPointer? = nil,
        pseudonym: Pseudonym? = nil
    ) {
        var r = ByteReader(bytes)
        guard r.readByte() == EventRecord.format, r.skip(EventRecord.headerSize - 1),
            let id = r.readRange(), let source = r.readRange(), let type = r.readRange(),
            let subject = r.readOptionalRange(), let time = r.readOptionalRange(),
            let contentType = r.readOptionalRange(), let schema = r.readOptionalRange(),
            let extensionCount = r.readFieldLength()
        else { return nil }
        let extensionsStart = r.offset
        for _ in 0..<extensionCount {
            guard r.readRange() != nil, let kind = r.readByte().flatMap(ExtensionKind.init(rawValue:)) else {
                return nil
            }
            if kind == .string || kind == .number, r.readRange() == nil {
                return nil
            }
        }
        guard let dataKind = r.readByte().flatMap(DataKind.init(rawValue:)) else {
            return nil
        }
        var data = r.offset..<r.offset
        if dataKind != .absent {
            guard let range = r.readRange() else { return nil }
            data = range
        }
        guard r.isAtEnd else { return nil }
        self.position = position
        self.bytes = bytes
        self.hashed = hashed ?? bytes
        self.pseudonym = pseudonym
        (idRange, sourceRange, typeRange) = (id, source, type)
        (subjectRange, timeRange, contentTypeRange, schemaRange) = (subject, time, contentType, schema)
        self.extensionsStart = extensionsStart
        self.extensionCount = extensionCount
        self.dataKind = dataKind
        dataRange = data
    }

    // MARK: The header

    /// The hash stored in the record (see `recomputedHash`).
    public var hash: ChainHash { Header.hash(bytes) }
    /// The hash of the event at `position - 1` (32 zero bytes at position 1).
    public var predecessorHash: ChainHash {
        ChainHash(unsafeBytes: UnsafeRawBufferPointer(rebasing: bytes[EventRecord.predecessorHashRange]))
    }
    /// Position of the customer's previous event, 0 for the first.
    public var previousPosition: UInt64 { Header.uint64(bytes, at: EventRecord.previousPositionOffset) }
    /// 1-based version in the customer's stream.
    public var version: UInt64 { Header.uint64(bytes, at: EventRecord.versionOffset) }
    /// When the log appended the event.
    public var recordedAt: Timestamp { Header.recordedAt(bytes) }
    /// When the event happened (its `time`, parsed).
    public var occurredAt: Timestamp {
        Timestamp(
            microsecondsSinceEpoch: Int64(bitPattern: Header.uint64(bytes, at: EventRecord.eventTimeOffset)))
    }

    /// The chain hash of the record's bytes at its position; equal to `hash` unless it was altered or moved.
    public var recomputedHash: ChainHash { ChainHash(position: position, record: hashed) }

    /// The name the projections key the customer by: the subject in format 1, `ps:` and the
    /// pseudonym in format 3 (the same before and after an erasure, and never the customer id).
    public var customerKey: String { pseudonym?.projectionName ?? subject ?? "" }

    /// Whether the customer's personal content is erased (format 3): the view holds no subject, no
    /// personal attributes and only the clear members of `data`.
    public var isErased: Bool {
        pseudonym != nil && subjectBytes.map { $0.starts(with: Pseudonym.erasedPrefix.utf8) } ?? false
    }

    /// The bytes the event's hashes cover (`HashedBytes`): its position as 8 big-endian bytes, then the
    /// stored record after its own hash (in format 3 the stored record, not the view's layout of format
    /// 1). What a proof bundle carries as `leaf`.
    public var hashedBytes: [UInt8] {
        HashedBytes.withParts(position: position, record: hashed) { Array($0) + Array($1) }
    }

    /// The event's Merkle leaf hash: SHA-256(0x00 || `hashedBytes`), of the stored record as `hashedBytes`.
    public var leafHash: ChainHash { ChainHash(leafOf: position, record: hashed) }

    // MARK: The event's attributes

    public var id: String { string(idRange) }
    /// `stableIdentityDigest(source:id:)` of this record, read from its bytes.
    public var stableIdentityDigest: UInt64 {
        IdentityKey.unkeyed(source: slice(sourceRange), id: slice(idRange))
    }
    public var source: String { string(sourceRange) }
    /// The store's identity hash of this record's `source` and `id`, read from its bytes.
    func identityHash(_ hasher: IdentityHasher) -> UInt64 {
        hasher.hash(source: slice(sourceRange), id: slice(idRange))
    }
    public var type: String { string(typeRange) }
    /// The customer (`subject`); nil when absent.
    public var subject: String? { optionalString(subjectRange) }
    /// The `time` attribute as received.
    public var time: String? { optionalString(timeRange) }
    public var dataContentType: String? { optionalString(contentTypeRange) }
    public var dataSchema: String? { optionalString(schemaRange) }

    /// The UTF-8 bytes of `type`.
    public var typeBytes: UnsafeRawBufferPointer { slice(typeRange) }
    /// The UTF-8 bytes of `subject`; nil when absent.
    public var subjectBytes: UnsafeRawBufferPointer? {
        guard let subjectRange else { return nil }
        return slice(subjectRange)
    }

    /// The catalog type the record's `type` names, if it is a known one.
    public var knownType: KnownType? { KnownTypeNames.shared.type(named: typeBytes) }

    /// The extension attributes in record order.
    public var extensions: Extensions {
        Extensions(reader: ByteReader(bytes), offset: extensionsStart, remaining: extensionCount)
    }

    /// Iterates the extension attributes (the view checked their layout when it was made).
    public struct Extensions: Sequence, IteratorProtocol {
        private var reader: ByteReader
        private var remaining: Int

        init(reader: ByteReader, offset: Int, remaining: Int) {
            self.reader = reader
            self.reader.offset = offset
            self.remaining = remaining
        }

        public mutating func next() -> Extension? {
            guard remaining > 0, let name = reader.readRange(),
                let kind = reader.readByte().flatMap(ExtensionKind.init(rawValue:))
            else { return nil }
            remaining -= 1
            var text = reader.offset..<reader.offset
            if kind == .string || kind == .number, let range = reader.readRange() { text = range }
            return Extension(
                name: UnsafeRawBufferPointer(rebasing: reader.bytes[name]), kind: kind,
                text: UnsafeRawBufferPointer(rebasing: reader.bytes[text]))
        }
    }

    /// The text of `data`: compact JSON for `.json`, the base64 text for `.base64`, empty when absent.
    public var dataText: UnsafeRawBufferPointer { slice(dataRange) }

    // MARK: Whole values

    /// The whole event, copied out of the record.
    public var storedEvent: StoredEvent {
        var attributes: [CloudEventExtension] = []
        attributes.reserveCapacity(extensionCount)
        for attribute in extensions {
            let value: JSONValue
            switch attribute.kind {
            case .string: value = .string(String(decoding: attribute.text, as: UTF8.self))
            case .number: value = .number(String(decoding: attribute.text, as: UTF8.self))
            case .true: value = .bool(true)
            case .false: value = .bool(false)
            }
            attributes.append(
                CloudEventExtension(name: String(decoding: attribute.name, as: UTF8.self), value: value))
        }
        let data: CloudEventData?
        switch dataKind {
        case .absent: data = nil
        case .json: data = .json(Array(dataText))
        case .base64: data = .base64(String(decoding: dataText, as: UTF8.self))
        }
        let event = CloudEvent(
            id: id, source: source, type: type, subject: subject, time: time,
            datacontenttype: dataContentType,
            dataschema: dataSchema, extensions: attributes, data: data)
        return StoredEvent(
            position: position, version: version, previousPosition: previousPosition, recordedAt: recordedAt,
            occurredAt: occurredAt, hash: hash, predecessorHash: predecessorHash, event: event,
            pseudonym: pseudonym)
    }

    private func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[range])
    }

    private func string(_ range: Range<Int>) -> String { String(decoding: slice(range), as: UTF8.self) }

    private func optionalString(_ range: Range<Int>?) -> String? {
        guard let range else { return nil }
        return string(range)
    }

    /// `source` and `id` of the record `bytes` stored at `position` (what identifies an event); nil
    /// when the bytes are not a valid record.
    static func identity(_ bytes: UnsafeRawBufferPointer, position: UInt64) -> (source: String, id: String)? {
        if bytes.first == SealedRecord.format { return SealedRecord.identity(bytes) }
        guard let record = EventRecordView(bytes: bytes, position: position) else { return nil }
        return (record.source, record.id)
    }

    // MARK: Reading the header alone

    /// The fixed-size header of a record, for readers that must get the stored hash even of a record
    /// whose other fields do not decode (the head of the log, the chain check of an audit).
    enum Header {
        /// What a header links a record to: its stored hash, its predecessor's hash, the previous
        /// position and version in its stream, and its recorded time.
        struct Links {
            var hash: ChainHash
            var predecessorHash: ChainHash
            var previousPosition: UInt64
            var version: UInt64
            var recordedAt: Timestamp
        }

        /// The header's links (the same offsets in records of format 1 and 3), read in place; nil when
        /// `bytes` is shorter than a header.
        static func links(_ bytes: UnsafeRawBufferPointer) -> Links? {
            guard bytes.count >= EventRecord.headerSize else { return nil }
            return Links(
                hash: hash(bytes),
                predecessorHash: ChainHash(
                    unsafeBytes: UnsafeRawBufferPointer(rebasing: bytes[EventRecord.predecessorHashRange])),
                previousPosition: uint64(bytes, at: EventRecord.previousPositionOffset),
                version: uint64(bytes, at: EventRecord.versionOffset), recordedAt: recordedAt(bytes))
        }

        /// The stored hash and recorded time; nil when `bytes` is shorter than a header.
        static func hashAndRecordedTime(_ bytes: UnsafeRawBufferPointer) -> (ChainHash, Timestamp)? {
            guard bytes.count >= EventRecord.headerSize else { return nil }
            return (hash(bytes), recordedAt(bytes))
        }

        fileprivate static func hash(_ bytes: UnsafeRawBufferPointer) -> ChainHash {
            ChainHash(unsafeBytes: UnsafeRawBufferPointer(rebasing: bytes[EventRecord.hashRange]))
        }

        fileprivate static func recordedAt(_ bytes: UnsafeRawBufferPointer) -> Timestamp {
            Timestamp(
                microsecondsSinceEpoch: Int64(bitPattern: uint64(bytes, at: EventRecord.recordedTimeOffset)))
        }

        fileprivate static func uint64(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
            UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
    }
}

/// The UTF-8 names of the known types in one buffer, so that a record's type is matched by comparing
/// bytes (no `String` is made, nothing is retained per candidate).
private final class KnownTypeNames: @unchecked Sendable {  // immutable once made
    static let shared = KnownTypeNames()
    /// Each type with where its name lies in `names`.
    private let entries: [(type: KnownType, start: Int, count: Int)]
    private let names: UnsafeRawBufferPointer

    private init() {
        var bytes: [UInt8] = []
        var entries: [(type: KnownType, start: Int, count: Int)] = []
        for type in KnownType.allCases {
            entries.append((type, bytes.count, type.name.utf8.count))
            bytes += type.name.utf8
        }
        let names = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        names.copyBytes(from: bytes)
        self.names = UnsafeRawBufferPointer(names)
        self.entries = entries
    }

    deinit { names.deallocate() }

    func type(named name: UnsafeRawBufferPointer) -> KnownType? {
        for entry in entries where entry.count == name.count {
            if memcmp(names.baseAddress! + entry.start, name.baseAddress!, entry.count) == 0 {
                return entry.type
            }
        }
        return nil
    }
}

extension ByteReader {
    /// A LEB128 length: one byte for a length under 128 (nearly every field), else the general path.
    @inline(__always) fileprivate mutating func readFieldLength() -> Int? {
        if offset < bytes.count, bytes[offset] < 0x80 {
            defer { offset += 1 }
            return Int(bytes[offset])
        }
        return readLength()
    }

    /// The byte range of a string (LEB128 length, bytes), consumed.
    @inline(__always) fileprivate mutating func readRange() -> Range<Int>? {
        guard let length = readFieldLength(), length <= bytes.count - offset else { return nil }
        defer { offset += length }
        return offset..<offset + length
    }

    /// The byte range of an optional string (LEB128 length + 1, 0 = absent), consumed: nil on bad
    /// input, `.some(nil)` when absent.
    @inline(__always) fileprivate mutating func readOptionalRange() -> Range<Int>?? {
        guard let marker = readFieldLength() else { return nil }
        if marker == 0 { return .some(nil) }
        guard marker - 1 <= bytes.count - offset else { return nil }
        defer { offset += marker - 1 }
        return .some(offset..<offset + marker - 1)
    }
}
