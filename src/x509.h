/*
 * x509.h -- certificates for the TLS engine: chains, trust stores,
 * verification and the hostname check.
 *
 * Everything X.509 is done by libcrypto (PEM and DER parsing, path building
 * and validation through X509_STORE_CTX, the RFC 6125 name check through
 * X509_VERIFY_PARAM / X509_check_host); this module only adapts it to the
 * engine and to tlsv's error model. It is the only file besides
 * crypto/openssl.c that includes OpenSSL headers (DESIGN.md principle 5), and
 * this header exposes none of their types: objects are opaque, certificates
 * and keys cross the boundary as DER bytes.
 *
 * There is nothing secret here: certificates and public keys only. Private
 * keys belong to the crypto seam.
 *
 * Errors. Functions that can fail take a `tlsv_error *err` (may be NULL) and
 * fill it in on failure, always with side LOCAL:
 *   - TLSV_R_INVALID_ARGUMENT: a bad argument or a bad input file (missing,
 *     unreadable, empty, no certificate in it, a malformed certificate); the
 *     message names the file, or "PEM data" / "DER data" for a buffer;
 *     alert NONE (nothing goes over the wire for a configuration mistake).
 *   - TLSV_R_CERTIFICATE_VERIFY_FAILED: a certificate received from the peer
 *     is malformed or fails verification; the alert is the one the TLS layer
 *     must send (see tlsv_x509_verify).
 *   - TLSV_R_OUT_OF_MEMORY.
 * On failure no object is returned and nothing is left allocated. Every
 * function leaves OpenSSL's thread-local error queue clear (libcrypto's
 * reason is copied into the message instead).
 *
 * Thread safety: a chain is immutable once built, and may then be read from
 * any number of threads. A store may be used for verification by many
 * threads at once (libcrypto locks it), also while CAs are being added.
 */
#ifndef TLSV_X509_H
#define TLSV_X509_H

#include <stddef.h>
#include <stdint.h>

#include "tlsv.h"

/* ---------------------------------------------------------------------- */
/* Certificate chains                                                     */
/* ---------------------------------------------------------------------- */

/* An ordered list of certificates, the leaf (end-entity) first, then the
 * intermediates that lead towards a trust anchor: what a TLS Certificate
 * message carries, and what a PEM certificate-chain file holds.
 * Reference-counted: *_new / *_load_* return one reference, _up_ref adds
 * one, _free drops one; the chain is released with its last reference. */
typedef struct tlsv_x509_chain tlsv_x509_chain;

/* One DER certificate as received off the wire; borrowed, not copied. */
typedef struct tlsv_x509_der {
    const uint8_t *data;
    size_t len;
} tlsv_x509_der;

/* An empty chain, to be filled with tlsv_x509_chain_append_der().
 * Returns NULL (OUT_OF_MEMORY) on failure. */
tlsv_x509_chain *tlsv_x509_chain_new(tlsv_error *err);

/* Parses one DER certificate (a CertificateEntry's cert_data) and appends it
 * to the chain; the first one appended is the leaf. The bytes are copied.
 * They must be exactly one certificate: no trailing bytes.
 * Meant for certificates received from the peer, so a malformed one fails
 * with CERTIFICATE_VERIFY_FAILED and alert bad_certificate ("certificate 2
 * received from the peer is malformed: ..."); the chain is then unchanged.
 * Also fails with INVALID_ARGUMENT (NULL chain or data, len 0) or
 * OUT_OF_MEMORY. Returns 0 or -1.
 * Must not be called on a chain that is shared with other threads. */
int tlsv_x509_chain_append_der(tlsv_x509_chain *chain, const uint8_t *der, size_t len,
                               tlsv_error *err);

/* The whole TLS Certificate message at once: a new chain of the n DER
 * certificates, certs[0] the leaf. n may be 0 (an empty chain: an empty
 * Certificate message is the TLS layer's to judge). Errors as
 * tlsv_x509_chain_append_der(); returns NULL on failure. */
tlsv_x509_chain *tlsv_x509_chain_from_der(const tlsv_x509_der *certs, size_t n,
                                          tlsv_error *err);

/* Loads a chain from a PEM file (Python: SSLContext.load_cert_chain's
 * certfile): every "CERTIFICATE" block in file order, the first one the
 * leaf. Other PEM blocks (a private key kept in the same file) are skipped.
 * Fails with INVALID_ARGUMENT and a message that names the file when it
 * cannot be read ("cannot read certificate file 'x.pem': No such file or
 * directory"), is empty, holds no PEM certificate, or holds a malformed one
 * (which one, and libcrypto's reason). Returns NULL on failure. */
tlsv_x509_chain *tlsv_x509_chain_load_pem_file(const char *path, tlsv_error *err);

/* The same from PEM text in memory (need not be NUL-terminated; the bytes
 * are not kept). Messages say "PEM data" instead of a file name. */
tlsv_x509_chain *tlsv_x509_chain_load_pem(const void *pem, size_t len, tlsv_error *err);

/* Adds a reference; returns chain (NULL stays NULL). */
tlsv_x509_chain *tlsv_x509_chain_up_ref(tlsv_x509_chain *chain);

/* Drops a reference; the last one frees the chain. NULL is a no-op. */
void tlsv_x509_chain_free(tlsv_x509_chain *chain);

/* The number of certificates (0 for NULL). */
size_t tlsv_x509_chain_count(const tlsv_x509_chain *chain);

/* The DER encoding of certificate i (0 = leaf), what goes into a TLS
 * Certificate message. Sets *len (if len is not NULL) and returns a pointer
 * owned by the chain, valid while the chain lives. NULL (and *len = 0) if i
 * is out of range. */
const uint8_t *tlsv_x509_chain_der(const tlsv_x509_chain *chain, size_t i, size_t *len);

/* The subject of certificate i as one RFC 2253 line ("CN=leaf,O=Example"),
 * for messages and traces. Writes at most len bytes, NUL-terminated (buf may
 * be NULL when len is 0), and returns the length it needed, like snprintf;
 * 0 and an empty string if i is out of range. */
size_t tlsv_x509_chain_subject(const tlsv_x509_chain *chain, size_t i, char *buf, size_t len);

/* ---------------------------------------------------------------------- */
/* The leaf's public key                                                  */
/* ---------------------------------------------------------------------- */

/* Key types the TLS engine can sign or verify with (SPEC §2 "signatures"). */
typedef enum tlsv_x509_key_type {
    TLSV_X509_KEY_UNSUPPORTED = 0, /* anything else: DSA, RSA-PSS-only keys,
                                      other curves, Ed448, an unparsable key */
    TLSV_X509_KEY_RSA,             /* rsaEncryption */
    TLSV_X509_KEY_EC_P256,         /* id-ecPublicKey on secp256r1 */
    TLSV_X509_KEY_EC_P384,         /* id-ecPublicKey on secp384r1 */
    TLSV_X509_KEY_ED25519
} tlsv_x509_key_type;

/* "RSA", "EC P-256", "EC P-384", "Ed25519", "unsupported". Never NULL. */
const char *tlsv_x509_key_type_name(tlsv_x509_key_type type);

/* The leaf's SubjectPublicKeyInfo, DER-encoded: what the crypto seam loads
 * as a public key (d2i_PUBKEY). Sets *len (if not NULL) and returns a
 * pointer owned by the chain, valid while it lives; NULL and *len = 0 for an
 * empty chain. */
const uint8_t *tlsv_x509_chain_leaf_spki(const tlsv_x509_chain *chain, size_t *len);

/* The leaf's public key as the crypto seam uses it (parsed once, with the
 * certificate): a new reference the caller releases with tlsv_pkey_free, or
 * NULL for an empty chain or a key type tlsv cannot verify with. */
struct tlsv_pkey;
struct tlsv_pkey *tlsv_x509_chain_leaf_key(const tlsv_x509_chain *chain);

/* RFC 5280 §4.2.1.3 keyUsage bits the handshake asks of a peer's leaf. */
enum {
    TLSV_X509_KU_DIGITAL_SIGNATURE = 1u << 0,
    TLSV_X509_KU_KEY_ENCIPHERMENT = 1u << 1
};

/* Whether the leaf's keyUsage allows every use in `usage` (TLSV_X509_KU_*
 * bits): 1 if the leaf has no keyUsage extension (any use is allowed) or
 * its extension has every bit asked for; 0 if a bit is missing, the
 * extension cannot be decoded, or the chain is empty. */
int tlsv_x509_chain_leaf_key_usage_allows(const tlsv_x509_chain *chain, unsigned usage);

/* A small per-context cache of verified peer chains, keyed by their exact
 * DER bytes (16 chains of at most 32 KiB, least recently used goes first;
 * thread-safe). It saves parsing only: a chain taken from it is verified
 * again like any other. get: the cached chain with a new reference, or NULL.
 * put: keeps a reference to `chain`. */
typedef struct tlsv_x509_cache tlsv_x509_cache;
tlsv_x509_cache *tlsv_x509_cache_new(void);
void tlsv_x509_cache_free(tlsv_x509_cache *cache);
tlsv_x509_chain *tlsv_x509_cache_get(tlsv_x509_cache *cache, const tlsv_x509_der *certs,
                                     size_t n);
void tlsv_x509_cache_put(tlsv_x509_cache *cache, tlsv_x509_chain *chain);

/* The leaf's key type. If bits is not NULL it receives the key size as
 * libcrypto counts it (EVP_PKEY_get_bits): the modulus size for RSA (2048),
 * the group size for EC (256, 384), 256 for Ed25519; 0 if unknown.
 * UNSUPPORTED for an empty chain. */
tlsv_x509_key_type tlsv_x509_chain_leaf_key_type(const tlsv_x509_chain *chain, int *bits);

/* Checks that a public key -- given as DER SubjectPublicKeyInfo, e.g. the
 * public half of the private key configured with the chain -- is the leaf's
 * key. Keys are compared as keys (EVP_PKEY_eq), so encodings that differ
 * (compressed EC points) still match. Returns 0 when they match; -1 with
 * INVALID_ARGUMENT "the private key does not match the certificate ..." when
 * they do not, or when the chain is empty or spki cannot be parsed. */
int tlsv_x509_chain_leaf_matches_spki(const tlsv_x509_chain *chain, const uint8_t *spki,
                                      size_t len, tlsv_error *err);

/* ---------------------------------------------------------------------- */
/* Trust stores                                                           */
/* ---------------------------------------------------------------------- */

/* The trust anchors a peer's chain is verified against (Python:
 * load_verify_locations / load_default_certs). Reference-counted like a
 * chain: a context and each connection verifying with it hold a reference.
 * Anchors can only be added, never removed. */
typedef struct tlsv_x509_store tlsv_x509_store;

/* A new, empty store (it trusts nothing). NULL (OUT_OF_MEMORY) on failure. */
tlsv_x509_store *tlsv_x509_store_new(tlsv_error *err);

/* Adds a reference; returns store (NULL stays NULL). */
tlsv_x509_store *tlsv_x509_store_up_ref(tlsv_x509_store *store);

/* Drops a reference; the last one frees the store. NULL is a no-op. */
void tlsv_x509_store_free(tlsv_x509_store *store);

/* Trusts every certificate (and CRL) in a PEM file (Python: cafile). Fails
 * with INVALID_ARGUMENT naming the file if it cannot be read, is empty, or
 * holds no certificate or a malformed one; certificates before a malformed
 * one may already have been added. Returns 0 or -1. */
int tlsv_x509_store_add_ca_file(tlsv_x509_store *store, const char *path, tlsv_error *err);

/* Trusts the certificates of a hashed directory (Python: capath): files
 * named "<subject hash>.<n>" as `openssl rehash` / c_rehash write them,
 * looked up when a verification needs an issuer, not read now. Fails with
 * INVALID_ARGUMENT if path is not a directory that can be opened.
 * As in OpenSSL, a path containing ':' is taken as a list of directories. */
int tlsv_x509_store_add_ca_dir(tlsv_x509_store *store, const char *path, tlsv_error *err);

/* Trusts certificates given in memory (Python: cadata): PEM text with one
 * or more CERTIFICATE blocks, or one or more concatenated DER certificates
 * (recognised by the leading ASN.1 SEQUENCE byte 0x30). Fails with
 * INVALID_ARGUMENT when no certificate is found or one is malformed. */
int tlsv_x509_store_add_ca_mem(tlsv_x509_store *store, const void *data, size_t len,
                               tlsv_error *err);

/* Trusts the system's default CA file and directory (Python:
 * set_default_verify_paths), honouring the SSL_CERT_FILE and SSL_CERT_DIR
 * environment variables. Like OpenSSL, succeeds when the locations do not
 * exist (the store then simply trusts nothing from them). */
int tlsv_x509_store_add_default_paths(tlsv_x509_store *store, tlsv_error *err);

/* ---------------------------------------------------------------------- */
/* Verification                                                           */
/* ---------------------------------------------------------------------- */

/* What the verified certificate must be good for. */
typedef enum tlsv_x509_purpose {
    TLSV_X509_PURPOSE_SERVER_AUTH = 0, /* a server's chain, checked by a client */
    TLSV_X509_PURPOSE_CLIENT_AUTH = 1  /* a client's chain, checked by a server */
} tlsv_x509_purpose;

/* The outcome in libcrypto's terms (Python: SSLCertVerificationError's
 * verify_code and the depth at which it arose). */
typedef struct tlsv_x509_verify_result {
    int code;  /* an X509_V_* value: 0 (X509_V_OK), 18 (self-signed), 62 (hostname mismatch), ... */
    int depth; /* the failing certificate's position in the path (0 = leaf); -1 if none */
} tlsv_x509_verify_result;

/* Verifies a chain received from the peer: builds a path from the leaf
 * (chain[0]) through the other certificates of the chain (untrusted
 * intermediates, in any order) to a trust anchor of the store, checks
 * signatures, validity periods (at the current time), basic constraints and
 * the purpose (extended key usage serverAuth / clientAuth, as OpenSSL's
 * "ssl_server" / "ssl_client" defaults), and -- when name is not NULL --
 * that the leaf is valid for that name:
 *   - an IP address literal ("127.0.0.1", "::1") must equal an IP SAN;
 *   - a host name is matched against the DNS SANs, case-insensitively, with
 *     a wildcard allowed only as the whole left-most label ("*.example.com"
 *     matches "a.example.com", not "a.b.example.com" nor "example.com";
 *     "f*.example.com" matches nothing); the subject CN is consulted only
 *     when the certificate has no DNS SAN at all (Python's default).
 * An empty name, or one starting with '.', is refused (INVALID_ARGUMENT,
 * as Python refuses such a server_hostname): to libcrypto the first means
 * "no check" and the second "any host under this domain". No security level is applied (no minimum key sizes): tlsv honours
 * the configuration it is given.
 *
 * Returns 0 when the chain is trusted. Otherwise -1 with
 * CERTIFICATE_VERIFY_FAILED, side LOCAL, the alert to send --
 *   unknown_ca            no trusted issuer, self-signed, path too long, invalid CA
 *   certificate_expired   the certificate (or a CRL) has expired
 *   bad_certificate       name mismatch, not yet valid, malformed fields,
 *                         undecodable signature or issuer key, untrusted/rejected
 *   unsupported_certificate  wrong purpose
 *   certificate_revoked   revoked
 *   decrypt_error         a signature does not verify
 *   internal_error        libcrypto failed (out of memory, lookup failure)
 *   certificate_unknown   anything else
 * (OpenSSL's own mapping, ssl_x509err2alert, so peers see what they would
 * see from OpenSSL) -- and Python's wording:
 *   "certificate verify failed: self-signed certificate (verify code 18,
 *    depth 0, subject 'CN=leaf')"
 *   "certificate verify failed: Hostname mismatch, certificate is not valid
 *    for 'example.com'. (verify code 62, depth 0)"
 *   "certificate verify failed: IP address mismatch, certificate is not
 *    valid for '127.0.0.2'. (verify code 64, depth 0)"
 * An empty chain, a NULL store or chain fail with INVALID_ARGUMENT (alert
 * NONE): whether an empty Certificate message is acceptable is the TLS
 * layer's decision, made before calling this.
 * If result is not NULL it receives the code and depth (code 0, depth -1 on
 * success; code 0 too when the failure was not a verification result). */
int tlsv_x509_verify(tlsv_x509_store *store, const tlsv_x509_chain *chain,
                     tlsv_x509_purpose purpose, const char *name,
                     tlsv_x509_verify_result *result, tlsv_error *err);

/* libcrypto's text for a verify code (X509_verify_cert_error_string), e.g.
 * "self-signed certificate", "certificate has expired". Never NULL; the
 * string is static for known codes. */
const char *tlsv_x509_verify_code_string(int code);

/* The name check alone, on the leaf, with the same rules as
 * tlsv_x509_verify (X509_check_host / X509_check_ip_asc): 0 when the leaf
 * is valid for name, else -1 with CERTIFICATE_VERIFY_FAILED, alert
 * bad_certificate and the same "Hostname mismatch ..." / "IP address
 * mismatch ..." message. INVALID_ARGUMENT for an empty chain, or a NULL,
 * empty or dot-led name. */
int tlsv_x509_check_name(const tlsv_x509_chain *chain, const char *name, tlsv_error *err);

/* ---------------------------------------------------------------------- */
/* Generated certificates (for demos and tests; never for production)     */
/* (added for tlsv_ctx_use_generated_certificate)                        */
/* ---------------------------------------------------------------------- */

/* Generates a throw-away self-signed certificate on a fresh ECDSA P-256 key:
 * subject and issuer CN=common_name; subjectAltName DNS:common_name (or
 * IP:common_name when it is an IP address literal) and IP:127.0.0.1;
 * basicConstraints CA:FALSE, extendedKeyUsage serverAuth and clientAuth, a
 * subjectKeyIdentifier; a random 128-bit serial; valid from one hour ago
 * for one day; signed with ecdsa-with-SHA256. common_name NULL means
 * "localhost"; otherwise it must be 1 to 64 characters of letters, digits,
 * '-', '.', '_', '*' and ':' (a host name or an IP literal), else
 * INVALID_ARGUMENT.
 * On success *chain receives a new one-certificate chain and *key_pem the
 * private key as unencrypted PKCS#8 PEM ("PRIVATE KEY"), malloc'ed, length
 * in *key_pem_len (NUL-terminated, not counted) -- the one place where this
 * module hands out secret material: the caller loads it into the crypto
 * seam (tlsv_pkey_private_from_pem), then wipes (tlsv_wipe) and frees it.
 * Returns 0, or -1 (INVALID_ARGUMENT, OUT_OF_MEMORY, or INTERNAL_ERROR when
 * libcrypto fails otherwise) with nothing allocated. */
int tlsv_x509_generate_self_signed(const char *common_name, tlsv_x509_chain **chain,
                                   char **key_pem, size_t *key_pem_len, tlsv_error *err);

#endif /* TLSV_X509_H */
