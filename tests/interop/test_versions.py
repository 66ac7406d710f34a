#!/usr/bin/env python3
"""Version negotiation over the wire, tlsv against OpenSSL (s_server,
s_client), Python's ssl, GnuTLS (if installed) and itself.

TLS 1.3-only configurations: what must work and how a missing common
version fails (reason, alert, side, an explanation naming the bounds).

Configurations that need TLS 1.2: the engine's stage is measured once
(tlsv client <-> tlsv server, both capped at TLS 1.2). Then every such case
must agree with it: either all negotiate TLSv1.2, or all fail cleanly with
NOT_IMPLEMENTED (exit 1, an explanation, a protocol_version alert that the
peer can read when one is sent) -- never a hang, a crash or another error.

Record layer: legacy_record_version on the wire is 0x0303 for every record
except an initial ClientHello (RFC 8446 §5.1), also around a
HelloRetryRequest and for an alert sent after a TLS 1.2 ServerHello.
"""

import os
import shutil
import socket
import ssl
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop as I  # noqa: E402

CERTS = None
STAGE = None  # "tls12" when the engine negotiates TLS 1.2, "tls13-only" when it refuses it


def setUpModule():
    global CERTS
    CERTS = I.Certs()


def tearDownModule():
    CERTS.cleanup()


def ec():
    return ["--cert", CERTS.ecdsa_cert, "--key", CERTS.ecdsa_key]


class Base(unittest.TestCase):

    def client(self, port, *args, host="localhost", expect_rc=None):
        r = I.run_tlsv_client(self, "%s:%d" % (host, port), "--cafile", CERTS.cafile,
                              "--handshake-only", "--json", *args)
        if expect_rc is not None:
            self.assertEqual(r.rc, expect_rc, r.describe())
        return r

    def client_fails(self, port, *args, reason=None, alert=None, direction=None):
        r = self.client(port, *args, expect_rc=1)
        self.assertIsNotNone(r.failure, r.describe())
        self.assertIsNotNone(r.json, r.describe())
        self.assertEqual(r.json["error"], r.failure["reason"], r.describe())
        if reason:
            self.assertEqual(r.failure["reason"], reason, r.describe())
        if alert:
            self.assertEqual(r.failure["alert"], alert, r.describe())
        if direction:
            self.assertEqual(r.failure["dir"], direction, r.describe())
        self.assertTrue(r.failure["message"].strip(), r.describe())
        return r

    def stage(self):
        """Measures once whether this engine negotiates TLS 1.2."""
        global STAGE
        if STAGE is None:
            srv = I.TlsvServer(*ec(), "--once", "--max-version", "TLSv1_2",
                               "--handshake-only")
            try:
                r = self.client(srv.port, "--max-version", "TLSv1_2")
                srv.wait(I.CMD_TIMEOUT)
            finally:
                srv.stop()
            I.assert_no_sanitizer_report(self, srv, "tlsv server")
            if r.rc == 0 and r.summary and r.summary["version"] == "TLSv1.2":
                STAGE = "tls12"
            elif r.rc == 1 and r.failure and r.failure["reason"] == "NOT_IMPLEMENTED":
                STAGE = "tls13-only"  # (the client refuses before it sends anything)
            else:
                self.fail("tlsv <-> tlsv capped at TLS 1.2 neither negotiates TLSv1.2 nor "
                          "fails with NOT_IMPLEMENTED\n%s\n%s" % (r.describe(), srv.output()))
        return STAGE

    def tls12_client_outcome(self, r, alert_sent=None):
        """A tlsv client whose only common version with the peer is TLS 1.2."""
        if self.stage() == "tls12":
            self.assertEqual(r.rc, 0, r.describe())
            self.assertEqual(r.json["version"], "TLSv1.2", r.describe())
        else:
            self.assertEqual(r.rc, 1, r.describe())
            self.assertIsNotNone(r.failure, r.describe())
            self.assertEqual(r.failure["reason"], "NOT_IMPLEMENTED", r.describe())
            self.assertEqual(r.json["side"], "local", r.describe())
            self.assertRegex(r.failure["message"], r"TLS ?1\.[0-2]|TLSv1\.2", r.describe())
            if alert_sent:
                self.assertEqual(r.failure["alert"], alert_sent, r.describe())
                self.assertEqual(r.failure["dir"], "sent", r.describe())

    def tls12_server_outcome(self, srv, count=1):
        """A tlsv server whose only common version with the client is TLS 1.2."""
        if self.stage() == "tls12":
            self.assertEqual(srv.summary(count)["version"], "TLSv1.2", srv.output())
        else:
            f = srv.failure(count)
            self.assertEqual(f["reason"], "NOT_IMPLEMENTED", srv.output())
            self.assertEqual(f["alert"], "protocol_version", srv.output())
            self.assertEqual(f["dir"], "sent", srv.output())


class TlsvClient(Base):

    def test_tls13_only_client_vs_tls12_server(self):
        s = I.s_server(self, CERTS, "-tls1_2")
        r = self.client_fails(s.port, "--min-version", "TLSv1_3",
                              reason="TLSV1_ALERT_PROTOCOL_VERSION", alert="protocol_version",
                              direction="received")
        self.assertEqual(r.json["side"], "remote")
        s.wait_for(r"unsupported protocol", "any")

    def test_tls13_only_client_vs_default_server(self):
        s = I.s_server(self, CERTS)
        r = self.client(s.port, "--min-version", "TLSv1_3", expect_rc=0)
        self.assertEqual(r.json["version"], "TLSv1.3")
        r = self.client(s.port, "--options", "NO_TLSv1_2", expect_rc=0)
        self.assertEqual(r.json["version"], "TLSv1.3")

    def test_empty_range_warns_then_fails_with_protocol_version(self):
        # a configuration that enables no version is reported by the tool at
        # once (a warning naming the bounds); the handshake then fails as the
        # reference says: no ClientHello, a protocol_version alert instead
        s = I.s_server(self, CERTS, "-msg")
        r = self.client(s.port, "--max-version", "TLSv1_1", expect_rc=1)
        self.assertIsNotNone(r.json, r.describe())
        self.assertEqual(r.json["error"], "NO_PROTOCOLS_AVAILABLE", r.describe())
        self.assertEqual(r.json["alert"], "protocol_version", r.describe())
        self.assertEqual(r.json["side"], "local", r.describe())
        self.assertIn("minimum_version TLSv1_2 is above maximum_version TLSv1_1", r.err)
        self.assertIn("warning", r.err)
        self.assertNotIn("ClientHello", s.out)

    def test_client_capped_at_tls12(self):
        s = I.s_server(self, CERTS)
        r = self.client(s.port, "--max-version", "TLSv1_2")
        self.tls12_client_outcome(r)
        r = self.client(s.port, "--options", "NO_TLSv1_3")
        self.tls12_client_outcome(r)

    def test_fixed_tls12_client(self):
        s = I.s_server(self, CERTS)
        r = self.client(s.port, "--protocol", "TLSv1_2", "--no-check-hostname")
        self.tls12_client_outcome(r)

    def test_tls12_only_server(self):
        s = I.s_server(self, CERTS, "-tls1_2")
        r = self.client(s.port)
        self.tls12_client_outcome(r, alert_sent="protocol_version")
        if self.stage() != "tls12":
            # the peer must be able to read tlsv's protocol_version alert
            # (sent after a TLS 1.2 ServerHello: record version 0x0303)
            s.wait_for(r"SSL alert number 70|alert protocol version|wrong version number",
                       "any")
            self.assertRegex(s.out + s.err, r"SSL alert number 70|alert protocol version",
                             "s_server could not read tlsv's alert\n" + s.output())


    def test_ciphers_for_tls12(self):
        s = I.s_server(self, CERTS)
        suite = "ECDHE-ECDSA-AES256-GCM-SHA384"
        r = self.client(s.port, "--max-version", "TLSv1_2", "--ciphers", suite)
        self.tls12_client_outcome(r)
        if self.stage() == "tls12":
            self.assertEqual(r.json["cipher"], suite, r.describe())

    def test_fallback_scsv(self):
        # a fallback retry (capped at TLS 1.2, with the SCSV) at a server that
        # speaks TLS 1.3 is refused (RFC 7507) ...
        s = I.s_server(self, CERTS)
        r = self.client(s.port, "--max-version", "TLSv1_2", "--fallback-scsv", expect_rc=1)
        if self.stage() == "tls12":
            self.assertEqual(r.failure["reason"], "TLSV1_ALERT_INAPPROPRIATE_FALLBACK",
                             r.describe())
            self.assertEqual(r.failure["dir"], "received", r.describe())
        else:
            self.tls12_client_outcome(r)
        # ... and accepted by a server whose best is TLS 1.2
        s12 = I.s_server(self, CERTS, "-tls1_2")
        r = self.client(s12.port, "--max-version", "TLSv1_2", "--fallback-scsv")
        self.tls12_client_outcome(r)


class TlsvServer(Base):

    def server(self, *args):
        return I.tlsv_server(self, *ec(), "--once", "--handshake-only", *args)

    def s_client(self, port, *args):
        c = I.s_client(port, *args)
        try:
            c.close_stdin()
            rc = c.wait()
        finally:
            c.kill()
        return c, rc

    def test_tls12_client_vs_tls13_only_server(self):
        srv = self.server("--min-version", "TLSv1_3")
        c, rc = self.s_client(srv.port, "-tls1_2")
        self.assertNotEqual(rc, 0, c.output())
        self.assertIn("alert protocol version", c.out + c.err)
        f = srv.failure()
        self.assertEqual(f["reason"], "UNSUPPORTED_PROTOCOL", srv.output())
        self.assertEqual(f["alert"], "protocol_version")
        self.assertEqual(f["dir"], "sent")
        self.assertIn("TLSv1.3 only", f["message"])
        self.assertIn("minimum_version TLSv1_3", f["message"])
        I.finish_once_server(self, srv, 1)

    def test_tls13_client_vs_server_capped_at_tls12(self):
        srv = self.server("--max-version", "TLSv1_2")
        c, rc = self.s_client(srv.port, "-tls1_3")
        self.assertNotEqual(rc, 0, c.output())
        self.assertIn("alert protocol version", c.out + c.err)
        f = srv.failure()
        self.assertEqual(f["reason"], "UNSUPPORTED_PROTOCOL", srv.output())
        self.assertEqual(f["alert"], "protocol_version")
        self.assertIn("maximum_version TLSv1_2", f["message"])
        I.finish_once_server(self, srv, 1)

    def test_python_tls12_client_vs_tls13_only_server(self):
        srv = self.server("--min-version", "TLSv1_3")
        ctx = ssl.create_default_context(cafile=CERTS.cafile)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with socket.create_connection(("127.0.0.1", srv.port), timeout=I.CMD_TIMEOUT) as raw:
            with self.assertRaisesRegex(ssl.SSLError, "TLSV1_ALERT_PROTOCOL_VERSION"):
                ctx.wrap_socket(raw, server_hostname="localhost")
        self.assertEqual(srv.failure()["reason"], "UNSUPPORTED_PROTOCOL", srv.output())
        I.finish_once_server(self, srv, 1)

    def test_fallback_scsv_refused(self):
        srv = self.server()
        c, rc = self.s_client(srv.port, "-tls1_2", "-fallback_scsv")
        self.assertNotEqual(rc, 0, c.output())
        f = srv.failure()
        if self.stage() == "tls12":
            self.assertEqual(f["reason"], "INAPPROPRIATE_FALLBACK", srv.output())
            self.assertEqual(f["alert"], "inappropriate_fallback", srv.output())
            self.assertIn("alert inappropriate fallback", c.out + c.err)
        else:
            self.assertIn(f["reason"], ("INAPPROPRIATE_FALLBACK", "NOT_IMPLEMENTED"),
                          srv.output())
        I.finish_once_server(self, srv, 1)

    def test_tlsv_both_sides_tls13_only(self):
        srv = self.server("--min-version", "TLSv1_3")
        r = self.client(srv.port, "--min-version", "TLSv1_3", expect_rc=0)
        self.assertEqual(r.json["version"], "TLSv1.3")
        I.finish_once_server(self, srv, 0)

    def test_tls12_client_vs_default_server(self):
        srv = self.server()
        c, rc = self.s_client(srv.port, "-tls1_2")
        self.tls12_server_outcome(srv)
        if self.stage() != "tls12":
            self.assertIn("alert protocol version", c.out + c.err)
        I.finish_once_server(self, srv, 0 if self.stage() == "tls12" else 1)

    def test_default_client_vs_server_capped_at_tls12(self):
        srv = self.server("--max-version", "TLSv1_2")
        c, rc = self.s_client(srv.port)
        self.tls12_server_outcome(srv)
        I.finish_once_server(self, srv, 0 if self.stage() == "tls12" else 1)

    def test_python_tls12_client(self):
        srv = self.server()
        ctx = ssl.create_default_context(cafile=CERTS.cafile)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with socket.create_connection(("127.0.0.1", srv.port), timeout=I.CMD_TIMEOUT) as raw:
            if self.stage() == "tls12":
                with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    self.assertEqual(s.version(), "TLSv1.2")
            else:
                with self.assertRaisesRegex(ssl.SSLError, "TLSV1_ALERT_PROTOCOL_VERSION"):
                    ctx.wrap_socket(raw, server_hostname="localhost")
        self.tls12_server_outcome(srv)

    @unittest.skipIf(shutil.which("gnutls-cli") is None, "gnutls-cli not installed")
    def test_gnutls_tls12_client(self):
        srv = self.server()
        c = I.Proc(["gnutls-cli", "-p", srv.port, "--x509cafile", CERTS.cafile, "--priority",
                    "NORMAL:-VERS-ALL:+VERS-TLS1.2", "localhost"], name="gnutls-cli")
        try:
            c.close_stdin()
            c.wait()
        finally:
            c.kill()
        self.tls12_server_outcome(srv)
        if self.stage() != "tls12":
            self.assertIn("Received alert [70]", c.out + c.err, c.output())


class RecordVersions(Base):
    """legacy_record_version of what tlsv sends (RFC 8446 §5.1)."""

    def check(self, records, direction, what):
        sent = [r for r in records if r[0] == direction]
        self.assertTrue(sent, "no records from tlsv " + what)
        bad = []
        for i, (d, ctype, version, length, head) in enumerate(sent):
            initial_ch = i == 0 and ctype == 22 and direction == "c2s"
            if version != 0x0303 and not (initial_ch and version == 0x0301):
                bad.append("record %d: content type %d, version 0x%04x" % (i, ctype, version))
        self.assertEqual(bad, [], "tlsv %s: records that must carry 0x0303:\n%s\nall: %s"
                         % (what, "\n".join(bad), sent))

    def test_client_records_around_hello_retry_request(self):
        s = I.s_server(self, CERTS, "-tls1_3", "-groups", "P-384")
        relay = I.Relay(s.port)
        r = self.client(relay.port, "--groups", "x25519:P-384", expect_rc=0)
        self.assertEqual(r.json["group"], "P-384")
        records = relay.finish()
        hellos = [x for x in records if x[0] == "c2s" and x[1] == 22]
        self.assertGreaterEqual(len(hellos), 2, records)  # ClientHello twice: HRR happened
        self.check(records, "c2s", "client (ClientHello after a HelloRetryRequest)")

    def test_client_alert_after_tls12_server_hello(self):
        s = I.s_server(self, CERTS, "-tls1_2")
        relay = I.Relay(s.port)
        r = self.client(relay.port)
        records = relay.finish()
        if self.stage() == "tls12":
            self.assertEqual(r.rc, 0, r.describe())
        self.check(records, "c2s", "client (after a TLS 1.2 ServerHello)")

    def test_server_records(self):
        self.server_records("x25519", "server")

    def test_server_records_with_hello_retry_request(self):
        self.server_records("P-384", "server (HelloRetryRequest)")

    def server_records(self, groups, what):
        srv = I.tlsv_server(self, *ec(), "--once", "--groups", groups, "--echo")
        relay = I.Relay(srv.port)
        c = I.s_client(relay.port, "-tls1_3", "-CAfile", CERTS.cafile, "-servername",
                       "localhost")
        try:
            c.wait_for(r"^CONNECTION ESTABLISHED$", "err")
            c.send(b"ping\n")
            c.wait_for("ping", "out")
            c.close_stdin()
            self.assertEqual(c.wait(), 0, c.output())
        finally:
            c.kill()
        self.check(relay.finish(), "s2c", what)
        I.finish_once_server(self, srv, 0)


if __name__ == "__main__":
    I.need_programs("openssl")
    I.main()
