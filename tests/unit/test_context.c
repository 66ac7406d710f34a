/*
 * test_context.c -- the public configuration API (tlsv.h): constructors,
 * setters and their error records, names, the preview. The oracle replay
 * (test_oracle_config.c) checks the recorded Python semantics row by row;
 * this file checks what is tlsv's own: error records, explanations, names,
 * the SSL 3.0 build option.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tlsv.h"

static void test_defaults(void **state)
{
    (void)state;
    static const struct {
        int protocol, min, max, verify, hostname;
    } rows[] = {
        {TLSV_PROTOCOL_TLS_CLIENT, TLSV_VERSION_TLSv1_2, TLSV_VERSION_MAXIMUM_SUPPORTED,
         TLSV_CERT_REQUIRED, 1},
        {TLSV_PROTOCOL_TLS_SERVER, TLSV_VERSION_TLSv1_2, TLSV_VERSION_MAXIMUM_SUPPORTED,
         TLSV_CERT_NONE, 0},
        {TLSV_PROTOCOL_TLS, TLSV_VERSION_TLSv1_2, TLSV_VERSION_MAXIMUM_SUPPORTED, TLSV_CERT_NONE,
         0},
        {TLSV_PROTOCOL_TLSv1, TLSV_VERSION_MINIMUM_SUPPORTED, TLSV_VERSION_MAXIMUM_SUPPORTED,
         TLSV_CERT_NONE, 0},
        {TLSV_PROTOCOL_TLSv1_1, TLSV_VERSION_MINIMUM_SUPPORTED, TLSV_VERSION_MAXIMUM_SUPPORTED,
         TLSV_CERT_NONE, 0},
        {TLSV_PROTOCOL_TLSv1_2, TLSV_VERSION_MINIMUM_SUPPORTED, TLSV_VERSION_MAXIMUM_SUPPORTED,
         TLSV_CERT_NONE, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tlsv_error err;
        tlsv_ctx *ctx = tlsv_ctx_new(rows[i].protocol, &err);
        assert_non_null(ctx);
        assert_int_equal(err.reason, TLSV_R_OK);
        assert_int_equal(tlsv_ctx_get_protocol(ctx), rows[i].protocol);
        assert_int_equal(tlsv_ctx_get_options(ctx), 0x82520050u);
        assert_int_equal(tlsv_ctx_get_minimum_version(ctx), rows[i].min);
        assert_int_equal(tlsv_ctx_get_maximum_version(ctx), rows[i].max);
        assert_int_equal(tlsv_ctx_get_verify_mode(ctx), rows[i].verify);
        assert_int_equal(tlsv_ctx_get_check_hostname(ctx), rows[i].hostname);
        assert_int_equal(tlsv_ctx_last_error(ctx)->reason, TLSV_R_OK);
        tlsv_ctx_free(ctx);
    }
    /* SSLv23 is TLS */
    tlsv_ctx *ctx = tlsv_ctx_new(TLSV_PROTOCOL_SSLv23, NULL);
    assert_int_equal(tlsv_ctx_get_protocol(ctx), TLSV_PROTOCOL_TLS);
    tlsv_ctx_free(ctx);
    tlsv_ctx_free(NULL);
}

static void test_unknown_protocol_and_ssl3(void **state)
{
    (void)state;
    tlsv_error err;
    assert_null(tlsv_ctx_new(0, &err));
    assert_int_equal(err.reason, TLSV_R_UNKNOWN_PROTOCOL);
    assert_null(tlsv_ctx_new(99, NULL)); /* NULL error pointer is fine */

    tlsv_ctx *ctx = tlsv_ctx_new(TLSV_PROTOCOL_SSLv3, &err);
    if (tlsv_has_ssl3()) {
        assert_non_null(ctx);
        int v[6];
        assert_int_equal(tlsv_ctx_enabled_versions(ctx, TLSV_ROLE_CLIENT, v, 6), 1);
        assert_int_equal(v[0], TLSV_VERSION_SSLv3);
        assert_int_equal(tlsv_ctx_set_minimum_version(ctx, TLSV_VERSION_SSLv3), -1);
        assert_int_equal(tlsv_ctx_last_error(ctx)->reason, TLSV_R_VERSION_BOUNDS_FIXED);
        tlsv_ctx_free(ctx);
    } else {
        assert_null(ctx);
        assert_int_equal(err.reason, TLSV_R_SSLV3_NOT_COMPILED_IN);
        assert_string_equal(tlsv_reason_name(err.reason), "SSLV3_NOT_COMPILED_IN");
        assert_non_null(strstr(err.message, "-DTLSV_ENABLE_SSL3=ON"));
        assert_int_equal(err.side, TLSV_SIDE_LOCAL);
        assert_int_equal(err.alert, TLSV_ALERT_NONE);
    }

    /* No setting enables SSL 3.0 in a build without it. */
    ctx = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL);
    assert_int_equal(tlsv_ctx_set_minimum_version(ctx, TLSV_VERSION_SSLv3), 0);
    assert_int_equal(tlsv_ctx_get_options(ctx) & TLSV_OP_NO_SSLv3, 0); /* O2 */
    assert_int_equal(tlsv_ctx_set_maximum_version(ctx, TLSV_VERSION_SSLv3), 0);
    int v[6];
    size_t n = tlsv_ctx_enabled_versions(ctx, TLSV_ROLE_CLIENT, v, 6);
    if (tlsv_has_ssl3()) {
        assert_int_equal(n, 1);
        assert_int_equal(v[0], TLSV_VERSION_SSLv3);
    } else {
        assert_int_equal(n, 0);
        tlsv_error e2;
        assert_int_equal(tlsv_ctx_check_versions(ctx, TLSV_ROLE_CLIENT, &e2), -1);
        assert_int_equal(e2.reason, TLSV_R_NO_PROTOCOLS_AVAILABLE);
        assert_non_null(strstr(e2.message, "SSL 3.0"));
    }
    tlsv_ctx_free(ctx);
}

static void test_bounds(void **state)
{
    (void)state;
    tlsv_ctx *ctx = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, NULL);
    /* invalid values */
    const int bad[] = {0, 0x0305, -3, 0x0200, 0x0303 + 0x100};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tlsv_ctx_set_minimum_version(ctx, bad[i]), -1);
        assert_int_equal(tlsv_ctx_last_error(ctx)->reason, TLSV_R_UNSUPPORTED_VERSION);
        assert_non_null(strstr(tlsv_ctx_last_error(ctx)->message, "Unsupported TLS/SSL version"));
        assert_int_equal(tlsv_ctx_set_maximum_version(ctx, bad[i]), -1);
    }
    assert_int_equal(tlsv_ctx_get_minimum_version(ctx), TLSV_VERSION_TLSv1_2); /* unchanged */
    tlsv_ctx_clear_error(ctx);
    assert_int_equal(tlsv_ctx_last_error(ctx)->reason, TLSV_R_OK);

    /* sentinel cross-assignments (M4) */
    assert_int_equal(tlsv_ctx_set_minimum_version(ctx, TLSV_VERSION_MAXIMUM_SUPPORTED), 0);
    assert_int_equal(tlsv_ctx_get_minimum_version(ctx), TLSV_VERSION_TLSv1_3);
    assert_int_equal(tlsv_ctx_set_maximum_version(ctx, TLSV_VERSION_MINIMUM_SUPPORTED), 0);
    assert_int_equal(tlsv_ctx_get_maximum_version(ctx),
                     tlsv_has_ssl3() ? TLSV_VERSION_SSLv3 : TLSV_VERSION_TLSv1);

    /* inverted bounds are accepted, reported by the check (M5) */
    tlsv_error err;
    assert_int_equal(tlsv_ctx_check_versions(ctx, TLSV_ROLE_SERVER, &err), -1);
    assert_int_equal(err.reason, TLSV_R_NO_PROTOCOLS_AVAILABLE);
    assert_int_equal(err.alert, TLSV_ALERT_NONE);
    assert_non_null(strstr(err.message, "minimum_version TLSv1_3 is above maximum_version"));
    assert_int_equal(tlsv_ctx_last_error(ctx)->reason, TLSV_R_NO_PROTOCOLS_AVAILABLE);
    tlsv_ctx_set_maximum_version(ctx, TLSV_VERSION_MAXIMUM_SUPPORTED);
    assert_int_equal(tlsv_ctx_check_versions(ctx, TLSV_ROLE_SERVER, &err), 0);
    assert_int_equal(err.reason, TLSV_R_OK);
    tlsv_ctx_free(ctx);

    /* fixed contexts refuse bounds, whatever the value (M1) */
    ctx = tlsv_ctx_new(TLSV_PROTOCOL_TLSv1_2, NULL);
    const int any[] = {TLSV_VERSION_TLSv1_2, TLSV_VERSION_MINIMUM_SUPPORTED, 0x0305};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(tlsv_ctx_set_minimum_version(ctx, any[i]), -1);
        assert_int_equal(tlsv_ctx_last_error(ctx)->reason, TLSV_R_VERSION_BOUNDS_FIXED);
        assert_non_null(strstr(tlsv_ctx_last_error(ctx)->message, "PROTOCOL_TLSv1_2"));
        assert_int_equal(tlsv_ctx_set_maximum_version(ctx, any[i]), -1);
    }
    tlsv_ctx_free(ctx);
}

static void test_options(void **state)
{
    (void)state;
    tlsv_ctx *ctx = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL);
    assert_int_equal(tlsv_ctx_add_options(ctx, TLSV_OP_NO_TICKET), 0x82520050u | 0x4000u);
    assert_int_equal(tlsv_ctx_clear_options(ctx, TLSV_OP_NO_TICKET | TLSV_OP_ALL), 0x02520000u);
    tlsv_ctx_set_options(ctx, 0);
    assert_int_equal(tlsv_ctx_get_options(ctx), 0);
    tlsv_ctx_set_options(ctx, UINT64_C(0xffffffffffffffff)); /* every bit kept, as OpenSSL */
    assert_true(tlsv_ctx_get_options(ctx) == UINT64_C(0xffffffffffffffff));
    /* bounds never touch options, options never touch bounds (O1) */
    tlsv_ctx_set_options(ctx, 0x82520050u);
    tlsv_ctx_set_maximum_version(ctx, TLSV_VERSION_TLSv1_2);
    tlsv_ctx_add_options(ctx, TLSV_OP_NO_TLSv1_3);
    assert_int_equal(tlsv_ctx_get_options(ctx), 0xa2520050u);
    assert_int_equal(tlsv_ctx_get_maximum_version(ctx), TLSV_VERSION_TLSv1_2);
    tlsv_ctx_free(ctx);

    /* names */
    tlsv_options o;
    assert_int_equal(tlsv_option_parse("NO_TLSv1_1", &o), 0);
    assert_int_equal(o, TLSV_OP_NO_TLSv1_1);
    assert_int_equal(tlsv_option_parse("OP_ALL", &o), 0);
    assert_int_equal(o, TLSV_OP_ALL);
    assert_int_equal(tlsv_option_parse("ALL", &o), 0);
    assert_int_equal(tlsv_option_parse("NO_SSLv2", &o), 0);
    assert_int_equal(o, 0);
    assert_int_equal(tlsv_option_parse("NO_TLSv1_4", &o), -1);
    char buf[256];
    size_t need = tlsv_options_describe(0x82520050u, buf, sizeof buf);
    assert_int_equal(need, strlen(buf));
    assert_string_equal(buf, "OP_ALL|OP_NO_SSLv3|OP_NO_COMPRESSION|"
                             "OP_CIPHER_SERVER_PREFERENCE|OP_ENABLE_MIDDLEBOX_COMPAT");
    tlsv_options_describe(UINT64_C(0x100000000) | 0x4000u, buf, sizeof buf);
    assert_string_equal(buf, "OP_NO_TICKET|0x100000000");
    tlsv_options_describe(0, buf, sizeof buf);
    assert_string_equal(buf, "0");
    char tiny[5];
    need = tlsv_options_describe(0x82520050u, tiny, sizeof tiny);
    assert_true(need > sizeof tiny);
    assert_int_equal(strlen(tiny), 4);
}

static void test_verify_switches(void **state)
{
    (void)state;
    tlsv_ctx *ctx = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL);
    assert_int_equal(tlsv_ctx_set_verify_mode(ctx, TLSV_CERT_NONE), -1); /* V1 */
    assert_int_equal(tlsv_ctx_last_error(ctx)->reason, TLSV_R_CHECK_HOSTNAME_NEEDS_VERIFY);
    assert_int_equal(tlsv_ctx_get_verify_mode(ctx), TLSV_CERT_REQUIRED);
    assert_int_equal(tlsv_ctx_set_check_hostname(ctx, 0), 0);
    assert_int_equal(tlsv_ctx_set_verify_mode(ctx, TLSV_CERT_NONE), 0);
    assert_int_equal(tlsv_ctx_set_verify_mode(ctx, 7), -1);
    assert_int_equal(tlsv_ctx_last_error(ctx)->reason, TLSV_R_INVALID_ARGUMENT);
    assert_int_equal(tlsv_ctx_set_check_hostname(ctx, 1), 0); /* upgrades to REQUIRED */
    assert_int_equal(tlsv_ctx_get_verify_mode(ctx), TLSV_CERT_REQUIRED);
    assert_int_equal(tlsv_ctx_set_verify_mode(ctx, TLSV_CERT_OPTIONAL), 0);
    tlsv_ctx_free(ctx);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(tlsv_version_string(TLSV_VERSION_TLSv1), "TLSv1");
    assert_string_equal(tlsv_version_string(TLSV_VERSION_TLSv1_3), "TLSv1.3");
    assert_null(tlsv_version_string(TLSV_VERSION_MAXIMUM_SUPPORTED));
    assert_string_equal(tlsv_version_name(TLSV_VERSION_TLSv1_1), "TLSv1_1");
    assert_string_equal(tlsv_version_name(TLSV_VERSION_MINIMUM_SUPPORTED), "MINIMUM_SUPPORTED");
    assert_null(tlsv_version_name(0x0305));
    int v;
    assert_int_equal(tlsv_version_parse("TLSv1.2", &v), 0);
    assert_int_equal(v, TLSV_VERSION_TLSv1_2);
    assert_int_equal(tlsv_version_parse("MAXIMUM_SUPPORTED", &v), 0);
    assert_int_equal(v, TLSV_VERSION_MAXIMUM_SUPPORTED);
    assert_int_equal(tlsv_version_parse("TLSv1.4", &v), -1);
    assert_string_equal(tlsv_protocol_name(TLSV_PROTOCOL_SSLv23), "PROTOCOL_TLS");
    assert_null(tlsv_protocol_name(42));
    assert_string_equal(tlsv_alert_name(TLSV_ALERT_INAPPROPRIATE_FALLBACK),
                        "inappropriate_fallback");
    assert_null(tlsv_alert_name(200));
    /* the codes of TLS 1.2 and earlier that RFC 8446 reserves are named too
     * (an old peer's fatal decompression_failure must not read as "none") */
    assert_string_equal(tlsv_alert_name(30), "decompression_failure");
    assert_string_equal(tlsv_alert_name(21), "decryption_failed");
    assert_int_equal(tlsv_reason_for_alert(TLSV_ALERT_PROTOCOL_VERSION),
                     TLSV_R_TLSV1_ALERT_PROTOCOL_VERSION);
    assert_int_equal(tlsv_reason_for_alert(TLSV_ALERT_USER_CANCELED), TLSV_R_ALERT_RECEIVED);
    /* every reason has a distinct name */
    for (int a = 0; a < TLSV_R__COUNT; a++) {
        assert_string_not_equal(tlsv_reason_name((tlsv_reason)a), "UNKNOWN_REASON");
        for (int b = 0; b < a; b++)
            assert_string_not_equal(tlsv_reason_name((tlsv_reason)a),
                                    tlsv_reason_name((tlsv_reason)b));
    }
    assert_string_equal(tlsv_reason_name(TLSV_R__COUNT), "UNKNOWN_REASON");

    tlsv_error e = {.reason = TLSV_R_UNSUPPORTED_PROTOCOL, .alert = TLSV_ALERT_PROTOCOL_VERSION,
                    .side = TLSV_SIDE_REMOTE};
    strcpy(e.message, "why");
    char buf[128];
    tlsv_error_format(&e, buf, sizeof buf);
    assert_string_equal(buf, "UNSUPPORTED_PROTOCOL (alert protocol_version, received): why");
}

static void test_preview(void **state)
{
    (void)state;
    tlsv_ctx *c = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL);
    tlsv_ctx *s = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, NULL);
    tlsv_preview p;
    /* roles are enforced (V4) */
    assert_int_equal(tlsv_preview_negotiation(s, c, 0, &p), -1);
    assert_int_equal(p.client_error.reason, TLSV_R_INVALID_ARGUMENT);
    assert_int_equal(tlsv_preview_negotiation(NULL, s, 0, &p), -1);
    assert_int_equal(tlsv_preview_negotiation(c, s, 0, NULL), -1);

    assert_int_equal(tlsv_preview_negotiation(c, s, 0, &p), 0);
    assert_true(p.ok);
    assert_int_equal(p.version, TLSV_VERSION_TLSv1_3);
    assert_int_equal(p.n_offered, 2);

    /* the explanation of SPEC §4: the server accepts TLSv1 to TLSv1.1 */
    tlsv_ctx_set_minimum_version(s, TLSV_VERSION_TLSv1);
    tlsv_ctx_set_maximum_version(s, TLSV_VERSION_TLSv1_1);
    assert_int_equal(tlsv_preview_negotiation(c, s, 0, &p), -1);
    assert_int_equal(p.failed_side, TLSV_ROLE_SERVER);
    assert_int_equal(p.server_error.reason, TLSV_R_UNSUPPORTED_PROTOCOL);
    assert_int_equal(p.server_error.side, TLSV_SIDE_LOCAL);
    assert_non_null(strstr(p.server_error.message, "accepts TLSv1 to TLSv1.1"));
    assert_int_equal(p.client_error.reason, TLSV_R_TLSV1_ALERT_PROTOCOL_VERSION);
    assert_int_equal(p.client_error.side, TLSV_SIDE_REMOTE);

    /* PROTOCOL_TLS plays both roles */
    tlsv_ctx *t = tlsv_ctx_new(TLSV_PROTOCOL_TLS, NULL);
    assert_int_equal(tlsv_preview_negotiation(t, t, 0, &p), 0);
    tlsv_ctx_free(t);
    tlsv_ctx_free(c);
    tlsv_ctx_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),  cmocka_unit_test(test_unknown_protocol_and_ssl3),
        cmocka_unit_test(test_bounds),    cmocka_unit_test(test_options),
        cmocka_unit_test(test_verify_switches), cmocka_unit_test(test_names),
        cmocka_unit_test(test_preview),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
