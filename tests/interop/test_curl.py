#!/usr/bin/env python3
"""curl (linked with OpenSSL) -> tlsv server --www, TLS 1.3.

HTTPS GET with verification against the test CA (--cacert) and the name
localhost, the page describing the connection (version, cipher, group,
ALPN, SNI), every suite (--tls13-ciphers) and group (--curves), ECDSA / RSA /
Ed25519 certificates, ALPN http/1.1, client certificates, several requests
in a row, and a curl that rejects the server followed by one that succeeds.
"""

import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop as I  # noqa: E402

CERTS = None
CURL_GROUP = {"x25519": "X25519", "P-256": "P-256", "P-384": "P-384"}


def setUpModule():
    global CERTS
    CERTS = I.Certs()


def tearDownModule():
    CERTS.cleanup()


def page_fields(body):
    return dict(re.findall(r"^([a-z ]+): (.*)$", body, re.M))


class CurlToTlsvWww(unittest.TestCase):

    def server(self, *args, kind="ecdsa"):
        cert, key = CERTS.server(kind)
        return I.tlsv_server(self, "--cert", cert, "--key", key, "--www", *args)

    def curl(self, port, *args, cafile=None, expect_rc=0):
        argv = ["curl", "-sS", "-v", "--max-time", str(I.CMD_TIMEOUT), "--tlsv1.3",
                "--cacert", cafile or CERTS.cafile,
                "--resolve", "localhost:%d:127.0.0.1" % port] + list(args) + \
            ["https://localhost:%d/hello?x=1" % port]
        I.log("+", " ".join(argv))
        try:
            r = subprocess.run(argv, capture_output=True, timeout=I.CMD_TIMEOUT + 5)
        except subprocess.TimeoutExpired:
            self.fail("curl hung: " + " ".join(argv))
        out, err = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
        if expect_rc is not None:
            self.assertEqual(r.returncode, expect_rc, "%s\n%s\n%s" % (" ".join(argv), out, err))
        return out, err

    def test_get_once(self):
        srv = self.server("--once", "--json")
        body, verbose = self.curl(srv.port)
        I.finish_once_server(self, srv, 0)
        f = page_fields(body)
        self.assertEqual(f["version"], "TLSv1.3", body)
        self.assertEqual(f["sni"], "localhost", body)
        self.assertEqual(f["request"], "GET /hello?x=1 HTTP/1.1", body)
        m = re.search(r"SSL connection using (\S+) / (\S+)", verbose)
        self.assertIsNotNone(m, verbose)
        self.assertEqual(m.group(1), "TLSv1.3")
        self.assertEqual(m.group(2), f["cipher"])
        self.assertIn("HTTP/1.0 200 OK", verbose)
        obj = srv.json_objects()[0]
        self.assertEqual(obj["cipher"], f["cipher"])
        self.assertEqual(obj["group"], f["group"])

    def test_several_requests(self):
        srv = self.server()
        for n in range(1, 4):
            body, _ = self.curl(srv.port)
            self.assertEqual(page_fields(body)["version"], "TLSv1.3")
            srv.summary(count=n)

    def test_each_suite(self):
        srv = self.server()
        for suite in I.SUITES:
            with self.subTest(suite=suite):
                body, _ = self.curl(srv.port, "--tls13-ciphers", suite)
                self.assertEqual(page_fields(body)["cipher"], suite, body)

    def test_each_group(self):
        srv = self.server()
        for group in I.GROUPS:
            with self.subTest(group=group):
                body, _ = self.curl(srv.port, "--curves", CURL_GROUP[group])
                self.assertEqual(page_fields(body)["group"], group, body)

    def test_each_certificate_kind(self):
        for kind in I.CERT_KINDS:
            with self.subTest(kind=kind):
                srv = self.server("--once", kind=kind)
                body, _ = self.curl(srv.port)
                self.assertEqual(page_fields(body)["version"], "TLSv1.3", body)
                I.finish_once_server(self, srv, 0)

    def test_alpn(self):
        srv = self.server("--alpn", "http/1.1")
        body, verbose = self.curl(srv.port)  # curl offers h2 and http/1.1
        self.assertEqual(page_fields(body)["alpn"], "http/1.1", body)
        self.assertRegex(verbose, r"ALPN.*accepted.*http/1\.1")
        body, _ = self.curl(srv.port, "--no-alpn")
        self.assertEqual(page_fields(body)["alpn"], "none", body)

    def test_client_certificate(self):
        srv = self.server("--verify", "required", "--cafile", CERTS.cafile)
        body, _ = self.curl(srv.port, "--cert", CERTS.client_cert, "--key", CERTS.client_key)
        self.assertNotEqual(page_fields(body)["client certificates"], "0", body)

    def test_curl_rejects_then_next_request_served(self):
        srv = self.server()
        _, verbose = self.curl(srv.port, cafile=CERTS.other_cafile, expect_rc=60)
        srv.failure()  # the server reports the failed handshake ...
        body, _ = self.curl(srv.port)  # ... and serves the next client
        self.assertEqual(page_fields(body)["version"], "TLSv1.3")


if __name__ == "__main__":
    I.need_programs("openssl", "curl")
    I.main()
