/*
 * suites.c -- cipher suite and group tables. See suites.h.
 */
#include "suites.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdbool.h>

static const tlsv_suite suites[] = {
    {0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", 0x0304, 0x0304,
     TLSV_AEAD_AES_128_GCM, TLSV_HASH_SHA256},
    {0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", 0x0304, 0x0304,
     TLSV_AEAD_AES_256_GCM, TLSV_HASH_SHA384},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", 0x0304, 0x0304,
     TLSV_AEAD_CHACHA20_POLY1305, TLSV_HASH_SHA256},
};

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
