#!/usr/bin/env python3
"""Every TLS <= 1.2 cipher suite at every version that allows it, both
directions, against OpenSSL (s_server / s_client) and GnuTLS (gnutls-serv /
gnutls-cli).

For each (version in TLS 1.0, 1.1, 1.2) x (suite usable at that version) x
(tlsv client -> peer server, peer client -> tlsv server) x peer: the version
and the suite are pinned on both sides, one line makes a round trip
(s_server -rev reverses it, gnutls-serv --echo and tlsv server --echo echo
it), and
  - tlsv's summary line and --json report the requested version and suite,
  - the ServerHello seen on the wire (a byte-copying TCP relay sits between
    the two) carries them too, extended_master_secret (RFC 7627) is
    negotiated when both sides offer it, encrypt_then_mac (RFC 7366) exactly
    for CBC suites whose peer offers/accepts it and never for AEAD suites.
Variants: every CBC suite also against OpenSSL with -no_etm (so both
MAC-then-encrypt and encrypt-then-MAC are exercised at every version), a few
suites without EMS (OpenSSL: Options = -ExtendedMasterSecret in its config;
GnuTLS: %NO_SESSION_HASH) and a few GnuTLS CBC suites with %NO_ETM.

A suite / version the peer cannot do (checked with `openssl ciphers -s` and
`gnutls-cli --list --priority ...`) is skipped explicitly, with the reason
printed; skips are counted in the summary printed at the end.

Also:
  - 1/n-1 record splitting at TLS 1.0 CBC: a multi-line payload from a tlsv
    client reaches s_server / gnutls-serv intact, and the first application
    data record on the wire carries one byte of plaintext; a tlsv server
    echoing a multi-line payload at TLS 1.0 to s_client likewise;
  - renegotiation refused (TLS 1.2): `openssl s_client` typing `R` and
    gnutls-cli's ^renegotiate^ against a tlsv server, and `openssl s_server`
    typing `r` / `R` and gnutls-serv's **REHANDSHAKE** against a tlsv client:
    tlsv answers with a warning no_renegotiation alert, keeps the connection
    (it does not abort it by itself) and does not crash; a tlsv server then
    serves the next connection. (OpenSSL 3.0 turns a received
    no_renegotiation into its own fatal handshake_failure -- ssl3_read_bytes,
    "no renegotiation" -- and GnuTLS's tools give up too, so these peers end
    the connection themselves after the refusal.) So a scripted TLS 1.2 peer
    (TLS_RSA_WITH_AES_128_GCM_SHA256; needs the `cryptography` package,
    skipped without it) renegotiates both ways, reads the warning and
    exchanges lines afterwards: the connection must stay usable; and an
    endless series of renegotiation attempts must end (TLSV_MAX_WARNINGS_IN_ROW,
    docs/limits.md) with TOO_MANY_WARN_ALERTS / unexpected_message;
  - RSA key exchange defaults: a tlsv client offers it without --ciphers, a
    tlsv server refuses it (NO_SHARED_CIPHER) unless --ciphers names it.

RSA key exchange suites use an RSA certificate whose keyUsage allows
keyEncipherment (RFC 5246 §7.4.2; GnuTLS enforces it), made here from the
shared test CA.

OpenSSL peers run with OPENSSL_CONF pointing at an empty file (Debian's
/etc/ssl/openssl.cnf sets MinProtocol = TLSv1.2 and SECLEVEL 2) and with
`-cipher 'SUITE:@SECLEVEL=0'` at TLS 1.0 / 1.1. Cases run on a small thread
pool (TLSV_SUITES12_WORKERS, default 4).
"""

import concurrent.futures
import hashlib
import hmac
import json
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop as I  # noqa: E402

CERTS = None
WORKERS = int(os.environ.get("TLSV_SUITES12_WORKERS", "4"))
HAVE_GNUTLS = shutil.which("gnutls-serv") is not None and shutil.which("gnutls-cli") is not None

# (tlsv --min/--max-version value, tlsv/OpenSSL version string, wire version,
#  s_server/s_client flag, GnuTLS priority keyword, gnutls-cli "Description" name)
VERSIONS = [
    ("TLSv1", "TLSv1", 0x0301, "-tls1", "VERS-TLS1.0", "TLS1.0"),
    ("TLSv1_1", "TLSv1.1", 0x0302, "-tls1_1", "VERS-TLS1.1", "TLS1.1"),
    ("TLSv1_2", "TLSv1.2", 0x0303, "-tls1_2", "VERS-TLS1.2", "TLS1.2"),
]
VERSION = {v[1]: v for v in VERSIONS}

# OpenSSL name: (IANA code, server certificate kind, "aead"/"cbc", lowest version,
#                GnuTLS key exchange, cipher, MAC); "rsa_kx": RSA with keyEncipherment
SUITES = {
    "ECDHE-ECDSA-AES128-GCM-SHA256":
        (0xc02b, "ecdsa", "aead", 0x0303, "ECDHE-ECDSA", "AES-128-GCM", "AEAD"),
    "ECDHE-ECDSA-AES256-GCM-SHA384":
        (0xc02c, "ecdsa", "aead", 0x0303, "ECDHE-ECDSA", "AES-256-GCM", "AEAD"),
    "ECDHE-ECDSA-CHACHA20-POLY1305":
        (0xcca9, "ecdsa", "aead", 0x0303, "ECDHE-ECDSA", "CHACHA20-POLY1305", "AEAD"),
    "ECDHE-RSA-AES128-GCM-SHA256":
        (0xc02f, "rsa", "aead", 0x0303, "ECDHE-RSA", "AES-128-GCM", "AEAD"),
    "ECDHE-RSA-AES256-GCM-SHA384":
        (0xc030, "rsa", "aead", 0x0303, "ECDHE-RSA", "AES-256-GCM", "AEAD"),
    "ECDHE-RSA-CHACHA20-POLY1305":
        (0xcca8, "rsa", "aead", 0x0303, "ECDHE-RSA", "CHACHA20-POLY1305", "AEAD"),
    "ECDHE-ECDSA-AES128-SHA256":
        (0xc023, "ecdsa", "cbc", 0x0303, "ECDHE-ECDSA", "AES-128-CBC", "SHA256"),
    "ECDHE-ECDSA-AES256-SHA384":
        (0xc024, "ecdsa", "cbc", 0x0303, "ECDHE-ECDSA", "AES-256-CBC", "SHA384"),
    "ECDHE-RSA-AES128-SHA256":
        (0xc027, "rsa", "cbc", 0x0303, "ECDHE-RSA", "AES-128-CBC", "SHA256"),
    "ECDHE-RSA-AES256-SHA384":
        (0xc028, "rsa", "cbc", 0x0303, "ECDHE-RSA", "AES-256-CBC", "SHA384"),
    "ECDHE-ECDSA-AES128-SHA":
        (0xc009, "ecdsa", "cbc", 0x0301, "ECDHE-ECDSA", "AES-128-CBC", "SHA1"),
    "ECDHE-ECDSA-AES256-SHA":
        (0xc00a, "ecdsa", "cbc", 0x0301, "ECDHE-ECDSA", "AES-256-CBC", "SHA1"),
    "ECDHE-RSA-AES128-SHA":
        (0xc013, "rsa", "cbc", 0x0301, "ECDHE-RSA", "AES-128-CBC", "SHA1"),
    "ECDHE-RSA-AES256-SHA":
        (0xc014, "rsa", "cbc", 0x0301, "ECDHE-RSA", "AES-256-CBC", "SHA1"),
    "AES128-GCM-SHA256":
        (0x009c, "rsa_kx", "aead", 0x0303, "RSA", "AES-128-GCM", "AEAD"),
    "AES256-GCM-SHA384":
        (0x009d, "rsa_kx", "aead", 0x0303, "RSA", "AES-256-GCM", "AEAD"),
    "AES128-SHA256":
        (0x003c, "rsa_kx", "cbc", 0x0303, "RSA", "AES-128-CBC", "SHA256"),
    "AES256-SHA256":
        (0x003d, "rsa_kx", "cbc", 0x0303, "RSA", "AES-256-CBC", "SHA256"),
    "AES128-SHA":
        (0x002f, "rsa_kx", "cbc", 0x0301, "RSA", "AES-128-CBC", "SHA1"),
    "AES256-SHA":
        (0x0035, "rsa_kx", "cbc", 0x0301, "RSA", "AES-256-CBC", "SHA1"),
}
MAC_LEN = {"SHA1": 20, "SHA256": 32, "SHA384": 48}

EXT_ETM = 0x0016
EXT_EMS = 0x0017
EXT_RENEGOTIATION_INFO = 0xff01

# variants: "default"; "no_etm" (the peer neither offers nor accepts
# encrypt_then_mac); "no_ems" (the peer neither offers nor accepts
# extended_master_secret)
OPENSSL_NO_EMS_CASES = [("TLSv1", "ECDHE-RSA-AES128-SHA"), ("TLSv1.1", "AES256-SHA"),
                        ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"),
                        ("TLSv1.2", "ECDHE-RSA-AES256-SHA384")]
GNUTLS_NO_ETM_CASES = [("TLSv1", "ECDHE-RSA-AES128-SHA"), ("TLSv1.1", "ECDHE-ECDSA-AES256-SHA"),
                       ("TLSv1.2", "AES128-SHA256"), ("TLSv1.2", "ECDHE-ECDSA-AES256-SHA384")]
GNUTLS_NO_EMS_CASES = [("TLSv1", "AES128-SHA"), ("TLSv1.2", "ECDHE-RSA-CHACHA20-POLY1305"),
                       ("TLSv1.2", "ECDHE-RSA-AES128-SHA256")]

TMP = None          # temporary directory (OpenSSL configurations)
OSSL_ENV = None     # environment for OpenSSL peers: an empty OPENSSL_CONF
OSSL_NO_EMS_ENV = None

RESULTS = []        # (group, version, suite, variant, status, detail)
RESULTS_LOCK = threading.Lock()
T0 = time.monotonic()


def setUpModule():
    global CERTS, TMP, OSSL_ENV, OSSL_NO_EMS_ENV
    CERTS = I.Certs()
    # RSA key exchange encrypts to the server's key: its certificate must
    # allow keyEncipherment (RFC 5246 §7.4.2; GnuTLS and tlsv enforce it; the
    # shared "rsa" certificate allows it too, this one keeps the RSA key
    # exchange runs on a certificate of their own)
    CERTS._leaf("rsa_kx", "ca", "localhost",
                "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n", ["-newkey", "rsa:2048"])
    TMP = CERTS.dir
    empty = os.path.join(TMP, "openssl-empty.cnf")
    with open(empty, "w"):
        pass
    no_ems = os.path.join(TMP, "openssl-no-ems.cnf")
    with open(no_ems, "w") as f:
        f.write("openssl_conf = default_conf\n[default_conf]\nssl_conf = ssl_sect\n"
                "[ssl_sect]\nsystem_default = sys\n[sys]\nOptions = -ExtendedMasterSecret\n")
    OSSL_ENV = dict(os.environ, OPENSSL_CONF=empty)
    OSSL_NO_EMS_ENV = dict(os.environ, OPENSSL_CONF=no_ems)


def tearDownModule():
    print_summary()
    CERTS.cleanup()


def print_summary():
    if not RESULTS:
        return
    rows = {}
    for group, version, suite, variant, status, detail in RESULTS:
        r = rows.setdefault((group, version), {"pass": 0, "fail": 0, "skip": 0})
        r[status] += 1
    out = ["", "=== test_suites12 summary (%.1f s) ===" % (time.monotonic() - T0),
           "%-38s %-8s %5s %5s %5s" % ("peer / direction", "version", "pass", "fail", "skip")]
    tot = {"pass": 0, "fail": 0, "skip": 0}
    for (group, version), r in sorted(rows.items()):
        out.append("%-38s %-8s %5d %5d %5d" % (group, version, r["pass"], r["fail"], r["skip"]))
        for k in tot:
            tot[k] += r[k]
    out.append("%-38s %-8s %5d %5d %5d" % ("total", "", tot["pass"], tot["fail"], tot["skip"]))
    fails = [x for x in RESULTS if x[4] == "fail"]
    if fails:
        out.append("failed:")
        out += ["  %s %s %s [%s]" % x[:4] for x in fails]
    skips = [x for x in RESULTS if x[4] == "skip"]
    if skips:
        out.append("skipped:")
        out += ["  %s %s %s [%s]: %s" % (x[:4] + x[5:]) for x in skips]
    print("\n".join(out), flush=True)


def record(group, version, suite, variant, status, detail=""):
    with RESULTS_LOCK:
        RESULTS.append((group, version, suite, variant, status, detail))


def sh(argv, env=None):
    """A command line as one could paste it into a shell."""
    s = " ".join("'%s'" % a if re.search(r"[^\w@%+=:,./-]", a) else a for a in map(str, argv))
    if env is not None and env.get("OPENSSL_CONF") != os.environ.get("OPENSSL_CONF"):
        s = "OPENSSL_CONF=%s %s" % (env["OPENSSL_CONF"], s)
    return s


# ---------------------------------------------------------------------------
# a TCP relay that keeps every byte, and what the wire says

class CaptureRelay(threading.Thread):
    """Forwards one TCP connection 127.0.0.1:self.port -> 127.0.0.1:upstream
    (half-closes passed on) and keeps the bytes of each direction."""

    def __init__(self, upstream):
        super().__init__(daemon=True)
        self.upstream = upstream
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(I.CMD_TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.data = {"c2s": bytearray(), "s2c": bytearray()}
        self.start()

    def run(self):
        try:
            c, _ = self.sock.accept()
        except OSError:
            self.sock.close()
            return
        try:
            s = socket.create_connection(("127.0.0.1", self.upstream), timeout=I.CMD_TIMEOUT)
        except OSError:
            c.close()
            self.sock.close()
            return
        peer = {c: s, s: c}
        name = {c: "c2s", s: "s2c"}
        open_ = {c, s}
        deadline = time.monotonic() + I.CMD_TIMEOUT * 2
        try:
            while open_ and time.monotonic() < deadline:
                ready, _, _ = select.select(list(open_), [], [], 0.5)
                for x in ready:
                    try:
                        d = x.recv(65536)
                    except OSError:
                        d = b""
                    if not d:
                        open_.discard(x)
                        try:
                            peer[x].shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                        continue
                    self.data[name[x]] += d
                    try:
                        peer[x].sendall(d)
                    except OSError:
                        open_.discard(x)
        finally:
            c.close()
            s.close()
            self.sock.close()

    def finish(self):
        self.join(I.CMD_TIMEOUT)
        try:
            self.sock.close()
        except OSError:
            pass
        return self

    def records(self, direction):
        return parse_records(bytes(self.data[direction]))


def parse_records(b):
    """[(content_type, version, body)] of a byte stream of TLS records."""
    out = []
    while len(b) >= 5:
        n = int.from_bytes(b[3:5], "big")
        if len(b) < 5 + n:
            break
        out.append((b[0], b[1] << 8 | b[2], b[5:5 + n]))
        b = b[5 + n:]
    return out


def server_hello(relay):
    """The ServerHello on the wire: {"version", "cipher", "extensions"} or None."""
    hs = b""
    for ctype, _, body in relay.records("s2c"):
        if ctype == 22:
            hs += body
        elif ctype in (20, 21):
            break
        if len(hs) >= 4 and len(hs) >= 4 + int.from_bytes(hs[1:4], "big"):
            break
    if len(hs) < 4 or hs[0] != 2:
        return None
    n = int.from_bytes(hs[1:4], "big")
    m = hs[4:4 + n]
    if len(m) < 38:
        return None
    version = m[0] << 8 | m[1]
    p = 34
    p += 1 + m[p]  # session_id
    cipher = m[p] << 8 | m[p + 1]
    p += 3  # cipher_suite, compression_method
    exts = []
    if p + 2 <= len(m):
        end = p + 2 + int.from_bytes(m[p:p + 2], "big")
        p += 2
        while p + 4 <= end:
            t = int.from_bytes(m[p:p + 2], "big")
            ln = int.from_bytes(m[p + 2:p + 4], "big")
            exts.append(t)
            p += 4 + ln
    return {"version": version, "cipher": cipher, "extensions": exts}


def wire_summary(relay):
    lines = []
    for d in ("c2s", "s2c"):
        recs = relay.records(d)
        lines.append("%s: %s" % (d, " ".join("%d/%04x/%d" % (t, v, len(b)) for t, v, b in recs[:24])
                                 + (" ..." if len(recs) > 24 else "")))
    return "wire records (type/version/length):\n  " + "\n  ".join(lines)


# ---------------------------------------------------------------------------
# peers

class GnutlsServ(I.Proc):
    """gnutls-serv on a port found free on 127.0.0.1 (retried if taken)."""

    def __init__(self, kind, prio, mode="--echo"):
        cert, key = CERTS.server(kind)
        for attempt in range(5):
            self.port = I.free_port()
            super().__init__(["gnutls-serv", "-p", self.port, mode, "--x509certfile", cert,
                              "--x509keyfile", key, "--priority", prio], name="gnutls-serv")
            try:
                self.wait_for(r"listening on IPv4 .* port %d\.\.\.done" % self.port, "any",
                              I.START_TIMEOUT)
                return
            except AssertionError:
                if self.poll() is None or attempt == 4:
                    self.stop()
                    raise
                self.stop()  # the port was taken meanwhile: another one


def openssl_server(kind, *args, env=None):
    """openssl s_server on 127.0.0.1 (kernel-picked port), env = OPENSSL_CONF."""
    cert, key = CERTS.server(kind)
    p = I.Proc(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", cert, "-key", key]
               + [str(a) for a in args], name="openssl s_server", env=env or OSSL_ENV)
    try:
        m = p.wait_for(r"^ACCEPT 127\.0\.0\.1:(\d+)$", "any", I.START_TIMEOUT)
    except AssertionError:
        p.stop()
        raise
    p.port = int(m.group(1))
    return p


def openssl_cipher_arg(version, suite):
    return suite + (":@SECLEVEL=0" if version != "TLSv1.2" else "")


def gnutls_priority(version, suite, variant="default"):
    _, _, _, _, kx, cipher, mac = SUITES[suite]
    p = "NONE:+%s:+%s:+%s:+%s:+COMP-NULL:+SIGN-ALL:+GROUP-ALL" % (VERSION[version][4], kx,
                                                                  cipher, mac)
    if variant == "no_etm":
        p += ":%NO_ETM"
    if variant == "no_ems":
        p += ":%NO_SESSION_HASH"
    return p


_openssl_can = {}
_gnutls_can = {}


def openssl_supports(version, suite):
    """None if `openssl ciphers -s` lists the suite for the version, else why not."""
    key = (version, suite)
    if key not in _openssl_can:
        argv = ["openssl", "ciphers", "-s", VERSION[version][3], openssl_cipher_arg(version, suite)]
        r = subprocess.run(argv, capture_output=True, timeout=I.CMD_TIMEOUT, env=OSSL_ENV)
        names = r.stdout.decode().strip().split(":")
        _openssl_can[key] = None if suite in names else (
            "OpenSSL %s: `%s` does not list it (%s)" % (
                subprocess.run(["openssl", "version"], capture_output=True).stdout.decode().strip(),
                sh(argv), (r.stdout + r.stderr).decode().strip()[:200]))
    return _openssl_can[key]


def gnutls_supports(version, suite):
    """None if gnutls-cli --list lists the suite for this priority, else why not."""
    key = (version, suite)
    if not HAVE_GNUTLS:
        return "gnutls-bin (gnutls-serv / gnutls-cli) not installed"
    if key not in _gnutls_can:
        prio = gnutls_priority(version, suite)
        argv = ["gnutls-cli", "--list", "--priority", prio]
        r = subprocess.run(argv, capture_output=True, timeout=I.CMD_TIMEOUT)
        text = r.stdout.decode("utf-8", "replace")
        code = SUITES[suite][0]
        want = "0x%02x, 0x%02x" % (code >> 8, code & 0xff)
        found = [l for l in text.splitlines() if want in l]
        why = None
        if r.returncode != 0 or not found:
            why = "GnuTLS: `%s` does not list suite %s (%s)" % (sh(argv), want,
                                                               (text + r.stderr.decode())[:200])
        else:
            m = re.search(r"(TLS1\.\d|SSL3\.0)\s*$", found[0])
            lowest = {"SSL3.0": 0x0300, "TLS1.0": 0x0301, "TLS1.1": 0x0302, "TLS1.2": 0x0303}.get(
                m.group(1) if m else "", 0x0303)
            if lowest > VERSION[version][2]:
                why = "GnuTLS lists %s only from %s" % (suite, m.group(1))
        _gnutls_can[key] = why
    return _gnutls_can[key]


# ---------------------------------------------------------------------------
# the cases

class CaseFailure(AssertionError):
    pass


def check(cond, msg, ctx):
    if not cond:
        raise CaseFailure("%s\n%s" % (msg, ctx()))


def expected_wire(version, suite, variant, hello, ctx):
    """The ServerHello on the wire has the version, the suite and the
    extensions that must be negotiated."""
    code, kind, mode = SUITES[suite][:3]
    check(hello is not None, "no ServerHello seen on the wire", ctx)
    check(hello["version"] == VERSION[version][2],
          "ServerHello.server_version 0x%04x, expected 0x%04x (%s)"
          % (hello["version"], VERSION[version][2], version), ctx)
    check(hello["cipher"] == code, "ServerHello.cipher_suite 0x%04x, expected 0x%04x (%s)"
          % (hello["cipher"], code, suite), ctx)
    exts = hello["extensions"]
    want_ems = variant != "no_ems"
    check((EXT_EMS in exts) == want_ems, "extended_master_secret %s in the ServerHello (%s)"
          % ("missing" if want_ems else "present", variant), ctx)
    want_etm = mode == "cbc" and variant != "no_etm"
    check((EXT_ETM in exts) == want_etm, "encrypt_then_mac %s in the ServerHello (%s suite, %s)"
          % ("missing" if want_etm else "present", mode, variant), ctx)
    check(EXT_RENEGOTIATION_INFO in exts, "renegotiation_info missing in the ServerHello", ctx)


def tlsv_version_args(version):
    v = VERSION[version][0]
    return ["--min-version", v, "--max-version", v]


def finish_proc(p):
    """Stops a process (by its PID); returns it."""
    if p is not None:
        p.stop()
    return p


def case_tlsv_client(peer, version, suite, variant):
    """tlsv client -> s_server (-rev) / gnutls-serv (--echo): a line round trip."""
    kind = SUITES[suite][1]
    srv = relay = c = None
    line = "line from tlsv %s %s %s" % (version, suite, variant)
    if peer == "openssl":
        expect = line[::-1]
        env = OSSL_NO_EMS_ENV if variant == "no_ems" else OSSL_ENV
        srv_args = [VERSION[version][3], "-cipher", openssl_cipher_arg(version, suite), "-rev"]
        if variant == "no_etm":
            srv_args.append("-no_etm")
    else:
        expect = line
        env = None
        prio = gnutls_priority(version, suite, variant)

    def ctx():
        parts = ["--- reproduction ---"]
        if srv is not None:
            parts.append(sh(srv.argv, env))
        if c is not None:
            parts.append(sh(c.argv) + "   (to the server port %s directly; the test had a "
                         "byte-copying relay in between)" % (srv.port if srv else "?"))
            parts.append("then type: %s" % line)
            parts.append(c.output())
        if srv is not None:
            parts.append(srv.output())
        if relay is not None:
            parts.append(wire_summary(relay))
        return "\n".join(parts)

    try:
        if peer == "openssl":
            srv = openssl_server(kind, *srv_args, env=env)
        else:
            srv = GnutlsServ(kind, prio)
        relay = CaptureRelay(srv.port)
        c = I.start_tlsv_client("127.0.0.1:%d" % relay.port, "--servername", "localhost",
                                "--cafile", CERTS.cafile, *tlsv_version_args(version),
                                "--ciphers", suite, "--json")
        try:
            c.wait_for(I.SUMMARY_CLIENT.pattern, "err")
        except AssertionError as e:
            raise CaseFailure("tlsv client: no connection\n%s" % ctx()) from e
        c.send(line + "\n")
        try:
            c.wait_for("^" + re.escape(expect) + "$", "out")
        except AssertionError as e:
            raise CaseFailure("tlsv client: the line did not come back (%r)\n%s"
                              % (expect, ctx())) from e
        c.close_stdin()
        rc = c.wait()
        relay.finish()
        check(rc == 0, "tlsv client exit status %s" % rc, ctx)
        check(not I.SANITIZER_REPORT.search(c.err), "tlsv client: sanitizer report", ctx)
        sm = I.SUMMARY_CLIENT.search(c.err).groupdict()
        check(sm["version"] == version and sm["cipher"] == suite,
              "tlsv client summary: %s %s, expected %s %s" % (sm["version"], sm["cipher"],
                                                              version, suite), ctx)
        first = c.out.split("\n", 1)[0]
        j = json.loads(first) if first.startswith("{") else None
        check(j is not None and j.get("version") == version and j.get("cipher") == suite,
              "tlsv client --json: %r, expected version %s cipher %s" % (first, version, suite),
              ctx)
        expected_wire(version, suite, variant, server_hello(relay), ctx)
    finally:
        if c is not None:
            c.kill()
        finish_proc(srv)
        if relay is not None:
            relay.finish()


def case_tlsv_server(peer, version, suite, variant):
    """s_client / gnutls-cli -> tlsv server --echo: a line round trip."""
    kind = SUITES[suite][1]
    cert, key = CERTS.server(kind)
    srv = relay = c = None
    env = None
    line = "line from %s %s %s %s" % (peer, version, suite, variant)

    def ctx():
        parts = ["--- reproduction ---"]
        if srv is not None:
            parts.append(sh(srv.argv))
        if c is not None:
            parts.append(sh(c.argv, env) + "   (to the tlsv port %s directly; the test had a "
                         "byte-copying relay in between)" % (srv.port if srv else "?"))
            parts.append("then type: %s" % line)
            parts.append(c.output())
        if srv is not None:
            parts.append(srv.output())
        if relay is not None:
            parts.append(wire_summary(relay))
        return "\n".join(parts)

    try:
        srv = I.TlsvServer("--cert", cert, "--key", key, "--once", "--echo", "--json",
                           *tlsv_version_args(version), "--ciphers", suite)
        relay = CaptureRelay(srv.port)
        if peer == "openssl":
            env = OSSL_NO_EMS_ENV if variant == "no_ems" else OSSL_ENV
            args = ["-connect", "127.0.0.1:%d" % relay.port, "-brief", VERSION[version][3],
                    "-cipher", openssl_cipher_arg(version, suite), "-CAfile", CERTS.cafile,
                    "-servername", "localhost", "-verify_return_error"]
            if variant == "no_etm":
                args.append("-no_etm")
            c = I.Proc(["openssl", "s_client"] + args, name="openssl s_client", env=env)
            established = r"^CONNECTION ESTABLISHED$"
        else:
            c = I.Proc(["gnutls-cli", "-p", relay.port, "--x509cafile", CERTS.cafile,
                        "--verify-hostname", "localhost", "--sni-hostname", "localhost",
                        "--priority", gnutls_priority(version, suite, variant), "127.0.0.1"],
                       name="gnutls-cli")
            established = r"^- Handshake was completed"
        try:
            c.wait_for(established, "any")
        except AssertionError as e:
            raise CaseFailure("%s: no connection\n%s" % (c.name, ctx())) from e
        c.send(line + "\n")
        try:
            c.wait_for("^" + re.escape(line) + "$", "out")
        except AssertionError as e:
            raise CaseFailure("%s: the line did not come back\n%s" % (c.name, ctx())) from e
        c.close_stdin()
        rc = c.wait()
        check(rc == 0, "%s exit status %s" % (c.name, rc), ctx)
        try:
            srv_rc = srv.wait(I.CMD_TIMEOUT)
        except AssertionError as e:
            raise CaseFailure("tlsv server --once did not exit\n%s" % ctx()) from e
        relay.finish()
        check(srv_rc == 0, "tlsv server --once exit status %s" % srv_rc, ctx)
        check(not I.SANITIZER_REPORT.search(srv.err), "tlsv server: sanitizer report", ctx)
        m = I.SUMMARY_SERVER.search(srv.err)
        check(m is not None, "tlsv server: no summary line", ctx)
        sm = m.groupdict()
        check(sm["version"] == version and sm["cipher"] == suite,
              "tlsv server summary: %s %s, expected %s %s" % (sm["version"], sm["cipher"],
                                                              version, suite), ctx)
        objs = srv.json_objects()
        check(objs and objs[0].get("version") == version and objs[0].get("cipher") == suite,
              "tlsv server --json: %r, expected version %s cipher %s" % (objs, version, suite),
              ctx)
        if peer == "openssl":
            d = I.parse_s_client(c.err)
            check(d["version"] == version and d["cipher"] == suite,
                  "s_client reports %s %s" % (d["version"], d["cipher"]), ctx)
        else:
            check(re.search(r"^- Description: \(%s-" % re.escape(VERSION[version][5]), c.out,
                            re.M), "gnutls-cli reports another version", ctx)
        expected_wire(version, suite, variant, server_hello(relay), ctx)
    finally:
        if c is not None:
            c.kill()
        finish_proc(srv)
        if relay is not None:
            relay.finish()


def build_cases(peer):
    """[(version, suite, variant, skip_reason)] for a peer."""
    cases = []
    for _, version, wire, _, _, _ in VERSIONS:
        for suite, (code, kind, mode, lowest) in ((s, v[:4]) for s, v in SUITES.items()):
            if wire < lowest:
                continue  # not defined at this version: not a case at all
            why = openssl_supports(version, suite) if peer == "openssl" \
                else gnutls_supports(version, suite)
            variants = ["default"]
            if peer == "openssl":
                if mode == "cbc":
                    variants.append("no_etm")
                if (version, suite) in OPENSSL_NO_EMS_CASES:
                    variants.append("no_ems")
            else:
                if (version, suite) in GNUTLS_NO_ETM_CASES:
                    variants.append("no_etm")
                if (version, suite) in GNUTLS_NO_EMS_CASES:
                    variants.append("no_ems")
            for variant in variants:
                cases.append((version, suite, variant, why))
    return cases


def run_matrix(test, peer, direction):
    """Runs every case of a peer/direction on a thread pool, then reports
    each as a subTest (pass / fail / skip with the reason printed)."""
    fn = case_tlsv_client if direction == "tlsv-client" else case_tlsv_server
    group = "%s %s" % (peer, "(tlsv client -> peer server)" if direction == "tlsv-client"
                       else "(peer client -> tlsv server)")
    cases = build_cases(peer)

    def run(case):
        version, suite, variant, why = case
        if why:
            return "skip", why
        t = time.monotonic()
        try:
            fn(peer, version, suite, variant)
            return "pass", "%.2f s" % (time.monotonic() - t)
        except AssertionError as e:
            return "fail", str(e)
        except Exception:  # noqa: BLE001 -- reported as the case's failure
            return "fail", traceback.format_exc()

    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(run, cases))
    for (version, suite, variant, _), (status, detail) in zip(cases, results):
        record(group, version, suite, variant, status, detail)
        with test.subTest(version=version, suite=suite, variant=variant):
            if status == "skip":
                print("\nSKIP %s %s %s [%s]: %s" % (group, version, suite, variant, detail),
                      flush=True)
                test.skipTest(detail)
            elif status == "fail":
                test.fail("%s %s %s [%s]:\n%s" % (group, version, suite, variant, detail))


class OpenSSL(unittest.TestCase):

    def test_tlsv_client_to_s_server(self):
        run_matrix(self, "openssl", "tlsv-client")

    def test_s_client_to_tlsv_server(self):
        run_matrix(self, "openssl", "tlsv-server")


@unittest.skipUnless(HAVE_GNUTLS, "gnutls-bin (gnutls-serv, gnutls-cli) not installed")
class GnuTLS(unittest.TestCase):

    def test_tlsv_client_to_gnutls_serv(self):
        run_matrix(self, "gnutls", "tlsv-client")

    def test_gnutls_cli_to_tlsv_server(self):
        run_matrix(self, "gnutls", "tlsv-server")


class RsaKeyExchangeDefaults(unittest.TestCase):
    """tlsv clients offer RSA key exchange by default; tlsv servers use it
    only when --ciphers names it."""

    def test_tlsv_client_offers_rsa_kx_by_default(self):
        for version in ("TLSv1", "TLSv1.2"):
            suite = "AES128-SHA" if version == "TLSv1" else "AES256-GCM-SHA384"
            with self.subTest(version=version):
                s = openssl_server("rsa_kx", VERSION[version][3], "-cipher",
                                   openssl_cipher_arg(version, suite))
                self.addCleanup(s.stop)
                r = I.run_tlsv_client(self, "127.0.0.1:%d" % s.port, "--servername",
                                      "localhost", "--cafile", CERTS.cafile, "--min-version",
                                      "TLSv1", "--max-version", VERSION[version][0],
                                      "--handshake-only", "--json")
                text = "--- reproduction ---\n%s\n%s\n%s" % (sh(s.argv, OSSL_ENV),
                                                            r.describe(), s.output())
                self.assertEqual(r.rc, 0, text)
                self.assertEqual((r.json["version"], r.json["cipher"]), (version, suite), text)

    def test_tlsv_server_uses_rsa_kx_only_when_named(self):
        cert, key = CERTS.server("rsa_kx")
        srv = I.tlsv_server(self, "--cert", cert, "--key", key, "--once",
                            "--max-version", "TLSv1_2", "--handshake-only")
        c = I.Proc(["openssl", "s_client", "-connect", "127.0.0.1:%d" % srv.port, "-brief",
                    "-tls1_2", "-cipher", "AES128-SHA:AES128-GCM-SHA256", "-CAfile",
                    CERTS.cafile, "-servername", "localhost"], name="openssl s_client",
                   env=OSSL_ENV)
        self.addCleanup(c.kill)
        c.close_stdin()
        rc = c.wait()
        text = "--- reproduction ---\n%s\n%s\n%s\n%s" % (sh(srv.argv), sh(c.argv, OSSL_ENV),
                                                         c.output(), srv.output())
        self.assertNotEqual(rc, 0, text)
        f = srv.failure()
        self.assertEqual((f["reason"], f["alert"], f["dir"]),
                         ("NO_SHARED_CIPHER", "handshake_failure", "sent"), text)
        I.finish_once_server(self, srv, 1)


# ---------------------------------------------------------------------------
# 1/n-1 record splitting at TLS 1.0 with CBC

PAYLOAD = "".join("line %03d of a multi-line payload: %s\n" % (i, "abcdefghij" * (i % 7))
                  for i in range(120))


def one_byte_record_len(suite, etm, version):
    mac = MAC_LEN[SUITES[suite][6]]
    iv = 16 if version != "TLSv1" else 0
    if etm:
        return iv + 16 + mac              # 1 byte + padding -> one block, then the MAC
    return iv + ((1 + mac) // 16 + 1) * 16  # 1 byte + MAC + padding


class RecordSplitting(unittest.TestCase):
    """A multi-line payload at TLS 1.0 CBC arrives intact; tlsv's first
    application data record of a write carries one byte (1/n-1 split)."""

    def split_to_server(self, peer, suite, variant="default"):
        kind = SUITES[suite][1]
        env = OSSL_ENV if peer == "openssl" else None
        if peer == "openssl":
            args = ["-tls1", "-cipher", openssl_cipher_arg("TLSv1", suite)]
            if variant == "no_etm":
                args.append("-no_etm")
            srv = openssl_server(kind, *args)
        else:
            srv = GnutlsServ(kind, gnutls_priority("TLSv1", suite, variant), mode="--echo")
        self.addCleanup(srv.stop)
        relay = CaptureRelay(srv.port)
        self.addCleanup(relay.finish)
        r = I.run_tlsv_client(self, "127.0.0.1:%d" % relay.port, "--servername", "localhost",
                              "--cafile", CERTS.cafile, *tlsv_version_args("TLSv1"),
                              "--ciphers", suite, input=PAYLOAD.encode())
        ctx = "--- reproduction ---\n%s\n%s   (stdin: a %d-byte, %d-line payload)\n%s\n%s" % (
            sh(srv.argv, env), sh(r.argv), len(PAYLOAD), PAYLOAD.count("\n"), r.describe(),
            srv.output())
        self.assertEqual(r.rc, 0, ctx)
        self.assertEqual(r.summary["version"], "TLSv1", ctx)
        self.assertEqual(r.summary["cipher"], suite, ctx)
        # the peer got every byte, in order
        if peer == "openssl":
            srv.wait_for_stdout_bytes(len(PAYLOAD))
            got = srv.out_bytes
            start = got.find(PAYLOAD[:40].encode())
            self.assertGreaterEqual(start, 0, ctx)
            self.assertEqual(got[start:start + len(PAYLOAD)].decode(), PAYLOAD, ctx)
        else:
            # gnutls-serv --echo sent it back: tlsv printed the same bytes
            self.assertEqual(r.out, PAYLOAD, ctx)
        relay.finish()
        hello = server_hello(relay)
        etm = hello is not None and EXT_ETM in hello["extensions"]
        self.assertEqual(etm, variant != "no_etm", ctx + "\n" + wire_summary(relay))
        app = [len(b) for t, v, b in relay.records("c2s") if t == 23]
        one = one_byte_record_len(suite, etm, "TLSv1")
        self.assertTrue(app, ctx + "\n" + wire_summary(relay))
        self.assertEqual(app[0], one, "the first application data record from tlsv is not a "
                         "1-byte record (1/n-1 split): lengths %s, expected %d first\n%s\n%s"
                         % (app[:8], one, ctx, wire_summary(relay)))
        self.assertGreater(len(app), 1, ctx)
        self.assertGreater(app[1], one, ctx)

    def test_tlsv_client_to_s_server_mac_then_encrypt(self):
        self.split_to_server("openssl", "ECDHE-RSA-AES128-SHA", "no_etm")

    def test_tlsv_client_to_s_server_encrypt_then_mac(self):
        self.split_to_server("openssl", "AES256-SHA")

    def test_tlsv_client_to_s_server_ecdsa(self):
        self.split_to_server("openssl", "ECDHE-ECDSA-AES256-SHA")

    @unittest.skipUnless(HAVE_GNUTLS, "gnutls-bin not installed")
    def test_tlsv_client_to_gnutls_serv(self):
        self.split_to_server("gnutls", "ECDHE-RSA-AES256-SHA")

    def test_s_client_to_tlsv_server_echo(self):
        # the tlsv server's writes (the echo) are split too, and s_client
        # reassembles the payload
        suite = "ECDHE-ECDSA-AES128-SHA"
        cert, key = CERTS.server("ecdsa")
        srv = I.tlsv_server(self, "--cert", cert, "--key", key, "--once", "--echo",
                            *tlsv_version_args("TLSv1"), "--ciphers", suite)
        relay = CaptureRelay(srv.port)
        self.addCleanup(relay.finish)
        c = I.Proc(["openssl", "s_client", "-connect", "127.0.0.1:%d" % relay.port, "-brief",
                    "-tls1", "-cipher", openssl_cipher_arg("TLSv1", suite), "-no_etm",
                    "-CAfile", CERTS.cafile, "-servername", "localhost"],
                   name="openssl s_client", env=OSSL_ENV)
        self.addCleanup(c.kill)

        def ctx():
            return "--- reproduction ---\n%s\n%s   (to the tlsv port directly; stdin: a " \
                "%d-byte, %d-line payload)\n%s\n%s" % (
                    sh(srv.argv), sh(c.argv, OSSL_ENV), len(PAYLOAD), PAYLOAD.count("\n"),
                    c.output(), srv.output())
        try:
            c.wait_for(r"^CONNECTION ESTABLISHED$", "err")
            c.send(PAYLOAD)
            c.wait_for_stdout_bytes(len(PAYLOAD))
        except (AssertionError, OSError) as e:
            self.fail("%s\n%s" % (e, ctx()))
        c.close_stdin()
        rc = c.wait()
        self.assertEqual(rc, 0, ctx())
        self.assertEqual(c.out, PAYLOAD, ctx())
        text = ctx()
        I.finish_once_server(self, srv, 0)
        relay.finish()
        app = [len(b) for t, v, b in relay.records("s2c") if t == 23]
        one = one_byte_record_len(suite, False, "TLSv1")
        self.assertTrue(app and app[0] == one, "tlsv server's first application data records: "
                        "%s, expected a %d-byte (1-byte plaintext) one first\n%s\n%s"
                        % (app[:8], one, text, wire_summary(relay)))


# ---------------------------------------------------------------------------
# renegotiation refused (TLS 1.2)

NO_RENEG_S_CLIENT = r"^<<< TLS 1\.2, Alert \[length 0002\], warning no_renegotiation$"
NO_RENEG_S_SERVER = NO_RENEG_S_CLIENT


class Renegotiation(unittest.TestCase):

    def tlsv_server(self):
        cert, key = CERTS.server("rsa")
        return I.tlsv_server(self, "--cert", cert, "--key", key, "--echo",
                             *tlsv_version_args("TLSv1.2"), "--json")

    def check_server_survives(self, srv, what):
        """The tlsv server is alive and serves the next connection."""
        self.assertIsNone(srv.poll(), "tlsv server ended after %s\n%s" % (what, srv.output()))
        c = I.Proc(["openssl", "s_client", "-connect", "127.0.0.1:%d" % srv.port, "-brief",
                    "-tls1_2", "-CAfile", CERTS.cafile, "-servername", "localhost"],
                   name="openssl s_client", env=OSSL_ENV)
        try:
            c.wait_for(r"^CONNECTION ESTABLISHED$", "err")
            c.send("next connection\n")
            c.wait_for("^next connection$", "out")
            c.close_stdin()
            self.assertEqual(c.wait(), 0, c.output())
        finally:
            c.kill()
        self.assertEqual(srv.summary(count=2)["version"], "TLSv1.2", srv.output())
        I.assert_no_sanitizer_report(self, srv, "tlsv server")

    def test_s_client_renegotiates_tlsv_server(self):
        srv = self.tlsv_server()
        c = I.Proc(["openssl", "s_client", "-connect", "127.0.0.1:%d" % srv.port, "-tls1_2",
                    "-msg", "-CAfile", CERTS.cafile, "-servername", "localhost"],
                   name="openssl s_client", env=OSSL_ENV)
        self.addCleanup(c.kill)
        repro = "--- reproduction ---\n%s\n%s   then type: line one / R / after\n" % (
            sh(srv.argv), sh(c.argv, OSSL_ENV))
        c.wait_for(r"^\s+Extended master secret: (yes|no)$", "out")
        c.send("line one\n")
        c.wait_for(r"^line one$", "out")
        self.assertEqual(srv.summary()["version"], "TLSv1.2", srv.output())
        c.send("R\n")  # s_client: renegotiate
        c.wait_for(r"^RENEGOTIATING$", "err")
        # tlsv's answer to the renegotiation ClientHello: a warning
        # no_renegotiation (RFC 5746 §4.2)
        c.wait_for(NO_RENEG_S_CLIENT, "out", timeout=I.LINE_TIMEOUT)
        try:
            c.send("after\n")
            c.wait_for(r"^after$", "out", timeout=2)
            echoed = True
        except (AssertionError, OSError):
            echoed = False
        c.close_stdin()
        c.wait()
        if not echoed:
            # OpenSSL ends the connection itself (fatal handshake_failure on
            # a no_renegotiation, "ssl3_read_bytes:no renegotiation"): tlsv
            # must report it as received, not fail by itself
            self.assertRegex(c.err, r"no renegotiation", repro + c.output())
            f = srv.wait_for(r"^tlsv: 127\.0\.0\.1:\d+: connection error: (\w+) "
                             r"\(alert (\w+), (sent|received)\)", "err")
            self.assertEqual((f.group(2), f.group(3)), ("handshake_failure", "received"),
                             repro + c.output() + srv.output())
        self.assertNotRegex(c.out, r"<<< TLS 1\.2, Alert \[length 0002\], fatal",
                            "tlsv sent a fatal alert\n" + repro + c.output() + srv.output())
        self.check_server_survives(srv, "a refused renegotiation")

    @unittest.skipUnless(HAVE_GNUTLS, "gnutls-bin not installed")
    def test_gnutls_cli_renegotiates_tlsv_server(self):
        srv = self.tlsv_server()
        c = I.Proc(["gnutls-cli", "-p", srv.port, "--x509cafile", CERTS.cafile,
                    "--verify-hostname", "localhost", "--inline-commands", "--priority",
                    "NORMAL:-VERS-ALL:+VERS-TLS1.2", "127.0.0.1"], name="gnutls-cli")
        self.addCleanup(c.kill)
        repro = "--- reproduction ---\n%s\n%s   then type: line one / ^renegotiate^\n" % (
            sh(srv.argv), sh(c.argv))
        c.wait_for(r"^- Handshake was completed", "out")
        c.send("line one\n")
        c.wait_for(r"^line one$", "out")
        c.send("^renegotiate^\n")
        # gnutls-cli retries the handshake after each warning alert; every
        # retry (a new encrypted ClientHello) is read and refused by tlsv
        # on the same connection
        c.wait_for(r"Received alert \[100\]", "any", count=2)
        c.close_stdin()
        c.wait()
        # gnutls-cli keeps retrying; tlsv refuses each with a warning and,
        # after TLSV_MAX_WARNINGS_IN_ROW (8) attempts in a row, ends the
        # connection with a fatal unexpected_message (docs/limits.md)
        text = c.out + c.err
        other = re.search(r"Received alert \[(?!100\])(\d+)\]", text)
        if other:
            self.assertEqual(other.group(1), "10", "tlsv sent another alert\n" + repro +
                             c.output() + srv.output())
            self.assertGreaterEqual(text[:other.start()].count("Received alert [100]"), 8,
                                    "tlsv gave up before 8 refusals\n" + repro + c.output())
        self.check_server_survives(srv, "refused renegotiations")

    def s_server_renegotiates_tlsv_client(self, cmd):
        cert, key = CERTS.server("rsa")
        s = I.Proc(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", cert, "-key", key,
                    "-tls1_2", "-msg"], name="openssl s_server", env=OSSL_ENV)
        self.addCleanup(s.stop)
        port = int(s.wait_for(r"^ACCEPT 127\.0\.0\.1:(\d+)$", "any").group(1))
        c = I.start_tlsv_client("127.0.0.1:%d" % port, "--servername", "localhost", "--cafile",
                                CERTS.cafile, *tlsv_version_args("TLSv1.2"))
        self.addCleanup(c.kill)
        repro = "--- reproduction ---\n%s\n%s   then: tlsv types 'line one'; s_server types " \
                "'%s'\n" % (sh(s.argv, OSSL_ENV), sh(c.argv), cmd)
        c.wait_for(I.SUMMARY_CLIENT.pattern, "err")
        c.send("line one\n")
        s.wait_for(r"^line one$", "out")
        s.send("server line\n")
        c.wait_for(r"^server line$", "out")
        s.send(cmd + "\n")  # s_server: HelloRequest
        s.wait_for(r">>> TLS 1\.2, Handshake \[length 0004\], HelloRequest", "out")
        s.wait_for(NO_RENEG_S_SERVER, "out")
        # tlsv does not abort by itself; OpenSSL 3.0 answers the refusal with
        # a fatal handshake_failure, which tlsv reports as received
        try:
            s.send("after the refusal\n")
            c.wait_for(r"^after the refusal$", "out", timeout=2)
            usable = True
        except (AssertionError, OSError):
            usable = False
        c.close_stdin()
        rc = c.wait()
        I.assert_no_sanitizer_report(self, c, "tlsv client")
        out = repro + c.output() + "\n" + s.output()
        self.assertNotRegex(s.out, r"<<< TLS 1\.2, Alert \[length 0002\], fatal",
                            "tlsv sent a fatal alert\n" + out)
        if not usable:
            self.assertRegex(s.err + s.out, r"no[ _]renegotiation|fatal handshake_failure", out)
            f = re.search(r"^tlsv: connection error: (\w+) \(alert (\w+), (sent|received)\)",
                            c.err, re.M)
            self.assertIsNotNone(f, "tlsv client: no clean error line\n" + out)
            self.assertEqual((f.group(2), f.group(3)), ("handshake_failure", "received"), out)
            self.assertEqual(rc, 1, out)
        else:
            self.assertEqual(rc, 0, out)

    def test_s_server_r_renegotiates_tlsv_client(self):
        self.s_server_renegotiates_tlsv_client("r")

    def test_s_server_R_renegotiates_tlsv_client(self):
        self.s_server_renegotiates_tlsv_client("R")

    @unittest.skipUnless(HAVE_GNUTLS, "gnutls-bin not installed")
    def test_gnutls_serv_rehandshake_to_tlsv_client(self):
        port_srv = GnutlsServ("rsa", "NORMAL:-VERS-ALL:+VERS-TLS1.2")
        self.addCleanup(port_srv.stop)
        c = I.start_tlsv_client("127.0.0.1:%d" % port_srv.port, "--servername", "localhost",
                                "--cafile", CERTS.cafile, *tlsv_version_args("TLSv1.2"))
        self.addCleanup(c.kill)

        def out():
            return "--- reproduction ---\n%s\n%s   then tlsv types: line one / " \
                "**REHANDSHAKE**\n%s\n%s" % (sh(port_srv.argv), sh(c.argv), c.output(),
                                             port_srv.output())
        c.wait_for(I.SUMMARY_CLIENT.pattern, "err")
        c.send("line one\n")
        c.wait_for(r"^line one$", "out")
        c.send("**REHANDSHAKE**\n")  # gnutls-serv --echo: send a HelloRequest
        port_srv.wait_for(r"Sending rehandshake request", "any")
        # gnutls-serv sees tlsv's warning (its echo loop then gives up)
        port_srv.wait_for(r"warning alert has been received|NO_RENEGOTIATION", "any")
        c.close_stdin()
        rc = c.wait()
        I.assert_no_sanitizer_report(self, c, "tlsv client")
        self.assertNotRegex(c.err, r"alert \w+, sent", "tlsv sent a fatal alert\n" + out())
        self.assertIn(rc, (0, 1), out())


# ---------------------------------------------------------------------------
# renegotiation refused, the connection stays usable: a scripted TLS 1.2 peer
#
# OpenSSL and GnuTLS end the connection themselves once their renegotiation
# is refused, so they cannot show that tlsv keeps it usable. This peer can:
# just enough TLS 1.2 (TLS_RSA_WITH_AES_128_GCM_SHA256, RFC 5246 / 5288 /
# 5746) to complete a handshake, exchange lines, renegotiate (ClientHello at
# a server, HelloRequest at a client), read the warning no_renegotiation and
# carry on. Needs the `cryptography` package (skipped without it).

try:
    from cryptography import x509 as _x509
    from cryptography.hazmat.primitives import serialization as _ser
    from cryptography.hazmat.primitives.asymmetric import padding as _padding
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM as _AESGCM
    HAVE_CRYPTOGRAPHY = True
except ImportError:
    HAVE_CRYPTOGRAPHY = False

def prf12(secret, label, seed, n):
    """TLS 1.2 PRF with SHA-256 (RFC 5246 §5)."""
    seed = label + seed
    out, a = b"", seed
    while len(out) < n:
        a = hmac.new(secret, a, hashlib.sha256).digest()
        out += hmac.new(secret, a + seed, hashlib.sha256).digest()
    return out[:n]


def hs_msg(t, body):
    return bytes([t]) + len(body).to_bytes(3, "big") + body


def vec(n, data):
    return len(data).to_bytes(n, "big") + data


class MiniTLS12:
    """One TLS 1.2 connection with TLS_RSA_WITH_AES_128_GCM_SHA256."""

    SUITE = 0x009c

    def __init__(self, sock, role):
        self.sock, self.role = sock, role
        self.sock.settimeout(I.LINE_TIMEOUT)
        self.inbuf = b""
        self.hsbuf = b""
        self.transcript = b""
        self.wr = self.rd = None  # (AESGCM, salt)
        self.wseq = self.rseq = 0
        self.verify_data = {}

    # -- records
    def _read(self, n):
        while len(self.inbuf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise AssertionError("scripted peer: the connection closed (%d bytes pending)"
                                     % len(self.inbuf))
            self.inbuf += d
        out, self.inbuf = self.inbuf[:n], self.inbuf[n:]
        return out

    def recv_record(self):
        h = self._read(5)
        ctype, version, n = h[0], h[1] << 8 | h[2], int.from_bytes(h[3:5], "big")
        body = self._read(n)
        if self.rd is not None:
            aead, salt = self.rd
            ad = struct.pack(">QBHH", self.rseq, ctype, version, n - 24)
            body = aead.decrypt(salt + body[:8], body[8:], ad)
            self.rseq += 1
        return ctype, body

    def send_record(self, ctype, data):
        if self.wr is not None:
            aead, salt = self.wr
            explicit = struct.pack(">Q", self.wseq)
            ad = struct.pack(">QBHH", self.wseq, ctype, 0x0303, len(data))
            data = explicit + aead.encrypt(salt + explicit, data, ad)
            self.wseq += 1
        self.sock.sendall(struct.pack(">BHH", ctype, 0x0303, len(data)) + data)

    def recv_hs(self, expect):
        """The next handshake message (type `expect`), recorded in the transcript."""
        while len(self.hsbuf) < 4 or len(self.hsbuf) < 4 + int.from_bytes(self.hsbuf[1:4], "big"):
            ctype, body = self.recv_record()
            if ctype == 21:
                raise AssertionError("scripted peer: alert %s while waiting for handshake "
                                     "message %d" % (body.hex(), expect))
            if ctype != 22:
                raise AssertionError("scripted peer: record type %d while waiting for "
                                     "handshake message %d" % (ctype, expect))
            self.hsbuf += body
        n = 4 + int.from_bytes(self.hsbuf[1:4], "big")
        msg, self.hsbuf = self.hsbuf[:n], self.hsbuf[n:]
        if msg[0] != expect:
            raise AssertionError("scripted peer: handshake message %d, expected %d"
                                 % (msg[0], expect))
        self.transcript += msg
        return msg[4:]

    def send_hs(self, msg):
        self.transcript += msg
        self.send_record(22, msg)

    def recv_ccs(self):
        ctype, body = self.recv_record()
        if (ctype, body) != (20, b"\x01"):
            raise AssertionError("scripted peer: %d %s instead of ChangeCipherSpec"
                                 % (ctype, body.hex()))

    # -- keys
    def keys(self, premaster, client_random, server_random):
        self.master = prf12(premaster, b"master secret", client_random + server_random, 48)
        kb = prf12(self.master, b"key expansion", server_random + client_random, 40)
        client = (_AESGCM(kb[0:16]), kb[32:36])
        server = (_AESGCM(kb[16:32]), kb[36:40])
        self.pending_wr, self.pending_rd = (client, server) if self.role == "client" \
            else (server, client)

    def finished(self, label):
        return prf12(self.master, label, hashlib.sha256(self.transcript).digest(), 12)

    def send_finished(self):
        label = b"client finished" if self.role == "client" else b"server finished"
        self.send_record(20, b"\x01")
        self.wr, self.wseq = self.pending_wr, 0
        vd = self.finished(label)
        self.verify_data[self.role] = vd
        self.send_hs(hs_msg(20, vd))

    def recv_finished(self):
        label = b"server finished" if self.role == "client" else b"client finished"
        self.recv_ccs()
        self.rd, self.rseq = self.pending_rd, 0
        want = self.finished(label)
        got = self.recv_hs(20)
        if got != want:
            raise AssertionError("scripted peer: the peer's Finished does not verify")
        self.verify_data["server" if self.role == "client" else "client"] = got

    # -- application data
    def send_line(self, line):
        self.send_record(23, line.encode() + b"\n")

    def recv_record_expect(self, ctype):
        t, body = self.recv_record()
        if t != ctype:
            raise AssertionError("scripted peer: record type %d (%s), expected %d"
                                 % (t, body[:16].hex(), ctype))
        return body

    def recv_line(self):
        data = b""
        while not data.endswith(b"\n"):
            data += self.recv_record_expect(23)
        return data.decode()

    def close(self):
        try:
            self.send_record(21, b"\x01\x00")
        except OSError:
            pass
        self.sock.close()


def client_hello(renegotiated_connection=b""):
    random = os.urandom(32)
    exts = struct.pack(">H", 0xff01) + vec(2, vec(1, renegotiated_connection)) \
        + struct.pack(">H", 0x000d) + vec(2, vec(2, bytes.fromhex("04010804")))
    body = b"\x03\x03" + random + b"\x00" + vec(2, struct.pack(">H", MiniTLS12.SUITE)) \
        + b"\x01\x00" + vec(2, exts)
    return random, hs_msg(1, body)


def mini_client_handshake(t):
    cr, ch = client_hello()
    t.send_hs(ch)
    sh_ = t.recv_hs(2)
    sr = sh_[2:34]
    p = 34 + 1 + sh_[34]
    if int.from_bytes(sh_[p:p + 2], "big") != MiniTLS12.SUITE:
        raise AssertionError("scripted client: the server chose 0x%s" % sh_[p:p + 2].hex())
    cert = t.recv_hs(11)
    der = cert[6:6 + int.from_bytes(cert[3:6], "big")]
    pub = _x509.load_der_x509_certificate(der).public_key()
    t.recv_hs(14)
    premaster = b"\x03\x03" + os.urandom(46)
    t.send_hs(hs_msg(16, vec(2, pub.encrypt(premaster, _padding.PKCS1v15()))))
    t.keys(premaster, cr, sr)
    t.send_finished()
    t.recv_finished()


def mini_server_handshake(t, cert_pem, key_pem):
    ch = t.recv_hs(1)
    cr = ch[2:34]
    p = 34 + 1 + ch[34]
    n = int.from_bytes(ch[p:p + 2], "big")
    suites = [int.from_bytes(ch[p + 2 + i:p + 4 + i], "big") for i in range(0, n, 2)]
    if MiniTLS12.SUITE not in suites:
        raise AssertionError("scripted server: the client does not offer 0x009c: %s"
                             % [hex(x) for x in suites])
    sr = os.urandom(32)
    exts = struct.pack(">H", 0xff01) + vec(2, vec(1, b""))
    t.send_hs(hs_msg(2, b"\x03\x03" + sr + b"\x00" + struct.pack(">H", MiniTLS12.SUITE)
                     + b"\x00" + vec(2, exts)))
    with open(cert_pem, "rb") as f:
        der = _x509.load_pem_x509_certificate(f.read()).public_bytes(_ser.Encoding.DER)
    t.send_hs(hs_msg(11, vec(3, vec(3, der))))
    t.send_hs(hs_msg(14, b""))
    cke = t.recv_hs(16)
    with open(key_pem, "rb") as f:
        key = _ser.load_pem_private_key(f.read(), None)
    premaster = key.decrypt(cke[2:], _padding.PKCS1v15())
    t.keys(premaster, cr, sr)
    t.recv_finished()
    t.send_finished()


@unittest.skipUnless(HAVE_CRYPTOGRAPHY, "the `cryptography` package (the scripted TLS 1.2 "
                     "peer) is not installed")
class RenegotiationKeepsConnection(unittest.TestCase):
    """A scripted TLS 1.2 peer renegotiates, reads tlsv's warning
    no_renegotiation and keeps using the connection."""

    def test_client_hello_on_established_tlsv_server(self):
        cert, key = CERTS.server("rsa_kx")
        srv = I.tlsv_server(self, "--cert", cert, "--key", key, "--once", "--echo",
                            *tlsv_version_args("TLSv1.2"), "--ciphers", "AES128-GCM-SHA256")
        step = "connect"
        try:
            t = MiniTLS12(socket.create_connection(("127.0.0.1", srv.port),
                                                   timeout=I.LINE_TIMEOUT), "client")
            step = "handshake"
            mini_client_handshake(t)
            step = "line before"
            t.send_line("before renegotiation")
            self.assertEqual(t.recv_line(), "before renegotiation\n")
            step = "renegotiation ClientHello"
            _, ch = client_hello(t.verify_data["client"])
            t.send_record(22, ch)  # (a new handshake: not part of the old transcript)
            step = "the answer to the renegotiation"
            self.assertEqual(t.recv_record_expect(21), bytes([1, 100]),
                             "tlsv's answer is not a warning no_renegotiation")
            step = "line after"
            t.send_line("after the refusal")
            self.assertEqual(t.recv_line(), "after the refusal\n")
            t.close()
        except (AssertionError, OSError, ValueError) as e:
            self.fail("scripted TLS 1.2 client -> %s, step '%s': %s\n%s"
                      % (sh(srv.argv), step, e, srv.output()))
        I.finish_once_server(self, srv, 0)
        self.assertEqual(srv.summary()["cipher"], "AES128-GCM-SHA256", srv.output())

    def test_renegotiation_attempts_are_bounded(self):
        # every refused attempt costs the server a reply; tlsv bounds them:
        # "more than TLSV_MAX_WARNINGS_IN_ROW (8) renegotiation attempts in a
        # row" fail with TOO_MANY_WARN_ALERTS / unexpected_message
        # (src/engine/engine.c, docs/limits.md)
        cert, key = CERTS.server("rsa_kx")
        srv = I.tlsv_server(self, "--cert", cert, "--key", key, "--once", "--echo",
                            *tlsv_version_args("TLSv1.2"), "--ciphers", "AES128-GCM-SHA256")
        answers = []
        try:
            t = MiniTLS12(socket.create_connection(("127.0.0.1", srv.port),
                                                   timeout=I.LINE_TIMEOUT), "client")
            mini_client_handshake(t)
            for i in range(12):
                _, ch = client_hello(t.verify_data["client"])
                t.send_record(22, ch)
                body = t.recv_record_expect(21)
                answers.append(body.hex())
                if body[0] == 2:
                    break
            t.close()
        except (AssertionError, OSError, ValueError) as e:
            answers.append("error: %s" % e)
        text = "scripted TLS 1.2 client -> %s: 12 renegotiation ClientHellos in a row, " \
            "tlsv's answers: %s\n%s" % (sh(srv.argv), answers, srv.output())
        self.assertIn("020a", answers, "tlsv never ends an endless renegotiation attempt "
                      "with a fatal unexpected_message\n" + text)
        self.assertLessEqual(answers.index("020a"), 8, text)
        I.finish_once_server(self, srv, 0)  # --once reports the handshake, which succeeded
        self.assertIn("TOO_MANY_WARN_ALERTS", srv.output(), text)

    def test_hello_request_to_tlsv_client(self):
        cert, key = CERTS.server("rsa_kx")
        ls = socket.create_server(("127.0.0.1", 0))
        ls.settimeout(I.CMD_TIMEOUT)
        self.addCleanup(ls.close)
        c = I.start_tlsv_client("127.0.0.1:%d" % ls.getsockname()[1], "--servername",
                                "localhost", "--cafile", CERTS.cafile,
                                *tlsv_version_args("TLSv1.2"), "--ciphers", "AES128-GCM-SHA256")
        self.addCleanup(c.kill)
        step = "accept"
        try:
            conn, _ = ls.accept()
            t = MiniTLS12(conn, "server")
            step = "handshake"
            mini_server_handshake(t, cert, key)
            c.wait_for(I.SUMMARY_CLIENT.pattern, "err")
            step = "lines before"
            c.send("from tlsv before\n")
            self.assertEqual(t.recv_line(), "from tlsv before\n")
            t.send_line("from the server before")
            c.wait_for("^from the server before$", "out")
            step = "HelloRequest"
            t.send_record(22, hs_msg(0, b""))
            step = "the answer to the HelloRequest"
            self.assertEqual(t.recv_record_expect(21), bytes([1, 100]),
                             "tlsv's answer is not a warning no_renegotiation")
            step = "lines after"
            t.send_line("from the server after the refusal")
            c.wait_for("^from the server after the refusal$", "out")
            c.send("from tlsv after the refusal\n")
            self.assertEqual(t.recv_line(), "from tlsv after the refusal\n")
            step = "close"
            c.close_stdin()
            self.assertEqual(t.recv_record_expect(21), bytes([1, 0]), "no close_notify")
            t.close()
        except (AssertionError, OSError, ValueError) as e:
            self.fail("tlsv client (%s) -> scripted TLS 1.2 server, step '%s': %s\n%s"
                      % (sh(c.argv), step, e, c.output()))
        self.assertEqual(c.wait(), 0, c.output())
        I.assert_no_sanitizer_report(self, c, "tlsv client")


if __name__ == "__main__":
    I.need_programs("openssl")
    I.main()
