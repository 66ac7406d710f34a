/*
 * context.c -- tlsv_ctx: the configuration model of Python's SSLContext.
 *
 * Defaults and setter semantics follow upstream CPython 3.11 over OpenSSL
 * 3.0 as recorded in shared/oracle (rules D1-D3, M1-M5, O1-O2, V1).
 */
#include "context.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "crypto/crypto.h"
#include "engine/suites.h"
#include "engine/sesscache.h"
#include "engine/ticket.h"
#include "err.h"
#include "x509.h"

/* OP_ALL | OP_NO_SSLv3 | OP_NO_COMPRESSION | OP_CIPHER_SERVER_PREFERENCE |
 * OP_ENABLE_MIDDLEBOX_COMPAT (oracle rule D1). */
#define DEFAULT_OPTIONS                                                                    \
    (TLSV_OP_ALL | (tlsv_options)TLSV_OP_NO_SSLv3 | TLSV_OP_NO_COMPRESSION |               \
     TLSV_OP_CIPHER_SERVER_PREFERENCE | TLSV_OP_ENABLE_MIDDLEBOX_COMPAT)

static int protocol_known(int protocol)
{
    switch (protocol) {
    case TLSV_PROTOCOL_SSLv3:
    case TLSV_PROTOCOL_TLS:
    case TLSV_PROTOCOL_TLSv1:
    case TLSV_PROTOCOL_TLSv1_1:
    case TLSV_PROTOCOL_TLSv1_2:
    case TLSV_PROTOCOL_TLS_CLIENT:
    case TLSV_PROTOCOL_TLS_SERVER: return 1;
    default: return 0;
    }
}

tlsv_ctx *tlsv_ctx_new(int protocol, tlsv_error *err)
{
    tlsv_err_clear(err);
    if (!protocol_known(protocol)) {
        tlsv_err_set(err, TLSV_R_UNKNOWN_PROTOCOL, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "%d is not a protocol constant (TLSV_PROTOCOL_TLS_CLIENT, "
                     "TLSV_PROTOCOL_TLS_SERVER, ...)",
                     protocol);
        return NULL;
    }
    if (protocol == TLSV_PROTOCOL_SSLv3 && !tlsv_has_ssl3()) {
        tlsv_err_set(err, TLSV_R_SSLV3_NOT_COMPILED_IN, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "PROTOCOL_SSLv3 is not available: SSL 3.0 is not compiled into this "
                     "build of tlsv (configure with -DTLSV_ENABLE_SSL3=ON; SSL 3.0 is "
                     "insecure, RFC 7568)");
        return NULL;
    }
    tlsv_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        tlsv_err_set(err, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "could not allocate a context");
        return NULL;
    }
    atomic_init(&ctx->refs, 1);
    ctx->vcfg.protocol = protocol; /* SSLv23 has the value of TLS already */
    ctx->vcfg.options = DEFAULT_OPTIONS;
    if (tlsv_vp_is_fixed(protocol)) {
        /* the method fixes the version; bounds read back as "no bound" (D2) */
        ctx->vcfg.min_version = TLSV_VERSION_MINIMUM_SUPPORTED;
        ctx->vcfg.max_version = TLSV_VERSION_MAXIMUM_SUPPORTED;
    } else {
        ctx->vcfg.min_version = TLSV_VERSION_TLSv1_2;
        ctx->vcfg.max_version = TLSV_VERSION_MAXIMUM_SUPPORTED;
    }
    if (protocol == TLSV_PROTOCOL_TLS_CLIENT) { /* D3 */
        ctx->verify_mode = TLSV_CERT_REQUIRED;
        ctx->check_hostname = 1;
    } else {
        ctx->verify_mode = TLSV_CERT_NONE;
        ctx->check_hostname = 0;
    }
    memcpy(ctx->suites13, tlsv_default_suites13, sizeof ctx->suites13);
    ctx->n_suites13 = TLSV_SUITES13_MAX;
    memcpy(ctx->groups, tlsv_default_groups, tlsv_default_groups_count * sizeof ctx->groups[0]);
    ctx->n_groups = tlsv_default_groups_count;
    ctx->peer_cache = tlsv_x509_cache_new();
    ctx->num_tickets = 2; /* as OpenSSL and Python */
    ctx->ticket_lifetime = 7200;
    ctx->ticket_keys = tlsv_ticket_keys_new();
    ctx->sess_cache = tlsv_sess_cache_new();
    ctx->sess_cache_size = TLSV_SESSION_CACHE_DEFAULT_SIZE;
    ctx->sess_timeout = TLSV_SESSION_DEFAULT_TIMEOUT;
    tlsv_err_clear(&ctx->last_error);
    return ctx;
}

tlsv_ctx *tlsv_ctx_ref(tlsv_ctx *ctx)
{
    if (ctx)
        atomic_fetch_add(&ctx->refs, 1);
    return ctx;
}

void tlsv_ctx_unref(tlsv_ctx *ctx)
{
    if (!ctx || atomic_fetch_sub(&ctx->refs, 1) != 1)
        return;
    tlsv_x509_chain_free(ctx->chain);
    tlsv_pkey_free(ctx->key);
    tlsv_x509_store_free(ctx->store);
    tlsv_x509_cache_free(ctx->peer_cache);
    tlsv_ticket_keys_free(ctx->ticket_keys);
    tlsv_sess_cache_free(ctx->sess_cache);
    free(ctx->alpn);
    if (ctx->keylog_file)
        fclose(ctx->keylog_file);
    free(ctx);
}

void tlsv_ctx_free(tlsv_ctx *ctx)
{
    tlsv_ctx_unref(ctx);
}

int tlsv_ctx_get_protocol(const tlsv_ctx *ctx)
{
    return ctx ? ctx->vcfg.protocol : -1;
}

const tlsv_error *tlsv_ctx_last_error(const tlsv_ctx *ctx)
{
    return ctx ? &ctx->last_error : NULL;
}

void tlsv_ctx_clear_error(tlsv_ctx *ctx)
{
    if (ctx)
        tlsv_err_clear(&ctx->last_error);
}

int tlsv_ctx_allows_role(const tlsv_ctx *ctx, tlsv_role role)
{
    if (ctx->vcfg.protocol == TLSV_PROTOCOL_TLS_CLIENT)
        return role == TLSV_ROLE_CLIENT;
    if (ctx->vcfg.protocol == TLSV_PROTOCOL_TLS_SERVER)
        return role == TLSV_ROLE_SERVER;
    return 1;
}

/* ---- options ---------------------------------------------------------- */

tlsv_options tlsv_ctx_get_options(const tlsv_ctx *ctx)
{
    return ctx ? ctx->vcfg.options : 0;
}

void tlsv_ctx_set_options(tlsv_ctx *ctx, tlsv_options options)
{
    if (ctx)
        ctx->vcfg.options = options;
}

tlsv_options tlsv_ctx_add_options(tlsv_ctx *ctx, tlsv_options options)
{
    if (!ctx)
        return 0;
    ctx->vcfg.options |= options;
    return ctx->vcfg.options;
}

tlsv_options tlsv_ctx_clear_options(tlsv_ctx *ctx, tlsv_options options)
{
    if (!ctx)
        return 0;
    ctx->vcfg.options &= ~options;
    return ctx->vcfg.options;
}

/* ---- version bounds --------------------------------------------------- */

int tlsv_ctx_get_minimum_version(const tlsv_ctx *ctx)
{
    return ctx ? ctx->vcfg.min_version : 0;
}

int tlsv_ctx_get_maximum_version(const tlsv_ctx *ctx)
{
    return ctx ? ctx->vcfg.max_version : 0;
}

static int valid_version_value(int v)
{
    return v == TLSV_VERSION_MINIMUM_SUPPORTED || v == TLSV_VERSION_MAXIMUM_SUPPORTED ||
           (v >= TLSV_VERSION_SSLv3 && v <= TLSV_VERSION_TLSv1_3);
}

/* Shared checks of both setters (M1 before M2, as Python orders them). */
static int check_bound(tlsv_ctx *ctx, int version, const char *which)
{
    if (tlsv_vp_is_fixed(ctx->vcfg.protocol)) {
        tlsv_err_set(&ctx->last_error, TLSV_R_VERSION_BOUNDS_FIXED, TLSV_ALERT_NONE,
                     TLSV_SIDE_LOCAL,
                     "cannot set %s on a %s context: the protocol fixes the version "
                     "(use TLSV_PROTOCOL_TLS_CLIENT/SERVER to set bounds)",
                     which, tlsv_protocol_name(ctx->vcfg.protocol));
        return -1;
    }
    if (!valid_version_value(version)) {
        tlsv_err_set(&ctx->last_error, TLSV_R_UNSUPPORTED_VERSION, TLSV_ALERT_NONE,
                     TLSV_SIDE_LOCAL,
                     "Unsupported TLS/SSL version 0x%x for %s (use a TLSV_VERSION_* value)",
                     (unsigned)version, which);
        return -1;
    }
    return 0;
}

int tlsv_ctx_set_minimum_version(tlsv_ctx *ctx, int version)
{
    if (!ctx)
        return -1;
    /* O2: asking for SSL 3.0 lifts OP_NO_SSLv3. Python does this before the
     * fixed-version check, so even a refused call on a version-specific
     * context clears the bit (harmless there: O6); tlsv keeps that order so
     * ported code reads back the same options. */
    if (version == TLSV_VERSION_SSLv3)
        ctx->vcfg.options &= ~(tlsv_options)TLSV_OP_NO_SSLv3;
    if (check_bound(ctx, version, "minimum_version") != 0)
        return -1;
    if (version == TLSV_VERSION_MAXIMUM_SUPPORTED)
        version = TLSV_VERSION_TLSv1_3; /* M4: stored as the concrete top */
    ctx->vcfg.min_version = version;
    return 0;
}

int tlsv_ctx_set_maximum_version(tlsv_ctx *ctx, int version)
{
    if (!ctx)
        return -1;
    if (check_bound(ctx, version, "maximum_version") != 0)
        return -1;
    if (version == TLSV_VERSION_MINIMUM_SUPPORTED)
        version = tlsv_vp_lowest_compiled(); /* M4: the lowest compiled version */
    ctx->vcfg.max_version = version;
    return 0;
}

size_t tlsv_ctx_enabled_versions(const tlsv_ctx *ctx, tlsv_role role, int *out, size_t cap)
{
    if (!ctx)
        return 0;
    tlsv_vset s = role == TLSV_ROLE_SERVER ? tlsv_vp_enabled(&ctx->vcfg)
                                           : tlsv_vp_client_run(&ctx->vcfg);
    size_t n = 0;
    for (int v = TLSV_V_TLS13; v >= TLSV_V_SSL3; v--) {
        if (!(s & TLSV_VSET_BIT(v)))
            continue;
        if (out && n < cap)
            out[n] = v;
        n++;
    }
    return n;
}

int tlsv_ctx_check_versions(tlsv_ctx *ctx, tlsv_role role, tlsv_error *err)
{
    if (!ctx) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "no context");
        return -1;
    }
    tlsv_vset s = role == TLSV_ROLE_SERVER ? tlsv_vp_enabled(&ctx->vcfg)
                                           : tlsv_vp_client_run(&ctx->vcfg);
    if (tlsv_vp_check_nonempty(&ctx->vcfg, s, role, &ctx->last_error) != 0) {
        ctx->last_error.alert = TLSV_ALERT_NONE; /* nothing went over the wire */
        tlsv_err_copy(err, &ctx->last_error);
        return -1;
    }
    tlsv_err_clear(err);
    return 0;
}

/* ---- verification ------------------------------------------------------ */

int tlsv_ctx_get_verify_mode(const tlsv_ctx *ctx)
{
    return ctx ? ctx->verify_mode : -1;
}

int tlsv_ctx_set_verify_mode(tlsv_ctx *ctx, int mode)
{
    if (!ctx)
        return -1;
    if (mode != TLSV_CERT_NONE && mode != TLSV_CERT_OPTIONAL && mode != TLSV_CERT_REQUIRED) {
        tlsv_err_set(&ctx->last_error, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE,
                     TLSV_SIDE_LOCAL,
                     "%d is not a verify mode (TLSV_CERT_NONE, _OPTIONAL, _REQUIRED)", mode);
        return -1;
    }
    if (mode == TLSV_CERT_NONE && ctx->check_hostname) { /* V1 */
        tlsv_err_set(&ctx->last_error, TLSV_R_CHECK_HOSTNAME_NEEDS_VERIFY, TLSV_ALERT_NONE,
                     TLSV_SIDE_LOCAL,
                     "Cannot set verify_mode to CERT_NONE when check_hostname is enabled "
                     "(turn check_hostname off first)");
        return -1;
    }
    ctx->verify_mode = mode;
    return 0;
}

int tlsv_ctx_get_check_hostname(const tlsv_ctx *ctx)
{
    return ctx ? ctx->check_hostname : -1;
}

int tlsv_ctx_set_check_hostname(tlsv_ctx *ctx, int on)
{
    if (!ctx)
        return -1;
    ctx->check_hostname = on ? 1 : 0;
    if (on && ctx->verify_mode == TLSV_CERT_NONE) /* V1: silently upgrades */
        ctx->verify_mode = TLSV_CERT_REQUIRED;
    return 0;
}

int tlsv_ctx_set_post_handshake_auth(tlsv_ctx *ctx, int on)
{
    if (!ctx)
        return -1;
    ctx->post_handshake_auth = on ? 1 : 0;
    return 0;
}

int tlsv_ctx_get_post_handshake_auth(const tlsv_ctx *ctx)
{
    return ctx ? ctx->post_handshake_auth : 0;
}

/* ---- certificates, trust, ALPN, suites, groups --------------------------- */

/* Reads a whole file (at most 1 MiB). */
static uint8_t *read_file(const char *path, size_t *len, tlsv_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "cannot open '%s'", path);
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    if (buf)
        n = fread(buf, 1, cap, f);
    int big = buf && n == cap && fgetc(f) != EOF;
    fclose(f);
    if (!buf || big) {
        free(buf);
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "'%s' is larger than 1 MiB or could not be read", path);
        return NULL;
    }
    *len = n;
    return buf;
}

/* A signature scheme this key can sign with, for the self-check. */
static uint16_t probe_scheme(const tlsv_pkey *key)
{
    static const uint16_t schemes[] = {
        TLSV_SIG_ECDSA_SECP256R1_SHA256, TLSV_SIG_ECDSA_SECP384R1_SHA384,
        TLSV_SIG_ECDSA_SECP521R1_SHA512, TLSV_SIG_RSA_PSS_RSAE_SHA256,
        TLSV_SIG_RSA_PSS_PSS_SHA256,     TLSV_SIG_ED25519,
        TLSV_SIG_ED448};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (tlsv_sig_key_supports(key, schemes[i], TLSV_SIG_SIGN))
            return schemes[i];
    return 0;
}

int tlsv_ctx_load_cert_chain(tlsv_ctx *ctx, const char *certfile, const char *keyfile)
{
    if (!ctx || !certfile) {
        if (ctx)
            tlsv_err_set(&ctx->last_error, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE,
                         TLSV_SIDE_LOCAL, "load_cert_chain needs a certificate file");
        return -1;
    }
    tlsv_error *err = &ctx->last_error;
    tlsv_x509_chain *chain = tlsv_x509_chain_load_pem_file(certfile, err);
    if (!chain)
        return -1;
    size_t len = 0;
    const char *kpath = keyfile ? keyfile : certfile;
    uint8_t *pem = read_file(kpath, &len, err);
    if (!pem) {
        tlsv_x509_chain_free(chain);
        return -1;
    }
    int kerr = 0;
    tlsv_pkey *key = tlsv_pkey_private_from_pem(pem, len, NULL, &kerr);
    tlsv_wipe(pem, len);
    free(pem);
    if (!key) {
        tlsv_x509_chain_free(chain);
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "no usable private key in '%s' (%s)", kpath, tlsv_crypto_strerror(kerr));
        return -1;
    }
    /* the key must belong to the leaf: sign with it, verify with the leaf */
    size_t spki_len = 0;
    const uint8_t *spki = tlsv_x509_chain_leaf_spki(chain, &spki_len);
    tlsv_pkey *pub = spki ? tlsv_pkey_public_from_spki(spki, spki_len, NULL) : NULL;
    uint16_t scheme = probe_scheme(key);
    uint8_t sig[1024];
    size_t sig_len = 0;
    static const uint8_t probe[] = "tlsv key check";
    int match = pub && scheme && tlsv_sig_key_supports(pub, scheme, 0) &&
                tlsv_sign(key, scheme, probe, sizeof probe, sig, sizeof sig, &sig_len) == 0 &&
                tlsv_verify(pub, scheme, probe, sizeof probe, sig, sig_len) == 0;
    tlsv_pkey_free(pub);
    if (!match) {
        tlsv_pkey_free(key);
        tlsv_x509_chain_free(chain);
        tlsv_err_set(err, TLSV_R_KEY_VALUES_MISMATCH, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "the private key in '%s' does not belong to the certificate in '%s' (or "
                     "its type is not supported)",
                     kpath, certfile);
        return -1;
    }
    tlsv_x509_chain_free(ctx->chain);
    tlsv_pkey_free(ctx->key);
    ctx->chain = chain;
    ctx->key = key;
    return 0;
}

static tlsv_x509_store *ctx_store(tlsv_ctx *ctx)
{
    if (!ctx->store)
        ctx->store = tlsv_x509_store_new(&ctx->last_error);
    return ctx->store;
}

int tlsv_ctx_load_verify_locations(tlsv_ctx *ctx, const char *cafile, const char *capath)
{
    if (!ctx)
        return -1;
    if (!cafile && !capath) {
        tlsv_err_set(&ctx->last_error, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "load_verify_locations needs a CA file or a CA directory");
        return -1;
    }
    tlsv_x509_store *st = ctx_store(ctx);
    if (!st)
        return -1;
    if (cafile && tlsv_x509_store_add_ca_file(st, cafile, &ctx->last_error) != 0)
        return -1;
    if (capath && tlsv_x509_store_add_ca_dir(st, capath, &ctx->last_error) != 0)
        return -1;
    return 0;
}

int tlsv_ctx_set_default_verify_paths(tlsv_ctx *ctx)
{
    if (!ctx)
        return -1;
    tlsv_x509_store *st = ctx_store(ctx);
    if (!st)
        return -1;
    return tlsv_x509_store_add_default_paths(st, &ctx->last_error) == 0 ? 0 : -1;
}

int tlsv_ctx_set_alpn_protocols(tlsv_ctx *ctx, const char *const *names, size_t n)
{
    if (!ctx)
        return -1;
    size_t total = 0;
    for (size_t i = 0; names && i < n; i++) {
        size_t l = names[i] ? strlen(names[i]) : 0;
        if (l == 0 || l > 255) {
            tlsv_err_set(&ctx->last_error, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE,
                         TLSV_SIDE_LOCAL, "ALPN protocol names are 1 to 255 bytes long");
            return -1;
        }
        total += 1 + l;
    }
    if (total > 65535) {
        tlsv_err_set(&ctx->last_error, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE,
                     TLSV_SIDE_LOCAL, "the ALPN list is longer than 65535 bytes");
        return -1;
    }
    uint8_t *wire = total ? malloc(total) : NULL;
    if (total && !wire)
        return -1;
    size_t off = 0;
    for (size_t i = 0; names && i < n; i++) {
        size_t l = strlen(names[i]);
        wire[off++] = (uint8_t)l;
        memcpy(wire + off, names[i], l);
        off += l;
    }
    free(ctx->alpn);
    ctx->alpn = wire;
    ctx->alpn_len = total;
    return 0;
}

int tlsv_ctx_set_ciphersuites(tlsv_ctx *ctx, const char *list)
{
    if (!ctx || !list)
        return -1;
    char bad[64] = "";
    int n = tlsv_parse_suites13(list, ctx->suites13, TLSV_SUITES13_MAX, bad, sizeof bad);
    if (n <= 0) {
        tlsv_err_set(&ctx->last_error, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     n < 0 ? "unknown TLS 1.3 cipher suite '%s'" : "no TLS 1.3 cipher suite in '%s'",
                     n < 0 ? bad : list);
        ctx->n_suites13 = 0;
        memcpy(ctx->suites13, tlsv_default_suites13, sizeof ctx->suites13);
        ctx->n_suites13 = TLSV_SUITES13_MAX;
        return -1;
    }
    ctx->n_suites13 = (size_t)n;
    return 0;
}

int tlsv_ctx_set_ciphers(tlsv_ctx *ctx, const char *list)
{
    if (!ctx || !list)
        return -1;
    char bad[80] = "";
    uint16_t ids[TLSV_SUITES12_MAX];
    int server = ctx->vcfg.protocol == TLSV_PROTOCOL_TLS_SERVER;
    int n = tlsv_parse_suites12(list, server, ids, TLSV_SUITES12_MAX, bad, sizeof bad);
    if (n <= 0) {
        tlsv_err_set(&ctx->last_error, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     n < 0 ? "unknown cipher suite '%s' (use OpenSSL or IANA names, DEFAULT, "
                             "!NAME)"
                           : "No cipher can be selected from '%s'",
                     n < 0 ? bad : list);
        return -1;
    }
    memcpy(ctx->suites12, ids, (size_t)n * sizeof ids[0]);
    ctx->n_suites12 = (size_t)n;
    return 0;
}

int tlsv_ctx_set_groups(tlsv_ctx *ctx, const char *list)
{
    if (!ctx || !list)
        return -1;
    char bad[64] = "";
    uint16_t g[5];
    int n = tlsv_parse_groups(list, g, 5, bad, sizeof bad);
    if (n <= 0) {
        tlsv_err_set(&ctx->last_error, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     n < 0 ? "unknown or unsupported group '%s'" : "no group in '%s'",
                     n < 0 ? bad : list);
        return -1;
    }
    memcpy(ctx->groups, g, sizeof g);
    ctx->n_groups = (size_t)n;
    return 0;
}

void tlsv_ctx_set_servername_callback(tlsv_ctx *ctx, tlsv_servername_cb cb, void *arg)
{
    if (ctx) {
        ctx->sni_cb = cb;
        ctx->sni_arg = arg;
    }
}

/* ---- observability --------------------------------------------------------- */

#include <fcntl.h>
#include <sys/stat.h>

void tlsv_ctx_set_keylog_callback(tlsv_ctx *ctx, tlsv_keylog_cb cb, void *arg)
{
    if (ctx) {
        ctx->keylog_cb = cb;
        ctx->keylog_arg = arg;
    }
}

int tlsv_ctx_set_keylog_file(tlsv_ctx *ctx, const char *path)
{
    if (!ctx)
        return -1;
    if (ctx->keylog_file) {
        fclose(ctx->keylog_file);
        ctx->keylog_file = NULL;
    }
    if (!path)
        return 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        tlsv_err_set(&ctx->last_error, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "cannot open the key log file '%s'", path);
        return -1;
    }
    setvbuf(f, NULL, _IOLBF, 0); /* one line at a time, for concurrent connections */
    ctx->keylog_file = f;
    return 0;
}

void tlsv_ctx_set_trace_callback(tlsv_ctx *ctx, tlsv_trace_cb cb, void *arg)
{
    if (ctx) {
        ctx->trace_cb = cb;
        ctx->trace_arg = arg;
    }
}

/* ---- generated certificate (for demos and tests; never for production) ---- */

int tlsv_ctx_use_generated_certificate(tlsv_ctx *ctx, const char *common_name)
{
    if (!ctx)
        return -1;
    tlsv_x509_chain *chain = NULL;
    char *pem = NULL;
    size_t len = 0;
    if (tlsv_x509_generate_self_signed(common_name, &chain, &pem, &len, &ctx->last_error) != 0)
        return -1;
    int kerr = 0;
    tlsv_pkey *key = tlsv_pkey_private_from_pem(pem, len, NULL, &kerr);
    tlsv_wipe(pem, len);
    free(pem);
    if (!key) {
        tlsv_x509_chain_free(chain);
        tlsv_err_set(&ctx->last_error, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "the generated private key could not be loaded (%s)",
                     tlsv_crypto_strerror(kerr));
        return -1;
    }
    /* as tlsv_ctx_load_cert_chain: the new pair replaces any previous one */
    tlsv_x509_chain_free(ctx->chain);
    tlsv_pkey_free(ctx->key);
    ctx->chain = chain;
    ctx->key = key;
    return 0;
}
