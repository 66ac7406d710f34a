/*
 * hostile.h -- a hand-written hostile peer for the test_hostile_*.c
 * programs (issue #7): the test code writes raw records into a real tlsv
 * connection in memory mode (the "victim") and reads back what it sends.
 *
 * Key material comes from the victim's own key log callback (NSS format),
 * so a test can seal records the victim will accept, open the records it
 * writes (to read the alert it sends under encryption), and take a real
 * peer's flight apart, change it and seal it again:
 *
 *   hkeys        key log capture (client random, TLS 1.2 master secret,
 *                TLS 1.3 handshake and application traffic secrets)
 *   hbuf         a growable byte buffer; hrec: a record split out of bytes
 *   k13          TLS 1.3 record protection done by hand: any inner type,
 *                padding, over-long content, a flipped tag bit
 *   k12          TLS 1.0-1.2 protection done by hand: AEAD, CBC with
 *                MAC-then-encrypt or encrypt-then-MAC, with a bad MAC, a
 *                bad padding or a padding length past the record
 *   hview        decodes what a victim wrote (plaintext, then its keys)
 *   h12          a hand-made TLS 1.0-1.2 client (ECDHE), enough to finish a
 *                handshake with a tlsv server with or without EtM / EMS
 *   expect_*     the assertions every hostile test makes: the alert on the
 *                wire, the error record, and that the connection is dead
 *
 * Everything is static inline so that a test file using a part compiles
 * cleanly under -Werror.
 */
#ifndef TLSV_HOSTILE_H
#define TLSV_HOSTILE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "engine/engine.h"
#include "engine/keysched13.h"
#include "engine/msg.h"
#include "engine/prf12.h"
#include "engine/record.h"
#include "engine/suites.h"
#include "engine/tls12.h"
#include "testpki.h"
#include "tlsv.h"
#include "version.h"

/* ======================================================================
 * Bytes
 * ====================================================================== */

typedef struct hbuf {
    uint8_t *p;
    size_t n, cap;
} hbuf;

static inline void hb_reserve(hbuf *b, size_t more)
{
    if (b->n + more <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more)
        cap *= 2;
    b->p = realloc(b->p, cap);
    assert_non_null(b->p);
    b->cap = cap;
}

static inline void hb_put(hbuf *b, const void *d, size_t n)
{
    hb_reserve(b, n + 1);
    if (n)
        memcpy(b->p + b->n, d, n);
    b->n += n;
}

static inline void hb_u8(hbuf *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    hb_put(b, &x, 1);
}

static inline void hb_u16(hbuf *b, unsigned v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    hb_put(b, x, 2);
}

static inline void hb_u24(hbuf *b, unsigned v)
{
    uint8_t x[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    hb_put(b, x, 3);
}

static inline void hb_fill(hbuf *b, uint8_t v, size_t n)
{
    hb_reserve(b, n + 1);
    memset(b->p + b->n, v, n);
    b->n += n;
}

static inline void hb_clear(hbuf *b)
{
    b->n = 0;
}

static inline void hb_free(hbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static inline unsigned get16(const uint8_t *p)
{
    return ((unsigned)p[0] << 8) | p[1];
}

static inline unsigned get24(const uint8_t *p)
{
    return ((unsigned)p[0] << 16) | ((unsigned)p[1] << 8) | p[2];
}

static inline void set16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void set24(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

/* ======================================================================
 * Records and handshake messages
 * ====================================================================== */

typedef struct hrec {
    uint8_t type;
    uint16_t version;
    const uint8_t *body;
    size_t len;
} hrec;

/* Splits p[0..n) into whole records (asserts nothing is left over). */
static inline size_t split_records(const uint8_t *p, size_t n, hrec *out, size_t max)
{
    size_t k = 0, off = 0;
    while (off < n) {
        assert_true(n - off >= 5);
        size_t len = get16(p + off + 3);
        assert_true(n - off - 5 >= len);
        assert_true(k < max);
        out[k].type = p[off];
        out[k].version = (uint16_t)get16(p + off + 1);
        out[k].body = p + off + 5;
        out[k].len = len;
        k++;
        off += 5 + len;
    }
    return k;
}

static inline void put_record(hbuf *b, uint8_t type, uint16_t version, const void *body, size_t len)
{
    hb_u8(b, type);
    hb_u16(b, version);
    hb_u16(b, (unsigned)len);
    hb_put(b, body, len);
}

/* Handshake bytes as records of at most `frag` bytes each. */
static inline void put_fragmented(hbuf *b, uint8_t type, uint16_t version, const uint8_t *data,
                                  size_t len, size_t frag)
{
    for (size_t off = 0; off < len; off += frag)
        put_record(b, type, version, data + off, len - off < frag ? len - off : frag);
}

typedef struct hmsg {
    uint8_t type;
    const uint8_t *p; /* the whole message, header included */
    size_t n;
} hmsg;

/* Splits handshake bytes into messages (asserts they are whole). */
static inline size_t split_messages(const uint8_t *p, size_t n, hmsg *out, size_t max)
{
    size_t k = 0, off = 0;
    while (off < n) {
        assert_true(n - off >= 4);
        size_t len = get24(p + off + 1);
        assert_true(n - off - 4 >= len);
        assert_true(k < max);
        out[k].type = p[off];
        out[k].p = p + off;
        out[k].n = 4 + len;
        k++;
        off += 4 + len;
    }
    return k;
}

/* Appends an extension (type, data) at the end of a message whose
 * extension block is its last field and starts (with its u16 length) at
 * block_off; fixes the block and message lengths. */
static inline void msg_append_ext(hbuf *msg, size_t block_off, uint16_t type, const void *data,
                                  size_t n)
{
    hb_u16(msg, type);
    hb_u16(msg, (unsigned)n);
    hb_put(msg, data, n);
    set16(msg->p + block_off, msg->n - block_off - 2);
    set24(msg->p + 1, msg->n - 4);
}

/* ServerHello: the offset of its extension block (header included). */
static inline size_t sh_ext_off(const uint8_t *sh)
{
    return 4 + 2 + 32 + 1 + sh[4 + 2 + 32] + 2 + 1;
}

/* ======================================================================
 * Key log capture
 * ====================================================================== */

typedef struct hkeys {
    uint8_t client_random[32];
    uint8_t master[48];
    bool have_master;
    uint8_t c_hs[48], s_hs[48], c_ap[48], s_ap[48];
    size_t slen; /* TLS 1.3 secret length */
} hkeys;

static inline size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (s[0] && s[1] && s[0] != ' ' && n < cap) {
        unsigned v;
        assert_int_equal(sscanf(s, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static inline void hkeys_cb(const tlsv_conn *conn, const char *line, void *arg)
{
    (void)conn;
    hkeys *k = arg;
    const char *sp = strchr(line, ' ');
    assert_non_null(sp);
    const char *sp2 = strchr(sp + 1, ' ');
    assert_non_null(sp2);
    unhex(sp + 1, k->client_random, 32);
    size_t label = (size_t)(sp - line);
    uint8_t *dst = NULL;
    if (label == 13 && strncmp(line, "CLIENT_RANDOM", 13) == 0) {
        unhex(sp2 + 1, k->master, 48);
        k->have_master = true;
        return;
    }
    if (strncmp(line, "CLIENT_HANDSHAKE_TRAFFIC_SECRET ", 32) == 0)
        dst = k->c_hs;
    else if (strncmp(line, "SERVER_HANDSHAKE_TRAFFIC_SECRET ", 32) == 0)
        dst = k->s_hs;
    else if (strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0)
        dst = k->c_ap;
    else if (strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) == 0)
        dst = k->s_ap;
    if (dst)
        k->slen = unhex(sp2 + 1, dst, 48);
}

/* ======================================================================
 * TLS 1.3 records by hand
 * ====================================================================== */

typedef struct k13 {
    tlsv_aead_alg alg;
    tlsv_hash_alg hash;
    tlsv_aead_ctx *aead;
    uint8_t iv[12];
    uint8_t secret[48];
    size_t slen;
    uint64_t seq;
} k13;

static inline void k13_key(k13 *k)
{
    uint8_t key[32];
    size_t kl = tlsv_aead_key_len(k->alg);
    assert_int_equal(tlsv_ks13_traffic_keys(k->hash, k->secret, k->slen, kl, key, k->iv), 0);
    tlsv_aead_free(k->aead);
    k->aead = tlsv_aead_new(k->alg, key, kl);
    assert_non_null(k->aead);
    k->seq = 0;
}

/* TLS_AES_128_GCM_SHA256 unless told otherwise (tlsv's first suite). */
static inline void k13_init(k13 *k, const uint8_t *secret, size_t slen)
{
    memset(k, 0, sizeof *k);
    k->alg = TLSV_AEAD_AES_128_GCM;
    k->hash = TLSV_HASH_SHA256;
    memcpy(k->secret, secret, slen);
    k->slen = slen;
    k13_key(k);
}

/* The next generation (after a KeyUpdate, RFC 8446 §7.2). */
static inline void k13_update(k13 *k)
{
    assert_int_equal(tlsv_ks13_update(k->hash, k->secret, k->slen), 0);
    k13_key(k);
}

static inline void k13_free(k13 *k)
{
    tlsv_aead_free(k->aead);
    k->aead = NULL;
}

static inline void k13_nonce(const k13 *k, uint8_t nonce[12])
{
    memcpy(nonce, k->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(k->seq >> (8 * i));
}

/* Appends one record: TLSInnerPlaintext = content || type || pad zeros
 * (type 0: no type byte at all, only the zeros), sealed; `tamper` flips a
 * bit of the tag. */
static inline void k13_seal(k13 *k, hbuf *out, uint8_t type, const void *content, size_t n,
                            size_t pad, bool tamper)
{
    size_t inner = n + (type ? 1 : 0) + pad, total = inner + 16;
    uint8_t *buf = calloc(1, total + 1);
    assert_non_null(buf);
    if (n)
        memcpy(buf, content, n);
    if (type)
        buf[n] = type;
    uint8_t hdr[5] = {23, 3, 3, (uint8_t)(total >> 8), (uint8_t)total};
    uint8_t nonce[12];
    k13_nonce(k, nonce);
    size_t got = 0;
    assert_int_equal(tlsv_aead_seal(k->aead, nonce, 12, hdr, 5, buf, inner, buf, total, &got), 0);
    assert_int_equal(got, total);
    if (tamper)
        buf[total - 1] ^= 0x01;
    hb_put(out, hdr, 5);
    hb_put(out, buf, total);
    free(buf);
    k->seq++;
}

/* Handshake bytes as protected records of at most `frag` bytes each. */
static inline void k13_seal_fragmented(k13 *k, hbuf *out, uint8_t type, const uint8_t *data,
                                       size_t len, size_t frag)
{
    for (size_t off = 0; off < len; off += frag)
        k13_seal(k, out, type, data + off, len - off < frag ? len - off : frag, 0, false);
}

/* Opens a record into pt (cap >= r->len). Returns 0, or -1 if it does not
 * authenticate (the sequence number then stays). */
static inline int k13_open(k13 *k, const hrec *r, uint8_t *type, uint8_t *pt, size_t *n)
{
    uint8_t hdr[5] = {r->type, (uint8_t)(r->version >> 8), (uint8_t)r->version,
                      (uint8_t)(r->len >> 8), (uint8_t)r->len};
    uint8_t nonce[12];
    k13_nonce(k, nonce);
    size_t got = 0;
    if (r->len < 17 || tlsv_aead_open(k->aead, nonce, 12, hdr, 5, r->body, r->len, pt, r->len,
                                      &got) != 0)
        return -1;
    k->seq++;
    while (got > 0 && pt[got - 1] == 0)
        got--;
    assert_true(got > 0);
    *type = pt[got - 1];
    *n = got - 1;
    return 0;
}

/* ======================================================================
 * TLS 1.0-1.2 records by hand
 * ====================================================================== */

enum { T_NONE = 0, T_MAC, T_PAD, T_PADLEN, T_TAG };

typedef struct k12 {
    uint16_t version;
    const tlsv_suite *s;
    bool etm;
    uint8_t mac_key[48], key[32], iv[16];
    size_t mac_len, key_len;
    tlsv_aead_ctx *aead;
    tlsv_cbc_ctx *enc;
    uint8_t chain[16]; /* TLS 1.0: the next record's IV */
    uint64_t seq;
} k12;

/* The keys one side writes with (client_write: the client's). */
static inline void k12_init(k12 *k, uint16_t version, const tlsv_suite *s, bool etm,
                            const uint8_t master[48], const uint8_t cr[32], const uint8_t sr[32],
                            bool client_write)
{
    memset(k, 0, sizeof *k);
    k->version = version;
    k->s = s;
    k->etm = etm && !s->aead;
    k->mac_len = s->aead ? 0 : tlsv_hash_len(s->mac);
    k->key_len = s->aead ? tlsv_aead_key_len(s->aead) : tlsv_cbc_key_len(s->cbc);
    size_t iv_len = s->aead == TLSV_AEAD_CHACHA20_POLY1305 ? 12
                    : s->aead                              ? 4
                    : version <= TLSV_V_TLS10              ? 16
                                                           : 0;
    tlsv_keys12 keys;
    assert_int_equal(tlsv_prf12_keys(version, s->hash, master, cr, sr, k->mac_len, k->key_len,
                                     iv_len, &keys),
                     0);
    memcpy(k->mac_key, client_write ? keys.client_mac : keys.server_mac, k->mac_len);
    memcpy(k->key, client_write ? keys.client_key : keys.server_key, k->key_len);
    if (iv_len)
        memcpy(k->iv, client_write ? keys.client_iv : keys.server_iv, iv_len);
    memcpy(k->chain, k->iv, 16);
    tlsv_keys12_wipe(&keys);
    if (s->aead) {
        k->aead = tlsv_aead_new(s->aead, k->key, k->key_len);
        assert_non_null(k->aead);
    } else {
        k->enc = tlsv_cbc_new(s->cbc, k->key, k->key_len, 1);
        assert_non_null(k->enc);
    }
}

static inline void k12_free(k12 *k)
{
    tlsv_aead_free(k->aead);
    tlsv_cbc_free(k->enc);
    k->aead = NULL;
    k->enc = NULL;
}

/* A direction of the library's record layer that opens what `k` seals. */
static inline void k12_open_dir(const k12 *k, tlsv_rec_dir *d)
{
    tlsv_rec_keys12 rk = {.mac_key = k->mac_key,
                          .mac_key_len = k->mac_len,
                          .key = k->key,
                          .key_len = k->key_len,
                          .iv = k->iv,
                          .iv_len = k->s->aead == TLSV_AEAD_CHACHA20_POLY1305 ? 12
                                    : k->s->aead                              ? 4
                                                                              : 16};
    memset(d, 0, sizeof *d);
    if (k->s->aead)
        assert_int_equal(tlsv_rec_dir_set_aead12(d, k->version, k->s->aead, &rk), 0);
    else
        assert_int_equal(tlsv_rec_dir_set_cbc(d, k->version, k->etm ? TLSV_REC_ETM : 0, k->s->cbc,
                                              k->s->mac, &rk),
                         0);
}

static inline void k12_mac(const k12 *k, uint8_t type, const uint8_t *data, size_t n,
                           const uint8_t *prefix, size_t prefix_len, uint8_t *out)
{
    uint8_t h[13];
    for (int i = 0; i < 8; i++)
        h[i] = (uint8_t)(k->seq >> (56 - 8 * i));
    h[8] = type;
    h[9] = (uint8_t)(k->version >> 8);
    h[10] = (uint8_t)k->version;
    h[11] = (uint8_t)((prefix_len + n) >> 8);
    h[12] = (uint8_t)(prefix_len + n);
    hbuf in = {0};
    hb_put(&in, h, 13);
    hb_put(&in, prefix, prefix_len);
    hb_put(&in, data, n);
    assert_int_equal(tlsv_hmac(k->s->mac, k->mac_key, k->mac_len, in.p, in.n, out, 64), 0);
    hb_free(&in);
}

/*
 * Appends one protected record of pt[0..n) (n may exceed 2^14).
 *   tamper T_MAC     a bit of the MAC flipped (CBC)
 *          T_PAD     the first padding byte wrong (the MAC is right; with
 *                    EtM the MAC covers the damaged ciphertext, so only the
 *                    padding check can fail)
 *          T_PADLEN  the padding length byte says 255 (past the record)
 *          T_TAG     a bit of the AEAD tag flipped
 *   extra_blocks     more padding blocks than the minimum (CBC)
 */
static inline void k12_seal(k12 *k, hbuf *out, uint8_t type, const void *pt, size_t n,
                            unsigned tamper, size_t extra_blocks)
{
    hbuf body = {0};
    if (k->s->aead) {
        size_t ex = k->s->aead == TLSV_AEAD_CHACHA20_POLY1305 ? 0 : 8;
        uint8_t nonce[12], aad[13], seqb[8];
        for (int i = 0; i < 8; i++)
            seqb[i] = (uint8_t)(k->seq >> (56 - 8 * i));
        if (ex) {
            memcpy(nonce, k->iv, 4);
            memcpy(nonce + 4, seqb, 8);
        } else {
            memcpy(nonce, k->iv, 12);
            for (int i = 0; i < 8; i++)
                nonce[4 + i] ^= seqb[i];
        }
        memcpy(aad, seqb, 8);
        aad[8] = type;
        aad[9] = (uint8_t)(k->version >> 8);
        aad[10] = (uint8_t)k->version;
        aad[11] = (uint8_t)(n >> 8);
        aad[12] = (uint8_t)n;
        uint8_t *c = malloc(n + 16 + 1);
        assert_non_null(c);
        size_t got = 0;
        assert_int_equal(tlsv_aead_seal(k->aead, nonce, 12, aad, 13, pt, n, c, n + 16, &got), 0);
        if (tamper == T_TAG)
            c[got - 1] ^= 0x80;
        if (ex)
            hb_put(&body, seqb, 8);
        hb_put(&body, c, got);
        free(c);
    } else {
        uint8_t ivb[16];
        bool explicit_iv = k->version > TLSV_V_TLS10;
        if (explicit_iv)
            for (int i = 0; i < 16; i++)
                ivb[i] = (uint8_t)(0xa0 + i + k->seq);
        else
            memcpy(ivb, k->chain, 16);
        uint8_t mac[64];
        hbuf plain = {0};
        hb_put(&plain, pt, n);
        if (!k->etm) {
            k12_mac(k, type, pt, n, NULL, 0, mac);
            if (tamper == T_MAC)
                mac[0] ^= 0x01;
            hb_put(&plain, mac, k->mac_len);
        }
        size_t pad = (16 - (plain.n + 1) % 16) % 16 + 16 * extra_blocks;
        assert_true(pad <= 255);
        hb_fill(&plain, (uint8_t)pad, pad + 1);
        if (tamper == T_PAD) {
            assert_true(pad >= 1);
            plain.p[plain.n - 1 - pad] ^= 0x01;
        }
        if (tamper == T_PADLEN)
            plain.p[plain.n - 1] = 255;
        assert_int_equal(tlsv_cbc_crypt(k->enc, ivb, plain.p, plain.n, plain.p), 0);
        if (explicit_iv)
            hb_put(&body, ivb, 16);
        hb_put(&body, plain.p, plain.n);
        memcpy(k->chain, plain.p + plain.n - 16, 16);
        if (k->etm) {
            k12_mac(k, type, plain.p, plain.n, explicit_iv ? ivb : NULL, explicit_iv ? 16 : 0,
                    mac);
            if (tamper == T_MAC)
                mac[0] ^= 0x01;
            hb_put(&body, mac, k->mac_len);
        }
        hb_free(&plain);
    }
    put_record(out, type, k->version, body.p, body.n);
    hb_free(&body);
    k->seq++;
}

/* A record the real peer sealed with these keys went by: keep in step
 * (sequence number; TLS 1.0's chained IV). */
static inline void k12_skip(k12 *k, const hrec *r)
{
    if (!k->s->aead) {
        size_t end = r->len - (k->etm ? k->mac_len : 0);
        memcpy(k->chain, r->body + end - 16, 16);
    }
    k->seq++;
}

/* ======================================================================
 * What a victim wrote
 * ====================================================================== */

typedef struct hdrec {
    uint8_t type;
    size_t len;
    uint8_t head[8];
} hdrec;

typedef struct hout {
    size_t n;
    hdrec r[512];
    hbuf hs;  /* every handshake byte, in order */
    hbuf app; /* every application data byte */
} hout;

typedef struct hview {
    bool victim_server;
    hkeys *keys;
    /* TLS 1.3: the victim's write epochs after plaintext: handshake, application */
    int epoch;
    k13 k;
    /* TLS 1.0-1.2: keys after the victim's change_cipher_spec */
    uint16_t version;
    const tlsv_suite *suite;
    bool etm;
    uint8_t sr[32];
    bool have_sr, switched;
    tlsv_rec_dir rd;
} hview;

static inline void view_init13(hview *v, hkeys *keys, bool victim_server)
{
    memset(v, 0, sizeof *v);
    v->victim_server = victim_server;
    v->keys = keys;
}

static inline void view_init12(hview *v, hkeys *keys, bool victim_server, uint16_t version,
                               const tlsv_suite *s, bool etm)
{
    memset(v, 0, sizeof *v);
    v->victim_server = victim_server;
    v->keys = keys;
    v->version = version;
    v->suite = s;
    v->etm = etm;
}

static inline void view_free(hview *v)
{
    k13_free(&v->k);
    tlsv_rec_dir_clear(&v->rd);
}

static inline void hout_free(hout *o)
{
    hb_free(&o->hs);
    hb_free(&o->app);
    o->n = 0;
}

static inline void hout_add(hout *o, uint8_t type, const uint8_t *p, size_t n)
{
    assert_true(o->n < sizeof o->r / sizeof o->r[0]);
    hdrec *d = &o->r[o->n++];
    d->type = type;
    d->len = n;
    memset(d->head, 0, sizeof d->head);
    memcpy(d->head, p, n < 8 ? n : 8);
    if (type == TLSV_CT_HANDSHAKE)
        hb_put(&o->hs, p, n);
    if (type == TLSV_CT_APPLICATION_DATA)
        hb_put(&o->app, p, n);
}

/* Decodes bytes the victim wrote (appending to *o). */
static inline void view_decode(hview *v, const uint8_t *p, size_t n, hout *o)
{
    static hrec recs[2048];
    size_t k = split_records(p, n, recs, 2048);
    for (size_t i = 0; i < k; i++) {
        const hrec *r = &recs[i];
        if (!v->suite) { /* TLS 1.3 */
            if (r->type != TLSV_CT_APPLICATION_DATA || !v->keys) {
                hout_add(o, r->type, r->body, r->len);
                continue;
            }
            uint8_t *pt = malloc(r->len + 1);
            assert_non_null(pt);
            uint8_t type = 0;
            size_t len = 0;
            for (;;) {
                if (v->epoch > 0 && k13_open(&v->k, r, &type, pt, &len) == 0)
                    break;
                assert_true(v->epoch < 2);
                v->epoch++;
                const uint8_t *sec = v->epoch == 1 ? (v->victim_server ? v->keys->s_hs : v->keys->c_hs)
                                                   : (v->victim_server ? v->keys->s_ap : v->keys->c_ap);
                assert_true(v->keys->slen > 0);
                k13_free(&v->k);
                k13_init(&v->k, sec, v->keys->slen);
            }
            hout_add(o, type, pt, len);
            free(pt);
            continue;
        }
        /* TLS 1.0-1.2 */
        if (!v->switched) {
            if (v->victim_server && r->type == TLSV_CT_HANDSHAKE && !v->have_sr && r->len >= 38 &&
                r->body[0] == TLSV_HS_SERVER_HELLO) {
                memcpy(v->sr, r->body + 6, 32);
                v->have_sr = true;
            }
            hout_add(o, r->type, r->body, r->len);
            if (r->type == TLSV_CT_CHANGE_CIPHER_SPEC) {
                assert_true(v->keys->have_master && v->have_sr);
                k12 w;
                k12_init(&w, v->version, v->suite, v->etm, v->keys->master, v->keys->client_random,
                         v->sr, !v->victim_server);
                k12_open_dir(&w, &v->rd);
                k12_free(&w);
                v->switched = true;
            }
            continue;
        }
        uint8_t hdr[5] = {r->type, (uint8_t)(r->version >> 8), (uint8_t)r->version,
                          (uint8_t)(r->len >> 8), (uint8_t)r->len};
        uint8_t *body = malloc(r->len + 1);
        assert_non_null(body);
        memcpy(body, r->body, r->len);
        uint8_t type, *pt;
        size_t len;
        tlsv_error err;
        assert_int_equal(tlsv_rec_open(&v->rd, hdr, body, r->len, &type, &pt, &len, &err), 0);
        hout_add(o, type, pt, len);
        free(body);
    }
}

/* Takes everything the connection has to send and decodes it. */
static inline void view_take(hview *v, tlsv_conn *c, hout *o)
{
    hbuf b = {0};
    uint8_t tmp[8192];
    size_t n;
    while ((n = tlsv_conn_take_output(c, tmp, sizeof tmp)) > 0)
        hb_put(&b, tmp, n);
    if (v)
        view_decode(v, b.p, b.n, o);
    else if (b.n)
        fail_msg("unexpected output of %zu bytes", b.n);
    hb_free(&b);
}

/* ======================================================================
 * Moving bytes
 * ====================================================================== */

static inline void take_all(tlsv_conn *c, hbuf *out)
{
    uint8_t tmp[8192];
    size_t n;
    while ((n = tlsv_conn_take_output(c, tmp, sizeof tmp)) > 0)
        hb_put(out, tmp, n);
}

static inline void feed(tlsv_conn *c, const hbuf *b)
{
    assert_int_equal(tlsv_conn_feed(c, b->p, b->n), 0);
}

static inline size_t h_move(tlsv_conn *from, tlsv_conn *to)
{
    hbuf b = {0};
    take_all(from, &b);
    if (b.n)
        feed(to, &b);
    size_t n = b.n;
    hb_free(&b);
    return n;
}

/* ======================================================================
 * Expectations
 * ====================================================================== */

static inline void expect_err(tlsv_conn *c, tlsv_reason reason, int alert, tlsv_side side)
{
    const tlsv_error *e = tlsv_conn_last_error(c);
    assert_non_null(e);
    if (e->reason != reason || e->alert != alert || e->side != side) {
        char b[600];
        tlsv_error_format(e, b, sizeof b);
        fail_msg("expected %s (alert %s, %s), got %s (side %d)", tlsv_reason_name(reason),
                 tlsv_alert_name(alert) ? tlsv_alert_name(alert) : "none",
                 side == TLSV_SIDE_LOCAL ? "local" : "remote", b, (int)e->side);
    }
}

/* Further calls fail, produce nothing, and keep the first error. */
static inline void expect_dead(tlsv_conn *c)
{
    tlsv_error before = *tlsv_conn_last_error(c);
    uint8_t junk[64] = {22, 3, 3, 0, 4, 1, 0, 0, 0};
    uint8_t buf[64];
    assert_int_equal(tlsv_conn_handshake(c), -1);
    assert_int_equal(tlsv_conn_read(c, buf, sizeof buf), -1);
    assert_int_equal(tlsv_conn_write(c, "x", 1), -1);
    tlsv_conn_feed(c, junk, sizeof junk);
    assert_int_equal(tlsv_conn_handshake(c), -1);
    assert_int_equal(tlsv_conn_read(c, buf, sizeof buf), -1);
    assert_int_equal(tlsv_conn_pending_output(c), 0);
    const tlsv_error *after = tlsv_conn_last_error(c);
    assert_int_equal(after->reason, before.reason);
    assert_int_equal(after->alert, before.alert);
    assert_int_equal(after->side, before.side);
    assert_string_equal(after->message, before.message);
}

/* The victim decided a failure: its last record is the fatal alert (the
 * only alert it wrote), the error record says so, and it is dead. No
 * application data was delivered. `v` decodes its output (NULL: it wrote
 * plaintext only). */
static inline void expect_fail_local(tlsv_conn *c, hview *v, tlsv_reason reason, int alert)
{
    expect_err(c, reason, alert, TLSV_SIDE_LOCAL);
    hview plain;
    if (!v) {
        view_init13(&plain, NULL, false);
        v = &plain;
    }
    hout o = {0};
    view_take(v, c, &o);
    assert_true(o.n >= 1);
    const hdrec *last = &o.r[o.n - 1];
    if (last->type != TLSV_CT_ALERT)
        fail_msg("the last record sent is of type %u, not an alert", last->type);
    assert_int_equal(last->len, 2);
    assert_int_equal(last->head[0], 2); /* fatal */
    assert_int_equal(last->head[1], alert);
    for (size_t i = 0; i + 1 < o.n; i++)
        assert_int_not_equal(o.r[i].type, TLSV_CT_ALERT);
    hout_free(&o);
    if (v == &plain)
        view_free(&plain);
    expect_dead(c);
}

/* The victim failed because of something the peer did that it does not
 * answer with an alert (EOF, the peer's own fatal alert). */
static inline void expect_fail_quiet(tlsv_conn *c, tlsv_reason reason, int alert, tlsv_side side)
{
    expect_err(c, reason, alert, side);
    assert_int_equal(tlsv_conn_pending_output(c), 0);
    uint8_t buf[16];
    assert_int_equal(tlsv_conn_handshake(c), -1);
    assert_int_equal(tlsv_conn_read(c, buf, sizeof buf), -1);
    assert_int_equal(tlsv_conn_write(c, "x", 1), -1);
    assert_int_equal(tlsv_conn_pending_output(c), 0);
    expect_err(c, reason, alert, side);
}

/* ======================================================================
 * Contexts and pairs
 * ====================================================================== */

static char hostile_leaf[512];

static inline int hostile_setup(void **state)
{
    (void)state;
    if (testpki_init() != 0)
        return -1;
    testpki_leaf("hostile-ec", TESTPKI_EC256, "DNS:localhost,IP:127.0.0.1", hostile_leaf,
                 sizeof hostile_leaf);
    return 0;
}

static inline int hostile_teardown(void **state)
{
    (void)state;
    testpki_cleanup();
    return 0;
}

/* A server context (EC certificate), versions [min, max] (0: default),
 * TLS <= 1.2 suites `ciphers` (NULL: default), key log into *keys. */
static inline tlsv_ctx *hs_ctx(int min, int max, const char *ciphers, hkeys *keys)
{
    tlsv_ctx *s = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, NULL);
    assert_non_null(s);
    assert_int_equal(tlsv_ctx_load_cert_chain(s, hostile_leaf, NULL), 0);
    /* no TLS 1.3 session tickets: the scenes seal their records to the
     * client from sequence number 0 of the server's application keys */
    assert_int_equal(tlsv_ctx_set_num_tickets(s, 0), 0);
    if (min)
        assert_int_equal(tlsv_ctx_set_minimum_version(s, min), 0);
    if (max)
        assert_int_equal(tlsv_ctx_set_maximum_version(s, max), 0);
    if (ciphers)
        assert_int_equal(tlsv_ctx_set_ciphers(s, ciphers), 0);
    if (keys)
        tlsv_ctx_set_keylog_callback(s, hkeys_cb, keys);
    return s;
}

/* A verifying client context. */
static inline tlsv_ctx *hc_ctx(int min, int max, const char *ciphers, hkeys *keys)
{
    tlsv_ctx *c = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL);
    assert_non_null(c);
    assert_int_equal(tlsv_ctx_load_verify_locations(c, testpki_ca_path(), NULL), 0);
    if (min)
        assert_int_equal(tlsv_ctx_set_minimum_version(c, min), 0);
    if (max)
        assert_int_equal(tlsv_ctx_set_maximum_version(c, max), 0);
    if (ciphers)
        assert_int_equal(tlsv_ctx_set_ciphers(c, ciphers), 0);
    if (keys)
        tlsv_ctx_set_keylog_callback(c, hkeys_cb, keys);
    return c;
}

static inline tlsv_conn *h_conn(tlsv_ctx *ctx, tlsv_role role)
{
    tlsv_error err;
    tlsv_conn *c = tlsv_conn_new(ctx, role, role == TLSV_ROLE_CLIENT ? "localhost" : NULL, &err);
    assert_non_null(c);
    return c;
}

/* Runs a tlsv <-> tlsv handshake to completion. */
static inline void h_handshake(tlsv_conn *c, tlsv_conn *s)
{
    for (int i = 0; i < 50; i++) {
        int rc = tlsv_conn_handshake(c);
        int rs = tlsv_conn_handshake(s);
        size_t moved = h_move(c, s) + h_move(s, c);
        if (rc == 0 && rs == 0 && !moved)
            return;
        if (rc == -1 || rs == -1) {
            char b[600];
            tlsv_error_format(tlsv_conn_last_error(rc == -1 ? c : s), b, sizeof b);
            fail_msg("%s failed: %s", rc == -1 ? "client" : "server", b);
        }
    }
    fail_msg("the handshake did not finish");
}

/* Reads exactly n bytes that must be there. */
static inline void expect_read(tlsv_conn *c, const void *want, size_t n)
{
    uint8_t *got = malloc(n + 1);
    assert_non_null(got);
    size_t have = 0;
    while (have < n) {
        long r = tlsv_conn_read(c, got + have, n - have);
        if (r <= 0) {
            char b[600];
            tlsv_error_format(tlsv_conn_last_error(c), b, sizeof b);
            fail_msg("read returned %ld after %zu of %zu bytes: %s", r, have, n, b);
        }
        have += (size_t)r;
    }
    assert_memory_equal(got, want, n);
    free(got);
}

/* Reading finds nothing yet: WANT_READ. */
static inline void expect_want_read(tlsv_conn *c)
{
    uint8_t b[16];
    long r = tlsv_conn_read(c, b, sizeof b);
    if (r != TLSV_WANT_READ) {
        char t[600];
        tlsv_error_format(tlsv_conn_last_error(c), t, sizeof t);
        fail_msg("read returned %ld, expected WANT_READ (%s)", r, t);
    }
}

/* ======================================================================
 * A deterministic ClientHello
 * ====================================================================== */

typedef struct ch_opts {
    uint16_t legacy_version;         /* 0: 0x0303 */
    const uint16_t *versions;        /* supported_versions (NULL: 1.3 and 1.2) */
    size_t n_versions;
    bool no_versions;                /* no supported_versions at all */
    const uint16_t *suites;          /* NULL: the three TLS 1.3 suites + two 1.2 ones */
    size_t n_suites;
    bool etm, ems;
    bool all;                        /* every extension the mutation test walks */
    bool no_key_share;               /* TLS 1.3 offered, but no key_share extension */
} ch_opts;

/* The x25519 share of a fixed private key. */
static inline size_t fixed_x25519(uint8_t pub[32])
{
    static const uint8_t priv[32] = {0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1,
                                     0x72, 0x51, 0xb2, 0x66, 0x45, 0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0,
                                     0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a};
    tlsv_kex *k = tlsv_kex_from_private(TLSV_GROUP_X25519, priv, sizeof priv);
    assert_non_null(k);
    size_t n = 0;
    assert_int_equal(tlsv_kex_public(k, pub, 32, &n), 0);
    tlsv_kex_free(k);
    return n;
}

/* Appends a ClientHello handshake message (header included). */
static inline void build_ch(hbuf *out, const ch_opts *o)
{
    static const uint8_t random[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                       12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                       23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    static const uint8_t sid[32] = {0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58,
                                    0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60,
                                    0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
                                    0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70};
    static const uint16_t def_suites[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc009};
    static const uint16_t def_versions[] = {TLSV_V_TLS13, TLSV_V_TLS12};
    static const uint16_t groups[] = {TLSV_GROUP_X25519, TLSV_GROUP_SECP256R1};
    static const uint16_t sigalgs[] = {0x0403, 0x0804, 0x0401};
    static const uint8_t modes[] = {1};
    static const tlsv_bytes alpn[2] = {{(const uint8_t *)"h2", 2}, {(const uint8_t *)"http/1.1", 8}};
    uint8_t pub[32];
    size_t pub_len = fixed_x25519(pub);
    tlsv_key_share_param share = {TLSV_GROUP_X25519, {pub, pub_len}};
    bool v13 = !o->no_versions;
    tlsv_client_hello_params p = {
        .legacy_version = o->legacy_version ? o->legacy_version : TLSV_V_TLS12,
        .random = random,
        .session_id = {sid, 32},
        .cipher_suites = o->suites ? o->suites : def_suites,
        .n_cipher_suites = o->suites ? o->n_suites : 5,
        .versions = v13 ? (o->versions ? o->versions : def_versions) : NULL,
        .n_versions = v13 ? (o->versions ? o->n_versions : 2) : 0,
        .groups = groups,
        .n_groups = 2,
        .signature_algorithms = sigalgs,
        .n_signature_algorithms = 3,
        .key_share = v13 && !o->no_key_share,
        .key_shares = v13 && !o->no_key_share ? &share : NULL,
        .n_key_shares = v13 && !o->no_key_share ? 1 : 0,
        .server_name = "localhost",
        .psk_modes = v13 ? modes : NULL,
        .n_psk_modes = v13 ? 1 : 0,
        .renegotiation_info = true,
        .extended_master_secret = o->ems,
        .encrypt_then_mac = o->etm,
        .ec_point_formats = true,
    };
    if (o->all) {
        p.alpn = alpn;
        p.n_alpn = 2;
        p.signature_algorithms_cert = sigalgs;
        p.n_signature_algorithms_cert = 3;
        p.status_request = true;
        p.session_ticket = true;
        p.record_size_limit = 16385;
    }
    tlsv_writer w;
    tlsv_error err;
    assert_true(tlsv_wr_init_growable(&w, 512, 1 << 20));
    assert_int_equal(tlsv_msg_write_client_hello(&w, &p, NULL, &err), 0);
    hb_put(out, tlsv_wr_data(&w), tlsv_wr_len(&w));
    tlsv_wr_release(&w);
}

/* The offset of a ClientHello's extension block (message header included). */
static inline size_t ch_ext_off(const uint8_t *ch)
{
    size_t off = 4 + 2 + 32;
    off += 1 + ch[off];
    off += 2 + get16(ch + off);
    off += 1 + ch[off];
    return off;
}

/* ======================================================================
 * A hand-made TLS 1.0-1.2 client (ECDHE), talking to a tlsv server
 * ====================================================================== */

typedef struct h12 {
    uint16_t version;
    const tlsv_suite *s;
    bool etm, ems;
    uint8_t cr[32], sr[32], master[48];
    hbuf tr;
    k12 w;          /* what we seal */
    hview view;     /* decodes the server's output */
    hkeys keys;     /* what the view needs: our random and the master */
} h12;

/* Our ClientHello, as a whole handshake message. */
static inline void h12_client_hello(h12 *h, hbuf *msg)
{
    for (int i = 0; i < 32; i++)
        h->cr[i] = (uint8_t)(0xc0 + i);
    static const uint16_t groups[] = {TLSV_GROUP_X25519, TLSV_GROUP_SECP256R1};
    tlsv_client_hello_params p = {
        .legacy_version = h->version,
        .random = h->cr,
        .cipher_suites = &h->s->id,
        .n_cipher_suites = 1,
        .groups = groups,
        .n_groups = 2,
        .signature_algorithms = h->version >= TLSV_V_TLS12 ? tlsv_sigalgs12 : NULL,
        .n_signature_algorithms = h->version >= TLSV_V_TLS12 ? tlsv_sigalgs12_count : 0,
        .renegotiation_info = true,
        .extended_master_secret = h->ems,
        .encrypt_then_mac = h->etm,
        .ec_point_formats = true,
    };
    tlsv_writer w;
    tlsv_error err;
    assert_true(tlsv_wr_init_growable(&w, 512, 65536));
    assert_int_equal(tlsv_msg_write_client_hello(&w, &p, NULL, &err), 0);
    hb_put(msg, tlsv_wr_data(&w), tlsv_wr_len(&w));
    tlsv_wr_release(&w);
}

/* Runs a full handshake with the tlsv server `srv` (whose context must
 * allow `version` and the suite). After it, h->w seals what the server
 * will accept and h->view decodes what the server writes. */
static inline void h12_connect(h12 *h, tlsv_conn *srv, uint16_t version, const char *suite,
                               bool etm, bool ems)
{
    memset(h, 0, sizeof *h);
    h->version = version;
    h->s = tlsv_suite_by_name(suite);
    assert_non_null(h->s);
    h->etm = etm && !h->s->aead;
    h->ems = ems;
    hbuf ch = {0}, rec = {0}, out = {0}, hs = {0};
    h12_client_hello(h, &ch);
    hb_put(&h->tr, ch.p, ch.n);
    put_record(&rec, 22, TLSV_V_TLS10, ch.p, ch.n);
    feed(srv, &rec);
    assert_int_equal(tlsv_conn_handshake(srv), TLSV_WANT_READ);
    take_all(srv, &out);
    hrec recs[64];
    size_t nr = split_records(out.p, out.n, recs, 64);
    for (size_t i = 0; i < nr; i++) {
        assert_int_equal(recs[i].type, 22);
        hb_put(&hs, recs[i].body, recs[i].len);
    }
    hmsg m[16];
    size_t nm = split_messages(hs.p, hs.n, m, 16);
    assert_true(nm >= 4);
    assert_int_equal(m[0].type, TLSV_HS_SERVER_HELLO);
    assert_int_equal(m[nm - 1].type, TLSV_HS_SERVER_HELLO_DONE);
    tlsv_server_hello sh;
    tlsv_error err;
    assert_int_equal(tlsv_msg_parse_server_hello(m[0].p + 4, m[0].n - 4, &sh, &err), 0);
    assert_int_equal(sh.cipher_suite, h->s->id);
    assert_int_equal(sh.legacy_version, version);
    assert_int_equal(tlsv_ext_present(sh.present, TLSV_EXTID_ENCRYPT_THEN_MAC), h->etm);
    assert_int_equal(tlsv_ext_present(sh.present, TLSV_EXTID_EXTENDED_MASTER_SECRET), ems);
    memcpy(h->sr, sh.random, 32);
    tlsv_server_key_exchange ske;
    bool have_ske = false;
    for (size_t i = 0; i < nm; i++) {
        hb_put(&h->tr, m[i].p, m[i].n);
        if (m[i].type == TLSV_HS_SERVER_KEY_EXCHANGE) {
            assert_int_equal(tlsv_msg_parse_server_key_exchange_ecdhe(m[i].p + 4, m[i].n - 4,
                                                                      version, &ske, &err),
                             0);
            have_ske = true;
        }
    }
    assert_true(have_ske);
    tlsv_kex *kex = tlsv_kex_generate((tlsv_group)ske.named_group);
    assert_non_null(kex);
    uint8_t pub[TLSV_KEX_MAX_PUBLIC_LEN], pms[TLSV_KEX_MAX_SECRET_LEN];
    size_t pub_len = 0, pms_len = 0;
    assert_int_equal(tlsv_kex_public(kex, pub, sizeof pub, &pub_len), 0);
    assert_int_equal(tlsv_kex_derive(kex, ske.public_key.p, ske.public_key.n, pms, sizeof pms,
                                     &pms_len),
                     0);
    tlsv_kex_free(kex);
    tlsv_writer w;
    assert_true(tlsv_wr_init_growable(&w, 256, 4096));
    assert_int_equal(tlsv_msg_write_client_key_exchange_ecdhe(&w, (tlsv_bytes){pub, pub_len}, &err),
                     0);
    hbuf cke = {0};
    hb_put(&cke, tlsv_wr_data(&w), tlsv_wr_len(&w));
    tlsv_wr_release(&w);
    hb_put(&h->tr, cke.p, cke.n);
    uint8_t th[64];
    tlsv_hash_alg hh = tlsv_tls12_handshake_hash(version, h->s);
    assert_int_equal(tlsv_hash(hh, h->tr.p, h->tr.n, th, sizeof th), 0);
    assert_int_equal(tlsv_tls12_master_secret(version, h->s, pms, pms_len, h->cr, h->sr,
                                              ems ? th : NULL, ems ? tlsv_hash_len(hh) : 0,
                                              h->master),
                     0);
    k12_init(&h->w, version, h->s, h->etm, h->master, h->cr, h->sr, true);
    memcpy(h->keys.client_random, h->cr, 32);
    memcpy(h->keys.master, h->master, 48);
    h->keys.have_master = true;
    view_init12(&h->view, &h->keys, true, version, h->s, h->etm);
    memcpy(h->view.sr, h->sr, 32);
    h->view.have_sr = true;
    uint8_t fin[16] = {TLSV_HS_FINISHED, 0, 0, 12};
    size_t vlen = 0;
    assert_int_equal(tlsv_tls12_finished(version, h->s, h->master, true, h->tr.p, h->tr.n, fin + 4,
                                         &vlen),
                     0);
    assert_int_equal(vlen, 12);
    hb_put(&h->tr, fin, 16);
    hb_clear(&rec);
    put_record(&rec, 22, version, cke.p, cke.n);
    put_record(&rec, 20, version, "\1", 1);
    k12_seal(&h->w, &rec, 22, fin, 16, T_NONE, 0);
    feed(srv, &rec);
    int rc = tlsv_conn_handshake(srv);
    if (rc != 0) {
        char b[600];
        tlsv_error_format(tlsv_conn_last_error(srv), b, sizeof b);
        fail_msg("the server did not finish the handshake (%d): %s", rc, b);
    }
    hout o = {0};
    view_take(&h->view, srv, &o);
    assert_int_equal(o.n, 2);
    assert_int_equal(o.r[0].type, TLSV_CT_CHANGE_CIPHER_SPEC);
    assert_int_equal(o.r[1].type, TLSV_CT_HANDSHAKE);
    assert_int_equal(o.r[1].head[0], TLSV_HS_FINISHED);
    hout_free(&o);
    hb_free(&ch);
    hb_free(&rec);
    hb_free(&out);
    hb_free(&hs);
    hb_free(&cke);
}

static inline void h12_free(h12 *h)
{
    k12_free(&h->w);
    view_free(&h->view);
    hb_free(&h->tr);
}

/* Seals one record to the server and feeds it. */
static inline void h12_send(h12 *h, tlsv_conn *srv, uint8_t type, const void *pt, size_t n,
                            unsigned tamper)
{
    hbuf b = {0};
    k12_seal(&h->w, &b, type, pt, n, tamper, 0);
    feed(srv, &b);
    hb_free(&b);
}

/* ======================================================================
 * TLS 1.3 scenes: a tlsv server or client as the victim, the other side a
 * real tlsv peer whose flights the test may hold back, change or replace
 * ====================================================================== */

/* Takes a connection's output: raw bytes into *raw (for forwarding), and
 * decoded through the view (to keep it in step) into *o (may be NULL). */
static inline void take_view(tlsv_conn *c, hview *v, hbuf *raw, hout *o)
{
    size_t start = raw->n;
    take_all(c, raw);
    hout tmp = {0};
    view_decode(v, raw->p + start, raw->n - start, o ? o : &tmp);
    hout_free(&tmp);
}

typedef struct scene {
    hkeys ckeys, skeys;   /* each side's key log */
    tlsv_ctx *cc, *sc;
    tlsv_conn *c, *s;
    hview cview, sview;   /* what each side wrote */
    hbuf flight;          /* the server's first flight, as it wrote it */
    hbuf sh;              /* the ServerHello (1.3) or SH..SHD messages (1.2) */
    hbuf shs;             /* TLS 1.3: EE..Finished, decrypted */
    hbuf cfin, sfin;      /* each side's last flight, as written */
    uint16_t version;
    const tlsv_suite *suite12;
} scene;

/* A TLS 1.3 (max 0) or TLS 1.0-1.2 pair; the client's ClientHello reaches
 * the server, whose first flight is in x->flight (not yet delivered).
 * scene_start_opts adds options to the client's context first. */
static inline void scene_start_opts(scene *x, int max, const char *ciphers,
                                    tlsv_options client_options)
{
    memset(x, 0, sizeof *x);
    x->sc = hs_ctx(TLSV_VERSION_TLSv1, max, ciphers, &x->skeys);
    x->cc = hc_ctx(TLSV_VERSION_TLSv1, max, ciphers, &x->ckeys);
    if (client_options)
        tlsv_ctx_add_options(x->cc, client_options);
    x->c = h_conn(x->cc, TLSV_ROLE_CLIENT);
    x->s = h_conn(x->sc, TLSV_ROLE_SERVER);
    x->version = max == 0 ? TLSV_V_TLS13 : (uint16_t)max;
    if (x->version == TLSV_V_TLS13) {
        view_init13(&x->cview, &x->ckeys, false);
        view_init13(&x->sview, &x->skeys, true);
    } else {
        x->suite12 = tlsv_suite_by_name(ciphers);
        assert_non_null(x->suite12);
        bool etm = !x->suite12->aead;
        view_init12(&x->cview, &x->ckeys, false, x->version, x->suite12, etm);
        view_init12(&x->sview, &x->skeys, true, x->version, x->suite12, etm);
    }
    assert_int_equal(tlsv_conn_handshake(x->c), TLSV_WANT_READ);
    hbuf ch = {0};
    take_view(x->c, &x->cview, &ch, NULL);
    feed(x->s, &ch);
    hb_free(&ch);
    assert_int_equal(tlsv_conn_handshake(x->s), TLSV_WANT_READ);
    take_view(x->s, &x->sview, &x->flight, NULL);
    hrec recs[64];
    size_t nr = split_records(x->flight.p, x->flight.n, recs, 64);
    if (x->version == TLSV_V_TLS13) {
        k13 k;
        k13_init(&k, x->skeys.s_hs, x->skeys.slen);
        for (size_t i = 0; i < nr; i++) {
            if (recs[i].type == TLSV_CT_HANDSHAKE)
                hb_put(&x->sh, recs[i].body, recs[i].len);
            if (recs[i].type == TLSV_CT_APPLICATION_DATA) {
                uint8_t *pt = malloc(recs[i].len);
                uint8_t type = 0;
                size_t n = 0;
                assert_int_equal(k13_open(&k, &recs[i], &type, pt, &n), 0);
                assert_int_equal(type, TLSV_CT_HANDSHAKE);
                hb_put(&x->shs, pt, n);
                free(pt);
            }
        }
        k13_free(&k);
    } else {
        for (size_t i = 0; i < nr; i++) {
            assert_int_equal(recs[i].type, TLSV_CT_HANDSHAKE);
            hb_put(&x->sh, recs[i].body, recs[i].len);
        }
        memcpy(x->cview.sr, x->sh.p + 6, 32);
        x->cview.have_sr = true;
    }
}

static inline void scene_start(scene *x, int max, const char *ciphers)
{
    scene_start_opts(x, max, ciphers, 0);
}

/* TLS 1.3: a server flight made of the ServerHello `sh`, a CCS and `hs`
 * (EE..Finished) sealed under the server's handshake keys in records of
 * at most `frag` bytes. */
static inline void scene_flight13(scene *x, const uint8_t *sh, size_t sh_len, const uint8_t *hs,
                                  size_t hs_len, size_t frag, hbuf *out)
{
    put_fragmented(out, 22, 0x0303, sh, sh_len, frag < 16384 ? frag : 16384);
    put_record(out, 20, 0x0303, "\1", 1);
    k13 k;
    k13_init(&k, x->skeys.s_hs, x->skeys.slen);
    k13_seal_fragmented(&k, out, 22, hs, hs_len, frag < 16384 ? frag : 16384);
    k13_free(&k);
}

/* Delivers the held flight (or whatever is in *flight) to the client and
 * completes the handshake on both sides. */
static inline void scene_finish(scene *x, const hbuf *flight)
{
    feed(x->c, flight ? flight : &x->flight);
    int rc = tlsv_conn_handshake(x->c);
    if (rc != 0 && !(x->version < TLSV_V_TLS13 && rc == TLSV_WANT_READ)) {
        char b[600];
        tlsv_error_format(tlsv_conn_last_error(x->c), b, sizeof b);
        fail_msg("client: %d %s", rc, b);
    }
    take_view(x->c, &x->cview, &x->cfin, NULL);
    feed(x->s, &x->cfin);
    rc = tlsv_conn_handshake(x->s);
    if (rc != 0) {
        char b[600];
        tlsv_error_format(tlsv_conn_last_error(x->s), b, sizeof b);
        fail_msg("server: %d %s", rc, b);
    }
    take_view(x->s, &x->sview, &x->sfin, NULL);
    if (x->sfin.n)
        feed(x->c, &x->sfin);
    assert_int_equal(tlsv_conn_handshake(x->c), 0);
}

static inline void scene_free(scene *x)
{
    tlsv_conn_free(x->c);
    tlsv_conn_free(x->s);
    tlsv_ctx_free(x->cc);
    tlsv_ctx_free(x->sc);
    view_free(&x->cview);
    view_free(&x->sview);
    hb_free(&x->flight);
    hb_free(&x->sh);
    hb_free(&x->shs);
    hb_free(&x->cfin);
    hb_free(&x->sfin);
}

/* After scene_finish, TLS 1.0-1.2: the keys one side writes with, in step
 * after the records it sealed so far (its Finished; TLS 1.0 chains the IV
 * from that record's last block). */
static inline void scene_keys12(scene *x, bool server_write, k12 *k)
{
    assert_true(x->ckeys.have_master);
    k12_init(k, x->version, x->suite12, !x->suite12->aead, x->ckeys.master,
             x->ckeys.client_random, x->cview.sr, !server_write);
    const hbuf *f = server_write ? &x->sfin : &x->cfin;
    hrec recs[16];
    size_t nr = split_records(f->p, f->n, recs, 16);
    bool after_ccs = false;
    for (size_t i = 0; i < nr; i++) {
        if (after_ccs)
            k12_skip(k, &recs[i]);
        after_ccs = after_ccs || recs[i].type == TLSV_CT_CHANGE_CIPHER_SPEC;
    }
    assert_true(after_ccs);
}

#endif /* TLSV_HOSTILE_H */
