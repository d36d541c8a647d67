import CloudEvents
import TouchlogDomain
import TouchlogStore

/// The order in which the projections apply events: by event time; at one instant by the step of the
/// ticket lifecycle the type is (an opening before an assignment before a reply before a solve ...);
/// then by the event's identity (`stableIdentityDigest`, the same in every store); last by position,
/// which decides only between two events that share all three (practically never).
///
/// A record of a projection is the fold of its events in this order, so that it depends on the
/// events and their times, not on the order in which they arrived (DESIGN.md section 3).
public struct EventOrder: Sendable, Hashable, Comparable {
    public var time: Timestamp
    public var rank: UInt8
    public var digest: UInt64
    public var position: UInt64

    public init(time: Timestamp, rank: UInt8, digest: UInt64, position: UInt64) {
        self.time = time
        self.rank = rank
        self.digest = digest
        self.position = position
    }

    /// Before every event.
    public static let start = EventOrder(
        time: Timestamp(microsecondsSinceEpoch: .min), rank: 0, digest: 0, position: 0)

    public static func < (a: EventOrder, b: EventOrder) -> Bool {
        if a.time != b.time { return a.time < b.time }
        if a.rank != b.rank { return a.rank < b.rank }
        if a.digest != b.digest { return a.digest < b.digest }
        return a.position < b.position
    }

    /// The order of an event of `kind` with this identity digest, time and position.
    init(_ kind: TouchpointKind, time: Timestamp, digest: UInt64, position: UInt64) {
        self.init(time: time, rank: kind.sameInstantRank, digest: digest, position: position)
    }

    func write(to w: inout ByteWriter) {
        w.writeTime(time)
        w.writeByte(rank)
        w.writeUInt64(digest)
        w.writeVarint(position)
    }
}

extension ByteReader {
    mutating func readEventOrder() -> EventOrder? {
        guard let time = readTime(), let rank = readByte(), let digest = readUInt64(),
            let position = readVarint()
        else { return nil }
        return EventOrder(time: time, rank: rank, digest: digest, position: position)
    }
}

extension TouchpointKind {
    /// Where events of this kind go among events of the same instant: the steps of a ticket's life in
    /// their natural order, everything else after them.
    var sameInstantRank: UInt8 {
        switch self {
        case .ticketOpened: 0
        case .ticketAssigned: 1
        case .ticketPriorityChanged: 2
        case .ticketEscalated: 3
        case .ticketReplied: 4
        case .ticketStatusChanged: 5
        case .ticketSolved: 6
        case .ticketReopened: 7
        case .ticketClosed: 8
        case .ticketMerged: 9
        default: 10
        }
    }
}
