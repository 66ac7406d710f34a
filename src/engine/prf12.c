/*
 * prf12.c -- the TLS 1.0-1.2 PRF and SSL 3.0 key derivation. See prf12.h.
 */
#include "prf12.h"

#include <string.h>

#include "version.h"

/* ---- P_hash (RFC 5246 §5) ------------------------------------------------ */

/*
 * P_hash(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...
 *   A(0) = seed, A(i) = HMAC(secret, A(i-1)),   seed = label + seed1 + seed2.
 * With xor set the output is XORed into out (the TLS 1.0 PRF combines two
 * P_hash streams that way); otherwise it is written.
 */
static int p_hash(tlsv_hash_alg hash, const uint8_t *secret, size_t secret_len,
                  const char *label, const uint8_t *seed1, size_t seed1_len,
                  const uint8_t *seed2, size_t seed2_len, uint8_t *out, size_t out_len, bool xor)
{
    size_t hlen = tlsv_hash_len(hash);
    size_t label_len = strlen(label);
    uint8_t a[TLSV_HASH_MAX_LEN], t[TLSV_HASH_MAX_LEN];
    int rc = -1;
    tlsv_hmac_ctx *h = tlsv_hmac_new(hash, secret, secret_len);
    if (!h || hlen == 0)
        goto out;
    /* A(1) = HMAC(secret, seed) */
    if (tlsv_hmac_update(h, label, label_len) != 0 || tlsv_hmac_update(h, seed1, seed1_len) != 0 ||
        tlsv_hmac_update(h, seed2, seed2_len) != 0 || tlsv_hmac_final(h, a, sizeof a) != 0)
        goto out;
    for (size_t off = 0; off < out_len;) {
        if (tlsv_hmac_update(h, a, hlen) != 0 || tlsv_hmac_update(h, label, label_len) != 0 ||
            tlsv_hmac_update(h, seed1, seed1_len) != 0 ||
            tlsv_hmac_update(h, seed2, seed2_len) != 0 || tlsv_hmac_final(h, t, sizeof t) != 0)
            goto out;
        size_t take = out_len - off < hlen ? out_len - off : hlen;
        for (size_t i = 0; i < take; i++)
            out[off + i] = xor ? (uint8_t)(out[off + i] ^ t[i]) : t[i];
        off += take;
        /* A(i+1) = HMAC(secret, A(i)), only when another block follows */
        if (off < out_len &&
            (tlsv_hmac_update(h, a, hlen) != 0 || tlsv_hmac_final(h, a, sizeof a) != 0))
            goto out;
    }
    rc = 0;
out:
    tlsv_hmac_free(h);
    tlsv_wipe(a, sizeof a);
    tlsv_wipe(t, sizeof t);
    return rc;
}

int tlsv_prf12(tlsv_hash_alg hash, const uint8_t *secret, size_t secret_len, const char *label,
               const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2, size_t seed2_len,
               uint8_t *out, size_t out_len)
{
    if (!label || (!secret && secret_len) || (!seed1 && seed1_len) || (!seed2 && seed2_len) ||
        (!out && out_len))
        return -1;
    if (out_len == 0)
        return 0;
    int rc;
    if (hash == TLSV_HASH_MD5_SHA1) {
        /*
         * TLS 1.0/1.1: S1 is the first and S2 the last ceil(len/2) bytes of
         * the secret (they share the middle byte when the length is odd);
         * PRF = P_MD5(S1, label + seed) XOR P_SHA-1(S2, label + seed).
         */
        size_t half = (secret_len + 1) / 2;
        rc = p_hash(TLSV_HASH_MD5, secret, half, label, seed1, seed1_len, seed2, seed2_len, out,
                    out_len, false);
        if (rc == 0)
            rc = p_hash(TLSV_HASH_SHA1, secret ? secret + (secret_len - half) : NULL, half, label,
                        seed1, seed1_len, seed2, seed2_len, out, out_len, true);
    } else if (hash == TLSV_HASH_SHA1 || hash == TLSV_HASH_SHA256 || hash == TLSV_HASH_SHA384 ||
               hash == TLSV_HASH_SHA512) {
        rc = p_hash(hash, secret, secret_len, label, seed1, seed1_len, seed2, seed2_len, out,
                    out_len, false);
    } else {
        rc = -1;
    }
    if (rc != 0)
        tlsv_wipe(out, out_len);
    return rc;
}

tlsv_hash_alg tlsv_prf12_hash(uint16_t version, tlsv_hash_alg suite_hash)
{
    return version >= TLSV_V_TLS12 ? suite_hash : TLSV_HASH_MD5_SHA1;
}

/* true for the versions this file derives keys for. */
static bool tls_version(uint16_t version)
{
    return version >= TLSV_V_TLS10 && version <= TLSV_V_TLS12;
}

/* ---- SSL 3.0 (RFC 6101 §6.1-6.2.2, §5.6.8-5.6.9) ------------------------- */

#ifdef TLSV_HAVE_SSL3
/*
 * out[16*(i-1) .. 16*i) = MD5(secret + SHA(L_i + secret + r1 + r2)) for
 * i = 1, 2, ..., with L_1 = "A", L_2 = "BB", L_3 = "CCC", ... The master
 * secret is three blocks over (ClientHello.random, ServerHello.random); the
 * key block as many as needed over (ServerHello.random, ClientHello.random).
 */
static int ssl3_expand(const uint8_t *secret, size_t secret_len, const uint8_t *r1,
                       const uint8_t *r2, uint8_t *out, size_t out_len)
{
    if (out_len > TLSV_SSL3_KEY_BLOCK_MAX)
        return -1;
    uint8_t sha[20], md5[16], letters[26];
    int rc = -1;
    tlsv_hash_ctx *s = tlsv_hash_new(TLSV_HASH_SHA1), *m = tlsv_hash_new(TLSV_HASH_MD5);
    if (!s || !m)
        goto out;
    for (size_t i = 0, off = 0; off < out_len; i++) {
        memset(letters, 'A' + (int)i, i + 1);
        if (tlsv_hash_update(s, letters, i + 1) != 0 ||
            tlsv_hash_update(s, secret, secret_len) != 0 ||
            tlsv_hash_update(s, r1, TLSV_PRF12_RANDOM_LEN) != 0 ||
            tlsv_hash_update(s, r2, TLSV_PRF12_RANDOM_LEN) != 0 ||
            tlsv_hash_final(s, sha, sizeof sha) != 0 ||
            tlsv_hash_update(m, secret, secret_len) != 0 ||
            tlsv_hash_update(m, sha, sizeof sha) != 0 || tlsv_hash_final(m, md5, sizeof md5) != 0)
            goto out;
        size_t take = out_len - off < sizeof md5 ? out_len - off : sizeof md5;
        memcpy(out + off, md5, take);
        off += take;
    }
    rc = 0;
out:
    tlsv_hash_free(s);
    tlsv_hash_free(m);
    tlsv_wipe(sha, sizeof sha);
    tlsv_wipe(md5, sizeof md5);
    if (rc != 0)
        tlsv_wipe(out, out_len);
    return rc;
}

/* hash(master + pad_2 + hash(transcript + sender + master + pad_1)), where
 * pad_1 / pad_2 are 0x36 / 0x5c repeated 48 times for MD5, 40 for SHA-1. */
static int ssl3_mac_transcript(const tlsv_hash_ctx *transcript, const uint8_t *sender,
                               const uint8_t master[TLSV_PRF12_MASTER_LEN], uint8_t *out)
{
    tlsv_hash_alg alg = tlsv_hash_ctx_alg(transcript);
    size_t pad_len = alg == TLSV_HASH_MD5 ? 48 : 40, hlen = tlsv_hash_len(alg);
    uint8_t pad1[48], pad2[48], inner[20];
    memset(pad1, 0x36, sizeof pad1);
    memset(pad2, 0x5c, sizeof pad2);
    int rc = -1;
    tlsv_hash_ctx *h = tlsv_hash_dup(transcript);
    if (!h || (alg != TLSV_HASH_MD5 && alg != TLSV_HASH_SHA1))
        goto out;
    if ((sender && tlsv_hash_update(h, sender, 4) != 0) ||
        tlsv_hash_update(h, master, TLSV_PRF12_MASTER_LEN) != 0 ||
        tlsv_hash_update(h, pad1, pad_len) != 0 || tlsv_hash_final(h, inner, sizeof inner) != 0 ||
        tlsv_hash_update(h, master, TLSV_PRF12_MASTER_LEN) != 0 ||
        tlsv_hash_update(h, pad2, pad_len) != 0 || tlsv_hash_update(h, inner, hlen) != 0 ||
        tlsv_hash_final(h, out, hlen) != 0)
        goto out;
    rc = 0;
out:
    tlsv_hash_free(h);
    tlsv_wipe(inner, sizeof inner);
    return rc;
}

static int ssl3_transcript_pair(const tlsv_hash_ctx *md5, const tlsv_hash_ctx *sha1,
                                const uint8_t *sender,
                                const uint8_t master[TLSV_PRF12_MASTER_LEN],
                                uint8_t out[TLSV_SSL3_VERIFY_LEN])
{
    if (!md5 || !sha1 || !master || !out || tlsv_hash_ctx_alg(md5) != TLSV_HASH_MD5 ||
        tlsv_hash_ctx_alg(sha1) != TLSV_HASH_SHA1)
        return -1;
    if (ssl3_mac_transcript(md5, sender, master, out) != 0 ||
        ssl3_mac_transcript(sha1, sender, master, out + 16) != 0) {
        tlsv_wipe(out, TLSV_SSL3_VERIFY_LEN);
        return -1;
    }
    return 0;
}

int tlsv_ssl3_finished(const tlsv_hash_ctx *md5, const tlsv_hash_ctx *sha1,
                       const uint8_t master[TLSV_PRF12_MASTER_LEN], bool client,
                       uint8_t out[TLSV_SSL3_VERIFY_LEN])
{
    static const uint8_t clnt[4] = {0x43, 0x4c, 0x4e, 0x54}, srvr[4] = {0x53, 0x52, 0x56, 0x52};
    return ssl3_transcript_pair(md5, sha1, client ? clnt : srvr, master, out);
}

int tlsv_ssl3_cert_verify_hash(const tlsv_hash_ctx *md5, const tlsv_hash_ctx *sha1,
                               const uint8_t master[TLSV_PRF12_MASTER_LEN],
                               uint8_t out[TLSV_SSL3_VERIFY_LEN])
{
    return ssl3_transcript_pair(md5, sha1, NULL, master, out);
}
#endif /* TLSV_HAVE_SSL3 */

/* ---- the derivations ------------------------------------------------------ */

int tlsv_prf12_master(uint16_t version, tlsv_hash_alg suite_hash, const uint8_t *pms,
                      size_t pms_len, const uint8_t client_random[TLSV_PRF12_RANDOM_LEN],
                      const uint8_t server_random[TLSV_PRF12_RANDOM_LEN],
                      uint8_t master[TLSV_PRF12_MASTER_LEN])
{
    if (!pms || !client_random || !server_random || !master)
        return -1;
#ifdef TLSV_HAVE_SSL3
    if (version == TLSV_V_SSL3)
        return ssl3_expand(pms, pms_len, client_random, server_random, master,
                           TLSV_PRF12_MASTER_LEN);
#endif
    if (!tls_version(version))
        return -1;
    return tlsv_prf12(tlsv_prf12_hash(version, suite_hash), pms, pms_len, "master secret",
                      client_random, TLSV_PRF12_RANDOM_LEN, server_random, TLSV_PRF12_RANDOM_LEN,
                      master, TLSV_PRF12_MASTER_LEN);
}

int tlsv_prf12_ems(uint16_t version, tlsv_hash_alg suite_hash, const uint8_t *pms, size_t pms_len,
                   const uint8_t *session_hash, size_t session_hash_len,
                   uint8_t master[TLSV_PRF12_MASTER_LEN])
{
    if (!pms || !session_hash || !master || !tls_version(version))
        return -1;
    return tlsv_prf12(tlsv_prf12_hash(version, suite_hash), pms, pms_len,
                      "extended master secret", session_hash, session_hash_len, NULL, 0, master,
                      TLSV_PRF12_MASTER_LEN);
}

int tlsv_prf12_key_block(uint16_t version, tlsv_hash_alg suite_hash,
                         const uint8_t master[TLSV_PRF12_MASTER_LEN],
                         const uint8_t client_random[TLSV_PRF12_RANDOM_LEN],
                         const uint8_t server_random[TLSV_PRF12_RANDOM_LEN], uint8_t *out,
                         size_t out_len)
{
    if (!master || !client_random || !server_random || (!out && out_len))
        return -1;
#ifdef TLSV_HAVE_SSL3
    if (version == TLSV_V_SSL3)
        return ssl3_expand(master, TLSV_PRF12_MASTER_LEN, server_random, client_random, out,
                           out_len);
#endif
    if (!tls_version(version))
        return -1;
    return tlsv_prf12(tlsv_prf12_hash(version, suite_hash), master, TLSV_PRF12_MASTER_LEN,
                      "key expansion", server_random, TLSV_PRF12_RANDOM_LEN, client_random,
                      TLSV_PRF12_RANDOM_LEN, out, out_len);
}

int tlsv_prf12_keys(uint16_t version, tlsv_hash_alg suite_hash,
                    const uint8_t master[TLSV_PRF12_MASTER_LEN],
                    const uint8_t client_random[TLSV_PRF12_RANDOM_LEN],
                    const uint8_t server_random[TLSV_PRF12_RANDOM_LEN], size_t mac_len,
                    size_t key_len, size_t iv_len, tlsv_keys12 *keys)
{
    if (!keys)
        return -1;
    memset(keys, 0, sizeof *keys);
    if (mac_len > 48 || key_len > 32 || iv_len > 16)
        return -1;
    size_t total = 2 * (mac_len + key_len + iv_len);
    if (tlsv_prf12_key_block(version, suite_hash, master, client_random, server_random,
                             keys->block, total) != 0)
        return -1;
    const uint8_t *p = keys->block;
    keys->mac_len = mac_len;
    keys->key_len = key_len;
    keys->iv_len = iv_len;
    keys->client_mac = p, p += mac_len;
    keys->server_mac = p, p += mac_len;
    keys->client_key = p, p += key_len;
    keys->server_key = p, p += key_len;
    keys->client_iv = p, p += iv_len;
    keys->server_iv = p;
    return 0;
}

void tlsv_keys12_wipe(tlsv_keys12 *keys)
{
    if (keys)
        tlsv_wipe(keys, sizeof *keys);
}

int tlsv_prf12_finished(uint16_t version, tlsv_hash_alg suite_hash,
                        const uint8_t master[TLSV_PRF12_MASTER_LEN], bool client,
                        const uint8_t *th, size_t th_len, uint8_t out[TLSV_PRF12_VERIFY_LEN])
{
    if (!master || !th || !out || !tls_version(version))
        return -1;
    return tlsv_prf12(tlsv_prf12_hash(version, suite_hash), master, TLSV_PRF12_MASTER_LEN,
                      client ? "client finished" : "server finished", th, th_len, NULL, 0, out,
                      TLSV_PRF12_VERIFY_LEN);
}
