import CLMDB
import SystemPackage

/// A cursor over one database. Exists only inside `withCursor`, lent `borrowing`: it cannot be copied,
/// stored or kept past its transaction, and its `MDB_cursor` pointer is internal.
///
/// Positioning methods return whether an entry is there; the entry's bytes are lent to closures by
/// `withUnsafeCurrent` and copied by `current`.
public struct Cursor: ~Copyable {
    let pointer: OpaquePointer

    private func move(_ op: MDB_cursor_op, key: UnsafeRawBufferPointer? = nil) throws(LMDBError) -> Bool {
        try Cursor.move(pointer, op, key: key)
    }

    private static func move(
        _ pointer: OpaquePointer, _ op: MDB_cursor_op, key: UnsafeRawBufferPointer?
    ) throws(LMDBError) -> Bool {
        var k = MDB_val()
        if let key { k = MDB_val(bytes: key) }
        var v = MDB_val()
        let rc = mdb_cursor_get(pointer, &k, &v, op)
        if rc == MDB_NOTFOUND { return false }
        try check(rc)
        return true
    }

    /// Moves to the first entry (`MDB_FIRST`).
    public func first() throws(LMDBError) -> Bool { try move(MDB_FIRST) }
    /// Moves to the last entry (`MDB_LAST`).
    public func last() throws(LMDBError) -> Bool { try move(MDB_LAST) }
    /// Moves to the next entry (`MDB_NEXT`).
    public func next() throws(LMDBError) -> Bool { try move(MDB_NEXT) }
    /// Moves to the previous entry (`MDB_PREV`).
    public func previous() throws(LMDBError) -> Bool { try move(MDB_PREV) }

    /// Moves to the next value of the current key in a duplicate-sorted database (`MDB_NEXT_DUP`).
    public func nextDuplicate() throws(LMDBError) -> Bool { try move(MDB_NEXT_DUP) }

    /// Moves to the entry whose key is exactly `key` (`MDB_SET_KEY`); false when absent.
    public func seek(to key: some BytesRepresentable) throws -> Bool {
        let pointer = self.pointer
        return try key.withKeyBytes { bytes in try Cursor.move(pointer, MDB_SET_KEY, key: bytes) }
    }

    /// Moves to the first entry whose key is greater than or equal to `key` (`MDB_SET_RANGE`).
    public func seek(atOrAfter key: some BytesRepresentable) throws -> Bool {
        let pointer = self.pointer
        return try key.withKeyBytes { bytes in try Cursor.move(pointer, MDB_SET_RANGE, key: bytes) }
    }

    /// Lends the current entry's key and value to `body` (`MDB_GET_CURRENT`); nil when unpositioned.
    public func withUnsafeCurrent<R>(
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        var k = MDB_val()
        var v = MDB_val()
        let rc = mdb_cursor_get(pointer, &k, &v, MDB_GET_CURRENT)
        guard rc == MDB_SUCCESS else {
            // mdb_cursor_get answers EINVAL for MDB_GET_CURRENT on a cursor that is not positioned.
            if rc == MDB_NOTFOUND || rc == Errno.invalidArgument.rawValue { return nil }
            throw LMDBError(rawValue: rc)
        }
        return try body(k.buffer, v.buffer)
    }

    /// A copy of the current entry; nil when unpositioned.
    public func current() throws -> (key: [UInt8], value: [UInt8])? {
        try withUnsafeCurrent { (Array($0), Array($1)) }
    }

    /// Calls `body` with each entry from the first key at or after `start` (or the first entry) in key
    /// order, until `body` returns false or the entries end. The bytes are valid only during each call.
    public func unsafeForEach(
        from start: (some BytesRepresentable)?,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        var k = MDB_val()
        var v = MDB_val()
        var rc: Int32
        if let start {
            rc = start.withKeyBytes { bytes in
                k = MDB_val(bytes: bytes)
                return mdb_cursor_get(pointer, &k, &v, MDB_SET_RANGE)
            }
        } else {
            rc = mdb_cursor_get(pointer, &k, &v, MDB_FIRST)
        }
        while rc == MDB_SUCCESS {
            guard try body(k.buffer, v.buffer) else { return }
            rc = mdb_cursor_get(pointer, &k, &v, MDB_NEXT)
        }
        if rc != MDB_NOTFOUND { try check(rc) }
    }
}
