import ArgumentParser
import CloudEvents
import TouchlogDomain

struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Print the catalog of known event types: their tags and data fields.",
        discussion: """
            Every event is CloudEvents 1.0 JSON with 'subject' (the customer id) and 'time'. A known type must \
            carry the tags (extension attributes) and the data fields listed for it, each valid as described; \
            an unknown type is stored as it is. With --json, JSON Lines: one object a type. The known types: \
            \(Catalog.knownTypes.joined(separator: ", ")).
            """)

    @OptionGroup var output: OutputOptions

    func run() throws {
        let tagRules = Dictionary(uniqueKeysWithValues: Catalog.tags.map { ($0.name, $0.rule) })
        var buffer = OutputBuffer()
        if output.json {
            for entry in Catalog.entries {
                buffer.write { bytes in
                    Self.json(entry, tagRules: tagRules).write(into: &bytes)
                    bytes.append(0x0A)
                }
            }
            buffer.flush()
            return
        }
        buffer.appendLine(
            "Every event: CloudEvents 1.0 JSON with 'subject' (the customer id) and 'time'. Unknown types are stored as they are."
        )
        buffer.appendLine("Tags (extension attributes):")
        for tag in Catalog.tags { buffer.appendLine("  \(pad(tag.name, 10))\(tag.rule)") }
        for entry in Catalog.entries {
            buffer.appendLine("")
            buffer.appendLine("\(entry.name) (code \(entry.type.rawValue)): \(entry.summary)")
            var tags = entry.tags.isEmpty ? "none" : entry.tags.joined(separator: ", ")
            if let conditional = entry.conditionalTag {
                tags += "; \(conditional.tag) when \(conditional.when)"
            }
            buffer.appendLine("  tags: \(tags)")
            if entry.fields.isEmpty { buffer.appendLine("  data: none") }
            for field in entry.fields {
                buffer.appendLine(
                    "  data.\(pad(field.name, 10))\(field.required ? "required" : "optional")  \(field.rule); e.g. \(field.example)"
                )
            }
            let clear = Catalog.clearDataMembers(ofType: entry.name)
            buffer.appendLine(
                "  personal: subject and data\(clear.isEmpty ? "" : " except \(clear.joined(separator: ", "))")"
            )
        }
        buffer.appendLine("")
        buffer.appendLine(
            "Personal extension attributes (sealed in stores of format 3): \(Catalog.personalExtensions.sorted().joined(separator: ", "))"
        )
        buffer.appendLine("Touchlog's own types (never accepted from producers):")
        for type in SystemType.allCases { buffer.appendLine("  \(pad(type.rawValue, 28))\(type.summary)") }
        buffer.flush()
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(1, width - text.count))
    }

    /// One type as a JSON object: type, code, summary, tags (name and rule), conditional tags, data fields.
    static func json(_ entry: CatalogEntry, tagRules: [String: String]) -> JSONValue {
        func tag(_ name: String) -> JSONValue {
            .object([
                JSONMember(key: "name", value: .string(name)),
                JSONMember(key: "rule", value: .string(tagRules[name] ?? "")),
            ])
        }
        var conditional: [JSONValue] = []
        if let (name, when) = entry.conditionalTag {
            conditional.append(
                .object([
                    JSONMember(key: "name", value: .string(name)),
                    JSONMember(key: "when", value: .string(when)),
                ]))
        }
        let fields: [JSONValue] = entry.fields.map { field in
            .object([
                JSONMember(key: "name", value: .string(field.name)),
                JSONMember(key: "required", value: .bool(field.required)),
                JSONMember(key: "rule", value: .string(field.rule)),
                // The examples are written in the catalog as JSON text; one that is not is shown as a string.
                JSONMember(
                    key: "example",
                    value: (try? JSONValue.parse(Array(field.example.utf8))) ?? .string(field.example)),
            ])
        }
        return .object([
            JSONMember(key: "type", value: .string(entry.name)),
            JSONMember(key: "code", value: .number(String(entry.type.rawValue))),
            JSONMember(key: "summary", value: .string(entry.summary)),
            JSONMember(key: "tags", value: .array(entry.tags.map(tag))),
            JSONMember(key: "conditional_tags", value: .array(conditional)),
            JSONMember(key: "data", value: .array(fields)),
        ])
    }
}
