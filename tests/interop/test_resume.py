#!/usr/bin/env python3
"""TLS 1.3 session resumption (tickets, psk_dhe_ke) against real peers.

  tlsv client --reconnect    -> openssl s_server: every reconnection resumed
  tlsv client --sess-out / --sess-in -> openssl s_server: a saved session resumes
  openssl s_client -sess_out, then -sess_in -> tlsv server: "Reused, TLSv1.3"
    (not s_client -reconnect: in TLS 1.3 it reconnects before any ticket came)
  Python's ssl (session=)    -> tlsv server: session_reused, also with ALPN
  gnutls-cli --resume        -> tlsv server: "This is a resumed session"
  tlsv client --reconnect    -> tlsv server --num-tickets 0: nothing to resume
"""

import json
import os
import shutil
import socket
import ssl
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop as I  # noqa: E402

CERTS = None


def setUpModule():
    global CERTS
    I.need_programs("openssl")
    CERTS = I.Certs()


def tearDownModule():
    CERTS.cleanup()


def json_lines(text):
    return [json.loads(l) for l in text.splitlines() if l.startswith("{")]


class Resume(unittest.TestCase):

    def tlsv_server(self, *args, mode="--echo"):
        cert, key = CERTS.server("ecdsa")
        return I.tlsv_server(self, "--cert", cert, "--key", key, mode, *args)

    def tmpfile(self, name):
        d = tempfile.mkdtemp(prefix="tlsv-resume-")
        self.addCleanup(shutil.rmtree, d, True)
        return os.path.join(d, name)

    def client(self, port, *args):
        return I.run_tlsv_client(self, "127.0.0.1:%d" % port, "--cafile", CERTS.cafile,
                                 "--servername", "localhost", *args)

    # ---- tlsv client -> openssl s_server -------------------------------------------

    def test_tlsv_client_reconnect_openssl_server(self):
        s = I.s_server(self, CERTS, "-tls1_3", "-www")
        r = self.client(s.port, "--reconnect", 3, "--handshake-only", "--json")
        self.assertEqual(r.rc, 0, r.describe())
        objs = json_lines(r.out)
        self.assertEqual(len(objs), 5, r.describe())
        self.assertEqual([o["resumed"] for o in objs[:4]], [False, True, True, True], r.describe())
        self.assertEqual(objs[4], {"reconnects": 3, "resumed": 3}, r.describe())
        self.assertIn("tlsv: connection 1 of 4: full", r.err)
        self.assertIn("tlsv: connection 4 of 4: resumed", r.err)

    def test_tlsv_client_session_file_openssl_server(self):
        s = I.s_server(self, CERTS, "-tls1_3", "-www")
        sess = self.tmpfile("tlsv.sess")
        r = self.client(s.port, "--handshake-only", "--sess-out", sess)
        self.assertEqual(r.rc, 0, r.describe())
        self.assertTrue(os.path.getsize(sess) > 0)
        self.assertEqual(os.stat(sess).st_mode & 0o777, 0o600)
        r = self.client(s.port, "--handshake-only", "--sess-in", sess, "--json")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertTrue(json_lines(r.out)[0]["resumed"], r.describe())
        self.assertIn("tlsv: connection 1 of 1: resumed", r.err)
        # a damaged file is refused with a usage-class exit status
        with open(sess, "r+b") as f:
            f.write(b"XXXX")
        r = self.client(s.port, "--handshake-only", "--sess-in", sess)
        self.assertEqual(r.rc, 2, r.describe())
        self.assertIn("--sess-in", r.err)

    # ---- openssl s_client -> tlsv server --------------------------------------------

    def s_client_session(self, port, *args):
        c = I.s_client(port, "-tls1_3", "-CAfile", CERTS.cafile, "-servername", "localhost",
                       "-verify_return_error", *args, brief=False)
        try:
            c.wait_for(r"^Verify return code", "out")
            c.send(b"ping\n")
            c.wait_for(r"^ping$", "out")  # the tickets came before the echo
            c.close_stdin()
            rc = c.wait()
        finally:
            c.kill()
        self.assertEqual(rc, 0, c.output())
        return c.out + c.err

    def assert_full_then_resumed(self, server):
        """The server's first two connections: one full handshake, one
        resumed, their lines in either order (each is printed from the
        connection's thread when it ends)."""
        resumed = sorted(server.summary(n)["resumed"] or "" for n in (1, 2))
        self.assertEqual(resumed, ["", " resumed"])

    def test_openssl_client_sess_out_in(self):
        s = self.tlsv_server()
        sess = self.tmpfile("openssl.sess")
        out = self.s_client_session(s.port, "-sess_out", sess)
        self.assertIn("New, TLSv1.3", out)
        out = self.s_client_session(s.port, "-sess_in", sess)
        self.assertIn("Reused, TLSv1.3", out)
        self.assert_full_then_resumed(s)

    # ---- Python's ssl -> tlsv server ------------------------------------------------

    @staticmethod
    def python_ctx(alpn=None):
        """A session belongs to its SSLContext: one per test."""
        ctx = ssl.create_default_context(cafile=CERTS.cafile)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        if alpn:
            ctx.set_alpn_protocols(alpn)
        return ctx

    def python_session(self, ctx, port, session=None):
        with socket.create_connection(("127.0.0.1", port), timeout=I.CMD_TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
                s.sendall(b"ping\n")
                got = b""
                while not got.endswith(b"\n"):
                    chunk = s.recv(100)
                    self.assertTrue(chunk)
                    got += chunk
                self.assertEqual(got, b"ping\n")  # the tickets came before the echo
                return s.session, s.session_reused, s.selected_alpn_protocol()

    def test_python_client_session(self):
        s = self.tlsv_server("--alpn", "h2,http/1.1")
        ctx = self.python_ctx(["http/1.1"])
        sess, reused, alpn = self.python_session(ctx, s.port)
        self.assertFalse(reused)
        self.assertIsNotNone(sess)
        self.assertTrue(sess.has_ticket)
        self.assertEqual(sess.ticket_lifetime_hint, 7200)
        sess2, reused, alpn = self.python_session(ctx, s.port, session=sess)
        self.assertTrue(reused)
        self.assertEqual(alpn, "http/1.1")
        # the ticket of the resumed connection resumes too
        _, reused, _ = self.python_session(ctx, s.port, session=sess2)
        self.assertTrue(reused)
        self.assertEqual(s.summary(3)["resumed"], " resumed")

    def test_python_client_no_tickets(self):
        s = self.tlsv_server("--num-tickets", "0")
        ctx = self.python_ctx()
        sess, reused, _ = self.python_session(ctx, s.port)
        self.assertFalse(reused)
        if sess is not None:  # OpenSSL may keep a session without a ticket
            self.assertFalse(sess.has_ticket)
            _, reused, _ = self.python_session(ctx, s.port, session=sess)
            self.assertFalse(reused)

    # ---- gnutls-cli -> tlsv server --------------------------------------------------

    def test_gnutls_client_resume(self):
        if shutil.which("gnutls-cli") is None:
            self.skipTest("gnutls-cli not installed")
        s = self.tlsv_server()
        argv = ["gnutls-cli", "--resume", "--waitresumption", "--x509cafile", CERTS.cafile,
                "-p", str(s.port), "localhost"]
        p = I.Proc(argv, name="gnutls-cli")
        try:
            p.close_stdin()
            rc = p.wait()
        finally:
            p.kill()
        self.assertEqual(rc, 0, p.output())
        self.assertIn("This is a resumed session", p.output())
        self.assert_full_then_resumed(s)

    # ---- tlsv client -> tlsv server -------------------------------------------------

    def test_tlsv_both_sides(self):
        s = self.tlsv_server(mode="--handshake-only")
        r = self.client(s.port, "--reconnect", 2, "--handshake-only", "--json")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(json_lines(r.out)[-1], {"reconnects": 2, "resumed": 2}, r.describe())
        s2 = self.tlsv_server("--num-tickets", "0", mode="--handshake-only")
        r = self.client(s2.port, "--reconnect", 2, "--handshake-only", "--json")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(json_lines(r.out)[-1], {"reconnects": 2, "resumed": 0}, r.describe())


if __name__ == "__main__":
    I.main()
