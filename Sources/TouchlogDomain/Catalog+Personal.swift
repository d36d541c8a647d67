import CloudEvents

/// Which parts of an event are personal data (DESIGN.md section 8): a store of format 3 keeps them
/// encrypted under the customer's own key, and erasing the customer destroys that key. Everything
/// else (the event's metadata, the tags, the `data` members named here) stays in the clear, is hashed
/// into the chain, and outlives an erasure, so projections fold an erased customer's events exactly
/// as before.
extension Catalog {
    /// Extension attributes that are personal: a producer's contact details of the customer. The
    /// subject (the customer id) and `data` apart from `clearDataMembers(ofType:)` are personal too.
    public static let personalExtensions: Set<String> = [
        "email", "phone", "name", "customername", "address", "ipaddress",
    ]

    /// Whether the extension attribute `name` is personal.
    public static func isPersonal(extension name: String) -> Bool { personalExtensions.contains(name) }

    /// The members of a known type's `data` that are not personal: the codes, scores and amounts the
    /// projections fold. The rest of `data` (summaries, reasons, any member not named here) and all of
    /// the `data` of unknown and system types is personal.
    public static func clearDataMembers(ofType type: String) -> [String] {
        switch KnownType(name: type) {
        case .ticketOpened, .ticketPriorityChanged: ["priority"]
        case .ticketReplied: ["author", "public"]
        case .ticketStatusChanged: ["status"]
        case .ticketEscalated: ["level"]
        case .ticketMerged: ["into"]
        case .csat, .nps, .ces: ["score"]
        case .orderPlaced, .orderRefunded: ["order", "amount", "currency"]
        case .selfServiceViewed: ["article"]
        default: []
        }
    }
}

/// The event types Touchlog itself appends (`touchlog erase`, `touchlog hold`). No producer may send
/// them (`Touchpoint(validating:)` refuses the `touchlog.` prefix), so a hold cannot be released nor an
/// erasure faked from outside. Their `data` is personal, like that of every type but the catalog's.
public enum SystemType: String, CaseIterable, Sendable {
    /// `data`: `{"matter": TEXT}`: a legal hold on the customer's history.
    case holdPlaced = "touchlog.hold.placed"
    /// `data`: `{"matter": TEXT}`: the hold of that matter ends.
    case holdReleased = "touchlog.hold.released"
    /// `data`: `{"reason": TEXT}`: the customer asked to be forgotten; the erasure follows.
    case erasureRequested = "touchlog.erasure.requested"
    /// `data`: `{"reason": TEXT, "matters": [TEXT, ...]}`: an erasure refused under a hold.
    case erasureRefused = "touchlog.erasure.refused"
    /// No `data`, no subject left: the customer's key and content are destroyed (appended to the
    /// stream under its pseudonym).
    case erasureCompleted = "touchlog.erasure.completed"

    /// The prefix of every system type.
    public static let prefix = "touchlog."

    /// What the type records, for `touchlog catalog`.
    public var summary: String {
        switch self {
        case .holdPlaced: "a legal hold on the customer (data.matter); erasure is refused while one holds"
        case .holdReleased: "the hold of data.matter ends"
        case .erasureRequested: "the customer asked to be forgotten (data.reason)"
        case .erasureRefused: "an erasure refused under a hold (data.reason, data.matters)"
        case .erasureCompleted: "the customer's key and personal content are destroyed"
        }
    }
}
