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
}
