import ArgumentParser
import Foundation
import Synchronization
import TouchlogStore
import TouchlogTestSupport

@testable import TouchlogCLI

/// What one in-process run of `touchlog` printed and how it ended.
struct CommandResult {
    var exitCode: Int32
    var output: String
    var error: String
    var outputLines: [String] { output.split(separator: "\n").map(String.init) }
}

/// Runs `touchlog ARGS` in process with captured output.
func runTouchlog(_ arguments: [String]) -> CommandResult {
    let out = Mutex<[UInt8]>([])
    let err = Mutex<[UInt8]>([])
    let console = Console(
        errorIsTerminal: false,
        writeOutput: { bytes in out.withLock { $0 += bytes } },
        writeError: { bytes in err.withLock { $0 += bytes } })
    let code: Int32 = Console.$current.withValue(console) {
        do {
            var command = try Touchlog.parseAsRoot(arguments)
            try command.run()
            return 0
        } catch {
            // As ArgumentParser's `main()` does: help goes to standard output, errors to standard error.
            let code = Touchlog.exitCode(for: error).rawValue
            let message = Touchlog.fullMessage(for: error)
            if !message.isEmpty {
                if code == 0 {
                    Console.current.exactLine(message)
                } else {
                    Console.current.writeError(Array((message + "\n").utf8))
                }
            }
            return code
        }
    }
    return CommandResult(
        exitCode: code, output: String(decoding: out.withLock { $0 }, as: UTF8.self),
        error: String(decoding: err.withLock { $0 }, as: UTF8.self))
}

/// A fresh directory for one test, removed afterwards; the store the commands use is `store` in it.
final class Workspace {
    private let scratch: TemporaryDirectory
    var path: String { scratch.path }
    var store: String { path + "/store" }

    init() throws { scratch = try TemporaryDirectory(prefix: "touchlog-cli") }

    /// Writes `lines` as a file in the workspace and returns its path.
    func file(_ name: String, lines: [String]) throws -> String {
        try scratch.file(name, lines: lines)
    }

    /// `touchlog ARGS --store STORE`.
    func run(_ arguments: String...) -> CommandResult {
        run(arguments)
    }

    /// `touchlog ARGS --store STORE`.
    func run(_ arguments: [String]) -> CommandResult {
        runTouchlog(arguments + ["--store", store])
    }

    /// Opens the workspace's store in this process.
    func openLog() throws -> EventLog { try TestStore.openLog(at: store) }

    /// Opens the store of the workspace (for the audit and the projections).
    func openStore() throws -> Store { try TestStore.openStore(at: store) }
}

/// One valid contact.received event line for `customer`, with a summary naming its id.
func contactLine(id: String, customer: String = "cus-1", time: String = "2024-05-01T10:00:00Z") -> String {
    touchpointLine(id: id, customer: customer, time: time, data: #"{"summary":"hello \#(id)"}"#)
}
