import ArgumentParser
import Foundation
import TouchlogDomain
import TouchlogProjections
import TouchlogStore

struct RebuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract:
            "Fold the whole log again into a new generation of projections, with new rules or the same.",
        discussion: """
            The new generation is built beside the active one, which readers keep using until the new one is \
            complete; then one transaction makes it active and the old one's data is dropped. A rebuild \
            stopped half-way (killed, interrupted) leaves the active generation as it was; the next rebuild \
            with the same rules resumes where it stopped. Without --rules, the active generation's rules are \
            used. --dry-run folds in memory and reports the customers whose tier would move (biggest score \
            movers first) and the tickets whose SLA flags would change, and switches nothing.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @Option(
        help: ArgumentHelp("A rules file (TOML; see 'touchlog rules show').", valueName: "file"),
        completion: .file(extensions: ["toml"]))
    var rules: String?
    @Flag(help: "Report what the rules would change, without switching.")
    var dryRun = false

    func run() throws {
        try storeOptions.withStore(dryRun ? .reading : .updating) { store in
            let newRules = try rules.map(readRules)
            let projections = try ProjectionStore(store: store)
            let chosen = try newRules ?? projections.activeRules() ?? .default
            if dryRun {
                try report(try dryRunReport(projections, chosen), rules: chosen)
                return
            }
            let meter = ProgressMeter("rebuild")
            let started = Date()
            let summary = try projections.rebuild(rules: chosen) { meter.update(Int($0.folded)) }
            meter.finish(Int(summary.folded))
            let seconds = max(Date().timeIntervalSince(started), 0.000_001)
            let rate = Int(Double(summary.folded) / seconds)
            let generation = summary.generation
            if output.json {
                Console.current.exactLine(
                    try jsonLine(
                        RebuildJSON(
                            generation: generation.number, replaced: summary.replaced,
                            position: generation.position,
                            rulesVersion: generation.rulesVersion, rulesHash: generation.rulesHashHex,
                            folded: summary.folded,
                            resumedFrom: summary.resumedFrom, seconds: (seconds * 1000).rounded() / 1000,
                            eventsPerSecond: rate)))
                return
            }
            var text = "rebuilt generation \(generation.number) at position \(generation.position)"
            text += " (rules version \(generation.rulesVersion), hash \(generation.rulesHashHex.prefix(12)))"
            text +=
                ": folded \(formatCount(Int(summary.folded))) events in \(String(format: "%.2f", seconds)) s"
            text += " (\(formatCount(rate)) events/s)"
            if summary.resumedFrom > 0 { text += ", resumed from position \(summary.resumedFrom)" }
            if let replaced = summary.replaced { text += "; replaced generation \(replaced)" }
            Console.current.line("\(text)")
        }
    }

    private func dryRunReport(_ projections: ProjectionStore, _ rules: Rules) throws
        -> ProjectionStore.DryRunReport
    {
        let meter = ProgressMeter("dry run")
        let report = try projections.dryRun(rules: rules) { meter.update(Int($0.folded)) }
        meter.finish(Int(report.position))
        return report
    }

    private func report(_ report: ProjectionStore.DryRunReport, rules: Rules) throws {
        var buffer = OutputBuffer()
        if output.json {
            buffer.appendExactLine(
                try jsonLine(
                    SummaryJSON(
                        kind: "summary", position: report.position,
                        currentRulesVersion: report.current?.rulesVersion,
                        rulesVersion: rules.version, rulesHash: rules.hashHex, customers: report.customers,
                        tierChanges: report.tierChanges.count, tickets: report.tickets,
                        slaChanges: report.slaChanges.count)))
            for change in report.tierChanges {
                buffer.appendExactLine(
                    try jsonLine(
                        TierJSON(
                            kind: "tier", customer: change.customer, from: change.from, to: change.to,
                            oldScore: roundedScore(change.oldScore), newScore: roundedScore(change.newScore),
                            scoreDelta: roundedScore(change.scoreDelta))))
            }
            for change in report.slaChanges {
                buffer.appendExactLine(
                    try jsonLine(
                        SLAJSON(
                            kind: "sla", ticket: change.ticket, customer: change.customer,
                            firstReplyFrom: change.firstReply.from.name,
                            firstReplyTo: change.firstReply.to.name,
                            resolutionFrom: change.resolution.from.name,
                            resolutionTo: change.resolution.to.name)))
            }
            buffer.flush()
            return
        }
        let from =
            report.current.map { "generation \($0.number) (rules version \($0.rulesVersion))" }
            ?? "no projections"
        buffer.appendLine(
            "dry run at position \(report.position): rules version \(rules.version) against \(from); nothing switched"
        )
        buffer.appendLine("customers whose tier moves: \(report.tierChanges.count) of \(report.customers)")
        for change in report.tierChanges {
            let scores = String(
                format: "%.2f -> %.2f (%+.2f)", change.oldScore, change.newScore, change.scoreDelta)
            buffer.appendLine("  \(change.customer)  \(change.from) -> \(change.to)  \(scores)")
        }
        buffer.appendLine(
            "tickets whose SLA verdicts change: \(report.slaChanges.count) of \(report.tickets)")
        func describe(_ name: String, _ verdicts: (from: SLAVerdict, to: SLAVerdict)) -> String? {
            verdicts.from == verdicts.to ? nil : "\(name) \(verdicts.from.name) -> \(verdicts.to.name)"
        }
        for change in report.slaChanges {
            let parts = [
                describe("first reply", change.firstReply),
                describe("resolution", change.resolution),
            ]
            buffer.appendLine(
                "  \(change.ticket)  (\(change.customer))  \(parts.compactMap { $0 }.joined(separator: ", "))"
            )
        }
        buffer.flush()
    }

    struct RebuildJSON: Encodable {
        var generation: UInt64
        var replaced: UInt64?
        var position: UInt64
        var rulesVersion: String
        var rulesHash: String
        var folded: UInt64
        var resumedFrom: UInt64
        var seconds: Double
        var eventsPerSecond: Int
    }

    struct SummaryJSON: Encodable {
        var kind: String
        var position: UInt64
        var currentRulesVersion: String?
        var rulesVersion: String
        var rulesHash: String
        var customers: Int
        var tierChanges: Int
        var tickets: Int
        var slaChanges: Int
    }

    struct TierJSON: Encodable {
        var kind: String
        var customer: String
        var from: String
        var to: String
        var oldScore: Double
        var newScore: Double
        var scoreDelta: Double
    }

    struct SLAJSON: Encodable {
        var kind: String
        var ticket: String
        var customer: String
        var firstReplyFrom: String
        var firstReplyTo: String
        var resolutionFrom: String
        var resolutionTo: String
    }
}
