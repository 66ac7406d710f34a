/*
 * record.h -- the record layer: framing, sequence numbers and protection.
 *
 * One tlsv_rec_dir per direction. It starts unprotected (plaintext records,
 * as in the first flight) and is switched to TLS 1.3 AEAD protection
 * (RFC 8446 §5.2-5.4) when the key schedule says so. TLS 1.0-1.2
 * protections (AEAD with explicit nonce, CBC + HMAC) plug in here later.
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

typedef enum tlsv_rec_kind {
    TLSV_REC_PLAIN = 0,  /* no protection */
    TLSV_REC_TLS13 = 13  /* TLS 1.3 AEAD: inner content type, padding */
} tlsv_rec_kind;

typedef struct tlsv_rec_dir {
    tlsv_rec_kind kind;
    tlsv_aead_ctx *aead;
    uint8_t iv[TLSV_AEAD_NONCE_LEN];
    uint64_t seq;      /* next record's sequence number */
    uint64_t records;  /* records protected under the current key */
} tlsv_rec_dir;

/* Back to plaintext; frees the AEAD and wipes the IV. */
void tlsv_rec_dir_clear(tlsv_rec_dir *d);

/* Switches to TLS 1.3 protection keyed from a traffic secret (key and IV by
 * HKDF-Expand-Label, §7.3); the sequence number restarts at 0. */
int tlsv_rec_dir_set13(tlsv_rec_dir *d, tlsv_aead_alg aead, tlsv_hash_alg hash,
                       const uint8_t *secret, size_t secret_len);

/* Appends one record carrying pt[0..n) (n <= 2^14) of content type `type`
 * to out. Plaintext records carry `version` in their header; TLS 1.3
 * records are application_data / 0x0303 outside, `type` inside.
 * Returns 0, or -1 (out full, crypto failure, sequence exhausted). */
int tlsv_rec_seal(tlsv_rec_dir *d, uint8_t type, uint16_t version, const uint8_t *pt, size_t n,
                  tlsv_writer *out);

/* Opens one received record in place. hdr is its 5-byte header, body[0..len)
 * its fragment. On success sets *type (the real content type) and
 * *pt and *pt_len (a view inside body). Errors set err: bad_record_mac
 * (authentication failed), record_overflow (plaintext over 2^14),
 * unexpected_message (no content type inside, or a non-application_data
 * outer type for a protected record). */
int tlsv_rec_open(tlsv_rec_dir *d, const uint8_t hdr[TLSV_REC_HEADER], uint8_t *body, size_t len,
                  uint8_t *type, uint8_t **pt, size_t *pt_len, tlsv_error *err);

#endif /* TLSV_RECORD_H */
