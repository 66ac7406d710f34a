/*
 * config.c -- turning command-line words into a tlsv_ctx.
 */
#define TLSV_SILENCE_DEPRECATION
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const struct {
    const char *name;
    int value;
} protocols[] = {
    {"TLS_CLIENT", TLSV_PROTOCOL_TLS_CLIENT}, {"TLS_SERVER", TLSV_PROTOCOL_TLS_SERVER},
    {"TLS", TLSV_PROTOCOL_TLS},               {"SSLv23", TLSV_PROTOCOL_SSLv23},
    {"SSLv3", TLSV_PROTOCOL_SSLv3},           {"TLSv1", TLSV_PROTOCOL_TLSv1},
    {"TLSv1_1", TLSV_PROTOCOL_TLSv1_1},       {"TLSv1_2", TLSV_PROTOCOL_TLSv1_2},
};

int tool_parse_protocol(const char *text, int *out)
{
    if (strncmp(text, "PROTOCOL_", 9) == 0)
        text += 9;
    for (size_t i = 0; i < sizeof protocols / sizeof protocols[0]; i++) {
        if (strcmp(text, protocols[i].name) == 0) {
            *out = protocols[i].value;
            return 0;
        }
    }
    return -1;
}

int tool_apply_options(tlsv_ctx *ctx, const char *list, char *bad, size_t badlen)
{
    char *copy = strdup(list);
    if (!copy)
        return -1;
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",|", &save); tok; tok = strtok_r(NULL, ",|", &save)) {
        tlsv_options bits;
        if (tlsv_option_parse(tok, &bits) != 0) {
            snprintf(bad, badlen, "%s", tok);
            rc = -1;
            break;
        }
        tlsv_ctx_add_options(ctx, bits);
    }
    free(copy);
    return rc;
}

tlsv_ctx *tool_ctx_from_spec(const char *spec, tlsv_error *err)
{
    char *copy = strdup(spec);
    if (!copy)
        return NULL;
    char *save = NULL;
    char *tok = strtok_r(copy, " ", &save);
    int protocol;
    tlsv_ctx *ctx = NULL;
    if (!tok || tool_parse_protocol(tok, &protocol) != 0) {
        snprintf(err->message, sizeof err->message, "bad protocol in '%s'", spec);
        err->reason = TLSV_R_INVALID_ARGUMENT;
        goto out;
    }
    ctx = tlsv_ctx_new(protocol, err);
    if (!ctx)
        goto out;
    while ((tok = strtok_r(NULL, " ", &save))) {
        int v, rc = -1;
        if (strncmp(tok, "min=", 4) == 0 && tlsv_version_parse(tok + 4, &v) == 0)
            rc = tlsv_ctx_set_minimum_version(ctx, v);
        else if (strncmp(tok, "max=", 4) == 0 && tlsv_version_parse(tok + 4, &v) == 0)
            rc = tlsv_ctx_set_maximum_version(ctx, v);
        else {
            char bad[64];
            rc = tool_apply_options(ctx, tok, bad, sizeof bad);
            if (rc != 0) {
                snprintf(err->message, sizeof err->message, "unknown option '%s'", bad);
                err->reason = TLSV_R_INVALID_ARGUMENT;
                tlsv_ctx_free(ctx);
                ctx = NULL;
                goto out;
            }
        }
        if (rc != 0) {
            memcpy(err, tlsv_ctx_last_error(ctx), sizeof *err);
            tlsv_ctx_free(ctx);
            ctx = NULL;
            goto out;
        }
    }
out:
    free(copy);
    return ctx;
}
