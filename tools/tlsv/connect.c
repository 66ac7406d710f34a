/*
 * connect.c -- `tlsv client`, `tlsv server`, `tlsv probe`: the options of
 * SPEC §3 and the context they describe. Connecting needs the protocol
 * engine, which later versions add; until then these commands check their
 * arguments, report the versions the context would use, and exit 1.
 */
#define TLSV_SILENCE_DEPRECATION
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

enum {
    OPT_PROTOCOL = 256, OPT_OPTIONS, OPT_MIN, OPT_MAX, OPT_CERT, OPT_KEY, OPT_CAFILE,
    OPT_VERIFY, OPT_NO_CHECK_HOSTNAME, OPT_SERVERNAME, OPT_ALPN, OPT_CIPHERS,
    OPT_CIPHERSUITES, OPT_GROUPS, OPT_FALLBACK_SCSV, OPT_HANDSHAKE_ONLY, OPT_JSON,
    OPT_TRACE, OPT_KEYLOG, OPT_PORT, OPT_ONCE, OPT_ECHO, OPT_WWW
};

static const struct option longopts[] = {
    {"protocol", required_argument, NULL, OPT_PROTOCOL},
    {"options", required_argument, NULL, OPT_OPTIONS},
    {"min-version", required_argument, NULL, OPT_MIN},
    {"max-version", required_argument, NULL, OPT_MAX},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"cafile", required_argument, NULL, OPT_CAFILE},
    {"verify", required_argument, NULL, OPT_VERIFY},
    {"no-check-hostname", no_argument, NULL, OPT_NO_CHECK_HOSTNAME},
    {"servername", required_argument, NULL, OPT_SERVERNAME},
    {"alpn", required_argument, NULL, OPT_ALPN},
    {"ciphers", required_argument, NULL, OPT_CIPHERS},
    {"ciphersuites", required_argument, NULL, OPT_CIPHERSUITES},
    {"groups", required_argument, NULL, OPT_GROUPS},
    {"fallback-scsv", no_argument, NULL, OPT_FALLBACK_SCSV},
    {"handshake-only", no_argument, NULL, OPT_HANDSHAKE_ONLY},
    {"json", no_argument, NULL, OPT_JSON},
    {"trace", no_argument, NULL, OPT_TRACE},
    {"keylog", required_argument, NULL, OPT_KEYLOG},
    {"port", required_argument, NULL, OPT_PORT},
    {"once", no_argument, NULL, OPT_ONCE},
    {"echo", no_argument, NULL, OPT_ECHO},
    {"www", no_argument, NULL, OPT_WWW},
    {0, 0, 0, 0},
};

int tool_connect_command(const char *cmd, int argc, char **argv)
{
    int is_server = strcmp(cmd, "server") == 0;
    int protocol = is_server ? TLSV_PROTOCOL_TLS_SERVER : TLSV_PROTOCOL_TLS_CLIENT;
    const char *options = NULL;
    int min = 0, max = 0, have_min = 0, have_max = 0, verify = -1, no_check_hostname = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_PROTOCOL:
            if (tool_parse_protocol(optarg, &protocol) != 0)
                return tool_usage_error("unknown --protocol '%s'", optarg);
            break;
        case OPT_OPTIONS: options = optarg; break;
        case OPT_MIN:
            if (tlsv_version_parse(optarg, &min) != 0)
                return tool_usage_error("unknown --min-version '%s'", optarg);
            have_min = 1;
            break;
        case OPT_MAX:
            if (tlsv_version_parse(optarg, &max) != 0)
                return tool_usage_error("unknown --max-version '%s'", optarg);
            have_max = 1;
            break;
        case OPT_VERIFY:
            if (strcmp(optarg, "none") == 0)
                verify = TLSV_CERT_NONE;
            else if (strcmp(optarg, "optional") == 0)
                verify = TLSV_CERT_OPTIONAL;
            else if (strcmp(optarg, "required") == 0)
                verify = TLSV_CERT_REQUIRED;
            else
                return tool_usage_error("--verify takes none|optional|required, not '%s'",
                                        optarg);
            break;
        case OPT_NO_CHECK_HOSTNAME: no_check_hostname = 1; break;
        case '?': return tool_usage_error("%s", "bad option");
        default: break; /* accepted; used once the engine exists */
        }
    }
    int positional = argc - optind;
    if (!is_server && positional != 1)
        return tool_usage_error("%s needs exactly one HOST:PORT", cmd);
    if (is_server && positional != 0)
        return tool_usage_error("unexpected argument '%s'", argv[optind]);

    tlsv_error err;
    tlsv_ctx *ctx = tlsv_ctx_new(protocol, &err);
    if (!ctx) {
        fprintf(stderr, "tlsv %s: %s: %s\n", cmd, tlsv_reason_name(err.reason), err.message);
        return 2;
    }
    int rc = 0;
    char bad[64];
    if (options && tool_apply_options(ctx, options, bad, sizeof bad) != 0)
        rc = tool_usage_error("unknown option name '%s' in --options", bad);
    if (!rc && have_min && tlsv_ctx_set_minimum_version(ctx, min) != 0)
        rc = 2;
    if (!rc && have_max && tlsv_ctx_set_maximum_version(ctx, max) != 0)
        rc = 2;
    if (!rc && no_check_hostname)
        tlsv_ctx_set_check_hostname(ctx, 0);
    if (!rc && verify >= 0 && tlsv_ctx_set_verify_mode(ctx, verify) != 0)
        rc = 2;
    if (rc == 2 && tlsv_ctx_last_error(ctx)->reason != TLSV_R_OK) {
        const tlsv_error *e = tlsv_ctx_last_error(ctx);
        fprintf(stderr, "tlsv %s: %s: %s\n", cmd, tlsv_reason_name(e->reason), e->message);
    }
    if (rc) {
        tlsv_ctx_free(ctx);
        return rc;
    }
    tlsv_role role = is_server ? TLSV_ROLE_SERVER : TLSV_ROLE_CLIENT;
    if (tlsv_ctx_check_versions(ctx, role, &err) != 0) {
        fprintf(stderr, "tlsv %s: %s: %s\n", cmd, tlsv_reason_name(err.reason), err.message);
        tlsv_ctx_free(ctx);
        return 1;
    }
    int versions[6];
    size_t n = tlsv_ctx_enabled_versions(ctx, role, versions, 6);
    fprintf(stderr, "tlsv %s: this context would use", cmd);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s%s", i ? ", " : " ", tlsv_version_string(versions[i]));
    fprintf(stderr, "\ntlsv %s: NOT_IMPLEMENTED: connections need the protocol engine, which "
                    "this build does not have yet\n",
            cmd);
    tlsv_ctx_free(ctx);
    return 1;
}
