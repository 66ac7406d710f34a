/*
 * err.c -- reason names, alert names and the error record.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const reason_names[TLSV_R__COUNT] = {
    [TLSV_R_OK] = "OK",
    [TLSV_R_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
    [TLSV_R_OUT_OF_MEMORY] = "OUT_OF_MEMORY",
    [TLSV_R_UNKNOWN_PROTOCOL] = "UNKNOWN_PROTOCOL",
    [TLSV_R_SSLV3_NOT_COMPILED_IN] = "SSLV3_NOT_COMPILED_IN",
    [TLSV_R_UNSUPPORTED_VERSION] = "UNSUPPORTED_VERSION",
    [TLSV_R_VERSION_BOUNDS_FIXED] = "VERSION_BOUNDS_FIXED",
    [TLSV_R_CHECK_HOSTNAME_NEEDS_VERIFY] = "CHECK_HOSTNAME_NEEDS_VERIFY",
    [TLSV_R_WRONG_SIDE] = "WRONG_SIDE",
    [TLSV_R_NO_PROTOCOLS_AVAILABLE] = "NO_PROTOCOLS_AVAILABLE",
    [TLSV_R_UNSUPPORTED_PROTOCOL] = "UNSUPPORTED_PROTOCOL",
    [TLSV_R_WRONG_SSL_VERSION] = "WRONG_SSL_VERSION",
    [TLSV_R_WRONG_VERSION_NUMBER] = "WRONG_VERSION_NUMBER",
    [TLSV_R_INAPPROPRIATE_FALLBACK] = "INAPPROPRIATE_FALLBACK",
    [TLSV_R_BAD_LEGACY_VERSION] = "BAD_LEGACY_VERSION",
    [TLSV_R_NO_SHARED_CIPHER] = "NO_SHARED_CIPHER",
    [TLSV_R_BAD_PROTOCOL_VERSION_NUMBER] = "BAD_PROTOCOL_VERSION_NUMBER",
    [TLSV_R_UNSOLICITED_EXTENSION] = "UNSOLICITED_EXTENSION",
    [TLSV_R_ALERT_RECEIVED] = "ALERT_RECEIVED",
    [TLSV_R_TLSV1_ALERT_PROTOCOL_VERSION] = "TLSV1_ALERT_PROTOCOL_VERSION",
    [TLSV_R_TLSV1_ALERT_INAPPROPRIATE_FALLBACK] = "TLSV1_ALERT_INAPPROPRIATE_FALLBACK",
    [TLSV_R_SSLV3_ALERT_HANDSHAKE_FAILURE] = "SSLV3_ALERT_HANDSHAKE_FAILURE",
    [TLSV_R_SSLV3_ALERT_ILLEGAL_PARAMETER] = "SSLV3_ALERT_ILLEGAL_PARAMETER",
    [TLSV_R_SSLV3_ALERT_UNEXPECTED_MESSAGE] = "SSLV3_ALERT_UNEXPECTED_MESSAGE",
    [TLSV_R_SSLV3_ALERT_BAD_RECORD_MAC] = "SSLV3_ALERT_BAD_RECORD_MAC",
    [TLSV_R_TLSV1_ALERT_DECODE_ERROR] = "TLSV1_ALERT_DECODE_ERROR",
    [TLSV_R_TLSV1_ALERT_INTERNAL_ERROR] = "TLSV1_ALERT_INTERNAL_ERROR",
    [TLSV_R_TLSV1_ALERT_UNKNOWN_CA] = "TLSV1_ALERT_UNKNOWN_CA",
    [TLSV_R_TLSV13_ALERT_CERTIFICATE_REQUIRED] = "TLSV13_ALERT_CERTIFICATE_REQUIRED",
    [TLSV_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL] = "TLSV1_ALERT_NO_APPLICATION_PROTOCOL",
    [TLSV_R_UNEXPECTED_MESSAGE] = "UNEXPECTED_MESSAGE",
    [TLSV_R_CERTIFICATE_VERIFY_FAILED] = "CERTIFICATE_VERIFY_FAILED",
    [TLSV_R_INTERNAL_ERROR] = "INTERNAL_ERROR",
    [TLSV_R_NOT_IMPLEMENTED] = "NOT_IMPLEMENTED",
    [TLSV_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC] = "DECRYPTION_FAILED_OR_BAD_RECORD_MAC",
    [TLSV_R_RECORD_OVERFLOW] = "RECORD_OVERFLOW",
    [TLSV_R_DECODE_ERROR] = "DECODE_ERROR",
    [TLSV_R_ILLEGAL_PARAMETER] = "ILLEGAL_PARAMETER",
    [TLSV_R_BAD_EXTENSION] = "BAD_EXTENSION",
    [TLSV_R_MISSING_EXTENSION] = "MISSING_EXTENSION",
    [TLSV_R_NO_SUITABLE_KEY_SHARE] = "NO_SUITABLE_KEY_SHARE",
    [TLSV_R_NO_SHARED_SIGNATURE_ALGORITHMS] = "NO_SHARED_SIGNATURE_ALGORITHMS",
    [TLSV_R_BAD_SIGNATURE] = "BAD_SIGNATURE",
    [TLSV_R_DIGEST_CHECK_FAILED] = "DIGEST_CHECK_FAILED",
    [TLSV_R_PEER_DID_NOT_RETURN_A_CERTIFICATE] = "PEER_DID_NOT_RETURN_A_CERTIFICATE",
    [TLSV_R_NO_CERTIFICATE_ASSIGNED] = "NO_CERTIFICATE_ASSIGNED",
    [TLSV_R_KEY_VALUES_MISMATCH] = "KEY_VALUES_MISMATCH",
    [TLSV_R_NO_APPLICATION_PROTOCOL] = "NO_APPLICATION_PROTOCOL",
    [TLSV_R_EXCESSIVE_MESSAGE_SIZE] = "EXCESSIVE_MESSAGE_SIZE",
    [TLSV_R_UNEXPECTED_EOF_WHILE_READING] = "UNEXPECTED_EOF_WHILE_READING",
    [TLSV_R_ZERO_RETURN] = "ZERO_RETURN",
    [TLSV_R_SYSCALL] = "SYSCALL",
    [TLSV_R_TOO_MANY_WARN_ALERTS] = "TOO_MANY_WARN_ALERTS",
    [TLSV_R_TOO_MANY_CERTIFICATES] = "TOO_MANY_CERTIFICATES",
    [TLSV_R_HANDSHAKE_FAILURE] = "HANDSHAKE_FAILURE",
    [TLSV_R_BINDER_DOES_NOT_VERIFY] = "BINDER_DOES_NOT_VERIFY",
    [TLSV_R_EXTENSION_NOT_RECEIVED] = "EXTENSION_NOT_RECEIVED",
    [TLSV_R_OLD_SESSION_VERSION_NOT_RETURNED] = "OLD_SESSION_VERSION_NOT_RETURNED",
    [TLSV_R_OLD_SESSION_CIPHER_NOT_RETURNED] = "OLD_SESSION_CIPHER_NOT_RETURNED",
    [TLSV_R_INCONSISTENT_EXTMS] = "INCONSISTENT_EXTMS",
    [TLSV_R_SERVER_ECHOED_INVALID_SESSION_ID] = "SERVER_ECHOED_INVALID_SESSION_ID",
    [TLSV_R_KEY_USAGE_BIT_INCORRECT] = "KEY_USAGE_BIT_INCORRECT",
};

const char *tlsv_reason_name(tlsv_reason reason)
{
    if ((unsigned)reason >= TLSV_R__COUNT || !reason_names[reason])
        return "UNKNOWN_REASON";
    return reason_names[reason];
}

static const struct {
    int code;
    const char *name;
} alerts[] = {
    {TLSV_ALERT_CLOSE_NOTIFY, "close_notify"},
    {TLSV_ALERT_UNEXPECTED_MESSAGE, "unexpected_message"},
    {TLSV_ALERT_BAD_RECORD_MAC, "bad_record_mac"},
    {TLSV_ALERT_RECORD_OVERFLOW, "record_overflow"},
    {TLSV_ALERT_HANDSHAKE_FAILURE, "handshake_failure"},
    {TLSV_ALERT_BAD_CERTIFICATE, "bad_certificate"},
    {TLSV_ALERT_UNSUPPORTED_CERTIFICATE, "unsupported_certificate"},
    {TLSV_ALERT_CERTIFICATE_REVOKED, "certificate_revoked"},
    {TLSV_ALERT_CERTIFICATE_EXPIRED, "certificate_expired"},
    {TLSV_ALERT_CERTIFICATE_UNKNOWN, "certificate_unknown"},
    {TLSV_ALERT_ILLEGAL_PARAMETER, "illegal_parameter"},
    {TLSV_ALERT_UNKNOWN_CA, "unknown_ca"},
    {TLSV_ALERT_ACCESS_DENIED, "access_denied"},
    {TLSV_ALERT_DECODE_ERROR, "decode_error"},
    {TLSV_ALERT_DECRYPT_ERROR, "decrypt_error"},
    {TLSV_ALERT_PROTOCOL_VERSION, "protocol_version"},
    {TLSV_ALERT_INSUFFICIENT_SECURITY, "insufficient_security"},
    {TLSV_ALERT_INTERNAL_ERROR, "internal_error"},
    {TLSV_ALERT_INAPPROPRIATE_FALLBACK, "inappropriate_fallback"},
    {TLSV_ALERT_USER_CANCELED, "user_canceled"},
    {TLSV_ALERT_NO_RENEGOTIATION, "no_renegotiation"},
    {TLSV_ALERT_MISSING_EXTENSION, "missing_extension"},
    {TLSV_ALERT_UNSUPPORTED_EXTENSION, "unsupported_extension"},
    {TLSV_ALERT_UNRECOGNIZED_NAME, "unrecognized_name"},
    {TLSV_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE, "bad_certificate_status_response"},
    {TLSV_ALERT_UNKNOWN_PSK_IDENTITY, "unknown_psk_identity"},
    {TLSV_ALERT_CERTIFICATE_REQUIRED, "certificate_required"},
    {TLSV_ALERT_NO_APPLICATION_PROTOCOL, "no_application_protocol"},
    /* codes of earlier versions (RFC 5246 §7.2, SSL 3.0), reserved in RFC
     * 8446 §6 but still seen from old peers: named, never sent */
    {21, "decryption_failed"},
    {30, "decompression_failure"},
    {41, "no_certificate"},
    {60, "export_restriction"},
    {111, "certificate_unobtainable"},
    {114, "bad_certificate_hash_value"},
};

const char *tlsv_alert_name(int alert)
{
    for (size_t i = 0; i < sizeof alerts / sizeof alerts[0]; i++)
        if (alerts[i].code == alert)
            return alerts[i].name;
    return NULL;
}

tlsv_reason tlsv_reason_for_alert(int alert)
{
    switch (alert) {
    case TLSV_ALERT_PROTOCOL_VERSION: return TLSV_R_TLSV1_ALERT_PROTOCOL_VERSION;
    case TLSV_ALERT_INAPPROPRIATE_FALLBACK: return TLSV_R_TLSV1_ALERT_INAPPROPRIATE_FALLBACK;
    case TLSV_ALERT_HANDSHAKE_FAILURE: return TLSV_R_SSLV3_ALERT_HANDSHAKE_FAILURE;
    case TLSV_ALERT_ILLEGAL_PARAMETER: return TLSV_R_SSLV3_ALERT_ILLEGAL_PARAMETER;
    case TLSV_ALERT_UNEXPECTED_MESSAGE: return TLSV_R_SSLV3_ALERT_UNEXPECTED_MESSAGE;
    case TLSV_ALERT_BAD_RECORD_MAC: return TLSV_R_SSLV3_ALERT_BAD_RECORD_MAC;
    case TLSV_ALERT_DECODE_ERROR: return TLSV_R_TLSV1_ALERT_DECODE_ERROR;
    case TLSV_ALERT_INTERNAL_ERROR: return TLSV_R_TLSV1_ALERT_INTERNAL_ERROR;
    case TLSV_ALERT_UNKNOWN_CA: return TLSV_R_TLSV1_ALERT_UNKNOWN_CA;
    case TLSV_ALERT_CERTIFICATE_REQUIRED: return TLSV_R_TLSV13_ALERT_CERTIFICATE_REQUIRED;
    case TLSV_ALERT_NO_APPLICATION_PROTOCOL: return TLSV_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL;
    default: return TLSV_R_ALERT_RECEIVED;
    }
}

void tlsv_err_clear(tlsv_error *err)
{
    if (!err)
        return;
    err->reason = TLSV_R_OK;
    err->alert = TLSV_ALERT_NONE;
    err->side = TLSV_SIDE_NONE;
    err->message[0] = '\0';
}

void tlsv_err_set(tlsv_error *err, tlsv_reason reason, int alert, tlsv_side side,
                  const char *fmt, ...)
{
    if (!err)
        return;
    err->reason = reason;
    err->alert = alert;
    err->side = side;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

void tlsv_err_copy(tlsv_error *dst, const tlsv_error *src)
{
    if (dst && src && dst != src)
        memcpy(dst, src, sizeof *dst);
}

size_t tlsv_error_format(const tlsv_error *err, char *buf, size_t len)
{
    if (!err)
        return 0;
    const char *alert = tlsv_alert_name(err->alert);
    int n;
    if (alert)
        n = snprintf(buf, len, "%s (alert %s, %s): %s", tlsv_reason_name(err->reason), alert,
                     err->side == TLSV_SIDE_REMOTE ? "received" : "sent", err->message);
    else
        n = snprintf(buf, len, "%s: %s", tlsv_reason_name(err->reason), err->message);
    return n < 0 ? 0 : (size_t)n;
}
