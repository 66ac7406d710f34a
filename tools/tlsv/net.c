/*
 * net.c -- sockets and poll()-driven I/O for `tlsv client` / `tlsv server`.
 *
 * Connections run in the library's file-descriptor mode on non-blocking
 * sockets: tlsv_conn_* return TLSV_WANT_READ / TLSV_WANT_WRITE, and the
 * helpers here wait with poll() (always against a deadline when one is
 * given), so the tool never blocks inside the library.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

/* numeric host and service texts (NI_MAXHOST/NI_MAXSERV are not POSIX) */
#define HOST_TEXT 64
#define SERV_TEXT 8

long long net_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long net_deadline(int ms)
{
    return ms < 0 ? -1 : net_now_ms() + ms;
}

/* Milliseconds left before a deadline, for poll(): -1 for none, 0 if past. */
static int remaining(long long deadline)
{
    if (deadline < 0)
        return -1;
    long long left = deadline - net_now_ms();
    if (left <= 0)
        return 0;
    return left > 1000000000 ? 1000000000 : (int)left;
}

void net_local_error(tlsv_error *err, tlsv_reason reason, const char *fmt, ...)
{
    memset(err, 0, sizeof *err);
    err->reason = reason;
    err->alert = TLSV_ALERT_NONE;
    err->side = TLSV_SIDE_LOCAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

int net_split_hostport(const char *arg, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;
    const char *h = arg;
    size_t hl;
    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (!close || close[1] != ':')
            return -1;
        h = arg + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(arg, ':');
        if (!colon)
            return -1;
        hl = (size_t)(colon - arg);
    }
    const char *p = colon + 1;
    if (hl == 0 || hl >= hostlen || *p == '\0' || strlen(p) >= portlen)
        return -1;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    strcpy(port, p);
    return 0;
}

static int set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

static void addr_text(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len)
{
    char h[HOST_TEXT], s[SERV_TEXT];
    if (getnameinfo(sa, salen, h, sizeof h, s, sizeof s, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(buf, len, "?");
        return;
    }
    if (sa->sa_family == AF_INET6)
        snprintf(buf, len, "[%s]:%s", h, s);
    else
        snprintf(buf, len, "%s:%s", h, s);
}

int net_connect(const char *host, const char *port, int timeout_ms, char *addr, size_t addrlen,
                char *msg, size_t msglen)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(msg, msglen, "cannot resolve %s: %s", host, gai_strerror(gai));
        return -1;
    }
    long long deadline = net_deadline(timeout_ms);
    int fd = -1;
    snprintf(msg, msglen, "cannot connect to %s:%s: no address", host, port);
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char where[HOST_TEXT + SERV_TEXT + 4];
        addr_text(ai->ai_addr, ai->ai_addrlen, where, sizeof where);
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            snprintf(msg, msglen, "cannot create a socket for %s: %s", where, strerror(errno));
            continue;
        }
        int err = 0;
        if (set_nonblocking(fd) != 0) {
            err = errno;
        } else if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            err = errno;
            if (err == EINPROGRESS) {
                int w = net_wait(fd, TLSV_WANT_WRITE, deadline);
                socklen_t el = sizeof err;
                if (w == 0)
                    err = ETIMEDOUT;
                else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
                    err = errno;
            }
        }
        if (err == 0) {
            snprintf(addr, addrlen, "%s", where);
            break;
        }
        snprintf(msg, msglen, "cannot connect to %s: %s", where, strerror(err));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int net_listen_loopback(int port, int *bound, char *msg, size_t msglen)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(msg, msglen, "cannot create a socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sin;
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        snprintf(msg, msglen, "cannot listen on 127.0.0.1:%d: %s", port, strerror(errno));
        close(fd);
        return -1;
    }
    /* SOMAXCONN (the kernel caps it at net.core.somaxconn): with 64, 200
     * clients connecting at once overflowed the accept queue -- SYNs dropped,
     * connects delayed by retransmission (1 s, 3 s, ...), see tests/load */
    if (listen(fd, SOMAXCONN) != 0 || getsockname(fd, (struct sockaddr *)&sin, &sl) != 0) {
        snprintf(msg, msglen, "cannot listen on 127.0.0.1:%d: %s", port, strerror(errno));
        close(fd);
        return -1;
    }
    *bound = ntohs(sin.sin_port);
    return fd;
}

int net_accept(int lfd, char *peer, size_t peerlen)
{
    struct sockaddr_storage ss;
    for (;;) {
        socklen_t sl = sizeof ss;
        int fd = accept(lfd, (struct sockaddr *)&ss, &sl);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return -1;
        }
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        if (set_nonblocking(fd) != 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        addr_text((struct sockaddr *)&ss, sl, peer, peerlen);
        return fd;
    }
}

int net_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd pfd = {.fd = fd, .events = POLLOUT};
                (void)poll(&pfd, 1, -1);
                continue;
            }
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int net_wait(int fd, int want, long long deadline)
{
    struct pollfd pfd = {.fd = fd, .events = want == TLSV_WANT_WRITE ? POLLOUT : POLLIN};
    for (;;) {
        int r = poll(&pfd, 1, remaining(deadline));
        if (r > 0)
            return 1; /* ready, or POLLERR/POLLHUP: the next call finds out */
        if (r == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* After a WANT_* result: wait for it. Returns 0 to retry, or TIO_TIMEOUT. */
static int wait_for(int fd, long rc, long long deadline)
{
    int w = net_wait(fd, (int)rc, deadline);
    if (w == 0)
        return TIO_TIMEOUT;
    return 0; /* a poll() failure: retrying lets the library report the socket's state */
}

int tio_handshake(tlsv_conn *c, int fd, long long deadline)
{
    for (;;) {
        int rc = tlsv_conn_handshake(c);
        if (rc == 0)
            return 0;
        if (rc != TLSV_WANT_READ && rc != TLSV_WANT_WRITE)
            return TIO_ERROR;
        if (wait_for(fd, rc, deadline) != 0)
            return TIO_TIMEOUT;
    }
}

long tio_read(tlsv_conn *c, int fd, void *buf, size_t len, long long deadline)
{
    for (;;) {
        long rc = tlsv_conn_read(c, buf, len);
        if (rc >= 0)
            return rc;
        if (rc != TLSV_WANT_READ && rc != TLSV_WANT_WRITE)
            return TIO_ERROR;
        if (wait_for(fd, rc, deadline) != 0)
            return TIO_TIMEOUT;
    }
}

int tio_write(tlsv_conn *c, int fd, const void *buf, size_t len, long long deadline)
{
    for (;;) {
        long rc = tlsv_conn_write(c, buf, len);
        if (rc == (long)len)
            return 0;
        if (rc != TLSV_WANT_READ && rc != TLSV_WANT_WRITE)
            return TIO_ERROR;
        if (wait_for(fd, rc, deadline) != 0)
            return TIO_TIMEOUT;
    }
}

int tio_shutdown(tlsv_conn *c, int fd, long long deadline)
{
    for (;;) {
        int rc = tlsv_conn_shutdown(c);
        if (rc == 0)
            return 0;
        if (rc == 1) {
            /* ours is out; the peer's is still to come: read (and drop)
             * whatever it still sends until its close_notify */
            char scratch[4096];
            long r = tlsv_conn_read(c, scratch, sizeof scratch);
            if (r > 0)
                continue;
            if (r == 0)
                return 0;
            rc = r == TLSV_WANT_READ || r == TLSV_WANT_WRITE ? (int)r : -1;
        }
        if (rc != TLSV_WANT_READ && rc != TLSV_WANT_WRITE)
            return TIO_ERROR;
        if (wait_for(fd, rc, deadline) != 0)
            return TIO_TIMEOUT;
    }
}
