import CloudEvents
import LMDB
import TouchlogStore

/// A projection kept in a slot: the records of one database, each folded from the events of its key,
/// with the version of the code that produces them and the codec that stores them.
///
/// `ChunkFold` is the one driver: it applies each event to the records it concerns (a ticket, its
/// customer, a rep's timeline) and settles each customer from the tickets it owns; catch-up, rebuild,
/// dry run, `verify` and `replay` all fold through it. What differs per projection is described here:
/// `verify` compares every registered projection with a fresh fold through this protocol, and the
/// versions say when a stored generation must be rebuilt.
public protocol Projection {
    associatedtype Record
    /// The name of its database in a slot (`projection.SLOT.NAME`).
    static var name: String { get }
    /// The version of the code that produces its records. Raise it with every change that alters what
    /// the fold writes (a field, a rule, the encoding): a generation records the versions it was built
    /// with, and one built with other versions is rebuilt before it is used.
    static var version: Int { get }
    /// The mismatch kind `audit` reports for it.
    static var mismatchKind: ProjectionMismatch.Kind { get }
    /// Its database in a slot.
    static func database(in slot: Store.ProjectionSlotDatabases) -> Database
    /// The key and value bytes of a record.
    static func encode(_ record: Record) -> (key: [UInt8], value: [UInt8])
    /// The record stored under `key`; nil when the bytes do not decode.
    static func decode(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Record?
    /// The record as (field, value) pairs in a fixed order: how `audit` names the first that differs.
    static func fields(of record: Record) -> [(String, String)]
    /// The highest log position among the events that shaped the record, if it names one.
    static func lastPosition(of record: Record) -> UInt64?
    /// How a key is named in a report.
    static func name(ofKey key: UnsafeRawBufferPointer) -> String
}

extension Projection {
    static func name(ofKey key: UnsafeRawBufferPointer) -> String { String(decoding: key, as: UTF8.self) }
}

/// Ticket state, by ticket id.
enum TicketProjection: Projection {
    static let name = "tickets"
    static let version = 2
    static let mismatchKind = ProjectionMismatch.Kind.ticket
    static func database(in slot: Store.ProjectionSlotDatabases) -> Database { slot.tickets }
    static func encode(_ record: TicketState) -> (key: [UInt8], value: [UInt8]) {
        (Array(record.id.utf8), ProjectionCodec.encode(record))
    }
    static func decode(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> TicketState? {
        ProjectionCodec.decodeTicket(id: String(decoding: key, as: UTF8.self), value)
    }
    static func fields(of record: TicketState) -> [(String, String)] { record.fieldDescriptions }
    static func lastPosition(of record: TicketState) -> UInt64? { record.lastPosition }
}

/// Customer loyalty, by customer id.
enum LoyaltyProjection: Projection {
    static let name = "customers"
    static let version = 3
    static let mismatchKind = ProjectionMismatch.Kind.customer
    static func database(in slot: Store.ProjectionSlotDatabases) -> Database { slot.customers }
    static func encode(_ record: CustomerLoyalty) -> (key: [UInt8], value: [UInt8]) {
        (Array(record.customer.utf8), ProjectionCodec.encode(record))
    }
    static func decode(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> CustomerLoyalty? {
        ProjectionCodec.decodeCustomer(id: String(decoding: key, as: UTF8.self), value)
    }
    static func fields(of record: CustomerLoyalty) -> [(String, String)] { record.fieldDescriptions }
    static func lastPosition(of record: CustomerLoyalty) -> UInt64? { record.lastPosition }
}

/// Rep timelines: one entry per event that names a rep, by rep, event time and position.
enum TimelineProjection: Projection {
    static let name = "timeline"
    static let version = 1
    static let mismatchKind = ProjectionMismatch.Kind.timeline
    static func database(in slot: Store.ProjectionSlotDatabases) -> Database { slot.timeline }
    static func encode(_ record: RepTimelineEntry) -> (key: [UInt8], value: [UInt8]) {
        (
            ProjectionCodec.timelineKey(rep: record.rep, time: record.occurredAt, position: record.position),
            ProjectionCodec.encode(record)
        )
    }
    static func decode(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> RepTimelineEntry? {
        ProjectionCodec.decodeTimeline(key: key, value: value)
    }
    static func fields(of record: RepTimelineEntry) -> [(String, String)] { record.fieldDescriptions }
    static func lastPosition(of record: RepTimelineEntry) -> UInt64? { record.position }
    static func name(ofKey key: UnsafeRawBufferPointer) -> String {
        guard let (rep, time, position) = ProjectionCodec.decodeTimelineKey(key) else {
            return "key " + hex(Array(key))
        }
        return "\(rep)@\(time.rfc3339)#\(position)"
    }
}

/// Which customer owns which ticket: what settles a customer's service part.
enum OwnerProjection: Projection {
    struct Owner {
        var customer: String
        var ticket: String
    }
    static let name = "customer_tickets"
    static let version = 1
    static let mismatchKind = ProjectionMismatch.Kind.owner
    static func database(in slot: Store.ProjectionSlotDatabases) -> Database { slot.customerTickets }
    static func encode(_ record: Owner) -> (key: [UInt8], value: [UInt8]) {
        (ProjectionCodec.ownerKey(record.customer, record.ticket), [])
    }
    static func decode(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Owner? {
        guard value.isEmpty, let (customer, ticket) = ProjectionCodec.decodeOwnerKey(key) else { return nil }
        return Owner(customer: customer, ticket: ticket)
    }
    static func fields(of record: Owner) -> [(String, String)] { [] }
    static func lastPosition(of record: Owner) -> UInt64? { nil }
    static func name(ofKey key: UnsafeRawBufferPointer) -> String {
        ProjectionCodec.decodeOwnerKey(key).map { "\($0.customer)/\($0.ticket)" } ?? "key " + hex(Array(key))
    }
}

/// The projections, registered once. Adding one means its record type and fold step, its database in
/// a slot (`Store.ProjectionSlotDatabases`), and one entry here.
public enum ProjectionRegistry {
    static let all: [any Projection.Type] = [
        TicketProjection.self, LoyaltyProjection.self, TimelineProjection.self, OwnerProjection.self,
    ]

    /// The versions of every projection, as a generation records them: `tickets=2,customers=2,...`.
    public static let code: String = all.map { "\($0.name)=\($0.version)" }.joined(separator: ",")
}
