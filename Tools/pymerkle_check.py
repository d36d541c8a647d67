#!/usr/bin/env python3
"""Checks proof bundles against pymerkle, an independent RFC 6962 implementation (PyPI `pymerkle`).

    python3 Tools/pymerkle_check.py BUNDLE_DIR...

The bundles must be of one checkpoint and together hold every leaf of its tree (one bundle per customer
of the store): the script builds pymerkle's tree of those leaves (its "security" mode is RFC 6962's
0x00/0x01 prefixes) and checks that its root is the checkpoint's root and that each event's
inclusion proof is the path pymerkle computes. Prints "OK: ..." and exits 0, or what differs and exits 1.
Used by the tests (ProofCommandTests); Tools/proof-venv.sh installs pymerkle.
"""

import base64
import json
import os
import sys

from pymerkle import InmemoryTree, verify_inclusion


def main(directories):
    checkpoint_text, leaves, proofs = None, {}, {}
    for directory in directories:
        with open(os.path.join(directory, "checkpoint"), encoding="utf-8") as f:
            text = f.read()
        if checkpoint_text not in (None, text):
            print("the bundles are of different checkpoints")
            return 1
        checkpoint_text = text
        with open(os.path.join(directory, "events.jsonl"), encoding="utf-8") as f:
            for line in f:
                entry = json.loads(line)
                index = entry["index"]
                leaves[index] = base64.b64decode(entry["leaf"])
                with open(os.path.join(directory, "proofs", "%d.tlog-proof" % index), encoding="utf-8") as p:
                    lines = p.read().split("\n")
                hashes = []
                for hash_line in lines[2:]:
                    if not hash_line:
                        break
                    hashes.append(base64.b64decode(hash_line))
                proofs[index] = hashes
    lines = checkpoint_text.split("\n")
    size, root = int(lines[1]), base64.b64decode(lines[2])
    if sorted(leaves) != list(range(size)):
        print("the bundles hold %d of the %d leaves" % (len(leaves), size))
        return 1
    tree = InmemoryTree(algorithm="sha256")  # security mode: leaf 0x00, node 0x01, as RFC 6962
    for index in range(size):
        tree.append_entry(leaves[index])
    if tree.get_root(size) != root:
        print("pymerkle's root %s is not the checkpoint's %s" % (tree.get_root(size).hex(), root.hex()))
        return 1
    for index in range(size):
        expected = tree.prove_inclusion(index + 1, size)  # pymerkle counts leaves from 1
        if expected.path[1:] != proofs[index]:
            print("the inclusion proof of leaf %d is not pymerkle's path" % index)
            return 1
        verify_inclusion(tree.get_leaf(index + 1), root, expected)
    print("OK: pymerkle agrees on the root of %d leaves and on every inclusion proof" % size)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
