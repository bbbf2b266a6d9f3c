/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_lt_hist.c - the load tester's histogram: slot layout, error bound,
 * percentiles against an exact sort, merging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lt_hist.h"

static void test_layout_and_error_bound(void **state)
{
    (void)state;
    /* Slots tile the range without gaps, each at most 2^-10 of its values wide. */
    for (unsigned s = 0; s + 1 < LT_HIST_SLOTS; s++) {
        assert_int_equal(lt_hist_slot_high(s) + 1, lt_hist_slot_low(s + 1));
        uint64_t lo = lt_hist_slot_low(s), hi = lt_hist_slot_high(s);
        assert_true(lo == 0 || (double)(hi - lo) / (double)lo <= 1.0 / 1024);
    }
    uint64_t probes[] = {0, 1, 1023, 1024, 1025, 2047, 2048, 123456789, (UINT64_C(1) << 40) - 1};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        unsigned s = lt_hist_slot_of(probes[i]);
        assert_true(s < LT_HIST_SLOTS);
        assert_true(lt_hist_slot_low(s) <= probes[i] && probes[i] <= lt_hist_slot_high(s));
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_percentiles_against_sort(void **state)
{
    (void)state;
    static lt_hist h;
    lt_hist_reset(&h);
    enum { N = 200000 };
    uint64_t *v = malloc(N * sizeof *v);
    srand(7);
    for (int i = 0; i < N; i++) {
        /* A long-tailed mix: most around 500 µs, some up to 5 s. */
        v[i] = (uint64_t)(rand() % 1000) + (i % 100 == 0 ? (uint64_t)(rand() % 5000000) : 0);
        lt_hist_record(&h, v[i]);
    }
    qsort(v, N, sizeof *v, cmp_u64);
    double ps[] = {50, 90, 99, 99.9};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        uint64_t exact = v[(size_t)((ps[i] / 100.0) * N + 0.999999999) - 1];
        uint64_t got = lt_hist_percentile(&h, ps[i]);
        assert_true(got >= exact);
        assert_true((double)(got - exact) <= (double)exact / 1024.0 + 1.0);
    }
    assert_int_equal(lt_hist_percentile(&h, 0), v[0]);
    assert_int_equal(lt_hist_percentile(&h, 100), v[N - 1]);
    assert_int_equal(h.min, v[0]);
    assert_int_equal(h.max, v[N - 1]);
    double sum = 0;
    for (int i = 0; i < N; i++)
        sum += (double)v[i];
    assert_true(lt_hist_mean(&h) > sum / N - 1e-6 && lt_hist_mean(&h) < sum / N + 1e-6);
    free(v);
}

static void test_merge_equals_one_histogram(void **state)
{
    (void)state;
    static lt_hist a, b, all;
    lt_hist_reset(&a);
    lt_hist_reset(&b);
    lt_hist_reset(&all);
    for (uint64_t i = 1; i <= 100000; i++) {
        lt_hist_record(i % 3 ? &a : &b, i * 37);
        lt_hist_record(&all, i * 37);
    }
    lt_hist_merge(&a, &b);
    assert_int_equal(a.count, all.count);
    assert_int_equal(a.min, all.min);
    assert_int_equal(a.max, all.max);
    assert_memory_equal(a.slot, all.slot, sizeof a.slot);
    assert_int_equal(lt_hist_percentile(&a, 99.9), lt_hist_percentile(&all, 99.9));
    /* Beyond the range: clamped and counted, never out of bounds. */
    lt_hist_record(&a, UINT64_MAX);
    assert_int_equal(a.clamped, 1);
    assert_int_equal(a.max, (UINT64_C(1) << 40) - 1);
    static lt_hist empty;
    lt_hist_reset(&empty);
    assert_int_equal(lt_hist_percentile(&empty, 50), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_and_error_bound),
        cmocka_unit_test(test_percentiles_against_sort),
        cmocka_unit_test(test_merge_equals_one_histogram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
