import CloudEvents
import Crypto
import TouchlogDomain

/// A SHA-256 digest in the log's hash chain.
///
/// Kept inline (four words, no heap allocation): the append path makes one per event.
public struct ChainHash: Sendable, Hashable, CustomStringConvertible {
    private var words: (UInt64, UInt64, UInt64, UInt64)

    /// The 32 bytes of the digest.
    public var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 32, "a chain hash has 32 bytes")
        self.init(unsafeBytes: bytes.withUnsafeBytes { $0 })
    }

    /// Copies the first 32 bytes of `raw`.
    init(unsafeBytes raw: UnsafeRawBufferPointer) {
        precondition(raw.count >= 32, "a chain hash has 32 bytes")
        words = (
            raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
            raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
            raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
            raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        )
    }

    /// Lends the 32 bytes, in digest order.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = words
        return try Swift.withUnsafeBytes(of: &copy) { try body($0) }
    }

    public static func == (a: ChainHash, b: ChainHash) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// The predecessor of the first event: 32 zero bytes.
    public static let genesis = ChainHash(bytes: [UInt8](repeating: 0, count: 32))

    /// Lower-case hexadecimal, as the `hash` and `predecessorhash` attributes show it.
    public var description: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(64)
        withUnsafeBytes { raw in
            for byte in raw {
                text.append(digits[Int(byte >> 4)])
                text.append(digits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }
}

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

    /// The customer the event belongs to (its `subject`).
    public var customer: String { event.subject ?? "" }

    /// The event as CloudEvents JSON with the log's attributes: `sequence` (version zero-padded to 20
    /// digits) with `sequencetype` "Integer", `recordedtime`, `position`, `hash` and `predecessorhash`.
    public func writeJSON(into buffer: inout [UInt8]) {
        var sequence = String(version)
        sequence = String(repeating: "0", count: max(0, 20 - sequence.utf8.count)) + sequence
        event.writeJSON(
            into: &buffer,
            additionalAttributes: [
                CloudEventExtension(name: "sequence", value: .string(sequence)),
                CloudEventExtension(name: "sequencetype", value: .string("Integer")),
                CloudEventExtension(name: "recordedtime", value: .string(recordedAt.rfc3339)),
                CloudEventExtension(name: "position", value: .number(String(position))),
                CloudEventExtension(name: "hash", value: .string(hash.description)),
                CloudEventExtension(name: "predecessorhash", value: .string(predecessorHash.description)),
            ])
    }
}

/// The binary encoding of an event record, the value of the `events` database (docs/STORAGE.md).
///
///     0       u8      record format (1)
///     1       32      hash = SHA-256(position as 8 big-endian bytes ‖ bytes 33… of this record)
///     33      32      predecessor hash (the hash of the event at position - 1; zeros for position 1)
///     65      u64     previous position in the customer's stream (0 = none), big-endian
///     73      u64     version in the customer's stream, big-endian
///     81      i64     recorded time, microseconds since the Unix epoch, big-endian
///     89      i64     event time (`time`), microseconds since the Unix epoch, big-endian
///     97      fields  id, source, type, subject?, time?, datacontenttype?, dataschema?, extensions, data
///
/// Strings are a LEB128 length and UTF-8 bytes; an optional string is LEB128 (length + 1), 0 = absent.
/// Extensions: LEB128 count, then each name, a kind byte (0 string, 1 number, 2 true, 3 false) and,
/// for strings and numbers, the text. Data: a kind byte (0 none, 1 JSON text, 2 base64 text) and the text.
enum EventRecord {
    static let format: UInt8 = 1
    static let headerSize = 97
    static let hashRange = 1..<33

    /// Encodes the record into `buffer` (replacing its contents) and fills in its hash.
    static func encode(
        _ event: borrowing CloudEvent, position: UInt64, version: UInt64, previousPosition: UInt64,
        recordedAt: Timestamp, occurredAt: Timestamp, predecessorHash: ChainHash, into buffer: inout [UInt8]
    ) -> ChainHash {
        let size = encodedSize(event)
        var hash = ChainHash.genesis
        buffer = [UInt8](unsafeUninitializedCapacity: size) { storage, count in
            hash = write(
                event, position: position, version: version, previousPosition: previousPosition,
                recordedAt: recordedAt, occurredAt: occurredAt, predecessorHash: predecessorHash,
                into: UnsafeMutableRawBufferPointer(storage))
            count = size
        }
        return hash
    }

    /// The exact size of the record of `event`.
    static func encodedSize(_ event: borrowing CloudEvent) -> Int {
        var size = headerSize
        size += stringSize(event.id) + stringSize(event.source) + stringSize(event.type)
        size += optionalSize(event.subject) + optionalSize(event.time) + optionalSize(event.datacontenttype)
        size += optionalSize(event.dataschema)
        size += lengthSize(event.extensions.count)
        for attribute in event.extensions {
            size += stringSize(attribute.name) + 1
            switch attribute.value {
            case .string(let text), .number(let text): size += stringSize(text)
            default: break
            }
        }
        switch event.data {
        case nil: size += 1
        case .json(let text): size += 1 + lengthSize(text.count) + text.count
        case .base64(let text): size += 1 + stringSize(text)
        }
        return size
    }

    /// Writes the record into `target`, which must be exactly `encodedSize(event)` bytes (for example
    /// memory reserved in LMDB with `MDB_RESERVE`), fills in its hash, and returns the hash.
    static func write(
        _ event: borrowing CloudEvent, position: UInt64, version: UInt64, previousPosition: UInt64,
        recordedAt: Timestamp, occurredAt: Timestamp, predecessorHash: ChainHash,
        into target: UnsafeMutableRawBufferPointer
    ) -> ChainHash {
        var w = RecordWriter(target)
        w.byte(format)
        w.offset = 33  // the hash, filled in below
        predecessorHash.withUnsafeBytes { w.bytes($0) }
        w.uint64(previousPosition)
        w.uint64(version)
        w.uint64(UInt64(bitPattern: recordedAt.microsecondsSinceEpoch))
        w.uint64(UInt64(bitPattern: occurredAt.microsecondsSinceEpoch))
        w.string(event.id)
        w.string(event.source)
        w.string(event.type)
        w.optional(event.subject)
        w.optional(event.time)
        w.optional(event.datacontenttype)
        w.optional(event.dataschema)
        w.length(event.extensions.count)
        for attribute in event.extensions {
            w.string(attribute.name)
            switch attribute.value {
            case .string(let text):
                w.byte(0)
                w.string(text)
            case .number(let literal):
                w.byte(1)
                w.string(literal)
            case .bool(let flag): w.byte(flag ? 2 : 3)
            default: preconditionFailure("CloudEvent extensions are strings, numbers or booleans")
            }
        }
        switch event.data {
        case nil: w.byte(0)
        case .json(let text):
            w.byte(1)
            w.length(text.count)
            text.withUnsafeBytes { w.bytes($0) }
        case .base64(let text):
            w.byte(2)
            w.string(text)
        }
        precondition(w.offset == target.count, "record size mismatch")
        let hash = computeHash(position: position, record: UnsafeRawBufferPointer(target))
        hash.withUnsafeBytes {
            target.baseAddress!.advanced(by: 1).copyMemory(from: $0.baseAddress!, byteCount: 32)
        }
        return hash
    }

    /// SHA-256 of the position and every byte of the record after its own hash.
    static func computeHash(position: UInt64, record: some ContiguousBytesSlice) -> ChainHash {
        var hasher = SHA256()
        var bigEndian = position.bigEndian
        withUnsafeBytes(of: &bigEndian) { hasher.update(bufferPointer: $0) }
        record.withBytes { bytes in
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[min(33, bytes.count)...]))
        }
        return hasher.finalize().withUnsafeBytes { ChainHash(unsafeBytes: $0) }
    }

    private static func lengthSize(_ length: Int) -> Int {
        var value = UInt64(length)
        var size = 1
        while value >= 0x80 {
            value >>= 7
            size += 1
        }
        return size
    }

    private static func stringSize(_ text: String) -> Int {
        let count = text.utf8.count
        return lengthSize(count) + count
    }

    private static func optionalSize(_ text: String?) -> Int {
        guard let text else { return 1 }
        let count = text.utf8.count
        return lengthSize(count + 1) + count
    }

    /// Decodes a whole record stored at `position`.
    /// - Throws: `StoreError.corruptRecord` when the bytes are not a valid record.
    static func decode(_ bytes: UnsafeRawBufferPointer, position: UInt64) throws(StoreError) -> StoredEvent {
        var reader = ByteReader(bytes)
        guard let event = reader.readEvent() else { throw StoreError.corruptRecord(position: position) }
        return event.withPosition(position)
    }

    /// Reads only `source` and `id` of a record (the idempotency check needs nothing more).
    static func sourceAndID(_ bytes: UnsafeRawBufferPointer) -> (source: String, id: String)? {
        var reader = ByteReader(bytes)
        guard reader.skip(headerSize), let id = reader.readString(), let source = reader.readString() else {
            return nil
        }
        return (source, id)
    }

    /// The stream links of a record: previous position in the customer's stream, and version.
    static func streamLinks(_ bytes: UnsafeRawBufferPointer) -> (previousPosition: UInt64, version: UInt64)? {
        var reader = ByteReader(bytes)
        guard reader.skip(65), let previous = reader.readUInt64(), let version = reader.readUInt64() else {
            return nil
        }
        return (previous, version)
    }

    /// The stored hash and the recorded time of a record.
    static func hashAndRecordedTime(_ bytes: UnsafeRawBufferPointer) -> (ChainHash, Timestamp)? {
        guard bytes.count >= headerSize else { return nil }
        var reader = ByteReader(bytes)
        guard reader.skip(81), let recorded = reader.readUInt64() else { return nil }
        let hash = ChainHash(unsafeBytes: UnsafeRawBufferPointer(rebasing: bytes[1..<33]))
        return (hash, Timestamp(microsecondsSinceEpoch: Int64(bitPattern: recorded)))
    }

}

/// Writes a record front to back into memory of exactly the right size.
private struct RecordWriter {
    let target: UnsafeMutableRawBufferPointer
    var offset = 0

    init(_ target: UnsafeMutableRawBufferPointer) { self.target = target }

    @inline(__always) mutating func byte(_ value: UInt8) {
        target[offset] = value
        offset += 1
    }

    @inline(__always) mutating func bytes(_ source: UnsafeRawBufferPointer) {
        guard let base = source.baseAddress, source.count > 0 else { return }
        precondition(offset + source.count <= target.count)
        (target.baseAddress! + offset).copyMemory(from: base, byteCount: source.count)
        offset += source.count
    }

    @inline(__always) mutating func uint64(_ value: UInt64) {
        precondition(offset + 8 <= target.count)
        target.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt64.self)
        offset += 8
    }

    @inline(__always) mutating func length(_ length: Int) {
        var value = UInt64(length)
        while value >= 0x80 {
            byte(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        byte(UInt8(value))
    }

    @inline(__always) mutating func utf8(_ text: String) {
        if text.utf8.withContiguousStorageIfAvailable({ bytes(UnsafeRawBufferPointer($0)) }) == nil {
            for b in text.utf8 { byte(b) }
        }
    }

    mutating func string(_ text: String) {
        length(text.utf8.count)
        utf8(text)
    }

    mutating func optional(_ text: String?) {
        guard let text else { return byte(0) }
        length(text.utf8.count + 1)
        utf8(text)
    }
}

/// Contiguous bytes that can be lent as a buffer: a record being built, or one read from LMDB.
protocol ContiguousBytesSlice {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: ContiguousBytesSlice where Element == UInt8 {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
    }
}

extension UnsafeRawBufferPointer: ContiguousBytesSlice {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(self) }
}

extension ByteReader {
    fileprivate mutating func readHash() -> ChainHash? {
        guard offset + 32 <= bytes.count else { return nil }
        defer { offset += 32 }
        return ChainHash(unsafeBytes: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + 32]))
    }

    fileprivate mutating func readEvent() -> StoredEvent? {
        guard readByte() == EventRecord.format, let hash = readHash(), let predecessor = readHash(),
            let previous = readUInt64(), let version = readUInt64(), let recorded = readUInt64(),
            let occurred = readUInt64(), let id = readString(), let source = readString(),
            let type = readString(),
            let subject = readOptionalString(), let time = readOptionalString(),
            let contentType = readOptionalString(),
            let schema = readOptionalString(), let extensionCount = readLength()
        else { return nil }
        var extensions: [CloudEventExtension] = []
        extensions.reserveCapacity(extensionCount)
        for _ in 0..<extensionCount {
            guard let name = readString(), let kind = readByte() else { return nil }
            let value: JSONValue
            switch kind {
            case 0:
                guard let text = readString() else { return nil }
                value = .string(text)
            case 1:
                guard let text = readString() else { return nil }
                value = .number(text)
            case 2: value = .bool(true)
            case 3: value = .bool(false)
            default: return nil
            }
            extensions.append(CloudEventExtension(name: name, value: value))
        }
        let data: CloudEventData?
        switch readByte() {
        case 0: data = nil
        case 1:
            guard let length = readLength(), let text = readBytes(length) else { return nil }
            data = .json(text)
        case 2:
            guard let text = readString() else { return nil }
            data = .base64(text)
        default: return nil
        }
        guard offset == bytes.count else { return nil }
        let event = CloudEvent(
            id: id, source: source, type: type, subject: subject, time: time, datacontenttype: contentType,
            dataschema: schema, extensions: extensions, data: data)
        return StoredEvent(
            position: 0, version: version, previousPosition: previous,
            recordedAt: Timestamp(microsecondsSinceEpoch: Int64(bitPattern: recorded)),
            occurredAt: Timestamp(microsecondsSinceEpoch: Int64(bitPattern: occurred)),
            hash: hash, predecessorHash: predecessor, event: event)
    }
}

extension StoredEvent {
    /// Decodes a record of the `events` database (the value stored under `position`).
    /// - Throws: `StoreError.corruptRecord` when the bytes are not a valid record.
    public init(record bytes: UnsafeRawBufferPointer, position: UInt64) throws(StoreError) {
        self = try EventRecord.decode(bytes, position: position)
    }

    fileprivate func withPosition(_ position: UInt64) -> StoredEvent {
        var copy = self
        copy.position = position
        return copy
    }
}

extension EventLog {
    /// Encodes `touchpoint` as the record `append` would store at `position` (docs/STORAGE.md), into
    /// `buffer` (replacing its contents), and returns its hash.
    ///
    /// For benchmarks and tools that need the exact record bytes without a store (the raw LMDB
    /// baseline of `touchlog bench` appends these bytes); not part of the stable API.
    @_spi(Benchmarks)
    public static func encodeRecord(
        _ touchpoint: Touchpoint, position: UInt64, version: UInt64, previousPosition: UInt64,
        recordedAt: Timestamp, predecessorHash: ChainHash, into buffer: inout [UInt8]
    ) -> ChainHash {
        EventRecord.encode(
            touchpoint.event, position: position, version: version, previousPosition: previousPosition,
            recordedAt: recordedAt, occurredAt: touchpoint.occurredAt, predecessorHash: predecessorHash,
            into: &buffer)
    }
}

extension EventLog {
    /// The chain hash of `record` stored at `position`: SHA-256 of the position and the record's bytes
    /// after its own hash (docs/STORAGE.md). For benchmarks and tools; not part of the stable API.
    @_spi(Benchmarks)
    public static func recordHash(position: UInt64, record: [UInt8]) -> ChainHash {
        EventRecord.computeHash(position: position, record: record)
    }
}
