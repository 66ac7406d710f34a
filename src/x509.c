/*
 * x509.c -- certificate chains, trust stores and verification over
 * libcrypto's X509 / X509_STORE (the contracts are in x509.h).
 *
 * Nothing X.509 is parsed or checked by hand here: PEM and DER go through
 * PEM_read_bio_X509 / d2i_X509, path validation through X509_STORE_CTX with
 * OpenSSL's "ssl_server" / "ssl_client" parameter sets, names through
 * X509_VERIFY_PARAM_set1_host / set1_ip and X509_check_host / X509_check_ip_asc.
 * What this file adds is the shape the engine needs (DER in and out, no
 * OpenSSL types in x509.h) and errors that say what failed and where.
 */
#include "x509.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"
#include "err.h"

/* Input files larger than this are refused rather than read (a CA bundle
 * is a few hundred kilobytes). */
#define MAX_INPUT_FILE (64u * 1024u * 1024u)

/* Room for a subject name inside an error message. */
#define SUBJECT_MAX 160

/* ---------------------------------------------------------------------- */
/* Small helpers                                                          */
/* ---------------------------------------------------------------------- */

/* Describes the oldest error on libcrypto's queue (the root cause; later
 * entries are "nested asn1 error" wrappers) as "lib: reason", then clears
 * the queue. */
static const char *ossl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_error();
    if (e == 0) {
        snprintf(buf, len, "no detail from libcrypto");
    } else {
        const char *lib = ERR_lib_error_string(e);
        const char *reason = ERR_reason_error_string(e);
        if (reason)
            snprintf(buf, len, "%s%s%s", lib ? lib : "", lib ? ": " : "", reason);
        else
            ERR_error_string_n(e, buf, len);
    }
    ERR_clear_error();
    return buf;
}

static void set_oom(tlsv_error *err, const char *what)
{
    ERR_clear_error();
    tlsv_err_set(err, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                 "out of memory while %s", what);
}

/* The subject of a certificate as one RFC 2253 line, UTF-8 kept as is. */
static size_t name_line(const X509 *x, char *buf, size_t len)
{
    if (len)
        buf[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (!b) {
        ERR_clear_error();
        return 0;
    }
    size_t n = 0;
    if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *p = NULL;
        long got = BIO_get_mem_data(b, &p);
        if (got > 0 && p) {
            n = (size_t)got;
            if (len) {
                size_t k = n < len - 1 ? n : len - 1;
                memcpy(buf, p, k);
                buf[k] = '\0';
            }
        }
    }
    BIO_free(b);
    ERR_clear_error();
    return n;
}

/* Reads a whole file into a malloc'ed buffer. `kind` names the file's role
 * in messages ("certificate file"). */
static int read_file(const char *path, const char *kind, unsigned char **out, size_t *outlen,
                     tlsv_error *err)
{
    *out = NULL;
    *outlen = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "cannot read %s '%s': %s", kind, path, strerror(errno));
        return -1;
    }
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16384;
            if (ncap > MAX_INPUT_FILE + 1)
                ncap = MAX_INPUT_FILE + 1;
            if (ncap == cap) {
                free(buf);
                fclose(f);
                tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                             "%s '%s' is larger than %u bytes", kind, path, MAX_INPUT_FILE);
                return -1;
            }
            unsigned char *nbuf = realloc(buf, ncap);
            if (!nbuf) {
                free(buf);
                fclose(f);
                set_oom(err, "reading a file");
                return -1;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                int e = errno;
                free(buf);
                fclose(f);
                tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                             "cannot read %s '%s': %s", kind, path, strerror(e));
                return -1;
            }
            break;
        }
    }
    fclose(f);
    *out = buf;
    *outlen = len;
    return 0;
}

/* Never asks for a password: certificates are not encrypted, and a library
 * must not prompt on a terminal. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Every CERTIFICATE block of PEM text, in order, into *out (a new stack
 * owning its certificates). `what` names the source in messages: "certificate
 * file 'x.pem'" or "PEM data". */
static int pem_read_all(const void *pem, size_t len, const char *what, STACK_OF(X509) **out,
                        tlsv_error *err)
{
    *out = NULL;
    if (len == 0) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "%s is empty", what);
        return -1;
    }
    if (len > INT_MAX) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "%s is too large", what);
        return -1;
    }
    ERR_clear_error();
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    STACK_OF(X509) *certs = sk_X509_new_null();
    if (!bio || !certs) {
        BIO_free(bio);
        sk_X509_free(certs);
        set_oom(err, "reading PEM");
        return -1;
    }
    for (;;) {
        X509 *x = PEM_read_bio_X509(bio, NULL, no_password, NULL);
        if (!x) {
            unsigned long e = ERR_peek_last_error();
            if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
                /* No further certificate block before the end: done. */
                ERR_clear_error();
                break;
            }
            char why[160];
            tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                         "certificate %d in %s is malformed: %s", sk_X509_num(certs) + 1, what,
                         ossl_reason(why, sizeof why));
            goto fail;
        }
        if (!sk_X509_push(certs, x)) {
            X509_free(x);
            set_oom(err, "reading PEM");
            goto fail;
        }
    }
    BIO_free(bio);
    if (sk_X509_num(certs) == 0) {
        sk_X509_free(certs);
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "no PEM certificate (\"-----BEGIN CERTIFICATE-----\") found in %s", what);
        return -1;
    }
    *out = certs;
    return 0;

fail:
    BIO_free(bio);
    sk_X509_pop_free(certs, X509_free);
    return -1;
}

/* ---------------------------------------------------------------------- */
/* Chains                                                                 */
/* ---------------------------------------------------------------------- */

struct chain_cert {
    X509 *x509;
    unsigned char *der; /* OPENSSL_malloc'ed by i2d_X509 */
    size_t der_len;
};

struct tlsv_x509_chain {
    atomic_uint refs;
    struct chain_cert *certs;
    size_t n, cap;
    /* the leaf's public key, computed when the leaf is appended */
    unsigned char *spki; /* OPENSSL_malloc'ed by i2d_X509_PUBKEY */
    size_t spki_len;
    tlsv_x509_key_type key_type;
    int key_bits;
    /* the leaf's key in the crypto seam's form, wrapped once from the
     * EVP_PKEY d2i_X509 already parsed (NULL for a key type tlsv cannot use) */
    tlsv_pkey *leaf_key;
};

tlsv_x509_chain *tlsv_x509_chain_new(tlsv_error *err)
{
    tlsv_x509_chain *c = calloc(1, sizeof *c);
    if (!c) {
        set_oom(err, "creating a certificate chain");
        return NULL;
    }
    atomic_init(&c->refs, 1u);
    c->key_type = TLSV_X509_KEY_UNSUPPORTED;
    return c;
}

tlsv_x509_chain *tlsv_x509_chain_up_ref(tlsv_x509_chain *chain)
{
    if (chain)
        atomic_fetch_add(&chain->refs, 1u);
    return chain;
}

void tlsv_x509_chain_free(tlsv_x509_chain *chain)
{
    if (!chain || atomic_fetch_sub(&chain->refs, 1u) != 1u)
        return;
    for (size_t i = 0; i < chain->n; i++) {
        X509_free(chain->certs[i].x509);
        OPENSSL_free(chain->certs[i].der);
    }
    free(chain->certs);
    OPENSSL_free(chain->spki);
    tlsv_pkey_free(chain->leaf_key);
    free(chain);
}

static void classify_key(EVP_PKEY *pk, tlsv_x509_key_type *type, int *bits)
{
    *type = TLSV_X509_KEY_UNSUPPORTED;
    *bits = 0;
    if (!pk)
        return;
    *bits = EVP_PKEY_get_bits(pk);
    if (*bits < 0)
        *bits = 0;
    if (EVP_PKEY_is_a(pk, "RSA")) {
        *type = TLSV_X509_KEY_RSA;
    } else if (EVP_PKEY_is_a(pk, "ED25519")) {
        *type = TLSV_X509_KEY_ED25519;
    } else if (EVP_PKEY_is_a(pk, "EC")) {
        char group[64];
        size_t glen = 0;
        if (EVP_PKEY_get_group_name(pk, group, sizeof group, &glen) == 1) {
            int nid = OBJ_sn2nid(group);
            if (nid == NID_undef)
                nid = EC_curve_nist2nid(group);
            if (nid == NID_X9_62_prime256v1)
                *type = TLSV_X509_KEY_EC_P256;
            else if (nid == NID_secp384r1)
                *type = TLSV_X509_KEY_EC_P384;
        }
    }
    ERR_clear_error();
}

/* Appends x (taking ownership of it, also on failure). `wire`, if not
 * NULL, is the encoding x was parsed from, kept as the certificate's DER
 * (libcrypto's re-encoding can differ from a peer's bytes, e.g. in a BIT
 * STRING's unused bits); otherwise the DER is libcrypto's encoding. */
static int chain_push(tlsv_x509_chain *c, X509 *x, const uint8_t *wire, size_t wire_len,
                      tlsv_error *err)
{
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 4;
        struct chain_cert *nv = realloc(c->certs, ncap * sizeof *nv);
        if (!nv) {
            X509_free(x);
            set_oom(err, "building a certificate chain");
            return -1;
        }
        c->certs = nv;
        c->cap = ncap;
    }
    unsigned char *der = NULL;
    size_t dlen = 0;
    if (wire) {
        der = OPENSSL_memdup(wire, wire_len);
        dlen = wire_len;
    } else {
        int n = i2d_X509(x, &der);
        dlen = n > 0 ? (size_t)n : 0;
    }
    if (dlen == 0 || !der) {
        X509_free(x);
        set_oom(err, "encoding a certificate");
        return -1;
    }
    if (c->n == 0) {
        unsigned char *spki = NULL;
        int slen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
        if (slen <= 0) {
            /* The certificate parsed, so its SubjectPublicKeyInfo did too;
             * failing to re-encode it can only be a lack of memory. */
            OPENSSL_free(der);
            X509_free(x);
            set_oom(err, "encoding a public key");
            return -1;
        }
        c->spki = spki;
        c->spki_len = (size_t)slen;
        classify_key(X509_get0_pubkey(x), &c->key_type, &c->key_bits);
        EVP_PKEY *pk = X509_get0_pubkey(x);
        c->leaf_key = pk ? tlsv_pkey_from_libcrypto(pk, NULL) : NULL;
    }
    c->certs[c->n].x509 = x;
    c->certs[c->n].der = der;
    c->certs[c->n].der_len = dlen;
    c->n++;
    ERR_clear_error();
    return 0;
}

int tlsv_x509_chain_append_der(tlsv_x509_chain *chain, const uint8_t *der, size_t len,
                               tlsv_error *err)
{
    if (!chain || !der || len == 0) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "tlsv_x509_chain_append_der: %s",
                     !chain ? "chain is NULL" : "empty certificate data");
        return -1;
    }
    size_t index = chain->n + 1;
    if (len > LONG_MAX) {
        tlsv_err_set(err, TLSV_R_CERTIFICATE_VERIFY_FAILED, TLSV_ALERT_BAD_CERTIFICATE,
                     TLSV_SIDE_LOCAL,
                     "certificate %zu received from the peer is malformed: too long", index);
        return -1;
    }
    ERR_clear_error();
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (!x) {
        char why[160];
        tlsv_err_set(err, TLSV_R_CERTIFICATE_VERIFY_FAILED, TLSV_ALERT_BAD_CERTIFICATE,
                     TLSV_SIDE_LOCAL,
                     "certificate %zu received from the peer is malformed: %s", index,
                     ossl_reason(why, sizeof why));
        return -1;
    }
    if (p != der + len) {
        X509_free(x);
        ERR_clear_error();
        tlsv_err_set(err, TLSV_R_CERTIFICATE_VERIFY_FAILED, TLSV_ALERT_BAD_CERTIFICATE,
                     TLSV_SIDE_LOCAL,
                     "certificate %zu received from the peer is malformed: %zu bytes follow "
                     "the certificate's DER encoding",
                     index, (size_t)(der + len - p));
        return -1;
    }
    return chain_push(chain, x, der, len, err);
}

tlsv_x509_chain *tlsv_x509_chain_from_der(const tlsv_x509_der *certs, size_t n, tlsv_error *err)
{
    if (n > 0 && !certs) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "tlsv_x509_chain_from_der: certs is NULL");
        return NULL;
    }
    tlsv_x509_chain *c = tlsv_x509_chain_new(err);
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (tlsv_x509_chain_append_der(c, certs[i].data, certs[i].len, err) < 0) {
            tlsv_x509_chain_free(c);
            return NULL;
        }
    }
    return c;
}

/* A chain from a stack of parsed certificates (consumes the stack). */
static tlsv_x509_chain *chain_from_stack(STACK_OF(X509) *certs, tlsv_error *err)
{
    tlsv_x509_chain *c = tlsv_x509_chain_new(err);
    if (!c) {
        sk_X509_pop_free(certs, X509_free);
        return NULL;
    }
    int n = sk_X509_num(certs);
    for (int i = 0; i < n; i++) {
        X509 *x = sk_X509_value(certs, i);
        sk_X509_set(certs, i, NULL); /* ownership moves to chain_push */
        if (chain_push(c, x, NULL, 0, err) < 0) {
            sk_X509_pop_free(certs, X509_free); /* X509_free(NULL) is a no-op */
            tlsv_x509_chain_free(c);
            return NULL;
        }
    }
    sk_X509_free(certs);
    return c;
}

tlsv_x509_chain *tlsv_x509_chain_load_pem_file(const char *path, tlsv_error *err)
{
    if (!path) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "tlsv_x509_chain_load_pem_file: path is NULL");
        return NULL;
    }
    unsigned char *data;
    size_t len;
    if (read_file(path, "certificate file", &data, &len, err) < 0)
        return NULL;
    char what[PATH_MAX + 32];
    snprintf(what, sizeof what, "certificate file '%s'", path);
    STACK_OF(X509) *certs;
    int rc = pem_read_all(data, len, what, &certs, err);
    free(data);
    return rc < 0 ? NULL : chain_from_stack(certs, err);
}

tlsv_x509_chain *tlsv_x509_chain_load_pem(const void *pem, size_t len, tlsv_error *err)
{
    if (!pem && len > 0) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "tlsv_x509_chain_load_pem: pem is NULL");
        return NULL;
    }
    STACK_OF(X509) *certs;
    if (pem_read_all(pem, len, "PEM data", &certs, err) < 0)
        return NULL;
    return chain_from_stack(certs, err);
}

size_t tlsv_x509_chain_count(const tlsv_x509_chain *chain)
{
    return chain ? chain->n : 0;
}

const uint8_t *tlsv_x509_chain_der(const tlsv_x509_chain *chain, size_t i, size_t *len)
{
    if (!chain || i >= chain->n) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = chain->certs[i].der_len;
    return chain->certs[i].der;
}

size_t tlsv_x509_chain_subject(const tlsv_x509_chain *chain, size_t i, char *buf, size_t len)
{
    if (!chain || i >= chain->n) {
        if (buf && len)
            buf[0] = '\0';
        return 0;
    }
    return name_line(chain->certs[i].x509, buf, buf ? len : 0);
}

/* ---------------------------------------------------------------------- */
/* The leaf's public key                                                  */
/* ---------------------------------------------------------------------- */

const char *tlsv_x509_key_type_name(tlsv_x509_key_type type)
{
    switch (type) {
    case TLSV_X509_KEY_RSA: return "RSA";
    case TLSV_X509_KEY_EC_P256: return "EC P-256";
    case TLSV_X509_KEY_EC_P384: return "EC P-384";
    case TLSV_X509_KEY_ED25519: return "Ed25519";
    case TLSV_X509_KEY_UNSUPPORTED: break;
    }
    return "unsupported";
}

const uint8_t *tlsv_x509_chain_leaf_spki(const tlsv_x509_chain *chain, size_t *len)
{
    if (!chain || chain->n == 0) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = chain->spki_len;
    return chain->spki;
}

tlsv_pkey *tlsv_x509_chain_leaf_key(const tlsv_x509_chain *chain)
{
    return chain && chain->n > 0 ? tlsv_pkey_up_ref(chain->leaf_key) : NULL;
}

/* ---------------------------------------------------------------------- */
/* Peer chain cache                                                       */
/* ---------------------------------------------------------------------- */

/* libcrypto 3.0 spends more on parsing a certificate (d2i_X509 decodes its
 * public key through the OSSL_DECODER machinery) than on verifying its
 * signature. A client talks to the same few servers again and again, so a
 * context keeps the last chains it verified, keyed by their exact DER
 * bytes, and a handshake that receives the same bytes reuses the parsed
 * chain. Only parsing is saved: every handshake still verifies the chain
 * (path, signatures, validity time, hostname) from scratch. */
#define CACHE_SLOTS 16
#define CACHE_MAX_CHAIN_BYTES (32u * 1024u) /* larger chains are not kept */

struct tlsv_x509_cache {
    pthread_mutex_t lock;
    unsigned long long tick;
    struct {
        tlsv_x509_chain *chain;
        unsigned long long used;
    } slot[CACHE_SLOTS];
};

tlsv_x509_cache *tlsv_x509_cache_new(void)
{
    tlsv_x509_cache *c = calloc(1, sizeof *c);
    if (c && pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

void tlsv_x509_cache_free(tlsv_x509_cache *cache)
{
    if (!cache)
        return;
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        tlsv_x509_chain_free(cache->slot[i].chain);
    pthread_mutex_destroy(&cache->lock);
    free(cache);
}

static bool chain_is(const tlsv_x509_chain *c, const tlsv_x509_der *certs, size_t n)
{
    if (!c || c->n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (c->certs[i].der_len != certs[i].len ||
            memcmp(c->certs[i].der, certs[i].data, certs[i].len) != 0)
            return false;
    return true;
}

tlsv_x509_chain *tlsv_x509_cache_get(tlsv_x509_cache *cache, const tlsv_x509_der *certs,
                                     size_t n)
{
    if (!cache || n == 0 || !certs)
        return NULL;
    tlsv_x509_chain *found = NULL;
    pthread_mutex_lock(&cache->lock);
    for (size_t i = 0; i < CACHE_SLOTS && !found; i++) {
        if (chain_is(cache->slot[i].chain, certs, n)) {
            found = tlsv_x509_chain_up_ref(cache->slot[i].chain);
            cache->slot[i].used = ++cache->tick;
        }
    }
    pthread_mutex_unlock(&cache->lock);
    return found;
}

void tlsv_x509_cache_put(tlsv_x509_cache *cache, tlsv_x509_chain *chain)
{
    if (!cache || !chain || chain->n == 0)
        return;
    size_t bytes = 0;
    for (size_t i = 0; i < chain->n; i++)
        bytes += chain->certs[i].der_len;
    if (bytes > CACHE_MAX_CHAIN_BYTES)
        return;
    tlsv_x509_chain *old = NULL;
    pthread_mutex_lock(&cache->lock);
    size_t victim = 0;
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (cache->slot[i].chain == chain) { /* already kept */
            cache->slot[i].used = ++cache->tick;
            pthread_mutex_unlock(&cache->lock);
            return;
        }
        if (cache->slot[i].used < cache->slot[victim].used)
            victim = i; /* least recently used; empty slots have used = 0 */
    }
    old = cache->slot[victim].chain;
    cache->slot[victim].chain = tlsv_x509_chain_up_ref(chain);
    cache->slot[victim].used = ++cache->tick;
    pthread_mutex_unlock(&cache->lock);
    tlsv_x509_chain_free(old);
}

tlsv_x509_key_type tlsv_x509_chain_leaf_key_type(const tlsv_x509_chain *chain, int *bits)
{
    if (!chain || chain->n == 0) {
        if (bits)
            *bits = 0;
        return TLSV_X509_KEY_UNSUPPORTED;
    }
    if (bits)
        *bits = chain->key_bits;
    return chain->key_type;
}

int tlsv_x509_chain_leaf_key_usage_allows(const tlsv_x509_chain *chain, unsigned usage)
{
    if (!chain || chain->n == 0)
        return 0;
    /* X509_get_key_usage: UINT32_MAX without the extension, 0 when the
     * certificate's extensions cannot be decoded */
    uint32_t ku = X509_get_key_usage(chain->certs[0].x509);
    ERR_clear_error();
    uint32_t want = 0;
    if (usage & TLSV_X509_KU_DIGITAL_SIGNATURE)
        want |= KU_DIGITAL_SIGNATURE;
    if (usage & TLSV_X509_KU_KEY_ENCIPHERMENT)
        want |= KU_KEY_ENCIPHERMENT;
    return (ku & want) == want;
}

int tlsv_x509_chain_leaf_matches_spki(const tlsv_x509_chain *chain, const uint8_t *spki,
                                      size_t len, tlsv_error *err)
{
    if (!chain || chain->n == 0 || !spki || len == 0 || len > LONG_MAX) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "tlsv_x509_chain_leaf_matches_spki: %s",
                     (!chain || chain->n == 0) ? "no certificate to compare with"
                                               : "no public key given");
        return -1;
    }
    ERR_clear_error();
    const unsigned char *p = spki;
    EVP_PKEY *given = d2i_PUBKEY(NULL, &p, (long)len);
    if (!given || p != spki + len) {
        char why[160];
        ossl_reason(why, sizeof why);
        EVP_PKEY_free(given);
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "the public key to compare with the certificate is not a valid "
                     "SubjectPublicKeyInfo: %s",
                     given ? "trailing bytes" : why);
        return -1;
    }
    EVP_PKEY *leaf = X509_get0_pubkey(chain->certs[0].x509);
    int eq = leaf ? EVP_PKEY_eq(leaf, given) : 0;
    EVP_PKEY_free(given);
    ERR_clear_error();
    if (eq == 1)
        return 0;
    char subject[SUBJECT_MAX];
    name_line(chain->certs[0].x509, subject, sizeof subject);
    tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                 "the private key does not match the certificate '%s' (key values mismatch)",
                 subject);
    return -1;
}

/* ---------------------------------------------------------------------- */
/* Trust stores                                                           */
/* ---------------------------------------------------------------------- */

/* A tlsv_x509_store is an X509_STORE: libcrypto already counts its
 * references and locks it, so the handle is the same pointer. */
static X509_STORE *xs(tlsv_x509_store *store)
{
    return (X509_STORE *)(void *)store;
}

tlsv_x509_store *tlsv_x509_store_new(tlsv_error *err)
{
    X509_STORE *s = X509_STORE_new();
    if (!s) {
        set_oom(err, "creating a trust store");
        return NULL;
    }
    return (tlsv_x509_store *)(void *)s;
}

tlsv_x509_store *tlsv_x509_store_up_ref(tlsv_x509_store *store)
{
    if (store)
        X509_STORE_up_ref(xs(store));
    return store;
}

void tlsv_x509_store_free(tlsv_x509_store *store)
{
    if (store)
        X509_STORE_free(xs(store));
}

int tlsv_x509_store_add_ca_file(tlsv_x509_store *store, const char *path, tlsv_error *err)
{
    if (!store || !path) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "tlsv_x509_store_add_ca_file: %s is NULL", !store ? "store" : "path");
        return -1;
    }
    /* Open it ourselves first, so that a missing or unreadable file is
     * reported with the system's reason, and an empty one as empty. */
    FILE *f = fopen(path, "rb");
    if (!f) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "cannot read CA file '%s': %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    int rc = fstat(fileno(f), &st);
    int e = errno;
    fclose(f);
    if (rc != 0 || S_ISDIR(st.st_mode)) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "cannot read CA file '%s': %s", path, strerror(rc != 0 ? e : EISDIR));
        return -1;
    }
    if (S_ISREG(st.st_mode) && st.st_size == 0) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "CA file '%s' is empty", path);
        return -1;
    }
    ERR_clear_error();
    if (X509_STORE_load_file(xs(store), path) != 1) {
        char why[160];
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "cannot load CA file '%s': %s", path, ossl_reason(why, sizeof why));
        return -1;
    }
    ERR_clear_error();
    return 0;
}

int tlsv_x509_store_add_ca_dir(tlsv_x509_store *store, const char *path, tlsv_error *err)
{
    if (!store || !path) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "tlsv_x509_store_add_ca_dir: %s is NULL", !store ? "store" : "path");
        return -1;
    }
    /* libcrypto only records the path and looks into it during
     * verification; check now that it is a directory we can open. */
    DIR *d = opendir(path);
    if (!d) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "cannot open CA directory '%s': %s", path, strerror(errno));
        return -1;
    }
    closedir(d);
    ERR_clear_error();
    if (X509_STORE_load_path(xs(store), path) != 1) {
        char why[160];
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "cannot use CA directory '%s': %s", path, ossl_reason(why, sizeof why));
        return -1;
    }
    ERR_clear_error();
    return 0;
}

static int store_add_stack(X509_STORE *s, STACK_OF(X509) *certs, tlsv_error *err)
{
    int rc = 0;
    for (int i = 0; i < sk_X509_num(certs); i++) {
        if (X509_STORE_add_cert(s, sk_X509_value(certs, i)) != 1) {
            char why[160];
            tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                         "cannot add CA certificate %d to the trust store: %s", i + 1,
                         ossl_reason(why, sizeof why));
            rc = -1;
            break;
        }
    }
    sk_X509_pop_free(certs, X509_free);
    ERR_clear_error();
    return rc;
}

int tlsv_x509_store_add_ca_mem(tlsv_x509_store *store, const void *data, size_t len,
                               tlsv_error *err)
{
    if (!store || (!data && len > 0)) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "tlsv_x509_store_add_ca_mem: %s is NULL", !store ? "store" : "data");
        return -1;
    }
    STACK_OF(X509) *certs = NULL;
    const unsigned char *bytes = data;
    if (len > 0 && bytes[0] == 0x30) {
        /* Concatenated DER certificates. */
        if (len > LONG_MAX) {
            tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                         "DER data is too large");
            return -1;
        }
        certs = sk_X509_new_null();
        if (!certs) {
            set_oom(err, "reading DER");
            return -1;
        }
        ERR_clear_error();
        const unsigned char *p = bytes, *end = bytes + len;
        while (p < end) {
            X509 *x = d2i_X509(NULL, &p, (long)(end - p));
            if (!x) {
                char why[160];
                tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                             "certificate %d in DER data is malformed: %s",
                             sk_X509_num(certs) + 1, ossl_reason(why, sizeof why));
                sk_X509_pop_free(certs, X509_free);
                return -1;
            }
            if (!sk_X509_push(certs, x)) {
                X509_free(x);
                sk_X509_pop_free(certs, X509_free);
                set_oom(err, "reading DER");
                return -1;
            }
        }
    } else if (pem_read_all(data, len, "PEM data", &certs, err) < 0) {
        return -1;
    }
    return store_add_stack(xs(store), certs, err);
}

int tlsv_x509_store_add_default_paths(tlsv_x509_store *store, tlsv_error *err)
{
    if (!store) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "tlsv_x509_store_add_default_paths: store is NULL");
        return -1;
    }
    ERR_clear_error();
    if (X509_STORE_set_default_paths(xs(store)) != 1) {
        char why[160];
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "cannot use the default CA locations ('%s', '%s'): %s",
                     X509_get_default_cert_file(), X509_get_default_cert_dir(),
                     ossl_reason(why, sizeof why));
        return -1;
    }
    /* Missing default locations are not an error (as in OpenSSL). */
    ERR_clear_error();
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Verification                                                           */
/* ---------------------------------------------------------------------- */

/* The alert for a verification result: OpenSSL's own table
 * (ssl/statem/statem_lib.c, ssl_x509err2alert), so that a peer sees the
 * alert it would see from an OpenSSL endpoint. */
static int alert_for_verify_code(int code)
{
    switch (code) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
        return TLSV_ALERT_UNKNOWN_CA;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CRL_HAS_EXPIRED:
        return TLSV_ALERT_CERTIFICATE_EXPIRED;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
    case X509_V_ERR_EMAIL_MISMATCH:
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
    case X509_V_ERR_DANE_NO_MATCH:
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
        return TLSV_ALERT_BAD_CERTIFICATE;
    case X509_V_ERR_INVALID_PURPOSE:
        return TLSV_ALERT_UNSUPPORTED_CERTIFICATE;
    case X509_V_ERR_CERT_REVOKED:
        return TLSV_ALERT_CERTIFICATE_REVOKED;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
        return TLSV_ALERT_DECRYPT_ERROR;
    case X509_V_ERR_UNSPECIFIED:
    case X509_V_ERR_OUT_OF_MEM:
    case X509_V_ERR_INVALID_CALL:
    case X509_V_ERR_STORE_LOOKUP:
        return TLSV_ALERT_INTERNAL_ERROR;
    case X509_V_ERR_APPLICATION_VERIFICATION:
        return TLSV_ALERT_HANDSHAKE_FAILURE;
    default:
        return TLSV_ALERT_CERTIFICATE_UNKNOWN;
    }
}

const char *tlsv_x509_verify_code_string(int code)
{
    const char *s = X509_verify_cert_error_string(code);
    return s ? s : "unknown verify error";
}

/* Whether name is an IP address literal (the test Python applies). */
static int is_ip_literal(const char *name)
{
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
    ERR_clear_error();
    if (!ip)
        return 0;
    ASN1_OCTET_STRING_free(ip);
    return 1;
}

/* Python's verify_message for a failed name check. */
static void set_name_mismatch(tlsv_error *err, int ip, const char *name, int code, int depth)
{
    tlsv_err_set(err, TLSV_R_CERTIFICATE_VERIFY_FAILED, TLSV_ALERT_BAD_CERTIFICATE,
                 TLSV_SIDE_LOCAL,
                 "certificate verify failed: %s mismatch, certificate is not valid for "
                 "'%.200s'. (verify code %d, depth %d)",
                 ip ? "IP address" : "Hostname", name, code, depth);
}

/* Refuses names that would change the check's meaning rather than fail it:
 * an empty name skips the check in libcrypto, and a leading dot turns it
 * into "any host in this domain" (Python refuses both the same way). */
static int bad_name_argument(const char *fn, const char *name, tlsv_error *err)
{
    if (name && name[0] != '\0' && name[0] != '.')
        return 0;
    if (!name)
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "%s: no name to check", fn);
    else if (name[0] == '\0')
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "%s: the name to check is empty (pass NULL for no name check)", fn);
    else
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "%s: the name to check, '%.200s', starts with a dot", fn, name);
    return -1;
}

int tlsv_x509_verify(tlsv_x509_store *store, const tlsv_x509_chain *chain,
                     tlsv_x509_purpose purpose, const char *name,
                     tlsv_x509_verify_result *result, tlsv_error *err)
{
    if (result) {
        result->code = X509_V_OK;
        result->depth = -1;
    }
    if (!store || !chain || chain->n == 0) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "tlsv_x509_verify: %s",
                     !store ? "no trust store" : "no certificate to verify (empty chain)");
        return -1;
    }
    if (purpose != TLSV_X509_PURPOSE_SERVER_AUTH && purpose != TLSV_X509_PURPOSE_CLIENT_AUTH) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "tlsv_x509_verify: unknown purpose %d", (int)purpose);
        return -1;
    }
    if (name && bad_name_argument("tlsv_x509_verify", name, err) < 0)
        return -1;

    ERR_clear_error();
    int ret = -1;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    if (!ctx || !untrusted)
        goto oom;
    /* The stack borrows the chain's certificates (sk_X509_free, not
     * pop_free, at the end). */
    for (size_t i = 1; i < chain->n; i++)
        if (!sk_X509_push(untrusted, chain->certs[i].x509))
            goto oom;
    if (X509_STORE_CTX_init(ctx, xs(store), chain->certs[0].x509, untrusted) != 1)
        goto oom;
    /* OpenSSL's parameter set for TLS peers: purpose and trust of a TLS
     * server (or client) certificate, as libssl applies it. */
    if (X509_STORE_CTX_set_default(ctx, purpose == TLSV_X509_PURPOSE_SERVER_AUTH ? "ssl_server"
                                                                                   : "ssl_client") != 1)
        goto internal;
    int ip = 0;
    if (name) {
        X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
        ip = is_ip_literal(name);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name)
                    : X509_VERIFY_PARAM_set1_host(param, name, 0);
        if (ok != 1) {
            ERR_clear_error();
            tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                         "tlsv_x509_verify: '%.200s' is not a valid host name or IP address",
                         name);
            goto out;
        }
    }

    int rc = X509_verify_cert(ctx);
    if (rc == 1) {
        ret = 0;
        goto out;
    }
    int code = X509_STORE_CTX_get_error(ctx);
    int depth = X509_STORE_CTX_get_error_depth(ctx);
    if (result) {
        result->code = code;
        result->depth = depth;
    }
    if (code == X509_V_ERR_HOSTNAME_MISMATCH || code == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        set_name_mismatch(err, code == X509_V_ERR_IP_ADDRESS_MISMATCH, name, code, depth);
        goto out;
    }
    if (code == X509_V_OK)
        goto internal; /* failed without saying why: an internal error */
    char subject[SUBJECT_MAX] = "";
    X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
    if (cur)
        name_line(cur, subject, sizeof subject);
    if (subject[0])
        tlsv_err_set(err, TLSV_R_CERTIFICATE_VERIFY_FAILED, alert_for_verify_code(code),
                     TLSV_SIDE_LOCAL,
                     "certificate verify failed: %s (verify code %d, depth %d, subject '%s')",
                     tlsv_x509_verify_code_string(code), code, depth, subject);
    else
        tlsv_err_set(err, TLSV_R_CERTIFICATE_VERIFY_FAILED, alert_for_verify_code(code),
                     TLSV_SIDE_LOCAL, "certificate verify failed: %s (verify code %d, depth %d)",
                     tlsv_x509_verify_code_string(code), code, depth);
    goto out;

oom:
    set_oom(err, "verifying a certificate chain");
    goto out;
internal: {
    char why[160];
    tlsv_err_set(err, TLSV_R_CERTIFICATE_VERIFY_FAILED, TLSV_ALERT_INTERNAL_ERROR,
                 TLSV_SIDE_LOCAL, "certificate verify failed: internal error in libcrypto: %s",
                 ossl_reason(why, sizeof why));
}
out:
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    ERR_clear_error();
    return ret;
}

int tlsv_x509_check_name(const tlsv_x509_chain *chain, const char *name, tlsv_error *err)
{
    if (!chain || chain->n == 0) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "tlsv_x509_check_name: no certificate (empty chain)");
        return -1;
    }
    if (bad_name_argument("tlsv_x509_check_name", name, err) < 0)
        return -1;
    X509 *leaf = chain->certs[0].x509;
    int ip = is_ip_literal(name);
    int rc = ip ? X509_check_ip_asc(leaf, name, 0)
                : X509_check_host(leaf, name, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL);
    ERR_clear_error();
    if (rc == 1)
        return 0;
    if (rc == -2) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "tlsv_x509_check_name: '%.200s' is not a valid host name or IP address",
                     name);
        return -1;
    }
    if (rc < 0) {
        tlsv_err_set(err, TLSV_R_CERTIFICATE_VERIFY_FAILED, TLSV_ALERT_INTERNAL_ERROR,
                     TLSV_SIDE_LOCAL, "certificate name check failed: internal error in libcrypto");
        return -1;
    }
    set_name_mismatch(err, ip,
                      name, ip ? X509_V_ERR_IP_ADDRESS_MISMATCH : X509_V_ERR_HOSTNAME_MISMATCH, 0);
    return -1;
}

/* ---------------------------------------------------------------------- */
/* Generated certificates (for demos and tests; never for production)     */
/* (added for tlsv_ctx_use_generated_certificate)                        */
/* ---------------------------------------------------------------------- */

#include <openssl/bn.h>
#include <openssl/rand.h>

/* A name fit for the CN and a DNS (or IP) subjectAltName, with no
 * characters that need escaping anywhere. */
static int generated_name_ok(const char *cn)
{
    size_t n = strlen(cn);
    if (n == 0 || n > 64)
        return 0;
    for (const char *p = cn; *p; p++) {
        char ch = *p;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
                 ch == '*' || ch == ':';
        if (!ok)
            return 0;
    }
    return 1;
}

/* Adds one extension written in OpenSSL's configuration syntax (fixed
 * texts only: user input never goes through this parser). */
static int add_conf_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/* Appends a DNS name (dns 1) or an IP address literal (dns 0) to gens. */
static int push_alt_name(GENERAL_NAMES *gens, int dns, const char *value)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    if (!gn)
        return 0;
    if (dns) {
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        if (!s || !ASN1_STRING_set(s, value, -1)) {
            ASN1_IA5STRING_free(s);
            GENERAL_NAME_free(gn);
            return 0;
        }
        GENERAL_NAME_set0_value(gn, GEN_DNS, s);
    } else {
        ASN1_OCTET_STRING *ip = a2i_IPADDRESS(value);
        if (!ip) {
            GENERAL_NAME_free(gn);
            return 0;
        }
        GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
    }
    if (!sk_GENERAL_NAME_push(gens, gn)) {
        GENERAL_NAME_free(gn);
        return 0;
    }
    return 1;
}

int tlsv_x509_generate_self_signed(const char *common_name, tlsv_x509_chain **chain,
                                   char **key_pem, size_t *key_pem_len, tlsv_error *err)
{
    if (!chain || !key_pem || !key_pem_len) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "tlsv_x509_generate_self_signed: an output pointer is NULL");
        return -1;
    }
    *chain = NULL;
    *key_pem = NULL;
    *key_pem_len = 0;
    const char *cn = common_name ? common_name : "localhost";
    if (!generated_name_ok(cn)) {
        tlsv_err_set(err, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "'%.80s' cannot name a generated certificate: use a host name or an IP "
                     "address of 1 to 64 characters (letters, digits, '-', '.', '_', '*', ':')",
                     cn);
        return -1;
    }
    int ip = is_ip_literal(cn);

    ERR_clear_error();
    const char *step = "generating a P-256 key";
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = key ? X509_new() : NULL;
    BIO *kb = x ? BIO_new(BIO_s_secmem()) : NULL;
    GENERAL_NAMES *gens = kb ? sk_GENERAL_NAME_new_null() : NULL;
    BIGNUM *serial = NULL;
    char *pem = NULL;
    size_t pem_len = 0;
    int ok = gens != NULL;

    if (ok) {
        step = "choosing a serial number";
        unsigned char rnd[16];
        ok = RAND_bytes(rnd, sizeof rnd) == 1;
        if (ok) {
            rnd[0] = (unsigned char)((rnd[0] & 0x7f) | 0x40); /* positive, 16 bytes */
            serial = BN_bin2bn(rnd, (int)sizeof rnd, NULL);
            ok = serial && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) != NULL;
        }
    }
    if (ok) {
        step = "filling in the certificate";
        X509_NAME *name = X509_get_subject_name(x);
        ok = X509_set_version(x, X509_VERSION_3) == 1 &&
             X509_gmtime_adj(X509_getm_notBefore(x), -3600L) != NULL &&
             X509_gmtime_adj(X509_getm_notAfter(x), 86400L - 3600L) != NULL &&
             X509_set_pubkey(x, key) == 1 &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
                                        -1, 0) == 1 &&
             X509_set_issuer_name(x, name) == 1;
    }
    if (ok) {
        step = "adding the extensions";
        X509V3_CTX v3;
        X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
        ok = push_alt_name(gens, !ip, cn) &&
             (strcmp(cn, "127.0.0.1") == 0 || push_alt_name(gens, 0, "127.0.0.1")) &&
             X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1 &&
             add_conf_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") &&
             add_conf_ext(x, &v3, NID_ext_key_usage, "serverAuth,clientAuth") &&
             add_conf_ext(x, &v3, NID_subject_key_identifier, "hash");
    }
    if (ok) {
        step = "signing the certificate";
        ok = X509_sign(x, key, EVP_sha256()) > 0;
    }
    if (ok) {
        step = "encoding the private key";
        char *data = NULL;
        long got = 0;
        ok = PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) == 1 &&
             (got = BIO_get_mem_data(kb, &data)) > 0 && data != NULL;
        if (ok) {
            pem_len = (size_t)got;
            pem = malloc(pem_len + 1);
            ok = pem != NULL;
            if (ok) {
                memcpy(pem, data, pem_len);
                pem[pem_len] = '\0';
            }
        }
    }
    if (!ok) {
        char why[160];
        tlsv_err_set(err, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_NONE, TLSV_SIDE_LOCAL,
                     "could not generate a certificate for '%s' (%s): %s", cn, step,
                     ossl_reason(why, sizeof why));
    }
    tlsv_x509_chain *c = NULL;
    if (ok) {
        c = tlsv_x509_chain_new(err);
        ok = c != NULL;
        if (ok) {
            X509 *leaf = x;
            x = NULL; /* chain_push owns it now, also on failure */
            ok = chain_push(c, leaf, NULL, 0, err) == 0;
        }
    }
    EVP_PKEY_free(key);
    X509_free(x);
    BIO_free(kb); /* a secure-memory BIO: the key's PEM is cleared */
    GENERAL_NAMES_free(gens);
    BN_free(serial);
    ERR_clear_error();
    if (!ok) {
        tlsv_x509_chain_free(c);
        if (pem) {
            OPENSSL_cleanse(pem, pem_len);
            free(pem);
        }
        return -1;
    }
    *chain = c;
    *key_pem = pem;
    *key_pem_len = pem_len;
    return 0;
}
