/*
 * shim_flags.c -- parses the BoGo shim's command line (see shim_flags.h).
 *
 * The flag names and their meaning follow BoringSSL's ssl/test/test_config.cc
 * (the runner's side of the protocol); the code is our own.
 */
#include "shim_flags.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum flag_kind { F_BOOL, F_INT, F_STRING, F_INT_VECTOR };

typedef struct flag {
    const char *name;
    enum flag_kind kind;
    size_t offset;
} flag;

#define B(n, f) {n, F_BOOL, offsetof(bogo_config, f)}
#define I(n, f) {n, F_INT, offsetof(bogo_config, f)}
#define S(n, f) {n, F_STRING, offsetof(bogo_config, f)}

/* Every flag the shim implements. Anything else is unimplemented (89). */
static const flag flags[] = {
    I("-port", port),
    B("-server", is_server),
    S("-key-file", key_file),
    S("-cert-file", cert_file),
    I("-min-version", min_version),
    I("-max-version", max_version),
    B("-no-tls1", no_tls1),
    B("-no-tls11", no_tls11),
    B("-no-tls12", no_tls12),
    B("-no-tls13", no_tls13),
    I("-expect-version", expect_version),
    B("-fallback-scsv", fallback_scsv),
    B("-shim-writes-first", shim_writes_first),
    B("-shim-shuts-down", shim_shuts_down),
    B("-check-close-notify", check_close_notify),
    I("-resume-count", resume_count),
    B("-expect-session-miss", expect_session_miss),
    B("-expect-no-session", expect_no_session),
    S("-select-alpn", select_alpn),
    S("-advertise-alpn", advertise_alpn),
    S("-expect-alpn", expect_alpn),
    S("-host-name", host_name),
    S("-expect-server-name", expect_server_name),
    S("-cipher", cipher),
    {"-curves", F_INT_VECTOR, offsetof(bogo_config, curves)},
    B("-write-different-record-sizes", write_different_record_sizes),
    B("-is-handshaker-supported", is_handshaker_supported),
    B("-no-ticket", no_ticket),
    B("-server-preference", server_preference),
    I("-read-size", read_size),
    B("-implicit-handshake", implicit_handshake),
    B("-handshake-twice", handshake_twice),
    B("-no-op-extra-handshake", no_op_extra_handshake),
    B("-key-update", key_update),
    I("-expect-curve-id", expect_curve_id),
    B("-partial-write", partial_write),
    B("-async", async),
    B("-verify-peer", verify_peer),
    B("-verify-fail", verify_fail),
    B("-require-any-client-certificate", require_any_client_certificate),
    B("-use-custom-verify-callback", use_custom_verify_callback),
    B("-enforce-rsa-key-usage", enforce_rsa_key_usage),
    S("-expect-peer-cert-file", expect_peer_cert_file),
};

static const flag *find_flag(const char *name)
{
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (strcmp(flags[i].name, name) == 0)
            return &flags[i];
    return NULL;
}

/* If *name starts with prefix followed by '-', skips the prefix (keeping
 * the '-') and returns 1. */
static int remove_prefix(const char **name, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(*name, prefix, n) == 0 && (*name)[n] == '-') {
        *name += n;
        return 1;
    }
    return 0;
}

static int parse_int(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < INT_MIN || v > INT_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

static int set_flag(bogo_config *cfg, const flag *f, const char *param)
{
    char *base = (char *)cfg;
    switch (f->kind) {
    case F_BOOL:
        *(int *)(base + f->offset) = 1;
        return 0;
    case F_INT:
        return parse_int(param, (int *)(base + f->offset));
    case F_STRING:
        *(const char **)(base + f->offset) = param;
        return 0;
    case F_INT_VECTOR: {
        int v;
        if (parse_int(param, &v) < 0 || cfg->n_curves >= BOGO_MAX_CURVES)
            return -1;
        cfg->curves[cfg->n_curves++] = v;
        return 0;
    }
    }
    return -1;
}

int bogo_parse_flags(int argc, char **argv, bogo_config *initial, bogo_config *resume,
                     bogo_config *retry, char *msg, size_t msglen)
{
    memset(initial, 0, sizeof *initial);
    memset(resume, 0, sizeof *resume);
    memset(retry, 0, sizeof *retry);
    if (msglen)
        msg[0] = '\0';
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        int skip = 0;
        if (remove_prefix(&name, "-on-shim"))
            skip = 0;
        else if (remove_prefix(&name, "-on-handshaker"))
            skip = 1;
        bogo_config *only = NULL;
        if (remove_prefix(&name, "-on-initial"))
            only = initial;
        else if (remove_prefix(&name, "-on-resume"))
            only = resume;
        else if (remove_prefix(&name, "-on-retry"))
            only = retry;

        const flag *f = find_flag(name);
        if (!f) {
            snprintf(msg, msglen, "unimplemented flag: %s", argv[i]);
            return BOGO_EXIT_UNIMPLEMENTED;
        }
        const char *param = NULL;
        if (f->kind != F_BOOL) {
            if (i + 1 >= argc) {
                snprintf(msg, msglen, "missing parameter for %s", argv[i]);
                return 1;
            }
            param = argv[++i];
        }
        if (skip)
            continue;
        bogo_config *targets[3] = {initial, resume, retry};
        for (int t = 0; t < 3; t++) {
            if (only && targets[t] != only)
                continue;
            if (set_flag(targets[t], f, param) < 0) {
                snprintf(msg, msglen, "invalid parameter for %s: %s", argv[i - 1], param);
                return 1;
            }
        }
    }
    return 0;
}

int bogo_parse_alpn_wire(const char *wire, char *store, size_t storelen, const char **names,
                         size_t maxnames)
{
    size_t len = strlen(wire), pos = 0, used = 0;
    int n = 0;
    while (pos < len) {
        size_t l = (unsigned char)wire[pos++];
        if (l == 0 || l > len - pos || (size_t)n >= maxnames || used + l + 1 > storelen)
            return -1;
        memcpy(store + used, wire + pos, l);
        store[used + l] = '\0';
        names[n++] = store + used;
        used += l + 1;
        pos += l;
    }
    return n;
}

static const struct {
    int id;
    const char *name;
} curves[] = {
    {29, "x25519"}, {23, "P-256"}, {24, "P-384"}, {25, "P-521"}, {30, "x448"},
};

int bogo_curve_id(const char *tlsv_name)
{
    for (size_t i = 0; tlsv_name && i < sizeof curves / sizeof curves[0]; i++)
        if (strcmp(curves[i].name, tlsv_name) == 0)
            return curves[i].id;
    return 0;
}

const char *bogo_curve_name(int id)
{
    for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++)
        if (curves[i].id == id)
            return curves[i].name;
    return NULL;
}
