#!/usr/bin/env python3
"""openssl s_client -> tlsv server, TLS 1.3.

Handshake and echo, every TLS 1.3 suite and group (chosen by either side),
HelloRetryRequest, ECDSA / RSA / Ed25519 server certificates verified by
s_client (-verify_return_error -CAfile, -servername / -verify_hostname
localhost), client certificates (required, optional, missing, from another
CA), ALPN, SNI, --json, --once exit statuses, a failed handshake followed by
a good one on the same server, and a larger echo.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop as I  # noqa: E402

CERTS = None


def setUpModule():
    global CERTS
    CERTS = I.Certs()


def tearDownModule():
    CERTS.cleanup()


def verify_args():
    """s_client verifying the tlsv server like a careful client would."""
    return ["-tls1_3", "-CAfile", CERTS.cafile, "-verify_return_error",
            "-servername", "localhost", "-verify_hostname", "localhost"]


class SClientToTlsvServer(unittest.TestCase):

    def server(self, *args, kind="ecdsa", mode="--echo"):
        cert, key = CERTS.server(kind)
        extra = [mode] if mode else []
        return I.tlsv_server(self, "--cert", cert, "--key", key, *extra, *args)

    def session(self, port, *args, data=b"ping\n", expect_ok=True, brief=True):
        """One s_client connection: handshake, optional echo of `data`, then
        close (stdin EOF -> close_notify). Returns (parsed output, proc, rc)."""
        c = I.s_client(port, *args, brief=brief)
        try:
            if expect_ok and brief:
                c.wait_for(r"^CONNECTION ESTABLISHED$", "err")
                c.wait_for(r"^Verification", "err")
            elif expect_ok:
                c.wait_for(r"^Verify return code", "out")
            if expect_ok and data:
                c.send(data)
                c.wait_for(data.decode().strip(), "out")
            c.close_stdin()
            rc = c.wait()
        finally:
            c.kill()
        return I.parse_s_client(c.out + c.err), c, rc

    def ok_session(self, port, *args, data=b"ping\n", brief=True):
        d, c, rc = self.session(port, *verify_args(), *args, data=data, brief=brief)
        self.assertEqual(rc, 0, c.output())
        self.assertEqual(d["version"], "TLSv1.3", c.output())
        self.assertEqual(d["verification"], "OK", c.output())
        return d

    # ---- the basics -------------------------------------------------------------------

    def test_echo_once(self):
        s = self.server("--once", "--json")
        d = self.ok_session(s.port, data=b"hello from s_client\n")
        self.assertEqual(d["peername"], "localhost")
        I.finish_once_server(self, s, 0)
        summary = s.summary()
        self.assertEqual(summary["version"], "TLSv1.3")
        self.assertEqual(summary["sni"], "localhost")
        self.assertEqual(summary["cipher"], d["cipher"])
        objs = s.json_objects()
        self.assertEqual(len(objs), 1, s.output())
        self.assertEqual(objs[0]["version"], "TLSv1.3")
        self.assertEqual(objs[0]["cipher"], d["cipher"])
        self.assertEqual(objs[0]["sni"], "localhost")
        self.assertIsNone(objs[0]["alpn"])

    def test_without_sni(self):
        s = self.server()
        d, c, rc = self.session(s.port, "-tls1_3", "-CAfile", CERTS.cafile,
                                "-verify_return_error", "-noservername")
        self.assertEqual(rc, 0, c.output())
        self.assertIsNone(s.summary()["sni"], s.output())

    def test_many_connections_one_server(self):
        s = self.server()
        for n in range(1, 4):
            self.ok_session(s.port, data=b"connection %d\n" % n)
            s.summary(count=n)

    def test_larger_echo(self):
        s = self.server()
        line = b"x" * 1000 + b"\n"
        c = I.s_client(s.port, *verify_args())
        try:
            c.wait_for(r"^CONNECTION ESTABLISHED$", "err")
            for _ in range(64):
                c.send(line)
            c.send(b"THE END\n")
            c.wait_for(r"THE END", "out")
            c.close_stdin()
            self.assertEqual(c.wait(), 0, c.output())
        finally:
            c.kill()
        self.assertEqual(c.out.count("x" * 1000), 64)

    def test_handshake_only_server(self):
        s = self.server("--once", mode="--handshake-only")
        d, c, rc = self.session(s.port, *verify_args(), data=None)
        self.assertEqual(d["version"], "TLSv1.3", c.output())
        I.finish_once_server(self, s, 0)

    # ---- suites, groups, HelloRetryRequest ----------------------------------------------

    def test_each_suite_chosen_by_client(self):
        s = self.server()
        for suite in I.SUITES:
            with self.subTest(suite=suite):
                d = self.ok_session(s.port, "-ciphersuites", suite)
                self.assertEqual(d["cipher"], suite)

    def test_each_suite_chosen_by_server(self):
        for suite in I.SUITES:
            with self.subTest(suite=suite):
                s = self.server("--ciphersuites", suite)
                d = self.ok_session(s.port)
                self.assertEqual(d["cipher"], suite)
                self.assertEqual(s.summary()["cipher"], suite)
                s.stop()

    def test_each_group_chosen_by_client(self):
        s = self.server()
        for n, group in enumerate(I.GROUPS, 1):
            with self.subTest(group=group):
                d = self.ok_session(s.port, "-groups", I.OPENSSL_GROUP[group], "-msg")
                self.assertIn(I.S_CLIENT_GROUP[group], d["temp_key"])
                self.assertEqual(d["client_hellos"], 1)
                self.assertEqual(s.summary(count=n)["group"], group)

    def test_hello_retry_request(self):
        # s_client sends an x25519 key share; a P-384-only tlsv server asks
        # again (HelloRetryRequest): s_client sends a second ClientHello.
        for group in ("P-384", "P-256"):
            with self.subTest(group=group):
                s = self.server("--groups", group)
                d = self.ok_session(s.port, "-msg")
                self.assertEqual(d["client_hellos"], 2)
                self.assertIn(I.S_CLIENT_GROUP[group], d["temp_key"])
                self.assertEqual(s.summary()["group"], group)
                s.stop()

    def test_no_common_group(self):
        s = self.server("--once", "--groups", "P-384")
        d, c, rc = self.session(s.port, *verify_args(), "-groups", "X25519", expect_ok=False)
        self.assertNotEqual(rc, 0, c.output())
        f = s.failure()
        self.assertEqual(f["alert"], "handshake_failure", s.output())
        self.assertEqual(f["dir"], "sent", s.output())
        I.finish_once_server(self, s, 1)

    # ---- certificates ---------------------------------------------------------------------

    def test_each_server_certificate_kind(self):
        for kind in I.CERT_KINDS:
            with self.subTest(kind=kind):
                s = self.server(kind=kind)
                d = self.ok_session(s.port)
                self.assertEqual(d["peername"], "localhost")
                s.stop()

    def test_client_rejects_server_from_another_ca_then_server_goes_on(self):
        s = self.server()
        d, c, rc = self.session(s.port, "-tls1_3", "-CAfile", CERTS.other_cafile,
                                "-verify_return_error", "-servername", "localhost",
                                expect_ok=False)
        self.assertNotEqual(rc, 0, c.output())
        f = s.failure()
        self.ok_session(s.port)  # the next connection is served
        s.summary()
        # the failure names s_client's alert (unknown_ca). s_client sends it in
        # plaintext, as it has not switched to its handshake keys yet;
        # OpenSSL's servers accept such a plaintext alert until the first
        # protected record arrives, so must tlsv to report the real cause.
        self.assertEqual(f["dir"], "received", s.output())
        self.assertIn(f["alert"], ("unknown_ca", "bad_certificate"), s.output())

    def test_client_certificate_required(self):
        s = self.server("--once", "--json", "--verify", "required", "--cafile", CERTS.cafile)
        self.ok_session(s.port, "-cert", CERTS.client_cert, "-key", CERTS.client_key)
        I.finish_once_server(self, s, 0)
        # s_client sends its certificate and the CA it chains to
        self.assertIn(s.summary()["client_certs"], ("1", "2"), s.output())
        self.assertGreaterEqual(s.json_objects()[0]["client_certificates"], 1)

    def test_client_certificate_missing(self):
        s = self.server("--once", "--verify", "required", "--cafile", CERTS.cafile)
        d, c, rc = self.session(s.port, *verify_args(), expect_ok=False)
        f = s.failure()
        self.assertEqual(f["alert"], "certificate_required", s.output())
        self.assertEqual(f["dir"], "sent", s.output())
        I.finish_once_server(self, s, 1)

    def test_client_certificate_from_another_ca(self):
        s = self.server("--once", "--verify", "required", "--cafile", CERTS.cafile)
        d, c, rc = self.session(s.port, *verify_args(), "-cert", CERTS.other_client_cert,
                                "-key", CERTS.other_client_key, expect_ok=False)
        f = s.failure()
        self.assertEqual(f["reason"], "CERTIFICATE_VERIFY_FAILED", s.output())
        self.assertEqual(f["dir"], "sent", s.output())
        I.finish_once_server(self, s, 1)

    def test_client_certificate_optional(self):
        s = self.server("--verify", "optional", "--cafile", CERTS.cafile)
        self.ok_session(s.port)
        self.assertIsNone(s.summary(count=1)["client_certs"], s.output())
        self.ok_session(s.port, "-cert", CERTS.client_cert, "-key", CERTS.client_key)
        self.assertIn(s.summary(count=2)["client_certs"], ("1", "2"), s.output())

    # ---- ALPN -----------------------------------------------------------------------------

    def test_alpn(self):
        s = self.server("--alpn", "h2,http/1.1")
        n = 0
        for offer, expect in (("http/1.1", "http/1.1"), ("h2", "h2"),
                              ("http/1.1,h2", "h2"),   # the server's preference wins
                              ("foo", None)):          # no overlap: no ALPN (as Python's ssl)
            with self.subTest(offer=offer):
                d = self.ok_session(s.port, "-alpn", offer, brief=False)
                n += 1
                self.assertEqual(d["alpn"], expect)
                self.assertEqual(s.summary(count=n)["alpn"], expect)


if __name__ == "__main__":
    I.need_programs("openssl")
    I.main()
