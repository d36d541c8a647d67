import CloudEvents

/// Counts of one ingest, as `touchlog ingest` prints them.
public struct IngestSummary: Sendable, Equatable, Codable {
    /// Events read from the input (valid or not).
    public var read = 0
    /// Events newly stored.
    public var appended = 0
    /// Events already in the log (same `source` + `id`), acknowledged and not stored again.
    public var duplicates = 0
    /// Invalid events written to the rejects file (only with a reject handler), conflicts included.
    public var rejected = 0
    /// Events whose `source` and `id` are in the log with other content: reported, never stored.
    public var conflicts = 0

    public init() {}
}

/// A bad event stopped a strict ingest: `FILE:LINE: reason`. Batches committed before it stay committed.
public struct IngestError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var reason: String
    /// What was committed before the error (the batch holding the bad event is not among it).
    public var committed: IngestSummary
    /// True when the input itself could not be read (an I/O error), rather than holding a bad event.
    public var isReadFailure: Bool

    public var description: String {
        if let line { return "\(file):\(line): \(reason)" }
        return "\(file): \(reason)"
    }
}

/// An invalid event that a lenient ingest set aside.
public struct RejectedEvent: Sendable {
    /// The input line where it starts (0 when unknown).
    public var line: Int
    /// The event's bytes as read, exactly; for an over-long event only its start (see `length`).
    public var bytes: [UInt8]
    /// The event's whole length in bytes: more than `bytes.count` when only its start was kept.
    public var length: Int
    public var reason: String

    public init(line: Int, bytes: [UInt8], length: Int? = nil, reason: String) {
        self.line = line
        self.bytes = bytes
        self.length = length ?? bytes.count
        self.reason = reason
    }
}
