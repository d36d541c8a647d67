import Foundation
import Testing
import TouchlogReport

/// `touchlog report`: the files it writes, the ticket form, and its failures.
@Suite struct ReportCommandTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    func ingestStory() throws {
        let lines =
            ProjectionCommandTests.story + [
                contactLine(id: "8", customer: "c1", time: "2024-05-03T09:00:00Z")
            ]
        let ingest = workspace.run("ingest", try workspace.file("story.jsonl", lines: lines))
        #expect(ingest.exitCode == 0, "\(ingest.error)")
    }

    func read(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    @Test func aCustomersReportWritesTheHTMLTheCSVAndThePDFWhenItCan() throws {
        try ingestStory()
        let out = workspace.path + "/report-c1"
        let report = workspace.run("report", "--customer", "c1", "--out", out)
        #expect(report.exitCode == 0, "\(report.error)")
        #expect(report.outputLines.first == "wrote \(out)/report.html (8 events, 1 tickets)")
        let html = try read(out + "/report.html")
        #expect(html.components(separatedBy: "<tr class=\"event").count - 1 == 8)
        #expect(html.components(separatedBy: "<g class=\"lane\"").count - 1 == 2)  // chat (the ticket), email
        #expect(html.contains("chain: intact: the 8 events of &#39;c1&#39;"))
        let csv = try read(out + "/events.csv")
        #expect(csv.components(separatedBy: "\r\n").count == 1 + 8 + 1)
        if let renderer = PDFRenderer.find() {
            #expect(report.outputLines.last == "wrote \(out)/report.pdf with \(renderer.tool.rawValue)")
            let pdf = try Data(contentsOf: URL(fileURLWithPath: out + "/report.pdf"))
            #expect(pdf.prefix(5) == Data("%PDF-".utf8))
        } else {
            print("no PDF renderer on PATH: the note is checked instead of the PDF")
            #expect(
                report.error.contains("touchlog: note: no PDF: neither chromium nor weasyprint is on PATH"))
            #expect(!FileManager.default.fileExists(atPath: out + "/report.pdf"))
        }
    }

    /// A report holds a customer's history: its directory is owner-only, its files too from their first
    /// byte, and a link planted where a file goes is replaced, never written through.
    @Test func theReportIsOwnerOnlyAndNeverWritesThroughALink() throws {
        try ingestStory()
        let out = workspace.path + "/private-report"
        let elsewhere = workspace.path + "/elsewhere.html"
        FileManager.default.createFile(atPath: elsewhere, contents: Data("not the report".utf8))
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(
            atPath: out + "/report.html", withDestinationPath: elsewhere)
        let report = workspace.run("report", "--customer", "c1", "--out", out)
        #expect(report.exitCode == 0, "\(report.error)")
        #expect(try read(elsewhere) == "not the report")
        let fresh = workspace.path + "/fresh-report"
        #expect(workspace.run("report", "--customer", "c1", "--out", fresh).exitCode == 0)
        func mode(_ path: String) throws -> Int {
            try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        }
        #expect(try mode(fresh) == 0o700)
        for directory in [out, fresh] {
            var files = ["report.html", "events.csv"]
            if PDFRenderer.find() != nil { files.append("report.pdf") }
            for file in files {
                let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/" + file)
                #expect(attributes[.type] as? FileAttributeType == .typeRegular, "\(file)")
                #expect(try mode(directory + "/" + file) == 0o600, "\(directory)/\(file)")
            }
            // Nothing of the writing is left behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == files.sorted())
        }
    }

    @Test func aTicketsReportHasTheTicketsEventsOnly() throws {
        try ingestStory()
        let out = workspace.path + "/report-t1"
        let report = workspace.run(
            "report", "--ticket", "t1", "--out", out, "--until", "2024-05-02T16:30:00Z")
        #expect(report.exitCode == 0, "\(report.error)")
        let html = try read(out + "/report.html")
        #expect(html.contains("<title>Touchlog report: ticket t1 of customer c1</title>"))
        // Events 1-6 (the reopen at 17:00 is after --until, the contact belongs to no ticket).
        #expect(html.components(separatedBy: "<tr class=\"event").count - 1 == 6)
    }

    @Test func unknownCustomerOrTicketIsNotFound() throws {
        try ingestStory()
        let customer = workspace.run("report", "--customer", "nobody", "--out", workspace.path + "/x")
        #expect(customer.exitCode == 66)
        #expect(customer.error == "touchlog: no customer 'nobody' in the store\n")
        let ticket = workspace.run("report", "--ticket", "t-none", "--out", workspace.path + "/y")
        #expect(ticket.exitCode == 66)
        #expect(ticket.error == "touchlog: no ticket 't-none' in the store\n")
        #expect(!FileManager.default.fileExists(atPath: workspace.path + "/x"))
    }

    @Test(arguments: [
        ["report", "--out", "o"],
        ["report", "--customer", "c1", "--ticket", "t1", "--out", "o"],
        ["report", "--customer", "c1"],
        ["report", "--customer", "c1", "--out", "o", "--since", "yesterday"],
        [
            "report", "--customer", "c1", "--out", "o", "--since", "2024-05-02T00:00:00Z", "--until",
            "2024-05-01T00:00:00Z",
        ],
    ])
    func usageErrors(_ arguments: [String]) throws {
        try ingestStory()
        #expect(workspace.run(arguments).exitCode == 64)
    }

    @Test func aTamperedStreamIsReportedAndExitsOne() throws {
        try ingestStory()
        try workspace.flipByte(of: #""score":5"#, at: 5)
        let out = workspace.path + "/tampered"
        let report = workspace.run("report", "--customer", "c1", "--out", out)
        #expect(report.exitCode == 1)
        #expect(
            report.error.contains(
                "touchlog: the stream of 'c1' is not intact: first bad position 5: hash_mismatch"))
        let html = try read(out + "/report.html")
        #expect(html.contains("chain: NOT INTACT: first bad position 5"))
        #expect(html.components(separatedBy: "<tr class=\"event bad\"").count - 1 == 1)
    }
}
