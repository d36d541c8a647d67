#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One event's raw bytes as read from the input, with the 1-based line number where it starts.
public struct EventInputRecord: Sendable {
    public var line: Int
    public var bytes: [UInt8]

    public init(line: Int, bytes: [UInt8]) {
        self.line = line
        self.bytes = bytes
    }
}

/// Why reading events failed.
public struct EventInputError: Error, Sendable, CustomStringConvertible {
    /// The 1-based line concerned, if any.
    public var line: Int?
    /// What went wrong, without the line number.
    public var message: String
    /// `true`: this record is bad but reading can go on with the next one. `false`: an I/O failure
    /// or a malformed batch array; the reader is finished.
    public var isRecoverable: Bool
    /// `true` when the input could not be opened or read (an I/O error); `false` when it was read and
    /// holds bad data (an over-long event, a malformed batch array).
    public var isReadFailure: Bool
    /// For an over-long event: its first bytes, at most ``EventInputReader/maximumEventBytes`` of them.
    public var bytes: [UInt8]
    /// For an over-long event: its whole length in bytes (without the line end).
    public var length: Int?

    public init(
        line: Int?, message: String, isRecoverable: Bool, isReadFailure: Bool = false, bytes: [UInt8] = [],
        length: Int? = nil
    ) {
        self.line = line
        self.message = message
        self.isRecoverable = isRecoverable
        self.isReadFailure = isReadFailure
        self.bytes = bytes
        self.length = length
    }

    /// "line 7: ..." or just the message.
    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}

/// Reads events from a byte stream: JSON Lines (one event per line), or a CloudEvents batch (a
/// JSON array of events), and yields each event's raw bytes with the line where it starts.
///
/// The format is chosen by the first byte that is not whitespace (after an optional UTF-8 BOM):
/// `[` means a batch array, anything else JSON Lines.
///
/// Memory: JSON Lines are read with `read(2)` in chunks of up to 1 MiB into one fixed buffer of
/// 2 MiB, so memory stays bounded however large the input is; a line longer than
/// ``maximumEventBytes`` is skipped without being buffered and reported as a recoverable error.
/// A batch array is read whole into memory (the batch format has no framing that would let one
/// element be found without the ones before it); feed large inputs as JSON Lines.
///
/// Elements of a batch are delimited structurally (strings, escapes and bracket depth), not fully
/// parsed, so an element with invalid JSON inside is still yielded for ``CloudEvent/init(json:)``
/// to reject with a precise reason; unbalanced brackets, a missing element or trailing data make
/// the array itself malformed (a non-recoverable error).
public struct EventInputReader: ~Copyable {
    /// The maximum size of one event: 1 MiB (1,048,576 bytes), not counting the line end.
    public static let maximumEventBytes = 1_048_576

    /// Bytes asked of one `read(2)`.
    static let chunkSize = 1 << 20

    private static let capacity = maximumEventBytes + chunkSize

    private enum Mode {
        case undecided
        case lines
        case batch(BatchState)
        case finished
    }

    private struct BatchState {
        var bytes: [UInt8]
        var pos: Int
        var line: Int
        var expectingFirst = true
        var closed = false
    }

    private let fd: Int32
    private let ownsDescriptor: Bool
    private let buffer: UnsafeMutablePointer<UInt8>
    /// Unconsumed bytes are `buffer[start..<end]`; `buffer[start..<scanned]` holds no newline.
    private var start = 0
    private var end = 0
    private var scanned = 0
    private var atEOF = false
    /// The line number of the byte at `start`.
    private var line = 1
    private var mode = Mode.undecided

    /// Reads from an open file descriptor, which the reader does not close.
    public init(fileDescriptor: Int32) {
        self.init(fd: fileDescriptor, owns: false)
    }

    /// Opens `path` read-only (`open(2)` with `O_RDONLY | O_CLOEXEC`); the reader closes it when it goes away.
    /// - Throws: ``EventInputError`` (not recoverable) if the file cannot be opened.
    public init(path: String) throws(EventInputError) {
        var fd: Int32
        repeat {
            fd = open(path, O_RDONLY | O_CLOEXEC)
        } while fd < 0 && errno == EINTR
        guard fd >= 0 else {
            throw EventInputError(
                line: nil, message: "cannot open \(path): \(Self.errorText(errno))", isRecoverable: false,
                isReadFailure: true)
        }
        self.init(fd: fd, owns: true)
    }

    private init(fd: Int32, owns: Bool) {
        self.fd = fd
        self.ownsDescriptor = owns
        self.buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.capacity)
    }

    deinit {
        buffer.deallocate()
        if ownsDescriptor { _ = close(fd) }
    }

    /// The next event, or `nil` at the end of the input (and after a non-recoverable error).
    ///
    /// Blank (whitespace-only) lines are skipped; LF and CRLF line ends are accepted; a UTF-8 BOM
    /// at the very start is skipped.
    /// - Throws: ``EventInputError``: recoverable for an over-long event (the reader continues
    ///   with the next one), not recoverable for an I/O error or a malformed batch array.
    public mutating func next() throws(EventInputError) -> EventInputRecord? {
        do {
            switch mode {
            case .undecided:
                try decideMode()
                return try next()
            case .lines:
                return try nextLine()
            case .batch:
                return try nextBatchElement()
            case .finished:
                return nil
            }
        } catch {
            if !error.isRecoverable { mode = .finished }
            throw error
        }
    }

    // MARK: Reading

    private static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// Reads more bytes after `end` (compacting first); sets `atEOF` when the input ends.
    private mutating func fill() throws(EventInputError) {
        if start > 0 {
            let count = end - start
            if count > 0 { (buffer).update(from: buffer + start, count: count) }
            end = count
            scanned -= start
            start = 0
        }
        let room = min(Self.capacity - end, Self.chunkSize)
        precondition(room > 0, "EventInputReader buffer full")
        while true {
            let n = read(fd, buffer + end, room)
            if n > 0 {
                end += n
                return
            }
            if n == 0 {
                atEOF = true
                return
            }
            if errno == EINTR { continue }
            throw EventInputError(
                line: line, message: "read failed: \(Self.errorText(errno))", isRecoverable: false,
                isReadFailure: true)
        }
    }

    @inline(__always) private static func isWhitespace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09
    }

    private mutating func decideMode() throws(EventInputError) {
        while end - start < 3 && !atEOF { try fill() }
        if end - start >= 3 && buffer[start] == 0xEF && buffer[start + 1] == 0xBB && buffer[start + 2] == 0xBF
        {
            start += 3
            scanned = start
        }
        // Consume leading whitespace (blank lines are skipped in either format anyway).
        while true {
            while start < end && Self.isWhitespace(buffer[start]) {
                if buffer[start] == 0x0A { line += 1 }
                start += 1
            }
            scanned = start
            if start < end || atEOF { break }
            try fill()
        }
        if start < end && buffer[start] == UInt8(ascii: "[") {
            try readBatch()
        } else {
            mode = .lines
        }
    }

    // MARK: JSON Lines

    private mutating func nextLine() throws(EventInputError) -> EventInputRecord? {
        while true {
            if scanned < end, let found = memchr(buffer + scanned, 0x0A, end - scanned) {
                let newline = buffer.distance(to: found.assumingMemoryBound(to: UInt8.self))
                let lineStart = start
                let lineNumber = line
                start = newline + 1
                scanned = start
                line += 1
                if let record = try record(lineStart, newline, lineNumber) { return record }
                continue
            }
            scanned = end
            if atEOF {
                guard start < end else {
                    mode = .finished
                    return nil
                }
                let lineStart = start
                start = end
                scanned = end
                if let record = try record(lineStart, end, line) { return record }
                continue
            }
            if end - start > Self.maximumEventBytes + 1 {
                try discardOverlongLine()
            }
            try fill()
        }
    }

    /// The record for the line `buffer[from..<to]` (without its LF), or `nil` if it is blank.
    private func record(_ from: Int, _ to: Int, _ lineNumber: Int) throws(EventInputError)
        -> EventInputRecord?
    {
        var to = to
        if to > from && buffer[to - 1] == 0x0D { to -= 1 }
        var blank = true
        for i in from..<to where !Self.isWhitespace(buffer[i]) {
            blank = false
            break
        }
        if blank { return nil }
        guard to - from <= Self.maximumEventBytes else {
            throw overlong(
                lineNumber, start: UnsafeBufferPointer(start: buffer + from, count: Self.maximumEventBytes),
                length: to - from)
        }
        return EventInputRecord(
            line: lineNumber, bytes: Array(UnsafeBufferPointer(start: buffer + from, count: to - from)))
    }

    /// The error for an event of `length` bytes, too long, that begins with `start`.
    private func overlong(_ lineNumber: Int, start: UnsafeBufferPointer<UInt8>, length: Int)
        -> EventInputError
    {
        EventInputError(
            line: lineNumber,
            message: "event is longer than the maximum of \(Self.maximumEventBytes) bytes",
            isRecoverable: true, bytes: Array(start.prefix(Self.maximumEventBytes)), length: length)
    }

    /// Drops the current line, which is known to be too long, through its LF; then throws, with the
    /// line's first bytes and its length.
    private mutating func discardOverlongLine() throws(EventInputError) {
        let lineNumber = line
        let kept = UnsafeBufferPointer(start: buffer + start, count: min(end - start, Self.maximumEventBytes))
        let first = Array(kept)
        var length = 0  // bytes of the line dropped so far
        var endsWithCR = false  // whether the last byte dropped was a CR (of a CRLF line end)
        while true {
            if scanned < end, let found = memchr(buffer + scanned, 0x0A, end - scanned) {
                let newline = buffer.distance(to: found.assumingMemoryBound(to: UInt8.self))
                length += newline - start
                if newline > start { endsWithCR = buffer[newline - 1] == 0x0D }
                start = newline + 1
                scanned = start
                line += 1
                throw first.withUnsafeBufferPointer {
                    overlong(lineNumber, start: $0, length: length - (endsWithCR ? 1 : 0))
                }
            }
            length += end - start
            if end > start { endsWithCR = buffer[end - 1] == 0x0D }
            start = end
            scanned = end
            if atEOF {
                throw first.withUnsafeBufferPointer { overlong(lineNumber, start: $0, length: length) }
            }
            try fill()
        }
    }

    // MARK: Batch

    private mutating func readBatch() throws(EventInputError) {
        var bytes = Array(UnsafeBufferPointer(start: buffer + start, count: end - start))
        start = end
        scanned = end
        while !atEOF {
            try fill()
            bytes.append(contentsOf: UnsafeBufferPointer(start: buffer + start, count: end - start))
            start = end
            scanned = end
        }
        mode = .batch(BatchState(bytes: bytes, pos: 1, line: line))
    }

    /// A batch array that cannot be split into events: bad input data, after which reading stops.
    private func malformed(_ line: Int, _ message: String) -> EventInputError {
        EventInputError(line: line, message: "malformed batch array: \(message)", isRecoverable: false)
    }

    private mutating func nextBatchElement() throws(EventInputError) -> EventInputRecord? {
        guard case .batch(var state) = mode else { return nil }
        if state.closed {
            mode = .finished
            return nil
        }
        mode = .finished  // while `state` is out; put back below
        let result = try state.bytes.withUnsafeBufferPointer {
            p throws(EventInputError) -> EventInputRecord? in
            let n = p.count
            func skipWhitespace() {
                while state.pos < n && Self.isWhitespace(p[state.pos]) {
                    if p[state.pos] == 0x0A { state.line += 1 }
                    state.pos += 1
                }
            }
            skipWhitespace()
            guard state.pos < n else { throw malformed(state.line, "the array is not closed with ']'") }
            if p[state.pos] == UInt8(ascii: "]") {
                if !state.expectingFirst { throw malformed(state.line, "trailing comma before ']'") }
                state.pos += 1
                skipWhitespace()
                if state.pos < n { throw malformed(state.line, "unexpected data after the batch array") }
                return nil
            }
            let elementStart = state.pos
            let elementLine = state.line
            var open: [UInt8] = []  // the brackets open inside this element
            var inString = false
            var i = state.pos
            var elementEnd = -1
            var closesArray = false
            scan: while i < n {
                let b = p[i]
                if b == 0x0A { state.line += 1 }
                if inString {
                    if b == UInt8(ascii: "\\") {
                        i += 2
                        continue
                    }
                    if b == UInt8(ascii: "\"") { inString = false }
                    i += 1
                    continue
                }
                switch b {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): open.append(b)
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    guard let innermost = open.last else {
                        guard b == UInt8(ascii: "]") else { throw malformed(state.line, "unbalanced '}'") }
                        elementEnd = i
                        closesArray = true
                        break scan
                    }
                    guard innermost == b &- 2 else {  // '[' + 2 == ']', '{' + 2 == '}'
                        throw malformed(state.line, "unbalanced '\(Character(Unicode.Scalar(b)))'")
                    }
                    open.removeLast()
                case UInt8(ascii: ","):
                    if open.isEmpty {
                        elementEnd = i
                        break scan
                    }
                default: break
                }
                i += 1
            }
            guard elementEnd >= 0 else { throw malformed(elementLine, "the array is not closed with ']'") }
            var last = elementEnd
            while last > elementStart && Self.isWhitespace(p[last - 1]) { last -= 1 }
            guard last > elementStart else {
                throw malformed(state.line, "expected an event before '\(closesArray ? "]" : ",")'")
            }
            state.pos = elementEnd + 1
            state.expectingFirst = false
            if closesArray {
                skipWhitespace()
                if state.pos < n { throw malformed(state.line, "unexpected data after the batch array") }
                state.closed = true
            }
            guard last - elementStart <= Self.maximumEventBytes else {
                mode = .batch(state)
                throw overlong(
                    elementLine, start: UnsafeBufferPointer(rebasing: p[elementStart..<last]),
                    length: last - elementStart)
            }
            return EventInputRecord(
                line: elementLine, bytes: Array(UnsafeBufferPointer(rebasing: p[elementStart..<last])))
        }
        guard let result else { return nil }
        mode = .batch(state)
        return result
    }
}
