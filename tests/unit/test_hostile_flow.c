/*
 * test_hostile_flow.c -- hostile message flows (issue #7): renegotiation
 * attempts, change_cipher_spec where none may come, application data
 * before Finished, a peer that stops (EOF, or silence on a non-blocking
 * socket), and the limits on certificate chains and KeyUpdates. Each test
 * asserts the alert tlsv sends, its error record and that the connection
 * is dead (or, where tlsv refuses politely, that it lives on).
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hostile.h"

static const char *const GCM = "ECDHE-ECDSA-AES128-GCM-SHA256";

/* ---------------------------------------------------------------------- */
/* Renegotiation                                                           */
/* ---------------------------------------------------------------------- */

/* The victim answered with exactly one warning no_renegotiation and lives. */
static void expect_no_renegotiation(tlsv_conn *v, hview *vv)
{
    expect_want_read(v);
    hout o = {0};
    view_take(vv, v, &o);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.r[0].type, TLSV_CT_ALERT);
    assert_int_equal(o.r[0].len, 2);
    assert_int_equal(o.r[0].head[0], 1); /* warning */
    assert_int_equal(o.r[0].head[1], TLSV_ALERT_NO_RENEGOTIATION);
    hout_free(&o);
}

/* TLS 1.0-1.2 (RFC 5746 §4.5, RFC 5246 §7.2.2): a renegotiation request --
 * a ClientHello at a server, a HelloRequest at a client -- is refused with
 * a warning no_renegotiation and the connection goes on; the refusals count
 * in the warnings-in-a-row limit. */
static void test_renegotiation_tls12(void **state)
{
    (void)state;
    for (int no_reneg = 0; no_reneg < 2; no_reneg++) {
        tlsv_ctx *sc = hs_ctx(0, 0, GCM, NULL);
        if (no_reneg)
            tlsv_ctx_add_options(sc, TLSV_OP_NO_RENEGOTIATION);
        tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
        h12 h;
        h12_connect(&h, s, TLSV_V_TLS12, GCM, false, true);
        hbuf ch = {0};
        h12_client_hello(&h, &ch);
        h12_send(&h, s, 22, ch.p, ch.n, T_NONE);
        expect_no_renegotiation(s, &h.view);
        h12_send(&h, s, 23, "still", 5, T_NONE);
        expect_read(s, "still", 5);
        assert_int_equal(tlsv_conn_write(s, "yes", 3), 3);
        hout o = {0};
        view_take(&h.view, s, &o);
        assert_int_equal(o.app.n, 3);
        hout_free(&o);
        for (int i = 1; i < TLSV_MAX_WARNINGS_IN_ROW; i++) {
            h12_send(&h, s, 22, ch.p, ch.n, T_NONE);
            expect_no_renegotiation(s, &h.view);
        }
        h12_send(&h, s, 22, ch.p, ch.n, T_NONE);
        expect_no_renegotiation(s, &h.view); /* the 8th in a row */
        h12_send(&h, s, 22, ch.p, ch.n, T_NONE);
        uint8_t rb[16];
        assert_int_equal(tlsv_conn_read(s, rb, sizeof rb), -1);
        expect_fail_local(s, &h.view, TLSV_R_TOO_MANY_WARN_ALERTS, TLSV_ALERT_UNEXPECTED_MESSAGE);
        hb_free(&ch);
        h12_free(&h);
        tlsv_conn_free(s);
        tlsv_ctx_free(sc);
    }

    /* a client: HelloRequest after the handshake */
    scene x;
    scene_start(&x, TLSV_VERSION_TLSv1_2, GCM);
    scene_finish(&x, NULL);
    k12 k;
    scene_keys12(&x, true, &k);
    static const uint8_t hello_request[4] = {TLSV_HS_HELLO_REQUEST, 0, 0, 0};
    hbuf b = {0};
    for (int i = 0; i < TLSV_MAX_WARNINGS_IN_ROW; i++) {
        k12_seal(&k, &b, 22, hello_request, 4, T_NONE, 0);
        feed(x.c, &b);
        hb_clear(&b);
        expect_no_renegotiation(x.c, &x.cview);
    }
    k12_seal(&k, &b, 22, hello_request, 4, T_NONE, 0);
    feed(x.c, &b);
    hb_clear(&b);
    uint8_t rb[16];
    assert_int_equal(tlsv_conn_read(x.c, rb, sizeof rb), -1);
    expect_fail_local(x.c, &x.cview, TLSV_R_TOO_MANY_WARN_ALERTS, TLSV_ALERT_UNEXPECTED_MESSAGE);
    k12_free(&k);
    scene_free(&x);

    /* other handshake messages after the handshake: unexpected_message */
    scene_start(&x, TLSV_VERSION_TLSv1_2, GCM);
    scene_finish(&x, NULL);
    scene_keys12(&x, true, &k);
    hmsg m[8];
    split_messages(x.sh.p, x.sh.n, m, 8);
    k12_seal(&k, &b, 22, m[0].p, m[0].n, T_NONE, 0); /* the ServerHello again */
    feed(x.c, &b);
    hb_clear(&b);
    assert_int_equal(tlsv_conn_read(x.c, rb, sizeof rb), -1);
    expect_fail_local(x.c, &x.cview, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE);
    k12_free(&k);
    scene_free(&x);

    /* a HelloRequest while the client negotiates is ignored (RFC 5246
     * §7.4.1.1), also many of them */
    scene_start(&x, TLSV_VERSION_TLSv1_2, GCM);
    size_t sh_len = 4 + get24(x.sh.p + 1);
    hbuf msgs = {0};
    hb_put(&msgs, x.sh.p, sh_len);
    hb_put(&msgs, hello_request, 4);
    hb_put(&msgs, x.sh.p + sh_len, x.sh.n - sh_len);
    for (int i = 0; i < 20; i++)
        hb_put(&msgs, hello_request, 4);
    put_fragmented(&b, 22, 0x0303, msgs.p, msgs.n, 16384);
    hb_free(&msgs);
    scene_finish(&x, &b);
    hb_free(&b);
    assert_int_equal(tlsv_conn_write(x.c, "after", 5), 5);
    h_move(x.c, x.s);
    expect_read(x.s, "after", 5);
    scene_free(&x);
}

/* TLS 1.3 has no renegotiation (RFC 8446 §4.6): a ClientHello at a server
 * or a HelloRequest / ServerHello at a client after the handshake is
 * unexpected_message. */
static void test_renegotiation_tls13(void **state)
{
    (void)state;
    static const uint8_t hello_request[4] = {TLSV_HS_HELLO_REQUEST, 0, 0, 0};
    for (int kind = 0; kind < 3; kind++) {
        scene x;
        scene_start(&x, 0, NULL);
        scene_finish(&x, NULL);
        bool at_server = kind == 0;
        tlsv_conn *v = at_server ? x.s : x.c;
        k13 k;
        k13_init(&k, at_server ? x.skeys.c_ap : x.skeys.s_ap, x.skeys.slen);
        hbuf b = {0}, msg = {0};
        if (kind == 0) {
            ch_opts o = {0};
            build_ch(&msg, &o);
        } else if (kind == 1) {
            hb_put(&msg, hello_request, 4);
        } else {
            hb_put(&msg, x.sh.p, x.sh.n);
        }
        k13_seal(&k, &b, 22, msg.p, msg.n, 0, false);
        feed(v, &b);
        uint8_t rb[16];
        assert_int_equal(tlsv_conn_read(v, rb, sizeof rb), -1);
        expect_fail_local(v, at_server ? &x.sview : &x.cview, TLSV_R_UNEXPECTED_MESSAGE,
                          TLSV_ALERT_UNEXPECTED_MESSAGE);
        hb_free(&b);
        hb_free(&msg);
        k13_free(&k);
        scene_free(&x);
    }
}

/* ---------------------------------------------------------------------- */
/* change_cipher_spec where none may come                                  */
/* ---------------------------------------------------------------------- */

static void test_early_ccs_tls12(void **state)
{
    (void)state;
    static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
    /* at the server, before the ClientKeyExchange */
    scene x;
    scene_start(&x, TLSV_VERSION_TLSv1_2, GCM);
    assert_int_equal(tlsv_conn_feed(x.s, ccs, sizeof ccs), 0);
    assert_int_equal(tlsv_conn_handshake(x.s), -1);
    expect_fail_local(x.s, &x.sview, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE);
    scene_free(&x);
    /* at the client, before the ServerHelloDone */
    scene_start(&x, TLSV_VERSION_TLSv1_2, GCM);
    hmsg m[8];
    size_t nm = split_messages(x.sh.p, x.sh.n, m, 8);
    hbuf b = {0};
    put_record(&b, 22, 0x0303, x.sh.p, x.sh.n - m[nm - 1].n);
    hb_put(&b, ccs, sizeof ccs);
    feed(x.c, &b);
    hb_clear(&b);
    assert_int_equal(tlsv_conn_handshake(x.c), -1);
    expect_fail_local(x.c, &x.cview, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE);
    scene_free(&x);
    /* at the server, a second one before the client's Finished */
    scene_start(&x, TLSV_VERSION_TLSv1_2, GCM);
    feed(x.c, &x.flight);
    assert_int_equal(tlsv_conn_handshake(x.c), TLSV_WANT_READ);
    take_view(x.c, &x.cview, &x.cfin, NULL);
    hrec r[8];
    size_t nr = split_records(x.cfin.p, x.cfin.n, r, 8);
    assert_int_equal(nr, 3); /* CKE, CCS, Finished */
    hb_put(&b, x.cfin.p, 10 + r[0].len + r[1].len); /* CKE, CCS */
    hb_put(&b, ccs, sizeof ccs);
    feed(x.s, &b);
    hb_clear(&b);
    assert_int_equal(tlsv_conn_handshake(x.s), -1);
    expect_fail_local(x.s, &x.sview, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE);
    scene_free(&x);
    /* after the handshake, both sides */
    for (int at_server = 0; at_server < 2; at_server++) {
        scene_start(&x, TLSV_VERSION_TLSv1_2, GCM);
        scene_finish(&x, NULL);
        tlsv_conn *v = at_server ? x.s : x.c;
        assert_int_equal(tlsv_conn_feed(v, ccs, sizeof ccs), 0);
        uint8_t rb[16];
        assert_int_equal(tlsv_conn_read(v, rb, sizeof rb), -1);
        expect_fail_local(v, at_server ? &x.sview : &x.cview, TLSV_R_UNEXPECTED_MESSAGE,
                          TLSV_ALERT_UNEXPECTED_MESSAGE);
        scene_free(&x);
    }
    hb_free(&b);
}

static void test_early_ccs_tls13(void **state)
{
    (void)state;
    /* at a server, before any ClientHello */
    tlsv_ctx *sc = hs_ctx(0, 0, NULL, NULL);
    tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
    static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
    assert_int_equal(tlsv_conn_feed(s, ccs, sizeof ccs), 0);
    assert_int_equal(tlsv_conn_handshake(s), -1);
    expect_fail_local(s, NULL, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE);
    tlsv_conn_free(s);
    tlsv_ctx_free(sc);
    /* RFC 8446 §5: a value other than 1, a longer record, a protected one */
    static const uint8_t ccs2[] = {20, 3, 3, 0, 1, 2};
    static const uint8_t ccs11[] = {20, 3, 3, 0, 2, 1, 1};
    for (int at_server = 0; at_server < 2; at_server++)
        for (int kind = 0; kind < 3; kind++) {
            scene x;
            scene_start(&x, 0, NULL);
            tlsv_conn *v = at_server ? x.s : x.c;
            hbuf b = {0};
            if (!at_server)
                put_record(&b, 22, 0x0303, x.sh.p, x.sh.n);
            if (kind == 0) {
                hb_put(&b, ccs2, sizeof ccs2);
            } else if (kind == 1) {
                hb_put(&b, ccs11, sizeof ccs11);
            } else {
                k13 k;
                k13_init(&k, at_server ? x.skeys.c_hs : x.skeys.s_hs, x.skeys.slen);
                k13_seal(&k, &b, 20, "\1", 1, 0, false);
                k13_free(&k);
            }
            feed(v, &b);
            assert_int_equal(tlsv_conn_handshake(v), -1);
            expect_fail_local(v, at_server ? &x.sview : &x.cview, TLSV_R_UNEXPECTED_MESSAGE,
                              TLSV_ALERT_UNEXPECTED_MESSAGE);
            hb_free(&b);
            scene_free(&x);
        }
    /* after the handshake (RFC 8446 §5: only before the peer's Finished) */
    for (int at_server = 0; at_server < 2; at_server++) {
        scene x;
        scene_start(&x, 0, NULL);
        scene_finish(&x, NULL);
        tlsv_conn *v = at_server ? x.s : x.c;
        assert_int_equal(tlsv_conn_feed(v, ccs, sizeof ccs), 0);
        uint8_t rb[16];
        assert_int_equal(tlsv_conn_read(v, rb, sizeof rb), -1);
        expect_fail_local(v, at_server ? &x.sview : &x.cview, TLSV_R_UNEXPECTED_MESSAGE,
                          TLSV_ALERT_UNEXPECTED_MESSAGE);
        scene_free(&x);
    }
}

/* ---------------------------------------------------------------------- */
/* Application data before Finished                                        */
/* ---------------------------------------------------------------------- */

static void test_app_data_before_finished(void **state)
{
    (void)state;
    uint8_t rb[16];
    /* TLS 1.3: under the handshake keys, both sides */
    for (int at_server = 0; at_server < 2; at_server++) {
        scene x;
        scene_start(&x, 0, NULL);
        tlsv_conn *v = at_server ? x.s : x.c;
        hbuf b = {0};
        if (!at_server)
            put_record(&b, 22, 0x0303, x.sh.p, x.sh.n);
        k13 k;
        k13_init(&k, at_server ? x.skeys.c_hs : x.skeys.s_hs, x.skeys.slen);
        k13_seal(&k, &b, 23, "early", 5, 0, false);
        k13_free(&k);
        feed(v, &b);
        assert_int_equal(tlsv_conn_read(v, rb, sizeof rb), -1);
        expect_fail_local(v, at_server ? &x.sview : &x.cview, TLSV_R_UNEXPECTED_MESSAGE,
                          TLSV_ALERT_UNEXPECTED_MESSAGE);
        hb_free(&b);
        scene_free(&x);
    }
    /* TLS 1.3 client: plaintext application data instead of a ServerHello */
    scene x;
    scene_start(&x, 0, NULL);
    hbuf b = {0};
    put_record(&b, 23, 0x0303, "early", 5);
    feed(x.c, &b);
    hb_clear(&b);
    assert_int_equal(tlsv_conn_read(x.c, rb, sizeof rb), -1);
    expect_fail_local(x.c, &x.cview, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE);
    scene_free(&x);

    /* TLS 1.2: in plaintext before the ChangeCipherSpec, both sides */
    for (int at_server = 0; at_server < 2; at_server++) {
        scene_start(&x, TLSV_VERSION_TLSv1_2, GCM);
        tlsv_conn *v = at_server ? x.s : x.c;
        if (!at_server)
            hb_put(&b, x.flight.p, x.flight.n);
        put_record(&b, 23, 0x0303, "early", 5);
        feed(v, &b);
        hb_clear(&b);
        assert_int_equal(tlsv_conn_read(v, rb, sizeof rb), -1);
        expect_fail_local(v, at_server ? &x.sview : &x.cview, TLSV_R_UNEXPECTED_MESSAGE,
                          TLSV_ALERT_UNEXPECTED_MESSAGE);
        scene_free(&x);
    }
    /* TLS 1.2: protected, after the ChangeCipherSpec and before Finished */
    for (int at_server = 0; at_server < 2; at_server++) {
        scene_start(&x, TLSV_VERSION_TLSv1_2, GCM);
        feed(x.c, &x.flight);
        assert_int_equal(tlsv_conn_handshake(x.c), TLSV_WANT_READ);
        take_view(x.c, &x.cview, &x.cfin, NULL);
        hrec r[8];
        size_t nr = split_records(x.cfin.p, x.cfin.n, r, 8);
        assert_int_equal(nr, 3); /* CKE, CCS, Finished */
        k12 k;
        k12_init(&k, TLSV_V_TLS12, x.suite12, false, x.ckeys.master, x.ckeys.client_random,
                 x.cview.sr, at_server); /* the keys of the side that sends */
        tlsv_conn *v = at_server ? x.s : x.c;
        if (at_server)
            hb_put(&b, x.cfin.p, 10 + r[0].len + r[1].len); /* CKE, CCS */
        else
            put_record(&b, 20, 0x0303, "\1", 1);
        k12_seal(&k, &b, 23, "early", 5, T_NONE, 0);
        feed(v, &b);
        hb_clear(&b);
        assert_int_equal(tlsv_conn_read(v, rb, sizeof rb), -1);
        expect_fail_local(v, at_server ? &x.sview : &x.cview, TLSV_R_UNEXPECTED_MESSAGE,
                          TLSV_ALERT_UNEXPECTED_MESSAGE);
        k12_free(&k);
        scene_free(&x);
    }
    hb_free(&b);
}

/* ---------------------------------------------------------------------- */
/* A peer that stops                                                       */
/* ---------------------------------------------------------------------- */

static void test_eof_mid_handshake(void **state)
{
    (void)state;
    for (int max = 0; max <= TLSV_VERSION_TLSv1_2; max += TLSV_VERSION_TLSv1_2) {
        /* the server, after its flight, waiting for the client's */
        scene x;
        scene_start(&x, max, max ? GCM : NULL);
        tlsv_conn_feed_eof(x.s);
        assert_int_equal(tlsv_conn_handshake(x.s), -1);
        expect_fail_quiet(x.s, TLSV_R_UNEXPECTED_EOF_WHILE_READING, TLSV_ALERT_NONE,
                          TLSV_SIDE_REMOTE);
        scene_free(&x);
        /* the client, with a part of the server's flight */
        scene_start(&x, max, max ? GCM : NULL);
        assert_int_equal(tlsv_conn_feed(x.c, x.flight.p, x.flight.n - 10), 0);
        assert_int_equal(tlsv_conn_handshake(x.c), TLSV_WANT_READ);
        assert_int_equal(tlsv_conn_pending_output(x.c), 0);
        tlsv_conn_feed_eof(x.c);
        assert_int_equal(tlsv_conn_handshake(x.c), -1);
        expect_fail_quiet(x.c, TLSV_R_UNEXPECTED_EOF_WHILE_READING, TLSV_ALERT_NONE,
                          TLSV_SIDE_REMOTE);
        scene_free(&x);
        /* a close_notify in the middle of the handshake is no better */
        scene_start(&x, max, max ? GCM : NULL);
        static const uint8_t cn[] = {21, 3, 3, 0, 2, 1, 0};
        assert_int_equal(tlsv_conn_feed(x.s, cn, sizeof cn), 0);
        /* (a TLS 1.3 server has its handshake read keys by now; a plaintext
         * alert is still read, as from a peer that failed early) */
        assert_int_equal(tlsv_conn_handshake(x.s), -1);
        expect_fail_quiet(x.s, TLSV_R_UNEXPECTED_EOF_WHILE_READING, TLSV_ALERT_NONE,
                          TLSV_SIDE_REMOTE);
        scene_free(&x);
    }
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A silent peer on a non-blocking socket: tlsv returns WANT_READ, never
 * blocks and never fails; poll() times out; the handshake goes on when the
 * bytes come, and an EOF is reported as such. (tlsv has no timeout of its
 * own: the application's poll() is the timer.) */
static void test_silent_peer_nonblocking(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK), 0);
    tlsv_ctx *sc = hs_ctx(0, 0, NULL, NULL);
    tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
    assert_int_equal(tlsv_conn_set_fd(s, sv[0]), 0);
    hbuf ch = {0}, rec = {0};
    ch_opts o = {0};
    build_ch(&ch, &o);
    put_record(&rec, 22, 0x0301, ch.p, ch.n);
    /* half a ClientHello, then nothing */
    assert_int_equal(write(sv[1], rec.p, 50), 50);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
        struct pollfd p = {.fd = sv[0], .events = POLLIN};
        assert_int_equal(poll(&p, 1, 30), 0); /* the timeout expires */
    }
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    assert_true(ms_since(&t0) < 5000);
    assert_int_equal(tlsv_conn_last_error(s)->reason, TLSV_R_OK);
    /* the rest arrives: the server answers on the socket */
    assert_int_equal(write(sv[1], rec.p + 50, rec.n - 50), (ssize_t)(rec.n - 50));
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    uint8_t buf[4096];
    ssize_t n = read(sv[1], buf, sizeof buf);
    assert_true(n > 100);
    assert_int_equal(buf[0], 22);
    assert_int_equal(buf[5], TLSV_HS_SERVER_HELLO);
    /* then the peer goes away */
    close(sv[1]);
    assert_int_equal(tlsv_conn_handshake(s), -1);
    expect_err(s, TLSV_R_UNEXPECTED_EOF_WHILE_READING, TLSV_ALERT_NONE, TLSV_SIDE_REMOTE);
    assert_int_equal(tlsv_conn_handshake(s), -1);
    tlsv_conn_free(s);
    close(sv[0]);

    /* a client whose server never answers */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK), 0);
    tlsv_ctx *cc = hc_ctx(0, 0, NULL, NULL);
    tlsv_conn *c = h_conn(cc, TLSV_ROLE_CLIENT);
    assert_int_equal(tlsv_conn_set_fd(c, sv[0]), 0);
    assert_int_equal(tlsv_conn_handshake(c), TLSV_WANT_READ);
    n = read(sv[1], buf, sizeof buf);
    assert_true(n > 100); /* its ClientHello */
    struct pollfd p = {.fd = sv[0], .events = POLLIN};
    assert_int_equal(poll(&p, 1, 30), 0);
    assert_int_equal(tlsv_conn_handshake(c), TLSV_WANT_READ);
    assert_int_equal(tlsv_conn_read(c, buf, sizeof buf), TLSV_WANT_READ);
    close(sv[1]);
    assert_int_equal(tlsv_conn_handshake(c), -1);
    expect_err(c, TLSV_R_UNEXPECTED_EOF_WHILE_READING, TLSV_ALERT_NONE, TLSV_SIDE_REMOTE);
    tlsv_conn_free(c);
    close(sv[0]);
    tlsv_ctx_free(cc);
    hb_free(&ch);
    hb_free(&rec);
    tlsv_ctx_free(sc);
}

/* ---------------------------------------------------------------------- */
/* Limits                                                                  */
/* ---------------------------------------------------------------------- */

/* A Certificate message holding the leaf of `orig` then n - 1 copies of the
 * CA certificate (TLS 1.3 form: context and entry extensions). */
static void cert_msg(hbuf *out, const hmsg *orig, bool tls13, size_t n)
{
    const uint8_t *p = orig->p + 4;
    if (tls13)
        p += 1 + p[0];
    p += 3;
    size_t leaf_len = get24(p);
    const uint8_t *leaf = p + 3;
    uint8_t *ca = NULL;
    int ca_len = i2d_X509(testpki_ca_cert, &ca);
    assert_true(ca_len > 0);
    hbuf list = {0};
    for (size_t i = 0; i < n; i++) {
        size_t l = i == 0 ? leaf_len : (size_t)ca_len;
        hb_u24(&list, (unsigned)l);
        hb_put(&list, i == 0 ? leaf : ca, l);
        if (tls13)
            hb_u16(&list, 0);
    }
    OPENSSL_free(ca);
    hb_u8(out, TLSV_HS_CERTIFICATE);
    hb_u24(out, (unsigned)(list.n + 3 + (tls13 ? 1 : 0)));
    if (tls13)
        hb_u8(out, 0);
    hb_u24(out, (unsigned)list.n);
    hb_put(out, list.p, list.n);
    hb_free(&list);
}

/* TLSV_MSG_MAX_CERTS certificates pass; one more is TOO_MANY_CERTIFICATES,
 * certificate_unknown. */
static void test_certificate_chain_limit(void **state)
{
    (void)state;
    for (size_t n = TLSV_MSG_MAX_CERTS; n <= TLSV_MSG_MAX_CERTS + 1; n++) {
        /* TLS 1.2: the server's (plaintext) Certificate */
        scene x;
        scene_start(&x, TLSV_VERSION_TLSv1_2, GCM);
        hmsg m[8];
        size_t nm = split_messages(x.sh.p, x.sh.n, m, 8);
        assert_int_equal(m[1].type, TLSV_HS_CERTIFICATE);
        hbuf msgs = {0}, f = {0};
        hb_put(&msgs, m[0].p, m[0].n);
        cert_msg(&msgs, &m[1], false, n);
        for (size_t i = 2; i < nm; i++)
            hb_put(&msgs, m[i].p, m[i].n);
        put_fragmented(&f, 22, 0x0303, msgs.p, msgs.n, 16384);
        feed(x.c, &f);
        if (n == TLSV_MSG_MAX_CERTS) {
            /* accepted: the client verifies the chain and sends its flight */
            assert_int_equal(tlsv_conn_handshake(x.c), TLSV_WANT_READ);
            assert_int_equal(tlsv_conn_peer_cert_count(x.c), TLSV_MSG_MAX_CERTS);
            assert_true(tlsv_conn_pending_output(x.c) > 0);
        } else {
            assert_int_equal(tlsv_conn_handshake(x.c), -1);
            expect_fail_local(x.c, &x.cview, TLSV_R_TOO_MANY_CERTIFICATES,
                              TLSV_ALERT_CERTIFICATE_UNKNOWN);
        }
        hb_free(&msgs);
        hb_free(&f);
        scene_free(&x);

        /* TLS 1.3: the server's protected Certificate */
        scene_start(&x, 0, NULL);
        nm = split_messages(x.shs.p, x.shs.n, m, 8);
        assert_int_equal(m[1].type, TLSV_HS_CERTIFICATE);
        hb_put(&msgs, m[0].p, m[0].n);
        cert_msg(&msgs, &m[1], true, n);
        for (size_t i = 2; i < nm; i++)
            hb_put(&msgs, m[i].p, m[i].n);
        scene_flight13(&x, x.sh.p, x.sh.n, msgs.p, msgs.n, 16384, &f);
        feed(x.c, &f);
        assert_int_equal(tlsv_conn_handshake(x.c), -1);
        if (n == TLSV_MSG_MAX_CERTS) /* accepted; the signature then covers other bytes */
            expect_fail_local(x.c, &x.cview, TLSV_R_BAD_SIGNATURE, TLSV_ALERT_DECRYPT_ERROR);
        else
            expect_fail_local(x.c, &x.cview, TLSV_R_TOO_MANY_CERTIFICATES,
                              TLSV_ALERT_CERTIFICATE_UNKNOWN);
        hb_free(&msgs);
        hb_free(&f);
        scene_free(&x);
    }
}

/* A copy of the TLS 1.3 Certificate `orig` whose first entry carries one
 * extension of `type` with an empty body. */
static void cert_msg_with_entry_ext(hbuf *out, const hmsg *orig, uint16_t type)
{
    const uint8_t *body = orig->p + 4;
    size_t ctx = 1 + body[0];
    const uint8_t *list = body + ctx + 3;
    size_t list_len = get24(body + ctx);
    size_t leaf = 3 + get24(list);     /* cert_data of entry 0 */
    size_t ext_len = get16(list + leaf); /* its extensions */
    hbuf l = {0};
    hb_put(&l, list, leaf);
    hb_u16(&l, (unsigned)(ext_len + 4));
    hb_put(&l, list + leaf + 2, ext_len);
    hb_u16(&l, type);
    hb_u16(&l, 0);
    hb_put(&l, list + leaf + 2 + ext_len, list_len - leaf - 2 - ext_len);
    hb_u8(out, TLSV_HS_CERTIFICATE);
    hb_u24(out, (unsigned)(ctx + 3 + l.n));
    hb_put(out, body, ctx);
    hb_u24(out, (unsigned)l.n);
    hb_put(out, l.p, l.n);
    hb_free(&l);
}

/* RFC 8446 §4.4.2: the extensions of a server's CertificateEntry answer
 * ones of the ClientHello; the tlsv client requests none, so a
 * status_request (OCSP), a signed_certificate_timestamp or an unknown one
 * there is unsolicited: unsupported_extension (§4.2). Found by BoGo's
 * SendUnsolicited{OCSP,SCT}OnCertificate-TLS13 and
 * SendUnknownExtensionOnCertificate-TLS13. */
static void test_unsolicited_certificate_entry_extensions(void **state)
{
    (void)state;
    static const uint16_t types[] = {5, 18, 0xff42};
    for (size_t t = 0; t < 3; t++) {
        scene x;
        scene_start(&x, 0, NULL);
        hmsg m[8];
        size_t nm = split_messages(x.shs.p, x.shs.n, m, 8);
        assert_int_equal(m[1].type, TLSV_HS_CERTIFICATE);
        hbuf msgs = {0}, f = {0};
        hb_put(&msgs, m[0].p, m[0].n);
        cert_msg_with_entry_ext(&msgs, &m[1], types[t]);
        for (size_t i = 2; i < nm; i++)
            hb_put(&msgs, m[i].p, m[i].n);
        scene_flight13(&x, x.sh.p, x.sh.n, msgs.p, msgs.n, 16384, &f);
        feed(x.c, &f);
        assert_int_equal(tlsv_conn_handshake(x.c), -1);
        expect_fail_local(x.c, &x.cview, TLSV_R_UNSOLICITED_EXTENSION,
                          TLSV_ALERT_UNSUPPORTED_EXTENSION);
        hb_free(&msgs);
        hb_free(&f);
        scene_free(&x);
    }
}

/* TLS 1.3 KeyUpdate (RFC 8446 §4.6.3): TLSV_MAX_KEY_UPDATES_IN_ROW of them
 * without data in between pass, one more is TOO_MANY_WARN_ALERTS /
 * unexpected_message; a bad request_update is illegal_parameter, a bad
 * length decode_error. */
static void test_key_update_limit(void **state)
{
    (void)state;
    static const uint8_t ku[5] = {TLSV_HS_KEY_UPDATE, 0, 0, 1, 0};
    for (int at_server = 0; at_server < 2; at_server++) {
        scene x;
        scene_start(&x, 0, NULL);
        scene_finish(&x, NULL);
        tlsv_conn *v = at_server ? x.s : x.c;
        hview *vv = at_server ? &x.sview : &x.cview;
        k13 k;
        k13_init(&k, at_server ? x.skeys.c_ap : x.skeys.s_ap, x.skeys.slen);
        hbuf b = {0};
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < TLSV_MAX_KEY_UPDATES_IN_ROW; i++) {
                k13_seal(&k, &b, 22, ku, sizeof ku, 0, false);
                k13_update(&k);
            }
            feed(v, &b);
            hb_clear(&b);
            expect_want_read(v);
            assert_int_equal(tlsv_conn_pending_output(v), 0);
            k13_seal(&k, &b, 23, "fresh", 5, 0, false);
            feed(v, &b);
            hb_clear(&b);
            expect_read(v, "fresh", 5);
        }
        for (int i = 0; i <= TLSV_MAX_KEY_UPDATES_IN_ROW; i++) {
            k13_seal(&k, &b, 22, ku, sizeof ku, 0, false);
            k13_update(&k);
        }
        feed(v, &b);
        uint8_t rb[16];
        assert_int_equal(tlsv_conn_read(v, rb, sizeof rb), -1);
        expect_fail_local(v, vv, TLSV_R_TOO_MANY_WARN_ALERTS, TLSV_ALERT_UNEXPECTED_MESSAGE);
        hb_free(&b);
        k13_free(&k);
        scene_free(&x);
    }
    static const uint8_t ku2[5] = {TLSV_HS_KEY_UPDATE, 0, 0, 1, 2};
    static const uint8_t ku_long[6] = {TLSV_HS_KEY_UPDATE, 0, 0, 2, 0, 0};
    for (int bad = 0; bad < 2; bad++) {
        scene x;
        scene_start(&x, 0, NULL);
        scene_finish(&x, NULL);
        k13 k;
        k13_init(&k, x.skeys.s_ap, x.skeys.slen);
        hbuf b = {0};
        k13_seal(&k, &b, 22, bad ? ku_long : ku2, bad ? 6 : 5, 0, false);
        feed(x.c, &b);
        uint8_t rb[16];
        assert_int_equal(tlsv_conn_read(x.c, rb, sizeof rb), -1);
        expect_fail_local(x.c, &x.cview, bad ? TLSV_R_DECODE_ERROR : TLSV_R_ILLEGAL_PARAMETER,
                          bad ? TLSV_ALERT_DECODE_ERROR : TLSV_ALERT_ILLEGAL_PARAMETER);
        hb_free(&b);
        k13_free(&k);
        scene_free(&x);
    }
}

/* A handshake message announced over TLSV_MAX_HANDSHAKE_MESSAGE at a
 * client (the ClientHello case is in test_hostile_hello.c). */
static void test_handshake_message_limit_client(void **state)
{
    (void)state;
    for (int max = 0; max <= TLSV_VERSION_TLSv1_2; max += TLSV_VERSION_TLSv1_2) {
        scene x;
        scene_start(&x, max, max ? GCM : NULL);
        hbuf b = {0};
        uint8_t hdr[4] = {TLSV_HS_CERTIFICATE, 0, 0, 0};
        set24(hdr + 1, TLSV_MAX_HANDSHAKE_MESSAGE + 1);
        if (max) {
            hbuf msgs = {0};
            size_t first = 4 + get24(x.sh.p + 1); /* the ServerHello */
            hb_put(&msgs, x.sh.p, first);
            hb_put(&msgs, hdr, 4);
            put_record(&b, 22, 0x0303, msgs.p, msgs.n);
            hb_free(&msgs);
        } else {
            hbuf msgs = {0};
            size_t first = 4 + get24(x.shs.p + 1); /* EncryptedExtensions */
            hb_put(&msgs, x.shs.p, first);
            hb_put(&msgs, hdr, 4);
            scene_flight13(&x, x.sh.p, x.sh.n, msgs.p, msgs.n, 16384, &b);
            hb_free(&msgs);
        }
        feed(x.c, &b);
        assert_int_equal(tlsv_conn_handshake(x.c), -1);
        expect_fail_local(x.c, &x.cview, TLSV_R_EXCESSIVE_MESSAGE_SIZE,
                          TLSV_ALERT_ILLEGAL_PARAMETER);
        hb_free(&b);
        scene_free(&x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_renegotiation_tls12),
        cmocka_unit_test(test_renegotiation_tls13),
        cmocka_unit_test(test_early_ccs_tls12),
        cmocka_unit_test(test_early_ccs_tls13),
        cmocka_unit_test(test_app_data_before_finished),
        cmocka_unit_test(test_eof_mid_handshake),
        cmocka_unit_test(test_silent_peer_nonblocking),
        cmocka_unit_test(test_certificate_chain_limit),
        cmocka_unit_test(test_unsolicited_certificate_entry_extensions),
        cmocka_unit_test(test_key_update_limit),
        cmocka_unit_test(test_handshake_message_limit_client),
    };
    return cmocka_run_group_tests(tests, hostile_setup, hostile_teardown);
}
