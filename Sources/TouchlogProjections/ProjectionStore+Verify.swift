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
    /// Every ticket anomaly of the fresh fold, in log order.
    public var anomalies: [TicketAnomalyReport] = []

    public var isConsistent: Bool { mismatches.isEmpty }
    /// The earliest position among the mismatches: where to start looking.
    public var firstBadPosition: UInt64? { mismatches.compactMap(\.position).min() }
}

extension ProjectionStore {
    /// Folds the log afresh under the active generation's recorded rules, up to its recorded
    /// position, and compares every ticket, customer and timeline record with what is stored.
    ///
    /// With `customer`, only that customer's events are folded and only the records they produce
    /// are compared (records of other customers and unexpected extra records are not looked at; a
    /// ticket shared by two customers, itself an anomaly, may then differ). The comparison runs in
    /// one read transaction, so it sees one consistent generation while appends go on.
    /// - Throws: `StoreError` when the log cannot be read.
    public func verify(customer: String? = nil, maximumMismatches: Int = 100) throws -> ProjectionVerification
    {
        let stream = try customer.map { try log.stream(ofCustomer: $0) }
        return try storage("verifying the projections") {
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
                var fold = ProjectionFold(rules: rules)
                var timeline: [RepTimelineEntry] = []
                if let stream {
                    for stored in stream where stored.position <= active.position { fold.apply(stored) }
                    timeline = fold.takeTimeline()
                } else {
                    // A record that does not decode is left out of the fold, as an unknown type
                    // is: the log's own verification reports it, and the records it shaped differ.
                    try log.forEachRecord(from: 1, in: txn, undecodable: { _ in }) { record in
                        if record.position > active.position { return false }
                        fold.apply(record.storedEvent)
                        if fold.timeline.count >= 65_536 { timeline += fold.takeTimeline() }
                        return true
                    }
                    timeline += fold.takeTimeline()
                }
                let slot = slots[active.slot]

                let tickets = fold.tickets.values.filter { customer == nil || $0.customer == customer }
                    .sorted { utf8Less($0.id, $1.id) }
                    .map {
                        Expected(
                            key: Array($0.id.utf8), name: $0.id, value: ProjectionCodec.encode($0),
                            position: $0.lastPosition,
                            fields: $0.fieldDescriptions)
                    }
                let customers = fold.customers.values.filter { customer == nil || $0.customer == customer }
                    .sorted { utf8Less($0.customer, $1.customer) }
                    .map {
                        Expected(
                            key: Array($0.customer.utf8), name: $0.customer,
                            value: ProjectionCodec.encode($0),
                            position: $0.lastPosition, fields: $0.fieldDescriptions)
                    }
                let entries = timeline.map {
                    Expected(
                        key: ProjectionCodec.timelineKey(
                            rep: $0.rep, time: $0.occurredAt, position: $0.position),
                        name: "\($0.rep)@\($0.occurredAt.rfc3339)#\($0.position)",
                        value: ProjectionCodec.encode($0),
                        position: $0.position, fields: $0.fieldDescriptions)
                }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
                result.tickets = tickets.count
                result.customers = customers.count
                result.timelineEntries = entries.count

                let scoped = customer != nil
                // A stored record's last position counts only within what the generation folded: a
                // damaged record may claim any number.
                let folded = active.position
                try compare(
                    .ticket, tickets, slot.tickets, scoped: scoped, folded: folded, limit: limit,
                    into: &result.mismatches, txn,
                    name: { String(decoding: $0, as: UTF8.self) },
                    decode: { key, value in
                        ProjectionCodec.decodeTicket(id: String(decoding: key, as: UTF8.self), value).map {
                            ($0.fieldDescriptions, $0.lastPosition)
                        }
                    })
                try compare(
                    .customer, customers, slot.customers, scoped: scoped, folded: folded, limit: limit,
                    into: &result.mismatches, txn,
                    name: { String(decoding: $0, as: UTF8.self) },
                    decode: { key, value in
                        ProjectionCodec.decodeCustomer(id: String(decoding: key, as: UTF8.self), value).map {
                            ($0.fieldDescriptions, $0.lastPosition)
                        }
                    })
                try compare(
                    .timeline, entries, slot.timeline, scoped: scoped, folded: folded, limit: limit,
                    into: &result.mismatches, txn,
                    name: { key in
                        guard let (rep, time, position) = ProjectionCodec.decodeTimelineKey(key) else {
                            return "key " + hex(Array(key))
                        }
                        return "\(rep)@\(time.rfc3339)#\(position)"
                    },
                    decode: { key, value in
                        ProjectionCodec.decodeTimeline(key: key, value: value).map {
                            ($0.fieldDescriptions, $0.position)
                        }
                    })

                for ticket in fold.tickets.values where customer == nil || ticket.customer == customer {
                    for anomaly in ticket.anomalies {
                        result.anomalies.append(
                            TicketAnomalyReport(
                                ticket: ticket.id, customer: ticket.customer, anomaly: anomaly))
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

    struct Expected {
        var key: [UInt8]
        var name: String
        var value: [UInt8]
        var position: UInt64
        var fields: [(String, String)]
    }

    /// Compares `expected` (sorted by key) with the database: a merge of both in key order, or, when
    /// `scoped`, a lookup of each expected key. `folded` is the last position the generation folded.
    private func compare(
        _ kind: ProjectionMismatch.Kind, _ expected: [Expected], _ database: Database, scoped: Bool,
        folded: UInt64, limit: Int,
        into mismatches: inout [ProjectionMismatch], _ txn: borrowing ReadTransaction,
        name: (UnsafeRawBufferPointer) -> String,
        decode: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> ([(String, String)], UInt64)?
    ) throws {
        func differ(_ record: Expected, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
            guard !value.elementsEqual(record.value) else { return }
            guard let (fields, storedPosition) = decode(key, value) else {
                mismatches.append(
                    ProjectionMismatch(
                        kind: kind, key: record.name, field: "(encoding)", expected: "a valid record",
                        found: "bytes that do not decode", position: record.position))
                return
            }
            // The later of the two: the stored record may be the only one that still names an event
            // the fresh fold now leaves out.
            let position =
                storedPosition <= folded ? max(record.position, storedPosition) : record.position
            for (index, (field, want)) in record.fields.enumerated() {
                let got = index < fields.count ? fields[index].1 : "-"
                if want != got {
                    mismatches.append(
                        ProjectionMismatch(
                            kind: kind, key: record.name, field: field, expected: want, found: got,
                            position: position))
                    return
                }
            }
            mismatches.append(
                ProjectionMismatch(
                    kind: kind, key: record.name, field: "(bytes)", expected: hex(record.value),
                    found: hex(Array(value)),
                    position: position))
        }
        func missing(_ record: Expected) {
            mismatches.append(
                ProjectionMismatch(
                    kind: kind, key: record.name, field: "(missing)", expected: "a record", found: "none",
                    position: record.position))
        }
        if scoped {
            for record in expected where mismatches.count < limit {
                let found = try txn.withUnsafeValue(forKey: record.key, in: database) { value -> Bool in
                    record.key.withUnsafeBytes { differ(record, $0, value) }
                    return true
                }
                if found == nil { missing(record) }
            }
            return
        }
        var index = 0
        try txn.withCursor(on: database) { cursor in
            try cursor.unsafeForEach(from: nil as [UInt8]?) { key, value in
                while index < expected.count, expected[index].key.lexicographicallyPrecedes(key),
                    mismatches.count < limit
                {
                    missing(expected[index])
                    index += 1
                }
                if index < expected.count, expected[index].key.elementsEqual(key) {
                    differ(expected[index], key, value)
                    index += 1
                } else {
                    mismatches.append(
                        ProjectionMismatch(
                            kind: kind, key: name(key), field: "(unexpected)", expected: "none",
                            found: "a record",
                            position: decode(key, value).map(\.1).flatMap { $0 <= folded ? $0 : nil }))
                }
                return mismatches.count < limit
            }
        }
        while index < expected.count, mismatches.count < limit {
            missing(expected[index])
            index += 1
        }
    }
}

extension TicketState {
    /// Every field as text, in a fixed order: how `verify` names the first field that differs.
    public var fieldDescriptions: [(String, String)] {
        func text(_ time: Timestamp?) -> String { time?.rfc3339 ?? "-" }
        return [
            ("customer", customer), ("status", status.rawValue), ("priority", priority.rawValue),
            ("channel", channel?.rawValue ?? "-"), ("assignee", assignee ?? "-"), ("opened", text(openedAt)),
            ("first_reply", text(firstReplyAt)), ("first_reply_by", firstReplyBy ?? "-"),
            ("first_reply_position", String(firstReplyPosition)), ("solved", text(solvedAt)),
            ("closed", text(closedAt)),
            ("resolved", text(resolvedAt)), ("reopens", String(reopens)), ("replies", String(publicReplies)),
            ("escalations", String(escalations)), ("merged_into", mergedInto ?? "-"),
            ("last_event", text(lastEventAt)),
            ("last_position", String(lastPosition)), ("sla_first_reply_breached", String(firstReplyBreached)),
            ("sla_resolution_breached", String(resolutionBreached)), ("sla_counted", String(slaCounted)),
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
