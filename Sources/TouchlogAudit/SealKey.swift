import Crypto
import Foundation

/// An Ed25519 key pair for signing seals, stored as small text files.
///
/// The private key file is created owner-only (0600); the public key file is what auditors keep and
/// pass to `audit --seals --public-key`. Both hold the base64 of the raw 32-byte key between marker lines.
public enum SealKey {
    static let privateMarker = "TOUCHLOG ED25519 PRIVATE KEY"
    static let publicMarker = "TOUCHLOG ED25519 PUBLIC KEY"

    /// Makes a new key pair and writes it to `privatePath` (0600) and `publicPath` (0644).
    /// Refuses to overwrite an existing file.
    public static func generate(privatePath: String, publicPath: String) throws
        -> Curve25519.Signing.PublicKey
    {
        let key = Curve25519.Signing.PrivateKey()
        try write(armored(key.rawRepresentation, marker: privateMarker), to: privatePath, mode: 0o600)
        try write(armored(key.publicKey.rawRepresentation, marker: publicMarker), to: publicPath, mode: 0o644)
        return key.publicKey
    }

    /// Reads a private key file written by `generate`.
    public static func loadPrivateKey(_ path: String) throws -> Curve25519.Signing.PrivateKey {
        let raw = try unarmored(path: path, marker: privateMarker)
        do { return try Curve25519.Signing.PrivateKey(rawRepresentation: raw) } catch {
            throw SealError.badKeyFile(path: path, reason: "not a 32-byte Ed25519 private key")
        }
    }

    /// Reads a public key file written by `generate`.
    public static func loadPublicKey(_ path: String) throws -> Curve25519.Signing.PublicKey {
        let raw = try unarmored(path: path, marker: publicMarker)
        do { return try Curve25519.Signing.PublicKey(rawRepresentation: raw) } catch {
            throw SealError.badKeyFile(path: path, reason: "not a 32-byte Ed25519 public key")
        }
    }

    private static func armored(_ raw: some DataProtocol, marker: String) -> String {
        "-----BEGIN \(marker)-----\n\(Data(raw).base64EncodedString())\n-----END \(marker)-----\n"
    }

    private static func unarmored(path: String, marker: String) throws -> Data {
        guard
            let text = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) })
        else {
            throw SealError.badKeyFile(path: path, reason: "cannot read it")
        }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard lines.count == 3, lines[0] == "-----BEGIN \(marker)-----",
            lines[2] == "-----END \(marker)-----",
            let raw = Data(base64Encoded: lines[1])
        else {
            throw SealError.badKeyFile(
                path: path, reason: "expected a '\(marker)' file made by 'touchlog keygen'")
        }
        return raw
    }

    private static func write(_ text: String, to path: String, mode: Int) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw SealError.badKeyFile(path: path, reason: "the file exists; refusing to overwrite a key")
        }
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
        else { throw SealError.badKeyFile(path: path, reason: "cannot create it") }
    }
}

/// Why a seal or a key could not be made, read or checked.
public enum SealError: Error, Sendable, Equatable, CustomStringConvertible {
    case badKeyFile(path: String, reason: String)
    case emptyLog
    case malformedSeal(String)

    public var description: String {
        switch self {
        case .badKeyFile(let path, let reason): return "key file '\(path)': \(reason)"
        case .emptyLog: return "the log is empty: there is nothing to seal"
        case .malformedSeal(let reason): return "malformed seal: \(reason)"
        }
    }
}
