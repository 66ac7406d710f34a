/*
 * prf12.h -- key derivation of TLS 1.0-1.2 (and SSL 3.0).
 *
 *   TLS 1.2 (RFC 5246 §5)        PRF = P_<hash>(secret, label + seed), where
 *                                <hash> is the suite's PRF hash (SHA-256 for
 *                                every suite but the *_SHA384 ones)
 *   TLS 1.0/1.1 (RFC 2246 §5,    PRF = P_MD5(S1, label + seed) XOR
 *                RFC 4346 §5)          P_SHA-1(S2, label + seed), S1 and S2
 *                                the two halves of the secret
 *   SSL 3.0 (RFC 6101 §6.1-6.2.2) MD5(secret + SHA('A' + secret + randoms)) + ...
 *                                (only with TLSV_HAVE_SSL3)
 *
 * On top of the PRF, the four things a TLS 1.0-1.2 handshake derives:
 *
 *   master_secret  = PRF(pre_master_secret, "master secret",
 *                        ClientHello.random + ServerHello.random)[0..47]
 *   master_secret  = PRF(pre_master_secret, "extended master secret",
 *                        session_hash)[0..47]                    (RFC 7627 §4)
 *   key_block      = PRF(master_secret, "key expansion",
 *                        ServerHello.random + ClientHello.random)
 *                    = client_write_MAC_key, server_write_MAC_key,
 *                      client_write_key, server_write_key,
 *                      client_write_IV, server_write_IV  (RFC 5246 §6.3)
 *   verify_data    = PRF(master_secret, "client finished" / "server finished",
 *                        Hash(handshake_messages))[0..11]        (RFC 5246 §7.4.9)
 *
 * Every function takes the negotiated version (TLSV_V_SSL3 .. TLSV_V_TLS12,
 * the wire values of version.h) and the suite's PRF hash, which only TLS 1.2
 * uses (TLS 1.0/1.1 always use MD5 + SHA-1; pass anything). All return 0,
 * or -1 on a bad argument or a crypto failure (then any output is zeroed).
 * Intermediate secrets are wiped before returning.
 */
#ifndef TLSV_PRF12_H
#define TLSV_PRF12_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

#define TLSV_PRF12_MASTER_LEN 48  /* master_secret */
#define TLSV_PRF12_RANDOM_LEN 32  /* ClientHello.random, ServerHello.random */
#define TLSV_PRF12_VERIFY_LEN 12  /* TLS Finished verify_data */
#define TLSV_SSL3_VERIFY_LEN 36   /* SSL 3.0 Finished: MD5 (16) || SHA-1 (20) */
#define TLSV_SSL3_KEY_BLOCK_MAX (26 * 16) /* SSL 3.0 labels run 'A' .. 'Z'...'Z' */

/* The hash the PRF of `version` runs on: TLSV_HASH_MD5_SHA1 (meaning the
 * MD5 XOR SHA-1 construction) below TLS 1.2, `suite_hash` for TLS 1.2
 * (SHA-256 or SHA-384). It is also the hash of the Finished transcript:
 * the 36-byte MD5 || SHA-1 of TLS 1.0/1.1, Hash(handshake_messages) in 1.2. */
tlsv_hash_alg tlsv_prf12_hash(uint16_t version, tlsv_hash_alg suite_hash);

/* The raw PRF: writes out_len bytes of PRF(secret, label, seed1 + seed2)
 * into out. `hash` is SHA-256 or SHA-384 (TLS 1.2's P_hash; SHA-1 and
 * SHA-512 are accepted too) or TLSV_HASH_MD5_SHA1 (the TLS 1.0/1.1 PRF).
 * label is a NUL-terminated ASCII string (may be "" but not NULL); the seed
 * comes in two parts so callers need not concatenate the randoms (either
 * may be NULL when its length is 0). secret may be NULL when secret_len is
 * 0. */
int tlsv_prf12(tlsv_hash_alg hash, const uint8_t *secret, size_t secret_len, const char *label,
               const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2, size_t seed2_len,
               uint8_t *out, size_t out_len);

/* master_secret from the pre-master secret and the two randoms (RFC 5246
 * §8.1; SSL 3.0: RFC 6101 §6.1). */
int tlsv_prf12_master(uint16_t version, tlsv_hash_alg suite_hash, const uint8_t *pms,
                      size_t pms_len, const uint8_t client_random[TLSV_PRF12_RANDOM_LEN],
                      const uint8_t server_random[TLSV_PRF12_RANDOM_LEN],
                      uint8_t master[TLSV_PRF12_MASTER_LEN]);

/* The extended master secret (RFC 7627 §4): session_hash is the hash of the
 * handshake messages up to and including ClientKeyExchange, computed with
 * the Finished hash of `version` (tlsv_prf12_hash). Not defined for SSL 3.0
 * (-1). */
int tlsv_prf12_ems(uint16_t version, tlsv_hash_alg suite_hash, const uint8_t *pms, size_t pms_len,
                   const uint8_t *session_hash, size_t session_hash_len,
                   uint8_t master[TLSV_PRF12_MASTER_LEN]);

/* out_len bytes of key block (RFC 5246 §6.3; SSL 3.0: RFC 6101 §6.2.2, at
 * most TLSV_SSL3_KEY_BLOCK_MAX bytes). Note the order of the randoms in the
 * seed: server's first. */
int tlsv_prf12_key_block(uint16_t version, tlsv_hash_alg suite_hash,
                         const uint8_t master[TLSV_PRF12_MASTER_LEN],
                         const uint8_t client_random[TLSV_PRF12_RANDOM_LEN],
                         const uint8_t server_random[TLSV_PRF12_RANDOM_LEN], uint8_t *out,
                         size_t out_len);

/* The key block cut into its six parts (RFC 5246 §6.3). mac_len is 0 for
 * AEAD suites; iv_len is the fixed IV: 4 for AES-GCM, 12 for
 * ChaCha20-Poly1305, 16 for CBC in TLS 1.0 / SSL 3.0, 0 for CBC in TLS
 * 1.1/1.2 (the IV travels in each record). The pointers point into block. */
typedef struct tlsv_keys12 {
    uint8_t block[2 * (48 + 32 + 16)];
    size_t mac_len, key_len, iv_len;
    const uint8_t *client_mac, *server_mac;
    const uint8_t *client_key, *server_key;
    const uint8_t *client_iv, *server_iv;
} tlsv_keys12;

/* Derives the key block of mac_len + key_len + iv_len bytes per side and
 * cuts it (mac_len <= 48, key_len <= 32, iv_len <= 16). Wipe the result with
 * tlsv_keys12_wipe() once the record layer is keyed. */
int tlsv_prf12_keys(uint16_t version, tlsv_hash_alg suite_hash,
                    const uint8_t master[TLSV_PRF12_MASTER_LEN],
                    const uint8_t client_random[TLSV_PRF12_RANDOM_LEN],
                    const uint8_t server_random[TLSV_PRF12_RANDOM_LEN], size_t mac_len,
                    size_t key_len, size_t iv_len, tlsv_keys12 *keys);

void tlsv_keys12_wipe(tlsv_keys12 *keys);

/* TLS 1.0-1.2 Finished verify_data (12 bytes) of the client (`client`
 * true: "client finished") or the server ("server finished") over
 * th[0..th_len), the transcript hash: MD5 || SHA-1 of the handshake
 * messages (36 bytes) in TLS 1.0/1.1, their hash with the PRF hash in
 * TLS 1.2. Not for SSL 3.0 (-1; see tlsv_ssl3_finished). */
int tlsv_prf12_finished(uint16_t version, tlsv_hash_alg suite_hash,
                        const uint8_t master[TLSV_PRF12_MASTER_LEN], bool client,
                        const uint8_t *th, size_t th_len,
                        uint8_t out[TLSV_PRF12_VERIFY_LEN]);

#ifdef TLSV_HAVE_SSL3
/* SSL 3.0 Finished (RFC 6101 §5.6.9), 36 bytes:
 *   MD5(master + pad_2 + MD5(handshake_messages + Sender + master + pad_1)) ||
 *   SHA(master + pad_2 + SHA(handshake_messages + Sender + master + pad_1))
 * with Sender "CLNT" (client) or "SRVR". md5 and sha1 are running
 * transcript hashes of the handshake messages so far; they are not changed
 * (copies are extended). */
int tlsv_ssl3_finished(const tlsv_hash_ctx *md5, const tlsv_hash_ctx *sha1,
                       const uint8_t master[TLSV_PRF12_MASTER_LEN], bool client,
                       uint8_t out[TLSV_SSL3_VERIFY_LEN]);

/* The 36 bytes an SSL 3.0 CertificateVerify signs (RFC 6101 §5.6.8): the
 * same construction without Sender. */
int tlsv_ssl3_cert_verify_hash(const tlsv_hash_ctx *md5, const tlsv_hash_ctx *sha1,
                               const uint8_t master[TLSV_PRF12_MASTER_LEN],
                               uint8_t out[TLSV_SSL3_VERIFY_LEN]);
#endif

#endif /* TLSV_PRF12_H */
