extension CloudEvent {
    /// Whether `other`, which has the same `source` and `id`, carries the same content: an idempotent retry
    /// rather than a conflicting event under a known identity.
    ///
    /// Compared: every attribute (extensions in any order) and the data, JSON data as values (so that
    /// whitespace and number spelling do not matter, member order does not either).
    public func hasSameContent(as other: CloudEvent) -> Bool {
        guard type == other.type, subject == other.subject, datacontenttype == other.datacontenttype,
            dataschema == other.dataschema, extensions.count == other.extensions.count
        else { return false }
        if time != other.time {
            guard let mine = time.flatMap(Timestamp.init(rfc3339:)),
                let theirs = other.time.flatMap(Timestamp.init(rfc3339:)), mine == theirs
            else { return false }
        }
        for attribute in extensions where other.extensionValue(attribute.name) != attribute.value {
            return false
        }
        switch (data, other.data) {
        case (nil, nil):
            return true
        case (.base64(let a), .base64(let b)):
            return a == b
        case (.json(let a), .json(let b)):
            if a == b { return true }
            // Both were validated when they were appended: data that does not parse is simply not the same.
            guard let x = try? JSONValue.parse(a), let y = try? JSONValue.parse(b) else { return false }
            return x.isSameValue(as: y)
        default:
            return false
        }
    }
}

extension JSONValue {
    /// Equality of JSON values: objects compared as sets of members, numbers by value (their literal text,
    /// else as doubles), strings and keys as Swift compares strings (canonical equivalence). Duplicate
    /// detection and the proof bundle verifiers (docs/PROOFS.md) compare values by it.
    public func isSameValue(as other: JSONValue) -> Bool {
        switch (self, other) {
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            return a.allSatisfy { member in
                b.contains { $0.key == member.key && $0.value.isSameValue(as: member.value) }
            }
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isSameValue(as: $1) }
        case (.number(let a), .number(let b)):
            return a == b || (Double(a).map { x in Double(b).map { x == $0 } ?? false } ?? false)
        default:
            return self == other
        }
    }
}
