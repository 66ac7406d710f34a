#!/usr/bin/env python3
"""The oracle's negotiation matrix, end to end over loopback (tests/e2e).

Every cell of negotiation-matrix.json whose "variant" is "tlsv" (188 cells,
ids 376-563) is run as a real TCP connection on 127.0.0.1 in one of three
pairings (one CTest test each):

    tlsv-tlsv     tlsv client  -> tlsv server
    tlsv-python   tlsv client  -> Python ssl server
    python-tlsv   Python ssl client -> tlsv server

The tlsv side is the `tlsv` program (SPEC §3) given the cell's configuration
through its options (--protocol, --options NO_..., --min-version,
--max-version; clients --verify none --no-check-hostname; servers --cert/--key,
--once; both --handshake-only --json). The Python side (pypeer.py, run with
OPENSSL_CONF pointing to an empty file) is configured exactly as the oracle's
generator configured the tlsv variant (harness.build_ctx), and its
configuration read-back must equal the one recorded in the cell.

What is compared with the oracle (cell "result"):
  success     both sides succeed, and both report the oracle's version;
  failure     the deciding side D (the oracle's error_side) fails on its own
              account: tlsv's JSON "side":"local" with "error" = the oracle's
              reason of D and "alert" = the alert the oracle's D sent (null
              when it sent none); Python's SSLError reason = the oracle's
              reason of D.
              The other side fails too, and either reports the alert D sent
              as received (tlsv "side":"remote" + "alert"; Python a
              *_ALERT_<NAME> reason) or fails with the oracle's own reason
              for that side. When the oracle's client fails before sending a
              ClientHello, the server may instead have seen no handshake at
              all.
The cipher suite is not compared. On matching cells, a Python side whose
own reason differs from the oracle's record of that side is printed as a
NOTE (it shows tlsv doing something on the wire differently from OpenSSL,
e.g. the record version of an alert) without failing the test. Cells a pairing cannot express are
skipped with a reason; the numbers of cells run and skipped per pairing are
asserted (EXPECTED below), so a loader that finds fewer cells cannot pass.
Every mismatch is collected and printed at the end (cell, label, pairing,
expected, got, problems, both sides' commands and output); any mismatch
fails the test (exit 1).

Usage:
    oracle_e2e.py --pairing tlsv-tlsv|tlsv-python|python-tlsv --tlsv PATH
                  --matrix negotiation-matrix.json [--workers 4] [--cells 376,437-440]
Environment: TLSV_E2E_VERBOSE=1 prints every command; TLSV_E2E_WORKERS.
Exit status: 0 pass, 1 mismatches or wrong counts, 77 (skip) without openssl.
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PYPEER = os.path.join(HERE, "pypeer.py")

PAIRINGS = {
    "tlsv-tlsv": ("tlsv", "tlsv"),
    "tlsv-python": ("tlsv", "python"),
    "python-tlsv": ("python", "tlsv"),
}

# The oracle's tlsv variant: ids 376..563.
TLSV_FIRST_ID, TLSV_CELLS = 376, 188

# Cells run / skipped per pairing when the whole matrix is run. Every tlsv
# cell is expressible in every pairing: the tool has every protocol constant
# the cells use, and SSL 3.0 builds change nothing (every max=SSLv3 /
# max=MINIMUM_SUPPORTED cell is on an auto context whose default minimum
# TLSv1_2 already leaves it empty; min=SSLv3 sides still negotiate TLS 1.3).
EXPECTED = {p: {"run": TLSV_CELLS, "skipped": 0} for p in PAIRINGS}

# what `tlsv --protocol` accepts (SPEC §3)
TOOL_PROTOCOLS = {"TLS_CLIENT", "TLS_SERVER", "TLS", "SSLv23", "SSLv3", "TLSv1", "TLSv1_1",
                  "TLSv1_2"}

ALERT_REASON = re.compile(r"^(?:SSLV3|TLSV1|TLSV13)_ALERT_(\w+)$")
SANITIZER_REPORT = re.compile(
    r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer")


# ---------------------------------------------------------------------------
# the oracle

def load_cells(path):
    with open(path) as f:
        data = json.load(f)
    cells = [c for c in data["cells"] if c.get("variant") == "tlsv"]
    ids = [c["id"] for c in cells]
    if ids != list(range(TLSV_FIRST_ID, TLSV_FIRST_ID + TLSV_CELLS)):
        raise SystemExit("ERROR: %s: expected the tlsv cells %d..%d, found %d cells (%s..%s)"
                         % (path, TLSV_FIRST_ID, TLSV_FIRST_ID + TLSV_CELLS - 1, len(cells),
                            ids[0] if ids else "-", ids[-1] if ids else "-"))
    for c in cells:
        for side in ("client", "server"):
            if "proto" not in c[side]["spec"]:
                raise SystemExit("ERROR: cell #%d has no %s protocol" % (c["id"], side))
    return cells


def other(side):
    return "server" if side == "client" else "client"


def expectation(cell):
    """The oracle's outcome in the terms compared here."""
    r = cell["result"]
    if r.get("config_error"):
        return {"config_error": True}
    if r["ok"]:
        return {"ok": True, "version": r["version"], "server_version": r["server_version"]}
    d = r["error_side"]
    if d not in ("client", "server"):
        raise SystemExit("ERROR: cell #%d: error_side %r" % (cell["id"], d))
    sent = r["alerts_client_to_server" if d == "client" else "alerts_server_to_client"]
    if len(sent) > 1:
        raise SystemExit("ERROR: cell #%d: more than one alert from the %s" % (cell["id"], d))
    return {"ok": False, "side": d,
            "reason": (r.get(d + "_error") or {}).get("reason"),
            "alert": sent[0]["description"] if sent else None,
            "other_reason": (r.get(other(d) + "_error") or {}).get("reason"),
            "no_client_hello": r.get("client_hello") is None}


def describe_expectation(x):
    if x.get("config_error"):
        return "configuration error"
    if x["ok"]:
        return "OK %s" % x["version"]
    return "FAIL(%s) %s, alert %s sent by the %s; %s: %s" % (
        x["side"], x["reason"], x["alert"] or "(none)", x["side"], other(x["side"]),
        x["other_reason"])


def cell_title(cell):
    label = cell.get("variant_label")
    specs = "client %s / server %s" % (spec_text(cell["client"]["spec"]),
                                       spec_text(cell["server"]["spec"]))
    return "#%d [%s]%s %s" % (cell["id"], cell["matrix"],
                              (' "%s"' % label) if label else "", specs)


def spec_text(spec):
    parts = [spec["proto"].replace("PROTOCOL_", "")]
    if spec.get("options"):
        parts.append("|".join(spec["options"]))
    for k in ("min", "max"):
        if k in spec:
            parts.append("%s=%s" % (k, spec[k]))
    return " ".join(parts)


# ---------------------------------------------------------------------------
# the two implementations

def skip_reason(cell, pairing):
    if cell["result"].get("config_error"):
        return "a configuration-time error (no handshake): covered by the oracle replay unit test"
    for side, impl in zip(("client", "server"), PAIRINGS[pairing]):
        if impl != "tlsv":
            continue
        proto = cell[side]["spec"]["proto"].replace("PROTOCOL_", "")
        if proto not in TOOL_PROTOCOLS:
            return "tlsv --protocol has no %s" % proto
    return None


def tlsv_args(spec, role, cert, key):
    a = ["--protocol", spec["proto"].replace("PROTOCOL_", "")]
    if spec.get("options"):
        a += ["--options", ",".join(o.replace("OP_", "", 1) for o in spec["options"])]
    if "min" in spec:
        a += ["--min-version", spec["min"]]
    if "max" in spec:
        a += ["--max-version", spec["max"]]
    if role == "client":
        a += ["--verify", "none", "--no-check-hostname"]
    else:
        a += ["--cert", cert, "--key", key]
    return a + ["--handshake-only", "--json"]


def observe_tlsv(proc, started=True):
    """The tool's outcome from its --json line."""
    js = E.first_json_line(proc.out)
    if js is None:
        return {"kind": "none", "detail": "no JSON output (%s)"
                % ("stopped by the test" if proc.stopped else "exit %s" % proc.p.returncode)}
    if "error" not in js:
        return {"kind": "ok", "version": js.get("version")}
    kind = {"local": "local", "remote": "remote"}.get(js.get("side"), "other")
    o = {"kind": kind, "reason": js.get("error"), "alert": js.get("alert"),
         "detail": js.get("reason")}
    if not started:
        o["detail"] = "the server exited before listening: %s" % o["detail"]
        o["before_io"] = True
    elif kind == "local" and "cannot connect" not in (proc.err or "") \
            and not re.search(r"^tlsv: .*handshake failed", proc.err, re.M):
        o["before_io"] = True   # refused its configuration before connecting
    return o


def observe_python(proc, expected_config):
    """The Python peer's outcome from its last JSON line."""
    rec = None
    for line in proc.out.splitlines():
        if line.startswith("{") and '"result"' in line:
            try:
                rec = json.loads(line)
            except ValueError:
                pass
    if rec is None:
        return {"kind": "none", "detail": "no result from the Python peer (%s)"
                % ("stopped by the test" if proc.stopped else "exit %s" % proc.p.returncode)}
    o = {}
    if rec["config"] != expected_config:
        o["config_problem"] = "Python configuration %s != the oracle's %s" % (
            json.dumps(rec["config"], sort_keys=True), json.dumps(expected_config, sort_keys=True))
    res = rec["result"]
    if res["ok"]:
        o.update(kind="ok", version=res["version"])
        return o
    cls, reason = res.get("class"), res.get("reason")
    if cls == "no-connection":
        o.update(kind="none", detail=res.get("message"))
    elif cls in ("SSLError", "SSLCertVerificationError") and reason:
        m = ALERT_REASON.match(reason)
        if m:
            o.update(kind="remote", alert=m.group(1).lower(), reason=reason)
        else:
            o.update(kind="local", reason=reason, alert=None)
        o["detail"] = res.get("message")
    else:
        o.update(kind="other", reason=reason or cls, detail=res.get("message"))
    return o


def describe_observation(o):
    if o["kind"] == "ok":
        return "OK %s" % o["version"]
    if o["kind"] == "local":
        return "FAIL local %s%s" % (o.get("reason"),
                                    ", alert %s sent" % o["alert"] if o.get("alert") else
                                    (", no alert" if "alert" in o and o.get("alert") is None
                                     and o.get("impl") == "tlsv" else ""))
    if o["kind"] == "remote":
        return "FAIL remote: alert %s received (%s)" % (o.get("alert"), o.get("reason"))
    if o["kind"] == "other":
        return "FAIL other: %s (%s)" % (o.get("reason"), o.get("detail"))
    return "no result: %s" % o.get("detail")


# ---------------------------------------------------------------------------
# one cell

def start_server(impl, cell, ws, tlsv):
    spec = cell["server"]["spec"]
    cert, key = (ws.rsa_cert, ws.rsa_key) if cell["matrix"] == "rsa-cert" \
        else (ws.ec_cert, ws.ec_key)
    if impl == "tlsv":
        p = E.Proc([tlsv, "server", "--port", "0", "--once"] + tlsv_args(spec, "server", cert, key),
                   name="tlsv server")
        m = p.wait_for(E.LISTENING, "err", E.START_TIMEOUT)
    else:
        p = E.Proc([sys.executable, PYPEER, "server", "--spec", json.dumps(spec), "--cert", cert,
                    "--key", key, "--timeout", E.PEER_TIMEOUT], name="python server", env=ws.env)
        m = p.wait_for(r'^\{"port": (\d+)\}$', "out", E.START_TIMEOUT)
    return p, (int(m.group(1)) if m else None)


def run_client(impl, cell, port, ws, tlsv):
    spec = cell["client"]["spec"]
    if impl == "tlsv":
        p = E.Proc([tlsv, "client", "127.0.0.1:%d" % port] + tlsv_args(spec, "client", None, None),
                   name="tlsv client")
    else:
        p = E.Proc([sys.executable, PYPEER, "client", "--spec", json.dumps(spec), "--port", port,
                    "--timeout", E.PEER_TIMEOUT], name="python client", env=ws.env)
    p.wait(E.RUN_TIMEOUT)
    return p


def run_cell(cell, pairing, ws, tlsv):
    cimpl, simpl = PAIRINGS[pairing]
    t0 = time.monotonic()
    server, port = start_server(simpl, cell, ws, tlsv)
    client = None
    try:
        if port is not None:
            client = run_client(cimpl, cell, port, ws, tlsv)
        server.wait(E.GRACE)
    finally:
        server.stop()
    obs = {}
    for side, impl, proc in (("client", cimpl, client), ("server", simpl, server)):
        if proc is None:
            o = {"kind": "none", "detail": "not run: the server did not start listening"}
        elif impl == "tlsv":
            o = observe_tlsv(proc, started=(port is not None) if side == "server" else True)
        else:
            o = observe_python(proc, cell[side]["config"])
        o["impl"] = impl
        if impl == "tlsv" and proc is not None and SANITIZER_REPORT.search(proc.err):
            o["sanitizer"] = True
        obs[side] = o
    procs = {"client": client.describe() if client else "(not started)",
             "server": server.describe()}
    return {"obs": obs, "procs": procs, "seconds": time.monotonic() - t0}


def check(x, obs):
    """Problems (sentences) of the observations against the expectation."""
    problems = []
    for side in ("client", "server"):
        if obs[side].get("config_problem"):
            problems.append("%s: %s" % (side, obs[side]["config_problem"]))
        if obs[side].get("sanitizer"):
            problems.append("%s (tlsv): a sanitizer report on stderr" % side)
    if x["ok"]:
        for side in ("client", "server"):
            o = obs[side]
            if o["kind"] != "ok":
                problems.append("%s (%s) failed, the oracle succeeds with %s: %s"
                                % (side, o["impl"], x["version"], describe_observation(o)))
            elif o["version"] != x["version"]:
                problems.append("%s (%s) negotiated %s, the oracle %s"
                                % (side, o["impl"], o["version"], x["version"]))
        return problems
    d, od = x["side"], other(x["side"])
    o = obs[d]
    if o["kind"] == "ok":
        problems.append("%s (%s) succeeded with %s; the oracle's %s fails with %s"
                        % (d, o["impl"], o["version"], d, x["reason"]))
    elif o["kind"] != "local":
        problems.append("the failing side is not the %s (%s): it reports %s; the oracle's %s "
                        "fails on its own with %s" % (d, o["impl"], describe_observation(o), d,
                                                      x["reason"]))
    else:
        if o.get("reason") != x["reason"]:
            problems.append("%s (%s) fails with reason %s, the oracle's %s with %s"
                            % (d, o["impl"], o.get("reason"), d, x["reason"]))
        if o["impl"] == "tlsv" and o.get("alert") != x["alert"]:
            problems.append("%s (tlsv) reports alert %s (sent), the oracle's %s sends %s%s"
                            % (d, o.get("alert") or "none", d, x["alert"] or "none",
                               " (the tool failed before %s, so nothing went over the wire)"
                               % ("connecting" if d == "client" else "listening")
                               if o.get("before_io") else ""))
    p = obs[od]
    ok_other = False
    if p["kind"] == "remote" and x["alert"] is not None and p.get("alert") == x["alert"]:
        ok_other = True   # received the alert the deciding side sent
    elif p["kind"] == "local" and x["other_reason"] and p.get("reason") == x["other_reason"]:
        ok_other = True   # failed as the oracle's peer did
    elif p["kind"] == "none" and d == "client" and x["no_client_hello"]:
        ok_other = True   # the client never sent a ClientHello
    if not ok_other:
        if p["kind"] == "ok":
            problems.append("%s (%s) succeeded with %s although the %s failed"
                            % (od, p["impl"], p["version"], d))
        else:
            problems.append("%s (%s): %s; expected the alert %s received%s"
                            % (od, p["impl"], describe_observation(p), x["alert"] or "(none)",
                               " or its own %s (as the oracle's %s)" % (x["other_reason"], od)
                               if x["other_reason"] else ""))
    return problems


def python_notes(cell, obs):
    """Differences that are not mismatches: a Python side (the oracle's own
    implementation) whose outcome differs in detail from the oracle's record
    of that side, which shows that the tlsv peer did something on the wire
    that OpenSSL does differently (e.g. the record version of an alert)."""
    r = cell["result"]
    notes = []
    if r.get("ok") or r.get("config_error"):
        return notes
    for side in ("client", "server"):
        o = obs[side]
        if o["impl"] != "python":
            continue
        want = (r.get(side + "_error") or {}).get("reason")
        got = o.get("reason") if o["kind"] in ("local", "remote", "other") else None
        if got != want:
            notes.append("%s (python) reports %s where the oracle's %s reports %s"
                         % (side, describe_observation(o), side, want))
    return notes


# ---------------------------------------------------------------------------

def python_preflight(ws):
    """The Python peer must configure like upstream CPython (the oracle's
    reference): a TLS_CLIENT context defaults to minimum_version TLSv1_2."""
    code = ("import ssl; c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); "
            "print(c.minimum_version.name, ssl.OPENSSL_VERSION)")
    r = subprocess.run([sys.executable, "-c", code], env=ws.env, capture_output=True,
                       timeout=E.RUN_TIMEOUT, stdin=subprocess.DEVNULL)
    out = r.stdout.decode().strip()
    if r.returncode != 0 or not out.startswith("TLSv1_2 "):
        print("ERROR: the Python peer %s does not configure like upstream CPython (TLS_CLIENT "
              "minimum_version: %r); the oracle's tlsv cells need an upstream build such as "
              "pyenv's 3.11 (Debian's python3 has no default minimum)\n%s"
              % (sys.executable, out, r.stderr.decode()), flush=True)
        return False
    return True


def parse_cells(text):
    ids = set()
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-", 1)
            ids.update(range(int(a), int(b) + 1))
        elif part.strip():
            ids.add(int(part))
    return ids


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairing", required=True, choices=sorted(PAIRINGS))
    ap.add_argument("--tlsv", required=True, help="the tlsv program (absolute path)")
    ap.add_argument("--matrix", required=True, help="negotiation-matrix.json")
    ap.add_argument("--workers", type=int, default=int(os.environ.get("TLSV_E2E_WORKERS", "4")))
    ap.add_argument("--cells", help="only these ids (e.g. 376,437-440); disables the count check")
    ap.add_argument("--show-all", action="store_true",
                    help="print one line per cell run (expected / client / server)")
    args = ap.parse_args()
    tlsv = E.tlsv_program(args.tlsv)
    cells = load_cells(args.matrix)
    subset = None
    if args.cells:
        subset = parse_cells(args.cells)
        cells = [c for c in cells if c["id"] in subset]

    t_start = time.monotonic()
    ws = E.Workspace()
    print("oracle e2e, pairing %s (client %s, server %s): %d tlsv cells, %d workers"
          % (args.pairing, PAIRINGS[args.pairing][0], PAIRINGS[args.pairing][1], len(cells),
             args.workers), flush=True)
    print("  tlsv: %s\n  python peer: %s (OPENSSL_CONF=%s)" % (tlsv, sys.executable,
                                                               ws.openssl_conf), flush=True)
    if not python_preflight(ws):
        ws.cleanup()
        return 1
    skipped, to_run = [], []
    for c in cells:
        why = skip_reason(c, args.pairing)
        if why:
            skipped.append((c, why))
        else:
            to_run.append(c)

    results = {}
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
            futs = {pool.submit(run_cell, c, args.pairing, ws, tlsv): c for c in to_run}
            for f in concurrent.futures.as_completed(futs):
                c = futs[f]
                try:
                    results[c["id"]] = f.result()
                except Exception as e:  # a harness failure is a mismatch too
                    results[c["id"]] = {"error": "%s: %s" % (type(e).__name__, e)}
    finally:
        ws.cleanup()

    mismatches, notes = [], []
    slowest = 0.0
    for c in to_run:
        r = results[c["id"]]
        x = expectation(c)
        if "error" in r:
            mismatches.append((c, x, None, ["harness error: " + r["error"]], None))
            continue
        slowest = max(slowest, r["seconds"])
        problems = check(x, r["obs"])
        if problems:
            mismatches.append((c, x, r["obs"], problems, r["procs"]))
        else:
            notes += ["#%d: %s" % (c["id"], n) for n in python_notes(c, r["obs"])]

    if args.show_all:
        for c in to_run:
            r = results[c["id"]]
            if "error" in r:
                continue
            print("cell #%d: expected %s | client (%s) %s | server (%s) %s"
                  % (c["id"], describe_expectation(expectation(c)),
                     r["obs"]["client"]["impl"], describe_observation(r["obs"]["client"]),
                     r["obs"]["server"]["impl"], describe_observation(r["obs"]["server"])))

    for c, x, obs, problems, procs in mismatches:
        print("\nMISMATCH %s, pairing %s" % (cell_title(c), args.pairing))
        print("  expected (oracle): %s" % describe_expectation(x))
        if obs:
            print("  got: client (%s): %s" % (obs["client"]["impl"],
                                             describe_observation(obs["client"])))
            print("       server (%s): %s" % (obs["server"]["impl"],
                                             describe_observation(obs["server"])))
        for p in problems:
            print("  - " + p)
        if procs:
            print("  client %s" % procs["client"].replace("\n", "\n  "))
            print("  server %s" % procs["server"].replace("\n", "\n  "))

    print()
    if notes:
        print("NOTES on matching cells (not mismatches: the Python side's own reason differs "
              "from the oracle's record of that side):")
        for n in notes:
            print("  " + n)
    for c, why in skipped:
        print("SKIPPED %s: %s" % (cell_title(c), why))
    elapsed = time.monotonic() - t_start
    run_n = len(to_run)
    print("pairing %s: %d cells run, %d skipped, %d mismatching, %d notes, %.1f s "
          "(slowest cell %.1f s)" % (args.pairing, run_n, len(skipped), len(mismatches),
                                     len(notes), elapsed, slowest))
    status = 0
    if subset is None:
        exp = EXPECTED[args.pairing]
        if (run_n, len(skipped)) != (exp["run"], exp["skipped"]):
            print("FAIL: expected %d cells run and %d skipped in pairing %s, got %d and %d"
                  % (exp["run"], exp["skipped"], args.pairing, run_n, len(skipped)))
            status = 1
    else:
        print("(a subset was requested with --cells: the count check is off)")
    if mismatches:
        print("FAIL: %d of %d cells do not match the oracle in pairing %s: %s"
              % (len(mismatches), run_n, args.pairing,
                 ", ".join("#%d" % m[0]["id"] for m in mismatches)))
        status = 1
    if status == 0:
        print("PASS")
    return status


if __name__ == "__main__":
    sys.exit(main())
