/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_addr.c - numeric addresses: parsing and printing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <evtls/evtls.h>
#include "evtls_addr.h"

static void test_addr_parse(void **state)
{
    (void)state;
    evtls__addr a;
    char buf[64];
    assert_int_equal(evtls__addr_parse_numeric("127.0.0.1", 443, &a), 1);
    assert_int_equal(evtls__addr_family(&a), 4);
    assert_string_equal(evtls__addr_str(&a, buf, sizeof buf), "127.0.0.1");
    assert_int_equal(ntohs(((struct sockaddr_in *)&a.ss)->sin_port), 443);
    assert_int_equal(evtls__addr_parse_numeric("::1", 8443, &a), 1);
    assert_int_equal(evtls__addr_family(&a), 6);
    assert_int_equal(evtls__addr_parse_numeric("[2001:db8::1]", 1, &a), 1);
    assert_string_equal(evtls__addr_str(&a, buf, sizeof buf), "2001:db8::1");
    assert_int_equal(evtls__addr_parse_numeric("example.com", 1, &a), 0);
    assert_int_equal(evtls__addr_parse_numeric("1.2.3", 1, &a), 0);
    assert_int_equal(evtls__addr_parse_numeric("[1.2.3.4]", 1, &a), -1);
    assert_int_equal(evtls__addr_parse_numeric("[nope]", 1, &a), -1);
    assert_int_equal(evtls__host_strip("[::1]", buf, sizeof buf), 0);
    assert_string_equal(buf, "::1");
    assert_int_equal(evtls__host_strip("localhost", buf, 4), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_parse),
    };
    return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
