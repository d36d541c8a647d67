import CloudEvents
import LMDB
import TouchlogDomain
import TouchlogStore

/// A difference between the stored projections and a fresh fold of the log.
public struct ProjectionMismatch: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The generation record or its rules.
        case generation
        case ticket
        case customer
        case timeline
        /// The index of which customer owns which ticket.
        case owner
    }

    public var kind: Kind
    /// The record: a ticket id, a customer id, `rep@time#position` for a timeline entry, or the
    /// generation's field.
    public var key: String
    /// The first field that differs, or `(missing)`, `(unexpected)`, `(encoding)`, `(bytes)`.
    public var field: String
    /// What the fresh fold has, and what the store has.
    public var expected: String
    public var found: String
    /// The log position of the last event that shaped the record: the later of the fresh fold's and
    /// the stored record's (for a missing or unexpected record, the one of whichever side has it).
    ///
    /// Both sides count: an event changed in the log after it was folded may drop out of the fresh
    /// fold (an unknown type, data that no longer validates), and then only the stored record still
    /// names it; the fresh fold's alone would point at the customer's or ticket's event before it.
    public var position: UInt64?

    public var description: String {
        var text = "\(kind.rawValue) '\(key)': "
        switch field {
        case "(missing)": text += "missing from the projections"
        case "(unexpected)": text += "in the projections but not in a fresh fold"
        default: text += "\(field) is \(found), a fresh fold gives \(expected)"
        }
        if let position { text += " (position \(position))" }
        return text
    }
}

/// A ticket anomaly with the ticket and customer it belongs to.
public struct TicketAnomalyReport: Sendable, Equatable {
    public var ticket: String
    public var customer: String
    public var anomaly: TicketAnomaly
}

/// The result of `ProjectionStore.verify`.
public struct ProjectionVerification: Sendable {
    /// The generation checked (nil: the store has no projections yet, nothing to check).
    public var generation: ProjectionGeneration?
    /// Records compared.
    public var tickets = 0
    public var customers = 0
    public var timelineEntries = 0
    /// Differences, in database order (generation, tickets, customers, timeline), at most the limit asked.
    public var mismatches: [ProjectionMismatch] = []
    /// The ticket anomalies of the fresh fold, in log order (at most the limit asked).
    public var anomalies: [TicketAnomalyReport] = []
    /// How many anomalies the fresh fold has in all.
    public var anomalyCount = 0

    public var isConsistent: Bool { mismatches.isEmpty }
    /// The earliest position among the mismatches: where to start looking.
    public var firstBadPosition: UInt64? { mismatches.compactMap(\.position).min() }
}

extension ProjectionStore {
    /// Folds the log afresh under the active generation's recorded rules, up to its recorded
    /// position, and compares every ticket, customer, timeline and owner record with what is stored.
    ///
    /// The fresh fold is written to a scratch slot outside the store (`ScratchSlot`), so that memory
    /// stays bounded whatever the size of the log, and the store (perhaps a read-only copy) is not
    /// written. With `customer`, only that customer's events are folded and only the records they
    /// produce are compared (records of other customers and unexpected extra records are not looked
    /// at; a ticket shared by two customers, itself an anomaly, may then differ). The log is read and
    /// the projections compared in one read transaction, so it sees one consistent generation while
    /// appends go on.
    /// - Throws: `StoreError` when the log cannot be read or the scratch slot cannot be written.
    public func verify(
        customer: String? = nil, maximumMismatches: Int = 100, maximumAnomalies: Int = 100_000,
        progress: ((RebuildProgress) throws -> Void)? = nil
    ) throws -> ProjectionVerification {
        try storage("verifying the projections") {
            try store.withReadTransaction { txn -> ProjectionVerification in
                var result = ProjectionVerification()
                guard let active = try activeGeneration(txn) else { return result }
                result.generation = active
                let limit = max(1, maximumMismatches)
                let rules: Rules
                do { rules = try self.rules(of: active, txn) } catch let error as ProjectionError {
                    result.mismatches.append(
                        ProjectionMismatch(
                            kind: .generation, key: "rules", field: "rules",
                            expected: "rules matching \(active.rulesHashHex)",
                            found: error.description, position: nil))
                    return result
                }
                let head = try headPosition(txn)
                if active.position > head {
                    result.mismatches.append(
                        ProjectionMismatch(
                            kind: .generation, key: "position", field: "position",
                            expected: "at most \(head)",
                            found: String(active.position), position: head))
                }
                let through = min(active.position, head)
                let scratch = try ScratchSlot()
                var fold = ChunkFold(rules: rules)
                if let customer {
                    let positions = try log.streamPositions(ofCustomer: customer, through: through, in: txn)
                    var start = 0
                    while start < positions.count {
                        let chunk = positions[
                            start..<min(
                                positions.count, start + min(Self.scratchChunkSize, fold.eventsPerChunk))]
                        var events: [FoldEvent] = []
                        for position in chunk {
                            do {
                                if let event = try log.withRecord(
                                    at: position, in: txn, opening: false, { FoldEvent.folding($0) }),
                                    let event
                                {
                                    events.append(event)
                                }
                            } catch StoreError.corruptRecord {
                                // Passed over as in the whole-log fold: the log's verification reports it.
                            }
                        }
                        try scratch.withWriteTransaction { scratchTxn in
                            try Self.fold(
                                log: log, txn, events: events, through: chunk.last!, into: scratch.slot,
                                scratchTxn,
                                &fold, passingDamaged: true)
                        }
                        start += chunk.count
                    }
                } else {
                    var next: UInt64 = 1
                    while next <= through {
                        let end = min(
                            through, next + UInt64(min(Self.scratchChunkSize, fold.eventsPerChunk)) - 1)
                        try scratch.withWriteTransaction { scratchTxn in
                            try Self.fold(
                                log: log, txn, into: scratch.slot, scratchTxn, from: next, through: end,
                                &fold,
                                passingDamaged: true)
                        }
                        try progress?(RebuildProgress(folded: end, position: end, head: through))
                        next = end + 1
                    }
                }
                fold.evict()
                let stored = slots[active.slot]
                let scoped = customer != nil
                try scratch.withReadTransaction { fresh in
                    result.tickets = try fresh.statistics(of: scratch.slot.tickets).entries
                    result.customers = try fresh.statistics(of: scratch.slot.customers).entries
                    result.timelineEntries = try fresh.statistics(of: scratch.slot.timeline).entries
                    let comparison = Comparison(scoped: scoped, folded: active.position, limit: limit)
                    for projection in ProjectionRegistry.all {
                        try comparison.compare(
                            projection, fresh, scratch.slot, txn, stored, into: &result.mismatches)
                    }
                    var names = CustomerNames()
                    try fresh.withCursor(on: scratch.slot.tickets) { cursor in
                        try cursor.unsafeForEach(from: nil as [UInt8]?) { key, value in
                            let id = String(decoding: key, as: UTF8.self)
                            guard let ticket = ProjectionCodec.decodeTicket(id: id, value) else {
                                throw ProjectionError.corruptRecord(database: "scratch tickets", key: id)
                            }
                            for anomaly in ticket.anomalies {
                                result.anomalyCount += 1
                                if result.anomalies.count < maximumAnomalies {
                                    result.anomalies.append(
                                        TicketAnomalyReport(
                                            ticket: id, customer: try names.name(ticket.customer, log, txn),
                                            anomaly: anomaly))
                                }
                            }
                            return true
                        }
                    }
                }
                result.anomalies.sort {
                    $0.anomaly.position != $1.anomaly.position
                        ? $0.anomaly.position < $1.anomaly.position : utf8Less($0.ticket, $1.ticket)
                }
                return result
            }
        }
    }

    /// Events folded into a scratch slot per write transaction.
    static let scratchChunkSize = 65_536

    /// The ticket anomalies of the active generation (all, or one customer's), in log order.
    public func anomalies(customer: String? = nil) throws -> [TicketAnomalyReport] {
        try tickets(customer: customer).flatMap { ticket in
            ticket.anomalies.map {
                TicketAnomalyReport(ticket: ticket.id, customer: ticket.customer, anomaly: $0)
            }
        }.sorted {
            $0.anomaly.position != $1.anomaly.position
                ? $0.anomaly.position < $1.anomaly.position : utf8Less($0.ticket, $1.ticket)
        }
    }

    /// How a fresh fold (in a scratch slot) is compared with the stored projections: each fresh record
    /// is looked up in the store; then, unless `scoped`, each stored record in the fresh fold.
    struct Comparison {
        var scoped: Bool
        /// The last position the generation folded.
        var folded: UInt64
        var limit: Int

        func compare<P: Projection>(
            _ projection: P.Type, _ freshTxn: borrowing ReadTransaction, _ freshSlot: Slot,
            _ storedTxn: borrowing ReadTransaction, _ storedSlot: Slot,
            into mismatches: inout [ProjectionMismatch]
        ) throws {
            guard mismatches.count < limit else { return }
            let fresh = P.database(in: freshSlot)
            let stored = P.database(in: storedSlot)
            let kind = P.mismatchKind
            let name = { P.name(ofKey: $0) }
            let decode = { (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) in
                P.decode(key: key, value: value).map { (P.fields(of: $0), P.lastPosition(of: $0)) }
            }
            try freshTxn.withCursor(on: fresh) { cursor in
                try cursor.unsafeForEach(from: nil as [UInt8]?) { key, want in
                    let found = try storedTxn.withUnsafeValue(forKey: Array(key), in: stored) { got in
                        if !got.elementsEqual(want) {
                            mismatches.append(differ(kind, key, want, got, name: name, decode: decode))
                        }
                        return true
                    }
                    if found == nil {
                        mismatches.append(
                            ProjectionMismatch(
                                kind: kind, key: name(key), field: "(missing)", expected: "a record",
                                found: "none",
                                position: decode(key, want)?.1 ?? nil))
                    }
                    return mismatches.count < limit
                }
            }
            guard !scoped, mismatches.count < limit else { return }
            try storedTxn.withCursor(on: stored) { cursor in
                try cursor.unsafeForEach(from: nil as [UInt8]?) { key, value in
                    if try freshTxn.withUnsafeValue(forKey: Array(key), in: fresh, { _ in true }) == nil {
                        mismatches.append(
                            ProjectionMismatch(
                                kind: kind, key: name(key), field: "(unexpected)", expected: "none",
                                found: "a record",
                                position: decode(key, value)?.1.flatMap { $0 <= folded ? $0 : nil }))
                    }
                    return mismatches.count < limit
                }
            }
        }

        /// The first field in which a stored record differs from the fresh one.
        private func differ(
            _ kind: ProjectionMismatch.Kind, _ key: UnsafeRawBufferPointer, _ want: UnsafeRawBufferPointer,
            _ got: UnsafeRawBufferPointer, name: (UnsafeRawBufferPointer) -> String,
            decode: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> ([(String, String)], UInt64?)?
        ) -> ProjectionMismatch {
            let (wantFields, wantPosition) = decode(key, want) ?? ([], nil)
            guard let (gotFields, storedPosition) = decode(key, got) else {
                return ProjectionMismatch(
                    kind: kind, key: name(key), field: "(encoding)", expected: "a valid record",
                    found: "bytes that do not decode", position: wantPosition)
            }
            // The later of the two: the stored record may be the only one that still names an event
            // the fresh fold now leaves out. A damaged record may claim any position: only one within
            // what the generation folded counts.
            let position =
                storedPosition.flatMap { $0 <= folded ? max(wantPosition ?? 0, $0) : nil } ?? wantPosition
            for (index, (field, value)) in wantFields.enumerated() {
                let other = index < gotFields.count ? gotFields[index].1 : "-"
                if value != other {
                    return ProjectionMismatch(
                        kind: kind, key: name(key), field: field, expected: value, found: other,
                        position: position)
                }
            }
            return ProjectionMismatch(
                kind: kind, key: name(key), field: "(bytes)", expected: hex(Array(want)),
                found: hex(Array(got)),
                position: position)
        }
    }
}

extension TicketState {
    /// Every field as text, in a fixed order: how `verify` names the first field that differs.
    public var fieldDescriptions: [(String, String)] {
        func text(_ time: Timestamp?) -> String { time?.rfc3339 ?? "-" }
        return [
            ("customer", customer), ("status", status.rawValue), ("priority", priority.rawValue),
            ("channel", channel?.rawValue ?? "-"), ("source", source ?? "-"), ("assignee", assignee ?? "-"),
            ("opened", text(openedAt)),
            ("first_reply", text(firstReplyAt)), ("first_reply_by", firstReplyBy ?? "-"),
            ("first_reply_position", String(firstReplyPosition)), ("solved", text(solvedAt)),
            ("closed", text(closedAt)),
            ("resolved", text(resolvedAt)), ("reopens", String(reopens)), ("replies", String(publicReplies)),
            ("escalations", String(escalations)), ("follow_ups", String(followUps)),
            ("merged_into", mergedInto ?? "-"), ("first_event", text(firstEventAt)),
            ("last_event", text(lastEventAt)), ("last_position", String(lastPosition)),
            ("sla_first_reply", firstReplyVerdict.name), ("sla_resolution", resolutionVerdict.name),
            ("events", eventPositions.map(String.init).joined(separator: " ")),
            (
                "anomalies",
                anomalies.map { "\($0.position) \($0.type): \($0.reason)" }.joined(separator: "; ")
            ),
        ]
    }
}

extension CustomerLoyalty {
    /// Every field as text, in a fixed order (doubles in their shortest exact form).
    public var fieldDescriptions: [(String, String)] {
        var fields: [(String, String)] = [("as_of", asOf.rfc3339), ("last_position", String(lastPosition))]
        let names = [
            "csat_sum", "csat_count", "nps_sum", "nps_count", "ces_sum", "ces_count", "sla_met",
            "sla_breached", "reopens",
            "escalations", "contacts", "tickets", "orders", "refunds", "order_cents", "refund_cents",
        ]
        for (name, path) in zip(names, ProjectionCodec.loyaltySums) {
            fields.append((name, "\(self[keyPath: path])"))
        }
        fields.append(("last_order", lastOrderAt?.rfc3339 ?? "-"))
        fields.append(("score", "\(score)"))
        fields.append(("tier", tier))
        return fields
    }
}

extension RepTimelineEntry {
    var fieldDescriptions: [(String, String)] {
        [("type", type), ("customer", customer), ("ticket", ticket ?? "-"), ("detail", String(detail))]
    }
}
