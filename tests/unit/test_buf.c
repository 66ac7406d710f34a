/*
 * test_buf.c -- the bounded reader and writer (src/buf.h).
 *
 * Each test states the property it checks: exact-boundary reads succeed,
 * one byte more fails without moving anything and sticks; length prefixes
 * that lie are refused; writers never pass their buffer or maximum; nested
 * vectors written are read back identically.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"

/* The reader's position, to check that a failure did not move it. */
#define assert_cursor(r, ptr, n)                                                                   \
    do {                                                                                           \
        assert_ptr_equal((r)->p, (ptr));                                                           \
        assert_int_equal(tlsv_rd_remaining(r), (n));                                               \
    } while (0)

static const uint8_t seq[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};

/* ======================================================================
 * Reader
 * ====================================================================== */

static void rd_integers_are_big_endian(void **state)
{
    (void)state;
    tlsv_reader r;
    tlsv_rd_init(&r, seq, sizeof(seq));
    assert_true(tlsv_rd_ok(&r));
    assert_false(tlsv_rd_empty(&r));
    assert_ptr_equal(tlsv_rd_data(&r), seq);

    uint8_t a;
    uint16_t b;
    uint32_t c, d;
    uint64_t e;
    assert_true(tlsv_rd_u8(&r, &a));
    assert_int_equal(a, 0x01);
    assert_true(tlsv_rd_u16(&r, &b));
    assert_int_equal(b, 0x0203);
    assert_true(tlsv_rd_u24(&r, &c));
    assert_int_equal(c, 0x040506);
    assert_int_equal(tlsv_rd_remaining(&r), 10);
    assert_true(tlsv_rd_u32(&r, &d));
    assert_int_equal(d, 0x0708090a);
    assert_int_equal(tlsv_rd_remaining(&r), 6);
    assert_ptr_equal(tlsv_rd_data(&r), seq + 10);

    tlsv_rd_init(&r, seq + 2, 8);
    assert_true(tlsv_rd_u64(&r, &e));
    assert_true(e == UINT64_C(0x030405060708090a));
    assert_true(tlsv_rd_empty(&r));
    assert_true(tlsv_rd_done(&r));
    assert_null(tlsv_rd_data(&r));

    /* A NULL output discards the value but still consumes it. */
    tlsv_rd_init(&r, seq, 4);
    assert_true(tlsv_rd_u16(&r, NULL));
    assert_true(tlsv_rd_u8(&r, NULL));
    assert_int_equal(tlsv_rd_remaining(&r), 1);
}

/* For every integer width: exactly width bytes read fine; width - 1 bytes
 * fail, leave the cursor, zero the output, and the failure sticks (a later
 * 1-byte read that would fit fails too). */
static void rd_integer_boundaries(void **state)
{
    (void)state;
    static const size_t widths[] = {1, 2, 3, 4, 8};
    static const uint8_t ff[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
        size_t k = widths[i];
        uint64_t v = 0;
        uint8_t v8 = 0;
        uint16_t v16 = 0;
        uint32_t v32 = 0;
        tlsv_reader r;

        /* exact */
        tlsv_rd_init(&r, ff, k);
        bool ok;
        switch (k) {
        case 1: ok = tlsv_rd_u8(&r, &v8); v = v8; break;
        case 2: ok = tlsv_rd_u16(&r, &v16); v = v16; break;
        case 3: ok = tlsv_rd_u24(&r, &v32); v = v32; break;
        case 4: ok = tlsv_rd_u32(&r, &v32); v = v32; break;
        default: ok = tlsv_rd_u64(&r, &v); break;
        }
        assert_true(ok);
        assert_true(v == (k == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * k)) - 1));
        assert_true(tlsv_rd_done(&r));

        /* one short: k - 1 bytes there */
        tlsv_rd_init(&r, ff, k - 1);
        v8 = 0x55;
        v16 = 0x5555;
        v32 = 0x55555555;
        v = 0x55;
        switch (k) {
        case 1: ok = tlsv_rd_u8(&r, &v8); v = v8; break;
        case 2: ok = tlsv_rd_u16(&r, &v16); v = v16; break;
        case 3: ok = tlsv_rd_u24(&r, &v32); v = v32; break;
        case 4: ok = tlsv_rd_u32(&r, &v32); v = v32; break;
        default: ok = tlsv_rd_u64(&r, &v); break;
        }
        assert_false(ok);
        assert_true(v == 0);
        assert_cursor(&r, ff, k - 1);
        assert_false(tlsv_rd_ok(&r));
        assert_false(tlsv_rd_done(&r));
        if (k > 1) {
            /* one byte is there, but the reader has failed */
            assert_false(tlsv_rd_u8(&r, &v8));
            assert_cursor(&r, ff, k - 1);
        }
    }

    /* A failed empty reader is not "done" even though nothing is left. */
    tlsv_reader r;
    tlsv_rd_init(&r, NULL, 0);
    assert_true(tlsv_rd_done(&r));
    assert_false(tlsv_rd_u8(&r, NULL));
    assert_true(tlsv_rd_empty(&r));
    assert_false(tlsv_rd_done(&r));
}

static void rd_u24_maxima(void **state)
{
    (void)state;
    static const uint8_t m[4] = {0xff, 0xff, 0xff, 0x00};
    tlsv_reader r;
    uint32_t v;
    tlsv_rd_init(&r, m, sizeof(m));
    assert_true(tlsv_rd_peek_u24(&r, &v));
    assert_int_equal(v, TLSV_U24_MAX);
    assert_true(tlsv_rd_u24(&r, &v));
    assert_int_equal(v, 0xffffff);
    assert_int_equal(tlsv_rd_remaining(&r), 1);

    /* A 3-byte length of 2^24-1 with only one byte behind it: refused. */
    tlsv_reader sub;
    tlsv_rd_init(&r, m, sizeof(m));
    assert_false(tlsv_rd_vec24(&r, &sub));
    assert_cursor(&r, m, sizeof(m));
    assert_false(tlsv_rd_ok(&sub));

    /* ... and the full 2^24-1 bytes behind it: accepted, exactly. */
    size_t total = 3 + (size_t)TLSV_U24_MAX;
    uint8_t *big = calloc(1, total + 1);
    assert_non_null(big);
    big[0] = big[1] = big[2] = 0xff;
    big[total - 1] = 0xab;
    tlsv_rd_init(&r, big, total);
    assert_true(tlsv_rd_vec24(&r, &sub));
    assert_true(tlsv_rd_done(&r));
    assert_int_equal(tlsv_rd_remaining(&sub), TLSV_U24_MAX);
    assert_true(tlsv_rd_skip(&sub, TLSV_U24_MAX - 1));
    uint8_t last;
    assert_true(tlsv_rd_u8(&sub, &last));
    assert_int_equal(last, 0xab);
    assert_true(tlsv_rd_done(&sub));

    /* One byte short of it: refused, nothing consumed. */
    tlsv_rd_init(&r, big, total - 1);
    assert_false(tlsv_rd_vec24(&r, &sub));
    assert_cursor(&r, big, total - 1);
    /* With a max below the length: refused too, even though the bytes are there. */
    tlsv_rd_init(&r, big, total);
    assert_false(tlsv_rd_vec(&r, 3, 0, TLSV_U24_MAX - 1, &sub));
    assert_cursor(&r, big, total);
    free(big);
}

static void rd_peeks_do_not_consume_or_stick(void **state)
{
    (void)state;
    tlsv_reader r;
    uint8_t a;
    uint16_t b;
    uint32_t c;
    uint8_t out[4];

    tlsv_rd_init(&r, seq, 3);
    assert_true(tlsv_rd_peek_u8(&r, &a));
    assert_int_equal(a, 0x01);
    assert_true(tlsv_rd_peek_u16(&r, &b));
    assert_int_equal(b, 0x0102);
    assert_true(tlsv_rd_peek_u24(&r, &c));
    assert_int_equal(c, 0x010203);
    assert_true(tlsv_rd_peek(&r, out, 3));
    assert_memory_equal(out, seq, 3);
    assert_true(tlsv_rd_peek(&r, NULL, 0));
    assert_cursor(&r, seq, 3);

    /* Past the end: false, zeroed output, but no sticky failure. */
    memset(out, 0x77, sizeof(out));
    assert_false(tlsv_rd_peek(&r, out, 4));
    assert_memory_equal(out, "\0\0\0\0", 4);
    tlsv_rd_init(&r, seq, 2);
    c = 7;
    assert_false(tlsv_rd_peek_u24(&r, &c));
    assert_int_equal(c, 0);
    assert_true(tlsv_rd_ok(&r));
    assert_true(tlsv_rd_peek_u16(&r, NULL));
    tlsv_rd_init(&r, seq, 1);
    b = 7;
    assert_false(tlsv_rd_peek_u16(&r, &b));
    assert_int_equal(b, 0);
    tlsv_rd_init(&r, NULL, 0);
    a = 7;
    assert_false(tlsv_rd_peek_u8(&r, &a));
    assert_int_equal(a, 0);
    assert_true(tlsv_rd_ok(&r));

    /* A failed reader answers no peek. */
    tlsv_rd_init(&r, seq, 3);
    tlsv_rd_fail(&r);
    assert_false(tlsv_rd_peek_u8(&r, &a));
    assert_false(tlsv_rd_peek(&r, out, 1));
    assert_cursor(&r, seq, 3);
}

static void rd_copy_view_skip(void **state)
{
    (void)state;
    tlsv_reader r;
    uint8_t out[16];
    const uint8_t *v;

    /* copy: exact boundary, then one past */
    tlsv_rd_init(&r, seq, 5);
    assert_true(tlsv_rd_copy(&r, out, 0));
    assert_true(tlsv_rd_copy(&r, out, 2));
    assert_memory_equal(out, seq, 2);
    memset(out, 0x77, sizeof(out));
    assert_false(tlsv_rd_copy(&r, out, 4)); /* 3 left */
    assert_memory_equal(out, "\0\0\0\0", 4);
    assert_int_equal(out[4], 0x77); /* only n bytes are touched */
    assert_cursor(&r, seq + 2, 3);
    assert_false(tlsv_rd_copy(&r, out, 1)); /* sticky */
    assert_cursor(&r, seq + 2, 3);

    tlsv_rd_init(&r, seq, 5);
    assert_true(tlsv_rd_skip(&r, 2));
    assert_true(tlsv_rd_copy(&r, out, 3));
    assert_memory_equal(out, seq + 2, 3);
    assert_true(tlsv_rd_done(&r));

    /* view: borrows, no copy */
    tlsv_rd_init(&r, seq, 16);
    assert_true(tlsv_rd_view(&r, 0, &v));
    assert_cursor(&r, seq, 16);
    assert_true(tlsv_rd_view(&r, 4, &v));
    assert_ptr_equal(v, seq);
    assert_true(tlsv_rd_view(&r, 12, &v));
    assert_ptr_equal(v, seq + 4);
    assert_true(tlsv_rd_done(&r));
    tlsv_rd_init(&r, seq, 16);
    assert_true(tlsv_rd_skip(&r, 10));
    v = seq;
    assert_false(tlsv_rd_view(&r, 7, &v));
    assert_null(v);
    assert_cursor(&r, seq + 10, 6);
    assert_false(tlsv_rd_view(&r, 0, &v)); /* sticky, even for 0 bytes */

    /* skip: exact, one past, a huge count (no wrap-around) */
    tlsv_rd_init(&r, seq, 16);
    assert_true(tlsv_rd_skip(&r, 0));
    assert_true(tlsv_rd_skip(&r, 16));
    assert_true(tlsv_rd_done(&r));
    tlsv_rd_init(&r, seq, 16);
    assert_false(tlsv_rd_skip(&r, 17));
    assert_cursor(&r, seq, 16);
    tlsv_rd_init(&r, seq + 1, 15);
    assert_false(tlsv_rd_skip(&r, SIZE_MAX));
    assert_cursor(&r, seq + 1, 15);
}

static void rd_sub_fixed_length(void **state)
{
    (void)state;
    tlsv_reader r, sub;
    uint16_t b;
    tlsv_rd_init(&r, seq, 6);
    assert_true(tlsv_rd_sub(&r, 4, &sub));
    assert_cursor(&r, seq + 4, 2);
    assert_cursor(&sub, seq, 4);
    assert_true(tlsv_rd_u16(&sub, &b));
    assert_true(tlsv_rd_u16(&sub, &b));
    assert_int_equal(b, 0x0304);
    /* the sub-reader cannot see its parent's bytes after its end */
    assert_false(tlsv_rd_u8(&sub, NULL));
    assert_true(tlsv_rd_ok(&r)); /* a child's failure is not the parent's */

    assert_true(tlsv_rd_sub(&r, 0, &sub));
    assert_true(tlsv_rd_done(&sub));
    assert_false(tlsv_rd_sub(&r, 3, &sub));
    assert_cursor(&r, seq + 4, 2);
    assert_false(tlsv_rd_ok(&sub));
    assert_true(tlsv_rd_empty(&sub));

    /* a failed parent hands out only failed children */
    assert_false(tlsv_rd_sub(&r, 1, &sub));
    assert_false(tlsv_rd_ok(&sub));
    assert_false(tlsv_rd_vec8(&r, &sub));
    assert_false(tlsv_rd_ok(&sub));
    assert_cursor(&r, seq + 4, 2);
}

static void rd_vectors_and_zero_length(void **state)
{
    (void)state;
    /* <01 aa> <00 02 bb cc> <00 00 00> <00> <00 00> trailing ee */
    static const uint8_t in[] = {0x01, 0xaa, 0x00, 0x02, 0xbb, 0xcc, 0x00,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0xee};
    tlsv_reader r, v;
    uint8_t a;
    tlsv_rd_init(&r, in, sizeof(in));

    assert_true(tlsv_rd_vec8(&r, &v));
    assert_int_equal(tlsv_rd_remaining(&v), 1);
    assert_true(tlsv_rd_u8(&v, &a));
    assert_int_equal(a, 0xaa);
    assert_true(tlsv_rd_done(&v));

    assert_true(tlsv_rd_vec16(&r, &v));
    assert_cursor(&v, in + 4, 2);

    assert_true(tlsv_rd_vec24(&r, &v)); /* zero-length 3-byte vector */
    assert_true(tlsv_rd_done(&v));
    assert_null(tlsv_rd_data(&v));
    assert_false(tlsv_rd_u8(&v, NULL));
    assert_true(tlsv_rd_vec8(&r, &v)); /* zero-length 1-byte vector */
    assert_true(tlsv_rd_done(&v));
    assert_true(tlsv_rd_vec16(&r, &v)); /* zero-length 2-byte vector */
    assert_true(tlsv_rd_done(&v));

    /* the trailing byte makes the outer reader "not done" */
    assert_true(tlsv_rd_ok(&r));
    assert_false(tlsv_rd_done(&r));
    assert_true(tlsv_rd_u8(&r, &a));
    assert_int_equal(a, 0xee);
    assert_true(tlsv_rd_done(&r));

    /* a zero-length vector at the very end of the input */
    static const uint8_t z[] = {0x00};
    tlsv_rd_init(&r, z, 1);
    assert_true(tlsv_rd_vec8(&r, &v));
    assert_true(tlsv_rd_done(&v));
    assert_true(tlsv_rd_done(&r));

    /* no room even for the prefix */
    tlsv_rd_init(&r, z, 1);
    assert_false(tlsv_rd_vec16(&r, &v));
    assert_cursor(&r, z, 1);
    assert_false(tlsv_rd_ok(&v));
}

/* The shape of every TLS bug this module exists for: an inner length that
 * claims more than its enclosing vector holds, though the whole input has
 * the bytes. The inner reader must refuse, the outer stays where it was. */
static void rd_nested_lying_inner_length(void **state)
{
    (void)state;
    /* outer vec16 of 4 bytes: { u16 type, vec8 claiming 5 bytes } then 6
     * more bytes that belong to the next structure. */
    static const uint8_t in[] = {0x00, 0x04, 0x00, 0x2b, 0x05, 0x01,
                                 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
    tlsv_reader r, outer, inner;
    uint16_t type;
    tlsv_rd_init(&r, in, sizeof(in));
    assert_true(tlsv_rd_vec16(&r, &outer));
    assert_cursor(&outer, in + 2, 4);
    assert_cursor(&r, in + 6, 6);
    assert_true(tlsv_rd_u16(&outer, &type));
    assert_int_equal(type, 0x002b);
    assert_false(tlsv_rd_vec8(&outer, &inner));
    assert_cursor(&outer, in + 4, 2); /* nothing consumed */
    assert_false(tlsv_rd_ok(&outer));
    assert_false(tlsv_rd_done(&outer));
    assert_false(tlsv_rd_ok(&inner));
    assert_true(tlsv_rd_empty(&inner));
    assert_true(tlsv_rd_ok(&r)); /* the caller decides how to propagate */

    /* An outer length that lies about the whole input. */
    static const uint8_t in2[] = {0x00, 0x05, 0x01, 0x02, 0x03, 0x04};
    tlsv_rd_init(&r, in2, sizeof(in2));
    assert_false(tlsv_rd_vec16(&r, &outer));
    assert_cursor(&r, in2, sizeof(in2));
    /* ... and exactly right */
    tlsv_rd_init(&r, in2, sizeof(in2) - 1);
    assert_false(tlsv_rd_vec16(&r, &outer));
    static const uint8_t in3[] = {0x00, 0x04, 0x01, 0x02, 0x03, 0x04};
    tlsv_rd_init(&r, in3, sizeof(in3));
    assert_true(tlsv_rd_vec16(&r, &outer));
    assert_true(tlsv_rd_done(&r));
    assert_int_equal(tlsv_rd_remaining(&outer), 4);
}

static void rd_vector_bounds(void **state)
{
    (void)state;
    static const uint8_t one[] = {0x01, 0xaa};
    static const uint8_t two[] = {0x02, 0xaa, 0xbb};
    static const uint8_t empty8[] = {0x00};
    tlsv_reader r, v;

    /* opaque x<2..254>: 1 byte is too short, 2 bytes fine */
    tlsv_rd_init(&r, one, sizeof(one));
    assert_false(tlsv_rd_vec(&r, 1, 2, 254, &v));
    assert_cursor(&r, one, sizeof(one));
    tlsv_rd_init(&r, two, sizeof(two));
    assert_true(tlsv_rd_vec(&r, 1, 2, 254, &v));
    assert_int_equal(tlsv_rd_remaining(&v), 2);

    /* opaque x<1..2^8-1> refuses the empty vector */
    tlsv_rd_init(&r, empty8, 1);
    assert_false(tlsv_rd_vec(&r, 1, 1, 255, &v));
    assert_cursor(&r, empty8, 1);
    /* <0..1>: two bytes are too many */
    tlsv_rd_init(&r, two, sizeof(two));
    assert_false(tlsv_rd_vec(&r, 1, 0, 1, &v));
    assert_cursor(&r, two, sizeof(two));
    /* exact: <2..2> */
    tlsv_rd_init(&r, two, sizeof(two));
    assert_true(tlsv_rd_vec(&r, 1, 2, 2, &v));
    /* a max beyond what the width expresses is just the width's max */
    tlsv_rd_init(&r, two, sizeof(two));
    assert_true(tlsv_rd_vec(&r, 1, 0, SIZE_MAX, &v));
    /* min > max can never be met */
    tlsv_rd_init(&r, two, sizeof(two));
    assert_false(tlsv_rd_vec(&r, 1, 3, 1, &v));

    /* widths other than 1, 2, 3 are refused */
    tlsv_rd_init(&r, two, sizeof(two));
    assert_false(tlsv_rd_vec(&r, 0, 0, 10, &v));
    assert_false(tlsv_rd_ok(&r));
    tlsv_rd_init(&r, seq, sizeof(seq));
    assert_false(tlsv_rd_vec(&r, 4, 0, 10, &v));
    assert_cursor(&r, seq, sizeof(seq));
    assert_false(tlsv_rd_ok(&v));
}

static void rd_fail_and_since(void **state)
{
    (void)state;
    tlsv_reader r, mark, other;
    const uint8_t *p;
    size_t n;

    tlsv_rd_init(&r, seq, sizeof(seq));
    assert_true(tlsv_rd_skip(&r, 3));
    mark = r;
    assert_true(tlsv_rd_since(&mark, &r, &p, &n)); /* nothing in between */
    assert_int_equal(n, 0);
    assert_true(tlsv_rd_u16(&r, NULL));
    assert_true(tlsv_rd_u24(&r, NULL));
    assert_true(tlsv_rd_since(&mark, &r, &p, &n));
    assert_ptr_equal(p, seq + 3);
    assert_int_equal(n, 5);
    assert_true(tlsv_rd_skip(&r, 8));
    assert_true(tlsv_rd_since(&mark, &r, &p, &n));
    assert_int_equal(n, 13);
    /* backwards: refused */
    assert_false(tlsv_rd_since(&r, &mark, &p, &n));
    assert_null(p);
    assert_int_equal(n, 0);
    /* another range: refused */
    static const uint8_t elsewhere[4] = {0};
    tlsv_rd_init(&other, elsewhere, 2);
    assert_false(tlsv_rd_since(&mark, &other, &p, &n));
    assert_null(p);

    /* a sub-reader's bytes since a mark taken on it, and an empty vector
     * at the end still knows where it is */
    static const uint8_t nested[] = {0x00, 0x05, 0xaa, 0xbb, 0xcc, 0x01, 0x00};
    tlsv_reader vec, inner;
    tlsv_rd_init(&r, nested, sizeof(nested));
    assert_true(tlsv_rd_vec16(&r, &vec));
    mark = vec;
    assert_true(tlsv_rd_skip(&vec, 2));
    assert_true(tlsv_rd_since(&mark, &vec, &p, &n));
    assert_ptr_equal(p, nested + 2);
    assert_int_equal(n, 2);
    assert_true(tlsv_rd_u8(&vec, NULL));
    assert_true(tlsv_rd_vec8(&vec, &inner)); /* 01 00: a vector holding one zero byte */
    assert_true(tlsv_rd_vec8(&inner, &other)); /* the empty vector inside it */
    assert_true(tlsv_rd_done(&other));
    assert_true(tlsv_rd_since(&mark, &other, &p, &n));
    assert_ptr_equal(p, nested + 2);
    assert_int_equal(n, 5);
    assert_true(tlsv_rd_done(&vec));
    assert_true(tlsv_rd_since(&mark, &vec, &p, &n));
    assert_int_equal(n, 5);

    /* tlsv_rd_fail: a semantic failure propagates like a short read */
    tlsv_rd_init(&r, seq, 4);
    assert_true(tlsv_rd_ok(&r));
    tlsv_rd_fail(&r);
    assert_false(tlsv_rd_ok(&r));
    assert_false(tlsv_rd_u8(&r, NULL));
    assert_cursor(&r, seq, 4);
    assert_false(tlsv_rd_done(&r));
}

/* ======================================================================
 * Writer
 * ====================================================================== */

static void wr_integers_and_ranges(void **state)
{
    (void)state;
    uint8_t buf[32];
    tlsv_writer w;
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_true(tlsv_wr_ok(&w));
    assert_int_equal(tlsv_wr_len(&w), 0);
    assert_ptr_equal(tlsv_wr_data(&w), buf);
    assert_true(tlsv_wr_u8(&w, 0x01));
    assert_true(tlsv_wr_u16(&w, 0x0203));
    assert_true(tlsv_wr_u24(&w, 0x040506));
    assert_true(tlsv_wr_u32(&w, 0x0708090a));
    assert_true(tlsv_wr_u64(&w, UINT64_C(0x0b0c0d0e0f101112)));
    assert_true(tlsv_wr_u24(&w, TLSV_U24_MAX));
    assert_int_equal(tlsv_wr_len(&w), 21);
    static const uint8_t want[21] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                     0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
                                     0x0f, 0x10, 0x11, 0x12, 0xff, 0xff, 0xff};
    assert_memory_equal(buf, want, sizeof(want));

    /* values that do not fit their width fail instead of being truncated */
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_false(tlsv_wr_u8(&w, 0x100));
    assert_int_equal(tlsv_wr_len(&w), 0);
    assert_false(tlsv_wr_ok(&w));
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_true(tlsv_wr_u16(&w, 0xffff));
    assert_false(tlsv_wr_u16(&w, 0x10000));
    assert_int_equal(tlsv_wr_len(&w), 2);
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_false(tlsv_wr_u24(&w, 0x1000000));
    assert_int_equal(tlsv_wr_len(&w), 0);
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_true(tlsv_wr_u32(&w, UINT32_MAX));
    assert_true(tlsv_wr_u64(&w, UINT64_MAX));
    assert_memory_equal(buf, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 12);

    /* tlsv_wr_fail sticks */
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    tlsv_wr_fail(&w);
    assert_false(tlsv_wr_ok(&w));
    assert_false(tlsv_wr_u8(&w, 1));
    assert_int_equal(tlsv_wr_len(&w), 0);
}

static void wr_fixed_overflow(void **state)
{
    (void)state;
    uint8_t buf[8];
    uint8_t guard[8];
    tlsv_writer w;

    /* exactly full succeeds */
    tlsv_wr_init_fixed(&w, buf, 7);
    assert_true(tlsv_wr_u32(&w, 0x01020304));
    assert_true(tlsv_wr_u24(&w, 0x050607));
    assert_int_equal(tlsv_wr_len(&w), 7);
    assert_true(tlsv_wr_ok(&w));
    /* one byte more fails, length unchanged, buf[7] untouched */
    buf[7] = 0x5a;
    assert_false(tlsv_wr_u8(&w, 0));
    assert_int_equal(tlsv_wr_len(&w), 7);
    assert_int_equal(buf[7], 0x5a);
    assert_false(tlsv_wr_ok(&w));

    /* a wide write that does not fit fails whole, and sticks */
    tlsv_wr_init_fixed(&w, buf, 7);
    assert_true(tlsv_wr_u32(&w, 1));
    assert_false(tlsv_wr_u32(&w, 2));
    assert_int_equal(tlsv_wr_len(&w), 4);
    assert_false(tlsv_wr_u8(&w, 3)); /* would fit, but the writer failed */
    assert_int_equal(tlsv_wr_len(&w), 4);
    assert_memory_equal(buf, "\0\0\0\1", 4);

    /* bytes: exact, then over; a huge n cannot wrap around */
    memset(guard, 0xee, sizeof(guard));
    tlsv_wr_init_fixed(&w, buf, 8);
    assert_true(tlsv_wr_bytes(&w, NULL, 0));
    assert_true(tlsv_wr_bytes(&w, guard, 8));
    assert_false(tlsv_wr_bytes(&w, guard, 1));
    tlsv_wr_init_fixed(&w, buf, 8);
    assert_true(tlsv_wr_u8(&w, 9));
    assert_false(tlsv_wr_bytes(&w, guard, SIZE_MAX));
    assert_int_equal(tlsv_wr_len(&w), 1);
    tlsv_wr_init_fixed(&w, buf, 8);
    assert_false(tlsv_wr_bytes(&w, NULL, 1)); /* NULL with a length */

    /* a zero-capacity writer refuses everything but nothing */
    tlsv_wr_init_fixed(&w, NULL, 0);
    assert_null(tlsv_wr_data(&w));
    assert_true(tlsv_wr_bytes(&w, NULL, 0));
    assert_false(tlsv_wr_u8(&w, 0));

    /* a vector prefix that does not fit */
    tlsv_wr_init_fixed(&w, buf, 2);
    assert_true(tlsv_wr_u8(&w, 0));
    assert_false(tlsv_wr_vec_open(&w, 2));
    assert_int_equal(tlsv_wr_len(&w), 1);

    /* release of a fixed writer leaves the caller's bytes alone */
    tlsv_wr_init_fixed(&w, buf, 8);
    assert_true(tlsv_wr_u8(&w, 0x42));
    tlsv_wr_release(&w);
    assert_int_equal(buf[0], 0x42);
    assert_false(tlsv_wr_ok(&w));
    assert_int_equal(tlsv_wr_len(&w), 0);
}

static void wr_vector_length_overflow(void **state)
{
    (void)state;
    uint8_t data[300];
    uint8_t buf[400];
    tlsv_writer w;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)i;

    /* 255 bytes fill a 1-byte-length vector exactly */
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_true(tlsv_wr_vec_open(&w, 1));
    assert_true(tlsv_wr_bytes(&w, data, 255));
    assert_int_equal(tlsv_wr_vec_len(&w), 255);
    assert_true(tlsv_wr_vec_close(&w));
    assert_int_equal(buf[0], 0xff);
    assert_int_equal(tlsv_wr_len(&w), 256);

    /* 256 do not: close fails and the failure sticks */
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_true(tlsv_wr_vec_open(&w, 1));
    assert_true(tlsv_wr_bytes(&w, data, 256));
    assert_false(tlsv_wr_vec_close(&w));
    assert_false(tlsv_wr_ok(&w));
    assert_false(tlsv_wr_u8(&w, 0));

    /* the same in one call */
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_true(tlsv_wr_opaque(&w, 1, data, 255));
    assert_int_equal(tlsv_wr_len(&w), 256);
    assert_int_equal(buf[0], 0xff);
    assert_memory_equal(buf + 1, data, 255);
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_false(tlsv_wr_opaque(&w, 1, data, 256));
    assert_int_equal(tlsv_wr_len(&w), 0);
    /* opaque fails whole when only the prefix would fit */
    tlsv_wr_init_fixed(&w, buf, 10);
    assert_false(tlsv_wr_opaque(&w, 2, data, 9));
    assert_int_equal(tlsv_wr_len(&w), 0);
    tlsv_wr_init_fixed(&w, buf, 10);
    assert_true(tlsv_wr_opaque(&w, 2, data, 8));
    assert_memory_equal(buf, "\x00\x08", 2);
    tlsv_wr_init_fixed(&w, buf, 10);
    assert_false(tlsv_wr_opaque(&w, 4, data, 1));
    tlsv_wr_init_fixed(&w, buf, 10);
    assert_false(tlsv_wr_opaque(&w, 1, NULL, 1));
    assert_int_equal(tlsv_wr_len(&w), 0);
    tlsv_wr_init_fixed(&w, buf, 10);
    assert_true(tlsv_wr_opaque(&w, 3, NULL, 0));
    assert_memory_equal(buf, "\0\0\0", 3);

    /* 2^16 bytes into a 2-byte-length vector; 2^16-1 fit */
    tlsv_writer g;
    assert_true(tlsv_wr_init_growable(&g, 0, 1u << 20));
    uint8_t *p;
    assert_true(tlsv_wr_vec_open(&g, 2));
    assert_true(tlsv_wr_space(&g, 0xffff, &p));
    assert_true(tlsv_wr_vec_close(&g));
    assert_int_equal(tlsv_wr_len(&g), 0x10001);
    assert_memory_equal(tlsv_wr_data(&g), "\xff\xff", 2);
    assert_true(tlsv_wr_vec_open(&g, 2));
    assert_true(tlsv_wr_space(&g, 0x10000, &p));
    assert_false(tlsv_wr_vec_close(&g));
    tlsv_wr_release(&g);
}

static void wr_vector_misuse_and_depth(void **state)
{
    (void)state;
    uint8_t buf[64];
    tlsv_writer w;

    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_int_equal(tlsv_wr_vec_len(&w), 0);
    assert_false(tlsv_wr_vec_close(&w)); /* nothing open */
    assert_false(tlsv_wr_ok(&w));
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_false(tlsv_wr_vec_discard(&w));
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_false(tlsv_wr_vec_open(&w, 0));
    assert_int_equal(tlsv_wr_len(&w), 0);
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_false(tlsv_wr_vec_open(&w, 4));

    /* nesting up to the limit works, one more fails */
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    for (unsigned i = 0; i < TLSV_WR_MAX_DEPTH; i++)
        assert_true(tlsv_wr_vec_open(&w, 1));
    size_t len = tlsv_wr_len(&w);
    assert_false(tlsv_wr_vec_open(&w, 1));
    assert_int_equal(tlsv_wr_len(&w), len);

    /* closing fills the innermost first; each length counts its children */
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_true(tlsv_wr_vec_open(&w, 1));
    assert_true(tlsv_wr_vec_open(&w, 2));
    assert_true(tlsv_wr_vec_open(&w, 3));
    assert_true(tlsv_wr_u8(&w, 0xaa));
    assert_int_equal(tlsv_wr_vec_len(&w), 1);
    assert_true(tlsv_wr_vec_close(&w));
    assert_int_equal(tlsv_wr_vec_len(&w), 4);
    assert_true(tlsv_wr_vec_close(&w));
    assert_int_equal(tlsv_wr_vec_len(&w), 6);
    assert_true(tlsv_wr_vec_close(&w));
    static const uint8_t want[] = {0x06, 0x00, 0x04, 0x00, 0x00, 0x01, 0xaa};
    assert_int_equal(tlsv_wr_len(&w), sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));

    /* discard drops prefix and content and wipes them; the outer goes on */
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_true(tlsv_wr_vec_open(&w, 2));
    assert_true(tlsv_wr_u16(&w, 0x1234));
    assert_true(tlsv_wr_vec_open(&w, 2));
    assert_true(tlsv_wr_u32(&w, 0xdeadbeef));
    assert_true(tlsv_wr_vec_discard(&w));
    assert_int_equal(tlsv_wr_len(&w), 4);
    assert_memory_equal(buf + 4, "\0\0\0\0\0\0", 6);
    assert_int_equal(tlsv_wr_vec_len(&w), 2);
    assert_true(tlsv_wr_vec_close(&w));
    assert_memory_equal(buf, "\x00\x02\x12\x34", 4);
    assert_true(tlsv_wr_ok(&w));
}

/* A handshake-shaped structure: type, u24 body { version, u8 session id,
 * u16 extensions { type, u16 data { u16 list { u8 entries } } } }, written
 * and read back field by field. */
static void wr_nested_roundtrip_through_reader(void **state)
{
    (void)state;
    static const uint8_t sid[5] = {1, 2, 3, 4, 5};
    uint8_t buf[128];
    tlsv_writer w;
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_true(tlsv_wr_u8(&w, 1));
    assert_true(tlsv_wr_vec_open(&w, 3));
    assert_true(tlsv_wr_u16(&w, 0x0303));
    assert_true(tlsv_wr_opaque(&w, 1, sid, sizeof(sid)));
    assert_true(tlsv_wr_vec_open(&w, 2)); /* extensions */
    assert_true(tlsv_wr_u16(&w, 0x002b)); /* supported_versions */
    assert_true(tlsv_wr_vec_open(&w, 2));
    assert_true(tlsv_wr_vec_open(&w, 1));
    assert_true(tlsv_wr_u16(&w, 0x0304));
    assert_true(tlsv_wr_u16(&w, 0x0303));
    assert_true(tlsv_wr_vec_close(&w));
    assert_true(tlsv_wr_vec_close(&w));
    assert_true(tlsv_wr_u16(&w, 0x0000)); /* an empty extension */
    assert_true(tlsv_wr_vec_open(&w, 2));
    assert_true(tlsv_wr_vec_close(&w));
    assert_true(tlsv_wr_vec_close(&w)); /* extensions */
    assert_true(tlsv_wr_vec_close(&w)); /* body */
    assert_true(tlsv_wr_ok(&w));

    tlsv_reader r, body, sess, exts, ext, list;
    uint8_t type;
    uint16_t v16;
    tlsv_rd_init(&r, tlsv_wr_data(&w), tlsv_wr_len(&w));
    assert_true(tlsv_rd_u8(&r, &type));
    assert_int_equal(type, 1);
    assert_true(tlsv_rd_vec24(&r, &body));
    assert_true(tlsv_rd_done(&r));
    assert_true(tlsv_rd_u16(&body, &v16));
    assert_int_equal(v16, 0x0303);
    assert_true(tlsv_rd_vec(&body, 1, 0, 32, &sess));
    assert_int_equal(tlsv_rd_remaining(&sess), 5);
    assert_memory_equal(tlsv_rd_data(&sess), sid, 5);
    assert_true(tlsv_rd_vec16(&body, &exts));
    assert_true(tlsv_rd_done(&body));
    assert_true(tlsv_rd_u16(&exts, &v16));
    assert_int_equal(v16, 0x002b);
    assert_true(tlsv_rd_vec16(&exts, &ext));
    assert_true(tlsv_rd_vec(&ext, 1, 2, 254, &list));
    assert_true(tlsv_rd_done(&ext));
    assert_true(tlsv_rd_u16(&list, &v16));
    assert_int_equal(v16, 0x0304);
    assert_true(tlsv_rd_u16(&list, &v16));
    assert_int_equal(v16, 0x0303);
    assert_true(tlsv_rd_done(&list));
    assert_true(tlsv_rd_u16(&exts, &v16));
    assert_int_equal(v16, 0);
    assert_true(tlsv_rd_vec16(&exts, &ext));
    assert_true(tlsv_rd_done(&ext));
    assert_true(tlsv_rd_done(&exts));
}

static void wr_space_reserve_commit(void **state)
{
    (void)state;
    uint8_t buf[16];
    uint8_t *p;
    tlsv_writer w;

    /* space: appended, zeroed, pointer to fill */
    memset(buf, 0x77, sizeof(buf));
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_true(tlsv_wr_u8(&w, 0xaa));
    assert_true(tlsv_wr_space(&w, 4, &p));
    assert_ptr_equal(p, buf + 1);
    assert_memory_equal(buf + 1, "\0\0\0\0", 4);
    assert_int_equal(buf[5], 0x77);
    memcpy(p, "wxyz", 4);
    assert_int_equal(tlsv_wr_len(&w), 5);
    assert_true(tlsv_wr_space(&w, 0, &p));
    assert_null(p);
    assert_false(tlsv_wr_space(&w, 12, &p)); /* 11 left */
    assert_null(p);
    assert_int_equal(tlsv_wr_len(&w), 5);

    /* reserve: room without appending; commit what was used */
    memset(buf, 0x77, sizeof(buf));
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_true(tlsv_wr_u16(&w, 0x1703));
    assert_true(tlsv_wr_reserve(&w, 10, &p));
    assert_ptr_equal(p, buf + 2);
    assert_int_equal(tlsv_wr_len(&w), 2);
    memset(p, 0x5c, 10);
    assert_true(tlsv_wr_commit(&w, 6));
    assert_int_equal(tlsv_wr_len(&w), 8);
    assert_memory_equal(buf + 2, "\x5c\x5c\x5c\x5c\x5c\x5c", 6);
    assert_memory_equal(buf + 8, "\0\0\0\0", 4); /* unused room wiped */
    assert_int_equal(buf[12], 0x77);
    /* a second commit without a new reservation fails */
    assert_false(tlsv_wr_commit(&w, 1));
    assert_false(tlsv_wr_ok(&w));

    /* committing more than reserved fails */
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_true(tlsv_wr_reserve(&w, 4, &p));
    assert_false(tlsv_wr_commit(&w, 5));
    assert_int_equal(tlsv_wr_len(&w), 0);

    /* any other call cancels the reservation */
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_true(tlsv_wr_reserve(&w, 4, &p));
    assert_true(tlsv_wr_u8(&w, 1));
    assert_false(tlsv_wr_commit(&w, 1));

    /* exact capacity is fine, one more is not */
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_true(tlsv_wr_reserve(&w, 16, &p));
    assert_true(tlsv_wr_commit(&w, 16));
    assert_true(tlsv_wr_reserve(&w, 0, &p));
    assert_null(p);
    assert_true(tlsv_wr_commit(&w, 0));
    tlsv_wr_init_fixed(&w, buf, sizeof(buf));
    assert_false(tlsv_wr_reserve(&w, 17, &p));
    assert_null(p);
    assert_false(tlsv_wr_ok(&w));
}

static void wr_growable_limits(void **state)
{
    (void)state;
    tlsv_writer w;
    uint8_t *p;
    uint8_t chunk[100];
    memset(chunk, 0x3c, sizeof(chunk));

    /* grows from nothing, keeps every byte, never past max */
    assert_true(tlsv_wr_init_growable(&w, 0, 1000));
    assert_null(tlsv_wr_data(&w));
    for (int i = 0; i < 10; i++) {
        assert_true(tlsv_wr_bytes(&w, chunk, sizeof(chunk)));
        assert_true(w.cap <= 1000);
    }
    assert_int_equal(tlsv_wr_len(&w), 1000); /* exactly the maximum */
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal(tlsv_wr_data(&w)[i], 0x3c);
    assert_false(tlsv_wr_u8(&w, 0)); /* one byte more */
    assert_int_equal(tlsv_wr_len(&w), 1000);
    assert_false(tlsv_wr_ok(&w));
    tlsv_wr_release(&w);
    assert_null(w.buf);
    tlsv_wr_release(&w); /* twice is harmless */
    tlsv_wr_release(NULL);

    /* a hostile length is refused before any allocation grows */
    assert_true(tlsv_wr_init_growable(&w, 16, 4096));
    assert_false(tlsv_wr_space(&w, (size_t)TLSV_U24_MAX, &p));
    assert_null(p);
    assert_int_equal(w.cap, 16);
    assert_int_equal(tlsv_wr_len(&w), 0);
    tlsv_wr_release(&w);
    assert_true(tlsv_wr_init_growable(&w, 16, 4096));
    assert_false(tlsv_wr_reserve(&w, SIZE_MAX, &p));
    assert_int_equal(w.cap, 16);
    tlsv_wr_release(&w);

    /* growth inside open vectors keeps their prefixes right */
    assert_true(tlsv_wr_init_growable(&w, 1, 70000));
    assert_true(tlsv_wr_vec_open(&w, 3));
    assert_true(tlsv_wr_vec_open(&w, 2));
    for (int i = 0; i < 600; i++)
        assert_true(tlsv_wr_bytes(&w, chunk, sizeof(chunk)));
    assert_true(tlsv_wr_vec_close(&w));
    assert_true(tlsv_wr_vec_close(&w));
    tlsv_reader r, a, b;
    tlsv_rd_init(&r, tlsv_wr_data(&w), tlsv_wr_len(&w));
    assert_true(tlsv_rd_vec24(&r, &a));
    assert_true(tlsv_rd_vec16(&a, &b));
    assert_int_equal(tlsv_rd_remaining(&b), 60000);
    assert_true(tlsv_rd_done(&a));
    assert_true(tlsv_rd_done(&r));

    /* detach: refused while a vector is open, then hands over the bytes */
    assert_true(tlsv_wr_vec_open(&w, 1));
    size_t n;
    assert_false(tlsv_wr_detach(&w, &p, &n));
    assert_null(p);
    assert_int_equal(n, 0);
    assert_true(tlsv_wr_ok(&w)); /* refusing is not a failure */
    assert_true(tlsv_wr_vec_discard(&w));
    assert_true(tlsv_wr_detach(&w, &p, &n));
    assert_non_null(p);
    assert_int_equal(n, 60005);
    assert_memory_equal(p, "\x00\xea\x62\xea\x60", 5);
    assert_null(w.buf);
    assert_false(tlsv_wr_ok(&w));
    tlsv_memwipe(p, n);
    free(p);
    tlsv_wr_release(&w); /* nothing left to free */

    /* detach of a fixed or failed writer is refused */
    uint8_t fixed[4];
    tlsv_wr_init_fixed(&w, fixed, sizeof(fixed));
    assert_false(tlsv_wr_detach(&w, &p, &n));
    assert_true(tlsv_wr_init_growable(&w, 0, 10));
    tlsv_wr_fail(&w);
    assert_false(tlsv_wr_detach(&w, &p, &n));
    tlsv_wr_release(&w);
    /* with nothing written, detach succeeds with no buffer */
    assert_true(tlsv_wr_init_growable(&w, 0, 10));
    assert_true(tlsv_wr_detach(&w, &p, &n));
    assert_null(p);
    assert_int_equal(n, 0);

    /* initial > max is refused */
    assert_false(tlsv_wr_init_growable(&w, 11, 10));
    assert_false(tlsv_wr_ok(&w));
    assert_null(w.buf);
    tlsv_wr_release(&w);
    /* max 0: nothing can be written */
    assert_true(tlsv_wr_init_growable(&w, 0, 0));
    assert_false(tlsv_wr_u8(&w, 1));
    tlsv_wr_release(&w);
}

static void memwipe_clears(void **state)
{
    (void)state;
    uint8_t b[9];
    memset(b, 0xa5, sizeof(b));
    tlsv_memwipe(b + 1, 7);
    assert_int_equal(b[0], 0xa5);
    assert_memory_equal(b + 1, "\0\0\0\0\0\0\0", 7);
    assert_int_equal(b[8], 0xa5);
    tlsv_memwipe(NULL, 0);
    tlsv_memwipe(b, 0);
    assert_int_equal(b[0], 0xa5);
}

/* ======================================================================
 * Randomized round trip
 * ====================================================================== */

/* xorshift64*: deterministic, no libc rand() state. */
static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(0x2545F4914F6CDD1D);
}

enum op_kind { OP_INT, OP_BYTES, OP_OPEN, OP_CLOSE };
struct op {
    enum op_kind kind;
    unsigned width; /* OP_INT: 1,2,3,4,8; OP_OPEN: 1,2,3 */
    uint64_t value;
    size_t n;             /* OP_BYTES */
    const uint8_t *bytes; /* OP_BYTES */
};

#define MAX_OPS 200
static uint8_t pool[4096];

/* Builds a random script whose vectors always fit their prefixes (at most
 * 200 ops of at most 40 bytes each stay below 2^16, and 1-byte vectors are
 * kept short by closing them early). */
static size_t make_script(struct op *ops)
{
    static const unsigned int_widths[] = {1, 2, 3, 4, 8};
    size_t n = 0, depth = 0;
    size_t budget8[TLSV_WR_MAX_DEPTH]; /* bytes left for an enclosing 1-byte vector */
    unsigned widths[TLSV_WR_MAX_DEPTH];
    size_t target = 1 + rnd() % (MAX_OPS - TLSV_WR_MAX_DEPTH - 1);
    while (n < target) {
        struct op *o = &ops[n];
        unsigned pick = (unsigned)(rnd() % 10);
        size_t cost;
        if (pick < 4) {
            o->kind = OP_INT;
            o->width = int_widths[rnd() % 5];
            o->value = o->width == 8 ? rnd() : rnd() & ((UINT64_C(1) << (8 * o->width)) - 1);
            cost = o->width;
        } else if (pick < 6) {
            o->kind = OP_BYTES;
            o->n = (size_t)(rnd() % 41);
            o->bytes = pool + rnd() % (sizeof(pool) - 40);
            cost = o->n;
        } else if (pick < 8 && depth < TLSV_WR_MAX_DEPTH) {
            o->kind = OP_OPEN;
            o->width = 1 + (unsigned)(rnd() % 3);
            cost = o->width;
        } else if (depth > 0) {
            o->kind = OP_CLOSE;
            cost = 0;
        } else {
            continue;
        }
        /* keep every open 1-byte vector under 256 bytes: if it would
         * overflow, close vectors until it would not */
        bool fits = true;
        for (size_t d = 0; d < depth; d++)
            if (widths[d] == 1 && budget8[d] < cost)
                fits = false;
        if (!fits) {
            o->kind = OP_CLOSE;
            cost = 0;
        }
        for (size_t d = 0; d < depth; d++)
            if (widths[d] == 1)
                budget8[d] -= cost;
        if (o->kind == OP_OPEN) {
            widths[depth] = o->width;
            budget8[depth] = TLSV_U8_MAX;
            depth++;
        } else if (o->kind == OP_CLOSE) {
            depth--;
        }
        n++;
    }
    while (depth > 0) {
        ops[n].kind = OP_CLOSE;
        n++;
        depth--;
    }
    return n;
}

static bool write_script(tlsv_writer *w, const struct op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct op *o = &ops[i];
        switch (o->kind) {
        case OP_INT:
            switch (o->width) {
            case 1: tlsv_wr_u8(w, (uint32_t)o->value); break;
            case 2: tlsv_wr_u16(w, (uint32_t)o->value); break;
            case 3: tlsv_wr_u24(w, (uint32_t)o->value); break;
            case 4: tlsv_wr_u32(w, (uint32_t)o->value); break;
            default: tlsv_wr_u64(w, o->value); break;
            }
            break;
        case OP_BYTES: tlsv_wr_bytes(w, o->bytes, o->n); break;
        case OP_OPEN: tlsv_wr_vec_open(w, o->width); break;
        case OP_CLOSE: tlsv_wr_vec_close(w); break;
        }
    }
    return tlsv_wr_ok(w); /* one check at the end: failures stick */
}

static void read_script(const uint8_t *data, size_t len, const struct op *ops, size_t n)
{
    tlsv_reader stack[TLSV_WR_MAX_DEPTH + 1];
    size_t depth = 0;
    tlsv_rd_init(&stack[0], data, len);
    for (size_t i = 0; i < n; i++) {
        const struct op *o = &ops[i];
        tlsv_reader *r = &stack[depth];
        switch (o->kind) {
        case OP_INT: {
            uint64_t v = 0;
            uint8_t v8;
            uint16_t v16;
            uint32_t v32;
            switch (o->width) {
            case 1: assert_true(tlsv_rd_u8(r, &v8)); v = v8; break;
            case 2: assert_true(tlsv_rd_u16(r, &v16)); v = v16; break;
            case 3: assert_true(tlsv_rd_u24(r, &v32)); v = v32; break;
            case 4: assert_true(tlsv_rd_u32(r, &v32)); v = v32; break;
            default: assert_true(tlsv_rd_u64(r, &v)); break;
            }
            assert_true(v == o->value);
            break;
        }
        case OP_BYTES: {
            const uint8_t *p;
            assert_true(tlsv_rd_view(r, o->n, &p));
            if (o->n > 0)
                assert_memory_equal(p, o->bytes, o->n);
            break;
        }
        case OP_OPEN:
            assert_true(tlsv_rd_vec(r, o->width, 0, SIZE_MAX, &stack[depth + 1]));
            depth++;
            break;
        case OP_CLOSE:
            assert_true(tlsv_rd_done(r)); /* the vector held exactly its content */
            depth--;
            break;
        }
    }
    assert_int_equal(depth, 0);
    assert_true(tlsv_rd_done(&stack[0]));
}

static void random_roundtrip(void **state)
{
    (void)state;
    rng_state = UINT64_C(0x9e3779b97f4a7c15); /* fixed seed: reproducible */
    for (size_t i = 0; i < sizeof(pool); i++)
        pool[i] = (uint8_t)rnd();
    struct op ops[MAX_OPS];
    for (int iter = 0; iter < 2000; iter++) {
        size_t n = make_script(ops);
        assert_true(n <= MAX_OPS);

        tlsv_writer g;
        assert_true(tlsv_wr_init_growable(&g, (size_t)(rnd() % 8), 1u << 16));
        assert_true(write_script(&g, ops, n));
        size_t len = tlsv_wr_len(&g);
        read_script(tlsv_wr_data(&g), len, ops, n);

        /* the same script into a fixed buffer of exactly that size gives
         * the same bytes; one byte less fails */
        uint8_t *fixed = malloc(len + 1);
        assert_non_null(fixed);
        tlsv_writer f;
        tlsv_wr_init_fixed(&f, fixed, len);
        assert_true(write_script(&f, ops, n));
        assert_int_equal(tlsv_wr_len(&f), len);
        if (len > 0)
            assert_memory_equal(fixed, tlsv_wr_data(&g), len);
        if (len > 0) {
            tlsv_wr_init_fixed(&f, fixed, len - 1);
            assert_false(write_script(&f, ops, n));
            assert_true(tlsv_wr_len(&f) <= len - 1);
            /* and a growable writer whose maximum is one byte short */
            tlsv_writer s;
            assert_true(tlsv_wr_init_growable(&s, 0, len - 1));
            assert_false(write_script(&s, ops, n));
            assert_true(s.cap <= len - 1);
            tlsv_wr_release(&s);
        }

        /* truncating the encoding anywhere makes the read fail somewhere */
        if (len > 0) {
            size_t cut = (size_t)(rnd() % len);
            tlsv_reader r;
            tlsv_rd_init(&r, tlsv_wr_data(&g), cut);
            bool all_ok = true;
            tlsv_reader stack[TLSV_WR_MAX_DEPTH + 1];
            size_t depth = 0;
            stack[0] = r;
            for (size_t k = 0; k < n && all_ok; k++) {
                tlsv_reader *c = &stack[depth];
                switch (ops[k].kind) {
                case OP_INT: all_ok = tlsv_rd_skip(c, ops[k].width); break;
                case OP_BYTES: all_ok = tlsv_rd_skip(c, ops[k].n); break;
                case OP_OPEN:
                    all_ok = tlsv_rd_vec(c, ops[k].width, 0, SIZE_MAX, &stack[depth + 1]);
                    depth++;
                    break;
                case OP_CLOSE:
                    all_ok = tlsv_rd_done(c);
                    depth--;
                    break;
                }
            }
            assert_false(all_ok && tlsv_rd_done(&stack[0]));
        }
        free(fixed);
        tlsv_wr_release(&g);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rd_integers_are_big_endian),
        cmocka_unit_test(rd_integer_boundaries),
        cmocka_unit_test(rd_u24_maxima),
        cmocka_unit_test(rd_peeks_do_not_consume_or_stick),
        cmocka_unit_test(rd_copy_view_skip),
        cmocka_unit_test(rd_sub_fixed_length),
        cmocka_unit_test(rd_vectors_and_zero_length),
        cmocka_unit_test(rd_nested_lying_inner_length),
        cmocka_unit_test(rd_vector_bounds),
        cmocka_unit_test(rd_fail_and_since),
        cmocka_unit_test(wr_integers_and_ranges),
        cmocka_unit_test(wr_fixed_overflow),
        cmocka_unit_test(wr_vector_length_overflow),
        cmocka_unit_test(wr_vector_misuse_and_depth),
        cmocka_unit_test(wr_nested_roundtrip_through_reader),
        cmocka_unit_test(wr_space_reserve_commit),
        cmocka_unit_test(wr_growable_limits),
        cmocka_unit_test(memwipe_clears),
        cmocka_unit_test(random_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
