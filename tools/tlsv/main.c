/*
 * tlsv -- the command-line program (SPEC §3).
 *
 * This version has `tlsv demo` (the version-negotiation table, computed by
 * the library's version policy) and the option parsing of client, server
 * and probe; the connecting commands arrive with the protocol engine.
 */
#define TLSV_SILENCE_DEPRECATION /* the tool names every constant on purpose */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlsv.h"
#include "tool.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tlsv demo [--json] [--no-color]\n"
            "       tlsv client HOST:PORT [options]\n"
            "       tlsv server [options]\n"
            "       tlsv probe HOST:PORT [--json] [--servername NAME]\n"
            "       tlsv version\n"
            "version options (client and server):\n"
            "  --protocol TLS_CLIENT|TLS_SERVER|TLS|SSLv23|SSLv3|TLSv1|TLSv1_1|TLSv1_2\n"
            "  --options NO_SSLv2,NO_SSLv3,NO_TLSv1,NO_TLSv1_1,NO_TLSv1_2,NO_TLSv1_3,ALL\n"
            "  --min-version V  --max-version V\n"
            "     V: SSLv3|TLSv1|TLSv1_1|TLSv1_2|TLSv1_3|MINIMUM_SUPPORTED|MAXIMUM_SUPPORTED\n");
}

int tool_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tlsv: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    usage(stderr);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return tool_usage_error("%s", "missing command");
    const char *cmd = argv[1];
    if (strcmp(cmd, "demo") == 0)
        return tool_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "probe") == 0)
        return tool_probe(argc - 1, argv + 1);
    if (strcmp(cmd, "client") == 0 || strcmp(cmd, "server") == 0)
        return tool_connect_command(cmd, argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("tlsv %s (SSL 3.0 %s)\n", tlsv_library_version(),
               tlsv_has_ssl3() ? "compiled in" : "not compiled in");
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    return tool_usage_error("unknown command '%s'", cmd);
}
