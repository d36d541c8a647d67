import CloudEvents
import Foundation
import LMDB
import TouchlogDomain
import TouchlogStore
import TouchlogTestSupport

@testable import TouchlogProjections

/// 2024-05-01T10:00:00Z, the time every test's story starts.
let start: Int64 = 1_714_557_600_000_000

/// The RFC 3339 text of `start` plus `minutes` (and `micros`).
func at(minutes: Double = 0, days: Double = 0, micros: Int64 = 0) -> String {
    Timestamp(
        microsecondsSinceEpoch: start + Int64(minutes * 60_000_000) + Int64(days * 86_400_000_000) + micros
    ).rfc3339
}

/// Builds valid touchpoints with fresh ids.
struct Script {
    private(set) var touchpoints: [Touchpoint] = []

    mutating func add(
        _ type: String, _ customer: String = "c1", at time: String, ticket: String? = nil, rep: String? = nil,
        channel: String? = nil, data: String? = nil
    ) throws {
        let channel =
            channel
            ?? (["contact.received", "contact.sent", "ticket.opened", "selfservice.viewed"].contains(type)
                ? "email" : nil)
        var tags: [String] = []
        if let channel { tags.append("\"channel\":\"\(channel)\"") }
        if let ticket { tags.append("\"ticketid\":\"\(ticket)\"") }
        if let rep { tags.append("\"repid\":\"\(rep)\"") }
        touchpoints.append(
            try touchpoint(
                id: "e\(touchpoints.count + 1)", customer: customer, type: type, time: time,
                extra: tags.joined(separator: ","), data: data))
    }

    /// Folds everything in memory under `rules`.
    func fold(_ rules: Rules = .default) -> ProjectionFold {
        var fold = ProjectionFold(rules: rules)
        for (index, touchpoint) in touchpoints.enumerated() {
            fold.apply(touchpoint, position: UInt64(index + 1))
        }
        return fold
    }
}

/// The default rules with some values replaced: `["loyalty.base": "60.0"]` rewrites the line `base = ...`
/// of the `[loyalty]` table.
func rules(_ overrides: [String: String]) throws -> Rules {
    var table = ""
    var lines: [String] = []
    for line in Rules.defaultText.split(separator: "\n", omittingEmptySubsequences: false) {
        let text = String(line)
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("[") {
            table = String(trimmed.dropFirst().prefix { $0 != "]" })
        }
        if let equals = trimmed.firstIndex(of: "="), !trimmed.hasPrefix("#") {
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            let path = table.isEmpty ? key : table + "." + key
            if let value = overrides[path] {
                lines.append("\(key) = \(value)")
                continue
            }
        }
        lines.append(text)
    }
    return try Rules(toml: lines.joined(separator: "\n"))
}

extension TestStore {
    /// Opens this test's log and its projections.
    func openWithProjections() throws -> (EventLog, ProjectionStore) {
        let store = try openStore()
        return (store.log, try ProjectionStore(store: store))
    }
}
