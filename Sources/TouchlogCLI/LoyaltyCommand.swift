import ArgumentParser
import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogProjections
import TouchlogStore

struct LoyaltyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loyalty",
        abstract: "Show loyalty scores (0-100) and tiers, as of each customer's latest event.",
        discussion: """
            The score is base + satisfaction + service + value under the active rules ('touchlog rules show'), \
            from observations that decay with a half-life in event time: a customer's "now" is the time of \
            their latest event, never the wall clock, so every replay gives the same score.
            """,
        subcommands: [LoyaltyShowCommand.self, LoyaltyTopCommand.self])
}

struct LoyaltyShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one customer's score, tier and its parts. Exit 66 for an unknown customer.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The customer id (the events' subject).")
    var id: String

    func run() throws {
        try storeOptions.withProjections { _, projections in
            guard let report = try projections.loyalty(id) else {
                throw CommandFailure.notFound("customer", id)
            }
            let json = LoyaltyJSON(report)
            if output.json {
                Console.current.exactLine(try jsonLine(json))
                return
            }
            func signed(_ value: Double) -> String { String(format: "%+.2f", value) }
            Console.current.line(
                """
                customer      \(json.customer)
                score         \(String(format: "%.2f", json.score)) (\(json.tier))
                as of         \(json.asOf) (the customer's latest event)
                satisfaction  \(signed(json.satisfaction))
                service       \(signed(json.service))
                value         \(signed(json.value))
                rules         version \(json.rulesVersion), hash \(json.rulesHash.prefix(12)), generation \(json.generation)
                """)
        }
    }
}

struct LoyaltyTopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top", abstract: "List the customers with the highest scores (ties by id).")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @Option(
        help: ArgumentHelp(
            "Only customers of this tier.",
            discussion:
                "One of the active rules' tiers ('touchlog rules show' lists them); another is exit 64."),
        completion: .custom(activeTierNames))
    var tier: String?
    @Option(help: "How many customers.")
    var limit = 10

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        try storeOptions.withProjections { _, projections in
            let version = try projections.activeGeneration()?.rulesVersion ?? Rules.default.version
            if let tier {
                // The tiers are the active rules' own, so this is checked here, with the store open.
                let tiers = (try projections.activeRules() ?? .default).tiers.map(\.name)
                guard tiers.contains(tier) else {
                    throw ValidationError(
                        "--tier must be one of \(tiers.joined(separator: ", ")), not '\(tier)'")
                }
            }
            let top = try projections.topLoyalty(tier: tier, limit: limit)
            var buffer = OutputBuffer()
            for (rank, loyalty) in top.enumerated() {
                if output.json {
                    buffer.appendExactLine(
                        try jsonLine(
                            TopJSON(
                                customer: loyalty.customer, score: roundedScore(loyalty.score),
                                tier: loyalty.tier, rulesVersion: version)))
                } else {
                    buffer.appendLine(
                        "\(rank + 1). \(loyalty.customer)  \(String(format: "%.2f", loyalty.score))  \(loyalty.tier)"
                    )
                }
            }
            buffer.flush()
            if top.isEmpty && !output.json {
                Console.current.message("no customers\(tier.map { " in tier '\($0)'" } ?? "")")
            }
        }
    }

    struct TopJSON: Encodable {
        var customer: String
        var score: Double
        var tier: String
        var rulesVersion: String
    }
}

/// `loyalty show --json`.
struct LoyaltyJSON: Encodable {
    var customer: String
    var score: Double
    var tier: String
    var rulesVersion: String
    var rulesHash: String
    var generation: UInt64
    var asOf: String
    var satisfaction: Double
    var service: Double
    var value: Double

    init(_ report: ProjectionStore.LoyaltyReport) {
        customer = report.loyalty.customer
        score = roundedScore(report.loyalty.score)
        tier = report.loyalty.tier
        rulesVersion = report.generation.rulesVersion
        rulesHash = report.generation.rulesHashHex
        generation = report.generation.number
        asOf = report.loyalty.asOf.rfc3339
        satisfaction = roundedScore(report.parts.satisfaction)
        service = roundedScore(report.parts.service)
        value = roundedScore(report.parts.value)
    }
}

/// Completes `--tier`: the tiers of the active rules of the store the command line names (see
/// `StoreOptions.path(inCommandLine:)`), else of the built-in rules when that store has no projections or
/// cannot be read: a completion prints candidates, never an error.
@Sendable func activeTierNames(_ words: [String], _: Int, _ prefix: String) -> [String] {
    var rules = Rules.default
    do {
        var options = Store.Options()
        options.create = false
        options.access = .readOnly
        let store = try Store(path: StoreOptions.path(inCommandLine: words), options: options)
        if store.databases.projections != nil, let active = try ProjectionStore(store: store).activeRules() {
            rules = active
        }
    } catch {
        // No store there, or one that cannot be read: the built-in rules' tiers.
    }
    return rules.tiers.map(\.name).filter { $0.hasPrefix(prefix) }
}
