/*
 * shim_flags.h -- the command line of the BoGo shim (tests/bogo/shim.c).
 *
 * BoringSSL's test runner (ssl/test/runner, "BoGo") starts the shim once
 * per test with flags from BoringSSL's ssl/test/test_config.cc. This parser
 * knows the subset of those flags that maps to what tlsv offers; any other
 * flag means the test needs something the shim cannot do, and the shim
 * exits with BOGO_EXIT_UNIMPLEMENTED (89), which the runner counts as
 * "unimplemented" rather than failed (BoringSSL's ssl/test/PORTING.md).
 *
 * As in test_config.cc, a flag may carry the prefix -on-initial, -on-resume
 * or -on-retry to apply to one connection of the test only; without one it
 * applies to all three configurations. -on-shim applies the flag here,
 * -on-handshaker ignores it (we have no split handshaker).
 */
#ifndef TLSV_BOGO_SHIM_FLAGS_H
#define TLSV_BOGO_SHIM_FLAGS_H

#include <stddef.h>

#define BOGO_EXIT_UNIMPLEMENTED 89
#define BOGO_MAX_CURVES 16

typedef struct bogo_config {
    int port;
    int is_server;
    const char *key_file;
    const char *cert_file;
    int min_version; /* wire version number, 0: not given */
    int max_version;
    int no_tls1, no_tls11, no_tls12, no_tls13;
    int expect_version;
    int fallback_scsv;
    int shim_writes_first;
    int shim_shuts_down;
    int check_close_notify;
    int resume_count;
    int expect_session_miss;
    int expect_no_session;
    const char *select_alpn;    /* server: the protocol to select */
    const char *advertise_alpn; /* client: wire format, length-prefixed names */
    const char *expect_alpn;
    const char *host_name;
    const char *expect_server_name;
    const char *cipher;       /* OpenSSL-style cipher string for TLS 1.0-1.2 */
    int curves[BOGO_MAX_CURVES]; /* TLS group code points */
    size_t n_curves;
    int write_different_record_sizes;
    int is_handshaker_supported;
    int no_ticket;
    int server_preference;
    int read_size;
    int implicit_handshake;
    int handshake_twice;
    int no_op_extra_handshake;
    int key_update;
    int expect_curve_id;
    int partial_write;
    int async; /* non-blocking socket, WANT_* retried after poll() */
    /* Peer verification. BoringSSL's shim verifies with a callback that
     * accepts every certificate unless -verify-fail; -use-custom-verify-
     * callback picks another BoringSSL API for the same callback. */
    int verify_peer;
    int verify_fail;
    int require_any_client_certificate;
    int use_custom_verify_callback;
    int enforce_rsa_key_usage; /* tlsv always enforces keyUsage */
    const char *expect_peer_cert_file; /* PEM: the peer's chain, leaf first */
} bogo_config;

/* Fills the three configurations (initial connection, resumptions, 0-RTT
 * retry) from argv[1..argc-1]. Returns 0 on success,
 * BOGO_EXIT_UNIMPLEMENTED for a flag the shim does not implement (its name
 * is written to msg), or 1 for a malformed command line (missing or bad
 * parameter; explained in msg). */
int bogo_parse_flags(int argc, char **argv, bogo_config *initial, bogo_config *resume,
                     bogo_config *retry, char *msg, size_t msglen);

/* Decodes -advertise-alpn's wire format ("\x03foo\x03bar") into names
 * copied to `store` (NUL-terminated, back to back) with pointers in
 * names[]. Returns the count, or -1 if it is malformed or does not fit. */
int bogo_parse_alpn_wire(const char *wire, char *store, size_t storelen, const char **names,
                         size_t maxnames);

/* The TLS group code point for a tlsv group name ("x25519" -> 29), 0 if
 * unknown; and the tlsv name for a code point, NULL if tlsv lacks it. */
int bogo_curve_id(const char *tlsv_name);
const char *bogo_curve_name(int id);

#endif
