/*
 * ext.c -- the table of known extensions and where each may appear.
 *
 * Sources for the `where` column:
 *   RFC 8446 §4.2 (the TLS 1.3 table: CH, SH, HRR, EE, CT, CR, NST);
 *   RFC 8449 §5 (record_size_limit: CH, EE);
 *   for the TLS 1.2 ServerHello, the RFC of each extension that a TLS 1.2
 *   server answers in its ServerHello (6066, 7301, 6962, 7366, 7627, 8449,
 *   5077, 5746, 8422). supported_groups is tolerated there: some TLS 1.2
 *   servers echo it although RFC 8422 never asks them to.
 * Whether the client actually offered what a ServerHello answers (RFC 5246
 * §7.4.1.4, "unsupported_extension") is the caller's check, with the
 * `present` mask of the parsed message.
 */
#include "engine/ext.h"

#define CH TLSV_IN_CH
#define SH12 TLSV_IN_SH12
#define SH13 TLSV_IN_SH13
#define HRR TLSV_IN_HRR
#define EE TLSV_IN_EE
#define CT TLSV_IN_CT
#define CR TLSV_IN_CR
#define NST TLSV_IN_NST

/* Indexed by tlsv_ext_id. */
static const tlsv_ext_info table[TLSV_EXTID__COUNT] = {
    {TLSV_EXT_SERVER_NAME, TLSV_EXTID_SERVER_NAME, "server_name", CH | SH12 | EE},
    {TLSV_EXT_MAX_FRAGMENT_LENGTH, TLSV_EXTID_MAX_FRAGMENT_LENGTH, "max_fragment_length",
     CH | SH12 | EE},
    {TLSV_EXT_STATUS_REQUEST, TLSV_EXTID_STATUS_REQUEST, "status_request", CH | SH12 | CT | CR},
    {TLSV_EXT_SUPPORTED_GROUPS, TLSV_EXTID_SUPPORTED_GROUPS, "supported_groups", CH | SH12 | EE},
    {TLSV_EXT_EC_POINT_FORMATS, TLSV_EXTID_EC_POINT_FORMATS, "ec_point_formats", CH | SH12},
    {TLSV_EXT_SIGNATURE_ALGORITHMS, TLSV_EXTID_SIGNATURE_ALGORITHMS, "signature_algorithms",
     CH | CR},
    {TLSV_EXT_ALPN, TLSV_EXTID_ALPN, "application_layer_protocol_negotiation", CH | SH12 | EE},
    {TLSV_EXT_SCT, TLSV_EXTID_SCT, "signed_certificate_timestamp", CH | SH12 | CT | CR},
    {TLSV_EXT_PADDING, TLSV_EXTID_PADDING, "padding", CH},
    {TLSV_EXT_ENCRYPT_THEN_MAC, TLSV_EXTID_ENCRYPT_THEN_MAC, "encrypt_then_mac", CH | SH12},
    {TLSV_EXT_EXTENDED_MASTER_SECRET, TLSV_EXTID_EXTENDED_MASTER_SECRET,
     "extended_master_secret", CH | SH12},
    {TLSV_EXT_RECORD_SIZE_LIMIT, TLSV_EXTID_RECORD_SIZE_LIMIT, "record_size_limit",
     CH | SH12 | EE},
    {TLSV_EXT_SESSION_TICKET, TLSV_EXTID_SESSION_TICKET, "session_ticket", CH | SH12},
    {TLSV_EXT_PRE_SHARED_KEY, TLSV_EXTID_PRE_SHARED_KEY, "pre_shared_key", CH | SH13},
    {TLSV_EXT_EARLY_DATA, TLSV_EXTID_EARLY_DATA, "early_data", CH | EE | NST},
    {TLSV_EXT_SUPPORTED_VERSIONS, TLSV_EXTID_SUPPORTED_VERSIONS, "supported_versions",
     CH | SH13 | HRR},
    {TLSV_EXT_COOKIE, TLSV_EXTID_COOKIE, "cookie", CH | HRR},
    {TLSV_EXT_PSK_KEY_EXCHANGE_MODES, TLSV_EXTID_PSK_KEY_EXCHANGE_MODES, "psk_key_exchange_modes",
     CH},
    {TLSV_EXT_CERTIFICATE_AUTHORITIES, TLSV_EXTID_CERTIFICATE_AUTHORITIES,
     "certificate_authorities", CH | CR},
    {TLSV_EXT_OID_FILTERS, TLSV_EXTID_OID_FILTERS, "oid_filters", CR},
    {TLSV_EXT_POST_HANDSHAKE_AUTH, TLSV_EXTID_POST_HANDSHAKE_AUTH, "post_handshake_auth", CH},
    {TLSV_EXT_SIGNATURE_ALGORITHMS_CERT, TLSV_EXTID_SIGNATURE_ALGORITHMS_CERT,
     "signature_algorithms_cert", CH | CR},
    {TLSV_EXT_KEY_SHARE, TLSV_EXTID_KEY_SHARE, "key_share", CH | SH13 | HRR},
    {TLSV_EXT_RENEGOTIATION_INFO, TLSV_EXTID_RENEGOTIATION_INFO, "renegotiation_info",
     CH | SH12},
};

const tlsv_ext_info *tlsv_ext_lookup(uint16_t type)
{
    for (size_t i = 0; i < TLSV_EXTID__COUNT; i++)
        if (table[i].type == type)
            return &table[i];
    return NULL;
}

const tlsv_ext_info *tlsv_ext_by_id(tlsv_ext_id id)
{
    return (unsigned)id < TLSV_EXTID__COUNT ? &table[id] : NULL;
}

const char *tlsv_ext_name(uint16_t type)
{
    const tlsv_ext_info *e = tlsv_ext_lookup(type);
    if (e)
        return e->name;
    return tlsv_is_grease(type) ? "GREASE" : "unknown";
}

bool tlsv_ext_allowed(uint16_t type, tlsv_ext_where where)
{
    const tlsv_ext_info *e = tlsv_ext_lookup(type);
    return !e || (e->where & (unsigned)where) != 0;
}

uint32_t tlsv_ext_allowed_mask(tlsv_ext_where where)
{
    uint32_t m = 0;
    for (size_t i = 0; i < TLSV_EXTID__COUNT; i++)
        if (table[i].where & (unsigned)where)
            m |= TLSV_EXT_BIT(table[i].id);
    return m;
}

bool tlsv_is_grease(uint16_t v)
{
    return (v & 0x0f0fu) == 0x0a0au && (v >> 8) == (v & 0xffu);
}

uint16_t tlsv_grease_value(unsigned i)
{
    return (uint16_t)(0x0a0au + 0x1010u * (i % 16u));
}

bool tlsv_is_grease_psk_mode(uint8_t v)
{
    /* 0x1F * N + 0x0B for N = 0..7 */
    return v >= 0x0b && (v - 0x0b) % 0x1f == 0 && (v - 0x0b) / 0x1f <= 7;
}
