/*
 * fuzz_msg.c -- libFuzzer target for the handshake message codec
 * (src/engine/msg.c): the input is handed to every parser, at every
 * version that changes the format, and whatever a parser accepts is
 * walked with the iterators and helpers that trust its views.
 *
 * Build and run (not part of CMake):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DTLSV_BUILDING_LIBRARY \
 *       -I src -I include \
 *       fuzz/fuzz_msg.c src/engine/msg.c src/engine/ext.c src/buf.c \
 *       src/err.c src/names.c -o fuzz_msg
 *   ./fuzz_msg -runs=100000
 *
 * Invariants checked (abort on violation):
 *   - a parser either succeeds or fails with an error record that has a
 *     reason, an alert and a message;
 *   - every view a successful parser returns lies inside the input;
 *   - iterators over those views consume them exactly.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/msg.h"

static const uint8_t *in_lo, *in_hi;

static void inside(tlsv_bytes v)
{
    if (v.n == 0)
        return;
    if (!v.p || v.p < in_lo || v.p + v.n > in_hi)
        abort();
}

static void failed(int rc, const tlsv_error *err)
{
    if (rc == 0)
        return;
    if (rc != -1 || err->reason == TLSV_R_OK || err->alert == TLSV_ALERT_NONE ||
        err->message[0] == '\0')
        abort();
}

static void walk_u16(tlsv_bytes list)
{
    inside(list);
    if (list.n % 2)
        abort();
    size_t n = tlsv_u16_count(list);
    uint16_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint16_t)(sum + tlsv_u16_at(list, i));
    (void)tlsv_u16_contains(list, sum);
}

static void walk_alpn(tlsv_bytes list)
{
    tlsv_iter it;
    tlsv_bytes name;
    size_t used = 0;
    inside(list);
    tlsv_iter_init(&it, list);
    while (tlsv_iter_alpn(&it, &name)) {
        inside(name);
        used += 1 + name.n;
    }
    if (used != list.n)
        abort();
}

static void walk_dns(tlsv_bytes list)
{
    tlsv_iter it;
    tlsv_bytes dn;
    size_t used = 0;
    inside(list);
    tlsv_iter_init(&it, list);
    while (tlsv_iter_dn(&it, &dn)) {
        inside(dn);
        used += 2 + dn.n;
    }
    if (used != list.n)
        abort();
}

static void client_hello(const tlsv_client_hello *ch)
{
    inside(ch->session_id);
    inside(ch->cipher_suites);
    if (!ch->sslv2) /* an SSLv2 hello's {null} is a constant of msg.c */
        inside(ch->compression_methods);
    tlsv_iter it;
    uint16_t s;
    tlsv_ch_suites(ch, &it);
    while (tlsv_iter_suite(&it, &s))
        (void)tlsv_ch_has_suite(ch, s);
    inside(ch->server_name);
    walk_u16(ch->supported_groups);
    walk_u16(ch->signature_algorithms);
    walk_u16(ch->signature_algorithms_cert);
    walk_u16(ch->supported_versions);
    walk_alpn(ch->alpn);
    walk_dns(ch->certificate_authorities);
    inside(ch->cookie);
    inside(ch->ec_point_formats);
    inside(ch->renegotiation_info);
    inside(ch->session_ticket);
    inside(ch->psk_key_exchange_modes);

    uint16_t group;
    tlsv_bytes key;
    size_t n = 0;
    tlsv_iter_init(&it, ch->key_shares);
    while (tlsv_iter_key_share(&it, &group, &key)) {
        inside(key);
        tlsv_bytes found;
        if (!tlsv_ch_find_key_share(ch, group, &found) || found.p != key.p)
            abort();
        n++;
    }
    if (n != ch->n_key_shares)
        abort();

    tlsv_bytes id, binder;
    uint32_t age;
    size_t ids = 0, binders = 0;
    tlsv_iter_init(&it, ch->psk_identities);
    while (tlsv_iter_psk_identity(&it, &id, &age)) {
        inside(id);
        ids++;
    }
    tlsv_iter_init(&it, ch->psk_binders);
    while (tlsv_iter_psk_binder(&it, &binder)) {
        inside(binder);
        binders++;
    }
    if (ids != binders || ids != ch->n_psk_identities)
        abort();

    uint16_t versions[TLSV_MSG_MAX_VERSIONS];
    tlsv_offer_view ov;
    size_t total = tlsv_ch_offer_view(ch, versions, 3, &ov);
    if (ov.n_versions > 3 || ov.n_versions > total)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t versions[] = {0x0300, 0x0301, 0x0303, 0x0304};
    tlsv_error err;
    int rc;
    in_lo = data;
    in_hi = data + size;

    tlsv_hs_msg hm;
    rc = tlsv_msg_frame(data, size, 1u << 16, &hm, &err);
    if (rc == 1) {
        inside(hm.body);
        inside(hm.whole);
    } else if (rc == -1) {
        failed(rc, &err);
    }

    tlsv_client_hello ch;
    rc = tlsv_msg_parse_client_hello(data, size, &ch, &err);
    failed(rc, &err);
    if (rc == 0) {
        client_hello(&ch);
        if (ch.psk_binders.n && ch.psk_binders_offset + 2 + ch.psk_binders.n != size)
            abort();
    }
    rc = tlsv_msg_parse_sslv2_client_hello(data, size, &ch, &err);
    failed(rc, &err);
    if (rc == 0)
        client_hello(&ch);

    tlsv_server_hello sh;
    rc = tlsv_msg_parse_server_hello(data, size, &sh, &err);
    failed(rc, &err);
    if (rc == 0) {
        inside(sh.session_id);
        inside(sh.key_share);
        inside(sh.cookie);
        inside(sh.alpn);
        inside(sh.renegotiation_info);
        tlsv_server_hello_view v;
        tlsv_sh_version_view(&sh, &v);
    }

    tlsv_encrypted_extensions ee;
    rc = tlsv_msg_parse_encrypted_extensions(data, size, &ee, &err);
    failed(rc, &err);
    if (rc == 0) {
        walk_u16(ee.supported_groups);
        inside(ee.alpn);
    }

    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        uint16_t v = versions[i];
        tlsv_certificate cert;
        rc = tlsv_msg_parse_certificate(data, size, v, &cert, &err);
        failed(rc, &err);
        if (rc == 0) {
            if (cert.n > TLSV_MSG_MAX_CERTS)
                abort();
            for (size_t k = 0; k < cert.n; k++) {
                inside(cert.entries[k].data);
                inside(cert.entries[k].extensions);
            }
        }
        tlsv_certificate_request cr;
        rc = tlsv_msg_parse_certificate_request(data, size, v, &cr, &err);
        failed(rc, &err);
        if (rc == 0) {
            walk_u16(cr.signature_algorithms);
            walk_u16(cr.signature_algorithms_cert);
            walk_dns(cr.certificate_authorities);
            inside(cr.oid_filters);
            inside(cr.certificate_types);
        }
        tlsv_certificate_verify cv;
        rc = tlsv_msg_parse_certificate_verify(data, size, v, &cv, &err);
        failed(rc, &err);
        if (rc == 0)
            inside(cv.signature);
        tlsv_new_session_ticket nst;
        rc = tlsv_msg_parse_new_session_ticket(data, size, v, &nst, &err);
        failed(rc, &err);
        if (rc == 0) {
            inside(nst.nonce);
            inside(nst.ticket);
        }
        tlsv_server_key_exchange ske;
        rc = tlsv_msg_parse_server_key_exchange_ecdhe(data, size, v, &ske, &err);
        failed(rc, &err);
        if (rc == 0) {
            inside(ske.params);
            inside(ske.public_key);
            inside(ske.signature);
        }
        tlsv_bytes pms;
        rc = tlsv_msg_parse_client_key_exchange_rsa(data, size, v, &pms, &err);
        failed(rc, &err);
        if (rc == 0)
            inside(pms);
    }

    tlsv_bytes b;
    rc = tlsv_msg_parse_client_key_exchange_ecdhe(data, size, &b, &err);
    failed(rc, &err);
    if (rc == 0)
        inside(b);
    rc = tlsv_msg_parse_finished(data, size, 32, &b, &err);
    failed(rc, &err);
    bool req;
    rc = tlsv_msg_parse_key_update(data, size, &req, &err);
    failed(rc, &err);
    rc = tlsv_msg_parse_empty(data, size, TLSV_HS_SERVER_HELLO_DONE, &err);
    failed(rc, &err);
    return 0;
}
