#!/usr/bin/env python3
"""TLS 1.3 KeyUpdate (RFC 8446 §4.6.3) in both directions against OpenSSL.

  openssl s_client -> tlsv server --echo: s_client's "k" and "K" commands;
    the echo keeps arriving after each update, and after "K" tlsv's answer
    (a KeyUpdate of its own, update_not_requested) shows in s_client -msg
    and in tlsv's --trace
  tlsv client --keyupdate-commands -> openssl s_server -msg: "k" and "K"
    lines; s_server receives the KeyUpdates and the data after them, and
    after "K" its answer (sent with its next data) reaches tlsv (--trace)
    and that data is read under its new keys
  tlsv client --keyupdate-commands over TLS 1.2: "k" is refused with a
    message and the connection goes on
"""

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop as I  # noqa: E402

CERTS = None

# s_client / s_server -msg: one line per message, the inner type for TLS 1.3
MSG_KU_SENT = r"^>>> TLS 1\.3, Handshake \[length 0005\], KeyUpdate"
MSG_KU_RECV = r"^<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate"


def setUpModule():
    global CERTS
    I.need_programs("openssl")
    CERTS = I.Certs()


def tearDownModule():
    CERTS.cleanup()


def count(pattern, text):
    return len(re.findall(pattern, text, re.M))


class KeyUpdate(unittest.TestCase):

    # ---- openssl s_client -> tlsv server --echo -----------------------------------

    def test_openssl_client_commands_tlsv_echo(self):
        cert, key = CERTS.server("ecdsa")
        srv = I.tlsv_server(self, "--cert", cert, "--key", key, "--echo", "--trace")
        cli = I.s_client(srv.port, "-tls1_3", "-CAfile", CERTS.cafile, "-servername",
                         "localhost", "-msg", brief=False)
        self.addCleanup(cli.stop)
        srv.summary()
        cli.send("before-update\n")
        cli.wait_for(r"^before-update$", "out")

        cli.send("k\n")
        cli.wait_for(r"^KEYUPDATE$", "err")
        cli.wait_for(MSG_KU_SENT, "out")
        srv.wait_for(r"<<< KeyUpdate.*update_not_requested", "err")
        cli.send("after-k\n")
        cli.wait_for(r"^after-k$", "out")

        cli.send("K\n")
        cli.wait_for(r"^KEYUPDATE$", "err", count=2)
        cli.wait_for(MSG_KU_SENT, "out", count=2)
        srv.wait_for(r"<<< KeyUpdate.*update_requested", "err")
        # tlsv answers once, before its next data (the echo)
        cli.send("after-K\n")
        cli.wait_for(r"^after-K$", "out")
        cli.wait_for(MSG_KU_RECV, "out")
        srv.wait_for(r">>> KeyUpdate.*update_not_requested", "err")

        cli.send("k\n")
        cli.wait_for(r"^KEYUPDATE$", "err", count=3)
        cli.send("last\n")
        cli.wait_for(r"^last$", "out")
        time.sleep(0.2)  # anything more would have come with the echo
        self.assertEqual(count(MSG_KU_SENT, cli.out), 3, cli.output())
        self.assertEqual(count(MSG_KU_RECV, cli.out), 1, cli.output())
        self.assertEqual(count(r">>> KeyUpdate", srv.err), 1, srv.output())
        self.assertEqual(count(r"<<< KeyUpdate", srv.err), 3, srv.output())
        # the server's view in order: k, K, its answer, k
        seen = re.findall(r"(<<<|>>>) KeyUpdate.*?(update_not_requested|update_requested)",
                          srv.err)
        self.assertEqual(seen, [("<<<", "update_not_requested"), ("<<<", "update_requested"),
                                (">>>", "update_not_requested"), ("<<<", "update_not_requested")],
                         srv.output())
        self.assertNotIn("failure", srv.err)
        cli.close_stdin()
        cli.wait()

    # ---- tlsv client -> openssl s_server ----------------------------------------

    def test_tlsv_client_commands_openssl_server(self):
        srv = I.s_server(self, CERTS, "-tls1_3", "-msg")
        cli = I.start_tlsv_client("127.0.0.1:%d" % srv.port, "--cafile", CERTS.cafile,
                                  "--servername", "localhost", "--keyupdate-commands",
                                  "--trace")
        self.addCleanup(cli.kill)
        cli.wait_for(I.SUMMARY_CLIENT.pattern, "err")
        cli.send("one\n")
        srv.wait_for(r"^one$", "out")

        cli.send("k\n")
        cli.wait_for(r"^tlsv: KeyUpdate sent \(update_not_requested\)$", "err")
        cli.send("two\n")
        srv.wait_for(r"^two$", "out")
        self.assertEqual(count(MSG_KU_RECV, srv.out), 1, srv.output())

        cli.send("K\n")
        cli.wait_for(r"^tlsv: KeyUpdate sent \(update_requested\)$", "err")
        cli.send("three\n")
        srv.wait_for(r"^three$", "out")
        self.assertEqual(count(MSG_KU_RECV, srv.out), 2, srv.output())
        # s_server answers the request before its next data (libssl sends the
        # answer with its next write): a KeyUpdate of its own, which tlsv
        # reads, then the data under its new keys
        srv.send("from-server\n")
        cli.wait_for(r"^from-server$", "out")
        srv.wait_for(MSG_KU_SENT, "out")
        cli.wait_for(r"<<< KeyUpdate.*update_not_requested", "err")

        # a "k" in the middle of a burst of lines: the data around it is intact
        cli.send("four\nk\nfive\nK\nsix\n")
        srv.wait_for(r"^six$", "out")
        # in order: the data, the KeyUpdate (hex dump of -msg), the data after it
        self.assertRegex(srv.out, r"(?ms)^four$.*?^    18 00 00 01 00$.*?^five$"
                                  r".*?^    18 00 00 01 01$.*?^six$")
        self.assertEqual(count(MSG_KU_RECV, srv.out), 4, srv.output())
        self.assertNotRegex(srv.out, r"(?m)^[kK]$")  # no command line sent as data
        cli.close_stdin()
        rc = cli.wait()
        I.assert_no_sanitizer_report(self, cli, "tlsv client")
        self.assertEqual(rc, 0, cli.output())
        # tlsv answered nothing (s_server's update did not request one)
        self.assertEqual(count(r">>> KeyUpdate", cli.err), 4, cli.output())

    def test_tlsv_client_commands_tls12_refused(self):
        srv = I.s_server(self, CERTS, "-tls1_2")
        cli = I.start_tlsv_client("127.0.0.1:%d" % srv.port, "--cafile", CERTS.cafile,
                                  "--servername", "localhost", "--keyupdate-commands")
        self.addCleanup(cli.kill)
        cli.wait_for(r"TLSv1\.2", "err")
        cli.send("k\n")
        cli.wait_for(r"^tlsv: KeyUpdate: INVALID_ARGUMENT.*only in TLS 1\.3", "err")
        cli.send("still-here\n")
        srv.wait_for(r"^still-here$", "out")
        cli.close_stdin()
        rc = cli.wait()
        I.assert_no_sanitizer_report(self, cli, "tlsv client")
        self.assertEqual(rc, 0, cli.output())

    def test_usage(self):
        r = I.run_tlsv_client(self, "127.0.0.1:1", "--keyupdate-commands", "--handshake-only")
        self.assertEqual(r.rc, 2, r.describe())
        self.assertIn("--keyupdate-commands", r.err)


if __name__ == "__main__":
    I.main()
