/*
 * tls13_server.c -- the TLS 1.3 server (RFC 8446 §2, §4).
 *
 *   state            expects              then
 *   WAIT_CH          ClientHello          ServerHello [CCS] EncryptedExtensions
 *                                         [CertificateRequest] Certificate
 *                                         CertificateVerify Finished -> WAIT_CERT or
 *                                         WAIT_FINISHED; or HelloRetryRequest -> WAIT_CH2
 *   WAIT_CH2         ClientHello          as above
 *   WAIT_CERT        Certificate          WAIT_CV (or WAIT_FINISHED if empty and optional)
 *   WAIT_CV          CertificateVerify    WAIT_FINISHED
 *   WAIT_FINISHED    Finished             application traffic
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
#include "engine/ticket.h"
#include "engine/tls13.h"
#include "err.h"
#include "version.h"
#include "x509.h"

typedef enum { S_WAIT_CH, S_WAIT_CH2, S_WAIT_CERT, S_WAIT_CV, S_WAIT_FINISHED } sstate;

static const char *const sstate_name[] = {"WAIT_CH", "WAIT_CH2", "WAIT_CERT", "WAIT_CV",
                                          "WAIT_FINISHED"};

typedef struct server {
    sstate state;
    const tlsv_suite *suite;
    uint16_t group;              /* chosen (or asked for in the HRR) */
    bool hrr_sent;
    bool ccs_sent;
    bool compat;                 /* the client sent a legacy_session_id */
    bool cert_requested;
    uint8_t cookie[32];          /* sent in our HRR; the client must echo it */
    tlsv_transcript tr;
    tlsv_ks13 ks;
    unsigned marks;
    bool client_authenticated;   /* by a verified certificate, or a ticket that says so */
    bool pha_offered;            /* the ClientHello offered post_handshake_auth */
    bool psk_dhe_offered;        /* its psk_key_exchange_modes lists psk_dhe_ke */
} server;

static server *S(tlsv_engine *e)
{
    return (server *)e->hs_state;
}

static void server_free(tlsv_engine *e)
{
    server *s = S(e);
    if (!s)
        return;
    tlsv_tr_free(&s->tr);
    tlsv_ks13_wipe(&s->ks);
    tlsv_wipe(s, sizeof *s);
    free(s);
    e->hs_state = NULL;
}

static int server_start(tlsv_engine *e)
{
    server *s = calloc(1, sizeof *s);
    if (!s)
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_NONE, "out of memory");
    e->hs_state = s;
    s->state = S_WAIT_CH;
    return 0;
}

/* Writes one message with `write` into a scratch writer, adds it to the
 * transcript and queues it. */
typedef int (*writer_fn)(tlsv_writer *w, const void *arg, tlsv_error *err);

static int emit(tlsv_engine *e, writer_fn fn, const void *arg)
{
    server *s = S(e);
    tlsv_writer w;
    tlsv_error err;
    tlsv_err_clear(&err);
    if (!tlsv_wr_init_growable(&w, 1024, TLSV_MAX_HANDSHAKE_MESSAGE))
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
    int rc = fn(&w, arg, &err);
    if (rc == 0 && (tlsv_tr_add(&s->tr, tlsv_wr_data(&w), tlsv_wr_len(&w)) != 0 ||
                    tlsv_engine_send_handshake(e, tlsv_wr_data(&w), tlsv_wr_len(&w)) != 0))
        rc = -2;
    tlsv_wr_release(&w);
    if (rc == -2)
        return e->state == TLSV_ES_FAILED
                   ? -1
                   : tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                      "could not queue a handshake message");
    if (rc != 0) {
        if (err.reason == TLSV_R_OK)
            tlsv_err_set(&err, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR, TLSV_SIDE_LOCAL,
                         "could not write a handshake message");
        err.alert = TLSV_ALERT_INTERNAL_ERROR;
        return tlsv_engine_fail_err(e, &err);
    }
    return 0;
}

static int w_sh(tlsv_writer *w, const void *a, tlsv_error *err)
{
    return tlsv_msg_write_server_hello(w, a, err);
}
static int w_ee(tlsv_writer *w, const void *a, tlsv_error *err)
{
    return tlsv_msg_write_encrypted_extensions(w, a, err);
}
static int w_cr(tlsv_writer *w, const void *a, tlsv_error *err)
{
    return tlsv_msg_write_certificate_request(w, a, err);
}

typedef struct {
    const tlsv_bytes *certs;
    size_t n;
} certs_arg;
static int w_cert(tlsv_writer *w, const void *a, tlsv_error *err)
{
    const certs_arg *c = a;
    return tlsv_msg_write_certificate(w, TLSV_V_TLS13, (tlsv_bytes){NULL, 0}, c->certs, c->n, err);
}

typedef struct {
    uint16_t scheme;
    tlsv_bytes sig;
} cv_arg;
static int w_cv(tlsv_writer *w, const void *a, tlsv_error *err)
{
    const cv_arg *c = a;
    return tlsv_msg_write_certificate_verify(w, TLSV_V_TLS13, c->scheme, c->sig, err);
}

static int w_fin(tlsv_writer *w, const void *a, tlsv_error *err)
{
    return tlsv_msg_write_finished(w, *(const tlsv_bytes *)a, err);
}

/* The server's choice of suite: its own preference with
 * OP_CIPHER_SERVER_PREFERENCE (the default), else the client's. */
static const tlsv_suite *choose_suite(const tlsv_ctx *ctx, const tlsv_client_hello *ch)
{
    if (ctx->vcfg.options & TLSV_OP_CIPHER_SERVER_PREFERENCE) {
        for (size_t i = 0; i < ctx->n_suites13; i++)
            if (tlsv_ch_has_suite(ch, ctx->suites13[i]))
                return tlsv_suite_by_id(ctx->suites13[i]);
        return NULL;
    }
    tlsv_iter it;
    uint16_t id;
    tlsv_ch_suites(ch, &it);
    while (tlsv_iter_suite(&it, &id))
        for (size_t i = 0; i < ctx->n_suites13; i++)
            if (ctx->suites13[i] == id)
                return tlsv_suite_by_id(id);
    return NULL;
}

/* The group: the server's most preferred group the client sent a share for;
 * else its most preferred group the client supports (-> HRR); else 0. */
static uint16_t choose_group(const tlsv_ctx *ctx, const tlsv_client_hello *ch, bool *need_hrr)
{
    *need_hrr = false;
    tlsv_bytes share;
    for (size_t i = 0; i < ctx->n_groups; i++)
        if (tlsv_ch_find_key_share(ch, ctx->groups[i], &share))
            return ctx->groups[i];
    for (size_t i = 0; i < ctx->n_groups; i++)
        if (tlsv_u16_contains(ch->supported_groups, ctx->groups[i])) {
            *need_hrr = true;
            return ctx->groups[i];
        }
    return 0;
}

static int send_hrr(tlsv_engine *e, const tlsv_client_hello *ch)
{
    server *s = S(e);
    tlsv_server_hello_params p = {
        .legacy_version = TLSV_V_TLS12,
        .hello_retry_request = true,
        .session_id = ch->session_id,
        .cipher_suite = s->suite->id,
        .selected_version = TLSV_V_TLS13,
        .key_share = true,
        .key_share_group = s->group,
        .cookie = {s->cookie, sizeof s->cookie},
    };
    /* a cookie (RFC 8446 §4.2.2): proof that the second ClientHello answers
     * this HRR; tlsv keeps its state, so the cookie is just a nonce */
    e->plain_version = TLSV_V_TLS12; /* RFC 8446 §5.1: 0x0303 but for a first ClientHello */
    if (tlsv_random(s->cookie, sizeof s->cookie) != 0 || tlsv_tr_hrr_restart(&s->tr) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    if (emit(e, w_sh, &p) != 0)
        return -1;
    if (s->compat && !s->ccs_sent) {
        if (tlsv_engine_send_ccs(e) != 0)
            return -1;
        s->ccs_sent = true;
    }
    s->hrr_sent = true;
    s->state = S_WAIT_CH2;
    return 0;
}

static int send_finished(tlsv_engine *e);

/* Resumption: the first PSK identity that is a usable ticket of this
 * context (ticket.c), and its binder, which must verify (tls13.c sets the
 * marks). msg is the whole ClientHello; suite the one chosen. Leaves the
 * PSK's Early Secret in s->ks. Returns 1 (resumed, *identity set), 0 (a
 * full handshake), or -1 after tlsv_engine_fail. */
static int resume(tlsv_engine *e, const tlsv_client_hello *ch, const uint8_t *msg,
                  const tlsv_suite *suite, size_t *identity)
{
    server *s = S(e);
    tlsv_ticket t;
    int found = tlsv_tls13_find_ticket(e, ch, suite, identity, &t);
    if (found != 1)
        return found;
    /* the transcript up to the binders: the truncated ClientHello, after
     * message_hash(CH1) || HRR for a second one (RFC 8446 §4.2.11.2) */
    size_t truncated = TLSV_HS_HEADER_LEN + ch->psk_binders_offset;
    uint8_t th[TLSV_HASH_MAX_LEN];
    int rc;
    rc = tlsv_tr_hash_with(&s->tr, suite->hash, msg, truncated, th);
    if (rc == 0)
        rc = tlsv_ks13_init(&s->ks, suite->hash, t.psk, t.psk_len);
    bool peer_cert = t.peer_cert;
    tlsv_wipe(&t, sizeof t);
    if (rc != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "key schedule failure (resumption)");
    tlsv_iter it;
    tlsv_bytes binder = {NULL, 0};
    tlsv_iter_init(&it, ch->psk_binders);
    for (size_t i = 0; i <= *identity; i++)
        if (!tlsv_iter_psk_binder(&it, &binder))
            binder = (tlsv_bytes){NULL, 0};
    if (tlsv_tls13_resume_check_binder(e, &s->ks, th, binder, &s->marks) != 0)
        return -1;
    s->client_authenticated = peer_cert;
    e->resumed = true;
    if (TLSV_TRACING(e))
        tlsv_engine_trace(e, -1, "resuming the session of PSK identity %zu", *identity);
    return 1;
}

static int on_client_hello(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    server *s = S(e);
    tlsv_ctx *ctx = e->ctx;
    tlsv_client_hello ch;
    tlsv_error err;
    if (tlsv_msg_parse_client_hello(msg + 4, len - 4, &ch, &err) != 0)
        return tlsv_tls13_fail_parse(e, &err);
    /* The client waits for our answer (ServerHello, or HelloRetryRequest)
     * before it sends another handshake message: handshake data after a
     * ClientHello in its record was sent too early, at every version (RFC
     * 8446 §4.1.1/§4.1.4, RFC 5246 §7.3) */
    if (e->hs_len > e->hs_cur)
        return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                                "handshake data follows the ClientHello in its record; the "
                                "client must wait for the server's answer");

    /* 1. the version: the policy decides */
    uint16_t versions[TLSV_MSG_MAX_VERSIONS]; /* all of them: none is ignored */
    tlsv_offer_view view;
    tlsv_ch_offer_view(&ch, versions, sizeof versions / sizeof versions[0], &view);
    tlsv_server_choice choice;
    if (tlsv_vp_server_select(&ctx->vcfg, &view, &choice, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    if (choice.version != TLSV_V_TLS13 && s->state == S_WAIT_CH2)
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "the second ClientHello no longer offers TLS 1.3");
    if (s->state == S_WAIT_CH2) {
        /* RFC 8446 §4.1.2: the second ClientHello answers our HRR */
        tlsv_bytes share;
        if (!tlsv_ext_present(ch.present, TLSV_EXTID_KEY_SHARE))
            /* §9.2: supported_groups without key_share is missing_extension */
            return tlsv_engine_fail(e, TLSV_R_MISSING_EXTENSION, TLSV_ALERT_MISSING_EXTENSION,
                                    "the second ClientHello has no key_share (RFC 8446 §9.2)");
        if (!tlsv_ch_find_key_share(&ch, s->group, &share) || ch.n_key_shares != 1)
            return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                    "the second ClientHello does not carry exactly the key share "
                                    "the HelloRetryRequest asked for");
        if (!tlsv_ch_has_suite(&ch, s->suite->id))
            return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                    "the second ClientHello dropped the selected cipher suite");
        if (!tlsv_ext_present(ch.present, TLSV_EXTID_COOKIE) || ch.cookie.n != sizeof s->cookie ||
            tlsv_ct_memcmp(ch.cookie.p, s->cookie, sizeof s->cookie) != 0)
            return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                    "the second ClientHello does not echo the HelloRetryRequest's "
                                    "cookie");
    }

    memcpy(e->client_random, ch.random, 32);
    /* 0-RTT is never accepted: what the client sends with this hello is
     * skipped (RFC 8446 §4.2.10; engine.c) */
    if (s->state == S_WAIT_CH && choice.version == TLSV_V_TLS13 &&
        tlsv_ext_present(ch.present, TLSV_EXTID_EARLY_DATA))
        e->early_skip = TLSV_MAX_EARLY_DATA_SKIP;

    /* 2. SNI, and the application's callback (it may switch the context) */
    if (tlsv_ext_present(ch.present, TLSV_EXTID_SERVER_NAME) && !e->server_name) {
        e->server_name = malloc(ch.server_name.n + 1);
        if (!e->server_name)
            return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
        memcpy(e->server_name, ch.server_name.p, ch.server_name.n);
        e->server_name[ch.server_name.n] = '\0';
    }
    if (s->state == S_WAIT_CH && ctx->sni_cb && e->conn) {
        int alert = ctx->sni_cb(e->conn, e->server_name, ctx->sni_arg);
        if (alert)
            return tlsv_engine_fail(e, TLSV_R_HANDSHAKE_FAILURE, alert,
                                    "the servername callback refused '%s'",
                                    e->server_name ? e->server_name : "(no name)");
        ctx = e->ctx; /* the callback may have switched it */
    }

    /* TLS 1.0-1.2 (and SSL 3.0): the other state machine takes over */
    if (choice.version != TLSV_V_TLS13)
        return tlsv_tls12_server_begin(e, &ch, msg, len, choice.version, (int)choice.sentinel);

    /* RFC 8446 §4.1.2: a TLS 1.3 ClientHello's legacy_compression_methods is
     * exactly one byte, null; anything else is an illegal_parameter */
    if (ch.compression_methods.n != 1 || ch.compression_methods.p[0] != 0)
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "a TLS 1.3 ClientHello's legacy_compression_methods holds %zu "
                                "methods; it must be exactly null (0) (RFC 8446 §4.1.2)",
                                ch.compression_methods.n);

    /* 3. suite, certificate and signature scheme, group */
    const tlsv_suite *suite = s->state == S_WAIT_CH2 ? s->suite : choose_suite(ctx, &ch);
    if (!suite)
        return tlsv_engine_fail(e, TLSV_R_NO_SHARED_CIPHER, TLSV_ALERT_HANDSHAKE_FAILURE,
                                "no TLS 1.3 cipher suite in common with the client");
    if (!ctx->chain || !ctx->key)
        return tlsv_engine_fail(e, TLSV_R_NO_CERTIFICATE_ASSIGNED, TLSV_ALERT_HANDSHAKE_FAILURE,
                                "this server has no certificate (use load_cert_chain)");
    if (!tlsv_ext_present(ch.present, TLSV_EXTID_SIGNATURE_ALGORITHMS))
        return tlsv_engine_fail(e, TLSV_R_MISSING_EXTENSION, TLSV_ALERT_MISSING_EXTENSION,
                                "the ClientHello has no signature_algorithms (RFC 8446 §9.2)");
    uint16_t scheme = tlsv_tls13_pick_scheme(ctx->key, ch.signature_algorithms);
    if (!scheme)
        return tlsv_engine_fail(e, TLSV_R_NO_SHARED_SIGNATURE_ALGORITHMS,
                                TLSV_ALERT_HANDSHAKE_FAILURE,
                                "none of the client's signature schemes fits this server's key");
    if (!tlsv_ext_present(ch.present, TLSV_EXTID_SUPPORTED_GROUPS) ||
        !tlsv_ext_present(ch.present, TLSV_EXTID_KEY_SHARE))
        return tlsv_engine_fail(e, TLSV_R_MISSING_EXTENSION, TLSV_ALERT_MISSING_EXTENSION,
                                "the ClientHello lacks supported_groups or key_share, and this "
                                "server has no pre-shared key for it");
    bool need_hrr;
    uint16_t group = s->state == S_WAIT_CH2 ? s->group : choose_group(ctx, &ch, &need_hrr);
    if (s->state == S_WAIT_CH2)
        need_hrr = false;
    if (!group)
        return tlsv_engine_fail(e, TLSV_R_NO_SUITABLE_KEY_SHARE, TLSV_ALERT_HANDSHAKE_FAILURE,
                                "no key-exchange group in common with the client");

    /* 3b. resumption: a ticket of ours with psk_dhe_ke (RFC 8446 §4.2.9,
     * §4.2.11), checked before the hello enters the transcript (the binder
     * covers the transcript up to the binders) */
    bool resumed = false;
    size_t psk_identity = 0;
    if (!need_hrr && tlsv_ext_present(ch.present, TLSV_EXTID_PRE_SHARED_KEY)) {
        if (!tlsv_ext_present(ch.present, TLSV_EXTID_PSK_KEY_EXCHANGE_MODES))
            return tlsv_engine_fail(e, TLSV_R_MISSING_EXTENSION, TLSV_ALERT_MISSING_EXTENSION,
                                    "the ClientHello offers a pre-shared key without "
                                    "psk_key_exchange_modes (RFC 8446 §4.2.9)");
        if (tlsv_u8_contains(ch.psk_key_exchange_modes, TLSV_PSK_DHE_KE)) {
            int rc = resume(e, &ch, msg, suite, &psk_identity);
            if (rc < 0)
                return -1;
            resumed = rc == 1;
        }
    }

    s->suite = suite;
    s->group = group;
    s->compat = ch.session_id.n > 0;
    /* RFC 8446 §4.2.9: tickets only for a client that can resume with the
     * one mode tlsv uses (psk_dhe_ke); the last ClientHello decides */
    s->psk_dhe_offered = tlsv_ext_present(ch.present, TLSV_EXTID_PSK_KEY_EXCHANGE_MODES) &&
                         tlsv_u8_contains(ch.psk_key_exchange_modes, TLSV_PSK_DHE_KE);
    if (tlsv_tr_begin(&s->tr, suite->hash) != 0 || tlsv_tr_add(&s->tr, msg, len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    if (need_hrr)
        return send_hrr(e, &ch);

    /* 4. the key exchange */
    tlsv_bytes share;
    tlsv_ch_find_key_share(&ch, group, &share);
    tlsv_kex *kex = tlsv_kex_generate((tlsv_group)group);
    uint8_t pub[TLSV_KEX_MAX_PUBLIC_LEN], dhe[TLSV_KEX_MAX_SECRET_LEN];
    size_t pub_len = 0, dhe_len = 0;
    if (!kex || tlsv_kex_public(kex, pub, sizeof pub, &pub_len) != 0) {
        tlsv_kex_free(kex);
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not generate a key share");
    }
    int drc = tlsv_kex_derive(kex, share.p, share.n, dhe, sizeof dhe, &dhe_len);
    tlsv_kex_free(kex);
    if (drc != 0)
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "the client's key share is not a valid %s public key",
                                tlsv_group_name(group));

    /* 5. ALPN: our first protocol the client also offers; none: no ALPN */
    tlsv_bytes alpn = {NULL, 0};
    if (tlsv_ext_present(ch.present, TLSV_EXTID_ALPN) &&
        tlsv_hs_select_alpn(e, ch.alpn, &alpn) != 0)
        return -1;

    /* 6. ServerHello, keys, the rest of our flight */
    uint8_t random[32];
    if (tlsv_random(random, sizeof random) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR, "no randomness");
    tlsv_server_hello_params shp = {
        .legacy_version = TLSV_V_TLS12,
        .random = random,
        .session_id = ch.session_id,
        .cipher_suite = suite->id,
        .selected_version = TLSV_V_TLS13,
        .key_share = true,
        .key_share_group = group,
        .key_share_public = {pub, pub_len},
        .psk = resumed,
        .psk_identity = (uint16_t)psk_identity,
    };
    e->version = TLSV_V_TLS13;
    e->suite = suite->id;
    e->group = group;
    e->plain_version = TLSV_V_TLS12;
    if (emit(e, w_sh, &shp) != 0) {
        tlsv_wipe(dhe, sizeof dhe);
        return -1;
    }
    uint8_t th[TLSV_HASH_MAX_LEN];
    /* resumed: s->ks holds the PSK's Early Secret already (resume()) */
    int rc = tlsv_tr_hash(&s->tr, th) == 0 &&
                     (resumed || tlsv_ks13_init(&s->ks, suite->hash, NULL, 0) == 0) &&
                     tlsv_ks13_handshake(&s->ks, dhe, dhe_len, th, s->ks.hlen) == 0
                 ? 0
                 : -1;
    tlsv_wipe(dhe, sizeof dhe);
    if (rc != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "key schedule failure");
    tlsv_engine_keylog(e, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", s->ks.c_hs, s->ks.hlen);
    tlsv_engine_keylog(e, "SERVER_HANDSHAKE_TRAFFIC_SECRET", s->ks.s_hs, s->ks.hlen);
    if (s->compat && !s->ccs_sent) {
        if (tlsv_engine_send_ccs(e) != 0)
            return -1;
        s->ccs_sent = true;
    }
    if (tlsv_engine_check_key_boundary(e) != 0)
        return -1;
    size_t hlen = s->ks.hlen;
    if (tlsv_engine_set_write13(e, suite->aead, suite->hash, s->ks.s_hs, hlen) != 0 ||
        tlsv_rec_dir_set13(&e->rd, suite->aead, suite->hash, s->ks.c_hs, hlen) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not install the handshake keys");

    s->pha_offered = tlsv_ext_present(ch.present, TLSV_EXTID_POST_HANDSHAKE_AUTH);
    tlsv_encrypted_extensions_params eep = {
        .server_name = tlsv_ext_present(ch.present, TLSV_EXTID_SERVER_NAME),
        .alpn = alpn,
    };
    if (emit(e, w_ee, &eep) != 0)
        return -1;
    if (resumed) /* the PSK authenticates both sides: Finished next (RFC 8446 §2.2) */
        return send_finished(e);
    /* a client offering post_handshake_auth to a server that enables it
     * is asked later, by tlsv_conn_verify_client_post_handshake (Python's
     * model: OpenSSL's SSL_VERIFY_POST_HANDSHAKE) */
    if (ctx->verify_mode != TLSV_CERT_NONE && !(s->pha_offered && ctx->post_handshake_auth)) {
        tlsv_certificate_request_params crp = {
            .version = TLSV_V_TLS13,
            .signature_algorithms = tlsv_sigalgs13,
            .n_signature_algorithms = tlsv_sigalgs13_count,
        };
        if (emit(e, w_cr, &crp) != 0)
            return -1;
        s->cert_requested = true;
    }
    tlsv_bytes certs[TLSV_MSG_MAX_CERTS];
    certs_arg ca = {certs, tlsv_hs_own_chain(ctx, certs)};
    if (emit(e, w_cert, &ca) != 0)
        return -1;
    uint8_t input[200], sig[1024];
    size_t sig_len = 0;
    if (tlsv_tr_hash(&s->tr, th) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    size_t in_len = tlsv_tls13_cv_input(true, th, hlen, input);
    if (tlsv_sign(ctx->key, scheme, input, in_len, sig, sizeof sig, &sig_len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "signing the CertificateVerify failed");
    cv_arg cva = {scheme, {sig, sig_len}};
    if (emit(e, w_cv, &cva) != 0)
        return -1;
    if (!s->cert_requested) /* no client authentication asked for */
        s->marks |= TLSV_MARK_PEER_CERT | TLSV_MARK_PEER_SIG;
    return send_finished(e);
}

/* Our Finished, then the application write keys (the server may write at
 * once); the client's flight comes next. */
static int send_finished(tlsv_engine *e)
{
    server *s = S(e);
    const tlsv_suite *suite = s->suite;
    size_t hlen = s->ks.hlen;
    uint8_t th[TLSV_HASH_MAX_LEN], vd[TLSV_HASH_MAX_LEN];
    if (tlsv_tr_hash(&s->tr, th) != 0 || tlsv_ks13_finished(&s->ks, s->ks.s_hs, th, hlen, vd) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "key schedule failure");
    tlsv_bytes vdb = {vd, hlen};
    if (emit(e, w_fin, &vdb) != 0)
        return -1;
    /* application secrets over CH..server Finished; we may write at once */
    if (tlsv_tr_hash(&s->tr, th) != 0 || tlsv_ks13_master(&s->ks, th, hlen) != 0 ||
        tlsv_engine_set_write13(e, suite->aead, suite->hash, s->ks.s_ap, hlen) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "key schedule failure");
    tlsv_engine_keylog(e, "CLIENT_TRAFFIC_SECRET_0", s->ks.c_ap, hlen);
    tlsv_engine_keylog(e, "SERVER_TRAFFIC_SECRET_0", s->ks.s_ap, hlen);
    tlsv_engine_keylog(e, "EXPORTER_SECRET", s->ks.exporter, hlen);
    s->state = s->cert_requested ? S_WAIT_CERT : S_WAIT_FINISHED;
    return 0;
}

static int on_certificate(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    server *s = S(e);
    tlsv_certificate cert;
    tlsv_error err;
    if (tlsv_msg_parse_certificate(msg + 4, len - 4, TLSV_V_TLS13, &cert, &err) != 0)
        return tlsv_tls13_fail_parse(e, &err);
    if (cert.request_context.n != 0)
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "client Certificate with a non-empty request context");
    if (tlsv_tr_add(&s->tr, msg, len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    if (cert.n == 0) {
        if (e->ctx->verify_mode == TLSV_CERT_REQUIRED)
            return tlsv_engine_fail(e, TLSV_R_PEER_DID_NOT_RETURN_A_CERTIFICATE,
                                    TLSV_ALERT_CERTIFICATE_REQUIRED,
                                    "the client sent no certificate and this server requires "
                                    "one (verify mode CERT_REQUIRED)");
        s->marks |= TLSV_MARK_PEER_CERT | TLSV_MARK_PEER_SIG; /* optional, and absent */
        s->state = S_WAIT_FINISHED;
        return 0;
    }
    if (tlsv_hs_peer_chain(e, &cert, false, TLSV_X509_KU_DIGITAL_SIGNATURE, &s->marks) != 0)
        return -1;
    s->state = S_WAIT_CV;
    return 0;
}

static int on_certificate_verify(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    server *s = S(e);
    uint8_t th[TLSV_HASH_MAX_LEN];
    if (tlsv_tr_hash(&s->tr, th) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    if (tlsv_tls13_check_peer_cv(e, msg, len, th, s->ks.hlen, false, &s->marks) != 0)
        return -1;
    s->client_authenticated = true; /* its chain verified, its signature too */
    if (tlsv_tr_add(&s->tr, msg, len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    s->state = S_WAIT_FINISHED;
    return 0;
}

static int on_finished(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    server *s = S(e);
    size_t hlen = s->ks.hlen;
    tlsv_bytes vd;
    tlsv_error err;
    if (tlsv_msg_parse_finished(msg + 4, len - 4, hlen, &vd, &err) != 0)
        return tlsv_tls13_fail_parse(e, &err);
    uint8_t th[TLSV_HASH_MAX_LEN], expect[TLSV_HASH_MAX_LEN];
    if (tlsv_tr_hash(&s->tr, th) != 0 || tlsv_ks13_finished(&s->ks, s->ks.c_hs, th, hlen, expect) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "key schedule failure");
    if (tlsv_ct_memcmp(vd.p, expect, hlen) != 0)
        return tlsv_engine_fail(e, TLSV_R_DIGEST_CHECK_FAILED, TLSV_ALERT_DECRYPT_ERROR,
                                "the client's Finished does not match the handshake transcript");
    s->marks |= TLSV_MARK_PEER_FIN;
    if (tlsv_engine_check_key_boundary(e) != 0)
        return -1;
    if (tlsv_rec_dir_set13(&e->rd, s->suite->aead, s->suite->hash, s->ks.c_ap, hlen) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not install the application read keys");
    if (tlsv_tls13_enter_traffic(e, s->marks, s->ks.c_ap, s->ks.s_ap, hlen, s->suite->hash,
                                 s->suite->aead, false) != 0)
        return -1;
    /* session tickets (ticket.c), from the resumption_master_secret over
     * CH..client Finished, under the application keys */
    bool tickets = e->ctx->num_tickets && !(e->ctx->vcfg.options & TLSV_OP_NO_TICKET) &&
                   s->psk_dhe_offered;
    bool pha = s->pha_offered && e->ctx->post_handshake_auth;
    if ((tickets || pha) && tlsv_tr_add(&s->tr, msg, len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    /* post-handshake authentication starts from CH..client Finished (pha13.c) */
    if (pha && tlsv_pha_begin(e, &s->tr) != 0)
        return -1;
    if (tickets && (tlsv_tr_hash(&s->tr, th) != 0 || tlsv_ks13_resumption(&s->ks, th, hlen) != 0))
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "key schedule failure");
    if (tickets && tlsv_tls13_send_tickets(e, s->ks.resumption, hlen, s->client_authenticated) != 0)
        return -1;
    tlsv_engine_established(e);
    return 0;
}

static int server_message(tlsv_engine *e, uint8_t type, const uint8_t *msg, size_t len)
{
    server *s = S(e);
    switch (s->state) {
    case S_WAIT_CH:
    case S_WAIT_CH2:
        if (type == TLSV_HS_CLIENT_HELLO)
            return on_client_hello(e, msg, len);
        break;
    case S_WAIT_CERT:
        if (type == TLSV_HS_CERTIFICATE)
            return on_certificate(e, msg, len);
        break;
    case S_WAIT_CV:
        if (type == TLSV_HS_CERTIFICATE_VERIFY)
            return on_certificate_verify(e, msg, len);
        break;
    case S_WAIT_FINISHED:
        if (type == TLSV_HS_FINISHED)
            return on_finished(e, msg, len);
        break;
    }
    return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                            "unexpected %s from the client (the server is in state %s)",
                            tlsv_hs_type_name(type), sstate_name[s->state]);
}

/* An SSLv2-compatible CLIENT-HELLO (RFC 5246 App. E.2): accepted for TLS
 * 1.0-1.2 when enabled; a real SSL 2.0 hello gets a clean refusal. */
static int server_sslv2_hello(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    server *s = S(e);
    tlsv_client_hello ch;
    tlsv_error err;
    if (!s || s->state != S_WAIT_CH)
        return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                                "an SSLv2-format record after the first ClientHello");
    if (tlsv_msg_parse_sslv2_client_hello(msg, len, &ch, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    if (ch.legacy_version < TLSV_V_SSL3)
        return tlsv_engine_fail(e, TLSV_R_UNSUPPORTED_PROTOCOL, TLSV_ALERT_PROTOCOL_VERSION,
                                "the client speaks SSL 2.0 (version 0x%04x), which tlsv never "
                                "does (RFC 6176)",
                                (unsigned)ch.legacy_version);
    tlsv_offer_view view;
    uint16_t versions[4];
    tlsv_ch_offer_view(&ch, versions, 4, &view);
    tlsv_server_choice choice;
    if (tlsv_vp_server_select(&e->ctx->vcfg, &view, &choice, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    return tlsv_tls12_server_begin(e, &ch, msg, len, choice.version, (int)choice.sentinel);
}

static int server_ccs(tlsv_engine *e)
{
    server *s = S(e);
    /* after the first ClientHello, before the client's Finished */
    return s && (s->state != S_WAIT_CH) ? 0 : -1;
}

const tlsv_hs_ops tlsv_tls13_server_ops = {
    .name = "TLS 1.3 server",
    .start = server_start,
    .message = server_message,
    .ccs = server_ccs,
    .sslv2_hello = server_sslv2_hello,
    .free = server_free,
};
