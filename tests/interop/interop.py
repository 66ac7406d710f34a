"""Shared helpers of the interop tests (tests/interop/test_*.py).

Each test script is self-contained: it generates its certificates into a
temporary directory with the `openssl` CLI, starts real peers on 127.0.0.1
(on a port the kernel picks, or a free one found by binding port 0), stops
them by their PID, and bounds every wait with a timeout. Standard library
only.

Environment:
  TLSV       the tlsv program to test (CTest sets it; default: ./tlsv)
  TLSV_INTEROP_VERBOSE=1  print every command run
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

TLSV = os.environ.get("TLSV", os.path.abspath("tlsv"))
VERBOSE = os.environ.get("TLSV_INTEROP_VERBOSE") == "1"

# Seconds. Every wait in the tests is bounded by one of these.
CMD_TIMEOUT = 20      # a whole client run
START_TIMEOUT = 10    # a server until it listens
LINE_TIMEOUT = 10     # one expected piece of output
STOP_TIMEOUT = 5      # a process after SIGTERM

SKIP_EXIT = 77        # CTest's SKIP_RETURN_CODE for these tests

SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
GROUPS = ["x25519", "P-256", "P-384"]
CERT_KINDS = ["ecdsa", "rsa", "ed25519"]

SANITIZER_REPORT = re.compile(
    r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer")


def log(*args):
    if VERBOSE:
        print(*args, file=sys.stderr, flush=True)


def need_programs(*names):
    """Exits with SKIP_EXIT and a clear message if a program is missing."""
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        print("SKIP: %s not installed (needed by %s)"
              % (", ".join(missing), os.path.basename(sys.argv[0])), flush=True)
        sys.exit(SKIP_EXIT)
    if not (os.path.isfile(TLSV) and os.access(TLSV, os.X_OK)):
        print("ERROR: TLSV=%s is not an executable" % TLSV, flush=True)
        sys.exit(1)


def main():
    """unittest.main(), verbose, exiting 0 / 1."""
    unittest.main(verbosity=2)


# ---------------------------------------------------------------------------
# certificates

def _openssl(*args, cwd):
    cmd = ["openssl"] + list(args)
    log("+", " ".join(cmd))
    r = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed:\n%s" % (" ".join(args), r.stderr.decode()))


class Certs:
    """A test PKI in a temporary directory:
      ca            ECDSA P-256 CA (trusted by the tests)
      other_ca      another CA (the "wrong CA")
      ecdsa, rsa, ed25519   server certificates for DNS:localhost, IP:127.0.0.1
                    (ECDSA P-256, RSA-2048, Ed25519), signed by ca; keyUsage
                    digitalSignature (RSA: and keyEncipherment)
      client        ECDSA client certificate signed by ca
      other_client  ECDSA client certificate signed by other_ca
    Attributes: <name>_cert, <name>_key (paths); cafile, other_cafile."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tlsv-interop-")
        d = self.dir
        self._ca("ca")
        self._ca("other_ca")
        san = "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        server_ext = san + "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature" \
            "\nextendedKeyUsage=serverAuth\n"
        # an RSA server key may also receive the premaster secret (TLS 1.0-1.2
        # RSA key exchange), which needs keyEncipherment (RFC 5280 §4.2.1.3;
        # tlsv's and GnuTLS's clients check it)
        rsa_server_ext = server_ext.replace("digitalSignature", "digitalSignature,keyEncipherment")
        client_ext = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n" \
            "extendedKeyUsage=clientAuth\n"
        self._leaf("ecdsa", "ca", "localhost", server_ext,
                   ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
        self._leaf("rsa", "ca", "localhost", rsa_server_ext, ["-newkey", "rsa:2048"])
        self._leaf("ed25519", "ca", "localhost", server_ext, ["-newkey", "ed25519"])
        self._leaf("client", "ca", "tlsv-test-client", client_ext,
                   ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
        self._leaf("other_client", "other_ca", "tlsv-other-client", client_ext,
                   ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
        self.cafile = self.ca_cert
        self.other_cafile = self.other_ca_cert
        log("certificates in", d)

    def _ca(self, name):
        key, cert = name + ".key", name + ".pem"
        _openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                 "-subj", "/CN=tlsv interop %s" % name,
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir)
        setattr(self, name + "_cert", os.path.join(self.dir, cert))
        setattr(self, name + "_key", os.path.join(self.dir, key))

    def _leaf(self, name, ca, cn, ext, keyargs):
        ext_file = os.path.join(self.dir, name + ".ext")
        with open(ext_file, "w") as f:
            f.write(ext)
        _openssl("req", "-new", "-nodes", *keyargs, "-keyout", name + ".key",
                 "-out", name + ".csr", "-subj", "/CN=" + cn, cwd=self.dir)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
                 "-set_serial", str(int(time.time() * 1000) % 100000000 + len(name)),
                 "-out", name + ".pem", "-days", "2", "-extfile", ext_file, cwd=self.dir)
        setattr(self, name + "_cert", os.path.join(self.dir, name + ".pem"))
        setattr(self, name + "_key", os.path.join(self.dir, name + ".key"))

    def server(self, kind):
        """(cert, key) of a server certificate kind: ecdsa, rsa, ed25519."""
        return getattr(self, kind + "_cert"), getattr(self, kind + "_key")

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------
# processes

def free_port():
    """A port that was free on 127.0.0.1 a moment ago (for peers that cannot
    report the port they bound; callers retry if it is taken meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=START_TIMEOUT, proc=None):
    """Waits until something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Proc:
    """A child process with stdin as a pipe and stdout/stderr collected by
    threads (no pipe can fill up), stopped by its PID."""

    def __init__(self, argv, name=None, env=None):
        self.argv = [str(a) for a in argv]
        self.name = name or os.path.basename(self.argv[0])
        log("+", " ".join(self.argv))
        self.p = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env, start_new_session=True)
        self.pid = self.p.pid
        self._out = bytearray()
        self._err = bytearray()
        self._cond = threading.Condition()
        self._eof = 0
        self._threads = [threading.Thread(target=self._pump, args=(self.p.stdout, self._out),
                                          daemon=True),
                         threading.Thread(target=self._pump, args=(self.p.stderr, self._err),
                                          daemon=True)]
        for t in self._threads:
            t.start()

    def _pump(self, pipe, buf):
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
                buf.extend(chunk)
                self._cond.notify_all()

    @property
    def out(self):
        with self._cond:
            return self._out.decode("utf-8", "replace")

    @property
    def err(self):
        with self._cond:
            return self._err.decode("utf-8", "replace")

    @property
    def out_bytes(self):
        with self._cond:
            return bytes(self._out)

    def wait_for_stdout_bytes(self, n, timeout=LINE_TIMEOUT):
        """Waits until at least n bytes arrived on stdout; returns how many."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._out) >= n or self._eof == 2, timeout)
            if len(self._out) < n:
                raise AssertionError("%s: %d of %d bytes on stdout within %s s\n%s"
                                     % (self.name, len(self._out), n, timeout,
                                        self._locked_output()))
            return len(self._out)

    def output(self):
        return "--- %s stdout ---\n%s\n--- %s stderr ---\n%s" % (
            self.name, self.out, self.name, self.err)

    def wait_for(self, pattern, stream="any", timeout=LINE_TIMEOUT, count=1):
        """Waits until `pattern` (a regex) matched `count` times in the
        stream ('out', 'err' or 'any'); returns the last match. Fails the
        test with the outputs on timeout or if the process ends first."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                texts = []
                if stream in ("out", "any"):
                    texts.append(self._out.decode("utf-8", "replace"))
                if stream in ("err", "any"):
                    texts.append(self._err.decode("utf-8", "replace"))
                matches = [m for t in texts for m in rx.finditer(t)]
                if len(matches) >= count:
                    return matches[count - 1]
                if self._eof == 2:
                    raise AssertionError("%s ended (status %s) before /%s/ appeared\n%s"
                                         % (self.name, self.p.poll(), pattern,
                                            self._locked_output()))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("%s: no /%s/ within %s s\n%s"
                                         % (self.name, pattern, timeout, self._locked_output()))
                self._cond.wait(min(left, 0.5))

    def _locked_output(self):
        return "--- %s stdout ---\n%s\n--- %s stderr ---\n%s" % (
            self.name, self._out.decode("utf-8", "replace"), self.name,
            self._err.decode("utf-8", "replace"))

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def close_stdin(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass

    def poll(self):
        return self.p.poll()

    def wait(self, timeout=CMD_TIMEOUT):
        """Waits for the exit (killing the process if it overstays); returns
        the status. Fails the test on a hang."""
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("%s did not exit within %s s\n%s"
                                 % (self.name, timeout, self.output()))
        self._join()
        return rc

    def _join(self):
        for t in self._threads:
            t.join(STOP_TIMEOUT)
        for pipe in (self.p.stdout, self.p.stderr):
            if not any(t.is_alive() for t in self._threads):
                pipe.close()

    def kill(self):
        if self.p.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.p.wait(STOP_TIMEOUT)
        self.close_stdin()
        self._join()

    def stop(self):
        """SIGTERM to this PID (SIGKILL if it lingers). Returns the status."""
        self.close_stdin()
        if self.p.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        self._join()
        return self.p.returncode


def assert_no_sanitizer_report(testcase, proc_or_text, what="tlsv"):
    text = proc_or_text if isinstance(proc_or_text, str) else proc_or_text.err
    m = SANITIZER_REPORT.search(text)
    if m:
        testcase.fail("%s: sanitizer report:\n%s" % (what, text))


# ---------------------------------------------------------------------------
# tlsv

SUMMARY_CLIENT = re.compile(
    r"^tlsv: connected to (?P<target>\S+): (?P<version>\S+) (?P<cipher>\S+) (?P<group>\S+)"
    r"(?P<resumed> resumed)?(?: alpn=(?P<alpn>\S+))?$", re.M)
SUMMARY_SERVER = re.compile(
    r"^tlsv: (?P<peer>127\.0\.0\.1:\d+): (?P<version>TLSv\S+|SSLv3) (?P<cipher>\S+) "
    r"(?P<group>\S+)(?P<resumed> resumed)?(?: alpn=(?P<alpn>\S+))?(?: sni=(?P<sni>\S+))?"
    r"(?: client-cert=(?P<client_certs>\d+))?$", re.M)
HANDSHAKE_FAILED = re.compile(r"^tlsv: (?:(?P<peer>127\.0\.0\.1:\d+): )?handshake failed: "
                              r"(?P<reason>[A-Z0-9_]+)(?: \(alert (?P<alert>\w+), "
                              r"(?P<dir>sent|received)\))?: (?P<message>.*)$", re.M)


class ClientResult:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err
        m = SUMMARY_CLIENT.search(err)
        self.summary = m.groupdict() if m else None
        m = HANDSHAKE_FAILED.search(err)
        self.failure = m.groupdict() if m else None
        self.json = None
        first = out.split("\n", 1)[0]
        if first.startswith("{"):
            try:
                self.json = json.loads(first)
            except ValueError:
                pass

    def describe(self):
        return "$ %s\nexit %s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            " ".join(self.argv), self.rc, self.out, self.err)


def run_tlsv_client(testcase, target, *args, input=b"", timeout=CMD_TIMEOUT):
    """Runs `tlsv client TARGET args...` to its end with stdin = input."""
    argv = [TLSV, "client", target] + [str(a) for a in args]
    log("+", " ".join(argv))
    try:
        r = subprocess.run(argv, input=input, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        testcase.fail("tlsv client hung (> %s s): %s\n--- stderr ---\n%s"
                      % (timeout, " ".join(argv), (e.stderr or b"").decode("utf-8", "replace")))
    res = ClientResult(argv, r.returncode, r.stdout.decode("utf-8", "replace"),
                       r.stderr.decode("utf-8", "replace"))
    assert_no_sanitizer_report(testcase, res.err, "tlsv client")
    return res


def start_tlsv_client(*args):
    """An interactive `tlsv client` (stdin stays open until close_stdin())."""
    return Proc([TLSV, "client"] + [str(a) for a in args], name="tlsv client")


class TlsvServer(Proc):
    """`tlsv server ...` on a port it picks; .port is read from its
    "tlsv: listening on 127.0.0.1:PORT" line."""

    def __init__(self, *args):
        super().__init__([TLSV, "server", "--port", "0"] + [str(a) for a in args],
                         name="tlsv server")
        m = self.wait_for(r"^tlsv: listening on 127\.0\.0\.1:(\d+)$", "err", START_TIMEOUT)
        self.port = int(m.group(1))
        self.addr = "127.0.0.1:%d" % self.port

    def summary(self, count=1, timeout=LINE_TIMEOUT):
        """The count-th per-connection success line, as a dict."""
        m = self.wait_for(SUMMARY_SERVER.pattern, "err", timeout, count)
        return m.groupdict()

    def failure(self, count=1, timeout=LINE_TIMEOUT):
        m = self.wait_for(HANDSHAKE_FAILED.pattern, "err", timeout, count)
        return m.groupdict()

    def json_objects(self):
        return [json.loads(l) for l in self.out.splitlines() if l.startswith("{")]


def tlsv_server(testcase, *args):
    """Starts a tlsv server, registered for stopping (and a sanitizer check)
    at the end of the test."""
    s = TlsvServer(*args)

    def finish():
        s.stop()
        assert_no_sanitizer_report(testcase, s, "tlsv server")
    testcase.addCleanup(finish)
    return s


def finish_once_server(testcase, server, expect_rc):
    """Waits for a `--once` server's exit and checks its status."""
    rc = server.wait(CMD_TIMEOUT)
    assert_no_sanitizer_report(testcase, server, "tlsv server")
    testcase.assertEqual(rc, expect_rc, "tlsv server --once exit status\n" + server.output())


# ---------------------------------------------------------------------------
# OpenSSL

class SServer(Proc):
    """`openssl s_server` on 127.0.0.1, port picked by the kernel."""

    def __init__(self, certs, *args, kind="ecdsa"):
        cert, key = certs.server(kind)
        super().__init__(["openssl", "s_server", "-accept", "127.0.0.1:0",
                          "-cert", cert, "-key", key] + [str(a) for a in args],
                         name="openssl s_server")
        m = self.wait_for(r"^ACCEPT 127\.0\.0\.1:(\d+)$", "any", START_TIMEOUT)
        self.port = int(m.group(1))


def s_server(testcase, certs, *args, kind="ecdsa"):
    s = SServer(certs, *args, kind=kind)
    testcase.addCleanup(s.stop)
    return s


S_CLIENT_BRIEF = {
    "version": re.compile(r"^Protocol version: (\S+)$", re.M),
    "cipher": re.compile(r"^Ciphersuite: (\S+)$", re.M),
    "temp_key": re.compile(r"^Server Temp Key: (.+)$", re.M),
    "verification": re.compile(r"^Verification: (.+)$", re.M),
    "peername": re.compile(r"^Verified peername: (\S+)$", re.M),
}

# how s_client names the groups in "Server Temp Key"
S_CLIENT_GROUP = {"x25519": "X25519", "P-256": "prime256v1", "P-384": "secp384r1"}
OPENSSL_GROUP = {"x25519": "X25519", "P-256": "P-256", "P-384": "P-384"}


def parse_s_client(text):
    d = {}
    for k, rx in S_CLIENT_BRIEF.items():
        m = rx.search(text)
        d[k] = m.group(1) if m else None
    m = re.search(r"^ALPN protocol: (\S+)$", text, re.M)
    d["alpn"] = m.group(1) if m else None
    if d["version"] is None:  # the full (not -brief) output
        m = re.search(r"^New, (\S+), Cipher is (\S+)$", text, re.M)
        if m:
            d["version"], d["cipher"] = m.group(1), m.group(2)
        m = re.search(r"^Verify return code: \d+ \((.*)\)$", text, re.M)
        if m:
            d["verification"] = "OK" if m.group(1) == "ok" else m.group(1)
    d["client_hellos"] = len(re.findall(r"^>>> .*ClientHello$", text, re.M))
    return d


def s_client(port, *args, brief=True):
    """An interactive `openssl s_client [-brief]` to 127.0.0.1:port (-brief
    prints no ALPN line; the full output does)."""
    return Proc(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port]
                + (["-brief"] if brief else []) + [str(a) for a in args],
                name="openssl s_client")


# ---------------------------------------------------------------------------
# a TCP relay that logs TLS record headers

class Relay(threading.Thread):
    """Forwards one TCP connection from 127.0.0.1:self.port to
    127.0.0.1:upstream and records each TLS record's header as
    (direction, content_type, version, length, first_two_body_bytes) with
    direction "c2s" or "s2c"."""

    def __init__(self, upstream):
        super().__init__(daemon=True)
        self.upstream = upstream
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(CMD_TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.records = []
        self.start()

    def run(self):
        import select
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        s = socket.create_connection(("127.0.0.1", self.upstream), timeout=CMD_TIMEOUT)
        bufs = {c: b"", s: b""}
        name = {c: "c2s", s: "s2c"}
        deadline = time.monotonic() + CMD_TIMEOUT
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([c, s], [], [], 1)
                for x in ready:
                    d = x.recv(65536)
                    if not d:
                        return
                    (s if x is c else c).sendall(d)
                    bufs[x] += d
                    while len(bufs[x]) >= 5:
                        b = bufs[x]
                        n = int.from_bytes(b[3:5], "big")
                        if len(b) < 5 + n:
                            break
                        self.records.append((name[x], b[0], b[1] << 8 | b[2], n, b[5:7]))
                        bufs[x] = b[5 + n:]
        except OSError:
            return
        finally:
            c.close()
            s.close()
            self.sock.close()

    def finish(self):
        self.join(CMD_TIMEOUT)
        return self.records
