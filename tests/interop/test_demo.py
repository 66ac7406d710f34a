#!/usr/bin/env python3
"""`tlsv demo --json` against the oracle.

Every row of the demo is a real handshake over 127.0.0.1. For each row whose
client and server configurations are a cell of the oracle's matrix (the
`tlsv` variant, tests/data/oracle/negotiation-matrix.json), the row must give
the cell's outcome: the negotiated version, or a failure decided by the same
side with the same reason name and alert. Rows the oracle has no cell for
(TLS_FALLBACK_SCSV, suite and group choices, SSL 3.0) are counted and listed;
the demo checks those against the library's own policy preview and says
MISMATCH (exit 1) if they differ.
"""

import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "..", "data", "oracle", "negotiation-matrix.json")
TLSV = os.environ.get("TLSV", "tlsv")


def oracle_key(spec):
    """(protocol, options, min, max) of an oracle cell's spec."""
    return (spec["proto"].replace("PROTOCOL_", ""), frozenset(spec.get("options", [])),
            spec.get("min"), spec.get("max"))


def demo_key(text):
    """The same key from a demo row's configuration, or None when the row
    uses something the oracle does not vary (SCSV, suites, groups)."""
    words = text.split()
    proto, options, mn, mx = words[0], set(), None, None
    for w in words[1:]:
        if w.startswith("min="):
            mn = w[4:]
        elif w.startswith("max="):
            mx = w[4:]
        elif w.startswith("OP_NO_"):
            options.add(w)
        else:
            return None  # +SCSV, ciphers=, ciphersuites=, groups=
    return (proto, frozenset(options), mn, mx)


class DemoAgainstOracle(unittest.TestCase):

    def test_rows_match_the_oracle(self):
        with open(ORACLE) as f:
            cells = [c for c in json.load(f)["cells"] if c["variant"] == "tlsv"]
        by_key = {}
        for c in cells:
            by_key.setdefault((oracle_key(c["client"]["spec"]),
                               oracle_key(c["server"]["spec"])), c)
        run = subprocess.run([TLSV, "demo", "--json"], capture_output=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr.decode())
        rows = [json.loads(line) for line in run.stdout.decode().splitlines() if line.strip()]
        self.assertGreaterEqual(len(rows), 20, "the demo printed too few rows")
        matched, unmatched, problems = 0, [], []
        for r in rows:
            self.assertNotIn("mismatch", r, r)
            self.assertNotIn("demo_error", r, r)
            ck, sk = demo_key(r["client"]), demo_key(r["server"])
            cell = by_key.get((ck, sk)) if ck and sk else None
            if cell is None:
                unmatched.append("%s || %s" % (r["client"], r["server"]))
                continue
            matched += 1
            want = cell["result"]
            where = "demo row %s || %s vs oracle cell #%d" % (r["client"], r["server"],
                                                              cell["id"])
            if want["ok"]:
                if r.get("version") != want["version"]:
                    problems.append("%s: version %s, oracle %s" % (where, r.get("version"),
                                                                    want["version"]))
                continue
            side = want["error_side"]
            reason = want["%s_error" % side]["reason"]
            sent = want["alerts_client_to_server" if side == "client"
                        else "alerts_server_to_client"]
            alert = sent[0]["description"] if sent else None
            got = (r.get("error"), r.get("side"), r.get("alert"))
            if got != (reason, side, alert):
                problems.append("%s: got %s, oracle %s" % (where, got, (reason, side, alert)))
        print("demo rows: %d, matched to oracle cells: %d, beyond the oracle: %d"
              % (len(rows), matched, len(unmatched)))
        for u in unmatched:
            print("  beyond the oracle: %s" % u)
        self.assertEqual(problems, [], "\n".join(problems))
        self.assertGreaterEqual(matched, 15, "too few demo rows found in the oracle")


if __name__ == "__main__":
    unittest.main(verbosity=2)
