import CloudEvents

/// One CSV record: its fields (unquoted and unescaped) and the line it starts on.
public struct CSVRecord: Sendable, Equatable {
    /// The 1-based line of the input where the record starts (records with quoted newlines span lines).
    public var line: Int
    /// The bytes of every field, one after the other.
    var storage: [UInt8]
    /// The end offset in `storage` of each field.
    var ends: [Int]

    public init(line: Int, fields: [String]) {
        self.line = line
        storage = []
        ends = []
        for field in fields {
            storage.append(contentsOf: field.utf8)
            ends.append(storage.count)
        }
    }

    init(line: Int, storage: [UInt8], ends: [Int]) {
        self.line = line
        self.storage = storage
        self.ends = ends
    }

    /// How many fields the record has.
    public var count: Int { ends.count }

    /// The bytes of field `index`.
    public func bytes(_ index: Int) -> ArraySlice<UInt8> {
        storage[(index == 0 ? 0 : ends[index - 1])..<ends[index]]
    }

    /// Field `index` as text, or nil when it is not valid UTF-8.
    public func field(_ index: Int) -> String? {
        let range = (index == 0 ? 0 : ends[index - 1])..<ends[index]
        return storage.withUnsafeBufferPointer { buffer in
            let bytes = UnsafeBufferPointer(rebasing: buffer[range])
            // ASCII (nearly every field) is valid UTF-8: skip the validator's generic path.
            if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
            return String(validating: bytes, as: UTF8.self)
        }
    }

    /// Every field as text (invalid UTF-8 replaced by U+FFFD).
    public var fields: [String] {
        (0..<count).map { String(decoding: bytes($0), as: UTF8.self) }
    }

    /// The record written back as one line of RFC 4180 CSV (for rejects files), invalid UTF-8
    /// replaced by U+FFFD; `csvBytes` keeps every field's bytes exactly.
    public var csvText: String { String(decoding: csvBytes, as: UTF8.self) }

    /// The record written back as RFC 4180 CSV, each field's bytes exactly as read: a field holding a
    /// comma, quote, CR or LF is quoted, its quotes doubled.
    public var csvBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(storage.count + count)
        for index in 0..<count {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            let field = bytes(index)
            let special: (UInt8) -> Bool = { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
            guard field.contains(where: special) else {
                out.append(contentsOf: field)
                continue
            }
            out.append(0x22)
            for byte in field {
                out.append(byte)
                if byte == 0x22 { out.append(0x22) }
            }
            out.append(0x22)
        }
        return out
    }
}

/// Why a CSV record could not be read.
public struct CSVError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line where the bad record starts.
    public var line: Int
    public var message: String
    /// True when reading can go on with the next record (a malformed record); false when the input
    /// itself failed (`readFailure`) or ended inside a quoted field.
    public var isRecoverable: Bool
    /// Set when the input could not be read at all.
    public var readFailure: ByteSourceError?

    public var description: String { message }
}

/// A streaming RFC 4180 CSV reader with line numbers and bounded memory.
///
/// Fields are separated by commas and records by CRLF or LF. A field that holds a comma, a quote or a line
/// break is quoted (`"`), and a quote inside it is doubled (`""`). Stricter than many readers, on purpose:
/// a quote inside an unquoted field, or anything but a separator after a closing quote, is an error rather
/// than a guess. Blank lines are skipped. A malformed record is reported with the line it starts on and
/// reading resumes at the next line; a record longer than `maximumRecordBytes` is reported the same way
/// (an unbalanced quote would otherwise swallow the rest of the file). Memory: one read buffer and the
/// record being read.
public struct CSVReader<Source: ByteSource> {
    /// The longest record accepted, in bytes.
    public var maximumRecordBytes = 1 << 20

    private var source: Source
    private var buffer: [UInt8]
    private var position = 0
    private var filled = 0
    private var atEnd = false
    /// The current physical line (1-based).
    private var line = 1

    public init(_ source: Source, bufferSize: Int = 1 << 16) {
        self.source = source
        self.buffer = [UInt8](repeating: 0, count: max(bufferSize, 16))
    }

    private enum State {
        case fieldStart, unquoted, quoted, quoteInQuoted
    }

    /// Fills the buffer; false at the end of the input.
    private mutating func refill() throws(CSVError) -> Bool {
        if atEnd { return false }
        position = 0
        let result = buffer.withUnsafeMutableBytes { raw in
            Result { () throws(ByteSourceError) in try source.read(into: raw) }
        }
        switch result {
        case .success(let count):
            filled = count
        case .failure(let error):
            atEnd = true
            filled = 0
            throw CSVError(line: line, message: error.message, isRecoverable: false, readFailure: error)
        }
        if filled == 0 { atEnd = true }
        return filled > 0
    }

    /// The next byte, or nil at the end of the input.
    @inline(__always)
    private mutating func nextByte() throws(CSVError) -> UInt8? {
        if position == filled {
            guard try refill() else { return nil }
        }
        let byte = buffer[position]
        position += 1
        return byte
    }

    /// Skips to just after the next line feed (resynchronising after a malformed record).
    private mutating func skipLine() throws(CSVError) {
        while let byte = try nextByte() {
            if byte == 0x0A {
                line += 1
                return
            }
        }
    }

    /// Reads the next record; nil at the end of the input.
    /// - Throws: `CSVError` for a malformed record (recoverable: call `next()` again to go on) or an
    ///   unreadable input.
    public mutating func next() throws(CSVError) -> CSVRecord? {
        let quote = UInt8(ascii: "\"")
        let comma = UInt8(ascii: ",")
        let lf: UInt8 = 0x0A
        let cr: UInt8 = 0x0D
        record: while true {
            let startLine = line
            var storage: [UInt8] = []
            storage.reserveCapacity(512)
            var ends: [Int] = []
            ends.reserveCapacity(40)
            var state = State.fieldStart
            var pendingCR = false

            func fail(_ message: String, _ recoverable: Bool = true) -> CSVError {
                CSVError(line: startLine, message: message, isRecoverable: recoverable, readFailure: nil)
            }
            var isBlank: Bool { state == .fieldStart && ends.isEmpty && storage.isEmpty }

            while true {
                guard let byte = try nextByte() else {
                    // The end of the input.
                    if state == .quoted {
                        throw fail("a quoted field is not closed before the end of the input", false)
                    }
                    if pendingCR {
                        if state == .quoteInQuoted {
                            throw fail("field \(ends.count + 1) has text after its closing quote")
                        }
                        storage.append(cr)
                    } else if isBlank {
                        return nil
                    }
                    ends.append(storage.count)
                    return CSVRecord(line: startLine, storage: storage, ends: ends)
                }
                if storage.count > maximumRecordBytes {
                    if byte == lf { line += 1 } else { try skipLine() }
                    throw fail(
                        "the record is longer than \(maximumRecordBytes) bytes (is a quote not closed?)")
                }
                if pendingCR {
                    pendingCR = false
                    if byte == lf {
                        line += 1
                        if isBlank { continue record }
                        ends.append(storage.count)
                        return CSVRecord(line: startLine, storage: storage, ends: ends)
                    }
                    if state == .quoteInQuoted {
                        try skipLine()
                        throw fail("field \(ends.count + 1) has text after its closing quote")
                    }
                    // A lone carriage return in an unquoted field is data.
                    storage.append(cr)
                    state = .unquoted
                }
                switch state {
                case .fieldStart, .unquoted:
                    switch byte {
                    case comma:
                        ends.append(storage.count)
                        state = .fieldStart
                    case lf:
                        line += 1
                        if isBlank { continue record }
                        ends.append(storage.count)
                        return CSVRecord(line: startLine, storage: storage, ends: ends)
                    case cr:
                        pendingCR = true
                    case quote:
                        guard state == .fieldStart else {
                            try skipLine()
                            throw fail(
                                "field \(ends.count + 1) holds a quote but is not quoted "
                                    + "(RFC 4180: quote the whole field and double the quotes inside it)")
                        }
                        state = .quoted
                    default:
                        storage.append(byte)
                        state = .unquoted
                    }
                case .quoted:
                    if byte == quote {
                        state = .quoteInQuoted
                    } else {
                        if byte == lf { line += 1 }
                        storage.append(byte)
                    }
                case .quoteInQuoted:
                    switch byte {
                    case quote:
                        storage.append(quote)
                        state = .quoted
                    case comma:
                        ends.append(storage.count)
                        state = .fieldStart
                    case lf:
                        line += 1
                        ends.append(storage.count)
                        return CSVRecord(line: startLine, storage: storage, ends: ends)
                    case cr:
                        pendingCR = true
                    default:
                        try skipLine()
                        throw fail("field \(ends.count + 1) has text after its closing quote")
                    }
                }
            }
        }
    }
}
