import Foundation

/// A fresh, empty directory for one test, removed with everything in it when the last reference goes.
/// Every test target uses it, so no test shares a path with another.
public final class TemporaryDirectory {
    /// The directory's absolute path.
    public let path: String

    /// Creates `<temporary directory>/<prefix>-<UUID>`.
    public init(prefix: String = "touchlog-tests") throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` to the file `name` in the directory and returns its path.
    @discardableResult
    public func file(_ name: String, bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// Writes `text` to the file `name` in the directory and returns its path.
    @discardableResult
    public func file(_ name: String, _ text: String) throws -> String {
        try file(name, bytes: Array(text.utf8))
    }

    /// Writes `lines`, each ended by a newline, to the file `name` in the directory and returns its path.
    @discardableResult
    public func file(_ name: String, lines: [String]) throws -> String {
        try file(name, lines.joined(separator: "\n") + "\n")
    }
}

/// One file with the given contents in a directory of its own, removed when the last reference goes.
public final class TemporaryFile {
    private let directory: TemporaryDirectory
    /// The file's absolute path.
    public let path: String

    public init(_ bytes: [UInt8]) throws {
        directory = try TemporaryDirectory(prefix: "touchlog-file")
        path = try directory.file("input.jsonl", bytes: bytes)
    }

    public convenience init(_ text: String) throws { try self.init(Array(text.utf8)) }
}
