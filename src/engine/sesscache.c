/*
 * sesscache.c -- TLS <= 1.2 server sessions: the session-ID cache, tickets
 * and the choice of a session to resume. See sesscache.h.
 *
 * The cache: entries in a hash table by session ID (IDs are 32 random bytes
 * of ours, so the first bytes spread them), and in a list by age for
 * oldest-first eviction. One mutex guards both.
 */
#include "engine/sesscache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crypto/crypto.h"
#include "engine/session.h"
#include "engine/suites.h"
#include "engine/ticket.h"
#include "err.h"
#include "version.h"
#include "x509.h"

#define NBUCKETS 4096u

typedef struct node {
    struct node *older, *newer; /* by age: cache->oldest .. cache->newest */
    struct node *next;          /* in its bucket */
    uint8_t id[32];
    size_t id_len;
    uint16_t version, suite;
    uint8_t master[48];
    bool ems, peer_cert;
    tlsv_x509_chain *peer_chain;
    char *sni, *alpn;           /* NULL: none */
    uint64_t created_ms;
} node;

struct tlsv_sess_cache {
    pthread_mutex_t lock;
    node *oldest, *newest;
    size_t count;
    node *buckets[NBUCKETS];
};

struct tlsv_sess_cache *tlsv_sess_cache_new(void)
{
    struct tlsv_sess_cache *c = calloc(1, sizeof *c);
    if (c && pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

static size_t bucket_of(const uint8_t *id, size_t len)
{
    uint32_t h = (uint32_t)len * 2654435761u;
    for (size_t i = 0; i < len && i < 4; i++)
        h = (h ^ id[i]) * 16777619u;
    return h % NBUCKETS;
}

static void node_free(node *n)
{
    tlsv_x509_chain_free(n->peer_chain);
    free(n->sni);
    free(n->alpn);
    tlsv_wipe(n, sizeof *n);
    free(n);
}

/* Takes n out of both structures and frees it. Lock held. */
static void unlink_node(struct tlsv_sess_cache *c, node *n)
{
    node **pp = &c->buckets[bucket_of(n->id, n->id_len)];
    while (*pp && *pp != n)
        pp = &(*pp)->next;
    if (*pp)
        *pp = n->next;
    if (n->older)
        n->older->newer = n->newer;
    else
        c->oldest = n->newer;
    if (n->newer)
        n->newer->older = n->older;
    else
        c->newest = n->older;
    c->count--;
    node_free(n);
}

void tlsv_sess_cache_free(struct tlsv_sess_cache *c)
{
    if (!c)
        return;
    while (c->oldest)
        unlink_node(c, c->oldest);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static bool expired(uint64_t created, uint64_t now, uint32_t seconds)
{
    return now > created && now - created >= (uint64_t)seconds * 1000u;
}

/* Drops expired entries from the old end, then the oldest ones until at
 * most `keep` remain. Lock held. */
static void trim_locked(struct tlsv_sess_cache *c, size_t keep, uint64_t now, uint32_t timeout)
{
    while (c->oldest && expired(c->oldest->created_ms, now, timeout))
        unlink_node(c, c->oldest);
    while (c->count > keep)
        unlink_node(c, c->oldest);
}

void tlsv_resume12_clear(tlsv_resume12 *r)
{
    tlsv_x509_chain_free(r->peer_chain);
    tlsv_wipe(r, sizeof *r);
}

/* ---- the choice of a session ---------------------------------------------- */

static bool same_name(const char *have, const uint8_t *p, size_t n)
{
    size_t len = have ? strlen(have) : 0;
    return len == n && (n == 0 || memcmp(have, p, n) == 0);
}

/* Why a session cannot be resumed here, or NULL if it can. */
static const char *unfit(const tlsv_engine *e, const tlsv_client_hello *ch, uint16_t version,
                         const uint16_t *ours, size_t n_ours, const tlsv_resume12 *r)
{
    if (r->version != version)
        return "made at another protocol version";
    bool ours_has = false;
    for (size_t i = 0; i < n_ours; i++)
        ours_has = ours_has || ours[i] == r->suite;
    if (!ours_has || !tlsv_ch_has_suite(ch, r->suite) ||
        !tlsv_suite_usable(tlsv_suite_by_id(r->suite), version))
        return "its cipher suite is not offered or not enabled";
    /* RFC 7627 §5.3: never a session without the extended master secret
     * (SSL 3.0 cannot carry it: its sessions only for a ClientHello without
     * it either); one with it only if the new ClientHello offers it too */
    bool ch_ems = tlsv_ext_present(ch->present, TLSV_EXTID_EXTENDED_MASTER_SECRET);
    if (!r->ems && version > TLSV_V_SSL3)
        return "made without the extended master secret";
    if (r->ems && !ch_ems)
        return "the ClientHello does not offer the extended master secret";
    if (!r->ems && ch_ems)
        return "made without the extended master secret, which the ClientHello offers";
    if (e->ctx->verify_mode == TLSV_CERT_REQUIRED && !r->peer_cert)
        return "the client was not authenticated by a certificate, which this context requires";
    return NULL;
}

static bool from_ticket(tlsv_engine *e, tlsv_bytes ticket, tlsv_resume12 *out)
{
    tlsv_ticket t;
    bool renew = false;
    if (tlsv_tls12_ticket_open(e->ctx, ticket, &t, &renew) != 0) {
        if (TLSV_TRACING(e))
            tlsv_engine_trace(e, -1, "session ticket: not a TLS <= 1.2 ticket of this context "
                                     "(or damaged, or under a retired key)");
        return false;
    }
    const char *why = NULL;
    if (expired(t.created_ms, tlsv_ctx_now_ms(e->ctx), t.lifetime))
        why = "expired";
    else if (!same_name(e->server_name, t.sni, t.sni_len))
        why = "issued for another server name";
    else if (!same_name(e->alpn, t.alpn, t.alpn_len))
        why = "made with another ALPN protocol";
    if (why) {
        if (TLSV_TRACING(e))
            tlsv_engine_trace(e, -1, "session ticket not used: %s", why);
        tlsv_wipe(&t, sizeof t);
        return false;
    }
    *out = (tlsv_resume12){.version = t.version,
                           .suite = t.suite,
                           .ems = t.ems,
                           .peer_cert = t.peer_cert,
                           .by_ticket = true,
                           .renew = renew};
    memcpy(out->master, t.psk, 48);
    tlsv_wipe(&t, sizeof t);
    return true;
}

static bool from_cache(tlsv_engine *e, tlsv_bytes id, tlsv_resume12 *out)
{
    const tlsv_ctx *ctx = e->ctx;
    struct tlsv_sess_cache *c = ctx->sess_cache;
    if (!c || id.n == 0 || id.n > 32)
        return false;
    const char *why = "unknown session ID";
    pthread_mutex_lock(&c->lock);
    node *n = c->buckets[bucket_of(id.p, id.n)];
    while (n && (n->id_len != id.n || memcmp(n->id, id.p, id.n) != 0))
        n = n->next;
    if (n && expired(n->created_ms, tlsv_ctx_now_ms(ctx), ctx->sess_timeout)) {
        unlink_node(c, n);
        n = NULL;
        why = "session ID expired";
    }
    if (n && (!same_name(e->server_name, (const uint8_t *)n->sni, n->sni ? strlen(n->sni) : 0) ||
              !same_name(e->alpn, (const uint8_t *)n->alpn, n->alpn ? strlen(n->alpn) : 0))) {
        n = NULL;
        why = "session ID of another server name or ALPN protocol";
    }
    if (n) {
        *out = (tlsv_resume12){.version = n->version,
                               .suite = n->suite,
                               .ems = n->ems,
                               .peer_cert = n->peer_cert,
                               .peer_chain = tlsv_x509_chain_up_ref(n->peer_chain)};
        memcpy(out->master, n->master, 48);
    }
    pthread_mutex_unlock(&c->lock);
    if (!n && TLSV_TRACING(e))
        tlsv_engine_trace(e, -1, "session ID of %zu bytes not resumed: %s", id.n, why);
    return n != NULL;
}

bool tlsv_tls12_find_session(tlsv_engine *e, const tlsv_client_hello *ch, uint16_t version,
                             const uint16_t *ours, size_t n_ours, tlsv_resume12 *out)
{
    memset(out, 0, sizeof *out);
    bool tickets = version > TLSV_V_SSL3 && !(e->ctx->vcfg.options & TLSV_OP_NO_TICKET) &&
                   tlsv_ext_present(ch->present, TLSV_EXTID_SESSION_TICKET);
    bool found = false;
    if (tickets && ch->session_ticket.n > 0)
        found = from_ticket(e, ch->session_ticket, out);
    if (!found && e->ctx->sess_cache_size > 0)
        found = from_cache(e, ch->session_id, out);
    if (!found)
        return false;
    const char *why = unfit(e, ch, version, ours, n_ours, out);
    if (why) {
        if (TLSV_TRACING(e))
            tlsv_engine_trace(e, -1, "session not resumed: %s", why);
        tlsv_resume12_clear(out);
        return false;
    }
    return true;
}

/* ---- issuing -------------------------------------------------------------- */

bool tlsv_tls12_will_send_ticket(const tlsv_engine *e, const tlsv_client_hello *ch,
                                 uint16_t version, bool ems)
{
    return version > TLSV_V_SSL3 && ems && !(e->ctx->vcfg.options & TLSV_OP_NO_TICKET) &&
           tlsv_ext_present(ch->present, TLSV_EXTID_SESSION_TICKET);
}

bool tlsv_tls12_will_cache(const tlsv_engine *e, uint16_t version, bool ems)
{
    return e->ctx->sess_cache && e->ctx->sess_cache_size > 0 && (ems || version == TLSV_V_SSL3);
}

int tlsv_tls12_new_ticket(tlsv_engine *e, uint16_t version, uint16_t suite,
                          const uint8_t master[48], bool ems, bool peer_cert, uint8_t **msg,
                          size_t *len)
{
    const tlsv_ctx *ctx = e->ctx;
    size_t sni_len = e->server_name ? strlen(e->server_name) : 0;
    size_t alpn_len = e->alpn ? strlen(e->alpn) : 0;
    uint8_t ticket[TLSV_TICKET_MAX_LEN];
    size_t ticket_len = 0;
    if (sni_len <= TLSV_SESSION_MAX_NAME && alpn_len <= TLSV_SESSION_MAX_NAME) {
        tlsv_ticket t = {
            .version = version,
            .suite = suite,
            .created_ms = tlsv_ctx_now_ms(ctx),
            .lifetime = ctx->ticket_lifetime,
            .psk_len = 48,
            .alpn_len = alpn_len,
            .sni_len = sni_len,
            .peer_cert = peer_cert,
            .ems = ems,
        };
        memcpy(t.psk, master, 48);
        if (alpn_len)
            memcpy(t.alpn, e->alpn, alpn_len);
        if (sni_len)
            memcpy(t.sni, e->server_name, sni_len);
        ticket_len = tlsv_tls12_ticket_seal(ctx, &t, ticket, sizeof ticket);
        tlsv_wipe(&t, sizeof t);
    }
    /* RFC 5077 §3.3: having announced a ticket, a server that cannot make
     * one sends an empty one */
    tlsv_new_session_ticket_params p = {
        .version = version,
        .lifetime = ticket_len ? ctx->ticket_lifetime : 0,
        .ticket = {ticket, ticket_len},
    };
    tlsv_writer w;
    tlsv_error err;
    if (!tlsv_wr_init_growable(&w, 64 + ticket_len, 64 + TLSV_TICKET_MAX_LEN))
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
    if (tlsv_msg_write_new_session_ticket(&w, &p, &err) != 0) {
        tlsv_wr_release(&w);
        return tlsv_engine_fail_err(e, &err);
    }
    *len = tlsv_wr_len(&w);
    *msg = malloc(*len);
    if (*msg)
        memcpy(*msg, tlsv_wr_data(&w), *len);
    tlsv_wr_release(&w);
    if (!*msg)
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
    if (TLSV_TRACING(e))
        tlsv_engine_trace(e, -1, "session ticket of %zu bytes, lifetime hint %u s", ticket_len,
                          (unsigned)p.lifetime);
    return 0;
}

static char *dup_opt(const char *s)
{
    return s ? strdup(s) : NULL;
}

void tlsv_tls12_cache_add(tlsv_engine *e, const uint8_t *id, size_t id_len, uint16_t version,
                          uint16_t suite, const uint8_t master[48], bool ems, bool peer_cert)
{
    const tlsv_ctx *ctx = e->ctx;
    struct tlsv_sess_cache *c = ctx->sess_cache;
    if (!c || ctx->sess_cache_size == 0 || id_len == 0 || id_len > 32)
        return;
    node *n = calloc(1, sizeof *n);
    if (!n)
        return;
    memcpy(n->id, id, id_len);
    n->id_len = id_len;
    n->version = version;
    n->suite = suite;
    memcpy(n->master, master, 48);
    n->ems = ems;
    n->peer_cert = peer_cert;
    n->sni = dup_opt(e->server_name);
    n->alpn = dup_opt(e->alpn);
    if ((e->server_name && !n->sni) || (e->alpn && !n->alpn)) {
        node_free(n);
        return; /* out of memory: not cached */
    }
    n->peer_chain = tlsv_x509_chain_up_ref(e->peer_chain);
    n->created_ms = tlsv_ctx_now_ms(ctx);
    pthread_mutex_lock(&c->lock);
    trim_locked(c, ctx->sess_cache_size - 1, n->created_ms, ctx->sess_timeout);
    size_t b = bucket_of(n->id, n->id_len);
    n->next = c->buckets[b];
    c->buckets[b] = n;
    n->older = c->newest;
    if (c->newest)
        c->newest->newer = n;
    else
        c->oldest = n;
    c->newest = n;
    c->count++;
    pthread_mutex_unlock(&c->lock);
    if (TLSV_TRACING(e))
        tlsv_engine_trace(e, -1, "session cached under a session ID of %zu bytes", id_len);
}

/* ---- the context's settings (tlsv.h) -------------------------------------- */

int tlsv_ctx_set_session_cache_size(tlsv_ctx *ctx, size_t n)
{
    if (!ctx)
        return -1;
    if (n > TLSV_SESSION_CACHE_MAX_SIZE) {
        tlsv_err_set(&ctx->last_error, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE,
                     TLSV_SIDE_LOCAL, "a session cache of %zu entries is above the limit of %u",
                     n, TLSV_SESSION_CACHE_MAX_SIZE);
        return -1;
    }
    ctx->sess_cache_size = n;
    struct tlsv_sess_cache *c = ctx->sess_cache;
    if (c) {
        pthread_mutex_lock(&c->lock);
        trim_locked(c, n, tlsv_ctx_now_ms(ctx), ctx->sess_timeout);
        pthread_mutex_unlock(&c->lock);
    }
    return 0;
}

size_t tlsv_ctx_get_session_cache_size(const tlsv_ctx *ctx)
{
    return ctx ? ctx->sess_cache_size : 0;
}

int tlsv_ctx_set_session_timeout(tlsv_ctx *ctx, uint32_t seconds)
{
    if (!ctx)
        return -1;
    if (seconds == 0 || seconds > TLSV_SESSION_MAX_TIMEOUT) {
        tlsv_err_set(&ctx->last_error, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE,
                     TLSV_SIDE_LOCAL,
                     "a session timeout of %u s is outside 1..86400 (RFC 5246 §F.1.4)",
                     (unsigned)seconds);
        return -1;
    }
    ctx->sess_timeout = seconds;
    return 0;
}

uint32_t tlsv_ctx_get_session_timeout(const tlsv_ctx *ctx)
{
    return ctx ? ctx->sess_timeout : 0;
}

size_t tlsv_ctx_session_cache_count(tlsv_ctx *ctx)
{
    struct tlsv_sess_cache *c = ctx ? ctx->sess_cache : NULL;
    if (!c)
        return 0;
    pthread_mutex_lock(&c->lock);
    trim_locked(c, c->count, tlsv_ctx_now_ms(ctx), ctx->sess_timeout);
    size_t n = c->count;
    pthread_mutex_unlock(&c->lock);
    return n;
}
