import Foundation
import Testing
import TouchlogGenerator

/// Checks every generated event against DESIGN.md sections 1 and 2, written out independently
/// of the generator's own tables.
@Suite struct CatalogConformanceTests {
    static let attributeOrder = [
        "specversion", "id", "source", "type", "subject", "time", "channel", "ticketid", "repid",
        "data",
    ]
    static let channels: Set = [
        "email", "phone", "chat", "web", "social", "self_service", "in_person", "ivr",
    ]
    static let priorities: Set = ["low", "normal", "high", "urgent"]

    enum Tag { case required, optional, absent }

    /// type -> (channel, ticketid, repid, data keys required, data keys allowed)
    struct Rule {
        var channel: Tag
        var ticket: Tag
        var representative: Tag
        var required: Set<String>
        var allowed: Set<String>
    }

    static let catalog: [String: Rule] = [
        "contact.received": Rule(
            channel: .required, ticket: .absent, representative: .absent, required: [], allowed: ["summary"]),
        "contact.sent": Rule(
            channel: .required, ticket: .absent, representative: .required, required: [], allowed: ["summary"]
        ),
        "ticket.opened": Rule(
            channel: .required, ticket: .required, representative: .absent, required: ["priority"],
            allowed: ["priority", "summary"]),
        "ticket.assigned": Rule(
            channel: .absent, ticket: .required, representative: .required, required: [], allowed: []),
        "ticket.replied": Rule(
            channel: .absent, ticket: .required, representative: .optional, required: ["author"],
            allowed: ["author", "public"]),
        "ticket.status_changed": Rule(
            channel: .absent, ticket: .required, representative: .absent, required: ["status"],
            allowed: ["status"]),
        "ticket.priority_changed": Rule(
            channel: .absent, ticket: .required, representative: .absent, required: ["priority"],
            allowed: ["priority"]),
        "ticket.escalated": Rule(
            channel: .absent, ticket: .required, representative: .absent, required: [],
            allowed: ["level", "reason"]),
        "ticket.solved": Rule(
            channel: .absent, ticket: .required, representative: .optional, required: [], allowed: []),
        "ticket.reopened": Rule(
            channel: .absent, ticket: .required, representative: .absent, required: [], allowed: []),
        "ticket.closed": Rule(
            channel: .absent, ticket: .required, representative: .absent, required: [], allowed: []),
        "ticket.merged": Rule(
            channel: .absent, ticket: .required, representative: .absent, required: ["into"],
            allowed: ["into"]),
        "feedback.csat": Rule(
            channel: .absent, ticket: .optional, representative: .optional, required: ["score"],
            allowed: ["score"]),
        "feedback.nps": Rule(
            channel: .absent, ticket: .absent, representative: .absent, required: ["score"],
            allowed: ["score"]),
        "feedback.ces": Rule(
            channel: .absent, ticket: .optional, representative: .absent, required: ["score"],
            allowed: ["score"]),
        "order.placed": Rule(
            channel: .absent, ticket: .absent, representative: .absent,
            required: ["order", "amount", "currency"], allowed: ["order", "amount", "currency"]),
        "order.refunded": Rule(
            channel: .absent, ticket: .absent, representative: .absent,
            required: ["order", "amount", "currency"], allowed: ["order", "amount", "currency"]),
        "selfservice.viewed": Rule(
            channel: .required, ticket: .absent, representative: .absent, required: ["article"],
            allowed: ["article"]),
    ]

    /// Whether `text` is `prefix` followed by exactly `digits` decimal digits (or at least
    /// one digit when `digits` is nil).
    static func isIdentifier(_ text: String, _ prefix: String, digits: Int?) -> Bool {
        guard text.hasPrefix(prefix) else { return false }
        let rest = text.utf8.dropFirst(prefix.utf8.count)
        guard !rest.isEmpty, rest.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        return digits.map { rest.count == $0 } ?? true
    }

    /// A positive decimal with exactly two fraction digits and no superfluous leading zero.
    static func isAmount(_ raw: Substring) -> Bool {
        let parts = raw.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 2, !parts[0].isEmpty,
            (parts[0] + parts[1]).allSatisfy({ $0.isASCII && $0.isNumber }),
            parts[0] == "0" || !parts[0].hasPrefix("0")
        else { return false }
        return raw != "0.00"
    }

    func check(_ event: GeneratedEvent) {
        let text = event.text
        #expect(!event.bytes.contains(UInt8(ascii: "\n")), "multi-line: \(text)")
        #expect(event.bytes.last == UInt8(ascii: "}"))

        // Attributes: required first, in the fixed order, nothing else.
        #expect(Array(event.keys.prefix(6)) == Array(Self.attributeOrder.prefix(6)), "\(text)")
        let positions = event.keys.map { Self.attributeOrder.firstIndex(of: $0) ?? -1 }
        #expect(!positions.contains(-1), "unexpected attribute in \(text)")
        #expect(positions == positions.sorted() && Set(positions).count == positions.count, "\(text)")

        #expect(event.object["specversion"] as? String == "1.0")
        #expect(event.object["source"] as? String == "urn:touchlog:generator")
        let idParts = event.id.split(separator: "-")
        #expect(idParts.count == 3 && idParts[0] == "evt" && idParts[1].count == 16, "\(event.id)")
        #expect(idParts.count == 3 && idParts[1].allSatisfy(\.isHexDigit) && Int(idParts[2]) != nil)
        #expect(Self.isIdentifier(event.subject, "cus-", digits: 6), "\(event.subject)")
        #expect(event.time.utf8.count == 20 && event.seconds != nil, "not RFC 3339: \(event.time)")

        guard let rule = Self.catalog[event.type] else {
            Issue.record("type outside the catalog: \(text)")
            return
        }
        func checkTag(_ value: String?, _ tag: Tag, _ name: String) {
            switch tag {
            case .required: #expect(value != nil, "\(name) missing: \(text)")
            case .absent: #expect(value == nil, "unexpected \(name): \(text)")
            case .optional: break
            }
        }
        checkTag(event.channel, rule.channel, "channel")
        checkTag(event.ticket, rule.ticket, "ticketid")
        checkTag(event.representative, rule.representative, "repid")
        if let channel = event.channel { #expect(Self.channels.contains(channel), "\(text)") }
        if let ticket = event.ticket { #expect(Self.isIdentifier(ticket, "tkt-", digits: 7), "\(text)") }
        if let rep = event.representative { #expect(Self.isIdentifier(rep, "rep-", digits: 4), "\(text)") }

        // Data: omitted when the type has no fields, else an object with the catalog's keys.
        guard let data = event.data else {
            #expect(event.object["data"] == nil, "data is not an object: \(text)")
            #expect(rule.required.isEmpty, "data missing: \(text)")
            return
        }
        #expect(!rule.allowed.isEmpty, "data on a type without data: \(text)")
        #expect(rule.required.isSubset(of: data.keys), "\(text)")
        #expect(Set(data.keys).isSubset(of: rule.allowed), "\(text)")
        if let summary = data["summary"] { #expect((summary as? String)?.isEmpty == false) }

        switch event.type {
        case "ticket.opened", "ticket.priority_changed":
            #expect(Self.priorities.contains(data["priority"] as? String ?? ""), "\(text)")
        case "ticket.replied":
            let author = data["author"] as? String
            #expect(author == "rep" || author == "customer", "\(text)")
            #expect((author == "rep") == (event.representative != nil), "repid iff rep: \(text)")
            if data["public"] != nil {
                #expect(text.contains("\"public\":true") || text.contains("\"public\":false"))
            }
            if text.contains("\"public\":false") { #expect(author == "rep") }
        case "ticket.status_changed":
            #expect(["open", "pending", "on_hold"].contains(data["status"] as? String ?? ""))
        case "ticket.escalated":
            if data["level"] != nil {
                #expect((1...3).contains(event.rawInteger("level") ?? 0), "\(text)")
            }
            if let reason = data["reason"] { #expect(reason is String) }
        case "ticket.merged":
            let into = data["into"] as? String ?? ""
            #expect(Self.isIdentifier(into, "tkt-", digits: 7) && into != event.ticket, "\(text)")
        case "feedback.csat":
            #expect((1...5).contains(event.rawInteger("score") ?? -1), "\(text)")
        case "feedback.nps":
            #expect((0...10).contains(event.rawInteger("score") ?? -1), "\(text)")
        case "feedback.ces":
            #expect((1...7).contains(event.rawInteger("score") ?? -1), "\(text)")
        case "order.placed", "order.refunded":
            #expect(Self.isIdentifier(data["order"] as? String ?? "", "ord-", digits: 7), "\(text)")
            let currency = data["currency"] as? String ?? ""
            #expect(currency.count == 3 && currency.allSatisfy(\.isUppercase), "\(text)")
            // The raw number has exactly two decimals and is positive.
            #expect(event.rawValue("amount").map(Self.isAmount) == true, "\(text)")
            #expect(((data["amount"] as? NSNumber)?.doubleValue ?? 0) > 0)
        case "selfservice.viewed":
            #expect(event.channel == "web" || event.channel == "self_service", "\(text)")
            #expect((data["article"] as? String)?.isEmpty == false)
        default:
            break
        }
    }

    @Test func everyEventFollowsTheCatalog() throws {
        let events = try generateEvents(GeneratorConfiguration(seed: 9, events: 20_000, customers: 400))
        for event in events { check(event) }
        // The whole catalog shows up, including the rare types.
        let types = Set(events.map(\.type))
        #expect(types == Set(Self.catalog.keys), "missing: \(Set(Self.catalog.keys).subtracting(types))")
        #expect(Set(events.compactMap(\.channel)) == Self.channels.subtracting([]))
    }

    @Test func distributionsLookRealistic() throws {
        let events = try generateEvents(GeneratorConfiguration(seed: 4, events: 40_000, customers: 800))
        func share(_ events: [GeneratedEvent], _ predicate: (GeneratedEvent) -> Bool) -> Double {
            Double(events.filter(predicate).count) / Double(max(events.count, 1))
        }
        let opened = events.filter { $0.type == "ticket.opened" }
        let normal = share(opened) { $0.data?["priority"] as? String == "normal" }
        let urgent = share(opened) { $0.data?["priority"] as? String == "urgent" }
        #expect(normal > 0.45 && normal < 0.67, "normal priority share \(normal)")
        #expect(urgent > 0.02 && urgent < 0.12, "urgent priority share \(urgent)")
        #expect(share(opened) { $0.channel == "email" } > 0.25)

        let csat = events.filter { $0.type == "feedback.csat" }.compactMap { $0.rawInteger("score") }
        let positive = Double(csat.filter { $0 >= 4 }.count) / Double(max(csat.count, 1))
        #expect(csat.count > 100 && positive > 0.6 && positive < 0.9, "CSAT 4-5 share \(positive)")

        let privateNotes = events.filter { $0.text.contains("\"public\":false") }.count
        let replies = events.filter { $0.type == "ticket.replied" }.count
        #expect(privateNotes > 0 && Double(privateNotes) < 0.2 * Double(replies))

        let ticketEvents = share(events) { $0.ticket != nil }
        #expect(ticketEvents > 0.4 && ticketEvents < 0.85, "ticket events share \(ticketEvents)")
        // Orders are priced like shop items: mostly tens of euros, a few hundreds.
        let amounts = events.filter { $0.type == "order.placed" }
            .compactMap { ($0.data?["amount"] as? NSNumber)?.doubleValue }.sorted()
        let medianAmount = amounts[amounts.count / 2]
        #expect(medianAmount > 15 && medianAmount < 150, "median order \(medianAmount)")
    }

    @Test func summariesRoundTripThroughJSONEscaping() throws {
        let events = try generateEvents(GeneratorConfiguration(seed: 2, events: 20_000, customers: 400))
        let summaries = Set(events.compactMap { $0.data?["summary"] as? String })
        #expect(summaries.contains { $0.contains("\"") }, "a summary with quotes")
        #expect(summaries.contains("Upload from C:\\Users\\me\\export is rejected"))
        #expect(summaries.contains("Café order missing – please help"))
    }
}
