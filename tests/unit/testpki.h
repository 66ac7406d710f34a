/*
 * testpki.h -- a throw-away PKI for in-memory tests, made with libcrypto at
 * test time in a temporary directory: a CA and leaves signed by it.
 *
 *   testpki_init()                      makes the directory and the CA
 *   testpki_leaf(name, kind, san, out)  writes <dir>/<name>.pem holding the
 *                                       leaf certificate, then its key
 *   testpki_leaf_ku(..., ku, out)       the same with a keyUsage extension
 *                                       (OpenSSL's syntax, e.g. "critical,
 *                                       keyAgreement")
 *   testpki_ca_path()                   the CA certificate file
 *   testpki_cleanup()                   removes everything
 */
#ifndef TLSV_TESTPKI_H
#define TLSV_TESTPKI_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum testpki_kind { TESTPKI_EC256, TESTPKI_EC384, TESTPKI_RSA2048, TESTPKI_ED25519 };

static char testpki_dir[256];
static long testpki_not_after = 86400L * 30; /* seconds from now, for the next leaf */
static const char *testpki_key_usage;         /* keyUsage of the next leaf, NULL: none */
static EVP_PKEY *testpki_ca_key;
static X509 *testpki_ca_cert;

static EVP_PKEY *testpki_key(enum testpki_kind kind)
{
    switch (kind) {
    case TESTPKI_EC256: return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case TESTPKI_EC384: return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    case TESTPKI_RSA2048: return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    case TESTPKI_ED25519: return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    }
    return NULL;
}

static X509 *testpki_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                          const char *san, int is_ca)
{
    static long serial = 1;
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), is_ca ? 86400L * 30 : testpki_not_after);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *ext;
    if (is_ca) {
        ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    } else {
        if (san) {
            ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
            X509_add_ext(x, ext, -1);
            X509_EXTENSION_free(ext);
        }
        if (testpki_key_usage) {
            ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, testpki_key_usage);
            X509_add_ext(x, ext, -1);
            X509_EXTENSION_free(ext);
        }
    }
    const EVP_MD *md = EVP_PKEY_get_id(issuer_key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
    X509_sign(x, issuer_key, md);
    return x;
}

static inline int testpki_init(void)
{
    snprintf(testpki_dir, sizeof testpki_dir, "/tmp/tlsv-testpki-XXXXXX");
    if (!mkdtemp(testpki_dir))
        return -1;
    testpki_ca_key = testpki_key(TESTPKI_EC256);
    testpki_ca_cert = testpki_cert(testpki_ca_key, "tlsv test CA", NULL, testpki_ca_key, NULL, 1);
    char path[512];
    snprintf(path, sizeof path, "%s/ca.pem", testpki_dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    PEM_write_X509(f, testpki_ca_cert);
    fclose(f);
    return 0;
}

static inline const char *testpki_ca_path(void)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/ca.pem", testpki_dir);
    return path;
}

/* Writes <dir>/<name>.pem: certificate then private key. Returns the path. */
static inline const char *testpki_leaf(const char *name, enum testpki_kind kind, const char *san,
                                char *out, size_t outlen)
{
    EVP_PKEY *key = testpki_key(kind);
    X509 *x = testpki_cert(key, name, testpki_ca_cert, testpki_ca_key, san, 0);
    snprintf(out, outlen, "%s/%s.pem", testpki_dir, name);
    FILE *f = fopen(out, "w");
    if (f) {
        PEM_write_X509(f, x);
        PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
        fclose(f);
    }
    X509_free(x);
    EVP_PKEY_free(key);
    return out;
}

/* Like testpki_leaf, with a certificate that expired yesterday. */
static inline const char *testpki_leaf_expired(const char *name, enum testpki_kind kind, const char *san,
                                        char *out, size_t outlen)
{
    testpki_not_after = -86400L;
    testpki_leaf(name, kind, san, out, outlen);
    testpki_not_after = 86400L * 30;
    return out;
}

/* Like testpki_leaf, with a keyUsage extension `ku`. */
static inline const char *testpki_leaf_ku(const char *name, enum testpki_kind kind, const char *san,
                                          const char *ku, char *out, size_t outlen)
{
    testpki_key_usage = ku;
    testpki_leaf(name, kind, san, out, outlen);
    testpki_key_usage = NULL;
    return out;
}

static inline void testpki_cleanup(void)
{
    X509_free(testpki_ca_cert);
    EVP_PKEY_free(testpki_ca_key);
    testpki_ca_cert = NULL;
    testpki_ca_key = NULL;
    if (testpki_dir[0]) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", testpki_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "testpki: could not remove %s\n", testpki_dir);
    }
}

#endif /* TLSV_TESTPKI_H */
