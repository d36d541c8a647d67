import CloudEvents
import LMDB
import TouchlogDomain
import TouchlogStore

extension ProjectionStore {
    /// A customer's loyalty with the generation it was read from.
    public struct LoyaltyReport: Sendable, Equatable {
        public var loyalty: CustomerLoyalty
        public var parts: CustomerLoyalty.Parts
        public var generation: ProjectionGeneration
    }

    /// Runs `body` in a read transaction on the active generation; nil when there is none.
    func withActive<R>(
        _ operation: String, _ body: (borrowing ReadTransaction, ProjectionGeneration, Slot) throws -> R
    ) throws -> R? {
        try storage(operation) {
            try store.withReadTransaction { txn -> R? in
                guard let active = try activeGeneration(txn) else { return nil }
                return try body(txn, active, slots[active.slot])
            }
        }
    }

    /// The state of ticket `id` in the active generation.
    public func ticket(_ id: String) throws -> TicketState? {
        try withActive("reading ticket '\(id)'") { txn, _, slot -> TicketState? in
            var names = CustomerNames()
            return try Self.loadTicket(id, slot: slot, txn).map { try names.named($0, store.log, txn) }
        } ?? nil
    }

    /// Every ticket of the active generation that matches the filters, by id. `rep` matches the assignee.
    public func tickets(status: TicketStatus? = nil, rep: String? = nil, customer: String? = nil) throws
        -> [TicketState]
    {
        let customer = try customer.map { try store.log.projectionKey(ofCustomer: $0) }
        return try withActive("listing tickets") { txn, _, slot -> [TicketState] in
            var found: [TicketState] = []
            var names = CustomerNames()
            try txn.withCursor(on: slot.tickets) { cursor in
                try cursor.unsafeForEach(from: nil as [UInt8]?) { key, value in
                    let id = String(decoding: key, as: UTF8.self)
                    guard let ticket = ProjectionCodec.decodeTicket(id: id, value) else {
                        throw ProjectionError.corruptRecord(database: "tickets", key: id)
                    }
                    if (status.map { ticket.status == $0 } ?? true)
                        && (rep.map { ticket.assignee == $0 } ?? true)
                        && (customer.map { ticket.customer == $0 } ?? true)
                    {
                        found.append(try names.named(ticket, store.log, txn))
                    }
                    return true
                }
            }
            return found
        } ?? []
    }

    /// A customer's loyalty in the active generation.
    public func loyalty(_ customer: String) throws -> LoyaltyReport? {
        let key = try store.log.projectionKey(ofCustomer: customer)
        return try withActive("reading the loyalty of '\(customer)'") { txn, active, slot -> LoyaltyReport? in
            guard var loyalty = try Self.loadCustomer(key, slot: slot, txn) else { return nil }
            var names = CustomerNames()
            loyalty.customer = try names.name(loyalty.customer, store.log, txn)
            let rules = try rules(of: active, txn)
            return LoyaltyReport(loyalty: loyalty, parts: loyalty.parts(rules), generation: active)
        } ?? nil
    }

    /// The customers with the highest scores (then by id), optionally of one tier.
    public func topLoyalty(tier: String? = nil, limit: Int = 10) throws -> [CustomerLoyalty] {
        try withActive("ranking customers") { txn, _, slot -> [CustomerLoyalty] in
            var found: [CustomerLoyalty] = []
            try txn.withCursor(on: slot.customers) { cursor in
                try cursor.unsafeForEach(from: nil as [UInt8]?) { key, value in
                    let id = String(decoding: key, as: UTF8.self)
                    guard let loyalty = ProjectionCodec.decodeCustomer(id: id, value) else {
                        throw ProjectionError.corruptRecord(database: "customers", key: id)
                    }
                    if tier.map({ loyalty.tier == $0 }) ?? true { found.append(loyalty) }
                    return true
                }
            }
            var names = CustomerNames()
            for index in found.indices {
                found[index].customer = try names.name(found[index].customer, store.log, txn)
            }
            found.sort { $0.score != $1.score ? $0.score > $1.score : utf8Less($0.customer, $1.customer) }
            return Array(found.prefix(max(0, limit)))
        } ?? []
    }

    /// Every event naming `rep`, in event-time order (then log order), with event time in `from...to`.
    public func repTimeline(_ rep: String, from: Timestamp? = nil, to: Timestamp? = nil) throws
        -> [RepTimelineEntry]
    {
        try withActive("reading the timeline of '\(rep)'") { txn, _, slot in
            var names = CustomerNames()
            return try timeline(rep, from: from, to: to, slot: slot, txn).map { entry in
                var entry = entry
                entry.customer = try names.name(entry.customer, store.log, txn)
                return entry
            }
        } ?? []
    }

    func timeline(
        _ rep: String, from: Timestamp?, to: Timestamp?, slot: Slot,
        _ txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> [RepTimelineEntry] {
        let prefix = ProjectionCodec.repPrefix(rep)
        let start = ProjectionCodec.timelineKey(
            rep: rep, time: from ?? Timestamp(microsecondsSinceEpoch: .min), position: 0)
        var entries: [RepTimelineEntry] = []
        try txn.withCursor(on: slot.timeline) { cursor in
            try cursor.unsafeForEach(from: start) { key, value in
                guard key.starts(with: prefix) else { return false }
                guard let entry = ProjectionCodec.decodeTimeline(key: key, value: value) else {
                    throw ProjectionError.corruptRecord(database: "timeline", key: rep)
                }
                if let to, entry.occurredAt > to { return false }
                entries.append(entry)
                return true
            }
        }
        return entries
    }

    /// A rep's stats over events whose time is in `from...to` (all time when nil).
    public func repStats(_ rep: String, from: Timestamp? = nil, to: Timestamp? = nil) throws -> RepStats {
        try withActive("reading the stats of '\(rep)'") { txn, _, slot -> RepStats in
            try stats(rep, entries: try timeline(rep, from: from, to: to, slot: slot, txn), slot: slot, txn)
        } ?? RepStats(rep: rep)
    }

    /// The stats of `rep` over its timeline `entries`.
    func stats(
        _ rep: String, entries: [RepTimelineEntry], slot: Slot,
        _ txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> RepStats {
        var stats = RepStats(rep: rep)
        var firstReplies: [Double] = []
        var satisfied = 0
        for entry in entries {
            stats.events += 1
            switch entry.type {
            case "ticket.assigned": stats.assigned += 1
            case "ticket.solved": stats.solved += 1
            case "feedback.csat":
                stats.csatRatings += 1
                if entry.detail >= 4 { satisfied += 1 }
            case "ticket.replied" where entry.isPublicRepReply:
                stats.publicReplies += 1
                if let id = entry.ticket, let ticket = try Self.loadTicket(id, slot: slot, txn),
                    ticket.firstReplyPosition == entry.position, let minutes = ticket.firstReplyMinutes
                {
                    firstReplies.append(minutes)
                }
            default: break
            }
        }
        stats.medianFirstReplyMinutes = RepStats.median(firstReplies)
        stats.csatSatisfiedShare =
            stats.csatRatings > 0 ? Double(satisfied) / Double(stats.csatRatings) : nil
        return stats
    }

    // MARK: Exports: one read transaction each, one record at a time

    /// Lends every ticket of the active generation to `body`, in id order, from one read transaction.
    /// Nothing is collected, so `touchlog export tickets` runs in flat memory however many tickets there are.
    /// - Throws: `ProjectionError.corruptRecord` for a record that does not decode, or what `body` throws.
    public func forEachTicket(_ body: (TicketState) throws -> Void) throws {
        _ = try withActive("exporting the tickets") { txn, _, slot in
            var names = CustomerNames()
            try txn.withCursor(on: slot.tickets) { cursor in
                try cursor.unsafeForEach(from: nil as [UInt8]?) { key, value in
                    let id = String(decoding: key, as: UTF8.self)
                    guard let ticket = ProjectionCodec.decodeTicket(id: id, value) else {
                        throw ProjectionError.corruptRecord(database: "tickets", key: id)
                    }
                    try body(try names.named(ticket, store.log, txn))
                    return true
                }
            }
        }
    }

    /// Lends every customer's loyalty (with its parts under the active rules) to `body`, in customer id
    /// order, from one read transaction.
    /// - Throws: `ProjectionError.corruptRecord` for a record that does not decode, or what `body` throws.
    public func forEachLoyalty(_ body: (LoyaltyReport) throws -> Void) throws {
        _ = try withActive("exporting the loyalty scores") { txn, active, slot in
            let rules = try rules(of: active, txn)
            var names = CustomerNames()
            try txn.withCursor(on: slot.customers) { cursor in
                try cursor.unsafeForEach(from: nil as [UInt8]?) { key, value in
                    let id = String(decoding: key, as: UTF8.self)
                    guard var loyalty = ProjectionCodec.decodeCustomer(id: id, value) else {
                        throw ProjectionError.corruptRecord(database: "customers", key: id)
                    }
                    loyalty.customer = try names.name(loyalty.customer, store.log, txn)
                    try body(LoyaltyReport(loyalty: loyalty, parts: loyalty.parts(rules), generation: active))
                    return true
                }
            }
        }
    }

    /// Lends every rep's stats over all time (as `repStats(_:)` gives them) to `body`, in rep key order,
    /// from one read transaction: the timeline is walked once, holding one rep's entries at a time.
    /// - Throws: `ProjectionError.corruptRecord` for an entry that does not decode, or what `body` throws.
    public func forEachRepStats(_ body: (RepStats) throws -> Void) throws {
        _ = try withActive("exporting the rep stats") { txn, _, slot in
            var entries: [RepTimelineEntry] = []
            try txn.withCursor(on: slot.timeline) { cursor in
                try cursor.unsafeForEach(from: nil as [UInt8]?) { key, value in
                    guard let entry = ProjectionCodec.decodeTimeline(key: key, value: value) else {
                        throw ProjectionError.corruptRecord(database: "timeline", key: "(a rep's entry)")
                    }
                    if let rep = entries.first?.rep, rep != entry.rep {
                        try body(try stats(rep, entries: entries, slot: slot, txn))
                        entries.removeAll(keepingCapacity: true)
                    }
                    entries.append(entry)
                    return true
                }
            }
            if let rep = entries.first?.rep { try body(try stats(rep, entries: entries, slot: slot, txn)) }
        }
    }

    /// One customer as `touchlog export customers` writes it.
    public struct CustomerSummary: Sendable, Equatable {
        public var customer: String
        /// The customer's events in the log (their stream's version).
        public var events: Int
        /// The earliest and the latest event time among them.
        public var firstEventAt: Timestamp
        public var lastEventAt: Timestamp
        /// The tickets the customer owns in the projections.
        public var tickets: Int
        /// The loyalty tier; nil when the projections have not folded the customer yet.
        public var tier: String?
    }

    /// Lends a summary of every customer of the log to `body`, in customer id order, from one read
    /// transaction: the log is read once for the counts and event times, the owner index once for the
    /// ticket counts. Memory grows with the number of customers, never with the number of events.
    /// - Throws: `StoreError.corruptRecord` or `ProjectionError.corruptRecord` for a record that does not
    ///   decode, or what `body` throws.
    public func forEachCustomer(_ body: (CustomerSummary) throws -> Void) throws {
        _ = try withActive("exporting the customers") { txn, _, slot in
            var summaries: [String: CustomerSummary] = [:]
            try store.log.forEachRecord(from: 1, in: txn) { record in
                // Keyed as the projections key customers (format 3: by pseudonym), shown by subject.
                guard record.subject != nil else { return true }
                let customer = record.customerKey
                let time = record.occurredAt
                if var summary = summaries[customer] {
                    summary.events += 1
                    if time < summary.firstEventAt { summary.firstEventAt = time }
                    if time > summary.lastEventAt { summary.lastEventAt = time }
                    summaries[customer] = summary
                } else {
                    summaries[customer] = CustomerSummary(
                        customer: record.subject ?? customer, events: 1, firstEventAt: time,
                        lastEventAt: time, tickets: 0,
                        tier: nil)
                }
                return true
            }
            try txn.withCursor(on: slot.customerTickets) { cursor in
                try cursor.unsafeForEach(from: nil as [UInt8]?) { key, _ in
                    guard let (customer, _) = ProjectionCodec.decodeOwnerKey(key) else {
                        throw ProjectionError.corruptRecord(
                            database: "customer_tickets", key: "(an owner key)")
                    }
                    summaries[customer]?.tickets += 1
                    return true
                }
            }
            for customer in summaries.keys.sorted(by: utf8Less) {
                var summary = summaries[customer]!
                summary.tier = try Self.loadCustomer(customer, slot: slot, txn)?.tier
                try body(summary)
            }
        }
    }

    // MARK: Contents

    /// Every key and value of a generation's databases, in key order: what "byte-identical" compares.
    public struct Contents: Sendable, Equatable {
        public var tickets: [[UInt8]: [UInt8]]
        public var customers: [[UInt8]: [UInt8]]
        public var timeline: [[UInt8]: [UInt8]]
        public var ticketKeys: [[UInt8]]
        public var customerKeys: [[UInt8]]
        public var timelineKeys: [[UInt8]]
    }

    /// The contents of the active generation (nil when there is none).
    public func activeContents() throws -> Contents? {
        try withActive("reading the projections") { txn, _, slot -> Contents in
            let tickets = try dump(slot.tickets, txn)
            let customers = try dump(slot.customers, txn)
            let timeline = try dump(slot.timeline, txn)
            return Contents(
                tickets: tickets.0, customers: customers.0, timeline: timeline.0, ticketKeys: tickets.1,
                customerKeys: customers.1, timelineKeys: timeline.1)
        }
    }

    private func dump(_ database: Database, _ txn: borrowing ReadTransaction) throws -> (
        [[UInt8]: [UInt8]], [[UInt8]]
    ) {
        var values: [[UInt8]: [UInt8]] = [:]
        var keys: [[UInt8]] = []
        try txn.withCursor(on: database) { cursor in
            try cursor.unsafeForEach(from: nil as [UInt8]?) { key, value in
                keys.append(Array(key))
                values[Array(key)] = Array(value)
                return true
            }
        }
        return (values, keys)
    }
}

/// The customer ids that projection records of format 3 name by pseudonym (`ps:HEX`), for output: each
/// is read once from the customer's latest event (`EventLog.customerName(ofKey:in:)`), `erased:HEX`
/// once erased. In format 2 the key is the id and nothing is read.
struct CustomerNames {
    private var names: [String: String] = [:]

    mutating func name(_ key: String, _ log: EventLog, _ txn: borrowing some ReadableTransaction & ~Copyable)
        throws -> String
    {
        guard log.format == 3 else { return key }
        if let known = names[key] { return known }
        let name = try log.customerName(ofKey: key, in: txn)
        names[key] = name
        return name
    }

    mutating func named(
        _ ticket: TicketState, _ log: EventLog, _ txn: borrowing some ReadableTransaction & ~Copyable
    ) throws -> TicketState {
        var ticket = ticket
        ticket.customer = try name(ticket.customer, log, txn)
        return ticket
    }
}
