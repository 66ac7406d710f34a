/*
 * preview.c -- version negotiation between two configurations, without I/O.
 *
 * The same three policy steps a handshake takes (version.h): the client's
 * offer, the server's choice, the client's check of the ServerHello. The
 * one step outside the version policy is the cipher-suite check after the
 * server's choice: a client sends suites only for the versions it enables,
 * so a TLS 1.3-only client has nothing to offer a server that picks TLS 1.2
 * (NO_SHARED_CIPHER); tlsv_vp_offer_has_suites_for() models exactly that.
 */
#include <string.h>

#include "context.h"
#include "err.h"
#include "version.h"

/* The peer's view of a failure: it received the alert the deciding side sent. */
static void peer_view(tlsv_error *peer, const tlsv_error *decider)
{
    if (decider->alert == TLSV_ALERT_NONE) {
        tlsv_err_clear(peer);
        return;
    }
    tlsv_err_set(peer, tlsv_reason_for_alert(decider->alert), decider->alert, TLSV_SIDE_REMOTE,
                 "the peer sent a fatal %s alert (its reason: %s)",
                 tlsv_alert_name(decider->alert), tlsv_reason_name(decider->reason));
}

int tlsv_preview_negotiation(const tlsv_ctx *client, const tlsv_ctx *server, int fallback_scsv,
                             tlsv_preview *out)
{
    if (!out)
        return -1;
    memset(out, 0, sizeof *out);
    tlsv_err_clear(&out->client_error);
    tlsv_err_clear(&out->server_error);
    out->failed_side = TLSV_ROLE_CLIENT;
    if (!client || !server || !tlsv_ctx_allows_role(client, TLSV_ROLE_CLIENT) ||
        !tlsv_ctx_allows_role(server, TLSV_ROLE_SERVER)) {
        tlsv_err_set(&out->client_error, TLSV_R_INVALID_ARGUMENT, TLSV_ALERT_NONE,
                     TLSV_SIDE_LOCAL,
                     "a preview needs a context that can act as client and one that can act "
                     "as server (PROTOCOL_TLS_CLIENT cannot serve, PROTOCOL_TLS_SERVER "
                     "cannot connect)");
        return -1;
    }

    /* 1. the client's offer */
    tlsv_client_offer offer;
    if (tlsv_vp_client_offer(&client->vcfg, fallback_scsv != 0, &offer, &out->client_error) != 0) {
        out->failed_side = TLSV_ROLE_CLIENT;
        peer_view(&out->server_error, &out->client_error);
        return -1;
    }
    out->legacy_version = offer.legacy_version;
    out->supported_versions_ext = offer.has_supported_versions;
    out->n_offered = offer.n_versions;
    for (size_t i = 0; i < offer.n_versions; i++)
        out->offered[i] = offer.versions[i];

    /* 2. the server's choice, from what is on the wire */
    tlsv_offer_view view = {
        .legacy_version = offer.legacy_version,
        .has_supported_versions = offer.has_supported_versions,
        .versions = offer.has_supported_versions ? offer.versions : NULL,
        .n_versions = offer.has_supported_versions ? offer.n_versions : 0,
        .fallback_scsv = offer.fallback_scsv,
    };
    tlsv_server_choice choice;
    if (tlsv_vp_server_select(&server->vcfg, &view, &choice, &out->server_error) != 0) {
        out->failed_side = TLSV_ROLE_SERVER;
        peer_view(&out->client_error, &out->server_error);
        return -1;
    }
    if (!tlsv_vp_offer_has_suites_for(&offer, choice.version)) {
        tlsv_err_set(&out->server_error, TLSV_R_NO_SHARED_CIPHER, TLSV_ALERT_HANDSHAKE_FAILURE,
                     TLSV_SIDE_LOCAL,
                     "this server can only speak %s, but the client offers only TLS 1.3 "
                     "cipher suites (it enables TLSv1.3 only)",
                     tlsv_version_string(choice.version));
        out->failed_side = TLSV_ROLE_SERVER;
        peer_view(&out->client_error, &out->server_error);
        return -1;
    }
    out->server_version = choice.version;
    out->downgrade_sentinel = (int)choice.sentinel;

    /* 3. the client's check of the ServerHello */
    uint8_t random[32] = {0};
    tlsv_vp_write_sentinel(choice.sentinel, random);
    tlsv_server_hello_view sh = {
        .legacy_version = choice.version >= TLSV_V_TLS13 ? TLSV_V_TLS12 : choice.version,
        .has_supported_versions = choice.version >= TLSV_V_TLS13,
        .selected_version = choice.version,
        .random = random,
    };
    uint16_t negotiated;
    if (tlsv_vp_client_check(&client->vcfg, &offer, &sh, &negotiated, &out->client_error) != 0) {
        out->failed_side = TLSV_ROLE_CLIENT;
        peer_view(&out->server_error, &out->client_error);
        return -1;
    }
    out->ok = 1;
    out->version = negotiated;
    return 0;
}
