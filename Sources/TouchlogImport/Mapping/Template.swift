/// The kind of a value a mapping computes: how it is written into an event's `data` or extensions.
enum ValueType: String, Sendable {
    case string, integer, number, boolean
    /// A time, held as its RFC 3339 text in UTC (written as a JSON string).
    case time
}

/// One value computed from a row: its text, and what it is.
struct Value: Sendable, Equatable {
    var text: String
    var type: ValueType
    /// A time's microseconds since 1970 (for ordering a case's rows); 0 for other values.
    var micros: Int64 = 0

    init(_ text: String, _ type: ValueType = .string, micros: Int64 = 0) {
        self.text = text
        self.type = type
        self.micros = micros
    }
}

/// What a `{name}` in a template refers to.
struct Reference: Sendable, Equatable {
    enum Scope: Sendable, Equatable {
        /// The row itself.
        case row
        /// The row before it in its case (on the case's first row: the fields' `start` values).
        case previous
        /// The case's first row.
        case first
    }

    enum Target: Sendable, Equatable {
        /// A field of the mapping, by its slot.
        case field(Int)
        /// A column of the input, by its slot (see `ColumnSlots`).
        case column(Int)
        /// `@row`: the row's key in its case (its sequence number, or its place).
        case rowKey
        /// `@line`: the input line where the row starts.
        case line
        /// `@thread`: the id of the thread's first message (`[thread]`).
        case thread
    }

    var scope: Scope
    var target: Target
    /// As written, for messages.
    var text: String
}

/// A template: text with `{name}` references to columns and fields, such as `"kag-{Ticket ID}"`.
/// `{{` and `}}` stand for literal braces. A template with any reference that has no value has no value.
struct Template: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case literal(String)
        case reference(Reference)
    }

    var parts: [Part]
    /// As written.
    var text: String

    /// The one reference of a template that is nothing else (`"{priority}"`): its value keeps its type.
    var soleReference: Reference? {
        if parts.count == 1, case .reference(let reference) = parts[0] { return reference }
        return nil
    }

    /// The text of a template without references.
    var literal: String? {
        if parts.isEmpty { return "" }
        if parts.count == 1, case .literal(let text) = parts[0] { return text }
        return nil
    }

    /// Every reference, in order.
    var references: [Reference] {
        parts.compactMap {
            if case .reference(let reference) = $0 { return reference }
            return nil
        }
    }

    /// Parses `text`; `resolve` turns each name between braces into a reference or says why it cannot.
    static func parse(_ text: String, resolve: (String) throws(MappingError) -> Reference)
        throws(MappingError)
        -> Template
    {
        var parts: [Part] = []
        var literal = ""
        var name: String?
        var characters = text.makeIterator()
        var pending: Character?
        func nextCharacter() -> Character? {
            if let character = pending {
                pending = nil
                return character
            }
            return characters.next()
        }
        while let character = nextCharacter() {
            if var current = name {
                if character == "}" {
                    let trimmed = current.trimmingSpaces
                    guard !trimmed.isEmpty else {
                        throw MappingError(message: "template '\(text)' has an empty '{}'")
                    }
                    if !literal.isEmpty {
                        parts.append(.literal(literal))
                        literal = ""
                    }
                    parts.append(.reference(try resolve(trimmed)))
                    name = nil
                } else if character == "{" {
                    throw MappingError(message: "template '\(text)' has a '{' inside a reference")
                } else {
                    current.append(character)
                    name = current
                }
                continue
            }
            switch character {
            case "{":
                if let next = nextCharacter() {
                    if next == "{" {
                        literal.append("{")
                    } else {
                        name = ""
                        pending = next
                    }
                } else {
                    throw MappingError(message: "template '\(text)' ends inside a reference")
                }
            case "}":
                guard let next = nextCharacter(), next == "}" else {
                    throw MappingError(message: "template '\(text)' has a lone '}' (write '}}' for a brace)")
                }
                literal.append("}")
            default:
                literal.append(character)
            }
        }
        if name != nil { throw MappingError(message: "template '\(text)' has a '{' that is not closed") }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return Template(parts: parts, text: text)
    }

    /// The template's value, with `lookup` giving each reference's; nil when a reference has none.
    @inline(__always)
    func render(_ lookup: (Reference) -> Value?) -> Value? {
        if parts.count == 1 {
            switch parts[0] {
            case .literal(let text): return Value(text)
            case .reference(let reference): return lookup(reference)
            }
        }
        var out = ""
        for part in parts {
            switch part {
            case .literal(let text): out += text
            case .reference(let reference):
                guard let value = lookup(reference) else { return nil }
                out += value.text
            }
        }
        return Value(out)
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
