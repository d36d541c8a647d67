extension Rules {
    /// The built-in rules, documented line by line; `touchlog rules show` prints exactly this text.
    public static let defaultText = #"""
        # Touchlog projection rules (TOML). `touchlog rules show` prints these built-in rules;
        # copy them, change values, and apply them with `touchlog rebuild --rules FILE`
        # (`--dry-run` first shows whose tier and which SLA flags would change).
        # Comments, spacing and key order do not matter: the rules hash recorded with each
        # projection covers the values only. Every key below is required (except in
        # [sla.applies], whose keys may be left out: empty), and unknown keys are an error.
        # Times are EVENT times (the events' `time`), never the wall clock.

        # Your name for this set of rules; recorded with every projection built from them.
        version = "1"

        # An observation (a rating, an order, a breached SLA, ...) counts half as much once the
        # customer's latest event is this many days later, a quarter after twice as many, ...
        half_life_days = 90.0

        # Service-level targets per ticket priority, in whole minutes from `ticket.opened`.
        # first_reply_minutes: until the first public reply by a rep.
        # resolution_minutes: until the ticket is solved (or closed or merged without a solve).
        # The target of the ticket's current priority applies. Each target's verdict is one of:
        #   met             done within the target (exactly the target is met)
        #   breached        done later (to the microsecond), or not done and the customer's latest
        #                   event is later than the target time (an unanswered ticket does not
        #                   wait for its own next event to be breached)
        #   pending         not done, and the target time has not passed
        #   unknown         no `ticket.opened`; or, for the first reply, a ticket resolved with no
        #                   reply (its events cannot show one: imports carry no replies)
        #   not_applicable  excepted by [sla.applies] below
        [sla.urgent]
        first_reply_minutes = 60        # 1 hour
        resolution_minutes = 480        # 8 hours

        [sla.high]
        first_reply_minutes = 240       # 4 hours
        resolution_minutes = 1440       # 1 day

        [sla.normal]
        first_reply_minutes = 480       # 8 hours
        resolution_minutes = 4320       # 3 days

        [sla.low]
        first_reply_minutes = 1440      # 1 day
        resolution_minutes = 10080      # 1 week

        # Which targets apply to which tickets: every target applies to every ticket unless a
        # ticket is excepted here, by the CloudEvents `source` of its `ticket.opened` or by its
        # channel. A source pattern is an exact source, or a prefix ending in `*`
        # ("urn:servicenow:*" is every source starting with "urn:servicenow:"). Channels:
        # email, phone, chat, web, social, self_service, in_person, ivr. An excepted target is
        # not_applicable and counts neither as met nor as breached. Each key is an array of
        # strings, empty by default; a key left out is empty.
        [sla.applies]
        first_reply_except_sources = []     # e.g. ["urn:servicenow:*"]: imports with no replies
        first_reply_except_channels = []    # e.g. ["self_service"]
        resolution_except_sources = []
        resolution_except_channels = []

        # The loyalty score of a customer, 0 to 100: base + satisfaction + service + value, each
        # part from the customer's decayed observations as of their latest event.
        [loyalty]
        base = 50.0                     # the score of a customer with no observations

        # Satisfaction: the weighted average of the ratings, each mapped to -1 (worst) .. +1 (best),
        # times `points`. CSAT 1-5 maps to (score - 3) / 2; NPS 0-10 maps to +1 for promoters
        # (9-10), 0 for passives (7-8), -1 for detractors (0-6); CES 1-7 (7 = easiest) maps to
        # (score - 4) / 3. A weight says how much one rating of that kind counts against the others.
        [loyalty.satisfaction]
        points = 25.0                   # points for an all-best (or minus for an all-worst) record
        csat_weight = 1.0               # weight of one CSAT rating
        nps_weight = 1.5                # weight of one NPS answer
        ces_weight = 0.5                # weight of one CES rating

        # Service experience: how the customer was served.
        [loyalty.service]
        sla_points = 10.0               # times (met - breached) / (met + breached) over every SLA
                                        # decided so far (first reply and resolution count apart)
        reopen_penalty = 3.0            # points off per reopened ticket
        escalation_penalty = 2.0        # points off per escalation
        effort_target = 2.0             # customer contacts per ticket that cost nothing; contacts
                                        # are ticket.opened, customer replies and contact.received
        effort_penalty = 4.0            # points off per contact per ticket above the target
        floor = -30.0                   # service never takes off more than this many points

        # Value: what the customer brings.
        [loyalty.value]
        frequency_points = 2.0          # points per order (frequency) ...
        frequency_cap = 10.0            # ... up to this many
        monetary_points_per_100 = 1.0   # points per 100 of net spend (orders minus refunds, any
                                        # currency counted alike) ...
        monetary_cap = 10.0             # ... up to this many, and down to minus this many
        refund_penalty = 3.0            # points off per refund
        recency_points = 10.0           # points for an order at the customer's latest event, halving
        recency_half_life_days = 30.0   # every this many days between the last order and that event
        floor = -20.0                   # value never takes off more than this many points

        # Tiers: a customer is in the highest tier whose minimum score they reach. Name them as
        # you like; one tier must start at 0.
        [tiers]
        platinum = 80.0
        gold = 65.0
        silver = 50.0
        bronze = 35.0
        at_risk = 0.0
        """#
}
