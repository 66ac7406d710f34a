/*
 * test_generated_cert.c -- tlsv_ctx_use_generated_certificate(): the
 * throw-away self-signed ECDSA P-256 certificate of `tlsv demo`.
 *
 * A client that trusts nothing but does not verify (CERT_NONE) handshakes
 * with it in memory for every version; the chain has one certificate with
 * the documented names, key and validity; a second call replaces the pair;
 * pinned (trusted as its own anchor) it verifies for its names and only
 * those; bad names are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "context.h"
#include "tlsv.h"
#include "x509.h"

static size_t move(tlsv_conn *from, tlsv_conn *to)
{
    uint8_t buf[4096];
    size_t total = 0, n;
    while ((n = tlsv_conn_take_output(from, buf, sizeof buf)) > 0) {
        assert_int_equal(tlsv_conn_feed(to, buf, n), 0);
        total += n;
    }
    return total;
}

/* 0 when both sides finish; 1 if the client failed, 2 if the server did. */
static int run_handshake(tlsv_conn *c, tlsv_conn *s)
{
    for (int round = 0; round < 100; round++) {
        int rc = tlsv_conn_handshake(c);
        int rs = tlsv_conn_handshake(s);
        size_t moved = move(c, s) + move(s, c);
        if (rc == 0 && rs == 0)
            return 0;
        if (rc == -1 || rs == -1) {
            tlsv_conn_handshake(rc == -1 ? s : c);
            return rc == -1 ? 1 : 2;
        }
        if (!moved)
            fail_msg("handshake stalled: client %d, server %d", rc, rs);
    }
    fail_msg("handshake did not finish");
    return -1;
}

/* A client context that trusts nothing and does not verify. */
static tlsv_ctx *unverifying_client(int min, int max)
{
    tlsv_ctx *cc = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL);
    assert_non_null(cc);
    assert_int_equal(tlsv_ctx_set_check_hostname(cc, 0), 0);
    assert_int_equal(tlsv_ctx_set_verify_mode(cc, TLSV_CERT_NONE), 0);
    if (min)
        assert_int_equal(tlsv_ctx_set_minimum_version(cc, min), 0);
    if (max)
        assert_int_equal(tlsv_ctx_set_maximum_version(cc, max), 0);
    return cc;
}

/* A server context with a freshly generated certificate. */
static tlsv_ctx *generated_server(int protocol, const char *cn)
{
    tlsv_ctx *sc = tlsv_ctx_new(protocol, NULL);
    assert_non_null(sc);
    if (protocol == TLSV_PROTOCOL_TLS_SERVER)
        assert_int_equal(tlsv_ctx_set_minimum_version(sc, TLSV_VERSION_TLSv1), 0);
    int rc = tlsv_ctx_use_generated_certificate(sc, cn);
    if (rc != 0)
        fail_msg("use_generated_certificate: %s", tlsv_ctx_last_error(sc)->message);
    return sc;
}

/* Handshakes cc with sc; on success copies the leaf the client received
 * (DER, malloc'ed) to *leaf if leaf is not NULL. Returns run_handshake's
 * result; the failing side's reason goes to *reason. */
static int handshake(tlsv_ctx *cc, tlsv_ctx *sc, const char *host, int *version,
                     const char **cipher_out, uint8_t **leaf, size_t *leaf_len,
                     tlsv_reason *reason)
{
    tlsv_conn *c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, host, NULL);
    tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, NULL);
    assert_non_null(c);
    assert_non_null(s);
    int r = run_handshake(c, s);
    if (reason)
        *reason = r == 0 ? TLSV_R_OK : tlsv_conn_last_error(r == 1 ? c : s)->reason;
    if (r == 0) {
        if (version)
            *version = tlsv_conn_version_number(c);
        if (cipher_out) {
            static char cipher[80];
            snprintf(cipher, sizeof cipher, "%s", tlsv_conn_cipher(c));
            *cipher_out = cipher;
        }
        assert_int_equal(tlsv_conn_peer_cert_count(c), 1);
        if (leaf) {
            size_t len = 0;
            const uint8_t *der = tlsv_conn_peer_cert_der(c, 0, &len);
            assert_non_null(der);
            *leaf = malloc(len);
            assert_non_null(*leaf);
            memcpy(*leaf, der, len);
            *leaf_len = len;
        }
        /* application data both ways */
        char buf[16];
        assert_int_equal(tlsv_conn_write(c, "ping", 4), 4);
        move(c, s);
        assert_int_equal(tlsv_conn_read(s, buf, sizeof buf), 4);
        assert_int_equal(tlsv_conn_write(s, "pong", 4), 4);
        move(s, c);
        assert_int_equal(tlsv_conn_read(c, buf, sizeof buf), 4);
        assert_memory_equal(buf, "pong", 4);
    }
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    return r;
}

static void test_handshake_without_verification(void **state)
{
    (void)state;
    static const struct {
        int server_protocol, min, max, version;
        const char *cipher; /* NULL: any */
    } cases[] = {
        {TLSV_PROTOCOL_TLS_SERVER, 0, 0, TLSV_VERSION_TLSv1_3, NULL},
        {TLSV_PROTOCOL_TLS_SERVER, 0, TLSV_VERSION_TLSv1_2, TLSV_VERSION_TLSv1_2,
         "ECDHE-ECDSA-AES128-GCM-SHA256"},
        {TLSV_PROTOCOL_TLS_SERVER, TLSV_VERSION_TLSv1, TLSV_VERSION_TLSv1_1,
         TLSV_VERSION_TLSv1_1, NULL},
        {TLSV_PROTOCOL_TLSv1, TLSV_VERSION_TLSv1, TLSV_VERSION_TLSv1, TLSV_VERSION_TLSv1,
         "ECDHE-ECDSA-AES128-SHA"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tlsv_ctx *sc = generated_server(cases[i].server_protocol, "localhost");
        tlsv_ctx *cc = unverifying_client(cases[i].min, cases[i].max);
        int version = 0;
        const char *cipher = NULL;
        tlsv_reason reason;
        int r = handshake(cc, sc, "localhost", &version, &cipher, NULL, NULL, &reason);
        if (r != 0)
            fail_msg("case %zu: %s failed: %s", i, r == 1 ? "client" : "server",
                     tlsv_reason_name(reason));
        assert_int_equal(version, cases[i].version);
        if (cases[i].cipher)
            assert_string_equal(cipher, cases[i].cipher);
        else if (version < TLSV_VERSION_TLSv1_3)
            assert_non_null(strstr(cipher, "ECDSA")); /* an ECDSA certificate */
        tlsv_ctx_free(cc);
        tlsv_ctx_free(sc);
    }
}

static void test_certificate_contents(void **state)
{
    (void)state;
    tlsv_ctx *sc = generated_server(TLSV_PROTOCOL_TLS_SERVER, "demo.test");
    /* the context holds one certificate and a key that signs for it */
    assert_non_null(sc->chain);
    assert_non_null(sc->key);
    assert_int_equal(tlsv_x509_chain_count(sc->chain), 1);
    int bits = 0;
    assert_int_equal(tlsv_x509_chain_leaf_key_type(sc->chain, &bits), TLSV_X509_KEY_EC_P256);
    assert_int_equal(bits, 256);
    char subject[128];
    tlsv_x509_chain_subject(sc->chain, 0, subject, sizeof subject);
    assert_string_equal(subject, "CN=demo.test");
    /* names: DNS:demo.test and IP:127.0.0.1, nothing else */
    tlsv_error err;
    assert_int_equal(tlsv_x509_check_name(sc->chain, "demo.test", &err), 0);
    assert_int_equal(tlsv_x509_check_name(sc->chain, "127.0.0.1", &err), 0);
    assert_int_equal(tlsv_x509_check_name(sc->chain, "localhost", &err), -1);
    assert_int_equal(tlsv_x509_check_name(sc->chain, "127.0.0.2", &err), -1);

    /* validity: from about an hour ago for one day; self-signed */
    size_t len = 0;
    const uint8_t *der = tlsv_x509_chain_der(sc->chain, 0, &len);
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    assert_non_null(x);
    time_t now = time(NULL);
    time_t before = now - 3600 + 120, after = now - 3600 - 120;
    assert_true(X509_cmp_time(X509_get0_notBefore(x), &before) < 0);
    assert_true(X509_cmp_time(X509_get0_notBefore(x), &after) > 0);
    time_t end_lo = now + 23 * 3600 - 120, end_hi = now + 23 * 3600 + 120;
    assert_true(X509_cmp_time(X509_get0_notAfter(x), &end_lo) > 0);
    assert_true(X509_cmp_time(X509_get0_notAfter(x), &end_hi) < 0);
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
    assert_int_equal(X509_verify(x, X509_get0_pubkey(x)), 1);
    assert_int_equal(X509_get_version(x), 2); /* v3 */
    X509_free(x);
    tlsv_ctx_free(sc);
}

static void test_second_call_replaces(void **state)
{
    (void)state;
    tlsv_ctx *sc = generated_server(TLSV_PROTOCOL_TLS_SERVER, "first.test");
    size_t len1 = 0;
    const uint8_t *d1 = tlsv_x509_chain_der(sc->chain, 0, &len1);
    uint8_t *first = malloc(len1);
    assert_non_null(first);
    memcpy(first, d1, len1);
    assert_int_equal(tlsv_ctx_use_generated_certificate(sc, "second.test"), 0);
    assert_int_equal(tlsv_x509_chain_count(sc->chain), 1);
    char subject[128];
    tlsv_x509_chain_subject(sc->chain, 0, subject, sizeof subject);
    assert_string_equal(subject, "CN=second.test");
    size_t len2 = 0;
    const uint8_t *d2 = tlsv_x509_chain_der(sc->chain, 0, &len2);
    assert_false(len1 == len2 && memcmp(first, d2, len1) == 0);

    /* a handshake presents the second certificate, and only it */
    tlsv_ctx *cc = unverifying_client(0, 0);
    uint8_t *leaf = NULL;
    size_t leaf_len = 0;
    assert_int_equal(handshake(cc, sc, "second.test", NULL, NULL, &leaf, &leaf_len, NULL), 0);
    assert_int_equal(leaf_len, len2);
    assert_memory_equal(leaf, d2, len2);
    free(leaf);

    /* a third time, with the default name (NULL: "localhost") */
    assert_int_equal(tlsv_ctx_use_generated_certificate(sc, NULL), 0);
    tlsv_x509_chain_subject(sc->chain, 0, subject, sizeof subject);
    assert_string_equal(subject, "CN=localhost");
    assert_int_equal(tlsv_x509_chain_count(sc->chain), 1);
    free(first);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

/* Pinned -- the client trusts the generated certificate itself -- it
 * verifies for its names; unpinned, a verifying client refuses it. */
static void test_pinned_and_unpinned(void **state)
{
    (void)state;
    tlsv_ctx *sc = generated_server(TLSV_PROTOCOL_TLS_SERVER, "localhost");

    tlsv_ctx *strict = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL); /* CERT_REQUIRED */
    tlsv_reason reason = TLSV_R_OK;
    assert_int_equal(handshake(strict, sc, "localhost", NULL, NULL, NULL, NULL, &reason), 1);
    assert_int_equal(reason, TLSV_R_CERTIFICATE_VERIFY_FAILED);

    char path[] = "/tmp/tlsv-gencert-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    size_t len = 0;
    const uint8_t *der = tlsv_x509_chain_der(sc->chain, 0, &len);
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    assert_non_null(x);
    assert_int_equal(PEM_write_X509(f, x), 1);
    X509_free(x);
    fclose(f);
    assert_int_equal(tlsv_ctx_load_verify_locations(strict, path, NULL), 0);
    unlink(path);

    assert_int_equal(handshake(strict, sc, "localhost", NULL, NULL, NULL, NULL, &reason), 0);
    assert_int_equal(handshake(strict, sc, "127.0.0.1", NULL, NULL, NULL, NULL, &reason), 0);
    assert_int_equal(handshake(strict, sc, "example.com", NULL, NULL, NULL, NULL, &reason), 1);
    assert_int_equal(reason, TLSV_R_CERTIFICATE_VERIFY_FAILED);
    tlsv_ctx_free(strict);
    tlsv_ctx_free(sc);
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(tlsv_ctx_use_generated_certificate(NULL, "localhost"), -1);
    tlsv_ctx *sc = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, NULL);
    assert_non_null(sc);
    static const char *const bad[] = {"", "a b", "x,DNS:evil", "caf\xc3\xa9",
                                      "a-name-that-is-longer-than-sixty-four-characters-"
                                      "which-the-cn-forbids"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tlsv_ctx_use_generated_certificate(sc, bad[i]), -1);
        assert_int_equal(tlsv_ctx_last_error(sc)->reason, TLSV_R_INVALID_ARGUMENT);
        assert_null(sc->chain);
        assert_null(sc->key);
    }
    /* an IP literal becomes an IP subjectAltName (with 127.0.0.1) */
    assert_int_equal(tlsv_ctx_use_generated_certificate(sc, "192.0.2.7"), 0);
    tlsv_error err;
    assert_int_equal(tlsv_x509_check_name(sc->chain, "192.0.2.7", &err), 0);
    assert_int_equal(tlsv_x509_check_name(sc->chain, "127.0.0.1", &err), 0);
    assert_int_equal(tlsv_ctx_use_generated_certificate(sc, "::1"), 0);
    assert_int_equal(tlsv_x509_check_name(sc->chain, "::1", &err), 0);
    /* a failure leaves the installed pair alone */
    assert_int_equal(tlsv_ctx_use_generated_certificate(sc, "bad name"), -1);
    assert_int_equal(tlsv_x509_check_name(sc->chain, "::1", &err), 0);
    /* a client context can hold one too (client certificates) */
    tlsv_ctx *cc = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL);
    assert_int_equal(tlsv_ctx_use_generated_certificate(cc, "client.test"), 0);
    assert_int_equal(tlsv_x509_chain_count(cc->chain), 1);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_without_verification),
        cmocka_unit_test(test_certificate_contents),
        cmocka_unit_test(test_second_call_replaces),
        cmocka_unit_test(test_pinned_and_unpinned),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
