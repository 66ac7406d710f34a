/*
 * tls13.h -- what the TLS 1.3 client and server share: the transcript,
 * CertificateVerify content, signature-scheme choice, the proof marks that
 * guard the step into application traffic.
 */
#ifndef TLSV_TLS13_H
#define TLSV_TLS13_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "engine/engine.h"
#include "engine/msg.h"

/* The handshake transcript. Messages are kept as bytes until the cipher
 * suite fixes the hash, then hashed incrementally. */
typedef struct tlsv_transcript {
    tlsv_hash_ctx *h;
    tlsv_hash_alg alg;
    uint8_t *buf;
    size_t len, cap;
} tlsv_transcript;

int tlsv_tr_add(tlsv_transcript *tr, const uint8_t *msg, size_t len);
/* Fixes the hash and absorbs what was kept. */
int tlsv_tr_begin(tlsv_transcript *tr, tlsv_hash_alg alg);
/* After a HelloRetryRequest: the transcript so far (ClientHello1) becomes
 * message_hash(Hash(ClientHello1)) (RFC 8446 §4.4.1). The hash must be
 * fixed already. */
int tlsv_tr_hrr_restart(tlsv_transcript *tr);
/* The hash of everything so far (hash length bytes into out). */
int tlsv_tr_hash(tlsv_transcript *tr, uint8_t *out);
/* The hash of the transcript followed by `len` more bytes that are not
 * added to it (a ClientHello truncated before its binders, RFC 8446
 * §4.2.11.2); with no transcript begun yet, of those bytes alone under
 * `alg`. Returns 0 or -1. */
int tlsv_tr_hash_with(const tlsv_transcript *tr, tlsv_hash_alg alg, const uint8_t *more,
                      size_t len, uint8_t *out);
void tlsv_tr_free(tlsv_transcript *tr);

/* The signature schemes tlsv offers and accepts, in preference order. */
extern const uint16_t tlsv_sigalgs13[];
extern const size_t tlsv_sigalgs13_count;

/* The first scheme of `peer_list` (u16 list from signature_algorithms)
 * that `key` can sign with under TLS 1.3 rules, 0 if none. */
uint16_t tlsv_tls13_pick_scheme(const tlsv_pkey *key, tlsv_bytes peer_list);

/* Builds the CertificateVerify input (RFC 8446 §4.4.3): 64 spaces, the
 * context string, a zero byte, the transcript hash. Returns its length. */
size_t tlsv_tls13_cv_input(bool server, const uint8_t *th, size_t hlen, uint8_t out[200]);

/* Proof marks: only the verifying functions set them; the step into
 * application traffic requires all of them (DESIGN.md principle 3). */
enum {
    TLSV_MARK_PEER_CERT = 1u << 0, /* the peer's chain verified, or not required */
    TLSV_MARK_PEER_SIG = 1u << 1,  /* its CertificateVerify verified, or no cert */
    TLSV_MARK_PEER_FIN = 1u << 2,  /* its Finished verified */
    TLSV_MARKS_ALL = 7u
};

/* Verifies the peer's chain as the context asks (verify mode, trust store,
 * hostname). Returns 0 (and sets the mark), or -1 after tlsv_engine_fail. */
int tlsv_tls13_verify_chain(tlsv_engine *e, bool peer_is_server, unsigned *marks);

/* Shared by every state machine (TLS 1.0-1.3):
 * tlsv_hs_own_chain    the DER views of this endpoint's chain, for its
 *                      Certificate message (at most TLSV_MSG_MAX_CERTS);
 * tlsv_hs_peer_chain   takes the peer's Certificate entries into
 *                      e->peer_chain, checks that the leaf's keyUsage allows
 *                      `usage` (TLSV_X509_KU_* bits: what the leaf's key does
 *                      in this handshake; checked in every verify mode,
 *                      KEY_USAGE_BIT_INCORRECT / bad_certificate), and
 *                      verifies them as the context asks (sets
 *                      TLSV_MARK_PEER_CERT), or fails with bad_certificate
 *                      / the verification's alert;
 * tlsv_hs_peer_key     the leaf's public key (caller frees), or NULL. */
size_t tlsv_hs_own_chain(const tlsv_ctx *ctx, tlsv_bytes certs[TLSV_MSG_MAX_CERTS]);
int tlsv_hs_peer_chain(tlsv_engine *e, const tlsv_certificate *cert, bool peer_is_server,
                       unsigned usage, unsigned *marks);
tlsv_pkey *tlsv_hs_peer_key(const tlsv_engine *e);

/* ALPN (RFC 7301), for every version. Server: picks our first protocol
 * the client's protocol_name_list also has and records it in e->alpn
 * (*selected points into the context's list; empty when none: the
 * handshake goes on without ALPN, as Python's servers do). Client: the
 * server's choice must be one we offered; it is recorded in e->alpn.
 * Both return 0, or -1 after tlsv_engine_fail. */
int tlsv_hs_select_alpn(tlsv_engine *e, tlsv_bytes client_list, tlsv_bytes *selected);

/* A client offers the first TLSV_ALPN_MAX_OFFERED names of its context's
 * list (docs/limits.md), and accepts only those. */
#define TLSV_ALPN_MAX_OFFERED 16
int tlsv_hs_accept_alpn(tlsv_engine *e, tlsv_bytes chosen);

/* Checks a TLS 1.3 CertificateVerify from the peer over the transcript so
 * far (th, hlen): the scheme is one we offered and fits the leaf's key, the
 * signature verifies; sets TLSV_MARK_PEER_SIG. Returns 0 or -1 (failed). */
int tlsv_tls13_check_peer_cv(tlsv_engine *e, const uint8_t *msg, size_t len, const uint8_t *th,
                             size_t hlen, bool peer_is_server, unsigned *marks);

/* A client's Certificate (echoing `context`: empty in the handshake, the
 * request's in post-handshake authentication) and, if it has a certificate
 * and key that can sign with one of `sigalgs` (the CertificateRequest's
 * signature_algorithms), its CertificateVerify over the transcript `tr`
 * (hlen: its hash length); both are added to `tr` and queued. Without a
 * usable certificate the Certificate is empty: the server decides. Returns
 * 0, or -1 after tlsv_engine_fail. */
int tlsv_tls13_send_client_auth(tlsv_engine *e, tlsv_transcript *tr, size_t hlen,
                                tlsv_bytes context, tlsv_bytes sigalgs);

/* Keeps the application traffic secrets of both directions (what
 * KeyUpdate needs later) after checking every proof mark, and switches the
 * write side to wr_secret when install_write (the server switched at its
 * own Finished already). */
int tlsv_tls13_enter_traffic(tlsv_engine *e, unsigned marks, const uint8_t *rd_secret,
                             const uint8_t *wr_secret, size_t len, tlsv_hash_alg hash,
                             tlsv_aead_alg aead, bool install_write);

/* Resumption (RFC 8446 §2.2): a PSK handshake authenticates the peer by the
 * PSK, which stands for the authentication of the handshake that made it;
 * no Certificate or CertificateVerify is sent. These two functions are the
 * only other places that set TLSV_MARK_PEER_CERT and TLSV_MARK_PEER_SIG:
 *
 * tlsv_tls13_resume_check_binder  server: `ks` holds the Early Secret of a
 *     ticket's PSK (tlsv_ks13_init with it); `th` is the transcript hash up
 *     to the binders (§4.2.11.2). The client's binder must equal the
 *     expected one (compared in constant time); only then are the marks
 *     set. Otherwise decrypt_error, BINDER_DOES_NOT_VERIFY (§4.2.11).
 * tlsv_tls13_resume_accepted  client: the server selected the PSK of
 *     `session` (the ServerHello checked); the handshake keys derive from
 *     it, so the server's Finished (TLSV_MARK_PEER_FIN) will prove it holds
 *     it. Sets the marks when the session's handshake verified the server
 *     as this context asks (tlsv_session_offerable decided that before the
 *     offer), and takes that handshake's peer chain for the connection.
 * Both return 0, or -1 after tlsv_engine_fail. */
struct tlsv_ks13;
int tlsv_tls13_resume_check_binder(tlsv_engine *e, const struct tlsv_ks13 *ks, const uint8_t *th,
                                   tlsv_bytes binder, unsigned *marks);
int tlsv_tls13_resume_accepted(tlsv_engine *e, const struct tlsv_session *session,
                               unsigned *marks);

/* Maps a msg.c parse failure (already in err) to an engine failure. */
int tlsv_tls13_fail_parse(tlsv_engine *e, const tlsv_error *err);

#endif /* TLSV_TLS13_H */
