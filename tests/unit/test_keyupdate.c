/*
 * test_keyupdate.c -- TLS 1.3 KeyUpdate in both directions (RFC 8446
 * §4.6.3, §5.5, §7.2), tlsv client <-> tlsv server in memory.
 *
 * What each side sends and receives is counted from the trace callback
 * (one line per KeyUpdate message, with its request_update); that the keys
 * really changed is shown by the data still flowing, by the record layer's
 * sequence numbers restarting, and by records sealed by hand (hostile.h,
 * from the key log's traffic secrets): one under the next generation of the
 * secret is accepted, one under the old generation is bad_record_mac.
 */
#include "hostile.h"

/* KeyUpdate messages seen by one context's connection, from its trace. */
typedef struct kucount {
    int sent_req, sent_noreq, recv_req, recv_noreq;
    int not_answered; /* requests met with "no second update" */
} kucount;

static void ku_trace(const tlsv_conn *conn, int dir, const char *text, void *arg)
{
    (void)conn;
    kucount *k = arg;
    if (dir == -1 && strstr(text, "no second update"))
        k->not_answered++;
    if (strncmp(text, "KeyUpdate", 9) != 0)
        return;
    bool req = strstr(text, "update_requested") && !strstr(text, "update_not_requested");
    if (dir == 1)
        (req ? &k->sent_req : &k->sent_noreq)[0]++;
    else if (dir == 0)
        (req ? &k->recv_req : &k->recv_noreq)[0]++;
}

typedef struct pairx {
    tlsv_ctx *cc, *sc;
    tlsv_conn *c, *s;
    hkeys ckeys, skeys;
    kucount cn, sn; /* the client's, the server's */
} pairx;

static void pair_start(pairx *p, int max, const char *suites13)
{
    memset(p, 0, sizeof *p);
    p->sc = hs_ctx(0, max, NULL, &p->skeys);
    p->cc = hc_ctx(0, max, NULL, &p->ckeys);
    if (suites13) {
        assert_int_equal(tlsv_ctx_set_ciphersuites(p->sc, suites13), 0);
        assert_int_equal(tlsv_ctx_set_ciphersuites(p->cc, suites13), 0);
    }
    tlsv_ctx_set_trace_callback(p->sc, ku_trace, &p->sn);
    tlsv_ctx_set_trace_callback(p->cc, ku_trace, &p->cn);
    p->c = h_conn(p->cc, TLSV_ROLE_CLIENT);
    p->s = h_conn(p->sc, TLSV_ROLE_SERVER);
    h_handshake(p->c, p->s);
}

static void pair_free(pairx *p)
{
    tlsv_conn_free(p->c);
    tlsv_conn_free(p->s);
    tlsv_ctx_free(p->cc);
    tlsv_ctx_free(p->sc);
}

/* from writes `n` patterned bytes, to reads them intact. */
static void send_data(tlsv_conn *from, tlsv_conn *to, size_t n, unsigned seed)
{
    uint8_t *d = malloc(n);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)(i * 31 + seed);
    assert_int_equal(tlsv_conn_write(from, d, n), (long)n);
    h_move(from, to);
    expect_read(to, d, n);
    free(d);
}

static void both_ways(pairx *p, size_t n, unsigned seed)
{
    send_data(p->c, p->s, n, seed);
    send_data(p->s, p->c, n, seed + 1);
}

static int setup(void **state)
{
    return hostile_setup(state);
}

static int teardown(void **state)
{
    return hostile_teardown(state);
}

/* One side updates, with or without requesting the peer's update: the
 * peer answers exactly once when asked, never otherwise; data flows on in
 * both directions; the sequence numbers restart under the new keys. */
static void one_side(bool server, bool request)
{
    pairx p;
    pair_start(&p, 0, NULL);
    both_ways(&p, 100, 1);
    tlsv_conn *me = server ? p.s : p.c, *peer = server ? p.c : p.s;
    kucount *mine = server ? &p.sn : &p.cn, *theirs = server ? &p.cn : &p.sn;
    uint64_t seq_before = tlsv_conn_engine(me)->wr.seq;
    assert_true(seq_before > 0);
    assert_int_equal(tlsv_conn_key_update(me, request), 0);
    assert_int_equal(tlsv_conn_engine(me)->wr.seq, 0); /* new keys, nothing sealed yet */
    assert_true(tlsv_conn_pending_output(me) > 0);     /* the KeyUpdate, under the old keys */
    assert_int_equal(mine->sent_req + mine->sent_noreq, 1);
    assert_int_equal(mine->sent_req, request ? 1 : 0);

    send_data(me, peer, 5000, 7); /* the peer reads across the key change */
    assert_int_equal(theirs->recv_req + theirs->recv_noreq, 1);
    assert_int_equal(tlsv_conn_engine(peer)->rd.seq, 1); /* one data record under new keys */
    assert_int_equal(theirs->sent_noreq, request ? 1 : 0);
    assert_int_equal(theirs->sent_req, 0);

    send_data(peer, me, 5000, 9); /* the answer comes first, then the data */
    assert_int_equal(mine->recv_noreq, request ? 1 : 0);
    assert_int_equal(mine->recv_req, 0);
    both_ways(&p, 40000, 3);
    /* nothing more was sent about keys */
    assert_int_equal(mine->sent_req + mine->sent_noreq, 1);
    assert_int_equal(theirs->sent_req + theirs->sent_noreq, request ? 1 : 0);
    pair_free(&p);
}

static void test_client_update(void **state)
{
    (void)state;
    one_side(false, false);
    one_side(false, true);
}

static void test_server_update(void **state)
{
    (void)state;
    one_side(true, false);
    one_side(true, true);
}

/* Both sides update at once and the messages cross. With requests, neither
 * answers the other's: each side's write keys changed after its last data
 * already (one generation each, not two). */
static void test_crossing(void **state)
{
    (void)state;
    for (int request = 0; request < 2; request++) {
        pairx p;
        pair_start(&p, 0, NULL);
        both_ways(&p, 10, 1);
        assert_int_equal(tlsv_conn_key_update(p.c, request), 0);
        assert_int_equal(tlsv_conn_key_update(p.s, request), 0);
        h_move(p.c, p.s);
        h_move(p.s, p.c);
        expect_want_read(p.c);
        expect_want_read(p.s);
        assert_int_equal(tlsv_conn_pending_output(p.c), 0);
        assert_int_equal(tlsv_conn_pending_output(p.s), 0);
        assert_int_equal(p.cn.not_answered, request);
        assert_int_equal(p.sn.not_answered, request);
        both_ways(&p, 20000, 5);
        assert_int_equal(p.cn.sent_req + p.cn.sent_noreq, 1);
        assert_int_equal(p.sn.sent_req + p.sn.sent_noreq, 1);
        assert_int_equal(p.cn.recv_req + p.cn.recv_noreq, 1);
        assert_int_equal(p.sn.recv_req + p.sn.recv_noreq, 1);
        pair_free(&p);
    }
}

/* A request that arrives after our own update and before our next data is
 * not answered; after data, the next request is. */
static void test_request_after_own_update(void **state)
{
    (void)state;
    pairx p;
    pair_start(&p, 0, NULL);
    assert_int_equal(tlsv_conn_key_update(p.s, 0), 0);
    h_move(p.s, p.c);
    assert_int_equal(tlsv_conn_key_update(p.c, 1), 0);
    h_move(p.c, p.s);
    expect_want_read(p.s);
    assert_int_equal(tlsv_conn_pending_output(p.s), 0);
    assert_int_equal(p.sn.not_answered, 1);
    send_data(p.s, p.c, 10, 1);
    assert_int_equal(tlsv_conn_key_update(p.c, 1), 0);
    h_move(p.c, p.s);
    expect_want_read(p.s);
    assert_true(tlsv_conn_pending_output(p.s) > 0); /* the answer */
    both_ways(&p, 100, 2);
    assert_int_equal(p.sn.sent_noreq, 2);
    assert_int_equal(p.cn.recv_noreq, 2);
    pair_free(&p);
}

/* Many updates, every kind, with data of every size between: intact. */
static void test_many_updates(void **state)
{
    (void)state;
    static const char *suites[] = {NULL, "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"};
    for (size_t s = 0; s < 3; s++) {
        pairx p;
        pair_start(&p, 0, suites[s]);
        for (int i = 0; i < 120; i++) {
            tlsv_conn *who = (i & 1) ? p.s : p.c;
            assert_int_equal(tlsv_conn_key_update(who, (i >> 1) & 1), 0);
            if (i % 7 == 3) /* two in a row */
                assert_int_equal(tlsv_conn_key_update(who, 0), 0);
            size_t n = (size_t)(1 + (i * 977) % 40000);
            if (i & 2)
                send_data(p.s, p.c, n, (unsigned)i);
            else
                send_data(p.c, p.s, n, (unsigned)i);
            both_ways(&p, 17, (unsigned)i);
        }
        int total = p.cn.sent_req + p.cn.sent_noreq + p.sn.sent_req + p.sn.sent_noreq;
        assert_true(total >= 120 + 17);
        assert_int_equal(p.cn.sent_req + p.cn.sent_noreq, p.sn.recv_req + p.sn.recv_noreq);
        assert_int_equal(p.sn.sent_req + p.sn.sent_noreq, p.cn.recv_req + p.cn.recv_noreq);
        pair_free(&p);
    }
}

/* Our own updates without data between: a tlsv peer takes
 * TLSV_MAX_KEY_UPDATES_IN_ROW of them (the hostile tests show one more is
 * TOO_MANY_WARN_ALERTS). */
static void test_updates_in_row(void **state)
{
    (void)state;
    pairx p;
    pair_start(&p, 0, NULL);
    for (int i = 0; i < TLSV_MAX_KEY_UPDATES_IN_ROW; i++)
        assert_int_equal(tlsv_conn_key_update(p.c, 0), 0);
    send_data(p.c, p.s, 100, 1);
    assert_int_equal(p.sn.recv_noreq, TLSV_MAX_KEY_UPDATES_IN_ROW);
    both_ways(&p, 100, 2);
    pair_free(&p);
}

/* update_requested answered without application data from the peer in
 * between: TLSV_MAX_KEY_UPDATES_IN_ROW answers pass, the next request is
 * TOO_MANY_WARN_ALERTS; data from the peer resets the count. */
static void test_answer_limit(void **state)
{
    (void)state;
    for (int reset = 0; reset < 2; reset++) {
        pairx p;
        pair_start(&p, 0, NULL);
        int rounds = reset ? 3 * TLSV_MAX_KEY_UPDATES_IN_ROW : TLSV_MAX_KEY_UPDATES_IN_ROW;
        for (int i = 0; i < rounds; i++) {
            assert_int_equal(tlsv_conn_key_update(p.c, 1), 0);
            h_move(p.c, p.s);
            expect_want_read(p.s);   /* takes the request, answers it */
            send_data(p.s, p.c, 3, (unsigned)i); /* so the next one is answered too */
            if (reset && i % 10 == 9)
                send_data(p.c, p.s, 3, (unsigned)i);
        }
        assert_int_equal(p.sn.sent_noreq, rounds);
        if (!reset) {
            assert_int_equal(tlsv_conn_key_update(p.c, 1), 0);
            h_move(p.c, p.s);
            uint8_t b[16];
            assert_int_equal(tlsv_conn_read(p.s, b, sizeof b), -1);
            expect_err(p.s, TLSV_R_TOO_MANY_WARN_ALERTS, TLSV_ALERT_UNEXPECTED_MESSAGE,
                       TLSV_SIDE_LOCAL);
            assert_non_null(strstr(tlsv_conn_last_error(p.s)->message, "answered"));
        } else {
            both_ways(&p, 100, 1);
        }
        pair_free(&p);
    }
}

/* The automatic update (RFC 8446 §5.5), with the threshold lowered to 3
 * records: a KeyUpdate (update_not_requested) precedes every 4th record of
 * a key, inside one large write too; the peer reads everything. */
static void test_automatic(void **state)
{
    (void)state;
    static const char *suites[] = {NULL, "TLS_CHACHA20_POLY1305_SHA256"};
    for (size_t s = 0; s < 2; s++) {
        for (int server = 0; server < 2; server++) {
            pairx p;
            pair_start(&p, 0, suites[s]);
            tlsv_conn *me = server ? p.s : p.c, *peer = server ? p.c : p.s;
            kucount *mine = server ? &p.sn : &p.cn, *theirs = server ? &p.cn : &p.sn;
            tlsv_engine *e = tlsv_conn_engine(me);
            tlsv_engine_set_ku_threshold(e, 3);
            uint64_t before = e->wr.records; /* server: its tickets, if any */
            assert_int_equal(before, 0);
            for (int i = 0; i < 10; i++) /* one record each */
                send_data(me, peer, 100, (unsigned)i);
            /* records 1-3, KU, 4-6, KU, 7-9, KU, 10 */
            assert_int_equal(mine->sent_noreq, 3);
            assert_int_equal(mine->sent_req, 0);
            assert_int_equal(theirs->recv_noreq, 3);
            assert_int_equal(theirs->sent_req + theirs->sent_noreq, 0); /* not answered */
            assert_int_equal(e->wr.records, 1);
            /* one write of 10 full records: three more updates inside it */
            send_data(me, peer, 10 * 16384, 5);
            assert_int_equal(mine->sent_noreq, 6);
            assert_int_equal(theirs->recv_noreq, 6);
            assert_int_equal(e->wr.records, 2);
            both_ways(&p, 1000, 9);
            /* the default is back with 0 */
            tlsv_engine_set_ku_threshold(e, 0);
            assert_true(e->ku_threshold == TLSV_KEY_UPDATE_AFTER_RECORDS);
            for (int i = 0; i < 5; i++)
                send_data(me, peer, 10, (unsigned)i);
            assert_int_equal(mine->sent_noreq, 6);
            pair_free(&p);
        }
    }
}

/* The keys really change: after the client's KeyUpdate, a record the
 * "client" seals by hand under the next generation of its traffic secret
 * (HKDF-Expand-Label(secret, "traffic upd", "", 32)) from sequence number 0
 * is read; one sealed under the old secret at the right sequence number is
 * bad_record_mac. */
static void test_old_key_rejected(void **state)
{
    (void)state;
    pairx p;
    pair_start(&p, 0, NULL);
    assert_int_equal(p.skeys.slen, 32);
    send_data(p.c, p.s, 10, 1);
    assert_int_equal(tlsv_conn_key_update(p.c, 0), 0);
    h_move(p.c, p.s);
    expect_want_read(p.s);
    k13 next;
    k13_init(&next, p.skeys.c_ap, p.skeys.slen);
    k13_update(&next);
    hbuf b = {0};
    k13_seal(&next, &b, 23, "fresh", 5, 0, false);
    feed(p.s, &b);
    expect_read(p.s, "fresh", 5);
    hb_clear(&b);
    k13 old;
    k13_init(&old, p.skeys.c_ap, p.skeys.slen);
    old.seq = 1; /* where the server now is, under the new key */
    k13_seal(&old, &b, 23, "stale", 5, 0, false);
    feed(p.s, &b);
    uint8_t rb[16];
    assert_int_equal(tlsv_conn_read(p.s, rb, sizeof rb), -1);
    expect_err(p.s, TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC, TLSV_ALERT_BAD_RECORD_MAC,
               TLSV_SIDE_LOCAL);
    hb_free(&b);
    k13_free(&next);
    k13_free(&old);
    pair_free(&p);
}

/* Refused: before the handshake, on TLS 1.2, after shutdown. The
 * connection is unchanged by the refusal. */
static void test_refused(void **state)
{
    (void)state;
    tlsv_ctx *sc = hs_ctx(0, 0, NULL, NULL), *cc = hc_ctx(0, 0, NULL, NULL);
    tlsv_conn *c = h_conn(cc, TLSV_ROLE_CLIENT), *s = h_conn(sc, TLSV_ROLE_SERVER);
    assert_int_equal(tlsv_conn_key_update(c, 1), -1);
    expect_err(c, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL);
    assert_non_null(strstr(tlsv_conn_last_error(c)->message, "handshake is not complete"));
    assert_int_equal(tlsv_conn_pending_output(c), 0);
    assert_int_equal(tlsv_conn_key_update(NULL, 0), -1);
    h_handshake(c, s); /* the refusal did not hurt */
    send_data(c, s, 10, 1);
    assert_int_equal(tlsv_conn_key_update(c, 0), 0);
    assert_int_equal(tlsv_conn_last_error(c)->reason, TLSV_R_OK); /* cleared on success */
    send_data(c, s, 10, 1);
    /* after our close_notify */
    assert_int_equal(tlsv_conn_shutdown(c), 1);
    assert_int_equal(tlsv_conn_key_update(c, 0), -1);
    expect_err(c, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL);
    assert_non_null(strstr(tlsv_conn_last_error(c)->message, "close_notify"));
    /* a peer that has closed its side may still update (half-close) */
    h_move(c, s);
    uint8_t rb[4];
    assert_int_equal(tlsv_conn_read(s, rb, sizeof rb), 0);
    assert_int_equal(tlsv_conn_key_update(s, 1), 0);
    assert_int_equal(tlsv_conn_write(s, "late", 4), 4);
    h_move(s, c);
    expect_read(c, "late", 4); /* the request is not answered: c has closed */
    assert_int_equal(tlsv_conn_pending_output(c), 0);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);

    /* TLS 1.2 */
    sc = hs_ctx(0, TLSV_VERSION_TLSv1_2, NULL, NULL);
    cc = hc_ctx(0, 0, NULL, NULL);
    c = h_conn(cc, TLSV_ROLE_CLIENT);
    s = h_conn(sc, TLSV_ROLE_SERVER);
    h_handshake(c, s);
    assert_int_equal(tlsv_conn_version_number(c), TLSV_VERSION_TLSv1_2);
    for (int side = 0; side < 2; side++) {
        tlsv_conn *x = side ? s : c;
        assert_int_equal(tlsv_conn_key_update(x, side), -1);
        expect_err(x, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL);
        assert_non_null(strstr(tlsv_conn_last_error(x)->message, "only in TLS 1.3"));
        assert_int_equal(tlsv_conn_pending_output(x), 0);
    }
    send_data(c, s, 100, 1);
    send_data(s, c, 100, 2);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_update),
        cmocka_unit_test(test_server_update),
        cmocka_unit_test(test_crossing),
        cmocka_unit_test(test_request_after_own_update),
        cmocka_unit_test(test_many_updates),
        cmocka_unit_test(test_updates_in_row),
        cmocka_unit_test(test_answer_limit),
        cmocka_unit_test(test_automatic),
        cmocka_unit_test(test_old_key_rejected),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
