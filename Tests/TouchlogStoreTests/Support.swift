import CloudEvents
import Foundation
import Testing
import TouchlogDomain
import TouchlogStore
import TouchlogTestSupport

/// A fresh store directory for one test, removed when the test's scope ends.
final class TemporaryStore {
    private let scratch: TemporaryDirectory
    var directory: String { scratch.path }
    var path: String { directory + "/store" }

    init() throws { scratch = try TemporaryDirectory(prefix: "touchlog-tests") }

    func open(initialMapSize: Int = 1 << 24) throws -> EventLog {
        try openStore(initialMapSize: initialMapSize).log
    }

    func openStore(initialMapSize: Int = 1 << 24) throws -> Store {
        var options = Store.Options()
        options.initialMapSize = initialMapSize
        return try Store(path: path, options: options)
    }
}

/// Builds one event's JSON text from attribute pairs; values are JSON fragments.
func eventJSON(_ members: KeyValuePairs<String, String>) -> [UInt8] {
    Array(("{" + members.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}").utf8)
}

/// The JSON text of a touchpoint of customer `customer` with the given id; contact.received by default.
func touchpointJSON(
    id: String, customer: String = "cus-1", type: String = "contact.received",
    time: String = "2024-05-01T10:00:00Z", source: String = "urn:test",
    extra: String = "\"channel\":\"email\"",
    data: String? = nil
) -> [UInt8] {
    var text = "{\"specversion\":\"1.0\",\"id\":\"\(id)\",\"source\":\"\(source)\",\"type\":\"\(type)\","
    text += "\"subject\":\"\(customer)\",\"time\":\"\(time)\""
    if !extra.isEmpty { text += "," + extra }
    if let data { text += ",\"data\":" + data }
    text += "}"
    return Array(text.utf8)
}

/// A valid touchpoint of customer `customer` with the given id; contact.received by default. Also checks
/// that validating the parse's hand-over (`CloudEvent.parse`, as ingest does) gives the same touchpoint.
func touchpoint(
    id: String, customer: String = "cus-1", type: String = "contact.received",
    time: String = "2024-05-01T10:00:00Z", source: String = "urn:test",
    extra: String = "\"channel\":\"email\"",
    data: String? = nil
) throws -> Touchpoint {
    let bytes = touchpointJSON(
        id: id, customer: customer, type: type, time: time, source: source, extra: extra, data: data)
    let touchpoint = try Touchpoint(validating: try CloudEvent(json: bytes))
    #expect(try Touchpoint(validating: CloudEvent.parse(json: bytes)) == touchpoint)
    return touchpoint
}
