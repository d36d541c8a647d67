import Testing
import TouchlogDomain

/// The ticket lifecycle, rule by rule (docs/PROJECTIONS.md, "Ticket lifecycle", L1-L9): every kind
/// of ticket event from every status, and from no status (no `ticket.opened` before it).
@Suite struct LifecycleRuleTests {
    /// One kind of event and what it does from each starting status.
    struct Row: Sendable, CustomTestStringConvertible {
        var rules: String
        var type: String
        var kind: TouchpointKind
        /// The outcome from nil, new, open, pending, on_hold, solved and closed, in that order: the
        /// status after the event, then `^` if it counts a reopen, `@` if it asks for follow-up, `!` if
        /// it is an anomaly.
        var outcomes: [String]
        var testDescription: String { "\(rules) \(type) \(kind)" }
    }

    static let starts: [TicketStatus?] = [nil, .new, .open, .pending, .onHold, .solved, .closed]

    static let rows: [Row] = [
        Row(
            rules: "L1 L2 L8", type: "ticket.opened", kind: .ticketOpened(priority: .normal, summary: nil),
            outcomes: ["new", "new!", "open!", "pending!", "on_hold!", "solved!", "closed!"]),
        Row(
            rules: "L2 L3 L8", type: "ticket.assigned", kind: .ticketAssigned,
            outcomes: ["open!", "open", "open", "pending", "on_hold", "solved", "closed!"]),
        Row(
            rules: "L2 L3 L8", type: "ticket.replied", kind: .ticketReplied(author: .rep, isPublic: true),
            outcomes: ["open!", "open", "open", "pending", "on_hold", "solved", "closed!"]),
        Row(
            rules: "L2 L3 L8", type: "ticket.replied", kind: .ticketReplied(author: .rep, isPublic: false),
            outcomes: ["new!", "new", "open", "pending", "on_hold", "solved", "closed!"]),
        Row(
            rules: "L2 L4 L8", type: "ticket.replied",
            kind: .ticketReplied(author: .customer, isPublic: true),
            outcomes: ["new!", "new", "open", "open", "open", "open^", "closed@!"]),
        Row(
            rules: "L2 L4 L8", type: "ticket.replied",
            kind: .ticketReplied(author: .customer, isPublic: false),
            outcomes: ["new!", "new", "open", "open", "open", "open^", "closed@!"]),
        Row(
            rules: "L2 L5 L8", type: "ticket.status_changed", kind: .ticketStatusChanged(.open),
            outcomes: ["open!", "open", "open", "open", "open", "open^", "open!"]),
        Row(
            rules: "L2 L5 L8", type: "ticket.status_changed", kind: .ticketStatusChanged(.pending),
            outcomes: ["pending!", "pending", "pending", "pending", "pending", "pending^", "pending!"]),
        Row(
            rules: "L2 L5 L8", type: "ticket.status_changed", kind: .ticketStatusChanged(.onHold),
            outcomes: ["on_hold!", "on_hold", "on_hold", "on_hold", "on_hold", "on_hold^", "on_hold!"]),
        Row(
            rules: "L2 L6 L8", type: "ticket.solved", kind: .ticketSolved,
            outcomes: ["solved!", "solved", "solved", "solved", "solved", "solved", "solved!"]),
        Row(
            rules: "L2 L6 L8", type: "ticket.reopened", kind: .ticketReopened,
            outcomes: ["new!", "new!", "open!", "pending!", "on_hold!", "open^", "open^!"]),
        Row(
            rules: "L2 L7 L8", type: "ticket.closed", kind: .ticketClosed,
            outcomes: ["closed!", "closed", "closed", "closed", "closed", "closed", "closed!"]),
        Row(
            rules: "L2 L7 L8", type: "ticket.merged", kind: .ticketMerged(into: "t2"),
            outcomes: ["closed!", "closed", "closed", "closed", "closed", "closed", "closed!"]),
        Row(
            rules: "L2 L8 L9", type: "ticket.priority_changed", kind: .ticketPriorityChanged(.urgent),
            outcomes: ["new!", "new", "open", "pending", "on_hold", "solved", "closed!"]),
        Row(
            rules: "L2 L8 L9", type: "ticket.escalated", kind: .ticketEscalated(level: "2", reason: nil),
            outcomes: ["new!", "new", "open", "pending", "on_hold", "solved", "closed!"]),
    ]

    @Test(arguments: rows)
    func eachKindFromEachStatus(_ row: Row) throws {
        try #require(row.outcomes.count == Self.starts.count)
        for (start, outcome) in zip(Self.starts, row.outcomes) {
            let from = start?.rawValue ?? "nil"
            let transition = try #require(TicketLifecycle.apply(row.kind, to: start), "from \(from)")
            let status = outcome.prefix { $0.isLetter || $0 == "_" }
            #expect(transition.status.rawValue == status, "from \(from)")
            #expect(transition.reopened == outcome.contains("^"), "reopened, from \(from)")
            #expect(transition.followUp == outcome.contains("@"), "follow-up, from \(from)")
            #expect((transition.anomaly != nil) == outcome.contains("!"), "anomaly, from \(from)")
        }
    }

    @Test(arguments: rows)
    func anomaliesSayWhichRuleWasBroken(_ row: Row) throws {
        // L2: before any opening, the anomaly says so first.
        if let anomaly = TicketLifecycle.apply(row.kind, to: nil)?.anomaly {
            #expect(anomaly.hasPrefix(TicketLifecycle.beforeOpeningAnomaly))
        }
        // L8: on a closed ticket it names the event, or says that nobody will see the customer's reply.
        let closed = try #require(TicketLifecycle.apply(row.kind, to: .closed)?.anomaly)
        if case .ticketReplied(.customer, _) = row.kind {
            #expect(closed == "customer wrote on a closed ticket; nobody will see it")
        } else {
            #expect(closed.hasPrefix("\(row.type) after it was closed"))
        }
    }

    @Test func anomalyTexts() {
        func anomaly(_ kind: TouchpointKind, _ current: TicketStatus?) -> String? {
            TicketLifecycle.apply(kind, to: current)?.anomaly
        }
        #expect(
            anomaly(.ticketOpened(priority: .low, summary: nil), .pending)
                == "ticket opened again (it is pending)")
        #expect(anomaly(.ticketAssigned, nil) == "happened before the ticket was opened")
        #expect(
            anomaly(.ticketReopened, nil)
                == "happened before the ticket was opened; reopened while new (only solved tickets reopen)")
        #expect(anomaly(.ticketReopened, .onHold) == "reopened while on_hold (only solved tickets reopen)")
        #expect(anomaly(.ticketReopened, .closed) == "ticket.reopened after it was closed (closed -> open)")
        #expect(
            anomaly(.ticketStatusChanged(.onHold), .closed)
                == "ticket.status_changed after it was closed (closed -> on_hold)")
        #expect(anomaly(.ticketAssigned, .closed) == "ticket.assigned after it was closed")
        #expect(anomaly(.ticketClosed, .closed) == "ticket.closed after it was closed")
    }

    /// Walks `kinds` from no status and returns the status reached and the reopens counted.
    private func walk(_ kinds: [TouchpointKind]) throws -> (TicketStatus?, Int) {
        var status: TicketStatus?
        var reopens = 0
        for kind in kinds {
            let transition = try #require(TicketLifecycle.apply(kind, to: status))
            status = transition.status
            if transition.reopened { reopens += 1 }
        }
        return (status, reopens)
    }

    @Test func leavingSolvedForOnHoldAndSolvingAgainCountsOneReopen() throws {
        let opened = TouchpointKind.ticketOpened(priority: .normal, summary: nil)
        let (status, reopens) = try walk([
            opened, .ticketAssigned, .ticketSolved, .ticketStatusChanged(.onHold), .ticketSolved,
        ])
        #expect(status == .solved)
        #expect(reopens == 1)
        // Closed, then reopened and solved again (Closed -> Active in real exports): one reopen.
        let (again, reopensAgain) = try walk([
            opened, .ticketSolved, .ticketClosed, .ticketReopened, .ticketSolved,
        ])
        #expect(again == .solved)
        #expect(reopensAgain == 1)
    }

    @Test func kindsThatDoNotConcernATicketHaveNoTransition() {
        let kinds: [TouchpointKind] = [
            .contactReceived(summary: nil), .contactSent(summary: "hi"), .csat(score: 5), .nps(score: 9),
            .ces(score: 2), .orderPlaced(order: "o1", amount: Decimal2(cents: 100), currency: "EUR"),
            .orderRefunded(order: "o1", amount: Decimal2(cents: 100), currency: "EUR"),
            .selfServiceViewed(article: "a1"),
        ]
        for kind in kinds {
            for start in Self.starts {
                #expect(
                    TicketLifecycle.apply(kind, to: start) == nil, "\(kind) from \(start?.rawValue ?? "nil")")
            }
        }
    }
}
