import ArgumentParser
import Foundation
import TouchlogGenerator

#if canImport(Glibc)
    import Glibc
#endif

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write realistic synthetic touchpoints as CloudEvents JSON Lines (seeded, deterministic).")

    @Option(help: "How many events.")
    var events = 10_000
    @Option(help: "How many customers.")
    var customers = 1_000
    @Option(help: "How many representatives.")
    var reps = 50
    @Option(help: "Random seed: the same seed gives the same bytes.")
    var seed: UInt64 = 42
    @Option(help: "Share of events that arrive late (event time before earlier arrivals), 0 to 1.")
    var lateFraction = 0.01
    @Option(
        name: .shortAndLong, help: ArgumentHelp("Output file, or - for standard output.", valueName: "file"))
    var output = "-"

    private var configuration: GeneratorConfiguration {
        GeneratorConfiguration(
            seed: seed, events: events, customers: customers, representatives: reps,
            lateFraction: lateFraction)
    }

    func validate() throws {
        do { try configuration.validate() } catch { throw ValidationError(error.message) }
    }

    func run() throws {
        let configuration = self.configuration
        try reportingFailures {
            if output == "-" {
                try TouchpointGenerator.writeJSONLines(configuration, toFileDescriptor: 1)
                return
            }
            let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            guard fd >= 0 else {
                throw CommandFailure(
                    "cannot create '\(output)': \(String(cString: strerror(errno)))",
                    exitCode: ExitStatus.ioError)
            }
            defer { close(fd) }
            try TouchpointGenerator.writeJSONLines(configuration, toFileDescriptor: fd)
            Console.current.message("wrote \(formatCount(events)) events to \(output)")
        }
    }
}
