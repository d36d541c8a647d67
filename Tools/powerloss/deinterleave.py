#!/usr/bin/env python3
"""Repairs a journal of the shim before 0f1e94e, whose records were written as 4 separate write(2)s (type, offset,
length, bytes) by two threads at once: the writer thread (W/S/D records of data.mdb) and the main
thread (A records, stdout). Splits the byte stream back into the two threads' records by a search over
which thread each next piece belongs to, with checks: W offsets whole pages and the page's own pgno
(first 8 bytes) equal to offset/4096; D in a meta page, 120 bytes; A offset 0, short UTF-8 line.
Writes the repaired journal (new format, with header) in the order of each record's LAST piece.
usage: deinterleave.py OLD_JOURNAL REPAIRED_JOURNAL"""
import struct, sys
data = open(sys.argv[1], 'rb').read()
N = len(data)
sys.setrecursionlimit(100000)

def w_piece(st, at):
    """Next piece of the writer thread at `at`: returns (new_state, next_at, finished_record) or None."""
    stage, kind, off, ln = st
    if stage == 0:
        k = chr(data[at])
        if k not in 'WSD': return None
        return ((1, k, 0, 0), at + 1, None)
    if stage == 1:
        if at + 8 > N: return None
        o = struct.unpack_from('<Q', data, at)[0]
        if kind == 'W' and o % 4096: return None
        if kind == 'D' and o not in (32, 4128): return None
        if kind == 'S' and o: return None
        return ((2, kind, o, 0), at + 8, None)
    if stage == 2:
        if at + 8 > N: return None
        l = struct.unpack_from('<Q', data, at)[0]
        if kind == 'W' and (l == 0 or l % 4096 or l > 1 << 24): return None
        if kind == 'D' and l != 120: return None
        if kind == 'S':
            return (None if l else ((0, None, 0, 0), at + 8, ('S', 0, b'')))
        return ((3, kind, off, l), at + 8, None)
    if at + ln > N: return None
    p = data[at:at + ln]
    if kind == 'W' and struct.unpack_from('<Q', p, 0)[0] != off // 4096: return None
    return ((0, None, 0, 0), at + ln, (kind, off, p))

def a_piece(st, at):
    stage, kind, off, ln = st
    if stage == 0:
        return ((1, 'A', 0, 0), at + 1, None) if data[at:at + 1] == b'A' else None
    if stage == 1:
        return ((2, 'A', 0, 0), at + 8, None) if data[at:at + 8] == b'\0' * 8 else None
    if stage == 2:
        if at + 8 > N: return None
        l = struct.unpack_from('<Q', data, at)[0]
        return ((3, 'A', 0, l), at + 8, None) if 0 < l < 400 else None
    p = data[at:at + ln]
    try:
        t = p.decode()
    except UnicodeDecodeError:
        return None
    if not t.endswith('\n') or not (t.startswith('{') or t[0].isalpha()): return None
    return ((0, None, 0, 0), at + ln, ('A', 0, p))

# Iterative DFS: state (at, wst, ast, out_len); out is a shared list truncated on backtrack.
out = []
stack = [(0, (0, None, 0, 0), (0, None, 0, 0), 0, 0)]  # last field: which choice to try next
tried = 0
while stack:
    at, wst, ast, olen, choice = stack.pop()
    del out[olen:]
    if at == N:
        if wst[0] == 0 and ast[0] == 0: break
        continue
    if choice > 1: continue
    stack.append((at, wst, ast, olen, choice + 1))
    r = w_piece(wst, at) if choice == 0 else a_piece(ast, at)
    tried += 1
    if r is None: continue
    st, nat, rec = r
    if rec: out.append(rec)
    stack.append((nat, st if choice == 0 else wst, st if choice == 1 else ast, len(out), 0))
else:
    sys.exit('no consistent split')
with open(sys.argv[2], 'wb') as f:
    f.write(b'TLJOURN2')
    for k, o, p in out:
        f.write(k.encode() + struct.pack('<QQ', o, len(p)) + p)
print(f'{len(out)} records repaired ({tried} pieces tried)')
