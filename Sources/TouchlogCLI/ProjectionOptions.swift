import ArgumentParser
import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogProjections
import TouchlogReport
import TouchlogStore

extension StoreOptions {
    /// Opens the store read-only with its projections and runs `body`; says on standard error when the
    /// projections are behind the log (an ingest was interrupted before it brought them up to date).
    ///
    /// Reading commands use this: they never write, so they work on a read-only copy and on a full disk.
    func withProjections<R>(_ body: (Store, ProjectionStore) throws -> R) throws -> R {
        try withStore(.reading) { store in
            let projections = try ProjectionStore(store: store)
            if let active = try projections.activeGeneration(), !active.isCurrent {
                throw ProjectionError.outdated(path: store.path, code: active.code)
            }
            let (position, head) = try projections.lag()
            if position < head {
                Console.current.message(
                    """
                    touchlog: note: the projections reflect the log up to position \(position) of \(head) \
                    (\(head - position) events behind); 'touchlog catch-up' brings them up to date
                    """)
            }
            return try body(store, projections)
        }
    }
}

/// Reads a rules file: `FILE:LINE:COLUMN: reason` (or `FILE:LINE:`, or `FILE:`) and exit 65 when it
/// is not valid rules; bytes that are not UTF-8 are an error, not replaced.
func readRules(_ path: String) throws -> Rules {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CommandFailure("cannot read the rules file '\(path)'", exitCode: ExitStatus.ioError)
    }
    do throws(RulesError) {
        let text: String
        do { text = try TOMLDocument.text(utf8: Array(data)) } catch {
            throw RulesError(line: error.line, column: error.column, message: error.message)
        }
        return try Rules(toml: text)
    } catch {
        let location = [error.line, error.column].compactMap { $0 }.map { ":\($0)" }.joined()
        throw CommandFailure("\(path)\(location): \(error.message)", exitCode: ExitStatus.dataError)
    }
}

/// `--since` and `--until`: an event-time range (as `replay --until`; `--from` is a position, in `tail`).
struct TimeRangeOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp("Only events that happened at or after this RFC 3339 time.", valueName: "time"))
    var since: String?
    @Option(
        help: ArgumentHelp("Only events that happened at or before this RFC 3339 time.", valueName: "time"))
    var until: String?

    func range() throws -> (Timestamp?, Timestamp?) {
        (
            try since.map { try parseTime($0, option: "--since") },
            try until.map { try parseTime($0, option: "--until") }
        )
    }
}

/// Minutes with at most two decimals, for text output.
func formatMinutes(_ minutes: Double?) -> String { ReplayNarrator.formatMinutes(minutes) }

/// A score (or minutes) rounded to two decimals, as printed and put in JSON.
func roundedScore(_ score: Double) -> Double { (score * 100).rounded() / 100 }
