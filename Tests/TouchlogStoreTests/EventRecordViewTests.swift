import CloudEvents
import LMDB
import Testing
import TouchlogDomain
import TouchlogTestSupport

@testable import TouchlogStore

/// The record view is the one reader of `events` records: every field of a record the log wrote
/// comes back through it, and the log's own decoding agrees with it.
@Suite struct EventRecordViewTests {
    let store: TestStore
    init() throws { store = try TestStore() }

    /// Events with every attribute the record holds: all optional attributes, each extension kind,
    /// JSON data, base64 data, no data, an unknown type.
    private func events() throws -> [Touchpoint] {
        let full = try CloudEvent(
            json: Array(
                """
                {"specversion":"1.0","id":"v-1","source":"urn:view","type":"ticket.opened","subject":"cus-ü",
                 "time":"2024-05-01T12:00:00.25+02:00","datacontenttype":"application/json",
                 "dataschema":"https://schemas.example.com/ticket","channel":"chat","ticketid":"t-1",
                 "vip":true,"churned":false,"tier":-2147483648,"note":"a \\"quoted\\" note",
                 "data":{"priority":"high","summary":"x","nested":{"a":[1,null]}}}
                """.utf8))
        let binary = try CloudEvent(
            json: Array(
                """
                {"specversion":"1.0","id":"v-2","source":"urn:view","type":"custom.blob","subject":"cus-2",
                 "time":"2024-05-01T12:00:01Z","data_base64":"AAEC"}
                """.utf8))
        return [
            try Touchpoint(validating: full), try Touchpoint(validating: binary),
            try touchpoint(id: "v-3", customer: "cus-2", time: "2024-05-01T12:00:02Z"),
            try touchpoint(
                id: "v-4", customer: "cus-ü", type: "feedback.csat", extra: "", data: #"{"score":4}"#),
        ]
    }

    @Test func theViewReadsBackEveryFieldTheLogWrote() throws {
        let log = try store.open()
        let touchpoints = try events()
        _ = try log.append(touchpoints)
        let stored = try (1...UInt64(touchpoints.count)).map { try #require(try log.event(at: $0)) }
        var seen = 0
        try log.environment.withReadTransaction { txn in
            try log.forEachRecord(from: 1, in: txn) { record in
                let index = Int(record.position) - 1
                let (touchpoint, expected) = (touchpoints[index], stored[index])
                let event = touchpoint.event
                #expect(record.id == event.id && record.source == event.source && record.type == event.type)
                #expect(record.subject == event.subject && record.time == event.time)
                #expect(
                    record.dataContentType == event.datacontenttype && record.dataSchema == event.dataschema)
                #expect(Array(record.typeBytes) == Array(event.type.utf8))
                #expect(record.subjectBytes.map { Array($0) } == event.subject.map { Array($0.utf8) })
                #expect(record.knownType == KnownType(name: event.type))
                #expect(record.occurredAt == touchpoint.occurredAt)
                #expect(record.recordedAt == expected.recordedAt)
                #expect(
                    record.version == expected.version && record.previousPosition == expected.previousPosition
                )
                #expect(record.hash == expected.hash && record.recomputedHash == expected.hash)
                #expect(record.predecessorHash == (index == 0 ? .genesis : stored[index - 1].hash))
                var extensions: [CloudEventExtension] = []
                for tag in record.extensions {
                    let text = String(decoding: tag.text, as: UTF8.self)
                    let value: JSONValue =
                        switch tag.kind {
                        case .string: .string(text)
                        case .number: .number(text)
                        case .true: .bool(true)
                        case .false: .bool(false)
                        }
                    extensions.append(
                        CloudEventExtension(name: String(decoding: tag.name, as: UTF8.self), value: value))
                }
                #expect(record.extensionCount == event.extensions.count)
                #expect(extensions == event.extensions)
                switch event.data {
                case nil: #expect(record.dataKind == .absent && record.dataText.isEmpty)
                case .json(let text): #expect(record.dataKind == .json && Array(record.dataText) == text)
                case .base64(let text):
                    #expect(record.dataKind == .base64 && Array(record.dataText) == Array(text.utf8))
                }
                #expect(record.storedEvent == expected)
                #expect(expected.event == event)
                seen += 1
                return true
            }
            #expect(try log.withRecord(at: 2, in: txn) { $0.id } == "v-2")
            #expect(try log.withRecord(at: 99, in: txn) { $0.id } == nil)
        }
        #expect(seen == touchpoints.count)
        #expect(stored.map(\.event.extensions.count) == [6, 0, 1, 0])
    }

    @Test func aRecordThatDoesNotDecodeIsReportedNotRead() throws {
        var record: [UInt8] = []
        _ = EventRecord.encode(
            try events()[0].event, position: 1, version: 1, previousPosition: 0,
            recordedAt: .init(microsecondsSinceEpoch: 1), occurredAt: .init(microsecondsSinceEpoch: 2),
            predecessorHash: .genesis, into: &record)
        for broken in [
            Array(record.dropLast()), record + [0], [2] + record.dropFirst(), Array(record.prefix(97)),
        ] {
            #expect(throws: StoreError.corruptRecord(position: 7)) {
                _ = try broken.withUnsafeBytes { try StoredEvent(record: $0, position: 7) }
            }
        }
        let header = record.withUnsafeBytes {
            EventRecordView.Header.hashAndRecordedTime(UnsafeRawBufferPointer(rebasing: $0.prefix(97)))
        }
        #expect(header?.0 == ChainHash(position: 1, record: record))
        #expect(header?.1 == Timestamp(microsecondsSinceEpoch: 1))
    }
}
