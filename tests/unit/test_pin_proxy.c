/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_pin_proxy.c - the pure parts of pinning and proxying: base64, curl's pins, the
 * SubjectPublicKeyInfo, proxy URLs, CONNECT. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <evtls/evtls.h>
#include "evtls_base64.h"
#include "evtls_pin.h"
#include "evtls_proxy.h"

/* The pure parts of pinning and proxying: base64 both ways, curl's pin
 * syntax, the SubjectPublicKeyInfo inside a certificate, proxy URLs, the
 * CONNECT request and the proxy's answer. */
static void test_pin_and_proxy_parts(void **state)
{
    (void)state;
    char enc[64];
    uint8_t dec[64];
    assert_int_equal(evtls__b64_encode((const uint8_t *)"evtls:s3cret", 12, enc, sizeof enc), 16);
    assert_string_equal(enc, "ZXZ0bHM6czNjcmV0");
    assert_int_equal(evtls__b64_encode((const uint8_t *)"ab", 2, enc, sizeof enc), 4);
    assert_string_equal(enc, "YWI=");
    assert_int_equal(evtls__b64_encode((const uint8_t *)"ab", 2, enc, 4), -1);
    assert_int_equal(evtls__b64_decode("YWI=", 4, dec, sizeof dec), 2);
    assert_memory_equal(dec, "ab", 2);
    assert_int_equal(evtls__b64_decode("YWI", 3, dec, sizeof dec), -1);
    assert_int_equal(evtls__b64_decode("Y=I=", 4, dec, sizeof dec), -1);
    assert_int_equal(evtls__b64_decode("YW!=", 4, dec, sizeof dec), -1);
    assert_int_equal(evtls__b64_decode("YWJj", 4, dec, 2), -1);
    /* Pins: curl's syntax, blanks around ';' allowed, 32-byte digests. */
    uint8_t pins[4][32];
    const char *one = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    assert_int_equal(evtls__pins_parse(one, pins, 4), 1);
    char two[200];
    snprintf(two, sizeof two, "%s ; sha256//AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", one);
    assert_int_equal(evtls__pins_parse(two, pins, 4), 2);
    assert_int_equal(pins[1][31], 1);
    assert_int_equal(evtls__pins_parse(two, pins, 1), -1); /* more than max */
    assert_int_equal(evtls__pins_parse("sha1//AAAA", pins, 4), -1);
    assert_int_equal(evtls__pins_parse("sha256//AAAA", pins, 4), -1); /* not 32 bytes */
    assert_int_equal(evtls__pins_parse("", pins, 4), -1);
    assert_int_equal(evtls__pins_parse(";", pins, 4), -1);
    /* SPKI: a hand-made certificate skeleton with and without [0] version. */
    static const uint8_t cert[] = {
        0x30, 0x18,                                     /* Certificate */
        0x30, 0x14,                                     /* tbsCertificate */
        0xa0, 0x03, 0x02, 0x01, 0x02,                   /* [0] version */
        0x02, 0x01, 0x07,                               /* serial */
        0x30, 0x00, 0x30, 0x00, 0x30, 0x00, 0x30, 0x00, /* sig, issuer, validity, subject */
        0x30, 0x02, 0x05, 0x00,                         /* subjectPublicKeyInfo */
        0x30, 0x00,                                     /* signatureAlgorithm (outside tbs) */
    };
    const uint8_t *spki;
    size_t spki_len;
    assert_int_equal(evtls__cert_spki(cert, sizeof cert, &spki, &spki_len), 0);
    assert_int_equal(spki - cert, 20);
    assert_int_equal(spki_len, 4);
    assert_int_equal(evtls__cert_spki(cert, 10, &spki, &spki_len), -1); /* truncated */
    static const uint8_t not_cert[] = {0x04, 0x02, 0x30, 0x00};
    assert_int_equal(evtls__cert_spki(not_cert, sizeof not_cert, &spki, &spki_len), -1);
    /* Proxy URLs as curl takes them. */
    char *host, *auth;
    uint16_t port;
    assert_int_equal(evtls__proxy_parse("http://proxy.test:3128", &host, &port, &auth), 0);
    assert_string_equal(host, "proxy.test");
    assert_int_equal(port, 3128);
    assert_null(auth);
    free(host);
    assert_int_equal(evtls__proxy_parse("http://ev%40tls:s3%3Acret@[::1]", &host, &port, &auth), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 1080);
    char want[64];
    evtls__b64_encode((const uint8_t *)"ev@tls:s3:cret", 14, want, sizeof want);
    assert_string_equal(auth, want);
    char req[256];
    assert_true(evtls__proxy_request(req, sizeof req, "::1", 443, auth) > 0);
    assert_non_null(strstr(req, "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n"));
    assert_non_null(strstr(req, "Proxy-Authorization: Basic "));
    assert_int_equal(evtls__proxy_request(req, 20, "::1", 443, auth), -1);
    free(host);
    free(auth);
    assert_int_equal(evtls__proxy_parse("proxy.test", &host, &port, &auth), 0); /* no scheme */
    free(host);
    static const char *const bad[] = {"https://p:1",   "socks5://p:1", "http://p:0",
                                      "http://p:x",    "http://:8080", "http://p:1/path",
                                      "http://%zz@p:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(evtls__proxy_parse(bad[i], &host, &port, &auth), EVTLS_ERR_INVALID_ARG);
    /* The proxy's answer. */
    int status = 0;
    size_t used = 0;
    const char *ok = "HTTP/1.1 200 Connection established\r\nX: y\r\n\r\n";
    assert_int_equal(evtls__proxy_answer(ok, strlen(ok), &status, &used), 1);
    assert_int_equal(status, 200);
    assert_int_equal(used, strlen(ok));
    assert_int_equal(evtls__proxy_answer(ok, 20, &status, &used), 0); /* not whole yet */
    assert_int_equal(evtls__proxy_answer("SSH-2.0-x\r\n", 11, &status, &used), -1);
    assert_int_equal(evtls__proxy_answer("HTTP/1.0 407 x\r\n\r\n", 19, &status, &used), 1);
    assert_int_equal(status, 407);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pin_and_proxy_parts),
    };
    return cmocka_run_group_tests_name("pin and proxy", tests, NULL, NULL);
}
