/*
 * trace.c -- descriptions for the handshake trace. See trace.h.
 */
#include "trace.h"

#include <stdio.h>

#include "engine/msg.h"

size_t tlsv_trace_describe(const uint8_t *msg, size_t len, uint16_t version, char *out,
                           size_t cap)
{
    (void)version;
    if (cap == 0)
        return 0;
    int n = snprintf(out, cap, "%s (%zu bytes)", len ? tlsv_hs_type_name(msg[0]) : "(empty)",
                     len >= 4 ? len - 4 : 0);
    return n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap - 1);
}
