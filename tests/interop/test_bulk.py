#!/usr/bin/env python3
"""Bulk transfers: 64 MiB each way, byte-exact, through every pairing, for
TLS 1.3, 1.2, 1.1 and 1.0 (every peer here speaks all four).

  tlsv client -> openssl s_server   (-quiet -naccept 1: its stdin goes to the
                                     client, the client's data to its stdout)
  tlsv client -> gnutls-serv --echo (a line echo: text data, see below)
  tlsv client -> Python ssl server  (a child python3, see py_peer)
  tlsv client -> tlsv server        (default mode: stdin <-> connection)
  openssl s_client -> tlsv server
  gnutls-cli -> tlsv server         (64 MiB up, 256 KiB down, see below)
  Python ssl client -> tlsv server
  curl -> tlsv server               (an HTTP PUT of 64 MiB answered with
                                     64 MiB; --www cannot carry either, see
                                     curl_to_tlsv_server)

The data: files of SHAKE-128 output in counter mode (deterministic,
incompressible, different each way; the echo returns the client's own) in a
temporary directory, streamed into the processes' stdin and hashed and
compared on the fly from their stdout -- no copy is held in memory. Each
direction must arrive complete (the length), identical (the SHA-256; the
offset of the first differing byte is reported), with nothing after it;
tlsv's summary line must name the version (and the peer's, where it says:
Python, gnutls-cli, curl); every process exits 0 (or, gnutls-serv, is
stopped by its PID) within a bounded time; tlsv leaves no sanitizer report.
Each case prints its time and MiB/s per direction -- informational, never
asserted.

How a case ends: a client that closes at the end of its stdin (tlsv client,
s_client, gnutls-cli) would cut off data still coming the other way, and a
tlsv server ends a connection at the client's close_notify, so every stdin
is held open until all the data has arrived both ways; then the client's
stdin is closed (it sends close_notify) and the client must exit, then the
server.

Below TLS 1.2 the OpenSSL-based peers (s_server, s_client, curl, Python's
ssl) get OPENSSL_CONF pointing at an empty file (a distribution's
/etc/ssl/openssl.cnf may set MinProtocol = TLSv1.2) and the cipher string
DEFAULT:@SECLEVEL=0 (TLS 1.0/1.1 handshakes sign with SHA-1). That is why
the Python side runs in a child python3 (this file with --py-peer):
OPENSSL_CONF must be in the environment before libssl initialises, and a
child process is stopped by its PID like every other peer.

Peer limits worked around (not tlsv's):
  - gnutls-serv --echo collects input until it holds a LF and sends it
    back as a C string (up to a NUL; a final CR LF becomes LF; a line
    starting with "**" is a command); its default mode is HTTP. So this
    pairing carries base64 text lines, 64 MiB + a few bytes each way. It
    drops a connection 30 s after accepting it (GnuTLS 3.7).
  - gnutls-cli writes what it receives one byte per write(2) (~0.5 MiB/s),
    so it gets GNUTLS_CLI_DOWNLOAD; it uploads the full size.

Size: SIZE = 64 MiB each way (about 40 s for the 32 cases on an idle
2-core machine); 16 MiB when the tlsv program is an AddressSanitizer build
(TLSV_SANITIZE=ON: it contains __asan_init), several times slower.
"""

import base64
import hashlib
import os
import re
import select
import signal
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop as I  # noqa: E402

MIB = 1 << 20
CHUNK = 256 * 1024

TRANSFER_TIMEOUT = 60   # s: a whole case's transfer (both directions)
STALL_TIMEOUT = 20      # s: no byte arriving in either direction
EXIT_TIMEOUT = 20       # s: a process after its stdin is closed / its peer closed

# gnutls-cli writes what it receives to stdout one byte per write(2)
# (setbuf(stdout, NULL) and fputc: ~0.5 MiB/s), so 64 MiB towards gnutls-cli
# would take minutes; it downloads this much and uploads the full size.
# (GnuTLS gets 64 MiB each way through gnutls-serv --echo.) It also reads
# the network before its stdin, so its upload waits for this download.
GNUTLS_CLI_DOWNLOAD = 256 * 1024

# (name in results, tlsv's summary word, tlsv --max-version, OpenSSL flag,
#  GnuTLS priority, Python ssl.TLSVersion name)
VERSIONS = [
    ("TLSv1.3", "TLSv1.3", "TLSv1_3", "-tls1_3", "NORMAL:-VERS-ALL:+VERS-TLS1.3", "TLSv1_3"),
    ("TLSv1.2", "TLSv1.2", "TLSv1_2", "-tls1_2", "NORMAL:-VERS-ALL:+VERS-TLS1.2", "TLSv1_2"),
    ("TLSv1.1", "TLSv1.1", "TLSv1_1", "-tls1_1", "NORMAL:-VERS-ALL:+VERS-TLS1.1", "TLSv1_1"),
    ("TLSv1.0", "TLSv1", "TLSv1", "-tls1", "NORMAL:-VERS-ALL:+VERS-TLS1.0", "TLSv1"),
]
LEGACY = ("TLSv1.1", "TLSv1.0")   # versions needing the OpenSSL settings above
GNUTLS_VERSION = {"TLSv1.3": "TLS1.3", "TLSv1.2": "TLS1.2", "TLSv1.1": "TLS1.1",
                  "TLSv1.0": "TLS1.0"}
CURL_VERSION = {"TLSv1.3": "1.3", "TLSv1.2": "1.2", "TLSv1.1": "1.1", "TLSv1.0": "1.0"}


def sanitized_build():
    """The tlsv program was built with -fsanitize=address (TLSV_SANITIZE=ON)."""
    try:
        with open(I.TLSV, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def bulk_size():
    return (16 if sanitized_build() else 64) * MIB


SIZE = None      # bytes each way
CERTS = None
DATA = None      # the test data and its hashes
RESULTS = []     # (case, version, outcome, text) for the summary
T_START = None


# ---------------------------------------------------------------------------
# test data

class Data:
    """The test data, in a temporary directory, made on first use:
    file("c2s", n) and file("s2c", n) are n bytes of binary data, different
    from each other; file("text", n) is for gnutls-serv's line echo: base64
    text in lines of 76 characters + LF (no NUL, no CR, no line starting with
    "**", which its echo server would take for a command), n bytes rounded
    up to whole lines. SHAKE-128 in counter mode, so deterministic and
    incompressible (the text: 6 bits per byte). Also an empty OpenSSL
    configuration file."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tlsv-bulk-")
        self.sha = {}    # path -> SHA-256 (hex)
        self.files = {}  # (kind, n) -> path
        self.empty_conf = os.path.join(self.dir, "empty-openssl.cnf")
        open(self.empty_conf, "w").close()
        c2s, s2c = self.file("c2s", SIZE), self.file("s2c", SIZE)
        with open(c2s, "rb") as f:
            head = f.read(MIB)
        if len(zlib.compress(head, 9)) < len(head):
            raise RuntimeError("the test data is compressible")
        if self.sha[c2s] == self.sha[s2c]:
            raise RuntimeError("both directions carry the same data")

    def file(self, kind, n):
        if (kind, n) not in self.files:
            path = os.path.join(self.dir, "%s-%d.%s" % (kind, n, "txt" if kind == "text"
                                                         else "bin"))
            h = hashlib.sha256()
            with open(path, "wb") as f:
                for block in (self._text if kind == "text" else self._binary)(
                        b"tlsv bulk %s %d" % (kind.encode(), n), n):
                    f.write(block)
                    h.update(block)
            self.sha[path] = h.hexdigest()
            self.files[(kind, n)] = path
        return self.files[(kind, n)]

    @staticmethod
    def _binary(label, n):
        for off in range(0, n, MIB):
            yield hashlib.shake_128(label + b":%d" % off).digest(min(MIB, n - off))

    @staticmethod
    def _text(label, n):
        # base64.encodebytes: lines of 76 characters + LF
        lines = -(-n // 77)
        for first in range(0, lines, 16384):
            count = min(16384, lines - first)
            yield base64.encodebytes(hashlib.shake_128(label + b":%d" % first)
                                     .digest(count * 57))

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def setUpModule():
    global CERTS, DATA, SIZE, T_START
    T_START = time.monotonic()
    I.need_programs("openssl")
    SIZE = bulk_size()
    CERTS = I.Certs()
    t = time.monotonic()
    DATA = Data()
    print("bulk: %d MiB each way%s; test data made in %.2f s"
          % (SIZE // MIB, " (sanitizer build)" if sanitized_build() else "",
             time.monotonic() - t), flush=True)


def tearDownModule():
    if CERTS:
        CERTS.cleanup()
    if DATA:
        DATA.cleanup()
    print("\nbulk summary (MiB/s: size over the time from the client's start -- curl's"
          " download: from the end of its upload -- to the last byte; informational):")
    for case, version, outcome, text in RESULTS:
        print("  %-34s %-8s %-4s %s" % (case, version, outcome, text))
    print("bulk total: %.1f s" % (time.monotonic() - T_START), flush=True)


# ---------------------------------------------------------------------------
# processes whose stdin / stdout carry the bulk data

class Feeder(threading.Thread):
    """Writes `prefix` + the file at `path` into a process's stdin, then
    keeps stdin open until release(). With gated=True it starts writing only
    after open_gate()."""

    def __init__(self, pipe, path, prefix=b"", gated=False):
        super().__init__(daemon=True)
        self.pipe, self.path, self.prefix = pipe, path, prefix
        self.gate = threading.Event()
        self.opened_at = None
        if not gated:
            self.gate.set()
        self.released = threading.Event()
        self.sent = 0
        self.finished = False
        self.error = None
        self.start()

    def open_gate(self):
        if not self.gate.is_set():
            self.opened_at = time.monotonic()
        self.gate.set()

    def release(self):
        self.gate.set()
        self.released.set()

    def _write(self, b):
        view = memoryview(b)
        while view:
            n = self.pipe.write(view)
            view = view[n:]
            self.sent += n

    def run(self):
        try:
            self.gate.wait(TRANSFER_TIMEOUT + 30)
            if not self.released.is_set():
                self._write(self.prefix)
                with open(self.path, "rb") as f:
                    while not self.released.is_set():
                        b = f.read(CHUNK)
                        if not b:
                            self.finished = True
                            break
                        self._write(b)
            self.released.wait(TRANSFER_TIMEOUT + 30)
        except OSError as e:  # the process went away
            self.error = "%s: %s" % (type(e).__name__, e)
        finally:
            try:
                self.pipe.close()
            except OSError:
                pass


class Sink(threading.Thread):
    """Reads a process's stdout to its end: counts, hashes and compares it
    with the expected file as it goes (the offset of the first difference
    is kept). With http=True an HTTP header (up to CRLF CRLF) comes first;
    it is kept in .header and not counted."""

    def __init__(self, pipe, path, http=False):
        super().__init__(daemon=True)
        self.pipe, self.path, self.http = pipe, path, http
        self.expected = open(path, "rb")
        self.size = os.path.getsize(path)
        self.sha = hashlib.sha256()
        self.count = 0
        self.first_diff = None
        self.header = None if http else b""
        self.done_at = None        # monotonic time the last expected byte arrived
        self.last_progress = time.monotonic()
        self.eof = False
        self.start()

    def _data(self, chunk):
        if self.first_diff is None:
            exp = self.expected.read(len(chunk))
            if exp != chunk:
                i = 0
                while i < len(exp) and exp[i] == chunk[i]:
                    i += 1
                self.first_diff = self.count + i
        self.sha.update(chunk)
        self.count += len(chunk)
        if self.done_at is None and self.count >= self.size:
            self.done_at = time.monotonic()

    def run(self):
        fd = self.pipe.fileno()
        pending = b""
        try:
            while True:
                try:
                    chunk = os.read(fd, CHUNK)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                self.last_progress = time.monotonic()
                if self.header is None:
                    pending += chunk
                    end = pending.find(b"\r\n\r\n")
                    if end < 0:
                        if len(pending) > 65536:
                            self.header, chunk = pending, b""
                        else:
                            continue
                    else:
                        self.header, chunk = pending[:end + 4], pending[end + 4:]
                    if not chunk:
                        continue
                self._data(chunk)
        finally:
            self.expected.close()
            self.eof = True

    @property
    def complete(self):
        return self.count >= self.size

    def verdict(self):
        """None if exact, else what is wrong."""
        if self.count != self.size:
            return "%d of %d bytes arrived%s" % (
                self.count, self.size,
                "" if self.first_diff is None else "; first difference at byte %d"
                % self.first_diff)
        if self.first_diff is not None:
            return "corrupted: first difference at byte %d" % self.first_diff
        if self.sha.hexdigest() != DATA.sha[self.path]:
            return "SHA-256 differs"
        return None


class Pump(threading.Thread):
    """Drains a pipe, keeping the first and the last 256 KiB (gnutls-serv
    prints all the echoed data to stderr)."""

    KEEP = 256 * 1024

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.head = bytearray()
        self.tail = bytearray()
        self.skipped = 0
        self.cond = threading.Condition()
        self.eof = False
        self.start()

    def run(self):
        fd = self.pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            with self.cond:
                if not chunk:
                    self.eof = True
                    self.cond.notify_all()
                    return
                room = self.KEEP - len(self.head)
                if room > 0:
                    self.head += chunk[:room]
                    chunk = chunk[room:]
                self.tail += chunk
                if len(self.tail) > self.KEEP:
                    cut = len(self.tail) - self.KEEP
                    self.skipped += cut
                    del self.tail[:cut]
                self.cond.notify_all()

    def text(self):
        with self.cond:
            mid = "\n[... %d bytes ...]\n" % self.skipped if self.skipped else ""
            return (bytes(self.head).decode("utf-8", "replace") + mid
                    + bytes(self.tail).decode("utf-8", "replace"))

    def short(self, limit=4000):
        t = self.text()
        return t if len(t) <= limit else t[:limit // 2] + "\n[...]\n" + t[-limit // 2:]

    def wait_for(self, pattern, timeout, proc):
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(bytes(self.head).decode("utf-8", "replace"))
                if m:
                    return m
                if self.eof or proc.poll() is not None:
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.2))


class BulkProc:
    """A peer process: stdin fed from a file (or /dev/null), stdout into a
    Sink (or a Pump), stderr into a Pump; stopped by its PID."""

    def __init__(self, argv, name, feed=None, expect=None, env=None, prefix=b"",
                 gated=False, http=False):
        self.argv = [str(a) for a in argv]
        self.name = name
        I.log("+", " ".join(self.argv))
        self.started = time.monotonic()
        self.p = subprocess.Popen(self.argv, stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                  bufsize=0, start_new_session=True)
        self.pid = self.p.pid
        self.feeder = Feeder(self.p.stdin, feed, prefix, gated) if feed else None
        self.sink = Sink(self.p.stdout, expect, http) if expect else None
        self.out = None if expect else Pump(self.p.stdout)
        self.err = Pump(self.p.stderr)
        self.rc = None

    def poll(self):
        self.rc = self.p.poll()
        return self.rc

    def release(self):
        if self.feeder:
            self.feeder.release()

    def wait(self, timeout):
        """The exit status, or None if it did not exit in time (then it is killed)."""
        try:
            self.rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        self._join()
        return self.rc

    def _join(self):
        for t in (self.sink, self.out, self.err, self.feeder):
            if t is not None:
                t.join(I.STOP_TIMEOUT)
        for t, pipe in ((self.sink or self.out, self.p.stdout), (self.err, self.p.stderr)):
            if not t.is_alive():
                pipe.close()

    def kill(self):
        if self.p.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(I.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        self.release()
        self._join()

    def stop(self):
        """SIGTERM to this PID, SIGKILL if it lingers."""
        self.release()
        if self.p.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(I.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        self._join()
        self.rc = self.p.returncode
        return self.rc

    def describe(self):
        s = "--- %s (pid %d, exit %s): %s\n" % (self.name, self.pid, self.p.poll(),
                                                 " ".join(self.argv))
        if self.feeder:
            s += "stdin: %d bytes written%s%s\n" % (
                self.feeder.sent, ", all" if self.feeder.finished else "",
                ", error " + self.feeder.error if self.feeder.error else "")
        if self.sink:
            s += "stdout: %d bytes%s\n" % (self.sink.count,
                                           "" if self.sink.first_diff is None else
                                           ", first difference at byte %d"
                                           % self.sink.first_diff)
        else:
            s += "stdout:\n%s\n" % self.out.short()
        s += "stderr:\n%s\n" % self.err.short()
        return s


def listening(port, pid):
    """Whether process `pid` has a socket listening on 127.0.0.1:port -- read
    from Linux's /proc, without connecting to it (s_server -naccept 1 would
    take a probe for its one connection)."""
    want = "0100007F:%04X" % port
    inodes = set()
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[1] == want and fields[3] == "0A":
                    inodes.add("socket:[%s]" % fields[9])
        if inodes:
            fds = "/proc/%d/fd" % pid
            for fd in os.listdir(fds):
                try:
                    if os.readlink(os.path.join(fds, fd)) in inodes:
                        return True
                except OSError:
                    pass
    except OSError:
        pass
    return False


# ---------------------------------------------------------------------------
# the Python ssl peer (run as a child: python3 test_bulk.py --py-peer ...)

def py_peer(argv):
    """server|client, like tlsv server / tlsv client in their default mode:
    stdin -> connection, connection -> stdout. The client, at the end of its
    stdin, sends close_notify and waits for the server's; the server answers
    the client's close_notify and exits. One thread, non-blocking socket
    (an SSLSocket must not be used by two threads at once)."""
    import argparse
    import socket
    import ssl
    import warnings

    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("--version", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--cafile")
    ap.add_argument("--legacy", action="store_true")
    a = ap.parse_args(argv)
    T = 30

    def say(msg):
        sys.stderr.write("tlsv-bulk-peer: %s\n" % msg)
        sys.stderr.flush()

    version = getattr(ssl.TLSVersion, a.version)
    if a.role == "server":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(a.cafile)
    if a.legacy:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = version
        ctx.maximum_version = version

    if a.role == "server":
        ls = socket.create_server(("127.0.0.1", 0))
        ls.settimeout(T)
        say("listening on 127.0.0.1:%d" % ls.getsockname()[1])
        raw, _ = ls.accept()
        ls.close()
        raw.settimeout(T)
        s = ctx.wrap_socket(raw, server_side=True, suppress_ragged_eofs=False)
    else:
        raw = socket.create_connection(("127.0.0.1", a.port), timeout=T)
        s = ctx.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)
    say("connected: %s %s" % (s.version(), s.cipher()[0]))

    s.setblocking(False)
    pending = b""
    stdin_open = True
    while True:
        peer_closed = False
        while True:  # connection -> stdout: everything OpenSSL has
            try:
                d = s.recv(CHUNK)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                break
            if not d:
                peer_closed = True
                break
            view = memoryview(d)
            while view:
                view = view[os.write(1, view):]
        if peer_closed:
            break
        if pending:
            try:
                pending = pending[s.send(pending):]
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                pass
        if a.role == "client" and not stdin_open and not pending:
            break
        rlist = [s] + ([0] if stdin_open and not pending else [])
        r, w, _ = select.select(rlist, [s] if pending else [], [], 60)
        if not r and not w:
            say("nothing happened for 60 s")
            return 1
        if 0 in r:
            d = os.read(0, CHUNK)
            if d:
                pending = d
            else:
                stdin_open = False
    s.setblocking(True)
    s.settimeout(T)
    s.unwrap()  # client: close_notify, then the server's; server: the answer
    s.close()
    say("closed")
    return 0


# ---------------------------------------------------------------------------
# the cases

def ecdsa():
    return ["--cert", CERTS.ecdsa_cert, "--key", CERTS.ecdsa_key]


def tlsv_client_args(vname, vmax):
    if vname == "TLSv1.3":
        return []
    return ["--min-version", "TLSv1", "--max-version", vmax]


def tlsv_server_args(vname):
    return [] if vname == "TLSv1.3" else ["--min-version", "TLSv1"]


def openssl_env(vname):
    if vname in LEGACY:
        return dict(os.environ, OPENSSL_CONF=DATA.empty_conf)
    return None


def openssl_cipher_args(vname):
    return ["-cipher", "DEFAULT:@SECLEVEL=0"] if vname in LEGACY else []


class Bulk(unittest.TestCase):
    """One test per pairing and version (generated below)."""

    case = None

    # ---- starting the servers -------------------------------------------------

    def started(self, proc):
        self.addCleanup(proc.stop)
        return proc

    def tlsv_server(self, vname, feed, expect, http=False, gated=False, prefix=b""):
        p = self.started(BulkProc([I.TLSV, "server", "--port", "0", "--once"] + ecdsa()
                                  + tlsv_server_args(vname),
                                  "tlsv server", feed=feed, expect=expect, http=http,
                                  gated=gated, prefix=prefix))
        m = p.err.wait_for(r"^tlsv: listening on 127\.0\.0\.1:(\d+)$", I.START_TIMEOUT, p.p)
        if not m:
            self.fail("tlsv server did not start\n" + p.describe())
        return p, int(m.group(1))

    def s_server(self, vname, flag, size):
        for attempt in range(5):
            port = I.free_port()
            p = self.started(BulkProc(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port,
                                       "-cert", CERTS.ecdsa_cert, "-key", CERTS.ecdsa_key,
                                       "-quiet", "-naccept", "1", flag]
                                      + openssl_cipher_args(vname),
                                      "openssl s_server", feed=DATA.file("s2c", size),
                                      expect=DATA.file("c2s", size),
                                      env=openssl_env(vname)))
            deadline = time.monotonic() + I.START_TIMEOUT
            while time.monotonic() < deadline and p.poll() is None:
                if listening(port, p.pid):
                    return p, port
                time.sleep(0.02)
            exited = p.poll() is not None  # e.g. the port was taken meanwhile: another one
            p.stop()
            if attempt == 4 or not exited:
                self.fail("s_server did not listen on %d\n%s" % (port, p.describe()))
        raise AssertionError("unreachable")

    def gnutls_serv(self, prio):
        for attempt in range(5):
            port = I.free_port()
            p = self.started(BulkProc(["gnutls-serv", "-p", port, "--echo", "--x509certfile",
                                       CERTS.ecdsa_cert, "--x509keyfile", CERTS.ecdsa_key,
                                       "--priority", prio], "gnutls-serv"))
            rx = r"listening on IPv4 .* port %d\.\.\.done" % port
            if p.err.wait_for(rx, I.START_TIMEOUT, p.p) or p.out.wait_for(rx, 0, p.p):
                return p, port
            p.stop()
            if attempt == 4:
                self.fail("gnutls-serv did not start\n" + p.describe())
        raise AssertionError("unreachable")

    def py_server(self, vname, pyname, size):
        argv = [sys.executable, os.path.abspath(__file__), "--py-peer", "server", "--version",
                pyname] + ecdsa() + (["--legacy"] if vname in LEGACY else [])
        p = self.started(BulkProc(argv, "python ssl server", feed=DATA.file("s2c", size),
                                  expect=DATA.file("c2s", size), env=openssl_env(vname)))
        m = p.err.wait_for(r"^tlsv-bulk-peer: listening on 127\.0\.0\.1:(\d+)$",
                           I.START_TIMEOUT, p.p)
        if not m:
            self.fail("the Python server did not start\n" + p.describe())
        return p, int(m.group(1))

    def tlsv_client(self, port, vname, vmax, feed, expect):
        return self.started(BulkProc([I.TLSV, "client", "localhost:%d" % port, "--cafile",
                                      CERTS.cafile] + tlsv_client_args(vname, vmax),
                                     "tlsv client", feed=feed, expect=expect))

    # ---- running a transfer ---------------------------------------------------

    def transfer(self, server, client, vname, tlsv_procs, server_exits=True,
                 reply_after_upload=False, check_peer=None):
        """Waits for every Sink to be complete, then closes the client's
        stdin, waits for the client's exit, then the server's (or stops a
        server that serves on). Checks the data, the statuses, the version
        on the tlsv side (and with check_peer(diagnostics) the peer's).
        reply_after_upload: the server's stdin (gated) is fed only once all
        the client's data has arrived."""
        procs = [server, client]
        sinks = [p.sink for p in procs if p.sink]
        t0 = client.started
        problem = None
        dead_since = None
        while True:
            now = time.monotonic()
            if reply_after_upload and server.sink.complete:
                server.feeder.open_gate()
            if all(s.complete for s in sinks):
                break
            if now - t0 > TRANSFER_TIMEOUT:
                problem = "transfer not complete within %d s" % TRANSFER_TIMEOUT
                break
            if now - max(s.last_progress for s in sinks) > STALL_TIMEOUT \
                    and now - t0 > STALL_TIMEOUT:
                problem = "no data for %d s (stalled)" % STALL_TIMEOUT
                break
            dead = [p for p in procs if p.poll() is not None]
            if dead and dead_since is None:
                dead_since = now
            if dead_since is not None and now - dead_since > 3:
                problem = "%s exited (status %s) before the transfer was complete" % (
                    dead[0].name, dead[0].rc)
                break
            time.sleep(0.01)
        if problem is None:
            client.release()
            crc = client.wait(EXIT_TIMEOUT)
            if crc is None:
                problem = "the client did not exit within %d s of the end of its stdin" \
                    % EXIT_TIMEOUT
            server.release()
            if server_exits:
                src = server.wait(EXIT_TIMEOUT)
                if src is None and problem is None:
                    problem = "the server did not exit within %d s after the client" \
                        % EXIT_TIMEOUT
            else:
                server.stop()
        else:
            for p in procs:
                p.stop()
        diag = "".join(p.describe() for p in procs)
        detail = ""
        try:
            self.assertIsNone(problem, "%s\n%s" % (problem, diag))
            for p in procs:
                if p.sink:
                    v = p.sink.verdict()
                    self.assertIsNone(v, "data received by %s: %s\n%s" % (p.name, v, diag))
                    if p.sink.http:
                        self.assertIn(b"\r\nContent-Length: %d\r\n" % p.sink.size,
                                      p.sink.header, diag)
                if p.feeder:
                    self.assertIsNone(p.feeder.error, diag)
                    self.assertTrue(p.feeder.finished, "%s: stdin not all written\n%s"
                                    % (p.name, diag))
            for p in tlsv_procs:
                text = p.err.text()
                I.assert_no_sanitizer_report(self, text, p.name)
                rx = I.SUMMARY_CLIENT if p is client else I.SUMMARY_SERVER
                m = rx.search(text)
                self.assertIsNotNone(m, "%s: no summary line\n%s" % (p.name, diag))
                want = dict((v[0], v[1]) for v in VERSIONS)[vname]
                self.assertEqual(m.group("version"), want, "%s: version\n%s" % (p.name, diag))
                detail = m.group("cipher")
                self.assertEqual(p.rc, 0, "%s exit status\n%s" % (p.name, diag))
            if check_peer is not None:
                check_peer(diag)
            for p in procs:
                if p not in tlsv_procs and p.name != "gnutls-serv":
                    self.assertEqual(p.rc, 0, "%s exit status\n%s" % (p.name, diag))
        except AssertionError:
            RESULTS.append((self.case, vname, "FAIL", (problem or "see the failure")[:70]))
            raise
        # client -> server: what the server's stdout got (for the echo: the
        # client's data came back); server -> client: the client's stdout
        parts = []
        for label, p in (("c->s", server), ("s->c", client)):
            if p.sink:
                start = t0
                if reply_after_upload and p is client:
                    start = server.feeder.opened_at
                secs = p.sink.done_at - start
                parts.append("%s %4g MiB %6.2f s %6.1f MiB/s"
                             % (label, p.sink.size / MIB, secs, p.sink.size / MIB / secs))
            elif label == "c->s":
                parts.append("c->s (echoed back)" + " " * 22)
        text = " | ".join(parts) + "  " + detail
        RESULTS.append((self.case, vname, "ok", text))
        print("bulk: %-34s %-8s %s" % (self.case, vname, text), flush=True)

    # ---- the pairings ------------------------------------------------------------

    def tlsv_client_to_s_server(self, v, size):
        vname, _, vmax, flag, _, _ = v
        srv, port = self.s_server(vname, flag, size)
        cli = self.tlsv_client(port, vname, vmax, DATA.file("c2s", size), DATA.file("s2c", size))
        self.transfer(srv, cli, vname, [cli])

    def tlsv_client_to_gnutls_serv(self, v, size):
        # text lines for its line echo (see the module's docstring); 64 MiB
        # each way: the client's data and its echo
        if shutil.which("gnutls-serv") is None:
            self.skipTest("gnutls-serv not installed")
        vname, _, vmax, _, prio, _ = v
        srv, port = self.gnutls_serv(prio)
        text = DATA.file("text", size)
        cli = self.tlsv_client(port, vname, vmax, text, text)
        self.transfer(srv, cli, vname, [cli], server_exits=False)

    def tlsv_client_to_python(self, v, size):
        vname, _, vmax, _, _, pyname = v
        srv, port = self.py_server(vname, pyname, size)
        cli = self.tlsv_client(port, vname, vmax, DATA.file("c2s", size), DATA.file("s2c", size))

        def check(diag):
            self.assertIn("tlsv-bulk-peer: connected: %s " % vname.replace("TLSv1.0", "TLSv1"),
                          srv.err.text(), diag)
        self.transfer(srv, cli, vname, [cli], check_peer=check)

    def tlsv_client_to_tlsv_server(self, v, size):
        vname, _, vmax, _, _, _ = v
        srv, port = self.tlsv_server(vname, DATA.file("s2c", size), DATA.file("c2s", size))
        cli = self.tlsv_client(port, vname, vmax, DATA.file("c2s", size), DATA.file("s2c", size))
        self.transfer(srv, cli, vname, [cli, srv])

    def s_client_to_tlsv_server(self, v, size):
        vname, _, _, flag, _, _ = v
        srv, port = self.tlsv_server(vname, DATA.file("s2c", size), DATA.file("c2s", size))
        # -quiet: no session output on stdout (but it implies -ign_eof: undone
        # by -no_ign_eof, so the end of stdin closes); -nocommands: a line
        # starting with Q, R, k... is data, not a command.
        cli = self.started(BulkProc(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                                     "-servername", "localhost", "-CAfile", CERTS.cafile,
                                     "-verify_return_error", "-verify_hostname", "localhost",
                                     "-quiet", "-no_ign_eof", "-nocommands", flag]
                                    + openssl_cipher_args(vname),
                                    "openssl s_client", feed=DATA.file("c2s", size),
                                    expect=DATA.file("s2c", size),
                                    env=openssl_env(vname)))
        self.transfer(srv, cli, vname, [srv])

    def gnutls_cli_to_tlsv_server(self, v, size):
        if shutil.which("gnutls-cli") is None:
            self.skipTest("gnutls-cli not installed")
        vname, _, _, _, prio, _ = v
        down = DATA.file("s2c", min(size, GNUTLS_CLI_DOWNLOAD))
        srv, port = self.tlsv_server(vname, down, DATA.file("c2s", size))
        logfile = os.path.join(DATA.dir, "gnutls-cli-%s.log" % vname)
        # --logfile: the session information goes there, stdout carries data only
        cli = self.started(BulkProc(["gnutls-cli", "-p", port, "--x509cafile", CERTS.cafile,
                                     "--priority", prio, "--logfile", logfile, "localhost"],
                                    "gnutls-cli", feed=DATA.file("c2s", size), expect=down))

        def check(diag):
            with open(logfile, errors="replace") as f:
                log = f.read()
            self.assertIn("- Description: (%s-" % GNUTLS_VERSION[vname], log, diag + log)
        self.transfer(srv, cli, vname, [srv], check_peer=check)

    def python_to_tlsv_server(self, v, size):
        vname, _, _, _, _, pyname = v
        srv, port = self.tlsv_server(vname, DATA.file("s2c", size), DATA.file("c2s", size))
        argv = [sys.executable, os.path.abspath(__file__), "--py-peer", "client", "--version",
                pyname, "--port", port, "--cafile", CERTS.cafile] \
            + (["--legacy"] if vname in LEGACY else [])
        cli = self.started(BulkProc(argv, "python ssl client", feed=DATA.file("c2s", size),
                                    expect=DATA.file("s2c", size), env=openssl_env(vname)))

        def check(diag):
            self.assertIn("tlsv-bulk-peer: connected: %s " % vname.replace("TLSv1.0", "TLSv1"),
                          cli.err.text(), diag)
        self.transfer(srv, cli, vname, [srv], check_peer=check)

    def curl_to_tlsv_server(self, v, size):
        # `tlsv server --www` only reads a request line and answers with a
        # small page, so it cannot carry 64 MiB either way. Instead the tlsv
        # server runs in its default mode (client data -> stdout, stdin ->
        # client) and the test plays the HTTP part: curl PUTs 64 MiB (-T
        # streams the file; "Expect:" off), the server's stdout must hold the
        # request header and then exactly the file; only then does the
        # server's stdin get a response header with Content-Length and the
        # other 64 MiB, which curl writes to its stdout. So the two
        # directions run one after the other here, not at once.
        if shutil.which("curl") is None:
            self.skipTest("curl not installed")
        vname, _, _, _, _, _ = v
        response = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n" % size)
        srv, port = self.tlsv_server(vname, DATA.file("s2c", size), DATA.file("c2s", size),
                                     http=True, gated=True, prefix=response)
        cv = CURL_VERSION[vname]
        cli = self.started(BulkProc(["curl", "-sS", "-v", "--max-time", TRANSFER_TIMEOUT,
                                     "--cacert", CERTS.cafile,
                                     "--resolve", "localhost:%d:127.0.0.1" % port,
                                     "--tlsv" + cv, "--tls-max", cv, "-H", "Expect:",
                                     "-T", DATA.file("c2s", size),
                                     "https://localhost:%d/bulk" % port]
                                    + (["--ciphers", "DEFAULT:@SECLEVEL=0"]
                                       if vname in LEGACY else []),
                                    "curl", expect=DATA.file("s2c", size),
                                    env=openssl_env(vname)))

        def check(diag):
            self.assertIn("SSL connection using %s " % vname.replace("TLSv1.0", "TLSv1"),
                          cli.err.text(), diag)
            self.assertTrue(srv.sink.header.startswith(b"PUT /bulk HTTP/1.1\r\n"),
                            srv.sink.header)
        self.transfer(srv, cli, vname, [srv], reply_after_upload=True, check_peer=check)


PAIRINGS = [
    ("tlsv_client_to_s_server", "tlsv client -> openssl s_server"),
    ("tlsv_client_to_gnutls_serv", "tlsv client -> gnutls-serv --echo"),
    ("tlsv_client_to_python", "tlsv client -> python ssl server"),
    ("tlsv_client_to_tlsv_server", "tlsv client -> tlsv server"),
    ("s_client_to_tlsv_server", "openssl s_client -> tlsv server"),
    ("gnutls_cli_to_tlsv_server", "gnutls-cli -> tlsv server"),
    ("python_to_tlsv_server", "python ssl client -> tlsv server"),
    ("curl_to_tlsv_server", "curl PUT+GET -> tlsv server"),
]


def _make_test(method, label, v):
    def test(self):
        self.case = label
        if v[0] in LEGACY and method in ("tlsv_client_to_python", "python_to_tlsv_server"):
            import ssl  # only to ask what this Python's OpenSSL can do
            if not getattr(ssl, "HAS_" + v[5], False):
                self.skipTest("this Python's ssl has no %s" % v[0])
        getattr(self, method)(v, SIZE)
    test.__doc__ = "%s, %s" % (label, v[0])
    return test


for _v in VERSIONS:
    for _method, _label in PAIRINGS:
        setattr(Bulk, "test_%s_%s" % (_method, _v[0].replace("TLSv", "tls").replace(".", "_")),
                _make_test(_method, _label, _v))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--py-peer":
        try:
            sys.exit(py_peer(sys.argv[2:]))
        except Exception as e:  # reported on stderr, exit 1
            sys.stderr.write("tlsv-bulk-peer: error: %s: %s\n" % (type(e).__name__, e))
            sys.exit(1)
    I.main()
