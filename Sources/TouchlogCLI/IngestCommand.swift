import ArgumentParser
import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogIngest
import TouchlogStore

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract:
            "Append CloudEvents from a JSON Lines file (or a JSON batch array), plain or gzip, to the log.",
        discussion: """
            Strict by default: the first invalid event stops the ingest with FILE:LINE: reason and exit 65, \
            and nothing of the batch that held it is written; batches committed before it stay, and \
            re-running the same file appends only what is missing. With --rejects, each invalid event is \
            written to PATH with its reason (JSON Lines) and the ingest goes on.
            \(RejectsFile.formatHelp)
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    /// The format of a store this ingest creates: 3, or 2 to make stores of the old format (to migrate,
    /// or to compare with in benchmarks). Hidden: not for everyday use.
    @Option(help: .hidden) var storeFormat: Int = Store.formatVersion

    @Argument(
        help: ArgumentHelp("The input file, plain or gzip (.gz), or - for standard input.", valueName: "file")
    )
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
        guard Store.supportedFormats.contains(storeFormat) else {
            throw ValidationError("--store-format must be 2 or 3, not \(storeFormat)")
        }
        try storeOptions.withStore(.writing, format: storeFormat) { store in
            // Plain or gzip, from a file or standard input: gzip is inflated, anything else passes through.
            let input: DecompressingFileReader
            do { input = try DecompressingFileReader(path: file) } catch let error as ByteSourceError {
                throw CommandFailure(error.message, exitCode: ExitStatus.ioError)
            }
            var source = CloudEventSource(EventInputReader(input))
            var pipeline = IngestPipeline()
            pipeline.batchSize = batchSize
            let rejectsFile = try rejects.map {
                try RejectsFile(
                    path: $0, replacing: force, input: file, inputName: name, store: storeOptions.path)
            }
            if let rejectsFile { pipeline.rejectHandler = { try rejectsFile.write($0) } }
            let meter = ProgressMeter("ingest")
            pipeline.progress = { meter.update($0.appended + $0.duplicates) }
            if printCommits {
                pipeline.commitHandler = { summary, line, _ in
                    Console.current.exactLine(
                        "{\"committed_through_line\":\(line),\"appended\":\(summary.appended),\"duplicates\":\(summary.duplicates)}"
                    )
                }
            }
            let projectionMeter = ProgressMeter("projections")
            pipeline.projectionProgress = { projectionMeter.update(Int($0)) }
            let summary = try pipeline.run(&source, named: name, into: store)
            meter.finish(summary.appended + summary.duplicates)
            try rejectsFile?.close()
            if output.json {
                Console.current.exactLine(try jsonLine(summary))
            } else {
                var text =
                    "read \(summary.read), appended \(summary.appended), duplicates \(summary.duplicates)"
                text += ", rejected \(summary.rejected)"
                if summary.conflicts > 0 {
                    text +=
                        " (\(summary.conflicts) of them conflicts: a known source and id with other content)"
                }
                if summary.appended == 0 && summary.duplicates > 0 && summary.rejected == 0 {
                    text += " (nothing new: every event was already in the log)"
                }
                Console.current.line("\(text)")
            }
        }
    }
}
