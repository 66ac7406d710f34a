/*
 * conn.c -- tlsv_conn: the public connection API over the sans-I/O engine,
 * with two transports: memory buffers (the caller moves bytes, like
 * Python's SSLObject + MemoryBIO) and a file descriptor (blocking or not).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/pha13.h"
#include "engine/session.h"
#include "engine/suites.h"
#include "err.h"
#include "x509.h"

struct tlsv_conn {
    tlsv_engine *e;
    int fd;                /* -1: memory mode */
    size_t write_done;     /* bytes of the pending tlsv_conn_write already queued */
    size_t input_want;     /* room handed out by tlsv_conn_input_buffer, not yet committed */
    tlsv_error io_err;     /* transport errors (the engine's record covers the rest) */
    tlsv_error usage_err;  /* a call refused in this state (tlsv_conn_key_update): shown
                              while neither of the others holds an error */
};

tlsv_conn *tlsv_conn_new(tlsv_ctx *ctx, tlsv_role role, const char *server_hostname,
                         tlsv_error *err)
{
    tlsv_conn *c = calloc(1, sizeof *c);
    if (!c) {
        tlsv_err_set(err, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "could not allocate a connection");
        return NULL;
    }
    c->fd = -1;
    c->e = tlsv_engine_new(ctx, role, server_hostname, err);
    if (!c->e) {
        free(c);
        return NULL;
    }
    c->e->conn = c;
    tlsv_err_clear(&c->io_err);
    tlsv_err_clear(&c->usage_err);
    return c;
}

void tlsv_conn_free(tlsv_conn *c)
{
    if (!c)
        return;
    tlsv_engine_free(c->e);
    free(c);
}

const tlsv_error *tlsv_conn_last_error(const tlsv_conn *c)
{
    if (!c)
        return NULL;
    if (c->io_err.reason != TLSV_R_OK)
        return &c->io_err;
    return c->e->err.reason != TLSV_R_OK || c->usage_err.reason == TLSV_R_OK ? &c->e->err
                                                                             : &c->usage_err;
}

/* ---- memory mode ---------------------------------------------------------- */

int tlsv_conn_feed(tlsv_conn *c, const void *data, size_t len)
{
    if (!c || (len && !data))
        return -1;
    if (tlsv_engine_feed(c->e, data, len) != 0) {
        tlsv_err_set(&c->io_err, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "could not buffer %zu received bytes", len);
        return -1;
    }
    return 0;
}

void tlsv_conn_feed_eof(tlsv_conn *c)
{
    if (c)
        c->e->eof_received = true;
}

size_t tlsv_conn_pending_output(const tlsv_conn *c)
{
    return c ? tlsv_engine_pending(c->e) : 0;
}

size_t tlsv_conn_take_output(tlsv_conn *c, void *buf, size_t cap)
{
    if (!c || !buf)
        return 0;
    size_t n = tlsv_engine_pending(c->e);
    if (n > cap)
        n = cap;
    if (n == 0)
        return 0;
    memcpy(buf, tlsv_engine_output(c->e), n);
    tlsv_engine_consume(c->e, n);
    return n;
}

/* The biggest record the peer may send: what input_buffer(conn, 0) makes room for. */
#define ONE_RECORD (5 + 16384 + 2048)

uint8_t *tlsv_conn_input_buffer(tlsv_conn *c, size_t want)
{
    if (!c)
        return NULL;
    c->input_want = want ? want : ONE_RECORD;
    uint8_t *p = tlsv_engine_input_space(c->e, c->input_want);
    if (!p) {
        c->input_want = 0;
        tlsv_err_set(&c->io_err, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "could not make room for %zu received bytes", want);
    }
    return p;
}

int tlsv_conn_input_commit(tlsv_conn *c, size_t n)
{
    if (!c || n > c->input_want)
        return -1;
    tlsv_engine_input_commit(c->e, n);
    c->input_want = 0;
    return 0;
}

const uint8_t *tlsv_conn_output_peek(const tlsv_conn *c, size_t *len)
{
    size_t n = c ? tlsv_engine_pending(c->e) : 0;
    if (len)
        *len = n;
    return n ? tlsv_engine_output(c->e) : NULL;
}

void tlsv_conn_output_consume(tlsv_conn *c, size_t n)
{
    if (c)
        tlsv_engine_consume(c->e, n);
}

/* ---- fd mode -------------------------------------------------------------- */

int tlsv_conn_set_fd(tlsv_conn *c, int fd)
{
    if (!c || fd < 0)
        return -1;
    c->fd = fd;
    return 0;
}

/* Sends pending output. 0 when all is sent, TLSV_WANT_WRITE, or -1. */
static int flush(tlsv_conn *c)
{
    if (c->fd < 0)
        return 0; /* memory mode: the caller takes the output */
    while (tlsv_engine_pending(c->e)) {
        const uint8_t *p = tlsv_engine_output(c->e);
        size_t n = tlsv_engine_pending(c->e);
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == ENOTSOCK)
            w = write(c->fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return TLSV_WANT_WRITE;
            tlsv_err_set(&c->io_err, TLSV_R_SYSCALL, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                         "sending failed: %s", strerror(errno));
            return -1;
        }
        tlsv_engine_consume(c->e, (size_t)w);
    }
    return 0;
}

/* Reads what the transport has into the engine. 0 when bytes arrived,
 * TLSV_WANT_READ, 1 at EOF, or -1. */
static int fill(tlsv_conn *c)
{
    if (c->fd < 0)
        return c->e->eof_received ? 1 : TLSV_WANT_READ;
    for (;;) {
        /* read straight into the engine's input buffer: a whole record's
         * room once data flows, less during the handshake (memory peak) */
        size_t want = c->e->state == TLSV_ES_ESTABLISHED ? ONE_RECORD : 4096;
        uint8_t *room = tlsv_engine_input_space(c->e, want);
        if (!room) {
            tlsv_err_set(&c->io_err, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                         "could not buffer received bytes");
            return -1;
        }
        ssize_t r = read(c->fd, room, want);
        if (r > 0) {
            tlsv_engine_input_commit(c->e, (size_t)r);
            return 0;
        }
        if (r == 0) {
            c->e->eof_received = true;
            return 1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return TLSV_WANT_READ;
        tlsv_err_set(&c->io_err, TLSV_R_SYSCALL, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "receiving failed: %s", strerror(errno));
        return -1;
    }
}

/* The engine failed: send its alert if we can, report -1. */
static int failed(tlsv_conn *c)
{
    (void)flush(c);
    return -1;
}

static int eof_error(tlsv_conn *c, const char *when)
{
    tlsv_err_set(&c->io_err, TLSV_R_UNEXPECTED_EOF_WHILE_READING, TLSV_ALERT_NONE,
                 TLSV_SIDE_REMOTE, "the peer closed the connection%s%s without close_notify",
                 *when ? " " : "", when);
    return -1;
}

int tlsv_conn_handshake(tlsv_conn *c)
{
    if (!c)
        return -1;
    if (c->io_err.reason != TLSV_R_OK)
        return -1;
    for (;;) {
        if (tlsv_engine_advance(c->e) != 0)
            return failed(c);
        int rc = flush(c);
        /* a server is established once the client's Finished is in: what it
         * sends then (its session tickets) is post-handshake (RFC 8446 §4.6),
         * and a transport failure there shows at the next read or write */
        if (rc == -1 && c->e->state == TLSV_ES_ESTABLISHED && c->e->role == TLSV_ROLE_SERVER)
            return 0;
        if (rc != 0)
            return rc;
        if (c->e->state == TLSV_ES_ESTABLISHED)
            return 0;
        if (c->e->close_notify_received)
            return eof_error(c, "during the handshake (it sent close_notify)");
        rc = fill(c);
        if (rc == 1)
            return eof_error(c, "during the handshake");
        if (rc != 0)
            return rc;
    }
}

long tlsv_conn_read(tlsv_conn *c, void *buf, size_t len)
{
    if (!c || (!buf && len))
        return -1;
    if (c->e->state != TLSV_ES_ESTABLISHED) {
        int rc = tlsv_conn_handshake(c);
        if (rc != 0)
            return rc;
    }
    if (len > LONG_MAX)
        len = LONG_MAX;
    if (len == 0)
        return 0;
    /* The engine hands over one record's plaintext at a time: take records
     * until buf is full or the next would need bytes not yet received. */
    uint8_t *out = buf;
    size_t got = 0;
    for (;;) {
        got += tlsv_engine_read_app(c->e, out + got, len - got);
        if (got == len || c->e->close_notify_received)
            return (long)got;
        /* the next records' plaintext may go straight to the caller's buffer */
        c->e->direct = out + got;
        c->e->direct_cap = len - got;
        c->e->direct_got = 0;
        int arc = tlsv_engine_advance(c->e);
        got += c->e->direct_got;
        c->e->direct = NULL;
        c->e->direct_cap = c->e->direct_got = 0;
        if (got == len)
            return (long)got;
        if (arc != 0) {
            (void)flush(c);
            return got ? (long)got : -1; /* a failure shows at the next call */
        }
        int rc = flush(c); /* e.g. our answer to a KeyUpdate */
        if (rc == -1 && !got)
            return -1;
        if (tlsv_engine_app_pending(c->e) || c->e->close_notify_received)
            continue;
        if (got)
            return (long)got;
        rc = fill(c);
        if (rc == 1) {
            if (c->e->ctx->vcfg.options & TLSV_OP_IGNORE_UNEXPECTED_EOF)
                return 0;
            return eof_error(c, "");
        }
        if (rc != 0)
            return rc;
    }
}

long tlsv_conn_write(tlsv_conn *c, const void *buf, size_t len)
{
    if (!c || (!buf && len))
        return -1;
    if (c->e->state != TLSV_ES_ESTABLISHED) {
        int rc = tlsv_conn_handshake(c);
        if (rc != 0)
            return rc;
    }
    if (c->write_done == 0 && len) {
        if (c->e->close_notify_sent) {
            tlsv_err_set(&c->io_err, TLSV_R_ZERO_RETURN, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                         "cannot write after tlsv_conn_shutdown()");
            return -1;
        }
        if (tlsv_engine_write_app(c->e, buf, len) != 0)
            return failed(c);
        c->write_done = len;
    }
    int rc = flush(c);
    if (rc != 0)
        return rc; /* WANT_WRITE: call again with the same arguments */
    c->write_done = 0;
    return (long)len;
}

int tlsv_conn_shutdown(tlsv_conn *c)
{
    if (!c)
        return -1;
    if (c->e->state == TLSV_ES_FAILED)
        return -1;
    if (tlsv_engine_close(c->e) != 0)
        return failed(c);
    int rc = flush(c);
    if (rc != 0)
        return rc;
    /* Nothing received is dropped: data still in flight stays readable with
     * tlsv_conn_read(), which returns 0 once the peer's close_notify came. */
    if (!c->e->close_notify_received && c->fd >= 0 && tlsv_engine_app_pending(c->e) == 0) {
        rc = fill(c);
        if (rc == 0 && tlsv_engine_advance(c->e) != 0)
            return failed(c);
        if (rc == 1)
            return 0; /* the transport closed: nothing more will come */
        if (rc == -1)
            return -1;
    }
    /* done only when the peer closed too and everything it sent was read */
    return c->e->close_notify_received && tlsv_engine_app_pending(c->e) == 0 ? 0 : 1;
}

/* ---- TLS 1.3 KeyUpdate ---------------------------------------------------- */

int tlsv_conn_key_update(tlsv_conn *c, int request_peer_update)
{
    if (!c)
        return -1;
    tlsv_engine *e = c->e;
    const char *why = NULL;
    if (e->state == TLSV_ES_FAILED)
        return -1; /* the failure's own record stays */
    if (e->state != TLSV_ES_ESTABLISHED)
        why = "the handshake is not complete";
    else if (e->version < TLSV_V_TLS13)
        why = "KeyUpdate exists only in TLS 1.3 and this connection is not TLS 1.3";
    else if (e->close_notify_sent)
        why = "our close_notify is sent: nothing more is written under any key";
    if (why) {
        tlsv_err_set(&c->usage_err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "cannot update the keys: %s", why);
        return -1;
    }
    if (tlsv_engine_key_update(e, request_peer_update != 0) != 0)
        return failed(c);
    tlsv_err_clear(&c->usage_err);
    int rc = flush(c);
    return rc == -1 ? -1 : 0; /* WANT_WRITE: the rest goes with the next call that sends */
}

/* ---- TLS 1.3 post-handshake client authentication ------------------------- */

int tlsv_conn_verify_client_post_handshake(tlsv_conn *c)
{
    if (!c)
        return -1;
    tlsv_engine *e = c->e;
    if (e->state == TLSV_ES_FAILED)
        return -1; /* the failure's own record stays */
    tlsv_reason reason = TLSV_R_INVALID_ARGUMENT;
    const char *why = NULL;
    if (e->role != TLSV_ROLE_SERVER) {
        reason = TLSV_R_WRONG_SIDE;
        why = "only a server requests a certificate";
    } else if (e->state != TLSV_ES_ESTABLISHED) {
        why = "the handshake is not complete";
    } else if (e->version < TLSV_V_TLS13) {
        reason = TLSV_R_WRONG_SSL_VERSION;
        why = "post-handshake authentication exists only in TLS 1.3 and this connection is "
              "not TLS 1.3";
    } else if (!e->ctx->post_handshake_auth) {
        why = "post_handshake_auth is off in this server's context "
              "(tlsv_ctx_set_post_handshake_auth)";
    } else if (e->ctx->verify_mode == TLSV_CERT_NONE) {
        why = "the context's verify mode is CERT_NONE: set CERT_OPTIONAL or CERT_REQUIRED";
    } else if (!e->pha) {
        reason = TLSV_R_EXTENSION_NOT_RECEIVED;
        why = "the client did not offer post_handshake_auth (RFC 8446 §4.6.2: the server must "
              "not ask it)";
    } else if (e->close_notify_sent) {
        why = "our close_notify is sent";
    } else if (tlsv_pha_pending(e) >= TLSV_MAX_PHA_PENDING) {
        why = "too many CertificateRequests are outstanding already";
    }
    if (why) {
        tlsv_err_set(&c->usage_err, reason, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "cannot request a client certificate: %s", why);
        return -1;
    }
    if (tlsv_pha_request(e) != 0)
        return failed(c);
    tlsv_err_clear(&c->usage_err);
    int rc = flush(c);
    return rc == -1 ? -1 : 0; /* WANT_WRITE: the rest goes with the next call that sends */
}

size_t tlsv_conn_post_handshake_auth_pending(const tlsv_conn *c)
{
    return c ? tlsv_pha_pending(c->e) : 0;
}

tlsv_engine *tlsv_conn_engine(tlsv_conn *c)
{
    return c ? c->e : NULL;
}

/* ---- what was negotiated -------------------------------------------------- */

const char *tlsv_conn_version(const tlsv_conn *c)
{
    return c && c->e->state == TLSV_ES_ESTABLISHED ? tlsv_version_string(c->e->version) : NULL;
}

int tlsv_conn_version_number(const tlsv_conn *c)
{
    return c && c->e->state == TLSV_ES_ESTABLISHED ? c->e->version : 0;
}

const char *tlsv_conn_cipher(const tlsv_conn *c)
{
    if (!c || c->e->state != TLSV_ES_ESTABLISHED)
        return NULL;
    const tlsv_suite *s = tlsv_suite_by_id(c->e->suite);
    return s ? s->openssl : NULL;
}

const char *tlsv_conn_group(const tlsv_conn *c)
{
    return c && c->e->group ? tlsv_group_name(c->e->group) : NULL;
}

const char *tlsv_conn_alpn_selected(const tlsv_conn *c)
{
    return c ? c->e->alpn : NULL;
}

const char *tlsv_conn_server_name(const tlsv_conn *c)
{
    return c ? c->e->server_name : NULL;
}

size_t tlsv_conn_peer_cert_count(const tlsv_conn *c)
{
    return c && c->e->peer_chain ? tlsv_x509_chain_count(c->e->peer_chain) : 0;
}

const uint8_t *tlsv_conn_peer_cert_der(const tlsv_conn *c, size_t i, size_t *len)
{
    if (!c || !c->e->peer_chain || i >= tlsv_x509_chain_count(c->e->peer_chain))
        return NULL;
    return tlsv_x509_chain_der(c->e->peer_chain, i, len);
}

int tlsv_conn_set_fallback_scsv(tlsv_conn *c, int on)
{
    if (!c || c->e->role != TLSV_ROLE_CLIENT || c->e->started)
        return -1;
    c->e->fallback_scsv = on != 0;
    return 0;
}

int tlsv_conn_set_ctx(tlsv_conn *c, tlsv_ctx *ctx)
{
    if (!c || !ctx || !tlsv_ctx_allows_role(ctx, c->e->role))
        return -1;
    tlsv_ctx_ref(ctx);
    tlsv_ctx_unref(c->e->ctx);
    c->e->ctx = ctx;
    return 0;
}

/* ---- sessions (engine/session.c) ------------------------------------------ */

tlsv_session *tlsv_conn_get_session(tlsv_conn *c)
{
    if (!c || c->e->role != TLSV_ROLE_CLIENT)
        return NULL;
    if (c->e->latest)
        return tlsv_session_ref(c->e->latest);
    return c->e->resumed && c->e->state == TLSV_ES_ESTABLISHED ? tlsv_session_ref(c->e->session)
                                                                : NULL;
}

int tlsv_conn_set_session(tlsv_conn *c, tlsv_session *session)
{
    if (!c || c->e->role != TLSV_ROLE_CLIENT || c->e->started)
        return -1;
    tlsv_session_ref(session);
    tlsv_session_free(c->e->session);
    c->e->session = session;
    return 0;
}

int tlsv_conn_session_reused(const tlsv_conn *c)
{
    return c && c->e->resumed;
}
