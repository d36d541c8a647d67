import Foundation
import Testing
import TouchlogStore
import TouchlogTestSupport

@testable import TouchlogAudit

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 12: the private seal key is never readable by others, not even for a moment, and no key is
/// ever overwritten.
@Suite struct SealKeyFileTests {
    let scratch: TemporaryDirectory
    init() throws { scratch = try TemporaryDirectory(prefix: "seal-key") }

    private func mode(_ path: String) throws -> mode_t {
        var info = stat()
        try #require(lstat(path, &info) == 0, "stat \(path): \(String(cString: strerror(errno)))")
        return info.st_mode & 0o7777
    }

    private func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasSuffix(".tmp") }
    }

    /// Where a key file's temporary sibling goes; a one-character bare name trapped in Foundation's
    /// path functions (`touchlog keygen k`).
    @Test func aKeyPathSplitsIntoItsDirectoryAndName() {
        for (path, directory, name) in [
            ("k", ".", "k"), ("seal.key", ".", "seal.key"), ("/k", "/", "k"), ("a/b/k", "a/b", "k"),
            ("/tmp/x/seal.key", "/tmp/x", "seal.key"),
        ] {
            let split = directoryAndName(ofPath: path)
            #expect(split.directory == directory && split.name == name, "\(path)")
        }
    }

    @Test func aSecretFileIsOwnerOnlyFromItsFirstByteToItsName() throws {
        let path = scratch.path + "/secret"
        var temporaryMode: mode_t?
        var temporarySize = -1
        _ = try SealKey.createNew(Array("secret\n".utf8), at: path, mode: 0o600) { temporary in
            // The moment before it gets its name: written, synced, and already owner-only.
            temporaryMode = try mode(temporary)
            temporarySize = Int(
                (try FileManager.default.attributesOfItem(atPath: temporary)[.size] as? NSNumber)?.intValue
                    ?? -1)
            #expect(FileManager.default.fileExists(atPath: path) == false)
        }
        #expect(temporaryMode == 0o600)
        #expect(temporarySize == 7)
        #expect(try mode(path) == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "secret\n")
        #expect(try leftovers().isEmpty)
    }

    @Test func generateWritesThePrivateKeyOwnerOnlyAndThePublicKeyReadable() throws {
        let key = scratch.path + "/seal"
        let publicKey = try SealKey.generate(privatePath: key, publicPath: key + ".pub")
        #expect(try mode(key) == 0o600)
        #expect(try mode(key + ".pub") == 0o644)
        #expect(try SealKey.loadPrivateKey(key).publicKey.rawRepresentation == publicKey.rawRepresentation)
        #expect(try SealKey.loadPublicKey(key + ".pub").rawRepresentation == publicKey.rawRepresentation)
        #expect(try leftovers().isEmpty)
    }

    @Test func anExistingKeyIsNeverOverwrittenAndNoHalfPairIsLeft() throws {
        let key = scratch.path + "/seal"
        // An existing private key: refused, untouched.
        try "old private".write(toFile: key, atomically: false, encoding: .utf8)
        #expect(throws: SealError.self) { try SealKey.generate(privatePath: key, publicPath: key + ".pub") }
        #expect(try String(contentsOfFile: key, encoding: .utf8) == "old private")
        #expect(!FileManager.default.fileExists(atPath: key + ".pub"))

        // An existing public key only: refused, and no private key is left without its pair.
        let other = scratch.path + "/other"
        try "old public".write(toFile: other + ".pub", atomically: false, encoding: .utf8)
        #expect(throws: SealError.self) {
            try SealKey.generate(privatePath: other, publicPath: other + ".pub")
        }
        #expect(!FileManager.default.fileExists(atPath: other))
        #expect(try String(contentsOfFile: other + ".pub", encoding: .utf8) == "old public")

        // An existing verifier key only: refused, and neither key is left.
        let third = scratch.path + "/third"
        try "old vkey".write(toFile: third + ".vkey", atomically: false, encoding: .utf8)
        #expect(throws: SealError.self) {
            try SealKey.generate(
                privatePath: third, publicPath: third + ".pub", verifierPath: third + ".vkey")
        }
        #expect(
            !FileManager.default.fileExists(atPath: third)
                && !FileManager.default.fileExists(atPath: third + ".pub"))
        #expect(try String(contentsOfFile: third + ".vkey", encoding: .utf8) == "old vkey")

        // A symlink where the key would go is not followed or replaced.
        let target = scratch.path + "/target"
        let link = scratch.path + "/linked"
        #expect(symlink(target, link) == 0)
        #expect(throws: SealError.self) { try SealKey.generate(privatePath: link, publicPath: link + ".pub") }
        #expect(!FileManager.default.fileExists(atPath: target))

        // createNew itself refuses an existing name (link(2), not rename(2)).
        #expect(throws: SealError.self) { _ = try SealKey.createNew([1], at: key, mode: 0o600) }
        #expect(try String(contentsOfFile: key, encoding: .utf8) == "old private")
        #expect(try leftovers().isEmpty)
    }
}
