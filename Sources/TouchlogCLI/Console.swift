#if canImport(Glibc)
    import Glibc
#endif

/// Where commands write: standard output for data, standard error for messages and progress.
///
/// Commands write through `Console.current`, a task-local, so tests can run a command in process and
/// read what it printed.
public struct Console: Sendable {
    let writeOutput: @Sendable ([UInt8]) -> Void
    let writeError: @Sendable ([UInt8]) -> Void
    /// Whether standard error is a terminal (progress is shown only then).
    let errorIsTerminal: Bool

    public init(
        errorIsTerminal: Bool, writeOutput: @escaping @Sendable ([UInt8]) -> Void,
        writeError: @escaping @Sendable ([UInt8]) -> Void
    ) {
        self.writeOutput = writeOutput
        self.writeError = writeError
        self.errorIsTerminal = errorIsTerminal
    }

    /// The process's standard output and standard error.
    public static let standard = Console(
        errorIsTerminal: isatty(2) == 1,
        writeOutput: { writeAll($0, to: 1) },
        writeError: { writeAll($0, to: 2) })

    @TaskLocal public static var current = Console.standard

    /// Writes `text` and a newline to standard output.
    func line(_ text: String) { writeOutput(Array((text + "\n").utf8)) }
    /// Writes bytes to standard output as they are.
    func output(_ bytes: [UInt8]) { writeOutput(bytes) }
    /// Writes `text` and a newline to standard error.
    func message(_ text: String) { writeError(Array((text + "\n").utf8)) }
    /// Writes `text` to standard error without a newline (progress lines that redraw with \r).
    func status(_ text: String) { writeError(Array(text.utf8)) }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
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

    mutating func appendLine(_ text: String) {
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
