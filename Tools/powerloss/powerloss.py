#!/usr/bin/env python3
"""Power-loss simulation: rebuilds the store as a machine crash could leave it, at many moments.

Reads the journal written by journal_shim.c while `touchlog ingest --print-commits` ran. At each
crash point, data.mdb holds every write made durable before it (each write followed by a sync of the
file, and O_DSYNC writes), plus a random subset of the pages written since the last sync (the page
cache may have flushed some of them). Then it checks the promise of the durable mode: the store
opens, `touchlog audit` passes, and every event acknowledged before the crash point is there.

The image of a crash point depends only on the journal, the seed and the point (each point draws from
its own generator), so `SEED POINT` names one case exactly and a replay rebuilds the same bytes.
A journal that does not parse whole (a torn or interleaved record) is an error of the harness (exit 2),
never a source of images.

usage: powerloss.py TOUCHLOG JOURNAL INPUT.jsonl WORKDIR CRASH_POINTS SEED [POINT...]
       powerloss.py --check-journal JOURNAL [RECORDS]   (parse only: exit 0 when every record is
                                                        whole, and there are RECORDS of them)
"""
import json, os, random, shutil, struct, subprocess, sys

PAGE = 4096
MAGIC = b"TLJOURN2"  # journal_shim.c
EX_NOINPUT, EX_IOERR = 66, 74


class JournalError(Exception):
    pass


def read_journal(path):
    """The records of the journal, each (kind, offset, bytes); JournalError when one is not whole."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:len(MAGIC)] != MAGIC:
        raise JournalError(f"{path}: no journal header {MAGIC!r} (a journal of an older shim?)")
    records, at = [], len(MAGIC)
    while at < len(data):
        if at + 17 > len(data):
            raise JournalError(f"{path}: record {len(records)} at byte {at}: cut short")
        kind = chr(data[at]); offset, length = struct.unpack_from("<QQ", data, at + 1)
        payload = data[at + 17:at + 17 + length]
        where = f"{path}: record {len(records)} at byte {at}"
        if len(payload) != length:
            raise JournalError(f"{where}: {kind!r} of {length} bytes runs past the end")
        if kind == "W" and (offset % PAGE or length % PAGE or not length):
            raise JournalError(f"{where}: page write at {offset} of {length} bytes is not whole pages")
        if kind == "D" and (offset // PAGE > 1 or (offset + length - 1) // PAGE != offset // PAGE):
            raise JournalError(f"{where}: synchronous write at {offset} of {length} bytes is not in a meta page")
        if kind == "A" and offset:
            raise JournalError(f"{where}: output record with an offset")
        if kind == "S" and (offset or length):
            raise JournalError(f"{where}: sync record with a payload")
        if kind not in "WDSA":
            raise JournalError(f"{where}: unknown record kind {kind!r}")
        records.append((kind, offset, payload))
        at += 17 + length
    return records


def main(argv):
    if len(argv) in (3, 4) and argv[1] == "--check-journal":
        try:
            records = read_journal(argv[2])
        except JournalError as error:
            print(f"malformed journal: {error}", file=sys.stderr)
            return 2
        print(f"journal: {len(records)} whole records")
        if len(argv) == 4 and len(records) != int(argv[3]):
            print(f"journal: expected {argv[3]} records", file=sys.stderr)
            return 1
        return 0
    if len(argv) < 7:
        print(__doc__, file=sys.stderr)
        return 2
    touchlog, journal_path, input_path, workdir, points, seed = argv[1:7]
    points, seed = int(points), int(seed)
    chosen = [int(p) for p in argv[7:]]
    try:
        records = read_journal(journal_path)
    except JournalError as error:
        print(f"power-loss simulation: malformed journal: {error}", file=sys.stderr)
        return 2

    ids = [json.loads(line)["id"] for line in open(input_path) if line.strip()]

    def acknowledged_line(end):
        """The last input line acknowledged by the records before `end`."""
        text = b"".join(payload for kind, _, payload in records[:end] if kind == "A").decode()
        lines = [json.loads(l) for l in text.splitlines() if l.startswith("{")]
        return max((l["committed_through_line"] for l in lines), default=0)

    def image(end):
        """data.mdb as a crash just before record `end` could leave it (drawn from seed and end alone)."""
        rng = random.Random(f"{seed}/{end}")
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

    if chosen:
        candidates = [p for p in chosen if 1 <= p <= len(records)]
        if len(candidates) != len(chosen):
            print(f"power-loss simulation: crash points must be 1...{len(records)}", file=sys.stderr)
            return 2
    else:
        candidates = sorted(random.Random(seed).sample(range(1, len(records) + 1), min(points, len(records))))
    checked = lost = failures = 0
    for end in candidates:
        store = os.path.join(workdir, "crash-store")
        shutil.rmtree(store, ignore_errors=True)
        os.makedirs(store, mode=0o700)
        with open(os.path.join(store, "data.mdb"), "wb") as f:
            f.write(image(end))
        acked = acknowledged_line(end)
        audit = subprocess.run([touchlog, "audit", "--json", "--store", store], capture_output=True, text=True)
        tail = subprocess.run([touchlog, "tail", "--from", "1", "--json", "--store", store], capture_output=True, text=True)
        present = {json.loads(l)["id"] for l in tail.stdout.splitlines()} if tail.returncode == 0 else set()
        missing = [i for i in ids[:acked] if i not in present]
        ok = audit.returncode == 0 and not missing
        if not ok and acked == 0 and audit.returncode in (EX_NOINPUT, EX_IOERR):
            # Crashed before the first commit was durable: nothing was promised. The file is then empty
            # or partly written (it does not open: 74) or holds only the two empty meta pages LMDB
            # writes when it creates it (it opens, with no databases: "no store", 66).
            ok = True
        checked += acked
        lost += len(missing)
        if not ok:
            failures += 1
            print(f"crash before record {end} (seed {seed}): audit exit {audit.returncode} "
                  f"{audit.stdout.strip()[:200]} {audit.stderr.strip()[:200]}; {len(missing)} acknowledged events missing")
    print(f"power-loss simulation: seed {seed}, {len(candidates)} crash points, {len(records)} journal records, "
          f"{checked} acknowledged events checked, {lost} lost, {failures} failed crash points")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
