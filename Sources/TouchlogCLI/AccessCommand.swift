import ArgumentParser
import Foundation
import TouchlogStore

/// `touchlog access`: who read a customer's history through the service.
struct AccessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access",
        abstract:
            "Show the read-access log: who read a customer's history through the service, when, from where.",
        discussion: """
            touchlog serve records every read of a customer's events or loyalty, durably, before it answers \
            it. Oldest first. Without --customer, every entry.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "The customer id.")
    var customer: String?

    func run() throws {
        try storeOptions.withStore(.reading) { store in
            let entries = try ReadAccessLog(store: store).entries(customer: customer)
            var buffer = OutputBuffer()
            for entry in entries {
                if output.json {
                    buffer.appendExactLine(try jsonLine(entry))
                } else {
                    buffer.appendLine(
                        "\(entry.when)  \(entry.who)  \(entry.customer)  from \(entry.from)  \(entry.what)")
                }
            }
            buffer.flush()
            if entries.isEmpty && !output.json {
                Console.current.message(
                    customer.map { "no reads of customer '\($0)' are recorded" } ?? "no reads are recorded")
            }
        }
    }
}
