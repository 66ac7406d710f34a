/*
 * rsa_kx.h -- RSA key exchange primitives of TLS 1.0-1.2 (part of the
 * crypto seam; implemented in crypto/openssl.c).
 */
#ifndef TLSV_RSA_KX_H
#define TLSV_RSA_KX_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

/* RSAES-PKCS1-v1_5 encryption of in[0..in_len) to an RSA public key; the
 * ciphertext (modulus length) goes to out. Returns 0 or a negative error. */
int tlsv_rsa_encrypt_pkcs1(const tlsv_pkey *pub, const uint8_t *in, size_t in_len, uint8_t *out,
                           size_t out_cap, size_t *out_len);

/* Decrypts an EncryptedPreMasterSecret with the RFC 5246 §7.4.7.1
 * countermeasure: pms receives the 48-byte premaster secret when the
 * decryption succeeds, is 48 bytes long and starts with client_version;
 * otherwise 48 random bytes -- chosen without a branch on the secret or on
 * which check failed, so no timing or alert reveals it. Returns 0, or a
 * negative error only when no RSA operation could run at all (not an RSA
 * key, out of memory). */
int tlsv_rsa_decrypt_premaster(const tlsv_pkey *key, const uint8_t *in, size_t in_len,
                               uint16_t client_version, uint8_t pms[48]);

#endif /* TLSV_RSA_KX_H */
