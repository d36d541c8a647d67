import CloudEvents
import Foundation
import TouchlogStore
import TouchlogTestSupport

/// A fresh store directory for one test, removed when the test's scope ends.
final class TemporaryStore {
    private let scratch: TemporaryDirectory
    var directory: String { scratch.path }
    var path: String { directory + "/store" }

    init() throws { scratch = try TemporaryDirectory(prefix: "touchlog-tests") }

    func open(initialMapSize: Int = 1 << 24) throws -> EventLog {
        var options = EventLog.Options()
        options.initialMapSize = initialMapSize
        return try EventLog(path: path, options: options)
    }
}

/// Builds one event's JSON text from attribute pairs; values are JSON fragments.
func eventJSON(_ members: KeyValuePairs<String, String>) -> [UInt8] {
    Array(("{" + members.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}").utf8)
}

/// A valid touchpoint of customer `customer` with the given id; contact.received by default.
func touchpoint(
    id: String, customer: String = "cus-1", type: String = "contact.received",
    time: String = "2024-05-01T10:00:00Z", source: String = "urn:test",
    extra: String = "\"channel\":\"email\"",
    data: String? = nil
) throws -> Touchpoint {
    var text = "{\"specversion\":\"1.0\",\"id\":\"\(id)\",\"source\":\"\(source)\",\"type\":\"\(type)\","
    text += "\"subject\":\"\(customer)\",\"time\":\"\(time)\""
    if !extra.isEmpty { text += "," + extra }
    if let data { text += ",\"data\":" + data }
    text += "}"
    return try Touchpoint(validating: try CloudEvent(json: Array(text.utf8)))
}
