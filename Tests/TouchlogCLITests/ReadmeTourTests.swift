import Foundation
import Testing
import TouchlogTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// One command line of README.md's "A tour", as a shell runs it.
struct TourLine: Equatable {
    /// The command, continuations joined, without its trailing `# comment`.
    var command: String
    /// The trailing comment, without `#`; empty when there is none.
    var comment: String
    /// 0, or the code the comment names as `(exit N)`.
    var expectedExit: Int32
}

/// The command lines of the indented block under `## A tour`: every line of it, `\` continuations
/// joined, each with its trailing `# comment` split off.
func tourLines(readme: String) -> [TourLine] {
    var inTour = false
    var pending = ""
    var lines: [TourLine] = []
    for rawLine in readme.split(separator: "\n", omittingEmptySubsequences: false) {
        let line = String(rawLine)
        if line.hasPrefix("## ") {
            inTour = line == "## A tour"
            continue
        }
        guard inTour, line.hasPrefix("    ") else { continue }
        var text = line.trimmingCharacters(in: .whitespaces)
        if text.hasSuffix("\\") {
            text.removeLast()
            pending += text
            continue
        }
        let (command, comment) = splitComment(pending + text)
        pending = ""
        lines.append(
            TourLine(command: command, comment: comment, expectedExit: exitCode(inComment: comment)))
    }
    return lines
}

/// Splits a shell line at its first `#` that starts a word outside quotes.
func splitComment(_ line: String) -> (command: String, comment: String) {
    var quote: Character? = nil
    var previous: Character = " "
    for index in line.indices {
        let character = line[index]
        if let open = quote {
            if character == open { quote = nil }
        } else if character == "'" || character == "\"" {
            quote = character
        } else if character == "#", previous == " " {
            let command = line[..<index].trimmingCharacters(in: .whitespaces)
            let comment = line[line.index(after: index)...].trimmingCharacters(in: .whitespaces)
            return (command, comment)
        }
        previous = character
    }
    return (line.trimmingCharacters(in: .whitespaces), "")
}

/// The `N` of `(exit N)` in a comment, else 0.
func exitCode(inComment comment: String) -> Int32 {
    guard let range = comment.range(of: "(exit ") else { return 0 }
    let digits = comment[range.upperBound...].prefix { $0.isNumber }
    return Int32(digits) ?? 0
}

/// README.md's tour runs, as written and in order, in a fresh directory on the sample its first line
/// makes: each line exits as its comment says (0, or `(exit N)`) and prints something (on standard
/// output or error, or into the file it redirects to). The lines run under `/bin/sh -c` with the built
/// `touchlog` first on PATH, `REPO` set to this checkout and `TOUCHLOG_STORE` to `.touchlog` in the
/// directory. `tail --follow` never ends by itself: it runs until it has printed, at most a few seconds,
/// and is then killed.
@Suite struct ReadmeTourTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test func tourLinesAreParsedAsAShellWouldSeeThem() {
        let readme = """
            ## A tour

                touchlog ingest bad.jsonl   # bad.jsonl:2: ... (exit 65)
                touchlog append --type x \\
                    --data '{"a":"#1"}'   # appended
                touchlog stats

            ## Next
                touchlog not-in-the-tour
            """
        #expect(
            tourLines(readme: readme) == [
                TourLine(
                    command: "touchlog ingest bad.jsonl", comment: "bad.jsonl:2: ... (exit 65)",
                    expectedExit: 65),
                TourLine(
                    command: "touchlog append --type x --data '{\"a\":\"#1\"}'", comment: "appended",
                    expectedExit: 0),
                TourLine(command: "touchlog stats", comment: "", expectedExit: 0),
            ])
    }

    @Test(.timeLimit(.minutes(3)))
    func everyTourLineWorksAsWritten() throws {
        let readme = try String(
            contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = tourLines(readme: readme)
        try #require(lines.count >= 20, "the tour has \(lines.count) lines")
        #expect(lines.first?.command.hasPrefix("touchlog generate") == true)

        let directory = try TemporaryDirectory(prefix: "touchlog-tour")
        let outputs = try TemporaryDirectory(prefix: "touchlog-tour-output")
        var environment = ProcessInfo.processInfo.environment
        let binaries = URL(fileURLWithPath: touchlogExecutable()).deletingLastPathComponent().path
        environment["PATH"] = binaries + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["REPO"] = Self.repository.path
        environment["TOUCHLOG_STORE"] = directory.path + "/.touchlog"

        for (number, line) in lines.enumerated() {
            let follows = line.command.contains("--follow")
            let out = outputs.path + "/\(number).out"
            let err = outputs.path + "/\(number).err"
            #expect(FileManager.default.createFile(atPath: out, contents: nil))
            #expect(FileManager.default.createFile(atPath: err, contents: nil))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            // `exec` so that stopping the shell stops the follower itself.
            process.arguments = ["-c", follows ? "exec " + line.command : line.command]
            process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
            process.environment = environment
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle(forWritingAtPath: out)
            process.standardError = FileHandle(forWritingAtPath: err)
            try process.run()
            if follows {
                let deadline = Date().addingTimeInterval(5)
                while process.isRunning, Date() < deadline, size(of: out) == 0 {
                    usleep(50_000)
                }
                #expect(process.isRunning, "\(line.command) ended by itself")
                // SIGKILL: a reader that holds no write transaction loses nothing by it.
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            } else {
                process.waitUntilExit()
                let errorText = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
                #expect(
                    process.terminationStatus == line.expectedExit,
                    "\(line.command): exit \(process.terminationStatus), expected \(line.expectedExit)\n\(errorText)"
                )
            }
            var printed = size(of: out) + size(of: err)
            if let target = redirectTarget(line.command) {
                printed += size(of: directory.path + "/" + target)
            }
            #expect(printed > 0, "\(line.command) printed nothing")
        }
    }

    private func size(of path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    /// The file a line's last `> FILE` writes to, if any.
    private func redirectTarget(_ command: String) -> String? {
        guard let range = command.range(of: "> ", options: .backwards) else { return nil }
        return command[range.upperBound...].split(separator: " ").first.map(String.init)
    }
}
