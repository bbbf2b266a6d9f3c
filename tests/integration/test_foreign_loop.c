/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_foreign_loop.c - examples/evtls-foreign-loop run as a user runs it:
 * several URLs at once from one poll(2) loop with no libevent of its own
 * (a line per URL, the status or the error's name, the exit status), and
 * the number of times it waits while a handshake waits on a silent peer:
 * bounded by the deadlines and sockets it has, not by the time it waits
 * (before, the poll API asked for a wake-up every 5 to 100 ms). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "peer.h"
#include "proc.h"

static struct peer web, silent;
static struct proc pr;

static int group_setup(void **state)
{
    (void)state;
    if (peer_nginx(&web, NULL) != 0)
        return -1;
    return peer_fault(&silent, "hs-silent", NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    peer_stop(&silent);
    peer_stop(&web);
    return 0;
}

static unsigned long waits_of(const char *err)
{
    const char *p = strstr(err, "evtls-foreign-loop: ");
    unsigned long n = 0;
    while (p && sscanf(p, "evtls-foreign-loop: %lu waits", &n) != 1)
        p = strstr(p + 1, "evtls-foreign-loop: ");
    if (p == NULL)
        fail_msg("no wait count in:\n%s", err);
    return n;
}

static void test_several_urls_from_one_poll_loop(void **state)
{
    (void)state;
    char a[96], b[96], refused[64];
    snprintf(a, sizeof a, "https://localhost:%u/", web.port);
    snprintf(b, sizeof b, "https://127.0.0.1:%u/missing", web.port);
    snprintf(refused, sizeof refused, "https://127.0.0.1:%u/", unused_port());
    const char *argv[] = {
        EVTLS_FOREIGN_LOOP_PATH, "--count-waits", "--cacert", pki("ca.pem"), a, b, NULL};
    assert_int_equal(proc_run(&pr, argv, 30000), 0);
    char want[128];
    snprintf(want, sizeof want, "%s 200\n", a);
    assert_non_null(strstr(pr.out, want));
    snprintf(want, sizeof want, "%s 200\n", b); /* nginx answers every path with 200 */
    assert_non_null(strstr(pr.out, want));
    /* One URL that fails: its error's name, exit status 1. */
    const char *argv2[] = {EVTLS_FOREIGN_LOOP_PATH, "--cacert", pki("ca.pem"), a, refused, NULL};
    assert_int_equal(proc_run(&pr, argv2, 30000), 1);
    snprintf(want, sizeof want, "%s CONN_REFUSED\n", refused);
    assert_non_null(strstr(pr.out, want));
    assert_int_equal(count_of(pr.out, "\n"), 2);
    /* Bad usage: exit 2. */
    const char *argv3[] = {EVTLS_FOREIGN_LOOP_PATH, "http://x/", NULL};
    assert_int_equal(proc_run(&pr, argv3, 30000), 2);
}

static void test_waits_on_a_silent_peer_are_few(void **state)
{
    (void)state;
    char u[96];
    snprintf(u, sizeof u, "https://127.0.0.1:%u/", silent.port);
    /* A 3 s handshake timeout: with wake-ups every 100 ms that was 30 waits
     * at least; sleeping until the socket or the deadline, it is a few. */
    const char *argv[] = {EVTLS_FOREIGN_LOOP_PATH,
                          "--count-waits",
                          "--handshake-timeout",
                          "3000",
                          "--cacert",
                          pki("ca.pem"),
                          u,
                          NULL};
    assert_int_equal(proc_run(&pr, argv, 60000), 1);
    char want[128];
    snprintf(want, sizeof want, "%s HANDSHAKE_TIMEOUT\n", u);
    assert_non_null(strstr(pr.out, want));
    unsigned long waits = waits_of(pr.err);
    if (waits < 1 || waits > 6)
        fail_msg("%lu waits for one handshake timeout", waits);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_several_urls_from_one_poll_loop),
        cmocka_unit_test(test_waits_on_a_silent_peer_are_few),
    };
    return cmocka_run_group_tests_name("foreign loop", tests, group_setup, group_teardown);
}
