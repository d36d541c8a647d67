import Foundation
import NIOSSL

/// The certificate chain and private key `touchlog serve --tls-cert --tls-key` serves HTTPS with, both
/// PEM files. The key is secret: a key file others may read or write is refused, like a token file.
public struct TLSFiles: Sendable {
    public var certificatePath: String
    public var keyPath: String

    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }

    /// Reads both files into a server configuration (TLS 1.2 and 1.3, NIOSSL's defaults).
    /// - Throws: `TLSFilesError` naming the file and what is wrong with it.
    public func serverConfiguration() throws -> TLSConfiguration {
        var status = stat()
        guard stat(keyPath, &status) == 0 else {
            throw TLSFilesError("cannot read the TLS key '\(keyPath)': \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw TLSFilesError(
                "the TLS key '\(keyPath)' can be read or written by others (mode \(String(status.st_mode & 0o777, radix: 8))): chmod 600 it first"
            )
        }
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificatePath) } catch {
            throw TLSFilesError("'\(certificatePath)' is not a PEM certificate chain: \(error)")
        }
        guard !chain.isEmpty else { throw TLSFilesError("'\(certificatePath)' holds no certificate") }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: keyPath, format: .pem) } catch {
            throw TLSFilesError("'\(keyPath)' is not a PEM private key: \(error)")
        }
        return TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }
}

/// A TLS certificate or key that cannot be served with, in words for the user.
public struct TLSFilesError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
