import Foundation
import Testing
import TouchlogTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The fenced block of README.md's "## The service" runs as written under `/bin/sh`, with the built
/// `touchlog` first on PATH, in a fresh directory; only its port 8080 is replaced by a free one, so that
/// the test never collides with another server.
@Suite struct ReadmeServiceTests {
    /// The lines of the first fenced block under `## The service`.
    static func serviceBlock(_ readme: String) -> [String] {
        var inSection = false
        var inBlock = false
        var lines: [String] = []
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("## ") {
                inSection = line == "## The service"
                continue
            }
            guard inSection else { continue }
            if line.hasPrefix("```") {
                if inBlock { break }
                inBlock = true
                continue
            }
            if inBlock { lines.append(line) }
        }
        return lines
    }

    /// A loopback port that was free a moment ago.
    static func freePort() throws -> Int {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(probe, $0, length) == 0 && getsockname(probe, $0, &length) == 0
            }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func theServiceBlockStartsAServerSendsAnEventAndReadsItBack() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"),
            "curl is needed (.ci/run installs it)")
        let readme = try String(
            contentsOf: ReadmeTourTests.repository.appendingPathComponent("README.md"),
            encoding: .utf8)
        let block = Self.serviceBlock(readme)
        #expect(block.count >= 4)
        let port = try Self.freePort()
        let script =
            "set -e\n" + block.joined(separator: "\n").replacingOccurrences(of: "8080", with: String(port))
        let directory = try TemporaryDirectory(prefix: "touchlog-readme-service")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] =
            URL(fileURLWithPath: touchlogExecutable()).deletingLastPathComponent().path + ":"
            + (environment["PATH"] ?? "/usr/bin:/bin")
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let complaints = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(printed)\n\(complaints)")
        #expect(printed.contains(#""outcome":"appended","position":1"#), "\(printed)")
        #expect(printed.contains(#""id":"web-1""#), "\(printed)")
        #expect(complaints.contains("stopped"), "\(complaints)")
    }
}
