/*
 * record.c -- record framing and protection. See record.h.
 */
#include "record.h"

#include <string.h>

#include "err.h"
#include "keysched13.h"

void tlsv_rec_dir_clear(tlsv_rec_dir *d)
{
    tlsv_aead_free(d->aead);
    tlsv_wipe(d, sizeof *d);
    d->kind = TLSV_REC_PLAIN;
    d->aead = NULL;
}

int tlsv_rec_dir_set13(tlsv_rec_dir *d, tlsv_aead_alg aead, tlsv_hash_alg hash,
                       const uint8_t *secret, size_t secret_len)
{
    uint8_t key[TLSV_AEAD_MAX_KEY_LEN];
    size_t key_len = tlsv_aead_key_len(aead);
    tlsv_rec_dir_clear(d);
    if (key_len == 0 ||
        tlsv_ks13_traffic_keys(hash, secret, secret_len, key_len, key, d->iv) != 0)
        return -1;
    d->aead = tlsv_aead_new(aead, key, key_len);
    tlsv_wipe(key, sizeof key);
    if (!d->aead)
        return -1;
    d->kind = TLSV_REC_TLS13;
    return 0;
}

/* nonce = iv XOR the 64-bit sequence number, left-padded (§5.3). */
static void nonce13(const tlsv_rec_dir *d, uint8_t nonce[TLSV_AEAD_NONCE_LEN])
{
    memcpy(nonce, d->iv, TLSV_AEAD_NONCE_LEN);
    for (int i = 0; i < 8; i++)
        nonce[TLSV_AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(d->seq >> (8 * i));
}

int tlsv_rec_seal(tlsv_rec_dir *d, uint8_t type, uint16_t version, const uint8_t *pt, size_t n,
                  tlsv_writer *out)
{
    if (n > TLSV_REC_MAX_PLAINTEXT || d->seq == UINT64_MAX)
        return -1;
    if (d->kind == TLSV_REC_PLAIN) {
        if (!tlsv_wr_u8(out, type) || !tlsv_wr_u16(out, version) ||
            !tlsv_wr_opaque(out, 2, pt, n))
            return -1;
        d->seq++;
        return 0;
    }
    /* TLSInnerPlaintext = content || type (no padding), then the tag. */
    size_t inner = n + 1, total = inner + TLSV_AEAD_TAG_LEN;
    uint8_t hdr[TLSV_REC_HEADER] = {TLSV_CT_APPLICATION_DATA, 0x03, 0x03, (uint8_t)(total >> 8),
                                    (uint8_t)total};
    uint8_t *p;
    if (!tlsv_wr_bytes(out, hdr, sizeof hdr) || !tlsv_wr_reserve(out, total, &p))
        return -1;
    if (n)
        memmove(p, pt, n);
    p[n] = type;
    uint8_t nonce[TLSV_AEAD_NONCE_LEN];
    nonce13(d, nonce);
    size_t got = 0;
    if (tlsv_aead_seal(d->aead, nonce, sizeof nonce, hdr, sizeof hdr, p, inner, p, total, &got) !=
            0 ||
        got != total) {
        tlsv_wr_commit(out, 0);
        return -1;
    }
    if (!tlsv_wr_commit(out, total))
        return -1;
    d->seq++;
    d->records++;
    return 0;
}

int tlsv_rec_open(tlsv_rec_dir *d, const uint8_t hdr[TLSV_REC_HEADER], uint8_t *body, size_t len,
                  uint8_t *type, uint8_t **pt, size_t *pt_len, tlsv_error *err)
{
    if (d->kind == TLSV_REC_PLAIN) {
        if (len > TLSV_REC_MAX_PLAINTEXT) {
            tlsv_err_set(err, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW,
                         TLSV_SIDE_LOCAL, "a plaintext record of %zu bytes exceeds 2^14", len);
            return -1;
        }
        *type = hdr[0];
        *pt = body;
        *pt_len = len;
        d->seq++;
        return 0;
    }
    if (hdr[0] != TLSV_CT_APPLICATION_DATA) {
        tlsv_err_set(err, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                     TLSV_SIDE_LOCAL,
                     "a protected record arrived with outer content type %u, not "
                     "application_data (RFC 8446 §5.2)",
                     (unsigned)hdr[0]);
        return -1;
    }
    if (len > TLSV_REC_MAX_CIPHERTEXT_13) {
        tlsv_err_set(err, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW, TLSV_SIDE_LOCAL,
                     "an encrypted record of %zu bytes exceeds 2^14 + 256", len);
        return -1;
    }
    if (len < TLSV_AEAD_TAG_LEN + 1 || d->seq == UINT64_MAX) {
        tlsv_err_set(err, TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC, TLSV_ALERT_BAD_RECORD_MAC, TLSV_SIDE_LOCAL,
                     "an encrypted record of %zu bytes is too short to authenticate", len);
        return -1;
    }
    uint8_t nonce[TLSV_AEAD_NONCE_LEN];
    nonce13(d, nonce);
    size_t n = 0;
    if (tlsv_aead_open(d->aead, nonce, sizeof nonce, hdr, TLSV_REC_HEADER, body, len, body, len,
                       &n) != 0) {
        tlsv_err_set(err, TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC, TLSV_ALERT_BAD_RECORD_MAC, TLSV_SIDE_LOCAL,
                     "a record failed authentication (wrong key, or modified on the way)");
        return -1;
    }
    d->seq++;
    d->records++;
    /* strip the zero padding; the last non-zero byte is the content type */
    while (n > 0 && body[n - 1] == 0)
        n--;
    if (n == 0) {
        tlsv_err_set(err, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                     TLSV_SIDE_LOCAL, "a protected record held no content type (all padding)");
        return -1;
    }
    *type = body[n - 1];
    n--;
    if (n > TLSV_REC_MAX_PLAINTEXT) {
        tlsv_err_set(err, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW, TLSV_SIDE_LOCAL,
                     "a decrypted record of %zu bytes exceeds 2^14", n);
        return -1;
    }
    *pt = body;
    *pt_len = n;
    return 0;
}
