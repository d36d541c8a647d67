/// Why reading events failed.
public struct EventInputError: Error, Sendable, CustomStringConvertible {
    /// The 1-based line concerned, if any.
    public var line: Int?
    /// What went wrong, without the line number.
    public var message: String
    /// `true`: this record is bad but reading can go on with the next one. `false`: the input cannot
    /// be read (an I/O failure, corrupt compressed data) or a malformed batch array; the reader is finished.
    public var isRecoverable: Bool

    public init(line: Int?, message: String, isRecoverable: Bool) {
        self.line = line
        self.message = message
        self.isRecoverable = isRecoverable
    }

    /// "line 7: ..." or just the message.
    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}
