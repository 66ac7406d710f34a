/*
 * tls12.c -- helpers shared by the TLS 1.0-1.2 state machines. See tls12.h.
 */
#include "tls12.h"

#include <string.h>

#include "engine/prf12.h"
#include "err.h"
#include "version.h"

const uint16_t tlsv_sigalgs12[] = {
    TLSV_SIG_ECDSA_SECP256R1_SHA256, TLSV_SIG_ECDSA_SECP384R1_SHA384,
    TLSV_SIG_ECDSA_SECP521R1_SHA512, TLSV_SIG_ED25519,
    TLSV_SIG_ED448,                  TLSV_SIG_RSA_PSS_RSAE_SHA256,
    TLSV_SIG_RSA_PSS_RSAE_SHA384,    TLSV_SIG_RSA_PSS_RSAE_SHA512,
    TLSV_SIG_RSA_PSS_PSS_SHA256,     TLSV_SIG_RSA_PSS_PSS_SHA384,
    TLSV_SIG_RSA_PSS_PSS_SHA512,     TLSV_SIG_RSA_PKCS1_SHA256,
    TLSV_SIG_RSA_PKCS1_SHA384,       TLSV_SIG_RSA_PKCS1_SHA512,
    TLSV_SIG_ECDSA_SHA1,             TLSV_SIG_RSA_PKCS1_SHA1,
};
const size_t tlsv_sigalgs12_count = sizeof tlsv_sigalgs12 / sizeof tlsv_sigalgs12[0];

size_t tlsv_tls12_ctx_suites(const tlsv_ctx *ctx, bool server, uint16_t *out, size_t cap)
{
    if (ctx->n_suites12) {
        size_t n = ctx->n_suites12 < cap ? ctx->n_suites12 : cap;
        memcpy(out, ctx->suites12, n * sizeof out[0]);
        return n;
    }
    return tlsv_default_suites12(server, out, cap);
}

tlsv_hash_alg tlsv_tls12_handshake_hash(uint16_t version, const tlsv_suite *s)
{
    return version >= TLSV_V_TLS12 ? s->hash : TLSV_HASH_MD5_SHA1;
}

uint16_t tlsv_tls12_pick_scheme(const tlsv_pkey *key, uint16_t version, tlsv_bytes peer_list,
                                bool peer_sent_list)
{
    tlsv_pkey_type t = tlsv_pkey_get_type(key);
    if (version < TLSV_V_TLS12) {
        uint16_t s = t == TLSV_PKEY_RSA ? TLSV_SIG_RSA_PKCS1_MD5_SHA1
                     : t == TLSV_PKEY_EC ? TLSV_SIG_ECDSA_SHA1
                                         : 0;
        return s && tlsv_sig_key_supports(key, s, TLSV_SIG_SIGN) ? s : 0;
    }
    if (!peer_sent_list) { /* RFC 5246 §7.4.1.4.1: assume SHA-1 */
        uint16_t s = t == TLSV_PKEY_RSA ? TLSV_SIG_RSA_PKCS1_SHA1
                     : t == TLSV_PKEY_EC ? TLSV_SIG_ECDSA_SHA1
                                         : 0;
        return s && tlsv_sig_key_supports(key, s, TLSV_SIG_SIGN) ? s : 0;
    }
    for (size_t i = 0; i < tlsv_sigalgs12_count; i++) {
        uint16_t s = tlsv_sigalgs12[i];
        if (tlsv_u16_contains(peer_list, s) && tlsv_sig_key_supports(key, s, TLSV_SIG_SIGN))
            return s;
    }
    return 0;
}

int tlsv_tls12_master_secret(uint16_t version, const tlsv_suite *s, const uint8_t *pms,
                             size_t pms_len, const uint8_t cr[32], const uint8_t sr[32],
                             const uint8_t *session_hash, size_t sh_len, uint8_t master[48])
{
    if (session_hash)
        return tlsv_prf12_ems(version, s->hash, pms, pms_len, session_hash, sh_len, master);
    return tlsv_prf12_master(version, s->hash, pms, pms_len, cr, sr, master);
}

int tlsv_tls12_install(tlsv_engine *e, bool write, bool client_keys, uint16_t version,
                       const tlsv_suite *s, const uint8_t master[48], const uint8_t cr[32],
                       const uint8_t sr[32], bool etm)
{
    size_t mac_len = s->aead ? 0 : tlsv_hash_len(s->mac);
    size_t key_len = s->aead ? tlsv_aead_key_len(s->aead) : tlsv_cbc_key_len(s->cbc);
    size_t iv_len = s->aead == TLSV_AEAD_CHACHA20_POLY1305 ? 12
                    : s->aead                              ? 4
                    : version <= TLSV_V_TLS10              ? 16
                                                           : 0;
    tlsv_keys12 keys;
    if (tlsv_prf12_keys(version, s->hash, master, cr, sr, mac_len, key_len, iv_len, &keys) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not derive the key block");
    tlsv_rec_keys12 k = {
        .mac_key = client_keys ? keys.client_mac : keys.server_mac,
        .mac_key_len = mac_len,
        .key = client_keys ? keys.client_key : keys.server_key,
        .key_len = key_len,
        .iv = client_keys ? keys.client_iv : keys.server_iv,
        .iv_len = iv_len,
    };
    int rc = 0;
    if (write && tlsv_engine_flush(e) != 0)
        rc = -2;
    tlsv_rec_dir *d = write ? &e->wr : &e->rd;
    if (rc == 0)
        rc = s->aead ? tlsv_rec_dir_set_aead12(d, version, s->aead, &k)
                     : tlsv_rec_dir_set_cbc(d, version,
                                            (write ? TLSV_REC_SEAL : 0u) | (etm ? TLSV_REC_ETM : 0u),
                                            s->cbc, s->mac, &k);
    tlsv_keys12_wipe(&keys);
    if (rc == -2)
        return -1;
    if (rc != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not install the %s keys", write ? "write" : "read");
    return 0;
}

int tlsv_tls12_finished(uint16_t version, const tlsv_suite *s, const uint8_t master[48],
                        bool from_client, const uint8_t *msgs, size_t msgs_len, uint8_t *out,
                        size_t *out_len)
{
#ifdef TLSV_HAVE_SSL3
    if (version == TLSV_V_SSL3) {
        tlsv_hash_ctx *md5 = tlsv_hash_new(TLSV_HASH_MD5), *sha1 = tlsv_hash_new(TLSV_HASH_SHA1);
        int rc = md5 && sha1 && tlsv_hash_update(md5, msgs, msgs_len) == 0 &&
                         tlsv_hash_update(sha1, msgs, msgs_len) == 0 &&
                         tlsv_ssl3_finished(md5, sha1, master, from_client, out) == 0
                     ? 0
                     : -1;
        tlsv_hash_free(md5);
        tlsv_hash_free(sha1);
        *out_len = TLSV_SSL3_VERIFY_LEN;
        return rc;
    }
#endif
    uint8_t th[TLSV_HASH_MAX_LEN];
    tlsv_hash_alg h = tlsv_tls12_handshake_hash(version, s);
    if (tlsv_hash(h, msgs, msgs_len, th, sizeof th) != 0)
        return -1;
    *out_len = TLSV_PRF12_VERIFY_LEN;
    return tlsv_prf12_finished(version, s->hash, master, from_client, th, tlsv_hash_len(h), out);
}
