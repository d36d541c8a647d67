import CloudEvents
import LMDB
import Testing
import TouchlogDomain
import TouchlogStore
import TouchlogTestSupport

@testable import TouchlogProjections

@Suite struct RecordDecodingTests {
    let store: TestStore
    init() throws { store = try TestStore(prefix: "touchlog-projections") }

    /// The lean decoder of `catchUp` and `rebuild` and the validating path of `verify` read every
    /// generated event alike.
    @Test func theLeanDecoderAgreesWithTheValidatingPath() throws {
        let (log, projections) = try store.openWithProjections()
        var touchpoints = try generated(4_000)
        var script = Script()
        try script.add("custom.unknown", at: at())
        try script.add(
            "ticket.opened", at: at(), ticket: "t\\u00e9",
            data: #"{"priority":"high","summary":"a \"quoted\" one"}"#)
        try script.add(
            "ticket.replied", at: at(), ticket: "t1", rep: "r1", data: #"{"public":false,"author":"rep"}"#)
        try script.add("feedback.nps", at: at(), data: #"{"score":0}"#)
        try script.add("ticket.escalated", at: at(), ticket: "t1", data: #"{"level":2,"extra":{"x":[1]}}"#)
        try script.add("order.refunded", at: at(), data: #"{"order":"o","amount":0.5,"currency":"EUR"}"#)
        touchpoints += script.touchpoints
        _ = try log.append(touchpoints)
        var counts = (event: 0, ignored: 0, unsure: 0)
        try projections.store.withReadTransaction { txn in
            try log.forEachRecord(from: 1, in: txn) { record in
                let full = FoldEvent(record.storedEvent)
                switch FoldEvent.decode(record) {
                case .event(let lean):
                    counts.event += 1
                    #expect(lean == full, "position \(record.position)")
                case .ignored:
                    counts.ignored += 1
                    #expect(full == nil)
                case .unsure:
                    counts.unsure += 1
                }
                return true
            }
        }
        #expect(counts.ignored == 1)
        // The validating way takes the nested value (a summary with escapes does not need it) and the
        // types the lean decoder leaves to the catalog (ticket.merged).
        let merges = touchpoints.count { $0.event.type == "ticket.merged" }
        #expect(merges > 0)
        #expect(counts.unsure == 1 + merges)
        #expect(counts.event == touchpoints.count - 2 - merges)
    }
}
