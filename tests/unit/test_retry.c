/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_retry.c - the retry policy, pure: the clock and the randomness are arguments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <evtls/evtls.h>
#include "evtls_retry.h"

/* The retry policy, pure: the clock and the randomness are arguments. */
static void test_retry_policy(void **state)
{
    (void)state;
    unsigned w = 12345;
    struct evtls__retry_policy none = {EVTLS_RETRY_NONE, 0, 0, 0, 0, 0};
    assert_int_equal(evtls__retry_decide(&none, 1, EVTLS_ERR_CONN_REFUSED, 0, 0, &w), 0);
    struct evtls__retry_policy cd = {EVTLS_RETRY_COUNTDOWN, 5, 0, 0, 3, 0};
    assert_int_equal(evtls__retry_decide(&cd, 1, EVTLS_ERR_CONN_REFUSED, 0, 0, &w), 1);
    assert_int_equal(w, 5000);
    assert_int_equal(evtls__retry_decide(&cd, 2, EVTLS_ERR_PEER_RESET, 0, 0, &w), 1);
    assert_int_equal(evtls__retry_decide(&cd, 3, EVTLS_ERR_CONN_REFUSED, 0, 0, &w), 0); /* 3 of 3 */
    /* Failures that will not go away by themselves are final at once. */
    const int final[] = {EVTLS_ERR_CERT_UNTRUSTED,   EVTLS_ERR_DNS_NXDOMAIN, EVTLS_ERR_BAD_CONFIG,
                         EVTLS_ERR_PROTOCOL_VERSION, EVTLS_ERR_TIMEOUT,      EVTLS_ERR_NOMEM};
    for (size_t i = 0; i < sizeof final / sizeof final[0]; i++)
        assert_int_equal(evtls__retry_decide(&cd, 1, final[i], 0, 0, &w), 0);
    /* The deadline: a wait that would reach it ends the connect now. */
    struct evtls__retry_policy dl = {EVTLS_RETRY_COUNTDOWN, 1, 0, 0, 0, 1500};
    assert_int_equal(evtls__retry_decide(&dl, 1, EVTLS_ERR_CONN_REFUSED, 400, 0, &w), 1);
    assert_int_equal(evtls__retry_decide(&dl, 2, EVTLS_ERR_CONN_REFUSED, 500, 0, &w), 0);
    /* Full jitter: rnd mod (min(cap, base 2^(k-1)) + 1). */
    struct evtls__retry_policy bo = {EVTLS_RETRY_BACKOFF, 0, 50, 120, 0, 0};
    assert_int_equal(evtls__retry_decide(&bo, 1, EVTLS_ERR_CONN_REFUSED, 0, 1000, &w), 1);
    assert_int_equal(w, 1000 % 51);
    assert_int_equal(evtls__retry_decide(&bo, 2, EVTLS_ERR_CONN_REFUSED, 0, 1000, &w), 1);
    assert_int_equal(w, 1000 % 101);
    assert_int_equal(evtls__retry_decide(&bo, 3, EVTLS_ERR_CONN_REFUSED, 0, 1000, &w), 1);
    assert_int_equal(w, 1000 % 121); /* capped */
    assert_int_equal(evtls__retry_decide(&bo, 64, EVTLS_ERR_CONN_REFUSED, 0, 0xffffffffu, &w), 1);
    assert_true(w <= 120); /* no overflow however many tries */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_policy),
    };
    return cmocka_run_group_tests_name("retry", tests, NULL, NULL);
}
