/*
 * echo_server.c -- a non-blocking TLS echo server: one thread, one poll()
 * loop, many clients at once; every byte a client sends comes back to it.
 *
 *   usage: echo_server [--max-connections N] CERT KEY [PORT]
 *
 * Listens on 127.0.0.1:PORT (0 or absent: any free port) and says so; with
 * --max-connections N it exits once N clients have come and gone. Clients
 * are tlsv connections in fd mode on non-blocking sockets: a call that cannot
 * finish returns TLSV_WANT_READ/_WRITE, and poll() says when to call again.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <tlsv.h>

#define MAX_CLIENTS 64

/* pfds[0] is the listening socket; pfds[i] and clients[i] (i >= 1) a client.
 * poll() skips an fd of -1: a free slot, or the listener while paused. */
static struct pollfd pfds[1 + MAX_CLIENTS];
static struct client {
    long id;         /* the client's number, for the log */
    tlsv_conn *conn;
    int closing;     /* the client sent close_notify: send ours, then close */
    size_t len;      /* bytes in buf still to echo */
    char buf[16384];
} clients[1 + MAX_CLIENTS];

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Drives client i as far as it can go without blocking. Returns 1 while the
 * client lives, 0 when it is done (closed cleanly, or failed). */
static int serve(int i)
{
    struct client *c = &clients[i];
    for (;;) {
        long rc;
        if (c->len > 0) /* echo what we read; after TLSV_WANT_WRITE, the same call again */
            rc = tlsv_conn_write(c->conn, c->buf, c->len);
        else if (c->closing) /* answer the client's close_notify with ours */
            rc = tlsv_conn_shutdown(c->conn);
        else /* read; the first read runs the handshake */
            rc = tlsv_conn_read(c->conn, c->buf, sizeof c->buf);
        if (rc == TLSV_WANT_READ || rc == TLSV_WANT_WRITE) { /* wait for poll() */
            pfds[i].events = rc == TLSV_WANT_READ ? POLLIN : POLLOUT;
            return 1;
        }
        if (rc < 0) {
            char why[512]; /* tlsv's explanation: "REASON (alert ...): sentence" */
            tlsv_error_format(tlsv_conn_last_error(c->conn), why, sizeof why);
            printf("client %ld: failed: %s\n", c->id, why);
            return 0;
        }
        if (c->closing) {
            printf("client %ld: closed cleanly (%s, %s)\n", c->id, tlsv_conn_version(c->conn),
                   tlsv_conn_cipher(c->conn));
            return 0;
        }
        if (c->len > 0)
            c->len = 0; /* all echoed */
        else
            c->len = (size_t)rc, c->closing = rc == 0; /* 0: the client's close_notify */
    }
}

int main(int argc, char **argv)
{
    long max = 0, accepted = 0, active = 0; /* max 0: serve forever */
    if (argc > 2 && strcmp(argv[1], "--max-connections") == 0)
        max = strtol(argv[2], NULL, 10), argv += 2, argc -= 2;
    if (argc < 3 || argc > 4 || max < 0) {
        fprintf(stderr, "usage: echo_server [--max-connections N] CERT KEY [PORT]\n");
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* the log, a line at a time */
    tlsv_error err;
    tlsv_ctx *ctx = tlsv_ctx_new(TLSV_PROTOCOL_TLS_SERVER, &err);
    if (!ctx || tlsv_ctx_load_cert_chain(ctx, argv[1], argv[2]) != 0) {
        char why[512];
        tlsv_error_format(ctx ? tlsv_ctx_last_error(ctx) : &err, why, sizeof why);
        fprintf(stderr, "echo_server: cannot set up the context: %s\n", why);
        tlsv_ctx_free(ctx);
        return 1;
    }
    /* The listening socket, non-blocking: accept() never waits. */
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                               .sin_port = htons(argc == 4 ? atoi(argv[3]) : 0)};
    socklen_t addrlen = sizeof addr;
    int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 16) != 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &addrlen) != 0 || set_nonblocking(lfd) != 0) {
        perror("echo_server: cannot listen on 127.0.0.1");
        tlsv_ctx_free(ctx);
        return 1;
    }
    printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    for (int i = 1; i <= MAX_CLIENTS; i++)
        pfds[i].fd = -1;
    while (max == 0 || accepted < max || active > 0) {
        /* Listen while we take clients and a slot is free. */
        int listening = (max == 0 || accepted < max) && active < MAX_CLIENTS;
        pfds[0] = (struct pollfd){.fd = listening ? lfd : -1, .events = POLLIN};
        if (poll(pfds, 1 + MAX_CLIENTS, -1) < 0) {
            perror("echo_server: poll");
            return 1;
        }
        /* Serve each client whose socket is ready (or closed, or in error). */
        for (int i = 1; i <= MAX_CLIENTS; i++)
            if (pfds[i].fd >= 0 && pfds[i].revents && !serve(i)) {
                tlsv_conn_free(clients[i].conn);
                close(pfds[i].fd);
                pfds[i].fd = -1;
                active--;
            }
        /* Take a new client into a free slot; poll() tells us of the next. */
        int fd = pfds[0].revents & POLLIN ? accept(lfd, NULL, NULL) : -1, i = 1;
        tlsv_conn *conn = NULL;
        if (fd >= 0 && set_nonblocking(fd) != 0)
            perror("echo_server: fcntl");
        else if (fd >= 0 && !(conn = tlsv_conn_new(ctx, TLSV_ROLE_SERVER, NULL, &err)))
            fprintf(stderr, "echo_server: cannot create a connection: %s\n", err.message);
        if (!conn && fd >= 0)
            close(fd);
        if (!conn)
            continue;
        while (pfds[i].fd >= 0) /* there is a free slot: active < MAX_CLIENTS */
            i++;
        tlsv_conn_set_fd(conn, fd); /* tlsv reads and writes fd; we still own it */
        clients[i] = (struct client){.id = ++accepted, .conn = conn};
        pfds[i] = (struct pollfd){.fd = fd, .events = POLLIN}; /* ClientHello first */
        active++;
    }
    printf("served %ld connections\n", accepted);
    close(lfd);
    tlsv_ctx_free(ctx);
    return 0;
}
