#!/usr/bin/env python3
"""Python's ssl module <-> tlsv, TLS 1.3, both directions.

  tlsv client -> an ssl.SSLContext(PROTOCOL_TLS_SERVER) echo server in a
                 thread: round trips (interactive, piped, 1 MB), half-close
                 (stdin ends while the server is still sending), each suite
                 and group, ECDSA / RSA / Ed25519 certificates, client
                 certificates, ALPN, SNI;
  Python client -> tlsv server --echo: round trips (small and 1 MB), ALPN,
                 client certificates, a Python client that rejects the
                 server's name.
"""

import os
import socket
import ssl
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop as I  # noqa: E402

CERTS = None


def setUpModule():
    global CERTS
    CERTS = I.Certs()


def tearDownModule():
    CERTS.cleanup()


class PyServer(threading.Thread):
    """A Python ssl server on 127.0.0.1 serving `count` connections one after
    another. mode "echo": echo until close_notify, then unwrap; "stream":
    send `stream_bytes` right after the handshake, then wait for the peer's
    close_notify and unwrap. Records per connection what Python saw."""

    def __init__(self, ctx, count=1, mode="echo", stream_bytes=0):
        super().__init__(daemon=True)
        self.ctx, self.count, self.mode, self.stream_bytes = ctx, count, mode, stream_bytes
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(I.CMD_TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.sessions = []
        self.sni = []
        ctx.sni_callback = lambda obj, name, c: self.sni.append(name)
        self.start()

    def run(self):
        for _ in range(self.count):
            info = {}
            self.sessions.append(info)
            try:
                raw, _ = self.sock.accept()
                raw.settimeout(I.CMD_TIMEOUT)
                with self.ctx.wrap_socket(raw, server_side=True) as s:
                    info.update(version=s.version(), cipher=s.cipher()[0],
                                alpn=s.selected_alpn_protocol(), peercert=s.getpeercert())
                    if self.mode == "stream":
                        chunk = bytes(range(256)) * 64
                        sent = 0
                        while sent < self.stream_bytes:
                            s.sendall(chunk)
                            sent += len(chunk)
                        info["sent"] = sent
                    received = 0
                    while True:
                        d = s.recv(65536)
                        if not d:
                            break
                        received += len(d)
                        if self.mode == "echo":
                            s.sendall(d)
                    info["received"] = received
                    s.unwrap()
            except Exception as e:  # recorded for the test to look at
                info["error"] = "%s: %s" % (type(e).__name__, e)
        self.sock.close()

    def finish(self, testcase):
        self.join(I.CMD_TIMEOUT)
        testcase.assertFalse(self.is_alive(), "the Python server did not finish")
        return self.sessions


def server_ctx(kind="ecdsa"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(*CERTS.server(kind))
    return ctx


class TlsvClientToPython(unittest.TestCase):

    def run_client(self, port, *args, input=b"", expect_rc=0):
        r = I.run_tlsv_client(self, "localhost:%d" % port, "--cafile", CERTS.cafile, *args,
                              input=input)
        if expect_rc is not None:
            self.assertEqual(r.rc, expect_rc, r.describe())
        return r

    def test_interactive_round_trip(self):
        srv = PyServer(server_ctx())
        c = I.start_tlsv_client("localhost:%d" % srv.port, "--cafile", CERTS.cafile)
        try:
            c.wait_for(I.SUMMARY_CLIENT.pattern, "err")
            for n in range(3):
                c.send(b"line %d from tlsv\n" % n)
                c.wait_for(r"line %d from tlsv" % n, "out")
            c.close_stdin()
            rc = c.wait()
        finally:
            c.kill()
        I.assert_no_sanitizer_report(self, c, "tlsv client")
        self.assertEqual(rc, 0, c.output())
        info = srv.finish(self)[0]
        self.assertNotIn("error", info, info)
        self.assertEqual(info["version"], "TLSv1.3")
        self.assertEqual(srv.sni, ["localhost"])
        self.assertIn("tlsv: connected to localhost:%d: TLSv1.3 %s" % (srv.port, info["cipher"]),
                      c.err)

    def test_piped_round_trip(self):
        srv = PyServer(server_ctx())
        r = self.run_client(srv.port, input=b"hello through a pipe\n")
        self.assertEqual(r.out, "hello through a pipe\n", r.describe())
        self.assertNotIn("error", srv.finish(self)[0])

    def test_piped_megabyte(self):
        # stdin ends while the echo is still coming back: tlsv sends
        # close_notify and must keep reading until Python's close_notify
        data = os.urandom(1 << 20)
        srv = PyServer(server_ctx(), count=3)
        for n in range(3):
            with self.subTest(run=n):
                argv = [I.TLSV, "client", "localhost:%d" % srv.port, "--cafile", CERTS.cafile]
                p = subprocess.run(argv, input=data, capture_output=True, timeout=I.CMD_TIMEOUT)
                I.assert_no_sanitizer_report(self, p.stderr.decode("utf-8", "replace"))
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(len(p.stdout), len(data),
                                 "echo of 1 MiB came back incomplete: %d bytes" % len(p.stdout))
                self.assertEqual(p.stdout, data)
        for info in srv.finish(self):
            self.assertEqual(info.get("received"), len(data), info)

    def test_half_close_while_server_streams(self):
        # Python streams 16 MiB right after the handshake; tlsv's stdin ends
        # while the stream flows: after its close_notify tlsv must still
        # deliver every byte until Python's close_notify. (Data lost here
        # is lost silently, and only when it is in flight at the moment
        # of the close: the scenario runs several times.)
        total = 16 << 20
        runs = 4
        srv = PyServer(server_ctx(), count=runs, mode="stream", stream_bytes=total)
        for n in range(runs):
            with self.subTest(run=n):
                c = I.start_tlsv_client("localhost:%d" % srv.port, "--cafile", CERTS.cafile)
                try:
                    c.wait_for(I.SUMMARY_CLIENT.pattern, "err")
                    c.wait_for_stdout_bytes(1)  # the stream flows
                    c.close_stdin()
                    rc = c.wait()
                finally:
                    c.kill()
                I.assert_no_sanitizer_report(self, c, "tlsv client")
                self.assertEqual(rc, 0, c.err)
                got = len(c.out_bytes)
                self.assertEqual(got, total,
                                 "tlsv client delivered %d of %d bytes: data that arrived "
                                 "after its close_notify was lost" % (got, total))
        for info in srv.finish(self):
            self.assertNotIn("error", info, info)

    def test_each_suite(self):
        srv = PyServer(server_ctx(), count=len(I.SUITES))
        for suite in I.SUITES:
            with self.subTest(suite=suite):
                r = self.run_client(srv.port, "--ciphersuites", suite, input=b"x\n")
                self.assertEqual(r.summary["cipher"], suite, r.describe())
                self.assertEqual(r.out, "x\n")
        self.assertEqual([i.get("cipher") for i in srv.finish(self)], I.SUITES)

    def test_each_group(self):
        srv = PyServer(server_ctx(), count=len(I.GROUPS))
        for group in I.GROUPS:
            with self.subTest(group=group):
                r = self.run_client(srv.port, "--groups", group, "--handshake-only")
                self.assertEqual(r.summary["group"], group, r.describe())
        srv.finish(self)

    def test_each_certificate_kind(self):
        for kind in I.CERT_KINDS:
            with self.subTest(kind=kind):
                srv = PyServer(server_ctx(kind))
                r = self.run_client(srv.port, "--handshake-only", "--json")
                self.assertEqual(r.json["version"], "TLSv1.3", r.describe())
                srv.finish(self)

    def test_client_certificate(self):
        ctx = server_ctx()
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(CERTS.cafile)
        srv = PyServer(ctx, count=2)
        self.run_client(srv.port, "--cert", CERTS.client_cert, "--key", CERTS.client_key,
                        input=b"with a certificate\n")
        r = self.run_client(srv.port, input=b"without\n", expect_rc=1)
        self.assertIn("certificate_required", r.err, r.describe())
        first, second = srv.finish(self)
        subject = dict(x[0] for x in first["peercert"]["subject"])
        self.assertEqual(subject["commonName"], "tlsv-test-client")
        self.assertIn("error", second)

    def test_alpn(self):
        ctx = server_ctx()
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        srv = PyServer(ctx, count=2)
        r = self.run_client(srv.port, "--alpn", "http/1.1", "--handshake-only", "--json")
        self.assertEqual(r.json["alpn"], "http/1.1", r.describe())
        r = self.run_client(srv.port, "--alpn", "foo,h2", "--handshake-only", "--json")
        self.assertEqual(r.json["alpn"], "h2", r.describe())
        self.assertEqual([i["alpn"] for i in srv.finish(self)], ["http/1.1", "h2"])


class PythonClientToTlsvServer(unittest.TestCase):

    def server(self, *args, kind="ecdsa"):
        cert, key = CERTS.server(kind)
        return I.tlsv_server(self, "--cert", cert, "--key", key, *args)

    def client_ctx(self):
        ctx = ssl.create_default_context(cafile=CERTS.cafile)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        return ctx

    def connect(self, port, ctx, hostname="localhost"):
        raw = socket.create_connection(("127.0.0.1", port), timeout=I.CMD_TIMEOUT)
        return ctx.wrap_socket(raw, server_hostname=hostname)

    def recv_exactly(self, s, n):
        buf = bytearray()
        while len(buf) < n:
            d = s.recv(n - len(buf))
            if not d:
                break
            buf.extend(d)
        return bytes(buf)

    def test_echo(self):
        srv = self.server("--echo", "--once", "--json")
        with self.connect(srv.port, self.client_ctx()) as s:
            self.assertEqual(s.version(), "TLSv1.3")
            s.sendall(b"hello from python\n")
            self.assertEqual(self.recv_exactly(s, 18), b"hello from python\n")
            cipher = s.cipher()[0]
            s.unwrap()
        I.finish_once_server(self, srv, 0)
        self.assertEqual(srv.summary()["sni"], "localhost")
        obj = srv.json_objects()[0]
        self.assertEqual(obj["cipher"], cipher)
        self.assertNotIn("connection error", srv.err)

    def test_echo_megabyte(self):
        srv = self.server("--echo", "--once")
        data = os.urandom(1 << 20)
        got = bytearray()
        with self.connect(srv.port, self.client_ctx()) as s:
            for off in range(0, len(data), 32768):
                chunk = data[off:off + 32768]
                s.sendall(chunk)
                got.extend(self.recv_exactly(s, len(chunk)))
            s.unwrap()
        self.assertEqual(bytes(got), data)
        I.finish_once_server(self, srv, 0)

    def test_alpn(self):
        srv = self.server("--echo", "--alpn", "h2,http/1.1")
        for offer, expect in ((["http/1.1"], "http/1.1"), (["http/1.1", "h2"], "h2")):
            with self.subTest(offer=offer):
                ctx = self.client_ctx()
                ctx.set_alpn_protocols(offer)
                with self.connect(srv.port, ctx) as s:
                    self.assertEqual(s.selected_alpn_protocol(), expect)
                    s.unwrap()

    def test_client_certificate(self):
        srv = self.server("--echo", "--verify", "required", "--cafile", CERTS.cafile)
        ctx = self.client_ctx()
        ctx.load_cert_chain(CERTS.client_cert, CERTS.client_key)
        with self.connect(srv.port, ctx) as s:
            s.sendall(b"ping")
            self.assertEqual(self.recv_exactly(s, 4), b"ping")
            s.unwrap()
        self.assertIsNotNone(srv.summary()["client_certs"], srv.output())
        # without a certificate: the server refuses (certificate_required)
        with self.connect(srv.port, self.client_ctx()) as s:
            with self.assertRaises((ssl.SSLError, OSError)):
                s.sendall(b"ping")
                s.recv(4)
        f = srv.failure()
        self.assertEqual(f["alert"], "certificate_required", srv.output())

    def test_python_rejects_wrong_name(self):
        srv = self.server("--echo")
        with self.assertRaises(ssl.SSLCertVerificationError):
            self.connect(srv.port, self.client_ctx(), hostname="wrong.example")
        f = srv.failure()
        # Python (OpenSSL) sends its alert before it switches to handshake
        # keys, i.e. in plaintext; the server must report it as received
        self.assertEqual(f["dir"], "received", srv.output())


if __name__ == "__main__":
    I.need_programs("openssl")
    I.main()
