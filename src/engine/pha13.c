/*
 * pha13.c -- TLS 1.3 post-handshake client authentication. See pha13.h.
 */
#include "engine/pha13.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "engine/keysched13.h"
#include "engine/msg.h"
#include "err.h"
#include "x509.h"

#define PHA_CONTEXT_LEN 8 /* our certificate_request_context: 4 random bytes, a counter */
#define PHA_CR_MAX 128    /* our CertificateRequest, header included (about 50 bytes) */

typedef struct pha_req {
    uint8_t cr[PHA_CR_MAX]; /* the CertificateRequest as sent: its transcript needs it */
    size_t cr_len;
    uint8_t context[PHA_CONTEXT_LEN];
} pha_req;

typedef enum { PHA_IDLE, PHA_WAIT_CV, PHA_WAIT_FINISHED } pha_step;

struct tlsv_pha {
    tlsv_hash_ctx *base; /* transcript hash state through the client's Finished */
    tlsv_hash_alg hash;
    size_t hlen;
    /* server */
    pha_req req[TLSV_MAX_PHA_PENDING]; /* outstanding, oldest first */
    size_t n_req;
    uint8_t salt[4];
    uint32_t counter;
    pha_step step;          /* of the answer being read */
    size_t cur;             /* its request */
    tlsv_transcript tr;     /* its transcript */
    unsigned marks;
    bool holds_prev;        /* prev_chain is the peer chain from before this answer */
    void *prev_chain;
};

int tlsv_pha_begin(tlsv_engine *e, tlsv_transcript *tr)
{
    struct tlsv_pha *p = calloc(1, sizeof *p);
    if (!p || !tr->h || !(p->base = tlsv_hash_dup(tr->h)) || tlsv_random(p->salt, sizeof p->salt) != 0) {
        if (p)
            tlsv_hash_free(p->base);
        free(p);
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR,
                                "could not keep the transcript for post-handshake authentication");
    }
    p->hash = tr->alg;
    p->hlen = tlsv_hash_len(tr->alg);
    tlsv_pha_free(e);
    e->pha = p;
    return 0;
}

static void answer_reset(struct tlsv_pha *p)
{
    tlsv_tr_free(&p->tr);
    p->step = PHA_IDLE;
    p->marks = 0;
}

void tlsv_pha_free(tlsv_engine *e)
{
    struct tlsv_pha *p = e->pha;
    if (!p)
        return;
    answer_reset(p);
    tlsv_hash_free(p->base);
    if (p->holds_prev)
        tlsv_x509_chain_free(p->prev_chain);
    free(p);
    e->pha = NULL;
}

size_t tlsv_pha_pending(const tlsv_engine *e)
{
    return e->pha ? e->pha->n_req : 0;
}

/* A transcript that starts as the handshake's, through the client Finished. */
static int fork_transcript(const struct tlsv_pha *p, tlsv_transcript *tr)
{
    memset(tr, 0, sizeof *tr);
    tr->h = tlsv_hash_dup(p->base);
    tr->alg = p->hash;
    return tr->h ? 0 : -1;
}

/* Finished verify_data under client_application_traffic_secret_N. */
static int pha_finished(const struct tlsv_pha *p, const uint8_t *secret, tlsv_transcript *tr,
                        uint8_t *out)
{
    tlsv_ks13 ks;
    memset(&ks, 0, sizeof ks);
    ks.hash = p->hash;
    ks.hlen = p->hlen;
    uint8_t th[TLSV_HASH_MAX_LEN];
    return tlsv_tr_hash(tr, th) == 0 && tlsv_ks13_finished(&ks, secret, th, p->hlen, out) == 0
               ? 0
               : -1;
}

/* ---- server ------------------------------------------------------------- */

int tlsv_pha_request(tlsv_engine *e)
{
    struct tlsv_pha *p = e->pha;
    if (!p || p->n_req >= TLSV_MAX_PHA_PENDING)
        return -1;
    pha_req *r = &p->req[p->n_req];
    uint32_t n = ++p->counter; /* unique within the connection (RFC 8446 §4.3.2) */
    memcpy(r->context, p->salt, 4);
    r->context[4] = (uint8_t)(n >> 24);
    r->context[5] = (uint8_t)(n >> 16);
    r->context[6] = (uint8_t)(n >> 8);
    r->context[7] = (uint8_t)n;
    tlsv_certificate_request_params crp = {
        .version = TLSV_V_TLS13,
        .context = {r->context, PHA_CONTEXT_LEN},
        .signature_algorithms = tlsv_sigalgs13,
        .n_signature_algorithms = tlsv_sigalgs13_count,
    };
    tlsv_writer w;
    tlsv_error err;
    tlsv_err_clear(&err);
    if (!tlsv_wr_init_growable(&w, PHA_CR_MAX, 1024))
        return tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR, "oom");
    int rc = tlsv_msg_write_certificate_request(&w, &crp, &err);
    if (rc == 0 && tlsv_wr_len(&w) <= PHA_CR_MAX) {
        r->cr_len = tlsv_wr_len(&w);
        memcpy(r->cr, tlsv_wr_data(&w), r->cr_len);
    } else {
        rc = -1;
    }
    tlsv_wr_release(&w);
    if (rc != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "could not write the post-handshake CertificateRequest");
    if (tlsv_engine_send_handshake(e, r->cr, r->cr_len) != 0)
        return e->state == TLSV_ES_FAILED
                   ? -1
                   : tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR,
                                      "could not queue the post-handshake CertificateRequest");
    p->n_req++;
    return tlsv_engine_flush(e) == 0 ? 0 : -1;
}

static int server_certificate(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    struct tlsv_pha *p = e->pha;
    if (p->n_req == 0)
        return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                                "a Certificate from the client after the handshake, with no "
                                "CertificateRequest outstanding");
    tlsv_certificate cert;
    tlsv_error err;
    if (tlsv_msg_parse_certificate(msg + 4, len - 4, TLSV_V_TLS13, &cert, &err) != 0)
        return tlsv_tls13_fail_parse(e, &err);
    /* the context tells which request this answers (RFC 8446 §4.6.2) */
    size_t i = 0;
    while (i < p->n_req && !(cert.request_context.n == PHA_CONTEXT_LEN &&
                             memcmp(cert.request_context.p, p->req[i].context, PHA_CONTEXT_LEN) == 0))
        i++;
    if (i == p->n_req)
        return tlsv_engine_fail(e, TLSV_R_ILLEGAL_PARAMETER, TLSV_ALERT_ILLEGAL_PARAMETER,
                                "the client's post-handshake Certificate carries a "
                                "certificate_request_context (%zu bytes) that matches none of "
                                "the %zu CertificateRequests outstanding",
                                cert.request_context.n, p->n_req);
    p->cur = i;
    p->marks = 0;
    if (fork_transcript(p, &p->tr) != 0 || tlsv_tr_add(&p->tr, p->req[i].cr, p->req[i].cr_len) != 0 ||
        tlsv_tr_add(&p->tr, msg, len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    /* the chain verified now replaces the peer's chain at the Finished; a
     * failure before puts the old one back (tlsv_pha_message) */
    p->prev_chain = e->peer_chain;
    p->holds_prev = true;
    e->peer_chain = NULL;
    if (cert.n == 0) {
        if (e->ctx->verify_mode == TLSV_CERT_REQUIRED)
            return tlsv_engine_fail(e, TLSV_R_PEER_DID_NOT_RETURN_A_CERTIFICATE,
                                    TLSV_ALERT_CERTIFICATE_REQUIRED,
                                    "the client answered the post-handshake CertificateRequest "
                                    "with no certificate and this server requires one (verify "
                                    "mode CERT_REQUIRED)");
        p->marks |= TLSV_MARK_PEER_CERT | TLSV_MARK_PEER_SIG; /* optional, and absent */
        p->step = PHA_WAIT_FINISHED;
        return 0;
    }
    if (tlsv_hs_peer_chain(e, &cert, false, TLSV_X509_KU_DIGITAL_SIGNATURE, &p->marks) != 0)
        return -1;
    p->step = PHA_WAIT_CV;
    return 0;
}

static int server_certificate_verify(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    struct tlsv_pha *p = e->pha;
    uint8_t th[TLSV_HASH_MAX_LEN];
    if (tlsv_tr_hash(&p->tr, th) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    if (tlsv_tls13_check_peer_cv(e, msg, len, th, p->hlen, false, &p->marks) != 0)
        return -1;
    if (tlsv_tr_add(&p->tr, msg, len) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    p->step = PHA_WAIT_FINISHED;
    return 0;
}

static int server_finished(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    struct tlsv_pha *p = e->pha;
    tlsv_bytes vd;
    tlsv_error err;
    if (tlsv_msg_parse_finished(msg + 4, len - 4, p->hlen, &vd, &err) != 0)
        return tlsv_tls13_fail_parse(e, &err);
    uint8_t expect[TLSV_HASH_MAX_LEN];
    /* the client's current application traffic secret: the one its
     * Finished record was protected with (RFC 8446 §4.4, table) */
    if (pha_finished(p, e->rd_secret, &p->tr, expect) != 0)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "key schedule failure");
    int bad = tlsv_ct_memcmp(vd.p, expect, p->hlen);
    tlsv_wipe(expect, sizeof expect);
    if (bad)
        return tlsv_engine_fail(e, TLSV_R_DIGEST_CHECK_FAILED, TLSV_ALERT_DECRYPT_ERROR,
                                "the client's post-handshake Finished does not match the "
                                "transcript");
    p->marks |= TLSV_MARK_PEER_FIN;
    if ((p->marks & TLSV_MARKS_ALL) != TLSV_MARKS_ALL)
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "internal error: post-handshake authentication without every "
                                "verification mark (0x%x)",
                                p->marks);
    /* done: the new chain (or none) is the peer's from now on */
    if (p->holds_prev)
        tlsv_x509_chain_free(p->prev_chain);
    p->prev_chain = NULL;
    p->holds_prev = false;
    memmove(&p->req[p->cur], &p->req[p->cur + 1], (p->n_req - p->cur - 1) * sizeof p->req[0]);
    p->n_req--;
    answer_reset(p);
    if (TLSV_TRACING(e))
        tlsv_engine_trace(e, -1, "post-handshake authentication complete: %s",
                          e->peer_chain ? "the client's certificate verified"
                                        : "the client sent no certificate");
    return 0;
}

/* ---- client ------------------------------------------------------------- */

static int client_certificate_request(tlsv_engine *e, const uint8_t *msg, size_t len)
{
    struct tlsv_pha *p = e->pha;
    if (!p)
        return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                                "a CertificateRequest after the handshake, but this client did "
                                "not offer post_handshake_auth (RFC 8446 §4.3.2)");
    tlsv_certificate_request cr;
    tlsv_error err;
    if (tlsv_msg_parse_certificate_request(msg + 4, len - 4, TLSV_V_TLS13, &cr, &err) != 0)
        return tlsv_tls13_fail_parse(e, &err);
    if (++e->pha_answers_in_row > TLSV_MAX_PHA_IN_ROW)
        return tlsv_engine_fail(e, TLSV_R_TOO_MANY_WARN_ALERTS, TLSV_ALERT_UNEXPECTED_MESSAGE,
                                "more than %d post-handshake CertificateRequests without "
                                "application data from the server between",
                                TLSV_MAX_PHA_IN_ROW);
    if (e->close_notify_sent) {
        if (TLSV_TRACING(e))
            tlsv_engine_trace(e, -1, "CertificateRequest after our close_notify: not answered");
        return 0;
    }
    /* Certificate [CertificateVerify] Finished over the handshake context
     * + this CertificateRequest (RFC 8446 §4.4.1), as in the handshake */
    tlsv_transcript tr;
    int rc = fork_transcript(p, &tr) == 0 && tlsv_tr_add(&tr, msg, len) == 0 ? 0 : -1;
    if (rc != 0) {
        tlsv_tr_free(&tr);
        return tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                                "transcript failure");
    }
    rc = tlsv_tls13_send_client_auth(e, &tr, p->hlen, cr.context, cr.signature_algorithms);
    uint8_t fin[4 + TLSV_HASH_MAX_LEN] = {TLSV_HS_FINISHED, 0, 0, (uint8_t)p->hlen};
    if (rc == 0 && pha_finished(p, e->wr_secret, &tr, fin + 4) != 0)
        rc = tlsv_engine_fail(e, TLSV_R_INTERNAL_ERROR, TLSV_ALERT_INTERNAL_ERROR,
                              "key schedule failure");
    tlsv_tr_free(&tr);
    if (rc != 0)
        return -1;
    if (tlsv_engine_send_handshake(e, fin, 4 + p->hlen) != 0)
        return e->state == TLSV_ES_FAILED
                   ? -1
                   : tlsv_engine_fail(e, TLSV_R_OUT_OF_MEMORY, TLSV_ALERT_INTERNAL_ERROR,
                                      "could not queue the post-handshake Finished");
    tlsv_wipe(fin, sizeof fin);
    return 0;
}

/* ---- dispatch ------------------------------------------------------------- */

bool tlsv_pha_takes(const tlsv_engine *e, uint8_t type)
{
    if (e->role == TLSV_ROLE_CLIENT)
        return type == TLSV_HS_CERTIFICATE_REQUEST;
    return type == TLSV_HS_CERTIFICATE || type == TLSV_HS_CERTIFICATE_VERIFY ||
           type == TLSV_HS_FINISHED || (e->pha && e->pha->step != PHA_IDLE);
}

static int server_message(tlsv_engine *e, uint8_t type, const uint8_t *msg, size_t len)
{
    struct tlsv_pha *p = e->pha;
    pha_step step = p ? p->step : PHA_IDLE;
    if (!p)
        return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                                "unexpected %s from the client after the handshake (no "
                                "post-handshake authentication on this connection)",
                                tlsv_hs_type_name(type));
    if (step == PHA_IDLE && type == TLSV_HS_CERTIFICATE)
        return server_certificate(e, msg, len);
    if (step == PHA_WAIT_CV && type == TLSV_HS_CERTIFICATE_VERIFY)
        return server_certificate_verify(e, msg, len);
    if (step == PHA_WAIT_FINISHED && type == TLSV_HS_FINISHED)
        return server_finished(e, msg, len);
    if (step == PHA_IDLE)
        return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                                "unexpected %s from the client after the handshake (an answer "
                                "to a CertificateRequest starts with a Certificate)",
                                tlsv_hs_type_name(type));
    return tlsv_engine_fail(e, TLSV_R_UNEXPECTED_MESSAGE, TLSV_ALERT_UNEXPECTED_MESSAGE,
                            "unexpected %s from the client in post-handshake authentication "
                            "(its %s was expected)",
                            tlsv_hs_type_name(type),
                            step == PHA_WAIT_CV ? "CertificateVerify" : "Finished");
}

int tlsv_pha_message(tlsv_engine *e, uint8_t type, const uint8_t *msg, size_t len)
{
    if (e->role == TLSV_ROLE_CLIENT)
        return client_certificate_request(e, msg, len);
    int rc = server_message(e, type, msg, len);
    struct tlsv_pha *p = e->pha;
    if (rc != 0 && p && p->holds_prev) { /* the unverified chain never shows */
        tlsv_x509_chain_free(e->peer_chain);
        e->peer_chain = p->prev_chain;
        p->prev_chain = NULL;
        p->holds_prev = false;
    }
    return rc;
}
