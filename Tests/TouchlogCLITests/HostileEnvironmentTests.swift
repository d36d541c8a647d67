import Foundation
import Testing
import TouchlogCLI
import TouchlogGenerator
import TouchlogTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `touchlog ARGS` as a child process (optionally as another user through `setpriv`) and returns
/// its exit status (or 128 + the signal that ended it) with what it printed.
private func runChild(_ arguments: [String], asUser uid: uid_t? = nil) throws -> CommandResult {
    let process = Process()
    if let uid {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments =
            ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", touchlogExecutable()] + arguments
    } else {
        process.executableURL = URL(fileURLWithPath: touchlogExecutable())
        process.arguments = arguments
    }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let error = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let status =
        process.terminationReason == .uncaughtSignal
        ? 128 + process.terminationStatus : process.terminationStatus
    return CommandResult(
        exitCode: status, output: String(decoding: output, as: UTF8.self),
        error: String(decoding: error, as: UTF8.self))
}

/// The user `nobody`, when this process is root, `setpriv` exists and `nobody` can run the built
/// `touchlog` (its directories must be open to others); nil otherwise.
private let otherUser: uid_t? = {
    guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return nil }
    guard let result = try? runChild(["--help"], asUser: 65534), result.exitCode == 0 else { return nil }
    return 65534
}()

/// A store with a few hundred events, in a directory of its own.
private func makeStore(in directory: String, events: Int = 300) throws -> String {
    let input = directory + "/events.jsonl"
    try writeGeneratedLines(GeneratorConfiguration(seed: 11, events: events, customers: 20), to: input)
    let store = directory + "/store"
    let result = runTouchlog(["ingest", input, "--store", store])
    #expect(result.exitCode == 0, "\(result.error)")
    return store
}

/// The store and the files around it may belong to someone else, be read-only, or sit on a full disk
/// (issue "Never lose a store", items 3, 5, 6 and 7).
@Suite struct HostileEnvironmentTests {
    @Test func storeFilesPlantedAsSymbolicLinksAreRefusedAndTheirTargetsUntouched() throws {
        let directory = try TemporaryDirectory(prefix: "hostile")
        let store = try makeStore(in: directory.path)
        let victim = directory.path + "/victim"
        let original = Array("precious\n".utf8)
        #expect(FileManager.default.createFile(atPath: victim, contents: Data(original)))
        for name in ["lock.mdb", "data.mdb"] {
            let file = store + "/" + name
            let saved = file + ".saved"
            try FileManager.default.moveItem(atPath: file, toPath: saved)
            try FileManager.default.createSymbolicLink(atPath: file, withDestinationPath: victim)
            for command in [["stats"], ["ingest", directory.path + "/events.jsonl"], ["audit"]] {
                let result = runTouchlog(command + ["--store", store])
                #expect(result.exitCode == 74, "\(name) \(command)")
                #expect(result.error.contains("'\(name)' is a symbolic link"), "\(result.error)")
            }
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: victim))) == original)
            try FileManager.default.removeItem(atPath: file)
            try FileManager.default.moveItem(atPath: saved, toPath: file)
        }
        #expect(runTouchlog(["audit", "--store", store]).exitCode == 0)
    }

    @Test(arguments: ["/", "/.", "//", "/./"])
    func aLinkToAStoreIsRefusedWhateverTheTrailingSlashes(suffix: String) throws {
        let directory = try TemporaryDirectory(prefix: "hostile")
        let store = try makeStore(in: directory.path, events: 20)
        let link = directory.path + "/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: store)
        let result = runTouchlog(["stats", "--store", link + suffix])
        #expect(result.exitCode == 74)
        #expect(result.error.contains("it is a symbolic link"), "\(result.error)")
    }

    @Test func aStoreDirectoryOthersCanWriteToIsRefusedForWriting() throws {
        let directory = try TemporaryDirectory(prefix: "hostile")
        let store = try makeStore(in: directory.path, events: 20)
        #expect(chmod(store, 0o777) == 0)
        let result = runTouchlog(["ingest", directory.path + "/events.jsonl", "--store", store])
        #expect(result.exitCode == 74)
        #expect(result.error.contains("other users can write to it"), "\(result.error)")
        // Reading is still allowed: nothing is created or written.
        #expect(runTouchlog(["stats", "--store", store]).exitCode == 0)
    }

    @Test(.enabled(if: otherUser != nil, "needs root, setpriv and a build that user nobody can run"))
    func anAuditorReadsACopyTheyMayOnlyRead() throws {
        let directory = try TemporaryDirectory(prefix: "hostile")
        #expect(chmod(directory.path, 0o755) == 0)
        let store = try makeStore(in: directory.path)
        // The copy as an auditor gets it: files of another user, readable, not writable.
        #expect(chmod(store, 0o755) == 0)
        for name in ["data.mdb", "lock.mdb"] { #expect(chmod(store + "/" + name, 0o444) == 0) }
        let before = try Data(contentsOf: URL(fileURLWithPath: store + "/data.mdb"))
        let customer = try #require(
            runTouchlog(["tail", "-n", "1", "--json", "--store", store]).output.split(
                separator: "\"subject\":\""
            )
            .dropFirst().first?.split(separator: "\"").first.map(String.init))
        for command in [
            ["audit"], ["stats"], ["replay", "--customer", customer], ["ticket", "list"],
            ["loyalty", "show", customer],
        ] {
            let result = try runChild(command + ["--store", store], asUser: otherUser)
            #expect(result.exitCode == 0, "\(command): \(result.error)")
            #expect(!result.output.isEmpty, "\(command)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: store + "/data.mdb")) == before)
        // Writing as that user is refused with the reason, not attempted.
        let append = try runChild(
            [
                "append", "--type", "contact.received", "--customer", "c", "--channel", "web", "--store",
                store,
            ],
            asUser: otherUser)
        #expect(append.exitCode == 74)
        #expect(append.error.contains("belongs to user 0"), "\(append.error)")
    }

    @Test(.enabled(if: canMountTmpfs, "needs to mount a size-limited tmpfs (root)"))
    func readingCommandsWorkOnReadOnlyMedia() throws {
        let workspace = try Workspace()
        let media = workspace.path + "/media"
        try FileManager.default.createDirectory(atPath: media, withIntermediateDirectories: false)
        #expect(mount("tmpfs", media, "tmpfs", 0, "size=8m") == 0)
        defer { umount(media) }
        // Written by child processes only: a file this process opened there could be inherited by a
        // child another test spawns meanwhile, and a remount to read-only fails (EBUSY) while one is
        // open for writing.
        let input = media + "/events.jsonl"
        #expect(
            try runChild(["generate", "--events", "300", "--customers", "20", "-o", input]).exitCode == 0)
        let store = media + "/store"
        #expect(try runChild(["ingest", input, "--store", store]).exitCode == 0)
        var remounted = mount("tmpfs", media, "tmpfs", UInt(MS_REMOUNT | MS_RDONLY), "size=8m") == 0
        for _ in 0..<100 where !remounted {
            usleep(100_000)
            remounted = mount("tmpfs", media, "tmpfs", UInt(MS_REMOUNT | MS_RDONLY), "size=8m") == 0
        }
        try #require(remounted, "remounting read-only: \(String(cString: strerror(errno)))")
        for command in [["audit"], ["stats"], ["ticket", "list"], ["tail", "-n", "3"]] {
            let result = try runChild(command + ["--store", store])
            #expect(result.exitCode == 0, "\(command): \(result.error)")
            #expect(!result.output.isEmpty, "\(command)")
        }
        let append = try runChild(["ingest", media + "/events.jsonl", "--store", store])
        #expect(append.exitCode == 74, "writing to read-only media is an I/O error: \(append.error)")
    }

    @Test(.enabled(if: canMountTmpfs, "needs to mount a size-limited tmpfs (root)"))
    func aNewStoreOnAFullDiskIsACleanErrorAndReadingAFullDiskStoreWorks() throws {
        let workspace = try Workspace()
        let disk = workspace.path + "/disk"
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: false)
        #expect(mount("tmpfs", disk, "tmpfs", 0, "size=1m") == 0)
        defer { umount(disk) }
        let input = workspace.path + "/events.jsonl"
        try writeGeneratedLines(GeneratorConfiguration(seed: 5, events: 500, customers: 20), to: input)
        // A store with its events, then a disk filled to the last block.
        let store = disk + "/store"
        #expect(try runChild(["ingest", input, "--store", store]).exitCode == 0)
        #expect(FileManager.default.createFile(atPath: disk + "/fill", contents: nil))
        let fill = try FileHandle(forWritingTo: URL(fileURLWithPath: disk + "/fill"))
        let block = Data(count: 4096)
        while (try? fill.write(contentsOf: block)) != nil {}
        try? fill.close()

        let fresh = try runChild(["ingest", input, "--store", disk + "/new"])
        #expect(fresh.exitCode == 74, "a clean error, not a signal: \(fresh.error)")
        #expect(fresh.error.contains("No space left on device"), "\(fresh.error)")
        #expect(!FileManager.default.fileExists(atPath: disk + "/new"), "no empty store left behind")
        // Reading needs no room, even with the lock file gone (LMDB would have to allocate a new one).
        try FileManager.default.removeItem(atPath: store + "/lock.mdb")
        for command in [["stats"], ["audit"], ["tail", "-n", "2"]] {
            let result = try runChild(command + ["--store", store])
            #expect(result.exitCode == 0, "\(command): \(result.error)")
        }
    }
}

/// Reading commands never write: projections left behind by an interrupted ingest are reported, and
/// `touchlog catch-up` folds the rest.
@Suite struct ProjectionLagTests {
    @Test func readingCommandsSayHowFarBehindAndCatchUpFoldsTheRest() throws {
        let workspace = try Workspace()
        let input = try workspace.file(
            "first.jsonl", lines: (1...5).map { contactLine(id: "a\($0)", customer: "c\($0 % 2)") })
        #expect(workspace.run("ingest", input).exitCode == 0)
        // Appended through the library, as an ingest killed between its commit and its catch-up leaves it.
        do {
            let log = try workspace.openLog()
            _ = try log.append(try (1...3).map { try touchpoint(id: "b\($0)", customer: "c1") })
        }
        let behind = workspace.run("loyalty", "show", "c1")
        #expect(behind.exitCode == 0)
        #expect(
            behind.error.contains("up to position 5 of 8 (3 events behind)"), "\(behind.error)")
        let caughtUp = workspace.run("catch-up")
        #expect(caughtUp.exitCode == 0, "\(caughtUp.error)")
        #expect(caughtUp.output.contains("folded 3 events"), "\(caughtUp.output)")
        let after = workspace.run("loyalty", "show", "c1")
        #expect(after.exitCode == 0)
        #expect(!after.error.contains("behind"), "\(after.error)")
    }
}
