/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_script.c - evtls-load --script as a wrk user runs it: scripts
 * written to wrk's script API the way wrk's published examples use it (a
 * counter in each request, a POST, setup() with thread:set/get and done(),
 * an auth token read from a response, delay(), thread:stop(), pipelined
 * requests, thread.addr from wrk.lookup), against nginx whose locations
 * each log apart and check what the script sends; a script's errors name
 * their line and end the run. */
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

static struct peer web;
static char url[128], path_script[128], path_json[128];

static lt_json *result(void)
{
    return load_result(path_json);
}

static void ok_run(int st)
{
    if (st != 0)
        fail_msg("exit %d; stdout:\n%s\nstderr:\n%s", st, load_proc.out, load_proc.err);
}

static int group_setup(void **state)
{
    (void)state;
    unsetenv("EVTLS_LOG");
    if (load_dir_make("evtls-script") != 0)
        return -1;
    const char *dir = load_dir();
    /* Each location logs its requests (the URI last) and checks them. */
    char d[2048];
    snprintf(d, sizeof d,
             "keepalive_requests 1000000; "
             "location /item/ { access_log %s/item.log path; "
             "if ($http_x_counter = \"\") { return 400; } return 200 \"$uri\\n\"; } "
             "location = /post { access_log %s/post.log path; "
             "if ($request_method != POST) { return 405; } "
             "if ($content_type != \"application/x-www-form-urlencoded\") { return 415; } "
             "return 200 \"posted\\n\"; } "
             "location = /login { access_log %s/login.log path; add_header X-Token tok-42; "
             "return 200 \"in\\n\"; } "
             "location = /api { access_log %s/api.log path; "
             "if ($http_authorization != \"Token tok-42\") { return 401; } return 200 \"ok\\n\"; } "
             "location /p/ { access_log %s/pipe.log path; return 200 \"$uri\\n\"; } "
             "location = /t { access_log %s/t.log path; return 200 \"$http_x_thread\\n\"; }",
             dir, dir, dir, dir, dir, dir);
    if (peer_nginx_ex(&web, PEER_NGINX_HTTP2, d) != 0) /* h2 to whom asks for it */
        return -1;
    snprintf(url, sizeof url, "https://localhost:%u/", web.port);
    snprintf(path_script, sizeof path_script, "%s/s.lua", dir);
    snprintf(path_json, sizeof path_json, "%s/r.json", dir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    peer_stop(&web);
    const char *names[] = {"item", "post", "login", "api", "pipe", "t"};
    unlink(path_script);
    unlink(path_json);
    load_dir_remove(names, sizeof names / sizeof names[0]);
    return 0;
}

static void write_script(const char *text)
{
    FILE *f = fopen(path_script, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* wrk's counter example: request() builds each request. */
static const char counter_script[] =
    "counter = 0\n"
    "request = function()\n"
    "  counter = counter + 1\n"
    "  return wrk.format(nil, \"/item/\" .. counter, {[\"X-Counter\"] = counter})\n"
    "end\n";

static void test_counter(void **state)
{
    (void)state;
    write_script(counter_script);
    ok_run(load_run(60000, "--cacert", pki("ca.pem"), "-s", path_script, "-c", "1", "-n", "200",
                    "--json", path_json, url, NULL));
    lt_json *j = result();
    assert_int_equal(load_u64(j, "requests"), 200);
    assert_int_equal(load_u64(j, "errors"), 0);
    lt_json_free(j);
    static char log[1 << 16];
    assert_int_equal(load_take_log("item", 200, log, sizeof log), 200);
    /* one connection: the paths in the script's order, each once */
    char want[32];
    const char *p = log;
    for (int i = 1; i <= 200; i++) {
        snprintf(want, sizeof want, " /item/%d\n", i);
        const char *at = strstr(p, want);
        if (at == NULL)
            fail_msg("request %d missing or out of order in:\n%.400s", i, p);
        p = at + strlen(want) - 1;
    }
}

/* The counter over HTTP/2: each request a stream, the script's as over
 * HTTP/1.1. */
static void test_counter_http2(void **state)
{
    (void)state;
    write_script(counter_script);
    ok_run(load_run(60000, "--cacert", pki("ca.pem"), "-s", path_script, "--http2", "-c", "2", "-M",
                    "4", "-n", "100", "--json", path_json, url, NULL));
    lt_json *j = result();
    assert_int_equal(load_u64(j, "requests"), 100);
    assert_int_equal(load_u64(lt_json_get(j, "counters"), "h2_responses"), 100);
    lt_json_free(j);
    static char log[1 << 15];
    assert_int_equal(load_take_log("item", 100, log, sizeof log), 100);
    for (int i = 1; i <= 100; i++) { /* each once, in whatever order the streams ended */
        char want[32];
        snprintf(want, sizeof want, " /item/%d\n", i);
        const char *at = strstr(log, want);
        if (at == NULL || strstr(at + 1, want) != NULL)
            fail_msg("/item/%d not logged once", i);
    }
}

/* wrk's post example: the method, body and a header set at the top. */
static void test_post(void **state)
{
    (void)state;
    write_script("wrk.method = \"POST\"\n"
                 "wrk.body   = \"foo=bar&baz=quux\"\n"
                 "wrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n"
                 "wrk.path = \"/post\"\n");
    ok_run(load_run(60000, "--cacert", pki("ca.pem"), "-s", path_script, "-c", "2", "-n", "50",
                    "--json", path_json, url, NULL));
    lt_json *j = result();
    assert_int_equal(load_u64(j, "requests"), 50);
    assert_int_equal(load_u64(lt_json_get(j, "status_codes"), "200"), 50);
    lt_json_free(j);
    assert_int_equal(load_take_log("post", 50, NULL, 0), 50);
}

/* wrk's setup example: setup(thread) numbers the threads with
 * thread:set, init(args) takes the arguments after "--", done() reads each
 * thread's counts with thread:get. */
static void test_setup_init_done(void **state)
{
    (void)state;
    write_script(
        "local counter = 1\n"
        "local threads = {}\n"
        "function setup(thread)\n"
        "  thread:set(\"id\", counter)\n"
        "  table.insert(threads, thread)\n"
        "  counter = counter + 1\n"
        "end\n"
        "function init(args)\n"
        "  requests  = 0\n"
        "  responses = 0\n"
        "  tag = args[1] .. \"-\" .. id\n"
        "  wrk.headers[\"X-Thread\"] = tag\n"
        "  wrk.path = \"/t\"\n"
        "end\n"
        "function request()\n"
        "  requests = requests + 1\n"
        "  return wrk.request()\n"
        "end\n"
        "function response(status, headers, body)\n"
        "  responses = responses + 1\n"
        "  if body ~= tag .. \"\\n\" then error(\"body \" .. body) end\n"
        "end\n"
        "function done(summary, latency, requests)\n"
        "  for _, t in ipairs(threads) do\n"
        "    print(string.format(\"thread %d: %d requests, %d responses\", t:get(\"id\"),\n"
        "          t:get(\"requests\"), t:get(\"responses\")))\n"
        "  end\n"
        "  io.write(string.format(\"summary %d requests, latency max %d us, p99 %d\\n\",\n"
        "        summary.requests, latency.max, latency:percentile(99)))\n"
        "  assert(latency.min <= latency.mean and latency.mean <= latency.max)\n"
        "  assert(latency.stdev >= 0 and requests.max >= requests.min)\n"
        "end\n");
    ok_run(load_run(60000, "--cacert", pki("ca.pem"), "-s", path_script, "-c", "4", "-t", "2", "-n",
                    "100", url, "--", "run7", NULL));
    assert_non_null(strstr(load_proc.out, "thread 1: 50 requests, 50 responses"));
    assert_non_null(strstr(load_proc.out, "thread 2: 50 requests, 50 responses"));
    assert_non_null(strstr(load_proc.out, "summary 100 requests, latency max "));
    static char log[1 << 14];
    assert_int_equal(load_take_log("t", 100, log, sizeof log), 100);
    /* done() comes after the summary */
    assert_true(strstr(load_proc.out, "thread 1:") > strstr(load_proc.out, "latency (ms)"));
}

/* wrk's auth example: response() reads a token, the requests after it
 * carry it. */
static void test_auth_token_from_response(void **state)
{
    (void)state;
    write_script("token = nil\n"
                 "path  = \"/login\"\n"
                 "request = function()\n"
                 "  return wrk.format(\"GET\", path)\n"
                 "end\n"
                 "response = function(status, headers, body)\n"
                 "  if not token and status == 200 then\n"
                 "    token = headers[\"X-Token\"] or headers[\"x-token\"]\n"
                 "    path  = \"/api\"\n"
                 "    wrk.headers[\"Authorization\"] = \"Token \" .. token\n"
                 "  end\n"
                 "end\n");
    ok_run(load_run(60000, "--cacert", pki("ca.pem"), "-s", path_script, "-c", "1", "-n", "30",
                    "--json", path_json, url, NULL));
    lt_json *j = result();
    assert_int_equal(load_u64(lt_json_get(j, "status_codes"), "200"), 30); /* no 401 */
    lt_json_free(j);
    assert_int_equal(load_take_log("login", 1, NULL, 0), 1);
    assert_int_equal(load_take_log("api", 29, NULL, 0), 29);
}

/* wrk's delay example: delay() before each request (the run's time is
 * at least the delays', the client's own timers). */
static void test_delay(void **state)
{
    (void)state;
    write_script("wrk.path = \"/item/d\"\n"
                 "wrk.headers[\"X-Counter\"] = \"1\"\n"
                 "function delay()\n"
                 "  return 40\n"
                 "end\n");
    ok_run(load_run(60000, "--cacert", pki("ca.pem"), "-s", path_script, "-c", "1", "-n", "10",
                    "--json", path_json, url, NULL));
    lt_json *j = result();
    assert_int_equal(load_u64(j, "requests"), 10);
    if (!(lt_json_num(lt_json_get(j, "duration_s"), 0) >= 0.4))
        fail_msg("10 requests 40 ms apart took %.3f s",
                 lt_json_num(lt_json_get(j, "duration_s"), 0));
    lt_json_free(j);
    assert_int_equal(load_take_log("item", 10, NULL, 0), 10);
}

/* wrk's stop example: thread:stop() from response() ends the thread. */
static void test_stop(void **state)
{
    (void)state;
    write_script("wrk.path = \"/item/s\"\n"
                 "wrk.headers[\"X-Counter\"] = \"1\"\n"
                 "local n = 0\n"
                 "function response()\n"
                 "  n = n + 1\n"
                 "  if n == 25 then wrk.thread:stop() end\n"
                 "end\n");
    ok_run(load_run(60000, "--cacert", pki("ca.pem"), "-s", path_script, "-c", "1", "-d", "60s",
                    "--json", path_json, url, NULL));
    lt_json *j = result();
    assert_int_equal(load_u64(j, "requests"), 25);
    lt_json_free(j);
    assert_int_equal(load_take_log("item", 25, NULL, 0), 25);
}

/* wrk's pipeline example: init() builds three requests into one string,
 * request() returns it; each goes, in order. */
static void test_pipeline(void **state)
{
    (void)state;
    write_script("init = function(args)\n"
                 "  local r = {}\n"
                 "  r[1] = wrk.format(nil, \"/p/1\")\n"
                 "  r[2] = wrk.format(nil, \"/p/2\")\n"
                 "  r[3] = wrk.format(nil, \"/p/3\")\n"
                 "  req = table.concat(r)\n"
                 "end\n"
                 "request = function()\n"
                 "  return req\n"
                 "end\n");
    ok_run(load_run(60000, "--cacert", pki("ca.pem"), "-s", path_script, "-c", "1", "-n", "30",
                    "--json", path_json, url, NULL));
    static char log[1 << 14];
    assert_int_equal(load_take_log("pipe", 30, log, sizeof log), 30);
    const char *p = log;
    for (int i = 0; i < 30; i++) {
        char want[16];
        snprintf(want, sizeof want, " /p/%d\n", i % 3 + 1);
        const char *at = strstr(p, want);
        if (at == NULL)
            fail_msg("request %d (/p/%d) missing or out of order", i, i % 3 + 1);
        p = at + strlen(want) - 1;
    }
}

/* wrk's addr example: setup() picks the address with wrk.lookup; the
 * URL's port has nothing, the name is still the one verified. */
static void test_addr_from_lookup(void **state)
{
    (void)state;
    char s[512];
    snprintf(s, sizeof s,
             "local addrs = wrk.lookup(\"127.0.0.1\", \"%u\")\n"
             "function setup(thread)\n"
             "  assert(wrk.connect(addrs[1]))\n"
             "  thread.addr = addrs[1]\n"
             "end\n"
             "wrk.path = \"/item/a\"\n"
             "wrk.headers[\"X-Counter\"] = \"1\"\n",
             web.port);
    write_script(s);
    ok_run(load_run(60000, "--cacert", pki("ca.pem"), "-s", path_script, "-c", "2", "-n", "20",
                    "https://localhost:1/", NULL));
    assert_int_equal(load_take_log("item", 20, NULL, 0), 20);
}

/* Errors name the script's line; the run ends (1 at run time, 2 before). */
static void test_script_errors(void **state)
{
    (void)state;
    write_script("n = 0\n"
                 "request = function()\n"
                 "  n = n + 1\n"
                 "  if n == 5 then error(\"five\") end\n"
                 "  return wrk.format(nil, \"/item/e\", {[\"X-Counter\"] = 1})\n"
                 "end\n");
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-s", path_script, "-c", "1", "-d",
                              "60s", url, NULL),
                     1);
    assert_non_null(strstr(load_proc.err, "s.lua:4: five"));
    assert_int_equal(load_take_log("item", 4, NULL, 0), 4);
    write_script("function response(status)\n  local x = nil\n  return x.y\nend\n");
    assert_int_equal(
        load_run(60000, "--cacert", pki("ca.pem"), "-s", path_script, "-d", "60s", url, NULL), 1);
    assert_non_null(strstr(load_proc.err, "response(): "));
    assert_non_null(strstr(load_proc.err, "s.lua:3:"));
    write_script("request = function(\n");
    assert_int_equal(load_run(60000, "-s", path_script, url, NULL), 2);
    assert_non_null(strstr(load_proc.err, "s.lua:2:"));
    write_script("request = function() return \"NOT A REQUEST\\r\\n\\r\\n\" end\n");
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-s", path_script, url, NULL), 1);
    assert_non_null(strstr(load_proc.err, "is not a request line"));
    write_script("function request() wrk.lookup(\"localhost\", \"1\") end\n");
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-s", path_script, url, NULL), 1);
    assert_non_null(strstr(load_proc.err, "not in delay(), request() or response()"));
    assert_int_equal(load_run(60000, "-s", "/nonexistent.lua", url, NULL), 2);
    assert_non_null(strstr(load_proc.err, "nonexistent.lua"));
    assert_int_equal(load_run(60000, "-s", path_script, "-m", "handshake", "localhost:1", NULL), 2);
    assert_int_equal(load_run(60000, url, "--", "x", NULL), 2);
}

/* With the result on stdout, done()'s output goes to stderr. */
static void test_done_beside_json_on_stdout(void **state)
{
    (void)state;
    write_script("wrk.path = \"/item/j\"\n"
                 "wrk.headers[\"X-Counter\"] = \"1\"\n"
                 "function done(summary) print(\"done: \" .. summary.requests) end\n");
    ok_run(load_run(60000, "--cacert", pki("ca.pem"), "-s", path_script, "-n", "5", "--json", "-",
                    url, NULL));
    assert_non_null(strstr(load_proc.err, "done: 5"));
    assert_null(strstr(load_proc.out, "done: 5"));
    char err[160];
    lt_json *j = lt_json_parse(load_proc.out, strlen(load_proc.out), err, sizeof err);
    if (j == NULL)
        fail_msg("stdout is not one JSON object: %s", err);
    lt_json_free(j);
    load_take_log("item", 5, NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter),
        cmocka_unit_test(test_counter_http2),
        cmocka_unit_test(test_post),
        cmocka_unit_test(test_setup_init_done),
        cmocka_unit_test(test_auth_token_from_response),
        cmocka_unit_test(test_delay),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_addr_from_lookup),
        cmocka_unit_test(test_script_errors),
        cmocka_unit_test(test_done_beside_json_on_stdout),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
