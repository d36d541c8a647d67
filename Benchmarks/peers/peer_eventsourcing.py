#!/usr/bin/env python3
"""The Python peer of `touchlog bench`'s ingest phase: the `eventsourcing` library (9.5.6) appending
events to SQLite through its application recorder, a batch of events per insert.

    peer_eventsourcing.py DATABASE EVENTS STATE_BYTES EVENTS_PER_INSERT CUSTOMERS

Event i belongs to customer i mod CUSTOMERS (one aggregate each, versions 1, 2, 3...) and carries
STATE_BYTES bytes of state (the bench passes its events' mean JSON line). Only the inserts are timed.
The last line is what the bench reads:

    peer=eventsourcing-sqlite version=V events=N per_insert=B state_bytes=S: RATE events/s in SECONDSs

Tools/peer-venv.sh makes a venv with the library in .build/peer-venv.
"""

import os
import sys
import time
import uuid
from importlib.metadata import version

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore


def main(argv):
    if len(argv) != 6:
        sys.exit(f"usage: {argv[0]} DATABASE EVENTS STATE_BYTES EVENTS_PER_INSERT CUSTOMERS")
    database = argv[1]
    events, state_bytes, per_insert, customers = (int(value) for value in argv[2:6])
    if min(events, state_bytes, per_insert, customers) < 1:
        sys.exit("EVENTS, STATE_BYTES, EVENTS_PER_INSERT and CUSTOMERS must be at least 1")
    for leftover in (database, database + "-wal", database + "-shm", database + "-journal"):
        if os.path.exists(leftover):
            os.remove(leftover)

    recorder = SQLiteApplicationRecorder(SQLiteDatastore(db_name=database))
    recorder.create_table()

    # One id per customer, the same on every run.
    aggregates = [uuid.uuid5(uuid.NAMESPACE_URL, f"urn:touchlog:bench:customer:{n}") for n in range(customers)]
    state = b"x" * state_bytes
    topic = "touchlog.bench:Touchpoint"

    started = time.perf_counter()
    for first in range(0, events, per_insert):
        batch = [
            StoredEvent(
                originator_id=aggregates[i % customers],
                originator_version=i // customers + 1,
                topic=topic,
                state=state,
            )
            for i in range(first, min(events, first + per_insert))
        ]
        recorder.insert_events(batch)
    seconds = time.perf_counter() - started

    rate = events / seconds if seconds > 0 else float("inf")
    print(
        f"peer=eventsourcing-sqlite version={version('eventsourcing')} events={events} per_insert={per_insert} state_bytes={state_bytes}:"
        f" {rate:.0f} events/s in {seconds:.1f}s"
    )


if __name__ == "__main__":
    main(sys.argv)
