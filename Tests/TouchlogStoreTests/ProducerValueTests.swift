import CloudEvents
import Testing
import TouchlogTestSupport

@testable import TouchlogDomain
@testable import TouchlogStore

/// A producer's own `sequence`, `sequencetype`, `recordedtime`, `position`, `hash` and `predecessorhash`
/// are stored with the event and given back as `orig` + the name; the log's own values keep the names.
@Suite struct ProducerValueTests {
    let store: TestStore
    init() throws { store = try TestStore() }

    static let producerValues =
        #""recordedtime":"2024-05-01T10:00:05.5Z","sequence":"0007","sequencetype":"Integer","position":99,"#
        + #""hash":"forged","predecessorhash":true"#

    /// The output of `stored` parsed back, as a name -> value map (the parser refuses duplicate names,
    /// so parsing also shows that no name is written twice).
    private func output(_ stored: StoredEvent) throws -> [String: JSONValue] {
        var json: [UInt8] = []
        stored.writeJSON(into: &json)
        let reparsed = try CloudEvent(json: json)
        return Dictionary(uniqueKeysWithValues: reparsed.extensions.map { ($0.name, $0.value) })
    }

    @Test func theProducersValuesAreKeptApartAndGivenBackUnderOrigNames() throws {
        let log = try store.open()
        _ = try log.append([try touchpoint(id: "p1", extra: #""channel":"web","# + Self.producerValues)])
        let stored = try #require(try log.event(at: 1))
        // Stored as the producer sent them, beside the log's own (which the record keeps in its fields).
        #expect(stored.event.extensionValue("recordedtime") == .string("2024-05-01T10:00:05.5Z"))
        #expect(stored.event.extensionValue("position") == .number("99"))
        let attributes = try output(stored)
        #expect(attributes["origrecordedtime"] == .string("2024-05-01T10:00:05.5Z"))
        #expect(attributes["origsequence"] == .string("0007"))
        #expect(attributes["origsequencetype"] == .string("Integer"))
        #expect(attributes["origposition"] == .number("99"))
        #expect(attributes["orighash"] == .string("forged"))
        #expect(attributes["origpredecessorhash"] == .bool(true))
        #expect(attributes["recordedtime"] == .string(stored.recordedAt.rfc3339))
        #expect(attributes["sequence"] == .string("00000000000000000001"))
        #expect(attributes["sequencetype"] == .string("Integer"))
        #expect(attributes["position"] == .number("1"))
        #expect(attributes["hash"] == .string(stored.hash.description))
        #expect(attributes["predecessorhash"] == .string(ChainHash.genesis.description))
        #expect(attributes["channel"] == .string("web"))
    }

    @Test func anEventWithoutProducerValuesHasNoOrigAttributes() throws {
        let log = try store.open()
        _ = try log.append([try touchpoint(id: "p1")])
        let attributes = try output(try #require(try log.event(at: 1)))
        #expect(Set(attributes.keys) == Touchpoint.logAssignedAttributes.union(["channel"]))
    }

    @Test func aRetryWithTheSameValuesIsADuplicateAndOtherValuesAConflict() throws {
        let log = try store.open()
        let extra = #""channel":"web","# + Self.producerValues
        _ = try log.append([try touchpoint(id: "p1", extra: extra)])
        let retry = try log.append([try touchpoint(id: "p1", extra: extra)])
        #expect(retry.outcomes == [.duplicate(position: 1)])
        let changed = try log.append([
            try touchpoint(id: "p1", extra: extra.replacingOccurrences(of: "10:00:05.5Z", with: "10:00:06Z"))
        ])
        #expect(changed.outcomes == [.conflict(position: 1)])
    }

    /// (extension member, attribute named, exact message)
    static let rejected: [(String, String, String)] = [
        (
            #""origrecordedtime":"2024-05-01T10:00:00Z""#, "origrecordedtime",
            "'origrecordedtime' is the name under which Touchlog gives back a producer's 'recordedtime'; an event must not carry it (send 'recordedtime' itself)"
        ),
        (
            #""orighash":"x""#, "orighash",
            "'orighash' is the name under which Touchlog gives back a producer's 'hash'; an event must not carry it (send 'hash' itself)"
        ),
        (
            #""recordedtime":"yesterday""#, "recordedtime",
            #"'recordedtime' must be an RFC 3339 timestamp string (the CloudEvents recordedtime extension: when the producer created the event), not "yesterday""#
        ),
        (
            #""recordedtime":1714557600"#, "recordedtime",
            "'recordedtime' must be an RFC 3339 timestamp string (the CloudEvents recordedtime extension: when the producer created the event), not the number 1714557600"
        ),
        (
            #""sequence":"""#, "sequence",
            "'sequence' must be a non-empty string (the CloudEvents sequence extension), not an empty string"
        ),
        (
            #""sequencetype":false"#, "sequencetype",
            "'sequencetype' must be a non-empty string (the CloudEvents sequence extension), not false"
        ),
    ]

    @Test(arguments: rejected)
    func malformedProducerValuesAndOrigNamesAreRejected(member: String, attribute: String, message: String)
        throws
    {
        #expect(throws: CloudEventError(attribute: attribute, message: message)) {
            _ = try touchpoint(id: "p1", extra: #""channel":"web","# + member)
        }
    }

    @Test func extensionValuesOfEventsBuiltInCodeAreCheckedToo() throws {
        var event = try CloudEvent(json: touchpointJSON(id: "p1"))
        event.extensions.append(CloudEventExtension(name: "modcount", value: .number("4294967296")))
        #expect(
            throws: CloudEventError(
                attribute: "modcount",
                message:
                    "extension attribute 'modcount' is 4294967296, outside the CloudEvents Integer range -2147483648...2147483647 (signed 32-bit)"
            )
        ) { _ = try Touchpoint(validating: event) }
        event.extensions[event.extensions.count - 1].value = .number("2147483647")
        #expect(try Touchpoint(validating: event).event.extensionValue("modcount") == .number("2147483647"))
    }
}

@Suite struct LogNameTests {
    @Test func theQuickNameTestAdmitsEveryLogAndOrigNameAndOnlyThoseAreLogAssigned() {
        for name in Touchpoint.logAssignedAttributes.union(Touchpoint.producerValueAttributes) {
            #expect(Touchpoint.mayBeLogNamed(name), "\(name)")
        }
        for name in Touchpoint.logAssignedAttributes { #expect(Touchpoint.isLogAssigned(name)) }
        for name in ["channel", "ticketid", "repid", "origsequence", "sequences", "hashes", ""] {
            #expect(!Touchpoint.isLogAssigned(name), "\(name)")
        }
    }
}
