/*
 * counted.c -- tlsv-bench --count KIND --lib LIB: after the setup and one
 * unit of warm-up, exactly one unit of work inside counted_work(), the
 * function bench/callgrind.sh hands to valgrind --toggle-collect. A unit is
 * one handshake (both sides, connections created and freed) or 1 MiB of
 * application data client -> server (64 records of 16 KiB) on an
 * established TLS 1.3 connection.
 *
 * Instruction counts must repeat exactly from run to run, so here random
 * bytes come from a fixed-seed generator (libcrypto's RAND_METHOD, which
 * libcrypto and its default provider still honour in 3.0): the same key
 * shares, nonces and signatures in every run. And the clock stands still:
 * certificate checks format the current time as text, whose cost depends on
 * its digits, so time() returns the certificates' own file time. Never do
 * either outside a benchmark.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* RAND_METHOD */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/rand.h>

#include "bench.h"

#define COUNTED_RECORDS 64 /* 64 x 16 KiB = 1 MiB */

/* ---- a fixed-seed generator (splitmix64) ----------------------------------- */

static uint64_t fixed_state = 0x7457536265616368u;

static int fixed_bytes(unsigned char *buf, int num)
{
    for (int i = 0; i < num; i++) {
        if ((i & 7) == 0) {
            fixed_state += 0x9E3779B97F4A7C15u;
        }
        uint64_t z = fixed_state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
        z ^= z >> 31;
        buf[i] = (unsigned char)(z >> (8 * (i & 7)));
    }
    return 1;
}

static int fixed_status(void)
{
    return 1;
}

static const RAND_METHOD fixed_rand = {
    .bytes = fixed_bytes,
    .pseudorand = fixed_bytes,
    .status = fixed_status,
};

/* ---- a clock that can stand still ------------------------------------------- */

static time_t frozen_time; /* 0: the real clock */

/* Replaces libc's time() for the whole program (libcrypto's certificate
 * checks call it); the real clock unless --count froze it. */
time_t time(time_t *out)
{
    time_t now = frozen_time;
    if (!now) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        now = ts.tv_sec;
    }
    if (out)
        *out = now;
    return now;
}

/* ---- the unit of work ------------------------------------------------------- */

struct unit {
    const struct library *lib;
    void *contexts;
    void *pair;           /* bulk: the established connection */
    const uint8_t *data;  /* bulk: 1 MiB to send */
    uint8_t *received;    /* bulk: where it arrives */
    struct pk_state *pk;  /* bound: the primitive operations alone */
};

static void one_unit(struct unit *u)
{
    if (u->pk) {
        pk_one_handshake(u->pk);
    } else if (!u->pair) {
        void *p = u->lib->pair_new(u->contexts);
        u->lib->handshake(p);
        u->lib->pair_free(p);
    } else {
        for (size_t i = 0; i < COUNTED_RECORDS; i++)
            u->lib->send(u->pair, SIDE_CLIENT, u->data + i * RECORD_SIZE, RECORD_SIZE,
                         u->received + i * RECORD_SIZE);
    }
}

/* What callgrind counts: --toggle-collect=counted_work. Not static, never
 * inlined nor cloned, so that the name is there. */
#if defined(__GNUC__) && !defined(__clang__)
#define COUNTED __attribute__((noipa))
#else
#define COUNTED __attribute__((noinline))
#endif
COUNTED void counted_work(struct unit *u);

COUNTED void counted_work(struct unit *u)
{
    one_unit(u);
    __asm__ volatile("" ::: "memory"); /* no tail call: the frame stays for debuggers */
}

enum unit_kind { UNIT_HANDSHAKE, UNIT_BULK, UNIT_BOUND };

/* Fills *setup for `what`; returns its kind, or -1 for an unknown name. */
static int parse_kind(const char *what, struct setup *setup, enum hs_kind *kind)
{
    for (int k = 0; k < HS__COUNT; k++) {
        *kind = (enum hs_kind)k;
        setup_for_handshake(setup, *kind);
        if (strcmp(what, hs_kind_name[k]) == 0)
            return UNIT_HANDSHAKE;
        if (k < HS_FULL__COUNT && strncmp(what, "bound_", 6) == 0 &&
            strcmp(what + 6, hs_kind_name[k]) == 0)
            return UNIT_BOUND;
    }
    for (int c = 0; c < BULK__COUNT; c++)
        if (strncmp(what, "bulk_", 5) == 0 && strcmp(what + 5, bulk_cipher_name[c]) == 0) {
            setup_for_bulk(setup, (enum bulk_cipher)c);
            return UNIT_BULK;
        }
    return -1;
}

int run_counted(const char *what, const struct library *lib)
{
    struct setup setup;
    enum hs_kind kind;
    int unit_kind = parse_kind(what, &setup, &kind);
    if (unit_kind < 0) {
        fprintf(stderr, "tlsv-bench: --count: unknown kind '%s' (tls13_ecdsa, tls13_rsa, "
                        "tls12_ecdsa, tls13_resumed, tls12_resumed, bulk_aes128gcm, bulk_aes256gcm, bulk_chacha20, "
                        "bound_tls13_ecdsa, bound_tls13_rsa, bound_tls12_ecdsa)\n", what);
        return 2;
    }
    if (RAND_set_rand_method(&fixed_rand) != 1)
        fatal("cannot install the fixed-seed generator");
    struct stat st; /* the certificates were made then: inside their validity */
    if (stat(pki.ca[KEY_ECDSA], &st) != 0)
        fatal("cannot stat %s", pki.ca[KEY_ECDSA]);
    frozen_time = st.st_mtime;

    struct unit u = {.lib = lib};
    uint8_t *data = NULL, *received = NULL;
    size_t total = (size_t)COUNTED_RECORDS * RECORD_SIZE;
    if (unit_kind == UNIT_BOUND) {
        u.pk = pk_state_new(kind, &setup);
    } else {
        u.contexts = lib->contexts_new(&setup);
    }
    if (unit_kind == UNIT_BULK) {
        data = malloc(total);
        received = malloc(total);
        if (!data || !received)
            fatal("out of memory");
        for (size_t i = 0; i < COUNTED_RECORDS; i++) {
            bulk_pattern_init(data + i * RECORD_SIZE, RECORD_SIZE);
            bulk_stamp(data + i * RECORD_SIZE, RECORD_SIZE, i);
        }
        u.pair = lib->pair_new(u.contexts);
        lib->handshake(u.pair);
        u.data = data;
        u.received = received;
    }

    one_unit(&u); /* the warm-up: caches, lazily fetched algorithms, buffers */
    if (received)
        memset(received, 0, total);
    counted_work(&u); /* the one that counts */

    if (unit_kind == UNIT_BULK) {
        for (size_t i = 0; i < COUNTED_RECORDS; i++)
            bulk_check(received + i * RECORD_SIZE, data + i * RECORD_SIZE, RECORD_SIZE, i, 1);
        lib->pair_free(u.pair);
    }
    if (u.pk)
        pk_state_free(u.pk);
    else
        lib->contexts_free(u.contexts);
    free(data);
    free(received);
    static const char *const unit_name[] = {"handshake", "transfer of 1 MiB",
                                            "handshake's public-key operations"};
    printf("counted: one %s %s with %s in counted_work(), after one unit of warm-up\n", what,
           unit_name[unit_kind], unit_kind == UNIT_BOUND ? "libcrypto" : lib->name);
    return 0;
}
