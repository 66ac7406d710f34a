/*
 * session.h -- sessions on the client side: TLS 1.3 (RFC 8446 §4.6.1,
 * §4.2.11) and TLS 1.2 and below (RFC 5246 §7.3 session IDs, RFC 5077
 * tickets): the public tlsv_session object, what a NewSessionTicket or a
 * finished TLS <= 1.2 handshake turns into, whether a session may be
 * offered, and the session's bytes.
 *
 * A session is made from a NewSessionTicket received after a handshake
 * (tlsv_session_on_ticket) or from bytes (tlsv_session_from_bytes), and is
 * immutable afterwards: connections and threads share it by reference.
 *
 * The server side (ticket keys, ticket contents, issuing and accepting
 * tickets) is ticket.h.
 */
#ifndef TLSV_ENGINE_SESSION_H
#define TLSV_ENGINE_SESSION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "engine/engine.h"

#define TLSV_SESSION_MAX_PSK 48      /* SHA-384 */
#define TLSV_SESSION_MAX_NAME 255    /* server name and ALPN protocol kept */
#define TLSV_TICKET_MAX_LIFETIME 604800u /* seven days (RFC 8446 §4.6.1) */
/* TLS <= 1.2: how long a client keeps offering a session whose server gave
 * no lifetime hint (a session ID, or a ticket with hint 0), in seconds:
 * OpenSSL's default session timeout. */
#define TLSV_SESSION12_CLIENT_LIFETIME 7200u

struct tlsv_session {
    atomic_uint refs;
    uint16_t version;         /* 0x0304; or 0x0300..0x0303 */
    uint16_t suite;           /* the suite of the handshake that made it */
    uint8_t psk[TLSV_SESSION_MAX_PSK]; /* TLS 1.3: the resumption PSK (§4.6.1);
                                          TLS <= 1.2: the master secret */
    size_t psk_len;           /* the suite's hash length; 48 for TLS <= 1.2 */
    uint8_t *ticket;          /* the server's opaque ticket (1..65535 bytes; TLS <= 1.2:
                                 NULL/0 for a session known by its ID only) */
    size_t ticket_len;
    uint8_t session_id[32];   /* TLS <= 1.2: the server's session ID (may be empty) */
    size_t session_id_len;
    bool ems;                 /* TLS <= 1.2: made with the extended master secret */
    uint32_t lifetime;        /* ticket_lifetime, seconds (<= 7 days); TLS <= 1.2: the
                                 ticket's lifetime hint, or TLSV_SESSION12_CLIENT_LIFETIME */
    uint32_t age_add;         /* ticket_age_add */
    uint64_t time_ms;         /* when it was received (client clock) */
    uint32_t max_early_data;  /* from the ticket's early_data extension (never used) */
    char *server_name;        /* the name the client connected with, NULL if none */
    char *alpn;               /* the ALPN protocol negotiated, NULL if none */
    bool verified;            /* the server's certificate was verified in the
                                 handshake that made the session */
    void *peer_chain;         /* tlsv_x509_chain * of that handshake (a reference), or NULL */
};

/* The context's clock: milliseconds since the Unix epoch (ctx->clock_ms
 * when a test set one). */
uint64_t tlsv_ctx_now_ms(const tlsv_ctx *ctx);

/* A new reference to s (NULL stays NULL). */
tlsv_session *tlsv_session_ref(tlsv_session *s);

/* The hash of the session's suite (TLSV_HASH_NONE for an unknown one). */
tlsv_hash_alg tlsv_session_hash(const tlsv_session *s);

/* Client: whether e->session may be offered in this handshake: within its
 * lifetime, TLS 1.3, a TLS 1.3 suite with its hash in the context, the
 * same server name, and verified unless the context verifies nothing. */
bool tlsv_session_offerable(const tlsv_engine *e, const tlsv_session *s);

/* Client, TLS <= 1.2: whether e->session may be offered with the versions
 * `offered` (a tlsv_vset) and the suites suites[0..n): a TLS <= 1.2
 * session of one of those versions, its suite among them and usable at its
 * version, with the extended master secret (an SSL 3.0 session, which
 * has none, only when `offered` is SSL 3.0 alone), within its
 * lifetime, the same server name, verified unless the context verifies
 * nothing, and a ticket (unless OP_NO_TICKET) or a session ID. */
bool tlsv_session12_offerable(const tlsv_engine *e, const tlsv_session *s, unsigned offered,
                              const uint16_t *suites, size_t n_suites);

/* Client, TLS <= 1.2: the session of a finished full handshake
 * (master secret, the ServerHello's session ID, the NewSessionTicket's
 * ticket and lifetime hint, if any) becomes e->latest. Nothing is kept when
 * the session could not be resumed (no ID and no ticket, or no extended
 * master secret at TLS 1.0-1.2). Never fails the connection. */
void tlsv_session12_made(tlsv_engine *e, uint16_t version, uint16_t suite,
                         const uint8_t master[48], bool ems, const uint8_t *session_id,
                         size_t session_id_len, const uint8_t *ticket, size_t ticket_len,
                         uint32_t lifetime_hint);

/* Client: a NewSessionTicket (whole message, header included) after a
 * TLS 1.3 handshake becomes e->latest. Returns 0, or -1 after
 * tlsv_engine_fail (a malformed message). */
int tlsv_session_on_ticket(tlsv_engine *e, const uint8_t *msg, size_t len);

#endif /* TLSV_ENGINE_SESSION_H */
