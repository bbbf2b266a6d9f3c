/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_poll.c - evtls-poll run as its users run it, against Node's
 * http-server (self-signed certificate whose CN is 127.0.0.1, as in the
 * seed scenario), nginx and the scripted faultpeer: rounds, countdown,
 * resumption from round 2 (nginx's log agrees), JSON lines, errors and
 * exit codes, usage errors naming the option, signals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "peer.h"
#include "proc.h"

static struct peer web; /* nginx on 127.0.0.1 and [::1] */
static struct proc pr;
static char url[128];

static int group_setup(void **state)
{
    (void)state;
    if (peer_nginx_ex(&web, 1,
                      "keepalive_timeout 60s; location = /missing { return 404; } "
                      "location = /busy { return 503; }") != 0)
        return -1;
    snprintf(url, sizeof url, "https://localhost:%u/", web.port);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    peer_stop(&web);
    return 0;
}

/* Runs evtls-poll with the given arguments (NULL-terminated). */
static int poll_run(unsigned timeout_ms, ...)
{
    va_list ap;
    va_start(ap, timeout_ms);
    int st = proc_run_va(&pr, EVTLS_POLL_PATH, timeout_ms, ap);
    va_end(ap);
    if (st < 0)
        fail_msg("evtls-poll did not end in %u ms; stdout:\n%s\nstderr:\n%s", timeout_ms, pr.out,
                 pr.err);
    return st;
}

static void expect_out(const char *needle, int times)
{
    int n = count_of(pr.out, needle);
    if (n != times)
        fail_msg("'%s' %d times in stdout, expected %d:\n%s\nstderr:\n%s", needle, n, times, pr.out,
                 pr.err);
}

/* The resumed handshakes in nginx's log, once it holds want lines. */
static int nginx_resumed_lines(int want)
{
    char line[256];
    FILE *fp = fopen(peer_nginx_log(&web, want), "r");
    int n = 0;
    while (fp && fgets(line, sizeof line, fp))
        n += strstr(line, " r ") != NULL;
    if (fp)
        fclose(fp);
    return n;
}

static void test_node_http_server_ip_certificate(void **state)
{
    (void)state;
    char root[] = "/tmp/evtls-www.XXXXXX";
    assert_non_null(mkdtemp(root));
    char index[300];
    snprintf(index, sizeof index, "%s/index.html", root);
    FILE *fp = fopen(index, "w");
    fputs("hello from node\n", fp);
    fclose(fp);
    /* The quick demo's self-signed certificate names the address only in
     * its CN: refused, as RFC 9525, Go and browsers refuse it (the name is
     * matched on subjectAltNames alone). */
    struct peer node;
    assert_int_equal(peer_http_server(&node, root, pki("ip.pem"), pki("ip.key")), 0);
    char u[64];
    snprintf(u, sizeof u, "https://127.0.0.1:%u/", node.port);
    int st = poll_run(30000, "--count", "1", "--cacert", pki("ip.pem"), u, NULL);
    peer_stop(&node);
    assert_int_equal(st, 60);
    expect_out("CERT_HOSTNAME", 1);
    /* With an iPAddress SAN, rounds go on and resume. */
    assert_int_equal(peer_http_server(&node, root, pki("server.pem"), pki("server.key")), 0);
    snprintf(u, sizeof u, "https://127.0.0.1:%u/", node.port);
    st = poll_run(30000, "--count", "3", "--interval", "1", "--cacert", pki("ca.pem"), u, NULL);
    peer_stop(&node);
    unlink(index);
    rmdir(root);
    assert_int_equal(st, 0);
    expect_out("hello from node", 3);
    expect_out("certificate verified", 3);
    expect_out("session resumed: no", 1);
    expect_out("session resumed: yes", 2); /* from the second round on */
    expect_out("I evtls-poll: 1...\nI evtls-poll: 0...\nI evtls-poll: Starting again!", 2);
    expect_out("connection closed", 3);
    expect_out("summary: 3 rounds, 3 ok, 0 failed", 1);
    expect_out("peak memory (max resident set): ", 1);
}

static void test_nginx_json_and_resumption(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/access.log", web.dir);
    truncate(path, 0);
    int st = poll_run(30000, "--count", "3", "--interval", "0", "--json", "--cacert", pki("ca.pem"),
                      url, NULL);
    assert_int_equal(st, 0);
    /* stdout: exactly three JSON lines, nothing else. */
    assert_int_equal(count_of(pr.out, "\n"), 3);
    assert_int_equal(count_of(pr.out, "{\"round\":"), 3);
    static const char *const keys[] = {"\"url\":\"https://localhost:",
                                       "\"status\":200",
                                       "\"family\":6",
                                       "\"address\":\"::1\"",
                                       "\"tls_version\":\"TLSv1.3\"",
                                       "\"cipher\":\"TLS13-",
                                       "\"dns_ms\":",
                                       "\"connect_ms\":",
                                       "\"handshake_ms\":",
                                       "\"ttfb_ms\":",
                                       "\"total_ms\":",
                                       "\"bytes\":17",
                                       "\"error\":null"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        expect_out(keys[i], 3);
    expect_out("\"resumed\":false", 1);
    expect_out("\"resumed\":true", 2);
    assert_non_null(strstr(pr.out, "{\"round\":1,"));
    assert_non_null(strstr(strstr(pr.out, "{\"round\":2,"), "\"resumed\":true"));
    /* The human lines went to stderr. */
    assert_int_equal(count_of(pr.err, "I evtls-poll: 0..."), 2);
    assert_non_null(strstr(pr.err, "summary: 3 rounds, 3 ok, 0 failed"));
    /* nginx saw two resumed handshakes. */
    assert_int_equal(nginx_resumed_lines(3), 2);
}

static void test_default_countdown_ten_to_zero(void **state)
{
    (void)state;
    uint64_t t0 = now_ms();
    int st = poll_run(30000, "--count", "2", "--quiet", "--cacert", pki("ca.pem"), url, NULL);
    uint64_t took = now_ms() - t0;
    assert_int_equal(st, 0);
    /* The example's countdown: 10... down to 0..., one line a second (on
     * stderr with --quiet, which keeps stdout for the status lines). */
    const char *at = pr.err;
    for (int i = 10; i >= 0; i--) {
        char line[32];
        snprintf(line, sizeof line, "I evtls-poll: %d...\n", i);
        at = strstr(at, line);
        if (at == NULL)
            fail_msg("no '%d...' after the previous line:\n%s", i, pr.err);
    }
    assert_true(took >= 10000); /* eleven lines a second apart */
    /* --quiet: the status line, no headers, no body. */
    expect_out("HTTP/1.1 200 OK\n", 2);
    expect_out("Content-Type", 0);
    expect_out("hello from nginx", 0);
    expect_out("I evtls-poll", 0); /* stdout: the status lines alone */
}

/* One --json round against the fault peer in mode, with the timeout
 * option given (300 ms) if any; its exit status must be want. */
static void fault_round(const char *mode, const char *timeout_opt, int want)
{
    struct peer fp;
    assert_int_equal(peer_fault(&fp, mode, NULL), 0);
    char u[64];
    snprintf(u, sizeof u, "https://localhost:%u/", fp.port);
    int st = timeout_opt
                 ? poll_run(20000, "--count", "1", "--json", timeout_opt, "300ms", "--cacert",
                            pki("ca.pem"), u, NULL)
                 : poll_run(20000, "--count", "1", "--json", "--cacert", pki("ca.pem"), u, NULL);
    peer_stop(&fp);
    assert_int_equal(st, want);
}

/* A failed round exits with curl's status for the same failure (the last
 * failure's, over several rounds). */
static void test_failures_exit_as_curl(void **state)
{
    (void)state;
    char refused[64];
    snprintf(refused, sizeof refused, "https://127.0.0.1:%u/", unused_port());
    assert_int_equal(poll_run(20000, "--count", "1", "--json", refused, NULL), 7);
    expect_out("\"error\":\"CONN_REFUSED\"", 1);
    expect_out("\"status\":0", 1);
    assert_non_null(strstr(pr.err, "summary: 1 round, 0 ok, 1 failed"));
    /* The failure is said once: the round's line, not also the library's. */
    assert_int_equal(count_of(pr.err, "Connection refused"), 1);

    /* Retries with backoff: three tries, then the error. */
    assert_int_equal(poll_run(20000, "--count", "1", "--retries", "2", refused, NULL), 7);
    expect_out("attempt 2 in", 1);
    expect_out("attempt 3 in", 1);
    expect_out("round 1 failed: connection refused (CONN_REFUSED)", 1);
    /* The error is named once in the line, not twice. */
    assert_null(strstr(pr.out, "(CONN_REFUSED): connection refused (CONN_REFUSED)"));

    assert_int_equal(
        poll_run(20000, "--count", "1", "--json", "--cacert", pki("other-ca.pem"), url, NULL), 60);
    expect_out("\"error\":\"CERT_UNTRUSTED\"", 1);
    expect_out("\"tls_version\":\"TLSv1.3\"", 1); /* the server's hello came */
    assert_int_equal(poll_run(20000, "--count", "1", "--json", "--cacert", pki("ca.pem"),
                              "--servername", "wrong.test", url, NULL),
                     60);
    expect_out("\"error\":\"CERT_HOSTNAME\"", 1);
    /* curl's --resolve: the connection goes to the address given, the name
     * sent and verified stays the URL's (a name no DNS knows here). */
    char nowhere[96], rs[96];
    snprintf(nowhere, sizeof nowhere, "https://nowhere.invalid:%u/", web.port);
    snprintf(rs, sizeof rs, "nowhere.invalid:%u:127.0.0.1", web.port);
    assert_int_equal(poll_run(20000, "--count", "1", "--json", "--cacert", pki("ca.pem"),
                              "--resolve", rs, nowhere, NULL),
                     60);
    expect_out("\"error\":\"CERT_HOSTNAME\"", 1); /* reached, and not a name it has */
    expect_out("\"address\":\"127.0.0.1\"", 1);
    assert_int_equal(poll_run(20000, "--count", "1", "--cacert", pki("ca.pem"), "--resolve", rs,
                              "--servername", "localhost", nowhere, NULL),
                     0);
    expect_out("given by --resolve for nowhere.invalid:", 1);
    /* curl's --connect-to: the URL's port refuses, the connection goes to
     * nginx's; the name verified stays the URL's host. */
    char closed[64], ct[64];
    snprintf(closed, sizeof closed, "https://localhost:%u/", unused_port());
    snprintf(ct, sizeof ct, "::localhost:%u", web.port);
    assert_int_equal(poll_run(20000, "--count", "1", "--json", "--cacert", pki("ca.pem"),
                              "--connect-to", ct, closed, NULL),
                     0);
    expect_out("\"status\":200", 1);
    /* --insecure gets through, and says so on every connection. */
    assert_int_equal(poll_run(20000, "--count", "2", "--interval", "0", "--insecure", "--cacert",
                              pki("other-ca.pem"), url, NULL),
                     0);
    expect_out("server NOT verified (--insecure)", 2);
    assert_true(count_of(pr.err, "INSECURE") >= 2);

    /* Against the fault peer: a malformed answer (8), a handshake the server
     * never answered (28; no TLS version or suite, though wolfSSL names the
     * version it would offer), a request never answered (28). */
    fault_round("garbage", NULL, 8);
    expect_out("\"error\":\"HTTP_MALFORMED\"", 1);
    fault_round("hs-silent", "--handshake-timeout", 28);
    expect_out("\"error\":\"HANDSHAKE_TIMEOUT\"", 1);
    expect_out("\"tls_version\":null,\"cipher\":null,\"group\":null", 1);
    fault_round("silent", "--ttfb-timeout", 28);
    expect_out("\"error\":\"HTTP_TTFB_TIMEOUT\"", 1);
    /* A name that does not resolve: 6 (a dnsmasq that knows no .test name). */
    struct peer dns;
    const char *dns_opts[] = {"--local=/test/", NULL};
    assert_int_equal(peer_dnsmasq(&dns, dns_opts), 0);
    char resolver[32];
    snprintf(resolver, sizeof resolver, "127.0.0.1:%u", dns.port);
    assert_int_equal(
        poll_run(20000, "--count", "1", "--resolver", resolver, "https://unknown.test/", NULL), 6);
    peer_stop(&dns);
    expect_out("DNS_NXDOMAIN", 1);
}

/* curl's habits where evtls-poll does the same thing: -o, -w with curl's
 * variables, -s, -m. */
/* --source and --race-limit, as evtls-load takes them: the connection
 * comes from the address asked (nginx logs it). */
static void test_source_and_race_limit(void **state)
{
    (void)state;
    char u[96];
    snprintf(u, sizeof u, "https://127.0.0.1:%u/", web.port);
    char line[256] = "", last[256] = "";
    int before = 0;
    FILE *fp = fopen(peer_nginx_log(&web, 0), "r");
    while (fp && fgets(line, sizeof line, fp))
        before++;
    if (fp)
        fclose(fp);
    assert_int_equal(poll_run(20000, "--count", "1", "--cacert", pki("ca.pem"), "--servername",
                              "localhost", "--source", "127.0.0.2", "--race-limit", "0", u, NULL),
                     0);
    /* nginx logs a request just after its response: wait for the line */
    fp = fopen(peer_nginx_log(&web, before + 1), "r");
    while (fp && fgets(line, sizeof line, fp))
        snprintf(last, sizeof last, "%s", line);
    if (fp)
        fclose(fp);
    if (strstr(last, " 127.0.0.2 ") == NULL)
        fail_msg("nginx saw the connection from elsewhere: %s", last);
    /* --address: the connection goes to the address asked, under the
     * URL's name (verified) */
    char named[96];
    snprintf(named, sizeof named, "https://localhost:%u/", web.port);
    assert_int_equal(poll_run(20000, "--count", "1", "--cacert", pki("ca.pem"), "--address",
                              "127.0.0.1", "-w", "ip=%{remote_ip}\\n", named, NULL),
                     0);
    assert_non_null(strstr(pr.out, "ip=127.0.0.1\n"));
}

/* --http2 as curl's: h2 where the server offers it (the status line and
 * %{http_version} say "HTTP/2" and "2", as curl's), HTTP/1.1 where not;
 * --http2-prior-knowledge refuses a server without h2. */
static void test_http2(void **state)
{
    (void)state;
    struct peer h2;
    assert_int_equal(peer_nginx_ex(&h2, PEER_NGINX_HTTP2, NULL), 0);
    char u[96];
    snprintf(u, sizeof u, "https://localhost:%u/", h2.port);
    assert_int_equal(poll_run(20000, "--count", "1", "--cacert", pki("ca.pem"), "--http2", "-w",
                              "v=%{http_version}\\n", "--json", u, NULL),
                     0);
    assert_non_null(strstr(pr.out, "\"protocol\":\"HTTP/2\""));
    assert_non_null(strstr(pr.out, "\"alpn\":\"h2\""));
    assert_non_null(strstr(pr.out, "v=2\n"));
    assert_int_equal(poll_run(20000, "--count", "1", "--cacert", pki("ca.pem"), "--http2", u, NULL),
                     0);
    assert_non_null(strstr(pr.out, "HTTP/2 200\n"));
    assert_non_null(strstr(pr.out, "hello from nginx"));
    /* a server without h2 */
    assert_int_equal(poll_run(20000, "--count", "1", "--cacert", pki("ca.pem"), "--http2", "-w",
                              "v=%{http_version}\\n", url, NULL),
                     0);
    assert_non_null(strstr(pr.out, "HTTP/1.1 200 OK\n"));
    assert_non_null(strstr(pr.out, "v=1.1\n"));
    assert_int_not_equal(poll_run(20000, "--count", "1", "--cacert", pki("ca.pem"),
                                  "--http2-prior-knowledge", url, NULL),
                         0);
    peer_stop(&h2);
}

static void test_curl_habits(void **state)
{
    (void)state;
    char out[64];
    snprintf(out, sizeof out, "/tmp/evtls-poll-o-%d", (int)getpid());
    /* -o: the body in the file, not on stdout; -w after the round. */
    assert_int_equal(poll_run(20000, "--count", "1", "--cacert", pki("ca.pem"), "-o", out, "-w",
                              "code=%{http_code} size=%{size_download} ip=%{remote_ip} "
                              "port=%{remote_port} exit=%{exitcode} v=%{http_version}\\n",
                              url, NULL),
                     0);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char body[64] = "";
    size_t n = fread(body, 1, sizeof body - 1, f);
    fclose(f);
    body[n] = '\0';
    assert_string_equal(body, "hello from nginx\n");
    expect_out("hello from nginx", 0);
    char want[128];
    snprintf(want, sizeof want, "code=200 size=17 ip=%s port=%u exit=0 v=1.1\n",
             strstr(pr.out, "ip=::1") ? "::1" : "127.0.0.1", web.port);
    expect_out(want, 1);
    /* curl's times add up from the start: each at least the one before. */
    assert_int_equal(poll_run(20000, "--count", "1", "-s", "--cacert", pki("ca.pem"), "-w",
                              "%{time_namelookup} %{time_connect} %{time_appconnect} "
                              "%{time_pretransfer} %{time_starttransfer} %{time_total}|",
                              url, NULL),
                     0);
    double t[6];
    const char *w = strrchr(pr.out, '\n'); /* -w follows the body's last line */
    assert_non_null(w);
    assert_int_equal(
        sscanf(w + 1, "%lf %lf %lf %lf %lf %lf|", &t[0], &t[1], &t[2], &t[3], &t[4], &t[5]), 6);
    for (int i = 1; i < 6; i++)
        if (t[i] < t[i - 1] || t[i] <= 0)
            fail_msg("-w times not adding up: %s", w + 1);
    /* -s: no log, countdown or summary anywhere, the response only. */
    assert_null(strstr(pr.out, "I evtls-poll"));
    assert_int_equal(pr.err[0], '\0');
    expect_out("hello from nginx\n", 1);
    /* -m: the round's whole time, against a server that never answers. */
    struct peer fp;
    assert_int_equal(peer_fault(&fp, "silent", NULL), 0);
    char u[64];
    snprintf(u, sizeof u, "https://localhost:%u/", fp.port);
    assert_int_equal(poll_run(20000, "--count", "1", "-s", "-m", "300ms", "--cacert", pki("ca.pem"),
                              "-w", "%{exitcode} %{errormsg}", u, NULL),
                     28);
    peer_stop(&fp);
    expect_out("28 --max-time: the round took more than 300 ms", 1);
    /* --retry: a transient failure (503) is tried again after 1 s and not
     * counted; a lasting one (404) is not tried again. */
    char busy[96], missing[96];
    snprintf(busy, sizeof busy, "https://localhost:%u/busy", web.port);
    snprintf(missing, sizeof missing, "https://localhost:%u/missing", web.port);
    assert_int_equal(
        poll_run(20000, "--count", "1", "--retry", "1", "--cacert", pki("ca.pem"), busy, NULL), 22);
    expect_out("round 1: HTTP status 503; trying again in 1 s, 0 tries left", 1);
    expect_out("summary: 1 round, 0 ok, 1 failed", 1);
    assert_int_equal(
        poll_run(20000, "--count", "1", "--retry", "3", "--cacert", pki("ca.pem"), missing, NULL),
        22);
    expect_out("trying again", 0);
    /* An unknown -w variable is a usage error, named. */
    assert_int_equal(poll_run(10000, "-w", "%{http_code} %{bogus}", url, NULL), 2);
    assert_non_null(strstr(pr.err, "--write-out: unknown variable '%{bogus}'"));
    unlink(out);
}

static void test_usage_errors_name_the_option(void **state)
{
    (void)state;
    static const struct {
        const char *args[4];
        const char *says;
    } cases[] = {
        {{"--interval", "abc", "https://localhost/"}, "--interval: 'abc' is not a time"},
        {{"--connect-timeout", "5x", "https://localhost/"},
         "--connect-timeout: '5x' is not a time"},
        {{"--bogus", "https://localhost/"}, "unknown option '--bogus'"},
        {{"--source", "host.example", "https://localhost/"},
         "--source: 'host.example' is not an IP address"},
        {{"--race-limit", "x", "https://localhost/"}, "--race-limit: 'x' is not a number"},
        {{"--address", "nope", "https://localhost/"}, "--address: 'nope' is not an IP address"},
        /* no abbreviations (a later option could change their meaning), and
         * the closest option named */
        {{"--inter", "5", "https://localhost/"},
         "unknown option '--inter' (did you mean '--interval'?)"},
        {{"--hedaer", "X: 1", "https://localhost/"},
         "unknown option '--hedaer' (did you mean '--header'?)"},
        {{"-H", "--x", "https://localhost/"}, "--header: '--x' is not 'Name: value'"},
        {{"--tls-min", "1.1", "https://localhost/"}, "--tls-min: '1.1' is not a TLS version"},
        {{"--family", "5", "https://localhost/"}, "--family: '5'"},
        {{"--count"}, "--count needs a value"},
        {{"ftp://localhost/"}, "unsupported scheme"},
        {{"https://localhost:99999/"}, "1-65535"},
        {{"--cert", "x.pem", "https://localhost/"}, "--cert needs --key as well"},
        {{"-X", "BREW", "https://localhost/"}, "--method: 'BREW'"},
        {{"--cacert", "/nonexistent/ca.pem", "https://localhost/"}, "/nonexistent/ca.pem"},
        {{NULL}, "no URL given"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int st = poll_run(10000, cases[i].args[0], cases[i].args[1], cases[i].args[2], NULL);
        if (st != 2 || strstr(pr.err, cases[i].says) == NULL)
            fail_msg("case %zu: exit %d, stderr '%s', expected 2 and '%s'", i, st, pr.err,
                     cases[i].says);
        assert_string_equal(pr.out, ""); /* nothing half-done on stdout */
    }
    assert_int_equal(poll_run(10000, "--help", NULL), 0);
    static const char *const documented[] = {"--interval",
                                             "--count",
                                             "--cacert",
                                             "--capath",
                                             "--cert",
                                             "--key",
                                             "--insecure",
                                             "--no-verify-name",
                                             "--servername",
                                             "--alpn",
                                             "--tls-min",
                                             "--tls-max",
                                             "--ciphers",
                                             "--family",
                                             "--resolver",
                                             "--retries",
                                             "--no-resume",
                                             "--connect-timeout",
                                             "--handshake-timeout",
                                             "--verbose",
                                             "--json",
                                             "--quiet",
                                             "Exit status"};
    for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
        if (strstr(pr.out, documented[i]) == NULL)
            fail_msg("--help does not mention %s", documented[i]);
    /* --version: the library's and wolfSSL's, as the build says. */
    assert_int_equal(poll_run(10000, "--version", NULL), 0);
    char want[64];
    snprintf(want, sizeof want, "evtls-poll (evtls %s; wolfSSL 5.", evtls_version());
    assert_non_null(strstr(pr.out, want));
    assert_non_null(strstr(pr.out, "CRL yes, OCSP stapling yes"));
}

static void test_signal_stops_within_a_second(void **state)
{
    (void)state;
    /* SIGINT during the countdown. */
    const char *argv[] = {EVTLS_POLL_PATH, "--interval", "30", "--cacert",
                          pki("ca.pem"),   url,          NULL};
    assert_int_equal(proc_start(&pr, argv), 0);
    assert_int_equal(proc_wait_for(&pr, "I evtls-poll: 29...", 10000), 0);
    kill(pr.pid, SIGINT);
    assert_int_equal(proc_wait(&pr, 5000), 130); /* 128 + SIGINT: not a success */
    expect_out("SIGINT: stopping", 1);
    /* It stopped at the signal, not at the end of its 30 s countdown: no
     * countdown line came after the signal was seen. */
    assert_null(strstr(strstr(pr.out, "SIGINT: stopping"), "...\n"));
    expect_out("summary: 1 round, 1 ok, 0 failed", 1);

    /* SIGTERM while a round waits for a server that never answers. */
    struct peer fp;
    assert_int_equal(peer_fault(&fp, "silent", NULL), 0);
    char u[64];
    snprintf(u, sizeof u, "https://localhost:%u/", fp.port);
    const char *argv2[] = {EVTLS_POLL_PATH, "--cacert", pki("ca.pem"), u, NULL};
    assert_int_equal(proc_start(&pr, argv2), 0);
    assert_int_equal(proc_wait_for(&pr, "GET / sent", 10000), 0);
    kill(pr.pid, SIGTERM);
    int st = proc_wait(&pr, 5000);
    peer_stop(&fp);
    /* The cut round counts neither way: had a timer of the round ended it
     * (TTFB, 10 s), it would have counted as failed. */
    assert_int_equal(st, 143); /* 128 + SIGTERM */
    expect_out("summary: 0 rounds, 0 ok, 0 failed", 1);
}

/* The same rule as evtls-load: a 4xx or 5xx response fails the round; a
 * failed round's JSON has null for the phases it did not reach. */
static void test_status_and_nulls(void **state)
{
    (void)state;
    char missing[96], refused[96];
    snprintf(missing, sizeof missing, "https://localhost:%u/missing", web.port);
    snprintf(refused, sizeof refused, "https://127.0.0.1:%u/", unused_port());
    assert_int_equal(
        poll_run(20000, "--count", "1", "--json", "--cacert", pki("ca.pem"), missing, NULL), 22);
    expect_out("\"status\":404", 1);
    expect_out("\"error\":\"HTTP_STATUS\"", 1);
    expect_out("\"error_detail\":\"HTTP status 404\"", 1);
    expect_out("\"handshake_ms\":null", 0); /* every phase was reached */
    /* curl's -f is the rule already (taken), -I is HEAD */
    assert_int_equal(
        poll_run(20000, "--count", "1", "-f", "-I", "--cacert", pki("ca.pem"), missing, NULL), 22);
    expect_out("round 1 failed: HTTP status 404", 1);
    expect_out("summary: 1 round, 0 ok, 1 failed", 1);
    assert_int_equal(
        poll_run(20000, "--count", "1", "--json", "--cacert", pki("ca.pem"), refused, NULL), 7);
    expect_out("\"connect_ms\":null", 1);
    expect_out("\"handshake_ms\":null", 1);
    expect_out("\"ttfb_ms\":null", 1);
    expect_out("\"cipher\":null", 1);
    expect_out("\"error\":\"CONN_REFUSED\"", 1);
}

/* One duration syntax in both tools: units everywhere, fractions, and
 * intervals under a second (no countdown lines then). */
static void test_durations(void **state)
{
    (void)state;
    uint64_t t0 = now_ms();
    assert_int_equal(poll_run(20000, "--count", "3", "--interval", "0.2", "--quiet",
                              "--connect-timeout", "2s", "--handshake-timeout", "1500ms",
                              "--ttfb-timeout", "5s", "--cacert", pki("ca.pem"), url, NULL),
                     0);
    assert_true(now_ms() - t0 >= 400); /* two waits of 0.2 s: a lower bound only */
    assert_int_equal(count_of(pr.err, "next round in 0.200 s"), 2);
    assert_int_equal(count_of(pr.err, "summary: 3 rounds, 3 ok, 0 failed"), 1);
    expect_out("HTTP/1.1 200 OK\n", 3);
}

static void test_session_file_and_no_resume(void **state)
{
    (void)state;
    char file[] = "/tmp/evtls-sess.XXXXXX";
    int fd = mkstemp(file);
    close(fd);
    unlink(file);
    assert_int_equal(poll_run(20000, "--count", "1", "--json", "--session-file", file, "--cacert",
                              pki("ca.pem"), url, NULL),
                     0);
    expect_out("\"resumed\":false", 1);
    struct stat sb;
    assert_int_equal(stat(file, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600); /* it holds secrets */
    /* Another process resumes from the file in its first round. */
    assert_int_equal(poll_run(20000, "--count", "1", "--json", "--session-file", file, "--cacert",
                              pki("ca.pem"), url, NULL),
                     0);
    expect_out("\"resumed\":true", 1);
    /* Loading worked: said so, and no warning (a count is no failure). */
    assert_null(strstr(pr.err, "ignoring"));
    assert_non_null(strstr(pr.err, "loaded from"));
    unlink(file);
    /* --no-resume: full handshakes every round. */
    assert_int_equal(poll_run(20000, "--count", "2", "--interval", "0", "--json", "--no-resume",
                              "--cacert", pki("ca.pem"), url, NULL),
                     0);
    expect_out("\"resumed\":false", 2);
}

/* --early-data: nginx with ssl_early_data behind the delaying relay (so
 * that the request is in before the handshake can end): the first round
 * has no ticket, the next send the request with the ClientHello, nginx
 * logs them as early and each once; a 425 is answered by sending the
 * request again, once, after the handshake; a POST never goes early. On a
 * build without early data the option is a configuration error naming
 * the build option. */
static struct peer early_web, early_relay;

static int stop_early_peers(void **state)
{
    (void)state;
    peer_stop(&early_relay);
    peer_stop(&early_web);
    return 0;
}

/* The status and early field of each of nginx's log lines once it holds
 * want, joined ("200:-,200:1"); the log is emptied. */
static void early_fields(int want, char *out, size_t size)
{
    int status[8];
    char early[8][4];
    int n = peer_nginx_early_log(&early_web, want, status, early, 8);
    assert_true(n >= 0 && n <= 8);
    out[0] = '\0';
    for (int i = 0; i < n; i++)
        snprintf(out + strlen(out), size - strlen(out), "%s%d:%s", i ? "," : "", status[i],
                 early[i]);
}

static void test_early_data(void **state)
{
    (void)state;
    evtls_build_info bi = EVTLS_BUILD_INFO_INIT;
    assert_int_equal(evtls_get_build_info(&bi), 0);
    if (!bi.early_data) {
        assert_int_equal(poll_run(20000, "--count", "1", "--early-data", url, NULL), 2);
        assert_non_null(strstr(pr.err, "--enable-earlydata"));
        return;
    }
    assert_int_equal(peer_nginx(&early_web, "ssl_early_data on; location /too-early { if "
                                            "($ssl_early_data) { return 425; } return 200 "
                                            "\"late\\n\"; }"),
                     0);
    assert_int_equal(peer_relay(&early_relay, early_web.port, 10, NULL), 0);
    char u[96], late[96], fields[128];
    snprintf(u, sizeof u, "https://localhost:%u/", early_relay.port);
    snprintf(late, sizeof late, "https://localhost:%u/too-early", early_relay.port);
    assert_int_equal(poll_run(20000, "--count", "3", "--interval", "0", "--json", "--early-data",
                              "-w", "early=%{tls_earlydata}\\n", "--cacert", pki("ca.pem"), u,
                              NULL),
                     0);
    expect_out("\"early_data\":\"not_sent\"", 1);
    expect_out("\"early_data\":\"accepted\"", 2);
    expect_out("early=0\n", 1);
    assert_null(strstr(pr.out, "early=-")); /* none rejected */
    assert_non_null(strstr(pr.err, "sent as early data"));
    early_fields(3, fields, sizeof fields);
    assert_string_equal(fields, "200:-,200:1,200:1");
    /* 425 Too Early: sent again without early data, and the round is a success */
    assert_int_equal(poll_run(20000, "--count", "2", "--interval", "0", "--early-data", "--cacert",
                              pki("ca.pem"), late, NULL),
                     0);
    assert_non_null(strstr(pr.out, "425 Too Early: sending the request again"));
    expect_out("late\n", 2);
    early_fields(3, fields, sizeof fields);
    assert_string_equal(fields, "200:-,425:1,200:-");
    /* a POST never goes early */
    assert_int_equal(poll_run(20000, "--count", "2", "--interval", "0", "--early-data", "-d", "x",
                              "--json", "--cacert", pki("ca.pem"), u, NULL),
                     0);
    assert_non_null(strstr(pr.err, "a POST is never sent early"));
    expect_out("\"early_data\":\"not_sent\"", 2);
    early_fields(2, fields, sizeof fields);
    assert_string_equal(fields, "200:-,200:-");
    assert_int_equal(poll_run(10000, "--early-data", "--no-resume", u, NULL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_http_server_ip_certificate),
        cmocka_unit_test(test_nginx_json_and_resumption),
        cmocka_unit_test(test_status_and_nulls),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_default_countdown_ten_to_zero),
        cmocka_unit_test(test_failures_exit_as_curl),
        cmocka_unit_test(test_curl_habits),
        cmocka_unit_test(test_http2),
        cmocka_unit_test(test_source_and_race_limit),
        cmocka_unit_test(test_usage_errors_name_the_option),
        cmocka_unit_test(test_signal_stops_within_a_second),
        cmocka_unit_test(test_session_file_and_no_resume),
        cmocka_unit_test_teardown(test_early_data, stop_early_peers),
    };
    return cmocka_run_group_tests_name("poll", tests, group_setup, group_teardown);
}
