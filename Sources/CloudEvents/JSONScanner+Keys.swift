/// Object keys: decoding, duplicate detection (linear for small objects, sorted for large ones),
/// and comparisons without making a `String`.
extension JSONScanner {
    /// Checks that a member's key (a string) starts here, and otherwise throws what stands there instead:
    /// a trailing comma when `afterMember` (a `}` after a `,`), the end of input, or anything else.
    @inline(__always)
    func expectMemberKey(afterMember: Bool) throws(JSONError) {
        guard current == UInt8(ascii: "\"") else {
            if current == UInt8(ascii: "}") && afterMember { throw error("trailing comma in object") }
            throw isAtEnd ? error("unexpected end of input") : error("expected a string key")
        }
    }

    /// Starts the duplicate-key bookkeeping of a new object; pass the result to `endObject`.
    func beginObject() -> (keys: Int, bytes: Int) { (keys.count, keyBytes.count) }

    /// Ends the duplicate-key bookkeeping of an object. Large objects are checked here by sorting.
    mutating func endObject(_ frame: (keys: Int, bytes: Int)) throws(JSONError) {
        let count = keys.count - frame.keys
        if count > Self.linearKeyLimit { try checkDuplicatesSorted(from: frame.keys) }
        keys.removeLast(count)
        keyBytes.removeLast(keyBytes.count - frame.bytes)
    }

    /// Objects with up to this many keys are checked for duplicates as each key arrives.
    private static let linearKeyLimit = 16

    /// The decoded bytes of a key (valid until the key buffer changes, i.e. the next escaped key).
    @inline(__always)
    private func pointer(_ key: KeyEntry, _ scratch: UnsafeBufferPointer<UInt8>) -> UnsafePointer<UInt8> {
        key.inScratch ? scratch.baseAddress! + key.start : bytes.baseAddress! + key.start
    }

    /// Records the key just scanned and rejects a duplicate in this object.
    /// - Returns: the key, for `key(_:equals:)` and `withKeyBytes`.
    @discardableResult
    mutating func registerKey(_ token: StringToken, frame: (keys: Int, bytes: Int)) throws(JSONError)
        -> KeyEntry
    {
        let entry = decodeKey(token)
        try register(entry, frame: frame)
        return entry
    }

    /// The key for a scanned key string, decoded into the key buffer if it has escapes.
    mutating func decodeKey(_ token: StringToken) -> KeyEntry {
        guard token.hasEscapes else {
            return KeyEntry(start: token.start, end: token.end, offset: token.start - 1, inScratch: false)
        }
        let start = keyBytes.count
        let input = bytes
        Self.appendDecoded(input, token, to: &keyBytes)
        return KeyEntry(start: start, end: keyBytes.count, offset: token.start - 1, inScratch: true)
    }

    /// Records `entry` as a key of the object `frame` and rejects a duplicate in that object.
    mutating func register(_ entry: KeyEntry, frame: (keys: Int, bytes: Int)) throws(JSONError) {
        let existing = keys.count - frame.keys
        if existing > 0 && existing < Self.linearKeyLimit {
            let length = entry.count
            let duplicate = keyBytes.withUnsafeBufferPointer { scratch -> Bool in
                let p = pointer(entry, scratch)
                for i in frame.keys..<keys.count {
                    let k = keys[i]
                    if k.count == length && memoryEqual(pointer(k, scratch), p, length) { return true }
                }
                return false
            }
            if duplicate { throw duplicateKeyError(entry) }
        }
        if keys.capacity == 0 { keys.reserveCapacity(16) }
        keys.append(entry)
    }

    func duplicateKeyError(_ key: KeyEntry) -> JSONError {
        var name = withKeyBytes(key) { String(decoding: $0, as: UTF8.self) }
        if name.count > 64 { name = String(name.prefix(64)) + "..." }
        return error("duplicate key \"\(name)\"", at: key.offset)
    }

    private func checkDuplicatesSorted(from first: Int) throws(JSONError) {
        let entries = keys[first...]
        let firstDuplicate = keyBytes.withUnsafeBufferPointer { scratch -> KeyEntry? in
            func compare(_ a: KeyEntry, _ b: KeyEntry) -> Int {
                let pa = pointer(a, scratch)
                let pb = pointer(b, scratch)
                for k in 0..<min(a.count, b.count) where pa[k] != pb[k] { return Int(pa[k]) - Int(pb[k]) }
                return a.count - b.count
            }
            let sorted = entries.sorted { a, b in
                let order = compare(a, b)
                return order != 0 ? order < 0 : a.offset < b.offset
            }
            var found: KeyEntry?
            for i in sorted.indices.dropFirst() where compare(sorted[i - 1], sorted[i]) == 0 {
                if found == nil || sorted[i].offset < found!.offset { found = sorted[i] }
            }
            return found
        }
        if let d = firstDuplicate { throw duplicateKeyError(d) }
    }

    /// Compares a decoded key with `name`.
    func key(_ key: KeyEntry, equals name: StaticString) -> Bool {
        guard key.count == name.utf8CodeUnitCount else { return false }
        if !key.inScratch { return memoryEqual(bytes.baseAddress! + key.start, name.utf8Start, key.count) }
        return keyBytes.withUnsafeBufferPointer { scratch in
            memoryEqual(pointer(key, scratch), name.utf8Start, key.count)
        }
    }

    /// Calls `body` with the decoded bytes of `key`.
    func withKeyBytes<R>(_ key: KeyEntry, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if !key.inScratch { return body(UnsafeBufferPointer(rebasing: bytes[key.start..<key.end])) }
        return keyBytes.withUnsafeBufferPointer { scratch in
            body(UnsafeBufferPointer(rebasing: scratch[key.start..<key.end]))
        }
    }
}
