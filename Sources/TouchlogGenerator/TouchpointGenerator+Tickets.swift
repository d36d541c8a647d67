/// The help-desk lifecycle of an open ticket: opening, each scheduled step, follow-ups, and the
/// slots tickets live in while open.
extension TouchpointGenerator {
    mutating func openTicket(for customer: Int, at time: Int64, into buffer: inout [UInt8]) {
        ticketCount += 1
        let number = ticketCount
        let priority = content.priority.pick(&random)
        let channel = content.ticketChannel.pick(&random)
        var ticket = TicketState(
            number: number, customer: Int32(customer), priority: UInt8(priority),
            channel: UInt8(channel))
        // A customer who writes again about an open issue often creates a duplicate that an
        // agent merges into the earlier ticket.
        let earlier = customers[customer].openTicket
        if earlier != 0 && random.chance(0.2) {
            ticket.step = .merge
            ticket.mergeInto = earlier
            ticket.mergeSlot = customers[customer].openTicketSlot
        }
        let slot = allocate(ticket)
        if ticket.step != .merge {
            customers[customer].openTicket = number
            customers[customer].openTicketSlot = Int32(slot)
        }

        begin("ticket.opened", customer: customer, at: time, into: &buffer)
        buffer.append(contentsOf: content.channelTags[channel])
        appendTicketTag(number, into: &buffer)
        buffer.appendLiteral(",\"data\":{")
        buffer.append(contentsOf: content.priorityFields[priority])
        if random.chance(0.9) {
            let summaries = content.ticketSummaryFields
            buffer.append(contentsOf: summaries[random.below(summaries.count)])
        }
        buffer.appendLiteral("}}")

        let wait =
            ticket.step == .merge
            ? delay(120, 6 * 3600) : delay(60, 8 * 3600, scale: ticket.priorityScale)
        queue.schedule(slot: Int32(slot), at: time + wait)
    }

    mutating func advanceTicket(in slot: Int, at time: Int64, into buffer: inout [UInt8]) {
        switch tickets[slot].step {
        case .merge:
            let ticket = tickets[slot]
            if tickets[Int(ticket.mergeSlot)].number == ticket.mergeInto {
                begin("ticket.merged", customer: Int(ticket.customer), at: time, into: &buffer)
                appendTicketTag(ticket.number, into: &buffer)
                buffer.appendLiteral(",\"data\":{\"into\":\"tkt-")
                buffer.appendDecimal(ticket.mergeInto, width: 7)
                buffer.appendLiteral("\"}}")
                release(slot)
            } else {
                // The earlier ticket closed meanwhile: this one is handled on its own.
                assign(slot, at: time, into: &buffer)
            }
        case .assign:
            assign(slot, at: time, into: &buffer)
        case .converse:
            converse(slot, at: time, into: &buffer)
        case .solve:
            var ticket = tickets[slot]
            begin("ticket.solved", customer: Int(ticket.customer), at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            appendRepresentativeTag(Int(ticket.representative), into: &buffer)
            buffer.append(UInt8(ascii: "}"))
            ticket.status = .solved
            ticket.step = .followUp
            ticket.csatDue = random.chance(0.38)
            ticket.cesDue = random.chance(0.12)
            ticket.reopenDue = ticket.reopens < 2 && random.chance(0.1)
            tickets[slot] = ticket
            scheduleFollowUp(slot, after: time)
        case .followUp:
            followUp(slot, at: time, into: &buffer)
        }
    }

    private mutating func assign(_ slot: Int, at time: Int64, into buffer: inout [UInt8]) {
        var ticket = tickets[slot]
        ticket.representative = Int32(representativeLoad.pick(&random))
        ticket.status = .open
        ticket.step = .converse
        ticket.awaitingCustomer = false
        ticket.turnsLeft = UInt8(1 + Self.turns.pick(&random))
        begin("ticket.assigned", customer: Int(ticket.customer), at: time, into: &buffer)
        appendTicketTag(ticket.number, into: &buffer)
        appendRepresentativeTag(Int(ticket.representative), into: &buffer)
        buffer.append(UInt8(ascii: "}"))
        let scale = ticket.priorityScale * ticket.channelScale
        tickets[slot] = ticket
        queue.schedule(slot: Int32(slot), at: time + delay(120, 86_400, scale: scale))
    }

    /// How many public rep replies a ticket needs before it is solved, minus one.
    private static let turns = WeightedChoice([32, 30, 18, 10, 6, 4])

    /// One step of the conversation on an open ticket.
    private mutating func converse(_ slot: Int, at time: Int64, into buffer: inout [UInt8]) {
        var ticket = tickets[slot]
        defer { tickets[slot] = ticket }
        let customer = Int(ticket.customer)
        let scale = ticket.priorityScale
        let replyScale = scale * ticket.channelScale

        if ticket.reassignDue {
            ticket.reassignDue = false
            var representative = representativeLoad.pick(&random)
            if configuration.representatives > 1 && representative == Int(ticket.representative) {
                representative =
                    (representative + 1 + random.below(configuration.representatives - 1))
                    % configuration.representatives
            }
            ticket.representative = Int32(representative)
            begin("ticket.assigned", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            appendRepresentativeTag(representative, into: &buffer)
            buffer.append(UInt8(ascii: "}"))
            queue.schedule(slot: Int32(slot), at: time + delay(300, 4 * 3600, scale: scale))
            return
        }
        if let status = ticket.statusDue {
            ticket.statusDue = nil
            ticket.status = status
            emitStatusChange(ticket, status, at: time, into: &buffer)
            let wait =
                status == .onHold
                ? delay(3600, 3 * 86_400) : delay(600, 3 * 86_400, scale: ticket.channelScale)
            queue.schedule(slot: Int32(slot), at: time + wait)
            return
        }
        if ticket.status == .onHold {
            // The third party answered: the representative picks the ticket up again.
            ticket.status = .open
            emitStatusChange(ticket, .open, at: time, into: &buffer)
            queue.schedule(slot: Int32(slot), at: time + delay(60, 4 * 3600, scale: scale))
            return
        }

        let roll = random.unit()
        if roll < 0.03 && ticket.escalations < 3 {
            ticket.escalations += 1
            begin("ticket.escalated", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            buffer.appendLiteral(",\"data\":{\"level\":")
            buffer.appendDecimal(Int(ticket.escalations))
            if random.chance(0.8) {
                let reasons = content.reasonFields
                buffer.append(contentsOf: reasons[random.below(reasons.count)])
            }
            buffer.appendLiteral("}}")
            ticket.reassignDue = random.chance(0.4)
            queue.schedule(slot: Int32(slot), at: time + delay(300, 8 * 3600, scale: scale))
        } else if roll < 0.06 {
            // Priorities mostly go up once a ticket drags on; sometimes an agent lowers one.
            let current = Int(ticket.priority)
            let raised = current < 3 && (current == 0 || random.chance(0.75))
            ticket.priority = UInt8(raised ? current + 1 : current - 1)
            begin("ticket.priority_changed", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            buffer.appendLiteral(",\"data\":{")
            buffer.append(contentsOf: content.priorityFields[Int(ticket.priority)])
            buffer.appendLiteral("}}")
            queue.schedule(slot: Int32(slot), at: time + delay(60, 4 * 3600, scale: scale))
        } else if roll < 0.10 && !ticket.awaitingCustomer {
            // An internal note: a rep reply the customer does not see.
            begin("ticket.replied", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            appendRepresentativeTag(Int(ticket.representative), into: &buffer)
            buffer.appendLiteral(",\"data\":{\"author\":\"rep\",\"public\":false}}")
            queue.schedule(slot: Int32(slot), at: time + delay(300, 8 * 3600, scale: scale))
        } else if !ticket.awaitingCustomer {
            begin("ticket.replied", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            appendRepresentativeTag(Int(ticket.representative), into: &buffer)
            buffer.appendLiteral(",\"data\":{\"author\":\"rep\",\"public\":true}}")
            ticket.status = .open
            ticket.turnsLeft -= 1
            if ticket.turnsLeft == 0 {
                ticket.step = .solve
                queue.schedule(slot: Int32(slot), at: time + delay(60, 2 * 86_400, scale: scale))
                return
            }
            let next = random.unit()
            if next < 0.6 {
                ticket.awaitingCustomer = true
                ticket.statusDue = .pending
                queue.schedule(slot: Int32(slot), at: time + delay(5, 300))
            } else if next < 0.66 {
                // Waiting on a third party (a carrier, a vendor), not on the customer.
                ticket.statusDue = .onHold
                queue.schedule(slot: Int32(slot), at: time + delay(5, 300))
            } else {
                ticket.awaitingCustomer = true
                queue.schedule(
                    slot: Int32(slot), at: time + delay(600, 3 * 86_400, scale: ticket.channelScale))
            }
        } else {
            // The customer answers (public by default: the catalog's `public` defaults to true).
            begin("ticket.replied", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            buffer.appendLiteral(",\"data\":{\"author\":\"customer\"}}")
            ticket.status = .open
            ticket.awaitingCustomer = false
            queue.schedule(slot: Int32(slot), at: time + delay(300, 86_400, scale: replyScale))
        }
    }

    private mutating func emitStatusChange(
        _ ticket: TicketState, _ status: TicketStatus, at time: Int64, into buffer: inout [UInt8]
    ) {
        begin("ticket.status_changed", customer: Int(ticket.customer), at: time, into: &buffer)
        appendTicketTag(ticket.number, into: &buffer)
        let index: Int
        switch status {
        case .pending: index = TouchpointContent.pending
        case .onHold: index = TouchpointContent.onHold
        default: index = TouchpointContent.open
        }
        buffer.append(contentsOf: content.statusData[index])
        buffer.append(UInt8(ascii: "}"))
    }

    /// After a solve: satisfaction surveys, maybe a reopen, and finally the close.
    private mutating func followUp(_ slot: Int, at time: Int64, into buffer: inout [UInt8]) {
        var ticket = tickets[slot]
        let customer = Int(ticket.customer)
        if ticket.csatDue {
            ticket.csatDue = false
            let troubled = ticket.reopens > 0 || ticket.escalations > 0
            let score = (troubled ? content.csatAfterTrouble : content.csat).pick(&random) + 1
            begin("feedback.csat", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            appendRepresentativeTag(Int(ticket.representative), into: &buffer)
            appendScoreData(score, into: &buffer)
            buffer.append(UInt8(ascii: "}"))
            tickets[slot] = ticket
            scheduleFollowUp(slot, after: time)
        } else if ticket.cesDue {
            ticket.cesDue = false
            begin("feedback.ces", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            appendScoreData(content.ces.pick(&random) + 1, into: &buffer)
            buffer.append(UInt8(ascii: "}"))
            tickets[slot] = ticket
            scheduleFollowUp(slot, after: time)
        } else if ticket.reopenDue {
            ticket.reopenDue = false
            ticket.reopens += 1
            if random.chance(0.6) {
                // The usual reopen: the customer answers the solved ticket.
                begin("ticket.replied", customer: customer, at: time, into: &buffer)
                appendTicketTag(ticket.number, into: &buffer)
                buffer.appendLiteral(",\"data\":{\"author\":\"customer\",\"public\":true}}")
            } else {
                begin("ticket.reopened", customer: customer, at: time, into: &buffer)
                appendTicketTag(ticket.number, into: &buffer)
                buffer.append(UInt8(ascii: "}"))
            }
            ticket.status = .open
            ticket.step = .converse
            ticket.awaitingCustomer = false
            ticket.turnsLeft = UInt8(1 + random.below(2))
            tickets[slot] = ticket
            let scale = ticket.priorityScale * ticket.channelScale
            queue.schedule(slot: Int32(slot), at: time + delay(300, 86_400, scale: scale))
        } else {
            begin("ticket.closed", customer: customer, at: time, into: &buffer)
            appendTicketTag(ticket.number, into: &buffer)
            buffer.append(UInt8(ascii: "}"))
            release(slot)
        }
    }

    private mutating func scheduleFollowUp(_ slot: Int, after time: Int64) {
        let ticket = tickets[slot]
        let wait: Int64
        if ticket.csatDue || ticket.cesDue {
            wait = delay(600, 2 * 86_400)
        } else if ticket.reopenDue {
            wait = delay(3600, 3 * 86_400)
        } else {
            // Help desks close solved tickets automatically after about four days.
            wait = delay(3 * 86_400, 5 * 86_400)
        }
        queue.schedule(slot: Int32(slot), at: time + wait)
    }

    private mutating func allocate(_ ticket: TicketState) -> Int {
        if let slot = freeSlots.popLast() {
            tickets[Int(slot)] = ticket
            return Int(slot)
        }
        tickets.append(ticket)
        return tickets.count - 1
    }

    private mutating func release(_ slot: Int) {
        let ticket = tickets[slot]
        let customer = Int(ticket.customer)
        if customers[customer].openTicket == ticket.number {
            customers[customer].openTicket = 0
        }
        tickets[slot].number = 0
        freeSlots.append(Int32(slot))
    }

    /// A waiting time in microseconds between `minimum` and `maximum` seconds, times `scale`.
    /// Cubing a uniform draw skews it towards the short end: the median is an eighth of the
    /// way, with a long tail (a minutes-to-days spread, as in help-desk data).
    @inline(__always)
    private mutating func delay(_ minimum: Int, _ maximum: Int, scale: Double = 1) -> Int64 {
        let draw = random.unit()
        let seconds = (Double(minimum) + Double(maximum - minimum) * draw * draw * draw) * scale
        return Swift.max(1_000_000, Int64(seconds * 1_000_000))
    }
}
