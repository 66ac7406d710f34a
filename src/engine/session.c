/*
 * session.c -- sessions, client side (TLS 1.3, and TLS 1.2 and below). See
 * session.h.
 *
 * The bytes of a session (tlsv_session_to_bytes), all integers big-endian,
 * every field through buf.h. A TLS 1.3 session is written in format
 * version 1:
 *
 *   magic[4]           "tlsv"
 *   u8  format         1
 *   u16 version        0x0304
 *   u16 suite          a TLS 1.3 suite
 *   u64 time_ms        when the ticket was received (ms since the epoch)
 *   u32 lifetime       seconds, 1..604800
 *   u32 age_add
 *   u32 max_early_data
 *   u8  flags          bit 0: the server's certificate was verified; others 0
 *   opaque psk<1..48>            exactly the suite's hash length
 *   opaque ticket<1..2^16-1>
 *   opaque server_name<0..255>   no NUL byte
 *   opaque alpn<0..255>          no NUL byte
 *
 * and nothing after it. A TLS 1.2/1.1/1.0/SSL 3.0 session is written in
 * format version 2 (both are read):
 *
 *   magic[4]           "tlsv"
 *   u8  format         2
 *   u16 version        0x0300..0x0303
 *   u16 suite          a suite usable at that version
 *   u64 time_ms        when the handshake that made it finished
 *   u32 lifetime       seconds, 1..604800 (the ticket's lifetime hint or
 *                      TLSV_SESSION12_CLIENT_LIFETIME)
 *   u8  flags          bit 0: verified; bit 1: extended master secret
 *                      (required above SSL 3.0); others 0
 *   opaque master<48>            the master secret, exactly 48 bytes
 *   opaque session_id<0..32>
 *   opaque ticket<0..2^16-1>     (a session ID or a ticket, or both)
 *   opaque server_name<0..255>
 *   opaque alpn<0..255>
 */
#include "engine/session.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "engine/keysched13.h"
#include "engine/msg.h"
#include "engine/suites.h"
#include "err.h"
#include "version.h"
#include "x509.h"

#define SESSION_FORMAT 1   /* TLS 1.3 sessions */
#define SESSION_FORMAT12 2 /* TLS <= 1.2 sessions */
static const uint8_t session_magic[4] = {'t', 'l', 's', 'v'};

uint64_t tlsv_ctx_now_ms(const tlsv_ctx *ctx)
{
    if (ctx && ctx->clock_ms)
        return ctx->clock_ms(ctx->clock_arg);
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

tlsv_session *tlsv_session_ref(tlsv_session *s)
{
    if (s)
        atomic_fetch_add(&s->refs, 1);
    return s;
}

void tlsv_session_free(tlsv_session *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    tlsv_wipe(s->psk, sizeof s->psk);
    free(s->ticket);
    free(s->server_name);
    free(s->alpn);
    tlsv_x509_chain_free(s->peer_chain);
    free(s);
}

tlsv_hash_alg tlsv_session_hash(const tlsv_session *s)
{
    const tlsv_suite *st = s ? tlsv_suite_by_id(s->suite) : NULL;
    return st && st->min_version >= TLSV_V_TLS13 ? st->hash : TLSV_HASH_NONE;
}

bool tlsv_session_offerable(const tlsv_engine *e, const tlsv_session *s)
{
    const tlsv_ctx *ctx = e->ctx;
    if (!s || s->version != TLSV_V_TLS13 || s->ticket_len == 0)
        return false;
    uint64_t now = tlsv_ctx_now_ms(ctx);
    if (now > s->time_ms && now - s->time_ms >= (uint64_t)s->lifetime * 1000u)
        return false; /* expired (RFC 8446 §4.6.1) */
    if ((s->server_name == NULL) != (e->server_name == NULL) ||
        (s->server_name && strcmp(s->server_name, e->server_name) != 0))
        return false; /* made with another server */
    if (!s->verified && ctx->verify_mode != TLSV_CERT_NONE)
        return false; /* it would skip a verification this context asks for */
    tlsv_hash_alg h = tlsv_session_hash(s);
    if (h == TLSV_HASH_NONE || s->psk_len != tlsv_hash_len(h))
        return false;
    for (size_t i = 0; i < ctx->n_suites13; i++) {
        const tlsv_suite *st = tlsv_suite_by_id(ctx->suites13[i]);
        if (st && st->hash == h)
            return true; /* a suite the PSK can be used with (§4.2.11) */
    }
    return false;
}

bool tlsv_session12_offerable(const tlsv_engine *e, const tlsv_session *s, unsigned offered,
                              const uint16_t *suites, size_t n_suites)
{
    const tlsv_ctx *ctx = e->ctx;
    if (!s || s->version > TLSV_V_TLS12 || !tlsv_vset_has((tlsv_vset)offered, s->version) ||
        s->psk_len != 48)
        return false;
    /* RFC 7627 §5.3: only sessions with the extended master secret; an
     * SSL 3.0 session only in a hello without the extension (SSL 3.0 only) */
    if (!s->ems && (s->version > TLSV_V_SSL3 || tlsv_vset_max((tlsv_vset)offered) > TLSV_V_SSL3))
        return false;
    bool ticket = s->ticket_len > 0 && s->version > TLSV_V_SSL3 &&
                  !(ctx->vcfg.options & TLSV_OP_NO_TICKET);
    if (!ticket && s->session_id_len == 0)
        return false;
    uint64_t now = tlsv_ctx_now_ms(ctx);
    if (now > s->time_ms && now - s->time_ms >= (uint64_t)s->lifetime * 1000u)
        return false;
    if ((s->server_name == NULL) != (e->server_name == NULL) ||
        (s->server_name && strcmp(s->server_name, e->server_name) != 0))
        return false;
    if (!s->verified && ctx->verify_mode != TLSV_CERT_NONE)
        return false;
    if (!tlsv_suite_usable(tlsv_suite_by_id(s->suite), s->version))
        return false;
    for (size_t i = 0; i < n_suites; i++)
        if (suites[i] == s->suite)
            return true; /* never another suite (RFC 5246 §7.4.1.2) */
    return false;
}

static char *dup_name(const char *s);

void tlsv_session12_made(tlsv_engine *e, uint16_t version, uint16_t suite,
                         const uint8_t master[48], bool ems, const uint8_t *session_id,
                         size_t session_id_len, const uint8_t *ticket, size_t ticket_len,
                         uint32_t lifetime_hint)
{
    if ((!ems && version > TLSV_V_SSL3) || (session_id_len == 0 && ticket_len == 0) ||
        session_id_len > 32 || (e->server_name && strlen(e->server_name) > TLSV_SESSION_MAX_NAME) ||
        (e->alpn && strlen(e->alpn) > TLSV_SESSION_MAX_NAME))
        return;
    tlsv_session *s = calloc(1, sizeof *s);
    if (!s)
        return; /* out of memory: no session, the connection goes on */
    atomic_init(&s->refs, 1);
    s->version = version;
    s->suite = suite;
    s->psk_len = 48;
    memcpy(s->psk, master, 48);
    s->ems = ems;
    s->session_id_len = session_id_len;
    if (session_id_len)
        memcpy(s->session_id, session_id, session_id_len);
    s->lifetime = lifetime_hint == 0                       ? TLSV_SESSION12_CLIENT_LIFETIME
                  : lifetime_hint < TLSV_TICKET_MAX_LIFETIME ? lifetime_hint
                                                             : TLSV_TICKET_MAX_LIFETIME;
    s->time_ms = tlsv_ctx_now_ms(e->ctx);
    s->verified = e->resumed ? e->session && e->session->verified
                             : e->ctx->verify_mode != TLSV_CERT_NONE;
    s->server_name = dup_name(e->server_name);
    s->alpn = dup_name(e->alpn);
    if (ticket_len) {
        s->ticket = malloc(ticket_len);
        if (s->ticket) {
            memcpy(s->ticket, ticket, ticket_len);
            s->ticket_len = ticket_len;
        }
    }
    if ((ticket_len && !s->ticket) || (e->server_name && !s->server_name) ||
        (e->alpn && !s->alpn)) {
        tlsv_session_free(s);
        return;
    }
    s->peer_chain = tlsv_x509_chain_up_ref(e->peer_chain);
    tlsv_session_free(e->latest);
    e->latest = s;
    if (TLSV_TRACING(e))
        tlsv_engine_trace(e, -1, "new %s session: session ID of %zu bytes, ticket of %zu bytes",
                          tlsv_version_string(version), session_id_len, ticket_len);
}

static char *dup_name(const char *s)
{
    return s && strlen(s) <= TLSV_SESSION_MAX_NAME ? strdup(s) : NULL;
}

int tlsv_session_on_ticket(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    tlsv_new_session_ticket t;
    tlsv_error err;
    if (tlsv_msg_parse_new_session_ticket(msg + 4, len - 4, TLSV_V_TLS13, &t, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    /* lifetime 0: discard at once (§4.6.1); names we could not keep: the
     * session could not be offered correctly, so it is not kept either */
    if (t.lifetime == 0 || e->secret_len == 0 || e->secret_len > TLSV_SESSION_MAX_PSK ||
        (e->server_name && strlen(e->server_name) > TLSV_SESSION_MAX_NAME) ||
        (e->alpn && strlen(e->alpn) > TLSV_SESSION_MAX_NAME))
        return 0;
    tlsv_session *s = calloc(1, sizeof *s);
    if (!s)
        return 0; /* out of memory: the ticket is dropped, the connection goes on */
    atomic_init(&s->refs, 1);
    s->version = e->version;
    s->suite = e->suite;
    s->psk_len = e->secret_len;
    s->lifetime = t.lifetime < TLSV_TICKET_MAX_LIFETIME ? t.lifetime : TLSV_TICKET_MAX_LIFETIME;
    s->age_add = t.age_add;
    s->time_ms = tlsv_ctx_now_ms(e->ctx);
    s->max_early_data = t.max_early_data_size;
    /* a resumed handshake inherits the verification of the one that made its session */
    s->verified = e->resumed ? e->session && e->session->verified
                             : e->ctx->verify_mode != TLSV_CERT_NONE;
    s->ticket = malloc(t.ticket.n);
    s->ticket_len = t.ticket.n;
    s->server_name = dup_name(e->server_name);
    s->alpn = dup_name(e->alpn);
    if (!s->ticket || (e->server_name && !s->server_name) || (e->alpn && !s->alpn) ||
        tlsv_ks13_ticket_psk(e->hash, e->res_secret, e->secret_len, t.nonce.p, t.nonce.n,
                             s->psk) != 0) {
        tlsv_session_free(s);
        return 0;
    }
    memcpy(s->ticket, t.ticket.p, t.ticket.n);
    s->peer_chain = tlsv_x509_chain_up_ref(e->peer_chain);
    tlsv_session_free(e->latest);
    e->latest = s;
    if (TLSV_TRACING(e))
        tlsv_engine_trace(e, -1, "new session: ticket of %zu bytes, lifetime %u s",
                          s->ticket_len, (unsigned)s->lifetime);
    return 0;
}

/* ---- the public functions ------------------------------------------------- */

static size_t session12_to_bytes(const tlsv_session *s, uint8_t *buf, size_t cap)
{
    size_t sn = s->server_name ? strlen(s->server_name) : 0;
    size_t an = s->alpn ? strlen(s->alpn) : 0;
    size_t need = 4 + 1 + 2 + 2 + 8 + 4 + 1 + (1 + 48) + (1 + s->session_id_len) +
                  (2 + s->ticket_len) + (1 + sn) + (1 + an);
    if (!buf || cap < need)
        return need;
    tlsv_writer w;
    tlsv_wr_init_fixed(&w, buf, cap);
    tlsv_wr_bytes(&w, session_magic, sizeof session_magic);
    tlsv_wr_u8(&w, SESSION_FORMAT12);
    tlsv_wr_u16(&w, s->version);
    tlsv_wr_u16(&w, s->suite);
    tlsv_wr_u64(&w, s->time_ms);
    tlsv_wr_u32(&w, s->lifetime);
    tlsv_wr_u8(&w, (uint8_t)((s->verified ? 1u : 0u) | (s->ems ? 2u : 0u)));
    tlsv_wr_opaque(&w, 1, s->psk, 48);
    tlsv_wr_opaque(&w, 1, s->session_id, s->session_id_len);
    tlsv_wr_opaque(&w, 2, s->ticket, s->ticket_len);
    tlsv_wr_opaque(&w, 1, (const uint8_t *)s->server_name, sn);
    tlsv_wr_opaque(&w, 1, (const uint8_t *)s->alpn, an);
    if (!tlsv_wr_ok(&w) || tlsv_wr_len(&w) != need)
        tlsv_memwipe(buf, cap < need ? cap : need);
    return need;
}

size_t tlsv_session_to_bytes(const tlsv_session *s, uint8_t *buf, size_t cap)
{
    if (!s)
        return 0;
    if (s->version <= TLSV_V_TLS12)
        return session12_to_bytes(s, buf, cap);
    size_t sn = s->server_name ? strlen(s->server_name) : 0;
    size_t an = s->alpn ? strlen(s->alpn) : 0;
    size_t need = 4 + 1 + 2 + 2 + 8 + 4 + 4 + 4 + 1 + (1 + s->psk_len) + (2 + s->ticket_len) +
                  (1 + sn) + (1 + an);
    if (!buf || cap < need)
        return need;
    tlsv_writer w;
    tlsv_wr_init_fixed(&w, buf, cap);
    tlsv_wr_bytes(&w, session_magic, sizeof session_magic);
    tlsv_wr_u8(&w, SESSION_FORMAT);
    tlsv_wr_u16(&w, s->version);
    tlsv_wr_u16(&w, s->suite);
    tlsv_wr_u64(&w, s->time_ms);
    tlsv_wr_u32(&w, s->lifetime);
    tlsv_wr_u32(&w, s->age_add);
    tlsv_wr_u32(&w, s->max_early_data);
    tlsv_wr_u8(&w, s->verified ? 1u : 0u);
    tlsv_wr_opaque(&w, 1, s->psk, s->psk_len);
    tlsv_wr_opaque(&w, 2, s->ticket, s->ticket_len);
    tlsv_wr_opaque(&w, 1, (const uint8_t *)s->server_name, sn);
    tlsv_wr_opaque(&w, 1, (const uint8_t *)s->alpn, an);
    if (!tlsv_wr_ok(&w) || tlsv_wr_len(&w) != need) {
        tlsv_memwipe(buf, cap < need ? cap : need);
        return need; /* cannot happen: need was computed from the same fields */
    }
    return need;
}

/* A name field: 0..255 bytes without NUL; empty -> NULL. false on a bad one
 * or no memory. */
static bool read_name(tlsv_reader *r, char **out)
{
    tlsv_reader v;
    *out = NULL;
    if (!tlsv_rd_vec8(r, &v))
        return false;
    size_t n = tlsv_rd_remaining(&v);
    if (n == 0)
        return true;
    const uint8_t *p;
    if (!tlsv_rd_view(&v, n, &p) || memchr(p, 0, n))
        return false;
    *out = malloc(n + 1);
    if (!*out)
        return false;
    memcpy(*out, p, n);
    (*out)[n] = '\0';
    return true;
}

tlsv_session *tlsv_session_from_bytes(const uint8_t *data, size_t len, tlsv_error *err)
{
    tlsv_err_clear(err);
    if (!data && len) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "no session bytes");
        return NULL;
    }
    tlsv_session *s = calloc(1, sizeof *s);
    if (!s) {
        tlsv_err_set(err, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "could not allocate a session");
        return NULL;
    }
    atomic_init(&s->refs, 1);
    tlsv_reader r, v;
    tlsv_rd_init(&r, data, len);
    uint8_t magic[4], format = 0, flags = 0;
    uint16_t version = 0, suite = 0;
    const char *why = "it is truncated or a length does not fit";
    tlsv_rd_copy(&r, magic, sizeof magic);
    tlsv_rd_u8(&r, &format);
    if (!tlsv_rd_ok(&r) || memcmp(magic, session_magic, sizeof magic) != 0 ||
        (format != SESSION_FORMAT && format != SESSION_FORMAT12)) {
        why = "they are not tlsv session bytes of format 1 or 2";
        goto bad;
    }
    if (format == SESSION_FORMAT12) {
        tlsv_rd_u16(&r, &s->version);
        tlsv_rd_u16(&r, &s->suite);
        tlsv_rd_u64(&r, &s->time_ms);
        tlsv_rd_u32(&r, &s->lifetime);
        tlsv_rd_u8(&r, &flags);
        if (!tlsv_rd_vec(&r, 1, 48, 48, &v))
            goto bad;
        s->psk_len = 48;
        tlsv_rd_copy(&v, s->psk, 48);
        if (!tlsv_rd_vec(&r, 1, 0, 32, &v))
            goto bad;
        s->session_id_len = tlsv_rd_remaining(&v);
        tlsv_rd_copy(&v, s->session_id, s->session_id_len);
        if (!tlsv_rd_vec(&r, 2, 0, TLSV_U16_MAX, &v))
            goto bad;
        s->ticket_len = tlsv_rd_remaining(&v);
        if (s->ticket_len) {
            s->ticket = malloc(s->ticket_len);
            if (!s->ticket || !tlsv_rd_copy(&v, s->ticket, s->ticket_len))
                goto bad;
        }
        if (!read_name(&r, &s->server_name) || !read_name(&r, &s->alpn) || !tlsv_rd_done(&r)) {
            why = "a name is malformed, or bytes follow the session";
            goto bad;
        }
        s->verified = (flags & 1u) != 0;
        s->ems = (flags & 2u) != 0;
        if (s->version < TLSV_V_SSL3 || s->version > TLSV_V_TLS12 ||
            !tlsv_suite_usable(tlsv_suite_by_id(s->suite), s->version) || s->lifetime == 0 ||
            s->lifetime > TLSV_TICKET_MAX_LIFETIME || (flags & ~3u) != 0 ||
            (!s->ems && s->version > TLSV_V_SSL3) ||
            (s->session_id_len == 0 && s->ticket_len == 0)) {
            why = "a field holds a value out of range";
            goto bad;
        }
        return s;
    }
    tlsv_rd_u16(&r, &version);
    tlsv_rd_u16(&r, &suite);
    tlsv_rd_u64(&r, &s->time_ms);
    tlsv_rd_u32(&r, &s->lifetime);
    tlsv_rd_u32(&r, &s->age_add);
    tlsv_rd_u32(&r, &s->max_early_data);
    tlsv_rd_u8(&r, &flags);
    if (!tlsv_rd_vec(&r, 1, 1, TLSV_SESSION_MAX_PSK, &v))
        goto bad;
    s->version = version;
    s->suite = suite;
    s->psk_len = tlsv_rd_remaining(&v);
    tlsv_rd_copy(&v, s->psk, s->psk_len);
    if (!tlsv_rd_vec(&r, 2, 1, TLSV_U16_MAX, &v))
        goto bad;
    s->ticket_len = tlsv_rd_remaining(&v);
    s->ticket = malloc(s->ticket_len);
    if (!s->ticket || !tlsv_rd_copy(&v, s->ticket, s->ticket_len))
        goto bad;
    if (!read_name(&r, &s->server_name) || !read_name(&r, &s->alpn) || !tlsv_rd_done(&r)) {
        why = "a name is malformed, or bytes follow the session";
        goto bad;
    }
    tlsv_hash_alg h = tlsv_session_hash(s);
    if (version != TLSV_V_TLS13 || h == TLSV_HASH_NONE || s->psk_len != tlsv_hash_len(h) ||
        s->lifetime == 0 || s->lifetime > TLSV_TICKET_MAX_LIFETIME || (flags & ~1u) != 0) {
        why = "a field holds a value out of range";
        goto bad;
    }
    s->verified = (flags & 1u) != 0;
    return s;
bad:
    tlsv_err_set(err, TLSV_R_DECODE_ERROR, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                 "the session bytes (%zu) cannot be used: %s", len, why);
    tlsv_session_free(s);
    return NULL;
}

long tlsv_session_time(const tlsv_session *s)
{
    return s ? (long)(s->time_ms / 1000u) : -1;
}

long tlsv_session_lifetime_hint(const tlsv_session *s)
{
    return s ? (long)s->lifetime : -1;
}

int tlsv_session_version(const tlsv_session *s)
{
    return s ? s->version : 0;
}

const char *tlsv_session_cipher(const tlsv_session *s)
{
    const tlsv_suite *st = s ? tlsv_suite_by_id(s->suite) : NULL;
    return st ? st->openssl : NULL;
}
