/*
 * tls12.h -- what the TLS 1.0-1.2 client and server share (and SSL 3.0 in
 * a build with it): the hand-over from the hello stage, key derivation and
 * installation, Finished, the ServerKeyExchange and CertificateVerify
 * signatures. One set of state machines serves every version below 1.3;
 * the differences are switches on `version`, not copies (DESIGN.md).
 */
#ifndef TLSV_TLS12_H
#define TLSV_TLS12_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "engine/engine.h"
#include "engine/msg.h"
#include "engine/suites.h"
#include "engine/tls13.h"

extern const tlsv_hs_ops tlsv_tls12_client_ops;
extern const tlsv_hs_ops tlsv_tls12_server_ops;

/* What the hello stage hands to the TLS <= 1.2 client. */
typedef struct tlsv_tls12_client_hello_info {
    uint16_t version;          /* negotiated (checked by the version policy) */
    uint8_t client_random[32];
    const uint16_t *suites;    /* what the ClientHello offered */
    size_t n_suites;
    bool offered_ems, offered_etm;
    uint32_t offered_ext;      /* the ClientHello's extensions (TLSV_EXT_BIT mask) */
    const uint8_t *ch;         /* the ClientHello message, header included */
    size_t ch_len;
    /* resumption: the TLS <= 1.2 session the ClientHello offered (NULL:
     * none) and the legacy session ID it sent (the session's ID, or with a
     * ticket a random one, RFC 5077 §3.4): a ServerHello echoing it resumes */
    const struct tlsv_session *session;
    const uint8_t *session_id;
    size_t session_id_len;
    bool session13_offered;    /* the ClientHello offered a TLS 1.3 session (PSK) */
} tlsv_tls12_client_hello_info;

/* Takes over a client whose ServerHello chose TLS 1.2 or below; `sh` is
 * that ServerHello (header included). Switches e->ops. */
int tlsv_tls12_client_begin(tlsv_engine *e, const tlsv_tls12_client_hello_info *info,
                            const uint8_t *sh, size_t sh_len);

/* Takes over a server whose version choice was TLS 1.2 or below; `ch` is
 * the parsed ClientHello and `msg` its bytes. Switches e->ops. */
int tlsv_tls12_server_begin(tlsv_engine *e, const tlsv_client_hello *ch, const uint8_t *msg,
                            size_t len, uint16_t version, int sentinel);

/* The suites a context uses for TLS <= 1.2 in a role (its list, or DEFAULT). */
size_t tlsv_tls12_ctx_suites(const tlsv_ctx *ctx, bool server, uint16_t *out, size_t cap);

/* The handshake hash for `version` and suite: PRF hash for 1.2, MD5||SHA-1
 * before. */
tlsv_hash_alg tlsv_tls12_handshake_hash(uint16_t version, const tlsv_suite *s);

/* The master secret (RFC 5246 §8.1, or RFC 7627 with the session hash). */
int tlsv_tls12_master_secret(uint16_t version, const tlsv_suite *s, const uint8_t *pms,
                             size_t pms_len, const uint8_t cr[32], const uint8_t sr[32],
                             const uint8_t *session_hash, size_t sh_len, uint8_t master[48]);

/* Derives the key block and installs one direction's protection: the
 * client's write keys when `client_keys`, else the server's; on e->wr when
 * `write` (queued handshake messages are sealed first), else on e->rd. */
int tlsv_tls12_install(tlsv_engine *e, bool write, bool client_keys, uint16_t version,
                       const tlsv_suite *s, const uint8_t master[48], const uint8_t cr[32],
                       const uint8_t sr[32], bool etm);

/* Finished verify_data over the handshake messages so far (12 bytes; 36
 * for SSL 3.0). */
int tlsv_tls12_finished(uint16_t version, const tlsv_suite *s, const uint8_t master[48],
                        bool from_client, const uint8_t *msgs, size_t msgs_len, uint8_t *out,
                        size_t *out_len);

/* The signature scheme for a ServerKeyExchange / CertificateVerify made
 * with `key` at `version`: TLS 1.2 picks from the peer's list (or RFC 5246
 * §7.4.1.4.1's SHA-1 default when it sent none); TLS 1.0/1.1 use MD5||SHA-1
 * RSA or ECDSA-SHA1. 0 if none fits. */
uint16_t tlsv_tls12_pick_scheme(const tlsv_pkey *key, uint16_t version, tlsv_bytes peer_list,
                                bool peer_sent_list);

/* The schemes this side accepts in TLS 1.2 (sent in signature_algorithms
 * and CertificateRequest). */
extern const uint16_t tlsv_sigalgs12[];
extern const size_t tlsv_sigalgs12_count;

#endif /* TLSV_TLS12_H */
