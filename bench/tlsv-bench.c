/*
 * tlsv-bench -- tlsv side by side with OpenSSL's libssl, in one process.
 *
 * The same work goes through both libraries: client and server in one
 * thread, joined by memory buffers, the process pinned to one core. Each
 * figure is measured in rounds that alternate between the libraries
 * (tlsv, openssl, openssl, tlsv, ...), and the table gives the median of the
 * rounds and the ratio tlsv/openssl. docs/performance.md explains every
 * figure; `tlsv-bench --help` lists the options.
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include <tlsv.h>

#include "bench.h"

struct probe probe;
int use_wall_clock;
uint64_t total_wall_ns, total_cpu_ns;

void fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tlsv-bench: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* ---- the configurations -------------------------------------------------------- */

const char *const hs_kind_name[HS__COUNT] = {"tls13_ecdsa", "tls13_rsa", "tls12_ecdsa",
                                              "tls13_resumed", "tls12_resumed"};
const char *const bulk_cipher_name[BULK__COUNT] = {"aes128gcm", "aes256gcm", "chacha20"};

static const char *const bulk_suite[BULK__COUNT] = {
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"};

void setup_for_handshake(struct setup *s, enum hs_kind kind)
{
    enum key_type key = kind == HS_TLS13_RSA ? KEY_RSA : KEY_ECDSA;
    int tls12 = kind == HS_TLS12_ECDSA || kind == HS_TLS12_RESUMED;
    *s = (struct setup){
        .label = hs_kind_name[kind],
        .version = tls12 ? 0x0303 : 0x0304,
        .suite = tls12 ? "ECDHE-ECDSA-AES128-GCM-SHA256" : "TLS_AES_128_GCM_SHA256",
        .cert = pki.cert[key],
        .key = pki.key[key],
        .cafile = pki.ca[key],
        .resume = kind >= HS_FULL__COUNT,
    };
}

void setup_for_bulk(struct setup *s, enum bulk_cipher cipher)
{
    setup_for_handshake(s, HS_TLS13_ECDSA);
    s->label = bulk_cipher_name[cipher];
    s->suite = bulk_suite[cipher];
}

/* ---- bulk data and its check ----------------------------------------------------- */

void bulk_pattern_init(uint8_t *buf, size_t len)
{
    uint32_t x = 0x2545F491u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
}

/* The record number at the start, the middle and the end of the record:
 * a lost, repeated, reordered or truncated record shows. */
static const size_t stamp_at[3] = {0, RECORD_SIZE / 2, RECORD_SIZE - 8};

void bulk_stamp(uint8_t *buf, size_t len, uint64_t seq)
{
    for (int i = 0; i < 3; i++)
        if (stamp_at[i] + 8 <= len)
            memcpy(buf + stamp_at[i], &seq, 8);
}

void bulk_check(const uint8_t *got, const uint8_t *sent, size_t len, uint64_t seq, int full)
{
    int bad = full && memcmp(got, sent, len) != 0;
    for (int i = 0; i < 3 && !bad; i++) {
        uint64_t v;
        if (stamp_at[i] + 8 <= len) {
            memcpy(&v, got + stamp_at[i], 8);
            bad = v != seq;
        }
    }
    if (bad)
        fatal("bulk data arrived corrupted (record %llu)", (unsigned long long)seq);
}

/* ---- figures ---------------------------------------------------------------------- */

#define MAX_ROUNDS 99
enum { L_TLSV, L_OPENSSL };
static const struct library *const libs[2] = {&lib_tlsv, &lib_openssl};

struct series {
    int n;
    double v[MAX_ROUNDS];
};

enum group { G_HS, G_BULK, G_MEM, G_BOUND };
static const char *const group_name[] = {"hs", "bulk", "mem", "bound"};

struct figure {
    const char *name;
    enum group group;
    const char *unit;
    int selected;
    struct series value[2];                   /* by library: one value per round */
    struct series client_us[2], server_us[2]; /* hs: each side's time per handshake */
    struct series crypto[2];                  /* mem: the part through libcrypto's allocator */
    struct series reference;                  /* hs: -; bulk: the AEAD limit; bound: the bound */
};

enum {
    F_HS = 0,                   /* + enum hs_kind */
    F_BULK = F_HS + HS__COUNT,  /* + enum bulk_cipher */
    F_MEM_PEAK_CLIENT = F_BULK + BULK__COUNT,
    F_MEM_PEAK_SERVER,
    F_MEM_IDLE_CLIENT,
    F_MEM_IDLE_SERVER,
    F_ALLOCS_HS_CLIENT,
    F_ALLOCS_HS_SERVER,
    F_ALLOCS_PER_RECORD,
    F_BOUND,                    /* + enum hs_kind, full handshakes only */
    F__COUNT = F_BOUND + HS_FULL__COUNT
};

#define FIGURE(n, g, u) {.name = (n), .group = (g), .unit = (u)}
static struct figure fig[F__COUNT] = {
    FIGURE("hs_tls13_ecdsa", G_HS, "hs/s"),       FIGURE("hs_tls13_rsa", G_HS, "hs/s"),
    FIGURE("hs_tls12_ecdsa", G_HS, "hs/s"),       FIGURE("hs_tls13_resumed", G_HS, "hs/s"),
    FIGURE("hs_tls12_resumed", G_HS, "hs/s"),     FIGURE("bulk_aes128gcm", G_BULK, "MB/s"),
    FIGURE("bulk_aes256gcm", G_BULK, "MB/s"),     FIGURE("bulk_chacha20", G_BULK, "MB/s"),
    FIGURE("mem_peak_client", G_MEM, "bytes"),    FIGURE("mem_peak_server", G_MEM, "bytes"),
    FIGURE("mem_idle_client", G_MEM, "bytes"),    FIGURE("mem_idle_server", G_MEM, "bytes"),
    FIGURE("allocs_hs_client", G_MEM, "allocs"),  FIGURE("allocs_hs_server", G_MEM, "allocs"),
    FIGURE("allocs_per_record", G_MEM, "allocs"), FIGURE("bound_tls13_ecdsa", G_BOUND, "hs/s"),
    FIGURE("bound_tls13_rsa", G_BOUND, "hs/s"),   FIGURE("bound_tls12_ecdsa", G_BOUND, "hs/s"),
};

static void push(struct series *s, double v)
{
    if (s->n < MAX_ROUNDS)
        s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const struct series *s)
{
    if (s->n == 0)
        return NAN;
    double v[MAX_ROUNDS];
    memcpy(v, s->v, (size_t)s->n * sizeof v[0]);
    qsort(v, (size_t)s->n, sizeof v[0], cmp_double);
    return s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

/* tlsv / openssl; two zeros are equal (1), a zero below a nonzero is inf */
static double ratio(double tlsv, double openssl)
{
    if (openssl == 0)
        return tlsv == 0 ? 1.0 : INFINITY;
    return tlsv / openssl;
}

/* ---- options ------------------------------------------------------------------------- */

static struct {
    const char *mode;
    int rounds;
    double seconds;
    int cpu;
    const char *only, *csv, *json, *count, *lib, *pki_dir;
    int verbose;
} opt = {.mode = "default", .rounds = 10, .seconds = 1.0, .cpu = -1};

static int crypto_split = 1; /* the libcrypto hooks are in place */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: tlsv-bench [--quick | --smoke] [--only NAME[,NAME...]] [--rounds N] [--seconds S]\n"
        "                  [--cpu N] [--wall-clock] [--tlsv-direct] [--csv FILE] [--json FILE]\n"
        "                  [--pki-dir DIR] [-v]\n"
        "       tlsv-bench --count KIND --lib tlsv|openssl [--tlsv-direct] [--pki-dir DIR]\n"
        "\n"
        "Runs the same TLS work through tlsv and OpenSSL's libssl, alternating rounds,\n"
        "client and server in one thread on one core, and prints the medians.\n"
        "  (default)       10 rounds x 1 s per figure per library\n"
        "  --quick         3 rounds x 0.6 s: every figure in under a minute\n"
        "  --smoke         1 round x 0.25 s: proves it runs\n"
        "  --only LIST     figures by name or group (hs, bulk, mem, bound), comma-separated\n"
        "  --rounds N      rounds per figure (1..%d)\n"
        "  --seconds S     seconds per round per library (the bound and limit: S/2)\n"
        "  --cpu N         the core to pin to (default: the last one allowed)\n"
        "  --wall-clock    rates per wall-clock second (default: per second of the\n"
        "                  thread's CPU time, which leaves out other processes' turns)\n"
        "  --tlsv-direct   tlsv's transport copies each byte once (output_peek into\n"
        "                  input_buffer) instead of twice (take_output, feed) like the BIO pair\n"
        "  --csv FILE, --json FILE   the figures for plotting (bench/plot.sh)\n"
        "  -v, --verbose   every round's figures, on stderr\n"
        "  --pki-dir DIR   keep the certificates in DIR (reused when present)\n"
        "  --count KIND    one unit of work in counted_work(), for callgrind:\n"
        "                  tls13_ecdsa, tls13_rsa, tls12_ecdsa, tls13_resumed,\n"
        "                  tls12_resumed (a handshake),\n"
        "                  bulk_aes128gcm, bulk_aes256gcm, bulk_chacha20 (1 MiB)\n"
        "figures:", MAX_ROUNDS);
    for (int i = 0; i < F__COUNT; i++)
        fprintf(f, "%s%s", i % 4 ? " " : "\n  ", fig[i].name);
    fputc('\n', f);
}

static int select_figures(const char *list)
{
    if (!list) {
        for (int i = 0; i < F__COUNT; i++)
            fig[i].selected = 1;
        return 0;
    }
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        fatal("out of memory");
    int status = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int matched = 0;
        for (int i = 0; i < F__COUNT; i++)
            if (strcmp(tok, fig[i].name) == 0 || strcmp(tok, group_name[fig[i].group]) == 0) {
                fig[i].selected = 1;
                matched = 1;
            }
        if (!matched) {
            fprintf(stderr, "tlsv-bench: --only: no figure or group named '%s'\n", tok);
            status = -1;
        }
    }
    free(copy);
    return status;
}

static int parse_options(int argc, char **argv)
{
    enum { O_QUICK = 256, O_SMOKE, O_ONLY, O_ROUNDS, O_SECONDS, O_CPU, O_CSV, O_JSON, O_COUNT,
           O_LIB, O_PKI, O_WALL, O_DIRECT };
    static const struct option longopts[] = {
        {"quick", no_argument, NULL, O_QUICK},      {"smoke", no_argument, NULL, O_SMOKE},
        {"only", required_argument, NULL, O_ONLY},  {"rounds", required_argument, NULL, O_ROUNDS},
        {"seconds", required_argument, NULL, O_SECONDS}, {"cpu", required_argument, NULL, O_CPU},
        {"csv", required_argument, NULL, O_CSV},    {"json", required_argument, NULL, O_JSON},
        {"count", required_argument, NULL, O_COUNT}, {"lib", required_argument, NULL, O_LIB},
        {"pki-dir", required_argument, NULL, O_PKI}, {"wall-clock", no_argument, NULL, O_WALL},
        {"tlsv-direct", no_argument, NULL, O_DIRECT},
        {"verbose", no_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int rounds = 0;
    double seconds = 0;
    char *end;
    for (int c; (c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1;) {
        switch (c) {
        case O_QUICK: opt.mode = "quick"; opt.rounds = 3; opt.seconds = 0.6; break;
        case O_SMOKE: opt.mode = "smoke"; opt.rounds = 1; opt.seconds = 0.25; break;
        case O_ONLY: opt.only = optarg; break;
        case O_ROUNDS:
            rounds = (int)strtol(optarg, &end, 10);
            if (*end || rounds < 1 || rounds > MAX_ROUNDS) {
                fprintf(stderr, "tlsv-bench: --rounds: 1 to %d\n", MAX_ROUNDS);
                return -1;
            }
            break;
        case O_SECONDS:
            seconds = strtod(optarg, &end);
            if (*end || !(seconds >= 0.01 && seconds <= 3600)) {
                fprintf(stderr, "tlsv-bench: --seconds: 0.01 to 3600\n");
                return -1;
            }
            break;
        case O_CPU:
            opt.cpu = (int)strtol(optarg, &end, 10);
            if (*end || opt.cpu < 0 || opt.cpu >= CPU_SETSIZE) {
                fprintf(stderr, "tlsv-bench: --cpu: a core number\n");
                return -1;
            }
            break;
        case O_CSV: opt.csv = optarg; break;
        case O_JSON: opt.json = optarg; break;
        case O_COUNT: opt.count = optarg; break;
        case O_LIB: opt.lib = optarg; break;
        case O_PKI: opt.pki_dir = optarg; break;
        case O_WALL: use_wall_clock = 1; break;
        case O_DIRECT: tlsv_direct_transport = 1; break;
        case 'v': opt.verbose = 1; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tlsv-bench: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (rounds)
        opt.rounds = rounds;
    if (seconds)
        opt.seconds = seconds;
    if (opt.count && (!opt.lib || (strcmp(opt.lib, "tlsv") && strcmp(opt.lib, "openssl")))) {
        fprintf(stderr, "tlsv-bench: --count needs --lib tlsv or --lib openssl\n");
        return -1;
    }
    return select_figures(opt.only);
}

/* ---- the machine ------------------------------------------------------------------------ */

static void pin_to_cpu(void)
{
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        fatal("sched_getaffinity: %s", strerror(errno));
    if (opt.cpu < 0)
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &allowed))
                opt.cpu = c;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(opt.cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0)
        fatal("cannot pin to CPU %d: %s", opt.cpu, strerror(errno));
}

static void cpu_model(char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            colon += 1 + strspn(colon + 1, " \t");
            colon[strcspn(colon, "\n")] = 0;
            snprintf(out, cap, "%s", colon);
            break;
        }
    }
    fclose(f);
}

/* ---- measurements --------------------------------------------------------------------------- */

static uint8_t send_buf[RECORD_SIZE], recv_buf[RECORD_SIZE];

static void one_handshake(const struct library *lib, void *cx)
{
    void *p = lib->pair_new(cx);
    lib->handshake(p);
    lib->pair_free(p);
}

/* One 16 KiB record from `from` to its peer, checked. */
static void transfer(const struct library *lib, void *pair, enum side from, uint64_t seq, int full)
{
    bulk_stamp(send_buf, RECORD_SIZE, seq);
    lib->send(pair, from, send_buf, RECORD_SIZE, recv_buf);
    bulk_check(recv_buf, send_buf, RECORD_SIZE, seq, full);
}

static void measure_handshakes(int li, void *cx, struct figure *f)
{
    const struct library *lib = libs[li];
    for (int i = 0; i < 4; i++)
        one_handshake(lib, cx);
    probe.ns[SIDE_CLIENT] = probe.ns[SIDE_SERVER] = 0;
    probe.timing = 1;
    struct stopwatch w;
    long n = 0;
    stopwatch_start(&w);
    do {
        one_handshake(lib, cx);
        n++;
    } while (!stopwatch_done(&w, opt.seconds));
    probe.timing = 0;
    push(&f->value[li], (double)n / stopwatch_seconds(&w));
    push(&f->client_us[li], stopwatch_scale(&w, (double)probe.ns[SIDE_CLIENT]) / 1e3 / (double)n);
    push(&f->server_us[li], stopwatch_scale(&w, (double)probe.ns[SIDE_SERVER]) / 1e3 / (double)n);
}

static void measure_bulk(int li, void *cx, struct figure *f)
{
    const struct library *lib = libs[li];
    void *p = lib->pair_new(cx);
    lib->handshake(p);
    uint64_t seq = 0;
    for (; seq < 32; seq++) /* warm-up, every byte checked */
        transfer(lib, p, SIDE_CLIENT, seq, 1);
    struct stopwatch w;
    long n = 0;
    stopwatch_start(&w);
    do {
        for (int i = 0; i < 64; i++, seq++, n++) /* the CPU clock is a system call */
            transfer(lib, p, SIDE_CLIENT, seq, (seq & 63) == 0);
    } while (!stopwatch_done(&w, opt.seconds));
    lib->pair_free(p);
    push(&f->value[li], (double)n * RECORD_SIZE / stopwatch_seconds(&w) / 1e6);
}

static long long leftover[2]; /* bytes the connections' meters still held after their free */

static void record_meter(int figure, int li, double value, double crypto)
{
    push(&fig[figure].value[li], value);
    push(&fig[figure].crypto[li], crypto);
}

static void release_caches(const struct library *lib)
{
    if (lib->release_caches)
        lib->release_caches();
}

/* The memory figures of one connection pair (TLS 1.3, X25519, ECDSA,
 * AES-128-GCM). The library's reusable buffers are released first, so the
 * handshake is charged for every buffer it uses, and again before "idle", so
 * that what a connection gave back does not count as held by it. */
static void measure_memory(int li, void *cx)
{
    const struct library *lib = libs[li];
    for (int i = 0; i < 2; i++) { /* warm-up: what is made once per context or process */
        void *p = lib->pair_new(cx);
        lib->handshake(p);
        transfer(lib, p, SIDE_CLIENT, 0, 1);
        transfer(lib, p, SIDE_SERVER, 1, 1);
        lib->pair_free(p);
    }
    release_caches(lib);
    struct alloc_meter m[2];
    alloc_meter_reset(&m[SIDE_CLIENT]);
    alloc_meter_reset(&m[SIDE_SERVER]);
    probe.meter[SIDE_CLIENT] = &m[SIDE_CLIENT];
    probe.meter[SIDE_SERVER] = &m[SIDE_SERVER];

    void *p = lib->pair_new(cx);
    lib->handshake(p);
    for (int s = 0; s < 2; s++) {
        record_meter(F_MEM_PEAK_CLIENT + s, li, (double)m[s].peak, (double)m[s].crypto_at_peak);
        record_meter(F_ALLOCS_HS_CLIENT + s, li, (double)m[s].allocs, (double)m[s].crypto_allocs);
    }
    transfer(lib, p, SIDE_CLIENT, 0, 1); /* one round trip of 16 KiB, then idle */
    transfer(lib, p, SIDE_SERVER, 1, 1);
    release_caches(lib);
    for (int s = 0; s < 2; s++)
        record_meter(F_MEM_IDLE_CLIENT + s, li, (double)m[s].live, (double)m[s].crypto_live);

    enum { WARM = 4, RECORDS = 64 }; /* the data path in its steady state */
    uint64_t seq = 2;
    for (; seq < 2 + WARM; seq++)
        transfer(lib, p, SIDE_CLIENT, seq, 1);
    unsigned long long a0 = m[0].allocs + m[1].allocs, c0 = m[0].crypto_allocs + m[1].crypto_allocs;
    for (; seq < 2 + WARM + RECORDS; seq++)
        transfer(lib, p, SIDE_CLIENT, seq, 1);
    record_meter(F_ALLOCS_PER_RECORD, li, (double)(m[0].allocs + m[1].allocs - a0) / RECORDS,
                 (double)(m[0].crypto_allocs + m[1].crypto_allocs - c0) / RECORDS);

    lib->pair_free(p);
    release_caches(lib);
    leftover[li] = m[0].live + m[1].live;
    probe.meter[SIDE_CLIENT] = probe.meter[SIDE_SERVER] = NULL;
    alloc_meter_forget_all();
    if (alloc_meter_overflowed())
        fatal("the allocation meter overflowed: memory figures unusable");
}

/* ---- the schedule ------------------------------------------------------------------------------ */

static int any_selected(int from, int count)
{
    for (int i = from; i < from + count; i++)
        if (fig[i].selected)
            return 1;
    return 0;
}

/* "tlsv-bench: hs_tls13_ecdsa round 2/5" on a terminal, overwritten as it goes */
static void progress(const char *what, int round)
{
    if (!isatty(STDERR_FILENO))
        return;
    fprintf(stderr, "tlsv-bench: %-18s round %d/%d\r", what, round + 1, opt.rounds);
    fflush(stderr);
}

/* --verbose: the value a round just added to a series. */
static void show_round(const char *figure, const char *who, const struct series *s, const char *unit)
{
    if (opt.verbose && s->n > 0)
        fprintf(stderr, "round %2d  %-18s %-8s %10.1f %s\n", s->n, figure, who, s->v[s->n - 1], unit);
}

/* Round r runs tlsv first when r is even, openssl first when it is odd. */
static int lib_in_turn(int round, int turn)
{
    return (round + turn) % 2 ? L_OPENSSL : L_TLSV;
}

static void run_all(void)
{
    struct setup setup;
    void *cx[2];
    for (int k = 0; k < HS__COUNT; k++) {
        static struct figure none; /* the bound of a resumed handshake: never selected */
        struct figure *hs = &fig[F_HS + k], *bound = k < HS_FULL__COUNT ? &fig[F_BOUND + k] : &none;
        if (!hs->selected && !bound->selected)
            continue;
        setup_for_handshake(&setup, (enum hs_kind)k);
        for (int li = 0; li < 2; li++)
            cx[li] = libs[li]->contexts_new(&setup);
        for (int r = 0; r < opt.rounds; r++) {
            progress(hs->selected ? hs->name : bound->name, r);
            for (int turn = 0; turn < 2 && hs->selected; turn++) {
                int li = lib_in_turn(r, turn);
                measure_handshakes(li, cx[li], hs);
                show_round(hs->name, libs[li]->name, &hs->value[li], hs->unit);
            }
            if (bound->selected) {
                push(&bound->reference, primitive_bound((enum hs_kind)k, &setup, opt.seconds / 2));
                show_round(bound->name, "bound", &bound->reference, bound->unit);
            }
        }
        for (int li = 0; li < 2; li++)
            libs[li]->contexts_free(cx[li]);
    }
    for (int c = 0; c < BULK__COUNT; c++) {
        struct figure *f = &fig[F_BULK + c];
        if (!f->selected)
            continue;
        setup_for_bulk(&setup, (enum bulk_cipher)c);
        for (int li = 0; li < 2; li++)
            cx[li] = libs[li]->contexts_new(&setup);
        for (int r = 0; r < opt.rounds; r++) {
            progress(f->name, r);
            for (int turn = 0; turn < 2; turn++) {
                int li = lib_in_turn(r, turn);
                measure_bulk(li, cx[li], f);
                show_round(f->name, libs[li]->name, &f->value[li], f->unit);
            }
            push(&f->reference, aead_limit((enum bulk_cipher)c, opt.seconds / 2));
            show_round(f->name, "limit", &f->reference, f->unit);
        }
        for (int li = 0; li < 2; li++)
            libs[li]->contexts_free(cx[li]);
    }
    if (any_selected(F_MEM_PEAK_CLIENT, F_BOUND - F_MEM_PEAK_CLIENT)) {
        setup_for_bulk(&setup, BULK_AES128GCM);
        for (int li = 0; li < 2; li++)
            cx[li] = libs[li]->contexts_new(&setup);
        for (int r = 0; r < opt.rounds; r++) {
            progress("memory", r);
            for (int turn = 0; turn < 2; turn++)
                measure_memory(lib_in_turn(r, turn), cx[lib_in_turn(r, turn)]);
        }
        for (int li = 0; li < 2; li++)
            libs[li]->contexts_free(cx[li]);
    }
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "%60s\r", "");
}

/* ---- the report ---------------------------------------------------------------------------------- */

static double med(int f, int li)
{
    return median(&fig[f].value[li]);
}

static void print_ratio(double r)
{
    if (isinf(r))
        printf("  %7s", "inf");
    else
        printf("  %6.2fx", r);
}

static void print_table(void)
{
    if (any_selected(F_HS, HS__COUNT) || any_selected(F_BOUND, HS_FULL__COUNT)) {
        printf("\nHandshakes: client+server pairs per second in one thread; "
               "us = time in each side's calls per handshake;\n*_resumed: the client offers a "
               "ticket the server takes (TLS 1.3: psk_dhe_ke; TLS 1.2: abbreviated), one new ticket each\n");
        printf("%-18s %10s %10s %8s %19s %19s %10s %7s %7s\n", "name", "tlsv", "openssl",
               "ratio", "tlsv client/server", "ossl client/server", "bound", "tlsv%", "ossl%");
        for (int k = 0; k < HS__COUNT; k++) {
            int f = F_HS + k;
            int has_bound = k < HS_FULL__COUNT && fig[F_BOUND + k].selected;
            double bound = has_bound ? median(&fig[F_BOUND + k].reference) : NAN;
            if (!fig[f].selected)
                continue;
            double t = med(f, L_TLSV), o = med(f, L_OPENSSL);
            printf("%-18s %10.0f %10.0f", fig[f].name, t, o);
            print_ratio(ratio(t, o));
            printf(" %8.1f /%7.1f us %8.1f /%7.1f us", median(&fig[f].client_us[L_TLSV]),
                   median(&fig[f].server_us[L_TLSV]), median(&fig[f].client_us[L_OPENSSL]),
                   median(&fig[f].server_us[L_OPENSSL]));
            if (has_bound)
                printf(" %10.0f %6.0f%% %6.0f%%", bound, 100 * t / bound, 100 * o / bound);
            printf("\n");
        }
    }
    if (any_selected(F_BOUND, HS_FULL__COUNT)) {
        static const char *const ops[HS_FULL__COUNT] = {
            "X25519 keygen x2 + derive x2, ECDSA P-256 sign, ECDSA verify x2 (CA->leaf, CertificateVerify)",
            "X25519 keygen x2 + derive x2, RSA-PSS-2048 sign, RSA verify x2 (CA->leaf PKCS#1, CertificateVerify PSS)",
            "X25519 keygen x2 + derive x2, ECDSA P-256 sign, ECDSA verify x2 (CA->leaf, ServerKeyExchange)"};
        printf("\nPrimitive bound: handshakes/s if a handshake were only its public-key operations "
               "(libcrypto EVP)\n");
        for (int k = 0; k < HS_FULL__COUNT; k++)
            if (fig[F_BOUND + k].selected)
                printf("%-18s %10.0f hs/s  %s\n", fig[F_BOUND + k].name,
                       median(&fig[F_BOUND + k].reference), ops[k]);
    }
    if (any_selected(F_BULK, BULK__COUNT)) {
        printf("\nBulk: 16 KiB writes client->server after a TLS 1.3 handshake "
               "(write+encrypt+transfer+decrypt+read), MB/s = 10^6 bytes/s;\n"
               "limit = seal+open of 16 KiB with libcrypto EVP alone\n");
        printf("%-18s %10s %10s %8s %10s %7s %7s\n", "name", "tlsv", "openssl", "ratio", "limit",
               "tlsv%", "ossl%");
        for (int c = 0; c < BULK__COUNT; c++) {
            int f = F_BULK + c;
            if (!fig[f].selected)
                continue;
            double t = med(f, L_TLSV), o = med(f, L_OPENSSL), lim = median(&fig[f].reference);
            printf("%-18s %10.0f %10.0f", fig[f].name, t, o);
            print_ratio(ratio(t, o));
            printf(" %10.0f %6.0f%% %6.0f%%\n", lim, 100 * t / lim, 100 * o / lim);
        }
    }
    if (any_selected(F_MEM_PEAK_CLIENT, F_BOUND - F_MEM_PEAK_CLIENT)) {
        printf("\nMemory per connection (TLS 1.3, X25519, ECDSA, AES-128-GCM): bytes = usable size "
               "of the blocks a side allocated;\npeak during the handshake, idle after it and one "
               "16 KiB round trip; allocs = allocating calls\n");
        printf("%-18s %8s %12s %-30s %10s %8s\n", "name", "unit", "tlsv", "(own + libcrypto)",
               "openssl", "ratio");
        for (int f = F_MEM_PEAK_CLIENT; f < F_BOUND; f++) {
            if (!fig[f].selected)
                continue;
            double t = med(f, L_TLSV), o = med(f, L_OPENSSL), tc = median(&fig[f].crypto[L_TLSV]);
            int prec = f == F_ALLOCS_PER_RECORD ? 2 : 0;
            char split[64] = "";
            if (crypto_split)
                snprintf(split, sizeof split, "(%.*f + %.*f)", prec, t - tc, prec, tc);
            printf("%-18s %8s %12.*f %-30s %10.*f", fig[f].name, fig[f].unit, prec, t, split, prec, o);
            print_ratio(ratio(t, o));
            printf("\n");
        }
        for (int li = 0; li < 2; li++)
            if (leftover[li])
                printf("note: after the connections were freed, %lld bytes allocated in their "
                       "calls stayed allocated (%s: caches)\n", leftover[li], libs[li]->name);
    }
}

/* Decimals for a figure's machine-readable values. */
static int precision(int f)
{
    if (f == F_ALLOCS_PER_RECORD)
        return 2;
    return fig[f].group == G_MEM ? 0 : 1;
}

static void print_figure_lines(void)
{
    printf("\n");
    for (int f = 0; f < F__COUNT; f++) {
        if (!fig[f].selected)
            continue;
        if (fig[f].group == G_BOUND) {
            printf("figure %s value=%.1f unit=%s\n", fig[f].name, median(&fig[f].reference), fig[f].unit);
            continue;
        }
        double t = med(f, L_TLSV), o = med(f, L_OPENSSL);
        int prec = precision(f);
        printf("figure %s tlsv=%.*f openssl=%.*f ratio=%.3f unit=%s", fig[f].name, prec, t, prec, o,
               ratio(t, o), fig[f].unit);
        if (fig[f].group == G_HS)
            printf(" tlsv_client_us=%.1f tlsv_server_us=%.1f openssl_client_us=%.1f "
                   "openssl_server_us=%.1f", median(&fig[f].client_us[L_TLSV]),
                   median(&fig[f].server_us[L_TLSV]), median(&fig[f].client_us[L_OPENSSL]),
                   median(&fig[f].server_us[L_OPENSSL]));
        if (fig[f].group == G_BULK)
            printf(" limit=%.1f", median(&fig[f].reference));
        if (fig[f].group == G_MEM && crypto_split) {
            double tc = median(&fig[f].crypto[L_TLSV]);
            printf(" tlsv_own=%.*f tlsv_libcrypto=%.*f", prec, t - tc, prec, tc);
        }
        printf("\n");
    }
}

/* The reference a figure is compared with: hs its bound, bulk its limit, bound itself. */
static double reference_of(int f)
{
    switch (fig[f].group) {
    case G_HS:
        return f - F_HS < HS_FULL__COUNT && fig[F_BOUND + (f - F_HS)].selected
                   ? median(&fig[F_BOUND + (f - F_HS)].reference)
                   : NAN;
    case G_BULK:
    case G_BOUND: return median(&fig[f].reference);
    default: return NAN;
    }
}

static void write_csv(const char *path)
{
    FILE *out = fopen(path, "w");
    if (!out)
        fatal("cannot create %s: %s", path, strerror(errno));
    fprintf(out, "figure,group,unit,tlsv,openssl,ratio,reference\n");
    for (int f = 0; f < F__COUNT; f++) {
        if (!fig[f].selected)
            continue;
        double t = med(f, L_TLSV), o = med(f, L_OPENSSL), ref = reference_of(f);
        fprintf(out, "%s,%s,%s,", fig[f].name, group_name[fig[f].group], fig[f].unit);
        if (fig[f].group == G_BOUND)
            fprintf(out, ",,,");
        else
            fprintf(out, "%.3f,%.3f,%.4f,", t, o, ratio(t, o));
        if (!isnan(ref))
            fprintf(out, "%.3f", ref);
        fprintf(out, "\n");
    }
    if (fclose(out) != 0)
        fatal("cannot write %s", path);
}

static void json_number(FILE *out, const char *key, double v)
{
    if (isfinite(v))
        fprintf(out, ", \"%s\": %.4f", key, v);
    else
        fprintf(out, ", \"%s\": null", key);
}

static void write_json(const char *path, const char *cpu)
{
    FILE *out = fopen(path, "w");
    if (!out)
        fatal("cannot create %s: %s", path, strerror(errno));
    fprintf(out, "{\"tlsv\": \"%s\", \"openssl\": \"%s\", \"cpu_model\": \"%s\", \"cpu\": %d, "
                 "\"mode\": \"%s\", \"rounds\": %d, \"seconds\": %.3f, \"clock\": \"%s\", "
                 "\"figures\": [",
            tlsv_library_version(), OpenSSL_version(OPENSSL_VERSION), cpu, opt.cpu, opt.mode,
            opt.rounds, opt.seconds, use_wall_clock ? "wall" : "thread-cpu");
    const char *sep = "\n";
    for (int f = 0; f < F__COUNT; f++) {
        if (!fig[f].selected)
            continue;
        fprintf(out, "%s  {\"figure\": \"%s\", \"group\": \"%s\", \"unit\": \"%s\"", sep,
                fig[f].name, group_name[fig[f].group], fig[f].unit);
        sep = ",\n";
        if (fig[f].group != G_BOUND) {
            double t = med(f, L_TLSV), o = med(f, L_OPENSSL);
            json_number(out, "tlsv", t);
            json_number(out, "openssl", o);
            json_number(out, "ratio", ratio(t, o));
        }
        json_number(out, "reference", reference_of(f));
        if (fig[f].group == G_HS) {
            json_number(out, "tlsv_client_us", median(&fig[f].client_us[L_TLSV]));
            json_number(out, "tlsv_server_us", median(&fig[f].server_us[L_TLSV]));
            json_number(out, "openssl_client_us", median(&fig[f].client_us[L_OPENSSL]));
            json_number(out, "openssl_server_us", median(&fig[f].server_us[L_OPENSSL]));
        }
        if (fig[f].group == G_MEM && crypto_split)
            json_number(out, "tlsv_libcrypto", median(&fig[f].crypto[L_TLSV]));
        fprintf(out, "}");
    }
    fprintf(out, "\n]}\n");
    if (fclose(out) != 0)
        fatal("cannot write %s", path);
}

/* ---- main ------------------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    /* first of all: libcrypto must not have allocated anything yet */
    if (alloc_meter_install_crypto_hooks() != 0)
        crypto_split = 0;
    if (parse_options(argc, argv) != 0)
        return 2;
    if (atexit(pki_cleanup) != 0)
        fatal("atexit failed");
    pki_create(opt.pki_dir);

    if (opt.count)
        return run_counted(opt.count, strcmp(opt.lib, "tlsv") == 0 ? &lib_tlsv : &lib_openssl);

    pin_to_cpu();
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    printf("tlsv-bench: tlsv %s vs %s (libssl), one thread pinned to CPU %d of %ld (%s)\n",
           tlsv_library_version(), OpenSSL_version(OPENSSL_VERSION), opt.cpu,
           sysconf(_SC_NPROCESSORS_ONLN), cpu);
    printf("method: client and server in one thread over memory buffers; rounds alternate "
           "tlsv/openssl;\n        %s: %d round%s x %.2f s per figure per library; "
           "medians of the rounds\n", opt.mode, opt.rounds, opt.rounds > 1 ? "s" : "", opt.seconds);
    if (tlsv_direct_transport)
        printf("transport: tlsv's copies each byte once (--tlsv-direct), libssl's BIO pair twice\n");
    printf("fairness: full handshakes with no session tickets on either side (libssl: num_tickets 0,\n"
           "          SSL_OP_NO_TICKET, no session cache; tlsv: OP_NO_TICKET); resumed ones with one\n"
           "          ticket per handshake on both (no session cache), read by the client;\n"
           "          both clients verify the chain against the CA and the name %s; no client "
           "certificate\n", BENCH_HOSTNAME);
    if (!crypto_split)
        printf("note: libcrypto's allocation hooks could not be installed: no own/libcrypto split\n");
    fflush(stdout);

    run_all();
    printf("clock: %s; the bench thread ran %.0f%% of the wall-clock time of its measurements\n",
           use_wall_clock ? "rates per wall-clock second"
                          : "rates per second of the bench thread's CPU time",
           total_wall_ns ? 100.0 * (double)total_cpu_ns / (double)total_wall_ns : 0.0);
    print_table();
    print_figure_lines();
    if (opt.csv)
        write_csv(opt.csv);
    if (opt.json)
        write_json(opt.json, cpu);
    return 0;
}
