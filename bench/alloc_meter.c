/*
 * alloc_meter.c -- counts what each side of a connection allocates.
 *
 * This file replaces malloc and its family in the tlsv-bench executable (as
 * glibc allows: "Replacing malloc"), forwarding every call to glibc's own
 * allocator (__libc_malloc, ...). libtlsv, libssl, libcrypto and libc itself
 * all call these. While a meter is selected (alloc_meter_current, set by
 * side_enter() around each call on a client or server object) every new
 * block is charged to it: its usable size and one allocating call. The block
 * is remembered with its owner in a table, so that freeing it -- whenever,
 * under whichever side -- takes its bytes off the meter that paid for them,
 * and frees of blocks never metered are ignored.
 *
 * libcrypto's own allocation functions are hooked too
 * (CRYPTO_set_mem_functions): blocks allocated through them are marked, which
 * splits tlsv's figures into what libcrypto allocated on tlsv's behalf and
 * what tlsv allocated itself.
 *
 * When nothing is selected and nothing is tracked the cost is two loads and
 * two branches per call, the same for both libraries.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "bench.h"

/* glibc's allocator, under the names it exports for replacements. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t alignment, size_t size);

struct alloc_meter *alloc_meter_current;

/* ---- the table of metered blocks: open addressing, linear probing --------------- */

#define TABLE_BITS 17
#define TABLE_SIZE ((size_t)1 << TABLE_BITS)
#define TABLE_MASK (TABLE_SIZE - 1)
#define TABLE_LIMIT (TABLE_SIZE / 2) /* stop tracking beyond this load */

struct block {
    uintptr_t addr; /* 0: an empty slot */
    size_t size;
    struct alloc_meter *owner;
    int crypto;
};

static struct block *table; /* mmap'ed, not malloc'ed: it must not meter itself */
static size_t tracked;
static int overflowed;

static size_t home_slot(uintptr_t addr)
{
    return (size_t)(((uint64_t)(addr >> 4) * 0x9E3779B97F4A7C15u) >> (64 - TABLE_BITS));
}

static struct block *table_find(uintptr_t addr)
{
    for (size_t i = home_slot(addr);; i = (i + 1) & TABLE_MASK) {
        if (table[i].addr == addr)
            return &table[i];
        if (table[i].addr == 0)
            return NULL;
    }
}

static void table_insert(const struct block *b)
{
    if (!table) {
        void *mem = mmap(NULL, TABLE_SIZE * sizeof *table, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) {
            overflowed = 1;
            return;
        }
        table = mem;
    }
    if (tracked >= TABLE_LIMIT) {
        overflowed = 1;
        return;
    }
    size_t i = home_slot(b->addr);
    while (table[i].addr != 0)
        i = (i + 1) & TABLE_MASK;
    table[i] = *b;
    tracked++;
}

/* Empties slot i, moving later entries of the same probe run back into the
 * hole so that every entry stays reachable from its home slot. */
static void table_remove(struct block *slot)
{
    size_t hole = (size_t)(slot - table);
    for (size_t j = (hole + 1) & TABLE_MASK; table[j].addr != 0; j = (j + 1) & TABLE_MASK) {
        size_t home = home_slot(table[j].addr);
        /* entry j may move to the hole unless its home lies in (hole, j] */
        int stays = hole < j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            table[hole] = table[j];
            hole = j;
        }
    }
    table[hole].addr = 0;
    tracked--;
}

/* ---- charging blocks to meters ---------------------------------------------------- */

static void discharge(void *p);

/* Charges block p to the current meter; crypto: it came through libcrypto. */
static void charge(void *p, int crypto)
{
    struct alloc_meter *m = alloc_meter_current;
    if (tracked && table_find((uintptr_t)p)) /* freed behind our back: forget it */
        discharge(p);
    struct block b = {(uintptr_t)p, malloc_usable_size(p), m, crypto};
    m->allocs++;
    m->live += (long long)b.size;
    if (b.crypto) {
        m->crypto_allocs++;
        m->crypto_live += (long long)b.size;
    }
    if (m->live > m->peak) {
        m->peak = m->live;
        m->crypto_at_peak = m->crypto_live;
    }
    table_insert(&b);
}

static void discharge(void *p)
{
    struct block *b = table_find((uintptr_t)p);
    if (!b)
        return;
    b->owner->live -= (long long)b->size;
    if (b->crypto)
        b->owner->crypto_live -= (long long)b->size;
    table_remove(b);
}

/* ---- the replacements -------------------------------------------------------------- */

static void *metered(void *p, int crypto)
{
    if (alloc_meter_current && p)
        charge(p, crypto);
    return p;
}

/* realloc for both entries (libc's and libcrypto's). */
static void *resize(void *p, size_t size, int crypto)
{
    if (!alloc_meter_current && !tracked)
        return __libc_realloc(p, size);
    /* The old block's owner keeps it if the call fails. */
    struct block *old = table_find((uintptr_t)p);
    struct block was = old ? *old : (struct block){0};
    void *q = __libc_realloc(p, size);
    if (!q)
        return NULL;
    if (old) {
        discharge(p);
        if (!alloc_meter_current) { /* resized outside any side: stays with its owner */
            alloc_meter_current = was.owner;
            charge(q, was.crypto);
            alloc_meter_current = NULL;
            return q;
        }
    }
    return metered(q, crypto);
}

void *malloc(size_t size)
{
    return metered(__libc_malloc(size), 0);
}

void *calloc(size_t n, size_t size)
{
    return metered(__libc_calloc(n, size), 0);
}

void free(void *p)
{
    if (tracked && p)
        discharge(p);
    __libc_free(p);
}

void *realloc(void *p, size_t size)
{
    if (!p)
        return malloc(size);
    if (size == 0) {
        free(p);
        return NULL;
    }
    return resize(p, size, 0);
}

void *reallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, n * size);
}

void *memalign(size_t alignment, size_t size)
{
    return metered(__libc_memalign(alignment, size), 0);
}

void *aligned_alloc(size_t alignment, size_t size)
{
    return memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0)
        return EINVAL;
    void *p = memalign(alignment, size);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t size)
{
    return memalign((size_t)sysconf(_SC_PAGESIZE), size);
}

void *pvalloc(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return memalign(page, (size + page - 1) & ~(page - 1));
}

/* ---- libcrypto's hooks: the same allocator, blocks marked as libcrypto's ----------- */

static void *crypto_malloc_hook(size_t size, const char *file, int line)
{
    (void)file;
    (void)line;
    if (size == 0) /* as CRYPTO_malloc does */
        return NULL;
    return metered(__libc_malloc(size), 1);
}

static void crypto_free_hook(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

static void *crypto_realloc_hook(void *p, size_t size, const char *file, int line)
{
    if (!p)
        return crypto_malloc_hook(size, file, line);
    if (size == 0) { /* as CRYPTO_realloc does */
        crypto_free_hook(p, file, line);
        return NULL;
    }
    return resize(p, size, 1);
}

int alloc_meter_install_crypto_hooks(void)
{
    return CRYPTO_set_mem_functions(crypto_malloc_hook, crypto_realloc_hook,
                                    crypto_free_hook) == 1 ? 0 : -1;
}

/* ---- meters ------------------------------------------------------------------------- */

void alloc_meter_reset(struct alloc_meter *m)
{
    memset(m, 0, sizeof *m);
}

void alloc_meter_forget_all(void)
{
    if (table)
        memset(table, 0, TABLE_SIZE * sizeof *table);
    tracked = 0;
}

int alloc_meter_overflowed(void)
{
    return overflowed;
}
