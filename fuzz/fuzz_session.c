/*
 * fuzz_session.c -- libFuzzer target for the bytes of a session
 * (tlsv_session_from_bytes / tlsv_session_to_bytes): what an application
 * reads back from a file or a cache it does not fully trust (the tool's
 * --sess-in).
 *
 * The input is the bytes. from_bytes must refuse them or return a session;
 * a session is asked for its time and lifetime, written back with to_bytes
 * (asked for the size first, then into a buffer of exactly that size), and
 * the bytes written must be the input itself: the format has exactly one
 * encoding of each session (fixed-width integers, exact lengths, no
 * trailing bytes, flags with no free bits), so anything accepted
 * round-trips. A second from_bytes of the output must succeed too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tlsv.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tlsv_error err;
    tlsv_session *s = tlsv_session_from_bytes(data, size, &err);
    if (!s) {
        if (err.reason == TLSV_R_OK)
            abort(); /* a refusal always says why */
        return 0;
    }
    if (tlsv_session_time(s) < 0 || tlsv_session_lifetime_hint(s) < 0)
        abort();
    size_t need = tlsv_session_to_bytes(s, NULL, 0);
    uint8_t *out = malloc(need ? need : 1);
    if (!out)
        abort();
    if (tlsv_session_to_bytes(s, out, need) != need || need != size || memcmp(out, data, size) != 0)
        abort(); /* accepted bytes must be written back exactly */
    tlsv_session *again = tlsv_session_from_bytes(out, need, &err);
    if (!again)
        abort();
    tlsv_session_free(again);
    free(out);
    tlsv_session_free(s);
    return 0;
}
