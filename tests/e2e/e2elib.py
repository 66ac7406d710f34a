"""Shared helpers of the end-to-end tests (tests/e2e): child processes stopped
by their own PID with every wait bounded, certificates made at run time with
the openssl CLI, and an OpenSSL environment without the system's config.

Standard library only.
"""
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

# Seconds. Every wait is bounded by one of these.
START_TIMEOUT = 10    # a server until it listens
RUN_TIMEOUT = 25      # a whole client run (the tool's own handshake timeout is 30 s)
PEER_TIMEOUT = 15     # the Python peers' socket / accept timeouts
GRACE = 3             # a server's exit after its client ended
STOP_TIMEOUT = 5      # a process after SIGTERM

SKIP_EXIT = 77

VERBOSE = os.environ.get("TLSV_E2E_VERBOSE") == "1"


def log(*args):
    if VERBOSE:
        print(*args, file=sys.stderr, flush=True)


class Proc:
    """A child with stdin closed and stdout/stderr collected by threads (no
    pipe can fill up); stopped by its own PID (SIGTERM, then SIGKILL)."""

    def __init__(self, argv, name=None, env=None, stdin=subprocess.DEVNULL):
        self.argv = [str(a) for a in argv]
        self.name = name or os.path.basename(self.argv[0])
        log("+", " ".join(self.argv))
        self.p = subprocess.Popen(self.argv, stdin=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env, start_new_session=True)
        self.pid = self.p.pid
        self._bufs = {"out": bytearray(), "err": bytearray()}
        self._cond = threading.Condition()
        self._eof = 0
        self._threads = [threading.Thread(target=self._pump, args=(self.p.stdout, "out"),
                                          daemon=True),
                         threading.Thread(target=self._pump, args=(self.p.stderr, "err"),
                                          daemon=True)]
        for t in self._threads:
            t.start()
        self.stopped = False  # we had to stop it (it did not end by itself)

    def _pump(self, pipe, which):
        fd = pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            with self._cond:
                if not chunk:
                    self._eof += 1
                    self._cond.notify_all()
                    return
                self._bufs[which].extend(chunk)
                self._cond.notify_all()

    @property
    def out(self):
        with self._cond:
            return self._bufs["out"].decode("utf-8", "replace")

    @property
    def err(self):
        with self._cond:
            return self._bufs["err"].decode("utf-8", "replace")

    def wait_for(self, pattern, stream="err", timeout=START_TIMEOUT):
        """The first match of `pattern` (regex, multiline) in a stream, or
        None when the process ends or the timeout passes first."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = rx.search(self._bufs[stream].decode("utf-8", "replace"))
                if m:
                    return m
                left = deadline - time.monotonic()
                if self._eof == 2 or left <= 0:
                    return None
                self._cond.wait(min(left, 0.5))

    def wait(self, timeout):
        """Waits for the exit; stops the process if it overstays. Returns
        the exit status (negative: killed by that signal)."""
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
        self._join()
        return self.p.returncode

    def stop(self):
        """SIGTERM to this PID, SIGKILL if it lingers."""
        if self.p.stdin is not None:
            try:
                self.p.stdin.close()
            except OSError:
                pass
        if self.p.poll() is None:
            self.stopped = True
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.p.wait(STOP_TIMEOUT)
        self._join()
        return self.p.returncode

    def _join(self):
        for t in self._threads:
            t.join(STOP_TIMEOUT)
        if not any(t.is_alive() for t in self._threads):
            for pipe in (self.p.stdout, self.p.stderr):
                pipe.close()

    def describe(self):
        st = self.p.poll()
        status = "running" if st is None else ("stopped by the test, status %s" % st
                                               if self.stopped else "exit %s" % st)
        return "$ %s\n  (%s)\n  stdout: %s\n  stderr: %s" % (
            " ".join(self.argv), status, _indent(self.out), _indent(self.err))


def _indent(text):
    text = text.rstrip("\n")
    if not text:
        return "(empty)"
    return text.replace("\n", "\n          ")


class Workspace:
    """A temporary directory with an empty OpenSSL config (OPENSSL_CONF for
    every OpenSSL-based peer: no system MinProtocol/CipherString, as the
    oracle was recorded) and self-signed certificates made with the openssl
    CLI: ECDSA P-256 (ec_cert/ec_key) and RSA-2048 (rsa_cert/rsa_key)."""

    def __init__(self, prefix="tlsv-e2e-"):
        if shutil.which("openssl") is None:
            print("SKIP: the openssl program is not installed", flush=True)
            sys.exit(SKIP_EXIT)
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.openssl_conf = os.path.join(self.dir, "openssl-empty.cnf")
        with open(self.openssl_conf, "w") as f:
            f.write("# empty on purpose: no system-wide MinProtocol / CipherString\n")
        self.env = dict(os.environ, OPENSSL_CONF=self.openssl_conf)
        self.ec_cert, self.ec_key = self._selfsigned(
            "ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
        self.rsa_cert, self.rsa_key = self._selfsigned("rsa", ["-newkey", "rsa:2048"])

    def _selfsigned(self, name, keyargs):
        cert = os.path.join(self.dir, name + ".pem")
        key = os.path.join(self.dir, name + ".key")
        cmd = ["openssl", "req", "-x509", "-nodes"] + keyargs + [
            "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
        log("+", " ".join(cmd))
        r = subprocess.run(cmd, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60)
        if r.returncode != 0:
            raise RuntimeError("openssl req failed:\n%s" % r.stderr.decode("utf-8", "replace"))
        return cert, key

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def tlsv_program(argv_value):
    """Checks the tlsv program path given on the command line."""
    path = os.path.abspath(argv_value)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        print("ERROR: %s is not an executable (the tlsv program)" % path, flush=True)
        sys.exit(1)
    return path


def first_json_line(text):
    """The first line of text that is a JSON object, parsed; None if none."""
    import json
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


LISTENING = r"^tlsv: listening on 127\.0\.0\.1:(\d+)$"


# ---------------------------------------------------------------------------
# a relay that sees (and may rewrite) the hellos

EXT_SUPPORTED_VERSIONS = 43
SENTINELS = {b"DOWNGRD\x01": "DOWNGRD\\x01", b"DOWNGRD\x00": "DOWNGRD\\x00"}


def _u16(b, i):
    return int.from_bytes(b[i:i + 2], "big")


def strip_extension(record, ext_type):
    """The ClientHello record `record` (one whole record) without the
    extension ext_type; lengths fixed up. Returns (record, removed?)."""
    ct, ver = record[0], _u16(record, 1)
    hs = bytearray(record[5:])
    if ct != 22 or not hs or hs[0] != 1:
        return record, False
    p = 4 + 2 + 32
    p += 1 + hs[p]                    # session id
    p += 2 + _u16(hs, p)              # cipher suites
    p += 1 + hs[p]                    # compression methods
    total = _u16(hs, p)
    q, end = p + 2, p + 2 + total
    removed = False
    while q + 4 <= end:
        t, ln = _u16(hs, q), _u16(hs, q + 2)
        if t == ext_type:
            del hs[q:q + 4 + ln]
            hs[p:p + 2] = (total - 4 - ln).to_bytes(2, "big")
            removed = True
            break
        q += 4 + ln
    hs[1:4] = (len(hs) - 4).to_bytes(3, "big")
    return bytes([ct]) + ver.to_bytes(2, "big") + len(hs).to_bytes(2, "big") + bytes(hs), removed


class HelloRelay(threading.Thread):
    """Forwards one TCP connection from 127.0.0.1:self.port to
    127.0.0.1:upstream. With strip_supported_versions the client's first
    record (its ClientHello) loses the supported_versions extension (an
    on-path downgrade). Records what the server's first handshake record
    says: .server_hello = {"legacy_version": 0x0303, "sentinel": None |
    "DOWNGRD\\x01" | "DOWNGRD\\x00"}; .stripped tells whether the rewrite
    happened. Every wait is bounded by RUN_TIMEOUT."""

    def __init__(self, upstream, strip_supported_versions=False):
        super().__init__(daemon=True)
        self.upstream = upstream
        self.strip = strip_supported_versions
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(RUN_TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.server_hello = None
        self.stripped = False
        self.error = None
        self.start()

    def run(self):
        try:
            self._run()
        except Exception as e:  # reported by finish()
            self.error = "%s: %s" % (type(e).__name__, e)
        finally:
            self.sock.close()

    def _run(self):
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        s = socket.create_connection(("127.0.0.1", self.upstream), timeout=RUN_TIMEOUT)
        c2s, s2c = bytearray(), bytearray()
        hello_sent = not self.strip
        deadline = time.monotonic() + RUN_TIMEOUT
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([c, s], [], [], 0.5)
                for x in ready:
                    d = x.recv(65536)
                    if not d:
                        return
                    if x is c:
                        if hello_sent:
                            s.sendall(d)
                            continue
                        c2s += d
                        if len(c2s) >= 5 and len(c2s) >= 5 + _u16(c2s, 3):
                            n = 5 + _u16(c2s, 3)
                            rec, self.stripped = strip_extension(bytes(c2s[:n]),
                                                                 EXT_SUPPORTED_VERSIONS)
                            s.sendall(rec + bytes(c2s[n:]))
                            hello_sent = True
                    else:
                        c.sendall(d)
                        if self.server_hello is None:
                            s2c += d
                            self._parse_server_hello(s2c)
        finally:
            c.close()
            s.close()

    def _parse_server_hello(self, buf):
        if len(buf) < 5 or len(buf) < 5 + _u16(buf, 3):
            return
        body = bytes(buf[5:5 + _u16(buf, 3)])
        if buf[0] != 22 or len(body) < 38 or body[0] != 2:
            self.server_hello = {"first_record_type": buf[0]}
            return
        rnd = body[6:38]
        self.server_hello = {"legacy_version": _u16(body, 4),
                             "sentinel": SENTINELS.get(rnd[-8:])}

    def finish(self):
        self.join(RUN_TIMEOUT + STOP_TIMEOUT)
        return self.server_hello
