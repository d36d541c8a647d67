import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 12: `tail --follow | head -1` ends as soon as its reader has gone, not at the next event.
@Suite struct TailFollowTests {
    @Test(.timeLimit(.minutes(2)))
    func tailFollowEndsWithStatusZeroWhenItsReaderGoes() throws {
        let workspace = try Workspace()
        let file = try workspace.file("events.jsonl", lines: (1...3).map { contactLine(id: "e\($0)") })
        #expect(workspace.run("ingest", file).exitCode == 0)

        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        // The child must hold only its standard output, not the read end (as in a shell pipeline), and no
        // other child of this test process either.
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let errors = workspace.path + "/stderr"
        let child = try SpawnedTouchlog(
            ["tail", "--follow", "--store", workspace.store], closing: ends, output: ends[1],
            errorPath: errors)
        close(ends[1])
        // Read the first line, as head -1 does, then go away.
        var first: [UInt8] = []
        var byte: UInt8 = 0
        while read(ends[0], &byte, 1) == 1 {
            if byte == 0x0a { break }
            first.append(byte)
        }
        close(ends[0])
        #expect(String(decoding: first, as: UTF8.self).hasPrefix("1  2024-05-01T10:00:00Z  cus-1"))

        // No event comes after; the follower must notice on its own, well within its wait.
        let status = child.wait(seconds: 10)
        if status == nil { child.kill() }
        #expect(status == 0, "\((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")")
    }
}
