/*
 * tls12_client.c -- the TLS 1.0-1.2 client (RFC 5246 §7.3, RFC 4346,
 * RFC 2246; SSL 3.0 in a build with it), after the hello stage
 * (tls13_client.c) received a ServerHello for one of these versions.
 *
 *   state           expects                       then
 *   WAIT_CERT       Certificate                   WAIT_SKE (ECDHE) / WAIT_CR_SHD (RSA)
 *   WAIT_SKE        ServerKeyExchange             WAIT_CR_SHD
 *   WAIT_CR_SHD     CertificateRequest            WAIT_SHD
 *                   ServerHelloDone               our flight, WAIT_CCS
 *   WAIT_SHD        ServerHelloDone               our flight, WAIT_NST / WAIT_CCS
 *   WAIT_NST        NewSessionTicket (announced)  WAIT_CCS
 *   WAIT_CCS        change_cipher_spec            WAIT_FINISHED
 *   WAIT_FINISHED   Finished                      application traffic
 *
 * Resuming (the ServerHello echoes the session ID we sent for a session;
 * RFC 5246 §7.3 figure 2, RFC 5077 §3.1): WAIT_NST (announced) or WAIT_CCS
 * at once; after the server's Finished our CCS and Finished.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/rsa_kx.h"
#include "engine/engine.h"
#include "engine/msg.h"
#include "engine/session.h"
#include "engine/suites.h"
#include "engine/tls12.h"
#include "err.h"
#include "version.h"
#include "x509.h"

typedef enum {
    C_WAIT_CERT,
    C_WAIT_SKE,
    C_WAIT_CR_SHD,
    C_WAIT_SHD,
    C_WAIT_NST,
    C_WAIT_CCS,
    C_WAIT_FINISHED
} cstate;
static const char *const cstate_name[] = {"WAIT_CERT", "WAIT_SKE", "WAIT_CR_SHD", "WAIT_SHD",
                                          "WAIT_NST",  "WAIT_CCS", "WAIT_FINISHED"};

typedef struct client12 {
    cstate state;
    uint16_t version;
    const tlsv_suite *suite;
    uint8_t cr[32], sr[32];
    bool ems, etm;
    tlsv_transcript tr;         /* kept as bytes: TLS 1.2 CertificateVerify signs messages */
    tlsv_pkey *server_key;      /* from the certificate */
    uint16_t group;             /* ECDHE group from the ServerKeyExchange */
    uint8_t server_pub[TLSV_KEX_MAX_PUBLIC_LEN];
    size_t server_pub_len;
    bool cert_requested;
    uint8_t cr_sigalgs[128];
    size_t cr_sigalgs_len;
    uint8_t master[48];
    unsigned marks;
    bool resumed;               /* the abbreviated handshake */
    bool expect_ticket;         /* the ServerHello announced a NewSessionTicket */
    uint8_t session_id[32];     /* the ServerHello's session ID (full handshake), or the
                                   resumed session's */
    size_t session_id_len;
    uint8_t *ticket;            /* from the NewSessionTicket (NULL: none, or empty) */
    size_t ticket_len;
    uint32_t ticket_hint;
} client12;

static client12 *C(tlsv_engine *e)
{
    return (client12 *)e->hs_state;
}

static void client12_free(tlsv_engine *e)
{
    client12 *c = C(e);
    if (!c)
        return;
    tlsv_tr_free(&c->tr);
    tlsv_pkey_free(c->server_key);
    free(c->ticket);
    tlsv_wipe(c, sizeof *c);
    free(c);
    e->hs_state = NULL;
}

static int add(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    if (tlsv_tr_add(&C(e)->tr, msg, len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    return 0;
}

/* Hash of the transcript so far with the handshake hash. */
static int th(client12 *c, uint8_t *out, size_t *len)
{
    tlsv_hash_alg h = tlsv_tls12_handshake_hash(c->version, c->suite);
    *len = tlsv_hash_len(h);
    return tlsv_hash(h, c->tr.buf, c->tr.len, out, TLSV_HASH_MAX_LEN);
}

static int on_certificate(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    client12 *c = C(e);
    tlsv_certificate cert;
    tlsv_error err;
    if (tlsv_msg_parse_certificate(msg + 4, len - 4, c->version, &cert, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    if (cert.n == 0)
        return tlsv_engine_fail(e, TLSV_R_DECODE_ERROR, TLSV_ALERT_DECODE_ERROR,
                                "the server sent an empty Certificate");
    /* the key signs the ServerKeyExchange (ECDHE) or receives the
     * premaster secret (RSA key exchange) */
    unsigned usage = c->suite->kx == TLSV_KX_RSA ? TLSV_X509_KU_KEY_ENCIPHERMENT
                                                 : TLSV_X509_KU_DIGITAL_SIGNATURE;
    if (tlsv_hs_peer_chain(e, &cert, true, usage, &c->marks) != 0)
        return -1;
    c->server_key = tlsv_hs_peer_key(e);
    tlsv_pkey_type t = c->server_key ? tlsv_pkey_get_type(c->server_key) : 0;
    bool fits = c->suite->auth == TLSV_AUTH_RSA ? t == TLSV_PKEY_RSA
                                                : (t == TLSV_PKEY_EC || t == TLSV_PKEY_ED25519);
    if (!fits)
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_UNSUPPORTED_CERTIFICATE,
                                "the server's certificate key does not fit the suite %s",
                                c->suite->openssl);
    if (add(e, msg, len) != 0)
        return -1;
    c->state = c->suite->kx == TLSV_KX_ECDHE ? C_WAIT_SKE : C_WAIT_CR_SHD;
    if (c->suite->kx == TLSV_KX_RSA)
        c->marks |= TLSV_MARK_PEER_SIG; /* RSA key exchange: the Finished proves the key */
    return 0;
}

static int on_server_key_exchange(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    client12 *c = C(e);
    tlsv_server_key_exchange ske;
    tlsv_error err;
    if (tlsv_msg_parse_server_key_exchange_ecdhe(msg + 4, len - 4, c->version, &ske, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    bool offered = false;
    for (size_t i = 0; i < e->ctx->n_groups; i++)
        offered = offered || e->ctx->groups[i] == ske.named_group;
    if (!offered)
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "ServerKeyExchange uses group 0x%04x, which this client did not "
                                "offer",
                                ske.named_group);
    uint16_t scheme;
    if (c->version >= TLSV_V_TLS12) {
        scheme = ske.scheme;
        bool ok = false;
        for (size_t i = 0; i < tlsv_sigalgs12_count; i++)
            ok = ok || tlsv_sigalgs12[i] == scheme;
        if (!ok)
            return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                    "ServerKeyExchange signed with scheme 0x%04x, which this "
                                    "client did not offer",
                                    scheme);
    } else {
        scheme = tlsv_pkey_get_type(c->server_key) == TLSV_PKEY_RSA ? TLSV_SIG_RSA_PKCS1_MD5_SHA1
                                                                      : TLSV_SIG_ECDSA_SHA1;
    }
    if (!tlsv_sig_key_supports(c->server_key, scheme, 0))
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "ServerKeyExchange scheme 0x%04x does not fit the certificate",
                                scheme);
    /* signed: client_random + server_random + ServerECDHParams */
    size_t n = 64 + ske.params.n;
    uint8_t *signed_data = malloc(n);
    if (!signed_data)
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
    memcpy(signed_data, c->cr, 32);
    memcpy(signed_data + 32, c->sr, 32);
    memcpy(signed_data + 64, ske.params.p, ske.params.n);
    int ok = tlsv_verify(c->server_key, scheme, signed_data, n, ske.signature.p,
                         ske.signature.n) == 0;
    free(signed_data);
    if (!ok)
        return tlsv_engine_fail(e, TLSV_R_BAD_SIGNATURE, TLSV_ALERT_DECRYPT_ERROR,
                                "the ServerKeyExchange signature does not verify with the "
                                "server's certificate");
    c->marks |= TLSV_MARK_PEER_SIG;
    if (ske.public_key.n > sizeof c->server_pub)
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "the server's ECDHE public key is too long");
    memcpy(c->server_pub, ske.public_key.p, ske.public_key.n);
    c->server_pub_len = ske.public_key.n;
    c->group = ske.named_group;
    e->group = ske.named_group;
    if (add(e, msg, len) != 0)
        return -1;
    c->state = C_WAIT_CR_SHD;
    return 0;
}

static int on_certificate_request(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    client12 *c = C(e);
    tlsv_certificate_request cr;
    tlsv_error err;
    if (tlsv_msg_parse_certificate_request(msg + 4, len - 4, c->version, &cr, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    c->cert_requested = true;
    c->cr_sigalgs_len = cr.signature_algorithms.n < sizeof c->cr_sigalgs
                            ? cr.signature_algorithms.n
                            : sizeof c->cr_sigalgs;
    if (c->cr_sigalgs_len)
        memcpy(c->cr_sigalgs, cr.signature_algorithms.p, c->cr_sigalgs_len);
    if (add(e, msg, len) != 0)
        return -1;
    c->state = C_WAIT_SHD;
    return 0;
}

static int send_msg(tlsv_engine *e, tlsv_writer *w)
{
    int rc = add(e, tlsv_wr_data(w), tlsv_wr_len(w)) == 0 &&
                     tlsv_engine_send_handshake(e, tlsv_wr_data(w), tlsv_wr_len(w)) == 0
                 ? 0
                 : -1;
    tlsv_wr_release(w);
    return rc;
}

/* Our flight after ServerHelloDone. */
static int on_server_hello_done(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    client12 *c = C(e);
    tlsv_ctx *ctx = e->ctx;
    tlsv_error err;
    if (tlsv_msg_parse_empty(msg + 4, len - 4, TLSV_HS_SERVER_HELLO_DONE, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    /* RFC 5246 §7.4.5: after ServerHelloDone the server waits for our
     * flight; handshake data after it in the same record was sent before
     * the server could have seen our answer -- but for HelloRequests
     * (all-zero bytes), which may come at any time (§7.4.1.1) */
    bool more = false;
    for (size_t i = e->hs_cur; i < e->hs_len; i++)
        more = more || e->hs[i] != 0;
    if (more)
        return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                                "handshake data follows ServerHelloDone in its record; the server "
                                "must wait for the client's flight (RFC 5246 §7.4.5)");
    if (add(e, msg, len) != 0)
        return -1;
    tlsv_writer w;

    /* [Certificate] */
    uint16_t cv_scheme = 0;
    if (c->cert_requested) {
        tlsv_bytes certs[TLSV_MSG_MAX_CERTS];
        size_t n = 0;
        if (ctx->chain && ctx->key) {
            cv_scheme = tlsv_tls12_pick_scheme(ctx->key, c->version,
                                               (tlsv_bytes){c->cr_sigalgs, c->cr_sigalgs_len},
                                               c->version >= TLSV_V_TLS12);
            n = cv_scheme ? tlsv_hs_own_chain(ctx, certs) : 0;
        }
        if (!tlsv_wr_init_growable(&w, 2048, TLSV_MAX_HANDSHAKE_MESSAGE) ||
            tlsv_msg_write_certificate(&w, c->version, (tlsv_bytes){NULL, 0}, certs, n, &err) != 0) {
            tlsv_wr_release(&w);
            return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                    "could not write our Certificate");
        }
        if (send_msg(e, &w) != 0)
            return -1;
    }

    /* ClientKeyExchange, and the premaster secret */
    uint8_t pms[TLSV_KEX_MAX_SECRET_LEN > 48 ? TLSV_KEX_MAX_SECRET_LEN : 48];
    size_t pms_len = 0;
    if (!tlsv_wr_init_growable(&w, 512, 4096))
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
    if (c->suite->kx == TLSV_KX_ECDHE) {
        tlsv_kex *kex = tlsv_kex_generate((tlsv_group)c->group);
        uint8_t pub[TLSV_KEX_MAX_PUBLIC_LEN];
        size_t pub_len = 0;
        int rc = kex && tlsv_kex_public(kex, pub, sizeof pub, &pub_len) == 0 ? 0 : -1;
        if (rc == 0 &&
            tlsv_kex_derive(kex, c->server_pub, c->server_pub_len, pms, sizeof pms, &pms_len) != 0)
            rc = -2;
        tlsv_kex_free(kex);
        if (rc != 0) {
            tlsv_wr_release(&w);
            return rc == -2 ? tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER,
                                               TLSV_ALERT_ILLEGAL_PARAMETER,
                                               "the server's ECDHE public key is invalid")
                            : tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR,
                                               TLSV_ALERT_INTERNAL_ERROR,
                                               "could not generate an ECDHE key");
        }
        if (tlsv_msg_write_client_key_exchange_ecdhe(&w, (tlsv_bytes){pub, pub_len}, &err) != 0) {
            tlsv_wr_release(&w);
            return tlsv_engine_fail_err(e, &err);
        }
    } else {
        /* RSA: a fresh premaster secret with our highest offered version
         * (RFC 5246 §7.4.7.1), encrypted to the server's key */
        uint8_t enc[1024];
        size_t enc_len = 0;
        tlsv_client_offer *offer = NULL;
        (void)offer;
        uint16_t max_offered = e->offered_max_version;
        pms[0] = (uint8_t)(max_offered >> 8);
        pms[1] = (uint8_t)max_offered;
        pms_len = 48;
        if (tlsv_random(pms + 2, 46) != 0 ||
            tlsv_rsa_encrypt_pkcs1(c->server_key, pms, 48, enc, sizeof enc, &enc_len) != 0) {
            tlsv_wr_release(&w);
            tlsv_wipe(pms, sizeof pms);
            return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                    "RSA encryption of the premaster secret failed");
        }
        if (tlsv_msg_write_client_key_exchange_rsa(&w, c->version, (tlsv_bytes){enc, enc_len},
                                                   &err) != 0) {
            tlsv_wr_release(&w);
            tlsv_wipe(pms, sizeof pms);
            return tlsv_engine_fail_err(e, &err);
        }
    }
    if (send_msg(e, &w) != 0) {
        tlsv_wipe(pms, sizeof pms);
        return -1;
    }

    /* the master secret (RFC 7627: over the session hash through the CKE) */
    uint8_t h[TLSV_HASH_MAX_LEN];
    size_t hlen = 0;
    int rc = c->ems ? th(c, h, &hlen) : 0;
    if (rc == 0)
        rc = tlsv_tls12_master_secret(c->version, c->suite, pms, pms_len, c->cr, c->sr,
                                      c->ems ? h : NULL, c->ems ? hlen : 0, c->master);
    tlsv_wipe(pms, sizeof pms);
    if (rc != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not derive the master secret");
    tlsv_engine_keylog(e, "CLIENT_RANDOM", c->master, 48);

    /* [CertificateVerify] over the handshake messages so far */
    if (cv_scheme) {
        uint8_t sig[1024];
        size_t sig_len = 0;
        if (tlsv_sign(ctx->key, cv_scheme, c->tr.buf, c->tr.len, sig, sizeof sig, &sig_len) != 0)
            return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                    "signing the CertificateVerify failed");
        if (!tlsv_wr_init_growable(&w, 512, 4096) ||
            tlsv_msg_write_certificate_verify(&w, c->version, cv_scheme,
                                              (tlsv_bytes){sig, sig_len}, &err) != 0) {
            tlsv_wr_release(&w);
            return tlsv_engine_fail_err(e, &err);
        }
        if (send_msg(e, &w) != 0)
            return -1;
    }

    /* ChangeCipherSpec, our keys, Finished */
    if (tlsv_engine_send_ccs(e) != 0 ||
        tlsv_tls12_install(e, true, true, c->version, c->suite, c->master, c->cr, c->sr,
                           c->etm) != 0)
        return -1;
    uint8_t fin[4 + 36] = {TLSV_HS_FINISHED, 0, 0, 0};
    size_t vlen = 0;
    if (tlsv_tls12_finished(c->version, c->suite, c->master, true, c->tr.buf,
                            c->tr.len, fin + 4, &vlen) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not compute Finished");
    fin[3] = (uint8_t)vlen;
    if (add(e, fin, 4 + vlen) != 0 || tlsv_engine_send_handshake(e, fin, 4 + vlen) != 0)
        return -1;
    c->state = c->expect_ticket ? C_WAIT_NST : C_WAIT_CCS;
    return 0;
}

/* RFC 5077 §3.3: the ticket the ServerHello announced, before the server's
 * CCS; part of the transcript. An empty ticket means none. */
static int on_new_session_ticket(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    client12 *c = C(e);
    tlsv_new_session_ticket t;
    tlsv_error err;
    if (tlsv_msg_parse_new_session_ticket(msg + 4, len - 4, c->version, &t, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    if (add(e, msg, len) != 0)
        return -1;
    free(c->ticket);
    c->ticket = NULL;
    c->ticket_len = 0;
    if (t.ticket.n) {
        c->ticket = malloc(t.ticket.n);
        if (c->ticket) { /* out of memory: the ticket is dropped, the handshake goes on */
            memcpy(c->ticket, t.ticket.p, t.ticket.n);
            c->ticket_len = t.ticket.n;
        }
    }
    c->ticket_hint = t.lifetime;
    if (TLSV_TRACING(e))
        tlsv_engine_trace(e, -1, "session ticket of %zu bytes, lifetime hint %u s",
                          t.ticket.n, (unsigned)t.lifetime);
    c->state = C_WAIT_CCS;
    return 0;
}

static int client12_ccs(tlsv_engine *e)
{
    client12 *c = C(e);
    if (!c || c->state != C_WAIT_CCS)
        return -1;
    if (tlsv_engine_check_key_boundary(e) != 0 ||
        tlsv_tls12_install(e, false, false, c->version, c->suite, c->master, c->cr, c->sr,
                           c->etm) != 0)
        return -1;
    c->state = C_WAIT_FINISHED;
    return 0;
}

static int on_finished(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    client12 *c = C(e);
    uint8_t expect[36];
    size_t vlen = 0;
    if (tlsv_tls12_finished(c->version, c->suite, c->master, false, c->tr.buf,
                            c->tr.len, expect, &vlen) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not compute Finished");
    tlsv_bytes vd;
    tlsv_error err;
    if (tlsv_msg_parse_finished(msg + 4, len - 4, vlen, &vd, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    if (tlsv_ct_memcmp(vd.p, expect, vlen) != 0)
        return tlsv_engine_fail(e, TLSV_R_DIGEST_CHECK_FAILED, TLSV_ALERT_DECRYPT_ERROR,
                                "the server's Finished does not match the handshake transcript");
    c->marks |= TLSV_MARK_PEER_FIN;
    if (c->resumed) { /* our CCS and Finished follow the server's */
        uint8_t fin[4 + 36] = {TLSV_HS_FINISHED, 0, 0, 0};
        if (add(e, msg, len) != 0 ||
            tlsv_tls12_finished(c->version, c->suite, c->master, true, c->tr.buf, c->tr.len,
                                fin + 4, &vlen) != 0)
            return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                    "could not compute Finished");
        fin[3] = (uint8_t)vlen;
        if (tlsv_engine_send_ccs(e) != 0 ||
            tlsv_tls12_install(e, true, true, c->version, c->suite, c->master, c->cr, c->sr,
                               c->etm) != 0 ||
            tlsv_engine_send_handshake(e, fin, 4 + vlen) != 0 || tlsv_engine_flush(e) != 0)
            return -1;
    }
    if ((c->marks & TLSV_MARKS_ALL) != TLSV_MARKS_ALL)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "internal error: application traffic without every "
                                "verification mark (0x%x)",
                                c->marks);
    /* the session (session.c): a resumed one is replaced only by a new ticket */
    if (!c->resumed || c->ticket_len)
        tlsv_session12_made(e, c->version, c->suite->id, c->master, c->ems, c->session_id,
                            c->session_id_len, c->ticket, c->ticket_len, c->ticket_hint);
    tlsv_engine_established(e);
    return 0;
}

static int client12_message(tlsv_engine *e, uint8_t type, const uint8_t *msg, size_t len)
{
    client12 *c = C(e);
    /* RFC 5246 §7.4.1.1: a HelloRequest while the client is negotiating is
     * ignored (and stays out of the transcript) */
    if (type == TLSV_HS_HELLO_REQUEST && len == TLSV_HS_HEADER_LEN)
        return 0;
    switch (c->state) {
    case C_WAIT_CERT:
        if (type == TLSV_HS_CERTIFICATE)
            return on_certificate(e, msg, len);
        break;
    case C_WAIT_SKE:
        if (type == TLSV_HS_SERVER_KEY_EXCHANGE)
            return on_server_key_exchange(e, msg, len);
        break;
    case C_WAIT_CR_SHD:
        if (type == TLSV_HS_CERTIFICATE_REQUEST)
            return on_certificate_request(e, msg, len);
        if (type == TLSV_HS_SERVER_HELLO_DONE)
            return on_server_hello_done(e, msg, len);
        break;
    case C_WAIT_SHD:
        if (type == TLSV_HS_SERVER_HELLO_DONE)
            return on_server_hello_done(e, msg, len);
        break;
    case C_WAIT_NST:
        if (type == TLSV_HS_NEW_SESSION_TICKET)
            return on_new_session_ticket(e, msg, len);
        break;
    case C_WAIT_CCS:
        break; /* a handshake message before the CCS */
    case C_WAIT_FINISHED:
        if (type == TLSV_HS_FINISHED)
            return on_finished(e, msg, len);
        break;
    }
    return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                            "unexpected %s from the server (the %s client is in state %s)",
                            tlsv_hs_type_name(type), tlsv_version_string(c->version),
                            cstate_name[c->state]);
}

const tlsv_hs_ops tlsv_tls12_client_ops = {
    .name = "TLS 1.0-1.2 client",
    .start = NULL,
    .message = client12_message,
    .ccs = client12_ccs,
    .free = client12_free,
};

int tlsv_tls12_client_begin(tlsv_engine *e, const tlsv_tls12_client_hello_info *info,
                            const uint8_t *shmsg, size_t sh_len)
{
    tlsv_server_hello sh;
    tlsv_error err;
    if (tlsv_msg_parse_server_hello(shmsg + 4, sh_len - 4, &sh, &err) != 0)
        return tlsv_engine_fail_err(e, &err);
    const tlsv_suite *s = tlsv_suite_by_id(sh.cipher_suite);
    bool offered = false;
    for (size_t i = 0; i < info->n_suites; i++)
        offered = offered || info->suites[i] == sh.cipher_suite;
    if (!offered || !tlsv_suite_usable(s, info->version))
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "the %s ServerHello selects cipher suite 0x%04x, which this client "
                                "did not offer for that version",
                                tlsv_version_string(info->version), sh.cipher_suite);
    if (tlsv_ext_unsolicited(sh.present, sh.n_extensions, info->offered_ext))
        return tlsv_engine_fail(e, TLSV_R_UNSOLICITED_EXTENSION, TLSV_ALERT_UNSUPPORTED_EXTENSION,
                                "the ServerHello carries an extension this client did not offer "
                                "(RFC 5246 §7.4.1.4)");
    /* RFC 5746: a server that does not know secure renegotiation is refused
     * unless OP_LEGACY_SERVER_CONNECT (OpenSSL 3.0's rule, which Python keeps) */
    if (!tlsv_ext_present(sh.present, TLSV_EXTID_RENEGOTIATION_INFO)) {
        if (!(e->ctx->vcfg.options & TLSV_OP_LEGACY_SERVER_CONNECT) &&
            info->version > TLSV_V_SSL3)
            return tlsv_engine_fail(e, TLSV_R_HANDSHAKE_FAILURE, TLSV_ALERT_HANDSHAKE_FAILURE,
                                    "the server does not support secure renegotiation "
                                    "(RFC 5746); set OP_LEGACY_SERVER_CONNECT to connect anyway");
    } else if (sh.renegotiation_info.n != 0) {
        return tlsv_engine_fail(e, TLSV_R_HANDSHAKE_FAILURE, TLSV_ALERT_HANDSHAKE_FAILURE,
                                "renegotiation_info is not empty in an initial handshake");
    }
    if (tlsv_ext_present(sh.present, TLSV_EXTID_ALPN) && tlsv_hs_accept_alpn(e, sh.alpn) != 0)
        return -1;
    /* resumption: the server echoes the session ID we sent for a session
     * (RFC 5246 §7.4.1.3; with a ticket, the random ID sent beside it, RFC
     * 5077 §3.4). An echo of an ID we offered no TLS <= 1.2 session under
     * (the TLS 1.3 middlebox-compatibility ID, RFC 8446 App. D.4) claims a
     * resumption of nothing we have: refused. */
    const tlsv_session *ss = info->session;
    bool echoed = info->session_id_len && sh.session_id.n == info->session_id_len &&
                  memcmp(sh.session_id.p, info->session_id, info->session_id_len) == 0;
    if (echoed && !ss && info->session13_offered)
        return tlsv_engine_fail(e, TLSV_R_OLD_SESSION_VERSION_NOT_RETURNED,
                                TLSV_ALERT_ILLEGAL_PARAMETER,
                                "the %s ServerHello echoes our session ID, resuming; this client "
                                "offered only a TLS 1.3 session (RFC 5246 §7.4.1.3)",
                                tlsv_version_string(info->version));
    if (echoed && !ss)
        return tlsv_engine_fail(e, TLSV_R_SERVER_ECHOED_INVALID_SESSION_ID,
                                TLSV_ALERT_ILLEGAL_PARAMETER,
                                "the %s ServerHello echoes our session ID, resuming, but this "
                                "client offered no session under it (RFC 5246 §7.4.1.3, RFC 8446 "
                                "App. D.4)",
                                tlsv_version_string(info->version));
    bool resumed = echoed;
    if (resumed && info->version != ss->version)
        return tlsv_engine_fail(e, TLSV_R_OLD_SESSION_VERSION_NOT_RETURNED,
                                TLSV_ALERT_ILLEGAL_PARAMETER,
                                "the ServerHello resumes a session made at %s, but chooses %s "
                                "(RFC 5246 §7.4.1.3)",
                                tlsv_version_string(ss->version),
                                tlsv_version_string(info->version));
    if (resumed && sh.cipher_suite != ss->suite)
        return tlsv_engine_fail(e, TLSV_R_OLD_SESSION_CIPHER_NOT_RETURNED,
                                TLSV_ALERT_ILLEGAL_PARAMETER,
                                "the ServerHello resumes a session made with %s, but chooses %s "
                                "(RFC 5246 §7.4.1.3)",
                                tlsv_suite_by_id(ss->suite) ? tlsv_suite_by_id(ss->suite)->openssl
                                                            : "?",
                                s->openssl);
    bool sh_ems = tlsv_ext_present(sh.present, TLSV_EXTID_EXTENDED_MASTER_SECRET);
    if (resumed && sh_ems != ss->ems)
        return tlsv_engine_fail(e, TLSV_R_INCONSISTENT_EXTMS, TLSV_ALERT_HANDSHAKE_FAILURE,
                                "the ServerHello resumes a session made %s the extended master "
                                "secret %s it (RFC 7627 §5.3)",
                                ss->ems ? "with" : "without", ss->ems ? "without" : "with");
    client12 *c = calloc(1, sizeof *c);
    if (!c)
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
    /* copy what we need from the hello stage before its state goes */
    if (tlsv_tr_add(&c->tr, info->ch, info->ch_len) != 0 || tlsv_tr_add(&c->tr, shmsg, sh_len) != 0) {
        tlsv_tr_free(&c->tr);
        free(c);
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    }
    c->version = info->version;
    c->suite = s;
    memcpy(c->cr, info->client_random, 32);
    memcpy(c->sr, sh.random, 32);
    c->ems = info->offered_ems && tlsv_ext_present(sh.present, TLSV_EXTID_EXTENDED_MASTER_SECRET);
    c->etm = info->offered_etm && !s->aead &&
             tlsv_ext_present(sh.present, TLSV_EXTID_ENCRYPT_THEN_MAC);
    c->expect_ticket = tlsv_ext_present(sh.present, TLSV_EXTID_SESSION_TICKET);
    if (resumed) {
        c->resumed = true;
        memcpy(c->master, ss->psk, 48);
        if (ss->session_id_len)
            memcpy(c->session_id, ss->session_id, ss->session_id_len);
        c->session_id_len = ss->session_id_len;
    } else {
        if (sh.session_id.n)
            memcpy(c->session_id, sh.session_id.p, sh.session_id.n);
        c->session_id_len = sh.session_id.n;
    }
    /* the hello stage's state goes now (and what info points into); the
     * session is the engine's, held here by a reference of our own anyway */
    tlsv_session *keep = resumed ? tlsv_session_ref((tlsv_session *)ss) : NULL;
    if (e->ops && e->ops->free)
        e->ops->free(e);
    e->hs_state = c;
    e->ops = &tlsv_tls12_client_ops;
    e->version = info->version;
    e->suite = s->id;
    e->plain_version = info->version;
    c->state = C_WAIT_CERT;
    if (resumed) {
        /* no certificate: the handshake that made the session verified it */
        int rc = tlsv_tls13_resume_accepted(e, keep, &c->marks);
        tlsv_session_free(keep);
        if (rc != 0)
            return -1;
        e->resumed = true;
        tlsv_engine_keylog(e, "CLIENT_RANDOM", c->master, 48);
        if (TLSV_TRACING(e))
            tlsv_engine_trace(e, -1, "resuming the %s session (the server echoed our session ID)",
                              tlsv_version_string(c->version));
        c->state = c->expect_ticket ? C_WAIT_NST : C_WAIT_CCS;
    }
    return 0;
}
