import ArgumentParser
import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogIngest
import TouchlogStore

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Append CloudEvents from a JSON Lines file (or a JSON batch array) to the log.",
        discussion: """
            Strict by default: the first invalid event stops the ingest with FILE:LINE: reason and exit 65, \
            and nothing of the batch that held it is written; batches committed before it stay, and \
            re-running the same file appends only what is missing. With --rejects, each invalid event is \
            written to PATH with its reason (JSON Lines) and the ingest goes on.
            \(RejectsFile.formatHelp)
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: ArgumentHelp("The input file, or - for standard input.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("Write invalid events here with their reasons, and go on.", valueName: "path"))
    var rejects: String?

    @Flag(help: "With --rejects: replace an existing file at that path.")
    var force = false

    @Option(help: "Events per atomic, durable commit.")
    var batchSize = 10_000

    /// For crash tests: after each durable commit, print {"committed_through_line":N,...} on stdout.
    @Flag(help: .hidden)
    var printCommits = false

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        if force && rejects == nil { throw ValidationError("--force applies only with --rejects") }
    }

    func run() throws {
        let name = file == "-" ? "<stdin>" : file
        try storeOptions.withLog(create: true) { log in
            var input: EventInputReader
            if file == "-" {
                input = EventInputReader(fileDescriptor: 0)
            } else {
                do { input = try EventInputReader(path: file) } catch let error as EventInputError {
                    throw CommandFailure("\(name): \(error.message)", exitCode: ExitStatus.ioError)
                }
            }
            var ingestor = Ingestor()
            ingestor.batchSize = batchSize
            let rejectsFile = try rejects.map {
                try RejectsFile(
                    path: $0, replacing: force, input: file, inputName: name, store: storeOptions.path)
            }
            if let rejectsFile { ingestor.rejectHandler = { try rejectsFile.write($0) } }
            let meter = ProgressMeter("ingest")
            ingestor.progress = { meter.update($0.appended + $0.duplicates) }
            if printCommits {
                ingestor.commitHandler = { summary, line in
                    Console.current.exactLine(
                        "{\"committed_through_line\":\(line),\"appended\":\(summary.appended),\"duplicates\":\(summary.duplicates)}"
                    )
                }
            }
            let summary = try ingestor.ingest(&input, named: name, into: log)
            meter.finish(summary.appended + summary.duplicates)
            try rejectsFile?.close()
            try updateProjections(after: log)
            if output.json {
                Console.current.exactLine(try jsonLine(summary))
            } else {
                var text =
                    "read \(summary.read), appended \(summary.appended), duplicates \(summary.duplicates)"
                text += ", rejected \(summary.rejected)"
                if summary.appended == 0 && summary.duplicates > 0 && summary.rejected == 0 {
                    text += " (nothing new: every event was already in the log)"
                }
                Console.current.line("\(text)")
            }
        }
    }
}
