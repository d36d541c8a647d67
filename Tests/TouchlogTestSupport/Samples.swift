import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogGenerator

#if canImport(Glibc)
    import Glibc
#endif

/// Every event of a generator configuration, validated as touchpoints (seeded: the same every run).
/// - Throws: `CloudEventError` if the generator wrote an event the catalog rejects.
public func generatedTouchpoints(_ configuration: GeneratorConfiguration) throws -> [Touchpoint] {
    var generator = TouchpointGenerator(configuration)
    var touchpoints: [Touchpoint] = []
    while let bytes = generator.next() {
        touchpoints.append(try Touchpoint(validating: try CloudEvent(json: bytes)))
    }
    return touchpoints
}

/// Writes every event of a generator configuration as JSON Lines to the file at `path` (replaced).
/// - Throws: `TestSupportError` when the file cannot be created, or what the generator's writing throws.
public func writeGeneratedLines(_ configuration: GeneratorConfiguration, to path: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { throw TestSupportError("cannot create '\(path)': errno \(errno)") }
    defer { close(fd) }
    try TouchpointGenerator.writeJSONLines(configuration, toFileDescriptor: fd)
}

/// A helper of this module could not do what a test asked.
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The slice of the UCI ServiceNow incident export kept for tests (Tests/TouchlogImportTests/Fixtures/README.md).
public let serviceNowSlicePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../TouchlogImportTests/Fixtures/servicenow-slice.csv.gz").standardized.path
