/*
 * context.h -- the tlsv_ctx structure, shared by the files that read a
 * context's configuration (connections, the preview, later the engine).
 */
#ifndef TLSV_CONTEXT_H
#define TLSV_CONTEXT_H

#include <stdatomic.h>

#include "tlsv.h"
#include "version.h"

struct tlsv_pkey;
struct tlsv_x509_chain;
struct tlsv_x509_store;
struct tlsv_x509_cache;
struct tlsv_ticket_keys;
struct tlsv_sess_cache;

struct tlsv_ctx {
    tlsv_vcfg vcfg;        /* protocol, options, version bounds: see version.h */
    int verify_mode;       /* TLSV_CERT_* */
    int check_hostname;    /* 0 or 1 */
    int post_handshake_auth; /* 0 or 1: TLS 1.3 post-handshake client authentication */
    atomic_uint refs;      /* the owner plus each connection made from it; connections
                              of one context are made and freed in many threads */
    tlsv_error last_error; /* the last failure of a call on this context */

    /* this endpoint's certificate and key */
    struct tlsv_x509_chain *chain;
    struct tlsv_pkey *key;
    /* trust anchors for the peer's certificates (NULL: none loaded) */
    struct tlsv_x509_store *store;
    /* peer chains verified lately, kept parsed (see x509.h; NULL if it
     * could not be allocated: then every chain is parsed) */
    struct tlsv_x509_cache *peer_cache;
    /* ALPN: the protocol_name_list as it goes on the wire (RFC 7301) */
    uint8_t *alpn;
    size_t alpn_len;
    /* TLS 1.3 suites and groups, in preference order */
    uint16_t suites13[3];
    size_t n_suites13;
    uint16_t groups[5];
    size_t n_groups;
    /* TLS <= 1.2 suites set by tlsv_ctx_set_ciphers (n_suites12 == 0: the
     * role's DEFAULT, see engine/suites.h) */
    uint16_t suites12[32];
    size_t n_suites12;
    /* observability */
    tlsv_keylog_cb keylog_cb;
    void *keylog_arg;
    void *keylog_file; /* FILE *, opened by tlsv_ctx_set_keylog_file */
    tlsv_trace_cb trace_cb;
    void *trace_arg;
    /* SNI callback (server) */
    tlsv_servername_cb sni_cb;
    void *sni_arg;
    /* TLS 1.3 session tickets (engine/ticket.c) */
    size_t num_tickets;                   /* NewSessionTickets per handshake (server) */
    uint32_t ticket_lifetime;             /* seconds; also the key rotation interval */
    struct tlsv_ticket_keys *ticket_keys; /* keys made on first use (NULL: out of memory) */
    /* TLS <= 1.2 session-ID cache (engine/sesscache.c; server) */
    struct tlsv_sess_cache *sess_cache;   /* NULL: out of memory (nothing cached) */
    size_t sess_cache_size;               /* entries at most; 0: no cache */
    uint32_t sess_timeout;                /* seconds an entry lives */
    /* the clock in milliseconds since the Unix epoch (NULL: the real one): an
     * internal hook, for tests of ticket ages and lifetimes */
    uint64_t (*clock_ms)(void *arg);
    void *clock_arg;
};

/* Takes / drops a reference (connections keep their context alive). */
tlsv_ctx *tlsv_ctx_ref(tlsv_ctx *ctx);
void tlsv_ctx_unref(tlsv_ctx *ctx);

/* Whether a context may play a role (TLS_CLIENT only as client, TLS_SERVER
 * only as server, every other protocol either way). */
int tlsv_ctx_allows_role(const tlsv_ctx *ctx, tlsv_role role);

#endif /* TLSV_CONTEXT_H */
