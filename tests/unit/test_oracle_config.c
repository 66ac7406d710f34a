/*
 * test_oracle_config.c -- replays config-observations.json (tests/data/oracle/,
 * recorded from upstream CPython 3.11's ssl module) against tlsv's
 * configuration model: constants, constructor defaults, the min/max
 * setters, sequences of settings, verify_mode/check_hostname, and the
 * version() strings.
 *
 * Every section collects all its mismatches, prints them and fails if there
 * is any. What cannot be expressed in C is skipped *and counted* (Python
 * TypeError rows, `options = 2**64`, Python-only constructors, rows that
 * need a connection); anything else the test does not understand -- a new
 * step text, exception, constant or label -- is a failure, so that a
 * regenerated oracle cannot pass by being ignored.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "oracle_util.h"

static json_t *g_config; /* config-observations.json */

/* Prints a section's tally and mismatches, frees the report, and fails the
 * test if there was any mismatch. */
static void finish_section(const char *section, size_t checked, size_t skipped,
                           const char *skipped_what, oracle_report *rep)
{
    size_t mismatches = rep->items;
    printf("[ oracle   ] %s: %zu rows checked, %zu skipped%s%s%s, %zu mismatching\n", section,
           checked, skipped, skipped ? " (" : "", skipped ? skipped_what : "", skipped ? ")" : "",
           mismatches);
    if (mismatches)
        printf("%s", rep->text);
    fflush(stdout); /* before cmocka reports on stderr */
    oracle_report_free(rep);
    if (mismatches)
        fail_msg("%s: %zu rows differ from the oracle (listed above)", section, mismatches);
}

/* Adds one mismatch (one counted item) to the report. */
#define MISMATCH(rep, ...)                                                                         \
    do {                                                                                           \
        (rep)->items++;                                                                            \
        oracle_report_add((rep), __VA_ARGS__);                                                     \
    } while (0)

/* The tlsv reason that stands for one of the oracle's exceptions. Returns
 * true and sets *out for a known ValueError; false for anything else (the
 * caller decides whether that is a skip, e.g. TypeError, or a failure). */
static bool reason_for_exception(const json_t *exc, tlsv_reason *out)
{
    static const struct {
        const char *class_name;
        const char *message_prefix;
        tlsv_reason reason;
    } map[] = {
        {"ValueError", "Unsupported TLS/SSL version", TLSV_R_UNSUPPORTED_VERSION},
        {"ValueError", "The context's protocol doesn't support modification",
         TLSV_R_VERSION_BOUNDS_FIXED},
        {"ValueError", "Cannot set verify_mode to CERT_NONE when check_hostname is enabled",
         TLSV_R_CHECK_HOSTNAME_NEEDS_VERIFY},
    };
    const char *cls = oracle_str(exc, "class"), *msg = oracle_str(exc, "message");
    if (!cls || !msg)
        return false;
    for (size_t i = 0; i < ORACLE_COUNT(map); i++) {
        if (strcmp(cls, map[i].class_name) == 0 &&
            strncmp(msg, map[i].message_prefix, strlen(map[i].message_prefix)) == 0) {
            *out = map[i].reason;
            return true;
        }
    }
    return false;
}

static bool exception_is(const json_t *exc, const char *class_name)
{
    const char *cls = oracle_str(exc, "class");
    return cls && strcmp(cls, class_name) == 0;
}

/* ---------------------------------------------------------------------- */
/* constants (and the build's capabilities)                               */
/* ---------------------------------------------------------------------- */

/* Creating a PROTOCOL_SSLv3 context, which Python 3.11 does not even have:
 * tlsv has the constant but refuses it with SSLV3_NOT_COMPILED_IN unless
 * the build includes SSL 3.0 (-DTLSV_ENABLE_SSL3=ON, SPEC §1). */
static void check_sslv3_protocol(oracle_report *rep)
{
    tlsv_error err;
    tlsv_ctx *ctx = tlsv_ctx_new(TLSV_PROTOCOL_SSLv3, &err);
    if (tlsv_has_ssl3()) {
        if (!ctx)
            MISMATCH(rep, "  PROTOCOL_SSLv3: an SSL 3.0 build refuses it: %s\n",
                     tlsv_reason_name(err.reason));
    } else if (ctx) {
        MISMATCH(rep, "  PROTOCOL_SSLv3: created although SSL 3.0 is not compiled in\n");
    } else if (err.reason != TLSV_R_SSLV3_NOT_COMPILED_IN) {
        MISMATCH(rep, "  PROTOCOL_SSLv3: fails with %s, not SSLV3_NOT_COMPILED_IN\n",
                 tlsv_reason_name(err.reason));
    }
    tlsv_ctx_free(ctx);
}

static void test_constants(void **state)
{
    (void)state;
    oracle_report rep = {0};
    size_t checked = 0, skipped = 0;
    const char *key;
    json_t *val;

    /* every OP_*, PROTOCOL_*, CERT_*, TLSVersion.* value */
    json_object_foreach(json_object_get(g_config, "constants"), key, val) {
        checked++;
        if (!json_is_object(val)) {
            /* the two remarks of the generator, each a checkable claim */
            if (strcmp(key, "PROTOCOL_SSLv23 is PROTOCOL_TLS") == 0) {
                if (json_is_true(val) != (TLSV_PROTOCOL_SSLv23 == TLSV_PROTOCOL_TLS))
                    MISMATCH(&rep, "  %s: oracle %s, tlsv differs\n", key,
                             json_is_true(val) ? "true" : "false");
            } else if (strcmp(key, "OP_ALL_minus_openssl_note") == 0) {
                /* OP_ALL leaves out SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS (0x800) */
                if (TLSV_OP_ALL & TLSV_OP_DONT_INSERT_EMPTY_FRAGMENTS)
                    MISMATCH(&rep, "  OP_ALL includes DONT_INSERT_EMPTY_FRAGMENTS (0x800)\n");
            } else {
                MISMATCH(&rep, "  constants: unrecognized entry \"%s\"\n", key);
            }
            continue;
        }
        const json_t *jint = json_object_get(val, "int");
        const char *member = oracle_enum_member(oracle_str(val, "enum"));
        if (!json_is_integer(jint) || !member) {
            MISMATCH(&rep, "  %s: oracle entry unreadable\n", key);
            continue;
        }
        long long want = json_integer_value(jint);
        if (strncmp(key, "OP_", 3) == 0) {
            tlsv_options bits, parsed;
            if (!oracle_option(key, &bits)) {
                MISMATCH(&rep, "  %s: tlsv.h has no TLSV_%s (Python value 0x%llx)\n", key, key,
                         (unsigned long long)want);
                continue;
            }
            if ((long long)bits != want)
                MISMATCH(&rep, "  %s: oracle 0x%llx, tlsv 0x%llx\n", key, (unsigned long long)want,
                         (unsigned long long)bits);
            /* and tlsv's own name lookup agrees with its header */
            if (tlsv_option_parse(key, &parsed) != 0 || parsed != bits)
                MISMATCH(&rep, "  %s: tlsv_option_parse() does not return TLSV_%s\n", key, key);
        } else if (strncmp(key, "PROTOCOL_", 9) == 0) {
            int p;
            const char *name;
            if (!oracle_protocol(key, &p)) {
                MISMATCH(&rep, "  %s: tlsv.h has no TLSV_%s\n", key, key);
                continue;
            }
            if (p != want)
                MISMATCH(&rep, "  %s: oracle %lld, tlsv %d\n", key, want, p);
            /* the member it is (PROTOCOL_SSLv23 is PROTOCOL_TLS) */
            name = tlsv_protocol_name(p);
            if (!name || strcmp(name, member) != 0)
                MISMATCH(&rep, "  %s: oracle member %s, tlsv_protocol_name() %s\n", key, member,
                         name ? name : "NULL");
        } else if (strncmp(key, "CERT_", 5) == 0) {
            int mode;
            if (!oracle_verify_mode(key, &mode))
                MISMATCH(&rep, "  %s: tlsv.h has no TLSV_%s\n", key, key);
            else if (mode != want)
                MISMATCH(&rep, "  %s: oracle %lld, tlsv %d\n", key, want, mode);
        } else if (strncmp(key, "TLSVersion.", 11) == 0) {
            int v;
            const char *name;
            if (!oracle_version(key, &v)) {
                MISMATCH(&rep, "  %s: tlsv.h has no TLSV_VERSION_%s\n", key, key + 11);
                continue;
            }
            if (v != want)
                MISMATCH(&rep, "  %s: oracle %lld, tlsv %d\n", key, want, v);
            name = tlsv_version_name(v);
            if (!name || strcmp(name, member) != 0)
                MISMATCH(&rep, "  %s: tlsv_version_name() %s\n", key, name ? name : "NULL");
        } else {
            MISMATCH(&rep, "  constants: unrecognized constant \"%s\"\n", key);
        }
    }

    /* build capabilities: HAS_* as the versions a context can enable at all */
    tlsv_ctx *ctx = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, NULL);
    assert_non_null(ctx);
    tlsv_ctx_set_minimum_version(ctx, TLSV_VERSION_SSLv3); /* also lifts OP_NO_SSLv3 */
    int enabled[8];
    size_t n_enabled = tlsv_ctx_enabled_versions(ctx, TLSV_ROLE_SERVER, enabled, 8);
    tlsv_ctx_free(ctx);
    json_object_foreach(json_object_get(json_object_get(g_config, "build"), "HAS"), key, val) {
        int v = 0;
        bool has = false;
        if (strcmp(key, "HAS_SSLv2") == 0) {
            /* tlsv never speaks SSL 2.0 */
            checked++;
            if (json_is_true(val))
                MISMATCH(&rep, "  HAS_SSLv2: oracle true, tlsv has no SSL 2.0\n");
            continue;
        }
        if (strncmp(key, "HAS_", 4) != 0 || !oracle_version(key + 4, &v)) {
            MISMATCH(&rep, "  build.HAS: unrecognized flag \"%s\"\n", key);
            continue;
        }
        if (v == TLSV_VERSION_SSLv3 && tlsv_has_ssl3()) {
            skipped++; /* a build configured with SSL 3.0: a deliberate difference */
            continue;
        }
        checked++;
        for (size_t i = 0; i < n_enabled && i < 8; i++)
            has = has || enabled[i] == v;
        if (has != json_is_true(val))
            MISMATCH(&rep, "  %s: oracle %s, tlsv %s\n", key, json_is_true(val) ? "true" : "false",
                     has ? "true" : "false");
    }

    /* which protocol constants exist */
    json_object_foreach(
        json_object_get(json_object_get(g_config, "build"), "protocol_constant_exists"), key, val) {
        int p;
        checked++;
        if (!oracle_protocol(key, &p)) {
            /* tlsv lacks it too (PROTOCOL_SSLv2): fine only if Python does */
            if (json_is_true(val))
                MISMATCH(&rep, "  %s exists in Python; tlsv.h has no TLSV_%s\n", key, key);
            continue;
        }
        if (p == TLSV_PROTOCOL_SSLv3) {
            /* not in Python 3.11; in tlsv's header, but refused unless compiled in */
            check_sslv3_protocol(&rep);
            continue;
        }
        tlsv_error err;
        tlsv_ctx *c = tlsv_ctx_new(p, &err);
        if (json_is_true(val) != (c != NULL))
            MISMATCH(&rep, "  %s: exists %s in Python, tlsv_ctx_new %s\n", key,
                     json_is_true(val) ? "true" : "false",
                     c ? "succeeds" : tlsv_reason_name(err.reason));
        tlsv_ctx_free(c);
    }
    finish_section("constants and build", checked, skipped, "HAS_SSLv3 in an SSL 3.0 build", &rep);
}

/* ---------------------------------------------------------------------- */
/* defaults per constructor                                               */
/* ---------------------------------------------------------------------- */

/* Compares a new context with the oracle's defaults row. */
static void compare_defaults(const char *key, const json_t *row, tlsv_ctx *ctx, oracle_report *rep)
{
    oracle_report diffs = {0};
    int want;
    const char *proto = oracle_enum_member(oracle_str(row, "protocol"));
    const char *got_proto = tlsv_protocol_name(tlsv_ctx_get_protocol(ctx));
    if (!proto || !got_proto || strcmp(proto, got_proto) != 0)
        oracle_report_add(&diffs, "    protocol: oracle %s, tlsv %s\n", proto ? proto : "?",
                          got_proto ? got_proto : "NULL");
    oracle_compare_readback(ctx, row, "readback", &diffs);
    if (!oracle_verify_mode(oracle_str(row, "verify_mode"), &want))
        oracle_report_add(&diffs, "    oracle verify_mode unreadable\n");
    else if (tlsv_ctx_get_verify_mode(ctx) != want)
        oracle_report_add(&diffs, "    verify_mode: oracle %d, tlsv %d\n", want,
                          tlsv_ctx_get_verify_mode(ctx));
    const json_t *ch = json_object_get(row, "check_hostname");
    if (!json_is_boolean(ch))
        oracle_report_add(&diffs, "    oracle check_hostname unreadable\n");
    else if (tlsv_ctx_get_check_hostname(ctx) != (json_is_true(ch) ? 1 : 0))
        oracle_report_add(&diffs, "    check_hostname: oracle %d, tlsv %d\n",
                          json_is_true(ch) ? 1 : 0, tlsv_ctx_get_check_hostname(ctx));
    if (diffs.len) {
        MISMATCH(rep, "  %s:\n", key);
        oracle_report_append(rep, &diffs);
    }
    oracle_report_free(&diffs);
}

static void test_defaults(void **state)
{
    (void)state;
    /* constructors that exist only in Python (tlsv has tlsv_ctx_new only) */
    static const char *const python_only[] = {
        "SSLContext() (no argument)",
        "create_default_context()",
        "create_default_context(Purpose.CLIENT_AUTH)",
        "_create_unverified_context()",
    };
    oracle_report rep = {0};
    size_t checked = 0, skipped = 0;
    const char *key;
    json_t *row;

    json_object_foreach(json_object_get(g_config, "defaults"), key, row) {
        int p;
        const json_t *exists = json_object_get(row, "exists");
        if (oracle_protocol(key, &p)) {
            checked++;
            if (json_is_false(exists)) {
                if (p == TLSV_PROTOCOL_SSLv3)
                    check_sslv3_protocol(&rep);
                else
                    MISMATCH(&rep, "  %s: not in Python, but in tlsv.h\n", key);
                continue;
            }
            tlsv_error err;
            tlsv_ctx *ctx = tlsv_ctx_new(p, &err);
            if (!ctx) {
                MISMATCH(&rep, "  %s: tlsv_ctx_new failed: %s\n", key,
                         tlsv_reason_name(err.reason));
                continue;
            }
            compare_defaults(key, row, ctx, &rep);
            tlsv_ctx_free(ctx);
            continue;
        }
        bool known_python_only = false;
        for (size_t i = 0; i < ORACLE_COUNT(python_only); i++)
            known_python_only = known_python_only || strcmp(key, python_only[i]) == 0;
        if (known_python_only || (strncmp(key, "PROTOCOL_", 9) == 0 && json_is_false(exists)))
            skipped++; /* Python-only constructor, or a constant neither has (PROTOCOL_SSLv2) */
        else
            MISMATCH(&rep, "  defaults: unrecognized constructor \"%s\"\n", key);
    }

    /* ctx.protocol reads back the constant (SSLv23 as PROTOCOL_TLS) */
    json_object_foreach(json_object_get(g_config, "protocol_attribute"), key, row) {
        int p;
        checked++;
        if (!oracle_protocol(key, &p)) {
            MISMATCH(&rep, "  protocol_attribute: unrecognized constant \"%s\"\n", key);
            continue;
        }
        tlsv_ctx *ctx = tlsv_ctx_new(p, NULL);
        if (!ctx) {
            MISMATCH(&rep, "  protocol_attribute %s: tlsv_ctx_new failed\n", key);
            continue;
        }
        const char *member = oracle_enum_member(oracle_str(row, "ctx.protocol"));
        const char *name = tlsv_protocol_name(tlsv_ctx_get_protocol(ctx));
        const json_t *jint = json_object_get(row, "int");
        if (!json_is_integer(jint) || json_integer_value(jint) != tlsv_ctx_get_protocol(ctx) ||
            !member || !name || strcmp(member, name) != 0)
            MISMATCH(&rep, "  protocol_attribute %s: oracle %s (%lld), tlsv %s (%d)\n", key,
                     member ? member : "?", (long long)json_integer_value(jint),
                     name ? name : "NULL", tlsv_ctx_get_protocol(ctx));
        tlsv_ctx_free(ctx);
    }
    finish_section("defaults and protocol_attribute", checked, skipped,
                   "Python-only constructors and PROTOCOL_SSLv2", &rep);
}

/* ---------------------------------------------------------------------- */
/* minmax_set: one setter call on a fresh context                         */
/* ---------------------------------------------------------------------- */

/* The value of a minmax_set row label: "TLSVersion.TLSv1_2" or "int 0x0303"
 * / "int -3". Returns false for a label that names no C int. */
static bool parse_value_label(const char *label, int *out)
{
    if (strncmp(label, "TLSVersion.", 11) == 0)
        return oracle_version(label, out);
    if (strncmp(label, "int ", 4) == 0) {
        char *end;
        errno = 0;
        long v = strtol(label + 4, &end, 0);
        if (errno || end == label + 4 || *end != '\0' || v < INT_MIN || v > INT_MAX)
            return false;
        *out = (int)v;
        return true;
    }
    return false;
}

/* Checks the oracle's exception (or its absence) against a tlsv call's
 * result rc and the context's last error. */
static void compare_exception(const json_t *exc, int rc, const tlsv_ctx *ctx, const char *what,
                              oracle_report *diffs)
{
    tlsv_reason want;
    if (!exc) {
        if (rc != 0)
            oracle_report_add(diffs, "    %s: oracle no exception, tlsv fails with %s\n", what,
                              tlsv_reason_name(tlsv_ctx_last_error(ctx)->reason));
        return;
    }
    if (!reason_for_exception(exc, &want)) {
        oracle_report_add(diffs, "    %s: unrecognized exception %s: %s\n", what,
                          oracle_str(exc, "class") ? oracle_str(exc, "class") : "?",
                          oracle_str(exc, "message") ? oracle_str(exc, "message") : "?");
        return;
    }
    if (rc == 0)
        oracle_report_add(diffs, "    %s: oracle %s \"%s\" (%s), tlsv succeeds\n", what,
                          oracle_str(exc, "class"), oracle_str(exc, "message"),
                          tlsv_reason_name(want));
    else if (tlsv_ctx_last_error(ctx)->reason != want)
        oracle_report_add(diffs, "    %s: oracle %s, tlsv %s\n", what, tlsv_reason_name(want),
                          tlsv_reason_name(tlsv_ctx_last_error(ctx)->reason));
}

static void test_minmax_set(void **state)
{
    (void)state;
    oracle_report rep = {0};
    size_t checked = 0, skipped = 0;
    const char *proto_name, *attr, *label;
    json_t *attrs, *rows, *row;

    json_object_foreach(json_object_get(g_config, "minmax_set"), proto_name, attrs) {
        int p;
        if (!oracle_protocol(proto_name, &p)) {
            MISMATCH(&rep, "  minmax_set: unrecognized protocol \"%s\"\n", proto_name);
            continue;
        }
        json_object_foreach(attrs, attr, rows) {
            bool is_min = strcmp(attr, "minimum_version") == 0;
            if (!is_min && strcmp(attr, "maximum_version") != 0) {
                MISMATCH(&rep, "  minmax_set %s: unrecognized attribute \"%s\"\n", proto_name,
                         attr);
                continue;
            }
            json_object_foreach(rows, label, row) {
                const json_t *exc = json_object_get(row, "exception");
                oracle_report diffs = {0};
                char b1[24], b2[24];
                int value, want, got;

                if (exc && exception_is(exc, "TypeError")) {
                    skipped++; /* a non-int value (str, None): C's type system refuses it */
                    continue;
                }
                checked++;
                if (!parse_value_label(label, &value)) {
                    MISMATCH(&rep, "  minmax_set %s.%s: unrecognized value \"%s\"\n", proto_name,
                             attr, label);
                    continue;
                }
                tlsv_ctx *ctx = tlsv_ctx_new(p, NULL);
                if (!ctx) {
                    MISMATCH(&rep, "  minmax_set %s: tlsv_ctx_new failed\n", proto_name);
                    continue;
                }
                tlsv_options before = tlsv_ctx_get_options(ctx);
                int rc = is_min ? tlsv_ctx_set_minimum_version(ctx, value)
                                : tlsv_ctx_set_maximum_version(ctx, value);
                tlsv_options after = tlsv_ctx_get_options(ctx);

                compare_exception(exc, rc, ctx, "exception", &diffs);
                /* the read-back after the call (unchanged after an exception) */
                got =
                    is_min ? tlsv_ctx_get_minimum_version(ctx) : tlsv_ctx_get_maximum_version(ctx);
                if (!oracle_version(oracle_str(row, "readback"), &want))
                    oracle_report_add(&diffs, "    oracle readback unreadable\n");
                else if (!is_min && value == TLSV_VERSION_MINIMUM_SUPPORTED && !exc &&
                         tlsv_has_ssl3() && want == TLSV_VERSION_TLSv1 &&
                         got == TLSV_VERSION_SSLv3)
                    ; /* the lowest compiled version: SSLv3 in an SSL 3.0 build */
                else if (got != want)
                    oracle_report_add(&diffs, "    readback: oracle %s, tlsv %s\n",
                                      oracle_version_label(want, b1, sizeof b1),
                                      oracle_version_label(got, b2, sizeof b2));
                /* options_changed: "0x82520050 -> 0x80520050", or no change */
                const char *changed = oracle_str(row, "options_changed");
                if (changed) {
                    char from[32], to[32];
                    tlsv_options wf, wt;
                    if (sscanf(changed, "%31s -> %31s", from, to) != 2 ||
                        !oracle_options_hex(from, &wf) || !oracle_options_hex(to, &wt))
                        oracle_report_add(&diffs, "    oracle options_changed \"%s\" unreadable\n",
                                          changed);
                    else if (before != wf || after != wt)
                        oracle_report_add(
                            &diffs, "    options_changed: oracle %s, tlsv 0x%llx -> 0x%llx%s\n",
                            changed, (unsigned long long)before, (unsigned long long)after,
                            before == after ? " (unchanged)" : "");
                } else if (before != after) {
                    oracle_report_add(&diffs,
                                      "    options: oracle unchanged, tlsv 0x%llx -> 0x%llx\n",
                                      (unsigned long long)before, (unsigned long long)after);
                }
                if (diffs.len) {
                    MISMATCH(&rep, "  %s: %s = %s\n", proto_name, attr, label);
                    oracle_report_append(&rep, &diffs);
                }
                oracle_report_free(&diffs);
                tlsv_ctx_free(ctx);
            }
        }
    }
    finish_section("minmax_set", checked, skipped, "TypeError rows: not expressible in C", &rep);
}

/* ---------------------------------------------------------------------- */
/* sequences: steps on one context, read back after each                  */
/* ---------------------------------------------------------------------- */

typedef enum step_kind {
    STEP_NEW,            /* new SSLContext(PROTOCOL_...) */
    STEP_SET_MIN,        /* minimum_version = NAME */
    STEP_SET_MAX,        /* maximum_version = NAME */
    STEP_OPTIONS_OR,     /* options |= EXPR */
    STEP_OPTIONS_CLEAR,  /* options &= ~EXPR */
    STEP_OPTIONS_ASSIGN, /* options = EXPR */
    STEP_INEXPRESSIBLE   /* explicitly listed: not expressible in C */
} step_kind;

typedef struct step {
    step_kind kind;
    int value;            /* protocol or version */
    tlsv_options options; /* for the options steps */
} step;

/* Steps that Python can run but C cannot express. */
static const char *const inexpressible_steps[] = {
    "options = 2**64", /* OverflowError in Python; tlsv options are a uint64_t */
};

/* An options expression: "0", "OP_ALL", "OP_ALL | OP_NO_SSLv3 | OP_NO_TLSv1",
 * optionally in parentheses. */
static bool parse_options_expr(const char *text, tlsv_options *out)
{
    char buf[256];
    size_t len = strlen(text);
    if (len >= sizeof buf)
        return false;
    memcpy(buf, text, len + 1);
    char *s = buf;
    if (s[0] == '(' && len > 1 && s[len - 1] == ')') {
        s[len - 1] = '\0';
        s++;
    }
    *out = 0;
    for (char *save = NULL, *tok = strtok_r(s, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
        while (*tok == ' ')
            tok++;
        char *end = tok + strlen(tok);
        while (end > tok && end[-1] == ' ')
            *--end = '\0';
        tlsv_options bits;
        if (!oracle_option(tok, &bits)) {
            char *num_end;
            errno = 0;
            unsigned long long v = strtoull(tok, &num_end, 0);
            if (errno || num_end == tok || *num_end != '\0' || tok[0] == '-')
                return false;
            bits = (tlsv_options)v;
        }
        *out |= bits;
    }
    return true;
}

/* Parses a step text of the oracle's sequences; false if not understood. */
static bool parse_step(const char *text, step *st)
{
    char buf[256], name[128];
    size_t len = strlen(text);
    memset(st, 0, sizeof *st);
    if (len >= sizeof buf)
        return false;
    for (size_t i = 0; i < ORACLE_COUNT(inexpressible_steps); i++) {
        if (strcmp(text, inexpressible_steps[i]) == 0) {
            st->kind = STEP_INEXPRESSIBLE;
            return true;
        }
    }
    memcpy(buf, text, len + 1);
    if (sscanf(buf, "new SSLContext(%127[A-Za-z0-9_])", name) == 1 &&
        strlen(buf) == strlen("new SSLContext()") + strlen(name)) {
        st->kind = STEP_NEW;
        return oracle_protocol(name, &st->value);
    }
    /* drop a trailing remark: "options |= OP_NO_TLSv1_3 (bit already set)";
     * a parenthesized options expression names OP_* flags, a remark not */
    char *remark = NULL;
    for (char *at = strstr(buf, " ("); at; at = strstr(at + 1, " ("))
        remark = at;
    if (remark && buf[len - 1] == ')' && !strstr(remark, "OP_"))
        *remark = '\0';
    if (strncmp(buf, "minimum_version = ", 18) == 0) {
        st->kind = STEP_SET_MIN;
        return oracle_version(buf + 18, &st->value);
    }
    if (strncmp(buf, "maximum_version = ", 18) == 0) {
        st->kind = STEP_SET_MAX;
        return oracle_version(buf + 18, &st->value);
    }
    if (strncmp(buf, "options |= ", 11) == 0) {
        st->kind = STEP_OPTIONS_OR;
        return parse_options_expr(buf + 11, &st->options);
    }
    if (strncmp(buf, "options &= ~", 12) == 0) {
        st->kind = STEP_OPTIONS_CLEAR;
        return parse_options_expr(buf + 12, &st->options);
    }
    if (strncmp(buf, "options = ", 10) == 0) {
        st->kind = STEP_OPTIONS_ASSIGN;
        return parse_options_expr(buf + 10, &st->options);
    }
    return false;
}

static void test_sequences(void **state)
{
    (void)state;
    oracle_report rep = {0};
    size_t checked = 0, skipped = 0;
    const char *seq_name;
    json_t *steps;

    json_object_foreach(json_object_get(g_config, "sequences"), seq_name, steps) {
        tlsv_ctx *ctx = NULL;
        bool max_is_lowest = false; /* maximum_version was set to MINIMUM_SUPPORTED */
        size_t i;
        json_t *row;
        json_array_foreach(steps, i, row) {
            const char *text = oracle_str(row, "step");
            const json_t *exc = json_object_get(row, "exception");
            oracle_report diffs = {0};
            step st;
            int rc = 0;

            if (!text || !parse_step(text, &st)) {
                MISMATCH(&rep, "  sequence \"%s\" step %zu: unrecognized step \"%s\"\n", seq_name,
                         i, text ? text : "(none)");
                break; /* the rest would replay on a wrong state */
            }
            if ((st.kind == STEP_NEW) != (i == 0)) {
                MISMATCH(&rep,
                         "  sequence \"%s\" step %zu: a sequence starts with (only) one "
                         "\"new SSLContext(...)\"\n",
                         seq_name, i);
                break;
            }
            switch (st.kind) {
            case STEP_NEW: {
                tlsv_error err;
                ctx = tlsv_ctx_new(st.value, &err);
                if (!ctx)
                    MISMATCH(&rep, "  sequence \"%s\": %s fails: %s\n", seq_name, text,
                             tlsv_reason_name(err.reason));
                break;
            }
            case STEP_SET_MIN: rc = tlsv_ctx_set_minimum_version(ctx, st.value); break;
            case STEP_SET_MAX:
                rc = tlsv_ctx_set_maximum_version(ctx, st.value);
                max_is_lowest = st.value == TLSV_VERSION_MINIMUM_SUPPORTED;
                break;
            case STEP_OPTIONS_OR: tlsv_ctx_add_options(ctx, st.options); break;
            case STEP_OPTIONS_CLEAR: tlsv_ctx_clear_options(ctx, st.options); break;
            case STEP_OPTIONS_ASSIGN: tlsv_ctx_set_options(ctx, st.options); break;
            case STEP_INEXPRESSIBLE:
                /* Not run. Python raised and left the context as it was,
                 * so the read-back below still applies. */
                skipped++;
                if (!exc || !exception_is(exc, "OverflowError"))
                    MISMATCH(&rep,
                             "  sequence \"%s\": \"%s\" was expected to raise "
                             "OverflowError in Python\n",
                             seq_name, text);
                break;
            }
            if (!ctx)
                break;
            if (st.kind != STEP_INEXPRESSIBLE) {
                checked++;
                compare_exception(exc, rc, ctx, "exception", &diffs);
            }
            if (max_is_lowest && tlsv_has_ssl3()) {
                /* MINIMUM_SUPPORTED as a maximum stores the lowest compiled
                 * version: TLSv1 in the oracle's build, SSLv3 in this one. */
                json_t *adjusted = json_deep_copy(row);
                json_object_set_new(adjusted, "maximum_version", json_string("SSLv3"));
                oracle_compare_readback(ctx, adjusted, "readback", &diffs);
                json_decref(adjusted);
            } else {
                oracle_compare_readback(ctx, row, "readback", &diffs);
            }
            if (diffs.len) {
                MISMATCH(&rep, "  sequence \"%s\" step %zu \"%s\":\n", seq_name, i, text);
                oracle_report_append(&rep, &diffs);
            }
            oracle_report_free(&diffs);
        }
        tlsv_ctx_free(ctx);
    }
    finish_section("sequences", checked, skipped, "options = 2**64: not expressible in C", &rep);
}

/* ---------------------------------------------------------------------- */
/* verification_and_sides: verify_mode and check_hostname                 */
/* ---------------------------------------------------------------------- */

/* Rows that need a connection (wrap_bio, wrap_socket, a handshake) are not
 * configuration-level; they are recognized by these words and skipped. */
static const char *const connection_words[] = {"wrap_bio", "wrap_socket", "handshake",
                                               "server_hostname"};

/* "verify_mode = CERT_NONE", "check_hostname=True" -> attribute and value. */
static bool parse_assignment(const char *text, bool *is_verify_mode, int *value)
{
    char attr[32], val[32];
    int end = -1;
    /* "attr = value" or "attr=value", and nothing after it */
    if (sscanf(text, " %31[a-z_] = %31s %n", attr, val, &end) != 2 || end < 0 || text[end] != '\0')
        return false;
    if (strcmp(attr, "verify_mode") == 0) {
        *is_verify_mode = true;
        return oracle_verify_mode(val, value);
    }
    if (strcmp(attr, "check_hostname") == 0) {
        *is_verify_mode = false;
        if (strcmp(val, "True") == 0 || strcmp(val, "False") == 0) {
            *value = strcmp(val, "True") == 0;
            return true;
        }
    }
    return false;
}

/* Runs "A then B ..." (each part possibly "X while Y", Y a precondition) on
 * ctx. Returns the last call's result; diffs gets unparseable text. */
static int run_actions(tlsv_ctx *ctx, const char *actions, oracle_report *diffs)
{
    char buf[256];
    int rc = 0;
    if (strlen(actions) >= sizeof buf) {
        oracle_report_add(diffs, "    action text too long\n");
        return -2;
    }
    strcpy(buf, actions);
    for (char *part = buf; part;) {
        char *next = strstr(part, " then ");
        if (next) {
            *next = '\0';
            next += 6;
        }
        char *cond = strstr(part, " while ");
        if (cond) {
            *cond = '\0';
            cond += 7;
        }
        bool vm;
        int value;
        if (cond) {
            if (!parse_assignment(cond, &vm, &value)) {
                oracle_report_add(diffs, "    unrecognized precondition \"%s\"\n", cond);
                return -2;
            }
            int now = vm ? tlsv_ctx_get_verify_mode(ctx) : tlsv_ctx_get_check_hostname(ctx);
            if (now != value)
                oracle_report_add(diffs, "    precondition \"%s\" does not hold (tlsv: %d)\n", cond,
                                  now);
        }
        if (!parse_assignment(part, &vm, &value)) {
            oracle_report_add(diffs, "    unrecognized action \"%s\"\n", part);
            return -2;
        }
        rc = vm ? tlsv_ctx_set_verify_mode(ctx, value) : tlsv_ctx_set_check_hostname(ctx, value);
        if (rc != 0)
            break; /* Python raises and stops here */
        part = next;
    }
    return rc;
}

static void test_verification(void **state)
{
    (void)state;
    oracle_report rep = {0};
    size_t checked = 0, skipped = 0;
    const char *label;
    json_t *row;

    json_object_foreach(json_object_get(g_config, "verification_and_sides"), label, row) {
        oracle_report diffs = {0};
        const char *colon = strstr(label, ": ");
        if (!colon) {
            bool connection = false;
            for (size_t i = 0; i < ORACLE_COUNT(connection_words); i++)
                connection = connection || strstr(label, connection_words[i]) != NULL;
            if (connection)
                skipped++; /* needs a connection */
            else
                MISMATCH(&rep, "  verification: unrecognized row \"%s\"\n", label);
            continue;
        }
        checked++;
        /* "TLS_CLIENT: ..." or "PROTOCOL_TLS ctx: ..." */
        char proto[64];
        size_t plen = (size_t)(colon - label);
        if (plen >= 4 && strncmp(colon - 4, " ctx", 4) == 0)
            plen -= 4;
        snprintf(proto, sizeof proto, "%s%.*s",
                 strncmp(label, "PROTOCOL_", 9) == 0 ? "" : "PROTOCOL_", (int)plen, label);
        int p;
        if (!oracle_protocol(proto, &p)) {
            MISMATCH(&rep, "  verification \"%s\": unrecognized context \"%s\"\n", label, proto);
            continue;
        }
        tlsv_ctx *ctx = tlsv_ctx_new(p, NULL);
        if (!ctx) {
            MISMATCH(&rep, "  verification \"%s\": tlsv_ctx_new failed\n", label);
            continue;
        }
        int verify_before = tlsv_ctx_get_verify_mode(ctx);
        int rc = run_actions(ctx, colon + 2, &diffs);
        if (rc != -2) {
            const json_t *exc = json_object_get(row, "exception");
            const json_t *result = json_object_get(row, "result");
            compare_exception(exc, rc, ctx, "exception", &diffs);
            const char *key;
            json_t *val;
            json_object_foreach((json_t *)result, key, val) {
                int want, got;
                if (strcmp(key, "check_hostname") == 0) {
                    want = json_is_true(val);
                    got = tlsv_ctx_get_check_hostname(ctx);
                } else if (strcmp(key, "verify_mode") == 0 ||
                           strcmp(key, "verify_mode_after") == 0 ||
                           strcmp(key, "verify_mode_before") == 0) {
                    if (!oracle_verify_mode(json_string_value(val), &want)) {
                        oracle_report_add(&diffs, "    oracle %s unreadable\n", key);
                        continue;
                    }
                    got = strcmp(key, "verify_mode_before") == 0 ? verify_before
                                                                 : tlsv_ctx_get_verify_mode(ctx);
                } else {
                    oracle_report_add(&diffs, "    unrecognized result \"%s\"\n", key);
                    continue;
                }
                if (want != got)
                    oracle_report_add(&diffs, "    %s: oracle %d, tlsv %d\n", key, want, got);
            }
            if (result && !json_is_object(result))
                oracle_report_add(&diffs, "    unrecognized result (not an object)\n");
        }
        if (diffs.len) {
            MISMATCH(&rep, "  verification \"%s\":\n", label);
            oracle_report_append(&rep, &diffs);
        }
        oracle_report_free(&diffs);
        tlsv_ctx_free(ctx);
    }
    finish_section("verification_and_sides", checked, skipped,
                   "connection-level rows: wrap_bio/wrap_socket/handshake", &rep);
}

/* ---------------------------------------------------------------------- */
/* version_strings_observed: SSLObject.version()                          */
/* ---------------------------------------------------------------------- */

static void test_version_strings(void **state)
{
    (void)state;
    oracle_report rep = {0};
    size_t checked = 0, i;
    json_t *row;

    /* each row is [version(), cipher()[1]]; tlsv has no cipher() yet, so
     * only the first element is compared */
    json_array_foreach(json_object_get(g_config, "version_strings_observed"), i, row) {
        const char *s = json_string_value(json_array_get(row, 0));
        int v;
        checked++;
        if (!s || !oracle_version(s, &v) || v < 0) {
            MISMATCH(&rep, "  version string \"%s\": names no version\n", s ? s : "(none)");
            continue;
        }
        const char *got = tlsv_version_string(v);
        if (!got || strcmp(got, s) != 0)
            MISMATCH(&rep, "  version 0x%04x: oracle \"%s\", tlsv_version_string \"%s\"\n",
                     (unsigned)v, s, got ? got : "NULL");
    }
    assert_true(checked > 0);
    finish_section("version_strings_observed", checked, 0, "", &rep);
}

/* ---------------------------------------------------------------------- */

static int load_oracle(void **state)
{
    (void)state;
    g_config = oracle_load("config-observations.json");
    return g_config ? 0 : -1;
}

static int free_oracle(void **state)
{
    (void)state;
    json_decref(g_config);
    g_config = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constants),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_minmax_set),
        cmocka_unit_test(test_sequences),
        cmocka_unit_test(test_verification),
        cmocka_unit_test(test_version_strings),
    };
    return cmocka_run_group_tests(tests, load_oracle, free_oracle);
}
