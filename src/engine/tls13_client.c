/*
 * tls13_client.c -- the TLS 1.3 client (RFC 8446 §2, §4).
 *
 *   state            expects                     then
 *   WAIT_SH          ServerHello / HRR           WAIT_EE (or WAIT_SH again after one HRR)
 *   WAIT_EE          EncryptedExtensions         WAIT_CERT_CR
 *   WAIT_CERT_CR     CertificateRequest          WAIT_CERT
 *                    Certificate                 WAIT_CV
 *   WAIT_CERT        Certificate                 WAIT_CV
 *   WAIT_CV          CertificateVerify           WAIT_FINISHED
 *   WAIT_FINISHED    Finished                    (our [Certificate, CertificateVerify,]
 *                                                 Finished; application traffic)
 * Anything else is unexpected_message, decided in one place (message()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "engine/engine.h"
#include "engine/keysched13.h"
#include "engine/msg.h"
#include "engine/pha13.h"
#include "engine/suites.h"
#include "engine/tls12.h"
#include "engine/session.h"
#include "engine/tls13.h"
#include "err.h"
#include "version.h"
#include "x509.h"

typedef enum {
    C_WAIT_SH,
    C_WAIT_EE,
    C_WAIT_CERT_CR,
    C_WAIT_CERT,
    C_WAIT_CV,
    C_WAIT_FINISHED
} cstate;

static const char *const cstate_name[] = {"WAIT_SH",   "WAIT_EE", "WAIT_CERT_CR",
                                          "WAIT_CERT", "WAIT_CV", "WAIT_FINISHED"};

typedef struct client {
    cstate state;
    tlsv_client_offer offer;      /* the versions offered (version policy) */
    uint8_t random[32];
    uint8_t session_id[32];
    size_t session_id_len;
    uint16_t suites[40];
    size_t n_suites;
    bool offered_ems, offered_etm;
    tlsv_kex *kex;                /* our key share */
    bool hrr_seen;
    uint16_t hrr_suite;
    bool ccs_sent;
    const tlsv_suite *suite;
    tlsv_transcript tr;
    tlsv_ks13 ks;
    unsigned marks;
    bool cert_requested;
    uint8_t cr_sigalgs[128];      /* the server's CertificateRequest schemes */
    size_t cr_sigalgs_len;
    uint8_t *ch;                  /* our ClientHello (needed for an HRR reply) */
    size_t ch_len;
    uint32_t offered_ext;         /* its extensions: all a server may answer */
    bool psk_ok;                  /* e->session may be offered (tlsv_session_offerable) */
    bool psk_offered;             /* the last ClientHello offered it */
    bool sess12;                  /* e->session is a TLS <= 1.2 session offered (session.h) */
    bool ticket12;                /* ... by its ticket (RFC 5077), session_id being random */
} client;

static client *C(tlsv_engine *e)
{
    return (client *)e->hs_state;
}

static void client_free(tlsv_engine *e)
{
    client *c = C(e);
    if (!c)
        return;
    tlsv_kex_free(c->kex);
    tlsv_tr_free(&c->tr);
    tlsv_ks13_wipe(&c->ks);
    free(c->ch);
    tlsv_wipe(c, sizeof *c);
    free(c);
    e->hs_state = NULL;
}

/* Is this an IP literal (RFC 6066 forbids them in SNI)? */
static bool is_ip_literal(const char *name)
{
    if (strchr(name, ':'))
        return true;
    for (const char *p = name; *p; p++)
        if ((*p < '0' || *p > '9') && *p != '.')
            return false;
    return true;
}

/* ALPN names from the context's wire list. */
static size_t alpn_names(const tlsv_ctx *ctx, tlsv_bytes *out, size_t cap)
{
    size_t n = 0, off = 0;
    while (off < ctx->alpn_len && n < cap) {
        size_t l = ctx->alpn[off];
        out[n].p = ctx->alpn + off + 1;
        out[n].n = l;
        n++;
        off += 1 + l;
    }
    return n;
}

/* The extensions of a ClientHello we wrote (msg: header included); the
 * renegotiation SCSV stands for renegotiation_info (RFC 5746 §3.6). */
static uint32_t offered_extensions(const uint8_t *msg, size_t len)
{
    tlsv_client_hello own;
    if (tlsv_msg_parse_client_hello(msg + 4, len - 4, &own, NULL) != 0)
        return 0;
    return own.present | (own.has_empty_renegotiation_info_scsv
                              ? TLSV_EXT_BIT(TLSV_EXTID_RENEGOTIATION_INFO)
                              : 0);
}

/* Computes the PSK binder of e->session over the ClientHello written in
 * msg (its first `truncated` bytes, after what the transcript holds: nothing
 * for the first ClientHello, message_hash(CH1) || HRR for the second) and
 * puts it in place of the writer's placeholder (RFC 8446 §4.2.11.2). */
static int fill_binder(tlsv_engine *e, uint8_t *msg, size_t len, size_t truncated,
                       tlsv_hash_alg hash)
{
    client *c = C(e);
    const tlsv_session *s = e->session;
    uint8_t th[TLSV_HASH_MAX_LEN], key[TLSV_KS13_MAX], binder[TLSV_KS13_MAX];
    tlsv_ks13 ks;
    tlsv_error err;
    int rc;
    memset(&ks, 0, sizeof ks);
    rc = tlsv_tr_hash_with(&c->tr, hash, msg, truncated, th);
    if (rc == 0)
        rc = tlsv_ks13_init(&ks, hash, s->psk, s->psk_len) == 0 &&
                     tlsv_ks13_binder_key(&ks, key) == 0 &&
                     tlsv_ks13_finished(&ks, key, th, ks.hlen, binder) == 0
                 ? 0
                 : -1;
    tlsv_bytes b = {binder, ks.hlen};
    if (rc == 0 && tlsv_msg_fill_binders(msg, len, truncated, &b, 1, &err) != 0)
        rc = -1;
    tlsv_ks13_wipe(&ks);
    tlsv_wipe(key, sizeof key);
    tlsv_wipe(binder, sizeof binder);
    return rc == 0 ? 0
                   : tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                      "could not compute the PSK binder");
}

/* Writes and queues a ClientHello (the first, or the reply to an HRR). */
static int send_client_hello(tlsv_engine *e, const tlsv_bytes *cookie)
{
    client *c = C(e);
    tlsv_ctx *ctx = e->ctx;
    uint8_t pub[TLSV_KEX_MAX_PUBLIC_LEN];
    size_t pub_len = 0;
    if (c->kex && tlsv_kex_public(c->kex, pub, sizeof pub, &pub_len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not export the key share");
    tlsv_key_share_param share = {.group = c->kex ? (uint16_t)tlsv_kex_group(c->kex) : 0,
                                  .key_exchange = {pub, pub_len}};
    tlsv_bytes alpn[TLSV_ALPN_MAX_OFFERED];
    size_t n_alpn = alpn_names(ctx, alpn, TLSV_ALPN_MAX_OFFERED);
    static const uint8_t psk_modes[] = {TLSV_PSK_DHE_KE};
    int top = tlsv_vset_max(c->offer.run);
    bool tls13 = top >= TLSV_V_TLS13;
    bool legacy = tlsv_vset_min(c->offer.run) <= TLSV_V_TLS12;
    bool ssl3_only = top == TLSV_V_SSL3;
    /* RFC 5246 §7.4.1.4.1: signature_algorithms only when offering >= 1.2 */
    bool sigalgs = top >= TLSV_V_TLS12;
    tlsv_client_hello_params p = {
        .legacy_version = c->offer.legacy_version,
        .random = c->random,
        .session_id = {c->session_id, c->session_id_len},
        .cipher_suites = c->suites,
        .n_cipher_suites = c->n_suites,
        .fallback_scsv = e->fallback_scsv,
        /* SSL 3.0 hellos carry no extensions: signal RFC 5746 by SCSV */
        .empty_renegotiation_info_scsv = ssl3_only,
        .versions = tls13 ? c->offer.versions : NULL,
        .n_versions = tls13 ? c->offer.n_versions : 0,
        .groups = ssl3_only ? NULL : ctx->groups,
        .n_groups = ssl3_only ? 0 : ctx->n_groups,
        .signature_algorithms = sigalgs ? (legacy ? tlsv_sigalgs12 : tlsv_sigalgs13) : NULL,
        .n_signature_algorithms = sigalgs ? (legacy ? tlsv_sigalgs12_count : tlsv_sigalgs13_count) : 0,
        .key_share = tls13,
        .key_shares = tls13 ? &share : NULL,
        .n_key_shares = tls13 ? 1 : 0,
        .server_name = !ssl3_only && e->server_name && !is_ip_literal(e->server_name)
                           ? e->server_name
                           : NULL,
        .alpn = n_alpn && !ssl3_only ? alpn : NULL,
        .n_alpn = ssl3_only ? 0 : n_alpn,
        .psk_modes = tls13 ? psk_modes : NULL,
        .n_psk_modes = tls13 ? 1 : 0,
        .cookie = cookie ? *cookie : (tlsv_bytes){NULL, 0},
        .renegotiation_info = legacy && !ssl3_only,
        .extended_master_secret = legacy && !ssl3_only,
        .encrypt_then_mac = c->offered_etm,
        .ec_point_formats = legacy && !ssl3_only,
        /* RFC 5077: empty, or the ticket of the TLS <= 1.2 session offered */
        .session_ticket = legacy && !ssl3_only && !(ctx->vcfg.options & TLSV_OP_NO_TICKET),
        .ticket = c->ticket12 ? (tlsv_bytes){e->session->ticket, e->session->ticket_len}
                              : (tlsv_bytes){NULL, 0},
        .padding = !ssl3_only && (ctx->vcfg.options & 0x40u) != 0, /* OP_TLSEXT_PADDING (OP_ALL) */
        .post_handshake_auth = tls13 && ctx->post_handshake_auth, /* RFC 8446 §4.2.6 */
        .second_hello = cookie != NULL || c->hrr_seen,
    };
    /* resumption (RFC 8446 §4.2.11): e->session's ticket, the last
     * extension; after an HRR only if its suite has the PSK's hash (§4.1.4) */
    const tlsv_session *sess = e->session;
    tlsv_hash_alg psk_hash = c->psk_ok && tls13 ? tlsv_session_hash(sess) : TLSV_HASH_NONE;
    const tlsv_suite *hrr_suite = c->hrr_seen ? tlsv_suite_by_id(c->hrr_suite) : NULL;
    if (c->hrr_seen && (!hrr_suite || hrr_suite->hash != psk_hash))
        psk_hash = TLSV_HASH_NONE;
    tlsv_psk_param psk;
    c->psk_offered = psk_hash != TLSV_HASH_NONE;
    if (c->psk_offered) {
        uint64_t now = tlsv_ctx_now_ms(ctx);
        uint32_t age_ms = now > sess->time_ms ? (uint32_t)(now - sess->time_ms) : 0;
        psk = (tlsv_psk_param){.identity = {sess->ticket, sess->ticket_len},
                               .obfuscated_ticket_age = age_ms + sess->age_add,
                               .binder_len = sess->psk_len};
        p.psks = &psk;
        p.n_psks = 1;
    }
    tlsv_writer w;
    tlsv_error err;
    size_t truncated = 0;
    if (!tlsv_wr_init_growable(&w, 512, 65536))
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR,
                                "out of memory");
    if (tlsv_msg_write_client_hello(&w, &p, &truncated, &err) != 0) {
        tlsv_wr_release(&w);
        return tlsv_engine_fail_err(e, &err);
    }
    /* the writer's own heap buffer: the binder goes in place of the zeros */
    if (c->psk_offered &&
        fill_binder(e, (uint8_t *)tlsv_wr_data(&w), tlsv_wr_len(&w), truncated, psk_hash) != 0) {
        tlsv_wr_release(&w);
        return -1;
    }
    int rc = tlsv_tr_add(&c->tr, tlsv_wr_data(&w), tlsv_wr_len(&w));
    if (rc == 0 && !c->hrr_seen) {
        c->offered_ext = offered_extensions(tlsv_wr_data(&w), tlsv_wr_len(&w));
        c->ch = malloc(tlsv_wr_len(&w));
        if (c->ch) {
            memcpy(c->ch, tlsv_wr_data(&w), tlsv_wr_len(&w));
            c->ch_len = tlsv_wr_len(&w);
        }
    }
    if (rc == 0)
        rc = tlsv_engine_send_handshake(e, tlsv_wr_data(&w), tlsv_wr_len(&w));
    tlsv_wr_release(&w);
    return rc == 0 ? 0 : tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                          "could not queue the ClientHello");
}

static int client_start(tlsv_engine *e)
{
    tlsv_ctx *ctx = e->ctx;
    client *c = calloc(1, sizeof *c);
    if (!c)
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_NONE, "out of memory");
    e->hs_state = c;
    tlsv_error err;
    if (tlsv_vp_client_offer(&ctx->vcfg, false, &c->offer, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    e->plain_version = c->offer.record_version;
    /* the RSA premaster secret carries ClientHello.client_version -- the
     * legacy_version, 0x0303 when TLS 1.3 is offered -- not the highest
     * version in supported_versions (RFC 5246 §7.4.7.1, RFC 8446 §4.1.2) */
    e->offered_max_version = c->offer.legacy_version;
    /* suites: TLS 1.3 ones when 1.3 is offered, then the context's TLS
     * 1.0-1.2 suites usable at some offered version */
    if (tlsv_vset_has(c->offer.run, TLSV_V_TLS13))
        for (size_t i = 0; i < ctx->n_suites13; i++)
            c->suites[c->n_suites++] = ctx->suites13[i];
    uint16_t s12[TLSV_SUITES12_MAX];
    size_t n12 = tlsv_tls12_ctx_suites(ctx, false, s12, TLSV_SUITES12_MAX);
    bool any_cbc = false;
    for (size_t i = 0; i < n12 && c->n_suites < sizeof c->suites / sizeof c->suites[0]; i++) {
        const tlsv_suite *st = tlsv_suite_by_id(s12[i]);
        bool usable = false;
        for (int v = TLSV_V_SSL3; v <= TLSV_V_TLS12; v++)
            usable = usable || (tlsv_vset_has(c->offer.run, v) && tlsv_suite_usable(st, (uint16_t)v));
        if (usable) {
            c->suites[c->n_suites++] = s12[i];
            any_cbc = any_cbc || !st->aead;
        }
    }
    if (c->n_suites == 0)
        return tlsv_engine_fail(e, TLSV_R_NO_SHARED_CIPHER, TLSV_ALERT_NONE,
                                "no cipher suite of this context can be used with the versions "
                                "it enables");
    bool legacy = tlsv_vset_min(c->offer.run) <= TLSV_V_TLS12;
    c->offered_ems = legacy && tlsv_vset_max(c->offer.run) > TLSV_V_SSL3;
    c->offered_etm = c->offered_ems && any_cbc;
    if (tlsv_random(c->random, sizeof c->random) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_NONE, "no randomness");
    memcpy(e->client_random, c->random, 32);
    /* a legacy_session_id of our own only when TLS 1.3 is offered, for
     * middlebox compatibility (RFC 8446 App. D.4); a TLS <= 1.2 hello
     * carries one only for a session it offers (below) */
    if ((ctx->vcfg.options & TLSV_OP_ENABLE_MIDDLEBOX_COMPAT) &&
        tlsv_vset_has(c->offer.run, TLSV_V_TLS13)) {
        c->session_id_len = 32;
        if (tlsv_random(c->session_id, 32) != 0)
            return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_NONE, "no randomness");
    }
    if (tlsv_vset_has(c->offer.run, TLSV_V_TLS13) &&
        (ctx->n_groups == 0 || !(c->kex = tlsv_kex_generate((tlsv_group)ctx->groups[0]))))
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_NONE,
                                "could not generate a key share");
    c->psk_ok = e->session && tlsv_vset_has(c->offer.run, TLSV_V_TLS13) &&
                tlsv_session_offerable(e, e->session);
    /* a TLS <= 1.2 session: its ticket with a random session ID (RFC 5077
     * §3.4), or its session ID (RFC 5246 §7.4.1.2), in the legacy fields */
    c->sess12 = e->session && legacy &&
                tlsv_session12_offerable(e, e->session, c->offer.run, c->suites, c->n_suites);
    if (c->sess12) {
        const tlsv_session *ss = e->session;
        c->ticket12 = ss->ticket_len && ss->version > TLSV_V_SSL3 &&
                      tlsv_vset_max(c->offer.run) > TLSV_V_SSL3 &&
                      !(ctx->vcfg.options & TLSV_OP_NO_TICKET);
        if (c->ticket12 && !c->session_id_len) {
            c->session_id_len = 32;
            if (tlsv_random(c->session_id, 32) != 0)
                return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_NONE,
                                        "no randomness");
        } else if (!c->ticket12) {
            memcpy(c->session_id, ss->session_id, ss->session_id_len);
            c->session_id_len = ss->session_id_len;
        }
    }
    c->state = C_WAIT_SH;
    return send_client_hello(e, NULL);
}

static bool offered_suite(const client *c, uint16_t s)
{
    for (size_t i = 0; i < c->n_suites; i++)
        if (c->suites[i] == s)
            return true;
    return false;
}

static bool offered_group(const tlsv_ctx *ctx, uint16_t g)
{
    for (size_t i = 0; i < ctx->n_groups; i++)
        if (ctx->groups[i] == g)
            return true;
    return false;
}

static int on_hello_retry_request(tlsv_engine *e, const tlsv_server_hello *sh, const uint8_t *msg,
                                  size_t len)
{
    client *c = C(e);
    if (c->hrr_seen)
        return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                                "a second HelloRetryRequest (RFC 8446 §4.1.4)");
    c->hrr_seen = true;
    if (!tlsv_ext_present(sh->present, TLSV_EXTID_SUPPORTED_VERSIONS) ||
        sh->selected_version != TLSV_V_TLS13 || !tlsv_vset_has(c->offer.run, TLSV_V_TLS13))
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "HelloRetryRequest without supported_versions = TLS 1.3");
    const tlsv_suite *s = tlsv_suite_by_id(sh->cipher_suite);
    if (!s || s->min_version < TLSV_V_TLS13 || !offered_suite(c, sh->cipher_suite))
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "HelloRetryRequest selects cipher suite 0x%04x, which this "
                                "client did not offer",
                                sh->cipher_suite);
    if (sh->session_id.n != c->session_id_len ||
        (c->session_id_len && memcmp(sh->session_id.p, c->session_id, c->session_id_len) != 0))
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "HelloRetryRequest does not echo our legacy_session_id");
    if (tlsv_ext_unsolicited(sh->present, sh->n_extensions,
                             c->offered_ext | TLSV_EXT_BIT(TLSV_EXTID_COOKIE)))
        return tlsv_engine_fail(e, TLSV_R_UNSOLICITED_EXTENSION, TLSV_ALERT_UNSUPPORTED_EXTENSION,
                                "HelloRetryRequest carries an extension this client did not "
                                "offer (RFC 8446 §4.2)");
    bool has_group = tlsv_ext_present(sh->present, TLSV_EXTID_KEY_SHARE);
    bool has_cookie = tlsv_ext_present(sh->present, TLSV_EXTID_COOKIE);
    if (!has_group && !has_cookie)
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "a HelloRetryRequest that would not change the ClientHello "
                                "(RFC 8446 §4.1.4)");
    if (has_group) {
        uint16_t g = sh->key_share_group;
        if (!offered_group(e->ctx, g) || g == (uint16_t)tlsv_kex_group(c->kex))
            return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                    "HelloRetryRequest asks for group 0x%04x, which this client "
                                    "did not offer or already sent a share for",
                                    g);
        tlsv_kex_free(c->kex);
        c->kex = tlsv_kex_generate((tlsv_group)g);
        if (!c->kex)
            return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                    "could not generate a key share for group 0x%04x", g);
    }
    c->hrr_suite = sh->cipher_suite;
    /* transcript: message_hash(CH1) || HRR || CH2 */
    if (tlsv_tr_begin(&c->tr, s->hash) != 0 || tlsv_tr_hrr_restart(&c->tr) != 0 ||
        tlsv_tr_add(&c->tr, msg, len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    if (c->session_id_len && !c->ccs_sent) { /* middlebox compatibility (App. D.4) */
        if (tlsv_engine_send_ccs(e) != 0)
            return -1;
        c->ccs_sent = true;
    }
    tlsv_bytes cookie = sh->cookie;
    e->plain_version = TLSV_V_TLS12; /* only the first ClientHello may say 0x0301 */
    return send_client_hello(e, has_cookie ? &cookie : NULL);
}

static int on_server_hello(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    client *c = C(e);
    tlsv_server_hello sh;
    tlsv_error err;
    if (tlsv_msg_parse_server_hello(msg + 4, len - 4, &sh, &err) != 0)
        return tlsv_tls13_fail_parse(e, &err);
    /* from now on our plaintext records (alerts) carry the server's version */
    e->plain_version = sh.legacy_version >= TLSV_V_SSL3 && sh.legacy_version <= TLSV_V_TLS12
                           ? sh.legacy_version
                           : TLSV_V_TLS12;
    if (sh.is_hello_retry_request)
        return on_hello_retry_request(e, &sh, msg, len);

    /* the version: the policy decides (RFC 8446 §4.1.3, §4.2.1) */
    tlsv_server_hello_view view;
    tlsv_sh_version_view(&sh, &view);
    uint16_t v;
    if (tlsv_vp_client_check(&e->ctx->vcfg, &c->offer, &view, &v, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    if (v != TLSV_V_TLS13) {
        if (c->hrr_seen)
            return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                    "the server chose %s after a HelloRetryRequest for TLS 1.3",
                                    tlsv_version_string(v));
        tlsv_tls12_client_hello_info info = {
            .version = v,
            .suites = c->suites,
            .n_suites = c->n_suites,
            .offered_ems = c->offered_ems,
            .offered_etm = c->offered_etm,
            .offered_ext = c->offered_ext,
            .ch = c->ch,
            .ch_len = c->ch_len,
            .session = c->sess12 ? e->session : NULL,
            .session_id = c->session_id,
            .session_id_len = c->session_id_len,
            .session13_offered = c->psk_offered,
        };
        memcpy(info.client_random, c->random, 32);
        if (!c->ch)
            return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
        /* the hello stage ends here; tls12_client.c frees this state */
        return tlsv_tls12_client_begin(e, &info, msg, len);
    }
    if (sh.session_id.n != c->session_id_len ||
        (c->session_id_len && memcmp(sh.session_id.p, c->session_id, c->session_id_len) != 0))
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "ServerHello does not echo our legacy_session_id");
    const tlsv_suite *s = tlsv_suite_by_id(sh.cipher_suite);
    if (!s || s->min_version < TLSV_V_TLS13 || !offered_suite(c, sh.cipher_suite) ||
        (c->hrr_seen && sh.cipher_suite != c->hrr_suite))
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "ServerHello selects cipher suite 0x%04x, which this client "
                                "did not offer for TLS 1.3%s",
                                sh.cipher_suite, c->hrr_seen ? " or which differs from the HRR's" : "");
    bool resumed = tlsv_ext_present(sh.present, TLSV_EXTID_PRE_SHARED_KEY);
    /* an extension we did not send (RFC 8446 §4.2: unsupported_extension);
     * with a TLS <= 1.2 session offered, a server resuming it in TLS 1.3 */
    if (resumed && !c->psk_offered)
        return tlsv_engine_fail(e, c->sess12 ? TLSV_R_OLD_SESSION_VERSION_NOT_RETURNED
                                             : TLSV_R_UNSOLICITED_EXTENSION,
                                TLSV_ALERT_UNSUPPORTED_EXTENSION,
                                "ServerHello selects a pre-shared key this client did not offer%s",
                                c->sess12 ? " (its session is a TLS <= 1.2 one, which TLS 1.3 "
                                            "cannot resume)"
                                          : "");
    /* RFC 8446 §4.2.11: the identity offered (one), a suite of the PSK's hash */
    if (resumed && sh.psk_selected_identity != 0)
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "ServerHello selects PSK identity %u; this client offered one",
                                (unsigned)sh.psk_selected_identity);
    if (resumed && s->hash != tlsv_session_hash(e->session))
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "ServerHello resumes the session with cipher suite %s, whose "
                                "hash is not the session's (RFC 8446 §4.2.11)",
                                s->iana);
    if (tlsv_ext_unsolicited(sh.present, sh.n_extensions, c->offered_ext))
        return tlsv_engine_fail(e, TLSV_R_UNSOLICITED_EXTENSION,
                                TLSV_ALERT_UNSUPPORTED_EXTENSION,
                                "ServerHello carries an extension this client did not offer "
                                "(RFC 8446 §4.2)");
    if (!tlsv_ext_present(sh.present, TLSV_EXTID_KEY_SHARE))
        return tlsv_engine_fail(e, TLSV_R_MISSING_EXTENSION, TLSV_ALERT_MISSING_EXTENSION,
                                "ServerHello has no key_share (this client offers only "
                                "psk_dhe_ke, never a PSK without (EC)DHE)");
    if (sh.key_share_group != (uint16_t)tlsv_kex_group(c->kex))
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "ServerHello key_share is for group 0x%04x; this client sent "
                                "a share for 0x%04x",
                                sh.key_share_group, (unsigned)tlsv_kex_group(c->kex));
    uint8_t dhe[TLSV_KEX_MAX_SECRET_LEN];
    size_t dhe_len = 0;
    if (tlsv_kex_derive(c->kex, sh.key_share.p, sh.key_share.n, dhe, sizeof dhe, &dhe_len) != 0)
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "the server's key share is not a valid %s public key",
                                tlsv_group_name(sh.key_share_group));
    c->suite = s;
    e->version = TLSV_V_TLS13;
    e->suite = s->id;
    e->group = sh.key_share_group;

    uint8_t th[TLSV_HASH_MAX_LEN];
    const uint8_t *psk = resumed ? e->session->psk : NULL;
    size_t psk_len = resumed ? e->session->psk_len : 0;
    int rc = tlsv_tr_begin(&c->tr, s->hash) == 0 && tlsv_tr_add(&c->tr, msg, len) == 0 &&
                     tlsv_tr_hash(&c->tr, th) == 0 &&
                     tlsv_ks13_init(&c->ks, s->hash, psk, psk_len) == 0 &&
                     tlsv_ks13_handshake(&c->ks, dhe, dhe_len, th, c->ks.hlen) == 0
                 ? 0
                 : -1;
    tlsv_wipe(dhe, sizeof dhe);
    if (rc != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "key schedule failure");
    if (resumed) { /* no Certificate, no CertificateVerify: the PSK stands for them */
        if (tlsv_tls13_resume_accepted(e, e->session, &c->marks) != 0)
            return -1;
        e->resumed = true;
    }
    tlsv_engine_keylog(e, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", c->ks.c_hs, c->ks.hlen);
    tlsv_engine_keylog(e, "SERVER_HANDSHAKE_TRAFFIC_SECRET", c->ks.s_hs, c->ks.hlen);
    if (tlsv_engine_check_key_boundary(e) != 0)
        return -1;
    if (tlsv_rec_dir_set13(&e->rd, s->aead, s->hash, c->ks.s_hs, c->ks.hlen) != 0 ||
        tlsv_engine_set_write13(e, s->aead, s->hash, c->ks.c_hs, c->ks.hlen) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not install the handshake keys");
    tlsv_kex_free(c->kex);
    c->kex = NULL;
    free(c->ch);
    c->ch = NULL;
    c->state = C_WAIT_EE;
    return 0;
}

static int on_encrypted_extensions(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    client *c = C(e);
    tlsv_encrypted_extensions ee;
    tlsv_error err;
    if (tlsv_msg_parse_encrypted_extensions(msg + 4, len - 4, &ee, &err) != 0)
        return tlsv_tls13_fail_parse(e, &err);
    if (tlsv_ext_unsolicited(ee.present, ee.n_extensions, c->offered_ext))
        return tlsv_engine_fail(e, TLSV_R_UNSOLICITED_EXTENSION,
                                TLSV_ALERT_UNSUPPORTED_EXTENSION,
                                "EncryptedExtensions carries an extension this client did not "
                                "offer (RFC 8446 §4.2)");
    if (tlsv_ext_present(ee.present, TLSV_EXTID_ALPN) && tlsv_hs_accept_alpn(e, ee.alpn) != 0)
        return -1;
    if (tlsv_tr_add(&c->tr, msg, len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    /* a resumed handshake goes on with the server's Finished (RFC 8446 §2.2) */
    c->state = e->resumed ? C_WAIT_FINISHED : C_WAIT_CERT_CR;
    return 0;
}

static int on_certificate_request(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    client *c = C(e);
    tlsv_certificate_request cr;
    tlsv_error err;
    if (tlsv_msg_parse_certificate_request(msg + 4, len - 4, TLSV_V_TLS13, &cr, &err) != 0)
        return tlsv_tls13_fail_parse(e, &err);
    if (cr.context.n != 0)
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "CertificateRequest in the handshake with a non-empty context");
    c->cert_requested = true;
    c->cr_sigalgs_len = cr.signature_algorithms.n < sizeof c->cr_sigalgs
                            ? cr.signature_algorithms.n
                            : sizeof c->cr_sigalgs;
    if (c->cr_sigalgs_len)
        memcpy(c->cr_sigalgs, cr.signature_algorithms.p, c->cr_sigalgs_len);
    if (tlsv_tr_add(&c->tr, msg, len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    c->state = C_WAIT_CERT;
    return 0;
}

static int on_certificate(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    client *c = C(e);
    tlsv_certificate cert;
    tlsv_error err;
    if (tlsv_msg_parse_certificate(msg + 4, len - 4, TLSV_V_TLS13, &cert, &err) != 0)
        return tlsv_tls13_fail_parse(e, &err);
    if (cert.request_context.n != 0)
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "server Certificate with a non-empty request context");
    if (cert.n == 0)
        return tlsv_engine_fail(e, TLSV_R_DECODE_ERROR, TLSV_ALERT_DECODE_ERROR,
                                "the server sent an empty Certificate (RFC 8446 §4.4.2.4)");
    /* RFC 8446 §4.4.2: a server's entry extensions answer extensions of the
     * ClientHello, and this client asks for none (no status_request, no
     * signed_certificate_timestamp): any one is unsolicited (§4.2) */
    for (size_t i = 0; i < cert.n; i++)
        if (cert.entries[i].extensions.n)
            return tlsv_engine_fail(e, TLSV_R_UNSOLICITED_EXTENSION,
                                    TLSV_ALERT_UNSUPPORTED_EXTENSION,
                                    "the server's Certificate entry %zu carries extensions this "
                                    "client did not request (RFC 8446 §4.4.2)",
                                    i);
    if (tlsv_hs_peer_chain(e, &cert, true, TLSV_X509_KU_DIGITAL_SIGNATURE, &c->marks) != 0)
        return -1;
    if (tlsv_tr_add(&c->tr, msg, len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    c->state = C_WAIT_CV;
    return 0;
}

static int on_certificate_verify(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    client *c = C(e);
    uint8_t th[TLSV_HASH_MAX_LEN];
    if (tlsv_tr_hash(&c->tr, th) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    if (tlsv_tls13_check_peer_cv(e, msg, len, th, c->ks.hlen, true, &c->marks) != 0)
        return -1;
    if (tlsv_tr_add(&c->tr, msg, len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    c->state = C_WAIT_FINISHED;
    return 0;
}

/* Our Certificate and CertificateVerify, when the server asked (tls13.c,
 * shared with the answers to post-handshake requests in pha13.c). */
static int send_client_auth(tlsv_engine *e)
{
    client *c = C(e);
    return tlsv_tls13_send_client_auth(e, &c->tr, c->ks.hlen, (tlsv_bytes){NULL, 0},
                                       (tlsv_bytes){c->cr_sigalgs, c->cr_sigalgs_len});
}

static bool ctx_pha(const tlsv_engine *e)
{
    return e->ctx->post_handshake_auth != 0;
}

static int on_finished(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    client *c = C(e);
    tlsv_bytes vd;
    tlsv_error err;
    size_t hlen = c->ks.hlen;
    if (tlsv_msg_parse_finished(msg + 4, len - 4, hlen, &vd, &err) != 0)
        return tlsv_tls13_fail_parse(e, &err);
    uint8_t th[TLSV_HASH_MAX_LEN], expect[TLSV_HASH_MAX_LEN];
    if (tlsv_tr_hash(&c->tr, th) != 0 || tlsv_ks13_finished(&c->ks, c->ks.s_hs, th, hlen, expect) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "key schedule failure");
    if (tlsv_ct_memcmp(vd.p, expect, hlen) != 0)
        return tlsv_engine_fail(e, TLSV_R_DIGEST_CHECK_FAILED, TLSV_ALERT_DECRYPT_ERROR,
                                "the server's Finished does not match the handshake transcript");
    c->marks |= TLSV_MARK_PEER_FIN;
    if (!(c->marks & TLSV_MARK_PEER_CERT) || !(c->marks & TLSV_MARK_PEER_SIG))
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "internal error: Finished before the certificate checks");
    /* application secrets over CH..server Finished */
    if (tlsv_tr_add(&c->tr, msg, len) != 0 || tlsv_tr_hash(&c->tr, th) != 0 ||
        tlsv_ks13_master(&c->ks, th, hlen) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "key schedule failure");
    tlsv_engine_keylog(e, "CLIENT_TRAFFIC_SECRET_0", c->ks.c_ap, hlen);
    tlsv_engine_keylog(e, "SERVER_TRAFFIC_SECRET_0", c->ks.s_ap, hlen);
    tlsv_engine_keylog(e, "EXPORTER_SECRET", c->ks.exporter, hlen);
    if (tlsv_engine_check_key_boundary(e) != 0)
        return -1;
    if (tlsv_rec_dir_set13(&e->rd, c->suite->aead, c->suite->hash, c->ks.s_ap, hlen) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not install the application read keys");
    /* our flight */
    if (c->session_id_len && !c->ccs_sent) {
        if (tlsv_engine_send_ccs(e) != 0)
            return -1;
        c->ccs_sent = true;
    }
    if (c->cert_requested && send_client_auth(e) != 0)
        return -1;
    uint8_t fin[4 + TLSV_HASH_MAX_LEN] = {TLSV_HS_FINISHED, 0, 0, (uint8_t)hlen};
    if (tlsv_tr_hash(&c->tr, th) != 0 || tlsv_ks13_finished(&c->ks, c->ks.c_hs, th, hlen, fin + 4) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "key schedule failure");
    if (tlsv_engine_send_handshake(e, fin, 4 + hlen) != 0)
        return -1;
    /* resumption_master_secret over CH..client Finished: the server's
     * tickets will derive their PSKs from it (session.c) */
    if (tlsv_tr_add(&c->tr, fin, 4 + hlen) != 0 || tlsv_tr_hash(&c->tr, th) != 0 ||
        tlsv_ks13_resumption(&c->ks, th, hlen) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "key schedule failure");
    memcpy(e->res_secret, c->ks.resumption, hlen);
    /* we offered post_handshake_auth: later CertificateRequests start from
     * this transcript (pha13.c) */
    if (ctx_pha(e) && tlsv_pha_begin(e, &c->tr) != 0)
        return -1;
    if (tlsv_tls13_enter_traffic(e, c->marks, c->ks.s_ap, c->ks.c_ap, hlen, c->suite->hash,
                                 c->suite->aead, true) != 0)
        return -1;
    tlsv_engine_established(e);
    return 0;
}

static int client_message(tlsv_engine *e, uint8_t type, const uint8_t *msg, size_t len)
{
    client *c = C(e);
    switch (c->state) {
    case C_WAIT_SH:
        if (type == TLSV_HS_SERVER_HELLO)
            return on_server_hello(e, msg, len);
        break;
    case C_WAIT_EE:
        if (type == TLSV_HS_ENCRYPTED_EXTENSIONS)
            return on_encrypted_extensions(e, msg, len);
        break;
    case C_WAIT_CERT_CR:
        if (type == TLSV_HS_CERTIFICATE_REQUEST)
            return on_certificate_request(e, msg, len);
        if (type == TLSV_HS_CERTIFICATE)
            return on_certificate(e, msg, len);
        break;
    case C_WAIT_CERT:
        if (type == TLSV_HS_CERTIFICATE)
            return on_certificate(e, msg, len);
        break;
    case C_WAIT_CV:
        if (type == TLSV_HS_CERTIFICATE_VERIFY)
            return on_certificate_verify(e, msg, len);
        break;
    case C_WAIT_FINISHED:
        if (type == TLSV_HS_FINISHED)
            return on_finished(e, msg, len);
        break;
    }
    return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                            "unexpected %s from the server (the client is in state %s)",
                            tlsv_hs_type_name(type), cstate_name[c->state]);
}

static int client_ccs(tlsv_engine *e)
{
    (void)e; /* dropped: after our ClientHello, before the server's Finished */
    return 0;
}

const tlsv_hs_ops tlsv_tls13_client_ops = {
    .name = "TLS 1.3 client",
    .start = client_start,
    .message = client_message,
    .ccs = client_ccs,
    .free = client_free,
};
