/* A program built against an installed tlsv. */
#include <stdio.h>
#include <string.h>

#include "tlsv.h"

int main(void)
{
    tlsv_error err;
    tlsv_ctx *ctx = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, &err);
    if (!ctx)
        return 1;
    int ok = tlsv_ctx_get_minimum_version(ctx) == TLSV_VERSION_TLSv1_2 &&
             strcmp(tlsv_library_version(), TLSV_VERSION_TEXT) == 0;
    tlsv_ctx_free(ctx);
    printf("consumer: %s\n", ok ? "ok" : "wrong");
    return ok ? 0 : 1;
}
