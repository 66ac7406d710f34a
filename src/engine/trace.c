/*
 * trace.c -- descriptions for the handshake trace. See trace.h.
 *
 * Every message is parsed with msg.h's parsers (the same code the state
 * machines use), so what the trace shows is what the handshake saw; a
 * message that does not parse is described as "malformed" with the
 * parser's explanation. One message, one line: "Name (N bytes) key=value
 * key=[a,b,c] ...". Lists that do not fit end in "+N more" so that the
 * fields after them still appear; a line cut at `cap` ends in "...".
 */
#include "trace.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "engine/ext.h"
#include "engine/msg.h"
#include "engine/suites.h"
#include "tlsv.h"
#include "version.h"

/* ---- a bounded string builder ---------------------------------------------- */

typedef struct sb {
    char *p;
    size_t cap; /* > 0 */
    size_t len; /* < cap; p[len] == '\0' */
    bool cut;   /* something did not fit */
} sb;

static void sb_add(sb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(sb *s, const char *fmt, ...)
{
    if (s->cut)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        s->p[s->len] = '\0';
        s->cut = true;
        return;
    }
    if ((size_t)n >= s->cap - s->len) {
        s->len = s->cap - 1;
        s->cut = true;
        return;
    }
    s->len += (size_t)n;
}

/* Bytes still free (not counting the NUL). */
static size_t sb_room(const sb *s)
{
    return s->cut ? 0 : s->cap - 1 - s->len;
}

/* Ends a line that was cut with "..." (when there is room for it). */
static size_t sb_finish(sb *s)
{
    if (s->cut && s->cap >= 4) {
        memcpy(s->p + s->cap - 4, "...", 4);
        s->len = s->cap - 1;
    }
    return s->len;
}

/* ---- names ---------------------------------------------------------------- */

typedef struct named {
    uint16_t v;
    const char *name;
} named;

static const char *lookup(const named *t, size_t n, uint16_t v)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].v == v)
            return t[i].name;
    return NULL;
}

#define LOOKUP(table, v) lookup(table, sizeof table / sizeof table[0], v)

/* SignatureScheme (RFC 8446 §4.2.3) and the TLS 1.2 SignatureAndHashAlgorithm
 * pairs that are not schemes. */
static const named sig_schemes[] = {
    {0x0201, "rsa_pkcs1_sha1"},
    {0x0203, "ecdsa_sha1"},
    {0x0202, "dsa_sha1"},
    {0x0301, "rsa_pkcs1_sha224"},
    {0x0303, "ecdsa_sha224"},
    {0x0401, "rsa_pkcs1_sha256"},
    {0x0402, "dsa_sha256"},
    {0x0403, "ecdsa_secp256r1_sha256"},
    {0x0501, "rsa_pkcs1_sha384"},
    {0x0503, "ecdsa_secp384r1_sha384"},
    {0x0601, "rsa_pkcs1_sha512"},
    {0x0603, "ecdsa_secp521r1_sha512"},
    {0x0804, "rsa_pss_rsae_sha256"},
    {0x0805, "rsa_pss_rsae_sha384"},
    {0x0806, "rsa_pss_rsae_sha512"},
    {0x0807, "ed25519"},
    {0x0808, "ed448"},
    {0x0809, "rsa_pss_pss_sha256"},
    {0x080a, "rsa_pss_pss_sha384"},
    {0x080b, "rsa_pss_pss_sha512"},
    {0x081a, "ecdsa_brainpoolP256r1tls13_sha256"},
    {0x081b, "ecdsa_brainpoolP384r1tls13_sha384"},
    {0x081c, "ecdsa_brainpoolP512r1tls13_sha512"},
};

/* Groups tlsv does not implement but peers offer (suites.c names the rest). */
static const named other_groups[] = {
    {0x001a, "brainpoolP256r1"},
    {0x001b, "brainpoolP384r1"}, {0x001c, "brainpoolP512r1"}, {0x0100, "ffdhe2048"},
    {0x0101, "ffdhe3072"},    {0x0102, "ffdhe4096"},     {0x0103, "ffdhe6144"},
    {0x0104, "ffdhe8192"},    {0x11eb, "SecP256r1MLKEM768"}, {0x11ec, "X25519MLKEM768"},
    {0x11ed, "SecP384r1MLKEM1024"}, {0x6399, "X25519Kyber768Draft00"},
};

/* Extensions ext.c does not know (it names the ones tlsv handles). */
static const named other_exts[] = {
    {15, "heartbeat"},
    {17, "status_request_v2"},
    {19, "client_certificate_type"},
    {20, "server_certificate_type"},
    {27, "compress_certificate"},
    {34, "delegated_credential"},
    {57, "quic_transport_parameters"},
    {0x3374, "next_protocol_negotiation"},
    {0x4469, "application_settings"},
    {0x44cd, "application_settings"},
    {0xfe0d, "encrypted_client_hello"},
};

/* TLS 1.0-1.2 ClientCertificateType (RFC 5246 §7.4.4, RFC 8422 §5.5). */
static const named cert_types[] = {
    {1, "rsa_sign"}, {2, "dss_sign"}, {3, "rsa_fixed_dh"}, {4, "dss_fixed_dh"},
    {64, "ecdsa_sign"}, {65, "rsa_fixed_ecdh"}, {66, "ecdsa_fixed_ecdh"},
};

/* A value's name into buf (a static name, or hex). GREASE is "GREASE". */
typedef const char *(*namer)(uint16_t v, char *buf, size_t len);

static const char *hex_name(uint16_t v, char *buf, size_t len)
{
    snprintf(buf, len, "0x%04x", (unsigned)v);
    return buf;
}

static const char *version_name(uint16_t v, char *buf, size_t len)
{
    if (tlsv_is_grease(v))
        return "GREASE";
    const char *s = tlsv_version_string(v);
    return s ? s : hex_name(v, buf, len);
}

static const char *suite_name(uint16_t v, char *buf, size_t len)
{
    if (tlsv_is_grease(v))
        return "GREASE";
    if (v == TLSV_SUITE_FALLBACK_SCSV)
        return "TLS_FALLBACK_SCSV";
    if (v == TLSV_SUITE_EMPTY_RENEGOTIATION_INFO_SCSV)
        return "TLS_EMPTY_RENEGOTIATION_INFO_SCSV";
    const tlsv_suite *s = tlsv_suite_by_id(v);
    return s ? s->openssl : hex_name(v, buf, len);
}

static const char *group_name(uint16_t v, char *buf, size_t len)
{
    if (tlsv_is_grease(v))
        return "GREASE";
    const char *s = tlsv_group_name(v);
    if (!s)
        s = LOOKUP(other_groups, v);
    return s ? s : hex_name(v, buf, len);
}

static const char *scheme_name(uint16_t v, char *buf, size_t len)
{
    if (tlsv_is_grease(v))
        return "GREASE";
    const char *s = LOOKUP(sig_schemes, v);
    return s ? s : hex_name(v, buf, len);
}

static const char *ext_name(uint16_t v, char *buf, size_t len)
{
    if (tlsv_ext_lookup(v))
        return tlsv_ext_name(v);
    if (tlsv_is_grease(v))
        return "GREASE";
    const char *s = LOOKUP(other_exts, v);
    return s ? s : hex_name(v, buf, len);
}

static const char *cert_type_name(uint16_t v, char *buf, size_t len)
{
    const char *s = LOOKUP(cert_types, v);
    return s ? s : hex_name(v, buf, len);
}

/* ---- lists ---------------------------------------------------------------- */

/* A list being written: "key=[a,b,c]". Entries stop, with "+N more", when
 * fewer than `keep` bytes would be left after the next one: that room is
 * for the fields that follow. */
typedef struct list {
    sb *s;
    size_t keep;
    size_t n;       /* entries written */
    size_t skipped; /* entries left out */
} list;

static void list_begin(list *l, sb *s, const char *key, size_t keep)
{
    l->s = s;
    l->keep = keep;
    l->n = l->skipped = 0;
    sb_add(s, " %s=[", key);
}

static void list_item(list *l, const char *item)
{
    /* room for ",item", then ",+NNN more]" and the reserve */
    if (l->skipped || sb_room(l->s) < strlen(item) + 1 + 12 + l->keep) {
        l->skipped++;
        return;
    }
    sb_add(l->s, "%s%s", l->n ? "," : "", item);
    l->n++;
}

static void list_end(list *l)
{
    if (l->skipped)
        sb_add(l->s, "%s+%zu more", l->n ? "," : "", l->skipped);
    sb_add(l->s, "]");
}

/* A u16 list (a view a parser validated). */
static void u16_list(sb *s, const char *key, tlsv_bytes v, namer name, size_t keep)
{
    list l;
    char buf[16];
    list_begin(&l, s, key, keep);
    for (size_t i = 0; i < tlsv_u16_count(v); i++)
        list_item(&l, name(tlsv_u16_at(v, i), buf, sizeof buf));
    list_end(&l);
}

/* Printable text of a name (SNI, ALPN): at most 64 bytes, others as '?'. */
static void add_text(sb *s, tlsv_bytes t)
{
    char buf[72];
    size_t n = t.n > 64 ? 64 : t.n;
    for (size_t i = 0; i < n; i++)
        buf[i] = (t.p[i] >= 0x21 && t.p[i] < 0x7f && t.p[i] != ',' && t.p[i] != ']')
                     ? (char)t.p[i]
                     : '?';
    buf[n] = '\0';
    sb_add(s, "%s%s", buf, t.n > n ? "..." : "");
}

static void alpn_list(sb *s, tlsv_bytes v)
{
    tlsv_iter it;
    tlsv_bytes name;
    bool first = true;
    sb_add(s, " alpn=[");
    tlsv_iter_init(&it, v);
    while (tlsv_iter_alpn(&it, &name)) {
        if (!first)
            sb_add(s, ",");
        first = false;
        add_text(s, name);
    }
    sb_add(s, "]");
}

/* The extension types of an extension block (its content, without the
 * u16 length), in wire order. The parser has validated it. */
static void ext_types(sb *s, const uint8_t *p, size_t n, size_t keep)
{
    tlsv_reader r;
    list l;
    char buf[16];
    tlsv_rd_init(&r, p, n);
    list_begin(&l, s, "ext", keep);
    while (!tlsv_rd_empty(&r)) {
        uint16_t type;
        tlsv_reader body;
        if (!tlsv_rd_u16(&r, &type) || !tlsv_rd_vec16(&r, &body))
            break;
        list_item(&l, ext_name(type, buf, sizeof buf));
    }
    list_end(&l);
}

/* The extension block at the end of a message body: the u16-prefixed
 * vector that starts at `at` and ends the body. */
static void ext_block(sb *s, const uint8_t *body, size_t len, const uint8_t *at, size_t keep)
{
    if (!at || at < body || at + 2 > body + len)
        return;
    size_t n = ((size_t)at[0] << 8) | at[1];
    if (at + 2 + n > body + len)
        return;
    ext_types(s, at + 2, n, keep);
}

/* ---- messages --------------------------------------------------------------- */

static void malformed(sb *s, const tlsv_error *err)
{
    sb_add(s, " malformed: %s", err->message[0] ? err->message : "does not parse");
}

/* The ClientHello's fields after the suites, but before sig_algs. */
static void client_hello_mid(sb *s, const tlsv_client_hello *ch)
{
    char buf[16];
    if (tlsv_ext_present(ch->present, TLSV_EXTID_SUPPORTED_GROUPS))
        u16_list(s, "groups", ch->supported_groups, group_name, 0);
    if (tlsv_ext_present(ch->present, TLSV_EXTID_KEY_SHARE)) {
        list l;
        tlsv_iter it;
        uint16_t g;
        tlsv_bytes kx;
        list_begin(&l, s, "key_share", 0);
        tlsv_iter_init(&it, ch->key_shares);
        while (tlsv_iter_key_share(&it, &g, &kx))
            list_item(&l, group_name(g, buf, sizeof buf));
        list_end(&l);
    }
    if (tlsv_ext_present(ch->present, TLSV_EXTID_SERVER_NAME)) {
        sb_add(s, " sni=");
        add_text(s, ch->server_name);
    }
    if (tlsv_ext_present(ch->present, TLSV_EXTID_ALPN))
        alpn_list(s, ch->alpn);
    if (tlsv_ext_present(ch->present, TLSV_EXTID_PRE_SHARED_KEY))
        sb_add(s, " psk_identities=%zu", ch->n_psk_identities);
    if (tlsv_ext_present(ch->present, TLSV_EXTID_COOKIE))
        sb_add(s, " cookie=%zu bytes", ch->cookie.n);
    if (ch->session_id.n)
        sb_add(s, " session_id=%zu bytes", ch->session_id.n);
    if (ch->sslv2)
        sb_add(s, " (SSLv2 format)");
}

/* ClientHello: versions, suites, groups, key shares, SNI, ALPN, signature
 * algorithms, the extensions in wire order. The suites and signature
 * algorithms, the long lists, are cut first when the line is short: the
 * fields after them are written aside to know the room they need. */
static void client_hello(sb *s, const uint8_t *body, size_t len)
{
    tlsv_client_hello ch;
    tlsv_error err;
    memset(&err, 0, sizeof err);
    if (tlsv_msg_parse_client_hello(body, len, &ch, &err) != 0) {
        malformed(s, &err);
        return;
    }
    char buf[16];
    char mid_buf[512], ext_buf[1024];
    sb mid = {mid_buf, sizeof mid_buf, 0, false};
    sb ext = {ext_buf, sizeof ext_buf, 0, false};
    mid_buf[0] = ext_buf[0] = '\0';
    client_hello_mid(&mid, &ch);
    sb_finish(&mid);
    if (ch.has_extensions)
        ext_block(&ext, body, len, ch.compression_methods.p + ch.compression_methods.n, 0);
    else
        sb_add(&ext, " no extensions");
    sb_finish(&ext);
    bool sigs = tlsv_ext_present(ch.present, TLSV_EXTID_SIGNATURE_ALGORITHMS);

    sb_add(s, " legacy_version=%s", version_name(ch.legacy_version, buf, sizeof buf));
    if (tlsv_ext_present(ch.present, TLSV_EXTID_SUPPORTED_VERSIONS))
        u16_list(s, "supported_versions", ch.supported_versions, version_name, 0);
    if (ch.has_fallback_scsv)
        sb_add(s, " TLS_FALLBACK_SCSV");
    {
        list l;
        tlsv_iter it;
        uint16_t v;
        /* leave the rest its room, and the signature algorithms some */
        list_begin(&l, s, "suites", mid.len + ext.len + (sigs ? 120 : 0));
        tlsv_ch_suites(&ch, &it);
        while (tlsv_iter_suite(&it, &v))
            list_item(&l, suite_name(v, buf, sizeof buf));
        list_end(&l);
    }
    sb_add(s, "%s", mid_buf);
    if (sigs)
        u16_list(s, "sig_algs", ch.signature_algorithms, scheme_name, ext.len);
    sb_add(s, "%s", ext_buf);
}

static const char *sentinel_text(tlsv_sentinel t)
{
    switch (t) {
    case TLSV_SENTINEL_TLS12:
        return "DOWNGRD\\x01 (TLS 1.2 with TLS 1.3 enabled)";
    case TLSV_SENTINEL_TLS11:
        return "DOWNGRD\\x00 (TLS 1.1 or below with TLS 1.2 enabled)";
    default:
        return NULL;
    }
}

static void server_hello(sb *s, const uint8_t *body, size_t len)
{
    tlsv_server_hello sh;
    tlsv_error err;
    memset(&err, 0, sizeof err);
    if (tlsv_msg_parse_server_hello(body, len, &sh, &err) != 0) {
        malformed(s, &err);
        return;
    }
    char buf[16], buf2[16];
    bool sv = tlsv_ext_present(sh.present, TLSV_EXTID_SUPPORTED_VERSIONS);
    uint16_t chosen = sv ? sh.selected_version : sh.legacy_version;
    sb_add(s, " version=%s", version_name(chosen, buf, sizeof buf));
    if (sv)
        sb_add(s, " (supported_versions; legacy_version=%s)",
               version_name(sh.legacy_version, buf2, sizeof buf2));
    sb_add(s, " suite=%s", suite_name(sh.cipher_suite, buf, sizeof buf));
    if (tlsv_ext_present(sh.present, TLSV_EXTID_KEY_SHARE))
        sb_add(s, " %s=%s", sh.is_hello_retry_request ? "selected_group" : "key_share",
               group_name(sh.key_share_group, buf, sizeof buf));
    if (tlsv_ext_present(sh.present, TLSV_EXTID_PRE_SHARED_KEY))
        sb_add(s, " psk_identity=%u", (unsigned)sh.psk_selected_identity);
    if (tlsv_ext_present(sh.present, TLSV_EXTID_COOKIE))
        sb_add(s, " cookie=%zu bytes", sh.cookie.n);
    if (tlsv_ext_present(sh.present, TLSV_EXTID_ALPN)) {
        sb_add(s, " alpn=");
        add_text(s, sh.alpn);
    }
    if (!sh.is_hello_retry_request) {
        const char *sentinel = sentinel_text(tlsv_vp_read_sentinel(sh.random));
        if (sentinel)
            sb_add(s, " downgrade_sentinel=%s", sentinel);
    }
    sb_add(s, " session_id=%zu bytes", sh.session_id.n);
    if (sh.has_extensions) {
        /* legacy_version 2, random 32, session_id 1+n, suite 2, compression 1 */
        size_t at = 2 + 32 + 1 + sh.session_id.n + 2 + 1;
        ext_block(s, body, len, at <= len ? body + at : NULL, 0);
    } else {
        sb_add(s, " no extensions");
    }
}

static void encrypted_extensions(sb *s, const uint8_t *body, size_t len)
{
    tlsv_encrypted_extensions ee;
    tlsv_error err;
    memset(&err, 0, sizeof err);
    if (tlsv_msg_parse_encrypted_extensions(body, len, &ee, &err) != 0) {
        malformed(s, &err);
        return;
    }
    if (tlsv_ext_present(ee.present, TLSV_EXTID_ALPN)) {
        sb_add(s, " alpn=");
        add_text(s, ee.alpn);
    }
    if (tlsv_ext_present(ee.present, TLSV_EXTID_SUPPORTED_GROUPS))
        u16_list(s, "groups", ee.supported_groups, group_name, 120);
    if (tlsv_ext_present(ee.present, TLSV_EXTID_RECORD_SIZE_LIMIT))
        sb_add(s, " record_size_limit=%u", (unsigned)ee.record_size_limit);
    ext_block(s, body, len, body, 0);
}

static void certificate(sb *s, const uint8_t *body, size_t len, uint16_t version)
{
    tlsv_certificate c;
    tlsv_error err;
    memset(&err, 0, sizeof err);
    /* before the version is known, the TLS 1.3 form, then the older one */
    uint16_t v = version ? version : TLSV_V_TLS13;
    int rc = tlsv_msg_parse_certificate(body, len, v, &c, &err);
    if (rc != 0 && !version) {
        v = TLSV_V_TLS12;
        rc = tlsv_msg_parse_certificate(body, len, v, &c, &err);
    }
    if (rc != 0) {
        malformed(s, &err);
        return;
    }
    if (v >= TLSV_V_TLS13 && c.request_context.n)
        sb_add(s, " context=%zu bytes", c.request_context.n);
    if (c.n == 0) {
        sb_add(s, " no certificates");
        return;
    }
    sb_add(s, " %zu certificate%s [", c.n, c.n == 1 ? "" : "s");
    for (size_t i = 0; i < c.n; i++)
        sb_add(s, "%s%zu bytes%s", i ? ", " : "", c.entries[i].data.n,
               c.entries[i].extensions.n ? " +ext" : "");
    sb_add(s, "]");
}

static void certificate_request(sb *s, const uint8_t *body, size_t len, uint16_t version)
{
    tlsv_certificate_request cr;
    tlsv_error err;
    memset(&err, 0, sizeof err);
    uint16_t v = version ? version : TLSV_V_TLS13;
    if (tlsv_msg_parse_certificate_request(body, len, v, &cr, &err) != 0) {
        malformed(s, &err);
        return;
    }
    char buf[16];
    if (v < TLSV_V_TLS13) {
        list l;
        list_begin(&l, s, "types", 0);
        for (size_t i = 0; i < cr.certificate_types.n; i++)
            list_item(&l, cert_type_name(cr.certificate_types.p[i], buf, sizeof buf));
        list_end(&l);
    } else if (cr.context.n) {
        sb_add(s, " context=%zu bytes", cr.context.n);
    }
    if (cr.signature_algorithms.n)
        u16_list(s, "sig_algs", cr.signature_algorithms, scheme_name, 120);
    if (cr.signature_algorithms_cert.n)
        u16_list(s, "sig_algs_cert", cr.signature_algorithms_cert, scheme_name, 120);
    {
        size_t n = 0;
        tlsv_iter it;
        tlsv_bytes dn;
        tlsv_iter_init(&it, cr.certificate_authorities);
        while (tlsv_iter_dn(&it, &dn))
            n++;
        if (n || v < TLSV_V_TLS13)
            sb_add(s, " authorities=%zu", n);
    }
    if (v >= TLSV_V_TLS13) {
        /* context u8 + n, then the extension block */
        size_t at = 1 + cr.context.n;
        ext_block(s, body, len, at <= len ? body + at : NULL, 0);
    }
}

static void certificate_verify(sb *s, const uint8_t *body, size_t len, uint16_t version)
{
    tlsv_certificate_verify cv;
    tlsv_error err;
    memset(&err, 0, sizeof err);
    /* unknown version: a scheme is there if the rest is its signature */
    uint16_t v = version ? version : (len >= 4 && (((size_t)body[2] << 8) | body[3]) == len - 4
                                          ? TLSV_V_TLS12
                                          : TLSV_V_TLS11);
    if (tlsv_msg_parse_certificate_verify(body, len, v, &cv, &err) != 0) {
        malformed(s, &err);
        return;
    }
    char buf[16];
    if (cv.has_scheme)
        sb_add(s, " scheme=%s", scheme_name(cv.scheme, buf, sizeof buf));
    sb_add(s, " signature=%zu bytes", cv.signature.n);
}

static void finished(sb *s, const uint8_t *body, size_t len, uint16_t version)
{
    /* TLS 1.3: the hash length (32 or 48); TLS 1.0-1.2: 12; SSL 3.0: 36 */
    size_t want = len;
    if (version && version < TLSV_V_TLS13)
        want = version == TLSV_V_SSL3 ? 36 : 12;
    else if (version >= TLSV_V_TLS13 && len != 32 && len != 48)
        want = 32;
    tlsv_bytes vd;
    tlsv_error err;
    memset(&err, 0, sizeof err);
    if (tlsv_msg_parse_finished(body, len, want, &vd, &err) != 0) {
        malformed(s, &err);
        return;
    }
    sb_add(s, " verify_data=%zu bytes", vd.n);
}

static void new_session_ticket(sb *s, const uint8_t *body, size_t len, uint16_t version)
{
    tlsv_new_session_ticket t;
    tlsv_error err;
    memset(&err, 0, sizeof err);
    uint16_t v = version ? version : TLSV_V_TLS13;
    if (tlsv_msg_parse_new_session_ticket(body, len, v, &t, &err) != 0) {
        malformed(s, &err);
        return;
    }
    if (v >= TLSV_V_TLS13) {
        sb_add(s, " lifetime=%lus age_add=0x%08lx nonce=%zu bytes ticket=%zu bytes",
               (unsigned long)t.lifetime, (unsigned long)t.age_add, t.nonce.n, t.ticket.n);
        if (tlsv_ext_present(t.present, TLSV_EXTID_EARLY_DATA))
            sb_add(s, " max_early_data=%lu", (unsigned long)t.max_early_data_size);
        /* lifetime 4, age_add 4, nonce 1+n, ticket 2+n, then extensions */
        size_t at = 4 + 4 + 1 + t.nonce.n + 2 + t.ticket.n;
        ext_block(s, body, len, at <= len ? body + at : NULL, 0);
    } else {
        sb_add(s, " lifetime_hint=%lus ticket=%zu bytes", (unsigned long)t.lifetime, t.ticket.n);
    }
}

static void key_update(sb *s, const uint8_t *body, size_t len)
{
    bool req = false;
    tlsv_error err;
    memset(&err, 0, sizeof err);
    if (tlsv_msg_parse_key_update(body, len, &req, &err) != 0) {
        malformed(s, &err);
        return;
    }
    sb_add(s, " %s", req ? "update_requested" : "update_not_requested");
}

static void server_key_exchange(sb *s, const uint8_t *body, size_t len, uint16_t version)
{
    tlsv_server_key_exchange ske;
    tlsv_error err;
    memset(&err, 0, sizeof err);
    uint16_t v = version ? version : TLSV_V_TLS12;
    if (tlsv_msg_parse_server_key_exchange_ecdhe(body, len, v, &ske, &err) != 0) {
        malformed(s, &err);
        return;
    }
    char buf[16];
    sb_add(s, " ecdhe group=%s public=%zu bytes", group_name(ske.named_group, buf, sizeof buf),
           ske.public_key.n);
    if (ske.has_scheme)
        sb_add(s, " scheme=%s", scheme_name(ske.scheme, buf, sizeof buf));
    sb_add(s, " signature=%zu bytes", ske.signature.n);
}

static void client_key_exchange(sb *s, const uint8_t *body, size_t len, uint16_t version)
{
    tlsv_bytes pk;
    tlsv_error err;
    memset(&err, 0, sizeof err);
    /* the suite decides the form; the two do not parse the same bytes */
    if (tlsv_msg_parse_client_key_exchange_ecdhe(body, len, &pk, NULL) == 0) {
        sb_add(s, " ecdhe public=%zu bytes", pk.n);
        return;
    }
    if (tlsv_msg_parse_client_key_exchange_rsa(body, len, version ? version : TLSV_V_TLS12, &pk,
                                               &err) != 0) {
        malformed(s, &err);
        return;
    }
    sb_add(s, " rsa encrypted_pre_master_secret=%zu bytes", pk.n);
}

static void empty_message(sb *s, const uint8_t *body, size_t len, uint8_t type)
{
    tlsv_error err;
    memset(&err, 0, sizeof err);
    if (tlsv_msg_parse_empty(body, len, type, &err) != 0)
        malformed(s, &err);
}

/* CamelCase names, as RFCs and packet analysers show them. */
static const char *message_name(uint8_t type, bool hrr)
{
    switch (type) {
    case TLSV_HS_HELLO_REQUEST: return "HelloRequest";
    case TLSV_HS_CLIENT_HELLO: return "ClientHello";
    case TLSV_HS_SERVER_HELLO: return hrr ? "HelloRetryRequest" : "ServerHello";
    case TLSV_HS_NEW_SESSION_TICKET: return "NewSessionTicket";
    case TLSV_HS_END_OF_EARLY_DATA: return "EndOfEarlyData";
    case TLSV_HS_ENCRYPTED_EXTENSIONS: return "EncryptedExtensions";
    case TLSV_HS_CERTIFICATE: return "Certificate";
    case TLSV_HS_SERVER_KEY_EXCHANGE: return "ServerKeyExchange";
    case TLSV_HS_CERTIFICATE_REQUEST: return "CertificateRequest";
    case TLSV_HS_SERVER_HELLO_DONE: return "ServerHelloDone";
    case TLSV_HS_CERTIFICATE_VERIFY: return "CertificateVerify";
    case TLSV_HS_CLIENT_KEY_EXCHANGE: return "ClientKeyExchange";
    case TLSV_HS_FINISHED: return "Finished";
    case TLSV_HS_CERTIFICATE_STATUS: return "CertificateStatus";
    case TLSV_HS_KEY_UPDATE: return "KeyUpdate";
    case TLSV_HS_MESSAGE_HASH: return "MessageHash";
    default: return NULL;
    }
}

size_t tlsv_trace_describe(const uint8_t *msg, size_t len, uint16_t version, char *out,
                           size_t cap)
{
    if (cap == 0)
        return 0;
    sb s = {out, cap, 0, false};
    out[0] = '\0';
    if (!msg || len < TLSV_HS_HEADER_LEN) {
        sb_add(&s, "handshake message of %zu bytes: malformed: shorter than its 4-byte header",
               msg ? len : 0);
        return sb_finish(&s);
    }
    uint8_t type = msg[0];
    size_t announced = ((size_t)msg[1] << 16) | ((size_t)msg[2] << 8) | msg[3];
    const uint8_t *body = msg + TLSV_HS_HEADER_LEN;
    size_t blen = len - TLSV_HS_HEADER_LEN;
    bool hrr = type == TLSV_HS_SERVER_HELLO && blen >= 34 &&
               memcmp(body + 2, tlsv_hrr_random, 32) == 0;
    const char *name = message_name(type, hrr);
    if (name)
        sb_add(&s, "%s (%zu byte%s)", name, blen, blen == 1 ? "" : "s");
    else
        sb_add(&s, "handshake message type %u (%zu byte%s)", (unsigned)type, blen,
               blen == 1 ? "" : "s");
    if (announced != blen) {
        sb_add(&s, " malformed: its header announces %zu bytes", announced);
        return sb_finish(&s);
    }
    switch (type) {
    case TLSV_HS_CLIENT_HELLO: client_hello(&s, body, blen); break;
    case TLSV_HS_SERVER_HELLO: server_hello(&s, body, blen); break;
    case TLSV_HS_ENCRYPTED_EXTENSIONS: encrypted_extensions(&s, body, blen); break;
    case TLSV_HS_CERTIFICATE: certificate(&s, body, blen, version); break;
    case TLSV_HS_CERTIFICATE_REQUEST: certificate_request(&s, body, blen, version); break;
    case TLSV_HS_CERTIFICATE_VERIFY: certificate_verify(&s, body, blen, version); break;
    case TLSV_HS_FINISHED: finished(&s, body, blen, version); break;
    case TLSV_HS_NEW_SESSION_TICKET: new_session_ticket(&s, body, blen, version); break;
    case TLSV_HS_KEY_UPDATE: key_update(&s, body, blen); break;
    case TLSV_HS_SERVER_KEY_EXCHANGE: server_key_exchange(&s, body, blen, version); break;
    case TLSV_HS_CLIENT_KEY_EXCHANGE: client_key_exchange(&s, body, blen, version); break;
    case TLSV_HS_SERVER_HELLO_DONE:
    case TLSV_HS_HELLO_REQUEST:
    case TLSV_HS_END_OF_EARLY_DATA: empty_message(&s, body, blen, type); break;
    default: break; /* CertificateStatus, message_hash, unknown: the size says it */
    }
    return sb_finish(&s);
}
