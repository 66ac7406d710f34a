/*
 * https_get.c -- a blocking HTTPS client: GET one path, print the response.
 *
 *   usage: https_get HOST PORT PATH [CAFILE]      e.g. https_get example.org 443 /
 *
 * The server's certificate must chain to a trusted CA (CAFILE if given, else
 * the system's default CA locations) and name HOST, or the handshake fails
 * with CERTIFICATE_VERIFY_FAILED and an explanation. The response goes to
 * stdout, what happened to stderr. Exit status: 0 success, 1 any failure.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <tlsv.h>

#define TIMEOUT_SECONDS 30 /* per send or receive: a silent server cannot hang us */

/* Prints a tlsv error record on one line: "REASON (alert ..., sent): why". */
static void report(const char *what, const tlsv_error *err)
{
    char line[512];
    tlsv_error_format(err, line, sizeof line);
    fprintf(stderr, "https_get: %s: %s\n", what, line);
}

/* A connection call returned rc: 1 if it succeeded; else explains and returns 0.
 * On a blocking socket, TLSV_WANT_READ/_WRITE only mean that a timeout expired. */
static int ok(tlsv_conn *conn, long rc, const char *what)
{
    if (rc == TLSV_WANT_READ || rc == TLSV_WANT_WRITE)
        fprintf(stderr, "https_get: %s: timed out after %d s\n", what, TIMEOUT_SECONDS);
    else if (rc < 0)
        report(what, tlsv_conn_last_error(conn));
    return rc >= 0;
}

/* Opens a TCP connection to host:port (any of its addresses). Returns the
 * socket, blocking, with send and receive timeouts; or -1. */
static int tcp_connect(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *addrs;
    int rc = getaddrinfo(host, port, &hints, &addrs);
    if (rc != 0) {
        fprintf(stderr, "https_get: cannot resolve %s: %s\n", host, gai_strerror(rc));
        return -1;
    }
    struct timeval tv = {.tv_sec = TIMEOUT_SECONDS}; /* on Linux it bounds connect() too */
    int fd = -1, error = 0;
    for (struct addrinfo *ai = addrs; ai && fd < 0; ai = ai->ai_next) { /* IPv4 or IPv6 */
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
            connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            error = errno; /* remember why, then try the next address */
            if (fd >= 0)
                close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(addrs);
    if (fd < 0)
        fprintf(stderr, "https_get: cannot connect to %s port %s: %s\n", host, port,
                strerror(error));
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: https_get HOST PORT PATH [CAFILE]\n");
        return 1;
    }
    /* argv[argc] is always NULL, so cafile is NULL when CAFILE is absent. */
    const char *host = argv[1], *port = argv[2], *path = argv[3], *cafile = argv[4];
    int status = 1, fd = -1;
    tlsv_conn *conn = NULL;

    /* 1. The context: TLS_CLIENT verifies the server's certificate and checks
     * that it names the host by default (CERT_REQUIRED, check_hostname on). */
    tlsv_error err;
    tlsv_ctx *ctx = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, &err);
    if (!ctx) {
        report("cannot create a context", &err);
        goto out;
    }
    static const char *const alpn[] = {"http/1.1"};
    int rc = cafile ? tlsv_ctx_load_verify_locations(ctx, cafile, NULL)
                    : tlsv_ctx_set_default_verify_paths(ctx);
    if (rc != 0 || tlsv_ctx_set_alpn_protocols(ctx, alpn, 1) != 0) {
        report("configuration failed", tlsv_ctx_last_error(ctx));
        goto out;
    }

    /* 2. The connection, over a blocking TCP socket (fd mode): each call
     * returns when it is done. HOST is sent as SNI and checked. */
    if ((fd = tcp_connect(host, port)) < 0)
        goto out;
    conn = tlsv_conn_new(ctx, TLSV_ROLE_CLIENT, host, &err);
    if (!conn) {
        report("cannot create a connection", &err);
        goto out;
    }
    tlsv_conn_set_fd(conn, fd); /* tlsv reads and writes fd; we still own it */
    if (!ok(conn, tlsv_conn_handshake(conn), "handshake failed"))
        goto out;
    const char *proto = tlsv_conn_alpn_selected(conn);
    fprintf(stderr, "https_get: connected: %s, %s, ALPN %s\n", tlsv_conn_version(conn),
            tlsv_conn_cipher(conn), proto ? proto : "(none)");

    /* 3. The request. HTTP/1.1 needs Host; "Connection: close" asks the
     * server to close when the response is complete. */
    char request[2048];
    int n = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n\r\n", path,
                     host, port);
    if (n < 0 || (size_t)n >= sizeof request) {
        fprintf(stderr, "https_get: the request is too long\n");
        goto out;
    }
    if (!ok(conn, tlsv_conn_write(conn, request, (size_t)n), "sending the request failed"))
        goto out;

    /* 4. The response, until the server closes the TLS connection:
     * tlsv_conn_read() returns 0 at its close_notify. A TCP close without
     * close_notify is an error (the response may have been cut short). */
    char buf[4096];
    long got;
    while ((got = tlsv_conn_read(conn, buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)got, stdout);
    if (!ok(conn, got, "reading the response failed"))
        goto out;

    /* 5. Answer with our close_notify, then we are done. */
    if (!ok(conn, tlsv_conn_shutdown(conn), "closing failed"))
        goto out;
    status = fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1; /* was all of it written? */
out:
    tlsv_conn_free(conn);
    if (fd >= 0)
        close(fd);
    tlsv_ctx_free(ctx);
    return status;
}
