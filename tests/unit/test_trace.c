/*
 * test_trace.c -- the handshake trace's message descriptions
 * (src/engine/trace.h, tlsv_trace_describe).
 *
 * Real messages are written with msg.h's writers and described; the key
 * fields (versions offered and chosen, suites, groups, key shares,
 * signature schemes, SNI, ALPN, extensions by name, the downgrade
 * sentinel, sizes) must appear. Malformed messages (a body that does not
 * parse, a header that lies about the length, fewer than 4 bytes) are
 * described as "malformed". Short output buffers: always NUL-terminated,
 * cut lines end in "...", long lists end in "+N more" and leave room for
 * the fields after them. Every bit flip and truncation of real messages, at
 * every version, stays one bounded line (the engine describes received
 * messages before checking them).
 *
 * Then through the public API, a client and a server in memory (TLS 1.3
 * and TLS 1.2): the trace callback gets the messages in both directions
 * with the negotiated version; the key log callback gets the NSS lines,
 * the same on both sides.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "testpki.h"
#include "tlsv.h"
#include "engine/ext.h"
#include "engine/msg.h"
#include "engine/trace.h"
#include "version.h"

/* ---- helpers ---------------------------------------------------------------- */

typedef struct msgbuf {
    uint8_t b[8192];
    size_t n;
} msgbuf;

static tlsv_writer w_start(msgbuf *m)
{
    tlsv_writer w;
    tlsv_wr_init_fixed(&w, m->b, sizeof m->b);
    return w;
}

static void w_done(msgbuf *m, tlsv_writer *w, int rc)
{
    assert_int_equal(rc, 0);
    assert_true(tlsv_wr_ok(w));
    m->n = tlsv_wr_len(w);
}

/* Describes m at version v into a 4 KiB buffer (everything fits). */
static const char *describe(const msgbuf *m, uint16_t v)
{
    static char out[4096];
    size_t n = tlsv_trace_describe(m->b, m->n, v, out, sizeof out);
    assert_int_equal(n, strlen(out));
    assert_true(n < sizeof out);
    assert_null(strchr(out, '\n')); /* one line */
    return out;
}

#define assert_has(text, needle)                                                          \
    do {                                                                                  \
        if (!strstr((text), (needle)))                                                    \
            fail_msg("'%s' is not in:\n%s", (needle), (text));                            \
    } while (0)

#define assert_lacks(text, needle)                                                        \
    do {                                                                                  \
        if (strstr((text), (needle)))                                                     \
            fail_msg("'%s' should not be in:\n%s", (needle), (text));                     \
    } while (0)

static const uint8_t random32[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
                                     31, 32};
static const uint8_t key32[32] = {9};

/* A TLS 1.3 + 1.2 ClientHello such as a browser sends. */
static void write_client_hello(msgbuf *m, bool grease, bool fallback)
{
    static const uint16_t suites[] = {0x1301, 0x1303, 0xc02b, 0xc02f, 0x1234};
    static const uint16_t versions[] = {0x0304, 0x0303};
    static const uint16_t groups[] = {0x001d, 0x0017, 0x0100};
    static const uint16_t sigs[] = {0x0403, 0x0804, 0x0807, 0x0201};
    static const uint8_t modes[] = {TLSV_PSK_DHE_KE};
    tlsv_key_share_param ks = {0x001d, {key32, 32}};
    tlsv_bytes alpn[2] = {{(const uint8_t *)"h2", 2}, {(const uint8_t *)"http/1.1", 8}};
    tlsv_client_hello_params p;
    memset(&p, 0, sizeof p);
    p.legacy_version = 0x0303;
    p.random = random32;
    p.session_id = (tlsv_bytes){random32, 32};
    p.cipher_suites = suites;
    p.n_cipher_suites = 5;
    p.fallback_scsv = fallback;
    p.empty_renegotiation_info_scsv = true;
    p.versions = versions;
    p.n_versions = 2;
    p.groups = groups;
    p.n_groups = 3;
    p.signature_algorithms = sigs;
    p.n_signature_algorithms = 4;
    p.key_share = true;
    p.key_shares = &ks;
    p.n_key_shares = 1;
    p.server_name = "example.com";
    p.alpn = alpn;
    p.n_alpn = 2;
    p.psk_modes = modes;
    p.n_psk_modes = 1;
    p.extended_master_secret = true;
    p.ec_point_formats = true;
    p.grease = grease;
    p.grease_seed[0] = 1;
    p.grease_seed[1] = 2;
    p.grease_seed[2] = 3;
    p.grease_seed[3] = 4;
    p.grease_seed[4] = 5;
    tlsv_writer w = w_start(m);
    w_done(m, &w, tlsv_msg_write_client_hello(&w, &p, NULL, NULL));
}

/* ---- ClientHello ------------------------------------------------------------- */

static void client_hello_fields(void **state)
{
    (void)state;
    msgbuf m;
    write_client_hello(&m, false, false);
    const char *d = describe(&m, 0);
    assert_true(strncmp(d, "ClientHello (", 13) == 0);
    assert_has(d, "legacy_version=TLSv1.2");
    assert_has(d, "supported_versions=[TLSv1.3,TLSv1.2]");
    assert_has(d, "suites=[TLS_AES_128_GCM_SHA256,TLS_CHACHA20_POLY1305_SHA256,"
                  "ECDHE-ECDSA-AES128-GCM-SHA256,ECDHE-RSA-AES128-GCM-SHA256,0x1234,"
                  "TLS_EMPTY_RENEGOTIATION_INFO_SCSV]");
    assert_has(d, "groups=[x25519,P-256,ffdhe2048]");
    assert_has(d, "key_share=[x25519]");
    assert_has(d, "sig_algs=[ecdsa_secp256r1_sha256,rsa_pss_rsae_sha256,ed25519,rsa_pkcs1_sha1]");
    assert_has(d, "sni=example.com");
    assert_has(d, "alpn=[h2,http/1.1]");
    assert_has(d, "session_id=32 bytes");
    assert_has(d, "ext=[");
    /* every extension by its name, in the writer's order */
    const char *ext = strstr(d, "ext=[");
    const char *names[] = {"server_name", "supported_groups", "signature_algorithms",
                           "key_share", "supported_versions", "psk_key_exchange_modes",
                           "application_layer_protocol_negotiation", "extended_master_secret",
                           "ec_point_formats"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_has(ext, names[i]);
    assert_lacks(d, "GREASE");
    assert_lacks(d, "TLS_FALLBACK_SCSV");
    assert_lacks(d, "malformed");
    assert_lacks(d, "more");
}

static void client_hello_grease_and_fallback(void **state)
{
    (void)state;
    msgbuf m;
    write_client_hello(&m, true, true);
    const char *d = describe(&m, 0);
    /* GREASE first in suites, groups, versions, key shares and extensions */
    assert_has(d, "suites=[GREASE,TLS_AES_128_GCM_SHA256");
    assert_has(d, "supported_versions=[GREASE,TLSv1.3,TLSv1.2]");
    assert_has(d, "groups=[GREASE,x25519");
    assert_has(d, "key_share=[GREASE,x25519]");
    assert_has(d, "ext=[GREASE,");
    assert_has(d, "TLS_FALLBACK_SCSV");
    assert_lacks(d, "malformed");
}

static void client_hello_tls12_only(void **state)
{
    (void)state;
    static const uint16_t suites[] = {0xc013, 0x002f};
    tlsv_client_hello_params p;
    memset(&p, 0, sizeof p);
    p.legacy_version = 0x0301;
    p.random = random32;
    p.cipher_suites = suites;
    p.n_cipher_suites = 2;
    msgbuf m;
    tlsv_writer w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_client_hello(&w, &p, NULL, NULL));
    const char *d = describe(&m, 0);
    assert_has(d, "legacy_version=TLSv1 ");
    assert_has(d, "suites=[ECDHE-RSA-AES128-SHA,AES128-SHA]");
    assert_has(d, "no extensions");
    assert_lacks(d, "supported_versions");
    assert_lacks(d, "session_id");
}

/* ---- ServerHello, HelloRetryRequest ------------------------------------------ */

static void server_hello_tls13(void **state)
{
    (void)state;
    tlsv_server_hello_params p;
    memset(&p, 0, sizeof p);
    p.legacy_version = 0x0303;
    p.random = random32;
    p.session_id = (tlsv_bytes){random32, 32};
    p.cipher_suite = 0x1302;
    p.selected_version = 0x0304;
    p.key_share = true;
    p.key_share_group = 0x0018;
    p.key_share_public = (tlsv_bytes){key32, 32};
    msgbuf m;
    tlsv_writer w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_server_hello(&w, &p, NULL));
    const char *d = describe(&m, 0);
    assert_true(strncmp(d, "ServerHello (", 13) == 0);
    assert_has(d, "version=TLSv1.3");
    assert_has(d, "legacy_version=TLSv1.2");
    assert_has(d, "suite=TLS_AES_256_GCM_SHA384");
    assert_has(d, "key_share=P-384");
    assert_has(d, "ext=[");
    assert_has(d, "supported_versions");
    assert_lacks(d, "downgrade_sentinel");
    assert_lacks(d, "malformed");
}

static void hello_retry_request(void **state)
{
    (void)state;
    static const uint8_t cookie[5] = {1, 2, 3, 4, 5};
    tlsv_server_hello_params p;
    memset(&p, 0, sizeof p);
    p.legacy_version = 0x0303;
    p.hello_retry_request = true;
    p.cipher_suite = 0x1301;
    p.selected_version = 0x0304;
    p.key_share = true;
    p.key_share_group = 0x0017;
    p.cookie = (tlsv_bytes){cookie, 5};
    msgbuf m;
    tlsv_writer w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_server_hello(&w, &p, NULL));
    const char *d = describe(&m, 0);
    assert_true(strncmp(d, "HelloRetryRequest (", 19) == 0);
    assert_has(d, "selected_group=P-256");
    assert_has(d, "cookie=5 bytes");
    assert_has(d, "version=TLSv1.3");
    assert_has(d, "cookie]");
}

static void server_hello_tls12_sentinel(void **state)
{
    (void)state;
    uint8_t rnd[32];
    memcpy(rnd, random32, 32);
    tlsv_vp_write_sentinel(TLSV_SENTINEL_TLS12, rnd);
    tlsv_server_hello_params p;
    memset(&p, 0, sizeof p);
    p.legacy_version = 0x0303;
    p.random = rnd;
    p.cipher_suite = 0xc02b;
    p.renegotiation_info = true;
    p.extended_master_secret = true;
    p.ec_point_formats = true;
    p.alpn = (tlsv_bytes){(const uint8_t *)"h2", 2};
    msgbuf m;
    tlsv_writer w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_server_hello(&w, &p, NULL));
    const char *d = describe(&m, 0);
    assert_has(d, "ServerHello (");
    assert_has(d, "version=TLSv1.2 ");
    assert_lacks(d, "supported_versions");
    assert_has(d, "suite=ECDHE-ECDSA-AES128-GCM-SHA256");
    assert_has(d, "downgrade_sentinel=DOWNGRD\\x01");
    assert_has(d, "alpn=h2");
    assert_has(d, "renegotiation_info");
    assert_has(d, "extended_master_secret");

    tlsv_vp_write_sentinel(TLSV_SENTINEL_TLS11, rnd);
    p.legacy_version = 0x0302;
    p.cipher_suite = 0xc009;
    w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_server_hello(&w, &p, NULL));
    d = describe(&m, 0);
    assert_has(d, "version=TLSv1.1");
    assert_has(d, "suite=ECDHE-ECDSA-AES128-SHA");
    assert_has(d, "downgrade_sentinel=DOWNGRD\\x00");
}

/* ---- the other messages --------------------------------------------------------- */

static void encrypted_extensions(void **state)
{
    (void)state;
    static const uint16_t groups[] = {0x001d, 0x0018};
    tlsv_encrypted_extensions_params p;
    memset(&p, 0, sizeof p);
    p.server_name = true;
    p.groups = groups;
    p.n_groups = 2;
    p.alpn = (tlsv_bytes){(const uint8_t *)"http/1.1", 8};
    msgbuf m;
    tlsv_writer w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_encrypted_extensions(&w, &p, NULL));
    const char *d = describe(&m, 0x0304);
    assert_has(d, "EncryptedExtensions (");
    assert_has(d, "alpn=http/1.1");
    assert_has(d, "groups=[x25519,P-384]");
    assert_has(d, "server_name");
}

static void certificate_both_forms(void **state)
{
    (void)state;
    static uint8_t der1[300], der2[200];
    memset(der1, 0x30, sizeof der1);
    memset(der2, 0x31, sizeof der2);
    tlsv_bytes certs[2] = {{der1, sizeof der1}, {der2, sizeof der2}};
    msgbuf m;
    tlsv_writer w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_certificate(&w, 0x0304, (tlsv_bytes){NULL, 0}, certs, 2, NULL));
    const char *d = describe(&m, 0x0304);
    assert_has(d, "Certificate (");
    assert_has(d, "2 certificates [300 bytes, 200 bytes]");

    w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_certificate(&w, 0x0303, (tlsv_bytes){NULL, 0}, certs, 1, NULL));
    d = describe(&m, 0x0303);
    assert_has(d, "1 certificate [300 bytes]");
    /* before the version is known, either form is recognised */
    d = describe(&m, 0);
    assert_has(d, "1 certificate [300 bytes]");

    w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_certificate(&w, 0x0304, (tlsv_bytes){NULL, 0}, certs, 0, NULL));
    d = describe(&m, 0x0304);
    assert_has(d, "no certificates");
}

static void certificate_request_both_forms(void **state)
{
    (void)state;
    static const uint16_t sigs[] = {0x0403, 0x0804};
    static const uint8_t types[] = {1, 64};
    tlsv_certificate_request_params p;
    memset(&p, 0, sizeof p);
    p.version = 0x0304;
    p.signature_algorithms = sigs;
    p.n_signature_algorithms = 2;
    msgbuf m;
    tlsv_writer w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_certificate_request(&w, &p, NULL));
    const char *d = describe(&m, 0x0304);
    assert_has(d, "CertificateRequest (");
    assert_has(d, "sig_algs=[ecdsa_secp256r1_sha256,rsa_pss_rsae_sha256]");
    assert_has(d, "ext=[signature_algorithms]");

    p.version = 0x0303;
    p.certificate_types = types;
    p.n_certificate_types = 2;
    w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_certificate_request(&w, &p, NULL));
    d = describe(&m, 0x0303);
    assert_has(d, "types=[rsa_sign,ecdsa_sign]");
    assert_has(d, "sig_algs=[ecdsa_secp256r1_sha256,rsa_pss_rsae_sha256]");
    assert_has(d, "authorities=0");
}

static void certificate_verify_and_finished(void **state)
{
    (void)state;
    static uint8_t sig[256];
    msgbuf m;
    tlsv_writer w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_certificate_verify(&w, 0x0304, 0x0804,
                                                     (tlsv_bytes){sig, sizeof sig}, NULL));
    const char *d = describe(&m, 0x0304);
    assert_has(d, "CertificateVerify (");
    assert_has(d, "scheme=rsa_pss_rsae_sha256 signature=256 bytes");

    w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_certificate_verify(&w, 0x0302, 0, (tlsv_bytes){sig, 72}, NULL));
    d = describe(&m, 0x0302);
    assert_lacks(d, "scheme");
    assert_has(d, "signature=72 bytes");

    w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_finished(&w, (tlsv_bytes){sig, 48}, NULL));
    d = describe(&m, 0x0304);
    assert_has(d, "Finished (48 bytes) verify_data=48 bytes");

    w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_finished(&w, (tlsv_bytes){sig, 12}, NULL));
    d = describe(&m, 0x0303);
    assert_has(d, "Finished (12 bytes) verify_data=12 bytes");

    /* TLS 1.2 verify_data is 12 bytes: 13 is malformed */
    w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_finished(&w, (tlsv_bytes){sig, 13}, NULL));
    d = describe(&m, 0x0303);
    assert_has(d, "Finished (13 bytes) malformed");
}

static void tickets_and_key_update(void **state)
{
    (void)state;
    static const uint8_t nonce[8] = {0}, ticket[100] = {0};
    tlsv_new_session_ticket_params p;
    memset(&p, 0, sizeof p);
    p.version = 0x0304;
    p.lifetime = 7200;
    p.age_add = 0x01020304;
    p.nonce = (tlsv_bytes){nonce, 8};
    p.ticket = (tlsv_bytes){ticket, 100};
    p.early_data = true;
    p.max_early_data_size = 16384;
    msgbuf m;
    tlsv_writer w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_new_session_ticket(&w, &p, NULL));
    const char *d = describe(&m, 0x0304);
    assert_has(d, "NewSessionTicket (");
    assert_has(d, "lifetime=7200s");
    assert_has(d, "nonce=8 bytes ticket=100 bytes");
    assert_has(d, "max_early_data=16384");
    assert_has(d, "ext=[early_data]");

    p.version = 0x0303;
    w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_new_session_ticket(&w, &p, NULL));
    d = describe(&m, 0x0303);
    assert_has(d, "lifetime_hint=7200s ticket=100 bytes");

    w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_key_update(&w, true, NULL));
    assert_has(describe(&m, 0x0304), "KeyUpdate (1 byte) update_requested");
    w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_key_update(&w, false, NULL));
    assert_has(describe(&m, 0x0304), "update_not_requested");
    m.b[4] = 7; /* neither 0 nor 1 */
    assert_has(describe(&m, 0x0304), "KeyUpdate (1 byte) malformed");
}

static void tls12_key_exchange(void **state)
{
    (void)state;
    static uint8_t pub[65], sig[71], pms[258];
    pub[0] = 4;
    msgbuf m;
    tlsv_writer w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_server_key_exchange_ecdhe(&w, 0x0303, 0x0017,
                                                            (tlsv_bytes){pub, 65}, 0x0403,
                                                            (tlsv_bytes){sig, 71}, NULL));
    const char *d = describe(&m, 0x0303);
    assert_has(d, "ServerKeyExchange (");
    assert_has(d, "ecdhe group=P-256 public=65 bytes scheme=ecdsa_secp256r1_sha256 "
                  "signature=71 bytes");

    w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_server_key_exchange_ecdhe(&w, 0x0301, 0x001d,
                                                            (tlsv_bytes){pub, 32}, 0,
                                                            (tlsv_bytes){sig, 71}, NULL));
    d = describe(&m, 0x0301);
    assert_has(d, "ecdhe group=x25519 public=32 bytes signature=71 bytes");
    assert_lacks(d, "scheme");

    w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_client_key_exchange_ecdhe(&w, (tlsv_bytes){pub, 32}, NULL));
    assert_has(describe(&m, 0x0303), "ClientKeyExchange (33 bytes) ecdhe public=32 bytes");

    w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_client_key_exchange_rsa(&w, 0x0303, (tlsv_bytes){pms, 256},
                                                          NULL));
    assert_has(describe(&m, 0x0303),
               "ClientKeyExchange (258 bytes) rsa encrypted_pre_master_secret=256 bytes");

    w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_empty(&w, TLSV_HS_SERVER_HELLO_DONE, NULL));
    d = describe(&m, 0x0303);
    assert_string_equal(d, "ServerHelloDone (0 bytes)");
}

/* ---- malformed messages and small buffers ------------------------------------ */

static void malformed_messages(void **state)
{
    (void)state;
    msgbuf m;
    write_client_hello(&m, false, false);
    /* a body cut short, the header fixed to match: the parser's complaint */
    msgbuf cut = m;
    cut.n -= 10;
    size_t body = cut.n - 4;
    cut.b[1] = (uint8_t)(body >> 16);
    cut.b[2] = (uint8_t)(body >> 8);
    cut.b[3] = (uint8_t)body;
    const char *d = describe(&cut, 0);
    assert_true(strncmp(d, "ClientHello (", 13) == 0);
    assert_has(d, "malformed: ClientHello");
    assert_lacks(d, "suites=");

    /* a header announcing more than there is */
    cut = m;
    cut.n -= 10;
    d = describe(&cut, 0);
    assert_has(d, "malformed: its header announces");

    /* a ServerHello with compression 1 */
    tlsv_server_hello_params p;
    memset(&p, 0, sizeof p);
    p.legacy_version = 0x0303;
    p.random = random32;
    p.cipher_suite = 0xc02b;
    tlsv_writer w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_server_hello(&w, &p, NULL));
    m.b[m.n - 1] = 1; /* compression_method, the last byte without extensions */
    d = describe(&m, 0);
    assert_has(d, "ServerHello (");
    assert_has(d, "malformed");

    /* fewer bytes than a header */
    static const uint8_t tiny[2] = {1, 0};
    char out[256];
    tlsv_trace_describe(tiny, sizeof tiny, 0, out, sizeof out);
    assert_has(out, "malformed");

    /* an unknown type is named by its number */
    static const uint8_t unknown[6] = {99, 0, 0, 2, 0xab, 0xcd};
    tlsv_trace_describe(unknown, sizeof unknown, 0x0304, out, sizeof out);
    assert_string_equal(out, "handshake message type 99 (2 bytes)");
}

static void small_buffers(void **state)
{
    (void)state;
    msgbuf m;
    write_client_hello(&m, true, true);
    char full[4096];
    size_t n_full = tlsv_trace_describe(m.b, m.n, 0, full, sizeof full);
    assert_true(n_full > 300);

    /* cap 0 writes nothing; cap 1 an empty string */
    char out[512];
    out[0] = 'x';
    assert_int_equal(tlsv_trace_describe(m.b, m.n, 0, out, 0), 0);
    assert_int_equal(out[0], 'x');
    assert_int_equal(tlsv_trace_describe(m.b, m.n, 0, out, 1), 0);
    assert_int_equal(out[0], '\0');

    /* every cap: NUL-terminated, never beyond, a prefix-ish of the full line */
    for (size_t cap = 2; cap <= sizeof out; cap++) {
        memset(out, 'Z', sizeof out);
        size_t n = tlsv_trace_describe(m.b, m.n, 0, out, cap);
        assert_true(n < cap);
        assert_int_equal(strlen(out), n);
        for (size_t i = cap; i < sizeof out; i++)
            assert_int_equal(out[i], 'Z');
        if (cap >= 20)
            assert_true(strncmp(out, "ClientHello (", 13) == 0);
    }

    /* a 300-byte line: the suites give way, the extensions still appear */
    static uint16_t many[120];
    for (size_t i = 0; i < 120; i++)
        many[i] = (uint16_t)(0xc000 + i);
    tlsv_client_hello_params p;
    memset(&p, 0, sizeof p);
    static const uint16_t versions[] = {0x0304, 0x0303};
    static const uint16_t groups[] = {0x001d};
    p.legacy_version = 0x0303;
    p.random = random32;
    p.cipher_suites = many;
    p.n_cipher_suites = 120;
    p.versions = versions;
    p.n_versions = 2;
    p.groups = groups;
    p.n_groups = 1;
    p.server_name = "example.com";
    tlsv_writer w = w_start(&m);
    w_done(&m, &w, tlsv_msg_write_client_hello(&w, &p, NULL, NULL));
    size_t n = tlsv_trace_describe(m.b, m.n, 0, out, 300);
    assert_true(n < 300);
    assert_has(out, "supported_versions=[TLSv1.3,TLSv1.2]");
    assert_has(out, " more]");
    assert_has(out, "groups=[x25519]");
    assert_has(out, "sni=example.com");
    assert_has(out, "ext=[server_name,supported_groups,supported_versions]");
}

/* Every single-bit flip and every truncation of real messages, at every
 * version: one NUL-terminated line within the buffer, whatever the bytes
 * (the engine describes received messages before it checks them). */
static void mutations_stay_bounded(void **state)
{
    (void)state;
    static msgbuf msgs[6];
    write_client_hello(&msgs[0], true, true);
    {
        tlsv_server_hello_params p;
        memset(&p, 0, sizeof p);
        p.legacy_version = 0x0303;
        p.random = random32;
        p.cipher_suite = 0x1301;
        p.selected_version = 0x0304;
        p.key_share = true;
        p.key_share_group = 0x001d;
        p.key_share_public = (tlsv_bytes){key32, 32};
        tlsv_writer w = w_start(&msgs[1]);
        w_done(&msgs[1], &w, tlsv_msg_write_server_hello(&w, &p, NULL));
    }
    {
        static const uint16_t sigs[] = {0x0403, 0x0804};
        static const uint8_t types[] = {1, 64};
        tlsv_certificate_request_params p;
        memset(&p, 0, sizeof p);
        p.version = 0x0303;
        p.signature_algorithms = sigs;
        p.n_signature_algorithms = 2;
        p.certificate_types = types;
        p.n_certificate_types = 2;
        tlsv_writer w = w_start(&msgs[2]);
        w_done(&msgs[2], &w, tlsv_msg_write_certificate_request(&w, &p, NULL));
    }
    {
        static const uint8_t nonce[4] = {0}, ticket[40] = {0};
        tlsv_new_session_ticket_params p;
        memset(&p, 0, sizeof p);
        p.version = 0x0304;
        p.lifetime = 60;
        p.nonce = (tlsv_bytes){nonce, 4};
        p.ticket = (tlsv_bytes){ticket, 40};
        p.early_data = true;
        tlsv_writer w = w_start(&msgs[3]);
        w_done(&msgs[3], &w, tlsv_msg_write_new_session_ticket(&w, &p, NULL));
    }
    {
        static uint8_t pub[32], sig[64];
        tlsv_writer w = w_start(&msgs[4]);
        w_done(&msgs[4], &w, tlsv_msg_write_server_key_exchange_ecdhe(
                                 &w, 0x0303, 0x001d, (tlsv_bytes){pub, 32}, 0x0807,
                                 (tlsv_bytes){sig, 64}, NULL));
    }
    {
        static uint8_t der[50];
        tlsv_bytes certs[1] = {{der, sizeof der}};
        tlsv_writer w = w_start(&msgs[5]);
        w_done(&msgs[5], &w,
               tlsv_msg_write_certificate(&w, 0x0304, (tlsv_bytes){NULL, 0}, certs, 1, NULL));
    }
    static const uint16_t versions[] = {0, 0x0300, 0x0301, 0x0303, 0x0304};
    char out[300];
    for (size_t k = 0; k < sizeof msgs / sizeof msgs[0]; k++) {
        msgbuf m = msgs[k];
        for (size_t vi = 0; vi < sizeof versions / sizeof versions[0]; vi++) {
            for (size_t i = 0; i < m.n; i++) {
                for (unsigned bit = 0; bit < 8; bit++) {
                    m.b[i] ^= (uint8_t)(1u << bit);
                    memset(out, 'Z', sizeof out);
                    size_t n = tlsv_trace_describe(m.b, m.n, versions[vi], out, sizeof out);
                    assert_true(n < sizeof out);
                    assert_int_equal(strlen(out), n);
                    assert_null(strchr(out, '\n'));
                    m.b[i] ^= (uint8_t)(1u << bit);
                }
                /* truncated here (the header then disagrees: also fix it) */
                msgbuf t = m;
                t.n = i;
                if (i >= 4) {
                    t.b[1] = (uint8_t)((i - 4) >> 16);
                    t.b[2] = (uint8_t)((i - 4) >> 8);
                    t.b[3] = (uint8_t)(i - 4);
                }
                size_t n = tlsv_trace_describe(t.b, t.n, versions[vi], out, sizeof out);
                assert_true(n < sizeof out);
                assert_int_equal(strlen(out), n);
            }
        }
    }
}

/* ---- through the public API ---------------------------------------------------- */

typedef struct trace_log {
    char text[16384];
    size_t len;
    int lines[3]; /* by direction + 1 */
} trace_log;

static void collect_trace(const tlsv_conn *conn, int direction, const char *text, void *arg)
{
    (void)conn;
    trace_log *l = arg;
    assert_true(direction >= -1 && direction <= 1);
    assert_null(strchr(text, '\n'));
    l->lines[direction + 1]++;
    const char *mark = direction > 0 ? ">>> " : direction == 0 ? "<<< " : "--- ";
    int n = snprintf(l->text + l->len, sizeof l->text - l->len, "%s%s\n", mark, text);
    assert_true(n > 0 && (size_t)n < sizeof l->text - l->len);
    l->len += (size_t)n;
}

typedef struct key_log {
    char lines[8][300];
    size_t n;
} key_log;

static void collect_keys(const tlsv_conn *conn, const char *line, void *arg)
{
    (void)conn;
    key_log *k = arg;
    assert_true(k->n < 8);
    assert_true(strlen(line) < sizeof k->lines[0]);
    snprintf(k->lines[k->n++], sizeof k->lines[0], "%s", line);
}

static char ec_leaf[512];

static int pki_setup(void **state)
{
    (void)state;
    if (testpki_init() != 0)
        return -1;
    testpki_leaf("server-ec", TESTPKI_EC256, "DNS:localhost", ec_leaf, sizeof ec_leaf);
    return 0;
}

static int pki_teardown(void **state)
{
    (void)state;
    testpki_cleanup();
    return 0;
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

/* A handshake at `version` (max on the client), with trace and key log
 * callbacks on each side that are given (NULL: none). */
static void traced_handshake(int version, trace_log *ct, trace_log *st, key_log *ck,
                             key_log *sk)
{
    tlsv_ctx *cc = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL);
    tlsv_ctx *sc = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, NULL);
    assert_non_null(cc);
    assert_non_null(sc);
    assert_int_equal(tlsv_ctx_load_verify_locations(cc, testpki_ca_path(), NULL), 0);
    assert_int_equal(tlsv_ctx_set_maximum_version(cc, version), 0);
    assert_int_equal(tlsv_ctx_load_cert_chain(sc, ec_leaf, NULL), 0);
    if (ct)
        tlsv_ctx_set_trace_callback(cc, collect_trace, ct);
    if (st)
        tlsv_ctx_set_trace_callback(sc, collect_trace, st);
    if (ck)
        tlsv_ctx_set_keylog_callback(cc, collect_keys, ck);
    if (sk)
        tlsv_ctx_set_keylog_callback(sc, collect_keys, sk);
    tlsv_conn *c = tlsv_conn_new(cc, TLSV_ROLE_CLIENT, "localhost", NULL);
    tlsv_conn *s = tlsv_conn_new(sc, TLSV_ROLE_SERVER, NULL, NULL);
    assert_non_null(c);
    assert_non_null(s);
    int done = 0;
    for (int round = 0; round < 50 && !done; round++) {
        int rc = tlsv_conn_handshake(c), rs = tlsv_conn_handshake(s);
        assert_true(rc != -1 && rs != -1);
        move(c, s);
        move(s, c);
        done = rc == 0 && rs == 0;
    }
    assert_true(done);
    assert_int_equal(tlsv_conn_version_number(c), version);
    tlsv_conn_free(c);
    tlsv_conn_free(s);
    tlsv_ctx_free(cc);
    tlsv_ctx_free(sc);
}

static void api_trace_tls13(void **state)
{
    (void)state;
    static trace_log ct, st;
    memset(&ct, 0, sizeof ct);
    memset(&st, 0, sizeof st);
    traced_handshake(TLSV_VERSION_TLSv1_3, &ct, &st, NULL, NULL);
    assert_has(ct.text, ">>> ClientHello (");
    assert_has(ct.text, "supported_versions=[TLSv1.3,TLSv1.2]");
    assert_has(ct.text, "sni=localhost");
    assert_has(ct.text, "<<< ServerHello (");
    assert_has(ct.text, "version=TLSv1.3");
    assert_has(ct.text, "<<< EncryptedExtensions (");
    assert_has(ct.text, "<<< Certificate (");
    assert_has(ct.text, "<<< CertificateVerify (");
    assert_has(ct.text, "scheme=ecdsa_secp256r1_sha256");
    assert_has(ct.text, "<<< Finished (");
    assert_has(ct.text, ">>> Finished (");
    assert_has(ct.text, ">>>   record handshake");
    assert_has(ct.text, "--- handshake complete: TLSv1.3");
    assert_lacks(ct.text, "malformed");
    /* the server's view mirrors it */
    assert_has(st.text, "<<< ClientHello (");
    assert_has(st.text, ">>> ServerHello (");
    assert_has(st.text, ">>> Certificate (");
    assert_has(st.text, "<<< Finished (");
    assert_lacks(st.text, "malformed");
    for (int d = 0; d < 3; d++) {
        assert_true(ct.lines[d] > 0);
        assert_true(st.lines[d] > 0);
    }
}

static void api_trace_tls12(void **state)
{
    (void)state;
    static trace_log ct;
    memset(&ct, 0, sizeof ct);
    traced_handshake(TLSV_VERSION_TLSv1_2, &ct, NULL, NULL, NULL);
    assert_has(ct.text, ">>> ClientHello (");
    assert_lacks(ct.text, "supported_versions=[");
    assert_has(ct.text, "<<< ServerHello (");
    assert_has(ct.text, "version=TLSv1.2");
    assert_has(ct.text, "<<< ServerKeyExchange (");
    assert_has(ct.text, "ecdhe group=x25519");
    assert_has(ct.text, "<<< ServerHelloDone (");
    assert_has(ct.text, ">>> ClientKeyExchange (");
    assert_has(ct.text, "<<< change_cipher_spec");
    assert_has(ct.text, "--- handshake complete: TLSv1.2");
    assert_lacks(ct.text, "malformed");
}

static void api_key_log(void **state)
{
    (void)state;
    static key_log ck, sk;

    /* TLS 1.3: five secrets, the same on both sides */
    memset(&ck, 0, sizeof ck);
    memset(&sk, 0, sizeof sk);
    traced_handshake(TLSV_VERSION_TLSv1_3, NULL, NULL, &ck, &sk);
    assert_int_equal(ck.n, 5);
    assert_int_equal(sk.n, 5);
    const char *labels[] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET ", "SERVER_HANDSHAKE_TRAFFIC_SECRET ",
                            "CLIENT_TRAFFIC_SECRET_0 ", "SERVER_TRAFFIC_SECRET_0 ",
                            "EXPORTER_SECRET "};
    for (size_t i = 0; i < 5; i++) {
        int found = 0;
        for (size_t j = 0; j < 5; j++)
            if (strncmp(ck.lines[j], labels[i], strlen(labels[i])) == 0) {
                found = 1;
                /* LABEL <32-byte client random> <32-byte secret>, lower-case hex */
                const char *r = ck.lines[j] + strlen(labels[i]);
                assert_int_equal(strlen(r), 64 + 1 + 64);
                assert_int_equal(strspn(r, "0123456789abcdef"), 64);
                assert_int_equal(r[64], ' ');
                assert_int_equal(strspn(r + 65, "0123456789abcdef"), 64);
            }
        assert_true(found);
    }
    for (size_t i = 0; i < 5; i++) {
        int same = 0;
        for (size_t j = 0; j < 5; j++)
            same |= strcmp(ck.lines[i], sk.lines[j]) == 0;
        assert_true(same);
    }

    /* TLS 1.2: one CLIENT_RANDOM line with the 48-byte master secret */
    memset(&ck, 0, sizeof ck);
    memset(&sk, 0, sizeof sk);
    traced_handshake(TLSV_VERSION_TLSv1_2, NULL, NULL, &ck, &sk);
    assert_int_equal(ck.n, 1);
    assert_int_equal(sk.n, 1);
    assert_true(strncmp(ck.lines[0], "CLIENT_RANDOM ", 14) == 0);
    assert_int_equal(strlen(ck.lines[0]), 14 + 64 + 1 + 96);
    assert_string_equal(ck.lines[0], sk.lines[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(client_hello_fields),
        cmocka_unit_test(client_hello_grease_and_fallback),
        cmocka_unit_test(client_hello_tls12_only),
        cmocka_unit_test(server_hello_tls13),
        cmocka_unit_test(hello_retry_request),
        cmocka_unit_test(server_hello_tls12_sentinel),
        cmocka_unit_test(encrypted_extensions),
        cmocka_unit_test(certificate_both_forms),
        cmocka_unit_test(certificate_request_both_forms),
        cmocka_unit_test(certificate_verify_and_finished),
        cmocka_unit_test(tickets_and_key_update),
        cmocka_unit_test(tls12_key_exchange),
        cmocka_unit_test(malformed_messages),
        cmocka_unit_test(small_buffers),
        cmocka_unit_test(mutations_stay_bounded),
        cmocka_unit_test(api_trace_tls13),
        cmocka_unit_test(api_trace_tls12),
        cmocka_unit_test(api_key_log),
    };
    return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
