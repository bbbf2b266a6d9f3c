/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_source.c - source addresses: a configuration's --source, round robin per family. */
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
#include "evtls_cfg_int.h"

static void test_source_address(void **state)
{
    (void)state;
    evtls_cfg *cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_add_source_address(cfg, "localhost"), EVTLS_ERR_INVALID_ARG);
    assert_non_null(strstr(evtls_cfg_get_last_error(cfg)->detail, "not an IPv4 or IPv6"));
    assert_null(evtls__cfg_next_source(cfg, 4));
    assert_int_equal(evtls_cfg_add_source_address(cfg, "127.0.0.2"), 0);
    assert_int_equal(evtls_cfg_add_source_address(cfg, "::1"), 0);
    assert_int_equal(evtls_cfg_add_source_address(cfg, "127.0.0.3"), 0);
    /* Each family's addresses in turn. */
    const struct evtls__source *a = evtls__cfg_next_source(cfg, 4);
    const struct evtls__source *b = evtls__cfg_next_source(cfg, 4);
    assert_ptr_not_equal(a, b);
    assert_ptr_equal(evtls__cfg_next_source(cfg, 4), a);
    assert_int_equal(evtls__cfg_next_source(cfg, 6)->ss.ss_family, AF_INET6);
    assert_ptr_equal(evtls__cfg_next_source(cfg, 6), evtls__cfg_next_source(cfg, 6));
    for (int i = 3; i < 16; i++)
        assert_int_equal(evtls_cfg_add_source_address(cfg, "127.0.0.9"), 0);
    assert_int_equal(evtls_cfg_add_source_address(cfg, "127.0.0.9"), EVTLS_ERR_INVALID_ARG);
    evtls_cfg_unref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_address),
    };
    return cmocka_run_group_tests_name("source", tests, NULL, NULL);
}
