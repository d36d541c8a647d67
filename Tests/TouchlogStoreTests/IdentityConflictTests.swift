import Testing
import TouchlogDomain
import TouchlogStore
import TouchlogTestSupport

/// The same `source` + `id` with the same content is an idempotent retry (a duplicate); with other
/// content it is a conflict: reported, never stored, never silently counted as a duplicate.
@Suite struct IdentityConflictTests {
    let store: TestStore
    init() throws { store = try TestStore() }

    @Test func theSameContentSpelledOtherwiseIsADuplicate() throws {
        let log = try store.open()
        let original = try touchpoint(
            id: "e1", extra: #""channel":"email","repid":"r1""#, data: #"{"summary":"hi","n":1}"#)
        _ = try log.append([original])
        // Extensions in another order, data members in another order, other whitespace and number
        // spelling, the time with another offset: the same event.
        let respelled = try touchpoint(
            id: "e1", time: "2024-05-01T12:00:00+02:00", extra: #""repid":"r1","channel":"email""#,
            data: #"{ "n" : 1.0, "summary" : "hi" }"#)
        #expect(try log.append([respelled]).outcomes == [.duplicate(position: 1)])
    }

    @Test(arguments: [
        ("another customer", #"{"summary":"hi"}"#, "cus-2", "2024-05-01T10:00:00Z"),
        ("another time", #"{"summary":"hi"}"#, "cus-1", "2024-05-01T10:00:01Z"),
        ("other data", #"{"summary":"ho"}"#, "cus-1", "2024-05-01T10:00:00Z"),
    ])
    func otherContentUnderAKnownIdentityIsAConflict(
        what: String, data: String, customer: String, time: String
    ) throws {
        let log = try store.open()
        _ = try log.append([try touchpoint(id: "e1", data: #"{"summary":"hi"}"#)])
        let other = try touchpoint(id: "e1", customer: customer, time: time, data: data)
        let fresh = try touchpoint(id: "e2")
        // Reported: nothing stored for it, the rest of the batch commits.
        #expect(
            try log.append([other, fresh]).outcomes == [
                .conflict(position: 1), .appended(position: 2, version: 2),
            ], "\(what)")
        // Failing: nothing of the batch is written.
        let third = try touchpoint(id: "e3")
        #expect(throws: StoreError.identityConflict(source: "urn:test", id: "e1", position: 1, index: 1)) {
            try log.append([AppendRequest(third), AppendRequest(other)], conflicts: .fail)
        }
        #expect(try log.head().position == 2)
        #expect(try log.event(at: 1)?.event.subject == "cus-1")
    }

    @Test func aConflictWithAnEarlierEventOfTheSameBatchIsFound() throws {
        let log = try store.open()
        let first = try touchpoint(id: "e1", data: #"{"summary":"one"}"#)
        let second = try touchpoint(id: "e1", data: #"{"summary":"two"}"#)
        let result = try log.append([first, second, first])
        #expect(
            result.outcomes == [
                .appended(position: 1, version: 1), .conflict(position: 1), .duplicate(position: 1),
            ])
        #expect(result.conflicts == 1 && result.duplicates == 1 && result.appended == 1)
    }
}
