/*
 * leak10k.c -- 10,000 complete handshakes in one process, in memory mode,
 * with no leak and steady memory.
 *
 * Every handshake makes a client and a server tlsv_conn, runs the
 * handshake through memory buffers (tlsv_conn_feed / tlsv_conn_take_output),
 * exchanges a few bytes of application data each way, closes with
 * close_notify in both directions and frees both connections. The mix, by
 * handshake number i:
 *   i % 10 == 0  TLS 1.3, ECDSA P-256 certificate, x25519
 *             1  TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256
 *             2  TLS 1.2 CBC: ECDHE-RSA-AES128-SHA (RSA certificate)
 *             3  TLS 1.3 HelloRetryRequest: the client's key share is
 *                x25519, the server takes only P-256
 *             4  TLS 1.2 RSA key exchange, AES128-SHA256 (CBC)
 *             5  TLS 1.3 with an RSA certificate (RSA-PSS)
 *             6  TLS 1.2 ECDHE-ECDSA-CHACHA20-POLY1305
 *             7  a failed handshake with an alert, alternately: a TLS 1.2-only
 *                client at a TLS 1.3-only server (protocol_version) and a
 *                client that does not trust the server's CA (the client
 *                sends unknown_ca)
 *             8  TLS 1.0, AES128-SHA (CBC, 1/n-1 record splitting)
 *             9  TLS 1.3 with a client certificate (mutual authentication)
 * Every client verifies the server's certificate against a throw-away CA
 * (tests/unit/testpki.h) and the name "localhost". Every 1000 handshakes all
 * contexts are freed and made again (certificates loaded anew); one
 * connection in 50 outlives its contexts (the connection keeps a reference).
 *
 * What fails the test:
 *   - any handshake that does not end as planned (each failure must carry
 *     the expected reason), any application byte wrong;
 *   - a leak: under AddressSanitizer (the asan build), LeakSanitizer reports
 *     anything not freed at exit and the process fails;
 *   - memory that grows: the bytes the allocator has handed out and not got
 *     back -- mallinfo2().uordblks in a normal build,
 *     __sanitizer_get_current_allocated_bytes() under ASan -- after
 *     handshake N/10 (warm-up; 1,000 of 10,000) and after handshake N, both
 *     taken at the same point of the context cycle, may differ by at most
 *     LEAK_BOUND bytes. Both figures are printed.
 *
 * Usage: leak10k [N] [--inject-leak]
 *   N               handshakes (default 10000)
 *   --inject-leak   deliberately never frees one client connection in 10
 *                   (the leak_10k_detects_injected_leak test: the steady
 *                   memory check and LeakSanitizer must both catch it)
 *
 * The valgrind variant, by hand, from the build directory of a normal
 * (non-sanitized) build -- 1,000 handshakes, about 85 s of CPU; expect
 * "definitely lost: 0 bytes in 0 blocks" and exit status 0 (the
 * allocated-bytes check is skipped there: valgrind's allocator replaces
 * glibc's, and its leak check is the verdict):
 *   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
 *            --error-exitcode=1 tests/leak10k 1000
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testpki.h"
#include "tlsv.h"

#if defined(__SANITIZE_ADDRESS__)
#define LEAK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LEAK_ASAN 1
#endif
#endif

#ifdef LEAK_ASAN
#if __has_include(<sanitizer/allocator_interface.h>)
#include <sanitizer/allocator_interface.h>
#else
/* GCC 12 ships no sanitizer/allocator_interface.h; libasan exports it */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif
/* LeakSanitizer on, whatever the environment forgets to say (an explicit
 * ASAN_OPTIONS still wins). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=1";
}
#else
#include <malloc.h>
#endif

/* Under valgrind mallinfo2() describes glibc's allocator, which valgrind
 * replaces (it reads 0): no figures there, valgrind's leak check decides. */
#if !defined(LEAK_ASAN) && __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#else
#define UNDER_VALGRIND() 0
#endif

/* The most the allocated bytes may grow between the warm-up and the end.
 * glibc's per-thread cache (tcache: up to 7 freed chunks per size class
 * below 1 KiB) is counted as in use by mallinfo2(), and fills up slowly
 * with the sizes a run happens to free (+90 KiB over the first 2,000
 * handshakes, flat after that); with GLIBC_TUNABLES=glibc.malloc.
 * tcache_count=0 (which the CTest test sets) the figure is exact (flat to
 * within a few hundred bytes from handshake 100 on), otherwise the bound
 * allows for the cache. */
#define LEAK_BOUND (64 * 1024)
#define LEAK_BOUND_TCACHE (320 * 1024)

static size_t allocated_bytes(void)
{
#ifdef LEAK_ASAN
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}

static long leak_bound(void)
{
#ifndef LEAK_ASAN
    const char *t = getenv("GLIBC_TUNABLES");
    if (!t || !strstr(t, "glibc.malloc.tcache_count=0"))
        return LEAK_BOUND_TCACHE;
#endif
    return LEAK_BOUND;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("leak10k: FAIL: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
    exit(1);
}

/* ---- the contexts ------------------------------------------------------- */

static char ec_leaf[512], rsa_leaf[512], client_leaf[512];

enum { C_DEFAULT, C_TLS12, C_TLS10, C_NO_CA, C_WITH_CERT, N_CLIENT };
enum { S_EC, S_RSA, S_P256_ONLY, S_TLS13_ONLY, S_MTLS, S_TLS10, N_SERVER };

static tlsv_ctx *clients[N_CLIENT], *servers[N_SERVER];

static tlsv_ctx *ctx_or_die(int protocol)
{
    tlsv_error err;
    tlsv_ctx *c = tlsv_ctx_new(protocol, &err);
    if (!c)
        die("tlsv_ctx_new: %s", err.message);
    return c;
}

static void ok_or_die(tlsv_ctx *c, int rc, const char *what)
{
    if (rc != 0)
        die("%s: %s", what, tlsv_ctx_last_error(c)->message);
}

static tlsv_ctx *client_ctx(void)
{
    tlsv_ctx *c = ctx_or_die(TLSV_PROTOCOL_TLS_CLIENT);
    ok_or_die(c, tlsv_ctx_load_verify_locations(c, testpki_ca_path(), NULL), "CA");
    return c;
}

static tlsv_ctx *server_ctx(const char *leaf)
{
    tlsv_ctx *c = ctx_or_die(TLSV_PROTOCOL_TLS_SERVER);
    ok_or_die(c, tlsv_ctx_load_cert_chain(c, leaf, NULL), "certificate");
    return c;
}

static void make_contexts(void)
{
    tlsv_ctx *c;
    clients[C_DEFAULT] = c = client_ctx();
    ok_or_die(c, tlsv_ctx_set_groups(c, "x25519:P-256"), "client groups");
    clients[C_TLS12] = c = client_ctx();
    ok_or_die(c, tlsv_ctx_set_maximum_version(c, TLSV_VERSION_TLSv1_2), "client max");
    clients[C_TLS10] = c = client_ctx();
    ok_or_die(c, tlsv_ctx_set_minimum_version(c, TLSV_VERSION_MINIMUM_SUPPORTED), "client min");
    ok_or_die(c, tlsv_ctx_set_maximum_version(c, 0x0301), "client max 1.0");
    clients[C_NO_CA] = c = ctx_or_die(TLSV_PROTOCOL_TLS_CLIENT); /* trusts nothing */
    clients[C_WITH_CERT] = c = client_ctx();
    ok_or_die(c, tlsv_ctx_load_cert_chain(c, client_leaf, NULL), "client certificate");

    servers[S_EC] = server_ctx(ec_leaf);
    servers[S_RSA] = c = server_ctx(rsa_leaf);
    ok_or_die(c, tlsv_ctx_set_ciphers(c, "ECDHE-RSA-AES128-SHA:AES128-SHA256:AES128-SHA"),
              "server ciphers");
    servers[S_P256_ONLY] = c = server_ctx(ec_leaf);
    ok_or_die(c, tlsv_ctx_set_groups(c, "P-256"), "server groups");
    servers[S_TLS13_ONLY] = c = server_ctx(ec_leaf);
    ok_or_die(c, tlsv_ctx_set_minimum_version(c, TLSV_VERSION_TLSv1_3), "server min");
    servers[S_MTLS] = c = server_ctx(ec_leaf);
    ok_or_die(c, tlsv_ctx_load_verify_locations(c, testpki_ca_path(), NULL), "server CA");
    ok_or_die(c, tlsv_ctx_set_verify_mode(c, TLSV_CERT_REQUIRED), "server verify");
    servers[S_TLS10] = c = server_ctx(rsa_leaf);
    ok_or_die(c, tlsv_ctx_set_minimum_version(c, TLSV_VERSION_MINIMUM_SUPPORTED), "server min");
    ok_or_die(c, tlsv_ctx_set_ciphers(c, "AES128-SHA"), "server ciphers 1.0");
}

static void free_contexts(void)
{
    for (int i = 0; i < N_CLIENT; i++) {
        tlsv_ctx_free(clients[i]);
        clients[i] = NULL;
    }
    for (int i = 0; i < N_SERVER; i++) {
        tlsv_ctx_free(servers[i]);
        servers[i] = NULL;
    }
}

/* ---- one connection ------------------------------------------------------ */

struct plan {
    const char *name;
    int client, server;
    const char *client_suites; /* TLS <= 1.2 suites of the client, or NULL */
    int version;               /* expected, when it succeeds */
    const char *cipher;        /* expected, or NULL */
    const char *group;         /* expected, or NULL */
    tlsv_reason client_fails;  /* expected reasons when it fails, else TLSV_R_OK */
    tlsv_reason server_fails;
};

static const struct plan plans[] = {
    {"TLS 1.3", C_DEFAULT, S_EC, NULL, 0x0304, NULL, "x25519", TLSV_R_OK, TLSV_R_OK},
    {"TLS 1.2 ECDHE GCM", C_TLS12, S_EC, "ECDHE-ECDSA-AES128-GCM-SHA256", 0x0303,
     "ECDHE-ECDSA-AES128-GCM-SHA256", NULL, TLSV_R_OK, TLSV_R_OK},
    {"TLS 1.2 ECDHE CBC", C_TLS12, S_RSA, "ECDHE-RSA-AES128-SHA", 0x0303, "ECDHE-RSA-AES128-SHA",
     NULL, TLSV_R_OK, TLSV_R_OK},
    {"TLS 1.3 HelloRetryRequest", C_DEFAULT, S_P256_ONLY, NULL, 0x0304, NULL, "P-256", TLSV_R_OK,
     TLSV_R_OK},
    {"TLS 1.2 RSA key exchange CBC", C_TLS12, S_RSA, "AES128-SHA256", 0x0303, "AES128-SHA256",
     NULL, TLSV_R_OK, TLSV_R_OK},
    {"TLS 1.3 RSA certificate", C_DEFAULT, S_RSA, NULL, 0x0304, NULL, NULL, TLSV_R_OK, TLSV_R_OK},
    {"TLS 1.2 ChaCha20", C_TLS12, S_EC, "ECDHE-ECDSA-CHACHA20-POLY1305", 0x0303,
     "ECDHE-ECDSA-CHACHA20-POLY1305", NULL, TLSV_R_OK, TLSV_R_OK},
    {"failure: protocol_version", C_TLS12, S_TLS13_ONLY, NULL, 0, NULL, NULL,
     TLSV_R_TLSV1_ALERT_PROTOCOL_VERSION, TLSV_R_UNSUPPORTED_PROTOCOL},
    {"TLS 1.0 CBC", C_TLS10, S_TLS10, NULL, 0x0301, "AES128-SHA", NULL, TLSV_R_OK, TLSV_R_OK},
    {"TLS 1.3 client certificate", C_WITH_CERT, S_MTLS, NULL, 0x0304, NULL, NULL, TLSV_R_OK,
     TLSV_R_OK},
    /* (replaces "protocol_version" every other time) */
    {"failure: unknown CA", C_NO_CA, S_EC, NULL, 0, NULL, NULL, TLSV_R_CERTIFICATE_VERIFY_FAILED,
     TLSV_R_TLSV1_ALERT_UNKNOWN_CA},
};
#define N_PLANS 10

static size_t move(tlsv_conn *from, tlsv_conn *to)
{
    uint8_t buf[8192];
    size_t total = 0, n;
    while ((n = tlsv_conn_take_output(from, buf, sizeof buf)) > 0) {
        if (tlsv_conn_feed(to, buf, n) != 0)
            die("tlsv_conn_feed failed");
        total += n;
    }
    return total;
}

static const char *err_text(const tlsv_conn *c)
{
    static char b[TLSV_ERROR_MESSAGE_MAX + 128];
    tlsv_error_format(tlsv_conn_last_error(c), b, sizeof b);
    return b;
}

/* Runs the handshake: 0 done, -1 one side failed (the other has read its
 * alert by then). */
static int handshake(tlsv_conn *c, tlsv_conn *s)
{
    for (int round = 0; round < 50; round++) {
        int rc = tlsv_conn_handshake(c);
        int rs = tlsv_conn_handshake(s);
        size_t moved = move(c, s) + move(s, c);
        if (rc == 0 && rs == 0)
            return 0;
        if (rc == -1 || rs == -1) {
            (void)tlsv_conn_handshake(rc == -1 ? s : c); /* reads the alert */
            return -1;
        }
        if (!moved)
            die("handshake stalled (client %d, server %d)", rc, rs);
    }
    die("handshake did not finish");
}

/* a few bytes one way */
static void send_recv(tlsv_conn *from, tlsv_conn *to, const char *msg)
{
    size_t n = strlen(msg);
    if (tlsv_conn_write(from, msg, n) != (long)n)
        die("write: %s", err_text(from));
    move(from, to);
    char buf[64];
    long r = tlsv_conn_read(to, buf, sizeof buf);
    if (r != (long)n || memcmp(buf, msg, n) != 0)
        die("read %ld bytes, expected \"%s\" (%s)", r, msg, r < 0 ? err_text(to) : "");
}

/* close_notify both ways: the client first */
static void close_both(tlsv_conn *c, tlsv_conn *s)
{
    char buf[16];
    if (tlsv_conn_shutdown(c) != 1)
        die("client shutdown: %s", err_text(c));
    move(c, s);
    if (tlsv_conn_read(s, buf, sizeof buf) != 0)
        die("server did not see close_notify: %s", err_text(s));
    if (tlsv_conn_shutdown(s) != 0)
        die("server shutdown: %s", err_text(s));
    move(s, c);
    if (tlsv_conn_read(c, buf, sizeof buf) != 0)
        die("client did not see close_notify: %s", err_text(c));
}

static long leaked_conns;

static void one(long i, bool inject_leak)
{
    const struct plan *p = &plans[i % N_PLANS];
    if (i % N_PLANS == 7 && (i / N_PLANS) % 2 == 1)
        p = &plans[N_PLANS]; /* the other failure */
    tlsv_error err;
    tlsv_ctx *cc = clients[p->client], *sc = servers[p->server];
    if (p->client_suites && tlsv_ctx_set_ciphers(cc, p->client_suites) != 0)
        die("%s: client ciphers: %s", p->name, tlsv_ctx_last_error(cc)->message);
    tlsv_conn *c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, "localhost", &err);
    if (!c)
        die("%s: client tlsv_conn_new: %s", p->name, err.message);
    tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, &err);
    if (!s)
        die("%s: server tlsv_conn_new: %s", p->name, err.message);
    if (i % 50 == 49) {
        /* this pair outlives its contexts: they are made anew, the old
         * ones live on in the connections' references until these end */
        free_contexts();
        make_contexts();
    }
    int rc = handshake(c, s);
    if (p->client_fails != TLSV_R_OK) {
        if (rc == 0)
            die("%s: the handshake succeeded", p->name);
        tlsv_reason cr = tlsv_conn_last_error(c)->reason, sr = tlsv_conn_last_error(s)->reason;
        if (cr != p->client_fails || sr != p->server_fails)
            die("%s: client failed with %s (expected %s), server with %s (expected %s)",
                p->name, tlsv_reason_name(cr), tlsv_reason_name(p->client_fails),
                tlsv_reason_name(sr), tlsv_reason_name(p->server_fails));
    } else {
        if (rc != 0)
            die("handshake %ld, %s: client: %s; server: %s", i, p->name, err_text(c),
                err_text(s));
        if (tlsv_conn_version_number(c) != p->version || tlsv_conn_version_number(s) != p->version)
            die("%s: version %s", p->name, tlsv_conn_version(c));
        if (p->cipher && strcmp(tlsv_conn_cipher(c), p->cipher) != 0)
            die("%s: cipher %s", p->name, tlsv_conn_cipher(c));
        if (p->group && (!tlsv_conn_group(c) || strcmp(tlsv_conn_group(c), p->group) != 0))
            die("%s: group %s", p->name, tlsv_conn_group(c) ? tlsv_conn_group(c) : "none");
        if (p->server == S_MTLS && tlsv_conn_peer_cert_count(s) != 1)
            die("%s: the server got no client certificate", p->name);
        char msg[32];
        snprintf(msg, sizeof msg, "ping %ld", i);
        send_recv(c, s, msg);
        snprintf(msg, sizeof msg, "pong %ld", i);
        send_recv(s, c, msg);
        close_both(c, s);
    }
    if (inject_leak && i % 10 == 5) {
        leaked_conns++; /* deliberately never freed */
    } else {
        tlsv_conn_free(c);
    }
    tlsv_conn_free(s);
}

int main(int argc, char **argv)
{
    long n = 10000;
    bool inject_leak = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--inject-leak") == 0) {
            inject_leak = true;
        } else {
            char *end;
            n = strtol(argv[i], &end, 10);
            if (*end || n < 10) {
                fprintf(stderr, "usage: leak10k [N >= 10] [--inject-leak]\n");
                return 2;
            }
        }
    }
    long warm = n / 10;
    if (testpki_init() != 0)
        die("cannot make the test PKI");
    testpki_leaf("server-ec", TESTPKI_EC256, "DNS:localhost", ec_leaf, sizeof ec_leaf);
    testpki_leaf("server-rsa", TESTPKI_RSA2048, "DNS:localhost", rsa_leaf, sizeof rsa_leaf);
    testpki_leaf("client", TESTPKI_EC256, "DNS:client.test", client_leaf, sizeof client_leaf);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t at_warm = 0, at_end = 0;
    make_contexts();
    for (long i = 0; i < n; i++) {
        if (i > 0 && i % 1000 == 0) {
            free_contexts();
            make_contexts();
        }
        one(i, inject_leak);
        if (i + 1 == warm)
            at_warm = allocated_bytes();
        if ((i + 1) % 1000 == 0 || i + 1 == n) {
            printf("leak10k: %ld handshakes, %zu bytes allocated\n", i + 1, allocated_bytes());
            fflush(stdout);
        }
    }
    at_end = allocated_bytes();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    free_contexts();
    testpki_cleanup();

    const char *how =
#ifdef LEAK_ASAN
        "__sanitizer_get_current_allocated_bytes";
#else
        "mallinfo2().uordblks";
#endif
    long long growth = (long long)at_end - (long long)at_warm;
    long bound = leak_bound();
    printf("leak10k: %ld handshakes in %.1f s (%.0f/s)%s\n", n, secs, (double)n / secs,
           inject_leak ? ", one client connection in 10 deliberately leaked" : "");
    if (UNDER_VALGRIND()) {
        printf("leak10k: under valgrind: no allocated-bytes figures (valgrind replaces glibc's "
               "allocator); valgrind's leak check decides\n");
        fflush(stdout);
        return 0;
    }
    printf("leak10k: allocated bytes (%s): %zu after handshake %ld, %zu after handshake %ld: "
           "%+lld bytes (bound %ld%s)\n",
           how, at_warm, warm, at_end, n, growth, bound,
           bound == LEAK_BOUND ? "" : ", glibc tcache on: set GLIBC_TUNABLES="
                                      "glibc.malloc.tcache_count=0 for exact figures");
    if (growth > bound) {
        printf("leak10k: steady memory: FAIL: %+lld bytes over %ld handshakes%s\n", growth,
               n - warm, leaked_conns ? " (leak injected)" : "");
        fflush(stdout); /* LeakSanitizer ends the process with _exit() */
        return 1;
    }
    printf("leak10k: steady memory: ok\n");
    fflush(stdout);
    return 0;
}
