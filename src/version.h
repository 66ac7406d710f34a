/*
 * version.h -- THE version policy of tlsv.
 *
 * Everything the configuration model says about protocol versions reduces
 * to the functions here: from (protocol constant, options, bounds) to the
 * set of enabled versions; what a client offers; which version a server
 * picks from an offer; whether a client accepts the server's choice; the
 * downgrade sentinels and TLS_FALLBACK_SCSV. They are pure functions over
 * plain values: no I/O, no allocation, no global state. Every other file
 * asks this module; none re-derives a version decision.
 *
 * The rules follow the reference recorded from Python's ssl over OpenSSL
 * 3.0 (shared/oracle, the `tlsv` variant) and RFC 8446 §4.1.3, §4.2.1,
 * RFC 5246 App. E, RFC 7507; docs/versions.md explains them in prose.
 */
#ifndef TLSV_VERSION_H
#define TLSV_VERSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsv.h"

/* Wire values. */
enum {
    TLSV_V_SSL3 = 0x0300,
    TLSV_V_TLS10 = 0x0301,
    TLSV_V_TLS11 = 0x0302,
    TLSV_V_TLS12 = 0x0303,
    TLSV_V_TLS13 = 0x0304
};

/* A set of versions: bit (v - 0x0300) for v in SSL3..TLS1.3. */
typedef uint8_t tlsv_vset;
#define TLSV_VSET_BIT(v) ((tlsv_vset)(1u << ((unsigned)(v) - 0x0300u)))
#define TLSV_VSET_ALL ((tlsv_vset)0x1f)

/* The version-related part of a context's configuration, as stored (the
 * bounds keep their sentinels, as Python reads them back). */
typedef struct tlsv_vcfg {
    int protocol;     /* a TLSV_PROTOCOL_* value; SSLv23 is stored as TLS */
    uint64_t options; /* all option bits; only OP_NO_SSLv3/TLSv1* matter here */
    int min_version;  /* TLSV_VERSION_* incl. MINIMUM/MAXIMUM_SUPPORTED */
    int max_version;
} tlsv_vcfg;

/* Compiled-in versions of this build (SSL 3.0 only with TLSV_ENABLE_SSL3). */
tlsv_vset tlsv_vp_compiled(void);
/* Lowest compiled-in version (what MINIMUM_SUPPORTED means). */
int tlsv_vp_lowest_compiled(void);

/* true for PROTOCOL_SSLv3 / TLSv1 / TLSv1_1 / TLSv1_2. */
bool tlsv_vp_is_fixed(int protocol);
/* The version of a version-specific protocol, 0 for auto ones. */
int tlsv_vp_fixed_version(int protocol);

/* Every version the configuration enables, each checked individually:
 * the server's view (oracle rule O5). */
tlsv_vset tlsv_vp_enabled(const tlsv_vcfg *cfg);
/* The lowest contiguous run of enabled versions: the client's view (O3). */
tlsv_vset tlsv_vp_client_run(const tlsv_vcfg *cfg);

/* Set helpers. */
int tlsv_vset_max(tlsv_vset s); /* 0 for the empty set */
int tlsv_vset_min(tlsv_vset s);
size_t tlsv_vset_count(tlsv_vset s);
bool tlsv_vset_has(tlsv_vset s, int v);
/* "TLSv1.2 to TLSv1.3", "TLSv1 only", "TLSv1, TLSv1.2 and TLSv1.3", "no version". */
void tlsv_vset_describe(tlsv_vset s, char *buf, size_t len);

/* Why a configuration enables what it does: "minimum_version TLSv1_2,
 * OP_NO_TLSv1_3", or "PROTOCOL_TLSv1_2 fixes the version". */
void tlsv_vp_describe_cfg(const tlsv_vcfg *cfg, char *buf, size_t len);

/* Reports NO_PROTOCOLS_AVAILABLE (with its cause) if `set` is empty. */
int tlsv_vp_check_nonempty(const tlsv_vcfg *cfg, tlsv_vset set, tlsv_role role, tlsv_error *err);

/* ---- client: what to offer ------------------------------------------ */

#define TLSV_MAX_OFFERED 5

typedef struct tlsv_client_offer {
    uint16_t legacy_version;       /* ClientHello.legacy_version */
    uint16_t record_version;       /* version field of the first record */
    bool has_supported_versions;   /* send the supported_versions extension */
    size_t n_versions;             /* entries of versions[] */
    uint16_t versions[TLSV_MAX_OFFERED]; /* supported_versions, highest first;
                                          * without the extension: the run the
                                          * client will accept */
    bool fallback_scsv;            /* add TLS_FALLBACK_SCSV to the suites */
    tlsv_vset run;                 /* versions the client accepts back */
    bool fixed;                    /* a version-specific context */
} tlsv_client_offer;

/* Computes the offer. Fails with NO_PROTOCOLS_AVAILABLE (alert
 * protocol_version, side LOCAL) when the client enables no version. */
int tlsv_vp_client_offer(const tlsv_vcfg *cfg, bool fallback_scsv,
                         tlsv_client_offer *out, tlsv_error *err);

/* ---- server: what to pick ------------------------------------------- */

/* The version-related content of a ClientHello, as read off the wire. */
typedef struct tlsv_offer_view {
    uint16_t legacy_version;       /* ClientHello.legacy_version (client_version) */
    bool has_supported_versions;   /* the extension was present */
    const uint16_t *versions;      /* its entries, as sent (may hold GREASE/unknown) */
    size_t n_versions;
    bool fallback_scsv;            /* TLS_FALLBACK_SCSV among the suites */
    bool sslv2_format;             /* came as an SSLv2-compatible CLIENT-HELLO */
} tlsv_offer_view;

typedef enum tlsv_sentinel {
    TLSV_SENTINEL_NONE = 0,
    TLSV_SENTINEL_TLS12 = 1, /* "DOWNGRD\x01": negotiated TLS 1.2, TLS 1.3 enabled */
    TLSV_SENTINEL_TLS11 = 2  /* "DOWNGRD\x00": negotiated <= TLS 1.1, TLS 1.2 enabled */
} tlsv_sentinel;

typedef struct tlsv_server_choice {
    uint16_t version;       /* the version to negotiate */
    tlsv_sentinel sentinel; /* what to write into ServerHello.random[24..31] */
} tlsv_server_choice;

/* Picks the version for a ClientHello, or fails (side LOCAL) with
 * NO_PROTOCOLS_AVAILABLE, UNSUPPORTED_PROTOCOL, WRONG_SSL_VERSION,
 * BAD_LEGACY_VERSION (alert protocol_version) or INAPPROPRIATE_FALLBACK
 * (alert inappropriate_fallback). */
int tlsv_vp_server_select(const tlsv_vcfg *cfg, const tlsv_offer_view *offer,
                          tlsv_server_choice *out, tlsv_error *err);

/* Writes the sentinel into the last 8 bytes of a 32-byte ServerHello.random
 * (no change for TLSV_SENTINEL_NONE). */
void tlsv_vp_write_sentinel(tlsv_sentinel s, uint8_t random[32]);
/* Reads which sentinel, if any, the last 8 bytes of random carry. */
tlsv_sentinel tlsv_vp_read_sentinel(const uint8_t random[32]);

/* ---- client: accept the server's choice ----------------------------- */

typedef struct tlsv_server_hello_view {
    uint16_t legacy_version;      /* ServerHello.legacy_version */
    bool has_supported_versions;  /* the extension was present */
    uint16_t selected_version;    /* its value, if present */
    const uint8_t *random;        /* 32 bytes */
} tlsv_server_hello_view;

/* Checks a ServerHello against what the client offered and sets
 * *negotiated. Fails (side LOCAL) with UNSUPPORTED_PROTOCOL or
 * WRONG_SSL_VERSION (alert protocol_version), INAPPROPRIATE_FALLBACK or an
 * illegal supported_versions value (alert illegal_parameter),
 * UNSOLICITED_EXTENSION (alert unsupported_extension). */
int tlsv_vp_client_check(const tlsv_vcfg *cfg, const tlsv_client_offer *offer,
                         const tlsv_server_hello_view *sh, uint16_t *negotiated,
                         tlsv_error *err);

/* Whether a client with this offer sends cipher suites usable at version v
 * (TLS 1.3 suites are only usable at 1.3; the others at <= 1.2). */
bool tlsv_vp_offer_has_suites_for(const tlsv_client_offer *offer, int v);

#endif /* TLSV_VERSION_H */
