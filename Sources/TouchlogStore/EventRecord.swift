import CloudEvents
import TouchlogDomain

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
///
/// One owner per side: this writes records, `EventRecordView` is the only reader of their bytes, and
/// `ChainHash(position:record:)` hashes them.
enum EventRecord {
    static let format: UInt8 = 1
    /// The fixed-size header; the variable-length fields start here.
    static let headerSize = 97
    static let hashRange = 1..<33
    static let predecessorHashRange = 33..<65
    static let previousPositionOffset = 65
    static let versionOffset = 73
    static let recordedTimeOffset = 81
    static let eventTimeOffset = 89

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
        w.offset = hashRange.upperBound  // the hash, filled in below
        predecessorHash.withUnsafeBytes { w.append($0) }
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
        w.extensions(event.extensions)
        w.data(event.data)
        precondition(w.offset == target.count, "record size mismatch")
        let hash = ChainHash(position: position, record: UnsafeRawBufferPointer(target))
        hash.withUnsafeBytes {
            target.baseAddress!.advanced(by: hashRange.lowerBound).copyMemory(
                from: $0.baseAddress!, byteCount: hashRange.count)
        }
        return hash
    }

    /// The bytes of `length` as LEB128.
    static func lengthSize(_ length: Int) -> Int {
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
}

/// Writes a record front to back into memory of exactly the right size.
private struct RecordWriter: RecordEncoder {
    let target: UnsafeMutableRawBufferPointer
    var offset = 0

    init(_ target: UnsafeMutableRawBufferPointer) { self.target = target }

    @inline(__always) mutating func byte(_ value: UInt8) {
        target[offset] = value
        offset += 1
    }

    @inline(__always) mutating func append(_ source: UnsafeRawBufferPointer) {
        guard let base = source.baseAddress, source.count > 0 else { return }
        precondition(offset + source.count <= target.count)
        (target.baseAddress! + offset).copyMemory(from: base, byteCount: source.count)
        offset += source.count
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
