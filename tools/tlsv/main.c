/*
 * tlsv -- the command-line program (SPEC §3).
 *
 *   tlsv client HOST:PORT [options]   connect.c
 *   tlsv server [options]             connect.c
 *   tlsv probe HOST:PORT [options]    probe.c
 *   tlsv demo [options]               demo.c
 *   tlsv version                      here
 *   tlsv help [COMMAND]               help.c (also --help / -h, everywhere)
 *
 * Exit status: 0 success, 1 TLS or network failure, 2 bad usage -- with a
 * message that names the bad argument, then the command's synopsis
 * (tool_usage_error).
 */
#define TLSV_SILENCE_DEPRECATION /* the tool names every constant on purpose */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlsv.h"
#include "tool.h"

/* The command being run, for the synopsis of a usage error (NULL: none yet). */
static const char *current_command;

int tool_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tlsv: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    const char *synopsis = tool_synopsis(current_command);
    if (synopsis)
        fprintf(stderr, "usage: %s\nRun 'tlsv help %s' for details.\n", synopsis,
                current_command);
    else
        fprintf(stderr, "usage: tlsv client|server|probe|demo|version|help ...\n"
                        "Run 'tlsv help' for the commands.\n");
    return 2;
}

/* `tlsv version`: the program, the library, the crypto library and the
 * protocol versions compiled in and enabled by default -- all asked of the
 * library, not assumed. */
static void list_versions(char *buf, size_t len, int protocol, int lowest)
{
    buf[0] = '\0';
    tlsv_ctx *ctx = tlsv_ctx_new(protocol, NULL);
    if (!ctx)
        return;
    if (lowest) {
        /* every compiled-in version: the lowest bound, and no OP_NO_* flag */
        (void)tlsv_ctx_set_minimum_version(ctx, TLSV_VERSION_MINIMUM_SUPPORTED);
        tlsv_ctx_clear_options(ctx, TLSV_OP_NO_SSLv3 | TLSV_OP_NO_TLSv1 | TLSV_OP_NO_TLSv1_1 |
                                        TLSV_OP_NO_TLSv1_2 | TLSV_OP_NO_TLSv1_3);
    }
    int v[8];
    tlsv_role role = protocol == TLSV_PROTOCOL_TLS_CLIENT ? TLSV_ROLE_CLIENT : TLSV_ROLE_SERVER;
    size_t n = tlsv_ctx_enabled_versions(ctx, role, v, 8);
    size_t used = 0;
    for (size_t i = 0; i < n && i < 8; i++) {
        const char *name = tlsv_version_string(v[i]);
        int w = snprintf(buf + used, len - used, "%s%s", used ? " " : "", name ? name : "?");
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
    tlsv_ctx_free(ctx);
}

static int print_version(void)
{
    char compiled[128], defaults[128];
    list_versions(compiled, sizeof compiled, TLSV_PROTOCOL_TLS_SERVER, 1);
    list_versions(defaults, sizeof defaults, TLSV_PROTOCOL_TLS_CLIENT, 0);
    printf("tlsv %s\n", TLSV_VERSION_TEXT);
    printf("library:   libtlsv %s\n", tlsv_library_version());
    printf("libcrypto: %s\n", tlsv_crypto_library_version());
    printf("protocols: %s%s\n", compiled,
           tlsv_has_ssl3() ? "" : " (SSLv3 not compiled in: -DTLSV_ENABLE_SSL3=ON adds it)");
    printf("default:   %s (TLS_CLIENT and TLS_SERVER, minimum_version TLSv1_2)\n", defaults);
    return 0;
}

/* `tlsv demo --help`: demo.c's parser knows no --help, so it is answered
 * here. "-h", "--help" and its abbreviations, before a "--". */
static int asks_for_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            return 0;
        size_t n = strlen(a);
        if (strcmp(a, "-h") == 0 || (n >= 3 && strncmp(a, "--help", n) == 0 && n <= 6))
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return tool_usage_error("%s", "missing command");
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        current_command = "help";
        if (argc > 3)
            return tool_usage_error("unexpected argument '%s'", argv[3]);
        return tool_help(argc == 3 ? argv[2] : NULL, stdout);
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        current_command = "version";
        if (argc == 3 && asks_for_help(argc - 1, argv + 1))
            return tool_help("version", stdout);
        if (argc > 2)
            return tool_usage_error("unexpected argument '%s'", argv[2]);
        return print_version();
    }
    if (!tool_synopsis(cmd))
        return tool_usage_error(cmd[0] == '-' ? "unknown option '%s' (options follow the command)"
                                              : "unknown command '%s'",
                                cmd);
    current_command = cmd;
    /* getopt's own messages ("unrecognized option '--x'", "option '--port'
     * requires an argument") start with argv[0]: make that "tlsv COMMAND" */
    static char prog[32];
    snprintf(prog, sizeof prog, "tlsv %s", cmd);
    argv[1] = prog;
    if (strcmp(cmd, "demo") == 0) {
        if (asks_for_help(argc - 1, argv + 1))
            return tool_help("demo", stdout);
        return tool_demo(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "probe") == 0)
        return tool_probe(argc - 1, argv + 1);
    if (strcmp(cmd, "client") == 0 || strcmp(cmd, "server") == 0)
        return tool_connect_command(cmd, argc - 1, argv + 1);
    return tool_usage_error("unknown command '%s'", cmd); /* help/version: handled above */
}
