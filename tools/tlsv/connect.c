/*
 * connect.c -- `tlsv client`, `tlsv server`, `tlsv probe` (SPEC §3).
 *
 *   tlsv client HOST:PORT [options]  connects, runs the handshake, prints one
 *       summary line to stderr (and with --json one object to stdout), then
 *       copies stdin -> connection and connection -> stdout until the peer
 *       closes; at the end of stdin it sends close_notify and keeps reading
 *       until the peer closes too. --handshake-only closes right after the
 *       handshake.
 *   tlsv server [options]  listens on 127.0.0.1 (--port N, 0: any; the port
 *       is printed as "tlsv: listening on 127.0.0.1:PORT") and serves
 *       connections one after another: --echo echoes, --www answers an HTTP
 *       request with a page describing the connection, --handshake-only
 *       closes after the handshake, and by default received data goes to
 *       stdout and stdin to the (current) client. --once serves one
 *       connection and exits 0 or 1 by its handshake result.
 *   tlsv probe  not implemented yet.
 *
 * --trace prints the handshake to stderr as it happens, one line per message,
 * record, alert and key change: ">>> " sent, "<<< " received, "--- " an
 * event of the connection itself; the record lines are indented under the
 * messages they carry (a server puts "[PEER] " before each line, as it may
 * serve several connections at once). --keylog FILE appends the NSS key log
 * (SSLKEYLOGFILE format) to FILE; without --keylog the SSLKEYLOGFILE
 * environment variable names the file, on both client and server.
 *
 * Exit status: 0 success, 1 TLS or network failure, 2 bad usage or a
 * configuration the library refuses (with a message).
 *
 * Everything goes through the public API (tlsv.h), file-descriptor mode on
 * non-blocking sockets (net.c).
 */
#define TLSV_SILENCE_DEPRECATION
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "tool.h"

/* How long the tool waits for a peer (milliseconds). */
#define CONNECT_TIMEOUT_MS 10000
#define HANDSHAKE_TIMEOUT_MS 30000
#define CLOSE_TIMEOUT_MS 3000   /* for the peer's close_notify after ours */
#define WRITE_TIMEOUT_MS 30000  /* a server's reply to a peer that does not read */
#define REQUEST_TIMEOUT_MS 10000 /* --www: the HTTP request */
#define TICKET_TIMEOUT_MS 2000   /* a TLS 1.3 session ticket after the handshake */

enum {
    OPT_PROTOCOL = 256, OPT_OPTIONS, OPT_MIN, OPT_MAX, OPT_CERT, OPT_KEY, OPT_CAFILE,
    OPT_VERIFY, OPT_NO_CHECK_HOSTNAME, OPT_SERVERNAME, OPT_ALPN, OPT_CIPHERS,
    OPT_CIPHERSUITES, OPT_GROUPS, OPT_FALLBACK_SCSV, OPT_HANDSHAKE_ONLY, OPT_JSON,
    OPT_TRACE, OPT_KEYLOG, OPT_PORT, OPT_ONCE, OPT_ECHO, OPT_WWW, OPT_SESS_OUT, OPT_SESS_IN,
    OPT_RECONNECT, OPT_NUM_TICKETS, OPT_KEYUPDATE_COMMANDS, OPT_ENABLE_PHA, OPT_SESS_CACHE,
    OPT_SESS_TIMEOUT
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
    {"sess-out", required_argument, NULL, OPT_SESS_OUT},
    {"sess-in", required_argument, NULL, OPT_SESS_IN},
    {"reconnect", required_argument, NULL, OPT_RECONNECT},
    {"num-tickets", required_argument, NULL, OPT_NUM_TICKETS},
    {"sess-cache", required_argument, NULL, OPT_SESS_CACHE},
    {"sess-timeout", required_argument, NULL, OPT_SESS_TIMEOUT},
    {"keyupdate-commands", no_argument, NULL, OPT_KEYUPDATE_COMMANDS},
    {"enable-pha", no_argument, NULL, OPT_ENABLE_PHA},
    {"help", no_argument, NULL, 'h'},
    {0, 0, 0, 0},
};

struct opts {
    const char *cmd;
    int is_server, is_probe;
    int protocol;
    const char *options;
    int min, max, have_min, have_max;
    int verify;             /* -1: the context's default */
    int no_check_hostname;
    const char *cert, *key, *cafile, *servername, *alpn, *ciphers, *ciphersuites, *groups;
    int fallback_scsv;
    int handshake_only, json;
    int trace;
    const char *keylog;     /* --keylog FILE */
    int port, once, echo, www;
    const char *target;     /* client: HOST:PORT */
    const char *sess_out, *sess_in; /* client: --sess-out / --sess-in FILE */
    int reconnect;          /* client: --reconnect N */
    int num_tickets;        /* server: --num-tickets N (-1: the default) */
    long sess_cache;        /* server: --sess-cache N (-1: the default) */
    long sess_timeout;      /* server: --sess-timeout SECONDS (-1: the default) */
    int ku_commands;        /* --keyupdate-commands: stdin lines "k" / "K" */
    int enable_pha;         /* --enable-pha: TLS 1.3 post-handshake authentication;
                               server: stdin line "c" */
};

/* The stdin commands a connection takes (copy_streams). */
enum { CMD_KEYUPDATE = 1, CMD_PHA = 2 };

static int stdin_commands(const struct opts *o)
{
    return (o->ku_commands ? CMD_KEYUPDATE : 0) | (o->is_server && o->enable_pha ? CMD_PHA : 0);
}

/* ---- options ----------------------------------------------------------- */

static int parse_args(struct opts *o, int argc, char **argv)
{
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_PROTOCOL:
            if (tool_parse_protocol(optarg, &o->protocol) != 0)
                return tool_usage_error("unknown --protocol '%s'", optarg);
            break;
        case OPT_OPTIONS: o->options = optarg; break;
        case OPT_MIN:
            if (tlsv_version_parse(optarg, &o->min) != 0)
                return tool_usage_error("unknown --min-version '%s'", optarg);
            o->have_min = 1;
            break;
        case OPT_MAX:
            if (tlsv_version_parse(optarg, &o->max) != 0)
                return tool_usage_error("unknown --max-version '%s'", optarg);
            o->have_max = 1;
            break;
        case OPT_VERIFY:
            if (strcmp(optarg, "none") == 0)
                o->verify = TLSV_CERT_NONE;
            else if (strcmp(optarg, "optional") == 0)
                o->verify = TLSV_CERT_OPTIONAL;
            else if (strcmp(optarg, "required") == 0)
                o->verify = TLSV_CERT_REQUIRED;
            else
                return tool_usage_error("--verify takes none|optional|required, not '%s'",
                                        optarg);
            break;
        case OPT_NO_CHECK_HOSTNAME: o->no_check_hostname = 1; break;
        case OPT_CERT: o->cert = optarg; break;
        case OPT_KEY: o->key = optarg; break;
        case OPT_CAFILE: o->cafile = optarg; break;
        case OPT_SERVERNAME: o->servername = optarg; break;
        case OPT_ALPN: o->alpn = optarg; break;
        case OPT_CIPHERSUITES: o->ciphersuites = optarg; break;
        case OPT_GROUPS: o->groups = optarg; break;
        case OPT_HANDSHAKE_ONLY: o->handshake_only = 1; break;
        case OPT_JSON: o->json = 1; break;
        case OPT_PORT: {
            char *end;
            errno = 0;
            long p = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || p < 0 || p > 65535)
                return tool_usage_error("--port takes 0..65535, not '%s'", optarg);
            o->port = (int)p;
            break;
        }
        case OPT_SESS_OUT: o->sess_out = optarg; break;
        case OPT_SESS_IN: o->sess_in = optarg; break;
        case OPT_RECONNECT:
        case OPT_NUM_TICKETS: {
            char *end;
            errno = 0;
            long n = strtol(optarg, &end, 10);
            long max = c == OPT_RECONNECT ? 1000 : 16;
            if (errno || end == optarg || *end || n < 0 || n > max)
                return tool_usage_error("--%s takes 0..%ld, not '%s'",
                                        c == OPT_RECONNECT ? "reconnect" : "num-tickets", max,
                                        optarg);
            if (c == OPT_RECONNECT)
                o->reconnect = (int)n;
            else
                o->num_tickets = (int)n;
            break;
        }
        case OPT_SESS_CACHE:
        case OPT_SESS_TIMEOUT: {
            char *end;
            errno = 0;
            long n = strtol(optarg, &end, 10);
            long min = c == OPT_SESS_CACHE ? 0 : 1, max = c == OPT_SESS_CACHE ? 1048576 : 86400;
            if (errno || end == optarg || *end || n < min || n > max)
                return tool_usage_error("--%s takes %ld..%ld, not '%s'",
                                        c == OPT_SESS_CACHE ? "sess-cache" : "sess-timeout", min,
                                        max, optarg);
            if (c == OPT_SESS_CACHE)
                o->sess_cache = n;
            else
                o->sess_timeout = n;
            break;
        }
        case OPT_ONCE: o->once = 1; break;
        case OPT_KEYUPDATE_COMMANDS: o->ku_commands = 1; break;
        case OPT_ENABLE_PHA: o->enable_pha = 1; break;
        case OPT_ECHO: o->echo = 1; break;
        case OPT_WWW: o->www = 1; break;
        case 'h': exit(tool_help(o->cmd, stdout)); /* --help, -h: help.c */
        case OPT_CIPHERS: o->ciphers = optarg; break;
        case OPT_FALLBACK_SCSV: o->fallback_scsv = 1; break;
        case OPT_TRACE: o->trace = 1; break;
        case OPT_KEYLOG:
            if (!*optarg)
                return tool_usage_error("%s", "--keylog needs a file name");
            o->keylog = optarg;
            break;
        default: return tool_usage_error("%s", "bad option");
        }
    }
    int positional = argc - optind;
    if (!o->is_server) {
        if (positional != 1)
            return tool_usage_error("%s needs exactly one HOST:PORT", o->cmd);
        o->target = argv[optind];
    } else if (positional != 0) {
        return tool_usage_error("unexpected argument '%s'", argv[optind]);
    }

    /* options that belong to the other side */
    if (!o->is_server) {
        const char *bad = o->port >= 0 ? "--port" : o->once ? "--once" : o->echo ? "--echo"
                        : o->www ? "--www" : o->num_tickets >= 0 ? "--num-tickets"
                        : o->sess_cache >= 0 ? "--sess-cache"
                        : o->sess_timeout >= 0 ? "--sess-timeout" : NULL;
        if (bad)
            return tool_usage_error("%s is an option of tlsv server", bad);
    } else {
        const char *bad = o->servername ? "--servername"
                        : o->no_check_hostname ? "--no-check-hostname"
                        : o->fallback_scsv ? "--fallback-scsv"
                        : o->sess_out ? "--sess-out"
                        : o->sess_in ? "--sess-in"
                        : o->reconnect ? "--reconnect" : NULL;
        if (bad)
            return tool_usage_error("%s is an option of tlsv client", bad);
        if (o->echo + o->www + o->handshake_only > 1)
            return tool_usage_error("%s", "--echo, --www and --handshake-only exclude each other");
        if (!o->cert || !o->key)
            return tool_usage_error("tlsv server needs --cert FILE and --key FILE%s",
                                    o->cert ? " (--key is missing)" : "");
    }
    if (o->key && !o->cert)
        return tool_usage_error("%s", "--key needs --cert");
    if (o->ku_commands && (o->echo || o->www || o->handshake_only))
        return tool_usage_error("--keyupdate-commands reads stdin, which %s does not",
                                o->echo ? "--echo" : o->www ? "--www" : "--handshake-only");
    if (o->is_server && o->enable_pha && (o->echo || o->www || o->handshake_only))
        return tool_usage_error("--enable-pha on a server asks for certificates with the stdin "
                                "command \"c\", which %s does not read",
                                o->echo ? "--echo" : o->www ? "--www" : "--handshake-only");
    return 0;
}

/* ---- the context -------------------------------------------------------- */

/* A configuration call failed: report it with the option that caused it. */
static int config_failed(const struct opts *o, const char *option, const tlsv_error *e)
{
    if (e->reason == TLSV_R_NOT_IMPLEMENTED)
        fprintf(stderr, "tlsv %s: %s is not supported yet: %s\n", o->cmd, option, e->message);
    else
        fprintf(stderr, "tlsv %s: %s: %s: %s\n", o->cmd, option, tlsv_reason_name(e->reason),
                e->message);
    return 2;
}

static int apply_alpn(tlsv_ctx *ctx, const char *list)
{
    char *copy = strdup(list);
    if (!copy)
        return -1;
    const char *names[64];
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && n < 64; tok = strtok_r(NULL, ",", &save))
        names[n++] = tok;
    int rc = tlsv_ctx_set_alpn_protocols(ctx, names, n);
    free(copy);
    return rc;
}

/* ---- --trace -------------------------------------------------------------- */

/* The connections a server is tracing, so that each line names its peer
 * (the library's callback gets the connection, the tool knows its peer). */
struct traced_conn {
    const tlsv_conn *conn;
    const char *peer;
    struct traced_conn *next;
};
static struct traced_conn *traced;
static pthread_mutex_t traced_lock = PTHREAD_MUTEX_INITIALIZER;

static void trace_register(struct traced_conn *t, const tlsv_conn *conn, const char *peer)
{
    t->conn = conn;
    t->peer = peer;
    pthread_mutex_lock(&traced_lock);
    t->next = traced;
    traced = t;
    pthread_mutex_unlock(&traced_lock);
}

static void trace_unregister(struct traced_conn *t)
{
    pthread_mutex_lock(&traced_lock);
    for (struct traced_conn **p = &traced; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    pthread_mutex_unlock(&traced_lock);
}

/* One trace line to stderr: ">>> " sent, "<<< " received, "--- " an event.
 * The library indents record lines under their messages. */
static void trace_line(const tlsv_conn *conn, int direction, const char *text, void *arg)
{
    const struct opts *o = arg;
    const char *mark = direction > 0 ? ">>>" : direction == 0 ? "<<<" : "---";
    if (o->is_server) {
        char peer[300] = "";
        pthread_mutex_lock(&traced_lock);
        for (const struct traced_conn *t = traced; t; t = t->next)
            if (t->conn == conn) {
                snprintf(peer, sizeof peer, "[%s] ", t->peer);
                break;
            }
        pthread_mutex_unlock(&traced_lock);
        fprintf(stderr, "%s%s %s\n", peer, mark, text);
    } else {
        fprintf(stderr, "%s %s\n", mark, text);
    }
}

/* --keylog FILE, or else $SSLKEYLOGFILE. Returns 0 or the exit status. */
static int apply_keylog(const struct opts *o, tlsv_ctx *ctx)
{
    if (o->keylog) {
        if (tlsv_ctx_set_keylog_file(ctx, o->keylog) != 0)
            return config_failed(o, "--keylog", tlsv_ctx_last_error(ctx));
        return 0;
    }
    const char *env = getenv("SSLKEYLOGFILE");
    if (env && *env && tlsv_ctx_set_keylog_file(ctx, env) != 0)
        /* as other TLS programs: a key log that cannot be written is no failure */
        fprintf(stderr, "tlsv %s: SSLKEYLOGFILE ignored: %s\n", o->cmd,
                tlsv_ctx_last_error(ctx)->message);
    return 0;
}

/* Builds the context. Returns 0 and *out, or the exit status. */
static int build_ctx(const struct opts *o, tlsv_ctx **out)
{
    tlsv_error err;
    tlsv_ctx *ctx = tlsv_ctx_new(o->protocol, &err);
    if (!ctx) {
        fprintf(stderr, "tlsv %s: %s: %s\n", o->cmd, tlsv_reason_name(err.reason), err.message);
        return 2;
    }
    int rc = 0;
    char bad[64];
    if (o->options && tool_apply_options(ctx, o->options, bad, sizeof bad) != 0)
        rc = tool_usage_error("unknown option name '%s' in --options", bad);
    if (!rc && o->have_min && tlsv_ctx_set_minimum_version(ctx, o->min) != 0)
        rc = config_failed(o, "--min-version", tlsv_ctx_last_error(ctx));
    if (!rc && o->have_max && tlsv_ctx_set_maximum_version(ctx, o->max) != 0)
        rc = config_failed(o, "--max-version", tlsv_ctx_last_error(ctx));
    if (!rc && o->no_check_hostname && tlsv_ctx_set_check_hostname(ctx, 0) != 0)
        rc = config_failed(o, "--no-check-hostname", tlsv_ctx_last_error(ctx));
    if (!rc && o->verify >= 0 && tlsv_ctx_set_verify_mode(ctx, o->verify) != 0)
        rc = config_failed(o, "--verify", tlsv_ctx_last_error(ctx));
    if (!rc && o->ciphers && tlsv_ctx_set_ciphers(ctx, o->ciphers) != 0)
        rc = config_failed(o, "--ciphers", tlsv_ctx_last_error(ctx));
    if (!rc && o->ciphersuites && tlsv_ctx_set_ciphersuites(ctx, o->ciphersuites) != 0)
        rc = config_failed(o, "--ciphersuites", tlsv_ctx_last_error(ctx));
    if (!rc && o->groups && tlsv_ctx_set_groups(ctx, o->groups) != 0)
        rc = config_failed(o, "--groups", tlsv_ctx_last_error(ctx));
    if (!rc && o->alpn && apply_alpn(ctx, o->alpn) != 0)
        rc = config_failed(o, "--alpn", tlsv_ctx_last_error(ctx));
    if (!rc && o->cert && tlsv_ctx_load_cert_chain(ctx, o->cert, o->key) != 0)
        rc = config_failed(o, o->key ? "--cert/--key" : "--cert", tlsv_ctx_last_error(ctx));
    if (!rc && o->cafile && tlsv_ctx_load_verify_locations(ctx, o->cafile, NULL) != 0)
        rc = config_failed(o, "--cafile", tlsv_ctx_last_error(ctx));
    if (!rc && !o->cafile && !o->is_server && tlsv_ctx_get_verify_mode(ctx) != TLSV_CERT_NONE)
        (void)tlsv_ctx_set_default_verify_paths(ctx); /* as s_client: the system's CAs */
    if (!rc)
        rc = apply_keylog(o, ctx);
    if (!rc && o->trace)
        tlsv_ctx_set_trace_callback(ctx, trace_line, (void *)o);
    if (!rc && o->enable_pha && tlsv_ctx_set_post_handshake_auth(ctx, 1) != 0)
        rc = config_failed(o, "--enable-pha", tlsv_ctx_last_error(ctx));
    if (!rc && o->num_tickets >= 0 && tlsv_ctx_set_num_tickets(ctx, (size_t)o->num_tickets) != 0)
        rc = config_failed(o, "--num-tickets", tlsv_ctx_last_error(ctx));
    if (!rc && o->sess_cache >= 0 &&
        tlsv_ctx_set_session_cache_size(ctx, (size_t)o->sess_cache) != 0)
        rc = config_failed(o, "--sess-cache", tlsv_ctx_last_error(ctx));
    if (!rc && o->sess_timeout >= 0 &&
        tlsv_ctx_set_session_timeout(ctx, (uint32_t)o->sess_timeout) != 0)
        rc = config_failed(o, "--sess-timeout", tlsv_ctx_last_error(ctx));
    if (rc) {
        tlsv_ctx_free(ctx);
        return rc;
    }
    tlsv_role role = o->is_server ? TLSV_ROLE_SERVER : TLSV_ROLE_CLIENT;
    if (tlsv_ctx_check_versions(ctx, role, &err) != 0) {
        /* Said at once, but not fatal here: the handshake itself fails the
         * way the reference behaviour says -- a client sends a
         * protocol_version alert instead of a ClientHello, a server reads
         * the ClientHello and answers protocol_version -- so the peer
         * learns why too. */
        fprintf(stderr, "tlsv %s: warning: %s: %s; every handshake will fail\n", o->cmd,
                tlsv_reason_name(err.reason), err.message);
    }
    *out = ctx;
    return 0;
}

/* ---- copying data -------------------------------------------------------- */

static void print_error(const char *prefix, const char *what, const tlsv_error *e)
{
    char line[TLSV_ERROR_MESSAGE_MAX + 128];
    tlsv_error_format(e, line, sizeof line);
    fprintf(stderr, "tlsv: %s%s: %s\n", prefix, what, line);
}

/* The length of the command line at p[0..n) ("k" or "K" with
 * CMD_KEYUPDATE, "c" with CMD_PHA, and its line end), 0 if p does not
 * start with one. */
static size_t command_line(const char *p, size_t n, int cmds)
{
    if (n < 2 || !(((cmds & CMD_KEYUPDATE) && (p[0] == 'k' || p[0] == 'K')) ||
                   ((cmds & CMD_PHA) && p[0] == 'c')))
        return 0;
    if (p[1] == '\n')
        return 2;
    return n >= 3 && p[1] == '\r' && p[2] == '\n' ? 3 : 0;
}

/* Stdin commands, as openssl s_client / s_server: with --keyupdate-commands
 * a line that is exactly "k" sends a TLS 1.3 KeyUpdate, "K" one that
 * requests the peer's too; with --enable-pha on a server "c" sends a
 * post-handshake CertificateRequest. Such lines are not sent as data. Runs
 * the command lines at the start of in[0..*len) (removing them) and returns
 * how many bytes after them are data to send before the next command line.
 * -1 after reporting a failure of the connection; a refused command (not
 * TLS 1.3, the client did not offer post-handshake authentication) is
 * reported and skipped. */
static long run_commands(tlsv_conn *c, char *in, size_t *len, int cmds, const char *prefix)
{
    size_t n;
    while ((n = command_line(in, *len, cmds)) > 0) {
        char cmd = in[0];
        memmove(in, in + n, *len - n);
        *len -= n;
        if (cmd == 'c') {
            if (tlsv_conn_verify_client_post_handshake(c) == 0) {
                fprintf(stderr, "tlsv: %sCertificateRequest sent (post-handshake "
                                "authentication)\n", prefix);
                continue;
            }
        } else if (tlsv_conn_key_update(c, cmd == 'K') == 0) {
            fprintf(stderr, "tlsv: %sKeyUpdate sent (%s)\n", prefix,
                    cmd == 'K' ? "update_requested" : "update_not_requested");
            continue;
        }
        const tlsv_error *e = tlsv_conn_last_error(c);
        print_error(prefix, cmd == 'c' ? "CertificateRequest" : "KeyUpdate", e);
        if (e->reason != TLSV_R_INVALID_ARGUMENT && e->reason != TLSV_R_WRONG_SSL_VERSION &&
            e->reason != TLSV_R_EXTENSION_NOT_RECEIVED)
            return -1;
    }
    for (size_t i = 0; i < *len; i++)
        if (in[i] == '\n' && command_line(in + i + 1, *len - i - 1, cmds))
            return (long)(i + 1);
    return (long)*len;
}

/* Post-handshake authentication answered: what the client sent. */
static void report_pha(tlsv_conn *c, const char *prefix)
{
    size_t n = tlsv_conn_peer_cert_count(c);
    if (n)
        fprintf(stderr, "tlsv: %sclient certificate after the handshake: verified, %zu "
                        "certificate%s\n",
                prefix, n, n == 1 ? "" : "s");
    else
        fprintf(stderr, "tlsv: %sno client certificate after the handshake\n", prefix);
}

/* Copies stdin -> connection and connection -> stdout until the peer closes.
 * *stdin_open says whether stdin may still deliver (it is shared by the
 * connections of a server). With close_at_eof (the client), the end of
 * stdin sends close_notify, and reading goes on until the peer closes.
 * `commands` (CMD_*): the stdin command lines taken (run_commands).
 * Returns 0, or 1 after reporting a failure. */
static int copy_streams(tlsv_conn *c, int fd, int *stdin_open, int close_at_eof, int commands,
                        const char *prefix)
{
    static char in[16384], out[16384];
    size_t in_len = 0;   /* stdin bytes not sent yet */
    size_t send_len = 0; /* the first of them, to send before the next command */
    int want_write = 0; /* output is stuck in the library: wait for POLLOUT */
    int closing = 0;    /* our close_notify is out */
    size_t pha_pending = 0; /* post-handshake CertificateRequests not answered yet */
    for (;;) {
        /* connection -> stdout: all the library has and the socket holds */
        for (;;) {
            long r = tlsv_conn_read(c, out, sizeof out);
            size_t now = tlsv_conn_post_handshake_auth_pending(c);
            for (; pha_pending > now; pha_pending--)
                report_pha(c, prefix);
            if (r > 0) {
                if (net_write_all(STDOUT_FILENO, out, (size_t)r) != 0) {
                    fprintf(stderr, "tlsv: %swriting to stdout failed: %s\n", prefix,
                            strerror(errno));
                    (void)tio_shutdown(c, fd, net_deadline(CLOSE_TIMEOUT_MS));
                    return 1;
                }
                continue;
            }
            if (r == 0) {
                /* the peer's close_notify: answer it (it may be gone already) */
                (void)tio_shutdown(c, fd, net_deadline(CLOSE_TIMEOUT_MS));
                return 0;
            }
            if (r == TLSV_WANT_READ)
                break;
            if (r == TLSV_WANT_WRITE) {
                want_write = 1;
                break;
            }
            const tlsv_error *e = tlsv_conn_last_error(c);
            if (closing && e->reason == TLSV_R_UNEXPECTED_EOF_WHILE_READING)
                return 0; /* we closed first; the peer then closed the transport */
            print_error(prefix, "connection error", e);
            return 1;
        }
        /* stdin -> connection (a write of nothing sends what is pending) */
        while (in_len || want_write) {
            if (!send_len && in_len) {
                long r = commands ? run_commands(c, in, &in_len, commands, prefix)
                                  : (long)in_len;
                if (r < 0)
                    return 1;
                send_len = (size_t)r;
            }
            long w = tlsv_conn_write(c, send_len ? in : "", send_len);
            pha_pending = tlsv_conn_post_handshake_auth_pending(c);
            if (w == (long)send_len) {
                memmove(in, in + send_len, in_len - send_len);
                in_len -= send_len;
                send_len = 0;
                want_write = 0;
                continue;
            }
            if (w == TLSV_WANT_WRITE) {
                want_write = 1;
            } else if (w == TLSV_WANT_READ) {
                want_write = 0;
            } else {
                print_error(prefix, "connection error", tlsv_conn_last_error(c));
                return 1;
            }
            break;
        }
        /* stdin is over and all of it is sent: close our direction */
        if (close_at_eof && !*stdin_open && !closing && in_len == 0 && !want_write) {
            closing = 1;
            int r = tlsv_conn_shutdown(c);
            if (r == 0)
                return 0;
            if (r == TLSV_WANT_WRITE)
                want_write = 1;
            else if (r != 1 && r != TLSV_WANT_READ) {
                print_error(prefix, "connection error", tlsv_conn_last_error(c));
                return 1;
            }
        }
        struct pollfd pfd[2];
        nfds_t n = 0;
        int use_stdin = *stdin_open && in_len == 0 && !closing;
        pfd[n].fd = fd;
        pfd[n].events = (short)(POLLIN | (want_write ? POLLOUT : 0));
        pfd[n++].revents = 0;
        if (use_stdin) {
            pfd[n].fd = STDIN_FILENO;
            pfd[n].events = POLLIN;
            pfd[n++].revents = 0;
        }
        if (poll(pfd, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "tlsv: %spoll failed: %s\n", prefix, strerror(errno));
            return 1;
        }
        if (use_stdin && pfd[1].revents) {
            if (pfd[1].revents & POLLNVAL) {
                *stdin_open = 0;
            } else {
                ssize_t r = read(STDIN_FILENO, in, sizeof in);
                if (r > 0)
                    in_len = (size_t)r;
                else if (r == 0)
                    *stdin_open = 0;
                else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
                    fprintf(stderr, "tlsv: %sreading stdin failed: %s\n", prefix,
                            strerror(errno));
                    *stdin_open = 0;
                }
            }
        }
    }
}

/* ---- tlsv client --------------------------------------------------------- */

/* Reads until a TLS 1.3 session ticket other than `offered` has arrived
 * (tickets follow the handshake) or timeout_ms pass; application data read
 * meanwhile goes to stdout. Returns the connection's session then (a
 * reference; possibly `offered` itself, when the server sent no new
 * ticket), or NULL. */
static tlsv_session *await_session(tlsv_conn *c, int fd, const tlsv_session *offered,
                                   int timeout_ms)
{
    long long deadline = net_deadline(timeout_ms);
    while (tlsv_conn_version_number(c) == TLSV_VERSION_TLSv1_3) {
        tlsv_session *s = tlsv_conn_get_session(c);
        if (s && s != offered)
            return s;
        tlsv_session_free(s);
        char buf[16384];
        long r = tlsv_conn_read(c, buf, sizeof buf);
        if (r > 0) {
            (void)net_write_all(STDOUT_FILENO, buf, (size_t)r);
            continue;
        }
        if ((r != TLSV_WANT_READ && r != TLSV_WANT_WRITE) || net_wait(fd, (int)r, deadline) != 1)
            break;
    }
    return tlsv_conn_get_session(c);
}

/* --sess-in FILE: 0 and *out, or the exit status after a message. */
static int load_session(const char *path, tlsv_session **out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tlsv client: --sess-in %s: %s\n", path, strerror(errno));
        return 2;
    }
    static uint8_t buf[70000];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    tlsv_error err;
    *out = n < sizeof buf ? tlsv_session_from_bytes(buf, n, &err) : NULL;
    if (!*out) {
        fprintf(stderr, "tlsv client: --sess-in %s: %s\n", path,
                n < sizeof buf ? err.message : "the file is too large for a session");
        return 2;
    }
    return 0;
}

/* --sess-out FILE (mode 0600: the session holds a secret). 0 or 1. */
static int save_session(const char *path, const tlsv_session *s)
{
    size_t n = tlsv_session_to_bytes(s, NULL, 0);
    uint8_t *buf = malloc(n ? n : 1);
    int fd = buf ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
    int rc = fd >= 0 && tlsv_session_to_bytes(s, buf, n) == n && net_write_all(fd, buf, n) == 0
                 ? 0
                 : 1;
    if (rc)
        fprintf(stderr, "tlsv client: --sess-out %s: %s\n", path,
                fd < 0 && buf ? strerror(errno) : "could not write the session");
    if (fd >= 0 && close(fd) != 0)
        rc = 1;
    free(buf);
    return rc;
}

/* One connection: connects, offers `offer` (may be NULL), runs the
 * handshake and reports it. 0 with *cp and *fdp set, or the exit status
 * after the report. */
static int client_connect(const struct opts *o, tlsv_ctx *ctx, const char *host, const char *port,
                          tlsv_session *offer, tlsv_conn **cp, int *fdp)
{
    tlsv_error err;
    tlsv_conn *c = tlsv_conn_new(ctx, TLSV_ROLE_CLIENT, o->servername ? o->servername : host,
                                 &err);
    if (!c) {
        fprintf(stderr, "tlsv client: %s: %s\n", tlsv_reason_name(err.reason), err.message);
        return err.reason == TLSV_R_OUT_OF_MEMORY ? 1 : 2;
    }
    if (o->fallback_scsv && tlsv_conn_set_fallback_scsv(c, 1) != 0) {
        int rc = config_failed(o, "--fallback-scsv", tlsv_conn_last_error(c));
        tlsv_conn_free(c);
        return rc;
    }
    if (offer)
        (void)tlsv_conn_set_session(c, offer); /* a client before its handshake: cannot fail */
    char addr[300], msg[512];
    int fd = net_connect(host, port, CONNECT_TIMEOUT_MS, addr, sizeof addr, msg, sizeof msg);
    if (fd < 0) {
        fprintf(stderr, "tlsv: %s\n", msg);
        if (o->json) {
            net_local_error(&err, TLSV_R_SYSCALL, "%s", msg);
            json_failure(stdout, &err);
        }
        tlsv_conn_free(c);
        return 1;
    }
    tlsv_conn_set_fd(c, fd);
    int hs = tio_handshake(c, fd, net_deadline(HANDSHAKE_TIMEOUT_MS));
    if (hs != 0) {
        if (hs == TIO_TIMEOUT)
            net_local_error(&err, TLSV_R_SYSCALL,
                            "no complete handshake from %s within %d s", addr,
                            HANDSHAKE_TIMEOUT_MS / 1000);
        else
            err = *tlsv_conn_last_error(c);
        print_error("", "handshake failed", &err);
        if (o->json)
            json_failure(stdout, &err);
        tlsv_conn_free(c);
        close(fd);
        return 1;
    }
    char summary[512];
    describe_connection(c, 0, summary, sizeof summary);
    fprintf(stderr, "tlsv: connected to %s: %s\n", o->target, summary);
    if (o->json)
        json_connection(stdout, c, addr, 0);
    *cp = c;
    *fdp = fd;
    return 0;
}

/* The client: one connection, or with --reconnect N that many more, each
 * offering the latest session (every connection but the last closes after
 * its handshake and the wait for a ticket). --sess-in offers a saved
 * session to the first; --sess-out saves the last session. */
static int run_client(const struct opts *o, tlsv_ctx *ctx)
{
    char host[256], port[16];
    if (net_split_hostport(o->target, host, sizeof host, port, sizeof port) != 0)
        return tool_usage_error("'%s' is not HOST:PORT", o->target);
    tlsv_session *sess = NULL;
    if (o->sess_in) {
        int rc = load_session(o->sess_in, &sess);
        if (rc)
            return rc;
    }
    int status = 0, resumed = 0, count = 0;
    for (int i = 0; i <= o->reconnect && status == 0; i++) {
        tlsv_conn *c = NULL;
        int fd = -1;
        status = client_connect(o, ctx, host, port, sess, &c, &fd);
        if (status)
            break;
        count++;
        int reused = tlsv_conn_session_reused(c);
        resumed += reused;
        if (o->reconnect || o->sess_in)
            fprintf(stderr, "tlsv: connection %d of %d: %s\n", i + 1, o->reconnect + 1,
                    reused ? "resumed" : "full");
        int last = i == o->reconnect;
        if (!last || o->handshake_only) {
            if (!last || o->sess_out) {
                tlsv_session *next = await_session(c, fd, sess, TICKET_TIMEOUT_MS);
                if (next) {
                    tlsv_session_free(sess);
                    sess = next;
                }
            }
            if (tio_shutdown(c, fd, net_deadline(CLOSE_TIMEOUT_MS)) == TIO_ERROR) {
                print_error("", "closing failed", tlsv_conn_last_error(c));
                status = 1;
            }
        } else {
            int stdin_open = 1;
            status = copy_streams(c, fd, &stdin_open, 1, stdin_commands(o), "");
            tlsv_session *next = tlsv_conn_get_session(c);
            if (next) {
                tlsv_session_free(sess);
                sess = next;
            }
        }
        tlsv_conn_free(c);
        close(fd);
    }
    if (o->sess_out) {
        if (!sess) {
            fprintf(stderr,
                    "tlsv client: --sess-out %s: the server gave no session to keep (no "
                    "ticket, no session ID)\n",
                    o->sess_out);
            status = status ? status : 1;
        } else if (save_session(o->sess_out, sess) != 0) {
            status = status ? status : 1;
        }
    }
    if (o->json && o->reconnect)
        printf("{\"reconnects\":%d,\"resumed\":%d}\n", count ? count - 1 : 0, resumed);
    tlsv_session_free(sess);
    return status;
}

/* ---- tlsv server --------------------------------------------------------- */

/* --echo: sends back what arrives until the client closes. */
static int serve_echo(tlsv_conn *c, int fd, const char *prefix)
{
    char buf[16384]; /* per connection: connections run in threads */
    for (;;) {
        long r = tio_read(c, fd, buf, sizeof buf, -1);
        if (r == 0) {
            (void)tio_shutdown(c, fd, net_deadline(CLOSE_TIMEOUT_MS));
            return 0;
        }
        int w = r > 0 ? tio_write(c, fd, buf, (size_t)r, net_deadline(WRITE_TIMEOUT_MS)) : (int)r;
        if (w == TIO_TIMEOUT) {
            fprintf(stderr, "tlsv: %sthe client reads nothing for %d s; closing\n", prefix,
                    WRITE_TIMEOUT_MS / 1000);
            return 1;
        }
        if (w != 0) {
            print_error(prefix, "connection error", tlsv_conn_last_error(c));
            return 1;
        }
    }
}

/* Copies printable text of s (up to a line end) into buf. */
static void printable_line(const char *s, size_t n, char *buf, size_t len)
{
    size_t j = 0;
    for (size_t i = 0; i < n && s[i] != '\r' && s[i] != '\n' && j + 1 < len; i++)
        buf[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    buf[j] = '\0';
}

/* --www: reads an HTTP request, answers with a page describing the
 * connection, closes. */
static int serve_www(tlsv_conn *c, int fd, const char *peer, const char *prefix)
{
    char req[8192]; /* per connection: connections run in threads */
    size_t used = 0;
    long long deadline = net_deadline(REQUEST_TIMEOUT_MS);
    int peer_closed = 0;
    while (used < sizeof req - 1) {
        req[used] = '\0';
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
            break;
        long r = tio_read(c, fd, req + used, sizeof req - 1 - used, deadline);
        if (r == 0) {
            peer_closed = 1;
            break;
        }
        if (r == TIO_TIMEOUT) {
            fprintf(stderr, "tlsv: %sno HTTP request within %d s; closing\n", prefix,
                    REQUEST_TIMEOUT_MS / 1000);
            (void)tio_shutdown(c, fd, net_deadline(CLOSE_TIMEOUT_MS));
            return 1;
        }
        if (r < 0) {
            print_error(prefix, "connection error", tlsv_conn_last_error(c));
            return 1;
        }
        used += (size_t)r;
    }
    req[used] = '\0';
    if (used == 0) {
        (void)tio_shutdown(c, fd, net_deadline(CLOSE_TIMEOUT_MS));
        return 0;
    }
    char request_line[256];
    printable_line(req, used, request_line, sizeof request_line);
    const char *alpn = tlsv_conn_alpn_selected(c), *sni = tlsv_conn_server_name(c),
               *group = tlsv_conn_group(c);
    char page[2048];
    int plen = snprintf(page, sizeof page,
                        "tlsv %s server\n"
                        "peer: %s\n"
                        "version: %s\n"
                        "cipher: %s\n"
                        "group: %s\n"
                        "alpn: %s\n"
                        "sni: %s\n"
                        "client certificates: %zu\n"
                        "request: %s\n",
                        tlsv_library_version(), peer, tlsv_conn_version(c), tlsv_conn_cipher(c),
                        group ? group : "none", alpn ? alpn : "none", sni ? sni : "none",
                        tlsv_conn_peer_cert_count(c), request_line);
    if (plen < 0 || (size_t)plen >= sizeof page)
        plen = (int)strlen(page);
    char head[256];
    int hlen = snprintf(head, sizeof head,
                        "HTTP/1.0 200 OK\r\n"
                        "Content-Type: text/plain\r\n"
                        "Content-Length: %d\r\n"
                        "Connection: close\r\n"
                        "\r\n",
                        plen);
    long long wd = net_deadline(WRITE_TIMEOUT_MS);
    int w = tio_write(c, fd, head, (size_t)hlen, wd);
    if (w == 0)
        w = tio_write(c, fd, page, (size_t)plen, wd);
    if (w != 0) {
        if (w == TIO_TIMEOUT)
            fprintf(stderr, "tlsv: %sthe client reads nothing for %d s; closing\n", prefix,
                    WRITE_TIMEOUT_MS / 1000);
        else if (!peer_closed)
            print_error(prefix, "connection error", tlsv_conn_last_error(c));
        return 1;
    }
    (void)tio_shutdown(c, fd, net_deadline(CLOSE_TIMEOUT_MS));
    return 0;
}

/* serialises the per-connection summary lines of concurrent connections */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* Runs the handshake and the service on a new server connection (the
 * caller frees it). Returns 0 if the handshake succeeded. */
static int serve_conn(const struct opts *o, tlsv_conn *c, int fd, const char *peer,
                      const char *prefix, int *stdin_open)
{
    tlsv_error err;
    tlsv_conn_set_fd(c, fd);
    int hs = tio_handshake(c, fd, net_deadline(HANDSHAKE_TIMEOUT_MS));
    if (hs != 0) {
        if (hs == TIO_TIMEOUT)
            net_local_error(&err, TLSV_R_SYSCALL, "no complete handshake within %d s",
                            HANDSHAKE_TIMEOUT_MS / 1000);
        else
            err = *tlsv_conn_last_error(c);
        print_error(prefix, "handshake failed", &err);
        if (o->json)
            json_failure(stdout, &err);
        return 1;
    }
    char summary[512];
    describe_connection(c, 1, summary, sizeof summary);
    pthread_mutex_lock(&out_lock);
    fprintf(stderr, "tlsv: %s: %s\n", peer, summary);
    if (o->json) {
        json_connection(stdout, c, peer, 1);
        fflush(stdout);
    }
    pthread_mutex_unlock(&out_lock);
    if (o->handshake_only)
        (void)tio_shutdown(c, fd, net_deadline(CLOSE_TIMEOUT_MS));
    else if (o->echo)
        (void)serve_echo(c, fd, prefix);
    else if (o->www)
        (void)serve_www(c, fd, peer, prefix);
    else
        (void)copy_streams(c, fd, stdin_open, 0, stdin_commands(o), prefix);
    return 0;
}

/* Serves one accepted connection. Returns 0 if the handshake succeeded. */
static int serve_one(const struct opts *o, tlsv_ctx *ctx, int fd, const char *peer,
                     int *stdin_open)
{
    char prefix[320];
    snprintf(prefix, sizeof prefix, "%s: ", peer);
    tlsv_error err;
    tlsv_conn *c = tlsv_conn_new(ctx, TLSV_ROLE_SERVER, NULL, &err);
    if (!c) {
        print_error(prefix, "cannot create a connection", &err);
        if (o->json)
            json_failure(stdout, &err);
        return 1;
    }
    struct traced_conn tc;
    if (o->trace)
        trace_register(&tc, c, peer);
    int rc = serve_conn(o, c, fd, peer, prefix, stdin_open);
    if (o->trace)
        trace_unregister(&tc);
    tlsv_conn_free(c);
    return rc;
}

struct conn_job {
    const struct opts *o;
    tlsv_ctx *ctx;
    int fd;
    char peer[300];
};

static void *serve_thread(void *arg)
{
    struct conn_job *job = arg;
    int stdin_open = 0;
    (void)serve_one(job->o, job->ctx, job->fd, job->peer, &stdin_open);
    close(job->fd);
    free(job);
    return NULL;
}

static int run_server(const struct opts *o, tlsv_ctx *ctx)
{
    pthread_attr_t detached;
    pthread_attr_init(&detached);
    pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
    /* a context that cannot serve (e.g. --protocol TLS_CLIENT) is a usage error */
    tlsv_error err;
    tlsv_conn *probe = tlsv_conn_new(ctx, TLSV_ROLE_SERVER, NULL, &err);
    if (!probe) {
        fprintf(stderr, "tlsv server: %s: %s\n", tlsv_reason_name(err.reason), err.message);
        return err.reason == TLSV_R_OUT_OF_MEMORY ? 1 : 2;
    }
    tlsv_conn_free(probe);

    char msg[256];
    int bound;
    int lfd = net_listen_loopback(o->port, &bound, msg, sizeof msg);
    if (lfd < 0) {
        fprintf(stderr, "tlsv: %s\n", msg);
        return 1;
    }
    fprintf(stderr, "tlsv: listening on 127.0.0.1:%d\n", bound);
    fflush(stderr);
    int stdin_open = 1;
    for (;;) {
        char peer[300];
        int fd = net_accept(lfd, peer, sizeof peer);
        if (fd < 0) {
            int e = errno;
            if (e == EINTR || e == ECONNABORTED)
                continue;
            if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
                /* out of descriptors or memory for now: the connections being
                 * served will give some back; keep serving them, try again */
                fprintf(stderr, "tlsv: accept failed: %s (retrying)\n", strerror(e));
                nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000}, NULL);
                continue;
            }
            fprintf(stderr, "tlsv: accept failed: %s\n", strerror(e));
            close(lfd);
            return 1;
        }
        if (!o->once && (o->echo || o->www || o->handshake_only)) {
            /* many connections at once: one thread each (the context is
             * shared read-only); stdin/stdout mode stays one at a time */
            struct conn_job *job = malloc(sizeof *job);
            pthread_t t;
            if (job) {
                job->o = o;
                job->ctx = ctx;
                job->fd = fd;
                snprintf(job->peer, sizeof job->peer, "%s", peer);
                if (pthread_create(&t, &detached, serve_thread, job) == 0)
                    continue;
                free(job);
            }
            fprintf(stderr, "tlsv: %s: could not start a thread; serving inline\n", peer);
        }
        int rc = serve_one(o, ctx, fd, peer, &stdin_open);
        close(fd);
        if (o->once) {
            close(lfd);
            return rc;
        }
    }
}

/* ---- dispatch ------------------------------------------------------------ */

int tool_connect_command(const char *cmd, int argc, char **argv)
{
    struct opts o;
    memset(&o, 0, sizeof o);
    o.cmd = cmd;
    o.is_server = strcmp(cmd, "server") == 0;
    o.is_probe = 0; /* `tlsv probe` is tool_probe() in probe.c */
    o.protocol = o.is_server ? TLSV_PROTOCOL_TLS_SERVER : TLSV_PROTOCOL_TLS_CLIENT;
    o.verify = -1;
    o.port = -1;
    o.num_tickets = -1;
    o.sess_cache = -1;
    o.sess_timeout = -1;
    int rc = parse_args(&o, argc, argv);
    if (rc)
        return rc;
    if (o.is_server && o.port < 0)
        o.port = 0;
    tlsv_ctx *ctx = NULL;
    rc = build_ctx(&o, &ctx);
    if (rc)
        return rc;
    if (o.is_probe) {
        fprintf(stderr, "tlsv probe: NOT_IMPLEMENTED: probe is not implemented yet\n");
        tlsv_ctx_free(ctx);
        return 1;
    }
    /* a peer that goes away must never kill the tool (writes to the socket
     * use MSG_NOSIGNAL in the library; stdout may be a closed pipe too) */
    signal(SIGPIPE, SIG_IGN);
    rc = o.is_server ? run_server(&o, ctx) : run_client(&o, ctx);
    tlsv_ctx_free(ctx);
    fflush(stdout);
    return rc;
}
