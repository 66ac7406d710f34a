/*
 * help.c -- the help texts of the tlsv program: `tlsv help [COMMAND]`,
 * `tlsv --help`, `tlsv COMMAND --help|-h`, and the one-line synopsis that a
 * usage error prints after its message (main.c).
 *
 * Keep these texts in step with the option parsers (connect.c, probe.c,
 * demo.c) and with the man page, docs/tlsv.1.
 */
#include <stdio.h>
#include <string.h>

#include "tool.h"

#define VERSION_OPTIONS_HELP \
    "  --min-version V     the lowest version to use (default TLSv1_2)\n" \
    "  --max-version V     the highest version to use (default MAXIMUM_SUPPORTED,\n" \
    "                      i.e. TLSv1_3)\n" \
    "                      V: TLSv1 TLSv1_1 TLSv1_2 TLSv1_3 SSLv3\n" \
    "                      MINIMUM_SUPPORTED MAXIMUM_SUPPORTED (or TLSv1.2 ...)\n" \
    "  --options LIST      option flags added to the defaults, comma-separated,\n" \
    "                      with or without OP_: NO_TLSv1 NO_TLSv1_1 NO_TLSv1_2\n" \
    "                      NO_TLSv1_3 NO_SSLv3 NO_SSLv2 ALL NO_TICKET\n" \
    "                      NO_RENEGOTIATION IGNORE_UNEXPECTED_EOF ...\n" \
    "                      (for versions prefer --min-version/--max-version: a\n" \
    "                      NO_* flag inside the range cuts a client's offer)\n"

#define NEGOTIATION_OPTIONS_HELP \
    "  --alpn LIST         ALPN protocols, comma-separated, preferred first\n" \
    "                      (h2,http/1.1)\n" \
    "  --ciphers LIST      TLS 1.0-1.2 suites, ':'-separated OpenSSL or IANA\n" \
    "                      names (ECDHE-RSA-AES128-GCM-SHA256,\n" \
    "                      TLS_RSA_WITH_AES_128_CBC_SHA); DEFAULT for the\n" \
    "                      default set, !NAME to remove one\n" \
    "  --ciphersuites LIST TLS 1.3 suites, ':'-separated: TLS_AES_128_GCM_SHA256\n" \
    "                      TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256\n" \
    "  --groups LIST       key-exchange groups, ':'-separated: x25519 P-256 P-384\n" \
    "                      x448 P-521 (secp256r1, prime256v1 ... spellings too)\n"

#define OUTPUT_OPTIONS_HELP \
    "  --json              also print one JSON object per connection to stdout:\n" \
    "                      {\"version\":..,\"cipher\":..,\"group\":..,\"alpn\":..} or\n" \
    "                      {\"error\":..,\"alert\":..,\"side\":..,\"reason\":..}\n" \
    "  --trace             print each handshake message, record, alert and key\n" \
    "                      change to stderr (\">>>\" sent, \"<<<\" received)\n" \
    "  --keylog FILE       append the session secrets to FILE (NSS key log\n" \
    "                      format, for Wireshark); without it, $SSLKEYLOGFILE\n" \
    "  -h, --help          this text\n"

static const char general_help[] =
    "tlsv -- a TLS 1.0-1.3 client, server and prober built on the tlsv library\n"
    "\n"
    "usage: tlsv COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  client HOST:PORT [options]  connect, say what was negotiated (or why not),\n"
    "                              then copy stdin <-> the connection\n"
    "  server --cert F --key F [options]\n"
    "                              listen on 127.0.0.1, serve TLS connections\n"
    "  probe HOST:PORT [--json]    which SSL/TLS versions a server accepts, what\n"
    "                              it picks, how it resists downgrades\n"
    "  demo [--json]               what each protocol constant, option and bound\n"
    "                              negotiates: real handshakes on loopback\n"
    "  version                     the versions of tlsv, its libcrypto and the\n"
    "                              protocols built in\n"
    "  help [COMMAND]              this text, or everything about one command\n"
    "\n"
    "'tlsv help COMMAND' or 'tlsv COMMAND --help' lists a command's options.\n"
    "\n"
    "examples:\n"
    "  tlsv demo                   the version-negotiation table (no network)\n"
    "  tlsv client example.com:443 connect with the defaults: TLS 1.3 or 1.2, the\n"
    "                              certificate verified against the system's CAs\n"
    "  tlsv client localhost:4433 --cafile ca.pem --max-version TLSv1_2\n"
    "  tlsv server --cert cert.pem --key key.pem --port 4433 --echo\n"
    "  tlsv probe example.com:443\n"
    "\n"
    "exit status: 0 success, 1 a TLS or network failure, 2 bad usage (with a\n"
    "message naming the bad argument).\n"
    "More: man tlsv (docs/tlsv.1), docs/versions.md, docs/api.md.\n";

static const char client_help[] =
    "usage: tlsv client HOST:PORT [options]\n"
    "\n"
    "Connects to HOST:PORT (IPv6 as [::1]:443), runs the TLS handshake and prints\n"
    "one line to stderr: the version, cipher suite, key-exchange group (and ALPN\n"
    "protocol) agreed -- or why the handshake failed: the reason, the alert, which\n"
    "side decided, and a sentence in terms of the configuration. Then it copies\n"
    "stdin to the connection and the connection to stdout until the server\n"
    "closes; at the end of stdin it sends close_notify and waits for the server's.\n"
    "\n"
    "By default (protocol TLS_CLIENT) it offers TLS 1.3 and 1.2, verifies the\n"
    "server's certificate against the system's CAs and checks it names HOST.\n"
    "\n"
    "versions:\n"
    "  --protocol P        the protocol constant (default TLS_CLIENT): TLS_CLIENT;\n"
    "                      TLS or SSLv23 (deprecated, either side); or exactly\n"
    "                      one version (deprecated): TLSv1 TLSv1_1 TLSv1_2, SSLv3\n"
    "                      (in a build with SSL 3.0) -- that refuses version\n"
    "                      bounds and ignores OP_NO_* flags\n"
    VERSION_OPTIONS_HELP
    "  --fallback-scsv     add TLS_FALLBACK_SCSV (RFC 7507): this connection is a\n"
    "                      retry at a lower version; a server that can do better\n"
    "                      refuses it\n"
    "\n"
    "certificates:\n"
    "  --cafile FILE       trust the CA certificates in FILE (PEM) instead of the\n"
    "                      system's\n"
    "  --verify MODE       none | optional | required (default required); none\n"
    "                      needs --no-check-hostname too\n"
    "  --no-check-hostname do not match the certificate against the server name\n"
    "  --servername NAME   send NAME as SNI and match the certificate against it\n"
    "                      (default: HOST)\n"
    "  --cert FILE         a client certificate chain (PEM, leaf first), for\n"
    "                      servers that ask for one\n"
    "  --key FILE          its private key (PEM; default: the key in --cert's file)\n"
    "\n"
    "negotiation:\n"
    NEGOTIATION_OPTIONS_HELP
    "\n"
    "output and connection:\n"
    "  --handshake-only    close (with close_notify) right after the handshake\n"
    "  --keyupdate-commands  a stdin line that is exactly \"k\" is not sent: it\n"
    "                      sends a TLS 1.3 KeyUpdate (new write keys); \"K\" also\n"
    "                      requests the server's, as in openssl s_client\n"
    "  --enable-pha        offer TLS 1.3 post-handshake authentication: the\n"
    "                      server may ask for --cert after the handshake, and\n"
    "                      gets it (or an empty answer without --cert), as\n"
    "                      openssl s_client -enable_pha\n"
    OUTPUT_OPTIONS_HELP
    "\n"
    "sessions (resumption: TLS 1.3 tickets; TLS 1.2 and below: tickets, or\n"
    "session IDs with --options NO_TICKET):\n"
    "  --sess-out FILE     save the session of the (last) connection to FILE\n"
    "                      (mode 0600: it holds a secret); TLS 1.3 tickets come\n"
    "                      after the handshake, so with --handshake-only the\n"
    "                      client first waits up to 2 s for one\n"
    "  --sess-in FILE      offer the session saved in FILE (a full handshake if\n"
    "                      the server does not take it)\n"
    "  --reconnect N       connect N more times (0..1000), each offering the\n"
    "                      latest session; every connection but the last closes\n"
    "                      after its handshake and ticket. Prints \"resumed\" or\n"
    "                      \"full\" per connection; with --json a last object\n"
    "                      {\"reconnects\":N,\"resumed\":M}\n"
    "\n"
    "examples:\n"
    "  tlsv client example.com:443 --handshake-only\n"
    "  tlsv client localhost:4433 --cafile ca.pem --reconnect 3 --handshake-only\n"
    "  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | tlsv client example.com:443\n"
    "  tlsv client localhost:4433 --cafile ca.pem --max-version TLSv1_2 --json\n"
    "  tlsv client 127.0.0.1:4433 --verify none --no-check-hostname --trace\n"
    "\n"
    "exit status: 0 the connection worked and closed, 1 a TLS or network failure,\n"
    "2 bad usage or a configuration the library refuses (with a message).\n";

static const char server_help[] =
    "usage: tlsv server --cert FILE --key FILE [--port N] [options]\n"
    "\n"
    "Listens on 127.0.0.1 (loopback only) at port N (default 0: any free port; it\n"
    "prints \"tlsv: listening on 127.0.0.1:PORT\") and serves TLS connections until\n"
    "interrupted. For each it prints one line to stderr: the peer, version, suite,\n"
    "group (and alpn=, sni=, client-cert=), or why the handshake failed.\n"
    "\n"
    "what to do with a connection (one of):\n"
    "  (default)           the client's data goes to stdout, stdin goes to the\n"
    "                      client; one connection at a time\n"
    "  --echo              send back whatever the client sends\n"
    "  --www               answer an HTTP request with a page describing the\n"
    "                      connection\n"
    "  --handshake-only    close (with close_notify) right after the handshake\n"
    "  --once              serve one connection, then exit: 0 if its handshake\n"
    "                      succeeded, 1 if not\n"
    "  With --echo, --www or --handshake-only (and no --once) connections are\n"
    "  served in parallel.\n"
    "  --keyupdate-commands  (default mode) a stdin line that is exactly \"k\" is\n"
    "                      not sent: it sends a TLS 1.3 KeyUpdate; \"K\" also\n"
    "                      requests the client's, as in openssl s_server\n"
    "  --enable-pha        (default mode) TLS 1.3 post-handshake authentication:\n"
    "                      with --verify optional|required a client that offers\n"
    "                      it is not asked for a certificate in the handshake; a\n"
    "                      stdin line that is exactly \"c\" asks for it (a\n"
    "                      CertificateRequest, as openssl s_server's \"c\"), and\n"
    "                      the answer is reported (\"client certificate after the\n"
    "                      handshake: verified, N certificates\" or \"no client\n"
    "                      certificate after the handshake\")\n"
    "\n"
    "certificate (required) and port:\n"
    "  --cert FILE         the certificate chain (PEM, leaf first): RSA, ECDSA\n"
    "                      P-256/P-384 or Ed25519\n"
    "  --key FILE          its private key (PEM)\n"
    "  --port N            0..65535 (default 0)\n"
    "\n"
    "versions:\n"
    "  --protocol P        the protocol constant (default TLS_SERVER): TLS_SERVER;\n"
    "                      TLS or SSLv23 (deprecated, either side); or exactly\n"
    "                      one version (deprecated): TLSv1 TLSv1_1 TLSv1_2, SSLv3\n"
    "                      (in a build with SSL 3.0) -- that refuses version\n"
    "                      bounds and ignores OP_NO_* flags\n"
    VERSION_OPTIONS_HELP
    "\n"
    "client certificates:\n"
    "  --verify MODE       none (default) | optional | required: whether to ask\n"
    "                      clients for a certificate, and whether they must send\n"
    "  --cafile FILE       the CA certificates (PEM) client certificates must\n"
    "                      chain to\n"
    "\n"
    "negotiation:\n"
    NEGOTIATION_OPTIONS_HELP
    "  --num-tickets N     TLS 1.3 session tickets sent after each handshake,\n"
    "                      0..16 (default 2; 0: no TLS 1.3 resumption). A\n"
    "                      resumed connection's line says \"resumed\"\n"
    "  --sess-cache N      TLS 1.2 and below: sessions kept for resumption by\n"
    "                      session ID, 0..1048576 (default 20480; 0: none; the\n"
    "                      oldest goes first). Clients offering tickets get a\n"
    "                      ticket instead (--options NO_TICKET: never)\n"
    "  --sess-timeout S    seconds a cached session may be resumed, 1..86400\n"
    "                      (default 7200)\n"
    "\n"
    "output:\n"
    OUTPUT_OPTIONS_HELP
    "\n"
    "examples:\n"
    "  tlsv server --cert cert.pem --key key.pem --port 4433 --echo\n"
    "  tlsv server --cert cert.pem --key key.pem --min-version TLSv1 --www\n"
    "  tlsv server --cert cert.pem --key key.pem --once --json --trace\n"
    "\n"
    "exit status: with --once 0 if the handshake succeeded, else 1; 1 if the port\n"
    "cannot be bound; 2 bad usage or a configuration the library refuses (with a\n"
    "message).\n";

static const char probe_help[] =
    "usage: tlsv probe HOST:PORT [--json] [--servername NAME]\n"
    "\n"
    "Asks a server, one handshake at a time, which SSL/TLS versions it accepts\n"
    "(SSLv2 .. TLSv1.3) and which cipher suite and group it picks for each; then\n"
    "checks its downgrade protections: the downgrade sentinel in\n"
    "ServerHello.random (RFC 8446 4.1.3), its answer to TLS_FALLBACK_SCSV (RFC\n"
    "7507), and its version tolerance (unknown versions and GREASE in the\n"
    "ClientHello, RFC 8701). Prints a table and a verdict per version and\n"
    "overall. Certificates are not verified: the probe is about versions.\n"
    "\n"
    "options:\n"
    "  --json              one JSON object on stdout instead of the table\n"
    "  --servername NAME   the SNI to send (default: HOST, unless an IP address)\n"
    "  -h, --help          this text\n"
    "\n"
    "examples:\n"
    "  tlsv probe example.com:443\n"
    "  tlsv probe 127.0.0.1:4433 --servername localhost --json\n"
    "\n"
    "exit status: 0 the server accepts some SSL/TLS version (whatever the\n"
    "verdict), 1 it cannot be reached or accepts none, 2 bad usage.\n";

static const char demo_help[] =
    "usage: tlsv demo [--json] [--no-color]\n"
    "\n"
    "Shows what each protocol constant, OP_NO_* option and version bound\n"
    "negotiates, with real handshakes: for every row a tlsv server runs\n"
    "in-process on 127.0.0.1 with a throw-away generated certificate, and a tlsv\n"
    "client connects to it. A row gives the two configurations, what the client\n"
    "offers, and the result: the version, suite and group, or the failure --\n"
    "which side decided, the reason, the alert and the explanation. Every row is\n"
    "also computed by the library's version policy alone; a row where the\n"
    "handshake disagrees says MISMATCH. Nothing leaves the machine.\n"
    "docs/versions.md walks through the table.\n"
    "\n"
    "options:\n"
    "  --json              one JSON object per row instead of the table\n"
    "  --no-color          no colours (they are off anyway when NO_COLOR is set\n"
    "                      or stdout is not a terminal)\n"
    "  -h, --help          this text\n"
    "\n"
    "exit status: 0 every row agrees with the version policy, 1 a row does not\n"
    "(a library bug) or could not run, 2 bad usage.\n";

static const char version_help[] =
    "usage: tlsv version\n"
    "\n"
    "Prints the versions of the program, of the tlsv library and of the\n"
    "libcrypto it runs on, the protocol versions compiled in (SSL 3.0 only in a\n"
    "build configured with -DTLSV_ENABLE_SSL3=ON) and those a default context\n"
    "enables.\n";

static const char help_help[] =
    "usage: tlsv help [COMMAND]\n"
    "\n"
    "Without COMMAND: the commands of tlsv. With one of client, server, probe,\n"
    "demo, version: everything about that command (as 'tlsv COMMAND --help').\n";

static const struct {
    const char *name;
    const char *synopsis; /* without "usage: " */
    const char *text;
} commands[] = {
    {"client", "tlsv client HOST:PORT [options]", client_help},
    {"server", "tlsv server --cert FILE --key FILE [--port N] [options]", server_help},
    {"probe", "tlsv probe HOST:PORT [--json] [--servername NAME]", probe_help},
    {"demo", "tlsv demo [--json] [--no-color]", demo_help},
    {"version", "tlsv version", version_help},
    {"help", "tlsv help [COMMAND]", help_help},
};

static int find_command(const char *cmd)
{
    for (size_t i = 0; cmd && i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return (int)i;
    return -1;
}

int tool_help(const char *cmd, FILE *out)
{
    if (!cmd) {
        fputs(general_help, out);
        return 0;
    }
    int i = find_command(cmd);
    if (i < 0)
        return tool_usage_error("no help for '%s': the commands are client, server, probe, "
                                "demo, version and help", cmd);
    fputs(commands[i].text, out);
    return 0;
}

const char *tool_synopsis(const char *cmd)
{
    int i = find_command(cmd);
    return i < 0 ? NULL : commands[i].synopsis;
}
