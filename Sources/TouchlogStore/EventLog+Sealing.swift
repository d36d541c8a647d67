import Crypto
import LMDB

/// The customers of a store of format 3: their pseudonyms and keys, and the reading of sealed records
/// (docs/STORAGE.md, "format 3").
extension EventLog {
    /// The store's format: 2 (plaintext records) or 3 (personal content sealed per customer).
    public var format: Int { databases.sealing == nil ? 2 : 3 }

    /// The state byte of a `customerkeys` value.
    enum KeyState: UInt8 {
        case live = 1
        case erased = 2
        /// Not in this copy: a backup made without keys (`Store.backup(to:withKeys:)`).
        case withheld = 3
    }

    /// What `customerkeys` holds for a pseudonym.
    enum StoredKey {
        case live(SymmetricKey)
        case erased
        case withheld
    }

    /// HMAC-SHA256 of the customer id under the store's secret: the key of `customerids`.
    static func customerIDHash(_ customer: String, secret: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(customer.utf8), using: SymmetricKey(data: secret)))
    }

    /// The `customerkeys` value of a live customer.
    static func liveKeyValue(_ key: SymmetricKey) -> [UInt8] {
        [KeyState.live.rawValue] + key.withUnsafeBytes { Array($0) }
    }

    /// The key of `pseudonym`; nil when `customerkeys` has no entry for it.
    /// - Throws: `StoreError.sealedContent` for an entry that does not decode.
    func storedKey(
        _ pseudonym: Pseudonym, _ sealing: Store.Sealing,
        _ txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> StoredKey? {
        let value = try txn.value(forKey: pseudonym.bytes, in: sealing.customerKeys)
        guard let value else { return nil }
        if value == [KeyState.erased.rawValue] { return .erased }
        if value == [KeyState.withheld.rawValue] { return .withheld }
        guard value.count == 33, value[0] == KeyState.live.rawValue else {
            throw StoreError.sealedContent(
                position: 0,
                reason: "the key entry of pseudonym \(pseudonym.hex) in 'customerkeys' does not decode")
        }
        return .live(SymmetricKey(data: value[1...]))
    }

    /// The pseudonym and key of `customer` in a store of format 3; nil in format 2 or when the store
    /// has no event of that customer. An `erased:HEX` or `ps:HEX` name gives that pseudonym's customer.
    func customerKey(_ customer: String, _ txn: borrowing some ReadableTransaction & ~Copyable) throws
        -> CustomerKey?
    {
        guard let sealing = databases.sealing else { return nil }
        let pseudonym: Pseudonym
        if let named = Pseudonym(name: customer) {
            pseudonym = named
        } else {
            let hash = EventLog.customerIDHash(customer, secret: sealing.secret)
            guard let bytes = try txn.value(forKey: hash, in: sealing.customerIDs) else { return nil }
            guard bytes.count == Pseudonym.byteCount else {
                throw StoreError.sealedContent(
                    position: 0, reason: "an entry of 'customerids' is \(bytes.count) bytes, not a pseudonym")
            }
            pseudonym = Pseudonym(bytes: bytes)
        }
        switch try storedKey(pseudonym, sealing, txn) {
        case .live(let key): return CustomerKey(pseudonym: pseudonym, key: key)
        case .erased: return CustomerKey(pseudonym: pseudonym, key: nil)
        case .withheld: return CustomerKey(pseudonym: pseudonym, key: nil, isWithheld: true)
        case nil:
            if Pseudonym(name: customer) != nil { return nil }
            throw StoreError.sealedContent(
                position: 0, reason: "customer pseudonym \(pseudonym.hex) has no entry in 'customerkeys'")
        }
    }

    /// The pseudonym of `customer` in a store of format 3 (nil in format 2 or for an unknown customer).
    public func pseudonym(ofCustomer customer: String) throws -> Pseudonym? {
        try storage("looking up customer '\(customer)'") {
            try environment.withReadTransaction { txn in try customerKey(customer, txn)?.pseudonym }
        }
    }

    /// The head of the stream of `pseudonym`.
    func readStream(pseudonym: Pseudonym, _ txn: borrowing some ReadableTransaction & ~Copyable) throws
        -> StreamHead?
    {
        try txn.withUnsafeValue(forKey: pseudonym.bytes, in: databases.streams) { StreamHead(decoding: $0) }
            ?? nil
    }

    /// The keys read so far by one reader, by pseudonym (nil: erased): one lookup per customer.
    final class KeyCache {
        var keys: [Pseudonym: StoredKey] = [:]
        /// Whether content is opened at all (`forEachRecord(opening:)`).
        let opening: Bool
        init(opening: Bool = true) { self.opening = opening }
    }

    /// Lends `body` a view of the record `value` stored at `position`: a record of format 1 as it is, one
    /// of format 3 with its personal content opened (or shown erased). Nil when the bytes are no record.
    /// - Throws: `StoreError.sealedContent` when the content of a customer who is not erased cannot be
    ///   read (no key, no content, not authentic, not the committed content), or what `body` throws.
    func withView<R>(
        _ value: UnsafeRawBufferPointer, at position: UInt64, keys: KeyCache,
        _ txn: borrowing some ReadableTransaction & ~Copyable, _ body: (borrowing EventRecordView) throws -> R
    ) throws -> R? {
        guard value.first == SealedRecord.format else {
            guard let record = EventRecordView(bytes: value, position: position) else { return nil }
            return try body(record)
        }
        guard let sealing = databases.sealing, let fields = SealedRecord.Fields(value) else { return nil }
        var plain: [UInt8]?
        var withheld = false
        if fields.contentKind == .sealed && keys.opening {
            let stored: StoredKey
            if let cached = keys.keys[fields.pseudonym] {
                stored = cached
            } else {
                guard let found = try storedKey(fields.pseudonym, sealing, txn) else {
                    throw StoreError.sealedContent(
                        position: position,
                        reason:
                            "its customer (pseudonym \(fields.pseudonym.hex)) has no key in 'customerkeys'")
                }
                keys.keys[fields.pseudonym] = found
                stored = found
            }
            if case .withheld = stored { withheld = true }
            if case .live(let key) = stored {
                plain = try openContent(at: position, fields, key, sealing, txn)
            }
        }
        guard let logical = SealedRecord.logicalRecord(value, fields, plain: plain, withheld: withheld) else {
            throw StoreError.sealedContent(position: position, reason: "its opened content does not decode")
        }
        return try logical.withUnsafeBytes { bytes in
            guard
                let record = EventRecordView(
                    bytes: bytes, position: position, hashed: value, pseudonym: fields.pseudonym)
            else { return nil }
            return try body(record)
        }
    }
}

extension EventLog {
    /// The opened content (salt ‖ personal content) of the record at `position` with `fields`.
    /// - Throws: `StoreError.sealedContent` when it is missing, not authentic, or not what was committed.
    func openContent(
        at position: UInt64, _ fields: SealedRecord.Fields, _ key: SymmetricKey, _ sealing: Store.Sealing,
        _ txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> [UInt8] {
        let opened = try txn.withUnsafeValue(forKey: BigEndianKey(position), in: sealing.content) {
            content -> Result<[UInt8], SealedRecord.ContentProblem> in
            Result { () throws(SealedRecord.ContentProblem) in
                try SealedRecord.open(
                    content: content, key: key, position: position, commitment: fields.commitment)
            }
        }
        switch opened {
        case nil:
            throw StoreError.sealedContent(
                position: position, reason: "its entry in 'content' is missing while its customer's key lives"
            )
        case .failure(let problem):
            throw StoreError.sealedContent(position: position, reason: problem.reason)
        case .success(let plain):
            return plain
        }
    }
}

extension SealedRecord.ContentProblem {
    var reason: String {
        switch self {
        case .missingKey: "its customer has no key"
        case .missingContent: "its content is missing"
        case .malformed: "its entry in 'content' is malformed"
        case .notAuthentic: "its content fails AES-GCM authentication under its customer's key"
        case .commitmentMismatch: "its opened content is not what the record's commitment commits to"
        }
    }
}

extension EventLog {
    /// The name the projections key `customer` by: the id itself in format 2; in format 3 its
    /// pseudonym's `ps:` name (the id itself when the store has no such customer, which no projection
    /// record then matches).
    public func projectionKey(ofCustomer customer: String) throws -> String {
        guard format == 3 else { return customer }
        return try pseudonym(ofCustomer: customer)?.projectionName ?? customer
    }
}

extension EventLog {
    /// The customer a projection key names, for output: in format 3 the subject of the latest event of
    /// the `ps:HEX` key's stream (the customer id, or `erased:HEX` once erased); the key itself otherwise.
    public func customerName(ofKey key: String, in txn: borrowing some ReadableTransaction & ~Copyable) throws
        -> String
    {
        guard databases.sealing != nil, key.hasPrefix(Pseudonym.projectionPrefix),
            let pseudonym = Pseudonym(name: key),
            let head = try readStream(pseudonym: pseudonym, txn)
        else { return key }
        let subject: String?? = try withRecord(at: head.lastPosition, in: txn) { $0.subject }
        return (subject ?? nil) ?? key
    }
}

extension EventLog {
    /// What a proof bundle discloses of the event at `position` in a store of format 3: the record's
    /// stored bytes (whose bytes 33… the chain hash and the Merkle leaf cover) and, while its customer
    /// is not erased, the opened personal content: salt (16 bytes) ‖ content (docs/STORAGE.md, "Personal
    /// content"), whose SHA-256 is the commitment at offset 113 of the record. Nil when there is no
    /// event there.
    /// - Throws: `StoreError.refused` in format 2, `StoreError.sealedContent` for content that cannot be
    ///   read where it should.
    public func disclosure(at position: UInt64) throws -> (record: [UInt8], content: [UInt8]?)? {
        try requireFormat3()
        return try storage("reading the content of position \(position)") {
            try environment.withReadTransaction { txn in try disclosure(at: position, in: txn) }
        }
    }

    /// `disclosure(at:)` in the snapshot of `txn` (a proof bundle reads its events and their content
    /// in one). Nil in format 2 and when there is no event at `position`.
    /// - Throws: `StoreError.corruptRecord` for a record that is not of format 3,
    ///   `StoreError.sealedContent` for content that cannot be read where it should.
    public func disclosure(at position: UInt64, in txn: borrowing some ReadableTransaction & ~Copyable) throws
        -> (record: [UInt8], content: [UInt8]?)?
    {
        guard let sealing = databases.sealing,
            let record = try txn.value(forKey: BigEndianKey(position), in: databases.events)
        else { return nil }
        return try record.withUnsafeBytes { bytes -> (record: [UInt8], content: [UInt8]?) in
            guard let fields = SealedRecord.Fields(bytes) else {
                throw StoreError.corruptRecord(position: position)
            }
            guard fields.contentKind == .sealed else { return (record, nil) }
            switch try storedKey(fields.pseudonym, sealing, txn) {
            case nil:
                throw StoreError.sealedContent(
                    position: position,
                    reason: "its customer (pseudonym \(fields.pseudonym.hex)) has no key in 'customerkeys'")
            case .erased, .withheld: return (record, nil)
            case .live(let key): return (record, try openContent(at: position, fields, key, sealing, txn))
            }
        }
    }
}
