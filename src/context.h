/*
 * context.h -- the tlsv_ctx structure, shared by the files that read a
 * context's configuration (connections, the preview, later the engine).
 */
#ifndef TLSV_CONTEXT_H
#define TLSV_CONTEXT_H

#include "tlsv.h"
#include "version.h"

struct tlsv_ctx {
    tlsv_vcfg vcfg;        /* protocol, options, version bounds: see version.h */
    int verify_mode;       /* TLSV_CERT_* */
    int check_hostname;    /* 0 or 1 */
    unsigned refs;         /* the owner plus each connection made from it */
    tlsv_error last_error; /* the last failure of a call on this context */
};

/* Takes / drops a reference (connections keep their context alive). */
tlsv_ctx *tlsv_ctx_ref(tlsv_ctx *ctx);
void tlsv_ctx_unref(tlsv_ctx *ctx);

/* Whether a context may play a role (TLS_CLIENT only as client, TLS_SERVER
 * only as server, every other protocol either way). */
int tlsv_ctx_allows_role(const tlsv_ctx *ctx, tlsv_role role);

#endif /* TLSV_CONTEXT_H */
