#!/usr/bin/env python3
"""The UmaDB peer of `touchlog bench`'s ingest phase: UmaDB's gRPC server (the `umadb` script of the
PyPI package `umadb`, 0.7.8) started here on a free loopback port with a temporary data directory beside JSON_LINES, and
the bench's own CloudEvents appended to it through the package's Python client, a batch per append.

    peer_umadb.py JSON_LINES EVENTS EVENTS_PER_APPEND [CLIENTS]

JSON_LINES is the file the bench ingests; its first EVENTS lines are appended. Each event keeps its
line as data, its CloudEvents `type` as event type, and its customer (`subject`) as its one tag,
`customer:ID`. Reading and parsing the file, and starting and stopping the server, are not timed;
only the appends are. The server runs with its default settings. The last line is what the bench
reads:

    peer=umadb version=V events=N per_append=B: RATE events/s in SECONDSs

With CLIENTS (the bench's serve phase), that many threads append at once, each with its own client,
taking the next EVENTS_PER_APPEND events in turn, and the line also gives the per-append latency
percentiles `p50_ms=` and `p99_ms=`.

Tools/peer-venv.sh makes a venv with the package in .build/peer-venv.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from importlib.metadata import version

import umadb


def server_script():
    """The `umadb` server script of this interpreter's environment, else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "umadb")
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("umadb")
    if found is None:
        sys.exit(f"the umadb server script is neither beside {sys.executable} nor on PATH")
    return found


def free_loopback_port():
    """A port the kernel had free on 127.0.0.1 a moment ago (the server binds it next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def read_events(path, events):
    """(type, customer tag, line bytes) of the first `events` lines of `path`."""
    parsed = []
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, start=1):
            if len(parsed) == events:
                break
            line = line.rstrip(b"\n")
            if not line:
                continue
            try:
                event = json.loads(line)
                parsed.append((event["type"], "customer:" + event["subject"], line))
            except (ValueError, KeyError, TypeError) as error:
                sys.exit(f"{path}:{number}: not a CloudEvent with type and subject: {error}")
    if len(parsed) < events:
        sys.exit(f"{path}: {len(parsed)} events, fewer than the {events} asked for")
    return parsed


def wait_until_answering(server, url, seconds=30):
    """A client of the server at `url` once it answers `head()`; exits if it dies or stays silent."""
    deadline = time.monotonic() + seconds
    while True:
        if server.poll() is not None:
            sys.exit(f"the umadb server exited with {server.returncode} before answering")
        try:
            client = umadb.Client(url)
            client.head()
            return client
        except Exception as error:  # The client raises TransportError and others while it starts.
            if time.monotonic() > deadline:
                sys.exit(f"the umadb server at {url} did not answer within {seconds} s: {error}")
            time.sleep(0.05)


def stop(server):
    """Interrupts the server (its script exits on SIGINT), then kills it if it lingers."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def append_concurrently(url, parsed, per_append, clients):
    """Appends `parsed` with `clients` threads, a client each; returns (seconds, sorted latencies)."""
    batches = [parsed[first : first + per_append] for first in range(0, len(parsed), per_append)]
    lock = threading.Lock()
    state = {"next": 0, "latencies": [], "error": None}

    def work():
        client = umadb.Client(url)
        mine = []
        try:
            while True:
                with lock:
                    index = state["next"]
                    state["next"] += 1
                if index >= len(batches):
                    break
                batch = [umadb.Event(event_type=kind, tags=[tag], data=line) for kind, tag, line in batches[index]]
                started = time.perf_counter()
                client.append(batch)
                mine.append(time.perf_counter() - started)
        except Exception as error:  # Reported after the others finish.
            state["error"] = error
        with lock:
            state["latencies"].extend(mine)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if state["error"] is not None:
        sys.exit(f"an append failed: {state['error']}")
    return seconds, sorted(state["latencies"])


def main(argv):
    if len(argv) not in (4, 5):
        sys.exit(f"usage: {argv[0]} JSON_LINES EVENTS EVENTS_PER_APPEND [CLIENTS]")
    path = argv[1]
    events, per_append = int(argv[2]), int(argv[3])
    clients = int(argv[4]) if len(argv) == 5 else 0
    if min(events, per_append) < 1 or (len(argv) == 5 and clients < 1):
        sys.exit("EVENTS, EVENTS_PER_APPEND and CLIENTS must be at least 1")
    parsed = read_events(path, events)

    # Beside the JSON Lines: on the bench's own disk, like the engine's store.
    # The server inherits this mask: a parent that blocked SIGINT (a test runner's thread) would
    # otherwise leave it deaf to `stop`.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    data = tempfile.mkdtemp(prefix="touchlog-umadb-", dir=os.path.dirname(os.path.abspath(path)))
    port = free_loopback_port()
    server = subprocess.Popen(
        [server_script(), "--listen", f"127.0.0.1:{port}", "--db-path", os.path.join(data, "uma.db")],
        stdout=subprocess.DEVNULL,  # Its messages go to this script's standard error.
    )
    try:
        client = wait_until_answering(server, f"http://127.0.0.1:{port}")
        latencies = None
        if clients:
            seconds, latencies = append_concurrently(f"http://127.0.0.1:{port}", parsed, per_append, clients)
        else:
            started = time.perf_counter()
            for first in range(0, events, per_append):
                batch = [
                    umadb.Event(event_type=kind, tags=[tag], data=line)
                    for kind, tag, line in parsed[first : first + per_append]
                ]
                client.append(batch)
            seconds = time.perf_counter() - started
        head = client.head()
        if head != events:
            sys.exit(f"the umadb server holds {head} events after appending {events}")
    finally:
        stop(server)
        shutil.rmtree(data, ignore_errors=True)

    rate = events / seconds if seconds > 0 else float("inf")
    extra = ""
    if latencies:
        p50 = latencies[len(latencies) // 2] * 1000
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        extra = f" clients={clients} p50_ms={p50:.2f} p99_ms={p99:.2f}"
    print(
        f"peer=umadb version={version('umadb')} events={events} per_append={per_append}{extra}:"
        f" {rate:.0f} events/s in {seconds:.1f}s"
    )


if __name__ == "__main__":
    main(sys.argv)
