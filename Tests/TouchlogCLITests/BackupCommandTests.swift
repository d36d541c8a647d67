import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct BackupCommandTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    func ingest(_ name: String, ids: ClosedRange<Int>) throws {
        let lines = ids.map {
            contactLine(id: "e\($0)", customer: "c\($0 % 3)", time: "2024-05-01T10:\(10 + $0 % 40):00Z")
        }
        let result = workspace.run("ingest", try workspace.file(name, lines: lines))
        #expect(result.exitCode == 0, "\(result.error)")
    }

    func object(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// `stats --json`'s head position and hash of the store at `path`.
    func head(_ path: String) throws -> (Int, String) {
        let stats = runTouchlog(["stats", "--json", "--store", path])
        #expect(stats.exitCode == 0, "\(stats.error)")
        let object = try object(stats.output)
        return (try #require(object["head_position"] as? Int), try #require(object["head_hash"] as? String))
    }

    func mode(_ path: String) throws -> Int? {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
    }

    @Test func backupThenRestoreKeepTheHeadTheSealsAndPassTheAudit() throws {
        let key = workspace.path + "/seal.key"
        #expect(runTouchlog(["keygen", key]).exitCode == 0)
        try ingest("a.jsonl", ids: 1...20)
        #expect(workspace.run("seal", "--key", key).exitCode == 0)
        try ingest("b.jsonl", ids: 21...30)
        #expect(workspace.run("seal", "--key", key).exitCode == 0)

        let backup = workspace.path + "/backup"
        // With the keys: the restored store is to be appended to (a copy without keys can only be read).
        let copied = workspace.run("backup", backup, "--public-key", key + ".pub", "--with-keys")
        #expect(copied.exitCode == 0, "\(copied.error)")
        let (position, hash) = try head(workspace.store)
        #expect(position == 30)
        #expect(copied.outputLines.contains("head position 30, hash \(hash)"), "\(copied.output)")
        #expect(
            copied.outputLines.contains {
                $0.hasPrefix("OK: 30 events checked")
                    && $0.hasSuffix(", 2 seals checked, 2 checkpoints checked")
            })
        #expect(try mode(backup) == 0o700)
        #expect(try mode(backup + "/data.mdb") == 0o600, "owner-only, as the store's own files")
        #expect(FileManager.default.fileExists(atPath: backup + "/data.mdb"))

        let restored = workspace.path + "/restored"
        let restore = runTouchlog(["restore", backup, restored, "--json"])
        #expect(restore.exitCode == 0, "\(restore.error)")
        let report = try object(restore.output)
        #expect(report["head_position"] as? Int == 30 && report["head_hash"] as? String == hash)
        #expect((report["audit"] as? [String: Any])?["ok"] as? Bool == true)
        #expect((report["audit"] as? [String: Any])?["seals_checked"] as? Int == 2)
        #expect(try mode(restored) == 0o700)
        #expect(try mode(restored + "/data.mdb") == 0o600)

        let seals = workspace.run("seal", "list", "--json").output
        #expect(seals.split(separator: "\n").count == 2)
        for copy in [backup, restored] {
            #expect(try head(copy) == (position, hash))
            #expect(runTouchlog(["seal", "list", "--json", "--store", copy]).output == seals)
            let audit = runTouchlog(["audit", "--seals", "--public-key", key + ".pub", "--store", copy])
            #expect(audit.exitCode == 0, "\(audit.output)")
            #expect(
                runTouchlog(["ticket", "list", "--json", "--store", copy]).output
                    == workspace.run("ticket", "list", "--json").output)
        }
        // The restored store is a store to go on with.
        let more = runTouchlog([
            "ingest", try workspace.file("c.jsonl", lines: [contactLine(id: "e31")]), "--store", restored,
        ])
        #expect(more.exitCode == 0, "\(more.error)")
        #expect(try head(restored).0 == 31)
    }

    @Test func aSealThatNoLongerMatchesFailsTheCopysAudit() throws {
        let key = workspace.path + "/seal.key"
        let other = workspace.path + "/other.key"
        #expect(runTouchlog(["keygen", key]).exitCode == 0)
        #expect(runTouchlog(["keygen", other]).exitCode == 0)
        try ingest("a.jsonl", ids: 1...5)
        #expect(workspace.run("seal", "--key", key).exitCode == 0)
        // Signed by another key: the copy's audit with the right public key catches it.
        let wrong = workspace.run("backup", workspace.path + "/b1", "--public-key", other + ".pub")
        #expect(wrong.exitCode == 1)
        #expect(wrong.output.contains("FAILED"), "\(wrong.output)")
        #expect(wrong.output.contains("seal_signature"))
        let restore = runTouchlog([
            "restore", workspace.path + "/b1", workspace.path + "/r1", "--public-key", other + ".pub",
        ])
        #expect(restore.exitCode == 1)
        #expect(restore.error.contains("fails its audit: not restored"))
        #expect(!FileManager.default.fileExists(atPath: workspace.path + "/r1"), "nothing restored")
    }

    @Test func refusedDestinationsAreNamedWithExit64AndNothingIsWritten() throws {
        try ingest("a.jsonl", ids: 1...5)
        let full = workspace.path + "/full"
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: false)
        _ = try workspace.file("full/keep.txt", lines: ["mine"])
        let nonEmpty = workspace.run("backup", full)
        #expect(nonEmpty.exitCode == 64)
        #expect(
            nonEmpty.error
                == "touchlog: cannot copy the store to '\(full)': it exists and is not empty; name a new directory\n"
        )
        #expect(try FileManager.default.contentsOfDirectory(atPath: full) == ["keep.txt"])

        let target = workspace.path + "/target"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        let link = workspace.path + "/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let linked = workspace.run("backup", link)
        #expect(linked.exitCode == 64)
        #expect(linked.error.contains("'\(link)': it is a symbolic link"))
        #expect(workspace.run("backup", link + "/").error.contains("it is a symbolic link"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty)

        let inside = workspace.store + "/backup"
        let nested = workspace.run("backup", inside)
        #expect(nested.exitCode == 64)
        #expect(nested.error.contains("it is inside the store"))
        #expect(!FileManager.default.fileExists(atPath: inside))
        // The same place reached through a link to the store's directory.
        let storeLink = workspace.path + "/store-link"
        try FileManager.default.createSymbolicLink(atPath: storeLink, withDestinationPath: workspace.store)
        #expect(workspace.run("backup", storeLink + "/backup").exitCode == 64)
        #expect(workspace.run("backup", workspace.store).exitCode == 64, "the store itself is not empty")

        let file = try workspace.file("file.txt", lines: ["x"])
        #expect(workspace.run("backup", file).error.contains("it exists and is not a directory"))
        let orphan = workspace.run("backup", workspace.path + "/no/such/backup")
        #expect(orphan.exitCode == 74)
        #expect(orphan.error.contains("cannot be reached"))

        let noStore = runTouchlog(["backup", workspace.path + "/b", "--store", workspace.path + "/none"])
        #expect(noStore.exitCode == 66)
        #expect(!FileManager.default.fileExists(atPath: workspace.path + "/b"))
        let notAStore = runTouchlog(["restore", target, workspace.path + "/r"])
        #expect(notAStore.exitCode == 66)
        #expect(notAStore.error.contains("holds no data.mdb"))
        #expect(runTouchlog(["restore", workspace.store, full]).exitCode == 64)

        // An existing empty directory is used, and made private.
        let empty = workspace.path + "/empty"
        try FileManager.default.createDirectory(
            atPath: empty, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        #expect(workspace.run("backup", empty).exitCode == 0)
        #expect(try mode(empty) == 0o700)
    }

    @Test(.timeLimit(.minutes(5)))
    func aBackupTakenWhileAnotherProcessIngestsIsConsistent() throws {
        let sample = workspace.path + "/sample.jsonl"
        #expect(
            runTouchlog([
                "generate", "--events", "300000", "--customers", "5000", "--seed", "7", "-o", sample,
            ])
            .exitCode == 0)
        let ingest = try SpawnedTouchlog(
            ["ingest", sample, "--batch-size", "2000", "--store", workspace.store],
            errorPath: workspace.path + "/ingest.err")
        defer { if ingest.wait(seconds: 0) == nil { ingest.kill() } }
        // Wait for the first commits.
        let started = Date()
        while Date().timeIntervalSince(started) < 60 {
            let stats = runTouchlog(["stats", "--json", "--store", workspace.store])
            if stats.exitCode == 0, let position = try object(stats.output)["head_position"] as? Int,
                position > 0
            {
                break
            }
            usleep(20_000)
        }
        let backup = workspace.path + "/backup"
        let copied = workspace.run("backup", backup)
        let stillRunning = ingest.wait(seconds: 0) == nil
        #expect(copied.exitCode == 0, "\(copied.output)\(copied.error)")
        #expect(ingest.wait(seconds: 240) == 0, "the ingest went on and finished")
        let (copyPosition, copyHash) = try head(backup)
        let (finalPosition, _) = try head(workspace.store)
        #expect(finalPosition == 300_000)
        #expect(copyPosition > 0)
        // 300,000 events in batches of 2,000 take the debug build well over the copy's time: the copy is
        // taken between two of the ingest's commits.
        #expect(stillRunning, "the ingest was still running when the backup ended")
        #expect(copyPosition < finalPosition, "the copy is a snapshot taken during the ingest")
        #expect(copied.outputLines.contains("head position \(copyPosition), hash \(copyHash)"))
        // The copy is the store as it was at one commit: the same event there has the same hash.
        let tail = runTouchlog([
            "tail", "--from", String(copyPosition), "-n", "1", "--json", "--store", workspace.store,
        ])
        #expect(try object(try #require(tail.outputLines.first))["hash"] as? String == copyHash)
        #expect(runTouchlog(["audit", "--store", backup]).exitCode == 0)
    }
}
