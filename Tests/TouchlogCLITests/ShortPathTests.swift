import Foundation
import Testing

/// File arguments that are one-character relative names (`--rejects r`, `backup b`, `keygen k`): the
/// commands that look at a path's directory once trapped on them in Foundation on Linux.
@Suite struct ShortPathTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    /// Runs the built `touchlog` with `arguments` in the workspace directory; its exit status.
    func runHere(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: touchlogExecutable())
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: workspace.path)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test func oneCharacterNamesAreFilesInTheCurrentDirectory() throws {
        let input = try workspace.file(
            "in.jsonl", lines: [contactLine(id: "1", customer: "c1"), #"{"specversion":"1.0"}"#])
        #expect(try runHere(["ingest", input, "--store", "s", "--rejects", "r"]) == 0)
        #expect(
            try String(contentsOfFile: workspace.path + "/r", encoding: .utf8).split(separator: "\n").count
                == 1)
        #expect(try runHere(["backup", "b", "--store", "s"]) == 0)
        #expect(runTouchlog(["audit", "--store", workspace.path + "/b"]).exitCode == 0)
        #expect(try runHere(["keygen", "k"]) == 0)
        #expect(FileManager.default.fileExists(atPath: workspace.path + "/k.pub"))
    }
}
