/*
 * oracle_util.h -- helpers shared by the tests that replay the oracle
 * (tests/data/oracle/, recorded from Python's ssl module; see the README
 * there):
 *   - loading a JSON file of the oracle;
 *   - a growing text buffer that collects every mismatch, so that a test
 *     can report all of them at once instead of stopping at the first;
 *   - mapping the oracle's names ("TLSv1_2", "TLSv1.2", "PROTOCOL_TLS_CLIENT",
 *     "OP_NO_TLSv1_1", "CERT_REQUIRED", "TLSVersion.TLSv1_2", ...) to tlsv's
 *     constants. The tables use the constants of tlsv.h (not tlsv's own
 *     name parsers), so the tests check the header against the oracle;
 *   - building a tlsv_ctx from a matrix cell's "spec" {proto, options[], min,
 *     max}, in the order gen_matrix.py / harness.py apply them.
 *
 * Everything is `static inline` (tables live inside the functions), so each
 * test program takes only what it uses without unused-function warnings.
 */
#ifndef ORACLE_UTIL_H
#define ORACLE_UTIL_H

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsv.h"

#ifndef TLSV_TEST_DATA
#error "TLSV_TEST_DATA must be defined as the absolute path of tests/data"
#endif

#define ORACLE_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------------- */
/* Loading                                                                */
/* ---------------------------------------------------------------------- */

/* Loads tests/data/oracle/<name>. Returns a new reference, or NULL (with a
 * message on stderr) if the file is missing or is not valid JSON. */
static inline json_t *oracle_load(const char *name)
{
    char path[4096];
    json_error_t jerr;
    snprintf(path, sizeof path, "%s/oracle/%s", TLSV_TEST_DATA, name);
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        fprintf(stderr, "oracle: cannot load %s: %s (line %d)\n", path, jerr.text, jerr.line);
    return root;
}

/* The string value of obj[key], or NULL if absent or not a string. */
static inline const char *oracle_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* ---------------------------------------------------------------------- */
/* Collecting mismatches                                                  */
/* ---------------------------------------------------------------------- */

/* Text that grows as lines are appended; `items` counts whatever the caller
 * counts (mismatching cells, rows, ...). */
typedef struct oracle_report {
    char *text;
    size_t len;
    size_t cap;
    size_t items;
} oracle_report;

/* Appends printf-style text. Out of memory aborts: a test cannot go on. */
static inline void oracle_report_add(oracle_report *r, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static inline void oracle_report_add(oracle_report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0)
        return;
    if (r->len + (size_t)need + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 1024;
        while (cap < r->len + (size_t)need + 1)
            cap *= 2;
        char *text = realloc(r->text, cap);
        if (!text) {
            fprintf(stderr, "oracle: out of memory\n");
            abort();
        }
        r->text = text;
        r->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(r->text + r->len, r->cap - r->len, fmt, ap);
    va_end(ap);
    r->len += (size_t)need;
}

/* Appends the whole text of `from` to `to`. */
static inline void oracle_report_append(oracle_report *to, const oracle_report *from)
{
    if (from->len)
        oracle_report_add(to, "%s", from->text);
}

static inline void oracle_report_free(oracle_report *r)
{
    free(r->text);
    memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------------- */
/* Names -> tlsv constants                                                */
/* ---------------------------------------------------------------------- */

typedef struct oracle_name {
    const char *name;
    long long value;
} oracle_name;

static inline bool oracle_lookup(const oracle_name *t, size_t n, const char *name, long long *out)
{
    if (!name)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(t[i].name, name) == 0) {
            *out = t[i].value;
            return true;
        }
    }
    return false;
}

/* Drops the Python enum class from a repr: "TLSVersion.TLSv1_2" -> "TLSv1_2",
 * "_SSLMethod.PROTOCOL_TLS" -> "PROTOCOL_TLS", "VerifyMode.CERT_NONE" ->
 * "CERT_NONE", "Options.OP_ALL" -> "OP_ALL". Other text is returned as is
 * (in particular "TLSv1.2", whose dot is not a class separator). */
static inline const char *oracle_enum_member(const char *repr)
{
    static const char *const classes[] = {"TLSVersion.", "_SSLMethod.", "VerifyMode.", "Options."};
    if (!repr)
        return NULL;
    for (size_t i = 0; i < ORACLE_COUNT(classes); i++) {
        size_t n = strlen(classes[i]);
        if (strncmp(repr, classes[i], n) == 0)
            return repr + n;
    }
    return repr;
}

/* "PROTOCOL_TLS_CLIENT" (or "_SSLMethod.PROTOCOL_TLS_CLIENT") -> the
 * TLSV_PROTOCOL_* value. PROTOCOL_SSLv2 does not exist in tlsv (nor in
 * Python 3.11), so it is not found. */
static inline bool oracle_protocol(const char *name, int *out)
{
    static const oracle_name t[] = {
        {"PROTOCOL_SSLv3", TLSV_PROTOCOL_SSLv3},
        {"PROTOCOL_TLS", TLSV_PROTOCOL_TLS},
        {"PROTOCOL_SSLv23", TLSV_PROTOCOL_SSLv23},
        {"PROTOCOL_TLSv1", TLSV_PROTOCOL_TLSv1},
        {"PROTOCOL_TLSv1_1", TLSV_PROTOCOL_TLSv1_1},
        {"PROTOCOL_TLSv1_2", TLSV_PROTOCOL_TLSv1_2},
        {"PROTOCOL_TLS_CLIENT", TLSV_PROTOCOL_TLS_CLIENT},
        {"PROTOCOL_TLS_SERVER", TLSV_PROTOCOL_TLS_SERVER},
    };
    long long v;
    if (!oracle_lookup(t, ORACLE_COUNT(t), oracle_enum_member(name), &v))
        return false;
    *out = (int)v;
    return true;
}

/* Whether a protocol auto-negotiates (TLS_CLIENT, TLS_SERVER, TLS/SSLv23):
 * the contexts on which the legacy variant lowers the minimum. */
static inline bool oracle_protocol_is_auto(int protocol)
{
    return protocol == TLSV_PROTOCOL_TLS_CLIENT || protocol == TLSV_PROTOCOL_TLS_SERVER ||
           protocol == TLSV_PROTOCOL_TLS;
}

/* A TLSVersion member name ("TLSv1_2", "MINIMUM_SUPPORTED", also with the
 * "TLSVersion." prefix) or a version() string ("TLSv1.2", "TLSv1") -> the
 * TLSV_VERSION_* value. */
static inline bool oracle_version(const char *name, int *out)
{
    static const oracle_name t[] = {
        {"MINIMUM_SUPPORTED", TLSV_VERSION_MINIMUM_SUPPORTED},
        {"MAXIMUM_SUPPORTED", TLSV_VERSION_MAXIMUM_SUPPORTED},
        {"SSLv3", TLSV_VERSION_SSLv3},
        {"TLSv1", TLSV_VERSION_TLSv1},
        {"TLSv1_1", TLSV_VERSION_TLSv1_1},
        {"TLSv1.1", TLSV_VERSION_TLSv1_1},
        {"TLSv1_2", TLSV_VERSION_TLSv1_2},
        {"TLSv1.2", TLSV_VERSION_TLSv1_2},
        {"TLSv1_3", TLSV_VERSION_TLSv1_3},
        {"TLSv1.3", TLSV_VERSION_TLSv1_3},
    };
    long long v;
    if (!oracle_lookup(t, ORACLE_COUNT(t), oracle_enum_member(name), &v))
        return false;
    *out = (int)v;
    return true;
}

/* "OP_NO_TLSv1_1" (or "Options.OP_NO_TLSv1_1") -> its bits, from tlsv.h. */
static inline bool oracle_option(const char *name, tlsv_options *out)
{
    static const oracle_name t[] = {
        {"OP_ALL", (long long)TLSV_OP_ALL},
        {"OP_NO_SSLv2", (long long)TLSV_OP_NO_SSLv2},
        {"OP_SINGLE_DH_USE", (long long)TLSV_OP_SINGLE_DH_USE},
        {"OP_SINGLE_ECDH_USE", (long long)TLSV_OP_SINGLE_ECDH_USE},
        {"OP_NO_SSLv3", (long long)TLSV_OP_NO_SSLv3},
        {"OP_NO_TLSv1", (long long)TLSV_OP_NO_TLSv1},
        {"OP_NO_TLSv1_1", (long long)TLSV_OP_NO_TLSv1_1},
        {"OP_NO_TLSv1_2", (long long)TLSV_OP_NO_TLSv1_2},
        {"OP_NO_TLSv1_3", (long long)TLSV_OP_NO_TLSv1_3},
        {"OP_NO_COMPRESSION", (long long)TLSV_OP_NO_COMPRESSION},
        {"OP_CIPHER_SERVER_PREFERENCE", (long long)TLSV_OP_CIPHER_SERVER_PREFERENCE},
        {"OP_NO_TICKET", (long long)TLSV_OP_NO_TICKET},
        {"OP_NO_RENEGOTIATION", (long long)TLSV_OP_NO_RENEGOTIATION},
        {"OP_ENABLE_MIDDLEBOX_COMPAT", (long long)TLSV_OP_ENABLE_MIDDLEBOX_COMPAT},
        {"OP_IGNORE_UNEXPECTED_EOF", (long long)TLSV_OP_IGNORE_UNEXPECTED_EOF},
        {"OP_LEGACY_SERVER_CONNECT", (long long)TLSV_OP_LEGACY_SERVER_CONNECT},
        {"OP_DONT_INSERT_EMPTY_FRAGMENTS", (long long)TLSV_OP_DONT_INSERT_EMPTY_FRAGMENTS},
    };
    long long v;
    if (!oracle_lookup(t, ORACLE_COUNT(t), oracle_enum_member(name), &v))
        return false;
    *out = (tlsv_options)v;
    return true;
}

/* "CERT_REQUIRED" (or "VerifyMode.CERT_REQUIRED") -> TLSV_CERT_*. */
static inline bool oracle_verify_mode(const char *name, int *out)
{
    static const oracle_name t[] = {
        {"CERT_NONE", TLSV_CERT_NONE},
        {"CERT_OPTIONAL", TLSV_CERT_OPTIONAL},
        {"CERT_REQUIRED", TLSV_CERT_REQUIRED},
    };
    long long v;
    if (!oracle_lookup(t, ORACLE_COUNT(t), oracle_enum_member(name), &v))
        return false;
    *out = (int)v;
    return true;
}

/* The oracle's hex text of an options value ("0x82520050") -> the value. */
static inline bool oracle_options_hex(const char *text, tlsv_options *out)
{
    if (!text || strncmp(text, "0x", 2) != 0)
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text + 2, &end, 16);
    if (errno || end == text + 2 || *end != '\0')
        return false;
    *out = (tlsv_options)v;
    return true;
}

/* A version value for messages: its TLSVersion name, or its number. */
static inline const char *oracle_version_label(int v, char *buf, size_t len)
{
    const char *name = tlsv_version_name(v);
    if (name)
        return name;
    snprintf(buf, len, "0x%x", (unsigned)v);
    return buf;
}

/* ---------------------------------------------------------------------- */
/* Contexts from a matrix cell's spec                                     */
/* ---------------------------------------------------------------------- */

typedef enum oracle_build_status {
    ORACLE_BUILD_OK = 0,
    ORACLE_BUILD_TLSV_ERROR = 1, /* a tlsv call failed; see *err and why */
    ORACLE_BUILD_BAD_SPEC = -1   /* the spec names something unknown: see why */
} oracle_build_status;

/* Builds a context from {"proto": "PROTOCOL_...", "options": ["OP_NO_..."],
 * "min": "TLSv1_1", "max": "TLSv1_2"} the way the oracle's harness.py does:
 * the constructor, then (legacy variant only, auto-negotiating contexts
 * only) minimum_version = MINIMUM_SUPPORTED, then each option with
 * `options |=` (tlsv_ctx_add_options), then min, then max.
 * On ORACLE_BUILD_OK *out holds the context. On ORACLE_BUILD_TLSV_ERROR
 * *out may hold the partly configured context (as Python keeps one after a
 * failing setter) and *err the failure; on ORACLE_BUILD_BAD_SPEC *out is
 * NULL. `why` describes any failure. The caller frees *out. */
static inline oracle_build_status oracle_build_ctx(const json_t *spec, bool legacy_floor,
                                                   tlsv_ctx **out, tlsv_error *err, char *why,
                                                   size_t whylen)
{
    static const char *const keys[] = {"proto", "options", "min", "max"};
    const char *key;
    json_t *value;
    int protocol, min = 0, max = 0;

    *out = NULL;
    memset(err, 0, sizeof *err);
    why[0] = '\0';
    if (!json_is_object(spec)) {
        snprintf(why, whylen, "spec is not an object");
        return ORACLE_BUILD_BAD_SPEC;
    }
    /* Every key must be one we apply: a new kind of spec must not pass by
     * being ignored. */
    json_object_foreach((json_t *)spec, key, value) {
        bool known = false;
        for (size_t i = 0; i < ORACLE_COUNT(keys); i++)
            known = known || strcmp(key, keys[i]) == 0;
        if (!known) {
            snprintf(why, whylen, "unknown spec key \"%s\"", key);
            return ORACLE_BUILD_BAD_SPEC;
        }
    }
    if (!oracle_protocol(oracle_str(spec, "proto"), &protocol)) {
        snprintf(why, whylen, "unknown protocol \"%s\"",
                 oracle_str(spec, "proto") ? oracle_str(spec, "proto") : "(none)");
        return ORACLE_BUILD_BAD_SPEC;
    }
    /* Resolve every name first, so a bad spec never half-builds. */
    json_t *options = json_object_get(spec, "options");
    if (options && !json_is_array(options)) {
        snprintf(why, whylen, "spec options is not a list");
        return ORACLE_BUILD_BAD_SPEC;
    }
    size_t i;
    json_array_foreach(options, i, value) {
        tlsv_options bit;
        if (!oracle_option(json_string_value(value), &bit)) {
            snprintf(why, whylen, "unknown option \"%s\"",
                     json_string_value(value) ? json_string_value(value) : "(not a string)");
            return ORACLE_BUILD_BAD_SPEC;
        }
    }
    if (json_object_get(spec, "min") && !oracle_version(oracle_str(spec, "min"), &min)) {
        snprintf(why, whylen, "unknown min version");
        return ORACLE_BUILD_BAD_SPEC;
    }
    if (json_object_get(spec, "max") && !oracle_version(oracle_str(spec, "max"), &max)) {
        snprintf(why, whylen, "unknown max version");
        return ORACLE_BUILD_BAD_SPEC;
    }

    tlsv_ctx *ctx = tlsv_ctx_new(protocol, err);
    if (!ctx) {
        snprintf(why, whylen, "tlsv_ctx_new(%s) failed: %s", oracle_str(spec, "proto"),
                 tlsv_reason_name(err->reason));
        return ORACLE_BUILD_TLSV_ERROR;
    }
    *out = ctx;
    if (legacy_floor && oracle_protocol_is_auto(protocol) &&
        tlsv_ctx_set_minimum_version(ctx, TLSV_VERSION_MINIMUM_SUPPORTED) != 0) {
        *err = *tlsv_ctx_last_error(ctx);
        snprintf(why, whylen, "legacy minimum_version = MINIMUM_SUPPORTED failed: %s",
                 tlsv_reason_name(err->reason));
        return ORACLE_BUILD_TLSV_ERROR;
    }
    json_array_foreach(options, i, value) {
        tlsv_options bit = 0;
        oracle_option(json_string_value(value), &bit);
        tlsv_ctx_add_options(ctx, bit);
    }
    if (json_object_get(spec, "min") && tlsv_ctx_set_minimum_version(ctx, min) != 0) {
        *err = *tlsv_ctx_last_error(ctx);
        snprintf(why, whylen, "minimum_version = %s failed: %s", oracle_str(spec, "min"),
                 tlsv_reason_name(err->reason));
        return ORACLE_BUILD_TLSV_ERROR;
    }
    if (json_object_get(spec, "max") && tlsv_ctx_set_maximum_version(ctx, max) != 0) {
        *err = *tlsv_ctx_last_error(ctx);
        snprintf(why, whylen, "maximum_version = %s failed: %s", oracle_str(spec, "max"),
                 tlsv_reason_name(err->reason));
        return ORACLE_BUILD_TLSV_ERROR;
    }
    return ORACLE_BUILD_OK;
}

/* Compares a context's read-back with the oracle's {"options": hex,
 * "minimum_version": name, "maximum_version": name} (other keys, such as
 * OpenSSL's security_level, are not part of tlsv). Appends one line per
 * difference to `diffs` with the given prefix; returns the number of
 * differences. */
static inline int oracle_compare_readback(const tlsv_ctx *ctx, const json_t *config,
                                          const char *prefix, oracle_report *diffs)
{
    int n = 0;
    char b1[24], b2[24];
    tlsv_options want_opts;
    const char *opts = oracle_str(config, "options");
    if (!oracle_options_hex(opts, &want_opts)) {
        oracle_report_add(diffs, "    %s: oracle options \"%s\" unreadable\n", prefix,
                          opts ? opts : "(none)");
        n++;
    } else if (tlsv_ctx_get_options(ctx) != want_opts) {
        oracle_report_add(diffs, "    %s: options: oracle 0x%llx, tlsv 0x%llx\n", prefix,
                          (unsigned long long)want_opts,
                          (unsigned long long)tlsv_ctx_get_options(ctx));
        n++;
    }
    static const char *const attrs[] = {"minimum_version", "maximum_version"};
    for (size_t i = 0; i < ORACLE_COUNT(attrs); i++) {
        int want;
        int got = i == 0 ? tlsv_ctx_get_minimum_version(ctx) : tlsv_ctx_get_maximum_version(ctx);
        const char *name = oracle_str(config, attrs[i]);
        if (!oracle_version(name, &want)) {
            oracle_report_add(diffs, "    %s: oracle %s \"%s\" unreadable\n", prefix, attrs[i],
                              name ? name : "(none)");
            n++;
        } else if (got != want) {
            oracle_report_add(diffs, "    %s: %s: oracle %s, tlsv %s\n", prefix, attrs[i],
                              oracle_version_label(want, b1, sizeof b1),
                              oracle_version_label(got, b2, sizeof b2));
            n++;
        }
    }
    return n;
}

#endif /* ORACLE_UTIL_H */
