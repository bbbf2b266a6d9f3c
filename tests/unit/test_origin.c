/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_origin.c - the one origin key of the pool and the session cache. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <evtls/evtls.h>
#include "evtls_origin.h"

/* One origin key for the pool and the session cache: the host as DNS
 * compares it, the port, and a tag; what cannot be a host is refused. */
static void test_origin_key(void **state)
{
    (void)state;
    char a[EVTLS__ORIGIN_KEY_MAX], b[EVTLS__ORIGIN_KEY_MAX];
    assert_int_equal(evtls__origin_key(a, sizeof a, "Example.COM", 443, "t"), 17);
    assert_string_equal(a, "example.com|443|t");
    /* A trailing dot and case name the same origin. */
    assert_true(evtls__origin_key(b, sizeof b, "example.com.", 443, "t") > 0);
    assert_string_equal(a, b);
    /* An IPv6 literal with or without brackets. */
    assert_true(evtls__origin_key(a, sizeof a, "[::1]", 8443, NULL) > 0);
    assert_true(evtls__origin_key(b, sizeof b, "::1", 8443, NULL) > 0);
    assert_string_equal(a, "::1|8443|");
    assert_string_equal(a, b);
    /* Port and tag tell origins apart. */
    assert_true(evtls__origin_key(a, sizeof a, "h", 1, "x") > 0);
    assert_true(evtls__origin_key(b, sizeof b, "h", 2, "x") > 0);
    assert_string_not_equal(a, b);
    assert_true(evtls__origin_key(b, sizeof b, "h", 1, "y") > 0);
    assert_string_not_equal(a, b);
    /* Refused: an empty host, port 0, the separator or a control byte in
     * the host (no host can forge another origin's key), and no room. */
    assert_int_equal(evtls__origin_key(a, sizeof a, "", 1, "x"), -1);
    assert_int_equal(evtls__origin_key(a, sizeof a, "[]", 1, "x"), -1);
    assert_int_equal(evtls__origin_key(a, sizeof a, "h", 0, "x"), -1);
    assert_int_equal(evtls__origin_key(a, sizeof a, "h|2", 1, "x"), -1);
    assert_int_equal(evtls__origin_key(a, sizeof a, "h\n", 1, "x"), -1);
    assert_int_equal(evtls__origin_key(a, sizeof a, "h\x01", 1, "x"), -1);
    assert_int_equal(evtls__origin_key(a, 8, "abcdef", 443, "x"), -1);
    assert_int_equal(evtls__origin_key(a, 6, "abcdef", 443, "x"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_origin_key),
    };
    return cmocka_run_group_tests_name("origin", tests, NULL, NULL);
}
