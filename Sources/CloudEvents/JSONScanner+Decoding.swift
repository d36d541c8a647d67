/// Turning scanned, already validated tokens into strings and bytes, with escapes decoded.
extension JSONScanner {
    /// Makes a `String` from already-validated bytes.
    func makeString(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// Makes a `String` from a scanned string literal, decoding escapes if any.
    func makeString(_ token: StringToken) -> String {
        if !token.hasEscapes { return makeString(token.start..<token.end) }
        return String(unsafeUninitializedCapacity: token.count) { out in
            Self.decode(bytes, token, into: out.baseAddress!)
        }
    }

    /// Calls `body` with the decoded bytes of a scanned string literal: the input itself when it
    /// has no escapes, else a decoded copy.
    func withDecoded<R>(_ token: StringToken, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if !token.hasEscapes { return body(UnsafeBufferPointer(rebasing: bytes[token.start..<token.end])) }
        var decoded: [UInt8] = []
        Self.appendDecoded(bytes, token, to: &decoded)
        return decoded.withUnsafeBufferPointer(body)
    }

    /// Appends the decoded bytes of a scanned string literal.
    static func appendDecoded(
        _ bytes: UnsafeBufferPointer<UInt8>, _ token: StringToken, to array: inout [UInt8]
    ) {
        if !token.hasEscapes {
            array.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[token.start..<token.end]))
            return
        }
        let old = array.count
        array.append(contentsOf: repeatElement(0, count: token.count))
        let written = array.withUnsafeMutableBufferPointer { buf in
            decode(bytes, token, into: buf.baseAddress! + old)
        }
        array.removeLast(token.count - written)
    }

    /// Decodes a validated string literal with escapes into `out` (room for `token.count` bytes,
    /// which always suffices: every escape is at least as long as what it stands for).
    /// - Returns: the number of bytes written.
    private static func decode(
        _ bytes: UnsafeBufferPointer<UInt8>, _ token: StringToken, into out: UnsafeMutablePointer<UInt8>
    ) -> Int {
        var i = token.start
        var o = 0
        while i < token.end {
            let b = bytes[i]
            if b != UInt8(ascii: "\\") {
                out[o] = b
                o += 1
                i += 1
                continue
            }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"):
                out[o] = 0x08
                o += 1
            case UInt8(ascii: "f"):
                out[o] = 0x0C
                o += 1
            case UInt8(ascii: "n"):
                out[o] = 0x0A
                o += 1
            case UInt8(ascii: "r"):
                out[o] = 0x0D
                o += 1
            case UInt8(ascii: "t"):
                out[o] = 0x09
                o += 1
            case UInt8(ascii: "u"):
                var scalar = UInt32(unsafeHex4(bytes, at: i))
                i += 4
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    let low = UInt32(unsafeHex4(bytes, at: i + 2))
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                o += encodeUTF8(scalar, into: out + o)
            default:  // " \ /
                out[o] = e
                o += 1
            }
        }
        return o
    }

    private static func unsafeHex4(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> UInt16 {
        var v: UInt16 = 0
        for k in 0..<4 { v = v << 4 | UInt16(hexValue(bytes[i + k])!) }
        return v
    }
}
