/*
 * fuzz_record.c -- libFuzzer target for the record layer (src/engine/record.c),
 * and the engine's record reader above it (src/engine/engine.c).
 *
 * Input: [kind] [op]...
 *   kind (first byte) selects a protection, keyed with fixed keys:
 *     plaintext; TLS 1.3 AES-128-GCM / AES-256-GCM / ChaCha20-Poly1305;
 *     TLS 1.2 AES-GCM / ChaCha20-Poly1305; CBC MAC-then-encrypt and
 *     encrypt-then-MAC at TLS 1.0 (chained IV), 1.1 and 1.2 with HMAC-SHA1,
 *     -SHA256 and -SHA384 (and SSL 3.0 in a build with it).
 *   Bit 0x80 of the kind byte switches to engine mode instead (below).
 *   Each op is [code] [len u16] [len bytes]:
 *     0 raw:     the bytes are records (5-byte header + fragment, repeated)
 *                handed to tlsv_rec_open as they come;
 *     1 sealed:  the bytes are a plaintext sealed by the paired sending
 *                direction (same keys) and opened again: it must come back
 *                unchanged, with its content type;
 *     2 tamper:  as 1, then one byte of the sealed record (position and XOR
 *                mask from the first two bytes) is changed: opening must fail;
 *     3 forged:  the bytes are the *decrypted* fragment the receiver will see
 *                -- a TLS 1.3 TLSInnerPlaintext with its padding, a CBC
 *                content || MAC || padding with a fuzzer-chosen padding and a
 *                correct MAC placed where the first byte says -- encrypted
 *                and authenticated here with the real keys, so the checks
 *                after decryption (inner content type, padding, MAC position,
 *                lengths) are reachable; the result must agree with a model
 *                of RFC 8446 §5.4 / RFC 5246 §6.2.3.2 / RFC 7366.
 *   Checked: an opened plaintext lies inside the fragment and is at most
 *   2^14 bytes; a failure has a reason, an alert and a message; sequence
 *   numbers advance only on success.
 *
 * Engine mode: a client engine is put straight into the established state
 * (TLS 1.3 or TLS 1.2 per the kind) with that read protection, and the rest
 * of the input is fed as received bytes in chunks (the first byte of each
 * chunk is its length): framing across chunks, alerts, application data,
 * empty records, post-handshake messages (KeyUpdate, NewSessionTicket,
 * renegotiation attempts), change_cipher_spec, the SSLv2 and unknown-type
 * paths; then application data is read out and the engine closed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "engine/engine.h"
#include "engine/record.h"
#include "fuzz_record_kinds.h"
#include "tlsv.h"
#include "version.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static void check_failure(const tlsv_error *e)
{
    CHECK(e->reason != TLSV_R_OK);
    CHECK(e->alert != TLSV_ALERT_NONE);
    CHECK(e->message[0] != '\0');
}

/* Opens one record held in rec[0..5+len); checks what comes out. */
static int open_one(tlsv_rec_dir *rd, uint8_t *rec, size_t len, uint8_t *type, uint8_t **pt,
                    size_t *n)
{
    tlsv_error err;
    memset(&err, 0, sizeof err);
    uint64_t seq = rd->seq;
    int rc = tlsv_rec_open(rd, rec, rec + TLSV_REC_HEADER, len, type, pt, n, &err);
    if (rc == 0) {
        CHECK(*n <= TLSV_REC_MAX_PLAINTEXT);
        CHECK(*n == 0 || (*pt >= rec + TLSV_REC_HEADER && *pt + *n <= rec + TLSV_REC_HEADER + len));
        CHECK(rd->seq == seq + 1);
    } else {
        CHECK(rc == -1);
        check_failure(&err);
        /* a failed record never advances the sequence; (a plaintext record
         * cannot fail but on its length) */
        if (err.reason != TLSV_R_RECORD_OVERFLOW && err.reason != TLSV_R_UNEXPECTED_MESSAGE)
            CHECK(rd->seq == seq);
    }
    return rc;
}

/* ---- op 3: a fragment whose decryption the fuzzer chooses -------------- */

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* Returns 1 if it checked something, 0 if the op did not apply. Leaves the
 * directions out of step (the caller stops) when it could not keep them. */
static int forged(const struct kind *k, tlsv_rec_dir *wr, tlsv_rec_dir *rd, const uint8_t *in,
                  size_t n, bool *in_step)
{
    uint8_t rec[TLSV_REC_HEADER + TLSV_REC_MAX_CIPHERTEXT_12 + 64];
    uint8_t type, *pt;
    size_t ptn;
    if (k->kind == TLSV_REC_TLS13) {
        /* [outer type] inner plaintext... */
        if (n < 1 || n - 1 > TLSV_REC_MAX_CIPHERTEXT_13 - TLSV_AEAD_TAG_LEN)
            return 0;
        size_t inner = n - 1, total = inner + TLSV_AEAD_TAG_LEN;
        rec[0] = in[0] == 0 ? TLSV_CT_APPLICATION_DATA : in[0];
        rec[1] = 3;
        rec[2] = 3;
        rec[3] = (uint8_t)(total >> 8);
        rec[4] = (uint8_t)total;
        uint8_t nonce[TLSV_AEAD_NONCE_LEN];
        memcpy(nonce, rd->iv, sizeof nonce);
        for (int i = 0; i < 8; i++)
            nonce[11 - i] ^= (uint8_t)(rd->seq >> (8 * i));
        size_t got = 0;
        if (inner)
            memcpy(rec + 5, in + 1, inner);
        CHECK(tlsv_aead_seal(rd->aead, nonce, sizeof nonce, rec, 5, rec + 5, inner, rec + 5,
                             sizeof rec - 5, &got) == 0 &&
              got == total);
        int rc = open_one(rd, rec, total, &type, &pt, &ptn);
        /* the model (RFC 8446 §5.2, §5.4) */
        size_t m = inner;
        while (m > 0 && in[1 + m - 1] == 0)
            m--;
        bool ok = rec[0] == TLSV_CT_APPLICATION_DATA && m > 0 && m - 1 <= TLSV_REC_MAX_PLAINTEXT;
        CHECK((rc == 0) == ok);
        if (ok) {
            CHECK(type == in[m]);
            CHECK(ptn == m - 1);
            CHECK(ptn == 0 || memcmp(pt, in + 1, ptn) == 0);
        }
        wr->seq = rd->seq;
        return 1;
    }
    if (!is_cbc(k) || !wr->cbc)
        return 0;
    /* [type] [where] [explicit IV(16) unless chained] fragment...
     * MAC-then-encrypt: the content is fragment[0..c), c = 16 * (where &
     * 0x7f) at most; the correct MAC over it follows, then the rest of the
     * fragment as the fuzzer's padding -- or, with where & 0x80, a correct
     * minimal padding added here -- rounded up to whole blocks with zeros.
     * Encrypt-then-MAC: the fragment is the padded plaintext (rounded up
     * with zeros); the MAC over IV + ciphertext is correct. */
    size_t ivlen = wr->chained_iv ? 0 : 16, ml = wr->mac_len;
    if (n < 2 + ivlen)
        return 0;
    uint8_t ctype = in[0];
    size_t where = in[1];
    const uint8_t *riv = in + 2;
    const uint8_t *frag = in + 2 + ivlen;
    size_t flen = n - 2 - ivlen;
    bool etm = k->kind == TLSV_REC_CBC_ETM;
    uint8_t plain[TLSV_REC_MAX_CIPHERTEXT_12];
    size_t pl;
    if (!etm) {
        /* content = frag[0..c), then the MAC over it, then frag[c..) */
        size_t c = (where & 0x7f) * 16;
        if (c > flen)
            c = flen;
        if (flen + ml + 256 > sizeof plain)
            return 0;
        memcpy(plain, frag, c);
        uint8_t hdr[13];
        put_u64(hdr, wr->seq);
        hdr[8] = ctype;
        hdr[9] = (uint8_t)(wr->version >> 8);
        hdr[10] = (uint8_t)wr->version;
        hdr[11] = (uint8_t)(c >> 8);
        hdr[12] = (uint8_t)c;
#ifdef TLSV_HAVE_SSL3
        if (k->kind == TLSV_REC_SSL3_CBC)
            return 0; /* the SSL 3.0 MAC is not reproduced here */
#endif
        CHECK(tlsv_hmac_reset(wr->mac) == 0);
        CHECK(tlsv_hmac_update(wr->mac, hdr, 13) == 0 && tlsv_hmac_update(wr->mac, frag, c) == 0 &&
              tlsv_hmac_final(wr->mac, plain + c, ml) == 0);
        if (where & 0x80) {
            pl = c + ml;
            size_t pad = (16 - (pl + 1) % 16) % 16;
            memset(plain + pl, (int)pad, pad + 1);
            pl += pad + 1;
        } else {
            memcpy(plain + c + ml, frag + c, flen - c);
            pl = flen + ml;
        }
        /* round up to whole blocks with zero bytes (a padding_length of 0) */
        while (pl % 16)
            plain[pl++] = 0;
        if (pl == 0)
            return 0;
        uint8_t model[TLSV_REC_MAX_CIPHERTEXT_12];
        memcpy(model, plain, pl);
        size_t total = ivlen + pl;
        if (total > TLSV_REC_MAX_CIPHERTEXT_12)
            return 0;
        rec[0] = ctype;
        rec[1] = (uint8_t)(wr->version >> 8);
        rec[2] = (uint8_t)wr->version;
        rec[3] = (uint8_t)(total >> 8);
        rec[4] = (uint8_t)total;
        if (ivlen)
            memcpy(rec + 5, riv, ivlen);
        CHECK(tlsv_cbc_crypt(wr->cbc, ivlen ? riv : NULL, plain, pl, rec + 5 + ivlen) == 0);
        int rc = open_one(rd, rec, total, &type, &pt, &ptn);
        /* the model: padding_length p, every padding byte p, p + 1 + ml
         * within the fragment, and the MAC found right before the padding
         * (it is where we put it exactly when c + ml + p + 1 == pl, unless
         * the fuzzer's bytes happen to be a valid MAC too: not asserted) */
        size_t p = model[pl - 1];
        bool pad_ok = p + 1 + ml <= pl;
        for (size_t i = 0; pad_ok && i <= p; i++)
            pad_ok = model[pl - 1 - i] == p;
        bool min_ok = pl >= (ml + 1 + 15) / 16 * 16;
        if (pad_ok && min_ok && c + ml + p + 1 == pl)
            CHECK(rc == 0);
        if (!min_ok)
            CHECK(rc != 0);
        if (rc == 0) {
            CHECK(pad_ok);
            CHECK(ptn == pl - p - 1 - ml);
            CHECK(type == ctype);
            CHECK(memcmp(pt, model, ptn) == 0);
        }
        /* the chained IV of TLS 1.0 stays in step: both sides ran the same
         * ciphertext through CBC */
        wr->seq = rd->seq;
        if (rc != 0 && !min_ok && wr->chained_iv)
            *in_step = false; /* refused before decryption: the chains differ */
        return 1;
    }
    /* encrypt-then-MAC: frag is the padded plaintext (rounded up with zero
     * bytes); the MAC over IV + ciphertext is correct. */
    if (flen > sizeof plain - 16)
        return 0;
    memcpy(plain, frag, flen);
    pl = flen;
    while (pl % 16 || pl == 0)
        plain[pl++] = 0;
    size_t total = ivlen + pl + ml;
    if (total > TLSV_REC_MAX_CIPHERTEXT_12)
        return 0;
    uint8_t model[TLSV_REC_MAX_CIPHERTEXT_12];
    memcpy(model, plain, pl);
    rec[0] = ctype;
    rec[1] = (uint8_t)(wr->version >> 8);
    rec[2] = (uint8_t)wr->version;
    rec[3] = (uint8_t)(total >> 8);
    rec[4] = (uint8_t)total;
    if (ivlen)
        memcpy(rec + 5, riv, ivlen);
    CHECK(tlsv_cbc_crypt(wr->cbc, ivlen ? riv : NULL, plain, pl, rec + 5 + ivlen) == 0);
    uint8_t hdr[13];
    put_u64(hdr, wr->seq);
    hdr[8] = ctype;
    hdr[9] = (uint8_t)(wr->version >> 8);
    hdr[10] = (uint8_t)wr->version;
    hdr[11] = (uint8_t)((ivlen + pl) >> 8);
    hdr[12] = (uint8_t)(ivlen + pl);
    CHECK(tlsv_hmac_reset(wr->mac) == 0);
    CHECK(tlsv_hmac_update(wr->mac, hdr, 13) == 0 &&
          tlsv_hmac_update(wr->mac, rec + 5, ivlen + pl) == 0 &&
          tlsv_hmac_final(wr->mac, rec + 5 + ivlen + pl, ml) == 0);
    int rc = open_one(rd, rec, total, &type, &pt, &ptn);
    size_t p = model[pl - 1];
    bool pad_ok = p + 1 <= pl;
    for (size_t i = 0; pad_ok && i <= p; i++)
        pad_ok = model[pl - 1 - i] == p;
    CHECK((rc == 0) == pad_ok);
    if (rc == 0) {
        CHECK(ptn == pl - p - 1);
        CHECK(type == ctype);
        CHECK(memcmp(pt, model, ptn) == 0);
    }
    wr->seq = rd->seq;
    return 1;
}

/* ---- engine mode -------------------------------------------------------- */

static tlsv_ctx *client_ctx;

static void engine_mode(const struct kind *k, const uint8_t *in, size_t n)
{
    tlsv_error err;
    if (!client_ctx) {
        client_ctx = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, &err);
        CHECK(client_ctx);
    }
    tlsv_engine *e = tlsv_engine_new(client_ctx, TLSV_ROLE_CLIENT, "localhost", &err);
    CHECK(e);
    /* established, as a handshake would have left it */
    e->started = true;
    e->first_record_seen = true;
    e->version = k->version == 0x0304 ? TLSV_V_TLS13 : k->version;
    e->suite = 0;
    tlsv_engine_established(e);
    CHECK(key_dir(&e->rd, k, false) == 0);
    if (k->kind == TLSV_REC_TLS13) {
        e->hash = (tlsv_hash_alg)k->hash;
        e->aead = (tlsv_aead_alg)k->aead;
        e->secret_len = tlsv_hash_len(e->hash);
        memcpy(e->rd_secret, rk_secret, e->secret_len);
        memcpy(e->wr_secret, rk_secret, e->secret_len);
        CHECK(tlsv_rec_dir_set13(&e->wr, e->aead, e->hash, e->wr_secret, e->secret_len) == 0);
    }
    size_t off = 0;
    uint8_t buf[4096];
    while (off < n && e->state != TLSV_ES_FAILED) {
        size_t chunk = in[off++];
        if (chunk == 0xff && off + 2 <= n) { /* a long chunk */
            chunk = (size_t)in[off] << 8 | in[off + 1];
            off += 2;
        }
        if (chunk > n - off)
            chunk = n - off;
        CHECK(tlsv_engine_feed(e, in + off, chunk) == 0);
        off += chunk;
        int rc = tlsv_engine_advance(e);
        CHECK(rc == 0 || rc == -1);
        if (rc == -1) {
            CHECK(e->state == TLSV_ES_FAILED);
            check_failure(&e->err);
        }
        while (tlsv_engine_app_pending(e))
            CHECK(tlsv_engine_read_app(e, buf, sizeof buf) > 0);
        size_t pending = tlsv_engine_pending(e);
        if (pending) {
            CHECK(tlsv_engine_output(e) != NULL);
            tlsv_engine_consume(e, pending);
        }
    }
    if (e->state == TLSV_ES_ESTABLISHED && !e->close_notify_sent) {
        static const uint8_t hello[] = "hello";
        (void)tlsv_engine_write_app(e, hello, sizeof hello);
        (void)tlsv_engine_close(e);
    }
    tlsv_engine_free(e);
}

/* ---- the target ---------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    tlsv_fuzz_reset_random();
    const struct kind *k = &kinds[(data[0] & 0x7f) % N_KINDS];
    if (data[0] & 0x80) {
        engine_mode(k, data + 1, size - 1);
        return 0;
    }
    tlsv_rec_dir rd, wr;
    CHECK(key_dir(&rd, k, false) == 0);
    CHECK(key_dir(&wr, k, true) == 0);
    bool in_step = true; /* wr and rd agree on sequence and chained IV */

    static uint8_t rec[2 * (TLSV_REC_HEADER + TLSV_REC_MAX_CIPHERTEXT_12)];
    size_t off = 1;
    while (off + 3 <= size) {
        uint8_t op = data[off];
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        const uint8_t *in = data + off;
        off += len;
        uint8_t type, *pt;
        size_t n;

        switch (op % 4) {
        case 0: { /* raw records */
            size_t p = 0;
            while (len - p >= TLSV_REC_HEADER) {
                size_t rl = (size_t)in[p + 3] << 8 | in[p + 4];
                if (rl > len - p - TLSV_REC_HEADER)
                    rl = len - p - TLSV_REC_HEADER; /* as much as there is */
                memcpy(rec, in + p, TLSV_REC_HEADER + rl);
                (void)open_one(&rd, rec, rl, &type, &pt, &n);
                p += TLSV_REC_HEADER + rl;
            }
            /* the receiver's chain (TLS 1.0) and sequence are now its own */
            in_step = false;
            break;
        }
        case 1:
        case 2: { /* sealed, then opened (2: after tampering) */
            if (!in_step || len < 1)
                break;
            uint8_t ctype = in[0];
            size_t pn = len - 1;
            if (pn > TLSV_REC_MAX_PLAINTEXT)
                pn = TLSV_REC_MAX_PLAINTEXT;
            tlsv_writer w;
            tlsv_wr_init_fixed(&w, rec, sizeof rec);
            uint16_t pv = k->kind == TLSV_REC_PLAIN ? 0x0303 : 0;
            CHECK(tlsv_rec_seal(&wr, ctype, pv, in + 1, pn, &w) == 0);
            size_t total = tlsv_wr_len(&w);
            CHECK(total >= TLSV_REC_HEADER && total <= pn + TLSV_REC_MAX_OVERHEAD);
            size_t rl = total - TLSV_REC_HEADER;
            CHECK(rl == ((size_t)rec[3] << 8 | rec[4]));
            if (op % 4 == 2 && pn >= 2) {
                size_t at = ((size_t)in[1] << 8 | in[2]) % total;
                uint8_t mask = (uint8_t)(in[1] ^ in[2]) | 1;
                rec[at] ^= mask;
                if (at >= 3 && at < 5) /* a length change: open what the header says */
                    rl = (size_t)rec[3] << 8 | rec[4];
                in_step = false;
                if (rl > total - TLSV_REC_HEADER)
                    break; /* would read past the record: a framing matter */
                int rc = open_one(&rd, rec, rl, &type, &pt, &n);
                if (k->kind != TLSV_REC_PLAIN)
                    CHECK(rc != 0); /* every byte is authenticated */
                in_step = false;
                break;
            }
            int rc = open_one(&rd, rec, rl, &type, &pt, &n);
            if (k->kind == TLSV_REC_TLS13 && ctype == 0) {
                /* a zero inner type reads as padding: the content's last
                 * non-zero byte becomes the type, or nothing is left */
                CHECK(rc == 0 || rd.seq == wr.seq);
            } else {
                CHECK(rc == 0);
                CHECK(type == ctype);
                CHECK(n == pn);
                CHECK(n == 0 || memcmp(pt, in + 1, n) == 0);
            }
            break;
        }
        default: /* forged decryption */
            if (!in_step)
                break;
            (void)forged(k, &wr, &rd, in, len, &in_step);
            break;
        }
    }
    tlsv_rec_dir_clear(&rd);
    tlsv_rec_dir_clear(&wr);
    CHECK(rd.kind == TLSV_REC_PLAIN && rd.aead == NULL && rd.cbc == NULL && rd.mac == NULL);
    return 0;
}
