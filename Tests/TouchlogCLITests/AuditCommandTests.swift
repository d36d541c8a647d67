import Foundation
import Testing

@Suite struct AuditCommandTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    @Test func aGeneratedSampleAuditsCleanAndSealsVerify() throws {
        let sample = workspace.path + "/sample.jsonl"
        #expect(runTouchlog(["generate", "--events", "2000", "--customers", "150", "-o", sample]).exitCode == 0)
        #expect(workspace.run("ingest", sample).exitCode == 0)

        let audit = workspace.run("audit", "--json")
        #expect(audit.exitCode == 0)
        let object = try JSONSerialization.jsonObject(with: Data(audit.output.utf8)) as? [String: Any]
        #expect(object?["ok"] as? Bool == true)
        #expect(object?["events_checked"] as? Int == 2000)

        let key = workspace.path + "/seal.key"
        let keygen = runTouchlog(["keygen", key])
        #expect(keygen.exitCode == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        #expect(runTouchlog(["keygen", key]).exitCode != 0, "an existing key is never overwritten")

        let seal = workspace.run("seal", "--key", key)
        #expect(seal.exitCode == 0)
        #expect(seal.output.contains("\"position\":2000"))
        let sealed = workspace.run("audit", "--seals", "--public-key", key + ".pub")
        #expect(sealed.exitCode == 0)
        #expect(sealed.output.contains("ok: 2,000 events checked, 1 seals checked"))
    }

    @Test func auditNeedsAPublicKeyForSeals() {
        #expect(workspace.run("audit", "--seals").exitCode == 64)
    }

    @Test func sealingAnEmptyLogOrWithABadKeyIsRefused() throws {
        let key = workspace.path + "/k"
        #expect(runTouchlog(["keygen", key]).exitCode == 0)
        let empty = try workspace.file("empty.jsonl", lines: [])
        #expect(workspace.run("ingest", empty).exitCode == 0)
        let refused = workspace.run("seal", "--key", key)
        #expect(refused.exitCode == 65)
        #expect(refused.error.contains("the log is empty"))

        _ = workspace.run("ingest", try workspace.file("one.jsonl", lines: [contactLine(id: "1")]))
        let wrongFile = workspace.run("seal", "--key", key + ".pub")
        #expect(wrongFile.exitCode == 65)
        #expect(wrongFile.error.contains("made by 'touchlog keygen'"))
        #expect(workspace.run("seal", "--key", key).exitCode == 0)
    }
}
