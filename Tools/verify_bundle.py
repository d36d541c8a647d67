#!/usr/bin/env python3
"""Verifies a Touchlog proof bundle offline (docs/PROOFS.md), independently of Touchlog.

    python3 Tools/verify_bundle.py BUNDLE_DIR --key KEY.vkey

Checks that the checkpoint is signed by the key, that every event of the bundle is the one its leaf
(its hashed bytes) holds, in a store of format 3 with the disclosed personal content whose salted
commitment the leaf holds, and is included in the checkpoint's tree, that the customer's stream is
gapless and linked (versions 1..N, each event pointing at the one before it), and that its head is
the one the checkpoint's stream heads tree commits to: no event of the customer was left out as of the
checkpoint. Prints "OK: ..." and exits 0, or "FAILED: REASON" and exits 1 (the same reasons as
`touchlog verify-bundle`). Needs Python 3.9+ and the `cryptography` package (Ed25519).
"""

import base64
import binascii
import hashlib
import json
import os
import sys
import unicodedata
from datetime import datetime, timedelta, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PROOF_HEADER = "c2sp.org/tlog-proof@v1"
STREAM_HEADS_TAG = "touchlog-stream-heads"
# Attributes the log adds on output; a producer's own value of one comes back as "orig" + name.
LOG_ASSIGNED = {"sequence", "sequencetype", "recordedtime", "position", "hash", "predecessorhash"}


class Failure(Exception):
    """A verification failure; its message is the reason."""


# RFC 6962 / RFC 9162 hashing and proofs


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# C2SP signed notes and checkpoints


def b64(text):
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


class VerifierKey:
    def __init__(self, text):
        parts = text.strip().split("+", 2)  # the base64 part may itself hold '+'
        if len(parts) != 3 or not parts[0]:
            raise Failure("key: not a verifier key (NAME+KEYID+BASE64)")
        raw = b64(parts[2])
        if raw is None or len(raw) != 33 or raw[0] != 0x01:
            raise Failure("key: not an Ed25519 verifier key")
        self.name = parts[0]
        self.public = raw[1:]
        self.key_id = hashlib.sha256(self.name.encode() + b"\n\x01" + self.public).digest()[:4]
        if self.key_id.hex() != parts[1].lower():
            raise Failure("key: the key id is not the id of this name and key")
        self.key = Ed25519PublicKey.from_public_bytes(self.public)

    def label(self):
        return "%s+%s" % (self.name, self.key_id.hex())


def parse_checkpoint(text):
    """The note text and checkpoint fields of a signed note; raises Failure("...") without a prefix."""
    if not text.endswith("\n") or "\n\n" not in text:
        raise Failure("not a signed checkpoint")
    split = text.rindex("\n\n")
    note = text[: split + 1]
    signatures = []
    for line in text[split + 2 :].split("\n")[:-1]:
        if not line.startswith("\u2014 "):
            raise Failure("not a signed checkpoint")
        words = line[2:].split(" ")
        raw = b64(words[1]) if len(words) == 2 else None
        if raw is None or len(raw) <= 4:
            raise Failure("not a signed checkpoint")
        signatures.append((words[0], raw[:4], raw[4:]))
    lines = note[:-1].split("\n")
    if not signatures or len(lines) < 3 or not lines[0]:
        raise Failure("not a signed checkpoint")
    size, root = decimal(lines[1]), b64(lines[2])
    if size is None or root is None or len(root) != 32:
        raise Failure("not a signed checkpoint")
    heads = None
    for line in lines[3:]:
        words = line.split(" ")
        if words[0] == STREAM_HEADS_TAG:
            heads_root = b64(words[2]) if len(words) == 3 else None
            heads_size = decimal(words[1]) if len(words) == 3 else None
            if heads_size is None or heads_root is None or len(heads_root) != 32:
                raise Failure("not a signed checkpoint")
            heads = (heads_size, heads_root)
    return {"note": note, "signatures": signatures, "origin": lines[0], "size": size, "root": root, "heads": heads}


def decimal(text):
    if not text or not text.isascii() or not text.isdigit() or (text != "0" and text.startswith("0")):
        return None
    return int(text)


def verify_signature(checkpoint, key):
    mine = [s for s in checkpoint["signatures"] if s[0] == key.name and s[1] == key.key_id]
    if not mine:
        raise Failure("checkpoint: not signed by the key %s" % key.label())
    for _, _, signature in mine:
        try:
            key.key.verify(signature, checkpoint["note"].encode())
        except InvalidSignature:
            raise Failure("checkpoint: not signed by the key %s" % key.label())


# The event record inside the hashed bytes (docs/PROOFS.md, "Hashed bytes")


class Reader:
    def __init__(self, data, offset):
        self.data, self.offset = data, offset

    def length(self):
        value, shift = 0, 0
        while True:
            if self.offset >= len(self.data) or shift > 63:
                raise ValueError("truncated")
            byte = self.data[self.offset]
            self.offset += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7

    def take(self, count):
        if self.offset + count > len(self.data):
            raise ValueError("truncated")
        part = self.data[self.offset : self.offset + count]
        self.offset += count
        return part

    def string(self):
        return self.take(self.length()).decode("utf-8", errors="replace")

    def optional(self):
        n = self.length()
        return None if n == 0 else self.take(n - 1).decode("utf-8", errors="replace")

    def byte(self):
        return self.take(1)[0]

    def extensions(self):
        """A count, then per attribute its name, kind byte and text: [(name, value)]."""
        attributes = []
        for _ in range(self.length()):
            name, kind = self.string(), self.byte()
            if kind in (0, 1):
                text = self.string()
                value = text if kind == 0 else json_value(text)
            elif kind in (2, 3):
                value = kind == 2
            else:
                raise ValueError("extension kind")
            attributes.append((name, value))
        return attributes

    def data_field(self, kinds):
        """A kind byte (one of `kinds`: 0 none, 1 JSON, 2 base64) and its text: (kind, text)."""
        kind = self.byte()
        if kind not in kinds:
            raise ValueError("data kind")
        return kind, (self.string() if kind != 0 else None)

    def end(self):
        if self.offset != len(self.data):
            raise ValueError("trailing bytes")


def number(data, at):
    return int.from_bytes(data[at : at + 8], "big")


def rfc3339(micros):
    moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=micros)
    text = "%04d-%02d-%02dT%02d:%02d:%02d" % (
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    if moment.microsecond:
        text += ".%06d" % moment.microsecond
    return text + "Z"


class NotJSON:
    """Text in a leaf that is not JSON: equal to no value of an event."""

    def __eq__(self, other):
        return False


def json_value(text):
    """A JSON text as the verifiers compare values (docs/PROOFS.md): objects whatever the order of their
    members (no duplicate keys), arrays in order, numbers by value (their literal text, else as
    doubles), strings and keys by canonical equivalence (as NFD); NotJSON() when it is not such JSON."""

    def members(pairs):
        if len({key for key, _ in pairs}) != len(pairs):
            raise ValueError("duplicate key")
        return {nfd(key): nfd(value) for key, value in pairs}

    def refuse(name):
        raise ValueError(name)

    try:
        return nfd(json.loads(text, object_pairs_hook=members, parse_float=Number, parse_int=Number,
                              parse_constant=refuse))
    except (ValueError, RecursionError):
        return NotJSON()


def nfd(value):
    if isinstance(value, str):
        return unicodedata.normalize("NFD", value)
    if isinstance(value, list):
        return [nfd(item) for item in value]
    return value


class Number:
    """A JSON number: equal to another with the same literal text or the same value as a double."""

    __hash__ = None

    def __init__(self, text):
        self.text = text

    def __eq__(self, other):
        return isinstance(other, Number) and (self.text == other.text or float(self.text) == float(other.text))


def is_clear_data_part_of(clear, whole):
    """Whether every member of the clear data (kind, text) is a member of the whole data with the same value."""
    if clear[0] != 1:
        return True
    clear_value = json_value(clear[1])
    whole_value = json_value(whole[1]) if whole[0] == 1 else None
    if not isinstance(clear_value, dict) or not isinstance(whole_value, dict):
        return False
    return all(key in whole_value and whole_value[key] == value for key, value in clear_value.items())


# Offsets in the hashed bytes (position (8) || record bytes 33...): record offset N is N - 25 here.
PSEUDONYM_AT = 72  # record 97: the customer's pseudonym, 16 bytes (format 3)
COMMITMENT_AT = 88  # record 113: SHA-256(salt || personal content), 32 bytes (format 3)
CONTENT_KIND_AT = 120  # record 145: 0 no personal content, 1 sealed (format 3)
FIELDS_AT = {1: 72, 3: 121}  # record 97 (format 1) and 146 (format 3): id, source, type, ...
SALT_SIZE = 16


def decode_leaf(hashed, record_format):
    """The fields of the record whose hashed bytes are `hashed`, of record format 1 or 3."""
    if len(hashed) < FIELDS_AT[record_format]:
        raise ValueError("too short")
    r = Reader(hashed, FIELDS_AT[record_format])
    leaf = {"format": record_format, "position": number(hashed, 0), "previous": number(hashed, 40),
            "version": number(hashed, 48), "hashed": hashed}
    leaf["id"], leaf["source"], leaf["type"] = r.string(), r.string(), r.string()
    names = ("time", "datacontenttype", "dataschema")
    if record_format == 1:
        names = ("subject",) + names
    leaf["optional"] = [(name, r.optional()) for name in names]
    leaf["extensions"] = r.extensions()
    leaf["data"] = r.data_field((0, 1, 2) if record_format == 1 else (0, 1))
    r.end()
    if record_format == 3:
        leaf["pseudonym"] = hashed[PSEUDONYM_AT:COMMITMENT_AT]
        leaf["commitment"] = hashed[COMMITMENT_AT:CONTENT_KIND_AT]
        if hashed[CONTENT_KIND_AT] not in (0, 1):
            raise ValueError("content kind")
        leaf["sealed"] = hashed[CONTENT_KIND_AT] == 1
    return leaf


def open_disclosure(leaf, disclosure):
    """The personal content a disclosure (salt, content) gives for `leaf`: subject, extensions and
    data, after checking that the leaf commits to it; None for no disclosure. Raises Failure."""
    if disclosure is None:
        return None
    if leaf["format"] != 3 or not leaf["sealed"]:
        raise Failure("the leaf has no sealed content to disclose")
    salt, content = disclosure
    if hashlib.sha256(salt + content).digest() != leaf["commitment"]:
        raise Failure("the disclosed salt and content are not what the leaf commits to")
    try:
        r = Reader(content, 0)
        personal = {"subject": r.string(), "extensions": r.extensions(), "data": r.data_field((0, 1, 2))}
        r.end()
    except (ValueError, UnicodeDecodeError):
        raise Failure("the disclosed content does not decode")
    if not is_clear_data_part_of(leaf["data"], personal["data"]):
        raise Failure("the leaf's clear data is not in the disclosed data")
    return personal


def leaf_event(leaf, personal):
    """The CloudEvent (with the log's attributes) that a leaf holds, with its disclosed personal
    content; a leaf of format 3 without it holds the erased event."""
    event = {"specversion": "1.0", "id": leaf["id"], "source": leaf["source"], "type": leaf["type"]}
    for name, value in leaf["optional"]:
        if value is not None:
            event[name] = value
    extensions, data = list(leaf["extensions"]), leaf["data"]
    if leaf["format"] == 3 and personal is None:
        event["subject"] = "erased:" + leaf["pseudonym"].hex()
        extensions.append(("erased", True))
    elif personal is not None:
        event["subject"] = personal["subject"]
        extensions += personal["extensions"]
        data = personal["data"]
    for name, value in extensions:
        event["orig" + name if name in LOG_ASSIGNED else name] = value
    if data[0] == 1:
        event["data"] = json_value(data[1])
    elif data[0] == 2:
        event["data_base64"] = data[1]
    hashed = leaf["hashed"]
    event["sequence"] = "%020d" % leaf["version"]
    event["sequencetype"] = "Integer"
    event["recordedtime"] = rfc3339(int.from_bytes(hashed[56:64], "big", signed=True))
    event["position"] = Number("%d" % leaf["position"])
    event["hash"] = hashlib.sha256(hashed).hexdigest()
    event["predecessorhash"] = hashed[8:40].hex()
    return {nfd(name): nfd(value) for name, value in event.items()}


# The bundle


def read_text(directory, name):
    try:
        with open(os.path.join(directory, name), "rb") as f:
            return f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        raise Failure("%s: cannot read it" % name)


def parse_proof(text, name):
    lines = text.split("\n")
    if len(lines) < 3 or lines[0] != PROOF_HEADER:
        raise Failure("%s: not a tlog-proof" % name)
    at = 1
    if lines[at].startswith("extra "):
        at += 1
    if not lines[at].startswith("index ") or decimal(lines[at][6:]) is None:
        raise Failure("%s: not a tlog-proof" % name)
    index = decimal(lines[at][6:])
    at += 1
    hashes = []
    while at < len(lines) and lines[at]:
        value = b64(lines[at])
        if value is None or len(value) != 32:
            raise Failure("%s: not a tlog-proof" % name)
        hashes.append(value)
        at += 1
    if at >= len(lines):
        raise Failure("%s: not a tlog-proof" % name)
    return index, hashes, "\n".join(lines[at + 1 :])


def verify(directory, key):
    checkpoint_text = read_text(directory, "checkpoint")
    try:
        checkpoint = parse_checkpoint(checkpoint_text)
    except Failure:
        raise Failure("checkpoint: not a signed checkpoint")
    verify_signature(checkpoint, key)
    if checkpoint["heads"] is None:
        raise Failure("checkpoint: it has no stream heads line")
    size, root = checkpoint["size"], checkpoint["root"]

    lines = read_text(directory, "events.jsonl").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise Failure("events.jsonl: no events")
    # The bundle's customer: its stream key (the pseudonym in format 3, the subject in format 1), the
    # name to print (the subject, or the erased name when nothing is disclosed) and its last event.
    stream_key, customer, previous = None, None, (0, 0)  # previous: (position, version)
    for number_, line in enumerate(lines, 1):
        where = "events.jsonl:%d" % number_
        try:
            entry = json.loads(line)
            version, index, event = entry["version"], entry["index"], json_value(line)["event"]
            hashed = b64(entry["leaf"])
            record_format = entry.get("record_format", 1)
            disclosures = entry.get("disclosures", {})
            if not isinstance(version, int) or not isinstance(index, int) or not isinstance(event, dict) or hashed is None:
                raise ValueError
            if not isinstance(record_format, int) or not isinstance(disclosures, dict):
                raise ValueError
        except (ValueError, KeyError, TypeError, AttributeError):
            raise Failure("%s: not a JSON object with version, index, leaf and event" % where)
        if record_format not in FIELDS_AT:
            raise Failure("%s: record_format %d is not 1 or 3" % (where, record_format))
        disclosure = None
        if disclosures:
            salt, content = (b64(disclosures.get(name)) if isinstance(disclosures.get(name), str) else None
                             for name in ("salt", "content"))
            if set(disclosures) != {"salt", "content"} or salt is None or len(salt) != SALT_SIZE or content is None:
                raise Failure("%s: the disclosures are not a salt of 16 bytes and a content" % where)
            disclosure = (salt, content)
        try:
            leaf = decode_leaf(hashed, record_format)
        except (ValueError, UnicodeDecodeError):
            raise Failure("%s: the leaf is not an event record" % where)
        try:
            personal = open_disclosure(leaf, disclosure)
        except Failure as failure:
            raise Failure("%s: %s" % (where, failure))
        if index != leaf["position"] - 1:
            raise Failure("%s: index %d is not the leaf's position minus 1" % (where, index))
        if index >= size:
            raise Failure("%s: position %d is beyond the checkpoint's tree size %d" % (where, leaf["position"], size))
        if version != leaf["version"]:
            raise Failure("%s: version %d is not the leaf's version %d" % (where, version, leaf["version"]))
        if event != leaf_event(leaf, personal):
            raise Failure("%s: the event is not the one its leaf holds" % where)
        if version != previous[1] + 1:
            raise Failure("%s: version %d, expected %d: the stream has a gap or is out of order" % (where, version, previous[1] + 1))
        if leaf["previous"] != previous[0]:
            raise Failure("%s: the leaf links to position %d, expected %d: not the stream's next event" % (where, leaf["previous"], previous[0]))
        if record_format == 3:
            key_of_event, subject = leaf["pseudonym"], personal["subject"] if personal else None
        else:
            subject = dict(leaf["optional"])["subject"]
            key_of_event = None if subject is None else subject.encode()
        if number_ > 1 and key_of_event != stream_key:
            if record_format == 3:
                raise Failure("%s: the event's pseudonym is not the bundle's customer's" % where)
            raise Failure("%s: the event's subject is not the bundle's customer" % where)
        stream_key = key_of_event
        if subject is not None and customer is not None and subject != customer:
            raise Failure("%s: the event's subject is not the bundle's customer" % where)
        customer = customer if subject is None else subject
        name = "proofs/%d.tlog-proof" % index
        proof_index, proof, proof_checkpoint = parse_proof(read_text(directory, name), name)
        if proof_index != index:
            raise Failure("%s: it is for index %d" % (name, proof_index))
        if proof_checkpoint != checkpoint_text:
            raise Failure("%s: its checkpoint is not the bundle's checkpoint" % name)
        if not verify_inclusion(index, size, leaf_hash(hashed), proof, root):
            raise Failure("%s: the inclusion proof does not lead to the checkpoint's root" % name)
        previous = (leaf["position"], version)
    if customer is None and record_format == 3:
        customer = "erased:" + stream_key.hex()

    try:
        completeness = json.loads(read_text(directory, "completeness.json"))
        head, heads = completeness["head"], completeness["stream_heads"]
        stream = b64(completeness["stream"])
        head_leaf = b64(heads["leaf"])
        heads_proof = [b64(h) for h in heads["proof"]]
        last_position, last_version = head["last_position"], head["version"]
        heads_index, heads_size = heads["index"], heads["size"]
        if stream is None or head_leaf is None or any(h is None or len(h) != 32 for h in heads_proof):
            raise ValueError
        if not all(isinstance(v, int) for v in (last_position, last_version, heads_index, heads_size)):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise Failure("completeness.json: not a completeness proof")
    if completeness.get("checkpoint_size") != size:
        raise Failure("completeness.json: it is for tree size %s, the checkpoint's is %d" % (completeness.get("checkpoint_size"), size))
    if stream != stream_key:
        raise Failure("completeness.json: its stream is not the key of the bundle's customer's stream")
    if (last_position, last_version) != previous:
        raise Failure(
            "completeness.json: the stream head (position %d, version %d) is not the last event (position %d, version %d): events are missing"
            % (last_position, last_version, previous[0], previous[1]))
    expected_leaf = len(stream).to_bytes(2, "big") + stream + last_position.to_bytes(8, "big") + last_version.to_bytes(8, "big")
    if head_leaf != expected_leaf:
        raise Failure("completeness.json: the head entry is not the one in its leaf")
    heads_tree_size, heads_root = checkpoint["heads"]
    if heads_size != heads_tree_size or not verify_inclusion(heads_index, heads_size, leaf_hash(head_leaf), heads_proof, heads_root):
        raise Failure("completeness.json: the stream head is not in the checkpoint's stream heads tree")
    return len(lines), customer, size


def main(argv):
    if len(argv) != 4 or argv[2] != "--key":
        print("usage: verify_bundle.py BUNDLE_DIR --key KEY.vkey", file=sys.stderr)
        return 64
    try:
        with open(argv[3], "r", encoding="utf-8") as f:
            key = VerifierKey(f.read())
    except OSError as error:
        print("key file '%s': %s" % (argv[3], error.strerror), file=sys.stderr)
        return 66
    except Failure as failure:
        print("key file '%s': %s" % (argv[3], failure), file=sys.stderr)
        return 65
    try:
        count, customer, size = verify(argv[1], key)
    except Failure as failure:
        print("FAILED: %s" % failure)
        return 1
    print("OK: %d events of customer %s, complete as of checkpoint tree size %d" % (count, customer, size))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
