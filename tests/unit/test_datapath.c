/*
 * test_datapath.c -- the data path's shape (docs/performance.md): the
 * copy-free memory-mode calls (input_buffer / input_commit, output_peek /
 * output_consume), received records read in place and handed over one
 * record at a time across several reads, buffers given back when idle, and
 * the per-context cache of verified peer chains (which must never let a
 * chain skip verification).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testpki.h"
#include "tlsv.h"

static char ec_leaf[512], other_leaf[512];

static int setup(void **state)
{
    (void)state;
    if (testpki_init() != 0)
        return -1;
    testpki_leaf("dp-ec", TESTPKI_EC256, "DNS:localhost", ec_leaf, sizeof ec_leaf);
    testpki_leaf("dp-other", TESTPKI_EC256, "DNS:other.test", other_leaf, sizeof other_leaf);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testpki_cleanup();
    return 0;
}

static tlsv_ctx *server_ctx(const char *leaf, int max_version)
{
    tlsv_ctx *s = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, NULL);
    assert_non_null(s);
    assert_int_equal(tlsv_ctx_load_cert_chain(s, leaf, NULL), 0);
    if (max_version)
        assert_int_equal(tlsv_ctx_set_maximum_version(s, max_version), 0);
    return s;
}

static tlsv_ctx *client_ctx(void)
{
    tlsv_ctx *c = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL);
    assert_non_null(c);
    assert_int_equal(tlsv_ctx_load_verify_locations(c, testpki_ca_path(), NULL), 0);
    return c;
}

/* Moves everything `from` has for `to` with the copy-free calls: peek at
 * the output, write it into the peer's input buffer, commit, consume. */
static size_t move_zero_copy(tlsv_conn *from, tlsv_conn *to)
{
    size_t total = 0, n;
    const uint8_t *p;
    while ((p = tlsv_conn_output_peek(from, &n)) != NULL) {
        assert_true(n > 0);
        size_t chunk = n > 7000 ? 7000 : n; /* odd chunks: records get split */
        uint8_t *room = tlsv_conn_input_buffer(to, chunk);
        assert_non_null(room);
        memcpy(room, p, chunk);
        assert_int_equal(tlsv_conn_input_commit(to, chunk), 0);
        tlsv_conn_output_consume(from, chunk);
        total += chunk;
    }
    assert_int_equal(n, 0);
    return total;
}

static void handshake(tlsv_conn *c, tlsv_conn *s)
{
    int crc = TLSV_WANT_READ, src = TLSV_WANT_READ;
    for (int i = 0; i < 20 && (crc != 0 || src != 0); i++) {
        if (crc != 0)
            crc = tlsv_conn_handshake(c);
        if (src != 0)
            src = tlsv_conn_handshake(s);
        assert_true(crc == 0 || crc == TLSV_WANT_READ);
        assert_true(src == 0 || src == TLSV_WANT_READ);
        move_zero_copy(c, s);
        move_zero_copy(s, c);
    }
    assert_int_equal(crc, 0);
    assert_int_equal(src, 0);
}

static void zero_copy_round_trip(int max_version)
{
    tlsv_ctx *sctx = server_ctx(ec_leaf, max_version), *cctx = client_ctx();
    tlsv_conn *s = tlsv_conn_new(sctx, TLSV_ROLE_SERVER, NULL, NULL);
    tlsv_conn *c = tlsv_conn_new(cctx, TLSV_ROLE_CLIENT, "localhost", NULL);
    assert_non_null(s);
    assert_non_null(c);
    handshake(c, s);

    /* 100 000 bytes in three writes: seven records, carried in 7000-byte
     * pieces, read back with reads that span records */
    static uint8_t data[100000], got[100000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(tlsv_conn_write(c, data, 30000), 30000);
    assert_int_equal(tlsv_conn_write(c, data + 30000, 1), 1);
    assert_int_equal(tlsv_conn_write(c, data + 30001, sizeof data - 30001),
                     (long)(sizeof data - 30001));
    move_zero_copy(c, s);
    size_t have = 0;
    size_t sizes[] = {1, 16383, 20000, 50000, 100000};
    for (size_t k = 0; have < sizeof data; k++) {
        size_t want = sizes[k % 5];
        if (want > sizeof got - have)
            want = sizeof got - have;
        long n = tlsv_conn_read(s, got + have, want);
        assert_true(n > 0);
        /* a read takes every record that has arrived, up to `want` */
        assert_int_equal((size_t)n, want);
        have += (size_t)n;
    }
    assert_memory_equal(got, data, sizeof data);
    assert_int_equal(tlsv_conn_read(s, got, sizeof got), TLSV_WANT_READ);

    /* close_notify after data: the data is read first, then 0 */
    assert_int_equal(tlsv_conn_write(s, "tail", 4), 4);
    assert_int_equal(tlsv_conn_shutdown(s), 1);
    move_zero_copy(s, c);
    /* a large read buffer: records are decrypted straight into it -- the
     * server's session tickets too, which must then still reach the engine
     * (TLS 1.3: a session results) and not the application */
    static uint8_t tail[65536];
    memset(tail, 0xee, sizeof tail);
    assert_int_equal(tlsv_conn_read(c, tail, sizeof tail), 4);
    assert_memory_equal(tail, "tail", 4);
    assert_int_equal(tlsv_conn_read(c, tail, sizeof tail), 0);
    tlsv_session *sess = tlsv_conn_get_session(c);
    if (max_version == 0)
        assert_non_null(sess);
    tlsv_session_free(sess);

    /* nothing pending: peek says so */
    size_t n = 1;
    assert_null(tlsv_conn_output_peek(s, &n));
    assert_int_equal(n, 0);
    /* committing more than was handed out is refused */
    assert_non_null(tlsv_conn_input_buffer(c, 10));
    assert_int_equal(tlsv_conn_input_commit(c, 11), -1);
    assert_int_equal(tlsv_conn_input_commit(c, 0), 0);

    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cctx);
    tlsv_ctx_free(sctx);
    tlsv_thread_release_buffers();
    tlsv_thread_release_buffers(); /* twice is fine */
}

static void test_zero_copy_tls13(void **state)
{
    (void)state;
    zero_copy_round_trip(0);
}

static void test_zero_copy_tls12(void **state)
{
    (void)state;
    zero_copy_round_trip(TLSV_VERSION_TLSv1_2);
}

/* One client context reused: the second handshake takes the chain from the
 * context's cache; verification must still run in full -- a wrong name or
 * a different certificate fails exactly as without a cache. */
static void test_peer_chain_cache_still_verifies(void **state)
{
    (void)state;
    tlsv_ctx *sctx = server_ctx(ec_leaf, 0), *other = server_ctx(other_leaf, 0);
    tlsv_ctx *cctx = client_ctx();
    for (int round = 0; round < 3; round++) {
        /* right name: succeeds (round 0 fills the cache, later rounds use it) */
        tlsv_conn *s = tlsv_conn_new(sctx, TLSV_ROLE_SERVER, NULL, NULL);
        tlsv_conn *c = tlsv_conn_new(cctx, TLSV_ROLE_CLIENT, "localhost", NULL);
        handshake(c, s);
        size_t len = 0;
        assert_int_equal(tlsv_conn_peer_cert_count(c), 1);
        assert_non_null(tlsv_conn_peer_cert_der(c, 0, &len));
        assert_true(len > 100);
        tlsv_conn_free(c);
        tlsv_conn_free(s);

        /* the same, cached certificate under another name: refused */
        s = tlsv_conn_new(sctx, TLSV_ROLE_SERVER, NULL, NULL);
        c = tlsv_conn_new(cctx, TLSV_ROLE_CLIENT, "wrong.example", NULL);
        int crc = TLSV_WANT_READ;
        for (int i = 0; i < 10 && crc == TLSV_WANT_READ; i++) {
            crc = tlsv_conn_handshake(c);
            (void)tlsv_conn_handshake(s);
            move_zero_copy(c, s);
            move_zero_copy(s, c);
        }
        assert_int_equal(crc, -1);
        assert_int_equal(tlsv_conn_last_error(c)->reason, TLSV_R_CERTIFICATE_VERIFY_FAILED);
        tlsv_conn_free(c);
        tlsv_conn_free(s);

        /* a certificate for another name: refused, and it does not displace
         * the good one */
        s = tlsv_conn_new(other, TLSV_ROLE_SERVER, NULL, NULL);
        c = tlsv_conn_new(cctx, TLSV_ROLE_CLIENT, "localhost", NULL);
        crc = TLSV_WANT_READ;
        for (int i = 0; i < 10 && crc == TLSV_WANT_READ; i++) {
            crc = tlsv_conn_handshake(c);
            (void)tlsv_conn_handshake(s);
            move_zero_copy(c, s);
            move_zero_copy(s, c);
        }
        assert_int_equal(crc, -1);
        assert_int_equal(tlsv_conn_last_error(c)->reason, TLSV_R_CERTIFICATE_VERIFY_FAILED);
        tlsv_conn_free(c);
        tlsv_conn_free(s);
    }
    /* with verification off, nothing is cached and nothing is checked */
    tlsv_ctx_set_check_hostname(cctx, 0);
    tlsv_ctx_set_verify_mode(cctx, TLSV_CERT_NONE);
    tlsv_conn *s = tlsv_conn_new(other, TLSV_ROLE_SERVER, NULL, NULL);
    tlsv_conn *c = tlsv_conn_new(cctx, TLSV_ROLE_CLIENT, "localhost", NULL);
    handshake(c, s);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cctx);
    tlsv_ctx_free(other);
    tlsv_ctx_free(sctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_copy_tls13),
        cmocka_unit_test(test_zero_copy_tls12),
        cmocka_unit_test(test_peer_chain_cache_still_verifies),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
