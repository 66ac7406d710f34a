/*
 * fuzz_conf.h -- the client and server configurations the connection
 * targets (fuzz_server.c, fuzz_client.c) run, shared with the seed
 * generator (make_corpus.c) so that recorded flights replay.
 *
 * Keys and certificates are fixed (the .pem files of fuzz/data, made once with the
 * openssl command, self-signed, valid for 100 years) rather than generated:
 * an RSA key exchange or a signature recorded in a seed is then valid
 * against the key the target loads. Ed25519 and RSA PKCS#1 v1.5 signatures
 * are deterministic, so handshakes signed with them replay to the end (ECDSA
 * and RSA-PSS signatures carry libcrypto's randomness: those seeds replay up
 * to the signature).
 *
 * Input framing of both targets: [config byte] then flights, each
 * [length u16 big-endian][bytes]; the remainder, if shorter than its
 * length, is the last flight.
 */
#ifndef TLSV_FUZZ_CONF_H
#define TLSV_FUZZ_CONF_H

#include <stdio.h>
#include <stdlib.h>

#include "tlsv.h"

#ifndef TLSV_FUZZ_DATA_DIR
#error "TLSV_FUZZ_DATA_DIR must name fuzz/data (fuzz/CMakeLists.txt defines it)"
#endif

#define FUZZ_PEM(name) TLSV_FUZZ_DATA_DIR "/" name ".pem"

static inline void fuzz_conf_die(tlsv_ctx *ctx, const char *what)
{
    const tlsv_error *e = ctx ? tlsv_ctx_last_error(ctx) : NULL;
    fprintf(stderr, "fuzz configuration: %s failed: %s\n", what, e ? e->message : "?");
    abort();
}

#define FUZZ_OK(ctx, call)                                                                         \
    do {                                                                                           \
        if ((call) != 0)                                                                           \
            fuzz_conf_die(ctx, #call);                                                             \
    } while (0)

/* ---- servers ---------------------------------------------------------------- */

enum {
    FS_TLS13_ED25519 = 0, /* TLS 1.3 only, Ed25519 */
    FS_ALL_RSA,           /* TLS 1.0-1.3, RSA, RSA key exchange suites named too */
    FS_ALL_ED25519,       /* TLS 1.0-1.3, Ed25519 (TLS 1.2 and 1.3 only work) */
    FS_ALL_EC_P384_ONLY,  /* TLS 1.0-1.3, ECDSA P-256 key, group P-384 only (HRR) */
    FS_TLS13_HRR,         /* TLS 1.3 only, Ed25519, group P-256 only (HRR) */
    FS_ALL_RSA_CLIENTAUTH,/* TLS 1.0-1.3, RSA, asks for a client certificate, ALPN */
    FS_LEGACY_RSA,        /* TLS 1.0-1.1 only, RSA */
    FS_COUNT
};

static inline tlsv_ctx *fuzz_server_ctx(int which)
{
    tlsv_error err;
    tlsv_ctx *c = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, &err);
    if (!c)
        fuzz_conf_die(NULL, "tlsv_ctx_new");
    const char *cert = FUZZ_PEM("ed25519");
    int min = TLSV_VERSION_TLSv1, max = TLSV_VERSION_TLSv1_3;
    switch (which) {
    case FS_TLS13_ED25519: min = TLSV_VERSION_TLSv1_3; break;
    case FS_ALL_RSA:
        cert = FUZZ_PEM("rsa");
        FUZZ_OK(c, tlsv_ctx_set_ciphers(c, "DEFAULT:AES128-GCM-SHA256:AES256-SHA256:AES128-SHA:"
                                           "AES256-SHA"));
        break;
    case FS_ALL_ED25519: break;
    case FS_ALL_EC_P384_ONLY:
        cert = FUZZ_PEM("ec");
        FUZZ_OK(c, tlsv_ctx_set_groups(c, "P-384"));
        break;
    case FS_TLS13_HRR:
        min = TLSV_VERSION_TLSv1_3;
        FUZZ_OK(c, tlsv_ctx_set_groups(c, "P-256"));
        break;
    case FS_ALL_RSA_CLIENTAUTH: {
        static const char *const alpn[] = {"h2", "http/1.1"};
        cert = FUZZ_PEM("rsa");
        FUZZ_OK(c, tlsv_ctx_set_verify_mode(c, TLSV_CERT_OPTIONAL));
        FUZZ_OK(c, tlsv_ctx_load_verify_locations(c, FUZZ_PEM("ed25519"), NULL));
        FUZZ_OK(c, tlsv_ctx_set_alpn_protocols(c, alpn, 2));
        break;
    }
    case FS_LEGACY_RSA:
        cert = FUZZ_PEM("rsa");
        max = TLSV_VERSION_TLSv1_1;
        break;
    }
    FUZZ_OK(c, tlsv_ctx_set_minimum_version(c, min));
    FUZZ_OK(c, tlsv_ctx_set_maximum_version(c, max));
    FUZZ_OK(c, tlsv_ctx_load_cert_chain(c, cert, NULL));
    return c;
}

/* ---- clients ------------------------------------------------------------------ */

enum {
    FC_DEFAULT = 0,  /* TLS_CLIENT defaults, no verification */
    FC_ALL,          /* TLS 1.0-1.3 */
    FC_TLS13,        /* TLS 1.3 only */
    FC_TLS12,        /* TLS 1.2 only */
    FC_LEGACY,       /* TLS 1.0-1.1 */
    FC_VERIFY_CERT,  /* TLS 1.2-1.3, verifies against ed25519.pem and checks the name,
                        offers ALPN, has a client certificate (Ed25519) */
    FC_TLS13_P256,   /* TLS 1.3, groups P-256:x25519 (another first key share) */
    FC_TLS12_RSAKX,  /* TLS 1.2, RSA key exchange suites only (GCM, CBC-SHA256, CBC-SHA) */
    FC_TLS10_CBC,    /* TLS 1.0 only, CBC suites (the chained IV, 1/n-1 splitting) */
    FC_COUNT
};

static inline tlsv_ctx *fuzz_client_ctx(int which)
{
    tlsv_error err;
    tlsv_ctx *c = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, &err);
    if (!c)
        fuzz_conf_die(NULL, "tlsv_ctx_new");
    if (which != FC_VERIFY_CERT) {
        FUZZ_OK(c, tlsv_ctx_set_check_hostname(c, 0));
        FUZZ_OK(c, tlsv_ctx_set_verify_mode(c, TLSV_CERT_NONE));
    }
    switch (which) {
    case FC_DEFAULT: break;
    case FC_ALL: FUZZ_OK(c, tlsv_ctx_set_minimum_version(c, TLSV_VERSION_TLSv1)); break;
    case FC_TLS13: FUZZ_OK(c, tlsv_ctx_set_minimum_version(c, TLSV_VERSION_TLSv1_3)); break;
    case FC_TLS12:
        FUZZ_OK(c, tlsv_ctx_set_minimum_version(c, TLSV_VERSION_TLSv1_2));
        FUZZ_OK(c, tlsv_ctx_set_maximum_version(c, TLSV_VERSION_TLSv1_2));
        break;
    case FC_LEGACY:
        FUZZ_OK(c, tlsv_ctx_set_minimum_version(c, TLSV_VERSION_TLSv1));
        FUZZ_OK(c, tlsv_ctx_set_maximum_version(c, TLSV_VERSION_TLSv1_1));
        break;
    case FC_VERIFY_CERT: {
        static const char *const alpn[] = {"http/1.1", "h2"};
        FUZZ_OK(c, tlsv_ctx_load_verify_locations(c, FUZZ_PEM("ed25519"), NULL));
        FUZZ_OK(c, tlsv_ctx_load_cert_chain(c, FUZZ_PEM("ed25519"), NULL));
        FUZZ_OK(c, tlsv_ctx_set_alpn_protocols(c, alpn, 2));
        break;
    }
    case FC_TLS13_P256:
        FUZZ_OK(c, tlsv_ctx_set_minimum_version(c, TLSV_VERSION_TLSv1_3));
        FUZZ_OK(c, tlsv_ctx_set_groups(c, "P-256:x25519"));
        break;
    case FC_TLS12_RSAKX:
        FUZZ_OK(c, tlsv_ctx_set_minimum_version(c, TLSV_VERSION_TLSv1_2));
        FUZZ_OK(c, tlsv_ctx_set_maximum_version(c, TLSV_VERSION_TLSv1_2));
        FUZZ_OK(c, tlsv_ctx_set_ciphers(c, "AES128-GCM-SHA256:AES256-SHA256:AES128-SHA"));
        break;
    case FC_TLS10_CBC:
        FUZZ_OK(c, tlsv_ctx_set_minimum_version(c, TLSV_VERSION_TLSv1));
        FUZZ_OK(c, tlsv_ctx_set_maximum_version(c, TLSV_VERSION_TLSv1));
        FUZZ_OK(c, tlsv_ctx_set_ciphers(c, "ECDHE-RSA-AES128-SHA:AES256-SHA"));
        break;
    }
    return c;
}

#endif /* TLSV_FUZZ_CONF_H */
