import CloudEvents
import TouchlogDomain
import TouchlogStore

/// A row of an incident in the order the updates happened, with the key that its events' ids use.
public struct OrderedRow: Sendable, Equatable {
    /// The row's place in the incident: its `sys_mod_count` as text, "0" for a repaired first row, and a
    /// suffix ("-2") for a later row that repeats a `sys_mod_count`.
    public var key: String
    public var row: IncidentRow
}

/// An incident's rows could not become valid events (an id too long, say): the row and the rule.
public struct IncidentMappingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { message }
}

/// Turns the rows of one incident into catalog events: the first row opens the ticket, each later row
/// becomes what changed since the row before it. Pure and deterministic: the same rows give the same
/// events with the same ids, so importing an export again appends nothing. The mapping is documented
/// in docs/SERVICENOW.md.
public struct IncidentMapper: Sendable {
    /// The `source` of every event.
    public var source: String

    public init(source: String = ServiceNowMapping.defaultSource) {
        self.source = source
    }

    /// The rows of one incident in the order they happened.
    ///
    /// Ordered by `sys_mod_count` (several updates can share a minute, so times cannot order them), then
    /// time, then line. One quirk is repaired: an incident with no row 0 whose `sys_mod_count` repeats has
    /// lost its first row's number, and the earliest of the repeated rows is that first row (in the UCI
    /// export, 5 incidents; the other order leaves them with updates before their creation).
    public static func order(_ rows: [IncidentRow]) -> [OrderedRow] {
        var counts: [Int: Int] = [:]
        for row in rows { counts[row.modCount, default: 0] += 1 }
        var effective = rows.map(\.modCount)
        if counts[0] == nil {
            let repeated = rows.indices.filter { counts[rows[$0].modCount, default: 0] > 1 }
            if let first = repeated.min(by: {
                (rows[$0].updatedAt, rows[$0].line) < (rows[$1].updatedAt, rows[$1].line)
            }) {
                effective[first] = 0
            }
        }
        let sorted = rows.indices.sorted {
            (effective[$0], rows[$0].updatedAt, rows[$0].line) < (
                effective[$1], rows[$1].updatedAt, rows[$1].line
            )
        }
        var ordered: [OrderedRow] = []
        ordered.reserveCapacity(rows.count)
        var previous: Int?
        var repeats = 1
        for index in sorted {
            let mods = effective[index]
            repeats = mods == previous ? repeats + 1 : 1
            previous = mods
            ordered.append(OrderedRow(key: repeats == 1 ? "\(mods)" : "\(mods)-\(repeats)", row: rows[index]))
        }
        return ordered
    }

    /// One event before it becomes a CloudEvent.
    private struct Draft {
        var type: String
        /// The last part of the id: what the event is about, unique within its row.
        var kind: String
        var row: Int
        var channel: Channel? = nil
        var repID: String? = nil
        var data: [JSONMember]? = nil
    }

    /// The events of one incident, given all its rows (in any order), in the order they happened.
    /// - Throws: `IncidentMappingError` when an event would break Touchlog's rules (an id longer than
    ///   256 bytes, say); the line is the row's.
    public func events(for rows: [IncidentRow]) throws(IncidentMappingError) -> [Touchpoint] {
        let ordered = IncidentMapper.order(rows)
        guard let first = ordered.first?.row else { return [] }
        var drafts: [Draft] = []
        drafts.reserveCapacity(ordered.count * 2)

        var opened: [JSONMember] = [JSONMember(key: "priority", value: .string(first.priority.rawValue))]
        if let openedAt = first.openedAt {
            opened.append(JSONMember(key: "openedat", value: .string(openedAt.rfc3339)))
        }
        if let openedBy = first.openedBy {
            opened.append(JSONMember(key: "openedby", value: .string(openedBy)))
        }
        if let category = first.category {
            opened.append(JSONMember(key: "category", value: .string(category)))
        }
        drafts.append(
            Draft(type: "ticket.opened", kind: "opened", row: 0, channel: first.channel, data: opened))

        // What the ticket is as of the row before; the first row is compared with a new, unassigned ticket.
        var state = IncidentState.new
        /// The state as written on the row before (`-100` included), and the last state that named one.
        var stateText = "New"
        var knownStateText = "New"
        var assignee: String? = nil
        var priority = first.priority
        var caller = first.caller
        var contactType = first.contactType

        func changed(_ field: String, _ value: String?, row: Int) -> Draft {
            Draft(
                type: "servicenow.field_changed", kind: "changed-\(field)", row: row,
                data: [
                    JSONMember(key: "field", value: .string(field)),
                    JSONMember(key: "value", value: value.map(JSONValue.string) ?? .null),
                ])
        }

        for (index, ordered) in ordered.enumerated() {
            let row = ordered.row
            var target: IncidentState?
            if case .unknown = row.state {
                // No state: keep the ticket's, but keep the fact.
                if row.stateText != stateText {
                    drafts.append(changed("incident_state", row.stateText, row: index))
                }
            } else if row.stateText != knownStateText {
                // A change of state, including between states that map alike (Awaiting Vendor -> Awaiting
                // Problem is on_hold -> on_hold, with a new reason).
                target = row.state
                knownStateText = row.stateText
            } else if row.stateText != stateText {
                // Back from a `-100` row to the state the ticket already had: the state is unchanged.
                drafts.append(changed("incident_state", row.stateText, row: index))
            }
            stateText = row.stateText
            var reopened = false
            if let target, state.isFinished, !target.isFinished {
                drafts.append(Draft(type: "ticket.reopened", kind: "reopened", row: index))
                reopened = true
            }
            if row.caller != caller {
                drafts.append(changed("caller_id", row.caller, row: index))
                caller = row.caller
            }
            if row.contactType != contactType {
                drafts.append(changed("contact_type", row.contactType, row: index))
                contactType = row.contactType
            }
            if row.assignee != assignee {
                if let rep = row.assignee {
                    drafts.append(Draft(type: "ticket.assigned", kind: "assigned", row: index, repID: rep))
                } else {
                    drafts.append(changed("assigned_to", nil, row: index))
                }
                assignee = row.assignee
            }
            if row.priority != priority {
                drafts.append(
                    Draft(
                        type: "ticket.priority_changed", kind: "priority", row: index,
                        data: [JSONMember(key: "priority", value: .string(row.priority.rawValue))]))
                priority = row.priority
            }
            guard let target else { continue }
            switch target {
            case .new:
                // Nothing returns to new in Touchlog's lifecycle: kept as a fact that projections ignore.
                drafts.append(changed("incident_state", row.stateText, row: index))
            case .active:
                if !reopened {
                    drafts.append(
                        Draft(
                            type: "ticket.status_changed", kind: "status", row: index,
                            data: [
                                JSONMember(key: "status", value: .string(SettableStatus.open.rawValue)),
                                JSONMember(key: "state", value: .string(row.stateText)),
                            ]))
                }
            case .awaiting(let status):
                drafts.append(
                    Draft(
                        type: "ticket.status_changed", kind: "status", row: index,
                        data: [
                            JSONMember(key: "status", value: .string(status.rawValue)),
                            JSONMember(key: "state", value: .string(row.stateText)),
                        ]))
            case .resolved:
                drafts.append(Draft(type: "ticket.solved", kind: "solved", row: index, repID: assignee))
            case .closed:
                drafts.append(Draft(type: "ticket.closed", kind: "closed", row: index))
            case .unknown:
                break
            }
            state = target
        }

        // Back-filled closure fields are true only from the last resolution and the last closing on.
        if let last = drafts.lastIndex(where: { $0.type == "ticket.solved" }),
            let resolvedBy = ordered[drafts[last].row].row.resolvedBy
        {
            drafts[last].data = [JSONMember(key: "resolvedby", value: .string(resolvedBy))]
        }
        if let last = drafts.lastIndex(where: { $0.type == "ticket.closed" }),
            let code = ordered[drafts[last].row].row.closedCode
        {
            drafts[last].data = [JSONMember(key: "closecode", value: .string(code))]
        }

        let customer = first.caller ?? ServiceNowMapping.unknownCaller
        var touchpoints: [Touchpoint] = []
        touchpoints.reserveCapacity(drafts.count)
        for draft in drafts {
            let row = ordered[draft.row]
            var extensions = [CloudEventExtension(name: "ticketid", value: .string(row.row.number))]
            if let channel = draft.channel {
                extensions.append(CloudEventExtension(name: "channel", value: .string(channel.rawValue)))
            }
            if let rep = draft.repID {
                extensions.append(CloudEventExtension(name: "repid", value: .string(rep)))
            }
            if let updater = row.row.updatedBy {
                extensions.append(CloudEventExtension(name: "updatedby", value: .string(updater)))
            }
            extensions.append(
                CloudEventExtension(name: "sysmodcount", value: .number(String(row.row.modCount))))
            var data: CloudEventData?
            if let members = draft.data {
                var bytes: [UInt8] = []
                JSONValue.object(members).write(into: &bytes)
                data = .json(bytes)
            }
            let event = CloudEvent(
                id: "\(row.row.number)/\(row.key)/\(draft.kind)", source: source, type: draft.type,
                subject: customer,
                time: row.row.updatedAt.rfc3339, datacontenttype: data == nil ? nil : "application/json",
                extensions: extensions, data: data)
            do {
                touchpoints.append(try Touchpoint(validating: event))
            } catch {
                throw IncidentMappingError(line: row.row.line, message: error.message)
            }
        }
        return touchpoints
    }
}
