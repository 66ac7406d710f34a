#!/usr/bin/env python3
"""`tlsv probe HOST:PORT` (SPEC §3) against servers with known version ranges.

  - openssl s_server: TLS 1.3 only (-tls1_3), at most TLS 1.2 (-no_tls1_3),
    TLS 1.0 .. 1.3 (-min_protocol TLSv1, @SECLEVEL=0, OPENSSL_CONF = an empty
    file so that no system configuration raises the minimum), TLS 1.1 .. 1.2,
    TLS 1.2 with CBC suites only, DHE suites only (which tlsv lacks: the
    hand-built hello finds them), CBC preferred over an accepted AEAD suite;
  - gnutls-serv with priority strings for TLS 1.3 only, TLS 1.2 only,
    TLS 1.0 .. 1.3 and TLS 1.0 .. 1.1 (skipped without gnutls-bin);
  - tlsv server with --min-version / --max-version combinations;
  - a scripted server (Python, raw sockets) that answers SSL 2.0 and SSL 3.0
    hellos, writes no downgrade sentinel, ignores TLS_FALLBACK_SCSV and
    drops ClientHellos with unknown versions or GREASE -- the findings no
    real server here produces -- and its well-behaved twin;
  - exit statuses (0 probed, 1 unreachable / nothing accepted, 2 usage), the
    human table with its verdict line, the progress line (rewritten with \\r
    on a terminal, plain lines otherwise).

For every probe: the "accepted" map, cipher and group when accepted, the
downgrade_sentinel / fallback_scsv / version_tolerance findings, the
verdicts, exit status 0, and no sanitizer report.
"""

import json
import os
import pty
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop as I  # noqa: E402

CERTS = None
OPENSSL_ENV = None
CONF_DIR = None

VERSIONS = ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
PROBE_TIMEOUT = 90   # a whole probe against a well-behaved local server takes ~1 s


def setUpModule():
    global CERTS, OPENSSL_ENV, CONF_DIR
    CERTS = I.Certs()
    # Debian's /etc/ssl/openssl.cnf may set MinProtocol = TLSv1.2 for every
    # program; an empty configuration leaves the command line in charge.
    CONF_DIR = tempfile.mkdtemp(prefix="tlsv-probe-conf-")
    conf = os.path.join(CONF_DIR, "openssl.cnf")
    open(conf, "w").close()
    OPENSSL_ENV = dict(os.environ, OPENSSL_CONF=conf)


def tearDownModule():
    CERTS.cleanup()
    shutil.rmtree(CONF_DIR, ignore_errors=True)


def accepted(*names):
    """The expected "accepted" map: the named versions true, the rest false."""
    return {v: v in names for v in VERSIONS}


class ProbeCase(unittest.TestCase):

    def run_probe(self, target, *args, expect_rc=0, timeout=PROBE_TIMEOUT):
        argv = [I.TLSV, "probe", target] + [str(a) for a in args]
        I.log("+", " ".join(argv))
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=timeout)
        except subprocess.TimeoutExpired as e:
            self.fail("tlsv probe hung (> %s s): %s\n--- stderr ---\n%s"
                      % (timeout, " ".join(argv), (e.stderr or b"").decode("utf-8", "replace")))
        out = r.stdout.decode("utf-8", "replace")
        err = r.stderr.decode("utf-8", "replace")
        I.assert_no_sanitizer_report(self, err, "tlsv probe")
        desc = "$ %s\nexit %s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            " ".join(argv), r.returncode, out, err)
        if expect_rc is not None:
            self.assertEqual(r.returncode, expect_rc, desc)
        return r.returncode, out, err, desc

    def probe_json(self, port, expect_rc=0):
        rc, out, err, desc = self.run_probe("127.0.0.1:%d" % port, "--json", expect_rc=expect_rc)
        lines = [l for l in out.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, "one JSON object on stdout\n" + desc)
        try:
            obj = json.loads(lines[0])
        except ValueError as e:
            self.fail("not JSON (%s)\n%s" % (e, desc))
        self.check_contract(obj, desc)
        # the progress went to stderr, one plain line per step (not a terminal)
        self.assertIn("tlsv: probing TLSv1.3...", err, desc)
        self.assertNotIn("\r", err, desc)
        return obj, desc

    def check_contract(self, obj, desc):
        """SPEC §3: versions (six keys, accepted + cipher/group when accepted,
        a verdict each), the three findings, an overall verdict."""
        self.assertEqual(sorted(obj["versions"]), sorted(VERSIONS), desc)
        for name, v in obj["versions"].items():
            self.assertIsInstance(v["accepted"], bool, desc)
            self.assertIn(v["verdict"], ("secure", "acceptable", "deprecated", "insecure",
                                         "not offered", "not tested"), desc)
            if v["accepted"]:
                self.assertIn("cipher", v, desc)
                self.assertIn("group", v, desc)
                self.assertTrue(v["cipher"], "%s accepted without a cipher\n%s" % (name, desc))
            else:
                self.assertEqual(v["verdict"], "not offered", "%s\n%s" % (name, desc))
                self.assertTrue(v["reason"], desc)
        for k in ("downgrade_sentinel", "fallback_scsv", "version_tolerance"):
            self.assertIn(k, obj, desc)
            self.assertIn(obj[k], (True, False, None), desc)
            self.assertTrue(obj["details"][k], desc)
        self.assertIn(obj["verdict"], ("secure", "acceptable", "deprecated", "insecure", "none"),
                      desc)

    def check_accepted(self, obj, desc, *names):
        got = {k: v["accepted"] for k, v in obj["versions"].items()}
        self.assertEqual(got, accepted(*names), desc)

    def check_findings(self, obj, desc, sentinel, scsv, tolerance):
        self.assertEqual((obj["downgrade_sentinel"], obj["fallback_scsv"],
                          obj["version_tolerance"]), (sentinel, scsv, tolerance),
                         "(downgrade_sentinel, fallback_scsv, version_tolerance)\n" + desc)

    def check_verdicts(self, obj, desc, overall):
        expect = {"SSLv2": "insecure", "SSLv3": "insecure", "TLSv1": "deprecated",
                  "TLSv1.1": "deprecated", "TLSv1.3": "secure"}
        for name, v in obj["versions"].items():
            if v["accepted"] and name in expect:
                self.assertEqual(v["verdict"], expect[name], "%s\n%s" % (name, desc))
        self.assertEqual(obj["verdict"], overall, desc)

    def check_human(self, port, overall):
        """The table: one row per version, the three findings, a verdict line."""
        rc, out, err, desc = self.run_probe("127.0.0.1:%d" % port)
        for name in VERSIONS:
            self.assertRegex(out, r"(?m)^%s +(yes|no) " % name.replace(".", r"\."), desc)
        for label in ("downgrade sentinel", "fallback SCSV", "version tolerance"):
            self.assertRegex(out, r"(?m)^%s +(yes|NO|n/a) " % label, desc)
        self.assertRegex(out, r"(?m)^verdict: %s -- " % overall, desc)
        return out


# ---------------------------------------------------------------------------
# openssl s_server

class OpenSSLServer(I.Proc):
    def __init__(self, *args, kind="ecdsa"):
        cert, key = CERTS.server(kind)
        super().__init__(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", cert,
                          "-key", key] + [str(a) for a in args], name="openssl s_server",
                         env=OPENSSL_ENV)
        m = self.wait_for(r"^ACCEPT 127\.0\.0\.1:(\d+)$", "any", I.START_TIMEOUT)
        self.port = int(m.group(1))


class ProbeOpenSSL(ProbeCase):

    def server(self, *args, **kw):
        s = OpenSSLServer(*args, **kw)
        self.addCleanup(s.stop)
        return s

    def test_tls13_only(self):
        srv = self.server("-tls1_3")
        obj, desc = self.probe_json(srv.port)
        self.check_accepted(obj, desc, "TLSv1.3")
        v13 = obj["versions"]["TLSv1.3"]
        self.assertIn(v13["cipher"], I.SUITES, desc)
        self.assertEqual(v13["group"], "x25519", desc)
        self.assertEqual(obj["versions"]["TLSv1.2"]["alert"], "protocol_version", desc)
        # nothing to fall back to: not applicable
        self.check_findings(obj, desc, None, None, True)
        self.check_verdicts(obj, desc, "secure")
        self.check_human(srv.port, "secure")

    def test_at_most_tls12(self):
        srv = self.server("-no_tls1_3", "-min_protocol", "TLSv1.2")
        obj, desc = self.probe_json(srv.port)
        self.check_accepted(obj, desc, "TLSv1.2")
        v12 = obj["versions"]["TLSv1.2"]
        self.assertEqual(v12["cipher"], "ECDHE-ECDSA-AES128-GCM-SHA256", desc)
        self.assertEqual(v12["group"], "x25519", desc)
        self.assertEqual(v12["verdict"], "secure", desc)
        self.assertEqual(obj["versions"]["TLSv1.3"]["alert"], "protocol_version", desc)
        self.check_findings(obj, desc, None, None, True)
        self.check_verdicts(obj, desc, "secure")

    def test_tls10_to_tls13(self):
        for kind in ("ecdsa", "rsa"):
            with self.subTest(kind=kind):
                srv = self.server("-min_protocol", "TLSv1", "-cipher", "DEFAULT:@SECLEVEL=0",
                                  kind=kind)
                obj, desc = self.probe_json(srv.port)
                self.check_accepted(obj, desc, "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
                for name in ("TLSv1", "TLSv1.1"):
                    self.assertEqual(obj["versions"][name]["cipher"],
                                     "ECDHE-%s-AES128-SHA" % ("ECDSA" if kind == "ecdsa"
                                                              else "RSA"), desc)
                    self.assertEqual(obj["versions"][name]["group"], "x25519", desc)
                # DOWNGRD\x01 capped at 1.2, DOWNGRD\x00 capped at 1.1; the
                # SCSV at 1.2 draws inappropriate_fallback
                self.check_findings(obj, desc, True, True, True)
                self.assertIn("DOWNGRD\\x01", obj["details"]["downgrade_sentinel"], desc)
                self.assertIn("DOWNGRD\\x00", obj["details"]["downgrade_sentinel"], desc)
                self.check_verdicts(obj, desc, "deprecated")
                out = self.check_human(srv.port, "deprecated")
                self.assertIn("RFC 8996", out)

    def test_tls11_to_tls12(self):
        srv = self.server("-min_protocol", "TLSv1.1", "-max_protocol", "TLSv1.2",
                          "-cipher", "DEFAULT:@SECLEVEL=0")
        obj, desc = self.probe_json(srv.port)
        self.check_accepted(obj, desc, "TLSv1.1", "TLSv1.2")
        self.check_findings(obj, desc, True, True, True)
        self.assertIn("TLSv1.1 ServerHello.random ends in DOWNGRD\\x00",
                      obj["details"]["downgrade_sentinel"], desc)
        self.assertIn("TLSv1.1", obj["details"]["fallback_scsv"], desc)
        self.check_verdicts(obj, desc, "deprecated")

    def test_tls12_cbc_only(self):
        srv = self.server("-no_tls1_3", "-min_protocol", "TLSv1.2",
                          "-cipher", "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA")
        obj, desc = self.probe_json(srv.port)
        self.check_accepted(obj, desc, "TLSv1.2")
        v12 = obj["versions"]["TLSv1.2"]
        self.assertEqual(v12["cipher"], "ECDHE-ECDSA-AES128-SHA256", desc)
        self.assertEqual((v12["verdict"], v12["aead"]), ("acceptable", False), desc)
        self.check_verdicts(obj, desc, "acceptable")

    def test_suites_tlsv_does_not_implement(self):
        # DHE only: tlsv's own handshake fails (handshake_failure), the
        # hand-built hello (which offers DHE) shows TLS 1.2 accepted, and the
        # ServerKeyExchange gives the group
        srv = self.server("-no_tls1_3", "-min_protocol", "TLSv1.2",
                          "-cipher", "DHE-RSA-AES256-GCM-SHA384", kind="rsa")
        obj, desc = self.probe_json(srv.port)
        self.check_accepted(obj, desc, "TLSv1.2")
        v12 = obj["versions"]["TLSv1.2"]
        self.assertEqual((v12["cipher"], v12["group"], v12["handshake_completed"]),
                         ("DHE-RSA-AES256-GCM-SHA384", "DH-2048", False), desc)
        self.assertIn("hand-built", v12["note"], desc)
        # CBC preferred by the server although it accepts an AEAD suite
        srv = self.server("-no_tls1_3", "-min_protocol", "TLSv1.2", "-serverpref",
                          "-cipher", "AES128-SHA:DHE-RSA-AES128-GCM-SHA256", kind="rsa")
        obj, desc = self.probe_json(srv.port)
        v12 = obj["versions"]["TLSv1.2"]
        self.assertEqual((v12["cipher"], v12["aead"], v12["verdict"]),
                         ("AES128-SHA", True, "secure"), desc)
        self.assertIn("prefers the CBC suite AES128-SHA", v12["note"], desc)


# ---------------------------------------------------------------------------
# gnutls-serv

GNUTLS_BASE = "NORMAL:-VERS-ALL"


class GnutlsServ(I.Proc):
    def __init__(self, prio, kind="ecdsa"):
        cert, key = CERTS.server(kind)
        for attempt in range(5):
            self.port = I.free_port()
            super().__init__(["gnutls-serv", "-p", self.port, "--echo", "--x509certfile", cert,
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


@unittest.skipUnless(shutil.which("gnutls-serv"), "gnutls-serv not installed (gnutls-bin)")
class ProbeGnuTLS(ProbeCase):

    def serv(self, versions):
        prio = GNUTLS_BASE + "".join(":+VERS-" + v for v in versions)
        s = GnutlsServ(prio)
        self.addCleanup(s.stop)
        return s

    def test_tls13_only(self):
        srv = self.serv(["TLS1.3"])
        obj, desc = self.probe_json(srv.port)
        self.check_accepted(obj, desc, "TLSv1.3")
        self.assertEqual(obj["versions"]["TLSv1.3"]["group"], "x25519", desc)
        self.check_findings(obj, desc, None, None, True)
        self.check_verdicts(obj, desc, "secure")

    def test_tls12_only(self):
        srv = self.serv(["TLS1.2"])
        obj, desc = self.probe_json(srv.port)
        self.check_accepted(obj, desc, "TLSv1.2")
        self.assertEqual(obj["versions"]["TLSv1.2"]["verdict"], "secure", desc)
        self.check_findings(obj, desc, None, None, True)
        self.check_verdicts(obj, desc, "secure")

    def test_tls10_to_tls13(self):
        srv = self.serv(["TLS1.3", "TLS1.2", "TLS1.1", "TLS1.0"])
        obj, desc = self.probe_json(srv.port)
        self.check_accepted(obj, desc, "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
        self.check_findings(obj, desc, True, True, True)
        self.check_verdicts(obj, desc, "deprecated")
        self.check_human(srv.port, "deprecated")

    def test_tls10_tls11(self):
        srv = self.serv(["TLS1.1", "TLS1.0"])
        obj, desc = self.probe_json(srv.port)
        self.check_accepted(obj, desc, "TLSv1", "TLSv1.1")
        # no TLS 1.2: no sentinel is due; the SCSV at TLS 1.0 is refused
        self.check_findings(obj, desc, None, True, True)
        self.assertIn("a TLSv1 ClientHello", obj["details"]["fallback_scsv"], desc)
        self.check_verdicts(obj, desc, "deprecated")


# ---------------------------------------------------------------------------
# tlsv server

class ProbeTlsvServer(ProbeCase):

    def server(self, *args):
        return I.tlsv_server(self, "--cert", CERTS.ecdsa_cert, "--key", CERTS.ecdsa_key,
                             "--echo", *args)

    def test_defaults(self):
        srv = self.server()
        obj, desc = self.probe_json(srv.port)
        self.check_accepted(obj, desc, "TLSv1.2", "TLSv1.3")
        self.check_findings(obj, desc, True, True, True)
        self.assertEqual(obj["details"]["downgrade_sentinel"],
                         "TLSv1.2 ServerHello.random ends in DOWNGRD\\x01", desc)
        self.check_verdicts(obj, desc, "secure")
        # SSL 2.0 and 3.0 are refused with protocol_version
        for name in ("SSLv2", "SSLv3"):
            self.assertEqual(obj["versions"][name]["alert"], "protocol_version", desc)
        self.check_human(srv.port, "secure")

    def test_version_ranges(self):
        cases = [
            (["--min-version", "TLSv1"], ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
             (True, True, True), "deprecated"),
            (["--min-version", "TLSv1", "--max-version", "TLSv1_2"],
             ["TLSv1", "TLSv1.1", "TLSv1.2"], (True, True, True), "deprecated"),
            (["--min-version", "TLSv1", "--max-version", "TLSv1_1"], ["TLSv1", "TLSv1.1"],
             (None, True, True), "deprecated"),
            (["--min-version", "TLSv1_1", "--max-version", "TLSv1_1"], ["TLSv1.1"],
             (None, None, True), "deprecated"),
            (["--min-version", "TLSv1_3"], ["TLSv1.3"], (None, None, True), "secure"),
            (["--max-version", "TLSv1_2"], ["TLSv1.2"], (None, None, True), "secure"),
        ]
        for args, names, findings, overall in cases:
            with self.subTest(args=" ".join(args)):
                srv = self.server(*args)
                obj, desc = self.probe_json(srv.port)
                self.check_accepted(obj, desc, *names)
                self.check_findings(obj, desc, *findings)
                self.check_verdicts(obj, desc, overall)
                for name in names:
                    v = obj["versions"][name]
                    self.assertTrue(v["handshake_completed"], desc)
                    self.assertEqual(v["group"], "x25519", desc)

    def test_tls12_cbc_only(self):
        srv = self.server("--max-version", "TLSv1_2", "--ciphers",
                          "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA")
        obj, desc = self.probe_json(srv.port)
        v12 = obj["versions"]["TLSv1.2"]
        self.assertEqual((v12["cipher"], v12["verdict"], v12["aead"]),
                         ("ECDHE-ECDSA-AES128-SHA256", "acceptable", False), desc)
        self.check_verdicts(obj, desc, "acceptable")

    def test_hostname_target_and_servername(self):
        srv = self.server()
        rc, out, err, desc = self.run_probe("localhost:%d" % srv.port, "--json",
                                            "--servername", "example.test")
        obj = json.loads(out)
        self.check_accepted(obj, desc, "TLSv1.2", "TLSv1.3")
        self.assertEqual(obj["target"], "localhost:%d" % srv.port)
        self.assertRegex(obj["address"], r"^(127\.0\.0\.1|\[::1\]):%d$" % srv.port)
        srv.wait_for(r"sni=example\.test", "err")


# ---------------------------------------------------------------------------
# a scripted server for what no real server here does

KNOWN_VERSIONS = {0x0300, 0x0301, 0x0302, 0x0303, 0x0304}


def is_grease(v):
    return v & 0x0f0f == 0x0a0a and v >> 8 == v & 0xff


def recv_exact(c, n):
    buf = b""
    while len(buf) < n:
        d = c.recv(n - len(buf))
        if not d:
            raise EOFError
        buf += d
    return buf


def parse_client_hello(body):
    """(legacy_version, session_id, suites, {ext_type: data})."""
    p = 4
    legacy = struct.unpack(">H", body[p:p + 2])[0]
    p += 2 + 32
    sid = body[p + 1:p + 1 + body[p]]
    p += 1 + body[p]
    n = struct.unpack(">H", body[p:p + 2])[0]
    suites = [struct.unpack(">H", body[p + 2 + i:p + 4 + i])[0] for i in range(0, n, 2)]
    p += 2 + n
    p += 1 + body[p]
    exts = {}
    if p < len(body):
        end = p + 2 + struct.unpack(">H", body[p:p + 2])[0]
        p += 2
        while p < end:
            t, l = struct.unpack(">HH", body[p:p + 4])
            exts[t] = body[p + 4:p + 4 + l]
            p += 4 + l
    return legacy, sid, suites, exts


class ScriptedServer(threading.Thread):
    """Answers each connection's first hello with a ServerHello (or an alert)
    and closes: enough for every finding of the probe. versions: the set of
    versions it accepts (0x0002 = SSL 2.0, 0x0300 ...). sentinel: writes
    the RFC 8446 §4.1.3 sentinels; scsv: honours TLS_FALLBACK_SCSV;
    tolerant: accepts unknown versions and GREASE; garbage: answers
    everything with an HTTP error."""

    def __init__(self, versions, sentinel=True, scsv=True, tolerant=True, garbage=False):
        super().__init__(daemon=True)
        self.versions = set(versions)
        self.sentinel, self.scsv, self.tolerant, self.garbage = sentinel, scsv, tolerant, garbage
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.hellos = []
        self.start()

    def stop(self):
        self.stopping = True
        self.join(I.STOP_TIMEOUT)
        self.sock.close()

    def run(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with c:
                c.settimeout(5)
                try:
                    self.serve(c)
                except (OSError, EOFError, ValueError, IndexError, struct.error):
                    pass

    @staticmethod
    def alert(c, version, desc):
        c.sendall(struct.pack(">BHHBB", 21, version, 2, 2, desc))

    def serve(self, c):
        first = recv_exact(c, 2)
        if self.garbage:
            c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
            return
        if first[0] & 0x80:  # SSL 2.0 CLIENT-HELLO
            body = recv_exact(c, (first[0] & 0x7f) << 8 | first[1])
            self.hellos.append(("SSLv2", None))
            if body[0] != 1 or 0x0002 not in self.versions:
                return self.alert(c, 0x0301, 70)
            cert, cid = b"\x30\x03\x02\x01\x00", os.urandom(16)
            msg = (bytes([4, 0, 1]) + struct.pack(">HHHH", 2, len(cert), 3, len(cid)) + cert
                   + b"\x01\x00\x80" + cid)
            c.sendall(bytes([0x80 | len(msg) >> 8, len(msg) & 0xff]) + msg)
            return
        hdr = first + recv_exact(c, 3)
        body = recv_exact(c, struct.unpack(">H", hdr[3:5])[0])
        if hdr[0] != 22 or body[0] != 1:
            return
        legacy, sid, suites, exts = parse_client_hello(body)
        sv = None
        if 43 in exts:
            d = exts[43]
            sv = [struct.unpack(">H", d[1 + i:3 + i])[0] for i in range(0, d[0], 2)]
        self.hellos.append((legacy, sv))
        if not self.tolerant:  # the classic intolerance: give up, close
            if (any(is_grease(s) for s in suites) or any(is_grease(t) for t in exts)
                    or (sv and any(v not in KNOWN_VERSIONS for v in sv))):
                return
        top = max(self.versions)
        if sv and 0x0304 in sv and 0x0304 in self.versions:
            v = 0x0304
        else:
            below = [x for x in self.versions if 0x0300 <= x <= min(legacy, 0x0303)]
            if not below:
                return self.alert(c, min(legacy, 0x0303), 70)
            v = max(below)
        if self.scsv and 0x5600 in suites and v < top:
            return self.alert(c, v, 86)
        prefs = {0x0304: [0x1301], 0x0303: [0xc02f, 0xc013, 0x002f]}.get(v, [0xc013, 0x002f])
        if v == 0x0300:
            prefs = [0x002f]
        suite = next((s for s in prefs if s in suites), None)
        if suite is None:
            return self.alert(c, v, 40)
        rnd = bytearray(os.urandom(32))
        if self.sentinel and v == 0x0303 and 0x0304 in self.versions:
            rnd[24:] = b"DOWNGRD\x01"
        elif self.sentinel and v <= 0x0302 and self.versions & {0x0303, 0x0304}:
            rnd[24:] = b"DOWNGRD\x00"
        ext = b""
        if v == 0x0304:
            ext = (struct.pack(">HHH", 43, 2, 0x0304)
                   + struct.pack(">HHHH", 51, 36, 0x001d, 32) + os.urandom(32))
        elif v >= 0x0301:
            ext = struct.pack(">HHB", 0xff01, 1, 0)
        echo_sid = sid if v == 0x0304 else b""
        sh = (struct.pack(">H", min(v, 0x0303)) + bytes(rnd) + bytes([len(echo_sid)]) + echo_sid
              + struct.pack(">HB", suite, 0))
        if ext:
            sh += struct.pack(">H", len(ext)) + ext
        msg = bytes([2]) + len(sh).to_bytes(3, "big") + sh
        c.sendall(struct.pack(">BHH", 22, min(v, 0x0303), len(msg)) + msg)


class ProbeScriptedServer(ProbeCase):

    def server(self, *args, **kw):
        s = ScriptedServer(*args, **kw)
        self.addCleanup(s.stop)
        return s

    def test_museum_without_protections(self):
        srv = self.server({0x0002, 0x0300, 0x0301, 0x0302, 0x0303}, sentinel=False,
                          scsv=False, tolerant=False)
        obj, desc = self.probe_json(srv.port)
        self.check_accepted(obj, desc, "SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2")
        vs = obj["versions"]
        self.assertEqual(vs["SSLv2"]["cipher"], "RC4-MD5", desc)
        self.assertEqual(vs["SSLv3"]["cipher"], "AES128-SHA", desc)
        self.assertIsNone(vs["SSLv3"]["group"], desc)
        self.assertEqual(vs["TLSv1.2"]["cipher"], "ECDHE-RSA-AES128-GCM-SHA256", desc)
        # the scripted server ends every handshake after its ServerHello:
        # accepted on the strength of the hand-built hello
        self.assertFalse(vs["TLSv1.2"]["handshake_completed"], desc)
        # no DOWNGRD\x00 capped at 1.1, SCSV ignored, intolerant
        self.check_findings(obj, desc, False, False, False)
        self.assertIn("no sentinel", obj["details"]["downgrade_sentinel"], desc)
        self.check_verdicts(obj, desc, "insecure")
        self.assertIn("RFC 6176", obj["summary"], desc)
        self.assertEqual(len(obj["warnings"]), 4, desc)
        out = self.check_human(srv.port, "insecure")
        self.assertRegex(out, r"(?m)^SSLv2 +yes +RC4-MD5 ")
        self.assertRegex(out, r"(?m)^warning: TLS_FALLBACK_SCSV not honoured")
        # the tolerance hello: GREASE, 0x0305, 1.3 .. 1.0 in supported_versions
        probes = [sv for legacy, sv in srv.hellos if sv and 0x0305 in sv]
        self.assertTrue(probes, srv.hellos)
        self.assertTrue(is_grease(probes[0][0]), probes)
        self.assertEqual(probes[0][1:], [0x0305, 0x0304, 0x0303, 0x0302, 0x0301])

    def test_well_behaved_twin(self):
        srv = self.server({0x0301, 0x0302, 0x0303, 0x0304})
        obj, desc = self.probe_json(srv.port)
        self.check_accepted(obj, desc, "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
        self.assertEqual(obj["versions"]["TLSv1.3"]["cipher"], "TLS_AES_128_GCM_SHA256", desc)
        self.assertEqual(obj["versions"]["TLSv1.3"]["group"], "x25519", desc)
        self.check_findings(obj, desc, True, True, True)
        self.check_verdicts(obj, desc, "deprecated")

    def test_ssl3_fallback_scsv(self):
        # SSL 3.0 below TLS 1.0: the SCSV check falls back to SSL 3.0 by hand
        srv = self.server({0x0300, 0x0301})
        obj, desc = self.probe_json(srv.port)
        self.check_accepted(obj, desc, "SSLv3", "TLSv1")
        self.check_findings(obj, desc, None, True, True)
        self.assertIn("SSLv3", obj["details"]["fallback_scsv"], desc)
        self.check_verdicts(obj, desc, "insecure")

    def test_not_tls(self):
        srv = self.server(set(), garbage=True)
        obj, desc = self.probe_json(srv.port, expect_rc=1)
        self.check_accepted(obj, desc)
        self.check_findings(obj, desc, None, None, None)
        self.assertEqual(obj["verdict"], "none", desc)


# ---------------------------------------------------------------------------
# usage, failures, progress

class ProbeCommand(ProbeCase):

    def test_connection_refused(self):
        port = I.free_port()
        rc, out, err, desc = self.run_probe("127.0.0.1:%d" % port, "--json", expect_rc=1)
        self.assertIn("Connection refused", err, desc)
        obj = json.loads(out)
        self.assertEqual(obj["error"], "SYSCALL", desc)

    def test_usage(self):
        for args in ([], ["a:1", "b:2"], ["no-port"], ["127.0.0.1:1", "--bogus"],
                     ["127.0.0.1:x"]):
            with self.subTest(args=args):
                argv = [I.TLSV, "probe"] + args
                r = subprocess.run(argv, capture_output=True, timeout=I.CMD_TIMEOUT)
                err = r.stderr.decode("utf-8", "replace")
                I.assert_no_sanitizer_report(self, err)
                self.assertEqual(r.returncode, 2, err)
                self.assertIn("usage:", err)

    def test_progress_on_a_terminal(self):
        srv = I.tlsv_server(self, "--cert", CERTS.ecdsa_cert, "--key", CERTS.ecdsa_key, "--echo")
        master, slave = pty.openpty()
        try:
            p = subprocess.Popen([I.TLSV, "probe", "127.0.0.1:%d" % srv.port],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
            os.close(slave)
            slave = None
            seen = b""
            deadline = time.monotonic() + PROBE_TIMEOUT
            while time.monotonic() < deadline:
                r, _, _ = select.select([master], [], [], 0.5)
                if r:
                    try:
                        d = os.read(master, 4096)
                    except OSError:
                        break
                    if not d:
                        break
                    seen += d
                elif p.poll() is not None:
                    break
            out = p.stdout.read().decode()
            p.stdout.close()
            rc = p.wait(I.CMD_TIMEOUT)
        finally:
            os.close(master)
            if slave is not None:
                os.close(slave)
        text = seen.decode("utf-8", "replace")
        I.assert_no_sanitizer_report(self, text)
        self.assertEqual(rc, 0, text)
        self.assertIn("\rprobing TLSv1.3...", text)
        self.assertIn("\rprobing SSLv2...", text)
        self.assertNotIn("tlsv: probing", text)
        self.assertNotIn("\n", text.replace("\r\n", ""), "one line, rewritten in place")
        self.assertRegex(out, r"(?m)^verdict: secure -- ")


if __name__ == "__main__":
    I.need_programs("openssl")
    I.main()
