#!/usr/bin/env python3
"""TLS 1.2 session resumption (RFC 5077 tickets and RFC 5246 session IDs)
against real peers. Each test checks that the later connections really were
resumed (the peer's own words, or the tool's count).

  tlsv client --reconnect / --sess-out / --sess-in -> openssl s_server -tls1_2
    (tickets; with -no_ticket session IDs)
  tlsv client --reconnect    -> gnutls-serv at TLS 1.2 (tickets; --noticket IDs)
  openssl s_client -tls1_2 -sess_out, then -sess_in -> tlsv server: "Reused, TLSv1.2"
    (tickets; with -no_ticket session IDs from the server's cache)
  gnutls-cli --resume (TLS 1.2 priority) -> tlsv server: "This is a resumed session"
  Python's ssl (session=, maximum_version TLSv1_2) -> tlsv server: session_reused
  tlsv client -> tlsv server at TLS 1.2, and --sess-cache 0 with NO_TICKET: none

gnutls parts are skipped when gnutls-bin is not installed. gnutls-serv
cannot bind one address: it listens on all addresses for a test's duration
on a port found free on 127.0.0.1 (as in test_gnutls.py).
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
GNUTLS12 = "NORMAL:-VERS-ALL:+VERS-TLS1.2"


def setUpModule():
    global CERTS
    I.need_programs("openssl")
    CERTS = I.Certs()


def tearDownModule():
    CERTS.cleanup()


def json_lines(text):
    return [json.loads(l) for l in text.splitlines() if l.startswith("{")]


class GnutlsServ(I.Proc):
    def __init__(self, *args, kind="ecdsa", prio=GNUTLS12):
        cert, key = CERTS.server(kind)
        for attempt in range(5):
            self.port = I.free_port()
            super().__init__(["gnutls-serv", "-p", self.port, "--echo", "--x509certfile", cert,
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
                self.stop()


class Resume12(unittest.TestCase):

    def tlsv_server(self, *args, mode="--echo"):
        cert, key = CERTS.server("ecdsa")
        return I.tlsv_server(self, "--cert", cert, "--key", key, "--max-version", "TLSv1.2",
                             mode, *args)

    def tmpfile(self, name):
        d = tempfile.mkdtemp(prefix="tlsv-resume12-")
        self.addCleanup(shutil.rmtree, d, True)
        return os.path.join(d, name)

    def client(self, port, *args):
        return I.run_tlsv_client(self, "127.0.0.1:%d" % port, "--cafile", CERTS.cafile,
                                 "--servername", "localhost", *args)

    def reconnect(self, port, *args):
        """tlsv client --reconnect 2: the JSON objects of its connections."""
        r = self.client(port, "--reconnect", 2, "--handshake-only", "--json", *args)
        self.assertEqual(r.rc, 0, r.describe())
        objs = json_lines(r.out)
        self.assertEqual(len(objs), 4, r.describe())
        for o in objs[:3]:
            self.assertEqual(o["version"], "TLSv1.2", r.describe())
        return objs, r

    # ---- tlsv client -> openssl s_server -------------------------------------------

    def test_tlsv_client_openssl_server_tickets(self):
        s = I.s_server(self, CERTS, "-tls1_2", "-www")
        objs, r = self.reconnect(s.port)
        self.assertEqual([o["resumed"] for o in objs[:3]], [False, True, True], r.describe())
        self.assertEqual(objs[3], {"reconnects": 2, "resumed": 2}, r.describe())
        self.assertIn("tlsv: connection 3 of 3: resumed", r.err)

    def test_tlsv_client_openssl_server_session_ids(self):
        s = I.s_server(self, CERTS, "-tls1_2", "-www", "-no_ticket")
        objs, r = self.reconnect(s.port)
        self.assertEqual(objs[3], {"reconnects": 2, "resumed": 2}, r.describe())
        # the client not offering tickets: session IDs too
        s2 = I.s_server(self, CERTS, "-tls1_2", "-www")
        objs, r = self.reconnect(s2.port, "--options", "NO_TICKET")
        self.assertEqual(objs[3], {"reconnects": 2, "resumed": 2}, r.describe())

    def test_tlsv_client_session_file_openssl_server(self):
        for extra in ((), ("-no_ticket",)):
            s = I.s_server(self, CERTS, "-tls1_2", "-www", *extra)
            sess = self.tmpfile("tlsv12.sess")
            r = self.client(s.port, "--handshake-only", "--sess-out", sess)
            self.assertEqual(r.rc, 0, r.describe())
            self.assertEqual(os.stat(sess).st_mode & 0o777, 0o600)
            with open(sess, "rb") as f:
                self.assertEqual(f.read(5), b"tlsv\x02")  # format 2: a TLS <= 1.2 session
            r = self.client(s.port, "--handshake-only", "--sess-in", sess, "--json")
            self.assertEqual(r.rc, 0, r.describe())
            self.assertTrue(json_lines(r.out)[0]["resumed"], r.describe())
            self.assertIn("tlsv: connection 1 of 1: resumed", r.err)

    # ---- tlsv client -> gnutls-serv --------------------------------------------------

    def gnutls_serv(self, *args):
        if shutil.which("gnutls-serv") is None:
            self.skipTest("gnutls-serv not installed")
        s = GnutlsServ(*args)
        self.addCleanup(s.stop)
        return s

    def test_tlsv_client_gnutls_server(self):
        s = self.gnutls_serv()
        objs, r = self.reconnect(s.port)
        self.assertEqual(objs[3], {"reconnects": 2, "resumed": 2}, r.describe())
        s2 = self.gnutls_serv("--noticket")
        objs, r = self.reconnect(s2.port)
        self.assertEqual(objs[3], {"reconnects": 2, "resumed": 2}, r.describe())

    # ---- openssl s_client -> tlsv server --------------------------------------------

    def s_client_session(self, port, *args):
        c = I.s_client(port, "-tls1_2", "-CAfile", CERTS.cafile, "-servername", "localhost",
                       "-verify_return_error", *args, brief=False)
        try:
            c.wait_for(r"^\s*Verify return code", "out")  # indented at TLS 1.2
            c.send(b"ping\n")
            c.wait_for(r"^ping$", "out")
            c.close_stdin()
            rc = c.wait()
        finally:
            c.kill()
        self.assertEqual(rc, 0, c.output())
        return c.out + c.err

    def test_openssl_client_sess_out_in(self):
        for extra in ((), ("-no_ticket",)):
            s = self.tlsv_server()
            sess = self.tmpfile("openssl.sess")
            out = self.s_client_session(s.port, "-sess_out", sess, *extra)
            self.assertIn("New, TLSv1.2", out)
            if extra:
                self.assertNotIn("TLS session ticket:", out)
            else:
                self.assertIn("TLS session ticket lifetime hint: 7200", out)
            out = self.s_client_session(s.port, "-sess_in", sess, *extra)
            self.assertIn("Reused, TLSv1.2", out)
            self.assert_full_then_resumed(s)

    def test_openssl_client_no_cache(self):
        s = self.tlsv_server("--sess-cache", "0", "--options", "NO_TICKET")
        sess = self.tmpfile("openssl.sess")
        out = self.s_client_session(s.port, "-sess_out", sess)
        self.assertIn("New, TLSv1.2", out)
        # no session ID, no ticket: nothing resumable, s_client saves nothing
        self.assertRegex(out, r"(?m)^\s*Session-ID: *$")
        self.assertNotIn("TLS session ticket:", out)
        self.assertFalse(os.path.exists(sess))

    def assert_full_then_resumed(self, server):
        """The server's first two connections: one full handshake, one
        resumed. The server prints each connection's line from its own thread
        when the connection ends, so the two lines may come in either order
        (seen once under ASan: gnutls-cli --resume's second connection ended
        first)."""
        resumed = sorted(server.summary(n)["resumed"] or "" for n in (1, 2))
        self.assertEqual(resumed, ["", " resumed"])

    # ---- gnutls-cli -> tlsv server --------------------------------------------------

    def gnutls_cli(self, port, *args):
        argv = ["gnutls-cli", "--resume", "--priority", GNUTLS12, "--x509cafile",
                CERTS.cafile, "-p", str(port)] + list(args) + ["localhost"]
        p = I.Proc(argv, name="gnutls-cli")
        try:
            p.close_stdin()
            rc = p.wait()
        finally:
            p.kill()
        self.assertEqual(rc, 0, p.output())
        return p.output()

    def test_gnutls_client_resume(self):
        if shutil.which("gnutls-cli") is None:
            self.skipTest("gnutls-cli not installed")
        s = self.tlsv_server()
        out = self.gnutls_cli(s.port)
        self.assertIn("This is a resumed session", out)
        self.assertIn("(TLS1.2", out)
        self.assert_full_then_resumed(s)
        # without tickets: the server's session cache
        s2 = self.tlsv_server()
        out = self.gnutls_cli(s2.port, "--noticket")
        self.assertIn("This is a resumed session", out)
        self.assert_full_then_resumed(s2)

    # ---- Python's ssl -> tlsv server ------------------------------------------------

    def python_session(self, ctx, port, session=None):
        with socket.create_connection(("127.0.0.1", port), timeout=I.CMD_TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
                s.sendall(b"ping\n")
                got = b""
                while not got.endswith(b"\n"):
                    chunk = s.recv(100)
                    self.assertTrue(chunk)
                    got += chunk
                self.assertEqual(got, b"ping\n")
                self.assertEqual(s.version(), "TLSv1.2")
                return s.session, s.session_reused

    def test_python_client_session(self):
        s = self.tlsv_server()
        for no_ticket in (False, True):
            ctx = ssl.create_default_context(cafile=CERTS.cafile)
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            if no_ticket:
                ctx.options |= ssl.OP_NO_TICKET
            sess, reused = self.python_session(ctx, s.port)
            self.assertFalse(reused)
            self.assertIsNotNone(sess)
            self.assertEqual(sess.has_ticket, not no_ticket)
            sess2, reused = self.python_session(ctx, s.port, session=sess)
            self.assertTrue(reused)
            _, reused = self.python_session(ctx, s.port, session=sess2)
            self.assertTrue(reused)

    # ---- tlsv client -> tlsv server -------------------------------------------------

    def test_tlsv_both_sides(self):
        s = self.tlsv_server(mode="--handshake-only")
        objs, r = self.reconnect(s.port)
        self.assertEqual(objs[3], {"reconnects": 2, "resumed": 2}, r.describe())
        objs, r = self.reconnect(s.port, "--options", "NO_TICKET")
        self.assertEqual(objs[3], {"reconnects": 2, "resumed": 2}, r.describe())
        s2 = self.tlsv_server("--sess-cache", "0", "--options", "NO_TICKET",
                              mode="--handshake-only")
        objs, r = self.reconnect(s2.port)
        self.assertEqual(objs[3], {"reconnects": 2, "resumed": 0}, r.describe())


if __name__ == "__main__":
    I.main()
