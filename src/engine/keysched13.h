/*
 * keysched13.h -- the TLS 1.3 key schedule (RFC 8446 §7.1-7.3, §4.4.4).
 *
 *            0 (or PSK) -> HKDF-Extract = Early Secret
 *   Derive-Secret(., "derived", "") -> HKDF-Extract(., (EC)DHE) = Handshake Secret
 *       -> c hs traffic, s hs traffic (transcript CH..SH)
 *   Derive-Secret(., "derived", "") -> HKDF-Extract(., 0) = Master Secret
 *       -> c ap traffic, s ap traffic, exp master (transcript CH..server Finished)
 *       -> res master (transcript CH..client Finished)
 *
 * The structure holds every secret of one connection's schedule and is
 * wiped by tlsv_ks13_wipe(). All functions return 0, or -1 on a crypto
 * failure.
 */
#ifndef TLSV_KEYSCHED13_H
#define TLSV_KEYSCHED13_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

#define TLSV_KS13_MAX 48 /* SHA-384 */

typedef struct tlsv_ks13 {
    tlsv_hash_alg hash;
    size_t hlen;
    uint8_t stage[TLSV_KS13_MAX];      /* early, then handshake, then master secret */
    uint8_t c_hs[TLSV_KS13_MAX];       /* client_handshake_traffic_secret */
    uint8_t s_hs[TLSV_KS13_MAX];       /* server_handshake_traffic_secret */
    uint8_t c_ap[TLSV_KS13_MAX];       /* client_application_traffic_secret_N */
    uint8_t s_ap[TLSV_KS13_MAX];       /* server_application_traffic_secret_N */
    uint8_t exporter[TLSV_KS13_MAX];   /* exporter_master_secret */
    uint8_t resumption[TLSV_KS13_MAX]; /* resumption_master_secret */
} tlsv_ks13;

/* Early Secret = HKDF-Extract(0, psk or 0^hlen). */
int tlsv_ks13_init(tlsv_ks13 *ks, tlsv_hash_alg hash, const uint8_t *psk, size_t psk_len);

/* Handshake Secret from the (EC)DHE shared secret; then the two handshake
 * traffic secrets over the transcript hash of ClientHello..ServerHello. */
int tlsv_ks13_handshake(tlsv_ks13 *ks, const uint8_t *dhe, size_t dhe_len,
                        const uint8_t *th_hello, size_t th_len);

/* Master Secret; the application traffic secrets and the exporter secret
 * over the transcript hash of ClientHello..server Finished. */
int tlsv_ks13_master(tlsv_ks13 *ks, const uint8_t *th_sfin, size_t th_len);

/* resumption_master_secret over ClientHello..client Finished. */
int tlsv_ks13_resumption(tlsv_ks13 *ks, const uint8_t *th_cfin, size_t th_len);

/* binder_key = Derive-Secret(Early Secret, "res binder", "") (§7.1): call
 * right after tlsv_ks13_init with the PSK. The binder itself is
 * tlsv_ks13_finished(ks, binder_key, Transcript-Hash(truncated
 * ClientHello), ...) (§4.2.11.2). out: hlen bytes. */
int tlsv_ks13_binder_key(const tlsv_ks13 *ks, uint8_t *out);

/* The PSK a ticket stands for: HKDF-Expand-Label(resumption_master_secret,
 * "resumption", ticket_nonce, Hash.length) (§4.6.1). out: hlen bytes. */
int tlsv_ks13_ticket_psk(tlsv_hash_alg hash, const uint8_t *rms, size_t hlen,
                         const uint8_t *nonce, size_t nonce_len, uint8_t *out);

/* Finished verify_data = HMAC(finished_key, transcript hash), where
 * finished_key = HKDF-Expand-Label(base_key, "finished", "", hlen). */
int tlsv_ks13_finished(const tlsv_ks13 *ks, const uint8_t *base_key, const uint8_t *th,
                       size_t th_len, uint8_t *out);

/* Traffic key and IV from a traffic secret (RFC 8446 §7.3). */
int tlsv_ks13_traffic_keys(tlsv_hash_alg hash, const uint8_t *secret, size_t secret_len,
                           size_t key_len, uint8_t *key, uint8_t iv[12]);

/* The next generation of a traffic secret (KeyUpdate, §7.2), in place. */
int tlsv_ks13_update(tlsv_hash_alg hash, uint8_t *secret, size_t secret_len);

/* Wipes every secret. */
void tlsv_ks13_wipe(tlsv_ks13 *ks);

#endif /* TLSV_KEYSCHED13_H */
