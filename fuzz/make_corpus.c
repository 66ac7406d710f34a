/*
 * make_corpus.c -- writes the seed corpora of the fuzz targets (fuzz/corpus/)
 * from real in-memory tlsv <-> tlsv handshakes. Built in the fuzz build
 * (TLSV_FUZZING: the fixed random sequence); fuzz/run --seeds runs it:
 *
 *   tlsv-make-corpus DIR     writes DIR/<target>/<name> for every target
 *
 * Connection seeds replay. The fuzz targets restart the random sequence and
 * make a fresh connection for every input, so a recorded peer flight is
 * only worth something if the fresh connection, fed the same earlier
 * flights, says exactly what the recorded one said. The recording therefore
 * runs the side the target plays (R) from scratch for every step:
 *
 *   P = the peer (one connection for the whole recording)
 *   repeat: restart the random sequence; a fresh R; feed R the peer flights
 *           recorded so far, one at a time as the target does; R's last
 *           output is its next flight -- give it to P, and record P's answer
 *
 * R's flights are then the same in every pass and in the target, and P's
 * answers fit them. With the fixed sequence (ephemeral keys included),
 * deterministic signatures (Ed25519, RSA PKCS#1 v1.5) and RSA key
 * exchange decrypted by the server, a seed runs a whole handshake in the
 * target, Finished checked, and then application data and close_notify.
 *
 * The other corpora: handshake messages cut out of the plaintext flights
 * (msg, certs), records sealed under the fixed keys of fuzz_record_kinds.h
 * (record), the certificates and keys of fuzz/data (certs), the offers of
 * each client configuration (version), and small programs (buf).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/crypto.h"
#include "engine/engine.h"
#include "engine/keysched13.h"
#include "engine/msg.h"
#include "engine/record.h"
#include "fuzz_conf.h"
#include "fuzz_record_kinds.h"
#include "tlsv.h"
#include "version.h"
#include "x509.h"

#define MAX_FLIGHTS 12
#define MAX_FLIGHT (64 * 1024)

static const char *outdir;
static int written;

static void die(const char *what)
{
    fprintf(stderr, "make_corpus: %s\n", what);
    exit(1);
}

/* Seeds already written (FNV-1a of target and content): no duplicates. */
static uint64_t seen[4096];
static size_t n_seen;

static void save(const char *target, const char *name, const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *t = target; *t; t++)
        h = (h ^ (uint8_t)*t) * 0x100000001b3ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    for (size_t i = 0; i < n_seen; i++)
        if (seen[i] == h)
            return;
    if (n_seen < sizeof seen / sizeof seen[0])
        seen[n_seen++] = h;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", outdir, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        die("mkdir");
    snprintf(path, sizeof path, "%s/%s/%s", outdir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
        die("cannot write a seed");
    written++;
}

typedef struct {
    uint8_t *p;
    size_t n;
} blob;

static void blob_add(blob *b, const void *p, size_t n)
{
    b->p = realloc(b->p, b->n + n + 1);
    if (!b->p)
        die("out of memory");
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static blob take(tlsv_conn *c)
{
    blob b = {0};
    uint8_t buf[4096];
    size_t n;
    while ((n = tlsv_conn_take_output(c, buf, sizeof buf)) > 0)
        blob_add(&b, buf, n);
    return b;
}

/* One step of a connection as the targets drive it (fuzz_drive.h): feed,
 * then the handshake, or a read once established. */
static int step(tlsv_conn *c, int hs, const blob *in)
{
    if (in && in->n)
        tlsv_conn_feed(c, in->p, in->n);
    if (hs != 0) {
        hs = tlsv_conn_handshake(c);
    }
    if (hs == 0) {
        uint8_t buf[4096];
        for (int i = 0; i < 64; i++) {
            long r = tlsv_conn_read(c, buf, sizeof buf);
            if (r <= 0)
                break;
        }
    }
    return hs;
}

/* Records a handshake between R (the target's side, `r_server`) and P.
 * Writes the target's seed [config][len][flight]...; returns the number of
 * peer flights, and the flights through *out. `r_done` tells whether R
 * completed its handshake on the last replay. */
static size_t record(tlsv_ctx *rctx, tlsv_ctx *pctx, bool r_server, blob out[MAX_FLIGHTS],
                     bool *r_done, bool *p_done)
{
    tlsv_error err;
    size_t nf = 0;
    tlsv_conn *p = tlsv_conn_new(pctx, r_server ? TLSV_ROLE_CLIENT : TLSV_ROLE_SERVER,
                                 r_server ? "localhost" : NULL, &err);
    if (!p)
        die("peer connection");
    int phs = 1;
    bool p_sent_data = false, p_closed = false;
    if (r_server) { /* the client speaks first */
        phs = tlsv_conn_handshake(p);
        out[nf++] = take(p);
    }
    *r_done = false;
    for (int pass = 0; pass < MAX_FLIGHTS - 1; pass++) {
        tlsv_fuzz_reset_random();
        tlsv_conn *r = tlsv_conn_new(rctx, r_server ? TLSV_ROLE_SERVER : TLSV_ROLE_CLIENT,
                                     r_server ? NULL : "localhost", &err);
        if (!r)
            die("connection");
        int hs = tlsv_conn_handshake(r);
        blob last = take(r);
        for (size_t i = 0; i < nf && hs != -1; i++) {
            free(last.p);
            hs = step(r, hs, &out[i]);
            last = take(r);
        }
        *r_done = hs == 0;
        tlsv_conn_free(r);
        if (hs == -1) {
            free(last.p);
            break;
        }
        /* R's latest flight to P */
        if (last.n)
            tlsv_conn_feed(p, last.p, last.n);
        free(last.p);
        if (phs != 0 && phs != -1)
            phs = tlsv_conn_handshake(p);
        if (phs == -1)
            break;
        blob answer = take(p);
        if (phs == 0) {
            uint8_t buf[4096];
            while (tlsv_conn_read(p, buf, sizeof buf) > 0) {
            }
            blob more = take(p); /* e.g. a KeyUpdate answer */
            if (more.n)
                blob_add(&answer, more.p, more.n);
            free(more.p);
            if (!p_sent_data && *r_done) {
                static const char req[] = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
                if (tlsv_conn_write(p, req, sizeof req - 1) > 0) {
                    more = take(p);
                    blob_add(&answer, more.p, more.n);
                    free(more.p);
                }
                p_sent_data = true;
            } else if (p_sent_data && !p_closed) {
                (void)tlsv_conn_shutdown(p);
                more = take(p);
                if (more.n)
                    blob_add(&answer, more.p, more.n);
                free(more.p);
                p_closed = true;
            }
        }
        if (answer.n == 0) {
            free(answer.p);
            if (phs == 0 && p_closed)
                break;
            if (phs == 0)
                continue; /* one more pass: data, then close_notify */
            break;
        }
        out[nf++] = answer;
        if (p_closed)
            break;
    }
    *p_done = phs == 0;
    tlsv_conn_free(p);
    return nf;
}

static void save_flights(const char *target, const char *name, uint8_t config, blob *f, size_t nf)
{
    blob s = {0};
    blob_add(&s, &config, 1);
    for (size_t i = 0; i < nf; i++) {
        uint8_t len[2] = {(uint8_t)(f[i].n >> 8), (uint8_t)f[i].n};
        if (f[i].n > 0xffff)
            die("flight too long for the seed framing");
        blob_add(&s, len, 2);
        blob_add(&s, f[i].p, f[i].n);
    }
    save(target, name, s.p, s.n);
    free(s.p);
}

/* Handshake messages of the plaintext records at the start of a flight
 * (until a change_cipher_spec or an encrypted record). */
static int msg_count;
static void cut_messages(const blob *f)
{
    blob hs = {0};
    size_t off = 0;
    while (off + 5 <= f->n) {
        uint8_t type = f->p[off];
        size_t len = (size_t)f->p[off + 3] << 8 | f->p[off + 4];
        if (off + 5 + len > f->n || type != TLSV_CT_HANDSHAKE)
            break;
        blob_add(&hs, f->p + off + 5, len);
        off += 5 + len;
    }
    size_t m = 0;
    while (m + 4 <= hs.n) {
        size_t body = (size_t)hs.p[m + 1] << 16 | (size_t)hs.p[m + 2] << 8 | hs.p[m + 3];
        if (m + 4 + body > hs.n)
            break;
        char name[64];
        snprintf(name, sizeof name, "hs-%s-%03d", tlsv_hs_type_name(hs.p[m]), msg_count++);
        save("msg", name, hs.p + m + 4, body);
        if (hs.p[m] == 11) { /* certificate: also a certs seed (mode 4) */
            blob c = {0};
            uint8_t mode = 4;
            blob_add(&c, &mode, 1);
            blob_add(&c, hs.p + m + 4, body);
            save("certs", name, c.p, c.n);
            free(c.p);
        }
        m += 4 + body;
    }
    free(hs.p);
}

/* ---- record seeds ------------------------------------------------------------ */

static void op(blob *b, uint8_t code, const void *p, size_t n)
{
    uint8_t h[3] = {code, (uint8_t)(n >> 8), (uint8_t)n};
    blob_add(b, h, 3);
    blob_add(b, p, n);
}

/* Seals one record under w into out; returns its length. */
static size_t seal(tlsv_rec_dir *w, uint8_t type, const void *pt, size_t n, uint8_t *out,
                   size_t cap)
{
    tlsv_writer wr;
    tlsv_wr_init_fixed(&wr, out, cap);
    if (tlsv_rec_seal(w, type, 0x0303, pt, n, &wr) != 0)
        die("seal");
    return tlsv_wr_len(&wr);
}

static void chunk(blob *b, const uint8_t *p, size_t n)
{
    if (n < 0xff) {
        uint8_t l = (uint8_t)n;
        blob_add(b, &l, 1);
    } else {
        uint8_t l[3] = {0xff, (uint8_t)(n >> 8), (uint8_t)n};
        blob_add(b, l, 3);
    }
    blob_add(b, p, n);
}

static void record_seeds(void)
{
    static const char hello[] = "\x17hello, record layer";
    static const uint8_t hs_msg[] = {0x16, 20, 0, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    uint8_t rec[TLSV_REC_HEADER + TLSV_REC_MAX_CIPHERTEXT_12];
    for (size_t i = 0; i < N_KINDS; i++) {
        const struct kind *k = &kinds[i];
        char name[64];
        uint8_t kb = (uint8_t)i;
        blob b = {0};
        /* sealed round trips, a tampered one */
        blob_add(&b, &kb, 1);
        op(&b, 1, hello, sizeof hello - 1);
        op(&b, 1, hs_msg, sizeof hs_msg);
        op(&b, 2, hello, sizeof hello - 1);
        snprintf(name, sizeof name, "seal-%02zu", i);
        save("record", name, b.p, b.n);
        b.n = 0;

        /* forged decryptions with a valid layout */
        blob_add(&b, &kb, 1);
        uint8_t f[64];
        size_t fl = 0;
        if (k->kind == TLSV_REC_TLS13) {
            static const uint8_t inner[] = {23, 'h', 'i', 23, 0, 0, 0};
            memcpy(f, inner, sizeof inner);
            fl = sizeof inner;
        } else if (is_cbc(k)) {
            bool chained = k->version == 0x0301;
            f[fl++] = 23;
            f[fl++] = k->kind == TLSV_REC_CBC_ETM ? 0 : 0x81;
            if (!chained)
                for (int j = 0; j < 16; j++)
                    f[fl++] = (uint8_t)(0x40 + j);
            memcpy(f + fl, "sixteen bytes!!\x00", 16); /* ETM: pad length 0 at the end */
            fl += 16;
        }
        if (fl) {
            op(&b, 3, f, fl);
            op(&b, 3, f, fl);
            snprintf(name, sizeof name, "forged-%02zu", i);
            save("record", name, b.p, b.n);
        }
        b.n = 0;

        /* raw: a record sealed under the same keys, opened as received */
        tlsv_rec_dir w;
        if (key_dir(&w, k, true) != 0)
            die("key_dir");
        blob_add(&b, &kb, 1);
        size_t rl = seal(&w, 23, "raw record", 10, rec, sizeof rec);
        size_t rl2 = seal(&w, 21, "\x01\x00", 2, rec + rl, sizeof rec - rl);
        op(&b, 0, rec, rl + rl2);
        snprintf(name, sizeof name, "raw-%02zu", i);
        save("record", name, b.p, b.n);
        b.n = 0;
        tlsv_rec_dir_clear(&w);

        /* engine mode: a stream of records to an established client */
        if (key_dir(&w, k, true) != 0)
            die("key_dir");
        uint8_t eb = (uint8_t)(0x80 | i);
        blob_add(&b, &eb, 1);
        size_t n = seal(&w, 23, "application data", 16, rec, sizeof rec);
        chunk(&b, rec, n);
        n = seal(&w, 23, "", 0, rec, sizeof rec); /* an empty record */
        chunk(&b, rec, n);
        if (k->kind == TLSV_REC_TLS13) {
            static const uint8_t nst[] = {4, 0, 0, 13, 0, 0, 0, 60, 1, 2, 3, 4, 1, 9, 0, 1, 7, 0, 0};
            n = seal(&w, 22, nst, sizeof nst, rec, sizeof rec);
            chunk(&b, rec, n);
            static const uint8_t ku[] = {24, 0, 0, 1, 1};
            n = seal(&w, 22, ku, sizeof ku, rec, sizeof rec);
            chunk(&b, rec, n);
            /* the next records under the updated key */
            uint8_t sec[48];
            size_t sl = tlsv_hash_len((tlsv_hash_alg)k->hash);
            memcpy(sec, rk_secret, sl);
            if (tlsv_ks13_update((tlsv_hash_alg)k->hash, sec, sl) != 0 ||
                tlsv_rec_dir_set13(&w, (tlsv_aead_alg)k->aead, (tlsv_hash_alg)k->hash, sec, sl) != 0)
                die("key update");
            n = seal(&w, 23, "after key update", 16, rec, sizeof rec);
            chunk(&b, rec, n);
        } else {
            static const uint8_t hello_request[] = {0, 0, 0, 0};
            n = seal(&w, 22, hello_request, sizeof hello_request, rec, sizeof rec);
            chunk(&b, rec, n);
            n = seal(&w, 21, "\x01\x5a", 2, rec, sizeof rec); /* warning user_canceled */
            chunk(&b, rec, n);
        }
        /* a large record, split across chunks */
        static uint8_t big[1500];
        memset(big, 'x', sizeof big);
        n = seal(&w, 23, big, sizeof big, rec, sizeof rec);
        chunk(&b, rec, 100);
        chunk(&b, rec + 100, n - 100);
        n = seal(&w, 21, "\x01\x00", 2, rec, sizeof rec); /* close_notify */
        chunk(&b, rec, n);
        snprintf(name, sizeof name, "engine-%02zu", i);
        save("record", name, b.p, b.n);
        free(b.p);
        tlsv_rec_dir_clear(&w);
    }
}

/* Plaintext records of a recorded flight as a raw-op record seed. */
static int raw_count;
static void raw_record_seed(const blob *f)
{
    if (f->n == 0 || f->n > 0xffff)
        return;
    blob b = {0};
    uint8_t kb = 0;
    blob_add(&b, &kb, 1);
    op(&b, 0, f->p, f->n);
    char name[32];
    snprintf(name, sizeof name, "flight-%02d", raw_count++);
    save("record", name, b.p, b.n);
    free(b.p);
}

/* ---- certificate seeds ---------------------------------------------------------- */

static blob read_file(const char *path)
{
    blob b = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot read fuzz/data");
    uint8_t buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        blob_add(&b, buf, n);
    fclose(f);
    return b;
}

static void cert_seeds(void)
{
    static const char *const names[] = {"rsa", "ed25519", "ec"};
    for (int i = 0; i < 3; i++) {
        char path[512], name[64];
        snprintf(path, sizeof path, "%s/%s.pem", TLSV_FUZZ_DATA_DIR, names[i]);
        blob pem = read_file(path);
        const char *key = strstr((const char *)pem.p, "-----BEGIN PRIVATE KEY");
        if (!key)
            die("no key in fuzz/data pem");
        size_t split = (size_t)((const uint8_t *)key - pem.p);
        for (uint8_t mode = 0; mode < 8; mode++) {
            blob b = {0};
            blob_add(&b, &mode, 1);
            if (mode == 1 || mode == 7) {
                uint8_t l[2] = {(uint8_t)(split >> 8), (uint8_t)split};
                blob_add(&b, l, 2);
                blob_add(&b, pem.p, pem.n);
            } else if (mode == 3 || mode == 4) {
                tlsv_error err;
                tlsv_x509_chain *ch = tlsv_x509_chain_load_pem(pem.p, pem.n, &err);
                if (!ch)
                    die("fuzz/data certificate");
                size_t dl;
                const uint8_t *der = tlsv_x509_chain_der(ch, 0, &dl);
                if (mode == 3) {
                    blob_add(&b, der, dl);
                } else { /* a TLS 1.2 Certificate body with the cert twice */
                    size_t list = 2 * (3 + dl);
                    uint8_t l[3] = {(uint8_t)(list >> 16), (uint8_t)(list >> 8), (uint8_t)list};
                    uint8_t e[3] = {(uint8_t)(dl >> 16), (uint8_t)(dl >> 8), (uint8_t)dl};
                    blob_add(&b, l, 3);
                    blob_add(&b, e, 3);
                    blob_add(&b, der, dl);
                    blob_add(&b, e, 3);
                    blob_add(&b, der, dl);
                }
                tlsv_x509_chain_free(ch);
            } else if (mode == 5) {
                blob_add(&b, key, pem.n - split);
            } else {
                blob_add(&b, pem.p, pem.n);
            }
            snprintf(name, sizeof name, "%s-mode%u", names[i], mode);
            save("certs", name, b.p, b.n);
            free(b.p);
        }
        /* the public key as DER SPKI (mode 5) */
        tlsv_error err;
        tlsv_x509_chain *ch = tlsv_x509_chain_load_pem(pem.p, pem.n, &err);
        size_t sl;
        const uint8_t *spki = tlsv_x509_chain_leaf_spki(ch, &sl);
        blob b = {0};
        uint8_t mode = 5;
        blob_add(&b, &mode, 1);
        blob_add(&b, spki, sl);
        snprintf(name, sizeof name, "%s-spki", names[i]);
        save("certs", name, b.p, b.n);
        free(b.p);
        tlsv_x509_chain_free(ch);
        free(pem.p);
    }
}

/* ---- version seeds ---------------------------------------------------------------- */

/* fuzz_version.c's encoding: protocol index, OP_NO_* bits, other option
 * bits, minimum index, maximum index (see its tables). */
static const int v_protocols[] = {2, 16, 17, 3, 4, 5, 1, 2};
static const int v_bounds[] = {-2, -1, 0x0300, 0x0301, 0x0302, 0x0303, 0x0304, -2};

static void version_seeds(void)
{
    /* server configurations x client configurations, as indexes */
    static const uint8_t cfgs[][5] = {
        {2, 0, 0, 0, 1},    /* TLS_SERVER, defaults */
        {2, 0, 0, 3, 6},    /* TLSv1 .. TLSv1_3 */
        {2, 0, 0, 6, 6},    /* TLS 1.3 only */
        {2, 0x10, 0, 0, 1}, /* OP_NO_TLSv1_3 */
        {2, 0x04, 0, 3, 1}, /* a hole: OP_NO_TLSv1_1 */
        {5, 0, 0, 0, 1},    /* PROTOCOL_TLSv1_2 */
        {3, 0x1f, 0, 0, 1}, /* PROTOCOL_TLSv1, flags ignored */
        {0, 0, 1, 5, 3},    /* minimum above maximum */
        {1, 0, 0, 3, 5},    /* TLS_CLIENT TLSv1..TLSv1_2 */
    };
    size_t n = sizeof cfgs / sizeof cfgs[0];
    int count = 0;
    for (size_t s = 0; s < n; s++) {
        for (size_t c = 0; c < n; c += 2) {
            tlsv_vcfg cc = {.protocol = v_protocols[cfgs[c][0] % 8],
                            .options = 0,
                            .min_version = v_bounds[cfgs[c][3] % 8],
                            .max_version = v_bounds[cfgs[c][4] % 8]};
            tlsv_client_offer o;
            tlsv_error err;
            uint8_t seed[64];
            size_t len = 0;
            memcpy(seed, cfgs[s], 5);
            memcpy(seed + 5, cfgs[c], 5);
            len = 10;
            if (tlsv_vp_client_offer(&cc, false, &o, &err) != 0) {
                o.legacy_version = 0x0303;
                o.has_supported_versions = true;
                o.n_versions = 1;
                o.versions[0] = 0x0304;
            }
            uint8_t flags = o.has_supported_versions ? 1 : 0;
            if (count % 5 == 3)
                flags |= 2; /* fallback SCSV */
            seed[len++] = flags;
            seed[len++] = (uint8_t)(o.legacy_version >> 8);
            seed[len++] = (uint8_t)o.legacy_version;
            seed[len++] = (uint8_t)(40 + count % 100);
            if (count % 3 == 0) { /* GREASE first, as browsers send it */
                seed[len++] = 0x3a;
                seed[len++] = 0x3a;
            }
            for (size_t i = 0; i < o.n_versions; i++) {
                seed[len++] = (uint8_t)(o.versions[i] >> 8);
                seed[len++] = (uint8_t)o.versions[i];
            }
            char name[32];
            snprintf(name, sizeof name, "offer-%02d", count++);
            save("version", name, seed, len);
        }
    }
}

/* ---- buf seeds: programs over some data ---------------------------------------------- */

static void buf_seeds(void)
{
    /* u8, u16, vector pushes and pops, views, skips, marks over a small
     * ClientHello-like body (see fuzz_buf.c for the opcodes) */
    static const uint8_t progs[][24] = {
        {0, 0, 1, 0, 12, 1, 0, 0, 8, 4, 14, 0, 17, 0, 7, 3, 18, 0, 19, 0, 2, 0, 3, 0},
        {13, 0x31, 2, 40, 11, 8, 5, 4, 6, 2, 15, 0, 9, 0, 1, 10, 0xff, 3, 16, 0, 19, 0, 4, 0},
        {12, 1, 12, 2, 12, 0, 0, 0, 14, 0, 14, 0, 14, 0, 13, 0x53, 1, 2, 8, 200, 19, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "prog-%zu", i);
        save("buf", name, progs[i], sizeof progs[i]);
    }
}

/* ---- main ------------------------------------------------------------------------------ */

/* The session target: the bytes of real sessions (tlsv_session_to_bytes)
 * from in-memory handshakes of fuzz server `s` and client `c`, after the
 * client has read the server's tickets. */
static void session_seed(tlsv_ctx *sctx, tlsv_ctx *cctx, const char *name)
{
    tlsv_error err;
    tlsv_conn *c = tlsv_conn_new(cctx, TLSV_ROLE_CLIENT, "localhost", &err);
    tlsv_conn *sv = tlsv_conn_new(sctx, TLSV_ROLE_SERVER, NULL, &err);
    if (!c || !sv)
        die("session seed connections");
    int chs = 1, shs = 1;
    for (int round = 0; round < 8 && (chs != 0 || shs != 0); round++) {
        if (chs != 0)
            chs = tlsv_conn_handshake(c);
        blob b = take(c);
        if (b.n)
            tlsv_conn_feed(sv, b.p, b.n);
        free(b.p);
        if (shs != 0)
            shs = tlsv_conn_handshake(sv);
        b = take(sv);
        if (b.n)
            tlsv_conn_feed(c, b.p, b.n);
        free(b.p);
        if (chs == -1 || shs == -1)
            break;
    }
    if (chs == 0)
        (void)step(c, 0, NULL); /* the tickets */
    tlsv_session *ses = tlsv_conn_get_session(c);
    if (ses) {
        size_t n = tlsv_session_to_bytes(ses, NULL, 0);
        uint8_t *buf = malloc(n);
        if (!buf || tlsv_session_to_bytes(ses, buf, n) != n)
            die("session bytes");
        save("session", name, buf, n);
        free(buf);
        tlsv_session_free(ses);
    }
    tlsv_conn_free(c);
    tlsv_conn_free(sv);
}

static const char *const server_names[FS_COUNT] = {
    "s13-ed25519", "sall-rsa", "sall-ed25519", "sall-p384", "s13-hrr", "sall-clientauth", "slegacy"};
static const char *const client_names[FC_COUNT] = {
    "cdefault", "call", "c13", "c12", "clegacy", "cverify", "c13-p256", "c12-rsakx", "c10-cbc"};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR   (writes DIR/<target>/<seed>)\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
        die("cannot create the output directory");

    tlsv_ctx *sctx[FS_COUNT], *cctx[FC_COUNT];
    for (int i = 0; i < FS_COUNT; i++)
        sctx[i] = fuzz_server_ctx(i);
    for (int i = 0; i < FC_COUNT; i++)
        cctx[i] = fuzz_client_ctx(i);

    int complete[2] = {0, 0}, total = 0;
    for (int s = 0; s < FS_COUNT; s++) {
        for (int c = 0; c < FC_COUNT; c++) {
            blob f[MAX_FLIGHTS];
            bool r_done, p_done;
            char name[64];
            snprintf(name, sizeof name, "%s-%s", server_names[s], client_names[c]);

            /* the server target: the client's flights */
            size_t nf = record(sctx[s], cctx[c], true, f, &r_done, &p_done);
            save_flights("server", name, (uint8_t)s, f, nf);
            complete[0] += r_done && p_done;
            if (nf)
                cut_messages(&f[0]); /* ClientHello */
            if (c == 0 && nf)
                raw_record_seed(&f[0]);
            for (size_t i = 0; i < nf; i++)
                free(f[i].p);

            /* the client target: the server's flights */
            nf = record(cctx[c], sctx[s], false, f, &r_done, &p_done);
            save_flights("client", name, (uint8_t)c, f, nf);
            complete[1] += r_done && p_done;
            if (nf)
                cut_messages(&f[0]); /* ServerHello ... */
            if (c == 1 && nf)
                raw_record_seed(&f[0]);
            for (size_t i = 0; i < nf; i++)
                free(f[i].p);
            total++;
        }
    }
    record_seeds();
    for (int sv = 0; sv < FS_COUNT; sv++)
        for (int c = 0; c < FC_COUNT; c++) {
            char name[64];
            snprintf(name, sizeof name, "%s-%s", server_names[sv], client_names[c]);
            session_seed(sctx[sv], cctx[c], name);
        }
    cert_seeds();
    version_seeds();
    buf_seeds();
    for (int i = 0; i < FS_COUNT; i++)
        tlsv_ctx_free(sctx[i]);
    for (int i = 0; i < FC_COUNT; i++)
        tlsv_ctx_free(cctx[i]);
    printf("make_corpus: %d seeds in %s; of %d client/server pairs, %d server and %d client "
           "recordings complete their handshake on replay\n",
           written, outdir, total, complete[0], complete[1]);
    return 0;
}
