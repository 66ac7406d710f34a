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

typedef enum tlsv_kx { TLSV_KX_ANY = 0, TLSV_KX_ECDHE = 1, TLSV_KX_RSA = 2 } tlsv_kx;
typedef enum tlsv_auth { TLSV_AUTH_ANY = 0, TLSV_AUTH_ECDSA = 1, TLSV_AUTH_RSA = 2 } tlsv_auth;

typedef struct tlsv_suite {
    uint16_t id;
    const char *iana;       /* TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA */
    const char *openssl;    /* the same for TLS 1.3; ECDHE-RSA-AES128-SHA for the others */
    uint16_t min_version, max_version;
    tlsv_aead_alg aead;     /* AEAD suites; 0 for CBC suites */
    tlsv_hash_alg hash;     /* TLS 1.3: HKDF hash; TLS 1.2: PRF hash */
    tlsv_kx kx;             /* TLS <= 1.2 key exchange */
    tlsv_auth auth;         /* TLS <= 1.2 certificate key type */
    tlsv_cbc_alg cbc;       /* CBC suites: the block cipher; 0 for AEAD */
    tlsv_hash_alg mac;      /* CBC suites: the HMAC hash */
} tlsv_suite;

/* The suite list a TLS <= 1.2 context offers (client) or accepts (server),
 * in preference order: tlsv's DEFAULT unless tlsv_ctx_set_ciphers changed
 * it. DEFAULT has the ECDHE suites (AEAD first, then CBC); RSA key
 * exchange suites are in DEFAULT for clients only (legacy servers often
 * offer nothing else), and a server uses them only when its list names
 * them. */
#define TLSV_SUITES12_MAX 32
size_t tlsv_default_suites12(int server, uint16_t *out, size_t cap);
/* OpenSSL-style list: names (OpenSSL or IANA) separated by ':', "DEFAULT",
 * "!NAME" to remove one. Returns the count, or -1 with the bad name. */
int tlsv_parse_suites12(const char *list, int server, uint16_t *out, size_t cap, char *bad,
                        size_t badlen);
/* Whether suite s can be used at version v. */
int tlsv_suite_usable(const tlsv_suite *s, uint16_t v);

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
