import Foundation
import Testing

@testable import CloudEvents

/// A temporary file with a unique name, removed by `remove()` (tests call it in `defer`).
struct TemporaryFile {
    let url: URL

    init(_ bytes: [UInt8]) throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("cloudevents-test-\(UUID().uuidString).jsonl")
        try Data(bytes).write(to: url)
    }

    init(_ text: String) throws { try self.init(Array(text.utf8)) }

    var path: String { url.path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Everything a reader yields, with errors in place: (line, text) or (line, "ERROR: message").
func readAll(path: String) throws -> [(Int?, String)] {
    var reader = try EventInputReader(path: path)
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
