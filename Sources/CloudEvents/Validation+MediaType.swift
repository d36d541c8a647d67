extension Validation {
    /// Why `p` is not an RFC 2046 media type, or `nil` if it is one.
    ///
    /// The grammar is RFC 2045 section 5.1: `type "/" subtype *( ";" parameter )`, `parameter = attribute "="
    /// value`, `value = token / quoted-string`, where a token is one or more US-ASCII characters other than
    /// space, controls and the tspecials `()<>@,;:\"/[]?=`. Spaces and tabs are allowed around `;`, as HTTP
    /// (RFC 9110 section 8.3.1) allows; a quoted string holds tab, space and visible ASCII, `\` quoting one of them.
    static func mediaTypeProblem(_ p: UnsafeBufferPointer<UInt8>) -> String? {
        let n = p.count
        let typeEnd = tokenEnd(p, from: 0)
        guard typeEnd > 0 else {
            return "does not start with a type (a token such as \"text\" or \"application\")"
                + unexpectedCharacter(p, at: 0)
        }
        guard typeEnd < n else {
            return "has no '/' and subtype after its type (a media type looks like \"application/json\")"
        }
        guard p[typeEnd] == UInt8(ascii: "/") else {
            return "has \(describe(p, at: typeEnd)) where '/' and a subtype should be"
        }
        let subtypeEnd = tokenEnd(p, from: typeEnd + 1)
        guard subtypeEnd > typeEnd + 1 else {
            return "has no subtype after '/'" + unexpectedCharacter(p, at: typeEnd + 1)
        }
        var i = subtypeEnd
        while i < n {
            i = whitespaceEnd(p, from: i)
            guard i < n else { return "ends with white space" }
            guard p[i] == UInt8(ascii: ";") else {
                return "has \(describe(p, at: i)) where ';' and a parameter, or the end, should be"
            }
            i = whitespaceEnd(p, from: i + 1)
            let nameEnd = tokenEnd(p, from: i)
            guard nameEnd > i else {
                return "has a ';' not followed by a parameter name at position \(i)"
            }
            guard nameEnd < n, p[nameEnd] == UInt8(ascii: "=") else {
                return "has a parameter without '=' and a value at position \(nameEnd)"
            }
            i = nameEnd + 1
            if i < n && p[i] == UInt8(ascii: "\"") {
                guard let end = quotedStringEnd(p, from: i) else {
                    return "has a quoted parameter value without its closing '\"' or with a control character"
                }
                i = end
            } else {
                let valueEnd = tokenEnd(p, from: i)
                guard valueEnd > i else {
                    return "has a parameter without a value at position \(i) (a token or a quoted string)"
                }
                i = valueEnd
            }
        }
        return nil
    }

    /// Whether `b` is an RFC 2045 token character: US-ASCII, not space, control or a tspecial.
    static func isTokenCharacter(_ b: UInt8) -> Bool {
        guard b > 0x20, b < 0x7F else { return false }
        switch b {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "@"),
            UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "\\"), UInt8(ascii: "\""),
            UInt8(ascii: "/"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "?"), UInt8(ascii: "="):
            return false
        default:
            return true
        }
    }

    private static func tokenEnd(_ p: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start
        while i < p.count, isTokenCharacter(p[i]) { i += 1 }
        return i
    }

    private static func whitespaceEnd(_ p: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start
        while i < p.count, p[i] == 0x20 || p[i] == 0x09 { i += 1 }
        return i
    }

    /// The index after the quoted string that starts at `start` (a `"`), or `nil` if it is unterminated or
    /// holds a character other than tab, space and visible ASCII.
    private static func quotedStringEnd(_ p: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        func isQuotable(_ b: UInt8) -> Bool { b == 0x09 || (b >= 0x20 && b < 0x7F) }
        var i = start + 1
        while i < p.count {
            let b = p[i]
            if b == UInt8(ascii: "\"") { return i + 1 }
            if b == UInt8(ascii: "\\") {
                guard i + 1 < p.count, isQuotable(p[i + 1]) else { return nil }
                i += 2
                continue
            }
            guard isQuotable(b) else { return nil }
            i += 1
        }
        return nil
    }

    /// ": 'x' at position N is not allowed in a token", or "" at the end of the text.
    private static func unexpectedCharacter(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> String {
        i < p.count ? ": \(describe(p, at: i)) is not allowed in a token" : ""
    }

    /// "'x' at position N", "a space at position N", ...
    private static func describe(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> String {
        let b = p[i]
        if b == 0x20 { return "a space at position \(i)" }
        if b < 0x20 || b == 0x7F { return "a control character at position \(i)" }
        if b >= 0x80 { return "a non-ASCII character at position \(i)" }
        return "'\(Character(Unicode.Scalar(b)))' at position \(i)"
    }
}
