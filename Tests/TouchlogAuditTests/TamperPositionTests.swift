import LMDB
import Testing
import TouchlogAudit
import TouchlogGenerator
import TouchlogTestSupport

@testable import TouchlogStore

/// Which part of a record a tamper test changes one byte of.
enum TamperedField: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// The middle of the `data` text.
    case data
    /// The `type` (the event becomes one the projections do not know, so their fold leaves it out).
    case type
    /// The last character of the `subject` (the event moves to another customer).
    case subject
    /// The last character of the `ticketid` extension (the event moves to another ticket).
    case ticketID

    var testDescription: String { rawValue }

    /// The offset of the byte to change in `record`, whose event is `event`.
    func offset(in record: [UInt8], of event: StoredEvent) throws -> Int {
        func start(of text: String) throws -> Int {
            let bytes = Array(text.utf8)
            let body = record[EventRecord.headerSize...]
            return try #require(body.firstRange(of: bytes), "'\(text)' is not in the record").lowerBound
        }
        switch self {
        case .data:
            guard case .json(let data) = event.event.data else {
                throw TestSupportError("the event at \(event.position) has no JSON data")
            }
            return try start(of: String(decoding: data, as: UTF8.self)) + data.count / 2
        case .type:
            return try start(of: event.event.type) + 2
        case .subject:
            let subject = try #require(event.event.subject)
            return try start(of: subject) + subject.utf8.count - 1
        case .ticketID:
            let ticket = try #require(event.event.extensions.first { $0.name == "ticketid" })
            guard case .string(let id) = ticket.value else {
                throw TestSupportError("the ticketid of the event at \(event.position) is not a string")
            }
            return try start(of: id) + id.utf8.count - 1
        }
    }
}

/// One changed byte of one record of a generated store (its projections caught up, as `ingest` leaves
/// it): the audit's first bad position is that record's, whatever else the change upsets.
@Suite struct TamperPositionTests {
    /// 3,000 events of 50 customers: what `touchlog generate --events 3000 --customers 50` writes.
    static let configuration = GeneratorConfiguration(events: 3000, customers: 50)

    @Test(
        arguments: [
            (1, .data), (1, .type), (1, .subject), (1000, .data), (1000, .type), (1000, .subject),
            (1000, .ticketID), (3000, .data), (3000, .type), (3000, .subject), (3000, .ticketID),
        ] as [(UInt64, TamperedField)])
    func oneChangedByteIsAHashMismatchAtItsOwnPosition(position: UInt64, field: TamperedField) throws {
        let store = try TamperableStore(generated: Self.configuration)
        #expect(try store.audit().ok)
        let event = try #require(try store.open().event(at: position))
        try store.tamper { txn, events, _, _ in
            var record = try #require(try txn.value(forKey: BigEndianKey(position), in: events))
            record[try field.offset(in: record, of: event)] ^= 0x01
            try txn.put(record, forKey: BigEndianKey(position), in: events)
        }
        let report = try store.audit()
        #expect(report.firstBadPosition == position, "problems: \(report.problems.prefix(5))")
        #expect(report.problems.first?.kind.rawValue == "hash_mismatch")
        #expect(report.problems.first?.position == position)
    }

    @Test(arguments: [1, 1000, 3000] as [UInt64])
    func aRecordThatNoLongerDecodesIsAProblemNotAnError(position: UInt64) throws {
        let store = try TamperableStore(generated: Self.configuration)
        try store.tamper { txn, events, _, _ in
            var record = try #require(try txn.value(forKey: BigEndianKey(position), in: events))
            // The length of the id: every field after it is read from the wrong place.
            record[EventRecord.headerSize] ^= 0x01
            try txn.put(record, forKey: BigEndianKey(position), in: events)
        }
        let report = try store.audit()
        #expect(report.firstBadPosition == position, "problems: \(report.problems.prefix(5))")
        #expect(report.problems.first?.kind.rawValue == "undecodable")
        #expect(report.eventsChecked == 3000)
    }
}
