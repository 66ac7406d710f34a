/*
 * test_version_policy.c -- the version policy (src/version.c) on inputs the
 * oracle's matrix does not produce: what real peers and attackers send.
 * (test_oracle_matrix.c replays every recorded client x server cell.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tlsv.h"
#include "version.h"

static tlsv_vcfg auto_cfg(int min, int max, uint64_t no_flags)
{
    tlsv_vcfg c = {.protocol = TLSV_PROTOCOL_TLS_SERVER,
                   .options = 0x82520050u | no_flags,
                   .min_version = min,
                   .max_version = max};
    return c;
}

static tlsv_vcfg fixed_cfg(int protocol)
{
    tlsv_vcfg c = {.protocol = protocol,
                   .options = 0x82520050u,
                   .min_version = TLSV_VERSION_MINIMUM_SUPPORTED,
                   .max_version = TLSV_VERSION_MAXIMUM_SUPPORTED};
    return c;
}

static tlsv_offer_view sv_offer(const uint16_t *v, size_t n)
{
    tlsv_offer_view o = {.legacy_version = 0x0303, .has_supported_versions = true,
                         .versions = v, .n_versions = n};
    return o;
}

static tlsv_offer_view legacy_offer(uint16_t legacy)
{
    tlsv_offer_view o = {.legacy_version = legacy};
    return o;
}

/* ---- enabled sets ------------------------------------------------------ */

static void test_enabled_and_run(void **state)
{
    (void)state;
    tlsv_vcfg c = auto_cfg(TLSV_VERSION_TLSv1, TLSV_VERSION_MAXIMUM_SUPPORTED, TLSV_OP_NO_TLSv1_1);
    /* the server checks each version; the client keeps the lowest run (O3, O5) */
    assert_int_equal(tlsv_vp_enabled(&c), TLSV_VSET_BIT(0x0301) | TLSV_VSET_BIT(0x0303) |
                                              TLSV_VSET_BIT(0x0304));
    assert_int_equal(tlsv_vp_client_run(&c), TLSV_VSET_BIT(0x0301));

    /* disabled versions below the minimum are no hole (O4) */
    c = auto_cfg(TLSV_VERSION_TLSv1_2, TLSV_VERSION_MAXIMUM_SUPPORTED, TLSV_OP_NO_TLSv1_2);
    assert_int_equal(tlsv_vp_client_run(&c), TLSV_VSET_BIT(0x0304));

    /* a fixed context ignores OP_NO_* (O6) */
    c = fixed_cfg(TLSV_PROTOCOL_TLSv1_2);
    c.options |= TLSV_OP_NO_TLSv1_2;
    assert_int_equal(tlsv_vp_enabled(&c), TLSV_VSET_BIT(0x0303));

    /* SSL 3.0 only exists in an SSL 3.0 build, and OP_NO_SSLv3 is a default */
    c = auto_cfg(TLSV_VERSION_SSLv3, TLSV_VERSION_TLSv1, 0);
    c.options &= ~(uint64_t)TLSV_OP_NO_SSLv3;
    assert_int_equal(tlsv_vset_has(tlsv_vp_enabled(&c), 0x0300), tlsv_has_ssl3());
    c.options |= TLSV_OP_NO_SSLv3;
    assert_false(tlsv_vset_has(tlsv_vp_enabled(&c), 0x0300));
}

static void test_vset_describe(void **state)
{
    (void)state;
    char b[96];
    tlsv_vset_describe(0, b, sizeof b);
    assert_string_equal(b, "no version");
    tlsv_vset_describe(TLSV_VSET_BIT(0x0304), b, sizeof b);
    assert_string_equal(b, "TLSv1.3 only");
    tlsv_vset_describe(TLSV_VSET_BIT(0x0303) | TLSV_VSET_BIT(0x0304), b, sizeof b);
    assert_string_equal(b, "TLSv1.2 to TLSv1.3");
    tlsv_vset_describe(TLSV_VSET_BIT(0x0301) | TLSV_VSET_BIT(0x0303) | TLSV_VSET_BIT(0x0304), b,
                       sizeof b);
    assert_string_equal(b, "TLSv1, TLSv1.2 and TLSv1.3");
    tlsv_vset_describe(TLSV_VSET_BIT(0x0304), b, 4); /* truncation stays terminated */
    assert_int_equal(strlen(b), 3);
}

/* ---- the server's choice ----------------------------------------------- */

static void test_server_tolerates_unknown_and_grease(void **state)
{
    (void)state;
    tlsv_vcfg c = auto_cfg(TLSV_VERSION_TLSv1_2, TLSV_VERSION_MAXIMUM_SUPPORTED, 0);
    /* RFC 8701 GREASE, a future 0x0305, a draft version, then real ones */
    const uint16_t v[] = {0x7a7a, 0x0305, 0x7f1c, 0x0304, 0x0303, 0xfafa};
    tlsv_offer_view o = sv_offer(v, 6);
    tlsv_server_choice ch;
    tlsv_error e;
    assert_int_equal(tlsv_vp_server_select(&c, &o, &ch, &e), 0);
    assert_int_equal(ch.version, 0x0304);
    assert_int_equal(ch.sentinel, TLSV_SENTINEL_NONE);

    /* order does not matter: the highest common version wins */
    const uint16_t w[] = {0x0303, 0x0304};
    o = sv_offer(w, 2);
    assert_int_equal(tlsv_vp_server_select(&c, &o, &ch, &e), 0);
    assert_int_equal(ch.version, 0x0304);

    /* only unknown versions: protocol_version (RFC 8446 §4.2.1) */
    const uint16_t u[] = {0x0305, 0x2a2a};
    o = sv_offer(u, 2);
    assert_int_equal(tlsv_vp_server_select(&c, &o, &ch, &e), -1);
    assert_int_equal(e.reason, TLSV_R_UNSUPPORTED_PROTOCOL);
    assert_int_equal(e.alert, TLSV_ALERT_PROTOCOL_VERSION);
    assert_int_equal(e.side, TLSV_SIDE_LOCAL);
    assert_non_null(strstr(e.message, "0x0305"));
    assert_non_null(strstr(e.message, "minimum_version TLSv1_2"));

    /* an empty supported_versions list */
    o = sv_offer(NULL, 0);
    assert_int_equal(tlsv_vp_server_select(&c, &o, &ch, &e), -1);
    assert_int_equal(e.reason, TLSV_R_UNSUPPORTED_PROTOCOL);
}

static void test_server_legacy_version_forms(void **state)
{
    (void)state;
    tlsv_vcfg c = auto_cfg(TLSV_VERSION_MINIMUM_SUPPORTED, TLSV_VERSION_MAXIMUM_SUPPORTED, 0);
    tlsv_server_choice ch;
    tlsv_error e;
    tlsv_offer_view o;

    /* legacy_version 0x0304 or above without the extension means TLS 1.2
     * (RFC 8446 §4.2.1): version tolerance */
    const uint16_t legacy[] = {0x0304, 0x0305, 0x03ff, 0x0400, 0xffff};
    for (size_t i = 0; i < sizeof legacy / sizeof legacy[0]; i++) {
        o = legacy_offer(legacy[i]);
        assert_int_equal(tlsv_vp_server_select(&c, &o, &ch, &e), 0);
        assert_int_equal(ch.version, 0x0303);
        assert_int_equal(ch.sentinel, TLSV_SENTINEL_TLS12); /* 1.3 is enabled */
    }
    /* below TLS 1.0 with SSL 3.0 disabled: no version */
    o = legacy_offer(0x0300);
    assert_int_equal(tlsv_vp_server_select(&c, &o, &ch, &e), -1);
    assert_int_equal(e.reason, TLSV_R_UNSUPPORTED_PROTOCOL);
    o = legacy_offer(0x0002); /* SSL 2.0 */
    assert_int_equal(tlsv_vp_server_select(&c, &o, &ch, &e), -1);
    assert_int_equal(e.alert, TLSV_ALERT_PROTOCOL_VERSION);

    /* TLS 1.1 with 1.2 enabled: DOWNGRD\x00 */
    o = legacy_offer(0x0302);
    assert_int_equal(tlsv_vp_server_select(&c, &o, &ch, &e), 0);
    assert_int_equal(ch.version, 0x0302);
    assert_int_equal(ch.sentinel, TLSV_SENTINEL_TLS11);

    /* an SSLv2-format hello can never reach TLS 1.3 */
    o = legacy_offer(0x0303);
    o.sslv2_format = true;
    assert_int_equal(tlsv_vp_server_select(&c, &o, &ch, &e), 0);
    assert_int_equal(ch.version, 0x0303);

    /* supported_versions with legacy_version <= SSL 3.0 (RFC 8446 App. D.5) */
    const uint16_t v[] = {0x0304};
    o = sv_offer(v, 1);
    o.legacy_version = 0x0300;
    assert_int_equal(tlsv_vp_server_select(&c, &o, &ch, &e), -1);
    assert_int_equal(e.reason, TLSV_R_BAD_LEGACY_VERSION);
    assert_int_equal(e.alert, TLSV_ALERT_PROTOCOL_VERSION);
}

static void test_server_sentinels(void **state)
{
    (void)state;
    tlsv_server_choice ch;
    tlsv_error e;
    tlsv_offer_view o = legacy_offer(0x0303);

    /* capped servers write nothing (oracle G1, G4) */
    tlsv_vcfg capped = auto_cfg(TLSV_VERSION_TLSv1_2, TLSV_VERSION_TLSv1_2, 0);
    assert_int_equal(tlsv_vp_server_select(&capped, &o, &ch, &e), 0);
    assert_int_equal(ch.sentinel, TLSV_SENTINEL_NONE);
    tlsv_vcfg no13 = auto_cfg(TLSV_VERSION_TLSv1_2, TLSV_VERSION_MAXIMUM_SUPPORTED,
                              TLSV_OP_NO_TLSv1_3);
    assert_int_equal(tlsv_vp_server_select(&no13, &o, &ch, &e), 0);
    assert_int_equal(ch.sentinel, TLSV_SENTINEL_NONE);

    /* fixed servers write nothing */
    tlsv_vcfg fixed = fixed_cfg(TLSV_PROTOCOL_TLSv1_2);
    assert_int_equal(tlsv_vp_server_select(&fixed, &o, &ch, &e), 0);
    assert_int_equal(ch.sentinel, TLSV_SENTINEL_NONE);

    /* a hole at TLS 1.2 omits DOWNGRD\x00 (oracle G1b) */
    tlsv_vcfg hole = auto_cfg(TLSV_VERSION_TLSv1_1, TLSV_VERSION_MAXIMUM_SUPPORTED,
                              TLSV_OP_NO_TLSv1_2);
    assert_int_equal(tlsv_vp_server_select(&hole, &o, &ch, &e), 0);
    assert_int_equal(ch.version, 0x0302);
    assert_int_equal(ch.sentinel, TLSV_SENTINEL_NONE);

    /* write/read round trip; other bytes untouched */
    uint8_t r[32];
    memset(r, 0xab, sizeof r);
    tlsv_vp_write_sentinel(TLSV_SENTINEL_TLS12, r);
    assert_memory_equal(r + 24, "DOWNGRD\x01", 8);
    assert_int_equal(r[23], 0xab);
    assert_int_equal(tlsv_vp_read_sentinel(r), TLSV_SENTINEL_TLS12);
    tlsv_vp_write_sentinel(TLSV_SENTINEL_TLS11, r);
    assert_memory_equal(r + 24, "DOWNGRD\x00", 8);
    assert_int_equal(tlsv_vp_read_sentinel(r), TLSV_SENTINEL_TLS11);
    r[31] = 0x02;
    assert_int_equal(tlsv_vp_read_sentinel(r), TLSV_SENTINEL_NONE);
}

static void test_server_fixed_version(void **state)
{
    (void)state;
    tlsv_vcfg c = fixed_cfg(TLSV_PROTOCOL_TLSv1_1);
    tlsv_server_choice ch;
    tlsv_error e;
    /* any client_version at or above its own: it answers with its version */
    tlsv_offer_view o = legacy_offer(0x0303);
    assert_int_equal(tlsv_vp_server_select(&c, &o, &ch, &e), 0);
    assert_int_equal(ch.version, 0x0302);
    /* below: WRONG_SSL_VERSION naming the protocol */
    o = legacy_offer(0x0301);
    assert_int_equal(tlsv_vp_server_select(&c, &o, &ch, &e), -1);
    assert_int_equal(e.reason, TLSV_R_WRONG_SSL_VERSION);
    assert_int_equal(e.alert, TLSV_ALERT_PROTOCOL_VERSION);
    assert_non_null(strstr(e.message, "PROTOCOL_TLSv1_1"));
    assert_non_null(strstr(e.message, "TLSv1.1"));
}

static void test_server_fallback_scsv(void **state)
{
    (void)state;
    tlsv_server_choice ch;
    tlsv_error e;
    tlsv_vcfg c = auto_cfg(TLSV_VERSION_TLSv1, TLSV_VERSION_MAXIMUM_SUPPORTED, 0);

    /* RFC 7507: a client at 1.1 with SCSV, a server that has 1.3 */
    tlsv_offer_view o = legacy_offer(0x0302);
    o.fallback_scsv = true;
    assert_int_equal(tlsv_vp_server_select(&c, &o, &ch, &e), -1);
    assert_int_equal(e.reason, TLSV_R_INAPPROPRIATE_FALLBACK);
    assert_int_equal(e.alert, TLSV_ALERT_INAPPROPRIATE_FALLBACK);
    assert_non_null(strstr(e.message, "RFC 7507"));

    /* the server's max equals the offer: fine */
    tlsv_vcfg capped = auto_cfg(TLSV_VERSION_TLSv1, TLSV_VERSION_TLSv1_1, 0);
    assert_int_equal(tlsv_vp_server_select(&capped, &o, &ch, &e), 0);
    assert_int_equal(ch.version, 0x0302);

    /* SCSV with supported_versions topping at 1.3 at a 1.3 server: fine */
    const uint16_t v[] = {0x0304, 0x0303};
    o = sv_offer(v, 2);
    o.fallback_scsv = true;
    assert_int_equal(tlsv_vp_server_select(&c, &o, &ch, &e), 0);
    assert_int_equal(ch.version, 0x0304);

    /* a version failure is reported as such, not as a fallback */
    tlsv_vcfg only13 = auto_cfg(TLSV_VERSION_TLSv1_3, TLSV_VERSION_MAXIMUM_SUPPORTED, 0);
    o = legacy_offer(0x0303);
    o.fallback_scsv = true;
    assert_int_equal(tlsv_vp_server_select(&only13, &o, &ch, &e), -1);
    assert_int_equal(e.reason, TLSV_R_UNSUPPORTED_PROTOCOL);
}

static void test_server_empty_configuration(void **state)
{
    (void)state;
    tlsv_server_choice ch;
    tlsv_error e;
    const uint16_t v[] = {0x0304, 0x0303};
    tlsv_offer_view o = sv_offer(v, 2);

    tlsv_vcfg inverted = auto_cfg(TLSV_VERSION_TLSv1_3, TLSV_VERSION_TLSv1_2, 0);
    assert_int_equal(tlsv_vp_server_select(&inverted, &o, &ch, &e), -1);
    assert_int_equal(e.reason, TLSV_R_NO_PROTOCOLS_AVAILABLE);
    assert_int_equal(e.alert, TLSV_ALERT_PROTOCOL_VERSION);
    assert_non_null(strstr(e.message, "minimum_version TLSv1_3 is above maximum_version TLSv1_2"));

    tlsv_vcfg flags = auto_cfg(TLSV_VERSION_TLSv1_2, TLSV_VERSION_MAXIMUM_SUPPORTED,
                               TLSV_OP_NO_TLSv1_2 | TLSV_OP_NO_TLSv1_3);
    assert_int_equal(tlsv_vp_server_select(&flags, &o, &ch, &e), -1);
    assert_int_equal(e.reason, TLSV_R_NO_PROTOCOLS_AVAILABLE);
    assert_non_null(strstr(e.message, "OP_NO_TLSv1_2"));
    assert_non_null(strstr(e.message, "OP_NO_TLSv1_3"));

    tlsv_vcfg ssl3max = auto_cfg(TLSV_VERSION_MINIMUM_SUPPORTED, TLSV_VERSION_SSLv3, 0);
    assert_int_equal(tlsv_vp_server_select(&ssl3max, &o, &ch, &e), -1);
    assert_int_equal(e.reason, TLSV_R_NO_PROTOCOLS_AVAILABLE);
}

/* ---- the client's offer and check --------------------------------------- */

static void test_client_offer_forms(void **state)
{
    (void)state;
    tlsv_client_offer off;
    tlsv_error e;
    tlsv_vcfg c = auto_cfg(TLSV_VERSION_TLSv1, TLSV_VERSION_MAXIMUM_SUPPORTED, 0);
    c.protocol = TLSV_PROTOCOL_TLS_CLIENT;
    assert_int_equal(tlsv_vp_client_offer(&c, false, &off, &e), 0);
    assert_true(off.has_supported_versions);
    assert_int_equal(off.legacy_version, 0x0303);
    assert_int_equal(off.record_version, 0x0301);
    assert_int_equal(off.n_versions, 4);
    assert_int_equal(off.versions[0], 0x0304);
    assert_int_equal(off.versions[3], 0x0301);

    c.max_version = TLSV_VERSION_TLSv1_1;
    assert_int_equal(tlsv_vp_client_offer(&c, true, &off, &e), 0);
    assert_false(off.has_supported_versions);
    assert_int_equal(off.legacy_version, 0x0302);
    assert_true(off.fallback_scsv);

    c.max_version = TLSV_VERSION_SSLv3;
    assert_int_equal(tlsv_vp_client_offer(&c, false, &off, &e), -1);
    assert_int_equal(e.reason, TLSV_R_NO_PROTOCOLS_AVAILABLE);
    assert_int_equal(e.side, TLSV_SIDE_LOCAL);
}

static void check_sh(const tlsv_vcfg *c, const tlsv_client_offer *off, uint16_t legacy, bool sv,
                     uint16_t sel, tlsv_sentinel s, int want_rc, tlsv_reason want_reason,
                     int want_alert)
{
    uint8_t random[32] = {0};
    tlsv_vp_write_sentinel(s, random);
    tlsv_server_hello_view sh = {.legacy_version = legacy, .has_supported_versions = sv,
                                 .selected_version = sel, .random = random};
    uint16_t got = 0;
    tlsv_error e;
    memset(&e, 0, sizeof e);
    int rc = tlsv_vp_client_check(c, off, &sh, &got, &e);
    assert_int_equal(rc, want_rc);
    if (rc == 0) {
        assert_int_equal(got, sv ? sel : legacy);
    } else {
        assert_int_equal(e.reason, want_reason);
        assert_int_equal(e.alert, want_alert);
        assert_int_equal(e.side, TLSV_SIDE_LOCAL);
        assert_true(strlen(e.message) > 20);
    }
}

static void test_client_check(void **state)
{
    (void)state;
    tlsv_client_offer off;
    tlsv_error e;
    tlsv_vcfg c = auto_cfg(TLSV_VERSION_TLSv1_2, TLSV_VERSION_MAXIMUM_SUPPORTED, 0);
    c.protocol = TLSV_PROTOCOL_TLS_CLIENT;
    assert_int_equal(tlsv_vp_client_offer(&c, false, &off, &e), 0);

    check_sh(&c, &off, 0x0303, true, 0x0304, TLSV_SENTINEL_NONE, 0, 0, 0);
    check_sh(&c, &off, 0x0303, false, 0, TLSV_SENTINEL_NONE, 0, 0, 0);
    /* a TLS 1.3 client checks both sentinels at <= 1.2 (RFC 8446 §4.1.3) */
    check_sh(&c, &off, 0x0303, false, 0, TLSV_SENTINEL_TLS12, -1,
             TLSV_R_INAPPROPRIATE_FALLBACK, TLSV_ALERT_ILLEGAL_PARAMETER);
    check_sh(&c, &off, 0x0303, false, 0, TLSV_SENTINEL_TLS11, -1,
             TLSV_R_INAPPROPRIATE_FALLBACK, TLSV_ALERT_ILLEGAL_PARAMETER);
    /* the sentinel bytes at TLS 1.3 mean nothing */
    check_sh(&c, &off, 0x0303, true, 0x0304, TLSV_SENTINEL_TLS12, 0, 0, 0);
    /* supported_versions may only select an offered version >= 1.3 */
    check_sh(&c, &off, 0x0303, true, 0x0303, TLSV_SENTINEL_NONE, -1,
             TLSV_R_BAD_PROTOCOL_VERSION_NUMBER, TLSV_ALERT_ILLEGAL_PARAMETER);
    check_sh(&c, &off, 0x0303, true, 0x0305, TLSV_SENTINEL_NONE, -1,
             TLSV_R_BAD_PROTOCOL_VERSION_NUMBER, TLSV_ALERT_ILLEGAL_PARAMETER);
    /* TLS 1.3 announced in legacy_version alone is not TLS 1.3 */
    check_sh(&c, &off, 0x0304, false, 0, TLSV_SENTINEL_NONE, -1, TLSV_R_UNSUPPORTED_PROTOCOL,
             TLSV_ALERT_PROTOCOL_VERSION);
    /* below the minimum */
    check_sh(&c, &off, 0x0301, false, 0, TLSV_SENTINEL_NONE, -1, TLSV_R_UNSUPPORTED_PROTOCOL,
             TLSV_ALERT_PROTOCOL_VERSION);

    /* a TLS 1.2-topped client checks DOWNGRD\x00 at <= 1.1, not \x01 */
    tlsv_vcfg c12 = auto_cfg(TLSV_VERSION_TLSv1, TLSV_VERSION_TLSv1_2, 0);
    c12.protocol = TLSV_PROTOCOL_TLS_CLIENT;
    assert_int_equal(tlsv_vp_client_offer(&c12, false, &off, &e), 0);
    check_sh(&c12, &off, 0x0302, false, 0, TLSV_SENTINEL_TLS11, -1,
             TLSV_R_INAPPROPRIATE_FALLBACK, TLSV_ALERT_ILLEGAL_PARAMETER);
    check_sh(&c12, &off, 0x0302, false, 0, TLSV_SENTINEL_NONE, 0, 0, 0);
    check_sh(&c12, &off, 0x0303, false, 0, TLSV_SENTINEL_TLS12, 0, 0, 0);
    /* it never offered supported_versions: an answer in it is unsolicited */
    check_sh(&c12, &off, 0x0303, true, 0x0304, TLSV_SENTINEL_NONE, -1,
             TLSV_R_UNSOLICITED_EXTENSION, TLSV_ALERT_UNSUPPORTED_EXTENSION);

    /* a fixed client: WRONG_SSL_VERSION */
    tlsv_vcfg f = fixed_cfg(TLSV_PROTOCOL_TLSv1_1);
    assert_int_equal(tlsv_vp_client_offer(&f, false, &off, &e), 0);
    assert_true(off.fixed);
    check_sh(&f, &off, 0x0301, false, 0, TLSV_SENTINEL_NONE, -1, TLSV_R_WRONG_SSL_VERSION,
             TLSV_ALERT_PROTOCOL_VERSION);
    check_sh(&f, &off, 0x0302, false, 0, TLSV_SENTINEL_NONE, 0, 0, 0);
}

static void test_suites_cover(void **state)
{
    (void)state;
    tlsv_client_offer off;
    tlsv_error e;
    tlsv_vcfg only13 = auto_cfg(TLSV_VERSION_TLSv1_3, TLSV_VERSION_MAXIMUM_SUPPORTED, 0);
    assert_int_equal(tlsv_vp_client_offer(&only13, false, &off, &e), 0);
    assert_true(tlsv_vp_offer_has_suites_for(&off, 0x0304));
    assert_false(tlsv_vp_offer_has_suites_for(&off, 0x0303));
    tlsv_vcfg only12 = fixed_cfg(TLSV_PROTOCOL_TLSv1_2);
    assert_int_equal(tlsv_vp_client_offer(&only12, false, &off, &e), 0);
    assert_true(tlsv_vp_offer_has_suites_for(&off, 0x0301));
    assert_false(tlsv_vp_offer_has_suites_for(&off, 0x0304));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enabled_and_run),
        cmocka_unit_test(test_vset_describe),
        cmocka_unit_test(test_server_tolerates_unknown_and_grease),
        cmocka_unit_test(test_server_legacy_version_forms),
        cmocka_unit_test(test_server_sentinels),
        cmocka_unit_test(test_server_fixed_version),
        cmocka_unit_test(test_server_fallback_scsv),
        cmocka_unit_test(test_server_empty_configuration),
        cmocka_unit_test(test_client_offer_forms),
        cmocka_unit_test(test_client_check),
        cmocka_unit_test(test_suites_cover),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
