import Foundation
import LMDB
import Testing
import TouchlogAudit
import TouchlogDomain
import TouchlogGenerator
import TouchlogStore
import TouchlogTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Whether this process may mount a size-limited tmpfs (root on Linux; CI runs as root).
let canMountTmpfs: Bool = {
    let probe = FileManager.default.temporaryDirectory.appendingPathComponent(
        "mount-probe-\(UUID().uuidString)"
    ).path
    guard mkdir(probe, 0o700) == 0 else { return false }
    defer { rmdir(probe) }
    guard mount("tmpfs", probe, "tmpfs", 0, "size=1m") == 0 else { return false }
    umount(probe)
    return true
}()

@Suite struct ResourceFaultTests {
    @Test(.enabled(if: canMountTmpfs, "needs to mount a size-limited tmpfs (root)"))
    func aFullDiskIsACleanErrorAndLosesNothingAcknowledged() throws {
        let workspace = try Workspace()
        let disk = workspace.path + "/disk"
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: false)
        #expect(mount("tmpfs", disk, "tmpfs", 0, "size=3m") == 0)
        defer { umount(disk) }
        let input = workspace.path + "/events.jsonl"
        try writeGeneratedLines(GeneratorConfiguration(seed: 3, events: 30_000), to: input)

        let store = disk + "/store"
        let result = runTouchlog([
            "ingest", input, "--store", store, "--batch-size", "1000", "--print-commits",
        ])
        #expect(result.exitCode == 74)
        #expect(result.error.contains("is the store's file system full?"), "\(result.error)")
        let acknowledged =
            result.outputLines.compactMap { line -> Int? in
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                return object?["committed_through_line"] as? Int
            }.max() ?? 0
        #expect(acknowledged > 0)

        let opened = try TestStore.openStore(at: store)
        let log = opened.log
        #expect(try Auditor(store: opened).audit().ok)
        #expect(try log.statistics().events == acknowledged)
    }

    @Test func aStoreWithANewerFormatIsRefusedWithAClearMessage() throws {
        let workspace = try Workspace()
        _ = try workspace.openLog()
        do {
            var options = Environment.Options()
            options.maxDatabases = 64
            let environment = try Environment(path: workspace.store, options: options)
            try environment.withWriteTransaction { txn in
                try txn.put(
                    Array(String(EventLog.formatVersion + 1).utf8), forKey: "format",
                    in: try txn.createDatabase(named: "meta"))
            }
        }
        let result = workspace.run("stats")
        #expect(result.exitCode == 74)
        #expect(
            result.error.contains(
                "has format \(EventLog.formatVersion + 1), this touchlog reads format 2 or 3: use a newer touchlog"
            ))
    }

    @Test func aFullReaderTableIsAnErrorNotAHang() throws {
        let workspace = try Workspace()
        var options = Environment.Options()
        options.maxReaders = 1
        let environment = try Environment(path: workspace.path, options: options)
        #expect(throws: LMDBError.readersFull) {
            try environment.withReadTransaction { _ in
                try environment.withReadTransaction { _ in }
            }
        }
    }
}

@Suite struct ConcurrencyTests {
    @Test(.timeLimit(.minutes(5)))
    func readersInOtherProcessesSeeConsistentSnapshotsAndTwoWritersNeverInterleaveABatch() throws {
        let workspace = try Workspace()
        var inputs: [String] = []
        for seed: UInt64 in [21, 22] {
            let input = workspace.path + "/events-\(seed).jsonl"
            try writeGeneratedLines(GeneratorConfiguration(seed: seed, events: 6_000), to: input)
            inputs.append(input)
        }
        _ = try workspace.openLog()  // create it before the writers race
        let writers = try inputs.map {
            try ChildTouchlog(["ingest", $0, "--store", workspace.store, "--batch-size", "300"])
        }

        // Meanwhile, audit from this process again and again: every snapshot is whole.
        let opened = try workspace.openStore()
        let log = opened.log
        var lastChecked = 0
        var audits = 0
        while writers.contains(where: { $0.process.isRunning }) {
            let report = try Auditor(store: opened).audit()
            #expect(report.ok, "\(report.problems.prefix(2))")
            #expect(report.eventsChecked % 300 == 0, "a snapshot holds whole batches only")
            #expect(report.eventsChecked >= lastChecked)
            lastChecked = report.eventsChecked
            audits += 1
        }
        for writer in writers {
            writer.wait()
            #expect(writer.process.terminationStatus == 0)
        }
        #expect(audits > 0)

        // Each batch of 300 events from one file sits at consecutive positions.
        var sources: [String] = []
        try log.forEachEvent { stored in
            sources.append(String(stored.event.id.split(separator: "-")[1]))
            return true
        }
        #expect(sources.count == 12_000)
        for start in stride(from: 0, to: sources.count, by: 300) {
            #expect(
                Set(sources[start..<start + 300]).count == 1, "batch at position \(start + 1) mixes writers")
        }
    }
}

extension ConcurrencyTests {
    /// Format 3 seals a batch of more than one chunk on several threads: two processes ingesting such
    /// batches into one store at once (a batch predicted after its own process's last one is prepared
    /// again when the other process committed first) leave a log that audits clean.
    @Test(.timeLimit(.minutes(5)))
    func twoProcessesAppendingLargeSealedBatchesLeaveALogThatAuditsClean() throws {
        let workspace = try Workspace()
        var inputs: [String] = []
        for seed: UInt64 in [31, 32] {
            let input = workspace.path + "/events-\(seed).jsonl"
            try writeGeneratedLines(GeneratorConfiguration(seed: seed, events: 4_500), to: input)
            inputs.append(input)
        }
        #expect(try workspace.openLog().format == 3)
        let writers = try inputs.map {
            try ChildTouchlog(["ingest", $0, "--store", workspace.store, "--batch-size", "1500"])
        }
        for writer in writers {
            writer.wait()
            #expect(writer.process.terminationStatus == 0)
        }
        let audit = workspace.run("audit")
        #expect(audit.exitCode == 0, "\(audit.output)\(audit.error)")
        #expect(try workspace.openStore().log.statistics().events == 9_000)
    }
}

@Suite struct StaleReaderTests {
    @Test(.timeLimit(.minutes(2)))
    func aReaderSlotLeftByAKilledProcessIsClearedAtOpen() throws {
        let workspace = try Workspace()
        let input = workspace.path + "/events.jsonl"
        #expect(
            runTouchlog(["generate", "--events", "30000", "--customers", "300", "-o", input]).exitCode == 0)
        #expect(workspace.run("ingest", input).exitCode == 0)
        // LMDB resets the reader table when the first process opens the store, so a stale slot matters
        // while another process keeps it open: this one. `audit` reads the whole log in one read
        // transaction: kill it inside, leaving its slot behind, then clear it as the next open would.
        let opened = try workspace.openStore()
        var cleared = 0
        for attempt in 0..<6 where cleared == 0 {
            let auditor = try ChildTouchlog(["audit", "--store", workspace.store])
            usleep(UInt32(400_000 + attempt * 200_000))
            auditor.kill()
            auditor.wait()
            cleared = try opened.clearStaleReaders()
        }
        #expect(cleared >= 1, "the dead process's reader slot is cleared")
        #expect(try Auditor(store: opened).audit().ok)
    }
}
