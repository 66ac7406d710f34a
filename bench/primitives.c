/*
 * primitives.c -- what the cryptography alone allows, measured with
 * libcrypto's EVP interface directly:
 *
 *   the primitive bound: handshakes per second if a handshake cost nothing
 *   but its public-key operations, each done the way a TLS library has to
 *   (a fresh key share, the peer's share parsed from 32 raw bytes, a
 *   signature over the bytes TLS signs):
 *     X25519: a key pair per side (keygen x2), a shared secret per side (x2)
 *     the server's signature (CertificateVerify in TLS 1.3, ServerKeyExchange
 *       in TLS 1.2): ECDSA P-256 SHA-256, or RSA-PSS-2048 SHA-256
 *     the client's checks: the CA's signature on the leaf, and the server's
 *       handshake signature with the leaf's key
 *
 *   the raw AEAD limit: seal and open 16 KiB records with one reused
 *   EVP_CIPHER_CTX per direction -- the ceiling for bulk throughput.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "bench.h"

/* ---- the primitive bound ----------------------------------------------------- */

struct pk_state {
    int rsa;                  /* RSA-PSS signatures rather than ECDSA */
    EVP_PKEY_CTX *x25519_gen; /* reused for every key share */
    EVP_PKEY *server_key;     /* the leaf's private key */
    X509 *leaf;
    EVP_PKEY *ca_key;         /* the CA's public key */
    EVP_MD_CTX *md;           /* reused for signing and verifying */
    unsigned char tbs[130];   /* what the server signs (TLS 1.3: 130 bytes; 1.2: 100) */
    size_t tbs_len;
};

static EVP_PKEY *read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!k)
        fatal("cannot read the key %s", path);
    return k;
}

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!x)
        fatal("cannot read the certificate %s", path);
    return x;
}

/* A key share: a fresh X25519 key pair and its 32-byte public value. */
static EVP_PKEY *key_share(struct pk_state *st, unsigned char pub[32])
{
    EVP_PKEY *k = NULL;
    size_t len = 32;
    if (EVP_PKEY_keygen(st->x25519_gen, &k) != 1 || EVP_PKEY_get_raw_public_key(k, pub, &len) != 1 ||
        len != 32)
        fatal("X25519 key generation failed");
    return k;
}

/* The shared secret of our key and the peer's 32 raw bytes. */
static void shared_secret(EVP_PKEY *ours, const unsigned char peer_pub[32], unsigned char out[32])
{
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer_pub, 32);
    EVP_PKEY_CTX *dc = EVP_PKEY_CTX_new_from_pkey(NULL, ours, NULL);
    size_t len = 32;
    if (!peer || !dc || EVP_PKEY_derive_init(dc) != 1 || EVP_PKEY_derive_set_peer(dc, peer) != 1 ||
        EVP_PKEY_derive(dc, out, &len) != 1 || len != 32)
        fatal("X25519 derivation failed");
    EVP_PKEY_CTX_free(dc);
    EVP_PKEY_free(peer);
}

static void use_pss(struct pk_state *st, EVP_PKEY_CTX *pctx)
{
    if (st->rsa && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
        fatal("cannot set RSA-PSS parameters");
}

static size_t sign(struct pk_state *st, unsigned char *sig, size_t cap)
{
    EVP_PKEY_CTX *pctx = NULL;
    size_t len = cap;
    if (EVP_MD_CTX_reset(st->md) != 1 ||
        EVP_DigestSignInit_ex(st->md, &pctx, "SHA256", NULL, NULL, st->server_key, NULL) != 1)
        fatal("cannot start a signature");
    use_pss(st, pctx);
    if (EVP_DigestSign(st->md, sig, &len, st->tbs, st->tbs_len) != 1)
        fatal("signing failed");
    return len;
}

static void verify(struct pk_state *st, const unsigned char *sig, size_t len)
{
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *leaf_key = X509_get0_pubkey(st->leaf);
    if (!leaf_key || EVP_MD_CTX_reset(st->md) != 1 ||
        EVP_DigestVerifyInit_ex(st->md, &pctx, "SHA256", NULL, NULL, leaf_key, NULL) != 1)
        fatal("cannot start a verification");
    use_pss(st, pctx);
    if (EVP_DigestVerify(st->md, sig, len, st->tbs, st->tbs_len) != 1)
        fatal("the handshake signature did not verify");
}

/* The public-key operations of one handshake, in the order they happen. */
void pk_one_handshake(struct pk_state *st)
{
    unsigned char client_pub[32], server_pub[32], client_secret[32], server_secret[32], sig[512];
    EVP_PKEY *client_share = key_share(st, client_pub);      /* ClientHello */
    EVP_PKEY *server_share = key_share(st, server_pub);      /* ServerHello */
    shared_secret(server_share, client_pub, server_secret);
    size_t sig_len = sign(st, sig, sizeof sig);              /* CertificateVerify / SKE */
    shared_secret(client_share, server_pub, client_secret);  /* client */
    if (memcmp(client_secret, server_secret, 32) != 0)
        fatal("X25519: the two sides derived different secrets");
    if (X509_verify(st->leaf, st->ca_key) != 1)              /* the chain */
        fatal("the CA's signature on the leaf did not verify");
    verify(st, sig, sig_len);                                /* the handshake signature */
    EVP_PKEY_free(client_share);
    EVP_PKEY_free(server_share);
}

struct pk_state *pk_state_new(enum hs_kind kind, const struct setup *s)
{
    struct pk_state *st = calloc(1, sizeof *st);
    if (!st)
        fatal("out of memory");
    st->rsa = kind == HS_TLS13_RSA;
    st->server_key = read_key(s->key);
    st->leaf = read_cert(s->cert);
    X509 *ca = read_cert(s->cafile);
    st->ca_key = X509_get_pubkey(ca);
    X509_free(ca);
    st->x25519_gen = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
    st->md = EVP_MD_CTX_new();
    if (!st->ca_key || !st->x25519_gen || !st->md || EVP_PKEY_keygen_init(st->x25519_gen) != 1)
        fatal("cannot prepare the primitive bound");
    if (kind == HS_TLS12_ECDSA) { /* client_random + server_random + ServerECDHParams */
        st->tbs_len = 32 + 32 + 4 + 32;
        memset(st->tbs, 0x5a, st->tbs_len);
    } else { /* 64 spaces, the context string and its 0, the transcript hash */
        static const char context[] = "TLS 1.3, server CertificateVerify";
        memset(st->tbs, 0x20, 64);
        memcpy(st->tbs + 64, context, sizeof context);
        memset(st->tbs + 64 + sizeof context, 0xa5, 32);
        st->tbs_len = 64 + sizeof context + 32;
    }
    return st;
}

void pk_state_free(struct pk_state *st)
{
    EVP_MD_CTX_free(st->md);
    EVP_PKEY_CTX_free(st->x25519_gen);
    EVP_PKEY_free(st->ca_key);
    X509_free(st->leaf);
    EVP_PKEY_free(st->server_key);
    free(st);
}

double primitive_bound(enum hs_kind kind, const struct setup *s, double seconds)
{
    struct pk_state *st = pk_state_new(kind, s);
    pk_one_handshake(st); /* warm */
    struct stopwatch w;
    long n = 0;
    stopwatch_start(&w);
    do {
        pk_one_handshake(st);
        n++;
    } while (!stopwatch_done(&w, seconds));
    pk_state_free(st);
    return (double)n / stopwatch_seconds(&w);
}

/* ---- the raw AEAD limit ------------------------------------------------------- */

static const char *const aead_name[BULK__COUNT] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};

double aead_limit(enum bulk_cipher cipher, double seconds)
{
    static uint8_t plain[RECORD_SIZE], sealed[RECORD_SIZE], opened[RECORD_SIZE];
    unsigned char key[32], iv[12], nonce[12], tag[16];
    unsigned char aad[5] = {0x17, 0x03, 0x03, (RECORD_SIZE + 16) >> 8, (RECORD_SIZE + 16) & 0xff};
    memset(key, 0x42, sizeof key);
    memset(iv, 0x24, sizeof iv);
    bulk_pattern_init(plain, sizeof plain);

    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, aead_name[cipher], NULL);
    EVP_CIPHER_CTX *enc = EVP_CIPHER_CTX_new(), *dec = EVP_CIPHER_CTX_new();
    if (!c || !enc || !dec || EVP_EncryptInit_ex2(enc, c, key, NULL, NULL) != 1 ||
        EVP_DecryptInit_ex2(dec, c, key, NULL, NULL) != 1)
        fatal("cannot set up %s", aead_name[cipher]);

    struct stopwatch w = {0};
    long n = 0;
    for (uint64_t seq = 0;; seq++) {
        if (seq == 16) /* the first 16 records warm up */
            stopwatch_start(&w);
        memcpy(nonce, iv, sizeof nonce);
        for (int i = 0; i < 8; i++)
            nonce[11 - i] ^= (unsigned char)(seq >> (8 * i));
        int len = 0, fin = 0;
        if (EVP_EncryptInit_ex2(enc, NULL, NULL, nonce, NULL) != 1 ||
            EVP_EncryptUpdate(enc, NULL, &len, aad, sizeof aad) != 1 ||
            EVP_EncryptUpdate(enc, sealed, &len, plain, RECORD_SIZE) != 1 ||
            EVP_EncryptFinal_ex(enc, sealed + len, &fin) != 1 || len + fin != RECORD_SIZE ||
            EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1)
            fatal("%s: sealing failed", aead_name[cipher]);
        if (EVP_DecryptInit_ex2(dec, NULL, NULL, nonce, NULL) != 1 ||
            EVP_DecryptUpdate(dec, NULL, &len, aad, sizeof aad) != 1 ||
            EVP_DecryptUpdate(dec, opened, &len, sealed, RECORD_SIZE) != 1 ||
            EVP_CIPHER_CTX_ctrl(dec, EVP_CTRL_AEAD_SET_TAG, 16, tag) != 1 ||
            EVP_DecryptFinal_ex(dec, opened + len, &fin) != 1 || len + fin != RECORD_SIZE)
            fatal("%s: opening failed", aead_name[cipher]);
        if ((seq & 63) == 0 && memcmp(opened, plain, RECORD_SIZE) != 0)
            fatal("%s: a record did not come back intact", aead_name[cipher]);
        if (seq >= 16) {
            n++;
            if ((n & 63) == 0 && stopwatch_done(&w, seconds)) /* the CPU clock is a system call */
                break;
        }
    }
    EVP_CIPHER_CTX_free(enc);
    EVP_CIPHER_CTX_free(dec);
    EVP_CIPHER_free(c);
    return (double)n * RECORD_SIZE / stopwatch_seconds(&w) / 1e6;
}
