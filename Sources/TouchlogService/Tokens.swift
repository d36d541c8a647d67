import Crypto
import Foundation
import SystemPackage

/// What a token may do. `admin` may do everything.
public enum Role: String, Sendable, CaseIterable {
    /// `POST /v1/events`.
    case ingest
    /// The reads: events, streams, tickets, loyalty, reps.
    case read
    /// `GET /v1/audit` and the read-access log.
    case audit
    /// Everything.
    case admin
}

/// The token file: one line per token, `sha256-hex role name`, never the token itself. It is created
/// 0600 (from its first byte) and one type reads and writes it.
public struct TokenFile: Sendable {
    public struct Entry: Sendable, Equatable {
        public var digest: String
        public var role: Role
        public var name: String
    }

    public let path: String
    public private(set) var entries: [Entry]

    /// Reads the file at `path`.
    /// - Throws: `TokenFileError` naming the file and line of a malformed entry, or why it cannot be read.
    public init(path: String) throws(TokenFileError) {
        self.path = path
        var status = stat()
        if stat(path, &status) == 0, status.st_mode & 0o077 != 0 {
            throw TokenFileError(
                "the token file '\(path)' can be read or written by others (mode \(String(status.st_mode & 0o777, radix: 8))): chmod 600 it"
            )
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw TokenFileError("cannot read the token file '\(path)': \(error.localizedDescription)")
        }
        entries = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(separator: " ", maxSplits: 2)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard fields.count == 3, fields[0].count == 64, fields[0].allSatisfy(\.isHexDigit),
                let role = Role(rawValue: String(fields[1]))
            else {
                throw TokenFileError(
                    "\(path):\(number + 1): not a token entry ('SHA256-HEX ROLE NAME', role one of \(Role.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            entries.append(Entry(digest: String(fields[0]), role: role, name: String(fields[2])))
        }
    }

    /// The entry of `token`, if any.
    public func entry(for token: String) -> Entry? {
        let digest = Self.digest(token)
        return entries.first { $0.digest == digest }
    }

    static func digest(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Adds a new random token with `role` and `name` to the file at `path` (created 0600 when missing)
    /// and returns the token: the only time it is seen.
    /// - Throws: `TokenFileError` when the name is unusable or the file cannot be written.
    public static func addToken(path: String, role: Role, name: String) throws(TokenFileError) -> String {
        guard !name.isEmpty, !name.contains(where: { $0 == "\n" || $0 == "\r" }) else {
            throw TokenFileError("--name must be one non-empty line")
        }
        if FileManager.default.fileExists(atPath: path) {
            let existing = try TokenFile(path: path)
            if existing.entries.contains(where: { $0.name == name }) {
                throw TokenFileError("the token file '\(path)' already has a token named '\(name)'")
            }
        }
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        let token =
            "tl_"
            + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let line = "\(digest(token)) \(role.rawValue) \(name)\n"
        do {
            // 0600 from the first byte: the mode is given at creation, not changed afterwards.
            let file = try FileDescriptor.open(
                FilePath(path), .writeOnly, options: [.create, .append],
                permissions: [.ownerRead, .ownerWrite])
            try file.closeAfter {
                var status = stat()
                if fstat(file.rawValue, &status) == 0, status.st_mode & 0o077 != 0 {
                    throw TokenFileError(
                        "the token file '\(path)' can be read by others (mode \(String(status.st_mode & 0o777, radix: 8))): chmod 600 it first"
                    )
                }
                _ = try file.writeAll(Array(line.utf8))
                guard fsync(file.rawValue) == 0 else { throw Errno(rawValue: errno) }
            }
        } catch let error as TokenFileError {
            throw error
        } catch {
            throw TokenFileError("cannot write the token file '\(path)': \(error)")
        }
        return token
    }
}

public struct TokenFileError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
