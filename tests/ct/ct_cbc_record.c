/*
 * ct_cbc_record.c -- constant-time check of tlsv's secret-dependent record
 * and key-exchange code, in the style of ctgrind (Adam Langley, 2010).
 *
 * The program runs under valgrind's memcheck with the secret bytes marked
 * "undefined" (VALGRIND_MAKE_MEM_UNDEFINED). Memcheck then reports every
 * conditional branch and every memory address computed from them
 * ("Conditional jump or move depends on uninitialised value(s)", "Use of
 * uninitialised value of size 8"), and `valgrind --error-exitcode=99` fails
 * the run. Marking a value defined again (VALGRIND_MAKE_MEM_DEFINED) is a
 * declassification: done only where the value becomes public (a verdict).
 *
 * What is secret, what is public
 *   1. CBC records, MAC-then-encrypt (TLS 1.2 with HMAC-SHA1, -SHA256,
 *      -SHA384; TLS 1.1 and TLS 1.0 with HMAC-SHA1, TLS 1.0's chained IV;
 *      in a build with SSL 3.0, SSL 3.0 with its MD5 and SHA-1 MACs too):
 *      the decrypted fragment -- content, MAC, padding and the
 *      padding_length byte -- is secret until the record's verdict; the
 *      header, the record length, the IV and the ciphertext are public.
 *      record.c marks the fragment itself right after decryption when built
 *      with -DTLSV_CT_VALGRIND (CT_SECRET; CT_PUBLIC declassifies the one-bit
 *      verdict, and the content and its length once the record is
 *      accepted); this program links such a build of the library
 *      (tlsv_ct_static, tests/CMakeLists.txt) and checks that the marking
 *      really happens (VALGRIND_GET_VBITS on a refused record), as a missing
 *      hook would make the whole test vacuous. Records: valid ones with
 *      every padding length 0..255 (and content lengths from 0 to 2^14),
 *      and for every padding length a wrong padding byte, a wrong
 *      padding_length byte, a wrong MAC byte, a wrong content byte; padding
 *      longer than the record; records too short or not a whole number of
 *      blocks (refused on their public length).
 *   2. tlsv_ct_memcmp (the Finished, MAC and cookie comparisons of the
 *      engine): both inputs secret, lengths 12, 20, 32, 48, equal and
 *      differing at every position; this program declassifies the result.
 *   3. The RSA premaster countermeasure (tlsv_rsa_decrypt_premaster, RFC 5246
 *      §7.4.7.1): libcrypto's RSA decryption itself is out of scope and runs
 *      on defined data; what it returns is marked secret as it leaves
 *      EVP_PKEY_decrypt (a valgrind function wrapper, below), so what is
 *      checked is what tlsv does with it (valid premaster, wrong version,
 *      wrong length, undecryptable). What is secret depends on the padding
 *      mode asked for: with RSA_PKCS1_PADDING the decrypted bytes, their
 *      length and the success flag (libcrypto 3.0 returns all three without
 *      a branch); with RSA_PKCS1_WITH_TLS_PADDING (libcrypto does the whole
 *      countermeasure and returns 48 bytes, the premaster or random ones)
 *      only those bytes -- that mode fails only on public conditions (a
 *      ciphertext of the wrong length), so its result and length are public.
 *
 * Modes
 *   ct_cbc_record [--check tlsv]   the library's code (the ct_cbc_record
 *                                  test): expects no memcheck error at all.
 *   ct_cbc_record --check naive    the same harness and the same inputs
 *                                  against deliberately branchy versions
 *                                  written here -- the textbook padding
 *                                  check with an early exit and an HMAC over
 *                                  the secret content length (the Lucky
 *                                  Thirteen pattern), an early-exit compare,
 *                                  an if/else premaster choice. Memcheck must
 *                                  report each one (the
 *                                  ct_cbc_record_detects_leak test): the
 *                                  program counts memcheck's errors per
 *                                  section (VALGRIND_COUNT_ERRORS) and prints
 *                                  "ct: naive: every leak was detected" only
 *                                  if every section produced some.
 * In both modes the verdicts are checked too (valid records accepted with
 * the right content, every faulty one refused), and the program refuses to
 * run outside valgrind (it would prove nothing); --no-valgrind runs only
 * these functional checks.
 *
 * By hand (from the build directory):
 *   valgrind --error-exitcode=99 --error-limit=no \
 *     --suppressions=../tests/ct/libcrypto.supp tests/ct_cbc_record
 *   valgrind --error-limit=no --suppressions=../tests/ct/libcrypto.supp \
 *     tests/ct_cbc_record --check naive
 * Add --track-origins=yes to see where an undefined value came from.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "crypto/crypto.h"
#include "crypto/rsa_kx.h"
#include "engine/record.h"
#include "version.h"

#define NOINLINE __attribute__((noinline))

static bool naive_mode;
static bool under_valgrind;
static unsigned failures;

#define CHECK(cond, ...)                                                                          \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            failures++;                                                                           \
            if (failures <= 20) {                                                                 \
                fprintf(stdout, "ct: FAIL %s:%d: ", __FILE__, __LINE__);                        \
                fprintf(stdout, __VA_ARGS__);                                                     \
                fputc('\n', stdout);                                                              \
            }                                                                                     \
        }                                                                                         \
    } while (0)

/* secret / public, as record.c's CT_SECRET / CT_PUBLIC */
#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

/* A fixed, public pseudo-random sequence (xorshift64*): the inputs are
 * reproducible from run to run. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}
static void rnd_fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rnd() >> 56);
}
/* a nonzero byte, to XOR a fault in */
static uint8_t rnd_nonzero(void)
{
    return (uint8_t)(1 + rnd() % 255);
}

/* ======================================================================
 * Sections: memcheck errors are counted per section
 * ====================================================================== */

struct section {
    const char *name;
    unsigned long errors_before;
    unsigned long cases;
};
static unsigned sections_clean, sections_flagged, sections_total;

static void section_begin(struct section *s, const char *name)
{
    s->name = name;
    s->cases = 0;
    s->errors_before = (unsigned long)VALGRIND_COUNT_ERRORS;
}

static void section_end(struct section *s)
{
    unsigned long errs = (unsigned long)VALGRIND_COUNT_ERRORS - s->errors_before;
    sections_total++;
    if (errs)
        sections_flagged++;
    else
        sections_clean++;
    const char *note = !under_valgrind ? " (not under valgrind)"
                       : naive_mode    ? (errs ? " (leak detected)" : " (NOT DETECTED)")
                       : errs          ? " <- LEAK"
                                       : "";
    printf("ct: %-34s %6lu cases, %7lu memcheck error%s%s\n", s->name, s->cases, errs,
           errs == 1 ? "" : "s", note);
    fflush(stdout);
}

/* ======================================================================
 * 1. CBC records, MAC-then-encrypt
 * ====================================================================== */

struct suite {
    const char *name;
    uint16_t version;
    tlsv_cbc_alg cipher;
    tlsv_hash_alg mac;
};

/* SSL 3.0 (RFC 6101 §5.2.3): its own MAC, and padding of at most 15 bytes
 * whose content is arbitrary (only the length can be checked). */
static bool is_ssl3(const struct suite *s)
{
    return s->version == 0x0300;
}

static const struct suite suites[] = {
    {"TLS1.2 AES-128-CBC HMAC-SHA1", TLSV_V_TLS12, TLSV_CBC_AES_128, TLSV_HASH_SHA1},
    {"TLS1.2 AES-128-CBC HMAC-SHA256", TLSV_V_TLS12, TLSV_CBC_AES_128, TLSV_HASH_SHA256},
    {"TLS1.2 AES-256-CBC HMAC-SHA384", TLSV_V_TLS12, TLSV_CBC_AES_256, TLSV_HASH_SHA384},
    {"TLS1.1 AES-256-CBC HMAC-SHA1", TLSV_V_TLS11, TLSV_CBC_AES_256, TLSV_HASH_SHA1},
    {"TLS1.0 AES-128-CBC HMAC-SHA1", TLSV_V_TLS10, TLSV_CBC_AES_128, TLSV_HASH_SHA1},
#ifdef TLSV_HAVE_SSL3
    {"SSL3.0 AES-128-CBC SSL3-MAC-SHA1", 0x0300, TLSV_CBC_AES_128, TLSV_HASH_SHA1},
    {"SSL3.0 AES-256-CBC SSL3-MAC-MD5", 0x0300, TLSV_CBC_AES_256, TLSV_HASH_MD5},
#endif
};

#define BLK TLSV_CBC_BLOCK_LEN
#define REC_MAX (BLK + TLSV_REC_MAX_PLAINTEXT + TLSV_HASH_MAX_LEN + 256 + BLK)

/* Both ends of one direction of a connection: the sender is this program
 * (records built by hand, with any padding), the receiver is tlsv's
 * tlsv_rec_dir or the naive check, keyed alike. The sender mirrors the
 * receiver's state: its sequence number advances with each accepted record,
 * and in TLS 1.0 the IV chain continues from the last ciphertext block of
 * every record the receiver decrypted. */
struct conn {
    const struct suite *s;
    size_t ml, ivlen, min_len;
    uint8_t key[32], mac_key[TLSV_HASH_MAX_LEN], iv[BLK];
    /* sender */
    tlsv_cbc_ctx *enc;
    tlsv_hmac_ctx *tx_mac;
    uint64_t tx_seq;
    uint8_t chain[BLK];
    /* receiver: tlsv */
    tlsv_rec_dir dir;
    /* receiver: naive */
    tlsv_cbc_ctx *dec;
    tlsv_hmac_ctx *rx_mac;
    uint64_t rx_seq;
};

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static void mac_header(uint8_t out[TLSV_CBC_MAC_HEADER_LEN], uint64_t seq, uint8_t type,
                       uint16_t version, size_t len)
{
    put_u64(out, seq);
    out[8] = type;
    out[9] = (uint8_t)(version >> 8);
    out[10] = (uint8_t)version;
    out[11] = (uint8_t)(len >> 8);
    out[12] = (uint8_t)len;
}

/* The record MAC of the suite over content data[0..len) with sequence
 * number seq: HMAC over the TLS header (RFC 5246 §6.2.3.1), or the SSL 3.0
 * MAC hash(key + pad_2 + hash(key + pad_1 + seq + type + length + data)). */
static int record_mac(struct conn *c, tlsv_hmac_ctx *h, uint64_t seq, uint8_t type,
                      const uint8_t *data, size_t len, uint8_t *out)
{
    if (!is_ssl3(c->s)) {
        uint8_t mh[TLSV_CBC_MAC_HEADER_LEN];
        mac_header(mh, seq, type, c->s->version, len);
        return tlsv_hmac_update(h, mh, sizeof mh) != 0 || tlsv_hmac_update(h, data, len) != 0 ||
                       tlsv_hmac_final(h, out, c->ml) != 0
                   ? -1
                   : 0;
    }
    uint8_t hdr[11], pad[48], inner[TLSV_HASH_MAX_LEN];
    size_t pad_len = c->s->mac == TLSV_HASH_MD5 ? 48 : 40;
    put_u64(hdr, seq);
    hdr[8] = type;
    hdr[9] = (uint8_t)(len >> 8);
    hdr[10] = (uint8_t)len;
    int rc = 0;
    for (int round = 0; round < 2 && rc == 0; round++) {
        tlsv_hash_ctx *x = tlsv_hash_new(c->s->mac);
        memset(pad, round == 0 ? 0x36 : 0x5c, sizeof pad);
        rc = !x || tlsv_hash_update(x, c->mac_key, c->ml) != 0 ||
             tlsv_hash_update(x, pad, pad_len) != 0 ||
             (round == 0 ? tlsv_hash_update(x, hdr, sizeof hdr) != 0 ||
                               tlsv_hash_update(x, data, len) != 0 ||
                               tlsv_hash_final(x, inner, sizeof inner) != 0
                         : tlsv_hash_update(x, inner, c->ml) != 0 ||
                               tlsv_hash_final(x, out, c->ml) != 0);
        tlsv_hash_free(x);
    }
    return rc ? -1 : 0;
}

static int conn_init(struct conn *c, const struct suite *s)
{
    memset(c, 0, sizeof *c);
    c->s = s;
    c->ml = tlsv_hash_len(s->mac);
    c->ivlen = s->version == TLSV_V_TLS10 || is_ssl3(s) ? 0 : BLK;
    c->min_len = c->ivlen + (c->ml + 1 + BLK - 1) / BLK * BLK; /* record.c's public minimum */
    size_t kl = tlsv_cbc_key_len(s->cipher);
    rnd_fill(c->key, kl);
    rnd_fill(c->mac_key, c->ml);
    rnd_fill(c->iv, BLK);
    memcpy(c->chain, c->iv, BLK);
    c->enc = tlsv_cbc_new(s->cipher, c->key, kl, 1);
    c->tx_mac = tlsv_hmac_new(s->mac, c->mac_key, c->ml);
    if (!c->enc || !c->tx_mac)
        return -1;
    tlsv_rec_keys12 k = {.mac_key = c->mac_key, .mac_key_len = c->ml, .key = c->key,
                         .key_len = kl, .iv = c->iv, .iv_len = BLK};
    if (!naive_mode)
        return tlsv_rec_dir_set_cbc(&c->dir, s->version, 0, s->cipher, s->mac, &k);
    c->dec = tlsv_cbc_new(s->cipher, c->key, kl, 0);
    c->rx_mac = tlsv_hmac_new(s->mac, c->mac_key, c->ml);
    if (!c->dec || !c->rx_mac)
        return -1;
    if (c->ivlen == 0 && tlsv_cbc_crypt(c->dec, c->iv, NULL, 0, NULL) != 0)
        return -1;
    return 0;
}

static void conn_free(struct conn *c)
{
    tlsv_cbc_free(c->enc);
    tlsv_hmac_free(c->tx_mac);
    tlsv_rec_dir_clear(&c->dir);
    tlsv_cbc_free(c->dec);
    tlsv_hmac_free(c->rx_mac);
}

enum fault {
    F_NONE,         /* a valid record */
    F_PAD_BYTE,     /* one padding byte (not the length byte) differs */
    F_PAD_LENGTH,   /* the padding_length byte differs from the padding bytes */
    F_MAC_BYTE,     /* one MAC byte differs */
    F_DATA_BYTE,    /* one content byte differs (so the MAC does not match) */
    F_PAD_TOO_LONG, /* padding_length + 1 + MAC length > fragment: all bytes 0xff */
};
static const char *const fault_names[] = {"valid", "bad padding byte", "bad padding length",
                                          "bad MAC", "bad content", "padding too long"};

/* Builds one record: content data[0..data_len) of type `type`, its MAC,
 * `pad` + 1 padding bytes, then the fault, encrypted. The fragment length
 * data_len + ml + pad + 1 must be a whole number of blocks. Returns the
 * record's length (header in hdr). */
static size_t build_record(struct conn *c, uint8_t type, const uint8_t *data, size_t data_len,
                           size_t pad, enum fault f, uint8_t hdr[TLSV_REC_HEADER], uint8_t *rec)
{
    size_t ml = c->ml, n = data_len + ml + pad + 1;
    uint8_t *pt = rec + c->ivlen;
    memcpy(pt, data, data_len);
    if (record_mac(c, c->tx_mac, c->tx_seq, type, data, data_len, pt + data_len) != 0)
        CHECK(0, "sender MAC failed");
    if (is_ssl3(c->s))
        rnd_fill(pt + data_len + ml, pad); /* SSL 3.0: any padding content */
    else
        memset(pt + data_len + ml, (int)pad, pad);
    pt[n - 1] = (uint8_t)pad;
    switch (f) {
    case F_NONE:
        break;
    case F_PAD_BYTE: /* pad >= 1 */
        pt[n - 2 - rnd() % pad] ^= rnd_nonzero();
        break;
    case F_PAD_LENGTH:
        pt[n - 1] ^= rnd_nonzero();
        break;
    case F_MAC_BYTE:
        pt[data_len + rnd() % ml] ^= rnd_nonzero();
        break;
    case F_DATA_BYTE: /* data_len >= 1 */
        pt[rnd() % data_len] ^= rnd_nonzero();
        break;
    case F_PAD_TOO_LONG: /* n < 255 + 1 + ml */
        memset(pt, 0xff, n);
        break;
    }
    size_t len = c->ivlen + n;
    if (c->ivlen)
        rnd_fill(rec, BLK);
    if (tlsv_cbc_crypt(c->enc, c->ivlen ? rec : c->chain, pt, n, pt) != 0)
        CHECK(0, "sender encryption failed");
    hdr[0] = type;
    hdr[1] = (uint8_t)(c->s->version >> 8);
    hdr[2] = (uint8_t)c->s->version;
    hdr[3] = (uint8_t)(len >> 8);
    hdr[4] = (uint8_t)len;
    return len;
}

/* --- the naive check: what record.c must NOT do ----------------------- */

/* The textbook MAC-then-encrypt check: branches on the padding length,
 * stops at the first wrong padding byte, MACs a content of secret length
 * (the hash runs a secret number of blocks: Lucky Thirteen) and compares
 * with an early exit. Returns 1 when the record is good. */
static NOINLINE int naive_cbc_check(struct conn *c, uint8_t type, const uint8_t *p, size_t n,
                                    size_t *data_len)
{
    size_t ml = c->ml, pad = p[n - 1];
    if (pad + 1 + ml > n || (is_ssl3(c->s) && pad >= BLK))
        return 0;
    for (size_t i = 1; i <= pad && !is_ssl3(c->s); i++)
        if (p[n - 1 - i] != pad)
            return 0;
    size_t len = n - ml - 1 - pad;
    uint8_t mac[TLSV_HASH_MAX_LEN];
    if (record_mac(c, c->rx_mac, c->rx_seq, type, p, len, mac) != 0)
        return 0;
    for (size_t i = 0; i < ml; i++)
        if (mac[i] != p[len + i])
            return 0;
    *data_len = len;
    return 1;
}

/* The naive receiver, marking and declassifying exactly where record.c
 * does. */
static int naive_open(struct conn *c, const uint8_t hdr[TLSV_REC_HEADER], uint8_t *rec, size_t len,
                      uint8_t **pt, size_t *pt_len)
{
    if (len < c->min_len || (len - c->ivlen) % BLK != 0)
        return -1; /* public length */
    uint8_t *p = rec + c->ivlen;
    size_t n = len - c->ivlen;
    if (tlsv_cbc_crypt(c->dec, c->ivlen ? rec : NULL, p, n, p) != 0)
        return -1;
    SECRET(p, n);
    size_t data_len = 0;
    int good = naive_cbc_check(c, hdr[0], p, n, &data_len);
    PUBLIC(&good, sizeof good);
    if (!good)
        return -1;
    PUBLIC(&data_len, sizeof data_len);
    PUBLIC(p, n);
    c->rx_seq++;
    *pt = p;
    *pt_len = data_len;
    return 0;
}

static bool hook_checked;

/* Opens a record with the receiver under test; checks the verdict and, on
 * success, the content. Keeps the sender's mirror of the receiver's state
 * (sequence number, TLS 1.0 IV chain). */
static void open_and_check(struct conn *c, const uint8_t hdr[TLSV_REC_HEADER], uint8_t *rec,
                           size_t len, bool expect_ok, const uint8_t *data, size_t data_len,
                           const char *what)
{
    bool decrypted = len >= c->min_len && (len - c->ivlen) % BLK == 0;
    uint8_t last[BLK];
    if (decrypted)
        memcpy(last, rec + len - BLK, BLK); /* the next TLS 1.0 IV */
    uint8_t *pt = NULL, type = 0;
    size_t pt_len = 0;
    int rc;
    if (naive_mode) {
        rc = naive_open(c, hdr, rec, len, &pt, &pt_len);
        type = hdr[0];
    } else {
        tlsv_error err;
        rc = tlsv_rec_open(&c->dir, hdr, rec, len, &type, &pt, &pt_len, &err);
        if (rc != 0)
            CHECK(err.reason == TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC,
                  "%s, %s: refused with %s, not bad_record_mac", c->s->name, what,
                  tlsv_reason_name(err.reason));
        /* The hook in record.c must have marked the fragment secret: after
         * a refusal it is still undefined (only an accepted record is
         * declassified). Without the hook this test would prove nothing. */
        if (rc != 0 && decrypted && under_valgrind && !hook_checked) {
            static uint8_t vbits[REC_MAX];
            size_t n = len - c->ivlen, undefined = 0;
            unsigned r = (unsigned)VALGRIND_GET_VBITS(rec + c->ivlen, vbits, n);
            for (size_t i = 0; i < n; i++)
                undefined += vbits[i] != 0;
            CHECK(r == 1 && undefined == n,
                  "record.c did not mark the decrypted fragment secret (%zu of %zu bytes "
                  "undefined; was the library built with -DTLSV_CT_VALGRIND?)",
                  undefined, n);
            hook_checked = true;
        }
    }
    if (expect_ok) {
        CHECK(rc == 0, "%s, %s (content %zu bytes, record %zu): refused", c->s->name, what,
              data_len, len);
        if (rc == 0) {
            CHECK(type == hdr[0] && pt_len == data_len && memcmp(pt, data, data_len) == 0,
                  "%s, %s: wrong content", c->s->name, what);
            c->tx_seq++;
        }
    } else {
        CHECK(rc != 0, "%s, %s (record %zu bytes): accepted", c->s->name, what, len);
        if (rc == 0)
            c->tx_seq++;
    }
    if (decrypted)
        memcpy(c->chain, last, BLK);
    PUBLIC(rec, len); /* the buffer is reused for the next record */
}

/* Content length for a padding length: the first length >= base that
 * makes content + MAC + padding a whole number of blocks. */
static size_t aligned_len(size_t base, size_t ml, size_t pad)
{
    return base + (BLK - (base + ml + pad + 1) % BLK) % BLK;
}

static void run_cbc_suite(const struct suite *s)
{
    static uint8_t rec[REC_MAX], data[TLSV_REC_MAX_PLAINTEXT];
    struct conn c;
    struct section sec;
    char name[64];
    snprintf(name, sizeof name, "%s:", s->name);
    section_begin(&sec, name);
    if (conn_init(&c, s) != 0) {
        CHECK(0, "%s: cannot key the record directions", s->name);
        conn_free(&c);
        return;
    }
    uint8_t hdr[TLSV_REC_HEADER];
    char what[96];
    for (size_t pad = 0; pad <= 255; pad++) {
        /* small, medium and (every 32nd padding length) full-size contents */
        size_t base = pad % 32 == 7 ? TLSV_REC_MAX_PLAINTEXT - 15 - ((pad / 32) % 2) * 1000
                                    : (pad * 37) % 300;
        size_t dl = aligned_len(base, c.ml, pad);
        if (dl > TLSV_REC_MAX_PLAINTEXT)
            dl -= BLK;
        uint8_t type = pad % 2 ? TLSV_CT_APPLICATION_DATA : TLSV_CT_HANDSHAKE;
        for (int f = F_NONE; f <= F_DATA_BYTE; f++) {
            if ((f == F_PAD_BYTE && pad == 0) || (f == F_DATA_BYTE && dl == 0))
                continue;
            /* SSL 3.0: padding up to 15 bytes of any content is valid */
            bool valid = is_ssl3(s) ? pad < BLK && (f == F_NONE || f == F_PAD_BYTE) : f == F_NONE;
            rnd_fill(data, dl);
            size_t len = build_record(&c, type, data, dl, pad, (enum fault)f, hdr, rec);
            snprintf(what, sizeof what, "padding %zu, %s", pad, fault_names[f]);
            open_and_check(&c, hdr, rec, len, valid, data, dl, what);
            sec.cases++;
        }
    }
    /* the smallest records: content 0.., every padding that fits */
    for (size_t n = c.min_len - c.ivlen; n <= c.min_len - c.ivlen + BLK; n += BLK)
        for (size_t pad = 0; pad + 1 + c.ml <= n; pad++) {
            size_t dl = n - c.ml - 1 - pad;
            rnd_fill(data, dl);
            size_t len = build_record(&c, TLSV_CT_APPLICATION_DATA, data, dl, pad, F_NONE, hdr, rec);
            snprintf(what, sizeof what, "small record, padding %zu", pad);
            open_and_check(&c, hdr, rec, len, !is_ssl3(s) || pad < BLK, data, dl, what);
            sec.cases++;
        }
    /* padding longer than the record: every byte 0xff */
    for (size_t n = c.min_len - c.ivlen; n < 255 + 1 + c.ml; n += BLK) {
        size_t dl = n - c.ml - 1; /* the MAC is computed, then overwritten */
        rnd_fill(data, dl);
        size_t len =
            build_record(&c, TLSV_CT_APPLICATION_DATA, data, dl, 0, F_PAD_TOO_LONG, hdr, rec);
        snprintf(what, sizeof what, "padding too long, fragment %zu", n);
        open_and_check(&c, hdr, rec, len, false, NULL, 0, what);
        sec.cases++;
    }
    /* too short, or not a whole number of blocks: refused on the public
     * length, before decryption */
    size_t shorts[] = {0, 1, BLK - 1, BLK, c.ivlen + BLK, c.min_len - BLK, c.min_len - 1,
                       c.min_len + 1, c.min_len + BLK / 2, c.min_len + 3 * BLK - 5};
    for (size_t i = 0; i < sizeof shorts / sizeof *shorts; i++) {
        size_t len = shorts[i];
        if (len >= c.min_len && (len - c.ivlen) % BLK == 0)
            continue;
        rnd_fill(rec, len);
        hdr[0] = TLSV_CT_APPLICATION_DATA;
        hdr[1] = (uint8_t)(s->version >> 8);
        hdr[2] = (uint8_t)s->version;
        hdr[3] = (uint8_t)(len >> 8);
        hdr[4] = (uint8_t)len;
        snprintf(what, sizeof what, "malformed length %zu", len);
        open_and_check(&c, hdr, rec, len, false, NULL, 0, what);
        sec.cases++;
    }
    /* and the connection still works after all that */
    rnd_fill(data, 100);
    size_t dl = aligned_len(100, c.ml, 0);
    size_t len = build_record(&c, TLSV_CT_APPLICATION_DATA, data, dl, 0, F_NONE, hdr, rec);
    open_and_check(&c, hdr, rec, len, true, data, dl, "final record");
    sec.cases++;
    conn_free(&c);
    section_end(&sec);
}

/* ======================================================================
 * 2. tlsv_ct_memcmp
 * ====================================================================== */

static NOINLINE int naive_memcmp(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 1;
    return 0;
}

static void run_memcmp(void)
{
    struct section sec;
    section_begin(&sec, "tlsv_ct_memcmp (Finished, MACs):");
    static const size_t lens[] = {12, 20, 32, 48};
    uint8_t a[64], b[64];
    for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
        size_t n = lens[li];
        for (long pos = -1; pos < (long)n; pos++) {
            rnd_fill(a, n);
            memcpy(b, a, n);
            if (pos >= 0)
                b[pos] ^= rnd_nonzero();
            SECRET(a, n);
            SECRET(b, n);
            int r = naive_mode ? naive_memcmp(a, b, n) : tlsv_ct_memcmp(a, b, n);
            PUBLIC(&r, sizeof r); /* the verdict */
            PUBLIC(a, n);
            PUBLIC(b, n);
            CHECK((r == 0) == (pos < 0), "memcmp of %zu bytes differing at %ld: %d", n, pos, r);
            sec.cases++;
        }
    }
    section_end(&sec);
}

/* ======================================================================
 * 3. RSA premaster countermeasure
 * ====================================================================== */

/*
 * A valgrind function wrapper around libcrypto's EVP_PKEY_decrypt (only
 * active under valgrind; outside it this function is never called): calls
 * the real one, then marks what it returns as secret. So libcrypto's RSA
 * decryption runs on public data (out of scope), and tlsv's handling of its
 * result is what memcheck watches. Secret: in RSA_PKCS1_WITH_TLS_PADDING
 * mode the 48 output bytes (OpenSSL 3.0, ossl_rsa_padding_check_PKCS1_
 * type_2_TLS: "If the passed message is publicly invalid ... -1 is returned
 * ... If an error occurs that should be treated in constant time then this
 * function will appear to return successfully, but the decrypted data will
 * be randomly generated"); in any other mode the output bytes (the whole
 * buffer), the output length and the return value (rsa_enc.c's rsa_decrypt
 * selects both with constant_time_select).
 */
static unsigned long decrypt_wrapped; /* how many calls the wrapper saw */
int I_WRAP_SONAME_FNNAME_ZU(libcryptoZdsoZd3, EVP_PKEY_decrypt)(EVP_PKEY_CTX *ctx,
                                                                 unsigned char *out,
                                                                 size_t *outlen,
                                                                 const unsigned char *in,
                                                                 size_t inlen);
int I_WRAP_SONAME_FNNAME_ZU(libcryptoZdsoZd3, EVP_PKEY_decrypt)(EVP_PKEY_CTX *ctx,
                                                                 unsigned char *out,
                                                                 size_t *outlen,
                                                                 const unsigned char *in,
                                                                 size_t inlen)
{
    OrigFn fn;
    int r;
    size_t cap = out && outlen ? *outlen : 0;
    VALGRIND_GET_ORIG_FN(fn);
    CALL_FN_W_5W(r, fn, ctx, out, outlen, in, inlen);
    if (out && outlen) {
        /* the padding mode as a number (EVP_PKEY_CTX_get_rsa_padding() asks
         * for its name, which libcrypto 3.0 does not have for the TLS mode,
         * and crashes in strcmp(NULL)) */
        int pad = 0;
        OSSL_PARAM params[] = {OSSL_PARAM_int(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, &pad),
                               OSSL_PARAM_END};
        decrypt_wrapped++;
        if (EVP_PKEY_CTX_get_params(ctx, params) > 0 && pad == RSA_PKCS1_WITH_TLS_PADDING) {
            if (r > 0)
                SECRET(out, *outlen);
        } else {
            SECRET(out, cap);
            SECRET(outlen, sizeof *outlen);
            SECRET(&r, sizeof r);
        }
    }
    return r;
}

/* The if/else version of the countermeasure: branches on the outcome, the
 * length and the version bytes of the decrypted premaster. */
static NOINLINE void naive_premaster(EVP_PKEY *key, const uint8_t *in, size_t in_len,
                                     uint16_t client_version, uint8_t pms[48])
{
    uint8_t buf[1024];
    size_t n = sizeof buf;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    int ok = pc && EVP_PKEY_decrypt_init(pc) > 0 &&
             EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) > 0;
    int dec = ok ? EVP_PKEY_decrypt(pc, buf, &n, in, in_len) : 0;
    EVP_PKEY_CTX_free(pc);
    if (dec > 0 && n == 48 && buf[0] == (uint8_t)(client_version >> 8) &&
        buf[1] == (uint8_t)client_version)
        memcpy(pms, buf, 48);
    else
        RAND_bytes(pms, 48);
}

static void run_rsa(void)
{
    struct section sec;
    section_begin(&sec, "RSA premaster countermeasure:");
    EVP_PKEY *evp = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL;
    long pem_len = 0;
    if (evp && bio && PEM_write_bio_PrivateKey(bio, evp, NULL, NULL, 0, NULL, NULL) == 1)
        pem_len = BIO_get_mem_data(bio, &pem);
    int e = 0;
    tlsv_pkey *key = pem_len > 0 ? tlsv_pkey_private_from_pem(pem, (size_t)pem_len, NULL, &e) : NULL;
    BIO_free(bio);
    if (!key) {
        CHECK(0, "cannot make an RSA key (%d)", e);
        EVP_PKEY_free(evp);
        section_end(&sec);
        return;
    }
    const uint16_t cv = TLSV_V_TLS12;
    enum { R_VALID, R_VERSION, R_SHORT, R_LONG, R_GARBAGE, R_BAD_LEN };
    static const char *const names[] = {"valid", "wrong version", "47 bytes", "49 bytes",
                                        "undecryptable", "ciphertext of the wrong length"};
    unsigned long wrapped_before = decrypt_wrapped, expect_wrapped = 0;
    for (int round = 0; round < 4; round++)
        for (int kind = R_VALID; kind <= R_BAD_LEN; kind++) {
            uint8_t msg[49], ct[512], pms[48], pms2[48];
            size_t msg_len = kind == R_SHORT ? 47 : kind == R_LONG ? 49 : 48, ct_len = 0;
            rnd_fill(msg, sizeof msg);
            msg[0] = (uint8_t)(cv >> 8);
            msg[1] = kind == R_VERSION ? 0x01 : (uint8_t)cv;
            if (tlsv_rsa_encrypt_pkcs1(key, msg, msg_len, ct, sizeof ct, &ct_len) != 0) {
                CHECK(0, "RSA encryption failed");
                continue;
            }
            if (kind == R_GARBAGE) {
                rnd_fill(ct + 1, ct_len - 1);
                ct[0] = 0; /* below the modulus: decrypts to garbage padding */
            }
            size_t in_len = kind == R_BAD_LEN ? ct_len - 1 : ct_len;
            for (int twice = 0; twice < 2; twice++) {
                uint8_t *out = twice ? pms2 : pms;
                if (naive_mode) {
                    naive_premaster(evp, ct, in_len, cv, out);
                } else {
                    int rc = tlsv_rsa_decrypt_premaster(key, ct, in_len, cv, out);
                    CHECK(rc == 0, "tlsv_rsa_decrypt_premaster (%s): %d", names[kind], rc);
                }
                expect_wrapped++;
                PUBLIC(out, 48); /* the premaster goes on into the PRF; here we look at it */
            }
            if (kind == R_VALID)
                CHECK(memcmp(pms, msg, 48) == 0 && memcmp(pms2, msg, 48) == 0,
                      "RSA premaster (valid): not the decrypted one");
            else
                CHECK(memcmp(pms, msg, 48) != 0 && memcmp(pms, pms2, 48) != 0,
                      "RSA premaster (%s): not fresh random bytes", names[kind]);
            sec.cases++;
        }
    if (under_valgrind)
        CHECK(decrypt_wrapped - wrapped_before == expect_wrapped,
              "the EVP_PKEY_decrypt wrapper saw %lu of %lu calls: the RSA section proves nothing",
              decrypt_wrapped - wrapped_before, expect_wrapped);
    tlsv_pkey_free(key);
    EVP_PKEY_free(evp);
    section_end(&sec);
}

/* ====================================================================== */

int main(int argc, char **argv)
{
    bool no_valgrind = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0 && i + 1 < argc) {
            const char *m = argv[++i];
            if (strcmp(m, "naive") == 0)
                naive_mode = true;
            else if (strcmp(m, "tlsv") != 0) {
                fprintf(stderr, "ct: --check tlsv|naive\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--no-valgrind") == 0) {
            no_valgrind = true;
        } else {
            fprintf(stderr, "usage: %s [--check tlsv|naive] [--no-valgrind]\n", argv[0]);
            return 2;
        }
    }
    under_valgrind = RUNNING_ON_VALGRIND != 0;
    if (!under_valgrind && !no_valgrind) {
        fprintf(stderr, "ct: this test proves something only under valgrind's memcheck:\n"
                        "    valgrind --error-exitcode=99 %s (or --no-valgrind: functional "
                        "checks only)\n",
                argv[0]);
        return 2;
    }
    if (tlsv_crypto_init() != 0) {
        fprintf(stderr, "ct: tlsv_crypto_init failed\n");
        return 1;
    }
    printf("ct: checking %s code%s\n",
           naive_mode ? "the NAIVE (deliberately leaky)" : "tlsv's constant-time",
           under_valgrind ? " under memcheck" : " (functional checks only)");
    for (size_t i = 0; i < sizeof suites / sizeof *suites; i++)
        run_cbc_suite(&suites[i]);
    run_memcmp();
    run_rsa();

    if (failures) {
        printf("ct: FAIL: %u functional check%s failed\n", failures, failures == 1 ? "" : "s");
        return 1;
    }
    if (!under_valgrind) {
        printf("ct: functional checks passed (not under valgrind: nothing about timing)\n");
        return 0;
    }
    if (naive_mode) {
        if (sections_flagged == sections_total) {
            printf("ct: naive: every leak was detected (%u of %u sections flagged)\n",
                   sections_flagged, sections_total);
            return 0;
        }
        printf("ct: FAIL: naive: %u of %u sections went undetected -- the harness is blind\n",
               sections_clean, sections_total);
        return 1;
    }
    if (sections_flagged) {
        printf("ct: FAIL: memcheck saw secret-dependent branches or indexes in %u section%s\n",
               sections_flagged, sections_flagged == 1 ? "" : "s");
        return 1;
    }
    printf("ct: PASS: no secret-dependent branch or memory index (%u sections)\n", sections_total);
    return 0;
}
