import Foundation
import Testing

@testable import CloudEvents

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
