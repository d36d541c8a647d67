extension BuiltinMapping {
    /// Zendesk ticket audits (JSON): each audit's events (Create, Change, Comment, SatisfactionRating).
    static let zendesk = BuiltinMapping(
        name: "zendesk",
        summary:
            "Zendesk ticket audits (JSON: API pages {\"audits\": [...]}, a JSON array or JSON Lines of audits)",
        toml: #"""
            # Zendesk ticket audits (Support API, GET /api/v2/tickets/{id}/audits or /api/v2/ticket_audits): each
            # audit has id, ticket_id, created_at, author_id, via.channel and an array of events; each event of an
            # audit is one row. See docs/IMPORT.md for what is and is not mapped.
            source = "urn:zendesk:ticket-audits"

            [input]
            format = "json"
            records = "audits"                    # an API page holds its audits in "audits"; a bare audit is one record
            each = "events"                       # one row per element of the audit's "events"

            [case]
            id = "{ticket_id}"                    # a ticket's audits are one case, in time order

            [tables.channels]                     # via.channel -> channel
            "email" = "email"
            "mail" = "email"
            "web" = "web"
            "web_form" = "web"
            "web_widget" = "web"
            "api" = "web"
            "web_service" = "web"
            "mobile" = "web"
            "mobile_sdk" = "web"
            "chat" = "chat"
            "native_messaging" = "chat"
            "voice" = "phone"
            "phone_call_inbound" = "phone"
            "phone_call_outbound" = "phone"
            "twitter" = "social"
            "facebook" = "social"
            "instagram_dm" = "social"
            "*" = "web"                           # any other via type

            [tables.statuses]                     # a ticket's status -> Touchlog's
            "new" = "new"
            "open" = "open"
            "pending" = "pending"
            "hold" = "on_hold"
            "solved" = "solved"
            "closed" = "closed"
            "*" = ""                              # the value of any other field: no status

            [tables.scores]                       # satisfaction score -> CSAT 1-5; offered/unoffered: none
            "good" = "5"
            "bad" = "1"
            "*" = ""

            [fields]
            ticket = "zd-{ticket_id}"
            time = { value = "{created_at}", time = "rfc3339", required = true }
            customer = { value = "zd-user-{author_id}", keep = "first" }   # who made the ticket's first audit
            channel_of_audit = { value = "{via.channel}", table = "channels", default = "web" }
            kind = "{events.type}"
            changed_field = "{events.field_name}"
            status = { value = "{events.value}", table = "statuses" }
            previous_status = "{events.previous_value}"
            comment_author = "zd-user-{events.author_id}"
            public = { value = "{events.public}", type = "boolean", default = "true" }
            score = { value = "{events.score}", table = "scores", type = "integer" }

            [events.opened]
            type = "ticket.opened"
            when.first = true
            id = "zd-{ticket_id}/opened"
            channel = "{first.channel_of_audit}"

            [events.priority]
            type = "ticket.priority_changed"
            when = { is = { kind = ["Create", "Change"], changed_field = "priority" }, present = ["events.value"] }
            id = "zd-{ticket_id}/{events.id}"
            data = { priority = "{events.value}" }

            [events.assigned]
            type = "ticket.assigned"
            when = { is = { kind = ["Create", "Change"], changed_field = "assignee_id" }, present = ["events.value"] }
            id = "zd-{ticket_id}/{events.id}"
            rep = "zd-user-{events.value}"

            [events.reopened]
            type = "ticket.reopened"
            when = { is = { kind = "Change", changed_field = "status", previous_status = ["solved", "closed"], "events.value" = ["new", "open", "pending", "hold"] } }
            id = "zd-{ticket_id}/{events.id}/reopened"

            [events.opened_again]                 # open after new or pending (after solved, reopened says it)
            type = "ticket.status_changed"
            when = { is = { kind = "Change", changed_field = "status", "events.value" = "open" }, is_not = { previous_status = ["solved", "closed"] } }
            id = "zd-{ticket_id}/{events.id}"
            data = { status = "open" }

            [events.waiting]
            type = "ticket.status_changed"
            when = { is = { kind = "Change", changed_field = "status", "events.value" = ["pending", "hold"] } }
            id = "zd-{ticket_id}/{events.id}"
            data = { status = "{status}" }

            [events.solved]
            type = "ticket.solved"
            when = { is = { kind = "Change", changed_field = "status", "events.value" = "solved" } }
            id = "zd-{ticket_id}/{events.id}"

            [events.closed]
            type = "ticket.closed"
            when = { is = { kind = "Change", changed_field = "status", "events.value" = "closed" } }
            id = "zd-{ticket_id}/{events.id}"

            [events.customer_comment]             # a comment by the requester after the ticket's first audit
            type = "ticket.replied"
            when = { is = { kind = "Comment", comment_author = "{customer}" }, is_not = { id = "{first.id}" } }
            id = "zd-{ticket_id}/{events.id}"
            data = { author = "customer", public = "{public}" }

            [events.rep_comment]                  # a comment by anyone else: an agent
            type = "ticket.replied"
            when = { is = { kind = "Comment" }, is_not = { comment_author = "{customer}" }, present = ["events.author_id"] }
            id = "zd-{ticket_id}/{events.id}"
            rep = "{comment_author}"
            data = { author = "rep", public = "{public}" }

            [events.csat]
            type = "feedback.csat"
            when = { is = { kind = "SatisfactionRating" }, present = ["score"] }
            id = "zd-{ticket_id}/{events.id}"
            data = { score = "{score}" }
            """#)
}
