/*
 * fuzz_client.c -- libFuzzer target for a tlsv client connection (memory
 * mode): the client writes its ClientHello (the same bytes every time: a
 * TLSV_FUZZING build draws from a fixed random sequence, restarted for every
 * input), then the input is fed as the server's flights -- ServerHello or
 * HelloRetryRequest, the encrypted or plaintext rest of the handshake, then
 * application data, post-handshake messages and alerts.
 *
 * Input: [config] then flights [len u16][bytes]... (fuzz_conf.h). The config
 * byte picks one of the client contexts of fuzz_conf.h (defaults, TLS
 * 1.0-1.3, 1.3 only, 1.2 only, 1.0-1.1, certificate verification with a
 * client certificate and ALPN, a P-256 first key share).
 *
 * Seeds (fuzz/corpus/client) are real server flights recorded by
 * make_corpus.c against these same clients: they replay to the end.
 */
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "fuzz_conf.h"
#include "fuzz_drive.h"

static tlsv_ctx *ctxs[FC_COUNT];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int which = data[0] % FC_COUNT;
    if (!ctxs[which])
        ctxs[which] = fuzz_client_ctx(which);
    tlsv_fuzz_reset_random();
    tlsv_error err;
    tlsv_conn *c = tlsv_conn_new(ctxs[which], TLSV_ROLE_CLIENT, "localhost", &err);
    FUZZ_CHECK(c != NULL);
    fuzz_drive(c, data + 1, size - 1);
    tlsv_conn_free(c);
    return 0;
}
