/*
 * test_record12.c -- TLS 1.0-1.2 (and SSL 3.0) record protection in
 * src/engine/record.c.
 *
 * Every protection is checked three ways:
 *   - round trips: records sealed by one tlsv_rec_dir and opened by a peer
 *     direction keyed identically, for every kind x every version it
 *     applies to, many lengths and content types;
 *   - byte-exact agreement with an independent implementation of the
 *     record formats written here over OpenSSL's EVP (AES-CBC + HMAC per
 *     RFC 5246 §6.2.3.2, RFC 7366 encrypt-then-MAC, RFC 6101 SSL 3.0 MAC,
 *     AES-GCM per RFC 5288, ChaCha20-Poly1305 per RFC 7905): our sealed
 *     records equal the reference's, and records the reference builds --
 *     with any padding length -- open;
 *   - refusal: every byte of a record modified (header, explicit IV or
 *     nonce, ciphertext, MAC, padding), truncation, extension, inconsistent
 *     padding: all fail with bad_record_mac -- except the header's version,
 *     refused as WRONG_VERSION_NUMBER (protocol_version).
 * Plus TLS 1.0's chained IV, the limits (record_overflow, sequence number
 * exhaustion) and the constant-time record MAC of the crypto seam against
 * a plain HMAC.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "buf.h"
#include "crypto/crypto.h"
#include "engine/record.h"
#include "version.h"

/* ======================================================================
 * Configurations
 * ====================================================================== */

enum kind { K_AEAD, K_MTE, K_ETM, K_SSL3 };

typedef struct cfg {
    enum kind kind;
    uint16_t version;
    tlsv_aead_alg aead;
    tlsv_cbc_alg cbc;
    tlsv_hash_alg mac;
    char name[64];
} cfg;

static cfg cfgs[64];
static size_t n_cfgs;

static const char *hash_name(tlsv_hash_alg h)
{
    switch (h) {
    case TLSV_HASH_MD5: return "MD5";
    case TLSV_HASH_SHA1: return "SHA1";
    case TLSV_HASH_SHA256: return "SHA256";
    case TLSV_HASH_SHA384: return "SHA384";
    default: return "?";
    }
}

static void add_cfg(enum kind k, uint16_t v, tlsv_aead_alg a, tlsv_cbc_alg c, tlsv_hash_alg m)
{
    assert_true(n_cfgs < sizeof cfgs / sizeof *cfgs);
    cfg *x = &cfgs[n_cfgs++];
    x->kind = k;
    x->version = v;
    x->aead = a;
    x->cbc = c;
    x->mac = m;
    static const char *const kn[] = {"AEAD", "CBC-MtE", "CBC-EtM", "SSL3-CBC"};
    if (k == K_AEAD)
        snprintf(x->name, sizeof x->name, "%s v%04x aead %d", kn[k], v, (int)a);
    else
        snprintf(x->name, sizeof x->name, "%s v%04x AES-%d %s", kn[k], v,
                 c == TLSV_CBC_AES_128 ? 128 : 256, hash_name(m));
}

static int setup_cfgs(void **state)
{
    (void)state;
    n_cfgs = 0;
    add_cfg(K_AEAD, TLSV_V_TLS12, TLSV_AEAD_AES_128_GCM, 0, 0);
    add_cfg(K_AEAD, TLSV_V_TLS12, TLSV_AEAD_AES_256_GCM, 0, 0);
    add_cfg(K_AEAD, TLSV_V_TLS12, TLSV_AEAD_CHACHA20_POLY1305, 0, 0);
    static const uint16_t vs[] = {TLSV_V_TLS10, TLSV_V_TLS11, TLSV_V_TLS12};
    static const tlsv_hash_alg ms[] = {TLSV_HASH_SHA1, TLSV_HASH_SHA256, TLSV_HASH_SHA384};
    for (int k = K_MTE; k <= K_ETM; k++)
        for (size_t v = 0; v < 3; v++)
            for (size_t m = 0; m < 3; m++)
                for (int c = TLSV_CBC_AES_128; c <= TLSV_CBC_AES_256; c++)
                    add_cfg((enum kind)k, vs[v], 0, (tlsv_cbc_alg)c, ms[m]);
#ifdef TLSV_HAVE_SSL3
    add_cfg(K_SSL3, TLSV_V_SSL3, 0, TLSV_CBC_AES_128, TLSV_HASH_SHA1);
    add_cfg(K_SSL3, TLSV_V_SSL3, 0, TLSV_CBC_AES_256, TLSV_HASH_SHA1);
    add_cfg(K_SSL3, TLSV_V_SSL3, 0, TLSV_CBC_AES_128, TLSV_HASH_MD5);
#endif
    return 0;
}

static bool is_cbc(const cfg *c)
{
    return c->kind != K_AEAD;
}

static bool chained(const cfg *c)
{
    return is_cbc(c) && (c->version == TLSV_V_TLS10 || c->kind == K_SSL3);
}

static size_t mac_len(const cfg *c)
{
    return is_cbc(c) ? tlsv_hash_len(c->mac) : 0;
}

/* Key material for one direction. */
typedef struct keyset {
    uint8_t mac[48];
    size_t mac_len;
    uint8_t key[32];
    size_t key_len;
    uint8_t iv[16];
    size_t iv_len;
} keyset;

static void rnd(void *p, size_t n)
{
    if (n)
        assert_int_equal(RAND_bytes(p, (int)n), 1);
}

static void make_keys(const cfg *c, keyset *k)
{
    memset(k, 0, sizeof *k);
    if (c->kind == K_AEAD) {
        k->key_len = tlsv_aead_key_len(c->aead);
        k->iv_len = c->aead == TLSV_AEAD_CHACHA20_POLY1305 ? 12 : 4;
    } else {
        k->mac_len = tlsv_hash_len(c->mac);
        k->key_len = tlsv_cbc_key_len(c->cbc);
        k->iv_len = chained(c) ? 16 : 0;
    }
    rnd(k->mac, k->mac_len);
    rnd(k->key, k->key_len);
    rnd(k->iv, k->iv_len);
}

static tlsv_rec_keys12 rk(const keyset *k)
{
    tlsv_rec_keys12 r = {k->mac_len ? k->mac : NULL, k->mac_len, k->key, k->key_len,
                         k->iv_len ? k->iv : NULL, k->iv_len};
    return r;
}

static int set_dir(tlsv_rec_dir *d, const cfg *c, const keyset *k, bool seal)
{
    tlsv_rec_keys12 r = rk(k);
    if (c->kind == K_AEAD)
        return tlsv_rec_dir_set_aead12(d, c->version, c->aead, &r);
    unsigned flags = (seal ? TLSV_REC_SEAL : 0u) | (c->kind == K_ETM ? TLSV_REC_ETM : 0u);
    return tlsv_rec_dir_set_cbc(d, c->version, flags, c->cbc, c->mac, &r);
}

static void must_set(tlsv_rec_dir *d, const cfg *c, const keyset *k, bool seal)
{
    memset(d, 0, sizeof *d);
    if (set_dir(d, c, k, seal) != 0)
        fail_msg("setter failed for %s", c->name);
}

#define REC_CAP (TLSV_REC_HEADER + TLSV_REC_MAX_CIPHERTEXT_12 + 64)

/* Seals one record; returns its length (header included). */
static size_t seal(tlsv_rec_dir *d, uint8_t type, const uint8_t *pt, size_t n, uint8_t *out)
{
    tlsv_writer w;
    tlsv_wr_init_fixed(&w, out, REC_CAP);
    /* the version argument is for plaintext records only: pass a wrong one */
    assert_int_equal(tlsv_rec_seal(d, type, 0x0301, pt, n, &w), 0);
    return tlsv_wr_len(&w);
}

/* Opens rec[0..len) (header + fragment), framing by the real length. */
static int open_rec(tlsv_rec_dir *d, uint8_t *rec, size_t len, uint8_t *type, uint8_t **pt,
                    size_t *pt_len, tlsv_error *err)
{
    assert_true(len >= TLSV_REC_HEADER);
    memset(err, 0, sizeof *err);
    return tlsv_rec_open(d, rec, rec + TLSV_REC_HEADER, len - TLSV_REC_HEADER, type, pt, pt_len,
                         err);
}

static void expect_bad_mac(int rc, const tlsv_error *err, const char *what, const cfg *c,
                           size_t pos)
{
    if (rc != -1 || err->reason != TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC ||
        err->alert != TLSV_ALERT_BAD_RECORD_MAC)
        fail_msg("%s: %s at %zu: rc %d reason %d alert %d (%s)", c->name, what, pos, rc,
                 (int)err->reason, err->alert, err->message);
}

/* ======================================================================
 * The reference implementation (OpenSSL EVP)
 * ====================================================================== */

static const EVP_CIPHER *ref_cbc_cipher(tlsv_cbc_alg a)
{
    return a == TLSV_CBC_AES_128 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
}

static const char *ref_md(tlsv_hash_alg h)
{
    switch (h) {
    case TLSV_HASH_MD5: return "MD5";
    case TLSV_HASH_SHA1: return "SHA1";
    case TLSV_HASH_SHA256: return "SHA2-256";
    case TLSV_HASH_SHA384: return "SHA2-384";
    default: fail_msg("hash %d", (int)h); return NULL;
    }
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* HMAC(key, a || b) with EVP_MAC. */
static void ref_hmac(tlsv_hash_alg h, const uint8_t *key, size_t key_len, const uint8_t *a,
                     size_t al, const uint8_t *b, size_t bl, uint8_t *out)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *m = EVP_MAC_CTX_new(mac);
    OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                       (char *)ref_md(h), 0),
                      OSSL_PARAM_construct_end()};
    assert_int_equal(EVP_MAC_init(m, key, key_len, p), 1);
    assert_int_equal(EVP_MAC_update(m, a, al), 1);
    if (bl)
        assert_int_equal(EVP_MAC_update(m, b, bl), 1);
    size_t outl = 0;
    assert_int_equal(EVP_MAC_final(m, out, &outl, 64), 1);
    EVP_MAC_CTX_free(m);
    EVP_MAC_free(mac);
}

/* The SSL 3.0 MAC: hash(k + pad_2 + hash(k + pad_1 + seq + type + len + data)). */
static void ref_ssl3_mac(tlsv_hash_alg h, const uint8_t *key, size_t key_len, uint64_t seq,
                         uint8_t type, const uint8_t *data, size_t n, uint8_t *out)
{
    size_t pl = h == TLSV_HASH_MD5 ? 48 : 40;
    uint8_t pad[48], hdr[11], inner[64];
    put64(hdr, seq);
    hdr[8] = type;
    hdr[9] = (uint8_t)(n >> 8);
    hdr[10] = (uint8_t)n;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_MD *md = EVP_MD_fetch(NULL, ref_md(h), NULL);
    memset(pad, 0x36, sizeof pad);
    assert_int_equal(EVP_DigestInit_ex2(m, md, NULL), 1);
    EVP_DigestUpdate(m, key, key_len);
    EVP_DigestUpdate(m, pad, pl);
    EVP_DigestUpdate(m, hdr, sizeof hdr);
    EVP_DigestUpdate(m, data, n);
    unsigned il = 0;
    EVP_DigestFinal_ex(m, inner, &il);
    memset(pad, 0x5c, sizeof pad);
    assert_int_equal(EVP_DigestInit_ex2(m, md, NULL), 1);
    EVP_DigestUpdate(m, key, key_len);
    EVP_DigestUpdate(m, pad, pl);
    EVP_DigestUpdate(m, inner, il);
    EVP_DigestFinal_ex(m, out, NULL);
    EVP_MD_CTX_free(m);
    EVP_MD_free(md);
}

static void ref_cbc_encrypt(tlsv_cbc_alg a, const uint8_t *key, const uint8_t *iv, uint8_t *buf,
                            size_t n)
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    assert_int_equal(EVP_EncryptInit_ex2(x, ref_cbc_cipher(a), key, iv, NULL), 1);
    EVP_CIPHER_CTX_set_padding(x, 0);
    int l = 0, l2 = 0;
    assert_int_equal(EVP_EncryptUpdate(x, buf, &l, buf, (int)n), 1);
    assert_int_equal(EVP_EncryptFinal_ex(x, buf + l, &l2), 1);
    assert_int_equal((size_t)(l + l2), n);
    EVP_CIPHER_CTX_free(x);
}

static void ref_cbc_decrypt(tlsv_cbc_alg a, const uint8_t *key, const uint8_t *iv, uint8_t *buf,
                            size_t n)
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    assert_int_equal(EVP_DecryptInit_ex2(x, ref_cbc_cipher(a), key, iv, NULL), 1);
    EVP_CIPHER_CTX_set_padding(x, 0);
    int l = 0, l2 = 0;
    assert_int_equal(EVP_DecryptUpdate(x, buf, &l, buf, (int)n), 1);
    assert_int_equal(EVP_DecryptFinal_ex(x, buf + l, &l2), 1);
    EVP_CIPHER_CTX_free(x);
}

/* Options of a reference CBC record. */
typedef struct ref_opts {
    size_t pad;            /* padding length (the padding_length byte's value) */
    long corrupt_at;       /* -1, or the index in padding || length byte to XOR */
    uint8_t corrupt_xor;
    bool ssl3_pad_random;  /* SSL 3.0: padding bytes other than the length arbitrary */
} ref_opts;

/*
 * A CBC record built from the RFCs with EVP. iv: the explicit IV (TLS
 * 1.1/1.2, sent in the record) or the chained IV (TLS 1.0 / SSL 3.0, not
 * sent). Returns the record length (header included).
 */
static size_t ref_cbc(const cfg *c, const keyset *k, uint64_t seq, uint8_t type,
                      const uint8_t *pt, size_t n, const uint8_t iv[16], const ref_opts *o,
                      uint8_t *out)
{
    size_t ivlen = chained(c) ? 0 : 16, ml = mac_len(c);
    uint8_t *body = out + TLSV_REC_HEADER;
    uint8_t *p = body + ivlen;
    size_t enc;
    memcpy(p, pt, n);
    if (c->kind != K_ETM) {
        if (c->kind == K_SSL3) {
            ref_ssl3_mac(c->mac, k->mac, k->mac_len, seq, type, pt, n, p + n);
        } else {
            uint8_t h13[13];
            put64(h13, seq);
            h13[8] = type;
            h13[9] = (uint8_t)(c->version >> 8);
            h13[10] = (uint8_t)c->version;
            h13[11] = (uint8_t)(n >> 8);
            h13[12] = (uint8_t)n;
            ref_hmac(c->mac, k->mac, k->mac_len, h13, 13, pt, n, p + n);
        }
        enc = n + ml + o->pad + 1;
    } else {
        enc = n + o->pad + 1;
    }
    assert_int_equal(enc % 16, 0);
    uint8_t *padp = p + enc - o->pad - 1;
    memset(padp, (int)o->pad, o->pad + 1);
    if (o->ssl3_pad_random)
        rnd(padp, o->pad);
    if (o->corrupt_at >= 0)
        padp[o->corrupt_at] ^= o->corrupt_xor;
    if (ivlen)
        memcpy(body, iv, 16);
    ref_cbc_encrypt(c->cbc, k->key, iv, p, enc);
    size_t total = ivlen + enc;
    if (c->kind == K_ETM) {
        uint8_t h13[13];
        put64(h13, seq);
        h13[8] = type;
        h13[9] = (uint8_t)(c->version >> 8);
        h13[10] = (uint8_t)c->version;
        h13[11] = (uint8_t)(total >> 8);
        h13[12] = (uint8_t)total;
        ref_hmac(c->mac, k->mac, k->mac_len, h13, 13, body, total, body + total);
        total += ml;
    }
    out[0] = type;
    out[1] = (uint8_t)(c->version >> 8);
    out[2] = (uint8_t)c->version;
    out[3] = (uint8_t)(total >> 8);
    out[4] = (uint8_t)total;
    return TLSV_REC_HEADER + total;
}

/* A TLS 1.2 AEAD record built with EVP (RFC 5288 / RFC 7905). */
static size_t ref_aead(const cfg *c, const keyset *k, uint64_t seq, uint8_t type,
                       const uint8_t *pt, size_t n, uint8_t *out)
{
    bool gcm = c->aead != TLSV_AEAD_CHACHA20_POLY1305;
    const EVP_CIPHER *ci = c->aead == TLSV_AEAD_AES_128_GCM   ? EVP_aes_128_gcm()
                           : c->aead == TLSV_AEAD_AES_256_GCM ? EVP_aes_256_gcm()
                                                              : EVP_chacha20_poly1305();
    uint8_t nonce[12], aad[13];
    size_t ex = gcm ? 8 : 0;
    uint8_t *body = out + TLSV_REC_HEADER;
    if (gcm) {
        memcpy(nonce, k->iv, 4);
        put64(nonce + 4, seq); /* the explicit part: the sequence number */
        memcpy(body, nonce + 4, 8);
    } else {
        memcpy(nonce, k->iv, 12);
        for (int i = 0; i < 8; i++)
            nonce[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
    }
    put64(aad, seq);
    aad[8] = type;
    aad[9] = (uint8_t)(c->version >> 8);
    aad[10] = (uint8_t)c->version;
    aad[11] = (uint8_t)(n >> 8);
    aad[12] = (uint8_t)n;
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    assert_int_equal(EVP_EncryptInit_ex2(x, ci, k->key, nonce, NULL), 1);
    int l = 0;
    assert_int_equal(EVP_EncryptUpdate(x, NULL, &l, aad, 13), 1);
    assert_int_equal(EVP_EncryptUpdate(x, body + ex, &l, pt, (int)n), 1);
    int l2 = 0;
    assert_int_equal(EVP_EncryptFinal_ex(x, body + ex + l, &l2), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, body + ex + n), 1);
    EVP_CIPHER_CTX_free(x);
    size_t total = ex + n + 16;
    out[0] = type;
    out[1] = (uint8_t)(c->version >> 8);
    out[2] = (uint8_t)c->version;
    out[3] = (uint8_t)(total >> 8);
    out[4] = (uint8_t)total;
    return TLSV_REC_HEADER + total;
}

/* Padding length our sealer uses (the minimal one). */
static size_t min_pad(const cfg *c, size_t n)
{
    size_t inner = c->kind == K_ETM ? n : n + mac_len(c);
    return (16 - (inner + 1) % 16) % 16;
}

/* A plaintext length >= at_least for which `pad` bytes of padding fill the
 * last block exactly. */
static size_t len_for_pad(const cfg *c, size_t pad, size_t at_least)
{
    size_t fixed = (c->kind == K_ETM ? 0 : mac_len(c)) + pad + 1;
    size_t n = at_least;
    while ((n + fixed) % 16)
        n++;
    return n;
}

/* ======================================================================
 * Tests
 * ====================================================================== */

static const uint8_t types[] = {TLSV_CT_APPLICATION_DATA, TLSV_CT_HANDSHAKE, TLSV_CT_ALERT,
                                TLSV_CT_CHANGE_CIPHER_SPEC};

/* Round trips, and agreement byte for byte with the reference. */
static void test_round_trips_and_reference(void **state)
{
    (void)state;
    static const size_t lens[] = {0,  1,  2,   11,  12,  15,   16,   17,   31,   32,
                                  33, 63, 100, 255, 256, 1000, 4095, 8192, 16383, 16384};
    uint8_t *pt = malloc(TLSV_REC_MAX_PLAINTEXT);
    uint8_t *rec = malloc(REC_CAP), *ref = malloc(REC_CAP), *keep = malloc(REC_CAP);
    assert_non_null(pt);
    assert_non_null(rec);
    assert_non_null(ref);
    assert_non_null(keep);
    rnd(pt, TLSV_REC_MAX_PLAINTEXT);
    for (size_t ci = 0; ci < n_cfgs; ci++) {
        const cfg *c = &cfgs[ci];
        keyset k;
        make_keys(c, &k);
        tlsv_rec_dir w, r;
        must_set(&w, c, &k, true);
        must_set(&r, c, &k, false);
        assert_int_equal(w.seq, 0);
        uint8_t chain[16];
        memcpy(chain, k.iv, 16);
        for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
            size_t n = lens[li];
            uint8_t type = types[li % 4];
            uint64_t seq = w.seq;
            size_t len = seal(&w, type, pt, n, rec);
            /* header: the real type, the dir's version, the length */
            assert_int_equal(rec[0], type);
            assert_int_equal((rec[1] << 8) | rec[2], c->version);
            assert_int_equal((size_t)((rec[3] << 8) | rec[4]), len - TLSV_REC_HEADER);
            assert_true(len - n <= TLSV_REC_MAX_OVERHEAD);
            assert_int_equal(w.seq, seq + 1);

            /* the reference builds the same bytes (for explicit IVs: with the
             * IV our record carries) */
            size_t rlen;
            if (c->kind == K_AEAD) {
                rlen = ref_aead(c, &k, seq, type, pt, n, ref);
            } else {
                ref_opts o = {.pad = min_pad(c, n), .corrupt_at = -1};
                const uint8_t *iv = chained(c) ? chain : rec + TLSV_REC_HEADER;
                rlen = ref_cbc(c, &k, seq, type, pt, n, iv, &o, ref);
                if (chained(c))
                    memcpy(chain, ref + rlen - 16 - (c->kind == K_ETM ? mac_len(c) : 0), 16);
            }
            assert_int_equal(rlen, len);
            if (memcmp(rec, ref, len) != 0)
                fail_msg("%s: record of %zu bytes differs from the reference", c->name, n);

            /* the peer opens it */
            memcpy(keep, rec, len);
            uint8_t got_type = 0, *got = NULL;
            size_t got_len = 99;
            tlsv_error err;
            if (open_rec(&r, rec, len, &got_type, &got, &got_len, &err) != 0)
                fail_msg("%s: open failed for %zu bytes: %s", c->name, n, err.message);
            assert_int_equal(got_type, type);
            assert_int_equal(got_len, n);
            if (n)
                assert_memory_equal(got, pt, n);
            assert_true(got >= rec + TLSV_REC_HEADER && got + got_len <= rec + len);
            assert_int_equal(r.seq, w.seq);
        }
        /* explicit IVs are fresh per record; AEAD nonces differ per record */
        if (!chained(c)) {
            size_t l1 = seal(&w, TLSV_CT_APPLICATION_DATA, pt, 40, rec);
            size_t l2 = seal(&w, TLSV_CT_APPLICATION_DATA, pt, 40, ref);
            assert_int_equal(l1, l2);
            assert_memory_not_equal(rec + TLSV_REC_HEADER, ref + TLSV_REC_HEADER,
                                    c->kind == K_AEAD && c->aead == TLSV_AEAD_CHACHA20_POLY1305
                                        ? l1 - TLSV_REC_HEADER
                                        : (c->kind == K_AEAD ? 8 : 16));
        }
        tlsv_rec_dir_clear(&w);
        tlsv_rec_dir_clear(&r);
        assert_int_equal(w.kind, TLSV_REC_PLAIN);
        assert_null(w.cbc);
        assert_null(w.mac);
        assert_null(w.aead);
    }
    free(pt);
    free(rec);
    free(ref);
    free(keep);
}

/* Records built by the reference, with every padding length, open. */
static void test_every_padding_length(void **state)
{
    (void)state;
    uint8_t pt[600], rec[1200];
    rnd(pt, sizeof pt);
    for (size_t ci = 0; ci < n_cfgs; ci++) {
        const cfg *c = &cfgs[ci];
        if (!is_cbc(c))
            continue;
        keyset k;
        make_keys(c, &k);
        size_t max_pad = c->kind == K_SSL3 ? 15 : 255;
        for (size_t pad = 0; pad <= max_pad; pad++) {
            for (size_t base = 0; base <= 40; base += 40) {
                size_t n = len_for_pad(c, pad, base);
                uint8_t iv[16];
                rnd(iv, 16);
                const uint8_t *use_iv = chained(c) ? k.iv : iv;
                ref_opts o = {.pad = pad, .corrupt_at = -1, .ssl3_pad_random = c->kind == K_SSL3};
                size_t len = ref_cbc(c, &k, 0, TLSV_CT_APPLICATION_DATA, pt, n, use_iv, &o, rec);
                tlsv_rec_dir r;
                must_set(&r, c, &k, false);
                uint8_t t, *got;
                size_t gl;
                tlsv_error err;
                if (open_rec(&r, rec, len, &t, &got, &gl, &err) != 0)
                    fail_msg("%s: padding %zu refused: %s", c->name, pad, err.message);
                assert_int_equal(gl, n);
                assert_memory_equal(got, pt, n);
                tlsv_rec_dir_clear(&r);
            }
        }
    }
}

/* Inconsistent padding is refused with bad_record_mac. */
static void test_bad_padding_refused(void **state)
{
    (void)state;
    uint8_t pt[600], rec[1200];
    rnd(pt, sizeof pt);
    static const size_t pads[] = {0, 1, 2, 7, 15, 16, 17, 100, 254, 255};
    for (size_t ci = 0; ci < n_cfgs; ci++) {
        const cfg *c = &cfgs[ci];
        if (!is_cbc(c))
            continue;
        keyset k;
        make_keys(c, &k);
        for (size_t pi = 0; pi < sizeof pads / sizeof *pads; pi++) {
            size_t pad = pads[pi];
            if (c->kind == K_SSL3 && pad > 15)
                continue;
            size_t n = len_for_pad(c, pad, 3);
            /* corrupt each padding byte (SSL 3.0: only the length byte
             * carries meaning) and the length byte in several ways.
             * Encrypt-then-MAC authenticates the ciphertext, so there a
             * modified length byte can make a different but valid record
             * (a length of 0 after a padding of 1): only the padding bytes
             * are corrupted, and the oversized length below. */
            size_t first = c->kind == K_SSL3 ? pad : 0, last = c->kind == K_ETM ? pad : pad + 1;
            for (size_t at = first; at < last; at++) {
                static const uint8_t xors[] = {0x01, 0x80, 0xff};
                for (size_t xi = 0; xi < 3; xi++) {
                    const uint8_t *iv = k.iv; /* also a fine explicit IV */
                    uint8_t eiv[16];
                    if (!chained(c)) {
                        rnd(eiv, 16);
                        iv = eiv;
                    }
                    ref_opts o = {.pad = pad, .corrupt_at = (long)at, .corrupt_xor = xors[xi]};
                    size_t len = ref_cbc(c, &k, 0, TLSV_CT_HANDSHAKE, pt, n, iv, &o, rec);
                    tlsv_rec_dir r;
                    must_set(&r, c, &k, false);
                    uint8_t t, *got;
                    size_t gl;
                    tlsv_error err;
                    int rc = open_rec(&r, rec, len, &t, &got, &gl, &err);
                    expect_bad_mac(rc, &err, "corrupt padding", c, at);
                    tlsv_rec_dir_clear(&r);
                }
            }
        }
        /* a padding_length byte larger than the record (255 with 3 bytes of content) */
        if (c->kind != K_SSL3) {
            size_t n = len_for_pad(c, 0, 3);
            ref_opts o = {.pad = 0, .corrupt_at = 0, .corrupt_xor = 0xff};
            uint8_t iv[16];
            rnd(iv, 16);
            size_t len = ref_cbc(c, &k, 0, TLSV_CT_HANDSHAKE, pt, n, chained(c) ? k.iv : iv, &o,
                                 rec);
            tlsv_rec_dir r;
            must_set(&r, c, &k, false);
            uint8_t t, *got;
            size_t gl;
            tlsv_error err;
            expect_bad_mac(open_rec(&r, rec, len, &t, &got, &gl, &err), &err, "pad 255", c, 0);
            tlsv_rec_dir_clear(&r);
        }
        /* SSL 3.0: a padding of a whole block or more is refused */
        if (c->kind == K_SSL3) {
            size_t n = len_for_pad(c, 16, 3);
            ref_opts o = {.pad = 16, .corrupt_at = -1};
            size_t len = ref_cbc(c, &k, 0, TLSV_CT_HANDSHAKE, pt, n, k.iv, &o, rec);
            tlsv_rec_dir r;
            must_set(&r, c, &k, false);
            uint8_t t, *got;
            size_t gl;
            tlsv_error err;
            expect_bad_mac(open_rec(&r, rec, len, &t, &got, &gl, &err), &err, "ssl3 pad 16", c,
                           16);
            tlsv_rec_dir_clear(&r);
        }
    }
}

/* Every byte of a record modified, truncated, extended: bad_record_mac. */
static void test_tampering_every_byte(void **state)
{
    (void)state;
    uint8_t pt[64], rec[512], mod[512];
    rnd(pt, sizeof pt);
    for (size_t ci = 0; ci < n_cfgs; ci++) {
        const cfg *c = &cfgs[ci];
        keyset k;
        make_keys(c, &k);
        /* TLS: 37 bytes give 6-10 bytes of padding to tamper with. SSL 3.0
         * cannot authenticate its padding bytes (only their number), so
         * there we pick a length with no padding byte besides the length. */
        size_t n = c->kind == K_SSL3 ? len_for_pad(c, 0, 1) : 37;
        if (is_cbc(c) && c->kind != K_SSL3)
            assert_true(min_pad(c, n) >= 6);
        tlsv_rec_dir w;
        must_set(&w, c, &k, true);
        size_t len = seal(&w, TLSV_CT_APPLICATION_DATA, pt, n, rec);
        tlsv_rec_dir_clear(&w);
        uint8_t t, *got;
        size_t gl;
        tlsv_error err;
        tlsv_rec_dir r;
        /* unmodified: opens */
        memcpy(mod, rec, len);
        must_set(&r, c, &k, false);
        assert_int_equal(open_rec(&r, mod, len, &t, &got, &gl, &err), 0);
        tlsv_rec_dir_clear(&r);
        for (size_t pos = 0; pos < len; pos++) {
            static const uint8_t xors[] = {0x01, 0x80};
            for (size_t xi = 0; xi < 2; xi++) {
                memcpy(mod, rec, len);
                mod[pos] ^= xors[xi];
                must_set(&r, c, &k, false);
                int rc = open_rec(&r, mod, len, &t, &got, &gl, &err);
                if (pos == 1 || pos == 2) {
                    /* the header's version: refused as such (BoGo's
                     * CheckRecordVersion-*): WRONG_VERSION_NUMBER,
                     * protocol_version */
                    if (rc != -1 || err.reason != TLSV_R_WRONG_VERSION_NUMBER ||
                        err.alert != TLSV_ALERT_PROTOCOL_VERSION)
                        fail_msg("%s: version byte %zu: rc %d reason %d alert %d (%s)", c->name,
                                 pos, rc, (int)err.reason, err.alert, err.message);
                } else {
                    expect_bad_mac(rc, &err, "modified byte", c, pos);
                }
                tlsv_rec_dir_clear(&r);
            }
        }
        /* truncated / extended by a byte and by a block, header adjusted */
        static const long deltas[] = {-1, -16, -17, 1, 16};
        for (size_t di = 0; di < sizeof deltas / sizeof *deltas; di++) {
            memcpy(mod, rec, len);
            size_t nl = (size_t)((long)len + deltas[di]);
            if (deltas[di] > 0)
                rnd(mod + len, (size_t)deltas[di]);
            size_t fl = nl - TLSV_REC_HEADER;
            mod[3] = (uint8_t)(fl >> 8);
            mod[4] = (uint8_t)fl;
            must_set(&r, c, &k, false);
            int rc = open_rec(&r, mod, nl, &t, &got, &gl, &err);
            expect_bad_mac(rc, &err, "truncated/extended", c, (size_t)di);
            tlsv_rec_dir_clear(&r);
        }
        /* a record from another sequence number (replayed, reordered) */
        must_set(&r, c, &k, false);
        r.seq = 1;
        if (!chained(c)) { /* chained IVs fail anyway; here only the MAC input differs */
            memcpy(mod, rec, len);
            int rc = open_rec(&r, mod, len, &t, &got, &gl, &err);
            expect_bad_mac(rc, &err, "wrong sequence number", c, 1);
        }
        tlsv_rec_dir_clear(&r);
    }
}

/* TLS 1.0 (and SSL 3.0): the IV of each record is the last ciphertext block
 * of the previous one, in both directions. */
static void test_tls10_iv_chaining(void **state)
{
    (void)state;
    uint8_t pt[300], rec[8][512];
    size_t lens[8];
    rnd(pt, sizeof pt);
    for (size_t ci = 0; ci < n_cfgs; ci++) {
        const cfg *c = &cfgs[ci];
        if (!chained(c))
            continue;
        keyset k;
        make_keys(c, &k);
        tlsv_rec_dir w, r;
        must_set(&w, c, &k, true);
        size_t ml = c->kind == K_ETM ? mac_len(c) : 0; /* bytes after the ciphertext */
        for (size_t i = 0; i < 8; i++) {
            size_t n = (i * 37) % 200;
            lens[i] = seal(&w, TLSV_CT_APPLICATION_DATA, pt, n, rec[i]);
            /* decrypt with plain AES-CBC and the IV the chain dictates */
            const uint8_t *iv = i == 0 ? k.iv : rec[i - 1] + lens[i - 1] - ml - 16;
            uint8_t buf[512];
            size_t enc = lens[i] - TLSV_REC_HEADER - ml;
            memcpy(buf, rec[i] + TLSV_REC_HEADER, enc);
            ref_cbc_decrypt(c->cbc, k.key, iv, buf, enc);
            assert_memory_equal(buf, pt, n); /* the content leads the plaintext */
            assert_int_equal(buf[enc - 1], min_pad(c, n));
        }
        /* the peer opens them in order ... */
        must_set(&r, c, &k, false);
        for (size_t i = 0; i < 8; i++) {
            uint8_t copy[512], t, *got;
            size_t gl;
            tlsv_error err;
            memcpy(copy, rec[i], lens[i]);
            if (open_rec(&r, copy, lens[i], &t, &got, &gl, &err) != 0)
                fail_msg("%s: record %zu: %s", c->name, i, err.message);
            assert_int_equal(gl, (i * 37) % 200);
        }
        tlsv_rec_dir_clear(&r);
        /* ... but record 3 does not open after the key block's IV, even
         * with the right sequence number: the chain matters. With
         * encrypt-then-MAC the MAC covers the ciphertext only, so the record
         * authenticates and just its first block decrypts to garbage. */
        must_set(&r, c, &k, false);
        r.seq = 3;
        uint8_t copy[512], t, *got;
        size_t gl;
        tlsv_error err;
        memcpy(copy, rec[3], lens[3]);
        int rc = open_rec(&r, copy, lens[3], &t, &got, &gl, &err);
        if (c->kind == K_ETM) {
            assert_int_equal(rc, 0);
            assert_int_equal(gl, (3 * 37) % 200);
            assert_memory_not_equal(got, pt, 16);
            assert_memory_equal(got + 16, pt + 16, gl - 16);
        } else {
            expect_bad_mac(rc, &err, "broken chain", c, 3);
        }
        tlsv_rec_dir_clear(&r);
        tlsv_rec_dir_clear(&w);
    }
}

/* Record and plaintext limits, sequence number exhaustion, misuse. */
static void test_limits(void **state)
{
    (void)state;
    uint8_t *pt = calloc(1, TLSV_REC_MAX_PLAINTEXT + 2048);
    uint8_t *rec = malloc(REC_CAP + 4096);
    assert_non_null(pt);
    assert_non_null(rec);
    for (size_t ci = 0; ci < n_cfgs; ci++) {
        const cfg *c = &cfgs[ci];
        keyset k;
        make_keys(c, &k);
        tlsv_rec_dir w, r;
        must_set(&w, c, &k, true);
        must_set(&r, c, &k, false);
        uint8_t t, *got;
        size_t gl;
        tlsv_error err;

        /* sealing more than 2^14 bytes is refused, nothing is written */
        tlsv_writer wr;
        tlsv_wr_init_fixed(&wr, rec, REC_CAP);
        assert_int_equal(tlsv_rec_seal(&w, 23, 0x0303, pt, TLSV_REC_MAX_PLAINTEXT + 1, &wr), -1);
        assert_int_equal(tlsv_wr_len(&wr), 0);
        /* too small an output buffer */
        tlsv_wr_init_fixed(&wr, rec, 40);
        assert_int_equal(tlsv_rec_seal(&w, 23, 0x0303, pt, 100, &wr), -1);

        /* a fragment over 2^14 + 2048: record_overflow */
        size_t big = TLSV_REC_MAX_CIPHERTEXT_12 + 1;
        memset(rec, 0, TLSV_REC_HEADER + big);
        rec[0] = 23;
        rec[1] = (uint8_t)(c->version >> 8);
        rec[2] = (uint8_t)c->version;
        rec[3] = (uint8_t)(big >> 8);
        rec[4] = (uint8_t)big;
        assert_int_equal(open_rec(&r, rec, TLSV_REC_HEADER + big, &t, &got, &gl, &err), -1);
        assert_int_equal(err.reason, TLSV_R_RECORD_OVERFLOW);
        assert_int_equal(err.alert, TLSV_ALERT_RECORD_OVERFLOW);

        /* an authentic record whose plaintext exceeds 2^14: record_overflow */
        size_t n = TLSV_REC_MAX_PLAINTEXT + 1, len;
        if (c->kind == K_AEAD) {
            len = ref_aead(c, &k, 0, 23, pt, n, rec);
        } else {
            size_t pad = (16 - (n + (c->kind == K_ETM ? 0 : mac_len(c)) + 1) % 16) % 16;
            ref_opts o = {.pad = pad, .corrupt_at = -1};
            uint8_t iv[16] = {9};
            len = ref_cbc(c, &k, 0, 23, pt, n, chained(c) ? k.iv : iv, &o, rec);
        }
        assert_true(len - TLSV_REC_HEADER <= TLSV_REC_MAX_CIPHERTEXT_12);
        tlsv_rec_dir_clear(&r);
        must_set(&r, c, &k, false);
        assert_int_equal(open_rec(&r, rec, len, &t, &got, &gl, &err), -1);
        if (err.reason != TLSV_R_RECORD_OVERFLOW)
            fail_msg("%s: %s", c->name, err.message);
        assert_int_equal(err.alert, TLSV_ALERT_RECORD_OVERFLOW);

        /* the last sequence numbers */
        tlsv_rec_dir_clear(&r);
        must_set(&r, c, &k, false);
        w.seq = UINT64_MAX - 1;
        r.seq = UINT64_MAX - 1;
        if (chained(c)) { /* keep the chains in step: fresh directions */
            tlsv_rec_dir_clear(&w);
            must_set(&w, c, &k, true);
            w.seq = UINT64_MAX - 1;
        }
        len = seal(&w, 23, pt, 10, rec);
        assert_int_equal(open_rec(&r, rec, len, &t, &got, &gl, &err), 0);
        assert_int_equal(gl, 10);
        tlsv_wr_init_fixed(&wr, rec, REC_CAP);
        assert_int_equal(tlsv_rec_seal(&w, 23, 0x0303, pt, 10, &wr), -1); /* exhausted */
        assert_int_equal(r.seq, UINT64_MAX);
        rec[3] = 0;
        rec[4] = 64;
        assert_int_equal(open_rec(&r, rec, TLSV_REC_HEADER + 64, &t, &got, &gl, &err), -1);
        assert_int_equal(err.reason, TLSV_R_INTERNAL_ERROR);

        /* a CBC direction keyed one way cannot be used the other way */
        if (is_cbc(c)) {
            tlsv_rec_dir_clear(&w);
            tlsv_rec_dir_clear(&r);
            must_set(&w, c, &k, true);
            must_set(&r, c, &k, false);
            tlsv_wr_init_fixed(&wr, rec, REC_CAP);
            assert_int_equal(tlsv_rec_seal(&r, 23, 0x0303, pt, 10, &wr), -1);
            len = seal(&w, 23, pt, 10, rec);
            tlsv_rec_dir w2;
            must_set(&w2, c, &k, true);
            assert_int_equal(open_rec(&w2, rec, len, &t, &got, &gl, &err), -1);
            assert_int_equal(err.reason, TLSV_R_INTERNAL_ERROR);
            tlsv_rec_dir_clear(&w2);
        }
        tlsv_rec_dir_clear(&w);
        tlsv_rec_dir_clear(&r);
    }
    free(pt);
    free(rec);
}

/* Setter argument checks. */
static void test_setters_refuse(void **state)
{
    (void)state;
    uint8_t key[32] = {1}, mk[48] = {2}, iv[16] = {3};
    tlsv_rec_dir d;
    memset(&d, 0, sizeof d);
    tlsv_rec_keys12 gcm = {NULL, 0, key, 16, iv, 4};
    assert_int_equal(tlsv_rec_dir_set_aead12(&d, TLSV_V_TLS12, TLSV_AEAD_AES_128_GCM, &gcm), 0);
    assert_int_equal(d.kind, TLSV_REC_AEAD12);
    assert_int_equal(d.explicit_len, 8);
    assert_int_equal(tlsv_rec_dir_set_aead12(&d, TLSV_V_TLS11, TLSV_AEAD_AES_128_GCM, &gcm), -1);
    assert_int_equal(d.kind, TLSV_REC_PLAIN); /* a failed setter leaves plaintext */
    assert_null(d.aead);
    assert_int_equal(tlsv_rec_dir_set_aead12(&d, TLSV_V_TLS13, TLSV_AEAD_AES_128_GCM, &gcm), -1);
    gcm.iv_len = 12;
    assert_int_equal(tlsv_rec_dir_set_aead12(&d, TLSV_V_TLS12, TLSV_AEAD_AES_128_GCM, &gcm), -1);
    assert_int_equal(tlsv_rec_dir_set_aead12(&d, TLSV_V_TLS12, TLSV_AEAD_CHACHA20_POLY1305, &gcm),
                     -1); /* key 16 bytes */
    gcm.key_len = 32;
    assert_int_equal(tlsv_rec_dir_set_aead12(&d, TLSV_V_TLS12, TLSV_AEAD_CHACHA20_POLY1305, &gcm),
                     0);
    assert_int_equal(d.explicit_len, 0);
    assert_int_equal(tlsv_rec_dir_set_aead12(&d, TLSV_V_TLS12, TLSV_AEAD_AES_128_GCM, NULL), -1);

    tlsv_rec_keys12 cbc = {mk, 20, key, 16, NULL, 0};
    assert_int_equal(tlsv_rec_dir_set_cbc(&d, TLSV_V_TLS12, 0, TLSV_CBC_AES_128, TLSV_HASH_SHA1,
                                          &cbc),
                     0);
    assert_int_equal(d.kind, TLSV_REC_CBC);
    assert_false(d.chained_iv);
    assert_int_equal(tlsv_rec_dir_set_cbc(&d, TLSV_V_TLS11, TLSV_REC_ETM, TLSV_CBC_AES_128,
                                          TLSV_HASH_SHA1, &cbc),
                     0);
    assert_int_equal(d.kind, TLSV_REC_CBC_ETM);
    /* TLS 1.0 needs its first IV */
    assert_int_equal(tlsv_rec_dir_set_cbc(&d, TLSV_V_TLS10, 0, TLSV_CBC_AES_128, TLSV_HASH_SHA1,
                                          &cbc),
                     -1);
    cbc.iv = iv;
    cbc.iv_len = 16;
    assert_int_equal(tlsv_rec_dir_set_cbc(&d, TLSV_V_TLS10, 0, TLSV_CBC_AES_128, TLSV_HASH_SHA1,
                                          &cbc),
                     0);
    assert_true(d.chained_iv);
    /* a MAC key of another length than the hash's */
    cbc.mac_key_len = 32;
    assert_int_equal(tlsv_rec_dir_set_cbc(&d, TLSV_V_TLS12, 0, TLSV_CBC_AES_128, TLSV_HASH_SHA1,
                                          &cbc),
                     -1);
    cbc.mac_key_len = 20;
    /* MACs and versions outside the set */
    assert_int_equal(tlsv_rec_dir_set_cbc(&d, TLSV_V_TLS12, 0, TLSV_CBC_AES_128, TLSV_HASH_MD5,
                                          &cbc),
                     -1);
    assert_int_equal(tlsv_rec_dir_set_cbc(&d, TLSV_V_TLS12, 0, TLSV_CBC_AES_128, TLSV_HASH_SHA512,
                                          &cbc),
                     -1);
    assert_int_equal(tlsv_rec_dir_set_cbc(&d, TLSV_V_TLS13, 0, TLSV_CBC_AES_128, TLSV_HASH_SHA1,
                                          &cbc),
                     -1);
    assert_int_equal(tlsv_rec_dir_set_cbc(&d, TLSV_V_TLS12, 0, TLSV_CBC_AES_256, TLSV_HASH_SHA1,
                                          &cbc),
                     -1); /* 16-byte key for AES-256 */
#ifdef TLSV_HAVE_SSL3
    assert_int_equal(tlsv_rec_dir_set_cbc(&d, TLSV_V_SSL3, 0, TLSV_CBC_AES_128, TLSV_HASH_SHA1,
                                          &cbc),
                     0);
    assert_int_equal(d.kind, TLSV_REC_SSL3_CBC);
    assert_int_equal(tlsv_rec_dir_set_cbc(&d, TLSV_V_SSL3, TLSV_REC_ETM, TLSV_CBC_AES_128,
                                          TLSV_HASH_SHA1, &cbc),
                     -1);
    assert_int_equal(tlsv_rec_dir_set_cbc(&d, TLSV_V_SSL3, 0, TLSV_CBC_AES_128,
                                          TLSV_HASH_SHA256, &cbc),
                     -1);
    cbc.mac_key_len = 19;
    assert_int_equal(tlsv_rec_dir_set_cbc(&d, TLSV_V_SSL3, 0, TLSV_CBC_AES_128, TLSV_HASH_SHA1,
                                          &cbc),
                     -1);
#else
    assert_int_equal(tlsv_rec_dir_set_cbc(&d, TLSV_V_SSL3, 0, TLSV_CBC_AES_128, TLSV_HASH_SHA1,
                                          &cbc),
                     -1);
#endif
    assert_int_equal(d.kind, TLSV_REC_PLAIN);
    tlsv_rec_dir_clear(&d);
}

/* TLS 1.3 protection is unchanged by all this (a round trip through
 * tlsv_rec_dir_set13, whose AEAD format test_tls13_mem checks end to end). */
static void test_tls13_still_works(void **state)
{
    (void)state;
    uint8_t secret[32] = {7}, rec[256], pt[40] = {1, 2, 3};
    tlsv_rec_dir w, r;
    memset(&w, 0, sizeof w);
    memset(&r, 0, sizeof r);
    assert_int_equal(tlsv_rec_dir_set13(&w, TLSV_AEAD_AES_128_GCM, TLSV_HASH_SHA256, secret, 32),
                     0);
    assert_int_equal(tlsv_rec_dir_set13(&r, TLSV_AEAD_AES_128_GCM, TLSV_HASH_SHA256, secret, 32),
                     0);
    tlsv_writer wr;
    tlsv_wr_init_fixed(&wr, rec, sizeof rec);
    assert_int_equal(tlsv_rec_seal(&w, TLSV_CT_HANDSHAKE, 0x0301, pt, sizeof pt, &wr), 0);
    size_t len = tlsv_wr_len(&wr);
    assert_int_equal(len, 5 + 40 + 1 + 16);
    assert_int_equal(rec[0], TLSV_CT_APPLICATION_DATA);
    assert_int_equal(rec[1], 3);
    assert_int_equal(rec[2], 3);
    uint8_t t, *got;
    size_t gl;
    tlsv_error err;
    assert_int_equal(open_rec(&r, rec, len, &t, &got, &gl, &err), 0);
    assert_int_equal(t, TLSV_CT_HANDSHAKE);
    assert_int_equal(gl, 40);
    assert_memory_equal(got, pt, 40);
    tlsv_rec_dir_clear(&w);
    tlsv_rec_dir_clear(&r);
}

/* The seam's constant-time record MAC equals a plain HMAC for every secret
 * length the padding allows (and clamps a too large one). */
static void test_ct_record_mac(void **state)
{
    (void)state;
    static const tlsv_hash_alg hs[] = {TLSV_HASH_MD5, TLSV_HASH_SHA1, TLSV_HASH_SHA256,
                                       TLSV_HASH_SHA384};
    static const size_t totals[] = {17, 21, 33, 49, 64, 100, 128, 200, 333, 1024, 16384 + 2048};
    uint8_t *data = malloc(16384 + 2048);
    assert_non_null(data);
    rnd(data, 16384 + 2048);
    for (size_t hi = 0; hi < sizeof hs / sizeof *hs; hi++) {
        size_t ml = tlsv_hash_len(hs[hi]);
        uint8_t key[48];
        rnd(key, ml);
        tlsv_hmac_ctx *ctx = tlsv_hmac_new(hs[hi], key, ml);
        assert_non_null(ctx);
        for (size_t ti = 0; ti < sizeof totals / sizeof *totals; ti++) {
            size_t total = totals[ti];
            if (total < ml + 1)
                continue;
            size_t max = total - ml - 1, lo = max > 255 ? max - 255 : 0;
            for (size_t dl = lo; dl <= max + 2; dl++) {
                uint8_t hdr[13], got[64], want[64];
                rnd(hdr, 13);
                assert_int_equal(tlsv_hmac_cbc_record(ctx, hdr, data, dl, total, got, sizeof got),
                                 0);
                size_t eff = dl > max ? max : dl; /* clamped */
                ref_hmac(hs[hi], key, ml, hdr, 13, data, eff, want);
                if (memcmp(got, want, ml) != 0)
                    fail_msg("%s total %zu len %zu", hash_name(hs[hi]), total, dl);
            }
        }
        uint8_t hdr[13] = {0}, out[64];
        assert_int_equal(tlsv_hmac_cbc_record(ctx, hdr, data, 0, ml, out, sizeof out),
                         TLSV_CRYPTO_EINVAL);
        assert_int_equal(tlsv_hmac_cbc_record(ctx, hdr, data, 0, 100, out, ml - 1),
                         TLSV_CRYPTO_ENOSPC);
        assert_int_equal(tlsv_hmac_cbc_record(NULL, hdr, data, 0, 100, out, sizeof out),
                         TLSV_CRYPTO_EINVAL);
        /* the context is unchanged: a plain MAC afterwards is right */
        uint8_t a[64], b[64];
        assert_int_equal(tlsv_hmac_update(ctx, data, 77), 0);
        assert_int_equal(tlsv_hmac_final(ctx, a, sizeof a), 0);
        ref_hmac(hs[hi], key, ml, data, 77, NULL, 0, b);
        assert_memory_equal(a, b, ml);
        tlsv_hmac_free(ctx);
    }
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ct_record_mac),
        cmocka_unit_test_setup(test_round_trips_and_reference, setup_cfgs),
        cmocka_unit_test_setup(test_every_padding_length, setup_cfgs),
        cmocka_unit_test_setup(test_bad_padding_refused, setup_cfgs),
        cmocka_unit_test_setup(test_tampering_every_byte, setup_cfgs),
        cmocka_unit_test_setup(test_tls10_iv_chaining, setup_cfgs),
        cmocka_unit_test_setup(test_limits, setup_cfgs),
        cmocka_unit_test(test_setters_refuse),
        cmocka_unit_test(test_tls13_still_works),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
