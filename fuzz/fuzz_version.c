/*
 * fuzz_version.c -- libFuzzer target for the version policy (src/version.c):
 * ClientHello offers (legacy_version + supported_versions, with GREASE and
 * unknown values, TLS_FALLBACK_SCSV, SSLv2 format) against server
 * configurations (protocol constant x OP_NO_* options x minimum/maximum),
 * and the client side of the same configurations.
 *
 * Input:
 *   [0] server protocol   [1..2] server options   [3] server min   [4] server max
 *   [5] client protocol   [6..7] client options   [8] client min   [9] client max
 *   [10] flags: 1 supported_versions present, 2 fallback SCSV, 4 SSLv2 format
 *   [11..12] legacy_version   [13] buffer size for the describe functions
 *   [14..] supported_versions entries, u16 each (at most 32)
 *
 * Every decision is checked against a model written here from the RFCs and
 * docs/versions.md, independently of version.c (abort() on disagreement):
 *   - the enabled set and the client's run;
 *   - tlsv_vp_server_select succeeds exactly when the model picks a version,
 *     picks the same one, never above the offer, always enabled and within
 *     the bounds, with the sentinel the model expects; a failure carries the
 *     reason and alert the model expects and an explanation;
 *   - a client offer is well-formed (highest first, inside the run, the
 *     legacy_version and record version of RFC 8446 / 5246), and a server
 *     choice made from it is accepted by tlsv_vp_client_check exactly when it
 *     is in the client's run and carries no sentinel the client must refuse.
 * The describe functions run into buffers of fuzzer-chosen size (ASan checks
 * they stay inside).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlsv.h"
#include "version.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static const int protocols[] = {TLSV_PROTOCOL_TLS, TLSV_PROTOCOL_TLS_CLIENT, TLSV_PROTOCOL_TLS_SERVER,
                                TLSV_PROTOCOL_TLSv1, TLSV_PROTOCOL_TLSv1_1, TLSV_PROTOCOL_TLSv1_2,
                                TLSV_PROTOCOL_SSLv3, TLSV_PROTOCOL_TLS};
static const int bounds[] = {TLSV_VERSION_MINIMUM_SUPPORTED, TLSV_VERSION_MAXIMUM_SUPPORTED,
                             0x0300, 0x0301, 0x0302, 0x0303, 0x0304,
                             TLSV_VERSION_MINIMUM_SUPPORTED};
/* OP_NO_SSLv3, TLSv1, TLSv1_1, TLSv1_2, TLSv1_3 by version */
static const uint64_t no_flag[5] = {0x02000000u, 0x04000000u, 0x10000000u, 0x08000000u,
                                    0x20000000u};
static const uint64_t other_flags[] = {TLSV_OP_ALL, TLSV_OP_NO_TICKET, TLSV_OP_NO_COMPRESSION,
                                       TLSV_OP_CIPHER_SERVER_PREFERENCE, TLSV_OP_NO_RENEGOTIATION,
                                       0x1, 0x100000000ull, 0x8000000000000000ull};

static tlsv_vcfg make_cfg(const uint8_t *p)
{
    tlsv_vcfg c;
    c.protocol = protocols[p[0] % 8];
    uint64_t o = 0;
    for (int i = 0; i < 5; i++)
        if (p[1] & (1u << i))
            o |= no_flag[i];
    for (int i = 0; i < 8; i++)
        if (p[2] & (1u << i))
            o |= other_flags[i];
    c.options = o;
    c.min_version = bounds[p[3] % 8];
    c.max_version = bounds[p[4] % 8];
    return c;
}

/* ---- the model ----------------------------------------------------------- */

static bool compiled(int v)
{
#ifdef TLSV_HAVE_SSL3
    return v >= 0x0300 && v <= 0x0304;
#else
    return v >= 0x0301 && v <= 0x0304;
#endif
}

static int fixed_of(int protocol)
{
    switch (protocol) {
    case 1: return 0x0300;
    case 3: return 0x0301;
    case 4: return 0x0302;
    case 5: return 0x0303;
    default: return 0;
    }
}

static bool model_enabled(const tlsv_vcfg *c, int v)
{
    if (!compiled(v))
        return false;
    int fixed = fixed_of(c->protocol);
    if (fixed)
        return v == fixed;
    int lo = c->min_version == TLSV_VERSION_MINIMUM_SUPPORTED ? (compiled(0x0300) ? 0x0300 : 0x0301)
                                                              : c->min_version;
    int hi = c->max_version == TLSV_VERSION_MAXIMUM_SUPPORTED ? 0x0304 : c->max_version;
    return v >= lo && v <= hi && !(c->options & no_flag[v - 0x0300]);
}

/* The client's run: from the lowest enabled version up to the first gap
 * (versions not compiled in are no gap). */
static bool model_run(const tlsv_vcfg *c, int v)
{
    bool started = false;
    for (int x = 0x0300; x <= 0x0304; x++) {
        if (!compiled(x))
            continue;
        if (model_enabled(c, x))
            started = true;
        else if (started)
            return false; /* v above the gap (x < v) or v == x, disabled */
        if (x == v)
            return started;
    }
    return false;
}

static bool is_known(int v) { return v >= 0x0300 && v <= 0x0304; }

static void check_err(const tlsv_error *e, tlsv_reason reason, int alert)
{
    CHECK(e->reason == reason);
    CHECK(e->alert == alert);
    CHECK(e->side == TLSV_SIDE_LOCAL);
    CHECK(e->message[0] != '\0');
    CHECK(memchr(e->message, '\0', sizeof e->message) != NULL);
}

/* ---- the target ------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 14)
        return 0;
    tlsv_vcfg scfg = make_cfg(data);
    tlsv_vcfg ccfg = make_cfg(data + 5);
    uint8_t flags = data[10];
    uint16_t legacy = (uint16_t)(data[11] << 8 | data[12]);
    size_t dlen = data[13] % 200;
    uint16_t versions[32];
    size_t nv = 0;
    for (size_t i = 14; i + 1 < size && nv < 32; i += 2)
        versions[nv++] = (uint16_t)(data[i] << 8 | data[i + 1]);

    /* The enabled set and the run, against the model. */
    tlsv_vset en = tlsv_vp_enabled(&scfg);
    tlsv_vset crun = tlsv_vp_client_run(&ccfg);
    for (int v = 0x0300; v <= 0x0304; v++) {
        CHECK(tlsv_vset_has(en, v) == model_enabled(&scfg, v));
        CHECK(tlsv_vset_has(crun, v) == model_run(&ccfg, v));
    }
    CHECK((en & ~TLSV_VSET_ALL) == 0);

    /* The describe functions, into a buffer of exactly dlen bytes. */
    char *buf = malloc(dlen ? dlen : 1);
    if (!buf)
        return 0;
    tlsv_vset_describe(en, buf, dlen);
    if (dlen)
        CHECK(memchr(buf, '\0', dlen) != NULL);
    tlsv_vp_describe_cfg(&scfg, buf, dlen);
    if (dlen)
        CHECK(memchr(buf, '\0', dlen) != NULL);
    free(buf);

    /* ---- server: the offer as read off the wire ---- */
    tlsv_offer_view ov = {
        .legacy_version = legacy,
        .has_supported_versions = (flags & 1) != 0,
        .versions = nv ? versions : NULL,
        .n_versions = (flags & 1) ? nv : 0,
        .fallback_scsv = (flags & 2) != 0,
        .sslv2_format = (flags & 4) != 0,
    };
    tlsv_server_choice ch;
    tlsv_error err;
    memset(&err, 0, sizeof err);
    int rc = tlsv_vp_server_select(&scfg, &ov, &ch, &err);

    /* the model's choice */
    int fixed = fixed_of(scfg.protocol);
    int want = 0;
    tlsv_reason want_reason = TLSV_R_OK;
    bool any = false;
    for (int v = 0x0300; v <= 0x0304; v++)
        any = any || model_enabled(&scfg, v);
    if (!any) {
        want_reason = TLSV_R_NO_PROTOCOLS_AVAILABLE;
    } else if (fixed) {
        if (legacy < fixed)
            want_reason = TLSV_R_WRONG_SSL_VERSION;
        else
            want = fixed;
    } else if (ov.has_supported_versions) {
        if (legacy <= 0x0300)
            want_reason = TLSV_R_BAD_LEGACY_VERSION;
        for (size_t i = 0; !want_reason && i < ov.n_versions; i++)
            if (model_enabled(&scfg, versions[i]) && versions[i] > want)
                want = versions[i];
        if (!want_reason && !want)
            want_reason = TLSV_R_UNSUPPORTED_PROTOCOL;
    } else {
        for (int v = 0x0303; v >= 0x0300 && !want; v--)
            if (v <= legacy && model_enabled(&scfg, v))
                want = v;
        if (!want)
            want_reason = TLSV_R_UNSUPPORTED_PROTOCOL;
    }
    if (want && ov.fallback_scsv) {
        int server_top = 0, client_top = 0;
        for (int v = 0x0300; v <= 0x0304; v++)
            if (model_enabled(&scfg, v))
                server_top = v;
        if (ov.has_supported_versions) {
            for (size_t i = 0; i < ov.n_versions; i++)
                if (is_known(versions[i]) && versions[i] > client_top)
                    client_top = versions[i];
        } else {
            client_top = legacy;
        }
        if (server_top > client_top) {
            want = 0;
            want_reason = TLSV_R_INAPPROPRIATE_FALLBACK;
        }
    }

    if (want) {
        CHECK(rc == 0);
        CHECK(ch.version == want);
        /* the invariants the model is made of, said once more plainly */
        CHECK(tlsv_vset_has(en, ch.version));
        if (!fixed) {
            int lo = scfg.min_version == TLSV_VERSION_MINIMUM_SUPPORTED ? 0x0300 : scfg.min_version;
            int hi = scfg.max_version == TLSV_VERSION_MAXIMUM_SUPPORTED ? 0x0304 : scfg.max_version;
            CHECK(ch.version >= lo && ch.version <= hi);
        }
        if (ov.has_supported_versions && !fixed) {
            bool in = false;
            for (size_t i = 0; i < ov.n_versions; i++)
                in = in || versions[i] == ch.version;
            CHECK(in);
        } else {
            CHECK(ch.version <= legacy);
            if (!fixed)
                CHECK(ch.version <= 0x0303);
        }
        tlsv_sentinel ws = TLSV_SENTINEL_NONE;
        if (!fixed && want == 0x0303 && model_enabled(&scfg, 0x0304))
            ws = TLSV_SENTINEL_TLS12;
        else if (!fixed && want <= 0x0302 && model_enabled(&scfg, 0x0303))
            ws = TLSV_SENTINEL_TLS11;
        CHECK(ch.sentinel == ws);
        uint8_t random[32];
        memset(random, 0xa5, sizeof random);
        tlsv_vp_write_sentinel(ch.sentinel, random);
        CHECK(tlsv_vp_read_sentinel(random) == ch.sentinel);
    } else {
        CHECK(rc == -1);
        check_err(&err, want_reason,
                  want_reason == TLSV_R_INAPPROPRIATE_FALLBACK ? TLSV_ALERT_INAPPROPRIATE_FALLBACK
                                                               : TLSV_ALERT_PROTOCOL_VERSION);
    }

    /* ---- client: its offer, the server's answer, the client's check ---- */
    tlsv_client_offer co;
    memset(&err, 0, sizeof err);
    rc = tlsv_vp_client_offer(&ccfg, (flags & 2) != 0, &co, &err);
    bool crun_any = false;
    for (int v = 0x0300; v <= 0x0304; v++)
        crun_any = crun_any || model_run(&ccfg, v);
    if (!crun_any) {
        CHECK(rc == -1);
        check_err(&err, TLSV_R_NO_PROTOCOLS_AVAILABLE, TLSV_ALERT_PROTOCOL_VERSION);
        return 0;
    }
    CHECK(rc == 0);
    CHECK(co.n_versions >= 1 && co.n_versions <= TLSV_MAX_OFFERED);
    for (size_t i = 0; i < co.n_versions; i++) {
        CHECK(model_run(&ccfg, co.versions[i]));
        if (i)
            CHECK(co.versions[i] < co.versions[i - 1]);
    }
    int ctop = co.versions[0];
    CHECK(co.run == crun);
    CHECK(co.has_supported_versions == (ctop == 0x0304));
    CHECK(co.legacy_version == (ctop == 0x0304 ? 0x0303 : ctop));
    CHECK(co.record_version == (ctop == 0x0300 ? 0x0300 : 0x0301));
    CHECK(co.fixed == (fixed_of(ccfg.protocol) != 0));

    /* what the server configuration makes of this offer */
    tlsv_offer_view cov = {
        .legacy_version = co.legacy_version,
        .has_supported_versions = co.has_supported_versions,
        .versions = co.versions,
        .n_versions = co.has_supported_versions ? co.n_versions : 0,
        .fallback_scsv = co.fallback_scsv,
    };
    memset(&err, 0, sizeof err);
    if (tlsv_vp_server_select(&scfg, &cov, &ch, &err) != 0) {
        CHECK(err.reason != TLSV_R_OK && err.message[0]);
        return 0;
    }
    CHECK(ch.version <= ctop);
    uint8_t random[32];
    for (int i = 0; i < 32; i++)
        random[i] = (uint8_t)(data[i % size] ^ i);
    if ((flags & 8) == 0)
        memset(random + 24, 0, 8); /* no accidental sentinel */
    tlsv_vp_write_sentinel(ch.sentinel, random);
    tlsv_server_hello_view sh = {
        .legacy_version = ch.version >= 0x0304 ? 0x0303 : ch.version,
        .has_supported_versions = ch.version >= 0x0304,
        .selected_version = ch.version,
        .random = random,
    };
    uint16_t negotiated = 0;
    memset(&err, 0, sizeof err);
    rc = tlsv_vp_client_check(&ccfg, &co, &sh, &negotiated, &err);
    bool in_run = model_run(&ccfg, ch.version);
    tlsv_sentinel s = tlsv_vp_read_sentinel(random);
    bool refused = (ctop >= 0x0304 && ch.version <= 0x0303 && s != TLSV_SENTINEL_NONE) ||
                   (ctop == 0x0303 && ch.version <= 0x0302 && s == TLSV_SENTINEL_TLS11);
    if (in_run && !refused) {
        CHECK(rc == 0);
        CHECK(negotiated == ch.version);
    } else {
        CHECK(rc == -1);
        CHECK(negotiated == 0);
        CHECK(err.reason != TLSV_R_OK && err.message[0]);
        if (in_run)
            CHECK(err.reason == TLSV_R_INAPPROPRIATE_FALLBACK);
    }
    if (in_run)
        CHECK(tlsv_vp_offer_has_suites_for(&co, ch.version));
    return 0;
}
