import ArgumentParser

/// The version `touchlog --version` prints: the one place it is written.
public let touchlogVersion = "0.1.0"

/// The `touchlog` command: an append-only log of customer touchpoints.
public struct Touchlog: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "touchlog",
        abstract: "An append-only, hash-chained log of customer touchpoints on LMDB.",
        discussion: """
            Events are CloudEvents 1.0 JSON, one per line. The store is the directory named by --store, \
            else $TOUCHLOG_STORE, else ./.touchlog.
            Exit codes: 0 success, 1 audit (or replay) found a problem, 64 usage, 65 bad input data, 66 not found (no store \
            at the path, or no customer, ticket or rep of that id in it), 74 I/O or storage error.
            """,
        version: touchlogVersion,
        subcommands: [
            IngestCommand.self, AppendCommand.self, ReplayCommand.self, TailCommand.self, StatsCommand.self,
            TicketCommand.self, LoyaltyCommand.self, RepCommand.self, RebuildCommand.self, RulesCommand.self,
            CatchUpCommand.self, AuditCommand.self, SealCommand.self, KeygenCommand.self,
            CheckpointCommand.self, ProveCommand.self, VerifyBundleCommand.self, ImportCommand.self,
            GenerateCommand.self, CatalogCommand.self, ReportCommand.self,
            ExportCommand.self, BackupCommand.self, RestoreCommand.self,
            BenchCommand.self, ServeCommand.self, TokenCommand.self, AccessCommand.self,
            EraseCommand.self, HoldCommand.self, MigrateCommand.self,
        ])

    public init() {}
}

#if canImport(Glibc)
    import Glibc
#endif

extension Touchlog {
    /// Parses the command line, runs the command, and prints what ended it, as ArgumentParser's `main`
    /// does, but through `Console`: usage errors quote what was typed, so they are escaped for the
    /// terminal like every other message (help and version text, which is ours, is printed as it is).
    public static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty {
                if code == .success {
                    Console.current.exactLine(message)
                } else {
                    for line in message.split(separator: "\n", omittingEmptySubsequences: false) {
                        Console.current.message("\(line)")
                    }
                }
            }
            Glibc.exit(code.rawValue)
        }
    }
}
