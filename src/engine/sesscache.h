/*
 * sesscache.h -- TLS 1.2 and below on the server side: the context's
 * session-ID cache (RFC 5246 §7.4.1.2, §7.4.1.3), session tickets
 * (RFC 5077, sealed by ticket.c under the same keys as TLS 1.3 tickets), and
 * the choice of a session to resume from a ClientHello.
 *
 * The cache is bounded (tlsv_ctx_set_session_cache_size, default
 * TLSV_SESSION_CACHE_DEFAULT_SIZE entries, 0 disables it) and entries live
 * tlsv_ctx_set_session_timeout seconds (default 7200). When it is full the
 * oldest entry goes first; an entry's master secret is wiped when it goes.
 * A context is shared by the threads of its connections: the cache has its
 * own lock.
 *
 * Only sessions made with the extended master secret are cached or put in
 * tickets (RFC 7627 §5.3), except at SSL 3.0, which cannot carry it.
 */
#ifndef TLSV_ENGINE_SESSCACHE_H
#define TLSV_ENGINE_SESSCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "engine/msg.h"

#define TLSV_SESSION_CACHE_DEFAULT_SIZE 20480u /* OpenSSL's and Python's default */
#define TLSV_SESSION_CACHE_MAX_SIZE (1u << 20)
#define TLSV_SESSION_DEFAULT_TIMEOUT 7200u     /* seconds */
#define TLSV_SESSION_MAX_TIMEOUT 86400u        /* RFC 5246 §F.1.4: at most 24 hours */

struct tlsv_sess_cache;

/* An empty cache (NULL when out of memory: the context then caches nothing). */
struct tlsv_sess_cache *tlsv_sess_cache_new(void);
/* Frees the cache, wiping every entry. */
void tlsv_sess_cache_free(struct tlsv_sess_cache *cache);

/* A session the server may resume. */
typedef struct tlsv_resume12 {
    uint16_t version, suite;
    uint8_t master[48];
    bool ems;
    bool peer_cert;       /* the client presented a verified certificate */
    void *peer_chain;     /* tlsv_x509_chain * (a reference) from the cache, NULL from a ticket */
    bool by_ticket;       /* found by its ticket (else by its session ID) */
    bool renew;           /* the ticket is under the previous key: send a new one */
} tlsv_resume12;

/* Releases what a tlsv_resume12 holds and wipes it. */
void tlsv_resume12_clear(tlsv_resume12 *r);

/* Server: the session the ClientHello asks to resume, when it may be: its
 * session_ticket (tickets on) else its session ID in the cache; of exactly
 * `version`; its suite offered by the client, among ours[0..n_ours) and
 * usable at `version`; made with the extended master secret and the
 * ClientHello offering it (RFC 7627 §5.3; SSL 3.0 neither); within its
 * lifetime; for the same server name (e->server_name) and ALPN protocol
 * (e->alpn, already selected); with CERT_REQUIRED only if the client had
 * presented a certificate. true: *out filled (release with
 * tlsv_resume12_clear); false: a full handshake (unknown, expired,
 * tampered or unfit sessions are no error). */
bool tlsv_tls12_find_session(tlsv_engine *e, const tlsv_client_hello *ch, uint16_t version,
                             const uint16_t *ours, size_t n_ours, tlsv_resume12 *out);

/* Server: whether this handshake will send a NewSessionTicket (the client
 * sent session_ticket, no OP_NO_TICKET, above SSL 3.0, with `ems`). */
bool tlsv_tls12_will_send_ticket(const tlsv_engine *e, const tlsv_client_hello *ch,
                                 uint16_t version, bool ems);

/* Server: whether a full handshake without a ticket gets a session ID for
 * the cache (cache on, `ems` or SSL 3.0). */
bool tlsv_tls12_will_cache(const tlsv_engine *e, uint16_t version, bool ems);

/* Server: queues a NewSessionTicket (RFC 5077 §3.3) for the session (an
 * empty ticket if none can be made). The message is appended to `tr`
 * through the caller: *msg/len receive it (free with free()). Returns 0, or
 * -1 after tlsv_engine_fail. */
int tlsv_tls12_new_ticket(tlsv_engine *e, uint16_t version, uint16_t suite,
                          const uint8_t master[48], bool ems, bool peer_cert, uint8_t **msg,
                          size_t *len);

/* Server, after a full handshake: remembers the session under `id`. */
void tlsv_tls12_cache_add(tlsv_engine *e, const uint8_t *id, size_t id_len, uint16_t version,
                          uint16_t suite, const uint8_t master[48], bool ems, bool peer_cert);

#endif /* TLSV_ENGINE_SESSCACHE_H */
