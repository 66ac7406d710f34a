/*
 * version.c -- the version policy. See version.h and docs/versions.md.
 */
#include "version.h"

#include <stdio.h>
#include <string.h>

#include "err.h"

/* The OP_NO_* bit that disables each version (index v - 0x0300). */
static const uint64_t no_flag[5] = {
    0x02000000u, /* SSL 3.0: OP_NO_SSLv3 */
    0x04000000u, /* TLS 1.0: OP_NO_TLSv1 */
    0x10000000u, /* TLS 1.1: OP_NO_TLSv1_1 */
    0x08000000u, /* TLS 1.2: OP_NO_TLSv1_2 */
    0x20000000u, /* TLS 1.3: OP_NO_TLSv1_3 */
};
static const char *const no_flag_name[5] = {
    "OP_NO_SSLv3", "OP_NO_TLSv1", "OP_NO_TLSv1_1", "OP_NO_TLSv1_2", "OP_NO_TLSv1_3",
};

static const uint8_t sentinel_tls12[8] = {'D', 'O', 'W', 'N', 'G', 'R', 'D', 0x01};
static const uint8_t sentinel_tls11[8] = {'D', 'O', 'W', 'N', 'G', 'R', 'D', 0x00};

static bool is_known(int v)
{
    return v >= TLSV_V_SSL3 && v <= TLSV_V_TLS13;
}

tlsv_vset tlsv_vp_compiled(void)
{
#ifdef TLSV_HAVE_SSL3
    return TLSV_VSET_ALL;
#else
    return (tlsv_vset)(TLSV_VSET_ALL & ~TLSV_VSET_BIT(TLSV_V_SSL3));
#endif
}

int tlsv_vp_lowest_compiled(void)
{
    return tlsv_vset_min(tlsv_vp_compiled());
}

int tlsv_vp_fixed_version(int protocol)
{
    switch (protocol) {
    case TLSV_PROTOCOL_SSLv3: return TLSV_V_SSL3;
    case TLSV_PROTOCOL_TLSv1: return TLSV_V_TLS10;
    case TLSV_PROTOCOL_TLSv1_1: return TLSV_V_TLS11;
    case TLSV_PROTOCOL_TLSv1_2: return TLSV_V_TLS12;
    default: return 0;
    }
}

bool tlsv_vp_is_fixed(int protocol)
{
    return tlsv_vp_fixed_version(protocol) != 0;
}

/* The bounds as concrete versions (sentinels resolved). */
static void resolve_bounds(const tlsv_vcfg *cfg, int *lo, int *hi)
{
    *lo = cfg->min_version == TLSV_VERSION_MINIMUM_SUPPORTED ? tlsv_vp_lowest_compiled()
                                                             : cfg->min_version;
    *hi = cfg->max_version == TLSV_VERSION_MAXIMUM_SUPPORTED ? TLSV_V_TLS13 : cfg->max_version;
}

tlsv_vset tlsv_vp_enabled(const tlsv_vcfg *cfg)
{
    tlsv_vset compiled = tlsv_vp_compiled();
    int fixed = tlsv_vp_fixed_version(cfg->protocol);
    if (fixed) /* the method fixes the version; OP_NO_* and bounds do not apply (O6) */
        return (tlsv_vset)(compiled & TLSV_VSET_BIT(fixed));

    int lo, hi;
    resolve_bounds(cfg, &lo, &hi);
    tlsv_vset set = 0;
    for (int v = TLSV_V_SSL3; v <= TLSV_V_TLS13; v++) {
        if (!(compiled & TLSV_VSET_BIT(v)) || v < lo || v > hi)
            continue;
        if (cfg->options & no_flag[v - TLSV_V_SSL3])
            continue;
        set |= TLSV_VSET_BIT(v);
    }
    return set;
}

tlsv_vset tlsv_vp_client_run(const tlsv_vcfg *cfg)
{
    tlsv_vset en = tlsv_vp_enabled(cfg);
    tlsv_vset compiled = tlsv_vp_compiled();
    tlsv_vset run = 0;
    for (int v = TLSV_V_SSL3; v <= TLSV_V_TLS13; v++) {
        if (!(compiled & TLSV_VSET_BIT(v)))
            continue; /* a version this build lacks is no hole */
        if (en & TLSV_VSET_BIT(v))
            run |= TLSV_VSET_BIT(v);
        else if (run)
            break; /* the first gap after an enabled version ends the run */
    }
    return run;
}

int tlsv_vset_max(tlsv_vset s)
{
    for (int v = TLSV_V_TLS13; v >= TLSV_V_SSL3; v--)
        if (s & TLSV_VSET_BIT(v))
            return v;
    return 0;
}

int tlsv_vset_min(tlsv_vset s)
{
    for (int v = TLSV_V_SSL3; v <= TLSV_V_TLS13; v++)
        if (s & TLSV_VSET_BIT(v))
            return v;
    return 0;
}

size_t tlsv_vset_count(tlsv_vset s)
{
    size_t n = 0;
    for (; s; s &= (tlsv_vset)(s - 1))
        n++;
    return n;
}

bool tlsv_vset_has(tlsv_vset s, int v)
{
    return is_known(v) && (s & TLSV_VSET_BIT(v));
}

static bool vset_contiguous(tlsv_vset s)
{
    int lo = tlsv_vset_min(s), hi = tlsv_vset_max(s);
    for (int v = lo; v && v <= hi; v++)
        if (!(s & TLSV_VSET_BIT(v)))
            return false;
    return true;
}

void tlsv_vset_describe(tlsv_vset s, char *buf, size_t len)
{
    size_t n = tlsv_vset_count(s);
    if (len == 0)
        return;
    if (n == 0) {
        snprintf(buf, len, "no version");
    } else if (n == 1) {
        snprintf(buf, len, "%s only", tlsv_version_string(tlsv_vset_min(s)));
    } else if (vset_contiguous(s)) {
        snprintf(buf, len, "%s to %s", tlsv_version_string(tlsv_vset_min(s)),
                 tlsv_version_string(tlsv_vset_max(s)));
    } else {
        size_t used = 0, i = 0;
        buf[0] = '\0';
        for (int v = TLSV_V_SSL3; v <= TLSV_V_TLS13; v++) {
            if (!(s & TLSV_VSET_BIT(v)))
                continue;
            const char *sep = i == 0 ? "" : (i + 1 == n ? " and " : ", ");
            int w = snprintf(buf + used, len - used, "%s%s", sep, tlsv_version_string(v));
            if (w < 0 || (size_t)w >= len - used)
                return;
            used += (size_t)w;
            i++;
        }
    }
}

void tlsv_vp_describe_cfg(const tlsv_vcfg *cfg, char *buf, size_t len)
{
    if (len == 0)
        return;
    int fixed = tlsv_vp_fixed_version(cfg->protocol);
    if (fixed) {
        snprintf(buf, len, "%s fixes the version to %s", tlsv_protocol_name(cfg->protocol),
                 tlsv_version_string(fixed));
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
#define APPEND(...)                                                              \
    do {                                                                         \
        int w_ = snprintf(buf + used, len - used, __VA_ARGS__);                  \
        if (w_ < 0 || (size_t)w_ >= len - used)                                  \
            return;                                                              \
        used += (size_t)w_;                                                      \
    } while (0)
    APPEND("minimum_version %s, maximum_version %s", tlsv_version_name(cfg->min_version),
           tlsv_version_name(cfg->max_version));
    int lo, hi;
    resolve_bounds(cfg, &lo, &hi);
    for (int v = TLSV_V_SSL3; v <= TLSV_V_TLS13; v++) {
        if (v >= lo && v <= hi && (cfg->options & no_flag[v - TLSV_V_SSL3]) &&
            (tlsv_vp_compiled() & TLSV_VSET_BIT(v)))
            APPEND(", %s", no_flag_name[v - TLSV_V_SSL3]);
    }
#undef APPEND
}

static const char *role_noun(tlsv_role role)
{
    return role == TLSV_ROLE_SERVER ? "server" : "client";
}

int tlsv_vp_check_nonempty(const tlsv_vcfg *cfg, tlsv_vset set, tlsv_role role, tlsv_error *err)
{
    if (set)
        return 0;
    int fixed = tlsv_vp_fixed_version(cfg->protocol);
    int lo, hi;
    resolve_bounds(cfg, &lo, &hi);
    if (fixed) {
        tlsv_err_set(err, TLSV_R_NO_PROTOCOLS_AVAILABLE, TLSV_ALERT_PROTOCOL_VERSION,
                     TLSV_SIDE_LOCAL,
                     "this %s's protocol %s needs %s, which this build does not include "
                     "(configure with -DTLSV_ENABLE_SSL3=ON)",
                     role_noun(role), tlsv_protocol_name(cfg->protocol),
                     tlsv_version_string(fixed));
    } else if (lo > hi) {
        tlsv_err_set(err, TLSV_R_NO_PROTOCOLS_AVAILABLE, TLSV_ALERT_PROTOCOL_VERSION,
                     TLSV_SIDE_LOCAL,
                     "this %s enables no version: minimum_version %s is above "
                     "maximum_version %s",
                     role_noun(role), tlsv_version_name(cfg->min_version),
                     tlsv_version_name(cfg->max_version));
    } else if (hi < tlsv_vp_lowest_compiled()) {
        tlsv_err_set(err, TLSV_R_NO_PROTOCOLS_AVAILABLE, TLSV_ALERT_PROTOCOL_VERSION,
                     TLSV_SIDE_LOCAL,
                     "this %s enables no version: maximum_version %s leaves only SSL 3.0, "
                     "which this build does not include",
                     role_noun(role), tlsv_version_name(cfg->max_version));
    } else {
        char why[160];
        tlsv_vp_describe_cfg(cfg, why, sizeof why);
        tlsv_err_set(err, TLSV_R_NO_PROTOCOLS_AVAILABLE, TLSV_ALERT_PROTOCOL_VERSION,
                     TLSV_SIDE_LOCAL,
                     "this %s enables no version: every version from %s to %s is "
                     "switched off (%s)",
                     role_noun(role), tlsv_version_string(lo < tlsv_vp_lowest_compiled() ? tlsv_vp_lowest_compiled() : lo),
                     tlsv_version_string(hi), why);
    }
    return -1;
}

int tlsv_vp_client_offer(const tlsv_vcfg *cfg, bool fallback_scsv, tlsv_client_offer *out,
                         tlsv_error *err)
{
    memset(out, 0, sizeof *out);
    tlsv_vset run = tlsv_vp_client_run(cfg);
    if (tlsv_vp_check_nonempty(cfg, run, TLSV_ROLE_CLIENT, err) != 0)
        return -1;
    int top = tlsv_vset_max(run);
    out->run = run;
    out->fixed = tlsv_vp_is_fixed(cfg->protocol);
    out->fallback_scsv = fallback_scsv;
    for (int v = top; v >= TLSV_V_SSL3; v--)
        if (run & TLSV_VSET_BIT(v))
            out->versions[out->n_versions++] = (uint16_t)v;
    if (top >= TLSV_V_TLS13) {
        /* RFC 8446 §4.1.2: legacy_version 0x0303, the real offer in
         * supported_versions. */
        out->legacy_version = TLSV_V_TLS12;
        out->has_supported_versions = true;
    } else {
        /* RFC 5246 App. E.1: client_version is the highest version offered. */
        out->legacy_version = (uint16_t)top;
        out->has_supported_versions = false;
    }
    /* RFC 5246 App. E.1: {03,01} is the safest record version for the
     * first flight; an SSL 3.0-only client must say {03,00}. */
    out->record_version = top == TLSV_V_SSL3 ? TLSV_V_SSL3 : TLSV_V_TLS10;
    return 0;
}

/* "TLSv1.3, TLSv1.2 (supported_versions)" or "TLSv1.1 and below (legacy_version)". */
static void describe_offer(const tlsv_offer_view *o, char *buf, size_t len)
{
    if (!o->has_supported_versions) {
        const char *s = tlsv_version_string(o->legacy_version);
        if (s)
            snprintf(buf, len, "%s and below (legacy_version, no supported_versions)", s);
        else
            snprintf(buf, len, "legacy_version 0x%04x (no supported_versions)",
                     (unsigned)o->legacy_version);
        return;
    }
    size_t used = 0, shown = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < o->n_versions && used < len; i++) {
        const char *s = tlsv_version_string(o->versions[i]);
        int w = s ? snprintf(buf + used, len - used, "%s%s", shown ? ", " : "", s)
                  : snprintf(buf + used, len - used, "%s0x%04x", shown ? ", " : "",
                             (unsigned)o->versions[i]);
        if (w < 0 || (size_t)w >= len - used)
            return;
        used += (size_t)w;
        shown++;
    }
    if (used < len)
        snprintf(buf + used, len - used, "%s(supported_versions)", shown ? " " : "nothing ");
}

/* The highest version a ClientHello claims: the top of supported_versions
 * (known values only), or legacy_version. */
static int offer_top(const tlsv_offer_view *o)
{
    if (!o->has_supported_versions)
        return o->legacy_version;
    int top = 0;
    for (size_t i = 0; i < o->n_versions; i++)
        if (is_known(o->versions[i]) && o->versions[i] > top)
            top = o->versions[i];
    return top;
}

int tlsv_vp_server_select(const tlsv_vcfg *cfg, const tlsv_offer_view *offer,
                          tlsv_server_choice *out, tlsv_error *err)
{
    char offered[160], why[160], have[96];
    memset(out, 0, sizeof *out);
    tlsv_vset en = tlsv_vp_enabled(cfg);
    if (tlsv_vp_check_nonempty(cfg, en, TLSV_ROLE_SERVER, err) != 0)
        return -1;

    int fixed = tlsv_vp_fixed_version(cfg->protocol);
    int chosen = 0;
    if (fixed) {
        /* A version-specific server behaves like an implementation of that
         * one version: it reads only legacy_version (RFC 5246 App. E.1). */
        if (offer->legacy_version < fixed) {
            describe_offer(offer, offered, sizeof offered);
            tlsv_err_set(err, TLSV_R_WRONG_SSL_VERSION, TLSV_ALERT_PROTOCOL_VERSION,
                         TLSV_SIDE_LOCAL,
                         "the client offers %s; this %s context speaks only %s",
                         offered, tlsv_protocol_name(cfg->protocol),
                         tlsv_version_string(fixed));
            return -1;
        }
        chosen = fixed;
    } else if (offer->has_supported_versions) {
        /* RFC 8446 §4.2.1: the extension decides, legacy_version is ignored
         * except that it must be above SSL 3.0 (App. D.5). Unknown and
         * GREASE values are skipped. */
        if (offer->legacy_version <= TLSV_V_SSL3) {
            tlsv_err_set(err, TLSV_R_BAD_LEGACY_VERSION, TLSV_ALERT_PROTOCOL_VERSION,
                         TLSV_SIDE_LOCAL,
                         "the ClientHello has supported_versions but legacy_version 0x%04x; "
                         "RFC 8446 App. D.5 requires 0x0301 or above",
                         (unsigned)offer->legacy_version);
            return -1;
        }
        for (size_t i = 0; i < offer->n_versions; i++) {
            int v = offer->versions[i];
            if (tlsv_vset_has(en, v) && v > chosen)
                chosen = v;
        }
    } else {
        /* RFC 5246 App. E.1 / RFC 8446 §4.2.1: the highest enabled version not
         * above client_version, and never TLS 1.3 without the extension. */
        int cap = offer->legacy_version > TLSV_V_TLS12 ? TLSV_V_TLS12 : offer->legacy_version;
        if (offer->sslv2_format && cap > TLSV_V_TLS12)
            cap = TLSV_V_TLS12;
        for (int v = cap; v >= TLSV_V_SSL3; v--)
            if (tlsv_vset_has(en, v)) {
                chosen = v;
                break;
            }
    }
    if (!chosen) {
        describe_offer(offer, offered, sizeof offered);
        tlsv_vp_describe_cfg(cfg, why, sizeof why);
        tlsv_vset_describe(en, have, sizeof have);
        tlsv_err_set(err, TLSV_R_UNSUPPORTED_PROTOCOL, TLSV_ALERT_PROTOCOL_VERSION,
                     TLSV_SIDE_LOCAL,
                     "no version in common: the client offers %s; this server accepts %s (%s)",
                     offered, have, why);
        return -1;
    }

    /* RFC 7507 §3: the client fell back although this server could do better. */
    int server_top = tlsv_vset_max(en);
    int client_top = offer_top(offer);
    if (offer->fallback_scsv && server_top > client_top) {
        tlsv_err_set(err, TLSV_R_INAPPROPRIATE_FALLBACK, TLSV_ALERT_INAPPROPRIATE_FALLBACK,
                     TLSV_SIDE_LOCAL,
                     "the client sent TLS_FALLBACK_SCSV while offering at most %s, but this "
                     "server supports %s: a fallback retry was downgraded (RFC 7507)",
                     client_top ? tlsv_version_string(client_top) : "nothing known",
                     tlsv_version_string(server_top));
        return -1;
    }

    out->version = (uint16_t)chosen;
    out->sentinel = TLSV_SENTINEL_NONE;
    if (!fixed) {
        /* RFC 8446 §4.1.3, as the reference records it (oracle G1/G1b): by
         * what this server has enabled, version by version. */
        if (chosen == TLSV_V_TLS12 && tlsv_vset_has(en, TLSV_V_TLS13))
            out->sentinel = TLSV_SENTINEL_TLS12;
        else if (chosen <= TLSV_V_TLS11 && tlsv_vset_has(en, TLSV_V_TLS12))
            out->sentinel = TLSV_SENTINEL_TLS11;
    }
    return 0;
}

void tlsv_vp_write_sentinel(tlsv_sentinel s, uint8_t random[32])
{
    if (s == TLSV_SENTINEL_TLS12)
        memcpy(random + 24, sentinel_tls12, 8);
    else if (s == TLSV_SENTINEL_TLS11)
        memcpy(random + 24, sentinel_tls11, 8);
}

tlsv_sentinel tlsv_vp_read_sentinel(const uint8_t random[32])
{
    if (memcmp(random + 24, sentinel_tls12, 8) == 0)
        return TLSV_SENTINEL_TLS12;
    if (memcmp(random + 24, sentinel_tls11, 8) == 0)
        return TLSV_SENTINEL_TLS11;
    return TLSV_SENTINEL_NONE;
}

int tlsv_vp_client_check(const tlsv_vcfg *cfg, const tlsv_client_offer *offer,
                         const tlsv_server_hello_view *sh, uint16_t *negotiated, tlsv_error *err)
{
    char have[96], why[160];
    int v;
    *negotiated = 0;
    if (sh->has_supported_versions) {
        if (!offer->has_supported_versions) {
            tlsv_err_set(err, TLSV_R_UNSOLICITED_EXTENSION, TLSV_ALERT_UNSUPPORTED_EXTENSION,
                         TLSV_SIDE_LOCAL,
                         "the ServerHello carries supported_versions, which this client did "
                         "not send (RFC 8446 §4.2)");
            return -1;
        }
        v = sh->selected_version;
        bool offered = false;
        for (size_t i = 0; i < offer->n_versions; i++)
            offered = offered || offer->versions[i] == v;
        if (!offered || v < TLSV_V_TLS13) {
            tlsv_vset_describe(offer->run, have, sizeof have);
            tlsv_err_set(err, TLSV_R_BAD_PROTOCOL_VERSION_NUMBER, TLSV_ALERT_ILLEGAL_PARAMETER,
                         TLSV_SIDE_LOCAL,
                         "the server selected version 0x%04x in supported_versions; this "
                         "client offered %s and the extension may only select TLS 1.3 or "
                         "above (RFC 8446 §4.2.1)",
                         (unsigned)v, have);
            return -1;
        }
    } else {
        v = sh->legacy_version;
        bool ok = v <= TLSV_V_TLS12 && tlsv_vset_has(offer->run, v);
        if (!ok) {
            const char *got = tlsv_version_string(v);
            char gotbuf[16];
            if (!got) {
                snprintf(gotbuf, sizeof gotbuf, "0x%04x", (unsigned)v);
                got = gotbuf;
            }
            if (offer->fixed) {
                tlsv_err_set(err, TLSV_R_WRONG_SSL_VERSION, TLSV_ALERT_PROTOCOL_VERSION,
                             TLSV_SIDE_LOCAL,
                             "the server chose %s; this %s context speaks only %s", got,
                             tlsv_protocol_name(cfg->protocol),
                             tlsv_version_string(tlsv_vset_max(offer->run)));
            } else {
                tlsv_vset_describe(offer->run, have, sizeof have);
                tlsv_vp_describe_cfg(cfg, why, sizeof why);
                tlsv_err_set(err, TLSV_R_UNSUPPORTED_PROTOCOL, TLSV_ALERT_PROTOCOL_VERSION,
                             TLSV_SIDE_LOCAL,
                             "the server chose %s; this client accepts %s (%s)", got, have,
                             why);
            }
            return -1;
        }
    }

    /* RFC 8446 §4.1.3: a client that could do better checks the sentinels. */
    int top = tlsv_vset_max(offer->run);
    tlsv_sentinel s = tlsv_vp_read_sentinel(sh->random);
    bool downgraded = false;
    if (top >= TLSV_V_TLS13 && v <= TLSV_V_TLS12 && s != TLSV_SENTINEL_NONE)
        downgraded = true;
    else if (top == TLSV_V_TLS12 && v <= TLSV_V_TLS11 && s == TLSV_SENTINEL_TLS11)
        downgraded = true;
    if (downgraded) {
        tlsv_err_set(err, TLSV_R_INAPPROPRIATE_FALLBACK, TLSV_ALERT_ILLEGAL_PARAMETER,
                     TLSV_SIDE_LOCAL,
                     "the server chose %s but its ServerHello.random ends in the %s downgrade "
                     "sentinel: it supports a higher version, so the connection was "
                     "downgraded on the way (RFC 8446 §4.1.3); this client supports %s",
                     tlsv_version_string(v),
                     s == TLSV_SENTINEL_TLS12 ? "DOWNGRD\\x01" : "DOWNGRD\\x00",
                     tlsv_version_string(top));
        return -1;
    }
    *negotiated = (uint16_t)v;
    return 0;
}

bool tlsv_vp_offer_has_suites_for(const tlsv_client_offer *offer, int v)
{
    if (v >= TLSV_V_TLS13)
        return tlsv_vset_has(offer->run, TLSV_V_TLS13);
    return tlsv_vset_min(offer->run) <= TLSV_V_TLS12;
}
