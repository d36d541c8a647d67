import Foundation

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
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw ReportError.output(path: directory, reason: "cannot make the directory: \(error)")
            }
        }
        let files = Files(
            html: directory + "/report.html", csv: directory + "/events.csv",
            pdf: renderer == nil ? nil : directory + "/report.pdf")
        for (path, text) in [(files.html, html()), (files.csv, csv())] {
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                throw ReportError.output(path: path, reason: "\(error)")
            }
        }
        if let renderer, let pdf = files.pdf {
            // A PDF left by an earlier run must not pass for this report's.
            if FileManager.default.fileExists(atPath: pdf) {
                do { try FileManager.default.removeItem(atPath: pdf) } catch {
                    throw ReportError.output(path: pdf, reason: "cannot replace it: \(error)")
                }
            }
            try renderer.render(html: files.html, pdf: pdf)
        }
        return files
    }
}
