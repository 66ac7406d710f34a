/*
 * shim.c -- tlsv's shim for BoringSSL's TLS test suite ("BoGo").
 *
 * The runner (BoringSSL ssl/test/runner) listens on a loopback port and
 * starts this program once per test with "-port N" and the test's flags
 * (shim_flags.h). We connect to it as the TCP client -- IPv6 loopback first,
 * then 127.0.0.1 -- even when we are the TLS server, run the handshake, then
 * the runner's echo protocol: send "hello" first with -shim-writes-first,
 * then read and answer every byte XOR 0xff until the runner closes. With
 * -resume-count N that repeats on N more connections, offering (client) or
 * accepting (server) the session of the previous one.
 *
 * Exit status: 0 success (nothing on stderr), 89 a flag or parameter we do
 * not implement, 1 failure with the reason on stderr as ":REASON_NAME:"
 * (tlsv's reason names; tests/bogo/config.json maps BoringSSL's expected
 * error names onto them).
 *
 * Only the public API (include/tlsv.h) is used.
 */
#define TLSV_SILENCE_DEPRECATION 1
#include "shim_flags.h"

#include <tlsv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* BoringSSL's shim enables every TLS 1.0-1.2 suite it has by default; these
 * are all of tlsv's (a tlsv server otherwise uses RSA key exchange only when
 * named). */
static const char all_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:"
    "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:"
    "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA";

static int unimplemented(const char *what)
{
    /* The runner does not show a shim's output for an unimplemented test;
     * TLSV_BOGO_UNIMPLEMENTED_LOG names a file to collect what was missing. */
    const char *log = getenv("TLSV_BOGO_UNIMPLEMENTED_LOG");
    if (log) {
        FILE *f = fopen(log, "a");
        if (f) {
            fprintf(f, "%s\n", what);
            fclose(f);
        }
    }
    fprintf(stderr, "unimplemented: %s\n", what);
    return BOGO_EXIT_UNIMPLEMENTED;
}

static void print_error(const tlsv_error *e)
{
    if (!e || e->reason == TLSV_R_OK) {
        fprintf(stderr, "failed without a tlsv error\n");
        return;
    }
    const char *alert = e->alert >= 0 ? tlsv_alert_name(e->alert) : NULL;
    fprintf(stderr, ":%s: (alert %s, %s) %s\n", tlsv_reason_name(e->reason),
            alert ? alert : "none",
            e->side == TLSV_SIDE_REMOTE ? "remote" : "local", e->message);
}

static int connect_runner(int port)
{
    int families[2] = {AF_INET6, AF_INET};
    for (int i = 0; i < 2; i++) {
        int s = socket(families[i], SOCK_STREAM, 0);
        if (s < 0)
            continue;
        int one = 1;
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct sockaddr_storage ss;
        socklen_t len;
        memset(&ss, 0, sizeof ss);
        if (families[i] == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            a->sin6_family = AF_INET6;
            a->sin6_port = htons((uint16_t)port);
            a->sin6_addr = in6addr_loopback;
            len = sizeof *a;
        } else {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            a->sin_family = AF_INET;
            a->sin_port = htons((uint16_t)port);
            a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            len = sizeof *a;
        }
        if (connect(s, (struct sockaddr *)&ss, len) == 0)
            return s;
        close(s);
    }
    fprintf(stderr, "connect to port %d: %s\n", port, strerror(errno));
    return -1;
}

/* Half-closes and drains the socket before closing it, as BoringSSL's shim
 * does, so the runner never writes into a reset connection. */
static void close_runner(int s)
{
    char buf[1024];
    shutdown(s, SHUT_WR);
    while (recv(s, buf, sizeof buf, 0) > 0) {
    }
    close(s);
}

/* Applies one connection's configuration to the context. The context lives
 * across connections (a server's ticket keys must), so every setting is
 * written each time, defaults included. */
static int configure_ctx(tlsv_ctx *ctx, const bogo_config *c, tlsv_options base_options)
{
    tlsv_options opts = base_options;
    if (c->no_tls1)
        opts |= TLSV_OP_NO_TLSv1;
    if (c->no_tls11)
        opts |= TLSV_OP_NO_TLSv1_1;
    if (c->no_tls12)
        opts |= TLSV_OP_NO_TLSv1_2;
    if (c->no_tls13)
        opts |= TLSV_OP_NO_TLSv1_3;
    if (c->no_ticket)
        opts |= TLSV_OP_NO_TICKET;
    if (c->server_preference)
        opts |= TLSV_OP_CIPHER_SERVER_PREFERENCE;
    tlsv_ctx_set_options(ctx, opts);

    /* BoringSSL's defaults: TLS 1.0 up to TLS 1.3. */
    int min = c->min_version ? c->min_version : TLSV_VERSION_TLSv1;
    int max = c->max_version ? c->max_version : TLSV_VERSION_MAXIMUM_SUPPORTED;
    if (tlsv_ctx_set_minimum_version(ctx, TLSV_VERSION_MINIMUM_SUPPORTED) < 0 ||
        tlsv_ctx_set_maximum_version(ctx, TLSV_VERSION_MAXIMUM_SUPPORTED) < 0)
        return -1;
    if (tlsv_ctx_set_minimum_version(ctx, min) < 0 || tlsv_ctx_set_maximum_version(ctx, max) < 0) {
        char what[64];
        snprintf(what, sizeof what, "version bounds %#x..%#x", min, max);
        return unimplemented(what);
    }

    if (tlsv_ctx_set_ciphers(ctx, c->cipher ? c->cipher : all_ciphers) < 0) {
        char what[300];
        snprintf(what, sizeof what, "cipher string %s", c->cipher ? c->cipher : "(default)");
        return unimplemented(what);
    }

    char groups[128] = "x25519:P-256:P-384";
    if (c->n_curves) {
        groups[0] = '\0';
        for (size_t i = 0; i < c->n_curves; i++) {
            const char *name = bogo_curve_name(c->curves[i]);
            if (!name) {
                char what[64];
                snprintf(what, sizeof what, "curve %d", c->curves[i]);
                return unimplemented(what);
            }
            if (i)
                strcat(groups, ":");
            strcat(groups, name);
        }
    }
    if (tlsv_ctx_set_groups(ctx, groups) < 0)
        return unimplemented("groups");

    const char *names[32];
    char store[1024];
    int n = 0;
    if (c->is_server && c->select_alpn) {
        names[0] = c->select_alpn;
        n = 1;
    } else if (!c->is_server && c->advertise_alpn) {
        n = bogo_parse_alpn_wire(c->advertise_alpn, store, sizeof store, names, 32);
        if (n < 0)
            return unimplemented("-advertise-alpn value");
    }
    if (tlsv_ctx_set_alpn_protocols(ctx, n ? names : NULL, (size_t)n) < 0)
        return unimplemented("ALPN list");

    /* Peer verification. BoringSSL's shim verifies with a callback that
     * accepts every certificate, or, with -verify-fail, refuses every one.
     * tlsv verifies against a trust store: with none loaded, every
     * certificate fails, which is -verify-fail; accepting every certificate
     * is not verifying at all (CERT_NONE), which a client can do and a
     * server asking for a certificate cannot (tlsv's server verifies what
     * it asks for, and the runner's certificates are self-signed and
     * expired). A client without -verify-peer verifies with SSL_VERIFY_NONE:
     * a failing callback is recorded, not fatal -- CERT_NONE too. */
    int mode = TLSV_CERT_NONE;
    if (c->is_server) {
        if (c->verify_peer || c->require_any_client_certificate) {
            if (!c->verify_fail)
                return unimplemented("-verify-peer / -require-any-client-certificate on a server "
                                     "without -verify-fail (accept any client certificate)");
            mode = c->require_any_client_certificate && !c->verify_peer ? TLSV_CERT_REQUIRED
                                                                          : TLSV_CERT_OPTIONAL;
        }
    } else if (c->verify_peer && c->verify_fail) {
        mode = TLSV_CERT_REQUIRED;
    }
    if (tlsv_ctx_set_verify_mode(ctx, mode) < 0) {
        print_error(tlsv_ctx_last_error(ctx));
        return 1;
    }
    return 0;
}

/* Decodes the PEM certificates of a file into DER, back to back in
 * der[] with their lengths in lens[]. Returns the count, -1 on failure. */
static int read_pem_certs(const char *path, unsigned char *der, size_t cap, size_t *lens,
                          int max)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    int n = 0, in = 0;
    size_t used = 0;
    unsigned acc = 0, bits = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "-----BEGIN CERTIFICATE-----", 27) == 0) {
            if (n >= max)
                break;
            in = 1;
            lens[n] = 0;
            acc = bits = 0;
            continue;
        }
        if (strncmp(line, "-----END CERTIFICATE-----", 25) == 0) {
            in = 0;
            n++;
            continue;
        }
        if (!in)
            continue;
        for (const char *p = line; *p; p++) {
            static const char b64[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            const char *q = *p ? strchr(b64, *p) : NULL;
            if (!q)
                continue; /* newline, '=' padding */
            acc = (acc << 6) | (unsigned)(q - b64);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                if (used >= cap) {
                    fclose(f);
                    return -1;
                }
                der[used++] = (unsigned char)(acc >> bits);
                lens[n]++;
            }
        }
    }
    fclose(f);
    return in ? -1 : n;
}

/* -expect-peer-cert-file: the peer's chain is exactly the file's. */
static int check_peer_certs(tlsv_conn *conn, const char *path)
{
    static unsigned char der[65536];
    size_t lens[16];
    int n = read_pem_certs(path, der, sizeof der, lens, 16);
    if (n < 0) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    if (tlsv_conn_peer_cert_count(conn) != (size_t)n) {
        fprintf(stderr, "the peer sent %zu certificates, %s holds %d\n",
                tlsv_conn_peer_cert_count(conn), path, n);
        return -1;
    }
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        size_t len = 0;
        const uint8_t *got = tlsv_conn_peer_cert_der(conn, (size_t)i, &len);
        if (!got || len != lens[i] || memcmp(got, der + off, len) != 0) {
            fprintf(stderr, "peer certificate %d differs from %s\n", i, path);
            return -1;
        }
        off += lens[i];
    }
    return 0;
}

static int check_handshake(tlsv_conn *conn, const bogo_config *c, int is_resume)
{
    int expect_resume = is_resume && !c->expect_session_miss;
    if (!!tlsv_conn_session_reused(conn) != expect_resume) {
        fprintf(stderr, "session unexpectedly was%s reused\n",
                tlsv_conn_session_reused(conn) ? "" : " not");
        return -1;
    }
    if (c->expect_version && tlsv_conn_version_number(conn) != c->expect_version) {
        fprintf(stderr, "negotiated version %#x, expected %#x\n", tlsv_conn_version_number(conn),
                c->expect_version);
        return -1;
    }
    if (c->expect_alpn) {
        const char *got = tlsv_conn_alpn_selected(conn);
        if (!got || strcmp(got, c->expect_alpn) != 0) {
            fprintf(stderr, "negotiated ALPN '%s', expected '%s'\n", got ? got : "",
                    c->expect_alpn);
            return -1;
        }
    }
    if (c->expect_server_name) {
        const char *got = tlsv_conn_server_name(conn);
        if (!got || strcmp(got, c->expect_server_name) != 0) {
            fprintf(stderr, "server name '%s', expected '%s'\n", got ? got : "",
                    c->expect_server_name);
            return -1;
        }
    }
    if (c->expect_curve_id) {
        int got = bogo_curve_id(tlsv_conn_group(conn));
        if (got != c->expect_curve_id) {
            fprintf(stderr, "group %d, expected %d\n", got, c->expect_curve_id);
            return -1;
        }
    }
    if (c->expect_peer_cert_file && check_peer_certs(conn, c->expect_peer_cert_file) < 0)
        return -1;
    return 0;
}

/* -async: the socket is non-blocking and every call that returns
 * TLSV_WANT_READ / TLSV_WANT_WRITE is made again once poll() says the
 * socket is ready -- tlsv's non-blocking path (BoringSSL's shim injects
 * "would block" into its own BIO instead). Without -async the socket blocks
 * and no call returns TLSV_WANT_*. */
static int current_sock = -1; /* one connection at a time */

static int again(long rc)
{
    if (rc != TLSV_WANT_READ && rc != TLSV_WANT_WRITE)
        return 0;
    struct pollfd p = {current_sock, rc == TLSV_WANT_WRITE ? POLLOUT : POLLIN, 0};
    return poll(&p, 1, 15000) == 1;
}

static int write_all(tlsv_conn *conn, const void *buf, size_t len)
{
    long r;
    do
        r = tlsv_conn_write(conn, buf, len);
    while (again(r));
    if (r < 0 || (size_t)r != len) {
        print_error(tlsv_conn_last_error(conn));
        return -1;
    }
    return 0;
}

static int is_eof(const tlsv_conn *conn)
{
    const tlsv_error *e = tlsv_conn_last_error(conn);
    return e && e->reason == TLSV_R_UNEXPECTED_EOF_WHILE_READING;
}

/* One connection: handshake, checks, the echo exchange, shutdown.
 * *session is the session to offer (client) and receives the new one. */
static int do_connection(tlsv_ctx *ctx, const bogo_config *c, int is_resume,
                         tlsv_session **session)
{
    tlsv_error err;
    tlsv_conn *conn = tlsv_conn_new(ctx, c->is_server ? TLSV_ROLE_SERVER : TLSV_ROLE_CLIENT,
                                    c->is_server ? NULL : c->host_name, &err);
    if (!conn) {
        print_error(&err);
        return -1;
    }
    int ok = -1, sock = -1;
    tlsv_session *offered = NULL;
    if (!c->is_server && *session) {
        offered = *session;
        if (tlsv_conn_set_session(conn, offered) < 0) {
            print_error(tlsv_conn_last_error(conn));
            goto out;
        }
    }
    if (c->fallback_scsv && tlsv_conn_set_fallback_scsv(conn, 1) < 0) {
        print_error(tlsv_conn_last_error(conn));
        goto out;
    }
    sock = connect_runner(c->port);
    if (sock < 0 || tlsv_conn_set_fd(conn, sock) < 0)
        goto out;
    current_sock = sock;
    if (c->async && fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK) < 0)
        goto out;

    if (!c->implicit_handshake) {
        long r;
        do
            r = tlsv_conn_handshake(conn);
        while (again(r));
        if (r != 0) {
            print_error(tlsv_conn_last_error(conn));
            goto out;
        }
        if (check_handshake(conn, c, is_resume) < 0)
            goto out;
        if (c->handshake_twice || c->no_op_extra_handshake) {
            do
                r = tlsv_conn_handshake(conn);
            while (again(r));
        }
        if (r != 0) {
            fprintf(stderr, "a second handshake call was not a no-op\n");
            print_error(tlsv_conn_last_error(conn));
            goto out;
        }
    }

    if (c->write_different_record_sizes) {
        static const size_t sizes[] = {0, 1, 255, 256, 257, 16383, 16384, 16385, 32767, 32768, 32769};
        static unsigned char buf[32769];
        memset(buf, 0x42, sizeof buf);
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            if (write_all(conn, buf, sizes[i]) < 0)
                goto out;
    } else {
        if (c->shim_writes_first && write_all(conn, "hello", 5) < 0)
            goto out;
        int checked = !c->implicit_handshake;
        if (!c->shim_shuts_down) {
            size_t size = c->read_size > 0 ? (size_t)c->read_size : 512;
            unsigned char *buf = malloc(size);
            if (!buf)
                goto out;
            for (;;) {
                long n;
                do
                    n = tlsv_conn_read(conn, buf, size);
                while (again(n));
                if (n == 0)
                    break; /* the runner's close_notify */
                if (n < 0 && is_eof(conn) && !c->check_close_notify)
                    break; /* an unclean end is fine unless close_notify is checked */
                if (n < 0) {
                    print_error(tlsv_conn_last_error(conn));
                    free(buf);
                    goto out;
                }
                if (!checked) {
                    if (check_handshake(conn, c, is_resume) < 0) {
                        free(buf);
                        goto out;
                    }
                    checked = 1;
                }
                if (c->key_update && tlsv_conn_key_update(conn, 0) < 0) {
                    print_error(tlsv_conn_last_error(conn));
                    free(buf);
                    goto out;
                }
                for (long i = 0; i < n; i++)
                    buf[i] ^= 0xff;
                if (write_all(conn, buf, (size_t)n) < 0) {
                    free(buf);
                    goto out;
                }
            }
            free(buf);
        }
    }

    if (!c->is_server) {
        tlsv_session *s = tlsv_conn_get_session(conn);
        int got_new = s && s != offered;
        if (tlsv_conn_version_number(conn) >= TLSV_VERSION_TLSv1_3) {
            int expect_new = !c->expect_no_session && !c->shim_shuts_down;
            if (got_new != expect_new) {
                fprintf(stderr, "new session was%s cached, but we expected the opposite\n",
                        got_new ? "" : " not");
                tlsv_session_free(s);
                goto out;
            }
        }
        tlsv_session_free(*session);
        *session = s;
    }

    /* BoringSSL's shim shuts down quietly (no close_notify) unless
     * -check-close-notify; with -shim-shuts-down it then waits for the
     * runner's close_notify. */
    if (c->check_close_notify) {
        long r;
        do
            r = tlsv_conn_shutdown(conn);
        while (again(r));
        if (r < 0) {
            print_error(tlsv_conn_last_error(conn));
            goto out;
        }
        if (c->shim_shuts_down) {
            unsigned char buf[512];
            long n;
            do
                n = tlsv_conn_read(conn, buf, sizeof buf);
            while (n > 0 || again(n));
            if (n < 0) {
                print_error(tlsv_conn_last_error(conn));
                goto out;
            }
        }
    }
    ok = 0;
out:
    tlsv_conn_free(conn);
    if (sock >= 0) {
        if (c->async)
            fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) & ~O_NONBLOCK);
        close_runner(sock);
    }
    return ok;
}

int main(int argc, char **argv)
{
    bogo_config initial, resume, retry;
    char msg[256];
    signal(SIGPIPE, SIG_IGN);

    int r = bogo_parse_flags(argc, argv, &initial, &resume, &retry, msg, sizeof msg);
    if (r == BOGO_EXIT_UNIMPLEMENTED)
        return unimplemented(msg);
    if (r != 0) {
        fprintf(stderr, "%s\n", msg);
        return 1;
    }
    if (initial.is_handshaker_supported) {
        printf("No\n");
        return 0;
    }
    /* A verification outcome that changes between connections (e.g.
     * -on-resume-verify-fail): BoringSSL resumes without verifying again;
     * tlsv offers a session made without verification only to a context
     * that does not verify either (tlsv_conn_set_session). */
    if (initial.resume_count > 0 &&
        (initial.verify_fail != resume.verify_fail || initial.verify_peer != resume.verify_peer))
        return unimplemented("verification that differs between the connections of a test");

    tlsv_error err;
    tlsv_ctx *ctx = tlsv_ctx_new(initial.is_server ? TLSV_PROTOCOL_TLS_SERVER
                                                   : TLSV_PROTOCOL_TLS_CLIENT, &err);
    if (!ctx) {
        print_error(&err);
        return 1;
    }
    if (!initial.is_server) {
        /* Like BoringSSL's shim without -verify-peer: no verification. */
        tlsv_ctx_set_check_hostname(ctx, 0);
        tlsv_ctx_set_verify_mode(ctx, TLSV_CERT_NONE);
    }
    /* BoringSSL's client connects to servers without RFC 5746 support (it
     * never renegotiates); tlsv's default refuses them, as OpenSSL 3 does. */
    tlsv_options base = tlsv_ctx_get_options(ctx) | TLSV_OP_LEGACY_SERVER_CONNECT;
    if (initial.cert_file || initial.key_file) {
        if (!initial.cert_file || !initial.key_file)
            return unimplemented("a key without a certificate or the reverse");
        if (tlsv_ctx_load_cert_chain(ctx, initial.cert_file, initial.key_file) < 0) {
            print_error(tlsv_ctx_last_error(ctx));
            tlsv_ctx_free(ctx);
            return 1;
        }
    }

    tlsv_session *session = NULL;
    int status = 0;
    for (int i = 0; i <= initial.resume_count; i++) {
        const bogo_config *c = i ? &resume : &initial;
        r = configure_ctx(ctx, c, base);
        if (r != 0) {
            status = r;
            break;
        }
        if (i && !c->is_server && !session) {
            fprintf(stderr, "No session to offer.\n");
            status = 1;
            break;
        }
        if (do_connection(ctx, c, i > 0, &session) < 0) {
            fprintf(stderr, "Connection %d failed.\n", i + 1);
            status = 1;
            break;
        }
    }
    tlsv_session_free(session);
    tlsv_ctx_free(ctx);
    tlsv_thread_release_buffers();
    return status;
}
