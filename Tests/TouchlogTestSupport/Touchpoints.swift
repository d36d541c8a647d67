import CloudEvents
import Testing
import TouchlogDomain

/// The JSON text of a touchpoint of customer `customer` with the given id; contact.received by default.
/// Members come in this order: specversion, id, source, type, subject, time, `extra` (extension members,
/// comma-separated, without braces), data (a JSON fragment).
public func touchpointJSON(
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

/// `touchpointJSON(...)` as one line of text (no newline), as ingest reads it from a file.
public func touchpointLine(
    id: String, customer: String = "cus-1", type: String = "contact.received",
    time: String = "2024-05-01T10:00:00Z", source: String = "urn:test",
    extra: String = "\"channel\":\"email\"",
    data: String? = nil
) -> String {
    String(
        decoding: touchpointJSON(
            id: id, customer: customer, type: type, time: time, source: source, extra: extra, data: data),
        as: UTF8.self)
}

/// A valid touchpoint of customer `customer` with the given id; contact.received by default. Also checks
/// that validating the parse's hand-over (`CloudEvent.parse`, as ingest does) gives the same touchpoint.
public func touchpoint(
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
