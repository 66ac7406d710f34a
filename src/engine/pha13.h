/*
 * pha13.h -- TLS 1.3 post-handshake client authentication (RFC 8446
 * §4.2.6, §4.3.2, §4.4, §4.6.2).
 *
 * When the client offered post_handshake_auth and the context allows it,
 * the handshake state machines call tlsv_pha_begin() at the client's
 * Finished: it keeps a copy of the transcript hash state through that
 * Finished, the "Handshake Context" every later authentication starts from
 * (§4.4: ClientHello ... client Finished + CertificateRequest). Each
 * exchange is then
 *
 *   server                         client
 *   CertificateRequest(ctx)  --->
 *                            <---  Certificate(ctx) [CertificateVerify] Finished
 *
 * with CertificateVerify over Hash(handshake context + CertificateRequest +
 * Certificate) and Finished = HMAC(finished_key, Hash(... + CertificateVerify))
 * where finished_key = HKDF-Expand-Label(client_application_traffic_secret_N,
 * "finished", "", Hash.length) -- N being the generation in use (the one
 * that protects the client's Finished record: KeyUpdates move it on).
 *
 * The server may have up to TLSV_MAX_PHA_PENDING requests outstanding; the
 * client may answer them in any order (§4.6.2: the context tells which).
 * A client answers each request as it reads it, at most
 * TLSV_MAX_PHA_IN_ROW without application data from the server between.
 */
#ifndef TLSV_PHA13_H
#define TLSV_PHA13_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "engine/tls13.h"

/* Both sides, at the client's Finished (tr: the transcript through it).
 * Creates e->pha. Returns 0, or -1 after tlsv_engine_fail. */
int tlsv_pha_begin(tlsv_engine *e, tlsv_transcript *tr);
/* Frees e->pha (tlsv_engine_free). */
void tlsv_pha_free(tlsv_engine *e);

/* Server: queues a CertificateRequest with a fresh context. The caller
 * checked the state (established TLS 1.3, e->pha set, fewer than
 * TLSV_MAX_PHA_PENDING outstanding, no close_notify sent). Returns 0, or -1
 * after tlsv_engine_fail. */
int tlsv_pha_request(tlsv_engine *e);
/* Server: requests sent and not yet answered completely. */
size_t tlsv_pha_pending(const tlsv_engine *e);

/* engine.c, for each TLS 1.3 post-handshake message: whether it belongs
 * to post-handshake authentication (client: CertificateRequest; server:
 * Certificate, CertificateVerify, Finished, and anything at all while an
 * answer is half read), then tlsv_pha_message handles it. Returns 0, or -1
 * after tlsv_engine_fail. */
bool tlsv_pha_takes(const tlsv_engine *e, uint8_t type);
int tlsv_pha_message(tlsv_engine *e, uint8_t type, const uint8_t *msg, size_t len);

#endif /* TLSV_PHA13_H */
