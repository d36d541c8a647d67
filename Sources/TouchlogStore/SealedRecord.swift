import CloudEvents
import Crypto
import Foundation
import SystemPackage
import TouchlogDomain

/// A customer's pseudonym in a store of format 3: 16 random bytes drawn when the customer's first event
/// is appended. It keys the customer's stream (`streams`), its key (`customerkeys`) and its
/// projection records, so no index holds the customer id in the clear.
public struct Pseudonym: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 16
    public let bytes: [UInt8]

    init(bytes: [UInt8]) {
        precondition(bytes.count == Pseudonym.byteCount)
        self.bytes = bytes
    }

    init(unsafeBytes raw: UnsafeRawBufferPointer) { self.init(bytes: Array(raw.prefix(Pseudonym.byteCount))) }

    static func random() -> Pseudonym { Pseudonym(bytes: SecureRandom.bytes(byteCount)) }

    /// Lower-case hexadecimal.
    public var hex: String { bytes.withUnsafeBytes { lowerHex($0) } }
    public var description: String { hex }

    /// The name an erased customer's events show as their subject: `erased:` and the hexadecimal.
    public var erasedName: String { Pseudonym.erasedPrefix + hex }
    /// The subject events show in a backup made without keys: `withheld:` and the hexadecimal.
    public var withheldName: String { "withheld:" + hex }
    /// The name the projections key the customer by (`ps:` and the hexadecimal), live or erased.
    public var projectionName: String { Pseudonym.projectionPrefix + hex }

    public static let erasedPrefix = "erased:"
    public static let projectionPrefix = "ps:"

    /// The pseudonym an `erased:HEX` or `ps:HEX` name gives; nil for any other text.
    public init?(name: String) {
        let hex: Substring
        if name.hasPrefix(Pseudonym.erasedPrefix) {
            hex = name.dropFirst(Pseudonym.erasedPrefix.count)
        } else if name.hasPrefix(Pseudonym.projectionPrefix) {
            hex = name.dropFirst(Pseudonym.projectionPrefix.count)
        } else {
            return nil
        }
        guard hex.utf8.count == 2 * Pseudonym.byteCount else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes: bytes)
    }
}

/// Random bytes from the system's generator.
enum SecureRandom {
    /// `count` bytes from the kernel's generator (`/dev/urandom`, kept open), in as few reads as it
    /// allows: a batch draws the salts and nonces of all its events at once (a system call per event
    /// cost a fifth of the append rate).
    static func bytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        bytes.withUnsafeMutableBytes { buffer in
            while filled < count {
                do {
                    let got = try urandom.read(
                        into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]),
                        retryOnInterrupt: true)
                    precondition(got > 0, "/dev/urandom ended")
                    filled += got
                } catch {
                    preconditionFailure("reading /dev/urandom failed: \(error)")
                }
            }
        }
        return bytes
    }

    private static let urandom: FileDescriptor = {
        do { return try FileDescriptor.open("/dev/urandom", .readOnly, options: [.closeOnExec]) } catch {
            preconditionFailure("/dev/urandom cannot be opened: \(error)")
        }
    }()
}

/// What the log knows of a customer in a store of format 3: the pseudonym, and the key while the
/// customer is not erased.
struct CustomerKey: @unchecked Sendable {
    // @unchecked Sendable: `SymmetricKey` is an immutable value (its bytes are never changed once
    // made), so sharing it between the thread that prepares a batch and the writer is safe.
    var pseudonym: Pseudonym
    /// The AES-256-GCM key; nil once erased.
    var key: SymmetricKey?
    /// Drawn by this batch: its `customerids` and `customerkeys` entries are written with it.
    var isNew = false
    /// The key is not in this copy of the store (a backup without keys): not erased, not readable.
    var isWithheld = false
}

/// The record of format 3 (docs/STORAGE.md, "format 3"): the event's metadata in the clear, the
/// customer's pseudonym, and a salted commitment to the personal content, which is sealed (AES-GCM under
/// the customer's key) in the `content` database under the same position.
///
///     0    u8    record format (3)
///     1    32    hash = SHA-256(position ‖ bytes 33… of this record)
///     33   32    predecessor hash
///     65   u64   previous position in the stream
///     73   u64   version in the stream
///     81   i64   recorded time
///     89   i64   event time
///     97   16    pseudonym
///     113  32    commitment: SHA-256(salt ‖ personal content); zeros when there is none
///     145  u8    content: 0 none, 1 sealed in `content`
///     146  ...   id, source, type, time?, datacontenttype?, dataschema?, clear extensions, clear data
///
/// One owner: this writes and reads format-3 records and content; readers get a view of the event in
/// the layout of format 1 (`logicalRecord`), so every reader above `EventRecordView` reads both formats.
enum SealedRecord {
    static let format: UInt8 = 3
    static let pseudonymOffset = 97
    static let commitmentOffset = 113
    static let contentKindOffset = 145
    static let fieldsOffset = 146
    static let saltCount = 16
    /// The random bytes one event's sealing takes: its salt, then its nonce.
    static let entropyCount = saltCount + 12
    /// The format byte of a `content` value.
    static let contentFormat: UInt8 = 1

    enum ContentKind: UInt8 {
        case none = 0
        case sealed = 1
    }

    /// Buffers one thread reuses from event to event while it seals (`write`).
    struct Scratch {
        var plain = ByteSink()
        var record = ByteSink()
        var clear: [CloudEventExtension] = []
        var personal: [CloudEventExtension] = []

        init() {
            plain.bytes.reserveCapacity(1024)
            record.bytes.reserveCapacity(1024)
        }
    }

    /// Encodes `event` for `position`: its record at the end of `records`, with the hash and the
    /// predecessor hash left zero (`chain` fills them in once the predecessor's hash is known), and, for
    /// a customer with a key, its sealed content at the end of `contents` (nothing when there is none).
    /// `entropy` is the event's salt and nonce.
    static func write(
        _ event: borrowing CloudEvent, customer: CustomerKey, position: UInt64, version: UInt64,
        previousPosition: UInt64, recordedAt: Timestamp, occurredAt: Timestamp,
        entropy: UnsafeRawBufferPointer, records: RecordBuffer, contents: RecordBuffer, scratch: inout Scratch
    ) {
        precondition(entropy.count == entropyCount, "a salt and a nonce")
        scratch.clear.removeAll(keepingCapacity: true)
        scratch.personal.removeAll(keepingCapacity: true)
        for attribute in event.extensions {
            if Catalog.isPersonal(extension: attribute.name) {
                scratch.personal.append(attribute)
            } else {
                scratch.clear.append(attribute)
            }
        }
        var commitment: SHA256Digest?
        if let key = customer.key {
            scratch.plain.bytes.removeAll(keepingCapacity: true)
            scratch.plain.bytes += entropy.prefix(saltCount)
            scratch.plain.string(event.subject ?? "")
            scratch.plain.extensions(scratch.personal)
            scratch.plain.data(event.data)
            commitment = SHA256.hash(data: scratch.plain.bytes)
            // Sealing cannot fail for a 256-bit key and a fresh nonce.
            let nonce = try! AES.GCM.Nonce(data: UnsafeRawBufferPointer(rebasing: entropy[saltCount...]))
            var bigEndian = position.bigEndian
            let box = Swift.withUnsafeBytes(of: &bigEndian) { position in
                try! AES.GCM.seal(scratch.plain.bytes, using: key, nonce: nonce, authenticating: position)
            }
            box.combined!.withUnsafeBytes { combined in
                let target = contents.extend(by: 1 + combined.count)
                target[0] = contentFormat
                UnsafeMutableRawBufferPointer(rebasing: target[1...]).copyMemory(from: combined)
            }
        }
        scratch.record.bytes.removeAll(keepingCapacity: true)
        scratch.record.byte(format)
        // The hash and the predecessor hash, filled in by `chain`.
        scratch.record.bytes += repeatElement(0, count: 2 * 32)
        scratch.record.uint64(previousPosition)
        scratch.record.uint64(version)
        scratch.record.uint64(UInt64(bitPattern: recordedAt.microsecondsSinceEpoch))
        scratch.record.uint64(UInt64(bitPattern: occurredAt.microsecondsSinceEpoch))
        customer.pseudonym.bytes.withUnsafeBytes { scratch.record.bytes += $0 }
        if let commitment {
            commitment.withUnsafeBytes { scratch.record.bytes += $0 }
        } else {
            scratch.record.bytes += repeatElement(0, count: 32)
        }
        scratch.record.byte(commitment == nil ? ContentKind.none.rawValue : ContentKind.sealed.rawValue)
        scratch.record.string(event.id)
        scratch.record.string(event.source)
        scratch.record.string(event.type)
        scratch.record.optional(event.time)
        scratch.record.optional(event.datacontenttype)
        scratch.record.optional(event.dataschema)
        scratch.record.extensions(scratch.clear)
        if let text = clearData(event.data, type: event.type) {
            scratch.record.byte(EventRecordView.DataKind.json.rawValue)
            scratch.record.length(text.count)
            scratch.record.bytes += text
        } else {
            scratch.record.byte(EventRecordView.DataKind.absent.rawValue)
        }
        scratch.record.bytes.withUnsafeBytes { records.extend(by: $0.count).copyMemory(from: $0) }
    }

    /// Fills in the predecessor hash and the hash of `record` (as `write` left it) stored at `position`
    /// after an event whose hash is `predecessor`, and returns its hash.
    static func chain(_ record: UnsafeMutableRawBufferPointer, position: UInt64, after predecessor: ChainHash)
        -> ChainHash
    {
        predecessor.withUnsafeBytes {
            UnsafeMutableRawBufferPointer(rebasing: record[EventRecord.predecessorHashRange]).copyMemory(
                from: $0)
        }
        let hash = ChainHash(position: position, record: UnsafeRawBufferPointer(record))
        hash.withUnsafeBytes {
            UnsafeMutableRawBufferPointer(rebasing: record[EventRecord.hashRange]).copyMemory(from: $0)
        }
        return hash
    }

    static func positionBytes(_ position: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: position >> (56 - 8 * UInt64($0))) }
    }

    /// The members of `data` that `Catalog.clearDataMembers(ofType:)` names, as a JSON object of their
    /// text as received (in the order received); nil when there are none.
    static func clearData(_ data: CloudEventData?, type: String) -> [UInt8]? {
        guard case .json(let text) = data, let known = KnownType(name: type) else { return nil }
        let wanted = clearMembers[Int(known.rawValue)]
        guard !wanted.isEmpty else { return nil }
        return text.withUnsafeBytes { raw -> [UInt8]? in
            var out: [UInt8] = [UInt8(ascii: "{")]
            do {
                var members = try JSONObjectMembers(raw)
                while let member = try members.next() {
                    let key = raw[member.key]
                    guard !member.keyHasEscapes, wanted.contains(where: { $0.elementsEqual(key) }) else {
                        continue
                    }
                    if out.count > 1 { out.append(UInt8(ascii: ",")) }
                    out += raw[(member.key.lowerBound - 1)..<(member.key.upperBound + 1)]
                    out.append(UInt8(ascii: ":"))
                    switch member.value {
                    case .string(let range, _): out += raw[(range.lowerBound - 1)..<(range.upperBound + 1)]
                    case .number(let range), .container(let range): out += raw[range]
                    case .bool(let flag): out += Array((flag ? "true" : "false").utf8)
                    case .null: out += Array("null".utf8)
                    }
                }
            } catch {
                return nil  // not an object (null, or any JSON of an unknown type): all of it is personal
            }
            guard out.count > 1 else { return nil }
            out.append(UInt8(ascii: "}"))
            return out
        }
    }

    /// `Catalog.clearDataMembers(ofType:)` as UTF-8, by type code (filled once).
    private static let clearMembers: [[[UInt8]]] = {
        var members = [[[UInt8]]](repeating: [], count: Int(KnownType.allCases.map(\.rawValue).max()!) + 1)
        for type in KnownType.allCases {
            members[Int(type.rawValue)] = Catalog.clearDataMembers(ofType: type.name).map { Array($0.utf8) }
        }
        return members
    }()

    // MARK: Reading

    /// The fields of a stored record of format 3, found in one pass; nil when the bytes are not one.
    struct Fields {
        var pseudonym: Pseudonym
        var commitment: [UInt8]
        var contentKind: ContentKind
        var id: Range<Int>
        var source: Range<Int>
        /// From `type` to the end of the clear extensions: the same bytes as in a record of format 1,
        /// except that the subject (between type and time) is not there.
        var type: Range<Int>
        var afterType: Range<Int>
        var extensionCount: Int
        var extensions: Range<Int>
        var data: Range<Int>

        init?(_ bytes: UnsafeRawBufferPointer) {
            var r = ByteReader(bytes)
            guard r.readByte() == SealedRecord.format, r.skip(SealedRecord.pseudonymOffset - 1),
                let pseudonym = r.readBytes(Pseudonym.byteCount), let commitment = r.readBytes(32),
                let kind = r.readByte().flatMap(ContentKind.init(rawValue:)),
                let id = r.range(), let source = r.range(), let type = r.range()
            else { return nil }
            let afterTypeStart = r.offset
            guard r.optionalRange(), r.optionalRange(), r.optionalRange() else { return nil }
            let afterType = afterTypeStart..<r.offset
            guard let (count, extensions) = r.extensions() else { return nil }
            let dataStart = r.offset
            guard let dataKind = r.readByte() else { return nil }
            if dataKind == EventRecordView.DataKind.json.rawValue {
                guard r.range() != nil else { return nil }
            } else if dataKind != EventRecordView.DataKind.absent.rawValue {
                return nil
            }
            guard r.isAtEnd else { return nil }
            self.pseudonym = Pseudonym(bytes: pseudonym)
            self.commitment = commitment
            contentKind = kind
            (self.id, self.source, self.type, self.afterType) = (id, source, type, afterType)
            extensionCount = count
            self.extensions = extensions
            data = dataStart..<r.offset
        }
    }

    /// `source` and `id` of a stored record of format 3; nil when it is not one.
    static func identity(_ bytes: UnsafeRawBufferPointer) -> (source: String, id: String)? {
        guard let fields = Fields(bytes) else { return nil }
        return (
            String(decoding: bytes[fields.source], as: UTF8.self),
            String(decoding: bytes[fields.id], as: UTF8.self)
        )
    }

    /// Why the personal content of a record cannot be read.
    enum ContentProblem: Error {
        case missingKey
        case missingContent
        case malformed
        case notAuthentic
        case commitmentMismatch
    }

    /// Opens a `content` value: the plaintext (salt ‖ personal content) after checking that it is
    /// authentic (AES-GCM under `key`, bound to `position`) and that its SHA-256 is `commitment`.
    static func open(
        content: UnsafeRawBufferPointer, key: SymmetricKey, position: UInt64, commitment: [UInt8]
    ) throws(ContentProblem) -> [UInt8] {
        try withOpened(content: content, key: key, position: position, commitment: commitment) { Array($0) }
    }

    /// `open(content:key:position:commitment:)` lending the plaintext to `body` instead of copying it
    /// out: what the audit uses, which opens every content and keeps none.
    static func withOpened<R>(
        content: UnsafeRawBufferPointer, key: SymmetricKey, position: UInt64, commitment: [UInt8],
        _ body: (UnsafeRawBufferPointer) -> R
    ) throws(ContentProblem) -> R {
        guard content.count > 1 + 12 + 16, content[0] == contentFormat else { throw .malformed }
        let plain: Data
        do {
            let box = try AES.GCM.SealedBox(combined: content[1...])
            var bigEndian = position.bigEndian
            plain = try Swift.withUnsafeBytes(of: &bigEndian) {
                try AES.GCM.open(box, using: key, authenticating: $0)
            }
        } catch {
            throw .notAuthentic
        }
        guard plain.count >= saltCount, SHA256.hash(data: plain).elementsEqual(commitment) else {
            throw .commitmentMismatch
        }
        return plain.withUnsafeBytes { body($0) }
    }

    /// Where the parts of opened content (salt ‖ subject ‖ personal extensions ‖ data) lie in `plain`;
    /// nil when it does not decode. `data` starts with its kind byte.
    static func personalContent(_ plain: UnsafeRawBufferPointer) -> (
        subject: Range<Int>, count: Int, extensions: Range<Int>, data: Range<Int>
    )? {
        var r = ByteReader(plain)
        r.offset = saltCount
        guard let subject = r.range() else { return nil }
        guard let (count, extensions) = r.extensions() else { return nil }
        let dataStart = r.offset
        guard let kind = r.readByte() else { return nil }
        if kind != EventRecordView.DataKind.absent.rawValue {
            guard r.range() != nil else { return nil }
        }
        guard r.isAtEnd else { return nil }
        return (subject, count, extensions, dataStart..<r.offset)
    }

    /// The event of the stored record `bytes` (fields `fields`) in the layout of format 1, which
    /// `EventRecordView` reads: with the personal content `plain` (salt ‖ content, from `open`), or, for
    /// an erased customer (`plain` nil), with `erased:HEX` as the subject, no personal attributes, the
    /// clear members of `data` and the extension `erased` (true).
    /// With `withheld` (a backup without keys), the same as erased but `withheld:HEX` and `withheld`.
    static func logicalRecord(
        _ bytes: UnsafeRawBufferPointer, _ fields: Fields, plain: [UInt8]?, withheld: Bool = false
    ) -> [UInt8]? {
        var w = ByteSink()
        w.bytes.reserveCapacity(bytes.count + (plain?.count ?? 0) + 16)
        w.byte(EventRecord.format)
        w.bytes += bytes[1..<EventRecord.headerSize]
        w.bytes +=
            bytes[fields.id.lowerBound - EventRecord.lengthSize(fields.id.count)..<fields.type.upperBound]
        if let plain {
            let parsed: (subject: [UInt8], count: Int, extensions: Range<Int>, data: Range<Int>)? =
                plain.withUnsafeBytes { raw in
                    personalContent(raw).map { (Array(raw[$0.subject]), $0.count, $0.extensions, $0.data) }
                }
            guard let parsed else { return nil }
            w.optional(bytes: parsed.subject)
            w.bytes += bytes[fields.afterType]
            w.length(fields.extensionCount + parsed.count)
            w.bytes += bytes[fields.extensions]
            w.bytes += plain[parsed.extensions]
            w.bytes += plain[parsed.data]
            return w.bytes
        }
        w.optional(
            bytes: Array((withheld ? fields.pseudonym.withheldName : fields.pseudonym.erasedName).utf8))
        w.bytes += bytes[fields.afterType]
        w.length(fields.extensionCount + 1)
        w.bytes += bytes[fields.extensions]
        w.string(withheld ? "withheld" : "erased")
        w.byte(EventRecordView.ExtensionKind.true.rawValue)
        w.bytes += bytes[fields.data]
        return w.bytes
    }

}

/// Writes the store's encodings (big-endian integers, LEB128 lengths, strings as length and UTF-8, the
/// extensions and data of an event): one owner of the field layout for the records of every format,
/// whatever memory they are written to.
protocol RecordEncoder {
    mutating func byte(_ value: UInt8)
    mutating func append(_ raw: UnsafeRawBufferPointer)
}

extension RecordEncoder {
    @inline(__always) mutating func uint64(_ value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { append($0) }
    }

    @inline(__always) mutating func length(_ length: Int) {
        var value = UInt64(length)
        while value >= 0x80 {
            byte(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        byte(UInt8(value))
    }

    /// The UTF-8 of `text`, copied in one piece when the string is stored contiguously (appending the
    /// view element by element is several times slower).
    @inline(__always) mutating func utf8(_ text: String) {
        if text.utf8.withContiguousStorageIfAvailable({ append(UnsafeRawBufferPointer($0)) }) == nil {
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

    mutating func optional(bytes text: [UInt8]) {
        length(text.count + 1)
        text.withUnsafeBytes { append($0) }
    }

    /// Extension attributes as a record holds them: a count, then name, kind byte and text.
    mutating func extensions(_ attributes: [CloudEventExtension]) {
        length(attributes.count)
        for attribute in attributes {
            string(attribute.name)
            switch attribute.value {
            case .string(let text):
                byte(EventRecordView.ExtensionKind.string.rawValue)
                string(text)
            case .number(let literal):
                byte(EventRecordView.ExtensionKind.number.rawValue)
                string(literal)
            case .bool(let flag):
                byte(
                    flag
                        ? EventRecordView.ExtensionKind.true.rawValue
                        : EventRecordView.ExtensionKind.false.rawValue)
            default: preconditionFailure("CloudEvent extensions are strings, numbers or booleans")
            }
        }
    }

    /// `data` as a record holds it: a kind byte and the text.
    mutating func data(_ data: CloudEventData?) {
        switch data {
        case nil: byte(EventRecordView.DataKind.absent.rawValue)
        case .json(let text):
            byte(EventRecordView.DataKind.json.rawValue)
            length(text.count)
            text.withUnsafeBytes { append($0) }
        case .base64(let text):
            byte(EventRecordView.DataKind.base64.rawValue)
            string(text)
        }
    }
}

/// Appends the store's encodings to a growing array.
struct ByteSink: RecordEncoder {
    var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func append(_ raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }
}

extension ByteReader {
    /// The range of a string (LEB128 length, bytes), consumed.
    fileprivate mutating func range() -> Range<Int>? {
        guard let length = readLength(), length <= bytes.count - offset else { return nil }
        defer { offset += length }
        return offset..<offset + length
    }

    /// The extension attributes as a record holds them (a count, then name, kind byte and text
    /// each), consumed: their count and the range of their bytes after the count.
    fileprivate mutating func extensions() -> (count: Int, range: Range<Int>)? {
        guard let count = readLength() else { return nil }
        let start = offset
        for _ in 0..<count {
            guard range() != nil, let kind = readByte().flatMap(EventRecordView.ExtensionKind.init(rawValue:))
            else { return nil }
            if kind == .string || kind == .number, range() == nil { return nil }
        }
        return (count, start..<offset)
    }

    /// Skips an optional string (LEB128 length + 1, 0 = absent); false on bad input.
    fileprivate mutating func optionalRange() -> Bool {
        guard let marker = readLength() else { return false }
        return marker == 0 || skip(marker - 1)
    }
}
