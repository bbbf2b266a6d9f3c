/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_history.c - Happy Eyeballs' memory, on a clock passed in. */
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
#include "evtls_history.h"

static evtls__addr ha(const char *ip)
{
    evtls__addr a;
    assert_int_equal(evtls__addr_parse_numeric(ip, 443, &a), 1);
    return a;
}

/* Happy Eyeballs' memory, on a clock passed in: first-dial order, the
 * learnt delay within RFC 8305's bounds, fallback, expiry, bounds. */
static void test_history(void **state)
{
    (void)state;
    evtls__history h = {0};
    assert_int_equal(evtls__history_configure(&h, 2, 1000), 0); /* 2 entries, TTL 1 s */
    uint64_t t = 5000000;
    struct evtls__dest *d = evtls__history_acquire(&h, "Dual.Test", 443, t);
    assert_non_null(d);
    evtls__addr v6 = ha("::1"), v4 = ha("127.0.0.1"), o4 = ha("127.0.0.2");
    evtls__addr order[3] = {v6, v4, o4};
    /* No history: RFC 6724 order kept, the configured delay applies. */
    assert_int_equal(evtls__history_order(&h, d, order, 3, t), EVTLS_ORDER_RFC6724);
    assert_memory_equal(&order[0], &v6, sizeof v6);
    assert_int_equal(evtls__history_delay_ms(&h, d, t), 0);
    /* IPv4 won after 600 ms: dialled first next time; delay srtt + 4 rttvar
     * = 600 + 4 * 300 ms, capped at 2 s. */
    evtls__history_won(&h, d, &v4, 600000, t);
    assert_int_equal(evtls__history_order(&h, d, order, 3, t + 1), EVTLS_ORDER_WINNER);
    assert_memory_equal(&order[0], &v4, sizeof v4);
    assert_memory_equal(&order[1], &v6, sizeof v6);
    assert_int_equal(evtls__history_delay_ms(&h, d, t + 1), 1800);
    /* Fast connects pull it down to the 100 ms floor. */
    for (int i = 0; i < 40; i++)
        evtls__history_won(&h, d, &v4, 1000, t + 2);
    assert_int_equal(evtls__history_delay_ms(&h, d, t + 2), 100);
    /* Slow ones push it to the 2 s ceiling. */
    for (int i = 0; i < 40; i++)
        evtls__history_won(&h, d, &v4, 5000000, t + 3);
    assert_int_equal(evtls__history_delay_ms(&h, d, t + 3), 2000);
    /* The remembered winner fails: forgotten, and dialled last. */
    evtls__history_failed(d, &v4, t + 4);
    evtls__addr again[3] = {v4, v6, o4};
    assert_int_equal(evtls__history_order(&h, d, again, 3, t + 5), EVTLS_ORDER_LOSER);
    assert_memory_equal(&again[0], &v6, sizeof v6);
    assert_memory_equal(&again[2], &v4, sizeof v4);
    /* Facts expire after the TTL: order and delay are the defaults again. */
    evtls__history_won(&h, d, &o4, 1000, t + 6);
    evtls__addr late[3] = {v6, v4, o4};
    assert_int_equal(evtls__history_order(&h, d, late, 3, t + 6 + 1000001), EVTLS_ORDER_RFC6724);
    assert_memory_equal(&late[0], &v6, sizeof v6);
    assert_int_equal(evtls__history_delay_ms(&h, d, t + 6 + 1000001), 0);
    /* The same destination whatever the spelling; a held entry is never
     * evicted; the least recently used free one is. */
    struct evtls__dest *same = evtls__history_acquire(&h, "dual.test.", 443, t + 7);
    assert_ptr_equal(same, d);
    evtls__history_release(same);
    struct evtls__dest *b = evtls__history_acquire(&h, "b.test", 443, t + 8);
    assert_non_null(b);
    assert_null(evtls__history_acquire(&h, "c.test", 443, t + 9)); /* both held */
    evtls__history_release(b);
    struct evtls__dest *c = evtls__history_acquire(&h, "c.test", 443, t + 10);
    assert_ptr_equal(c, b); /* b's slot: d is held */
    assert_int_equal(evtls__history_size(&h), 2);
    /* Clear forgets facts; held entries stay, free ones go. */
    evtls__history_won(&h, d, &v4, 1000, t + 11);
    evtls__history_release(c);
    evtls__history_clear(&h);
    assert_int_equal(evtls__history_size(&h), 1);
    evtls__addr cl[2] = {v6, v4};
    assert_int_equal(evtls__history_order(&h, d, cl, 2, t + 12), EVTLS_ORDER_RFC6724);
    /* Resizing waits until no dial holds an entry; 0 turns it off. */
    assert_int_equal(evtls__history_configure(&h, 4, 1000), -1);
    evtls__history_release(d);
    assert_int_equal(evtls__history_configure(&h, 0, 1000), 0);
    assert_null(evtls__history_acquire(&h, "dual.test", 443, t));
    evtls__history_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history),
    };
    return cmocka_run_group_tests_name("history", tests, NULL, NULL);
}
