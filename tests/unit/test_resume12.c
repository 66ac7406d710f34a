/*
 * test_resume12.c -- TLS 1.2, 1.1, 1.0 (and SSL 3.0 in a build with it)
 * session resumption in memory: session IDs with the server's cache
 * (RFC 5246 §7.3, §7.4.1.2-3), session tickets (RFC 5077), the extended
 * master secret rules (RFC 7627 §5.3), and every reason a session must give
 * a full handshake (unknown, expired, tampered, evicted, another version,
 * suite, ALPN) or abort it (a server echoing a session at another version
 * or suite, or without the extended master secret). Time is a fake clock
 * set on the contexts (ctx->clock_ms, an internal hook). A misbehaving
 * server is a real tlsv server whose plaintext ServerHello is edited on the
 * way to the client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "context.h"
#include "engine/engine.h"
#include "engine/session.h"
#include "testpki.h"
#include "tlsv.h"

static char ec_leaf[512], rsa_leaf[512], client_leaf[512];

static int setup(void **state)
{
    (void)state;
    if (testpki_init() != 0)
        return -1;
    testpki_leaf("server-ec", TESTPKI_EC256, "DNS:localhost,DNS:other.test,IP:127.0.0.1", ec_leaf,
                 sizeof ec_leaf);
    testpki_leaf("server-rsa", TESTPKI_RSA2048, "DNS:localhost", rsa_leaf, sizeof rsa_leaf);
    testpki_leaf("client", TESTPKI_EC256, "DNS:client.test", client_leaf, sizeof client_leaf);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testpki_cleanup();
    return 0;
}

/* ---- fake clocks ----------------------------------------------------------- */

static uint64_t client_now = 1700000000000ull, server_now = 1700000000000ull;

static uint64_t client_clock(void *arg)
{
    (void)arg;
    return client_now;
}

static uint64_t server_clock(void *arg)
{
    (void)arg;
    return server_now;
}

static void advance(uint64_t ms)
{
    client_now += ms;
    server_now += ms;
}

/* ---- plumbing ---------------------------------------------------------------- */

/* Contexts for TLS `v` only (0x0300..0x0303); SSL 3.0 uses the fixed
 * SSLv3 protocol and an RSA certificate. */
static tlsv_ctx *server_ctx_v(int v)
{
    tlsv_ctx *s = tlsv_ctx_new(v == TLSV_VERSION_SSLv3 ? TLSV_PROTOCOL_SSLv3
                                                       : TLSV_PROTOCOL_TLS_SERVER,
                               NULL);
    assert_non_null(s);
    if (v == TLSV_VERSION_SSLv3) {
        assert_int_equal(tlsv_ctx_load_cert_chain(s, rsa_leaf, NULL), 0);
        assert_int_equal(tlsv_ctx_set_ciphers(s, "AES128-SHA"), 0);
    } else {
        assert_int_equal(tlsv_ctx_load_cert_chain(s, ec_leaf, NULL), 0);
        assert_int_equal(tlsv_ctx_set_minimum_version(s, TLSV_VERSION_TLSv1), 0);
        assert_int_equal(tlsv_ctx_set_maximum_version(s, v), 0);
    }
    s->clock_ms = server_clock;
    return s;
}

static tlsv_ctx *client_ctx_v(int v)
{
    tlsv_ctx *c = tlsv_ctx_new(v == TLSV_VERSION_SSLv3 ? TLSV_PROTOCOL_SSLv3
                                                       : TLSV_PROTOCOL_TLS_CLIENT,
                               NULL);
    assert_non_null(c);
    if (v != TLSV_VERSION_SSLv3) {
        assert_int_equal(tlsv_ctx_set_minimum_version(c, TLSV_VERSION_TLSv1), 0);
        assert_int_equal(tlsv_ctx_set_maximum_version(c, v), 0);
    } else {
        assert_int_equal(tlsv_ctx_set_ciphers(c, "AES128-SHA"), 0);
    }
    assert_int_equal(tlsv_ctx_load_verify_locations(c, testpki_ca_path(), NULL), 0);
    tlsv_ctx_set_verify_mode(c, TLSV_CERT_REQUIRED);
    c->clock_ms = client_clock;
    return c;
}

static size_t move(tlsv_conn *from, tlsv_conn *to)
{
    uint8_t buf[4096];
    size_t total = 0, n;
    while ((n = tlsv_conn_take_output(from, buf, sizeof buf)) > 0) {
        assert_int_equal(tlsv_conn_feed(to, buf, n), 0);
        total += n;
    }
    return total;
}

/* 0 both completed, 1 the client failed, 2 the server failed. */
static int run_handshake(tlsv_conn *c, tlsv_conn *s)
{
    for (int round = 0; round < 1000; round++) {
        int rc = tlsv_conn_handshake(c);
        int rs = tlsv_conn_handshake(s);
        size_t moved = move(c, s) + move(s, c);
        if (rc == 0 && rs == 0)
            return 0;
        if (rc == -1 || rs == -1) {
            tlsv_conn_handshake(rc == -1 ? s : c);
            return rc == -1 ? 1 : 2;
        }
        if (!moved && rc != 0 && rs != 0)
            fail_msg("handshake stalled: client %d, server %d", rc, rs);
    }
    fail_msg("handshake did not finish");
    return -1;
}

static void exchange(tlsv_conn *c, tlsv_conn *s)
{
    uint8_t buf[64];
    assert_int_equal(tlsv_conn_write(s, "ping", 4), 4);
    move(s, c);
    assert_int_equal(tlsv_conn_read(c, buf, sizeof buf), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(tlsv_conn_write(c, "pong", 4), 4);
    move(c, s);
    assert_int_equal(tlsv_conn_read(s, buf, sizeof buf), 4);
    assert_memory_equal(buf, "pong", 4);
}

/* One connection offering `offer` (may be NULL); returns run_handshake's
 * result, *got the client's session afterwards (caller frees), *reused
 * the client's session_reused (checked equal on the server). */
static int connect_once(tlsv_ctx *cc, tlsv_ctx *sc, const char *name, tlsv_session *offer,
                        tlsv_session **got, int *reused, int *version)
{
    tlsv_error err;
    tlsv_conn *c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, name, &err);
    tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, &err);
    assert_non_null(c);
    assert_non_null(s);
    if (offer)
        assert_int_equal(tlsv_conn_set_session(c, offer), 0);
    int rc = run_handshake(c, s);
    if (rc == 0) {
        exchange(c, s);
        assert_int_equal(tlsv_conn_session_reused(c), tlsv_conn_session_reused(s));
        assert_int_equal(tlsv_conn_version_number(c), tlsv_conn_version_number(s));
        assert_string_equal(tlsv_conn_cipher(c), tlsv_conn_cipher(s));
    } else {
        char b[400];
        tlsv_error_format(tlsv_conn_last_error(rc == 1 ? c : s), b, sizeof b);
        print_message("handshake failed: %s\n", b);
    }
    if (reused)
        *reused = tlsv_conn_session_reused(c);
    if (version)
        *version = tlsv_conn_version_number(c);
    if (got)
        *got = tlsv_conn_get_session(c);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    return rc;
}

static tlsv_session *first_session(tlsv_ctx *cc, tlsv_ctx *sc)
{
    tlsv_session *sess = NULL;
    int reused = -1;
    assert_int_equal(connect_once(cc, sc, "localhost", NULL, &sess, &reused, NULL), 0);
    assert_int_equal(reused, 0);
    assert_non_null(sess);
    return sess;
}

static int resumes(tlsv_ctx *cc, tlsv_ctx *sc, tlsv_session *sess)
{
    int reused = -1;
    assert_int_equal(connect_once(cc, sc, "localhost", sess, NULL, &reused, NULL), 0);
    return reused;
}

/* ---- resumption at every version --------------------------------------------- */

static void resume_at(int v)
{
    /* by ticket (the default both ways) */
    tlsv_ctx *cc = client_ctx_v(v), *sc = server_ctx_v(v);
    tlsv_session *sess = first_session(cc, sc);
    assert_int_equal(tlsv_session_version(sess), v);
    if (v > TLSV_VERSION_SSLv3) {
        assert_true(sess->ticket_len > 0);
        assert_int_equal(sess->session_id_len, 0); /* a ticket: no cache entry */
        assert_true(sess->ems);
        assert_int_equal(tlsv_session_lifetime_hint(sess), 7200);
        assert_int_equal(tlsv_ctx_session_cache_count(sc), 0);
    } else {
        assert_int_equal(sess->ticket_len, 0); /* no extensions in SSL 3.0 */
        assert_int_equal(sess->session_id_len, 32);
    }
    tlsv_session *next = NULL;
    int reused = -1, version = 0;
    assert_int_equal(connect_once(cc, sc, "localhost", sess, &next, &reused, &version), 0);
    assert_int_equal(reused, 1);
    assert_int_equal(version, v);
    /* no new ticket: the client's session is the one it resumed */
    assert_ptr_equal(next, sess);
    tlsv_session_free(next);
    assert_int_equal(resumes(cc, sc, sess), 1);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
    if (v == TLSV_VERSION_SSLv3)
        return;

    /* by session ID: the client does not offer tickets */
    cc = client_ctx_v(v);
    sc = server_ctx_v(v);
    tlsv_ctx_add_options(cc, TLSV_OP_NO_TICKET);
    sess = first_session(cc, sc);
    assert_int_equal(sess->ticket_len, 0);
    assert_int_equal(sess->session_id_len, 32);
    assert_int_equal(tlsv_ctx_session_cache_count(sc), 1);
    assert_int_equal(connect_once(cc, sc, "localhost", sess, &next, &reused, &version), 0);
    assert_int_equal(reused, 1);
    assert_int_equal(version, v);
    assert_ptr_equal(next, sess);
    tlsv_session_free(next);
    assert_int_equal(tlsv_ctx_session_cache_count(sc), 1);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);

    /* by session ID: the server does not issue tickets */
    cc = client_ctx_v(v);
    tlsv_ctx_add_options(sc, TLSV_OP_NO_TICKET);
    sess = first_session(cc, sc);
    assert_int_equal(sess->ticket_len, 0);
    assert_int_equal(sess->session_id_len, 32);
    assert_int_equal(resumes(cc, sc, sess), 1);
    assert_int_equal(tlsv_ctx_session_cache_count(sc), 2);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_resume_tls12(void **state)
{
    (void)state;
    resume_at(TLSV_VERSION_TLSv1_2);
}

static void test_resume_tls11(void **state)
{
    (void)state;
    resume_at(TLSV_VERSION_TLSv1_1);
}

static void test_resume_tls10(void **state)
{
    (void)state;
    resume_at(TLSV_VERSION_TLSv1);
}

static void test_resume_ssl3(void **state)
{
    (void)state;
    if (!tlsv_has_ssl3())
        skip(); /* a build without SSL 3.0 */
    resume_at(TLSV_VERSION_SSLv3);
    /* an SSL 3.0 session has no extended master secret: a client whose
     * hello carries the extension (it offers TLS too) does not offer it
     * (RFC 7627 §5.3) */
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_SSLv3), *sc = server_ctx_v(TLSV_VERSION_SSLv3);
    tlsv_session *sess = first_session(cc, sc);
    assert_false(sess->ems);
    tlsv_ctx *wide = client_ctx_v(TLSV_VERSION_TLSv1_2);
    assert_int_equal(tlsv_ctx_set_minimum_version(wide, TLSV_VERSION_SSLv3), 0);
    assert_int_equal(tlsv_ctx_set_ciphers(wide, "AES128-SHA"), 0);
    tlsv_conn *c = tlsv_conn_new(wide, TLSV_ROLE_CLIENT, "localhost", NULL);
    tlsv_conn_set_session(c, sess);
    assert_int_equal(tlsv_conn_handshake(c), TLSV_WANT_READ);
    uint8_t ch[2048];
    size_t n = tlsv_conn_take_output(c, ch, sizeof ch);
    assert_true(n > 44);
    /* not the session's ID (a random one for middlebox compatibility, maybe) */
    assert_true(ch[43] == 0 || memcmp(ch + 44, sess->session_id, 32) != 0);
    tlsv_conn_free(c);
    tlsv_ctx_free(wide);
    assert_int_equal(resumes(cc, sc, sess), 1);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

/* A client that also offers TLS 1.3 offers a TLS 1.2 session in the legacy
 * fields: a TLS 1.2 server resumes it, a TLS 1.3 one ignores it. */
static void test_offered_with_tls13(void **state)
{
    (void)state;
    tlsv_ctx *c12 = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    tlsv_session *sess = first_session(c12, sc);
    tlsv_ctx *c13 = client_ctx_v(TLSV_VERSION_TLSv1_3);
    int reused = -1, version = 0;
    assert_int_equal(connect_once(c13, sc, "localhost", sess, NULL, &reused, &version), 0);
    assert_int_equal(reused, 1);
    assert_int_equal(version, TLSV_VERSION_TLSv1_2);
    /* the same with a session ID */
    tlsv_ctx_add_options(sc, TLSV_OP_NO_TICKET);
    tlsv_session *byid = first_session(c12, sc);
    assert_int_equal(connect_once(c13, sc, "localhost", byid, NULL, &reused, &version), 0);
    assert_int_equal(reused, 1);
    /* a TLS 1.3 server: a full TLS 1.3 handshake, no error */
    tlsv_ctx *s13 = server_ctx_v(TLSV_VERSION_TLSv1_3);
    assert_int_equal(connect_once(c13, s13, "localhost", byid, NULL, &reused, &version), 0);
    assert_int_equal(reused, 0);
    assert_int_equal(version, TLSV_VERSION_TLSv1_3);
    assert_int_equal(connect_once(c13, s13, "localhost", sess, NULL, &reused, &version), 0);
    assert_int_equal(reused, 0);
    tlsv_session_free(byid);
    tlsv_session_free(sess);
    tlsv_ctx_free(s13);
    tlsv_ctx_free(c13);
    tlsv_ctx_free(c12);
    tlsv_ctx_free(sc);
}

/* ---- the cache --------------------------------------------------------------- */

static void test_cache_eviction(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    tlsv_ctx_add_options(cc, TLSV_OP_NO_TICKET);
    assert_int_equal(tlsv_ctx_get_session_cache_size(sc), 20480);
    assert_int_equal(tlsv_ctx_get_session_timeout(sc), 7200);
    assert_int_equal(tlsv_ctx_set_session_cache_size(sc, 2), 0);
    assert_int_equal(tlsv_ctx_get_session_cache_size(sc), 2);
    tlsv_session *a = first_session(cc, sc);
    advance(1000);
    tlsv_session *b = first_session(cc, sc);
    advance(1000);
    tlsv_session *c = first_session(cc, sc);
    assert_int_equal(tlsv_ctx_session_cache_count(sc), 2); /* a went first */
    assert_int_equal(resumes(cc, sc, c), 1);
    assert_int_equal(resumes(cc, sc, b), 1);
    assert_int_equal(resumes(cc, sc, a), 0); /* a new entry, in place of b */
    assert_int_equal(tlsv_ctx_session_cache_count(sc), 2);
    assert_int_equal(resumes(cc, sc, b), 0);
    assert_int_equal(resumes(cc, sc, c), 0); /* ... which pushed c out */
    /* shrinking drops the oldest at once; 0 disables the cache */
    assert_int_equal(tlsv_ctx_set_session_cache_size(sc, 1), 0);
    assert_int_equal(tlsv_ctx_session_cache_count(sc), 1);
    assert_int_equal(tlsv_ctx_set_session_cache_size(sc, 0), 0);
    assert_int_equal(tlsv_ctx_session_cache_count(sc), 0);
    tlsv_session *none = (tlsv_session *)1;
    assert_int_equal(connect_once(cc, sc, "localhost", NULL, &none, NULL, NULL), 0);
    assert_null(none); /* no session ID, no ticket: nothing to resume */
    assert_int_equal(tlsv_ctx_set_session_cache_size(sc, (1u << 20) + 1), -1);
    assert_int_equal(tlsv_ctx_last_error(sc)->reason, TLSV_R_INVALID_ARGUMENT);
    tlsv_session_free(a);
    tlsv_session_free(b);
    tlsv_session_free(c);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_cache_timeout(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    tlsv_ctx_add_options(cc, TLSV_OP_NO_TICKET);
    assert_int_equal(tlsv_ctx_set_session_timeout(sc, 0), -1);
    assert_int_equal(tlsv_ctx_set_session_timeout(sc, 86401), -1);
    assert_int_equal(tlsv_ctx_set_session_timeout(sc, 60), 0);
    assert_int_equal(tlsv_ctx_get_session_timeout(sc), 60);
    tlsv_session *sess = first_session(cc, sc);
    advance(59000);
    assert_int_equal(resumes(cc, sc, sess), 1);
    advance(1000);
    assert_int_equal(tlsv_ctx_session_cache_count(sc), 0); /* expired, dropped */
    assert_int_equal(resumes(cc, sc, sess), 0);
    tlsv_session_free(sess);

    /* the client stops offering a session after its own bound (7200 s) */
    sess = first_session(cc, sc);
    assert_int_equal(tlsv_session_lifetime_hint(sess), 7200);
    assert_int_equal(tlsv_ctx_set_session_timeout(sc, 86400), 0);
    advance(7200000);
    assert_int_equal(resumes(cc, sc, sess), 0);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

/* Connections of many threads share one server context and its cache. */
typedef struct worker {
    tlsv_ctx *cc, *sc;
    tlsv_session *sess;
    int resumed;
} worker;

#include <pthread.h>

static void *work(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 20; i++) {
        tlsv_conn *c = tlsv_conn_new(w->cc, TLSV_ROLE_CLIENT, "localhost", NULL);
        tlsv_conn *s = tlsv_conn_new(w->sc, TLSV_ROLE_SERVER, NULL, NULL);
        if (w->sess)
            tlsv_conn_set_session(c, w->sess);
        if (run_handshake(c, s) == 0) {
            w->resumed += tlsv_conn_session_reused(c);
            tlsv_session_free(w->sess);
            w->sess = tlsv_conn_get_session(c);
        }
        tlsv_conn_free(c);
        tlsv_conn_free(s);
    }
    return NULL;
}

static void test_cache_threads(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    tlsv_ctx_add_options(cc, TLSV_OP_NO_TICKET);
    assert_int_equal(tlsv_ctx_set_session_cache_size(sc, 3), 0);
    worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){.cc = cc, .sc = sc};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    int resumed = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        resumed += w[i].resumed;
        tlsv_session_free(w[i].sess);
    }
    assert_true(resumed > 0);
    assert_true(tlsv_ctx_session_cache_count(sc) <= 3);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

/* ---- tickets ----------------------------------------------------------------- */

static void test_ticket_rotation(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    tlsv_session *s1 = first_session(cc, sc);
    /* one rotation: still accepted, and replaced by a ticket under the new key */
    assert_int_equal(tlsv_ctx_rotate_ticket_keys(sc), 0);
    tlsv_session *s2 = NULL;
    int reused = -1;
    assert_int_equal(connect_once(cc, sc, "localhost", s1, &s2, &reused, NULL), 0);
    assert_int_equal(reused, 1);
    assert_non_null(s2);
    assert_ptr_not_equal(s2, s1);
    assert_true(s2->ticket_len > 0);
    assert_false(s2->ticket_len == s1->ticket_len &&
                 memcmp(s2->ticket, s1->ticket, s1->ticket_len) == 0);
    assert_memory_equal(s2->psk, s1->psk, 48); /* the same session */
    /* two: s1's key is retired; s2's is the previous one */
    assert_int_equal(tlsv_ctx_rotate_ticket_keys(sc), 0);
    assert_int_equal(resumes(cc, sc, s1), 0);
    assert_int_equal(resumes(cc, sc, s2), 1);
    tlsv_session_free(s1);
    tlsv_session_free(s2);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static tlsv_session *copy_of(const tlsv_session *sess)
{
    uint8_t buf[4096];
    size_t n = tlsv_session_to_bytes(sess, buf, sizeof buf);
    assert_true(n > 0 && n <= sizeof buf);
    tlsv_error err;
    tlsv_session *copy = tlsv_session_from_bytes(buf, n, &err);
    assert_non_null(copy);
    return copy;
}

static void test_tampered_expired(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    tlsv_session *sess = first_session(cc, sc);
    size_t offs[] = {0, 20, 40, sess->ticket_len - 1};
    for (size_t i = 0; i < 4; i++) {
        tlsv_session *bad = copy_of(sess);
        bad->ticket[offs[i]] ^= 0x01;
        assert_int_equal(resumes(cc, sc, bad), 0);
        tlsv_session_free(bad);
    }
    /* a session ID nobody knows */
    tlsv_ctx_add_options(cc, TLSV_OP_NO_TICKET);
    tlsv_session *byid = first_session(cc, sc);
    tlsv_session *bad = copy_of(byid);
    bad->session_id[5] ^= 0x40;
    assert_int_equal(resumes(cc, sc, bad), 0);
    tlsv_session_free(bad);
    assert_int_equal(resumes(cc, sc, byid), 1);
    tlsv_session_free(byid);
    tlsv_ctx_clear_options(cc, TLSV_OP_NO_TICKET);
    /* the intact ticket resumes; expired it does not */
    assert_int_equal(resumes(cc, sc, sess), 1);
    assert_int_equal(tlsv_ctx_set_ticket_lifetime(sc, 100), 0);
    tlsv_session *short_lived = first_session(cc, sc);
    assert_int_equal(tlsv_session_lifetime_hint(short_lived), 100);
    advance(99000);
    assert_int_equal(resumes(cc, sc, short_lived), 1);
    /* expired for the server only (the client's copy claims longer) */
    tlsv_session *longer = copy_of(short_lived);
    longer->lifetime = 7200;
    advance(2000);
    assert_int_equal(resumes(cc, sc, longer), 0);
    tlsv_session_free(longer);
    tlsv_session_free(short_lived);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

/* A TLS 1.3 ticket in a TLS 1.2 session_ticket extension does not open as
 * a TLS 1.2 session (and the reverse: the TLS 1.3 server ignores TLS 1.2
 * tickets, see test_offered_with_tls13). */
static void test_tls13_ticket_not_12(void **state)
{
    (void)state;
    tlsv_ctx *c13 = client_ctx_v(TLSV_VERSION_TLSv1_3), *sc = server_ctx_v(TLSV_VERSION_TLSv1_3);
    tlsv_session *s13 = NULL;
    tlsv_conn *c = tlsv_conn_new(c13, TLSV_ROLE_CLIENT, "localhost", NULL);
    tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, NULL);
    assert_int_equal(run_handshake(c, s), 0);
    exchange(c, s); /* the tickets arrive */
    s13 = tlsv_conn_get_session(c);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    assert_non_null(s13);
    assert_int_equal(s13->version, TLSV_VERSION_TLSv1_3);
    /* the same server context, now at TLS 1.2, and a TLS 1.2 session whose
     * ticket is the TLS 1.3 one */
    tlsv_ctx *c12 = client_ctx_v(TLSV_VERSION_TLSv1_2);
    assert_int_equal(tlsv_ctx_set_maximum_version(sc, TLSV_VERSION_TLSv1_2), 0);
    tlsv_session *s12 = first_session(c12, sc);
    tlsv_session *forged = copy_of(s12);
    free(forged->ticket);
    forged->ticket = malloc(s13->ticket_len);
    memcpy(forged->ticket, s13->ticket, s13->ticket_len);
    forged->ticket_len = s13->ticket_len;
    assert_int_equal(resumes(c12, sc, forged), 0);
    assert_int_equal(resumes(c12, sc, s12), 1);
    tlsv_session_free(forged);
    /* the reverse: a TLS 1.3 session whose ticket is the TLS 1.2 one gives
     * a full TLS 1.3 handshake (were the ticket taken, the binder, made
     * with another key, would fail the handshake) */
    assert_int_equal(tlsv_ctx_set_maximum_version(sc, TLSV_VERSION_TLSv1_3), 0);
    forged = copy_of(s13);
    free(forged->ticket);
    forged->ticket = malloc(s12->ticket_len);
    memcpy(forged->ticket, s12->ticket, s12->ticket_len);
    forged->ticket_len = s12->ticket_len;
    int reused = -1, version = 0;
    assert_int_equal(connect_once(c13, sc, "localhost", forged, NULL, &reused, &version), 0);
    assert_int_equal(reused, 0);
    assert_int_equal(version, TLSV_VERSION_TLSv1_3);
    assert_int_equal(connect_once(c13, sc, "localhost", s13, NULL, &reused, &version), 0);
    assert_int_equal(reused, 1);
    tlsv_session_free(forged);
    tlsv_session_free(s12);
    tlsv_session_free(s13);
    tlsv_ctx_free(c12);
    tlsv_ctx_free(c13);
    tlsv_ctx_free(sc);
}

static int trace_has_ticket_ext; /* a ClientHello line mentioning session_ticket */

static void test_no_ticket_option(void **state)
{
    (void)state;
    /* server OP_NO_TICKET: no NewSessionTicket, a session ID instead */
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    tlsv_ctx_add_options(sc, TLSV_OP_NO_TICKET);
    tlsv_session *sess = first_session(cc, sc);
    assert_int_equal(sess->ticket_len, 0);
    assert_int_equal(sess->session_id_len, 32);
    /* a ticket offered to it is ignored: the session ID of that session is
     * random and unknown, so a full handshake */
    tlsv_ctx *sc2 = server_ctx_v(TLSV_VERSION_TLSv1_2);
    tlsv_session *ticketed = first_session(cc, sc2);
    assert_true(ticketed->ticket_len > 0);
    tlsv_ctx_add_options(sc2, TLSV_OP_NO_TICKET);
    assert_int_equal(resumes(cc, sc2, ticketed), 0);
    tlsv_session_free(ticketed);
    tlsv_ctx_free(sc2);

    /* client OP_NO_TICKET: no session_ticket extension in its ClientHello */
    tlsv_ctx_add_options(cc, TLSV_OP_NO_TICKET);
    tlsv_conn *c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, "localhost", NULL);
    assert_int_equal(tlsv_conn_handshake(c), TLSV_WANT_READ);
    uint8_t ch[2048];
    size_t n = tlsv_conn_take_output(c, ch, sizeof ch);
    assert_true(n > 60);
    static const uint8_t ext[] = {0x00, 0x23};
    bool found = false;
    /* walk the extensions: record 5, header 4, version 2, random 32 */
    size_t off = 5 + 4 + 2 + 32;
    off += 1 + ch[off];
    off += 2 + ((size_t)ch[off] << 8 | ch[off + 1]);
    off += 1 + ch[off];
    size_t end = off + 2 + ((size_t)ch[off] << 8 | ch[off + 1]);
    for (off += 2; off + 4 <= end; off += 4 + ((size_t)ch[off + 2] << 8 | ch[off + 3]))
        found = found || memcmp(ch + off, ext, 2) == 0;
    assert_int_equal(end, n);
    assert_false(found);
    tlsv_conn_free(c);
    (void)trace_has_ticket_ext;
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

/* ---- what may not be resumed ------------------------------------------------- */

static void test_cross_version(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    tlsv_session *sess = first_session(cc, sc);
    tlsv_ctx_add_options(cc, TLSV_OP_NO_TICKET);
    tlsv_session *byid = first_session(cc, sc);
    tlsv_ctx_clear_options(cc, TLSV_OP_NO_TICKET);
    /* the server now stops at TLS 1.1: a full TLS 1.1 handshake */
    assert_int_equal(tlsv_ctx_set_maximum_version(sc, TLSV_VERSION_TLSv1_1), 0);
    int reused = -1, version = 0;
    assert_int_equal(connect_once(cc, sc, "localhost", sess, NULL, &reused, &version), 0);
    assert_int_equal(reused, 0);
    assert_int_equal(version, TLSV_VERSION_TLSv1_1);
    assert_int_equal(connect_once(cc, sc, "localhost", byid, NULL, &reused, &version), 0);
    assert_int_equal(reused, 0);
    /* a client that stops at TLS 1.1 does not offer a TLS 1.2 session */
    tlsv_ctx *c11 = client_ctx_v(TLSV_VERSION_TLSv1_1);
    assert_int_equal(tlsv_ctx_set_maximum_version(sc, TLSV_VERSION_TLSv1_2), 0);
    assert_int_equal(connect_once(c11, sc, "localhost", sess, NULL, &reused, &version), 0);
    assert_int_equal(reused, 0);
    assert_int_equal(version, TLSV_VERSION_TLSv1_1);
    /* and a TLS 1.1 session is not resumed at TLS 1.2 */
    tlsv_session *s11 = first_session(c11, sc);
    assert_int_equal(tlsv_session_version(s11), TLSV_VERSION_TLSv1_1);
    assert_int_equal(connect_once(cc, sc, "localhost", s11, NULL, &reused, &version), 0);
    assert_int_equal(reused, 0);
    assert_int_equal(version, TLSV_VERSION_TLSv1_2);
    tlsv_session_free(s11);
    tlsv_session_free(sess);
    tlsv_session_free(byid);
    tlsv_ctx_free(c11);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_cross_suite(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    tlsv_session *sess = first_session(cc, sc);
    assert_string_equal(tlsv_session_cipher(sess), "ECDHE-ECDSA-AES128-GCM-SHA256");
    /* the server no longer enables the suite */
    assert_int_equal(tlsv_ctx_set_ciphers(sc, "ECDHE-ECDSA-AES256-GCM-SHA384"), 0);
    assert_int_equal(resumes(cc, sc, sess), 0);
    assert_int_equal(tlsv_ctx_set_ciphers(sc, "DEFAULT"), 0);
    assert_int_equal(resumes(cc, sc, sess), 1);
    /* the client no longer offers it: not offered at all */
    assert_int_equal(tlsv_ctx_set_ciphers(cc, "ECDHE-ECDSA-CHACHA20-POLY1305"), 0);
    assert_int_equal(resumes(cc, sc, sess), 0);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_name_and_alpn(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    static const char *const both[] = {"h2", "http/1.1"}, *const h2[] = {"h2"},
                             *const h1[] = {"http/1.1"};
    assert_int_equal(tlsv_ctx_set_alpn_protocols(cc, both, 2), 0);
    assert_int_equal(tlsv_ctx_set_alpn_protocols(sc, h2, 1), 0);
    tlsv_session *sess = first_session(cc, sc);
    assert_string_equal(sess->alpn, "h2");
    assert_int_equal(resumes(cc, sc, sess), 1);
    /* another server name: the client does not offer it */
    int reused = -1;
    assert_int_equal(connect_once(cc, sc, "other.test", sess, NULL, &reused, NULL), 0);
    assert_int_equal(reused, 0);
    /* the server now selects another protocol: full handshake */
    assert_int_equal(tlsv_ctx_set_alpn_protocols(sc, h1, 1), 0);
    assert_int_equal(resumes(cc, sc, sess), 0);
    /* the same with a session ID */
    tlsv_ctx_add_options(cc, TLSV_OP_NO_TICKET);
    tlsv_session *byid = first_session(cc, sc);
    assert_int_equal(resumes(cc, sc, byid), 1);
    assert_int_equal(tlsv_ctx_set_alpn_protocols(sc, h2, 1), 0);
    assert_int_equal(resumes(cc, sc, byid), 0);
    tlsv_session_free(byid);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_client_auth(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    assert_int_equal(tlsv_ctx_load_cert_chain(cc, client_leaf, NULL), 0);
    assert_int_equal(tlsv_ctx_load_verify_locations(sc, testpki_ca_path(), NULL), 0);
    tlsv_ctx_set_verify_mode(sc, TLSV_CERT_REQUIRED);
    tlsv_ctx_add_options(cc, TLSV_OP_NO_TICKET);
    tlsv_session *byid = first_session(cc, sc);
    tlsv_ctx_clear_options(cc, TLSV_OP_NO_TICKET);
    tlsv_session *ticket = first_session(cc, sc);
    /* resumed: the server keeps the client's chain from its cache; a
     * ticket holds none */
    for (int i = 0; i < 2; i++) {
        tlsv_conn *c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, "localhost", NULL);
        tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, NULL);
        tlsv_conn_set_session(c, i ? ticket : byid);
        assert_int_equal(run_handshake(c, s), 0);
        assert_int_equal(tlsv_conn_session_reused(s), 1);
        assert_int_equal(tlsv_conn_peer_cert_count(s), i ? 0 : 1);
        assert_int_equal(tlsv_conn_peer_cert_count(c), 1);
        tlsv_conn_free(c);
        tlsv_conn_free(s);
    }
    tlsv_session_free(byid);
    tlsv_session_free(ticket);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

/* ---- bytes ------------------------------------------------------------------- */

static void test_bytes(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    static const char *const h2[] = {"h2"};
    assert_int_equal(tlsv_ctx_set_alpn_protocols(cc, h2, 1), 0);
    assert_int_equal(tlsv_ctx_set_alpn_protocols(sc, h2, 1), 0);
    tlsv_ctx_add_options(sc, TLSV_OP_NO_TICKET);
    tlsv_session *byid = first_session(cc, sc);
    tlsv_ctx_clear_options(sc, TLSV_OP_NO_TICKET);
    tlsv_session *ticket = first_session(cc, sc);
    tlsv_session *list[2] = {byid, ticket};
    for (int i = 0; i < 2; i++) {
        tlsv_session *s = list[i];
        uint8_t buf[4096];
        size_t n = tlsv_session_to_bytes(s, buf, sizeof buf);
        assert_true(n > 0 && n <= sizeof buf);
        assert_int_equal(tlsv_session_to_bytes(s, NULL, 0), n);
        assert_memory_equal(buf, "tlsv\x02", 5); /* format 2 */
        tlsv_error err;
        tlsv_session *copy = tlsv_session_from_bytes(buf, n, &err);
        assert_non_null(copy);
        assert_int_equal(copy->version, s->version);
        assert_int_equal(copy->suite, s->suite);
        assert_memory_equal(copy->psk, s->psk, 48);
        assert_int_equal(copy->session_id_len, s->session_id_len);
        assert_memory_equal(copy->session_id, s->session_id, s->session_id_len);
        assert_int_equal(copy->ticket_len, s->ticket_len);
        if (s->ticket_len)
            assert_memory_equal(copy->ticket, s->ticket, s->ticket_len);
        assert_int_equal(copy->ems, s->ems);
        assert_int_equal(copy->verified, s->verified);
        assert_int_equal(copy->lifetime, s->lifetime);
        assert_int_equal(copy->time_ms, s->time_ms);
        assert_string_equal(copy->server_name, "localhost");
        assert_string_equal(copy->alpn, "h2");
        assert_int_equal(tlsv_session_version(copy), TLSV_VERSION_TLSv1_2);
        assert_string_equal(tlsv_session_cipher(copy), tlsv_session_cipher(s));
        /* bytes of the copy are the same bytes */
        uint8_t again[4096];
        assert_int_equal(tlsv_session_to_bytes(copy, again, sizeof again), n);
        assert_memory_equal(again, buf, n);
        /* the copy resumes (no certificates with it) */
        assert_int_equal(resumes(cc, sc, copy), 1);
        tlsv_session_free(copy);
        /* every truncation fails, and so does a trailing byte */
        for (size_t k = 0; k < n; k++)
            assert_null(tlsv_session_from_bytes(buf, k, &err));
        assert_int_equal(err.reason, TLSV_R_DECODE_ERROR);
        buf[n] = 0;
        assert_null(tlsv_session_from_bytes(buf, n + 1, &err));
        /* no extended master secret (flags bit 1 cleared): refused */
        uint8_t flags_off = 4 + 1 + 2 + 2 + 8 + 4;
        buf[flags_off] &= (uint8_t)~2u;
        assert_null(tlsv_session_from_bytes(buf, n, &err));
        buf[flags_off] |= 2u;
        /* a suite not for this version */
        buf[7] = 0x13;
        buf[8] = 0x01;
        assert_null(tlsv_session_from_bytes(buf, n, &err));
    }
    tlsv_session_free(byid);
    tlsv_session_free(ticket);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

/* ---- extended master secret (RFC 7627 §5.3) ---------------------------------- */

/* Removes the empty extension `type` from the hello that starts the first
 * record of p[0..*n) (a ClientHello when `client`), fixing the lengths. */
static void remove_ext(uint8_t *p, size_t *n, uint16_t type, bool client)
{
    size_t off = 5 + 4 + 2 + 32;
    off += 1 + p[off];                                      /* session_id */
    if (client) {
        off += 2 + ((size_t)p[off] << 8 | p[off + 1]);      /* suites */
        off += 1 + p[off];                                  /* compression */
    } else {
        off += 3;                                           /* suite, compression */
    }
    size_t ext_len_at = off;
    size_t end = off + 2 + ((size_t)p[off] << 8 | p[off + 1]);
    for (off += 2; off + 4 <= end; off += 4 + ((size_t)p[off + 2] << 8 | p[off + 3])) {
        if (((size_t)p[off] << 8 | p[off + 1]) == type) {
            assert_int_equal(p[off + 2] | p[off + 3], 0);
            memmove(p + off, p + off + 4, *n - off - 4);
            *n -= 4;
            size_t el = ((size_t)p[ext_len_at] << 8 | p[ext_len_at + 1]) - 4;
            p[ext_len_at] = (uint8_t)(el >> 8);
            p[ext_len_at + 1] = (uint8_t)el;
            size_t hl = ((size_t)p[6] << 16 | (size_t)p[7] << 8 | p[8]) - 4;
            p[6] = (uint8_t)(hl >> 16);
            p[7] = (uint8_t)(hl >> 8);
            p[8] = (uint8_t)hl;
            size_t rl = ((size_t)p[3] << 8 | p[4]) - 4;
            p[3] = (uint8_t)(rl >> 8);
            p[4] = (uint8_t)rl;
            return;
        }
    }
    fail_msg("extension %u not found", type);
}

static void test_ems(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    tlsv_ctx_add_options(cc, TLSV_OP_NO_TICKET);
    tlsv_session *sess = first_session(cc, sc);
    assert_true(sess->ems);

    /* the client does not offer a session made without it */
    tlsv_session *noems = copy_of(sess);
    noems->ems = false;
    assert_int_equal(resumes(cc, sc, noems), 0);
    tlsv_session_free(noems);

    uint8_t buf[8192];
    size_t n;
    /* a ClientHello offering the session without the extension: the server
     * does not resume (a new session ID, not the echo) */
    tlsv_conn *c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, "localhost", NULL);
    tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, NULL);
    tlsv_conn_set_session(c, sess);
    assert_int_equal(tlsv_conn_handshake(c), TLSV_WANT_READ);
    n = tlsv_conn_take_output(c, buf, sizeof buf);
    assert_int_equal(buf[43], 32);
    assert_memory_equal(buf + 44, sess->session_id, 32);
    remove_ext(buf, &n, 23, true);
    assert_int_equal(tlsv_conn_feed(s, buf, n), 0);
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    n = tlsv_conn_take_output(s, buf, sizeof buf);
    /* no echo: and as this handshake has no extended master secret, no
     * session ID either (nothing of it is kept) */
    assert_int_equal(buf[43], 0);
    assert_int_equal(tlsv_conn_session_reused(s), 0);
    tlsv_conn_free(c);
    tlsv_conn_free(s);

    /* a resuming ServerHello without the extension: handshake_failure */
    c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, "localhost", NULL);
    s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, NULL);
    tlsv_conn_set_session(c, sess);
    assert_int_equal(tlsv_conn_handshake(c), TLSV_WANT_READ);
    move(c, s);
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    assert_int_equal(tlsv_conn_session_reused(s), 1);
    n = tlsv_conn_take_output(s, buf, sizeof buf);
    assert_memory_equal(buf + 44, sess->session_id, 32);
    remove_ext(buf, &n, 23, false);
    assert_int_equal(tlsv_conn_feed(c, buf, n), 0);
    assert_int_equal(tlsv_conn_handshake(c), -1);
    const tlsv_error *ce = tlsv_conn_last_error(c);
    assert_int_equal(ce->reason, TLSV_R_INCONSISTENT_EXTMS);
    assert_int_equal(ce->alert, TLSV_ALERT_HANDSHAKE_FAILURE);
    assert_non_null(strstr(ce->message, "extended master secret"));
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

/* A server that echoes the offered session ID but negotiates a full
 * handshake at another version or with another suite: the client refuses
 * with illegal_parameter, OLD_SESSION_VERSION_NOT_RETURNED or
 * OLD_SESSION_CIPHER_NOT_RETURNED (`reason`). */
static void forged_echo(tlsv_ctx *cc, tlsv_ctx *sc, tlsv_session *sess, tlsv_reason reason)
{
    uint8_t buf[8192];
    tlsv_conn *c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, "localhost", NULL);
    tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, NULL);
    tlsv_conn_set_session(c, sess);
    assert_int_equal(tlsv_conn_handshake(c), TLSV_WANT_READ);
    move(c, s);
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    assert_int_equal(tlsv_conn_session_reused(s), 0);
    size_t n = tlsv_conn_take_output(s, buf, sizeof buf);
    assert_int_equal(buf[43], 32); /* the server's own new session ID ... */
    memcpy(buf + 44, sess->session_id, 32); /* ... made to look like the echo */
    assert_int_equal(tlsv_conn_feed(c, buf, n), 0);
    assert_int_equal(tlsv_conn_handshake(c), -1);
    const tlsv_error *ce = tlsv_conn_last_error(c);
    assert_int_equal(ce->reason, reason);
    assert_int_equal(ce->alert, TLSV_ALERT_ILLEGAL_PARAMETER);
    assert_non_null(strstr(ce->message, "resumes a session"));
    assert_int_equal(tlsv_conn_session_reused(c), 0);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
}

static void test_forged_echo(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    tlsv_ctx_add_options(cc, TLSV_OP_NO_TICKET);
    tlsv_session *sess = first_session(cc, sc);
    /* another version */
    assert_int_equal(tlsv_ctx_set_maximum_version(sc, TLSV_VERSION_TLSv1_1), 0);
    forged_echo(cc, sc, sess, TLSV_R_OLD_SESSION_VERSION_NOT_RETURNED);
    /* another suite */
    assert_int_equal(tlsv_ctx_set_maximum_version(sc, TLSV_VERSION_TLSv1_2), 0);
    assert_int_equal(tlsv_ctx_set_ciphers(sc, "ECDHE-ECDSA-AES256-GCM-SHA384"), 0);
    forged_echo(cc, sc, sess, TLSV_R_OLD_SESSION_CIPHER_NOT_RETURNED);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

/* The NewSessionTicket comes exactly when the ServerHello announced it: an
 * unannounced one, or an announced one missing, is unexpected_message. */
static void test_ticket_message_order(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    uint8_t buf[8192];
    for (int missing = 0; missing < 2; missing++) {
        tlsv_conn *c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, "localhost", NULL);
        tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, NULL);
        assert_int_equal(tlsv_conn_handshake(c), TLSV_WANT_READ);
        move(c, s);
        assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
        size_t n = tlsv_conn_take_output(s, buf, sizeof buf);
        if (!missing)
            remove_ext(buf, &n, 35, false); /* the announcement goes */
        assert_int_equal(tlsv_conn_feed(c, buf, n), 0);
        assert_int_equal(tlsv_conn_handshake(c), TLSV_WANT_READ);
        move(c, s);
        assert_int_equal(tlsv_conn_handshake(s), missing ? 0 : -1);
        n = tlsv_conn_take_output(s, buf, sizeof buf);
        if (missing) {
            /* the server's flight: NewSessionTicket, CCS, Finished records;
             * the first goes */
            assert_int_equal(buf[0], 22);
            assert_int_equal(buf[5], 4); /* new_session_ticket */
            size_t first = 5 + ((size_t)buf[3] << 8 | buf[4]);
            memmove(buf, buf + first, n - first);
            n -= first;
            assert_int_equal(tlsv_conn_feed(c, buf, n), 0);
            assert_int_equal(tlsv_conn_handshake(c), -1);
            const tlsv_error *ce = tlsv_conn_last_error(c);
            assert_int_equal(ce->alert, TLSV_ALERT_UNEXPECTED_MESSAGE);
        } else {
            /* the server saw a Finished over another transcript; what the
             * client makes of the unannounced ticket is checked by hand:
             * a NewSessionTicket record before the server's CCS */
            static const uint8_t nst[] = {22, 3, 3, 0, 10, 4, 0, 0, 6, 0, 0, 0, 0, 0, 0};
            tlsv_conn_free(s);
            assert_int_equal(tlsv_conn_feed(c, nst, sizeof nst), 0);
            assert_int_equal(tlsv_conn_handshake(c), -1);
            const tlsv_error *ce = tlsv_conn_last_error(c);
            assert_int_equal(ce->reason, TLSV_R_UNEXPECTED_MESSAGE);
            assert_non_null(strstr(ce->message, "unexpected new_session_ticket"));
            s = NULL;
        }
        tlsv_conn_free(c);
        tlsv_conn_free(s);
    }
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

/* ---- the legacy session ID (RFC 8446 App. D.4, RFC 5077 §3.4) --------------- */

/* The session ID length in the ClientHello at the start of p. */
static size_t ch_session_id_len(const uint8_t *p)
{
    assert_int_equal(p[0], 22);
    assert_int_equal(p[5], 1);
    return p[5 + 4 + 2 + 32];
}

/* A client sends a session ID of its own only when it offers TLS 1.3
 * (middlebox compatibility, RFC 8446 App. D.4) or a TLS <= 1.2 session
 * (its ID, or a random one beside its ticket, RFC 5077 §3.4). */
static void test_session_id_rules(void **state)
{
    (void)state;
    uint8_t buf[8192];
    tlsv_ctx *c12 = client_ctx_v(TLSV_VERSION_TLSv1_2), *c13 = client_ctx_v(TLSV_VERSION_TLSv1_3);
    assert_true(tlsv_ctx_get_options(c12) & TLSV_OP_ENABLE_MIDDLEBOX_COMPAT);
    tlsv_ctx *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    tlsv_session *sess = first_session(c12, sc);
    struct {
        tlsv_ctx *cc;
        tlsv_session *offer;
        size_t id_len;
    } cases[] = {{c12, NULL, 0}, {c13, NULL, 32}, {c12, sess, 32}, {c13, sess, 32}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tlsv_conn *c = tlsv_conn_new(cases[i].cc, TLSV_ROLE_CLIENT, "localhost", NULL);
        if (cases[i].offer)
            assert_int_equal(tlsv_conn_set_session(c, cases[i].offer), 0);
        assert_int_equal(tlsv_conn_handshake(c), TLSV_WANT_READ);
        size_t n = tlsv_conn_take_output(c, buf, sizeof buf);
        assert_true(n > 44);
        assert_int_equal(ch_session_id_len(buf), cases[i].id_len);
        tlsv_conn_free(c);
    }
    tlsv_session_free(sess);
    tlsv_ctx_free(sc);
    tlsv_ctx_free(c12);
    tlsv_ctx_free(c13);
}

/* A TLS 1.2 ServerHello echoing a session ID the client offered no TLS
 * <= 1.2 session under claims a resumption of nothing (RFC 5246
 * §7.4.1.3): the middlebox-compatibility ID of a client without a session
 * (SERVER_ECHOED_INVALID_SESSION_ID), or of one offering a TLS 1.3 session
 * (OLD_SESSION_VERSION_NOT_RETURNED); illegal_parameter. */
static void echo_of_unoffered(tlsv_ctx *cc, tlsv_ctx *sc, tlsv_session *offer,
                              tlsv_reason reason)
{
    uint8_t buf[8192], id[32];
    tlsv_conn *c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, "localhost", NULL);
    tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, NULL);
    if (offer)
        assert_int_equal(tlsv_conn_set_session(c, offer), 0);
    assert_int_equal(tlsv_conn_handshake(c), TLSV_WANT_READ);
    size_t n = tlsv_conn_take_output(c, buf, sizeof buf);
    assert_int_equal(ch_session_id_len(buf), 32);
    memcpy(id, buf + 44, 32);
    assert_int_equal(tlsv_conn_feed(s, buf, n), 0);
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    assert_int_equal(tlsv_conn_session_reused(s), 0);
    n = tlsv_conn_take_output(s, buf, sizeof buf);
    assert_int_equal(buf[5], 2);
    assert_int_equal(buf[43], 32); /* the server's new session ID ... */
    memcpy(buf + 44, id, 32);      /* ... made the echo of ours */
    assert_int_equal(tlsv_conn_feed(c, buf, n), 0);
    assert_int_equal(tlsv_conn_handshake(c), -1);
    const tlsv_error *ce = tlsv_conn_last_error(c);
    assert_int_equal(ce->reason, reason);
    assert_int_equal(ce->alert, TLSV_ALERT_ILLEGAL_PARAMETER);
    assert_int_equal(ce->side, TLSV_SIDE_LOCAL);
    assert_int_equal(tlsv_conn_session_reused(c), 0);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
}

static void test_echo_of_unoffered_id(void **state)
{
    (void)state;
    tlsv_ctx *c13 = client_ctx_v(TLSV_VERSION_TLSv1_3), *s13 = server_ctx_v(TLSV_VERSION_TLSv1_3);
    tlsv_ctx *s12 = server_ctx_v(TLSV_VERSION_TLSv1_2);
    tlsv_ctx_add_options(s12, TLSV_OP_NO_TICKET); /* the server sends a session ID */
    echo_of_unoffered(c13, s12, NULL, TLSV_R_SERVER_ECHOED_INVALID_SESSION_ID);
    /* a client holding a TLS 1.3 session */
    tlsv_conn *c = tlsv_conn_new(c13, TLSV_ROLE_CLIENT, "localhost", NULL);
    tlsv_conn *s = tlsv_conn_new(s13, TLSV_ROLE_SERVER, NULL, NULL);
    assert_int_equal(run_handshake(c, s), 0);
    exchange(c, s); /* the tickets arrive */
    tlsv_session *sess13 = tlsv_conn_get_session(c);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    assert_non_null(sess13);
    assert_int_equal(sess13->version, TLSV_VERSION_TLSv1_3);
    echo_of_unoffered(c13, s12, sess13, TLSV_R_OLD_SESSION_VERSION_NOT_RETURNED);
    tlsv_session_free(sess13);
    tlsv_ctx_free(c13);
    tlsv_ctx_free(s13);
    tlsv_ctx_free(s12);
}

/* A TLS 1.3 ServerHello selecting a pre_shared_key when the client offered
 * only a TLS 1.2 session: an extension it did not send (RFC 8446 §4.2,
 * unsupported_extension), reason OLD_SESSION_VERSION_NOT_RETURNED. */
static void test_tls13_resumes_12_session(void **state)
{
    (void)state;
    tlsv_ctx *c12 = client_ctx_v(TLSV_VERSION_TLSv1_2), *s12 = server_ctx_v(TLSV_VERSION_TLSv1_2);
    tlsv_ctx *c13 = client_ctx_v(TLSV_VERSION_TLSv1_3), *s13 = server_ctx_v(TLSV_VERSION_TLSv1_3);
    tlsv_session *sess = first_session(c12, s12);
    uint8_t buf[16384];
    tlsv_conn *c = tlsv_conn_new(c13, TLSV_ROLE_CLIENT, "localhost", NULL);
    tlsv_conn *s = tlsv_conn_new(s13, TLSV_ROLE_SERVER, NULL, NULL);
    assert_int_equal(tlsv_conn_set_session(c, sess), 0);
    assert_int_equal(tlsv_conn_handshake(c), TLSV_WANT_READ);
    move(c, s);
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    size_t n = tlsv_conn_take_output(s, buf, sizeof buf);
    /* the ServerHello record only, pre_shared_key {selected_identity 0}
     * appended to its extensions */
    assert_int_equal(buf[5], 2);
    size_t rec = 5 + ((size_t)buf[3] << 8 | buf[4]);
    assert_true(rec <= n);
    n = rec;
    size_t off = 5 + 4 + 2 + 32;
    off += 1 + buf[off] + 3; /* session ID, suite, compression */
    size_t el = ((size_t)buf[off] << 8 | buf[off + 1]) + 6;
    assert_int_equal(off + 2 + el - 6, n);
    static const uint8_t psk[] = {0, 41, 0, 2, 0, 0};
    memcpy(buf + n, psk, sizeof psk);
    n += sizeof psk;
    buf[off] = (uint8_t)(el >> 8);
    buf[off + 1] = (uint8_t)el;
    size_t hl = ((size_t)buf[6] << 16 | (size_t)buf[7] << 8 | buf[8]) + 6;
    buf[6] = (uint8_t)(hl >> 16);
    buf[7] = (uint8_t)(hl >> 8);
    buf[8] = (uint8_t)hl;
    buf[3] = (uint8_t)((n - 5) >> 8);
    buf[4] = (uint8_t)(n - 5);
    assert_int_equal(tlsv_conn_feed(c, buf, n), 0);
    assert_int_equal(tlsv_conn_handshake(c), -1);
    const tlsv_error *ce = tlsv_conn_last_error(c);
    assert_int_equal(ce->reason, TLSV_R_OLD_SESSION_VERSION_NOT_RETURNED);
    assert_int_equal(ce->alert, TLSV_ALERT_UNSUPPORTED_EXTENSION);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_session_free(sess);
    tlsv_ctx_free(c12);
    tlsv_ctx_free(s12);
    tlsv_ctx_free(c13);
    tlsv_ctx_free(s13);
}

/* RFC 5246 §7.4.5: after ServerHelloDone the server waits for the client's
 * flight; handshake data after it in its record (here the first byte of a
 * NewSessionTicket) is unexpected_message; a HelloRequest there is not
 * (test_hostile_flow). */
static void test_data_after_server_hello_done(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    uint8_t buf[8192];
    for (int extra = 0; extra < 2; extra++) {
        tlsv_conn *c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, "localhost", NULL);
        tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, NULL);
        assert_int_equal(tlsv_conn_handshake(c), TLSV_WANT_READ);
        move(c, s);
        assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
        size_t n = tlsv_conn_take_output(s, buf, sizeof buf);
        /* the last record ends with ServerHelloDone (14, 0, 0, 0) */
        size_t last = 0;
        for (size_t off = 0; off < n; off += 5 + ((size_t)buf[off + 3] << 8 | buf[off + 4]))
            last = off;
        assert_int_equal(buf[last], 22);
        assert_memory_equal(buf + n - 4, "\x0e\0\0\0", 4);
        if (extra) {
            buf[n++] = 4; /* new_session_ticket */
            size_t rl = ((size_t)buf[last + 3] << 8 | buf[last + 4]) + 1;
            buf[last + 3] = (uint8_t)(rl >> 8);
            buf[last + 4] = (uint8_t)rl;
        }
        assert_int_equal(tlsv_conn_feed(c, buf, n), 0);
        if (!extra) {
            assert_int_equal(run_handshake(c, s), 0);
        } else {
            assert_int_equal(tlsv_conn_handshake(c), -1);
            const tlsv_error *ce = tlsv_conn_last_error(c);
            assert_int_equal(ce->reason, TLSV_R_UNEXPECTED_MESSAGE);
            assert_int_equal(ce->alert, TLSV_ALERT_UNEXPECTED_MESSAGE);
            assert_non_null(strstr(ce->message, "ServerHelloDone"));
        }
        tlsv_conn_free(c);
        tlsv_conn_free(s);
    }
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

/* ---- the trace ---------------------------------------------------------------- */

static char trace_text[16384];

static void collect(const tlsv_conn *conn, int direction, const char *text, void *arg)
{
    (void)conn;
    (void)direction;
    (void)arg;
    size_t have = strlen(trace_text);
    snprintf(trace_text + have, sizeof trace_text - have, "%s\n", text);
}

static void test_trace(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx_v(TLSV_VERSION_TLSv1_2), *sc = server_ctx_v(TLSV_VERSION_TLSv1_2);
    tlsv_session *sess = first_session(cc, sc);
    tlsv_ctx_set_trace_callback(cc, collect, NULL);
    tlsv_ctx_set_trace_callback(sc, collect, NULL);
    trace_text[0] = '\0';
    assert_int_equal(resumes(cc, sc, sess), 1);
    assert_non_null(strstr(trace_text, "resuming the TLSv1.2 session of the client's ticket"));
    assert_non_null(strstr(trace_text, "resuming the TLSv1.2 session (the server echoed"));
    assert_non_null(strstr(trace_text, "handshake complete: TLSv1.2, resumed\n"));
    assert_null(strstr(trace_text, "Certificate"));
    trace_text[0] = '\0';
    tlsv_session *fresh = first_session(cc, sc);
    assert_non_null(strstr(trace_text, "NewSessionTicket"));
    assert_non_null(strstr(trace_text, "handshake complete: TLSv1.2\n"));
    tlsv_session_free(fresh);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_tls12),      cmocka_unit_test(test_resume_tls11),
        cmocka_unit_test(test_resume_tls10),      cmocka_unit_test(test_resume_ssl3),
        cmocka_unit_test(test_offered_with_tls13), cmocka_unit_test(test_cache_eviction),
        cmocka_unit_test(test_cache_timeout),     cmocka_unit_test(test_cache_threads),
        cmocka_unit_test(test_ticket_rotation),   cmocka_unit_test(test_tampered_expired),
        cmocka_unit_test(test_tls13_ticket_not_12), cmocka_unit_test(test_no_ticket_option),
        cmocka_unit_test(test_cross_version),     cmocka_unit_test(test_cross_suite),
        cmocka_unit_test(test_name_and_alpn),     cmocka_unit_test(test_client_auth),
        cmocka_unit_test(test_bytes),             cmocka_unit_test(test_ems),
        cmocka_unit_test(test_forged_echo),       cmocka_unit_test(test_trace),
        cmocka_unit_test(test_ticket_message_order),
        cmocka_unit_test(test_session_id_rules),  cmocka_unit_test(test_echo_of_unoffered_id),
        cmocka_unit_test(test_tls13_resumes_12_session),
        cmocka_unit_test(test_data_after_server_hello_done),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
