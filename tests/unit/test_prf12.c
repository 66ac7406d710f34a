/*
 * test_prf12.c -- the TLS 1.0-1.2 PRF and key derivation (src/engine/prf12.c).
 *
 * References:
 *   - the widely circulated TLS 1.2 PRF test vectors (IETF TLS list, 2009):
 *     P_SHA256 with secret 9bbe436b..., seed a0ba9f93..., label "test label",
 *     100 bytes; P_SHA384 with secret b80b733d..., 148 bytes. Both are
 *     checked here against OpenSSL's EVP_KDF "TLS1-PRF" before being trusted.
 *   - OpenSSL's EVP_KDF "TLS1-PRF" with digests SHA2-256, SHA2-384 and
 *     MD5-SHA1 (the TLS 1.0/1.1 PRF), for many secret / seed / output
 *     lengths, and for the master secret, extended master secret, key block
 *     and Finished helpers.
 *   - SSL 3.0 (TLSV_HAVE_SSL3 builds): RFC 6101 §6.1-6.2.2, §5.6.8-5.6.9
 *     re-computed here with plain EVP digests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "crypto/crypto.h"
#include "engine/prf12.h"
#include "version.h"

/* ---- helpers -------------------------------------------------------------- */

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        int v;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            assert_true(n < cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_int_equal(hi, -1);
    return n;
}

static void rnd(uint8_t *p, size_t n)
{
    if (n)
        assert_int_equal(RAND_bytes(p, (int)n), 1);
}

/* OpenSSL's TLS1-PRF: out = PRF(secret, label, seed1 + seed2). digest is
 * "SHA2-256", "SHA2-384" or "MD5-SHA1". The label is the first part of the
 * KDF's seed. */
static void ossl_prf(const char *digest, const uint8_t *secret, size_t secret_len,
                     const char *label, const uint8_t *seed1, size_t seed1_len,
                     const uint8_t *seed2, size_t seed2_len, uint8_t *out, size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
    assert_non_null(kdf);
    EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
    assert_non_null(kctx);
    OSSL_PARAM p[6], *q = p;
    *q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, secret_len);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)label, strlen(label));
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)seed1, seed1_len);
    if (seed2_len)
        *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)seed2, seed2_len);
    *q = OSSL_PARAM_construct_end();
    assert_int_equal(EVP_KDF_derive(kctx, out, out_len, p), 1);
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
}

static const char *ossl_digest(tlsv_hash_alg h)
{
    switch (h) {
    case TLSV_HASH_SHA256: return "SHA2-256";
    case TLSV_HASH_SHA384: return "SHA2-384";
    case TLSV_HASH_MD5_SHA1: return "MD5-SHA1";
    default: fail_msg("no digest for %d", (int)h); return NULL;
    }
}

/* ---- published vectors ------------------------------------------------- */

#define VEC256_SECRET "9bbe436ba940f017b17652849a71db35"
#define VEC256_SEED "a0ba9f936cda311827a6f796ffd5198c"
#define VEC256_OUT                                                        \
    "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"    \
    "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"    \
    "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"    \
    "87347b66"

#define VEC384_SECRET "b80b733d6ceefcdc71566ea48e5567df"
#define VEC384_SEED "cd665cf6a8447dd6ff8b27555edb7465"
#define VEC384_OUT                                                        \
    "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"    \
    "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"    \
    "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"    \
    "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"    \
    "91c8f3a26854308d5eaa3be85e0990703d73e56f"

static void check_vector(tlsv_hash_alg h, const char *secret_hex, const char *seed_hex,
                         const char *out_hex)
{
    uint8_t secret[64], seed[64], want[256], got[256], ossl[256];
    size_t sl = unhex(secret_hex, secret, sizeof secret);
    size_t dl = unhex(seed_hex, seed, sizeof seed);
    size_t ol = unhex(out_hex, want, sizeof want);
    /* first: is the published vector what OpenSSL computes? */
    ossl_prf(ossl_digest(h), secret, sl, "test label", seed, dl, NULL, 0, ossl, ol);
    assert_memory_equal(ossl, want, ol);
    /* then ours, whole and with the seed split anywhere */
    assert_int_equal(tlsv_prf12(h, secret, sl, "test label", seed, dl, NULL, 0, got, ol), 0);
    assert_memory_equal(got, want, ol);
    for (size_t cut = 0; cut <= dl; cut++) {
        memset(got, 0, sizeof got);
        assert_int_equal(
            tlsv_prf12(h, secret, sl, "test label", seed, cut, seed + cut, dl - cut, got, ol), 0);
        assert_memory_equal(got, want, ol);
    }
    /* every prefix length gives the prefix */
    for (size_t n = 1; n <= ol; n += 7) {
        memset(got, 0xee, sizeof got);
        assert_int_equal(tlsv_prf12(h, secret, sl, "test label", seed, dl, NULL, 0, got, n), 0);
        assert_memory_equal(got, want, n);
        assert_int_equal(got[n], 0xee); /* nothing written past out_len */
    }
}

static void test_published_vectors(void **state)
{
    (void)state;
    check_vector(TLSV_HASH_SHA256, VEC256_SECRET, VEC256_SEED, VEC256_OUT);
    check_vector(TLSV_HASH_SHA384, VEC384_SECRET, VEC384_SEED, VEC384_OUT);
}

/* ---- cross-check against OpenSSL's TLS1-PRF ------------------------------ */

static void test_prf_matches_openssl(void **state)
{
    (void)state;
    static const tlsv_hash_alg hashes[] = {TLSV_HASH_SHA256, TLSV_HASH_SHA384,
                                           TLSV_HASH_MD5_SHA1};
    /* odd and even secret lengths matter for the TLS 1.0 split */
    static const size_t secret_lens[] = {1, 2, 3, 13, 32, 47, 48, 49, 64, 65, 100, 131};
    static const size_t out_lens[] = {1, 12, 15, 16, 20, 31, 32, 36, 48, 63, 64, 65, 104, 136, 200};
    uint8_t secret[200], seed1[80], seed2[80], ours[256], theirs[256];
    for (size_t h = 0; h < sizeof hashes / sizeof *hashes; h++) {
        for (size_t s = 0; s < sizeof secret_lens / sizeof *secret_lens; s++) {
            for (size_t o = 0; o < sizeof out_lens / sizeof *out_lens; o++) {
                size_t sl = secret_lens[s], ol = out_lens[o];
                size_t l1 = (s * 7 + o * 3) % 70 + 1, l2 = (s + o) % 3 == 0 ? 0 : (o * 11) % 64;
                rnd(secret, sl);
                rnd(seed1, l1);
                rnd(seed2, l2);
                ossl_prf(ossl_digest(hashes[h]), secret, sl, "some label", seed1, l1, seed2, l2,
                         theirs, ol);
                assert_int_equal(tlsv_prf12(hashes[h], secret, sl, "some label", seed1, l1,
                                            seed2, l2, ours, ol),
                                 0);
                assert_memory_equal(ours, theirs, ol);
            }
        }
    }
}

static void test_prf_arguments(void **state)
{
    (void)state;
    uint8_t s[16] = {1}, out[16];
    assert_int_equal(tlsv_prf12(TLSV_HASH_SHA256, s, 16, NULL, s, 16, NULL, 0, out, 16), -1);
    assert_int_equal(tlsv_prf12(TLSV_HASH_SHA256, NULL, 16, "x", s, 16, NULL, 0, out, 16), -1);
    assert_int_equal(tlsv_prf12(TLSV_HASH_SHA256, s, 16, "x", NULL, 16, NULL, 0, out, 16), -1);
    assert_int_equal(tlsv_prf12(TLSV_HASH_SHA256, s, 16, "x", s, 16, NULL, 3, out, 16), -1);
    assert_int_equal(tlsv_prf12(TLSV_HASH_SHA256, s, 16, "x", s, 16, NULL, 0, NULL, 16), -1);
    assert_int_equal(tlsv_prf12(TLSV_HASH_MD5, s, 16, "x", s, 16, NULL, 0, out, 16), -1);
    assert_int_equal(tlsv_prf12(TLSV_HASH_NONE, s, 16, "x", s, 16, NULL, 0, out, 16), -1);
    assert_int_equal(tlsv_prf12(TLSV_HASH_SHA256, s, 16, "x", s, 16, NULL, 0, NULL, 0), 0);
    /* an empty secret and seed are legal inputs */
    assert_int_equal(tlsv_prf12(TLSV_HASH_SHA256, NULL, 0, "", NULL, 0, NULL, 0, out, 16), 0);
    assert_int_equal(tlsv_prf12(TLSV_HASH_MD5_SHA1, NULL, 0, "", NULL, 0, NULL, 0, out, 16), 0);

    assert_int_equal(tlsv_prf12_hash(TLSV_V_TLS12, TLSV_HASH_SHA384), TLSV_HASH_SHA384);
    assert_int_equal(tlsv_prf12_hash(TLSV_V_TLS11, TLSV_HASH_SHA384), TLSV_HASH_MD5_SHA1);
    assert_int_equal(tlsv_prf12_hash(TLSV_V_TLS10, TLSV_HASH_SHA256), TLSV_HASH_MD5_SHA1);

    /* versions outside 1.0-1.2 (SSL 3.0 only with TLSV_HAVE_SSL3) */
    uint8_t pms[48] = {3}, cr[32] = {1}, sr[32] = {2}, ms[48], kb[64], vd[12];
    assert_int_equal(tlsv_prf12_master(TLSV_V_TLS13, TLSV_HASH_SHA256, pms, 48, cr, sr, ms), -1);
    assert_int_equal(tlsv_prf12_master(0x0200, TLSV_HASH_SHA256, pms, 48, cr, sr, ms), -1);
    assert_int_equal(tlsv_prf12_key_block(TLSV_V_TLS13, TLSV_HASH_SHA256, ms, cr, sr, kb, 64),
                     -1);
    assert_int_equal(tlsv_prf12_ems(TLSV_V_SSL3, TLSV_HASH_SHA256, pms, 48, cr, 32, ms), -1);
    assert_int_equal(tlsv_prf12_finished(TLSV_V_SSL3, TLSV_HASH_SHA256, ms, true, cr, 32, vd),
                     -1);
#ifdef TLSV_HAVE_SSL3
    assert_int_equal(tlsv_prf12_master(TLSV_V_SSL3, TLSV_HASH_SHA256, pms, 48, cr, sr, ms), 0);
    assert_int_equal(tlsv_prf12_key_block(TLSV_V_SSL3, 0, ms, cr, sr, kb, 64), 0);
    uint8_t big[TLSV_SSL3_KEY_BLOCK_MAX + 1];
    assert_int_equal(tlsv_prf12_key_block(TLSV_V_SSL3, 0, ms, cr, sr, big, sizeof big), -1);
#else
    assert_int_equal(tlsv_prf12_master(TLSV_V_SSL3, TLSV_HASH_SHA256, pms, 48, cr, sr, ms), -1);
    assert_int_equal(tlsv_prf12_key_block(TLSV_V_SSL3, 0, ms, cr, sr, kb, 64), -1);
#endif
    tlsv_keys12 keys;
    assert_int_equal(tlsv_prf12_keys(TLSV_V_TLS12, TLSV_HASH_SHA256, ms, cr, sr, 49, 16, 4, &keys),
                     -1);
    assert_int_equal(tlsv_prf12_keys(TLSV_V_TLS12, TLSV_HASH_SHA256, ms, cr, sr, 20, 33, 4, &keys),
                     -1);
    assert_int_equal(tlsv_prf12_keys(TLSV_V_TLS12, TLSV_HASH_SHA256, ms, cr, sr, 20, 16, 17, &keys),
                     -1);
}

/* ---- the derivations, per version ------------------------------------------ */

static void test_derivations_match_openssl(void **state)
{
    (void)state;
    static const struct {
        uint16_t version;
        tlsv_hash_alg suite_hash;
        tlsv_hash_alg prf; /* what OpenSSL is asked for */
    } cases[] = {
        {TLSV_V_TLS12, TLSV_HASH_SHA256, TLSV_HASH_SHA256},
        {TLSV_V_TLS12, TLSV_HASH_SHA384, TLSV_HASH_SHA384},
        {TLSV_V_TLS11, TLSV_HASH_SHA256, TLSV_HASH_MD5_SHA1},
        {TLSV_V_TLS10, TLSV_HASH_SHA384, TLSV_HASH_MD5_SHA1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint16_t v = cases[i].version;
        tlsv_hash_alg sh = cases[i].suite_hash;
        const char *dg = ossl_digest(cases[i].prf);
        uint8_t pms[130], cr[32], sr[32], ms[48], want_ms[48], sess[48];
        size_t pms_len = 48 + i * 20; /* RSA 48, ECDHE 32..., any length */
        rnd(pms, pms_len);
        rnd(cr, 32);
        rnd(sr, 32);
        rnd(sess, 48);

        /* master secret: "master secret", client_random + server_random */
        assert_int_equal(tlsv_prf12_master(v, sh, pms, pms_len, cr, sr, ms), 0);
        ossl_prf(dg, pms, pms_len, "master secret", cr, 32, sr, 32, want_ms, 48);
        assert_memory_equal(ms, want_ms, 48);

        /* extended master secret over the session hash */
        size_t sl = cases[i].prf == TLSV_HASH_SHA384   ? 48
                    : cases[i].prf == TLSV_HASH_SHA256 ? 32
                                                       : 36;
        uint8_t ems[48], want_ems[48];
        assert_int_equal(tlsv_prf12_ems(v, sh, pms, pms_len, sess, sl, ems), 0);
        ossl_prf(dg, pms, pms_len, "extended master secret", sess, sl, NULL, 0, want_ems, 48);
        assert_memory_equal(ems, want_ems, 48);
        assert_memory_not_equal(ems, ms, 48);

        /* key block: "key expansion", server_random + client_random */
        uint8_t kb[192], want_kb[192];
        assert_int_equal(tlsv_prf12_key_block(v, sh, ms, cr, sr, kb, sizeof kb), 0);
        ossl_prf(dg, ms, 48, "key expansion", sr, 32, cr, 32, want_kb, sizeof want_kb);
        assert_memory_equal(kb, want_kb, sizeof kb);

        /* ... cut into its six parts */
        tlsv_keys12 keys;
        assert_int_equal(tlsv_prf12_keys(v, sh, ms, cr, sr, 20, 16, 16, &keys), 0);
        assert_int_equal(keys.mac_len, 20);
        assert_memory_equal(keys.client_mac, want_kb, 20);
        assert_memory_equal(keys.server_mac, want_kb + 20, 20);
        assert_memory_equal(keys.client_key, want_kb + 40, 16);
        assert_memory_equal(keys.server_key, want_kb + 56, 16);
        assert_memory_equal(keys.client_iv, want_kb + 72, 16);
        assert_memory_equal(keys.server_iv, want_kb + 88, 16);
        assert_int_equal(tlsv_prf12_keys(v, sh, ms, cr, sr, 0, 32, 4, &keys), 0); /* AES-256-GCM */
        assert_memory_equal(keys.client_key, want_kb, 32);
        assert_memory_equal(keys.server_key, want_kb + 32, 32);
        assert_memory_equal(keys.client_iv, want_kb + 64, 4);
        assert_memory_equal(keys.server_iv, want_kb + 68, 4);
        tlsv_keys12_wipe(&keys);
        static const uint8_t zero[sizeof keys.block];
        assert_memory_equal(keys.block, zero, sizeof zero);

        /* Finished */
        uint8_t th[48], vd[12], want_vd[12];
        rnd(th, sl);
        assert_int_equal(tlsv_prf12_finished(v, sh, ms, true, th, sl, vd), 0);
        ossl_prf(dg, ms, 48, "client finished", th, sl, NULL, 0, want_vd, 12);
        assert_memory_equal(vd, want_vd, 12);
        assert_int_equal(tlsv_prf12_finished(v, sh, ms, false, th, sl, vd), 0);
        ossl_prf(dg, ms, 48, "server finished", th, sl, NULL, 0, want_vd, 12);
        assert_memory_equal(vd, want_vd, 12);
    }
}

#ifdef TLSV_HAVE_SSL3
/* ---- SSL 3.0 ------------------------------------------------------------------ */

static void digest(const char *name, const void *a, size_t al, const void *b, size_t bl,
                   const void *c, size_t cl, const void *d, size_t dl, uint8_t *out)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestInit_ex2(m, EVP_get_digestbyname(name), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(m, a, al), 1);
    assert_int_equal(EVP_DigestUpdate(m, b, bl), 1);
    assert_int_equal(EVP_DigestUpdate(m, c, cl), 1);
    assert_int_equal(EVP_DigestUpdate(m, d, dl), 1);
    assert_int_equal(EVP_DigestFinal_ex(m, out, NULL), 1);
    EVP_MD_CTX_free(m);
}

/* RFC 6101 §6.1 / §6.2.2 written out: MD5(s + SHA(L_i + s + r1 + r2)). */
static void ssl3_ref(const uint8_t *s, size_t sl, const uint8_t *r1, const uint8_t *r2,
                     uint8_t *out, size_t n)
{
    for (size_t i = 0; i * 16 < n; i++) {
        uint8_t label[26], sha[20], md5[16];
        memset(label, 'A' + (int)i, i + 1);
        digest("SHA1", label, i + 1, s, sl, r1, 32, r2, 32, sha);
        digest("MD5", s, sl, sha, 20, "", 0, "", 0, md5);
        memcpy(out + i * 16, md5, n - i * 16 < 16 ? n - i * 16 : 16);
    }
}

static void test_ssl3_derivations(void **state)
{
    (void)state;
    uint8_t pms[48], cr[32], sr[32], ms[48];
    uint8_t want[TLSV_SSL3_KEY_BLOCK_MAX], kb[TLSV_SSL3_KEY_BLOCK_MAX];
    rnd(pms, 48);
    rnd(cr, 32);
    rnd(sr, 32);
    assert_int_equal(tlsv_prf12_master(TLSV_V_SSL3, TLSV_HASH_NONE, pms, 48, cr, sr, ms), 0);
    ssl3_ref(pms, 48, cr, sr, want, 48);
    assert_memory_equal(ms, want, 48);
    for (size_t n = 1; n <= TLSV_SSL3_KEY_BLOCK_MAX; n += 13) {
        assert_int_equal(tlsv_prf12_key_block(TLSV_V_SSL3, TLSV_HASH_NONE, ms, cr, sr, kb, n), 0);
        ssl3_ref(ms, 48, sr, cr, want, n);
        assert_memory_equal(kb, want, n);
    }
    assert_int_equal(tlsv_prf12_key_block(TLSV_V_SSL3, 0, ms, cr, sr, kb, TLSV_SSL3_KEY_BLOCK_MAX),
                     0);
    ssl3_ref(ms, 48, sr, cr, want, TLSV_SSL3_KEY_BLOCK_MAX);
    assert_memory_equal(kb, want, TLSV_SSL3_KEY_BLOCK_MAX);

    /* Finished and CertificateVerify over a transcript */
    uint8_t msgs[300];
    rnd(msgs, sizeof msgs);
    tlsv_hash_ctx *md5 = tlsv_hash_new(TLSV_HASH_MD5), *sha = tlsv_hash_new(TLSV_HASH_SHA1);
    assert_non_null(md5);
    assert_non_null(sha);
    assert_int_equal(tlsv_hash_update(md5, msgs, sizeof msgs), 0);
    assert_int_equal(tlsv_hash_update(sha, msgs, sizeof msgs), 0);
    uint8_t pad1[48], pad2[48];
    memset(pad1, 0x36, 48);
    memset(pad2, 0x5c, 48);
    for (int who = 0; who < 3; who++) {
        const char *sender = who == 0 ? "CLNT" : who == 1 ? "SRVR" : "";
        size_t snd = who == 2 ? 0 : 4;
        uint8_t got[36], exp[36], inner[20];
        /* MD5 half: pads of 48 bytes */
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestInit_ex2(m, EVP_md5(), NULL), 1);
        EVP_DigestUpdate(m, msgs, sizeof msgs);
        EVP_DigestUpdate(m, sender, snd);
        EVP_DigestUpdate(m, ms, 48);
        EVP_DigestUpdate(m, pad1, 48);
        EVP_DigestFinal_ex(m, inner, NULL);
        digest("MD5", ms, 48, pad2, 48, inner, 16, "", 0, exp);
        /* SHA-1 half: pads of 40 bytes */
        assert_int_equal(EVP_DigestInit_ex2(m, EVP_sha1(), NULL), 1);
        EVP_DigestUpdate(m, msgs, sizeof msgs);
        EVP_DigestUpdate(m, sender, snd);
        EVP_DigestUpdate(m, ms, 48);
        EVP_DigestUpdate(m, pad1, 40);
        EVP_DigestFinal_ex(m, inner, NULL);
        digest("SHA1", ms, 48, pad2, 40, inner, 20, "", 0, exp + 16);
        EVP_MD_CTX_free(m);
        if (who < 2)
            assert_int_equal(tlsv_ssl3_finished(md5, sha, ms, who == 0, got), 0);
        else
            assert_int_equal(tlsv_ssl3_cert_verify_hash(md5, sha, ms, got), 0);
        assert_memory_equal(got, exp, 36);
    }
    /* the transcripts were not consumed */
    uint8_t h[20], hw[20];
    assert_int_equal(tlsv_hash_peek(sha, h, sizeof h), 0);
    digest("SHA1", msgs, sizeof msgs, "", 0, "", 0, "", 0, hw);
    assert_memory_equal(h, hw, 20);
    /* wrong context kinds */
    uint8_t got[36];
    assert_int_equal(tlsv_ssl3_finished(sha, md5, ms, true, got), -1);
    assert_int_equal(tlsv_ssl3_finished(NULL, sha, ms, true, got), -1);
    tlsv_hash_free(md5);
    tlsv_hash_free(sha);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_vectors),
        cmocka_unit_test(test_prf_matches_openssl),
        cmocka_unit_test(test_prf_arguments),
        cmocka_unit_test(test_derivations_match_openssl),
#ifdef TLSV_HAVE_SSL3
        cmocka_unit_test(test_ssl3_derivations),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
