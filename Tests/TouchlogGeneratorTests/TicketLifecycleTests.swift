import Foundation
import Testing
import TouchlogGenerator

/// Follows every ticket through its events in arrival order (DESIGN.md section 3).
@Suite struct TicketLifecycleTests {
    struct Ticket {
        var customer: String
        var status: String  // new, open, pending, on_hold, solved, closed, merged
        var assignee: String?
        var opened: Int64
        var wasSolved = false
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func ticketsFollowTheLifecycle(seed: UInt64) throws {
        let events = try generateEvents(
            GeneratorConfiguration(seed: seed, events: 30_000, customers: 300, lateFraction: 0))
        var tickets: [String: Ticket] = [:]
        var counts: [String: Int] = [:]
        for event in events {
            guard let id = event.ticket else { continue }
            counts[event.type, default: 0] += 1
            let text = event.text
            let seconds = try #require(event.seconds)
            if event.type == "ticket.opened" {
                #expect(tickets[id] == nil, "opened twice: \(text)")
                tickets[id] = Ticket(customer: event.subject, status: "new", opened: seconds)
                continue
            }
            guard var ticket = tickets[id] else {
                Issue.record("event before ticket.opened: \(text)")
                continue
            }
            #expect(event.subject == ticket.customer, "ticket changed customer: \(text)")
            #expect(ticket.status != "closed" && ticket.status != "merged", "after the end: \(text)")
            #expect(seconds >= ticket.opened)
            let data = event.data
            switch event.type {
            case "ticket.assigned":
                #expect(event.representative != nil)
                ticket.assignee = event.representative
                if ticket.status == "new" { ticket.status = "open" }
            case "ticket.replied":
                #expect(ticket.assignee != nil, "reply before assignment: \(text)")
                if data?["author"] as? String == "rep" {
                    #expect(event.representative == ticket.assignee, "reply by another rep: \(text)")
                    if !text.contains("\"public\":false") { ticket.status = "open" }
                } else {
                    ticket.status = "open"
                }
            case "ticket.status_changed":
                #expect(ticket.status != "solved" && ticket.status != "new", "\(text)")
                ticket.status = data?["status"] as? String ?? "?"
            case "ticket.solved":
                #expect(
                    ticket.status == "open" || ticket.status == "pending",
                    "solved from \(ticket.status): \(text)")
                #expect(event.representative == ticket.assignee)
                ticket.status = "solved"
                ticket.wasSolved = true
            case "ticket.reopened":
                #expect(ticket.status == "solved", "reopened from \(ticket.status)")
                ticket.status = "open"
            case "ticket.closed":
                #expect(ticket.status == "solved", "closed from \(ticket.status): \(text)")
                ticket.status = "closed"
            case "ticket.merged":
                #expect(ticket.status == "new", "merged after work started: \(text)")
                let into = try #require(data?["into"] as? String)
                let target = try #require(tickets[into], "merged into an unknown ticket: \(text)")
                #expect(target.customer == ticket.customer, "merged across customers: \(text)")
                #expect(
                    target.status != "closed" && target.status != "merged", "into a closed ticket: \(text)")
                ticket.status = "merged"
            case "feedback.csat", "feedback.ces":
                #expect(ticket.status == "solved", "feedback on an unsolved ticket: \(text)")
                if event.type == "feedback.csat" { #expect(event.representative == ticket.assignee) }
            case "ticket.escalated", "ticket.priority_changed":
                #expect(ticket.status != "solved" && ticket.status != "new")
            default:
                Issue.record("unexpected ticket event \(text)")
            }
            tickets[id] = ticket
        }
        // The lifecycle is exercised in full, not just started.
        for type in [
            "ticket.assigned", "ticket.replied", "ticket.status_changed", "ticket.solved",
            "ticket.reopened", "ticket.closed", "ticket.merged", "ticket.escalated",
            "ticket.priority_changed", "feedback.csat", "feedback.ces",
        ] {
            #expect(counts[type, default: 0] > 0, "no \(type)")
        }
        let closed = tickets.values.filter { $0.status == "closed" }.count
        #expect(closed > tickets.count / 2, "\(closed) of \(tickets.count) tickets closed")
        // Reopens through a customer reply after solve happen as well as explicit ones.
        #expect(
            tickets.values.contains { $0.status == "on_hold" }
                || counts["ticket.status_changed", default: 0] > 0)
    }

    @Test func ticketStepsAreMinutesToDaysApart() throws {
        let events = try generateEvents(
            GeneratorConfiguration(events: 20_000, customers: 300, lateFraction: 0))
        var opened: [String: Int64] = [:]
        var durations: [Int64] = []
        for event in events {
            guard let id = event.ticket, let seconds = event.seconds else { continue }
            if event.type == "ticket.opened" { opened[id] = seconds }
            if event.type == "ticket.closed", let start = opened[id] { durations.append(seconds - start) }
        }
        durations.sort()
        let median = try #require(durations.isEmpty ? nil : durations[durations.count / 2])
        #expect(median > 2 * 86_400 && median < 14 * 86_400, "median ticket lasts \(median) s")
    }
}
