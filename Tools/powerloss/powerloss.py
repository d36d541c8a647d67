#!/usr/bin/env python3
"""Power-loss simulation: rebuilds the store as a machine crash could leave it, at many moments.

Reads the journal written by journal_shim.c while `touchlog ingest --print-commits` ran. At each
crash point, data.mdb holds every write made durable before it (each write followed by a sync of the
file, and O_DSYNC writes), plus a random subset of the pages written since the last sync (the page
cache may have flushed some of them). Then it checks the promise of the durable mode: the store
opens, `touchlog audit` passes, and every event acknowledged before the crash point is there.

usage: powerloss.py TOUCHLOG JOURNAL INPUT.jsonl WORKDIR CRASH_POINTS SEED
"""
import json, os, random, shutil, struct, subprocess, sys

touchlog, journal_path, input_path, workdir, points, seed = sys.argv[1:7]
points, rng = int(points), random.Random(int(seed))
PAGE = 4096

records = []
with open(journal_path, "rb") as f:
    data = f.read()
at = 0
while at < len(data):
    kind = chr(data[at]); offset, length = struct.unpack_from("<QQ", data, at + 1); at += 17
    records.append((kind, offset, data[at:at + length])); at += length

ids = [json.loads(line)["id"] for line in open(input_path) if line.strip()]

def acknowledged_line(end):
    """The last input line acknowledged by the records before `end`."""
    text = b"".join(payload for kind, _, payload in records[:end] if kind == "A").decode()
    lines = [json.loads(l) for l in text.splitlines() if l.startswith("{")]
    return max((l["committed_through_line"] for l in lines), default=0)

def image(end):
    """data.mdb as a crash just before record `end` could leave it."""
    last_sync = max((i for i in range(end) if records[i][0] == "S"), default=-1)
    out = bytearray()
    def apply(offset, payload):
        if len(out) < offset + len(payload):
            out.extend(b"\0" * (offset + len(payload) - len(out)))
        out[offset:offset + len(payload)] = payload
    for i in range(end):
        kind, offset, payload = records[i]
        if kind == "D" or (kind == "W" and i < last_sync):
            apply(offset, payload)
        elif kind == "W":  # written after the last sync: each page may or may not have reached the disk
            for page in range(0, len(payload), PAGE):
                if rng.random() < 0.5:
                    apply(offset + page, payload[page:page + PAGE])
    return bytes(out)

candidates = sorted(rng.sample(range(1, len(records) + 1), min(points, len(records))))
checked = lost = failures = 0
for end in candidates:
    store = os.path.join(workdir, "crash-store")
    shutil.rmtree(store, ignore_errors=True)
    os.makedirs(store, mode=0o700)
    with open(os.path.join(store, "data.mdb"), "wb") as f:
        f.write(image(end))
    acked = acknowledged_line(end)
    audit = subprocess.run([touchlog, "audit", "--json", "--store", store], capture_output=True, text=True)
    tail = subprocess.run([touchlog, "tail", "--json", "--store", store], capture_output=True, text=True)
    present = {json.loads(l)["id"] for l in tail.stdout.splitlines()} if tail.returncode == 0 else set()
    missing = [i for i in ids[:acked] if i not in present]
    ok = audit.returncode == 0 and not missing
    if not ok and acked == 0 and audit.returncode == 74:
        ok = True  # crashed before the first commit was durable: nothing was promised, and nothing opens
    checked += acked
    lost += len(missing)
    if not ok:
        failures += 1
        print(f"crash before record {end}: audit exit {audit.returncode} {audit.stdout.strip()[:200]} {audit.stderr.strip()[:200]}; {len(missing)} acknowledged events missing")
print(f"power-loss simulation: {len(candidates)} crash points, {len(records)} journal records, "
      f"{checked} acknowledged events checked, {lost} lost, {failures} failed crash points")
sys.exit(1 if failures else 0)
