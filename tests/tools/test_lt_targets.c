/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_lt_targets.c - the targets file (both formats), the weighted draw
 * and how --targets shares -c among origins (pure). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lt_opts.h"
#include "lt_targets.h"

static lt_targets ts;

static int parse(const char *text)
{
    static char err[400];
    lt_targets_free(&ts);
    int rc = lt_targets_parse(text, strlen(text), &ts, err, sizeof err);
    if (rc != 0)
        print_message("%s\n", err);
    return rc;
}

static void test_json_lines(void **state)
{
    (void)state;
    assert_int_equal(
        parse("// comment\n"
              "{\"name\":\"home\",\"url\":\"https://a.test/\",\"weight\":3,"
              "\"headers\":{\"X-A\":\"1\",\"X-B\":[\"2\",\"3\"]},\"expect_status\":\"2xx,304\"}\r\n"
              "  {\"url\":\"https://b.test:8443/x\",\"body\":\"hi\",\"headers\":[\"X-C: 4\"],"
              "\"connections\":2,\"expect_status\":[200,201]}\n"),
        0);
    assert_int_equal(ts.n, 2);
    assert_false(ts.vegeta);
    assert_string_equal(ts.t[0].name, "home");
    assert_int_equal(ts.t[0].weight, 3);
    assert_int_equal(ts.t[0].n_headers, 3);
    assert_string_equal(ts.t[0].headers[1], "X-B: 2");
    assert_true(ts.t[0].expect_status[204] && ts.t[0].expect_status[304]);
    assert_false(ts.t[0].expect_status[301]);
    /* defaults: the name is METHOD URL, POST with a body, weight 1 */
    assert_string_equal(ts.t[1].name, "POST https://b.test:8443/x");
    assert_null(ts.t[1].method);
    assert_int_equal(ts.t[1].weight, 1);
    assert_int_equal(ts.t[1].conns, 2);
    assert_int_equal(ts.t[1].body_len, 2);
    assert_string_equal(ts.t[1].headers[0], "X-C: 4");
    assert_true(ts.t[1].expect_status[201] && !ts.t[1].expect_status[202]);
    assert_int_equal(ts.t[1].line, 3);
}

static void test_vegeta(void **state)
{
    (void)state;
    assert_int_equal(parse("GET https://a.test/1\n"
                           "Authorization: Token X:Y\n"
                           "POST   https://a.test/2\n"
                           "@/tmp/body.json\n"
                           "\n"
                           "# a comment\n"
                           "DELETE http://c.test/3\n"),
                     0);
    assert_true(ts.vegeta);
    assert_int_equal(ts.n, 3);
    assert_string_equal(ts.t[0].headers[0], "Authorization: Token X:Y");
    assert_string_equal(ts.t[1].method, "POST");
    assert_string_equal(ts.t[1].url, "https://a.test/2");
    assert_string_equal(ts.t[1].body_file, "/tmp/body.json");
    assert_string_equal(ts.t[2].name, "DELETE http://c.test/3");
    /* a header before any target, a header after the body, two bodies */
    assert_int_equal(parse("X-A: 1\nGET https://a.test/\n"), -1);
    assert_int_equal(parse("GET https://a.test/\n@f\nX-A: 1\n"), -1);
    assert_int_equal(parse("GET https://a.test/\n@f\n@g\n"), -1);
}

static void test_refusals(void **state)
{
    (void)state;
    const char *bad[] = {
        "{\"url\":\"https://a/\",\"weight\":0}\n",
        "{\"url\":\"https://a/\",\"weight\":100001}\n",
        "{\"url\":\"https://a/\",\"weight\":60000}\n{\"url\":\"https://b/\",\"weight\":60000}\n",
        "{\"url\":\"https://a/\",\"body\":\"x\",\"body_file\":\"y\"}\n",
        "{\"url\":\"https://a/\",\"headers\":{\"X A\":\"1\"}}\n",
        "{\"url\":\"https://a/\",\"headers\":[\"no colon\"]}\n",
        "{\"url\":\"https://a/\",\"method\":\"G T\"}\n",
        "{\"url\":\"https://a/\",\"expect_status\":\"600\"}\n",
        "{\"url\":1}\n",
        "{\"url\":\"https://a/\",\"body\":\"x\",\"body\":\"y\"}\n",
        "[1]\n",
        "{\"url\":\"https://a/\",\"name\":\"\"}\n",
        "",
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse(bad[i]) == 0)
            fail_msg("accepted: %s", bad[i]);
    /* 65 targets */
    static char many[65 * 40];
    size_t n = 0;
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "{\"url\":\"https://a/%d\"}\n", i);
    assert_int_equal(parse(many), -1);
}

/* Each whole cycle holds every target exactly its weight's times; the
 * same seed gives the same sequence, another seed another. */
static void test_draw(void **state)
{
    (void)state;
    unsigned idx[3] = {0, 1, 2}, w[3] = {5, 1, 2};
    lt_draw d, e, f;
    assert_int_equal(lt_draw_init(&d, idx, w, 3, 42), 0);
    assert_int_equal(lt_draw_init(&e, idx, w, 3, 42), 0);
    assert_int_equal(lt_draw_init(&f, idx, w, 3, 43), 0);
    unsigned differ = 0;
    for (uint64_t c = 0; c < 50; c++) {
        unsigned seen[3] = {0};
        for (uint64_t k = 0; k < 8; k++) {
            unsigned t = lt_draw_at(&d, c * 8 + k);
            seen[t]++;
            differ += t != lt_draw_at(&f, c * 8 + k);
        }
        assert_int_equal(seen[0], 5);
        assert_int_equal(seen[1], 1);
        assert_int_equal(seen[2], 2);
    }
    assert_true(differ > 0);
    /* read out of order (as two origins' cursors do), the same answers */
    for (uint64_t g = 400; g-- > 0;)
        assert_int_equal(lt_draw_at(&e, g), lt_draw_at(&d, g));
    lt_draw_free(&d);
    lt_draw_free(&e);
    lt_draw_free(&f);
}

/* -c is shared by weight among the targets, each origin at least one a
 * thread; a target's "connections" are its own. */
static void test_origins_and_connections(void **state)
{
    (void)state;
    static lt_opts o;
    char err[400];
    char *argv[] = {"evtls-load", "--targets", "x", "-c", "10", "-t", "2", NULL};
    assert_int_equal(lt_opts_parse(7, argv, &o, err, sizeof err), 0);
    assert_int_equal(lt_opts_shard_env(&o, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(parse("{\"url\":\"https://a.test/1\",\"weight\":9}\n"
                           "{\"url\":\"https://A.test:443/2\",\"weight\":9}\n"
                           "{\"url\":\"https://b.test/\",\"weight\":1}\n"),
                     0);
    if (lt_opts_use_targets(&o, &ts, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(o.n_origins, 2); /* a.test:443 is one origin */
    assert_int_equal(o.target_origin[1], 0);
    assert_int_equal(o.target_origin[2], 1);
    /* by weight 18:1 the second would have none: each thread needs one */
    assert_int_equal(o.origins[0].conns, 8);
    assert_int_equal(o.origins[1].conns, 2);
    assert_int_equal(o.mode, LT_MODE_REQUEST);

    char *argv2[] = {"evtls-load", "--targets", "x", "-c", "10", NULL};
    assert_int_equal(lt_opts_parse(5, argv2, &o, err, sizeof err), 0);
    assert_int_equal(lt_opts_shard_env(&o, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(parse("{\"url\":\"https://a.test/\",\"connections\":7}\n"
                           "{\"url\":\"https://b.test/\",\"weight\":2}\n"
                           "{\"url\":\"https://c.test/\"}\n"),
                     0);
    assert_int_equal(lt_opts_use_targets(&o, &ts, err, sizeof err), 0);
    assert_int_equal(o.origins[0].conns, 7);
    assert_int_equal(o.origins[1].conns, 2);
    assert_int_equal(o.origins[2].conns, 1);
    /* more given than -c */
    assert_int_equal(lt_opts_parse(5, argv2, &o, err, sizeof err), 0);
    assert_int_equal(parse("{\"url\":\"https://a.test/\",\"connections\":11}\n"), 0);
    assert_int_equal(lt_opts_use_targets(&o, &ts, err, sizeof err), -1);
    assert_non_null(strstr(err, "add up to 11"));
    /* mixed schemes */
    assert_int_equal(lt_opts_parse(5, argv2, &o, err, sizeof err), 0);
    assert_int_equal(parse("{\"url\":\"https://a.test/\"}\n{\"url\":\"http://b.test/\"}\n"), 0);
    assert_int_equal(lt_opts_use_targets(&o, &ts, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 2"));
    lt_targets_free(&ts);
}

/* A threshold on one target: STAT{target:NAME}<LIMIT. */
static void test_target_threshold_syntax(void **state)
{
    (void)state;
    struct lt_threshold t;
    assert_int_equal(lt_parse_threshold("total.p99{target:GET https://a:1/x}<200ms", &t), 0);
    assert_string_equal(t.target, "GET https://a:1/x");
    assert_int_equal(t.phase, LT_TOTAL);
    assert_true(t.p == 99 && t.limit == 200000 && !t.above);
    assert_int_equal(lt_parse_threshold("rps{target:b}>10", &t), 0);
    assert_true(t.kind == LT_TH_RPS && t.above && strcmp(t.target, "b") == 0);
    assert_int_equal(lt_parse_threshold("errors.rate<0.1", &t), 0);
    assert_string_equal(t.target, "");
    const char *bad[] = {"total.p99{target:}<1ms", "total.p99{target:x<1ms",
                         "total.p99{target:x}",    "total.p99{target:x}=1ms",
                         "{target:x}<1ms",         "rps{target:x}{target:y}>1"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (lt_parse_threshold(bad[i], &t) == 0)
            fail_msg("accepted: %s", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_lines),
        cmocka_unit_test(test_vegeta),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_draw),
        cmocka_unit_test(test_origins_and_connections),
        cmocka_unit_test(test_target_threshold_syntax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
