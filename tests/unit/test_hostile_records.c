/*
 * test_hostile_records.c -- hostile input at the record layer (issue #7):
 * truncated and oversized records, zero-length fragments, handshake
 * messages split over many records or interleaved with other content,
 * tampered CBC / AEAD records, alert floods. Every test asserts the alert
 * tlsv sends (decoded from what it writes), its error record (reason,
 * alert, side) and that the connection is dead afterwards.
 *
 * The hostile peer is hand-written (hostile.h): raw records fed to a real
 * tlsv connection in memory mode, sealed with keys taken from the key log.
 */
#include "hostile.h"

/* ---------------------------------------------------------------------- */
/* Truncated records                                                       */
/* ---------------------------------------------------------------------- */

/* A record header, or a header and part of a body, then EOF: the reason is
 * UNEXPECTED_EOF_WHILE_READING (side remote), no alert is written. */
static void test_truncated_then_eof(void **state)
{
    (void)state;
    tlsv_ctx *sc = hs_ctx(0, 0, NULL, NULL);
    hbuf ch = {0}, rec = {0};
    ch_opts o = {0};
    build_ch(&ch, &o);
    put_record(&rec, 22, 0x0301, ch.p, ch.n);
    size_t cuts[] = {3, 5, 6, rec.n / 2, rec.n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
        assert_int_equal(tlsv_conn_feed(s, rec.p, cuts[i]), 0);
        assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
        assert_int_equal(tlsv_conn_pending_output(s), 0);
        tlsv_conn_feed_eof(s);
        assert_int_equal(tlsv_conn_handshake(s), -1);
        expect_fail_quiet(s, TLSV_R_UNEXPECTED_EOF_WHILE_READING, TLSV_ALERT_NONE,
                          TLSV_SIDE_REMOTE);
        tlsv_conn_free(s);
    }
    /* nothing at all, then EOF */
    tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
    tlsv_conn_feed_eof(s);
    assert_int_equal(tlsv_conn_handshake(s), -1);
    expect_fail_quiet(s, TLSV_R_UNEXPECTED_EOF_WHILE_READING, TLSV_ALERT_NONE, TLSV_SIDE_REMOTE);
    tlsv_conn_free(s);
    hb_free(&ch);
    hb_free(&rec);
    tlsv_ctx_free(sc);

    /* the client side: the server's flight cut inside a record */
    for (int max = 0; max <= TLSV_VERSION_TLSv1_2; max += TLSV_VERSION_TLSv1_2) {
        scene x;
        scene_start(&x, max, max ? "ECDHE-ECDSA-AES128-GCM-SHA256" : NULL);
        assert_int_equal(tlsv_conn_feed(x.c, x.flight.p, x.flight.n - 7), 0);
        assert_int_equal(tlsv_conn_handshake(x.c), TLSV_WANT_READ);
        assert_int_equal(tlsv_conn_pending_output(x.c), 0);
        tlsv_conn_feed_eof(x.c);
        assert_int_equal(tlsv_conn_handshake(x.c), -1);
        expect_fail_quiet(x.c, TLSV_R_UNEXPECTED_EOF_WHILE_READING, TLSV_ALERT_NONE,
                          TLSV_SIDE_REMOTE);
        scene_free(&x);
    }
}

/* ---------------------------------------------------------------------- */
/* Oversized records                                                       */
/* ---------------------------------------------------------------------- */

/* A ClientHello whose message is exactly `total` bytes (header included),
 * padded with an unknown extension. */
static void ch_of_size(hbuf *out, size_t total)
{
    ch_opts o = {0};
    build_ch(out, &o);
    size_t off = ch_ext_off(out->p);
    assert_true(total >= out->n + 4);
    size_t pad = total - out->n - 4;
    uint8_t *z = calloc(1, pad + 1);
    msg_append_ext(out, off, 0xfe00, z, pad);
    free(z);
    assert_int_equal(out->n, total);
}

static void test_oversized_plaintext(void **state)
{
    (void)state;
    tlsv_ctx *sc = hs_ctx(0, 0, NULL, NULL);
    /* over 2^14 + 2048: refused on the header alone */
    tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
    uint8_t hdr[5] = {22, 3, 1, (uint8_t)(18433 >> 8), (uint8_t)18433};
    assert_int_equal(tlsv_conn_feed(s, hdr, 5), 0);
    assert_int_equal(tlsv_conn_handshake(s), -1);
    expect_fail_local(s, NULL, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW);
    tlsv_conn_free(s);
    /* a plaintext record of 2^14 + 1 bytes */
    hbuf ch = {0}, rec = {0};
    ch_of_size(&ch, 16385);
    put_record(&rec, 22, 0x0301, ch.p, ch.n);
    s = h_conn(sc, TLSV_ROLE_SERVER);
    feed(s, &rec);
    assert_int_equal(tlsv_conn_handshake(s), -1);
    expect_fail_local(s, NULL, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW);
    tlsv_conn_free(s);
    /* exactly 2^14: accepted, the server answers */
    hb_clear(&ch);
    hb_clear(&rec);
    ch_of_size(&ch, 16384);
    put_record(&rec, 22, 0x0301, ch.p, ch.n);
    s = h_conn(sc, TLSV_ROLE_SERVER);
    feed(s, &rec);
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    hbuf out = {0};
    take_all(s, &out);
    assert_true(out.n > 100);
    assert_int_equal(out.p[0], 22);
    assert_int_equal(out.p[5], TLSV_HS_SERVER_HELLO);
    hb_free(&out);
    tlsv_conn_free(s);
    hb_free(&ch);
    hb_free(&rec);
    tlsv_ctx_free(sc);
}

static void test_oversized_tls13(void **state)
{
    (void)state;
    static uint8_t big[16385];
    memset(big, 'b', sizeof big);
    for (int victim_server = 0; victim_server < 2; victim_server++) {
        /* over 2^14 + 256 under TLS 1.3 keys: refused on the header */
        scene x;
        scene_start(&x, 0, NULL);
        scene_finish(&x, NULL);
        tlsv_conn *v = victim_server ? x.s : x.c;
        hview *vv = victim_server ? &x.sview : &x.cview;
        uint8_t hdr[5] = {23, 3, 3, (uint8_t)(16641 >> 8), (uint8_t)16641};
        assert_int_equal(tlsv_conn_feed(v, hdr, 5), 0);
        assert_int_equal(tlsv_conn_read(v, big, sizeof big), -1);
        expect_fail_local(v, vv, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW);
        scene_free(&x);

        /* 2^14 bytes of content, the type, no padding: the largest
         * TLSInnerPlaintext (2^14 + 1, RFC 8446 §5.4) -- delivered; and 8192
         * bytes with 8192 of padding -- delivered */
        scene_start(&x, 0, NULL);
        scene_finish(&x, NULL);
        v = victim_server ? x.s : x.c;
        vv = victim_server ? &x.sview : &x.cview;
        k13 k;
        k13_init(&k, victim_server ? x.skeys.c_ap : x.skeys.s_ap, x.skeys.slen);
        hbuf b = {0};
        k13_seal(&k, &b, 23, big, 16384, 0, false);
        feed(v, &b);
        expect_read(v, big, 16384);
        hb_clear(&b);
        k13_seal(&k, &b, 23, big, 8192, 8192, false);
        feed(v, &b);
        expect_read(v, big, 8192);
        /* content of 2^14 + 1 bytes: record_overflow after decryption */
        hb_clear(&b);
        k13_seal(&k, &b, 23, big, 16385, 0, false);
        feed(v, &b);
        uint8_t rb[64];
        assert_int_equal(tlsv_conn_read(v, rb, sizeof rb), -1);
        expect_fail_local(v, vv, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW);
        hb_free(&b);
        k13_free(&k);
        scene_free(&x);

        /* padding does not lift the limit (RFC 8446 §5.4): 2^14 bytes with
         * one byte of padding, 8193 with 8192, 2^14 with 239 (a record of
         * exactly 2^14 + 256, within the header's limit) -- each a
         * record_overflow after decryption (found by BoGo's
         * LargePlaintext-TLS13-Padded-* tests) */
        static const size_t padded[3][2] = {{16384, 1}, {8193, 8192}, {16384, 239}};
        for (size_t i = 0; i < 3; i++) {
            scene_start(&x, 0, NULL);
            scene_finish(&x, NULL);
            v = victim_server ? x.s : x.c;
            vv = victim_server ? &x.sview : &x.cview;
            k13_init(&k, victim_server ? x.skeys.c_ap : x.skeys.s_ap, x.skeys.slen);
            hbuf pb = {0};
            k13_seal(&k, &pb, 23, big, padded[i][0], padded[i][1], false);
            feed(v, &pb);
            assert_int_equal(tlsv_conn_read(v, rb, sizeof rb), -1);
            expect_fail_local(v, vv, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW);
            hb_free(&pb);
            k13_free(&k);
            scene_free(&x);
        }
    }
}

static void test_oversized_tls12(void **state)
{
    (void)state;
    static uint8_t big[16385];
    memset(big, 'c', sizeof big);
    const char *suites[] = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA"};
    for (int i = 0; i < 2; i++) {
        tlsv_ctx *sc = hs_ctx(0, 0, suites[i], NULL);
        /* over 2^14 + 2048: refused on the header */
        tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
        h12 h;
        h12_connect(&h, s, TLSV_V_TLS12, suites[i], false, true);
        uint8_t hdr[5] = {23, 3, 3, (uint8_t)(18433 >> 8), (uint8_t)18433};
        assert_int_equal(tlsv_conn_feed(s, hdr, 5), 0);
        assert_int_equal(tlsv_conn_read(s, big, 16), -1);
        expect_fail_local(s, &h.view, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW);
        h12_free(&h);
        tlsv_conn_free(s);
        /* exactly 2^14 + 2048 passes the length check (and, not being
         * authentic -- no real record is that long -- fails the MAC) */
        s = h_conn(sc, TLSV_ROLE_SERVER);
        h12_connect(&h, s, TLSV_V_TLS12, suites[i], false, true);
        hbuf b = {0};
        uint8_t *junk = calloc(1, 18432);
        put_record(&b, 23, 0x0303, junk, 18432);
        free(junk);
        feed(s, &b);
        assert_int_equal(tlsv_conn_read(s, big, 16), -1);
        expect_fail_local(s, &h.view, TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC,
                          TLSV_ALERT_BAD_RECORD_MAC);
        h12_free(&h);
        tlsv_conn_free(s);
        /* authentic, but 2^14 + 1 bytes of plaintext */
        s = h_conn(sc, TLSV_ROLE_SERVER);
        h12_connect(&h, s, TLSV_V_TLS12, suites[i], false, true);
        h12_send(&h, s, 23, big, 16384, T_NONE);
        expect_read(s, big, 16384);
        h12_send(&h, s, 23, big, 16385, T_NONE);
        assert_int_equal(tlsv_conn_read(s, big, 16), -1);
        expect_fail_local(s, &h.view, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW);
        h12_free(&h);
        tlsv_conn_free(s);
        hb_free(&b);
        tlsv_ctx_free(sc);
    }
    /* a TLS 1.2 client receiving 2^14 + 1 bytes of plaintext */
    scene x;
    scene_start(&x, TLSV_VERSION_TLSv1_2, "ECDHE-ECDSA-AES256-GCM-SHA384");
    scene_finish(&x, NULL);
    k12 k;
    scene_keys12(&x, true, &k);
    hbuf b = {0};
    k12_seal(&k, &b, 23, big, 16384, T_NONE, 0);
    feed(x.c, &b);
    expect_read(x.c, big, 16384);
    hb_clear(&b);
    k12_seal(&k, &b, 23, big, 16385, T_NONE, 0);
    feed(x.c, &b);
    assert_int_equal(tlsv_conn_read(x.c, big, 16), -1);
    expect_fail_local(x.c, &x.cview, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW);
    hb_free(&b);
    k12_free(&k);
    scene_free(&x);
}

/* ---------------------------------------------------------------------- */
/* Zero-length fragments                                                   */
/* ---------------------------------------------------------------------- */

/* Feeds `bytes` to a fresh TLS server as its first input and expects a
 * local failure with the alert. */
static void server_first_input_fails(const uint8_t *bytes, size_t n, tlsv_reason reason, int alert)
{
    tlsv_ctx *sc = hs_ctx(0, 0, NULL, NULL);
    tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
    assert_int_equal(tlsv_conn_feed(s, bytes, n), 0);
    assert_int_equal(tlsv_conn_handshake(s), -1);
    expect_fail_local(s, NULL, reason, alert);
    tlsv_conn_free(s);
    tlsv_ctx_free(sc);
}

static void test_zero_length_fragments(void **state)
{
    (void)state;
    /* RFC 5246 §6.2.1, RFC 8446 §5.1: no zero-length handshake, alert or
     * change_cipher_spec fragments */
    static const uint8_t empty_hs[] = {22, 3, 1, 0, 0};
    server_first_input_fails(empty_hs, sizeof empty_hs, TLSV_R_UNEXPECTED_MESSAGE,
                             TLSV_ALERT_UNEXPECTED_MESSAGE);
    static const uint8_t empty_ccs[] = {20, 3, 1, 0, 0};
    server_first_input_fails(empty_ccs, sizeof empty_ccs, TLSV_R_UNEXPECTED_MESSAGE,
                             TLSV_ALERT_UNEXPECTED_MESSAGE);
    /* an alert record holds exactly one 2-byte alert (RFC 8446 §5.1) */
    static const uint8_t empty_alert[] = {21, 3, 1, 0, 0};
    server_first_input_fails(empty_alert, sizeof empty_alert, TLSV_R_DECODE_ERROR,
                             TLSV_ALERT_DECODE_ERROR);
    static const uint8_t short_alert[] = {21, 3, 1, 0, 1, 1};
    server_first_input_fails(short_alert, sizeof short_alert, TLSV_R_DECODE_ERROR,
                             TLSV_ALERT_DECODE_ERROR);
    static const uint8_t two_alerts[] = {21, 3, 1, 0, 4, 1, 100, 1, 100};
    server_first_input_fails(two_alerts, sizeof two_alerts, TLSV_R_DECODE_ERROR,
                             TLSV_ALERT_DECODE_ERROR);
    /* plaintext application data, empty or not, before any handshake */
    static const uint8_t empty_app[] = {23, 3, 1, 0, 0};
    server_first_input_fails(empty_app, sizeof empty_app, TLSV_R_UNEXPECTED_MESSAGE,
                             TLSV_ALERT_UNEXPECTED_MESSAGE);

    /* TLS 1.3, under handshake keys: an empty handshake record, with and
     * without padding (RFC 8446 §5.1 "even if those fragments contain
     * padding"), and a record that is all padding (no content type, §5.4) */
    for (int kind = 0; kind < 3; kind++) {
        scene x;
        scene_start(&x, 0, NULL);
        k13 k;
        k13_init(&k, x.skeys.c_hs, x.skeys.slen);
        hbuf b = {0};
        if (kind < 2)
            k13_seal(&k, &b, 22, NULL, 0, kind == 1 ? 32 : 0, false);
        else
            k13_seal(&k, &b, 0, NULL, 0, 20, false);
        feed(x.s, &b);
        assert_int_equal(tlsv_conn_handshake(x.s), -1);
        expect_fail_local(x.s, &x.sview, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE);
        hb_free(&b);
        k13_free(&k);
        scene_free(&x);
    }
    /* ... the same at a TLS 1.3 client: an empty handshake record before EE */
    scene x;
    scene_start(&x, 0, NULL);
    hbuf b = {0};
    put_record(&b, 22, 0x0303, x.sh.p, x.sh.n);
    k13 k;
    k13_init(&k, x.skeys.s_hs, x.skeys.slen);
    k13_seal(&k, &b, 22, NULL, 0, 0, false);
    feed(x.c, &b);
    assert_int_equal(tlsv_conn_handshake(x.c), -1);
    expect_fail_local(x.c, &x.cview, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE);
    k13_free(&k);
    hb_free(&b);
    scene_free(&x);
    /* ... and at a TLS 1.2 client, between the server's messages */
    scene_start(&x, TLSV_VERSION_TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256");
    hmsg m[8];
    size_t nm = split_messages(x.sh.p, x.sh.n, m, 8);
    assert_true(nm >= 4);
    put_record(&b, 22, 0x0303, m[0].p, m[0].n);
    put_record(&b, 22, 0x0303, NULL, 0);
    feed(x.c, &b);
    assert_int_equal(tlsv_conn_handshake(x.c), -1);
    expect_fail_local(x.c, &x.cview, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE);
    hb_free(&b);
    scene_free(&x);
}

/* Empty application data records are allowed (RFC 8446 §5.1, RFC 5246
 * §6.2.1) -- up to TLSV_MAX_WARNINGS_IN_ROW in a row; one more is
 * TOO_MANY_WARN_ALERTS / unexpected_message. Data in between resets the
 * count. */
static void empty_records(tlsv_conn *v, hview *vv, void (*send)(void *arg, hbuf *out, size_t n),
                          void *arg)
{
    hbuf b = {0};
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < TLSV_MAX_WARNINGS_IN_ROW; i++)
            send(arg, &b, 0);
        feed(v, &b);
        hb_clear(&b);
        expect_want_read(v);
        assert_int_equal(tlsv_conn_pending_output(v), 0);
        send(arg, &b, 2); /* "ok" */
        feed(v, &b);
        hb_clear(&b);
        expect_read(v, "ok", 2);
    }
    for (int i = 0; i <= TLSV_MAX_WARNINGS_IN_ROW; i++)
        send(arg, &b, 0);
    feed(v, &b);
    uint8_t rb[16];
    assert_int_equal(tlsv_conn_read(v, rb, sizeof rb), -1);
    expect_fail_local(v, vv, TLSV_R_TOO_MANY_WARN_ALERTS, TLSV_ALERT_UNEXPECTED_MESSAGE);
    hb_free(&b);
}

static void send13(void *arg, hbuf *out, size_t n)
{
    k13_seal(arg, out, 23, "ok", n, n ? 0 : 5, false);
}

static void send12(void *arg, hbuf *out, size_t n)
{
    k12_seal(arg, out, 23, "ok", n, T_NONE, 0);
}

static void test_empty_records_limit(void **state)
{
    (void)state;
    for (int victim_server = 0; victim_server < 2; victim_server++) {
        scene x;
        scene_start(&x, 0, NULL);
        scene_finish(&x, NULL);
        k13 k;
        k13_init(&k, victim_server ? x.skeys.c_ap : x.skeys.s_ap, x.skeys.slen);
        empty_records(victim_server ? x.s : x.c, victim_server ? &x.sview : &x.cview, send13, &k);
        k13_free(&k);
        scene_free(&x);
    }
    const struct {
        uint16_t version;
        const char *suite;
        bool etm;
    } rows[] = {
        {TLSV_V_TLS12, "ECDHE-ECDSA-AES128-GCM-SHA256", false},
        {TLSV_V_TLS12, "ECDHE-ECDSA-CHACHA20-POLY1305", false},
        {TLSV_V_TLS12, "ECDHE-ECDSA-AES128-SHA256", false},
        {TLSV_V_TLS12, "ECDHE-ECDSA-AES128-SHA256", true},
        {TLSV_V_TLS10, "ECDHE-ECDSA-AES128-SHA", false},
        {TLSV_V_TLS10, "ECDHE-ECDSA-AES256-SHA", true},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tlsv_ctx *sc = hs_ctx(TLSV_VERSION_TLSv1, 0, rows[i].suite, NULL);
        tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
        h12 h;
        h12_connect(&h, s, rows[i].version, rows[i].suite, rows[i].etm, true);
        empty_records(s, &h.view, send12, &h.w);
        h12_free(&h);
        tlsv_conn_free(s);
        tlsv_ctx_free(sc);
    }
    /* a TLS 1.2 client */
    scene x;
    scene_start(&x, TLSV_VERSION_TLSv1_2, "ECDHE-ECDSA-AES128-SHA");
    scene_finish(&x, NULL);
    k12 k;
    scene_keys12(&x, true, &k);
    empty_records(x.c, &x.cview, send12, &k);
    k12_free(&k);
    scene_free(&x);
}

/* ---------------------------------------------------------------------- */
/* Handshake messages split over many records                              */
/* ---------------------------------------------------------------------- */

/* Every handshake message in 1-byte records: the handshake completes. */
static void test_one_byte_records(void **state)
{
    (void)state;
    /* TLS 1.3 */
    scene x;
    memset(&x, 0, sizeof x);
    x.sc = hs_ctx(0, 0, NULL, &x.skeys);
    x.cc = hc_ctx(0, 0, NULL, &x.ckeys);
    x.c = h_conn(x.cc, TLSV_ROLE_CLIENT);
    x.s = h_conn(x.sc, TLSV_ROLE_SERVER);
    assert_int_equal(tlsv_conn_handshake(x.c), TLSV_WANT_READ);
    hbuf raw = {0}, b = {0};
    take_all(x.c, &raw);
    hrec r[64];
    size_t nr = split_records(raw.p, raw.n, r, 64);
    for (size_t i = 0; i < nr; i++)
        put_fragmented(&b, r[i].type, r[i].version, r[i].body, r[i].len, 1);
    assert_true(b.n > 5 * 200);
    feed(x.s, &b);
    assert_int_equal(tlsv_conn_handshake(x.s), TLSV_WANT_READ);
    /* the server's flight: SH in 1-byte records, EE..Finished in 1-byte
     * protected records */
    hb_clear(&raw);
    hb_clear(&b);
    take_all(x.s, &raw);
    nr = split_records(raw.p, raw.n, r, 64);
    k13 k;
    k13_init(&k, x.skeys.s_hs, x.skeys.slen);
    hbuf hs = {0};
    for (size_t i = 0; i < nr; i++) {
        if (r[i].type == TLSV_CT_APPLICATION_DATA) {
            uint8_t *pt = malloc(r[i].len);
            uint8_t type = 0;
            size_t n = 0;
            assert_int_equal(k13_open(&k, &r[i], &type, pt, &n), 0);
            hb_put(&hs, pt, n);
            free(pt);
        } else {
            put_fragmented(&b, r[i].type, r[i].version, r[i].body, r[i].len, 1);
        }
    }
    k13_free(&k);
    k13_init(&k, x.skeys.s_hs, x.skeys.slen);
    k13_seal_fragmented(&k, &b, 22, hs.p, hs.n, 1);
    k13_free(&k);
    feed(x.c, &b);
    assert_int_equal(tlsv_conn_handshake(x.c), 0);
    /* the client's Finished in 1-byte protected records */
    hb_clear(&raw);
    hb_clear(&b);
    hb_clear(&hs);
    take_all(x.c, &raw);
    nr = split_records(raw.p, raw.n, r, 64);
    k13_init(&k, x.skeys.c_hs, x.skeys.slen);
    for (size_t i = 0; i < nr; i++) {
        if (r[i].type == TLSV_CT_APPLICATION_DATA) {
            uint8_t *pt = malloc(r[i].len);
            uint8_t type = 0;
            size_t n = 0;
            assert_int_equal(k13_open(&k, &r[i], &type, pt, &n), 0);
            hb_put(&hs, pt, n);
            free(pt);
        } else {
            hb_put(&b, r[i].body - 5, r[i].len + 5);
        }
    }
    k13_free(&k);
    k13_init(&k, x.skeys.c_hs, x.skeys.slen);
    k13_seal_fragmented(&k, &b, 22, hs.p, hs.n, 1);
    k13_free(&k);
    feed(x.s, &b);
    assert_int_equal(tlsv_conn_handshake(x.s), 0);
    assert_int_equal(tlsv_conn_write(x.c, "hello", 5), 5);
    h_move(x.c, x.s);
    expect_read(x.s, "hello", 5);
    hb_free(&hs);
    scene_free(&x);

    /* TLS 1.2: ClientHello, the server's flight and the ClientKeyExchange
     * in 1-byte records */
    memset(&x, 0, sizeof x);
    x.sc = hs_ctx(0, TLSV_VERSION_TLSv1_2, NULL, NULL);
    x.cc = hc_ctx(0, TLSV_VERSION_TLSv1_2, NULL, NULL);
    x.c = h_conn(x.cc, TLSV_ROLE_CLIENT);
    x.s = h_conn(x.sc, TLSV_ROLE_SERVER);
    for (int step = 0; step < 3; step++) {
        tlsv_conn *from = step == 1 ? x.s : x.c, *to = step == 1 ? x.c : x.s;
        assert_int_equal(tlsv_conn_handshake(from), TLSV_WANT_READ);
        hb_clear(&raw);
        hb_clear(&b);
        take_all(from, &raw);
        nr = split_records(raw.p, raw.n, r, 64);
        for (size_t i = 0; i < nr; i++) {
            if (r[i].type == TLSV_CT_HANDSHAKE && (step < 2 || i == 0))
                put_fragmented(&b, r[i].type, r[i].version, r[i].body, r[i].len, 1);
            else
                hb_put(&b, r[i].body - 5, r[i].len + 5);
        }
        feed(to, &b);
    }
    assert_int_equal(tlsv_conn_handshake(x.s), 0);
    h_move(x.s, x.c);
    assert_int_equal(tlsv_conn_handshake(x.c), 0);
    assert_int_equal(tlsv_conn_write(x.s, "hi", 2), 2);
    h_move(x.s, x.c);
    expect_read(x.c, "hi", 2);
    hb_free(&raw);
    hb_free(&b);
    scene_free(&x);
}

/* Other records between the fragments of one handshake message. */
static void test_interleaved_fragments(void **state)
{
    (void)state;
    /* TLS 1.3 (RFC 8446 §5.1: "if a handshake message is split over two or
     * more records, there MUST NOT be any other records between them"):
     * a warning alert in the middle of a ClientHello */
    hbuf ch = {0}, b = {0};
    ch_opts o = {0};
    build_ch(&ch, &o);
    put_record(&b, 22, 0x0301, ch.p, 40);
    put_record(&b, 21, 0x0301, "\1\x70", 2);
    put_record(&b, 22, 0x0301, ch.p + 40, ch.n - 40);
    server_first_input_fails(b.p, b.n, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE);
    hb_clear(&b);
    put_record(&b, 22, 0x0301, ch.p, 40);
    put_record(&b, 20, 0x0301, "\1", 1);
    put_record(&b, 22, 0x0301, ch.p + 40, ch.n - 40);
    server_first_input_fails(b.p, b.n, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE);
    hb_free(&ch);
    hb_free(&b);

    /* a TLS 1.3 client: EE..Finished in two protected records, with a
     * change_cipher_spec, a protected warning alert, or protected
     * application data between them */
    for (int kind = 0; kind < 3; kind++) {
        scene x;
        scene_start(&x, 0, NULL);
        hbuf f = {0};
        put_record(&f, 22, 0x0303, x.sh.p, x.sh.n);
        k13 k;
        k13_init(&k, x.skeys.s_hs, x.skeys.slen);
        k13_seal(&k, &f, 22, x.shs.p, 30, 0, false);
        if (kind == 0)
            put_record(&f, 20, 0x0303, "\1", 1);
        else if (kind == 1)
            k13_seal(&k, &f, 21, "\1\x70", 2, 0, false);
        else
            k13_seal(&k, &f, 23, "data", 4, 0, false);
        k13_seal(&k, &f, 22, x.shs.p + 30, x.shs.n - 30, 0, false);
        k13_free(&k);
        feed(x.c, &f);
        assert_int_equal(tlsv_conn_handshake(x.c), -1);
        expect_fail_local(x.c, &x.cview, TLSV_R_UNEXPECTED_MESSAGE,
                          TLSV_ALERT_UNEXPECTED_MESSAGE);
        hb_free(&f);
        scene_free(&x);
    }

    /* TLS 1.2 allows other content types between fragments (RFC 5246
     * §6.2.1: "Data of different TLS record layer content types MAY be
     * interleaved"): a warning alert inside the server's Certificate is
     * fine ... */
    scene x;
    scene_start(&x, TLSV_VERSION_TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256");
    hmsg m[8];
    size_t nm = split_messages(x.sh.p, x.sh.n, m, 8);
    assert_int_equal(m[1].type, TLSV_HS_CERTIFICATE);
    hbuf f = {0};
    put_record(&f, 22, 0x0303, m[0].p, m[0].n + 50);
    put_record(&f, 21, 0x0303, "\1\x70", 2);
    put_record(&f, 22, 0x0303, m[0].p + m[0].n + 50, x.sh.n - m[0].n - 50);
    (void)nm;
    scene_finish(&x, &f);
    hb_free(&f);
    scene_free(&x);
    /* ... but a change_cipher_spec there is out of place */
    scene_start(&x, TLSV_VERSION_TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256");
    put_record(&f, 22, 0x0303, x.sh.p, 100);
    put_record(&f, 20, 0x0303, "\1", 1);
    put_record(&f, 22, 0x0303, x.sh.p + 100, x.sh.n - 100);
    feed(x.c, &f);
    assert_int_equal(tlsv_conn_handshake(x.c), -1);
    expect_fail_local(x.c, &x.cview, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE);
    hb_free(&f);
    scene_free(&x);
}

/* ---------------------------------------------------------------------- */
/* SSLv2-format ClientHello (RFC 5246 App. E.2) and record versions        */
/* ---------------------------------------------------------------------- */

/* An SSLv2 CLIENT-HELLO: msg_type, version, the three lengths, then the
 * fields (cipher specs: ECDHE-ECDSA-AES128-SHA, AES128-SHA). `len` 0: the
 * record length is what follows. */
static void v2_hello(hbuf *b, uint8_t type, uint16_t version, unsigned cs_len, unsigned sid_len,
                     unsigned chal_len, size_t cs_have, size_t sid_have, size_t chal_have,
                     int len_delta)
{
    hbuf m = {0};
    hb_u8(&m, type);
    hb_u16(&m, version);
    hb_u16(&m, cs_len);
    hb_u16(&m, sid_len);
    hb_u16(&m, chal_len);
    static const uint8_t specs[] = {0x00, 0xc0, 0x09, 0x00, 0x00, 0x2f, 0x07, 0x00, 0xc0};
    for (size_t i = 0; i < cs_have; i++)
        hb_u8(&m, specs[i % sizeof specs]);
    hb_fill(&m, 0x33, sid_have);
    for (size_t i = 0; i < chal_have; i++)
        hb_u8(&m, 0x40 + i);
    size_t rl = (size_t)((long)m.n + len_delta);
    hb_u8(b, 0x80 | (unsigned)(rl >> 8));
    hb_u8(b, rl & 0xff);
    hb_put(b, m.p, m.n);
    hb_free(&m);
}

static void test_sslv2_hello(void **state)
{
    (void)state;
    tlsv_ctx *sc = hs_ctx(TLSV_VERSION_TLSv1, 0, NULL, NULL);
    /* the valid reference: answered with a TLS 1.2 ServerHello */
    hbuf b = {0};
    v2_hello(&b, 1, 0x0303, 9, 0, 32, 9, 0, 32, 0);
    tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
    feed(s, &b);
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    hbuf out = {0};
    take_all(s, &out);
    assert_true(out.n > 50);
    assert_int_equal(out.p[0], 22);
    assert_int_equal(out.p[5], TLSV_HS_SERVER_HELLO);
    hb_free(&out);
    tlsv_conn_free(s);
    hb_clear(&b);
    /* the longest: a record of 1024 bytes (328 cipher specs) */
    v2_hello(&b, 1, 0x0303, 984, 0, 31, 984, 0, 31, 0);
    assert_int_equal(b.n, 2 + 1024);
    s = h_conn(sc, TLSV_ROLE_SERVER);
    feed(s, &b);
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    tlsv_conn_free(s);
    hb_clear(&b);
    /* a TLS 1.0 one with a 16-byte session id and a 16-byte challenge */
    v2_hello(&b, 1, 0x0301, 9, 16, 16, 9, 16, 16, 0);
    s = h_conn(sc, TLSV_ROLE_SERVER);
    feed(s, &b);
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    tlsv_conn_free(s);
    hb_clear(&b);

    const struct {
        const char *what;
        uint8_t type;
        uint16_t version;
        unsigned cs_len, sid_len, chal_len;
        size_t cs, sid, chal;
        int delta;
        tlsv_reason reason;
        int alert;
    } bad[] = {
        {"record length 2", 1, 0x0303, 0, 0, 0, 0, 0, 0, -7, TLSV_R_DECODE_ERROR, TLSV_ALERT_DECODE_ERROR},
        {"a record of 1025 bytes", 1, 0x0303, 984, 0, 32, 984, 0, 32, 0, TLSV_R_DECODE_ERROR, TLSV_ALERT_DECODE_ERROR},
        {"cipher_spec_length 0", 1, 0x0303, 0, 0, 32, 0, 0, 32, 0, TLSV_R_DECODE_ERROR, TLSV_ALERT_DECODE_ERROR},
        {"cipher_spec_length not a multiple of 3", 1, 0x0303, 8, 0, 32, 8, 0, 32, 0, TLSV_R_DECODE_ERROR, TLSV_ALERT_DECODE_ERROR},
        {"cipher_spec_length past the end", 1, 0x0303, 12, 0, 32, 9, 0, 32, 0, TLSV_R_DECODE_ERROR, TLSV_ALERT_DECODE_ERROR},
        {"session_id_length 5", 1, 0x0301, 9, 5, 32, 9, 5, 32, 0, TLSV_R_DECODE_ERROR, TLSV_ALERT_DECODE_ERROR},
        {"challenge_length 15", 1, 0x0303, 9, 0, 15, 9, 0, 15, 0, TLSV_R_DECODE_ERROR, TLSV_ALERT_DECODE_ERROR},
        {"challenge_length 33", 1, 0x0303, 9, 0, 33, 9, 0, 33, 0, TLSV_R_DECODE_ERROR, TLSV_ALERT_DECODE_ERROR},
        {"a byte too many", 1, 0x0303, 9, 0, 32, 9, 0, 33, 0, TLSV_R_DECODE_ERROR, TLSV_ALERT_DECODE_ERROR},
        {"a byte too few", 1, 0x0303, 9, 0, 32, 9, 0, 31, 0, TLSV_R_DECODE_ERROR, TLSV_ALERT_DECODE_ERROR},
        {"shorter than its header", 1, 0x0303, 9, 0, 32, 0, 0, 0, 0, TLSV_R_DECODE_ERROR, TLSV_ALERT_DECODE_ERROR},
        {"msg_type 2", 2, 0x0303, 9, 0, 32, 9, 0, 32, 0, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE},
        {"TLS 1.2 with a session id", 1, 0x0303, 9, 16, 32, 9, 16, 32, 0, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER},
        {"SSL 2.0", 1, 0x0002, 9, 0, 32, 9, 0, 32, 0, TLSV_R_UNSUPPORTED_PROTOCOL, TLSV_ALERT_PROTOCOL_VERSION},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hb_clear(&b);
        v2_hello(&b, bad[i].type, bad[i].version, bad[i].cs_len, bad[i].sid_len, bad[i].chal_len,
                 bad[i].cs, bad[i].sid, bad[i].chal, bad[i].delta);
        s = h_conn(sc, TLSV_ROLE_SERVER);
        feed(s, &b);
        if (tlsv_conn_handshake(s) != -1)
            fail_msg("%s: accepted", bad[i].what);
        const tlsv_error *e = tlsv_conn_last_error(s);
        if (e->reason != bad[i].reason)
            fail_msg("%s: %s: %s", bad[i].what, tlsv_reason_name(e->reason), e->message);
        expect_fail_local(s, NULL, bad[i].reason, bad[i].alert);
        tlsv_conn_free(s);
    }
    /* a server that only does TLS 1.3 cannot answer an SSLv2 hello */
    tlsv_ctx *sc13 = hs_ctx(TLSV_VERSION_TLSv1_3, 0, NULL, NULL);
    hb_clear(&b);
    v2_hello(&b, 1, 0x0303, 9, 0, 32, 9, 0, 32, 0);
    s = h_conn(sc13, TLSV_ROLE_SERVER);
    feed(s, &b);
    assert_int_equal(tlsv_conn_handshake(s), -1);
    expect_fail_local(s, NULL, TLSV_R_UNSUPPORTED_PROTOCOL, TLSV_ALERT_PROTOCOL_VERSION);
    tlsv_conn_free(s);
    /* an SSLv2-format record at a client is not TLS */
    tlsv_ctx *cc = hc_ctx(0, 0, NULL, NULL);
    tlsv_conn *c = h_conn(cc, TLSV_ROLE_CLIENT);
    assert_int_equal(tlsv_conn_handshake(c), TLSV_WANT_READ);
    take_all(c, &out);
    hb_free(&out);
    hb_clear(&b);
    v2_hello(&b, 1, 0x0303, 9, 0, 32, 9, 0, 32, 0);
    feed(c, &b);
    assert_int_equal(tlsv_conn_handshake(c), -1);
    expect_fail_local(c, NULL, TLSV_R_WRONG_VERSION_NUMBER, TLSV_ALERT_PROTOCOL_VERSION);
    tlsv_conn_free(c);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc13);
    hb_free(&b);
    tlsv_ctx_free(sc);
}

/* Record versions. RFC 5246 App. E.1: a ClientHello record may say {3,0};
 * what counts is the ClientHello's version. An SSL 3.0 ClientHello at a
 * server without SSL 3.0: protocol_version. A record that is not SSL 3.0 /
 * TLS at all: protocol_version too. */
static void test_record_versions(void **state)
{
    (void)state;
    tlsv_ctx *sc = hs_ctx(TLSV_VERSION_TLSv1, 0, NULL, NULL);
    /* record 0x0300, ClientHello offering TLS 1.3 and 1.2: fine */
    hbuf ch = {0}, b = {0};
    ch_opts o = {0};
    build_ch(&ch, &o);
    put_record(&b, 22, 0x0300, ch.p, ch.n);
    tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
    feed(s, &b);
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    hbuf out = {0};
    take_all(s, &out);
    assert_int_equal(out.p[5], TLSV_HS_SERVER_HELLO);
    hb_free(&out);
    tlsv_conn_free(s);
    /* record 0x0300 and an SSL 3.0 ClientHello (no supported_versions) */
    static const uint16_t cbc[] = {0xc009, 0x002f};
    ch_opts o3 = {.legacy_version = TLSV_V_SSL3, .no_versions = true, .suites = cbc, .n_suites = 2};
    hb_clear(&ch);
    hb_clear(&b);
    build_ch(&ch, &o3);
    put_record(&b, 22, 0x0300, ch.p, ch.n);
    if (!tlsv_has_ssl3()) {
        s = h_conn(sc, TLSV_ROLE_SERVER);
        feed(s, &b);
        assert_int_equal(tlsv_conn_handshake(s), -1);
        expect_fail_local(s, NULL, TLSV_R_UNSUPPORTED_PROTOCOL, TLSV_ALERT_PROTOCOL_VERSION);
        tlsv_conn_free(s);
    }
    /* ... and at a server whose minimum is TLS 1.2, an SSL 3.0 or TLS 1.0 one */
    tlsv_ctx *sc12 = hs_ctx(TLSV_VERSION_TLSv1_2, 0, NULL, NULL);
    for (uint16_t v = TLSV_V_SSL3; v <= TLSV_V_TLS11; v++) {
        ch_opts ov = {.legacy_version = v, .no_versions = true, .suites = cbc, .n_suites = 2};
        hb_clear(&ch);
        hb_clear(&b);
        build_ch(&ch, &ov);
        put_record(&b, 22, v, ch.p, ch.n);
        s = h_conn(sc12, TLSV_ROLE_SERVER);
        feed(s, &b);
        assert_int_equal(tlsv_conn_handshake(s), -1);
        expect_fail_local(s, NULL, TLSV_R_UNSUPPORTED_PROTOCOL, TLSV_ALERT_PROTOCOL_VERSION);
        tlsv_conn_free(s);
    }
    tlsv_ctx_free(sc12);
    /* records that are not TLS: major version 2 or 4, or an unknown type */
    static const uint8_t v2rec[] = {22, 2, 0, 0, 4, 1, 0, 0, 0};
    static const uint8_t v4rec[] = {22, 4, 1, 0, 4, 1, 0, 0, 0};
    static const uint8_t http[] = "GET / HTTP/1.1\r\n";
    const uint8_t *inputs[] = {v2rec, v4rec, http};
    size_t lens[] = {sizeof v2rec, sizeof v4rec, sizeof http - 1};
    for (size_t i = 0; i < 3; i++) {
        s = h_conn(sc, TLSV_ROLE_SERVER);
        assert_int_equal(tlsv_conn_feed(s, inputs[i], lens[i]), 0);
        assert_int_equal(tlsv_conn_handshake(s), -1);
        expect_fail_local(s, NULL, TLSV_R_WRONG_VERSION_NUMBER, TLSV_ALERT_PROTOCOL_VERSION);
        tlsv_conn_free(s);
    }
    hb_free(&ch);
    hb_free(&b);
    tlsv_ctx_free(sc);
}

/* ---------------------------------------------------------------------- */
/* Tampered protected records                                              */
/* ---------------------------------------------------------------------- */

/* CBC: a bad MAC, a bad padding, a padding length past the record -- each
 * bad_record_mac with the very same error (no padding oracle: RFC 5246
 * §6.2.3.2, RFC 7366), with MAC-then-encrypt and encrypt-then-MAC, at TLS
 * 1.0 (chained IV), 1.1 and 1.2. Nothing is delivered. */
static void test_cbc_tampering(void **state)
{
    (void)state;
    const struct {
        uint16_t version;
        const char *suite;
        bool etm;
    } rows[] = {
        {TLSV_V_TLS10, "ECDHE-ECDSA-AES128-SHA", false},
        {TLSV_V_TLS10, "ECDHE-ECDSA-AES128-SHA", true},
        {TLSV_V_TLS11, "ECDHE-ECDSA-AES256-SHA", false},
        {TLSV_V_TLS11, "ECDHE-ECDSA-AES256-SHA", true},
        {TLSV_V_TLS12, "ECDHE-ECDSA-AES128-SHA256", false},
        {TLSV_V_TLS12, "ECDHE-ECDSA-AES128-SHA256", true},
        {TLSV_V_TLS12, "ECDHE-ECDSA-AES256-SHA384", false},
        {TLSV_V_TLS12, "ECDHE-ECDSA-AES256-SHA384", true},
    };
    static const unsigned tampers[] = {T_MAC, T_PAD, T_PADLEN};
    static uint8_t data[300];
    memset(data, 'd', sizeof data);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tlsv_ctx *sc = hs_ctx(TLSV_VERSION_TLSv1, 0, rows[i].suite, NULL);
        tlsv_error first;
        for (size_t t = 0; t < 3; t++) {
            tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
            h12 h;
            h12_connect(&h, s, rows[i].version, rows[i].suite, rows[i].etm, true);
            /* a good record first, with a long (legal) padding */
            hbuf b = {0};
            k12_seal(&h.w, &b, 23, data, 33, T_NONE, 15);
            feed(s, &b);
            expect_read(s, data, 33);
            hb_clear(&b);
            k12_seal(&h.w, &b, 23, data, sizeof data, tampers[t], 1);
            feed(s, &b);
            uint8_t rb[400];
            assert_int_equal(tlsv_conn_read(s, rb, sizeof rb), -1);
            const tlsv_error *e = tlsv_conn_last_error(s);
            if (t == 0)
                first = *e;
            else if (strcmp(e->message, first.message) != 0)
                fail_msg("%s %s: padding and MAC failures differ: '%s' / '%s'",
                         rows[i].suite, rows[i].etm ? "EtM" : "MtE", first.message, e->message);
            expect_fail_local(s, &h.view, TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC,
                              TLSV_ALERT_BAD_RECORD_MAC);
            hb_free(&b);
            h12_free(&h);
            tlsv_conn_free(s);
        }
        tlsv_ctx_free(sc);
    }
}

/* AEAD: a flipped tag bit is bad_record_mac -- TLS 1.2 GCM and
 * ChaCha20-Poly1305 (server side), TLS 1.3 (both sides), and a real tlsv
 * server's TLS 1.2 records (CBC EtM and GCM) altered in flight. */
static void test_aead_tampering(void **state)
{
    (void)state;
    const char *suites[] = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                            "ECDHE-ECDSA-CHACHA20-POLY1305"};
    for (size_t i = 0; i < 3; i++) {
        tlsv_ctx *sc = hs_ctx(0, 0, suites[i], NULL);
        tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
        h12 h;
        h12_connect(&h, s, TLSV_V_TLS12, suites[i], false, true);
        h12_send(&h, s, 23, "fine", 4, T_NONE);
        expect_read(s, "fine", 4);
        h12_send(&h, s, 23, "evil", 4, T_TAG);
        uint8_t rb[16];
        assert_int_equal(tlsv_conn_read(s, rb, sizeof rb), -1);
        expect_fail_local(s, &h.view, TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC,
                          TLSV_ALERT_BAD_RECORD_MAC);
        h12_free(&h);
        tlsv_conn_free(s);
        tlsv_ctx_free(sc);
    }
    for (int victim_server = 0; victim_server < 2; victim_server++) {
        scene x;
        scene_start(&x, 0, NULL);
        scene_finish(&x, NULL);
        k13 k;
        k13_init(&k, victim_server ? x.skeys.c_ap : x.skeys.s_ap, x.skeys.slen);
        tlsv_conn *v = victim_server ? x.s : x.c;
        hbuf b = {0};
        k13_seal(&k, &b, 23, "evil", 4, 0, true);
        feed(v, &b);
        uint8_t rb[16];
        assert_int_equal(tlsv_conn_read(v, rb, sizeof rb), -1);
        expect_fail_local(v, victim_server ? &x.sview : &x.cview,
                          TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC, TLSV_ALERT_BAD_RECORD_MAC);
        hb_free(&b);
        k13_free(&k);
        scene_free(&x);
    }
    const char *s12[] = {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES128-GCM-SHA256"};
    for (size_t i = 0; i < 2; i++) {
        scene x;
        scene_start(&x, TLSV_VERSION_TLSv1_2, s12[i]);
        scene_finish(&x, NULL);
        assert_int_equal(tlsv_conn_write(x.s, "0123456789abcdef0123", 20), 20);
        hbuf b = {0};
        take_all(x.s, &b);
        b.p[b.n - 20] ^= 0x04; /* inside the ciphertext (or the EtM MAC) */
        feed(x.c, &b);
        uint8_t rb[32];
        assert_int_equal(tlsv_conn_read(x.c, rb, sizeof rb), -1);
        expect_fail_local(x.c, &x.cview, TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC,
                          TLSV_ALERT_BAD_RECORD_MAC);
        hb_free(&b);
        scene_free(&x);
    }
}

/* ---------------------------------------------------------------------- */
/* Alerts                                                                  */
/* ---------------------------------------------------------------------- */

/* TLS 1.0-1.2: warning alerts are counted; TLSV_MAX_WARNINGS_IN_ROW of
 * them in a row pass, one more is TOO_MANY_WARN_ALERTS /
 * unexpected_message. Data resets the count; empty records count too. */
static void test_alert_flood_tls12(void **state)
{
    (void)state;
    const char *suite = "ECDHE-ECDSA-AES128-GCM-SHA256";
    tlsv_ctx *sc = hs_ctx(0, 0, suite, NULL);
    tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
    h12 h;
    h12_connect(&h, s, TLSV_V_TLS12, suite, false, true);
    hbuf b = {0};
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < TLSV_MAX_WARNINGS_IN_ROW; i++)
            k12_seal(&h.w, &b, 21, "\1\x70", 2, T_NONE, 0); /* warning unrecognized_name */
        feed(s, &b);
        hb_clear(&b);
        expect_want_read(s);
        assert_int_equal(tlsv_conn_pending_output(s), 0);
        h12_send(&h, s, 23, "go", 2, T_NONE);
        expect_read(s, "go", 2);
    }
    /* warnings and empty records share the count */
    for (int i = 0; i < TLSV_MAX_WARNINGS_IN_ROW; i++)
        k12_seal(&h.w, &b, i % 2 ? 21 : 23, "\1\x70", i % 2 ? 2 : 0, T_NONE, 0);
    k12_seal(&h.w, &b, 21, "\1\x70", 2, T_NONE, 0);
    feed(s, &b);
    hb_clear(&b);
    uint8_t rb[16];
    assert_int_equal(tlsv_conn_read(s, rb, sizeof rb), -1);
    expect_fail_local(s, &h.view, TLSV_R_TOO_MANY_WARN_ALERTS, TLSV_ALERT_UNEXPECTED_MESSAGE);
    h12_free(&h);
    tlsv_conn_free(s);

    /* the peer's fatal alert: reported as the peer's, nothing sent back */
    s = h_conn(sc, TLSV_ROLE_SERVER);
    h12_connect(&h, s, TLSV_V_TLS12, suite, false, true);
    h12_send(&h, s, 21, "\2\x28", 2, T_NONE);
    assert_int_equal(tlsv_conn_read(s, rb, sizeof rb), -1);
    expect_fail_quiet(s, TLSV_R_SSLV3_ALERT_HANDSHAKE_FAILURE, TLSV_ALERT_HANDSHAKE_FAILURE,
                      TLSV_SIDE_REMOTE);
    h12_free(&h);
    tlsv_conn_free(s);
    /* close_notify, as a warning: a clean end */
    s = h_conn(sc, TLSV_ROLE_SERVER);
    h12_connect(&h, s, TLSV_V_TLS12, suite, false, true);
    h12_send(&h, s, 23, "last", 4, T_NONE);
    h12_send(&h, s, 21, "\1\0", 2, T_NONE);
    expect_read(s, "last", 4);
    assert_int_equal(tlsv_conn_read(s, rb, sizeof rb), 0);
    h12_free(&h);
    tlsv_conn_free(s);
    tlsv_ctx_free(sc);

    /* plaintext warnings during the handshake: a TLS 1.2 client waiting for
     * the server's ChangeCipherSpec */
    for (int extra = 0; extra < 2; extra++) {
        scene x;
        scene_start(&x, TLSV_VERSION_TLSv1_2, suite);
        feed(x.c, &x.flight);
        assert_int_equal(tlsv_conn_handshake(x.c), TLSV_WANT_READ);
        hbuf cf = {0};
        take_view(x.c, &x.cview, &cf, NULL);
        hb_free(&cf);
        for (int i = 0; i < TLSV_MAX_WARNINGS_IN_ROW + extra; i++)
            put_record(&b, 21, 0x0303, "\1\x70", 2);
        feed(x.c, &b);
        hb_clear(&b);
        if (!extra) {
            assert_int_equal(tlsv_conn_handshake(x.c), TLSV_WANT_READ);
        } else {
            assert_int_equal(tlsv_conn_handshake(x.c), -1);
            expect_fail_local(x.c, &x.cview, TLSV_R_TOO_MANY_WARN_ALERTS,
                              TLSV_ALERT_UNEXPECTED_MESSAGE);
        }
        scene_free(&x);
    }
    hb_free(&b);
}

/* TLS 1.3 (RFC 8446 §6): every alert but close_notify and user_canceled is
 * an error whatever its level, unknown ones too; user_canceled warnings are
 * counted like TLS 1.2 warnings. */
static void test_alerts_tls13(void **state)
{
    (void)state;
    const struct {
        uint8_t level, desc;
        tlsv_reason reason;
    } errors[] = {
        {1, TLSV_ALERT_UNEXPECTED_MESSAGE, TLSV_R_SSLV3_ALERT_UNEXPECTED_MESSAGE},
        {1, TLSV_ALERT_UNRECOGNIZED_NAME, TLSV_R_ALERT_RECEIVED},
        {1, 200, TLSV_R_ALERT_RECEIVED},
        {2, TLSV_ALERT_DECODE_ERROR, TLSV_R_TLSV1_ALERT_DECODE_ERROR},
    };
    uint8_t rb[16];
    for (int victim_server = 0; victim_server < 2; victim_server++) {
        for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
            scene x;
            scene_start(&x, 0, NULL);
            scene_finish(&x, NULL);
            tlsv_conn *v = victim_server ? x.s : x.c;
            k13 k;
            k13_init(&k, victim_server ? x.skeys.c_ap : x.skeys.s_ap, x.skeys.slen);
            hbuf b = {0};
            uint8_t a[2] = {errors[i].level, errors[i].desc};
            k13_seal(&k, &b, 21, a, 2, 0, false);
            feed(v, &b);
            assert_int_equal(tlsv_conn_read(v, rb, sizeof rb), -1);
            expect_fail_quiet(v, errors[i].reason, errors[i].desc, TLSV_SIDE_REMOTE);
            hb_free(&b);
            k13_free(&k);
            scene_free(&x);
        }
        /* user_canceled: counted */
        scene x;
        scene_start(&x, 0, NULL);
        scene_finish(&x, NULL);
        tlsv_conn *v = victim_server ? x.s : x.c;
        k13 k;
        k13_init(&k, victim_server ? x.skeys.c_ap : x.skeys.s_ap, x.skeys.slen);
        hbuf b = {0};
        for (int i = 0; i < TLSV_MAX_WARNINGS_IN_ROW; i++)
            k13_seal(&k, &b, 21, "\1\x5a", 2, 0, false);
        feed(v, &b);
        hb_clear(&b);
        expect_want_read(v);
        k13_seal(&k, &b, 21, "\1\x5a", 2, 0, false);
        feed(v, &b);
        assert_int_equal(tlsv_conn_read(v, rb, sizeof rb), -1);
        expect_fail_local(v, victim_server ? &x.sview : &x.cview, TLSV_R_TOO_MANY_WARN_ALERTS,
                          TLSV_ALERT_UNEXPECTED_MESSAGE);
        hb_free(&b);
        k13_free(&k);
        scene_free(&x);
    }
    /* during the handshake: a protected warning after the ServerHello */
    scene x;
    scene_start(&x, 0, NULL);
    hbuf b = {0};
    put_record(&b, 22, 0x0303, x.sh.p, x.sh.n);
    k13 k;
    k13_init(&k, x.skeys.s_hs, x.skeys.slen);
    k13_seal(&k, &b, 21, "\1\x70", 2, 0, false);
    feed(x.c, &b);
    assert_int_equal(tlsv_conn_handshake(x.c), -1);
    expect_fail_quiet(x.c, TLSV_R_ALERT_RECEIVED, TLSV_ALERT_UNRECOGNIZED_NAME, TLSV_SIDE_REMOTE);
    hb_free(&b);
    k13_free(&k);
    scene_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_then_eof),
        cmocka_unit_test(test_oversized_plaintext),
        cmocka_unit_test(test_oversized_tls13),
        cmocka_unit_test(test_oversized_tls12),
        cmocka_unit_test(test_zero_length_fragments),
        cmocka_unit_test(test_empty_records_limit),
        cmocka_unit_test(test_one_byte_records),
        cmocka_unit_test(test_interleaved_fragments),
        cmocka_unit_test(test_sslv2_hello),
        cmocka_unit_test(test_record_versions),
        cmocka_unit_test(test_cbc_tampering),
        cmocka_unit_test(test_aead_tampering),
        cmocka_unit_test(test_alert_flood_tls12),
        cmocka_unit_test(test_alerts_tls13),
    };
    return cmocka_run_group_tests(tests, hostile_setup, hostile_teardown);
}
