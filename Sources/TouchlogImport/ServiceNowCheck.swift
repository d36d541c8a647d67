import CloudEvents
import TouchlogDomain
import TouchlogStore

/// What the checks need to know about an incident from the export itself: its last row's counters.
public struct IncidentFacts: Sendable, Equatable {
    public var number: String
    /// `reopen_count` on the incident's last row.
    public var reopenCount: Int?
    /// `made_sla` on the incident's last row.
    public var madeSLA: Bool?

    public init(number: String, reopenCount: Int?, madeSLA: Bool?) {
        self.number = number
        self.reopenCount = reopenCount
        self.madeSLA = madeSLA
    }

    /// The facts of a case imported with the built-in ServiceNow mapping (its fields `reopen_count` and
    /// `made_sla`).
    public init?(_ mapped: MappedCase) {
        guard let number = mapped.id else { return nil }
        self.init(
            number: number, reopenCount: mapped.lastField("reopen_count").flatMap { Int($0) },
            madeSLA: mapped.lastField("made_sla").map { $0 == "true" })
    }
}

/// Checks an imported export against its own counters: folds the imported tickets from the log with
/// `TicketLifecycle.apply` and compares them with `reopen_count` and `made_sla` on each incident's last row.
public struct ServiceNowCheck {
    /// One ticket, folded from the log.
    public struct Ticket: Sendable, Equatable {
        public var customer: String
        public var status: TicketStatus?
        public var priority: Priority = .normal
        public var opened: Timestamp?
        /// The last time the ticket was solved.
        public var solved: Timestamp?
        public var closed: Timestamp?
        public var reopens = 0
        /// Why events broke the lifecycle, in order.
        public var anomalies: [String] = []

        /// Minutes from opening to the last resolution (or the closing, for a ticket closed unsolved).
        public var resolutionMinutes: Int64? {
            guard let opened, let end = solved ?? closed else { return nil }
            return (end.microsecondsSinceEpoch - opened.microsecondsSinceEpoch) / 60_000_000
        }
    }

    /// The `source` of the built-in ServiceNow mapping.
    public static let defaultSource = "urn:servicenow:incident-event-log"

    /// The tickets of `source`, by ticket id.
    public private(set) var tickets: [String: Ticket] = [:]
    /// Customers that opened tickets.
    public private(set) var customers: Set<String> = []
    /// Reps that tickets were assigned to.
    public private(set) var reps: Set<String> = []
    /// Events of `source` read from the log.
    public private(set) var events = 0

    /// Folds every event of `source` in `log`, in log order.
    public init(log: EventLog, source: String = ServiceNowCheck.defaultSource) throws {
        try log.forEachEvent { stored in
            if stored.event.source == source { try fold(Touchpoint(validating: stored.event)) }
            return true
        }
    }

    /// Folds the given touchpoints, in order (tests).
    public init(touchpoints: [Touchpoint]) {
        for touchpoint in touchpoints { fold(touchpoint) }
    }

    private mutating func fold(_ touchpoint: Touchpoint) {
        events += 1
        guard let ticketID = touchpoint.ticketID, let kind = touchpoint.kind else { return }
        var ticket = tickets[ticketID] ?? Ticket(customer: touchpoint.customer)
        if let transition = TicketLifecycle.apply(kind, to: ticket.status) {
            ticket.status = transition.status
            if transition.reopened { ticket.reopens += 1 }
            if let anomaly = transition.anomaly { ticket.anomalies.append(anomaly) }
        }
        switch kind {
        case .ticketOpened(let priority, _):
            ticket.opened = touchpoint.occurredAt
            ticket.priority = priority
            customers.insert(touchpoint.customer)
        case .ticketAssigned:
            if let rep = touchpoint.repID { reps.insert(rep) }
        case .ticketPriorityChanged(let priority):
            ticket.priority = priority
        case .ticketSolved:
            ticket.solved = touchpoint.occurredAt
        case .ticketClosed:
            ticket.closed = touchpoint.occurredAt
        default:
            break
        }
        tickets[ticketID] = ticket
    }

    /// Candidate SLA resolution targets, in minutes: round figures from 30 minutes to 30 days.
    public static let candidateTargets: [Int64] = [
        30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 5760, 7200, 10080, 14400, 20160, 30240, 43200,
    ]

    /// How the folded tickets compare with the export's own counters.
    public struct Report: Sendable, Equatable, Codable {
        public var tickets = 0
        public var customers = 0
        public var reps = 0
        public var events = 0
        /// Tickets with at least one lifecycle anomaly, and the anomalies in all.
        public var anomalousTickets = 0
        public var anomalies = 0
        /// Tickets whose folded reopens equal `reopen_count` on the incident's last row.
        public var reopenAgreements = 0
        /// The others (ticket ids, sorted).
        public var reopenExceptions: [String] = []
        /// Per priority: the target (minutes) that agrees best with `made_sla`, and how often it agrees.
        public var sla: [SLAFit] = []
        public var slaAgreements = 0
        public var slaTickets = 0
        /// Incidents of the export that have no ticket in the log, and tickets with no incident.
        public var missingTickets: [String] = []
    }

    /// The SLA fit of one priority.
    public struct SLAFit: Sendable, Equatable, Codable {
        public var priority: String
        public var tickets: Int
        public var targetMinutes: Int64
        public var agreements: Int
        /// Tickets with `made_sla` true.
        public var madeSLA: Int
    }

    /// Compares with the facts of each incident (its last row). SLA: for each priority (the ticket's last),
    /// a ticket made its SLA when its resolution took at most the target; `targets` fixes the target of a
    /// priority, otherwise the candidate that agrees best with `made_sla` is chosen (the smallest on a tie).
    public func report(facts: [IncidentFacts], targets: [Priority: Int64] = [:]) -> Report {
        var report = Report()
        report.tickets = tickets.count
        report.customers = customers.count
        report.reps = reps.count
        report.events = events
        for ticket in tickets.values where !ticket.anomalies.isEmpty {
            report.anomalousTickets += 1
            report.anomalies += ticket.anomalies.count
        }
        var samples: [Priority: [(minutes: Int64, made: Bool)]] = [:]
        for fact in facts {
            guard let ticket = tickets[fact.number] else {
                report.missingTickets.append(fact.number)
                continue
            }
            if ticket.reopens == fact.reopenCount {
                report.reopenAgreements += 1
            } else {
                report.reopenExceptions.append(fact.number)
            }
            if let made = fact.madeSLA, let minutes = ticket.resolutionMinutes {
                samples[ticket.priority, default: []].append((minutes, made))
            }
        }
        report.reopenExceptions.sort()
        report.missingTickets.sort()
        for priority in Priority.allCases.reversed() {
            guard let list = samples[priority], !list.isEmpty else { continue }
            func agreements(_ target: Int64) -> Int { list.count { ($0.minutes <= target) == $0.made } }
            let target =
                targets[priority]
                ?? ServiceNowCheck.candidateTargets.max {
                    agreements($0) < agreements($1) || (agreements($0) == agreements($1) && $0 > $1)
                }!
            let fit = SLAFit(
                priority: priority.rawValue, tickets: list.count, targetMinutes: target,
                agreements: agreements(target),
                madeSLA: list.count { $0.made })
            report.sla.append(fit)
            report.slaAgreements += fit.agreements
            report.slaTickets += fit.tickets
        }
        return report
    }
}
