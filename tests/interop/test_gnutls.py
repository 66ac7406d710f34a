#!/usr/bin/env python3
"""GnuTLS (gnutls-serv / gnutls-cli, package gnutls-bin) <-> tlsv, TLS 1.3
priority strings, both directions: echo round trips, HTTP (gnutls-serv
--http), every TLS 1.3 suite and group chosen by either side,
HelloRetryRequest, ECDSA / RSA / Ed25519 certificates verified, client
certificates, ALPN.

Skipped (exit 77) when gnutls-bin is not installed.
gnutls-serv cannot bind one address nor report a port it picked: it gets a
port found free on 127.0.0.1 (retried if taken meanwhile) and listens on
all addresses of the machine for the duration of a test.
"""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop as I  # noqa: E402

CERTS = None

TLS13 = "NORMAL:-VERS-ALL:+VERS-TLS1.3"
GNUTLS_CIPHER = {"TLS_AES_128_GCM_SHA256": "AES-128-GCM",
                 "TLS_AES_256_GCM_SHA384": "AES-256-GCM",
                 "TLS_CHACHA20_POLY1305_SHA256": "CHACHA20-POLY1305"}
GNUTLS_GROUP = {"x25519": "X25519", "P-256": "SECP256R1", "P-384": "SECP384R1"}
DESCRIPTION = re.compile(r"^- Description: \(TLS1\.3-X\.509\)-\(ECDHE-(?P<group>[A-Z0-9]+)\)-"
                         r"\((?P<sig>[^)]*)\)-\((?P<cipher>[A-Z0-9-]+)\)$", re.M)


def setUpModule():
    global CERTS
    CERTS = I.Certs()


def tearDownModule():
    CERTS.cleanup()


def priority(cipher=None, group=None):
    p = TLS13
    if cipher:
        p += ":-CIPHER-ALL:+" + GNUTLS_CIPHER[cipher]
    if group:
        p += ":-GROUP-ALL:+GROUP-" + GNUTLS_GROUP[group]
    return p


class GnutlsServ(I.Proc):
    def __init__(self, *args, kind="ecdsa", mode="--echo", prio=TLS13):
        cert, key = CERTS.server(kind)
        for attempt in range(5):
            self.port = I.free_port()
            super().__init__(["gnutls-serv", "-p", self.port, mode, "--x509certfile", cert,
                              "--x509keyfile", key, "--priority", prio] + list(args),
                             name="gnutls-serv")
            try:
                self.wait_for(r"listening on IPv4 .* port %d\.\.\.done" % self.port, "any",
                              I.START_TIMEOUT)
                return
            except AssertionError:
                if self.poll() is None or attempt == 4:
                    self.stop()
                    raise
                self.stop()  # the port was taken meanwhile: another one


def description(text, count=1):
    found = DESCRIPTION.findall(text)
    if len(found) < count:
        return None
    group, sig, cipher = found[count - 1]
    return {"group": group, "sig": sig, "cipher": cipher}


class TlsvClientToGnutlsServ(unittest.TestCase):

    def serv(self, *args, **kw):
        s = GnutlsServ(*args, **kw)
        self.addCleanup(s.stop)
        return s

    def client(self, port, *args, input=b"", expect_rc=0):
        r = I.run_tlsv_client(self, "localhost:%d" % port, "--cafile", CERTS.cafile, *args,
                              input=input)
        if expect_rc is not None:
            self.assertEqual(r.rc, expect_rc, r.describe())
        return r

    def test_echo(self):
        s = self.serv()
        r = self.client(s.port, input=b"hello gnutls\n")
        self.assertEqual(r.out, "hello gnutls\n", r.describe())
        self.assertEqual(r.summary["version"], "TLSv1.3")
        c = I.start_tlsv_client("localhost:%d" % s.port, "--cafile", CERTS.cafile)
        try:
            c.wait_for(I.SUMMARY_CLIENT.pattern, "err")
            c.send(b"interactive line\n")
            c.wait_for("interactive line", "out")
            c.close_stdin()
            self.assertEqual(c.wait(), 0, c.output())
        finally:
            c.kill()
        I.assert_no_sanitizer_report(self, c, "tlsv client")
        s.wait_for(r"Given server name\[1\]: localhost", "out")

    def test_http(self):
        s = self.serv(mode="--http")
        r = self.client(s.port, input=b"GET / HTTP/1.0\r\n\r\n")
        self.assertIn("HTTP/1.0 200 OK", r.out, r.describe())
        self.assertIn("TLS1.3", r.out, r.describe())

    def test_each_suite_chosen_by_server(self):
        for suite in I.SUITES:
            with self.subTest(suite=suite):
                s = self.serv(prio=priority(cipher=suite))
                r = self.client(s.port, "--handshake-only")
                self.assertEqual(r.summary["cipher"], suite, r.describe())
                s.stop()

    def test_each_suite_chosen_by_client(self):
        s = self.serv()
        for n, suite in enumerate(I.SUITES, 1):
            with self.subTest(suite=suite):
                r = self.client(s.port, "--ciphersuites", suite, input=b"x\n")
                self.assertEqual(r.summary["cipher"], suite, r.describe())
                s.wait_for(DESCRIPTION.pattern, "out", count=n)
                self.assertEqual(description(s.out, n)["cipher"], GNUTLS_CIPHER[suite])

    def test_each_group_chosen_by_client(self):
        s = self.serv()
        for n, group in enumerate(I.GROUPS, 1):
            with self.subTest(group=group):
                r = self.client(s.port, "--groups", group, input=b"x\n")
                self.assertEqual(r.summary["group"], group, r.describe())
                s.wait_for(DESCRIPTION.pattern, "out", count=n)
                self.assertEqual(description(s.out, n)["group"], GNUTLS_GROUP[group])

    def test_each_group_required_by_server(self):
        # tlsv's first key share is x25519: P-256 and P-384 take a
        # HelloRetryRequest
        for group in I.GROUPS:
            with self.subTest(group=group):
                s = self.serv(prio=priority(group=group))
                r = self.client(s.port, input=b"x\n")
                self.assertEqual(r.summary["group"], group, r.describe())
                s.stop()

    def test_each_certificate_kind(self):
        for kind in I.CERT_KINDS:
            with self.subTest(kind=kind):
                s = self.serv(kind=kind)
                r = self.client(s.port, "--handshake-only", "--json")
                self.assertEqual(r.json["version"], "TLSv1.3", r.describe())
                s.stop()

    def test_client_certificate(self):
        s = self.serv("--require-client-cert", "--verify-client-cert",
                      "--x509cafile", CERTS.cafile)
        r = self.client(s.port, "--cert", CERTS.client_cert, "--key", CERTS.client_key,
                        input=b"with a certificate\n")
        self.assertEqual(r.out, "with a certificate\n", r.describe())
        r = self.client(s.port, input=b"without\n", expect_rc=1)
        self.assertRegex(r.err, r"certificate_required|handshake_failure|bad_certificate",
                         r.describe())

    def test_alpn(self):
        s = self.serv("--alpn", "h2", "--alpn", "http/1.1")
        r = self.client(s.port, "--alpn", "http/1.1", "--handshake-only", "--json")
        self.assertEqual(r.json["alpn"], "http/1.1", r.describe())
        r = self.client(s.port, "--handshake-only", "--json")
        self.assertIsNone(r.json["alpn"], r.describe())


class GnutlsCliToTlsvServer(unittest.TestCase):

    def server(self, *args, kind="ecdsa"):
        cert, key = CERTS.server(kind)
        return I.tlsv_server(self, "--cert", cert, "--key", key, "--echo", *args)

    def session(self, port, *args, prio=TLS13, data=b"ping from gnutls-cli\n", expect_ok=True):
        c = I.Proc(["gnutls-cli", "-p", port, "--x509cafile", CERTS.cafile,
                    "--priority", prio] + list(args) + ["localhost"], name="gnutls-cli")
        try:
            if expect_ok:
                c.wait_for(r"^- Handshake was completed", "out")
                if data:
                    c.send(data)
                    c.wait_for("^" + re.escape(data.decode().strip()), "out")
            c.close_stdin()
            rc = c.wait()
        finally:
            c.kill()
        if expect_ok:
            self.assertEqual(rc, 0, c.output())
            self.assertIn("- Status: The certificate is trusted.", c.out, c.output())
        return description(c.out), c, rc

    def test_echo(self):
        srv = self.server("--once", "--json")
        d, c, rc = self.session(srv.port)
        I.finish_once_server(self, srv, 0)
        sm = srv.summary()
        self.assertEqual(sm["sni"], "localhost")
        self.assertEqual(GNUTLS_CIPHER[sm["cipher"]], d["cipher"])
        self.assertEqual(srv.json_objects()[0]["version"], "TLSv1.3")

    def test_each_suite_chosen_by_client(self):
        srv = self.server()
        for n, suite in enumerate(I.SUITES, 1):
            with self.subTest(suite=suite):
                d, c, rc = self.session(srv.port, prio=priority(cipher=suite))
                self.assertEqual(d["cipher"], GNUTLS_CIPHER[suite])
                self.assertEqual(srv.summary(count=n)["cipher"], suite)

    def test_each_suite_chosen_by_server(self):
        for suite in I.SUITES:
            with self.subTest(suite=suite):
                srv = self.server("--ciphersuites", suite)
                d, c, rc = self.session(srv.port)
                self.assertEqual(d["cipher"], GNUTLS_CIPHER[suite])
                srv.stop()

    def test_each_group_chosen_by_client(self):
        srv = self.server()
        for n, group in enumerate(I.GROUPS, 1):
            with self.subTest(group=group):
                d, c, rc = self.session(srv.port, prio=priority(group=group))
                self.assertEqual(d["group"], GNUTLS_GROUP[group])
                self.assertEqual(srv.summary(count=n)["group"], group)

    def test_hello_retry_request(self):
        # gnutls-cli sends its key share(s) for X25519 (and SECP256R1) first;
        # a P-384-only tlsv server asks for another (HelloRetryRequest)
        srv = self.server("--groups", "P-384")
        d, c, rc = self.session(srv.port)
        self.assertEqual(d["group"], "SECP384R1")
        self.assertEqual(srv.summary()["group"], "P-384")

    def test_each_certificate_kind(self):
        for kind in I.CERT_KINDS:
            with self.subTest(kind=kind):
                srv = self.server(kind=kind)
                self.session(srv.port)
                srv.stop()

    def test_client_certificate(self):
        srv = self.server("--verify", "required", "--cafile", CERTS.cafile)
        self.session(srv.port, "--x509certfile", CERTS.client_cert,
                     "--x509keyfile", CERTS.client_key)
        self.assertIsNotNone(srv.summary()["client_certs"], srv.output())
        d, c, rc = self.session(srv.port, expect_ok=False)
        self.assertNotEqual(rc, 0, c.output())
        f = srv.failure()
        self.assertEqual(f["alert"], "certificate_required", srv.output())

    def test_alpn(self):
        srv = self.server("--alpn", "h2,http/1.1")
        d, c, rc = self.session(srv.port, "--alpn", "http/1.1")
        self.assertIn("- Application protocol: http/1.1", c.out, c.output())
        self.assertEqual(srv.summary()["alpn"], "http/1.1")


if __name__ == "__main__":
    I.need_programs("openssl", "gnutls-serv", "gnutls-cli")
    I.main()
