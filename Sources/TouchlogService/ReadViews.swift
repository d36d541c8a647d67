import TouchlogStore

/// The JSON of the projection reads, written by the command line's own writers (`ticket show --json`,
/// `loyalty show --json`, `rep timeline --json`, `rep stats --json`) so that the service and the CLI
/// answer with the same documents. Each returns nil for an unknown id.
public struct ReadViews: Sendable {
    public var ticket: @Sendable (Store, String) throws -> [UInt8]?
    public var loyalty: @Sendable (Store, String) throws -> [UInt8]?
    /// NDJSON, one line per timeline entry.
    public var repTimeline: @Sendable (Store, String) throws -> [UInt8]?
    public var repStats: @Sendable (Store, String) throws -> [UInt8]?
    /// The audit of the whole store (or of one customer's stream, nil when unknown), as `audit --json`.
    public var audit: @Sendable (Store, String?) throws -> [UInt8]?

    public init(
        ticket: @escaping @Sendable (Store, String) throws -> [UInt8]?,
        loyalty: @escaping @Sendable (Store, String) throws -> [UInt8]?,
        repTimeline: @escaping @Sendable (Store, String) throws -> [UInt8]?,
        repStats: @escaping @Sendable (Store, String) throws -> [UInt8]?,
        audit: @escaping @Sendable (Store, String?) throws -> [UInt8]?
    ) {
        self.ticket = ticket
        self.loyalty = loyalty
        self.repTimeline = repTimeline
        self.repStats = repStats
        self.audit = audit
    }
}
