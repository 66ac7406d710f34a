/* Uses only non-deprecated names: must compile cleanly under -Werror. */
#include "tlsv.h"

int make_context(void);
int make_context(void)
{
    tlsv_ctx *ctx = tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, NULL);
    tlsv_ctx_set_minimum_version(ctx, TLSV_VERSION_TLSv1_2);
    tlsv_ctx_add_options(ctx, TLSV_OP_NO_COMPRESSION | TLSV_OP_ALL);
    tlsv_ctx_free(ctx);
    return ctx != NULL;
}
