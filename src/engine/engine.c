/*
 * engine.c -- the sans-I/O engine: records in, messages to the handshake
 * state machine, alerts, application data, records out. See engine.h.
 */
#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bufpool.h"
#include "err.h"
#include "keysched13.h"
#include "pha13.h"
#include "session.h"
#include "trace.h"
#include "version.h"
#include "x509.h"

extern const tlsv_hs_ops tlsv_tls13_client_ops;
extern const tlsv_hs_ops tlsv_tls13_server_ops;

/* ---- buffers ---------------------------------------------------------- */

/* Buffers come from bufpool.c (tlsv_buf_reserve) and go back to it as soon
 * as they are empty (tlsv_buf_release): an idle connection holds none. */

/* ---- lifetime ------------------------------------------------------------ */

tlsv_engine *tlsv_engine_new(tlsv_ctx *ctx, tlsv_role role, const char *server_name,
                             tlsv_error *err)
{
    tlsv_err_clear(err);
    if (!ctx) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "no context");
        return NULL;
    }
    if (!tlsv_ctx_allows_role(ctx, role)) {
        tlsv_err_set(err, TLSV_R_WRONG_SIDE, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "Cannot create a %s connection with a %s context",
                     role == TLSV_ROLE_SERVER ? "server" : "client",
                     tlsv_protocol_name(ctx->vcfg.protocol));
        return NULL;
    }
    tlsv_engine *e = calloc(1, sizeof *e);
    if (!e)
        goto oom;
    e->role = role;
    e->ctx = tlsv_ctx_ref(ctx);
    e->plain_version = TLSV_V_TLS10;
    e->ku_threshold = TLSV_KEY_UPDATE_AFTER_RECORDS;
    tlsv_err_clear(&e->err);
    if (server_name && role == TLSV_ROLE_CLIENT) {
        e->server_name = strdup(server_name);
        if (!e->server_name)
            goto oom;
    }
    e->ops = role == TLSV_ROLE_CLIENT ? &tlsv_tls13_client_ops : &tlsv_tls13_server_ops;
    return e;
oom:
    tlsv_engine_free(e);
    tlsv_err_set(err, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                 "could not allocate a connection");
    return NULL;
}

void tlsv_engine_free(tlsv_engine *e)
{
    if (!e)
        return;
    if (e->ops && e->ops->free)
        e->ops->free(e);
    tlsv_rec_dir_clear(&e->rd);
    tlsv_rec_dir_clear(&e->wr);
    tlsv_buf_release(&e->in, &e->in_cap, e->in_cap);
    tlsv_buf_release(&e->out, &e->out_cap, e->out_cap);
    tlsv_buf_release(&e->hs, &e->hs_cap, e->hs_cap);
    tlsv_buf_release(&e->hs_out, &e->hs_out_cap, e->hs_out_cap);
    free(e->server_name);
    free(e->alpn);
    tlsv_pha_free(e);
    tlsv_x509_chain_free(e->peer_chain);
    tlsv_wipe(e->rd_secret, sizeof e->rd_secret);
    tlsv_wipe(e->wr_secret, sizeof e->wr_secret);
    tlsv_wipe(e->res_secret, sizeof e->res_secret);
    tlsv_session_free(e->session);
    tlsv_session_free(e->latest);
    tlsv_ctx_unref(e->ctx);
    free(e);
}

/* ---- output -------------------------------------------------------------- */

static const char *ct_name(uint8_t t)
{
    switch (t) {
    case TLSV_CT_CHANGE_CIPHER_SPEC: return "change_cipher_spec";
    case TLSV_CT_ALERT: return "alert";
    case TLSV_CT_HANDSHAKE: return "handshake";
    case TLSV_CT_APPLICATION_DATA: return "application_data";
    default: return "unknown";
    }
}


size_t tlsv_engine_pending(const tlsv_engine *e)
{
    return e->out_len - e->out_off;
}

const uint8_t *tlsv_engine_output(const tlsv_engine *e)
{
    return e->out + e->out_off;
}

void tlsv_engine_consume(tlsv_engine *e, size_t n)
{
    if (n > e->out_len - e->out_off)
        n = e->out_len - e->out_off;
    e->out_off += n;
    if (e->out_off == e->out_len) { /* all sent: give the buffer back */
        e->out_off = e->out_len = 0;
        tlsv_buf_release(&e->out, &e->out_cap, 0); /* only ciphertext was in it */
    }
}

/* Seals one record of at most 2^14 bytes onto the output. */
static int send_record(tlsv_engine *e, uint8_t type, const uint8_t *data, size_t n)
{
    size_t room = TLSV_REC_HEADER + n + TLSV_REC_MAX_OVERHEAD + 64;
    if (tlsv_buf_reserve(&e->out, &e->out_cap, e->out_len, room) != 0)
        return -1;
    tlsv_writer w;
    tlsv_wr_init_fixed(&w, e->out + e->out_len, e->out_cap - e->out_len);
    if (tlsv_rec_seal(&e->wr, type, e->plain_version, data, n, &w) != 0)
        return -1;
    e->out_len += tlsv_wr_len(&w);
    if (TLSV_TRACING(e) && type != TLSV_CT_APPLICATION_DATA)
        tlsv_engine_trace(e, 1, "  record %s, version 0x%02x%02x, %zu bytes%s", ct_name(type),
                          e->out[e->out_len - tlsv_wr_len(&w) + 1],
                          e->out[e->out_len - tlsv_wr_len(&w) + 2], tlsv_wr_len(&w),
                          e->wr.kind != TLSV_REC_PLAIN ? ", protected" : "");
    return 0;
}

static int send_fragmented(tlsv_engine *e, uint8_t type, const uint8_t *data, size_t len)
{
    do {
        size_t n = len > TLSV_REC_MAX_PLAINTEXT ? TLSV_REC_MAX_PLAINTEXT : len;
        if (send_record(e, type, data, n) != 0)
            return -1;
        data += n;
        len -= n;
    } while (len > 0);
    return 0;
}

static void send_alert(tlsv_engine *e, int alert)
{
    if (TLSV_TRACING(e))
        tlsv_engine_trace(e, 1, "alert %s", tlsv_alert_name(alert) ? tlsv_alert_name(alert) : "?");
    /* close_notify and user_canceled are warnings; everything else fatal */
    uint8_t a[2] = {(uint8_t)(alert == TLSV_ALERT_CLOSE_NOTIFY || alert == TLSV_ALERT_USER_CANCELED
                                  ? 1
                                  : 2),
                    (uint8_t)alert};
    (void)send_record(e, TLSV_CT_ALERT, a, 2);
}

static void trace_message(tlsv_engine *e, int dir, const uint8_t *msg, size_t len)
{
    if (!TLSV_TRACING(e))
        return;
    char d[2048];
    tlsv_trace_describe(msg, len, e->version, d, sizeof d);
    tlsv_engine_trace(e, dir, "%s", d);
}

int tlsv_engine_send_handshake(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    trace_message(e, 1, msg, len);
    if (len > TLSV_MAX_HANDSHAKE_MESSAGE + 4 ||
        tlsv_buf_reserve(&e->hs_out, &e->hs_out_cap, e->hs_out_len, len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not queue a handshake message");
    memcpy(e->hs_out + e->hs_out_len, msg, len);
    e->hs_out_len += len;
    return 0;
}

int tlsv_engine_flush(tlsv_engine *e)
{
    if (e->hs_out_len == 0)
        return 0;
    int rc = send_fragmented(e, TLSV_CT_HANDSHAKE, e->hs_out, e->hs_out_len);
    tlsv_buf_release(&e->hs_out, &e->hs_out_cap, e->hs_out_len);
    e->hs_out_len = 0;
    if (rc != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not protect handshake messages");
    return 0;
}

int tlsv_engine_set_write13(tlsv_engine *e, tlsv_aead_alg aead, tlsv_hash_alg hash,
                            const uint8_t *secret, size_t len)
{
    if (tlsv_engine_flush(e) != 0)
        return -1;
    if (tlsv_rec_dir_set13(&e->wr, aead, hash, secret, len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not install new write keys");
    if (TLSV_TRACING(e))
        tlsv_engine_trace(e, -1, "new write keys (TLS 1.3)");
    return 0;
}

int tlsv_engine_send_ccs(tlsv_engine *e)
{
    static const uint8_t one = 1;
    if (tlsv_engine_flush(e) != 0)
        return -1;
    tlsv_rec_dir plain;
    memset(&plain, 0, sizeof plain);
    plain.kind = TLSV_REC_PLAIN;
    /* CCS is never protected (RFC 8446 §5), whatever the write keys */
    size_t room = TLSV_REC_HEADER + 1;
    if (tlsv_buf_reserve(&e->out, &e->out_cap, e->out_len, room) != 0)
        return -1;
    tlsv_writer w;
    tlsv_wr_init_fixed(&w, e->out + e->out_len, e->out_cap - e->out_len);
    /* TLS 1.0-1.2: the negotiated record version; TLS 1.3's compatibility
     * CCS: 0x0303 (RFC 8446 App. D.4) */
    uint16_t v = e->version && e->version < TLSV_V_TLS13 ? e->plain_version : TLSV_V_TLS12;
    if (tlsv_rec_seal(&plain, TLSV_CT_CHANGE_CIPHER_SPEC, v, &one, 1, &w) != 0)
        return -1;
    e->out_len += tlsv_wr_len(&w);
    if (TLSV_TRACING(e))
        tlsv_engine_trace(e, 1, "change_cipher_spec");
    return 0;
}

/* ---- failure ------------------------------------------------------------- */

int tlsv_engine_fail_err(tlsv_engine *e, const tlsv_error *err)
{
    if (e->state == TLSV_ES_FAILED)
        return -1; /* the first failure is the one that counts */
    e->err = *err;
    e->err.side = TLSV_SIDE_LOCAL;
    e->hs_out_len = 0; /* a failed flight is not sent; the alert is */
    if (TLSV_TRACING(e))
        tlsv_engine_trace(e, -1, "failure: %s: %s", tlsv_reason_name(err->reason), err->message);
    if (err->alert != TLSV_ALERT_NONE)
        send_alert(e, err->alert);
    e->state = TLSV_ES_FAILED;
    return -1;
}

int tlsv_engine_fail(tlsv_engine *e, tlsv_reason reason, int alert, const char *fmt, ...)
{
    tlsv_error err;
    err.reason = reason;
    err.alert = alert;
    err.side = TLSV_SIDE_LOCAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.message, sizeof err.message, fmt, ap);
    va_end(ap);
    return tlsv_engine_fail_err(e, &err);
}

static int fail_remote(tlsv_engine *e, int alert)
{
    if (e->state == TLSV_ES_FAILED)
        return -1;
    const char *name = tlsv_alert_name(alert);
    char unknown[16];
    if (!name) {
        snprintf(unknown, sizeof unknown, "%d", alert);
        name = unknown;
    }
    tlsv_err_set(&e->err, tlsv_reason_for_alert(alert), alert, TLSV_SIDE_REMOTE,
                 "the peer aborted the %s with a fatal %s alert",
                 e->state == TLSV_ES_HANDSHAKE ? "handshake" : "connection", name);
    e->state = TLSV_ES_FAILED;
    return -1;
}

/* ---- input ------------------------------------------------------------- */

uint8_t *tlsv_engine_input_space(tlsv_engine *e, size_t want)
{
    bool app = e->app_off < e->app_len; /* unread plaintext stays where it is in `in` */
    if (!app && e->in_off > 0 && e->in_off == e->in_len)
        e->in_off = e->in_len = 0;
    size_t keep = app ? e->app_off : e->in_off; /* bytes before this are done with */
    if (keep > 0 && e->in_len + want > e->in_cap) { /* compact */
        memmove(e->in, e->in + keep, e->in_len - keep);
        e->in_len -= keep;
        e->in_off -= keep;
        if (app) {
            e->app_off -= keep;
            e->app_len -= keep;
        }
    }
    if (tlsv_buf_reserve(&e->in, &e->in_cap, e->in_len, want) != 0)
        return NULL;
    return e->in + e->in_len;
}

void tlsv_engine_input_commit(tlsv_engine *e, size_t n)
{
    if (e->in && n <= e->in_cap - e->in_len)
        e->in_len += n;
}

int tlsv_engine_feed(tlsv_engine *e, const uint8_t *data, size_t len)
{
    if (len == 0)
        return 0;
    uint8_t *room = tlsv_engine_input_space(e, len);
    if (!room)
        return -1;
    memcpy(room, data, len);
    tlsv_engine_input_commit(e, len);
    return 0;
}

int tlsv_engine_check_key_boundary(tlsv_engine *e)
{
    if (e->hs_len > e->hs_cur)
        return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                                "handshake data followed a message that changes keys in the "
                                "same record (RFC 8446 §5.1)");
    return 0;
}

/* TLS 1.3 post-handshake messages (RFC 8446 §4.6). */
static int post_handshake(tlsv_engine *e, uint8_t type, const uint8_t *msg, size_t len)
{
    if (e->version < TLSV_V_TLS13) {
        /* RFC 5746 §4: renegotiation is refused politely, with a warning
         * no_renegotiation (HelloRequest at a client, ClientHello at a server) */
        if ((type == 0 && e->role == TLSV_ROLE_CLIENT) || (type == 1 && e->role == TLSV_ROLE_SERVER)) {
            if (++e->warnings_in_row > TLSV_MAX_WARNINGS_IN_ROW)
                return tlsv_engine_fail(e, TLSV_R_TOO_MANY_WARN_ALERTS,
                                        TLSV_ALERT_UNEXPECTED_MESSAGE,
                                        "more than %d renegotiation attempts in a row",
                                        TLSV_MAX_WARNINGS_IN_ROW);
            uint8_t a[2] = {1, TLSV_ALERT_NO_RENEGOTIATION};
            return send_record(e, TLSV_CT_ALERT, a, 2) == 0 ? 0 : -1;
        }
        return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                                "unexpected handshake message %u after the handshake",
                                (unsigned)type);
    }
    if (tlsv_pha_takes(e, type)) /* post-handshake authentication (pha13.c) */
        return tlsv_pha_message(e, type, msg, len);
    if (type == 4 /* new_session_ticket */ && e->role == TLSV_ROLE_CLIENT)
        return tlsv_session_on_ticket(e, msg, len); /* session.c */
    if (type == 24 /* key_update */) {
        if (len != 5 || msg[4] > 1)
            return tlsv_engine_fail(e, len != 5 ? TLSV_R_DECODE_ERROR : TLSV_R_ILLEGAL_PARAMETER,
                                    len != 5 ? TLSV_ALERT_DECODE_ERROR
                                             : TLSV_ALERT_ILLEGAL_PARAMETER,
                                    "KeyUpdate: malformed request_update");
        if (++e->key_updates_in_row > TLSV_MAX_KEY_UPDATES_IN_ROW)
            return tlsv_engine_fail(e, TLSV_R_TOO_MANY_WARN_ALERTS, TLSV_ALERT_UNEXPECTED_MESSAGE,
                                    "more than %d KeyUpdates in a row", TLSV_MAX_KEY_UPDATES_IN_ROW);
        if (tlsv_engine_check_key_boundary(e) != 0)
            return -1;
        if (tlsv_ks13_update(e->hash, e->rd_secret, e->secret_len) != 0 ||
            tlsv_rec_dir_set13(&e->rd, e->aead, e->hash, e->rd_secret, e->secret_len) != 0)
            return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                    "KeyUpdate: could not derive the next read keys");
        if (msg[4] == 1) {
            /* update_requested: answer with our own update, not requesting
             * one (§4.6.3) -- unless our write keys already changed after
             * the last application data we sent (our own update, or the
             * answer to an earlier request): what we send next is under a
             * key that has protected no data yet, so one update answers
             * all the requests that came meanwhile, and crossing requests
             * do not ping-pong. Answers without application data from the
             * peer between are limited as the KeyUpdates themselves. */
            if (e->close_notify_sent)
                return 0; /* we send nothing more: no keys to update */
            if (e->ku_sent_idle) {
                if (TLSV_TRACING(e))
                    tlsv_engine_trace(e, -1, "KeyUpdate request: our write keys changed since "
                                             "our last data; no second update");
                return 0;
            }
            if (++e->ku_answers_in_row > TLSV_MAX_KEY_UPDATES_IN_ROW)
                return tlsv_engine_fail(e, TLSV_R_TOO_MANY_WARN_ALERTS,
                                        TLSV_ALERT_UNEXPECTED_MESSAGE,
                                        "more than %d KeyUpdate requests answered without "
                                        "application data from the peer",
                                        TLSV_MAX_KEY_UPDATES_IN_ROW);
            return tlsv_engine_key_update(e, false);
        }
        return 0;
    }
    return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                            "unexpected handshake message %u after the handshake",
                            (unsigned)type);
}

/* Splits buffered handshake bytes into messages and hands them on. */
static int deliver_handshake(tlsv_engine *e)
{
    while (e->hs_len >= 4 && e->state != TLSV_ES_FAILED) {
        size_t body = ((size_t)e->hs[1] << 16) | ((size_t)e->hs[2] << 8) | e->hs[3];
        if (body > TLSV_MAX_HANDSHAKE_MESSAGE)
            return tlsv_engine_fail(e, TLSV_R_EXCESSIVE_MESSAGE_SIZE, TLSV_ALERT_ILLEGAL_PARAMETER,
                                    "handshake message type %u announces %zu bytes; the limit "
                                    "is %u",
                                    (unsigned)e->hs[0], body, TLSV_MAX_HANDSHAKE_MESSAGE);
        if (e->hs_len < 4 + body)
            break;
        e->hs_cur = 4 + body;
        trace_message(e, 0, e->hs, 4 + body);
        int rc = e->state == TLSV_ES_ESTABLISHED ? post_handshake(e, e->hs[0], e->hs, 4 + body)
                                                 : e->ops->message(e, e->hs[0], e->hs, 4 + body);
        if (rc != 0 || e->state == TLSV_ES_FAILED)
            return -1;
        memmove(e->hs, e->hs + 4 + body, e->hs_len - 4 - body);
        e->hs_len -= 4 + body;
        e->hs_cur = 0;
    }
    if (e->hs_len == 0) /* every message handled: give the buffer back */
        tlsv_buf_release(&e->hs, &e->hs_cap, e->hs_cap);
    return 0;
}

/* Server: 0-RTT data the client sent with a ClientHello whose early_data
 * this server refuses (it never accepts any): records it cannot decrypt
 * with its handshake keys, or application_data records before them after a
 * HelloRetryRequest, are skipped while e->early_skip lasts (RFC 8446
 * §4.2.10). true when this record was one. */
static bool skip_early_data(tlsv_engine *e, uint8_t outer_type, size_t len)
{
    if (e->early_skip == 0 || outer_type != TLSV_CT_APPLICATION_DATA ||
        e->state != TLSV_ES_HANDSHAKE || len > e->early_skip)
        return false;
    e->early_skip -= len;
    if (TLSV_TRACING(e))
        tlsv_engine_trace(e, 0, "  early data record of %zu bytes skipped (0-RTT is refused)", len);
    return true;
}

static int handle_alert(tlsv_engine *e, const uint8_t *pt, size_t n)
{
    if (n != 2)
        return tlsv_engine_fail(e, TLSV_R_DECODE_ERROR, TLSV_ALERT_DECODE_ERROR,
                                "an alert record of %zu bytes (alerts are 2 bytes)", n);
    /* TLS 1.3 forbids other records inside a handshake message (RFC 8446
     * §5.1); TLS 1.0-1.2 let content types interleave (RFC 5246 §6.2.1) */
    if (e->hs_len && (!e->version || e->version >= TLSV_V_TLS13))
        return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                                "an alert arrived in the middle of a handshake message");
    uint8_t level = pt[0], desc = pt[1];
    if (TLSV_TRACING(e))
        tlsv_engine_trace(e, 0, "alert %s (%s)", tlsv_alert_name(desc) ? tlsv_alert_name(desc) : "?",
                          level == 1 ? "warning" : "fatal");
    if (desc == TLSV_ALERT_CLOSE_NOTIFY) {
        e->close_notify_received = true;
        return 0;
    }
    if (desc == TLSV_ALERT_USER_CANCELED || (level == 1 && e->version && e->version < TLSV_V_TLS13)) {
        if (++e->warnings_in_row > TLSV_MAX_WARNINGS_IN_ROW)
            return tlsv_engine_fail(e, TLSV_R_TOO_MANY_WARN_ALERTS, TLSV_ALERT_UNEXPECTED_MESSAGE,
                                    "more than %d warning alerts in a row",
                                    TLSV_MAX_WARNINGS_IN_ROW);
        return 0;
    }
    return fail_remote(e, desc);
}

int tlsv_engine_advance(tlsv_engine *e)
{
    if (e->state == TLSV_ES_FAILED)
        return -1;
    if (!e->started) {
        e->started = true;
        if (e->ops->start && e->ops->start(e) != 0)
            return -1;
    }
    /* One record of application data at a time: its plaintext stays in
     * `in`, where it was decrypted, until the application has read it. */
    while (e->state != TLSV_ES_FAILED && !e->close_notify_received && e->app_off == e->app_len) {
        size_t avail = e->in_len - e->in_off;
        if (avail < TLSV_REC_HEADER)
            break;
        uint8_t *hdr = e->in + e->in_off;
        size_t len = ((size_t)hdr[3] << 8) | hdr[4];
        if (hdr[0] < TLSV_CT_CHANGE_CIPHER_SPEC || hdr[0] > TLSV_CT_APPLICATION_DATA) {
            if (!e->first_record_seen && e->role == TLSV_ROLE_SERVER && (hdr[0] & 0x80)) {
                /* SSLv2 record: 2-byte header, 15-bit length (RFC 5246 App. E.2) */
                size_t v2len = ((size_t)(hdr[0] & 0x7f) << 8) | hdr[1];
                if (v2len < 3 || v2len > 1024)
                    return tlsv_engine_fail(e, TLSV_R_DECODE_ERROR, TLSV_ALERT_DECODE_ERROR,
                                            "an SSLv2-format hello of %zu bytes", v2len);
                if (avail < 2 + v2len)
                    break;
                e->first_record_seen = true;
                e->in_off += 2 + v2len;
                if (!e->ops->sslv2_hello || e->ops->sslv2_hello(e, hdr + 2, v2len) != 0)
                    return e->state == TLSV_ES_FAILED
                               ? -1
                               : tlsv_engine_fail(e, TLSV_R_UNSUPPORTED_PROTOCOL,
                                                  TLSV_ALERT_PROTOCOL_VERSION,
                                                  "an SSLv2-format hello was not accepted");
                continue;
            }
            return tlsv_engine_fail(e,
                                    e->first_record_seen ? TLSV_R_UNEXPECTED_MESSAGE
                                                         : TLSV_R_WRONG_VERSION_NUMBER,
                                    e->first_record_seen ? TLSV_ALERT_UNEXPECTED_MESSAGE
                                                         : TLSV_ALERT_PROTOCOL_VERSION,
                                    "record with unknown content type %u%s", (unsigned)hdr[0],
                                    e->first_record_seen ? "" : " (is the peer speaking TLS?)");
        }
        if (hdr[1] != 3)
            return tlsv_engine_fail(e, TLSV_R_WRONG_VERSION_NUMBER, TLSV_ALERT_PROTOCOL_VERSION,
                                    "record version %u.%u is not SSL 3.0 or TLS",
                                    (unsigned)hdr[1], (unsigned)hdr[2]);
        if (len > TLSV_REC_MAX_CIPHERTEXT_12 ||
            (e->rd.kind == TLSV_REC_TLS13 && len > TLSV_REC_MAX_CIPHERTEXT_13))
            return tlsv_engine_fail(e, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW,
                                    "a record of %zu bytes is longer than allowed", len);
        if (avail < TLSV_REC_HEADER + len)
            break;
        e->first_record_seen = true;
        uint8_t *body = hdr + TLSV_REC_HEADER;
        if (TLSV_TRACING(e) && (hdr[0] != TLSV_CT_APPLICATION_DATA || e->state != TLSV_ES_ESTABLISHED))
            tlsv_engine_trace(e, 0, "  record %s, version 0x%02x%02x, %zu bytes", ct_name(hdr[0]),
                              hdr[1], hdr[2], len);
        e->in_off += TLSV_REC_HEADER + len;

        if (hdr[0] == TLSV_CT_CHANGE_CIPHER_SPEC) {
            /* RFC 8446 §5: a plaintext {01} during the handshake is dropped */
            if (len != 1 || body[0] != 1)
                return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE,
                                        TLSV_ALERT_UNEXPECTED_MESSAGE,
                                        "a malformed change_cipher_spec record");
            if (TLSV_TRACING(e))
                tlsv_engine_trace(e, 0, "change_cipher_spec");
            if (e->hs_len) /* no other record inside a handshake message (RFC 8446 §5.1) */
                return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE,
                                        TLSV_ALERT_UNEXPECTED_MESSAGE,
                                        "change_cipher_spec in the middle of a handshake message");
            if (e->state != TLSV_ES_HANDSHAKE || !e->ops->ccs || e->ops->ccs(e) != 0)
                return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE,
                                        TLSV_ALERT_UNEXPECTED_MESSAGE,
                                        "change_cipher_spec where none may come");
            continue;
        }
        uint8_t type;
        uint8_t *pt;
        size_t n;
        tlsv_error rerr;
        if (hdr[0] == TLSV_CT_ALERT && len == 2 && e->rd.kind == TLSV_REC_TLS13 &&
            e->state == TLSV_ES_HANDSHAKE) {
            /* A peer that failed before installing its handshake keys sends
             * its alert in plaintext (OpenSSL does, e.g. a client rejecting
             * our certificate); read it rather than report a framing error,
             * as OpenSSL's own servers do. */
            type = TLSV_CT_ALERT;
            pt = body;
            n = 2;
        } else if (tlsv_rec_open_into(&e->rd, hdr, body, len,
                                      e->state == TLSV_ES_ESTABLISHED ? e->direct : NULL,
                                      e->direct_cap, &type, &pt, &n, &rerr) != 0) {
            if (skip_early_data(e, hdr[0], len))
                continue;
            return tlsv_engine_fail_err(e, &rerr);
        }
        bool direct = e->direct && pt == e->direct;
        if (direct && type != TLSV_CT_APPLICATION_DATA) {
            /* not data after all (a post-handshake message, an alert): back
             * into the input buffer, handled as usual */
            memcpy(body, pt, n);
            tlsv_wipe(pt, n);
            pt = body;
            direct = false;
        }
        switch (type) {
        case TLSV_CT_HANDSHAKE:
            if (n == 0)
                return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE,
                                        TLSV_ALERT_UNEXPECTED_MESSAGE,
                                        "an empty handshake record (RFC 8446 §5.1)");
            if (e->hs_len + n > TLSV_MAX_HANDSHAKE_MESSAGE + 4 + TLSV_REC_MAX_PLAINTEXT ||
                tlsv_buf_reserve(&e->hs, &e->hs_cap, e->hs_len, n) != 0)
                return tlsv_engine_fail(e, TLSV_R_EXCESSIVE_MESSAGE_SIZE,
                                        TLSV_ALERT_ILLEGAL_PARAMETER,
                                        "too much handshake data buffered");
            memcpy(e->hs + e->hs_len, pt, n);
            e->hs_len += n;
            if (e->rd.kind != TLSV_REC_PLAIN) {
                tlsv_wipe(pt, n); /* no decrypted bytes stay behind in `in` */
                e->early_skip = 0; /* the client's handshake records: no early data after */
            }
            if (e->state != TLSV_ES_ESTABLISHED) /* renegotiation attempts keep counting */
                e->warnings_in_row = 0;
            if (deliver_handshake(e) != 0)
                return -1;
            break;
        case TLSV_CT_ALERT:
            if (handle_alert(e, pt, n) != 0)
                return -1;
            break;
        case TLSV_CT_APPLICATION_DATA:
            if (e->state != TLSV_ES_ESTABLISHED) {
                if (e->rd.kind == TLSV_REC_PLAIN && skip_early_data(e, hdr[0], len))
                    break; /* early data after our HelloRetryRequest */
                return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE,
                                        TLSV_ALERT_UNEXPECTED_MESSAGE,
                                        "application data before the handshake completed");
            }
            if (e->hs_len)
                return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE,
                                        TLSV_ALERT_UNEXPECTED_MESSAGE,
                                        "application data inside a handshake message");
            if (n == 0) {
                if (++e->warnings_in_row > TLSV_MAX_WARNINGS_IN_ROW)
                    return tlsv_engine_fail(e, TLSV_R_TOO_MANY_WARN_ALERTS,
                                            TLSV_ALERT_UNEXPECTED_MESSAGE,
                                            "more than %d empty records in a row",
                                            TLSV_MAX_WARNINGS_IN_ROW);
                break;
            }
            e->warnings_in_row = 0;
            e->key_updates_in_row = 0;
            e->ku_answers_in_row = 0;
            e->pha_answers_in_row = 0;
            if (direct) { /* already in the reader's buffer */
                e->direct += n;
                e->direct_cap -= n;
                e->direct_got += n;
                break;
            }
            e->app_off = (size_t)(pt - e->in); /* read in place: no copy */
            e->app_len = e->app_off + n;
            break;
        default:
            return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                                    "a protected record with unknown content type %u",
                                    (unsigned)type);
        }
    }
    if (e->in_off == e->in_len && e->app_off == e->app_len) {
        e->in_off = e->in_len = 0;
        tlsv_buf_release(&e->in, &e->in_cap, 0); /* plaintext in it was wiped when used */
    }
    if (e->state != TLSV_ES_FAILED)
        (void)tlsv_engine_flush(e);
    return e->state == TLSV_ES_FAILED ? -1 : 0;
}

/* ---- application data ----------------------------------------------------- */

int tlsv_engine_write_app(tlsv_engine *e, const uint8_t *data, size_t len)
{
    if (e->state != TLSV_ES_ESTABLISHED || e->close_notify_sent)
        return -1;
    if (len == 0)
        return 0;
    if (tlsv_engine_flush(e) != 0)
        return -1;
    e->key_updates_in_row = 0;
    /* TLS 1.0 (and SSL 3.0) CBC: 1/n-1 record splitting against the
     * chosen-plaintext attack on chained IVs (BEAST), unless
     * OP_DONT_INSERT_EMPTY_FRAGMENTS; OP_ALL leaves it on, as in Python */
    bool cbc = e->wr.kind == TLSV_REC_CBC || e->wr.kind == TLSV_REC_CBC_ETM;
#ifdef TLSV_HAVE_SSL3
    cbc = cbc || e->wr.kind == TLSV_REC_SSL3_CBC;
#endif
    if (cbc && e->version <= TLSV_V_TLS10 && len > 1 &&
        !(e->ctx->vcfg.options & TLSV_OP_DONT_INSERT_EMPTY_FRAGMENTS)) {
        while (len > 0) {
            size_t n = len > TLSV_REC_MAX_PLAINTEXT ? TLSV_REC_MAX_PLAINTEXT : len;
            if (send_record(e, TLSV_CT_APPLICATION_DATA, data, 1) != 0 ||
                (n > 1 && send_record(e, TLSV_CT_APPLICATION_DATA, data + 1, n - 1) != 0))
                return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                        "could not protect application data");
            data += n;
            len -= n;
        }
        return 0;
    }
    if (e->wr.kind == TLSV_REC_TLS13) {
        /* RFC 8446 §5.5: a KeyUpdate of our own before the next record
         * once ku_threshold records went out under the current key */
        while (len > 0) {
            size_t n = len > TLSV_REC_MAX_PLAINTEXT ? TLSV_REC_MAX_PLAINTEXT : len;
            if (e->wr.records >= e->ku_threshold) {
                if (TLSV_TRACING(e))
                    tlsv_engine_trace(e, -1, "%llu records under this write key: KeyUpdate",
                                      (unsigned long long)e->wr.records);
                if (tlsv_engine_key_update(e, false) != 0)
                    return -1;
            }
            if (send_record(e, TLSV_CT_APPLICATION_DATA, data, n) != 0)
                return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                        "could not protect application data");
            data += n;
            len -= n;
        }
        e->ku_sent_idle = false;
        return 0;
    }
    if (send_fragmented(e, TLSV_CT_APPLICATION_DATA, data, len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not protect application data");
    return 0;
}

int tlsv_engine_key_update(tlsv_engine *e, bool request)
{
    if (e->state != TLSV_ES_ESTABLISHED || e->version < TLSV_V_TLS13 || e->close_notify_sent ||
        e->wr.kind != TLSV_REC_TLS13)
        return -1;
    uint8_t ku[5] = {24 /* key_update */, 0, 0, 1, request ? 1 : 0};
    if (tlsv_engine_send_handshake(e, ku, sizeof ku) != 0)
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR,
                                "KeyUpdate: could not queue the message");
    if (tlsv_ks13_update(e->hash, e->wr_secret, e->secret_len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "KeyUpdate: could not derive the next write keys");
    /* flushes what is queued, the KeyUpdate last, under the old keys */
    if (tlsv_engine_set_write13(e, e->aead, e->hash, e->wr_secret, e->secret_len) != 0)
        return -1;
    e->ku_sent_idle = true;
    return 0;
}

void tlsv_engine_set_ku_threshold(tlsv_engine *e, uint64_t records)
{
    e->ku_threshold = records ? records : TLSV_KEY_UPDATE_AFTER_RECORDS;
}

size_t tlsv_engine_app_pending(const tlsv_engine *e)
{
    return e->app_len - e->app_off;
}

size_t tlsv_engine_read_app(tlsv_engine *e, uint8_t *buf, size_t len)
{
    size_t n = e->app_len - e->app_off;
    if (n > len)
        n = len;
    if (n == 0)
        return 0;
    memcpy(buf, e->in + e->app_off, n);
    tlsv_wipe(e->in + e->app_off, n);
    e->app_off += n;
    if (e->app_off == e->app_len) {
        e->app_off = e->app_len = 0;
        if (e->in_off == e->in_len) { /* nothing more received: give `in` back */
            e->in_off = e->in_len = 0;
            tlsv_buf_release(&e->in, &e->in_cap, 0);
        }
    }
    return n;
}

int tlsv_engine_close(tlsv_engine *e)
{
    if (e->close_notify_sent)
        return 0;
    e->close_notify_sent = true;
    if (e->state == TLSV_ES_FAILED)
        return -1;
    if (tlsv_engine_flush(e) != 0)
        return -1;
    send_alert(e, TLSV_ALERT_CLOSE_NOTIFY);
    return 0;
}

void tlsv_engine_established(tlsv_engine *e)
{
    e->state = TLSV_ES_ESTABLISHED;
    if (TLSV_TRACING(e))
        tlsv_engine_trace(e, -1, "handshake complete: %s%s", tlsv_version_string(e->version),
                          e->resumed ? ", resumed" : "");
    if (e->ops && e->ops->free)
        e->ops->free(e);
}

/* ---- observability ---------------------------------------------------------- */

void tlsv_engine_keylog(tlsv_engine *e, const char *label, const uint8_t *secret, size_t len)
{
    tlsv_ctx *ctx = e->ctx;
    if (!ctx->keylog_cb && !ctx->keylog_file)
        return;
    char line[64 + 2 * 32 + 2 * 64 + 4];
    static const char hex[] = "0123456789abcdef";
    size_t n = (size_t)snprintf(line, sizeof line, "%s ", label);
    for (size_t i = 0; i < 32 && n + 2 < sizeof line; i++) {
        line[n++] = hex[e->client_random[i] >> 4];
        line[n++] = hex[e->client_random[i] & 15];
    }
    line[n++] = ' ';
    for (size_t i = 0; i < len && n + 2 < sizeof line; i++) {
        line[n++] = hex[secret[i] >> 4];
        line[n++] = hex[secret[i] & 15];
    }
    line[n] = '\0';
    if (ctx->keylog_cb)
        ctx->keylog_cb(e->conn, line, ctx->keylog_arg);
    if (ctx->keylog_file)
        fprintf((FILE *)ctx->keylog_file, "%s\n", line);
    tlsv_wipe(line, sizeof line);
}

void tlsv_engine_trace(tlsv_engine *e, int direction, const char *fmt, ...)
{
    if (!e->ctx->trace_cb)
        return;
    char text[2304];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    e->ctx->trace_cb(e->conn, direction, text, e->ctx->trace_arg);
}
