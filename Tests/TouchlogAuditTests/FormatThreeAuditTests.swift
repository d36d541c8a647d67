import Crypto
import LMDB
import Testing
import TouchlogAudit
import TouchlogTestSupport

@testable import TouchlogStore

/// Tampering with a store of format 3: the record (metadata, pseudonym, commitment), its sealed
/// content, and the customer's key. The audit names the position; nothing reads as "erased".
@Suite struct FormatThreeAuditTests {
    let store: TamperableStore
    init() throws { store = try TamperableStore(format: 3) }

    @Test func aChangedByteOfTheRecordIsAHashMismatchAtItsPosition() throws {
        #expect(try store.audit().ok)
        try store.tamper { txn, events, _, _ in
            var record = try #require(try txn.value(forKey: BigEndianKey(5), in: events))
            #expect(record[0] == SealedRecord.format)
            record[SealedRecord.fieldsOffset + 1] ^= 0x01  // the first character of the id
            try txn.put(record, forKey: BigEndianKey(5), in: events)
        }
        let report = try store.audit()
        #expect(report.firstBadPosition == 5)
        #expect(report.problems.first?.kind.rawValue == "hash_mismatch")
    }

    @Test func changedSealedContentIsReportedAtItsPositionNotTakenForErased() throws {
        try store.tamper { txn, _, _, _ in
            let content = try #require(try txn.openDatabase(named: "content"))
            var sealed = try #require(try txn.value(forKey: BigEndianKey(7), in: content))
            sealed[sealed.count - 20] ^= 0x01
            try txn.put(sealed, forKey: BigEndianKey(7), in: content)
        }
        let report = try store.audit()
        #expect(report.firstBadPosition == 7, "\(report.problems.prefix(3))")
        let problem = try #require(report.problems.first)
        #expect(problem.kind.rawValue == "undecodable")
        #expect(problem.message.contains("fails AES-GCM authentication"), "\(problem.message)")
        #expect(throws: StoreError.self) { try store.open().event(at: 7) }
    }

    @Test func unreadableContentIsOneProblemWhileTheRecordsStreamAndIdentityStillCount() throws {
        // The stream and identity fields are in the clear and hashed into the chain: the audit checks
        // them whatever the content, so a damaged content is reported alone, not followed by index
        // problems of a record taken for missing.
        try store.tamper { txn, _, _, _ in
            let content = try #require(try txn.openDatabase(named: "content"))
            var sealed = try #require(try txn.value(forKey: BigEndianKey(7), in: content))
            sealed[sealed.count - 1] ^= 0x01
            try txn.put(sealed, forKey: BigEndianKey(7), in: content)
        }
        let report = try store.audit()
        #expect(report.problems.map(\.kind.rawValue) == ["undecodable"], "\(report.problems)")
        #expect(report.problems.map(\.position) == [7])
        #expect(report.eventsChecked == 12)
    }

    @Test func aMissingKeyOrContentIsAnErrorNeverErased() throws {
        let stored = try #require(try store.open().event(at: 2))
        let pseudonym = try #require(stored.pseudonym)
        try store.tamper { txn, _, _, _ in
            let content = try #require(try txn.openDatabase(named: "content"))
            #expect(try txn.delete(forKey: BigEndianKey(3), in: content))
        }
        #expect(throws: StoreError.self) { try store.open().event(at: 3) }
        #expect(try store.audit().firstBadPosition == 3)
        try store.tamper { txn, _, _, _ in
            let keys = try #require(try txn.openDatabase(named: "customerkeys"))
            #expect(try txn.delete(forKey: pseudonym.bytes, in: keys))
        }
        do {
            _ = try store.open().event(at: 2)
            Issue.record("an event whose key is missing must not read")
        } catch let error as StoreError {
            #expect(error.description.contains("has no key in 'customerkeys'"), "\(error)")
        }
        #expect(try store.audit().firstBadPosition == 2)
    }

    @Test func aDisclosureIsTheCommittedContentAndItsRecordHashesToTheChain() throws {
        let log = try store.open()
        let stored = try #require(try log.event(at: 4))
        let disclosed = try #require(try log.disclosure(at: 4))
        let content = try #require(disclosed.content)
        #expect(Array(SHA256.hash(data: content)) == Array(disclosed.record[113..<145]), "the commitment")
        #expect(ChainHash(position: 4, record: disclosed.record) == stored.hash, "the chain covers it")
        let subject = Array(try #require(stored.event.subject).utf8)
        #expect(content[16] == UInt8(subject.count) && Array(content[17..<17 + subject.count]) == subject)
        #expect(disclosed.record.firstRange(of: subject) == nil, "the record itself holds no subject")
        #expect(try log.disclosure(at: 99) == nil)
    }
}
