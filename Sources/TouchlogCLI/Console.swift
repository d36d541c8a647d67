import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where commands write: standard output for data, standard error for messages and progress.
///
/// Commands write through `Console.current`, a task-local, so tests can run a command in process and
/// read what it printed.
///
/// Human-readable lines (`line`, `message`, `OutputBuffer.appendLine`) take a ``TerminalText``: the text
/// written in the source is kept, every value interpolated into it is escaped with
/// ``Swift/StringProtocol/escapedForTerminal``. So nothing from an event, a file or an error can move the
/// cursor, retitle the terminal or forge a line of its own. Machine-readable output (`--json`, CSV) goes
/// through `exactLine` and `output`, byte for byte.
public struct Console: Sendable {
    let writeOutput: @Sendable ([UInt8]) -> Void
    let writeError: @Sendable ([UInt8]) -> Void
    /// Whether standard error is a terminal (progress is shown only then).
    let errorIsTerminal: Bool
    /// Whether human-readable output may use colour: see ``Console/usesColour(outputIsTerminal:environment:)``.
    let usesColour: Bool
    /// Whether the reader of standard output has gone: a write failed with `EPIPE`.
    let outputIsClosed: @Sendable () -> Bool
    /// Waits at most `milliseconds` for the reader of standard output to go; returns whether it has.
    let waitForOutputClosed: @Sendable (_ milliseconds: Int32) -> Bool

    /// A console that writes through the given functions and whose output is never closed (waiting
    /// for that just sleeps).
    public init(
        errorIsTerminal: Bool, usesColour: Bool = false, writeOutput: @escaping @Sendable ([UInt8]) -> Void,
        writeError: @escaping @Sendable ([UInt8]) -> Void
    ) {
        self.init(
            errorIsTerminal: errorIsTerminal, usesColour: usesColour, writeOutput: writeOutput,
            writeError: writeError,
            outputIsClosed: { false },
            waitForOutputClosed: { milliseconds in
                usleep(useconds_t(milliseconds) * 1000)
                return false
            })
    }

    init(
        errorIsTerminal: Bool, usesColour: Bool, writeOutput: @escaping @Sendable ([UInt8]) -> Void,
        writeError: @escaping @Sendable ([UInt8]) -> Void, outputIsClosed: @escaping @Sendable () -> Bool,
        waitForOutputClosed: @escaping @Sendable (Int32) -> Bool
    ) {
        self.writeOutput = writeOutput
        self.writeError = writeError
        self.errorIsTerminal = errorIsTerminal
        self.usesColour = usesColour
        self.outputIsClosed = outputIsClosed
        self.waitForOutputClosed = waitForOutputClosed
    }

    /// The process's standard output and standard error.
    ///
    /// The executable ignores `SIGPIPE` (Sources/touchlog/main.swift), so a write to a standard output
    /// whose reader has gone fails with `EPIPE` instead of killing the process; `outputIsClosed` then
    /// says so and commands that stream (`tail --follow`) stop.
    public static let standard = Console(
        errorIsTerminal: isatty(2) == 1,
        usesColour: usesColour(
            outputIsTerminal: isatty(1) == 1, environment: ProcessInfo.processInfo.environment),
        writeOutput: { writeAll($0, to: 1) },
        writeError: { writeAll($0, to: 2) },
        outputIsClosed: { standardOutputClosed.load(ordering: .relaxed) },
        waitForOutputClosed: { milliseconds in
            if standardOutputClosed.load(ordering: .relaxed) { return true }
            // No events asked for: poll(2) reports only POLLERR (a pipe without readers), POLLHUP (a hung-up
            // terminal or socket) and POLLNVAL, and otherwise sleeps for the timeout.
            var descriptor = pollfd(fd: 1, events: 0, revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            guard ready > 0, descriptor.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 else {
                return false
            }
            standardOutputClosed.store(true, ordering: .relaxed)
            return true
        })

    /// Whether to colour standard output: only when it is a terminal, never when `NO_COLOR` is set to a
    /// non-empty value (https://no-color.org), and never for `TERM=dumb`, which has no colours.
    static func usesColour(outputIsTerminal: Bool, environment: [String: String]) -> Bool {
        guard outputIsTerminal else { return false }
        if let noColour = environment["NO_COLOR"], !noColour.isEmpty { return false }
        return environment["TERM"] != "dumb"
    }

    @TaskLocal public static var current = Console.standard

    /// Set once a write to standard output failed with `EPIPE` or its reader was seen to hang up.
    private static let standardOutputClosed = Atomic<Bool>(false)

    /// Writes `text` and a newline to standard output, every interpolated value escaped for a terminal.
    func line(_ text: TerminalText) { writeOutput(Array((text.text + "\n").utf8)) }
    /// Writes `text` and a newline to standard output exactly as it is: for machine-readable output
    /// (`--json`, CSV), which must not be altered.
    func exactLine(_ text: String) { writeOutput(Array((text + "\n").utf8)) }
    /// Writes bytes to standard output as they are.
    func output(_ bytes: [UInt8]) { writeOutput(bytes) }
    /// Writes `text` and a newline to standard error, every interpolated value escaped for a terminal.
    func message(_ text: TerminalText) { writeError(Array((text.text + "\n").utf8)) }
    /// Writes `text` to standard error without a newline (progress lines that redraw with \r); only
    /// for text made here, which holds no values from events or files.
    func status(_ text: String) { writeError(Array(text.utf8)) }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    if errno == EPIPE && fd == 1 { standardOutputClosed.store(true, ordering: .relaxed) }
                    return
                }
                offset += written
            }
        }
    }
}

/// A line for a terminal: what is written in the source is kept as it is; every value interpolated
/// into it is escaped with ``Swift/StringProtocol/escapedForTerminal``.
///
/// `Console.line`, `Console.message` and `OutputBuffer.appendLine` take this type, so a value cannot
/// reach the terminal unescaped: `"ticket \(id)"` escapes `id`, and a string made elsewhere is passed as
/// `"\(text)"`, which escapes all of it (its newlines too: one call, one line).
struct TerminalText: ExpressibleByStringInterpolation, Sendable {
    var text: String

    init(stringLiteral value: String) { text = value }
    init(stringInterpolation: StringInterpolation) { text = stringInterpolation.text }

    struct StringInterpolation: StringInterpolationProtocol {
        var text = ""
        init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + 16 * interpolationCount)
        }
        mutating func appendLiteral(_ literal: String) { text += literal }
        mutating func appendInterpolation(_ value: some Any) {
            text += String(describing: value).escapedForTerminal
        }
        /// Another terminal text, whose values are already escaped: kept as it is.
        mutating func appendInterpolation(_ value: TerminalText) { text += value.text }
        /// The value, escaped, in `colour` when one is given (the caller asks `Console.usesColour`).
        mutating func appendInterpolation(_ value: some Any, colour: TerminalColour?) {
            guard let colour else { return appendInterpolation(value) }
            text += "\u{1B}[\(colour.rawValue)m" + String(describing: value).escapedForTerminal + "\u{1B}[0m"
        }
    }
}

/// The colours touchlog uses (SGR foreground codes): green for a good verdict, red for a bad one.
enum TerminalColour: Int {
    case red = 31
    case green = 32
}

extension StringProtocol {
    /// The text with every character a terminal would act on, rather than show, written as a visible
    /// escape such as `\u{1B}`: C0 controls (newline and tab included), DEL, C1 controls, the line and
    /// paragraph separators U+2028 and U+2029, and the bidirectional embeddings, overrides and isolates
    /// (U+202A-U+202E, U+2066-U+2069) that reorder what a line appears to say.
    ///
    /// Backslashes are kept, so the escape is readable, not reversible; `--json` is the exact form.
    var escapedForTerminal: String {
        // Fast path: these bytes are the only ones that start an escaped character in UTF-8.
        let clean = utf8.allSatisfy { byte in
            byte >= 0x20 && byte != 0x7F && byte != 0xC2 && byte != 0xE2
        }
        if clean { return String(self) }
        var out = ""
        out.reserveCapacity(utf8.count + 16)
        for scalar in unicodeScalars {
            switch scalar.value {
            case 0x00...0x1F, 0x7F...0x9F, 0x2028...0x202E, 0x2066...0x2069:
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Buffers standard output and writes it in large chunks (`tail` and `replay` print many lines).
struct OutputBuffer {
    private var bytes: [UInt8] = []
    private let console = Console.current

    init() { bytes.reserveCapacity(1 << 16) }

    mutating func append(_ data: [UInt8]) {
        bytes.append(contentsOf: data)
        if bytes.count >= 1 << 16 { flush() }
    }

    /// Appends a human-readable line, every interpolated value escaped (see ``TerminalText``).
    mutating func appendLine(_ text: TerminalText) {
        appendExactLine(text.text)
    }

    /// Appends a line exactly as it is: for `--json` and other machine-readable output.
    mutating func appendExactLine(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        bytes.append(0x0a)
        if bytes.count >= 1 << 16 { flush() }
    }

    /// Lends the buffer to `body` to append to it in place.
    mutating func write(_ body: (inout [UInt8]) -> Void) {
        body(&bytes)
        if bytes.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        guard !bytes.isEmpty else { return }
        console.output(bytes)
        bytes.removeAll(keepingCapacity: true)
    }
}
