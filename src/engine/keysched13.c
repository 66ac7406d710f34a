/*
 * keysched13.c -- the TLS 1.3 key schedule. See keysched13.h.
 */
#include "keysched13.h"

#include <string.h>

/* Derive-Secret(Secret, Label, Messages) with the transcript hash given. */
static int derive_secret(const tlsv_ks13 *ks, const uint8_t *secret, const char *label,
                         const uint8_t *th, size_t th_len, uint8_t *out)
{
    return tlsv_hkdf_expand_label(ks->hash, secret, ks->hlen, label, th, th_len, out, ks->hlen) ==
                   0
               ? 0
               : -1;
}

/* Derive-Secret(stage, "derived", "") then HKDF-Extract(that, ikm) -> stage. */
static int next_stage(tlsv_ks13 *ks, const uint8_t *ikm, size_t ikm_len)
{
    uint8_t empty_hash[TLSV_KS13_MAX], derived[TLSV_KS13_MAX];
    int rc = -1;
    if (tlsv_hash(ks->hash, NULL, 0, empty_hash, sizeof empty_hash) != 0)
        goto out;
    if (derive_secret(ks, ks->stage, "derived", empty_hash, ks->hlen, derived) != 0)
        goto out;
    if (tlsv_hkdf_extract(ks->hash, derived, ks->hlen, ikm, ikm_len, ks->stage,
                          sizeof ks->stage) != 0)
        goto out;
    rc = 0;
out:
    tlsv_wipe(derived, sizeof derived);
    return rc;
}

int tlsv_ks13_init(tlsv_ks13 *ks, tlsv_hash_alg hash, const uint8_t *psk, size_t psk_len)
{
    memset(ks, 0, sizeof *ks);
    ks->hash = hash;
    ks->hlen = tlsv_hash_len(hash);
    if (ks->hlen == 0 || ks->hlen > TLSV_KS13_MAX)
        return -1;
    uint8_t zeros[TLSV_KS13_MAX] = {0};
    if (!psk) {
        psk = zeros;
        psk_len = ks->hlen;
    }
    return tlsv_hkdf_extract(hash, zeros, ks->hlen, psk, psk_len, ks->stage, sizeof ks->stage) == 0
               ? 0
               : -1;
}

int tlsv_ks13_handshake(tlsv_ks13 *ks, const uint8_t *dhe, size_t dhe_len, const uint8_t *th_hello,
                        size_t th_len)
{
    if (next_stage(ks, dhe, dhe_len) != 0)
        return -1;
    if (derive_secret(ks, ks->stage, "c hs traffic", th_hello, th_len, ks->c_hs) != 0 ||
        derive_secret(ks, ks->stage, "s hs traffic", th_hello, th_len, ks->s_hs) != 0)
        return -1;
    return 0;
}

int tlsv_ks13_master(tlsv_ks13 *ks, const uint8_t *th_sfin, size_t th_len)
{
    uint8_t zeros[TLSV_KS13_MAX] = {0};
    if (next_stage(ks, zeros, ks->hlen) != 0)
        return -1;
    if (derive_secret(ks, ks->stage, "c ap traffic", th_sfin, th_len, ks->c_ap) != 0 ||
        derive_secret(ks, ks->stage, "s ap traffic", th_sfin, th_len, ks->s_ap) != 0 ||
        derive_secret(ks, ks->stage, "exp master", th_sfin, th_len, ks->exporter) != 0)
        return -1;
    return 0;
}

int tlsv_ks13_resumption(tlsv_ks13 *ks, const uint8_t *th_cfin, size_t th_len)
{
    return derive_secret(ks, ks->stage, "res master", th_cfin, th_len, ks->resumption);
}

int tlsv_ks13_binder_key(const tlsv_ks13 *ks, uint8_t *out)
{
    uint8_t empty_hash[TLSV_KS13_MAX];
    if (tlsv_hash(ks->hash, NULL, 0, empty_hash, sizeof empty_hash) != 0)
        return -1;
    return derive_secret(ks, ks->stage, "res binder", empty_hash, ks->hlen, out);
}

int tlsv_ks13_ticket_psk(tlsv_hash_alg hash, const uint8_t *rms, size_t hlen,
                         const uint8_t *nonce, size_t nonce_len, uint8_t *out)
{
    return tlsv_hkdf_expand_label(hash, rms, hlen, "resumption", nonce, nonce_len, out, hlen) ==
                   0
               ? 0
               : -1;
}

int tlsv_ks13_finished(const tlsv_ks13 *ks, const uint8_t *base_key, const uint8_t *th,
                       size_t th_len, uint8_t *out)
{
    uint8_t fkey[TLSV_KS13_MAX];
    int rc = -1;
    if (tlsv_hkdf_expand_label(ks->hash, base_key, ks->hlen, "finished", NULL, 0, fkey,
                               ks->hlen) == 0 &&
        tlsv_hmac(ks->hash, fkey, ks->hlen, th, th_len, out, ks->hlen) == 0)
        rc = 0;
    tlsv_wipe(fkey, sizeof fkey);
    return rc;
}

int tlsv_ks13_traffic_keys(tlsv_hash_alg hash, const uint8_t *secret, size_t secret_len,
                           size_t key_len, uint8_t *key, uint8_t iv[12])
{
    if (tlsv_hkdf_expand_label(hash, secret, secret_len, "key", NULL, 0, key, key_len) != 0 ||
        tlsv_hkdf_expand_label(hash, secret, secret_len, "iv", NULL, 0, iv, 12) != 0)
        return -1;
    return 0;
}

int tlsv_ks13_update(tlsv_hash_alg hash, uint8_t *secret, size_t secret_len)
{
    uint8_t next[TLSV_KS13_MAX];
    if (secret_len > sizeof next ||
        tlsv_hkdf_expand_label(hash, secret, secret_len, "traffic upd", NULL, 0, next,
                               secret_len) != 0)
        return -1;
    memcpy(secret, next, secret_len);
    tlsv_wipe(next, sizeof next);
    return 0;
}

void tlsv_ks13_wipe(tlsv_ks13 *ks)
{
    tlsv_wipe(ks, sizeof *ks);
}
