/*
 * engine.h -- the sans-I/O protocol engine.
 *
 * Bytes in (tlsv_engine_feed), bytes out (tlsv_engine_output), application
 * data in and out, and a state. The engine never calls read() or write():
 * transports (src/conn.c) move bytes between it and the world.
 *
 * Layers inside:
 *   records     record.c: framing, protection, sequence numbers
 *   messages    here: handshake messages reassembled from records (and
 *               records split into messages), alerts, change_cipher_spec,
 *               application data
 *   handshake   a state machine per side and protocol family
 *               (tls13_client.c, tls13_server.c) behind tlsv_hs_ops; it
 *               receives whole handshake messages and queues its own.
 */
#ifndef TLSV_ENGINE_H
#define TLSV_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "context.h"
#include "record.h"
#include "tlsv.h"

/* Limits (documented in docs/limits.md). */
#define TLSV_MAX_HANDSHAKE_MESSAGE (128u * 1024u) /* one handshake message */
#define TLSV_MAX_WARNINGS_IN_ROW 8                /* warning alerts / empty records */
#define TLSV_MAX_KEY_UPDATES_IN_ROW 32            /* peer KeyUpdates without data between;
                                                     also update_requested answered without
                                                     peer data between */
/* TLS 1.3: records sealed under one write key before tlsv sends a
 * KeyUpdate of its own before the next application-data record (RFC 8446
 * §5.5: AES-GCM's limit is 2^24.5 full-size records; 2^23 keeps well under
 * it, and is applied to every AEAD). */
#define TLSV_KEY_UPDATE_AFTER_RECORDS (UINT64_C(1) << 23)
/* TLS 1.3 post-handshake authentication (pha13.c): CertificateRequests a
 * server may have outstanding; requests a client answers without
 * application data from the server between. */
#define TLSV_MAX_PHA_PENDING 8
#define TLSV_MAX_PHA_IN_ROW 16
#define TLSV_MAX_EARLY_DATA_SKIP (64u * 1024u)    /* refused 0-RTT record bytes skipped */

typedef enum tlsv_engine_state {
    TLSV_ES_HANDSHAKE = 0,  /* handshake in progress */
    TLSV_ES_ESTABLISHED,    /* application data flows */
    TLSV_ES_FAILED          /* a fatal error; see err */
} tlsv_engine_state;

typedef struct tlsv_engine tlsv_engine;

/* A handshake state machine. `message` gets one whole handshake message
 * (with its 4-byte header, as the transcript needs it). Each returns 0, or
 * -1 after calling tlsv_engine_fail(). */
typedef struct tlsv_hs_ops {
    const char *name;
    int (*start)(tlsv_engine *e);
    int (*message)(tlsv_engine *e, uint8_t type, const uint8_t *msg, size_t len);
    /* a change_cipher_spec record arrived: 0 to drop it, -1 to fail */
    int (*ccs)(tlsv_engine *e);
    /* server: an SSLv2-compatible CLIENT-HELLO (RFC 5246 App. E.2), the
     * message without its 2-byte record header */
    int (*sslv2_hello)(tlsv_engine *e, const uint8_t *msg, size_t len);
    void (*free)(tlsv_engine *e);
} tlsv_hs_ops;

struct tlsv_engine {
    tlsv_role role;
    tlsv_ctx *ctx;            /* a reference */
    char *server_name;        /* client: the name to send and check; server: SNI received */
    tlsv_engine_state state;
    tlsv_error err;

    /* transport side */
    uint8_t *in;              /* received bytes not yet processed: in[in_off..in_len) */
    size_t in_off, in_len, in_cap;
    uint8_t *out;             /* bytes to send: out[out_off..out_len) */
    size_t out_off, out_len, out_cap;
    bool eof_received;        /* the transport said EOF */

    /* record layer */
    tlsv_rec_dir rd, wr;
    uint16_t plain_version;   /* version field of plaintext records we write */
    bool first_record_seen;

    /* handshake messages being reassembled */
    uint8_t *hs;
    size_t hs_len, hs_cap;
    size_t hs_cur;            /* length of the message being handled (key-change check) */
    uint8_t *hs_out;          /* handshake messages queued for the next records: they are
                                 coalesced into as few records as possible */
    size_t hs_out_len, hs_out_cap;
    bool started;             /* the state machine's start() ran */

    /* application data received and not yet read: in[app_off..app_len), the
     * plaintext of one record, decrypted in place (app_off == app_len: none) */
    size_t app_off, app_len;
    /* set by the reader for one tlsv_engine_advance(): where application
     * data may be decrypted directly (direct[0..direct_cap)); direct_got
     * counts what was put there */
    uint8_t *direct;
    size_t direct_cap, direct_got;

    /* closure */
    bool close_notify_sent, close_notify_received;
    unsigned warnings_in_row;
    unsigned key_updates_in_row;

    /* TLS 1.3 KeyUpdate (RFC 8446 §4.6.3) */
    uint64_t ku_threshold;        /* write records per key before an automatic update
                                     (TLSV_KEY_UPDATE_AFTER_RECORDS; tests lower it) */
    unsigned ku_answers_in_row;   /* update_requested answered without peer data between */
    bool ku_sent_idle;            /* our write keys changed with no application data since */

    /* TLS 1.3 post-handshake authentication (pha13.c; NULL: not on this
     * connection, i.e. not offered by the client or not allowed here) */
    struct tlsv_pha *pha;
    unsigned pha_answers_in_row;  /* client: requests answered without server data between */

    /* the negotiated parameters */
    uint16_t version;         /* 0 until known */
    uint16_t suite;
    uint16_t group;
    char *alpn;
    void *peer_chain;         /* tlsv_x509_chain *, the peer's certificates */

    /* TLS 1.3 after the handshake: what KeyUpdate needs */
    tlsv_hash_alg hash;
    tlsv_aead_alg aead;
    uint8_t rd_secret[48], wr_secret[48];
    size_t secret_len;

    /* TLS 1.3 session resumption (session.c, ticket.c) */
    uint8_t res_secret[48];       /* resumption_master_secret (secret_len bytes) */
    struct tlsv_session *session; /* client: the session to offer (tlsv_conn_set_session) */
    struct tlsv_session *latest;  /* client: the latest session received */
    bool resumed;                 /* this handshake resumed a session */
    size_t early_skip;            /* server: bytes of refused 0-RTT records still skippable */

    uint8_t client_random[32]; /* for the key log */

    /* client: ClientHello.client_version (legacy_version: the RSA premaster
     * version, RFC 5246 §7.4.7.1), and
     * whether to add TLS_FALLBACK_SCSV (RFC 7507) */
    uint16_t offered_max_version;
    bool fallback_scsv;

    /* the public handle this engine serves (for callbacks) */
    struct tlsv_conn *conn;

    /* the handshake */
    const tlsv_hs_ops *ops;
    void *hs_state;           /* the state machine's private data, one allocation */
};

tlsv_engine *tlsv_engine_new(tlsv_ctx *ctx, tlsv_role role, const char *server_name,
                             tlsv_error *err);
void tlsv_engine_free(tlsv_engine *e);

/* Room for `want` received bytes at the end of the input (written by the
 * caller, then counted with input_commit): the copy-free way in. NULL when
 * out of memory. */
uint8_t *tlsv_engine_input_space(tlsv_engine *e, size_t want);
void tlsv_engine_input_commit(tlsv_engine *e, size_t n);

/* Received bytes. Returns 0, or -1 (out of memory). */
int tlsv_engine_feed(tlsv_engine *e, const uint8_t *data, size_t len);

/* Processes what was fed; starts the handshake on first call. Returns 0
 * when it made all the progress it can (check e->state), or -1 on a fatal
 * error (e->err; the alert is queued for sending). */
int tlsv_engine_advance(tlsv_engine *e);

/* Output waiting to be sent. */
size_t tlsv_engine_pending(const tlsv_engine *e);
const uint8_t *tlsv_engine_output(const tlsv_engine *e);
void tlsv_engine_consume(tlsv_engine *e, size_t n);

/* Application data out (established only): splits into records. */
int tlsv_engine_write_app(tlsv_engine *e, const uint8_t *data, size_t len);
/* Application data in: bytes copied, 0 if none buffered. */
size_t tlsv_engine_read_app(tlsv_engine *e, uint8_t *buf, size_t len);
size_t tlsv_engine_app_pending(const tlsv_engine *e);

/* Queues close_notify (once). */
int tlsv_engine_close(tlsv_engine *e);

/* TLS 1.3 KeyUpdate (RFC 8446 §4.6.3, §7.2): queues a KeyUpdate
 * (update_requested if `request`) behind any pending handshake output,
 * seals it under the current write keys and switches the write side to the
 * next generation of its traffic secret. Established TLS 1.3 before our
 * close_notify only: otherwise -1 without failing the connection (the
 * caller explains); -1 after tlsv_engine_fail on a crypto failure. */
int tlsv_engine_key_update(tlsv_engine *e, bool request);
/* Tests only: the number of records sealed under one write key after which
 * an automatic KeyUpdate precedes the next application-data record
 * (default TLSV_KEY_UPDATE_AFTER_RECORDS; 0 restores it). */
void tlsv_engine_set_ku_threshold(tlsv_engine *e, uint64_t records);
/* The engine under a public connection (conn.c), for tests. */
tlsv_engine *tlsv_conn_engine(struct tlsv_conn *c);

/* ---- for the handshake state machines ---------------------------------- */

/* Records a fatal failure decided here, queues the alert (if any) and moves
 * to FAILED. Returns -1. */
int tlsv_engine_fail(tlsv_engine *e, tlsv_reason reason, int alert, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Same with a prepared error record (side LOCAL). */
int tlsv_engine_fail_err(tlsv_engine *e, const tlsv_error *err);

/* Queues a whole handshake message (header included). Queued messages are
 * coalesced into records (each at most 2^14 bytes) under the current write
 * protection when the flight ends, before a write-key change, a CCS or an
 * alert (tlsv_engine_flush). */
int tlsv_engine_send_handshake(tlsv_engine *e, const uint8_t *msg, size_t len);
int tlsv_engine_flush(tlsv_engine *e);
/* Switches the write side to TLS 1.3 keys from a traffic secret, after
 * sealing what is queued under the old ones. */
int tlsv_engine_set_write13(tlsv_engine *e, tlsv_aead_alg aead, tlsv_hash_alg hash,
                            const uint8_t *secret, size_t len);
/* Queues a change_cipher_spec record (middlebox compatibility). */
int tlsv_engine_send_ccs(tlsv_engine *e);
/* The handshake finished: application data may flow; frees hs_state. */
void tlsv_engine_established(tlsv_engine *e);
/* Called by the state machine when it installs new read keys: a pending
 * partial handshake message at that point is an error (RFC 8446 §5.1). */
int tlsv_engine_check_key_boundary(tlsv_engine *e);

/* Observability. tlsv_engine_keylog writes "LABEL <client random>
 * <secret>" when the context asks for a key log; tlsv_engine_trace formats
 * and emits a trace line only when a trace callback is set (callers test
 * TLSV_TRACING(e) first to skip the formatting cost). */
void tlsv_engine_keylog(tlsv_engine *e, const char *label, const uint8_t *secret, size_t len);
#define TLSV_TRACING(e) ((e)->ctx->trace_cb != NULL)
void tlsv_engine_trace(tlsv_engine *e, int direction, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif /* TLSV_ENGINE_H */
