import CloudEvents

/// Something an audit found wrong with the stored log, its indexes, its seals or its projections.
public struct AuditProblem: Sendable, Equatable, Codable {
    /// What kind of problem; its raw value is what `audit --json` prints.
    public struct Kind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }

        /// Positions are not gapless (an event is missing).
        public static let gap = Kind(rawValue: "gap")
        /// A record does not decode.
        public static let undecodable = Kind(rawValue: "undecodable")
        /// A record's stored hash is not the hash of its bytes and position: it was changed or moved.
        public static let hashMismatch = Kind(rawValue: "hash_mismatch")
        /// A record's predecessor hash is not the hash of the event before it.
        public static let chainBroken = Kind(rawValue: "chain_broken")
        /// A record's recorded time is earlier than the one of the event before it: the log promises
        /// recorded times never go backwards (so an `--as-known-at` cut is a prefix of the log).
        public static let recordedTime = Kind(rawValue: "recorded_time")
        /// A record's stream version or previous-position link is not what its customer's stream says.
        public static let streamLink = Kind(rawValue: "stream_link")
        /// The `streams` index disagrees with the log.
        public static let streamIndex = Kind(rawValue: "stream_index")
        /// The idempotency index (`idruns`) disagrees with the log.
        public static let idIndex = Kind(rawValue: "id_index")
        /// Two events share `source` and `id`.
        public static let duplicateEvent = Kind(rawValue: "duplicate_event")
        /// The Merkle tree database disagrees with a recomputation from the events.
        public static let tree = Kind(rawValue: "tree")
        /// A customer named in the request has no stream.
        public static let unknownCustomer = Kind(rawValue: "unknown_customer")
    }

    /// The position where the problem is (nil when it has none, e.g. a stray index entry).
    public var position: UInt64?
    public var kind: Kind
    public var message: String

    public init(position: UInt64?, kind: Kind, message: String) {
        self.position = position
        self.kind = kind
        self.message = message
    }
}

extension AuditProblem {
    /// The stored hash of the record at `position` is not the hash of its bytes.
    static func hashMismatch(at position: UInt64, stored: ChainHash, recomputed: ChainHash) -> AuditProblem {
        AuditProblem(
            position: position, kind: .hashMismatch,
            message:
                "stored hash \(stored) is not the hash of the record (\(recomputed)): the event was changed or moved"
        )
    }

    /// The predecessor hash at `position` is not `previous`, the hash of the event before it.
    static func chainBroken(at position: UInt64, predecessor: ChainHash, previous: String) -> AuditProblem {
        AuditProblem(
            position: position, kind: .chainBroken,
            message: "predecessor hash \(predecessor) is not the hash of the event before it (\(previous))")
    }

    /// The event at `position` was recorded at `recorded`, before `previous`, the recorded time of the
    /// event before it (at `previousPosition`).
    static func recordedTimeGoesBack(
        at position: UInt64, recorded: Timestamp, previousPosition: UInt64, previous: Timestamp
    ) -> AuditProblem {
        AuditProblem(
            position: position, kind: .recordedTime,
            message:
                "recorded at \(recorded.rfc3339), before the event before it (position \(previousPosition), recorded at \(previous.rfc3339)): the log never records time backwards, so an event was changed, moved or inserted"
        )
    }
}

extension [AuditProblem] {
    /// In position order (problems without a position last), keeping the order found within a position.
    public func sortedByPosition() -> [AuditProblem] {
        enumerated().sorted {
            ($0.element.position ?? .max, $0.offset) < ($1.element.position ?? .max, $1.offset)
        }
        .map(\.element)
    }
}
