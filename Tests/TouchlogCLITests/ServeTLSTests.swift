import Foundation
import Testing
import TouchlogTestSupport

/// `touchlog serve --tls-cert --tls-key`: HTTPS with a certificate the test makes with openssl, checked
/// by curl against that certificate; the key must be owner-only; plain HTTP gets no answer.
@Suite struct ServeTLSTests {
    let workspace: Workspace
    let certificate: String
    let key: String

    init() throws {
        workspace = try Workspace()
        certificate = workspace.path + "/server.pem"
        key = workspace.path + "/server.key"
        let made = Self.run(
            "/usr/bin/env",
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", key, "-out", certificate,
            ])
        #expect(made.status == 0, "openssl: \(made.output)")
        chmod(key, 0o600)
    }

    /// Runs `executable` with `arguments`; its exit status and its standard output and error together.
    static func run(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func eventsArriveOverHTTPSAndPlainHTTPIsNotAnswered() throws {
        let server = try ServedTouchlog(
            store: workspace.store, errorPath: workspace.path + "/serve.err",
            extra: ["--tls-cert", certificate, "--tls-key", key])
        let url = "https://127.0.0.1:\(server.port)"
        let health = Self.run("/usr/bin/env", ["curl", "-sS", "--cacert", certificate, url + "/v1/health"])
        #expect(health.status == 0, "\(health.output)")
        let posted = Self.run(
            "/usr/bin/env",
            [
                "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", certificate,
                "-H", "Content-Type: application/cloudevents+json",
                "--data-binary", contactLine(id: "tls-1", customer: "c1"), url + "/v1/events",
            ])
        #expect(posted.status == 0 && posted.output == "201", "\(posted.output)")
        // Without the certificate curl refuses the unknown issuer; plain HTTP is not answered with HTTP.
        let untrusted = Self.run("/usr/bin/env", ["curl", "-sS", url + "/v1/health"])
        #expect(untrusted.status != 0)
        let plain = Self.run(
            "/usr/bin/env", ["curl", "-sS", "-m", "5", "http://127.0.0.1:\(server.port)/v1/health"])
        #expect(plain.status != 0, "\(plain.output)")
        #expect(server.stop() == 0, "\(server.errorText)")
        let replay = workspace.run("replay", "--customer", "c1", "--json")
        #expect(replay.exitCode == 0, "\(replay.error)")
        #expect(replay.outputLines.count == 1 && replay.output.contains("\"id\":\"tls-1\""))
    }

    @Test func aKeyOthersMayReadOrAMissingHalfIsRefused() throws {
        chmod(key, 0o644)
        let open = workspace.run(
            "serve", "--listen", "127.0.0.1:0", "--tls-cert", certificate, "--tls-key", key)
        #expect(open.exitCode == 74)
        #expect(open.error.contains("the TLS key '\(key)' can be read or written by others (mode 644)"))
        let half = workspace.run("serve", "--listen", "127.0.0.1:0", "--tls-cert", certificate)
        #expect(half.exitCode == 64)
        #expect(half.error.contains("--tls-cert and --tls-key go together"))
        chmod(key, 0o600)
        let notPEM = workspace.run(
            "serve", "--listen", "127.0.0.1:0", "--tls-cert", workspace.path + "/none.pem", "--tls-key", key)
        #expect(notPEM.exitCode == 74)
        #expect(notPEM.error.contains("none.pem' is not a PEM certificate chain"), "\(notPEM.error)")
    }
}
