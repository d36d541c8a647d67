import ArgumentParser
import CloudEvents
import Foundation
import TouchlogAudit
import TouchlogDomain
import TouchlogIngest
import TouchlogStore

/// Exit codes that scripts can rely on (DESIGN.md section 4, after sysexits.h).
public enum ExitStatus {
    /// `audit` found a problem, or `replay` a stream that is not intact.
    public static let auditFailed: Int32 = 1
    /// The command line was wrong.
    public static let usage: Int32 = 64
    /// The input data was bad.
    public static let dataError: Int32 = 65
    /// What the command names does not exist: no store at the path, or no customer, ticket or rep of that id
    /// in it (sysexits.h EX_NOINPUT).
    public static let notFound: Int32 = 66
    /// Reading or writing failed (the store, a file).
    public static let ioError: Int32 = 74
}

/// `--store`: where the store lives.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The store directory.", discussion: "Defaults to $TOUCHLOG_STORE, else ./.touchlog.",
            valueName: "dir"),
        completion: .directory)
    var store: String?

    /// The store path: `--store`, else `$TOUCHLOG_STORE`, else `./.touchlog`.
    var path: String { store ?? Self.defaultPath }

    /// `$TOUCHLOG_STORE`, else `./.touchlog`.
    static var defaultPath: String {
        if let fromEnvironment = ProcessInfo.processInfo.environment["TOUCHLOG_STORE"],
            !fromEnvironment.isEmpty
        {
            return fromEnvironment
        }
        return ".touchlog"
    }

    /// The store a command line being completed names (`--store DIR` or `--store=DIR` among `words`),
    /// else `$TOUCHLOG_STORE`, else `./.touchlog`: where completions of values from the store look.
    static func path(inCommandLine words: [String]) -> String {
        for (index, word) in words.enumerated() {
            if word == "--store", index + 1 < words.count { return words[index + 1] }
            if word.hasPrefix("--store=") { return String(word.dropFirst("--store=".count)) }
        }
        return defaultPath
    }

    /// What a command does with the store.
    enum Purpose {
        /// Appends or changes derived data; creates the store when it does not exist.
        case writing
        /// Changes derived data or seals an existing store; never creates one.
        case updating
        /// Only reads: opens the store read-only, never creates or writes anything.
        case reading
    }

    /// Opens the store, runs `body`, and turns every failure into a one-line message and an exit code.
    /// This is the one place where commands open the store.
    /// `format` is the format of a store this creates (only `ingest --store-format` asks for 2).
    func withStore<R>(_ purpose: Purpose, format: Int = Store.formatVersion, _ body: (Store) throws -> R)
        throws
        -> R
    {
        try reportingFailures {
            let created = purpose == .writing && !FileManager.default.fileExists(atPath: path)
            do {
                return try run(purpose, format: format, body)
            } catch {
                // A first ingest that stored nothing leaves no empty store behind. Failing to remove it must
                // not hide the command's own error, which is the one reported.
                if created {
                    do { try removeEmptyStore() } catch let cleanup {
                        Console.current.message(
                            "touchlog: note: could not remove the empty store: \(cleanup)")
                    }
                }
                throw error
            }
        }
    }

    private func run<R>(_ purpose: Purpose, format: Int, _ body: (Store) throws -> R) throws -> R {
        var options = Store.Options()
        options.format = format
        options.create = purpose == .writing
        options.access = purpose == .reading ? .readOnly : .readWrite
        let store = try Store(path: path, options: options)
        return try body(store)
    }

    /// Removes the store this command created, if it holds no event (checked after the command closed
    /// it): no data file yet (creating it failed), or a log whose head is position 0.
    private func removeEmptyStore() throws {
        let data = path + "/data.mdb"
        if FileManager.default.fileExists(atPath: data) {
            var options = Store.Options()
            options.access = .readOnly
            // A store that cannot be read back is kept as it is: the command's own error is the one to report.
            guard (try? Store(path: path, options: options).log.head().position) == 0 else { return }
        }
        for file in ["data.mdb", "lock.mdb"] {
            let name = path + "/" + file
            if FileManager.default.fileExists(atPath: name) {
                try FileManager.default.removeItem(atPath: name)
            }
        }
        // Only an empty directory goes: anything else in it stays, and so does the directory.
        rmdir(path)
    }
}

/// `--json`: machine-readable output.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON (JSON Lines for lists) instead of text.")
    var json = false
}

/// A failure already put in words, with the exit code it means.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    var exitCode: Int32
    init(_ description: String, exitCode: Int32) {
        self.description = description
        self.exitCode = exitCode
    }
}

extension CommandFailure {
    /// The one "not found" failure: "no customer 'X' in the store", exit 66.
    static func notFound(_ kind: String, _ id: String) -> CommandFailure {
        CommandFailure("no \(kind) '\(id)' in the store", exitCode: ExitStatus.notFound)
    }
}

/// Runs `body`; prints any failure as one line on standard error and throws the matching `ExitCode`.
/// The one place where errors become exit codes.
func reportingFailures<R>(_ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        let (message, code) = describe(error)
        Console.current.message("touchlog: \(message)")
        throw ExitCode(code)
    }
}

private func describe(_ error: any Error) -> (String, Int32) {
    switch error {
    case let failure as CommandFailure:
        return (failure.description, failure.exitCode)
    case let failure as IngestError:
        var text = failure.description
        let committed = failure.committed
        if committed.appended + committed.duplicates > 0 {
            text +=
                " (committed before it: \(committed.appended) appended, \(committed.duplicates) duplicates)"
        }
        return (text, failure.isReadFailure ? ExitStatus.ioError : ExitStatus.dataError)
    case let failure as SealError:
        return (failure.description, ExitStatus.dataError)
    case let failure as CheckpointError:
        return (failure.description, ExitStatus.dataError)
    case let failure as ProofError:
        switch failure {
        case .noCheckpoint, .unknownCustomer: return (failure.description, ExitStatus.notFound)
        case .treeMismatch, .streamHeadsMismatch: return (failure.description, ExitStatus.auditFailed)
        case .outputNotEmpty: return (failure.description, ExitStatus.usage)
        case .keyWithheld: return (failure.description, ExitStatus.dataError)
        case .cannotWrite: return (failure.description, ExitStatus.ioError)
        }
    case let failure as StoreError:
        switch failure {
        case .versionConflict: return (failure.description, ExitStatus.dataError)
        case .notAStore: return (failure.description, ExitStatus.notFound)
        case .refused: return (failure.description, ExitStatus.dataError)
        default: return (failure.description, ExitStatus.ioError)
        }
    case let failure as ProjectionUpdateError:
        return (failure.description, ExitStatus.ioError)
    default:
        return ("\(error)", ExitStatus.ioError)
    }
}

/// Parses a time option: RFC 3339.
func parseTime(_ text: String, option: String) throws -> Timestamp {
    guard let time = Timestamp(rfc3339: text) else {
        throw ValidationError(
            "\(option) must be an RFC 3339 time such as 2024-05-01T10:00:00Z, not '\(text)'")
    }
    return time
}
