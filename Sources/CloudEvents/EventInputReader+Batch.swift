/// The CloudEvents batch format: a JSON array of events, read whole (it has no framing that would let
/// one element be found without the ones before it) and split structurally into elements.
extension EventInputReader {
    mutating func readBatch() throws(EventInputError) {
        var bytes = Array(UnsafeBufferPointer(start: buffer + start, count: end - start))
        start = end
        scanned = end
        while !atEOF {
            try fill()
            bytes.append(contentsOf: UnsafeBufferPointer(start: buffer + start, count: end - start))
            start = end
            scanned = end
        }
        mode = .batch(BatchState(bytes: bytes, pos: 1, line: line))
    }

    private func malformed(_ line: Int, _ message: String) -> EventInputError {
        EventInputError(line: line, message: "malformed batch array: \(message)", isRecoverable: false)
    }

    mutating func nextBatchElement() throws(EventInputError) -> EventInputRecord? {
        guard case .batch(var state) = mode else { return nil }
        if state.closed {
            mode = .finished
            return nil
        }
        mode = .finished  // while `state` is out; put back below
        let result = try state.bytes.withUnsafeBufferPointer {
            p throws(EventInputError) -> EventInputRecord? in
            let n = p.count
            func skipWhitespace() {
                while state.pos < n && Self.isWhitespace(p[state.pos]) {
                    if p[state.pos] == 0x0A { state.line += 1 }
                    state.pos += 1
                }
            }
            skipWhitespace()
            guard state.pos < n else { throw malformed(state.line, "the array is not closed with ']'") }
            if p[state.pos] == UInt8(ascii: "]") {
                if !state.expectingFirst { throw malformed(state.line, "trailing comma before ']'") }
                state.pos += 1
                skipWhitespace()
                if state.pos < n { throw malformed(state.line, "unexpected data after the batch array") }
                return nil
            }
            let elementStart = state.pos
            let elementLine = state.line
            var open: [UInt8] = []  // the brackets open inside this element
            var inString = false
            var i = state.pos
            var elementEnd = -1
            var closesArray = false
            scan: while i < n {
                let b = p[i]
                if b == 0x0A { state.line += 1 }
                if inString {
                    if b == UInt8(ascii: "\\") {
                        i += 2
                        continue
                    }
                    if b == UInt8(ascii: "\"") { inString = false }
                    i += 1
                    continue
                }
                switch b {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): open.append(b)
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    guard let innermost = open.last else {
                        guard b == UInt8(ascii: "]") else { throw malformed(state.line, "unbalanced '}'") }
                        elementEnd = i
                        closesArray = true
                        break scan
                    }
                    guard innermost == b &- 2 else {  // '[' + 2 == ']', '{' + 2 == '}'
                        throw malformed(state.line, "unbalanced '\(Character(Unicode.Scalar(b)))'")
                    }
                    open.removeLast()
                case UInt8(ascii: ","):
                    if open.isEmpty {
                        elementEnd = i
                        break scan
                    }
                default: break
                }
                i += 1
            }
            guard elementEnd >= 0 else { throw malformed(elementLine, "the array is not closed with ']'") }
            var last = elementEnd
            while last > elementStart && Self.isWhitespace(p[last - 1]) { last -= 1 }
            guard last > elementStart else {
                throw malformed(state.line, "expected an event before '\(closesArray ? "]" : ",")'")
            }
            state.pos = elementEnd + 1
            state.expectingFirst = false
            if closesArray {
                skipWhitespace()
                if state.pos < n { throw malformed(state.line, "unexpected data after the batch array") }
                state.closed = true
            }
            guard last - elementStart <= Self.maximumEventBytes else {
                mode = .batch(state)
                throw overlong(
                    elementLine, start: UnsafeBufferPointer(rebasing: p[elementStart..<last]),
                    length: last - elementStart)
            }
            return EventInputRecord(
                line: elementLine, bytes: Array(UnsafeBufferPointer(rebasing: p[elementStart..<last])))
        }
        guard let result else { return nil }
        mode = .batch(state)
        return result
    }
}
