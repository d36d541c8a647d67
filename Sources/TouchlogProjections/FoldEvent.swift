import CloudEvents
import TouchlogDomain
import TouchlogStore

/// One catalog event as the fold reads it: what the fold does not read (summaries, order numbers,
/// currencies, escalation levels, articles) is left out, so that the lean record decoder and the
/// validating path give equal values.
struct FoldEvent: Sendable, Equatable {
    var position: UInt64
    var occurredAt: Timestamp
    /// `stableIdentityDigest` of the event's source and id: its place among events of the same instant.
    var identityDigest: UInt64
    var type: KnownType
    var customer: String
    var ticketID: String?
    var repID: String?
    var channel: Channel?
    var kind: TouchpointKind
    /// The event's `source`, kept for `ticket.opened` only: which SLA targets apply may depend on it.
    var openingSource: String?

    init(
        position: UInt64, occurredAt: Timestamp, identityDigest: UInt64, type: KnownType, customer: String,
        ticketID: String?, repID: String?, channel: Channel?, kind: TouchpointKind, openingSource: String?
    ) {
        self.position = position
        self.occurredAt = occurredAt
        self.identityDigest = identityDigest
        self.type = type
        self.customer = customer
        self.ticketID = ticketID
        self.repID = repID
        self.channel = channel
        self.kind = kind
        self.openingSource = openingSource
    }

    /// Nil for an unknown type, or a stored event that no longer validates (the log validated it
    /// when it was appended; a catalog change could make it invalid, and the projections then pass
    /// over it as over an unknown type).
    init?(_ stored: StoredEvent) {
        guard KnownType(name: stored.event.type) != nil,
            let touchpoint = try? Touchpoint(validating: stored.event)
        else { return nil }
        self.init(touchpoint, position: stored.position)
        customer = stored.customerKey
    }

    init?(_ touchpoint: Touchpoint, position: UInt64) {
        guard let kind = touchpoint.kind, let type = KnownType(name: touchpoint.event.type) else {
            return nil
        }
        self.position = position
        occurredAt = touchpoint.occurredAt
        identityDigest = stableIdentityDigest(source: touchpoint.event.source, id: touchpoint.event.id)
        self.type = type
        customer = touchpoint.customer
        ticketID = touchpoint.ticketID
        repID = touchpoint.repID
        channel = touchpoint.channel
        self.kind = kind.readByFold
        if case .ticketOpened = kind { openingSource = touchpoint.event.source }
    }

    /// Where the event goes in the order the projections apply events in.
    var order: EventOrder { EventOrder(kind, time: occurredAt, digest: identityDigest, position: position) }
}

extension [FoldEvent] {
    /// The events in the order the projections apply them.
    func inFoldOrder() -> [FoldEvent] { sorted { $0.order < $1.order } }
}
