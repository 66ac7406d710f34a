/*
 * demo.c -- `tlsv demo`: what each protocol constant, option and version
 * bound negotiates, shown with real handshakes.
 *
 * Self-contained: for every row of the table below, a tlsv server runs in a
 * thread of this process on 127.0.0.1 (a port the kernel picks), with a
 * context built from the row's server description and a throw-away
 * self-signed certificate generated in memory
 * (tlsv_ctx_use_generated_certificate); a tlsv client, with a context
 * built from the row's client description, connects to it and
 * handshakes. Both sides run in the library's file-descriptor mode on
 * non-blocking sockets (net.c), against a deadline, so nothing can hang;
 * after a handshake they exchange "ping" / "pong" and close with
 * close_notify. The row then shows the negotiated version, suite and
 * group -- or the failure: which side decided (the side whose error is
 * its own, side LOCAL), the reason, the alert and that side's explanation.
 * The client does not verify the certificate (CERT_NONE, the table's
 * footer says so). The downgrade sentinel is read off the wire: the demo
 * peeks at the ServerHello before the client's library reads it.
 *
 * Every row is also computed by the library's version policy alone
 * (tlsv_preview_negotiation): that gives the "client offers" column, and
 * the real handshake must agree with it -- same version and downgrade
 * sentinel, or the same side failing with the same reason and alert. A
 * failure the version policy does not cover (no shared suite or group)
 * may follow an agreement on the version. A disagreement is a library bug:
 * the row says MISMATCH and the program exits 1 (so does a row the demo
 * could not run: DEMO ERROR).
 *
 * Output: a table, coloured when stdout is a terminal (not with
 * --no-color or NO_COLOR set); --json: one object per row.
 * Only the public API (tlsv.h) is used.
 */
#define TLSV_SILENCE_DEPRECATION
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "tool.h"

/* Per-operation deadline (connect, handshake, data, close) of one row;
 * a row normally takes a few milliseconds. */
#define ROW_DEADLINE_MS 3000

/* The name the client sends (SNI) and the generated certificate carries. */
#define DEMO_HOST "localhost"

/* One row: a client description, a server description (as `tlsv client /
 * server` options spell them: protocol, min=, max=, OP_* flags; plus, here,
 * ciphers= ciphersuites= groups=), whether the client adds
 * TLS_FALLBACK_SCSV, and the lesson. A row with client NULL starts a
 * section, titled by lesson. */
struct row {
    const char *client;
    const char *server;
    int fallback_scsv;
    const char *lesson;
};

#define SECTION(title) {NULL, NULL, 0, title}

static const struct row rows[] = {
    SECTION("defaults and client bounds"),
    {"TLS_CLIENT", "TLS_SERVER", 0, "defaults: TLS 1.2 and 1.3 on both sides; the highest wins"},
    {"TLS_CLIENT max=TLSv1_2", "TLS_SERVER", 0,
     "capped client: TLS 1.2"},
    {"TLS_CLIENT OP_NO_TLSv1_3", "TLS_SERVER", 0, "OP_NO_TLSv1_3 works like max=TLSv1_2"},
    {"TLS_CLIENT min=TLSv1_3", "TLS_SERVER", 0, "TLS 1.3 only"},
    {"TLS_CLIENT min=TLSv1", "TLS_SERVER", 0, "a lower client minimum changes only the offer"},
    {"TLS_CLIENT min=TLSv1 OP_NO_TLSv1_1", "TLS_SERVER", 0,
     "a hole: the client offers only its lowest run of versions (TLSv1)"},
    {"TLS_CLIENT max=TLSv1_1", "TLS_SERVER", 0,
     "max below the default minimum (TLSv1_2): nothing left to offer"},
    {"TLS_CLIENT min=TLSv1_3 max=TLSv1_2", "TLS_SERVER", 0, "inverted bounds"},

    SECTION("TLS 1.0 and 1.1: off by default, working when enabled explicitly"),
    {"TLS_CLIENT min=TLSv1 max=TLSv1_1", "TLS_SERVER min=TLSv1", 0,
     "both sides enable them: TLS 1.1"},
    {"TLSv1", "TLSv1", 0, "explicitly enabled TLS 1.0 works (there is no hidden security level)"},
    {"TLSv1_1", "TLS_SERVER min=TLSv1", 0, "fixed TLS 1.1 client, server minimum lowered"},
    {"TLS_CLIENT min=TLSv1", "TLSv1", 0, "client minimum lowered: a TLS 1.0-only server works"},
    {"TLSv1", "TLS_SERVER", 0, "fixed TLS 1.0 client vs the server's default minimum"},
    {"TLS_CLIENT", "TLSv1", 0, "fixed TLS 1.0 server vs the client's default minimum"},

    SECTION("version-specific (deprecated) protocol constants"),
    {"TLS", "TLS", 0, "deprecated PROTOCOL_TLS on both sides: like TLS_CLIENT / TLS_SERVER"},
    {"TLSv1_2", "TLS_SERVER", 0,
     "fixed TLS 1.2 client: it cannot do better, so it ignores the sentinel"},
    {"TLSv1_2 OP_NO_TLSv1_2", "TLS_SERVER", 0, "OP_NO_* flags are ignored on a fixed context"},
    {"TLS_CLIENT", "TLSv1_2", 0, "server pinned to TLS 1.2 by its protocol"},
    {"TLS_CLIENT min=TLSv1_3", "TLSv1_2", 0, "TLS 1.3-only client vs a TLS 1.2-only server"},
    {"SSLv3", "TLS_SERVER", 0,
     "SSL 3.0: not compiled in by default, and refused by default servers anyway"},

    SECTION("server variants: capped, pinned, misconfigured"),
    {"TLS_CLIENT", "TLS_SERVER max=TLSv1_2", 0,
     "capped server: TLS 1.2, no sentinel (it really has nothing higher)"},
    {"TLS_CLIENT", "TLS_SERVER OP_NO_TLSv1_3", 0, "OP_NO_TLSv1_3 on the server: the same"},
    {"TLS_CLIENT", "TLS_SERVER min=TLSv1_3", 0, "TLS 1.3-only server"},
    {"TLS_CLIENT max=TLSv1_2", "TLS_SERVER min=TLSv1_3", 0,
     "TLS 1.2-capped client vs a TLS 1.3-only server"},
    {"TLS_CLIENT", "TLS_SERVER min=TLSv1 max=TLSv1_1", 0, "no version in common"},
    {"TLS_CLIENT", "TLS_SERVER min=TLSv1_3 max=TLSv1_2", 0,
     "a server with inverted bounds refuses every client"},

    SECTION("downgrade protection"),
    {"TLS_CLIENT max=TLSv1_2", "TLS_SERVER", 1,
     "a retry with TLS_FALLBACK_SCSV at a TLS 1.3 server is refused (RFC 7507)"},
    {"TLS_CLIENT max=TLSv1_2", "TLS_SERVER max=TLSv1_2", 1,
     "SCSV at a server capped at 1.2: 1.2 is its best, so no fallback happened"},
    {"TLS_CLIENT min=TLSv1 max=TLSv1_1", "TLS_SERVER min=TLSv1", 1,
     "SCSV with TLS 1.1 at a server that can do better"},

    SECTION("cipher suites and groups per version (ECDSA P-256 certificate)"),
    {"TLS_CLIENT ciphersuites=TLS_CHACHA20_POLY1305_SHA256", "TLS_SERVER", 0,
     "TLS 1.3 suites are chosen with ciphersuites="},
    {"TLS_CLIENT max=TLSv1_2", "TLS_SERVER ciphers=ECDHE-ECDSA-CHACHA20-POLY1305", 0,
     "TLS 1.2 suites with ciphers= (server preference)"},
    {"TLS_CLIENT groups=P-384", "TLS_SERVER", 0, "the key exchange group follows the client"},
    {"TLSv1_1", "TLSv1_1", 0, "TLS 1.0 and 1.1 have CBC suites only"},
    {"TLS_CLIENT max=TLSv1_2", "TLS_SERVER ciphers=ECDHE-RSA-AES128-GCM-SHA256", 0,
     "versions agree, but an RSA suite needs an RSA certificate"},
    {"TLS_CLIENT groups=P-384", "TLS_SERVER groups=x25519", 0,
     "versions agree, but no key exchange group in common"},
};

/* ---------------------------------------------------------------------- */
/* Contexts from the row descriptions                                     */
/* ---------------------------------------------------------------------- */

/* tool_ctx_from_spec() plus the demo's ciphers= / ciphersuites= / groups=
 * words. NULL on failure, with err filled in. */
static tlsv_ctx *demo_ctx(const char *spec, tlsv_error *err)
{
    char base[256] = "", extra[4][128];
    size_t n_extra = 0, used = 0;
    char *copy = strdup(spec);
    if (!copy) {
        net_local_error(err, TLSV_R_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if ((strncmp(tok, "ciphers=", 8) == 0 || strncmp(tok, "ciphersuites=", 13) == 0 ||
             strncmp(tok, "groups=", 7) == 0) &&
            n_extra < sizeof extra / sizeof extra[0]) {
            snprintf(extra[n_extra++], sizeof extra[0], "%s", tok);
        } else {
            int w = snprintf(base + used, sizeof base - used, "%s%s", used ? " " : "", tok);
            if (w > 0 && (size_t)w < sizeof base - used)
                used += (size_t)w;
        }
    }
    free(copy);
    tlsv_ctx *ctx = tool_ctx_from_spec(base, err);
    for (size_t i = 0; ctx && i < n_extra; i++) {
        char *eq = strchr(extra[i], '=');
        const char *value = eq + 1;
        int rc = strncmp(extra[i], "ciphers=", 8) == 0        ? tlsv_ctx_set_ciphers(ctx, value)
                 : strncmp(extra[i], "ciphersuites=", 13) == 0 ? tlsv_ctx_set_ciphersuites(ctx, value)
                                                              : tlsv_ctx_set_groups(ctx, value);
        if (rc != 0) {
            memcpy(err, tlsv_ctx_last_error(ctx), sizeof *err);
            tlsv_ctx_free(ctx);
            ctx = NULL;
        }
    }
    return ctx;
}

/* ---------------------------------------------------------------------- */
/* One side of a real connection                                          */
/* ---------------------------------------------------------------------- */

struct side {
    int done;              /* the handshake completed */
    int data_ok;           /* ping / pong and close_notify went through */
    int version;           /* tlsv_conn_version_number */
    char cipher[64];
    char group[32];
    tlsv_error err;        /* the failure, when !done */
};

static void side_established(struct side *s, const tlsv_conn *c)
{
    const char *cipher = tlsv_conn_cipher(c), *group = tlsv_conn_group(c);
    s->done = 1;
    s->version = tlsv_conn_version_number(c);
    snprintf(s->cipher, sizeof s->cipher, "%s", cipher ? cipher : "?");
    snprintf(s->group, sizeof s->group, "%s", group ? group : "none");
}

/* Records why tio_* failed. */
static void side_failed(struct side *s, const tlsv_conn *c, int rc, const char *what)
{
    if (rc == TIO_TIMEOUT)
        net_local_error(&s->err, TLSV_R_SYSCALL, "%s: no progress within %d ms", what,
                        ROW_DEADLINE_MS);
    else
        memcpy(&s->err, tlsv_conn_last_error(c), sizeof s->err);
}

/* Small records back to back (Finished, then "ping") would wait for a
 * delayed ACK under Nagle's algorithm: 40 ms a row on Linux loopback. */
static void no_delay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The order of the first exchange. On loopback the server may answer the
 * ClientHello so fast that the client's library reads the answer inside
 * the same tlsv_conn_handshake() call that sent the ClientHello -- before
 * the demo can peek at the ServerHello (peek_sentinel). So the server
 * starts its handshake only when the client's first call has returned:
 * the client opens this gate (a pipe) then, or whenever it gives up. */
struct gate {
    int rd, wr;
    int opened;
};

static void gate_open(struct gate *g)
{
    if (!g->opened && g->wr >= 0) {
        ssize_t w;
        do
            w = write(g->wr, "g", 1);
        while (w < 0 && errno == EINTR);
        g->opened = 1;
    }
}

struct server_job {
    int lfd;
    int gate_rd;
    tlsv_ctx *ctx;
    struct side res;
};

/* The server thread: one connection, then return. */
static void *server_main(void *arg)
{
    struct server_job *job = arg;
    struct side *r = &job->res;
    long long deadline = net_deadline(ROW_DEADLINE_MS);
    if (net_wait(job->lfd, TLSV_WANT_READ, deadline) != 1) {
        net_local_error(&r->err, TLSV_R_SYSCALL, "no client connected within %d ms",
                        ROW_DEADLINE_MS);
        return NULL;
    }
    char peer[80];
    int fd = net_accept(job->lfd, peer, sizeof peer);
    if (fd < 0) {
        net_local_error(&r->err, TLSV_R_SYSCALL, "accept failed");
        return NULL;
    }
    no_delay(fd);
    tlsv_conn *c = tlsv_conn_new(job->ctx, TLSV_ROLE_SERVER, NULL, &r->err);
    if (c && tlsv_conn_set_fd(c, fd) != 0) {
        memcpy(&r->err, tlsv_conn_last_error(c), sizeof r->err);
        tlsv_conn_free(c);
        c = NULL;
    }
    if (c) {
        (void)net_wait(job->gate_rd, TLSV_WANT_READ, deadline); /* see struct gate */
        int rc = tio_handshake(c, fd, deadline);
        if (rc != 0) {
            side_failed(r, c, rc, "handshake");
        } else {
            side_established(r, c);
            char buf[16];
            long got = tio_read(c, fd, buf, sizeof buf, deadline);
            r->data_ok = got == 4 && memcmp(buf, "ping", 4) == 0 &&
                         tio_write(c, fd, "pong", 4, deadline) == 0 &&
                         tio_shutdown(c, fd, deadline) == 0;
        }
        tlsv_conn_free(c);
    }
    close(fd);
    return NULL;
}

/* The downgrade sentinel as it crossed the wire: peeks (MSG_PEEK, so the
 * library still reads every byte) at the first record the server sends; if
 * it is a plaintext ServerHello, the last 8 bytes of its random (RFC 8446
 * 4.1.3). 1 "DOWNGRD\x01", 2 "DOWNGRD\x00", 0 none (or not seen). */
static int peek_sentinel(int fd, long long deadline)
{
    /* record header 5, handshake header 4, legacy_version 2, random 32 */
    uint8_t b[5 + 4 + 2 + 32];
    long long until = net_deadline(500);
    if (deadline >= 0 && deadline < until)
        until = deadline;
    for (;;) {
        ssize_t n = recv(fd, b, sizeof b, MSG_PEEK);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return 0;
        if (n == 0 || (n > 0 && b[0] != 22)) /* closed, or not a handshake record */
            return 0;
        if (n >= (ssize_t)sizeof b)
            break;
        if (net_now_ms() >= until)
            return 0;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL); /* the rest of the record is on its way */
    }
    if (b[5] != 2) /* not a ServerHello */
        return 0;
    const uint8_t *tail = b + sizeof b - 8;
    if (memcmp(tail, "DOWNGRD\x01", 8) == 0)
        return 1;
    if (memcmp(tail, "DOWNGRD\x00", 8) == 0)
        return 2;
    return 0;
}

/* tio_handshake() for the client, with a look at the server's first bytes
 * before the library takes them. */
static int client_handshake(tlsv_conn *c, int fd, long long deadline, int *sentinel,
                            struct gate *g)
{
    int peeked = 0;
    for (;;) {
        int rc = tlsv_conn_handshake(c);
        gate_open(g); /* the ClientHello is out (or the client gave up) */
        if (rc == 0)
            return 0;
        if (rc != TLSV_WANT_READ && rc != TLSV_WANT_WRITE)
            return TIO_ERROR;
        if (net_wait(fd, rc, deadline) == 0)
            return TIO_TIMEOUT;
        if (rc == TLSV_WANT_READ && !peeked) {
            /* the ClientHello is out; what arrives now is the server's answer */
            peeked = 1;
            *sentinel = peek_sentinel(fd, deadline);
        }
    }
}

/* The client side, in the calling thread, against the server on port. */
static void run_client(tlsv_ctx *cc, int port, int fallback_scsv, struct side *r,
                       int *sentinel, struct gate *g)
{
    long long deadline = net_deadline(ROW_DEADLINE_MS);
    char portbuf[16], addr[80], msg[200];
    snprintf(portbuf, sizeof portbuf, "%d", port);
    int fd = net_connect("127.0.0.1", portbuf, ROW_DEADLINE_MS, addr, sizeof addr, msg,
                         sizeof msg);
    if (fd < 0) {
        net_local_error(&r->err, TLSV_R_SYSCALL, "%s", msg);
        gate_open(g);
        return;
    }
    no_delay(fd);
    tlsv_conn *c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, DEMO_HOST, &r->err);
    if (c && (tlsv_conn_set_fd(c, fd) != 0 ||
              (fallback_scsv && tlsv_conn_set_fallback_scsv(c, 1) != 0))) {
        memcpy(&r->err, tlsv_conn_last_error(c), sizeof r->err);
        tlsv_conn_free(c);
        c = NULL;
    }
    if (c) {
        int rc = client_handshake(c, fd, deadline, sentinel, g);
        if (rc != 0) {
            side_failed(r, c, rc, "handshake");
        } else {
            side_established(r, c);
            char buf[16];
            r->data_ok = tio_write(c, fd, "ping", 4, deadline) == 0 &&
                         tio_read(c, fd, buf, sizeof buf, deadline) == 4 &&
                         memcmp(buf, "pong", 4) == 0 && tio_shutdown(c, fd, deadline) == 0;
        }
        tlsv_conn_free(c);
    }
    gate_open(g);
    close(fd); /* the server sees the end of the transport if it still waits */
}

/* ---------------------------------------------------------------------- */
/* One row                                                                */
/* ---------------------------------------------------------------------- */

struct outcome {
    int config_failed;     /* a context could not even be made (no connection) */
    int ok;                /* both handshakes completed */
    int version, sentinel; /* when ok: the version, the sentinel the client saw */
    char cipher[64], group[32];
    tlsv_role decided_by;  /* when !ok: who decided */
    tlsv_error err;        /* when !ok: the deciding side's error */
    tlsv_error peer_err;   /* when !ok: the other side's view (reason OK if none) */
    tlsv_preview preview;
    char offered[64];
    const char *mismatch;  /* the real handshake disagrees with the preview */
    const char *harness;   /* the demo itself failed (sockets, threads, data) */
};

static void offered_text(const tlsv_preview *p, char *buf, size_t len)
{
    if (p->n_offered == 0) {
        snprintf(buf, len, "(no ClientHello)");
        return;
    }
    if (!p->supported_versions_ext) {
        snprintf(buf, len, "<=%s", tlsv_version_string(p->legacy_version));
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->n_offered; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? "," : "",
                         tlsv_version_string(p->offered[i]));
        if (w < 0 || (size_t)w >= len - used)
            return;
        used += (size_t)w;
    }
}

/* Failures that the version policy decides (what the preview must predict). */
static int version_reason(tlsv_reason r)
{
    switch (r) {
    case TLSV_R_NO_PROTOCOLS_AVAILABLE:
    case TLSV_R_UNSUPPORTED_PROTOCOL:
    case TLSV_R_WRONG_SSL_VERSION:
    case TLSV_R_WRONG_VERSION_NUMBER:
    case TLSV_R_INAPPROPRIATE_FALLBACK:
    case TLSV_R_BAD_LEGACY_VERSION:
    case TLSV_R_BAD_PROTOCOL_VERSION_NUMBER:
    case TLSV_R_TLSV1_ALERT_PROTOCOL_VERSION:
    case TLSV_R_TLSV1_ALERT_INAPPROPRIATE_FALLBACK: return 1;
    default: return 0;
    }
}

/* A transport-level consequence of the other side's decision. */
static int transport_reason(tlsv_reason r)
{
    return r == TLSV_R_UNEXPECTED_EOF_WHILE_READING || r == TLSV_R_SYSCALL ||
           r == TLSV_R_ZERO_RETURN;
}

/* Who decided a failure: the side whose error is its own (LOCAL) and not
 * merely the transport ending under it. 0 client, 1 server, -1 unclear. */
static int decider(const struct side *c, const struct side *s)
{
    int cl = !c->done && c->err.side == TLSV_SIDE_LOCAL && !transport_reason(c->err.reason);
    int sl = !s->done && s->err.side == TLSV_SIDE_LOCAL && !transport_reason(s->err.reason);
    if (cl && !sl)
        return 0;
    if (sl && !cl)
        return 1;
    if (cl && sl) /* both decided something: the client only when the server did not speak */
        return s->err.alert != TLSV_ALERT_NONE ? 1 : 0;
    if (!c->done && c->err.side == TLSV_SIDE_LOCAL)
        return 0;
    if (!s->done && s->err.side == TLSV_SIDE_LOCAL)
        return 1;
    return -1;
}

/* Builds the contexts, runs the row for real and checks it against the
 * preview. Returns 0, or -1 if the demo could not run the row at all. */
static int run_row(const struct row *r, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    tlsv_error err;
    tlsv_ctx *cc = demo_ctx(r->client, &err);
    if (!cc) {
        if (err.reason == TLSV_R_INVALID_ARGUMENT)
            goto bad_row;
        /* the configuration itself fails (e.g. SSLV3_NOT_COMPILED_IN) */
        o->config_failed = 1;
        o->decided_by = TLSV_ROLE_CLIENT;
        o->err = err;
        o->peer_err.reason = TLSV_R_OK;
        snprintf(o->offered, sizeof o->offered, "(no context)");
        return 0;
    }
    tlsv_ctx *sc = demo_ctx(r->server, &err);
    if (!sc) {
        tlsv_ctx_free(cc);
        goto bad_row;
    }
    if (tlsv_ctx_get_check_hostname(cc))
        tlsv_ctx_set_check_hostname(cc, 0);
    tlsv_ctx_set_verify_mode(cc, TLSV_CERT_NONE);
    int sentinel = 0;
    if (tlsv_ctx_use_generated_certificate(sc, DEMO_HOST) != 0) {
        err = *tlsv_ctx_last_error(sc);
        tlsv_ctx_free(cc);
        tlsv_ctx_free(sc);
        goto bad_row;
    }
    tlsv_preview_negotiation(cc, sc, r->fallback_scsv, &o->preview);
    offered_text(&o->preview, o->offered, sizeof o->offered);

    /* the real thing */
    char msg[200];
    int port = 0;
    struct server_job job;
    memset(&job, 0, sizeof job);
    struct side client;
    memset(&client, 0, sizeof client);
    job.ctx = sc;
    job.lfd = net_listen_loopback(0, &port, msg, sizeof msg);
    struct gate gate = {-1, -1, 0};
    int pfd[2];
    if (pipe(pfd) == 0) {
        gate.rd = pfd[0];
        gate.wr = pfd[1];
    }
    job.gate_rd = gate.rd;
    pthread_t tid;
    int started = job.lfd >= 0 && gate.rd >= 0 &&
                  pthread_create(&tid, NULL, server_main, &job) == 0;
    if (started) {
        run_client(cc, port, r->fallback_scsv, &client, &sentinel, &gate);
        pthread_join(tid, NULL);
    } else {
        o->harness = job.lfd < 0    ? "cannot listen on 127.0.0.1"
                     : gate.rd < 0 ? "cannot make a pipe"
                                   : "cannot start a thread";
    }
    if (job.lfd >= 0)
        close(job.lfd);
    if (gate.rd >= 0) {
        close(gate.rd);
        close(gate.wr);
    }
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
    if (!started)
        return 0;

    const struct side *s = &job.res;
    const tlsv_preview *p = &o->preview;
    if (client.done && s->done) {
        o->ok = 1;
        o->version = client.version;
        o->sentinel = sentinel;
        snprintf(o->cipher, sizeof o->cipher, "%s", client.cipher);
        snprintf(o->group, sizeof o->group, "%s", client.group);
        if (client.version != s->version || strcmp(client.cipher, s->cipher) != 0)
            o->mismatch = "client and server disagree on what they negotiated";
        else if (!p->ok)
            o->mismatch = "the handshake succeeded, the version policy says it must fail";
        else if (p->version != client.version)
            o->mismatch = "a different version than the version policy says";
        else if (p->downgrade_sentinel != sentinel)
            o->mismatch = "a different downgrade sentinel than the version policy says";
        else if (!client.data_ok || !s->data_ok)
            o->harness = "the handshake completed, but data or close_notify did not go through";
        return 0;
    }
    int d = decider(&client, s);
    if (d < 0) {
        /* nobody decided: a timeout or a socket failure of the demo itself */
        o->decided_by = TLSV_ROLE_CLIENT;
        o->err = client.done ? s->err : client.err;
        o->harness = "neither side reported a decision of its own";
        return 0;
    }
    o->decided_by = d == 0 ? TLSV_ROLE_CLIENT : TLSV_ROLE_SERVER;
    o->err = d == 0 ? client.err : s->err;
    const struct side *other = d == 0 ? s : &client;
    if (other->done)
        o->peer_err.reason = TLSV_R_OK;
    else
        o->peer_err = other->err;
    if (p->ok) {
        if (version_reason(o->err.reason))
            o->mismatch = "a version failure where the version policy says the versions agree";
        /* else: versions agree, and something beyond the version policy
         * (suites, groups) failed -- the policy does not predict that */
    } else {
        const tlsv_error *pe = p->failed_side == TLSV_ROLE_SERVER ? &p->server_error
                                                                  : &p->client_error;
        if (p->failed_side != o->decided_by)
            o->mismatch = "the other side decided than the version policy says";
        else if (pe->reason != o->err.reason)
            o->mismatch = "a different reason than the version policy says";
        else if (pe->alert != o->err.alert)
            o->mismatch = "a different alert than the version policy says";
    }
    return 0;

bad_row:
    fprintf(stderr, "tlsv demo: internal error in the row '%s' / '%s': %s\n", r->client,
            r->server, err.message);
    return -1;
}

/* ---------------------------------------------------------------------- */
/* Output                                                                 */
/* ---------------------------------------------------------------------- */

struct style {
    const char *green, *red, *dim, *bold, *alarm, *off;
};

/* Prints prefix + text, indented by `indent` spaces, wrapped at `width`
 * columns; continuation lines are indented by indent + 4. */
static void wrapped(const char *prefix, const char *text, int indent, int width,
                    const struct style *st)
{
    int hang = indent + 4;
    printf("%*s%s%s", indent, "", st->dim, prefix);
    int col = indent + (int)strlen(prefix), start = col;
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = p;
        while (*end && *end != ' ')
            end++;
        int wl = (int)(end - p);
        if (wl == 0)
            break;
        if (col > start && col + 1 + wl > width) {
            printf("%s\n%*s%s", st->off, hang, "", st->dim);
            col = start = hang;
        } else if (col > start) {
            putchar(' ');
            col++;
        }
        printf("%.*s", wl, p);
        col += wl;
        p = end;
    }
    printf("%s\n", st->off);
}

static const char *sentinel_json(int s)
{
    return s == 1 ? "\"DOWNGRD\\\\x01\"" : s == 2 ? "\"DOWNGRD\\\\x00\"" : "null";
}

static void print_json(const struct row *r, const char *section, const struct outcome *o)
{
    char client_label[128];
    snprintf(client_label, sizeof client_label, "%s%s", r->client,
             r->fallback_scsv ? " +SCSV" : "");
    printf("{\"section\":");
    json_string_or_null(stdout, section);
    printf(",\"client\":");
    json_string_or_null(stdout, client_label);
    printf(",\"server\":");
    json_string_or_null(stdout, r->server);
    printf(",\"offered\":");
    json_string_or_null(stdout, o->offered);
    if (o->ok) {
        printf(",\"version\":\"%s\",\"cipher\":", tlsv_version_string(o->version));
        json_string_or_null(stdout, o->cipher);
        printf(",\"group\":");
        json_string_or_null(stdout, o->group);
        printf(",\"downgrade_sentinel\":%s", sentinel_json(o->sentinel));
    } else {
        printf(",\"error\":");
        json_string_or_null(stdout, tlsv_reason_name(o->err.reason));
        printf(",\"alert\":");
        json_string_or_null(stdout, tlsv_alert_name(o->err.alert));
        printf(",\"side\":\"%s\",\"reason\":",
               o->decided_by == TLSV_ROLE_SERVER ? "server" : "client");
        json_string_or_null(stdout, o->err.message);
        printf(",\"peer_error\":");
        json_string_or_null(stdout, o->peer_err.reason == TLSV_R_OK
                                        ? NULL
                                        : tlsv_reason_name(o->peer_err.reason));
        printf(",\"handshake\":%s", o->config_failed ? "false" : "true");
    }
    printf(",\"lesson\":");
    json_string_or_null(stdout, r->lesson);
    if (o->mismatch) {
        printf(",\"mismatch\":");
        json_string_or_null(stdout, o->mismatch);
    }
    if (o->harness) {
        printf(",\"demo_error\":");
        json_string_or_null(stdout, o->harness);
    }
    printf("}\n");
}

#define COL_CLIENT 34
#define COL_SERVER 32
#define COL_OFFER 15
#define WRAP 112

static const char *short_version(int v)
{
    switch (v) {
    case 0x0304: return "1.3";
    case 0x0303: return "1.2";
    case 0x0302: return "1.1";
    case 0x0301: return "1.0";
    case 0x0300: return "SSL3";
    default: return "?";
    }
}

/* The offer for the table, without the "TLSv" prefixes: "1.3,1.2", "<=1.2"
 * (legacy_version only, no supported_versions), "none" (no ClientHello),
 * "-" (no context). */
static void offered_short(const struct outcome *o, char *buf, size_t len)
{
    const tlsv_preview *p = &o->preview;
    if (o->config_failed) {
        snprintf(buf, len, "-");
    } else if (p->n_offered == 0) {
        snprintf(buf, len, "none");
    } else if (!p->supported_versions_ext) {
        snprintf(buf, len, "<=%s", short_version(p->legacy_version));
    } else {
        size_t used = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < p->n_offered; i++) {
            int w = snprintf(buf + used, len - used, "%s%s", i ? "," : "",
                             short_version(p->offered[i]));
            if (w < 0 || (size_t)w >= len - used)
                return;
            used += (size_t)w;
        }
    }
}

/* Prints a cell padded to width; a cell that does not fit goes on a line of
 * its own and the row continues below it at column `next`. */
static void cell(const char *text, int width, int next)
{
    int n = (int)strlen(text);
    if (n <= width)
        printf("%-*s ", width, text);
    else
        printf("%s\n%*s", text, next, "");
}

static void print_row(const struct row *r, const struct outcome *o, const struct style *st)
{
    char client_label[128], offer[32];
    snprintf(client_label, sizeof client_label, "%s%s", r->client,
             r->fallback_scsv ? " +SCSV" : "");
    offered_short(o, offer, sizeof offer);
    cell(client_label, COL_CLIENT, COL_CLIENT + 1);
    cell(r->server, COL_SERVER, COL_CLIENT + 1 + COL_SERVER + 1);
    cell(offer, COL_OFFER, COL_CLIENT + 1 + COL_SERVER + 1 + COL_OFFER + 1);
    if (o->ok) {
        printf("%s%-7s%s %s %s\n", st->green, tlsv_version_string(o->version), st->off,
               o->cipher, o->group);
        char lesson[400];
        snprintf(lesson, sizeof lesson, "%s%s", r->lesson,
                 o->sentinel == 1   ? "; the server's random ends in DOWNGRD\\x01: it could do TLS 1.3"
                 : o->sentinel == 2 ? "; the server's random ends in DOWNGRD\\x00: it could do TLS 1.2 or better"
                                    : "");
        wrapped("", lesson, 4, WRAP, st);
    } else {
        const char *alert = tlsv_alert_name(o->err.alert);
        const char *who = o->decided_by == TLSV_ROLE_SERVER ? "server" : "client";
        printf("%sfails: %s%s, %s\n", st->red, tlsv_reason_name(o->err.reason), st->off,
               o->config_failed                    ? "no client context"
               : o->decided_by == TLSV_ROLE_SERVER ? "server decided"
                                                   : "client decided");
        wrapped("", r->lesson, 4, WRAP, st);
        char why[80];
        if (alert)
            snprintf(why, sizeof why, "%s (alert %s): ", who, alert);
        else
            snprintf(why, sizeof why, "%s: ", who);
        wrapped(why, o->err.message, 4, WRAP, st);
    }
    if (o->mismatch)
        printf("%s    MISMATCH: %s -- a library bug%s\n", st->alarm, o->mismatch, st->off);
    if (o->harness)
        printf("%s    DEMO ERROR: %s%s\n", st->alarm, o->harness, st->off);
}

int tool_demo(int argc, char **argv)
{
    int json = 0, color = isatty(STDOUT_FILENO);
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'}, {"no-color", no_argument, NULL, 'n'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else if (c == 'n')
            color = 0;
        else
            return tool_usage_error("%s", "bad option for demo");
    }
    if (optind < argc)
        return tool_usage_error("unexpected argument '%s'", argv[optind]);
    if (json || getenv("NO_COLOR"))
        color = 0;
    /* a peer that closes first must not kill us (the library sends with
     * MSG_NOSIGNAL; this is for stdout being a closed pipe) */
    signal(SIGPIPE, SIG_IGN);

    const struct style st = {
        .green = color ? "\033[32m" : "",
        .red = color ? "\033[31m" : "",
        .dim = color ? "\033[2m" : "",
        .bold = color ? "\033[1m" : "",
        .alarm = color ? "\033[1;33;41m" : "",
        .off = color ? "\033[0m" : "",
    };
    if (!json) {
        printf("%stlsv %s demo%s -- what each configuration negotiates: real handshakes between a\n"
               "tlsv client and a tlsv server on 127.0.0.1, one per row (defaults as in Python "
               "3.11's ssl:\nauto contexts start at minimum_version TLSv1_2). \"client offers\" "
               "is the version policy's\nprediction of the ClientHello (\"<=1.2\": legacy_version "
               "only, no supported_versions); the\nhandshake must agree with the policy.\n",
               st.bold, tlsv_library_version(), st.off);
        printf("\n%s%-*s %-*s %-*s %s%s\n", st.bold, COL_CLIENT, "client", COL_SERVER, "server",
               COL_OFFER, "client offers", "version, suite, group -- or the failure", st.off);
    }
    fflush(stdout);

    long long start = net_now_ms();
    int n_rows = 0, n_ok = 0, n_fail = 0, n_mismatch = 0, n_harness = 0;
    const char *section = "";
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        if (!r->client) {
            section = r->lesson;
            if (!json)
                printf("\n%s== %s ==%s\n", st.bold, section, st.off);
            continue;
        }
        struct outcome o;
        if (run_row(r, &o) != 0)
            return 1;
        n_rows++;
        if (o.ok)
            n_ok++;
        else
            n_fail++;
        if (o.mismatch)
            n_mismatch++;
        if (o.harness)
            n_harness++;
        if (json)
            print_json(r, section, &o);
        else
            print_row(r, &o, &st);
        fflush(stdout);
    }
    long long elapsed = net_now_ms() - start;

    if (!json) {
        printf("\n%d configurations in %lld ms: %d handshakes succeeded, %d failed -- each as "
               "the version policy\npredicts%s.\n",
               n_rows, elapsed, n_ok, n_fail,
               n_mismatch ? " EXCEPT the rows marked MISMATCH" : "");
        printf("%sEvery server uses a throw-away self-signed ECDSA P-256 certificate for '%s', "
               "generated in\nmemory (tlsv_ctx_use_generated_certificate: for demos and tests, "
               "never for production); the\nclients do not verify it (verify_mode CERT_NONE, "
               "check_hostname off). Nothing leaves 127.0.0.1.%s\n",
               st.dim, DEMO_HOST, st.off);
    }
    if (n_mismatch || n_harness) {
        fprintf(stderr,
                "tlsv demo: %d row(s) where the handshake disagrees with the version policy "
                "(MISMATCH: a library bug), %d demo error(s)\n",
                n_mismatch, n_harness);
        return 1;
    }
    return 0;
}
