/*
 * test_oracle_matrix.c -- replays the oracle's negotiation matrix and its
 * simulated downgrade attacks (tests/data/oracle/) against tlsv.
 *
 * For every cell of negotiation-matrix.json in the `tlsv` variant (the
 * outcomes tlsv must produce, oracle README "How tlsv should read this
 * oracle" (b)) and in the `legacy` variant (the same model without the
 * default minimum), this test
 *   1. builds the client and the server context from the cell's spec, in
 *      the order of the oracle's harness.py (protocol, [legacy: minimum_version
 *      = MINIMUM_SUPPORTED on auto contexts], options, min, max);
 *   2. checks that they read back the cell's "config" (options, bounds);
 *   3. runs the negotiation twice -- step by step through the internal
 *      policy API of src/version.h, and through the public
 *      tlsv_preview_negotiation() -- and compares both with the cell's
 *      result: the ClientHello (sent or not, legacy_version,
 *      supported_versions, offered versions), the ServerHello (sent or not,
 *      version, downgrade sentinel), success and version, or the failing
 *      side with its reason and the alert it sends. The cipher suite is not
 *      part of the comparison (the oracle's README: "Cipher choice itself is
 *      not part of the oracle").
 * Every mismatch is collected and printed; the test fails if there is any.
 *
 * downgrade.json's "simulated_in_process" attacks (an on-path attacker that
 * rewrites the ClientHello) are replayed at the policy level the same way,
 * with the rewrite applied to what the server reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "oracle_util.h"
#include "version.h"

/* Cells per variant in the oracle's matrix (188 shapes, oracle README). A
 * loader that silently finds fewer must not pass; if a regenerated oracle
 * changes the shape of the matrix, update this number. */
#define CELLS_PER_VARIANT 188

static json_t *g_matrix;    /* negotiation-matrix.json */
static json_t *g_downgrade; /* downgrade.json */

/* ---------------------------------------------------------------------- */
/* An outcome, in the oracle's terms                                      */
/* ---------------------------------------------------------------------- */

/* What one negotiation looked like. Kept as text, in the oracle's
 * spelling, so the oracle's record and tlsv's result compare and print the
 * same way. The fields marked "policy path only" stay empty ("") where tlsv
 * does not expose them (the public preview); empty ones are not compared. */
typedef struct outcome {
    bool client_hello;          /* a ClientHello was sent */
    char legacy_version[16];    /* its legacy_version, "TLSv1.2" */
    char sv_ext[64];            /* its supported_versions: "null" or "TLSv1.3,TLSv1.2" */
    char offered[64];           /* "TLSv1.3,TLSv1.2", or "<=TLSv1.1" without the extension */
    char record_version[16];    /* policy path only: version of the first record */
    char fallback_scsv[8];      /* policy path only: "true" / "false" */
    bool server_hello;          /* a ServerHello was sent */
    char negotiated[16];        /* the version it negotiates on the wire */
    char sentinel[16];          /* "null", "DOWNGRD\x01", "DOWNGRD\x00" (backslash as text) */
    char sh_legacy_version[16]; /* policy path only: ServerHello.legacy_version */
    char sh_selected_ext[16];   /* policy path only: its supported_versions, or "null" */
    bool ok;                    /* the handshake's version negotiation succeeded */
    char version[16];           /* on success: the negotiated version */
    char error_side[16];        /* on failure: "client" or "server", who decided */
    char reason[64];            /* on failure: the deciding side's reason name */
    char alert[48];             /* on failure: the alert the deciding side sends, or "none" */
} outcome;

#define SET(field, ...) snprintf(field, sizeof field, __VA_ARGS__)

static const char SENTINEL_TLS12[] = "DOWNGRD\\x01"; /* backslash-x-0-1 as in the JSON text */
static const char SENTINEL_TLS11[] = "DOWNGRD\\x00";

/* A wire version as the oracle spells it ("TLSv1.2"), or its number. */
static const char *vstr(int v, char *buf, size_t len)
{
    const char *s = tlsv_version_string(v);
    if (s)
        return s;
    snprintf(buf, len, "0x%04x", (unsigned)v);
    return buf;
}

/* Joins versions as "TLSv1.3,TLSv1.2". */
static void join_versions(const uint16_t *v, size_t n, char *out, size_t len)
{
    size_t used = 0;
    char tmp[16];
    out[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        int w = snprintf(out + used, len - used, "%s%s", i ? "," : "", vstr(v[i], tmp, sizeof tmp));
        if (w < 0)
            return;
        used += (size_t)w;
    }
}

/* Joins the strings of a JSON list with ","; false if it is not a list of
 * strings. With `key` set, joins that member of each object instead. */
static bool join_json(const json_t *list, const char *key, char *out, size_t len)
{
    size_t i, used = 0;
    json_t *item;
    out[0] = '\0';
    if (!json_is_array(list))
        return false;
    json_array_foreach(list, i, item) {
        const char *s = key ? oracle_str(item, key) : json_string_value(item);
        if (!s || used >= len)
            return false;
        int w = snprintf(out + used, len - used, "%s%s", i ? "," : "", s);
        if (w < 0)
            return false;
        used += (size_t)w;
    }
    return used < len;
}

static const char *sentinel_text(tlsv_sentinel s)
{
    switch (s) {
    case TLSV_SENTINEL_TLS12: return SENTINEL_TLS12;
    case TLSV_SENTINEL_TLS11: return SENTINEL_TLS11;
    default: return "null";
    }
}

/* Records a failure decided by `side` ("client" / "server"). */
static void set_failure(outcome *o, const char *side, const tlsv_error *err)
{
    o->ok = false;
    o->version[0] = '\0';
    SET(o->error_side, "%s", side);
    /* The deciding side's own error must say it decided (LOCAL). */
    SET(o->reason, "%s%s", tlsv_reason_name(err->reason),
        err->side == TLSV_SIDE_LOCAL ? "" : " (error side is not LOCAL)");
    if (err->alert == TLSV_ALERT_NONE)
        SET(o->alert, "none");
    else if (tlsv_alert_name(err->alert))
        SET(o->alert, "%s", tlsv_alert_name(err->alert));
    else
        SET(o->alert, "alert %d", err->alert);
}

/* Reads the oracle's record of a handshake ("result" of a cell) into *o.
 * Returns false, with a line in diffs, if something is not in the
 * expected shape (a test must not pass by misreading its oracle). */
static bool oracle_outcome(const json_t *result, outcome *o, oracle_report *diffs)
{
    memset(o, 0, sizeof *o);
    if (!json_is_boolean(json_object_get(result, "ok"))) {
        oracle_report_add(diffs, "    oracle: result has no boolean \"ok\"\n");
        return false;
    }
    o->ok = json_is_true(json_object_get(result, "ok"));

    const json_t *ch = json_object_get(result, "client_hello");
    if (json_is_object(ch)) {
        const json_t *sv = json_object_get(ch, "supported_versions_ext");
        o->client_hello = true;
        SET(o->legacy_version, "%s",
            oracle_str(ch, "legacy_version") ? oracle_str(ch, "legacy_version") : "?");
        if (json_is_null(sv))
            SET(o->sv_ext, "null");
        else if (!join_json(sv, NULL, o->sv_ext, sizeof o->sv_ext))
            goto bad_ch;
        if (!join_json(json_object_get(ch, "offered_versions"), NULL, o->offered,
                       sizeof o->offered))
            goto bad_ch;
        SET(o->record_version, "%s",
            oracle_str(ch, "record_version") ? oracle_str(ch, "record_version") : "?");
        SET(o->fallback_scsv, "%s",
            json_is_true(json_object_get(ch, "fallback_scsv")) ? "true" : "false");
    } else if (!json_is_null(ch)) {
        goto bad_ch;
    }

    const json_t *sh = json_object_get(result, "server_hello");
    if (json_is_object(sh)) {
        const char *sentinel = oracle_str(sh, "downgrade_sentinel");
        const char *sel = oracle_str(sh, "selected_version_ext");
        o->server_hello = true;
        SET(o->negotiated, "%s",
            oracle_str(sh, "negotiated_on_wire") ? oracle_str(sh, "negotiated_on_wire") : "?");
        if (json_is_null(json_object_get(sh, "downgrade_sentinel")))
            SET(o->sentinel, "null");
        else if (sentinel && strncmp(sentinel, SENTINEL_TLS12, strlen(SENTINEL_TLS12)) == 0)
            SET(o->sentinel, "%s", SENTINEL_TLS12);
        else if (sentinel && strncmp(sentinel, SENTINEL_TLS11, strlen(SENTINEL_TLS11)) == 0)
            SET(o->sentinel, "%s", SENTINEL_TLS11);
        else
            SET(o->sentinel, "%s", sentinel ? sentinel : "?"); /* unknown: will not match */
        SET(o->sh_legacy_version, "%s",
            oracle_str(sh, "legacy_version") ? oracle_str(sh, "legacy_version") : "?");
        SET(o->sh_selected_ext, "%s", sel ? sel : "null");
    } else if (!json_is_null(sh)) {
        oracle_report_add(diffs, "    oracle: server_hello is neither null nor an object\n");
        return false;
    }

    if (o->ok) {
        const char *v = oracle_str(result, "version");
        SET(o->version, "%s", v ? v : "?");
        return true;
    }
    /* A failure: the side that raised first decided it; its reason and the
     * alert it sent (client -> server when the client decided). */
    const char *side = oracle_str(result, "error_side");
    SET(o->error_side, "%s", side ? side : "?");
    bool client = side && strcmp(side, "client") == 0;
    const json_t *err = json_object_get(result, client ? "client_error" : "server_error");
    const char *reason = oracle_str(err, "reason");
    SET(o->reason, "%s", reason ? reason : "?");
    if (!join_json(
            json_object_get(result, client ? "alerts_client_to_server" : "alerts_server_to_client"),
            "description", o->alert, sizeof o->alert)) {
        oracle_report_add(diffs, "    oracle: alerts list unreadable\n");
        return false;
    }
    if (!o->alert[0])
        SET(o->alert, "none");
    return true;

bad_ch:
    oracle_report_add(diffs, "    oracle: client_hello unreadable\n");
    return false;
}

/* Compares tlsv's outcome (on the path named `path`) with the oracle's and
 * appends a line per difference. Returns the number of differences. */
static int compare_outcome(const char *path, const outcome *want, const outcome *got,
                           oracle_report *diffs)
{
    int n = 0;
#define DIFF_STR(field, label)                                                                     \
    do {                                                                                           \
        if (strcmp(want->field, got->field) != 0) {                                                \
            oracle_report_add(diffs, "    %s: %s: oracle \"%s\", tlsv \"%s\"\n", path, label,      \
                              want->field, got->field);                                            \
            n++;                                                                                   \
        }                                                                                          \
    } while (0)
/* fields tlsv does not expose on every path: compared where it does */
#define DIFF_STR_IF_KNOWN(field, label)                                                            \
    do {                                                                                           \
        if (got->field[0])                                                                         \
            DIFF_STR(field, label);                                                                \
    } while (0)

    if (want->client_hello != got->client_hello) {
        oracle_report_add(diffs, "    %s: client_hello: oracle %s, tlsv %s\n", path,
                          want->client_hello ? "sent" : "null (none sent)",
                          got->client_hello ? "sent" : "null (none sent)");
        n++;
    } else if (want->client_hello) {
        DIFF_STR(legacy_version, "client_hello.legacy_version");
        DIFF_STR(sv_ext, "client_hello.supported_versions_ext");
        DIFF_STR(offered, "client_hello.offered_versions");
        DIFF_STR_IF_KNOWN(record_version, "client_hello.record_version");
        DIFF_STR_IF_KNOWN(fallback_scsv, "client_hello.fallback_scsv");
    }
    if (want->server_hello != got->server_hello) {
        oracle_report_add(diffs, "    %s: server_hello: oracle %s, tlsv %s\n", path,
                          want->server_hello ? "sent" : "null (none sent)",
                          got->server_hello ? "sent" : "null (none sent)");
        n++;
    } else if (want->server_hello) {
        DIFF_STR(negotiated, "server_hello.negotiated_on_wire");
        DIFF_STR(sentinel, "server_hello.downgrade_sentinel");
        DIFF_STR_IF_KNOWN(sh_legacy_version, "server_hello.legacy_version");
        DIFF_STR_IF_KNOWN(sh_selected_ext, "server_hello.selected_version_ext");
    }
    if (want->ok != got->ok) {
        if (got->ok)
            oracle_report_add(diffs, "    %s: ok: oracle false, tlsv true (%s)\n", path,
                              got->version);
        else
            oracle_report_add(diffs,
                              "    %s: ok: oracle true (%s), tlsv false (%s: %s, alert %s)\n", path,
                              want->version, got->error_side, got->reason, got->alert);
        n++;
    }
    if (want->ok && got->ok) {
        DIFF_STR(version, "version");
    } else if (!want->ok && !got->ok) {
        DIFF_STR(error_side, "error_side");
        DIFF_STR(reason, "reason of the deciding side");
        DIFF_STR(alert, "alert sent by the deciding side");
    } else if (!want->ok) {
        oracle_report_add(diffs, "    %s:   (oracle failure: %s, %s, alert %s)\n", path,
                          want->error_side, want->reason, want->alert);
    }
#undef DIFF_STR_IF_KNOWN
#undef DIFF_STR
    return n;
}

/* ---------------------------------------------------------------------- */
/* tlsv's two paths                                                       */
/* ---------------------------------------------------------------------- */

/* The version-related configuration, as a context reads it back. */
static tlsv_vcfg vcfg_of(const tlsv_ctx *ctx)
{
    tlsv_vcfg cfg = {
        .protocol = tlsv_ctx_get_protocol(ctx),
        .options = tlsv_ctx_get_options(ctx),
        .min_version = tlsv_ctx_get_minimum_version(ctx),
        .max_version = tlsv_ctx_get_maximum_version(ctx),
    };
    return cfg;
}

/* What an on-path attacker does to the ClientHello (downgrade.json). */
typedef enum attack_kind {
    ATTACK_NONE = 0,
    ATTACK_STRIP_SUPPORTED_VERSIONS, /* drop the supported_versions extension */
    ATTACK_REWRITE_LEGACY_VERSION,   /* change legacy_version `from` -> `to` */
    ATTACK_INJECT_FALLBACK_SCSV      /* add TLS_FALLBACK_SCSV to the suites */
} attack_kind;

typedef struct attack {
    attack_kind kind;
    unsigned from, to;
} attack;

/* Runs the negotiation through the policy functions of version.h, one
 * step at a time, as a handshake does: the client's offer; (the attacker's
 * rewrite, if any, of what the server reads); the server's choice; the
 * cipher-suite stage; the ServerHello; the client's check of it. */
static void run_policy(const tlsv_ctx *cctx, const tlsv_ctx *sctx, const attack *atk, outcome *o)
{
    tlsv_vcfg ccfg = vcfg_of(cctx), scfg = vcfg_of(sctx);
    tlsv_client_offer offer;
    tlsv_server_choice choice;
    tlsv_error err;
    char tmp[16];

    memset(o, 0, sizeof *o);
    memset(&err, 0, sizeof err);

    /* 1. the client's offer (no ClientHello at all if it fails) */
    if (tlsv_vp_client_offer(&ccfg, false, &offer, &err) != 0) {
        set_failure(o, "client", &err);
        return;
    }
    tlsv_offer_view view = {
        .legacy_version = offer.legacy_version,
        .has_supported_versions = offer.has_supported_versions,
        .versions = offer.has_supported_versions ? offer.versions : NULL,
        .n_versions = offer.has_supported_versions ? offer.n_versions : 0,
        .fallback_scsv = offer.fallback_scsv,
    };
    if (atk) {
        switch (atk->kind) {
        case ATTACK_STRIP_SUPPORTED_VERSIONS:
            view.has_supported_versions = false;
            view.versions = NULL;
            view.n_versions = 0;
            break;
        case ATTACK_REWRITE_LEGACY_VERSION:
            /* only if the ClientHello carries the value the attacker
             * replaces; otherwise the comparison shows the difference */
            if (view.legacy_version == atk->from)
                view.legacy_version = (uint16_t)atk->to;
            break;
        case ATTACK_INJECT_FALLBACK_SCSV: view.fallback_scsv = true; break;
        case ATTACK_NONE: break;
        }
    }
    /* The ClientHello as the server reads it (the oracle records it after
     * the attacker's rewrite). */
    o->client_hello = true;
    SET(o->legacy_version, "%s", vstr(view.legacy_version, tmp, sizeof tmp));
    if (view.has_supported_versions) {
        join_versions(view.versions, view.n_versions, o->sv_ext, sizeof o->sv_ext);
        SET(o->offered, "%s", o->sv_ext);
    } else {
        SET(o->sv_ext, "null");
        SET(o->offered, "<=%s", vstr(view.legacy_version, tmp, sizeof tmp));
    }
    SET(o->record_version, "%s", vstr(offer.record_version, tmp, sizeof tmp));
    SET(o->fallback_scsv, "%s", view.fallback_scsv ? "true" : "false");

    /* 2. the server's choice */
    if (tlsv_vp_server_select(&scfg, &view, &choice, &err) != 0) {
        set_failure(o, "server", &err);
        return;
    }
    /* 3. the cipher-suite stage: the client sends suites only for the
     * versions it enables, so a TLS 1.3-only client has none for a server
     * that can only pick TLS 1.2 (oracle cell #557, NO_SHARED_CIPHER). The
     * alert is handshake_failure, as in the oracle and preview.c. */
    if (!tlsv_vp_offer_has_suites_for(&offer, choice.version)) {
        tlsv_error nsc = {.reason = TLSV_R_NO_SHARED_CIPHER,
                          .alert = TLSV_ALERT_HANDSHAKE_FAILURE,
                          .side = TLSV_SIDE_LOCAL};
        set_failure(o, "server", &nsc);
        return;
    }

    /* 4. the ServerHello: legacy_version is at most TLS 1.2 (RFC 8446
     * §4.1.3), supported_versions only for TLS 1.3, the sentinel in the
     * last 8 bytes of random (the rest is an arbitrary pattern). */
    uint8_t random[32];
    for (size_t i = 0; i < sizeof random; i++)
        random[i] = (uint8_t)(0xa5 ^ (i * 13));
    tlsv_vp_write_sentinel(choice.sentinel, random);
    tlsv_server_hello_view sh = {
        .legacy_version = choice.version < TLSV_V_TLS12 ? choice.version : TLSV_V_TLS12,
        .has_supported_versions = choice.version >= TLSV_V_TLS13,
        .selected_version = choice.version,
        .random = random,
    };
    o->server_hello = true;
    SET(o->negotiated, "%s", vstr(choice.version, tmp, sizeof tmp));
    SET(o->sentinel, "%s", sentinel_text(tlsv_vp_read_sentinel(random)));
    SET(o->sh_legacy_version, "%s", vstr(sh.legacy_version, tmp, sizeof tmp));
    SET(o->sh_selected_ext, "%s",
        sh.has_supported_versions ? vstr(sh.selected_version, tmp, sizeof tmp) : "null");

    /* 5. the client's check of the ServerHello */
    uint16_t negotiated = 0;
    if (tlsv_vp_client_check(&ccfg, &offer, &sh, &negotiated, &err) != 0) {
        set_failure(o, "client", &err);
        return;
    }
    o->ok = true;
    SET(o->version, "%s", vstr(negotiated, tmp, sizeof tmp));
}

/* Runs the negotiation through the public tlsv_preview_negotiation(). */
static void run_preview(const tlsv_ctx *cctx, const tlsv_ctx *sctx, outcome *o)
{
    tlsv_preview p;
    char tmp[16];
    uint16_t offered[6];

    memset(o, 0, sizeof *o);
    int rc = tlsv_preview_negotiation(cctx, sctx, 0, &p);
    /* n_offered 0: no ClientHello was sent */
    o->client_hello = p.n_offered > 0;
    if (o->client_hello) {
        for (size_t i = 0; i < p.n_offered && i < 6; i++)
            offered[i] = (uint16_t)p.offered[i];
        SET(o->legacy_version, "%s", vstr(p.legacy_version, tmp, sizeof tmp));
        if (p.supported_versions_ext) {
            join_versions(offered, p.n_offered < 6 ? p.n_offered : 6, o->sv_ext, sizeof o->sv_ext);
            SET(o->offered, "%s", o->sv_ext);
        } else {
            SET(o->sv_ext, "null");
            SET(o->offered, "<=%s", vstr(p.legacy_version, tmp, sizeof tmp));
        }
    }
    /* server_version 0: no ServerHello */
    o->server_hello = p.server_version != 0;
    if (o->server_hello) {
        SET(o->negotiated, "%s", vstr(p.server_version, tmp, sizeof tmp));
        SET(o->sentinel, "%s", sentinel_text((tlsv_sentinel)p.downgrade_sentinel));
    }
    if (rc == 0 && p.ok) {
        o->ok = true;
        SET(o->version, "%s", vstr(p.version, tmp, sizeof tmp));
    } else if (rc == 0 || p.ok) {
        /* the return value and out->ok disagree: report it as the reason */
        o->ok = false;
        SET(o->error_side, "?");
        SET(o->reason, "preview returned %d with ok=%d", rc, p.ok);
    } else if (p.failed_side == TLSV_ROLE_CLIENT) {
        set_failure(o, "client", &p.client_error);
    } else {
        set_failure(o, "server", &p.server_error);
    }
}

/* ---------------------------------------------------------------------- */
/* The matrix                                                             */
/* ---------------------------------------------------------------------- */

/* "#376 base/tlsv: client {...} vs server {...}" */
static void describe_cell(const json_t *cell, oracle_report *rep)
{
    const json_t *id = json_object_get(cell, "id");
    const char *label = oracle_str(cell, "variant_label");
    char *cs = json_dumps(json_object_get(json_object_get(cell, "client"), "spec"),
                          JSON_COMPACT | JSON_ENCODE_ANY);
    char *ss = json_dumps(json_object_get(json_object_get(cell, "server"), "spec"),
                          JSON_COMPACT | JSON_ENCODE_ANY);
    oracle_report_add(
        rep, "#%lld %s/%s%s%s%s: client %s vs server %s\n", (long long)json_integer_value(id),
        oracle_str(cell, "matrix") ? oracle_str(cell, "matrix") : "?",
        oracle_str(cell, "variant") ? oracle_str(cell, "variant") : "?", label ? " \"" : "",
        label ? label : "", label ? "\"" : "", cs ? cs : "?", ss ? ss : "?");
    free(cs);
    free(ss);
}

/* Checks one cell; appends a description of every difference to `rep`
 * (and counts the cell in rep->items) if there is any. */
static void check_cell(const json_t *cell, bool legacy_floor, oracle_report *rep)
{
    oracle_report diffs = {0};
    const json_t *client = json_object_get(cell, "client");
    const json_t *server = json_object_get(cell, "server");
    const json_t *result = json_object_get(cell, "result");
    tlsv_ctx *cctx = NULL, *sctx = NULL;
    tlsv_error cerr, serr;
    char cwhy[160], swhy[160];

    oracle_build_status cst = oracle_build_ctx(json_object_get(client, "spec"), legacy_floor, &cctx,
                                               &cerr, cwhy, sizeof cwhy);
    oracle_build_status sst = oracle_build_ctx(json_object_get(server, "spec"), legacy_floor, &sctx,
                                               &serr, swhy, sizeof swhy);
    if (cst == ORACLE_BUILD_BAD_SPEC || sst == ORACLE_BUILD_BAD_SPEC) {
        oracle_report_add(&diffs, "    cannot read the spec: %s\n",
                          cst == ORACLE_BUILD_BAD_SPEC ? cwhy : swhy);
        goto done;
    }

    const char *config_error_side = oracle_str(result, "config_error_side");
    if (json_object_get(result, "config_error")) {
        /* The oracle's configuration raised: tlsv must refuse it on the same side. */
        bool client_failed = cst != ORACLE_BUILD_OK, server_failed = sst != ORACLE_BUILD_OK;
        bool want_client = config_error_side && strcmp(config_error_side, "client") == 0;
        if (!(want_client ? client_failed : server_failed))
            oracle_report_add(&diffs,
                              "    config_error on the %s side in the oracle; tlsv accepted it\n",
                              config_error_side ? config_error_side : "?");
        goto done;
    }
    if (cst != ORACLE_BUILD_OK || sst != ORACLE_BUILD_OK) {
        oracle_report_add(&diffs, "    configuration failed in tlsv: %s\n",
                          cst != ORACLE_BUILD_OK ? cwhy : swhy);
        goto done;
    }

    /* the configuration reads back as in Python */
    oracle_compare_readback(cctx, json_object_get(client, "config"), "client config", &diffs);
    oracle_compare_readback(sctx, json_object_get(server, "config"), "server config", &diffs);

    /* the negotiation, on both paths */
    outcome want, got;
    if (oracle_outcome(result, &want, &diffs)) {
        run_policy(cctx, sctx, NULL, &got);
        compare_outcome("policy", &want, &got, &diffs);
        run_preview(cctx, sctx, &got);
        compare_outcome("preview", &want, &got, &diffs);
    }

done:
    if (diffs.len) {
        rep->items++;
        describe_cell(cell, rep);
        oracle_report_append(rep, &diffs);
    }
    oracle_report_free(&diffs);
    tlsv_ctx_free(cctx);
    tlsv_ctx_free(sctx);
}

/* The oracle was recorded from a build without SSL 3.0. In a tlsv build with
 * SSL 3.0 compiled in (-DTLSV_ENABLE_SSL3=ON), cells that name SSLv3 as a
 * minimum or MINIMUM_SUPPORTED as the maximum legitimately differ: min=SSLv3
 * then really enables SSL 3.0 (it lifts OP_NO_SSLv3), and
 * max=MINIMUM_SUPPORTED stores SSLv3, the lowest compiled version. */
static bool cell_assumes_no_ssl3(const json_t *cell)
{
    const char *sides[] = {"client", "server"};
    for (size_t k = 0; k < 2; k++) {
        const json_t *spec = json_object_get(json_object_get(cell, sides[k]), "spec");
        const char *min = oracle_str(spec, "min"), *max = oracle_str(spec, "max");
        if ((min && strcmp(min, "SSLv3") == 0) || (max && strcmp(max, "MINIMUM_SUPPORTED") == 0))
            return true;
    }
    return false;
}

/* Replays every cell of one variant. */
static void check_variant(const char *variant, bool legacy_floor)
{
    oracle_report rep = {0};
    size_t i, checked = 0, exempt = 0;
    json_t *cell;

    json_array_foreach(json_object_get(g_matrix, "cells"), i, cell) {
        const char *v = oracle_str(cell, "variant");
        if (!v || strcmp(v, variant) != 0)
            continue;
        checked++;
        if (tlsv_has_ssl3() && cell_assumes_no_ssl3(cell)) {
            exempt++;
            continue;
        }
        check_cell(cell, legacy_floor, &rep);
    }
    if (exempt)
        printf("[ oracle   ] %s variant: %zu cells exempt in this SSL 3.0 build (min=SSLv3 "
               "or max=MINIMUM_SUPPORTED)\n",
               variant, exempt);
    printf("[ oracle   ] %s variant: %zu cells checked (policy API and preview), %zu mismatching\n",
           variant, checked - exempt, rep.items);
    size_t mismatches = rep.items;
    if (mismatches)
        printf("%s", rep.text);
    fflush(stdout); /* before cmocka reports on stderr */
    oracle_report_free(&rep);
    if (checked != CELLS_PER_VARIANT)
        fail_msg("found %zu %s cells, expected %d: the oracle was not read as expected", checked,
                 variant, CELLS_PER_VARIANT);
    if (mismatches)
        fail_msg("%zu of %zu %s cells differ from the oracle (listed above)", mismatches, checked,
                 variant);
}

/* The outcomes tlsv must produce (oracle README (b)). */
static void test_tlsv_cells(void **state)
{
    (void)state;
    check_variant("tlsv", false);
}

/* The legacy variant: the same model once an application lowers
 * minimum_version to MINIMUM_SUPPORTED on every auto-negotiating context
 * (applied before the cell's own options/min/max, as the oracle did). */
static void test_legacy_cells(void **state)
{
    (void)state;
    check_variant("legacy", true);
}

/* ---------------------------------------------------------------------- */
/* downgrade.json: the simulated on-path attacker                         */
/* ---------------------------------------------------------------------- */

/* Recognizes the attack from the row's label; false if unknown. */
static bool parse_attack(const char *label, attack *atk)
{
    memset(atk, 0, sizeof *atk);
    if (!label)
        return false;
    if (strncmp(label, "strip supported_versions", 24) == 0) {
        atk->kind = ATTACK_STRIP_SUPPORTED_VERSIONS;
        return true;
    }
    if (sscanf(label, "rewrite client_version 0x%x->0x%x", &atk->from, &atk->to) == 2) {
        atk->kind = ATTACK_REWRITE_LEGACY_VERSION;
        return true;
    }
    if (strncmp(label, "inject TLS_FALLBACK_SCSV", 24) == 0) {
        atk->kind = ATTACK_INJECT_FALLBACK_SCSV;
        return true;
    }
    return false;
}

static void test_downgrade_simulated(void **state)
{
    (void)state;
    oracle_report rep = {0};
    const json_t *rows = json_object_get(g_downgrade, "simulated_in_process");
    size_t i, total = json_array_size(rows), checked = 0, transcript_rows = 0;
    json_t *row;

    json_array_foreach(rows, i, row) {
        oracle_report diffs = {0};
        const char *label = oracle_str(row, "label");
        const char *variant = oracle_str(row, "variant");
        tlsv_ctx *cctx = NULL, *sctx = NULL;
        tlsv_error err;
        char why[160];
        attack atk;
        outcome want, got;

        /* The variants differ, for tlsv, only in the legacy minimum (the
         * other one changes OpenSSL's cipher string and security level,
         * which tlsv does not have). */
        bool legacy_floor;
        if (variant && strcmp(variant, "legacy") == 0)
            legacy_floor = true;
        else if (variant && (strcmp(variant, "defaults") == 0 || strcmp(variant, "tlsv") == 0))
            legacy_floor = false;
        else {
            oracle_report_add(&diffs, "    unknown variant \"%s\"\n", variant ? variant : "(none)");
            goto next;
        }
        if (!parse_attack(label, &atk)) {
            oracle_report_add(&diffs, "    unrecognized attack (label not understood)\n");
            goto next;
        }
        if (oracle_build_ctx(json_object_get(row, "client"), legacy_floor, &cctx, &err, why,
                             sizeof why) != ORACLE_BUILD_OK ||
            oracle_build_ctx(json_object_get(row, "server"), legacy_floor, &sctx, &err, why,
                             sizeof why) != ORACLE_BUILD_OK) {
            oracle_report_add(&diffs, "    cannot build the contexts: %s\n", why);
            goto next;
        }
        if (!oracle_outcome(json_object_get(row, "result"), &want, &diffs))
            goto next;

        /* Rows 2 ("strip supported_versions ... vs server max=TLSv1_2") and
         * 6 ("inject TLS_FALLBACK_SCSV ... vs server max=TLSv1_2") fail in
         * the oracle only *after* the version decisions: the server's
         * ServerHello is accepted, and then the Finished check fails
         * (bad_record_mac) because the attacker modified the transcript.
         * At the policy level, which has no transcript, these negotiations
         * succeed with the version of the ServerHello. Recognized by the
         * record-layer MAC failure after a ServerHello. */
        if (!want.ok && want.server_hello &&
            (strcmp(want.reason, "DECRYPTION_FAILED_OR_BAD_RECORD_MAC") == 0 ||
             strcmp(want.reason, "SSLV3_ALERT_BAD_RECORD_MAC") == 0)) {
            want.ok = true;
            SET(want.version, "%s", want.negotiated);
            want.error_side[0] = want.reason[0] = '\0';
            SET(want.alert, "none");
            transcript_rows++;
        }
        run_policy(cctx, sctx, &atk, &got);
        compare_outcome("policy", &want, &got, &diffs);
        checked++;

    next:
        if (diffs.len) {
            rep.items++;
            oracle_report_add(&rep, "downgrade row %zu \"%s\" (%s)\n", i, label ? label : "?",
                              variant ? variant : "?");
            oracle_report_append(&rep, &diffs);
        }
        oracle_report_free(&diffs);
        tlsv_ctx_free(cctx);
        tlsv_ctx_free(sctx);
    }
    printf("[ oracle   ] downgrade simulated_in_process: %zu of %zu rows checked "
           "(%zu expected to succeed at the policy level: transcript-only failures), %zu "
           "mismatching\n",
           checked, total, transcript_rows, rep.items);
    size_t mismatches = rep.items;
    if (mismatches)
        printf("%s", rep.text);
    fflush(stdout); /* before cmocka reports on stderr */
    oracle_report_free(&rep);
    assert_true(total > 0);
    if (mismatches)
        fail_msg("%zu of %zu simulated downgrade rows differ from the oracle (listed above)",
                 mismatches, total);
}

/* ---------------------------------------------------------------------- */

static int load_oracle(void **state)
{
    (void)state;
    g_matrix = oracle_load("negotiation-matrix.json");
    g_downgrade = oracle_load("downgrade.json");
    return g_matrix && g_downgrade ? 0 : -1;
}

static int free_oracle(void **state)
{
    (void)state;
    json_decref(g_matrix);
    json_decref(g_downgrade);
    g_matrix = g_downgrade = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlsv_cells),
        cmocka_unit_test(test_legacy_cells),
        cmocka_unit_test(test_downgrade_simulated),
    };
    return cmocka_run_group_tests(tests, load_oracle, free_oracle);
}
