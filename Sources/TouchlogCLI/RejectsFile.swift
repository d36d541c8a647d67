import Foundation
import SystemPackage
import TouchlogIngest
import TouchlogStore

#if canImport(Glibc)
    import Glibc
#endif

/// The `--rejects` file of `ingest` and `import`: one JSON object per line for each input set aside.
///
/// Each entry holds `file` and `line` (where the input was), `reason`, `length` (its size in bytes,
/// without the line end) and the input itself, exactly: `input` with its text when it is valid UTF-8 and
/// whole, else `input_base64` with its bytes, and `truncated: true` when only its first bytes were kept
/// (an event longer than the 1 MiB maximum). `RejectsFile.formatHelp` says the same in the commands' help.
///
/// The file is created new, owner-only from its first byte (`O_CREAT | O_EXCL | O_NOFOLLOW`, mode 0600),
/// so it never overwrites or writes through anything: an existing path is refused unless `--force`
/// replaces it, and the path may never be the input itself (compared by device and inode, so also under
/// another name or a hard link) nor anything inside the store. It is removed again when nothing was
/// rejected, so re-running a fixed input does not need `--force`.
final class RejectsFile {
    /// The format, for the commands' help.
    static let formatHelp = """
        PATH is created new, owner-only (0600); an existing file is refused unless --force replaces it, and \
        PATH may be neither the input nor inside the store. It is removed again when nothing was rejected. \
        Each line of it is a JSON object: "file", "line", "reason", "length" (the input's size in bytes, \
        without its line end), and the input exactly: "input" (its text), or, when it is not valid UTF-8 \
        or was cut, "input_base64" (its bytes); "truncated": true marks an input longer than the maximum, \
        of which only the first 1,048,576 bytes are kept.
        """

    private let descriptor: Int32
    private let identity: FileIdentity
    private let path: String
    /// The input's name in entries ("<stdin>" for standard input).
    private let inputName: String
    private var entries = 0
    private var isClosed = false

    /// Creates the rejects file at `path`.
    /// - Parameters:
    ///   - replacing: `--force`: an existing regular file (or symlink) at `path` is removed first.
    ///   - input: the input's path, or "-" for standard input, which the rejects file must not be.
    ///   - inputName: how entries name the input.
    ///   - store: the store directory, which the rejects file must not be inside.
    /// - Throws: `CommandFailure`: exit 64 for a path refused, 74 when the file cannot be created.
    init(path: String, replacing: Bool, input: String, inputName: String, store: String) throws {
        self.path = path
        self.inputName = inputName
        func refuse(_ why: String) -> CommandFailure {
            CommandFailure("refusing --rejects '\(path)': \(why)", exitCode: ExitStatus.usage)
        }
        if try Self.isInside(directory: store, path: path) {
            throw refuse("it is inside the store '\(store)'; write rejects outside the store")
        }
        let inputIdentity = input == "-" ? FileIdentity(descriptor: 0) : FileIdentity(path: input)
        if let existing = FileIdentity(path: path, followingLinks: false) {
            let target = FileIdentity(path: path)
            if let inputIdentity, existing == inputIdentity || target == inputIdentity {
                throw refuse("it is the input file itself")
            }
            guard replacing else {
                throw refuse("the file exists; choose a new path, or pass --force to replace it")
            }
            guard existing.isRegularFile || existing.isSymbolicLink else {
                throw refuse("it exists and is not a regular file")
            }
            guard unlink(path) == 0 || errno == ENOENT else {
                throw CommandFailure(
                    "cannot replace the rejects file '\(path)': \(String(cString: strerror(errno)))",
                    exitCode: ExitStatus.ioError)
            }
        }
        var descriptor: Int32
        repeat {
            descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else {
            if errno == EEXIST {
                throw refuse("the file exists; choose a new path, or pass --force to replace it")
            }
            throw CommandFailure(
                "cannot create the rejects file '\(path)': \(String(cString: strerror(errno)))",
                exitCode: ExitStatus.ioError)
        }
        guard let identity = FileIdentity(descriptor: descriptor) else {
            let reason = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw CommandFailure(
                "cannot stat the rejects file '\(path)': \(reason)", exitCode: ExitStatus.ioError)
        }
        self.descriptor = descriptor
        self.identity = identity
    }

    deinit {
        // A command that failed before `close()`: keep what was written, drop an empty file.
        if !isClosed {
            Glibc.close(descriptor)
            if entries == 0 { removeIfOurs() }
        }
    }

    private struct Entry: Encodable {
        var file: String
        var line: Int
        var reason: String
        var length: Int
        var input: String?
        var inputBase64: String?
        var truncated: Bool?
    }

    /// Writes an event set aside by `ingest`, its bytes exactly.
    func write(_ rejected: RejectedEvent) throws {
        try write(
            line: rejected.line, reason: rejected.reason, bytes: rejected.bytes, length: rejected.length)
    }

    /// Writes one entry: where the input was, why, and its bytes exactly; `length` is the input's whole
    /// length when `bytes` holds only its start.
    func write(line: Int, reason: String, bytes: [UInt8], length: Int? = nil) throws {
        let length = length ?? bytes.count
        let truncated = length > bytes.count
        var entry = Entry(file: inputName, line: line, reason: reason, length: length)
        if !truncated, let text = String(validating: bytes, as: UTF8.self) {
            entry.input = text
        } else {
            entry.inputBase64 = Data(bytes).base64EncodedString()
            if truncated { entry.truncated = true }
        }
        try append(entry)
    }

    private func append(_ entry: Entry) throws {
        let bytes = Array((try jsonLine(entry) + "\n").utf8)
        do {
            _ = try FileDescriptor(rawValue: descriptor).writeAll(bytes)
        } catch let error as Errno {
            throw CommandFailure(
                "cannot write the rejects file '\(path)': \(String(cString: strerror(error.rawValue)))",
                exitCode: ExitStatus.ioError)
        }
        entries += 1
    }

    /// Flushes the file to disk (`fsync`) and closes it; an empty file is removed instead.
    func close() throws {
        guard !isClosed else { return }
        isClosed = true
        defer { Glibc.close(descriptor) }
        if entries == 0 {
            removeIfOurs()
            return
        }
        guard fsync(descriptor) == 0 else {
            throw CommandFailure(
                "cannot write the rejects file '\(path)' to disk: \(String(cString: strerror(errno)))",
                exitCode: ExitStatus.ioError)
        }
    }

    /// Removes `path` if it is still the file this created (nobody replaced it meanwhile).
    private func removeIfOurs() {
        if FileIdentity(path: path, followingLinks: false) == identity { unlink(path) }
    }

    /// Whether `path` (which need not exist) would lie inside `directory` or be `directory` itself:
    /// compares the device and inode of `directory` with those of `path`'s parent and each of its
    /// ancestors, after resolving symlinks, so another name for the store (a symlink, a bind mount) is
    /// caught too.
    private static func isInside(directory: String, path: String) throws -> Bool {
        guard let store = FileIdentity(path: directory) else { return false }
        if FileIdentity(path: path) == store { return true }
        let parent = directoryAndName(ofPath: path).directory
        guard let resolved = realpath(parent, nil) else {
            throw CommandFailure(
                "cannot create the rejects file '\(path)': its directory: \(String(cString: strerror(errno)))",
                exitCode: ExitStatus.ioError)
        }
        var ancestor = String(cString: resolved)
        free(resolved)
        while true {
            if FileIdentity(path: ancestor) == store { return true }
            if ancestor == "/" { return false }
            ancestor = directoryAndName(ofPath: ancestor).directory
        }
    }
}

/// A file's device and inode: what makes two paths the same file.
struct FileIdentity: Equatable {
    var device: UInt64
    var inode: UInt64
    var mode: mode_t

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        mode = info.st_mode
    }

    /// `stat(2)` (or `lstat(2)`) of `path`, or `nil` when it does not exist or cannot be read.
    init?(path: String, followingLinks: Bool = true) {
        var info = stat()
        guard (followingLinks ? stat(path, &info) : lstat(path, &info)) == 0 else { return nil }
        self.init(info)
    }

    /// `fstat(2)` of an open descriptor, or `nil`.
    init?(descriptor: Int32) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        self.init(info)
    }

    var isRegularFile: Bool { mode & S_IFMT == S_IFREG }
    var isSymbolicLink: Bool { mode & S_IFMT == S_IFLNK }

    static func == (lhs: FileIdentity, rhs: FileIdentity) -> Bool {
        lhs.device == rhs.device && lhs.inode == rhs.inode
    }
}
