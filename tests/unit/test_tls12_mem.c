/*
 * test_tls12_mem.c -- TLS 1.0-1.2 (and SSL 3.0 in a build with it) client
 * <-> server in memory, through the public API: every version x suite x
 * key type, extended master secret and encrypt-then-MAC, downgrade
 * sentinels, fallback SCSV, client certificates, the SSLv2-compatible
 * hello, 1/n-1 splitting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testpki.h"
#include "tlsv.h"

static char ec_leaf[512], rsa_leaf[512], client_leaf[512];

static int setup(void **state)
{
    (void)state;
    if (testpki_init() != 0)
        return -1;
    testpki_leaf("server-ec", TESTPKI_EC256, "DNS:localhost", ec_leaf, sizeof ec_leaf);
    testpki_leaf("server-rsa", TESTPKI_RSA2048, "DNS:localhost", rsa_leaf, sizeof rsa_leaf);
    testpki_leaf("client", TESTPKI_RSA2048, "DNS:client.test", client_leaf, sizeof client_leaf);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testpki_cleanup();
    return 0;
}

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

static void roundtrip(tlsv_conn *a, tlsv_conn *b, size_t size)
{
    uint8_t *out = malloc(size), *in = malloc(size);
    for (size_t i = 0; i < size; i++)
        out[i] = (uint8_t)(i * 13 + 1);
    assert_int_equal(tlsv_conn_write(a, out, size), (long)size);
    move(a, b);
    size_t got = 0;
    while (got < size) {
        long n = tlsv_conn_read(b, in + got, size - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_memory_equal(in, out, size);
    free(out);
    free(in);
}

/* One connection: client protocol/bounds and server protocol/bounds as
 * version values (0x0301..0x0304), a TLS <= 1.2 suite for the server (or
 * NULL), the server's certificate. Returns the negotiated version. */
static int connect_pair(int client_proto, int cmin, int cmax, int server_proto, int smin,
                        int smax, const char *server_suites, const char *leaf,
                        const char *expect_cipher)
{
    tlsv_ctx *cc = tlsv_ctx_new(client_proto, NULL), *sc = tlsv_ctx_new(server_proto, NULL);
    assert_non_null(cc);
    assert_non_null(sc);
    if (client_proto == TLSV_PROTOCOL_TLS_CLIENT) {
        tlsv_ctx_set_check_hostname(cc, 0);
        if (cmin)
            tlsv_ctx_set_minimum_version(cc, cmin);
        if (cmax)
            tlsv_ctx_set_maximum_version(cc, cmax);
    }
    if (tlsv_ctx_get_verify_mode(cc) != TLSV_CERT_NONE)
        tlsv_ctx_set_verify_mode(cc, TLSV_CERT_NONE);
    tlsv_ctx_load_verify_locations(cc, testpki_ca_path(), NULL);
    tlsv_ctx_set_verify_mode(cc, TLSV_CERT_REQUIRED);
    if (smin)
        tlsv_ctx_set_minimum_version(sc, smin);
    if (smax)
        tlsv_ctx_set_maximum_version(sc, smax);
    assert_int_equal(tlsv_ctx_load_cert_chain(sc, leaf, NULL), 0);
    if (server_suites)
        assert_int_equal(tlsv_ctx_set_ciphers(sc, server_suites), 0);
    tlsv_conn *c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, "localhost", NULL);
    tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, NULL);
    int r = run_handshake(c, s);
    if (r != 0) {
        char b[400];
        tlsv_error_format(tlsv_conn_last_error(r == 1 ? c : s), b, sizeof b);
        fail_msg("%s failed: %s", r == 1 ? "client" : "server", b);
    }
    int v = tlsv_conn_version_number(c);
    assert_int_equal(v, tlsv_conn_version_number(s));
    if (expect_cipher) {
        assert_string_equal(tlsv_conn_cipher(c), expect_cipher);
        assert_string_equal(tlsv_conn_cipher(s), expect_cipher);
    }
    roundtrip(c, s, 100);
    roundtrip(s, c, 70000);
    roundtrip(c, s, 1);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
    return v;
}

static void test_versions_and_suites(void **state)
{
    (void)state;
    static const struct {
        const char *suite;
        const char *leaf_kind;
        int versions; /* bit 0: 1.0, 1: 1.1, 2: 1.2 */
    } rows[] = {
        {"ECDHE-ECDSA-AES128-GCM-SHA256", "ec", 4},  {"ECDHE-ECDSA-AES256-GCM-SHA384", "ec", 4},
        {"ECDHE-ECDSA-CHACHA20-POLY1305", "ec", 4},  {"ECDHE-RSA-AES128-GCM-SHA256", "rsa", 4},
        {"ECDHE-RSA-AES256-GCM-SHA384", "rsa", 4},   {"ECDHE-RSA-CHACHA20-POLY1305", "rsa", 4},
        {"ECDHE-ECDSA-AES128-SHA256", "ec", 4},      {"ECDHE-RSA-AES256-SHA384", "rsa", 4},
        {"ECDHE-ECDSA-AES128-SHA", "ec", 7},         {"ECDHE-ECDSA-AES256-SHA", "ec", 7},
        {"ECDHE-RSA-AES128-SHA", "rsa", 7},          {"ECDHE-RSA-AES256-SHA", "rsa", 7},
        {"AES128-GCM-SHA256", "rsa", 4},             {"AES256-GCM-SHA384", "rsa", 4},
        {"AES128-SHA256", "rsa", 4},                 {"AES128-SHA", "rsa", 7},
        {"AES256-SHA", "rsa", 7},
    };
    static const int fixed[3] = {TLSV_PROTOCOL_TLSv1, TLSV_PROTOCOL_TLSv1_1,
                                 TLSV_PROTOCOL_TLSv1_2};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        for (int v = 0; v < 3; v++) {
            if (!(rows[i].versions & (1 << v)))
                continue;
            const char *leaf = strcmp(rows[i].leaf_kind, "ec") == 0 ? ec_leaf : rsa_leaf;
            /* a fixed-version client against an auto server with a lowered floor */
            int got = connect_pair(fixed[v], 0, 0, TLSV_PROTOCOL_TLS_SERVER, TLSV_VERSION_TLSv1, 0,
                                   rows[i].suite, leaf, rows[i].suite);
            assert_int_equal(got, 0x0301 + v);
            /* and an auto client with bounds against a fixed server */
            got = connect_pair(TLSV_PROTOCOL_TLS_CLIENT, TLSV_VERSION_TLSv1, 0x0301 + v, fixed[v],
                               0, 0, rows[i].suite, leaf, rows[i].suite);
            assert_int_equal(got, 0x0301 + v);
        }
}

/* A client that offers TLS 1.3 and lands on TLS 1.2 with RSA key exchange:
 * the premaster secret carries ClientHello.client_version (0x0303, the
 * legacy_version), not TLS 1.3 (RFC 5246 §7.4.7.1, RFC 8446 §4.1.2); a
 * server checking it (tlsv, Go, BoringSSL) otherwise fails the Finished.
 * Found by BoGo's Resume-Client-CipherMismatch and TLS-*-RSA_* tests. */
static void test_rsa_premaster_version_with_tls13_offered(void **state)
{
    (void)state;
    static const char *const suites[] = {"AES128-GCM-SHA256", "AES128-SHA"};
    for (size_t i = 0; i < 2; i++) {
        int got = connect_pair(TLSV_PROTOCOL_TLS_CLIENT, TLSV_VERSION_TLSv1, 0,
                               TLSV_PROTOCOL_TLS_SERVER, 0, TLSV_VERSION_TLSv1_2, suites[i],
                               rsa_leaf, suites[i]);
        assert_int_equal(got, TLSV_VERSION_TLSv1_2);
    }
}

static void test_sentinel_and_fallback(void **state)
{
    (void)state;
    /* a capped client meets a TLS 1.3 server: DOWNGRD\x01 is written, and a
     * client that does not do 1.3 accepts it */
    int v = connect_pair(TLSV_PROTOCOL_TLS_CLIENT, 0, TLSV_VERSION_TLSv1_2,
                         TLSV_PROTOCOL_TLS_SERVER, 0, 0, NULL, ec_leaf, NULL);
    assert_int_equal(v, TLSV_VERSION_TLSv1_2);

    /* fallback SCSV at a server that could do better */
    tlsv_ctx *cc = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL),
             *sc = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, NULL);
    tlsv_ctx_set_check_hostname(cc, 0);
    tlsv_ctx_set_verify_mode(cc, TLSV_CERT_NONE);
    tlsv_ctx_set_maximum_version(cc, TLSV_VERSION_TLSv1_2);
    tlsv_ctx_load_cert_chain(sc, ec_leaf, NULL);
    tlsv_conn *c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, "localhost", NULL);
    tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, NULL);
    assert_int_equal(tlsv_conn_set_fallback_scsv(c, 1), 0);
    assert_int_equal(run_handshake(c, s), 2);
    assert_int_equal(tlsv_conn_last_error(s)->reason, TLSV_R_INAPPROPRIATE_FALLBACK);
    assert_int_equal(tlsv_conn_last_error(c)->reason, TLSV_R_TLSV1_ALERT_INAPPROPRIATE_FALLBACK);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    /* ... and at a server whose maximum is 1.2: fine */
    tlsv_ctx_set_maximum_version(sc, TLSV_VERSION_TLSv1_2);
    c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, "localhost", NULL);
    s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, NULL);
    tlsv_conn_set_fallback_scsv(c, 1);
    assert_int_equal(run_handshake(c, s), 0);
    assert_string_equal(tlsv_conn_version(c), "TLSv1.2");
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_client_auth12(void **state)
{
    (void)state;
    for (int v = 0; v < 3; v++) {
        tlsv_ctx *cc = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL),
                 *sc = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, NULL);
        tlsv_ctx_set_check_hostname(cc, 0);
        tlsv_ctx_set_verify_mode(cc, TLSV_CERT_NONE);
        tlsv_ctx_set_minimum_version(cc, TLSV_VERSION_TLSv1);
        tlsv_ctx_set_maximum_version(cc, 0x0301 + v);
        assert_int_equal(tlsv_ctx_load_cert_chain(cc, client_leaf, NULL), 0);
        tlsv_ctx_set_minimum_version(sc, TLSV_VERSION_TLSv1);
        tlsv_ctx_load_cert_chain(sc, ec_leaf, NULL);
        tlsv_ctx_load_verify_locations(sc, testpki_ca_path(), NULL);
        tlsv_ctx_set_verify_mode(sc, TLSV_CERT_REQUIRED);
        tlsv_conn *c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, "localhost", NULL);
        tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, NULL);
        int r = run_handshake(c, s);
        if (r != 0) {
            char b[400];
            tlsv_error_format(tlsv_conn_last_error(r == 1 ? c : s), b, sizeof b);
            fail_msg("TLS 1.%d client auth: %s", v, b);
        }
        assert_int_equal(tlsv_conn_peer_cert_count(s), 1);
        roundtrip(c, s, 10);
        tlsv_conn_free(c);
        tlsv_conn_free(s);
        tlsv_ctx_free(cc);
        tlsv_ctx_free(sc);
    }
}

static void test_sslv2_hello(void **state)
{
    (void)state;
    tlsv_ctx *sc = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, NULL);
    tlsv_ctx_set_minimum_version(sc, TLSV_VERSION_TLSv1);
    tlsv_ctx_load_cert_chain(sc, rsa_leaf, NULL);
    /* an SSLv2-compatible CLIENT-HELLO offering TLS 1.2, ECDHE-RSA-AES128-SHA
     * and AES128-SHA */
    static const uint8_t v2[] = {
        0x80, 0x2f,             /* record: 47 bytes */
        0x01, 0x03, 0x03,       /* CLIENT-HELLO, version 3.3 */
        0x00, 0x06,             /* cipher specs: 6 bytes */
        0x00, 0x00,             /* session id: 0 */
        0x00, 0x20,             /* challenge: 32 */
        0x00, 0xc0, 0x13, 0x00, 0x00, 0x2f, /* ECDHE-RSA-AES128-SHA, AES128-SHA */
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, NULL);
    assert_int_equal(tlsv_conn_feed(s, v2, sizeof v2), 0);
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    uint8_t out[8192];
    size_t n = tlsv_conn_take_output(s, out, sizeof out);
    assert_true(n > 50);
    assert_int_equal(out[0], 22);   /* a handshake record */
    assert_int_equal(out[5], 2);    /* ServerHello */
    assert_int_equal(out[9], 0x03); /* version 3.3 */
    assert_int_equal(out[10], 0x03);
    tlsv_conn_free(s);
    /* a real SSL 2.0 hello (version 0.2): refused cleanly */
    uint8_t real2[sizeof v2];
    memcpy(real2, v2, sizeof v2);
    real2[3] = 0x00;
    real2[4] = 0x02;
    s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, NULL);
    tlsv_conn_feed(s, real2, sizeof real2);
    assert_int_equal(tlsv_conn_handshake(s), -1);
    assert_int_equal(tlsv_conn_last_error(s)->reason, TLSV_R_UNSUPPORTED_PROTOCOL);
    tlsv_conn_free(s);
    tlsv_ctx_free(sc);
}

static void test_ssl3(void **state)
{
    (void)state;
    if (!tlsv_has_ssl3()) {
        tlsv_error err;
        assert_null(tlsv_ctx_new(TLSV_PROTOCOL_SSLv3, &err));
        assert_int_equal(err.reason, TLSV_R_SSLV3_NOT_COMPILED_IN);
        return;
    }
    int v = connect_pair(TLSV_PROTOCOL_SSLv3, 0, 0, TLSV_PROTOCOL_SSLv3, 0, 0, "AES128-SHA",
                         rsa_leaf, "AES128-SHA");
    assert_int_equal(v, TLSV_VERSION_SSLv3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_and_suites),
        cmocka_unit_test(test_sentinel_and_fallback),
        cmocka_unit_test(test_rsa_premaster_version_with_tls13_offered),
        cmocka_unit_test(test_client_auth12),
        cmocka_unit_test(test_sslv2_hello),
        cmocka_unit_test(test_ssl3),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
