import Foundation

/// A tool from Debian's packages that turns the report's HTML into a PDF: headless Chromium, else
/// WeasyPrint. Touchlog draws no PDF itself; without either tool the report has no PDF.
public struct PDFRenderer: Sendable, Equatable {
    public enum Tool: String, Sendable {
        case chromium, weasyprint
    }

    public var tool: Tool
    /// The executable's path.
    public var executable: String

    public init(tool: Tool, executable: String) {
        self.tool = tool
        self.executable = executable
    }

    /// How long one rendering may take before it is stopped (a report of 5,000 events prints in seconds).
    public static let timeout: TimeInterval = 300

    /// The first renderer found in the directories of `searchPath` (a `PATH` value): `chromium`, then
    /// `chromium-browser`, then `weasyprint`; nil when none is there.
    public static func find(searchPath: String? = ProcessInfo.processInfo.environment["PATH"]) -> PDFRenderer?
    {
        let directories = (searchPath ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
        for (name, tool) in [
            ("chromium", Tool.chromium), ("chromium-browser", .chromium), ("weasyprint", .weasyprint),
        ] {
            for directory in directories {
                let candidate = directory + "/" + name
                if FileManager.default.isExecutableFile(atPath: candidate) {
                    return PDFRenderer(tool: tool, executable: candidate)
                }
            }
        }
        return nil
    }

    /// Renders the HTML file at `html` to a PDF at `pdf`.
    /// - Throws: `ReportError.renderer` with the tool's last line of output when it fails, stops without
    ///   writing the PDF, or runs longer than ``timeout``.
    public func render(html: String, pdf: String) throws {
        let htmlURL = URL(fileURLWithPath: html).standardizedFileURL
        let pdfPath = URL(fileURLWithPath: pdf).standardizedFileURL.path
        switch tool {
        case .chromium:
            try Self.runChromium(
                executable,
                ["--print-to-pdf=\(pdfPath)", "--no-pdf-header-footer", htmlURL.absoluteString],
                output: pdfPath)
        case .weasyprint:
            try Self.run(executable, [htmlURL.path, pdfPath], output: pdfPath)
        }
    }

    /// Runs headless Chromium with `arguments` in a profile directory of its own (removed afterwards), with
    /// no sandbox (it runs as root in containers) and no GPU, and checks that it wrote `output`.
    /// Also what tests use to take a screenshot of a report (`--screenshot=PATH`).
    public static func runChromium(_ executable: String, _ arguments: [String], output: String) throws {
        let profile = FileManager.default.temporaryDirectory
            .appendingPathComponent("touchlog-chromium-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: profile) }  // a leftover profile harms nothing
        try run(
            executable,
            ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)"]
                + arguments,
            output: output)
    }

    /// Runs `executable` with `arguments`, its output to a temporary file; fails unless it exits 0 and
    /// `output` exists afterwards.
    static func run(_ executable: String, _ arguments: [String], output: String) throws {
        let name = URL(fileURLWithPath: executable).lastPathComponent
        let log = FileManager.default.temporaryDirectory
            .appendingPathComponent("touchlog-render-\(UUID().uuidString).log").path
        guard FileManager.default.createFile(atPath: log, contents: nil),
            let logHandle = FileHandle(forWritingAtPath: log)
        else { throw ReportError.renderer(tool: name, reason: "cannot create its log file \(log)") }
        defer {
            try? logHandle.close()
            try? FileManager.default.removeItem(atPath: log)  // a leftover log harms nothing
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = logHandle
        process.standardError = logHandle
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do { try process.run() } catch {
            throw ReportError.renderer(tool: name, reason: "cannot start \(executable): \(error)")
        }
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            finished.wait()
            throw ReportError.renderer(tool: name, reason: "stopped after \(Int(timeout)) seconds")
        }
        let lastLine = {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.split(whereSeparator: \.isNewline).last.map(String.init) ?? "no output"
        }
        guard process.terminationStatus == 0 else {
            throw ReportError.renderer(
                tool: name, reason: "exit status \(process.terminationStatus): \(lastLine())")
        }
        guard FileManager.default.fileExists(atPath: output) else {
            throw ReportError.renderer(tool: name, reason: "wrote no \(output): \(lastLine())")
        }
    }
}

/// Why a report could not be written.
public enum ReportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The output directory cannot be made or a file in it cannot be written.
    case output(path: String, reason: String)
    /// The PDF renderer failed.
    case renderer(tool: String, reason: String)

    public var description: String {
        switch self {
        case .output(let path, let reason): "cannot write the report to \(path): \(reason)"
        case .renderer(let tool, let reason): "\(tool) could not render the PDF: \(reason)"
        }
    }
}
