/*
 * buf.c -- the bounded reader and writer (contracts in buf.h).
 *
 * Every bounds check compares a requested count with what is left, never
 * computes an end pointer first: `n > r->len`, `n > w->max - w->len`.
 * Neither can overflow, so there is no length a peer can send that slips
 * through by wrapping around. A NULL data pointer with length 0 is a valid
 * empty range; the code never adds an offset to it (not even 0), nor passes
 * it to memcpy/memset.
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

/* ---- wiping ----------------------------------------------------------- */

/* Calling memset through a volatile function pointer keeps the compiler from
 * proving the call dead and dropping it before a free(). */
static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;

void tlsv_memwipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        wipe_memset(p, 0, n);
}

/* ---- big-endian helpers ------------------------------------------------ */

static uint64_t be_load(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static void be_store(uint8_t *p, size_t n, uint64_t v)
{
    for (size_t i = n; i > 0; i--) {
        p[i - 1] = (uint8_t)(v & 0xffu);
        v >>= 8;
    }
}

static size_t width_max(unsigned width)
{
    switch (width) {
    case 1: return TLSV_U8_MAX;
    case 2: return TLSV_U16_MAX;
    case 3: return TLSV_U24_MAX;
    default: return 0;
    }
}

/* ======================================================================
 * Reader
 * ====================================================================== */

void tlsv_rd_init(tlsv_reader *r, const uint8_t *data, size_t len)
{
    r->p = data;
    r->len = data != NULL ? len : 0;
    r->failed = false;
}

/* An empty reader that is marked failed: what a failed sub-reader request
 * hands out. */
static void rd_set_failed_empty(tlsv_reader *r)
{
    r->p = NULL;
    r->len = 0;
    r->failed = true;
}

size_t tlsv_rd_remaining(const tlsv_reader *r) { return r->len; }
bool tlsv_rd_empty(const tlsv_reader *r) { return r->len == 0; }
bool tlsv_rd_ok(const tlsv_reader *r) { return !r->failed; }
bool tlsv_rd_done(const tlsv_reader *r) { return !r->failed && r->len == 0; }
void tlsv_rd_fail(tlsv_reader *r) { r->failed = true; }
const uint8_t *tlsv_rd_data(const tlsv_reader *r) { return r->len > 0 ? r->p : NULL; }

/* Whether n more bytes can be read. */
static bool rd_has(const tlsv_reader *r, size_t n) { return !r->failed && n <= r->len; }

/* Moves the cursor by n bytes, n <= r->len already checked. */
static void rd_advance(tlsv_reader *r, size_t n)
{
    if (n > 0) {
        r->p += n;
        r->len -= n;
    }
}

/* Reads (consume) or peeks (!consume) an n-byte big-endian integer. */
static bool rd_uint(tlsv_reader *r, size_t n, uint64_t *out, bool consume)
{
    if (!rd_has(r, n)) {
        *out = 0;
        if (consume)
            r->failed = true;
        return false;
    }
    *out = be_load(r->p, n);
    if (consume)
        rd_advance(r, n);
    return true;
}

bool tlsv_rd_u8(tlsv_reader *r, uint8_t *out)
{
    uint64_t v;
    bool ok = rd_uint(r, 1, &v, true);
    if (out != NULL)
        *out = (uint8_t)v;
    return ok;
}

bool tlsv_rd_u16(tlsv_reader *r, uint16_t *out)
{
    uint64_t v;
    bool ok = rd_uint(r, 2, &v, true);
    if (out != NULL)
        *out = (uint16_t)v;
    return ok;
}

bool tlsv_rd_u24(tlsv_reader *r, uint32_t *out)
{
    uint64_t v;
    bool ok = rd_uint(r, 3, &v, true);
    if (out != NULL)
        *out = (uint32_t)v;
    return ok;
}

bool tlsv_rd_u32(tlsv_reader *r, uint32_t *out)
{
    uint64_t v;
    bool ok = rd_uint(r, 4, &v, true);
    if (out != NULL)
        *out = (uint32_t)v;
    return ok;
}

bool tlsv_rd_u64(tlsv_reader *r, uint64_t *out)
{
    uint64_t v;
    bool ok = rd_uint(r, 8, &v, true);
    if (out != NULL)
        *out = v;
    return ok;
}

/* rd_uint never writes through r when !consume; the cast only lets the
 * peeks share it. */
bool tlsv_rd_peek_u8(const tlsv_reader *r, uint8_t *out)
{
    uint64_t v;
    bool ok = rd_uint((tlsv_reader *)r, 1, &v, false);
    if (out != NULL)
        *out = (uint8_t)v;
    return ok;
}

bool tlsv_rd_peek_u16(const tlsv_reader *r, uint16_t *out)
{
    uint64_t v;
    bool ok = rd_uint((tlsv_reader *)r, 2, &v, false);
    if (out != NULL)
        *out = (uint16_t)v;
    return ok;
}

bool tlsv_rd_peek_u24(const tlsv_reader *r, uint32_t *out)
{
    uint64_t v;
    bool ok = rd_uint((tlsv_reader *)r, 3, &v, false);
    if (out != NULL)
        *out = (uint32_t)v;
    return ok;
}

bool tlsv_rd_peek(const tlsv_reader *r, uint8_t *out, size_t n)
{
    if (!rd_has(r, n)) {
        if (out != NULL && n > 0)
            memset(out, 0, n);
        return false;
    }
    if (n > 0)
        memcpy(out, r->p, n);
    return true;
}

bool tlsv_rd_copy(tlsv_reader *r, uint8_t *out, size_t n)
{
    if (!tlsv_rd_peek(r, out, n)) {
        r->failed = true;
        return false;
    }
    rd_advance(r, n);
    return true;
}

bool tlsv_rd_view(tlsv_reader *r, size_t n, const uint8_t **out)
{
    if (!rd_has(r, n)) {
        *out = NULL;
        r->failed = true;
        return false;
    }
    *out = n > 0 ? r->p : NULL;
    rd_advance(r, n);
    return true;
}

bool tlsv_rd_skip(tlsv_reader *r, size_t n)
{
    if (!rd_has(r, n)) {
        r->failed = true;
        return false;
    }
    rd_advance(r, n);
    return true;
}

bool tlsv_rd_sub(tlsv_reader *r, size_t n, tlsv_reader *out)
{
    if (!rd_has(r, n)) {
        rd_set_failed_empty(out);
        r->failed = true;
        return false;
    }
    /* Even an empty child keeps its position (r->p, not NULL), so that
     * tlsv_rd_since() can place it. */
    tlsv_rd_init(out, r->p, n);
    rd_advance(r, n);
    return true;
}

bool tlsv_rd_vec(tlsv_reader *r, unsigned width, size_t min, size_t max, tlsv_reader *out)
{
    uint64_t n;
    size_t wmax = width_max(width);
    if (wmax == 0 || !rd_uint(r, width, &n, false) || n < min || n > max || n > wmax ||
        n > r->len - width) {
        rd_set_failed_empty(out);
        r->failed = true;
        return false;
    }
    /* Prefix and body are both there: take them together. */
    rd_advance(r, width);
    tlsv_rd_init(out, r->p, (size_t)n); /* positioned even when empty */
    rd_advance(r, (size_t)n);
    return true;
}

bool tlsv_rd_vec8(tlsv_reader *r, tlsv_reader *out)
{
    return tlsv_rd_vec(r, 1, 0, TLSV_U8_MAX, out);
}

bool tlsv_rd_vec16(tlsv_reader *r, tlsv_reader *out)
{
    return tlsv_rd_vec(r, 2, 0, TLSV_U16_MAX, out);
}

bool tlsv_rd_vec24(tlsv_reader *r, tlsv_reader *out)
{
    return tlsv_rd_vec(r, 3, 0, TLSV_U24_MAX, out);
}

bool tlsv_rd_since(const tlsv_reader *mark, const tlsv_reader *now, const uint8_t **p,
                   size_t *n)
{
    *p = NULL;
    *n = 0;
    if (now->len > mark->len)
        return false;
    size_t used = mark->len - now->len;
    if (used == 0)
        return true; /* same position (or both empty): nothing in between */
    /* mark->p + used stays inside mark's range, so the arithmetic is valid;
     * == between pointers into different objects is well defined. */
    if (mark->p + used != now->p)
        return false;
    *p = mark->p;
    *n = used;
    return true;
}

/* ======================================================================
 * Writer
 * ====================================================================== */

void tlsv_wr_init_fixed(tlsv_writer *w, uint8_t *buf, size_t cap)
{
    memset(w, 0, sizeof(*w));
    w->buf = buf;
    w->cap = buf != NULL ? cap : 0;
    w->max = w->cap;
}

bool tlsv_wr_init_growable(tlsv_writer *w, size_t initial, size_t max)
{
    memset(w, 0, sizeof(*w));
    w->growable = true;
    w->max = max;
    if (initial > max) {
        w->failed = true;
        return false;
    }
    if (initial > 0) {
        w->buf = malloc(initial);
        if (w->buf == NULL) {
            w->failed = true;
            return false;
        }
        w->cap = initial;
    }
    return true;
}

void tlsv_wr_release(tlsv_writer *w)
{
    if (w == NULL)
        return;
    if (w->growable && w->buf != NULL) {
        tlsv_memwipe(w->buf, w->cap);
        free(w->buf);
    }
    memset(w, 0, sizeof(*w));
    w->failed = true;
}

bool tlsv_wr_ok(const tlsv_writer *w) { return !w->failed; }
size_t tlsv_wr_len(const tlsv_writer *w) { return w->len; }
const uint8_t *tlsv_wr_data(const tlsv_writer *w) { return w->buf; }
void tlsv_wr_fail(tlsv_writer *w) { w->failed = true; }

/* Makes room for n more bytes after w->len, growing a heap buffer within
 * its maximum. Any call cancels a pending reservation. On failure marks the
 * writer failed. */
static bool wr_room(tlsv_writer *w, size_t n)
{
    w->reserved = 0;
    if (w->failed)
        return false;
    if (n > w->max - w->len) {
        w->failed = true;
        return false;
    }
    size_t need = w->len + n;
    if (need <= w->cap)
        return true;
    /* Only a growable writer gets here (a fixed one has max == cap). Grow
     * geometrically, at least 64 bytes, never past max. The old block is
     * copied and wiped by hand rather than realloc'd, so no stale copy of
     * possibly secret bytes is left behind in freed memory. */
    size_t ncap = w->cap < 32 ? 32 : w->cap;
    if (ncap <= w->max / 2)
        ncap *= 2;
    else
        ncap = w->max;
    if (ncap < need)
        ncap = need;
    if (ncap > w->max)
        ncap = w->max;
    uint8_t *nbuf = malloc(ncap);
    if (nbuf == NULL) {
        w->failed = true;
        return false;
    }
    if (w->buf != NULL) {
        if (w->len > 0)
            memcpy(nbuf, w->buf, w->len);
        tlsv_memwipe(w->buf, w->cap);
        free(w->buf);
    }
    w->buf = nbuf;
    w->cap = ncap;
    return true;
}

/* Appends an n-byte big-endian integer; v <= limit. */
static bool wr_uint(tlsv_writer *w, size_t n, uint64_t v, uint64_t limit)
{
    if (v > limit) {
        w->reserved = 0;
        w->failed = true;
        return false;
    }
    if (!wr_room(w, n))
        return false;
    be_store(w->buf + w->len, n, v);
    w->len += n;
    return true;
}

bool tlsv_wr_u8(tlsv_writer *w, uint32_t v) { return wr_uint(w, 1, v, TLSV_U8_MAX); }
bool tlsv_wr_u16(tlsv_writer *w, uint32_t v) { return wr_uint(w, 2, v, TLSV_U16_MAX); }
bool tlsv_wr_u24(tlsv_writer *w, uint32_t v) { return wr_uint(w, 3, v, TLSV_U24_MAX); }
bool tlsv_wr_u32(tlsv_writer *w, uint32_t v) { return wr_uint(w, 4, v, UINT32_MAX); }
bool tlsv_wr_u64(tlsv_writer *w, uint64_t v) { return wr_uint(w, 8, v, UINT64_MAX); }

bool tlsv_wr_bytes(tlsv_writer *w, const uint8_t *data, size_t n)
{
    if (n > 0 && data == NULL) {
        w->reserved = 0;
        w->failed = true;
        return false;
    }
    if (!wr_room(w, n))
        return false;
    if (n > 0) {
        memcpy(w->buf + w->len, data, n);
        w->len += n;
    }
    return true;
}

bool tlsv_wr_opaque(tlsv_writer *w, unsigned width, const uint8_t *data, size_t n)
{
    size_t wmax = width_max(width);
    if (wmax == 0 || n > wmax || (n > 0 && data == NULL)) {
        w->reserved = 0;
        w->failed = true;
        return false;
    }
    /* Check the whole thing fits before writing the prefix, so that a
     * failure leaves the length unchanged. */
    if (w->failed || n > w->max - w->len || width > w->max - w->len - n) {
        w->reserved = 0;
        w->failed = true;
        return false;
    }
    return wr_uint(w, width, n, wmax) && tlsv_wr_bytes(w, data, n);
}

bool tlsv_wr_space(tlsv_writer *w, size_t n, uint8_t **out)
{
    *out = NULL;
    if (!wr_room(w, n))
        return false;
    if (n > 0) {
        *out = w->buf + w->len;
        memset(*out, 0, n);
        w->len += n;
    }
    return true;
}

bool tlsv_wr_reserve(tlsv_writer *w, size_t n, uint8_t **out)
{
    *out = NULL;
    if (!wr_room(w, n))
        return false;
    w->reserved = n;
    if (n > 0)
        *out = w->buf + w->len;
    return true;
}

bool tlsv_wr_commit(tlsv_writer *w, size_t n)
{
    size_t reserved = w->reserved;
    w->reserved = 0;
    if (w->failed || n > reserved) {
        w->failed = true;
        return false;
    }
    /* The unused tail may hold what the caller wrote there (plaintext
     * before encryption, say): clear it. */
    if (reserved > n)
        tlsv_memwipe(w->buf + w->len + n, reserved - n);
    w->len += n;
    return true;
}

bool tlsv_wr_vec_open(tlsv_writer *w, unsigned width)
{
    if (width_max(width) == 0 || w->depth >= TLSV_WR_MAX_DEPTH) {
        w->reserved = 0;
        w->failed = true;
        return false;
    }
    size_t start = w->len;
    if (!wr_uint(w, width, 0, 0))
        return false;
    w->open[w->depth].start = start;
    w->open[w->depth].width = width;
    w->depth++;
    return true;
}

size_t tlsv_wr_vec_len(const tlsv_writer *w)
{
    if (w->depth == 0)
        return 0;
    const size_t body = w->open[w->depth - 1].start + w->open[w->depth - 1].width;
    return w->len - body;
}

bool tlsv_wr_vec_close(tlsv_writer *w)
{
    w->reserved = 0;
    if (w->failed || w->depth == 0) {
        w->failed = true;
        return false;
    }
    const unsigned width = w->open[w->depth - 1].width;
    const size_t n = tlsv_wr_vec_len(w);
    if (n > width_max(width)) {
        w->failed = true;
        return false;
    }
    be_store(w->buf + w->open[w->depth - 1].start, width, n);
    w->depth--;
    return true;
}

bool tlsv_wr_vec_discard(tlsv_writer *w)
{
    w->reserved = 0;
    if (w->failed || w->depth == 0) {
        w->failed = true;
        return false;
    }
    const size_t start = w->open[w->depth - 1].start;
    tlsv_memwipe(w->buf + start, w->len - start);
    w->len = start;
    w->depth--;
    return true;
}

bool tlsv_wr_detach(tlsv_writer *w, uint8_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!w->growable || w->failed || w->depth != 0)
        return false;
    *out = w->buf;
    *n = w->len;
    memset(w, 0, sizeof(*w));
    w->failed = true;
    return true;
}
