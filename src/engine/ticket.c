/*
 * ticket.c -- TLS 1.3 session tickets, server side. See ticket.h.
 */
#include "engine/ticket.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crypto/crypto.h"
#include "engine/keysched13.h"
#include "err.h"
#include "version.h"

#define TICKET_FORMAT 1   /* a TLS 1.3 ticket */
#define TICKET_FORMAT12 2 /* a TLS <= 1.2 ticket (RFC 5077) */
#define KEY_NAME_LEN 16
#define KEY_LEN 32 /* AES-256-GCM */
#define PLAIN_MAX (1 + 2 + 2 + 8 + 4 + 4 + 1 + TLSV_SESSION_MAX_PSK + 2 * (1 + TLSV_SESSION_MAX_NAME) + 1)
#define TICKET_MAX (KEY_NAME_LEN + TLSV_AEAD_NONCE_LEN + PLAIN_MAX + TLSV_AEAD_TAG_LEN)
_Static_assert(TICKET_MAX == TLSV_TICKET_MAX_LEN, "ticket.h and ticket.c agree on the size");

typedef struct tkey {
    bool set;
    uint8_t name[KEY_NAME_LEN];
    uint8_t key[KEY_LEN];
    uint64_t born_ms;
} tkey;

struct tlsv_ticket_keys {
    pthread_mutex_t lock; /* a context is shared by the threads of its connections */
    tkey cur, prev;
};

struct tlsv_ticket_keys *tlsv_ticket_keys_new(void)
{
    struct tlsv_ticket_keys *k = calloc(1, sizeof *k);
    if (k && pthread_mutex_init(&k->lock, NULL) != 0) {
        free(k);
        return NULL;
    }
    return k;
}

void tlsv_ticket_keys_free(struct tlsv_ticket_keys *k)
{
    if (!k)
        return;
    pthread_mutex_destroy(&k->lock);
    tlsv_wipe(k, sizeof *k);
    free(k);
}

/* The current key becomes the previous one; a new current key. Lock held. */
static int rotate_locked(struct tlsv_ticket_keys *k, uint64_t now)
{
    tkey fresh = {.set = true, .born_ms = now};
    if (tlsv_random(fresh.name, sizeof fresh.name) != 0 ||
        tlsv_random(fresh.key, sizeof fresh.key) != 0) {
        tlsv_wipe(&fresh, sizeof fresh);
        return -1;
    }
    k->prev = k->cur;
    k->cur = fresh;
    tlsv_wipe(&fresh, sizeof fresh);
    return 0;
}

/* Makes the first key, or retires the current one after a lifetime. Lock held. */
static int refresh_locked(const tlsv_ctx *ctx, struct tlsv_ticket_keys *k, uint64_t now)
{
    if (!k->cur.set || (now > k->cur.born_ms &&
                        now - k->cur.born_ms >= (uint64_t)ctx->ticket_lifetime * 1000u))
        return rotate_locked(k, now);
    return 0;
}

/* A copy of the key to seal with (0), or -1. */
static int key_current(const tlsv_ctx *ctx, uint64_t now, tkey *out)
{
    struct tlsv_ticket_keys *k = ctx->ticket_keys;
    if (!k)
        return -1;
    pthread_mutex_lock(&k->lock);
    int rc = refresh_locked(ctx, k, now);
    if (rc == 0)
        *out = k->cur;
    pthread_mutex_unlock(&k->lock);
    return rc;
}

/* A copy of the key named `name` if it is the current or the previous one
 * (*is_prev: which). */
static int key_find(const tlsv_ctx *ctx, uint64_t now, const uint8_t *name, tkey *out,
                    bool *is_prev)
{
    struct tlsv_ticket_keys *k = ctx->ticket_keys;
    if (!k)
        return -1;
    int rc = -1;
    pthread_mutex_lock(&k->lock);
    if (refresh_locked(ctx, k, now) == 0) {
        /* key names are not secret: a plain comparison */
        if (k->cur.set && memcmp(k->cur.name, name, KEY_NAME_LEN) == 0) {
            *out = k->cur;
            *is_prev = false;
            rc = 0;
        } else if (k->prev.set && memcmp(k->prev.name, name, KEY_NAME_LEN) == 0) {
            *out = k->prev;
            *is_prev = true;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&k->lock);
    return rc;
}

/* Seals a ticket into out (TICKET_MAX bytes of room); its length, or 0. */
static size_t ticket_seal(const tkey *key, const tlsv_ticket *t, uint8_t *out)
{
    uint8_t plain[PLAIN_MAX];
    tlsv_writer w;
    tlsv_wr_init_fixed(&w, plain, sizeof plain);
    /* the format byte and the version, both sealed, keep the tickets of
     * TLS 1.3 and TLS <= 1.2 apart (ticket_open checks they agree) */
    tlsv_wr_u8(&w, t->version <= TLSV_V_TLS12 ? TICKET_FORMAT12 : TICKET_FORMAT);
    tlsv_wr_u16(&w, t->version);
    tlsv_wr_u16(&w, t->suite);
    tlsv_wr_u64(&w, t->created_ms);
    tlsv_wr_u32(&w, t->lifetime);
    tlsv_wr_u32(&w, t->age_add);
    tlsv_wr_opaque(&w, 1, t->psk, t->psk_len);
    tlsv_wr_opaque(&w, 1, t->alpn, t->alpn_len);
    tlsv_wr_opaque(&w, 1, t->sni, t->sni_len);
    tlsv_wr_u8(&w, (uint8_t)((t->peer_cert ? 1u : 0u) | (t->ems ? 2u : 0u)));
    size_t n = 0;
    tlsv_aead_ctx *a = NULL;
    if (tlsv_wr_ok(&w)) {
        memcpy(out, key->name, KEY_NAME_LEN);
        a = tlsv_aead_new(TLSV_AEAD_AES_256_GCM, key->key, KEY_LEN);
    }
    uint8_t *nonce = out + KEY_NAME_LEN;
    size_t sealed = 0;
    if (a && tlsv_random(nonce, TLSV_AEAD_NONCE_LEN) == 0 &&
        tlsv_aead_seal(a, nonce, TLSV_AEAD_NONCE_LEN, key->name, KEY_NAME_LEN, plain,
                       tlsv_wr_len(&w), nonce + TLSV_AEAD_NONCE_LEN,
                       TICKET_MAX - KEY_NAME_LEN - TLSV_AEAD_NONCE_LEN, &sealed) == 0)
        n = KEY_NAME_LEN + TLSV_AEAD_NONCE_LEN + sealed;
    tlsv_aead_free(a);
    tlsv_wipe(plain, sizeof plain);
    return n;
}

/* Opens a ticket of ours into *t: 0, or -1 (not ours, retired key, damaged,
 * malformed). */
static int ticket_open(const tlsv_ctx *ctx, uint64_t now, tlsv_bytes in, tlsv_ticket *t,
                       bool *old_key)
{
    size_t overhead = KEY_NAME_LEN + TLSV_AEAD_NONCE_LEN + TLSV_AEAD_TAG_LEN;
    if (in.n <= overhead || in.n > TICKET_MAX)
        return -1;
    tkey key;
    if (key_find(ctx, now, in.p, &key, old_key) != 0)
        return -1;
    uint8_t plain[PLAIN_MAX];
    size_t n = 0;
    tlsv_aead_ctx *a = tlsv_aead_new(TLSV_AEAD_AES_256_GCM, key.key, KEY_LEN);
    const uint8_t *nonce = in.p + KEY_NAME_LEN;
    int rc = a && tlsv_aead_open(a, nonce, TLSV_AEAD_NONCE_LEN, key.name, KEY_NAME_LEN,
                                 nonce + TLSV_AEAD_NONCE_LEN,
                                 in.n - KEY_NAME_LEN - TLSV_AEAD_NONCE_LEN, plain, sizeof plain,
                                 &n) == 0
                 ? 0
                 : -1;
    tlsv_aead_free(a);
    tlsv_wipe(&key, sizeof key);
    if (rc == 0) {
        /* authenticated, hence written by ticket_seal; parsed strictly anyway */
        tlsv_reader r, v;
        uint8_t format = 0, flags = 0;
        memset(t, 0, sizeof *t);
        tlsv_rd_init(&r, plain, n);
        tlsv_rd_u8(&r, &format);
        tlsv_rd_u16(&r, &t->version);
        tlsv_rd_u16(&r, &t->suite);
        tlsv_rd_u64(&r, &t->created_ms);
        tlsv_rd_u32(&r, &t->lifetime);
        tlsv_rd_u32(&r, &t->age_add);
        tlsv_rd_vec(&r, 1, 32, TLSV_SESSION_MAX_PSK, &v);
        t->psk_len = tlsv_rd_remaining(&v);
        tlsv_rd_copy(&v, t->psk, t->psk_len);
        tlsv_rd_vec8(&r, &v);
        t->alpn_len = tlsv_rd_remaining(&v);
        tlsv_rd_copy(&v, t->alpn, t->alpn_len);
        tlsv_rd_vec8(&r, &v);
        t->sni_len = tlsv_rd_remaining(&v);
        tlsv_rd_copy(&v, t->sni, t->sni_len);
        tlsv_rd_u8(&r, &flags);
        t->peer_cert = (flags & 1u) != 0;
        t->ems = (flags & 2u) != 0;
        bool tls13 = t->version == TLSV_V_TLS13;
        if (!tlsv_rd_done(&r) || (format != (tls13 ? TICKET_FORMAT : TICKET_FORMAT12)) ||
            (!tls13 && (t->version < TLSV_V_SSL3 || t->version > TLSV_V_TLS12 ||
                        t->psk_len != 48))) {
            tlsv_wipe(t, sizeof *t);
            rc = -1;
        }
    }
    tlsv_wipe(plain, sizeof plain);
    return rc;
}

/* Why a decrypted ticket cannot resume this handshake, or NULL if it can. */
static const char *unusable(const tlsv_engine *e, const tlsv_suite *suite, const tlsv_ticket *t,
                            uint64_t now, uint32_t obfuscated_age)
{
    const tlsv_suite *ts = tlsv_suite_by_id(t->suite);
    if (t->version != TLSV_V_TLS13 || !ts || ts->min_version < TLSV_V_TLS13)
        return "not a TLS 1.3 ticket";
    if (ts->hash != suite->hash || t->psk_len != tlsv_hash_len(suite->hash))
        return "made with a suite of another hash (RFC 8446 §4.2.11)";
    uint64_t age = now > t->created_ms ? now - t->created_ms : 0;
    if (age >= (uint64_t)t->lifetime * 1000u)
        return "expired";
    /* the client's idea of the age (§4.2.11.1), within a tolerance */
    int64_t client_age = (int64_t)(uint32_t)(obfuscated_age - t->age_add);
    int64_t diff = client_age - (int64_t)age;
    if (diff > (int64_t)TLSV_TICKET_AGE_TOLERANCE_MS || diff < -(int64_t)TLSV_TICKET_AGE_TOLERANCE_MS)
        return "the client's ticket age is not the server's";
    size_t sni_len = e->server_name ? strlen(e->server_name) : 0;
    if (sni_len != t->sni_len || (sni_len && memcmp(e->server_name, t->sni, sni_len) != 0))
        return "issued for another server name";
    if (e->ctx->verify_mode == TLSV_CERT_REQUIRED && !t->peer_cert)
        return "the client was not authenticated by a certificate, which this context requires";
    return NULL;
}

int tlsv_tls13_find_ticket(tlsv_engine *e, const tlsv_client_hello *ch, const tlsv_suite *suite,
                           size_t *index, tlsv_ticket *t)
{
    uint64_t now = tlsv_ctx_now_ms(e->ctx);
    tlsv_iter it;
    tlsv_bytes id;
    uint32_t obfuscated_age;
    tlsv_iter_init(&it, ch->psk_identities);
    for (size_t i = 0;
         i < TLSV_TICKET_MAX_IDENTITIES && tlsv_iter_psk_identity(&it, &id, &obfuscated_age);
         i++) {
        bool old_key;
        if (ticket_open(e->ctx, now, id, t, &old_key) != 0) {
            if (TLSV_TRACING(e))
                tlsv_engine_trace(e, -1, "PSK identity %zu: not a ticket of this context (or "
                                         "under a retired key)", i);
            continue;
        }
        const char *why = unusable(e, suite, t, now, obfuscated_age);
        if (!why) {
            *index = i;
            return 1;
        }
        if (TLSV_TRACING(e))
            tlsv_engine_trace(e, -1, "PSK identity %zu: ticket not used: %s", i, why);
        tlsv_wipe(t, sizeof *t);
    }
    return 0;
}

int tlsv_tls13_send_tickets(tlsv_engine *e, const uint8_t *rms, size_t hlen, bool peer_cert)
{
    const tlsv_ctx *ctx = e->ctx;
    const tlsv_suite *suite = tlsv_suite_by_id(e->suite);
    size_t sni_len = e->server_name ? strlen(e->server_name) : 0;
    size_t alpn_len = e->alpn ? strlen(e->alpn) : 0;
    if (ctx->num_tickets == 0 || (ctx->vcfg.options & TLSV_OP_NO_TICKET) || !suite ||
        hlen != tlsv_hash_len(suite->hash) || hlen > TLSV_SESSION_MAX_PSK ||
        sni_len > TLSV_SESSION_MAX_NAME || alpn_len > TLSV_SESSION_MAX_NAME)
        return 0;
    uint64_t now = tlsv_ctx_now_ms(ctx);
    tkey key;
    if (key_current(ctx, now, &key) != 0)
        return 0; /* no key (no memory or randomness): no tickets, the connection goes on */
    tlsv_ticket t = {
        .version = TLSV_V_TLS13,
        .suite = e->suite,
        .created_ms = now,
        .lifetime = ctx->ticket_lifetime,
        .psk_len = hlen,
        .alpn_len = alpn_len,
        .sni_len = sni_len,
        .peer_cert = peer_cert,
    };
    if (alpn_len)
        memcpy(t.alpn, e->alpn, alpn_len);
    if (sni_len)
        memcpy(t.sni, e->server_name, sni_len);
    int rc = 0;
    for (size_t i = 0; i < ctx->num_tickets && rc == 0; i++) {
        /* ticket_nonce: unique per ticket of this connection (§4.6.1) */
        uint8_t nonce[8] = {0, 0, 0, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i};
        uint8_t ticket[TICKET_MAX];
        size_t ticket_len = 0;
        if (tlsv_random(&t.age_add, sizeof t.age_add) != 0 ||
            tlsv_ks13_ticket_psk(suite->hash, rms, hlen, nonce, sizeof nonce, t.psk) != 0 ||
            (ticket_len = ticket_seal(&key, &t, ticket)) == 0) {
            rc = tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                  "could not make a session ticket");
            break;
        }
        tlsv_new_session_ticket_params p = {
            .version = TLSV_V_TLS13,
            .lifetime = t.lifetime,
            .age_add = t.age_add,
            .nonce = {nonce, sizeof nonce},
            .ticket = {ticket, ticket_len},
        };
        uint8_t msg[TICKET_MAX + 64];
        tlsv_writer w;
        tlsv_error err;
        tlsv_wr_init_fixed(&w, msg, sizeof msg);
        if (tlsv_msg_write_new_session_ticket(&w, &p, &err) != 0)
            rc = tlsv_engine_fail_err(e, &err);
        else
            rc = tlsv_engine_send_handshake(e, tlsv_wr_data(&w), tlsv_wr_len(&w));
    }
    tlsv_wipe(&t, sizeof t);
    tlsv_wipe(&key, sizeof key);
    return rc;
}

/* ---- TLS <= 1.2 tickets (RFC 5077) ---------------------------------------- */

size_t tlsv_tls12_ticket_seal(const tlsv_ctx *ctx, const tlsv_ticket *t, uint8_t *out,
                              size_t cap)
{
    tkey key;
    if (cap < TLSV_TICKET_MAX_LEN || t->version > TLSV_V_TLS12 || t->psk_len != 48 ||
        key_current(ctx, t->created_ms, &key) != 0)
        return 0;
    size_t n = ticket_seal(&key, t, out);
    tlsv_wipe(&key, sizeof key);
    return n;
}

int tlsv_tls12_ticket_open(const tlsv_ctx *ctx, tlsv_bytes ticket, tlsv_ticket *t, bool *renew)
{
    bool old_key = false;
    if (ticket_open(ctx, tlsv_ctx_now_ms(ctx), ticket, t, &old_key) != 0)
        return -1;
    if (t->version > TLSV_V_TLS12) { /* a TLS 1.3 ticket is no TLS 1.2 session */
        tlsv_wipe(t, sizeof *t);
        return -1;
    }
    *renew = old_key;
    return 0;
}

/* ---- the context's settings (tlsv.h) -------------------------------------- */

int tlsv_ctx_set_num_tickets(tlsv_ctx *ctx, size_t n)
{
    if (!ctx)
        return -1;
    if (ctx->vcfg.protocol == TLSV_PROTOCOL_TLS_CLIENT) {
        tlsv_err_set(&ctx->last_error, TLSV_R_WRONG_SIDE, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "num_tickets is a server setting; this is a TLS_CLIENT context");
        return -1;
    }
    if (n > TLSV_TICKET_MAX_COUNT) {
        tlsv_err_set(&ctx->last_error, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE,
                     TLSV_SIDE_LOCAL, "num_tickets %zu is above the limit of %d", n,
                     TLSV_TICKET_MAX_COUNT);
        return -1;
    }
    ctx->num_tickets = n;
    return 0;
}

size_t tlsv_ctx_get_num_tickets(const tlsv_ctx *ctx)
{
    return ctx ? ctx->num_tickets : 0;
}

int tlsv_ctx_set_ticket_lifetime(tlsv_ctx *ctx, uint32_t seconds)
{
    if (!ctx)
        return -1;
    if (seconds == 0 || seconds > TLSV_TICKET_MAX_LIFETIME) {
        tlsv_err_set(&ctx->last_error, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE,
                     TLSV_SIDE_LOCAL,
                     "a ticket lifetime of %u s is outside 1..604800 (RFC 8446 §4.6.1)",
                     (unsigned)seconds);
        return -1;
    }
    ctx->ticket_lifetime = seconds;
    return 0;
}

uint32_t tlsv_ctx_get_ticket_lifetime(const tlsv_ctx *ctx)
{
    return ctx ? ctx->ticket_lifetime : 0;
}

int tlsv_ctx_rotate_ticket_keys(tlsv_ctx *ctx)
{
    if (!ctx || !ctx->ticket_keys)
        return -1;
    struct tlsv_ticket_keys *k = ctx->ticket_keys;
    pthread_mutex_lock(&k->lock);
    int rc = rotate_locked(k, tlsv_ctx_now_ms(ctx));
    pthread_mutex_unlock(&k->lock);
    if (rc != 0)
        tlsv_err_set(&ctx->last_error, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "no randomness for a new ticket key");
    return rc;
}
