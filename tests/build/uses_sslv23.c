/* Uses a deprecated protocol constant: must warn (and fail with
 * -Werror=deprecated-declarations). */
#include "tlsv.h"

int make_context(void);
int make_context(void)
{
    tlsv_ctx *ctx = tlsv_ctx_new(TLSV_PROTOCOL_SSLv23, NULL);
    tlsv_ctx_free(ctx);
    return ctx != NULL;
}
