import ArgumentParser
import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogStore

struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print the last events of the global log in order.",
        discussion: """
            As tail(1): the last 10 events, or the last N with -n N. With --from POSITION, the events from \
            that position on instead (at most N with -n N). With --follow, keeps printing events as they are \
            appended (after the last N printed, or from --from), until interrupted or until the reader of its \
            output goes away (tail --follow | head -1 ends with status 0).
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(
        name: [.customShort("n"), .customLong("lines")],
        help: ArgumentHelp(
            "Print the last N events (default 10); with --from, at most N from there.", valueName: "n"))
    var lines: Int?
    @Option(help: ArgumentHelp("Print from this position on (1 is the first event).", valueName: "position"))
    var from: UInt64?
    @Flag(help: "Wait for new events and print them as they arrive.")
    var follow = false

    /// How many events `tail` prints without -n.
    static let defaultLines = 10

    func validate() throws {
        if let from, from < 1 { throw ValidationError("--from must be at least 1") }
        if let lines, lines < 0 { throw ValidationError("--lines must not be negative") }
    }

    func run() throws {
        try storeOptions.withStore(.reading) { store in
            let log = store.log
            let console = Console.current
            var buffer = OutputBuffer()
            var next: UInt64
            let limit: Int?
            if let from {
                next = from
                limit = lines
            } else {
                // The last N: from the head back (-n 0: just after it). Events appended meanwhile are for
                // --follow only.
                let count = UInt64(lines ?? Self.defaultLines)
                let head = try log.head().position
                next = head >= count ? head - count + 1 : 1
                limit = follow ? nil : Int(count)
            }
            var printed = 0
            while true {
                try log.forEachEvent(from: next) { stored in
                    if let limit, printed >= limit { return false }
                    // Nobody reads any more (tail | head): stop instead of reading the rest of the log.
                    if console.outputIsClosed() { return false }
                    if output.json {
                        buffer.write {
                            stored.writeJSON(into: &$0)
                            $0.append(0x0a)
                        }
                    } else {
                        buffer.appendLine("\(EventText.summaryLine(stored))")
                    }
                    printed += 1
                    next = stored.position + 1
                    return true
                }
                buffer.flush()
                if !follow || (limit.map { printed >= $0 } ?? false) || console.outputIsClosed() { return }
                // Waiting for new events, nothing is written, so a reader that left would go unnoticed
                // until the next event: wait on standard output itself, which reports the hang-up.
                if console.waitForOutputClosed(200) { return }
            }
        }
    }
}

/// Text renderings of stored events shared by `tail` and `replay`.
enum EventText {
    /// "position  time  customer  type  tags  data".
    static func summaryLine(_ stored: StoredEvent) -> String {
        var parts = [
            String(stored.position), stored.event.time ?? stored.occurredAt.rfc3339, stored.customer,
            stored.event.type,
        ]
        let tags = tagText(stored.event)
        if !tags.isEmpty { parts.append(tags) }
        if let data = dataText(stored.event) { parts.append(data) }
        return parts.joined(separator: "  ")
    }

    static func tagText(_ event: CloudEvent) -> String {
        ["ticketid", "repid", "channel"].compactMap { name -> String? in
            guard let value = event.extensionValue(name) else { return nil }
            switch value {
            case .string(let text): return "\(name)=\(text)"
            default:
                var bytes: [UInt8] = []
                value.write(into: &bytes)
                return "\(name)=\(String(decoding: bytes, as: UTF8.self))"
            }
        }.joined(separator: " ")
    }

    static func dataText(_ event: CloudEvent) -> String? {
        switch event.data {
        case .json(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .base64(let text): return "data_base64=\(text.prefix(40))\(text.count > 40 ? "…" : "")"
        case nil: return nil
        }
    }
}
