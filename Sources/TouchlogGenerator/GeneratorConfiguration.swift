/// What a ``TouchpointGenerator`` produces: the seed, the volume and the population.
///
/// The same configuration always yields byte-identical output on the same platform. The number
/// of events does not influence what is generated, only where it stops: a run of 1,000 events is
/// a prefix of a run of 2,000 with otherwise equal settings. `lateFraction` draws from its own
/// random stream, so changing it changes only the `time` of some events, never which events exist.
public struct GeneratorConfiguration: Sendable, Equatable {
    /// The seed of every random choice.
    public var seed: UInt64
    /// The total number of events to produce.
    public var events: Int
    /// The number of customers (subjects `cus-000001` ...).
    public var customers: Int
    /// The number of support representatives (`rep-0001` ...).
    public var representatives: Int
    /// The CloudEvents `source` of every event; must be a URI-reference.
    public var source: String
    /// The event time of the first event, in microseconds since the Unix epoch.
    public var start: Int64
    /// The share of events whose `time` is earlier than the previous event's (late arrivals).
    public var lateFraction: Double

    /// Creates a configuration; see ``validate()`` for the rules a generator checks.
    public init(
        seed: UInt64 = 42, events: Int, customers: Int = 1000, representatives: Int = 50,
        source: String = "urn:touchlog:generator", start: Int64 = 1_704_067_200_000_000,
        lateFraction: Double = 0.01
    ) {
        self.seed = seed
        self.events = events
        self.customers = customers
        self.representatives = representatives
        self.source = source
        self.start = start
        self.lateFraction = lateFraction
    }

    /// Checks that a generator can run with this configuration.
    ///
    /// ``TouchpointGenerator/init(_:)`` traps on an invalid configuration, so callers that take
    /// settings from users (the command line) call this first and report the error.
    /// - Throws: ``GeneratorConfigurationError`` naming the first invalid setting.
    public func validate() throws(GeneratorConfigurationError) {
        guard events >= 0 else {
            throw GeneratorConfigurationError("events must be 0 or more, got \(events)")
        }
        guard customers >= 1, customers <= 99_999_999 else {
            throw GeneratorConfigurationError(
                "customers must be between 1 and 99999999, got \(customers)")
        }
        guard representatives >= 1, representatives <= 999_999 else {
            throw GeneratorConfigurationError(
                "representatives must be between 1 and 999999, got \(representatives)")
        }
        guard lateFraction >= 0, lateFraction <= 1 else {
            throw GeneratorConfigurationError(
                "lateFraction must be between 0 and 1, got \(lateFraction)")
        }
        // Years 1 to 9999 keep RFC 3339's four-digit year; leave ~100 years of room after start.
        guard start >= -62_135_596_800_000_000, start <= 250_000_000_000_000_000 else {
            throw GeneratorConfigurationError(
                "start must be between 0001-01-01 and about 9900-01-01, got \(start) microseconds")
        }
        guard Self.isURIReference(source) else {
            throw GeneratorConfigurationError(
                "source must be a non-empty URI-reference (RFC 3986), got \"\(source)\"")
        }
    }

    /// Whether `text` is a non-empty URI-reference: only RFC 3986 characters and valid
    /// percent-encodings. A syntactic check of the character set, not of every production.
    static func isURIReference(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return false }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, isHexDigit(bytes[index + 1]),
                    isHexDigit(bytes[index + 2])
                else { return false }
                index += 3
                continue
            }
            guard isURICharacter(byte) else { return false }
            index += 1
        }
        return true
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46)
            || (byte >= 0x61 && byte <= 0x66)
    }

    private static func isURICharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            // unreserved "-._~", gen-delims ":/?#[]@", sub-delims "!$&'()*+,;="
            return "-._~:/?#[]@!$&'()*+,;=".utf8.contains(byte)
        }
    }
}

/// A setting of ``GeneratorConfiguration`` that a generator cannot run with.
public struct GeneratorConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong and which value was given.
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "invalid generator configuration: \(message)" }
}
