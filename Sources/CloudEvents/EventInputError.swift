/// Why reading events failed.
public struct EventInputError: Error, Sendable, CustomStringConvertible {
    /// The 1-based line concerned, if any.
    public var line: Int?
    /// What went wrong, without the line number.
    public var message: String
    /// `true`: this record is bad but reading can go on with the next one. `false`: the input cannot
    /// be read (an I/O failure, corrupt compressed data) or a malformed batch array; the reader is finished.
    public var isRecoverable: Bool
    /// `true` when the input could not be opened or read (an I/O error); `false` when it was read and
    /// holds bad data (an over-long event, a malformed batch array, corrupt gzip data).
    public var isReadFailure: Bool
    /// For an over-long event or a line with CR-only line ends: its first bytes, at most
    /// ``EventInputReader/maximumEventBytes`` of them.
    public var bytes: [UInt8]
    /// For an over-long event or a line with CR-only line ends: its whole length in bytes (without the line end).
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
