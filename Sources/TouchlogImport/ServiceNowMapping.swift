import CloudEvents
import TouchlogDomain
import TouchlogStore

/// The mapping tables from ServiceNow's incident fields to Touchlog's catalog (docs/SERVICENOW.md).
public enum ServiceNowMapping {
    /// The default `source` of imported events: names the ServiceNow incident audit export.
    public static let defaultSource = "urn:servicenow:incident-event-log"

    /// The customer of an incident whose caller is unknown (`?` on every row).
    public static let unknownCaller = "unknown-caller"

    /// `contact_type` -> channel.
    public static let channels: [String: Channel] = [
        "Phone": .phone,
        "Email": .email,
        "Self service": .selfService,
        "IVR": .ivr,
        // Opened directly by a service-desk agent, at the desk: the customer came in person.
        "Direct opening": .inPerson,
        // Not in the UCI export, but standard ServiceNow choices.
        "Walk-in": .inPerson,
        "Chat": .chat,
        "Virtual Agent": .chat,
        "Web": .web,
        "Social": .social,
    ]

    /// `priority` -> priority.
    public static let priorities: [String: Priority] = [
        "1 - Critical": .urgent,
        "2 - High": .high,
        "3 - Moderate": .normal,
        "4 - Low": .low,
        // Standard ServiceNow choice, absent from the UCI export: planning work, the lowest priority.
        "5 - Planning": .low,
    ]

    /// `incident_state` -> what it means for the ticket.
    public static let states: [String: IncidentState] = [
        "New": .new,
        "Active": .active,
        "In Progress": .active,
        "Awaiting User Info": .awaiting(.pending),
        "Awaiting Caller": .awaiting(.pending),
        "Awaiting Vendor": .awaiting(.onHold),
        "Awaiting Problem": .awaiting(.onHold),
        "Awaiting Evidence": .awaiting(.onHold),
        "Awaiting Change": .awaiting(.onHold),
        "On Hold": .awaiting(.onHold),
        "Resolved": .resolved,
        "Closed": .closed,
    ]

    /// Turns a ServiceNow reference such as "Caller 2403", "Opened by  8" or "Resolver 89" into a Touchlog
    /// identifier: ASCII letters in lower case, each run of spaces or tabs replaced by one hyphen, leading and
    /// trailing ones dropped ("caller-2403", "opened-by-8"). Works on the UTF-8 bytes: it runs for every
    /// reference of every row.
    public static func identifier(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var pendingSeparator = false
        for byte in text.utf8 {
            if byte == 0x20 || byte == 0x09 {
                pendingSeparator = !bytes.isEmpty
                continue
            }
            if pendingSeparator {
                bytes.append(UInt8(ascii: "-"))
                pendingSeparator = false
            }
            bytes.append(byte &- 0x41 < 26 ? byte + 0x20 : byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// What an `incident_state` means for the ticket.
public enum IncidentState: Sendable, Equatable {
    /// New: the ticket is open and not yet worked on.
    case new
    /// Active (being worked on): Touchlog's `open`.
    case active
    /// Waiting: on the caller (`pending`) or on someone else (`on_hold`).
    case awaiting(SettableStatus)
    /// Resolved: Touchlog's `solved`.
    case resolved
    /// Closed: terminal.
    case closed
    /// A value ServiceNow wrote but that names no state (`-100`): the row is imported, the state is
    /// left as it was.
    case unknown(String)

    /// Whether the state counts as finished work (reopening starts from here).
    var isFinished: Bool { self == .resolved || self == .closed }
}
