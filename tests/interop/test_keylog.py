#!/usr/bin/env python3
"""The key log and the handshake trace of the tlsv tool (SPEC §2 observability).

Key log (--keylog FILE, SSLKEYLOGFILE): a tlsv client talks to a tlsv server
--echo on 127.0.0.1 while dumpcap (Wireshark) captures the loopback traffic;
tshark then decrypts the capture with the key log written by the client (and
with the server's): the application data sent, "hello from tlsv <random
token>", and its echo must appear decrypted, the encrypted handshake
messages (Finished; EncryptedExtensions in TLS 1.3) must become visible --
and none of it without the key log, nor anywhere in the raw capture. For
TLS 1.3 (with a HelloRetryRequest once), TLS 1.2 (AES-GCM, CBC with
encrypt-then-MAC, RSA key exchange), TLS 1.1 and TLS 1.0 (1/n-1 split
records). Also: the file's format and mode, --keylog taking precedence over
SSLKEYLOGFILE, a key log that cannot be opened.

Trace (--trace): the client's and the server's handshake, as an indented
list on stderr ("<<<" received, ">>>" sent, "---" internal; the server puts
"[PEER] " first): ClientHello (versions offered, suites, groups, key shares,
SNI, ALPN, extensions), ServerHello (the version chosen, the suite, the
group, the downgrade sentinel), the other messages, records, alerts, for
TLS 1.3 (also with a HelloRetryRequest and client certificates) and
TLS 1.2. Off by default.

Needs tshark (Debian: tshark, which brings dumpcap) and the right to capture
on lo (root). Without them the capture tests are skipped and the script
exits 77 (CTest: skipped) once the other tests have passed.
"""

import os
import re
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop as I  # noqa: E402

CERTS = None
WORK = None
CAPTURE_UNAVAILABLE = []  # why the capture tests were skipped

CAPTURE_MAX_S = 60        # dumpcap stops by itself after this (it is stopped long before)
CAPTURE_SETTLE_S = 0.5    # after the session, before stopping the capture

KEYLOG_LINE = re.compile(r"^(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET|"
                         r"SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|"
                         r"SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) ([0-9a-f]{64}) "
                         r"([0-9a-f]+)$")
TLS13_LABELS = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"}


def setUpModule():
    global CERTS, WORK
    CERTS = I.Certs()
    WORK = tempfile.mkdtemp(prefix="tlsv-keylog-")


def tearDownModule():
    CERTS.cleanup()
    shutil.rmtree(WORK, ignore_errors=True)


def ec():
    return ["--cert", CERTS.ecdsa_cert, "--key", CERTS.ecdsa_key]


def clean_env(**extra):
    """The environment without SSLKEYLOGFILE (unless given)."""
    env = {k: v for k, v in os.environ.items() if k != "SSLKEYLOGFILE"}
    env.update(extra)
    return env


class Server(I.TlsvServer):
    """`tlsv server` with an environment of its own."""

    def __init__(self, env, *args):
        I.Proc.__init__(self, [I.TLSV, "server", "--port", "0"] + [str(a) for a in args],
                        name="tlsv server", env=env)
        m = self.wait_for(r"^tlsv: listening on 127\.0\.0\.1:(\d+)$", "err", I.START_TIMEOUT)
        self.port = int(m.group(1))
        self.addr = "127.0.0.1:%d" % self.port


def start_server(testcase, *args, env=None):
    s = Server(env if env is not None else clean_env(), *args)

    def finish():
        s.stop()
        I.assert_no_sanitizer_report(testcase, s, "tlsv server")
    testcase.addCleanup(finish)
    return s


def run_client(testcase, port, *args, input=b"", env=None):
    argv = [I.TLSV, "client", "localhost:%d" % port, "--cafile", CERTS.cafile] + \
        [str(a) for a in args]
    I.log("+", " ".join(argv))
    try:
        r = subprocess.run(argv, input=input, capture_output=True, timeout=I.CMD_TIMEOUT,
                           env=env if env is not None else clean_env())
    except subprocess.TimeoutExpired as e:
        testcase.fail("tlsv client hung: %s\n%s" % (" ".join(argv),
                                                     (e.stderr or b"").decode("utf-8",
                                                                              "replace")))
    res = I.ClientResult(argv, r.returncode, r.stdout.decode("utf-8", "replace"),
                         r.stderr.decode("utf-8", "replace"))
    I.assert_no_sanitizer_report(testcase, res.err, "tlsv client")
    return res


# ---------------------------------------------------------------------------
# capturing and decrypting

class CaptureUnavailable(Exception):
    pass


def tshark_env():
    """tshark with a configuration directory of its own (no user preferences,
    no key log file configured elsewhere) and no SSLKEYLOGFILE."""
    conf = os.path.join(WORK, "wireshark-config")
    os.makedirs(conf, exist_ok=True)
    return clean_env(WIRESHARK_CONFIG_DIR=conf)


class Capture:
    """dumpcap on lo for `tcp port PORT` into a pcap file, stopped by its PID."""

    def __init__(self, port, path):
        self.path = path
        prog = shutil.which("dumpcap") or shutil.which("tshark")
        if not shutil.which("tshark") or not prog:
            raise CaptureUnavailable("tshark is not installed (Debian package: tshark)")
        self.proc = I.Proc([prog, "-i", "lo", "-f", "tcp port %d" % port, "-w", path,
                            "-a", "duration:%d" % CAPTURE_MAX_S, "-c", "5000"],
                           name=os.path.basename(prog), env=tshark_env())
        try:
            self.proc.wait_for(r"Capturing on", "err", I.START_TIMEOUT)
        except AssertionError as e:
            self.proc.stop()
            raise CaptureUnavailable("%s cannot capture on lo: %s" % (prog, e))
        time.sleep(0.2)  # the filter is attached once it says so; a margin all the same

    def stop(self):
        time.sleep(CAPTURE_SETTLE_S)
        self.proc.stop()
        if not os.path.exists(self.path):
            raise AssertionError("no capture file\n" + self.proc.output())
        return self.path


def read_captures(jobs):
    """tshark over captures, each with a key log file (or None), all at once:
    for each (pcap, keylog), returns (handshake types seen, client->server
    bytes, server->client bytes) of the first TCP stream's decrypted
    application data."""
    procs = []
    for pcap, keylog in jobs:
        argv = ["tshark", "-n", "-r", pcap, "-o", "tls.keylog_file:%s" % (keylog or ""),
                "-Y", "tls.handshake.type", "-T", "fields", "-e", "tls.handshake.type",
                "-z", "follow,tls,raw,0"]
        I.log("+", " ".join(argv))
        procs.append((argv, subprocess.Popen(argv, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, env=tshark_env())))
    results = []
    for argv, p in procs:
        try:
            out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise AssertionError("tshark hung: %s" % " ".join(argv))
        if p.returncode != 0:
            raise AssertionError("tshark failed (%d): %s\n%s"
                                 % (p.returncode, " ".join(argv), err.decode("utf-8", "replace")))
        results.append(parse_tshark(out.decode("utf-8", "replace")))
    return results


def parse_tshark(out):
    fields, _, follow = out.partition("=" * 20)
    types = set()
    for line in fields.splitlines():
        for t in line.replace(",", " ").split():
            if t.isdigit():
                types.add(int(t))
    c2s, s2c = bytearray(), bytearray()
    started = False
    for line in follow.splitlines():
        if line.startswith("Node 1:"):
            started = True
            continue
        if not started or line.startswith("="):
            continue
        data = line.strip()
        if not re.fullmatch(r"[0-9a-f]*", data) or len(data) % 2:
            continue
        (s2c if line.startswith("\t") else c2s).extend(bytes.fromhex(data))
    return types, bytes(c2s), bytes(s2c)


def keylog_lines(path):
    with open(path) as f:
        return [l.rstrip("\n") for l in f if l.strip()]


class KeyLogCapture(unittest.TestCase):
    """tshark decrypts a captured tlsv session with tlsv's key log."""

    def session(self, name, server_args=(), client_args=(), use_env=False, version="TLSv1.3",
                server_cert=None):
        """One echo session under capture; returns what the checks need."""
        d = tempfile.mkdtemp(prefix=name + "-", dir=WORK)
        ckeys, skeys = os.path.join(d, "client.keys"), os.path.join(d, "server.keys")
        if use_env:
            senv, cenv = clean_env(SSLKEYLOGFILE=skeys), clean_env(SSLKEYLOGFILE=ckeys)
            sopt, copt = [], []
        else:
            senv, cenv = clean_env(), clean_env()
            sopt, copt = ["--keylog", skeys], ["--keylog", ckeys]
        srv = start_server(self, *(server_cert or ec()), "--echo", *sopt, *server_args,
                           env=senv)
        try:
            cap = Capture(srv.port, os.path.join(d, "cap.pcap"))
        except CaptureUnavailable as e:
            CAPTURE_UNAVAILABLE.append(str(e))
            self.skipTest(str(e))
        token = "hello from tlsv %s" % secrets.token_hex(8)
        try:
            r = run_client(self, srv.port, *copt, *client_args, input=(token + "\n").encode(),
                           env=cenv)
        finally:
            pcap = cap.stop()
        self.assertEqual(r.rc, 0, r.describe())
        self.assertIsNotNone(r.summary, r.describe())
        self.assertEqual(r.summary["version"], version, r.describe())
        self.assertEqual(r.out, token + "\n", r.describe())
        return token, pcap, ckeys, skeys

    def check(self, token, pcap, keylogs, version):
        """Decrypts pcap with each key log file in turn (and without any)."""
        want = (token + "\n").encode()
        # the plaintext is not on the wire
        with open(pcap, "rb") as f:
            self.assertNotIn(token.encode(), f.read())
        results = read_captures([(pcap, None)] + [(pcap, k) for k in keylogs])
        # without the key log: nothing decrypted
        types, c2s, s2c = results[0]
        self.assertNotIn(want, c2s)
        self.assertNotIn(want, s2c)
        self.assertIn(1, types, "no ClientHello in the capture: %s" % sorted(types))
        self.assertNotIn(20, types, "a Finished visible without keys: %s" % sorted(types))
        # with it: the data both ways, the encrypted handshake messages readable
        for keylog, (types, c2s, s2c) in zip(keylogs, results[1:]):
            if want not in c2s:
                with open(keylog) as f:
                    self.fail("client data not decrypted with %s:\n%s\n%r"
                              % (keylog, f.read(), c2s))
            self.assertIn(want, s2c, "the echo not decrypted: %r" % s2c)
            self.assertIn(20, types, "no Finished decrypted: %s" % sorted(types))
            if version == "TLSv1.3":
                self.assertIn(8, types, "no EncryptedExtensions decrypted: %s" % sorted(types))
                self.assertIn(11, types)  # the server's Certificate
                self.assertIn(15, types)  # CertificateVerify

    def check_keylog_file(self, path, version):
        self.assertTrue(os.path.exists(path), "no key log file %s" % path)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        lines = keylog_lines(path)
        for l in lines:
            self.assertRegex(l, KEYLOG_LINE)
        labels = {KEYLOG_LINE.match(l).group(1) for l in lines}
        if version == "TLSv1.3":
            self.assertEqual(labels, TLS13_LABELS, lines)
            for l in lines:  # 32-byte secrets (SHA-256 suites) or 48 (SHA-384)
                self.assertIn(len(KEYLOG_LINE.match(l).group(3)), (64, 96), l)
        else:
            self.assertEqual(labels, {"CLIENT_RANDOM"}, lines)
            self.assertEqual(len(lines), 1, lines)
            self.assertEqual(len(KEYLOG_LINE.match(lines[0]).group(3)), 96)  # master secret
        randoms = {KEYLOG_LINE.match(l).group(2) for l in lines}
        self.assertEqual(len(randoms), 1, "one connection, one client random: %s" % lines)

    def both(self, name, version, server_args=(), client_args=(), use_env=False,
             server_cert=None, with_server_keys=False):
        """A session; both sides' key logs must hold the same lines, and the
        client's (with_server_keys: the server's too) must decrypt it."""
        token, pcap, ckeys, skeys = self.session(name, server_args, client_args, use_env,
                                                 version, server_cert)
        self.check_keylog_file(ckeys, version)
        self.check_keylog_file(skeys, version)
        self.assertEqual(sorted(keylog_lines(ckeys)), sorted(keylog_lines(skeys)))
        self.check(token, pcap, [ckeys, skeys] if with_server_keys else [ckeys], version)

    def test_tls13_keylog_option(self):
        self.both("tls13-opt", "TLSv1.3", with_server_keys=True)

    def test_tls13_sslkeylogfile_hrr_aes256(self):
        # the server wants P-384: a HelloRetryRequest first; a SHA-384 suite
        self.both("tls13-env", "TLSv1.3", server_args=["--groups", "P-384"],
                  client_args=["--ciphersuites", "TLS_AES_256_GCM_SHA384"], use_env=True)

    def test_tls13_chacha20(self):
        self.both("tls13-chacha", "TLSv1.3",
                  client_args=["--ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"])

    def test_tls12_keylog_option(self):
        self.both("tls12-opt", "TLSv1.2", client_args=["--max-version", "TLSv1_2"],
                  with_server_keys=True)

    def test_tls12_sslkeylogfile_cbc(self):
        self.both("tls12-env-cbc", "TLSv1.2",
                  client_args=["--max-version", "TLSv1_2", "--ciphers", "ECDHE-ECDSA-AES128-SHA"],
                  use_env=True)

    def test_tls12_rsa_key_exchange(self):
        self.both("tls12-rsa", "TLSv1.2", server_args=["--ciphers", "AES128-GCM-SHA256"],
                  client_args=["--max-version", "TLSv1_2"],
                  server_cert=["--cert", CERTS.rsa_cert, "--key", CERTS.rsa_key])

    def test_tls11(self):
        self.both("tls11", "TLSv1.1", server_args=["--min-version", "TLSv1"],
                  client_args=["--min-version", "TLSv1", "--max-version", "TLSv1_1"])

    def test_tls10_split_records(self):
        self.both("tls10", "TLSv1", server_args=["--min-version", "TLSv1"],
                  client_args=["--min-version", "TLSv1", "--max-version", "TLSv1"],
                  use_env=True)


class KeyLogOptions(unittest.TestCase):
    """--keylog and SSLKEYLOGFILE without a capture."""

    def test_option_wins_over_environment(self):
        d = tempfile.mkdtemp(prefix="prec-", dir=WORK)
        opt, env = os.path.join(d, "option.keys"), os.path.join(d, "env.keys")
        srv = start_server(self, *ec(), "--echo")
        r = run_client(self, srv.port, "--keylog", opt, input=b"x\n",
                       env=clean_env(SSLKEYLOGFILE=env))
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(len(keylog_lines(opt)), 5)
        self.assertFalse(os.path.exists(env))

    def test_appends(self):
        d = tempfile.mkdtemp(prefix="append-", dir=WORK)
        keys = os.path.join(d, "keys")
        srv = start_server(self, *ec(), "--echo")
        for _ in range(2):
            r = run_client(self, srv.port, input=b"x\n", env=clean_env(SSLKEYLOGFILE=keys))
            self.assertEqual(r.rc, 0, r.describe())
        lines = keylog_lines(keys)
        self.assertEqual(len(lines), 10)
        self.assertEqual(len({KEYLOG_LINE.match(l).group(2) for l in lines}), 2)

    def test_unwritable(self):
        srv = start_server(self, *ec(), "--echo")
        bad = os.path.join(WORK, "no-such-dir", "keys")
        # --keylog: a usage error naming the option, nothing connects
        r = run_client(self, srv.port, "--keylog", bad, input=b"x\n")
        self.assertEqual(r.rc, 2, r.describe())
        self.assertIn("--keylog", r.err)
        self.assertIsNone(r.summary)
        rc = subprocess.run([I.TLSV, "server", *ec(), "--keylog", bad], capture_output=True,
                            timeout=I.CMD_TIMEOUT, env=clean_env())
        self.assertEqual(rc.returncode, 2)
        self.assertIn(b"--keylog", rc.stderr)
        # SSLKEYLOGFILE: a warning, and the connection all the same
        r = run_client(self, srv.port, input=b"x\n", env=clean_env(SSLKEYLOGFILE=bad))
        self.assertEqual(r.rc, 0, r.describe())
        self.assertIn("SSLKEYLOGFILE", r.err)
        self.assertEqual(r.out, "x\n")


# ---------------------------------------------------------------------------
# --trace

TRACE_LINE = re.compile(r"^(?:\[127\.0\.0\.1:\d+\] )?(>>>|<<<|---) (.*)$", re.M)


def trace_lines(text, server=False):
    """The trace lines of a stderr text: [(mark, text)]."""
    out = []
    for line in text.splitlines():
        m = TRACE_LINE.match(line)
        if m:
            if server:
                assert line.startswith("[127.0.0.1:"), line
            out.append((m.group(1), m.group(2)))
    return out


class Trace(unittest.TestCase):

    def find(self, lines, mark, pattern, text, start=0):
        """Index of the first line at or after start with this mark whose text
        matches pattern (a regex, searched from the start)."""
        rx = re.compile(pattern)
        for i in range(start, len(lines)):
            if lines[i][0] == mark and rx.match(lines[i][1]):
                return i
        self.fail("no '%s %s' in the trace (from line %d):\n%s" % (mark, pattern, start, text))

    def test_tls13(self):
        srv = start_server(self, *ec(), "--echo", "--trace", "--alpn", "h2")
        r = run_client(self, srv.port, "--trace", "--alpn", "h2,http/1.1", input=b"ping\n")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(r.out, "ping\n")
        self.assertEqual(r.summary["version"], "TLSv1.3", r.describe())
        c = trace_lines(r.err)
        i = self.find(c, ">>>", r"ClientHello \(\d+ bytes\) legacy_version=TLSv1\.2 "
                      r"supported_versions=\[TLSv1\.3,TLSv1\.2\] suites=\[TLS_AES_128_GCM_SHA256,"
                      r"TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,", r.err)
        ch = c[i][1]
        for field in ("groups=[x25519,P-256,P-384]", "key_share=[x25519]", "sni=localhost",
                      "alpn=[h2,http/1.1]", "sig_algs=[ecdsa_secp256r1_sha256"):
            self.assertIn(field, ch)
        ext = re.search(r" ext=\[([^\]]*)\]", ch)
        self.assertIsNotNone(ext, ch)
        for name in ("server_name", "supported_groups", "signature_algorithms", "key_share",
                     "supported_versions", "application_layer_protocol_negotiation"):
            self.assertIn(name, ext.group(1).split(","))
        self.find(c, ">>>", r"  record handshake, version 0x0301, \d+ bytes$", r.err, i)
        i = self.find(c, "<<<", r"  record handshake, version 0x0303, \d+ bytes$", r.err, i)
        i = self.find(c, "<<<", r"ServerHello \(\d+ bytes\) version=TLSv1\.3 \(supported_versions; "
                      r"legacy_version=TLSv1\.2\) suite=TLS_AES_128_GCM_SHA256 key_share=x25519 ",
                      r.err, i)
        i = self.find(c, "<<<", r"EncryptedExtensions \(\d+ bytes\) alpn=h2", r.err, i)
        i = self.find(c, "<<<", r"Certificate \(\d+ bytes\) \d+ certificates? \[\d+ bytes",
                      r.err, i)
        i = self.find(c, "<<<", r"CertificateVerify \(\d+ bytes\) scheme=ecdsa_secp256r1_sha256 "
                      r"signature=\d+ bytes$", r.err, i)
        i = self.find(c, "<<<", r"Finished \(32 bytes\) verify_data=32 bytes$", r.err, i)
        i = self.find(c, ">>>", r"Finished \(32 bytes\)", r.err, i)
        i = self.find(c, "---", r"handshake complete: TLSv1\.3$", r.err, i)
        self.assertLess(r.err.index("--- handshake complete"), r.err.index("tlsv: connected to"))
        self.assertNotIn("malformed", r.err)

        srv.summary()
        s = trace_lines(srv.err, server=True)
        i = self.find(s, "<<<", r"ClientHello \(\d+ bytes\) legacy_version=TLSv1\.2 "
                      r"supported_versions=\[TLSv1\.3,TLSv1\.2\]", srv.err)
        i = self.find(s, ">>>", r"ServerHello \(\d+ bytes\) version=TLSv1\.3 ", srv.err, i)
        i = self.find(s, ">>>", r"EncryptedExtensions .*alpn=h2", srv.err, i)
        i = self.find(s, ">>>", r"Certificate ", srv.err, i)
        i = self.find(s, ">>>", r"CertificateVerify ", srv.err, i)
        i = self.find(s, ">>>", r"Finished ", srv.err, i)
        i = self.find(s, "<<<", r"Finished ", srv.err, i)
        self.find(s, "---", r"handshake complete: TLSv1\.3$", srv.err, i)
        srv.wait_for(r"^\[127\.0\.0\.1:\d+\] <<< alert close_notify \(warning\)$", "err")

    def test_tls12(self):
        srv = start_server(self, *ec(), "--echo", "--trace")
        r = run_client(self, srv.port, "--trace", "--max-version", "TLSv1_2", input=b"ping\n")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(r.summary["version"], "TLSv1.2", r.describe())
        c = trace_lines(r.err)
        i = self.find(c, ">>>", r"ClientHello \(\d+ bytes\) legacy_version=TLSv1\.2 suites=\["
                      r"ECDHE-ECDSA-AES128-GCM-SHA256,", r.err)
        self.assertNotIn("supported_versions", c[i][1])
        self.assertNotIn("key_share", c[i][1])
        i = self.find(c, "<<<", r"ServerHello \(\d+ bytes\) version=TLSv1\.2 "
                      r"suite=ECDHE-ECDSA-AES128-GCM-SHA256 downgrade_sentinel=DOWNGRD\\x01 ",
                      r.err, i)
        self.assertIn("extended_master_secret", c[i][1])
        self.assertIn("renegotiation_info", c[i][1])
        i = self.find(c, "<<<", r"Certificate \(\d+ bytes\) \d+ certificates? \[", r.err, i)
        i = self.find(c, "<<<", r"ServerKeyExchange \(\d+ bytes\) ecdhe group=x25519 "
                      r"public=32 bytes scheme=ecdsa_secp256r1_sha256 signature=\d+ bytes$",
                      r.err, i)
        i = self.find(c, "<<<", r"ServerHelloDone \(0 bytes\)$", r.err, i)
        i = self.find(c, ">>>", r"ClientKeyExchange \(33 bytes\) ecdhe public=32 bytes$", r.err, i)
        i = self.find(c, ">>>", r"Finished \(12 bytes\) verify_data=12 bytes$", r.err, i)
        i = self.find(c, "<<<", r"change_cipher_spec$", r.err, i)
        i = self.find(c, "<<<", r"Finished \(12 bytes\)", r.err, i)
        self.find(c, "---", r"handshake complete: TLSv1\.2$", r.err, i)
        self.assertNotIn("malformed", r.err)
        srv.summary()
        s = trace_lines(srv.err, server=True)
        i = self.find(s, "<<<", r"ClientHello ", srv.err)
        i = self.find(s, ">>>", r"ServerHello \(\d+ bytes\) version=TLSv1\.2 ", srv.err, i)
        i = self.find(s, ">>>", r"ServerKeyExchange ", srv.err, i)
        i = self.find(s, ">>>", r"ServerHelloDone ", srv.err, i)
        i = self.find(s, "<<<", r"ClientKeyExchange ", srv.err, i)
        self.find(s, ">>>", r"Finished ", srv.err, i)

    def test_hello_retry_request(self):
        srv = start_server(self, *ec(), "--echo", "--groups", "P-384")
        r = run_client(self, srv.port, "--trace", input=b"x\n")
        self.assertEqual(r.rc, 0, r.describe())
        c = trace_lines(r.err)
        i = self.find(c, ">>>", r"ClientHello .*key_share=\[x25519\]", r.err)
        i = self.find(c, "<<<", r"HelloRetryRequest \(\d+ bytes\) version=TLSv1\.3 .*"
                      r"selected_group=P-384", r.err, i)
        i = self.find(c, ">>>", r"ClientHello .*key_share=\[P-384\]", r.err, i)
        self.find(c, "<<<", r"ServerHello .*key_share=P-384", r.err, i)

    def test_client_certificates(self):
        for version in ("TLSv1_3", "TLSv1_2"):
            with self.subTest(version=version):
                srv = start_server(self, *ec(), "--echo", "--verify", "required",
                                   "--cafile", CERTS.cafile)
                r = run_client(self, srv.port, "--trace", "--max-version", version,
                               "--cert", CERTS.client_cert, "--key", CERTS.client_key,
                               input=b"x\n")
                self.assertEqual(r.rc, 0, r.describe())
                c = trace_lines(r.err)
                i = self.find(c, "<<<", r"CertificateRequest \(\d+ bytes\) .*sig_algs=\[",
                              r.err)
                if version == "TLSv1_2":
                    self.assertIn("types=[", c[i][1])
                i = self.find(c, ">>>", r"Certificate \(\d+ bytes\) \d+ certificates? \[",
                              r.err, i)
                self.find(c, ">>>", r"CertificateVerify \(\d+ bytes\) scheme=ecdsa_secp256r1_"
                          r"sha256 signature=", r.err, i)

    def test_alerts(self):
        srv = start_server(self, *ec(), "--echo", "--trace", "--min-version", "TLSv1_3")
        r = run_client(self, srv.port, "--trace", "--max-version", "TLSv1_2", input=b"x\n")
        self.assertEqual(r.rc, 1, r.describe())
        c = trace_lines(r.err)
        self.find(c, "<<<", r"alert protocol_version \(fatal\)$", r.err)
        srv.failure()
        s = trace_lines(srv.err, server=True)
        self.find(s, ">>>", r"alert protocol_version$", srv.err)

    def test_off_by_default(self):
        srv = start_server(self, *ec(), "--echo")
        r = run_client(self, srv.port, input=b"x\n")
        self.assertEqual(r.rc, 0, r.describe())
        srv.summary()
        self.assertEqual(trace_lines(r.err), [], r.err)
        self.assertEqual(trace_lines(srv.err), [], srv.err)


def main():
    I.need_programs("openssl")
    prog = unittest.main(verbosity=2, exit=False)
    if not prog.result.wasSuccessful():
        sys.exit(1)
    if CAPTURE_UNAVAILABLE:
        print("SKIP: the key log was not checked against a capture: %s"
              % CAPTURE_UNAVAILABLE[0], flush=True)
        sys.exit(I.SKIP_EXIT)
    sys.exit(0)


if __name__ == "__main__":
    main()
