/*
 * memory_bio.c -- TLS over a transport of your own (memory-buffer mode).
 *
 *   usage: memory_bio CERT KEY CAFILE
 *
 * A tlsv connection without a file descriptor does no I/O: you give it the
 * bytes that arrived (tlsv_conn_feed), take the bytes it wants sent
 * (tlsv_conn_take_output) and move them as your program moves bytes: an event
 * loop's buffers, a message queue, a tunnel (Python: SSLObject + MemoryBIO).
 * Here a client and a server live in one process and the "network" is two
 * byte queues. CERT/KEY: the server's, for "localhost"; the client trusts CAFILE.
 */
#include <stdio.h>
#include <string.h>

#include <tlsv.h>

/* The application's own transport: one byte queue per direction. */
struct queue {
    unsigned char bytes[1 << 16];
    size_t len;
};
static struct queue client_to_server, server_to_client;

/* Prints a tlsv error record: "memory_bio: WHAT: REASON (alert ...): why". */
static void explain(const char *what, const tlsv_error *err)
{
    char line[512];
    tlsv_error_format(err, line, sizeof line);
    fprintf(stderr, "memory_bio: %s: %s\n", what, line);
}

/* One direction of the "network": send what `from` has for its peer into the
 * queue, then (here at once; a real network later) give the bytes to `to`. */
static int transmit(tlsv_conn *from, struct queue *q, tlsv_conn *to)
{
    while (tlsv_conn_pending_output(from) > 0 && q->len < sizeof q->bytes)
        q->len += tlsv_conn_take_output(from, q->bytes + q->len, sizeof q->bytes - q->len);
    int rc = tlsv_conn_feed(to, q->bytes, q->len);
    q->len = 0;
    if (rc != 0)
        explain("feeding bytes", tlsv_conn_last_error(to));
    return rc;
}

/* One trip over the "network", both ways. 0, or -1 if feeding failed. */
static int carry(tlsv_conn *client, tlsv_conn *server)
{
    return transmit(client, &client_to_server, server) != 0
               ? -1 : transmit(server, &server_to_client, client);
}

/* 1 if rc, what a call on `conn` returned, means success; else explains, 0. */
static int ok(tlsv_conn *conn, long rc, const char *what)
{
    if (rc == TLSV_WANT_READ) /* memory mode: "feed me more bytes" */
        fprintf(stderr, "memory_bio: %s: waiting for bytes that did not come\n", what);
    else if (rc < 0)
        explain(what, tlsv_conn_last_error(conn));
    return rc >= 0;
}

/* Reads and prints what came for `conn`: bytes (> 0), 0 (close_notify), -1. */
static long receive(tlsv_conn *conn, const char *who)
{
    char buf[256];
    long n = tlsv_conn_read(conn, buf, sizeof buf);
    if (n > 0)
        printf("%s received \"%.*s\"\n", who, (int)n, buf);
    else if (n == 0)
        printf("%s received close_notify\n", who);
    return ok(conn, n, who) ? n : -1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: memory_bio CERT KEY CAFILE\n");
        return 1;
    }
    /* Two contexts, as two programs would have them: a server with its certificate;
     * a client trusting CAFILE (TLS_CLIENT checks the certificate and hostname). */
    int status = 1;
    tlsv_conn *client = NULL, *server = NULL;
    tlsv_error err;
    tlsv_ctx *sctx = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, &err);
    tlsv_ctx *cctx = sctx ? tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, &err) : NULL;
    if (!cctx) {
        explain("cannot create a context", &err);
        goto out;
    }
    if (tlsv_ctx_load_cert_chain(sctx, argv[1], argv[2]) != 0) {
        explain("server certificate", tlsv_ctx_last_error(sctx));
        goto out;
    }
    if (tlsv_ctx_load_verify_locations(cctx, argv[3], NULL) != 0) {
        explain("client CA file", tlsv_ctx_last_error(cctx));
        goto out;
    }
    /* A connection starts in memory-buffer mode: no tlsv_conn_set_fd(). */
    if (!(server = tlsv_conn_new(sctx, TLSV_ROLE_SERVER, NULL, &err)) ||
        !(client = tlsv_conn_new(cctx, TLSV_ROLE_CLIENT, "localhost", &err))) {
        explain("cannot create a connection", &err);
        goto out;
    }

    /* 1. The handshake: run both sides and carry their bytes until both are
     * done (0). TLSV_WANT_READ means "waiting for the peer's bytes". */
    long crc = TLSV_WANT_READ, src = TLSV_WANT_READ;
    for (int round = 0; crc != 0 || src != 0; round++) {
        crc = tlsv_conn_handshake(client);
        src = tlsv_conn_handshake(server);
        if (crc == -1 || src == -1) {
            explain("handshake failed", tlsv_conn_last_error(crc == -1 ? client : server));
            goto out;
        }
        if (carry(client, server) != 0 || round == 10) {
            fprintf(stderr, "memory_bio: the handshake did not complete\n");
            goto out;
        }
    }
    printf("client: %s, %s\n", tlsv_conn_version(client), tlsv_conn_cipher(client));
    printf("server: %s, %s\n", tlsv_conn_version(server), tlsv_conn_cipher(server));

    /* 2. A message each way. In memory mode a write never blocks: it queues
     * the records, for the next carry() to deliver. */
    const char *hello = "hello from the client", *reply = "hello from the server";
    if (!ok(client, tlsv_conn_write(client, hello, strlen(hello)), "client write") ||
        carry(client, server) != 0 || receive(server, "server") <= 0 ||
        !ok(server, tlsv_conn_write(server, reply, strlen(reply)), "server write") ||
        carry(client, server) != 0 || receive(client, "client") <= 0)
        goto out;

    /* 3. Closing. The client sends close_notify (shutdown: 1, the peer's has not
     * come); the server reads it (0) and answers with its own (shutdown: 0, done). */
    if (!ok(client, tlsv_conn_shutdown(client), "client shutdown") ||
        carry(client, server) != 0 || receive(server, "server") != 0 ||
        !ok(server, tlsv_conn_shutdown(server), "server shutdown") ||
        carry(client, server) != 0 || receive(client, "client") != 0)
        goto out;
    status = 0;
out:
    tlsv_conn_free(client);
    tlsv_conn_free(server);
    tlsv_ctx_free(cctx);
    tlsv_ctx_free(sctx);
    return status;
}
