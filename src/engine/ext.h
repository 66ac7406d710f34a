/*
 * ext.h -- TLS extensions: code points, names, and which extension may
 * appear in which message.
 *
 * This file is the table; msg.c does the encoding and decoding. The rule
 * it serves is RFC 8446 §4.2: "If an implementation receives an extension
 * which it recognizes and which is not specified for the message in which
 * it appears, it MUST abort the handshake with an illegal_parameter alert."
 * Extensions this table does not know are not "recognized": every parser
 * skips them (GREASE values, RFC 8701, included).
 *
 * The table covers the extensions tlsv implements and a few it only
 * tolerates (max_fragment_length, signed_certificate_timestamp,
 * status_request contents), so that they are placed correctly too.
 */
#ifndef TLSV_ENGINE_EXT_H
#define TLSV_ENGINE_EXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Extension type code points (IANA "TLS ExtensionType Values"). */
enum {
    TLSV_EXT_SERVER_NAME = 0,                /* RFC 6066 §3 */
    TLSV_EXT_MAX_FRAGMENT_LENGTH = 1,        /* RFC 6066 §4 (tolerated, never used) */
    TLSV_EXT_STATUS_REQUEST = 5,             /* RFC 6066 §8 (tolerated) */
    TLSV_EXT_SUPPORTED_GROUPS = 10,          /* RFC 8422 §5.1.1, RFC 8446 §4.2.7 */
    TLSV_EXT_EC_POINT_FORMATS = 11,          /* RFC 8422 §5.1.2 */
    TLSV_EXT_SIGNATURE_ALGORITHMS = 13,      /* RFC 5246 §7.4.1.4.1, RFC 8446 §4.2.3 */
    TLSV_EXT_ALPN = 16,                      /* RFC 7301 */
    TLSV_EXT_SCT = 18,                       /* RFC 6962 (tolerated) */
    TLSV_EXT_PADDING = 21,                   /* RFC 7685 */
    TLSV_EXT_ENCRYPT_THEN_MAC = 22,          /* RFC 7366 */
    TLSV_EXT_EXTENDED_MASTER_SECRET = 23,    /* RFC 7627 */
    TLSV_EXT_RECORD_SIZE_LIMIT = 28,         /* RFC 8449 */
    TLSV_EXT_SESSION_TICKET = 35,            /* RFC 5077 */
    TLSV_EXT_PRE_SHARED_KEY = 41,            /* RFC 8446 §4.2.11 */
    TLSV_EXT_EARLY_DATA = 42,                /* RFC 8446 §4.2.10 */
    TLSV_EXT_SUPPORTED_VERSIONS = 43,        /* RFC 8446 §4.2.1 */
    TLSV_EXT_COOKIE = 44,                    /* RFC 8446 §4.2.2 */
    TLSV_EXT_PSK_KEY_EXCHANGE_MODES = 45,    /* RFC 8446 §4.2.9 */
    TLSV_EXT_CERTIFICATE_AUTHORITIES = 47,   /* RFC 8446 §4.2.4 */
    TLSV_EXT_OID_FILTERS = 48,               /* RFC 8446 §4.2.5 */
    TLSV_EXT_POST_HANDSHAKE_AUTH = 49,       /* RFC 8446 §4.2.6 */
    TLSV_EXT_SIGNATURE_ALGORITHMS_CERT = 50, /* RFC 8446 §4.2.3 */
    TLSV_EXT_KEY_SHARE = 51,                 /* RFC 8446 §4.2.8 */
    TLSV_EXT_RENEGOTIATION_INFO = 0xff01     /* RFC 5746 */
};

/* Dense numbers for the known extensions, so that "which extensions were
 * present" fits one uint32_t (the `present` field of the parsed messages in
 * msg.h). Test a bit with tlsv_ext_present(). */
typedef enum tlsv_ext_id {
    TLSV_EXTID_SERVER_NAME = 0,
    TLSV_EXTID_MAX_FRAGMENT_LENGTH,
    TLSV_EXTID_STATUS_REQUEST,
    TLSV_EXTID_SUPPORTED_GROUPS,
    TLSV_EXTID_EC_POINT_FORMATS,
    TLSV_EXTID_SIGNATURE_ALGORITHMS,
    TLSV_EXTID_ALPN,
    TLSV_EXTID_SCT,
    TLSV_EXTID_PADDING,
    TLSV_EXTID_ENCRYPT_THEN_MAC,
    TLSV_EXTID_EXTENDED_MASTER_SECRET,
    TLSV_EXTID_RECORD_SIZE_LIMIT,
    TLSV_EXTID_SESSION_TICKET,
    TLSV_EXTID_PRE_SHARED_KEY,
    TLSV_EXTID_EARLY_DATA,
    TLSV_EXTID_SUPPORTED_VERSIONS,
    TLSV_EXTID_COOKIE,
    TLSV_EXTID_PSK_KEY_EXCHANGE_MODES,
    TLSV_EXTID_CERTIFICATE_AUTHORITIES,
    TLSV_EXTID_OID_FILTERS,
    TLSV_EXTID_POST_HANDSHAKE_AUTH,
    TLSV_EXTID_SIGNATURE_ALGORITHMS_CERT,
    TLSV_EXTID_KEY_SHARE,
    TLSV_EXTID_RENEGOTIATION_INFO,
    TLSV_EXTID__COUNT
} tlsv_ext_id;

#define TLSV_EXT_BIT(id) ((uint32_t)1u << (unsigned)(id))

/* true when the bit of `id` is set in a `present` mask. */
static inline bool tlsv_ext_present(uint32_t present, tlsv_ext_id id)
{
    return (present & TLSV_EXT_BIT(id)) != 0;
}

/* Whether a server's extension block -- its `present` mask and its `n`
 * extensions, known or not -- holds anything the client did not offer
 * (`offered`: the mask of its ClientHello): a known extension it did not
 * send, or any unknown one (GREASE included, RFC 8701 §3). RFC 8446 §4.2,
 * RFC 5246 §7.4.1.4: the client aborts with unsupported_extension. */
static inline bool tlsv_ext_unsolicited(uint32_t present, size_t n, uint32_t offered)
{
    size_t known = 0;
    for (uint32_t m = present; m; m &= m - 1)
        known++;
    return known != n || (present & ~offered) != 0;
}

/* The messages an extension block can belong to. RFC 8446 §4.2's table
 * (CH, SH, HRR, EE, CT, CR, NST) plus the TLS 1.0-1.2 ServerHello, which
 * is a different context from the TLS 1.3 one. */
typedef enum tlsv_ext_where {
    TLSV_IN_CH = 1u << 0,   /* ClientHello (any version) */
    TLSV_IN_SH12 = 1u << 1, /* ServerHello of TLS 1.2 and earlier (no supported_versions) */
    TLSV_IN_SH13 = 1u << 2, /* TLS 1.3 ServerHello */
    TLSV_IN_HRR = 1u << 3,  /* HelloRetryRequest */
    TLSV_IN_EE = 1u << 4,   /* EncryptedExtensions */
    TLSV_IN_CT = 1u << 5,   /* a TLS 1.3 CertificateEntry */
    TLSV_IN_CR = 1u << 6,   /* TLS 1.3 CertificateRequest */
    TLSV_IN_NST = 1u << 7   /* TLS 1.3 NewSessionTicket */
} tlsv_ext_where;

typedef struct tlsv_ext_info {
    uint16_t type;    /* code point */
    tlsv_ext_id id;   /* dense number */
    const char *name; /* RFC name, e.g. "key_share" */
    unsigned where;   /* tlsv_ext_where bits: the messages it may appear in */
} tlsv_ext_info;

/* The table entry of a known extension type, NULL for any other type
 * (unknown, private, GREASE). */
const tlsv_ext_info *tlsv_ext_lookup(uint16_t type);

/* The table entry by dense id (never NULL for id < TLSV_EXTID__COUNT). */
const tlsv_ext_info *tlsv_ext_by_id(tlsv_ext_id id);

/* The RFC name of an extension type; "GREASE" for RFC 8701 values;
 * "unknown" otherwise. Never NULL. */
const char *tlsv_ext_name(uint16_t type);

/* Whether an extension of this type may appear in message `where` (one
 * TLSV_IN_* bit). Unknown types are "allowed": they are ignored. */
bool tlsv_ext_allowed(uint16_t type, tlsv_ext_where where);

/* The mask (TLSV_EXT_BIT) of every known extension allowed in `where`. */
uint32_t tlsv_ext_allowed_mask(tlsv_ext_where where);

/* RFC 8701 GREASE: 0x0A0A, 0x1A1A, ..., 0xFAFA -- the values reserved for
 * cipher suites, extensions, groups, signature algorithms, versions and
 * ALPN (as the two-byte name). */
bool tlsv_is_grease(uint16_t v);

/* The i-th GREASE value (i taken modulo 16): 0x0A0A + 0x1010 * (i % 16). */
uint16_t tlsv_grease_value(unsigned i);

/* RFC 8701 GREASE values for the one-byte psk_key_exchange_modes:
 * 0x0B, 0x2A, 0x49, 0x68, 0x87, 0xA6, 0xC5, 0xE4. */
bool tlsv_is_grease_psk_mode(uint8_t v);

#endif /* TLSV_ENGINE_EXT_H */
