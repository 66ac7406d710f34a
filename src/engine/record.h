/*
 * record.h -- the record layer: framing, sequence numbers and protection.
 *
 * One tlsv_rec_dir per direction. It starts unprotected (plaintext records,
 * as in the first flight) and is switched to a protection when the key
 * schedule says so:
 *
 *   TLSV_REC_TLS13     TLS 1.3 AEAD (RFC 8446 §5.2-5.4): inner content type,
 *                      padding stripped, outer header application_data/0x0303
 *   TLSV_REC_AEAD12    TLS 1.2 AEAD: AES-GCM with a 4-byte implicit salt and
 *                      an 8-byte explicit nonce in each record (RFC 5288; we
 *                      send the sequence number), ChaCha20-Poly1305 with the
 *                      12-byte IV XOR the sequence number (RFC 7905).
 *                      additional_data = seq_num + type + version + length
 *                      (RFC 5246 §6.2.3.3)
 *   TLSV_REC_CBC       TLS 1.0-1.2 AES-CBC + HMAC, MAC-then-encrypt
 *                      (RFC 5246 §6.2.3.2): a random explicit IV per record
 *                      in TLS 1.1/1.2, the chained IV of TLS 1.0 (the last
 *                      ciphertext block of the previous record); checked on
 *                      receipt in constant time (record.c explains how)
 *   TLSV_REC_CBC_ETM   the same with encrypt-then-MAC (RFC 7366): the MAC
 *                      covers the IV and the ciphertext and is checked first
 *   TLSV_REC_SSL3_CBC  SSL 3.0: the SSL 3.0 MAC (RFC 6101 §5.2.3.1) and its
 *                      padding, chained IV (only with TLSV_HAVE_SSL3)
 *
 * Protected TLS 1.0-1.2 records carry the negotiated version (given to the
 * setter) in their header; the sequence number restarts at 0 with every
 * setter. A CBC direction is keyed either to seal or to open (AES uses one
 * key schedule per way): set TLSV_REC_SEAL for the direction that writes.
 */
#ifndef TLSV_RECORD_H
#define TLSV_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "crypto/crypto.h"
#include "tlsv.h"

enum {
    TLSV_CT_CHANGE_CIPHER_SPEC = 20,
    TLSV_CT_ALERT = 21,
    TLSV_CT_HANDSHAKE = 22,
    TLSV_CT_APPLICATION_DATA = 23
};

#define TLSV_REC_HEADER 5
#define TLSV_REC_MAX_PLAINTEXT 16384                 /* 2^14 */
#define TLSV_REC_MAX_CIPHERTEXT_13 (16384 + 256)     /* RFC 8446 §5.2 */
#define TLSV_REC_MAX_CIPHERTEXT_12 (16384 + 2048)    /* RFC 5246 §6.2.3 */
/* The most a sealed record adds to its plaintext, header included (CBC with
 * an explicit IV, HMAC-SHA-384 and a full block of padding: 5+16+48+16). */
#define TLSV_REC_MAX_OVERHEAD 85

typedef enum tlsv_rec_kind {
    TLSV_REC_PLAIN = 0,     /* no protection */
#ifdef TLSV_HAVE_SSL3
    TLSV_REC_SSL3_CBC = 3,  /* SSL 3.0 CBC + SSL 3.0 MAC */
#endif
    TLSV_REC_CBC = 10,      /* TLS 1.0-1.2 CBC + HMAC, MAC-then-encrypt */
    TLSV_REC_CBC_ETM = 11,  /* TLS 1.0-1.2 CBC + HMAC, encrypt-then-MAC (RFC 7366) */
    TLSV_REC_AEAD12 = 12,   /* TLS 1.2 AES-GCM / ChaCha20-Poly1305 */
    TLSV_REC_TLS13 = 13     /* TLS 1.3 AEAD: inner content type, padding */
} tlsv_rec_kind;

typedef struct tlsv_rec_dir {
    tlsv_rec_kind kind;
    tlsv_aead_ctx *aead;
    uint8_t iv[TLSV_AEAD_NONCE_LEN]; /* TLS 1.3, ChaCha20 1.2: the IV; GCM 1.2: the salt */
    uint64_t seq;      /* next record's sequence number */
    uint64_t records;  /* records protected under the current key */
    /* TLS 1.0-1.2 and SSL 3.0 */
    uint16_t version;        /* header version of protected records */
    bool sealing;            /* CBC kinds: keyed to seal (else to open) */
    bool chained_iv;         /* CBC: TLS 1.0 / SSL 3.0 chained IV (no IV in records) */
    size_t explicit_len;     /* AEAD12: 8 for GCM's explicit nonce, 0 for ChaCha20 */
    size_t mac_len;          /* CBC kinds: MAC length */
    tlsv_cbc_ctx *cbc;       /* CBC kinds */
    tlsv_hmac_ctx *mac;      /* TLS CBC kinds */
    tlsv_hash_ctx *ssl3_inner, *ssl3_outer, *ssl3_scratch; /* SSL 3.0 MAC: keyed prefixes */
} tlsv_rec_dir;

/* Back to plaintext; frees every cipher and MAC context and wipes the
 * keys and IVs. */
void tlsv_rec_dir_clear(tlsv_rec_dir *d);

/* Switches to TLS 1.3 protection keyed from a traffic secret (key and IV by
 * HKDF-Expand-Label, §7.3); the sequence number restarts at 0. */
int tlsv_rec_dir_set13(tlsv_rec_dir *d, tlsv_aead_alg aead, tlsv_hash_alg hash,
                       const uint8_t *secret, size_t secret_len);

/* One direction's slice of a TLS 1.0-1.2 key block (RFC 5246 §6.3; see
 * prf12.h, tlsv_keys12). */
typedef struct tlsv_rec_keys12 {
    const uint8_t *mac_key; /* CBC kinds: the MAC key (NULL / 0 for AEAD) */
    size_t mac_key_len;
    const uint8_t *key;     /* the cipher key */
    size_t key_len;
    const uint8_t *iv;      /* GCM: the 4-byte salt; ChaCha20: 12 bytes; CBC in TLS
                               1.0 / SSL 3.0: the 16-byte first IV; otherwise unused */
    size_t iv_len;
} tlsv_rec_keys12;

/* Flags of tlsv_rec_dir_set_cbc. */
#define TLSV_REC_SEAL 0x1u /* this direction seals (writes); without it, it opens */
#define TLSV_REC_ETM 0x2u  /* encrypt-then-MAC (RFC 7366 negotiated) */

/* Switches to TLS 1.2 AEAD protection (TLSV_REC_AEAD12). version must be
 * TLS 1.2; aead AES-128/256-GCM (iv_len 4) or ChaCha20-Poly1305 (iv_len
 * 12). The sequence number restarts at 0. Returns 0 or -1 (bad argument,
 * crypto failure; the direction is then plaintext). */
int tlsv_rec_dir_set_aead12(tlsv_rec_dir *d, uint16_t version, tlsv_aead_alg aead,
                            const tlsv_rec_keys12 *k);

/* Switches to CBC protection: TLSV_REC_CBC (or TLSV_REC_CBC_ETM with
 * TLSV_REC_ETM) for TLS 1.0-1.2 with an HMAC over SHA-1, SHA-256 or
 * SHA-384; TLSV_REC_SSL3_CBC for version SSL 3.0 when built with
 * TLSV_HAVE_SSL3 (MAC over MD5 or SHA-1; no ETM). The MAC key is exactly
 * the hash length. TLS 1.0 and SSL 3.0 need the
 * 16-byte first IV. flags: TLSV_REC_SEAL for the writing direction.
 * Returns 0 or -1 (bad argument, crypto failure; the direction is then
 * plaintext). */
int tlsv_rec_dir_set_cbc(tlsv_rec_dir *d, uint16_t version, unsigned flags, tlsv_cbc_alg cipher,
                         tlsv_hash_alg mac, const tlsv_rec_keys12 *k);

/* Appends one record carrying pt[0..n) (n <= 2^14) of content type `type`
 * to out. Plaintext records carry `version` in their header; TLS 1.3
 * records are application_data / 0x0303 outside, `type` inside; TLS 1.0-1.2
 * protected records carry `type` and the version given to their setter.
 * out needs room for n + TLSV_REC_MAX_OVERHEAD bytes.
 * Returns 0, or -1 (out full, crypto failure, sequence exhausted, a
 * direction keyed to open). */
int tlsv_rec_seal(tlsv_rec_dir *d, uint8_t type, uint16_t version, const uint8_t *pt, size_t n,
                  tlsv_writer *out);

/* Opens one received record in place. hdr is its 5-byte header, body[0..len)
 * its fragment. On success sets *type (the real content type) and
 * *pt and *pt_len (a view inside body). Errors set err: bad_record_mac
 * (authentication failed; for TLS 1.0-1.2 also a bad CBC padding, a
 * fragment too short or not a whole number of blocks, and a header whose
 * version or length differs from the negotiated version / len -- the
 * header is authenticated data), record_overflow (fragment over
 * 2^14 + 2048 or plaintext over 2^14), unexpected_message (TLS 1.3: no
 * content type inside, or a non-application_data outer type),
 * internal_error (TLS 1.0-1.2: read sequence number exhausted, a CBC
 * direction keyed to seal; TLS 1.3 reports an exhausted sequence number as
 * bad_record_mac, as it always has). */
int tlsv_rec_open(tlsv_rec_dir *d, const uint8_t hdr[TLSV_REC_HEADER], uint8_t *body, size_t len,
                  uint8_t *type, uint8_t **pt, size_t *pt_len, tlsv_error *err);

/* As tlsv_rec_open, but a TLS 1.3 record is decrypted into dst[0..dst_cap)
 * instead of in place (its content type and padding, up to 256 bytes, may
 * land in a scratch buffer): the engine hands an application's read buffer
 * down so that bulk data lands where it is read, with no copy. *pt points
 * into dst when the whole content fit there, whatever its type; otherwise the
 * plaintext was moved into body and *pt points there. Other record kinds, and
 * a dst more than 256 bytes too small, open in place. */
int tlsv_rec_open_into(tlsv_rec_dir *d, const uint8_t hdr[TLSV_REC_HEADER], uint8_t *body,
                       size_t len, uint8_t *dst, size_t dst_cap, uint8_t *type, uint8_t **pt,
                       size_t *pt_len, tlsv_error *err);

#endif /* TLSV_RECORD_H */
