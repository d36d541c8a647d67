/// A value that stored records hold as a one-byte code.
///
/// The codes are a disk format, so each is written out in a table and never derived from the order
/// of the cases: a new case takes the next unused code, and no code is ever changed or reused
/// (CatalogTests pins each one).
public protocol StableCode: CaseIterable {
    /// The value's code in stored records.
    var code: UInt8 { get }
}

extension StableCode {
    /// The value whose code is `code`; nil when no value has it.
    public init?(code: UInt8) {
        guard let found = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = found
    }
}

extension KnownType: StableCode {
    public var code: UInt8 { rawValue }
}

extension Channel: StableCode {
    public var code: UInt8 {
        switch self {
        case .email: 0
        case .phone: 1
        case .chat: 2
        case .web: 3
        case .social: 4
        case .selfService: 5
        case .inPerson: 6
        case .ivr: 7
        }
    }
}

extension Priority: StableCode {
    public var code: UInt8 {
        switch self {
        case .low: 0
        case .normal: 1
        case .high: 2
        case .urgent: 3
        }
    }
}

extension TicketStatus: StableCode {
    public var code: UInt8 {
        switch self {
        case .new: 0
        case .open: 1
        case .pending: 2
        case .onHold: 3
        case .solved: 4
        case .closed: 5
        }
    }
}
