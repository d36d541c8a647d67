/// The data of an event: JSON (stored as compact JSON text) or binary (the base64 text of `data_base64`).
public enum CloudEventData: Sendable, Equatable {
    /// Compact JSON text of the `data` member: whitespace removed outside strings, otherwise as written.
    case json([UInt8])
    /// The validated `data_base64` string as given.
    case base64(String)
}

/// An extension context attribute: a top-level member that is not one of the spec's attributes.
public struct CloudEventExtension: Sendable, Equatable {
    public var name: String
    public var value: JSONValue

    public init(name: String, value: JSONValue) {
        self.name = name
        self.value = value
    }
}

/// One CloudEvents 1.0 event, validated against the spec. Optional attributes that were absent
/// or null are `nil`.
public struct CloudEvent: Sendable, Equatable {
    public var id: String
    public var source: String
    public var type: String
    public var subject: String?
    /// The original text (validated as RFC 3339).
    public var time: String?
    public var datacontenttype: String?
    public var dataschema: String?
    /// Input order; values are `.string`, `.number` or `.bool` only.
    public var extensions: [CloudEventExtension]
    public var data: CloudEventData?

    public init(
        id: String, source: String, type: String, subject: String? = nil, time: String? = nil,
        datacontenttype: String? = nil, dataschema: String? = nil, extensions: [CloudEventExtension] = [],
        data: CloudEventData? = nil
    ) {
        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        self.datacontenttype = datacontenttype
        self.dataschema = dataschema
        self.extensions = extensions
        self.data = data
    }

    /// The value of the extension attribute `name`, or `nil` if the event does not have it.
    public func extensionValue(_ name: String) -> JSONValue? {
        // Names are compared by their UTF-8 bytes, the byte counts first (constant time).
        var name = name
        return name.withUTF8 { wanted in
            for e in extensions where e.name.utf8.count == wanted.count {
                var candidate = e.name
                if wanted.isEmpty
                    || candidate.withUTF8({ memoryEqual($0.baseAddress!, wanted.baseAddress!, wanted.count) })
                {
                    return e.value
                }
            }
            return nil
        }
    }

    /// `time` parsed, or `nil` if the event has no time (or, for a hand-built event, an invalid one).
    public var timestamp: Timestamp? { time.flatMap { Timestamp(rfc3339: $0) } }

    /// The context attribute names defined by CloudEvents 1.0 and its JSON format; never extensions.
    public static let reservedAttributeNames: [String] = [
        "specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "data",
        "data_base64",
    ]

    /// Whether `name` is a valid extension attribute name: one or more of a-z and 0-9, not reserved.
    public static func isValidExtensionName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { Validation.isDigit($0) || $0 &- UInt8(ascii: "a") < 26 }
            && !reservedAttributeNames.contains(name)
    }
}

/// Why an event was rejected: the rule that failed, in words a user can act on.
public struct CloudEventError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The attribute concerned, if any ("id", "time", "data_base64", ...).
    public var attribute: String?
    /// E.g. "required attribute 'source' is missing", "invalid JSON at byte 17: unterminated string".
    public var message: String

    public init(attribute: String?, message: String) {
        self.attribute = attribute
        self.message = message
    }

    public var description: String { message }
}
