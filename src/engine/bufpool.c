/*
 * bufpool.c -- the engine's buffers and the per-thread spares (bufpool.h).
 */
#include "bufpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tlsv.h"

#define ALIGN 64
#define MIN_BUFFER 1024
#define SPARES 4                      /* per thread */
#define MAX_SPARE (64u * 1024u)       /* larger buffers are freed, not kept */

struct spare {
    uint8_t *p;
    size_t cap;
};

static _Thread_local struct spare spares[SPARES];
static _Thread_local int registered;

static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

static void free_spares(void)
{
    for (int i = 0; i < SPARES; i++) {
        free(spares[i].p);
        spares[i].p = NULL;
        spares[i].cap = 0;
    }
}

static void on_thread_exit(void *unused)
{
    (void)unused;
    free_spares();
}

static void make_exit_key(void)
{
    if (pthread_key_create(&exit_key, on_thread_exit) != 0)
        exit_key = (pthread_key_t)-1;
}

/* Arranges for this thread's spares to be freed when it ends; 0 if that
 * cannot be arranged (then nothing is kept as a spare). */
static int register_thread(void)
{
    if (registered)
        return 1;
    pthread_once(&exit_once, make_exit_key);
    if (exit_key == (pthread_key_t)-1 || pthread_setspecific(exit_key, spares) != 0)
        return 0;
    registered = 1;
    return 1;
}

void tlsv_thread_release_buffers(void)
{
    free_spares();
}

/* A buffer of at least `need` bytes: the smallest fitting spare, or new. */
static uint8_t *take(size_t need, size_t *cap)
{
    int best = -1;
    for (int i = 0; i < SPARES; i++)
        if (spares[i].p && spares[i].cap >= need &&
            (best < 0 || spares[i].cap < spares[best].cap))
            best = i;
    if (best >= 0) {
        uint8_t *p = spares[best].p;
        *cap = spares[best].cap;
        spares[best].p = NULL;
        spares[best].cap = 0;
        return p;
    }
    size_t n = need < MIN_BUFFER ? MIN_BUFFER : need;
    if (n > SIZE_MAX - ALIGN)
        return NULL;
    n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    uint8_t *p = aligned_alloc(ALIGN, n);
    if (p)
        *cap = n;
    return p;
}

int tlsv_buf_reserve(uint8_t **buf, size_t *cap, size_t len, size_t more)
{
    if (more > SIZE_MAX / 2 - len)
        return -1;
    size_t need = len + more;
    if (*buf && need <= *cap)
        return 0;
    if (!*buf) {
        size_t ncap = 0;
        uint8_t *p = take(need, &ncap);
        if (!p)
            return -1;
        *buf = p;
        *cap = ncap;
        return 0;
    }
    size_t ncap = *cap;
    while (ncap < need)
        ncap *= 2;
    size_t got = 0;
    uint8_t *p = take(ncap, &got);
    if (!p)
        return -1;
    memcpy(p, *buf, len);
    tlsv_buf_release(buf, cap, len);
    *buf = p;
    *cap = got;
    return 0;
}

void tlsv_buf_release(uint8_t **buf, size_t *cap, size_t used)
{
    uint8_t *p = *buf;
    size_t n = *cap;
    *buf = NULL;
    *cap = 0;
    if (!p)
        return;
    if (used > n)
        used = n;
    tlsv_wipe(p, used);
    if (n <= MAX_SPARE && register_thread()) {
        int slot = -1;
        for (int i = 0; i < SPARES; i++) {
            if (!spares[i].p) {
                slot = i;
                break;
            }
            if (spares[i].cap < n && (slot < 0 || spares[i].cap < spares[slot].cap))
                slot = i; /* keep the larger buffers */
        }
        if (slot >= 0) {
            uint8_t *old = spares[slot].p;
            spares[slot].p = p;
            spares[slot].cap = n;
            free(old);
            return;
        }
    }
    free(p);
}
