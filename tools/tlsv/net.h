/*
 * net.h -- what `tlsv client` and `tlsv server` share (net.c, json.c):
 * TCP sockets on loopback, poll()-driven I/O over a tlsv_conn in
 * file-descriptor mode on a non-blocking socket, and the one-line / JSON
 * reports of a connection. Only the public API (tlsv.h) is used.
 */
#ifndef TLSV_TOOL_NET_H
#define TLSV_TOOL_NET_H

#include <stddef.h>
#include <stdio.h>

#include "tlsv.h"

/* ---- time ------------------------------------------------------------- */

/* Milliseconds on a monotonic clock. */
long long net_now_ms(void);

/* A deadline `ms` from now; ms < 0 means none (returns -1). */
long long net_deadline(int ms);

/* ---- sockets ---------------------------------------------------------- */

/* Splits "HOST:PORT" ("[v6]:PORT" too). Returns 0, or -1 if malformed. */
int net_split_hostport(const char *arg, char *host, size_t hostlen, char *port, size_t portlen);

/* Connects a TCP socket to host:port (every address getaddrinfo gives, in
 * order) within timeout_ms. Returns a non-blocking socket, or -1 with a
 * sentence in msg. The numeric address reached goes to addr ("127.0.0.1:4433"). */
int net_connect(const char *host, const char *port, int timeout_ms, char *addr, size_t addrlen,
                char *msg, size_t msglen);

/* A listening TCP socket on 127.0.0.1:port (0: the kernel picks). Returns it
 * and the port bound in *bound, or -1 with a sentence in msg. */
int net_listen_loopback(int port, int *bound, char *msg, size_t msglen);

/* Accepts a connection (blocking), makes it non-blocking, writes the peer's
 * "ADDR:PORT" to peer. Returns the socket or -1 (errno set). */
int net_accept(int lfd, char *peer, size_t peerlen);

/* Writes all of buf to a (blocking) fd, e.g. stdout. Returns 0 or -1. */
int net_write_all(int fd, const void *buf, size_t len);

/* ---- a tlsv_conn on a non-blocking socket ------------------------------ */

/* Waits until fd is readable (TLSV_WANT_READ) or writable (TLSV_WANT_WRITE),
 * or the deadline (-1: none). Returns 1 ready, 0 timed out, -1 error. */
int net_wait(int fd, int want, long long deadline);

/* Results of the tio_* helpers besides their documented values. */
#define TIO_ERROR (-1)   /* the connection failed: tlsv_conn_last_error() */
#define TIO_TIMEOUT (-4) /* the deadline passed */

/* The handshake to completion: 0, TIO_ERROR or TIO_TIMEOUT. */
int tio_handshake(tlsv_conn *c, int fd, long long deadline);

/* Reads: bytes (> 0), 0 when the peer closed cleanly, TIO_ERROR, TIO_TIMEOUT. */
long tio_read(tlsv_conn *c, int fd, void *buf, size_t len, long long deadline);

/* Writes all of buf: 0, TIO_ERROR or TIO_TIMEOUT. */
int tio_write(tlsv_conn *c, int fd, const void *buf, size_t len, long long deadline);

/* Sends close_notify and waits (until the deadline) for the peer's
 * close_notify or the end of the transport: 0, TIO_ERROR or TIO_TIMEOUT. */
int tio_shutdown(tlsv_conn *c, int fd, long long deadline);

/* Fills an error record for a failure outside TLS (sockets, timeouts). */
void net_local_error(tlsv_error *err, tlsv_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- reports (json.c) -------------------------------------------------- */

/* A JSON string literal for s, or null when s is NULL. */
void json_string_or_null(FILE *out, const char *s);

/* One JSON object (and a newline) describing an established connection:
 * {"version":..,"cipher":..,"group":..,"alpn":..,"peer":..,"resumed":..[,"sni":..]}. The
 * server side adds "sni" and "client_certificates". */
void json_connection(FILE *out, const tlsv_conn *c, const char *peer, int server_side);

/* One JSON object (and a newline) describing a failure:
 * {"error":NAME,"alert":NAME|null,"side":"local"|"remote"|null,"reason":TEXT}. */
void json_failure(FILE *out, const tlsv_error *err);

/* The summary of an established connection, without "tlsv: " and newline:
 * "VERSION CIPHER GROUP[ resumed][ alpn=PROTO]", e.g. "TLSv1.3 TLS_AES_128_GCM_SHA256
 * x25519 alpn=h2" (GROUP "none" if there is none); a server adds
 * "[ sni=NAME][ client-cert=N]" (the SNI received, the client's chain length). */
void describe_connection(const tlsv_conn *c, int server_side, char *buf, size_t len);

#endif /* TLSV_TOOL_NET_H */
