/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_pool.c - the pool against nginx on loopback: reuse on one TCP
 * connection (nginx's log says so), limits and FIFO waiting, waiter
 * timeouts, idle expiry, idle connections the server closed, session
 * resumption for TLS 1.2 and 1.3 (nginx's $ssl_session_reused and the
 * pool's stats agree), a session file used by another process, shutdown. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "peer.h"

static struct peer web;

static int group_setup(void **state)
{
    (void)state;
    return peer_nginx(&web, "keepalive_requests 100000; keepalive_timeout 60s;");
}

static int group_teardown(void **state)
{
    (void)state;
    peer_stop(&web);
    return 0;
}

/* nginx's access log: one line per request, "conn reqs proto reused status". */
struct logline {
    long conn;
    int reqs;
    char proto[16];
    char reused[4];
    int status;
};

static int read_log(struct logline *out, int max)
{
    char path[512];
    snprintf(path, sizeof path, "%s/access.log", web.dir);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return 0;
    int n = 0;
    while (n < max && fscanf(fp, "%ld %d %15s %3s %d%*[^\n]", &out[n].conn, &out[n].reqs,
                             out[n].proto, out[n].reused, &out[n].status) == 5)
        n++;
    fclose(fp);
    return n;
}

static int log_lines(void)
{
    static struct logline l[4096];
    return read_log(l, 4096);
}

/* ---- one checkout, synchronously */

static uint16_t port_now; /* the nginx the current test talks to */

static int checkout_wait(struct loop_fx *f, evtls_pool *p, evtls_cfg *cfg, struct got *g)
{
    return pool_checkout_wait(f->base, p, cfg, "localhost", port_now ? port_now : web.port, g);
}

/* ---- one keep-alive request on a connection */

struct resp {
    int done, err;
    char buf[4096];
    size_t len;
};

static void on_read(evtls_conn *c, const uint8_t *d, ssize_t n, void *arg)
{
    (void)c;
    struct resp *r = arg;
    if (n < 0) {
        if (!r->done) /* close_notify after a whole answer is no error */
            r->err = (int)n;
        r->done = 1;
        return;
    }
    size_t k = (size_t)n < sizeof r->buf - 1 - r->len ? (size_t)n : sizeof r->buf - 1 - r->len;
    memcpy(r->buf + r->len, d, k);
    r->len += k;
    r->buf[r->len] = '\0';
    /* The answer is "hello from nginx\n" (17 bytes) after the headers. */
    char *body = strstr(r->buf, "\r\n\r\n");
    if (body && strlen(body + 4) >= 17)
        r->done = 1;
}

static int get(struct loop_fx *f, evtls_conn *c, const char *extra_header)
{
    char req[256];
    snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: localhost\r\n%s\r\n",
             extra_header ? extra_header : "");
    struct resp r = {0};
    if (evtls_conn_write(c, req, strlen(req)) != 0)
        return -1;
    evtls_conn_read_start(c, on_read, &r);
    run_until(f->base, &r.done, 5000);
    evtls_conn_read_stop(c);
    return r.done && r.err == 0 && strstr(r.buf, " 200 ") ? 0 : -1;
}

static evtls_cfg *cfg_versions(evtls_tls_version lo, evtls_tls_version hi)
{
    evtls_cfg *cfg = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_tls_versions(cfg, lo, hi), 0);
    return cfg;
}

static void test_sequential_reuse_one_connection(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool *p = evtls_pool_new(f->base, NULL);
    evtls_cfg *cfg = test_cfg(0, 0);
    int before = log_lines();
    for (int i = 0; i < 20; i++) {
        struct got g;
        assert_int_equal(checkout_wait(f, p, cfg, &g), 0);
        assert_int_equal(g.info.reused, i > 0);
        assert_int_equal(get(f, g.c, NULL), 0);
        assert_int_equal(evtls_pool_checkin(p, g.c), 0);
    }
    peer_nginx_log(&web, before + 20);
    static struct logline l[4096];
    int n = read_log(l, 4096);
    assert_int_equal(n - before, 20);
    for (int i = before + 1; i < n; i++)
        assert_int_equal(l[i].conn, l[before].conn); /* one TCP connection */
    assert_int_equal(l[n - 1].reqs, 20);
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.created, 1);
    assert_int_equal(st.reused, 19);
    assert_int_equal(st.checkouts, 20);
    assert_int_equal(st.idle, 1);
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
}

/* ---- 1,000 checkouts, at most 50 connections, served in order */

struct crowd {
    evtls_pool *p;
    int next, served, errors, order_ok, max_open;
};

static void crowd_state(evtls_pool *p, evtls_conn *c, evtls_pool_conn_state from,
                        evtls_pool_conn_state to, void *arg)
{
    (void)c;
    (void)from;
    (void)to;
    struct crowd *cr = arg;
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    int open = (int)(st.idle + st.busy + st.connecting);
    if (open > cr->max_open)
        cr->max_open = open;
}

static struct crowd crowd;
static int crowd_index[1000];

static void crowd_cb(evtls_pool *p, evtls_conn *c, int err, const evtls_checkout_info *i, void *arg)
{
    (void)i;
    int idx = *(int *)arg;
    if (idx != crowd.next)
        crowd.order_ok = 0;
    crowd.next++;
    crowd.served++;
    if (err) {
        crowd.errors++;
        return;
    }
    assert_int_equal(evtls_pool_checkin(p, c), 0);
}

static void test_limit_and_fifo(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool_opts o;
    evtls_pool_opts_default(&o);
    o.max_per_origin = 50;
    evtls_pool *p = evtls_pool_new(f->base, &o);
    memset(&crowd, 0, sizeof crowd);
    crowd.order_ok = 1;
    evtls_pool_set_state_cb(p, crowd_state, &crowd);
    evtls_cfg *cfg = test_cfg(0, 0);
    for (int i = 0; i < 1000; i++) {
        crowd_index[i] = i;
        assert_int_equal(
            evtls_pool_checkout(p, cfg, "localhost", web.port, crowd_cb, &crowd_index[i], NULL), 0);
    }
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.waiting, 1000);
    if (st.connecting != 50)
        fail_msg("connecting %u idle %u busy %u", st.connecting, st.idle, st.busy);
    int all = 0;
    for (unsigned t = 0; t < 30000 * test_time_scale() && crowd.served < 1000; t += 10)
        run_for(f->base, 10);
    all = crowd.served;
    assert_int_equal(all, 1000);
    assert_int_equal(crowd.errors, 0);
    assert_true(crowd.order_ok);
    assert_true(crowd.max_open <= 50);
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.created + st.connecting, 50); /* a few may still be connecting */
    assert_int_equal(st.waiting, 0);
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
}

static void test_waiter_timeout(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool_opts o;
    evtls_pool_opts_default(&o);
    o.max_per_origin = 1;
    o.wait_timeout_ms = 200;
    evtls_pool *p = evtls_pool_new(f->base, &o);
    evtls_cfg *cfg = test_cfg(0, 0);
    struct got a, b;
    assert_int_equal(checkout_wait(f, p, cfg, &a), 0);
    uint64_t t0 = now_ms();
    assert_int_equal(checkout_wait(f, p, cfg, &b), EVTLS_ERR_POOL_WAIT_TIMEOUT);
    assert_true(now_ms() - t0 >= 190); /* the wait timer's, not sooner */
    assert_null(b.c);
    assert_true(b.info.wait_us >= 190000);
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.wait_timeouts, 1);
    evtls_pool_release(p, a.c);
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
}

static void test_idle_expiry(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool_opts o;
    evtls_pool_opts_default(&o);
    o.idle_timeout_ms = 300;
    evtls_pool *p = evtls_pool_new(f->base, &o);
    evtls_cfg *cfg = test_cfg(0, 0);
    struct got g;
    assert_int_equal(checkout_wait(f, p, cfg, &g), 0);
    assert_int_equal(evtls_pool_checkin(p, g.c), 0);
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.idle, 1);
    /* The expiry timer closes it: the loop runs until then (a safety
     * limit bounds a hang), and not before the idle timeout. */
    uint64_t t0 = now_ms();
    while (st.idle == 1 && now_ms() - t0 < 10000 * test_time_scale()) {
        event_base_loop(f->base, EVLOOP_ONCE);
        evtls_pool_get_stats(p, &st);
    }
    assert_true(now_ms() - t0 >= 290);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.expired, 1);
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
}

static void test_server_closed_idle_is_replaced(void **state)
{
    struct loop_fx *f = *state;
    /* An nginx that closes keep-alive connections after 1 s of silence
     * (close_notify + FIN) while they sit idle in the pool. */
    struct peer quick;
    assert_int_equal(peer_nginx(&quick, "keepalive_timeout 1s;"), 0);
    port_now = quick.port;
    evtls_pool *p = evtls_pool_new(f->base, NULL);
    evtls_cfg *cfg = test_cfg(0, 0);
    struct got g;
    assert_int_equal(checkout_wait(f, p, cfg, &g), 0);
    assert_int_equal(get(f, g.c, NULL), 0);
    /* Wait for nginx's close to reach the idle connection's socket. */
    struct pollfd pf = {evtls_conn_get_fd(g.c), POLLRDHUP, 0};
    assert_int_equal(evtls_pool_checkin(p, g.c), 0);
    assert_int_equal(poll(&pf, 1, (int)(10000 * test_time_scale())), 1);
    assert_int_equal(checkout_wait(f, p, cfg, &g), 0); /* no error surfaces */
    assert_int_equal(g.info.reused, 0);
    assert_int_equal(get(f, g.c, NULL), 0);
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.dead_idle, 1);
    assert_int_equal(st.created, 2);
    evtls_pool_checkin(p, g.c);
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
    port_now = 0;
    peer_stop(&quick);
}

/* New connections each time (release), so every one is a handshake. */
static void resume_rounds(struct loop_fx *f, evtls_pool *p, evtls_cfg *cfg, const char *proto)
{
    int before = log_lines();
    for (int i = 0; i < 3; i++) {
        struct got g;
        assert_int_equal(checkout_wait(f, p, cfg, &g), 0);
        assert_int_equal(g.info.reused, 0);
        assert_int_equal(g.info.resumed, i > 0);
        assert_int_equal(get(f, g.c, NULL), 0);
        evtls_pool_release(p, g.c);
    }
    peer_nginx_log(&web, before + 3);
    static struct logline l[4096];
    int n = read_log(l, 4096);
    assert_int_equal(n - before, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(l[before + i].proto, proto);
        assert_string_equal(l[before + i].reused, i == 0 ? "." : "r");
    }
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.created, 3);
    assert_int_equal(st.resumed, 2);
    assert_int_equal(st.resume_refused, 0);
}

static void test_resumption_tls13(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool *p = evtls_pool_new(f->base, NULL);
    evtls_cfg *cfg = cfg_versions(EVTLS_TLS_1_3, EVTLS_TLS_1_3);
    resume_rounds(f, p, cfg, "TLSv1.3");
    evtls_session_stats ss;
    evtls_session_cache_get_stats(evtls_pool_get_session_cache(p), &ss);
    assert_int_equal(ss.resumed, 2);
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
}

static void test_resumption_tls12(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool *p = evtls_pool_new(f->base, NULL);
    evtls_cfg *cfg = cfg_versions(EVTLS_TLS_1_2, EVTLS_TLS_1_2);
    resume_rounds(f, p, cfg, "TLSv1.2");
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
}

/* The child process of test_session_file_across_processes: a fresh
 * program (this one, run again) with nothing but the file. Exits 0 when it
 * loaded sessions and resumed one. */
static int resume_from_file(const char *path, uint16_t port)
{
    struct event_base *base = event_base_new();
    evtls_session_cache *sc = evtls_session_cache_new(0);
    int loaded = evtls_session_cache_load(sc, path);
    evtls_cfg *cfg = cfg_versions(EVTLS_TLS_1_3, EVTLS_TLS_1_3);
    evtls_conn *c = evtls_conn_new(base, cfg);
    evtls_conn_set_session_cache(c, sc);
    struct connect_result r;
    int rc = connect_wait(base, c, "localhost", port, &r);
    int resumed = rc == 0 && evtls_conn_get_info(c)->resumed;
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    evtls_session_cache_unref(sc);
    event_base_free(base);
    return loaded > 0 && resumed ? 0 : 10 + (loaded > 0) + 2 * (rc == 0);
}

static const char *self; /* argv[0]: /proc/self/exe is valgrind's own under valgrind */

static int child_resumes(const char *path)
{
    char port[16];
    snprintf(port, sizeof port, "%u", web.port);
    pid_t pid = fork();
    if (pid == 0) {
        execl(self, self, "--resume-from", path, port, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_session_file_across_processes(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool *p = evtls_pool_new(f->base, NULL);
    evtls_cfg *cfg = cfg_versions(EVTLS_TLS_1_3, EVTLS_TLS_1_3);
    struct got g;
    assert_int_equal(checkout_wait(f, p, cfg, &g), 0);
    assert_int_equal(get(f, g.c, NULL), 0); /* the tickets arrive with the answer */
    evtls_pool_checkin(p, g.c);
    char path[] = "/tmp/evtls-sessions-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    assert_int_equal(evtls_session_cache_save(evtls_pool_get_session_cache(p), path), 0);
    assert_int_equal(child_resumes(path), 0);
    /* A malformed file loads nothing and says so. */
    FILE *fp = fopen(path, "w");
    fputs("evtls-sessions 1\nkey\t1\tnot-hex\n", fp);
    fclose(fp);
    evtls_session_cache *sc = evtls_session_cache_new(0);
    assert_int_equal(evtls_session_cache_load(sc, path), EVTLS_ERR_INVALID_ARG);
    evtls_session_stats ss;
    evtls_session_cache_get_stats(sc, &ss);
    assert_int_equal(ss.sessions, 0);
    evtls_session_cache_unref(sc);
    unlink(path);
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
}

static void test_max_uses_and_warm_up(void **state)
{
    struct loop_fx *f = *state;
    evtls_cfg *cfg = test_cfg(0, 0);
    evtls_pool_opts o;
    evtls_pool_opts_default(&o);
    o.max_uses = 2;
    evtls_pool *p = evtls_pool_new(f->base, &o);
    struct got g;
    evtls_conn *used[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(checkout_wait(f, p, cfg, &g), 0);
        used[i] = g.c;
        assert_int_equal(evtls_pool_checkin(p, g.c), 0);
    }
    assert_ptr_equal(used[0], used[1]); /* the same connection, twice */
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.expired, 1); /* closed at its 2nd check-in */
    assert_int_equal(st.idle, 0);
    evtls_pool_free(p);
    /* Warm-up: one checkout makes the origin known; the pool keeps 2 idle. */
    evtls_pool_opts_default(&o);
    o.min_idle_per_origin = 2;
    p = evtls_pool_new(f->base, &o);
    assert_int_equal(checkout_wait(f, p, cfg, &g), 0);
    assert_int_equal(evtls_pool_checkin(p, g.c), 0);
    uint64_t t0 = now_ms();
    do {
        event_base_loop(f->base, EVLOOP_ONCE);
        evtls_pool_get_stats(p, &st);
    } while (st.idle < 2 && now_ms() - t0 < 10000 * test_time_scale());
    assert_int_equal(st.idle, 2);
    assert_int_equal(st.created, 2);
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
}

static int shut_called, shut_err;
static void on_shutdown(evtls_pool *p, int err, void *arg)
{
    (void)p;
    (void)arg;
    shut_called++;
    shut_err = err;
}

static void test_graceful_shutdown(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool *p = evtls_pool_new(f->base, NULL);
    evtls_cfg *cfg = test_cfg(0, 0);
    struct got a, b;
    assert_int_equal(checkout_wait(f, p, cfg, &a), 0);
    assert_int_equal(checkout_wait(f, p, cfg, &b), 0);
    evtls_pool_checkin(p, b.c); /* one idle, one busy */
    shut_called = 0;
    evtls_pool_shutdown(p, 5000, on_shutdown, NULL);
    struct got c;
    assert_int_equal(evtls_pool_checkout(p, cfg, "localhost", web.port, got_checkout_cb, &c, NULL),
                     EVTLS_ERR_POOL_CLOSED);
    run_for(f->base, 100);
    assert_int_equal(shut_called, 0); /* the busy one is still out */
    assert_int_equal(get(f, a.c, NULL), 0);
    evtls_pool_checkin(p, a.c);
    run_until(f->base, &shut_called, 5000);
    assert_int_equal(shut_called, 1);
    assert_int_equal(shut_err, 0);
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.idle + st.busy + st.connecting, 0);
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--resume-from") == 0)
        return resume_from_file(argv[2], (uint16_t)atoi(argv[3]));
    self = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sequential_reuse_one_connection, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_limit_and_fifo, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_waiter_timeout, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_idle_expiry, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_server_closed_idle_is_replaced, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_resumption_tls13, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_resumption_tls12, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_session_file_across_processes, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_graceful_shutdown, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_max_uses_and_warm_up, loop_fx_setup, loop_fx_teardown),
    };
    return cmocka_run_group_tests_name("pool", tests, group_setup, group_teardown);
}
