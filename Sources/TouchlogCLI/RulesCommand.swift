import ArgumentParser
import Foundation
import TouchlogProjections

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Show the projection rules (SLA targets, loyalty weights, half-life, tiers).",
        subcommands: [RulesShowCommand.self])
}

struct RulesShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the built-in rules, documented line by line (or, with --active, the store's).",
        discussion: """
            Save the output, change values, and apply it with 'touchlog rebuild --rules FILE' (try --dry-run \
            first). The file is TOML 1.0 (https://toml.io/en/v1.0.0), UTF-8 without a byte order mark; tables, \
            dotted keys and inline tables may be mixed: '[sla.high]', 'sla.high.first_reply_minutes = 240' and \
            'high = { first_reply_minutes = 240, resolution_minutes = 1440 }' under '[sla]' set the same keys.
            """)

    @Flag(help: "Print the rules of the store's active projections (their canonical form) instead.")
    var active = false
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let text: String
        let rules: Rules
        if active {
            rules = try storeOptions.withProjections { _, projections in
                try projections.activeRules() ?? .default
            }
            text = rules.canonicalText
        } else {
            rules = .default
            text = Rules.defaultText + "\n"
        }
        if output.json {
            Console.current.exactLine(
                try jsonLine(RulesJSON(version: rules.version, hash: rules.hashHex, text: text)))
        } else {
            Console.current.output(Array(text.utf8))
        }
    }

    struct RulesJSON: Encodable {
        var version: String
        var hash: String
        var text: String
    }
}
