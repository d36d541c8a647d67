/// One event's raw bytes as read from the input, with the 1-based line number where it starts.
public struct EventInputRecord: Sendable {
    public var line: Int
    public var bytes: [UInt8]

    public init(line: Int, bytes: [UInt8]) {
        self.line = line
        self.bytes = bytes
    }
}
