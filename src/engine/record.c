/*
 * record.c -- record framing and protection. See record.h.
 *
 * Contents
 *   1. directions: clear, TLS 1.3 / TLS 1.2 AEAD / CBC setters
 *   2. constant-time helpers
 *   3. TLS 1.3 AEAD
 *   4. TLS 1.2 AEAD (RFC 5288, RFC 7905)
 *   5. CBC: MAC-then-encrypt (with the Lucky Thirteen countermeasure),
 *      encrypt-then-MAC (RFC 7366), SSL 3.0
 *   6. tlsv_rec_seal / tlsv_rec_open: limits, dispatch
 */
#include "record.h"

#include <limits.h>
#include <string.h>

#include "err.h"
#include "keysched13.h"
#include "version.h"

/*
 * Hooks for a constant-time checker. Building with -DTLSV_CT_VALGRIND
 * marks the decrypted CBC fragment as undefined for valgrind's memcheck
 * before the padding and MAC are checked, and declares the one-bit verdict
 * defined before the single branch on it: memcheck then reports any branch
 * or memory index that depends on the padding or on the data length.
 */
#ifdef TLSV_CT_VALGRIND
#include <valgrind/memcheck.h>
#define CT_SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define CT_PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define CT_SECRET(p, n) ((void)(p), (void)(n))
#define CT_PUBLIC(p, n) ((void)(p), (void)(n))
#endif

#define BLOCK TLSV_CBC_BLOCK_LEN

/* ======================================================================
 * 1. Directions
 * ====================================================================== */

void tlsv_rec_dir_clear(tlsv_rec_dir *d)
{
    tlsv_aead_free(d->aead);
    tlsv_cbc_free(d->cbc);
    tlsv_hmac_free(d->mac);
    tlsv_hash_free(d->ssl3_inner);
    tlsv_hash_free(d->ssl3_outer);
    tlsv_hash_free(d->ssl3_scratch);
    tlsv_wipe(d, sizeof *d);
    d->kind = TLSV_REC_PLAIN;
    d->aead = NULL;
    d->cbc = NULL;
    d->mac = NULL;
    d->ssl3_inner = d->ssl3_outer = d->ssl3_scratch = NULL;
}

int tlsv_rec_dir_set13(tlsv_rec_dir *d, tlsv_aead_alg aead, tlsv_hash_alg hash,
                       const uint8_t *secret, size_t secret_len)
{
    uint8_t key[TLSV_AEAD_MAX_KEY_LEN];
    size_t key_len = tlsv_aead_key_len(aead);
    tlsv_rec_dir_clear(d);
    if (key_len == 0 ||
        tlsv_ks13_traffic_keys(hash, secret, secret_len, key_len, key, d->iv) != 0)
        return -1;
    d->aead = tlsv_aead_new(aead, key, key_len);
    tlsv_wipe(key, sizeof key);
    if (!d->aead)
        return -1;
    d->kind = TLSV_REC_TLS13;
    return 0;
}

int tlsv_rec_dir_set_aead12(tlsv_rec_dir *d, uint16_t version, tlsv_aead_alg aead,
                            const tlsv_rec_keys12 *k)
{
    tlsv_rec_dir_clear(d);
    size_t iv_len = aead == TLSV_AEAD_CHACHA20_POLY1305 ? TLSV_AEAD_NONCE_LEN : 4;
    if (version != TLSV_V_TLS12 || !k || !k->key || !k->iv || k->iv_len != iv_len ||
        tlsv_aead_key_len(aead) == 0 || k->key_len != tlsv_aead_key_len(aead))
        return -1;
    d->aead = tlsv_aead_new(aead, k->key, k->key_len);
    if (!d->aead)
        return -1;
    memcpy(d->iv, k->iv, iv_len);
    d->explicit_len = aead == TLSV_AEAD_CHACHA20_POLY1305 ? 0 : 8;
    d->version = version;
    d->kind = TLSV_REC_AEAD12;
    return 0;
}

#ifdef TLSV_HAVE_SSL3
/* The SSL 3.0 MAC's keyed prefixes: hash(MAC_write_secret + pad_1) and
 * hash(MAC_write_secret + pad_2), pad_1 = 0x36 and pad_2 = 0x5c repeated
 * 48 times for MD5, 40 times for SHA-1 (RFC 6101 §5.2.3.1). */
static int ssl3_mac_init(tlsv_rec_dir *d, tlsv_hash_alg mac, const tlsv_rec_keys12 *k)
{
    if ((mac != TLSV_HASH_MD5 && mac != TLSV_HASH_SHA1) || !k->mac_key ||
        k->mac_key_len != tlsv_hash_len(mac))
        return -1;
    size_t pad_len = mac == TLSV_HASH_MD5 ? 48 : 40;
    uint8_t pad[48];
    d->ssl3_inner = tlsv_hash_new(mac);
    d->ssl3_outer = tlsv_hash_new(mac);
    d->ssl3_scratch = tlsv_hash_new(mac);
    if (!d->ssl3_inner || !d->ssl3_outer || !d->ssl3_scratch)
        return -1;
    memset(pad, 0x36, sizeof pad);
    if (tlsv_hash_update(d->ssl3_inner, k->mac_key, k->mac_key_len) != 0 ||
        tlsv_hash_update(d->ssl3_inner, pad, pad_len) != 0)
        return -1;
    memset(pad, 0x5c, sizeof pad);
    if (tlsv_hash_update(d->ssl3_outer, k->mac_key, k->mac_key_len) != 0 ||
        tlsv_hash_update(d->ssl3_outer, pad, pad_len) != 0)
        return -1;
    d->mac_len = tlsv_hash_len(mac);
    return 0;
}
#endif

int tlsv_rec_dir_set_cbc(tlsv_rec_dir *d, uint16_t version, unsigned flags, tlsv_cbc_alg cipher,
                         tlsv_hash_alg mac, const tlsv_rec_keys12 *k)
{
    tlsv_rec_dir_clear(d);
    bool ssl3 = false;
#ifdef TLSV_HAVE_SSL3
    ssl3 = version == TLSV_V_SSL3;
#endif
    if (!k || !k->key || k->key_len != tlsv_cbc_key_len(cipher) || tlsv_cbc_key_len(cipher) == 0)
        return -1;
    if (!ssl3 && (version < TLSV_V_TLS10 || version > TLSV_V_TLS12))
        return -1;
    if (ssl3 && (flags & TLSV_REC_ETM))
        return -1;
    bool chained = ssl3 || version == TLSV_V_TLS10;
    if (chained && (!k->iv || k->iv_len != BLOCK))
        return -1;
    if (ssl3) {
#ifdef TLSV_HAVE_SSL3
        if (ssl3_mac_init(d, mac, k) != 0)
            goto fail;
#endif
    } else {
        /* RFC 5246 §6.3: mac_key_length is the MAC's hash length (libcrypto's
         * constant-time digest also wants the key within one hash block) */
        if ((mac != TLSV_HASH_SHA1 && mac != TLSV_HASH_SHA256 && mac != TLSV_HASH_SHA384) ||
            !k->mac_key || k->mac_key_len != tlsv_hash_len(mac))
            return -1;
        d->mac = tlsv_hmac_new(mac, k->mac_key, k->mac_key_len);
        if (!d->mac)
            goto fail;
        d->mac_len = tlsv_hmac_len(d->mac);
    }
    d->sealing = (flags & TLSV_REC_SEAL) != 0;
    d->cbc = tlsv_cbc_new(cipher, k->key, k->key_len, d->sealing);
    if (!d->cbc)
        goto fail;
    /* TLS 1.0 / SSL 3.0: the key block's IV starts the chain; every later
     * record continues from the previous record's last ciphertext block. */
    if (chained && tlsv_cbc_crypt(d->cbc, k->iv, NULL, 0, NULL) != 0)
        goto fail;
    d->chained_iv = chained;
    d->version = version;
#ifdef TLSV_HAVE_SSL3
    if (ssl3) {
        d->kind = TLSV_REC_SSL3_CBC;
        return 0;
    }
#endif
    d->kind = (flags & TLSV_REC_ETM) ? TLSV_REC_CBC_ETM : TLSV_REC_CBC;
    return 0;
fail:
    tlsv_rec_dir_clear(d);
    return -1;
}

/* ======================================================================
 * 2. Constant-time helpers
 *
 * Masks are size_t values that are either all ones (true) or zero. None of
 * these functions branches or indexes memory on its arguments. value_barrier
 * keeps the compiler from turning a mask back into a branch.
 * ====================================================================== */

static inline size_t value_barrier(size_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    __asm__("" : "+r"(x) : /* no inputs */);
#endif
    return x;
}

/* all ones when the top bit of x is set */
static inline size_t ct_msb(size_t x)
{
    return value_barrier((size_t)0 - (x >> (sizeof(size_t) * CHAR_BIT - 1)));
}

/* a < b: the borrow of a - b, computed without a comparison. The inputs go
 * through the barrier too: otherwise the optimiser may fold a secret
 * operand into a loop's induction variable or an address computation
 * (seen with GCC -O2: p[n - i] addressed as (p + n - pad)[pad - i]) --
 * harmless in itself, but it hides the constant-time structure from a
 * checker such as valgrind and invites worse. */
static inline size_t ct_lt(size_t a, size_t b)
{
    a = value_barrier(a);
    b = value_barrier(b);
    return ct_msb(a ^ ((a ^ b) | ((a - b) ^ b)));
}

static inline size_t ct_ge(size_t a, size_t b)
{
    return ~ct_lt(a, b);
}

static inline size_t ct_is_zero(size_t x)
{
    x = value_barrier(x);
    return ct_msb(~x & (x - 1));
}

static inline size_t ct_eq(size_t a, size_t b)
{
    return ct_is_zero(a ^ b);
}

/* ======================================================================
 * Common pieces
 * ====================================================================== */

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* seq_num(8) + type + version + length: the MAC input prefix of TLS
 * 1.0-1.2 (RFC 5246 §6.2.3.1) and the AEAD additional data (§6.2.3.3). */
static void mac_header(const tlsv_rec_dir *d, uint8_t type, size_t len,
                       uint8_t out[TLSV_CBC_MAC_HEADER_LEN])
{
    put_u64(out, d->seq);
    out[8] = type;
    out[9] = (uint8_t)(d->version >> 8);
    out[10] = (uint8_t)d->version;
    out[11] = (uint8_t)(len >> 8);
    out[12] = (uint8_t)len;
}

static int bad_mac(tlsv_error *err, const char *why)
{
    tlsv_err_set(err, TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC, TLSV_ALERT_BAD_RECORD_MAC,
                 TLSV_SIDE_LOCAL, "%s", why);
    return -1;
}

static const char AUTH_FAILED[] =
    "a record failed authentication (bad MAC or padding: wrong key, or modified on the way)";

/* ======================================================================
 * 3. TLS 1.3
 * ====================================================================== */

/* nonce = iv XOR the 64-bit sequence number, left-padded (§5.3). Also the
 * ChaCha20-Poly1305 nonce of TLS 1.2 (RFC 7905 §2). */
static void nonce13(const tlsv_rec_dir *d, uint8_t nonce[TLSV_AEAD_NONCE_LEN])
{
    memcpy(nonce, d->iv, TLSV_AEAD_NONCE_LEN);
    for (int i = 0; i < 8; i++)
        nonce[TLSV_AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(d->seq >> (8 * i));
}

static int seal13(tlsv_rec_dir *d, uint8_t type, const uint8_t *pt, size_t n, tlsv_writer *out)
{
    /* TLSInnerPlaintext = content || type (no padding), then the tag. */
    size_t inner = n + 1, total = inner + TLSV_AEAD_TAG_LEN;
    uint8_t hdr[TLSV_REC_HEADER] = {TLSV_CT_APPLICATION_DATA, 0x03, 0x03, (uint8_t)(total >> 8),
                                    (uint8_t)total};
    uint8_t *p;
    if (!tlsv_wr_bytes(out, hdr, sizeof hdr) || !tlsv_wr_reserve(out, total, &p))
        return -1;
    uint8_t nonce[TLSV_AEAD_NONCE_LEN];
    nonce13(d, nonce);
    size_t got = 0;
    /* encrypted from where the caller's bytes are, straight into the record */
    if (tlsv_aead_seal_typed(d->aead, nonce, sizeof nonce, hdr, sizeof hdr, pt, n, type, p, total,
                             &got) != 0 ||
        got != total) {
        tlsv_wr_commit(out, 0);
        return -1;
    }
    return tlsv_wr_commit(out, total) ? 0 : -1;
}

/* Opens a TLS 1.3 record: in place (dst NULL), or into dst[0..dst_cap)
 * with at most TAIL_MAX bytes of it -- the content type and padding, or the
 * end of a record too long for dst -- in a scratch tail. *pt is dst when the
 * whole content fits there, else body (the plaintext then moved there). */
#define TAIL_MAX 256
static int open13(tlsv_rec_dir *d, const uint8_t hdr[TLSV_REC_HEADER], uint8_t *body, size_t len,
                  uint8_t *dst, size_t dst_cap, uint8_t *type, uint8_t **pt, size_t *pt_len,
                  tlsv_error *err)
{
    if (hdr[0] != TLSV_CT_APPLICATION_DATA) {
        tlsv_err_set(err, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                     TLSV_SIDE_LOCAL,
                     "a protected record arrived with outer content type %u, not "
                     "application_data (RFC 8446 §5.2)",
                     (unsigned)hdr[0]);
        return -1;
    }
    if (len > TLSV_REC_MAX_CIPHERTEXT_13) {
        tlsv_err_set(err, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW, TLSV_SIDE_LOCAL,
                     "an encrypted record of %zu bytes exceeds 2^14 + 256", len);
        return -1;
    }
    if (len < TLSV_AEAD_TAG_LEN + 1 || d->seq == UINT64_MAX) {
        tlsv_err_set(err, TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC, TLSV_ALERT_BAD_RECORD_MAC,
                     TLSV_SIDE_LOCAL,
                     "an encrypted record of %zu bytes is too short to authenticate", len);
        return -1;
    }
    size_t total = len - TLSV_AEAD_TAG_LEN;
    uint8_t *out = body, tail[TAIL_MAX];
    size_t first = total;
    if (dst && dst_cap + TAIL_MAX >= total) {
        out = dst;
        first = total < dst_cap ? total : dst_cap;
    }
    size_t rest = total - first;
    uint8_t nonce[TLSV_AEAD_NONCE_LEN];
    nonce13(d, nonce);
    size_t n = 0;
    if (tlsv_aead_open_split(d->aead, nonce, sizeof nonce, hdr, TLSV_REC_HEADER, body, len, out,
                             first, rest ? tail : NULL, &n) != 0) {
        tlsv_err_set(err, TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC, TLSV_ALERT_BAD_RECORD_MAC,
                     TLSV_SIDE_LOCAL,
                     "a record failed authentication (wrong key, or modified on the way)");
        return -1;
    }
    d->seq++;
    d->records++;
    /* padding does not lift the size limit: the whole TLSInnerPlaintext
     * (content, type, padding) is at most 2^14 + 1 bytes (RFC 8446 §5.4);
     * a longer one is a record_overflow (§5.2) */
    if (n > TLSV_REC_MAX_PLAINTEXT + 1) {
        tlsv_wipe(out, first);
        if (rest)
            tlsv_wipe(tail, rest);
        tlsv_err_set(err, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW, TLSV_SIDE_LOCAL,
                     "a decrypted TLSInnerPlaintext of %zu bytes (content, type and padding) "
                     "exceeds 2^14 + 1 (RFC 8446 §5.4)", n);
        return -1;
    }
    /* strip the zero padding; the last non-zero byte is the content type */
    while (n > first && tail[n - 1 - first] == 0)
        n--;
    while (n > 0 && n <= first && out[n - 1] == 0)
        n--;
    if (n == 0) {
        tlsv_err_set(err, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                     TLSV_SIDE_LOCAL, "a protected record held no content type (all padding)");
        return -1;
    }
    *type = n > first ? tail[n - 1 - first] : out[n - 1];
    n--;
    if (n > TLSV_REC_MAX_PLAINTEXT) {
        tlsv_err_set(err, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW, TLSV_SIDE_LOCAL,
                     "a decrypted record of %zu bytes exceeds 2^14", n);
        return -1;
    }
    if (n > first) { /* the content does not fit dst: it goes back into body */
        memcpy(body, out, first);
        memcpy(body + first, tail, n - first);
        tlsv_wipe(out, first);
        out = body;
    }
    if (rest)
        tlsv_wipe(tail, rest);
    *pt = out;
    *pt_len = n;
    return 0;
}

int tlsv_rec_open_into(tlsv_rec_dir *d, const uint8_t hdr[TLSV_REC_HEADER], uint8_t *body,
                       size_t len, uint8_t *dst, size_t dst_cap, uint8_t *type, uint8_t **pt,
                       size_t *pt_len, tlsv_error *err)
{
    if (d->kind == TLSV_REC_TLS13 && dst)
        return open13(d, hdr, body, len, dst, dst_cap, type, pt, pt_len, err);
    return tlsv_rec_open(d, hdr, body, len, type, pt, pt_len, err);
}

/* ======================================================================
 * 4. TLS 1.2 AEAD
 *
 *   AES-GCM (RFC 5288 §3):   nonce = salt(4) || explicit(8); the record is
 *                            explicit || ciphertext || tag. The explicit
 *                            part must never repeat under one key: we send
 *                            the sequence number, as most stacks do.
 *   ChaCha20 (RFC 7905 §2):  nonce = IV(12) XOR seq, nothing explicit.
 * ====================================================================== */

static void nonce12(const tlsv_rec_dir *d, const uint8_t *explicit_nonce,
                    uint8_t nonce[TLSV_AEAD_NONCE_LEN])
{
    if (d->explicit_len) {
        memcpy(nonce, d->iv, 4);
        memcpy(nonce + 4, explicit_nonce, 8);
    } else {
        nonce13(d, nonce);
    }
}

static int seal_aead12(tlsv_rec_dir *d, uint8_t type, const uint8_t *pt, size_t n,
                       tlsv_writer *out)
{
    size_t ex = d->explicit_len, total = ex + n + TLSV_AEAD_TAG_LEN;
    uint8_t hdr[TLSV_REC_HEADER] = {type, (uint8_t)(d->version >> 8), (uint8_t)d->version,
                                    (uint8_t)(total >> 8), (uint8_t)total};
    uint8_t *p;
    if (!tlsv_wr_bytes(out, hdr, sizeof hdr) || !tlsv_wr_reserve(out, total, &p))
        return -1;
    if (n)
        memmove(p + ex, pt, n);
    if (ex)
        put_u64(p, d->seq);
    uint8_t nonce[TLSV_AEAD_NONCE_LEN], aad[TLSV_CBC_MAC_HEADER_LEN];
    nonce12(d, p, nonce);
    mac_header(d, type, n, aad);
    size_t got = 0;
    if (tlsv_aead_seal(d->aead, nonce, sizeof nonce, aad, sizeof aad, p + ex, n, p + ex,
                       total - ex, &got) != 0 ||
        got != total - ex) {
        tlsv_wr_commit(out, 0);
        return -1;
    }
    return tlsv_wr_commit(out, total) ? 0 : -1;
}

static int open_aead12(tlsv_rec_dir *d, const uint8_t hdr[TLSV_REC_HEADER], uint8_t *body,
                       size_t len, uint8_t **pt, size_t *pt_len, tlsv_error *err)
{
    size_t ex = d->explicit_len;
    if (len < ex + TLSV_AEAD_TAG_LEN)
        return bad_mac(err, "an AEAD record is too short to hold its nonce and tag");
    size_t n = len - ex - TLSV_AEAD_TAG_LEN;
    uint8_t nonce[TLSV_AEAD_NONCE_LEN], aad[TLSV_CBC_MAC_HEADER_LEN];
    nonce12(d, body, nonce);
    mac_header(d, hdr[0], n, aad);
    size_t got = 0;
    if (tlsv_aead_open(d->aead, nonce, sizeof nonce, aad, sizeof aad, body + ex, len - ex,
                       body + ex, len - ex, &got) != 0 ||
        got != n)
        return bad_mac(err, "a record failed authentication (wrong key, or modified on the way)");
    *pt = body + ex;
    *pt_len = n;
    return 0;
}

/* ======================================================================
 * 5. CBC
 * ====================================================================== */

/* Number of padding bytes (besides the padding_length byte) that makes
 * `len` + 1 a whole number of blocks: the minimal TLS padding. */
static size_t min_pad(size_t len)
{
    return (BLOCK - (len + 1) % BLOCK) % BLOCK;
}

/* The sender's MAC over header || data[0..n) (not secret-dependent). */
static int mac_send(tlsv_rec_dir *d, uint8_t type, const uint8_t *data, size_t n, uint8_t *out)
{
#ifdef TLSV_HAVE_SSL3
    if (d->kind == TLSV_REC_SSL3_CBC) {
        /* hash(secret + pad_2 + hash(secret + pad_1 + seq_num + type + length + content)) */
        uint8_t hdr[11], inner[TLSV_HASH_MAX_LEN];
        put_u64(hdr, d->seq);
        hdr[8] = type;
        hdr[9] = (uint8_t)(n >> 8);
        hdr[10] = (uint8_t)n;
        int rc = tlsv_hash_copy(d->ssl3_scratch, d->ssl3_inner) != 0 ||
                         tlsv_hash_update(d->ssl3_scratch, hdr, sizeof hdr) != 0 ||
                         tlsv_hash_update(d->ssl3_scratch, data, n) != 0 ||
                         tlsv_hash_final(d->ssl3_scratch, inner, sizeof inner) != 0 ||
                         tlsv_hash_copy(d->ssl3_scratch, d->ssl3_outer) != 0 ||
                         tlsv_hash_update(d->ssl3_scratch, inner, d->mac_len) != 0 ||
                         tlsv_hash_final(d->ssl3_scratch, out, d->mac_len) != 0
                     ? -1
                     : 0;
        tlsv_wipe(inner, sizeof inner);
        return rc;
    }
#endif
    uint8_t hdr[TLSV_CBC_MAC_HEADER_LEN];
    mac_header(d, type, n, hdr);
    return tlsv_hmac_update(d->mac, hdr, sizeof hdr) != 0 ||
                   tlsv_hmac_update(d->mac, data, n) != 0 ||
                   tlsv_hmac_final(d->mac, out, d->mac_len) != 0
               ? -1
               : 0;
}

/*
 * Sealing, all CBC kinds:
 *   MAC-then-encrypt:  [IV] ENC(content || MAC || padding || padding_length)
 *   encrypt-then-MAC:  [IV] ENC(content || padding || padding_length) || MAC
 * IV: 16 fresh random bytes per record in TLS 1.1/1.2, none (the chain
 * continues) in TLS 1.0 / SSL 3.0. Padding: the minimal amount, every byte
 * (and the length byte) equal to its length -- also in SSL 3.0, where the
 * bytes are arbitrary.
 */
static int seal_cbc(tlsv_rec_dir *d, uint8_t type, const uint8_t *pt, size_t n, tlsv_writer *out)
{
    if (!d->sealing)
        return -1;
    bool etm = d->kind == TLSV_REC_CBC_ETM;
    size_t ivlen = d->chained_iv ? 0 : BLOCK, ml = d->mac_len;
    size_t inner = etm ? n : n + ml; /* what is padded and encrypted, before padding */
    size_t pad = min_pad(inner);
    size_t enc = inner + pad + 1;
    size_t total = ivlen + enc + (etm ? ml : 0);
    uint8_t hdr[TLSV_REC_HEADER] = {type, (uint8_t)(d->version >> 8), (uint8_t)d->version,
                                    (uint8_t)(total >> 8), (uint8_t)total};
    uint8_t *p;
    if (!tlsv_wr_bytes(out, hdr, sizeof hdr) || !tlsv_wr_reserve(out, total, &p))
        return -1;
    uint8_t *c = p + ivlen;
    if (n)
        memmove(c, pt, n);
    if (!etm && mac_send(d, type, c, n, c + n) != 0)
        goto fail;
    memset(c + inner, (int)pad, pad + 1);
    if (ivlen && tlsv_random(p, ivlen) != 0)
        goto fail;
    if (tlsv_cbc_crypt(d->cbc, ivlen ? p : NULL, c, enc, c) != 0)
        goto fail;
    /* RFC 7366 §3: MAC(seq_num + type + version + length + IV + ciphertext),
     * length being that of IV + ciphertext. */
    if (etm && mac_send(d, type, p, ivlen + enc, c + enc) != 0)
        goto fail;
    return tlsv_wr_commit(out, total) ? 0 : -1;
fail:
    tlsv_wr_commit(out, 0);
    return -1;
}

/*
 * Receiving MAC-then-encrypt: the Lucky Thirteen countermeasure.
 *
 * After decryption, the fragment is content || MAC || padding ||
 * padding_length. Where the content ends depends on the padding_length
 * byte, and an attacker who modifies ciphertext learns about the plaintext
 * from anything that reacts to it before the MAC has been checked:
 * different errors (the padding oracle, Vaudenay 2002), or merely
 * different timing -- the HMAC of a shorter content takes fewer hash
 * compression calls (Lucky Thirteen, AlFardan and Paterson 2013; RFC 7366
 * §1). So, with n the public fragment length:
 *
 *   - padding check: the padding_length byte `pad` is secret. We look at
 *     the last min(256, n) bytes -- a number fixed by n -- and, for each,
 *     compute with masks whether it lies inside the padding (index <= pad)
 *     and differs from pad; plus whether pad + 1 + MAC length fits in n.
 *     No branch and no memory index depends on pad.
 *   - an invalid padding does not stop anything: pad is masked to 0 and
 *     the MAC is still computed and compared, so bad padding and bad MAC
 *     take the same path, cost the same and give the same error.
 *   - the MAC: tlsv_hmac_cbc_record() (crypto seam) runs libcrypto's
 *     constant-time TLS CBC digest, which hashes a number of compression
 *     blocks fixed by n and picks the right final state with masks.
 *   - the received MAC sits at a secret offset. It is copied out by
 *     scanning the last MAC length + 256 bytes (a range fixed by n) into a
 *     rotated buffer at public indexes, then rotating back with masks.
 *   - the two MACs are compared by OR-ing their XOR (no early exit) and the
 *     verdicts combined in a mask. The only branch is on the final
 *     verdict, after which the content length is no longer secret.
 *
 * The function returns the verdict mask and, through *data_len, the content
 * length (meaningful only when the verdict is true). CT_SECRET / CT_PUBLIC
 * (top of this file) let a valgrind build check the claim; libcrypto's HMAC
 * provider compares the secret length with the public one once before its
 * constant-time digest (a branch that always goes the same way).
 */
static size_t mte_check(tlsv_rec_dir *d, uint8_t type, const uint8_t *p, size_t n,
                        size_t *data_len)
{
    size_t ml = d->mac_len;            /* public; n >= ml + 1 checked by the caller */
    size_t pad = p[n - 1];             /* secret */
    size_t good = ct_ge(n, ml + 1 + pad);

    size_t to_check = n < 256 ? n : 256;
    for (size_t i = 1; i <= to_check; i++) {
        size_t in_pad = ct_ge(pad, i - 1);        /* byte n - i is padding (or the length) */
        size_t differs = ~ct_eq(p[n - i], pad);
        good &= ~(in_pad & differs);
    }
    pad &= good; /* bad padding: continue as if there were none */
    size_t len = n - ml - 1 - pad;

    uint8_t hdr[TLSV_CBC_MAC_HEADER_LEN], mac[TLSV_HASH_MAX_LEN], rx[TLSV_HASH_MAX_LEN];
    mac_header(d, type, len, hdr);
    if (tlsv_hmac_cbc_record(d->mac, hdr, p, len, n, mac, sizeof mac) != 0)
        good = 0; /* a crypto failure (not data-dependent) */

    /* Copy the received MAC p[len .. len + ml) out without a secret index. */
    uint8_t rotated[TLSV_HASH_MAX_LEN] = {0};
    size_t scan = n > ml + 256 ? n - (ml + 256) : 0; /* public; len >= scan */
    size_t rot = 0;                                    /* (len - scan) mod ml, secret */
    for (size_t i = scan, j = 0; i < n; i++) {
        size_t started = ct_ge(i, len);
        size_t in_mac = started & ct_lt(i, len + ml);
        rot |= j & ct_eq(i, len);
        rotated[j] |= (uint8_t)(p[i] & in_mac);
        if (++j == ml) /* public */
            j = 0;
    }
    for (size_t i = 0; i < ml; i++) {
        size_t idx = rot + value_barrier(i); /* (the barrier keeps rot out of i's loop) */
        idx -= ml & ct_ge(idx, ml);          /* (rot + i) mod ml */
        uint8_t b = 0;
        for (size_t k = 0; k < ml; k++)
            b |= (uint8_t)(rotated[k] & ct_eq(k, idx));
        rx[i] = b;
    }

    uint8_t diff = 0;
    for (size_t i = 0; i < ml; i++)
        diff |= (uint8_t)(mac[i] ^ rx[i]);
    good &= ct_is_zero(diff);

    tlsv_wipe(mac, sizeof mac);
    tlsv_wipe(rx, sizeof rx);
    tlsv_wipe(rotated, sizeof rotated);
    *data_len = len;
    return good;
}

#ifdef TLSV_HAVE_SSL3
/*
 * Receiving SSL 3.0 CBC, in the same spirit. SSL 3.0 padding is at most
 * block length - 1 bytes and its content is arbitrary (RFC 6101 §5.2.3.2:
 * only its length can be checked -- the flaw POODLE exploits), and the
 * SSL 3.0 MAC has no constant-time digest in libcrypto. With only 16
 * possible padding lengths we compute the MAC for every one of them, each
 * over a public length, and select the result and the received MAC with
 * masks: 16 MACs per record, the price of an obsolete protocol.
 */
static size_t ssl3_check(tlsv_rec_dir *d, uint8_t type, const uint8_t *p, size_t n,
                         size_t *data_len)
{
    size_t ml = d->mac_len;
    size_t pad = p[n - 1];
    size_t good = ct_lt(pad, BLOCK) & ct_ge(n, ml + 1 + pad);
    pad &= good;
    uint8_t mac[TLSV_HASH_MAX_LEN] = {0}, rx[TLSV_HASH_MAX_LEN] = {0}, cand[TLSV_HASH_MAX_LEN];
    for (size_t c = 0; c < BLOCK && ml + 1 + c <= n; c++) { /* public bounds */
        size_t len = n - ml - 1 - c;
        size_t sel = ct_eq(pad, c);
        if (mac_send(d, type, p, len, cand) != 0)
            good = 0;
        for (size_t i = 0; i < ml; i++) {
            mac[i] |= (uint8_t)(cand[i] & sel);
            rx[i] |= (uint8_t)(p[len + i] & sel);
        }
    }
    uint8_t diff = 0;
    for (size_t i = 0; i < ml; i++)
        diff |= (uint8_t)(mac[i] ^ rx[i]);
    good &= ct_is_zero(diff);
    tlsv_wipe(mac, sizeof mac);
    tlsv_wipe(rx, sizeof rx);
    tlsv_wipe(cand, sizeof cand);
    *data_len = n - ml - 1 - pad;
    return good;
}
#endif

static int open_cbc(tlsv_rec_dir *d, const uint8_t hdr[TLSV_REC_HEADER], uint8_t *body,
                    size_t len, uint8_t **pt, size_t *pt_len, tlsv_error *err)
{
    if (d->sealing) {
        tlsv_err_set(err, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR, TLSV_SIDE_LOCAL,
                     "a CBC record direction keyed to seal was asked to open");
        return -1;
    }
    bool etm = d->kind == TLSV_REC_CBC_ETM;
    size_t ivlen = d->chained_iv ? 0 : BLOCK, ml = d->mac_len;
    uint8_t *c = body + ivlen;
    const uint8_t *iv = ivlen ? body : NULL;

    if (etm) {
        /* RFC 7366 §3: the MAC comes first and covers IV + ciphertext, so a
         * forged record is refused before anything is decrypted; the padding
         * check that follows runs on authentic data only. */
        if (len < ivlen + BLOCK + ml || (len - ivlen - ml) % BLOCK != 0)
            return bad_mac(err, "an encrypt-then-MAC record is too short or not a whole number "
                                "of cipher blocks");
        size_t enc = len - ivlen - ml;
        uint8_t hdr13[TLSV_CBC_MAC_HEADER_LEN], mac[TLSV_HASH_MAX_LEN];
        mac_header(d, hdr[0], ivlen + enc, hdr13);
        if (tlsv_hmac_update(d->mac, hdr13, sizeof hdr13) != 0 ||
            tlsv_hmac_update(d->mac, body, ivlen + enc) != 0 ||
            tlsv_hmac_final(d->mac, mac, sizeof mac) != 0 ||
            tlsv_ct_memcmp(mac, c + enc, ml) != 0)
            return bad_mac(err, AUTH_FAILED);
        if (tlsv_cbc_crypt(d->cbc, iv, c, enc, c) != 0)
            return bad_mac(err, "CBC decryption failed");
        size_t pad = c[enc - 1];
        bool ok = pad + 1 <= enc;
        for (size_t i = 0; ok && i <= pad; i++)
            ok = c[enc - 1 - i] == pad;
        if (!ok)
            return bad_mac(err, AUTH_FAILED);
        *pt = c;
        *pt_len = enc - pad - 1;
        return 0;
    }

    /* MAC-then-encrypt (TLS) or SSL 3.0: the lengths are public. */
    size_t min = ivlen + (ml + 1 + BLOCK - 1) / BLOCK * BLOCK;
    if (len < min || (len - ivlen) % BLOCK != 0)
        return bad_mac(err, "a CBC record is too short or not a whole number of cipher blocks");
    size_t n = len - ivlen;
    if (tlsv_cbc_crypt(d->cbc, iv, c, n, c) != 0)
        return bad_mac(err, "CBC decryption failed");
    CT_SECRET(c, n);
    size_t data_len = 0, good;
#ifdef TLSV_HAVE_SSL3
    if (d->kind == TLSV_REC_SSL3_CBC)
        good = ssl3_check(d, hdr[0], c, n, &data_len);
    else
#endif
        good = mte_check(d, hdr[0], c, n, &data_len);
    CT_PUBLIC(&good, sizeof good);
    if (!good)
        return bad_mac(err, AUTH_FAILED);
    CT_PUBLIC(&data_len, sizeof data_len);
    CT_PUBLIC(c, n);
    *pt = c;
    *pt_len = data_len;
    return 0;
}

/* ======================================================================
 * 6. Seal and open
 * ====================================================================== */

int tlsv_rec_seal(tlsv_rec_dir *d, uint8_t type, uint16_t version, const uint8_t *pt, size_t n,
                  tlsv_writer *out)
{
    if (n > TLSV_REC_MAX_PLAINTEXT || d->seq == UINT64_MAX)
        return -1;
    int rc;
    switch (d->kind) {
    case TLSV_REC_PLAIN:
        if (!tlsv_wr_u8(out, type) || !tlsv_wr_u16(out, version) ||
            !tlsv_wr_opaque(out, 2, pt, n))
            return -1;
        d->seq++;
        return 0;
    case TLSV_REC_TLS13:
        rc = seal13(d, type, pt, n, out);
        break;
    case TLSV_REC_AEAD12:
        rc = seal_aead12(d, type, pt, n, out);
        break;
    case TLSV_REC_CBC:
    case TLSV_REC_CBC_ETM:
#ifdef TLSV_HAVE_SSL3
    case TLSV_REC_SSL3_CBC:
#endif
        rc = seal_cbc(d, type, pt, n, out);
        break;
    default:
        rc = -1;
        break;
    }
    if (rc != 0)
        return -1;
    d->seq++;
    d->records++;
    return 0;
}

int tlsv_rec_open(tlsv_rec_dir *d, const uint8_t hdr[TLSV_REC_HEADER], uint8_t *body, size_t len,
                  uint8_t *type, uint8_t **pt, size_t *pt_len, tlsv_error *err)
{
    if (d->kind == TLSV_REC_PLAIN) {
        if (len > TLSV_REC_MAX_PLAINTEXT) {
            tlsv_err_set(err, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW,
                         TLSV_SIDE_LOCAL, "a plaintext record of %zu bytes exceeds 2^14", len);
            return -1;
        }
        *type = hdr[0];
        *pt = body;
        *pt_len = len;
        d->seq++;
        return 0;
    }
    if (d->kind == TLSV_REC_TLS13)
        return open13(d, hdr, body, len, NULL, 0, type, pt, pt_len, err);

    /* TLS 1.0-1.2 (and SSL 3.0) protected records */
    if (len > TLSV_REC_MAX_CIPHERTEXT_12) {
        tlsv_err_set(err, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW, TLSV_SIDE_LOCAL,
                     "an encrypted record of %zu bytes exceeds 2^14 + 2048", len);
        return -1;
    }
    if (d->seq == UINT64_MAX) {
        tlsv_err_set(err, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR, TLSV_SIDE_LOCAL,
                     "the read sequence number is exhausted (2^64 - 1 records)");
        return -1;
    }
    /* The header is authenticated data: its version is the negotiated one
     * (it enters the MAC / additional data as such -- and SSL 3.0's MAC does
     * not cover it at all), its length the fragment's. Another version is
     * reported as such -- it is public, there is nothing to hide -- with
     * protocol_version, as engine.c does for a record that is not TLS. */
    if ((((unsigned)hdr[1] << 8) | hdr[2]) != d->version) {
        tlsv_err_set(err, TLSV_R_WRONG_VERSION_NUMBER, TLSV_ALERT_PROTOCOL_VERSION,
                     TLSV_SIDE_LOCAL,
                     "a protected record carries version 0x%02x%02x; the connection's is 0x%04x",
                     hdr[1], hdr[2], (unsigned)d->version);
        return -1;
    }
    if ((((size_t)hdr[3] << 8) | hdr[4]) != len)
        return bad_mac(err, "a protected record's header does not match its length");
    uint8_t *p = NULL;
    size_t n = 0;
    int rc;
    switch (d->kind) {
    case TLSV_REC_AEAD12:
        rc = open_aead12(d, hdr, body, len, &p, &n, err);
        break;
    case TLSV_REC_CBC:
    case TLSV_REC_CBC_ETM:
#ifdef TLSV_HAVE_SSL3
    case TLSV_REC_SSL3_CBC:
#endif
        rc = open_cbc(d, hdr, body, len, &p, &n, err);
        break;
    default:
        tlsv_err_set(err, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR, TLSV_SIDE_LOCAL,
                     "a record direction of unknown kind %d", (int)d->kind);
        rc = -1;
        break;
    }
    if (rc != 0)
        return -1;
    d->seq++;
    d->records++;
    if (n > TLSV_REC_MAX_PLAINTEXT) {
        tlsv_err_set(err, TLSV_R_RECORD_OVERFLOW, TLSV_ALERT_RECORD_OVERFLOW, TLSV_SIDE_LOCAL,
                     "a decrypted record of %zu bytes exceeds 2^14", n);
        return -1;
    }
    *type = hdr[0];
    *pt = p;
    *pt_len = n;
    return 0;
}
