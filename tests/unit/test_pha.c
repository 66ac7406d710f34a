/*
 * test_pha.c -- TLS 1.3 post-handshake client authentication (RFC 8446
 * §4.2.6, §4.3.2, §4.4, §4.6.2), tlsv client <-> tlsv server in memory.
 *
 * The happy paths run two real tlsv endpoints. The hostile ones take the
 * client's answer apart with its key log's traffic secret (hostile.h),
 * change one thing and seal it again for the server, or seal a
 * CertificateRequest by hand for a client that did not offer the
 * extension.
 */
#include "hostile.h"

static char client_leaf[512];
static char client_rsa[512];

static int setup(void **state)
{
    if (hostile_setup(state) != 0)
        return -1;
    testpki_leaf("pha-client", TESTPKI_EC256, "DNS:client.example", client_leaf,
                 sizeof client_leaf);
    testpki_leaf("pha-client-rsa", TESTPKI_RSA2048, "DNS:client.example", client_rsa,
                 sizeof client_rsa);
    return 0;
}

static int teardown(void **state)
{
    return hostile_teardown(state);
}

typedef struct pha_pair {
    tlsv_ctx *cc, *sc;
    tlsv_conn *c, *s;
    hkeys ckeys, skeys;
    int trace_done; /* server trace lines "post-handshake authentication complete" */
} pha_pair;

static void s_trace(const tlsv_conn *conn, int dir, const char *text, void *arg)
{
    (void)conn;
    (void)dir;
    if (strstr(text, "post-handshake authentication complete"))
        ((pha_pair *)arg)->trace_done++;
}

/* Server: verify mode `mode`, PHA on (server_pha). Client: PHA client_pha,
 * certificate `cert` (NULL: none). max: maximum version (0: default). */
static void pp_start(pha_pair *p, int mode, bool server_pha, bool client_pha, const char *cert,
                     int max)
{
    memset(p, 0, sizeof *p);
    p->sc = hs_ctx(0, max, NULL, &p->skeys);
    p->cc = hc_ctx(0, max, NULL, &p->ckeys);
    assert_int_equal(tlsv_ctx_load_verify_locations(p->sc, testpki_ca_path(), NULL), 0);
    assert_int_equal(tlsv_ctx_set_verify_mode(p->sc, mode), 0);
    assert_int_equal(tlsv_ctx_set_post_handshake_auth(p->sc, server_pha), 0);
    assert_int_equal(tlsv_ctx_set_post_handshake_auth(p->cc, client_pha), 0);
    assert_int_equal(tlsv_ctx_get_post_handshake_auth(p->cc), client_pha ? 1 : 0);
    if (cert)
        assert_int_equal(tlsv_ctx_load_cert_chain(p->cc, cert, NULL), 0);
    tlsv_ctx_set_trace_callback(p->sc, s_trace, p);
    p->c = h_conn(p->cc, TLSV_ROLE_CLIENT);
    p->s = h_conn(p->sc, TLSV_ROLE_SERVER);
    h_handshake(p->c, p->s);
}

static void pp_free(pha_pair *p)
{
    tlsv_conn_free(p->c);
    tlsv_conn_free(p->s);
    tlsv_ctx_free(p->cc);
    tlsv_ctx_free(p->sc);
}

static void send_data(tlsv_conn *from, tlsv_conn *to, size_t n, unsigned seed)
{
    uint8_t *d = malloc(n);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)(i * 13 + seed);
    assert_int_equal(tlsv_conn_write(from, d, n), (long)n);
    h_move(from, to);
    expect_read(to, d, n);
    free(d);
}

/* The DER of the first certificate in a PEM file. */
static size_t pem_leaf_der(const char *path, uint8_t *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    int n = i2d_X509(x, NULL);
    assert_true(n > 0 && (size_t)n <= cap);
    uint8_t *p = out;
    i2d_X509(x, &p);
    X509_free(x);
    return (size_t)n;
}

static void expect_peer_leaf(tlsv_conn *s, const char *pem)
{
    uint8_t want[4096];
    size_t wn = pem_leaf_der(pem, want, sizeof want);
    assert_true(tlsv_conn_peer_cert_count(s) >= 1);
    size_t n = 0;
    const uint8_t *der = tlsv_conn_peer_cert_der(s, 0, &n);
    assert_non_null(der);
    assert_int_equal(n, wn);
    assert_memory_equal(der, want, n);
}

/* One whole exchange: request, the client reads it (and answers), the
 * server reads the answer. */
static void expect_request(tlsv_conn *s)
{
    if (tlsv_conn_verify_client_post_handshake(s) != 0) {
        char b[600];
        tlsv_error_format(tlsv_conn_last_error(s), b, sizeof b);
        fail_msg("the request was refused: %s", b);
    }
}

static void pha_round(pha_pair *p)
{
    expect_request(p->s);
    assert_int_equal(tlsv_conn_post_handshake_auth_pending(p->s), 1);
    assert_true(tlsv_conn_pending_output(p->s) > 0);
    h_move(p->s, p->c);
    expect_want_read(p->c); /* processes the request, queues the answer */
    assert_true(tlsv_conn_pending_output(p->c) > 0);
    h_move(p->c, p->s);
    expect_want_read(p->s);
    assert_int_equal(tlsv_conn_post_handshake_auth_pending(p->s), 0);
}

/* A client certificate after the handshake: the handshake asked for none
 * (the client offered the extension), the answer verifies, the server then
 * has the client's chain; data flows before and after; several rounds,
 * ECDSA and RSA (RSA-PSS) clients, CERT_REQUIRED and CERT_OPTIONAL. */
static void test_with_cert(void **state)
{
    (void)state;
    const char *certs[2] = {client_leaf, client_rsa};
    int modes[2] = {TLSV_CERT_REQUIRED, TLSV_CERT_OPTIONAL};
    for (int i = 0; i < 2; i++) {
        pha_pair p;
        pp_start(&p, modes[i], true, true, certs[i], 0);
        assert_int_equal(tlsv_conn_peer_cert_count(p.s), 0); /* not asked in the handshake */
        send_data(p.c, p.s, 100, 1);
        send_data(p.s, p.c, 100, 2);
        pha_round(&p);
        expect_peer_leaf(p.s, certs[i]);
        assert_int_equal(p.trace_done, 1);
        send_data(p.c, p.s, 3000, 3);
        send_data(p.s, p.c, 3000, 4);
        pha_round(&p); /* again: a new context, the same result */
        expect_peer_leaf(p.s, certs[i]);
        assert_int_equal(p.trace_done, 2);
        send_data(p.c, p.s, 10, 5);
        pp_free(&p);
    }
}

/* No client certificate: CERT_OPTIONAL accepts the empty answer (no peer
 * certificate); CERT_REQUIRED fails with certificate_required on the
 * server, and the client learns it from the alert. */
static void test_without_cert(void **state)
{
    (void)state;
    pha_pair p;
    pp_start(&p, TLSV_CERT_OPTIONAL, true, true, NULL, 0);
    pha_round(&p);
    assert_int_equal(tlsv_conn_peer_cert_count(p.s), 0);
    assert_int_equal(p.trace_done, 1);
    send_data(p.c, p.s, 100, 1);
    send_data(p.s, p.c, 100, 2);
    pp_free(&p);

    pp_start(&p, TLSV_CERT_REQUIRED, true, true, NULL, 0);
    send_data(p.c, p.s, 10, 1); /* the handshake did not ask: data flows */
    assert_int_equal(tlsv_conn_verify_client_post_handshake(p.s), 0);
    h_move(p.s, p.c);
    expect_want_read(p.c);
    h_move(p.c, p.s);
    uint8_t b[16];
    uint64_t seq = tlsv_conn_engine(p.s)->wr.seq;
    assert_int_equal(tlsv_conn_read(p.s, b, sizeof b), -1);
    hview v;
    view_init13(&v, &p.skeys, true);
    v.epoch = 2;
    k13_init(&v.k, p.skeys.s_ap, p.skeys.slen);
    v.k.seq = seq;
    expect_fail_local(p.s, &v, TLSV_R_PEER_DID_NOT_RETURN_A_CERTIFICATE,
                      TLSV_ALERT_CERTIFICATE_REQUIRED);
    view_free(&v);
    assert_int_equal(tlsv_conn_peer_cert_count(p.s), 0);
    pp_free(&p);

    /* the same, but the alert travels to the client */
    pp_start(&p, TLSV_CERT_REQUIRED, true, true, NULL, 0);
    assert_int_equal(tlsv_conn_verify_client_post_handshake(p.s), 0);
    h_move(p.s, p.c);
    expect_want_read(p.c);
    h_move(p.c, p.s);
    assert_int_equal(tlsv_conn_read(p.s, b, sizeof b), -1);
    h_move(p.s, p.c);
    assert_int_equal(tlsv_conn_read(p.c, b, sizeof b), -1);
    expect_err(p.c, TLSV_R_TLSV13_ALERT_CERTIFICATE_REQUIRED, TLSV_ALERT_CERTIFICATE_REQUIRED,
               TLSV_SIDE_REMOTE);
    pp_free(&p);
}

/* A client that did not offer post_handshake_auth: the server's request is
 * refused (EXTENSION_NOT_RECEIVED), nothing is sent, the connection goes
 * on; with CERT_REQUIRED the handshake itself asked and got the
 * certificate. Also the other refusals of the call. */
static void test_refusals(void **state)
{
    (void)state;
    pha_pair p;
    pp_start(&p, TLSV_CERT_REQUIRED, true, false, client_leaf, 0);
    expect_peer_leaf(p.s, client_leaf); /* asked in the handshake */
    assert_int_equal(tlsv_conn_verify_client_post_handshake(p.s), -1);
    expect_err(p.s, TLSV_R_EXTENSION_NOT_RECEIVED, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL);
    assert_non_null(strstr(tlsv_conn_last_error(p.s)->message, "post_handshake_auth"));
    assert_int_equal(tlsv_conn_pending_output(p.s), 0);
    assert_int_equal(tlsv_conn_post_handshake_auth_pending(p.s), 0);
    send_data(p.c, p.s, 100, 1);
    send_data(p.s, p.c, 100, 2);
    /* a client cannot request */
    assert_int_equal(tlsv_conn_verify_client_post_handshake(p.c), -1);
    expect_err(p.c, TLSV_R_WRONG_SIDE, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL);
    pp_free(&p);

    /* the server's context has post_handshake_auth off: the handshake asks
     * as usual, the call is refused */
    pp_start(&p, TLSV_CERT_REQUIRED, false, true, client_leaf, 0);
    expect_peer_leaf(p.s, client_leaf);
    assert_int_equal(tlsv_conn_verify_client_post_handshake(p.s), -1);
    expect_err(p.s, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL);
    assert_int_equal(tlsv_conn_pending_output(p.s), 0);
    send_data(p.c, p.s, 10, 1);
    pp_free(&p);

    /* CERT_NONE */
    pp_start(&p, TLSV_CERT_NONE, true, true, client_leaf, 0);
    assert_int_equal(tlsv_conn_verify_client_post_handshake(p.s), -1);
    expect_err(p.s, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL);
    pp_free(&p);

    /* TLS 1.2 */
    pp_start(&p, TLSV_CERT_OPTIONAL, true, true, client_leaf, TLSV_VERSION_TLSv1_2);
    assert_int_equal(tlsv_conn_version_number(p.s), TLSV_VERSION_TLSv1_2);
    assert_int_equal(tlsv_conn_verify_client_post_handshake(p.s), -1);
    expect_err(p.s, TLSV_R_WRONG_SSL_VERSION, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL);
    assert_int_equal(tlsv_conn_pending_output(p.s), 0);
    send_data(p.c, p.s, 10, 1);
    pp_free(&p);

    /* before the handshake; after shutdown; too many outstanding */
    tlsv_ctx *sc = hs_ctx(0, 0, NULL, NULL);
    tlsv_conn *s = h_conn(sc, TLSV_ROLE_SERVER);
    assert_int_equal(tlsv_conn_verify_client_post_handshake(s), -1);
    expect_err(s, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL);
    tlsv_conn_free(s);
    tlsv_ctx_free(sc);
    pp_start(&p, TLSV_CERT_OPTIONAL, true, true, client_leaf, 0);
    for (int i = 0; i < TLSV_MAX_PHA_PENDING; i++)
        assert_int_equal(tlsv_conn_verify_client_post_handshake(p.s), 0);
    assert_int_equal(tlsv_conn_verify_client_post_handshake(p.s), -1);
    expect_err(p.s, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL);
    assert_int_equal(tlsv_conn_post_handshake_auth_pending(p.s), TLSV_MAX_PHA_PENDING);
    /* every one answered, in order */
    h_move(p.s, p.c);
    expect_want_read(p.c);
    h_move(p.c, p.s);
    expect_want_read(p.s);
    assert_int_equal(tlsv_conn_post_handshake_auth_pending(p.s), 0);
    assert_int_equal(p.trace_done, TLSV_MAX_PHA_PENDING);
    expect_peer_leaf(p.s, client_leaf);
    assert_int_equal(tlsv_conn_shutdown(p.s), 1);
    assert_int_equal(tlsv_conn_verify_client_post_handshake(p.s), -1);
    expect_err(p.s, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL);
    pp_free(&p);
}

/* A CertificateRequest after the handshake to a client that did not offer
 * post_handshake_auth: unexpected_message (RFC 8446 §4.3.2). Sealed by
 * hand under the server's application keys. */
static void test_unsolicited_request(void **state)
{
    (void)state;
    pha_pair p;
    pp_start(&p, TLSV_CERT_NONE, false, false, client_leaf, 0);
    static const uint8_t cr[] = {TLSV_HS_CERTIFICATE_REQUEST, 0, 0, 12, 1, 0x42, 0, 8, 0, 13,
                                 0, 4, 0, 2, 4, 3};
    k13 k;
    k13_init(&k, p.skeys.s_ap, p.skeys.slen);
    hbuf b = {0};
    k13_seal(&k, &b, TLSV_CT_HANDSHAKE, cr, sizeof cr, 0, false);
    feed(p.c, &b);
    hb_free(&b);
    k13_free(&k);
    uint8_t buf[16];
    assert_int_equal(tlsv_conn_read(p.c, buf, sizeof buf), -1);
    hview v;
    view_init13(&v, &p.ckeys, false);
    v.epoch = 2; /* the client writes under its application keys */
    k13_init(&v.k, p.ckeys.c_ap, p.ckeys.slen);
    expect_fail_local(p.c, &v, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE);
    view_free(&v);
    pp_free(&p);
}

/* Requests sealed by hand to a client that offered the extension: one
 * without signature_algorithms is missing_extension (RFC 8446 §4.3.2:
 * it MUST be there); one
 * with an empty context and a scheme the client's key cannot sign with is
 * answered with an empty Certificate and a Finished, echoing the context. */
static void test_hand_made_requests(void **state)
{
    (void)state;
    pha_pair p;
    pp_start(&p, TLSV_CERT_NONE, false, true, client_leaf, 0);
    /* an unknown extension only */
    static const uint8_t no_sigalgs[] = {TLSV_HS_CERTIFICATE_REQUEST, 0, 0, 8, 1, 0x42, 0, 4,
                                         0xff, 0x00, 0, 0};
    k13 k;
    k13_init(&k, p.skeys.s_ap, p.skeys.slen);
    hbuf b = {0};
    k13_seal(&k, &b, TLSV_CT_HANDSHAKE, no_sigalgs, sizeof no_sigalgs, 0, false);
    feed(p.c, &b);
    hb_free(&b);
    k13_free(&k);
    uint8_t buf[16];
    assert_int_equal(tlsv_conn_read(p.c, buf, sizeof buf), -1);
    expect_err(p.c, TLSV_R_MISSING_EXTENSION, TLSV_ALERT_MISSING_EXTENSION, TLSV_SIDE_LOCAL);
    pp_free(&p);

    pp_start(&p, TLSV_CERT_NONE, false, true, client_leaf, 0);
    /* rsa_pss_rsae_sha256 only: the client's key is ECDSA */
    static const uint8_t rsa_only[] = {TLSV_HS_CERTIFICATE_REQUEST, 0, 0, 11, 0, 0, 8, 0, 13,
                                       0, 4, 0, 2, 8, 4};
    k13_init(&k, p.skeys.s_ap, p.skeys.slen);
    k13_seal(&k, &b, TLSV_CT_HANDSHAKE, rsa_only, sizeof rsa_only, 0, false);
    feed(p.c, &b);
    hb_free(&b);
    k13_free(&k);
    expect_want_read(p.c);
    hview v;
    view_init13(&v, &p.ckeys, false);
    v.epoch = 2;
    k13_init(&v.k, p.ckeys.c_ap, p.ckeys.slen);
    hout o = {0};
    view_take(&v, p.c, &o);
    static hmsg msgs[8];
    size_t nm = split_messages(o.hs.p, o.hs.n, msgs, 8);
    assert_int_equal(nm, 2);
    assert_int_equal(msgs[0].type, TLSV_HS_CERTIFICATE);
    assert_int_equal(msgs[0].n, 8); /* empty context, empty list */
    assert_int_equal(msgs[0].p[4], 0);
    assert_int_equal(msgs[1].type, TLSV_HS_FINISHED);
    hout_free(&o);
    view_free(&v);
    pp_free(&p);
}

/* ---- the client's answer, changed on its way ----------------------------- */

typedef enum { TM_NONE, TM_CV_SIG, TM_FINISHED, TM_CONTEXT, TM_DATA_BETWEEN, TM_CV_FIRST } tamper;

/* Takes the client's pending output (all under its application keys, from
 * sequence number `cseq` on), splits the handshake messages, applies `t`
 * and seals it all again for the server, one record per message. */
static void relay(pha_pair *p, uint64_t cseq, tamper t)
{
    hbuf in = {0}, out = {0};
    take_all(p->c, &in);
    static hrec recs[64];
    size_t nr = split_records(in.p, in.n, recs, 64);
    k13 rk, wk;
    k13_init(&rk, p->ckeys.c_ap, p->ckeys.slen);
    k13_init(&wk, p->ckeys.c_ap, p->ckeys.slen);
    rk.seq = wk.seq = cseq;
    hbuf hs = {0};
    for (size_t i = 0; i < nr; i++) {
        uint8_t *pt = malloc(recs[i].len + 1);
        uint8_t type = 0;
        size_t n = 0;
        assert_int_equal(k13_open(&rk, &recs[i], &type, pt, &n), 0);
        if (type == TLSV_CT_HANDSHAKE)
            hb_put(&hs, pt, n);
        else
            k13_seal(&wk, &out, type, pt, n, 0, false);
        free(pt);
    }
    static hmsg msgs[8];
    size_t nm = split_messages(hs.p, hs.n, msgs, 8);
    for (size_t i = 0; i < nm; i++) {
        uint8_t *m = (uint8_t *)msgs[i].p;
        size_t len = msgs[i].n;
        if (t == TM_CV_SIG && m[0] == TLSV_HS_CERTIFICATE_VERIFY)
            m[len - 5] ^= 0x10;
        if (t == TM_FINISHED && m[0] == TLSV_HS_FINISHED)
            m[len - 1] ^= 0x01;
        if (t == TM_CONTEXT && m[0] == TLSV_HS_CERTIFICATE)
            m[5] ^= 0x80; /* the context's first byte (after its length byte) */
        if (t == TM_CV_FIRST && i == 0) { /* CertificateVerify before Certificate */
            assert_true(nm >= 2);
            k13_seal(&wk, &out, TLSV_CT_HANDSHAKE, msgs[1].p, msgs[1].n, 0, false);
            k13_seal(&wk, &out, TLSV_CT_HANDSHAKE, m, len, 0, false);
            i = 1;
            continue;
        }
        k13_seal(&wk, &out, TLSV_CT_HANDSHAKE, m, len, 0, false);
        if (t == TM_DATA_BETWEEN) /* application data after every message */
            k13_seal(&wk, &out, TLSV_CT_APPLICATION_DATA, "between", 7, 0, false);
    }
    feed(p->s, &out);
    hb_free(&in);
    hb_free(&out);
    hb_free(&hs);
    k13_free(&rk);
    k13_free(&wk);
}

/* Starts a request and lets the client answer; returns the client's write
 * sequence number before its answer. */
static uint64_t request_and_answer(pha_pair *p)
{
    assert_int_equal(tlsv_conn_verify_client_post_handshake(p->s), 0);
    h_move(p->s, p->c);
    uint64_t seq = tlsv_conn_engine(p->c)->wr.seq;
    expect_want_read(p->c);
    assert_true(tlsv_conn_pending_output(p->c) > 0);
    return seq;
}

static void expect_server_fails(pha_pair *p, tlsv_reason reason, int alert)
{
    uint8_t buf[16];
    long r;
    uint64_t seq = tlsv_conn_engine(p->s)->wr.seq; /* its alert's */
    while ((r = tlsv_conn_read(p->s, buf, sizeof buf)) > 0)
        ;
    assert_int_equal(r, -1);
    hview v;
    view_init13(&v, &p->skeys, true);
    v.epoch = 2;
    k13_init(&v.k, p->skeys.s_ap, p->skeys.slen);
    v.k.seq = seq;
    expect_fail_local(p->s, &v, reason, alert);
    view_free(&v);
    assert_int_equal(tlsv_conn_peer_cert_count(p->s), 0); /* the unverified chain never shows */
    assert_int_equal(p->trace_done, 0);
}

/* The relay itself changes nothing: the answer, resealed, verifies. */
static void test_relay_intact(void **state)
{
    (void)state;
    pha_pair p;
    pp_start(&p, TLSV_CERT_REQUIRED, true, true, client_leaf, 0);
    uint64_t seq = request_and_answer(&p);
    relay(&p, seq, TM_NONE);
    expect_want_read(p.s);
    expect_peer_leaf(p.s, client_leaf);
    pp_free(&p);
}

/* A CertificateVerify whose signature does not verify: decrypt_error. */
static void test_bad_certificate_verify(void **state)
{
    (void)state;
    pha_pair p;
    pp_start(&p, TLSV_CERT_REQUIRED, true, true, client_leaf, 0);
    uint64_t seq = request_and_answer(&p);
    relay(&p, seq, TM_CV_SIG);
    expect_server_fails(&p, TLSV_R_BAD_SIGNATURE, TLSV_ALERT_DECRYPT_ERROR);
    pp_free(&p);
}

/* A Finished that does not match: decrypt_error, with a certificate and
 * with an empty Certificate. */
static void test_bad_finished(void **state)
{
    (void)state;
    const char *certs[2] = {client_leaf, NULL};
    for (int i = 0; i < 2; i++) {
        pha_pair p;
        pp_start(&p, TLSV_CERT_OPTIONAL, true, true, certs[i], 0);
        uint64_t seq = request_and_answer(&p);
        relay(&p, seq, TM_FINISHED);
        expect_server_fails(&p, TLSV_R_DIGEST_CHECK_FAILED, TLSV_ALERT_DECRYPT_ERROR);
        pp_free(&p);
    }
}

/* A Certificate whose certificate_request_context answers no outstanding
 * request: illegal_parameter. The server matches the context against its
 * requests before any signature is checked (RFC 8446 §4.6.2: the context
 * tells which request is answered), so the failure is a field that holds a
 * value inconsistent with the exchange (§6.2 illegal_parameter), not a
 * cryptographic check that failed (decrypt_error); OpenSSL says the same. */
static void test_wrong_context(void **state)
{
    (void)state;
    pha_pair p;
    pp_start(&p, TLSV_CERT_REQUIRED, true, true, client_leaf, 0);
    uint64_t seq = request_and_answer(&p);
    relay(&p, seq, TM_CONTEXT);
    expect_server_fails(&p, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER);
    pp_free(&p);
}

/* Messages out of order: a CertificateVerify first is unexpected_message. */
static void test_out_of_order(void **state)
{
    (void)state;
    pha_pair p;
    pp_start(&p, TLSV_CERT_REQUIRED, true, true, client_leaf, 0);
    uint64_t seq = request_and_answer(&p);
    relay(&p, seq, TM_CV_FIRST);
    expect_server_fails(&p, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE);
    pp_free(&p);
    /* an answer nobody asked for: a Certificate after the only request
     * was answered */
    pp_start(&p, TLSV_CERT_REQUIRED, true, true, client_leaf, 0);
    pha_round(&p);
    assert_int_equal(p.trace_done, 1);
    k13 wk;
    k13_init(&wk, p.ckeys.c_ap, p.ckeys.slen);
    wk.seq = tlsv_conn_engine(p.c)->wr.seq;
    static const uint8_t empty_cert[] = {TLSV_HS_CERTIFICATE, 0, 0, 4, 0, 0, 0, 0};
    hbuf b = {0};
    k13_seal(&wk, &b, TLSV_CT_HANDSHAKE, empty_cert, sizeof empty_cert, 0, false);
    feed(p.s, &b);
    uint8_t buf[16];
    assert_int_equal(tlsv_conn_read(p.s, buf, sizeof buf), -1);
    expect_err(p.s, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE, TLSV_SIDE_LOCAL);
    expect_peer_leaf(p.s, client_leaf); /* the verified chain stays */
    hb_free(&b);
    k13_free(&wk);
    pp_free(&p);
}

/* Application data interleaved: the client writes before it reads the
 * request, the server writes after its request, and data records come
 * between the messages of the client's answer. */
static void test_interleaved_data(void **state)
{
    (void)state;
    pha_pair p;
    pp_start(&p, TLSV_CERT_REQUIRED, true, true, client_leaf, 0);
    assert_int_equal(tlsv_conn_verify_client_post_handshake(p.s), 0);
    assert_int_equal(tlsv_conn_write(p.s, "after the request", 17), 17);
    assert_int_equal(tlsv_conn_write(p.c, "before the answer", 17), 17);
    h_move(p.s, p.c);
    h_move(p.c, p.s);
    expect_read(p.s, "before the answer", 17); /* the request is still outstanding */
    assert_int_equal(tlsv_conn_post_handshake_auth_pending(p.s), 1);
    expect_read(p.c, "after the request", 17); /* the client answered on the way */
    h_move(p.c, p.s);
    expect_want_read(p.s);
    assert_int_equal(tlsv_conn_post_handshake_auth_pending(p.s), 0);
    expect_peer_leaf(p.s, client_leaf);
    pp_free(&p);

    /* data records between Certificate, CertificateVerify and Finished */
    pp_start(&p, TLSV_CERT_REQUIRED, true, true, client_leaf, 0);
    uint64_t seq = request_and_answer(&p);
    relay(&p, seq, TM_DATA_BETWEEN);
    expect_read(p.s, "betweenbetweenbetween", 21);
    expect_want_read(p.s);
    assert_int_equal(tlsv_conn_post_handshake_auth_pending(p.s), 0);
    expect_peer_leaf(p.s, client_leaf);
    pp_free(&p);
}

/* Two requests answered out of order (the client may, RFC 8446 §4.6.2):
 * the contexts tell them apart. The client's second answer is relayed
 * before its first. */
static void test_answers_out_of_order(void **state)
{
    (void)state;
    pha_pair p;
    pp_start(&p, TLSV_CERT_REQUIRED, true, true, client_leaf, 0);
    assert_int_equal(tlsv_conn_verify_client_post_handshake(p.s), 0);
    assert_int_equal(tlsv_conn_verify_client_post_handshake(p.s), 0);
    h_move(p.s, p.c);
    uint64_t seq = tlsv_conn_engine(p.c)->wr.seq;
    expect_want_read(p.c);
    hbuf in = {0}, out = {0}, hs = {0};
    take_all(p.c, &in);
    static hrec recs[64];
    size_t nr = split_records(in.p, in.n, recs, 64);
    k13 rk, wk;
    k13_init(&rk, p.ckeys.c_ap, p.ckeys.slen);
    k13_init(&wk, p.ckeys.c_ap, p.ckeys.slen);
    rk.seq = wk.seq = seq;
    for (size_t i = 0; i < nr; i++) {
        uint8_t *pt = malloc(recs[i].len + 1), type = 0;
        size_t n = 0;
        assert_int_equal(k13_open(&rk, &recs[i], &type, pt, &n), 0);
        assert_int_equal(type, TLSV_CT_HANDSHAKE);
        hb_put(&hs, pt, n);
        free(pt);
    }
    static hmsg msgs[8];
    assert_int_equal(split_messages(hs.p, hs.n, msgs, 8), 6);
    for (int i = 3; i < 6; i++)
        k13_seal(&wk, &out, TLSV_CT_HANDSHAKE, msgs[i].p, msgs[i].n, 0, false);
    for (int i = 0; i < 3; i++)
        k13_seal(&wk, &out, TLSV_CT_HANDSHAKE, msgs[i].p, msgs[i].n, 0, false);
    feed(p.s, &out);
    expect_want_read(p.s);
    assert_int_equal(tlsv_conn_post_handshake_auth_pending(p.s), 0);
    assert_int_equal(p.trace_done, 2);
    hb_free(&in);
    hb_free(&out);
    hb_free(&hs);
    k13_free(&rk);
    k13_free(&wk);
    pp_free(&p);
}

/* After KeyUpdates both ways the Finished is keyed from the current
 * generation of the client's application traffic secret. */
static void test_after_key_update(void **state)
{
    (void)state;
    pha_pair p;
    pp_start(&p, TLSV_CERT_REQUIRED, true, true, client_leaf, 0);
    assert_int_equal(tlsv_conn_key_update(p.c, 1), 0);
    send_data(p.c, p.s, 10, 1);
    send_data(p.s, p.c, 10, 2);
    assert_int_equal(tlsv_conn_key_update(p.c, 0), 0);
    send_data(p.c, p.s, 10, 3);
    pha_round(&p);
    expect_peer_leaf(p.s, client_leaf);
    assert_int_equal(tlsv_conn_key_update(p.s, 1), 0); /* and a request crossing an update */
    assert_int_equal(tlsv_conn_verify_client_post_handshake(p.s), 0);
    h_move(p.s, p.c);
    expect_want_read(p.c);
    h_move(p.c, p.s);
    expect_want_read(p.s);
    assert_int_equal(tlsv_conn_post_handshake_auth_pending(p.s), 0);
    assert_int_equal(p.trace_done, 2);
    send_data(p.c, p.s, 10, 4);
    pp_free(&p);
}

/* A client answers at most TLSV_MAX_PHA_IN_ROW requests without
 * application data from the server between; data resets the count. */
static void test_client_limit(void **state)
{
    (void)state;
    pha_pair p;
    pp_start(&p, TLSV_CERT_OPTIONAL, true, true, NULL, 0);
    for (int i = 0; i < TLSV_MAX_PHA_IN_ROW; i++) {
        pha_round(&p);
        if (i == 3)
            send_data(p.s, p.c, 1, 1);
    }
    for (int i = 0; i < 4; i++)
        pha_round(&p);
    assert_int_equal(tlsv_conn_verify_client_post_handshake(p.s), 0);
    h_move(p.s, p.c);
    uint8_t buf[16];
    assert_int_equal(tlsv_conn_read(p.c, buf, sizeof buf), -1);
    expect_err(p.c, TLSV_R_TOO_MANY_WARN_ALERTS, TLSV_ALERT_UNEXPECTED_MESSAGE, TLSV_SIDE_LOCAL);
    pp_free(&p);
}

/* A resumed handshake (no certificates in it) and then a certificate
 * after it. */
static void test_resumed_then_pha(void **state)
{
    (void)state;
    /* tickets are off in hs_ctx: turn them on */
    tlsv_ctx *sc = hs_ctx(0, 0, NULL, NULL), *cc = hc_ctx(0, 0, NULL, NULL);
    assert_int_equal(tlsv_ctx_set_num_tickets(sc, 1), 0);
    assert_int_equal(tlsv_ctx_load_verify_locations(sc, testpki_ca_path(), NULL), 0);
    assert_int_equal(tlsv_ctx_set_verify_mode(sc, TLSV_CERT_OPTIONAL), 0);
    assert_int_equal(tlsv_ctx_set_post_handshake_auth(sc, 1), 0);
    assert_int_equal(tlsv_ctx_set_post_handshake_auth(cc, 1), 0);
    assert_int_equal(tlsv_ctx_load_cert_chain(cc, client_leaf, NULL), 0);
    tlsv_conn *c = h_conn(cc, TLSV_ROLE_CLIENT), *s = h_conn(sc, TLSV_ROLE_SERVER);
    h_handshake(c, s);
    expect_want_read(c); /* the ticket */
    tlsv_session *sess = tlsv_conn_get_session(c);
    assert_non_null(sess);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    c = h_conn(cc, TLSV_ROLE_CLIENT);
    s = h_conn(sc, TLSV_ROLE_SERVER);
    assert_int_equal(tlsv_conn_set_session(c, sess), 0);
    h_handshake(c, s);
    assert_int_equal(tlsv_conn_session_reused(s), 1);
    assert_int_equal(tlsv_conn_peer_cert_count(s), 0);
    assert_int_equal(tlsv_conn_verify_client_post_handshake(s), 0);
    h_move(s, c);
    expect_want_read(c);
    h_move(c, s);
    expect_want_read(s);
    assert_int_equal(tlsv_conn_post_handshake_auth_pending(s), 0);
    expect_peer_leaf(s, client_leaf);
    tlsv_session_free(sess);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_with_cert),
        cmocka_unit_test(test_without_cert),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_unsolicited_request),
        cmocka_unit_test(test_hand_made_requests),
        cmocka_unit_test(test_relay_intact),
        cmocka_unit_test(test_bad_certificate_verify),
        cmocka_unit_test(test_bad_finished),
        cmocka_unit_test(test_wrong_context),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_interleaved_data),
        cmocka_unit_test(test_answers_out_of_order),
        cmocka_unit_test(test_after_key_update),
        cmocka_unit_test(test_client_limit),
        cmocka_unit_test(test_resumed_then_pha),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
