/// What one phase measured: the engine's rate, the baseline's rate in the same run, and their ratio.
public struct PhaseResult: Sendable, Encodable {
    public var phase: BenchPhase
    /// Events the engine handled in the timed part.
    public var events: Int
    /// Engine events per second; nil when the phase could not run.
    public var rate: Double?
    /// Baseline events per second, measured in the same run (or given with `--peer-rate`).
    public var baseline: Double?
    /// `rate / baseline`.
    public var ratio: Double?
    /// What the baseline is.
    public var baselineName: String
    /// The target of DESIGN.md section 6, in words.
    public var target: String
    /// Whether the target is met; nil when it could not be judged.
    public var meetsTarget: Bool?
    /// Seconds of the timed engine work and of the baseline.
    public var seconds: Double?
    public var baselineSeconds: Double?
    public var batchSize: Int
    public var durable: Bool
    /// The peak resident set size during the phase (VmHWM, reset before the phase where Linux allows).
    public var peakRSSBytes: Int
    /// The largest anonymous (heap) resident size seen during the phase; file-backed pages of the
    /// LMDB map are not in it.
    public var maxAnonymousRSSBytes: Int?
    /// Replay latencies.
    public var latency: Latency?
    /// The memory phase's commands, one each.
    public var steps: [MemoryStep]?
    /// Why a figure is missing, or what to know about it.
    public var note: String?
    /// The ingest phase's peers (eventsourcing, UmaDB), each with its version and the engine's ratio to it.
    public var peers: [PeerRun]?
    /// The timed parts of the engine's work, when the phase has several (ingest: append, projections).
    public var parts: [Part]?

    /// One timed part of a phase: its seconds and the rate of the phase's events over them.
    public struct Part: Sendable, Encodable, Equatable {
        public var name: String
        public var seconds: Double
        public var events: Int
        public var rate: Double { Double(events) / max(seconds, 1e-9) }

        enum CodingKeys: String, CodingKey { case name, seconds, rate }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode((seconds * 1000).rounded() / 1000, forKey: .seconds)
            try c.encode(rate.rounded(), forKey: .rate)
        }
    }
    /// The serve phase's rows: the service one event per request and 100 per request, UmaDB's server.
    public var serveRuns: [ServeRun]?

    /// One command of the memory phase, run as a child process: its time and the memory it held.
    public struct MemoryStep: Sendable, Encodable, Equatable {
        /// "ingest", "rebuild", "rebuild --dry-run" or "audit".
        public var step: String
        /// The command line as run (`touchlog` standing for the binary).
        public var command: String
        public var events: Int
        public var seconds: Double
        /// The largest `RssAnon` sampled: heap and stacks, what the process holds.
        public var maxAnonymousRSSBytes: Int
        /// The child's peak resident size (`VmHWM`, and `ru_maxrss` at its end), the file-backed,
        /// reclaimable pages of the LMDB map it touched included.
        public var peakRSSBytes: Int
        public var boundBytes: Int
        /// How many times the child's memory was read (about every 20 ms).
        public var samples: Int

        /// Events per second over the wall time.
        public var rate: Double { Double(events) / max(seconds, 1e-9) }
        /// Whether the anonymous memory stayed under the bound.
        public var underBound: Bool { maxAnonymousRSSBytes < boundBytes }

        enum CodingKeys: String, CodingKey {
            case step, command, events, seconds, rate, maxAnonymousRSSBytes, peakRSSBytes, boundBytes
            case underBound, samples
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(step, forKey: .step)
            try c.encode(command, forKey: .command)
            try c.encode(events, forKey: .events)
            try c.encode((seconds * 1000).rounded() / 1000, forKey: .seconds)
            try c.encode(rate.rounded(), forKey: .rate)
            try c.encode(maxAnonymousRSSBytes, forKey: .maxAnonymousRSSBytes)
            try c.encode(peakRSSBytes, forKey: .peakRSSBytes)
            try c.encode(boundBytes, forKey: .boundBytes)
            try c.encode(underBound, forKey: .underBound)
            try c.encode(samples, forKey: .samples)
        }
    }

    /// Latency percentiles of one customer's history read, in milliseconds.
    public struct Latency: Sendable, Encodable, Equatable {
        public var samples: Int
        public var meanEvents: Double
        public var p50Ms: Double
        public var p99Ms: Double
        public var p999Ms: Double
        /// The same over customers whose history has 90 to 110 events (the target's 100-event history).
        public var hundredEventSamples: Int
        public var hundredEventP50Ms: Double?
        public var hundredEventP99Ms: Double?
    }

    init(phase: BenchPhase, batchSize: Int, durable: Bool, baselineName: String, target: String) {
        self.phase = phase
        self.events = 0
        self.baselineName = baselineName
        self.target = target
        self.batchSize = batchSize
        self.durable = durable
        self.peakRSSBytes = 0
    }

    enum CodingKeys: String, CodingKey {
        case phase, events, rate, baseline, ratio, baselineName, target, meetsTarget, seconds, baselineSeconds
        case batchSize, durable, peakRSSBytes, maxAnonymousRSSBytes, latency, steps, note
        case peers, parts, serveRuns
    }

    /// Every key is present: a figure that is missing is `null`, so readers can rely on the shape.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(phase, forKey: .phase)
        try c.encode(events, forKey: .events)
        try c.encode(rate.map(Self.rounded), forKey: .rate)
        try c.encode(baseline.map(Self.rounded), forKey: .baseline)
        try c.encode(ratio.map { ($0 * 1000).rounded() / 1000 }, forKey: .ratio)
        try c.encode(baselineName, forKey: .baselineName)
        try c.encode(target, forKey: .target)
        try c.encode(meetsTarget, forKey: .meetsTarget)
        try c.encode(seconds.map { ($0 * 1000).rounded() / 1000 }, forKey: .seconds)
        try c.encode(baselineSeconds.map { ($0 * 1000).rounded() / 1000 }, forKey: .baselineSeconds)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(durable, forKey: .durable)
        try c.encode(peakRSSBytes, forKey: .peakRSSBytes)
        try c.encode(maxAnonymousRSSBytes, forKey: .maxAnonymousRSSBytes)
        try c.encode(latency, forKey: .latency)
        try c.encode(steps, forKey: .steps)
        try c.encode(note, forKey: .note)
        try c.encode(peers, forKey: .peers)
        try c.encode(parts, forKey: .parts)
        try c.encode(serveRuns, forKey: .serveRuns)
    }

    private static func rounded(_ value: Double) -> Double { value.rounded() }
}
