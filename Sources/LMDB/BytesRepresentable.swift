/// A value that can lend its bytes as an LMDB key or value.
///
/// `[UInt8]`, `ArraySlice<UInt8>`, `String` (UTF-8) and `BigEndianKey` conform.
public protocol BytesRepresentable {
    /// Calls `body` with the bytes; they are valid only during the call.
    func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: BytesRepresentable where Element == UInt8 {
    public func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
    }
}

extension ArraySlice: BytesRepresentable where Element == UInt8 {
    public func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
    }
}

extension String: BytesRepresentable {
    public func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        // Native strings lend their UTF-8 in place; others are made contiguous on a copy.
        if let result = try utf8.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        var copy = self
        return try copy.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
}

/// A 64-bit unsigned integer as 8 big-endian bytes, so that byte order is numeric order
/// (what `MDB_APPEND` on position keys needs).
public struct BigEndianKey: BytesRepresentable, Sendable, Hashable {
    public var value: UInt64
    public init(_ value: UInt64) { self.value = value }

    public func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var bigEndian = value.bigEndian
        return try withUnsafeBytes(of: &bigEndian, body)
    }

    /// Decodes 8 big-endian bytes; nil when `bytes` is not 8 bytes long.
    @inlinable
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 8 else { return nil }
        self.value = UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))
    }

    /// Decodes 8 big-endian bytes; nil when `bytes` is not 8 bytes long.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 8 else { return nil }
        var v: UInt64 = 0
        for b in bytes { v = v << 8 | UInt64(b) }
        self.value = v
    }
}
