/*
 * suites.h -- cipher suites and key-exchange groups: names, parameters,
 * and the parsing of the ':'-separated lists of tlsv_ctx_set_ciphersuites /
 * tlsv_ctx_set_groups.
 */
#ifndef TLSV_SUITES_H
#define TLSV_SUITES_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

typedef struct tlsv_suite {
    uint16_t id;
    const char *iana;       /* TLS_AES_128_GCM_SHA256 */
    const char *openssl;    /* the same for TLS 1.3; ECDHE-RSA-AES128-GCM-SHA256 for 1.2 */
    uint16_t min_version, max_version;
    tlsv_aead_alg aead;     /* 0 for CBC suites */
    tlsv_hash_alg hash;     /* PRF / HKDF hash */
} tlsv_suite;

/* The suite with this id, or NULL. */
const tlsv_suite *tlsv_suite_by_id(uint16_t id);
/* By IANA or OpenSSL name, or NULL. */
const tlsv_suite *tlsv_suite_by_name(const char *name);

/* The TLS 1.3 suites in tlsv's default order. */
#define TLSV_SUITES13_MAX 3
extern const uint16_t tlsv_default_suites13[TLSV_SUITES13_MAX];

/* Groups: default order and names ("x25519", "P-256", ...). */
#define TLSV_GROUPS_MAX 5
extern const uint16_t tlsv_default_groups[];
extern const size_t tlsv_default_groups_count;
const char *tlsv_group_name(uint16_t group);
/* Parses "x25519", "P-256", "secp256r1", "prime256v1", ... Returns 0 if unknown. */
uint16_t tlsv_group_parse(const char *name);

/* Parses a ':'-separated list of TLS 1.3 suite names into ids (at most
 * cap). Returns the count, or -1 with the first unknown name copied to bad. */
int tlsv_parse_suites13(const char *list, uint16_t *out, size_t cap, char *bad, size_t badlen);
/* Same for groups. */
int tlsv_parse_groups(const char *list, uint16_t *out, size_t cap, char *bad, size_t badlen);

#endif /* TLSV_SUITES_H */
