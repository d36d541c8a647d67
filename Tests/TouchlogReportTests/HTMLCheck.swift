import Foundation

/// A small HTML checker for the report's page: balanced tags, and nothing that runs or fetches.
///
/// It tokenises the markup (tags, attributes, text) rather than searching the raw text, so text that
/// merely mentions `<script>` or `src=` (escaped, as hostile event text is) is text, not markup.
struct HTMLCheck {
    /// Elements that never have an end tag.
    static let voidElements: Set<String> = ["meta", "br", "hr", "img", "input", "link", "col", "wbr"]
    /// Attribute names that reference or run something.
    static let forbiddenAttributes: Set<String> = [
        "src", "href", "xlink:href", "srcset", "action", "formaction", "data", "poster", "background",
    ]

    private(set) var problems: [String] = []
    /// How many start tags of each name.
    private(set) var counts: [String: Int] = [:]

    init(_ html: String) {
        let text = Array(html.unicodeScalars)
        var stack: [String] = []
        var i = 0
        func fail(_ message: String) { problems.append("at \(i): \(message)") }
        func checkText(_ chunk: ArraySlice<Unicode.Scalar>) {
            let string = String(String.UnicodeScalarView(chunk))
            for scalar in chunk where scalar.value < 0x20 && ![9, 10, 13].contains(scalar.value) {
                fail("control character U+\(String(scalar.value, radix: 16)) in text")
            }
            var rest = Substring(string)
            while let amp = rest.firstIndex(of: "&") {
                let after = rest[amp...]
                if !["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].contains(where: { after.hasPrefix($0) }) {
                    fail("an unescaped '&' in text: \(after.prefix(20))")
                }
                rest = rest[rest.index(after: amp)...]
            }
            if string.contains(">") { fail("an unescaped '>' in text") }
        }
        while i < text.count {
            guard let open = text[i...].firstIndex(of: "<") else {
                checkText(text[i...])
                break
            }
            checkText(text[i..<open])
            guard let close = text[open...].firstIndex(of: ">") else {
                fail("a tag that never ends")
                break
            }
            let inner = String(String.UnicodeScalarView(text[(open + 1)..<close]))
            i = close + 1
            if inner.hasPrefix("!") {
                if !inner.lowercased().hasPrefix("!doctype") { fail("a comment or declaration: <\(inner)>") }
                continue
            }
            if inner.hasPrefix("/") {
                let name = inner.dropFirst().trimmingCharacters(in: .whitespaces).lowercased()
                if stack.last == name {
                    stack.removeLast()
                } else {
                    fail("</\(name)> closes <\(stack.last ?? "nothing")>")
                }
                continue
            }
            let selfClosing = inner.hasSuffix("/")
            let (name, attributes) = Self.parseTag(selfClosing ? String(inner.dropLast()) : inner)
            counts[name, default: 0] += 1
            if ["script", "iframe", "object", "embed", "img", "link", "base", "foreignobject"].contains(name)
            {
                fail("a <\(name)> element")
            }
            for (attribute, value) in attributes {
                if Self.forbiddenAttributes.contains(attribute) || attribute.hasPrefix("on") {
                    fail("attribute \(attribute)= on <\(name)>")
                }
                let lowered = value.lowercased()
                if lowered.contains("http://") || lowered.contains("https://") || lowered.hasPrefix("//")
                    || lowered.contains("url(") || lowered.contains("javascript:")
                {
                    fail("a reference in \(attribute)=\"\(value)\" on <\(name)>")
                }
            }
            if name == "style" {
                guard let end = Self.find("</style>", in: text, from: i) else {
                    fail("<style> never ends")
                    break
                }
                let css = String(String.UnicodeScalarView(text[i..<end])).lowercased()
                if css.contains("url(") || css.contains("@import") || css.contains("//") {
                    fail("the style sheet references something outside the page")
                }
                i = end
                stack.append(name)
                continue
            }
            if !selfClosing && !Self.voidElements.contains(name) { stack.append(name) }
        }
        if !stack.isEmpty { problems.append("unclosed: \(stack)") }
    }

    static func find(_ needle: String, in text: [Unicode.Scalar], from start: Int) -> Int? {
        let pattern = Array(needle.unicodeScalars)
        var index = start
        while index + pattern.count <= text.count {
            if Array(text[index..<(index + pattern.count)]) == pattern { return index }
            index += 1
        }
        return nil
    }

    /// The tag's name and its attributes (quoted or not), names lowercased.
    static func parseTag(_ inner: String) -> (String, [(String, String)]) {
        let scalars = Array(inner.unicodeScalars)
        var i = 0
        func isSpace(_ s: Unicode.Scalar) -> Bool { s == " " || s == "\n" || s == "\t" || s == "\r" }
        var name = ""
        while i < scalars.count && !isSpace(scalars[i]) {
            name.unicodeScalars.append(scalars[i])
            i += 1
        }
        var attributes: [(String, String)] = []
        while i < scalars.count {
            while i < scalars.count && isSpace(scalars[i]) { i += 1 }
            var attribute = ""
            while i < scalars.count && !isSpace(scalars[i]) && scalars[i] != "=" {
                attribute.unicodeScalars.append(scalars[i])
                i += 1
            }
            var value = ""
            if i < scalars.count && scalars[i] == "=" {
                i += 1
                if i < scalars.count && (scalars[i] == "\"" || scalars[i] == "'") {
                    let quote = scalars[i]
                    i += 1
                    while i < scalars.count && scalars[i] != quote {
                        value.unicodeScalars.append(scalars[i])
                        i += 1
                    }
                    i += 1
                } else {
                    while i < scalars.count && !isSpace(scalars[i]) {
                        value.unicodeScalars.append(scalars[i])
                        i += 1
                    }
                }
            }
            if !attribute.isEmpty { attributes.append((attribute.lowercased(), value)) }
        }
        return (name.lowercased(), attributes)
    }
}
