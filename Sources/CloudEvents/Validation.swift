/// Checks used by event validation: URI references (RFC 3986) and base64 (RFC 4648).
enum Validation {
    /// Why `text` is not an RFC 3986 URI-reference, or `nil` if it is one.
    ///
    /// Checks the character set (unreserved, reserved and `%` HEX HEX; no spaces, controls or
    /// non-ASCII, so IRIs are rejected), a valid scheme when a `:` comes before any `/`, `?` or
    /// `#` (a relative reference may not have a colon in its first segment), at most one `#`,
    /// and brackets only around an IP literal host.
    static func uriReferenceProblem(_ p: UnsafeBufferPointer<UInt8>, requireScheme: Bool) -> String? {
        let n = p.count
        var i = 0
        var hasScheme = false
        // Scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":", if a colon precedes / ? #.
        var firstDelimiter = n
        for k in 0..<n {
            let b = p[k]
            if b == UInt8(ascii: ":") || b == UInt8(ascii: "/") || b == UInt8(ascii: "?")
                || b == UInt8(ascii: "#")
            {
                firstDelimiter = k
                break
            }
        }
        if firstDelimiter < n && p[firstDelimiter] == UInt8(ascii: ":") {
            guard firstDelimiter > 0, isAlpha(p[0]) else { return "has an invalid scheme" }
            for k in 1..<firstDelimiter {
                let b = p[k]
                guard
                    isAlpha(b) || isDigit(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: "-")
                        || b == UInt8(ascii: ".")
                else { return "has an invalid scheme" }
            }
            hasScheme = true
            i = firstDelimiter + 1
        }
        if requireScheme && !hasScheme { return "is not an absolute URI (it has no scheme)" }
        // Authority: "//" up to the next / ? #; brackets are allowed only there (IP literal).
        var authorityEnd = i
        if i + 1 < n && p[i] == UInt8(ascii: "/") && p[i + 1] == UInt8(ascii: "/") {
            authorityEnd = i + 2
            while authorityEnd < n, p[authorityEnd] != UInt8(ascii: "/"),
                p[authorityEnd] != UInt8(ascii: "?"),
                p[authorityEnd] != UInt8(ascii: "#")
            {
                authorityEnd += 1
            }
        }
        var sawFragment = false
        while i < n {
            let b = p[i]
            if b == UInt8(ascii: "%") {
                guard i + 2 < n, hexValue(p[i + 1]) != nil, hexValue(p[i + 2]) != nil else {
                    return "has malformed percent-encoding at position \(i)"
                }
                i += 3
                continue
            }
            if b == UInt8(ascii: "#") {
                if sawFragment { return "has more than one '#'" }
                sawFragment = true
            } else if b == UInt8(ascii: "[") || b == UInt8(ascii: "]") {
                if i >= authorityEnd {
                    return "has '\(Character(Unicode.Scalar(b)))' outside an IP literal host"
                }
            } else if !isURICharacter(b) {
                if b == 0x20 { return "contains a space at position \(i)" }
                if b < 0x20 || b == 0x7F { return "contains a control character at position \(i)" }
                if b >= 0x80 { return "contains a non-ASCII character at position \(i) (percent-encode it)" }
                return
                    "contains '\(Character(Unicode.Scalar(b)))' at position \(i), which is not allowed in a URI"
            }
            i += 1
        }
        return nil
    }

    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) &- UInt8(ascii: "a") < 26 }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

    /// Unreserved, gen-delims other than brackets, and sub-delims (RFC 3986 section 2), as a
    /// bitmask over ASCII: bit `b` of `low` for bytes 0-63, bit `b - 64` of `high` for 64-127.
    /// (Constants rather than a table, so the hot path has no lazy global to initialise.)
    private static let uriCharactersLow: UInt64 = 0xafff_ffda_0000_0000
    private static let uriCharactersHigh: UInt64 = 0x47ff_fffe_87ff_ffff

    @inline(__always) static func isURICharacter(_ b: UInt8) -> Bool {
        if b < 64 { return uriCharactersLow >> b & 1 != 0 }
        if b < 128 { return uriCharactersHigh >> (b - 64) & 1 != 0 }
        return false
    }

    /// Why `p` is not RFC 4648 base64 (standard alphabet, with padding), or `nil` if it is.
    static func base64Problem(_ p: UnsafeBufferPointer<UInt8>) -> String? {
        let n = p.count
        guard n % 4 == 0 else { return "its length \(n) is not a multiple of 4 (base64 needs padding)" }
        for i in 0..<n {
            let b = p[i]
            if isAlpha(b) || isDigit(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: "/") { continue }
            if b == UInt8(ascii: "=") {
                // Padding: only in the last two places, and "x=" only as "==".
                if i == n - 1 || (i == n - 2 && p[n - 1] == UInt8(ascii: "=")) { continue }
                return "has '=' padding in the wrong place (position \(i))"
            }
            return "has a character that is not base64 at position \(i)"
        }
        return nil
    }
}
