/*
 * test_hostile_hello.c -- hostile hello messages (issue #7): ClientHellos
 * of 64 KiB and at / past the handshake message limit, duplicate
 * extensions, extensions in the wrong message or never offered, and every
 * length field of a ClientHello mutated (+1, -1, 0, max). Each test asserts
 * the alert tlsv sends, its error record and that the connection is dead.
 */
#include "hostile.h"

/* Feeds a ClientHello message (split into records of at most 2^14) to a
 * fresh server. */
static tlsv_conn *server_with_ch(tlsv_ctx *sc, const hbuf *ch)
{
    tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
    hbuf rec = {0};
    put_fragmented(&rec, 22, 0x0301, ch->p, ch->n, 16384);
    feed(s, &rec);
    hb_free(&rec);
    return s;
}

/* The server answered with a ServerHello. */
static void expect_server_hello(tlsv_conn *s)
{
    int rc = tlsv_conn_handshake(s);
    if (rc != TLSV_WANT_READ) {
        char b[600];
        tlsv_error_format(tlsv_conn_last_error(s), b, sizeof b);
        fail_msg("the server did not answer (%d): %s", rc, b);
    }
    hbuf out = {0};
    take_all(s, &out);
    assert_true(out.n > 100);
    assert_int_equal(out.p[0], 22);
    assert_int_equal(out.p[5], TLSV_HS_SERVER_HELLO);
    hb_free(&out);
}

static void expect_server_fails(tlsv_ctx *sc, const hbuf *ch, tlsv_reason reason, int alert)
{
    tlsv_conn *s = server_with_ch(sc, ch);
    assert_int_equal(tlsv_conn_handshake(s), -1);
    expect_fail_local(s, NULL, reason, alert);
    tlsv_conn_free(s);
}

/* ---------------------------------------------------------------------- */
/* Large ClientHellos and the handshake message limit                      */
/* ---------------------------------------------------------------------- */

/* A ClientHello whose BODY is `body` bytes: `n_suites` cipher suites (the
 * real ones first, then unassigned values), padded with an unknown
 * extension. */
static void big_ch(hbuf *out, size_t n_suites, size_t body)
{
    hbuf base = {0};
    ch_opts o = {0};
    build_ch(&base, &o);
    /* splice in the long suite list (the writer stops at 32000) */
    size_t cs = 4 + 2 + 32 + 1 + base.p[4 + 2 + 32];
    size_t cs_end = cs + 2 + get16(base.p + cs);
    hb_put(out, base.p, cs);
    hb_u16(out, (unsigned)(2 * n_suites));
    static const uint16_t real[] = {0x1301, 0x1302, 0x1303, 0xc02b};
    for (size_t i = 0; i < n_suites; i++)
        hb_u16(out, i < 4 ? real[i] : (unsigned)(0x8000 + i));
    hb_put(out, base.p + cs_end, base.n - cs_end);
    set24(out->p + 1, out->n - 4);
    hb_free(&base);
    size_t off = ch_ext_off(out->p);
    assert_true(4 + body >= out->n + 4);
    size_t pad = 4 + body - out->n - 4;
    uint8_t *z = calloc(1, pad + 1);
    msg_append_ext(out, off, 0xfe00, z, pad);
    free(z);
    assert_int_equal(out->n, 4 + body);
    assert_true(out->n - off - 2 <= 0xffff);
}

static void test_large_client_hello(void **state)
{
    (void)state;
    tlsv_ctx *sc = hs_ctx(0, 0, NULL, NULL);
    /* 64 KiB (header included): four records, answered */
    hbuf ch = {0};
    big_ch(&ch, 10, 65536 - 4);
    tlsv_conn *s = server_with_ch(sc, &ch);
    expect_server_hello(s);
    tlsv_conn_free(s);
    /* a body of exactly TLSV_MAX_HANDSHAKE_MESSAGE (128 KiB: 32767 suites
     * and a 64 KiB extension block): answered */
    hb_clear(&ch);
    big_ch(&ch, 32767, TLSV_MAX_HANDSHAKE_MESSAGE);
    s = server_with_ch(sc, &ch);
    expect_server_hello(s);
    tlsv_conn_free(s);
    /* one byte more (still a well-formed ClientHello: the largest possible
     * is 131396 bytes): EXCESSIVE_MESSAGE_SIZE, illegal_parameter, decided
     * on the header, before the body arrives */
    hb_clear(&ch);
    big_ch(&ch, 32767, TLSV_MAX_HANDSHAKE_MESSAGE + 1);
    s = h_conn(sc, TLSV_ROLE_SERVER);
    hbuf rec = {0};
    put_record(&rec, 22, 0x0301, ch.p, 100);
    feed(s, &rec);
    assert_int_equal(tlsv_conn_handshake(s), -1);
    expect_fail_local(s, NULL, TLSV_R_EXCESSIVE_MESSAGE_SIZE, TLSV_ALERT_ILLEGAL_PARAMETER);
    tlsv_conn_free(s);
    /* a header announcing 2^24 - 1 bytes */
    static const uint8_t huge[] = {22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff};
    s = h_conn(sc, TLSV_ROLE_SERVER);
    assert_int_equal(tlsv_conn_feed(s, huge, sizeof huge), 0);
    assert_int_equal(tlsv_conn_handshake(s), -1);
    expect_fail_local(s, NULL, TLSV_R_EXCESSIVE_MESSAGE_SIZE, TLSV_ALERT_ILLEGAL_PARAMETER);
    tlsv_conn_free(s);
    hb_free(&rec);
    hb_free(&ch);
    tlsv_ctx_free(sc);
}

/* supported_versions at its largest (127 entries, RFC 8446 §4.2.1: <2..254>
 * bytes): TLS 1.3 at the end of a list of unknown versions is still seen. */
static void test_long_supported_versions(void **state)
{
    (void)state;
    tlsv_ctx *sc = hs_ctx(0, 0, NULL, NULL);
    for (size_t n = 2; n <= TLSV_MSG_MAX_VERSIONS; n += 125) {
        uint16_t v[TLSV_MSG_MAX_VERSIONS];
        for (size_t i = 0; i + 1 < n; i++)
            v[i] = (uint16_t)(0x7f00 + i); /* unknown (drafts, future) */
        v[n - 1] = TLSV_V_TLS13;
        ch_opts o = {.versions = v, .n_versions = n};
        hbuf ch = {0};
        build_ch(&ch, &o);
        tlsv_conn *s = server_with_ch(sc, &ch);
        int rc = tlsv_conn_handshake(s);
        if (rc != TLSV_WANT_READ)
            fail_msg("%zu versions: %s", n, tlsv_conn_last_error(s)->message);
        hbuf out = {0};
        take_all(s, &out);
        hrec r[8];
        split_records(out.p, out.n, r, 8);
        tlsv_server_hello sh;
        tlsv_error err;
        assert_int_equal(r[0].body[0], TLSV_HS_SERVER_HELLO);
        assert_int_equal(tlsv_msg_parse_server_hello(r[0].body + 4, get24(r[0].body + 1), &sh, &err),
                         0);
        assert_int_equal(sh.selected_version, TLSV_V_TLS13);
        hb_free(&out);
        hb_free(&ch);
        tlsv_conn_free(s);
    }
    tlsv_ctx_free(sc);
}

/* ---------------------------------------------------------------------- */
/* Duplicate extensions                                                    */
/* ---------------------------------------------------------------------- */

/* RFC 8446 §4.2, RFC 5246 §7.4.1.4: "There MUST NOT be more than one
 * extension of the same type" -- illegal_parameter (BAD_EXTENSION), in a
 * ClientHello, a ServerHello (1.3 and 1.2) and EncryptedExtensions. */
static void test_duplicate_extensions(void **state)
{
    (void)state;
    tlsv_ctx *sc = hs_ctx(0, 0, NULL, NULL);
    static const uint8_t versions[] = {2, 0x03, 0x04};
    static const uint8_t name[] = {0, 12, 0, 0, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't'};
    static const uint8_t groups[] = {0, 2, 0, 0x17};
    const struct {
        uint16_t type;
        const uint8_t *data;
        size_t n;
    } dups[] = {
        {TLSV_EXT_SUPPORTED_VERSIONS, versions, sizeof versions},
        {TLSV_EXT_SERVER_NAME, name, sizeof name},
        {TLSV_EXT_SUPPORTED_GROUPS, groups, sizeof groups},
        {TLSV_EXT_EXTENDED_MASTER_SECRET, NULL, 0},
        {0xfe01, NULL, 0}, /* unknown, twice */
    };
    for (size_t i = 0; i < sizeof dups / sizeof dups[0]; i++) {
        hbuf ch = {0};
        ch_opts o = {.ems = true};
        build_ch(&ch, &o);
        size_t off = ch_ext_off(ch.p);
        if (dups[i].type == 0xfe01)
            msg_append_ext(&ch, off, 0xfe01, NULL, 0);
        msg_append_ext(&ch, off, dups[i].type, dups[i].data, dups[i].n);
        expect_server_fails(sc, &ch, TLSV_R_BAD_EXTENSION, TLSV_ALERT_ILLEGAL_PARAMETER);
        hb_free(&ch);
    }
    tlsv_ctx_free(sc);

    /* a TLS 1.3 ServerHello with supported_versions twice */
    scene x;
    scene_start(&x, 0, NULL);
    hbuf sh = {0}, f = {0};
    hb_put(&sh, x.sh.p, x.sh.n);
    static const uint8_t v13[] = {0x03, 0x04};
    msg_append_ext(&sh, sh_ext_off(sh.p), TLSV_EXT_SUPPORTED_VERSIONS, v13, 2);
    scene_flight13(&x, sh.p, sh.n, x.shs.p, x.shs.n, 16384, &f);
    feed(x.c, &f);
    assert_int_equal(tlsv_conn_handshake(x.c), -1);
    expect_fail_local(x.c, &x.cview, TLSV_R_BAD_EXTENSION, TLSV_ALERT_ILLEGAL_PARAMETER);
    scene_free(&x);
    /* EncryptedExtensions with server_name twice */
    scene_start(&x, 0, NULL);
    hmsg m[8];
    size_t nm = split_messages(x.shs.p, x.shs.n, m, 8);
    assert_int_equal(m[0].type, TLSV_HS_ENCRYPTED_EXTENSIONS);
    hbuf ee = {0};
    hb_put(&ee, m[0].p, m[0].n);
    msg_append_ext(&ee, 4, TLSV_EXT_SERVER_NAME, NULL, 0);
    msg_append_ext(&ee, 4, TLSV_EXT_SERVER_NAME, NULL, 0);
    hb_put(&ee, m[1].p, x.shs.n - m[0].n);
    hb_clear(&f);
    scene_flight13(&x, x.sh.p, x.sh.n, ee.p, ee.n, 16384, &f);
    feed(x.c, &f);
    assert_int_equal(tlsv_conn_handshake(x.c), -1);
    expect_fail_local(x.c, &x.cview, TLSV_R_BAD_EXTENSION, TLSV_ALERT_ILLEGAL_PARAMETER);
    (void)nm;
    scene_free(&x);
    /* a TLS 1.2 ServerHello with renegotiation_info twice */
    scene_start(&x, TLSV_VERSION_TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256");
    nm = split_messages(x.sh.p, x.sh.n, m, 8);
    hb_clear(&sh);
    hb_put(&sh, m[0].p, m[0].n);
    msg_append_ext(&sh, sh_ext_off(sh.p), TLSV_EXT_RENEGOTIATION_INFO, "\0", 1);
    hb_put(&sh, m[1].p, x.sh.n - m[0].n);
    hb_clear(&f);
    put_record(&f, 22, 0x0303, sh.p, sh.n);
    feed(x.c, &f);
    assert_int_equal(tlsv_conn_handshake(x.c), -1);
    expect_fail_local(x.c, &x.cview, TLSV_R_BAD_EXTENSION, TLSV_ALERT_ILLEGAL_PARAMETER);
    scene_free(&x);
    hb_free(&sh);
    hb_free(&ee);
    hb_free(&f);
}

/* ---------------------------------------------------------------------- */
/* Extensions in the wrong message, or never offered                       */
/* ---------------------------------------------------------------------- */

/* A TLS 1.3 client gets EncryptedExtensions with one more extension. */
/* ALPN names for ee_with's client when it is given a host (NULL: none) */
static const char *const *ee_alpn;
static size_t ee_alpn_n;

static void ee_with(uint16_t type, const void *data, size_t n, const char *host, tlsv_reason reason,
                    int alert)
{
    scene x;
    memset(&x, 0, sizeof x);
    if (!host) {
        scene_start(&x, 0, NULL);
    } else { /* a client that sent no SNI (an IP address) */
        x.sc = hs_ctx(0, 0, NULL, &x.skeys);
        x.cc = hc_ctx(0, 0, NULL, &x.ckeys);
        if (ee_alpn)
            assert_int_equal(tlsv_ctx_set_alpn_protocols(x.cc, ee_alpn, ee_alpn_n), 0);
        tlsv_error err;
        x.c = tlsv_conn_new(x.cc, TLSV_ROLE_CLIENT, host, &err);
        assert_non_null(x.c);
        x.s = h_conn(x.sc, TLSV_ROLE_SERVER);
        x.version = TLSV_V_TLS13;
        view_init13(&x.cview, &x.ckeys, false);
        view_init13(&x.sview, &x.skeys, true);
        assert_int_equal(tlsv_conn_handshake(x.c), TLSV_WANT_READ);
        hbuf chb = {0};
        take_view(x.c, &x.cview, &chb, NULL);
        feed(x.s, &chb);
        hb_free(&chb);
        assert_int_equal(tlsv_conn_handshake(x.s), TLSV_WANT_READ);
        take_view(x.s, &x.sview, &x.flight, NULL);
        hrec r[16];
        size_t nr = split_records(x.flight.p, x.flight.n, r, 16);
        k13 k;
        k13_init(&k, x.skeys.s_hs, x.skeys.slen);
        for (size_t i = 0; i < nr; i++) {
            if (r[i].type == 22)
                hb_put(&x.sh, r[i].body, r[i].len);
            if (r[i].type == 23) {
                uint8_t *pt = malloc(r[i].len);
                uint8_t t = 0;
                size_t pn = 0;
                assert_int_equal(k13_open(&k, &r[i], &t, pt, &pn), 0);
                hb_put(&x.shs, pt, pn);
                free(pt);
            }
        }
        k13_free(&k);
    }
    hmsg m[8];
    split_messages(x.shs.p, x.shs.n, m, 8);
    assert_int_equal(m[0].type, TLSV_HS_ENCRYPTED_EXTENSIONS);
    hbuf ee = {0}, f = {0};
    hb_put(&ee, m[0].p, m[0].n);
    msg_append_ext(&ee, 4, type, data, n);
    hb_put(&ee, m[1].p, x.shs.n - m[0].n);
    scene_flight13(&x, x.sh.p, x.sh.n, ee.p, ee.n, 16384, &f);
    feed(x.c, &f);
    int rc = tlsv_conn_handshake(x.c);
    if (rc != -1)
        fail_msg("EncryptedExtensions with extension %u accepted (%d)", type, rc);
    expect_fail_local(x.c, &x.cview, reason, alert);
    hb_free(&ee);
    hb_free(&f);
    scene_free(&x);
}

/* A TLS 1.3 client gets a ServerHello with one more extension. */
static void sh13_with(uint16_t type, const void *data, size_t n, tlsv_reason reason, int alert)
{
    scene x;
    scene_start(&x, 0, NULL);
    hbuf sh = {0}, f = {0};
    hb_put(&sh, x.sh.p, x.sh.n);
    msg_append_ext(&sh, sh_ext_off(sh.p), type, data, n);
    scene_flight13(&x, sh.p, sh.n, x.shs.p, x.shs.n, 16384, &f);
    feed(x.c, &f);
    int rc = tlsv_conn_handshake(x.c);
    if (rc != -1)
        fail_msg("a TLS 1.3 ServerHello with extension %u accepted (%d)", type, rc);
    expect_fail_local(x.c, &x.cview, reason, alert);
    hb_free(&sh);
    hb_free(&f);
    scene_free(&x);
}

/* A TLS 1.2 client (offering `suites`) gets a ServerHello with one more
 * extension. */
static void sh12_with(const char *suites, uint16_t type, const void *data, size_t n,
                      tlsv_reason reason, int alert)
{
    scene x;
    /* a client that does not offer session tickets (a tlsv server answers
     * the extension when offered) */
    scene_start_opts(&x, TLSV_VERSION_TLSv1_2, suites, TLSV_OP_NO_TICKET);
    hmsg m[8];
    split_messages(x.sh.p, x.sh.n, m, 8);
    hbuf sh = {0}, f = {0};
    hb_put(&sh, m[0].p, m[0].n);
    msg_append_ext(&sh, sh_ext_off(sh.p), type, data, n);
    hb_put(&sh, m[1].p, x.sh.n - m[0].n);
    put_record(&f, 22, 0x0303, sh.p, sh.n);
    feed(x.c, &f);
    int rc = tlsv_conn_handshake(x.c);
    if (rc != -1)
        fail_msg("a TLS 1.2 ServerHello with extension %u accepted (%d)", type, rc);
    expect_fail_local(x.c, &x.cview, reason, alert);
    hb_free(&sh);
    hb_free(&f);
    scene_free(&x);
}

/* Handshake data after a ClientHello in its record: the client must wait
 * for the server's answer (BoGo PartialClientKeyExchangeWithClientHello,
 * PartialSecondClientHelloAfterFirst) -> unexpected_message, whether TLS
 * 1.3 or TLS 1.2 is to be negotiated. */
static void test_data_after_client_hello(void **state)
{
    (void)state;
    static const uint8_t partial_cke[] = {TLSV_HS_CLIENT_KEY_EXCHANGE, 0, 0, 0x21, 0x20};
    static const uint16_t only12[] = {TLSV_V_TLS12};
    for (int tls12 = 0; tls12 < 2; tls12++) {
        tlsv_ctx *sc = hs_ctx(0, 0, NULL, NULL);
        hbuf ch = {0};
        ch_opts o = {0};
        if (tls12) {
            o.versions = only12;
            o.n_versions = 1;
        }
        build_ch(&ch, &o);
        hb_put(&ch, partial_cke, sizeof partial_cke);
        expect_server_fails(sc, &ch, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE);
        hb_free(&ch);
        tlsv_ctx_free(sc);
    }
}

static void test_misplaced_extensions(void **state)
{
    (void)state;
    static const uint8_t share[] = {0, 0x1d, 0, 32, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                    14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
                                    29, 30, 31, 32};
    static const uint8_t sv[] = {0x03, 0x04};
    static const uint8_t sigalgs[] = {0, 2, 0x04, 0x03};
    /* RFC 8446 §4.2: a known extension in a message it is not specified
     * for -> illegal_parameter */
    ee_with(TLSV_EXT_KEY_SHARE, share, sizeof share, NULL, TLSV_R_BAD_EXTENSION,
            TLSV_ALERT_ILLEGAL_PARAMETER);
    ee_with(TLSV_EXT_SUPPORTED_VERSIONS, sv, sizeof sv, NULL, TLSV_R_BAD_EXTENSION,
            TLSV_ALERT_ILLEGAL_PARAMETER);
    ee_with(TLSV_EXT_SIGNATURE_ALGORITHMS, sigalgs, sizeof sigalgs, NULL, TLSV_R_BAD_EXTENSION,
            TLSV_ALERT_ILLEGAL_PARAMETER);
    ee_with(TLSV_EXT_EXTENDED_MASTER_SECRET, NULL, 0, NULL, TLSV_R_BAD_EXTENSION,
            TLSV_ALERT_ILLEGAL_PARAMETER);
    ee_with(TLSV_EXT_COOKIE, "\0\1x", 3, NULL, TLSV_R_BAD_EXTENSION, TLSV_ALERT_ILLEGAL_PARAMETER);
    sh13_with(TLSV_EXT_EXTENDED_MASTER_SECRET, NULL, 0, TLSV_R_BAD_EXTENSION,
              TLSV_ALERT_ILLEGAL_PARAMETER);
    sh13_with(TLSV_EXT_SERVER_NAME, NULL, 0, TLSV_R_BAD_EXTENSION, TLSV_ALERT_ILLEGAL_PARAMETER);
    sh13_with(TLSV_EXT_ALPN, "\0\3\2h2", 5, TLSV_R_BAD_EXTENSION, TLSV_ALERT_ILLEGAL_PARAMETER);
    sh12_with("ECDHE-ECDSA-AES128-GCM-SHA256", TLSV_EXT_KEY_SHARE, share, sizeof share,
              TLSV_R_BAD_EXTENSION, TLSV_ALERT_ILLEGAL_PARAMETER);
    sh12_with("ECDHE-ECDSA-AES128-GCM-SHA256", TLSV_EXT_SUPPORTED_VERSIONS, sv, sizeof sv,
              TLSV_R_BAD_EXTENSION, TLSV_ALERT_ILLEGAL_PARAMETER);
    /* supported_versions selecting TLS 1.2 does not make a TLS 1.3
     * ServerHello: the version policy answers (this client never sent the
     * extension: unsupported_extension), not a complaint about the TLS 1.2
     * extensions beside it (BoGo SupportedVersionSelection-TLS12) */
    static const uint8_t sv12[] = {0x03, 0x03};
    sh12_with("ECDHE-ECDSA-AES128-GCM-SHA256", TLSV_EXT_SUPPORTED_VERSIONS, sv12, sizeof sv12,
              TLSV_R_UNSOLICITED_EXTENSION, TLSV_ALERT_UNSUPPORTED_EXTENSION);
    /* a ClientHello with oid_filters (CertificateRequest only) */
    tlsv_ctx *sc = hs_ctx(0, 0, NULL, NULL);
    hbuf ch = {0};
    ch_opts o = {0};
    build_ch(&ch, &o);
    msg_append_ext(&ch, ch_ext_off(ch.p), TLSV_EXT_OID_FILTERS, "\0\0", 2);
    expect_server_fails(sc, &ch, TLSV_R_BAD_EXTENSION, TLSV_ALERT_ILLEGAL_PARAMETER);
    hb_free(&ch);
    tlsv_ctx_free(sc);

    /* RFC 7301 §3.2: the server's choice must be one the client offered;
     * a client configured with 17 names offers the first 16 (docs/limits.md)
     * and must not accept the 17th */
    static const char *const seventeen[] = {"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9",
                                            "p10", "p11", "p12", "p13", "p14", "p15", "p16",
                                            "p17"};
    ee_alpn = seventeen;
    ee_alpn_n = 17;
    ee_with(TLSV_EXT_ALPN, "\0\4\3p17", 6, "localhost", TLSV_R_ILLEGAL_PARAMETER,
            TLSV_ALERT_ILLEGAL_PARAMETER);
    ee_alpn = NULL;
    ee_alpn_n = 0;

    /* RFC 8446 §4.2 / RFC 5246 §7.4.1.4: an answer to an extension the
     * client did not send -> unsupported_extension */
    static const uint8_t psk[] = {0, 0};
    sh13_with(TLSV_EXT_PRE_SHARED_KEY, psk, sizeof psk, TLSV_R_UNSOLICITED_EXTENSION,
              TLSV_ALERT_UNSUPPORTED_EXTENSION);
    sh13_with(0xfe02, "x", 1, TLSV_R_UNSOLICITED_EXTENSION, TLSV_ALERT_UNSUPPORTED_EXTENSION);
    sh13_with(0x1a1a, NULL, 0, TLSV_R_UNSOLICITED_EXTENSION, TLSV_ALERT_UNSUPPORTED_EXTENSION);
    ee_with(0xfe02, "x", 1, NULL, TLSV_R_UNSOLICITED_EXTENSION, TLSV_ALERT_UNSUPPORTED_EXTENSION);
    ee_with(TLSV_EXT_ALPN, "\0\3\2h2", 5, NULL, TLSV_R_UNSOLICITED_EXTENSION,
            TLSV_ALERT_UNSUPPORTED_EXTENSION);
    ee_with(TLSV_EXT_EARLY_DATA, NULL, 0, NULL, TLSV_R_UNSOLICITED_EXTENSION,
            TLSV_ALERT_UNSUPPORTED_EXTENSION);
    ee_with(TLSV_EXT_RECORD_SIZE_LIMIT, "\x40\0", 2, NULL, TLSV_R_UNSOLICITED_EXTENSION,
            TLSV_ALERT_UNSUPPORTED_EXTENSION);
    ee_with(TLSV_EXT_SERVER_NAME, NULL, 0, "127.0.0.1", TLSV_R_UNSOLICITED_EXTENSION,
            TLSV_ALERT_UNSUPPORTED_EXTENSION);
    sh12_with("ECDHE-ECDSA-AES128-GCM-SHA256", 0xfe02, "x", 1, TLSV_R_UNSOLICITED_EXTENSION,
              TLSV_ALERT_UNSUPPORTED_EXTENSION);
    sh12_with("ECDHE-ECDSA-AES128-GCM-SHA256", TLSV_EXT_SESSION_TICKET, NULL, 0,
              TLSV_R_UNSOLICITED_EXTENSION, TLSV_ALERT_UNSUPPORTED_EXTENSION);
    sh12_with("ECDHE-ECDSA-AES128-GCM-SHA256", TLSV_EXT_ENCRYPT_THEN_MAC, NULL, 0,
              TLSV_R_UNSOLICITED_EXTENSION, TLSV_ALERT_UNSUPPORTED_EXTENSION);
    sh12_with("ECDHE-ECDSA-AES128-GCM-SHA256", TLSV_EXT_ALPN, "\0\3\2h2", 5,
              TLSV_R_UNSOLICITED_EXTENSION, TLSV_ALERT_UNSUPPORTED_EXTENSION);
}

/* ---------------------------------------------------------------------- */
/* Every length field of a ClientHello, mutated                            */
/* ---------------------------------------------------------------------- */

typedef struct lfield {
    size_t off;   /* in the record (header included) */
    unsigned width;
    char name[48];
} lfield;

static size_t add_field(lfield *f, size_t n, size_t off, unsigned width, const char *name)
{
    assert_true(n < 128);
    f[n].off = off;
    f[n].width = width;
    snprintf(f[n].name, sizeof f[n].name, "%s", name);
    return n + 1;
}

/* Walks a ClientHello record (5-byte record header + message) and lists
 * every length field, nested ones included. */
static size_t walk_ch(const uint8_t *rec, size_t len, lfield *f)
{
    size_t n = 0;
    n = add_field(f, n, 3, 2, "record length");
    n = add_field(f, n, 6, 3, "handshake length");
    size_t off = 5 + 4 + 2 + 32;
    n = add_field(f, n, off, 1, "legacy_session_id");
    off += 1 + rec[off];
    n = add_field(f, n, off, 2, "cipher_suites");
    off += 2 + get16(rec + off);
    n = add_field(f, n, off, 1, "legacy_compression_methods");
    off += 1 + rec[off];
    n = add_field(f, n, off, 2, "extensions");
    size_t end = off + 2 + get16(rec + off);
    assert_int_equal(end, len);
    off += 2;
    while (off < end) {
        unsigned type = get16(rec + off), elen = get16(rec + off + 2);
        char name[48];
        snprintf(name, sizeof name, "%s length", tlsv_ext_name((uint16_t)type));
        n = add_field(f, n, off + 2, 2, name);
        size_t d = off + 4, dend = d + elen;
        switch (type) {
        case TLSV_EXT_SERVER_NAME:
            n = add_field(f, n, d, 2, "server_name_list");
            n = add_field(f, n, d + 3, 2, "host_name");
            break;
        case TLSV_EXT_SUPPORTED_GROUPS:
            n = add_field(f, n, d, 2, "named_group_list");
            break;
        case TLSV_EXT_SIGNATURE_ALGORITHMS:
        case TLSV_EXT_SIGNATURE_ALGORITHMS_CERT:
            n = add_field(f, n, d, 2, "supported_signature_algorithms");
            break;
        case TLSV_EXT_SUPPORTED_VERSIONS:
            n = add_field(f, n, d, 1, "versions");
            break;
        case TLSV_EXT_PSK_KEY_EXCHANGE_MODES:
            n = add_field(f, n, d, 1, "ke_modes");
            break;
        case TLSV_EXT_EC_POINT_FORMATS:
            n = add_field(f, n, d, 1, "ec_point_format_list");
            break;
        case TLSV_EXT_RENEGOTIATION_INFO:
            n = add_field(f, n, d, 1, "renegotiated_connection");
            break;
        case TLSV_EXT_KEY_SHARE:
            n = add_field(f, n, d, 2, "client_shares");
            for (size_t e = d + 2; e < dend; e += 4 + get16(rec + e + 2))
                n = add_field(f, n, e + 2, 2, "key_exchange");
            break;
        case TLSV_EXT_ALPN:
            n = add_field(f, n, d, 2, "protocol_name_list");
            for (size_t e = d + 2; e < dend; e += 1 + rec[e])
                n = add_field(f, n, e, 1, "ProtocolName");
            break;
        default: /* no inner length tlsv reads (status_request, session_ticket,
                    record_size_limit, empty ones) */
            break;
        }
        off = dend;
    }
    return n;
}

static size_t get_field(const uint8_t *p, unsigned width)
{
    return width == 1 ? p[0] : width == 2 ? get16(p) : get24(p);
}

static void put_field(uint8_t *p, unsigned width, size_t v)
{
    if (width == 1)
        p[0] = (uint8_t)v;
    else if (width == 2)
        set16(p, v);
    else
        set24(p, v);
}

static void mutate_all(tlsv_ctx *sc, const ch_opts *o)
{
    hbuf ch = {0}, rec = {0};
    build_ch(&ch, o);
    put_record(&rec, 22, 0x0301, ch.p, ch.n);
    /* the unmutated record is answered */
    tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
    feed(s, &rec);
    expect_server_hello(s);
    tlsv_conn_free(s);
    lfield f[128];
    size_t nf = walk_ch(rec.p, rec.n, f);
    assert_true(nf >= 20);
    size_t checked = 0;
    for (size_t i = 0; i < nf; i++) {
        size_t orig = get_field(rec.p + f[i].off, f[i].width);
        size_t maxv = f[i].width == 1 ? 0xff : f[i].width == 2 ? 0xffff : 0xffffff;
        size_t values[4] = {orig + 1, orig - 1, 0, maxv};
        for (int m = 0; m < 4; m++) {
            size_t v = values[m];
            if (v == orig || v > maxv || (m == 1 && orig == 0))
                continue;
            put_field(rec.p + f[i].off, f[i].width, v);
            s = h_conn(sc, TLSV_ROLE_SERVER);
            feed(s, &rec);
            int rc = tlsv_conn_handshake(s);
            /* what each mutation must give */
            tlsv_reason want = TLSV_R_DECODE_ERROR;
            int alert = TLSV_ALERT_DECODE_ERROR;
            bool eof = false;
            if (i == 0) { /* record length */
                if (v == 0) {
                    want = TLSV_R_UNEXPECTED_MESSAGE;
                    alert = TLSV_ALERT_UNEXPECTED_MESSAGE;
                } else if (v > 16384 + 2048) {
                    want = TLSV_R_RECORD_OVERFLOW;
                    alert = TLSV_ALERT_RECORD_OVERFLOW;
                } else {
                    eof = true; /* a record or a message left incomplete */
                }
            } else if (i == 1) { /* handshake length */
                if (v > TLSV_MAX_HANDSHAKE_MESSAGE) {
                    want = TLSV_R_EXCESSIVE_MESSAGE_SIZE;
                    alert = TLSV_ALERT_ILLEGAL_PARAMETER;
                } else if (v > orig) {
                    eof = true;
                }
            }
            if (eof) {
                if (rc != TLSV_WANT_READ)
                    fail_msg("%s %zu -> %zu: %d, expected to wait for more", f[i].name, orig, v,
                             rc);
                assert_int_equal(tlsv_conn_pending_output(s), 0);
                tlsv_conn_feed_eof(s);
                assert_int_equal(tlsv_conn_handshake(s), -1);
                expect_fail_quiet(s, TLSV_R_UNEXPECTED_EOF_WHILE_READING, TLSV_ALERT_NONE,
                                  TLSV_SIDE_REMOTE);
            } else {
                const tlsv_error *e = tlsv_conn_last_error(s);
                if (rc != -1 || e->reason != want)
                    fail_msg("%s %zu -> %zu: %d %s (%s), expected %s", f[i].name, orig, v, rc,
                             tlsv_reason_name(e->reason), e->message, tlsv_reason_name(want));
                expect_fail_local(s, NULL, want, alert);
            }
            tlsv_conn_free(s);
            put_field(rec.p + f[i].off, f[i].width, orig);
            checked++;
        }
    }
    assert_true(checked >= 4 * 20);
    hb_free(&ch);
    hb_free(&rec);
}

static void test_client_hello_lengths(void **state)
{
    (void)state;
    tlsv_ctx *sc = hs_ctx(TLSV_VERSION_TLSv1, 0, NULL, NULL);
    /* a TLS 1.3 ClientHello with every extension tlsv parses */
    ch_opts o13 = {.all = true, .ems = true, .etm = true};
    mutate_all(sc, &o13);
    /* a TLS 1.2 one */
    static const uint16_t suites12[] = {0xc02b, 0xc009, 0xc023};
    ch_opts o12 = {.all = true, .no_versions = true, .ems = true, .etm = true,
                   .suites = suites12, .n_suites = 3};
    mutate_all(sc, &o12);
    tlsv_ctx_free(sc);
}

/* ---------------------------------------------------------------------- */
/* legacy_compression_methods                                              */
/* ---------------------------------------------------------------------- */

/* A copy of the ClientHello `ch` whose compression methods are {1, 0}
 * (deflate, then null). */
static void with_deflate(const hbuf *ch, hbuf *out)
{
    size_t sid = 4 + 2 + 32;
    size_t suites = sid + 1 + ch->p[sid];
    size_t comp = suites + 2 + (((size_t)ch->p[suites] << 8) | ch->p[suites + 1]);
    hb_put(out, ch->p, comp);
    uint8_t two[2] = {(uint8_t)(ch->p[comp] + 1), 1};
    hb_put(out, two, 2);
    hb_put(out, ch->p + comp + 1, ch->n - comp - 1);
    size_t body = out->n - 4;
    out->p[1] = (uint8_t)(body >> 16);
    out->p[2] = (uint8_t)(body >> 8);
    out->p[3] = (uint8_t)body;
}

/* RFC 8446 §4.1.2: a TLS 1.3 ClientHello carries exactly one compression
 * method, null; a server choosing TLS 1.3 refuses any other list with
 * illegal_parameter. A TLS 1.2 ClientHello may list more (RFC 5246
 * §7.4.1.2, null must be among them). Found by BoGo's
 * ExtraCompressionMethods-TLS13. */
static void test_compression_methods(void **state)
{
    (void)state;
    tlsv_ctx *sc = hs_ctx(TLSV_VERSION_TLSv1, 0, NULL, NULL);
    hbuf ch = {0}, bad = {0};
    ch_opts o13 = {0};
    build_ch(&ch, &o13);
    with_deflate(&ch, &bad);
    expect_server_fails(sc, &bad, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER);
    /* the unmodified one is answered */
    tlsv_conn *s = server_with_ch(sc, &ch);
    expect_server_hello(s);
    tlsv_conn_free(s);
    /* TLS 1.2 only: {1, 0} is fine */
    static const uint16_t suites12[] = {0xc02b, 0xc02f, 0xc009, 0xc013};
    ch_opts o12 = {.no_versions = true, .suites = suites12, .n_suites = 4};
    hb_clear(&ch);
    hb_clear(&bad);
    build_ch(&ch, &o12);
    with_deflate(&ch, &bad);
    s = server_with_ch(sc, &bad);
    expect_server_hello(s);
    tlsv_conn_free(s);
    hb_free(&ch);
    hb_free(&bad);
    tlsv_ctx_free(sc);
}

/* RFC 8446 §9.2: a ClientHello with supported_groups but no key_share is a
 * missing_extension -- also the second one, after a HelloRetryRequest
 * (found by BoGo's SecondClientHelloMissingKeyShare-TLS13). */
static void test_second_client_hello_without_key_share(void **state)
{
    (void)state;
    tlsv_ctx *sc = hs_ctx(TLSV_VERSION_TLSv1, 0, NULL, NULL);
    assert_int_equal(tlsv_ctx_set_groups(sc, "P-256"), 0); /* x25519 share: HRR */
    hbuf ch1 = {0}, ch2 = {0}, rec = {0}, out = {0};
    ch_opts o = {0};
    build_ch(&ch1, &o);
    tlsv_conn *s = server_with_ch(sc, &ch1);
    assert_int_equal(tlsv_conn_handshake(s), TLSV_WANT_READ);
    take_all(s, &out);
    assert_int_equal(out.p[5], TLSV_HS_SERVER_HELLO); /* the HelloRetryRequest */
    ch_opts o2 = {.no_key_share = true};
    build_ch(&ch2, &o2);
    put_record(&rec, 22, 0x0303, ch2.p, ch2.n);
    feed(s, &rec);
    assert_int_equal(tlsv_conn_handshake(s), -1);
    expect_fail_local(s, NULL, TLSV_R_MISSING_EXTENSION, TLSV_ALERT_MISSING_EXTENSION);
    tlsv_conn_free(s);
    hb_free(&ch1);
    hb_free(&ch2);
    hb_free(&rec);
    hb_free(&out);
    tlsv_ctx_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_large_client_hello),
        cmocka_unit_test(test_long_supported_versions),
        cmocka_unit_test(test_data_after_client_hello),
        cmocka_unit_test(test_duplicate_extensions),
        cmocka_unit_test(test_misplaced_extensions),
        cmocka_unit_test(test_client_hello_lengths),
        cmocka_unit_test(test_compression_methods),
        cmocka_unit_test(test_second_client_hello_without_key_share),
    };
    return cmocka_run_group_tests(tests, hostile_setup, hostile_teardown);
}
