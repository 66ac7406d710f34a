/*
 * demo.c -- `tlsv demo`: what each protocol constant, option and version
 * bound negotiates, as a table.
 *
 * Every row is computed by the library's own version policy
 * (tlsv_preview_negotiation): the client's offer, the server's choice and
 * the client's check, exactly as a handshake takes them.
 */
#define TLSV_SILENCE_DEPRECATION
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

struct row {
    const char *client;
    const char *server;
    int fallback_scsv;
    const char *lesson;
};

static const struct row rows[] = {
    {"TLS_CLIENT", "TLS_SERVER", 0, "defaults: TLS 1.2 and 1.3 on both sides"},
    {"TLS_CLIENT min=TLSv1", "TLS_SERVER", 0, "a lower client minimum changes only the offer"},
    {"TLS_CLIENT max=TLSv1_2", "TLS_SERVER", 0, "capped client: server signals DOWNGRD\\x01"},
    {"TLS_CLIENT OP_NO_TLSv1_3", "TLS_SERVER", 0, "OP_NO_TLSv1_3 works like max=TLSv1_2"},
    {"TLS_CLIENT min=TLSv1_3", "TLS_SERVER", 0, "TLS 1.3 only"},
    {"TLS_CLIENT min=TLSv1 OP_NO_TLSv1_1", "TLS_SERVER", 0,
     "a hole: the client offers only its lowest run"},
    {"TLS_CLIENT max=TLSv1_1", "TLS_SERVER", 0, "max below the default minimum: nothing left"},
    {"TLS_CLIENT min=TLSv1_3 max=TLSv1_2", "TLS_SERVER", 0, "inverted bounds"},
    {"TLS", "TLS", 0, "deprecated PROTOCOL_TLS on both sides"},
    {"TLSv1", "TLS_SERVER", 0, "fixed TLS 1.0 client vs the default minimum"},
    {"TLSv1", "TLSv1", 0, "explicitly enabled TLS 1.0 works (no security level)"},
    {"TLSv1_1", "TLS_SERVER min=TLSv1", 0, "server minimum lowered: TLS 1.1 + DOWNGRD\\x00"},
    {"TLSv1_2", "TLS_SERVER", 0, "fixed TLS 1.2 client"},
    {"TLSv1_2 OP_NO_TLSv1_2", "TLS_SERVER", 0, "OP_NO_* is ignored on a fixed context"},
    {"TLS_CLIENT", "TLSv1_2", 0, "fixed TLS 1.2 server"},
    {"TLS_CLIENT", "TLSv1", 0, "fixed TLS 1.0 server answers TLSv1; the client refuses"},
    {"TLS_CLIENT", "TLS_SERVER max=TLSv1_2", 0, "capped server: no sentinel"},
    {"TLS_CLIENT", "TLS_SERVER min=TLSv1_3", 0, "TLS 1.3-only server"},
    {"TLS_CLIENT", "TLS_SERVER min=TLSv1 max=TLSv1_1", 0, "no common version"},
    {"TLS_CLIENT min=TLSv1_3", "TLSv1_2", 0, "TLS 1.3-only client vs fixed TLS 1.2 server"},
    {"TLS_CLIENT max=TLSv1_2", "TLS_SERVER", 1, "TLS_FALLBACK_SCSV at a TLS 1.3 server"},
    {"TLS_CLIENT max=TLSv1_2", "TLS_SERVER max=TLSv1_2", 1, "SCSV at a server capped at 1.2"},
};

static void offered_text(const tlsv_preview *p, char *buf, size_t len)
{
    if (p->n_offered == 0) {
        snprintf(buf, len, "(no ClientHello)");
        return;
    }
    if (!p->supported_versions_ext) {
        snprintf(buf, len, "<=%s", tlsv_version_string(p->legacy_version));
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->n_offered; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? "," : "",
                         tlsv_version_string(p->offered[i]));
        if (w < 0 || (size_t)w >= len - used)
            return;
        used += (size_t)w;
    }
}

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(out, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(out, "\\u%04x", (unsigned)(unsigned char)*s);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

int tool_demo(int argc, char **argv)
{
    int json = 0, color = isatty(STDOUT_FILENO);
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'}, {"no-color", no_argument, NULL, 'n'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else if (c == 'n')
            color = 0;
        else
            return tool_usage_error("%s", "bad option for demo");
    }
    if (optind < argc)
        return tool_usage_error("unexpected argument '%s'", argv[optind]);

    const char *green = color ? "\033[32m" : "", *red = color ? "\033[31m" : "",
               *dim = color ? "\033[2m" : "", *off = color ? "\033[0m" : "";
    if (!json) {
        printf("tlsv %s -- what each configuration negotiates (version policy of the library;\n"
               "defaults as in Python 3.11's ssl: auto contexts start at minimum_version "
               "TLSv1_2)\n\n",
               tlsv_library_version());
        printf("%-36s %-32s %-22s %s\n", "client", "server", "client offers", "result");
        printf("%-36s %-32s %-22s %s\n", "------", "------", "-------------", "------");
    }
    int failures = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        tlsv_error err;
        tlsv_ctx *cc = tool_ctx_from_spec(r->client, &err);
        tlsv_ctx *sc = cc ? tool_ctx_from_spec(r->server, &err) : NULL;
        if (!cc || !sc) {
            fprintf(stderr, "tlsv demo: internal error building row %zu: %s\n", i, err.message);
            tlsv_ctx_free(cc);
            return 1;
        }
        tlsv_preview p;
        tlsv_preview_negotiation(cc, sc, r->fallback_scsv, &p);
        char offered[64], client_label[64];
        offered_text(&p, offered, sizeof offered);
        snprintf(client_label, sizeof client_label, "%s%s", r->client,
                 r->fallback_scsv ? " +SCSV" : "");
        const tlsv_error *e = p.failed_side == TLSV_ROLE_SERVER ? &p.server_error
                                                                 : &p.client_error;
        if (json) {
            printf("{\"client\":");
            json_string(stdout, client_label);
            printf(",\"server\":");
            json_string(stdout, r->server);
            printf(",\"offered\":");
            json_string(stdout, offered);
            if (p.ok) {
                printf(",\"version\":\"%s\",\"downgrade_sentinel\":%s}\n",
                       tlsv_version_string(p.version),
                       p.downgrade_sentinel == 1   ? "\"DOWNGRD\\\\x01\""
                       : p.downgrade_sentinel == 2 ? "\"DOWNGRD\\\\x00\""
                                                   : "null");
            } else {
                printf(",\"error\":\"%s\",\"alert\":", tlsv_reason_name(e->reason));
                if (tlsv_alert_name(e->alert))
                    json_string(stdout, tlsv_alert_name(e->alert));
                else
                    printf("null");
                printf(",\"side\":\"%s\",\"reason\":",
                       p.failed_side == TLSV_ROLE_SERVER ? "server" : "client");
                json_string(stdout, e->message);
                printf("}\n");
            }
        } else if (p.ok) {
            printf("%-36s %-32s %-22s %s%s%s%s\n", client_label, r->server, offered, green,
                   tlsv_version_string(p.version), off,
                   p.downgrade_sentinel == 1   ? " (DOWNGRD\\x01 in random)"
                   : p.downgrade_sentinel == 2 ? " (DOWNGRD\\x00 in random)"
                                               : "");
            printf("    %s%s%s\n", dim, r->lesson, off);
        } else {
            const char *alert = tlsv_alert_name(e->alert);
            printf("%-36s %-32s %-22s %sfails: %s%s%s%s, decided by the %s\n", client_label,
                   r->server, offered, red, tlsv_reason_name(e->reason), off,
                   alert ? ", alert " : "", alert ? alert : "",
                   p.failed_side == TLSV_ROLE_SERVER ? "server" : "client");
            printf("    %s%s -- %s%s\n", dim, r->lesson, e->message, off);
            failures++;
        }
        tlsv_ctx_free(cc);
        tlsv_ctx_free(sc);
    }
    if (!json)
        printf("\n%zu configurations, %d fail to agree on a version (as the reference "
               "behaviour says they must).\n",
               sizeof rows / sizeof rows[0], failures);
    return 0;
}
