import Foundation
import Testing
import TouchlogGenerator
import TouchlogTestSupport

@testable import TouchlogReport
@testable import TouchlogStore

/// The report as a browser draws it: headless Chromium takes a screenshot of the page, which must not be
/// blank. Skipped, with the reason printed, where Chromium is not installed.
@Suite struct ScreenshotTests {
    static let chromium = PDFRenderer.find().flatMap { $0.tool == .chromium ? $0.executable : nil }

    /// Width and height from a PNG's IHDR chunk; nil when the bytes are not a PNG.
    static func pngSize(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        guard bytes.count > 24, bytes.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
            bytes[12..<16] == [0x49, 0x48, 0x44, 0x52]
        else { return nil }
        func be32(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }

    /// A screenshot of the HTML file at `html`, as PNG bytes.
    static func screenshot(_ html: String, in directory: String, name: String) throws -> [UInt8] {
        let png = directory + "/" + name + ".png"
        try PDFRenderer.runChromium(
            chromium!,
            [
                "--screenshot=\(png)", "--window-size=1100,1200", "--hide-scrollbars",
                URL(fileURLWithPath: html).absoluteString,
            ],
            output: png)
        return Array(try Data(contentsOf: URL(fileURLWithPath: png)))
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed (Debian: apt-get install chromium)"))
    func theReportIsNotBlank() throws {
        let scratch = try TemporaryDirectory(prefix: "touchlog-screenshot")
        let blankPage = scratch.path + "/blank.html"
        try Data("<!DOCTYPE html><html><body></body></html>".utf8).write(to: URL(fileURLWithPath: blankPage))
        let blank = try Self.screenshot(blankPage, in: scratch.path, name: "blank")
        let store = try TestStore()
        let log = try store.open()
        _ = try log.append(try generatedTouchpoints(GeneratorConfiguration(events: 400, customers: 2)))
        let (stream, verification) = try log.verifiedStream(ofCustomer: "cus-000001")
        let report = Report(
            subject: .customer("cus-000001"), stream: stream, verification: verification, rules: .default)
        let files = try report.write(to: scratch.path + "/report", renderer: nil)
        let shot = try Self.screenshot(files.html, in: scratch.path, name: "report")
        let size = try #require(Self.pngSize(shot))
        #expect(size.width == 1100 && size.height == 1200)
        #expect(Self.pngSize(blank) != nil)
        // A blank page compresses to almost nothing; text, lanes and marks do not.
        #expect(shot.count > 8 * blank.count, "report \(shot.count) bytes, blank page \(blank.count) bytes")
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed (Debian: apt-get install chromium)"))
    func chromiumPrintsAPDF() throws {
        let scratch = try TemporaryDirectory(prefix: "touchlog-pdf")
        let store = try TestStore()
        let log = try store.open()
        _ = try log.append(try generatedTouchpoints(GeneratorConfiguration(events: 50, customers: 1)))
        let (stream, verification) = try log.verifiedStream(ofCustomer: "cus-000001")
        let report = Report(
            subject: .customer("cus-000001"), stream: stream, verification: verification, rules: .default)
        let files = try report.write(
            to: scratch.path + "/out", renderer: PDFRenderer(tool: .chromium, executable: Self.chromium!))
        let pdf = try Data(contentsOf: URL(fileURLWithPath: try #require(files.pdf)))
        #expect(pdf.prefix(5) == Data("%PDF-".utf8))
        #expect(pdf.count > 10_000)
    }

    @Test func noRendererOnThePathMeansNoPDF() throws {
        #expect(PDFRenderer.find(searchPath: "") == nil)
        #expect(PDFRenderer.find(searchPath: "/nonexistent:/also/not") == nil)
        let scratch = try TemporaryDirectory(prefix: "touchlog-nopdf")
        let store = try TestStore()
        let log = try store.open()
        _ = try log.append(try generatedTouchpoints(GeneratorConfiguration(events: 5, customers: 1)))
        let (stream, verification) = try log.verifiedStream(ofCustomer: "cus-000001")
        let report = Report(
            subject: .customer("cus-000001"), stream: stream, verification: verification, rules: .default)
        let files = try report.write(to: scratch.path + "/a/b", renderer: nil)
        #expect(files.pdf == nil)
        #expect(FileManager.default.fileExists(atPath: files.html))
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/a/b/report.pdf"))
    }

    @Test func aFileInTheWayOfTheDirectoryIsAClearError() throws {
        let scratch = try TemporaryDirectory(prefix: "touchlog-out")
        let path = try scratch.file("taken", lines: ["x"])
        let report = Report(
            subject: .customer("c"), stream: [],
            verification: LogVerification(
                eventsChecked: 0, problems: [], headPosition: 0, headHash: .genesis),
            rules: .default)
        #expect(throws: ReportError.output(path: path, reason: "it exists and is not a directory")) {
            try report.write(to: path, renderer: nil)
        }
    }
}
