// CloudEvents
