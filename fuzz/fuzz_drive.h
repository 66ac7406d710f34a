/*
 * fuzz_drive.h -- runs one memory-mode tlsv_conn on fuzzer input: the peer's
 * flights, fed one at a time (framing in fuzz_conf.h), the handshake driven
 * after each, application data read once it is established, then a write,
 * a shutdown and an EOF. Shared by fuzz_server.c and fuzz_client.c.
 *
 * Checked (abort() on violation): every call returns a documented value; a
 * failure (-1) leaves an error record with a reason and a message; once the
 * handshake is complete the connection reports a version, a cipher and a
 * group; output is never pending once taken.
 */
#ifndef TLSV_FUZZ_DRIVE_H
#define TLSV_FUZZ_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlsv.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static inline void fuzz_drain(tlsv_conn *c)
{
    static uint8_t out[8192];
    while (tlsv_conn_pending_output(c) > 0)
        FUZZ_CHECK(tlsv_conn_take_output(c, out, sizeof out) > 0);
    FUZZ_CHECK(tlsv_conn_take_output(c, out, sizeof out) == 0);
}

static inline void fuzz_failed(tlsv_conn *c)
{
    const tlsv_error *e = tlsv_conn_last_error(c);
    FUZZ_CHECK(e && e->reason != TLSV_R_OK && e->message[0] != '\0');
    FUZZ_CHECK(memchr(e->message, '\0', sizeof e->message) != NULL);
    FUZZ_CHECK(tlsv_reason_name(e->reason) != NULL);
}

static inline void fuzz_established(tlsv_conn *c)
{
    FUZZ_CHECK(tlsv_conn_version(c) != NULL);
    int v = tlsv_conn_version_number(c);
    FUZZ_CHECK(v >= 0x0300 && v <= 0x0304);
    FUZZ_CHECK(tlsv_conn_cipher(c) != NULL);
    (void)tlsv_conn_group(c);
    (void)tlsv_conn_alpn_selected(c);
    (void)tlsv_conn_server_name(c);
    size_t n = tlsv_conn_peer_cert_count(c);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        const uint8_t *der = tlsv_conn_peer_cert_der(c, i, &len);
        FUZZ_CHECK(der && len > 0);
    }
}

/* Reads until there is nothing more; returns false once the connection
 * failed or closed. */
static inline bool fuzz_read_all(tlsv_conn *c)
{
    static uint8_t buf[4096];
    for (int i = 0; i < 64; i++) {
        long r = tlsv_conn_read(c, buf, sizeof buf);
        if (r > 0) {
            FUZZ_CHECK((size_t)r <= sizeof buf);
            continue;
        }
        if (r == TLSV_WANT_READ || r == TLSV_WANT_WRITE)
            return true;
        if (r == 0)
            return false;
        FUZZ_CHECK(r == -1);
        fuzz_failed(c);
        return false;
    }
    return true;
}

static inline void fuzz_drive(tlsv_conn *c, const uint8_t *p, size_t n)
{
    int hs = tlsv_conn_handshake(c);
    FUZZ_CHECK(hs == 0 || hs == -1 || hs == TLSV_WANT_READ || hs == TLSV_WANT_WRITE);
    fuzz_drain(c);
    bool alive = hs != -1;
    if (hs == -1)
        fuzz_failed(c);
    while (n > 0 && alive) {
        size_t len = n;
        if (n >= 2) {
            len = (size_t)p[0] << 8 | p[1];
            p += 2;
            n -= 2;
            if (len > n)
                len = n;
        }
        FUZZ_CHECK(tlsv_conn_feed(c, p, len) == 0);
        p += len;
        n -= len;
        if (hs != 0) {
            hs = tlsv_conn_handshake(c);
            FUZZ_CHECK(hs == 0 || hs == -1 || hs == TLSV_WANT_READ || hs == TLSV_WANT_WRITE);
            if (hs == -1) {
                fuzz_failed(c);
                alive = false;
            } else if (hs == 0) {
                fuzz_established(c);
            }
        }
        if (hs == 0)
            alive = fuzz_read_all(c);
        fuzz_drain(c);
    }
    if (alive && hs == 0) {
        static const char msg[] = "HTTP/1.0 200 OK\r\n\r\n";
        long w = tlsv_conn_write(c, msg, sizeof msg - 1);
        FUZZ_CHECK(w == (long)(sizeof msg - 1) || w == -1);
        int s = tlsv_conn_shutdown(c);
        FUZZ_CHECK(s == 0 || s == 1 || s == -1 || s == TLSV_WANT_WRITE);
        fuzz_drain(c);
    }
    if (alive) {
        tlsv_conn_feed_eof(c);
        (void)fuzz_read_all(c);
        fuzz_drain(c);
    }
}

#endif /* TLSV_FUZZ_DRIVE_H */
