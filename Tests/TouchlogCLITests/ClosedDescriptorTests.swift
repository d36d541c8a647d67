import Foundation
import Testing
import TouchlogAudit
import TouchlogStore

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 12: a command started with standard input and output closed must not give a store file
/// descriptor 0 or 1, where what it prints would overwrite the store.
@Suite struct ClosedDescriptorTests {
    @Test(arguments: [["stats"], ["tail"], ["replay", "--customer", "cus-1"], ["audit"]])
    func aCommandWithStandardInputAndOutputClosedLeavesTheStoreWhole(command: [String]) throws {
        let workspace = try Workspace()
        let file = try workspace.file("events.jsonl", lines: (1...5).map { contactLine(id: "e\($0)") })
        #expect(workspace.run("ingest", file).exitCode == 0)

        let errors = workspace.path + "/stderr"
        let child = try SpawnedTouchlog(
            command + ["--store", workspace.store], closing: [0, 1], errorPath: errors)
        let status = child.wait(seconds: 60)
        if status == nil { child.kill() }
        #expect(status == 0, "\(command): \((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")")

        let stats = workspace.run("stats", "--json")
        #expect(stats.exitCode == 0, "\(stats.error)")
        #expect(!stats.error.contains("File is not an LMDB file"))
        let opened = try workspace.openStore()
        #expect(try opened.log.statistics().events == 5)
        #expect(try Auditor(store: opened).audit().ok)
    }
}
