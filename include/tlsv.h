/*
 * tlsv.h -- the whole public API of tlsv, a TLS library in C.
 *
 * tlsv implements the SSL/TLS protocol family itself and takes only
 * cryptographic primitives and X.509 from OpenSSL's libcrypto. Its
 * configuration model is the one of Python's `ssl` module:
 *
 *   Python                                   tlsv
 *   ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  tlsv_ctx_new(TLSV_PROTOCOL_TLS_CLIENT, &err)
 *   ctx.options |= ssl.OP_NO_TLSv1_3         tlsv_ctx_add_options(ctx, TLSV_OP_NO_TLSv1_3)
 *   ctx.options &= ~ssl.OP_NO_TICKET         tlsv_ctx_clear_options(ctx, TLSV_OP_NO_TICKET)
 *   ctx.options = x                          tlsv_ctx_set_options(ctx, x)
 *   ctx.minimum_version = TLSVersion.TLSv1_2 tlsv_ctx_set_minimum_version(ctx, TLSV_VERSION_TLSv1_2)
 *   ctx.maximum_version                      tlsv_ctx_get_maximum_version(ctx)
 *   ctx.verify_mode = ssl.CERT_NONE          tlsv_ctx_set_verify_mode(ctx, TLSV_CERT_NONE)
 *   ctx.check_hostname = False               tlsv_ctx_set_check_hostname(ctx, 0)
 *
 * Conventions
 *   - Functions returning int return 0 on success and -1 on failure, unless
 *     documented otherwise. On failure the context (or connection) records a
 *     tlsv_error that tlsv_ctx_last_error() returns: a stable reason name,
 *     the alert involved, which side decided, and a sentence that explains
 *     the failure in terms of the configuration.
 *   - Objects are created by *_new and released by *_free; *_free(NULL) is a
 *     no-op. Strings returned as `const char *` are static unless documented.
 *   - Deprecated constants (the version-specific protocols, TLS 1.0/1.1 and
 *     SSL 3.0 version values, the OP_NO_SSLv3 / OP_NO_TLSv1* flags) raise a
 *     compile-time deprecation warning where a program uses them, the C
 *     counterpart of Python's DeprecationWarning. Define
 *     TLSV_SILENCE_DEPRECATION before including this header to silence them.
 *
 * Thread safety: a tlsv_ctx may be shared read-only by many threads once
 * configured; configuring it concurrently with its use is not supported.
 */
#ifndef TLSV_H
#define TLSV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the functions libtlsv exports (everything else stays hidden). */
#if defined(TLSV_BUILDING_LIBRARY) && (defined(__GNUC__) || defined(__clang__))
#define TLSV_API __attribute__((visibility("default")))
#else
#define TLSV_API
#endif

/* ---------------------------------------------------------------------- */
/* Build information                                                      */
/* ---------------------------------------------------------------------- */

#define TLSV_VERSION_MAJOR 0
#define TLSV_VERSION_MINOR 1
#define TLSV_VERSION_PATCH 0
#define TLSV_VERSION_TEXT "0.1.0"

/* The library's version as text, e.g. "0.1.0". */
TLSV_API const char *tlsv_library_version(void);

/* The version of the libcrypto tlsv runs on, e.g. "OpenSSL 3.0.19 27 Jan
 * 2026" (Python: ssl.OPENSSL_VERSION). */
TLSV_API const char *tlsv_crypto_library_version(void);

/* Frees the record buffers this thread keeps for reuse. A connection gives
 * its buffers back whenever they are empty (an idle connection holds none);
 * each thread keeps up to four of them (at most 64 KiB each) so that the
 * next record does not call malloc. They are freed when the thread ends;
 * call this in a long-lived thread that has stopped using tlsv, or before
 * measuring memory. Affects only the calling thread; always safe. */
TLSV_API void tlsv_thread_release_buffers(void);

/* 1 if this build of the library speaks SSL 3.0 (configured with
 * -DTLSV_ENABLE_SSL3=ON), 0 otherwise (the default). Python: ssl.HAS_SSLv3. */
TLSV_API int tlsv_has_ssl3(void);

#if defined(TLSV_SILENCE_DEPRECATION) || defined(TLSV_BUILDING_LIBRARY)
#define TLSV_DEPRECATED(msg)
#elif defined(__GNUC__) || defined(__clang__)
#define TLSV_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define TLSV_DEPRECATED(msg)
#endif

/* ---------------------------------------------------------------------- */
/* Protocol constants (Python: ssl.PROTOCOL_*; same numeric values)        */
/* ---------------------------------------------------------------------- */

typedef enum tlsv_protocol {
    /* SSL 3.0 only. Insecure (RFC 7568). Only in a build configured with
     * -DTLSV_ENABLE_SSL3=ON; otherwise tlsv_ctx_new() fails with
     * SSLV3_NOT_COMPILED_IN. */
    TLSV_PROTOCOL_SSLv3 TLSV_DEPRECATED("TLSV_PROTOCOL_SSLv3 is deprecated and insecure (RFC 7568); use TLSV_PROTOCOL_TLS_CLIENT or TLSV_PROTOCOL_TLS_SERVER") = 1,
    /* Either side, negotiates the highest common version. */
    TLSV_PROTOCOL_TLS TLSV_DEPRECATED("TLSV_PROTOCOL_TLS is deprecated; use TLSV_PROTOCOL_TLS_CLIENT or TLSV_PROTOCOL_TLS_SERVER") = 2,
    /* Alias of TLSV_PROTOCOL_TLS (tlsv_ctx_get_protocol() reports TLS). */
    TLSV_PROTOCOL_SSLv23 TLSV_DEPRECATED("TLSV_PROTOCOL_SSLv23 (alias of TLSV_PROTOCOL_TLS) is deprecated; use TLSV_PROTOCOL_TLS_CLIENT or TLSV_PROTOCOL_TLS_SERVER") = 2,
    /* Exactly one version; OP_NO_* flags and version bounds do not apply. */
    TLSV_PROTOCOL_TLSv1 TLSV_DEPRECATED("TLSV_PROTOCOL_TLSv1 is deprecated (RFC 8996); use TLSV_PROTOCOL_TLS_CLIENT/SERVER with version bounds") = 3,
    TLSV_PROTOCOL_TLSv1_1 TLSV_DEPRECATED("TLSV_PROTOCOL_TLSv1_1 is deprecated (RFC 8996); use TLSV_PROTOCOL_TLS_CLIENT/SERVER with version bounds") = 4,
    TLSV_PROTOCOL_TLSv1_2 TLSV_DEPRECATED("TLSV_PROTOCOL_TLSv1_2 is deprecated; use TLSV_PROTOCOL_TLS_CLIENT/SERVER with maximum_version TLSv1_2") = 5,
    /* Client side only: verifies the peer and checks the hostname by default. */
    TLSV_PROTOCOL_TLS_CLIENT = 16,
    /* Server side only. */
    TLSV_PROTOCOL_TLS_SERVER = 17
} tlsv_protocol;

/* The constant's Python name without prefix, e.g. "PROTOCOL_TLS_CLIENT";
 * "PROTOCOL_TLS" for the SSLv23 alias; NULL for an unknown value. */
TLSV_API const char *tlsv_protocol_name(int protocol);

/* ---------------------------------------------------------------------- */
/* Versions (Python: ssl.TLSVersion; same numeric values)                 */
/* ---------------------------------------------------------------------- */

typedef enum tlsv_version {
    TLSV_VERSION_MINIMUM_SUPPORTED = -2, /* as a bound: no lower bound */
    TLSV_VERSION_MAXIMUM_SUPPORTED = -1, /* as a bound: no upper bound */
    TLSV_VERSION_SSLv3 TLSV_DEPRECATED("SSL 3.0 is deprecated and insecure (RFC 7568)") = 0x0300,
    TLSV_VERSION_TLSv1 TLSV_DEPRECATED("TLS 1.0 is deprecated (RFC 8996)") = 0x0301,
    TLSV_VERSION_TLSv1_1 TLSV_DEPRECATED("TLS 1.1 is deprecated (RFC 8996)") = 0x0302,
    TLSV_VERSION_TLSv1_2 = 0x0303,
    TLSV_VERSION_TLSv1_3 = 0x0304
} tlsv_version;

/* Python's SSLSocket.version() spelling: "TLSv1.3", "TLSv1.2", "TLSv1.1",
 * "TLSv1" (not "TLSv1.0"), "SSLv3"; NULL for anything else. */
TLSV_API const char *tlsv_version_string(int version);

/* The TLSVersion member name: "TLSv1_2", "MINIMUM_SUPPORTED", ...; NULL
 * for a value that is not a member. */
TLSV_API const char *tlsv_version_name(int version);

/* Parses a member name ("TLSv1_2", "MAXIMUM_SUPPORTED", also "TLSv1.2")
 * into *out. Returns 0, or -1 if the text names no version. */
TLSV_API int tlsv_version_parse(const char *text, int *out);

/* ---------------------------------------------------------------------- */
/* Options (Python: ssl.OP_*; OpenSSL's bit values)                       */
/* ---------------------------------------------------------------------- */

typedef uint64_t tlsv_options;

/* OP_ALL: tlsv's interoperability workarounds, the bits of OpenSSL's
 * SSL_OP_ALL that Python keeps (0x80000050):
 *   0x00000010 SSL_OP_SAFARI_ECDHE_ECDSA_BUG         accepted; tlsv has no such bug to work around
 *   0x00000040 SSL_OP_TLSEXT_PADDING                  send the RFC 7685 padding extension when a
 *                                                     ClientHello would be 256..511 bytes long
 *   0x80000000 SSL_OP_CRYPTOPRO_TLSEXT_BUG            accepted; tlsv has no GOST suites
 * Like Python's, it leaves the TLS 1.0 CBC 1/n-1 record splitting on; set
 * TLSV_OP_DONT_INSERT_EMPTY_FRAGMENTS to switch that off. */
#define TLSV_OP_ALL                        ((tlsv_options)0x80000050u)
#define TLSV_OP_DONT_INSERT_EMPTY_FRAGMENTS ((tlsv_options)0x00000800u)
#define TLSV_OP_IGNORE_UNEXPECTED_EOF      ((tlsv_options)0x00000080u)
#define TLSV_OP_NO_TICKET                  ((tlsv_options)0x00004000u)
#define TLSV_OP_NO_COMPRESSION             ((tlsv_options)0x00020000u)
#define TLSV_OP_ENABLE_MIDDLEBOX_COMPAT    ((tlsv_options)0x00100000u)
#define TLSV_OP_CIPHER_SERVER_PREFERENCE   ((tlsv_options)0x00400000u)
#define TLSV_OP_LEGACY_SERVER_CONNECT      ((tlsv_options)0x00000004u)
#define TLSV_OP_NO_RENEGOTIATION           ((tlsv_options)0x40000000u)
/* SSL 2.0 is never spoken; the flag is 0 (as in OpenSSL 1.1+ and Python
 * 3.11), accepted and harmless. */
#define TLSV_OP_NO_SSLv2                   ((tlsv_options)0)
/* Kept for ported code: always on in OpenSSL 1.1+ and tlsv (fresh key shares
 * per handshake), so the flags are 0, as in Python. */
#define TLSV_OP_SINGLE_DH_USE              ((tlsv_options)0)
#define TLSV_OP_SINGLE_ECDH_USE            ((tlsv_options)0)

/* The version flags. Deprecated, as in Python: prefer minimum_version and
 * maximum_version. They are ignored on version-specific contexts
 * (TLSV_PROTOCOL_TLSv1 ... TLSv1_2), as OpenSSL does. */
enum {
    TLSV_OP_NO_SSLv3 TLSV_DEPRECATED("OP_NO_SSL*/OP_NO_TLS* options are deprecated; use minimum_version/maximum_version") = 0x02000000,
    TLSV_OP_NO_TLSv1 TLSV_DEPRECATED("OP_NO_SSL*/OP_NO_TLS* options are deprecated; use minimum_version/maximum_version") = 0x04000000,
    TLSV_OP_NO_TLSv1_2 TLSV_DEPRECATED("OP_NO_SSL*/OP_NO_TLS* options are deprecated; use minimum_version/maximum_version") = 0x08000000,
    TLSV_OP_NO_TLSv1_1 TLSV_DEPRECATED("OP_NO_SSL*/OP_NO_TLS* options are deprecated; use minimum_version/maximum_version") = 0x10000000,
    TLSV_OP_NO_TLSv1_3 TLSV_DEPRECATED("OP_NO_SSL*/OP_NO_TLS* options are deprecated; use minimum_version/maximum_version") = 0x20000000
};

/* Looks up an option by name, with or without "OP_" ("NO_TLSv1_1",
 * "OP_ALL"). Returns 0 and sets *out, or -1 for an unknown name. */
TLSV_API int tlsv_option_parse(const char *name, tlsv_options *out);

/* Writes the names of the known bits set in `options` to buf, joined by
 * '|' (e.g. "OP_ALL|OP_NO_SSLv3"), plus the hex value of unknown bits.
 * Returns the length it needed (like snprintf). */
TLSV_API size_t tlsv_options_describe(tlsv_options options, char *buf, size_t len);

/* ---------------------------------------------------------------------- */
/* Errors that explain                                                    */
/* ---------------------------------------------------------------------- */

/* Stable reason codes. Names (tlsv_reason_name) are Python's / OpenSSL's
 * where one exists. Codes may be added; existing ones keep their meaning. */
typedef enum tlsv_reason {
    TLSV_R_OK = 0,
    /* configuration */
    TLSV_R_INVALID_ARGUMENT,          /* a NULL pointer or out-of-range argument */
    TLSV_R_OUT_OF_MEMORY,
    TLSV_R_UNKNOWN_PROTOCOL,          /* not a TLSV_PROTOCOL_* value */
    TLSV_R_SSLV3_NOT_COMPILED_IN,     /* TLSV_PROTOCOL_SSLv3 without -DTLSV_ENABLE_SSL3=ON */
    TLSV_R_UNSUPPORTED_VERSION,       /* "Unsupported TLS/SSL version 0x305" (Python ValueError) */
    TLSV_R_VERSION_BOUNDS_FIXED,      /* bounds on a version-specific context (Python ValueError) */
    TLSV_R_CHECK_HOSTNAME_NEEDS_VERIFY, /* CERT_NONE while check_hostname is on (Python ValueError) */
    TLSV_R_WRONG_SIDE,                /* a TLS_CLIENT context used as a server or vice versa */
    /* version negotiation */
    TLSV_R_NO_PROTOCOLS_AVAILABLE,    /* the configuration enables no version at all */
    TLSV_R_UNSUPPORTED_PROTOCOL,      /* no version in common with the peer */
    TLSV_R_WRONG_SSL_VERSION,         /* a version-specific context met another version */
    TLSV_R_WRONG_VERSION_NUMBER,      /* a record or message carried an unexpected version */
    TLSV_R_INAPPROPRIATE_FALLBACK,    /* downgrade sentinel (client) or fallback SCSV (server) */
    TLSV_R_BAD_LEGACY_VERSION,        /* supported_versions offered with legacy_version <= SSL 3.0 */
    TLSV_R_NO_SHARED_CIPHER,          /* no cipher suite in common for the chosen version */
    TLSV_R_BAD_PROTOCOL_VERSION_NUMBER, /* ServerHello selected a version the client did not offer */
    TLSV_R_UNSOLICITED_EXTENSION,     /* the peer answered an extension that was not offered */
    /* alerts received from the peer (side is REMOTE) */
    TLSV_R_ALERT_RECEIVED,            /* any alert without a more specific name below */
    TLSV_R_TLSV1_ALERT_PROTOCOL_VERSION,
    TLSV_R_TLSV1_ALERT_INAPPROPRIATE_FALLBACK,
    TLSV_R_SSLV3_ALERT_HANDSHAKE_FAILURE,
    TLSV_R_SSLV3_ALERT_ILLEGAL_PARAMETER,
    TLSV_R_SSLV3_ALERT_UNEXPECTED_MESSAGE,
    TLSV_R_SSLV3_ALERT_BAD_RECORD_MAC,
    TLSV_R_TLSV1_ALERT_DECODE_ERROR,
    TLSV_R_TLSV1_ALERT_INTERNAL_ERROR,
    TLSV_R_TLSV1_ALERT_UNKNOWN_CA,
    TLSV_R_TLSV13_ALERT_CERTIFICATE_REQUIRED,
    TLSV_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL,
    /* protocol */
    TLSV_R_UNEXPECTED_MESSAGE,
    TLSV_R_CERTIFICATE_VERIFY_FAILED,
    TLSV_R_INTERNAL_ERROR,
    TLSV_R_NOT_IMPLEMENTED,
    TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC,  /* a record failed authentication */
    TLSV_R_RECORD_OVERFLOW,            /* a record longer than the protocol allows */
    TLSV_R_DECODE_ERROR,               /* a message or extension is malformed (bad length or framing) */
    TLSV_R_ILLEGAL_PARAMETER,          /* a field holds a value the protocol forbids there */
    TLSV_R_BAD_EXTENSION,              /* an extension the message may not carry, or a duplicate */
    TLSV_R_MISSING_EXTENSION,          /* an extension the protocol requires is absent */
    TLSV_R_NO_SUITABLE_KEY_SHARE,      /* no key-exchange group in common */
    TLSV_R_NO_SHARED_SIGNATURE_ALGORITHMS,  /* no signature scheme in common */
    TLSV_R_BAD_SIGNATURE,              /* a handshake signature did not verify */
    TLSV_R_DIGEST_CHECK_FAILED,        /* the peer's Finished did not match the transcript */
    TLSV_R_PEER_DID_NOT_RETURN_A_CERTIFICATE,  /* a required certificate was not sent */
    TLSV_R_NO_CERTIFICATE_ASSIGNED,    /* this server has no certificate to present */
    TLSV_R_KEY_VALUES_MISMATCH,        /* the private key does not belong to the certificate */
    TLSV_R_NO_APPLICATION_PROTOCOL,    /* no ALPN protocol in common */
    TLSV_R_EXCESSIVE_MESSAGE_SIZE,     /* a handshake message over the size limit */
    TLSV_R_UNEXPECTED_EOF_WHILE_READING,  /* the transport closed without close_notify */
    TLSV_R_ZERO_RETURN,                /* the TLS connection has been closed (close_notify) */
    TLSV_R_SYSCALL,                    /* a transport system call failed (errno in the message) */
    TLSV_R_TOO_MANY_WARN_ALERTS,       /* too many warning alerts or empty records in a row */
    TLSV_R_TOO_MANY_CERTIFICATES,      /* a certificate chain longer than the limit */
    TLSV_R_HANDSHAKE_FAILURE,          /* the handshake cannot proceed (see the message) */
    TLSV_R_BINDER_DOES_NOT_VERIFY,     /* a TLS 1.3 PSK binder did not match (RFC 8446 §4.2.11) */
    TLSV_R_EXTENSION_NOT_RECEIVED,     /* the peer did not offer the extension a call needs
                                          (post_handshake_auth) */
    TLSV_R_OLD_SESSION_VERSION_NOT_RETURNED, /* the server resumed our session at another
                                          version (or a session of another version) */
    TLSV_R_OLD_SESSION_CIPHER_NOT_RETURNED,  /* the server resumed a TLS <= 1.2 session with
                                          another cipher suite (RFC 5246 §7.4.1.3) */
    TLSV_R_INCONSISTENT_EXTMS,         /* a resumption disagreeing with the session on the
                                          extended master secret (RFC 7627 §5.3) */
    TLSV_R_SERVER_ECHOED_INVALID_SESSION_ID, /* a TLS <= 1.2 ServerHello echoed a session ID
                                          this client offered no session under (RFC 5246
                                          §7.4.1.3, RFC 8446 App. D.4) */
    TLSV_R_KEY_USAGE_BIT_INCORRECT,    /* the peer's certificate has a keyUsage extension without
                                          the use its key has in the handshake: digitalSignature
                                          to sign, keyEncipherment for RSA key exchange
                                          (RFC 5280 §4.2.1.3); checked in every verify mode */
    TLSV_R__COUNT
} tlsv_reason;

/* Which party decided a failure. */
typedef enum tlsv_side {
    TLSV_SIDE_NONE = 0,  /* no failure */
    TLSV_SIDE_LOCAL = 1, /* this endpoint (or its configuration) decided; any alert was sent */
    TLSV_SIDE_REMOTE = 2 /* the peer decided; its alert was received */
} tlsv_side;

/* TLS alert descriptions (RFC 8446 §6, RFC 5246 §7.2, RFC 7507). */
typedef enum tlsv_alert {
    TLSV_ALERT_NONE = -1,
    TLSV_ALERT_CLOSE_NOTIFY = 0,
    TLSV_ALERT_UNEXPECTED_MESSAGE = 10,
    TLSV_ALERT_BAD_RECORD_MAC = 20,
    TLSV_ALERT_RECORD_OVERFLOW = 22,
    TLSV_ALERT_HANDSHAKE_FAILURE = 40,
    TLSV_ALERT_BAD_CERTIFICATE = 42,
    TLSV_ALERT_UNSUPPORTED_CERTIFICATE = 43,
    TLSV_ALERT_CERTIFICATE_REVOKED = 44,
    TLSV_ALERT_CERTIFICATE_EXPIRED = 45,
    TLSV_ALERT_CERTIFICATE_UNKNOWN = 46,
    TLSV_ALERT_ILLEGAL_PARAMETER = 47,
    TLSV_ALERT_UNKNOWN_CA = 48,
    TLSV_ALERT_ACCESS_DENIED = 49,
    TLSV_ALERT_DECODE_ERROR = 50,
    TLSV_ALERT_DECRYPT_ERROR = 51,
    TLSV_ALERT_PROTOCOL_VERSION = 70,
    TLSV_ALERT_INSUFFICIENT_SECURITY = 71,
    TLSV_ALERT_INTERNAL_ERROR = 80,
    TLSV_ALERT_INAPPROPRIATE_FALLBACK = 86,
    TLSV_ALERT_USER_CANCELED = 90,
    TLSV_ALERT_NO_RENEGOTIATION = 100,
    TLSV_ALERT_MISSING_EXTENSION = 109,
    TLSV_ALERT_UNSUPPORTED_EXTENSION = 110,
    TLSV_ALERT_UNRECOGNIZED_NAME = 112,
    TLSV_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE = 113,
    TLSV_ALERT_UNKNOWN_PSK_IDENTITY = 115,
    TLSV_ALERT_CERTIFICATE_REQUIRED = 116,
    TLSV_ALERT_NO_APPLICATION_PROTOCOL = 120
} tlsv_alert;

#define TLSV_ERROR_MESSAGE_MAX 320

/* One error record: what failed, which alert went over the wire (sent when
 * side is LOCAL, received when REMOTE), and a sentence that explains it. */
typedef struct tlsv_error {
    tlsv_reason reason;  /* TLSV_R_OK when there is no error */
    int alert;           /* a tlsv_alert value, or TLSV_ALERT_NONE */
    tlsv_side side;      /* who decided */
    char message[TLSV_ERROR_MESSAGE_MAX]; /* the explanation, NUL-terminated */
} tlsv_error;

/* The stable name of a reason, e.g. "UNSUPPORTED_PROTOCOL". Never NULL. */
TLSV_API const char *tlsv_reason_name(tlsv_reason reason);

/* The RFC name of an alert, e.g. "protocol_version" -- also of the codes
 * RFC 8446 reserves from earlier versions ("decompression_failure", ...);
 * NULL if unknown. */
TLSV_API const char *tlsv_alert_name(int alert);

/* The reason a peer's fatal alert maps to (OpenSSL's names, e.g.
 * protocol_version -> TLSV1_ALERT_PROTOCOL_VERSION). */
TLSV_API tlsv_reason tlsv_reason_for_alert(int alert);

/* Formats an error on one line: "UNSUPPORTED_PROTOCOL (alert
 * protocol_version, sent): <message>". Returns the length it needed. */
TLSV_API size_t tlsv_error_format(const tlsv_error *err, char *buf, size_t len);

/* ---------------------------------------------------------------------- */
/* Contexts                                                               */
/* ---------------------------------------------------------------------- */

typedef struct tlsv_ctx tlsv_ctx;

/* Certificate verification modes (Python: ssl.CERT_*). */
typedef enum tlsv_verify_mode {
    TLSV_CERT_NONE = 0,
    TLSV_CERT_OPTIONAL = 1,
    TLSV_CERT_REQUIRED = 2
} tlsv_verify_mode;

/* Which role a connection plays. */
typedef enum tlsv_role {
    TLSV_ROLE_CLIENT = 0,
    TLSV_ROLE_SERVER = 1
} tlsv_role;

/* Creates a context for a protocol constant, with Python 3.11's defaults:
 * options OP_ALL|OP_NO_SSLv3|OP_NO_COMPRESSION|OP_CIPHER_SERVER_PREFERENCE|
 * OP_ENABLE_MIDDLEBOX_COMPAT (0x82520050) for every constant; auto-
 * negotiating contexts (TLS_CLIENT, TLS_SERVER, TLS/SSLv23) start with
 * minimum_version TLSv1_2 and maximum_version MAXIMUM_SUPPORTED;
 * version-specific contexts report MINIMUM_/MAXIMUM_SUPPORTED (their version
 * is fixed by the protocol); only TLS_CLIENT verifies the peer
 * (CERT_REQUIRED) and checks the hostname.
 * One deliberate difference from Python over OpenSSL: there is no hidden
 * security level, so a version enabled explicitly works.
 * Returns NULL on failure and, if err is not NULL, fills it in
 * (UNKNOWN_PROTOCOL, SSLV3_NOT_COMPILED_IN, OUT_OF_MEMORY). */
TLSV_API tlsv_ctx *tlsv_ctx_new(int protocol, tlsv_error *err);

/* Releases a context. Connections made from it keep their own reference,
 * so freeing the context while they live is safe. */
TLSV_API void tlsv_ctx_free(tlsv_ctx *ctx);

/* The protocol constant the context was made with (SSLv23 reads back as
 * TLSV_PROTOCOL_TLS, as in Python). */
TLSV_API int tlsv_ctx_get_protocol(const tlsv_ctx *ctx);

/* The error recorded by the last failing call on this context. The record
 * stays until the next failure; tlsv_ctx_clear_error() resets it. */
TLSV_API const tlsv_error *tlsv_ctx_last_error(const tlsv_ctx *ctx);
TLSV_API void tlsv_ctx_clear_error(tlsv_ctx *ctx);

/* Options, as Python's SSLContext.options:
 *   get   returns the current bits;
 *   set   assigns (ctx.options = x): bits not in x are cleared;
 *   add   ORs bits in (ctx.options |= x); returns the new value;
 *   clear removes bits (ctx.options &= ~x); returns the new value.
 * Options and version bounds are stored independently and combined only
 * when a handshake starts (see docs/versions.md). */
TLSV_API tlsv_options tlsv_ctx_get_options(const tlsv_ctx *ctx);
TLSV_API void tlsv_ctx_set_options(tlsv_ctx *ctx, tlsv_options options);
TLSV_API tlsv_options tlsv_ctx_add_options(tlsv_ctx *ctx, tlsv_options options);
TLSV_API tlsv_options tlsv_ctx_clear_options(tlsv_ctx *ctx, tlsv_options options);

/* Version bounds, as Python's minimum_version / maximum_version.
 * Accepted: the seven tlsv_version values (SSLv3 too, even when SSL 3.0 is
 * not compiled in: as a maximum it then disables every version). Setting
 * MAXIMUM_SUPPORTED as the minimum stores TLSv1_3; MINIMUM_SUPPORTED as the
 * maximum stores the lowest compiled-in version (TLSv1, or SSLv3).
 * minimum_version = SSLv3 clears OP_NO_SSLv3 (as Python does, even on a
 * version-specific context where the call itself fails). A minimum
 * above the maximum is accepted here and fails when a handshake starts
 * (NO_PROTOCOLS_AVAILABLE), as in Python; tlsv_ctx_check_versions() reports
 * it earlier.
 * Errors: UNSUPPORTED_VERSION for any other value; VERSION_BOUNDS_FIXED on
 * a version-specific context (whatever the value). */
TLSV_API int tlsv_ctx_get_minimum_version(const tlsv_ctx *ctx);
TLSV_API int tlsv_ctx_get_maximum_version(const tlsv_ctx *ctx);
TLSV_API int tlsv_ctx_set_minimum_version(tlsv_ctx *ctx, int version);
TLSV_API int tlsv_ctx_set_maximum_version(tlsv_ctx *ctx, int version);

/* The versions this context would actually use in the given role, highest
 * first, after combining protocol, bounds and OP_NO_* flags:
 *   as a client, the lowest contiguous run of enabled versions (a version
 *   disabled inside the range cuts off everything above it, as OpenSSL
 *   does); as a server, every enabled version individually.
 * Writes at most `cap` values to `out` (may be NULL when cap is 0) and
 * returns how many there are (0: nothing enabled). */
TLSV_API size_t tlsv_ctx_enabled_versions(const tlsv_ctx *ctx, tlsv_role role, int *out, size_t cap);

/* Checks that the context enables at least one version in `role`.
 * Returns 0, or -1 with NO_PROTOCOLS_AVAILABLE and an explanation (minimum
 * above maximum, every version disabled by OP_NO_*, only SSL 3.0 left in a
 * build without it) recorded in the context and copied to *err if given. */
TLSV_API int tlsv_ctx_check_versions(tlsv_ctx *ctx, tlsv_role role, tlsv_error *err);

/* Peer verification (Python: verify_mode, check_hostname).
 * Setting CERT_NONE while check_hostname is on fails with
 * CHECK_HOSTNAME_NEEDS_VERIFY; turning check_hostname on upgrades a
 * CERT_NONE context to CERT_REQUIRED. Whatever the mode, a peer leaf with
 * a keyUsage extension must allow what its key does in the handshake
 * (digitalSignature to sign, keyEncipherment for RSA key exchange), or the
 * handshake fails with KEY_USAGE_BIT_INCORRECT (alert bad_certificate). */
TLSV_API int tlsv_ctx_get_verify_mode(const tlsv_ctx *ctx);
TLSV_API int tlsv_ctx_set_verify_mode(tlsv_ctx *ctx, int mode);
TLSV_API int tlsv_ctx_get_check_hostname(const tlsv_ctx *ctx);
TLSV_API int tlsv_ctx_set_check_hostname(tlsv_ctx *ctx, int on);

/* TLS 1.3 post-handshake client authentication (RFC 8446 §4.2.6, §4.6.2;
 * Python: SSLContext.post_handshake_auth), off by default; get returns 0
 * or 1. set fails only for NULL.
 *   Client: offers the post_handshake_auth extension in its ClientHello
 *   and answers every CertificateRequest the server sends after the
 *   handshake, as tlsv_conn_read() meets it: with its certificate chain,
 *   a CertificateVerify (the scheme chosen as in the handshake, among
 *   those the request lists) and a Finished; without a certificate (or
 *   with a key fitting none of the listed schemes) with an empty
 *   Certificate and a Finished -- the server decides. A CertificateRequest
 *   after the handshake to a client with this off is unexpected_message.
 *   Server: may request a certificate after the handshake with
 *   tlsv_conn_verify_client_post_handshake(). When verify_mode is
 *   CERT_OPTIONAL or CERT_REQUIRED and the client offered the extension,
 *   the handshake itself does not ask for a certificate (as Python, with
 *   OpenSSL's SSL_VERIFY_POST_HANDSHAKE): the application asks when it
 *   wants, and until the client's answer is processed the connection has
 *   no verified client certificate -- with CERT_REQUIRED too. A client
 *   that does not offer the extension is asked in the handshake as
 *   usual. */
TLSV_API int tlsv_ctx_set_post_handshake_auth(tlsv_ctx *ctx, int on);
TLSV_API int tlsv_ctx_get_post_handshake_auth(const tlsv_ctx *ctx);

/* ---------------------------------------------------------------------- */
/* Certificates, trust, and what a context offers                         */
/* ---------------------------------------------------------------------- */

/* Loads this endpoint's certificate chain (PEM: leaf first, then
 * intermediates) and its private key (PEM; keyfile NULL: the key is in
 * certfile). RSA, ECDSA P-256/P-384 and Ed25519 keys. The key must match the
 * leaf certificate. Python: load_cert_chain(certfile, keyfile). */
TLSV_API int tlsv_ctx_load_cert_chain(tlsv_ctx *ctx, const char *certfile, const char *keyfile);

/* Adds trusted CA certificates: from a PEM file, and/or a directory of
 * hashed certificates (c_rehash layout). Python: load_verify_locations. */
TLSV_API int tlsv_ctx_load_verify_locations(tlsv_ctx *ctx, const char *cafile, const char *capath);

/* Adds the system's default CA locations. Python: set_default_verify_paths. */
TLSV_API int tlsv_ctx_set_default_verify_paths(tlsv_ctx *ctx);

/* The ALPN protocols, in preference order (Python: set_alpn_protocols).
 * A client offers them; a server selects the first of its own list that the
 * client offered. names NULL or n 0 clears the list. */
TLSV_API int tlsv_ctx_set_alpn_protocols(tlsv_ctx *ctx, const char *const *names, size_t n);

/* TLS 1.3 cipher suites, ':'-separated IANA names (TLS_AES_128_GCM_SHA256,
 * TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256), in preference
 * order. Unknown names fail with INVALID_ARGUMENT naming them. */
TLSV_API int tlsv_ctx_set_ciphersuites(tlsv_ctx *ctx, const char *list);

/* TLS 1.0-1.2 cipher suites (Python: set_ciphers), ':'-separated OpenSSL
 * names (ECDHE-RSA-AES128-GCM-SHA256, AES128-SHA) or IANA names
 * (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256), "DEFAULT" for tlsv's default set,
 * "!NAME" to remove one; "@SECLEVEL=n" is accepted and ignored (tlsv has no
 * security level). DEFAULT: the ECDHE suites, AEAD before CBC; clients
 * also offer RSA key exchange suites, servers use them only when named.
 * An unknown name fails with INVALID_ARGUMENT naming it. */
TLSV_API int tlsv_ctx_set_ciphers(tlsv_ctx *ctx, const char *list);

/* Key-exchange groups, ':'-separated: x25519, P-256 (secp256r1,
 * prime256v1), P-384 (secp384r1), x448, P-521 (secp521r1), in preference
 * order. A client sends a key share for the first one. */
TLSV_API int tlsv_ctx_set_groups(tlsv_ctx *ctx, const char *list);

/* SNI on a server (Python: sni_callback). Called during the handshake with
 * the name the client sent (NULL if none). The callback may switch the
 * connection to another context with tlsv_conn_set_ctx() (certificate and
 * verification settings come from it). Return 0 to continue, or a TLS alert
 * (e.g. TLSV_ALERT_UNRECOGNIZED_NAME) to abort the handshake with it. */
typedef struct tlsv_conn tlsv_conn;
typedef int (*tlsv_servername_cb)(tlsv_conn *conn, const char *server_name, void *arg);
TLSV_API void tlsv_ctx_set_servername_callback(tlsv_ctx *ctx, tlsv_servername_cb cb, void *arg);

/* ---------------------------------------------------------------------- */
/* Observability: key log and handshake trace                             */
/* ---------------------------------------------------------------------- */

/* Key log in the NSS format (SSLKEYLOGFILE), so Wireshark/tshark can
 * decrypt a capture: one line per secret, "LABEL <client_random hex>
 * <secret hex>" -- CLIENT_RANDOM for TLS 1.0-1.2; CLIENT_/SERVER_
 * HANDSHAKE_TRAFFIC_SECRET, CLIENT_/SERVER_TRAFFIC_SECRET_0 and
 * EXPORTER_SECRET for TLS 1.3. The callback gets each line without a
 * newline. These lines are secret: anyone holding them can read the
 * traffic. Off by default. */
typedef void (*tlsv_keylog_cb)(const tlsv_conn *conn, const char *line, void *arg);
TLSV_API void tlsv_ctx_set_keylog_callback(tlsv_ctx *ctx, tlsv_keylog_cb cb, void *arg);

/* Appends the key log to a file (created with mode 0600 if absent; Python:
 * keylog_filename). path NULL stops logging. */
TLSV_API int tlsv_ctx_set_keylog_file(tlsv_ctx *ctx, const char *path);

/* A readable trace of the handshake: one call per record and message sent
 * or received, alert, and key change, with its key fields (versions offered
 * and chosen, suites, groups, extensions). direction: 1 sent, 0 received,
 * -1 an internal event. Off by default; costs nothing when off. */
typedef void (*tlsv_trace_cb)(const tlsv_conn *conn, int direction, const char *text, void *arg);
TLSV_API void tlsv_ctx_set_trace_callback(tlsv_ctx *ctx, tlsv_trace_cb cb, void *arg);

/* ---------------------------------------------------------------------- */
/* Negotiation preview                                                    */
/* ---------------------------------------------------------------------- */

/* The outcome of version negotiation between two configurations, computed
 * by the same policy code the handshake uses, without any I/O: what the
 * client offers, what the server picks, whether the client accepts it. */
typedef struct tlsv_preview {
    int ok;                    /* 1: the versions agree */
    int version;               /* negotiated version (0x0301..), 0 on failure */
    int offered[6];            /* versions the client offers, highest first */
    size_t n_offered;          /* 0: the client sends no ClientHello */
    int legacy_version;        /* ClientHello.legacy_version, 0 if none */
    int supported_versions_ext;/* 1 if the ClientHello has supported_versions */
    int server_version;        /* version in the ServerHello, 0 if none */
    int downgrade_sentinel;    /* 0 none, 1 "DOWNGRD\x01", 2 "DOWNGRD\x00" */
    tlsv_role failed_side;     /* which role decided the failure (if !ok) */
    tlsv_error client_error;   /* the client's view of a failure */
    tlsv_error server_error;   /* the server's view of a failure */
} tlsv_preview;

/* Runs the version policy of `client` (as a client) against `server` (as a
 * server). `fallback_scsv` makes the client add TLS_FALLBACK_SCSV (RFC 7507).
 * Returns 0 when negotiation succeeds, -1 when it fails (then *out says who
 * failed and why), or -1 with INVALID_ARGUMENT in client_error if an
 * argument is NULL or a context cannot play its role. */
TLSV_API int tlsv_preview_negotiation(const tlsv_ctx *client, const tlsv_ctx *server,
                             int fallback_scsv, tlsv_preview *out);


/* ---------------------------------------------------------------------- */
/* Connections                                                            */
/* ---------------------------------------------------------------------- */

/* Results of the I/O functions besides success and -1 (failure, recorded in
 * tlsv_conn_last_error()). */
#define TLSV_WANT_READ (-2)  /* needs bytes from the peer first */
#define TLSV_WANT_WRITE (-3) /* needs its pending output sent first */

/* Creates a connection for `role` from a context (which the connection
 * keeps alive). A client passes the server's name: it is sent as SNI and,
 * with check_hostname, checked against the certificate (an IP address is
 * checked as an IP). Fails with WRONG_SIDE for a TLS_SERVER context as a
 * client (and vice versa), as Python does.
 * The connection starts in memory-buffer mode (Python's SSLObject with two
 * MemoryBIOs): feed it the bytes received, take the bytes to send. */
TLSV_API tlsv_conn *tlsv_conn_new(tlsv_ctx *ctx, tlsv_role role, const char *server_hostname,
                                  tlsv_error *err);

/* Releases a connection (without sending anything; see tlsv_conn_shutdown)
 * and wipes its secrets. */
TLSV_API void tlsv_conn_free(tlsv_conn *conn);

/* Memory-buffer mode. feed(): bytes received from the peer (Python:
 * incoming.write); feed_eof(): the peer closed the transport
 * (incoming.write_eof). take_output(): copies up to cap pending bytes to buf
 * and removes them (outgoing.read); returns how many. */
TLSV_API int tlsv_conn_feed(tlsv_conn *conn, const void *data, size_t len);
TLSV_API void tlsv_conn_feed_eof(tlsv_conn *conn);
TLSV_API size_t tlsv_conn_pending_output(const tlsv_conn *conn);
TLSV_API size_t tlsv_conn_take_output(tlsv_conn *conn, void *buf, size_t cap);

/* Memory-buffer mode without the copies feed() and take_output() make: the
 * transport writes received bytes straight into the connection's input
 * buffer and sends pending output from where the connection keeps it.
 *
 * input_buffer(): room for at least `want` received bytes (want 0: one
 * maximal record's worth), valid until the next call on the connection;
 * NULL when out of memory. Write up to `want` bytes there, then
 * input_commit(conn, n) with the number written (n <= want), as feed()
 * would have received them.
 * output_peek(): the pending output (*len bytes, 0 and NULL when there is
 * none), valid until the next call on the connection; output_consume(conn,
 * n): the first n of them were sent (n larger than pending: all of them).
 * Mixing both styles is allowed. */
TLSV_API uint8_t *tlsv_conn_input_buffer(tlsv_conn *conn, size_t want);
TLSV_API int tlsv_conn_input_commit(tlsv_conn *conn, size_t n);
TLSV_API const uint8_t *tlsv_conn_output_peek(const tlsv_conn *conn, size_t *len);
TLSV_API void tlsv_conn_output_consume(tlsv_conn *conn, size_t n);

/* File-descriptor mode: the connection reads and writes fd itself (a
 * connected stream socket or pipe it does not own or close). With a
 * non-blocking fd the I/O functions return TLSV_WANT_READ / _WRITE. */
TLSV_API int tlsv_conn_set_fd(tlsv_conn *conn, int fd);

/* Runs the handshake: 0 when it is complete, TLSV_WANT_READ/_WRITE, or -1.
 * Python: do_handshake(). */
TLSV_API int tlsv_conn_handshake(tlsv_conn *conn);

/* Reads application data: bytes read (> 0), 0 when the peer closed cleanly
 * (close_notify; or, with OP_IGNORE_UNEXPECTED_EOF, an EOF), TLSV_WANT_*,
 * or -1. Runs the handshake first if needed. */
TLSV_API long tlsv_conn_read(tlsv_conn *conn, void *buf, size_t len);

/* Writes application data: len (all of it) when done, TLSV_WANT_*, or -1.
 * After TLSV_WANT_WRITE call again with the same arguments. */
TLSV_API long tlsv_conn_write(tlsv_conn *conn, const void *buf, size_t len);

/* Closes our direction of the TLS layer: sends close_notify (once; in
 * memory mode it is queued) and never drops received data. Returns 0 when
 * the peer's close_notify has arrived too (or, in fd mode, the transport
 * closed), 1 when ours is sent and the peer's has not arrived yet -- keep
 * calling tlsv_conn_read() to receive what the peer still sends, until it
 * returns 0 -- TLSV_WANT_WRITE, or -1. Writing after shutdown fails. */
TLSV_API int tlsv_conn_shutdown(tlsv_conn *conn);

/* TLS 1.3 KeyUpdate (RFC 8446 §4.6.3, §7.2; Python has none, OpenSSL:
 * SSL_key_update). On an established TLS 1.3 connection: queues a
 * KeyUpdate message -- behind any handshake output still pending, such as
 * a server's session tickets -- under the current write keys, then
 * switches our write keys to the next generation (traffic secret N+1 =
 * HKDF-Expand-Label(secret N, "traffic upd", "", Hash.length)); everything
 * written afterwards is under the new keys. With request_peer_update
 * non-zero the message is update_requested: the peer answers with a
 * KeyUpdate of its own, which tlsv_conn_read() processes (the peer's
 * records before it are still read under its old keys). In memory mode
 * take the output as usual; in fd mode it is sent now (on a non-blocking
 * fd that cannot take it all, the rest goes with the next call that
 * sends, e.g. tlsv_conn_write(conn, "", 0)).
 *
 * tlsv answers a peer's update_requested with one update_not_requested,
 * before its next application data -- or not at all when its write keys
 * already changed after the last data it sent (one update serves every
 * request that came meanwhile). And before the 2^23rd record under one
 * write key (RFC 8446 §5.5: AES-GCM's limit is 2^24.5) it sends a
 * KeyUpdate by itself. Limits on what the peer may send: docs/limits.md.
 *
 * Returns 0, or -1 with the reason in tlsv_conn_last_error():
 * INVALID_ARGUMENT, the connection unchanged, before the handshake is
 * complete, on a TLS 1.0-1.2 connection, or after tlsv_conn_shutdown();
 * an earlier failure of the connection stays its error; a transport
 * failure in fd mode is SYSCALL. */
TLSV_API int tlsv_conn_key_update(tlsv_conn *conn, int request_peer_update);

/* Server, TLS 1.3 post-handshake client authentication (RFC 8446 §4.6.2;
 * Python: SSLSocket.verify_client_post_handshake, OpenSSL:
 * SSL_verify_client_post_handshake). Queues a CertificateRequest with a
 * fresh certificate_request_context (8 bytes, unique on the connection)
 * and the signature_algorithms tlsv accepts, and sends it as
 * tlsv_conn_key_update() does. The client's answer (Certificate,
 * CertificateVerify, Finished; application data may come before it) is
 * processed by tlsv_conn_read(): the chain is verified as the context's
 * verify_mode says, the CertificateVerify (over the handshake transcript
 * through the client's Finished, the CertificateRequest and the
 * Certificate) and the Finished (keyed from the client's current
 * application traffic secret) are checked. Then the answer's chain is the
 * connection's peer chain (tlsv_conn_peer_cert_count() and
 * tlsv_conn_peer_cert_der()); an empty answer leaves none, and with
 * CERT_REQUIRED it is fatal: alert certificate_required,
 * PEER_DID_NOT_RETURN_A_CERTIFICATE. A chain that does not verify is the
 * same failure as in the handshake; a bad CertificateVerify is
 * decrypt_error (BAD_SIGNATURE), a bad Finished decrypt_error
 * (DIGEST_CHECK_FAILED), a Certificate whose context answers no
 * outstanding request illegal_parameter. Several requests may be
 * outstanding (at most 8); the client may answer them in any order.
 *
 * Returns 0, or -1 with the reason in tlsv_conn_last_error(), nothing sent
 * and the connection unchanged: WRONG_SIDE on a client;
 * INVALID_ARGUMENT before the handshake is complete, when the context's
 * post_handshake_auth is off or its verify_mode is CERT_NONE, after
 * tlsv_conn_shutdown(), or with 8 requests outstanding; WRONG_SSL_VERSION
 * on a TLS 1.0-1.2 connection; EXTENSION_NOT_RECEIVED when the client did
 * not offer post_handshake_auth. An earlier failure of the connection
 * stays its error; a transport failure in fd mode is SYSCALL. */
TLSV_API int tlsv_conn_verify_client_post_handshake(tlsv_conn *conn);

/* Server: post-handshake CertificateRequests sent and not yet answered
 * completely (0 when none, on a client, or for NULL). */
TLSV_API size_t tlsv_conn_post_handshake_auth_pending(const tlsv_conn *conn);

/* After the handshake: the negotiated version as Python's version()
 * ("TLSv1.3", ...) or NULL before; its number; the cipher suite's IANA /
 * OpenSSL name; the key-exchange group ("x25519", "P-256", ...); the ALPN
 * protocol or NULL; the SNI name (server side: what the client sent). */
TLSV_API const char *tlsv_conn_version(const tlsv_conn *conn);
TLSV_API int tlsv_conn_version_number(const tlsv_conn *conn);
TLSV_API const char *tlsv_conn_cipher(const tlsv_conn *conn);
TLSV_API const char *tlsv_conn_group(const tlsv_conn *conn);
TLSV_API const char *tlsv_conn_alpn_selected(const tlsv_conn *conn);
TLSV_API const char *tlsv_conn_server_name(const tlsv_conn *conn);

/* The peer's certificate chain as DER: count, and certificate i (leaf is 0;
 * borrowed, valid while the connection lives). */
TLSV_API size_t tlsv_conn_peer_cert_count(const tlsv_conn *conn);
TLSV_API const uint8_t *tlsv_conn_peer_cert_der(const tlsv_conn *conn, size_t i, size_t *len);

/* Client: add TLS_FALLBACK_SCSV to the ClientHello (RFC 7507) -- for an
 * application that retries a failed connection with a lower maximum
 * version, so that a server supporting a higher version refuses the
 * downgrade (inappropriate_fallback). Call before the handshake. */
TLSV_API int tlsv_conn_set_fallback_scsv(tlsv_conn *conn, int on);

/* Switches a server connection to another context (from the servername
 * callback). */
TLSV_API int tlsv_conn_set_ctx(tlsv_conn *conn, tlsv_ctx *ctx);

/* The connection's error record (reason, alert, side, explanation). */
TLSV_API const tlsv_error *tlsv_conn_last_error(const tlsv_conn *conn);

/* ---------------------------------------------------------------------- */
/* Session resumption (TLS 1.3 tickets, RFC 8446 §2.2, §4.6.1; TLS 1.2    */
/* and below: session IDs, RFC 5246 §7.3, and tickets, RFC 5077)          */
/* ---------------------------------------------------------------------- */

/* A TLS 1.3 server sends NewSessionTicket messages after the handshake; a
 * client keeps the latest as a tlsv_session and may offer it in a later
 * handshake with the same server (Python: SSLSocket.session, the session=
 * argument, session_reused). The resumed handshake uses a pre-shared key
 * derived from the earlier one together with a fresh (EC)DHE exchange
 * (psk_dhe_ke: forward secrecy is kept) and needs no certificate: the
 * server proves it holds the key with its Finished message, the client with
 * the PSK binder. tlsv never sends or accepts 0-RTT early data.
 *
 * Server side, per context:
 *   - tickets are encrypted and authenticated (AES-256-GCM) under a ticket
 *     key of the context, made at random the first time it is needed and
 *     never leaving the process. Keys rotate every ticket lifetime: tickets
 *     under the current key and the one before are accepted, older ones are
 *     not. Such tickets, and damaged, expired or foreign ones, simply give a
 *     full handshake. A ticket whose binder does not verify aborts the
 *     handshake with decrypt_error (BINDER_DOES_NOT_VERIFY).
 *   - a ticket resumes only with a cipher suite of the same hash, for the
 *     same server name (SNI) it was issued for, within its lifetime and with
 *     a ticket age within 10 seconds of the server's own count; with
 *     CERT_REQUIRED only if the client presented a verified certificate in
 *     the handshake that issued it. A resumed server connection has no peer
 *     certificates (tlsv_conn_peer_cert_count() is 0).
 *   - OP_NO_TICKET or num_tickets 0 stop the sending of tickets; so does a
 *     client whose psk_key_exchange_modes lacks psk_dhe_ke (or that sends
 *     none): it could not resume with them (RFC 8446 §4.2.9).
 *
 * TLS 1.2, 1.1, 1.0 (and SSL 3.0 in a build with it) resume with the
 * abbreviated handshake of RFC 5246 §7.3: the stored master secret and new
 * randoms give new keys, no certificate and no key exchange.
 *   - server: a client that sends the session_ticket extension (RFC 5077)
 *     gets a NewSessionTicket after its Finished (sealed like TLS 1.3
 *     tickets, under the same keys, lifetime hint = ticket lifetime; a
 *     ticket of one protocol family never opens as the other's) and an
 *     empty session ID; any other client gets a session ID and its session
 *     goes to the context's session cache (tlsv_ctx_set_session_cache_size,
 *     tlsv_ctx_set_session_timeout). A ticket under the previous key is
 *     resumed and replaced by a new one. OP_NO_TICKET: no tickets either
 *     way (the client does not offer the extension).
 *   - a session resumes only at its own protocol version, with its own
 *     cipher suite (offered by the client and enabled on the server), for
 *     the same server name and ALPN protocol, within its lifetime, and only
 *     if it was made with the extended master secret and the new hello
 *     offers it again (RFC 7627 §5.3; SSL 3.0 has no extensions: its
 *     sessions resume without, between SSL 3.0-only hellos). Anything else -- and unknown, expired or
 *     damaged tickets and IDs -- gives a full handshake, no error. A
 *     server resuming from its cache keeps the client's certificates of the
 *     first handshake (tlsv_conn_peer_cert_count); from a ticket it has
 *     none.
 *   - client: it offers a TLS <= 1.2 session (its ticket with a random
 *     session ID, RFC 5077 §3.4, or else its session ID) when the session's
 *     version and suite are among those the connection offers; it may be
 *     offered alongside TLS 1.3 (a TLS 1.3 answer ignores it). A server
 *     that echoes the session ID but chooses another version or suite is
 *     refused with illegal_parameter (OLD_SESSION_VERSION_NOT_RETURNED,
 *     OLD_SESSION_CIPHER_NOT_RETURNED), as is one echoing an ID under which
 *     no TLS <= 1.2 session was offered (SERVER_ECHOED_INVALID_SESSION_ID;
 *     OLD_SESSION_VERSION_NOT_RETURNED when a TLS 1.3 session was); one
 *     that resumes disagreeing with the session on the extended master
 *     secret, with handshake_failure (INCONSISTENT_EXTMS). Without a TLS
 *     <= 1.2 session the session ID is empty unless TLS 1.3 is offered
 *     with OP_ENABLE_MIDDLEBOX_COMPAT (RFC 8446 App. D.4). */

typedef struct tlsv_session tlsv_session;

/* Tickets a server sends after each TLS 1.3 handshake (Python:
 * SSLContext.num_tickets), 0..16; default 2. Fails with WRONG_SIDE on a
 * TLS_CLIENT context (Python raises ValueError), INVALID_ARGUMENT above 16.
 * get returns the current value. */
TLSV_API int tlsv_ctx_set_num_tickets(tlsv_ctx *ctx, size_t n);
TLSV_API size_t tlsv_ctx_get_num_tickets(const tlsv_ctx *ctx);

/* The lifetime of the tickets a server issues, in seconds, 1..604800 (seven
 * days, RFC 8446 §4.6.1); default 7200. It is also the rotation interval of
 * the ticket keys. Fails with INVALID_ARGUMENT outside the range. */
TLSV_API int tlsv_ctx_set_ticket_lifetime(tlsv_ctx *ctx, uint32_t seconds);
TLSV_API uint32_t tlsv_ctx_get_ticket_lifetime(const tlsv_ctx *ctx);

/* Rotates the context's ticket keys now: the current key becomes the
 * previous one (its tickets are still accepted), a new key issues tickets
 * from now on, and tickets under the key that was previous are refused
 * (full handshake). Calling it twice makes every ticket issued so far
 * useless. Thread-safe. Returns 0, or -1 (INTERNAL_ERROR: no randomness). */
TLSV_API int tlsv_ctx_rotate_ticket_keys(tlsv_ctx *ctx);

/* Server, TLS <= 1.2: the most sessions the context's session-ID cache
 * holds, 0..1048576; default 20480 (OpenSSL's and Python's). 0 disables
 * the cache (and empties it); a smaller size drops the oldest entries at
 * once. When full, the oldest entry is dropped for a new one; a dropped
 * entry's master secret is wiped. Shared by every connection of the
 * context; thread-safe. Fails with INVALID_ARGUMENT above the limit. */
TLSV_API int tlsv_ctx_set_session_cache_size(tlsv_ctx *ctx, size_t n);
TLSV_API size_t tlsv_ctx_get_session_cache_size(const tlsv_ctx *ctx);

/* Server, TLS <= 1.2: how long a cached session may be resumed, in seconds,
 * 1..86400 (RFC 5246 §F.1.4 suggests at most 24 hours); default 7200.
 * Tickets use the ticket lifetime instead. Fails with INVALID_ARGUMENT
 * outside the range. */
TLSV_API int tlsv_ctx_set_session_timeout(tlsv_ctx *ctx, uint32_t seconds);
TLSV_API uint32_t tlsv_ctx_get_session_timeout(const tlsv_ctx *ctx);

/* Server: the sessions in the context's cache now (expired ones are
 * dropped first). */
TLSV_API size_t tlsv_ctx_session_cache_count(tlsv_ctx *ctx);

/* Client: the latest session received on this connection (a new reference:
 * release it with tlsv_session_free), or, if none arrived, the session this
 * connection resumed; NULL if there is neither. TLS 1.3 tickets come after
 * the handshake: they are processed by tlsv_conn_read(), so read (or wait
 * for data) before asking. At TLS <= 1.2 the session is there when the
 * handshake ends: the session of a full handshake (if the server gave a
 * session ID or a ticket and the extended master secret was used), or of a
 * resumed one (with the new ticket, if the server sent one). Python:
 * SSLSocket.session. */
TLSV_API tlsv_session *tlsv_conn_get_session(tlsv_conn *conn);

/* Client, before the handshake: offer `session` (the connection takes its
 * own reference; NULL clears). The session is offered only if it is still
 * within its lifetime, its version and a suite of its hash (TLS <= 1.2:
 * its very suite) are enabled in
 * this connection's context, its server name equals this connection's, and
 * -- unless the context's verify_mode is CERT_NONE -- the handshake that
 * made it verified the server's certificate; otherwise the handshake is a
 * full one. Fails (-1) on a server connection or after the handshake
 * started. Python: SSLSocket.session = session. */
TLSV_API int tlsv_conn_set_session(tlsv_conn *conn, tlsv_session *session);

/* 1 if the handshake resumed a session (both sides), 0 otherwise.
 * Python: SSLSocket.session_reused. A resumed client connection reports the
 * certificates of the handshake that made the session (none for a session
 * made by tlsv_session_from_bytes). */
TLSV_API int tlsv_conn_session_reused(const tlsv_conn *conn);

/* Releases a reference to a session (NULL is a no-op); the last one wipes
 * its secret. Sessions are immutable: one may be shared by threads. */
TLSV_API void tlsv_session_free(tlsv_session *session);

/* Serialises a session (format version 1 for TLS 1.3: protocol version,
 * suite, the resumption secret, ticket, lifetime, times, server name, ALPN;
 * format version 2 for TLS <= 1.2: the master secret, session ID, ticket,
 * extended-master-secret flag and lifetime hint instead; not the
 * peer's certificates) into buf if cap is large enough, and returns the
 * size it needs in any case (0 for NULL). The bytes hold the session's
 * secret: keep them as you would keep a private key. */
TLSV_API size_t tlsv_session_to_bytes(const tlsv_session *session, uint8_t *buf, size_t cap);

/* Parses what tlsv_session_to_bytes wrote. Strict: an unknown format
 * version, any length that does not fit, a value out of range or trailing
 * bytes fail with DECODE_ERROR (NULL returned, *err filled if given). */
TLSV_API tlsv_session *tlsv_session_from_bytes(const uint8_t *data, size_t len, tlsv_error *err);

/* When the session was received (seconds since the Unix epoch), and the
 * ticket lifetime the server gave (seconds; Python:
 * SSLSession.ticket_lifetime_hint; for a TLS <= 1.2 session without a hint,
 * 7200, how long the client offers it). -1 for NULL. */
TLSV_API long tlsv_session_time(const tlsv_session *session);
TLSV_API long tlsv_session_lifetime_hint(const tlsv_session *session);

/* The protocol version (0x0304, 0x0303, ...) and cipher suite name of the session's
 * handshake; 0 / NULL for NULL. */
TLSV_API int tlsv_session_version(const tlsv_session *session);
TLSV_API const char *tlsv_session_cipher(const tlsv_session *session);

/* ---------------------------------------------------------------------- */
/* Generated certificates: for demos and tests; never for production      */
/* ---------------------------------------------------------------------- */

/* Generates a throw-away self-signed certificate on a fresh ECDSA P-256 key,
 * in memory, and installs the pair as this context's certificate chain and
 * private key, exactly as tlsv_ctx_load_cert_chain() would (replacing any
 * previous pair). The certificate: CN=common_name; subjectAltName
 * DNS:common_name (IP:common_name if it is an IP literal) and IP:127.0.0.1;
 * extendedKeyUsage serverAuth and clientAuth; valid from one hour ago for
 * one day. common_name NULL means "localhost"; otherwise 1 to 64 letters,
 * digits, '-', '.', '_', '*' or ':'.
 * FOR DEMOS AND TESTS; NEVER FOR PRODUCTION: nobody can trust this
 * certificate unless it is exported and pinned, the key is never stored,
 * and every call makes a new one. A peer that verifies certificates fails
 * (self-signed) unless it is configured not to verify (TLSV_CERT_NONE).
 * Returns 0, or -1 with INVALID_ARGUMENT (a bad name) or INTERNAL_ERROR
 * recorded in tlsv_ctx_last_error(). */
TLSV_API int tlsv_ctx_use_generated_certificate(tlsv_ctx *ctx, const char *common_name);

#ifdef __cplusplus
}
#endif

#endif /* TLSV_H */
