/// Checks used by event validation: URI references (RFC 3986) and base64 (RFC 4648).
enum Validation {
    /// Why `text` is not an RFC 3986 URI-reference (or, with `requireScheme`, a URI), or `nil` if it is one.
    ///
    /// Follows the grammar of RFC 3986 section 4.1: a scheme (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`)
    /// when a `:` comes before any `/`, `?` or `#` (so a relative reference cannot have a colon in its
    /// first segment); after `//` an authority of `[ userinfo "@" ] host [ ":" port ]`, the host an IP
    /// literal in brackets (IPv6 or `v`-prefixed IPvFuture), or a reg-name, the port digits only; then
    /// path, query and fragment of pchar, `/` and `?`, with at most one `#`. Everywhere `%` must start
    /// `%` HEX HEX, and spaces, controls and non-ASCII are rejected (so IRIs are too). `requireScheme`
    /// asks for an RFC 3986 `URI` (section 3): a scheme is required, and a fragment is allowed, as the
    /// CloudEvents JSON schema's `uri` format allows it.
    static func uriReferenceProblem(_ p: UnsafeBufferPointer<UInt8>, requireScheme: Bool) -> String? {
        let n = p.count
        var i = 0
        var hasScheme = false
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
        if requireScheme && !hasScheme {
            return "has no scheme (an absolute URI starts with one, such as \"https:\")"
        }
        if i + 1 < n && p[i] == UInt8(ascii: "/") && p[i + 1] == UInt8(ascii: "/") {
            var end = i + 2
            while end < n, p[end] != UInt8(ascii: "/"), p[end] != UInt8(ascii: "?"),
                p[end] != UInt8(ascii: "#")
            {
                end += 1
            }
            if let problem = authorityProblem(p, i + 2..<end) { return problem }
            i = end
        }
        // Path, query and fragment: pchar, "/" and "?"; one "#" starts the fragment.
        var sawFragment = false
        while i < n {
            let b = p[i]
            if b == UInt8(ascii: "%") {
                if let problem = percentEncodingProblem(p, at: i) { return problem }
                i += 3
                continue
            }
            if b == UInt8(ascii: "#") {
                if sawFragment { return "has more than one '#'" }
                sawFragment = true
            } else if b == UInt8(ascii: "[") || b == UInt8(ascii: "]") {
                return "has '\(Character(Unicode.Scalar(b)))' outside an IP literal host"
            } else if !isURICharacter(b) {
                return characterProblem(b, at: i)
            }
            i += 1
        }
        return nil
    }

    /// Why the authority `p[range]` (between `//` and the next `/`, `?` or `#`) is not
    /// `[ userinfo "@" ] host [ ":" port ]`, or `nil`.
    private static func authorityProblem(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String? {
        var hostStart = range.lowerBound
        if let at = range.first(where: { p[$0] == UInt8(ascii: "@") }) {
            // userinfo = *( unreserved / pct-encoded / sub-delims / ":" )
            if let problem = componentProblem(
                p, range.lowerBound..<at, allowingColon: true, in: "user information")
            {
                return problem
            }
            hostStart = at + 1
        }
        var portStart: Int?
        if hostStart < range.upperBound && p[hostStart] == UInt8(ascii: "[") {
            guard let close = (hostStart + 1..<range.upperBound).first(where: { p[$0] == UInt8(ascii: "]") })
            else {
                return "has an IP literal host without its closing ']'"
            }
            let literal = UnsafeBufferPointer(rebasing: p[hostStart + 1..<close])
            if !isIPv6Address(literal) && !isIPvFuture(literal) {
                return
                    "has an IP literal host \"[\(String(decoding: literal, as: UTF8.self))]\" that is neither an IPv6 address nor 'v' HEX '.' text (IPvFuture)"
            }
            let after = close + 1
            if after < range.upperBound {
                guard p[after] == UInt8(ascii: ":") else {
                    return
                        "has '\(Character(Unicode.Scalar(p[after])))' after its IP literal host, where only ':' and a port may follow"
                }
                portStart = after + 1
            }
        } else {
            // reg-name = *( unreserved / pct-encoded / sub-delims ), then ":" port.
            let colon = (hostStart..<range.upperBound).first(where: { p[$0] == UInt8(ascii: ":") })
            if let problem = componentProblem(
                p, hostStart..<(colon ?? range.upperBound), allowingColon: false, in: "host")
            {
                return problem
            }
            portStart = colon.map { $0 + 1 }
        }
        if let portStart, let bad = (portStart..<range.upperBound).first(where: { !isDigit(p[$0]) }) {
            if p[bad] == UInt8(ascii: "[") || p[bad] == UInt8(ascii: "]") {
                return "has '\(Character(Unicode.Scalar(p[bad])))' outside an IP literal host"
            }
            return "has a port that is not only digits (position \(bad))"
        }
        return nil
    }

    /// Why `p[range]` is not `*( unreserved / pct-encoded / sub-delims )` (plus `:` if allowed), or `nil`.
    private static func componentProblem(
        _ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, allowingColon: Bool, in component: String
    ) -> String? {
        var i = range.lowerBound
        while i < range.upperBound {
            let b = p[i]
            if b == UInt8(ascii: "%") {
                if let problem = percentEncodingProblem(p, at: i) { return problem }
                i += 3
                continue
            }
            if isUnreservedOrSubDelimiter(b) || (allowingColon && b == UInt8(ascii: ":")) {
                i += 1
                continue
            }
            if b == UInt8(ascii: "[") || b == UInt8(ascii: "]") {
                return "has '\(Character(Unicode.Scalar(b)))' outside an IP literal host"
            }
            if isURICharacter(b) {
                return
                    "has '\(Character(Unicode.Scalar(b)))' in its \(component) at position \(i), which is not allowed there"
            }
            return characterProblem(b, at: i)
        }
        return nil
    }

    private static func percentEncodingProblem(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> String? {
        guard i + 2 < p.count, hexValue(p[i + 1]) != nil, hexValue(p[i + 2]) != nil else {
            return "has malformed percent-encoding at position \(i)"
        }
        return nil
    }

    /// Why byte `b`, which no part of a URI allows, is wrong, in words.
    private static func characterProblem(_ b: UInt8, at i: Int) -> String {
        if b == 0x20 { return "contains a space at position \(i)" }
        if b < 0x20 || b == 0x7F { return "contains a control character at position \(i)" }
        if b >= 0x80 { return "contains a non-ASCII character at position \(i) (percent-encode it)" }
        return "contains '\(Character(Unicode.Scalar(b)))' at position \(i), which is not allowed in a URI"
    }

    /// RFC 3986 `IPv6address`: eight groups of 1-4 hex digits separated by `:`, the last two of which may
    /// be an IPv4 address; one `::` may stand for one or more groups of zeros (then at most seven are written).
    static func isIPv6Address(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        let bytes = Array(p)
        var doubleColon: Int?
        for k in 0..<max(0, bytes.count - 1)
        where bytes[k] == UInt8(ascii: ":") && bytes[k + 1] == UInt8(ascii: ":") {
            if doubleColon != nil { return false }
            doubleColon = k
        }
        /// The number of groups `part` holds (an IPv4 address counts two, and only at the very end), or nil.
        func groups(_ part: ArraySlice<UInt8>, endsAddress: Bool) -> Int? {
            if part.isEmpty { return 0 }
            let pieces = part.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            var count = 0
            for (index, piece) in pieces.enumerated() {
                if endsAddress && index == pieces.count - 1 && piece.contains(UInt8(ascii: ".")) {
                    guard isIPv4Address(piece) else { return nil }
                    count += 2
                } else {
                    guard (1...4).contains(piece.count), piece.allSatisfy({ hexValue($0) != nil }) else {
                        return nil
                    }
                    count += 1
                }
            }
            return count
        }
        guard let doubleColon else { return groups(bytes[...], endsAddress: true) == 8 }
        guard let left = groups(bytes[..<doubleColon], endsAddress: false),
            let right = groups(bytes[(doubleColon + 2)...], endsAddress: true)
        else { return false }
        return left + right <= 7
    }

    /// RFC 3986 `IPv4address`: four decimal octets 0-255 without leading zeros, separated by dots.
    static func isIPv4Address(_ p: ArraySlice<UInt8>) -> Bool {
        let octets = p.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return octets.count == 4
            && octets.allSatisfy { octet in
                (1...3).contains(octet.count) && octet.allSatisfy(isDigit)
                    && (octet.count == 1 || octet.first != UInt8(ascii: "0"))
                    && Int(String(decoding: octet, as: UTF8.self))! <= 255
            }
    }

    /// RFC 3986 `IPvFuture`: `v` 1*HEXDIG `.` 1*( unreserved / sub-delims / `:` ).
    static func isIPvFuture(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = p.first, first | 0x20 == UInt8(ascii: "v"),
            let dot = p.firstIndex(of: UInt8(ascii: ".")), dot > 1, dot < p.count - 1
        else { return false }
        return p[1..<dot].allSatisfy { hexValue($0) != nil }
            && p[(dot + 1)...].allSatisfy { isUnreservedOrSubDelimiter($0) || $0 == UInt8(ascii: ":") }
    }

    /// RFC 3986 unreserved (`ALPHA DIGIT - . _ ~`) and sub-delims (`! $ & ' ( ) * + , ; =`).
    static func isUnreservedOrSubDelimiter(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "!"),
            UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="):
            return true
        default:
            return isAlpha(b) || isDigit(b)
        }
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

extension CloudEvent {
    /// The range of a CloudEvents `Integer`: signed 32-bit (CloudEvents 1.0, "Type System").
    public static let integerRange: ClosedRange<Int64> = -2_147_483_648...2_147_483_647

    /// Why `value` cannot be the value of extension attribute `name`, or `nil` if it can.
    ///
    /// In the JSON format an attribute is a string (String, URI, URI-reference, Timestamp, Binary), a
    /// boolean (Boolean) or a number of only an integer part, optionally signed, in ``integerRange``
    /// (Integer); `null` means unset. A fraction, an exponent, an object or an array has no CloudEvents type.
    public static func extensionValueProblem(name: String, value: JSONValue) -> String? {
        switch value {
        case .string, .bool, .null:
            return nil
        case .number(let literal):
            let digits =
                literal.utf8.first == UInt8(ascii: "-") ? literal.utf8.dropFirst() : literal.utf8[...]
            guard !digits.isEmpty, digits.allSatisfy(Validation.isDigit) else {
                return
                    "extension attribute '\(name)' is \(EventParser.excerpt(literal)), a number with a fraction or an exponent: a CloudEvents Integer is a whole number (send other numbers as a string, or in data)"
            }
            // At most 10 digits fit; more (JSON has no leading zeros) are out of range without converting.
            guard digits.count <= 10, let number = Int64(literal), integerRange.contains(number) else {
                return
                    "extension attribute '\(name)' is \(EventParser.excerpt(literal)), outside the CloudEvents Integer range -2147483648...2147483647 (signed 32-bit)"
            }
            return nil
        case .object:
            return untypedExtensionProblem(name: name, kind: "an object")
        case .array:
            return untypedExtensionProblem(name: name, kind: "an array")
        }
    }

    /// The rejection of an extension attribute whose JSON value (`kind`: "an object", "an array") has no CloudEvents type.
    static func untypedExtensionProblem(name: String, kind: String) -> String {
        "extension attribute '\(name)' must be a string, an integer or a boolean (the CloudEvents types in JSON), not \(kind)"
    }
}
