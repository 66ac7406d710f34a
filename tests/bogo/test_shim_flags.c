/*
 * test_shim_flags.c -- the BoGo shim's command line (tests/bogo/shim_flags.c)
 * and the program's answers that need no runner: -is-handshaker-supported
 * prints "No", an unknown flag exits 89.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "shim_flags.h"

#define ARGV(...) ((char *[]){"bogo_shim", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"bogo_shim", __VA_ARGS__}) / sizeof(char *)))

static int parse(int argc, char **argv, bogo_config *i, bogo_config *r, bogo_config *t, char *msg)
{
    return bogo_parse_flags(argc, argv, i, r, t, msg, 256);
}

static void known_flags_parse(void **state)
{
    (void)state;
    bogo_config i, r, t;
    char msg[256];
    char **argv = ARGV("-port", "4433", "-server", "-key-file", "k.pem", "-cert-file", "c.pem",
                       "-min-version", "771", "-max-version", "772", "-no-tls1", "-no-tls11",
                       "-expect-version", "772", "-fallback-scsv", "-shim-writes-first",
                       "-resume-count", "2", "-expect-session-miss", "-select-alpn", "foo",
                       "-host-name", "example.com", "-cipher", "DEFAULT:!AES", "-curves", "29",
                       "-curves", "23", "-check-close-notify");
    int argc = ARGC("-port", "4433", "-server", "-key-file", "k.pem", "-cert-file", "c.pem",
                    "-min-version", "771", "-max-version", "772", "-no-tls1", "-no-tls11",
                    "-expect-version", "772", "-fallback-scsv", "-shim-writes-first",
                    "-resume-count", "2", "-expect-session-miss", "-select-alpn", "foo",
                    "-host-name", "example.com", "-cipher", "DEFAULT:!AES", "-curves", "29",
                    "-curves", "23", "-check-close-notify");
    assert_int_equal(parse(argc, argv, &i, &r, &t, msg), 0);
    bogo_config *all[3] = {&i, &r, &t};
    for (int k = 0; k < 3; k++) {
        bogo_config *c = all[k];
        assert_int_equal(c->port, 4433);
        assert_true(c->is_server);
        assert_string_equal(c->key_file, "k.pem");
        assert_string_equal(c->cert_file, "c.pem");
        assert_int_equal(c->min_version, 0x0303);
        assert_int_equal(c->max_version, 0x0304);
        assert_true(c->no_tls1 && c->no_tls11 && !c->no_tls12 && !c->no_tls13);
        assert_int_equal(c->expect_version, 0x0304);
        assert_true(c->fallback_scsv && c->shim_writes_first && c->expect_session_miss);
        assert_true(c->check_close_notify && !c->shim_shuts_down);
        assert_int_equal(c->resume_count, 2);
        assert_string_equal(c->select_alpn, "foo");
        assert_string_equal(c->host_name, "example.com");
        assert_string_equal(c->cipher, "DEFAULT:!AES");
        assert_int_equal(c->n_curves, 2);
        assert_int_equal(c->curves[0], 29);
        assert_int_equal(c->curves[1], 23);
    }
}

/* The verification flags and -expect-peer-cert-file (shim.c maps them
 * onto tlsv's verify modes). */
static void verification_flags_parse(void **state)
{
    (void)state;
    bogo_config i, r, t;
    char msg[256];
    assert_int_equal(parse(ARGC("-verify-peer", "-on-resume-verify-fail",
                                "-require-any-client-certificate", "-use-custom-verify-callback",
                                "-enforce-rsa-key-usage", "-expect-peer-cert-file", "p.pem"),
                           ARGV("-verify-peer", "-on-resume-verify-fail",
                                "-require-any-client-certificate", "-use-custom-verify-callback",
                                "-enforce-rsa-key-usage", "-expect-peer-cert-file", "p.pem"),
                           &i, &r, &t, msg),
                     0);
    assert_true(i.verify_peer && r.verify_peer && t.verify_peer);
    assert_true(!i.verify_fail && r.verify_fail && !t.verify_fail);
    assert_true(i.require_any_client_certificate && i.use_custom_verify_callback);
    assert_true(i.enforce_rsa_key_usage);
    assert_string_equal(r.expect_peer_cert_file, "p.pem");
}

static void prefixes_select_a_connection(void **state)
{
    (void)state;
    bogo_config i, r, t;
    char msg[256];
    assert_int_equal(parse(ARGC("-on-initial-expect-alpn", "a", "-on-resume-expect-alpn", "b",
                                "-on-retry-max-version", "771", "-on-shim-no-tls13",
                                "-on-handshaker-no-tls12"),
                           ARGV("-on-initial-expect-alpn", "a", "-on-resume-expect-alpn", "b",
                                "-on-retry-max-version", "771", "-on-shim-no-tls13",
                                "-on-handshaker-no-tls12"),
                           &i, &r, &t, msg),
                     0);
    assert_string_equal(i.expect_alpn, "a");
    assert_string_equal(r.expect_alpn, "b");
    assert_null(t.expect_alpn);
    assert_int_equal(i.max_version, 0);
    assert_int_equal(r.max_version, 0);
    assert_int_equal(t.max_version, 0x0303);
    assert_true(i.no_tls13 && r.no_tls13 && t.no_tls13);
    assert_false(i.no_tls12 || r.no_tls12 || t.no_tls12);
}

static void unknown_flags_are_unimplemented(void **state)
{
    (void)state;
    bogo_config i, r, t;
    char msg[256];
    assert_int_equal(parse(ARGC("-port", "1", "-dtls"), ARGV("-port", "1", "-dtls"), &i, &r, &t,
                           msg),
                     BOGO_EXIT_UNIMPLEMENTED);
    assert_non_null(strstr(msg, "-dtls"));
    assert_int_equal(parse(ARGC("-on-resume-enable-early-data"),
                           ARGV("-on-resume-enable-early-data"), &i, &r, &t, msg),
                     BOGO_EXIT_UNIMPLEMENTED);
    assert_int_equal(parse(ARGC("-ech-config-list", "AAAA"), ARGV("-ech-config-list", "AAAA"), &i,
                           &r, &t, msg),
                     BOGO_EXIT_UNIMPLEMENTED);
}

static void bad_parameters_fail(void **state)
{
    (void)state;
    bogo_config i, r, t;
    char msg[256];
    assert_int_equal(parse(ARGC("-port"), ARGV("-port"), &i, &r, &t, msg), 1);
    assert_int_equal(parse(ARGC("-async", "-read-size", "1"), ARGV("-async", "-read-size", "1"),
                           &i, &r, &t, msg),
                     0);
    assert_true(i.async && r.async && t.async);
    assert_int_equal(i.read_size, 1);
    assert_int_equal(parse(ARGC("-min-version", "x"), ARGV("-min-version", "x"), &i, &r, &t, msg),
                     1);
    assert_non_null(strstr(msg, "-min-version"));
}

static void alpn_wire_format(void **state)
{
    (void)state;
    char store[64];
    const char *names[4];
    assert_int_equal(bogo_parse_alpn_wire("\x03" "foo" "\x03" "bar", store, sizeof store, names, 4),
                     2);
    assert_string_equal(names[0], "foo");
    assert_string_equal(names[1], "bar");
    assert_int_equal(bogo_parse_alpn_wire("\x05" "foo", store, sizeof store, names, 4), -1);
    assert_int_equal(bogo_parse_alpn_wire("", store, sizeof store, names, 4), 0);
}

static void curve_ids(void **state)
{
    (void)state;
    assert_int_equal(bogo_curve_id("x25519"), 29);
    assert_int_equal(bogo_curve_id("P-256"), 23);
    assert_string_equal(bogo_curve_name(24), "P-384");
    assert_null(bogo_curve_name(16696)); /* CECPQ2: not in tlsv */
}

/* Runs the shim program; returns its exit status, stdout in out. */
static int run_shim(const char *args, char *out, size_t outlen)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>/dev/null", BOGO_SHIM_PATH, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void program_answers(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(run_shim("-is-handshaker-supported", out, sizeof out), 0);
    assert_string_equal(out, "No\n");
    assert_int_equal(run_shim("-port 1 -quic", out, sizeof out), 89);
    assert_int_equal(run_shim("-port 1 -max-version 65277", out, sizeof out), 89); /* DTLS 1.2 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_flags_parse),
        cmocka_unit_test(prefixes_select_a_connection),
        cmocka_unit_test(verification_flags_parse),
        cmocka_unit_test(unknown_flags_are_unimplemented),
        cmocka_unit_test(bad_parameters_fail),
        cmocka_unit_test(alpn_wire_format),
        cmocka_unit_test(curve_ids),
        cmocka_unit_test(program_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
