import CloudEvents
import Testing
import TouchlogDomain
import TouchlogGenerator
import TouchlogStore
import TouchlogTestSupport

/// A seeded random mutator over the parser and the catalog: whatever the bytes, parsing ends in an
/// event or a `CloudEventError`, never a crash or a hang. Inputs that once crashed are kept below.
@Suite struct FuzzTests {
    /// Mutations per run: enough to cover the parser's branches in a few seconds in debug builds.
    static let iterations = 100_000

    /// Edge inputs kept as regressions; an input that ever crashes the fuzzer (Tools/fuzz.sh) joins them.
    static let regressions: [[UInt8]] = [
        Array(
            #"{"specversion":"1.0","id":"x","source":"urn:x","type":"t","subject":"c","time":"2024-05-01T10:00:00Z","data":"#
                .utf8),
        Array(#"{"a":"\ud800"}"#.utf8),
        Array(#"{"specversion":"1.0","id":"x","source":"%zz","type":"t"}"#.utf8),
        Array("[".utf8),
        [0xEF, 0xBB, 0xBF],
        Array(#"{"data_base64":"====","specversion":"1.0","id":"x","source":"u","type":"t"}"#.utf8),
    ]

    @Test func mutatedEventsNeverCrashTheParserOrTheCatalog() {
        let generator = TouchpointGenerator(GeneratorConfiguration(seed: 5, events: 200, customers: 20))
        let corpus = Array(generator.prefix(200)) + Self.regressions
        var random = SeededRandom(seed: 0x5EED)
        var accepted = 0
        var rejected = 0
        for _ in 0..<Self.iterations {
            var bytes = corpus[Int(random.next() % UInt64(corpus.count))]
            for _ in 0...(random.next() % 4) { mutate(&bytes, &random) }
            do {
                let event = try CloudEvent(json: bytes)
                _ = try Touchpoint(validating: event)
                accepted += 1
            } catch {
                #expect(!error.message.isEmpty)
                rejected += 1
            }
        }
        #expect(accepted + rejected == Self.iterations)
        #expect(accepted > 0 && rejected > 0, "the mutations should keep some events valid and break others")
    }

    @Test(arguments: regressions)
    func regressionInputsGiveACleanError(input: [UInt8]) {
        #expect(throws: CloudEventError.self) { _ = try CloudEvent(json: input) }
    }

    private func mutate(_ bytes: inout [UInt8], _ random: inout SeededRandom) {
        let interesting: [UInt8] =
            Array("{}[]\",:\\0123456789.eE+-tfn \u{7f}".utf8) + [0x00, 0x0a, 0xC3, 0xFF, 0xED, 0xA0]
        let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
        switch random.next() % 6 {
        case 0 where !bytes.isEmpty: bytes[position] = UInt8(truncatingIfNeeded: random.next())
        case 1 where !bytes.isEmpty:
            bytes[position] = interesting[Int(random.next() % UInt64(interesting.count))]
        case 2: bytes.insert(interesting[Int(random.next() % UInt64(interesting.count))], at: position)
        case 3 where !bytes.isEmpty:
            bytes.removeSubrange(position..<min(bytes.count, position + Int(random.next() % 8) + 1))
        case 4 where !bytes.isEmpty:
            let end = min(bytes.count, position + Int(random.next() % 16) + 1)
            bytes.insert(contentsOf: bytes[position..<end], at: end)
        default: bytes = Array(bytes.prefix(position))
        }
    }
}
