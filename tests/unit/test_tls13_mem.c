/*
 * test_tls13_mem.c -- TLS 1.3 client <-> server in memory (no sockets):
 * the public API in memory-buffer mode, pumping bytes between two
 * connections. Certificates come from a PKI generated at test time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testpki.h"
#include "tlsv.h"

static char ec_leaf[512], rsa_leaf[512], ed_leaf[512], p384_leaf[512], client_leaf[512],
    other_leaf[512], big_leaf[512], expired_leaf[512];

static int setup(void **state)
{
    (void)state;
    if (testpki_init() != 0)
        return -1;
    testpki_leaf("server-ec", TESTPKI_EC256, "DNS:localhost,IP:127.0.0.1", ec_leaf, sizeof ec_leaf);
    testpki_leaf("server-rsa", TESTPKI_RSA2048, "DNS:localhost", rsa_leaf, sizeof rsa_leaf);
    testpki_leaf("server-ed", TESTPKI_ED25519, "DNS:localhost", ed_leaf, sizeof ed_leaf);
    testpki_leaf("server-p384", TESTPKI_EC384, "DNS:localhost", p384_leaf, sizeof p384_leaf);
    testpki_leaf("client", TESTPKI_EC256, "DNS:client.test", client_leaf, sizeof client_leaf);
    testpki_leaf("other", TESTPKI_EC256, "DNS:other.test", other_leaf, sizeof other_leaf);
    testpki_leaf_expired("expired", TESTPKI_EC256, "DNS:localhost", expired_leaf,
                         sizeof expired_leaf);
    /* a certificate over 2^14 bytes: its handshake message spans records */
    static char san[40000];
    size_t off = (size_t)snprintf(san, sizeof san, "DNS:localhost");
    for (int i = 0; i < 900; i++)
        off += (size_t)snprintf(san + off, sizeof san - off, ",DNS:host%04d.example.com", i);
    testpki_leaf("server-big", TESTPKI_EC256, san, big_leaf, sizeof big_leaf);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testpki_cleanup();
    return 0;
}

static tlsv_ctx *server_ctx(const char *leaf)
{
    tlsv_ctx *s = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, NULL);
    assert_non_null(s);
    assert_int_equal(tlsv_ctx_load_cert_chain(s, leaf, NULL), 0);
    return s;
}

static tlsv_ctx *client_ctx(void)
{
    tlsv_ctx *c = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL);
    assert_non_null(c);
    assert_int_equal(tlsv_ctx_load_verify_locations(c, testpki_ca_path(), NULL), 0);
    return c;
}

/* Moves pending output from one connection to the other, `chunk` bytes at
 * a time (0: all at once). Returns the bytes moved. */
static size_t move(tlsv_conn *from, tlsv_conn *to, size_t chunk)
{
    uint8_t buf[4096];
    size_t total = 0;
    for (;;) {
        size_t cap = chunk && chunk < sizeof buf ? chunk : sizeof buf;
        size_t n = tlsv_conn_take_output(from, buf, cap);
        if (n == 0)
            break;
        assert_int_equal(tlsv_conn_feed(to, buf, n), 0);
        total += n;
    }
    return total;
}

/* Runs both handshakes to completion or failure. Returns 0 if both
 * completed, 1 if the client failed first, 2 if the server did. */
static int run_handshake(tlsv_conn *c, tlsv_conn *s, size_t chunk)
{
    for (int round = 0; round < 10000; round++) {
        int rc = tlsv_conn_handshake(c);
        int rs = tlsv_conn_handshake(s);
        size_t moved = move(c, s, chunk) + move(s, c, chunk);
        if (rc == 0 && rs == 0)
            return 0;
        if (rc == -1 || rs == -1) {
            /* let the alert reach the other side */
            tlsv_conn_handshake(rc == -1 ? s : c);
            return rc == -1 ? 1 : 2;
        }
        if (!moved && rc != 0 && rs != 0)
            fail_msg("handshake stalled: client %d, server %d", rc, rs);
    }
    fail_msg("handshake did not finish");
    return -1;
}

static void pair(tlsv_ctx *cc, tlsv_ctx *sc, const char *name, tlsv_conn **c, tlsv_conn **s)
{
    tlsv_error err;
    *c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, name, &err);
    assert_non_null(*c);
    *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, &err);
    assert_non_null(*s);
}

static void exchange_data(tlsv_conn *c, tlsv_conn *s, size_t size)
{
    uint8_t *out = malloc(size), *in = malloc(size);
    assert_non_null(out);
    assert_non_null(in);
    for (size_t i = 0; i < size; i++)
        out[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(tlsv_conn_write(c, out, size), (long)size);
    move(c, s, 0);
    size_t got = 0;
    while (got < size) {
        long n = tlsv_conn_read(s, in + got, size - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_memory_equal(in, out, size);
    /* and back */
    assert_int_equal(tlsv_conn_write(s, in, size), (long)size);
    move(s, c, 0);
    got = 0;
    memset(out, 0, size);
    while (got < size) {
        long n = tlsv_conn_read(c, out + got, size - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_memory_equal(in, out, size);
    free(out);
    free(in);
}

static void test_basic(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx(ec_leaf);
    tlsv_conn *c, *s;
    pair(cc, sc, "localhost", &c, &s);
    assert_null(tlsv_conn_version(c));
    assert_int_equal(run_handshake(c, s, 0), 0);
    assert_string_equal(tlsv_conn_version(c), "TLSv1.3");
    assert_string_equal(tlsv_conn_version(s), "TLSv1.3");
    assert_string_equal(tlsv_conn_cipher(c), "TLS_AES_128_GCM_SHA256");
    assert_string_equal(tlsv_conn_group(c), "x25519");
    assert_string_equal(tlsv_conn_server_name(s), "localhost");
    assert_int_equal(tlsv_conn_peer_cert_count(c), 1);
    exchange_data(c, s, 100);
    exchange_data(c, s, 1 << 20); /* many records */
    /* close_notify both ways */
    assert_int_equal(tlsv_conn_shutdown(c), 1);
    move(c, s, 0);
    uint8_t b[8];
    assert_int_equal(tlsv_conn_read(s, b, sizeof b), 0);
    assert_int_equal(tlsv_conn_shutdown(s), 0);
    move(s, c, 0);
    assert_int_equal(tlsv_conn_read(c, b, sizeof b), 0);
    assert_int_equal(tlsv_conn_shutdown(c), 0);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_suites_groups_keys(void **state)
{
    (void)state;
    const char *suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                            "TLS_CHACHA20_POLY1305_SHA256"};
    const char *groups[] = {"x25519", "P-256", "P-384", "x448", "P-521"};
    const char *leaves[] = {ec_leaf, rsa_leaf, ed_leaf, p384_leaf};
    for (size_t i = 0; i < 3; i++)
        for (size_t g = 0; g < 5; g++) {
            const char *leaf = leaves[(i + g) % 4];
            tlsv_ctx *cc = client_ctx(), *sc = server_ctx(leaf);
            assert_int_equal(tlsv_ctx_set_ciphersuites(cc, suites[i]), 0);
            assert_int_equal(tlsv_ctx_set_groups(cc, groups[g]), 0);
            tlsv_conn *c, *s;
            pair(cc, sc, "localhost", &c, &s);
            tlsv_ctx_set_groups(sc, "x25519:P-256:P-384:x448:P-521");
            assert_int_equal(run_handshake(c, s, 0), 0);
            assert_string_equal(tlsv_conn_cipher(c), suites[i]);
            assert_string_equal(tlsv_conn_cipher(s), suites[i]);
            assert_string_equal(tlsv_conn_group(s), groups[g]);
            exchange_data(c, s, 3000);
            tlsv_conn_free(c);
            tlsv_conn_free(s);
            tlsv_ctx_free(cc);
            tlsv_ctx_free(sc);
        }
}

static void test_hello_retry_request(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx(ec_leaf);
    assert_int_equal(tlsv_ctx_set_groups(cc, "x25519:P-384"), 0); /* share for x25519 */
    assert_int_equal(tlsv_ctx_set_groups(sc, "P-384"), 0);        /* wants P-384 */
    tlsv_conn *c, *s;
    pair(cc, sc, "localhost", &c, &s);
    assert_int_equal(run_handshake(c, s, 0), 0);
    assert_string_equal(tlsv_conn_group(c), "P-384");
    exchange_data(c, s, 500);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    /* no group in common at all */
    assert_int_equal(tlsv_ctx_set_groups(cc, "x25519"), 0);
    pair(cc, sc, "localhost", &c, &s);
    assert_int_equal(run_handshake(c, s, 0), 2);
    assert_int_equal(tlsv_conn_last_error(s)->reason, TLSV_R_NO_SUITABLE_KEY_SHARE);
    assert_int_equal(tlsv_conn_last_error(c)->alert, TLSV_ALERT_HANDSHAKE_FAILURE);
    assert_int_equal(tlsv_conn_last_error(c)->side, TLSV_SIDE_REMOTE);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_byte_by_byte(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx(rsa_leaf);
    tlsv_conn *c, *s;
    pair(cc, sc, "localhost", &c, &s);
    assert_int_equal(run_handshake(c, s, 1), 0);
    exchange_data(c, s, 20000);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_big_certificate(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx(big_leaf);
    tlsv_conn *c, *s;
    pair(cc, sc, "host0899.example.com", &c, &s);
    assert_int_equal(run_handshake(c, s, 0), 0);
    size_t len = 0;
    assert_non_null(tlsv_conn_peer_cert_der(c, 0, &len));
    assert_true(len > 16384);
    exchange_data(c, s, 10);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_alpn(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx(ec_leaf);
    const char *cp[] = {"h2", "http/1.1"}, *sp[] = {"http/1.1", "spdy/3"}, *none[] = {"x"};
    assert_int_equal(tlsv_ctx_set_alpn_protocols(cc, cp, 2), 0);
    assert_int_equal(tlsv_ctx_set_alpn_protocols(sc, sp, 2), 0);
    tlsv_conn *c, *s;
    pair(cc, sc, "localhost", &c, &s);
    assert_int_equal(run_handshake(c, s, 0), 0);
    assert_string_equal(tlsv_conn_alpn_selected(c), "http/1.1");
    assert_string_equal(tlsv_conn_alpn_selected(s), "http/1.1");
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    assert_int_equal(tlsv_ctx_set_alpn_protocols(sc, none, 1), 0);
    pair(cc, sc, "localhost", &c, &s);
    assert_int_equal(run_handshake(c, s, 0), 0); /* no overlap: no ALPN */
    assert_null(tlsv_conn_alpn_selected(c));
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_verification(void **state)
{
    (void)state;
    tlsv_ctx *sc = server_ctx(ec_leaf);
    tlsv_conn *c, *s;
    /* wrong name */
    tlsv_ctx *cc = client_ctx();
    pair(cc, sc, "example.org", &c, &s);
    assert_int_equal(run_handshake(c, s, 0), 1);
    const tlsv_error *e = tlsv_conn_last_error(c);
    assert_int_equal(e->reason, TLSV_R_CERTIFICATE_VERIFY_FAILED);
    assert_int_equal(e->side, TLSV_SIDE_LOCAL);
    assert_int_equal(e->alert, TLSV_ALERT_BAD_CERTIFICATE);
    assert_non_null(strstr(e->message, "example.org"));
    assert_int_equal(tlsv_conn_last_error(s)->side, TLSV_SIDE_REMOTE);
    assert_int_equal(tlsv_conn_last_error(s)->alert, TLSV_ALERT_BAD_CERTIFICATE);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    /* an expired certificate */
    tlsv_ctx *sc_exp = server_ctx(expired_leaf);
    pair(cc, sc_exp, "localhost", &c, &s);
    assert_int_equal(run_handshake(c, s, 0), 1);
    assert_int_equal(tlsv_conn_last_error(c)->reason, TLSV_R_CERTIFICATE_VERIFY_FAILED);
    assert_int_equal(tlsv_conn_last_error(c)->alert, TLSV_ALERT_CERTIFICATE_EXPIRED);
    assert_non_null(strstr(tlsv_conn_last_error(c)->message, "expired"));
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(sc_exp);
    /* the IP the certificate names */
    pair(cc, sc, "127.0.0.1", &c, &s);
    assert_int_equal(run_handshake(c, s, 0), 0);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cc);
    /* no trust anchors */
    cc = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL);
    pair(cc, sc, "localhost", &c, &s);
    assert_int_equal(run_handshake(c, s, 0), 1);
    assert_int_equal(tlsv_conn_last_error(c)->reason, TLSV_R_CERTIFICATE_VERIFY_FAILED);
    assert_int_equal(tlsv_conn_last_error(c)->alert, TLSV_ALERT_UNKNOWN_CA);
    assert_non_null(strstr(tlsv_conn_last_error(c)->message, "load_verify_locations"));
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    /* CERT_NONE accepts anything */
    tlsv_ctx_set_check_hostname(cc, 0);
    tlsv_ctx_set_verify_mode(cc, TLSV_CERT_NONE);
    pair(cc, sc, "whatever", &c, &s);
    assert_int_equal(run_handshake(c, s, 0), 0);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_client_auth(void **state)
{
    (void)state;
    tlsv_ctx *sc = server_ctx(ec_leaf), *cc = client_ctx();
    assert_int_equal(tlsv_ctx_load_verify_locations(sc, testpki_ca_path(), NULL), 0);
    assert_int_equal(tlsv_ctx_set_verify_mode(sc, TLSV_CERT_REQUIRED), 0);
    tlsv_conn *c, *s;
    /* no client certificate */
    pair(cc, sc, "localhost", &c, &s);
    int r = run_handshake(c, s, 0);
    assert_int_equal(r, 2);
    assert_int_equal(tlsv_conn_last_error(s)->reason, TLSV_R_PEER_DID_NOT_RETURN_A_CERTIFICATE);
    assert_int_equal(tlsv_conn_last_error(c)->alert, TLSV_ALERT_CERTIFICATE_REQUIRED);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    /* with one */
    assert_int_equal(tlsv_ctx_load_cert_chain(cc, client_leaf, NULL), 0);
    pair(cc, sc, "localhost", &c, &s);
    assert_int_equal(run_handshake(c, s, 0), 0);
    assert_int_equal(tlsv_conn_peer_cert_count(s), 1);
    exchange_data(c, s, 10);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    /* optional: a client without a certificate is fine */
    tlsv_ctx *cc2 = client_ctx();
    assert_int_equal(tlsv_ctx_set_verify_mode(sc, TLSV_CERT_OPTIONAL), 0);
    pair(cc2, sc, "localhost", &c, &s);
    assert_int_equal(run_handshake(c, s, 0), 0);
    assert_int_equal(tlsv_conn_peer_cert_count(s), 0);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cc2);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_versions_on_the_wire(void **state)
{
    (void)state;
    tlsv_ctx *sc = server_ctx(ec_leaf), *cc = client_ctx();
    tlsv_conn *c, *s;
    /* client TLS 1.3 only, server TLS 1.2 only: no common version */
    tlsv_ctx_set_minimum_version(cc, TLSV_VERSION_TLSv1_3);
    tlsv_ctx_set_maximum_version(sc, TLSV_VERSION_TLSv1_2);
    pair(cc, sc, "localhost", &c, &s);
    assert_int_equal(run_handshake(c, s, 0), 2);
    assert_int_equal(tlsv_conn_last_error(s)->reason, TLSV_R_UNSUPPORTED_PROTOCOL);
    assert_int_equal(tlsv_conn_last_error(c)->reason, TLSV_R_TLSV1_ALERT_PROTOCOL_VERSION);
    assert_int_equal(tlsv_conn_last_error(c)->side, TLSV_SIDE_REMOTE);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    /* client with an inverted range: fails before sending anything */
    tlsv_ctx_set_maximum_version(cc, TLSV_VERSION_TLSv1_2);
    pair(cc, sc, "localhost", &c, &s);
    assert_int_equal(tlsv_conn_handshake(c), -1);
    assert_int_equal(tlsv_conn_last_error(c)->reason, TLSV_R_NO_PROTOCOLS_AVAILABLE);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    /* wrong side */
    tlsv_error err;
    assert_null(tlsv_conn_new(sc, TLSV_ROLE_CLIENT, NULL, &err));
    assert_int_equal(err.reason, TLSV_R_WRONG_SIDE);
    assert_null(tlsv_conn_new(cc, TLSV_ROLE_SERVER, NULL, &err));
    assert_int_equal(err.reason, TLSV_R_WRONG_SIDE);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_tampering(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx(ec_leaf);
    tlsv_conn *c, *s;
    pair(cc, sc, "localhost", &c, &s);
    assert_int_equal(tlsv_conn_handshake(c), TLSV_WANT_READ);
    move(c, s, 0);
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    uint8_t flight[8192];
    size_t n = tlsv_conn_take_output(s, flight, sizeof flight);
    assert_true(n > 300);
    flight[n - 20] ^= 1; /* inside the last encrypted record */
    assert_int_equal(tlsv_conn_feed(c, flight, n), 0);
    assert_int_equal(tlsv_conn_handshake(c), -1);
    assert_int_equal(tlsv_conn_last_error(c)->reason, TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC);
    assert_int_equal(tlsv_conn_last_error(c)->alert, TLSV_ALERT_BAD_RECORD_MAC);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static int sni_switch(tlsv_conn *conn, const char *name, void *arg)
{
    if (name && strcmp(name, "other.test") == 0)
        return tlsv_conn_set_ctx(conn, (tlsv_ctx *)arg) == 0 ? 0 : TLSV_ALERT_INTERNAL_ERROR;
    if (name && strcmp(name, "nobody.test") == 0)
        return TLSV_ALERT_UNRECOGNIZED_NAME;
    return 0;
}

static void test_sni_callback(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx(ec_leaf), *other = server_ctx(other_leaf);
    tlsv_ctx_set_servername_callback(sc, sni_switch, other);
    tlsv_conn *c, *s;
    pair(cc, sc, "other.test", &c, &s);
    assert_int_equal(run_handshake(c, s, 0), 0); /* verified as other.test */
    assert_string_equal(tlsv_conn_server_name(s), "other.test");
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    pair(cc, sc, "nobody.test", &c, &s);
    assert_int_equal(run_handshake(c, s, 0), 2);
    assert_int_equal(tlsv_conn_last_error(c)->alert, TLSV_ALERT_UNRECOGNIZED_NAME);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
    tlsv_ctx_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_suites_groups_keys),
        cmocka_unit_test(test_hello_retry_request),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_big_certificate),
        cmocka_unit_test(test_alpn),
        cmocka_unit_test(test_verification),
        cmocka_unit_test(test_client_auth),
        cmocka_unit_test(test_versions_on_the_wire),
        cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_sni_callback),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
