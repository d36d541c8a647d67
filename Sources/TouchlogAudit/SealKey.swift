import Crypto
import Foundation
import SystemPackage
import TouchlogStore

#if canImport(Glibc)
    import Glibc
#endif

/// An Ed25519 key pair for signing seals, stored as small text files.
///
/// The private key file is created owner-only (0600); the public key file is what auditors keep and
/// pass to `audit --seals --public-key`. Both hold the base64 of the raw 32-byte key between marker lines.
public enum SealKey {
    static let privateMarker = "TOUCHLOG ED25519 PRIVATE KEY"
    static let publicMarker = "TOUCHLOG ED25519 PUBLIC KEY"

    /// Makes a new key pair and writes it to `privatePath` (0600), `publicPath` (0644) and, when given,
    /// its C2SP verifier key (`NoteVerifierKey`, name `touchlog`) to `verifierPath` (0644).
    ///
    /// Refuses to overwrite an existing file, and writes no key when any path exists. Each file is
    /// created with its mode from the first byte and put in place whole (see `createNew`), so the private
    /// key is never readable by others, not even for a moment.
    /// - Throws: `SealError.badKeyFile` naming the path and why.
    public static func generate(privatePath: String, publicPath: String, verifierPath: String? = nil) throws
        -> Curve25519.Signing.PublicKey
    {
        for path in [privatePath, publicPath] + [verifierPath].compactMap({ $0 })
        where FileIdentity(path, followingLinks: false) != nil {
            throw SealError.badKeyFile(path: path, reason: "the file exists; refusing to overwrite a key")
        }
        let key = Curve25519.Signing.PrivateKey()
        let privateKey = try createNew(
            Array(armored(key.rawRepresentation, marker: privateMarker).utf8), at: privatePath, mode: 0o600)
        var written: [(String, FileIdentity)] = [(privatePath, privateKey)]
        do {
            written.append(
                (
                    publicPath,
                    try createNew(
                        Array(armored(key.publicKey.rawRepresentation, marker: publicMarker).utf8),
                        at: publicPath,
                        mode: 0o644)
                ))
            if let verifierPath {
                _ = try createNew(
                    Array((NoteVerifierKey(publicKey: key.publicKey).text + "\n").utf8), at: verifierPath,
                    mode: 0o644)
            }
        } catch {
            // Half a key pair is of no use: take back the files this call wrote.
            for (path, identity) in written where FileIdentity(path, followingLinks: false) == identity {
                unlink(path)
            }
            throw error
        }
        return key.publicKey
    }

    /// Reads a public key to verify seals and checkpoints with: a C2SP verifier key (`.vkey`, with its
    /// key name) or a public key file written by `generate` (`.pub`, taken under the name `touchlog`).
    /// - Throws: `SealError.badKeyFile` when the file is neither.
    public static func loadVerifier(_ path: String) throws -> NoteVerifierKey {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw SealError.badKeyFile(path: path, reason: "cannot read it")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        if !text.contains("-----BEGIN") {
            do { return try NoteVerifierKey(parsing: text) } catch {
                throw SealError.badKeyFile(path: path, reason: error.description)
            }
        }
        return NoteVerifierKey(publicKey: try loadPublicKey(path))
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

    /// Writes `bytes` to a new file at `path` with permissions `mode`, never more open than `mode` and
    /// never over an existing file; returns the new file's identity.
    ///
    /// A temporary file beside `path` is created with `O_CREAT | O_EXCL | O_NOFOLLOW` and `mode` (and
    /// `fchmod` to exactly `mode` before any byte is written), written and fsynced; then `link(2)` gives it
    /// its name, which fails if `path` exists (unlike `rename`, which would replace it), the temporary
    /// name is removed and the directory fsynced. `beforeLinking` sees the temporary path (for tests).
    /// - Throws: `SealError.badKeyFile` naming the path and the failing step.
    static func createNew(
        _ bytes: [UInt8], at path: String, mode: mode_t, beforeLinking: (String) throws -> Void = { _ in }
    ) throws -> FileIdentity {
        func failure(_ step: String, _ code: Int32 = errno) -> SealError {
            if code == EEXIST {
                return .badKeyFile(path: path, reason: "the file exists; refusing to overwrite a key")
            }
            return .badKeyFile(path: path, reason: "cannot \(step): \(String(cString: strerror(code)))")
        }
        let (directory, name) = directoryAndName(ofPath: path)
        let temporary = "\(directory)/.\(name).\(String(UInt64.random(in: 0...UInt64.max), radix: 16)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw failure("create a temporary file in '\(directory)'") }
        defer { unlink(temporary) }
        do {
            defer { close(descriptor) }
            // open(2) applied the umask, which can only remove bits; set exactly `mode`, still empty.
            guard fchmod(descriptor, mode) == 0 else { throw failure("set its mode") }
            do {
                _ = try FileDescriptor(rawValue: descriptor).writeAll(bytes)
            } catch let error as Errno {
                throw failure("write it", error.rawValue)
            }
            guard fsync(descriptor) == 0 else { throw failure("write it to disk") }
        }
        try beforeLinking(temporary)
        guard link(temporary, path) == 0 else { throw failure("give it its name") }
        guard let identity = FileIdentity(path, followingLinks: false) else { throw failure("stat it") }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else { throw failure("open its directory") }
        defer { close(directoryDescriptor) }
        // The temporary name goes before the directory is synced, so neither name nor removal is lost.
        unlink(temporary)
        guard fsync(directoryDescriptor) == 0 else { throw failure("sync its directory") }
        return identity
    }
}

/// A file's device and inode.
struct FileIdentity: Equatable {
    var device: UInt64
    var inode: UInt64

    /// `stat(2)` or `lstat(2)` of `path`; `nil` when there is nothing there.
    init?(_ path: String, followingLinks: Bool = true) {
        var info = stat()
        guard (followingLinks ? stat(path, &info) : lstat(path, &info)) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

/// Why a seal or a key could not be made, read or checked.
public enum SealError: Error, Sendable, Equatable, CustomStringConvertible {
    case badKeyFile(path: String, reason: String)
    /// A file of seals kept outside the store (`audit --seal FILE`) that cannot be read or holds no seal;
    /// `line` is the line that is not a seal.
    case badSealFile(path: String, line: Int?, reason: String)
    case emptyLog

    public var description: String {
        switch self {
        case .badKeyFile(let path, let reason): return "key file '\(path)': \(reason)"
        case .badSealFile(let path, let line, let reason):
            return "\(path)\(line.map { ":\($0)" } ?? ""): \(reason)"
        case .emptyLog: return "the log is empty: there is nothing to seal"
        }
    }
}
