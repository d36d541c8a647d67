import CloudEvents
import Testing
import TouchlogDomain

/// `Catalog.entries` (what `touchlog catalog` prints) says what `Catalog.decode` checks: for every type,
/// an event with the listed tags and the required fields' examples is valid, and leaving out any one of
/// them is rejected naming it.
@Suite struct CatalogDescriptionTests {
    /// Example values of the tags.
    static let tagValues = ["channel": #""chat""#, "ticketid": #""tkt-1""#, "repid": #""rep-1""#]

    /// The event of `entry` with `tags` and the examples of `fields` (in the data object; none: no data).
    func event(_ entry: CatalogEntry, tags: [String], fields: [CatalogEntry.Field]) throws -> CloudEvent {
        var text =
            #"{"specversion":"1.0","id":"e1","source":"urn:t","type":"\#(entry.name)","subject":"c1","time":"2024-05-01T10:00:00Z""#
        for tag in tags { text += #","\#(tag)":\#(Self.tagValues[tag]!)"# }
        if !fields.isEmpty {
            text +=
                #","data":{"# + fields.map { #""\#($0.name)":\#($0.example)"# }.joined(separator: ",") + "}"
        }
        return try CloudEvent(json: Array((text + "}").utf8))
    }

    func rejection(_ event: CloudEvent) -> CloudEventError? {
        do {
            _ = try Touchpoint(validating: event)
            return nil
        } catch { return error }
    }

    @Test func everyKnownTypeIsDescribedInCodeOrder() {
        #expect(Catalog.entries.map(\.name) == Catalog.knownTypes)
        #expect(Set(Catalog.entries.flatMap(\.tags)).isSubset(of: Set(Catalog.tags.map(\.name))))
    }

    @Test(arguments: Catalog.entries.map(\.name))
    func theDescriptionIsWhatDecodeChecks(name: String) throws {
        let entry = try #require(Catalog.entries.first { $0.name == name })
        let required = entry.fields.filter(\.required)
        let tags = entry.tags
        // A conditional tag is given when its condition holds for the examples ("author": "customer" does not need repid).
        if let conditional = entry.conditionalTag { #expect(!tags.contains(conditional.tag)) }
        let minimal = try event(entry, tags: tags, fields: required)
        #expect(rejection(minimal) == nil, "\(name) with its tags and required fields")
        let full = try event(entry, tags: tags, fields: entry.fields)
        #expect(try Touchpoint(validating: full).kind != nil, "\(name) with every field")
        for tag in entry.tags {
            let without = try event(entry, tags: entry.tags.filter { $0 != tag }, fields: required)
            #expect(rejection(without)?.attribute == tag, "\(name) without \(tag)")
        }
        for field in required {
            let without = try event(entry, tags: tags, fields: required.filter { $0 != field })
            #expect(
                rejection(without)?.attribute == "data.\(field.name)", "\(name) without data.\(field.name)")
        }
    }

    @Test func aReplyByARepNeedsTheRepTag() throws {
        let entry = try #require(Catalog.entries.first { $0.type == .ticketReplied })
        #expect(entry.conditionalTag?.tag == "repid")
        var byRep = entry.fields
        byRep[0].example = #""rep""#
        #expect(rejection(try event(entry, tags: entry.tags, fields: byRep))?.attribute == "repid")
        #expect(rejection(try event(entry, tags: entry.tags + ["repid"], fields: byRep)) == nil)
    }
}
