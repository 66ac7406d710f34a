/*
 * test_resume13.c -- TLS 1.3 session resumption in memory (RFC 8446 §2.2,
 * §4.6.1, §4.2.11): tickets issued and stored, sessions offered and
 * resumed, and every reason a ticket must give a full handshake instead
 * (tampered, expired, retired key, other hash, other server name) or abort
 * it (a binder that does not verify). Time is a fake clock set on the
 * contexts (ctx->clock_ms, an internal hook).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "context.h"
#include "engine/engine.h"
#include "engine/msg.h"
#include "engine/session.h"
#include "hostile.h" /* a hand-made TLS 1.3 client (test_ke_modes) */
#include "testpki.h"
#include "tlsv.h"

static char ec_leaf[512], client_leaf[512];

static int setup(void **state)
{
    (void)state;
    if (testpki_init() != 0)
        return -1;
    testpki_leaf("server-ec", TESTPKI_EC256, "DNS:localhost,DNS:other.test,IP:127.0.0.1", ec_leaf,
                 sizeof ec_leaf);
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

static void advance(uint64_t client_ms, uint64_t server_ms)
{
    client_now += client_ms;
    server_now += server_ms;
}

/* ---- plumbing (as in test_tls13_mem.c) -------------------------------------- */

static tlsv_ctx *server_ctx(void)
{
    tlsv_ctx *s = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, NULL);
    assert_non_null(s);
    assert_int_equal(tlsv_ctx_load_cert_chain(s, ec_leaf, NULL), 0);
    s->clock_ms = server_clock;
    return s;
}

static tlsv_ctx *client_ctx(void)
{
    tlsv_ctx *c = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL);
    assert_non_null(c);
    assert_int_equal(tlsv_ctx_load_verify_locations(c, testpki_ca_path(), NULL), 0);
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
            tlsv_conn_handshake(rc == -1 ? s : c); /* the alert reaches the other side */
            return rc == -1 ? 1 : 2;
        }
        if (!moved && rc != 0 && rs != 0)
            fail_msg("handshake stalled: client %d, server %d", rc, rs);
    }
    fail_msg("handshake did not finish");
    return -1;
}

/* The client reads what the server sent after the handshake (its tickets)
 * and data goes both ways. */
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

/* One connection between the contexts, offering `offer` (may be NULL).
 * Returns the handshake result (run_handshake); on success data is
 * exchanged and *got receives the client's latest session (may be NULL;
 * the caller frees it). *reused: tlsv_conn_session_reused of the client
 * (checked equal on the server). */
static int connect_once(tlsv_ctx *cc, tlsv_ctx *sc, const char *name, tlsv_session *offer,
                        tlsv_session **got, int *reused, tlsv_conn **keep_client,
                        tlsv_conn **keep_server)
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
        assert_non_null(tlsv_conn_version(c));
        exchange(c, s);
        assert_int_equal(tlsv_conn_session_reused(c), tlsv_conn_session_reused(s));
    }
    if (reused)
        *reused = tlsv_conn_session_reused(c);
    if (got)
        *got = tlsv_conn_get_session(c);
    if (keep_client)
        *keep_client = c;
    else
        tlsv_conn_free(c);
    if (keep_server)
        *keep_server = s;
    else
        tlsv_conn_free(s);
    return rc;
}

/* A full handshake that yields a session. */
static tlsv_session *first_session(tlsv_ctx *cc, tlsv_ctx *sc)
{
    tlsv_session *sess = NULL;
    int reused = -1;
    assert_int_equal(connect_once(cc, sc, "localhost", NULL, &sess, &reused, NULL, NULL), 0);
    assert_int_equal(reused, 0);
    assert_non_null(sess);
    return sess;
}

/* ---- the tests ------------------------------------------------------------------ */

static void test_resume(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx();
    tlsv_session *sess = first_session(cc, sc);
    assert_int_equal(tlsv_session_version(sess), TLSV_VERSION_TLSv1_3);
    assert_string_equal(tlsv_session_cipher(sess), "TLS_AES_128_GCM_SHA256");
    assert_int_equal(tlsv_session_lifetime_hint(sess), 7200);
    assert_int_equal(tlsv_session_time(sess), (long)(client_now / 1000));

    tlsv_conn *c, *s;
    tlsv_session *next = NULL;
    int reused = 0;
    assert_int_equal(connect_once(cc, sc, "localhost", sess, &next, &reused, &c, &s), 0);
    assert_int_equal(reused, 1);
    assert_int_equal(tlsv_conn_session_reused(s), 1);
    /* the client keeps the certificates of the handshake that made the
     * session; the server has none */
    assert_int_equal(tlsv_conn_peer_cert_count(c), 1);
    assert_int_equal(tlsv_conn_peer_cert_count(s), 0);
    assert_string_equal(tlsv_conn_server_name(s), "localhost");
    /* the resumed connection got tickets of its own */
    assert_non_null(next);
    assert_ptr_not_equal(next, sess);
    tlsv_conn_free(c);
    tlsv_conn_free(s);

    /* and the new ticket resumes too */
    int reused2 = 0;
    assert_int_equal(connect_once(cc, sc, "localhost", next, NULL, &reused2, NULL, NULL), 0);
    assert_int_equal(reused2, 1);
    tlsv_session_free(next);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static int tickets_seen;

static void count_tickets(const tlsv_conn *conn, int direction, const char *text, void *arg)
{
    (void)conn;
    (void)direction;
    (void)arg;
    if (strncmp(text, "new session:", 12) == 0)
        tickets_seen++;
}

static void test_ticket_count(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx();
    assert_int_equal(tlsv_ctx_get_num_tickets(sc), 2);
    tlsv_ctx_set_trace_callback(cc, count_tickets, NULL);
    tickets_seen = 0;
    tlsv_session *sess = first_session(cc, sc);
    assert_int_equal(tickets_seen, 2); /* the default, as OpenSSL's */
    tlsv_session_free(sess);

    assert_int_equal(tlsv_ctx_set_num_tickets(sc, 5), 0);
    assert_int_equal(tlsv_ctx_get_num_tickets(sc), 5);
    tickets_seen = 0;
    sess = first_session(cc, sc);
    assert_int_equal(tickets_seen, 5);
    tlsv_session_free(sess);

    /* a client context has no such setting; 17 is above the limit */
    assert_int_equal(tlsv_ctx_set_num_tickets(cc, 1), -1);
    assert_int_equal(tlsv_ctx_last_error(cc)->reason, TLSV_R_WRONG_SIDE);
    assert_int_equal(tlsv_ctx_set_num_tickets(sc, 17), -1);
    assert_int_equal(tlsv_ctx_last_error(sc)->reason, TLSV_R_INVALID_ARGUMENT);
    assert_int_equal(tlsv_ctx_get_num_tickets(sc), 5);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_no_tickets(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx();
    tlsv_session *sess = (tlsv_session *)1;
    assert_int_equal(tlsv_ctx_set_num_tickets(sc, 0), 0);
    assert_int_equal(connect_once(cc, sc, "localhost", NULL, &sess, NULL, NULL, NULL), 0);
    assert_null(sess);
    tlsv_ctx_free(sc);

    sc = server_ctx();
    tlsv_ctx_add_options(sc, TLSV_OP_NO_TICKET);
    sess = (tlsv_session *)1;
    assert_int_equal(connect_once(cc, sc, "localhost", NULL, &sess, NULL, NULL, NULL), 0);
    assert_null(sess);
    tlsv_ctx_free(sc);
    tlsv_ctx_free(cc);
}

/* A copy of a session through its bytes, changed by `edit` (offset into
 * the ticket, or -1 for none; psk_flip flips a bit of the secret). */
static tlsv_session *altered(const tlsv_session *sess, int ticket_off, int psk_flip)
{
    uint8_t buf[4096];
    size_t n = tlsv_session_to_bytes(sess, buf, sizeof buf);
    assert_true(n > 0 && n <= sizeof buf);
    tlsv_error err;
    tlsv_session *copy = tlsv_session_from_bytes(buf, n, &err);
    assert_non_null(copy);
    if (ticket_off >= 0) {
        assert_true((size_t)ticket_off < copy->ticket_len);
        copy->ticket[ticket_off] ^= 0x01;
    }
    if (psk_flip)
        copy->psk[0] ^= 0x80;
    return copy;
}

static void test_tampered_ticket(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx();
    tlsv_session *sess = first_session(cc, sc);
    /* key name, nonce, ciphertext, tag: each damaged gives a full handshake */
    int offsets[] = {0, 20, 40, -2};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        int off = offsets[i] == -2 ? (int)sess->ticket_len - 1 : offsets[i];
        tlsv_session *bad = altered(sess, off, 0);
        int reused = -1;
        assert_int_equal(connect_once(cc, sc, "localhost", bad, NULL, &reused, NULL, NULL), 0);
        assert_int_equal(reused, 0);
        tlsv_session_free(bad);
    }
    /* the intact one still resumes */
    int reused = -1;
    assert_int_equal(connect_once(cc, sc, "localhost", sess, NULL, &reused, NULL, NULL), 0);
    assert_int_equal(reused, 1);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_binder_mismatch(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx();
    tlsv_session *sess = first_session(cc, sc);
    tlsv_session *bad = altered(sess, -1, 1); /* a valid ticket, the wrong PSK */
    tlsv_conn *c, *s;
    assert_int_equal(connect_once(cc, sc, "localhost", bad, NULL, NULL, &c, &s), 2);
    const tlsv_error *se = tlsv_conn_last_error(s);
    assert_int_equal(se->reason, TLSV_R_BINDER_DOES_NOT_VERIFY);
    assert_int_equal(se->alert, TLSV_ALERT_DECRYPT_ERROR);
    assert_int_equal(se->side, TLSV_SIDE_LOCAL);
    assert_string_equal(tlsv_reason_name(se->reason), "BINDER_DOES_NOT_VERIFY");
    const tlsv_error *ce = tlsv_conn_last_error(c);
    assert_int_equal(ce->alert, TLSV_ALERT_DECRYPT_ERROR);
    assert_int_equal(ce->side, TLSV_SIDE_REMOTE);
    assert_int_equal(tlsv_conn_session_reused(s), 0);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_session_free(bad);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_expiry_and_age(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx();
    assert_int_equal(tlsv_ctx_set_ticket_lifetime(sc, 100), 0);
    assert_int_equal(tlsv_ctx_get_ticket_lifetime(sc), 100);
    assert_int_equal(tlsv_ctx_set_ticket_lifetime(sc, 0), -1);
    assert_int_equal(tlsv_ctx_set_ticket_lifetime(sc, 604801), -1);
    tlsv_session *sess = first_session(cc, sc);
    assert_int_equal(tlsv_session_lifetime_hint(sess), 100);
    int reused = -1;

    /* within the lifetime, both clocks agreeing: resumed */
    advance(50000, 50000);
    assert_int_equal(connect_once(cc, sc, "localhost", sess, NULL, &reused, NULL, NULL), 0);
    assert_int_equal(reused, 1);

    /* the server's clock 20 s ahead of the client's idea of the age */
    advance(0, 20000);
    assert_int_equal(connect_once(cc, sc, "localhost", sess, NULL, &reused, NULL, NULL), 0);
    assert_int_equal(reused, 0);
    advance(20000, 0); /* the clocks agree again */

    /* expired on the server only: the client offers, the server refuses */
    advance(0, 40000);
    assert_int_equal(connect_once(cc, sc, "localhost", sess, NULL, &reused, NULL, NULL), 0);
    assert_int_equal(reused, 0);
    /* expired for the client too: not even offered */
    advance(40000, 0);
    assert_int_equal(connect_once(cc, sc, "localhost", sess, NULL, &reused, NULL, NULL), 0);
    assert_int_equal(reused, 0);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_key_rotation(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx();
    tlsv_session *sess = first_session(cc, sc);
    int reused = -1;
    /* one rotation: the ticket's key is the previous one, still accepted */
    assert_int_equal(tlsv_ctx_rotate_ticket_keys(sc), 0);
    assert_int_equal(connect_once(cc, sc, "localhost", sess, NULL, &reused, NULL, NULL), 0);
    assert_int_equal(reused, 1);
    /* two: retired */
    assert_int_equal(tlsv_ctx_rotate_ticket_keys(sc), 0);
    assert_int_equal(connect_once(cc, sc, "localhost", sess, NULL, &reused, NULL, NULL), 0);
    assert_int_equal(reused, 0);
    tlsv_session_free(sess);

    /* by time: the key of a ticket issued late in the key's life retires
     * after the lifetime, and the ticket still resumes under it */
    assert_int_equal(tlsv_ctx_set_ticket_lifetime(sc, 100), 0);
    advance(10000, 10000);
    sess = first_session(cc, sc); /* under a key born now */
    tlsv_session_free(sess);
    advance(90000, 90000);
    sess = first_session(cc, sc); /* the same key, 90 s old */
    advance(30000, 30000);        /* the key retires when next needed */
    assert_int_equal(connect_once(cc, sc, "localhost", sess, NULL, &reused, NULL, NULL), 0);
    assert_int_equal(reused, 1);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_suite_hash(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx();
    assert_int_equal(tlsv_ctx_set_ciphersuites(cc, "TLS_AES_256_GCM_SHA384"), 0);
    tlsv_session *sess = first_session(cc, sc);
    assert_string_equal(tlsv_session_cipher(sess), "TLS_AES_256_GCM_SHA384");
    tlsv_ctx_free(cc);

    /* the server picks a SHA-256 suite: the SHA-384 PSK cannot be used */
    cc = client_ctx();
    assert_int_equal(tlsv_ctx_set_ciphersuites(cc, "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"), 0);
    tlsv_conn *c;
    int reused = -1;
    assert_int_equal(connect_once(cc, sc, "localhost", sess, NULL, &reused, &c, NULL), 0);
    assert_int_equal(reused, 0);
    assert_string_equal(tlsv_conn_cipher(c), "TLS_AES_128_GCM_SHA256");
    tlsv_conn_free(c);
    tlsv_session_free(sess);

    /* another suite of the same hash: resumed with it */
    assert_int_equal(tlsv_ctx_set_ciphersuites(cc, "TLS_AES_128_GCM_SHA256"), 0);
    sess = first_session(cc, sc);
    assert_int_equal(tlsv_ctx_set_ciphersuites(cc, "TLS_CHACHA20_POLY1305_SHA256"), 0);
    assert_int_equal(connect_once(cc, sc, "localhost", sess, NULL, &reused, &c, NULL), 0);
    assert_int_equal(reused, 1);
    assert_string_equal(tlsv_conn_cipher(c), "TLS_CHACHA20_POLY1305_SHA256");
    tlsv_conn_free(c);
    /* a client context without any suite of the PSK's hash does not offer it */
    assert_int_equal(tlsv_ctx_set_ciphersuites(cc, "TLS_AES_256_GCM_SHA384"), 0);
    assert_int_equal(connect_once(cc, sc, "localhost", sess, NULL, &reused, NULL, NULL), 0);
    assert_int_equal(reused, 0);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_bytes(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx();
    const char *alpn[] = {"h2", "http/1.1"};
    assert_int_equal(tlsv_ctx_set_alpn_protocols(cc, alpn, 2), 0);
    assert_int_equal(tlsv_ctx_set_alpn_protocols(sc, alpn + 1, 1), 0);
    tlsv_session *sess = first_session(cc, sc);
    size_t need = tlsv_session_to_bytes(sess, NULL, 0);
    assert_true(need > 40);
    uint8_t *buf = malloc(need + 1);
    assert_non_null(buf);
    assert_int_equal(tlsv_session_to_bytes(sess, buf, need - 1), need); /* too small: nothing */
    assert_int_equal(tlsv_session_to_bytes(sess, buf, need), need);
    assert_int_equal(tlsv_session_to_bytes(NULL, buf, need), 0);

    tlsv_error err;
    tlsv_session *copy = tlsv_session_from_bytes(buf, need, &err);
    assert_non_null(copy);
    assert_int_equal(err.reason, TLSV_R_OK);
    assert_int_equal(tlsv_session_time(copy), tlsv_session_time(sess));
    assert_string_equal(copy->alpn, "http/1.1");
    assert_string_equal(copy->server_name, "localhost");
    uint8_t again[2048];
    assert_int_equal(tlsv_session_to_bytes(copy, again, sizeof again), need);
    assert_memory_equal(again, buf, need);

    /* a session from bytes resumes (without the server's certificates) */
    tlsv_conn *c;
    int reused = -1;
    assert_int_equal(connect_once(cc, sc, "localhost", copy, NULL, &reused, &c, NULL), 0);
    assert_int_equal(reused, 1);
    assert_int_equal(tlsv_conn_peer_cert_count(c), 0);
    assert_string_equal(tlsv_conn_alpn_selected(c), "http/1.1");
    tlsv_conn_free(c);

    /* every truncation, a trailing byte, and damage where it is checked */
    for (size_t n = 0; n < need; n++) {
        assert_null(tlsv_session_from_bytes(buf, n, &err));
        assert_int_equal(err.reason, TLSV_R_DECODE_ERROR);
    }
    buf[need] = 0;
    assert_null(tlsv_session_from_bytes(buf, need + 1, &err));
    assert_int_equal(err.reason, TLSV_R_DECODE_ERROR);
    /* magic, format, version, suite, lifetime, flags, psk length */
    size_t checked[] = {0, 4, 5, 6, 7, 8, 17, 29, 30};
    for (size_t i = 0; i < sizeof checked / sizeof checked[0]; i++) {
        buf[checked[i]] ^= 0x41;
        assert_null(tlsv_session_from_bytes(buf, need, &err));
        assert_int_equal(err.reason, TLSV_R_DECODE_ERROR);
        buf[checked[i]] ^= 0x41;
    }
    tlsv_session_free(copy);
    copy = tlsv_session_from_bytes(buf, need, &err); /* restored: valid again */
    assert_non_null(copy);
    uint8_t garbage[300];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (uint8_t)(i * 37 + 11);
    assert_null(tlsv_session_from_bytes(garbage, sizeof garbage, &err));
    assert_null(tlsv_session_from_bytes(NULL, 5, &err));
    assert_null(tlsv_session_from_bytes(NULL, 0, NULL));
    free(buf);
    tlsv_session_free(copy);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static int hrr_seen, psk_selected;

static void watch_server(const tlsv_conn *conn, int direction, const char *text, void *arg)
{
    (void)conn;
    (void)arg;
    if (direction == 1 && strstr(text, "HelloRetryRequest"))
        hrr_seen++;
    if (direction == -1 && strstr(text, "resuming the session"))
        psk_selected++;
}

static void test_hello_retry(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx();
    /* the client's share is for P-256, the server wants x25519: HRR */
    assert_int_equal(tlsv_ctx_set_groups(cc, "P-256:x25519"), 0);
    assert_int_equal(tlsv_ctx_set_groups(sc, "x25519"), 0);
    tlsv_session *sess = first_session(cc, sc);
    tlsv_conn *c;
    int reused = -1;
    tlsv_ctx_set_trace_callback(sc, watch_server, NULL);
    hrr_seen = psk_selected = 0;
    assert_int_equal(connect_once(cc, sc, "localhost", sess, NULL, &reused, &c, NULL), 0);
    assert_int_equal(reused, 1);
    assert_int_equal(hrr_seen, 1); /* the binder of the second hello covers the HRR */
    assert_int_equal(psk_selected, 1);
    assert_string_equal(tlsv_conn_group(c), "x25519");
    tlsv_conn_free(c);

    /* HRR choosing a suite of another hash: the PSK is dropped from the
     * second hello, the handshake is a full one */
    tlsv_ctx_free(sc);
    sc = server_ctx();
    assert_int_equal(tlsv_ctx_set_groups(sc, "x25519"), 0);
    assert_int_equal(tlsv_ctx_set_ciphersuites(sc, "TLS_AES_256_GCM_SHA384"), 0);
    assert_int_equal(connect_once(cc, sc, "localhost", sess, NULL, &reused, &c, NULL), 0);
    assert_int_equal(reused, 0);
    assert_string_equal(tlsv_conn_cipher(c), "TLS_AES_256_GCM_SHA384");
    tlsv_conn_free(c);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_alpn(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx();
    const char *alpn[] = {"h2", "http/1.1"};
    assert_int_equal(tlsv_ctx_set_alpn_protocols(cc, alpn, 2), 0);
    assert_int_equal(tlsv_ctx_set_alpn_protocols(sc, alpn, 2), 0);
    tlsv_session *sess = first_session(cc, sc);
    tlsv_conn *c, *s;
    int reused = -1;
    assert_int_equal(connect_once(cc, sc, "localhost", sess, NULL, &reused, &c, &s), 0);
    assert_int_equal(reused, 1);
    assert_string_equal(tlsv_conn_alpn_selected(c), "h2");
    assert_string_equal(tlsv_conn_alpn_selected(s), "h2");
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_session_free(sess);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void test_not_offered(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx();
    tlsv_session *sess = first_session(cc, sc);
    int reused = -1;
    /* another server name: the session is not offered */
    assert_int_equal(connect_once(cc, sc, "other.test", sess, NULL, &reused, NULL, NULL), 0);
    assert_int_equal(reused, 0);
    /* a session made without verification is not offered where it is required */
    tlsv_ctx *lax = client_ctx();
    assert_int_equal(tlsv_ctx_set_check_hostname(lax, 0), 0);
    assert_int_equal(tlsv_ctx_set_verify_mode(lax, TLSV_CERT_NONE), 0);
    tlsv_session *unverified = first_session(lax, sc);
    assert_int_equal(connect_once(cc, sc, "localhost", unverified, NULL, &reused, NULL, NULL), 0);
    assert_int_equal(reused, 0);
    assert_int_equal(connect_once(lax, sc, "localhost", unverified, NULL, &reused, NULL, NULL), 0);
    assert_int_equal(reused, 1);
    /* TLS 1.2 only: not offered */
    tlsv_ctx *old = client_ctx();
    assert_int_equal(tlsv_ctx_set_maximum_version(old, TLSV_VERSION_TLSv1_2), 0);
    tlsv_conn *c;
    assert_int_equal(connect_once(old, sc, "localhost", sess, NULL, &reused, &c, NULL), 0);
    assert_int_equal(reused, 0);
    assert_string_equal(tlsv_conn_version(c), "TLSv1.2");
    tlsv_conn_free(c);
    /* set_session: clients only, before the handshake */
    tlsv_error err;
    tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, &err);
    assert_int_equal(tlsv_conn_set_session(s, sess), -1);
    assert_null(tlsv_conn_get_session(s));
    tlsv_conn_free(s);
    tlsv_session_free(unverified);
    tlsv_session_free(sess);
    tlsv_ctx_free(old);
    tlsv_ctx_free(lax);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

/* A server requiring client certificates resumes only tickets of
 * authenticated clients. */
static void test_client_auth(void **state)
{
    (void)state;
    tlsv_ctx *cc = client_ctx(), *sc = server_ctx();
    assert_int_equal(tlsv_ctx_load_verify_locations(sc, testpki_ca_path(), NULL), 0);
    assert_int_equal(tlsv_ctx_set_verify_mode(sc, TLSV_CERT_OPTIONAL), 0);
    tlsv_session *anon = first_session(cc, sc); /* no client certificate */
    assert_int_equal(tlsv_ctx_load_cert_chain(cc, client_leaf, NULL), 0);
    tlsv_session *authed = first_session(cc, sc);
    assert_int_equal(tlsv_ctx_set_verify_mode(sc, TLSV_CERT_REQUIRED), 0);
    int reused = -1;
    tlsv_conn *s;
    assert_int_equal(connect_once(cc, sc, "localhost", anon, NULL, &reused, NULL, &s), 0);
    assert_int_equal(reused, 0);
    assert_int_equal(tlsv_conn_peer_cert_count(s), 1); /* a full handshake with the certificate */
    tlsv_conn_free(s);
    assert_int_equal(connect_once(cc, sc, "localhost", authed, NULL, &reused, NULL, NULL), 0);
    assert_int_equal(reused, 1);
    tlsv_session_free(anon);
    tlsv_session_free(authed);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

/* A ClientHello with early_data, then 0-RTT records: the server refuses
 * early data (no early_data in its EncryptedExtensions) and skips what it
 * cannot decrypt, up to TLSV_MAX_EARLY_DATA_SKIP bytes (RFC 8446 §4.2.10). */
static void feed_record(tlsv_conn *s, uint8_t type, const uint8_t *body, size_t n)
{
    uint8_t hdr[5] = {type, 3, type == 22 ? 1 : 3, (uint8_t)(n >> 8), (uint8_t)n};
    assert_int_equal(tlsv_conn_feed(s, hdr, sizeof hdr), 0);
    assert_int_equal(tlsv_conn_feed(s, body, n), 0);
}

static void test_early_data_refused(void **state)
{
    (void)state;
    tlsv_ctx *sc = server_ctx();
    tlsv_error err;
    tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, &err);
    assert_non_null(s);
    tlsv_kex *kex = tlsv_kex_generate(TLSV_GROUP_X25519);
    assert_non_null(kex);
    uint8_t pub[32], random[32] = {7};
    size_t pub_len = 0;
    assert_int_equal(tlsv_kex_public(kex, pub, sizeof pub, &pub_len), 0);
    static const uint16_t suites[] = {0x1301}, versions[] = {0x0304}, groups[] = {0x001d},
                          sigalgs[] = {0x0403, 0x0804};
    static const uint8_t modes[] = {TLSV_PSK_DHE_KE};
    tlsv_key_share_param share = {0x001d, {pub, pub_len}};
    tlsv_client_hello_params p = {
        .legacy_version = 0x0303, .random = random,
        .cipher_suites = suites, .n_cipher_suites = 1,
        .versions = versions, .n_versions = 1,
        .groups = groups, .n_groups = 1,
        .signature_algorithms = sigalgs, .n_signature_algorithms = 2,
        .key_share = true, .key_shares = &share, .n_key_shares = 1,
        .server_name = "localhost",
        .psk_modes = modes, .n_psk_modes = 1,
        .early_data = true,
    };
    uint8_t ch[1024];
    tlsv_writer w;
    tlsv_wr_init_fixed(&w, ch, sizeof ch);
    assert_int_equal(tlsv_msg_write_client_hello(&w, &p, NULL, &err), 0);
    feed_record(s, 22, tlsv_wr_data(&w), tlsv_wr_len(&w));
    static uint8_t zero_rtt[16000];
    for (size_t i = 0; i < sizeof zero_rtt; i++)
        zero_rtt[i] = (uint8_t)(i * 13 + 5);
    feed_record(s, 23, zero_rtt, 200); /* 0-RTT data the server cannot read */
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    assert_true(tlsv_conn_pending_output(s) > 0); /* its flight, through Finished */
    assert_int_equal(tlsv_conn_last_error(s)->reason, TLSV_R_OK);
    /* more, within the bound: skipped too */
    for (int i = 0; i < 4; i++)
        feed_record(s, 23, zero_rtt, sizeof zero_rtt);
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    /* beyond it: the record is an error like any undecryptable one */
    feed_record(s, 23, zero_rtt, sizeof zero_rtt);
    assert_int_equal(tlsv_conn_handshake(s), -1);
    assert_int_equal(tlsv_conn_last_error(s)->reason, TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC);
    tlsv_kex_free(kex);
    tlsv_conn_free(s);
    tlsv_ctx_free(sc);
}

/* RFC 8446 §4.2.9: a server SHOULD NOT send tickets a client cannot use
 * with the modes it advertised. tlsv resumes with psk_dhe_ke only, so a
 * client whose psk_key_exchange_modes lacks it (or that sends none) gets
 * no NewSessionTicket. The client is made by hand (tlsv's own always
 * offers psk_dhe_ke): a ClientHello with the given modes, then a Finished
 * over the server's flight, keyed from the server's key log. Returns the
 * number of NewSessionTicket messages the server sent after it. */
static int tickets_for_modes(const uint8_t *modes, size_t n_modes)
{
    hkeys keys;
    memset(&keys, 0, sizeof keys);
    tlsv_ctx *sc = server_ctx();
    tlsv_ctx_set_keylog_callback(sc, hkeys_cb, &keys);
    tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);

    static const uint16_t suites[] = {0x1301}, versions[] = {0x0304}, groups[] = {0x001d},
                          sigalgs[] = {0x0403, 0x0804};
    uint8_t pub[32], random[32] = {9};
    size_t pub_len = fixed_x25519(pub);
    tlsv_key_share_param share = {0x001d, {pub, pub_len}};
    tlsv_client_hello_params p = {
        .legacy_version = 0x0303, .random = random,
        .cipher_suites = suites, .n_cipher_suites = 1,
        .versions = versions, .n_versions = 1,
        .groups = groups, .n_groups = 1,
        .signature_algorithms = sigalgs, .n_signature_algorithms = 2,
        .key_share = true, .key_shares = &share, .n_key_shares = 1,
        .server_name = "localhost",
        .psk_modes = modes, .n_psk_modes = n_modes,
    };
    tlsv_writer w;
    tlsv_error err;
    assert_true(tlsv_wr_init_growable(&w, 512, 1 << 16));
    assert_int_equal(tlsv_msg_write_client_hello(&w, &p, NULL, &err), 0);
    hbuf tr = {0}, out = {0};
    hb_put(&tr, tlsv_wr_data(&w), tlsv_wr_len(&w));
    tlsv_wr_release(&w);
    put_record(&out, 22, 0x0301, tr.p, tr.n);
    feed(s, &out);
    hb_clear(&out);
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);

    /* the server's flight: ServerHello in the clear, EE..Finished sealed */
    take_all(s, &out);
    hrec recs[64];
    size_t nr = split_records(out.p, out.n, recs, 64);
    k13 k;
    k13_init(&k, keys.s_hs, keys.slen);
    for (size_t i = 0; i < nr; i++) {
        if (recs[i].type == TLSV_CT_HANDSHAKE)
            hb_put(&tr, recs[i].body, recs[i].len);
        if (recs[i].type == TLSV_CT_APPLICATION_DATA) {
            uint8_t pt[8192], type = 0;
            size_t n = 0;
            assert_true(recs[i].len <= sizeof pt);
            assert_int_equal(k13_open(&k, &recs[i], &type, pt, &n), 0);
            assert_int_equal(type, TLSV_CT_HANDSHAKE);
            hb_put(&tr, pt, n);
        }
    }
    k13_free(&k);
    hb_clear(&out);

    /* our Finished: HMAC(finished_key, Transcript-Hash(CH..server Finished)) */
    uint8_t th[32], fk[32], fin[4 + 32] = {TLSV_HS_FINISHED, 0, 0, 32};
    assert_int_equal(tlsv_hash(TLSV_HASH_SHA256, tr.p, tr.n, th, sizeof th), 0);
    assert_int_equal(tlsv_hkdf_expand_label(TLSV_HASH_SHA256, keys.c_hs, keys.slen, "finished",
                                            NULL, 0, fk, sizeof fk), 0);
    assert_int_equal(tlsv_hmac(TLSV_HASH_SHA256, fk, sizeof fk, th, sizeof th, fin + 4, 32), 0);
    k13_init(&k, keys.c_hs, keys.slen);
    k13_seal(&k, &out, TLSV_CT_HANDSHAKE, fin, sizeof fin, 0, false);
    k13_free(&k);
    feed(s, &out);
    hb_clear(&out);
    assert_int_equal(tlsv_conn_handshake(s), 0);

    /* what it sends now, under its application keys */
    take_all(s, &out);
    nr = split_records(out.p, out.n, recs, 64);
    k13_init(&k, keys.s_ap, keys.slen);
    hbuf hs = {0};
    for (size_t i = 0; i < nr; i++) {
        uint8_t pt[8192], type = 0;
        size_t n = 0;
        assert_int_equal(recs[i].type, TLSV_CT_APPLICATION_DATA);
        assert_true(recs[i].len <= sizeof pt);
        assert_int_equal(k13_open(&k, &recs[i], &type, pt, &n), 0);
        assert_int_equal(type, TLSV_CT_HANDSHAKE);
        hb_put(&hs, pt, n);
    }
    k13_free(&k);
    int tickets = 0;
    for (size_t off = 0; off + 4 <= hs.n; off += 4 + get24(hs.p + off + 1)) {
        assert_int_equal(hs.p[off], TLSV_HS_NEW_SESSION_TICKET);
        tickets++;
    }
    hb_free(&hs);
    hb_free(&out);
    hb_free(&tr);
    tlsv_conn_free(s);
    tlsv_ctx_free(sc);
    return tickets;
}

static void test_ke_modes(void **state)
{
    (void)state;
    static const uint8_t dhe[] = {TLSV_PSK_DHE_KE}, ke[] = {0}, both[] = {0, TLSV_PSK_DHE_KE},
                         unknown[] = {0x7f};
    assert_int_equal(tickets_for_modes(dhe, 1), 2);  /* the hand-made client works */
    assert_int_equal(tickets_for_modes(both, 2), 2);
    assert_int_equal(tickets_for_modes(ke, 1), 0);   /* psk_ke only */
    assert_int_equal(tickets_for_modes(unknown, 1), 0);
    assert_int_equal(tickets_for_modes(NULL, 0), 0); /* no psk_key_exchange_modes */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume),          cmocka_unit_test(test_ticket_count),
        cmocka_unit_test(test_no_tickets),      cmocka_unit_test(test_tampered_ticket),
        cmocka_unit_test(test_binder_mismatch), cmocka_unit_test(test_expiry_and_age),
        cmocka_unit_test(test_key_rotation),    cmocka_unit_test(test_suite_hash),
        cmocka_unit_test(test_bytes),           cmocka_unit_test(test_hello_retry),
        cmocka_unit_test(test_alpn),            cmocka_unit_test(test_not_offered),
        cmocka_unit_test(test_client_auth),     cmocka_unit_test(test_early_data_refused),
        cmocka_unit_test(test_ke_modes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
