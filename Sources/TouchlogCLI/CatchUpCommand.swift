import ArgumentParser
import TouchlogProjections
import TouchlogStore

/// `touchlog catch-up`: folds into the projections the events appended since they were last brought up
/// to date. `ingest`, `append` and `import` do this after every commit; run it after one of them was
/// interrupted between its commit and its catch-up (reading commands say when that is so).
struct CatchUpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catch-up",
        abstract: "Bring the projections up to the head of the log.",
        discussion: """
            ingest, append and import bring the projections up to date after every commit; reading commands \
            never write, and say when the projections are behind (an ingest was interrupted between its \
            commit and its catch-up). This folds the missing events, from the position the projections \
            record: no event is skipped or applied twice.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    private struct Summary: Encodable {
        var folded: UInt64
        var position: UInt64
        var generation: UInt64
    }

    func run() throws {
        try storeOptions.withStore(.updating) { store in
            let meter = ProgressMeter("projections")
            let summary = try ProjectionStore(store: store).catchUp { meter.update(Int($0)) }
            meter.finish(Int(summary.positions))
            if output.json {
                Console.current.exactLine(
                    try jsonLine(
                        Summary(
                            folded: summary.positions, position: summary.position,
                            generation: summary.generation)))
            } else {
                Console.current.line(
                    """
                    folded \(summary.positions) events; the projections reflect the log up to position \
                    \(summary.position) (generation \(summary.generation))
                    """)
            }
        }
    }
}
