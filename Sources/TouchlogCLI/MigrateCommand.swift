import ArgumentParser
import Foundation
import TouchlogProjections
import TouchlogStore

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Write a new store of format 3 (erasable) from a store of format 2.",
        discussion: """
            Reads SRC (a store of format 2, opened read-only) and writes every event, in order, into DEST, a \
            new store of format 3: positions, stream versions, event times and recorded times are kept, the \
            personal content is sealed per customer, so the hashes differ. SRC's head position and hash are \
            recorded in DEST ('meta' 'migratedfrom') for its first checkpoint to carry; then the projections \
            of DEST are folded. DEST must not exist (exit 64; a migration killed half-way leaves a DEST \
            without 'migratedfrom': remove it and run again); SRC must be a store of format 2 (exit 65 for a \
            store of format 3, 66 for no store).
            """)

    @OptionGroup var output: OutputOptions
    @Argument(help: ArgumentHelp("The store of format 2 to migrate.", valueName: "src"))
    var source: String
    @Argument(help: ArgumentHelp("The new store of format 3 to write.", valueName: "dest"))
    var destination: String

    private struct Summary: Encodable {
        var events: UInt64
        var sourceHead: UInt64
        var sourceHash: String
        var headHash: String
        var destination: String
    }

    func run() throws {
        let summary = try reportingFailures { () -> EventLog.MigrationSummary in
            if FileManager.default.fileExists(atPath: destination) {
                throw CommandFailure(
                    "'\(destination)' exists: name a new directory for the store of format 3",
                    exitCode: ExitStatus.usage)
            }
            var readOnly = Store.Options()
            readOnly.access = .readOnly
            let old = try Store(path: source, options: readOnly)
            guard old.format == 2 else {
                throw CommandFailure(
                    "'\(source)' has format \(old.format) already: nothing to migrate",
                    exitCode: ExitStatus.dataError)
            }
            let new = try Store(path: destination)
            let meter = ProgressMeter("migrate")
            let summary = try new.log.migrate(from: old.log) { meter.update(Int($0)) }
            meter.finish(Int(summary.events))
            _ = try ProjectionStore(store: new).catchUp()
            return summary
        }
        if output.json {
            Console.current.exactLine(
                try jsonLine(
                    Summary(
                        events: summary.events, sourceHead: summary.sourceHead,
                        sourceHash: summary.sourceHash.description, headHash: summary.headHash.description,
                        destination: destination)))
        } else {
            Console.current.line(
                "migrated \(summary.events) events into '\(destination)' (format 3); the old head \(summary.sourceHead), \(summary.sourceHash), is recorded as 'migratedfrom'; the new head hash is \(summary.headHash)"
            )
        }
    }
}
