import CloudEvents
import Foundation
import LMDB
import TouchlogDomain

/// Erasure by destroying keys (DESIGN.md section 8, docs/STORAGE.md "format 3"): the steps `touchlog
/// erase` takes, each idempotent, so that a kill at any point leaves the customer's key and content
/// intact or an erasure that the next `erase` finishes.
extension EventLog {
    /// Where a customer of a store of format 3 stands.
    public enum CustomerStatus: Sendable, Equatable {
        /// The store has no customer of that id (or name). An erased customer's id is one of them: after
        /// an erasure nothing in the store leads from the id to its pseudonym.
        case unknown
        case live(Pseudonym)
        case erased(Pseudonym)
        /// In a backup made without keys: the key is not in this copy.
        case withheld(Pseudonym)
    }

    /// The status of `customer` (an id, or an `erased:`/`ps:` name).
    /// - Throws: `StoreError.refused` in a store of format 2.
    public func status(ofCustomer customer: String) throws -> CustomerStatus {
        try requireFormat3()
        return try storage("looking up customer '\(customer)'") {
            try environment.withReadTransaction { txn in
                guard let key = try customerKey(customer, txn) else { return .unknown }
                if key.isWithheld { return .withheld(key.pseudonym) }
                return key.key == nil ? .erased(key.pseudonym) : .live(key.pseudonym)
            }
        }
    }

    func requireFormat3() throws {
        guard databases.sealing != nil else {
            throw StoreError.refused(
                reason:
                    "the store at '\(path)' has format 2, which keeps personal content in the clear and cannot erase it: run 'touchlog migrate \(path) NEW' to write a store of format 3, and use that one"
            )
        }
    }

    /// The `meta` key of the erasures begun but not finished: the pseudonyms (16 bytes each, one after
    /// the other) whose keys are destroyed and whose `touchlog.erasure.completed` events may still be
    /// missing. A list, so that two `erase` processes at once each leave their own mark.
    static let erasingName = "erasing"

    /// The pseudonyms of the erasures whose keys are destroyed but which are not finished yet (their
    /// completion events may be missing), oldest first: the next `erase` finishes them first.
    public func pendingErasures() throws -> [Pseudonym] {
        try requireFormat3()
        return try storage("reading the pending erasures") {
            try environment.withReadTransaction { txn in try pendingErasures(txn) }
        }
    }

    private func pendingErasures(_ txn: borrowing some ReadableTransaction & ~Copyable) throws -> [Pseudonym]
    {
        guard let value = try txn.value(forKey: EventLog.erasingName, in: databases.meta) else { return [] }
        guard value.count % Pseudonym.byteCount == 0 else {
            throw StoreError.sealedContent(
                position: 0, reason: "meta 'erasing' is \(value.count) bytes, not a list of pseudonyms")
        }
        return stride(from: 0, to: value.count, by: Pseudonym.byteCount).map {
            Pseudonym(bytes: Array(value[$0..<$0 + Pseudonym.byteCount]))
        }
    }

    /// Writes the list of pending erasures (deletes the key when it is empty).
    private func putPendingErasures(_ pending: [Pseudonym], _ txn: borrowing WriteTransaction) throws {
        if pending.isEmpty {
            _ = try txn.delete(forKey: EventLog.erasingName, in: databases.meta)
        } else {
            try txn.put(pending.flatMap(\.bytes), forKey: EventLog.erasingName, in: databases.meta)
        }
    }

    /// Destroys `customer`'s key, in one durable transaction: its `customerkeys` entry becomes "erased"
    /// (the key bytes are gone), its `customerids` entry (the keyed hash of the id) is deleted, every
    /// `content` entry of its stream is deleted, the service's read-access log names the pseudonym
    /// instead of the id, the erasure is added to the pending ones (`meta`
    /// `erasing`) and the erasure count goes up (so that no batch prepared before is sealed under the
    /// destroyed key). Returns the pseudonym; nil when the customer is not live (unknown, or erased
    /// already), in which case nothing is written.
    /// - Throws: `StoreError.refused` in a store of format 2, `StoreError.storage`.
    public func destroyKey(ofCustomer customer: String) throws -> Pseudonym? {
        try requireFormat3()
        guard let sealing = databases.sealing else { return nil }
        return try storage("erasing customer '\(customer)'") {
            try environment.withWriteTransaction(growingMap: true) { txn -> Pseudonym? in
                guard let key = try customerKey(customer, txn), key.key != nil,
                    Pseudonym(name: customer) == nil
                else { return nil }
                var position = try readStream(pseudonym: key.pseudonym, txn)?.lastPosition ?? 0
                while position != 0 {
                    _ = try txn.delete(forKey: BigEndianKey(position), in: sealing.content)
                    guard
                        let previous = try txn.withUnsafeValue(
                            forKey: BigEndianKey(position), in: databases.events,
                            { value -> UInt64? in
                                guard value.count >= EventRecord.headerSize else { return nil }
                                return UInt64(
                                    bigEndian: value.loadUnaligned(
                                        fromByteOffset: EventRecord.previousPositionOffset, as: UInt64.self))
                            }) ?? nil
                    else { throw StoreError.corruptRecord(position: position) }
                    position = previous
                }
                try txn.put([KeyState.erased.rawValue], forKey: key.pseudonym.bytes, in: sealing.customerKeys)
                _ = try txn.delete(
                    forKey: EventLog.customerIDHash(customer, secret: sealing.secret), in: sealing.customerIDs
                )
                // The service's read-access log names the customer: it keeps the reads, under the pseudonym.
                if let readAccess = databases.readAccess {
                    try ReadAccessLog.redact(
                        customer: customer, as: key.pseudonym.erasedName, in: readAccess, txn)
                }
                let pending = try pendingErasures(txn)
                if !pending.contains(key.pseudonym) { try putPendingErasures(pending + [key.pseudonym], txn) }
                let count = try erasureCount(txn) + 1
                try txn.put(BigEndianKey(count), forKey: EventLog.erasureCountName, in: databases.meta)
                return key.pseudonym
            }
        }
    }

    /// Finishes the erasure of `pseudonym`: appends `touchlog.erasure.completed` to its stream (under
    /// the pseudonym, with no personal content) unless the stream already ends with one, then clears
    /// the pending mark. Returns the position of the completion event.
    /// - Throws: `StoreError.refused` when the customer is not erased.
    @discardableResult
    public func completeErasure(of pseudonym: Pseudonym, source: String) throws -> UInt64 {
        try requireFormat3()
        guard case .erased = try status(ofCustomer: pseudonym.erasedName) else {
            throw StoreError.refused(reason: "pseudonym \(pseudonym.hex) is not an erased customer")
        }
        // The completion is appended only after the version of the stream read here: another `erase`
        // finishing the same erasure at the same time makes one of the two find it there and stop.
        var position: UInt64 = 0
        while true {
            let last = try storage("reading the stream of \(pseudonym.erasedName)") {
                try environment.withReadTransaction { txn -> (head: StreamHead, type: String)? in
                    guard let head = try readStream(pseudonym: pseudonym, txn) else { return nil }
                    return try withRecord(at: head.lastPosition, in: txn) { (head, $0.type) }
                }
            }
            if let last, last.type == SystemType.erasureCompleted.rawValue {
                position = last.head.lastPosition
                break
            }
            let event = CloudEvent(
                id: UUID().uuidString.lowercased(), source: source,
                type: SystemType.erasureCompleted.rawValue,
                subject: pseudonym.erasedName, time: Timestamp.now().rfc3339)
            let touchpoint: Touchpoint
            do { touchpoint = try Touchpoint(system: event) } catch {
                preconditionFailure("the completion event is valid: \(error)")
            }
            var request = AppendRequest(touchpoint)
            request.erasedStream = pseudonym
            request.expectedVersion = last?.head.version ?? 0
            do {
                if case .appended(let at, _) = try append([request]).outcomes.first { position = at }
                break
            } catch StoreError.versionConflict {
                continue  // the stream moved meanwhile: look at its last event again
            }
        }
        try storage("finishing the erasure of \(pseudonym.erasedName)") {
            try environment.withWriteTransaction(growingMap: true) { txn in
                let pending = try pendingErasures(txn)
                if pending.contains(pseudonym) {
                    try putPendingErasures(pending.filter { $0 != pseudonym }, txn)
                }
            }
        }
        return position
    }
}
