/*
 * buf.h -- the bounded reader and writer every wire structure goes through.
 *
 * DESIGN.md principle 2: handshake code never does pointer arithmetic on
 * wire bytes. It asks a tlsv_reader for a u8/u16/u24/... or for a
 * length-prefixed sub-reader, and the reader refuses to run past its end.
 * Output is built with a tlsv_writer, which refuses to run past its buffer
 * (or past a hard maximum when it grows on the heap) and fills in the
 * lengths of the vectors it was asked to open.
 *
 * Both are small plain structs meant to live on the stack; their fields are
 * visible only so that they can. Use the functions, never the fields.
 *
 * Failure model, shared by both:
 *   - Every operation returns true on success and false on failure.
 *   - A failed operation changes nothing: the reader's cursor does not move,
 *     the writer's length does not change. Output parameters are set to a
 *     harmless value (0, NULL, an empty failed reader) so that a forgotten
 *     check cannot read uninitialised memory.
 *   - Failure is sticky: once an operation has failed, the object is marked
 *     failed and every later operation on it fails too. A parser may
 *     therefore run several reads and test once, with tlsv_rd_ok() or
 *     tlsv_rd_done() (the writer: tlsv_wr_ok()), at a point where it
 *     decides. A sub-reader handed out by a failed reader is itself failed.
 *   - A sub-reader is a separate value: a failure inside it does not mark
 *     its parent. Propagate by checking the child (typically with
 *     tlsv_rd_done(): "parsed without error and nothing left over").
 *
 * Integers on the wire are big-endian (network order), as in every TLS
 * structure. Lengths of vectors are 1, 2 or 3 bytes wide, the TLS
 * presentation language's opaque x<0..2^8-1>, <0..2^16-1>, <0..2^24-1>.
 *
 * This file includes no OpenSSL header (DESIGN.md principle 5); its wipe is
 * a volatile-function-pointer memset of its own.
 */
#ifndef TLSV_BUF_H
#define TLSV_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest values of the three vector length widths. */
#define TLSV_U8_MAX 0xffu
#define TLSV_U16_MAX 0xffffu
#define TLSV_U24_MAX 0xffffffu

/* ======================================================================
 * Reader
 * ====================================================================== */

typedef struct tlsv_reader {
    const uint8_t *p; /* next unread byte (may be NULL when len == 0) */
    size_t len;       /* bytes left */
    bool failed;      /* sticky failure flag */
} tlsv_reader;

/* Starts a reader over len bytes at data. The bytes are borrowed, not
 * copied: they must stay valid and unchanged while the reader (and any
 * sub-reader or view obtained from it) is used. data may be NULL only when
 * len is 0. */
void tlsv_rd_init(tlsv_reader *r, const uint8_t *data, size_t len);

/* Number of unread bytes. A failed reader keeps the position where it
 * failed, so this need not be 0 after a failure. */
size_t tlsv_rd_remaining(const tlsv_reader *r);

/* true when no unread byte is left. */
bool tlsv_rd_empty(const tlsv_reader *r);

/* true while no operation on this reader has failed. */
bool tlsv_rd_ok(const tlsv_reader *r);

/* true when the reader has not failed AND everything has been consumed:
 * the usual test at the end of a structure ("no trailing garbage"). */
bool tlsv_rd_done(const tlsv_reader *r);

/* Marks the reader failed. For semantic failures a caller detects itself
 * (a value out of range, an odd-length list of u16) so that they propagate
 * exactly like a short read. */
void tlsv_rd_fail(tlsv_reader *r);

/* The next unread byte, without consuming anything. NULL when the reader is
 * empty. Never use it to go further than tlsv_rd_remaining() bytes. */
const uint8_t *tlsv_rd_data(const tlsv_reader *r);

/* Big-endian unsigned integers of 1, 2, 3, 4 and 8 bytes. On success the
 * value is stored in *out (out may be NULL to discard it) and the cursor
 * moves past it. On failure (too few bytes, or the reader already failed)
 * *out is set to 0, the cursor stays, and the reader is marked failed. */
bool tlsv_rd_u8(tlsv_reader *r, uint8_t *out);
bool tlsv_rd_u16(tlsv_reader *r, uint16_t *out);
bool tlsv_rd_u24(tlsv_reader *r, uint32_t *out);
bool tlsv_rd_u32(tlsv_reader *r, uint32_t *out);
bool tlsv_rd_u64(tlsv_reader *r, uint64_t *out);

/* Peeks: the same values without consuming them. A peek never marks the
 * reader failed (it is a question, not a parse step); it returns false, with
 * *out = 0, when the bytes are not there or the reader has already failed. */
bool tlsv_rd_peek_u8(const tlsv_reader *r, uint8_t *out);
bool tlsv_rd_peek_u16(const tlsv_reader *r, uint16_t *out);
bool tlsv_rd_peek_u24(const tlsv_reader *r, uint32_t *out);
/* Copies the next n bytes to out without consuming them. On failure the n
 * bytes of out are zeroed. out may be NULL only when n is 0. */
bool tlsv_rd_peek(const tlsv_reader *r, uint8_t *out, size_t n);

/* Copies the next n bytes to out (which must have room for n) and consumes
 * them. On failure the n bytes of out are zeroed, the cursor stays and the
 * reader is marked failed. out may be NULL only when n is 0. */
bool tlsv_rd_copy(tlsv_reader *r, uint8_t *out, size_t n);

/* Borrows the next n bytes without copying: *out points into the reader's
 * data (valid as long as that data is) and the cursor moves past them.
 * With n == 0 it succeeds and *out may be NULL. On failure *out = NULL,
 * the cursor stays and the reader is marked failed. */
bool tlsv_rd_view(tlsv_reader *r, size_t n, const uint8_t **out);

/* Consumes n bytes without looking at them. Fails (sticky, cursor unmoved)
 * when fewer than n are left. */
bool tlsv_rd_skip(tlsv_reader *r, size_t n);

/* Consumes the next n bytes and starts *out as a reader over exactly them
 * (a fixed-size structure parsed by its own code). On failure *out is an
 * empty, failed reader, the cursor stays and r is marked failed. */
bool tlsv_rd_sub(tlsv_reader *r, size_t n, tlsv_reader *out);

/* A length-prefixed vector: reads a big-endian length of `width` bytes
 * (1, 2 or 3), then hands out that many following bytes as *out and
 * consumes prefix and body together. It fails -- consuming nothing, marking
 * r failed, and leaving *out empty and failed -- when the prefix or the body
 * is not entirely there, when the length is below min or above max (the
 * <min..max> of the TLS presentation language), or when width is not 1, 2
 * or 3. A max larger than the width can express is simply the width's
 * maximum. */
bool tlsv_rd_vec(tlsv_reader *r, unsigned width, size_t min, size_t max, tlsv_reader *out);

/* tlsv_rd_vec with bounds <0..2^(8*width)-1>: any length the prefix can
 * hold. */
bool tlsv_rd_vec8(tlsv_reader *r, tlsv_reader *out);
bool tlsv_rd_vec16(tlsv_reader *r, tlsv_reader *out);
bool tlsv_rd_vec24(tlsv_reader *r, tlsv_reader *out);

/* The bytes consumed between a saved copy of a reader (`mark`, taken with a
 * plain struct assignment `tlsv_reader mark = *r;`) and the reader now: for
 * hashing exactly the bytes of a structure just parsed (transcripts, the
 * truncated ClientHello of PSK binders). Fails (*p = NULL, *n = 0) when
 * `now` is not a later position of the same range as `mark`. Neither reader
 * is changed. */
bool tlsv_rd_since(const tlsv_reader *mark, const tlsv_reader *now, const uint8_t **p,
                   size_t *n);

/* ======================================================================
 * Writer
 * ====================================================================== */

/* How deeply vectors may nest in one writer. A record holding a handshake
 * message holding extensions holding an extension holding a list of
 * entries holding a field is 6; 8 leaves room. */
#define TLSV_WR_MAX_DEPTH 8

typedef struct tlsv_writer {
    uint8_t *buf;    /* the bytes: caller's (fixed) or owned heap (growable) */
    size_t len;      /* bytes written so far, prefixes of open vectors included */
    size_t cap;      /* bytes available in buf now */
    size_t max;      /* hard limit: cap for a fixed buffer */
    size_t reserved; /* room handed out by tlsv_wr_reserve, not yet committed */
    bool growable;   /* buf is heap memory owned by the writer */
    bool failed;     /* sticky failure flag */
    unsigned depth;  /* number of open vectors */
    struct {
        size_t start;  /* offset of the length prefix */
        unsigned width; /* 1, 2 or 3 */
    } open[TLSV_WR_MAX_DEPTH];
} tlsv_writer;

/* Starts a writer over the caller's buffer of cap bytes. Nothing is ever
 * written past buf + cap; a write that would not fit fails. The buffer
 * stays the caller's (tlsv_wr_release does not wipe it; tlsv_memwipe
 * does). buf may be NULL only when cap is 0. */
void tlsv_wr_init_fixed(tlsv_writer *w, uint8_t *buf, size_t cap);

/* Starts a writer on the heap: it allocates `initial` bytes now (none when
 * 0) and grows as needed, but never beyond `max` bytes in all -- a write
 * that would need more fails, so a hostile length cannot make it grow
 * without bound. Returns false, with the writer failed and owning nothing,
 * when initial > max or the allocation fails. Release with
 * tlsv_wr_release() (also after a failure). */
bool tlsv_wr_init_growable(tlsv_writer *w, size_t initial, size_t max);

/* Wipes and frees the heap memory of a growable writer (its whole capacity,
 * not just the written part) and leaves *w an empty, failed fixed writer of
 * capacity 0 -- safe to release again. For a fixed writer it just forgets
 * the caller's buffer without touching it. w may be NULL. */
void tlsv_wr_release(tlsv_writer *w);

/* true while no operation on this writer has failed. */
bool tlsv_wr_ok(const tlsv_writer *w);

/* Bytes written so far (including the prefixes of still-open vectors). */
size_t tlsv_wr_len(const tlsv_writer *w);

/* The written bytes (tlsv_wr_len() of them); NULL if nothing was ever
 * allocated. Valid until the next write on a growable writer (growth moves
 * the buffer). While a vector is open its length prefix reads as zero. */
const uint8_t *tlsv_wr_data(const tlsv_writer *w);

/* Marks the writer failed (a caller's own encoding error, propagated like
 * an overflow). */
void tlsv_wr_fail(tlsv_writer *w);

/* Big-endian unsigned integers. The value of u8/u16/u24 must fit the
 * width: a larger value fails the writer rather than being truncated
 * silently. A write fails (sticky, length unchanged) when it does not fit
 * the buffer (or the maximum of a growable writer) or the writer already
 * failed. */
bool tlsv_wr_u8(tlsv_writer *w, uint32_t v);
bool tlsv_wr_u16(tlsv_writer *w, uint32_t v);
bool tlsv_wr_u24(tlsv_writer *w, uint32_t v);
bool tlsv_wr_u32(tlsv_writer *w, uint32_t v);
bool tlsv_wr_u64(tlsv_writer *w, uint64_t v);

/* Appends n bytes copied from data (which must not point into this
 * writer's own buffer). data may be NULL only when n is 0. */
bool tlsv_wr_bytes(tlsv_writer *w, const uint8_t *data, size_t n);

/* Appends a whole vector at once: a `width`-byte length (1, 2 or 3) then
 * the n bytes. Fails when n does not fit the width, as tlsv_wr_vec_close
 * would. */
bool tlsv_wr_opaque(tlsv_writer *w, unsigned width, const uint8_t *data, size_t n);

/* Appends n zero bytes and hands back a pointer to them in *out, to be
 * filled by the caller before the next writer call (a growable writer may
 * move its buffer then). On failure *out = NULL. */
bool tlsv_wr_space(tlsv_writer *w, size_t n, uint8_t **out);

/* Makes sure at least n bytes of room follow the written data and hands
 * back a pointer to that room in *out, WITHOUT appending: the caller fills
 * up to n bytes (say, a record encrypted in place with room for its tag)
 * and then declares how many it used with tlsv_wr_commit(). Any other
 * writer call cancels the reservation. On failure *out = NULL. */
bool tlsv_wr_reserve(tlsv_writer *w, size_t n, uint8_t **out);

/* Appends the first n bytes of the room obtained by the last
 * tlsv_wr_reserve(). Fails (sticky) when there is no reservation or n is
 * larger than it. The unused rest of the reserved room is wiped. */
bool tlsv_wr_commit(tlsv_writer *w, size_t n);

/* Opens a length-prefixed vector: writes a placeholder prefix of `width`
 * bytes (1, 2 or 3); everything written until the matching
 * tlsv_wr_vec_close() is its content. Vectors nest up to
 * TLSV_WR_MAX_DEPTH deep. Fails (sticky) on a bad width, too deep a
 * nesting, or no room for the prefix. */
bool tlsv_wr_vec_open(tlsv_writer *w, unsigned width);

/* Closes the innermost open vector, filling its prefix with the content's
 * length. Fails (sticky) when no vector is open or the content is longer
 * than the prefix can express (256 bytes in a 1-byte-length vector). */
bool tlsv_wr_vec_close(tlsv_writer *w);

/* Content length of the innermost open vector so far (0 if none is open). */
size_t tlsv_wr_vec_len(const tlsv_writer *w);

/* Drops the innermost open vector together with its prefix and content,
 * wiping those bytes (say, an extension list that turned out empty and is
 * to be omitted). Fails (sticky) when no vector is open. */
bool tlsv_wr_vec_discard(tlsv_writer *w);

/* Hands the heap buffer of a growable writer to the caller: *out gets the
 * bytes (to be freed with free(), after tlsv_memwipe if secret), *n their
 * number, and the writer is left released. Fails -- without marking the
 * writer failed, *out = NULL, *n = 0 -- for a fixed or failed writer or
 * while a vector is open. With nothing written *out may be NULL. */
bool tlsv_wr_detach(tlsv_writer *w, uint8_t **out, size_t *n);

/* ======================================================================
 * Wiping
 * ====================================================================== */

/* Overwrites n bytes at p with zeros in a way the compiler may not elide
 * (for secrets). p may be NULL when n is 0. */
void tlsv_memwipe(void *p, size_t n);

#endif /* TLSV_BUF_H */
