/*
 * tls12_server.c -- the TLS 1.0-1.2 server (RFC 5246 §7.3, RFC 4346,
 * RFC 2246; SSL 3.0 in a build with it), after the hello stage
 * (tls13_server.c) chose one of these versions.
 *
 *   on the ClientHello: ServerHello Certificate [ServerKeyExchange]
 *                       [CertificateRequest] ServerHelloDone
 *   state           expects                       then
 *   WAIT_CERT       Certificate (client auth)     WAIT_CKE
 *   WAIT_CKE        ClientKeyExchange             WAIT_CV (client certificate) / WAIT_CCS
 *   WAIT_CV         CertificateVerify             WAIT_CCS
 *   WAIT_CCS        change_cipher_spec            WAIT_FINISHED
 *   WAIT_FINISHED   Finished                      [NewSessionTicket] our CCS + Finished;
 *                                                 application traffic
 *
 * Resuming a session (sesscache.c; RFC 5246 §7.3 figure 2, RFC 5077 §3.1):
 *   on the ClientHello: ServerHello [NewSessionTicket] CCS Finished
 *   WAIT_CCS        change_cipher_spec            WAIT_FINISHED
 *   WAIT_FINISHED   Finished                      application traffic
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/rsa_kx.h"
#include "engine/engine.h"
#include "engine/msg.h"
#include "engine/sesscache.h"
#include "engine/suites.h"
#include "engine/tls12.h"
#include "err.h"
#include "version.h"
#include "x509.h"

typedef enum { S_WAIT_CERT, S_WAIT_CKE, S_WAIT_CV, S_WAIT_CCS, S_WAIT_FINISHED } sstate;
static const char *const sstate_name[] = {"WAIT_CERT", "WAIT_CKE", "WAIT_CV", "WAIT_CCS",
                                          "WAIT_FINISHED"};

typedef struct server12 {
    sstate state;
    uint16_t version;
    uint16_t client_version;     /* ClientHello.client_version, for the RSA premaster check */
    const tlsv_suite *suite;
    uint8_t cr[32], sr[32];
    bool ems, etm;
    bool cert_requested;
    tlsv_transcript tr;
    tlsv_kex *kex;               /* ECDHE */
    tlsv_pkey *client_key;
    uint8_t master[48];
    unsigned marks;
    bool resumed;                /* the abbreviated handshake */
    bool send_ticket;            /* full handshake: a NewSessionTicket after the client's Finished */
    uint8_t session_id[32];      /* full handshake: the ID sent, cached at the end (if any) */
    size_t session_id_len;
} server12;

static server12 *S(tlsv_engine *e)
{
    return (server12 *)e->hs_state;
}

static void server12_free(tlsv_engine *e)
{
    server12 *s = S(e);
    if (!s)
        return;
    tlsv_tr_free(&s->tr);
    tlsv_kex_free(s->kex);
    tlsv_pkey_free(s->client_key);
    tlsv_wipe(s, sizeof *s);
    free(s);
    e->hs_state = NULL;
}

static int add(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    if (tlsv_tr_add(&S(e)->tr, msg, len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    return 0;
}

static int th(server12 *s, uint8_t *out, size_t *len)
{
    tlsv_hash_alg h = tlsv_tls12_handshake_hash(s->version, s->suite);
    *len = tlsv_hash_len(h);
    return tlsv_hash(h, s->tr.buf, s->tr.len, out, TLSV_HASH_MAX_LEN);
}

static int send_msg(tlsv_engine *e, tlsv_writer *w, const tlsv_error *err, int rc)
{
    if (rc != 0) {
        tlsv_wr_release(w);
        return tlsv_engine_fail_err(e, err);
    }
    rc = add(e, tlsv_wr_data(w), tlsv_wr_len(w)) == 0 &&
                 tlsv_engine_send_handshake(e, tlsv_wr_data(w), tlsv_wr_len(w)) == 0
             ? 0
             : -1;
    tlsv_wr_release(w);
    return rc;
}

/* Does our certificate's key authenticate suite s? */
static bool key_fits(const tlsv_pkey *key, const tlsv_suite *s)
{
    tlsv_pkey_type t = tlsv_pkey_get_type(key);
    if (s->auth == TLSV_AUTH_RSA)
        return t == TLSV_PKEY_RSA;
    return t == TLSV_PKEY_EC || t == TLSV_PKEY_ED25519;
}

/* The ECDHE group: ours in preference order among the client's (RFC 8422
 * §5.1.1: without supported_groups, any of ours). */
static uint16_t choose_group(const tlsv_ctx *ctx, const tlsv_client_hello *ch)
{
    bool has = tlsv_ext_present(ch->present, TLSV_EXTID_SUPPORTED_GROUPS);
    for (size_t i = 0; i < ctx->n_groups; i++) {
        /* a client that lists nothing is an old one: a NIST curve is the
         * safe guess (RFC 4492 clients know secp256r1, not x25519) */
        if (!has ? ctx->groups[i] == TLSV_GROUP_SECP256R1 || ctx->groups[i] == TLSV_GROUP_SECP384R1
                 : tlsv_u16_contains(ch->supported_groups, ctx->groups[i]))
            return ctx->groups[i];
    }
    return 0;
}

static int send_msg(tlsv_engine *e, tlsv_writer *w, const tlsv_error *err, int rc);

/* Our Finished (after our CCS and write keys), into the transcript. */
static int send_finished(tlsv_engine *e)
{
    server12 *s = S(e);
    uint8_t fin[4 + 36] = {TLSV_HS_FINISHED, 0, 0, 0};
    size_t vlen = 0;
    if (tlsv_tls12_finished(s->version, s->suite, s->master, false, s->tr.buf, s->tr.len,
                            fin + 4, &vlen) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not compute Finished");
    fin[3] = (uint8_t)vlen;
    if (tlsv_engine_send_ccs(e) != 0 ||
        tlsv_tls12_install(e, true, false, s->version, s->suite, s->master, s->cr, s->sr,
                           s->etm) != 0 ||
        add(e, fin, 4 + vlen) != 0 || tlsv_engine_send_handshake(e, fin, 4 + vlen) != 0 ||
        tlsv_engine_flush(e) != 0)
        return -1;
    return 0;
}

/* A NewSessionTicket for this handshake's session, into the transcript;
 * peer_cert: the client was authenticated by a certificate. */
static int send_ticket(tlsv_engine *e, bool peer_cert)
{
    server12 *s = S(e);
    uint8_t *msg = NULL;
    size_t len = 0;
    if (tlsv_tls12_new_ticket(e, s->version, s->suite->id, s->master, s->ems, peer_cert, &msg,
                              &len) != 0)
        return -1;
    int rc = add(e, msg, len) == 0 && tlsv_engine_send_handshake(e, msg, len) == 0 ? 0 : -1;
    free(msg);
    return rc;
}

/* The abbreviated handshake (RFC 5246 §7.3 figure 2): ServerHello echoing
 * the client's session ID, [NewSessionTicket] (a ticket under the previous
 * key is replaced, RFC 5077 §3.3), CCS, Finished. Takes over rs. */
static int resume(tlsv_engine *e, const tlsv_client_hello *ch, tlsv_resume12 *rs, int sentinel,
                  bool secure_reneg, tlsv_bytes alpn)
{
    server12 *s = S(e);
    tlsv_error err;
    s->suite = tlsv_suite_by_id(rs->suite);
    s->ems = rs->ems;
    s->etm = !s->suite->aead && tlsv_ext_present(ch->present, TLSV_EXTID_ENCRYPT_THEN_MAC) &&
             s->version > TLSV_V_SSL3;
    memcpy(s->master, rs->master, 48);
    e->suite = rs->suite;
    e->group = 0;
    e->resumed = true;
    tlsv_x509_chain_free(e->peer_chain);
    e->peer_chain = rs->peer_chain; /* the reference moves */
    rs->peer_chain = NULL;
    bool renew = rs->by_ticket && rs->renew;
    bool by_ticket = rs->by_ticket, peer_cert = rs->peer_cert;
    tlsv_resume12_clear(rs);
    s->marks |= TLSV_MARK_PEER_CERT | TLSV_MARK_PEER_SIG;
    if (TLSV_TRACING(e))
        tlsv_engine_trace(e, -1, "resuming the %s session of the client's %s",
                          tlsv_version_string(s->version), by_ticket ? "ticket" : "session ID");
    if (tlsv_random(s->sr, 32) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR, "no randomness");
    tlsv_vp_write_sentinel((tlsv_sentinel)sentinel, s->sr);
    tlsv_server_hello_params shp = {
        .legacy_version = s->version,
        .random = s->sr,
        .session_id = ch->session_id, /* RFC 5077 §3.4: echoed with a ticket too */
        .cipher_suite = s->suite->id,
        .renegotiation_info = secure_reneg,
        .extended_master_secret = s->ems,
        .encrypt_then_mac = s->etm,
        .session_ticket = renew,
        .alpn = alpn,
    };
    tlsv_writer w;
    if (!tlsv_wr_init_growable(&w, 512, 4096))
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
    if (send_msg(e, &w, &err, tlsv_msg_write_server_hello(&w, &shp, &err)) != 0)
        return -1;
    tlsv_engine_keylog(e, "CLIENT_RANDOM", s->master, 48);
    if ((renew && send_ticket(e, peer_cert) != 0) || send_finished(e) != 0)
        return -1;
    s->state = S_WAIT_CCS;
    return 0;
}

int tlsv_tls12_server_begin(tlsv_engine *e, const tlsv_client_hello *ch, const uint8_t *msg,
                            size_t len, uint16_t version, int sentinel)
{
    tlsv_ctx *ctx = e->ctx;
    tlsv_error err;
    if (!ctx->chain || !ctx->key)
        return tlsv_engine_fail(e, TLSV_R_NO_CERTIFICATE_ASSIGNED, TLSV_ALERT_HANDSHAKE_FAILURE,
                                "this server has no certificate (use load_cert_chain)");
    /* RFC 5746 §3.6: the initial renegotiation_info must be empty */
    if (tlsv_ext_present(ch->present, TLSV_EXTID_RENEGOTIATION_INFO) && ch->renegotiation_info.n)
        return tlsv_engine_fail(e, TLSV_R_HANDSHAKE_FAILURE, TLSV_ALERT_HANDSHAKE_FAILURE,
                                "the ClientHello's renegotiation_info is not empty");
    bool secure_reneg = tlsv_ext_present(ch->present, TLSV_EXTID_RENEGOTIATION_INFO) ||
                        ch->has_empty_renegotiation_info_scsv;

    /* the suite: our order (OP_CIPHER_SERVER_PREFERENCE) or the client's */
    uint16_t ours[TLSV_SUITES12_MAX];
    size_t n_ours = tlsv_tls12_ctx_suites(ctx, true, ours, TLSV_SUITES12_MAX);
    uint16_t group = choose_group(ctx, ch);
    const tlsv_suite *suite = NULL;
    bool server_pref = (ctx->vcfg.options & TLSV_OP_CIPHER_SERVER_PREFERENCE) != 0;
    tlsv_iter it;
    uint16_t id;
    for (size_t i = 0; i < (server_pref ? n_ours : 1) && !suite; i++) {
        tlsv_ch_suites(ch, &it);
        while (!suite && tlsv_iter_suite(&it, &id)) {
            bool mine = false;
            for (size_t j = 0; j < n_ours; j++)
                mine = mine || ours[j] == id;
            if (!mine || (server_pref && id != ours[i]))
                continue;
            const tlsv_suite *s = tlsv_suite_by_id(id);
            if (!tlsv_suite_usable(s, version) || !key_fits(ctx->key, s) ||
                (s->kx == TLSV_KX_ECDHE && !group))
                continue;
            suite = s;
        }
    }
    if (!suite)
        return tlsv_engine_fail(e, TLSV_R_NO_SHARED_CIPHER, TLSV_ALERT_HANDSHAKE_FAILURE,
                                "no cipher suite in common with the client for %s and this "
                                "server's %s key",
                                tlsv_version_string(version),
                                tlsv_pkey_get_type(ctx->key) == TLSV_PKEY_RSA ? "RSA" : "EC");
    server12 *s = calloc(1, sizeof *s);
    if (!s)
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
    if (e->ops && e->ops->free)
        e->ops->free(e);
    e->hs_state = s;
    e->ops = &tlsv_tls12_server_ops;
    s->version = version;
    s->client_version = ch->legacy_version;
    s->suite = suite;
    memcpy(s->cr, ch->random, 32);
    memcpy(e->client_random, ch->random, 32);
    s->ems = tlsv_ext_present(ch->present, TLSV_EXTID_EXTENDED_MASTER_SECRET) &&
             version > TLSV_V_SSL3;
    s->etm = !suite->aead && tlsv_ext_present(ch->present, TLSV_EXTID_ENCRYPT_THEN_MAC) &&
             version > TLSV_V_SSL3;
    e->version = version;
    e->suite = suite->id;
    e->group = suite->kx == TLSV_KX_ECDHE ? group : 0;
    e->plain_version = version;
    if (add(e, msg, len) != 0)
        return -1;

    /* ALPN, as in TLS 1.3 */
    tlsv_bytes alpn = {NULL, 0};
    if (tlsv_ext_present(ch->present, TLSV_EXTID_ALPN) &&
        tlsv_hs_select_alpn(e, ch->alpn, &alpn) != 0)
        return -1;

    /* a session to resume (sesscache.c): then its suite, no key exchange */
    tlsv_resume12 rs;
    s->resumed = tlsv_tls12_find_session(e, ch, version, ours, n_ours, &rs);
    if (s->resumed && !key_fits(ctx->key, tlsv_suite_by_id(rs.suite))) {
        tlsv_resume12_clear(&rs);
        s->resumed = false;
    }
    if (s->resumed)
        return resume(e, ch, &rs, sentinel, secure_reneg, alpn);

    uint16_t ske_scheme = 0;
    if (suite->kx == TLSV_KX_ECDHE) {
        ske_scheme = tlsv_tls12_pick_scheme(
            ctx->key, version, ch->signature_algorithms,
            tlsv_ext_present(ch->present, TLSV_EXTID_SIGNATURE_ALGORITHMS));
        if (!ske_scheme)
            return tlsv_engine_fail(e, TLSV_R_NO_SHARED_SIGNATURE_ALGORITHMS,
                                    TLSV_ALERT_HANDSHAKE_FAILURE,
                                    "none of the client's signature schemes fits this server's "
                                    "key");
    }
    /* a ticket after the client's Finished, or a session ID for the cache */
    s->send_ticket = tlsv_tls12_will_send_ticket(e, ch, version, s->ems);
    if (!s->send_ticket && tlsv_tls12_will_cache(e, version, s->ems)) {
        if (tlsv_random(s->session_id, 32) != 0)
            return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                    "no randomness");
        s->session_id_len = 32;
    }

    /* ServerHello: the random carries the policy's downgrade sentinel */
    if (tlsv_random(s->sr, 32) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR, "no randomness");
    tlsv_vp_write_sentinel((tlsv_sentinel)sentinel, s->sr);
    tlsv_server_hello_params shp = {
        .legacy_version = version,
        .random = s->sr,
        .session_id = {s->session_id, s->session_id_len},
        .cipher_suite = suite->id,
        .renegotiation_info = secure_reneg,
        .extended_master_secret = s->ems,
        .encrypt_then_mac = s->etm,
        .ec_point_formats = suite->kx == TLSV_KX_ECDHE &&
                            tlsv_ext_present(ch->present, TLSV_EXTID_EC_POINT_FORMATS),
        .session_ticket = s->send_ticket,
        .alpn = alpn,
    };
    tlsv_writer w;
    if (!tlsv_wr_init_growable(&w, 512, 4096))
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
    if (send_msg(e, &w, &err, tlsv_msg_write_server_hello(&w, &shp, &err)) != 0)
        return -1;

    /* Certificate */
    tlsv_bytes certs[TLSV_MSG_MAX_CERTS];
    size_t n = tlsv_hs_own_chain(ctx, certs);
    if (!tlsv_wr_init_growable(&w, 2048, TLSV_MAX_HANDSHAKE_MESSAGE))
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
    if (send_msg(e, &w, &err,
                 tlsv_msg_write_certificate(&w, version, (tlsv_bytes){NULL, 0}, certs, n, &err)) != 0)
        return -1;

    /* ServerKeyExchange (ECDHE) */
    if (suite->kx == TLSV_KX_ECDHE) {
        s->kex = tlsv_kex_generate((tlsv_group)group);
        uint8_t pub[TLSV_KEX_MAX_PUBLIC_LEN];
        size_t pub_len = 0;
        if (!s->kex || tlsv_kex_public(s->kex, pub, sizeof pub, &pub_len) != 0)
            return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                    "could not generate an ECDHE key");
        uint8_t signed_data[64 + 4 + TLSV_KEX_MAX_PUBLIC_LEN];
        tlsv_writer pw;
        tlsv_wr_init_fixed(&pw, signed_data + 64, sizeof signed_data - 64);
        if (tlsv_msg_write_ecdh_params(&pw, group, (tlsv_bytes){pub, pub_len}, &err) != 0)
            return tlsv_engine_fail_err(e, &err);
        memcpy(signed_data, s->cr, 32);
        memcpy(signed_data + 32, s->sr, 32);
        uint8_t sig[1024];
        size_t sig_len = 0;
        if (tlsv_sign(ctx->key, ske_scheme, signed_data, 64 + tlsv_wr_len(&pw), sig, sizeof sig,
                      &sig_len) != 0)
            return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                    "signing the ServerKeyExchange failed");
        if (!tlsv_wr_init_growable(&w, 1024, 8192))
            return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
        if (send_msg(e, &w, &err,
                     tlsv_msg_write_server_key_exchange_ecdhe(&w, version, group,
                                                              (tlsv_bytes){pub, pub_len},
                                                              ske_scheme,
                                                              (tlsv_bytes){sig, sig_len}, &err)) != 0)
            return -1;
    }

    /* [CertificateRequest] */
    if (ctx->verify_mode != TLSV_CERT_NONE) {
        static const uint8_t types[] = {1 /* rsa_sign */, 64 /* ecdsa_sign */};
        tlsv_certificate_request_params crp = {
            .version = version,
            .signature_algorithms = tlsv_sigalgs12,
            .n_signature_algorithms = tlsv_sigalgs12_count,
            .certificate_types = types,
            .n_certificate_types = 2,
        };
        if (!tlsv_wr_init_growable(&w, 512, 4096))
            return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
        if (send_msg(e, &w, &err, tlsv_msg_write_certificate_request(&w, &crp, &err)) != 0)
            return -1;
        s->cert_requested = true;
    }

    /* ServerHelloDone */
    if (!tlsv_wr_init_growable(&w, 16, 64))
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
    if (send_msg(e, &w, &err, tlsv_msg_write_empty(&w, TLSV_HS_SERVER_HELLO_DONE, &err)) != 0)
        return -1;
    if (!s->cert_requested)
        s->marks |= TLSV_MARK_PEER_CERT | TLSV_MARK_PEER_SIG;
    s->state = s->cert_requested ? S_WAIT_CERT : S_WAIT_CKE;
    return 0;
}

static int on_certificate(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    server12 *s = S(e);
    tlsv_certificate cert;
    tlsv_error err;
    if (tlsv_msg_parse_certificate(msg + 4, len - 4, s->version, &cert, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    if (add(e, msg, len) != 0)
        return -1;
    if (cert.n == 0) {
        if (e->ctx->verify_mode == TLSV_CERT_REQUIRED)
            return tlsv_engine_fail(e, TLSV_R_PEER_DID_NOT_RETURN_A_CERTIFICATE,
                                    TLSV_ALERT_HANDSHAKE_FAILURE,
                                    "the client sent no certificate and this server requires "
                                    "one (verify mode CERT_REQUIRED)");
        s->marks |= TLSV_MARK_PEER_CERT | TLSV_MARK_PEER_SIG;
        s->state = S_WAIT_CKE;
        return 0;
    }
    if (tlsv_hs_peer_chain(e, &cert, false, TLSV_X509_KU_DIGITAL_SIGNATURE, &s->marks) != 0)
        return -1;
    s->client_key = tlsv_hs_peer_key(e);
    if (!s->client_key)
        return tlsv_engine_fail(e, TLSV_R_CERTIFICATE_VERIFY_FAILED,
                                TLSV_ALERT_UNSUPPORTED_CERTIFICATE,
                                "the client certificate's key type is not supported");
    s->state = S_WAIT_CKE;
    return 0;
}

static int on_client_key_exchange(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    server12 *s = S(e);
    tlsv_error err;
    uint8_t pms[TLSV_KEX_MAX_SECRET_LEN > 48 ? TLSV_KEX_MAX_SECRET_LEN : 48];
    size_t pms_len = 0;
    if (s->suite->kx == TLSV_KX_ECDHE) {
        tlsv_bytes pub;
        if (tlsv_msg_parse_client_key_exchange_ecdhe(msg + 4, len - 4, &pub, &err) != 0)
            return tlsv_engine_fail_err(e, &err);
        if (tlsv_kex_derive(s->kex, pub.p, pub.n, pms, sizeof pms, &pms_len) != 0)
            return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                    "the client's ECDHE public key is invalid");
    } else {
        tlsv_bytes enc;
        if (tlsv_msg_parse_client_key_exchange_rsa(msg + 4, len - 4, s->version, &enc, &err) != 0)
            return tlsv_engine_fail_err(e, &err);
        /* RFC 5246 §7.4.7.1: never reveal whether decryption or the version
         * check failed; a random premaster secret takes its place, and the
         * handshake fails later at Finished, with no difference in timing */
        if (tlsv_rsa_decrypt_premaster(e->ctx->key, enc.p, enc.n, s->client_version, pms) != 0)
            return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                    "RSA premaster decryption failed internally");
        pms_len = 48;
    }
    if (add(e, msg, len) != 0) {
        tlsv_wipe(pms, sizeof pms);
        return -1;
    }
    uint8_t h[TLSV_HASH_MAX_LEN];
    size_t hlen = 0;
    int rc = s->ems ? th(s, h, &hlen) : 0;
    if (rc == 0)
        rc = tlsv_tls12_master_secret(s->version, s->suite, pms, pms_len, s->cr, s->sr,
                                      s->ems ? h : NULL, s->ems ? hlen : 0, s->master);
    tlsv_wipe(pms, sizeof pms);
    tlsv_kex_free(s->kex);
    s->kex = NULL;
    if (rc != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not derive the master secret");
    tlsv_engine_keylog(e, "CLIENT_RANDOM", s->master, 48);
    s->state = s->client_key ? S_WAIT_CV : S_WAIT_CCS;
    return 0;
}

static int on_certificate_verify(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    server12 *s = S(e);
    tlsv_certificate_verify cv;
    tlsv_error err;
    if (tlsv_msg_parse_certificate_verify(msg + 4, len - 4, s->version, &cv, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    uint16_t scheme = cv.scheme;
    if (s->version < TLSV_V_TLS12)
        scheme = tlsv_pkey_get_type(s->client_key) == TLSV_PKEY_RSA ? TLSV_SIG_RSA_PKCS1_MD5_SHA1
                                                                      : TLSV_SIG_ECDSA_SHA1;
    bool asked = s->version < TLSV_V_TLS12;
    for (size_t i = 0; i < tlsv_sigalgs12_count && !asked; i++)
        asked = tlsv_sigalgs12[i] == scheme;
    if (!asked || !tlsv_sig_key_supports(s->client_key, scheme, 0))
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "client CertificateVerify scheme 0x%04x was not asked for or "
                                "does not fit its certificate",
                                scheme);
    if (tlsv_verify(s->client_key, scheme, s->tr.buf, s->tr.len, cv.signature.p,
                    cv.signature.n) != 0)
        return tlsv_engine_fail(e, TLSV_R_BAD_SIGNATURE, TLSV_ALERT_DECRYPT_ERROR,
                                "the client's CertificateVerify signature does not verify");
    s->marks |= TLSV_MARK_PEER_SIG;
    if (add(e, msg, len) != 0)
        return -1;
    s->state = S_WAIT_CCS;
    return 0;
}

static int server12_ccs(tlsv_engine *e)
{
    server12 *s = S(e);
    if (!s || s->state != S_WAIT_CCS)
        return -1;
    if (tlsv_engine_check_key_boundary(e) != 0 ||
        tlsv_tls12_install(e, false, true, s->version, s->suite, s->master, s->cr, s->sr,
                           s->etm) != 0)
        return -1;
    s->state = S_WAIT_FINISHED;
    return 0;
}

static int on_finished(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    server12 *s = S(e);
    uint8_t expect[36];
    size_t vlen = 0;
    if (tlsv_tls12_finished(s->version, s->suite, s->master, true, s->tr.buf,
                            s->tr.len, expect, &vlen) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not compute Finished");
    tlsv_bytes vd;
    tlsv_error err;
    if (tlsv_msg_parse_finished(msg + 4, len - 4, vlen, &vd, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    if (tlsv_ct_memcmp(vd.p, expect, vlen) != 0)
        return tlsv_engine_fail(e, TLSV_R_DIGEST_CHECK_FAILED, TLSV_ALERT_DECRYPT_ERROR,
                                "the client's Finished does not match the handshake transcript");
    s->marks |= TLSV_MARK_PEER_FIN;
    if (add(e, msg, len) != 0)
        return -1;
    /* full handshake: [NewSessionTicket], our ChangeCipherSpec and Finished
     * (resumed: ours went first) */
    if (!s->resumed &&
        ((s->send_ticket && send_ticket(e, s->client_key != NULL) != 0) || send_finished(e) != 0))
        return -1;
    if ((s->marks & TLSV_MARKS_ALL) != TLSV_MARKS_ALL)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "internal error: application traffic without every "
                                "verification mark (0x%x)",
                                s->marks);
    if (!s->resumed && s->session_id_len)
        tlsv_tls12_cache_add(e, s->session_id, s->session_id_len, s->version, s->suite->id,
                             s->master, s->ems, s->client_key != NULL);
    tlsv_engine_established(e);
    return 0;
}

static int server12_message(tlsv_engine *e, uint8_t type, const uint8_t *msg, size_t len)
{
    server12 *s = S(e);
    switch (s->state) {
    case S_WAIT_CERT:
        if (type == TLSV_HS_CERTIFICATE)
            return on_certificate(e, msg, len);
        break;
    case S_WAIT_CKE:
        if (type == TLSV_HS_CLIENT_KEY_EXCHANGE)
            return on_client_key_exchange(e, msg, len);
        break;
    case S_WAIT_CV:
        if (type == TLSV_HS_CERTIFICATE_VERIFY)
            return on_certificate_verify(e, msg, len);
        break;
    case S_WAIT_CCS:
        break;
    case S_WAIT_FINISHED:
        if (type == TLSV_HS_FINISHED)
            return on_finished(e, msg, len);
        break;
    }
    if (type == TLSV_HS_CLIENT_HELLO)
        return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                                "a second ClientHello during the handshake");
    return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                            "unexpected %s from the client (the %s server is in state %s)",
                            tlsv_hs_type_name(type), tlsv_version_string(s->version),
                            sstate_name[s->state]);
}

const tlsv_hs_ops tlsv_tls12_server_ops = {
    .name = "TLS 1.0-1.2 server",
    .start = NULL,
    .message = server12_message,
    .ccs = server12_ccs,
    .free = server12_free,
};
