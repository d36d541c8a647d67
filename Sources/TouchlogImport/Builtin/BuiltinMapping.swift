/// A mapping that ships with Touchlog (`touchlog import --list`), embedded as TOML text.
public struct BuiltinMapping: Sendable {
    public var name: String
    /// One line: what export it reads.
    public var summary: String
    /// The mapping file, as `touchlog import --mapping NAME --print` writes it.
    public var toml: String

    /// Every built-in mapping, by name.
    public static let all: [BuiltinMapping] = [serviceNow, zendesk, freshdesk]

    /// The built-in mapping called `name`.
    public static func named(_ name: String) -> BuiltinMapping? { all.first { $0.name == name } }

    /// The mapping, read.
    public func load() throws(MappingError) -> ImportMapping { try ImportMapping(toml: toml) }
}
