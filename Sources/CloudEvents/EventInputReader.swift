import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads events from any ``ByteSource`` (a file, standard input, a request body in memory, a gzip
/// reader): JSON Lines (one event per line), or a CloudEvents batch (a JSON array of events), and
/// yields each event's raw bytes with the line where it starts.
///
/// The format is chosen by the first byte that is not whitespace (after an optional UTF-8 BOM):
/// `[` means a batch array, anything else JSON Lines.
///
/// Memory: JSON Lines are read from the source in chunks of up to 1 MiB into one fixed buffer of
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

    /// Bytes asked of one read of the source (a source may return fewer).
    static let chunkSize = 1 << 20

    static let capacity = maximumEventBytes + chunkSize

    enum Mode {
        case undecided
        case lines
        case batch(BatchState)
        case finished
    }

    struct BatchState {
        var bytes: [UInt8]
        var pos: Int
        var line: Int
        var expectingFirst = true
        var closed = false
    }

    /// Where the bytes come from. An existential, not a generic parameter: it is called once per chunk
    /// of up to 1 MiB, and callers (the ingest pipeline) keep one reader type whatever the input.
    var source: any ByteSource
    let buffer: UnsafeMutablePointer<UInt8>
    /// Unconsumed bytes are `buffer[start..<end]`; `buffer[start..<scanned]` holds no newline.
    var start = 0
    var end = 0
    var scanned = 0
    var atEOF = false
    /// The line number of the byte at `start`.
    var line = 1
    var mode = Mode.undecided

    /// Reads events from `source`, which the reader owns from now on.
    public init(_ source: some ByteSource) {
        self.source = source
        self.buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.capacity)
    }

    /// Reads from an open file descriptor, which the reader does not close (a ``FileByteSource``).
    public init(fileDescriptor: Int32) {
        self.init(FileByteSource(fileDescriptor: FileDescriptor(rawValue: fileDescriptor)))
    }

    /// Opens `path` read-only as a ``FileByteSource``, which closes it when the reader goes away.
    /// - Throws: ``EventInputError`` (not recoverable, no line) naming the file if it cannot be opened.
    public init(path: String) throws(EventInputError) {
        let source: FileByteSource
        do {
            source = try FileByteSource(path: path)
        } catch {
            throw EventInputError(line: nil, message: error.message, isRecoverable: false)
        }
        self.init(source)
    }

    deinit {
        buffer.deallocate()
    }

    /// The next event, or `nil` at the end of the input (and after a non-recoverable error).
    ///
    /// Blank (whitespace-only) lines are skipped; LF and CRLF line ends are accepted; a UTF-8 BOM
    /// at the very start is skipped. CR-only line ends are not: a line holding a CR between two
    /// events is reported as such, rather than as the invalid JSON (or over-long event) it makes.
    /// - Throws: ``EventInputError``: recoverable for an over-long event or CR-only line ends (the
    ///   reader continues with the next line), not recoverable for a read error of the source or a
    ///   malformed batch array.
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

    /// Reads more bytes after `end` (compacting first); sets `atEOF` when the input ends.
    mutating func fill() throws(EventInputError) {
        if start > 0 {
            let count = end - start
            if count > 0 { (buffer).update(from: buffer + start, count: count) }
            end = count
            scanned -= start
            start = 0
        }
        let room = min(Self.capacity - end, Self.chunkSize)
        precondition(room > 0, "EventInputReader buffer full")
        let count: Int
        do {
            count = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer + end, count: room))
        } catch {
            // The source's message names the file (or says what the input is) and the cause.
            throw EventInputError(
                line: line, message: error.message, isRecoverable: false, isReadFailure: !error.isDataError)
        }
        precondition(count >= 0 && count <= room, "ByteSource returned \(count) for a buffer of \(room)")
        if count == 0 {
            atEOF = true
        } else {
            end += count
        }
    }

    @inline(__always) static func isWhitespace(_ b: UInt8) -> Bool {
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
                try discardOverlongLine(crOnlyLineEnds: hasCROnlyLineEnd(start, end))
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
        let bytes = UnsafeBufferPointer(start: buffer + from, count: to - from)
        if hasCROnlyLineEnd(from, to) { throw crOnlyLineEnds(lineNumber, start: bytes, length: to - from) }
        guard to - from <= Self.maximumEventBytes else {
            throw overlong(lineNumber, start: bytes, length: to - from)
        }
        return EventInputRecord(
            line: lineNumber, bytes: Array(UnsafeBufferPointer(start: buffer + from, count: to - from)))
    }

    /// The error for an event over the maximum, with its first bytes and its whole length (for a
    /// rejects file that keeps what it can).
    func overlong(_ lineNumber: Int, start: UnsafeBufferPointer<UInt8>, length: Int) -> EventInputError {
        EventInputError(
            line: lineNumber,
            message: "event is longer than the maximum of \(Self.maximumEventBytes) bytes",
            isRecoverable: true, bytes: Array(start.prefix(Self.maximumEventBytes)), length: length)
    }

    /// The error for a line with CR-only line ends (see `hasCROnlyLineEnd`): recoverable, like an over-long event.
    private func crOnlyLineEnds(_ lineNumber: Int, start: UnsafeBufferPointer<UInt8>, length: Int)
        -> EventInputError
    {
        EventInputError(
            line: lineNumber,
            message:
                "found a carriage return (CR) without a line feed: CR-only line ends are not supported; convert them to LF or CRLF",
            isRecoverable: true, bytes: Array(start.prefix(Self.maximumEventBytes)), length: length)
    }

    /// Whether `buffer[from..<to]` (one line) holds a CR between two events: `}`, a CR, `{`, with
    /// optional whitespace around the CR. JSON allows a CR only as whitespace and never a `}`
    /// followed by a `{`, so such a line is not one valid event; the likely cause is a file with
    /// CR-only line ends (classic Mac OS), which reads as one long line.
    private func hasCROnlyLineEnd(_ from: Int, _ to: Int) -> Bool {
        var next = from
        while next < to, let found = memchr(buffer + next, 0x0D, to - next) {
            let cr = buffer.distance(to: found.assumingMemoryBound(to: UInt8.self))
            var before = cr - 1
            while before >= from && Self.isWhitespace(buffer[before]) { before -= 1 }
            var after = cr + 1
            while after < to && Self.isWhitespace(buffer[after]) { after += 1 }
            if before >= from && after < to && buffer[before] == UInt8(ascii: "}")
                && buffer[after] == UInt8(ascii: "{")
            {
                return true
            }
            next = after
        }
        return false
    }

    /// Drops the current line, which is known to be bad (too long, or CR-only line ends), through its
    /// LF; then throws, with the line's first bytes and its length.
    private mutating func discardOverlongLine(crOnlyLineEnds crOnly: Bool) throws(EventInputError) {
        let lineNumber = line
        let first = Array(
            UnsafeBufferPointer(start: buffer + start, count: min(end - start, Self.maximumEventBytes)))
        var length = 0  // bytes of the line dropped so far
        var endsWithCR = false  // whether the last byte dropped was a CR (of a CRLF line end)
        func failure(_ length: Int) -> EventInputError {
            first.withUnsafeBufferPointer {
                crOnly
                    ? crOnlyLineEnds(lineNumber, start: $0, length: length)
                    : overlong(lineNumber, start: $0, length: length)
            }
        }
        while true {
            if scanned < end, let found = memchr(buffer + scanned, 0x0A, end - scanned) {
                let newline = buffer.distance(to: found.assumingMemoryBound(to: UInt8.self))
                length += newline - start
                if newline > start { endsWithCR = buffer[newline - 1] == 0x0D }
                start = newline + 1
                scanned = start
                line += 1
                throw failure(length - (endsWithCR ? 1 : 0))
            }
            length += end - start
            if end > start { endsWithCR = buffer[end - 1] == 0x0D }
            start = end
            scanned = end
            if atEOF { throw failure(length) }
            try fill()
        }
    }
}
