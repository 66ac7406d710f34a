/*
 * ticket.h -- TLS 1.3 session tickets on the server side (RFC 8446
 * §4.6.1, §4.2.11): the context's ticket keys, what a ticket holds, issuing
 * NewSessionTickets after a handshake and finding a usable ticket in a
 * ClientHello.
 *
 * A ticket is self-contained (the server keeps no per-session state):
 *
 *   key_name[16] || nonce[12] || AES-256-GCM(key, nonce, aad = key_name,
 *                                            plaintext) || tag[16]
 *
 * plaintext (through buf.h):
 *   u8 format (1: TLS 1.3, 2: TLS <= 1.2), u16 version, u16 suite,
 *   u64 created_ms, u32 lifetime, u32 age_add (0 for TLS <= 1.2),
 *   opaque psk<32..48> (TLS <= 1.2: the 48-byte master secret),
 *   opaque alpn<0..255>, opaque sni<0..255>, u8 flags (bit 0: the client's
 *   certificate was verified; bit 1: extended master secret)
 *
 * A ticket opens only if its format and version agree (format 1 with
 * 0x0304, format 2 with 0x0300..0x0303), so a TLS 1.3 ticket is never taken
 * for a TLS 1.2 session nor the reverse. The same keys seal both.
 *
 * Keys: a current one (issues tickets) and the previous one (still
 * accepted). The current key retires after the context's ticket lifetime
 * (checked whenever a key is needed) or on tlsv_ctx_rotate_ticket_keys();
 * a ticket under any older key is simply not recognised (full handshake).
 */
#ifndef TLSV_ENGINE_TICKET_H
#define TLSV_ENGINE_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "engine/msg.h"
#include "engine/session.h"
#include "engine/suites.h"

/* How far a client's ticket age may be from the server's (milliseconds). */
#define TLSV_TICKET_AGE_TOLERANCE_MS 10000u
/* The most PSK identities of one ClientHello the server looks at. */
#define TLSV_TICKET_MAX_IDENTITIES 8
/* Tickets sent per handshake at most (tlsv_ctx_set_num_tickets). */
#define TLSV_TICKET_MAX_COUNT 16

struct tlsv_ticket_keys;

/* The key store of a context (no key yet: keys are made on first use).
 * NULL when out of memory (the context then issues no tickets). */
struct tlsv_ticket_keys *tlsv_ticket_keys_new(void);
void tlsv_ticket_keys_free(struct tlsv_ticket_keys *keys);

/* What a ticket holds. */
typedef struct tlsv_ticket {
    uint16_t version, suite;
    uint64_t created_ms;        /* server clock */
    uint32_t lifetime;          /* seconds */
    uint32_t age_add;
    uint8_t psk[TLSV_SESSION_MAX_PSK];
    size_t psk_len;
    uint8_t alpn[TLSV_SESSION_MAX_NAME];
    size_t alpn_len;
    uint8_t sni[TLSV_SESSION_MAX_NAME];
    size_t sni_len;
    bool peer_cert;             /* the client presented a verified certificate */
    bool ems;                   /* TLS <= 1.2: extended master secret */
} tlsv_ticket;

/* The largest ticket tlsv seals. */
#define TLSV_TICKET_MAX_LEN                                                                   \
    (16 + 12 + (1 + 2 + 2 + 8 + 4 + 4 + 1 + TLSV_SESSION_MAX_PSK + 2 * (1 + TLSV_SESSION_MAX_NAME) + 1) + 16)

/* TLS <= 1.2 (RFC 5077): seals t (version <= 0x0303, psk = the master
 * secret) under the context's current key, created_ms being now. Returns
 * the ticket's length (out has cap >= TLSV_TICKET_MAX_LEN bytes), or 0
 * (no key: no ticket). */
size_t tlsv_tls12_ticket_seal(const tlsv_ctx *ctx, const tlsv_ticket *t, uint8_t *out,
                              size_t cap);

/* TLS <= 1.2: opens a ticket of this context (current or previous key) that
 * holds a TLS <= 1.2 session: 0 (*t filled, wipe it after use; *renew set
 * when it is under the previous key), or -1 (foreign, damaged, retired key,
 * a TLS 1.3 ticket). Lifetime and fitness are the caller's checks. */
int tlsv_tls12_ticket_open(const tlsv_ctx *ctx, tlsv_bytes ticket, tlsv_ticket *t, bool *renew);

/* Server, after the client's Finished: queues the context's num_tickets
 * NewSessionTickets (none with OP_NO_TICKET, or when the SNI or ALPN is too
 * long to keep), each with its own nonce, age_add and PSK derived from
 * `rms` (the resumption_master_secret, hlen bytes). Returns 0, or -1 after
 * tlsv_engine_fail. */
int tlsv_tls13_send_tickets(tlsv_engine *e, const uint8_t *rms, size_t hlen, bool peer_cert);

/* Server: the first PSK identity of the ClientHello (at most
 * TLSV_TICKET_MAX_IDENTITIES looked at) that is a ticket of this context
 * usable in this handshake: it decrypts under the current or previous key,
 * is TLS 1.3, its suite's hash is `suite`'s, it is within its lifetime,
 * its age matches the client's within the tolerance, its SNI is this
 * connection's, and with CERT_REQUIRED the client was authenticated.
 * Returns 1 (*index and *t filled; wipe *t after use), 0 when there is none
 * (a full handshake), or -1 after tlsv_engine_fail. */
int tlsv_tls13_find_ticket(tlsv_engine *e, const tlsv_client_hello *ch, const tlsv_suite *suite,
                           size_t *index, tlsv_ticket *t);

#endif /* TLSV_ENGINE_TICKET_H */
