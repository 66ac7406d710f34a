/*
 * fuzz_certs.c -- libFuzzer target for certificate and key loading
 * (src/x509.c, src/context.c, the key loaders of src/crypto/openssl.c).
 *
 * Input: [mode] [rest]; mode % 8 picks:
 *   0  tlsv_ctx_load_cert_chain(certfile) on rest written to a file (PEM
 *      chain with its key in the same file, or anything else)
 *   1  rest = [len u16][cert part][key part]: cert file + key file
 *   2  tlsv_ctx_load_verify_locations(cafile) on rest written to a file
 *   3  rest = one DER certificate: tlsv_x509_chain_append_der, then every
 *      accessor of the chain, the name check and verification against a
 *      store holding the fixed certificates of fuzz/data
 *   4  rest = a Certificate message body (TLS 1.2 and TLS 1.3 forms):
 *      tlsv_msg_parse_certificate, the peer-chain parse of its DER list
 *      (tlsv_x509_chain_from_der, through the per-context cache too), then
 *      accessors and verification as in 3
 *   5  rest = a key: tlsv_pkey_private_from_pem / _from_der,
 *      tlsv_pkey_public_from_pem / _from_spki, and the key checks
 *   6  rest = PEM in memory: tlsv_x509_chain_load_pem, tlsv_x509_store_add_ca_mem
 *   7  rest = [len u16][cert PEM][key PEM]: load_cert_chain on a server
 *      context, then a whole handshake with it (the loaded key signs)
 * Checked: a failed load leaves an error record with a reason and a
 * message; a loaded chain's accessors agree with each other (count, DER,
 * SPKI inside the DER); nothing leaks (LeakSanitizer).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "engine/msg.h"
#include "fuzz_conf.h"
#include "fuzz_drive.h"
#include "tlsv.h"
#include "x509.h"

#define CHECK FUZZ_CHECK

static char file_a[64], file_b[64];
static tlsv_x509_store *store;
static tlsv_x509_cache *cache;
static tlsv_ctx *client_ctx;

static void init(void)
{
    if (file_a[0])
        return;
    snprintf(file_a, sizeof file_a, "/tmp/tlsv-fuzz-certs-%ld-a", (long)getpid());
    snprintf(file_b, sizeof file_b, "/tmp/tlsv-fuzz-certs-%ld-b", (long)getpid());
    tlsv_error err;
    store = tlsv_x509_store_new(&err);
    CHECK(store);
    CHECK(tlsv_x509_store_add_ca_file(store, FUZZ_PEM("ed25519"), &err) == 0);
    CHECK(tlsv_x509_store_add_ca_file(store, FUZZ_PEM("rsa"), &err) == 0);
    CHECK(tlsv_x509_store_add_ca_file(store, FUZZ_PEM("ec"), &err) == 0);
    cache = tlsv_x509_cache_new();
    CHECK(cache);
    client_ctx = fuzz_client_ctx(FC_ALL);
}

static void put_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f);
    CHECK(n == 0 || fwrite(p, 1, n, f) == n);
    CHECK(fclose(f) == 0);
}

static void err_ok(const tlsv_error *e)
{
    CHECK(e->reason != TLSV_R_OK);
    CHECK(e->message[0] != '\0');
    CHECK(memchr(e->message, '\0', sizeof e->message) != NULL);
}

static void ctx_failed(tlsv_ctx *ctx)
{
    const tlsv_error *e = tlsv_ctx_last_error(ctx);
    CHECK(e);
    err_ok(e);
}

/* Every accessor of a chain, and verification. */
static void walk_chain(const tlsv_x509_chain *chain)
{
    size_t n = tlsv_x509_chain_count(chain);
    for (size_t i = 0; i <= n; i++) {
        size_t len = 7;
        const uint8_t *der = tlsv_x509_chain_der(chain, i, &len);
        if (i == n)
            CHECK(der == NULL && len == 0);
        else
            CHECK(der != NULL && len > 0);
        char small[8], big[512];
        size_t need = tlsv_x509_chain_subject(chain, i, small, sizeof small);
        size_t need2 = tlsv_x509_chain_subject(chain, i, big, sizeof big);
        CHECK(need == need2);
        CHECK(memchr(small, '\0', sizeof small) != NULL);
        (void)tlsv_x509_chain_subject(chain, i, NULL, 0);
    }
    size_t spki_len = 0;
    const uint8_t *spki = tlsv_x509_chain_leaf_spki(chain, &spki_len);
    if (n == 0) {
        CHECK(spki == NULL && spki_len == 0);
    }
    int bits = -1;
    tlsv_x509_key_type kt = tlsv_x509_chain_leaf_key_type(chain, &bits);
    CHECK(tlsv_x509_key_type_name(kt) != NULL);
    if (spki) {
        /* the SPKI lies inside the leaf's DER, and matches the leaf when
         * libcrypto can read the key at all */
        size_t leaf_len;
        const uint8_t *leaf = tlsv_x509_chain_der(chain, 0, &leaf_len);
        CHECK(leaf && spki_len <= leaf_len);
        tlsv_error err;
        int rc = tlsv_x509_chain_leaf_matches_spki(chain, spki, spki_len, &err);
        if (kt != TLSV_X509_KEY_UNSUPPORTED)
            CHECK(rc == 0);
        else if (rc != 0)
            err_ok(&err);
    }
    struct tlsv_pkey *key = tlsv_x509_chain_leaf_key(chain);
    if (key) {
        (void)tlsv_pkey_get_type(key);
        (void)tlsv_pkey_bits(key);
        CHECK(!tlsv_pkey_has_private(key));
        tlsv_pkey_free(key);
    }
    if (n == 0)
        return;
    tlsv_error err;
    tlsv_x509_verify_result r;
    int rc = tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "localhost", &r, &err);
    if (rc != 0) {
        err_ok(&err);
        CHECK(tlsv_x509_verify_code_string(r.code) != NULL);
    }
    rc = tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_CLIENT_AUTH, NULL, &r, &err);
    if (rc != 0)
        err_ok(&err);
    rc = tlsv_x509_check_name(chain, "127.0.0.1", &err);
    if (rc != 0)
        err_ok(&err);
    rc = tlsv_x509_check_name(chain, "www.example.com", &err);
    if (rc != 0)
        err_ok(&err);
}

static void mode_der(const uint8_t *p, size_t n)
{
    tlsv_error err;
    tlsv_x509_chain *chain = tlsv_x509_chain_new(&err);
    CHECK(chain);
    if (tlsv_x509_chain_append_der(chain, p, n, &err) != 0) {
        err_ok(&err);
        CHECK(tlsv_x509_chain_count(chain) == 0);
    } else {
        CHECK(tlsv_x509_chain_count(chain) == 1);
        size_t len;
        const uint8_t *der = tlsv_x509_chain_der(chain, 0, &len);
        CHECK(len == n && memcmp(der, p, n) == 0);
        /* a second copy: a two-certificate chain */
        if (tlsv_x509_chain_append_der(chain, p, n, &err) == 0)
            CHECK(tlsv_x509_chain_count(chain) == 2);
    }
    walk_chain(chain);
    tlsv_x509_chain *ref = tlsv_x509_chain_up_ref(chain);
    CHECK(ref == chain);
    tlsv_x509_chain_free(ref);
    tlsv_x509_chain_free(chain);
}

static void mode_message(const uint8_t *p, size_t n)
{
    static const uint16_t versions[] = {0x0303, 0x0304};
    for (size_t v = 0; v < 2; v++) {
        tlsv_certificate cert;
        tlsv_error err;
        if (tlsv_msg_parse_certificate(p, n, versions[v], &cert, &err) != 0) {
            err_ok(&err);
            continue;
        }
        tlsv_x509_der ders[TLSV_MSG_MAX_CERTS];
        CHECK(cert.n <= TLSV_MSG_MAX_CERTS);
        for (size_t i = 0; i < cert.n; i++) {
            ders[i].data = cert.entries[i].data.p;
            ders[i].len = cert.entries[i].data.n;
        }
        tlsv_x509_chain *chain = tlsv_x509_cache_get(cache, ders, cert.n);
        if (!chain) {
            chain = tlsv_x509_chain_from_der(ders, cert.n, &err);
            if (!chain) {
                err_ok(&err);
                continue;
            }
            tlsv_x509_cache_put(cache, chain);
        }
        CHECK(tlsv_x509_chain_count(chain) == cert.n);
        for (size_t i = 0; i < cert.n; i++) {
            size_t len;
            const uint8_t *der = tlsv_x509_chain_der(chain, i, &len);
            CHECK(len == ders[i].len && memcmp(der, ders[i].data, len) == 0);
        }
        walk_chain(chain);
        tlsv_x509_chain_free(chain);
    }
}

static void mode_key(const uint8_t *p, size_t n)
{
    int e = 0;
    char *pw = NULL;
    /* a password: the first line, when the input has one */
    const uint8_t *nl = n ? memchr(p, '\n', n < 64 ? n : 64) : NULL;
    if (nl) {
        size_t pl = (size_t)(nl - p); /* (no strndup: p is not a C string) */
        pw = malloc(pl + 1);
        CHECK(pw);
        memcpy(pw, p, pl);
        pw[pl] = '\0';
    }
    tlsv_pkey *keys[4];
    keys[0] = tlsv_pkey_private_from_pem(p, n, pw, &e);
    keys[1] = tlsv_pkey_private_from_der(p, n, &e);
    keys[2] = tlsv_pkey_public_from_pem(p, n, &e);
    keys[3] = tlsv_pkey_public_from_spki(p, n, &e);
    free(pw);
    static const uint16_t schemes[] = {TLSV_SIG_RSA_PKCS1_SHA256, TLSV_SIG_ECDSA_SECP256R1_SHA256,
                                       TLSV_SIG_RSA_PSS_RSAE_SHA256, TLSV_SIG_ED25519,
                                       TLSV_SIG_RSA_PSS_PSS_SHA256, TLSV_SIG_ECDSA_SHA1,
                                       TLSV_SIG_RSA_PKCS1_MD5_SHA1, TLSV_SIG_ED448};
    for (int k = 0; k < 4; k++) {
        tlsv_pkey *key = keys[k];
        if (!key)
            continue;
        CHECK(k >= 2 ? !tlsv_pkey_has_private(key) : tlsv_pkey_has_private(key));
        (void)tlsv_pkey_get_type(key);
        (void)tlsv_pkey_group(key);
        (void)tlsv_pkey_bits(key);
        size_t max = tlsv_pkey_sig_max_len(key);
        for (size_t s = 0; s < sizeof schemes / sizeof schemes[0]; s++) {
            int ok = tlsv_sig_key_supports(key, schemes[s], k < 2 ? TLSV_SIG_SIGN : 0);
            (void)tlsv_sig_key_supports(key, schemes[s], TLSV_SIG_TLS13);
            if (ok && k < 2 && max <= 1024) {
                uint8_t sig[1024];
                size_t sl = 0;
                static const uint8_t msg[] = "fuzz";
                if (tlsv_sign(key, schemes[s], msg, sizeof msg, sig, sizeof sig, &sl) == 0) {
                    CHECK(sl <= max);
                    /* not asserted: a key whose parts disagree (n != p q:
                     * libcrypto does not check on load) signs wrongly */
                    (void)tlsv_verify(key, schemes[s], msg, sizeof msg, sig, sl);
                }
            }
        }
        tlsv_pkey_free(key);
    }
}

static void mode_pem_mem(const uint8_t *p, size_t n)
{
    tlsv_error err;
    tlsv_x509_chain *chain = tlsv_x509_chain_load_pem(p, n, &err);
    if (chain) {
        CHECK(tlsv_x509_chain_count(chain) >= 1);
        walk_chain(chain);
        tlsv_x509_chain_free(chain);
    } else {
        err_ok(&err);
    }
    tlsv_x509_store *s = tlsv_x509_store_new(&err);
    CHECK(s);
    if (tlsv_x509_store_add_ca_mem(s, p, n, &err) != 0)
        err_ok(&err);
    tlsv_x509_store_free(s);
}

static void mode_handshake(tlsv_ctx *server)
{
    tlsv_error err;
    tlsv_conn *c = tlsv_conn_new(client_ctx, TLSV_ROLE_CLIENT, "localhost", &err);
    tlsv_conn *s = tlsv_conn_new(server, TLSV_ROLE_SERVER, NULL, &err);
    CHECK(c && s);
    uint8_t buf[4096];
    for (int round = 0; round < 16; round++) {
        int rc = tlsv_conn_handshake(c);
        int rs = tlsv_conn_handshake(s);
        size_t moved = 0, n;
        while ((n = tlsv_conn_take_output(c, buf, sizeof buf)) > 0) {
            CHECK(tlsv_conn_feed(s, buf, n) == 0);
            moved += n;
        }
        while ((n = tlsv_conn_take_output(s, buf, sizeof buf)) > 0) {
            CHECK(tlsv_conn_feed(c, buf, n) == 0);
            moved += n;
        }
        if ((rc == 0 && rs == 0) || rc == -1 || rs == -1 || !moved)
            break;
    }
    tlsv_conn_free(c);
    tlsv_conn_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    init();
    tlsv_fuzz_reset_random();
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    uint8_t mode = data[0] % 8;
    tlsv_error err;

    if (mode == 0 || mode == 1 || mode == 7) {
        tlsv_ctx *ctx = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, &err);
        CHECK(ctx);
        int rc;
        if (mode == 0) {
            put_file(file_a, p, n);
            rc = tlsv_ctx_load_cert_chain(ctx, file_a, NULL);
        } else {
            size_t split = n >= 2 ? ((size_t)p[0] << 8 | p[1]) : 0;
            const uint8_t *q = n >= 2 ? p + 2 : p;
            size_t m = n >= 2 ? n - 2 : n;
            if (split > m)
                split = m;
            put_file(file_a, q, split);
            put_file(file_b, q + split, m - split);
            rc = tlsv_ctx_load_cert_chain(ctx, file_a, file_b);
        }
        if (rc != 0)
            ctx_failed(ctx);
        else if (mode == 7)
            mode_handshake(ctx);
        tlsv_ctx_free(ctx);
    } else if (mode == 2) {
        tlsv_ctx *ctx = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, &err);
        CHECK(ctx);
        put_file(file_a, p, n);
        if (tlsv_ctx_load_verify_locations(ctx, file_a, NULL) != 0)
            ctx_failed(ctx);
        tlsv_ctx_free(ctx);
    } else if (mode == 3) {
        mode_der(p, n);
    } else if (mode == 4) {
        mode_message(p, n);
    } else if (mode == 5) {
        mode_key(p, n);
    } else {
        mode_pem_mem(p, n);
    }
    return 0;
}
