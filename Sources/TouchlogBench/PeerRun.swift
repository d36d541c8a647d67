import Foundation

/// One peer of the ingest phase, run in the same sitting as the engine: its rate, its version, and the
/// engine's rate over it against the target of DESIGN.md section 6.
public struct PeerRun: Sendable, Encodable, Equatable {
    /// The peer's short name: `eventsourcing` or `umadb`.
    public var name: String
    /// The peer library's version as the peer printed it; nil when it did not run.
    public var version: String?
    /// Peer events per second; nil when it did not run.
    public var rate: Double?
    /// Seconds of the peer's timed appends.
    public var seconds: Double?
    /// Engine rate / peer rate.
    public var ratio: Double?
    /// The ratio DESIGN.md section 6 asks for.
    public var targetRatio: Double
    /// Whether `ratio >= targetRatio`; nil when the peer did not run.
    public var meetsTarget: Bool?
    /// Why the peer did not run, or how it was run.
    public var note: String?

    init(name: String, targetRatio: Double) {
        self.name = name
        self.targetRatio = targetRatio
    }

    /// Sets the peer's figures and the engine's ratio to them.
    mutating func record(_ reading: PeerReading, events: Int, engineRate: Double?) {
        version = reading.version
        rate = reading.rate
        seconds = Double(events) / reading.rate
        if let engineRate, reading.rate > 0 {
            ratio = engineRate / reading.rate
            meetsTarget = engineRate / reading.rate >= targetRatio
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, version, rate, seconds, ratio, targetRatio, meetsTarget, note
    }

    /// Every key is present (a missing figure is `null`), rounded like `PhaseResult`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(version, forKey: .version)
        try c.encode(rate.map { $0.rounded() }, forKey: .rate)
        try c.encode(seconds.map { ($0 * 1000).rounded() / 1000 }, forKey: .seconds)
        try c.encode(ratio.map { ($0 * 1000).rounded() / 1000 }, forKey: .ratio)
        try c.encode(targetRatio, forKey: .targetRatio)
        try c.encode(meetsTarget, forKey: .meetsTarget)
        try c.encode(note, forKey: .note)
    }
}

/// What a peer script printed on its last line: `peer=NAME version=V ...: RATE events/s in SECONDSs`.
public struct PeerReading: Sendable, Equatable {
    public var rate: Double
    public var version: String?

    public init(rate: Double, version: String?) {
        self.rate = rate
        self.version = version
    }

    /// Reads the rate and the `version=` field of a peer's output.
    /// - Throws: `PeerBaseline.Unavailable` quoting the output when it has no rate.
    public init(output: String) throws {
        let line = output.split(separator: "\n").last.map(String.init) ?? ""
        guard let colon = line.range(of: ": "), let end = line.range(of: " events/s"),
            colon.upperBound <= end.lowerBound,
            let rate = Double(line[colon.upperBound..<end.lowerBound].trimmingCharacters(in: .whitespaces))
        else { throw PeerBaseline.Unavailable(description: "could not read the peer's output: \(output)") }
        self.rate = rate
        self.version = line[..<colon.lowerBound].split(separator: " ").first { $0.hasPrefix("version=") }
            .map { String($0.dropFirst("version=".count)) }
    }
}
