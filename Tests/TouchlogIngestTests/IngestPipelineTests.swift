import CloudEvents
import Foundation
import Testing
import TouchlogDomain
import TouchlogIngest
import TouchlogProjections
import TouchlogStore
import TouchlogTestSupport

/// The one ingest pipeline: batches bounded in events and in bytes, committed in order, then the
/// projections brought up to date.
@Suite struct IngestPipelineTests {
    let store: TestStore
    init() throws { store = try TestStore(prefix: "pipeline") }

    /// JSON Lines of `count` contact events of about `padding` bytes each.
    func input(_ count: Int, padding: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for n in 0..<count {
            bytes +=
                touchpointJSON(
                    id: "e\(n)", customer: "c\(n % 3)",
                    data: "{\"summary\":\"\(String(repeating: "x", count: padding))\"}") + [0x0a]
        }
        return bytes
    }

    func run(_ pipeline: IngestPipeline, _ bytes: [UInt8], into opened: Store) throws -> (
        IngestSummary, [Int]
    ) {
        var pipeline = pipeline
        final class Commits { var lines: [Int] = [] }
        let commits = Commits()
        pipeline.commitHandler = { _, line, _ in commits.lines.append(line) }
        let file = store.directory + "/input.jsonl"
        #expect(FileManager.default.createFile(atPath: file, contents: Data(bytes)))
        var source = CloudEventSource(try EventInputReader(path: file))
        let summary = try pipeline.run(&source, named: "input", into: opened)
        return (summary, commits.lines)
    }

    @Test func aBatchEndsAtItsByteBoundBeforeItsEventBound() throws {
        let opened = try store.openStore()
        var pipeline = IngestPipeline()
        pipeline.batchSize = 1_000_000_000  // no allocation of that size up front
        pipeline.batchBytes = 10_000
        let (summary, commits) = try run(pipeline, input(40, padding: 2_000), into: opened)
        #expect(summary.appended == 40)
        // About 2.2 KB an event: four fit in 10,000 bytes; the fifth would not, so it starts the next batch.
        #expect(commits == Array(stride(from: 4, through: 40, by: 4)), "\(commits)")
        #expect(try opened.log.statistics().events == 40)
    }

    @Test func theProjectionsAreUpToDateWhenTheRunReturns() throws {
        let opened = try store.openStore()
        let (summary, _) = try run(IngestPipeline(), input(25, padding: 10), into: opened)
        #expect(summary.appended == 25)
        let (position, head) = try ProjectionStore(store: opened).lag()
        #expect(position == 25 && head == 25)
    }
}
