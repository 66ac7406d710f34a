/*
 * suites.c -- cipher suite and group tables. See suites.h.
 */
#include "suites.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdbool.h>

#define GCM128 TLSV_AEAD_AES_128_GCM
#define GCM256 TLSV_AEAD_AES_256_GCM
#define CHACHA TLSV_AEAD_CHACHA20_POLY1305
#define S256 TLSV_HASH_SHA256
#define S384 TLSV_HASH_SHA384
#define S1 TLSV_HASH_SHA1
#define ECDHE TLSV_KX_ECDHE
#define RSAKX TLSV_KX_RSA
#define ECDSA TLSV_AUTH_ECDSA
#define RSA TLSV_AUTH_RSA
#define CBC128 TLSV_CBC_AES_128
#define CBC256 TLSV_CBC_AES_256

static const tlsv_suite suites[] = {
    /* TLS 1.3 (RFC 8446 App. B.4) */
    {0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", 0x0304, 0x0304, GCM128, S256,
     0, 0, 0, 0},
    {0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", 0x0304, 0x0304, GCM256, S384,
     0, 0, 0, 0},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", 0x0304, 0x0304,
     CHACHA, S256, 0, 0, 0, 0},
    /* TLS 1.2 AEAD (RFC 5289, RFC 7905, RFC 5288) */
    {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", 0x0303,
     0x0303, GCM128, S256, ECDHE, ECDSA, 0, 0},
    {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", 0x0303,
     0x0303, GCM128, S256, ECDHE, RSA, 0, 0},
    {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", 0x0303,
     0x0303, GCM256, S384, ECDHE, ECDSA, 0, 0},
    {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", 0x0303,
     0x0303, GCM256, S384, ECDHE, RSA, 0, 0},
    {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
     0x0303, 0x0303, CHACHA, S256, ECDHE, ECDSA, 0, 0},
    {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305",
     0x0303, 0x0303, CHACHA, S256, ECDHE, RSA, 0, 0},
    /* TLS 1.2 CBC with SHA-2 MACs (RFC 5289) */
    {0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256", 0x0303,
     0x0303, 0, S256, ECDHE, ECDSA, CBC128, S256},
    {0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", 0x0303, 0x0303,
     0, S256, ECDHE, RSA, CBC128, S256},
    {0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "ECDHE-ECDSA-AES256-SHA384", 0x0303,
     0x0303, 0, S384, ECDHE, ECDSA, CBC256, S384},
    {0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384", 0x0303, 0x0303,
     0, S384, ECDHE, RSA, CBC256, S384},
    /* CBC with SHA-1 MACs: TLS 1.0-1.2 (RFC 8422) */
    {0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", 0x0301, 0x0303, 0,
     S256, ECDHE, ECDSA, CBC128, S1},
    {0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", 0x0301, 0x0303, 0,
     S256, ECDHE, RSA, CBC128, S1},
    {0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", 0x0301, 0x0303, 0,
     S256, ECDHE, ECDSA, CBC256, S1},
    {0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", 0x0301, 0x0303, 0,
     S256, ECDHE, RSA, CBC256, S1},
    /* RSA key exchange (RFC 5246, RFC 5288) */
    {0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", 0x0303, 0x0303, GCM128,
     S256, RSAKX, RSA, 0, 0},
    {0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", 0x0303, 0x0303, GCM256,
     S384, RSAKX, RSA, 0, 0},
    {0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", 0x0303, 0x0303, 0, S256, RSAKX,
     RSA, CBC128, S256},
    {0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256", 0x0303, 0x0303, 0, S256, RSAKX,
     RSA, CBC256, S256},
    {0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", 0x0300, 0x0303, 0, S256, RSAKX, RSA,
     CBC128, S1},
    {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", 0x0300, 0x0303, 0, S256, RSAKX, RSA,
     CBC256, S1},
};

int tlsv_suite_usable(const tlsv_suite *s, uint16_t v)
{
    return s && v >= s->min_version && v <= s->max_version;
}

/* DEFAULT for TLS <= 1.2: ECDHE, ECDSA before RSA within a cipher, AEAD
 * first, then CBC; RSA key exchange last (clients only). */
static const uint16_t default12[] = {0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
                                     0xc023, 0xc027, 0xc024, 0xc028, 0xc009, 0xc013,
                                     0xc00a, 0xc014};
static const uint16_t default12_rsa[] = {0x009c, 0x009d, 0x003c, 0x003d, 0x002f, 0x0035};

size_t tlsv_default_suites12(int server, uint16_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof default12 / sizeof default12[0] && n < cap; i++)
        out[n++] = default12[i];
    for (size_t i = 0; !server && i < sizeof default12_rsa / sizeof default12_rsa[0] && n < cap;
         i++)
        out[n++] = default12_rsa[i];
    return n;
}

int tlsv_parse_suites12(const char *list, int server, uint16_t *out, size_t cap, char *bad,
                        size_t badlen)
{
    size_t n = 0;
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char name[80];
        if (len == 0 || len >= sizeof name) {
            snprintf(bad, badlen, "%.*s", (int)(len < 60 ? len : 60), p);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        p += len + (end ? 1 : 0);
        if (strcmp(name, "DEFAULT") == 0 || strcmp(name, "ALL") == 0) {
            uint16_t d[TLSV_SUITES12_MAX];
            size_t dn = tlsv_default_suites12(server, d, TLSV_SUITES12_MAX);
            for (size_t i = 0; i < dn; i++) {
                bool dup = false;
                for (size_t j = 0; j < n; j++)
                    dup = dup || out[j] == d[i];
                if (!dup && n < cap)
                    out[n++] = d[i];
            }
            continue;
        }
        if (name[0] == '@')
            continue; /* @SECLEVEL=n and friends: tlsv has no security level */
        bool remove = name[0] == '!' || name[0] == '-';
        const tlsv_suite *s = tlsv_suite_by_name(remove ? name + 1 : name);
        if (!s || s->min_version >= 0x0304) {
            snprintf(bad, badlen, "%s", name);
            return -1;
        }
        size_t j = 0;
        for (; j < n && out[j] != s->id; j++)
            ;
        if (remove) {
            if (j < n) {
                memmove(out + j, out + j + 1, (n - j - 1) * sizeof out[0]);
                n--;
            }
        } else if (j == n && n < cap) {
            out[n++] = s->id;
        }
    }
    return (int)n;
}

/* AES-128-GCM first: fastest with AES-NI, and OpenSSL's clients accept it. */
const uint16_t tlsv_default_suites13[TLSV_SUITES13_MAX] = {0x1301, 0x1302, 0x1303};

const tlsv_suite *tlsv_suite_by_id(uint16_t id)
{
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}

const tlsv_suite *tlsv_suite_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (strcmp(suites[i].iana, name) == 0 || strcmp(suites[i].openssl, name) == 0)
            return &suites[i];
    return NULL;
}

static const struct {
    uint16_t id;
    const char *name;
    const char *alias1, *alias2;
} groups[] = {
    {TLSV_GROUP_X25519, "x25519", "X25519", NULL},
    {TLSV_GROUP_SECP256R1, "P-256", "secp256r1", "prime256v1"},
    {TLSV_GROUP_SECP384R1, "P-384", "secp384r1", NULL},
    {TLSV_GROUP_X448, "x448", "X448", NULL},
    {TLSV_GROUP_SECP521R1, "P-521", "secp521r1", NULL},
};

const uint16_t tlsv_default_groups[] = {TLSV_GROUP_X25519, TLSV_GROUP_SECP256R1,
                                        TLSV_GROUP_SECP384R1};
const size_t tlsv_default_groups_count = sizeof tlsv_default_groups / sizeof tlsv_default_groups[0];

const char *tlsv_group_name(uint16_t group)
{
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (groups[i].id == group)
            return groups[i].name;
    return NULL;
}

uint16_t tlsv_group_parse(const char *name)
{
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (strcasecmp(name, groups[i].name) == 0 ||
            (groups[i].alias1 && strcasecmp(name, groups[i].alias1) == 0) ||
            (groups[i].alias2 && strcasecmp(name, groups[i].alias2) == 0))
            return groups[i].id;
    return 0;
}

/* Splits list at ':' and maps each name with `lookup` (0 = unknown). */
static int parse_list(const char *list, uint16_t (*lookup)(const char *), uint16_t *out,
                      size_t cap, char *bad, size_t badlen)
{
    size_t n = 0;
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char name[64];
        if (len == 0 || len >= sizeof name) {
            snprintf(bad, badlen, "%.*s", (int)(len < 60 ? len : 60), p);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        uint16_t id = lookup(name);
        if (!id) {
            snprintf(bad, badlen, "%s", name);
            return -1;
        }
        bool dup = false;
        for (size_t i = 0; i < n; i++)
            dup = dup || out[i] == id;
        if (!dup && n < cap)
            out[n++] = id;
        p += len + (end ? 1 : 0);
    }
    return (int)n;
}

static uint16_t suite13_lookup(const char *name)
{
    const tlsv_suite *s = tlsv_suite_by_name(name);
    return s && s->min_version >= 0x0304 ? s->id : 0;
}

int tlsv_parse_suites13(const char *list, uint16_t *out, size_t cap, char *bad, size_t badlen)
{
    return parse_list(list, suite13_lookup, out, cap, bad, badlen);
}

static uint16_t group_lookup(const char *name)
{
    uint16_t g = tlsv_group_parse(name);
    return g && tlsv_kex_supported((tlsv_group)g) ? g : 0;
}

int tlsv_parse_groups(const char *list, uint16_t *out, size_t cap, char *bad, size_t badlen)
{
    return parse_list(list, group_lookup, out, cap, bad, badlen);
}
