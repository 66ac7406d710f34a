/*
 * test_crypto.c -- the crypto seam (src/crypto/crypto.h) against published
 * known-answer vectors, plus the rejection paths the engine relies on.
 *
 * Vectors:
 *   FIPS 180 "abc" digests; RFC 4231 HMAC cases 1-2; RFC 5869 HKDF cases
 *   1-3; RFC 8448 §3 "Simple 1-RTT Handshake" key schedule; McGrew-Viega
 *   GCM test cases 4 and 16; RFC 8439 §2.8.2 ChaCha20-Poly1305; NIST
 *   SP 800-38A F.2.1/F.2.2/F.2.5 AES-CBC; RFC 7748 §6.1 X25519; RFC 5903
 *   §8.1 P-256 ECDH; RFC 8032 §7.1 test 1 Ed25519.
 *
 * Signature keys are generated here with libcrypto (the test may use it;
 * the library reaches it only through the seam) and handed to the seam as
 * PEM and DER, the way a configuration and a certificate would.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "crypto/rsa_kx.h"

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */
/* ---------------------------------------------------------------------- */

/* Decodes hex (whitespace ignored) into out; returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        int v;
        if (*p >= '0' && *p <= '9') v = *p - '0';
        else if (*p >= 'a' && *p <= 'f') v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F') v = *p - 'A' + 10;
        else continue;
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

/* Asserts buf[0..len) equals the hex string (same length too). */
#define assert_hex(buf, len, hex)                                   \
    do {                                                            \
        uint8_t want_[1024];                                        \
        size_t want_len_ = unhex((hex), want_, sizeof(want_));      \
        assert_int_equal((len), want_len_);                         \
        assert_memory_equal((buf), want_, want_len_);               \
    } while (0)

static int all_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= p[i];
    return acc == 0;
}

/* ---------------------------------------------------------------------- */
/* Utilities                                                              */
/* ---------------------------------------------------------------------- */

static void test_init_and_utilities(void **state)
{
    (void)state;
    assert_int_equal(tlsv_crypto_init(), TLSV_CRYPTO_OK);
    assert_int_equal(tlsv_crypto_init(), TLSV_CRYPTO_OK); /* idempotent */

    uint8_t a[32], b[32];
    assert_int_equal(tlsv_random(a, sizeof(a)), TLSV_CRYPTO_OK);
    assert_int_equal(tlsv_random(b, sizeof(b)), TLSV_CRYPTO_OK);
    assert_false(all_zero(a, sizeof(a)));
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(tlsv_random(NULL, 0), TLSV_CRYPTO_OK);
    assert_int_equal(tlsv_random(NULL, 1), TLSV_CRYPTO_EINVAL);

    memcpy(b, a, sizeof(a));
    assert_int_equal(tlsv_ct_memcmp(a, b, sizeof(a)), 0);
    b[31] ^= 0x01;
    assert_int_not_equal(tlsv_ct_memcmp(a, b, sizeof(a)), 0);
    b[31] ^= 0x01;
    b[0] ^= 0x80;
    assert_int_not_equal(tlsv_ct_memcmp(a, b, sizeof(a)), 0);
    assert_int_equal(tlsv_ct_memcmp(a, b, 0), 0);

    tlsv_wipe(a, sizeof(a));
    assert_true(all_zero(a, sizeof(a)));
    tlsv_wipe(NULL, 0);

    assert_string_equal(tlsv_crypto_strerror(TLSV_CRYPTO_EVERIFY), "authentication failed");
    assert_string_equal(tlsv_crypto_strerror(12345), "unknown error");
}

/* ---------------------------------------------------------------------- */
/* Hashes                                                                 */
/* ---------------------------------------------------------------------- */

#define SHA256_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA384_ABC                                                         \
    "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"     \
    "8086072ba1e7cc2358baeca134c825a7"
#define SHA512_ABC                                                         \
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"     \
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
#define SHA1_ABC "a9993e364706816aba3e25717850c26c9cd0d89d"
#define MD5_ABC "900150983cd24fb0d6963f7d28e17f72"
#define SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void test_hash_kat(void **state)
{
    (void)state;
    static const struct {
        tlsv_hash_alg alg;
        size_t len;
        const char *abc;
    } cases[] = {
        {TLSV_HASH_SHA256, 32, SHA256_ABC},
        {TLSV_HASH_SHA384, 48, SHA384_ABC},
        {TLSV_HASH_SHA512, 64, SHA512_ABC},
        {TLSV_HASH_SHA1, 20, SHA1_ABC},
        {TLSV_HASH_MD5, 16, MD5_ABC},
        {TLSV_HASH_MD5_SHA1, 36, MD5_ABC SHA1_ABC},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t out[TLSV_HASH_MAX_LEN];
        assert_int_equal(tlsv_hash_len(cases[i].alg), cases[i].len);
        /* one-shot */
        assert_int_equal(tlsv_hash(cases[i].alg, "abc", 3, out, sizeof(out)), TLSV_CRYPTO_OK);
        assert_hex(out, cases[i].len, cases[i].abc);
        /* incremental, split input */
        tlsv_hash_ctx *h = tlsv_hash_new(cases[i].alg);
        assert_non_null(h);
        assert_int_equal(tlsv_hash_ctx_alg(h), cases[i].alg);
        assert_int_equal(tlsv_hash_update(h, "a", 1), TLSV_CRYPTO_OK);
        assert_int_equal(tlsv_hash_update(h, NULL, 0), TLSV_CRYPTO_OK);
        assert_int_equal(tlsv_hash_update(h, "bc", 2), TLSV_CRYPTO_OK);
        memset(out, 0, sizeof(out));
        assert_int_equal(tlsv_hash_final(h, out, sizeof(out)), TLSV_CRYPTO_OK);
        assert_hex(out, cases[i].len, cases[i].abc);
        /* final restarted the context: the same input gives the same digest */
        assert_int_equal(tlsv_hash_update(h, "abc", 3), TLSV_CRYPTO_OK);
        memset(out, 0, sizeof(out));
        assert_int_equal(tlsv_hash_final(h, out, sizeof(out)), TLSV_CRYPTO_OK);
        assert_hex(out, cases[i].len, cases[i].abc);
        /* too small an output buffer */
        assert_int_equal(tlsv_hash_final(h, out, cases[i].len - 1), TLSV_CRYPTO_ENOSPC);
        assert_int_equal(tlsv_hash(cases[i].alg, "abc", 3, out, cases[i].len - 1),
                         TLSV_CRYPTO_ENOSPC);
        tlsv_hash_free(h);
    }
    uint8_t out[TLSV_HASH_MAX_LEN];
    assert_int_equal(tlsv_hash(TLSV_HASH_SHA256, NULL, 0, out, sizeof(out)), TLSV_CRYPTO_OK);
    assert_hex(out, 32, SHA256_EMPTY);
    assert_int_equal(tlsv_hash((tlsv_hash_alg)3, "abc", 3, out, sizeof(out)), TLSV_CRYPTO_EINVAL);
    assert_int_equal(tlsv_hash(TLSV_HASH_SHA256, NULL, 1, out, sizeof(out)), TLSV_CRYPTO_EINVAL);
    assert_null(tlsv_hash_new(TLSV_HASH_NONE));
    assert_int_equal(tlsv_hash_len((tlsv_hash_alg)99), 0);
    assert_int_equal(tlsv_hash_block_len(TLSV_HASH_SHA384), 128);
    assert_int_equal(tlsv_hash_block_len(TLSV_HASH_SHA256), 64);
    tlsv_hash_free(NULL);
}

/* A handshake transcript: "hash so far" while continuing, and forks. */
static void test_transcript_copy(void **state)
{
    (void)state;
    uint8_t got[32], want[32];
    tlsv_hash_ctx *t = tlsv_hash_new(TLSV_HASH_SHA256);
    assert_non_null(t);

    /* peek on an empty transcript is the hash of nothing */
    assert_int_equal(tlsv_hash_peek(t, got, sizeof(got)), TLSV_CRYPTO_OK);
    assert_hex(got, 32, SHA256_EMPTY);

    assert_int_equal(tlsv_hash_update(t, "ab", 2), TLSV_CRYPTO_OK);
    assert_int_equal(tlsv_hash_peek(t, got, sizeof(got)), TLSV_CRYPTO_OK);
    assert_int_equal(tlsv_hash(TLSV_HASH_SHA256, "ab", 2, want, sizeof(want)), 0);
    assert_memory_equal(got, want, 32);

    /* fork at "ab" */
    tlsv_hash_ctx *fork = tlsv_hash_dup(t);
    assert_non_null(fork);
    tlsv_hash_ctx *copy = tlsv_hash_new(TLSV_HASH_SHA384); /* copy takes src's alg */
    assert_non_null(copy);
    assert_int_equal(tlsv_hash_copy(copy, t), TLSV_CRYPTO_OK);
    assert_int_equal(tlsv_hash_ctx_alg(copy), TLSV_HASH_SHA256);

    /* peeking did not disturb the running state: continuing gives "abc" */
    assert_int_equal(tlsv_hash_update(t, "c", 1), TLSV_CRYPTO_OK);
    assert_int_equal(tlsv_hash_peek(t, got, sizeof(got)), TLSV_CRYPTO_OK);
    assert_hex(got, 32, SHA256_ABC);
    assert_int_equal(tlsv_hash_peek(t, got, sizeof(got)), TLSV_CRYPTO_OK); /* twice */
    assert_hex(got, 32, SHA256_ABC);

    /* the fork and the copy are independent of the original */
    assert_int_equal(tlsv_hash_update(fork, "x", 1), TLSV_CRYPTO_OK);
    assert_int_equal(tlsv_hash_final(fork, got, sizeof(got)), TLSV_CRYPTO_OK);
    assert_int_equal(tlsv_hash(TLSV_HASH_SHA256, "abx", 3, want, sizeof(want)), 0);
    assert_memory_equal(got, want, 32);
    assert_int_equal(tlsv_hash_update(copy, "c", 1), TLSV_CRYPTO_OK);
    assert_int_equal(tlsv_hash_final(copy, got, sizeof(got)), TLSV_CRYPTO_OK);
    assert_hex(got, 32, SHA256_ABC);

    /* the original still reads "abc" after its forks finished */
    assert_int_equal(tlsv_hash_final(t, got, sizeof(got)), TLSV_CRYPTO_OK);
    assert_hex(got, 32, SHA256_ABC);

    /* reset discards */
    assert_int_equal(tlsv_hash_update(t, "zzz", 3), TLSV_CRYPTO_OK);
    assert_int_equal(tlsv_hash_reset(t), TLSV_CRYPTO_OK);
    assert_int_equal(tlsv_hash_update(t, "abc", 3), TLSV_CRYPTO_OK);
    assert_int_equal(tlsv_hash_peek(t, got, sizeof(got)), TLSV_CRYPTO_OK);
    assert_hex(got, 32, SHA256_ABC);

    assert_int_equal(tlsv_hash_peek(t, got, 31), TLSV_CRYPTO_ENOSPC);
    assert_int_equal(tlsv_hash_copy(NULL, t), TLSV_CRYPTO_EINVAL);
    assert_null(tlsv_hash_dup(NULL));
    tlsv_hash_free(t);
    tlsv_hash_free(fork);
    tlsv_hash_free(copy);
}

/* ---------------------------------------------------------------------- */
/* HMAC: RFC 4231 test cases 1 and 2                                      */
/* ---------------------------------------------------------------------- */

static void test_hmac_rfc4231(void **state)
{
    (void)state;
    uint8_t key1[20];
    memset(key1, 0x0b, sizeof(key1));
    static const char data1[] = "Hi There";
    static const char key2[] = "Jefe";
    static const char data2[] = "what do ya want for nothing?";
    const struct {
        tlsv_hash_alg alg;
        const uint8_t *key;
        size_t key_len;
        const char *data;
        const char *mac;
    } cases[] = {
        {TLSV_HASH_SHA256, key1, 20, data1,
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {TLSV_HASH_SHA384, key1, 20, data1,
         "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
         "faea9ea9076ede7f4af152e8b2fa9cb6"},
        {TLSV_HASH_SHA256, (const uint8_t *)key2, 4, data2,
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {TLSV_HASH_SHA384, (const uint8_t *)key2, 4, data2,
         "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
         "8e2240ca5e69e2c78b3239ecfab21649"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t hl = tlsv_hash_len(cases[i].alg);
        size_t dl = strlen(cases[i].data);
        uint8_t mac[TLSV_HASH_MAX_LEN];
        assert_int_equal(tlsv_hmac(cases[i].alg, cases[i].key, cases[i].key_len,
                                   cases[i].data, dl, mac, sizeof(mac)),
                         TLSV_CRYPTO_OK);
        assert_hex(mac, hl, cases[i].mac);

        /* incremental, and reused for a second message under the same key */
        tlsv_hmac_ctx *h = tlsv_hmac_new(cases[i].alg, cases[i].key, cases[i].key_len);
        assert_non_null(h);
        assert_int_equal(tlsv_hmac_len(h), hl);
        for (int round = 0; round < 3; round++) {
            memset(mac, 0, sizeof(mac));
            assert_int_equal(tlsv_hmac_update(h, cases[i].data, 3), TLSV_CRYPTO_OK);
            assert_int_equal(tlsv_hmac_update(h, cases[i].data + 3, dl - 3), TLSV_CRYPTO_OK);
            assert_int_equal(tlsv_hmac_final(h, mac, sizeof(mac)), TLSV_CRYPTO_OK);
            assert_hex(mac, hl, cases[i].mac);
        }
        /* reset discards a partial message */
        assert_int_equal(tlsv_hmac_update(h, "garbage", 7), TLSV_CRYPTO_OK);
        assert_int_equal(tlsv_hmac_reset(h), TLSV_CRYPTO_OK);
        assert_int_equal(tlsv_hmac_update(h, cases[i].data, dl), TLSV_CRYPTO_OK);
        assert_int_equal(tlsv_hmac_final(h, mac, hl), TLSV_CRYPTO_OK);
        assert_hex(mac, hl, cases[i].mac);
        assert_int_equal(tlsv_hmac_final(h, mac, hl - 1), TLSV_CRYPTO_ENOSPC);
        tlsv_hmac_free(h);
    }
    uint8_t mac[TLSV_HASH_MAX_LEN];
    assert_int_equal(tlsv_hmac(TLSV_HASH_MD5_SHA1, key1, 20, "x", 1, mac, sizeof(mac)),
                     TLSV_CRYPTO_EINVAL);
    assert_int_equal(tlsv_hmac(TLSV_HASH_SHA256, key1, 20, "x", 1, mac, 31), TLSV_CRYPTO_ENOSPC);
    assert_null(tlsv_hmac_new(TLSV_HASH_NONE, key1, 20));
    /* an empty key is a valid HMAC key (and equals a zero block) */
    uint8_t m1[32], m2[32], zeros[32] = {0};
    assert_int_equal(tlsv_hmac(TLSV_HASH_SHA256, NULL, 0, "x", 1, m1, sizeof(m1)), 0);
    assert_int_equal(tlsv_hmac(TLSV_HASH_SHA256, zeros, 32, "x", 1, m2, sizeof(m2)), 0);
    assert_memory_equal(m1, m2, 32);
    tlsv_hmac_free(NULL);
}

/* ---------------------------------------------------------------------- */
/* HKDF: RFC 5869 test cases 1-3 (SHA-256)                                */
/* ---------------------------------------------------------------------- */

static void test_hkdf_rfc5869(void **state)
{
    (void)state;
    uint8_t ikm[80], salt[80], info[80], prk[32], okm[82];

    /* Test case 1 */
    memset(ikm, 0x0b, 22);
    size_t salt_len = unhex("000102030405060708090a0b0c", salt, sizeof(salt));
    size_t info_len = unhex("f0f1f2f3f4f5f6f7f8f9", info, sizeof(info));
    assert_int_equal(tlsv_hkdf_extract(TLSV_HASH_SHA256, salt, salt_len, ikm, 22, prk, sizeof(prk)),
                     TLSV_CRYPTO_OK);
    assert_hex(prk, 32, "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
    assert_int_equal(tlsv_hkdf_expand(TLSV_HASH_SHA256, prk, 32, info, info_len, okm, 42),
                     TLSV_CRYPTO_OK);
    assert_hex(okm, 42,
               "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
               "34007208d5b887185865");

    /* Test case 2: longer inputs, 82-byte output (three blocks) */
    for (int i = 0; i < 80; i++) {
        ikm[i] = (uint8_t)i;
        salt[i] = (uint8_t)(0x60 + i);
        info[i] = (uint8_t)(0xb0 + i);
    }
    assert_int_equal(tlsv_hkdf_extract(TLSV_HASH_SHA256, salt, 80, ikm, 80, prk, sizeof(prk)), 0);
    assert_hex(prk, 32, "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244");
    assert_int_equal(tlsv_hkdf_expand(TLSV_HASH_SHA256, prk, 32, info, 80, okm, 82), 0);
    assert_hex(okm, 82,
               "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
               "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
               "cc30c58179ec3e87c14c01d5c1f3434f1d87");

    /* Test case 3: no salt, no info */
    memset(ikm, 0x0b, 22);
    assert_int_equal(tlsv_hkdf_extract(TLSV_HASH_SHA256, NULL, 0, ikm, 22, prk, sizeof(prk)), 0);
    assert_hex(prk, 32, "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
    assert_int_equal(tlsv_hkdf_expand(TLSV_HASH_SHA256, prk, 32, NULL, 0, okm, 42), 0);
    assert_hex(okm, 42,
               "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
               "9d201395faa4b61a96c8");

    /* Limits: L <= 255 * HashLen; the output is zeroed on refusal */
    static uint8_t big[255 * 32 + 1];
    memset(big, 0xaa, sizeof(big));
    assert_int_equal(tlsv_hkdf_expand(TLSV_HASH_SHA256, prk, 32, NULL, 0, big, sizeof(big)),
                     TLSV_CRYPTO_EINVAL);
    assert_true(all_zero(big, sizeof(big)));
    assert_int_equal(tlsv_hkdf_expand(TLSV_HASH_SHA256, prk, 32, NULL, 0, big, 255 * 32), 0);
    assert_int_equal(tlsv_hkdf_extract(TLSV_HASH_SHA256, NULL, 0, ikm, 22, prk, 31),
                     TLSV_CRYPTO_ENOSPC);
    assert_int_equal(tlsv_hkdf_extract(TLSV_HASH_MD5_SHA1, NULL, 0, ikm, 22, prk, 32),
                     TLSV_CRYPTO_EINVAL);
}

/* ---------------------------------------------------------------------- */
/* TLS 1.3 key schedule: RFC 8448 §3                                      */
/* ---------------------------------------------------------------------- */

#define R8448_CLIENT_PRIV "49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005"
#define R8448_CLIENT_PUB "99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c"
#define R8448_SERVER_PRIV "b1580eeadf6dd589b8ef4f2d5652578cc810e9980191ec8d058308cea216a21e"
#define R8448_SERVER_PUB "c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f"
#define R8448_ECDHE "8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d"
#define R8448_HELLO_HASH "860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8"

static void test_key_schedule_rfc8448(void **state)
{
    (void)state;
    const tlsv_hash_alg H = TLSV_HASH_SHA256;
    uint8_t zeros[32] = {0}, empty_hash[32], early[32], derived[32], hs[32];
    uint8_t ecdhe[32], hello_hash[32], c_hs[32], s_hs[32], key[16], iv[12], master[32];

    /* early secret = HKDF-Extract(salt 0, IKM 0^32) */
    assert_int_equal(tlsv_hkdf_extract(H, NULL, 0, zeros, 32, early, sizeof(early)), 0);
    assert_hex(early, 32, "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a");

    /* derived = Derive-Secret(early, "derived", "") */
    assert_int_equal(tlsv_hash(H, NULL, 0, empty_hash, sizeof(empty_hash)), 0);
    assert_int_equal(tlsv_hkdf_expand_label(H, early, 32, "derived", empty_hash, 32, derived, 32),
                     0);
    assert_hex(derived, 32, "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba");

    /* the (EC)DHE input comes from the trace's X25519 keys */
    uint8_t priv[32], pub[32];
    unhex(R8448_CLIENT_PRIV, priv, sizeof(priv));
    tlsv_kex *client = tlsv_kex_from_private(TLSV_GROUP_X25519, priv, 32);
    assert_non_null(client);
    size_t len = 0;
    assert_int_equal(tlsv_kex_public(client, pub, sizeof(pub), &len), 0);
    assert_hex(pub, len, R8448_CLIENT_PUB);
    unhex(R8448_SERVER_PUB, pub, sizeof(pub));
    assert_int_equal(tlsv_kex_derive(client, pub, 32, ecdhe, sizeof(ecdhe), &len), 0);
    assert_hex(ecdhe, len, R8448_ECDHE);
    tlsv_kex_free(client);
    tlsv_wipe(priv, sizeof(priv));

    /* handshake secret = HKDF-Extract(derived, ECDHE) */
    assert_int_equal(tlsv_hkdf_extract(H, derived, 32, ecdhe, 32, hs, sizeof(hs)), 0);
    assert_hex(hs, 32, "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac");

    /* traffic secrets over Transcript-Hash(ClientHello..ServerHello) */
    unhex(R8448_HELLO_HASH, hello_hash, sizeof(hello_hash));
    assert_int_equal(tlsv_hkdf_expand_label(H, hs, 32, "c hs traffic", hello_hash, 32, c_hs, 32),
                     0);
    assert_hex(c_hs, 32, "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21");
    assert_int_equal(tlsv_hkdf_expand_label(H, hs, 32, "s hs traffic", hello_hash, 32, s_hs, 32),
                     0);
    assert_hex(s_hs, 32, "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");

    /* server handshake write key and IV (AES-128-GCM) */
    assert_int_equal(tlsv_hkdf_expand_label(H, s_hs, 32, "key", NULL, 0, key, 16), 0);
    assert_hex(key, 16, "3fce516009c21727d0f2e4e86ee403bc");
    assert_int_equal(tlsv_hkdf_expand_label(H, s_hs, 32, "iv", NULL, 0, iv, 12), 0);
    assert_hex(iv, 12, "5d313eb2671276ee13000b30");
    /* and the client's */
    assert_int_equal(tlsv_hkdf_expand_label(H, c_hs, 32, "key", NULL, 0, key, 16), 0);
    assert_hex(key, 16, "dbfaa693d1762c5b666af5d950258d01");
    assert_int_equal(tlsv_hkdf_expand_label(H, c_hs, 32, "iv", NULL, 0, iv, 12), 0);
    assert_hex(iv, 12, "5bd3c71b836e0b76bb73265f");

    /* master secret = HKDF-Extract(Derive-Secret(hs, "derived", ""), 0) */
    assert_int_equal(tlsv_hkdf_expand_label(H, hs, 32, "derived", empty_hash, 32, derived, 32), 0);
    assert_hex(derived, 32, "43de77e0c77713859a944db9db2590b53190a65b3ee2e4f12dd7a0bb7ce254b4");
    assert_int_equal(tlsv_hkdf_extract(H, derived, 32, zeros, 32, master, sizeof(master)), 0);
    assert_hex(master, 32, "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919");

    /* label limits: "tls13 " + label must fit in 255 bytes */
    char label[251];
    memset(label, 'a', sizeof(label) - 1);
    label[250] = '\0';
    memset(key, 0x55, sizeof(key));
    assert_int_equal(tlsv_hkdf_expand_label(H, hs, 32, label, NULL, 0, key, 16),
                     TLSV_CRYPTO_EINVAL);
    assert_true(all_zero(key, sizeof(key)));
    label[249] = '\0'; /* 249 + 6 = 255: allowed */
    assert_int_equal(tlsv_hkdf_expand_label(H, hs, 32, label, NULL, 0, key, 16), 0);
    uint8_t ctx256[256] = {0};
    assert_int_equal(tlsv_hkdf_expand_label(H, hs, 32, "x", ctx256, 256, key, 16),
                     TLSV_CRYPTO_EINVAL);
    assert_int_equal(tlsv_hkdf_expand_label(H, hs, 32, NULL, NULL, 0, key, 16),
                     TLSV_CRYPTO_EINVAL);
}

/* ---------------------------------------------------------------------- */
/* AEAD                                                                   */
/* ---------------------------------------------------------------------- */

/* McGrew-Viega GCM spec, test cases 4 (AES-128) and 16 (AES-256). */
#define GCM_P                                                              \
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"     \
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_A "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define GCM_IV "cafebabefacedbaddecaf888"

static void aead_kat(tlsv_aead_alg alg, const char *key_hex, const char *iv_hex,
                     const char *aad_hex, const uint8_t *pt, size_t pt_len, const char *ct_tag_hex)
{
    uint8_t key[32], iv[12], aad[64], out[256], back[256], ct[256];
    size_t key_len = unhex(key_hex, key, sizeof(key));
    assert_int_equal(key_len, tlsv_aead_key_len(alg));
    assert_int_equal(unhex(iv_hex, iv, sizeof(iv)), 12);
    size_t aad_len = unhex(aad_hex, aad, sizeof(aad));
    size_t ct_len = unhex(ct_tag_hex, ct, sizeof(ct));
    assert_int_equal(ct_len, pt_len + TLSV_AEAD_TAG_LEN);

    tlsv_aead_ctx *a = tlsv_aead_new(alg, key, key_len);
    assert_non_null(a);
    size_t n = 0;
    assert_int_equal(tlsv_aead_seal(a, iv, 12, aad, aad_len, pt, pt_len, out, sizeof(out), &n),
                     TLSV_CRYPTO_OK);
    assert_int_equal(n, ct_len);
    assert_memory_equal(out, ct, ct_len);

    /* the same context opens it (and again, to show reuse) */
    for (int round = 0; round < 2; round++) {
        memset(back, 0, sizeof(back));
        assert_int_equal(tlsv_aead_open(a, iv, 12, aad, aad_len, ct, ct_len, back, sizeof(back), &n),
                         TLSV_CRYPTO_OK);
        assert_int_equal(n, pt_len);
        assert_memory_equal(back, pt, pt_len);
    }

    /* in place, both ways */
    memcpy(back, pt, pt_len);
    assert_int_equal(tlsv_aead_seal(a, iv, 12, aad, aad_len, back, pt_len, back, sizeof(back), &n),
                     0);
    assert_memory_equal(back, ct, ct_len);
    assert_int_equal(tlsv_aead_open(a, iv, 12, aad, aad_len, back, ct_len, back, sizeof(back), &n),
                     0);
    assert_memory_equal(back, pt, pt_len);

    /* a separate context with the same key interoperates */
    tlsv_aead_ctx *b = tlsv_aead_new(alg, key, key_len);
    assert_non_null(b);
    assert_int_equal(tlsv_aead_open(b, iv, 12, aad, aad_len, ct, ct_len, back, sizeof(back), &n),
                     0);
    assert_memory_equal(back, pt, pt_len);
    tlsv_aead_free(b);
    tlsv_aead_free(a);
}

static void test_aes_gcm_kat(void **state)
{
    (void)state;
    uint8_t pt[64];
    size_t pt_len = unhex(GCM_P, pt, sizeof(pt));
    aead_kat(TLSV_AEAD_AES_128_GCM, "feffe9928665731c6d6a8f9467308308", GCM_IV, GCM_A, pt, pt_len,
             "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
             "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
             "5bc94fbc3221a5db94fae95ae7121a47");
    aead_kat(TLSV_AEAD_AES_256_GCM,
             "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", GCM_IV, GCM_A, pt,
             pt_len,
             "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
             "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
             "76fc6ece0f4e1768cddf8853bb2d551b");
}

static const char sunscreen[] =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
    "future, sunscreen would be it.";

static void test_chacha20_poly1305_rfc8439(void **state)
{
    (void)state;
    aead_kat(TLSV_AEAD_CHACHA20_POLY1305,
             "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
             "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
             (const uint8_t *)sunscreen, strlen(sunscreen),
             "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
             "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
             "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
             "3ff4def08e4b7a9de576d26586cec64b6116"
             "1ae10b594f09e26a7e902ecbd0600691");
}

/* Tampering with tag, ciphertext, AAD or nonce is caught, and nothing of
 * the plaintext leaks into the output buffer. */
static void test_aead_rejects_tampering(void **state)
{
    (void)state;
    static const tlsv_aead_alg algs[] = {TLSV_AEAD_AES_128_GCM, TLSV_AEAD_AES_256_GCM,
                                         TLSV_AEAD_CHACHA20_POLY1305};
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        uint8_t key[32], nonce[12], aad[13], rec[128 + 16], out[160];
        assert_int_equal(tlsv_random(key, sizeof(key)), 0);
        assert_int_equal(tlsv_random(nonce, sizeof(nonce)), 0);
        memset(aad, 0x17, sizeof(aad));
        const size_t pt_len = 100;
        uint8_t pt[100];
        memset(pt, 'P', sizeof(pt));
        tlsv_aead_ctx *a = tlsv_aead_new(algs[i], key, tlsv_aead_key_len(algs[i]));
        assert_non_null(a);
        size_t n = 0;
        assert_int_equal(tlsv_aead_seal(a, nonce, 12, aad, sizeof(aad), pt, pt_len, rec,
                                        sizeof(rec), &n), 0);
        assert_int_equal(n, pt_len + 16);
        const size_t rec_len = n;

        /* each tampering: byte of tag, of ciphertext, of AAD, of nonce */
        for (int what = 0; what < 4; what++) {
            uint8_t *target = what == 0 ? rec + rec_len - 1
                            : what == 1 ? rec + 5
                            : what == 2 ? aad + 3
                                        : nonce + 11;
            *target ^= 0x01;
            memset(out, 'X', sizeof(out));
            n = 12345;
            assert_int_equal(tlsv_aead_open(a, nonce, 12, aad, sizeof(aad), rec, rec_len, out,
                                            sizeof(out), &n),
                             TLSV_CRYPTO_EVERIFY);
            assert_int_equal(n, 0);
            assert_true(all_zero(out, pt_len)); /* wiped, not 'P' */
            *target ^= 0x01;
        }
        /* in-place failure wipes the record too */
        uint8_t copy[sizeof(rec)];
        memcpy(copy, rec, rec_len);
        copy[0] ^= 0x80;
        assert_int_equal(tlsv_aead_open(a, nonce, 12, aad, sizeof(aad), copy, rec_len, copy,
                                        sizeof(copy), &n), TLSV_CRYPTO_EVERIFY);
        assert_true(all_zero(copy, pt_len));

        /* the context still works after failures */
        assert_int_equal(tlsv_aead_open(a, nonce, 12, aad, sizeof(aad), rec, rec_len, out,
                                        sizeof(out), &n), 0);
        assert_int_equal(n, pt_len);
        assert_memory_equal(out, pt, pt_len);

        /* bad arguments */
        assert_int_equal(tlsv_aead_open(a, nonce, 12, aad, sizeof(aad), rec, 15, out, sizeof(out),
                                        &n), TLSV_CRYPTO_EINVAL);
        assert_int_equal(tlsv_aead_open(a, nonce, 8, aad, sizeof(aad), rec, rec_len, out,
                                        sizeof(out), &n), TLSV_CRYPTO_EINVAL);
        assert_int_equal(tlsv_aead_open(a, nonce, 12, aad, sizeof(aad), rec, rec_len, out,
                                        pt_len - 1, &n), TLSV_CRYPTO_ENOSPC);
        assert_int_equal(tlsv_aead_seal(a, nonce, 12, aad, sizeof(aad), pt, pt_len, out,
                                        pt_len + 15, &n), TLSV_CRYPTO_ENOSPC);
        /* partially overlapping buffers are refused */
        assert_int_equal(tlsv_aead_seal(a, nonce, 12, NULL, 0, out, 32, out + 1, 100, &n),
                         TLSV_CRYPTO_EINVAL);
        tlsv_aead_free(a);
    }
    uint8_t key[32] = {0};
    assert_null(tlsv_aead_new(TLSV_AEAD_AES_128_GCM, key, 32)); /* wrong key size */
    assert_null(tlsv_aead_new((tlsv_aead_alg)9, key, 16));
    tlsv_aead_free(NULL);
}

/* A connection's life: one context per direction, many records, the nonce
 * built from a per-direction IV and sequence number as TLS 1.3 does. */
static void test_aead_many_records(void **state)
{
    (void)state;
    static const tlsv_aead_alg algs[] = {TLSV_AEAD_AES_128_GCM, TLSV_AEAD_AES_256_GCM,
                                         TLSV_AEAD_CHACHA20_POLY1305};
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        uint8_t key[32], iv[12];
        assert_int_equal(tlsv_random(key, sizeof(key)), 0);
        assert_int_equal(tlsv_random(iv, sizeof(iv)), 0);
        size_t kl = tlsv_aead_key_len(algs[i]);
        tlsv_aead_ctx *w = tlsv_aead_new(algs[i], key, kl);
        tlsv_aead_ctx *r = tlsv_aead_new(algs[i], key, kl);
        assert_non_null(w);
        assert_non_null(r);
        uint8_t prev[64 + 16] = {0};
        for (uint64_t seq = 0; seq < 200; seq++) {
            uint8_t nonce[12], hdr[5] = {23, 3, 3, 0, 0}, pt[64], rec[64 + 16], back[64];
            memcpy(nonce, iv, 12);
            for (int b = 0; b < 8; b++)
                nonce[11 - b] ^= (uint8_t)(seq >> (8 * b));
            size_t len = (size_t)(seq % 65); /* includes empty records */
            memset(pt, (int)seq, sizeof(pt));
            size_t n = 0;
            assert_int_equal(tlsv_aead_seal(w, nonce, 12, hdr, 5, pt, len, rec, sizeof(rec), &n), 0);
            assert_int_equal(n, len + 16);
            /* different nonces give different tags */
            assert_memory_not_equal(rec + len, prev, 16);
            memcpy(prev, rec + len, 16);
            assert_int_equal(tlsv_aead_open(r, nonce, 12, hdr, 5, rec, n, back, sizeof(back), &n),
                             0);
            assert_int_equal(n, len);
            assert_memory_equal(back, pt, len);
        }
        tlsv_aead_free(w);
        tlsv_aead_free(r);
    }
}

/* ---------------------------------------------------------------------- */
/* AES-CBC: NIST SP 800-38A F.2                                            */
/* ---------------------------------------------------------------------- */

#define CBC_PT                                                             \
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"     \
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
#define CBC_IV "000102030405060708090a0b0c0d0e0f"
#define CBC128_CT                                                          \
    "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"     \
    "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"
#define CBC256_CT                                                          \
    "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"     \
    "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b"

static void test_aes_cbc_kat(void **state)
{
    (void)state;
    uint8_t key[32], iv[16], pt[64], ct[64], out[64];
    unhex(CBC_PT, pt, sizeof(pt));
    unhex(CBC_IV, iv, sizeof(iv));

    /* F.2.1 CBC-AES128.Encrypt, whole and in two chained calls */
    unhex("2b7e151628aed2a6abf7158809cf4f3c", key, sizeof(key));
    unhex(CBC128_CT, ct, sizeof(ct));
    tlsv_cbc_ctx *e = tlsv_cbc_new(TLSV_CBC_AES_128, key, 16, 1);
    assert_non_null(e);
    assert_int_equal(tlsv_cbc_crypt(e, iv, pt, 64, out), 0);
    assert_memory_equal(out, ct, 64);
    assert_int_equal(tlsv_cbc_crypt(e, iv, pt, 32, out), 0);        /* restart at iv */
    assert_int_equal(tlsv_cbc_crypt(e, NULL, pt + 32, 32, out + 32), 0); /* chained */
    assert_memory_equal(out, ct, 64);
    /* the chain continues from the last ciphertext block (TLS 1.0) */
    assert_int_equal(tlsv_cbc_crypt(e, iv, pt, 16, out), 0);
    assert_int_equal(tlsv_cbc_crypt(e, ct, pt + 16, 16, out + 16), 0); /* explicit = same */
    assert_memory_equal(out, ct, 32);
    tlsv_cbc_free(e);

    /* F.2.2 CBC-AES128.Decrypt, in place, in two calls */
    tlsv_cbc_ctx *d = tlsv_cbc_new(TLSV_CBC_AES_128, key, 16, 0);
    assert_non_null(d);
    assert_int_equal(tlsv_cbc_crypt(d, NULL, ct, 16, out), TLSV_CRYPTO_EINVAL); /* no IV yet */
    memcpy(out, ct, 64);
    assert_int_equal(tlsv_cbc_crypt(d, iv, out, 16, out), 0);
    assert_int_equal(tlsv_cbc_crypt(d, NULL, out + 16, 48, out + 16), 0);
    assert_memory_equal(out, pt, 64);
    /* a record with an explicit IV: decrypt blocks 3-4 from block 2 as IV */
    assert_int_equal(tlsv_cbc_crypt(d, ct + 16, ct + 32, 32, out), 0);
    assert_memory_equal(out, pt + 32, 32);
    assert_int_equal(tlsv_cbc_crypt(d, iv, ct, 15, out), TLSV_CRYPTO_EINVAL);
    tlsv_cbc_free(d);

    /* F.2.5 / F.2.6 CBC-AES256 */
    unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", key, sizeof(key));
    unhex(CBC256_CT, ct, sizeof(ct));
    e = tlsv_cbc_new(TLSV_CBC_AES_256, key, 32, 1);
    d = tlsv_cbc_new(TLSV_CBC_AES_256, key, 32, 0);
    assert_non_null(e);
    assert_non_null(d);
    assert_int_equal(tlsv_cbc_crypt(e, iv, pt, 64, out), 0);
    assert_memory_equal(out, ct, 64);
    assert_int_equal(tlsv_cbc_crypt(d, iv, ct, 64, out), 0);
    assert_memory_equal(out, pt, 64);
    tlsv_cbc_free(e);
    tlsv_cbc_free(d);

    assert_null(tlsv_cbc_new(TLSV_CBC_AES_256, key, 16, 1));
    assert_int_equal(tlsv_cbc_key_len(TLSV_CBC_AES_128), 16);
    tlsv_cbc_free(NULL);
}

/* ---------------------------------------------------------------------- */
/* Key exchange                                                           */
/* ---------------------------------------------------------------------- */

static void test_x25519_rfc7748(void **state)
{
    (void)state;
    uint8_t a_priv[32], b_priv[32], pub[64], a_pub[32], b_pub[32], secret[64];
    unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a_priv, 32);
    unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b_priv, 32);
    tlsv_kex *alice = tlsv_kex_from_private(TLSV_GROUP_X25519, a_priv, 32);
    tlsv_kex *bob = tlsv_kex_from_private(TLSV_GROUP_X25519, b_priv, 32);
    assert_non_null(alice);
    assert_non_null(bob);
    assert_int_equal(tlsv_kex_group(alice), TLSV_GROUP_X25519);

    size_t len = 0;
    assert_int_equal(tlsv_kex_public(alice, pub, sizeof(pub), &len), 0);
    assert_hex(pub, len, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    memcpy(a_pub, pub, 32);
    assert_int_equal(tlsv_kex_public(bob, pub, sizeof(pub), &len), 0);
    assert_hex(pub, len, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    memcpy(b_pub, pub, 32);
    assert_int_equal(tlsv_kex_public(bob, pub, 31, &len), TLSV_CRYPTO_ENOSPC);

    const char *shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    assert_int_equal(tlsv_kex_derive(alice, b_pub, 32, secret, sizeof(secret), &len), 0);
    assert_hex(secret, len, shared);
    assert_int_equal(tlsv_kex_derive(bob, a_pub, 32, secret, sizeof(secret), &len), 0);
    assert_hex(secret, len, shared);

    /* rejections: wrong length, low-order point giving an all-zero secret */
    assert_int_equal(tlsv_kex_derive(alice, b_pub, 31, secret, sizeof(secret), &len),
                     TLSV_CRYPTO_EBADKEY);
    assert_int_equal(len, 0);
    uint8_t zero_point[32] = {0}, one_point[32] = {1};
    memset(secret, 0xaa, sizeof(secret));
    assert_int_equal(tlsv_kex_derive(alice, zero_point, 32, secret, sizeof(secret), &len),
                     TLSV_CRYPTO_EBADKEY);
    assert_true(all_zero(secret, 32));
    assert_int_equal(tlsv_kex_derive(alice, one_point, 32, secret, sizeof(secret), &len),
                     TLSV_CRYPTO_EBADKEY);
    assert_int_equal(tlsv_kex_derive(alice, b_pub, 32, secret, 31, &len), TLSV_CRYPTO_ENOSPC);

    assert_null(tlsv_kex_from_private(TLSV_GROUP_X25519, a_priv, 31));
    tlsv_kex_free(alice);
    tlsv_kex_free(bob);
    tlsv_kex_free(NULL);
}

/* RFC 5903 §8.1: a fixed P-256 exchange, which also checks that importing
 * a raw private scalar computes the right public point. */
static void test_ecdh_p256_rfc5903(void **state)
{
    (void)state;
    uint8_t i_priv[32], r_priv[32], pub[TLSV_KEX_MAX_PUBLIC_LEN], secret[66];
    unhex("c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433", i_priv, 32);
    unhex("c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53", r_priv, 32);
    tlsv_kex *ini = tlsv_kex_from_private(TLSV_GROUP_SECP256R1, i_priv, 32);
    tlsv_kex *res = tlsv_kex_from_private(TLSV_GROUP_SECP256R1, r_priv, 32);
    assert_non_null(ini);
    assert_non_null(res);
    size_t len = 0;
    assert_int_equal(tlsv_kex_public(ini, pub, sizeof(pub), &len), 0);
    assert_hex(pub, len,
               "04dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
               "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3");
    uint8_t gr[65];
    unhex("04d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
          "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
          gr, sizeof(gr));
    assert_int_equal(tlsv_kex_public(res, pub, sizeof(pub), &len), 0);
    assert_memory_equal(pub, gr, 65);
    assert_int_equal(tlsv_kex_derive(ini, gr, 65, secret, sizeof(secret), &len), 0);
    assert_hex(secret, len, "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de");
    tlsv_kex_free(ini);
    tlsv_kex_free(res);

    /* private scalars out of range */
    uint8_t bad[32] = {0};
    assert_null(tlsv_kex_from_private(TLSV_GROUP_SECP256R1, bad, 32)); /* zero */
    memset(bad, 0xff, sizeof(bad));
    assert_null(tlsv_kex_from_private(TLSV_GROUP_SECP256R1, bad, 32)); /* >= n */
}

/* Round trips between two generated keys in every group, and rejection of
 * invalid peer shares. */
static void test_kex_roundtrip_and_invalid_points(void **state)
{
    (void)state;
    static const tlsv_group groups[] = {TLSV_GROUP_X25519, TLSV_GROUP_SECP256R1,
                                        TLSV_GROUP_SECP384R1, TLSV_GROUP_SECP521R1,
                                        TLSV_GROUP_X448};
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        tlsv_group grp = groups[i];
        assert_true(tlsv_kex_supported(grp));
        size_t pl = tlsv_kex_public_len(grp), sl = tlsv_kex_secret_len(grp);
        tlsv_kex *a = tlsv_kex_generate(grp);
        tlsv_kex *b = tlsv_kex_generate(grp);
        assert_non_null(a);
        assert_non_null(b);
        uint8_t pa[TLSV_KEX_MAX_PUBLIC_LEN], pb[TLSV_KEX_MAX_PUBLIC_LEN];
        uint8_t s1[TLSV_KEX_MAX_SECRET_LEN], s2[TLSV_KEX_MAX_SECRET_LEN];
        size_t la = 0, lb = 0, l1 = 0, l2 = 0;
        assert_int_equal(tlsv_kex_public(a, pa, sizeof(pa), &la), 0);
        assert_int_equal(tlsv_kex_public(b, pb, sizeof(pb), &lb), 0);
        assert_int_equal(la, pl);
        assert_int_equal(lb, pl);
        assert_memory_not_equal(pa, pb, pl);
        int nist = grp == TLSV_GROUP_SECP256R1 || grp == TLSV_GROUP_SECP384R1 ||
                   grp == TLSV_GROUP_SECP521R1;
        if (nist)
            assert_int_equal(pa[0], 0x04);
        assert_int_equal(tlsv_kex_derive(a, pb, lb, s1, sizeof(s1), &l1), 0);
        assert_int_equal(tlsv_kex_derive(b, pa, la, s2, sizeof(s2), &l2), 0);
        assert_int_equal(l1, sl);
        assert_int_equal(l2, sl);
        assert_memory_equal(s1, s2, sl);
        assert_false(all_zero(s1, sl));

        /* wrong lengths */
        assert_int_equal(tlsv_kex_derive(a, pb, lb - 1, s1, sizeof(s1), &l1), TLSV_CRYPTO_EBADKEY);
        uint8_t longer[TLSV_KEX_MAX_PUBLIC_LEN + 1] = {0};
        memcpy(longer, pb, lb);
        assert_int_equal(tlsv_kex_derive(a, longer, lb + 1, s1, sizeof(s1), &l1),
                         TLSV_CRYPTO_EBADKEY);
        if (nist) {
            uint8_t bad[TLSV_KEX_MAX_PUBLIC_LEN];
            /* a point off the curve: change Y */
            memcpy(bad, pb, lb);
            bad[lb - 1] ^= 0x01;
            memset(s1, 0xaa, sizeof(s1));
            assert_int_equal(tlsv_kex_derive(a, bad, lb, s1, sizeof(s1), &l1), TLSV_CRYPTO_EBADKEY);
            assert_int_equal(l1, 0);
            assert_true(all_zero(s1, sl));
            /* compressed form (0x02/0x03) is not accepted in TLS 1.3 */
            memcpy(bad, pb, lb);
            bad[0] = 0x02;
            assert_int_equal(tlsv_kex_derive(a, bad, lb, s1, sizeof(s1), &l1), TLSV_CRYPTO_EBADKEY);
            /* coordinates >= p */
            memset(bad, 0xff, lb);
            bad[0] = 0x04;
            assert_int_equal(tlsv_kex_derive(a, bad, lb, s1, sizeof(s1), &l1), TLSV_CRYPTO_EBADKEY);
            /* all zeros (0,0) is not a point */
            memset(bad, 0, lb);
            bad[0] = 0x04;
            assert_int_equal(tlsv_kex_derive(a, bad, lb, s1, sizeof(s1), &l1), TLSV_CRYPTO_EBADKEY);
        } else {
            uint8_t zero[TLSV_KEX_MAX_PUBLIC_LEN] = {0};
            assert_int_equal(tlsv_kex_derive(a, zero, pl, s1, sizeof(s1), &l1), TLSV_CRYPTO_EBADKEY);
        }
        /* a key from another group is rejected by length */
        tlsv_kex_free(a);
        tlsv_kex_free(b);
    }
    assert_null(tlsv_kex_generate((tlsv_group)0x0100));
    assert_false(tlsv_kex_supported((tlsv_group)0x0100));
    assert_int_equal(tlsv_kex_public_len((tlsv_group)0x0100), 0);
    assert_int_equal(tlsv_kex_public_len(TLSV_GROUP_SECP384R1), 97);
    assert_int_equal(tlsv_kex_secret_len(TLSV_GROUP_SECP521R1), 66);
}

/* ---------------------------------------------------------------------- */
/* Signatures                                                             */
/* ---------------------------------------------------------------------- */

/* A key generated by libcrypto and given to the seam in three forms. */
struct test_key {
    const char *name;
    EVP_PKEY *evp;
    tlsv_pkey *priv;      /* from PEM (PKCS#8) */
    tlsv_pkey *pub_pem;   /* from PEM SubjectPublicKeyInfo */
    tlsv_pkey *pub_spki;  /* from DER SubjectPublicKeyInfo */
};

static EVP_PKEY *generate(const char *type, size_t rsa_bits, const char *curve)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    assert_non_null(pc);
    assert_int_equal(EVP_PKEY_keygen_init(pc), 1);
    if (rsa_bits) {
        OSSL_PARAM p[] = {OSSL_PARAM_construct_size_t(OSSL_PKEY_PARAM_RSA_BITS, &rsa_bits),
                          OSSL_PARAM_construct_end()};
        assert_int_equal(EVP_PKEY_CTX_set_params(pc, p), 1);
    }
    if (curve)
        assert_int_equal(EVP_PKEY_CTX_set_group_name(pc, curve), 1);
    EVP_PKEY *pkey = NULL;
    assert_int_equal(EVP_PKEY_generate(pc, &pkey), 1);
    EVP_PKEY_CTX_free(pc);
    return pkey;
}

/* Loads a BIO's contents through a seam loader. */
static char *bio_text(BIO *bio, size_t *len)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    assert_true(n > 0);
    *len = (size_t)n;
    return data;
}

static void load_key(struct test_key *k, const char *name, EVP_PKEY *evp)
{
    int err = 1;
    size_t len = 0;
    k->name = name;
    k->evp = evp;

    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(bio, evp, NULL, NULL, 0, NULL, NULL), 1);
    char *pem = bio_text(bio, &len);
    k->priv = tlsv_pkey_private_from_pem(pem, len, NULL, &err);
    assert_non_null(k->priv);
    assert_int_equal(err, 0);
    BIO_free(bio);

    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(bio, evp), 1);
    pem = bio_text(bio, &len);
    err = 1;
    k->pub_pem = tlsv_pkey_public_from_pem(pem, len, &err);
    assert_non_null(k->pub_pem);
    assert_int_equal(err, 0);
    BIO_free(bio);

    unsigned char *der = NULL;
    int der_len = i2d_PUBKEY(evp, &der);
    assert_true(der_len > 0);
    k->pub_spki = tlsv_pkey_public_from_spki(der, (size_t)der_len, &err);
    assert_non_null(k->pub_spki);
    /* trailing bytes after the structure are refused */
    unsigned char *longer = malloc((size_t)der_len + 1);
    assert_non_null(longer);
    memcpy(longer, der, (size_t)der_len);
    longer[der_len] = 0;
    assert_null(tlsv_pkey_public_from_spki(longer, (size_t)der_len + 1, &err));
    assert_int_equal(err, TLSV_CRYPTO_EDECODE);
    free(longer);
    OPENSSL_free(der);

    assert_true(tlsv_pkey_has_private(k->priv));
    assert_false(tlsv_pkey_has_private(k->pub_pem));
    assert_false(tlsv_pkey_has_private(k->pub_spki));
    assert_int_equal(tlsv_pkey_get_type(k->priv), tlsv_pkey_get_type(k->pub_spki));
    assert_int_equal(tlsv_pkey_bits(k->priv), EVP_PKEY_get_bits(evp));
}

static void free_key(struct test_key *k)
{
    tlsv_pkey_free(k->priv);
    tlsv_pkey_free(k->pub_pem);
    tlsv_pkey_free(k->pub_spki);
    EVP_PKEY_free(k->evp);
}

static const uint16_t all_schemes[] = {
    TLSV_SIG_RSA_PKCS1_SHA1,        TLSV_SIG_ECDSA_SHA1,
    TLSV_SIG_RSA_PKCS1_SHA256,      TLSV_SIG_ECDSA_SECP256R1_SHA256,
    TLSV_SIG_RSA_PKCS1_SHA384,      TLSV_SIG_ECDSA_SECP384R1_SHA384,
    TLSV_SIG_RSA_PKCS1_SHA512,      TLSV_SIG_ECDSA_SECP521R1_SHA512,
    TLSV_SIG_RSA_PSS_RSAE_SHA256,   TLSV_SIG_RSA_PSS_RSAE_SHA384,
    TLSV_SIG_RSA_PSS_RSAE_SHA512,   TLSV_SIG_ED25519,
    TLSV_SIG_ED448,                 TLSV_SIG_RSA_PSS_PSS_SHA256,
    TLSV_SIG_RSA_PSS_PSS_SHA384,    TLSV_SIG_RSA_PSS_PSS_SHA512,
    TLSV_SIG_RSA_PKCS1_MD5_SHA1,
};
#define N_SCHEMES (sizeof(all_schemes) / sizeof(all_schemes[0]))

/* Which schemes each key must support, in TLS 1.2 and TLS 1.3 terms. */
struct expectation {
    const char *name;
    const uint16_t *tls12; /* zero-terminated */
    const uint16_t *tls13;
};

static int in_list(const uint16_t *list, uint16_t s)
{
    for (; *list; list++)
        if (*list == s)
            return 1;
    return 0;
}

/* Sign with the private key, verify with both public forms, and check
 * that a changed signature or message is rejected. */
static void roundtrip(const struct test_key *k, uint16_t scheme)
{
    static const uint8_t msg[] =
        "                                                                "
        "TLS 1.3, server CertificateVerify\0transcript-hash-goes-here";
    uint8_t sig[1024];
    size_t sig_len = 0;
    size_t cap = tlsv_pkey_sig_max_len(k->priv);
    assert_true(cap > 0 && cap <= sizeof(sig));
    int rc = tlsv_sign(k->priv, scheme, msg, sizeof(msg), sig, cap, &sig_len);
    if (rc != 0)
        fail_msg("%s: sign with scheme 0x%04x failed: %s", k->name, scheme,
                 tlsv_crypto_strerror(rc));
    assert_true(sig_len > 0 && sig_len <= cap);
    assert_int_equal(tlsv_verify(k->pub_pem, scheme, msg, sizeof(msg), sig, sig_len), 0);
    assert_int_equal(tlsv_verify(k->pub_spki, scheme, msg, sizeof(msg), sig, sig_len), 0);
    assert_int_equal(tlsv_verify(k->priv, scheme, msg, sizeof(msg), sig, sig_len), 0);

    /* tampered signature: every position class (start, middle, end) */
    size_t pos[3] = {0, sig_len / 2, sig_len - 1};
    for (int i = 0; i < 3; i++) {
        sig[pos[i]] ^= 0x01;
        assert_int_equal(tlsv_verify(k->pub_spki, scheme, msg, sizeof(msg), sig, sig_len),
                         TLSV_CRYPTO_EVERIFY);
        sig[pos[i]] ^= 0x01;
    }
    /* truncated signature */
    assert_int_equal(tlsv_verify(k->pub_spki, scheme, msg, sizeof(msg), sig, sig_len - 1),
                     TLSV_CRYPTO_EVERIFY);
    assert_int_equal(tlsv_verify(k->pub_spki, scheme, msg, sizeof(msg), sig, 0),
                     TLSV_CRYPTO_EVERIFY);
    /* tampered message */
    uint8_t other[sizeof(msg)];
    memcpy(other, msg, sizeof(msg));
    other[70] ^= 0x20;
    assert_int_equal(tlsv_verify(k->pub_spki, scheme, other, sizeof(other), sig, sig_len),
                     TLSV_CRYPTO_EVERIFY);
    /* too small an output buffer */
    assert_int_equal(tlsv_sign(k->priv, scheme, msg, sizeof(msg), sig, cap - 1, &sig_len),
                     TLSV_CRYPTO_ENOSPC);

    /* the prehashed path agrees with the message path (not for EdDSA) */
    int hash = tlsv_sig_scheme_hash(scheme);
    assert_true(hash >= 0);
    if (hash != TLSV_HASH_NONE) {
        uint8_t dg[TLSV_HASH_MAX_LEN];
        size_t dl = tlsv_hash_len((tlsv_hash_alg)hash);
        assert_int_equal(tlsv_hash((tlsv_hash_alg)hash, msg, sizeof(msg), dg, sizeof(dg)), 0);
        assert_int_equal(tlsv_sign(k->priv, scheme, msg, sizeof(msg), sig, cap, &sig_len), 0);
        assert_int_equal(tlsv_verify_digest(k->pub_pem, scheme, dg, dl, sig, sig_len), 0);
        assert_int_equal(tlsv_sign_digest(k->priv, scheme, dg, dl, sig, cap, &sig_len), 0);
        assert_int_equal(tlsv_verify(k->pub_pem, scheme, msg, sizeof(msg), sig, sig_len), 0);
        sig[sig_len / 2] ^= 0x04;
        assert_int_equal(tlsv_verify_digest(k->pub_pem, scheme, dg, dl, sig, sig_len),
                         TLSV_CRYPTO_EVERIFY);
        assert_int_equal(tlsv_sign_digest(k->priv, scheme, dg, dl - 1, sig, cap, &sig_len),
                         TLSV_CRYPTO_EINVAL);
    } else {
        uint8_t dg[64] = {0};
        assert_int_equal(tlsv_sign_digest(k->priv, scheme, dg, 64, sig, cap, &sig_len),
                         TLSV_CRYPTO_EUNSUPPORTED);
    }
}

static void test_signatures_every_scheme(void **state)
{
    (void)state;
    static const uint16_t rsa12[] = {
        TLSV_SIG_RSA_PKCS1_SHA1,      TLSV_SIG_RSA_PKCS1_SHA256,    TLSV_SIG_RSA_PKCS1_SHA384,
        TLSV_SIG_RSA_PKCS1_SHA512,    TLSV_SIG_RSA_PSS_RSAE_SHA256, TLSV_SIG_RSA_PSS_RSAE_SHA384,
        TLSV_SIG_RSA_PSS_RSAE_SHA512, TLSV_SIG_RSA_PKCS1_MD5_SHA1,  0};
    static const uint16_t rsa13[] = {TLSV_SIG_RSA_PSS_RSAE_SHA256, TLSV_SIG_RSA_PSS_RSAE_SHA384,
                                     TLSV_SIG_RSA_PSS_RSAE_SHA512, 0};
    static const uint16_t pss[] = {TLSV_SIG_RSA_PSS_PSS_SHA256, TLSV_SIG_RSA_PSS_PSS_SHA384,
                                   TLSV_SIG_RSA_PSS_PSS_SHA512, 0};
    /* TLS 1.2: ECDSA with any hash on any curve; TLS 1.3: the named curve */
    static const uint16_t ec12[] = {TLSV_SIG_ECDSA_SHA1, TLSV_SIG_ECDSA_SECP256R1_SHA256,
                                    TLSV_SIG_ECDSA_SECP384R1_SHA384,
                                    TLSV_SIG_ECDSA_SECP521R1_SHA512, 0};
    static const uint16_t p256_13[] = {TLSV_SIG_ECDSA_SECP256R1_SHA256, 0};
    static const uint16_t p384_13[] = {TLSV_SIG_ECDSA_SECP384R1_SHA384, 0};
    static const uint16_t p521_13[] = {TLSV_SIG_ECDSA_SECP521R1_SHA512, 0};
    static const uint16_t ed25519[] = {TLSV_SIG_ED25519, 0};
    static const uint16_t ed448[] = {TLSV_SIG_ED448, 0};

    struct test_key keys[7];
    const struct expectation expect[7] = {
        {"RSA-2048", rsa12, rsa13},   {"RSA-PSS-2048", pss, pss},
        {"P-256", ec12, p256_13},     {"P-384", ec12, p384_13},
        {"P-521", ec12, p521_13},     {"Ed25519", ed25519, ed25519},
        {"Ed448", ed448, ed448},
    };
    load_key(&keys[0], "RSA-2048", generate("RSA", 2048, NULL));
    load_key(&keys[1], "RSA-PSS-2048", generate("RSA-PSS", 2048, NULL));
    load_key(&keys[2], "P-256", generate("EC", 0, "P-256"));
    load_key(&keys[3], "P-384", generate("EC", 0, "P-384"));
    load_key(&keys[4], "P-521", generate("EC", 0, "P-521"));
    load_key(&keys[5], "Ed25519", generate("ED25519", 0, NULL));
    load_key(&keys[6], "Ed448", generate("ED448", 0, NULL));

    assert_int_equal(tlsv_pkey_get_type(keys[0].priv), TLSV_PKEY_RSA);
    assert_int_equal(tlsv_pkey_get_type(keys[1].priv), TLSV_PKEY_RSA_PSS);
    assert_int_equal(tlsv_pkey_get_type(keys[2].priv), TLSV_PKEY_EC);
    assert_int_equal(tlsv_pkey_group(keys[2].pub_spki), TLSV_GROUP_SECP256R1);
    assert_int_equal(tlsv_pkey_group(keys[3].pub_spki), TLSV_GROUP_SECP384R1);
    assert_int_equal(tlsv_pkey_group(keys[4].pub_spki), TLSV_GROUP_SECP521R1);
    assert_int_equal(tlsv_pkey_group(keys[0].priv), 0);
    assert_int_equal(tlsv_pkey_get_type(keys[5].priv), TLSV_PKEY_ED25519);
    assert_int_equal(tlsv_pkey_get_type(keys[6].priv), TLSV_PKEY_ED448);
    assert_int_equal(tlsv_pkey_sig_max_len(keys[0].priv), 256);
    assert_int_equal(tlsv_pkey_sig_max_len(keys[5].priv), 64);
    assert_int_equal(tlsv_pkey_bits(keys[0].pub_spki), 2048);

    for (size_t k = 0; k < 7; k++) {
        for (size_t s = 0; s < N_SCHEMES; s++) {
            uint16_t sc = all_schemes[s];
            int ok12 = in_list(expect[k].tls12, sc);
            int ok13 = in_list(expect[k].tls13, sc);
            if (tlsv_sig_key_supports(keys[k].priv, sc, TLSV_SIG_SIGN) != ok12 ||
                tlsv_sig_key_supports(keys[k].pub_spki, sc, 0) != ok12 ||
                tlsv_sig_key_supports(keys[k].priv, sc, TLSV_SIG_SIGN | TLSV_SIG_TLS13) != ok13)
                fail_msg("%s: support of scheme 0x%04x is wrong", keys[k].name, sc);
            /* a public key can never sign */
            assert_false(tlsv_sig_key_supports(keys[k].pub_pem, sc, TLSV_SIG_SIGN));
            if (ok12) {
                roundtrip(&keys[k], sc);
                uint8_t sig[1024];
                size_t sl = 0;
                assert_int_equal(tlsv_sign(keys[k].pub_pem, sc, (const uint8_t *)"m", 1, sig,
                                           sizeof(sig), &sl),
                                 TLSV_CRYPTO_EUNSUPPORTED);
            } else {
                uint8_t sig[1024] = {0};
                size_t sl = 0;
                assert_int_equal(tlsv_sign(keys[k].priv, sc, (const uint8_t *)"m", 1, sig,
                                           sizeof(sig), &sl),
                                 TLSV_CRYPTO_EUNSUPPORTED);
                assert_int_equal(tlsv_verify(keys[k].pub_spki, sc, (const uint8_t *)"m", 1, sig, 64),
                                 TLSV_CRYPTO_EUNSUPPORTED);
            }
        }
    }

    /* A signature made under one scheme does not verify under another. */
    {
        uint8_t sig[512];
        size_t sl = 0;
        assert_int_equal(tlsv_sign(keys[0].priv, TLSV_SIG_RSA_PSS_RSAE_SHA256,
                                   (const uint8_t *)"hello", 5, sig, sizeof(sig), &sl), 0);
        assert_int_equal(tlsv_verify(keys[0].pub_spki, TLSV_SIG_RSA_PSS_RSAE_SHA384,
                                     (const uint8_t *)"hello", 5, sig, sl), TLSV_CRYPTO_EVERIFY);
        assert_int_equal(tlsv_verify(keys[0].pub_spki, TLSV_SIG_RSA_PKCS1_SHA256,
                                     (const uint8_t *)"hello", 5, sig, sl), TLSV_CRYPTO_EVERIFY);
        /* and a key of another type does not take it */
        assert_int_equal(tlsv_verify(keys[2].pub_spki, TLSV_SIG_ECDSA_SECP256R1_SHA256,
                                     (const uint8_t *)"hello", 5, sig, 64), TLSV_CRYPTO_EVERIFY);
    }

    /* Independent check with libcrypto directly: the seam's rsa_pss_rsae_sha256
     * is PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt, and its
     * ecdsa_secp256r1_sha256 is ECDSA over SHA-256. */
    {
        static const uint8_t m[] = "independent verification";
        uint8_t sig[512];
        size_t sl = 0;
        assert_int_equal(tlsv_sign(keys[0].priv, TLSV_SIG_RSA_PSS_RSAE_SHA256, m, sizeof(m), sig,
                                   sizeof(sig), &sl), 0);
        EVP_MD_CTX *mc = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pc = NULL;
        assert_int_equal(EVP_DigestVerifyInit_ex(mc, &pc, "SHA256", NULL, NULL, keys[0].evp, NULL),
                         1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pc, "SHA256", NULL), 1);
        assert_int_equal(EVP_DigestVerify(mc, sig, sl, m, sizeof(m)), 1);
        EVP_MD_CTX_free(mc);

        assert_int_equal(tlsv_sign(keys[2].priv, TLSV_SIG_ECDSA_SECP256R1_SHA256, m, sizeof(m),
                                   sig, sizeof(sig), &sl), 0);
        mc = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestVerifyInit_ex(mc, NULL, "SHA256", NULL, NULL, keys[2].evp, NULL),
                         1);
        assert_int_equal(EVP_DigestVerify(mc, sig, sl, m, sizeof(m)), 1);
        EVP_MD_CTX_free(mc);

        /* PKCS#1 v1.5 is deterministic: both paths give identical bytes */
        uint8_t sig2[512], dg[32];
        size_t sl2 = 0;
        assert_int_equal(tlsv_sign(keys[0].priv, TLSV_SIG_RSA_PKCS1_SHA256, m, sizeof(m), sig,
                                   sizeof(sig), &sl), 0);
        assert_int_equal(tlsv_hash(TLSV_HASH_SHA256, m, sizeof(m), dg, sizeof(dg)), 0);
        assert_int_equal(tlsv_sign_digest(keys[0].priv, TLSV_SIG_RSA_PKCS1_SHA256, dg, 32, sig2,
                                          sizeof(sig2), &sl2), 0);
        assert_int_equal(sl, sl2);
        assert_memory_equal(sig, sig2, sl);
    }

    for (size_t k = 0; k < 7; k++)
        free_key(&keys[k]);
}

/* A 1024-bit RSA key is too short for PSS with SHA-512 (RFC 8017 §9.1.1). */
static void test_rsa_pss_key_size_limit(void **state)
{
    (void)state;
    struct test_key k;
    load_key(&k, "RSA-1024", generate("RSA", 1024, NULL));
    assert_true(tlsv_sig_key_supports(k.priv, TLSV_SIG_RSA_PSS_RSAE_SHA256, TLSV_SIG_SIGN));
    assert_true(tlsv_sig_key_supports(k.priv, TLSV_SIG_RSA_PSS_RSAE_SHA384, TLSV_SIG_SIGN));
    assert_false(tlsv_sig_key_supports(k.priv, TLSV_SIG_RSA_PSS_RSAE_SHA512, TLSV_SIG_SIGN));
    assert_true(tlsv_sig_key_supports(k.priv, TLSV_SIG_RSA_PKCS1_SHA512, TLSV_SIG_SIGN));
    uint8_t sig[128];
    size_t sl = 0;
    assert_int_equal(tlsv_sign(k.priv, TLSV_SIG_RSA_PSS_RSAE_SHA512, (const uint8_t *)"x", 1, sig,
                               sizeof(sig), &sl), TLSV_CRYPTO_EUNSUPPORTED);
    roundtrip(&k, TLSV_SIG_RSA_PSS_RSAE_SHA384);
    free_key(&k);
}

/* RFC 8032 §7.1 TEST 1: a fixed Ed25519 key signing the empty message. */
static void test_ed25519_rfc8032(void **state)
{
    (void)state;
    uint8_t seed[32], sig[64];
    unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", seed, 32);
    EVP_PKEY *evp = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, seed, 32);
    assert_non_null(evp);
    struct test_key k;
    load_key(&k, "Ed25519-RFC8032", evp);
    size_t sl = 0;
    assert_int_equal(tlsv_sign(k.priv, TLSV_SIG_ED25519, NULL, 0, sig, sizeof(sig), &sl), 0);
    assert_hex(sig, sl,
               "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
               "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
    assert_int_equal(tlsv_verify(k.pub_spki, TLSV_SIG_ED25519, NULL, 0, sig, sl), 0);
    sig[10] ^= 1;
    assert_int_equal(tlsv_verify(k.pub_spki, TLSV_SIG_ED25519, NULL, 0, sig, sl),
                     TLSV_CRYPTO_EVERIFY);
    free_key(&k);
}

/* TLS 1.0/1.1 RSA: PKCS#1 v1.5 over MD5 || SHA-1 without DigestInfo. */
static void test_rsa_md5_sha1(void **state)
{
    (void)state;
    struct test_key k;
    load_key(&k, "RSA-1024", generate("RSA", 1024, NULL));
    static const uint8_t m[] = "client_random server_random ServerDHParams";
    uint8_t dg[36], sig[128], sig2[128];
    size_t sl = 0, sl2 = 0;
    assert_int_equal(tlsv_hash(TLSV_HASH_MD5, m, sizeof(m), dg, 16), 0);
    assert_int_equal(tlsv_hash(TLSV_HASH_SHA1, m, sizeof(m), dg + 16, 20), 0);
    assert_int_equal(tlsv_sign(k.priv, TLSV_SIG_RSA_PKCS1_MD5_SHA1, m, sizeof(m), sig,
                               sizeof(sig), &sl), 0);
    assert_int_equal(tlsv_sign_digest(k.priv, TLSV_SIG_RSA_PKCS1_MD5_SHA1, dg, 36, sig2,
                                      sizeof(sig2), &sl2), 0);
    assert_int_equal(sl, 128);
    assert_memory_equal(sig, sig2, sl);
    /* Independent check: raw RSA "verify-recover" yields exactly the 36-byte
     * digest (no DigestInfo inside the padding). */
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, k.evp, NULL);
    assert_non_null(pc);
    assert_int_equal(EVP_PKEY_verify_recover_init(pc), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING), 1);
    uint8_t rec[128];
    size_t rl = sizeof(rec);
    assert_int_equal(EVP_PKEY_verify_recover(pc, rec, &rl, sig, sl), 1);
    assert_int_equal(rl, 36);
    assert_memory_equal(rec, dg, 36);
    EVP_PKEY_CTX_free(pc);
    assert_false(tlsv_sig_key_supports(k.priv, TLSV_SIG_RSA_PKCS1_MD5_SHA1, TLSV_SIG_TLS13));
    free_key(&k);
}

/* Loader failures carry meaning and never prompt for a password. */
static void test_key_loading_errors(void **state)
{
    (void)state;
    int err = 0;
    static const char garbage[] = "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n";
    assert_null(tlsv_pkey_private_from_pem(garbage, sizeof(garbage) - 1, NULL, &err));
    assert_int_equal(err, TLSV_CRYPTO_EDECODE);
    assert_null(tlsv_pkey_public_from_pem(garbage, sizeof(garbage) - 1, &err));
    assert_int_equal(err, TLSV_CRYPTO_EDECODE);
    assert_null(tlsv_pkey_public_from_spki((const uint8_t *)"\x30\x03\x02\x01\x00", 5, &err));
    assert_int_equal(err, TLSV_CRYPTO_EDECODE);
    assert_null(tlsv_pkey_private_from_der((const uint8_t *)"\x30\x00", 2, &err));
    assert_int_equal(err, TLSV_CRYPTO_EDECODE);
    assert_null(tlsv_pkey_private_from_pem(NULL, 0, NULL, &err));
    assert_int_equal(err, TLSV_CRYPTO_EINVAL);

    /* An encrypted key: right password, wrong password, none (no prompt). */
    EVP_PKEY *evp = generate("EC", 0, "P-256");
    BIO *bio = BIO_new(BIO_s_mem());
    static const char pw[] = "correct horse";
    assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio, evp, EVP_aes_128_cbc(), pw,
                                                   (int)strlen(pw), NULL, NULL), 1);
    size_t len = 0;
    char *pem = bio_text(bio, &len);
    tlsv_pkey *k = tlsv_pkey_private_from_pem(pem, len, pw, &err);
    assert_non_null(k);
    assert_int_equal(err, 0);
    tlsv_pkey_free(k);
    assert_null(tlsv_pkey_private_from_pem(pem, len, "wrong", &err));
    assert_int_equal(err, TLSV_CRYPTO_EDECODE);
    assert_null(tlsv_pkey_private_from_pem(pem, len, NULL, &err));
    assert_int_equal(err, TLSV_CRYPTO_EDECODE);
    BIO_free(bio);

    /* DER PKCS#8 private key */
    unsigned char *der = NULL;
    int der_len = i2d_PrivateKey(evp, &der);
    assert_true(der_len > 0);
    k = tlsv_pkey_private_from_der(der, (size_t)der_len, &err);
    assert_non_null(k);
    assert_int_equal(tlsv_pkey_group(k), TLSV_GROUP_SECP256R1);
    tlsv_pkey_free(k);
    OPENSSL_free(der);
    EVP_PKEY_free(evp);

    /* A key type that cannot sign (X25519) is recognised as unsupported. */
    evp = generate("X25519", 0, NULL);
    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(bio, evp), 1);
    pem = bio_text(bio, &len);
    assert_null(tlsv_pkey_public_from_pem(pem, len, &err));
    assert_int_equal(err, TLSV_CRYPTO_EUNSUPPORTED);
    BIO_free(bio);
    EVP_PKEY_free(evp);

    /* A curve outside the TLS set (secp256k1) is unsupported too. */
    evp = generate("EC", 0, "secp256k1");
    der = NULL;
    der_len = i2d_PUBKEY(evp, &der);
    assert_true(der_len > 0);
    assert_null(tlsv_pkey_public_from_spki(der, (size_t)der_len, &err));
    assert_int_equal(err, TLSV_CRYPTO_EUNSUPPORTED);
    OPENSSL_free(der);
    EVP_PKEY_free(evp);

    assert_int_equal(tlsv_sig_scheme_hash(TLSV_SIG_RSA_PSS_RSAE_SHA384), TLSV_HASH_SHA384);
    assert_int_equal(tlsv_sig_scheme_hash(TLSV_SIG_ED25519), TLSV_HASH_NONE);
    assert_int_equal(tlsv_sig_scheme_hash(0x0101), TLSV_CRYPTO_EUNSUPPORTED);
    tlsv_pkey_free(NULL);
}

/* ---------------------------------------------------------------------- */
/* Threads share the process-wide algorithm cache and read-only keys      */
/* ---------------------------------------------------------------------- */

struct thread_job {
    const tlsv_pkey *key;   /* shared by all threads */
    const tlsv_kex *kex;    /* shared by all threads */
    const uint8_t *peer;
    size_t peer_len;
    int failures;
};

static void *thread_main(void *arg)
{
    struct thread_job *job = arg;
    static const uint8_t zeros[32];
    for (int i = 0; i < 50; i++) {
        uint8_t early[32], sig[128], secret[32];
        size_t sl = 0, len = 0;
        if (tlsv_hkdf_extract(TLSV_HASH_SHA256, NULL, 0, zeros, 32, early, sizeof(early)) != 0 ||
            early[0] != 0x33 || early[31] != 0x2a)
            job->failures++;
        if (tlsv_sign(job->key, TLSV_SIG_ECDSA_SECP256R1_SHA256, early, 32, sig, sizeof(sig),
                      &sl) != 0 ||
            tlsv_verify(job->key, TLSV_SIG_ECDSA_SECP256R1_SHA256, early, 32, sig, sl) != 0)
            job->failures++;
        if (tlsv_kex_derive(job->kex, job->peer, job->peer_len, secret, sizeof(secret), &len) != 0)
            job->failures++;
    }
    return NULL;
}

static void test_threads_share_keys(void **state)
{
    (void)state;
    struct test_key k;
    load_key(&k, "P-256", generate("EC", 0, "P-256"));
    tlsv_kex *a = tlsv_kex_generate(TLSV_GROUP_X25519);
    tlsv_kex *b = tlsv_kex_generate(TLSV_GROUP_X25519);
    assert_non_null(a);
    assert_non_null(b);
    uint8_t pb[32];
    size_t pl = 0;
    assert_int_equal(tlsv_kex_public(b, pb, sizeof(pb), &pl), 0);
    struct thread_job jobs[4];
    pthread_t tid[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct thread_job){k.priv, a, pb, pl, 0};
        assert_int_equal(pthread_create(&tid[i], NULL, thread_main, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        assert_int_equal(jobs[i].failures, 0);
    }
    tlsv_kex_free(a);
    tlsv_kex_free(b);
    free_key(&k);
}

/* RSA key exchange (RFC 5246 §7.4.7.1): the right premaster comes back;
 * a wrong client_version, bad padding, a wrong length or garbage give 48
 * random bytes and success -- never an error that would tell them apart. */
static void test_rsa_premaster_countermeasure(void **state)
{
    (void)state;
    struct test_key k;
    load_key(&k, "RSA-2048", generate("RSA", 2048, NULL));
    uint8_t pms[48], out[48], again[48], ct[512];
    for (size_t i = 0; i < sizeof pms; i++)
        pms[i] = (uint8_t)(i * 13 + 1);
    pms[0] = 0x03;
    pms[1] = 0x03;
    size_t ct_len = 0;
    assert_int_equal(tlsv_rsa_encrypt_pkcs1(k.pub_spki, pms, sizeof pms, ct, sizeof ct, &ct_len), 0);
    assert_int_equal(ct_len, 256);
    assert_int_equal(tlsv_rsa_decrypt_premaster(k.priv, ct, ct_len, 0x0303, out), 0);
    assert_memory_equal(out, pms, 48);

    /* the version in the premaster is not the ClientHello's */
    assert_int_equal(tlsv_rsa_decrypt_premaster(k.priv, ct, ct_len, 0x0302, out), 0);
    assert_memory_not_equal(out, pms, 48);
    assert_int_equal(tlsv_rsa_decrypt_premaster(k.priv, ct, ct_len, 0x0302, again), 0);
    assert_memory_not_equal(out, again, 48); /* random each time */

    /* a 47-byte premaster (wrong length) */
    assert_int_equal(tlsv_rsa_encrypt_pkcs1(k.pub_spki, pms, 47, ct, sizeof ct, &ct_len), 0);
    assert_int_equal(tlsv_rsa_decrypt_premaster(k.priv, ct, ct_len, 0x0303, out), 0);
    assert_memory_not_equal(out, pms, 48);

    /* a ciphertext that is not PKCS#1 at all, and a flipped bit */
    uint8_t junk[256];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i + 7);
    junk[0] = 0x01;
    assert_int_equal(tlsv_rsa_decrypt_premaster(k.priv, junk, sizeof junk, 0x0303, out), 0);
    assert_int_equal(tlsv_rsa_encrypt_pkcs1(k.pub_spki, pms, 48, ct, sizeof ct, &ct_len), 0);
    ct[100] ^= 0x40;
    assert_int_equal(tlsv_rsa_decrypt_premaster(k.priv, ct, ct_len, 0x0303, out), 0);
    assert_memory_not_equal(out, pms, 48);

    /* no RSA private key: the only error */
    assert_true(tlsv_rsa_decrypt_premaster(k.pub_spki, ct, ct_len, 0x0303, out) < 0);
    free_key(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_and_utilities),
        cmocka_unit_test(test_hash_kat),
        cmocka_unit_test(test_transcript_copy),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_hkdf_rfc5869),
        cmocka_unit_test(test_key_schedule_rfc8448),
        cmocka_unit_test(test_aes_gcm_kat),
        cmocka_unit_test(test_chacha20_poly1305_rfc8439),
        cmocka_unit_test(test_aead_rejects_tampering),
        cmocka_unit_test(test_aead_many_records),
        cmocka_unit_test(test_aes_cbc_kat),
        cmocka_unit_test(test_x25519_rfc7748),
        cmocka_unit_test(test_ecdh_p256_rfc5903),
        cmocka_unit_test(test_kex_roundtrip_and_invalid_points),
        cmocka_unit_test(test_signatures_every_scheme),
        cmocka_unit_test(test_rsa_pss_key_size_limit),
        cmocka_unit_test(test_ed25519_rfc8032),
        cmocka_unit_test(test_rsa_md5_sha1),
        cmocka_unit_test(test_key_loading_errors),
        cmocka_unit_test(test_threads_share_keys),
        cmocka_unit_test(test_rsa_premaster_countermeasure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
