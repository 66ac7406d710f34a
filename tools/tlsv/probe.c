/*
 * probe.c -- `tlsv probe HOST:PORT [--json] [--servername NAME]` (SPEC §3):
 * what a server accepts, version by version, and how it protects against
 * downgrades.
 *
 *   TLS 1.0 .. 1.3  one handshake each with the library (a TLS_CLIENT
 *                   context, minimum = maximum = that version, no
 *                   verification): accepted or not, the suite and group the
 *                   server picks, the error when it refuses. A failure that
 *                   is not a clean protocol_version refusal (no shared suite,
 *                   something tlsv itself cannot complete) is re-checked with
 *                   a hand-built ClientHello offering many more suites: the
 *                   version counts as accepted if a ServerHello for it comes
 *                   back.
 *   SSL 3.0         a hand-built SSL 3.0 ClientHello (RFC 6101), detection
 *                   only, whatever the build option says.
 *   SSL 2.0         a hand-built SSL 2.0 CLIENT-HELLO (RFC 6176 appendix /
 *                   the SSL 2.0 draft), detection only.
 *   downgrade sentinel  (RFC 8446 §4.1.3) hand-built ClientHellos without
 *                   supported_versions, capped at TLS 1.2 (for a server that
 *                   accepts 1.3: DOWNGRD\x01 expected) and at the highest
 *                   version below 1.2 it accepts (for a server that accepts
 *                   1.2 or 1.3: DOWNGRD\x00 expected); the ServerHello.random
 *                   is read here because the API does not expose it.
 *   fallback SCSV   (RFC 7507) a handshake at the highest version below the
 *                   server's best, with TLS_FALLBACK_SCSV: honoured if the
 *                   server answers inappropriate_fallback.
 *   version tolerance  (RFC 8446 §4.2.1, RFC 8701) a ClientHello offering
 *                   supported_versions {GREASE, 0x0305, TLS 1.3 .. 1.0} with
 *                   a GREASE suite, group, key share, signature scheme and
 *                   two GREASE extensions: tolerant if a ServerHello (or a
 *                   HelloRetryRequest) comes back.
 *
 * Hand-built hellos carry an X25519 key share of random bytes: the probe never
 * completes those handshakes. Every socket operation is bounded (connect 5 s,
 * a handshake or an answer 10 s).
 *
 * Output: a table and a verdict on stdout (or with --json one object, SPEC
 * §3); a progress line on stderr, rewritten in place on a terminal.
 * Exit status: 0 the probe ran and the server accepts some SSL/TLS version
 * (whatever the verdict), 1 the server cannot be reached or accepts no
 * version at all (the report still says what each hello got), 2 bad usage.
 */
#define TLSV_SILENCE_DEPRECATION /* the probe names the old versions on purpose */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "tool.h"

#define CONNECT_TIMEOUT_MS 5000
#define HANDSHAKE_TIMEOUT_MS 10000

#define V_SSL2 0x0002
#define V_SSL3 0x0300
#define V_TLS10 0x0301
#define V_TLS11 0x0302
#define V_TLS12 0x0303
#define V_TLS13 0x0304

/* the groups the library is asked to offer (its key share goes to the first) */
#define LIB_GROUPS "x25519:P-256:P-384:x448:P-521"
/* TLS 1.2 AEAD suites tlsv implements, to tell "CBC preferred" from "CBC only" */
#define LIB_AEAD12                                                                         \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                           \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                           \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:AES128-GCM-SHA256:"         \
    "AES256-GCM-SHA384"

/* record and message limits of the hand-built exchanges */
#define MAX_RECORD (16384 + 2048)
#define MAX_FLIGHT 65536

/* ---------------------------------------------------------------------- */
/* names                                                                  */
/* ---------------------------------------------------------------------- */

enum kx { KX_RSA, KX_DHE, KX_ECDHE, KX_TLS13 };

/* The suites the hand-built hellos offer, in that order (OpenSSL's names,
 * as tlsv_conn_cipher() reports them). */
static const struct suite {
    uint16_t id;
    const char *name;
    enum kx kx;
    int aead;
    int minv, maxv;
} suites[] = {
    {0x1301, "TLS_AES_128_GCM_SHA256", KX_TLS13, 1, V_TLS13, V_TLS13},
    {0x1302, "TLS_AES_256_GCM_SHA384", KX_TLS13, 1, V_TLS13, V_TLS13},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", KX_TLS13, 1, V_TLS13, V_TLS13},
    {0x1304, "TLS_AES_128_CCM_SHA256", KX_TLS13, 1, V_TLS13, V_TLS13},
    {0xc02b, "ECDHE-ECDSA-AES128-GCM-SHA256", KX_ECDHE, 1, V_TLS12, V_TLS12},
    {0xc02f, "ECDHE-RSA-AES128-GCM-SHA256", KX_ECDHE, 1, V_TLS12, V_TLS12},
    {0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384", KX_ECDHE, 1, V_TLS12, V_TLS12},
    {0xc030, "ECDHE-RSA-AES256-GCM-SHA384", KX_ECDHE, 1, V_TLS12, V_TLS12},
    {0xcca9, "ECDHE-ECDSA-CHACHA20-POLY1305", KX_ECDHE, 1, V_TLS12, V_TLS12},
    {0xcca8, "ECDHE-RSA-CHACHA20-POLY1305", KX_ECDHE, 1, V_TLS12, V_TLS12},
    {0x009e, "DHE-RSA-AES128-GCM-SHA256", KX_DHE, 1, V_TLS12, V_TLS12},
    {0x009f, "DHE-RSA-AES256-GCM-SHA384", KX_DHE, 1, V_TLS12, V_TLS12},
    {0xccaa, "DHE-RSA-CHACHA20-POLY1305", KX_DHE, 1, V_TLS12, V_TLS12},
    {0x009c, "AES128-GCM-SHA256", KX_RSA, 1, V_TLS12, V_TLS12},
    {0x009d, "AES256-GCM-SHA384", KX_RSA, 1, V_TLS12, V_TLS12},
    {0xc023, "ECDHE-ECDSA-AES128-SHA256", KX_ECDHE, 0, V_TLS12, V_TLS12},
    {0xc027, "ECDHE-RSA-AES128-SHA256", KX_ECDHE, 0, V_TLS12, V_TLS12},
    {0xc024, "ECDHE-ECDSA-AES256-SHA384", KX_ECDHE, 0, V_TLS12, V_TLS12},
    {0xc028, "ECDHE-RSA-AES256-SHA384", KX_ECDHE, 0, V_TLS12, V_TLS12},
    {0x0067, "DHE-RSA-AES128-SHA256", KX_DHE, 0, V_TLS12, V_TLS12},
    {0x006b, "DHE-RSA-AES256-SHA256", KX_DHE, 0, V_TLS12, V_TLS12},
    {0x003c, "AES128-SHA256", KX_RSA, 0, V_TLS12, V_TLS12},
    {0x003d, "AES256-SHA256", KX_RSA, 0, V_TLS12, V_TLS12},
    {0xc009, "ECDHE-ECDSA-AES128-SHA", KX_ECDHE, 0, V_TLS10, V_TLS12},
    {0xc013, "ECDHE-RSA-AES128-SHA", KX_ECDHE, 0, V_TLS10, V_TLS12},
    {0xc00a, "ECDHE-ECDSA-AES256-SHA", KX_ECDHE, 0, V_TLS10, V_TLS12},
    {0xc014, "ECDHE-RSA-AES256-SHA", KX_ECDHE, 0, V_TLS10, V_TLS12},
    {0x0033, "DHE-RSA-AES128-SHA", KX_DHE, 0, V_SSL3, V_TLS12},
    {0x0039, "DHE-RSA-AES256-SHA", KX_DHE, 0, V_SSL3, V_TLS12},
    {0x002f, "AES128-SHA", KX_RSA, 0, V_SSL3, V_TLS12},
    {0x0035, "AES256-SHA", KX_RSA, 0, V_SSL3, V_TLS12},
    {0x0016, "DHE-RSA-DES-CBC3-SHA", KX_DHE, 0, V_SSL3, V_TLS12},
    {0x000a, "DES-CBC3-SHA", KX_RSA, 0, V_SSL3, V_TLS12},
    {0x0005, "RC4-SHA", KX_RSA, 0, V_SSL3, V_TLS12},
    {0x0004, "RC4-MD5", KX_RSA, 0, V_SSL3, V_TLS12},
};
#define N_SUITES (sizeof suites / sizeof suites[0])

static const struct suite *suite_by_id(unsigned id)
{
    for (size_t i = 0; i < N_SUITES; i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}

/* SSL 2.0 cipher kinds (3 bytes each). */
static const struct {
    uint32_t id;
    const char *name;
} ssl2_ciphers[] = {
    {0x0700c0, "DES-CBC3-MD5"},    {0x010080, "RC4-MD5"},        {0x030080, "RC2-CBC-MD5"},
    {0x050080, "IDEA-CBC-MD5"},    {0x060040, "DES-CBC-MD5"},    {0x020080, "EXP-RC4-MD5"},
    {0x040080, "EXP-RC2-CBC-MD5"},
};
#define N_SSL2 (sizeof ssl2_ciphers / sizeof ssl2_ciphers[0])

static const struct {
    uint16_t id;
    const char *name;
} groups[] = {
    {0x001d, "x25519"},    {0x0017, "P-256"},     {0x0018, "P-384"},     {0x0019, "P-521"},
    {0x001e, "x448"},      {0x0100, "ffdhe2048"}, {0x0101, "ffdhe3072"}, {0x0102, "ffdhe4096"},
};
#define N_GROUPS (sizeof groups / sizeof groups[0])

static void group_text(unsigned id, char *buf, size_t len)
{
    for (size_t i = 0; i < N_GROUPS; i++)
        if (groups[i].id == id) {
            snprintf(buf, len, "%s", groups[i].name);
            return;
        }
    snprintf(buf, len, "0x%04x", id);
}

static void suite_text(unsigned id, char *buf, size_t len)
{
    const struct suite *s = suite_by_id(id);
    if (s)
        snprintf(buf, len, "%s", s->name);
    else
        snprintf(buf, len, "0x%04x", id);
}

static const char *version_text(int v)
{
    /* "?" for anything but the six probed versions */
    switch (v) {
    case V_SSL2: return "SSLv2";
    case V_SSL3: return "SSLv3";
    case V_TLS10: return "TLSv1";
    case V_TLS11: return "TLSv1.1";
    case V_TLS12: return "TLSv1.2";
    case V_TLS13: return "TLSv1.3";
    default: return "?";
    }
}

/* A version for a sentence: "TLSv1.2", or "0x7f1c". */
static const char *version_or_hex(int v, char *buf, size_t len)
{
    const char *t = version_text(v);
    if (strcmp(t, "?") != 0)
        return t;
    snprintf(buf, len, "0x%04x", (unsigned)v);
    return buf;
}

static int is_aead_name(const char *cipher)
{
    return cipher && (strstr(cipher, "GCM") || strstr(cipher, "CHACHA20") || strstr(cipher, "CCM"));
}

/* ---------------------------------------------------------------------- */
/* randomness and GREASE                                                  */
/* ---------------------------------------------------------------------- */

static void random_bytes(uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        got += (size_t)r;
    }
    if (got < n) {
        /* no getrandom(): these bytes protect nothing (the probe never
         * completes the handshakes it builds by hand) */
        unsigned long x = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16);
        for (; got < n; got++) {
            x = x * 6364136223846793005UL + 1442695040888963407UL;
            p[got] = (uint8_t)(x >> 33);
        }
    }
}

/* RFC 8701 §2: 0x0a0a, 0x1a1a, ... 0xfafa. grease(k): the k-th value after a
 * random start, so the slots of one hello get different values. */
static unsigned grease_base;

static unsigned grease(unsigned k)
{
    unsigned n = (grease_base + k) & 0xf;
    return (n << 12) | 0x0a00 | (n << 4) | 0x0a;
}

/* ---------------------------------------------------------------------- */
/* a bounded writer and reader                                            */
/* ---------------------------------------------------------------------- */

struct wb {
    uint8_t *p;
    size_t cap, len;
    int bad;
};

static void w8(struct wb *w, unsigned v)
{
    if (w->bad || w->len >= w->cap) {
        w->bad = 1;
        return;
    }
    w->p[w->len++] = (uint8_t)v;
}

static void w16(struct wb *w, unsigned v)
{
    w8(w, v >> 8);
    w8(w, v & 0xff);
}

static void wbytes(struct wb *w, const void *d, size_t n)
{
    if (w->bad || n > w->cap - w->len) {
        w->bad = 1;
        return;
    }
    memcpy(w->p + w->len, d, n);
    w->len += n;
}

/* Opens a length field of `width` bytes; wclose() fills it in. */
static size_t wopen(struct wb *w, int width)
{
    size_t at = w->len;
    for (int i = 0; i < width; i++)
        w8(w, 0);
    return at;
}

static void wclose(struct wb *w, size_t at, int width)
{
    if (w->bad)
        return;
    size_t n = w->len - at - (size_t)width;
    if ((width == 1 && n > 0xff) || (width == 2 && n > 0xffff) || (width == 3 && n > 0xffffff)) {
        w->bad = 1;
        return;
    }
    for (int i = width - 1; i >= 0; i--) {
        w->p[at + (size_t)i] = (uint8_t)(n & 0xff);
        n >>= 8;
    }
}

struct rd {
    const uint8_t *p;
    size_t len, pos;
    int bad;
};

static unsigned rn(struct rd *r, int width)
{
    if (r->bad || r->len - r->pos < (size_t)width) {
        r->bad = 1;
        return 0;
    }
    unsigned v = 0;
    for (int i = 0; i < width; i++)
        v = (v << 8) | r->p[r->pos++];
    return v;
}

static const uint8_t *rbytes(struct rd *r, size_t n)
{
    if (r->bad || r->len - r->pos < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *at = r->p + r->pos;
    r->pos += n;
    return at;
}

/* ---------------------------------------------------------------------- */
/* the probe's state                                                      */
/* ---------------------------------------------------------------------- */

enum { I_SSL2, I_SSL3, I_TLS10, I_TLS11, I_TLS12, I_TLS13, N_VERSIONS };

static const int version_of[N_VERSIONS] = {V_SSL2, V_SSL3, V_TLS10, V_TLS11, V_TLS12, V_TLS13};
static const char *const version_names[N_VERSIONS] = {"SSLv2",   "SSLv3",   "TLSv1",
                                                      "TLSv1.1", "TLSv1.2", "TLSv1.3"};

/* The name of a probed version by index. */
static const char *vname(int idx)
{
    return idx >= 0 && idx < N_VERSIONS ? version_names[idx] : "?";
}

struct vresult {
    int tested;
    int accepted;
    int completed;        /* tlsv completed the handshake (not only a ServerHello seen) */
    char cipher[64];      /* "" = none */
    char group[32];
    int aead_available;   /* TLS 1.2: 1 an AEAD suite is accepted, 0 CBC only, -1 unknown */
    /* why not accepted (or why tlsv could not complete it) */
    char error[48];       /* a reason name, or "" */
    char alert[40];       /* an alert name, or "" */
    const char *side;     /* "local", "remote" or NULL */
    char reason[400];
    char short_reason[40];/* for the table: "protocol_version", "closed", ... */
    char note[400];
};

struct check {
    int value;            /* 1 true, 0 false, -1 null */
    char detail[400];
};

struct probe {
    const char *target;
    char host[256], port[16];
    char addr[300];       /* the address reached */
    const char *sni;      /* server_name for hand-built hellos (NULL: none) */
    const char *lib_name; /* the name given to tlsv_conn_new */
    int json;
    int tty;
    int progress_len;
    int silent;           /* hellos that timed out in a row */
    struct vresult v[N_VERSIONS];
    struct check sentinel, scsv, tolerance;
};

static void progress(struct probe *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void progress(struct probe *p, const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (p->tty) {
        int n = (int)strlen(line);
        fprintf(stderr, "\r%s%*s", line, p->progress_len > n ? p->progress_len - n : 0, "");
        p->progress_len = n;
    } else {
        fprintf(stderr, "tlsv: %s\n", line);
    }
    fflush(stderr);
}

static void progress_done(struct probe *p)
{
    if (p->tty && p->progress_len) {
        fprintf(stderr, "\r%*s\r", p->progress_len, "");
        fflush(stderr);
    }
    p->progress_len = 0;
}

/* ---------------------------------------------------------------------- */
/* raw socket I/O (non-blocking socket from net_connect, every wait bounded) */
/* ---------------------------------------------------------------------- */

/* 0 sent, TIO_TIMEOUT, or -1 (errno). */
static int send_all(int fd, const uint8_t *p, size_t n, long long deadline)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (net_wait(fd, TLSV_WANT_WRITE, deadline) == 0)
                return TIO_TIMEOUT;
            continue;
        }
        return -1;
    }
    return 0;
}

#define READ_EOF 1

/* Reads exactly n bytes: 0, READ_EOF (the peer closed first; *got says how
 * many arrived), TIO_TIMEOUT, or -1 (errno). */
static int read_exact(int fd, uint8_t *p, size_t n, long long deadline, size_t *got)
{
    size_t have = 0;
    int rc = 0;
    while (have < n) {
        ssize_t r = recv(fd, p + have, n - have, 0);
        if (r > 0) {
            have += (size_t)r;
            continue;
        }
        if (r == 0) {
            rc = READ_EOF;
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (net_wait(fd, TLSV_WANT_READ, deadline) == 0) {
                rc = TIO_TIMEOUT;
                break;
            }
            continue;
        }
        rc = -1;
        break;
    }
    if (got)
        *got = have;
    return rc;
}

/* ---------------------------------------------------------------------- */
/* hand-built hellos                                                      */
/* ---------------------------------------------------------------------- */

struct hello_opts {
    int version;          /* ClientHello.legacy_version (SSL 3.0 .. TLS 1.2) */
    const unsigned *sv;   /* supported_versions (NULL: no extension) */
    size_t n_sv;
    int tls13;            /* offer TLS 1.3 suites, key_share, psk modes */
    int grease;           /* GREASE everywhere RFC 8701 allows */
    int fallback_scsv;    /* add TLS_FALLBACK_SCSV (RFC 7507) */
    int no_extensions;    /* SSL 3.0: the RFC 6101 format */
    int aead_only;        /* offer only AEAD suites */
};

static const unsigned sigalgs[] = {0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805,
                                   0x0806, 0x0809, 0x080a, 0x080b, 0x0401, 0x0501, 0x0601,
                                   0x0203, 0x0201};

/* Writes a TLS ClientHello record into buf. Returns its length, 0 if it
 * does not fit. */
static size_t build_client_hello(const struct probe *p, const struct hello_opts *o, uint8_t *buf,
                                 size_t cap)
{
    struct wb w = {buf, cap, 0, 0};
    uint8_t rnd[32], sid[32], share[32];
    random_bytes(rnd, sizeof rnd);
    random_bytes(sid, sizeof sid);
    random_bytes(share, sizeof share);

    w8(&w, 22);
    w16(&w, o->version < V_TLS10 ? o->version : V_TLS10); /* record version */
    size_t rec = wopen(&w, 2);
    w8(&w, 1); /* client_hello */
    size_t msg = wopen(&w, 3);
    w16(&w, (unsigned)o->version);
    wbytes(&w, rnd, sizeof rnd);
    if (o->tls13) { /* a "middlebox compatibility" session id, as TLS 1.3 clients send */
        w8(&w, sizeof sid);
        wbytes(&w, sid, sizeof sid);
    } else {
        w8(&w, 0);
    }
    size_t cs = wopen(&w, 2);
    if (o->grease)
        w16(&w, grease(0));
    for (size_t i = 0; i < N_SUITES; i++) {
        const struct suite *s = &suites[i];
        if (o->aead_only && !s->aead)
            continue;
        if (s->kx == KX_TLS13 ? o->tls13 : (s->minv <= o->version))
            w16(&w, s->id);
    }
    if (o->fallback_scsv)
        w16(&w, 0x5600);
    w16(&w, 0x00ff); /* TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746) */
    wclose(&w, cs, 2);
    w8(&w, 1); /* compression methods: null */
    w8(&w, 0);

    if (!o->no_extensions) {
        size_t exts = wopen(&w, 2);
        size_t e, l;
        if (o->grease) { /* first GREASE extension: empty */
            w16(&w, grease(1));
            w16(&w, 0);
        }
        if (p->sni) {
            w16(&w, 0); /* server_name */
            e = wopen(&w, 2);
            l = wopen(&w, 2);
            w8(&w, 0); /* host_name */
            size_t nl = wopen(&w, 2);
            wbytes(&w, p->sni, strlen(p->sni));
            wclose(&w, nl, 2);
            wclose(&w, l, 2);
            wclose(&w, e, 2);
        }
        w16(&w, 10); /* supported_groups */
        e = wopen(&w, 2);
        l = wopen(&w, 2);
        if (o->grease)
            w16(&w, grease(2));
        for (size_t i = 0; i < N_GROUPS; i++)
            w16(&w, groups[i].id);
        wclose(&w, l, 2);
        wclose(&w, e, 2);
        w16(&w, 11); /* ec_point_formats: uncompressed */
        w16(&w, 2);
        w8(&w, 1);
        w8(&w, 0);
        if (o->version >= V_TLS12) {
            w16(&w, 13); /* signature_algorithms */
            e = wopen(&w, 2);
            l = wopen(&w, 2);
            if (o->grease)
                w16(&w, grease(3));
            for (size_t i = 0; i < sizeof sigalgs / sizeof sigalgs[0]; i++)
                w16(&w, sigalgs[i]);
            wclose(&w, l, 2);
            wclose(&w, e, 2);
        }
        w16(&w, 23); /* extended_master_secret */
        w16(&w, 0);
        if (o->sv && o->n_sv) {
            w16(&w, 43); /* supported_versions */
            e = wopen(&w, 2);
            l = wopen(&w, 1);
            for (size_t i = 0; i < o->n_sv; i++)
                w16(&w, o->sv[i]);
            wclose(&w, l, 1);
            wclose(&w, e, 2);
        }
        if (o->tls13) {
            w16(&w, 45); /* psk_key_exchange_modes: psk_dhe_ke */
            w16(&w, 2);
            w8(&w, 1);
            w8(&w, 1);
            w16(&w, 51); /* key_share */
            e = wopen(&w, 2);
            l = wopen(&w, 2);
            if (o->grease) { /* RFC 8701 §3.1: a GREASE share of one byte */
                w16(&w, grease(2));
                w16(&w, 1);
                w8(&w, 0);
            }
            w16(&w, 0x001d); /* x25519, 32 random bytes: never completed */
            w16(&w, sizeof share);
            wbytes(&w, share, sizeof share);
            wclose(&w, l, 2);
            wclose(&w, e, 2);
        }
        if (o->grease) { /* last GREASE extension: one zero byte */
            w16(&w, grease(4));
            w16(&w, 1);
            w8(&w, 0);
        }
        wclose(&w, exts, 2);
    }
    wclose(&w, msg, 3);
    wclose(&w, rec, 2);
    return w.bad ? 0 : w.len;
}

/* The SSL 2.0 CLIENT-HELLO: a 2-byte record header, MSG-CLIENT-HELLO,
 * CLIENT-VERSION 0x0002, the cipher kinds, no session id, a 16-byte
 * challenge. */
static size_t build_ssl2_hello(uint8_t *buf, size_t cap)
{
    struct wb w = {buf, cap, 0, 0};
    uint8_t challenge[16];
    random_bytes(challenge, sizeof challenge);
    size_t body = 9 + 3 * N_SSL2 + sizeof challenge;
    w8(&w, 0x80 | (unsigned)(body >> 8));
    w8(&w, body & 0xff);
    w8(&w, 1);
    w16(&w, V_SSL2);
    w16(&w, 3 * N_SSL2);
    w16(&w, 0);
    w16(&w, sizeof challenge);
    for (size_t i = 0; i < N_SSL2; i++) {
        w8(&w, ssl2_ciphers[i].id >> 16);
        w16(&w, ssl2_ciphers[i].id & 0xffff);
    }
    wbytes(&w, challenge, sizeof challenge);
    return w.bad ? 0 : w.len;
}

/* ---------------------------------------------------------------------- */
/* hand-built exchanges                                                   */
/* ---------------------------------------------------------------------- */

enum raw_outcome {
    RAW_SERVER_HELLO, /* a ServerHello (or SSL 2.0 SERVER-HELLO) arrived */
    RAW_ALERT,        /* a TLS alert (or SSL 2.0 ERROR) */
    RAW_CLOSED,       /* the server closed (or reset) without answering */
    RAW_TIMEOUT,      /* no answer in time */
    RAW_GARBAGE,      /* something that is no answer to this hello */
    RAW_CONNECT_FAILED
};

struct raw_result {
    enum raw_outcome outcome;
    int version;          /* the version the server chose (supported_versions if present) */
    int legacy_version;
    int hrr;              /* a HelloRetryRequest */
    uint8_t random[32];
    unsigned suite;
    char cipher[64];
    char group[32];       /* "" when unknown */
    int alert;            /* RAW_ALERT: the description */
    char detail[200];     /* RAW_CLOSED, RAW_TIMEOUT, RAW_GARBAGE, RAW_CONNECT_FAILED */
};

static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

/* Parses a ServerHello body. Returns 0, or -1 if malformed. */
static int parse_server_hello(const uint8_t *b, size_t n, struct raw_result *res)
{
    struct rd r = {b, n, 0, 0};
    res->legacy_version = (int)rn(&r, 2);
    const uint8_t *rnd = rbytes(&r, 32);
    unsigned sid_len = rn(&r, 1);
    (void)rbytes(&r, sid_len);
    res->suite = rn(&r, 2);
    (void)rn(&r, 1); /* compression */
    if (r.bad || !rnd || sid_len > 32)
        return -1;
    memcpy(res->random, rnd, 32);
    res->hrr = memcmp(rnd, hrr_random, 32) == 0;
    res->version = res->legacy_version;
    if (r.pos < r.len) { /* extensions */
        unsigned total = rn(&r, 2);
        const uint8_t *ext = rbytes(&r, total);
        if (r.bad || r.pos != r.len)
            return -1;
        struct rd e = {ext, total, 0, 0};
        while (e.pos < e.len) {
            unsigned type = rn(&e, 2), len = rn(&e, 2);
            const uint8_t *body = rbytes(&e, len);
            if (e.bad)
                return -1;
            struct rd x = {body, len, 0, 0};
            if (type == 43) { /* supported_versions: selected_version */
                res->version = (int)rn(&x, 2);
                if (x.bad || x.pos != x.len)
                    return -1;
            } else if (type == 51) { /* key_share: the group first (HRR: only it) */
                unsigned g = rn(&x, 2);
                if (x.bad)
                    return -1;
                group_text(g, res->group, sizeof res->group);
            }
        }
    }
    suite_text(res->suite, res->cipher, sizeof res->cipher);
    return 0;
}

/* The group of a TLS 1.0-1.2 / SSL 3.0 ServerKeyExchange. */
static void parse_server_key_exchange(const uint8_t *b, size_t n, enum kx kx,
                                      struct raw_result *res)
{
    struct rd r = {b, n, 0, 0};
    if (kx == KX_ECDHE) {
        unsigned curve_type = rn(&r, 1), g = rn(&r, 2);
        if (!r.bad && curve_type == 3)
            group_text(g, res->group, sizeof res->group);
    } else if (kx == KX_DHE) {
        unsigned plen = rn(&r, 2);
        const uint8_t *prime = rbytes(&r, plen);
        if (r.bad || plen == 0)
            return;
        size_t i = 0;
        while (i < plen && prime[i] == 0)
            i++;
        if (i == plen)
            return;
        unsigned bits = (unsigned)(plen - i) * 8;
        for (unsigned top = prime[i]; !(top & 0x80); top <<= 1)
            bits--;
        snprintf(res->group, sizeof res->group, "DH-%u", bits);
    }
}

static void hex_prefix(const uint8_t *b, size_t n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && i < 8 && used + 4 < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%02x", i ? " " : "", b[i]);
}

struct raw_conn {
    int fd;
    long long deadline;
};

/* Connects and sends a hello. Returns 0, or -1 with res filled in. */
static int raw_open(const struct probe *p, const uint8_t *hello, size_t n, struct raw_conn *rc,
                    struct raw_result *res)
{
    char addr[300], msg[400];
    rc->fd = net_connect(p->host, p->port, CONNECT_TIMEOUT_MS, addr, sizeof addr, msg, sizeof msg);
    if (rc->fd < 0) {
        res->outcome = RAW_CONNECT_FAILED;
        snprintf(res->detail, sizeof res->detail, "%.190s", msg);
        return -1;
    }
    rc->deadline = net_deadline(HANDSHAKE_TIMEOUT_MS);
    int s = send_all(rc->fd, hello, n, rc->deadline);
    if (s != 0) {
        res->outcome = s == TIO_TIMEOUT ? RAW_TIMEOUT : RAW_CLOSED;
        snprintf(res->detail, sizeof res->detail, "sending the hello failed: %s",
                 s == TIO_TIMEOUT ? "timed out" : strerror(errno));
        close(rc->fd);
        return -1;
    }
    return 0;
}

/* Maps a read_exact() failure to an outcome. */
static void raw_read_failed(int rc, size_t got, const char *what, struct raw_result *res)
{
    if (rc == TIO_TIMEOUT) {
        res->outcome = RAW_TIMEOUT;
        snprintf(res->detail, sizeof res->detail, "no answer within %d s",
                 HANDSHAKE_TIMEOUT_MS / 1000);
    } else if (rc == READ_EOF && got == 0) {
        res->outcome = RAW_CLOSED;
        snprintf(res->detail, sizeof res->detail, "the server closed the connection");
    } else if (rc == READ_EOF) {
        res->outcome = RAW_GARBAGE;
        snprintf(res->detail, sizeof res->detail, "the server closed in the middle of %s", what);
    } else {
        res->outcome = RAW_CLOSED;
        snprintf(res->detail, sizeof res->detail, "the connection failed: %s", strerror(errno));
    }
}

/* Sends a TLS / SSL 3.0 hello and reads the answer up to the ServerHello
 * (with want_kx, on to the ServerKeyExchange or ServerHelloDone of a TLS
 * 1.0-1.2 (EC)DHE suite, for the group). */
static void raw_tls_exchange(const struct probe *p, const uint8_t *hello, size_t n, int want_kx,
                             struct raw_result *res)
{
    memset(res, 0, sizeof *res);
    res->alert = -1;
    struct raw_conn c;
    if (raw_open(p, hello, n, &c, res) != 0)
        return;
    uint8_t *rec = malloc(MAX_RECORD), *flight = malloc(MAX_FLIGHT);
    size_t flight_len = 0;
    int seen_sh = 0;
    enum kx kx = KX_RSA;
    if (!rec || !flight) {
        res->outcome = RAW_GARBAGE;
        snprintf(res->detail, sizeof res->detail, "out of memory");
        goto out;
    }
    for (;;) {
        uint8_t hdr[5];
        size_t got = 0;
        int rc = read_exact(c.fd, hdr, sizeof hdr, c.deadline, &got);
        if (rc != 0) {
            if (!seen_sh)
                raw_read_failed(rc, got, "a record header", res);
            goto out;
        }
        unsigned type = hdr[0], len = (unsigned)hdr[3] << 8 | hdr[4];
        if (type < 20 || type > 23 || hdr[1] != 3 || len == 0 || len > MAX_RECORD) {
            if (seen_sh)
                goto out;
            char hex[40];
            hex_prefix(hdr, sizeof hdr, hex, sizeof hex);
            res->outcome = RAW_GARBAGE;
            snprintf(res->detail, sizeof res->detail, "the answer is no TLS record (%s%s)", hex,
                     (hdr[0] & 0x80) ? ": an SSL 2.0 record" : "");
            goto out;
        }
        rc = read_exact(c.fd, rec, len, c.deadline, &got);
        if (rc != 0) {
            if (!seen_sh)
                raw_read_failed(rc, got ? got : 1, "a record", res);
            goto out;
        }
        if (type == 21) { /* alert */
            if (seen_sh)
                goto out;
            res->outcome = RAW_ALERT;
            res->alert = len >= 2 ? rec[1] : -1;
            goto out;
        }
        if (type != 22) { /* ChangeCipherSpec or application data */
            if (!seen_sh) {
                res->outcome = RAW_GARBAGE;
                snprintf(res->detail, sizeof res->detail,
                         "a record of type %u arrived before any ServerHello", type);
            }
            goto out;
        }
        if (len > MAX_FLIGHT - flight_len) {
            if (!seen_sh) {
                res->outcome = RAW_GARBAGE;
                snprintf(res->detail, sizeof res->detail, "a handshake flight over %d bytes",
                         MAX_FLIGHT);
            }
            goto out;
        }
        memcpy(flight + flight_len, rec, len);
        flight_len += len;
        /* complete handshake messages */
        size_t pos = 0;
        while (flight_len - pos >= 4) {
            unsigned mt = flight[pos];
            size_t ml = (size_t)flight[pos + 1] << 16 | (size_t)flight[pos + 2] << 8 |
                        flight[pos + 3];
            if (ml > MAX_FLIGHT - 4) {
                if (!seen_sh) {
                    res->outcome = RAW_GARBAGE;
                    snprintf(res->detail, sizeof res->detail,
                             "a handshake message of %zu bytes", ml);
                }
                goto out;
            }
            if (flight_len - pos - 4 < ml)
                break;
            const uint8_t *body = flight + pos + 4;
            pos += 4 + ml;
            if (!seen_sh) {
                if (mt != 2 || parse_server_hello(body, ml, res) != 0) {
                    res->outcome = RAW_GARBAGE;
                    snprintf(res->detail, sizeof res->detail,
                             mt != 2 ? "handshake message %u arrived instead of a ServerHello"
                                     : "a malformed ServerHello (%u)",
                             mt);
                    goto out;
                }
                seen_sh = 1;
                res->outcome = RAW_SERVER_HELLO;
                const struct suite *s = suite_by_id(res->suite);
                kx = s ? s->kx : KX_RSA;
                if (!want_kx || res->hrr || res->version >= V_TLS13 ||
                    (kx != KX_ECDHE && kx != KX_DHE))
                    goto out;
            } else if (mt == 12) { /* ServerKeyExchange */
                parse_server_key_exchange(body, ml, kx, res);
                goto out;
            } else if (mt == 14) { /* ServerHelloDone */
                goto out;
            }
        }
        memmove(flight, flight + pos, flight_len - pos);
        flight_len -= pos;
    }
out:
    free(rec);
    free(flight);
    close(c.fd);
}

/* Sends the SSL 2.0 CLIENT-HELLO and reads one answer. */
static void raw_ssl2_exchange(const struct probe *p, struct raw_result *res)
{
    memset(res, 0, sizeof *res);
    res->alert = -1;
    uint8_t hello[128];
    size_t n = build_ssl2_hello(hello, sizeof hello);
    struct raw_conn c;
    if (n == 0) {
        res->outcome = RAW_GARBAGE;
        snprintf(res->detail, sizeof res->detail, "internal error building the hello");
        return;
    }
    if (raw_open(p, hello, n, &c, res) != 0)
        return;
    uint8_t hdr[5], *body = malloc(0x8000);
    size_t got = 0;
    int rc;
    if (!body) {
        res->outcome = RAW_GARBAGE;
        snprintf(res->detail, sizeof res->detail, "out of memory");
        goto out;
    }
    rc = read_exact(c.fd, hdr, 2, c.deadline, &got);
    if (rc != 0) {
        raw_read_failed(rc, got, "a record header", res);
        goto out;
    }
    if (hdr[0] >= 20 && hdr[0] <= 23 && hdr[1] == 3) { /* a TLS record: an alert? */
        rc = read_exact(c.fd, hdr + 2, 3, c.deadline, &got);
        unsigned len = (unsigned)hdr[3] << 8 | hdr[4];
        if (rc != 0) {
            raw_read_failed(rc, 1, "a record header", res);
            goto out;
        }
        if (hdr[0] == 21 && len >= 2 && len <= MAX_RECORD &&
            read_exact(c.fd, body, 2, c.deadline, &got) == 0) {
            res->outcome = RAW_ALERT;
            res->alert = body[1];
        } else {
            res->outcome = RAW_GARBAGE;
            snprintf(res->detail, sizeof res->detail,
                     "the server answered with a TLS record of type %u", hdr[0]);
        }
        goto out;
    }
    size_t len;
    if (hdr[0] & 0x80) {
        len = (size_t)(hdr[0] & 0x7f) << 8 | hdr[1];
    } else { /* a 3-byte header: one padding-length byte follows */
        len = (size_t)(hdr[0] & 0x3f) << 8 | hdr[1];
        rc = read_exact(c.fd, hdr + 2, 1, c.deadline, &got);
        if (rc != 0) {
            raw_read_failed(rc, 1, "a record header", res);
            goto out;
        }
    }
    if (len == 0) {
        res->outcome = RAW_GARBAGE;
        snprintf(res->detail, sizeof res->detail, "an empty SSL 2.0 record");
        goto out;
    }
    rc = read_exact(c.fd, body, len, c.deadline, &got);
    if (rc != 0) {
        raw_read_failed(rc, 1, "an SSL 2.0 record", res);
        goto out;
    }
    struct rd r = {body, len, 0, 0};
    unsigned mt = rn(&r, 1);
    if (mt == 0) { /* ERROR: a 2-byte code */
        unsigned code = rn(&r, 2);
        res->outcome = RAW_ALERT;
        snprintf(res->detail, sizeof res->detail, "SSL 2.0 ERROR %u%s", code,
                 code == 1 ? " (no cipher)" : "");
        goto out;
    }
    if (mt != 4) {
        char hex[40];
        hex_prefix(body, len, hex, sizeof hex);
        res->outcome = RAW_GARBAGE;
        snprintf(res->detail, sizeof res->detail, "an SSL 2.0 message of type %u (%s)", mt, hex);
        goto out;
    }
    /* SERVER-HELLO */
    (void)rn(&r, 1); /* SESSION-ID-HIT */
    (void)rn(&r, 1); /* CERTIFICATE-TYPE */
    unsigned ver = rn(&r, 2), cert_len = rn(&r, 2), cs_len = rn(&r, 2), cid_len = rn(&r, 2);
    (void)rbytes(&r, cert_len);
    const uint8_t *cs = rbytes(&r, cs_len);
    (void)rbytes(&r, cid_len);
    if (r.bad || cs_len % 3 != 0) {
        res->outcome = RAW_GARBAGE;
        snprintf(res->detail, sizeof res->detail, "a malformed SSL 2.0 SERVER-HELLO");
        goto out;
    }
    res->outcome = RAW_SERVER_HELLO;
    res->version = res->legacy_version = (int)ver;
    if (cs_len >= 3) {
        uint32_t id = (uint32_t)cs[0] << 16 | (uint32_t)cs[1] << 8 | cs[2];
        snprintf(res->cipher, sizeof res->cipher, "0x%06x", (unsigned)id);
        for (size_t i = 0; i < N_SSL2; i++)
            if (ssl2_ciphers[i].id == id)
                snprintf(res->cipher, sizeof res->cipher, "%s", ssl2_ciphers[i].name);
    }
out:
    free(body);
    close(c.fd);
}

/* A hand-built hello of one version (no supported_versions up to TLS 1.2;
 * supported_versions {TLS 1.3} for TLS 1.3). */
static void raw_version_hello(const struct probe *p, int version, int scsv, int want_kx,
                              int aead_only, struct raw_result *res)
{
    static const unsigned only13[] = {V_TLS13};
    struct hello_opts o;
    memset(&o, 0, sizeof o);
    if (version >= V_TLS13) {
        o.version = V_TLS12;
        o.sv = only13;
        o.n_sv = 1;
        o.tls13 = 1;
    } else {
        o.version = version;
        o.no_extensions = version < V_TLS10;
    }
    o.fallback_scsv = scsv;
    o.aead_only = aead_only;
    uint8_t hello[2048];
    size_t n = build_client_hello(p, &o, hello, sizeof hello);
    if (n == 0) {
        memset(res, 0, sizeof *res);
        res->outcome = RAW_GARBAGE;
        snprintf(res->detail, sizeof res->detail, "internal error building the hello");
        return;
    }
    raw_tls_exchange(p, hello, n, want_kx, res);
}

/* A sentence for a failed raw exchange. */
static void raw_describe(const struct raw_result *res, char *buf, size_t len)
{
    char vb[16];
    switch (res->outcome) {
    case RAW_SERVER_HELLO:
        snprintf(buf, len, "a %s ServerHello%s", version_or_hex(res->version, vb, sizeof vb),
                 res->hrr ? " (HelloRetryRequest)" : "");
        break;
    case RAW_ALERT:
        if (res->detail[0])
            snprintf(buf, len, "%s", res->detail);
        else if (tlsv_alert_name(res->alert))
            snprintf(buf, len, "alert %s", tlsv_alert_name(res->alert));
        else
            snprintf(buf, len, "alert %d", res->alert);
        break;
    default: snprintf(buf, len, "%s", res->detail); break;
    }
}

/* ---------------------------------------------------------------------- */
/* handshakes with the library                                            */
/* ---------------------------------------------------------------------- */

struct lib_result {
    int ok;
    int net_fail;         /* no TCP connection */
    int timeout;
    char version[16], cipher[64], group[32];
    char addr[300];       /* the address reached */
    tlsv_error err;
};

static void lib_handshake(const struct probe *p, int version, int scsv, const char *ciphers,
                          struct lib_result *out)
{
    memset(out, 0, sizeof *out);
    tlsv_ctx *ctx = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, &out->err);
    if (!ctx)
        return;
    tlsv_conn *c = NULL;
    int fd = -1;
    if (tlsv_ctx_set_check_hostname(ctx, 0) != 0 ||
        tlsv_ctx_set_verify_mode(ctx, TLSV_CERT_NONE) != 0 ||
        tlsv_ctx_set_minimum_version(ctx, version) != 0 ||
        tlsv_ctx_set_maximum_version(ctx, version) != 0 ||
        tlsv_ctx_set_groups(ctx, LIB_GROUPS) != 0 ||
        (ciphers && tlsv_ctx_set_ciphers(ctx, ciphers) != 0)) {
        out->err = *tlsv_ctx_last_error(ctx);
        goto out;
    }
    c = tlsv_conn_new(ctx, TLSV_ROLE_CLIENT, p->lib_name, &out->err);
    if (!c)
        goto out;
    if (scsv && tlsv_conn_set_fallback_scsv(c, 1) != 0) {
        out->err = *tlsv_conn_last_error(c);
        goto out;
    }
    char msg[400];
    fd = net_connect(p->host, p->port, CONNECT_TIMEOUT_MS, out->addr, sizeof out->addr, msg,
                     sizeof msg);
    if (fd < 0) {
        out->net_fail = 1;
        net_local_error(&out->err, TLSV_R_SYSCALL, "%s", msg);
        goto out;
    }
    tlsv_conn_set_fd(c, fd);
    int rc = tio_handshake(c, fd, net_deadline(HANDSHAKE_TIMEOUT_MS));
    if (rc == 0) {
        out->ok = 1;
        const char *v = tlsv_conn_version(c), *ci = tlsv_conn_cipher(c), *g = tlsv_conn_group(c);
        snprintf(out->version, sizeof out->version, "%s", v ? v : "");
        snprintf(out->cipher, sizeof out->cipher, "%s", ci ? ci : "");
        snprintf(out->group, sizeof out->group, "%s", g ? g : "");
        (void)tlsv_conn_shutdown(c); /* close_notify, best effort: no waiting */
    } else if (rc == TIO_TIMEOUT) {
        out->timeout = 1;
        net_local_error(&out->err, TLSV_R_SYSCALL, "no complete handshake within %d s",
                        HANDSHAKE_TIMEOUT_MS / 1000);
    } else {
        out->err = *tlsv_conn_last_error(c);
    }
out:
    tlsv_conn_free(c);
    if (fd >= 0)
        close(fd);
    tlsv_ctx_free(ctx);
}

static int is_remote_alert(const tlsv_error *e, int alert)
{
    return e->side == TLSV_SIDE_REMOTE && e->alert == alert;
}

/* ---------------------------------------------------------------------- */
/* the steps                                                              */
/* ---------------------------------------------------------------------- */

static void set_refusal_from_error(struct vresult *vr, const tlsv_error *e, int timeout)
{
    snprintf(vr->error, sizeof vr->error, "%s", tlsv_reason_name(e->reason));
    const char *an = e->alert >= 0 ? tlsv_alert_name(e->alert) : NULL;
    snprintf(vr->alert, sizeof vr->alert, "%s", an ? an : "");
    vr->side = e->side == TLSV_SIDE_LOCAL ? "local" : e->side == TLSV_SIDE_REMOTE ? "remote" : NULL;
    snprintf(vr->reason, sizeof vr->reason, "%s", e->message);
    if (timeout)
        snprintf(vr->short_reason, sizeof vr->short_reason, "timeout");
    else if (e->reason == TLSV_R_UNEXPECTED_EOF_WHILE_READING)
        snprintf(vr->short_reason, sizeof vr->short_reason, "closed");
    else if (an && e->side == TLSV_SIDE_REMOTE)
        snprintf(vr->short_reason, sizeof vr->short_reason, "%s", an);
    else
        snprintf(vr->short_reason, sizeof vr->short_reason, "%s", tlsv_reason_name(e->reason));
}

static void set_refusal_from_raw(struct vresult *vr, const char *hello,
                                 const struct raw_result *res)
{
    char why[300], what[320];
    raw_describe(res, why, sizeof why);
    vr->side = NULL;
    vr->alert[0] = '\0';
    switch (res->outcome) {
    case RAW_ALERT:
        if (res->alert >= 0 && tlsv_alert_name(res->alert)) {
            snprintf(vr->alert, sizeof vr->alert, "%s", tlsv_alert_name(res->alert));
            snprintf(vr->error, sizeof vr->error, "%s",
                     tlsv_reason_name(tlsv_reason_for_alert(res->alert)));
            snprintf(vr->short_reason, sizeof vr->short_reason, "%s", vr->alert);
        } else {
            snprintf(vr->error, sizeof vr->error, "ALERT_RECEIVED");
            snprintf(vr->short_reason, sizeof vr->short_reason, "error");
        }
        vr->side = "remote";
        break;
    case RAW_CLOSED:
        snprintf(vr->error, sizeof vr->error, "UNEXPECTED_EOF_WHILE_READING");
        snprintf(vr->short_reason, sizeof vr->short_reason, "closed");
        vr->side = "remote";
        break;
    case RAW_TIMEOUT:
        snprintf(vr->error, sizeof vr->error, "SYSCALL");
        snprintf(vr->short_reason, sizeof vr->short_reason, "timeout");
        break;
    case RAW_CONNECT_FAILED:
        snprintf(vr->error, sizeof vr->error, "SYSCALL");
        snprintf(vr->short_reason, sizeof vr->short_reason, "no connection");
        break;
    case RAW_SERVER_HELLO: {
        char vb[16];
        snprintf(vr->error, sizeof vr->error, "WRONG_VERSION_NUMBER");
        snprintf(vr->short_reason, sizeof vr->short_reason, "answered %s",
                 version_or_hex(res->version, vb, sizeof vb));
        vr->side = "remote";
        break;
    }
    default:
        snprintf(vr->error, sizeof vr->error, "WRONG_VERSION_NUMBER");
        snprintf(vr->short_reason, sizeof vr->short_reason, "%s",
                 strstr(res->detail, "no TLS record") ? "not TLS" : "bad answer");
        vr->side = "remote";
        break;
    }
    if (res->outcome == RAW_CONNECT_FAILED || res->outcome == RAW_TIMEOUT ||
        res->outcome == RAW_CLOSED)
        snprintf(what, sizeof what, "%s", why);
    else
        snprintf(what, sizeof what, "the server answered with %.280s", why);
    snprintf(vr->reason, sizeof vr->reason, "%.320s to a hand-built %.40s", what, hello);
}

static void accept_from_raw(struct vresult *vr, const struct raw_result *res)
{
    vr->accepted = 1;
    snprintf(vr->cipher, sizeof vr->cipher, "%s", res->cipher);
    snprintf(vr->group, sizeof vr->group, "%s", res->group);
    const struct suite *s = suite_by_id(res->suite);
    vr->aead_available = s ? s->aead : -1;
}

/* Probes one TLS version with the library (and a hand-built hello when the
 * library's attempt does not settle it). Returns -1 if the server cannot
 * be reached at all. */
static int probe_tls_version(struct probe *p, int idx)
{
    struct vresult *vr = &p->v[idx];
    int version = version_of[idx];
    progress(p, "probing %s...", version_text(version));
    struct lib_result lr;
    lib_handshake(p, version, 0, NULL, &lr);
    vr->tested = 1;
    vr->aead_available = -1;
    if (!p->addr[0] && lr.addr[0])
        snprintf(p->addr, sizeof p->addr, "%s", lr.addr);
    p->silent = lr.timeout ? p->silent + 1 : 0;
    if (lr.net_fail) {
        set_refusal_from_error(vr, &lr.err, 0);
        snprintf(vr->short_reason, sizeof vr->short_reason, "no connection");
        return -1;
    }
    if (lr.ok) {
        vr->accepted = vr->completed = 1;
        snprintf(vr->cipher, sizeof vr->cipher, "%s", lr.cipher);
        snprintf(vr->group, sizeof vr->group, "%s", lr.group);
        if (version == V_TLS12) {
            vr->aead_available = is_aead_name(lr.cipher);
            if (!vr->aead_available) { /* CBC chosen: preferred, or the only kind? */
                struct lib_result aead;
                lib_handshake(p, version, 0, LIB_AEAD12, &aead);
                if (aead.ok) {
                    vr->aead_available = 1;
                    snprintf(vr->note, sizeof vr->note,
                             "prefers the CBC suite %s although it accepts %s", lr.cipher,
                             aead.cipher);
                } else if (!aead.net_fail && !aead.timeout) {
                    /* tlsv's AEAD suites refused: ask with every AEAD suite */
                    struct raw_result res;
                    raw_version_hello(p, V_TLS12, 0, 0, 1, &res);
                    vr->aead_available =
                        res.outcome == RAW_SERVER_HELLO && res.version == V_TLS12 &&
                        suite_by_id(res.suite) && suite_by_id(res.suite)->aead;
                    if (vr->aead_available)
                        snprintf(vr->note, sizeof vr->note,
                                 "prefers the CBC suite %s although it accepts %s", lr.cipher,
                                 res.cipher);
                }
            }
        }
        return 0;
    }
    set_refusal_from_error(vr, &lr.err, lr.timeout);
    /* a clean protocol_version refusal, or silence, settles it; anything
     * else (no shared suite, a step tlsv cannot complete) is asked again
     * with a hand-built hello offering many more suites */
    if (lr.timeout || is_remote_alert(&lr.err, TLSV_ALERT_PROTOCOL_VERSION))
        return 0;
    struct raw_result res;
    raw_version_hello(p, version, 0, 1, 0, &res);
    if (res.outcome == RAW_SERVER_HELLO && !res.hrr && res.version == version) {
        accept_from_raw(vr, &res);
        /* copies: the note, the error and the alert share one struct, and
         * snprintf's source and destination must not overlap */
        char why[sizeof vr->error], alert[sizeof vr->alert];
        snprintf(why, sizeof why, "%s", vr->error);
        snprintf(alert, sizeof alert, "%s", vr->alert);
        snprintf(vr->note, sizeof vr->note,
                 "accepted on a hand-built hello (%s); tlsv's own handshake failed: %s%s%s%s",
                 res.cipher, why, alert[0] ? " (alert " : "", alert, alert[0] ? ")" : "");
    } else if (res.outcome == RAW_SERVER_HELLO && res.hrr && res.version == version) {
        /* a HelloRetryRequest for TLS 1.3: accepted; the group is the one it asks for */
        accept_from_raw(vr, &res);
        snprintf(vr->note, sizeof vr->note,
                 "the server answered a hand-built hello with a HelloRetryRequest");
    } else if (res.outcome == RAW_SERVER_HELLO) {
        /* it chose another version: say which */
        char vb[16];
        snprintf(vr->short_reason, sizeof vr->short_reason, "answered %s",
                 version_or_hex(res.version, vb, sizeof vb));
    }
    return 0;
}

/* After two unanswered hellos the rest is not worth 10 s each. */
static int skip_silent(struct probe *p, struct vresult *vr)
{
    if (p->silent < 2)
        return 0;
    vr->aead_available = -1;
    snprintf(vr->short_reason, sizeof vr->short_reason, "not tested");
    snprintf(vr->reason, sizeof vr->reason,
             "not tested: the server answered none of the earlier hellos");
    return 1;
}

static void probe_ssl3(struct probe *p)
{
    struct vresult *vr = &p->v[I_SSL3];
    if (skip_silent(p, vr))
        return;
    progress(p, "probing SSLv3...");
    vr->tested = 1;
    vr->aead_available = -1;
    struct raw_result res;
    raw_version_hello(p, V_SSL3, 0, 1, 0, &res);
    if (res.outcome == RAW_SERVER_HELLO && res.version == V_SSL3)
        accept_from_raw(vr, &res);
    else
        set_refusal_from_raw(vr, "SSL 3.0 ClientHello", &res);
}

static void probe_ssl2(struct probe *p)
{
    struct vresult *vr = &p->v[I_SSL2];
    if (skip_silent(p, vr))
        return;
    progress(p, "probing SSLv2...");
    vr->tested = 1;
    vr->aead_available = -1;
    struct raw_result res;
    raw_ssl2_exchange(p, &res);
    if (res.outcome == RAW_SERVER_HELLO && res.version == V_SSL2) {
        vr->accepted = 1;
        snprintf(vr->cipher, sizeof vr->cipher, "%s", res.cipher);
    } else {
        set_refusal_from_raw(vr, "SSL 2.0 CLIENT-HELLO", &res);
    }
}

/* The highest accepted version index below `below` (N_VERSIONS: any); -1 if none.
 * SSL 2.0 is never counted. */
static int highest_accepted(const struct probe *p, int below)
{
    for (int i = below - 1; i >= I_SSL3; i--)
        if (p->v[i].accepted)
            return i;
    return -1;
}

static void append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

/* RFC 8446 §4.1.3: one hand-built hello capped at `cap` (no
 * supported_versions). Returns 1 found, 0 missing, -1 inconclusive. */
static int sentinel_one(struct probe *p, int cap, const char *expect8, const char *expect_text,
                        char *detail, size_t dlen)
{
    struct hello_opts o;
    memset(&o, 0, sizeof o);
    o.version = cap;
    o.no_extensions = cap < V_TLS10;
    uint8_t hello[2048];
    size_t n = build_client_hello(p, &o, hello, sizeof hello);
    struct raw_result res;
    memset(&res, 0, sizeof res);
    if (n == 0) {
        append(detail, dlen, "%s%s: internal error", detail[0] ? "; " : "", version_text(cap));
        return -1;
    }
    raw_tls_exchange(p, hello, n, 0, &res);
    char why[300];
    if (res.outcome != RAW_SERVER_HELLO || res.version != cap) {
        raw_describe(&res, why, sizeof why);
        append(detail, dlen, "%sa ClientHello capped at %s got %s: no conclusion",
               detail[0] ? "; " : "", version_text(cap), why);
        return -1;
    }
    const uint8_t *tail = res.random + 24;
    if (memcmp(tail, expect8, 8) == 0) {
        append(detail, dlen, "%s%s ServerHello.random ends in %s", detail[0] ? "; " : "",
               version_text(cap), expect_text);
        return 1;
    }
    const char *other = memcmp(tail, "DOWNGRD\x01", 8) == 0   ? "DOWNGRD\\x01"
                        : memcmp(tail, "DOWNGRD\x00", 8) == 0 ? "DOWNGRD\\x00"
                                                              : NULL;
    if (other)
        append(detail, dlen, "%s%s ServerHello.random ends in %s, not %s", detail[0] ? "; " : "",
               version_text(cap), other, expect_text);
    else
        append(detail, dlen, "%s%s ServerHello.random has no sentinel (%s expected)",
               detail[0] ? "; " : "", version_text(cap), expect_text);
    return 0;
}

static void check_sentinel(struct probe *p)
{
    struct check *ck = &p->sentinel;
    ck->value = -1;
    int acc13 = p->v[I_TLS13].accepted, acc12 = p->v[I_TLS12].accepted;
    int low = highest_accepted(p, I_TLS12); /* TLS 1.1, 1.0 or SSL 3.0 */
    int conclusive = 0, all_found = 1;
    if (acc13 && acc12) {
        progress(p, "checking the downgrade sentinels (TLSv1.2)...");
        int r = sentinel_one(p, V_TLS12, "DOWNGRD\x01", "DOWNGRD\\x01", ck->detail,
                             sizeof ck->detail);
        if (r >= 0) {
            conclusive = 1;
            all_found &= r;
        }
    }
    if (low >= 0 && (acc12 || acc13)) {
        progress(p, "checking the downgrade sentinels (%s)...", vname(low));
        int r = sentinel_one(p, version_of[low], "DOWNGRD\x00", "DOWNGRD\\x00", ck->detail,
                             sizeof ck->detail);
        if (r >= 0) {
            conclusive = 1;
            all_found &= r;
        }
    }
    if (!ck->detail[0])
        snprintf(ck->detail, sizeof ck->detail,
                 "not applicable: the server accepts no version below one it prefers");
    else if (conclusive)
        ck->value = all_found;
}

static void check_fallback_scsv(struct probe *p)
{
    struct check *ck = &p->scsv;
    ck->value = -1;
    int top = highest_accepted(p, N_VERSIONS);
    int low = top >= 0 ? highest_accepted(p, top) : -1;
    if (low < 0) {
        snprintf(ck->detail, sizeof ck->detail,
                 "not applicable: the server accepts %s",
                 top < 0 ? "no SSL 3.0 / TLS version" : "a single version");
        return;
    }
    const char *tv = vname(top), *lv = vname(low);
    progress(p, "checking TLS_FALLBACK_SCSV (%s)...", lv);
    if (version_of[low] >= V_TLS10) {
        struct lib_result lr;
        lib_handshake(p, version_of[low], 1, NULL, &lr);
        if (lr.ok) {
            ck->value = 0;
            snprintf(ck->detail, sizeof ck->detail,
                     "a %s handshake with TLS_FALLBACK_SCSV succeeded although the server "
                     "supports %s",
                     lv, tv);
            return;
        }
        if (is_remote_alert(&lr.err, TLSV_ALERT_INAPPROPRIATE_FALLBACK)) {
            ck->value = 1;
            snprintf(ck->detail, sizeof ck->detail,
                     "a %s ClientHello with TLS_FALLBACK_SCSV got inappropriate_fallback",
                     lv);
            return;
        }
        if (lr.net_fail || lr.timeout) {
            snprintf(ck->detail, sizeof ck->detail, "no conclusion: %s", lr.err.message);
            return;
        }
    }
    /* SSL 3.0, or a handshake tlsv could not complete: a hand-built hello */
    struct raw_result res;
    raw_version_hello(p, version_of[low], 1, 0, 0, &res);
    char why[300];
    raw_describe(&res, why, sizeof why);
    if (res.outcome == RAW_SERVER_HELLO && res.version == version_of[low]) {
        ck->value = 0;
        snprintf(ck->detail, sizeof ck->detail,
                 "a %s ClientHello with TLS_FALLBACK_SCSV got a ServerHello although the "
                 "server supports %s",
                 lv, tv);
    } else if (res.outcome == RAW_ALERT && res.alert == TLSV_ALERT_INAPPROPRIATE_FALLBACK) {
        ck->value = 1;
        snprintf(ck->detail, sizeof ck->detail,
                 "a %s ClientHello with TLS_FALLBACK_SCSV got inappropriate_fallback", lv);
    } else {
        snprintf(ck->detail, sizeof ck->detail,
                 "no conclusion: a %s ClientHello with TLS_FALLBACK_SCSV got %s", lv, why);
    }
}

static void check_version_tolerance(struct probe *p)
{
    struct check *ck = &p->tolerance;
    ck->value = -1;
    int any_tls = 0;
    for (int i = I_TLS10; i <= I_TLS13; i++)
        any_tls |= p->v[i].accepted;
    if (!any_tls) {
        snprintf(ck->detail, sizeof ck->detail, "not applicable: the server accepts no TLS version");
        return;
    }
    progress(p, "checking version tolerance...");
    unsigned sv[] = {grease(5), 0x0305, V_TLS13, V_TLS12, V_TLS11, V_TLS10};
    struct hello_opts o;
    memset(&o, 0, sizeof o);
    o.version = V_TLS12;
    o.sv = sv;
    o.n_sv = sizeof sv / sizeof sv[0];
    o.tls13 = 1;
    o.grease = 1;
    uint8_t hello[2048];
    size_t n = build_client_hello(p, &o, hello, sizeof hello);
    if (n == 0) {
        snprintf(ck->detail, sizeof ck->detail, "no conclusion: internal error");
        return;
    }
    struct raw_result res;
    raw_tls_exchange(p, hello, n, 0, &res);
    char why[300], vb[16];
    raw_describe(&res, why, sizeof why);
    const char *offer = "a ClientHello offering 0x0305 and GREASE";
    switch (res.outcome) {
    case RAW_SERVER_HELLO:
        if (res.version > V_TLS13 || (res.version & 0x0f0f) == 0x0a0a) {
            ck->value = 0;
            snprintf(ck->detail, sizeof ck->detail,
                     "%s: the server selected %s, a version it cannot support", offer,
                     version_or_hex(res.version, vb, sizeof vb));
        } else {
            ck->value = 1;
            snprintf(ck->detail, sizeof ck->detail, "%s: %s", offer, why);
        }
        break;
    case RAW_CONNECT_FAILED:
        snprintf(ck->detail, sizeof ck->detail, "no conclusion: %s", why);
        break;
    default:
        ck->value = 0;
        snprintf(ck->detail, sizeof ck->detail, "%s: %s", offer, why);
        break;
    }
}

/* ---------------------------------------------------------------------- */
/* verdicts                                                               */
/* ---------------------------------------------------------------------- */

struct verdict {
    const char *verdict;  /* this server's use of the version */
    const char *rating;   /* the version's standing */
    const char *rfc;
};

static struct verdict version_verdict(const struct probe *p, int idx)
{
    const struct vresult *vr = &p->v[idx];
    struct verdict v = {"not offered", "secure", "RFC 8446"};
    switch (idx) {
    case I_SSL2: v.rating = "insecure"; v.rfc = "RFC 6176"; break;
    case I_SSL3: v.rating = "insecure"; v.rfc = "RFC 7568"; break;
    case I_TLS10:
    case I_TLS11: v.rating = "deprecated"; v.rfc = "RFC 8996"; break;
    case I_TLS12:
        v.rating = vr->accepted && vr->aead_available == 0 ? "acceptable" : "secure";
        v.rfc = "RFC 9325";
        break;
    default: break;
    }
    if (vr->accepted)
        v.verdict = v.rating;
    else if (!vr->tested)
        v.verdict = "not tested";
    return v;
}

static const char *overall_verdict(const struct probe *p)
{
    if (p->v[I_SSL2].accepted || p->v[I_SSL3].accepted)
        return "insecure";
    if (p->v[I_TLS10].accepted || p->v[I_TLS11].accepted)
        return "deprecated";
    if (p->v[I_TLS13].accepted)
        return "secure";
    if (p->v[I_TLS12].accepted)
        return p->v[I_TLS12].aead_available == 0 ? "acceptable" : "secure";
    return "none";
}

/* The summary sentence and the warnings (one per line in warn). */
static void summarize(const struct probe *p, char *summary, size_t slen, char warn[][200],
                      int *n_warn)
{
    char list[80] = "";
    *n_warn = 0;
    summary[0] = '\0';
    const char *overall = overall_verdict(p);
    if (strcmp(overall, "insecure") == 0) {
        for (int i = I_SSL2; i <= I_SSL3; i++)
            if (p->v[i].accepted)
                append(list, sizeof list, "%s%s", list[0] ? " and " : "", vname(i));
        snprintf(summary, slen, "accepts %s (%s)", list,
                 p->v[I_SSL2].accepted ? "RFC 6176" : "RFC 7568");
    } else if (strcmp(overall, "deprecated") == 0) {
        for (int i = I_TLS10; i <= I_TLS11; i++)
            if (p->v[i].accepted)
                append(list, sizeof list, "%s%s", list[0] ? " and " : "", vname(i));
        snprintf(summary, slen, "accepts %s (RFC 8996)", list);
    } else if (strcmp(overall, "none") == 0) {
        snprintf(summary, slen, "accepts no SSL or TLS version");
    } else {
        for (int i = I_TLS12; i <= I_TLS13; i++)
            if (p->v[i].accepted)
                append(list, sizeof list, "%s%s", list[0] ? " and " : "", vname(i));
        snprintf(summary, slen, "accepts only %s%s", list,
                 strcmp(overall, "acceptable") == 0 ? ", TLS 1.2 with CBC suites only (RFC 9325)"
                                                    : "");
    }
    if (p->sentinel.value == 0)
        snprintf(warn[(*n_warn)++], 200,
                 "downgrade sentinel missing: a MITM can downgrade unnoticed (RFC 8446 §4.1.3)");
    if (p->scsv.value == 0)
        snprintf(warn[(*n_warn)++], 200, "TLS_FALLBACK_SCSV not honoured (RFC 7507)");
    if (p->tolerance.value == 0)
        snprintf(warn[(*n_warn)++], 200,
                 "version intolerant: an unknown version or GREASE makes it fail (RFC 8446 §4.2.1, "
                 "RFC 8701)");
    if (!p->v[I_TLS13].accepted && (p->v[I_TLS12].accepted || p->v[I_TLS11].accepted ||
                                    p->v[I_TLS10].accepted))
        snprintf(warn[(*n_warn)++], 200, "TLS 1.3 not offered (RFC 9325 recommends it)");
}

/* ---------------------------------------------------------------------- */
/* output                                                                 */
/* ---------------------------------------------------------------------- */

static void json_check(FILE *out, const char *name, const struct check *ck)
{
    fprintf(out, ",\"%s\":%s", name, ck->value < 0 ? "null" : ck->value ? "true" : "false");
}

static void json_str_or_null_empty(FILE *out, const char *s)
{
    json_string_or_null(out, s && s[0] ? s : NULL);
}

static void print_json(const struct probe *p)
{
    FILE *out = stdout;
    fputs("{\"target\":", out);
    json_string_or_null(out, p->target);
    fputs(",\"address\":", out);
    json_str_or_null_empty(out, p->addr);
    fputs(",\"versions\":{", out);
    for (int i = 0; i < N_VERSIONS; i++) {
        const struct vresult *vr = &p->v[i];
        struct verdict v = version_verdict(p, i);
        fprintf(out, "%s\"%s\":{\"accepted\":%s", i ? "," : "", vname(i),
                vr->accepted ? "true" : "false");
        fputs(",\"cipher\":", out);
        json_str_or_null_empty(out, vr->accepted ? vr->cipher : NULL);
        fputs(",\"group\":", out);
        json_str_or_null_empty(out, vr->accepted ? vr->group : NULL);
        fprintf(out, ",\"verdict\":\"%s\",\"rating\":\"%s\",\"rfc\":\"%s\"", v.verdict, v.rating,
                v.rfc);
        if (i == I_TLS12 && vr->accepted)
            fprintf(out, ",\"aead\":%s",
                    vr->aead_available < 0 ? "null" : vr->aead_available ? "true" : "false");
        if (vr->accepted) {
            fprintf(out, ",\"handshake_completed\":%s", vr->completed ? "true" : "false");
        } else {
            fputs(",\"error\":", out);
            json_str_or_null_empty(out, vr->error);
            fputs(",\"alert\":", out);
            json_str_or_null_empty(out, vr->alert);
            fputs(",\"side\":", out);
            json_string_or_null(out, vr->side);
            fputs(",\"reason\":", out);
            json_str_or_null_empty(out, vr->reason);
        }
        if (vr->note[0]) {
            fputs(",\"note\":", out);
            json_string_or_null(out, vr->note);
        }
        fputs("}", out);
    }
    fputs("}", out);
    int top = highest_accepted(p, N_VERSIONS);
    if (top < 0 && p->v[I_SSL2].accepted)
        top = I_SSL2;
    fputs(",\"highest_version\":", out);
    json_string_or_null(out, top >= 0 ? vname(top) : NULL);
    json_check(out, "downgrade_sentinel", &p->sentinel);
    json_check(out, "fallback_scsv", &p->scsv);
    json_check(out, "version_tolerance", &p->tolerance);
    fputs(",\"details\":{\"downgrade_sentinel\":", out);
    json_string_or_null(out, p->sentinel.detail);
    fputs(",\"fallback_scsv\":", out);
    json_string_or_null(out, p->scsv.detail);
    fputs(",\"version_tolerance\":", out);
    json_string_or_null(out, p->tolerance.detail);
    fputs("}", out);
    char summary[300], warn[8][200];
    int n_warn;
    summarize(p, summary, sizeof summary, warn, &n_warn);
    fprintf(out, ",\"verdict\":\"%s\",\"summary\":", overall_verdict(p));
    json_string_or_null(out, summary);
    fputs(",\"warnings\":[", out);
    for (int i = 0; i < n_warn; i++) {
        if (i)
            fputc(',', out);
        json_string_or_null(out, warn[i]);
    }
    fputs("]}\n", out);
    fflush(out);
}

static const char *yes_no_na(int v)
{
    return v < 0 ? "n/a" : v ? "yes" : "NO";
}

static void print_table(const struct probe *p)
{
    FILE *out = stdout;
    fprintf(out, "tlsv probe %s (%s)\n\n", p->target, p->addr);
    fprintf(out, "%-9s %-26s %-30s %-10s %s\n", "version", "accepted", "cipher", "group",
            "verdict");
    for (int i = 0; i < N_VERSIONS; i++) {
        const struct vresult *vr = &p->v[i];
        struct verdict v = version_verdict(p, i);
        char acc[48], verdict[160];
        if (vr->accepted)
            snprintf(acc, sizeof acc, "yes");
        else
            snprintf(acc, sizeof acc, "no (%s)", vr->short_reason[0] ? vr->short_reason : "?");
        if (vr->accepted) {
            if (i == I_TLS12)
                snprintf(verdict, sizeof verdict, "%s (%s%s)", v.verdict,
                         vr->aead_available == 0 ? "CBC suites only, " :
                         vr->aead_available == 1 ? "AEAD, " : "", v.rfc);
            else
                snprintf(verdict, sizeof verdict, "%s (%s)", v.verdict, v.rfc);
        } else if (!vr->tested) {
            snprintf(verdict, sizeof verdict, "not tested");
        } else if (i <= I_TLS11) {
            snprintf(verdict, sizeof verdict, "not offered (good: %s, %s)", v.rating, v.rfc);
        } else if (i == I_TLS13) {
            snprintf(verdict, sizeof verdict, "not offered (%s recommends it)", v.rfc);
        } else {
            snprintf(verdict, sizeof verdict, "not offered");
        }
        fprintf(out, "%-9s %-26s %-30s %-10s %s\n", vname(i), acc,
                vr->accepted && vr->cipher[0] ? vr->cipher : "-",
                vr->accepted && vr->group[0] ? vr->group : "-", verdict);
    }
    for (int i = 0; i < N_VERSIONS; i++)
        if (p->v[i].note[0])
            fprintf(out, "  note: %s: %s\n", vname(i), p->v[i].note);
    fputc('\n', out);
    fprintf(out, "%-19s %-4s %s (RFC 8446 §4.1.3)\n", "downgrade sentinel",
            yes_no_na(p->sentinel.value), p->sentinel.detail);
    fprintf(out, "%-19s %-4s %s (RFC 7507)\n", "fallback SCSV", yes_no_na(p->scsv.value),
            p->scsv.detail);
    fprintf(out, "%-19s %-4s %s (RFC 8446 §4.2.1, RFC 8701)\n", "version tolerance",
            yes_no_na(p->tolerance.value), p->tolerance.detail);
    char summary[300], warn[8][200];
    int n_warn;
    summarize(p, summary, sizeof summary, warn, &n_warn);
    fprintf(out, "\nverdict: %s -- %s\n", overall_verdict(p), summary);
    for (int i = 0; i < n_warn; i++)
        fprintf(out, "warning: %s\n", warn[i]);
    fflush(out);
}

/* ---------------------------------------------------------------------- */
/* the command                                                            */
/* ---------------------------------------------------------------------- */

static int is_ip_literal(const char *host)
{
    struct in6_addr a6;
    struct in_addr a4;
    return inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1;
}

int tool_probe(int argc, char **argv)
{
    enum { OPT_JSON = 256, OPT_SERVERNAME, OPT_HELP };
    static const struct option longopts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"servername", required_argument, NULL, OPT_SERVERNAME},
        {"help", no_argument, NULL, OPT_HELP},
        {0, 0, 0, 0},
    };
    struct probe *p = calloc(1, sizeof *p);
    if (!p) {
        fprintf(stderr, "tlsv probe: out of memory\n");
        return 1;
    }
    const char *servername = NULL;
    int c, rc = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON: p->json = 1; break;
        case OPT_SERVERNAME: servername = optarg; break;
        case 'h':
        case OPT_HELP:
            free(p);
            return tool_help("probe", stdout); /* help.c */
        default:
            free(p);
            return tool_usage_error("%s", "bad option for tlsv probe");
        }
    }
    if (argc - optind != 1) {
        free(p);
        return tool_usage_error("%s", "probe needs exactly one HOST:PORT");
    }
    p->target = argv[optind];
    if (net_split_hostport(p->target, p->host, sizeof p->host, p->port, sizeof p->port) != 0) {
        free(p);
        return tool_usage_error("'%s' is not HOST:PORT", argv[optind]);
    }
    if (servername && !servername[0]) {
        free(p);
        return tool_usage_error("%s", "--servername needs a name");
    }
    p->sni = servername ? servername : is_ip_literal(p->host) ? NULL : p->host;
    p->lib_name = servername ? servername : p->host;
    p->tty = isatty(STDERR_FILENO);
    signal(SIGPIPE, SIG_IGN);
    {
        uint8_t b;
        random_bytes(&b, 1);
        grease_base = b & 0xf;
    }

    /* the first connection doubles as the reachability check: a server that
     * cannot be reached ends the probe with status 1 */
    for (int i = I_TLS13; i >= I_TLS10; i--) {
        if (skip_silent(p, &p->v[i]))
            continue;
        if (probe_tls_version(p, i) != 0 && i == I_TLS13) {
            progress_done(p);
            fprintf(stderr, "tlsv probe: %s\n", p->v[i].reason);
            if (p->json) {
                tlsv_error err;
                net_local_error(&err, TLSV_R_SYSCALL, "%s", p->v[i].reason);
                json_failure(stdout, &err);
            }
            free(p);
            return 1;
        }
    }
    probe_ssl3(p);
    probe_ssl2(p);
    check_sentinel(p);
    check_fallback_scsv(p);
    check_version_tolerance(p);
    progress_done(p);
    if (p->json)
        print_json(p);
    else
        print_table(p);
    /* a server that accepts nothing fails every client: status 1 (the
     * report says why) */
    if (strcmp(overall_verdict(p), "none") == 0)
        rc = 1;
    free(p);
    return rc;
}
