/*
 * lib_tlsv.c -- the benchmark's work done with tlsv, in memory-buffer mode:
 * the bench moves each side's output (tlsv_conn_take_output) into the other
 * side (tlsv_conn_feed) through one buffer, the "wire" -- two copies of each
 * byte, as libssl's BIO pair makes. With --tlsv-direct it copies each byte
 * once instead, from where the sender keeps its output
 * (tlsv_conn_output_peek) straight into the receiver's input buffer
 * (tlsv_conn_input_buffer), as a program reading a socket into tlsv would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tlsv.h>

#include "bench.h"

struct tlsv_contexts {
    const struct setup *setup;
    tlsv_ctx *ctx[2];      /* by side */
    tlsv_session *session; /* setup->resume: what every client offers */
};

struct tlsv_pair {
    const struct tlsv_contexts *cx;
    tlsv_conn *conn[2]; /* by side */
};

static const char *const side_name[2] = {"client", "server"};

static uint8_t wire[64 * 1024];

int tlsv_direct_transport;

static void ctx_failed(tlsv_ctx *ctx, const char *what)
{
    char line[512];
    tlsv_error_format(tlsv_ctx_last_error(ctx), line, sizeof line);
    fatal("tlsv: %s: %s", what, line);
}

static void conn_failed(const struct tlsv_pair *p, enum side s, const char *what)
{
    char line[512];
    tlsv_error_format(tlsv_conn_last_error(p->conn[s]), line, sizeof line);
    fatal("tlsv %s (%s): %s: %s", side_name[s], p->cx->setup->label, what, line);
}

static void prime_session(struct tlsv_contexts *cx);

static void *contexts_new(const struct setup *s)
{
    struct tlsv_contexts *cx = calloc(1, sizeof *cx);
    if (!cx)
        fatal("out of memory");
    cx->setup = s;
    static const int protocol[2] = {TLSV_PROTOCOL_TLS_CLIENT, TLSV_PROTOCOL_TLS_SERVER};
    for (int side = 0; side < 2; side++) {
        tlsv_error err;
        tlsv_ctx *ctx = tlsv_ctx_new(protocol[side], &err);
        if (!ctx) {
            char line[512];
            tlsv_error_format(&err, line, sizeof line);
            fatal("tlsv: cannot create a context: %s", line);
        }
        cx->ctx[side] = ctx;
        /* full handshakes: no session tickets, as libssl is told; resumed
         * ones: one ticket per handshake, as libssl is told */
        if (!s->resume)
            tlsv_ctx_add_options(ctx, TLSV_OP_NO_TICKET);
        else if (side == SIDE_SERVER && tlsv_ctx_set_num_tickets(ctx, 1) != 0)
            ctx_failed(ctx, "number of tickets");
        if (tlsv_ctx_set_groups(ctx, "x25519:P-256") != 0)
            ctx_failed(ctx, "groups");
        if (s->version == TLSV_VERSION_TLSv1_2) {
            if (tlsv_ctx_set_minimum_version(ctx, TLSV_VERSION_TLSv1_2) != 0 ||
                tlsv_ctx_set_maximum_version(ctx, TLSV_VERSION_TLSv1_2) != 0)
                ctx_failed(ctx, "version bounds");
            if (tlsv_ctx_set_ciphers(ctx, s->suite) != 0)
                ctx_failed(ctx, "cipher suites");
        } else if (tlsv_ctx_set_ciphersuites(ctx, s->suite) != 0) {
            ctx_failed(ctx, "TLS 1.3 cipher suites");
        }
    }
    if (tlsv_ctx_load_cert_chain(cx->ctx[SIDE_SERVER], s->cert, s->key) != 0)
        ctx_failed(cx->ctx[SIDE_SERVER], "server certificate");
    /* TLS_CLIENT verifies the chain and checks the hostname by default */
    if (tlsv_ctx_load_verify_locations(cx->ctx[SIDE_CLIENT], s->cafile, NULL) != 0)
        ctx_failed(cx->ctx[SIDE_CLIENT], "client CA file");
    if (tlsv_ctx_get_verify_mode(cx->ctx[SIDE_CLIENT]) != TLSV_CERT_REQUIRED ||
        tlsv_ctx_get_check_hostname(cx->ctx[SIDE_CLIENT]) != 1)
        fatal("tlsv: the client context does not verify the server");
    if (s->resume)
        prime_session(cx);
    return cx;
}

static void contexts_free(void *contexts)
{
    struct tlsv_contexts *cx = contexts;
    tlsv_session_free(cx->session);
    tlsv_ctx_free(cx->ctx[SIDE_CLIENT]);
    tlsv_ctx_free(cx->ctx[SIDE_SERVER]);
    free(cx);
}

static void *pair_new(void *contexts)
{
    struct tlsv_pair *p = calloc(1, sizeof *p);
    if (!p)
        fatal("out of memory");
    p->cx = contexts;
    for (int side = 0; side < 2; side++) {
        tlsv_error err;
        side_enter((enum side)side);
        p->conn[side] = tlsv_conn_new(p->cx->ctx[side], (tlsv_role)side,
                                      side == SIDE_CLIENT ? BENCH_HOSTNAME : NULL, &err);
        side_leave((enum side)side);
        if (!p->conn[side]) {
            char line[512];
            tlsv_error_format(&err, line, sizeof line);
            fatal("tlsv: cannot create a %s connection: %s", side_name[side], line);
        }
    }
    if (p->cx->session) {
        side_enter(SIDE_CLIENT);
        int rc = tlsv_conn_set_session(p->conn[SIDE_CLIENT], p->cx->session);
        side_leave(SIDE_CLIENT);
        if (rc != 0)
            conn_failed(p, SIDE_CLIENT, "offering the session");
    }
    return p;
}

static void pair_free(void *pair)
{
    struct tlsv_pair *p = pair;
    for (int side = 0; side < 2; side++) {
        side_enter((enum side)side);
        tlsv_conn_free(p->conn[side]);
        side_leave((enum side)side);
    }
    free(p);
}

/* --tlsv-direct: one copy, from the sender's output into the receiver's input. */
static void carry_direct(const struct tlsv_pair *p, enum side from, enum side to)
{
    for (;;) {
        size_t n = 0;
        side_enter(from);
        const uint8_t *out = tlsv_conn_output_peek(p->conn[from], &n);
        side_leave(from);
        if (n == 0)
            return;
        side_enter(to);
        uint8_t *in = tlsv_conn_input_buffer(p->conn[to], n);
        side_leave(to);
        if (!in)
            conn_failed(p, to, "making room for received bytes");
        memcpy(in, out, n);
        side_enter(to);
        int rc = tlsv_conn_input_commit(p->conn[to], n);
        side_leave(to);
        if (rc != 0)
            conn_failed(p, to, "committing received bytes");
        side_enter(from);
        tlsv_conn_output_consume(p->conn[from], n);
        side_leave(from);
    }
}

/* Moves everything `from` has to send into its peer. */
static void carry(const struct tlsv_pair *p, enum side from)
{
    enum side to = from == SIDE_CLIENT ? SIDE_SERVER : SIDE_CLIENT;
    if (tlsv_direct_transport) {
        carry_direct(p, from, to);
        return;
    }
    for (;;) {
        side_enter(from);
        size_t n = tlsv_conn_take_output(p->conn[from], wire, sizeof wire);
        side_leave(from);
        if (n == 0)
            return;
        side_enter(to);
        int rc = tlsv_conn_feed(p->conn[to], wire, n);
        side_leave(to);
        if (rc != 0)
            conn_failed(p, to, "feeding received bytes");
    }
}

static void check_negotiated(const struct tlsv_pair *p)
{
    const struct setup *s = p->cx->setup;
    for (int side = 0; side < 2; side++) {
        const tlsv_conn *c = p->conn[side];
        const char *cipher = tlsv_conn_cipher(c), *group = tlsv_conn_group(c);
        /* a resumed TLS 1.2 handshake exchanges no keys: no group */
        int keyless = p->cx->session && s->version == TLSV_VERSION_TLSv1_2;
        if (tlsv_conn_version_number(c) != s->version || !cipher || strcmp(cipher, s->suite) != 0 ||
            (keyless ? group != NULL : !group || strcmp(group, "x25519") != 0))
            fatal("tlsv %s (%s): negotiated %s %s %s, not what was configured", side_name[side],
                  s->label, tlsv_conn_version(c) ? tlsv_conn_version(c) : "nothing",
                  cipher ? cipher : "-", group ? group : "-");
    }
    if (tlsv_conn_peer_cert_count(p->conn[SIDE_CLIENT]) < 1)
        fatal("tlsv client (%s): no server certificate after the handshake", s->label);
    if (p->cx->session)
        for (int side = 0; side < 2; side++)
            if (!tlsv_conn_session_reused(p->conn[side]))
                fatal("tlsv %s (%s): the session was not resumed", side_name[side], s->label);
}

/* setup->resume: the client reads what the server sent after its last
 * handshake message (the ticket), as a client reading data would. */
static void read_ticket(const struct tlsv_pair *p)
{
    uint8_t byte;
    side_enter(SIDE_CLIENT);
    long r = tlsv_conn_read(p->conn[SIDE_CLIENT], &byte, 1);
    side_leave(SIDE_CLIENT);
    if (r != TLSV_WANT_READ)
        conn_failed(p, SIDE_CLIENT, "reading the session ticket");
}

static void handshake(void *pair)
{
    struct tlsv_pair *p = pair;
    int done[2] = {0, 0};
    for (int step = 0; !done[SIDE_CLIENT] || !done[SIDE_SERVER]; step++) {
        if (step == 8)
            fatal("tlsv (%s): the handshake did not complete", p->cx->setup->label);
        for (int side = 0; side < 2; side++) {
            if (done[side])
                continue;
            side_enter((enum side)side);
            int rc = tlsv_conn_handshake(p->conn[side]);
            side_leave((enum side)side);
            if (rc == 0)
                done[side] = 1;
            else if (rc != TLSV_WANT_READ)
                conn_failed(p, (enum side)side, "handshake");
            carry(p, (enum side)side);
        }
    }
    if (p->cx->setup->resume)
        read_ticket(p);
    check_negotiated(p);
}

/* One full handshake whose session every later client offers. */
static void prime_session(struct tlsv_contexts *cx)
{
    struct tlsv_pair *p = pair_new(cx);
    handshake(p);
    cx->session = tlsv_conn_get_session(p->conn[SIDE_CLIENT]);
    if (!cx->session)
        fatal("tlsv (%s): no session after the priming handshake", cx->setup->label);
    pair_free(p);
}

static void send_data(void *pair, enum side from, const uint8_t *data, size_t len, uint8_t *out)
{
    struct tlsv_pair *p = pair;
    enum side to = from == SIDE_CLIENT ? SIDE_SERVER : SIDE_CLIENT;
    side_enter(from);
    long w = tlsv_conn_write(p->conn[from], data, len);
    side_leave(from);
    if (w != (long)len)
        conn_failed(p, from, "write");
    carry(p, from);
    for (size_t got = 0; got < len;) {
        side_enter(to);
        long r = tlsv_conn_read(p->conn[to], out + got, len - got);
        side_leave(to);
        if (r <= 0)
            conn_failed(p, to, r == TLSV_WANT_READ ? "read: data missing" : "read");
        got += (size_t)r;
    }
}

const struct library lib_tlsv = {
    .name = "tlsv",
    .contexts_new = contexts_new,
    .contexts_free = contexts_free,
    .pair_new = pair_new,
    .handshake = handshake,
    .send = send_data,
    .pair_free = pair_free,
    .release_caches = tlsv_thread_release_buffers,
};
