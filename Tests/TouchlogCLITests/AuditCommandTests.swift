import Foundation
import LMDB
import Testing

@Suite struct AuditCommandTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    @Test func aGeneratedSampleAuditsCleanAndSealsVerify() throws {
        let sample = workspace.path + "/sample.jsonl"
        #expect(
            runTouchlog(["generate", "--events", "2000", "--customers", "150", "-o", sample]).exitCode == 0)
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

        let seal = workspace.run("seal", "--key", key, "--json")
        #expect(seal.exitCode == 0)
        #expect(seal.output.contains("\"position\":2000"))
        let sealed = workspace.run("audit", "--seals", "--public-key", key + ".pub")
        #expect(sealed.exitCode == 0)
        #expect(sealed.output.hasPrefix("OK: 2,000 events checked"))
        #expect(sealed.output.contains("projection records checked, 1 seals checked"))
    }

    @Test func anAlteredProjectionRecordFailsTheAuditAndAnomaliesAreListed() throws {
        let lines = [
            #"{"specversion":"1.0","id":"1","source":"urn:t","type":"ticket.opened","subject":"c1","time":"2024-05-01T10:00:00Z","ticketid":"t1","channel":"chat","data":{"priority":"high"}}"#,
            #"{"specversion":"1.0","id":"2","source":"urn:t","type":"ticket.closed","subject":"c1","time":"2024-05-01T11:00:00Z","ticketid":"t1"}"#,
            #"{"specversion":"1.0","id":"3","source":"urn:t","type":"ticket.status_changed","subject":"c1","time":"2024-05-01T12:00:00Z","ticketid":"t1","data":{"status":"open"}}"#,
        ]
        _ = workspace.run("ingest", try workspace.file("t.jsonl", lines: lines))
        let clean = workspace.run("audit", "--json")
        #expect(clean.exitCode == 0)
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(clean.output.utf8)) as? [String: Any])
        let anomalies = try #require(report["anomalies"] as? [[String: Any]])
        #expect(anomalies.count == 1)
        #expect(anomalies.first?["position"] as? Int == 3)
        #expect(anomalies.first?["ticket"] as? String == "t1")
        #expect((report["projection_records_checked"] as? Int ?? 0) > 0)

        // Change one byte of the stored ticket record, in whichever generation holds it.
        do {
            var options = Environment.Options()
            options.maxDatabases = 64
            let environment = try Environment(path: workspace.store, options: options)
            try environment.withWriteTransaction { txn in
                for slot in ["a", "b"] {
                    guard let tickets = try txn.openDatabase(named: "projection.\(slot).tickets"),
                        var record = try txn.value(forKey: "t1", in: tickets)
                    else { continue }
                    record[record.count / 2] ^= 0x01
                    try txn.put(record, forKey: "t1", in: tickets)
                }
            }
        }
        let tampered = workspace.run("audit", "--json")
        #expect(tampered.exitCode == 1)
        #expect(tampered.output.contains("\"kind\":\"projection\""))
    }

    @Test func aGarbageSealFailsTheAuditWithAProblemNotAnError() throws {
        _ = workspace.run("ingest", try workspace.file("one.jsonl", lines: [contactLine(id: "1")]))
        let key = workspace.path + "/seal.key"
        #expect(runTouchlog(["keygen", key]).exitCode == 0)
        #expect(workspace.run("seal", "--key", key).exitCode == 0)
        #expect(workspace.run("seal", "--key", key).exitCode == 0)
        do {
            var options = Environment.Options()
            options.maxDatabases = 64
            let environment = try Environment(path: workspace.store, options: options)
            try environment.withWriteTransaction { txn in
                let seals = try #require(try txn.openDatabase(named: "seals"))
                try txn.put(Array("garbage".utf8), forKey: BigEndianKey(1), in: seals)
            }
        }
        let audit = workspace.run("audit", "--json", "--seals", "--public-key", key + ".pub")
        #expect(audit.exitCode == 1, "stderr: \(audit.error)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(audit.output.utf8)) as? [String: Any])
        #expect(report["seals_checked"] as? Int == 2)
        let problems = try #require(report["problems"] as? [[String: Any]])
        #expect(problems.map { $0["kind"] as? String } == ["seal_malformed"])
        #expect((problems.first?["message"] as? String)?.contains("seal 1") == true)
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
