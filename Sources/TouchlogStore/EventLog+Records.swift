import LMDB

extension EventLog {
    /// Lends each record of the log from `position` on, in position order, to `body` inside `txn`,
    /// until `body` returns false or the log ends. The view is valid only during each call.
    ///
    /// With `undecodable`, a record that does not decode (or, in format 3, whose content cannot be
    /// read) is handed to it by position and the walk goes on (a reader that reports damage, such as the audit's fresh fold, must not stop at the first);
    /// without it, such a record throws.
    /// - Throws: `StoreError.corruptRecord` for a key that is not a position or (without
    ///   `undecodable`) a record that does not decode, or what `body` or `undecodable` throws.
    ///
    /// With `opening` false (the projections' fold, which reads only what format 3 keeps in the clear),
    /// records of format 3 are lent as their customer's erased view, their content not opened: the
    /// subject is `erased:HEX`, `customerKey` and every clear field as always. The log's own
    /// verification opens and checks every content.
    public func forEachRecord(
        from position: UInt64, in txn: borrowing some ReadableTransaction & ~Copyable,
        undecodable: ((UInt64) throws -> Void)? = nil, opening: Bool = true,
        _ body: (borrowing EventRecordView) throws -> Bool
    ) throws {
        let keys = KeyCache(opening: opening)
        try txn.withCursor(on: databases.events) { cursor in
            try cursor.unsafeForEach(from: BigEndianKey(position)) { key, value in
                guard let found = BigEndianKey(bytes: key)?.value else {
                    throw StoreError.corruptRecord(position: position)
                }
                let more: Bool?
                do {
                    more = try withView(value, at: found, keys: keys, txn, body)
                } catch StoreError.sealedContent where undecodable != nil {
                    more = nil  // content that cannot be read is damage a reporting reader reports
                }
                guard let more else {
                    guard let undecodable else { throw StoreError.corruptRecord(position: found) }
                    try undecodable(found)
                    return true
                }
                return more
            }
        }
    }

    /// Lends the record at `position` to `body` inside `txn`; nil when the log has no event there.
    /// - Throws: `StoreError.corruptRecord` when the record does not decode, or what `body` throws.
    public func withRecord<R>(
        at position: UInt64, in txn: borrowing some ReadableTransaction & ~Copyable, opening: Bool = true,
        _ body: (borrowing EventRecordView) throws -> R
    ) throws -> R? {
        try txn.withUnsafeValue(forKey: BigEndianKey(position), in: databases.events) { value in
            guard let result = try withView(value, at: position, keys: KeyCache(opening: opening), txn, body)
            else {
                throw StoreError.corruptRecord(position: position)
            }
            return result
        }
    }
}
