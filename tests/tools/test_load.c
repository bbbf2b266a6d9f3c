/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_load.c - evtls-load run as its users run it, against nginx: the
 * handshake, request and hold modes, the share of resumed handshakes
 * (counted by nginx), the open-loop rate over 5 s (counted by nginx), the
 * progress line on a terminal only, the JSON summary, errors counted when
 * the server goes away mid-run, several target and source addresses,
 * exit codes and usage errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "peer.h"
#include "proc.h"

static struct peer web; /* nginx on 127.0.0.1 and 127.0.0.2 */
static struct proc pr;
static char url[128], hostport[64], json_path[64], body_path[64];
#define BODY_100K 100000

static int group_setup(void **state)
{
    (void)state;
    /* As users run it: without the library's per-connection log lines
     * (scripts/test.sh sets EVTLS_LOG=warn for the other tests). */
    unsetenv("EVTLS_LOG");
    snprintf(body_path, sizeof body_path, "/tmp/evtls-load-%d.bin", (int)getpid());
    FILE *b = fopen(body_path, "w");
    if (b == NULL || ftruncate(fileno(b), BODY_100K) != 0)
        return -1;
    fclose(b);
    char directives[384];
    snprintf(directives, sizeof directives,
             "keepalive_timeout 60s; keepalive_requests 1000000; location = /100k { alias %s; } "
             "location = /nf { return 404; } location = /slow { alias %s; limit_rate 40k; }",
             body_path, body_path);
    /* A 256 KiB send buffer: TCP autotuning would otherwise give one of the
     * four connections of the shares test most of the bandwidth. */
    if (peer_nginx_ex(&web, PEER_NGINX_127_0_0_2 | PEER_NGINX_SNDBUF_256K, directives) != 0)
        return -1;
    snprintf(url, sizeof url, "https://localhost:%u/", web.port);
    snprintf(hostport, sizeof hostport, "127.0.0.1:%u", web.port);
    snprintf(json_path, sizeof json_path, "/tmp/evtls-load-%d.json", (int)getpid());
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    peer_stop(&web);
    unlink(json_path);
    unlink(body_path);
    return 0;
}

/* Runs evtls-load with the given arguments (NULL-terminated). */
static int load_run(unsigned timeout_ms, ...)
{
    va_list ap;
    va_start(ap, timeout_ms);
    unlink(json_path);
    int st = proc_run_va(&pr, EVTLS_LOAD_PATH, timeout_ms, ap);
    va_end(ap);
    if (st < 0)
        fail_msg("evtls-load did not end in %u ms; stdout:\n%s\nstderr:\n%s", timeout_ms, pr.out,
                 pr.err);
    return st;
}

static char json[64 * 1024];

static void read_json(void)
{
    FILE *f = fopen(json_path, "r");
    if (f == NULL)
        fail_msg("no JSON file; stdout:\n%s\nstderr:\n%s", pr.out, pr.err);
    size_t n = fread(json, 1, sizeof json - 1, f);
    json[n] = '\0';
    fclose(f);
    if (n == 0 || json[0] != '{' || json[n - 2] != '}' || json[n - 1] != '\n')
        fail_msg("not one JSON object and a newline: %s", json);
}

/* The number after "key": in s (the first occurrence); fails if absent. */
static double num_in(const char *s, const char *key)
{
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(s, pat);
    if (p == NULL)
        fail_msg("no %s in %s", pat, s);
    return strtod(p + strlen(pat), NULL);
}

static double num(const char *key)
{
    return num_in(json, key);
}

/* A field of one phase's latency object, e.g. phase("total", "p99_ms"). */
static double phase(const char *name, const char *field)
{
    char pat[40];
    snprintf(pat, sizeof pat, "\"%s\":{", name);
    const char *p = strstr(json, pat);
    if (p == NULL)
        fail_msg("no latency for %s in %s", name, json);
    return num_in(p, field);
}

/* nginx's access log since the last call: lines and resumed ones. */
struct log_count {
    int lines, resumed, tls12, tls13;
    int from_127_0_0_3, to_127_0_0_1, to_127_0_0_2;
    int max_reqs; /* the most requests nginx saw on one connection */
};

/* Counts nginx's access log once it holds want lines, then empties it. */
static void read_log(struct log_count *c, int want)
{
    char path[512], line[512];
    snprintf(path, sizeof path, "%s", peer_nginx_log(&web, want));
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        char proto[16], reused[4], remote[64], server[64];
        int reqs;
        if (sscanf(line, "%*d %d %15s %3s %*d %63s %63s", &reqs, proto, reused, remote, server) !=
            5)
            continue;
        if (reqs > c->max_reqs)
            c->max_reqs = reqs;
        c->lines++;
        c->resumed += strcmp(reused, "r") == 0;
        c->tls12 += strcmp(proto, "TLSv1.2") == 0;
        c->tls13 += strcmp(proto, "TLSv1.3") == 0;
        c->from_127_0_0_3 += strcmp(remote, "127.0.0.3") == 0;
        c->to_127_0_0_1 += strcmp(server, "127.0.0.1") == 0;
        c->to_127_0_0_2 += strcmp(server, "127.0.0.2") == 0;
    }
    if (f)
        fclose(f);
    if (truncate(path, 0) != 0)
        fail_msg("cannot truncate %s", path);
}

static void test_handshake_mode(void **state)
{
    (void)state;
    struct log_count lc;
    read_log(&lc, 0);
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "300", "-c", "8", "--json",
                              json_path, hostport, NULL),
                     0);
    read_json();
    assert_int_equal(num("connections"), 300);
    assert_int_equal(num("errors"), 0);
    assert_int_equal(num("requests"), 0);
    assert_int_equal(num("resumed"), 0);
    assert_true(num("handshakes_per_s") > 0);
    assert_true(phase("tls", "p50_ms") > 0);
    assert_true(phase("tls", "p99_ms") >= phase("tls", "p50_ms"));
    assert_true(phase("total", "max_ms") >= phase("total", "p99_ms"));
    /* tcp counts from the first connect() call; the wait before it (the
     * client's own queue) is tcp_wait: one sample each a connection, and
     * with dns and tls they fit within each connection's connect time
     * (sums exact, in us). */
    assert_int_equal(phase("tcp_wait", "count"), 300);
    assert_int_equal(phase("tcp", "count"), 300);
    double parts = phase("dns", "sum_us") + phase("tcp_wait", "sum_us") + phase("tcp", "sum_us") +
                   phase("tls", "sum_us");
    if (parts > phase("connect", "sum_us"))
        fail_msg("dns + tcp_wait + tcp + tls = %.0f us, past connect's %.0f us", parts,
                 phase("connect", "sum_us"));
    assert_non_null(strstr(json, "\"version\":\"TLSv1.3\""));
    /* The text summary says the same, and no HTTP request was made. */
    assert_non_null(strstr(pr.out, "handshake mode"));
    assert_non_null(strstr(pr.out, "connections: 300 succeeded, 0 failed"));
    read_log(&lc, 0);
    assert_int_equal(lc.lines, 0);
}

/* Request mode, one request per connection: nginx counts the handshakes
 * and the resumed ones; evtls-load's count must match, and the share must
 * be the one asked for (the first -c handshakes have nothing to resume). */
static void resume_case(const char *ratio, const char *tls_max, int n, int c)
{
    char ns[16], cs[16];
    snprintf(ns, sizeof ns, "%d", n);
    snprintf(cs, sizeof cs, "%d", c);
    struct log_count lc;
    read_log(&lc, 0);
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", ns, "-c", cs,
                              "--requests-per-conn", "1", "--resume-ratio", ratio, "--tls-max",
                              tls_max, "--json", json_path, url, NULL),
                     0);
    read_json();
    read_log(&lc, n);
    assert_int_equal(lc.lines, n);
    assert_int_equal(num("connections"), n);
    assert_int_equal(num("requests"), n);
    assert_int_equal(num("resumed"), lc.resumed);
    assert_int_equal(strcmp(tls_max, "1.2") == 0 ? lc.tls12 : lc.tls13, n);
    /* Exactly the share asked: an offer owed while no session existed yet
     * (the first -c handshakes run together) is made by a later handshake;
     * only what no later handshake could take is missed (and said). */
    double want = strtod(ratio, NULL) * n, missed = num("offers_missed");
    if (lc.resumed != (int)(want - missed) || missed > c)
        fail_msg("--resume-ratio %s: nginx saw %d of %d resumed, %.0f offers missed", ratio,
                 lc.resumed, n, missed);
    assert_true(num("resumed_ratio") * n > lc.resumed - 0.5);
    assert_true(num("resumed_ratio") * n < lc.resumed + 0.5);
}

static void test_resume_ratio_tls13(void **state)
{
    (void)state;
    resume_case("0", "1.3", 200, 4);
    resume_case("0.5", "1.3", 200, 4);
    resume_case("0.5", "1.3", 100, 50); /* half the handshakes start before any session */
    resume_case("1", "1.3", 200, 4);
}

/* --request-timeout covers the whole exchange, the body included, where
 * --ttfb-timeout stops at the first byte (and bounds each silence): a
 * 100 KB body sent at 40 KB/s (2.5 s) passes a 5 s TTFB timeout and fails
 * a 1 s request timeout with HTTP_TIMEOUT. The latency table has p75 and
 * p95 columns (text, JSON). */
static void test_request_timeout_and_columns(void **state)
{
    (void)state;
    char slow[160];
    snprintf(slow, sizeof slow, "%sslow", url);
    int st = load_run(60000, "--cacert", pki("ca.pem"), "-c", "2", "-n", "2", "--ttfb-timeout",
                      "5s", "--json", json_path, slow, NULL);
    if (st != 0)
        fail_msg("exit %d:\n%s\n%s", st, pr.out, pr.err);
    read_json();
    assert_int_equal(num("errors"), 0);
    assert_true(phase("total", "p50_ms") > 1000);
    assert_true(phase("total", "p75_ms") >= phase("total", "p50_ms"));
    assert_true(phase("total", "p95_ms") >= phase("total", "p75_ms"));
    assert_true(phase("total", "p99_ms") >= phase("total", "p95_ms"));
    assert_non_null(strstr(pr.out, "p50        p75        p90        p95        p99"));
    st = load_run(60000, "--cacert", pki("ca.pem"), "-c", "2", "-n", "2", "--ttfb-timeout", "5s",
                  "--request-timeout", "1s", "--max-errors", "10", "--json", json_path, slow, NULL);
    assert_int_equal(st, 1); /* no operation succeeded */
    read_json();
    assert_int_equal(num("errors"), 2);
    assert_non_null(strstr(json, "\"HTTP_TIMEOUT\""));
    assert_true(phase("total", "max_ms") < 2400); /* each ended at its 1 s, not the body's end */
    struct log_count lc;
    read_log(&lc, 0);
}

/* --session-file, as evtls-poll's: a run saves every thread's sessions
 * (mode 0600); the next run's threads each load their share and resume
 * from their first handshake (without it, the first -c have nothing to
 * offer); a ticket goes to one thread, so none is offered twice. */
static void test_session_file(void **state)
{
    (void)state;
    char file[64];
    snprintf(file, sizeof file, "/tmp/evtls-load-sess-%d", (int)getpid());
    unlink(file);
    struct log_count lc;
    read_log(&lc, 0);
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-t", "2", "-c", "4", "-n", "20",
                              "--requests-per-conn", "1", "--resume-ratio", "1", "--session-file",
                              file, url, NULL),
                     0);
    read_log(&lc, 20);
    assert_non_null(strstr(pr.err, "saved to"));
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-t", "2", "-c", "4", "-n", "4",
                              "--requests-per-conn", "1", "--resume-ratio", "1", "--session-file",
                              file, "--json", json_path, url, NULL),
                     0);
    assert_non_null(strstr(pr.err, "shared between 2 threads"));
    read_json();
    read_log(&lc, 4);
    assert_int_equal(lc.lines, 4);
    assert_int_equal(lc.resumed, 4); /* the first four resumed */
    assert_int_equal(num("offers_missed"), 0);
    /* without resumption there is nothing to keep */
    assert_int_equal(load_run(10000, "--session-file", file, "-n", "1", url, NULL), 2);
    unlink(file);
}

static void test_resume_ratio_tls12(void **state)
{
    (void)state;
    resume_case("0.5", "1.2", 100, 4);
    resume_case("1", "1.2", 100, 4);
}

/* Handshake mode stores TLS 1.3 tickets too (they come after the
 * handshake): every handshake after the first -c resumes. */
static void test_handshake_mode_resumes_tls13(void **state)
{
    (void)state;
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "100", "-c", "2",
                              "--resume-ratio", "1", "--tls-min", "1.3", "--json", json_path,
                              hostport, NULL),
                     0);
    read_json();
    assert_int_equal(num("connections"), 100);
    assert_true(num("resumed") >= 98);
}

static void test_keep_alive_requests(void **state)
{
    (void)state;
    struct log_count lc;
    read_log(&lc, 0);
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "1000", "-c", "5", "-t", "2",
                              "--json", json_path, url, NULL),
                     0);
    read_json();
    read_log(&lc, 1000);
    assert_int_equal(num("requests"), 1000);
    assert_int_equal(lc.lines, 1000);
    assert_int_equal(num("connections"), 5); /* kept alive: one per slot */
    assert_true(lc.max_reqs > 100);
    assert_int_equal(num("2xx"), 1000);
    assert_true(num("requests_per_s") > 0);
    /* The headline of a keep-alive run is its request rate (5 handshakes
     * made it: their rate comes second). */
    const char *head = strstr(pr.out, "finished in ");
    assert_non_null(head);
    assert_non_null(strstr(head, " requests/s ("));
    assert_true(strstr(head, " requests/s (") < strstr(head, "handshakes/s"));
    assert_true(phase("ttfb", "p50_ms") > 0);
    assert_true(phase("ttfb", "p99_ms") >= phase("ttfb", "p50_ms"));
    /* --requests-per-conn bounds the requests per connection. */
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "100", "-c", "2",
                              "--requests-per-conn", "10", "--json", json_path, url, NULL),
                     0);
    read_json();
    /* The two slots share the 100 requests unevenly: 10 or 11 connections. */
    assert_true(num("connections") >= 10 && num("connections") <= 11);
    read_log(&lc, 100);
    assert_int_equal(lc.lines, 100);
    assert_int_equal(lc.max_reqs, 10);
}

/* Distinct connections in nginx's access log (its first field), and the
 * lines; the log is emptied. */
static void h2_log(const struct peer *p, int want, int *conns, int *lines)
{
    char path[512], line[256];
    snprintf(path, sizeof path, "%s", peer_nginx_log(p, want));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static long seen[4096];
    *conns = *lines = 0;
    while (fgets(line, sizeof line, f)) {
        long conn;
        if (sscanf(line, "%ld", &conn) != 1)
            continue;
        int known = 0;
        for (int i = 0; i < *conns && !known; i++)
            known = seen[i] == conn;
        if (!known && *conns < 4096)
            seen[(*conns)++] = conn;
        (*lines)++;
    }
    fclose(f);
    if (truncate(path, 0) != 0)
        fail_msg("cannot truncate %s", path);
}

/* --http2 -M: -c connections, each carrying -M streams at once, counted
 * exactly against nginx; through nginx's GOAWAY every 100 requests no
 * request fails or is counted twice; the open loop too. */
static void test_http2_streams(void **state)
{
    (void)state;
    struct peer h2;
    assert_int_equal(peer_nginx_ex(&h2, PEER_NGINX_HTTP2, "keepalive_requests 100;"), 0);
    char u[96];
    snprintf(u, sizeof u, "https://localhost:%u/", h2.port);
    int conns, lines;
    h2_log(&h2, 0, &conns, &lines);
    char html[80];
    snprintf(html, sizeof html, "/tmp/evtls-load-h2-%d.html", (int)getpid());
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "--http2", "-M", "10", "-c", "4",
                              "-t", "2", "-n", "3000", "--json", json_path, "--html", html, u,
                              NULL),
                     0);
    FILE *hf = fopen(html, "r");
    assert_non_null(hf);
    static char page[256 * 1024];
    size_t hn = fread(page, 1, sizeof page - 1, hf);
    page[hn] = '\0';
    fclose(hf);
    unlink(html);
    assert_non_null(strstr(page, "<h2>HTTP/2</h2>"));
    assert_non_null(strstr(page, "<td class=\"n\">3000 of 3000</td>"));
    assert_non_null(strstr(page, "HTTP/2 -M 10"));
    read_json();
    h2_log(&h2, 3000, &conns, &lines);
    assert_int_equal(num("requests"), 3000);
    assert_int_equal(num("errors"), 0);
    assert_int_equal(num("h2_responses"), 3000);
    assert_int_equal(lines, 3000);               /* each request once at the server */
    assert_int_equal(conns, num("connections")); /* and each connection */
    assert_true(conns >= 30);                    /* a GOAWAY after each 100 */
    assert_true(num("h2_goaways") >= 26);
    assert_int_equal(phase("stream_wait", "count"), 3000); /* each request waited for a stream */
    assert_non_null(strstr(pr.out, "HTTP/2: 3000 of 3000 responses over h2"));
    assert_non_null(strstr(pr.out, "the server allows 128)")); /* nginx's default */
    assert_int_equal(num("h2_peer_max_streams"), 128);
    assert_non_null(strstr(pr.out, "x -M 10 (HTTP/2 streams each)"));
    /* the open loop: every operation due is accounted for, and nginx
     * counted exactly the requests that were made */
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "--http2", "-M", "5", "-c", "2",
                              "--rate", "400", "-d", "2", "--json", json_path, u, NULL),
                     0);
    read_json();
    h2_log(&h2, (int)num("requests"), &conns, &lines);
    /* each request answered once at the server; those cut off in flight
     * at the end (unfinished) may have been answered too */
    if (lines < (int)num("requests") || lines > (int)(num("requests") + num("unfinished")))
        fail_msg("nginx logged %d requests; evtls-load made %.0f and left %.0f unfinished", lines,
                 num("requests"), num("unfinished"));
    assert_true(num("requests") > 0);
    /* how many a busy machine (valgrind) made is its own; that each due
     * operation is done, unfinished or never started is not */
    double due = num("due"), done = num("operations"), unfinished = num("unfinished"),
           never = num("never_started");
    if (done + unfinished + never != due)
        fail_msg("due %.0f != done %.0f + unfinished %.0f + never started %.0f", due, done,
                 unfinished, never);
    peer_stop(&h2);
}

/* --rate: an open loop keeps the rate asked within 5 % over 5 s, as nginx
 * counts it. The rate is one the client keeps easily (200/s over
 * keep-alive, a few per cent of a core), divided by EVTLS_TEST_TIME_SCALE
 * under valgrind, so that what is measured is the schedule, not the
 * machine's speed. */
static void test_rate_within_five_percent(void **state)
{
    (void)state;
    unsigned rate = 200 / test_time_scale();
    char rs[16];
    snprintf(rs, sizeof rs, "%u", rate);
    struct log_count lc;
    read_log(&lc, 0);
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-d", "5", "-c", "20", "--rate", rs,
                              "--json", json_path, url, NULL),
                     0);
    read_json();
    int done = (int)num("requests");
    read_log(&lc, done);
    /* nginx counts what the client counts, and may have answered the
     * requests the end cut off. */
    assert_true(lc.lines >= done && lc.lines <= done + (int)num("unfinished"));
    if ((unsigned)lc.lines < 5 * rate * 95 / 100 || (unsigned)lc.lines > 5 * rate * 105 / 100)
        fail_msg("--rate %u for 5 s: nginx saw %d requests", rate, lc.lines);
    double rps = num("requests_per_s");
    assert_true(rps > rate * 0.95 && rps < rate * 1.05);
    assert_true(num("rate_asked") == rate);
}

/* The p99 a progress line shows for the whole second that ended at its
 * label (0 when it shows none). */
static double progress_p99(const char *out, const char *label)
{
    const char *line = strstr(out, label), *end = line ? strstr(line + 1, "\r") : NULL;
    const char *p = line ? strstr(line, "  p99 ") : NULL;
    if (p == NULL || (end && p > end))
        return 0;
    return strtod(p + 6, NULL);
}

/* The progress line: once a second on a terminal, with the last second's
 * p99 over every thread (the open loop's with its backlog), never on a
 * pipe. */
static void test_progress_only_on_a_terminal(void **state)
{
    (void)state;
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(EVTLS_LOAD_PATH, EVTLS_LOAD_PATH, "--cacert", pki("ca.pem"), "-d", "2.5", "-t", "2",
              "-c", "4", "--rate", "300", "--json", json_path, url, (char *)NULL);
        _exit(127);
    }
    static char out[256 * 1024];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof out - 1 && (n = read(master, out + len, sizeof out - 1 - len)) > 0)
        len += (size_t)n; /* EIO once the child is gone */
    out[len] = '\0';
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(master);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Two progress lines (at 1 s and 2 s), each rewriting the line. */
    int lines = count_of(out, "\r\033[K[");
    if (lines < 2 || lines > 3)
        fail_msg("%d progress lines:\n%s", lines, out);
    assert_non_null(strstr(out, "s/2.5s, "));
    assert_non_null(strstr(out, "/s  errors 0"));
    /* On whole seconds after the start, whenever the tick came (it drifted
     * to 1.1 s, 2.2 s); the open loop's backlog shown. */
    assert_non_null(strstr(out, "[   1.0s] "));
    assert_non_null(strstr(out, "  backlog "));
    assert_non_null(strstr(out, "request mode"));
    /* Each line's p99 is the second's over both threads: the run's own
     * per-second series says the same (it was the slowest thread's). */
    read_json();
    for (int sec = 0; sec < 2; sec++) {
        char label[16], t[16], a[16], b[16];
        snprintf(label, sizeof label, "[%6.1fs] ", (double)sec + 1);
        snprintf(t, sizeof t, "{\"t\":%d,", sec);
        const char *s = strstr(json, t);
        assert_non_null(s);
        snprintf(a, sizeof a, "%.1f", progress_p99(out, label));
        snprintf(b, sizeof b, "%.1f", num_in(s, "p99_ms"));
        if (strcmp(a, b) != 0)
            fail_msg("second %d: the progress line says p99 %s ms, the series %s ms:\n%s", sec, a,
                     b, out);
    }

    /* Not a terminal: the summary only. */
    assert_int_equal(load_run(30000, "--cacert", pki("ca.pem"), "-d", "1.5", "-c", "2", url, NULL),
                     0);
    assert_null(strchr(pr.out, '\r'));
    assert_null(strstr(pr.out, "\033["));
    assert_non_null(strstr(pr.out, "latency (ms)"));
}

/* The server goes away mid-run: every failure is counted and classified,
 * and the exit status follows --max-errors. */
static void test_server_gone_mid_run(void **state)
{
    (void)state;
    struct peer gone;
    char u[128], dur[16];
    snprintf(dur, sizeof dur, "%u", 3 * test_time_scale());
    for (int round = 0; round < 2; round++) {
        assert_int_equal(peer_nginx(&gone, NULL), 0);
        snprintf(u, sizeof u, "https://localhost:%u/", gone.port);
        const char *argv[] = {EVTLS_LOAD_PATH,
                              "--cacert",
                              pki("ca.pem"),
                              "-d",
                              dur,
                              "-c",
                              "4",
                              "--json",
                              json_path,
                              "--max-errors",
                              round == 0 ? "0" : "100000000",
                              u,
                              NULL};
        unlink(json_path);
        assert_int_equal(proc_start(&pr, argv), 0);
        /* The server goes once it has answered a request. */
        peer_nginx_log(&gone, 1);
        peer_stop(&gone);
        int st = proc_wait(&pr, 30000);
        read_json();
        assert_true(num("requests") > 0);
        assert_true(num("errors") > 0);
        assert_non_null(strstr(json, "\"code\":\"CONN_REFUSED\""));
        assert_non_null(strstr(pr.out, "CONN_REFUSED"));
        if (round == 0) {
            assert_int_equal(st, 1);
            assert_non_null(strstr(pr.err, "more than --max-errors 0"));
        } else {
            assert_int_equal(st, 0);
        }
    }
}

/* Several target addresses taken in turn, from a given source address,
 * verifying the host name: nginx sees both and the source. */
static void test_addresses_and_source(void **state)
{
    (void)state;
    struct log_count lc;
    read_log(&lc, 0);
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "40", "-c", "4",
                              "--requests-per-conn", "1", "--address", "127.0.0.1", "--address",
                              "127.0.0.2", "--source", "127.0.0.3", "--json", json_path, url, NULL),
                     0);
    read_log(&lc, 40);
    assert_int_equal(lc.lines, 40);
    assert_int_equal(lc.to_127_0_0_1, 20);
    assert_int_equal(lc.to_127_0_0_2, 20);
    assert_int_equal(lc.from_127_0_0_3, 40);
    /* curl's --resolve for the target's host and port is --address: every
     * request reaches 127.0.0.2, under the URL's name (verified). */
    char rs[64], other[64];
    snprintf(rs, sizeof rs, "localhost:%u:127.0.0.2", web.port);
    snprintf(other, sizeof other, "localhost:%u:127.0.0.9", web.port + 1); /* another port */
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "6", "-c", "2", "--resolve",
                              other, "--resolve", rs, "--json", json_path, url, NULL),
                     0);
    read_log(&lc, 6);
    assert_int_equal(lc.lines, 6);
    assert_int_equal(lc.to_127_0_0_2, 6);
    /* curl's --connect-to, as evtls-poll takes it: the target's host and
     * port go to 127.0.0.2, its name still verified (and --resolve after
     * it, on where it leads, as curl orders them). */
    char ct[96];
    snprintf(ct, sizeof ct, "localhost:%u:127.0.0.2:", web.port);
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "6", "-c", "2",
                              "--connect-to", ct, "--json", json_path, url, NULL),
                     0);
    read_log(&lc, 6);
    assert_int_equal(lc.lines, 6);
    assert_int_equal(lc.to_127_0_0_2, 6);
    assert_int_equal(load_run(30000, "--connect-to", ct, "--address", "127.0.0.1", url, NULL), 2);
    assert_non_null(strstr(pr.err, "--connect-to and --address: give one of them"));
}

static void test_hold_mode(void **state)
{
    (void)state;
    /* The hold (-d) starts once every connection is made or has failed,
     * however long the handshakes take: all 200 are held at once. */
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-m", "hold", "-c", "200", "-d",
                              "1", "--ramp-up", "0.3", "--json", json_path, hostport, NULL),
                     0);
    read_json();
    assert_int_equal(num("held"), 200);
    assert_int_equal(num("connections"), 200);
    assert_true(num("rss_held_kb") > num("rss_base_kb"));
    /* The handshake rate is over the time the handshakes took, not the hold. */
    assert_non_null(strstr(pr.out, "handshakes/s over the "));
    /* Memory per held connection is the slope of resident memory as the
     * connections open (a ramp), the fixed costs apart: it no longer
     * depends on -c (a fixed cost divided by -c gave 328.8 KiB at -c 10
     * and 51.7 at -c 500). Two runs, four times apart in -c. */
    double slope[2];
    const char *cs[2] = {"100", "400"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-m", "hold", "-c", cs[i], "-d",
                                  "0.2", "--ramp-up", "1", "--json", json_path, hostport, NULL),
                         0);
        read_json();
        slope[i] = num("kib_per_held");
        assert_true(num("fit_from") * 2 <= num("held"));
        char want[96];
        snprintf(want, sizeof want, "%.1f KiB per held connection (the slope from %.0f to %s held)",
                 slope[i], num("fit_from"), cs[i]);
        if (strstr(pr.out, want) == NULL)
            fail_msg("no '%s' in:\n%s", want, pr.out);
    }
    if (!(slope[0] > 0 && slope[1] > 0 && slope[0] < 3 * slope[1] && slope[1] < 3 * slope[0]))
        fail_msg("KiB per held connection: %.1f at -c 100, %.1f at -c 400", slope[0], slope[1]);
}

/* 100 KB bodies over four keep-alive connections for -d: the bytes add
 * up exactly, every connection gets a share of the requests, and the run
 * reports how late it stopped. */
/* nginx's own count of accepted connections (stub_status at /status),
 * read over one TLS connection of its own, which it counts too. */
static long nginx_accepts(uint16_t port)
{
    struct event_base *b = event_base_new();
    evtls_cfg *cfg = test_cfg(0, 0);
    evtls_conn *c = evtls_conn_new(b, cfg);
    struct connect_result r;
    assert_int_equal(connect_wait(b, c, "127.0.0.1", port, &r), 0);
    static char buf[4096];
    size_t len = 0;
    exchange(b, c, "GET /status HTTP/1.0\r\nHost: localhost\r\n\r\n", buf, sizeof buf, &len);
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    event_base_free(b);
    const char *p = strstr(buf, "requests\n");
    long accepts = -1;
    if (p == NULL || sscanf(p + strlen("requests\n"), " %ld", &accepts) != 1)
        fail_msg("no stub_status in: %s", buf);
    return accepts;
}

/* -c N is N connections at the server: nginx on [::1] and 127.0.0.1 with
 * accept queues of 8, so that a burst of 100 connects waits (SYNs dropped
 * and sent again) well past the Happy Eyeballs attempt delay, where a
 * client that raced the other family would add connections. By name, both
 * families: nginx accepts exactly 100, and the client reports 100 TCP
 * attempts, none lost. */
static void test_connections_at_server(void **state)
{
    (void)state;
    struct peer p;
    assert_int_equal(peer_nginx_ex(&p, PEER_NGINX_IPV6 | PEER_NGINX_BACKLOG_8,
                                   "location = /status { stub_status; }"),
                     0);
    char storm_url[64];
    snprintf(storm_url, sizeof storm_url, "https://localhost:%u/", p.port);
    long before = nginx_accepts(p.port);
    /* A connect whose SYNs the full queue dropped is sent again after 1,
     * 2, 4, 8... s: on a busy machine (nginx slow to accept) the last of
     * the 100 can take past the default 10 s connect timeout, so the
     * library's timers are given room; the counts below are what is
     * asserted, not how soon they came. */
    int st = load_run(120000, "--cacert", pki("ca.pem"), "-m", "hold", "-c", "100", "-d", "0.2",
                      "--ramp-up", "0", "--connect-timeout", "100s", "--handshake-timeout", "100s",
                      "--json", json_path, storm_url, NULL);
    if (st != 0)
        fail_msg("evtls-load exited %d:\n%s\n%s", st, pr.out, pr.err);
    read_json();
    long after = nginx_accepts(p.port);
    assert_int_equal(num("connections"), 100);
    assert_int_equal(num("errors"), 0);
    assert_int_equal(num("attempts"), 100);
    assert_int_equal(num("attempts_lost"), 0);
    assert_int_equal(after - before - 1, 100); /* the second status read is one */
    assert_non_null(strstr(pr.out, "TCP attempts: 100 for 100 connects, 0 lost"));
    peer_stop(&p);
}

/* Ctrl-C ends a run early with its summary written, and the exit status
 * says it was cut short (130, as a shell reports a SIGINT), so that an
 * interrupted CI step cannot read as a success. */
static void test_interrupted_exits_130(void **state)
{
    (void)state;
    struct log_count lc;
    read_log(&lc, 0);
    const char *argv[] = {EVTLS_LOAD_PATH, "--cacert", pki("ca.pem"), "-c", "2", "-d",
                          "10m",           "--json",   json_path,     url,  NULL};
    unlink(json_path);
    assert_int_equal(proc_start(&pr, argv), 0);
    peer_nginx_log(&web, 5); /* requests are being answered */
    kill(pr.pid, SIGINT);
    int st = proc_wait(&pr, 60000);
    assert_int_equal(st, 130);
    read_json();
    assert_non_null(strstr(json, "\"interrupted\":true"));
    assert_true(num("requests") >= 5);
    assert_non_null(strstr(pr.out, "(interrupted)"));
    read_log(&lc, 0);
}

/* The TLS options are evtls-poll's (one table, tools/common/cli_tls.c):
 * a client certificate with an encrypted key, which nginx requires and
 * verifies. With it every request is answered 200 with the client's name;
 * without it nginx answers 400 to each. */
static void test_client_certificate(void **state)
{
    (void)state;
    struct peer p;
    char directives[512];
    snprintf(directives, sizeof directives,
             "ssl_verify_client on; ssl_client_certificate %s; "
             "location = /who { return 200 \"$ssl_client_verify\\n\"; }",
             pki("ca.pem"));
    assert_int_equal(peer_nginx(&p, directives), 0);
    char who[64];
    snprintf(who, sizeof who, "https://localhost:%u/who", p.port);
    int st = load_run(60000, "--cacert", pki("ca.pem"), "--cert", pki("client.pem"), "--key",
                      pki("client-enc.key"), "--key-password", "secret", "-n", "10", "-c", "2",
                      "--json", json_path, who, NULL);
    if (st != 0)
        fail_msg("evtls-load exited %d:\n%s\n%s", st, pr.out, pr.err);
    read_json();
    assert_int_equal(num("requests"), 10);
    assert_int_equal(num("errors"), 0);
    assert_non_null(strstr(json, "\"status_codes\":{\"200\":10}"));
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "4", "-c", "1", "--json",
                              json_path, who, NULL),
                     1);
    read_json();
    assert_non_null(strstr(json, "\"status_codes\":{\"400\":4}"));
    /* A key without its certificate is a usage error, as in evtls-poll. */
    assert_int_equal(load_run(10000, "--key", pki("client.key"), who, NULL), 2);
    assert_non_null(strstr(pr.err, "--key needs --cert as well"));
    peer_stop(&p);
}

/* The keep-alive race, every time (the fault peer drops each connection's
 * second request unanswered): ten GETs on one connection slot all
 * succeed, nine sent again on a new connection and counted; with
 * --no-retry the race shows; a POST is never sent again. */
static void test_keep_alive_race(void **state)
{
    (void)state;
    struct peer fp;
    assert_int_equal(peer_fault(&fp, "close-second", NULL), 0);
    char u[64];
    snprintf(u, sizeof u, "https://localhost:%u/", fp.port);
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-m", "request", "-c", "1", "-n",
                              "10", "--json", json_path, u, NULL),
                     0);
    read_json();
    assert_int_equal(num("requests"), 10);
    assert_int_equal(num("errors"), 0);
    assert_int_equal(num("retried"), 9);
    assert_int_equal(num("connections"), 10);
    assert_non_null(strstr(pr.out, "retried after the keep-alive race: 9"));
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "--no-retry", "-m", "request", "-c",
                              "1", "-n", "10", "--json", json_path, u, NULL),
                     1);
    read_json();
    assert_int_equal(num("requests"), 5);
    assert_int_equal(num("errors"), 5);
    assert_int_equal(num("retried"), 0);
    assert_non_null(strstr(pr.out, "PEER_CLOSED"));
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "--data", "x=1", "-m", "request",
                              "-c", "1", "-n", "4", "--json", json_path, u, NULL),
                     1);
    read_json();
    assert_int_equal(num("requests"), 2);
    assert_int_equal(num("errors"), 2);
    assert_int_equal(num("retried"), 0);
    peer_stop(&fp);
}

/* The open loop accounts for every scheduled operation: against a server
 * that never answers (the fault peer's silent mode), the due operations
 * are done, unfinished or never started, and the three add up. Then the
 * TTFB timeout ends each request to it, under either of its names. */
static void test_open_loop_accounts_for_every_operation(void **state)
{
    (void)state;
    struct peer fp;
    assert_int_equal(peer_fault(&fp, "silent", NULL), 0);
    char u[64];
    snprintf(u, sizeof u, "https://localhost:%u/", fp.port);
    load_run(60000, "--cacert", pki("ca.pem"), "--rate", "50", "-d", "1", "-c", "4", "--json",
             json_path, u, NULL);
    read_json();
    double due = num("due"), done = num("operations"), unfinished = num("unfinished"),
           never = num("never_started");
    if (due < 10 || never < 1 || done + unfinished + never != due)
        fail_msg("due %.0f != done %.0f + unfinished %.0f + never started %.0f", due, done,
                 unfinished, never);
    assert_non_null(strstr(pr.out, "never started (due, and still waiting for a free connection"));
    /* -c is a ceiling in the open loop, and said so. */
    assert_non_null(strstr(pr.out, "-c 4 (at most that many connections at once)"));
    /* The TTFB timeout has evtls-poll's name, --ttfb-timeout, and its older
     * one: each request to the silent server ends with it, counted. */
    const char *names[] = {"--ttfb-timeout", "--timeout"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "2", "-c", "1", names[i],
                                  "300ms", "--json", json_path, u, NULL),
                         1);
        read_json();
        assert_int_equal(num("errors"), 2);
        assert_non_null(strstr(json, "\"HTTP_TTFB_TIMEOUT\""));
    }
    peer_stop(&fp);
}

/* A closed loop for -d against a port that refuses: each slot backs off
 * (10 ms doubling to 1 s) instead of starting a connect the moment the
 * last one failed (which made some 60,000 a second before). */
static void test_refused_port_backs_off(void **state)
{
    (void)state;
    char u[64];
    snprintf(u, sizeof u, "https://127.0.0.1:%u/", unused_port());
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-d", "2", "-c", "10", "--json",
                              json_path, u, NULL),
                     1);
    read_json();
    double failed = num("connections_failed");
    assert_true(failed >= 10);
    /* Ten slots, each waiting 10, 20, ... 640 ms, then 1 s: at most about
     * 8 tries a slot in 2 s, whatever the machine's speed. */
    assert_true(failed <= 10 * 10);
    assert_int_equal(num("backoffs"), failed);
    /* No phase measured: every phase keeps its key, with nulls. */
    assert_non_null(strstr(json, "\"ttfb\":{\"count\":0,\"min_ms\":null,"));
    assert_non_null(strstr(pr.out, "CONN_REFUSED"));
    assert_non_null(strstr(pr.out, "connect failures: "));
}

/* What users of the anchors look for: counts per status code, a body from
 * a file (--data @FILE), and latency thresholds that set the exit status. */
static void test_codes_data_file_thresholds(void **state)
{
    (void)state;
    char nf[96], ok[96], file[] = "/tmp/evtls-body.XXXXXX";
    snprintf(nf, sizeof nf, "https://localhost:%u/nf", web.port);
    snprintf(ok, sizeof ok, "https://localhost:%u/", web.port);
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "twelve bytes", 12), 12);
    close(fd);
    char data[64];
    snprintf(data, sizeof data, "@%s", file);
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "6", "-c", "2", "-X", "PUT",
                              "--data", data, "--json", json_path, nf, NULL),
                     1);
    read_json();
    assert_non_null(strstr(json, "\"status_codes\":{\"404\":6}"));
    /* The failed requests are in total (as k6, wrk and h2load count them),
     * the successful ones alone in total_ok: none here. */
    assert_int_equal(phase("total", "count"), 6);
    assert_int_equal(phase("ttfb", "count"), 6);
    assert_int_equal(phase("total_ok", "count"), 0);
    assert_non_null(strstr(pr.out, "(total: every operation, failed ones included; total_ok: "));
    assert_non_null(strstr(pr.out, "status codes: 404 x6"));
    /* --log-file: one line per operation, written after the run. */
    char logp[64];
    snprintf(logp, sizeof logp, "/tmp/evtls-load-log-%d", (int)getpid());
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "5", "-c", "2", "--log-file",
                              logp, nf, NULL),
                     1);
    FILE *lf = fopen(logp, "r");
    assert_non_null(lf);
    char line[128];
    int lines = 0;
    unsigned long long start, prev = 0;
    unsigned dur;
    int st;
    char err[32];
    while (fgets(line, sizeof line, lf)) {
        assert_int_equal(sscanf(line, "%llu\t%d\t%31s\t%u", &start, &st, err, &dur), 4);
        assert_int_equal(st, 404);
        assert_string_equal(err, "HTTP_STATUS"); /* as the summary counts it */
        assert_true(start >= prev);              /* by start time */
        prev = start;
        lines++;
    }
    fclose(lf);
    unlink(logp);
    assert_int_equal(lines, 5);
    assert_int_equal(
        load_run(60000, "--cacert", pki("ca.pem"), "--data", "@/nonexistent/body", nf, NULL), 2);
    assert_non_null(strstr(pr.err, "--data @/nonexistent/body: cannot read it"));
    unlink(file);
    /* Several URLs of one origin, taken in turn (h2load's several URIs). */
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "10", "-c", "2",
                              "--max-errors", "5", "--json", json_path, ok, nf, NULL),
                     0);
    read_json();
    assert_non_null(strstr(json, "\"status_codes\":{\"200\":5,\"404\":5}"));
    char other[96];
    snprintf(other, sizeof other, "https://127.0.0.1:%u/", web.port);
    assert_int_equal(load_run(60000, "-n", "1", ok, other, NULL), 2);
    assert_non_null(strstr(pr.err, "share a scheme, host and port"));
    /* --warm-up: run first, counted nowhere; -n counts after it. */
    struct log_count lc;
    read_log(&lc, 0);
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "5", "-c", "1", "--warm-up",
                              "3", "--json", json_path, ok, NULL),
                     0);
    read_json();
    assert_int_equal(num("requests"), 5);
    read_log(&lc, 8);
    assert_int_equal(lc.lines, 8); /* the server saw the warm-up too */
    assert_int_equal(load_run(60000, "-d", "1", "--warm-up", "3", ok, NULL), 2);
    assert_non_null(strstr(pr.err, "--warm-up is for -n runs"));
    /* The warning that the client is its own bottleneck: given exactly when
     * its CPU time reached 90 % of the run's time (whatever this machine
     * did during the run). */
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-d", "1", "-c", "8", "--json",
                              json_path, ok, NULL),
                     0);
    read_json();
    double busy = (num("cpu_user_s") + num("cpu_sys_s")) / num("duration_s");
    assert_true((strstr(pr.err, "it may be the bottleneck") != NULL) == (busy >= 0.9));
    /* Thresholds: a generous one is met (exit 0), one no handshake can
     * meet (1 us) is not (exit 3); a malformed one is a usage error. */
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "10", "-c", "2",
                              "--threshold", "total.p99<60s", ok, NULL),
                     0);
    assert_non_null(strstr(pr.out, "threshold total.p99<60s: met ("));
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "10", "-c", "2",
                              "--threshold", "total.p95<60s", "--threshold", "tls.max<1us",
                              "--json", json_path, ok, NULL),
                     3);
    assert_non_null(strstr(pr.out, "threshold tls.max<1us: NOT met ("));
    /* Any percentile, and each verdict in the JSON with its value. */
    assert_non_null(strstr(pr.out, "threshold total.p95<60s: met ("));
    read_json();
    assert_non_null(strstr(json, "\"thresholds\":[{\"threshold\":\"total.p95<60s\",\"value_ms\":"));
    assert_non_null(strstr(json, "\"met\":true},{\"threshold\":\"tls.max<1us\",\"value_ms\":"));
    const char *tv = strstr(json, "\"threshold\":\"tls.max<1us\"");
    assert_true(num_in(tv, "value_ms") == phase("tls", "max_ms"));
    assert_non_null(strstr(tv, "\"met\":false}"));
    assert_int_equal(load_run(60000, "--threshold", "total.p101<1s", ok, NULL), 2);
    assert_non_null(strstr(pr.err, "--threshold: 'total.p101<1s'"));
}

/* --stages: the open loop's rate ramps 0 to 100/s over 1 s, holds 1 s and
 * ramps down over 1 s: exactly 200 operations are due (50 + 100 + 50),
 * all made, and nginx logged 200; the HTML report marks the stages; -d
 * with stages is a usage error. */
/* The HTML report at path (then removed), in a static buffer. */
static const char *take_page(const char *path)
{
    static char page[512 * 1024];
    FILE *hf = fopen(path, "r");
    assert_non_null(hf);
    page[fread(page, 1, sizeof page - 1, hf)] = '\0';
    fclose(hf);
    unlink(path);
    return page;
}

static void test_stages_exact(void **state)
{
    (void)state;
    struct log_count lc;
    read_log(&lc, 0);
    char html[64];
    snprintf(html, sizeof html, "/tmp/evtls-load-stages-%d.html", (int)getpid());
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-c", "20", "--stages",
                              "1s:100,1s:100,1s:0", "--json", json_path, "--html", html, url, NULL),
                     0);
    /* the report marks the stages: the rate asked on the chart, and a row each */
    const char *page = take_page(html);
    assert_non_null(strstr(page, "asked (--stages)"));
    assert_non_null(strstr(page, "<td class=\"n\">3</td><td class=\"n\">2</td><td "
                                 "class=\"n\">3</td><td class=\"n\">100</td><td "
                                 "class=\"n\">0</td>"));
    read_json();
    read_log(&lc, 200);
    assert_int_equal(num("due"), 200);
    assert_int_equal(num("never_started"), 0);
    assert_int_equal(num("requests"), 200);
    assert_int_equal(lc.lines, 200);
    assert_true(num("duration_s") >= 2.9);
    assert_int_equal(load_run(10000, "--stages", "1s:100", "-d", "5", url, NULL), 2);
    assert_int_equal(load_run(10000, "--stages", "1s:0", url, NULL), 2);
    assert_int_equal(load_run(10000, "--stages", "1s:10,", url, NULL), 2);
}

/* --conn-stages 1s:4,1s:4,1s:0 on two threads (k6's ramping-VUs): four
 * connections join over the first second and leave over the last, each
 * opened once (nginx saw those four), no operation starting after the
 * last left at 3 s (the per-operation log's start times), the run lasting
 * the stages' time; the report lists the stages as connections. */
static void test_conn_stages(void **state)
{
    (void)state;
    struct log_count lc;
    read_log(&lc, 0);
    char logp[64], html[64];
    snprintf(logp, sizeof logp, "/tmp/evtls-load-cs-%d.log", (int)getpid());
    snprintf(html, sizeof html, "/tmp/evtls-load-cs-%d.html", (int)getpid());
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-t", "2", "--conn-stages",
                              "1s:4,1s:4,1s:0", "--log-file", logp, "--html", html, "--json",
                              json_path, url, NULL),
                     0);
    read_json();
    double reqs = num("requests");
    assert_true(reqs > 0);
    assert_int_equal(num("connections"), 4);
    assert_int_equal(num("errors"), 0);
    assert_true(num("duration_s") >= 2.9);
    assert_non_null(strstr(json, "\"ended_by\":\"duration\""));
    int conns, lines;
    h2_log(&web, (int)reqs, &conns, &lines);
    assert_int_equal(conns, 4);
    /* nginx may have answered a request cut off at the end (unfinished) */
    if (lines < (int)reqs || lines > (int)(reqs + num("unfinished")))
        fail_msg("nginx logged %d requests; evtls-load made %.0f and left %.0f unfinished", lines,
                 reqs, num("unfinished"));
    FILE *lf = fopen(logp, "r");
    assert_non_null(lf);
    char line[128];
    unsigned long long start, last = 0;
    int n = 0;
    while (fgets(line, sizeof line, lf) && sscanf(line, "%llu", &start) == 1) {
        last = start > last ? start : last;
        n++;
    }
    fclose(lf);
    unlink(logp);
    assert_int_equal(n, (int)reqs);
    if (last >= 3000000)
        fail_msg("an operation started at %.6f s, after the last connection left at 3 s",
                 (double)last / 1e6);
    const char *page = take_page(html);
    assert_non_null(strstr(page, "<th>connections from</th>"));
    assert_null(strstr(page, "asked (--stages)"));
    assert_int_equal(load_run(10000, "--conn-stages", "1s:2.5", url, NULL), 2);
    assert_int_equal(load_run(10000, "--conn-stages", "1s:4", "--rate", "10", url, NULL), 2);
    assert_int_equal(load_run(10000, "--conn-stages", "1s:4", "--stages", "1s:4", url, NULL), 2);
    assert_int_equal(load_run(10000, "--conn-stages", "1s:1", "-t", "2", url, NULL), 2);
}

/* --series-out: a JSON line as each second ends, each as the result's
 * per-second series has it (the operations that ended in that second,
 * errors, p50 and p99); together every operation of the run. */
static void test_series_out(void **state)
{
    (void)state;
    char file[64];
    snprintf(file, sizeof file, "/tmp/evtls-load-series-%d", (int)getpid());
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-t", "2", "-c", "4", "-d", "3",
                              "--rate", "100", "--series-out", file, "--json", json_path, url,
                              NULL),
                     0);
    read_json();
    FILE *f = fopen(file, "r");
    assert_non_null(f);
    char line[256];
    int lines = 0;
    double total = 0;
    while (fgets(line, sizeof line, f)) {
        int t = (int)num_in(line, "t");
        assert_int_equal(t, lines); /* every second, in order */
        char key[24];
        snprintf(key, sizeof key, "{\"t\":%d,", t);
        const char *s = strstr(json, key);
        assert_non_null(s);
        assert_int_equal(num_in(line, "ops"), num_in(s, "ops"));
        assert_int_equal(num_in(line, "errors"), num_in(s, "errors"));
        total += num_in(line, "ops");
        lines++;
    }
    fclose(f);
    unlink(file);
    assert_true(lines >= 3);
    assert_int_equal(total, num("operations"));
    struct log_count lc;
    read_log(&lc, 0);
}

/* Checks and thresholds (k6's): --expect-body and --expect-header are
 * checks counted apart from errors; --expect-status says what is success;
 * thresholds on errors.rate, checks.rate, rps and a latency with > as
 * well as <; a failed threshold exits 3; --abort-on-threshold ends a run
 * whose check rate fails, after a second. */
static void test_checks_and_thresholds(void **state)
{
    (void)state;
    char nf[160];
    snprintf(nf, sizeof nf, "%snf", url);
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "20", "-c", "2",
                              "--expect-body", "from nginx", "--expect-header",
                              "Content-Type: text/plain", "--threshold", "checks.rate>0.99",
                              "--threshold", "errors.rate<0.01", "--threshold", "rps>1",
                              "--threshold", "total.p50>1us", "--json", json_path, url, NULL),
                     0);
    read_json();
    const char *ck = strstr(json, "\"checks\":{");
    assert_non_null(ck);
    assert_int_equal(num_in(ck, "made"), 40);
    assert_int_equal(num_in(ck, "failed"), 0);
    assert_non_null(strstr(pr.out, "checks: 40 made, 0 failed (100.00 % passed"));
    assert_non_null(strstr(pr.out, "threshold rps>1: met ("));
    /* a body that is not there: the checks fail, the operations do not */
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "20", "-c", "2",
                              "--expect-body", "not in it", "--threshold", "checks.rate>0.99",
                              "--json", json_path, url, NULL),
                     3);
    read_json();
    assert_int_equal(num("errors"), 0);
    assert_int_equal(num_in(strstr(json, "\"checks\":{"), "failed"), 20);
    assert_non_null(strstr(pr.out, "threshold checks.rate>0.99: NOT met (0.0000)"));
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "20", "-c", "2",
                              "--threshold", "rps>100000000", url, NULL),
                     3);
    /* --expect-status: a 404 is the success asked for; a 200 is not */
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "10", "-c", "2",
                              "--expect-status", "404,5xx", "--json", json_path, nf, NULL),
                     0);
    read_json();
    assert_int_equal(num("errors"), 0);
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "10", "-c", "2",
                              "--expect-status", "201-204", "--max-errors", "100", "--threshold",
                              "errors.rate<0.5", "--json", json_path, url, NULL),
                     1); /* none succeeded */
    read_json();
    assert_int_equal(num("errors"), 10);
    assert_non_null(strstr(json, "\"HTTP_STATUS\""));
    /* --abort-on-threshold: the checks fail from the start; the run of 20 s
     * ends after its first second */
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-d", "20", "-c", "2", "--rate",
                              "50", "--expect-body", "not in it", "--threshold", "checks.rate>0.5",
                              "--abort-on-threshold", "--json", json_path, url, NULL),
                     3);
    read_json();
    assert_non_null(strstr(json, "\"ended_by\":\"threshold\""));
    assert_true(num("duration_s") < 10);
    assert_non_null(strstr(pr.err, "the run ends here (--abort-on-threshold)"));
    /* and a latency percentile: total_ok's p50 under 1 us cannot hold, and
     * ends the run once a whole second is in */
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-d", "20", "-c", "2", "--rate",
                              "50", "--threshold", "total_ok.p50<1us", "--threshold",
                              "total_ok.p99>1us", "--abort-on-threshold", "--json", json_path, url,
                              NULL),
                     3);
    read_json();
    assert_non_null(strstr(json, "\"ended_by\":\"threshold\""));
    assert_non_null(strstr(pr.err, "threshold total_ok.p50<1us failed ("));
    assert_null(strstr(pr.err, "threshold total_ok.p99>1us failed"));
    struct log_count lc;
    read_log(&lc, 0);
    assert_int_equal(load_run(10000, "--expect-status", "99", url, NULL), 2);
    assert_int_equal(load_run(10000, "--expect-status", "2xx,", url, NULL), 2);
    assert_int_equal(load_run(10000, "--threshold", "errors.rate<2", url, NULL), 2);
    assert_int_equal(load_run(10000, "--expect-header", "novalue", url, NULL), 2);
}

static void test_bodies_bytes_and_shares(void **state)
{
    (void)state;
    char u[160];
    snprintf(u, sizeof u, "https://localhost:%u/100k", web.port);
    /* A closed loop of 8: the counts are exact. How the 8 were shared
     * among the 4 connections is the scheduler's (a connection whose
     * handshake finished last may get none): only the report's own
     * consistency is asserted (fairness has its bounds in test_fair). */
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "8", "-d", "10m", "-c", "4",
                              "--json", json_path, u, NULL),
                     0);
    read_json();
    assert_true(num("requests") == 8);
    /* Ended by -n: said so, and no "stopped after -d" figure. */
    assert_non_null(strstr(pr.err, "-n and -d both given: the run ends at whichever comes first"));
    assert_non_null(strstr(json, "\"ended_by\":\"requests\""));
    assert_null(strstr(json, "stop_late_ms"));
    assert_non_null(strstr(pr.out, "ended by -n before -d was up"));
    assert_null(strstr(pr.out, "after -d was up\n"));
    assert_true(num("body_bytes") == 8 * BODY_100K);
    assert_true(num("bytes_in") > num("body_bytes"));
    assert_true(num("bytes_in_per_s") > 0);
    double lo = num_in(strstr(json, "\"requests_per_connection\""), "min");
    double hi = num_in(strstr(json, "\"requests_per_connection\""), "max");
    if (lo < 0 || lo > hi || hi > 8 || hi * num("connections") < 8)
        fail_msg("requests per connection: min %.0f, max %.0f", lo, hi);
    assert_non_null(strstr(pr.out, "requests per connection: min "));
    /* The text's unit is MiB (wrk's "MB"), labelled: 8 bodies of 100 KiB. */
    char mib[64];
    snprintf(mib, sizeof mib, "(%.2f MiB of bodies)", 8.0 * BODY_100K / (1024.0 * 1024.0));
    if (strstr(pr.out, mib) == NULL)
        fail_msg("no '%s' in:\n%s", mib, pr.out);
    /* For -d, what was done in the time is the machine's: the figures
     * must agree with each other, whatever their size. */
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-d", "2", "-c", "4", "--json",
                              json_path, u, NULL),
                     0);
    read_json();
    assert_true(num("body_bytes") == num("requests") * BODY_100K);
    assert_true(num("bytes_in") >= num("body_bytes"));
    assert_non_null(
        strstr(json, "\"stop_late_ms\":")); /* its value is wall-clock: not bounded here */
    assert_non_null(strstr(json, "\"ended_by\":\"duration\""));
    assert_non_null(strstr(pr.out, "requests per connection: min "));
    snprintf(mib, sizeof mib, "(%.2f MiB of bodies)", num("body_bytes") / (1024.0 * 1024.0));
    if (strstr(pr.out, mib) == NULL)
        fail_msg("no '%s' in:\n%s", mib, pr.out);
    assert_non_null(strstr(pr.out, "ms after -d was up"));
    /* --max-body: below the body, every request fails as too large, named. */
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "3", "-c", "1", "--max-body",
                              "50000", "--json", json_path, u, NULL),
                     1);
    read_json();
    assert_int_equal(num("errors"), 3);
    assert_non_null(strstr(json, "\"code\":\"HTTP_BODY_TOO_LARGE\""));
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-n", "3", "-c", "1", "--max-body",
                              "100000", u, NULL),
                     0);
}

static void test_exit_codes_and_usage(void **state)
{
    (void)state;
    /* Nothing listens: every operation fails; exit 1. */
    char dead[64];
    snprintf(dead, sizeof dead, "127.0.0.1:%u", unused_port());
    assert_int_equal(load_run(30000, "-n", "5", "-c", "1", dead, NULL), 1);
    assert_non_null(strstr(pr.out, "CONN_REFUSED"));
    /* An untrusted server (no --cacert): classified as a certificate error. */
    assert_int_equal(load_run(30000, "-n", "3", "-c", "1", "--json", json_path, hostport, NULL), 1);
    read_json();
    assert_non_null(strstr(json, "\"class\":\"cert\""));
    assert_int_equal(num("errors"), 3);
    /* --insecure warns once. */
    assert_int_equal(load_run(30000, "--insecure", "-n", "20", "-c", "2", hostport, NULL), 0);
    assert_int_equal(count_of(pr.err, "WARNING: --insecure"), 1);
    /* Usage errors: exit 2, naming what is wrong. */
    static const struct {
        const char *args[5];
        const char *says;
    } bad[] = {
        {{"-c", "0", "x:1"}, "--connections"},
        {{"--rate", "-5", "x:1"}, "--rate"},
        {{"--resume-ratio", "1.5", "x:1"}, "--resume-ratio"},
        {{"-d", "10parsecs", "x:1"}, "--duration"},
        {{"--mode", "flood", "x:1"}, "--mode"},
        {{"--source", "host.example", "x:1"}, "--source"},
        {{"--tls-min", "1.1", "x:1"}, "--tls-min"},
        {{"-m", "request", "x:1"}, "needs an https:// or http:// URL"},
        {{"--requests-per-conn", "3", "x:1"}, "is for --mode request"},
        {{"-M", "5", "https://x/"}, "--max-concurrent-streams needs --http2"},
        {{"--http2", "-M", "0", "https://x/"}, "--max-concurrent-streams"},
        {{"--http2", "-m", "hold", "x:1"}, "not with HTTP/2"},
        {{"--no-resume", "--resume-ratio", "0.5", "x:1"}, "--no-resume and --resume-ratio 0.50"},
        {{"-t", "3", "-c"}, "needs a value"},
        {{"ftp://x/", NULL}, "unsupported scheme"},
        {{"--bogus", "x:1"}, "unknown option"},
        {{"--conections", "5", "x:1"},
         "unknown option '--conections' (did you mean '--connections'?)"},
        {{"--connecti", "5", "x:1"}, "unknown option '--connecti' (did you mean '--connections'?)"},
        {{"--ciphers", "NOT-A-CIPHER", "x:1"}, "TLS configuration"},
        /* Families that cannot meet are refused before the run. */
        {{"--family", "6", "127.0.0.1:1"}, "--family 6 and the IPv4 address 127.0.0.1"},
        {{"--source", "::1", "127.0.0.1:1"}, "--source ::1 cannot reach the IPv4 address"},
        {{"--family", "4", "--address", "::1", "x:1"}, "--family 4 and the IPv6 address ::1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *argv[8] = {EVTLS_LOAD_PATH};
        int n = 1;
        for (int k = 0; k < 5 && bad[i].args[k]; k++)
            argv[n++] = bad[i].args[k];
        argv[n] = NULL;
        int st = proc_run(&pr, argv, 10000);
        if (st != 2 || strstr(pr.err, bad[i].says) == NULL)
            fail_msg("case %zu: status %d, stderr: %s (expected 2 and '%s')", i, st, pr.err,
                     bad[i].says);
    }
    /* --json -: the JSON object alone on stdout, the summary on stderr. */
    assert_int_equal(load_run(30000, "--cacert", pki("ca.pem"), "-n", "5", "-c", "1", "--json", "-",
                              hostport, NULL),
                     0);
    assert_int_equal(pr.out[0], '{');
    assert_int_equal(count_of(pr.out, "\n"), 1);
    assert_int_equal(num_in(pr.out, "connections"), 5);
    assert_non_null(strstr(pr.err, "latency (ms)"));
    assert_int_equal(access("-", F_OK), -1); /* no file named '-' */
    assert_int_equal(load_run(10000, "--help", NULL), 0);
    assert_non_null(strstr(pr.out, "--resume-ratio"));
    assert_non_null(strstr(pr.out, "--rate"));
}

/* --early-data-ratio against nginx with ssl_early_data behind the
 * delaying relay: of the 38 connections that offer a session (the first
 * two of 40 have none), exactly half give their request to the
 * ClientHello; nginx logs as many early requests, each request once; every
 * new connection's first response has its time from the connect's start
 * (ttfb_conn). A 425 sends the request again once, without early data. */
static struct peer early_web, early_relay;

static int stop_early_peers(void **state)
{
    (void)state;
    peer_stop(&early_relay);
    peer_stop(&early_web);
    return 0;
}

/* nginx's lines once it holds want: how many, how many early, how many
 * 425s; the log is emptied. */
static void early_log(int want, int *lines, int *early, int *s425)
{
    static int status[64];
    static char e[64][4];
    *lines = peer_nginx_early_log(&early_web, want, status, e, 64);
    assert_true(*lines >= 0 && *lines <= 64);
    *early = *s425 = 0;
    for (int i = 0; i < *lines; i++) {
        *early += strcmp(e[i], "1") == 0;
        *s425 += status[i] == 425;
    }
}

static double early_num(const char *key)
{
    const char *e = strstr(json, "\"early_data\":{");
    assert_non_null(e);
    return num_in(e, key);
}

static void test_early_data_ratio(void **state)
{
    (void)state;
    evtls_build_info bi = EVTLS_BUILD_INFO_INIT;
    assert_int_equal(evtls_get_build_info(&bi), 0);
    if (!bi.early_data) {
        assert_int_equal(
            load_run(30000, "--resume-ratio", "1", "--early-data-ratio", "1", "-n", "1", url, NULL),
            2);
        assert_non_null(strstr(pr.err, "--enable-earlydata"));
        return;
    }
    assert_int_equal(peer_nginx(&early_web, "ssl_early_data on; keepalive_timeout 60s; location "
                                            "/too-early { if ($ssl_early_data) { return 425; } "
                                            "return 200 \"late\\n\"; }"),
                     0);
    assert_int_equal(peer_relay(&early_relay, early_web.port, 10, NULL), 0);
    char u[96], late[96];
    snprintf(u, sizeof u, "https://localhost:%u/", early_relay.port);
    snprintf(late, sizeof late, "https://localhost:%u/too-early", early_relay.port);
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-t", "1", "-c", "2", "-n", "40",
                              "--requests-per-conn", "1", "--resume-ratio", "1",
                              "--early-data-ratio", "0.5", "--json", json_path, u, NULL),
                     0);
    read_json();
    assert_int_equal(num("offers_missed"), 2);
    assert_int_equal(early_num("accepted") + early_num("rejected") + early_num("not_sent"), 19);
    assert_int_equal(early_num("accepted"), 19);
    assert_true(early_num("bytes") > 19 * 20);
    assert_int_equal(phase("ttfb_conn", "count"), 40);
    assert_true(phase("ttfb_conn", "p50_ms") >= phase("ttfb", "p50_ms"));
    int lines, early, s425;
    early_log(40, &lines, &early, &s425);
    assert_int_equal(lines, 40);
    assert_int_equal(early, 19);
    assert_non_null(strstr(pr.out, "19 accepted"));
    /* 425: each accepted request is sent again once; every operation succeeds */
    assert_int_equal(load_run(60000, "--cacert", pki("ca.pem"), "-t", "1", "-c", "2", "-n", "10",
                              "--requests-per-conn", "1", "--resume-ratio", "1",
                              "--early-data-ratio", "1", "--json", json_path, late, NULL),
                     0);
    read_json();
    assert_int_equal(num("errors"), 0);
    int acc = (int)early_num("accepted");
    assert_true(acc >= 1);
    assert_int_equal(early_num("too_early"), acc);
    early_log(10 + acc, &lines, &early, &s425);
    assert_int_equal(lines, 10 + acc);
    assert_int_equal(s425, acc);
    /* what cannot go early */
    assert_int_equal(load_run(10000, "--resume-ratio", "1", "--early-data-ratio", "0.5", "-X",
                              "POST", "-n", "1", u, NULL),
                     2);
    assert_non_null(strstr(pr.err, "a POST is never sent early"));
    assert_int_equal(load_run(10000, "--early-data-ratio", "0.5", "-n", "1", u, NULL), 2);
    assert_int_equal(
        load_run(10000, "--resume-ratio", "1", "--early-data-ratio", "2", "-n", "1", u, NULL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_mode),
        cmocka_unit_test(test_resume_ratio_tls13),
        cmocka_unit_test(test_resume_ratio_tls12),
        cmocka_unit_test(test_handshake_mode_resumes_tls13),
        cmocka_unit_test(test_keep_alive_requests),
        cmocka_unit_test(test_http2_streams),
        cmocka_unit_test(test_rate_within_five_percent),
        cmocka_unit_test(test_progress_only_on_a_terminal),
        cmocka_unit_test(test_server_gone_mid_run),
        cmocka_unit_test(test_addresses_and_source),
        cmocka_unit_test(test_hold_mode),
        cmocka_unit_test(test_connections_at_server),
        cmocka_unit_test(test_client_certificate),
        cmocka_unit_test(test_interrupted_exits_130),
        cmocka_unit_test(test_keep_alive_race),
        cmocka_unit_test(test_open_loop_accounts_for_every_operation),
        cmocka_unit_test(test_refused_port_backs_off),
        cmocka_unit_test(test_codes_data_file_thresholds),
        cmocka_unit_test(test_bodies_bytes_and_shares),
        cmocka_unit_test(test_exit_codes_and_usage),
        cmocka_unit_test(test_session_file),
        cmocka_unit_test(test_request_timeout_and_columns),
        cmocka_unit_test(test_checks_and_thresholds),
        cmocka_unit_test(test_stages_exact),
        cmocka_unit_test(test_conn_stages),
        cmocka_unit_test(test_series_out),
        cmocka_unit_test_teardown(test_early_data_ratio, stop_early_peers),
    };
    return cmocka_run_group_tests_name("load", tests, group_setup, group_teardown);
}
