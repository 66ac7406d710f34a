/*
 * msg.h -- the handshake message codec: every handshake message of TLS 1.0
 * to 1.3 parsed and written through the bounded reader/writer of buf.h.
 *
 * Parsing
 * -------
 * A parser takes the BODY of one handshake message (the bytes after the
 * 4-byte header; see tlsv_msg_frame) and fills a struct of borrowed views
 * (tlsv_bytes) pointing into that body. Nothing is allocated or copied
 * (except fixed 32-byte randoms); the views stay valid while the body
 * buffer lives and is unchanged. Every length is checked, every list that
 * a view exposes has been validated entry by entry, so walking it later
 * with the iterators below cannot fail on a view a parser produced.
 *
 * A parser returns 0 on success and -1 on failure, with `err` (may be
 * NULL) filled through tlsv_err_set: side LOCAL (this endpoint decided and
 * will send the alert), a sentence naming the message, the field and what
 * was wrong ("ClientHello: key_share: entry key_exchange length 40 exceeds
 * the 32 bytes left"), and a reason + alert from one table (msg.c,
 * `faults`):
 *
 *   fault                      alert               reason
 *   TLSV_MSG_F_DECODE          decode_error        DECODE_ERROR
 *     a length or framing error: a vector longer than what is left, below
 *     its minimum or above its maximum, an odd u16 list, trailing bytes.
 *   TLSV_MSG_F_ILLEGAL         illegal_parameter   ILLEGAL_PARAMETER
 *     well-formed but semantically invalid: compression not null, a
 *     KeyUpdate value other than 0/1, a record_size_limit below 64, two
 *     key shares for one group, a NUL in host_name, ...
 *   TLSV_MSG_F_BAD_EXTENSION   illegal_parameter   BAD_EXTENSION
 *     a duplicate extension, an extension not allowed in this message
 *     (RFC 8446 §4.2), pre_shared_key not last.
 *   TLSV_MSG_F_MISSING_EXTENSION missing_extension MISSING_EXTENSION
 *     TLS 1.3 CertificateRequest without signature_algorithms (§4.3.2).
 *   TLSV_MSG_F_UNEXPECTED      unexpected_message  UNEXPECTED_MESSAGE
 *     only a wrong handshake message type (tlsv_msg_expect; the SSLv2
 *     CLIENT-HELLO parser when msg_type is not 1).
 *   TLSV_MSG_F_TOO_LARGE       illegal_parameter   EXCESSIVE_MESSAGE_SIZE
 *     a message longer than the caller's limit (tlsv_msg_frame).
 *   TLSV_MSG_F_TOO_MANY_CERTS  certificate_unknown EXCESSIVE_MESSAGE_SIZE (a dedicated
 *                                                  TOO_MANY_CERTIFICATES would be clearer)
 *     a Certificate message with more than TLSV_MSG_MAX_CERTS entries.
 *   TLSV_MSG_F_ARGUMENT        internal_error      INVALID_ARGUMENT
 *     a writer was given something it cannot encode (a 300-byte ALPN name).
 *   TLSV_MSG_F_WRITE           internal_error      INTERNAL_ERROR
 *     the writer ran out of room (fixed buffer too small, growable max).
 * The TLSV_MSG_R_* macros below name the reason of each fault in one place
 * (the table in msg.c uses them); changing one is a one-line change.
 *
 * Framing first: a body that does not match its message's grammar always
 * fails with decode_error, even if it also holds a semantic fault. The
 * parsers stop at the first framing error, but only note a semantic fault
 * (the first one) and report it after the whole body has been framed.
 * So a length field that is off by one, which shifts the parse onto other
 * bytes, can never come out as illegal_parameter; and of two semantic
 * faults, the first in wire order is the one reported.
 *
 * Duplicate detection (extension types, key_share groups) uses a 65536-bit
 * set on the stack (8 KiB; at most two live at once): exact and linear
 * whatever the peer sends.
 *
 * Parsers do not decide anything that needs more than the message itself
 * (negotiated version aside, which some take as an argument): whether a
 * ServerHello answers only what was offered, whether a key share's group is
 * one the server supports, whether cipher suite and version agree -- those
 * are the state machines' checks, helped by the `present` masks.
 *
 * Writing
 * -------
 * A writer appends one complete handshake message (header included) to a
 * tlsv_writer. It returns 0, or -1 with `err` filled (TLSV_MSG_F_WRITE when
 * the writer ran out of room -- the writer is then failed, as buf.h makes
 * it sticky -- or TLSV_MSG_F_ARGUMENT when a parameter cannot be encoded;
 * then nothing useful is left in the writer either and it should be
 * discarded). Parameters are borrowed for the duration of the call.
 *
 * Nothing here includes an OpenSSL header; nothing does I/O.
 */
#ifndef TLSV_ENGINE_MSG_H
#define TLSV_ENGINE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "engine/ext.h"
#include "tlsv.h"
#include "version.h"

/* ======================================================================
 * Basics
 * ====================================================================== */

/* A borrowed view of bytes: n bytes at p (p may be NULL when n is 0). */
typedef struct tlsv_bytes {
    const uint8_t *p;
    size_t n;
} tlsv_bytes;

/* Handshake message types (RFC 8446 §4, RFC 5246 §7.4). */
enum {
    TLSV_HS_HELLO_REQUEST = 0, /* TLS <= 1.2 */
    TLSV_HS_CLIENT_HELLO = 1,
    TLSV_HS_SERVER_HELLO = 2, /* also HelloRetryRequest (RFC 8446 §4.1.3) */
    TLSV_HS_NEW_SESSION_TICKET = 4,
    TLSV_HS_END_OF_EARLY_DATA = 5,
    TLSV_HS_ENCRYPTED_EXTENSIONS = 8,
    TLSV_HS_CERTIFICATE = 11,
    TLSV_HS_SERVER_KEY_EXCHANGE = 12,
    TLSV_HS_CERTIFICATE_REQUEST = 13,
    TLSV_HS_SERVER_HELLO_DONE = 14,
    TLSV_HS_CERTIFICATE_VERIFY = 15,
    TLSV_HS_CLIENT_KEY_EXCHANGE = 16,
    TLSV_HS_FINISHED = 20,
    TLSV_HS_CERTIFICATE_STATUS = 22, /* RFC 6066 §8 (TLS <= 1.2) */
    TLSV_HS_KEY_UPDATE = 24,
    TLSV_HS_MESSAGE_HASH = 254 /* synthetic, transcript after HRR (§4.4.1) */
};

/* Bytes of the handshake message header: msg_type (u8), length (u24). */
#define TLSV_HS_HEADER_LEN 4

/* Cipher suite code points with a meaning of their own. */
#define TLSV_SUITE_FALLBACK_SCSV 0x5600u              /* RFC 7507 */
#define TLSV_SUITE_EMPTY_RENEGOTIATION_INFO_SCSV 0x00ffu /* RFC 5746 §3.3 */

/* psk_key_exchange_modes (RFC 8446 §4.2.9). */
#define TLSV_PSK_KE 0
#define TLSV_PSK_DHE_KE 1

/* ServerHello.random of a HelloRetryRequest: SHA-256("HelloRetryRequest")
 * (RFC 8446 §4.1.3). */
extern const uint8_t tlsv_hrr_random[32];

/* The most certificates a Certificate message may carry (TLS 1.2 list or
 * TLS 1.3 CertificateEntry list). Beyond it, the parser fails with
 * TLSV_MSG_F_TOO_MANY_CERTS. Real chains are 2 to 4 long. */
#define TLSV_MSG_MAX_CERTS 10

/* The most entries supported_versions can hold: its u8 length allows 254
 * bytes. A versions array this long never truncates (tlsv_ch_offer_view). */
#define TLSV_MSG_MAX_VERSIONS 127

/* The RFC name of a handshake type ("client_hello"), "unknown" otherwise. */
const char *tlsv_hs_type_name(uint8_t type);

/* ======================================================================
 * Errors: fault kinds and the reason + alert each maps to
 * ====================================================================== */

typedef enum tlsv_msg_fault {
    TLSV_MSG_F_DECODE = 0,
    TLSV_MSG_F_ILLEGAL,
    TLSV_MSG_F_BAD_EXTENSION,
    TLSV_MSG_F_MISSING_EXTENSION,
    TLSV_MSG_F_UNEXPECTED,
    TLSV_MSG_F_TOO_LARGE,
    TLSV_MSG_F_TOO_MANY_CERTS,
    TLSV_MSG_F_ARGUMENT,
    TLSV_MSG_F_WRITE,
    TLSV_MSG_F__COUNT
} tlsv_msg_fault;

/* The reason of each fault (see the table at the top of this file). */
#define TLSV_MSG_R_DECODE_ERROR TLSV_R_DECODE_ERROR
#define TLSV_MSG_R_ILLEGAL_PARAMETER TLSV_R_ILLEGAL_PARAMETER
#define TLSV_MSG_R_BAD_EXTENSION TLSV_R_BAD_EXTENSION
#define TLSV_MSG_R_MISSING_EXTENSION TLSV_R_MISSING_EXTENSION
#define TLSV_MSG_R_UNEXPECTED_MESSAGE TLSV_R_UNEXPECTED_MESSAGE
#define TLSV_MSG_R_EXCESSIVE_MESSAGE_SIZE TLSV_R_EXCESSIVE_MESSAGE_SIZE
/* no dedicated reason yet: a chain longer than TLSV_MSG_MAX_CERTS */
#define TLSV_MSG_R_TOO_MANY_CERTIFICATES TLSV_R_TOO_MANY_CERTIFICATES
#define TLSV_MSG_R_INVALID_ARGUMENT TLSV_R_INVALID_ARGUMENT
#define TLSV_MSG_R_WRITE TLSV_R_INTERNAL_ERROR

/* The reason and alert of a fault. */
tlsv_reason tlsv_msg_fault_reason(tlsv_msg_fault f);
int tlsv_msg_fault_alert(tlsv_msg_fault f);

/* ======================================================================
 * Framing: the handshake message header
 * ====================================================================== */

typedef struct tlsv_hs_header {
    uint8_t type;    /* msg_type */
    uint32_t length; /* length of the body (u24) */
} tlsv_hs_header;

/* Reads a header from the first 4 of n bytes. false (and *out zeroed) when
 * fewer than 4 bytes are given. */
bool tlsv_msg_header_parse(const uint8_t *p, size_t n, tlsv_hs_header *out);

/* Appends a header. Fails (writer failed) when length > 0xffffff. */
bool tlsv_msg_header_write(tlsv_writer *w, uint8_t type, uint32_t length);

/* One complete handshake message found at the front of a buffer. */
typedef struct tlsv_hs_msg {
    uint8_t type;     /* msg_type */
    tlsv_bytes body;  /* the body, what the parsers take */
    tlsv_bytes whole; /* header + body, what the transcript hashes */
} tlsv_hs_msg;

/* Looks at buffered handshake bytes (n bytes at p, possibly several
 * messages or a partial one). Returns
 *    1  a complete message is at the front: *out describes it (it is the
 *       first out->whole.n bytes);
 *    0  more bytes are needed (a partial header, or a body not complete
 *       yet) -- but a header announcing more than max_body is refused as
 *       soon as the header is complete:
 *   -1  TLSV_MSG_F_TOO_LARGE ("Certificate: length 70000 exceeds the limit
 *       65536").
 * *out is zeroed unless 1 is returned. */
int tlsv_msg_frame(const uint8_t *p, size_t n, size_t max_body, tlsv_hs_msg *out,
                   tlsv_error *err);

/* 0 when m->type == type; otherwise -1 with TLSV_MSG_F_UNEXPECTED
 * ("expected certificate_verify, received finished"). */
int tlsv_msg_expect(const tlsv_hs_msg *m, uint8_t type, tlsv_error *err);

/* Writer side of a message: tlsv_msg_begin writes msg_type and opens the
 * u24 body length; tlsv_msg_end closes it. Everything in between is the
 * body. Return false when the writer failed. */
bool tlsv_msg_begin(tlsv_writer *w, uint8_t type);
bool tlsv_msg_end(tlsv_writer *w);

/* ======================================================================
 * Walking validated lists (views produced by the parsers)
 * ====================================================================== */

/* Lists of u16 (cipher suites, groups, signature schemes, versions). The
 * view's length is even (parsers guarantee it). */
size_t tlsv_u16_count(tlsv_bytes list);
/* The i-th value; 0 when i is out of range. */
uint16_t tlsv_u16_at(tlsv_bytes list, size_t i);
bool tlsv_u16_contains(tlsv_bytes list, uint16_t v);
/* Lists of u8 (compression methods, psk modes, point formats). */
bool tlsv_u8_contains(tlsv_bytes list, uint8_t v);

/* An iterator over one of the structured lists below: initialise it with
 * the view, then call the matching _next until it returns false. On a
 * view a parser produced, _next fails only at the end. */
typedef struct tlsv_iter {
    tlsv_reader r;
    unsigned stride; /* cipher suites: 2, or 3 for SSLv2 cipher specs */
} tlsv_iter;

void tlsv_iter_init(tlsv_iter *it, tlsv_bytes list);

/* ClientHello key_share client_shares: KeyShareEntry {group, key_exchange}. */
bool tlsv_iter_key_share(tlsv_iter *it, uint16_t *group, tlsv_bytes *key_exchange);
/* ALPN protocol_name_list: ProtocolName opaque<1..255>. */
bool tlsv_iter_alpn(tlsv_iter *it, tlsv_bytes *name);
/* pre_shared_key identities: PskIdentity {identity, obfuscated_ticket_age}. */
bool tlsv_iter_psk_identity(tlsv_iter *it, tlsv_bytes *identity, uint32_t *obfuscated_age);
/* pre_shared_key binders: PskBinderEntry opaque<32..255>. */
bool tlsv_iter_psk_binder(tlsv_iter *it, tlsv_bytes *binder);
/* certificate_authorities (TLS 1.3 extension, TLS 1.2 CertificateRequest
 * field): DistinguishedName opaque<1..2^16-1>, DER. */
bool tlsv_iter_dn(tlsv_iter *it, tlsv_bytes *dn);

/* ======================================================================
 * ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2, App. E.2)
 * ====================================================================== */

typedef struct tlsv_client_hello {
    uint16_t legacy_version;     /* client_version / legacy_version */
    uint8_t random[32];          /* SSLv2: the challenge, right-aligned */
    tlsv_bytes session_id;       /* 0..32 bytes (SSLv2: 0 or 16) */
    /* Cipher suites as on the wire: a u16 list, or for an SSLv2
     * CLIENT-HELLO the 3-byte cipher specs. Walk with tlsv_ch_suites(). */
    tlsv_bytes cipher_suites;
    bool has_fallback_scsv;                 /* TLS_FALLBACK_SCSV 0x5600 */
    bool has_empty_renegotiation_info_scsv; /* 0x00ff */
    tlsv_bytes compression_methods; /* contains null (0); SSLv2: {0} */
    bool sslv2;                     /* came as an SSLv2-compatible CLIENT-HELLO */

    bool has_extensions;   /* the extensions block was there (even empty) */
    size_t n_extensions;   /* extensions in it, known or not */
    uint32_t present;      /* TLSV_EXT_BIT of every known extension present */

    /* The views below are meaningful when the extension is in `present`;
     * otherwise they are empty. Lists are the content of the list vector
     * (its length prefix stripped) and validated. */
    tlsv_bytes server_name;         /* the host_name (one, no NUL, 1..65535 bytes) */
    tlsv_bytes supported_groups;    /* u16 list, non-empty */
    tlsv_bytes signature_algorithms;      /* u16 list, non-empty */
    tlsv_bytes signature_algorithms_cert; /* u16 list, non-empty */
    tlsv_bytes supported_versions;  /* u16 list, non-empty (may hold GREASE) */
    tlsv_bytes key_shares;          /* client_shares (possibly empty) */
    size_t n_key_shares;            /* distinct groups (a duplicate is refused) */
    tlsv_bytes psk_key_exchange_modes; /* u8 list, non-empty */
    tlsv_bytes psk_identities;      /* PskIdentity list, non-empty */
    size_t n_psk_identities;        /* == number of binders */
    tlsv_bytes psk_binders;         /* PskBinderEntry list */
    /* Offset, within the BODY, of the binders list (its 2-byte length).
     * The PSK binder transcript hashes the "truncated ClientHello": the
     * 4-byte header followed by body[0 .. psk_binders_offset)
     * (RFC 8446 §4.2.11.2). */
    size_t psk_binders_offset;
    tlsv_bytes cookie;              /* non-empty */
    tlsv_bytes alpn;                /* protocol_name_list, names non-empty */
    tlsv_bytes ec_point_formats;    /* u8 list, non-empty */
    tlsv_bytes renegotiation_info;  /* renegotiated_connection (may be empty) */
    tlsv_bytes session_ticket;      /* the ticket (may be empty) */
    tlsv_bytes certificate_authorities; /* DistinguishedName list */
    size_t padding_len;             /* bytes of padding extension_data */
    uint16_t record_size_limit;     /* >= 64 */
    /* extended_master_secret, encrypt_then_mac, early_data,
     * post_handshake_auth: empty, presence only. status_request, SCT,
     * max_fragment_length: presence only, contents not interpreted. */
} tlsv_client_hello;

/* Parses a ClientHello body. Checks, beyond every length: session_id
 * <= 32 bytes; cipher_suites even and non-empty; compression_methods
 * non-empty and containing null (else illegal_parameter); each known
 * extension's own syntax; no duplicate extension (any type);
 * pre_shared_key last; identities and binders equally many; no two
 * key shares for one group; no extension that RFC 8446 §4.2 does not
 * allow in a ClientHello (oid_filters); no trailing bytes. Unknown
 * extensions and GREASE are skipped. */
int tlsv_msg_parse_client_hello(const uint8_t *body, size_t len, tlsv_client_hello *out,
                                tlsv_error *err);

/* Parses an SSLv2-compatible CLIENT-HELLO (RFC 5246 App. E.2) without its
 * 2-byte record header: msg_type (1), version, cipher_spec_length (a
 * non-zero multiple of 3), session_id_length (0 or 16; 0 when version is
 * TLS 1.2 or above), challenge_length (16..32), then the three fields. The
 * result is a ClientHello with sslv2 set, no extensions, compression
 * {null}, random = the challenge right-aligned and zero-padded on the
 * left. cipher_suites is the 3-byte specs: tlsv_ch_suites() yields those
 * whose first byte is 0 as TLS suites and skips SSL 2.0 kinds. (Those are
 * exactly the bytes the transcript hashes.) msg_type other than 1 fails
 * with TLSV_MSG_F_UNEXPECTED, any length problem with TLSV_MSG_F_DECODE. */
int tlsv_msg_parse_sslv2_client_hello(const uint8_t *msg, size_t len, tlsv_client_hello *out,
                                      tlsv_error *err);

/* Starts an iterator over the ClientHello's cipher suites; then
 * tlsv_iter_suite() yields them in order (SSLv2 specs mapped). */
void tlsv_ch_suites(const tlsv_client_hello *ch, tlsv_iter *it);
bool tlsv_iter_suite(tlsv_iter *it, uint16_t *suite);
bool tlsv_ch_has_suite(const tlsv_client_hello *ch, uint16_t suite);

/* The key_exchange the client sent for `group`, if any. */
bool tlsv_ch_find_key_share(const tlsv_client_hello *ch, uint16_t group, tlsv_bytes *key_exchange);

/* Fills the version policy's view of a ClientHello (version.h). The
 * supported_versions entries are decoded into versions[0..cap) (cap may be
 * 0, versions NULL then); entries beyond cap are counted but not stored;
 * out->versions/n_versions describe what was stored. Returns the number of
 * entries the extension holds (0 without it). Use TLSV_MSG_MAX_VERSIONS
 * entries to never truncate. out->versions points into `versions`. */
size_t tlsv_ch_offer_view(const tlsv_client_hello *ch, uint16_t *versions, size_t cap,
                          tlsv_offer_view *out);

/* ---- writing a ClientHello ------------------------------------------- */

typedef struct tlsv_key_share_param {
    uint16_t group;
    tlsv_bytes key_exchange; /* 1..65535 bytes */
} tlsv_key_share_param;

typedef struct tlsv_psk_param {
    tlsv_bytes identity;            /* 1..65535 bytes (a TLS 1.3 ticket) */
    uint32_t obfuscated_ticket_age;
    size_t binder_len;              /* 32..255: the hash length of the PSK */
} tlsv_psk_param;

/* What a client puts in its ClientHello. Zero-initialise, then set what is
 * wanted: lists with n == 0 and false flags are not sent. */
typedef struct tlsv_client_hello_params {
    uint16_t legacy_version;
    const uint8_t *random;          /* 32 bytes, required */
    tlsv_bytes session_id;          /* 0..32 bytes */
    const uint16_t *cipher_suites;  /* at least one suite or SCSV in all */
    size_t n_cipher_suites;
    bool fallback_scsv;                 /* append TLS_FALLBACK_SCSV */
    bool empty_renegotiation_info_scsv; /* append 0x00ff */
    const uint16_t *versions;       /* supported_versions (1..127 entries) */
    size_t n_versions;
    const uint16_t *groups;         /* supported_groups */
    size_t n_groups;
    const uint16_t *signature_algorithms;
    size_t n_signature_algorithms;
    const uint16_t *signature_algorithms_cert;
    size_t n_signature_algorithms_cert;
    bool key_share;                 /* send key_share (even with no entries) */
    const tlsv_key_share_param *key_shares;
    size_t n_key_shares;
    const char *server_name;        /* SNI host name (NUL-terminated), NULL: none */
    const tlsv_bytes *alpn;         /* protocol names, each 1..255 bytes */
    size_t n_alpn;
    const uint8_t *psk_modes;       /* psk_key_exchange_modes */
    size_t n_psk_modes;
    tlsv_bytes cookie;              /* echo of an HRR cookie (n > 0: sent) */
    bool renegotiation_info;        /* empty renegotiation_info extension */
    bool extended_master_secret;
    bool encrypt_then_mac;
    bool ec_point_formats;          /* {uncompressed} */
    bool session_ticket;            /* session_ticket extension ... */
    tlsv_bytes ticket;              /* ... carrying this ticket (may be empty) */
    bool status_request;            /* OCSP, no responder ids, no extensions */
    bool post_handshake_auth;
    bool early_data;
    uint16_t record_size_limit;     /* 0: not sent; else 64.. */
    /* RFC 7685: pad a message (header included) of 256..511 bytes to 512. */
    bool padding;
    /* RFC 8701: add GREASE to the suites (first), groups (first, when
     * groups are sent), supported_versions (first, when sent), a key share
     * (1 byte, when key_share is sent, unless second_hello), and two
     * extensions (first, empty; last before padding, one zero byte).
     * grease_seed[0..4] pick the values (suite, extension 1, extension 2,
     * group, version); the two extensions always differ. */
    bool grease;
    uint8_t grease_seed[5];
    bool second_hello;              /* answers an HRR: no GREASE key share */
    /* pre_shared_key, written last with zero binders of binder_len. */
    const tlsv_psk_param *psks;
    size_t n_psks;
} tlsv_client_hello_params;

/* Appends a ClientHello. The extensions are written in a fixed order with
 * pre_shared_key last; without any extension the block is omitted (an
 * SSL 3.0-style hello). With PSKs, *truncated_len (may be NULL otherwise)
 * receives the number of bytes, from the start of this message (its
 * header), that the binder transcript covers; the binders are zeros until
 * tlsv_msg_fill_binders() replaces them. Without PSKs it is set to 0. */
int tlsv_msg_write_client_hello(tlsv_writer *w, const tlsv_client_hello_params *p,
                                size_t *truncated_len, tlsv_error *err);

/* Replaces the placeholder binders of a ClientHello written by
 * tlsv_msg_write_client_hello: msg/len is that message (header included),
 * truncated_len the value it returned. Each binders[i].n must equal the
 * binder_len written. Fails with TLSV_MSG_F_ARGUMENT on any mismatch. */
int tlsv_msg_fill_binders(uint8_t *msg, size_t len, size_t truncated_len,
                          const tlsv_bytes *binders, size_t n, tlsv_error *err);

/* ======================================================================
 * ServerHello and HelloRetryRequest (RFC 8446 §4.1.3, §4.1.4; RFC 5246 §7.4.1.3)
 * ====================================================================== */

typedef struct tlsv_server_hello {
    uint16_t legacy_version;
    uint8_t random[32];
    tlsv_bytes session_id;         /* 0..32 */
    uint16_t cipher_suite;
    bool is_hello_retry_request;   /* random == tlsv_hrr_random */
    bool has_extensions;
    size_t n_extensions;
    uint32_t present;              /* TLSV_EXT_BIT of known extensions */
    uint16_t selected_version;     /* supported_versions */
    uint16_t key_share_group;      /* SH: server_share.group; HRR: selected_group */
    tlsv_bytes key_share;          /* SH: server_share.key_exchange; HRR: empty */
    uint16_t psk_selected_identity;/* pre_shared_key */
    tlsv_bytes cookie;             /* HRR */
    tlsv_bytes renegotiation_info; /* renegotiated_connection */
    tlsv_bytes ec_point_formats;
    tlsv_bytes alpn;               /* the one selected protocol name */
    uint16_t record_size_limit;
    /* server_name, extended_master_secret, encrypt_then_mac,
     * session_ticket, status_request: empty, presence only. */
} tlsv_server_hello;

/* Parses a ServerHello body (both forms) or a HelloRetryRequest.
 * compression_method must be 0 (illegal_parameter). The extension rules
 * depend on the form, decided after reading them all: an HRR (by random)
 * allows key_share (selected_group), cookie, supported_versions; a
 * ServerHello with supported_versions is TLS 1.3 and allows key_share,
 * pre_shared_key, supported_versions; one without is TLS 1.2 or older and
 * allows the TLSV_IN_SH12 column of ext.c. Any other known extension ->
 * TLSV_MSG_F_BAD_EXTENSION. Whether the selected version is acceptable is
 * version.h's decision (tlsv_sh_version_view). */
int tlsv_msg_parse_server_hello(const uint8_t *body, size_t len, tlsv_server_hello *out,
                                tlsv_error *err);

/* The version policy's view of a parsed ServerHello (version.h);
 * out->random points into sh. */
void tlsv_sh_version_view(const tlsv_server_hello *sh, tlsv_server_hello_view *out);

typedef struct tlsv_server_hello_params {
    uint16_t legacy_version;
    const uint8_t *random;          /* 32 bytes; ignored for an HRR */
    bool hello_retry_request;       /* write tlsv_hrr_random */
    tlsv_bytes session_id;          /* echo, 0..32 bytes */
    uint16_t cipher_suite;
    uint16_t selected_version;      /* 0: no supported_versions */
    bool key_share;                 /* send key_share: */
    uint16_t key_share_group;       /*   the group (HRR: selected_group) */
    tlsv_bytes key_share_public;    /*   SH: key_exchange (1..65535 bytes) */
    bool psk;                       /* send pre_shared_key ... */
    uint16_t psk_identity;          /* ... selecting this identity */
    tlsv_bytes cookie;              /* HRR cookie, n > 0: sent */
    bool renegotiation_info;        /* send renegotiation_info ... */
    tlsv_bytes renegotiated_connection; /* ... with this (empty at first) */
    bool extended_master_secret;
    bool encrypt_then_mac;
    bool ec_point_formats;          /* {uncompressed} */
    bool session_ticket;            /* empty: a NewSessionTicket will follow */
    bool server_name;               /* empty acknowledgement (TLS <= 1.2) */
    bool status_request;            /* empty acknowledgement (TLS <= 1.2) */
    tlsv_bytes alpn;                /* selected protocol, n > 0: sent */
    uint16_t record_size_limit;     /* 0: not sent */
} tlsv_server_hello_params;

/* Appends a ServerHello (or HRR). Extensions are written only when at
 * least one is sent. */
int tlsv_msg_write_server_hello(tlsv_writer *w, const tlsv_server_hello_params *p,
                                tlsv_error *err);

/* ======================================================================
 * EncryptedExtensions (RFC 8446 §4.3.1)
 * ====================================================================== */

typedef struct tlsv_encrypted_extensions {
    size_t n_extensions;
    uint32_t present;
    tlsv_bytes supported_groups;  /* u16 list, non-empty */
    tlsv_bytes alpn;              /* the one selected protocol name */
    uint16_t record_size_limit;   /* >= 64 */
    /* server_name, early_data: empty, presence only. */
} tlsv_encrypted_extensions;

/* Parses EncryptedExtensions. Known extensions that RFC 8446 §4.2 does not
 * allow in EE (key_share, supported_versions, signature_algorithms,
 * pre_shared_key, and TLS 1.2-only ones) -> TLSV_MSG_F_BAD_EXTENSION
 * (illegal_parameter); unknown ones are ignored. */
int tlsv_msg_parse_encrypted_extensions(const uint8_t *body, size_t len,
                                        tlsv_encrypted_extensions *out, tlsv_error *err);

typedef struct tlsv_encrypted_extensions_params {
    bool server_name;               /* empty acknowledgement */
    const uint16_t *groups;         /* the server's supported_groups, n > 0: sent */
    size_t n_groups;
    tlsv_bytes alpn;                /* selected protocol, n > 0: sent */
    bool early_data;                /* early data accepted */
    uint16_t record_size_limit;     /* 0: not sent */
} tlsv_encrypted_extensions_params;

int tlsv_msg_write_encrypted_extensions(tlsv_writer *w,
                                        const tlsv_encrypted_extensions_params *p,
                                        tlsv_error *err);

/* ======================================================================
 * Certificate (RFC 8446 §4.4.2; RFC 5246 §7.4.2, §7.4.6)
 * ====================================================================== */

typedef struct tlsv_cert_entry {
    tlsv_bytes data;       /* DER certificate, non-empty */
    tlsv_bytes extensions; /* TLS 1.3: the entry's extension block content */
} tlsv_cert_entry;

typedef struct tlsv_certificate {
    tlsv_bytes request_context; /* TLS 1.3 certificate_request_context */
    size_t n;                   /* entries, 0..TLSV_MSG_MAX_CERTS */
    tlsv_cert_entry entries[TLSV_MSG_MAX_CERTS]; /* entries[0]: end entity */
} tlsv_certificate;

/* Parses a Certificate of `version` (TLS 1.3 form at 0x0304 and above,
 * the plain certificate_list below). An empty list is valid here (a client
 * without certificate); whether it is acceptable is the caller's decision.
 * TLS 1.3 entry extensions: status_request and signed_certificate_timestamp
 * are allowed (contents not interpreted), other known ones refused. More
 * than TLSV_MSG_MAX_CERTS entries -> TLSV_MSG_F_TOO_MANY_CERTS. */
int tlsv_msg_parse_certificate(const uint8_t *body, size_t len, uint16_t version,
                               tlsv_certificate *out, tlsv_error *err);

/* Appends a Certificate: `context` (TLS 1.3 only; must be empty below),
 * then the n DER certificates, end entity first (TLS 1.3 entries carry no
 * extensions). */
int tlsv_msg_write_certificate(tlsv_writer *w, uint16_t version, tlsv_bytes context,
                               const tlsv_bytes *certs, size_t n, tlsv_error *err);

/* ======================================================================
 * CertificateRequest (RFC 8446 §4.3.2; RFC 5246 §7.4.4)
 * ====================================================================== */

typedef struct tlsv_certificate_request {
    tlsv_bytes context;                   /* TLS 1.3 */
    size_t n_extensions;                  /* TLS 1.3 */
    uint32_t present;                     /* TLS 1.3 */
    tlsv_bytes signature_algorithms;      /* u16 list; TLS 1.0/1.1: empty */
    tlsv_bytes signature_algorithms_cert; /* TLS 1.3 extension */
    tlsv_bytes certificate_authorities;   /* DistinguishedName list (may be empty) */
    tlsv_bytes oid_filters;               /* TLS 1.3, not interpreted */
    tlsv_bytes certificate_types;         /* TLS <= 1.2 ClientCertificateType list */
} tlsv_certificate_request;

/* Parses a CertificateRequest of `version`. TLS 1.3 requires
 * signature_algorithms (TLSV_MSG_F_MISSING_EXTENSION otherwise); TLS 1.2
 * has supported_signature_algorithms; TLS 1.0/1.1 neither. */
int tlsv_msg_parse_certificate_request(const uint8_t *body, size_t len, uint16_t version,
                                       tlsv_certificate_request *out, tlsv_error *err);

typedef struct tlsv_certificate_request_params {
    uint16_t version;
    tlsv_bytes context;                    /* TLS 1.3 (empty during the handshake) */
    const uint16_t *signature_algorithms;  /* TLS 1.2 and 1.3: required */
    size_t n_signature_algorithms;
    const uint16_t *signature_algorithms_cert; /* TLS 1.3, optional */
    size_t n_signature_algorithms_cert;
    const uint8_t *certificate_types;      /* TLS <= 1.2: required (e.g. 1 rsa_sign, 64 ecdsa_sign) */
    size_t n_certificate_types;
    const tlsv_bytes *authorities;         /* DER names, optional */
    size_t n_authorities;
} tlsv_certificate_request_params;

int tlsv_msg_write_certificate_request(tlsv_writer *w, const tlsv_certificate_request_params *p,
                                       tlsv_error *err);

/* ======================================================================
 * CertificateVerify (RFC 8446 §4.4.3; RFC 5246 §7.4.8)
 * ====================================================================== */

typedef struct tlsv_certificate_verify {
    bool has_scheme;     /* TLS 1.2 and 1.3 */
    uint16_t scheme;     /* SignatureScheme / SignatureAndHashAlgorithm */
    tlsv_bytes signature;
} tlsv_certificate_verify;

/* TLS 1.2+: scheme + signature<0..2^16-1>; TLS 1.0/1.1: signature only. */
int tlsv_msg_parse_certificate_verify(const uint8_t *body, size_t len, uint16_t version,
                                      tlsv_certificate_verify *out, tlsv_error *err);
/* `scheme` is written for TLS 1.2 and above, ignored below. */
int tlsv_msg_write_certificate_verify(tlsv_writer *w, uint16_t version, uint16_t scheme,
                                      tlsv_bytes signature, tlsv_error *err);

/* ======================================================================
 * Finished (RFC 8446 §4.4.4; RFC 5246 §7.4.9)
 * ====================================================================== */

/* The body must be exactly verify_len bytes (the caller's hash length in
 * TLS 1.3, 12 in TLS 1.0-1.2, 36 in SSL 3.0); *verify_data views it.
 * Nothing is compared here. */
int tlsv_msg_parse_finished(const uint8_t *body, size_t len, size_t verify_len,
                            tlsv_bytes *verify_data, tlsv_error *err);
int tlsv_msg_write_finished(tlsv_writer *w, tlsv_bytes verify_data, tlsv_error *err);

/* ======================================================================
 * NewSessionTicket (RFC 8446 §4.6.1; RFC 5077 §3.3)
 * ====================================================================== */

typedef struct tlsv_new_session_ticket {
    uint32_t lifetime;      /* TLS 1.3 ticket_lifetime; TLS 1.2 lifetime hint */
    uint32_t age_add;       /* TLS 1.3 */
    tlsv_bytes nonce;       /* TLS 1.3 */
    tlsv_bytes ticket;      /* TLS 1.3: non-empty; TLS 1.2: may be empty */
    size_t n_extensions;
    uint32_t present;
    uint32_t max_early_data_size; /* early_data extension */
} tlsv_new_session_ticket;

int tlsv_msg_parse_new_session_ticket(const uint8_t *body, size_t len, uint16_t version,
                                      tlsv_new_session_ticket *out, tlsv_error *err);

typedef struct tlsv_new_session_ticket_params {
    uint16_t version;
    uint32_t lifetime;
    uint32_t age_add;             /* TLS 1.3 */
    tlsv_bytes nonce;             /* TLS 1.3, 0..255 bytes */
    tlsv_bytes ticket;            /* TLS 1.3: 1..65535 bytes; TLS 1.2: 0..65535 */
    bool early_data;              /* TLS 1.3: send early_data ... */
    uint32_t max_early_data_size; /* ... with this limit */
} tlsv_new_session_ticket_params;

int tlsv_msg_write_new_session_ticket(tlsv_writer *w, const tlsv_new_session_ticket_params *p,
                                      tlsv_error *err);

/* ======================================================================
 * KeyUpdate (RFC 8446 §4.6.3)
 * ====================================================================== */

/* Exactly one byte; 0 (update_not_requested) or 1 (update_requested), any
 * other value -> TLSV_MSG_F_ILLEGAL. */
int tlsv_msg_parse_key_update(const uint8_t *body, size_t len, bool *request_update,
                              tlsv_error *err);
int tlsv_msg_write_key_update(tlsv_writer *w, bool request_update, tlsv_error *err);

/* ======================================================================
 * TLS 1.0-1.2 key exchange (RFC 8422 §5.4, §5.7; RFC 5246 §7.4.3, §7.4.7)
 * ====================================================================== */

#define TLSV_EC_CURVE_TYPE_NAMED 3

typedef struct tlsv_server_key_exchange {
    uint16_t named_group;   /* ServerECDHParams.curve_params.namedcurve */
    tlsv_bytes public_key;  /* ServerECDHParams.public (1..255 bytes) */
    /* The ServerECDHParams bytes (curve_type through public): the signature
     * covers client_random + server_random + params. */
    tlsv_bytes params;
    bool has_scheme;        /* TLS 1.2 */
    uint16_t scheme;
    tlsv_bytes signature;
} tlsv_server_key_exchange;

/* Parses an ECDHE ServerKeyExchange of `version`: curve_type must be
 * named_curve (3; else TLSV_MSG_F_ILLEGAL), then the signature with a
 * scheme in TLS 1.2, without in 1.0/1.1. */
int tlsv_msg_parse_server_key_exchange_ecdhe(const uint8_t *body, size_t len, uint16_t version,
                                             tlsv_server_key_exchange *out, tlsv_error *err);

/* Appends just the ServerECDHParams (no handshake header): what the server
 * signs after the two randoms. */
int tlsv_msg_write_ecdh_params(tlsv_writer *w, uint16_t group, tlsv_bytes public_key,
                               tlsv_error *err);
/* Appends an ECDHE ServerKeyExchange. */
int tlsv_msg_write_server_key_exchange_ecdhe(tlsv_writer *w, uint16_t version, uint16_t group,
                                             tlsv_bytes public_key, uint16_t scheme,
                                             tlsv_bytes signature, tlsv_error *err);

/* ClientKeyExchange, ECDHE: ClientECDiffieHellmanPublic, ecdh_Yc<1..255>. */
int tlsv_msg_parse_client_key_exchange_ecdhe(const uint8_t *body, size_t len,
                                             tlsv_bytes *public_key, tlsv_error *err);
int tlsv_msg_write_client_key_exchange_ecdhe(tlsv_writer *w, tlsv_bytes public_key,
                                             tlsv_error *err);

/* ClientKeyExchange, RSA: EncryptedPreMasterSecret with a u16 length in
 * TLS 1.0 and above, the bare ciphertext (the whole body) in SSL 3.0. */
int tlsv_msg_parse_client_key_exchange_rsa(const uint8_t *body, size_t len, uint16_t version,
                                           tlsv_bytes *encrypted_pms, tlsv_error *err);
int tlsv_msg_write_client_key_exchange_rsa(tlsv_writer *w, uint16_t version,
                                           tlsv_bytes encrypted_pms, tlsv_error *err);

/* ======================================================================
 * Empty messages: ServerHelloDone, EndOfEarlyData, HelloRequest
 * ====================================================================== */

/* The body must be empty (TLSV_MSG_F_DECODE otherwise); `type` only names
 * the message in the error. */
int tlsv_msg_parse_empty(const uint8_t *body, size_t len, uint8_t type, tlsv_error *err);
int tlsv_msg_write_empty(tlsv_writer *w, uint8_t type, tlsv_error *err);

/* The synthetic message_hash message that replaces ClientHello1 in the
 * transcript after a HelloRetryRequest (RFC 8446 §4.4.1): type 254,
 * length = hash length, then Hash(ClientHello1). */
int tlsv_msg_write_message_hash(tlsv_writer *w, tlsv_bytes hash, tlsv_error *err);

#endif /* TLSV_ENGINE_MSG_H */
