/*
 * fuzz_record_kinds.h -- the record protections fuzz_record.c runs, keyed
 * with fixed keys; shared with make_corpus.c, which seals seed records
 * under the same keys.
 */
#ifndef TLSV_FUZZ_RECORD_KINDS_H
#define TLSV_FUZZ_RECORD_KINDS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "crypto/crypto.h"
#include "engine/record.h"

static const uint8_t rk_key[32] = {0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98, 0xa9, 0xba,
                                0xcb, 0xdc, 0xed, 0xfe, 0x0f, 0x01, 0x12, 0x23, 0x34, 0x45, 0x56,
                                0x67, 0x78, 0x89, 0x9a, 0xab, 0xbc, 0xcd, 0xde, 0xef, 0xf0};
static const uint8_t rk_mac_key[48] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
                                    33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48};
static const uint8_t rk_iv[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                               0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};
static const uint8_t rk_secret[48] = {0x5e, 0xc7, 0xe7, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                   13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
                                   29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44};

struct kind {
    tlsv_rec_kind kind;
    uint16_t version;
    int aead;     /* tlsv_aead_alg, AEAD kinds */
    int hash;     /* TLS 1.3: the suite hash; CBC: the MAC hash */
    int cbc;      /* tlsv_cbc_alg, CBC kinds */
};

static const struct kind kinds[] = {
    {TLSV_REC_PLAIN, 0x0303, 0, 0, 0},
    {TLSV_REC_TLS13, 0x0304, TLSV_AEAD_AES_128_GCM, TLSV_HASH_SHA256, 0},
    {TLSV_REC_TLS13, 0x0304, TLSV_AEAD_AES_256_GCM, TLSV_HASH_SHA384, 0},
    {TLSV_REC_TLS13, 0x0304, TLSV_AEAD_CHACHA20_POLY1305, TLSV_HASH_SHA256, 0},
    {TLSV_REC_AEAD12, 0x0303, TLSV_AEAD_AES_128_GCM, 0, 0},
    {TLSV_REC_AEAD12, 0x0303, TLSV_AEAD_AES_256_GCM, 0, 0},
    {TLSV_REC_AEAD12, 0x0303, TLSV_AEAD_CHACHA20_POLY1305, 0, 0},
    {TLSV_REC_CBC, 0x0301, 0, TLSV_HASH_SHA1, TLSV_CBC_AES_128},
    {TLSV_REC_CBC, 0x0302, 0, TLSV_HASH_SHA1, TLSV_CBC_AES_256},
    {TLSV_REC_CBC, 0x0303, 0, TLSV_HASH_SHA256, TLSV_CBC_AES_128},
    {TLSV_REC_CBC, 0x0303, 0, TLSV_HASH_SHA384, TLSV_CBC_AES_256},
    {TLSV_REC_CBC_ETM, 0x0301, 0, TLSV_HASH_SHA1, TLSV_CBC_AES_128},
    {TLSV_REC_CBC_ETM, 0x0302, 0, TLSV_HASH_SHA256, TLSV_CBC_AES_128},
    {TLSV_REC_CBC_ETM, 0x0303, 0, TLSV_HASH_SHA384, TLSV_CBC_AES_256},
#ifdef TLSV_HAVE_SSL3
    {TLSV_REC_SSL3_CBC, 0x0300, 0, TLSV_HASH_SHA1, TLSV_CBC_AES_128},
    {TLSV_REC_SSL3_CBC, 0x0300, 0, TLSV_HASH_MD5, TLSV_CBC_AES_256},
#endif
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

static inline bool is_cbc(const struct kind *k)
{
    return k->kind != TLSV_REC_PLAIN && k->kind != TLSV_REC_TLS13 && k->kind != TLSV_REC_AEAD12;
}

/* Keys one direction; `seal` for the sending one. */
static inline int key_dir(tlsv_rec_dir *d, const struct kind *k, bool seal)
{
    memset(d, 0, sizeof *d);
    d->kind = TLSV_REC_PLAIN;
    switch (k->kind) {
    case TLSV_REC_PLAIN: return 0;
    case TLSV_REC_TLS13:
        return tlsv_rec_dir_set13(d, (tlsv_aead_alg)k->aead, (tlsv_hash_alg)k->hash, rk_secret,
                                  tlsv_hash_len((tlsv_hash_alg)k->hash));
    case TLSV_REC_AEAD12: {
        tlsv_rec_keys12 kk = {.key = rk_key,
                              .key_len = tlsv_aead_key_len((tlsv_aead_alg)k->aead),
                              .iv = rk_iv,
                              .iv_len = k->aead == TLSV_AEAD_CHACHA20_POLY1305 ? 12 : 4};
        return tlsv_rec_dir_set_aead12(d, k->version, (tlsv_aead_alg)k->aead, &kk);
    }
    default: {
        tlsv_rec_keys12 kk = {.mac_key = rk_mac_key,
                              .mac_key_len = tlsv_hash_len((tlsv_hash_alg)k->hash),
                              .key = rk_key,
                              .key_len = tlsv_cbc_key_len((tlsv_cbc_alg)k->cbc),
                              .iv = rk_iv,
                              .iv_len = 16};
        unsigned flags = (seal ? TLSV_REC_SEAL : 0) | (k->kind == TLSV_REC_CBC_ETM ? TLSV_REC_ETM : 0);
        return tlsv_rec_dir_set_cbc(d, k->version, flags, (tlsv_cbc_alg)k->cbc,
                                    (tlsv_hash_alg)k->hash, &kk);
    }
    }
}

#endif /* TLSV_FUZZ_RECORD_KINDS_H */
