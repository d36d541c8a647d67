import Foundation
import Testing
import TouchlogGenerator

@Suite struct DeterminismTests {
    @Test func sameConfigurationGivesIdenticalBytes() {
        let configuration = GeneratorConfiguration(seed: 7, events: 5000, customers: 200)
        let first = generateLines(configuration)
        let second = generateLines(configuration)
        #expect(first.count == 5000)
        #expect(first == second)
    }

    @Test func differentSeedGivesDifferentBytes() {
        let first = generateLines(GeneratorConfiguration(seed: 1, events: 2000, customers: 200))
        let second = generateLines(GeneratorConfiguration(seed: 2, events: 2000, customers: 200))
        #expect(first != second)
        // Not just the ids: the content differs too.
        let firstTypes = try? first.map { try GeneratedEvent($0).type }
        let secondTypes = try? second.map { try GeneratedEvent($0).type }
        #expect(firstTypes != secondTypes)
    }

    @Test func shorterRunIsPrefixOfLongerRun() {
        let short = generateLines(GeneratorConfiguration(seed: 3, events: 700, customers: 50))
        let long = generateLines(GeneratorConfiguration(seed: 3, events: 1500, customers: 50))
        #expect(Array(long.prefix(700)) == short)
    }

    @Test func nextAndWriteNextAgree() {
        let configuration = GeneratorConfiguration(seed: 11, events: 300, customers: 30)
        var generator = TouchpointGenerator(configuration)
        var buffer: [UInt8] = [0xFF]
        var lines: [[UInt8]] = []
        while true {
            let before = buffer.count
            guard generator.writeNext(into: &buffer) else { break }
            lines.append(Array(buffer[before...]))
        }
        #expect(buffer.first == 0xFF)
        #expect(lines == generateLines(configuration))
    }
}

@Suite struct CountAndIdentityTests {
    @Test(arguments: [0, 1, 7, 1234])
    func producesExactlyTheRequestedNumberOfEvents(events: Int) {
        var generator = TouchpointGenerator(GeneratorConfiguration(events: events, customers: 40))
        var count = 0
        while generator.next() != nil { count += 1 }
        #expect(count == events)
        var buffer: [UInt8] = [1, 2, 3]
        #expect(generator.writeNext(into: &buffer) == false)
        #expect(buffer == [1, 2, 3])
        #expect(generator.next() == nil)
    }

    @Test func idsAreUnique() throws {
        let events = try generateEvents(GeneratorConfiguration(events: 20_000))
        let ids = Set(events.map(\.id))
        #expect(ids.count == 20_000)
        #expect(events.allSatisfy { $0.id.hasPrefix("evt-") })
    }

    @Test func runsWithDifferentSeedsHaveDisjointIds() throws {
        let first = try generateEvents(GeneratorConfiguration(seed: 1, events: 500))
        let second = try generateEvents(GeneratorConfiguration(seed: 2, events: 500))
        #expect(Set(first.map(\.id)).isDisjoint(with: second.map(\.id)))
    }
}

@Suite struct LateArrivalTests {
    /// Counts events whose time is earlier than the previous event's time.
    func lateCount(_ events: [GeneratedEvent]) throws -> Int {
        var late = 0
        var previous = Int64.min
        for event in events {
            let seconds = try #require(event.seconds, "unparseable time in \(event.text)")
            if seconds < previous { late += 1 }
            previous = seconds
        }
        return late
    }

    @Test func noLateEventsWhenFractionIsZero() throws {
        let events = try generateEvents(
            GeneratorConfiguration(events: 30_000, customers: 500, lateFraction: 0))
        #expect(try lateCount(events) == 0)
        #expect(events.first?.time == "2024-01-01T00:00:00Z")
    }

    @Test(arguments: [0.01, 0.05, 0.2])
    func lateEventsMatchTheConfiguredFraction(fraction: Double) throws {
        let count = 30_000
        let events = try generateEvents(
            GeneratorConfiguration(events: count, customers: 500, lateFraction: fraction))
        let late = try lateCount(events)
        let expected = fraction * Double(count)
        #expect(Double(late) > expected * 0.75, "\(late) late events, expected about \(expected)")
        #expect(Double(late) < expected * 1.25, "\(late) late events, expected about \(expected)")
        // Late events never go before the configured start.
        let start = try #require(GeneratedEvent.parseTime("2024-01-01T00:00:00Z"))
        #expect(try events.allSatisfy { try #require($0.seconds) >= start })
    }

    @Test func lateFractionChangesOnlyTimes() throws {
        let onTime = try generateEvents(GeneratorConfiguration(events: 3000, lateFraction: 0))
        let late = try generateEvents(GeneratorConfiguration(events: 3000, lateFraction: 0.1))
        func withoutTime(_ event: GeneratedEvent) -> String {
            event.text.replacingOccurrences(of: "\"time\":\"\(event.time)\"", with: "")
        }
        #expect(onTime.map(withoutTime) == late.map(withoutTime))
        #expect(onTime.map(\.time) != late.map(\.time))
    }

    @Test func startIsConfigurable() throws {
        // 2031-07-04T09:30:00.250000Z, with a fraction, so times carry six fraction digits.
        let start: Int64 = 1_940_923_800_250_000
        let events = try generateEvents(
            GeneratorConfiguration(events: 50, start: start, lateFraction: 0))
        #expect(events.first?.time == "2031-07-04T09:30:00.250000Z")
        #expect(events.allSatisfy { $0.time.hasSuffix(".250000Z") })
    }
}

@Suite struct SkewTests {
    @Test func fewCustomersMakeMostOfTheTraffic() throws {
        let customers = 1000
        let events = generateLines(GeneratorConfiguration(events: 50_000, customers: customers))
        // Read the subject straight from the bytes: parsing 50,000 lines is slow in debug.
        let marker = Array("\"subject\":\"".utf8)
        var perCustomer: [ArraySlice<UInt8>: Int] = [:]
        for line in events {
            let start = try #require(
                (0..<line.count - marker.count).first { line[$0..<$0 + marker.count].elementsEqual(marker) })
            let from = start + marker.count
            let end = try #require(line[from...].firstIndex(of: UInt8(ascii: "\"")))
            perCustomer[line[from..<end], default: 0] += 1
        }
        #expect(perCustomer.keys.allSatisfy { $0.count == 10 && $0.starts(with: "cus-".utf8) })
        var counts = perCustomer.values.sorted(by: >)
        counts += Array(repeating: 0, count: customers - counts.count)
        let top = counts.prefix(customers / 10).reduce(0, +)
        let share = Double(top) / Double(events.count)
        let median = counts[customers / 2]
        let mean = Double(events.count) / Double(customers)
        #expect(share > 0.35, "top 10% of customers have \(share) of the events")
        #expect(Double(median) < mean / 2, "median customer has \(median) events, mean \(mean)")
        // But nobody takes over the whole log.
        #expect(Double(counts[0]) < 0.1 * Double(events.count))
    }

    @Test func customerIdentifiersStayInRange() throws {
        let events = try generateEvents(
            GeneratorConfiguration(events: 5000, customers: 25, representatives: 3))
        let subjects = Set(events.map(\.subject))
        let valid = Set(
            (1...25).map { "cus-" + String(repeating: "0", count: 6 - String($0).count) + String($0) })
        #expect(subjects.isSubset(of: valid))
        let representatives = Set(events.compactMap(\.representative))
        #expect(representatives.isSubset(of: ["rep-0001", "rep-0002", "rep-0003"]))
        #expect(representatives.count == 3)
    }
}

@Suite struct JSONLinesTests {
    @Test func writesTheIteratorBytesJoinedByNewlines() throws {
        // Enough events for several 1 MiB chunks.
        let configuration = GeneratorConfiguration(seed: 5, events: 12_000, customers: 300)
        var expected: [UInt8] = []
        for line in TouchpointGenerator(configuration) {
            expected += line
            expected.append(UInt8(ascii: "\n"))
        }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("touchlog-generator-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(FileManager.default.createFile(atPath: url.path, contents: nil))
        let handle = try FileHandle(forWritingTo: url)
        try TouchpointGenerator.writeJSONLines(configuration, toFileDescriptor: handle.fileDescriptor)
        try handle.close()
        let written = try Data(contentsOf: url)
        #expect(written.count == expected.count)
        #expect(written == Data(expected))
        #expect(expected.count > 2 << 20)
    }

    @Test func reportsAFailedWrite() {
        #expect {
            try TouchpointGenerator.writeJSONLines(
                GeneratorConfiguration(events: 10), toFileDescriptor: -1)
        } throws: { error in
            guard let error = error as? GeneratorWriteError else { return false }
            return error.code == EBADF && error.description.contains("Bad file descriptor")
        }
    }
}

@Suite struct ConfigurationTests {
    @Test func defaults() {
        let configuration = GeneratorConfiguration(events: 10)
        #expect(configuration.seed == 42)
        #expect(configuration.customers == 1000)
        #expect(configuration.representatives == 50)
        #expect(configuration.source == "urn:touchlog:generator")
        #expect(configuration.start == 1_704_067_200_000_000)
        #expect(configuration.lateFraction == 0.01)
        #expect(throws: Never.self) { try configuration.validate() }
    }

    @Test(arguments: [
        GeneratorConfiguration(events: -1),
        GeneratorConfiguration(events: 1, customers: 0),
        GeneratorConfiguration(events: 1, representatives: 0),
        GeneratorConfiguration(events: 1, source: ""),
        GeneratorConfiguration(events: 1, source: "not a uri"),
        GeneratorConfiguration(events: 1, source: "urn:x:\"quoted\""),
        GeneratorConfiguration(events: 1, source: "https://example.com/%zz"),
        GeneratorConfiguration(events: 1, lateFraction: -0.1),
        GeneratorConfiguration(events: 1, lateFraction: 1.5),
    ])
    func rejectsInvalidSettings(configuration: GeneratorConfiguration) {
        #expect(throws: GeneratorConfigurationError.self) { try configuration.validate() }
    }

    @Test(arguments: ["urn:touchlog:generator", "https://example.com/a?b=c&d=%20#frag", "/relative/path"])
    func acceptsURIReferences(source: String) throws {
        let configuration = GeneratorConfiguration(events: 20, source: source)
        try configuration.validate()
        let events = try generateEvents(configuration)
        #expect(events.allSatisfy { $0.object["source"] as? String == source })
    }
}
