#!/usr/bin/env python3
"""Runs one example program against real peers on 127.0.0.1.

    run_examples.py https_get|echo_server|memory_bio PROGRAM

CTest runs it once per example (examples/CMakeLists.txt: example_<name>).
Certificates are made at run time with the openssl CLI in a temporary
directory: a test CA, another CA (the "wrong CA"), a server certificate for
DNS:localhost and IP:127.0.0.1 signed by the test CA, and one for another
name. Peers: `openssl s_server -www`, `openssl s_client`, Python's ssl.
Every process started is stopped by its PID; every wait is bounded.
Exit status: 0 pass, 1 failure, 77 skipped (no openssl). Standard library only.
"""

import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

RUN_TIMEOUT = 30     # seconds: one whole run of an example or a client
START_TIMEOUT = 10   # a server until it says where it listens
STOP_TIMEOUT = 5     # a process after SIGTERM (then SIGKILL)
SANITIZER = re.compile(r"ERROR: \w+Sanitizer|runtime error:|SUMMARY: \w+Sanitizer")

PROGRAM = None       # the example under test (set by main)
CERTS = None         # the test PKI (set by main)


def openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed:\n%s" % (" ".join(args), r.stderr.decode()))


class Certs:
    """ca.pem, other_ca.pem; server.pem/.key (localhost, by ca);
    misnamed.pem/.key (other.example, by ca). Paths are attributes."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tlsv-examples-")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        for ca in ("ca", "other_ca"):
            openssl("req", "-x509", "-new", *ec, "-keyout", ca + ".key", "-out", ca + ".pem",
                    "-days", "2", "-subj", "/CN=tlsv examples " + ca,
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir)
        for serial, (name, cn, san) in enumerate([
                ("server", "localhost", "DNS:localhost,IP:127.0.0.1"),
                ("misnamed", "other.example", "DNS:other.example")], start=1):
            with open(os.path.join(self.dir, name + ".ext"), "w") as f:
                f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n" % san)
            openssl("req", "-new", *ec, "-keyout", name + ".key", "-out", name + ".csr",
                    "-subj", "/CN=" + cn, cwd=self.dir)
            openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                    "-set_serial", str(serial), "-days", "2", "-extfile", name + ".ext",
                    "-out", name + ".pem", cwd=self.dir)
        for name in ("ca", "other_ca", "server", "misnamed"):
            setattr(self, name, os.path.join(self.dir, name + ".pem"))
            setattr(self, name + "_key", os.path.join(self.dir, name + ".key"))


class Server:
    """A server process whose stdout+stderr go to a file; stopped by its PID."""

    def __init__(self, argv, ready):
        self.log = tempfile.NamedTemporaryFile(dir=CERTS.dir, suffix=".log", delete=False)
        self.p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                                  stdout=self.log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        m = self.wait_output(ready, START_TIMEOUT)
        if not m:
            self.stop()
            raise AssertionError("%s did not start:\n%s" % (argv[0], self.output()))
        self.port = int(m.group(1))

    def output(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def wait_output(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.output())
            if m or self.p.poll() is not None:
                return m or re.search(pattern, self.output())
            time.sleep(0.05)
        return None

    def wait(self, timeout):
        """The exit status, or None if still running after timeout seconds."""
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGTERM)
            if self.wait(STOP_TIMEOUT) is None:
                os.kill(self.p.pid, signal.SIGKILL)
                self.p.wait(timeout=STOP_TIMEOUT)
        self.log.close()


def run(*args):
    """Runs the example to completion: (exit status, stdout, stderr)."""
    r = subprocess.run([PROGRAM, *[str(a) for a in args]], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=RUN_TIMEOUT)
    out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    assert not SANITIZER.search(err), "sanitizer report:\n" + err
    return r.returncode, out, err


# ---------------------------------------------------------------------------

class HttpsGet(unittest.TestCase):
    def s_server(self, *extra, cert=None, key=None):
        srv = Server(["openssl", "s_server", "-accept", "127.0.0.1:0", "-www",
                      "-cert", cert or CERTS.server, "-key", key or CERTS.server_key, *extra],
                     r"ACCEPT \S+:(\d+)")
        self.addCleanup(srv.stop)
        return srv

    def test_get_verified(self):
        srv = self.s_server("-alpn", "http/1.1")
        rc, out, err = run("localhost", srv.port, "/", CERTS.ca)
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith("HTTP/1.0 200 ok\r\n"), out[:200])
        self.assertIn("</HTML>", out)  # the whole body, up to close_notify
        self.assertIn("connected: TLSv1.3", err)
        self.assertIn("ALPN http/1.1", err)

    def test_get_tls12_by_ip_address(self):
        srv = self.s_server("-tls1_2")
        rc, out, err = run("127.0.0.1", srv.port, "/", CERTS.ca)
        self.assertEqual(rc, 0, err)
        self.assertIn("HTTP/1.0 200 ok", out)
        self.assertIn("connected: TLSv1.2", err)

    def test_wrong_ca(self):
        srv = self.s_server()
        rc, out, err = run("localhost", srv.port, "/", CERTS.other_ca)
        self.assertEqual(rc, 1, err)
        self.assertIn("handshake failed: CERTIFICATE_VERIFY_FAILED", err)
        self.assertEqual(out, "")

    def test_wrong_hostname(self):
        srv = self.s_server(cert=CERTS.misnamed, key=CERTS.misnamed_key)
        rc, out, err = run("localhost", srv.port, "/", CERTS.ca)
        self.assertEqual(rc, 1, err)
        self.assertIn("CERTIFICATE_VERIFY_FAILED", err)
        self.assertEqual(out, "")

    def test_nothing_listening(self):
        with socket.socket() as bound:  # bound, not listening: the port stays ours, refused
            bound.bind(("127.0.0.1", 0))
            rc, _, err = run("127.0.0.1", bound.getsockname()[1], "/", CERTS.ca)
        self.assertEqual(rc, 1)
        self.assertIn("cannot connect", err)

    def test_usage(self):
        rc, _, err = run("localhost")
        self.assertEqual(rc, 1)
        self.assertIn("usage:", err)


class EchoServer(unittest.TestCase):
    def start(self, n):
        srv = Server([PROGRAM, "--max-connections", n, CERTS.server, CERTS.server_key, "0"],
                     r"listening on 127\.0\.0\.1:(\d+)")
        self.addCleanup(srv.stop)
        return srv

    def connect(self, port, rcvbuf=None):
        ctx = ssl.create_default_context(cafile=CERTS.ca)
        sock = socket.socket()
        if rcvbuf:  # a small window: the server's writes block sooner
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(RUN_TIMEOUT)
        sock.connect(("127.0.0.1", port))
        return ctx.wrap_socket(sock, server_hostname="localhost")

    @staticmethod
    def echo(conn, data):
        """Sends data and returns its echo: a select() loop on the non-blocking
        socket that sends as much as it can before it reads, so that with big
        data and a small receive window the server meets TLSV_WANT_WRITE."""
        conn.setblocking(False)
        sent, got = 0, bytearray()
        deadline = time.monotonic() + RUN_TIMEOUT
        while len(got) < len(data) and time.monotonic() < deadline:
            select.select([conn], [conn] if sent < len(data) else [], [], 0.2)
            try:
                while sent < len(data):
                    sent += conn.send(data[sent:sent + 65536])
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
            try:
                while len(got) < len(data):
                    chunk = conn.recv(65536)
                    if not chunk:
                        deadline = 0  # the server closed
                        break
                    got += chunk
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
        conn.settimeout(RUN_TIMEOUT)
        return bytes(got)

    def finish(self, srv, n):
        self.assertEqual(srv.wait(RUN_TIMEOUT), 0, srv.output())
        log = srv.output()
        self.assertIn("served %d connections" % n, log)
        self.assertFalse(SANITIZER.search(log), log)
        return log

    def test_concurrent_clients(self):
        srv = self.start(5)
        # Four Python clients connected at once, served in interleaved turns.
        clients = [self.connect(srv.port, rcvbuf=4096)]
        clients += [self.connect(srv.port) for _ in range(3)]
        for turn in range(3):
            for i, conn in enumerate(clients):
                line = b"turn %d, client %d\n" % (turn, i)
                self.assertEqual(self.echo(conn, line), line)
        # Large data, so that the server meets TLSV_WANT_WRITE.
        big = os.urandom(8 << 20)
        self.assertEqual(self.echo(clients[0], big), big)
        # An openssl s_client while the Python clients are still open.
        cli = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:%d" % srv.port,
                                "-CAfile", CERTS.ca, "-verify_hostname", "localhost",
                                "-verify_return_error", "-quiet", "-no_ign_eof"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            cli.stdin.write(b"hello from s_client\n")
            cli.stdin.flush()
            echoed = b""
            deadline = time.monotonic() + RUN_TIMEOUT
            while b"\n" not in echoed and time.monotonic() < deadline:
                if select.select([cli.stdout], [], [], 0.5)[0]:
                    chunk = os.read(cli.stdout.fileno(), 4096)
                    if not chunk:
                        break
                    echoed += chunk
            self.assertEqual(echoed, b"hello from s_client\n")
            cli.stdin.close()  # s_client sends close_notify and exits
            self.assertEqual(cli.wait(timeout=RUN_TIMEOUT), 0)
        finally:
            if cli.poll() is None:
                os.kill(cli.pid, signal.SIGKILL)
                cli.wait(timeout=STOP_TIMEOUT)
        for conn in clients:  # close_notify both ways
            conn.unwrap().close()
        log = self.finish(srv, 5)
        self.assertEqual(log.count(": closed cleanly (TLSv1.3, TLS_"), 5, log)
        self.assertNotIn("failed", log)

    def test_parallel_clients(self):
        srv = self.start(8)
        errors = []

        def client(k):
            try:
                conn = self.connect(srv.port)
                for j in range(50):
                    line = b"client %d, line %d\n" % (k, j)
                    if self.echo(conn, line) != line:
                        raise AssertionError("client %d: wrong echo of line %d" % (k, j))
                conn.unwrap().close()
            except Exception as e:  # reported by the main thread
                errors.append("client %d: %r" % (k, e))
        threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(8)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + RUN_TIMEOUT
        for t in threads:
            t.join(max(0, deadline - time.monotonic()))
        self.assertEqual(errors, [])
        self.assertFalse(any(t.is_alive() for t in threads), "a client thread hangs")
        log = self.finish(srv, 8)
        self.assertEqual(log.count(": closed cleanly (TLSv1.3, TLS_"), 8, log)

    def test_failed_client_does_not_stop_the_server(self):
        srv = self.start(2)
        with socket.create_connection(("127.0.0.1", srv.port), timeout=RUN_TIMEOUT) as raw:
            raw.sendall(b"GET / HTTP/1.0\r\n\r\n")  # not TLS
            raw.settimeout(RUN_TIMEOUT)
            try:
                while raw.recv(4096):
                    pass
            except ConnectionResetError:
                pass
        self.assertTrue(srv.wait_output(r"client 1: failed: \w+", RUN_TIMEOUT), srv.output())
        conn = self.connect(srv.port)
        self.assertEqual(self.echo(conn, b"still here\n"), b"still here\n")
        conn.unwrap().close()
        self.assertIn("client 2: closed", self.finish(srv, 2))


class MemoryBio(unittest.TestCase):
    def test_in_process_pair(self):
        rc, out, err = run(CERTS.server, CERTS.server_key, CERTS.ca)
        self.assertEqual(rc, 0, err)
        self.assertIn("client: TLSv1.3, TLS_", out)
        self.assertIn("server: TLSv1.3, TLS_", out)
        for line in ('server received "hello from the client"',
                     'client received "hello from the server"',
                     "server received close_notify", "client received close_notify"):
            self.assertIn(line, out)

    def test_wrong_ca(self):
        rc, _, err = run(CERTS.server, CERTS.server_key, CERTS.other_ca)
        self.assertEqual(rc, 1)
        self.assertIn("handshake failed: CERTIFICATE_VERIFY_FAILED", err)

    def test_missing_key(self):
        rc, _, err = run(CERTS.server, os.path.join(CERTS.dir, "absent.key"), CERTS.ca)
        self.assertEqual(rc, 1)
        self.assertIn("server certificate:", err)


TESTS = {"https_get": HttpsGet, "echo_server": EchoServer, "memory_bio": MemoryBio}


def main():
    global PROGRAM, CERTS
    if len(sys.argv) != 3 or sys.argv[1] not in TESTS:
        sys.exit("usage: run_examples.py %s PROGRAM" % "|".join(TESTS))
    PROGRAM = os.path.abspath(sys.argv[2])
    if shutil.which("openssl") is None:
        print("SKIP: the openssl program is not installed")
        sys.exit(77)
    CERTS = Certs()
    try:
        suite = unittest.defaultTestLoader.loadTestsFromTestCase(TESTS[sys.argv[1]])
        ok = unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful()
    finally:
        shutil.rmtree(CERTS.dir, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
