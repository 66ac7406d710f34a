/*
 * fuzz_server.c -- libFuzzer target for a tlsv server connection (memory
 * mode): the input is the client's side of a connection, its first flight
 * (ClientHello, or an SSLv2-format hello) and everything after it.
 *
 * Input: [config] then flights [len u16][bytes]... (fuzz_conf.h). The config
 * byte picks one of the server contexts of fuzz_conf.h: TLS 1.3 only, TLS
 * 1.0-1.3 with RSA (RSA key exchange included), Ed25519 or ECDSA keys,
 * HelloRetryRequest-forcing group lists, client certificates requested,
 * TLS 1.0-1.1 only. Each flight is fed and the handshake driven
 * (fuzz_drive.h); once established, application data is read, then written,
 * and the connection shut down.
 *
 * Seeds (fuzz/corpus/server) are real client flights recorded by
 * make_corpus.c against the same contexts; with the fixed random sequence of
 * a TLSV_FUZZING build the server's answers, keys included, are the ones the
 * recording saw, so seeds run whole handshakes (Finished verified, data read).
 */
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "fuzz_conf.h"
#include "fuzz_drive.h"

static tlsv_ctx *ctxs[FS_COUNT];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int which = data[0] % FS_COUNT;
    if (!ctxs[which])
        ctxs[which] = fuzz_server_ctx(which);
    tlsv_fuzz_reset_random();
    tlsv_error err;
    tlsv_conn *c = tlsv_conn_new(ctxs[which], TLSV_ROLE_SERVER, NULL, &err);
    FUZZ_CHECK(c != NULL);
    fuzz_drive(c, data + 1, size - 1);
    tlsv_conn_free(c);
    return 0;
}
