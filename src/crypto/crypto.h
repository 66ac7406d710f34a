/*
 * crypto.h -- the one seam between tlsv and cryptographic primitives.
 *
 * Everything the protocol engine needs from cryptography goes through the
 * functions below: hashes and transcript hashing, HMAC, HKDF and the TLS 1.3
 * HKDF-Expand-Label, AEAD record protection (AES-GCM, ChaCha20-Poly1305),
 * AES-CBC for the TLS 1.0-1.2 CBC suites, ephemeral key exchange (X25519,
 * X448, the NIST curves), signatures for every TLS SignatureScheme tlsv
 * speaks, random bytes, constant-time comparison and secure wiping.
 *
 * The implementation lives in crypto/openssl.c (OpenSSL 3.0 libcrypto); no
 * OpenSSL type or header appears here, and no other file of the library may
 * include an OpenSSL header (x509.c excepted). Every object is opaque.
 *
 * Conventions
 *   - Functions returning int return TLSV_CRYPTO_OK (0) on success and one
 *     of the negative TLSV_CRYPTO_E* codes on failure, unless documented
 *     otherwise (predicates return 1/0).
 *   - Constructors return a new object or NULL on failure; the caller owns
 *     the object and releases it with the matching *_free, which accepts
 *     NULL and wipes any key material it held.
 *   - Output buffers come with their capacity (`out_cap`); a buffer that is
 *     too small fails with TLSV_CRYPTO_ENOSPC and nothing is written.
 *   - Algorithm identifiers are the TLS wire values where TLS has one
 *     (HashAlgorithm, NamedGroup, SignatureScheme), so the engine can pass
 *     what it parsed; values TLS does not define are documented as
 *     "not a wire value".
 *   - No function prints. When a call fails, libcrypto's per-thread error
 *     queue is cleared, so failures leave no residue for the application.
 *   - Algorithms are fetched from libcrypto once per process (lazily, on the
 *     first call that needs them, thread-safely); tlsv_crypto_init() does it
 *     eagerly. All functions are thread-safe as long as one object is not
 *     used by two threads at once; const objects (a tlsv_pkey used to sign
 *     or verify, a tlsv_kex used to derive) may be shared read-only.
 */
#ifndef TLSV_CRYPTO_H
#define TLSV_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------- */
/* Errors                                                                 */
/* ---------------------------------------------------------------------- */

enum {
    TLSV_CRYPTO_OK = 0,
    TLSV_CRYPTO_EINVAL = -1,       /* bad argument: NULL, wrong length, unknown id */
    TLSV_CRYPTO_EUNSUPPORTED = -2, /* algorithm or scheme not available (for this key) */
    TLSV_CRYPTO_ENOSPC = -3,       /* output buffer too small */
    TLSV_CRYPTO_EBADKEY = -4,      /* invalid key: peer share not on the curve, wrong
                                      size, all-zero X25519/X448 result, unusable key */
    TLSV_CRYPTO_EVERIFY = -5,      /* authentication failed: AEAD tag or signature */
    TLSV_CRYPTO_EDECODE = -6,      /* PEM / DER input could not be parsed */
    TLSV_CRYPTO_ENOMEM = -7,       /* allocation failed */
    TLSV_CRYPTO_EINTERNAL = -8     /* libcrypto failed unexpectedly (or is missing
                                      an algorithm this build needs) */
};

/* A short static description of an error code ("bad argument", ...); never
 * NULL ("unknown error" for other values). */
const char *tlsv_crypto_strerror(int err);

/* Fetches every algorithm the seam uses. Optional: each function does it on
 * first use. Returns 0, or TLSV_CRYPTO_EINTERNAL if libcrypto lacks one of
 * the core algorithms (SHA-256, SHA-384, HMAC, AES-128/256-GCM); the
 * result is computed once and returned again on every later call. Other
 * algorithms (MD5, SHA-1, ChaCha20-Poly1305, AES-CBC, a curve) may be
 * missing, e.g. under a FIPS provider: the calls that need them fail with
 * TLSV_CRYPTO_EUNSUPPORTED (constructors: NULL). */
int tlsv_crypto_init(void);

/* The libcrypto's own version text (static). */
const char *tlsv_crypto_version_text(void);

/* ---------------------------------------------------------------------- */
/* Utilities                                                              */
/* ---------------------------------------------------------------------- */

/* Fills out[0..len) with bytes from libcrypto's CSPRNG. len 0 is a no-op.
 * Returns 0, TLSV_CRYPTO_EINVAL (out NULL with len > 0) or
 * TLSV_CRYPTO_EINTERNAL (the generator failed; out is then zeroed). */
int tlsv_random(void *out, size_t len);
#ifdef TLSV_FUZZING
/* Restarts the fixed random sequence of a fuzzing build (see openssl.c). */
void tlsv_fuzz_reset_random(void);
#endif

/* Compares a[0..len) and b[0..len) in time that depends only on len.
 * Returns 0 when equal and a nonzero value otherwise (no ordering: use it
 * for MACs, Finished values, binders, never for sorting). */
int tlsv_ct_memcmp(const void *a, const void *b, size_t len);

/* Overwrites p[0..len) with zeros in a way the compiler cannot elide.
 * p may be NULL when len is 0. */
void tlsv_wipe(void *p, size_t len);

/* ---------------------------------------------------------------------- */
/* Hashes                                                                 */
/* ---------------------------------------------------------------------- */

/* Hash algorithms: the TLS 1.2 HashAlgorithm values (RFC 5246 §7.4.1.4.1),
 * plus MD5_SHA1, the 36-byte MD5 || SHA-1 concatenation of TLS 1.0/1.1
 * (transcript, RSA signatures). */
typedef enum tlsv_hash_alg {
    TLSV_HASH_NONE = 0,
    TLSV_HASH_MD5 = 1,
    TLSV_HASH_SHA1 = 2,
    TLSV_HASH_SHA256 = 4,
    TLSV_HASH_SHA384 = 5,
    TLSV_HASH_SHA512 = 6,
    TLSV_HASH_MD5_SHA1 = 0x100 /* not a wire value */
} tlsv_hash_alg;

/* The largest digest any tlsv_hash_alg produces (SHA-512). */
#define TLSV_HASH_MAX_LEN 64

/* Digest length in bytes (16, 20, 32, 48, 64, 36); 0 for an unknown alg. */
size_t tlsv_hash_len(tlsv_hash_alg alg);

/* Input block length in bytes (64 or 128); 0 for an unknown alg. */
size_t tlsv_hash_block_len(tlsv_hash_alg alg);

/* One-shot digest of data[0..len) into out (tlsv_hash_len(alg) bytes are
 * written). data may be NULL when len is 0.
 * Errors: EINVAL (unknown alg, NULL pointer), ENOSPC (out_cap too small),
 * EINTERNAL. */
int tlsv_hash(tlsv_hash_alg alg, const void *data, size_t len,
              uint8_t *out, size_t out_cap);

/* An incremental hash, e.g. a handshake transcript. */
typedef struct tlsv_hash_ctx tlsv_hash_ctx;

/* A new context for alg, ready to absorb data. NULL on failure (unknown
 * alg, out of memory). */
tlsv_hash_ctx *tlsv_hash_new(tlsv_hash_alg alg);

/* A new, independent context in the same state as src (a forked
 * transcript). NULL on failure. */
tlsv_hash_ctx *tlsv_hash_dup(const tlsv_hash_ctx *src);

/* Makes dst a copy of src's state (both must exist; their algorithms may
 * differ: dst takes src's). Returns 0, EINVAL or EINTERNAL. */
int tlsv_hash_copy(tlsv_hash_ctx *dst, const tlsv_hash_ctx *src);

/* The algorithm of a context. */
tlsv_hash_alg tlsv_hash_ctx_alg(const tlsv_hash_ctx *ctx);

/* Absorbs data[0..len) (data may be NULL when len is 0). Returns 0, EINVAL
 * or EINTERNAL. */
int tlsv_hash_update(tlsv_hash_ctx *ctx, const void *data, size_t len);

/* Writes the digest of everything absorbed so far into out WITHOUT ending
 * the context: it keeps absorbing afterwards ("Transcript-Hash so far").
 * The absorbed state is unchanged; ctx is not const only because a scratch
 * copy kept inside it is reused (no allocation after the first peek).
 * Returns 0, EINVAL, ENOSPC, ENOMEM or EINTERNAL. */
int tlsv_hash_peek(tlsv_hash_ctx *ctx, uint8_t *out, size_t out_cap);

/* Writes the digest and restarts the context empty (same algorithm), so it
 * can hash a new message. Returns 0, EINVAL, ENOSPC or EINTERNAL. */
int tlsv_hash_final(tlsv_hash_ctx *ctx, uint8_t *out, size_t out_cap);

/* Discards everything absorbed; the context is empty again. Returns 0,
 * EINVAL or EINTERNAL. */
int tlsv_hash_reset(tlsv_hash_ctx *ctx);

/* Releases a context (NULL is a no-op); its state is wiped. */
void tlsv_hash_free(tlsv_hash_ctx *ctx);

/* ---------------------------------------------------------------------- */
/* HMAC (RFC 2104)                                                        */
/* ---------------------------------------------------------------------- */

/* HMAC is available over MD5, SHA-1, SHA-256, SHA-384 and SHA-512
 * (MD5_SHA1 is refused with EINVAL). The MAC is tlsv_hash_len(alg) bytes. */

/* One-shot HMAC of data[0..len) under key[0..key_len) into out. key and
 * data may be NULL when their length is 0.
 * Errors: EINVAL, ENOSPC, ENOMEM, EINTERNAL. */
int tlsv_hmac(tlsv_hash_alg alg, const uint8_t *key, size_t key_len,
              const void *data, size_t len, uint8_t *out, size_t out_cap);

/* An incremental HMAC bound to one key, reusable for many MACs (e.g. one
 * per CBC record): after tlsv_hmac_final it is ready for the next message
 * under the same key, without re-keying. (Under OpenSSL 3.0 each MAC still
 * costs two small allocations inside libcrypto's HMAC, which copies its
 * keyed digest states; AEAD records cost none.)
 * Note for CBC suites: this is a plain HMAC; a Lucky13-safe record check
 * (constant time over the padding length) must be built by the caller. */
typedef struct tlsv_hmac_ctx tlsv_hmac_ctx;

/* A new keyed context; the key is copied (and wiped on free). key may be
 * NULL when key_len is 0. NULL on failure. */
tlsv_hmac_ctx *tlsv_hmac_new(tlsv_hash_alg alg, const uint8_t *key, size_t key_len);

/* Absorbs data. Returns 0, EINVAL or EINTERNAL. */
int tlsv_hmac_update(tlsv_hmac_ctx *ctx, const void *data, size_t len);

/* Writes the MAC of everything absorbed since the last final/reset and
 * restarts the context for a new message under the same key. Returns 0,
 * EINVAL, ENOSPC or EINTERNAL. */
int tlsv_hmac_final(tlsv_hmac_ctx *ctx, uint8_t *out, size_t out_cap);

/* Discards absorbed data; the context restarts under the same key. */
int tlsv_hmac_reset(tlsv_hmac_ctx *ctx);

/* The MAC length of a context (0 for NULL). */
size_t tlsv_hmac_len(const tlsv_hmac_ctx *ctx);

/* Releases a context (NULL is a no-op); key material is wiped. */
void tlsv_hmac_free(tlsv_hmac_ctx *ctx);

/* ---------------------------------------------------------------------- */
/* HKDF (RFC 5869) and TLS 1.3 HKDF-Expand-Label (RFC 8446 §7.1)           */
/* ---------------------------------------------------------------------- */

/* HKDF-Extract(salt, IKM): writes the PRK, tlsv_hash_len(alg) bytes, into
 * prk. An absent salt (salt NULL or salt_len 0) means HashLen zero bytes,
 * as the RFC says. ikm may be NULL when ikm_len is 0.
 * Errors: EINVAL (unknown alg, MD5_SHA1, NULL pointers), ENOSPC, EINTERNAL. */
int tlsv_hkdf_extract(tlsv_hash_alg alg, const uint8_t *salt, size_t salt_len,
                      const uint8_t *ikm, size_t ikm_len,
                      uint8_t *prk, size_t prk_cap);

/* HKDF-Expand(PRK, info, L): writes exactly out_len (= L) bytes into out.
 * L may not exceed 255 * HashLen (EINVAL). prk_len should be at least
 * HashLen (RFC 5869) but any length is accepted. info may be NULL when
 * info_len is 0. On failure out is zeroed.
 * Errors: EINVAL, EINTERNAL. */
int tlsv_hkdf_expand(tlsv_hash_alg alg, const uint8_t *prk, size_t prk_len,
                     const uint8_t *info, size_t info_len,
                     uint8_t *out, size_t out_len);

/* HKDF-Expand-Label(Secret, Label, Context, Length) of TLS 1.3:
 *   HKDF-Expand(Secret, HkdfLabel, Length) with
 *   struct { uint16 length = Length;
 *            opaque label<7..255> = "tls13 " + Label;
 *            opaque context<0..255> = Context; } HkdfLabel;
 * `label` is given WITHOUT the "tls13 " prefix (e.g. "key", "iv",
 * "c hs traffic", "derived", "finished") as a NUL-terminated string of at
 * most 249 bytes; context may be NULL when context_len is 0 (at most 255).
 * Derive-Secret(Secret, Label, Messages) is this function with
 * context = Transcript-Hash(Messages) and out_len = HashLen.
 * Writes exactly out_len bytes (at most 65535 and 255 * HashLen).
 * Errors: EINVAL, EINTERNAL; on failure out is zeroed. */
int tlsv_hkdf_expand_label(tlsv_hash_alg alg, const uint8_t *secret, size_t secret_len,
                           const char *label, const uint8_t *context, size_t context_len,
                           uint8_t *out, size_t out_len);

/* ---------------------------------------------------------------------- */
/* AEAD record protection                                                 */
/* ---------------------------------------------------------------------- */

typedef enum tlsv_aead_alg {
    TLSV_AEAD_AES_128_GCM = 1,
    TLSV_AEAD_AES_256_GCM = 2,
    TLSV_AEAD_CHACHA20_POLY1305 = 3
} tlsv_aead_alg;

#define TLSV_AEAD_NONCE_LEN 12   /* every tlsv AEAD takes a 96-bit nonce */
#define TLSV_AEAD_TAG_LEN 16     /* and appends a 128-bit tag */
#define TLSV_AEAD_MAX_KEY_LEN 32

/* Key length of an algorithm (16 or 32); 0 for an unknown one. */
size_t tlsv_aead_key_len(tlsv_aead_alg alg);

/* An AEAD keyed once (one per connection direction) and used for many
 * records: each seal/open takes the record's full 12-byte nonce (TLS 1.3:
 * write_iv XOR padded sequence number; TLS 1.2 GCM: 4-byte salt || 8-byte
 * explicit nonce, RFC 5288; TLS 1.2 ChaCha20: as 1.3, RFC 7905). Nothing is
 * allocated per record. A context may both seal and open. */
typedef struct tlsv_aead_ctx tlsv_aead_ctx;

/* A new context under key[0..key_len) (key_len must equal
 * tlsv_aead_key_len(alg)). The key is not kept in the clear by tlsv; the
 * cipher's schedule is wiped on free. NULL on failure. */
tlsv_aead_ctx *tlsv_aead_new(tlsv_aead_alg alg, const uint8_t *key, size_t key_len);

/* Encrypts in[0..in_len) with additional data aad[0..aad_len) and writes
 * ciphertext || tag (in_len + TLSV_AEAD_TAG_LEN bytes) to out, setting
 * *out_len. out may be exactly in (in-place); otherwise the buffers must
 * not overlap. aad / in may be NULL when their length is 0.
 * Errors: EINVAL (nonce_len != 12, NULL pointers), ENOSPC, EINTERNAL. */
int tlsv_aead_seal(tlsv_aead_ctx *ctx, const uint8_t *nonce, size_t nonce_len,
                   const uint8_t *aad, size_t aad_len,
                   const uint8_t *in, size_t in_len,
                   uint8_t *out, size_t out_cap, size_t *out_len);

/* As tlsv_aead_seal, for TLS 1.3's TLSInnerPlaintext: seals in[0..in_len)
 * followed by the one byte `type`, reading the plaintext where it is (no
 * copy into out first); out receives in_len + 1 + 16 bytes. */
int tlsv_aead_seal_typed(tlsv_aead_ctx *ctx, const uint8_t *nonce, size_t nonce_len,
                         const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t in_len,
                         uint8_t type, uint8_t *out, size_t out_cap, size_t *out_len);

/* Decrypts and authenticates in[0..in_len) = ciphertext || tag and writes
 * the plaintext (in_len - TLSV_AEAD_TAG_LEN bytes) to out, setting
 * *out_len. out may be exactly in (in-place). If the tag does not verify,
 * returns TLSV_CRYPTO_EVERIFY, zeroes out[0..in_len - 16) and sets
 * *out_len to 0: no unauthenticated plaintext is ever released.
 * Errors: EINVAL (nonce_len != 12, in_len < 16, NULL), ENOSPC, EVERIFY,
 * EINTERNAL. */
int tlsv_aead_open(tlsv_aead_ctx *ctx, const uint8_t *nonce, size_t nonce_len,
                   const uint8_t *aad, size_t aad_len,
                   const uint8_t *in, size_t in_len,
                   uint8_t *out, size_t out_cap, size_t *out_len);

/* As tlsv_aead_open, the plaintext split over two buffers: its first `first`
 * bytes to out, the rest to out2 (which may be NULL when there is no rest).
 * Lets a TLS 1.3 record's content land in the reader's buffer while its
 * content type and padding go to a scratch buffer. Same errors; on failure
 * both buffers are zeroed. */
int tlsv_aead_open_split(tlsv_aead_ctx *ctx, const uint8_t *nonce, size_t nonce_len,
                         const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t in_len,
                         uint8_t *out, size_t first, uint8_t *out2, size_t *out_len);

/* Releases a context (NULL is a no-op); the key schedule is wiped. */
void tlsv_aead_free(tlsv_aead_ctx *ctx);

/* ---------------------------------------------------------------------- */
/* AES-CBC without padding (TLS 1.0-1.2 CBC suites)                        */
/* ---------------------------------------------------------------------- */

typedef enum tlsv_cbc_alg {
    TLSV_CBC_AES_128 = 1,
    TLSV_CBC_AES_256 = 2
} tlsv_cbc_alg;

#define TLSV_CBC_BLOCK_LEN 16

/* Key length (16 or 32); 0 for an unknown alg. */
size_t tlsv_cbc_key_len(tlsv_cbc_alg alg);

/* A CBC cipher keyed once for ONE direction (encrypt != 0: encrypt; 0:
 * decrypt), since AES uses different key schedules for each. The record
 * layer adds and checks TLS padding itself: this context never pads. */
typedef struct tlsv_cbc_ctx tlsv_cbc_ctx;

/* A new context; key_len must equal tlsv_cbc_key_len(alg). NULL on
 * failure. */
tlsv_cbc_ctx *tlsv_cbc_new(tlsv_cbc_alg alg, const uint8_t *key, size_t key_len, int encrypt);

/* Encrypts or decrypts (per the context's direction) in[0..len) into
 * out[0..len); len must be a multiple of 16 (0 is allowed). With iv
 * non-NULL (16 bytes) the chain starts from that IV (TLS 1.1+ explicit IV);
 * with iv NULL it continues from the last ciphertext block of the previous
 * call (TLS 1.0's chained IV; the first call must give an IV). out may be
 * exactly in. Errors: EINVAL (len not a block multiple, no IV yet, NULL),
 * EINTERNAL. */
int tlsv_cbc_crypt(tlsv_cbc_ctx *ctx, const uint8_t *iv,
                   const uint8_t *in, size_t len, uint8_t *out);

/* Releases a context (NULL is a no-op); the key schedule is wiped. */
void tlsv_cbc_free(tlsv_cbc_ctx *ctx);

/* ---------------------------------------------------------------------- */
/* Ephemeral key exchange (TLS NamedGroup)                                */
/* ---------------------------------------------------------------------- */

typedef enum tlsv_group {
    TLSV_GROUP_SECP256R1 = 0x0017,
    TLSV_GROUP_SECP384R1 = 0x0018,
    TLSV_GROUP_SECP521R1 = 0x0019,
    TLSV_GROUP_X25519 = 0x001d,
    TLSV_GROUP_X448 = 0x001e
} tlsv_group;

#define TLSV_KEX_MAX_PUBLIC_LEN 133 /* secp521r1: 0x04 || X(66) || Y(66) */
#define TLSV_KEX_MAX_SECRET_LEN 66  /* secp521r1 X coordinate */

/* 1 if this build can use the group, 0 otherwise (unknown group, or
 * libcrypto lacks it). */
int tlsv_kex_supported(tlsv_group group);

/* Length of the group's key share on the wire: 32 (X25519), 56 (X448),
 * 65 / 97 / 133 (P-256 / P-384 / P-521, uncompressed point). 0 if unknown. */
size_t tlsv_kex_public_len(tlsv_group group);

/* Length of the shared secret: 32, 56, 32, 48, 66. 0 if unknown. */
size_t tlsv_kex_secret_len(tlsv_group group);

/* One side's ephemeral key pair. */
typedef struct tlsv_kex tlsv_kex;

/* Generates a fresh key pair in group. NULL on failure (unsupported group,
 * out of memory, generator failure). */
tlsv_kex *tlsv_kex_generate(tlsv_group group);

/* Makes a key pair from a given private key (for known-answer tests and
 * reproducible traces; a TLS handshake uses tlsv_kex_generate). The
 * private key is raw: 32/56 bytes for X25519/X448 (RFC 7748, clamped by the
 * curve function, not by the caller), a big-endian scalar of the field
 * size for the NIST curves (32/48/66 bytes; must be in [1, n-1]).
 * NULL on failure (bad length, scalar out of range, unsupported group). */
tlsv_kex *tlsv_kex_from_private(tlsv_group group, const uint8_t *priv, size_t priv_len);

/* The group of a key pair. */
tlsv_group tlsv_kex_group(const tlsv_kex *kex);

/* Writes this side's public key in TLS wire format (KeyShareEntry /
 * ECPoint): the raw u-coordinate for X25519/X448, 0x04 || X || Y for the
 * NIST curves; tlsv_kex_public_len(group) bytes, length in *out_len.
 * Errors: EINVAL, ENOSPC. */
int tlsv_kex_public(const tlsv_kex *kex, uint8_t *out, size_t out_cap, size_t *out_len);

/* Computes the shared secret with a peer's wire-format public key and
 * writes it (tlsv_kex_secret_len(group) bytes: the X25519/X448 output, or
 * the ECDH x-coordinate left-padded to the field size, RFC 8446 §7.4.2) to
 * out, length in *out_len. The peer key must have exactly the group's
 * public length; NIST points must be uncompressed (0x04) and on the curve.
 * Errors: EBADKEY (wrong length, not a valid point, all-zero X25519/X448
 * result), EINVAL, ENOSPC, ENOMEM, EINTERNAL. On failure *out_len is 0
 * and, except for ENOSPC and NULL arguments, out[0..secret_len) is zeroed. */
int tlsv_kex_derive(const tlsv_kex *kex, const uint8_t *peer, size_t peer_len,
                    uint8_t *out, size_t out_cap, size_t *out_len);

/* Releases a key pair (NULL is a no-op); the private key is wiped. */
void tlsv_kex_free(tlsv_kex *kex);

/* ---------------------------------------------------------------------- */
/* Signatures (TLS SignatureScheme)                                       */
/* ---------------------------------------------------------------------- */

/* TLS 1.3 SignatureScheme values (RFC 8446 §4.2.3); in TLS 1.2 the same
 * two bytes are SignatureAndHashAlgorithm (hash, signature). */
enum {
    TLSV_SIG_RSA_PKCS1_SHA1 = 0x0201,
    TLSV_SIG_ECDSA_SHA1 = 0x0203,
    TLSV_SIG_RSA_PKCS1_SHA256 = 0x0401,
    TLSV_SIG_ECDSA_SECP256R1_SHA256 = 0x0403,
    TLSV_SIG_RSA_PKCS1_SHA384 = 0x0501,
    TLSV_SIG_ECDSA_SECP384R1_SHA384 = 0x0503,
    TLSV_SIG_RSA_PKCS1_SHA512 = 0x0601,
    TLSV_SIG_ECDSA_SECP521R1_SHA512 = 0x0603,
    TLSV_SIG_RSA_PSS_RSAE_SHA256 = 0x0804,
    TLSV_SIG_RSA_PSS_RSAE_SHA384 = 0x0805,
    TLSV_SIG_RSA_PSS_RSAE_SHA512 = 0x0806,
    TLSV_SIG_ED25519 = 0x0807,
    TLSV_SIG_ED448 = 0x0808,
    TLSV_SIG_RSA_PSS_PSS_SHA256 = 0x0809,
    TLSV_SIG_RSA_PSS_PSS_SHA384 = 0x080a,
    TLSV_SIG_RSA_PSS_PSS_SHA512 = 0x080b,
    /* Not a wire value (taken from the private-use range): RSASSA-PKCS1-v1_5
     * over the 36-byte MD5 || SHA-1 digest WITHOUT DigestInfo, the RSA
     * signature of TLS 1.0/1.1 (RFC 4346 §7.4.3). ECDSA in TLS 1.0/1.1 is
     * TLSV_SIG_ECDSA_SHA1. */
    TLSV_SIG_RSA_PKCS1_MD5_SHA1 = 0xfe01
};

/* Key kinds. */
typedef enum tlsv_pkey_type {
    TLSV_PKEY_RSA = 1,     /* rsaEncryption: PKCS#1 v1.5 and rsa_pss_rsae_* */
    TLSV_PKEY_RSA_PSS = 2, /* id-RSASSA-PSS: rsa_pss_pss_* only */
    TLSV_PKEY_EC = 3,      /* ECDSA over P-256, P-384 or P-521 */
    TLSV_PKEY_ED25519 = 4,
    TLSV_PKEY_ED448 = 5
} tlsv_pkey_type;

/* Flags for tlsv_sig_key_supports(). */
#define TLSV_SIG_SIGN 0x1u  /* the private half is needed (signing) */
#define TLSV_SIG_TLS13 0x2u /* apply TLS 1.3 rules (RFC 8446 §4.2.3, §4.4.3):
                               ECDSA schemes bind the curve; PKCS#1 v1.5,
                               SHA-1 and MD5_SHA1 schemes are refused */

/* A public key, or a private key with its public half. Immutable once
 * loaded, so one key may be shared by many connections and threads. */
typedef struct tlsv_pkey tlsv_pkey;

/* Loads a private key from PEM in memory ("PRIVATE KEY" PKCS#8,
 * "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"). password
 * (NUL-terminated) decrypts an encrypted key; with NULL an encrypted key
 * fails (never prompts). If err is not NULL it receives 0 or the error:
 * EDECODE (not a key, wrong password), EUNSUPPORTED (a key type or curve
 * tlsv cannot sign with), EINVAL, ENOMEM. Returns NULL on failure. */
tlsv_pkey *tlsv_pkey_private_from_pem(const void *pem, size_t len, const char *password, int *err);

/* Loads a private key from DER (PKCS#8 PrivateKeyInfo, or the traditional
 * RSA / EC forms). Same errors as the PEM loader. */
tlsv_pkey *tlsv_pkey_private_from_der(const uint8_t *der, size_t len, int *err);

/* Loads a public key from PEM ("PUBLIC KEY", SubjectPublicKeyInfo).
 * Errors as above. */
tlsv_pkey *tlsv_pkey_public_from_pem(const void *pem, size_t len, int *err);

/* Loads a public key from a DER SubjectPublicKeyInfo (what a certificate
 * carries; x509.c hands it over this way). The whole input must be the one
 * structure (trailing bytes: EDECODE). Errors as above. */
tlsv_pkey *tlsv_pkey_public_from_spki(const uint8_t *der, size_t len, int *err);

/* Key facts. tlsv_pkey_group: the curve of an EC key as a tlsv_group
 * (0 for other types). tlsv_pkey_bits: modulus / curve size in bits.
 * tlsv_pkey_has_private: 1 if the key can sign. */
tlsv_pkey_type tlsv_pkey_get_type(const tlsv_pkey *key);
tlsv_group tlsv_pkey_group(const tlsv_pkey *key);
int tlsv_pkey_bits(const tlsv_pkey *key);
int tlsv_pkey_has_private(const tlsv_pkey *key);

/* Largest signature this key produces (RSA: modulus size; ECDSA: maximum
 * DER length; Ed25519: 64; Ed448: 114); 0 for NULL. */
size_t tlsv_pkey_sig_max_len(const tlsv_pkey *key);

/* Wraps a public key libcrypto already parsed (an EVP_PKEY *, taken with a
 * reference of its own; the caller keeps its). Only x509.c, the other file
 * that holds libcrypto types, calls this: a certificate's key is parsed once
 * with the certificate, never re-decoded from its SubjectPublicKeyInfo.
 * Errors as above. */
tlsv_pkey *tlsv_pkey_from_libcrypto(void *evp_pkey, int *err);

/* Keys are reference counted and immutable once made: up_ref returns `key`
 * with one more reference (NULL stays NULL); each reference is released
 * with tlsv_pkey_free. Safe to share between threads. */
tlsv_pkey *tlsv_pkey_up_ref(tlsv_pkey *key);

/* Releases a reference to a key (NULL is a no-op); the last one wipes the
 * private material. */
void tlsv_pkey_free(tlsv_pkey *key);

/* The hash a scheme signs with (TLSV_HASH_NONE for Ed25519/Ed448, which
 * sign the message itself); TLSV_CRYPTO_EUNSUPPORTED (negative) for a
 * scheme tlsv does not know. */
int tlsv_sig_scheme_hash(uint16_t scheme);

/* Returns 1 if `key` can be used with `scheme` (flags: TLSV_SIG_SIGN to
 * require the private half, TLSV_SIG_TLS13 for TLS 1.3 rules), else 0:
 *   rsa_pkcs1_*, rsa_pss_rsae_*, RSA_PKCS1_MD5_SHA1  need an RSA key;
 *   rsa_pss_pss_*                                    need an RSA-PSS key;
 *   ecdsa_*   need an EC key; with TLS13 on the scheme's curve
 *             (ecdsa_sha1 not at all), in TLS 1.2 on any curve;
 *   ed25519 / ed448 need that key type.
 * RSA-PSS also needs a modulus long enough for the salt (2*HashLen + 2
 * bytes: a 1024-bit key cannot do rsa_pss_*_sha512). */
int tlsv_sig_key_supports(const tlsv_pkey *key, uint16_t scheme, unsigned flags);

/* Signs msg[0..msg_len) with `scheme` (the scheme's hash is applied here;
 * RSA-PSS uses MGF1 with the same hash and a salt of HashLen bytes, as
 * RFC 8446 requires) and writes the signature to sig, length in *sig_len.
 * sig_cap should be tlsv_pkey_sig_max_len(key).
 * Errors: EUNSUPPORTED (key/scheme mismatch, not a private key), EINVAL,
 * ENOSPC, ENOMEM, EINTERNAL. */
int tlsv_sign(const tlsv_pkey *key, uint16_t scheme, const uint8_t *msg, size_t msg_len,
              uint8_t *sig, size_t sig_cap, size_t *sig_len);

/* Verifies sig over msg with `scheme`. Returns 0 when the signature is
 * valid, TLSV_CRYPTO_EVERIFY when it is not (including malformed
 * signatures), EUNSUPPORTED for a key/scheme mismatch, EINVAL, EINTERNAL. */
int tlsv_verify(const tlsv_pkey *key, uint16_t scheme, const uint8_t *msg, size_t msg_len,
                const uint8_t *sig, size_t sig_len);

/* As tlsv_sign / tlsv_verify over a digest the caller already computed
 * (digest_len must be the scheme's hash length; e.g. TLS 1.0-1.2
 * CertificateVerify from a running transcript hash). Not for Ed25519/Ed448
 * (EUNSUPPORTED). */
int tlsv_sign_digest(const tlsv_pkey *key, uint16_t scheme,
                     const uint8_t *digest, size_t digest_len,
                     uint8_t *sig, size_t sig_cap, size_t *sig_len);
int tlsv_verify_digest(const tlsv_pkey *key, uint16_t scheme,
                       const uint8_t *digest, size_t digest_len,
                       const uint8_t *sig, size_t sig_len);

/* ---------------------------------------------------------------------- */
/* Added for the TLS 1.0-1.2 record layer: the constant-time MAC of a      */
/* MAC-then-encrypt CBC record (Lucky Thirteen countermeasure)             */
/* ---------------------------------------------------------------------- */

/* The TLS header the record MAC covers: seq_num(8) || type(1) ||
 * version(2) || length(2) (RFC 5246 §6.2.3.1). */
#define TLSV_CBC_MAC_HEADER_LEN 13

/* HMAC(key of ctx, header[0..13) || data[0..data_len)) written to out
 * (tlsv_hmac_len(ctx) bytes), computed in time and with memory accesses
 * that do not depend on data_len, only on `total`.
 *
 * This is the receive-side MAC of a MAC-then-encrypt CBC record: after
 * decryption the length of the content, data_len, depends on the padding
 * and is secret until the MAC has been checked (Lucky Thirteen, RFC 7366
 * §1). `total` is the public length of the decrypted fragment (content +
 * MAC + padding + padding_length byte), data[0..total) must be readable,
 * and data_len must be at most total - MAC length - 1 (a larger value is
 * clamped to that, without a branch). The header's length field is the
 * caller's (secret) data_len. Implemented with libcrypto's constant-time
 * TLS CBC digest (the HMAC provider's "tls-data-size" parameter), which
 * hashes a number of compression blocks fixed by `total` and masks the
 * result; supported for MD5, SHA-1, SHA-256, SHA-384 and SHA-512 HMACs
 * whose key is at most one hash block long (TLS MAC keys are the hash
 * length). One libcrypto check compares data_len with `total` before the
 * constant-time digest (a branch that always goes the same way here, but
 * one a valgrind constant-time check will report). ctx is not changed
 * (the MAC runs on a copy, which costs a few small allocations inside
 * libcrypto).
 * Errors: EINVAL (NULL, total < MAC length + 1 or > 2^20), ENOSPC,
 * EUNSUPPORTED (libcrypto's HMAC refused the TLS mode), ENOMEM, EINTERNAL. */
int tlsv_hmac_cbc_record(tlsv_hmac_ctx *ctx, const uint8_t header[TLSV_CBC_MAC_HEADER_LEN],
                         const uint8_t *data, size_t data_len, size_t total,
                         uint8_t *out, size_t out_cap);

#endif /* TLSV_CRYPTO_H */
