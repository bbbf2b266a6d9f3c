/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_log.c - the leveled log: levels, handler, quiet by default. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <evtls/evtls.h>

struct captured {
    int n;
    evtls_log_level last;
    char msg[128];
};

static void capture(evtls_log_level level, unsigned long ms, const char *msg, void *arg)
{
    (void)ms;
    struct captured *c = arg;
    c->n++;
    c->last = level;
    strncpy(c->msg, msg, sizeof c->msg - 1);
}

static void test_logging(void **state)
{
    (void)state;
    evtls_log_level l;
    assert_int_equal(evtls_log_level_parse("debug", &l), 0);
    assert_int_equal(l, EVTLS_LOG_DEBUG);
    assert_int_equal(evtls_log_level_parse("loud", &l), EVTLS_ERR_INVALID_ARG);
    struct captured c = {0};
    evtls_log_set_handler(capture, &c);
    assert_int_equal(evtls_log_set_level((evtls_log_level)99), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_log_set_level(EVTLS_LOG_WARN), 0);
    evtls_log(EVTLS_LOG_INFO, "hidden %d", 1);
    assert_int_equal(c.n, 0);
    evtls_log(EVTLS_LOG_ERROR, "shown %d", 2);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.last, EVTLS_LOG_ERROR);
    assert_string_equal(c.msg, "shown 2");
    evtls_log_set_handler(NULL, NULL);
}

/* The level before anything set one: quiet (warnings and errors) unless
 * EVTLS_LOG says otherwise. */
static evtls_log_level level_at_start;
static void test_quiet_by_default(void **state)
{
    (void)state;
    evtls_log_level want = EVTLS_LOG_WARN;
    const char *env = getenv("EVTLS_LOG");
    if (env && evtls_log_level_parse(env, &want) != 0)
        want = EVTLS_LOG_WARN;
    assert_int_equal(level_at_start, want);
}

int main(void)
{
    level_at_start = evtls_log_get_level(); /* before anything sets one */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quiet_by_default),
        cmocka_unit_test(test_logging),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
