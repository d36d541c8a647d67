/// The vocabulary of generated touchpoints: channels, priorities, texts and their weights.
///
/// Every string is turned once into the exact JSON bytes it contributes (escaped, with its key),
/// so the hot path only copies bytes.
struct TouchpointContent: Sendable {
    // MARK: Channels (DESIGN.md section 1)

    static let channels = [
        "email", "phone", "chat", "web", "social", "self_service", "in_person", "ivr",
    ]
    static let email = 0, phone = 1, chat = 2, web = 3, social = 4, selfService = 5
    static let inPerson = 6, ivr = 7

    /// `,"channel":"email"` and so on, by channel index.
    let channelTags: [[UInt8]]

    /// Channels customers open tickets on: email leads, then chat and phone, then web forms.
    let ticketChannel = WeightedChoice([38, 18, 20, 15, 5, 0, 1, 3])
    /// Channels of an inbound contact that does not become a ticket.
    let inboundChannel = WeightedChoice([34, 30, 18, 0, 9, 0, 4, 5])
    /// Channels a representative reaches out on.
    let outboundChannel = WeightedChoice([62, 28, 4, 0, 6, 0, 0, 0])
    /// Help-center views: mostly the self-service portal, some plain website pages.
    let viewChannel = WeightedChoice([0, 0, 0, 40, 0, 60, 0, 0])

    // MARK: Tickets

    static let priorities = ["low", "normal", "high", "urgent"]
    /// `"priority":"low"` and so on.
    let priorityFields: [[UInt8]]
    /// Most tickets are normal; urgent ones are rare (help-desk benchmarks put them near 5%).
    let priority = WeightedChoice([20, 56, 18, 6])

    static let statuses = ["open", "pending", "on_hold"]
    static let open = 0, pending = 1, onHold = 2
    /// `{"status":"open"}` and so on.
    let statusData: [[UInt8]]

    static let ticketSummaries = [
        "Can't log in to my account",
        "Invoice shows the wrong amount",
        "Order hasn't arrived yet",
        "Refund still pending after 10 days",
        "Password reset email never arrives",
        "App crashes when I tap \"Checkout\"",
        "Wrong size delivered, need an exchange",
        "Charged twice for the same order",
        "How do I change my delivery address?",
        "Export to CSV fails with error \"E42\"",
        "Discount code \"SPRING24\" not accepted",
        "Item arrived damaged",
        "Please cancel my subscription",
        "Two-factor codes not received by SMS",
        "Question about the warranty",
        "Sync stuck at 99%",
        "Upload from C:\\Users\\me\\export is rejected",
        "Café order missing – please help",
        "Tracking says \"label created\" for a week",
        "Need a copy of my receipt",
    ]
    /// `,"summary":"..."` by summary index.
    let ticketSummaryFields: [[UInt8]]

    static let escalationReasons = [
        "sla_risk", "customer_request", "technical_complexity", "vip_customer", "complaint",
    ]
    /// `,"reason":"..."` by reason index.
    let reasonFields: [[UInt8]]

    // MARK: Contacts, self-service, orders

    static let inboundSummaries = [
        "Asked about delivery window",
        "Requested an invoice copy",
        "Follow-up on an open order",
        "Pricing question",
        "Complained about wait time",
        "Feedback: \"great service\"",
        "Asked to update billing details",
        "Wanted to know store opening hours",
    ]
    let inboundSummaryFields: [[UInt8]]

    static let outboundSummaries = [
        "Proactive notice about an outage",
        "Renewal reminder",
        "Shipping delay notice",
        "Survey invitation",
        "Called back as promised",
        "Welcome call",
    ]
    let outboundSummaryFields: [[UInt8]]

    static let articles = [
        "reset-your-password", "track-your-order", "returns-and-refunds",
        "change-delivery-address", "update-payment-method", "cancel-subscription",
        "two-factor-authentication", "download-invoices", "warranty-claims", "shipping-times",
        "export-data-to-csv", "discount-codes", "delete-your-account", "gift-cards", "size-guide",
        "mobile-app-troubleshooting",
    ]
    /// `{"article":"..."}` by article index.
    let articleData: [[UInt8]]
    /// A few articles (password, tracking, returns) draw most of the traffic.
    let article = WeightedChoice([22, 20, 14, 6, 6, 5, 6, 5, 3, 5, 2, 3, 1, 1, 2, 4])

    static let currencies = ["EUR", "USD", "GBP", "CHF"]
    /// `,"currency":"EUR"}` (closing the data object) by currency index.
    let currencyFields: [[UInt8]]
    let currency = WeightedChoice([50, 30, 15, 5])

    // MARK: Feedback

    /// CSAT is J-shaped: mostly 5s, some 4s, a bump of angry 1s (scores 1...5).
    let csat = WeightedChoice([9, 5, 9, 22, 55])
    /// After a reopen or an escalation, ratings are worse.
    let csatAfterTrouble = WeightedChoice([24, 14, 18, 22, 22])
    /// Customer effort (1 = very easy ... 7 = very hard) is mostly low (scores 1...7).
    let ces = WeightedChoice([25, 28, 18, 11, 8, 6, 4])
    /// NPS answers cluster at 8-10 with a long tail of detractors (scores 0...10).
    let nps = WeightedChoice([3, 2, 2, 3, 3, 7, 6, 12, 20, 19, 23])

    // MARK: What starts an activity

    enum Activity: Int {
        case ticket, contactReceived, contactSent, view, order, refund, nps
    }
    /// Per mille. Tickets add ~8 events each, so ticket events are about two thirds of the output.
    let activity = WeightedChoice([190, 170, 110, 290, 165, 45, 30])

    init() {
        func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
        func escaped(_ prefix: String, _ text: String, _ suffix: String) -> [UInt8] {
            var result = bytes(prefix)
            result.appendJSONEscaped(text)
            result.append(contentsOf: bytes(suffix))
            return result
        }
        channelTags = Self.channels.map { escaped(",\"channel\":\"", $0, "\"") }
        priorityFields = Self.priorities.map { escaped("\"priority\":\"", $0, "\"") }
        statusData = Self.statuses.map { escaped(",\"data\":{\"status\":\"", $0, "\"}") }
        ticketSummaryFields = Self.ticketSummaries.map { escaped(",\"summary\":\"", $0, "\"") }
        reasonFields = Self.escalationReasons.map { escaped(",\"reason\":\"", $0, "\"") }
        inboundSummaryFields = Self.inboundSummaries.map {
            escaped(",\"data\":{\"summary\":\"", $0, "\"}")
        }
        outboundSummaryFields = Self.outboundSummaries.map {
            escaped(",\"data\":{\"summary\":\"", $0, "\"}")
        }
        articleData = Self.articles.map { escaped(",\"data\":{\"article\":\"", $0, "\"}") }
        currencyFields = Self.currencies.map { escaped(",\"currency\":\"", $0, "\"}") }
    }
}
