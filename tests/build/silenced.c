/* TLSV_SILENCE_DEPRECATION turns the deprecation warnings off. */
#define TLSV_SILENCE_DEPRECATION
#include "tlsv.h"

int make_context(void);
int make_context(void)
{
    tlsv_ctx *ctx = tlsv_ctx_new(TLSV_PROTOCOL_TLSv1_2, NULL);
    tlsv_ctx_add_options(ctx, TLSV_OP_NO_TLSv1);
    tlsv_ctx_free(ctx);
    return ctx != NULL;
}
