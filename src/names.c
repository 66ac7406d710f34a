/*
 * names.c -- names and parsing of protocol constants, versions and options.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tlsv.h"
#include "crypto/crypto.h"
#include "version.h"

const char *tlsv_library_version(void)
{
    return TLSV_VERSION_TEXT;
}

const char *tlsv_crypto_library_version(void)
{
    return tlsv_crypto_version_text();
}

int tlsv_has_ssl3(void)
{
#ifdef TLSV_HAVE_SSL3
    return 1;
#else
    return 0;
#endif
}

const char *tlsv_protocol_name(int protocol)
{
    switch (protocol) {
    case TLSV_PROTOCOL_SSLv3: return "PROTOCOL_SSLv3";
    case TLSV_PROTOCOL_TLS: return "PROTOCOL_TLS";
    case TLSV_PROTOCOL_TLSv1: return "PROTOCOL_TLSv1";
    case TLSV_PROTOCOL_TLSv1_1: return "PROTOCOL_TLSv1_1";
    case TLSV_PROTOCOL_TLSv1_2: return "PROTOCOL_TLSv1_2";
    case TLSV_PROTOCOL_TLS_CLIENT: return "PROTOCOL_TLS_CLIENT";
    case TLSV_PROTOCOL_TLS_SERVER: return "PROTOCOL_TLS_SERVER";
    default: return NULL;
    }
}

const char *tlsv_version_string(int version)
{
    switch (version) {
    case TLSV_V_SSL3: return "SSLv3";
    case TLSV_V_TLS10: return "TLSv1";
    case TLSV_V_TLS11: return "TLSv1.1";
    case TLSV_V_TLS12: return "TLSv1.2";
    case TLSV_V_TLS13: return "TLSv1.3";
    default: return NULL;
    }
}

static const struct {
    int value;
    const char *name;
    const char *alias;
} version_names[] = {
    {TLSV_VERSION_MINIMUM_SUPPORTED, "MINIMUM_SUPPORTED", NULL},
    {TLSV_VERSION_MAXIMUM_SUPPORTED, "MAXIMUM_SUPPORTED", NULL},
    {TLSV_V_SSL3, "SSLv3", NULL},
    {TLSV_V_TLS10, "TLSv1", "TLSv1.0"},
    {TLSV_V_TLS11, "TLSv1_1", "TLSv1.1"},
    {TLSV_V_TLS12, "TLSv1_2", "TLSv1.2"},
    {TLSV_V_TLS13, "TLSv1_3", "TLSv1.3"},
};

const char *tlsv_version_name(int version)
{
    for (size_t i = 0; i < sizeof version_names / sizeof version_names[0]; i++)
        if (version_names[i].value == version)
            return version_names[i].name;
    return NULL;
}

int tlsv_version_parse(const char *text, int *out)
{
    if (!text || !out)
        return -1;
    for (size_t i = 0; i < sizeof version_names / sizeof version_names[0]; i++) {
        if (strcmp(text, version_names[i].name) == 0 ||
            (version_names[i].alias && strcmp(text, version_names[i].alias) == 0)) {
            *out = version_names[i].value;
            return 0;
        }
    }
    return -1;
}

static const struct {
    tlsv_options bits;
    const char *name;
} option_names[] = {
    {TLSV_OP_ALL, "OP_ALL"},
    {0x02000000u, "OP_NO_SSLv3"},
    {0x04000000u, "OP_NO_TLSv1"},
    {0x10000000u, "OP_NO_TLSv1_1"},
    {0x08000000u, "OP_NO_TLSv1_2"},
    {0x20000000u, "OP_NO_TLSv1_3"},
    {TLSV_OP_NO_COMPRESSION, "OP_NO_COMPRESSION"},
    {TLSV_OP_CIPHER_SERVER_PREFERENCE, "OP_CIPHER_SERVER_PREFERENCE"},
    {TLSV_OP_ENABLE_MIDDLEBOX_COMPAT, "OP_ENABLE_MIDDLEBOX_COMPAT"},
    {TLSV_OP_NO_TICKET, "OP_NO_TICKET"},
    {TLSV_OP_NO_RENEGOTIATION, "OP_NO_RENEGOTIATION"},
    {TLSV_OP_IGNORE_UNEXPECTED_EOF, "OP_IGNORE_UNEXPECTED_EOF"},
    {TLSV_OP_DONT_INSERT_EMPTY_FRAGMENTS, "OP_DONT_INSERT_EMPTY_FRAGMENTS"},
    {TLSV_OP_LEGACY_SERVER_CONNECT, "OP_LEGACY_SERVER_CONNECT"},
    {TLSV_OP_NO_SSLv2, "OP_NO_SSLv2"},
    {TLSV_OP_SINGLE_DH_USE, "OP_SINGLE_DH_USE"},
    {TLSV_OP_SINGLE_ECDH_USE, "OP_SINGLE_ECDH_USE"},
};

int tlsv_option_parse(const char *name, tlsv_options *out)
{
    if (!name || !out)
        return -1;
    const char *bare = strncmp(name, "OP_", 3) == 0 ? name + 3 : name;
    for (size_t i = 0; i < sizeof option_names / sizeof option_names[0]; i++) {
        if (strcmp(bare, option_names[i].name + 3) == 0) {
            *out = option_names[i].bits;
            return 0;
        }
    }
    return -1;
}

size_t tlsv_options_describe(tlsv_options options, char *buf, size_t len)
{
    size_t need = 0;
    tlsv_options left = options;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < sizeof option_names / sizeof option_names[0]; i++) {
        tlsv_options b = option_names[i].bits;
        if (b == 0 || (left & b) != b)
            continue;
        int w = snprintf(len > need ? buf + need : NULL, len > need ? len - need : 0, "%s%s",
                         need ? "|" : "", option_names[i].name);
        if (w > 0)
            need += (size_t)w;
        left &= ~b;
    }
    if (left) {
        int w = snprintf(len > need ? buf + need : NULL, len > need ? len - need : 0,
                         "%s0x%llx", need ? "|" : "", (unsigned long long)left);
        if (w > 0)
            need += (size_t)w;
    }
    if (need == 0) {
        int w = snprintf(buf, len, "0");
        need = w > 0 ? (size_t)w : 0;
    }
    return need;
}
