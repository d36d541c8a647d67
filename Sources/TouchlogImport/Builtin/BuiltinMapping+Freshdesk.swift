extension BuiltinMapping {
    /// Freshdesk's ticket export (CSV): one row per ticket.
    static let freshdesk = BuiltinMapping(
        name: "freshdesk",
        summary: "Freshdesk ticket export (CSV): one row per ticket, with the contact field Contact ID",
        toml: #"""
            # Freshdesk ticket export (Tickets > Export, CSV): one row per ticket, with the ticket fields Ticket ID,
            # Source, Priority, Agent, Created time, Initial response time, Resolved time, Closed time, Last update
            # time and Survey results, and the contact field Contact ID. Times are in the account's time zone:
            # set zone below to it (UTC here).
            source = "urn:freshdesk:tickets"

            [input]
            format = "csv"

            [tables.channels]                     # Source -> channel
            "Email" = "email"
            "Outbound Email" = "email"
            "Portal" = "web"
            "Feedback Widget" = "web"
            "Forum" = "web"
            "Ecommerce" = "web"
            "Phone" = "phone"
            "Chat" = "chat"
            "Mobihelp" = "chat"
            "WhatsApp" = "chat"
            "Twitter" = "social"
            "Facebook" = "social"
            "*" = "web"

            [tables.priorities]                   # Priority -> priority
            "Low" = "low"
            "Medium" = "normal"
            "High" = "high"
            "Urgent" = "urgent"

            [tables.ratings]                      # Survey results -> CSAT 1-5 (classic and 5-point surveys)
            "Awesome" = "5"
            "Extremely Happy" = "5"
            "Happy" = "4"
            "Neutral" = "3"
            "Unhappy" = "2"
            "Not Good" = "1"
            "Extremely Unhappy" = "1"
            "*" = ""                              # anything else: no rating

            [fields]
            ticket = { value = "fd-{Ticket ID}", required = true }
            customer = { value = "fd-contact-{Contact ID}", required = true }
            created = { value = "{Created time}", time = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"], zone = "UTC", required = true }
            first_response = { value = "{Initial response time}", time = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"], zone = "UTC" }
            resolved = { value = "{Resolved time}", time = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"], zone = "UTC" }
            closed = { value = "{Closed time}", time = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"], zone = "UTC" }
            updated = { value = "{Last update time}", time = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"], zone = "UTC" }
            channel = { value = "{Source}", table = "channels", default = "web" }
            priority = { value = "{Priority}", table = "priorities", default = "normal" }
            agent = { value = "{Agent}", slug = true, ignore = ["No Agent"] }
            rating = { value = "{Survey results}", table = "ratings", type = "integer" }

            [events.opened]
            type = "ticket.opened"
            id = "fd-{Ticket ID}/opened"
            time = "{created}"
            data = { priority = "{priority}" }

            [events.replied]                      # the first response, by the ticket's agent
            type = "ticket.replied"
            when.present = ["first_response", "agent"]
            id = "fd-{Ticket ID}/first-response"
            time = "{first_response}"
            rep = "fd-agent-{agent}"
            data = { author = "rep" }

            [events.solved]
            type = "ticket.solved"
            when.present = ["resolved"]
            id = "fd-{Ticket ID}/resolved"
            time = "{resolved}"
            rep = "fd-agent-{agent}"

            [events.closed]
            type = "ticket.closed"
            when.present = ["closed"]
            id = "fd-{Ticket ID}/closed"
            time = "{closed}"

            [events.csat]                         # when the rating came is not exported: dated at the last update
            type = "feedback.csat"
            when.present = ["rating", "updated"]
            id = "fd-{Ticket ID}/csat"
            time = "{updated}"
            data = { score = "{rating}" }
            """#)
}
