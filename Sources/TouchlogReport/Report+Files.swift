import Foundation
import SystemPackage

extension Report {
    /// What ``write(to:renderer:)`` wrote.
    public struct Files: Sendable, Equatable {
        public var html: String
        public var csv: String
        /// nil when no renderer was given.
        public var pdf: String?
    }

    /// Writes `report.html` and `events.csv` into `directory` (made if missing), then `report.pdf` from the
    /// HTML with `renderer` when there is one.
    /// - Throws: `ReportError.output` when the directory or a file cannot be written,
    ///   `ReportError.renderer` when the renderer fails (the HTML and CSV are written by then).
    public func write(to directory: String, renderer: PDFRenderer?) throws -> Files {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ReportError.output(path: directory, reason: "it exists and is not a directory")
            }
        } else {
            do {
                // Owner-only: the report holds a customer's history.
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            } catch {
                throw ReportError.output(path: directory, reason: "cannot make the directory: \(error)")
            }
        }
        let files = Files(
            html: directory + "/report.html", csv: directory + "/events.csv",
            pdf: renderer == nil ? nil : directory + "/report.pdf")
        for (path, text) in [(files.html, html()), (files.csv, csv())] {
            try Self.writePrivately(Array(text.utf8), to: path)
        }
        if let renderer, let pdf = files.pdf {
            // A PDF left by an earlier run must not pass for this report's.
            if FileManager.default.fileExists(atPath: pdf) {
                do { try FileManager.default.removeItem(atPath: pdf) } catch {
                    throw ReportError.output(path: pdf, reason: "cannot replace it: \(error)")
                }
            }
            // The renderer creates its file with the umask's mode: it writes into a private directory,
            // and the PDF is made owner-only there before it takes its name.
            let scratch = directory + "/.report-pdf-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
            guard mkdir(scratch, 0o700) == 0 else {
                throw ReportError.output(path: scratch, reason: String(cString: strerror(errno)))
            }
            defer { try? FileManager.default.removeItem(atPath: scratch) }  // empty unless rendering failed
            let rendered = scratch + "/report.pdf"
            try renderer.render(html: files.html, pdf: rendered)
            guard chmod(rendered, 0o600) == 0, rename(rendered, pdf) == 0 else {
                throw ReportError.output(path: pdf, reason: String(cString: strerror(errno)))
            }
        }
        return files
    }

    /// Writes `bytes` to `path`, owner-only (0600) from the first byte: a new temporary file beside it
    /// (`O_EXCL | O_NOFOLLOW`), then renamed over `path` (a link planted there is replaced, never followed).
    static func writePrivately(_ bytes: [UInt8], to path: String) throws {
        let failure = { (step: String) in
            ReportError.output(path: path, reason: "cannot \(step): \(String(cString: strerror(errno)))")
        }
        let temporary = path + ".\(String(UInt64.random(in: 0...UInt64.max), radix: 16)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure("create it") }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            defer { close(descriptor) }
            guard fchmod(descriptor, 0o600) == 0 else { throw failure("make it owner-only") }
            do {
                _ = try FileDescriptor(rawValue: descriptor).writeAll(bytes)
            } catch let error as Errno {
                errno = error.rawValue
                throw failure("write it")
            }
        }
        guard rename(temporary, path) == 0 else { throw failure("give it its name") }
        renamed = true
    }
}
