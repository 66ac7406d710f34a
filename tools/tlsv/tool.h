/*
 * tool.h -- shared declarations of the tlsv program's files.
 */
#ifndef TLSV_TOOL_H
#define TLSV_TOOL_H

#include <stdio.h>

#include "tlsv.h"

/* Prints "tlsv: <message>", then the synopsis of the command being run and
 * where its help is, to stderr; returns 2 (main.c). */
int tool_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* `tlsv help [COMMAND]`, `tlsv COMMAND --help` (help.c): prints the help of
 * cmd (NULL: of the program) to out and returns 0; for an unknown cmd, a
 * usage error (2). */
int tool_help(const char *cmd, FILE *out);

/* The one-line synopsis of a command ("tlsv client HOST:PORT [options]"),
 * or NULL if cmd is no command. */
const char *tool_synopsis(const char *cmd);

/* `tlsv demo`. */
int tool_demo(int argc, char **argv);

/* `tlsv client|server|probe`: option parsing (SPEC §3). */
int tool_connect_command(const char *cmd, int argc, char **argv);
int tool_probe(int argc, char **argv); /* `tlsv probe HOST:PORT [--json]` (probe.c) */

/* Parses a protocol name as given to --protocol ("TLS_CLIENT", "TLSv1_2",
 * also with the "PROTOCOL_" prefix). Returns 0 or -1. */
int tool_parse_protocol(const char *text, int *out);

/* Builds a context from a one-line description, e.g.
 * "TLS_CLIENT min=TLSv1 max=TLSv1_2 OP_NO_TLSv1_1". Returns NULL and fills
 * err on a bad description or a configuration error. */
tlsv_ctx *tool_ctx_from_spec(const char *spec, tlsv_error *err);

/* Applies --options LIST (comma separated, with or without NO_/OP_ prefix
 * forms as in SPEC §3) to ctx, adding them to its defaults. Returns 0, or
 * -1 with the offending name in *bad. */
int tool_apply_options(tlsv_ctx *ctx, const char *list, char *bad, size_t badlen);

#endif /* TLSV_TOOL_H */
