/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_lt_schedule.c - evtls-load's open-loop schedule and slot joins
 * (tools/evtls-load/lt_schedule.c), pure: times from the arguments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lt_schedule.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Without a ramp, operation k of one worker is due k / rate after t0. */
static void test_steady_rate(void **state)
{
    (void)state;
    lt_schedule s = {.rate = 200, .t0_us = 1000000, .of = 1, .shards = 1, .conns = 4};
    for (uint64_t k = 0; k < 1000; k++)
        assert_int_equal(lt_schedule_op_us(&s, k), 1000000 + k * 5000);
}

/* Shards and workers interleave: together they are the unsharded
 * schedule, each operation once. */
static void test_shards_and_workers_keep_the_schedule(void **state)
{
    (void)state;
    enum { SHARDS = 3, WORKERS = 2, PER = 50 };
    lt_schedule whole = {.rate = 1000, .ramp_us = 200000, .of = 1, .shards = 1, .conns = 1};
    uint64_t all[SHARDS * WORKERS * PER], parts[SHARDS * WORKERS * PER];
    for (uint64_t k = 0; k < SHARDS * WORKERS * PER; k++)
        all[k] = lt_schedule_op_us(&whole, k);
    size_t n = 0;
    for (unsigned sh = 0; sh < SHARDS; sh++)
        for (unsigned w = 0; w < WORKERS; w++) {
            lt_schedule s = whole;
            s.shard = sh, s.shards = SHARDS, s.idx = w, s.of = WORKERS;
            for (uint64_t k = 0; k < PER; k++)
                parts[n++] = lt_schedule_op_us(&s, k);
        }
    qsort(parts, n, sizeof parts[0], cmp_u64);
    assert_memory_equal(all, parts, sizeof all);
}

/* On a ramp the schedule starts slow and reaches the rate at ramp/2's
 * worth of operations, never going back in time. */
static void test_ramp(void **state)
{
    (void)state;
    lt_schedule s = {.rate = 100, .ramp_us = 10000000, .of = 1, .shards = 1, .conns = 1};
    uint64_t prev = 0;
    for (uint64_t k = 0; k < 2000; k++) {
        uint64_t t = lt_schedule_op_us(&s, k);
        assert_true(k == 0 || t >= prev);
        prev = t;
    }
    /* N(t) = rate t^2 / (2 ramp): 500 operations by t = ramp (10 s),
     * then the steady rate: operation 500 + m at 5 s + (500 + m) / 100. */
    assert_int_equal(lt_schedule_op_us(&s, 0), 0);
    assert_int_equal(lt_schedule_op_us(&s, 50), 3162278); /* sqrt(2 * 10 * 50 / 100) s */
    assert_int_equal(lt_schedule_op_us(&s, 500), 10000000);
    assert_int_equal(lt_schedule_op_us(&s, 600), 11000000);
}

/* Slots join over the ramp in a closed loop, all at t0 in an open one. */
static void test_slot_joins(void **state)
{
    (void)state;
    lt_schedule s = {.ramp_us = 1000000, .t0_us = 7, .of = 1, .shards = 1, .conns = 4};
    assert_int_equal(lt_schedule_join_us(&s, 0), 7);
    assert_int_equal(lt_schedule_join_us(&s, 2), 7 + 500000);
    assert_int_equal(lt_schedule_join_us(&s, 3), 7 + 750000);
    s.rate = 50;
    assert_int_equal(lt_schedule_join_us(&s, 3), 7);
}

/* --stages: each operation due exactly when the rate's integral reaches
 * it: 0 to 100/s over 1 s (50 operations), 100/s for 1 s (100), 100 to 0
 * over 1 s (50): 200 in all, operation 50 at 1 s and 150 at 2 s exactly,
 * the ramp's operations at sqrt(2 g / 100); nothing past the stages; and
 * shards and workers together keep the same schedule. */
static void test_stages(void **state)
{
    (void)state;
    static const uint64_t us[] = {1000000, 1000000, 1000000};
    static const double rate[] = {100, 100, 0};
    lt_schedule s = {.rate = 100,
                     .t0_us = 5000000,
                     .of = 1,
                     .shards = 1,
                     .conns = 4,
                     .stage_us = us,
                     .stage_rate = rate,
                     .n_stages = 3};
    assert_int_equal(lt_schedule_op_us(&s, 0), 5000000);
    assert_int_equal(lt_schedule_op_us(&s, 8), 5000000 + 400000); /* sqrt(2*8/100) = 0.4 */
    assert_int_equal(lt_schedule_op_us(&s, 50), 6000000);
    assert_int_equal(lt_schedule_op_us(&s, 100), 6500000);
    assert_int_equal(lt_schedule_op_us(&s, 150), 7000000);
    assert_true(lt_schedule_op_us(&s, 199) < 8000000);
    assert_true(lt_schedule_op_us(&s, 200) > 8000000 + 3000000000ull); /* past the stages */
    for (uint64_t k = 1; k < 200; k++)
        assert_true(lt_schedule_op_us(&s, k) >= lt_schedule_op_us(&s, k - 1));
    /* two shards of two workers: the same 200 times */
    static uint64_t all[200], parts[200];
    for (uint64_t k = 0; k < 200; k++)
        all[k] = lt_schedule_op_us(&s, k);
    size_t n = 0;
    for (unsigned sh = 0; sh < 2; sh++)
        for (unsigned w = 0; w < 2; w++) {
            lt_schedule p = s;
            p.shard = sh, p.shards = 2, p.idx = w, p.of = 2;
            for (uint64_t k = 0; lt_schedule_op_us(&p, k) < 8000000; k++)
                parts[n++] = lt_schedule_op_us(&p, k);
        }
    assert_int_equal(n, 200);
    qsort(parts, n, sizeof parts[0], cmp_u64);
    assert_memory_equal(parts, all, sizeof all);
}

/* --conn-stages 1s:4,1s:4,1s:0: connection G joins when the level passes
 * G (G/4 s) and leaves when it falls back to G (2 + (4 - G)/4 s), to the
 * microsecond; two shards of two workers share the same four. */
static void test_conn_stages(void **state)
{
    (void)state;
    static const uint64_t us[] = {1000000, 1000000, 1000000};
    static const double level[] = {4, 4, 0};
    lt_schedule s = {.t0_us = 5000000,
                     .of = 1,
                     .shards = 1,
                     .conns = 4,
                     .stage_us = us,
                     .stage_rate = level,
                     .n_stages = 3,
                     .stages_conns = 1};
    uint64_t at[3];
    int join[3];
    for (unsigned g = 0; g < 4; g++) {
        assert_int_equal(lt_schedule_slot_events(&s, g, at, join, 3), 2);
        assert_int_equal(join[0], 1);
        assert_int_equal(at[0], 5000000 + 250000 * g);
        assert_int_equal(join[1], 0);
        assert_int_equal(at[1], 7000000 + 250000 * (4 - g));
    }
    /* a connection above every level never joins */
    assert_int_equal(lt_schedule_slot_events(&s, 4, at, join, 3), 0);
    /* 0 -> 2 -> 0 -> 2: connection 1 joins, leaves and joins again */
    static const double wave[] = {2, 0, 2};
    s.stage_rate = wave;
    assert_int_equal(lt_schedule_slot_events(&s, 1, at, join, 3), 3);
    assert_true(join[0] && !join[1] && join[2]);
    assert_int_equal(at[0], 5500000);
    assert_int_equal(at[1], 6500000);
    assert_int_equal(at[2], 7500000);
    /* shards and workers: slot i of shard h, worker w is connection
     * (i * 2 + w) * 2 + h, each of 0..3 once */
    s.stage_rate = level;
    uint64_t seen[4] = {0};
    for (unsigned h = 0; h < 2; h++)
        for (unsigned w = 0; w < 2; w++) {
            lt_schedule p = s;
            p.shard = h, p.shards = 2, p.idx = w, p.of = 2, p.conns = 1;
            assert_int_equal(lt_schedule_slot_events(&p, 0, at, join, 3), 2);
            seen[(at[0] - 5000000) / 250000]++;
        }
    for (unsigned g = 0; g < 4; g++)
        assert_int_equal(seen[g], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stages),
        cmocka_unit_test(test_conn_stages),
        cmocka_unit_test(test_steady_rate),
        cmocka_unit_test(test_shards_and_workers_keep_the_schedule),
        cmocka_unit_test(test_ramp),
        cmocka_unit_test(test_slot_joins),
    };
    return cmocka_run_group_tests_name("lt_schedule", tests, NULL, NULL);
}
