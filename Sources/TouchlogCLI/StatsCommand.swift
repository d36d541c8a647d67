import ArgumentParser
import Foundation
import TouchlogDomain
import TouchlogStore

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Show counts, sizes and positions of the store.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        try storeOptions.withStore(.reading) { store in
            let log = store.log
            let stats = try log.statistics()
            if output.json {
                Console.current.exactLine(try jsonLine(stats))
                return
            }
            let mib = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
            Console.current.line(
                """
                store           \(log.path) (format \(stats.formatVersion))
                events          \(formatCount(stats.events))
                customers       \(formatCount(stats.customers))
                head position   \(stats.headPosition)
                head hash       \(stats.headHash)
                last recorded   \(stats.lastRecordedAt ?? "-")
                events table    \(mib(stats.eventBytes))
                streams table   \(mib(stats.streamBytes))
                id index        \(mib(stats.idBytes))
                map             \(mib(stats.usedBytes)) used of \(mib(stats.mapSize))
                """)
        }
    }
}
