import ArgumentParser
import Foundation
import TouchlogAudit
import TouchlogStore

#if canImport(Glibc)
    import Glibc
#endif

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract:
            "Copy the store, even while another process ingests, to a new directory, and audit the copy.",
        discussion: """
            The copy is one consistent snapshot (LMDB's mdb_env_copy2, compacted): the last commit before it \
            started, with the seals and the projections. It is written into DEST, a new directory (created \
            0700; an existing empty directory is used and made 0700), then fsynced with its directory, then \
            opened read-only and audited as 'touchlog audit' does: the hash chain and indexes, every projection \
            record against a fresh fold, and every stored seal against the log (its signature too with \
            --public-key). Prints the head position and hash and the audit's verdict. DEST may not exist with \
            anything in it, be a symbolic link, or lie inside the store (exit 64). Exit 1 when the audit of the \
            copy finds a problem (the copy is kept, to be looked at).
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: ArgumentHelp("The new directory to copy the store into.", valueName: "dest"))
    var destination: String
    @Option(
        help: ArgumentHelp(
            "Also check the stored seals' signatures with this public key file.", valueName: "file"),
        completion: .file(extensions: ["pub"]))
    var publicKey: String?
    @Flag(
        help:
            "Keep the customers' keys in the copy (format 3). Without it the copy holds none: its personal content stays unreadable there, and an erasure needs no backup destroyed."
    )
    var withKeys = false

    func run() throws {
        let source = storeOptions.path
        try reportingFailures {
            try StoreCopy.copy(from: source, to: destination, withKeys: withKeys)
        }
        try StoreCopy.auditAndReport(
            source: source, destination: destination, publicKey: publicKey, json: output.json)
    }
}

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Audit a backup, then copy it to a new store directory and audit the copy.",
        discussion: """
            SRC must be a store (a directory 'touchlog backup' wrote) whose audit passes: a store that fails \
            it is not copied (exit 1). DEST is made as 'touchlog backup' makes it (a new directory, 0700, \
            never a symbolic link or inside SRC: exit 64), the copy fsynced with its directory, opened \
            read-only and audited; it prints the head position and hash. Point --store (or $TOUCHLOG_STORE) \
            at DEST to use it.
            """)

    @OptionGroup var output: OutputOptions
    @Argument(help: ArgumentHelp("The store to restore from (a backup).", valueName: "src"))
    var source: String
    @Argument(help: ArgumentHelp("The new directory to restore into.", valueName: "dest"))
    var destination: String
    @Option(
        help: ArgumentHelp(
            "Also check the stored seals' signatures with this public key file.", valueName: "file"),
        completion: .file(extensions: ["pub"]))
    var publicKey: String?

    func run() throws {
        let checked = try reportingFailures { try StoreCopy.audit(source, publicKey: publicKey) }
        guard checked.report.ok else {
            for line in AuditCommand.text(
                checked.report, sealsChecked: true, allAnomalies: false, colour: Console.current.usesColour)
            {
                Console.current.line(line)
            }
            Console.current.message("touchlog: '\(source)' fails its audit: not restored")
            throw ExitCode(ExitStatus.auditFailed)
        }
        try reportingFailures {
            try StoreCopy.copy(from: source, to: destination)
        }
        try StoreCopy.auditAndReport(
            source: source, destination: destination, publicKey: publicKey, json: output.json)
    }
}

/// What `backup` and `restore` share: making the destination, copying, and auditing the copy.
enum StoreCopy {
    /// A refused destination: exit 64, naming it and why.
    static func refuse(_ destination: String, _ reason: String) -> CommandFailure {
        CommandFailure("cannot copy the store to '\(destination)': \(reason)", exitCode: ExitStatus.usage)
    }

    /// Opens the store at `source` read-only, makes `destination` (`prepare`), and copies the store into it
    /// (`Store.backup(to:)`); when the copy fails, removes what it wrote (and the directory, if it made it).
    static func copy(from source: String, to destination: String, withKeys: Bool = true) throws {
        var options = Store.Options()
        options.create = false
        options.access = .readOnly
        let store = try Store(path: source, options: options)
        let created = try prepare(destination, source: store.path)
        do {
            try store.backup(to: destination, withKeys: withKeys)
        } catch {
            unlink(destination + "/data.mdb")
            if created { rmdir(destination) }
            throw error
        }
    }

    /// Makes `destination` a new directory, mode 0700, for a copy of the store at `source`: an existing
    /// empty directory is used (and made 0700); anything else that exists is refused, and so is a symbolic
    /// link, or a place inside the store. Returns whether it made the directory.
    /// - Throws: `CommandFailure` (exit 64 for a refused destination, 74 when the system fails).
    static func prepare(_ destination: String, source: String) throws -> Bool {
        // `lstat` follows a link named with a trailing slash (`link/`): check the name itself.
        var destination = destination
        while destination.count > 1 && destination.hasSuffix("/") { destination.removeLast() }
        var info = stat()
        var exists = false
        if lstat(destination, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFLNK {
                throw refuse(destination, "it is a symbolic link; name a new directory")
            }
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw refuse(destination, "it exists and is not a directory; name a new directory")
            }
            let entries: [String]
            do { entries = try FileManager.default.contentsOfDirectory(atPath: destination) } catch {
                throw CommandFailure(
                    "cannot copy the store to '\(destination)': its entries cannot be listed: \(error.localizedDescription)",
                    exitCode: ExitStatus.ioError)
            }
            guard entries.isEmpty else {
                throw refuse(destination, "it exists and is not empty; name a new directory")
            }
            exists = true
        } else if errno != ENOENT {
            throw CommandFailure(
                "cannot check '\(destination)': \(String(cString: strerror(errno)))",
                exitCode: ExitStatus.ioError)
        }
        // Inside the store (its directory, or any directory in it) the copy would be part of the store.
        let parent = exists ? destination : directoryAndName(ofPath: destination).directory
        guard let place = realPath(parent) else {
            throw CommandFailure(
                "cannot copy the store to '\(destination)': its directory '\(parent)' cannot be reached: \(String(cString: strerror(errno)))",
                exitCode: ExitStatus.ioError)
        }
        if let store = realPath(source), place == store || place.hasPrefix(store + "/") {
            throw refuse(destination, "it is inside the store '\(source)'; name a directory outside it")
        }
        if exists {
            guard chmod(destination, 0o700) == 0 else {
                throw CommandFailure(
                    "cannot make '\(destination)' private (chmod 700): \(String(cString: strerror(errno)))",
                    exitCode: ExitStatus.ioError)
            }
            return false
        }
        guard mkdir(destination, 0o700) == 0 else {
            if errno == EEXIST { throw refuse(destination, "it exists; name a new directory") }
            throw CommandFailure(
                "cannot create the directory '\(destination)': \(String(cString: strerror(errno)))",
                exitCode: ExitStatus.ioError)
        }
        return true
    }

    /// The absolute path with every link resolved (`realpath`); nil when it cannot be resolved.
    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// What the audit of a store found, and its head.
    struct Checked {
        var head: (position: UInt64, hash: ChainHash)
        var report: AuditReport
    }

    /// Opens the store at `path` read-only and audits it as `touchlog audit` does: the log, the indexes,
    /// the projections, and every stored seal: against `publicKey` when given (signature and log), else
    /// against the log only (the event at the seal's position still has the sealed hash).
    static func audit(_ path: String, publicKey: String?) throws -> Checked {
        var options = Store.Options()
        options.create = false
        options.access = .readOnly
        let store = try Store(path: path, options: options)
        let key = try publicKey.map { try SealKey.loadPublicKey($0) }
        var auditor = Auditor(store: store)
        let meter = ProgressMeter("audit")
        auditor.progress = { meter.update($0) }
        var report = try auditor.audit(sealKey: key, checkingStoredSeals: true)
        meter.finish(report.eventsChecked)
        if key == nil {
            for stored in try SealBook(store: store).all() {
                report.sealsChecked += 1
                switch stored.content {
                case .seal(let seal):
                    let hash = try store.log.event(at: seal.position)?.hash.description
                    if hash != seal.hash {
                        report.problems.append(
                            AuditProblem(
                                position: seal.position, kind: .sealMismatch,
                                message:
                                    "\(stored.name) says position \(seal.position) had hash \(seal.hash); it has \(hash ?? "no event")"
                            ))
                    }
                case .malformed(let reason):
                    report.problems.append(
                        AuditProblem(
                            position: nil, kind: .sealMalformed,
                            message: "\(stored.name) is not a seal (\(reason))"))
                }
            }
        }
        return Checked(head: try store.log.head(), report: report)
    }

    /// `backup --json` and `restore --json`: one line.
    struct CopyJSON: Encodable {
        var source: String
        var destination: String
        var headPosition: UInt64
        var headHash: String
        var audit: AuditReport
    }

    /// Audits the copy at `destination`, prints its head and the audit's verdict, and throws exit 1 when
    /// the audit found a problem.
    static func auditAndReport(source: String, destination: String, publicKey: String?, json: Bool) throws {
        let checked = try reportingFailures { try audit(destination, publicKey: publicKey) }
        if json {
            Console.current.exactLine(
                try jsonLine(
                    CopyJSON(
                        source: source, destination: destination, headPosition: checked.head.position,
                        headHash: checked.head.hash.description, audit: checked.report)))
        } else {
            Console.current.line("copied '\(source)' to '\(destination)'")
            Console.current.line(
                "head position \(checked.head.position), hash \(checked.head.hash.description)")
            var seals = "\(checked.report.sealsChecked) stored seal(s) checked against the log"
            seals += publicKey == nil ? " (--public-key checks their signatures too)" : " and the public key"
            Console.current.line("\(seals)")
            for line in AuditCommand.text(
                checked.report, sealsChecked: true, allAnomalies: false, colour: Console.current.usesColour)
            {
                Console.current.line(line)
            }
        }
        if !checked.report.ok { throw ExitCode(ExitStatus.auditFailed) }
    }
}
