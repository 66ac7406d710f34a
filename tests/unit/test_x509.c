/*
 * test_x509.c -- certificate chains, trust stores and verification
 * (src/x509.h).
 *
 * The test PKI is generated here, at run time, with libcrypto (keys with
 * EVP_PKEY_Q_keygen, certificates with X509_new / X509_sign), so that
 * nothing is read from outside the repository and nothing expires:
 *
 *   root CA (P-256) --+-- leaf        SAN localhost, *.example.com, 127.0.0.1
 *                     +-- expired / not yet valid leaves
 *                     +-- leaves with a partial wildcard, without SAN,
 *                     |   with extendedKeyUsage clientAuth / serverAuth
 *                     +-- intermediate CA -- leaf2 (SAN localhost)
 *   other CA (unrelated), self-signed leaf,
 *   self-signed RSA-2048 / P-256 / P-384 / Ed25519 / P-521 certificates.
 *
 * Files (CA file, hashed CA directory, bad inputs) live in a private
 * directory under /tmp made by mkdtemp and removed at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "x509.h"

/* ======================================================================
 * The test PKI
 * ====================================================================== */

#define DAY (24L * 60L * 60L)

typedef struct cert_spec {
    const char *cn;
    const char *san;        /* "DNS:a,IP:1.2.3.4" or NULL */
    const char *eku;        /* "serverAuth", "clientAuth" or NULL */
    int ca;                 /* basicConstraints CA:TRUE + keyCertSign */
    long not_before;        /* seconds from now */
    long not_after;         /* seconds from now */
} cert_spec;

static EVP_PKEY *keygen(const char *kind)
{
    EVP_PKEY *k;
    if (strcmp(kind, "RSA") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    else if (strcmp(kind, "ED25519") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    else
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", kind); /* "P-256", "P-384", "P-521" */
    assert_non_null(k);
    return k;
}

static void add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* A certificate for `key`, issued by (issuer, issuer_key), or self-signed
 * when issuer is NULL. */
static X509 *make_cert(const cert_spec *spec, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
    static long serial = 1;
    X509 *x = X509_new();
    assert_non_null(x);
    assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), spec->not_before));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), spec->not_after));
    X509_NAME *name = X509_get_subject_name(x);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                                (const unsigned char *)spec->cn, -1, -1, 0),
                     1);
    assert_int_equal(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name), 1);
    assert_int_equal(X509_set_pubkey(x, key), 1);

    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    add_ext(x, &v3, NID_subject_key_identifier, "hash");
    if (issuer)
        add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
    if (spec->ca) {
        add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE");
    }
    if (spec->san)
        add_ext(x, &v3, NID_subject_alt_name, spec->san);
    if (spec->eku)
        add_ext(x, &v3, NID_ext_key_usage, spec->eku);

    EVP_PKEY *signer = issuer ? issuer_key : key;
    const EVP_MD *md = EVP_PKEY_is_a(signer, "ED25519") ? NULL : EVP_sha256();
    assert_true(X509_sign(x, signer, md) > 0);
    return x;
}

static const cert_spec LEAF_SPEC = {"leaf.test", "DNS:localhost,DNS:*.example.com,IP:127.0.0.1",
                                    NULL, 0, -DAY, 30 * DAY};

typedef struct pki {
    char dir[64];                 /* private temporary directory */
    EVP_PKEY *root_key, *inter_key, *other_key, *leaf_key;
    X509 *root, *inter, *other_ca;
    X509 *leaf;                   /* issued by root, LEAF_SPEC */
    X509 *leaf2;                  /* issued by inter, SAN localhost */
    X509 *self_signed;            /* SAN localhost, not a CA */
    X509 *expired, *not_yet_valid;
    X509 *partial_wildcard;       /* SAN DNS:f*.example.com */
    X509 *cn_only;                /* CN cn-only.test, no SAN at all */
    X509 *client_only;            /* EKU clientAuth, SAN localhost */
    X509 *server_only;            /* EKU serverAuth, SAN localhost */
} pki;

static pki P;

/* ---- encoding helpers ---- */

/* PEM text of n certificates, malloc'ed and NUL-terminated. */
static char *pem_of(X509 *const *certs, size_t n, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    assert_non_null(b);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(PEM_write_bio_X509(b, certs[i]), 1);
    char *p = NULL;
    long got = BIO_get_mem_data(b, &p);
    assert_true(got > 0);
    char *out = malloc((size_t)got + 1);
    assert_non_null(out);
    memcpy(out, p, (size_t)got);
    out[got] = '\0';
    BIO_free(b);
    if (len)
        *len = (size_t)got;
    return out;
}

/* DER of one certificate, OPENSSL_malloc'ed. */
static unsigned char *der_of(X509 *x, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    assert_true(n > 0);
    *len = (size_t)n;
    return der;
}

/* A tlsv chain of the given certificates, through the wire path (DER). */
static tlsv_x509_chain *chain_of(X509 *const *certs, size_t n)
{
    unsigned char *ders[8];
    tlsv_x509_der list[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        ders[i] = der_of(certs[i], &list[i].len);
        list[i].data = ders[i];
    }
    tlsv_error err;
    tlsv_x509_chain *c = tlsv_x509_chain_from_der(list, n, &err);
    assert_non_null(c);
    for (size_t i = 0; i < n; i++)
        OPENSSL_free(ders[i]);
    return c;
}

/* A store trusting the given CA certificates (added as PEM in memory). */
static tlsv_x509_store *store_of(X509 *const *cas, size_t n)
{
    tlsv_error err;
    tlsv_x509_store *s = tlsv_x509_store_new(&err);
    assert_non_null(s);
    if (n) {
        size_t len;
        char *pem = pem_of(cas, n, &len);
        assert_int_equal(tlsv_x509_store_add_ca_mem(s, pem, len, &err), 0);
        free(pem);
    }
    return s;
}

static void path_in(char *buf, size_t len, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", P.dir, name);
    assert_true(n > 0 && (size_t)n < len);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char sub[512];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                remove_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Asserts the shape of a verification failure. */
static void assert_verify_failure(const tlsv_error *err, const tlsv_x509_verify_result *res,
                                  int code, int alert, const char *needle)
{
    assert_int_equal(err->reason, TLSV_R_CERTIFICATE_VERIFY_FAILED);
    assert_int_equal(err->side, TLSV_SIDE_LOCAL);
    assert_int_equal(err->alert, alert);
    assert_int_equal(res->code, code);
    if (!strstr(err->message, needle))
        fail_msg("message \"%s\" lacks \"%s\"", err->message, needle);
    assert_non_null(strstr(err->message, "certificate verify failed: "));
    assert_int_equal(ERR_peek_error(), 0); /* the error queue is left clear */
}

static void assert_message_has(const tlsv_error *err, const char *needle)
{
    if (!strstr(err->message, needle))
        fail_msg("message \"%s\" lacks \"%s\"", err->message, needle);
}

/* ---- group setup / teardown ---- */

static int pki_setup(void **state)
{
    (void)state;
    memset(&P, 0, sizeof P);
    snprintf(P.dir, sizeof P.dir, "/tmp/tlsv-test-x509-XXXXXX");
    if (!mkdtemp(P.dir))
        return -1;

    P.root_key = keygen("P-256");
    P.inter_key = keygen("P-256");
    P.other_key = keygen("P-256");
    P.leaf_key = keygen("P-256");

    const cert_spec root = {"tlsv Test Root CA", NULL, NULL, 1, -DAY, 365 * DAY};
    const cert_spec inter = {"tlsv Test Intermediate CA", NULL, NULL, 1, -DAY, 365 * DAY};
    const cert_spec other = {"tlsv Unrelated CA", NULL, NULL, 1, -DAY, 365 * DAY};
    P.root = make_cert(&root, P.root_key, NULL, NULL);
    P.inter = make_cert(&inter, P.inter_key, P.root, P.root_key);
    P.other_ca = make_cert(&other, P.other_key, NULL, NULL);

    P.leaf = make_cert(&LEAF_SPEC, P.leaf_key, P.root, P.root_key);
    const cert_spec leaf2 = {"leaf2.test", "DNS:localhost", NULL, 0, -DAY, 30 * DAY};
    P.leaf2 = make_cert(&leaf2, P.leaf_key, P.inter, P.inter_key);
    const cert_spec self = {"self.test", "DNS:localhost", NULL, 0, -DAY, 30 * DAY};
    P.self_signed = make_cert(&self, P.leaf_key, NULL, NULL);
    const cert_spec expired = {"expired.test", "DNS:localhost", NULL, 0, -10 * DAY, -DAY};
    P.expired = make_cert(&expired, P.leaf_key, P.root, P.root_key);
    const cert_spec future = {"future.test", "DNS:localhost", NULL, 0, DAY, 30 * DAY};
    P.not_yet_valid = make_cert(&future, P.leaf_key, P.root, P.root_key);
    const cert_spec partial = {"partial.test", "DNS:f*.example.com", NULL, 0, -DAY, 30 * DAY};
    P.partial_wildcard = make_cert(&partial, P.leaf_key, P.root, P.root_key);
    const cert_spec cn_only = {"cn-only.test", NULL, NULL, 0, -DAY, 30 * DAY};
    P.cn_only = make_cert(&cn_only, P.leaf_key, P.root, P.root_key);
    const cert_spec client = {"client.test", "DNS:localhost", "clientAuth", 0, -DAY, 30 * DAY};
    P.client_only = make_cert(&client, P.leaf_key, P.root, P.root_key);
    const cert_spec server = {"server.test", "DNS:localhost", "serverAuth", 0, -DAY, 30 * DAY};
    P.server_only = make_cert(&server, P.leaf_key, P.root, P.root_key);
    return 0;
}

static int pki_teardown(void **state)
{
    (void)state;
    X509 *certs[] = {P.root, P.inter, P.other_ca, P.leaf, P.leaf2, P.self_signed, P.expired,
                     P.not_yet_valid, P.partial_wildcard, P.cn_only, P.client_only,
                     P.server_only};
    for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++)
        X509_free(certs[i]);
    EVP_PKEY_free(P.root_key);
    EVP_PKEY_free(P.inter_key);
    EVP_PKEY_free(P.other_key);
    EVP_PKEY_free(P.leaf_key);
    if (P.dir[0])
        remove_tree(P.dir);
    return 0;
}

/* ======================================================================
 * Verification and names
 * ====================================================================== */

/* The leaf under the root verifies, for every name its SANs cover. */
static void verify_ok_for_each_san(void **state)
{
    (void)state;
    tlsv_x509_store *store = store_of(&P.root, 1);
    tlsv_x509_chain *chain = chain_of(&P.leaf, 1);
    const char *names[] = {NULL, "localhost", "LocalHost", "127.0.0.1", "a.example.com",
                           "WWW.Example.COM"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        tlsv_error err = {0};
        tlsv_x509_verify_result res = {-7, -7};
        int rc = tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, names[i], &res,
                                  &err);
        if (rc != 0)
            fail_msg("name %s: %s", names[i] ? names[i] : "(none)", err.message);
        assert_int_equal(res.code, 0);
        assert_int_equal(res.depth, -1);
        if (names[i])
            assert_int_equal(tlsv_x509_check_name(chain, names[i], &err), 0);
    }
    /* No purpose restriction in the leaf: it also authenticates a client. */
    tlsv_error err;
    assert_int_equal(
        tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_CLIENT_AUTH, NULL, NULL, &err), 0);
    tlsv_x509_chain_free(chain);
    tlsv_x509_store_free(store);
}

static void verify_wrong_host(void **state)
{
    (void)state;
    tlsv_x509_store *store = store_of(&P.root, 1);
    tlsv_x509_chain *chain = chain_of(&P.leaf, 1);
    tlsv_error err;
    tlsv_x509_verify_result res;
    assert_int_equal(tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "example.org",
                                      &res, &err),
                     -1);
    assert_verify_failure(&err, &res, X509_V_ERR_HOSTNAME_MISMATCH, TLSV_ALERT_BAD_CERTIFICATE,
                          "certificate verify failed: Hostname mismatch, certificate is not "
                          "valid for 'example.org'.");
    assert_int_equal(res.depth, 0);
    assert_message_has(&err, "depth 0");
    assert_string_equal(tlsv_x509_verify_code_string(res.code), "hostname mismatch");

    /* The name check alone says the same. */
    tlsv_error err2;
    assert_int_equal(tlsv_x509_check_name(chain, "example.org", &err2), -1);
    assert_int_equal(err2.reason, TLSV_R_CERTIFICATE_VERIFY_FAILED);
    assert_int_equal(err2.alert, TLSV_ALERT_BAD_CERTIFICATE);
    assert_message_has(&err2, "Hostname mismatch, certificate is not valid for 'example.org'.");

    /* A leading dot would make it "any host under example.com": refused. */
    assert_int_equal(tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH,
                                      ".example.com", &res, &err),
                     -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    assert_message_has(&err, "starts with a dot");
    assert_int_equal(tlsv_x509_check_name(chain, ".example.com", &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);

    /* An empty name would disable the check: refused. */
    assert_int_equal(
        tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "", &res, &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    assert_int_equal(tlsv_x509_check_name(chain, "", &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    tlsv_x509_chain_free(chain);
    tlsv_x509_store_free(store);
}

/* "*.example.com": one left-most label only; no partial wildcards; the CN
 * is never used when there are SANs, and is used when there are none. */
static void verify_wildcard_rules(void **state)
{
    (void)state;
    tlsv_x509_store *store = store_of(&P.root, 1);
    tlsv_x509_chain *chain = chain_of(&P.leaf, 1);
    static const struct {
        const char *name;
        int ok;
    } cases[] = {
        {"a.example.com", 1},   {"xn--bcher-kva.example.com", 1},
        {"a.b.example.com", 0}, {"example.com", 0},
        {"a.example.com.evil.test", 0},
        {"aexample.com", 0},    {"leaf.test", 0}, /* the CN, but SANs exist */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tlsv_error err = {0};
        tlsv_x509_verify_result res;
        int rc = tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, cases[i].name,
                                  &res, &err);
        if (cases[i].ok) {
            if (rc != 0)
                fail_msg("%s should match: %s", cases[i].name, err.message);
            assert_int_equal(tlsv_x509_check_name(chain, cases[i].name, &err), 0);
        } else {
            if (rc != -1)
                fail_msg("%s should not match", cases[i].name);
            assert_int_equal(res.code, X509_V_ERR_HOSTNAME_MISMATCH);
            assert_int_equal(err.alert, TLSV_ALERT_BAD_CERTIFICATE);
            assert_int_equal(tlsv_x509_check_name(chain, cases[i].name, &err), -1);
        }
    }
    tlsv_x509_chain_free(chain);

    /* "f*.example.com" is a partial wildcard: it matches nothing. */
    chain = chain_of(&P.partial_wildcard, 1);
    tlsv_error err;
    tlsv_x509_verify_result res;
    assert_int_equal(tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH,
                                      "foo.example.com", &res, &err),
                     -1);
    assert_int_equal(res.code, X509_V_ERR_HOSTNAME_MISMATCH);
    assert_int_equal(tlsv_x509_check_name(chain, "foo.example.com", &err), -1);
    tlsv_x509_chain_free(chain);

    /* Without any SAN the subject CN is the name (Python's default,
     * hostname_checks_common_name = True). */
    chain = chain_of(&P.cn_only, 1);
    assert_int_equal(tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH,
                                      "cn-only.test", &res, &err),
                     0);
    assert_int_equal(tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH,
                                      "other.test", &res, &err),
                     -1);
    tlsv_x509_chain_free(chain);
    tlsv_x509_store_free(store);
}

static void verify_ip_addresses(void **state)
{
    (void)state;
    tlsv_x509_store *store = store_of(&P.root, 1);
    tlsv_x509_chain *chain = chain_of(&P.leaf, 1);
    tlsv_error err;
    tlsv_x509_verify_result res;
    assert_int_equal(
        tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "127.0.0.1", &res, &err),
        0);
    assert_int_equal(tlsv_x509_check_name(chain, "127.0.0.1", &err), 0);

    assert_int_equal(
        tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "127.0.0.2", &res, &err),
        -1);
    assert_verify_failure(&err, &res, X509_V_ERR_IP_ADDRESS_MISMATCH, TLSV_ALERT_BAD_CERTIFICATE,
                          "IP address mismatch, certificate is not valid for '127.0.0.2'.");
    assert_int_equal(tlsv_x509_check_name(chain, "127.0.0.2", &err), -1);
    assert_message_has(&err, "IP address mismatch, certificate is not valid for '127.0.0.2'.");

    assert_int_equal(
        tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "::1", &res, &err), -1);
    assert_int_equal(res.code, X509_V_ERR_IP_ADDRESS_MISMATCH);
    tlsv_x509_chain_free(chain);

    /* An IP address is not matched against DNS names, and the CN is not
     * consulted for an IP address even without SANs. */
    chain = chain_of(&P.cn_only, 1);
    assert_int_equal(
        tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "127.0.0.1", &res, &err),
        -1);
    assert_int_equal(res.code, X509_V_ERR_IP_ADDRESS_MISMATCH);
    tlsv_x509_chain_free(chain);
    tlsv_x509_store_free(store);
}

static void verify_self_signed_leaf_untrusted(void **state)
{
    (void)state;
    tlsv_x509_store *store = store_of(&P.root, 1);
    tlsv_x509_chain *chain = chain_of(&P.self_signed, 1);
    tlsv_error err;
    tlsv_x509_verify_result res;
    assert_int_equal(
        tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "localhost", &res, &err),
        -1);
    assert_verify_failure(&err, &res, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
                          TLSV_ALERT_UNKNOWN_CA,
                          "certificate verify failed: self-signed certificate");
    assert_int_equal(res.depth, 0);
    assert_message_has(&err, "depth 0");
    assert_message_has(&err, "CN=self.test");
    tlsv_x509_chain_free(chain);
    tlsv_x509_store_free(store);
}

static void verify_unknown_issuer(void **state)
{
    (void)state;
    tlsv_x509_store *store = store_of(&P.other_ca, 1); /* trusts someone else */
    tlsv_x509_chain *chain = chain_of(&P.leaf, 1);
    tlsv_error err;
    tlsv_x509_verify_result res;
    assert_int_equal(
        tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, NULL, &res, &err), -1);
    assert_verify_failure(&err, &res, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                          TLSV_ALERT_UNKNOWN_CA, "unable to get local issuer certificate");
    tlsv_x509_store_free(store);

    /* An empty store trusts nothing. */
    store = store_of(NULL, 0);
    assert_int_equal(
        tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, NULL, &res, &err), -1);
    assert_int_equal(err.alert, TLSV_ALERT_UNKNOWN_CA);
    tlsv_x509_chain_free(chain);
    tlsv_x509_store_free(store);
}

static void verify_validity_period(void **state)
{
    (void)state;
    tlsv_x509_store *store = store_of(&P.root, 1);
    tlsv_x509_chain *chain = chain_of(&P.expired, 1);
    tlsv_error err;
    tlsv_x509_verify_result res;
    assert_int_equal(
        tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "localhost", &res, &err),
        -1);
    assert_verify_failure(&err, &res, X509_V_ERR_CERT_HAS_EXPIRED,
                          TLSV_ALERT_CERTIFICATE_EXPIRED,
                          "certificate verify failed: certificate has expired");
    assert_int_equal(res.depth, 0);
    tlsv_x509_chain_free(chain);

    chain = chain_of(&P.not_yet_valid, 1);
    assert_int_equal(
        tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "localhost", &res, &err),
        -1);
    assert_verify_failure(&err, &res, X509_V_ERR_CERT_NOT_YET_VALID, TLSV_ALERT_BAD_CERTIFICATE,
                          "certificate is not yet valid");
    tlsv_x509_chain_free(chain);
    tlsv_x509_store_free(store);
}

/* The leaf's issuer is an intermediate the peer sends in its chain. */
static void verify_with_intermediate(void **state)
{
    (void)state;
    tlsv_x509_store *store = store_of(&P.root, 1);
    X509 *full[] = {P.leaf2, P.inter};
    tlsv_x509_chain *chain = chain_of(full, 2);
    tlsv_error err;
    tlsv_x509_verify_result res;
    if (tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "localhost", &res, &err))
        fail_msg("%s", err.message);
    tlsv_x509_chain_free(chain);

    /* Extra, unrelated certificates in the chain do not hurt. */
    X509 *noisy[] = {P.leaf2, P.other_ca, P.inter};
    chain = chain_of(noisy, 3);
    if (tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "localhost", &res, &err))
        fail_msg("%s", err.message);
    tlsv_x509_chain_free(chain);

    /* Without the intermediate there is no path to the root. */
    chain = chain_of(&P.leaf2, 1);
    assert_int_equal(
        tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "localhost", &res, &err),
        -1);
    assert_verify_failure(&err, &res, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                          TLSV_ALERT_UNKNOWN_CA, "unable to get local issuer certificate");
    assert_int_equal(res.depth, 0);
    assert_message_has(&err, "CN=leaf2.test");
    tlsv_x509_chain_free(chain);

    /* Trusting only the intermediate is not enough either: it is not a
     * self-signed trust anchor, and partial chains are not accepted. */
    tlsv_x509_store_free(store);
    store = store_of(&P.inter, 1);
    chain = chain_of(full, 2);
    assert_int_equal(
        tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "localhost", &res, &err),
        -1);
    assert_int_equal(err.alert, TLSV_ALERT_UNKNOWN_CA);
    tlsv_x509_chain_free(chain);
    tlsv_x509_store_free(store);
}

/* extendedKeyUsage is checked against the purpose. */
static void verify_purpose(void **state)
{
    (void)state;
    tlsv_x509_store *store = store_of(&P.root, 1);
    tlsv_x509_chain *client = chain_of(&P.client_only, 1);
    tlsv_x509_chain *server = chain_of(&P.server_only, 1);
    tlsv_error err;
    tlsv_x509_verify_result res;

    assert_int_equal(
        tlsv_x509_verify(store, client, TLSV_X509_PURPOSE_CLIENT_AUTH, NULL, &res, &err), 0);
    assert_int_equal(
        tlsv_x509_verify(store, client, TLSV_X509_PURPOSE_SERVER_AUTH, "localhost", &res, &err),
        -1);
    assert_verify_failure(&err, &res, X509_V_ERR_INVALID_PURPOSE,
                          TLSV_ALERT_UNSUPPORTED_CERTIFICATE, "unsuitable certificate purpose");

    assert_int_equal(
        tlsv_x509_verify(store, server, TLSV_X509_PURPOSE_SERVER_AUTH, "localhost", &res, &err),
        0);
    assert_int_equal(
        tlsv_x509_verify(store, server, TLSV_X509_PURPOSE_CLIENT_AUTH, NULL, &res, &err), -1);
    assert_verify_failure(&err, &res, X509_V_ERR_INVALID_PURPOSE,
                          TLSV_ALERT_UNSUPPORTED_CERTIFICATE, "unsuitable certificate purpose");

    assert_int_equal(tlsv_x509_verify(store, server, (tlsv_x509_purpose)7, NULL, &res, &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    tlsv_x509_chain_free(client);
    tlsv_x509_chain_free(server);
    tlsv_x509_store_free(store);
}

static void verify_bad_arguments(void **state)
{
    (void)state;
    tlsv_x509_store *store = store_of(&P.root, 1);
    tlsv_error err;
    tlsv_x509_verify_result res = {-7, -7};
    tlsv_x509_chain *empty = tlsv_x509_chain_from_der(NULL, 0, &err);
    assert_non_null(empty);
    assert_int_equal(tlsv_x509_chain_count(empty), 0);
    assert_int_equal(
        tlsv_x509_verify(store, empty, TLSV_X509_PURPOSE_SERVER_AUTH, NULL, &res, &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    assert_int_equal(err.alert, TLSV_ALERT_NONE);
    assert_int_equal(res.code, 0);
    assert_int_equal(res.depth, -1);
    assert_int_equal(
        tlsv_x509_verify(NULL, empty, TLSV_X509_PURPOSE_SERVER_AUTH, NULL, NULL, &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    assert_int_equal(tlsv_x509_check_name(empty, "localhost", &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    /* err may be NULL */
    assert_int_equal(
        tlsv_x509_verify(store, NULL, TLSV_X509_PURPOSE_SERVER_AUTH, NULL, NULL, NULL), -1);
    tlsv_x509_chain_free(empty);
    tlsv_x509_store_free(store);
}

/* ======================================================================
 * Trust stores
 * ====================================================================== */

static void store_ca_file(void **state)
{
    (void)state;
    char path[128];
    path_in(path, sizeof path, "ca.pem");
    size_t len;
    char *pem = pem_of(&P.root, 1, &len);
    write_file(path, pem, len);
    free(pem);

    tlsv_error err;
    tlsv_x509_store *store = tlsv_x509_store_new(&err);
    assert_non_null(store);
    assert_int_equal(tlsv_x509_store_add_ca_file(store, path, &err), 0);
    assert_int_equal(ERR_peek_error(), 0);
    X509 *full[] = {P.leaf2, P.inter};
    tlsv_x509_chain *chain = chain_of(full, 2);
    if (tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "localhost", NULL, &err))
        fail_msg("%s", err.message);
    tlsv_x509_chain_free(chain);

    /* Bad CA files: missing, a directory, empty, garbage, a key only. */
    char missing[128], empty[128], garbage[128];
    path_in(missing, sizeof missing, "no-such-ca.pem");
    path_in(empty, sizeof empty, "empty-ca.pem");
    path_in(garbage, sizeof garbage, "garbage-ca.pem");
    write_file(empty, "", 0);
    write_file(garbage, "this is not a certificate\n", 26);

    assert_int_equal(tlsv_x509_store_add_ca_file(store, missing, &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    assert_int_equal(err.alert, TLSV_ALERT_NONE);
    assert_int_equal(err.side, TLSV_SIDE_LOCAL);
    assert_message_has(&err, missing);
    assert_message_has(&err, "No such file or directory");

    assert_int_equal(tlsv_x509_store_add_ca_file(store, P.dir, &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    assert_message_has(&err, "Is a directory");

    assert_int_equal(tlsv_x509_store_add_ca_file(store, empty, &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    assert_message_has(&err, empty);
    assert_message_has(&err, "is empty");

    assert_int_equal(tlsv_x509_store_add_ca_file(store, garbage, &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    assert_message_has(&err, garbage);
    assert_int_equal(ERR_peek_error(), 0);

    assert_int_equal(tlsv_x509_store_add_ca_file(store, NULL, &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    tlsv_x509_store_free(store);
}

/* A c_rehash-style directory: the CA under "<subject hash>.0". */
static void store_ca_directory(void **state)
{
    (void)state;
    char dir[128], empty_dir[128], file[192];
    path_in(dir, sizeof dir, "cadir");
    path_in(empty_dir, sizeof empty_dir, "emptydir");
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(mkdir(empty_dir, 0700), 0);
    int ok = 0;
    unsigned long hash = X509_NAME_hash_ex(X509_get_subject_name(P.root), NULL, NULL, &ok);
    assert_int_equal(ok, 1);
    snprintf(file, sizeof file, "%s/%08lx.0", dir, hash);
    size_t len;
    char *pem = pem_of(&P.root, 1, &len);
    write_file(file, pem, len);
    free(pem);

    tlsv_error err;
    X509 *full[] = {P.leaf2, P.inter};
    tlsv_x509_chain *chain = chain_of(full, 2);

    tlsv_x509_store *store = tlsv_x509_store_new(&err);
    assert_int_equal(tlsv_x509_store_add_ca_dir(store, dir, &err), 0);
    if (tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "localhost", NULL, &err))
        fail_msg("%s", err.message);
    tlsv_x509_store_free(store);

    /* The same chain against an empty directory: no issuer found. */
    store = tlsv_x509_store_new(&err);
    assert_int_equal(tlsv_x509_store_add_ca_dir(store, empty_dir, &err), 0);
    tlsv_x509_verify_result res;
    assert_int_equal(
        tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "localhost", &res, &err),
        -1);
    assert_verify_failure(&err, &res, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                          TLSV_ALERT_UNKNOWN_CA, "unable to get local issuer certificate");

    /* Not a directory. */
    char missing[128];
    path_in(missing, sizeof missing, "no-such-dir");
    assert_int_equal(tlsv_x509_store_add_ca_dir(store, missing, &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    assert_message_has(&err, missing);
    assert_message_has(&err, "No such file or directory");
    assert_int_equal(tlsv_x509_store_add_ca_dir(store, file, &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    assert_message_has(&err, "Not a directory");
    tlsv_x509_store_free(store);
    tlsv_x509_chain_free(chain);
}

/* cadata: PEM or concatenated DER. */
static void store_ca_memory(void **state)
{
    (void)state;
    tlsv_error err;
    tlsv_x509_chain *chain = chain_of(&P.leaf, 1);

    size_t l1, l2;
    unsigned char *d1 = der_of(P.other_ca, &l1);
    unsigned char *d2 = der_of(P.root, &l2);
    unsigned char *both = malloc(l1 + l2);
    assert_non_null(both);
    memcpy(both, d1, l1);
    memcpy(both + l1, d2, l2);
    tlsv_x509_store *store = tlsv_x509_store_new(&err);
    assert_int_equal(tlsv_x509_store_add_ca_mem(store, both, l1 + l2, &err), 0);
    if (tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, "localhost", NULL, &err))
        fail_msg("%s", err.message);
    tlsv_x509_store_free(store);

    /* Truncated DER: refused. */
    store = tlsv_x509_store_new(&err);
    assert_int_equal(tlsv_x509_store_add_ca_mem(store, both, l1 + l2 - 1, &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    assert_message_has(&err, "certificate 2 in DER data is malformed");
    /* Garbage and nothing: refused. */
    assert_int_equal(tlsv_x509_store_add_ca_mem(store, "garbage", 7, &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    assert_message_has(&err, "no PEM certificate");
    assert_int_equal(tlsv_x509_store_add_ca_mem(store, "", 0, &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    assert_int_equal(ERR_peek_error(), 0);
    tlsv_x509_store_free(store);

    free(both);
    OPENSSL_free(d1);
    OPENSSL_free(d2);
    tlsv_x509_chain_free(chain);
}

static void store_default_paths_and_refs(void **state)
{
    (void)state;
    tlsv_error err;
    tlsv_x509_store *store = tlsv_x509_store_new(&err);
    assert_non_null(store);
    assert_int_equal(tlsv_x509_store_add_default_paths(store, &err), 0);
    assert_int_equal(ERR_peek_error(), 0);
    /* Our private root is in no system store. */
    tlsv_x509_chain *chain = chain_of(&P.leaf, 1);
    assert_int_equal(
        tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, NULL, NULL, &err), -1);
    assert_int_equal(err.alert, TLSV_ALERT_UNKNOWN_CA);

    /* References: each holder frees its own; the store outlives the first. */
    assert_ptr_equal(tlsv_x509_store_up_ref(store), store);
    tlsv_x509_store_free(store);
    size_t len;
    char *pem = pem_of(&P.root, 1, &len);
    assert_int_equal(tlsv_x509_store_add_ca_mem(store, pem, len, &err), 0);
    free(pem);
    assert_int_equal(
        tlsv_x509_verify(store, chain, TLSV_X509_PURPOSE_SERVER_AUTH, NULL, NULL, &err), 0);
    tlsv_x509_store_free(store);
    tlsv_x509_store_free(NULL);
    assert_null(tlsv_x509_store_up_ref(NULL));

    assert_ptr_equal(tlsv_x509_chain_up_ref(chain), chain);
    tlsv_x509_chain_free(chain);
    assert_int_equal(tlsv_x509_chain_count(chain), 1); /* still alive */
    tlsv_x509_chain_free(chain);
    tlsv_x509_chain_free(NULL);
    assert_null(tlsv_x509_chain_up_ref(NULL));
}

/* ======================================================================
 * Chains: loading, DER, bad input
 * ====================================================================== */

static void chain_pem_file_and_der_round_trip(void **state)
{
    (void)state;
    /* A chain file as servers keep it: leaf, intermediate, and a private
     * key block that the certificate reader skips. */
    char path[128];
    path_in(path, sizeof path, "chain.pem");
    X509 *full[] = {P.leaf2, P.inter};
    size_t len;
    char *pem = pem_of(full, 2, &len);
    BIO *b = BIO_new(BIO_s_mem());
    assert_non_null(b);
    assert_int_equal(PEM_write_bio_PrivateKey(b, P.leaf_key, NULL, NULL, 0, NULL, NULL), 1);
    assert_int_equal(BIO_write(b, pem, (int)len), (int)len);
    char *all = NULL;
    long all_len = BIO_get_mem_data(b, &all);
    write_file(path, all, (size_t)all_len);
    BIO_free(b);
    free(pem);

    tlsv_error err;
    tlsv_x509_chain *chain = tlsv_x509_chain_load_pem_file(path, &err);
    if (!chain)
        fail_msg("%s", err.message);
    assert_int_equal(tlsv_x509_chain_count(chain), 2);
    char subject[64];
    assert_int_equal(tlsv_x509_chain_subject(chain, 0, subject, sizeof subject),
                     strlen("CN=leaf2.test"));
    assert_string_equal(subject, "CN=leaf2.test");
    tlsv_x509_chain_subject(chain, 1, subject, sizeof subject);
    assert_string_equal(subject, "CN=tlsv Test Intermediate CA");
    assert_int_equal(tlsv_x509_chain_subject(chain, 2, subject, sizeof subject), 0);
    assert_string_equal(subject, "");

    /* DER out equals libcrypto's encoding of the originals. */
    tlsv_x509_der list[2];
    for (size_t i = 0; i < 2; i++) {
        size_t elen;
        unsigned char *expect = der_of(full[i], &elen);
        list[i].data = tlsv_x509_chain_der(chain, i, &list[i].len);
        assert_non_null(list[i].data);
        assert_int_equal(list[i].len, elen);
        assert_memory_equal(list[i].data, expect, elen);
        OPENSSL_free(expect);
    }
    size_t none = 99;
    assert_null(tlsv_x509_chain_der(chain, 2, &none));
    assert_int_equal(none, 0);

    /* ... and back in, as off the wire: identical bytes. */
    tlsv_x509_chain *again = tlsv_x509_chain_from_der(list, 2, &err);
    assert_non_null(again);
    assert_int_equal(tlsv_x509_chain_count(again), 2);
    for (size_t i = 0; i < 2; i++) {
        size_t l;
        const uint8_t *d = tlsv_x509_chain_der(again, i, &l);
        assert_int_equal(l, list[i].len);
        assert_memory_equal(d, list[i].data, l);
    }
    size_t sl1, sl2;
    const uint8_t *s1 = tlsv_x509_chain_leaf_spki(chain, &sl1);
    const uint8_t *s2 = tlsv_x509_chain_leaf_spki(again, &sl2);
    assert_int_equal(sl1, sl2);
    assert_memory_equal(s1, s2, sl1);

    /* Appending one by one works the same; a bad one leaves it unchanged. */
    tlsv_x509_chain *inc = tlsv_x509_chain_new(&err);
    assert_non_null(inc);
    assert_int_equal(tlsv_x509_chain_append_der(inc, list[0].data, list[0].len, &err), 0);
    assert_int_equal(tlsv_x509_chain_append_der(inc, list[1].data, list[1].len, &err), 0);
    unsigned char *trailing = malloc(list[1].len + 1);
    assert_non_null(trailing);
    memcpy(trailing, list[1].data, list[1].len);
    trailing[list[1].len] = 0;
    assert_int_equal(tlsv_x509_chain_append_der(inc, trailing, list[1].len + 1, &err), -1);
    assert_int_equal(err.reason, TLSV_R_CERTIFICATE_VERIFY_FAILED);
    assert_int_equal(err.alert, TLSV_ALERT_BAD_CERTIFICATE);
    assert_int_equal(err.side, TLSV_SIDE_LOCAL);
    assert_message_has(&err, "certificate 3 received from the peer is malformed");
    assert_int_equal(tlsv_x509_chain_append_der(inc, trailing, list[1].len - 1, &err), -1);
    assert_message_has(&err, "certificate 3 received from the peer is malformed");
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x05};
    assert_int_equal(tlsv_x509_chain_append_der(inc, junk, sizeof junk, &err), -1);
    assert_int_equal(err.alert, TLSV_ALERT_BAD_CERTIFICATE);
    assert_int_equal(tlsv_x509_chain_append_der(inc, junk, 0, &err), -1);
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    assert_int_equal(tlsv_x509_chain_count(inc), 2);
    assert_int_equal(ERR_peek_error(), 0);
    free(trailing);

    /* A wire list with one bad entry gives no chain. */
    tlsv_x509_der bad[2] = {list[0], {junk, sizeof junk}};
    assert_null(tlsv_x509_chain_from_der(bad, 2, &err));
    assert_message_has(&err, "certificate 2 received from the peer is malformed");

    tlsv_x509_chain_free(inc);
    tlsv_x509_chain_free(again);
    tlsv_x509_chain_free(chain);
}

static void chain_bad_inputs(void **state)
{
    (void)state;
    tlsv_error err;
    char missing[128], empty[128], garbage[128], corrupt[128], second_bad[128], key_only[128];
    path_in(missing, sizeof missing, "no-such-chain.pem");
    path_in(empty, sizeof empty, "empty.pem");
    path_in(garbage, sizeof garbage, "garbage.pem");
    path_in(corrupt, sizeof corrupt, "corrupt.pem");
    path_in(second_bad, sizeof second_bad, "second-bad.pem");
    path_in(key_only, sizeof key_only, "key-only.pem");

    write_file(empty, "", 0);
    static const char junk[] = "\x01\x02 not PEM at all \xff\n";
    write_file(garbage, junk, sizeof junk - 1);
    static const char broken[] = "-----BEGIN CERTIFICATE-----\nAAAA!!!!not base64\n"
                                 "-----END CERTIFICATE-----\n";
    write_file(corrupt, broken, sizeof broken - 1);
    size_t len;
    char *good = pem_of(&P.leaf, 1, &len);
    static const char bad_der[] = "-----BEGIN CERTIFICATE-----\nMAMCAQU=\n"
                                  "-----END CERTIFICATE-----\n";
    char *two = malloc(len + sizeof bad_der);
    assert_non_null(two);
    memcpy(two, good, len);
    memcpy(two + len, bad_der, sizeof bad_der);
    write_file(second_bad, two, len + sizeof bad_der - 1);
    BIO *b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(b, P.leaf_key, NULL, NULL, 0, NULL, NULL), 1);
    char *kp = NULL;
    long kl = BIO_get_mem_data(b, &kp);
    write_file(key_only, kp, (size_t)kl);
    BIO_free(b);

    const char *paths[] = {missing, empty, garbage, corrupt, second_bad, key_only};
    const char *needles[] = {"No such file or directory",
                             "is empty",
                             "no PEM certificate",
                             "certificate 1 in certificate file",
                             "certificate 2 in certificate file",
                             "no PEM certificate"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        memset(&err, 0, sizeof err);
        tlsv_x509_chain *chain = tlsv_x509_chain_load_pem_file(paths[i], &err);
        if (chain)
            fail_msg("%s loaded", paths[i]);
        assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
        assert_int_equal(err.alert, TLSV_ALERT_NONE);
        assert_int_equal(err.side, TLSV_SIDE_LOCAL);
        assert_message_has(&err, paths[i]);
        assert_message_has(&err, needles[i]);
        assert_int_equal(ERR_peek_error(), 0);
    }
    /* A directory is not a file. */
    assert_null(tlsv_x509_chain_load_pem_file(P.dir, &err));
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    assert_message_has(&err, P.dir);
    assert_null(tlsv_x509_chain_load_pem_file(NULL, &err));
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);

    /* The same from memory: the message says "PEM data". */
    assert_null(tlsv_x509_chain_load_pem(junk, sizeof junk - 1, &err));
    assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
    assert_message_has(&err, "PEM data");
    assert_null(tlsv_x509_chain_load_pem(broken, sizeof broken - 1, &err));
    assert_message_has(&err, "certificate 1 in PEM data is malformed");
    assert_null(tlsv_x509_chain_load_pem("", 0, &err));
    assert_message_has(&err, "PEM data is empty");
    /* ... and good PEM from memory, not NUL-terminated, loads. */
    tlsv_x509_chain *chain = tlsv_x509_chain_load_pem(good, len, &err);
    assert_non_null(chain);
    assert_int_equal(tlsv_x509_chain_count(chain), 1);
    tlsv_x509_chain_free(chain);
    free(two);
    free(good);
}

/* ======================================================================
 * The leaf's public key
 * ====================================================================== */

static void leaf_spki_and_key_types(void **state)
{
    (void)state;
    static const struct {
        const char *kind;
        tlsv_x509_key_type type;
        int bits;
        const char *name;
    } cases[] = {
        {"RSA", TLSV_X509_KEY_RSA, 2048, "RSA"},
        {"P-256", TLSV_X509_KEY_EC_P256, 256, "EC P-256"},
        {"P-384", TLSV_X509_KEY_EC_P384, 384, "EC P-384"},
        {"ED25519", TLSV_X509_KEY_ED25519, 256, "Ed25519"},
        {"P-521", TLSV_X509_KEY_UNSUPPORTED, 521, "unsupported"},
    };
    EVP_PKEY *other = keygen("P-256");
    unsigned char *other_spki = NULL;
    int other_len = i2d_PUBKEY(other, &other_spki);
    assert_true(other_len > 0);

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        EVP_PKEY *key = keygen(cases[i].kind);
        const cert_spec spec = {"key.test", "DNS:localhost", NULL, 0, -DAY, DAY};
        X509 *x = make_cert(&spec, key, NULL, NULL);
        tlsv_x509_chain *chain = chain_of(&x, 1);

        int bits = -1;
        assert_int_equal(tlsv_x509_chain_leaf_key_type(chain, &bits), cases[i].type);
        assert_int_equal(bits, cases[i].bits);
        assert_string_equal(tlsv_x509_key_type_name(cases[i].type), cases[i].name);

        /* The SPKI is the key's own DER SubjectPublicKeyInfo, and loads back. */
        unsigned char *expect = NULL;
        int elen = i2d_PUBKEY(key, &expect);
        assert_true(elen > 0);
        size_t slen = 0;
        const uint8_t *spki = tlsv_x509_chain_leaf_spki(chain, &slen);
        assert_non_null(spki);
        assert_int_equal(slen, (size_t)elen);
        assert_memory_equal(spki, expect, slen);
        const unsigned char *p = spki;
        EVP_PKEY *back = d2i_PUBKEY(NULL, &p, (long)slen);
        assert_non_null(back);
        assert_int_equal(EVP_PKEY_eq(back, key), 1);
        EVP_PKEY_free(back);

        /* Key/certificate match. */
        tlsv_error err;
        assert_int_equal(tlsv_x509_chain_leaf_matches_spki(chain, expect, (size_t)elen, &err), 0);
        assert_int_equal(
            tlsv_x509_chain_leaf_matches_spki(chain, other_spki, (size_t)other_len, &err), -1);
        assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
        assert_message_has(&err, "does not match the certificate 'CN=key.test'");
        assert_int_equal(tlsv_x509_chain_leaf_matches_spki(chain, expect, 3, &err), -1);
        assert_int_equal(err.reason, TLSV_R_INVALID_ARGUMENT);
        assert_int_equal(ERR_peek_error(), 0);

        OPENSSL_free(expect);
        tlsv_x509_chain_free(chain);
        X509_free(x);
        EVP_PKEY_free(key);
    }

    /* An empty chain has no leaf. */
    tlsv_error err;
    tlsv_x509_chain *empty = tlsv_x509_chain_new(&err);
    int bits = -1;
    size_t slen = 99;
    assert_int_equal(tlsv_x509_chain_leaf_key_type(empty, &bits), TLSV_X509_KEY_UNSUPPORTED);
    assert_int_equal(bits, 0);
    assert_null(tlsv_x509_chain_leaf_spki(empty, &slen));
    assert_int_equal(slen, 0);
    assert_int_equal(
        tlsv_x509_chain_leaf_matches_spki(empty, other_spki, (size_t)other_len, &err), -1);
    tlsv_x509_chain_free(empty);
    OPENSSL_free(other_spki);
    EVP_PKEY_free(other);
}

/* A compressed EC point in the given SPKI still matches the certificate's
 * (uncompressed) key: keys are compared, not bytes. */
static void leaf_matches_compressed_point(void **state)
{
    (void)state;
    tlsv_x509_chain *chain = chain_of(&P.leaf, 1);
    EVP_PKEY *copy = EVP_PKEY_dup(P.leaf_key);
    assert_non_null(copy);
    assert_int_equal(EVP_PKEY_set_utf8_string_param(copy, "point-format", "compressed"), 1);
    unsigned char *spki = NULL;
    int len = i2d_PUBKEY(copy, &spki);
    assert_true(len > 0);
    size_t leaf_len;
    tlsv_x509_chain_leaf_spki(chain, &leaf_len);
    assert_true((size_t)len < leaf_len); /* really a different encoding */
    tlsv_error err;
    if (tlsv_x509_chain_leaf_matches_spki(chain, spki, (size_t)len, &err))
        fail_msg("%s", err.message);
    OPENSSL_free(spki);
    EVP_PKEY_free(copy);
    tlsv_x509_chain_free(chain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verify_ok_for_each_san),
        cmocka_unit_test(verify_wrong_host),
        cmocka_unit_test(verify_wildcard_rules),
        cmocka_unit_test(verify_ip_addresses),
        cmocka_unit_test(verify_self_signed_leaf_untrusted),
        cmocka_unit_test(verify_unknown_issuer),
        cmocka_unit_test(verify_validity_period),
        cmocka_unit_test(verify_with_intermediate),
        cmocka_unit_test(verify_purpose),
        cmocka_unit_test(verify_bad_arguments),
        cmocka_unit_test(store_ca_file),
        cmocka_unit_test(store_ca_directory),
        cmocka_unit_test(store_ca_memory),
        cmocka_unit_test(store_default_paths_and_refs),
        cmocka_unit_test(chain_pem_file_and_der_round_trip),
        cmocka_unit_test(chain_bad_inputs),
        cmocka_unit_test(leaf_spki_and_key_types),
        cmocka_unit_test(leaf_matches_compressed_point),
    };
    return cmocka_run_group_tests_name("x509", tests, pki_setup, pki_teardown);
}
