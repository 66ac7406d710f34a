#!/usr/bin/env python3
"""tlsv client -> openssl s_server, TLS 1.3.

Handshake and version, every TLS 1.3 suite and group (chosen by either
side), ECDSA / RSA / Ed25519 server certificates verified against the test
CA with hostname "localhost" (and the IP 127.0.0.1), verification failures
(wrong CA, wrong name, the default trust store), HelloRetryRequest, ALPN,
client certificates, HTTP GET against -www and a line round trip with -rev.
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


class TlsvClientToSServer(unittest.TestCase):

    def client(self, port, *args, host="localhost", input=b"", expect_rc=0):
        r = I.run_tlsv_client(self, "%s:%d" % (host, port), *args, input=input)
        if expect_rc is not None:
            self.assertEqual(r.rc, expect_rc, r.describe())
        return r

    def handshake(self, port, *args, host="localhost"):
        """--handshake-only --json with the test CA; returns the JSON object."""
        r = self.client(port, "--cafile", CERTS.cafile, "--handshake-only", "--json", *args,
                        host=host)
        self.assertIsNotNone(r.json, r.describe())
        self.assertIsNotNone(r.summary, r.describe())
        self.assertEqual(r.json["version"], "TLSv1.3", r.describe())
        self.assertEqual(r.summary["version"], "TLSv1.3", r.describe())
        self.assertEqual(r.json["cipher"], r.summary["cipher"])
        self.assertEqual(r.json["group"], r.summary["group"])
        return r.json

    def failing(self, port, *args, host="localhost"):
        """A handshake expected to fail: exit 1, the error line, the JSON error."""
        r = self.client(port, "--handshake-only", "--json", *args, host=host, expect_rc=1)
        self.assertIsNotNone(r.failure, r.describe())
        self.assertIsNotNone(r.json, r.describe())
        self.assertEqual(r.json["error"], r.failure["reason"], r.describe())
        return r

    # ---- versions and the basics -------------------------------------------------

    def test_default_s_server_negotiates_tls13(self):
        s = I.s_server(self, CERTS)  # TLS 1.2 and 1.3 enabled
        j = self.handshake(s.port)
        self.assertIn(j["cipher"], I.SUITES)
        self.assertEqual(j["alpn"], None)

    def test_tls13_only_s_server(self):
        s = I.s_server(self, CERTS, "-tls1_3")
        j = self.handshake(s.port)
        self.assertIn(j["group"], I.GROUPS)

    def test_http_get_from_www(self):
        s = I.s_server(self, CERTS, "-tls1_3", "-www")
        r = self.client(s.port, "--cafile", CERTS.cafile,
                        input=b"GET / HTTP/1.0\r\n\r\n")
        self.assertIn("HTTP/1.0 200 ok", r.out, r.describe())
        self.assertIn("TLSv1.3", r.out, r.describe())  # the page describes the session
        self.assertIsNotNone(r.summary, r.describe())

    def test_padded_records(self):
        # RFC 8446 §5.4: the server pads every record to a multiple of 512
        # bytes; tlsv strips the zeros and finds the content type
        s = I.s_server(self, CERTS, "-tls1_3", "-www", "-record_padding", "512")
        r = self.client(s.port, "--cafile", CERTS.cafile,
                        input=b"GET / HTTP/1.0\r\n\r\n")
        self.assertIn("HTTP/1.0 200 ok", r.out, r.describe())
        self.assertIsNotNone(r.summary, r.describe())

    def test_line_round_trip_with_rev(self):
        s = I.s_server(self, CERTS, "-tls1_3", "-rev")
        c = I.start_tlsv_client("localhost:%d" % s.port, "--cafile", CERTS.cafile)
        try:
            c.wait_for(I.SUMMARY_CLIENT.pattern, "err")
            c.send(b"hello tlsv\n")
            c.wait_for(r"vslt olleh", "out")
            c.send(b"second line\n")
            c.wait_for(r"enil dnoces", "out")
            c.close_stdin()  # -> close_notify; s_server closes too
            rc = c.wait()
        finally:
            c.kill()
        I.assert_no_sanitizer_report(self, c, "tlsv client")
        self.assertEqual(rc, 0, c.output())

    # ---- suites, groups, HelloRetryRequest ----------------------------------------

    def test_each_suite_chosen_by_client(self):
        s = I.s_server(self, CERTS, "-tls1_3")
        for suite in I.SUITES:
            with self.subTest(suite=suite):
                j = self.handshake(s.port, "--ciphersuites", suite)
                self.assertEqual(j["cipher"], suite)

    def test_each_suite_chosen_by_server(self):
        for suite in I.SUITES:
            with self.subTest(suite=suite):
                s = I.s_server(self, CERTS, "-tls1_3", "-ciphersuites", suite)
                j = self.handshake(s.port)
                self.assertEqual(j["cipher"], suite)
                s.stop()

    def test_each_group_chosen_by_client(self):
        s = I.s_server(self, CERTS, "-tls1_3", "-msg")
        for n, group in enumerate(I.GROUPS, 1):
            with self.subTest(group=group):
                j = self.handshake(s.port, "--groups", group)
                self.assertEqual(j["group"], group)
        # one ClientHello per connection: no HelloRetryRequest was needed
        s.wait_for(r"^<<< .*ClientHello$", "out", count=len(I.GROUPS))
        self.assertEqual(s.out.count("ClientHello"), len(I.GROUPS), s.output())

    def test_each_group_required_by_server(self):
        for group in I.GROUPS:
            with self.subTest(group=group):
                s = I.s_server(self, CERTS, "-tls1_3", "-groups", I.OPENSSL_GROUP[group])
                j = self.handshake(s.port, "--groups", group)
                self.assertEqual(j["group"], group)
                s.stop()

    def test_hello_retry_request(self):
        # tlsv sends its first key share for x25519; a P-384-only server must
        # ask again (HelloRetryRequest) and gets a second ClientHello.
        s = I.s_server(self, CERTS, "-tls1_3", "-groups", "P-384", "-msg")
        j = self.handshake(s.port, "--groups", "x25519:P-256:P-384")
        self.assertEqual(j["group"], "P-384")
        s.wait_for(r"^<<< .*ClientHello$", "out", count=2)
        self.assertEqual(s.out.count("ClientHello"), 2, s.output())

    def test_hello_retry_request_with_default_groups(self):
        s = I.s_server(self, CERTS, "-tls1_3", "-groups", "P-256", "-msg")
        j = self.handshake(s.port)
        self.assertEqual(j["group"], "P-256")

    def test_no_common_group(self):
        s = I.s_server(self, CERTS, "-tls1_3", "-groups", "P-384")
        r = self.failing(s.port, "--cafile", CERTS.cafile, "--groups", "x25519")
        self.assertEqual(r.failure["alert"], "handshake_failure", r.describe())
        self.assertEqual(r.failure["dir"], "received", r.describe())
        self.assertEqual(r.json["side"], "remote", r.describe())

    # ---- certificates and verification ---------------------------------------------

    def test_each_server_certificate_kind(self):
        for kind in I.CERT_KINDS:
            with self.subTest(kind=kind):
                s = I.s_server(self, CERTS, "-tls1_3", "-www", kind=kind)
                self.handshake(s.port)                    # name checked: localhost
                self.handshake(s.port, host="127.0.0.1")  # IP address checked
                s.stop()

    def test_wrong_ca(self):
        s = I.s_server(self, CERTS, "-tls1_3", "-www")
        r = self.failing(s.port, "--cafile", CERTS.other_cafile)
        self.assertEqual(r.failure["reason"], "CERTIFICATE_VERIFY_FAILED", r.describe())
        self.assertEqual(r.json["side"], "local", r.describe())

    def test_default_trust_store_does_not_know_the_test_ca(self):
        s = I.s_server(self, CERTS, "-tls1_3", "-www")
        r = self.failing(s.port)  # no --cafile: the system's CAs
        self.assertEqual(r.failure["reason"], "CERTIFICATE_VERIFY_FAILED", r.describe())

    def test_wrong_hostname(self):
        s = I.s_server(self, CERTS, "-tls1_3", "-www")
        r = self.failing(s.port, "--cafile", CERTS.cafile, "--servername", "wrong.example")
        self.assertEqual(r.failure["reason"], "CERTIFICATE_VERIFY_FAILED", r.describe())
        self.assertIn("wrong.example", r.failure["message"], r.describe())
        r = self.failing(s.port, "--cafile", CERTS.cafile, "--servername", "127.0.0.2",
                         host="127.0.0.1")  # an IP name checked against IP:127.0.0.1
        self.assertEqual(r.failure["reason"], "CERTIFICATE_VERIFY_FAILED", r.describe())
        self.assertIn("127.0.0.2", r.failure["message"], r.describe())

    def test_no_check_hostname_and_verify_none(self):
        s = I.s_server(self, CERTS, "-tls1_3", "-www")
        self.handshake(s.port, "--servername", "wrong.example", "--no-check-hostname")
        r = self.client(s.port, "--cafile", CERTS.other_cafile, "--verify", "none",
                        "--no-check-hostname", "--handshake-only")
        self.assertEqual(r.summary["version"], "TLSv1.3", r.describe())

    def test_client_certificate(self):
        s = I.s_server(self, CERTS, "-tls1_3", "-Verify", "1", "-CAfile", CERTS.cafile)
        self.handshake(s.port, "--cert", CERTS.client_cert, "--key", CERTS.client_key)
        s.wait_for(r"subject=.*tlsv-test-client", "out")

    def test_client_certificate_missing(self):
        # TLS 1.3: the client finishes first; the server's certificate_required
        # alert arrives after the handshake, when tlsv closes.
        s = I.s_server(self, CERTS, "-tls1_3", "-Verify", "1", "-CAfile", CERTS.cafile)
        r = self.client(s.port, "--cafile", CERTS.cafile, "--handshake-only", expect_rc=1)
        self.assertIn("certificate_required", r.err, r.describe())

    def test_client_certificate_from_another_ca(self):
        s = I.s_server(self, CERTS, "-tls1_3", "-Verify", "1", "-CAfile", CERTS.cafile,
                       "-verify_return_error")
        r = self.client(s.port, "--cafile", CERTS.cafile, "--handshake-only",
                        "--cert", CERTS.other_client_cert, "--key", CERTS.other_client_key,
                        expect_rc=1)
        self.assertIn("unknown_ca", r.err, r.describe())

    # ---- ALPN -------------------------------------------------------------------------

    def test_alpn(self):
        s = I.s_server(self, CERTS, "-tls1_3", "-alpn", "h2,http/1.1")
        for offer, expect in (("h2", "h2"), ("http/1.1", "http/1.1"),
                              ("spdy/3,http/1.1", "http/1.1"), ("h2,http/1.1", "h2")):
            with self.subTest(offer=offer):
                j = self.handshake(s.port, "--alpn", offer)
                self.assertEqual(j["alpn"], expect)
        r = self.client(s.port, "--cafile", CERTS.cafile, "--handshake-only", "--alpn", "h2")
        self.assertEqual(r.summary["alpn"], "h2", r.describe())
        # no overlap: OpenSSL 3's s_server refuses with no_application_protocol
        r = self.failing(s.port, "--cafile", CERTS.cafile, "--alpn", "foo")
        self.assertEqual(r.failure["alert"], "no_application_protocol", r.describe())
        self.assertEqual(r.json["side"], "remote", r.describe())
        j = self.handshake(s.port)
        self.assertIsNone(j["alpn"])


if __name__ == "__main__":
    I.need_programs("openssl")
    I.main()
