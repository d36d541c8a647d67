import CloudEvents

/// An HTTP error answered as `application/problem+json` (RFC 9457): the status, a short title, the
/// detail in the same words as the command line, and for an invalid event the attribute concerned and,
/// in a batch, the index of the event.
public struct Problem: Error, Sendable {
    public var status: Int
    public var title: String
    public var detail: String
    public var attribute: String?
    public var index: Int?
    /// Extra response headers (`Retry-After`, `Touchlog-Current-Version`).
    public var headers: [(String, String)] = []

    public init(status: Int, title: String, detail: String, attribute: String? = nil, index: Int? = nil) {
        self.status = status
        self.title = title
        self.detail = detail
        self.attribute = attribute
        self.index = index
    }

    /// An event that breaks a CloudEvents or Touchlog rule: the CLI's "invalid event: ..." message.
    static func invalidEvent(_ error: CloudEventError, index: Int? = nil) -> Problem {
        let place = index.map { "event \($0) of the batch: " } ?? ""
        return Problem(
            status: 400, title: "invalid event", detail: "\(place)invalid event: \(error.description)",
            attribute: error.attribute, index: index)
    }

    static func badRequest(_ detail: String, attribute: String? = nil) -> Problem {
        Problem(status: 400, title: "bad request", detail: detail, attribute: attribute)
    }

    static func retryLater(status: Int, title: String, detail: String, seconds: Int) -> Problem {
        var problem = Problem(status: status, title: title, detail: detail)
        problem.headers.append(("Retry-After", String(seconds)))
        return problem
    }

    /// The problem document.
    public var json: [UInt8] {
        var members: [JSONMember] = [
            JSONMember(key: "type", value: .string("about:blank")),
            JSONMember(key: "title", value: .string(title)),
            JSONMember(key: "status", value: .number(String(status))),
            JSONMember(key: "detail", value: .string(detail)),
        ]
        if let attribute { members.append(JSONMember(key: "attribute", value: .string(attribute))) }
        if let index { members.append(JSONMember(key: "index", value: .number(String(index)))) }
        var bytes: [UInt8] = []
        JSONValue.object(members).write(into: &bytes)
        bytes.append(0x0A)
        return bytes
    }
}
