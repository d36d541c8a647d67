/// Where a ticket stands in the help-desk lifecycle (DESIGN.md section 3).
enum TicketStatus: UInt8, Sendable {
    case new, open, pending, onHold, solved
}

/// What an open ticket does at its next scheduled step.
enum TicketStep: UInt8, Sendable {
    /// Merge into the customer's earlier open ticket (a duplicate).
    case merge
    case assign
    /// Replies, status changes, escalations, priority changes.
    case converse
    case solve
    /// Surveys, a reopen or the close.
    case followUp
}

/// An open ticket in the simulation; slots are reused after a close or merge.
struct TicketState: Sendable {
    /// The ticket number, 0 when the slot is free.
    var number: Int
    var customer: Int32
    var representative: Int32 = -1
    var priority: UInt8
    var channel: UInt8
    var step = TicketStep.assign
    var status = TicketStatus.new
    var statusDue: TicketStatus? = nil
    var awaitingCustomer = false
    var reassignDue = false
    var csatDue = false
    var cesDue = false
    var reopenDue = false
    var turnsLeft: UInt8 = 0
    var escalations: UInt8 = 0
    var reopens: UInt8 = 0
    var mergeInto = 0
    var mergeSlot: Int32 = -1

    init(number: Int, customer: Int32, priority: UInt8, channel: UInt8) {
        self.number = number
        self.customer = customer
        self.priority = priority
        self.channel = channel
    }

    /// Urgent tickets move five times faster than normal ones, low ones slower.
    var priorityScale: Double {
        switch priority {
        case 0: 1.5
        case 1: 1.0
        case 2: 0.5
        default: 0.2
        }
    }

    /// Chat and phone conversations go back and forth in minutes, not hours.
    var channelScale: Double {
        Int(channel) == TouchpointContent.chat || Int(channel) == TouchpointContent.phone
            ? 0.1 : 1.0
    }
}
