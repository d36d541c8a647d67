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
        try withActive("reading ticket '\(id)'") { txn, _, slot in try loadTicket(id, slot: slot, txn) }
            ?? nil
    }

    /// Every ticket of the active generation that matches the filters, by id. `rep` matches the assignee.
    public func tickets(status: TicketStatus? = nil, rep: String? = nil, customer: String? = nil) throws
        -> [TicketState]
    {
        try withActive("listing tickets") { txn, _, slot -> [TicketState] in
            var found: [TicketState] = []
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
                        found.append(ticket)
                    }
                    return true
                }
            }
            return found
        } ?? []
    }

    /// A customer's loyalty in the active generation.
    public func loyalty(_ customer: String) throws -> LoyaltyReport? {
        try withActive("reading the loyalty of '\(customer)'") { txn, active, slot -> LoyaltyReport? in
            guard let loyalty = try loadCustomer(customer, slot: slot, txn) else { return nil }
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
            found.sort { $0.score != $1.score ? $0.score > $1.score : utf8Less($0.customer, $1.customer) }
            return Array(found.prefix(max(0, limit)))
        } ?? []
    }

    /// Every event naming `rep`, in event-time order (then log order), with event time in `from...to`.
    public func repTimeline(_ rep: String, from: Timestamp? = nil, to: Timestamp? = nil) throws
        -> [RepTimelineEntry]
    {
        try withActive("reading the timeline of '\(rep)'") { txn, _, slot in
            try timeline(rep, from: from, to: to, slot: slot, txn)
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
            let entries = try timeline(rep, from: from, to: to, slot: slot, txn)
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
                    if let id = entry.ticket, let ticket = try loadTicket(id, slot: slot, txn),
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
        } ?? RepStats(rep: rep)
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
