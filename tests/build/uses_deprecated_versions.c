/* Uses deprecated version values and flags: each use must warn. */
#include "tlsv.h"

int lower_floor(tlsv_ctx *ctx);
int lower_floor(tlsv_ctx *ctx)
{
    tlsv_ctx_add_options(ctx, TLSV_OP_NO_TLSv1_1);
    return tlsv_ctx_set_minimum_version(ctx, TLSV_VERSION_TLSv1);
}
