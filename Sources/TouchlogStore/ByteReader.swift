import TouchlogDomain

/// Reads the store's compact binary encodings (event records, projection records) front to back.
///
/// Every `read*` consumes what it reads and returns nil past the end or on malformed input, so a
/// decoder is a chain of `guard let`s. Integers are big-endian (`readUInt64`) or LEB128 (`readVarint`).
/// The methods are inlinable: decoders in other modules (the projections' fold) call them per field.
public struct ByteReader {
    /// The bytes being read; valid only as long as whoever lent them says (e.g. an LMDB transaction).
    public let bytes: UnsafeRawBufferPointer
    /// Where the next read starts.
    public var offset = 0

    @inlinable public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Whether every byte has been read.
    @inlinable public var isAtEnd: Bool { offset == bytes.count }

    /// Moves past `count` bytes; false when fewer are left.
    @inlinable public mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, count <= bytes.count - offset else { return false }
        offset += count
        return true
    }

    @inlinable public mutating func readByte() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// A copy of the next `count` bytes.
    @inlinable public mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, count <= bytes.count - offset else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// 8 bytes, big-endian.
    @inlinable public mutating func readUInt64() -> UInt64? {
        guard 8 <= bytes.count - offset else { return nil }
        let value = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        offset += 8
        return value
    }

    /// An unsigned LEB128 integer (at most 10 bytes).
    @inlinable public mutating func readVarint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = readByte() {
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
            if shift > 63 { return nil }
        }
        return nil
    }

    /// A LEB128 length or count, at most `Int32.max`.
    @inlinable public mutating func readLength() -> Int? {
        readVarint().flatMap { $0 <= UInt64(Int32.max) ? Int($0) : nil }
    }

    /// A string: LEB128 length, then UTF-8 bytes.
    @inlinable public mutating func readString() -> String? {
        guard let length = readLength(), length <= bytes.count - offset else { return nil }
        defer { offset += length }
        return String(
            decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]), as: UTF8.self)
    }

    /// An optional string: LEB128 (length + 1), 0 when absent. Nil on malformed input, .some(nil) when absent.
    @inlinable public mutating func readOptionalString() -> String?? {
        guard let marker = readLength() else { return nil }
        if marker == 0 { return .some(nil) }
        let length = marker - 1
        guard length <= bytes.count - offset else { return nil }
        defer { offset += length }
        return .some(
            String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]), as: UTF8.self)
        )
    }
}
