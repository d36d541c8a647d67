/// Text made safe for HTML and SVG: the one escaping function of the report.
///
/// Events carry text from outside (summaries, ids, reps, types), so everything the report writes that
/// did not come from the report's own code goes through ``escape(_:)``, in element content and in
/// attribute values alike.
public enum HTMLText {
    /// `text` with `&`, `<`, `>`, `"` and `'` written as character references, and every control
    /// character other than tab, line feed and carriage return (C0, DEL, C1) replaced by U+FFFD:
    /// HTML forbids them in a document, and a terminal-style escape has no meaning in a page.
    public static func escape(_ text: String) -> String {
        // Most text needs nothing: return it unchanged without building a copy.
        if !text.unicodeScalars.contains(where: needsWork) { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case _ where isForbiddenControl(scalar): out.unicodeScalars.append("\u{FFFD}")
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func needsWork(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "&", "<", ">", "\"", "'": true
        default: isForbiddenControl(scalar)
        }
    }

    private static func isForbiddenControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: false
        case 0x00...0x1F, 0x7F...0x9F: true
        default: false
        }
    }
}
