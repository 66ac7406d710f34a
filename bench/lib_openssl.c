/*
 * lib_openssl.c -- the benchmark's work done with OpenSSL's libssl (linked
 * into tlsv-bench only, never into tlsv). The two SSL objects are joined by
 * a BIO pair: what one writes, the other reads, with no bench code between.
 *
 * Configured as tlsv is: one suite, X25519 (P-256 listed too), the client
 * verifying the chain against the CA and the hostname, no client
 * authentication. Full handshakes: num_tickets 0, SSL_OP_NO_TICKET, and no
 * session cache on either side, as tlsv is told (OP_NO_TICKET). Resumed
 * handshakes (setup->resume): one ticket per handshake, no session cache
 * (tickets carry the session), the client reading the ticket after the
 * handshake, as tlsv does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "bench.h"

#define PAIR_BUFFER (64 * 1024) /* each direction of the BIO pair */

struct ossl_contexts {
    const struct setup *setup;
    SSL_CTX *ctx[2]; /* by side */
    SSL_SESSION *session; /* setup->resume: what every client offers */
    BIO *end[2];     /* the two ends of one BIO pair, reused by every connection */
};

struct ossl_pair {
    const struct ossl_contexts *cx;
    SSL *ssl[2]; /* by side */
};

static const char *const side_name[2] = {"client", "server"};

static void ssl_failed(const struct ossl_pair *p, enum side s, const char *what, int rc)
{
    int e = SSL_get_error(p->ssl[s], rc);
    const char *detail = "";
    if (s == SIDE_CLIENT && SSL_get_verify_result(p->ssl[s]) != X509_V_OK)
        detail = X509_verify_cert_error_string(SSL_get_verify_result(p->ssl[s]));
    fatal("openssl %s (%s): %s failed (SSL_get_error %d) %s", side_name[s], p->cx->setup->label,
          what, e, detail);
}

static void prime_session(struct ossl_contexts *cx);

static void *contexts_new(const struct setup *s)
{
    struct ossl_contexts *cx = calloc(1, sizeof *cx);
    if (!cx)
        fatal("out of memory");
    cx->setup = s;
    cx->ctx[SIDE_CLIENT] = SSL_CTX_new(TLS_client_method());
    cx->ctx[SIDE_SERVER] = SSL_CTX_new(TLS_server_method());
    for (int side = 0; side < 2; side++) {
        SSL_CTX *ctx = cx->ctx[side];
        if (!ctx)
            fatal("openssl: cannot create a context");
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        if (!s->resume)
            SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        if (!SSL_CTX_set_num_tickets(ctx, s->resume ? 1 : 0) ||
            !SSL_CTX_set1_groups_list(ctx, "X25519:P-256"))
            fatal("openssl: cannot configure tickets or groups");
        if (s->version == TLS1_2_VERSION) {
            if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
                !SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) ||
                !SSL_CTX_set_cipher_list(ctx, s->suite))
                fatal("openssl: cannot configure TLS 1.2 with %s", s->suite);
        } else if (!SSL_CTX_set_ciphersuites(ctx, s->suite)) {
            fatal("openssl: cannot configure the TLS 1.3 suite %s", s->suite);
        }
    }
    SSL_CTX *sctx = cx->ctx[SIDE_SERVER], *cctx = cx->ctx[SIDE_CLIENT];
    if (SSL_CTX_use_certificate_chain_file(sctx, s->cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(sctx, s->key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(sctx) != 1)
        fatal("openssl: cannot load the server certificate %s", s->cert);
    if (SSL_CTX_load_verify_file(cctx, s->cafile) != 1)
        fatal("openssl: cannot load the CA file %s", s->cafile);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);

    /* The transport. Its buffers are allocated on first use; use them once
     * here so that no connection is charged for them. */
    if (BIO_new_bio_pair(&cx->end[SIDE_CLIENT], PAIR_BUFFER, &cx->end[SIDE_SERVER], PAIR_BUFFER) != 1)
        fatal("openssl: cannot create a BIO pair");
    for (int side = 0; side < 2; side++) {
        char byte = 'x';
        if (BIO_write(cx->end[side], &byte, 1) != 1 || BIO_read(cx->end[!side], &byte, 1) != 1)
            fatal("openssl: the BIO pair does not carry bytes");
    }
    if (s->resume)
        prime_session(cx);
    return cx;
}

static void contexts_free(void *contexts)
{
    struct ossl_contexts *cx = contexts;
    SSL_SESSION_free(cx->session);
    for (int side = 0; side < 2; side++) {
        SSL_CTX_free(cx->ctx[side]);
        BIO_free(cx->end[side]);
    }
    free(cx);
}

static void *pair_new(void *contexts)
{
    struct ossl_pair *p = calloc(1, sizeof *p);
    if (!p)
        fatal("out of memory");
    p->cx = contexts;
    for (int side = 0; side < 2; side++) {
        side_enter((enum side)side);
        SSL *ssl = SSL_new(p->cx->ctx[side]);
        int ok = ssl && BIO_up_ref(p->cx->end[side]);
        if (ok) {
            SSL_set_bio(ssl, p->cx->end[side], p->cx->end[side]); /* takes the one reference */
            if (side == SIDE_CLIENT) {
                SSL_set_connect_state(ssl);
                /* SNI, and the name the certificate must carry */
                ok = SSL_set_tlsext_host_name(ssl, BENCH_HOSTNAME) == 1 &&
                     SSL_set1_host(ssl, BENCH_HOSTNAME) == 1 &&
                     (!p->cx->session || SSL_set_session(ssl, p->cx->session) == 1);
            } else {
                SSL_set_accept_state(ssl);
            }
        }
        side_leave((enum side)side);
        p->ssl[side] = ssl;
        if (!ok)
            fatal("openssl: cannot create a %s connection", side_name[side]);
    }
    return p;
}

static void pair_free(void *pair)
{
    struct ossl_pair *p = pair;
    for (int side = 0; side < 2; side++) {
        side_enter((enum side)side);
        /* Freed without a close_notify, a connection marks its session
         * unresumable (ssl_clear_bad_session); the bench's connections end
         * well, say so, and the one session stays good for every client. */
        if (p->cx->setup->resume)
            SSL_set_shutdown(p->ssl[side], SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        SSL_free(p->ssl[side]);
        side_leave((enum side)side);
    }
    free(p);
}

static void check_negotiated(const struct ossl_pair *p)
{
    const struct setup *s = p->cx->setup;
    for (int side = 0; side < 2; side++) {
        SSL *ssl = p->ssl[side];
        const char *cipher = SSL_get_cipher_name(ssl);
        /* a resumed TLS 1.2 handshake exchanges no keys (libssl may still
         * name the group of the session's handshake) */
        int keyless = p->cx->session && s->version == TLS1_2_VERSION;
        if (SSL_version(ssl) != s->version || !cipher || strcmp(cipher, s->suite) != 0 ||
            (!keyless && SSL_get_negotiated_group(ssl) != NID_X25519))
            fatal("openssl %s (%s): negotiated %s %s, not what was configured", side_name[side],
                  s->label, SSL_get_version(ssl), cipher ? cipher : "-");
        if (BIO_ctrl_pending(p->cx->end[side]) != 0)
            fatal("openssl %s (%s): bytes left unread after the handshake", side_name[side], s->label);
    }
    if (!SSL_get0_peer_certificate(p->ssl[SIDE_CLIENT]) ||
        SSL_get_verify_result(p->ssl[SIDE_CLIENT]) != X509_V_OK)
        fatal("openssl client (%s): the server certificate was not verified", s->label);
    if (p->cx->session)
        for (int side = 0; side < 2; side++)
            if (!SSL_session_reused(p->ssl[side]))
                fatal("openssl %s (%s): the session was not resumed", side_name[side], s->label);
}

/* setup->resume: the client reads what the server sent after its last
 * handshake message (the ticket), as a client reading data would. */
static void read_ticket(const struct ossl_pair *p)
{
    uint8_t byte;
    side_enter(SIDE_CLIENT);
    int r = SSL_read(p->ssl[SIDE_CLIENT], &byte, 1);
    int e = SSL_get_error(p->ssl[SIDE_CLIENT], r);
    side_leave(SIDE_CLIENT);
    if (r > 0 || e != SSL_ERROR_WANT_READ)
        ssl_failed(p, SIDE_CLIENT, "reading the session ticket", r);
}

static void handshake(void *pair)
{
    struct ossl_pair *p = pair;
    int done[2] = {0, 0};
    for (int step = 0; !done[SIDE_CLIENT] || !done[SIDE_SERVER]; step++) {
        if (step == 8)
            fatal("openssl (%s): the handshake did not complete", p->cx->setup->label);
        for (int side = 0; side < 2; side++) {
            if (done[side])
                continue;
            side_enter((enum side)side);
            int rc = SSL_do_handshake(p->ssl[side]);
            int e = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(p->ssl[side], rc);
            side_leave((enum side)side);
            if (rc == 1)
                done[side] = 1;
            else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                ssl_failed(p, (enum side)side, "handshake", rc);
        }
    }
    if (p->cx->setup->resume)
        read_ticket(p);
    check_negotiated(p);
}

/* One full handshake whose session every later client offers. */
static void prime_session(struct ossl_contexts *cx)
{
    struct ossl_pair *p = pair_new(cx);
    handshake(p);
    cx->session = SSL_get1_session(p->ssl[SIDE_CLIENT]);
    if (!cx->session || !SSL_SESSION_is_resumable(cx->session))
        fatal("openssl (%s): no resumable session after the priming handshake", cx->setup->label);
    pair_free(p);
}

static void send_data(void *pair, enum side from, const uint8_t *data, size_t len, uint8_t *out)
{
    struct ossl_pair *p = pair;
    enum side to = from == SIDE_CLIENT ? SIDE_SERVER : SIDE_CLIENT;
    size_t sent = 0, got = 0;
    while (got < len) {
        int progress = 0;
        if (sent < len) {
            side_enter(from);
            int w = SSL_write(p->ssl[from], data + sent, (int)(len - sent));
            int e = w > 0 ? SSL_ERROR_NONE : SSL_get_error(p->ssl[from], w);
            side_leave(from);
            if (w > 0) {
                sent += (size_t)w;
                progress = 1;
            } else if (e != SSL_ERROR_WANT_WRITE) { /* the pair is full: read first */
                ssl_failed(p, from, "write", w);
            }
        }
        side_enter(to);
        int r = SSL_read(p->ssl[to], out + got, (int)(len - got));
        int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(p->ssl[to], r);
        side_leave(to);
        if (r > 0) {
            got += (size_t)r;
            progress = 1;
        } else if (e != SSL_ERROR_WANT_READ) {
            ssl_failed(p, to, "read", r);
        }
        if (!progress)
            fatal("openssl (%s): data stopped flowing", p->cx->setup->label);
    }
}

const struct library lib_openssl = {
    .name = "openssl",
    .contexts_new = contexts_new,
    .contexts_free = contexts_free,
    .pair_new = pair_new,
    .handshake = handshake,
    .send = send_data,
    .pair_free = pair_free,
    .release_caches = NULL, /* libssl 3.0 keeps no buffers beyond a connection */
};
