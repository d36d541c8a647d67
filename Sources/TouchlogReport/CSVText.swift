import Foundation

/// CSV as RFC 4180 writes it, made safe for spreadsheets.
public enum CSVText {
    /// One field: a value that a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`,
    /// a tab or a carriage return) gets a leading `'`, so it stays text; then a field holding a comma,
    /// a double quote, a carriage return or a line feed is quoted, its quotes doubled (RFC 4180 2.6, 2.7).
    public static func field(_ value: String) -> String {
        var text = value
        if let first = text.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) {
            text = "'" + text
        }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" })
        else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One record: the fields escaped, joined by commas, ended by CRLF (RFC 4180 2.1).
    public static func record(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }
}
