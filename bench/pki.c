/*
 * pki.c -- the certificates both libraries load: for each key type (ECDSA
 * P-256, RSA-2048) a CA and a leaf signed by it, with subjectAltName
 * DNS:bench.tlsv.test, made with libcrypto and written as PEM files:
 *
 *   DIR/ecdsa-ca.pem  DIR/ecdsa-leaf.pem  DIR/ecdsa-leaf.key
 *   DIR/rsa-ca.pem    DIR/rsa-leaf.pem    DIR/rsa-leaf.key
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bench.h"

struct pki pki;

static const char *const key_prefix[KEY__COUNT] = {"ecdsa", "rsa"};

static EVP_PKEY *new_key(enum key_type type)
{
    EVP_PKEY *k = type == KEY_ECDSA ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
                                    : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    if (!k)
        fatal("cannot generate a %s key", key_prefix[type]);
    return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!ext || !X509_add_ext(x, ext, -1))
        fatal("cannot add the certificate extension %s = %s", OBJ_nid2sn(nid), value);
    X509_EXTENSION_free(ext);
}

/* A certificate for `key` named `cn`, signed by issuer_key (self-signed when
 * issuer is NULL), valid from an hour ago for 30 days. */
static X509 *new_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, long serial)
{
    X509 *x = X509_new();
    if (!x || !X509_set_version(x, X509_VERSION_3) ||
        !ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400) || !X509_set_pubkey(x, key))
        fatal("cannot fill in a certificate");
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) ||
        !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name))
        fatal("cannot name a certificate");
    X509 *signer = issuer ? issuer : x;
    add_ext(x, signer, NID_subject_key_identifier, "hash");
    add_ext(x, signer, NID_authority_key_identifier, "keyid:always");
    if (!issuer) {
        add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, signer, NID_key_usage, "critical,digitalSignature");
        add_ext(x, signer, NID_ext_key_usage, "serverAuth");
        add_ext(x, signer, NID_subject_alt_name, "DNS:" BENCH_HOSTNAME);
    }
    if (!X509_sign(x, issuer_key, EVP_sha256()))
        fatal("cannot sign a certificate");
    return x;
}

static void write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    if (!f)
        fatal("cannot create %s: %s", path, strerror(errno));
    int ok = cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (fclose(f) != 0 || !ok)
        fatal("cannot write %s", path);
}

static void make_pair(enum key_type type)
{
    EVP_PKEY *ca_key = new_key(type), *leaf_key = new_key(type);
    X509 *ca = new_cert(ca_key, type == KEY_ECDSA ? "tlsv-bench ECDSA CA" : "tlsv-bench RSA CA",
                        NULL, ca_key, 1);
    X509 *leaf = new_cert(leaf_key, BENCH_HOSTNAME, ca, ca_key, 2);
    write_pem(pki.ca[type], ca, NULL);
    write_pem(pki.cert[type], leaf, NULL);
    write_pem(pki.key[type], NULL, leaf_key);
    X509_free(leaf);
    X509_free(ca);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(ca_key);
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

void pki_create(const char *dir)
{
    if (dir) {
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            fatal("cannot create %s: %s", dir, strerror(errno));
        if (snprintf(pki.dir, sizeof pki.dir, "%s", dir) >= (int)sizeof pki.dir)
            fatal("directory name too long: %s", dir);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(pki.dir, sizeof pki.dir, "%s/tlsv-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(pki.dir))
            fatal("cannot create a temporary directory: %s", strerror(errno));
        pki.remove_on_cleanup = 1;
    }
    for (int t = 0; t < KEY__COUNT; t++) {
        snprintf(pki.ca[t], sizeof pki.ca[t], "%s/%s-ca.pem", pki.dir, key_prefix[t]);
        snprintf(pki.cert[t], sizeof pki.cert[t], "%s/%s-leaf.pem", pki.dir, key_prefix[t]);
        snprintf(pki.key[t], sizeof pki.key[t], "%s/%s-leaf.key", pki.dir, key_prefix[t]);
        /* a kept directory is reused as it is: the same certificates in every run */
        if (!file_exists(pki.ca[t]) || !file_exists(pki.cert[t]) || !file_exists(pki.key[t]))
            make_pair((enum key_type)t);
    }
}

void pki_cleanup(void)
{
    if (!pki.remove_on_cleanup)
        return;
    pki.remove_on_cleanup = 0;
    for (int t = 0; t < KEY__COUNT; t++) {
        unlink(pki.ca[t]);
        unlink(pki.cert[t]);
        unlink(pki.key[t]);
    }
    if (rmdir(pki.dir) != 0)
        fprintf(stderr, "tlsv-bench: cannot remove %s: %s\n", pki.dir, strerror(errno));
}
