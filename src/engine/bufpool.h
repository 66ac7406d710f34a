/*
 * bufpool.h -- where the engine's byte buffers come from.
 *
 * A connection holds a buffer only while it holds bytes: its input, output
 * and handshake buffers are given back as soon as they are empty, so an idle
 * connection keeps none (docs/performance.md: memory per connection).
 * Given-back buffers are not freed at once but kept as spares of the calling
 * thread (a few per thread, freed when the thread ends), so a connection
 * moving data takes the buffer it just gave back instead of calling malloc
 * for every record.
 *
 * Buffers are 64-byte aligned: record bodies copied and encrypted at an
 * aligned address are measurably faster on common x86-64 CPUs.
 * Buffers are wiped before they become spares: bytes of one connection are
 * never visible to the next user of the memory.
 */
#ifndef TLSV_ENGINE_BUFPOOL_H
#define TLSV_ENGINE_BUFPOOL_H

#include <stddef.h>
#include <stdint.h>

/* Ensures *buf (capacity *cap, of which len bytes are in use) has room for
 * `more` bytes after them: takes a spare or allocates when *buf is NULL,
 * grows (copying the len bytes) when it is too small. Returns 0, or -1 when
 * out of memory or the size would overflow (then *buf is unchanged). */
int tlsv_buf_reserve(uint8_t **buf, size_t *cap, size_t len, size_t more);

/* Gives a buffer back: its first `used` bytes are wiped (the rest never held
 * data since it was last wiped), then it becomes a spare of this thread or is
 * freed. *buf becomes NULL and *cap 0. NULL is a no-op. */
void tlsv_buf_release(uint8_t **buf, size_t *cap, size_t used);

/* Freeing this thread's spares now is public: tlsv_thread_release_buffers()
 * (tlsv.h); they are also freed when the thread ends. */

#endif
