import Foundation

/// The median, minimum and maximum of one figure over the runs of `touchlog bench --repeat N`.
public struct Spread: Sendable, Encodable, Equatable {
    public var median: Double
    public var min: Double
    public var max: Double
    /// How many runs had the figure.
    public var runs: Int

    /// The spread of `values`; nil when there is none. The median of an even count is the mean of the
    /// middle two.
    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        min = sorted[0]
        max = sorted[sorted.count - 1]
        runs = sorted.count
    }

    enum CodingKeys: String, CodingKey { case median, min, max, runs }

    /// Rates round to whole events per second, ratios to three decimals.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let round: (Double) -> Double = median >= 100 ? { $0.rounded() } : { ($0 * 1000).rounded() / 1000 }
        try c.encode(round(median), forKey: .median)
        try c.encode(round(min), forKey: .min)
        try c.encode(round(max), forKey: .max)
        try c.encode(runs, forKey: .runs)
    }
}

/// One phase over several runs: the engine's rate, the baseline's, their ratio, each part and each peer,
/// as medians with their minimum and maximum (the figures DESIGN.md section 6 asks for).
public struct PhaseSummary: Sendable, Encodable, Equatable {
    public var phase: BenchPhase
    public var baselineName: String
    public var target: String
    public var rate: Spread?
    public var baseline: Spread?
    public var ratio: Spread?
    public var parts: [Figure]
    public var peers: [PeerFigure]

    /// A named part of the phase (ingest: append, projections).
    public struct Figure: Sendable, Encodable, Equatable {
        public var name: String
        public var rate: Spread?
    }

    /// A peer over the runs: its version, its rate and the engine's ratio to it.
    public struct PeerFigure: Sendable, Encodable, Equatable {
        public var name: String
        public var version: String?
        public var targetRatio: Double
        public var rate: Spread?
        public var ratio: Spread?
    }

    /// Summarises the results of one phase, one per run (all of the same phase).
    public init(_ results: [PhaseResult]) {
        precondition(!results.isEmpty, "a summary needs at least one run")
        phase = results[0].phase
        baselineName = results[0].baselineName
        target = results[0].target
        rate = Spread(results.compactMap(\.rate))
        baseline = Spread(results.compactMap(\.baseline))
        ratio = Spread(results.compactMap(\.ratio))
        var partNames: [String] = []
        for part in results.flatMap({ $0.parts ?? [] }) where !partNames.contains(part.name) {
            partNames.append(part.name)
        }
        parts = partNames.map { name in
            Figure(
                name: name,
                rate: Spread(results.flatMap { $0.parts ?? [] }.filter { $0.name == name }.map(\.rate)))
        }
        var peerNames: [String] = []
        for peer in results.flatMap({ $0.peers ?? [] }) where !peerNames.contains(peer.name) {
            peerNames.append(peer.name)
        }
        peers = peerNames.map { name in
            let runs = results.flatMap { $0.peers ?? [] }.filter { $0.name == name }
            return PeerFigure(
                name: name, version: runs.compactMap(\.version).first, targetRatio: runs[0].targetRatio,
                rate: Spread(runs.compactMap(\.rate)), ratio: Spread(runs.compactMap(\.ratio)))
        }
    }

    /// Summaries of every phase in `runs` (each run a list of phase results), in the order phases first appear.
    public static func summaries(of runs: [[PhaseResult]]) -> [PhaseSummary] {
        var order: [BenchPhase] = []
        for result in runs.joined() where !order.contains(result.phase) { order.append(result.phase) }
        return order.map { phase in PhaseSummary(runs.joined().filter { $0.phase == phase }) }
    }

    /// The bars of this phase for the chart: the engine, the baseline, each peer (medians, with spreads).
    public var bars: [SVGBarChart.Bar] {
        var bars: [SVGBarChart.Bar] = []
        if let rate { bars.append(.init(label: "touchlog", spread: rate, isEngine: true)) }
        // With peers, the baseline is the first peer: drawn once, under the peer's name.
        if let baseline, peers.isEmpty {
            bars.append(.init(label: Self.shortName(baselineName), spread: baseline, isEngine: false))
        }
        for peer in peers {
            guard let rate = peer.rate else { continue }
            let label = "\(peer.name)" + (peer.version.map { " " + $0 } ?? "")
            bars.append(.init(label: label, spread: rate, isEngine: false))
        }
        return bars
    }

    /// A baseline's name cut to fit a chart's label: up to its first parenthesis or comma, at most 44 characters.
    static func shortName(_ name: String) -> String {
        let cut = name.prefix { $0 != "(" && $0 != "," }.trimmingCharacters(in: .whitespaces)
        return cut.count <= 44 ? cut : String(cut.prefix(43)) + "…"
    }
}
