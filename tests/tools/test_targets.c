/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_targets.c - evtls-load --targets as its users run it: a targets
 * file of two origins (two nginx servers, each location with its own
 * access log) whose per-target counts must agree with the servers' logs,
 * exactly by weight; the closed and the open loop; two shards merged per
 * target; vegeta's format; a target's own expected status; usage errors
 * that name the line. The result is read with the load tester's JSON
 * reader. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "load_run.h"
#include "peer.h"

static struct peer a, b;     /* two origins */
static struct peer h2a, h2b; /* two origins speaking HTTP/2 (their case's) */
static char path_targets[128], path_json[128], path_json2[128], path_body[128], path_merged[128];

/* A location's log lines once it holds want, then emptied. */
static int take_log(const char *name, int want)
{
    return load_take_log(name, want, NULL, 0);
}

static int group_setup(void **state)
{
    (void)state;
    unsetenv("EVTLS_LOG");
    if (load_dir_make("evtls-targets") != 0)
        return -1;
    const char *dir = load_dir();
    char da[1024], db[512];
    snprintf(da, sizeof da,
             "keepalive_requests 1000000; "
             "location = /a { access_log %s/a.log evtls; return 200 \"a\\n\"; } "
             "location = /p { access_log %s/p.log evtls; if ($request_method != POST) "
             "{ return 405; } if ($http_x_t != \"1\") { return 400; } return 200 \"p\\n\"; } "
             "location = /v { access_log %s/v.log evtls; if ($http_x_v != \"yes\") { return 400; } "
             "return 200 \"v\\n\"; }",
             dir, dir, dir);
    snprintf(db, sizeof db,
             "keepalive_requests 1000000; "
             "location = /b { access_log %s/b.log evtls; return 404; } "
             "location = /w { access_log %s/w.log evtls; return 200 \"w\\n\"; }",
             dir, dir);
    if (peer_nginx_ex(&a, 0, da) != 0 || peer_nginx_ex(&b, 0, db) != 0)
        return -1;
    snprintf(path_targets, sizeof path_targets, "%s/targets", dir);
    snprintf(path_json, sizeof path_json, "%s/r.json", dir);
    snprintf(path_json2, sizeof path_json2, "%s/r2.json", dir);
    snprintf(path_body, sizeof path_body, "%s/body", dir);
    snprintf(path_merged, sizeof path_merged, "%s/merged.json", dir);
    FILE *f = fopen(path_body, "w");
    if (f == NULL)
        return -1;
    fputs("a body\n", f);
    fclose(f);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    peer_stop(&a);
    peer_stop(&b);
    const char *names[] = {"a", "p", "v", "b", "w"};
    const char *files[] = {path_targets, path_json, path_json2, path_body, path_merged};
    for (unsigned i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(files[i]);
    load_dir_remove(names, sizeof names / sizeof names[0]);
    return 0;
}

static void write_targets(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void write_targets(const char *fmt, ...)
{
    FILE *f = fopen(path_targets, "w");
    assert_non_null(f);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

/* The result's target by name; fails if absent. */
static const lt_json *target(const lt_json *j, const char *name)
{
    const lt_json *ts = lt_json_get(j, "targets");
    for (const lt_json *t = ts ? ts->child : NULL; t; t = t->next) {
        const char *n = lt_json_str(lt_json_get(t, "name"));
        if (n && strcmp(n, name) == 0)
            return t;
    }
    fail_msg("no target \"%s\" in the result", name);
    return NULL;
}

/* A target's count of operations, checked whole: no error, its latency
 * histogram as many samples, its total as the operations. */
static uint64_t target_ops(const lt_json *j, const char *name)
{
    const lt_json *t = target(j, name);
    uint64_t ops = load_u64(t, "operations");
    assert_int_equal(load_u64(t, "errors"), 0);
    assert_int_equal(load_u64(lt_json_get(lt_json_get(t, "latency"), "total"), "count"), ops);
    assert_true(ops == 0 || lt_json_str(lt_json_get(lt_json_get(t, "histograms"), "total")));
    return ops;
}

static void two_origins(int open_loop)
{
    write_targets("{\"name\":\"a-get\",\"url\":\"https://localhost:%u/a\",\"weight\":3}\n"
                  "# a comment, and a blank line\n\n"
                  "{\"name\":\"a-post\",\"method\":\"POST\",\"url\":\"https://localhost:%u/p\","
                  "\"headers\":{\"X-T\":\"1\"},\"body\":\"hello\"}\n"
                  "{\"name\":\"b-missing\",\"url\":\"https://127.0.0.1:%u/b\",\"weight\":2,"
                  "\"expect_status\":[404]}\n",
                  a.port, a.port, b.port);
    /* 600 operations: 100 whole cycles of 3 + 1 + 2 */
    int st = open_loop ? load_run(120000, "--cacert", pki("ca.pem"), "--targets", path_targets,
                                  "-n", "600", "--rate", "300", "-c", "8", "-t", "2", "--seed", "7",
                                  "--json", path_json, NULL)
                       : load_run(120000, "--cacert", pki("ca.pem"), "--targets", path_targets,
                                  "-n", "600", "-c", "6", "-t", "2", "--seed", "7", "--json",
                                  path_json, "--html", path_json2, NULL);
    if (st != 0)
        fail_msg("exit %d; stdout:\n%s\nstderr:\n%s", st, load_proc.out, load_proc.err);
    lt_json *j = load_result(path_json);
    assert_int_equal(load_u64(j, "operations"), 600);
    assert_int_equal(load_u64(j, "errors"), 0);
    assert_int_equal(target_ops(j, "a-get"), 300);
    assert_int_equal(target_ops(j, "a-post"), 100);
    assert_int_equal(target_ops(j, "b-missing"), 200);
    /* the 404 was this target's success, and counted as its status */
    assert_int_equal(load_u64(lt_json_get(target(j, "b-missing"), "status_codes"), "404"), 200);
    lt_json_free(j);
    /* each server saw each of its targets' requests, once */
    assert_int_equal(take_log("a", 300), 300);
    assert_int_equal(take_log("p", 100), 100);
    assert_int_equal(take_log("b", 200), 200);
    /* and the text summary lists them, and the HTML report */
    assert_non_null(strstr(load_proc.out, "targets:"));
    assert_non_null(strstr(load_proc.out, "b-missing"));
    if (!open_loop) {
        static char html[1 << 20];
        FILE *f = fopen(path_json2, "r");
        assert_non_null(f);
        html[fread(html, 1, sizeof html - 1, f)] = '\0';
        fclose(f);
        const char *t = strstr(html, "<h2>Targets</h2>");
        assert_non_null(t);
        assert_non_null(strstr(t, "<td>b-missing</td><td class=\"n\">2</td><td class=\"n\">200<"));
    }
}

static void test_two_origins_closed_loop(void **state)
{
    (void)state;
    two_origins(0);
}

static void test_two_origins_open_loop(void **state)
{
    (void)state;
    two_origins(1);
}

/* Two shards of one test, each its share of the one sequence, merged:
 * per target the same counts as one run would have. */
static void test_shards_merge_per_target(void **state)
{
    (void)state;
    write_targets("{\"name\":\"a\",\"url\":\"https://localhost:%u/a\",\"weight\":1}\n"
                  "{\"name\":\"w\",\"url\":\"https://127.0.0.1:%u/w\",\"weight\":4}\n",
                  a.port, b.port);
    const char *paths[2] = {path_json, path_json2};
    uint64_t seen_a = 0;
    for (int i = 0; i < 2; i++) {
        int st = load_run(120000, "--cacert", pki("ca.pem"), "--targets", path_targets, "-n", "251",
                          "-c", "8", "--shard", i ? "1/2" : "0/2", "--json", paths[i], NULL);
        if (st != 0)
            fail_msg("shard %d: exit %d; stderr:\n%s", i, st, load_proc.err);
        lt_json *j = load_result(paths[i]);
        seen_a += target_ops(j, "a");
        lt_json_free(j);
    }
    /* 251 = 50 cycles of 5 and one more: 50 or 51 to "a" */
    assert_true(seen_a == 50 || seen_a == 51);
    int st = load_run(60000, "merge", "--json", path_merged, path_json, path_json2, NULL);
    if (st != 0)
        fail_msg("merge: exit %d; stderr:\n%s", st, load_proc.err);
    lt_json *m = load_result(path_merged);
    assert_int_equal(load_u64(m, "operations"), 251);
    assert_int_equal(target_ops(m, "a"), seen_a);
    assert_int_equal(target_ops(m, "w"), 251 - seen_a);
    lt_json_free(m);
    assert_int_equal(take_log("a", (int)seen_a), (int)seen_a);
    assert_int_equal(take_log("w", 251 - (int)seen_a), 251 - (int)seen_a);
}

/* vegeta's plain format: METHOD URL, headers, @body. */
static void test_vegeta_format(void **state)
{
    (void)state;
    write_targets("# vegeta's targets\n"
                  "GET https://localhost:%u/v\n"
                  "X-V: yes\n"
                  "\n"
                  "POST https://localhost:%u/p\n"
                  "X-T: 1\n"
                  "@%s\n"
                  "GET https://127.0.0.1:%u/w\n",
                  a.port, a.port, path_body, b.port);
    int st = load_run(60000, "--cacert", pki("ca.pem"), "--targets", path_targets, "-n", "90", "-c",
                      "3", "--json", path_json, NULL);
    if (st != 0)
        fail_msg("exit %d; stdout:\n%s\nstderr:\n%s", st, load_proc.out, load_proc.err);
    char name[160];
    lt_json *j = load_result(path_json);
    snprintf(name, sizeof name, "GET https://localhost:%u/v", a.port);
    assert_int_equal(target_ops(j, name), 30);
    snprintf(name, sizeof name, "POST https://localhost:%u/p", a.port);
    assert_int_equal(target_ops(j, name), 30);
    snprintf(name, sizeof name, "GET https://127.0.0.1:%u/w", b.port);
    assert_int_equal(target_ops(j, name), 30);
    lt_json_free(j);
    assert_int_equal(take_log("v", 30), 30);
    assert_int_equal(take_log("p", 30), 30);
    assert_int_equal(take_log("w", 30), 30);
}

/* Thresholds on one target's figures (k6's submetrics): met and not met
 * apart from the run's; a name no target has is a usage error. */
static void test_target_thresholds(void **state)
{
    (void)state;
    write_targets("{\"name\":\"fast\",\"url\":\"https://localhost:%u/a\"}\n"
                  "{\"name\":\"missing\",\"url\":\"https://127.0.0.1:%u/b\"}\n",
                  a.port, b.port);
    /* /b answers 404: the "missing" target fails every request, "fast" none */
    int st = load_run(60000, "--cacert", pki("ca.pem"), "--targets", path_targets, "-n", "40", "-c",
                      "2", "--max-errors", "20", "--threshold", "errors.rate{target:fast}<0.01",
                      "--threshold", "errors.rate{target:missing}<0.5", "--threshold",
                      "total.p99{target:fast}<1us", "--json", path_json, NULL);
    assert_int_equal(st, 3);
    assert_non_null(strstr(load_proc.out, "threshold errors.rate{target:fast}<0.01: met (0.0000)"));
    assert_non_null(
        strstr(load_proc.out, "threshold errors.rate{target:missing}<0.5: NOT met (1.0000)"));
    assert_non_null(strstr(load_proc.out, "threshold total.p99{target:fast}<1us: NOT met"));
    lt_json *j = load_result(path_json);
    const lt_json *th = lt_json_get(j, "thresholds");
    assert_non_null(th);
    assert_int_equal(lt_json_get(th->child, "met")->type, LT_JTRUE);
    assert_int_equal(lt_json_get(th->child->next, "met")->type, LT_JFALSE);
    lt_json_free(j);
    assert_int_equal(take_log("a", 20), 20);
    assert_int_equal(take_log("b", 20), 20);
    assert_int_equal(load_run(30000, "--targets", path_targets, "--threshold",
                              "errors.rate{target:nobody}<0.1", NULL),
                     2);
    assert_non_null(strstr(load_proc.err, "no target is named 'nobody'"));
    assert_int_equal(
        load_run(30000, "--threshold", "rps{target:fast}>1", "https://localhost:1/", NULL), 2);
    assert_non_null(strstr(load_proc.err, "{target:...} is for --targets"));
}

static int stop_h2_peers(void **state)
{
    (void)state;
    peer_stop(&h2a);
    peer_stop(&h2b);
    const char *logs[] = {"h2a", "h2b"};
    for (unsigned i = 0; i < 2; i++)
        unlink(load_log(logs[i]));
    return 0;
}

/* HTTP/2 to two origins: each its own pool of connections whose streams
 * its slots share; per target exact by weight, as each server logged. */
static void test_http2_two_origins(void **state)
{
    (void)state;
    char da[256], db[256];
    snprintf(da, sizeof da, "location = /x { access_log %s/h2a.log path; return 200 \"x\\n\"; }",
             load_dir());
    snprintf(db, sizeof db, "location = /y { access_log %s/h2b.log path; return 200 \"y\\n\"; }",
             load_dir());
    assert_int_equal(peer_nginx_ex(&h2a, PEER_NGINX_HTTP2, da), 0);
    assert_int_equal(peer_nginx_ex(&h2b, PEER_NGINX_HTTP2, db), 0);
    write_targets("{\"name\":\"x\",\"url\":\"https://localhost:%u/x\"}\n"
                  "{\"name\":\"y\",\"url\":\"https://127.0.0.1:%u/y\",\"weight\":3}\n",
                  h2a.port, h2b.port);
    int st = load_run(120000, "--cacert", pki("ca.pem"), "--targets", path_targets, "--http2", "-c",
                      "4", "-M", "4", "-n", "400", "--json", path_json, NULL);
    if (st != 0)
        fail_msg("exit %d; stdout:\n%s\nstderr:\n%s", st, load_proc.out, load_proc.err);
    lt_json *j = load_result(path_json);
    assert_int_equal(target_ops(j, "x"), 100);
    assert_int_equal(target_ops(j, "y"), 300);
    lt_json *counters = (lt_json *)lt_json_get(j, "counters");
    assert_int_equal(load_u64(counters, "h2_responses"), 400);
    /* -c 4 by weight: one connection to the first origin, three to the other */
    assert_int_equal(load_u64(counters, "h2_conns"), 4);
    assert_int_equal(load_u64(target(j, "x"), "connections"), 1);
    assert_int_equal(load_u64(target(j, "y"), "connections"), 3);
    lt_json_free(j);
    assert_int_equal(take_log("h2a", 100), 100);
    assert_int_equal(take_log("h2b", 300), 300);
}

/* A file that is wrong: exit 2, the line and the fault named, no request
 * made. */
static void test_bad_files(void **state)
{
    (void)state;
    static const struct {
        const char *text, *says;
    } cases[] = {
        {"{\"url\":\"https://localhost:1/a\",\"wieght\":2}\n", "line 1: unknown key \"wieght\""},
        {"{\"url\":\"https://localhost:1/a\"}\n{\"url\":\"https://localhost:1/a\"}\n",
         "line 2: the name 'GET https://localhost:1/a' is line 1's too"},
        {"{\"url\":\"https://localhost:1/a\",\"weight\":0}\n", "line 1: \"weight\": an integer"},
        {"{\"name\":\"x\"}\n", "line 1: a target needs \"url\""},
        {"{\"url\":\"ftp://localhost/a\"}\n", "line 1: 'ftp://localhost/a'"},
        {"GET https://localhost:1/a\nnot a header\n", "line 2: 'not a header' is neither"},
        {"{\"url\":\"https://localhost:1/a\"\n", "line 1: not JSON"},
        {"\n# nothing\n", "no target in the file"},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_targets("%s", cases[i].text);
        int st = load_run(30000, "--targets", path_targets, "-n", "1", NULL);
        if (st != 2 || strstr(load_proc.err, cases[i].says) == NULL)
            fail_msg("case %u: exit %d, stderr:\n%s\n(expected 2 and '%s')", i, st, load_proc.err,
                     cases[i].says);
    }
    write_targets("{\"url\":\"https://localhost:%u/a\"}\n", a.port);
    char resolve[64];
    snprintf(resolve, sizeof resolve, "localhost:%u:127.0.0.1", a.port);
    assert_int_equal(load_run(30000, "--targets", path_targets, "--http2", "--resolve", resolve,
                              "-n", "1", NULL),
                     2);
    assert_non_null(strstr(load_proc.err, "--resolve: not with HTTP/2"));
    assert_int_equal(load_run(30000, "--targets", path_targets, "-X", "PUT", "-n", "1", NULL), 2);
    assert_int_equal(load_run(30000, "--targets", path_targets, "https://localhost/", NULL), 2);
    assert_int_equal(load_run(30000, "--targets", "/nonexistent/targets", NULL), 2);
    assert_non_null(strstr(load_proc.err, "cannot read it"));
    /* two origins, two threads: each origin needs a connection a thread */
    write_targets("{\"url\":\"https://localhost:%u/a\"}\n{\"url\":\"https://127.0.0.1:%u/w\"}\n",
                  a.port, b.port);
    assert_int_equal(load_run(30000, "--targets", path_targets, "-c", "3", "-t", "2", NULL), 2);
    assert_non_null(strstr(load_proc.err, "fewer than its 2 threads"));
    assert_int_equal(take_log("a", 0), 0);
    assert_int_equal(take_log("w", 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_origins_closed_loop),
        cmocka_unit_test(test_two_origins_open_loop),
        cmocka_unit_test(test_shards_merge_per_target),
        cmocka_unit_test(test_vegeta_format),
        cmocka_unit_test(test_target_thresholds),
        cmocka_unit_test_teardown(test_http2_two_origins, stop_h2_peers),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
