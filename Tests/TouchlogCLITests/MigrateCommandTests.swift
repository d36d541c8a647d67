import Foundation
import Testing
import TouchlogStore
import TouchlogTestSupport

/// `touchlog migrate SRC DEST`: a store of format 3 written from one of format 2.
@Suite struct MigrateCommandTests {
    let workspace: Workspace
    init() throws { workspace = try Workspace() }

    func json(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func aStoreOfFormatTwoIsMigratedWithItsPositionsVersionsAndTimes() throws {
        let old = try TestStore.openStore(at: workspace.store, format: 2)
        _ = try old.log.append(
            (1...30).map {
                try touchpoint(
                    id: "m\($0)", customer: "person-\($0 % 4)@example.com",
                    time: "2024-05-01T10:\(10 + $0):00Z",
                    extra: #""channel":"email","email":"x\#($0)@example.com""#,
                    data: #"{"summary":"note \#($0)"}"#)
            })
        let oldHead = try old.log.head()
        let destination = workspace.path + "/new"
        let migrated = runTouchlog(["migrate", workspace.store, destination, "--json"])
        #expect(migrated.exitCode == 0, "\(migrated.error)")
        let summary = try json(migrated.output)
        #expect(summary["events"] as? Int == 30)
        #expect(summary["source_head"] as? Int == 30)
        #expect(summary["source_hash"] as? String == oldHead.hash.description)

        let new = try TestStore.openStore(at: destination)
        #expect(new.format == 3)
        let from = try #require(try new.log.migratedFrom())
        #expect(from.position == oldHead.position && from.hash == oldHead.hash)
        for customer in (0..<4).map({ "person-\($0)@example.com" }) {
            let before = try old.log.stream(ofCustomer: customer)
            let after = try new.log.stream(ofCustomer: customer)
            #expect(after.map(\.position) == before.map(\.position))
            #expect(after.map(\.version) == before.map(\.version))
            #expect(after.map(\.recordedAt) == before.map(\.recordedAt))
            #expect(after.map(\.event) == before.map(\.event), "the same events, read back whole")
        }
        #expect(runTouchlog(["audit", "--store", destination]).exitCode == 0)
        // The first checkpoint (and every later one) names the old store's head, signed.
        let key = workspace.path + "/seal.key"
        #expect(runTouchlog(["keygen", key]).exitCode == 0)
        #expect(runTouchlog(["seal", "--store", destination, "--key", key]).exitCode == 0)
        let checkpoint = runTouchlog(["checkpoint", "--store", destination])
        #expect(checkpoint.exitCode == 0, "\(checkpoint.error)")
        let line = "touchlog-migrated-from 30 \(Data(oldHead.hash.bytes).base64EncodedString())"
        #expect(checkpoint.outputLines.contains(line), "\(checkpoint.output)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: destination + "/data.mdb"))
        #expect(bytes.range(of: Data("person-1@example.com".utf8)) == nil, "the ids are sealed")
        #expect(bytes.range(of: Data("x5@example.com".utf8)) == nil, "personal extensions are sealed")

        let again = runTouchlog(["migrate", workspace.store, destination])
        #expect(again.exitCode == 64)
        #expect(again.error.contains("exists: name a new directory"), "\(again.error)")
        let formatThree = runTouchlog(["migrate", destination, workspace.path + "/other"])
        #expect(formatThree.exitCode == 65)
        #expect(formatThree.error.contains("has format 3 already"), "\(formatThree.error)")
        #expect(!FileManager.default.fileExists(atPath: workspace.path + "/other"))
    }
}
