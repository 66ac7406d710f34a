/*
 * fuzz_buf.c -- libFuzzer target for the bounded reader and writer (src/buf.h).
 *
 *   clang -fsanitize=fuzzer,address -I src -I include fuzz/fuzz_buf.c src/buf.c \
 *         -o fuzz_buf && ./fuzz_buf -runs=200000
 *
 * The input is both a program and the data it runs on. A "program" reader
 * walks the input from the front taking opcodes and arguments; a stack of
 * "data" readers -- the whole input at the bottom, length-prefixed
 * sub-vectors above it -- executes them. Beside every data reader runs a
 * shadow model made of plain offsets, computed without buf.c: each
 * operation's success or failure, the value it returns and where the cursor
 * ends up must agree with the model exactly (in particular, a failure never
 * moves the cursor and sticks, and no read ever leaves the input; ASan
 * checks the latter independently).
 *
 * Every value successfully read is also written, tagged, into a growable
 * writer with a small hard maximum, vectors mirrored as writer vectors. The
 * writer's successes and failures are checked against their own model
 * (maximum reached, prefix width overflowed), and when it finishes intact
 * its output is read back and must reproduce the log of values exactly.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define DEPTH (TLSV_WR_MAX_DEPTH)
#define MAX_EVENTS 1024
#define WR_MAX 2048

/* Shadow of a data reader: absolute offsets into the input. */
struct shadow {
    size_t off, rem;
    bool failed;
};

enum ev_kind { EV_INT, EV_BYTES, EV_OPEN, EV_CLOSE };
struct event {
    enum ev_kind kind;
    unsigned width;
    uint64_t value;
    const uint8_t *bytes;
    size_t n;
};

struct fuzz {
    const uint8_t *in;
    size_t size;
    tlsv_reader rd[DEPTH + 1];
    struct shadow sh[DEPTH + 1];
    size_t depth;

    /* the writer mirror */
    tlsv_writer w;
    bool logging; /* writer still intact and log not full */
    size_t wopen; /* vectors open in the writer */
    unsigned wwidth[DEPTH]; /* their prefix widths */
    struct event ev[MAX_EVENTS];
    size_t nev;
};

static uint64_t naive_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 256u + p[i];
    return v;
}

static size_t width_limit(unsigned width)
{
    return width == 1 ? 0xffu : width == 2 ? 0xffffu : 0xffffffu;
}

/* The reader at the top of the stack agrees with its shadow. */
static void check_top(const struct fuzz *f)
{
    const tlsv_reader *r = &f->rd[f->depth];
    const struct shadow *s = &f->sh[f->depth];
    CHECK(tlsv_rd_remaining(r) == s->rem);
    CHECK(tlsv_rd_ok(r) == !s->failed);
    CHECK(tlsv_rd_empty(r) == (s->rem == 0));
    CHECK(tlsv_rd_done(r) == (!s->failed && s->rem == 0));
    if (s->rem > 0)
        CHECK(tlsv_rd_data(r) == f->in + s->off);
    else
        CHECK(tlsv_rd_data(r) == NULL);
}

/* ---- the writer mirror ------------------------------------------------ */

/* Stops mirroring (the writer failed for a reason the model predicted, or
 * the log is full). */
static void stop_logging(struct fuzz *f) { f->logging = false; }

static bool log_room(struct fuzz *f, size_t wbytes)
{
    if (!f->logging)
        return false;
    if (f->nev + 1 + f->wopen >= MAX_EVENTS) { /* keep room for final closes */
        stop_logging(f);
        return false;
    }
    /* the model of the writer's maximum: the write must fail iff it does
     * not fit; callers check that */
    (void)wbytes;
    return true;
}

static void mirror_int(struct fuzz *f, unsigned width, uint64_t v)
{
    if (!log_room(f, 1 + width))
        return;
    size_t before = tlsv_wr_len(&f->w);
    bool fits = 1 + width <= WR_MAX - before;
    bool ok = tlsv_wr_u8(&f->w, width);
    switch (width) {
    case 1: ok = tlsv_wr_u8(&f->w, (uint32_t)v) && ok; break;
    case 2: ok = tlsv_wr_u16(&f->w, (uint32_t)v) && ok; break;
    case 3: ok = tlsv_wr_u24(&f->w, (uint32_t)v) && ok; break;
    case 4: ok = tlsv_wr_u32(&f->w, (uint32_t)v) && ok; break;
    default: ok = tlsv_wr_u64(&f->w, v) && ok; break;
    }
    CHECK(ok == fits);
    if (!ok) {
        CHECK(!tlsv_wr_ok(&f->w));
        CHECK(tlsv_wr_len(&f->w) <= WR_MAX);
        stop_logging(f);
        return;
    }
    CHECK(tlsv_wr_len(&f->w) == before + 1 + width);
    f->ev[f->nev++] = (struct event){.kind = EV_INT, .width = width, .value = v};
}

/* Bytes go in three ways (selected by `how`): tlsv_wr_opaque, an opened
 * vector filled with tlsv_wr_space, or one filled through reserve/commit
 * with a little unused room. */
static void mirror_bytes(struct fuzz *f, const uint8_t *p, size_t n, unsigned how)
{
    if (!log_room(f, 3 + n))
        return;
    size_t before = tlsv_wr_len(&f->w);
    bool fits = 3 + n <= WR_MAX - before;
    /* the last two ways open one more vector: refused at the depth limit */
    if (how % 3 != 0 && f->wopen >= TLSV_WR_MAX_DEPTH)
        fits = false;
    bool ok = tlsv_wr_u8(&f->w, 0x10);
    uint8_t *dst;
    switch (how % 3) {
    case 0: ok = tlsv_wr_opaque(&f->w, 2, p, n) && ok; break;
    case 1:
        ok = tlsv_wr_vec_open(&f->w, 2) && ok;
        ok = tlsv_wr_space(&f->w, n, &dst) && ok;
        if (ok && n > 0)
            memcpy(dst, p, n);
        ok = tlsv_wr_vec_close(&f->w) && ok;
        break;
    default: {
        size_t slack = how % 7;
        /* the reservation may legitimately fail on the slack alone */
        if (3 + n + slack > WR_MAX - before)
            slack = 0;
        ok = tlsv_wr_vec_open(&f->w, 2) && ok;
        ok = tlsv_wr_reserve(&f->w, n + slack, &dst) && ok;
        if (ok && n > 0)
            memcpy(dst, p, n);
        ok = tlsv_wr_commit(&f->w, n) && ok;
        ok = tlsv_wr_vec_close(&f->w) && ok;
        break;
    }
    }
    CHECK(ok == fits);
    if (!ok) {
        CHECK(!tlsv_wr_ok(&f->w));
        CHECK(tlsv_wr_len(&f->w) <= WR_MAX);
        stop_logging(f);
        return;
    }
    CHECK(tlsv_wr_len(&f->w) == before + 3 + n);
    f->ev[f->nev++] = (struct event){.kind = EV_BYTES, .bytes = p, .n = n};
}

static void mirror_open(struct fuzz *f, unsigned width)
{
    if (!log_room(f, 1 + width))
        return;
    size_t before = tlsv_wr_len(&f->w);
    bool fits = 1 + width <= WR_MAX - before;
    bool ok = tlsv_wr_u8(&f->w, 0x20 + width);
    ok = tlsv_wr_vec_open(&f->w, width) && ok;
    CHECK(ok == fits);
    if (!ok) {
        stop_logging(f);
        return;
    }
    f->wwidth[f->wopen++] = width;
    f->ev[f->nev++] = (struct event){.kind = EV_OPEN, .width = width};
}

static void mirror_close(struct fuzz *f)
{
    if (!f->logging || f->wopen == 0)
        return;
    size_t content = tlsv_wr_vec_len(&f->w);
    unsigned width = f->wwidth[f->wopen - 1];
    bool ok = tlsv_wr_vec_close(&f->w);
    CHECK(ok == (content <= width_limit(width))); /* 256 bytes in a u8 vector fail */
    if (!ok) {
        CHECK(!tlsv_wr_ok(&f->w));
        stop_logging(f);
        return;
    }
    f->wopen--;
    f->ev[f->nev++] = (struct event){.kind = EV_CLOSE};
}

/* Reads the writer's output back and compares it with the log. */
static void replay(const struct fuzz *f)
{
    tlsv_reader st[DEPTH + 1];
    size_t d = 0;
    tlsv_rd_init(&st[0], tlsv_wr_data(&f->w), tlsv_wr_len(&f->w));
    for (size_t i = 0; i < f->nev; i++) {
        const struct event *e = &f->ev[i];
        tlsv_reader *r = &st[d];
        uint8_t tag;
        switch (e->kind) {
        case EV_INT: {
            uint64_t v = 0;
            uint8_t v8;
            uint16_t v16;
            uint32_t v32;
            CHECK(tlsv_rd_u8(r, &tag) && tag == e->width);
            switch (e->width) {
            case 1: CHECK(tlsv_rd_u8(r, &v8)); v = v8; break;
            case 2: CHECK(tlsv_rd_u16(r, &v16)); v = v16; break;
            case 3: CHECK(tlsv_rd_u24(r, &v32)); v = v32; break;
            case 4: CHECK(tlsv_rd_u32(r, &v32)); v = v32; break;
            default: CHECK(tlsv_rd_u64(r, &v)); break;
            }
            CHECK(v == e->value);
            break;
        }
        case EV_BYTES: {
            tlsv_reader b;
            CHECK(tlsv_rd_u8(r, &tag) && tag == 0x10);
            CHECK(tlsv_rd_vec16(r, &b));
            CHECK(tlsv_rd_remaining(&b) == e->n);
            if (e->n > 0)
                CHECK(memcmp(tlsv_rd_data(&b), e->bytes, e->n) == 0);
            break;
        }
        case EV_OPEN:
            CHECK(tlsv_rd_u8(r, &tag) && tag == 0x20 + e->width);
            CHECK(d < DEPTH);
            CHECK(tlsv_rd_vec(r, e->width, 0, SIZE_MAX, &st[d + 1]));
            d++;
            break;
        case EV_CLOSE:
            CHECK(d > 0 && tlsv_rd_done(r));
            d--;
            break;
        }
    }
    CHECK(d == 0 && tlsv_rd_done(&st[0]));
}

/* ---- the program ------------------------------------------------------ */

/* An argument byte from the program (0 when the program has run out). */
static size_t arg8(tlsv_reader *prog)
{
    uint8_t v = 0;
    tlsv_rd_u8(prog, &v);
    return v;
}

/* Applies the model of a consuming read of n bytes to the top shadow;
 * returns whether it should succeed. */
static bool model_take(struct shadow *s, size_t n)
{
    if (s->failed || n > s->rem) {
        s->failed = true;
        return false;
    }
    s->off += n;
    s->rem -= n;
    return true;
}

static void op_int(struct fuzz *f, unsigned width)
{
    tlsv_reader *r = &f->rd[f->depth];
    struct shadow *s = &f->sh[f->depth];
    size_t at = s->off;
    bool expect = model_take(s, width);
    uint64_t v = 1;
    uint8_t v8 = 1;
    uint16_t v16 = 1;
    uint32_t v32 = 1;
    bool ok;
    switch (width) {
    case 1: ok = tlsv_rd_u8(r, &v8); v = v8; break;
    case 2: ok = tlsv_rd_u16(r, &v16); v = v16; break;
    case 3: ok = tlsv_rd_u24(r, &v32); v = v32; break;
    case 4: ok = tlsv_rd_u32(r, &v32); v = v32; break;
    default: ok = tlsv_rd_u64(r, &v); break;
    }
    CHECK(ok == expect);
    CHECK(v == (ok ? naive_be(f->in + at, width) : 0));
    if (ok)
        mirror_int(f, width, v);
}

static void op_peek(struct fuzz *f, size_t sel)
{
    const tlsv_reader *r = &f->rd[f->depth];
    const struct shadow *s = &f->sh[f->depth];
    unsigned width = (unsigned)(sel % 3) + 1;
    bool expect = !s->failed && width <= s->rem;
    uint64_t v;
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    bool ok;
    switch (width) {
    case 1: ok = tlsv_rd_peek_u8(r, &v8); v = v8; break;
    case 2: ok = tlsv_rd_peek_u16(r, &v16); v = v16; break;
    default: ok = tlsv_rd_peek_u24(r, &v32); v = v32; break;
    }
    CHECK(ok == expect);
    CHECK(v == (ok ? naive_be(f->in + s->off, width) : 0));
}

static void op_bytes(struct fuzz *f, unsigned kind, size_t n, unsigned how)
{
    tlsv_reader *r = &f->rd[f->depth];
    struct shadow *s = &f->sh[f->depth];
    size_t at = s->off;
    uint8_t tmp[256 + 1];
    tmp[n] = 0xa5; /* canary just past the n bytes asked for */
    bool ok;
    bool expect;
    switch (kind) {
    case 0: /* peek */
        expect = !s->failed && n <= s->rem;
        ok = tlsv_rd_peek(r, tmp, n);
        CHECK(ok == expect);
        if (n > 0)
            CHECK(ok ? memcmp(tmp, f->in + at, n) == 0 : (tmp[0] == 0 && tmp[n - 1] == 0));
        break;
    case 1: /* copy */
        expect = model_take(s, n);
        ok = tlsv_rd_copy(r, tmp, n);
        CHECK(ok == expect);
        if (n > 0)
            CHECK(ok ? memcmp(tmp, f->in + at, n) == 0 : (tmp[0] == 0 && tmp[n - 1] == 0));
        if (ok)
            mirror_bytes(f, f->in + at, n, how);
        break;
    default: { /* view */
        const uint8_t *p = f->in;
        expect = model_take(s, n);
        ok = tlsv_rd_view(r, n, &p);
        CHECK(ok == expect);
        if (ok && n > 0)
            CHECK(p == f->in + at);
        else
            CHECK(p == NULL);
        if (ok)
            mirror_bytes(f, f->in + at, n, how);
        break;
    }
    }
    CHECK(tmp[n] == 0xa5);
}

static void op_skip(struct fuzz *f, size_t n)
{
    bool expect = model_take(&f->sh[f->depth], n);
    CHECK(tlsv_rd_skip(&f->rd[f->depth], n) == expect);
}

/* Pushes a sub-reader: a fixed-length one (width 0) or a length-prefixed
 * vector of width 1..3 (or an invalid width 4) with bounds [min, max]. */
static void op_push(struct fuzz *f, unsigned width, size_t n_or_min, size_t max)
{
    if (f->depth >= DEPTH)
        return;
    tlsv_reader *r = &f->rd[f->depth];
    struct shadow *s = &f->sh[f->depth];
    tlsv_reader child;
    child.p = f->in; /* garbage the call must overwrite */
    child.len = 12345;
    child.failed = false;
    size_t at = s->off;
    size_t body_off = 0, body_len = 0;
    bool expect, ok;

    if (width == 0) {
        body_off = at;
        body_len = n_or_min;
        expect = model_take(s, n_or_min);
        ok = tlsv_rd_sub(r, n_or_min, &child);
    } else {
        /* the model of a vector, from the raw bytes */
        expect = false;
        if (width <= 3 && !s->failed && width <= s->rem) {
            size_t len = (size_t)naive_be(f->in + at, width);
            if (len >= n_or_min && len <= max && len <= s->rem - width) {
                expect = true;
                body_off = at + width;
                body_len = len;
            }
        }
        if (expect) {
            s->off += width + body_len;
            s->rem -= width + body_len;
        } else {
            s->failed = true;
        }
        if (width == 1 && n_or_min == 0 && max == SIZE_MAX)
            ok = tlsv_rd_vec8(r, &child);
        else if (width == 2 && n_or_min == 0 && max == SIZE_MAX)
            ok = tlsv_rd_vec16(r, &child);
        else if (width == 3 && n_or_min == 0 && max == SIZE_MAX)
            ok = tlsv_rd_vec24(r, &child);
        else
            ok = tlsv_rd_vec(r, width, n_or_min, max, &child);
    }
    CHECK(ok == expect);
    check_top(f);
    if (!ok) {
        /* failed: an empty failed child, the parent unmoved (check_top) */
        CHECK(!tlsv_rd_ok(&child) && tlsv_rd_remaining(&child) == 0);
        return;
    }
    f->depth++;
    f->rd[f->depth] = child;
    f->sh[f->depth] = (struct shadow){.off = body_off, .rem = body_len, .failed = false};
    check_top(f);
    mirror_open(f, width == 0 ? 3 : width);
}

static void op_pop(struct fuzz *f)
{
    if (f->depth == 0)
        return;
    f->depth--;
    mirror_close(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz f; /* large; reset below */
    memset(&f, 0, sizeof(f));
    f.in = data;
    f.size = size;
    tlsv_rd_init(&f.rd[0], data, size);
    f.sh[0] = (struct shadow){.off = 0, .rem = size, .failed = false};
    if (!tlsv_wr_init_growable(&f.w, 0, WR_MAX))
        return 0;
    f.logging = true;

    tlsv_reader prog;
    tlsv_rd_init(&prog, data, size);
    tlsv_reader mark = f.rd[0];
    size_t mark_depth = 0;
    struct shadow mark_sh = f.sh[0];

    for (int steps = 0; steps < 4096 && !tlsv_rd_empty(&prog); steps++) {
        uint8_t op = 0;
        CHECK(tlsv_rd_u8(&prog, &op));
        size_t a = arg8(&prog);
        switch (op % 20) {
        case 0: op_int(&f, 1); break;
        case 1: op_int(&f, 2); break;
        case 2: op_int(&f, 3); break;
        case 3: op_int(&f, 4); break;
        case 4: op_int(&f, 8); break;
        case 5: op_peek(&f, a); break;
        case 6: op_bytes(&f, 0, a, 0); break;
        case 7: op_bytes(&f, 1, a, (unsigned)(op / 20)); break;
        case 8: op_bytes(&f, 2, a, (unsigned)(op / 20)); break;
        case 9: op_skip(&f, a * 256 + arg8(&prog)); break;
        case 10: op_skip(&f, a == 0xff ? SIZE_MAX - arg8(&prog) : a); break;
        case 11: op_push(&f, 0, a, 0); break;
        case 12: op_push(&f, 1 + (unsigned)(a % 3), 0, SIZE_MAX); break;
        case 13: { /* bounded vector: width 1..4 (4 is invalid), min, max */
            size_t mn = arg8(&prog), mx = arg8(&prog);
            op_push(&f, 1 + (unsigned)(a % 4), mn * (a & 0x10 ? 256 : 1),
                    a & 0x20 ? SIZE_MAX : mx * (a & 0x40 ? 257 : 1));
            break;
        }
        case 14:
        case 15: op_pop(&f); break;
        case 16: /* a semantic failure */
            tlsv_rd_fail(&f.rd[f.depth]);
            f.sh[f.depth].failed = true;
            break;
        case 17: /* save a mark */
            mark = f.rd[f.depth];
            mark_sh = f.sh[f.depth];
            mark_depth = f.depth;
            break;
        case 18: { /* bytes since the mark */
            const uint8_t *p = f.in;
            size_t n = 7;
            const struct shadow *s = &f.sh[f.depth];
            bool ok = tlsv_rd_since(&mark, &f.rd[f.depth], &p, &n);
            if (mark_depth == f.depth && mark_sh.off <= s->off &&
                mark_sh.off + mark_sh.rem == s->off + s->rem) {
                /* the same range, later (or same) position */
                CHECK(ok);
                CHECK(n == s->off - mark_sh.off);
                CHECK(n == 0 ? p == NULL : p == f.in + mark_sh.off);
            } else if (!ok) {
                CHECK(p == NULL && n == 0);
            } else {
                /* a different reader that happens to share the range end */
                CHECK(n <= size && (n == 0 || (p >= f.in && p + n <= f.in + size)));
            }
            break;
        }
        default: { /* rd_done must match the model at the top */
            check_top(&f);
            break;
        }
        }
        check_top(&f);
    }

    /* Close what is still open in the writer and read it back. */
    while (f.logging && f.wopen > 0)
        mirror_close(&f);
    if (f.logging) {
        CHECK(tlsv_wr_ok(&f.w));
        replay(&f);
        uint8_t *out;
        size_t n;
        size_t len = tlsv_wr_len(&f.w);
        CHECK(tlsv_wr_detach(&f.w, &out, &n));
        CHECK(n == len);
        tlsv_memwipe(out, n);
        free(out);
    }
    tlsv_wr_release(&f.w);
    return 0;
}
