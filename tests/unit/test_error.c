/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_error.c - error codes: names, texts, classes, retryability, the last-error line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <evtls/evtls.h>

static const int all_codes[] = {
    EVTLS_OK,
    EVTLS_ERR_INVALID_ARG,
    EVTLS_ERR_STATE,
    EVTLS_ERR_NOMEM,
    EVTLS_ERR_BAD_CONFIG,
    EVTLS_ERR_INTERNAL,
    EVTLS_ERR_CANCELLED,
    EVTLS_ERR_WOULDBLOCK,
    EVTLS_ERR_DNS,
    EVTLS_ERR_DNS_NXDOMAIN,
    EVTLS_ERR_DNS_SERVFAIL,
    EVTLS_ERR_DNS_NODATA,
    EVTLS_ERR_DNS_TIMEOUT,
    EVTLS_ERR_CONN_REFUSED,
    EVTLS_ERR_HOST_UNREACH,
    EVTLS_ERR_NET_UNREACH,
    EVTLS_ERR_CONNECT_TIMEOUT,
    EVTLS_ERR_SOCKET,
    EVTLS_ERR_HANDSHAKE_TIMEOUT,
    EVTLS_ERR_CERT_UNTRUSTED,
    EVTLS_ERR_CERT_EXPIRED,
    EVTLS_ERR_CERT_NOT_YET_VALID,
    EVTLS_ERR_CERT_HOSTNAME,
    EVTLS_ERR_CERT_INVALID,
    EVTLS_ERR_PEER_ALERT,
    EVTLS_ERR_PROTOCOL_VERSION,
    EVTLS_ERR_HANDSHAKE_FAILED,
    EVTLS_ERR_PROTOCOL,
    EVTLS_ERR_TLS,
    EVTLS_ERR_PEER_CLOSED,
    EVTLS_ERR_PEER_RESET,
    EVTLS_ERR_TIMEOUT,
    EVTLS_EOF,
    EVTLS_ERR_POOL_WAIT_TIMEOUT,
    EVTLS_ERR_POOL_CLOSED,
    EVTLS_ERR_HTTP_MALFORMED,
    EVTLS_ERR_HTTP_HEADERS_TOO_LARGE,
    EVTLS_ERR_HTTP_BODY_TOO_LARGE,
    EVTLS_ERR_HTTP_TRUNCATED,
    EVTLS_ERR_HTTP_TTFB_TIMEOUT,
    EVTLS_ERR_HTTP_TIMEOUT,
    EVTLS_ERR_BAD_URL,
    EVTLS_ERR_HTTP_ALPN,
    EVTLS_ERR_PSK,
    EVTLS_ERR_PIN_MISMATCH,
    EVTLS_ERR_PROXY_CONNECT,
    EVTLS_ERR_PROXY_REFUSED,
    EVTLS_ERR_INTERFACE,
    EVTLS_ERR_CERT_WEAK_KEY,
    EVTLS_ERR_CERT_WEAK_SIGNATURE,
    EVTLS_ERR_CERT_REVOKED,
    EVTLS_ERR_TLS_RENEGOTIATION,
    EVTLS_ERR_CERT_STATUS,
    EVTLS_ERR_KEY_DEVICE,
    EVTLS_ERR_POOL_FREED,
};

static void test_every_code_is_described(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof all_codes / sizeof all_codes[0]; i++) {
        int c = all_codes[i];
        assert_string_not_equal(evtls_strerror(c), "unknown error");
        assert_string_not_equal(evtls_err_name(c), "UNKNOWN");
        if (c != EVTLS_OK)
            assert_int_not_equal(evtls_err_get_class(c), EVTLS_CLASS_NONE);
        /* names are unique */
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(evtls_err_name(c), evtls_err_name(all_codes[j]));
    }
    assert_string_equal(evtls_strerror(12345), "unknown error");
    /* Every code's class indexes an array of EVTLS_CLASS_COUNT (the pool's
     * failed[] was one short of EVTLS_CLASS_HTTP). */
    evtls_pool_stats st;
    assert_int_equal(sizeof st.failed / sizeof st.failed[0], EVTLS_CLASS_COUNT);
    for (int c = -200; c <= 0; c++) {
        if (strcmp(evtls_err_name(c), "UNKNOWN") == 0)
            continue;
        assert_true((int)evtls_err_get_class(c) < EVTLS_CLASS_COUNT);
        assert_string_not_equal(evtls_err_class_name(evtls_err_get_class(c)), "unknown");
    }
    assert_string_equal(evtls_err_name(EVTLS_ERR_CERT_EXPIRED), "CERT_EXPIRED");
    assert_string_equal(evtls_err_class_name(evtls_err_get_class(EVTLS_ERR_CERT_EXPIRED)), "cert");
}

static void test_retry_classification(void **state)
{
    (void)state;
    assert_true(evtls_err_is_retryable(EVTLS_ERR_DNS_TIMEOUT));
    assert_true(evtls_err_is_retryable(EVTLS_ERR_CONN_REFUSED));
    assert_true(evtls_err_is_retryable(EVTLS_ERR_CONNECT_TIMEOUT));
    assert_true(evtls_err_is_retryable(EVTLS_ERR_PEER_CLOSED));
    assert_false(evtls_err_is_retryable(EVTLS_ERR_CERT_UNTRUSTED));
    assert_false(evtls_err_is_retryable(EVTLS_ERR_CERT_HOSTNAME));
    assert_false(evtls_err_is_retryable(EVTLS_ERR_BAD_CONFIG));
    assert_false(evtls_err_is_retryable(EVTLS_ERR_PROTOCOL_VERSION));
    assert_false(evtls_err_is_retryable(EVTLS_ERR_DNS_NXDOMAIN));
}

static void test_format(void **state)
{
    (void)state;
    evtls_last_error e = {.code = EVTLS_ERR_PEER_ALERT, .alert = 116, .sys_errno = 0};
    strcpy(e.detail, "during the TLS handshake");
    char buf[256];
    evtls_last_error_format(&e, buf, sizeof buf);
    assert_non_null(strstr(buf, "PEER_ALERT"));
    assert_non_null(strstr(buf, "certificate_required"));
    assert_non_null(strstr(buf, "during the TLS handshake"));
    evtls_last_error_format(&e, buf, 8); /* truncates, stays terminated */
    assert_int_equal(strlen(buf), 7);
    assert_string_equal(evtls_alert_name(70), "protocol_version");
    assert_string_equal(evtls_alert_name(999), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_is_described),
        cmocka_unit_test(test_retry_classification),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
