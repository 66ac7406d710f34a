/*
 * test_key_usage.c -- the peer's keyUsage (RFC 5280 §4.2.1.3) against what
 * its key does in the handshake (RFC 8446 §4.4.2.2, RFC 5246 §7.4.2):
 * a leaf that signs (TLS 1.3 CertificateVerify, TLS 1.0-1.2 ECDHE
 * ServerKeyExchange, a client's CertificateVerify, also after the
 * handshake) needs digitalSignature when it has a keyUsage extension; a
 * leaf that receives the premaster secret (RSA key exchange) needs
 * keyEncipherment. Refused with KEY_USAGE_BIT_INCORRECT and bad_certificate
 * in every verify mode -- CERT_NONE too. Certificates come from testpki.h
 * with the keyUsage each case needs.
 */
#include "hostile.h"
#include "x509.h"

static char ec_sign[512], ec_agree[512], ec_plain[512], rsa_sign[512], rsa_enc[512], rsa_both[512],
    cl_sign[512], cl_agree[512];

static int setup(void **state)
{
    if (hostile_setup(state) != 0)
        return -1;
    const char *san = "DNS:localhost";
    testpki_leaf_ku("ec-sign", TESTPKI_EC256, san, "critical,digitalSignature", ec_sign,
                    sizeof ec_sign);
    /* an ECDH certificate: its key may agree on keys, not sign */
    testpki_leaf_ku("ec-agree", TESTPKI_EC256, san, "critical,keyAgreement", ec_agree,
                    sizeof ec_agree);
    testpki_leaf("ec-plain", TESTPKI_EC256, san, ec_plain, sizeof ec_plain); /* no keyUsage */
    testpki_leaf_ku("rsa-sign", TESTPKI_RSA2048, san, "critical,digitalSignature", rsa_sign,
                    sizeof rsa_sign);
    testpki_leaf_ku("rsa-enc", TESTPKI_RSA2048, san, "critical,keyEncipherment", rsa_enc,
                    sizeof rsa_enc);
    testpki_leaf_ku("rsa-both", TESTPKI_RSA2048, san, "critical,digitalSignature,keyEncipherment",
                    rsa_both, sizeof rsa_both);
    testpki_leaf_ku("client-sign", TESTPKI_EC256, "DNS:client.test", "critical,digitalSignature",
                    cl_sign, sizeof cl_sign);
    testpki_leaf_ku("client-agree", TESTPKI_EC256, "DNS:client.test",
                    "critical,keyAgreement,keyEncipherment", cl_agree, sizeof cl_agree);
    return 0;
}

/* What a run gave: 0 both finished; 1 the client failed; 2 the server. */
static int run(tlsv_conn *c, tlsv_conn *s)
{
    for (int i = 0; i < 50; i++) {
        int rc = tlsv_conn_handshake(c);
        int rs = tlsv_conn_handshake(s);
        size_t moved = h_move(c, s) + h_move(s, c);
        if (rc == 0 && rs == 0 && !moved)
            return 0;
        if (rc == -1 || rs == -1) {
            tlsv_conn_handshake(rc == -1 ? s : c); /* the alert reaches the other side */
            return rc == -1 ? 1 : 2;
        }
        if (!moved && rc != 0 && rs != 0)
            fail_msg("stalled: client %d, server %d", rc, rs);
    }
    fail_msg("the handshake did not finish");
    return -1;
}

typedef struct kpair {
    tlsv_ctx *cc, *sc;
    tlsv_conn *c, *s;
} kpair;

/* Server with `server_cert`, versions up to `max` (0: TLS 1.3), TLS 1.2
 * suites `ciphers` (NULL: default; named on both sides). client_verify:
 * the client's mode (CERT_NONE, or CERT_REQUIRED with the test CA).
 * client_cert: the client's certificate, asked for with server_verify. */
static int kp_run(kpair *p, const char *server_cert, int max, const char *ciphers,
                  int client_verify, const char *client_cert, int server_verify)
{
    memset(p, 0, sizeof *p);
    p->sc = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, NULL);
    p->cc = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL);
    assert_non_null(p->sc);
    assert_non_null(p->cc);
    assert_int_equal(tlsv_ctx_load_cert_chain(p->sc, server_cert, NULL), 0);
    if (max) {
        assert_int_equal(tlsv_ctx_set_maximum_version(p->sc, max), 0);
        assert_int_equal(tlsv_ctx_set_maximum_version(p->cc, max), 0);
        if (max < TLSV_VERSION_TLSv1_2) { /* below the default minimum */
            assert_int_equal(tlsv_ctx_set_minimum_version(p->sc, max), 0);
            assert_int_equal(tlsv_ctx_set_minimum_version(p->cc, max), 0);
        }
    }
    if (ciphers) {
        assert_int_equal(tlsv_ctx_set_ciphers(p->sc, ciphers), 0);
        assert_int_equal(tlsv_ctx_set_ciphers(p->cc, ciphers), 0);
    }
    if (client_verify == TLSV_CERT_NONE) {
        assert_int_equal(tlsv_ctx_set_check_hostname(p->cc, 0), 0);
        assert_int_equal(tlsv_ctx_set_verify_mode(p->cc, TLSV_CERT_NONE), 0);
    } else {
        assert_int_equal(tlsv_ctx_load_verify_locations(p->cc, testpki_ca_path(), NULL), 0);
    }
    if (client_cert)
        assert_int_equal(tlsv_ctx_load_cert_chain(p->cc, client_cert, NULL), 0);
    if (server_verify != TLSV_CERT_NONE) {
        assert_int_equal(tlsv_ctx_load_verify_locations(p->sc, testpki_ca_path(), NULL), 0);
        assert_int_equal(tlsv_ctx_set_verify_mode(p->sc, server_verify), 0);
    }
    p->c = h_conn(p->cc, TLSV_ROLE_CLIENT);
    p->s = h_conn(p->sc, TLSV_ROLE_SERVER);
    return run(p->c, p->s);
}

static void kp_free(kpair *p)
{
    tlsv_conn_free(p->c);
    tlsv_conn_free(p->s);
    tlsv_ctx_free(p->cc);
    tlsv_ctx_free(p->sc);
}

/* `who` refused the other's certificate: KEY_USAGE_BIT_INCORRECT with
 * bad_certificate sent, naming the missing bit; the other side received
 * the alert. */
static void expect_refused(kpair *p, int rc, int who, const char *bit)
{
    assert_int_equal(rc, who);
    tlsv_conn *v = who == 1 ? p->c : p->s, *o = who == 1 ? p->s : p->c;
    const tlsv_error *e = tlsv_conn_last_error(v);
    if (e->reason != TLSV_R_KEY_USAGE_BIT_INCORRECT) {
        char b[600];
        tlsv_error_format(e, b, sizeof b);
        fail_msg("expected KEY_USAGE_BIT_INCORRECT, got %s", b);
    }
    assert_int_equal(e->alert, TLSV_ALERT_BAD_CERTIFICATE);
    assert_int_equal(e->side, TLSV_SIDE_LOCAL);
    assert_non_null(strstr(e->message, bit));
    assert_string_equal(tlsv_reason_name(e->reason), "KEY_USAGE_BIT_INCORRECT");
    const tlsv_error *r = tlsv_conn_last_error(o);
    assert_int_equal(r->side, TLSV_SIDE_REMOTE);
    assert_int_equal(r->alert, TLSV_ALERT_BAD_CERTIFICATE);
}

static const int modes[] = {TLSV_CERT_NONE, TLSV_CERT_REQUIRED};

/* The server's certificate signs: TLS 1.3 CertificateVerify, TLS 1.0-1.2
 * ECDHE ServerKeyExchange. */
static void test_server_signs(void **state)
{
    (void)state;
    static const struct {
        int max;
        const char *ciphers;
    } runs[] = {
        {0, NULL},
        {TLSV_VERSION_TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"},
        {TLSV_VERSION_TLSv1_2, "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"},
    };
    for (size_t m = 0; m < 2; m++)
        for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
            kpair p;
            /* refused: keyAgreement only (EC), keyEncipherment only (RSA) */
            int rc = kp_run(&p, ec_agree, runs[i].max, runs[i].ciphers, modes[m], NULL, 0);
            expect_refused(&p, rc, 1, "digitalSignature");
            kp_free(&p);
            rc = kp_run(&p, rsa_enc, runs[i].max, runs[i].ciphers, modes[m], NULL, 0);
            expect_refused(&p, rc, 1, "digitalSignature");
            kp_free(&p);
            /* accepted: digitalSignature, or no keyUsage at all */
            const char *good[] = {ec_sign, ec_plain, rsa_sign, rsa_both};
            for (size_t g = 0; g < 4; g++) {
                assert_int_equal(kp_run(&p, good[g], runs[i].max, runs[i].ciphers, modes[m], NULL,
                                        0),
                                 0);
                kp_free(&p);
            }
        }
}

/* TLS 1.0-1.2 RSA key exchange: the premaster secret is encrypted to the
 * server's key, which needs keyEncipherment (and not digitalSignature). */
static void test_rsa_key_exchange(void **state)
{
    (void)state;
    static const int versions[] = {TLSV_VERSION_TLSv1_2, TLSV_VERSION_TLSv1};
    for (size_t m = 0; m < 2; m++)
        for (size_t v = 0; v < 2; v++) {
            const char *suite = v == 0 ? "AES128-GCM-SHA256" : "AES128-SHA";
            kpair p;
            int rc = kp_run(&p, rsa_sign, versions[v], suite, modes[m], NULL, 0);
            expect_refused(&p, rc, 1, "keyEncipherment");
            kp_free(&p);
            assert_int_equal(kp_run(&p, rsa_enc, versions[v], suite, modes[m], NULL, 0), 0);
            assert_string_equal(tlsv_conn_cipher(p.c), suite);
            kp_free(&p);
            assert_int_equal(kp_run(&p, rsa_both, versions[v], suite, modes[m], NULL, 0), 0);
            kp_free(&p);
        }
}

/* A client certificate signs its CertificateVerify; the server checks its
 * keyUsage whether it requires a certificate or only asks for one. */
static void test_client_signs(void **state)
{
    (void)state;
    static const int server_modes[] = {TLSV_CERT_OPTIONAL, TLSV_CERT_REQUIRED};
    static const int maxes[] = {0, TLSV_VERSION_TLSv1_2};
    for (size_t m = 0; m < 2; m++)
        for (size_t v = 0; v < 2; v++) {
            kpair p;
            int rc = kp_run(&p, ec_sign, maxes[v], NULL, TLSV_CERT_NONE, cl_agree,
                            server_modes[m]);
            expect_refused(&p, rc, 2, "digitalSignature");
            kp_free(&p);
            assert_int_equal(
                kp_run(&p, ec_sign, maxes[v], NULL, TLSV_CERT_NONE, cl_sign, server_modes[m]), 0);
            assert_int_equal(tlsv_conn_peer_cert_count(p.s), 1);
            kp_free(&p);
        }
}

/* TLS 1.3 post-handshake authentication: the same check on the answer. */
static void test_post_handshake(void **state)
{
    (void)state;
    for (int bad = 0; bad < 2; bad++) {
        kpair p;
        memset(&p, 0, sizeof p);
        p.sc = hs_ctx(0, 0, NULL, NULL);
        p.cc = hc_ctx(0, 0, NULL, NULL);
        assert_int_equal(tlsv_ctx_load_verify_locations(p.sc, testpki_ca_path(), NULL), 0);
        assert_int_equal(tlsv_ctx_set_verify_mode(p.sc, TLSV_CERT_REQUIRED), 0);
        assert_int_equal(tlsv_ctx_set_post_handshake_auth(p.sc, 1), 0);
        assert_int_equal(tlsv_ctx_set_post_handshake_auth(p.cc, 1), 0);
        assert_int_equal(tlsv_ctx_load_cert_chain(p.cc, bad ? cl_agree : cl_sign, NULL), 0);
        p.c = h_conn(p.cc, TLSV_ROLE_CLIENT);
        p.s = h_conn(p.sc, TLSV_ROLE_SERVER);
        h_handshake(p.c, p.s);
        assert_int_equal(tlsv_conn_peer_cert_count(p.s), 0); /* not asked in the handshake */
        assert_int_equal(tlsv_conn_verify_client_post_handshake(p.s), 0);
        h_move(p.s, p.c);
        expect_want_read(p.c); /* answers the request */
        h_move(p.c, p.s);
        uint8_t b[16];
        long r = tlsv_conn_read(p.s, b, sizeof b);
        if (bad) {
            assert_int_equal(r, -1);
            const tlsv_error *e = tlsv_conn_last_error(p.s);
            assert_int_equal(e->reason, TLSV_R_KEY_USAGE_BIT_INCORRECT);
            assert_int_equal(e->alert, TLSV_ALERT_BAD_CERTIFICATE);
        } else {
            assert_int_equal(r, TLSV_WANT_READ);
            assert_int_equal(tlsv_conn_peer_cert_count(p.s), 1);
        }
        kp_free(&p);
    }
}

/* The x509 layer's answer, bit by bit. */
static void test_x509_leaf_key_usage(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        bool sign, encipher;
    } cases[] = {
        {ec_sign, true, false},  {ec_agree, false, false}, {ec_plain, true, true},
        {rsa_sign, true, false}, {rsa_enc, false, true},   {rsa_both, true, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tlsv_error err;
        tlsv_x509_chain *ch = tlsv_x509_chain_load_pem_file(cases[i].path, &err);
        assert_non_null(ch);
        assert_int_equal(tlsv_x509_chain_leaf_key_usage_allows(ch, TLSV_X509_KU_DIGITAL_SIGNATURE),
                         cases[i].sign);
        assert_int_equal(tlsv_x509_chain_leaf_key_usage_allows(ch, TLSV_X509_KU_KEY_ENCIPHERMENT),
                         cases[i].encipher);
        assert_int_equal(tlsv_x509_chain_leaf_key_usage_allows(
                             ch, TLSV_X509_KU_DIGITAL_SIGNATURE | TLSV_X509_KU_KEY_ENCIPHERMENT),
                         cases[i].sign && cases[i].encipher);
        assert_int_equal(tlsv_x509_chain_leaf_key_usage_allows(ch, 0), 1);
        tlsv_x509_chain_free(ch);
    }
    assert_int_equal(tlsv_x509_chain_leaf_key_usage_allows(NULL, TLSV_X509_KU_DIGITAL_SIGNATURE),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_signs),     cmocka_unit_test(test_rsa_key_exchange),
        cmocka_unit_test(test_client_signs),     cmocka_unit_test(test_post_handshake),
        cmocka_unit_test(test_x509_leaf_key_usage),
    };
    return cmocka_run_group_tests(tests, setup, hostile_teardown);
}
