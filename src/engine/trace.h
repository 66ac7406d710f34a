/*
 * trace.h -- readable one-line descriptions of handshake messages, records
 * and alerts, for the trace callback (tlsv_ctx_set_trace_callback).
 */
#ifndef TLSV_TRACE_H
#define TLSV_TRACE_H

#include <stddef.h>
#include <stdint.h>

/* Describes one handshake message (msg includes its 4-byte header) into
 * out, e.g. "ClientHello legacy_version=TLSv1.2 versions=[TLSv1.3,TLSv1.2]
 * suites=[...] groups=[...] key_share=[x25519] sni=localhost". version is
 * the negotiated version if known (0 before), which some messages need to
 * be parsed. A message that does not parse is described as such. Returns
 * the length written (always NUL-terminated when cap > 0). */
size_t tlsv_trace_describe(const uint8_t *msg, size_t len, uint16_t version, char *out,
                           size_t cap);

#endif /* TLSV_TRACE_H */
