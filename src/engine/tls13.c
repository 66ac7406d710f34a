/*
 * tls13.c -- helpers shared by the TLS 1.3 state machines. See tls13.h.
 */
#include "tls13.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/keysched13.h"
#include "engine/session.h"
#include "err.h"
#include "x509.h"

int tlsv_tr_add(tlsv_transcript *tr, const uint8_t *msg, size_t len)
{
    if (tr->h)
        return tlsv_hash_update(tr->h, msg, len) == 0 ? 0 : -1;
    if (tr->len + len > tr->cap) {
        size_t ncap = tr->cap ? tr->cap : 1024;
        while (ncap < tr->len + len)
            ncap *= 2;
        uint8_t *n = realloc(tr->buf, ncap);
        if (!n)
            return -1;
        tr->buf = n;
        tr->cap = ncap;
    }
    memcpy(tr->buf + tr->len, msg, len);
    tr->len += len;
    return 0;
}

int tlsv_tr_begin(tlsv_transcript *tr, tlsv_hash_alg alg)
{
    if (tr->h)
        return tr->alg == alg ? 0 : -1;
    tr->h = tlsv_hash_new(alg);
    if (!tr->h)
        return -1;
    tr->alg = alg;
    int rc = tr->len ? tlsv_hash_update(tr->h, tr->buf, tr->len) : 0;
    free(tr->buf);
    tr->buf = NULL;
    tr->len = tr->cap = 0;
    return rc == 0 ? 0 : -1;
}

int tlsv_tr_hrr_restart(tlsv_transcript *tr)
{
    uint8_t msg[4 + TLSV_HASH_MAX_LEN];
    size_t hlen = tlsv_hash_len(tr->alg);
    if (!tr->h || tlsv_hash_final(tr->h, msg + 4, sizeof msg - 4) != 0)
        return -1;
    msg[0] = TLSV_HS_MESSAGE_HASH;
    msg[1] = 0;
    msg[2] = 0;
    msg[3] = (uint8_t)hlen;
    if (tlsv_hash_reset(tr->h) != 0)
        return -1;
    return tlsv_hash_update(tr->h, msg, 4 + hlen) == 0 ? 0 : -1;
}

int tlsv_tr_hash(tlsv_transcript *tr, uint8_t *out)
{
    if (!tr->h)
        return -1;
    return tlsv_hash_peek(tr->h, out, TLSV_HASH_MAX_LEN) == 0 ? 0 : -1;
}

int tlsv_tr_hash_with(const tlsv_transcript *tr, tlsv_hash_alg alg, const uint8_t *more,
                      size_t len, uint8_t *out)
{
    if (!tr->h)
        return tlsv_hash(alg, more, len, out, TLSV_HASH_MAX_LEN) == 0 ? 0 : -1;
    tlsv_hash_ctx *h = tlsv_hash_dup(tr->h);
    int rc = h && tlsv_hash_update(h, more, len) == 0 &&
                     tlsv_hash_final(h, out, TLSV_HASH_MAX_LEN) == 0
                 ? 0
                 : -1;
    tlsv_hash_free(h);
    return rc;
}

void tlsv_tr_free(tlsv_transcript *tr)
{
    tlsv_hash_free(tr->h);
    if (tr->buf) {
        tlsv_wipe(tr->buf, tr->cap);
        free(tr->buf);
    }
    memset(tr, 0, sizeof *tr);
}

/* ECDSA and EdDSA first (cheap to verify and sign), then RSA-PSS; PKCS#1
 * v1.5 last: in TLS 1.3 only certificates may use it (§4.2.3). */
const uint16_t tlsv_sigalgs13[] = {
    TLSV_SIG_ECDSA_SECP256R1_SHA256, TLSV_SIG_ECDSA_SECP384R1_SHA384,
    TLSV_SIG_ECDSA_SECP521R1_SHA512, TLSV_SIG_ED25519,
    TLSV_SIG_ED448,                  TLSV_SIG_RSA_PSS_RSAE_SHA256,
    TLSV_SIG_RSA_PSS_RSAE_SHA384,    TLSV_SIG_RSA_PSS_RSAE_SHA512,
    TLSV_SIG_RSA_PSS_PSS_SHA256,     TLSV_SIG_RSA_PSS_PSS_SHA384,
    TLSV_SIG_RSA_PSS_PSS_SHA512,     TLSV_SIG_RSA_PKCS1_SHA256,
    TLSV_SIG_RSA_PKCS1_SHA384,       TLSV_SIG_RSA_PKCS1_SHA512,
};
const size_t tlsv_sigalgs13_count = sizeof tlsv_sigalgs13 / sizeof tlsv_sigalgs13[0];

uint16_t tlsv_tls13_pick_scheme(const tlsv_pkey *key, tlsv_bytes peer_list)
{
    /* our preference among what the peer accepts */
    for (size_t i = 0; i < tlsv_sigalgs13_count; i++) {
        uint16_t s = tlsv_sigalgs13[i];
        if (tlsv_u16_contains(peer_list, s) &&
            tlsv_sig_key_supports(key, s, TLSV_SIG_SIGN | TLSV_SIG_TLS13))
            return s;
    }
    return 0;
}

size_t tlsv_tls13_cv_input(bool server, const uint8_t *th, size_t hlen, uint8_t out[200])
{
    static const char sctx[] = "TLS 1.3, server CertificateVerify";
    static const char cctx[] = "TLS 1.3, client CertificateVerify";
    const char *c = server ? sctx : cctx;
    size_t clen = strlen(c);
    memset(out, 0x20, 64);
    memcpy(out + 64, c, clen);
    out[64 + clen] = 0;
    memcpy(out + 65 + clen, th, hlen);
    return 65 + clen + hlen;
}

int tlsv_tls13_verify_chain(tlsv_engine *e, bool peer_is_server, unsigned *marks)
{
    tlsv_ctx *ctx = e->ctx;
    if (ctx->verify_mode == TLSV_CERT_NONE) {
        *marks |= TLSV_MARK_PEER_CERT; /* nothing required */
        return 0;
    }
    tlsv_error err;
    tlsv_x509_store *store = ctx->store;
    tlsv_x509_store *empty = NULL;
    if (!store) { /* verifying with no trust anchors fails, as in OpenSSL */
        empty = tlsv_x509_store_new(&err);
        if (!empty)
            return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                    "could not create a trust store");
        store = empty;
    }
    const char *name = peer_is_server && ctx->check_hostname ? e->server_name : NULL;
    int rc = tlsv_x509_verify(store, e->peer_chain,
                              peer_is_server ? TLSV_X509_PURPOSE_SERVER_AUTH
                                             : TLSV_X509_PURPOSE_CLIENT_AUTH,
                              name, NULL, &err);
    tlsv_x509_store_free(empty);
    if (rc != 0) {
        if (!store || !ctx->store)
            snprintf(err.message + strlen(err.message),
                     sizeof err.message - strlen(err.message),
                     " (no CA certificates are loaded: use load_verify_locations or "
                     "set_default_verify_paths)");
        return tlsv_engine_fail_err(e, &err);
    }
    tlsv_x509_cache_put(ctx->peer_cache, e->peer_chain);
    *marks |= TLSV_MARK_PEER_CERT;
    return 0;
}

int tlsv_tls13_enter_traffic(tlsv_engine *e, unsigned marks, const uint8_t *rd_secret,
                             const uint8_t *wr_secret, size_t len, tlsv_hash_alg hash,
                             tlsv_aead_alg aead, bool install_write)
{
    if ((marks & TLSV_MARKS_ALL) != TLSV_MARKS_ALL)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "internal error: application traffic without every "
                                "verification mark (0x%x)",
                                marks);
    e->hash = hash;
    e->aead = aead;
    e->secret_len = len;
    memcpy(e->rd_secret, rd_secret, len);
    memcpy(e->wr_secret, wr_secret, len);
    if (install_write && tlsv_engine_set_write13(e, aead, hash, wr_secret, len) != 0)
        return -1;
    return 0;
}

int tlsv_tls13_fail_parse(tlsv_engine *e, const tlsv_error *err)
{
    return tlsv_engine_fail_err(e, err);
}

size_t tlsv_hs_own_chain(const tlsv_ctx *ctx, tlsv_bytes certs[TLSV_MSG_MAX_CERTS])
{
    size_t n = 0, count = ctx->chain ? tlsv_x509_chain_count(ctx->chain) : 0;
    for (size_t i = 0; i < count && n < TLSV_MSG_MAX_CERTS; i++) {
        certs[n].p = tlsv_x509_chain_der(ctx->chain, i, &certs[n].n);
        n++;
    }
    return n;
}

int tlsv_hs_peer_chain(tlsv_engine *e, const tlsv_certificate *cert, bool peer_is_server,
                       unsigned usage, unsigned *marks)
{
    tlsv_x509_der der[TLSV_MSG_MAX_CERTS];
    tlsv_error err;
    for (size_t i = 0; i < cert->n; i++) {
        der[i].data = cert->entries[i].data.p;
        der[i].len = cert->entries[i].data.n;
    }
    tlsv_x509_chain_free(e->peer_chain);
    e->peer_chain = tlsv_x509_cache_get(e->ctx->peer_cache, der, cert->n);
    if (!e->peer_chain)
        e->peer_chain = tlsv_x509_chain_from_der(der, cert->n, &err);
    if (!e->peer_chain) {
        err.alert = TLSV_ALERT_BAD_CERTIFICATE;
        err.reason = TLSV_R_CERTIFICATE_VERIFY_FAILED;
        return tlsv_engine_fail_err(e, &err);
    }
    /* RFC 5280 §4.2.1.3, RFC 8446 §4.4.2.2: a keyUsage extension must allow
     * what the key is used for here -- whatever the verify mode, since a
     * signature made by a key not meant to sign proves nothing the
     * certificate vouches for */
    if (!tlsv_x509_chain_leaf_key_usage_allows(e->peer_chain, usage)) {
        bool sign = usage & TLSV_X509_KU_DIGITAL_SIGNATURE;
        return tlsv_engine_fail(e, TLSV_R_KEY_USAGE_BIT_INCORRECT, TLSV_ALERT_BAD_CERTIFICATE,
                                "the %s's certificate has a keyUsage extension without %s, and "
                                "its key %s in this handshake (RFC 5280 §4.2.1.3)",
                                peer_is_server ? "server" : "client",
                                sign ? "digitalSignature" : "keyEncipherment",
                                sign ? "signs" : "encrypts the premaster secret (RSA key exchange)");
    }
    return tlsv_tls13_verify_chain(e, peer_is_server, marks);
}

tlsv_pkey *tlsv_hs_peer_key(const tlsv_engine *e)
{
    return tlsv_x509_chain_leaf_key(e->peer_chain);
}

int tlsv_tls13_check_peer_cv(tlsv_engine *e, const uint8_t *msg, size_t len, const uint8_t *th,
                             size_t hlen, bool peer_is_server, unsigned *marks)
{
    tlsv_certificate_verify cv;
    tlsv_error err;
    if (tlsv_msg_parse_certificate_verify(msg + 4, len - 4, TLSV_V_TLS13, &cv, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    bool offered = false;
    for (size_t i = 0; i < tlsv_sigalgs13_count; i++)
        offered = offered || tlsv_sigalgs13[i] == cv.scheme;
    tlsv_pkey *pub = tlsv_hs_peer_key(e);
    if (!offered || !pub || !tlsv_sig_key_supports(pub, cv.scheme, TLSV_SIG_TLS13)) {
        tlsv_pkey_free(pub);
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "the %s's CertificateVerify uses scheme 0x%04x, which was not "
                                "offered or does not fit its certificate's key",
                                peer_is_server ? "server" : "client", cv.scheme);
    }
    uint8_t input[200];
    size_t n = tlsv_tls13_cv_input(peer_is_server, th, hlen, input);
    int ok = tlsv_verify(pub, cv.scheme, input, n, cv.signature.p, cv.signature.n) == 0;
    tlsv_pkey_free(pub);
    if (!ok)
        return tlsv_engine_fail(e, TLSV_R_BAD_SIGNATURE, TLSV_ALERT_DECRYPT_ERROR,
                                "the %s's CertificateVerify signature does not verify with its "
                                "certificate's key",
                                peer_is_server ? "server" : "client");
    *marks |= TLSV_MARK_PEER_SIG;
    return 0;
}

/* A message written into w (rc: the writer's result), into the transcript
 * and queued for sending; w is released. 0, or -1 after tlsv_engine_fail. */
static int add_and_send(tlsv_engine *e, tlsv_transcript *tr, tlsv_writer *w, int rc,
                        const tlsv_error *err)
{
    if (rc == 0)
        rc = tlsv_tr_add(tr, tlsv_wr_data(w), tlsv_wr_len(w)) == 0 &&
                     tlsv_engine_send_handshake(e, tlsv_wr_data(w), tlsv_wr_len(w)) == 0
                 ? 0
                 : -1;
    tlsv_wr_release(w);
    if (rc != 0)
        return e->state == TLSV_ES_FAILED ? -1 : tlsv_engine_fail_err(e, err);
    return 0;
}

int tlsv_tls13_send_client_auth(tlsv_engine *e, tlsv_transcript *tr, size_t hlen,
                                tlsv_bytes context, tlsv_bytes sigalgs)
{
    tlsv_ctx *ctx = e->ctx;
    tlsv_error err; /* what the writers report; a queueing failure says this */
    tlsv_err_set(&err, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, TLSV_SIDE_LOCAL,
                 "could not queue the client's certificate messages");
    uint16_t scheme = ctx->chain && ctx->key ? tlsv_tls13_pick_scheme(ctx->key, sigalgs) : 0;
    tlsv_bytes certs[TLSV_MSG_MAX_CERTS];
    size_t n = scheme ? tlsv_hs_own_chain(ctx, certs) : 0;
    tlsv_writer w;
    if (!tlsv_wr_init_growable(&w, 2048, TLSV_MAX_HANDSHAKE_MESSAGE))
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
    int rc = tlsv_msg_write_certificate(&w, TLSV_V_TLS13, context, certs, n, &err);
    if (add_and_send(e, tr, &w, rc, &err) != 0)
        return -1;
    if (!scheme)
        return 0; /* an empty Certificate: the server decides */
    uint8_t th[TLSV_HASH_MAX_LEN], input[200], sig[1024];
    size_t sig_len = 0;
    if (tlsv_tr_hash(tr, th) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    size_t in_len = tlsv_tls13_cv_input(false, th, hlen, input);
    if (tlsv_sign(ctx->key, scheme, input, in_len, sig, sizeof sig, &sig_len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "signing the CertificateVerify failed");
    if (!tlsv_wr_init_growable(&w, 512, 4096))
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
    rc = tlsv_msg_write_certificate_verify(&w, TLSV_V_TLS13, scheme, (tlsv_bytes){sig, sig_len},
                                           &err);
    if (add_and_send(e, tr, &w, rc, &err) != 0)
        return -1;
    return 0;
}

static int record_alpn(tlsv_engine *e, tlsv_bytes name)
{
    free(e->alpn);
    e->alpn = malloc(name.n + 1);
    if (!e->alpn)
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR,
                                "out of memory");
    memcpy(e->alpn, name.p, name.n);
    e->alpn[name.n] = '\0';
    return 0;
}

int tlsv_hs_select_alpn(tlsv_engine *e, tlsv_bytes client_list, tlsv_bytes *selected)
{
    const tlsv_ctx *ctx = e->ctx;
    selected->p = NULL;
    selected->n = 0;
    for (size_t off = 0; off < ctx->alpn_len; off += 1 + ctx->alpn[off]) {
        tlsv_iter it;
        tlsv_bytes name;
        tlsv_iter_init(&it, client_list);
        while (tlsv_iter_alpn(&it, &name))
            if (name.n == ctx->alpn[off] && memcmp(name.p, ctx->alpn + off + 1, name.n) == 0) {
                selected->p = ctx->alpn + off + 1;
                selected->n = name.n;
                return record_alpn(e, *selected);
            }
    }
    return 0;
}

int tlsv_hs_accept_alpn(tlsv_engine *e, tlsv_bytes chosen)
{
    const tlsv_ctx *ctx = e->ctx;
    /* only what the ClientHello carried: the first TLSV_ALPN_MAX_OFFERED */
    size_t n = 0;
    for (size_t off = 0; off < ctx->alpn_len && n < TLSV_ALPN_MAX_OFFERED;
         off += 1 + ctx->alpn[off], n++)
        if (ctx->alpn[off] == chosen.n && memcmp(ctx->alpn + off + 1, chosen.p, chosen.n) == 0)
            return record_alpn(e, chosen);
    return tlsv_engine_fail(e, ctx->alpn_len ? TLSV_R_ILLEGAL_PARAMETER : TLSV_R_UNSOLICITED_EXTENSION,
                            ctx->alpn_len ? TLSV_ALERT_ILLEGAL_PARAMETER
                                          : TLSV_ALERT_UNSUPPORTED_EXTENSION,
                            "the server selected an ALPN protocol this client did not offer");
}

/* ---- resumption: the PSK in place of the certificate checks --------------- */

int tlsv_tls13_resume_check_binder(tlsv_engine *e, const tlsv_ks13 *ks, const uint8_t *th,
                                   tlsv_bytes binder, unsigned *marks)
{
    uint8_t key[TLSV_KS13_MAX], expect[TLSV_KS13_MAX];
    int rc = tlsv_ks13_binder_key(ks, key) == 0 &&
                     tlsv_ks13_finished(ks, key, th, ks->hlen, expect) == 0
                 ? 0
                 : -1;
    tlsv_wipe(key, sizeof key);
    if (rc != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "key schedule failure (PSK binder)");
    bool ok = binder.n == ks->hlen && tlsv_ct_memcmp(binder.p, expect, ks->hlen) == 0;
    tlsv_wipe(expect, sizeof expect);
    if (!ok)
        return tlsv_engine_fail(e, TLSV_R_BINDER_DOES_NOT_VERIFY, TLSV_ALERT_DECRYPT_ERROR,
                                "the client's PSK binder does not match its session ticket "
                                "(RFC 8446 §4.2.11)");
    *marks |= TLSV_MARK_PEER_CERT | TLSV_MARK_PEER_SIG;
    return 0;
}

int tlsv_tls13_resume_accepted(tlsv_engine *e, const tlsv_session *session, unsigned *marks)
{
    if (!session || (!session->verified && e->ctx->verify_mode != TLSV_CERT_NONE))
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "internal error: resuming a session this context may not use");
    tlsv_x509_chain_free(e->peer_chain);
    e->peer_chain = tlsv_x509_chain_up_ref(session->peer_chain);
    *marks |= TLSV_MARK_PEER_CERT | TLSV_MARK_PEER_SIG;
    return 0;
}
