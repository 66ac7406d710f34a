#!/usr/bin/env python3
"""TLS_FALLBACK_SCSV (RFC 7507) and the downgrade sentinel (RFC 8446 §4.1.3)
end to end with OpenSSL's command-line peers (tests/e2e).

  1. tlsv client --max-version TLSv1_2 --fallback-scsv -> openssl s_server
     (default, up to TLS 1.3): refused; the client reports the received
     alert inappropriate_fallback.
  2. openssl s_client -tls1_2 -fallback_scsv -> tlsv server (default): tlsv
     refuses with INAPPROPRIATE_FALLBACK and sends inappropriate_fallback.
  3. the same s_client -> tlsv server --max-version TLSv1_2: TLS 1.2.
  4. tlsv client (default, TLS 1.3 capable) -> openssl s_server -tls1_2:
     TLS 1.2, and no sentinel in ServerHello.random (seen by a relay).
  5. tlsv client (default) -> tlsv server --max-version TLSv1_2: TLS 1.2 on
     both sides, no sentinel.
  6. the sentinel enforced: a relay strips supported_versions from a tlsv
     client's ClientHello (an on-path downgrade) before it reaches a default
     openssl s_server, which then answers TLS 1.2 with DOWNGRD\\x01; the tlsv
     client aborts (oracle, downgrade.json: INAPPROPRIATE_FALLBACK +
     illegal_parameter).
  7. the sentinel written: the same downgrade of an openssl s_client before
     a default tlsv server; the server's ServerHello carries DOWNGRD\\x01 and
     s_client aborts.

OpenSSL peers run with OPENSSL_CONF pointing to an empty file (no system
MinProtocol/CipherString). Usage: fallback_openssl.py --tlsv PATH.
Exit status 0 pass, 1 fail, 77 skip (no openssl).
"""
import argparse
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

TLSV = None
WS = None

CLIENT_OPTS = ["--verify", "none", "--no-check-hostname", "--handshake-only", "--json"]


class Fallback(unittest.TestCase):

    # ---- peers -------------------------------------------------------------

    def s_server(self, *args):
        p = E.Proc(["openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "1",
                    "-cert", WS.ec_cert, "-key", WS.ec_key] + list(args),
                   name="openssl s_server", env=WS.env, stdin=subprocess.PIPE)
        self.addCleanup(p.stop)
        m = p.wait_for(r"^ACCEPT 127\.0\.0\.1:(\d+)$", "out", E.START_TIMEOUT)
        self.assertIsNotNone(m, "s_server did not start\n" + p.describe())
        return p, int(m.group(1))

    def tlsv_server(self, *args):
        p = E.Proc([TLSV, "server", "--port", "0", "--once", "--handshake-only", "--json",
                    "--cert", WS.ec_cert, "--key", WS.ec_key] + list(args), name="tlsv server")
        self.addCleanup(p.stop)
        m = p.wait_for(E.LISTENING, "err", E.START_TIMEOUT)
        self.assertIsNotNone(m, "tlsv server did not start\n" + p.describe())
        return p, int(m.group(1))

    def tlsv_client(self, port, *args):
        p = E.Proc([TLSV, "client", "127.0.0.1:%d" % port] + CLIENT_OPTS + list(args),
                   name="tlsv client")
        self.addCleanup(p.stop)
        p.wait(E.RUN_TIMEOUT)
        return p

    def s_client(self, port, *args):
        p = E.Proc(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port] + list(args),
                   name="openssl s_client", env=WS.env)
        self.addCleanup(p.stop)
        p.wait(E.RUN_TIMEOUT)
        return p

    def json_of(self, proc, *others):
        js = E.first_json_line(proc.out)
        self.assertIsNotNone(js, "no JSON from %s\n%s" % (proc.name, self.outputs(proc, *others)))
        return js

    @staticmethod
    def outputs(*procs):
        return "\n".join(p.describe() for p in procs)

    def finish_server(self, server):
        server.wait(E.GRACE)
        server.stop()

    # ---- the cases ----------------------------------------------------------

    def test_1_tlsv_scsv_refused_by_s_server(self):
        srv, port = self.s_server()
        cli = self.tlsv_client(port, "--max-version", "TLSv1_2", "--fallback-scsv")
        self.finish_server(srv)
        js = self.json_of(cli, srv)
        ctx = self.outputs(cli, srv)
        self.assertNotIn("version", js, ctx)
        self.assertEqual(js.get("side"), "remote", ctx)
        self.assertEqual(js.get("alert"), "inappropriate_fallback", ctx)
        self.assertEqual(js.get("error"), "TLSV1_ALERT_INAPPROPRIATE_FALLBACK", ctx)
        self.assertRegex(srv.out + srv.err, re.compile(r"inappropriate.fallback", re.I), ctx)
        self.assertEqual(cli.p.returncode, 1, ctx)

    def test_2_s_client_scsv_refused_by_tlsv(self):
        srv, port = self.tlsv_server()
        cli = self.s_client(port, "-tls1_2", "-fallback_scsv")
        self.finish_server(srv)
        js = self.json_of(srv, cli)
        ctx = self.outputs(cli, srv)
        self.assertEqual(js.get("error"), "INAPPROPRIATE_FALLBACK", ctx)
        self.assertEqual(js.get("alert"), "inappropriate_fallback", ctx)
        self.assertEqual(js.get("side"), "local", ctx)
        self.assertIn("alert inappropriate fallback", cli.out + cli.err, ctx)
        self.assertNotEqual(cli.p.returncode, 0, ctx)
        self.assertEqual(srv.p.returncode, 1, ctx)

    def test_3_s_client_scsv_accepted_by_tlsv_capped_at_tls12(self):
        srv, port = self.tlsv_server("--max-version", "TLSv1_2")
        cli = self.s_client(port, "-tls1_2", "-fallback_scsv")
        self.finish_server(srv)
        js = self.json_of(srv, cli)
        ctx = self.outputs(cli, srv)
        self.assertEqual(js.get("version"), "TLSv1.2", ctx)
        self.assertRegex(cli.out, r"(?m)^\s*Protocol\s*: TLSv1\.2$", ctx)
        self.assertEqual(srv.p.returncode, 0, ctx)

    def test_4_tlsv_client_vs_s_server_capped_no_sentinel(self):
        srv, port = self.s_server("-tls1_2")
        relay = E.HelloRelay(port)
        cli = self.tlsv_client(relay.port)
        sh = relay.finish()
        self.finish_server(srv)
        js = self.json_of(cli, srv)
        ctx = self.outputs(cli, srv) + "\nrelay: %s %s" % (sh, relay.error)
        self.assertEqual(js.get("version"), "TLSv1.2", ctx)
        self.assertIsNotNone(sh, ctx)
        self.assertEqual(sh.get("legacy_version"), 0x0303, ctx)
        self.assertIsNone(sh.get("sentinel"), ctx)

    def test_5_tlsv_client_vs_tlsv_server_capped_no_sentinel(self):
        srv, port = self.tlsv_server("--max-version", "TLSv1_2")
        relay = E.HelloRelay(port)
        cli = self.tlsv_client(relay.port)
        sh = relay.finish()
        self.finish_server(srv)
        ctx = self.outputs(cli, srv) + "\nrelay: %s %s" % (sh, relay.error)
        self.assertEqual(self.json_of(cli, srv).get("version"), "TLSv1.2", ctx)
        self.assertEqual(self.json_of(srv, cli).get("version"), "TLSv1.2", ctx)
        self.assertIsNotNone(sh, ctx)
        self.assertIsNone(sh.get("sentinel"), ctx)

    def test_6_sentinel_enforced_by_tlsv_client(self):
        srv, port = self.s_server()
        relay = E.HelloRelay(port, strip_supported_versions=True)
        cli = self.tlsv_client(relay.port)
        sh = relay.finish()
        self.finish_server(srv)
        js = self.json_of(cli, srv)
        ctx = self.outputs(cli, srv) + "\nrelay: stripped=%s %s %s" % (relay.stripped, sh,
                                                                       relay.error)
        self.assertTrue(relay.stripped, ctx)
        self.assertIsNotNone(sh, ctx)
        self.assertEqual(sh.get("sentinel"), "DOWNGRD\\x01", ctx)
        self.assertNotIn("version", js, ctx)
        self.assertEqual(js.get("side"), "local", ctx)
        self.assertEqual(js.get("alert"), "illegal_parameter", ctx)
        self.assertEqual(js.get("error"), "INAPPROPRIATE_FALLBACK", ctx)

    def test_7_sentinel_written_by_tlsv_server(self):
        srv, port = self.tlsv_server()
        relay = E.HelloRelay(port, strip_supported_versions=True)
        cli = self.s_client(relay.port)
        sh = relay.finish()
        self.finish_server(srv)
        ctx = self.outputs(cli, srv) + "\nrelay: stripped=%s %s %s" % (relay.stripped, sh,
                                                                       relay.error)
        self.assertTrue(relay.stripped, ctx)
        self.assertIsNotNone(sh, ctx)
        self.assertEqual(sh.get("legacy_version"), 0x0303, ctx)
        self.assertEqual(sh.get("sentinel"), "DOWNGRD\\x01", ctx)
        self.assertRegex(cli.out + cli.err, re.compile(r"inappropriate.fallback", re.I), ctx)
        self.assertNotEqual(cli.p.returncode, 0, ctx)
        js = self.json_of(srv, cli)
        self.assertNotIn("version", js, ctx)


def main():
    global TLSV, WS
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlsv", required=True)
    args, rest = ap.parse_known_args()
    TLSV = E.tlsv_program(args.tlsv)
    WS = E.Workspace(prefix="tlsv-e2e-fallback-")
    try:
        prog = unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, exit=False)
    finally:
        WS.cleanup()
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
