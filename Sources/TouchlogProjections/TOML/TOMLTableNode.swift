/// A table while the document is being parsed: its children, and how it came to exist, which
/// decides what may still be added to it.
///
/// The specification's rules, as this type applies them:
/// - a key is defined once; a table is defined once, by a header, by dotted keys or inline;
/// - a header may define a table that earlier headers only created as a parent (`[a]` after
///   `[a.b]`), and may add sub-tables to tables of dotted keys, but may not define one of those;
/// - dotted keys may not add to a table defined by a header, nor to an array of tables;
/// - an inline table is complete at its closing brace: nothing is added to it afterwards;
/// - `[[a]]` appends to an array of tables only, never to a table or a static array.
final class TOMLTableNode {
    enum Origin {
        case root
        /// Created as the parent of a header (`a` of `[a.b]`): not yet defined.
        case implicit
        /// Defined by a `[header]`.
        case header
        /// Created and defined by dotted keys (`a` of `a.b = 1`).
        case dotted
        /// Defined by an inline table (`{...}`): closed.
        case inline
        /// An element of an array of tables, defined by its `[[header]]`.
        case arrayElement
    }

    enum Child {
        /// A value that is not a table (or a static array, whatever it holds); offset of its key.
        case value(TOMLDocument.Value, offset: Int)
        case table(TOMLTableNode)
        /// An array of tables; offset of its first `[[header]]`.
        case tables([TOMLTableNode], offset: Int)

        /// Where it was defined.
        var offset: Int {
            switch self {
            case .value(_, let offset), .tables(_, let offset): offset
            case .table(let node): node.offset
            }
        }
    }

    var origin: Origin
    /// The full key path from the root, for messages.
    let path: [String]
    /// Where it was created or, once defined, where it was defined.
    var offset: Int
    private(set) var order: [String] = []
    private(set) var children: [String: Child] = [:]

    init(origin: Origin, path: [String], offset: Int) {
        self.origin = origin
        self.path = path
        self.offset = offset
    }

    subscript(key: String) -> Child? {
        get { children[key] }
        set {
            if children[key] == nil { order.append(key) }
            children[key] = newValue
        }
    }

    /// The finished table.
    var table: TOMLDocument.Table {
        var table = TOMLDocument.Table()
        for key in order {
            switch children[key]! {
            case .value(let value, _): table[key] = value
            case .table(let node): table[key] = .table(node.table)
            case .tables(let nodes, _): table[key] = .array(nodes.map { .table($0.table) })
            }
        }
        return table
    }

    /// Closes an inline table and every table its dotted keys made.
    func freeze() {
        origin = .inline
        for case .table(let node) in children.values { node.freeze() }
    }

    /// Every value below this table that is not a table, through tables only (see
    /// `TOMLDocument.entries`), with the offset of its key.
    func collectEntries(
        path: [String], into found: inout [(offset: Int, path: [String], value: TOMLDocument.Value)]
    ) {
        for key in order {
            switch children[key]! {
            case .value(let value, let offset): found.append((offset, path + [key], value))
            case .table(let node): node.collectEntries(path: path + [key], into: &found)
            case .tables(let nodes, let offset):
                found.append((offset, path + [key], .array(nodes.map { .table($0.table) })))
            }
        }
    }
}

/// One part of a dotted key and the offset where it starts.
struct TOMLKeyPart {
    var name: String
    var offset: Int
}

extension TOMLParser {
    /// Defines `key = value` in `table` (the current header's table, the root, or an inline table
    /// being read).
    /// - Throws: `TOMLError` at the key part that breaks a rule of `TOMLTableNode`.
    func define(_ key: [TOMLKeyPart], _ value: TOMLTableNode.Child, in table: TOMLTableNode)
        throws(TOMLError)
    {
        try checkDepth(key, below: table)
        var node = table
        for part in key.dropLast() {
            let path = node.path + [part.name]
            switch node[part.name] {
            case nil:
                let created = TOMLTableNode(origin: .dotted, path: path, offset: part.offset)
                node[part.name] = .table(created)
                node = created
            case .table(let existing):
                switch existing.origin {
                case .implicit, .dotted:
                    existing.origin = .dotted
                    node = existing
                case .inline:
                    throw error(
                        at: part.offset,
                        "'\(tomlKeyPath(path))' is an inline table (\(lineOf(existing.offset))), which cannot be extended"
                    )
                case .header, .root, .arrayElement:
                    throw error(
                        at: part.offset,
                        "table [\(tomlKeyPath(path))] is defined by its header (\(lineOf(existing.offset))): add its keys under that header, not with dotted keys"
                    )
                }
            case .tables(_, let offset):
                throw error(
                    at: part.offset,
                    "'\(tomlKeyPath(path))' is an array of tables (\(lineOf(offset))): dotted keys cannot add to it"
                )
            case .value(_, let offset):
                throw error(
                    at: part.offset,
                    "'\(tomlKeyPath(path))' is already a value (\(lineOf(offset))), not a table")
            }
        }
        let last = key[key.count - 1]
        let path = node.path + [last.name]
        if let existing = node[last.name] {
            throw error(
                at: last.offset, "'\(tomlKeyPath(path))' is defined twice (first \(lineOf(existing.offset)))")
        }
        node[last.name] = value
    }

    /// The table of a `[key]` header.
    /// - Throws: `TOMLError` when the table was defined before or is not a table.
    func openTable(_ key: [TOMLKeyPart], in root: TOMLTableNode, headerOffset: Int) throws(TOMLError)
        -> TOMLTableNode
    {
        let parent = try parentOfHeader(key, in: root)
        let last = key[key.count - 1]
        let path = parent.path + [last.name]
        switch parent[last.name] {
        case nil:
            let created = TOMLTableNode(origin: .header, path: path, offset: headerOffset)
            parent[last.name] = .table(created)
            return created
        case .table(let existing):
            switch existing.origin {
            case .implicit:
                existing.origin = .header
                existing.offset = headerOffset
                return existing
            case .header, .root, .arrayElement:
                throw error(
                    at: last.offset,
                    "table [\(tomlKeyPath(path))] is defined twice (first \(lineOf(existing.offset)))")
            case .dotted:
                throw error(
                    at: last.offset,
                    "table [\(tomlKeyPath(path))] is already defined by dotted keys (\(lineOf(existing.offset))); a header cannot define it again"
                )
            case .inline:
                throw error(
                    at: last.offset,
                    "'\(tomlKeyPath(path))' is an inline table (\(lineOf(existing.offset))), which cannot be extended"
                )
            }
        case .tables(_, let offset):
            throw error(
                at: last.offset,
                "'\(tomlKeyPath(path))' is an array of tables (\(lineOf(offset))), not a table: write [[\(tomlKeyPath(path))]]"
            )
        case .value(_, let offset):
            throw error(
                at: last.offset, "'\(tomlKeyPath(path))' is already a value (\(lineOf(offset))), not a table")
        }
    }

    /// A new element of the array of tables of a `[[key]]` header.
    /// - Throws: `TOMLError` when the key is a table or a value.
    func appendTable(_ key: [TOMLKeyPart], in root: TOMLTableNode, headerOffset: Int)
        throws(TOMLError)
        -> TOMLTableNode
    {
        let parent = try parentOfHeader(key, in: root)
        let last = key[key.count - 1]
        let path = parent.path + [last.name]
        let element = TOMLTableNode(origin: .arrayElement, path: path, offset: headerOffset)
        switch parent[last.name] {
        case nil:
            parent[last.name] = .tables([element], offset: headerOffset)
        case .tables(let elements, let offset):
            parent[last.name] = .tables(elements + [element], offset: offset)
        case .table(let existing):
            throw error(
                at: last.offset,
                "'\(tomlKeyPath(path))' is a table (\(lineOf(existing.offset))), not an array of tables")
        case .value(_, let offset):
            throw error(
                at: last.offset,
                "'\(tomlKeyPath(path))' is already a value (\(lineOf(offset))); [[\(tomlKeyPath(path))]] can only add to an array of tables"
            )
        }
        return element
    }

    /// The table that holds the last part of a header's key: walks (and creates) the tables of the
    /// other parts; through an array of tables, its latest element.
    private func parentOfHeader(_ key: [TOMLKeyPart], in root: TOMLTableNode) throws(TOMLError)
        -> TOMLTableNode
    {
        try checkDepth(key, below: root)
        var node = root
        for part in key.dropLast() {
            let path = node.path + [part.name]
            switch node[part.name] {
            case nil:
                let created = TOMLTableNode(origin: .implicit, path: path, offset: part.offset)
                node[part.name] = .table(created)
                node = created
            case .table(let existing):
                guard existing.origin != .inline else {
                    throw error(
                        at: part.offset,
                        "'\(tomlKeyPath(path))' is an inline table (\(lineOf(existing.offset))), which cannot be extended"
                    )
                }
                node = existing
            case .tables(let elements, _):
                node = elements[elements.count - 1]
            case .value(_, let offset):
                throw error(
                    at: part.offset,
                    "'\(tomlKeyPath(path))' is already a value (\(lineOf(offset))), not a table")
            }
        }
        return node
    }

    /// Keys at most `maximumDepth` tables deep, so that a hostile file cannot exhaust the stack
    /// of the functions that walk the tree.
    private func checkDepth(_ key: [TOMLKeyPart], below table: TOMLTableNode) throws(TOMLError) {
        let limit = Self.maximumDepth - table.path.count
        guard key.count <= limit else {
            throw error(
                at: key[max(0, limit)].offset, "keys are nested more than \(Self.maximumDepth) tables deep")
        }
    }

    /// "on line 3", for messages that point back at an earlier definition.
    func lineOf(_ offset: Int) -> String { "on line \(location(of: offset).line)" }
}

/// A key path as TOML writes it: `a."b.c".d`.
func tomlKeyPath(_ path: [String]) -> String {
    let parts = path.map { part in
        let bare =
            !part.isEmpty
            && part.utf8.allSatisfy {
                ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39)
                    || $0 == 0x5F || $0 == 0x2D
            }
        guard !bare else { return part }
        var quoted = "\""
        for character in part {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "\""
    }
    return parts.joined(separator: ".")
}
