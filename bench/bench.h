/*
 * bench.h -- what the parts of tlsv-bench share.
 *
 * tlsv-bench runs the same TLS work through tlsv and through OpenSSL's libssl
 * in one process, one thread, on one core: a client and a server connected
 * by memory buffers. The parts:
 *
 *   tlsv-bench.c    options, the schedule of rounds, medians, the report
 *   lib_tlsv.c      the work done with tlsv      } the same interface,
 *   lib_openssl.c   the work done with libssl    } struct library
 *   pki.c           a CA and a leaf per key type, made once with libcrypto
 *   primitives.c    the primitive bound (public-key operations only) and
 *                   the raw AEAD limit, straight on libcrypto's EVP
 *   alloc_meter.c   malloc interposition: bytes and calls per side
 *   counted.c       --count: one unit of work for callgrind
 */
#ifndef TLSV_BENCH_H
#define TLSV_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ---- errors ---------------------------------------------------------------- */

/* Prints "tlsv-bench: error: ..." and OpenSSL's error queue, then exits 1
 * (the temporary certificates are removed by an atexit handler). A figure
 * from a failed handshake would be a lie, so every failure ends the run. */
void fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* ---- time -------------------------------------------------------------------- */

static inline uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

/* A measurement's clock. Rates are per second of the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID): on a quiet machine that is the wall-clock time
 * of a pinned thread, and on a busy one it leaves out the time other
 * processes had the core. --wall-clock measures wall-clock time instead.
 * A measurement also stops after twice its time on the wall clock, so that a
 * busy machine does not stretch a run without end. Every stopwatch adds its
 * wall and CPU time to the totals, which tell how much of the core the
 * benchmark had. */
struct stopwatch {
    uint64_t wall0, cpu0;
    uint64_t wall, cpu; /* elapsed, after stopwatch_done() */
};
extern int use_wall_clock;
extern uint64_t total_wall_ns, total_cpu_ns;

static inline void stopwatch_start(struct stopwatch *w)
{
    w->wall0 = now_ns();
    w->cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    w->wall = w->cpu = 0;
}

/* Reads both clocks; 1 once the measured one has run `seconds` (or the wall
 * clock twice that). */
static inline int stopwatch_done(struct stopwatch *w, double seconds)
{
    w->wall = now_ns() - w->wall0;
    w->cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - w->cpu0;
    if ((double)(use_wall_clock ? w->wall : w->cpu) < seconds * 1e9 &&
        (double)w->wall < 2 * seconds * 1e9)
        return 0;
    total_wall_ns += w->wall;
    total_cpu_ns += w->cpu;
    return 1;
}

/* The measured seconds. */
static inline double stopwatch_seconds(const struct stopwatch *w)
{
    return (double)(use_wall_clock ? w->wall : w->cpu) / 1e9;
}

/* Converts wall-clock nanoseconds spent inside the measurement into the
 * measured clock's (the part of them the thread actually ran). */
static inline double stopwatch_scale(const struct stopwatch *w, double wall_ns)
{
    return use_wall_clock || w->wall == 0 ? wall_ns : wall_ns * (double)w->cpu / (double)w->wall;
}

/* ---- what is measured ---------------------------------------------------------- */

/* The handshakes: three full ones (each with a primitive bound), then two
 * resumed ones (ECDSA server; the client offers the session of an earlier
 * handshake, the server takes it: TLS 1.3 psk_dhe_ke with a ticket, TLS 1.2
 * an abbreviated handshake with a ticket). */
enum hs_kind {
    HS_TLS13_ECDSA,
    HS_TLS13_RSA,
    HS_TLS12_ECDSA,
    HS_FULL__COUNT, /* the kinds before it are full handshakes */
    HS_TLS13_RESUMED = HS_FULL__COUNT,
    HS_TLS12_RESUMED,
    HS__COUNT
};

/* The three bulk ciphers (TLS 1.3 suites). */
enum bulk_cipher { BULK_AES128GCM, BULK_AES256GCM, BULK_CHACHA20, BULK__COUNT };

/* Certificate key types. */
enum key_type { KEY_ECDSA, KEY_RSA, KEY__COUNT };

#define BENCH_HOSTNAME "bench.tlsv.test" /* the leaves' subjectAltName DNS name */
#define RECORD_SIZE 16384                /* one full record of application data */

/* One configuration, given to both libraries alike. */
struct setup {
    const char *label;   /* "tls13_ecdsa", "bulk_chacha20", ... */
    int version;         /* what must be negotiated: 0x0304 or 0x0303 */
    const char *suite;   /* the one suite offered, OpenSSL's name (for TLS 1.3
                            suites the same as IANA's) */
    const char *cert;    /* the server's leaf certificate (PEM) */
    const char *key;     /* its private key (PEM) */
    const char *cafile;  /* the CA the client trusts (PEM) */
    int resume;          /* 1: resumed handshakes. The server issues one ticket
                            per handshake, the client reads it after the
                            handshake (both libraries alike), and every client
                            offers the session of one priming handshake made
                            when the contexts are. 0: full handshakes, no
                            tickets, no session cache on either side. */
};

/* Fills *s for a handshake or a bulk cipher. */
void setup_for_handshake(struct setup *s, enum hs_kind kind);
void setup_for_bulk(struct setup *s, enum bulk_cipher cipher);

/* ---- the two libraries ------------------------------------------------------- */

enum side { SIDE_CLIENT = 0, SIDE_SERVER = 1 };

/* The same operations, implemented once with tlsv and once with libssl.
 * Every function checks its work and calls fatal() on any failure. */
struct library {
    const char *name; /* "tlsv", "openssl" */
    /* A client context (trusts setup->cafile, verifies the chain and the
     * hostname) and a server context (setup->cert and ->key), each offering
     * only setup->suite, and the groups X25519 then P-256 (the key share is
     * X25519; a TLS 1.2 client must list the ECDSA certificate's curve);
     * no tickets, no session cache -- unless setup->resume, see there. */
    void *(*contexts_new)(const struct setup *setup);
    void (*contexts_free)(void *contexts);
    /* A fresh client and server connection, connected to each other. */
    void *(*pair_new)(void *contexts);
    /* Runs the handshake to completion on both sides and checks what was
     * negotiated (version, suite, group, the client's verified peer, and
     * with setup->resume that both sides resumed the session). */
    void (*handshake)(void *pair);
    /* `from` writes len bytes; the other side reads all len of them into
     * out (which must not alias data). */
    void (*send)(void *pair, enum side from, const uint8_t *data, size_t len, uint8_t *out);
    void (*pair_free)(void *pair);
    /* Frees what the library keeps for reuse beyond a connection (tlsv: the
     * thread's spare record buffers), so that memory figures charge every
     * buffer a connection uses to it. NULL: nothing of the kind. */
    void (*release_caches)(void);
};

extern const struct library lib_tlsv, lib_openssl;

/* 1: tlsv's transport copies each byte once (--tlsv-direct), see lib_tlsv.c. */
extern int tlsv_direct_transport;

/* ---- per-side accounting ------------------------------------------------------ */

struct alloc_meter;

/* Which side of the library under test is running, so that its time and its
 * allocations are charged to it. The libraries' drivers put every call on a
 * client or server object between side_enter() and side_leave(). */
struct probe {
    int timing;                       /* 1: add each side's time to ns[] */
    uint64_t ns[2];                   /* time spent in each side's calls */
    struct alloc_meter *meter[2];     /* where each side's allocations go (NULL: nowhere) */
    uint64_t t0;
};
extern struct probe probe;

extern struct alloc_meter *alloc_meter_current; /* NULL: allocations are not counted */

static inline void side_enter(enum side s)
{
    alloc_meter_current = probe.meter[s];
    if (probe.timing)
        probe.t0 = now_ns();
}

static inline void side_leave(enum side s)
{
    if (probe.timing)
        probe.ns[s] += now_ns() - probe.t0;
    alloc_meter_current = NULL;
}

/* ---- allocation meters (alloc_meter.c) ------------------------------------------ */

/* Bytes are malloc_usable_size() of each block: what the allocator really
 * hands out for it. "crypto" is the part that went through libcrypto's
 * CRYPTO_malloc (OPENSSL_malloc), which libssl and libcrypto use and tlsv
 * itself never calls: for tlsv it splits its figures into libcrypto-internal
 * and its own. */
struct alloc_meter {
    long long live;            /* bytes allocated under this meter and not yet freed */
    long long peak;            /* the highest `live` since the reset */
    long long crypto_live;     /* of live, through CRYPTO_malloc */
    long long crypto_at_peak;  /* crypto_live when peak was reached */
    unsigned long long allocs; /* allocating calls (malloc, calloc, realloc, memalign...) */
    unsigned long long crypto_allocs;
};

/* Routes libcrypto's allocations through hooks that mark them as such.
 * Must run before libcrypto allocates anything. 0, or -1 if too late. */
int alloc_meter_install_crypto_hooks(void);

/* Zeroes a meter. */
void alloc_meter_reset(struct alloc_meter *m);

/* Forgets every block still tracked (what libraries keep in caches after a
 * measurement), so that later frees cost nothing. */
void alloc_meter_forget_all(void);

/* 1 if the block table overflowed during a measurement (figures unusable). */
int alloc_meter_overflowed(void);

/* ---- the primitive bound and the raw AEAD limit (primitives.c) -------------------- */

/* Public-key operations of one handshake of `kind`, done `seconds` long with
 * libcrypto's EVP: returns handshakes per second. Keys from the PKI files. */
double primitive_bound(enum hs_kind kind, const struct setup *s, double seconds);

/* The same, one handshake's operations at a time (for --count). */
struct pk_state;
struct pk_state *pk_state_new(enum hs_kind kind, const struct setup *s);
void pk_one_handshake(struct pk_state *st);
void pk_state_free(struct pk_state *st);

/* Seal + open of 16 KiB records with one reused EVP_CIPHER_CTX per direction,
 * `seconds` long: returns MB/s (10^6 bytes of plaintext per second). */
double aead_limit(enum bulk_cipher cipher, double seconds);

/* ---- certificates (pki.c) -------------------------------------------------------- */

struct pki {
    char dir[256];
    int remove_on_cleanup;
    char ca[KEY__COUNT][320], cert[KEY__COUNT][320], key[KEY__COUNT][320];
};
extern struct pki pki;

/* Makes (or, when dir names a directory holding them already, reuses) a CA
 * and a leaf for each key type. dir NULL: a fresh temporary directory,
 * removed by pki_cleanup(). */
void pki_create(const char *dir);
void pki_cleanup(void);

/* ---- --count (counted.c) ------------------------------------------------------------ */

/* Runs exactly one unit of `what` (a handshake kind or a bulk cipher, by
 * name) with `lib`, inside counted_work(), for callgrind's
 * --toggle-collect=counted_work; or, for bound_KIND, the public-key
 * operations of one handshake (lib unused). Returns the exit status. */
int run_counted(const char *what, const struct library *lib);

/* The names of kinds and ciphers, as the figures use them. */
extern const char *const hs_kind_name[HS__COUNT];      /* "tls13_ecdsa", ... */
extern const char *const bulk_cipher_name[BULK__COUNT]; /* "aes128gcm", ... */

/* Bulk data: a 16 KiB pattern stamped with a record number, and its check. */
void bulk_pattern_init(uint8_t *buf, size_t len);
void bulk_stamp(uint8_t *buf, size_t len, uint64_t seq);
void bulk_check(const uint8_t *got, const uint8_t *sent, size_t len, uint64_t seq, int full);

#endif /* TLSV_BENCH_H */
