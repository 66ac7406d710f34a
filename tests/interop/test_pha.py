#!/usr/bin/env python3
"""TLS 1.3 post-handshake client authentication (RFC 8446 §4.6.2) against
OpenSSL and Python's ssl.

  tlsv client --enable-pha --cert -> openssl s_server -msg: s_server's "c"
    command sends a CertificateRequest; tlsv answers by itself (Certificate,
    CertificateVerify, Finished in s_server -msg), s_server verifies the
    chain (-verify_return_error: a failure would end the connection) and
    data flows both ways after; without --cert the answer is an empty
    Certificate and a Finished; without --enable-pha s_server refuses "c".
    (OpenSSL 3.0's s_server requests once per connection: its second "c"
    fails with "request sent", so repeated requests are tested with tlsv
    server and in tests/unit/test_pha.c.)
  openssl s_client -enable_pha -cert -> tlsv server --enable-pha --verify
    required: not asked in the handshake (no client-cert= in the summary),
    asked with the stdin line "c", and the server reports the verified
    certificate; without a certificate the server fails with
    certificate_required and s_client sees that alert; s_client without
    -enable_pha is asked in the handshake and "c" is refused
    (EXTENSION_NOT_RECEIVED) with the connection going on
  Python ssl client (post_handshake_auth=True, load_cert_chain) -> tlsv
    server: Python answers while reading; the server reports the
    certificate and the data after it arrives
"""

import os
import re
import socket
import ssl
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop as I  # noqa: E402

CERTS = None

MSG_CR_SENT = r"^>>> TLS 1\.3, Handshake \[length [0-9a-f]+\], CertificateRequest"
MSG_CERT_RECV = r"^<<< TLS 1\.3, Handshake \[length [0-9a-f]+\], Certificate$"
MSG_CV_RECV = r"^<<< TLS 1\.3, Handshake \[length [0-9a-f]+\], CertificateVerify"
MSG_FIN_RECV = r"^<<< TLS 1\.3, Handshake \[length [0-9a-f]+\], Finished"
PHA_VERIFIED = r"client certificate after the handshake: verified, (\d+) certificates?$"


def setUpModule():
    global CERTS
    I.need_programs("openssl")
    CERTS = I.Certs()


def tearDownModule():
    CERTS.cleanup()


def count(pattern, text):
    return len(re.findall(pattern, text, re.M))


class TlsvClientOpensslServer(unittest.TestCase):

    def start(self, *client_args, server_args=()):
        srv = I.s_server(self, CERTS, "-tls1_3", "-msg", "-CAfile", CERTS.cafile,
                         "-verify_return_error", *server_args)
        cli = I.start_tlsv_client("127.0.0.1:%d" % srv.port, "--cafile", CERTS.cafile,
                                  "--servername", "localhost", "--trace", *client_args)
        self.addCleanup(cli.kill)
        cli.wait_for(I.SUMMARY_CLIENT.pattern, "err")
        cli.send("before\n")
        srv.wait_for(r"^before$", "out")
        return srv, cli

    def finish(self, srv, cli):
        srv.send("from-server\n")
        cli.wait_for(r"^from-server$", "out")
        cli.send("after\n")
        srv.wait_for(r"^after$", "out")
        cli.close_stdin()
        rc = cli.wait()
        I.assert_no_sanitizer_report(self, cli, "tlsv client")
        self.assertEqual(rc, 0, cli.output())

    def test_with_certificate(self):
        srv, cli = self.start("--enable-pha", "--cert", CERTS.client_cert,
                              "--key", CERTS.client_key)
        self.assertRegex(cli.err, r"ClientHello.*ext=\[[^]]*post_handshake_auth")
        self.assertEqual(count(MSG_CERT_RECV, srv.out), 0, srv.output())  # not in the handshake
        srv.send("c\n")
        srv.wait_for(MSG_CR_SENT, "out")
        srv.wait_for(MSG_FIN_RECV, "out", count=2)  # the handshake's, then the answer's
        cli.wait_for(r"^<<< CertificateRequest .*context=32 bytes", "err")
        cli.wait_for(r"^>>> Finished", "err", count=2)
        self.assertEqual(count(MSG_CERT_RECV, srv.out), 1, srv.output())
        self.assertEqual(count(MSG_CV_RECV, srv.out), 1, srv.output())
        # s_server's verify callback: the client's chain, verified against the CA
        srv.wait_for(r"^depth=0 CN = tlsv-test-client$", "err")
        srv.wait_for(r"^verify return:1$", "err")
        self.assertNotIn("verify error", srv.err, srv.output())
        self.finish(srv, cli)
        self.assertNotRegex(srv.out + srv.err, r"Alert \[length 0002\], fatal|error:",
                            srv.output())

    def test_without_certificate(self):
        srv, cli = self.start("--enable-pha")
        srv.send("c\n")
        srv.wait_for(MSG_FIN_RECV, "out", count=2)
        # an empty Certificate, no CertificateVerify
        cli.wait_for(r"^>>> Certificate \(\d+ bytes\) context=32 bytes no certificates", "err")
        self.assertEqual(count(MSG_CV_RECV, srv.out), 0, srv.output())
        self.finish(srv, cli)

    def test_not_offered(self):
        srv, cli = self.start("--cert", CERTS.client_cert, "--key", CERTS.client_key)
        self.assertNotRegex(cli.err, r"ClientHello.*post_handshake_auth")
        srv.send("c\n")
        srv.wait_for(r"SSL_verify_client_post_handshake:extension not received", "err")
        self.assertEqual(count(MSG_CR_SENT, srv.out), 0, srv.output())
        self.finish(srv, cli)


class OpensslClientTlsvServer(unittest.TestCase):

    def start(self, *client_args, verify="required"):
        cert, key = CERTS.server("ecdsa")
        srv = I.tlsv_server(self, "--cert", cert, "--key", key, "--enable-pha", "--verify",
                            verify, "--cafile", CERTS.cafile, "--trace")
        cli = I.s_client(srv.port, "-tls1_3", "-CAfile", CERTS.cafile, "-servername",
                         "localhost", "-msg", *client_args, brief=False)
        self.addCleanup(cli.kill)
        summary = srv.summary()
        cli.send("before\n")
        srv.wait_for(r"^before$", "out")
        return srv, cli, summary

    def test_with_certificate(self):
        srv, cli, summary = self.start("-enable_pha", "-cert", CERTS.client_cert,
                                       "-key", CERTS.client_key)
        self.assertIsNone(summary["client_certs"], srv.output())  # not asked in the handshake
        srv.send("c\n")
        srv.wait_for(r"CertificateRequest sent \(post-handshake authentication\)$", "err")
        m = srv.wait_for(PHA_VERIFIED, "err")
        self.assertGreaterEqual(int(m.group(1)), 1)
        srv.wait_for(r"<<< CertificateVerify", "err")
        cli.wait_for(r"^<<< TLS 1\.3, Handshake \[length [0-9a-f]+\], CertificateRequest", "out")
        cli.send("after\n")
        srv.wait_for(r"^after$", "out")
        srv.send("from-server\n")
        cli.wait_for(r"^from-server$", "out")
        # and again
        srv.send("c\n")
        srv.wait_for(PHA_VERIFIED, "err", count=2)
        cli.send("after-2\n")
        srv.wait_for(r"^after-2$", "out")
        self.assertNotIn("connection error", srv.err, srv.output())
        cli.close_stdin()
        cli.wait()

    def test_without_certificate_required(self):
        srv, cli, _ = self.start("-enable_pha")
        srv.send("c\n")
        srv.wait_for(r"connection error: PEER_DID_NOT_RETURN_A_CERTIFICATE \(alert "
                     r"certificate_required, sent\)", "err")
        cli.wait_for(r"(?i)alert certificate required", "any")

    def test_without_certificate_optional(self):
        srv, cli, _ = self.start("-enable_pha", verify="optional")
        srv.send("c\n")
        srv.wait_for(r"no client certificate after the handshake$", "err")
        cli.send("after\n")
        srv.wait_for(r"^after$", "out")
        cli.close_stdin()
        cli.wait()

    def test_not_offered(self):
        srv, cli, summary = self.start("-cert", CERTS.client_cert, "-key", CERTS.client_key)
        self.assertIn(summary["client_certs"], ("1", "2"), srv.output())  # asked in the handshake
        srv.send("c\n")
        srv.wait_for(r"CertificateRequest: EXTENSION_NOT_RECEIVED: .*did not offer "
                     r"post_handshake_auth", "err")
        cli.send("still-here\n")
        srv.wait_for(r"^still-here$", "out")
        # the handshake's CertificateRequest only
        self.assertEqual(count(r"^<<< .*CertificateRequest", cli.out), 1, cli.output())
        cli.close_stdin()
        cli.wait()


class PythonClientTlsvServer(unittest.TestCase):

    def test_python_post_handshake_auth(self):
        if not hasattr(ssl.SSLContext, "post_handshake_auth"):
            self.skipTest("this Python has no post_handshake_auth")
        cert, key = CERTS.server("ecdsa")
        srv = I.tlsv_server(self, "--cert", cert, "--key", key, "--enable-pha", "--verify",
                            "required", "--cafile", CERTS.cafile)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_verify_locations(CERTS.cafile)
        ctx.load_cert_chain(CERTS.client_cert, CERTS.client_key)
        ctx.post_handshake_auth = True
        got = []
        with socket.create_connection(("127.0.0.1", srv.port), timeout=I.LINE_TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                summary = srv.summary()
                self.assertIsNone(summary["client_certs"], srv.output())
                s.sendall(b"before\n")
                srv.wait_for(r"^before$", "out")
                srv.send("c\n")
                srv.send("ping\n")
                # Python answers the request while it reads the data after it
                buf = b""
                while b"ping\n" not in buf:
                    chunk = s.recv(1024)
                    self.assertTrue(chunk, "the server closed early\n" + srv.output())
                    buf += chunk
                got.append(buf)
                m = srv.wait_for(PHA_VERIFIED, "err")
                self.assertGreaterEqual(int(m.group(1)), 1)
                s.sendall(b"after\n")
                srv.wait_for(r"^after$", "out")
                s.unwrap()
        self.assertIn(b"ping", got[0])
        self.assertNotIn("connection error", srv.err, srv.output())


class Usage(unittest.TestCase):

    def test_server_pha_needs_stdin(self):
        cert, key = CERTS.server("ecdsa")
        r = I.Proc([I.TLSV, "server", "--cert", cert, "--key", key, "--enable-pha", "--echo"])
        rc = r.wait()
        self.assertEqual(rc, 2, r.output())
        self.assertIn("--enable-pha", r.err)


if __name__ == "__main__":
    I.main()
