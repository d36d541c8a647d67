import Foundation
import Testing
import TouchlogTestSupport

@testable import CloudEvents

/// Everything a reader yields, with errors in place: (line, text) or (line, "ERROR: message").
func readAll(path: String) throws -> [(Int?, String)] {
    var reader = try EventInputReader(path: path)
    return try readAll(&reader)
}

/// Everything a reader yields, with errors in place: (line, text) or (line, "ERROR: message").
func readAll(_ reader: inout EventInputReader) throws -> [(Int?, String)] {
    var out: [(Int?, String)] = []
    while true {
        do {
            guard let record = try reader.next() else { break }
            out.append((record.line, String(decoding: record.bytes, as: UTF8.self)))
        } catch {
            out.append((error.line, "ERROR\(error.isRecoverable ? "" : "(fatal)"): \(error.message)"))
            if !error.isRecoverable {
                #expect(try reader.next() == nil)
                break
            }
        }
    }
    return out
}

/// Hands out the bytes of a `MemoryByteSource` 1 to 7 at a time, in a fixed pseudo-random order, so
/// that lines, CRLFs, BOMs and batch elements are cut at every possible place between two reads.
struct ChunkedByteSource: ByteSource {
    private var inner: MemoryByteSource
    private var state: UInt64

    init(_ bytes: [UInt8], seed: UInt64 = 0x5EED) {
        inner = MemoryByteSource(bytes)
        state = seed
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ByteSourceError) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407  // an LCG step
        let size = min(buffer.count, Int(state >> 33) % 7 + 1)
        return try inner.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size]))
    }
}

/// Gives `bytes`, then fails with an I/O error, as a disk or a network read can.
struct FailingByteSource: ByteSource {
    private var inner: MemoryByteSource
    let message: String

    init(_ text: String, then message: String) {
        inner = MemoryByteSource(text)
        self.message = message
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ByteSourceError) -> Int {
        let count = try inner.read(into: buffer)
        guard count > 0 else { throw ByteSourceError(message, isDataError: false) }
        return count
    }
}

/// What a reader over `bytes` yields from each kind of source: a file, memory, and 1-7-byte reads.
func readFromEverySource(_ bytes: [UInt8]) throws -> (
    file: [(Int?, String)], memory: [(Int?, String)], chunked: [(Int?, String)]
) {
    let file = try TemporaryFile(bytes)
    var memory = EventInputReader(MemoryByteSource(bytes))
    var chunked = EventInputReader(ChunkedByteSource(bytes))
    return (try readAll(path: file.path), try readAll(&memory), try readAll(&chunked))
}
