/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_lt_merge.c - results written and merged back: a property test
 * (random values split over random shards and merged in a random grouping
 * equal one recording, bucket for bucket), the HdrHistogram codec's round
 * trip and refusals, the JSON reader's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lt_hdr.h"
#include "lt_json.h"
#include "lt_merge.h"
#include "lt_stats.h"

static uint64_t rng = 88172645463325252u;

static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

/* A long-tailed latency: mostly under 10 ms, sometimes up to 2^40. */
static uint64_t latency(void)
{
    uint64_t r = next();
    return r % 100 == 0 ? r >> 24 : r % 10000;
}

static lt_opts opts(void)
{
    lt_opts o;
    memset(&o, 0, sizeof o);
    o.mode = LT_MODE_REQUEST;
    o.target = "https://127.0.0.1:1/";
    o.conns = 12;
    o.threads = 1;
    o.total = 100000;
    o.shard_count = 1;
    return o;
}

/* One shard's result text. */
static char *result_of(const lt_stats *st, const lt_opts *o, unsigned i, unsigned n)
{
    lt_result r = {
        .o = o,
        .st = st,
        .elapsed_s = 1,
        .shard_index = i,
        .shard_count = n,
        .host = "test",
        .start_unix_us = 1700000000000000u + i * 1000u,
        .end_unix_us = 1700000001000000u + i * 1000u,
        .series_start_unix_us = 1700000000000000u + i * 1000u,
        .fingerprint = "{\"mode\":\"request\",\"shards\":0}",
        .conns_here = 1,
        .command = "test",
        .kib_per_held = -1, /* not a hold run */
    };
    char *text = lt_report_json_text(&r);
    assert_non_null(text);
    return text;
}

/* Merges texts a and b into one result text. */
static char *merge2(const char *a, const char *b)
{
    lt_merge *m = lt_merge_new();
    char err[512];
    assert_int_equal(lt_merge_add(m, a, strlen(a), "a", err, sizeof err), 0);
    assert_int_equal(lt_merge_add(m, b, strlen(b), "b", err, sizeof err), 0);
    lt_opts o = opts();
    const lt_result *r = lt_merge_result(m, &o, "merge");
    assert_non_null(r);
    char *text = lt_report_json_text(r);
    assert_non_null(text);
    lt_merge_free(m);
    return text;
}

static void test_random_split_merges_to_one_recording(void **state)
{
    (void)state;
    for (int round = 0; round < 6; round++) {
        unsigned n = 2 + (unsigned)(next() % 5);
        lt_stats *one = malloc(sizeof *one), *part = malloc(n * sizeof *part);
        lt_stats_init(one);
        for (unsigned i = 0; i < n; i++)
            lt_stats_init(&part[i]);
        for (int k = 0; k < 20000; k++) {
            unsigned i = (unsigned)(next() % n);
            uint64_t v = latency(), sec = next() % 5;
            int err = next() % 20 == 0 ? -1 : 0;
            lt_stats *targets[2] = {one, &part[i]};
            for (int t = 0; t < 2; t++) {
                lt_stats *st = targets[t];
                lt_hist_record(&st->hist[LT_TOTAL], v);
                lt_hist_record(&st->hist[LT_TTFB], v / 2);
                *(err ? &st->ops_failed : &st->ops_ok) += 1;
                st->reqs_ok += !err;
                st->codes[200] += !err;
                st->status[2] += !err;
                if (err)
                    lt_stats_error(st, -3);
                lt_stats_second(st, sec, err, v);
            }
        }
        lt_opts o = opts();
        o.shard_count = n;
        char **texts = malloc(n * sizeof *texts);
        for (unsigned i = 0; i < n; i++)
            texts[i] = result_of(&part[i], &o, i, n);
        /* A random grouping: merge two random neighbours until one is left. */
        unsigned left = n;
        while (left > 1) {
            unsigned at = (unsigned)(next() % (left - 1));
            char *m = merge2(texts[at], texts[at + 1]);
            free(texts[at]);
            free(texts[at + 1]);
            texts[at] = m;
            memmove(texts + at + 1, texts + at + 2, (left - at - 2) * sizeof *texts);
            left--;
        }
        /* Read the final text back once more: bucket for bucket. */
        lt_merge *m = lt_merge_new();
        char err[512];
        assert_int_equal(lt_merge_add(m, texts[0], strlen(texts[0]), "all", err, sizeof err), 0);
        const lt_result *r = lt_merge_result(m, &o, "merge");
        assert_non_null(r);
        assert_int_equal(r->n_shards, n);
        for (int p = 0; p < LT_NPHASES; p++) {
            const lt_hist *a = &r->st->hist[p], *b = &one->hist[p];
            assert_int_equal(a->count, b->count);
            assert_int_equal(a->min, b->min);
            assert_int_equal(a->max, b->max);
            assert_true(a->sum == b->sum);
            assert_memory_equal(a->slot, b->slot, sizeof a->slot);
        }
        assert_int_equal(r->st->ops_ok, one->ops_ok);
        assert_int_equal(r->st->ops_failed, one->ops_failed);
        assert_int_equal(r->st->errors[3], one->errors[3]);
        assert_int_equal(r->st->codes[200], one->codes[200]);
        /* Shards started a millisecond apart: the seconds line up. */
        for (size_t s = 0; s < one->n_series; s++) {
            const lt_second *a = s < r->st->n_series ? &r->st->series[s] : NULL,
                            *b = &one->series[s];
            assert_int_equal(a ? a->ops : 0, b->ops);
            assert_int_equal(a ? a->errors : 0, b->errors);
            if (b->slot)
                assert_memory_equal(a->slot, b->slot, LT_SERIES_SLOTS * sizeof *b->slot);
        }
        lt_merge_free(m);
        free(texts[0]);
        free(texts);
        for (unsigned i = 0; i < n; i++)
            lt_stats_free(&part[i]);
        lt_stats_free(one);
        free(part);
        free(one);
    }
}

static void test_hdr_round_trip_and_refusals(void **state)
{
    (void)state;
    static uint64_t counts[LT_HIST_SLOTS], back[LT_HIST_SLOTS];
    for (unsigned i = 0; i < LT_HIST_SLOTS; i++)
        counts[i] =
            next() % 3 == 0 ? next() >> (1 + next() % 63) : 0; /* signed 64-bit, as Java's */
    char *s = lt_hdr_encode(LT_HIST_SUB_BITS, counts, LT_HIST_SLOTS);
    assert_non_null(s);
    assert_memory_equal(s, "HISTFAAA", 8); /* V2 compressed's cookie, as every tool writes it */
    char err[256];
    assert_int_equal(
        lt_hdr_decode(s, strlen(s), LT_HIST_SUB_BITS, back, LT_HIST_SLOTS, err, sizeof err), 0);
    assert_memory_equal(counts, back, sizeof counts);
    /* Another layout, a short buffer, bytes that are not base64. */
    assert_int_equal(
        lt_hdr_decode(s, strlen(s), LT_SERIES_SUB_BITS, back, LT_SERIES_SLOTS, err, sizeof err),
        -1);
    assert_non_null(strstr(err, "significant digits"));
    assert_int_equal(lt_hdr_decode(s, 12, LT_HIST_SUB_BITS, back, LT_HIST_SLOTS, err, sizeof err),
                     -1);
    assert_int_equal(
        lt_hdr_decode("!!!!", 4, LT_HIST_SUB_BITS, back, LT_HIST_SLOTS, err, sizeof err), -1);
    /* Counts past the layout: decoding into fewer slots refuses. */
    assert_int_equal(lt_hdr_decode(s, strlen(s), LT_HIST_SUB_BITS, back, 100, err, sizeof err), -1);
    free(s);
    assert_int_equal(lt_hdr_digits(11), 3);
    assert_int_equal(lt_hdr_digits(8), 2);
}

static void test_json_reader(void **state)
{
    (void)state;
    char err[128];
    const char *good =
        " {\"a\": [1, -2.5e3, \"x\\u00e9\\ud83d\\ude00\\n\"], \"b\": {\"c\": null, \"d\": true},"
        " \"n\": 18446744073709551615} ";
    lt_json *j = lt_json_parse(good, strlen(good), err, sizeof err);
    assert_non_null(j);
    uint64_t v;
    assert_int_equal(lt_json_u64(lt_json_get(j, "n"), &v), 0);
    assert_true(v == UINT64_MAX);
    const lt_json *a = lt_json_get(j, "a");
    assert_string_equal(lt_json_str(a->child->next->next), "x\xc3\xa9\xf0\x9f\x98\x80\n");
    assert_true(lt_json_num(a->child->next, 0) == -2500);
    assert_int_equal(lt_json_u64(a->child->next, &v), -1);
    char *back = lt_json_text(j);
    lt_json *k = lt_json_parse(back, strlen(back), err, sizeof err);
    assert_non_null(k);
    lt_json_free(k);
    free(back);
    lt_json_free(j);
    const char *bad[] = {"",    "{",           "[1,]",      "{\"a\" 1}", "\"\\x\"", "01",
                         "1 2", "{\"a\":tru}", "\"a\x01\"", "-",         "1.",      "1e"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(lt_json_parse(bad[i], strlen(bad[i]), err, sizeof err));
    char deep[200];
    memset(deep, '[', sizeof deep);
    assert_null(lt_json_parse(deep, sizeof deep, err, sizeof err));
    assert_non_null(strstr(err, "deep"));
}

/* Replaces the first `from` in text by `to` (no longer than from). */
static void damage(char *text, const char *from, const char *to)
{
    char *at = strstr(text, from);
    assert_non_null(at);
    size_t f = strlen(from), t = strlen(to);
    assert_true(t <= f);
    memcpy(at, to, t);
    memmove(at + t, at + f, strlen(at + f) + 1);
}

static void test_damaged_results_refused(void **state)
{
    /* Each refusal names the file and what is wrong, and leaves the merge
     * as it was: the good result still merges after them. (The first two
     * read freed memory for their message under ASan before the fix.) */
    (void)state;
    lt_opts o = opts();
    lt_stats st;
    lt_stats_init(&st);
    lt_hist_record(&st.hist[0], 1234);
    st.ops_ok = 1;
    char *good = result_of(&st, &o, 0, 1);
    static const struct {
        const char *from, *to, *says;
    } cases[] = {
        {"\"format\":\"evtls-result/3\"", "\"format\":\"evtls-result/1\"",
         "d.json: written by another version of evtls-load (format evtls-result/1; this one "
         "reads evtls-result/3): the shards of a test are merged by the evtls-load that made "
         "them"},
        {"\"format\":\"evtls-result/3\"", "\"format\":\"k6-summary\"",
         "d.json: not an evtls-load result (format \"evtls-result/3\" expected, k6-summary "
         "found)"},
        {"\"fingerprint\":", "\"fingerprinx\":", "d.json: a damaged result: no fingerprint object"},
        {"\"count\":1", "\"count\":0", "d.json: a damaged result: no shard count"},
    };
    lt_merge *m = lt_merge_new();
    char err[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *bad = strdup(good);
        damage(bad, cases[i].from, cases[i].to);
        assert_int_equal(lt_merge_add(m, bad, strlen(bad), "d.json", err, sizeof err), -1);
        assert_string_equal(err, cases[i].says);
        free(bad);
    }
    assert_int_equal(lt_merge_add(m, good, strlen(good), "good.json", err, sizeof err), 0);
    const lt_result *r = lt_merge_result(m, &o, "merge");
    assert_non_null(r);
    assert_int_equal(r->st->ops_ok, 1);
    lt_merge_free(m);
    free(good);
    lt_stats_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_split_merges_to_one_recording),
        cmocka_unit_test(test_hdr_round_trip_and_refusals),
        cmocka_unit_test(test_json_reader),
        cmocka_unit_test(test_damaged_results_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
