import CloudEvents
import Crypto

/// A SHA-256 digest in the log's hash chain.
public struct ChainHash: Sendable, Hashable, CustomStringConvertible {
    /// The 32 bytes of the digest.
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 32, "a chain hash has 32 bytes")
        self.bytes = bytes
    }

    /// The predecessor of the first event: 32 zero bytes.
    public static let genesis = ChainHash(bytes: [UInt8](repeating: 0, count: 32))

    /// Lower-case hexadecimal, as the `hash` and `predecessorhash` attributes show it.
    public var description: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
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
        _ event: CloudEvent, position: UInt64, version: UInt64, previousPosition: UInt64,
        recordedAt: Timestamp, occurredAt: Timestamp, predecessorHash: ChainHash, into buffer: inout [UInt8]
    ) -> ChainHash {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(format)
        buffer.append(contentsOf: repeatElement(0, count: 32))
        buffer.append(contentsOf: predecessorHash.bytes)
        appendUInt64(previousPosition, to: &buffer)
        appendUInt64(version, to: &buffer)
        appendUInt64(UInt64(bitPattern: recordedAt.microsecondsSinceEpoch), to: &buffer)
        appendUInt64(UInt64(bitPattern: occurredAt.microsecondsSinceEpoch), to: &buffer)
        appendString(event.id, to: &buffer)
        appendString(event.source, to: &buffer)
        appendString(event.type, to: &buffer)
        appendOptional(event.subject, to: &buffer)
        appendOptional(event.time, to: &buffer)
        appendOptional(event.datacontenttype, to: &buffer)
        appendOptional(event.dataschema, to: &buffer)
        appendLength(event.extensions.count, to: &buffer)
        for attribute in event.extensions {
            appendString(attribute.name, to: &buffer)
            switch attribute.value {
            case .string(let text): buffer.append(0); appendString(text, to: &buffer)
            case .number(let literal): buffer.append(1); appendString(literal, to: &buffer)
            case .bool(let flag): buffer.append(flag ? 2 : 3)
            default: preconditionFailure("CloudEvent extensions are strings, numbers or booleans")
            }
        }
        switch event.data {
        case nil: buffer.append(0)
        case .json(let text): buffer.append(1); appendLength(text.count, to: &buffer); buffer.append(contentsOf: text)
        case .base64(let text): buffer.append(2); appendString(text, to: &buffer)
        }
        let hash = computeHash(position: position, record: buffer)
        buffer.replaceSubrange(hashRange, with: hash.bytes)
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
        return ChainHash(bytes: Array(hasher.finalize()))
    }

    /// Decodes a whole record stored at `position`.
    /// - Throws: `StoreError.corruptRecord` when the bytes are not a valid record.
    static func decode(_ bytes: UnsafeRawBufferPointer, position: UInt64) throws(StoreError) -> StoredEvent {
        var reader = RecordReader(bytes: bytes)
        guard let event = reader.readEvent() else { throw StoreError.corruptRecord(position: position) }
        return event.withPosition(position)
    }

    /// Reads only `source` and `id` of a record (the idempotency check needs nothing more).
    static func sourceAndID(_ bytes: UnsafeRawBufferPointer) -> (source: String, id: String)? {
        var reader = RecordReader(bytes: bytes)
        guard reader.skip(headerSize), let id = reader.readString(), let source = reader.readString() else { return nil }
        return (source, id)
    }

    /// The stream links of a record: previous position in the customer's stream, and version.
    static func streamLinks(_ bytes: UnsafeRawBufferPointer) -> (previousPosition: UInt64, version: UInt64)? {
        var reader = RecordReader(bytes: bytes)
        guard reader.skip(65), let previous = reader.readUInt64(), let version = reader.readUInt64() else { return nil }
        return (previous, version)
    }

    /// The stored hash and the recorded time of a record.
    static func hashAndRecordedTime(_ bytes: UnsafeRawBufferPointer) -> (ChainHash, Timestamp)? {
        guard bytes.count >= headerSize else { return nil }
        var reader = RecordReader(bytes: bytes)
        guard reader.skip(1), let hash = reader.readBytes(32), reader.skip(48), let recorded = reader.readUInt64()
        else { return nil }
        return (ChainHash(bytes: hash), Timestamp(microsecondsSinceEpoch: Int64(bitPattern: recorded)))
    }

    private static func appendUInt64(_ value: UInt64, to buffer: inout [UInt8]) {
        var v = value.bigEndian
        withUnsafeBytes(of: &v) { buffer.append(contentsOf: $0) }
    }

    private static func appendLength(_ length: Int, to buffer: inout [UInt8]) {
        var value = UInt64(length)
        while value >= 0x80 {
            buffer.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        buffer.append(UInt8(value))
    }

    private static func appendString(_ text: String, to buffer: inout [UInt8]) {
        appendLength(text.utf8.count, to: &buffer)
        buffer.append(contentsOf: text.utf8)
    }

    private static func appendOptional(_ text: String?, to buffer: inout [UInt8]) {
        guard let text else { buffer.append(0); return }
        appendLength(text.utf8.count + 1, to: &buffer)
        buffer.append(contentsOf: text.utf8)
    }
}

/// Contiguous bytes that can be lent as a buffer: a record being built, or one read from LMDB.
protocol ContiguousBytesSlice {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: ContiguousBytesSlice where Element == UInt8 {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try withUnsafeBytes(body) }
}

extension UnsafeRawBufferPointer: ContiguousBytesSlice {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(self) }
}

/// Reads a record front to back; every `read*` consumes and returns nil past the end.
private struct RecordReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func skip(_ count: Int) -> Bool {
        guard offset + count <= bytes.count else { return false }
        offset += count
        return true
    }

    mutating func readByte() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, offset + count <= bytes.count else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func readUInt64() -> UInt64? {
        guard offset + 8 <= bytes.count else { return nil }
        var value: UInt64 = 0
        for i in offset..<offset + 8 { value = value << 8 | UInt64(bytes[i]) }
        offset += 8
        return value
    }

    mutating func readLength() -> Int? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = readByte() {
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value <= UInt64(Int32.max) ? Int(value) : nil }
            shift += 7
            if shift > 63 { return nil }
        }
        return nil
    }

    mutating func readString() -> String? {
        guard let length = readLength(), offset + length <= bytes.count else { return nil }
        defer { offset += length }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]), as: UTF8.self)
    }

    /// An optional string: nil on malformed input, .some(nil) when absent.
    mutating func readOptional() -> String?? {
        guard let marker = readLength() else { return nil }
        if marker == 0 { return .some(nil) }
        let length = marker - 1
        guard offset + length <= bytes.count else { return nil }
        defer { offset += length }
        return .some(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]), as: UTF8.self))
    }

    mutating func readEvent() -> StoredEvent? {
        guard readByte() == EventRecord.format, let hash = readBytes(32), let predecessor = readBytes(32),
            let previous = readUInt64(), let version = readUInt64(), let recorded = readUInt64(),
            let occurred = readUInt64(), let id = readString(), let source = readString(), let type = readString(),
            let subject = readOptional(), let time = readOptional(), let contentType = readOptional(),
            let schema = readOptional(), let extensionCount = readLength()
        else { return nil }
        var extensions: [CloudEventExtension] = []
        extensions.reserveCapacity(extensionCount)
        for _ in 0..<extensionCount {
            guard let name = readString(), let kind = readByte() else { return nil }
            let value: JSONValue
            switch kind {
            case 0: guard let text = readString() else { return nil }; value = .string(text)
            case 1: guard let text = readString() else { return nil }; value = .number(text)
            case 2: value = .bool(true)
            case 3: value = .bool(false)
            default: return nil
            }
            extensions.append(CloudEventExtension(name: name, value: value))
        }
        let data: CloudEventData?
        switch readByte() {
        case 0: data = nil
        case 1: guard let length = readLength(), let text = readBytes(length) else { return nil }; data = .json(text)
        case 2: guard let text = readString() else { return nil }; data = .base64(text)
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
            hash: ChainHash(bytes: hash), predecessorHash: ChainHash(bytes: predecessor), event: event)
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
