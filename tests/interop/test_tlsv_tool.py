#!/usr/bin/env python3
"""tlsv client <-> tlsv server, and the tool's contract (SPEC §3).

  - round trips, suites, groups, HRR, ALPN, client certificates, --json on
    both sides, --www through tlsv client, the default server mode (client
    data to the server's stdout, the server's stdin to the client);
  - exit statuses: 0 / 1 / 2; options not supported yet fail with 2 and
    name the option; configuration mistakes name the option;
  - robustness of the server: peers that connect and vanish, speak
    plaintext, reset in the middle of an echo, close without close_notify; it reports
    them and goes on
    serving; it never dies of SIGPIPE;
  - a client whose server vanishes without close_notify reports it.
"""

import os
import socket
import ssl
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop as I  # noqa: E402

CERTS = None


def setUpModule():
    global CERTS
    CERTS = I.Certs()


def tearDownModule():
    CERTS.cleanup()


def ec():
    return ["--cert", CERTS.ecdsa_cert, "--key", CERTS.ecdsa_key]


def run_tlsv(testcase, *args, input=b""):
    argv = [I.TLSV] + [str(a) for a in args]
    I.log("+", " ".join(argv))
    r = subprocess.run(argv, input=input, capture_output=True, timeout=I.CMD_TIMEOUT)
    err = r.stderr.decode("utf-8", "replace")
    I.assert_no_sanitizer_report(testcase, err)
    return r.returncode, r.stdout.decode("utf-8", "replace"), err


class TlsvToTlsv(unittest.TestCase):

    def client(self, port, *args, input=b"", expect_rc=0):
        r = I.run_tlsv_client(self, "localhost:%d" % port, "--cafile", CERTS.cafile, *args,
                              input=input)
        if expect_rc is not None:
            self.assertEqual(r.rc, expect_rc, r.describe())
        return r

    def test_echo_and_json_both_sides(self):
        srv = I.tlsv_server(self, *ec(), "--echo", "--once", "--json")
        r = self.client(srv.port, "--json", input=b"hello tlsv\n")
        self.assertEqual(r.out, r.out.split("\n", 1)[0] + "\nhello tlsv\n", r.describe())
        self.assertEqual(r.json["version"], "TLSv1.3")
        I.finish_once_server(self, srv, 0)
        obj = srv.json_objects()[0]
        for k in ("version", "cipher", "group", "alpn"):
            self.assertEqual(obj[k], r.json[k], k)
        self.assertEqual(obj["sni"], "localhost")
        self.assertNotIn("connection error", srv.err)

    def test_suites_groups_and_hrr(self):
        srv = I.tlsv_server(self, *ec(), "--echo")
        n = 0
        for suite in I.SUITES:
            for group in I.GROUPS:
                with self.subTest(suite=suite, group=group):
                    r = self.client(srv.port, "--ciphersuites", suite, "--groups", group,
                                    input=b"x\n")
                    n += 1
                    self.assertEqual((r.summary["cipher"], r.summary["group"]), (suite, group))
                    self.assertEqual(r.out, "x\n")
                    sm = srv.summary(count=n)
                    self.assertEqual((sm["cipher"], sm["group"]), (suite, group))
        hrr = I.tlsv_server(self, *ec(), "--echo", "--groups", "P-256")
        r = self.client(hrr.port, "--groups", "x25519:P-256", input=b"y\n")
        self.assertEqual(r.summary["group"], "P-256", r.describe())

    def test_certificate_kinds_alpn_client_certificate(self):
        for kind in I.CERT_KINDS:
            with self.subTest(kind=kind):
                cert, key = CERTS.server(kind)
                srv = I.tlsv_server(self, "--cert", cert, "--key", key, "--once",
                                    "--handshake-only", "--alpn", "h2,http/1.1",
                                    "--verify", "required", "--cafile", CERTS.cafile)
                r = self.client(srv.port, "--alpn", "http/1.1,h2", "--handshake-only",
                                "--cert", CERTS.client_cert, "--key", CERTS.client_key)
                self.assertEqual(r.summary["alpn"], "h2", r.describe())
                I.finish_once_server(self, srv, 0)
                self.assertEqual(srv.summary()["client_certs"], "1", srv.output())

    def test_www_through_tlsv_client(self):
        srv = I.tlsv_server(self, *ec(), "--www", "--once", "--alpn", "http/1.1")
        r = self.client(srv.port, "--alpn", "http/1.1",
                        input=b"GET /page HTTP/1.0\r\nHost: localhost\r\n\r\n")
        self.assertTrue(r.out.startswith("HTTP/1.0 200 OK\r\n"), r.describe())
        for line in ("version: TLSv1.3", "alpn: http/1.1", "sni: localhost",
                     "request: GET /page HTTP/1.0", "cipher: " + r.summary["cipher"]):
            self.assertIn(line, r.out)
        I.finish_once_server(self, srv, 0)

    def test_default_server_mode_copies_both_ways(self):
        srv = I.tlsv_server(self, *ec(), "--once")
        c = I.start_tlsv_client("localhost:%d" % srv.port, "--cafile", CERTS.cafile)
        try:
            c.wait_for(I.SUMMARY_CLIENT.pattern, "err")
            c.send(b"client to server stdout\n")
            srv.wait_for("client to server stdout", "out")
            srv.send(b"server stdin to client\n")
            c.wait_for("server stdin to client", "out")
            c.close_stdin()
            self.assertEqual(c.wait(), 0, c.output())
        finally:
            c.kill()
        I.finish_once_server(self, srv, 0)

    def test_handshake_failure_once_exit_status(self):
        srv = I.tlsv_server(self, *ec(), "--once", "--verify", "required",
                            "--cafile", CERTS.cafile)
        r = self.client(srv.port, "--handshake-only", expect_rc=1)
        self.assertIn("certificate_required", r.err, r.describe())
        I.finish_once_server(self, srv, 1)
        f = srv.failure()
        self.assertEqual(f["reason"], "PEER_DID_NOT_RETURN_A_CERTIFICATE", srv.output())

    def test_fixed_port(self):
        port = I.free_port()
        for attempt in range(3):
            try:
                srv = I.tlsv_server(self, *ec(), "--port", port, "--once", "--echo")
                break
            except AssertionError:
                port = I.free_port()
        self.assertEqual(srv.port, port)
        self.client(port, input=b"fixed\n")
        I.finish_once_server(self, srv, 0)


class ToolContract(unittest.TestCase):

    def usage(self, *args, mention):
        rc, out, err = run_tlsv(self, *args)
        self.assertEqual(rc, 2, "tlsv %s\n%s%s" % (" ".join(map(str, args)), out, err))
        for word in mention if isinstance(mention, tuple) else (mention,):
            self.assertIn(word, err, "tlsv %s\n%s" % (" ".join(map(str, args)), err))
        return err

    def test_ciphers_and_fallback_scsv_options(self):
        self.usage("client", "127.0.0.1:1", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256:NOPE",
                   mention=("--ciphers", "NOPE"))
        self.usage("server", *ec(), "--ciphers", "!", mention="--ciphers")
        self.usage("server", *ec(), "--fallback-scsv", mention="--fallback-scsv")

    def test_usage_errors(self):
        self.usage("server", mention="--cert")
        self.usage("server", "--cert", CERTS.ecdsa_cert, mention="--key")
        self.usage("server", *ec(), "--echo", "--www", mention="--echo")
        self.usage("server", *ec(), "--port", "65536", mention="--port")
        self.usage("server", *ec(), "--servername", "x", mention="--servername")
        self.usage("client", "127.0.0.1:1", "--port", "1", mention="--port")
        self.usage("client", "127.0.0.1:1", "--echo", mention="--echo")
        self.usage("client", "127.0.0.1:1", "--key", CERTS.ecdsa_key, mention="--key")
        self.usage("client", "no-port-here", mention="HOST:PORT")
        self.usage("client", "127.0.0.1:1", "--groups", "x25519:brainpool", mention="--groups")
        self.usage("client", "127.0.0.1:1", "--ciphersuites", "TLS_NOPE", mention="--ciphersuites")
        self.usage("client", "127.0.0.1:1", "--protocol", "TLS_SERVER", mention="WRONG_SIDE")
        self.usage("server", *ec(), "--protocol", "TLS_CLIENT", mention="WRONG_SIDE")
        self.usage("client", "127.0.0.1:1", "--cafile", "/nonexistent/ca.pem", mention="--cafile")
        self.usage("server", "--cert", CERTS.ecdsa_cert, "--key", CERTS.rsa_key,
                   mention="KEY_VALUES_MISMATCH")
        self.usage("client", "127.0.0.1:1", "--verify", "none",
                   mention="CHECK_HOSTNAME_NEEDS_VERIFY")

    def test_probe_unreachable(self):
        rc, out, err = run_tlsv(self, "probe", "127.0.0.1:1")
        self.assertEqual(rc, 1, err)
        self.assertIn("cannot connect to 127.0.0.1:1", err)

    def test_connection_refused(self):
        port = I.free_port()
        rc, out, err = run_tlsv(self, "client", "127.0.0.1:%d" % port, "--json")
        self.assertEqual(rc, 1, err)
        self.assertIn("Connection refused", err)
        self.assertIn('"error":"SYSCALL"', out)


class Robustness(unittest.TestCase):

    def good_client(self, srv):
        r = I.run_tlsv_client(self, "localhost:%d" % srv.port, "--cafile", CERTS.cafile,
                              input=b"still here\n")
        self.assertEqual(r.rc, 0, r.describe() + "\n" + srv.output())
        self.assertEqual(r.out, "still here\n")

    def test_server_survives_hostile_peers(self):
        srv = I.tlsv_server(self, *ec(), "--echo")
        failures = 0
        # 1. connect and vanish
        socket.create_connection(("127.0.0.1", srv.port), timeout=5).close()
        failures += 1
        f = srv.failure(failures)
        self.assertEqual(f["reason"], "UNEXPECTED_EOF_WHILE_READING", srv.output())
        # 2. plaintext HTTP
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            s.settimeout(5)
            try:
                s.recv(100)
            except OSError:
                pass
        failures += 1
        f = srv.failure(failures)
        self.assertEqual(f["alert"], "protocol_version", srv.output())
        # 3. half a ClientHello, then a reset
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
            s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 20)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        failures += 1
        srv.failure(failures)
        # 4. a TLS client that sends a lot and resets without reading the echo
        ctx = ssl.create_default_context(cafile=CERTS.cafile)
        raw = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        try:
            for _ in range(64):
                s.sendall(b"z" * 16384)
        except OSError:
            pass
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # an RST while the server may still be echoing
        srv.summary(count=1)
        srv.wait_for(r"connection error", "err")
        # 5. a TLS client that closes without close_notify
        raw = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        s.sendall(b"bye\n")
        s.recv(4)
        s.close()  # Python's close() sends no close_notify
        srv.summary(count=2)
        srv.wait_for(r"connection error: UNEXPECTED_EOF_WHILE_READING", "err")
        # still serving, still alive
        self.good_client(srv)
        self.assertIsNone(srv.poll(), srv.output())

    def test_many_connections_in_a_row(self):
        srv = I.tlsv_server(self, *ec(), "--echo")
        for n in range(10):
            self.good_client(srv)
        srv.summary(count=10)

    def test_client_reports_server_vanishing(self):
        # a Python server that completes the handshake and closes the TCP
        # connection without close_notify
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(CERTS.ecdsa_cert, CERTS.ecdsa_key)
        with socket.create_server(("127.0.0.1", 0)) as ls:
            ls.settimeout(I.CMD_TIMEOUT)
            port = ls.getsockname()[1]
            c = I.start_tlsv_client("localhost:%d" % port, "--cafile", CERTS.cafile)
            try:
                raw, _ = ls.accept()
                s = ctx.wrap_socket(raw, server_side=True)
                c.wait_for(I.SUMMARY_CLIENT.pattern, "err")
                s.sendall(b"last words\n")
                c.wait_for("last words", "out")
                s.close()  # no close_notify: Python's close() never sends one
                rc = c.wait()
            finally:
                c.kill()
        I.assert_no_sanitizer_report(self, c, "tlsv client")
        self.assertEqual(rc, 1, c.output())
        self.assertIn("UNEXPECTED_EOF_WHILE_READING", c.err)

    def test_client_stdout_closed(self):
        # the reader of tlsv's stdout goes away: no death by SIGPIPE
        srv = I.tlsv_server(self, *ec(), "--echo")
        rfd, wfd = os.pipe()
        p = subprocess.Popen([I.TLSV, "client", "localhost:%d" % srv.port,
                              "--cafile", CERTS.cafile], stdin=subprocess.PIPE, stdout=wfd,
                             stderr=subprocess.PIPE)
        os.close(wfd)
        os.close(rfd)
        try:
            p.stdin.write(b"nobody reads this\n" * 100)
            p.stdin.flush()
            time.sleep(0.2)
            p.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = p.wait(I.CMD_TIMEOUT)
        except Exception:
            p.kill()
            raise
        err = p.stderr.read().decode("utf-8", "replace")
        p.stderr.close()
        I.assert_no_sanitizer_report(self, err)
        self.assertIn(rc, (0, 1), err)  # an exit, not a signal
        self.assertIsNone(srv.poll())


if __name__ == "__main__":
    I.need_programs("openssl")
    I.main()
