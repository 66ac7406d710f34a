/*
 * json.c -- the reports of a connection: the one-line summary and the JSON
 * object of `--json` (SPEC §3).
 */
#include <stdio.h>
#include <string.h>

#include "net.h"

void json_string_or_null(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", out);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(out, "\\u%04x", (unsigned)ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

void json_connection(FILE *out, const tlsv_conn *c, const char *peer, int server_side)
{
    fputs("{\"version\":", out);
    json_string_or_null(out, tlsv_conn_version(c));
    fputs(",\"cipher\":", out);
    json_string_or_null(out, tlsv_conn_cipher(c));
    fputs(",\"group\":", out);
    json_string_or_null(out, tlsv_conn_group(c));
    fputs(",\"alpn\":", out);
    json_string_or_null(out, tlsv_conn_alpn_selected(c));
    fputs(",\"peer\":", out);
    json_string_or_null(out, peer);
    fprintf(out, ",\"resumed\":%s", tlsv_conn_session_reused(c) ? "true" : "false");
    if (server_side) {
        fputs(",\"sni\":", out);
        json_string_or_null(out, tlsv_conn_server_name(c));
        fprintf(out, ",\"client_certificates\":%zu", tlsv_conn_peer_cert_count(c));
    }
    fputs("}\n", out);
    fflush(out);
}

void json_failure(FILE *out, const tlsv_error *err)
{
    fputs("{\"error\":", out);
    json_string_or_null(out, tlsv_reason_name(err->reason));
    fputs(",\"alert\":", out);
    json_string_or_null(out, tlsv_alert_name(err->alert));
    fputs(",\"side\":", out);
    json_string_or_null(out, err->side == TLSV_SIDE_LOCAL    ? "local"
                             : err->side == TLSV_SIDE_REMOTE ? "remote"
                                                             : NULL);
    fputs(",\"reason\":", out);
    json_string_or_null(out, err->message);
    fputs("}\n", out);
    fflush(out);
}

void describe_connection(const tlsv_conn *c, int server_side, char *buf, size_t len)
{
    const char *version = tlsv_conn_version(c), *cipher = tlsv_conn_cipher(c),
               *group = tlsv_conn_group(c), *alpn = tlsv_conn_alpn_selected(c);
    int n = snprintf(buf, len, "%s %s %s", version ? version : "?", cipher ? cipher : "?",
                     group ? group : "none");
    if (n < 0 || (size_t)n >= len)
        return;
    size_t used = (size_t)n;
    if (tlsv_conn_session_reused(c)) {
        n = snprintf(buf + used, len - used, " resumed");
        if (n < 0 || (size_t)n >= len - used)
            return;
        used += (size_t)n;
    }
    if (alpn) {
        n = snprintf(buf + used, len - used, " alpn=%s", alpn);
        if (n < 0 || (size_t)n >= len - used)
            return;
        used += (size_t)n;
    }
    if (server_side) {
        const char *sni = tlsv_conn_server_name(c);
        size_t certs = tlsv_conn_peer_cert_count(c);
        if (sni) {
            n = snprintf(buf + used, len - used, " sni=%s", sni);
            if (n < 0 || (size_t)n >= len - used)
                return;
            used += (size_t)n;
        }
        if (certs)
            snprintf(buf + used, len - used, " client-cert=%zu", certs);
    }
}
