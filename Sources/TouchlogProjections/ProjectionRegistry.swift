import LMDB
import TouchlogStore

/// A projection kept in a slot: its database, the version of the code that folds it, and how its
/// records read as fields (what `audit` names when a record differs from a fresh fold).
public struct ProjectionKind: Sendable {
    /// The name of its database in a slot (`projection.SLOT.NAME`).
    public let name: String
    /// The version of the code that produces its records. Raise it with every change that alters
    /// what the fold writes (a field, a rule, the encoding): a generation records the versions it was
    /// built with, and one built with other versions is rebuilt before it is used.
    public let version: Int
    /// Its database in a slot.
    let database: @Sendable (Store.ProjectionSlotDatabases) -> Database
    /// A record as (field, value) pairs in a fixed order, with the position of the last event that
    /// shaped it; nil when the bytes do not decode.
    let describe: @Sendable (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> ([(String, String)], UInt64?)?
    /// The mismatch kind `audit` reports for it.
    let mismatchKind: ProjectionMismatch.Kind
}

/// The projections, registered once: the fold (`ChunkFold`) writes them, and `verify` compares each
/// with a fresh fold through this list. Adding a projection means its record type and fold step, its
/// database in a slot (`Store.ProjectionSlotDatabases`), and one entry here.
public enum ProjectionRegistry {
    public static let all: [ProjectionKind] = [
        ProjectionKind(
            name: "tickets", version: 2, database: { $0.tickets },
            describe: { key, value in
                ProjectionCodec.decodeTicket(id: String(decoding: key, as: UTF8.self), value).map {
                    ($0.fieldDescriptions, $0.lastPosition)
                }
            }, mismatchKind: .ticket),
        ProjectionKind(
            name: "customers", version: 2, database: { $0.customers },
            describe: { key, value in
                ProjectionCodec.decodeCustomer(id: String(decoding: key, as: UTF8.self), value).map {
                    ($0.fieldDescriptions, $0.lastPosition)
                }
            }, mismatchKind: .customer),
        ProjectionKind(
            name: "timeline", version: 1, database: { $0.timeline },
            describe: { key, value in
                ProjectionCodec.decodeTimeline(key: key, value: value).map {
                    ($0.fieldDescriptions, $0.position)
                }
            }, mismatchKind: .timeline),
        ProjectionKind(
            name: "customer_tickets", version: 1, database: { $0.customerTickets },
            describe: { key, value in
                value.isEmpty && ProjectionCodec.decodeOwnerKey(key) != nil ? ([], nil) : nil
            }, mismatchKind: .owner),
    ]

    /// The versions of every projection, as a generation records them: `tickets=2,customers=2,...`.
    public static let code: String = all.map { "\($0.name)=\($0.version)" }.joined(separator: ",")

    /// How a record of `kind` is named in a report.
    static func recordName(_ kind: ProjectionKind, _ key: UnsafeRawBufferPointer) -> String {
        switch kind.mismatchKind {
        case .timeline:
            guard let (rep, time, position) = ProjectionCodec.decodeTimelineKey(key) else {
                return "key " + hex(Array(key))
            }
            return "\(rep)@\(time.rfc3339)#\(position)"
        case .owner:
            return ProjectionCodec.decodeOwnerKey(key).map { "\($0.customer)/\($0.ticket)" }
                ?? "key " + hex(Array(key))
        default:
            return String(decoding: key, as: UTF8.self)
        }
    }
}
