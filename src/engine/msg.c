/*
 * msg.c -- the handshake message codec (see msg.h).
 *
 * Layout of this file:
 *   1. the fault table (reason + alert of every kind of failure)
 *   2. parse helpers: bounded reads that explain what went wrong
 *   3. the extension walker (duplicates, "allowed in this message")
 *   4. list views and iterators
 *   5. framing
 *   6. one section per message: parser, then writer
 *
 * Every read goes through a tlsv_reader; every write through a
 * tlsv_writer. The only places that index a byte array directly are the
 * fixed 32-byte randoms and the binder rewrite, each commented.
 */
#include "engine/msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

#if defined(__GNUC__) || defined(__clang__)
#define MSG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MSG_PRINTF(a, b)
#endif

/* SHA-256("HelloRetryRequest"), RFC 8446 §4.1.3. */
const uint8_t tlsv_hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

/* ======================================================================
 * 1. Faults: the one table of reason + alert pairs
 * ====================================================================== */

static const struct {
    tlsv_reason reason;
    int alert;
} faults[TLSV_MSG_F__COUNT] = {
    [TLSV_MSG_F_DECODE] = {TLSV_MSG_R_DECODE_ERROR, TLSV_ALERT_DECODE_ERROR},
    [TLSV_MSG_F_ILLEGAL] = {TLSV_MSG_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER},
    [TLSV_MSG_F_BAD_EXTENSION] = {TLSV_MSG_R_BAD_EXTENSION, TLSV_ALERT_ILLEGAL_PARAMETER},
    [TLSV_MSG_F_MISSING_EXTENSION] = {TLSV_MSG_R_MISSING_EXTENSION, TLSV_ALERT_MISSING_EXTENSION},
    [TLSV_MSG_F_UNEXPECTED] = {TLSV_MSG_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE},
    [TLSV_MSG_F_TOO_LARGE] = {TLSV_MSG_R_EXCESSIVE_MESSAGE_SIZE, TLSV_ALERT_ILLEGAL_PARAMETER},
    [TLSV_MSG_F_TOO_MANY_CERTS] = {TLSV_MSG_R_TOO_MANY_CERTIFICATES,
                                   TLSV_ALERT_CERTIFICATE_UNKNOWN},
    [TLSV_MSG_F_ARGUMENT] = {TLSV_MSG_R_INVALID_ARGUMENT, TLSV_ALERT_INTERNAL_ERROR},
    [TLSV_MSG_F_WRITE] = {TLSV_MSG_R_WRITE, TLSV_ALERT_INTERNAL_ERROR},
};

tlsv_reason tlsv_msg_fault_reason(tlsv_msg_fault f)
{
    return (unsigned)f < TLSV_MSG_F__COUNT ? faults[f].reason : TLSV_R_INTERNAL_ERROR;
}

int tlsv_msg_fault_alert(tlsv_msg_fault f)
{
    return (unsigned)f < TLSV_MSG_F__COUNT ? faults[f].alert : TLSV_ALERT_INTERNAL_ERROR;
}

/* Records a fault: "<message>: [<extension>: ]<what>". */
static void record(tlsv_error *err, tlsv_msg_fault f, const char *msg, const char *ext,
                   const char *what)
{
    if (ext)
        tlsv_err_set(err, faults[f].reason, faults[f].alert, TLSV_SIDE_LOCAL, "%s: %s: %s", msg,
                     ext, what);
    else
        tlsv_err_set(err, faults[f].reason, faults[f].alert, TLSV_SIDE_LOCAL, "%s: %s", msg,
                     what);
}

/* ======================================================================
 * 2. Parse helpers
 * ====================================================================== */

/*
 * Where a parse is: which message (and which extension) to name, and the
 * first semantic fault found so far.
 *
 * Framing first: a message whose bytes do not match its grammar fails with
 * decode_error, whatever else is wrong with it. So a parser stops at the
 * first framing error (failf), but a semantic fault (a value that is
 * well-formed but not acceptable: compression not null, a duplicate
 * extension, ...) is only noted (flag) and the parse goes on; it is
 * reported by finish() once the whole message has been framed. Without
 * this, a length that is one off could shift the parse onto bytes that
 * trip a semantic check first and be reported as illegal_parameter.
 */
typedef struct pc {
    tlsv_error *err;
    const char *msg; /* "ClientHello" */
    const char *ext; /* the extension being parsed, or NULL */
    bool pending;    /* a semantic fault was noted */
    tlsv_msg_fault pending_fault;
    char pending_msg[TLSV_ERROR_MESSAGE_MAX];
} pc;

#define PC(err, name) {(err), (name), NULL, false, TLSV_MSG_F_DECODE, {0}}

static bool failf(pc *c, tlsv_msg_fault f, const char *fmt, ...) MSG_PRINTF(3, 4);

/* A framing (or otherwise final) failure: recorded now; returns false. */
static bool failf(pc *c, tlsv_msg_fault f, const char *fmt, ...)
{
    char what[TLSV_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    record(c->err, f, c->msg, c->ext, what);
    return false;
}

static bool flag(pc *c, tlsv_msg_fault f, const char *fmt, ...) MSG_PRINTF(3, 4);

/* A semantic fault: the first one is kept for finish(); returns true so
 * that the parse continues. */
static bool flag(pc *c, tlsv_msg_fault f, const char *fmt, ...)
{
    if (c->pending)
        return true;
    char what[TLSV_ERROR_MESSAGE_MAX - 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    c->pending = true;
    c->pending_fault = f;
    if (c->ext)
        snprintf(c->pending_msg, sizeof c->pending_msg, "%s: %s: %s", c->msg, c->ext, what);
    else
        snprintf(c->pending_msg, sizeof c->pending_msg, "%s: %s", c->msg, what);
    return true;
}

/* The end of a parse that framed the whole message (ok): reports the
 * first semantic fault, if any. */
static bool finish(pc *c, bool ok)
{
    if (!ok)
        return false;
    if (!c->pending)
        return true;
    tlsv_err_set(c->err, faults[c->pending_fault].reason, faults[c->pending_fault].alert,
                 TLSV_SIDE_LOCAL, "%s", c->pending_msg);
    return false;
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

static tlsv_bytes rest(const tlsv_reader *r)
{
    tlsv_bytes b = {tlsv_rd_data(r), tlsv_rd_remaining(r)};
    return b;
}

static bool need(pc *c, tlsv_reader *r, size_t n, const char *field)
{
    size_t left = tlsv_rd_remaining(r);
    if (tlsv_rd_ok(r) && left >= n)
        return true;
    tlsv_rd_fail(r);
    return failf(c, TLSV_MSG_F_DECODE, "truncated %s: %zu byte%s needed, %zu left", field, n,
                 plural(n), left);
}

static bool get_u8(pc *c, tlsv_reader *r, uint8_t *v, const char *field)
{
    *v = 0;
    return need(c, r, 1, field) && tlsv_rd_u8(r, v);
}

static bool get_u16(pc *c, tlsv_reader *r, uint16_t *v, const char *field)
{
    *v = 0;
    return need(c, r, 2, field) && tlsv_rd_u16(r, v);
}

static bool get_u32(pc *c, tlsv_reader *r, uint32_t *v, const char *field)
{
    *v = 0;
    return need(c, r, 4, field) && tlsv_rd_u32(r, v);
}

/* n bytes, borrowed. */
static bool get_fixed(pc *c, tlsv_reader *r, size_t n, tlsv_bytes *out, const char *field)
{
    out->p = NULL;
    out->n = 0;
    if (!need(c, r, n, field) || !tlsv_rd_view(r, n, &out->p))
        return false;
    out->n = n;
    return true;
}

/* A vector with a `width`-byte length in <min..max>, as a sub-reader. The
 * explanation says which bound was broken. */
static bool get_vec(pc *c, tlsv_reader *r, unsigned width, size_t min, size_t max,
                    tlsv_reader *out, const char *field)
{
    tlsv_rd_init(out, NULL, 0);
    size_t left = tlsv_rd_remaining(r);
    if (!tlsv_rd_ok(r) || left < width) {
        tlsv_rd_fail(r);
        tlsv_rd_fail(out);
        return failf(c, TLSV_MSG_F_DECODE, "truncated %s length: %u bytes needed, %zu left",
                     field, width, left);
    }
    uint32_t n = 0;
    if (width == 1) {
        uint8_t v;
        tlsv_rd_peek_u8(r, &v);
        n = v;
    } else if (width == 2) {
        uint16_t v;
        tlsv_rd_peek_u16(r, &v);
        n = v;
    } else {
        tlsv_rd_peek_u24(r, &n);
    }
    const char *why = NULL;
    size_t bound = 0;
    if (n > left - width) {
        why = "exceeds the";
        bound = left - width;
    } else if (n < min) {
        why = "is below the minimum";
        bound = min;
    } else if (n > max) {
        why = "exceeds the maximum";
        bound = max;
    }
    if (why) {
        tlsv_rd_fail(r);
        tlsv_rd_fail(out);
        if (n > left - width)
            return failf(c, TLSV_MSG_F_DECODE, "%s length %u %s %zu byte%s left", field,
                         (unsigned)n, why, bound, plural(bound));
        return failf(c, TLSV_MSG_F_DECODE, "%s length %u %s %zu", field, (unsigned)n, why,
                     bound);
    }
    return tlsv_rd_vec(r, width, min, max, out);
}

/* A vector of opaque bytes, borrowed. */
static bool get_opaque(pc *c, tlsv_reader *r, unsigned width, size_t min, size_t max,
                       tlsv_bytes *out, const char *field)
{
    tlsv_reader v;
    out->p = NULL;
    out->n = 0;
    if (!get_vec(c, r, width, min, max, &v, field))
        return false;
    *out = rest(&v);
    return true;
}

/* A vector of u16 values: its byte length must be even. */
static bool get_u16_list(pc *c, tlsv_reader *r, unsigned width, size_t min, size_t max,
                         tlsv_bytes *out, const char *field)
{
    if (!get_opaque(c, r, width, min, max, out, field))
        return false;
    if (out->n % 2) {
        size_t n = out->n;
        out->p = NULL;
        out->n = 0;
        return failf(c, TLSV_MSG_F_DECODE, "%s length %zu is odd: a list of 2-byte values",
                     field, n);
    }
    return true;
}

/* Nothing may follow. */
static bool at_end(pc *c, const tlsv_reader *r, const char *after)
{
    size_t left = tlsv_rd_remaining(r);
    if (tlsv_rd_ok(r) && left == 0)
        return true;
    return failf(c, TLSV_MSG_F_DECODE, "%zu trailing byte%s after %s", left, plural(left), after);
}

/* An extension whose extension_data must be empty. */
static bool empty_ext(pc *c, const tlsv_reader *d)
{
    size_t n = tlsv_rd_remaining(d);
    if (n == 0)
        return true;
    return failf(c, TLSV_MSG_F_DECODE, "extension_data must be empty, has %zu byte%s", n,
                 plural(n));
}

/* Skips what an extension's data holds (contents not interpreted). */
static bool skip_all(tlsv_reader *d)
{
    return tlsv_rd_skip(d, tlsv_rd_remaining(d));
}

/* ======================================================================
 * 3. Extensions
 * ====================================================================== */

/* A set of u16 values: 65536 bits, for exact duplicate detection in
 * linear time whatever the peer sends. */
typedef struct u16set {
    uint64_t bits[65536 / 64];
} u16set;

static void set_clear(u16set *s)
{
    memset(s, 0, sizeof *s);
}

/* Adds v; false when it was already there. */
static bool set_add(u16set *s, uint16_t v)
{
    uint64_t bit = (uint64_t)1 << (v % 64);
    if (s->bits[v / 64] & bit)
        return false;
    s->bits[v / 64] |= bit;
    return true;
}

/* Called for each known extension with its extension_data; must consume
 * all of it (the walker checks). */
typedef bool (*ext_fn)(pc *c, const tlsv_ext_info *e, tlsv_reader *data, void *ctx);

/* Walks an extension block (the content of extensions<..>):
 *   - each extension's framing;
 *   - no type twice, known or not (RFC 8446 §4.2);
 *   - if psk_last: nothing after pre_shared_key (§4.2.11);
 *   - if `where` is not 0: every known type allowed there (§4.2);
 *   - known types handed to fn, unknown ones skipped.
 * *present gets the bits of the known types, *count every extension. */
static bool walk_extensions(pc *c, tlsv_reader *block, unsigned where, bool psk_last, ext_fn fn,
                            void *ctx, uint32_t *present, size_t *count)
{
    u16set seen;
    set_clear(&seen);
    *present = 0;
    *count = 0;
    bool after_psk = false;
    while (!tlsv_rd_empty(block)) {
        uint16_t type;
        tlsv_reader data;
        char field[80];
        if (!get_u16(c, block, &type, "extension type"))
            return false;
        snprintf(field, sizeof field, "extension %s (%u)", tlsv_ext_name(type), (unsigned)type);
        if (!get_vec(c, block, 2, 0, TLSV_U16_MAX, &data, field))
            return false;
        (*count)++;
        if (after_psk)
            flag(c, TLSV_MSG_F_BAD_EXTENSION,
                 "pre_shared_key is not the last extension: %s follows it (RFC 8446 §4.2.11)",
                 field);
        if (!set_add(&seen, type)) {
            flag(c, TLSV_MSG_F_BAD_EXTENSION, "duplicate %s (RFC 8446 §4.2)", field);
            continue; /* its contents are not looked at */
        }
        const tlsv_ext_info *e = tlsv_ext_lookup(type);
        if (!e)
            continue; /* unknown or GREASE: ignored */
        if (where && !(e->where & where)) {
            flag(c, TLSV_MSG_F_BAD_EXTENSION, "%s is not allowed in this message (RFC 8446 §4.2)",
                 field);
            continue;
        }
        *present |= TLSV_EXT_BIT(e->id);
        if (psk_last && type == TLSV_EXT_PRE_SHARED_KEY)
            after_psk = true;
        c->ext = e->name;
        bool ok = fn(c, e, &data, ctx) && at_end(c, &data, "the extension data");
        c->ext = NULL;
        if (!ok)
            return false;
    }
    return true;
}

/* An extension block that follows a message's fixed fields:
 * extensions<min..2^16-1>, walked, and then the end of the message. */
static bool ext_block(pc *c, tlsv_reader *r, size_t min, unsigned where, bool psk_last,
                      ext_fn fn, void *ctx, uint32_t *present, size_t *count)
{
    tlsv_reader block;
    return get_vec(c, r, 2, min, TLSV_U16_MAX, &block, "extensions") &&
           walk_extensions(c, &block, where, psk_last, fn, ctx, present, count) &&
           at_end(c, r, "the extensions");
}

/* Handler for blocks whose allowed extensions are only presence-checked
 * (CertificateEntry). */
static bool ext_skip(pc *c, const tlsv_ext_info *e, tlsv_reader *d, void *ctx)
{
    (void)c;
    (void)e;
    (void)ctx;
    return skip_all(d);
}

/* ---- extension bodies shared by several messages ---------------------- */

/* server_name in a ClientHello (RFC 6066 §3): one host_name, no NUL. */
static bool parse_server_name(pc *c, tlsv_reader *d, tlsv_bytes *host)
{
    tlsv_reader list;
    uint8_t type;
    if (!get_vec(c, d, 2, 1, TLSV_U16_MAX, &list, "server_name_list") ||
        !get_u8(c, &list, &type, "name_type"))
        return false;
    if (type != 0)
        return failf(c, TLSV_MSG_F_DECODE, "name_type %u is not host_name (0)", (unsigned)type);
    if (!get_opaque(c, &list, 2, 1, TLSV_U16_MAX, host, "host_name"))
        return false;
    if (!tlsv_rd_empty(&list))
        return failf(c, TLSV_MSG_F_DECODE,
                     "%zu byte%s after the host_name in server_name_list: one name only",
                     tlsv_rd_remaining(&list), plural(tlsv_rd_remaining(&list)));
    if (memchr(host->p, 0, host->n))
        flag(c, TLSV_MSG_F_ILLEGAL, "host_name contains a NUL byte");
    return true;
}

/* ALPN protocol_name_list (RFC 7301 §3.1). With `one` (a server's
 * answer) exactly one name, stored there. */
static bool parse_alpn(pc *c, tlsv_reader *d, tlsv_bytes *list_out, tlsv_bytes *one)
{
    tlsv_reader list;
    if (!get_vec(c, d, 2, 2, TLSV_U16_MAX, &list, "protocol_name_list"))
        return false;
    if (list_out)
        *list_out = rest(&list);
    size_t n = 0;
    while (!tlsv_rd_empty(&list)) {
        tlsv_bytes name;
        if (!get_opaque(c, &list, 1, 1, TLSV_U8_MAX, &name, "protocol name"))
            return false;
        if (one && n == 0)
            *one = name;
        n++;
    }
    if (one && n != 1)
        return failf(c, TLSV_MSG_F_DECODE,
                     "%zu protocol names: the server must select exactly one (RFC 7301 §3.1)",
                     n);
    return true;
}

/* record_size_limit (RFC 8449 §4): a u16, at least 64. */
static bool parse_record_size_limit(pc *c, tlsv_reader *d, uint16_t *out)
{
    if (!get_u16(c, d, out, "RecordSizeLimit"))
        return false;
    if (*out < 64)
        flag(c, TLSV_MSG_F_ILLEGAL, "RecordSizeLimit %u is below 64 (RFC 8449 §4)",
             (unsigned)*out);
    return true;
}

/* A DistinguishedName list (certificate_authorities), each entry
 * opaque<1..2^16-1>, the list <min..2^16-1>. */
static bool parse_dn_list(pc *c, tlsv_reader *d, size_t min, tlsv_bytes *out,
                          const char *field)
{
    tlsv_reader list;
    if (!get_vec(c, d, 2, min, TLSV_U16_MAX, &list, field))
        return false;
    *out = rest(&list);
    while (!tlsv_rd_empty(&list)) {
        tlsv_bytes dn;
        if (!get_opaque(c, &list, 2, 1, TLSV_U16_MAX, &dn, "DistinguishedName"))
            return false;
    }
    return true;
}

/* ======================================================================
 * 4. Lists and iterators
 * ====================================================================== */

size_t tlsv_u16_count(tlsv_bytes list)
{
    return list.n / 2;
}

uint16_t tlsv_u16_at(tlsv_bytes list, size_t i)
{
    tlsv_reader r;
    uint16_t v = 0;
    tlsv_rd_init(&r, list.p, list.n);
    if (i < list.n / 2 && tlsv_rd_skip(&r, 2 * i))
        tlsv_rd_u16(&r, &v);
    return v;
}

bool tlsv_u16_contains(tlsv_bytes list, uint16_t v)
{
    tlsv_reader r;
    uint16_t x;
    tlsv_rd_init(&r, list.p, list.n);
    while (tlsv_rd_u16(&r, &x))
        if (x == v)
            return true;
    return false;
}

bool tlsv_u8_contains(tlsv_bytes list, uint8_t v)
{
    return list.n && memchr(list.p, v, list.n) != NULL;
}

void tlsv_iter_init(tlsv_iter *it, tlsv_bytes list)
{
    tlsv_rd_init(&it->r, list.p, list.n);
    it->stride = 2;
}

bool tlsv_iter_key_share(tlsv_iter *it, uint16_t *group, tlsv_bytes *key_exchange)
{
    tlsv_reader k;
    *group = 0;
    key_exchange->p = NULL;
    key_exchange->n = 0;
    if (tlsv_rd_empty(&it->r) || !tlsv_rd_u16(&it->r, group) ||
        !tlsv_rd_vec(&it->r, 2, 1, TLSV_U16_MAX, &k))
        return false;
    *key_exchange = rest(&k);
    return true;
}

/* One opaque vector of `width` with bounds, as a view. */
static bool iter_opaque(tlsv_iter *it, unsigned width, size_t min, size_t max, tlsv_bytes *out)
{
    tlsv_reader v;
    out->p = NULL;
    out->n = 0;
    if (tlsv_rd_empty(&it->r) || !tlsv_rd_vec(&it->r, width, min, max, &v))
        return false;
    *out = rest(&v);
    return true;
}

bool tlsv_iter_alpn(tlsv_iter *it, tlsv_bytes *name)
{
    return iter_opaque(it, 1, 1, TLSV_U8_MAX, name);
}

bool tlsv_iter_psk_identity(tlsv_iter *it, tlsv_bytes *identity, uint32_t *obfuscated_age)
{
    *obfuscated_age = 0;
    if (!iter_opaque(it, 2, 1, TLSV_U16_MAX, identity))
        return false;
    if (!tlsv_rd_u32(&it->r, obfuscated_age)) {
        identity->p = NULL;
        identity->n = 0;
        return false;
    }
    return true;
}

bool tlsv_iter_psk_binder(tlsv_iter *it, tlsv_bytes *binder)
{
    return iter_opaque(it, 1, 32, TLSV_U8_MAX, binder);
}

bool tlsv_iter_dn(tlsv_iter *it, tlsv_bytes *dn)
{
    return iter_opaque(it, 2, 1, TLSV_U16_MAX, dn);
}

/* ======================================================================
 * 5. Framing
 * ====================================================================== */

static const char *const hs_names[256] = {
    [TLSV_HS_HELLO_REQUEST] = "hello_request",
    [TLSV_HS_CLIENT_HELLO] = "client_hello",
    [TLSV_HS_SERVER_HELLO] = "server_hello",
    [TLSV_HS_NEW_SESSION_TICKET] = "new_session_ticket",
    [TLSV_HS_END_OF_EARLY_DATA] = "end_of_early_data",
    [TLSV_HS_ENCRYPTED_EXTENSIONS] = "encrypted_extensions",
    [TLSV_HS_CERTIFICATE] = "certificate",
    [TLSV_HS_SERVER_KEY_EXCHANGE] = "server_key_exchange",
    [TLSV_HS_CERTIFICATE_REQUEST] = "certificate_request",
    [TLSV_HS_SERVER_HELLO_DONE] = "server_hello_done",
    [TLSV_HS_CERTIFICATE_VERIFY] = "certificate_verify",
    [TLSV_HS_CLIENT_KEY_EXCHANGE] = "client_key_exchange",
    [TLSV_HS_FINISHED] = "finished",
    [TLSV_HS_CERTIFICATE_STATUS] = "certificate_status",
    [TLSV_HS_KEY_UPDATE] = "key_update",
    [TLSV_HS_MESSAGE_HASH] = "message_hash",
};

const char *tlsv_hs_type_name(uint8_t type)
{
    return hs_names[type] ? hs_names[type] : "unknown";
}

bool tlsv_msg_header_parse(const uint8_t *p, size_t n, tlsv_hs_header *out)
{
    tlsv_reader r;
    tlsv_rd_init(&r, p, n);
    out->type = 0;
    out->length = 0;
    if (n < TLSV_HS_HEADER_LEN)
        return false;
    tlsv_rd_u8(&r, &out->type);
    tlsv_rd_u24(&r, &out->length);
    return true;
}

bool tlsv_msg_header_write(tlsv_writer *w, uint8_t type, uint32_t length)
{
    return tlsv_wr_u8(w, type) && tlsv_wr_u24(w, length);
}

int tlsv_msg_frame(const uint8_t *p, size_t n, size_t max_body, tlsv_hs_msg *out,
                   tlsv_error *err)
{
    tlsv_hs_header h;
    memset(out, 0, sizeof *out);
    if (!tlsv_msg_header_parse(p, n, &h))
        return 0;
    if (h.length > max_body) {
        char what[96];
        snprintf(what, sizeof what, "length %lu exceeds the limit %zu", (unsigned long)h.length,
                 max_body);
        record(err, TLSV_MSG_F_TOO_LARGE, tlsv_hs_type_name(h.type), NULL, what);
        return -1;
    }
    tlsv_reader r, mark;
    tlsv_rd_init(&r, p, n);
    mark = r;
    tlsv_rd_skip(&r, TLSV_HS_HEADER_LEN);
    if (!tlsv_rd_view(&r, h.length, &out->body.p))
        return 0;
    out->type = h.type;
    out->body.n = h.length;
    tlsv_rd_since(&mark, &r, &out->whole.p, &out->whole.n);
    return 1;
}

int tlsv_msg_expect(const tlsv_hs_msg *m, uint8_t type, tlsv_error *err)
{
    if (m->type == type)
        return 0;
    tlsv_err_set(err, faults[TLSV_MSG_F_UNEXPECTED].reason, faults[TLSV_MSG_F_UNEXPECTED].alert,
                 TLSV_SIDE_LOCAL, "expected %s (%u), received %s (%u)", tlsv_hs_type_name(type),
                 (unsigned)type, tlsv_hs_type_name(m->type), (unsigned)m->type);
    return -1;
}

bool tlsv_msg_begin(tlsv_writer *w, uint8_t type)
{
    return tlsv_wr_u8(w, type) && tlsv_wr_vec_open(w, 3);
}

bool tlsv_msg_end(tlsv_writer *w)
{
    return tlsv_wr_vec_close(w);
}

/* ---- writer helpers ------------------------------------------------- */

/* The end of every writer: 0, or WRITE when the writer ran out of room. */
static int wr_result(tlsv_writer *w, const char *msg, tlsv_error *err)
{
    if (tlsv_wr_ok(w))
        return 0;
    record(err, TLSV_MSG_F_WRITE, msg, NULL,
           "the message does not fit the output buffer (writer failed)");
    return -1;
}

static int arg_fail(tlsv_writer *w, const char *msg, tlsv_error *err, const char *fmt, ...)
    MSG_PRINTF(4, 5);

static int arg_fail(tlsv_writer *w, const char *msg, tlsv_error *err, const char *fmt, ...)
{
    char what[TLSV_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (w)
        tlsv_wr_fail(w);
    record(err, TLSV_MSG_F_ARGUMENT, msg, NULL, what);
    return -1;
}

static void put_u16s(tlsv_writer *w, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tlsv_wr_u16(w, v[i]);
}

/* extension_type, then extension_data opened (close with tlsv_wr_vec_close). */
static void ext_open(tlsv_writer *w, uint16_t type)
{
    tlsv_wr_u16(w, type);
    tlsv_wr_vec_open(w, 2);
}

static void ext_empty(tlsv_writer *w, uint16_t type)
{
    tlsv_wr_u16(w, type);
    tlsv_wr_u16(w, 0);
}

/* An extension holding one u16 list with a 2-byte length, optionally led
 * by a GREASE value (0 = none). */
static void ext_u16_list(tlsv_writer *w, uint16_t type, uint16_t grease, const uint16_t *v,
                         size_t n)
{
    ext_open(w, type);
    tlsv_wr_vec_open(w, 2);
    if (grease)
        tlsv_wr_u16(w, grease);
    put_u16s(w, v, n);
    tlsv_wr_vec_close(w);
    tlsv_wr_vec_close(w);
}

static void ext_alpn(tlsv_writer *w, const tlsv_bytes *names, size_t n)
{
    ext_open(w, TLSV_EXT_ALPN);
    tlsv_wr_vec_open(w, 2);
    for (size_t i = 0; i < n; i++)
        tlsv_wr_opaque(w, 1, names[i].p, names[i].n);
    tlsv_wr_vec_close(w);
    tlsv_wr_vec_close(w);
}

static void ext_record_size_limit(tlsv_writer *w, uint16_t v)
{
    ext_open(w, TLSV_EXT_RECORD_SIZE_LIMIT);
    tlsv_wr_u16(w, v);
    tlsv_wr_vec_close(w);
}

static void ext_point_formats(tlsv_writer *w)
{
    ext_open(w, TLSV_EXT_EC_POINT_FORMATS);
    tlsv_wr_u8(w, 1);
    tlsv_wr_u8(w, 0); /* uncompressed */
    tlsv_wr_vec_close(w);
}

/* Closes an extension block: an empty one is dropped (with its length)
 * when `omit_empty`. */
static void close_ext_block(tlsv_writer *w, bool omit_empty)
{
    if (omit_empty && tlsv_wr_vec_len(w) == 0)
        tlsv_wr_vec_discard(w);
    else
        tlsv_wr_vec_close(w);
}

static bool alpn_names_ok(const tlsv_bytes *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (names[i].n == 0 || names[i].n > TLSV_U8_MAX)
            return false;
    return true;
}

/* ======================================================================
 * 6a. ClientHello
 * ====================================================================== */

static bool ch_key_shares(pc *c, tlsv_reader *d, tlsv_client_hello *ch)
{
    tlsv_reader list;
    if (!get_vec(c, d, 2, 0, TLSV_U16_MAX, &list, "client_shares"))
        return false;
    ch->key_shares = rest(&list);
    u16set groups;
    set_clear(&groups);
    size_t n = 0;
    while (!tlsv_rd_empty(&list)) {
        uint16_t group;
        tlsv_bytes key;
        if (!get_u16(c, &list, &group, "KeyShareEntry group") ||
            !get_opaque(c, &list, 2, 1, TLSV_U16_MAX, &key, "KeyShareEntry key_exchange"))
            return false;
        if (!set_add(&groups, group))
            flag(c, TLSV_MSG_F_ILLEGAL, "two KeyShareEntry values for group 0x%04x (RFC 8446 §4.2.8)",
                 (unsigned)group);
        n++;
    }
    ch->n_key_shares = n;
    return true;
}

static bool ch_pre_shared_key(pc *c, tlsv_reader *d, tlsv_client_hello *ch)
{
    tlsv_reader ids, binders;
    size_t n_ids = 0, n_binders = 0;
    if (!get_vec(c, d, 2, 7, TLSV_U16_MAX, &ids, "identities"))
        return false;
    ch->psk_identities = rest(&ids);
    while (!tlsv_rd_empty(&ids)) {
        tlsv_bytes id;
        uint32_t age;
        if (!get_opaque(c, &ids, 2, 1, TLSV_U16_MAX, &id, "identity") ||
            !get_u32(c, &ids, &age, "obfuscated_ticket_age"))
            return false;
        n_ids++;
    }
    if (!get_vec(c, d, 2, 33, TLSV_U16_MAX, &binders, "binders"))
        return false;
    ch->psk_binders = rest(&binders);
    while (!tlsv_rd_empty(&binders)) {
        tlsv_bytes b;
        if (!get_opaque(c, &binders, 1, 32, TLSV_U8_MAX, &b, "PskBinderEntry"))
            return false;
        n_binders++;
    }
    if (n_ids != n_binders)
        flag(c, TLSV_MSG_F_ILLEGAL, "%zu identities but %zu binders", n_ids, n_binders);
    ch->n_psk_identities = n_ids;
    return true;
}


/* RFC 8422 §5.1.2 / §5.2: an ec_point_formats list, from either side, MUST
 * contain uncompressed (0) -- the only format tlsv sends or reads; a list
 * without it is an illegal_parameter (the server's duty in §5.1.2). */
static void point_formats_rule(pc *c, tlsv_bytes formats)
{
    if (!tlsv_u8_contains(formats, 0))
        flag(c, TLSV_MSG_F_ILLEGAL,
             "ec_point_format_list does not contain uncompressed (0) (RFC 8422 §5.1.2)");
}

static bool ch_ext(pc *c, const tlsv_ext_info *e, tlsv_reader *d, void *ctx)
{
    tlsv_client_hello *ch = ctx;
    switch (e->id) {
    case TLSV_EXTID_SERVER_NAME:
        return parse_server_name(c, d, &ch->server_name);
    case TLSV_EXTID_SUPPORTED_GROUPS:
        return get_u16_list(c, d, 2, 2, TLSV_U16_MAX, &ch->supported_groups, "named_group_list");
    case TLSV_EXTID_SIGNATURE_ALGORITHMS:
        return get_u16_list(c, d, 2, 2, 0xfffe, &ch->signature_algorithms,
                            "supported_signature_algorithms");
    case TLSV_EXTID_SIGNATURE_ALGORITHMS_CERT:
        return get_u16_list(c, d, 2, 2, 0xfffe, &ch->signature_algorithms_cert,
                            "supported_signature_algorithms");
    case TLSV_EXTID_SUPPORTED_VERSIONS:
        return get_u16_list(c, d, 1, 2, 254, &ch->supported_versions, "versions");
    case TLSV_EXTID_KEY_SHARE:
        return ch_key_shares(c, d, ch);
    case TLSV_EXTID_PSK_KEY_EXCHANGE_MODES:
        return get_opaque(c, d, 1, 1, TLSV_U8_MAX, &ch->psk_key_exchange_modes, "ke_modes");
    case TLSV_EXTID_PRE_SHARED_KEY:
        return ch_pre_shared_key(c, d, ch);
    case TLSV_EXTID_COOKIE:
        return get_opaque(c, d, 2, 1, TLSV_U16_MAX, &ch->cookie, "cookie");
    case TLSV_EXTID_ALPN:
        return parse_alpn(c, d, &ch->alpn, NULL);
    case TLSV_EXTID_EC_POINT_FORMATS:
        if (!get_opaque(c, d, 1, 1, TLSV_U8_MAX, &ch->ec_point_formats, "ec_point_format_list"))
            return false;
        point_formats_rule(c, ch->ec_point_formats);
        return true;
    case TLSV_EXTID_RENEGOTIATION_INFO:
        return get_opaque(c, d, 1, 0, TLSV_U8_MAX, &ch->renegotiation_info,
                          "renegotiated_connection");
    case TLSV_EXTID_SESSION_TICKET:
        ch->session_ticket = rest(d);
        return skip_all(d);
    case TLSV_EXTID_PADDING:
        ch->padding_len = tlsv_rd_remaining(d);
        return skip_all(d);
    case TLSV_EXTID_RECORD_SIZE_LIMIT:
        return parse_record_size_limit(c, d, &ch->record_size_limit);
    case TLSV_EXTID_CERTIFICATE_AUTHORITIES:
        return parse_dn_list(c, d, 3, &ch->certificate_authorities, "authorities");
    case TLSV_EXTID_EARLY_DATA:
    case TLSV_EXTID_EXTENDED_MASTER_SECRET:
    case TLSV_EXTID_ENCRYPT_THEN_MAC:
    case TLSV_EXTID_POST_HANDSHAKE_AUTH:
        return empty_ext(c, d);
    default: /* status_request, SCT, max_fragment_length: tolerated */
        return skip_all(d);
    }
}

/* Sets the SCSV flags from a u16 suite list. */
static void scan_scsv(tlsv_client_hello *ch)
{
    tlsv_iter it;
    uint16_t s;
    tlsv_ch_suites(ch, &it);
    while (tlsv_iter_suite(&it, &s)) {
        if (s == TLSV_SUITE_FALLBACK_SCSV)
            ch->has_fallback_scsv = true;
        else if (s == TLSV_SUITE_EMPTY_RENEGOTIATION_INFO_SCSV)
            ch->has_empty_renegotiation_info_scsv = true;
    }
}

static bool parse_ch(pc *c, const uint8_t *body, size_t len, tlsv_client_hello *ch)
{
    tlsv_reader r;
    tlsv_bytes random;
    tlsv_rd_init(&r, body, len);
    if (!get_u16(c, &r, &ch->legacy_version, "legacy_version") ||
        !get_fixed(c, &r, 32, &random, "random") ||
        !get_opaque(c, &r, 1, 0, 32, &ch->session_id, "legacy_session_id") ||
        !get_u16_list(c, &r, 2, 2, 0xfffe, &ch->cipher_suites, "cipher_suites") ||
        !get_opaque(c, &r, 1, 1, TLSV_U8_MAX, &ch->compression_methods,
                    "legacy_compression_methods"))
        return false;
    memcpy(ch->random, random.p, sizeof ch->random);
    scan_scsv(ch);
    if (!tlsv_u8_contains(ch->compression_methods, 0))
        flag(c, TLSV_MSG_F_ILLEGAL, "legacy_compression_methods does not contain null (0)");
    if (tlsv_rd_empty(&r))
        return true; /* no extensions block: allowed before TLS 1.3 */
    ch->has_extensions = true;
    if (!ext_block(c, &r, 0, TLSV_IN_CH, true, ch_ext, ch, &ch->present, &ch->n_extensions))
        return false;
    if (tlsv_ext_present(ch->present, TLSV_EXTID_PRE_SHARED_KEY))
        /* pre_shared_key is the last extension and the extensions end the
         * body, so its binders<33..2^16-1> are the body's last bytes. */
        ch->psk_binders_offset = len - 2 - ch->psk_binders.n;
    return true;
}

int tlsv_msg_parse_client_hello(const uint8_t *body, size_t len, tlsv_client_hello *out,
                                tlsv_error *err)
{
    pc c = PC(err, "ClientHello");
    memset(out, 0, sizeof *out);
    if (finish(&c, parse_ch(&c, body, len, out)))
        return 0;
    memset(out, 0, sizeof *out);
    return -1;
}

/* ---- SSLv2-compatible CLIENT-HELLO ---------------------------------- */

static const uint8_t null_compression[1] = {0};

static bool parse_v2(pc *c, const uint8_t *msg, size_t len, tlsv_client_hello *ch)
{
    tlsv_reader r;
    uint8_t type;
    uint16_t version, cs_len, sid_len, chal_len;
    tlsv_bytes challenge;
    tlsv_rd_init(&r, msg, len);
    if (!get_u8(c, &r, &type, "msg_type"))
        return false;
    if (type != 1)
        return failf(c, TLSV_MSG_F_UNEXPECTED, "msg_type %u is not CLIENT-HELLO (1)",
                     (unsigned)type);
    if (!get_u16(c, &r, &version, "version") ||
        !get_u16(c, &r, &cs_len, "cipher_spec_length") ||
        !get_u16(c, &r, &sid_len, "session_id_length") ||
        !get_u16(c, &r, &chal_len, "challenge_length"))
        return false;
    if (cs_len == 0 || cs_len % 3)
        return failf(c, TLSV_MSG_F_DECODE, "cipher_spec_length %u is not a non-zero multiple of 3",
                     (unsigned)cs_len);
    if (sid_len != 0 && sid_len != 16)
        return failf(c, TLSV_MSG_F_DECODE, "session_id_length %u is neither 0 nor 16",
                     (unsigned)sid_len);
    if (chal_len < 16 || chal_len > 32)
        return failf(c, TLSV_MSG_F_DECODE, "challenge_length %u is outside 16..32",
                     (unsigned)chal_len);
    size_t total = (size_t)cs_len + sid_len + chal_len;
    if (tlsv_rd_remaining(&r) != total)
        return failf(c, TLSV_MSG_F_DECODE,
                     "the lengths add up to %zu bytes but %zu follow the header", total,
                     tlsv_rd_remaining(&r));
    if (sid_len && version >= TLSV_V_TLS12)
        flag(c, TLSV_MSG_F_ILLEGAL,
             "session_id_length 16 with version 0x%04x: a client claiming TLS 1.2 must send 0 "
             "(RFC 5246 App. E.2)",
             (unsigned)version);
    ch->legacy_version = version;
    if (!get_fixed(c, &r, cs_len, &ch->cipher_suites, "cipher_specs") ||
        !get_fixed(c, &r, sid_len, &ch->session_id, "session_id") ||
        !get_fixed(c, &r, chal_len, &challenge, "challenge"))
        return false;
    /* The challenge, right-aligned in the 32-byte random with leading
     * zeros (RFC 5246 App. E.2); chal_len is 16..32, checked above. */
    memset(ch->random, 0, sizeof ch->random);
    memcpy(ch->random + (sizeof ch->random - chal_len), challenge.p, chal_len);
    ch->sslv2 = true;
    scan_scsv(ch);
    ch->compression_methods.p = null_compression;
    ch->compression_methods.n = sizeof null_compression;
    return true;
}

int tlsv_msg_parse_sslv2_client_hello(const uint8_t *msg, size_t len, tlsv_client_hello *out,
                                      tlsv_error *err)
{
    pc c = PC(err, "SSLv2 CLIENT-HELLO");
    memset(out, 0, sizeof *out);
    if (finish(&c, parse_v2(&c, msg, len, out)))
        return 0;
    memset(out, 0, sizeof *out);
    return -1;
}

void tlsv_ch_suites(const tlsv_client_hello *ch, tlsv_iter *it)
{
    tlsv_iter_init(it, ch->cipher_suites);
    it->stride = ch->sslv2 ? 3 : 2;
}

bool tlsv_iter_suite(tlsv_iter *it, uint16_t *suite)
{
    *suite = 0;
    if (it->stride != 3)
        return !tlsv_rd_empty(&it->r) && tlsv_rd_u16(&it->r, suite);
    /* SSLv2 cipher specs: {0, hi, lo} is the TLS suite hi.lo; others are
     * SSL 2.0 cipher kinds, skipped (RFC 5246 App. E.2). */
    uint8_t first;
    uint16_t v;
    while (!tlsv_rd_empty(&it->r) && tlsv_rd_u8(&it->r, &first) && tlsv_rd_u16(&it->r, &v))
        if (first == 0) {
            *suite = v;
            return true;
        }
    return false;
}

bool tlsv_ch_has_suite(const tlsv_client_hello *ch, uint16_t suite)
{
    tlsv_iter it;
    uint16_t s;
    tlsv_ch_suites(ch, &it);
    while (tlsv_iter_suite(&it, &s))
        if (s == suite)
            return true;
    return false;
}

bool tlsv_ch_find_key_share(const tlsv_client_hello *ch, uint16_t group, tlsv_bytes *key_exchange)
{
    tlsv_iter it;
    uint16_t g;
    tlsv_iter_init(&it, ch->key_shares);
    while (tlsv_iter_key_share(&it, &g, key_exchange))
        if (g == group)
            return true;
    key_exchange->p = NULL;
    key_exchange->n = 0;
    return false;
}

size_t tlsv_ch_offer_view(const tlsv_client_hello *ch, uint16_t *versions, size_t cap,
                          tlsv_offer_view *out)
{
    memset(out, 0, sizeof *out);
    out->legacy_version = ch->legacy_version;
    out->has_supported_versions = tlsv_ext_present(ch->present, TLSV_EXTID_SUPPORTED_VERSIONS);
    out->fallback_scsv = ch->has_fallback_scsv;
    out->sslv2_format = ch->sslv2;
    size_t total = 0, stored = 0;
    if (out->has_supported_versions) {
        tlsv_reader r;
        uint16_t v;
        tlsv_rd_init(&r, ch->supported_versions.p, ch->supported_versions.n);
        while (tlsv_rd_u16(&r, &v)) {
            if (stored < cap)
                versions[stored++] = v;
            total++;
        }
    }
    out->versions = stored ? versions : NULL;
    out->n_versions = stored;
    return total;
}

/* ---- writing -------------------------------------------------------- */

/* Bytes the pre_shared_key extension will take (for padding). */
static size_t psk_ext_len(const tlsv_client_hello_params *p)
{
    if (!p->n_psks)
        return 0;
    size_t n = 4 + 2 + 2; /* type, length, identities length, binders length */
    for (size_t i = 0; i < p->n_psks; i++)
        n += 2 + p->psks[i].identity.n + 4 + 1 + p->psks[i].binder_len;
    return n;
}

static int ch_check_params(const tlsv_client_hello_params *p, tlsv_writer *w, tlsv_error *err)
{
    const char *M = "ClientHello";
    if (!p || !p->random)
        return arg_fail(w, M, err, "random is required");
    if (p->session_id.n > 32)
        return arg_fail(w, M, err, "session_id of %zu bytes (at most 32)", p->session_id.n);
    if (p->n_cipher_suites == 0 && !p->fallback_scsv && !p->empty_renegotiation_info_scsv)
        return arg_fail(w, M, err, "no cipher suite");
    if (p->n_cipher_suites > 32000)
        return arg_fail(w, M, err, "%zu cipher suites", p->n_cipher_suites);
    if (p->n_versions > TLSV_MSG_MAX_VERSIONS - (p->grease ? 1 : 0))
        return arg_fail(w, M, err, "%zu supported_versions entries", p->n_versions);
    if (p->server_name) {
        size_t hl = strlen(p->server_name);
        if (hl == 0 || hl > TLSV_U16_MAX - 5)
            return arg_fail(w, M, err, "server_name of %zu bytes", hl);
    }
    if (!alpn_names_ok(p->alpn, p->n_alpn))
        return arg_fail(w, M, err, "an ALPN protocol name is empty or longer than 255 bytes");
    for (size_t i = 0; i < p->n_key_shares; i++)
        if (p->key_shares[i].key_exchange.n == 0)
            return arg_fail(w, M, err, "key share %zu (group 0x%04x) is empty", i,
                            (unsigned)p->key_shares[i].group);
    if (p->n_psk_modes > TLSV_U8_MAX)
        return arg_fail(w, M, err, "%zu psk_key_exchange_modes", p->n_psk_modes);
    if (p->record_size_limit && p->record_size_limit < 64)
        return arg_fail(w, M, err, "record_size_limit %u is below 64",
                        (unsigned)p->record_size_limit);
    for (size_t i = 0; i < p->n_psks; i++) {
        if (p->psks[i].identity.n == 0 || p->psks[i].identity.n > TLSV_U16_MAX)
            return arg_fail(w, M, err, "PSK identity %zu has %zu bytes", i,
                            p->psks[i].identity.n);
        if (p->psks[i].binder_len < 32 || p->psks[i].binder_len > TLSV_U8_MAX)
            return arg_fail(w, M, err, "PSK binder %zu of %zu bytes (32..255)", i,
                            p->psks[i].binder_len);
    }
    return 0;
}

int tlsv_msg_write_client_hello(tlsv_writer *w, const tlsv_client_hello_params *p,
                                size_t *truncated_len, tlsv_error *err)
{
    if (truncated_len)
        *truncated_len = 0;
    if (ch_check_params(p, w, err))
        return -1;

    uint16_t g_suite = 0, g_ext1 = 0, g_ext2 = 0, g_group = 0, g_version = 0;
    if (p->grease) {
        g_suite = tlsv_grease_value(p->grease_seed[0]);
        g_ext1 = tlsv_grease_value(p->grease_seed[1]);
        g_ext2 = tlsv_grease_value(p->grease_seed[2]);
        if (g_ext2 == g_ext1) /* two extensions of one type would be a duplicate */
            g_ext2 = tlsv_grease_value(p->grease_seed[2] + 1u);
        g_group = tlsv_grease_value(p->grease_seed[3]);
        g_version = tlsv_grease_value(p->grease_seed[4]);
    }

    size_t start = tlsv_wr_len(w);
    tlsv_msg_begin(w, TLSV_HS_CLIENT_HELLO);
    tlsv_wr_u16(w, p->legacy_version);
    tlsv_wr_bytes(w, p->random, 32);
    tlsv_wr_opaque(w, 1, p->session_id.p, p->session_id.n);

    tlsv_wr_vec_open(w, 2);
    if (g_suite)
        tlsv_wr_u16(w, g_suite);
    put_u16s(w, p->cipher_suites, p->n_cipher_suites);
    if (p->fallback_scsv)
        tlsv_wr_u16(w, TLSV_SUITE_FALLBACK_SCSV);
    if (p->empty_renegotiation_info_scsv)
        tlsv_wr_u16(w, TLSV_SUITE_EMPTY_RENEGOTIATION_INFO_SCSV);
    tlsv_wr_vec_close(w);

    tlsv_wr_u8(w, 1); /* legacy_compression_methods: {null} */
    tlsv_wr_u8(w, 0);

    tlsv_wr_vec_open(w, 2); /* extensions */
    if (g_ext1)
        ext_empty(w, g_ext1);
    if (p->server_name) {
        ext_open(w, TLSV_EXT_SERVER_NAME);
        tlsv_wr_vec_open(w, 2);
        tlsv_wr_u8(w, 0); /* host_name */
        tlsv_wr_opaque(w, 2, (const uint8_t *)p->server_name, strlen(p->server_name));
        tlsv_wr_vec_close(w);
        tlsv_wr_vec_close(w);
    }
    if (p->extended_master_secret)
        ext_empty(w, TLSV_EXT_EXTENDED_MASTER_SECRET);
    if (p->renegotiation_info) {
        ext_open(w, TLSV_EXT_RENEGOTIATION_INFO);
        tlsv_wr_u8(w, 0); /* empty renegotiated_connection */
        tlsv_wr_vec_close(w);
    }
    if (p->n_groups)
        ext_u16_list(w, TLSV_EXT_SUPPORTED_GROUPS, g_group, p->groups, p->n_groups);
    if (p->ec_point_formats)
        ext_point_formats(w);
    if (p->session_ticket) {
        ext_open(w, TLSV_EXT_SESSION_TICKET);
        tlsv_wr_bytes(w, p->ticket.p, p->ticket.n);
        tlsv_wr_vec_close(w);
    }
    if (p->n_alpn)
        ext_alpn(w, p->alpn, p->n_alpn);
    if (p->status_request) {
        ext_open(w, TLSV_EXT_STATUS_REQUEST);
        tlsv_wr_u8(w, 1);  /* status_type ocsp */
        tlsv_wr_u16(w, 0); /* responder_id_list */
        tlsv_wr_u16(w, 0); /* request_extensions */
        tlsv_wr_vec_close(w);
    }
    if (p->n_signature_algorithms)
        ext_u16_list(w, TLSV_EXT_SIGNATURE_ALGORITHMS, 0, p->signature_algorithms,
                     p->n_signature_algorithms);
    if (p->key_share || p->n_key_shares) {
        ext_open(w, TLSV_EXT_KEY_SHARE);
        tlsv_wr_vec_open(w, 2);
        if (g_group && !p->second_hello) {
            tlsv_wr_u16(w, g_group);
            tlsv_wr_u16(w, 1);
            tlsv_wr_u8(w, 0);
        }
        for (size_t i = 0; i < p->n_key_shares; i++) {
            tlsv_wr_u16(w, p->key_shares[i].group);
            tlsv_wr_opaque(w, 2, p->key_shares[i].key_exchange.p,
                           p->key_shares[i].key_exchange.n);
        }
        tlsv_wr_vec_close(w);
        tlsv_wr_vec_close(w);
    }
    if (p->n_psk_modes) {
        ext_open(w, TLSV_EXT_PSK_KEY_EXCHANGE_MODES);
        tlsv_wr_opaque(w, 1, p->psk_modes, p->n_psk_modes);
        tlsv_wr_vec_close(w);
    }
    if (p->n_versions) {
        ext_open(w, TLSV_EXT_SUPPORTED_VERSIONS);
        tlsv_wr_vec_open(w, 1);
        if (g_version)
            tlsv_wr_u16(w, g_version);
        put_u16s(w, p->versions, p->n_versions);
        tlsv_wr_vec_close(w);
        tlsv_wr_vec_close(w);
    }
    if (p->cookie.n) {
        ext_open(w, TLSV_EXT_COOKIE);
        tlsv_wr_opaque(w, 2, p->cookie.p, p->cookie.n);
        tlsv_wr_vec_close(w);
    }
    if (p->early_data)
        ext_empty(w, TLSV_EXT_EARLY_DATA);
    if (p->record_size_limit)
        ext_record_size_limit(w, p->record_size_limit);
    if (p->post_handshake_auth)
        ext_empty(w, TLSV_EXT_POST_HANDSHAKE_AUTH);
    if (p->n_signature_algorithms_cert)
        ext_u16_list(w, TLSV_EXT_SIGNATURE_ALGORITHMS_CERT, 0, p->signature_algorithms_cert,
                     p->n_signature_algorithms_cert);
    if (p->encrypt_then_mac)
        ext_empty(w, TLSV_EXT_ENCRYPT_THEN_MAC);
    if (g_ext2) {
        ext_open(w, g_ext2);
        tlsv_wr_u8(w, 0);
        tlsv_wr_vec_close(w);
    }
    if (p->padding && tlsv_wr_ok(w)) {
        /* RFC 7685, for servers that hang on a ClientHello record of
         * 256..511 bytes: grow the message (header included) to 512. The
         * padding data is at least one byte: some servers choke on an
         * empty extension at the end. */
        size_t total = tlsv_wr_len(w) - start + psk_ext_len(p);
        if (total >= 256 && total <= 511) {
            size_t pad = 512 - total;
            pad = pad >= 5 ? pad - 4 : 1;
            uint8_t *zeros;
            ext_open(w, TLSV_EXT_PADDING);
            tlsv_wr_space(w, pad, &zeros); /* tlsv_wr_space zero-fills */
            tlsv_wr_vec_close(w);
        }
    }
    if (p->n_psks) {
        ext_open(w, TLSV_EXT_PRE_SHARED_KEY);
        tlsv_wr_vec_open(w, 2);
        for (size_t i = 0; i < p->n_psks; i++) {
            tlsv_wr_opaque(w, 2, p->psks[i].identity.p, p->psks[i].identity.n);
            tlsv_wr_u32(w, p->psks[i].obfuscated_ticket_age);
        }
        tlsv_wr_vec_close(w);
        if (truncated_len && tlsv_wr_ok(w))
            *truncated_len = tlsv_wr_len(w) - start;
        tlsv_wr_vec_open(w, 2);
        for (size_t i = 0; i < p->n_psks; i++) {
            uint8_t *zeros;
            tlsv_wr_u8(w, (uint32_t)p->psks[i].binder_len);
            tlsv_wr_space(w, p->psks[i].binder_len, &zeros);
        }
        tlsv_wr_vec_close(w);
        tlsv_wr_vec_close(w);
    }
    close_ext_block(w, true);
    tlsv_msg_end(w);
    if (wr_result(w, "ClientHello", err)) {
        if (truncated_len)
            *truncated_len = 0;
        return -1;
    }
    return 0;
}

int tlsv_msg_fill_binders(uint8_t *msg, size_t len, size_t truncated_len,
                          const tlsv_bytes *binders, size_t n, tlsv_error *err)
{
    const char *M = "ClientHello binders";
    tlsv_reader r, list;
    /* Check that msg[truncated_len..len) is exactly a binders list with n
     * entries of the given lengths. */
    tlsv_rd_init(&r, msg, len);
    if (truncated_len > len || !tlsv_rd_skip(&r, truncated_len) ||
        !tlsv_rd_vec(&r, 2, 0, TLSV_U16_MAX, &list) || !tlsv_rd_empty(&r))
        return arg_fail(NULL, M, err, "no binders list at offset %zu of the %zu-byte message",
                        truncated_len, len);
    for (size_t i = 0; i < n; i++) {
        tlsv_reader b;
        if (!tlsv_rd_vec(&list, 1, 0, TLSV_U8_MAX, &b) || tlsv_rd_remaining(&b) != binders[i].n)
            return arg_fail(NULL, M, err, "binder %zu does not match the placeholder written", i);
    }
    if (!tlsv_rd_empty(&list))
        return arg_fail(NULL, M, err, "the message holds more binders than the %zu given", n);
    /* Rewrite the tail in place: the bounds were just checked, so the
     * writer covers exactly the binders list. */
    tlsv_writer w;
    tlsv_wr_init_fixed(&w, msg + truncated_len, len - truncated_len);
    tlsv_wr_vec_open(&w, 2);
    for (size_t i = 0; i < n; i++)
        tlsv_wr_opaque(&w, 1, binders[i].p, binders[i].n);
    tlsv_wr_vec_close(&w);
    return wr_result(&w, M, err);
}

/* ======================================================================
 * 6b. ServerHello / HelloRetryRequest
 * ====================================================================== */

static bool sh_ext(pc *c, const tlsv_ext_info *e, tlsv_reader *d, void *ctx)
{
    tlsv_server_hello *sh = ctx;
    switch (e->id) {
    case TLSV_EXTID_SUPPORTED_VERSIONS:
        return get_u16(c, d, &sh->selected_version, "selected_version");
    case TLSV_EXTID_KEY_SHARE:
        if (sh->is_hello_retry_request)
            return get_u16(c, d, &sh->key_share_group, "selected_group");
        return get_u16(c, d, &sh->key_share_group, "server_share group") &&
               get_opaque(c, d, 2, 1, TLSV_U16_MAX, &sh->key_share, "server_share key_exchange");
    case TLSV_EXTID_PRE_SHARED_KEY:
        return get_u16(c, d, &sh->psk_selected_identity, "selected_identity");
    case TLSV_EXTID_COOKIE:
        return get_opaque(c, d, 2, 1, TLSV_U16_MAX, &sh->cookie, "cookie");
    case TLSV_EXTID_RENEGOTIATION_INFO:
        return get_opaque(c, d, 1, 0, TLSV_U8_MAX, &sh->renegotiation_info,
                          "renegotiated_connection");
    case TLSV_EXTID_EC_POINT_FORMATS:
        if (!get_opaque(c, d, 1, 1, TLSV_U8_MAX, &sh->ec_point_formats, "ec_point_format_list"))
            return false;
        point_formats_rule(c, sh->ec_point_formats);
        return true;
    case TLSV_EXTID_ALPN:
        return parse_alpn(c, d, NULL, &sh->alpn);
    case TLSV_EXTID_RECORD_SIZE_LIMIT:
        return parse_record_size_limit(c, d, &sh->record_size_limit);
    case TLSV_EXTID_SERVER_NAME:
    case TLSV_EXTID_EXTENDED_MASTER_SECRET:
    case TLSV_EXTID_ENCRYPT_THEN_MAC:
    case TLSV_EXTID_SESSION_TICKET:
    case TLSV_EXTID_STATUS_REQUEST:
        return empty_ext(c, d);
    default:
        /* tolerated (SCT, max_fragment_length, supported_groups), or
         * refused below by the form's allowed set */
        return skip_all(d);
    }
}

static bool parse_sh(pc *c, const uint8_t *body, size_t len, tlsv_server_hello *sh)
{
    tlsv_reader r;
    tlsv_bytes random;
    uint8_t compression;
    tlsv_rd_init(&r, body, len);
    if (!get_u16(c, &r, &sh->legacy_version, "legacy_version") ||
        !get_fixed(c, &r, 32, &random, "random"))
        return false;
    memcpy(sh->random, random.p, sizeof sh->random);
    sh->is_hello_retry_request = memcmp(sh->random, tlsv_hrr_random, 32) == 0;
    if (sh->is_hello_retry_request)
        c->msg = "HelloRetryRequest";
    if (!get_opaque(c, &r, 1, 0, 32, &sh->session_id, "legacy_session_id_echo") ||
        !get_u16(c, &r, &sh->cipher_suite, "cipher_suite") ||
        !get_u8(c, &r, &compression, "legacy_compression_method"))
        return false;
    if (compression != 0)
        flag(c, TLSV_MSG_F_ILLEGAL, "legacy_compression_method %u is not null (0)",
             (unsigned)compression);
    if (tlsv_rd_empty(&r))
        return true;
    sh->has_extensions = true;
    if (!ext_block(c, &r, 0, 0, false, sh_ext, sh, &sh->present, &sh->n_extensions))
        return false;
    /* Which form this is decides which extensions it may carry. A
     * supported_versions that selects something below TLS 1.3 does not make
     * a TLS 1.3 ServerHello: the message is judged as the older form, and
     * the extension itself is left to the version policy (RFC 8446 §4.2.1:
     * illegal_parameter, or unsupported_extension if never offered), which
     * says what is wrong instead of blaming the TLS 1.2 extensions. */
    tlsv_ext_where where;
    const char *form;
    uint32_t also = 0;
    if (sh->is_hello_retry_request) {
        where = TLSV_IN_HRR;
        form = "a HelloRetryRequest";
    } else if (tlsv_ext_present(sh->present, TLSV_EXTID_SUPPORTED_VERSIONS) &&
               sh->selected_version >= TLSV_V_TLS13) {
        where = TLSV_IN_SH13;
        form = "a TLS 1.3 ServerHello";
    } else {
        where = TLSV_IN_SH12;
        form = "a TLS 1.2 (or older) ServerHello";
        also = TLSV_EXT_BIT(TLSV_EXTID_SUPPORTED_VERSIONS);
    }
    uint32_t bad = sh->present & ~(tlsv_ext_allowed_mask(where) | also);
    for (unsigned id = 0; bad && id < TLSV_EXTID__COUNT; id++)
        if (bad & TLSV_EXT_BIT(id)) {
            const tlsv_ext_info *e = tlsv_ext_by_id((tlsv_ext_id)id);
            return flag(c, TLSV_MSG_F_BAD_EXTENSION,
                        "extension %s (%u) is not allowed in %s (RFC 8446 §4.2)", e->name,
                        (unsigned)e->type, form);
        }
    return true;
}

int tlsv_msg_parse_server_hello(const uint8_t *body, size_t len, tlsv_server_hello *out,
                                tlsv_error *err)
{
    pc c = PC(err, "ServerHello");
    memset(out, 0, sizeof *out);
    if (finish(&c, parse_sh(&c, body, len, out)))
        return 0;
    memset(out, 0, sizeof *out);
    return -1;
}

void tlsv_sh_version_view(const tlsv_server_hello *sh, tlsv_server_hello_view *out)
{
    out->legacy_version = sh->legacy_version;
    out->has_supported_versions = tlsv_ext_present(sh->present, TLSV_EXTID_SUPPORTED_VERSIONS);
    out->selected_version = sh->selected_version;
    out->random = sh->random;
}

int tlsv_msg_write_server_hello(tlsv_writer *w, const tlsv_server_hello_params *p,
                                tlsv_error *err)
{
    const char *M = "ServerHello";
    if (!p || (!p->random && !p->hello_retry_request))
        return arg_fail(w, M, err, "random is required");
    if (p->session_id.n > 32)
        return arg_fail(w, M, err, "session_id of %zu bytes (at most 32)", p->session_id.n);
    if (p->key_share && !p->hello_retry_request && p->key_share_public.n == 0)
        return arg_fail(w, M, err, "key_share without key_exchange");
    if (p->alpn.n > TLSV_U8_MAX)
        return arg_fail(w, M, err, "ALPN protocol name of %zu bytes", p->alpn.n);
    if (p->renegotiated_connection.n > TLSV_U8_MAX)
        return arg_fail(w, M, err, "renegotiated_connection of %zu bytes",
                        p->renegotiated_connection.n);
    if (p->record_size_limit && p->record_size_limit < 64)
        return arg_fail(w, M, err, "record_size_limit %u is below 64",
                        (unsigned)p->record_size_limit);

    tlsv_msg_begin(w, TLSV_HS_SERVER_HELLO);
    tlsv_wr_u16(w, p->legacy_version);
    tlsv_wr_bytes(w, p->hello_retry_request ? tlsv_hrr_random : p->random, 32);
    tlsv_wr_opaque(w, 1, p->session_id.p, p->session_id.n);
    tlsv_wr_u16(w, p->cipher_suite);
    tlsv_wr_u8(w, 0); /* legacy_compression_method: null */
    tlsv_wr_vec_open(w, 2);
    /* key_share, then supported_versions: the order of RFC 8448's traces. */
    if (p->key_share) {
        ext_open(w, TLSV_EXT_KEY_SHARE);
        tlsv_wr_u16(w, p->key_share_group);
        if (!p->hello_retry_request)
            tlsv_wr_opaque(w, 2, p->key_share_public.p, p->key_share_public.n);
        tlsv_wr_vec_close(w);
    }
    if (p->selected_version) {
        ext_open(w, TLSV_EXT_SUPPORTED_VERSIONS);
        tlsv_wr_u16(w, p->selected_version);
        tlsv_wr_vec_close(w);
    }
    if (p->psk) {
        ext_open(w, TLSV_EXT_PRE_SHARED_KEY);
        tlsv_wr_u16(w, p->psk_identity);
        tlsv_wr_vec_close(w);
    }
    if (p->cookie.n) {
        ext_open(w, TLSV_EXT_COOKIE);
        tlsv_wr_opaque(w, 2, p->cookie.p, p->cookie.n);
        tlsv_wr_vec_close(w);
    }
    if (p->renegotiation_info) {
        ext_open(w, TLSV_EXT_RENEGOTIATION_INFO);
        tlsv_wr_opaque(w, 1, p->renegotiated_connection.p, p->renegotiated_connection.n);
        tlsv_wr_vec_close(w);
    }
    if (p->server_name)
        ext_empty(w, TLSV_EXT_SERVER_NAME);
    if (p->extended_master_secret)
        ext_empty(w, TLSV_EXT_EXTENDED_MASTER_SECRET);
    if (p->encrypt_then_mac)
        ext_empty(w, TLSV_EXT_ENCRYPT_THEN_MAC);
    if (p->ec_point_formats)
        ext_point_formats(w);
    if (p->session_ticket)
        ext_empty(w, TLSV_EXT_SESSION_TICKET);
    if (p->status_request)
        ext_empty(w, TLSV_EXT_STATUS_REQUEST);
    if (p->alpn.n)
        ext_alpn(w, &p->alpn, 1);
    if (p->record_size_limit)
        ext_record_size_limit(w, p->record_size_limit);
    close_ext_block(w, true);
    tlsv_msg_end(w);
    return wr_result(w, p->hello_retry_request ? "HelloRetryRequest" : M, err);
}

/* ======================================================================
 * 6c. EncryptedExtensions
 * ====================================================================== */

static bool ee_ext(pc *c, const tlsv_ext_info *e, tlsv_reader *d, void *ctx)
{
    tlsv_encrypted_extensions *ee = ctx;
    switch (e->id) {
    case TLSV_EXTID_SUPPORTED_GROUPS:
        return get_u16_list(c, d, 2, 2, TLSV_U16_MAX, &ee->supported_groups, "named_group_list");
    case TLSV_EXTID_ALPN:
        return parse_alpn(c, d, NULL, &ee->alpn);
    case TLSV_EXTID_RECORD_SIZE_LIMIT:
        return parse_record_size_limit(c, d, &ee->record_size_limit);
    case TLSV_EXTID_SERVER_NAME:
    case TLSV_EXTID_EARLY_DATA:
        return empty_ext(c, d);
    default: /* max_fragment_length: tolerated */
        return skip_all(d);
    }
}

int tlsv_msg_parse_encrypted_extensions(const uint8_t *body, size_t len,
                                        tlsv_encrypted_extensions *out, tlsv_error *err)
{
    pc c = PC(err, "EncryptedExtensions");
    tlsv_reader r;
    memset(out, 0, sizeof *out);
    tlsv_rd_init(&r, body, len);
    if (finish(&c, ext_block(&c, &r, 0, TLSV_IN_EE, false, ee_ext, out, &out->present,
                             &out->n_extensions)))
        return 0;
    memset(out, 0, sizeof *out);
    return -1;
}

int tlsv_msg_write_encrypted_extensions(tlsv_writer *w,
                                        const tlsv_encrypted_extensions_params *p,
                                        tlsv_error *err)
{
    const char *M = "EncryptedExtensions";
    if (!p)
        return arg_fail(w, M, err, "no parameters");
    if (p->alpn.n > TLSV_U8_MAX)
        return arg_fail(w, M, err, "ALPN protocol name of %zu bytes", p->alpn.n);
    if (p->record_size_limit && p->record_size_limit < 64)
        return arg_fail(w, M, err, "record_size_limit %u is below 64",
                        (unsigned)p->record_size_limit);
    tlsv_msg_begin(w, TLSV_HS_ENCRYPTED_EXTENSIONS);
    tlsv_wr_vec_open(w, 2);
    /* The order of RFC 8448's traces: groups, record_size_limit, server_name. */
    if (p->n_groups)
        ext_u16_list(w, TLSV_EXT_SUPPORTED_GROUPS, 0, p->groups, p->n_groups);
    if (p->record_size_limit)
        ext_record_size_limit(w, p->record_size_limit);
    if (p->server_name)
        ext_empty(w, TLSV_EXT_SERVER_NAME);
    if (p->alpn.n)
        ext_alpn(w, &p->alpn, 1);
    if (p->early_data)
        ext_empty(w, TLSV_EXT_EARLY_DATA);
    tlsv_wr_vec_close(w);
    tlsv_msg_end(w);
    return wr_result(w, M, err);
}

/* ======================================================================
 * 6d. Certificate
 * ====================================================================== */

static bool parse_cert(pc *c, const uint8_t *body, size_t len, uint16_t version,
                       tlsv_certificate *out)
{
    bool t13 = version >= TLSV_V_TLS13;
    tlsv_reader r, list;
    tlsv_rd_init(&r, body, len);
    if (t13 && !get_opaque(c, &r, 1, 0, TLSV_U8_MAX, &out->request_context,
                           "certificate_request_context"))
        return false;
    if (!get_vec(c, &r, 3, 0, TLSV_U24_MAX, &list, "certificate_list"))
        return false;
    const char *msg = c->msg;
    char where[64];
    size_t n = 0;
    tlsv_cert_entry beyond; /* entries past the cap are framed, not kept */
    while (!tlsv_rd_empty(&list)) {
        if (n == TLSV_MSG_MAX_CERTS)
            flag(c, TLSV_MSG_F_TOO_MANY_CERTS, "more than %d certificates in certificate_list",
                 TLSV_MSG_MAX_CERTS);
        tlsv_cert_entry *e = n < TLSV_MSG_MAX_CERTS ? &out->entries[n] : &beyond;
        snprintf(where, sizeof where, "%s (entry %zu)", msg, n);
        c->msg = where;
        if (!get_opaque(c, &list, 3, 1, TLSV_U24_MAX, &e->data, "cert_data"))
            return false;
        if (t13) {
            tlsv_reader exts;
            uint32_t present;
            size_t count;
            if (!get_vec(c, &list, 2, 0, TLSV_U16_MAX, &exts, "extensions"))
                return false;
            e->extensions = rest(&exts);
            if (!walk_extensions(c, &exts, TLSV_IN_CT, false, ext_skip, NULL, &present, &count))
                return false;
        }
        c->msg = msg;
        n++;
    }
    out->n = n < TLSV_MSG_MAX_CERTS ? n : TLSV_MSG_MAX_CERTS;
    return at_end(c, &r, "certificate_list");
}

int tlsv_msg_parse_certificate(const uint8_t *body, size_t len, uint16_t version,
                               tlsv_certificate *out, tlsv_error *err)
{
    pc c = PC(err, "Certificate");
    memset(out, 0, sizeof *out);
    if (finish(&c, parse_cert(&c, body, len, version, out)))
        return 0;
    memset(out, 0, sizeof *out);
    return -1;
}

int tlsv_msg_write_certificate(tlsv_writer *w, uint16_t version, tlsv_bytes context,
                               const tlsv_bytes *certs, size_t n, tlsv_error *err)
{
    const char *M = "Certificate";
    bool t13 = version >= TLSV_V_TLS13;
    if (context.n > (t13 ? TLSV_U8_MAX : 0))
        return arg_fail(w, M, err, "certificate_request_context of %zu bytes", context.n);
    for (size_t i = 0; i < n; i++)
        if (certs[i].n == 0 || certs[i].n > TLSV_U24_MAX)
            return arg_fail(w, M, err, "certificate %zu has %zu bytes", i, certs[i].n);
    tlsv_msg_begin(w, TLSV_HS_CERTIFICATE);
    if (t13)
        tlsv_wr_opaque(w, 1, context.p, context.n);
    tlsv_wr_vec_open(w, 3);
    for (size_t i = 0; i < n; i++) {
        tlsv_wr_opaque(w, 3, certs[i].p, certs[i].n);
        if (t13)
            tlsv_wr_u16(w, 0); /* no entry extensions */
    }
    tlsv_wr_vec_close(w);
    tlsv_msg_end(w);
    return wr_result(w, M, err);
}

/* ======================================================================
 * 6e. CertificateRequest
 * ====================================================================== */

/* OIDFilterExtension filters<0..2^16-1>: {oid<1..255>, values<0..2^16-1>}. */
static bool parse_oid_filters(pc *c, tlsv_reader *d, tlsv_bytes *out)
{
    tlsv_reader list;
    if (!get_vec(c, d, 2, 0, TLSV_U16_MAX, &list, "filters"))
        return false;
    *out = rest(&list);
    while (!tlsv_rd_empty(&list)) {
        tlsv_bytes oid, values;
        if (!get_opaque(c, &list, 1, 1, TLSV_U8_MAX, &oid, "certificate_extension_oid") ||
            !get_opaque(c, &list, 2, 0, TLSV_U16_MAX, &values, "certificate_extension_values"))
            return false;
    }
    return true;
}

static bool cr_ext(pc *c, const tlsv_ext_info *e, tlsv_reader *d, void *ctx)
{
    tlsv_certificate_request *cr = ctx;
    switch (e->id) {
    case TLSV_EXTID_SIGNATURE_ALGORITHMS:
        return get_u16_list(c, d, 2, 2, 0xfffe, &cr->signature_algorithms,
                            "supported_signature_algorithms");
    case TLSV_EXTID_SIGNATURE_ALGORITHMS_CERT:
        return get_u16_list(c, d, 2, 2, 0xfffe, &cr->signature_algorithms_cert,
                            "supported_signature_algorithms");
    case TLSV_EXTID_CERTIFICATE_AUTHORITIES:
        return parse_dn_list(c, d, 3, &cr->certificate_authorities, "authorities");
    case TLSV_EXTID_OID_FILTERS:
        return parse_oid_filters(c, d, &cr->oid_filters);
    default: /* status_request, SCT: tolerated */
        return skip_all(d);
    }
}

static bool parse_cr(pc *c, const uint8_t *body, size_t len, uint16_t version,
                     tlsv_certificate_request *cr)
{
    tlsv_reader r;
    tlsv_rd_init(&r, body, len);
    if (version >= TLSV_V_TLS13) {
        if (!get_opaque(c, &r, 1, 0, TLSV_U8_MAX, &cr->context, "certificate_request_context") ||
            !ext_block(c, &r, 2, TLSV_IN_CR, false, cr_ext, cr, &cr->present, &cr->n_extensions))
            return false;
        if (!tlsv_ext_present(cr->present, TLSV_EXTID_SIGNATURE_ALGORITHMS))
            flag(c, TLSV_MSG_F_MISSING_EXTENSION,
                 "no signature_algorithms extension (RFC 8446 §4.3.2)");
        return true;
    }
    if (!get_opaque(c, &r, 1, 1, TLSV_U8_MAX, &cr->certificate_types, "certificate_types"))
        return false;
    if (version >= TLSV_V_TLS12 &&
        !get_u16_list(c, &r, 2, 2, 0xfffe, &cr->signature_algorithms,
                      "supported_signature_algorithms"))
        return false;
    return parse_dn_list(c, &r, 0, &cr->certificate_authorities, "certificate_authorities") &&
           at_end(c, &r, "certificate_authorities");
}

int tlsv_msg_parse_certificate_request(const uint8_t *body, size_t len, uint16_t version,
                                       tlsv_certificate_request *out, tlsv_error *err)
{
    pc c = PC(err, "CertificateRequest");
    memset(out, 0, sizeof *out);
    if (finish(&c, parse_cr(&c, body, len, version, out)))
        return 0;
    memset(out, 0, sizeof *out);
    return -1;
}

static void put_dn_list(tlsv_writer *w, const tlsv_bytes *dns, size_t n)
{
    tlsv_wr_vec_open(w, 2);
    for (size_t i = 0; i < n; i++)
        tlsv_wr_opaque(w, 2, dns[i].p, dns[i].n);
    tlsv_wr_vec_close(w);
}

int tlsv_msg_write_certificate_request(tlsv_writer *w, const tlsv_certificate_request_params *p,
                                       tlsv_error *err)
{
    const char *M = "CertificateRequest";
    if (!p)
        return arg_fail(w, M, err, "no parameters");
    bool t13 = p->version >= TLSV_V_TLS13;
    if (p->version >= TLSV_V_TLS12 && p->n_signature_algorithms == 0)
        return arg_fail(w, M, err, "signature_algorithms are required");
    if (!t13 && (p->n_certificate_types == 0 || p->n_certificate_types > TLSV_U8_MAX))
        return arg_fail(w, M, err, "%zu certificate_types (1..255)", p->n_certificate_types);
    if (p->context.n > (t13 ? TLSV_U8_MAX : 0))
        return arg_fail(w, M, err, "certificate_request_context of %zu bytes", p->context.n);
    for (size_t i = 0; i < p->n_authorities; i++)
        if (p->authorities[i].n == 0)
            return arg_fail(w, M, err, "authority %zu is empty", i);

    tlsv_msg_begin(w, TLSV_HS_CERTIFICATE_REQUEST);
    if (t13) {
        tlsv_wr_opaque(w, 1, p->context.p, p->context.n);
        tlsv_wr_vec_open(w, 2);
        ext_u16_list(w, TLSV_EXT_SIGNATURE_ALGORITHMS, 0, p->signature_algorithms,
                     p->n_signature_algorithms);
        if (p->n_signature_algorithms_cert)
            ext_u16_list(w, TLSV_EXT_SIGNATURE_ALGORITHMS_CERT, 0, p->signature_algorithms_cert,
                         p->n_signature_algorithms_cert);
        if (p->n_authorities) {
            ext_open(w, TLSV_EXT_CERTIFICATE_AUTHORITIES);
            put_dn_list(w, p->authorities, p->n_authorities);
            tlsv_wr_vec_close(w);
        }
        tlsv_wr_vec_close(w);
    } else {
        tlsv_wr_opaque(w, 1, p->certificate_types, p->n_certificate_types);
        if (p->version >= TLSV_V_TLS12) {
            tlsv_wr_vec_open(w, 2);
            put_u16s(w, p->signature_algorithms, p->n_signature_algorithms);
            tlsv_wr_vec_close(w);
        }
        put_dn_list(w, p->authorities, p->n_authorities);
    }
    tlsv_msg_end(w);
    return wr_result(w, M, err);
}

/* ======================================================================
 * 6f. CertificateVerify, Finished, KeyUpdate, empty messages
 * ====================================================================== */

int tlsv_msg_parse_certificate_verify(const uint8_t *body, size_t len, uint16_t version,
                                      tlsv_certificate_verify *out, tlsv_error *err)
{
    pc c = PC(err, "CertificateVerify");
    tlsv_reader r;
    memset(out, 0, sizeof *out);
    tlsv_rd_init(&r, body, len);
    out->has_scheme = version >= TLSV_V_TLS12;
    if ((!out->has_scheme || get_u16(&c, &r, &out->scheme, "algorithm")) &&
        get_opaque(&c, &r, 2, 0, TLSV_U16_MAX, &out->signature, "signature") &&
        at_end(&c, &r, "the signature"))
        return 0;
    memset(out, 0, sizeof *out);
    return -1;
}

int tlsv_msg_write_certificate_verify(tlsv_writer *w, uint16_t version, uint16_t scheme,
                                      tlsv_bytes signature, tlsv_error *err)
{
    tlsv_msg_begin(w, TLSV_HS_CERTIFICATE_VERIFY);
    if (version >= TLSV_V_TLS12)
        tlsv_wr_u16(w, scheme);
    tlsv_wr_opaque(w, 2, signature.p, signature.n);
    tlsv_msg_end(w);
    return wr_result(w, "CertificateVerify", err);
}

int tlsv_msg_parse_finished(const uint8_t *body, size_t len, size_t verify_len,
                            tlsv_bytes *verify_data, tlsv_error *err)
{
    pc c = PC(err, "Finished");
    verify_data->p = NULL;
    verify_data->n = 0;
    if (len != verify_len) {
        failf(&c, TLSV_MSG_F_DECODE, "verify_data has %zu bytes, %zu expected", len,
              verify_len);
        return -1;
    }
    verify_data->p = body;
    verify_data->n = len;
    return 0;
}

int tlsv_msg_write_finished(tlsv_writer *w, tlsv_bytes verify_data, tlsv_error *err)
{
    tlsv_msg_begin(w, TLSV_HS_FINISHED);
    tlsv_wr_bytes(w, verify_data.p, verify_data.n);
    tlsv_msg_end(w);
    return wr_result(w, "Finished", err);
}

int tlsv_msg_parse_key_update(const uint8_t *body, size_t len, bool *request_update,
                              tlsv_error *err)
{
    pc c = PC(err, "KeyUpdate");
    tlsv_reader r;
    uint8_t v;
    *request_update = false;
    tlsv_rd_init(&r, body, len);
    if (!get_u8(&c, &r, &v, "request_update") || !at_end(&c, &r, "request_update"))
        return -1;
    if (v > 1) {
        failf(&c, TLSV_MSG_F_ILLEGAL,
              "request_update %u is neither update_not_requested (0) nor update_requested (1)",
              (unsigned)v);
        return -1;
    }
    *request_update = v == 1;
    return 0;
}

int tlsv_msg_write_key_update(tlsv_writer *w, bool request_update, tlsv_error *err)
{
    tlsv_msg_begin(w, TLSV_HS_KEY_UPDATE);
    tlsv_wr_u8(w, request_update ? 1 : 0);
    tlsv_msg_end(w);
    return wr_result(w, "KeyUpdate", err);
}

int tlsv_msg_parse_empty(const uint8_t *body, size_t len, uint8_t type, tlsv_error *err)
{
    (void)body;
    if (len == 0)
        return 0;
    pc c = PC(err, tlsv_hs_type_name(type));
    failf(&c, TLSV_MSG_F_DECODE, "the body must be empty, has %zu byte%s", len, plural(len));
    return -1;
}

int tlsv_msg_write_empty(tlsv_writer *w, uint8_t type, tlsv_error *err)
{
    tlsv_msg_begin(w, type);
    tlsv_msg_end(w);
    return wr_result(w, tlsv_hs_type_name(type), err);
}

int tlsv_msg_write_message_hash(tlsv_writer *w, tlsv_bytes hash, tlsv_error *err)
{
    tlsv_msg_begin(w, TLSV_HS_MESSAGE_HASH);
    tlsv_wr_bytes(w, hash.p, hash.n);
    tlsv_msg_end(w);
    return wr_result(w, "message_hash", err);
}

/* ======================================================================
 * 6g. NewSessionTicket
 * ====================================================================== */

static bool nst_ext(pc *c, const tlsv_ext_info *e, tlsv_reader *d, void *ctx)
{
    tlsv_new_session_ticket *t = ctx;
    if (e->id == TLSV_EXTID_EARLY_DATA)
        return get_u32(c, d, &t->max_early_data_size, "max_early_data_size");
    return skip_all(d);
}

static bool parse_nst(pc *c, const uint8_t *body, size_t len, uint16_t version,
                      tlsv_new_session_ticket *t)
{
    tlsv_reader r;
    tlsv_rd_init(&r, body, len);
    if (version < TLSV_V_TLS13)
        return get_u32(c, &r, &t->lifetime, "ticket_lifetime_hint") &&
               get_opaque(c, &r, 2, 0, TLSV_U16_MAX, &t->ticket, "ticket") &&
               at_end(c, &r, "the ticket");
    return get_u32(c, &r, &t->lifetime, "ticket_lifetime") &&
           get_u32(c, &r, &t->age_add, "ticket_age_add") &&
           get_opaque(c, &r, 1, 0, TLSV_U8_MAX, &t->nonce, "ticket_nonce") &&
           get_opaque(c, &r, 2, 1, TLSV_U16_MAX, &t->ticket, "ticket") &&
           ext_block(c, &r, 0, TLSV_IN_NST, false, nst_ext, t, &t->present, &t->n_extensions);
}

int tlsv_msg_parse_new_session_ticket(const uint8_t *body, size_t len, uint16_t version,
                                      tlsv_new_session_ticket *out, tlsv_error *err)
{
    pc c = PC(err, "NewSessionTicket");
    memset(out, 0, sizeof *out);
    if (finish(&c, parse_nst(&c, body, len, version, out)))
        return 0;
    memset(out, 0, sizeof *out);
    return -1;
}

int tlsv_msg_write_new_session_ticket(tlsv_writer *w, const tlsv_new_session_ticket_params *p,
                                      tlsv_error *err)
{
    const char *M = "NewSessionTicket";
    if (!p)
        return arg_fail(w, M, err, "no parameters");
    bool t13 = p->version >= TLSV_V_TLS13;
    if (t13 && (p->ticket.n == 0 || p->nonce.n > TLSV_U8_MAX))
        return arg_fail(w, M, err, "ticket of %zu bytes (1..65535), nonce of %zu (0..255)",
                        p->ticket.n, p->nonce.n);
    tlsv_msg_begin(w, TLSV_HS_NEW_SESSION_TICKET);
    tlsv_wr_u32(w, p->lifetime);
    if (t13) {
        tlsv_wr_u32(w, p->age_add);
        tlsv_wr_opaque(w, 1, p->nonce.p, p->nonce.n);
    }
    tlsv_wr_opaque(w, 2, p->ticket.p, p->ticket.n);
    if (t13) {
        tlsv_wr_vec_open(w, 2);
        if (p->early_data) {
            ext_open(w, TLSV_EXT_EARLY_DATA);
            tlsv_wr_u32(w, p->max_early_data_size);
            tlsv_wr_vec_close(w);
        }
        tlsv_wr_vec_close(w);
    }
    tlsv_msg_end(w);
    return wr_result(w, M, err);
}

/* ======================================================================
 * 6h. TLS 1.0-1.2 key exchange
 * ====================================================================== */

static bool parse_ske(pc *c, const uint8_t *body, size_t len, uint16_t version,
                      tlsv_server_key_exchange *s)
{
    tlsv_reader r, mark;
    uint8_t curve_type;
    tlsv_rd_init(&r, body, len);
    mark = r;
    if (!get_u8(c, &r, &curve_type, "curve_type"))
        return false;
    if (curve_type != TLSV_EC_CURVE_TYPE_NAMED)
        return failf(c, TLSV_MSG_F_ILLEGAL, "curve_type %u is not named_curve (3)",
                     (unsigned)curve_type);
    if (!get_u16(c, &r, &s->named_group, "namedcurve") ||
        !get_opaque(c, &r, 1, 1, TLSV_U8_MAX, &s->public_key, "public"))
        return false;
    tlsv_rd_since(&mark, &r, &s->params.p, &s->params.n);
    s->has_scheme = version >= TLSV_V_TLS12;
    return (!s->has_scheme || get_u16(c, &r, &s->scheme, "signature algorithm")) &&
           get_opaque(c, &r, 2, 0, TLSV_U16_MAX, &s->signature, "signature") &&
           at_end(c, &r, "the signature");
}

int tlsv_msg_parse_server_key_exchange_ecdhe(const uint8_t *body, size_t len, uint16_t version,
                                             tlsv_server_key_exchange *out, tlsv_error *err)
{
    pc c = PC(err, "ServerKeyExchange");
    memset(out, 0, sizeof *out);
    if (finish(&c, parse_ske(&c, body, len, version, out)))
        return 0;
    memset(out, 0, sizeof *out);
    return -1;
}

static void put_ecdh_params(tlsv_writer *w, uint16_t group, tlsv_bytes public_key)
{
    tlsv_wr_u8(w, TLSV_EC_CURVE_TYPE_NAMED);
    tlsv_wr_u16(w, group);
    tlsv_wr_opaque(w, 1, public_key.p, public_key.n);
}

int tlsv_msg_write_ecdh_params(tlsv_writer *w, uint16_t group, tlsv_bytes public_key,
                               tlsv_error *err)
{
    if (public_key.n == 0 || public_key.n > TLSV_U8_MAX)
        return arg_fail(w, "ServerECDHParams", err, "public key of %zu bytes (1..255)",
                        public_key.n);
    put_ecdh_params(w, group, public_key);
    return wr_result(w, "ServerECDHParams", err);
}

int tlsv_msg_write_server_key_exchange_ecdhe(tlsv_writer *w, uint16_t version, uint16_t group,
                                             tlsv_bytes public_key, uint16_t scheme,
                                             tlsv_bytes signature, tlsv_error *err)
{
    const char *M = "ServerKeyExchange";
    if (public_key.n == 0 || public_key.n > TLSV_U8_MAX)
        return arg_fail(w, M, err, "public key of %zu bytes (1..255)", public_key.n);
    tlsv_msg_begin(w, TLSV_HS_SERVER_KEY_EXCHANGE);
    put_ecdh_params(w, group, public_key);
    if (version >= TLSV_V_TLS12)
        tlsv_wr_u16(w, scheme);
    tlsv_wr_opaque(w, 2, signature.p, signature.n);
    tlsv_msg_end(w);
    return wr_result(w, M, err);
}

int tlsv_msg_parse_client_key_exchange_ecdhe(const uint8_t *body, size_t len,
                                             tlsv_bytes *public_key, tlsv_error *err)
{
    pc c = PC(err, "ClientKeyExchange");
    tlsv_reader r;
    tlsv_rd_init(&r, body, len);
    if (get_opaque(&c, &r, 1, 1, TLSV_U8_MAX, public_key, "ecdh_Yc") &&
        at_end(&c, &r, "ecdh_Yc"))
        return 0;
    public_key->p = NULL;
    public_key->n = 0;
    return -1;
}

int tlsv_msg_write_client_key_exchange_ecdhe(tlsv_writer *w, tlsv_bytes public_key,
                                             tlsv_error *err)
{
    if (public_key.n == 0 || public_key.n > TLSV_U8_MAX)
        return arg_fail(w, "ClientKeyExchange", err, "public key of %zu bytes (1..255)",
                        public_key.n);
    tlsv_msg_begin(w, TLSV_HS_CLIENT_KEY_EXCHANGE);
    tlsv_wr_opaque(w, 1, public_key.p, public_key.n);
    tlsv_msg_end(w);
    return wr_result(w, "ClientKeyExchange", err);
}

int tlsv_msg_parse_client_key_exchange_rsa(const uint8_t *body, size_t len, uint16_t version,
                                           tlsv_bytes *encrypted_pms, tlsv_error *err)
{
    pc c = PC(err, "ClientKeyExchange");
    tlsv_reader r;
    tlsv_rd_init(&r, body, len);
    if (version <= TLSV_V_SSL3) { /* SSL 3.0: the bare ciphertext */
        encrypted_pms->p = body;
        encrypted_pms->n = len;
        return 0;
    }
    if (get_opaque(&c, &r, 2, 0, TLSV_U16_MAX, encrypted_pms, "EncryptedPreMasterSecret") &&
        at_end(&c, &r, "EncryptedPreMasterSecret"))
        return 0;
    encrypted_pms->p = NULL;
    encrypted_pms->n = 0;
    return -1;
}

int tlsv_msg_write_client_key_exchange_rsa(tlsv_writer *w, uint16_t version,
                                           tlsv_bytes encrypted_pms, tlsv_error *err)
{
    tlsv_msg_begin(w, TLSV_HS_CLIENT_KEY_EXCHANGE);
    if (version <= TLSV_V_SSL3)
        tlsv_wr_bytes(w, encrypted_pms.p, encrypted_pms.n);
    else
        tlsv_wr_opaque(w, 2, encrypted_pms.p, encrypted_pms.n);
    tlsv_msg_end(w);
    return wr_result(w, "ClientKeyExchange", err);
}
