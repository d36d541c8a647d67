extension BuiltinMapping {
    /// ServiceNow's incident audit export (docs/SERVICENOW.md): one row per update of an incident.
    static let serviceNow = BuiltinMapping(
        name: "servicenow",
        summary: "ServiceNow incident audit export (CSV): one row per update of an incident",
        toml: #"""
            # ServiceNow incident audit export (CSV): one row per update of an incident, as in the UCI data set
            # "Incident management process enriched event log". docs/SERVICENOW.md explains each choice.
            source = "urn:servicenow:incident-event-log"
            null = ["?", ""]                      # ServiceNow writes ? for no value

            [input]
            format = "csv"

            [case]
            id = "{number}"                       # an incident's rows are one case
            sequence = "sys_mod_count"            # in update order (several updates share a minute)
            repair_lost_first = true              # a case with no row 0 whose sys_mod_count repeats lost its first row's number

            [tables.channels]                     # contact_type -> channel
            "Phone" = "phone"
            "Email" = "email"
            "Self service" = "self_service"
            "IVR" = "ivr"
            "Direct opening" = "in_person"        # opened by an agent at the desk
            "Walk-in" = "in_person"
            "Chat" = "chat"
            "Virtual Agent" = "chat"
            "Web" = "web"
            "Social" = "social"

            [tables.priorities]                   # priority -> priority
            "1 - Critical" = "urgent"
            "2 - High" = "high"
            "3 - Moderate" = "normal"
            "4 - Low" = "low"
            "5 - Planning" = "low"

            [tables.statuses]                     # incident_state -> what it means for the ticket
            "New" = "new"
            "Active" = "open"
            "In Progress" = "open"
            "Awaiting User Info" = "pending"
            "Awaiting Caller" = "pending"
            "Awaiting Vendor" = "on_hold"
            "Awaiting Problem" = "on_hold"
            "Awaiting Evidence" = "on_hold"
            "Awaiting Change" = "on_hold"
            "On Hold" = "on_hold"
            "Resolved" = "solved"
            "Closed" = "closed"

            [fields]
            ticket = { value = "{number}", required = true }
            time = { value = "{sys_updated_at}", required = true, time = ["%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"], zone = "UTC" }
            caller = { value = "{caller_id}", slug = true }
            customer = { value = "{caller}", default = "unknown-caller", keep = "first" }
            contact = { value = "{contact_type}", table = "channels", required = true }
            priority = { value = "{priority}", table = "priorities", required = true }
            assignee = { value = "{assigned_to}", slug = true }
            updater = { value = "{sys_updated_by}", slug = true }
            mods = { value = "{sys_mod_count}", type = "integer", required = true }
            # The state as written, and the last one that names a state (-100 names none).
            written_state = { value = "{incident_state}", start = "New", required = true }
            state = { value = "{incident_state}", ignore = ["-100"], keep = "last", start = "New" }
            status = { value = "{state}", table = "statuses", keep = "last", start = "new" }
            opened_at = { value = "{opened_at}", time = ["%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"], zone = "UTC" }
            opened_by = { value = "{opened_by}", slug = true }
            resolved_by = { value = "{resolved_by}", slug = true }
            # Read by --verify only.
            reopen_count = { value = "{reopen_count}", type = "integer" }
            made_sla = { value = "{made_sla}", type = "boolean" }

            [extensions]                          # on every event
            updatedby = "{updater}"
            sysmodcount = "{mods}"

            [events.opened]
            type = "ticket.opened"
            when.first = true
            id = "{number}/{@row}/opened"
            channel = "{contact}"
            data = { priority = "{priority}", openedat = "{opened_at}", openedby = "{opened_by}", category = "{category}" }

            [events.state_noted]                  # -100, or back from it to the state the ticket had
            type = "servicenow.field_changed"
            when = { changed = ["written_state"], unchanged = ["state"] }
            id = "{number}/{@row}/changed-incident_state"
            data = { field = "incident_state", value = "{written_state}" }

            [events.reopened]
            type = "ticket.reopened"
            when = { changed = ["state"], is = { "prev.status" = ["solved", "closed"] }, is_not = { status = ["solved", "closed"] } }
            id = "{number}/{@row}/reopened"

            [events.caller_changed]
            type = "servicenow.field_changed"
            when = { first = false, changed = ["caller"] }
            id = "{number}/{@row}/changed-caller_id"
            data = { field = "caller_id", value = { value = "{caller}", missing = "null" } }

            [events.contact_changed]
            type = "servicenow.field_changed"
            when = { first = false, changed = ["contact_type"] }
            id = "{number}/{@row}/changed-contact_type"
            data = { field = "contact_type", value = "{contact_type}" }

            [events.assigned]
            type = "ticket.assigned"
            when = { changed = ["assignee"], present = ["assignee"] }
            id = "{number}/{@row}/assigned"
            rep = "{assignee}"

            [events.unassigned]
            type = "servicenow.field_changed"
            when = { changed = ["assignee"], absent = ["assignee"] }
            id = "{number}/{@row}/changed-assigned_to"
            data = { field = "assigned_to", value = { value = "{assignee}", missing = "null" } }

            [events.priority_changed]
            type = "ticket.priority_changed"
            when = { first = false, changed = ["priority"] }
            id = "{number}/{@row}/priority"
            data = { priority = "{priority}" }

            [events.back_to_new]                  # nothing returns to new in Touchlog's lifecycle: kept as a fact
            type = "servicenow.field_changed"
            when = { changed = ["state"], is = { status = "new" } }
            id = "{number}/{@row}/changed-incident_state"
            data = { field = "incident_state", value = "{state}" }

            [events.active]                       # after a reopen, the reopened event says it
            type = "ticket.status_changed"
            when = { changed = ["state"], is = { status = "open" }, is_not = { "prev.status" = ["solved", "closed"] } }
            id = "{number}/{@row}/status"
            data = { status = "open", state = "{state}" }

            [events.waiting]
            type = "ticket.status_changed"
            when = { changed = ["state"], is = { status = ["pending", "on_hold"] } }
            id = "{number}/{@row}/status"
            data = { status = "{status}", state = "{state}" }

            [events.solved]
            type = "ticket.solved"
            when = { changed = ["state"], is = { status = "solved" } }
            id = "{number}/{@row}/solved"
            rep = "{assignee}"
            last_data = { resolvedby = "{resolved_by}" }   # back-filled: true only from the last resolution

            [events.closed]
            type = "ticket.closed"
            when = { changed = ["state"], is = { status = "closed" } }
            id = "{number}/{@row}/closed"
            last_data = { closecode = "{closed_code}" }    # back-filled: true only from the last closing
            """#)
}
