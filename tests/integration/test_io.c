/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_io.c - an established connection: exchanges, backpressure, the
 * three ways to close, closing from inside callbacks, and the polling API
 * driven by poll(2) with no libevent loop of the caller's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "peer.h"

struct fx {
    struct event_base *base;
    int fds;
    struct peer p;
    evtls_cfg *cfg;
};

static int setup_nginx(void **state)
{
    static struct fx f;
    f.fds = count_open_fds();
    f.base = event_base_new();
    if (peer_nginx(&f.p, NULL) != 0)
        return -1;
    f.cfg = test_cfg(0, 0);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    evtls_cfg_unref(f->cfg);
    peer_stop(&f->p);
    return finish_loop(f->base, f->fds);
}

static evtls_conn *connected(struct fx *f, uint16_t port)
{
    evtls_conn *c = evtls_conn_new(f->base, f->cfg);
    struct connect_result r;
    assert_int_equal(connect_wait(f->base, c, "localhost", port, &r), 0);
    return c;
}

/* ---- keep-alive exchanges and a graceful close */

struct reader {
    char buf[65536];
    size_t len;
    int end;
    int responses;
};

static void count_responses(evtls_conn *c, const uint8_t *data, ssize_t n, void *arg)
{
    (void)c;
    struct reader *rd = arg;
    if (n <= 0) {
        rd->end = (int)n;
        return;
    }
    memcpy(rd->buf + rd->len, data, (size_t)n);
    rd->len += (size_t)n;
    rd->buf[rd->len] = '\0';
    rd->responses = 0;
    for (const char *p = rd->buf; (p = strstr(p, "hello from nginx\n")) != NULL; p++)
        rd->responses++;
}

struct closed {
    int called, err;
};

static void on_closed(evtls_conn *c, int err, void *arg)
{
    (void)c;
    struct closed *cl = arg;
    cl->called++;
    cl->err = err;
}

static void test_keepalive_and_graceful_close(void **state)
{
    struct fx *f = *state;
    evtls_conn *c = connected(f, f->p.port);
    struct reader rd = {.len = 0};
    assert_int_equal(evtls_conn_read_start(c, count_responses, &rd), 0);
    static const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(evtls_conn_write(c, req, sizeof req - 1), 0);
        for (unsigned t = 0; t < 100 * test_time_scale() && rd.responses < i; t++)
            run_for(f->base, 20);
        assert_int_equal(rd.responses, i);
    }
    assert_true(evtls_conn_get_info(c)->bytes_in > 0);
    struct closed cl = {0, -1};
    assert_int_equal(evtls_conn_close(c, on_closed, &cl), 0);
    /* Never from inside the call. */
    assert_int_equal(cl.called, 0);
    assert_int_equal(evtls_conn_close(c, on_closed, &cl), EVTLS_ERR_STATE);
    run_until(f->base, &cl.called, 5000);
    assert_int_equal(cl.called, 1);
    assert_int_equal(cl.err, 0);
    /* nginx saw three requests on one connection. */
    char log[512];
    snprintf(log, sizeof log, "%s/access.log", f->p.dir);
    FILE *fp = fopen(log, "r");
    assert_non_null(fp);
    int lines = 0;
    for (int ch; (ch = fgetc(fp)) != EOF;)
        lines += ch == '\n';
    fclose(fp);
    assert_int_equal(lines, 3);
}

/* ---- backpressure: a peer that stops reading */

struct drain {
    int count;
};

static void on_drain(evtls_conn *c, void *arg)
{
    (void)c;
    ((struct drain *)arg)->count++;
}

static void test_backpressure(void **state)
{
    struct fx *f = *state;
    struct peer s;
    const char *args[] = {"-cert", pki("server.pem"), "-key", pki("server.key"), NULL};
    assert_int_equal(peer_s_server(&s, args), 0);
    evtls_conn *c = connected(f, s.port);
    /* The peer stops reading: the client must buffer only up to its limit. */
    kill(s.pid, SIGSTOP);
    assert_int_equal(evtls_conn_set_write_limit(c, 32768), 0);
    struct drain d = {0};
    evtls_conn_set_drain_cb(c, on_drain, &d);
    size_t accepted;
    int rc = write_until_refused(f->base, c, 4096, 10000, &accepted);
    assert_int_equal(rc, EVTLS_ERR_WOULDBLOCK);
    assert_true(evtls_conn_get_write_pending(c) <= 32768);
    assert_true(accepted > 32768); /* the kernel took some, then it stopped */
    assert_true(accepted < 16 * 1024 * 1024);
    run_for(f->base, 50);
    assert_true(evtls_conn_get_write_pending(c) > 0); /* still stuck */
    d.count = 0; /* drains while the kernel still took data do not count */
    /* The peer reads again: the buffer drains and the callback says so. */
    kill(s.pid, SIGCONT);
    char sink[65536];
    for (unsigned t = 0; t < 500 * test_time_scale() && d.count == 0; t++) {
        run_for(f->base, 10);
        peer_output(&s, sink, sizeof sink); /* s_server echoes what it reads */
    }
    assert_true(d.count >= 1);
    assert_int_equal(evtls_conn_get_write_pending(c), 0);
    evtls_conn_free(c);
    peer_stop(&s);
}

/* ---- closing from inside callbacks */

static void free_in_connect_cb(evtls_conn *c, int err, void *arg)
{
    assert_int_equal(err, 0);
    *(int *)arg = 1;
    evtls_conn_free(c); /* the library must not touch c afterwards */
}

static void test_free_inside_callback(void **state)
{
    struct fx *f = *state;
    evtls_conn *c = evtls_conn_new(f->base, f->cfg);
    int done = 0;
    assert_int_equal(evtls_conn_connect(c, "localhost", f->p.port, free_in_connect_cb, &done), 0);
    run_until(f->base, &done, 5000);
    assert_int_equal(done, 1);
}

static void close_in_read_cb(evtls_conn *c, const uint8_t *data, ssize_t n, void *arg)
{
    (void)data;
    (void)n;
    struct closed *cl = arg;
    assert_int_equal(evtls_conn_close(c, on_closed, cl), 0);
}

static void test_close_inside_read_callback(void **state)
{
    struct fx *f = *state;
    evtls_conn *c = connected(f, f->p.port);
    struct closed cl = {0, -1};
    assert_int_equal(evtls_conn_read_start(c, close_in_read_cb, &cl), 0);
    static const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    assert_int_equal(evtls_conn_write(c, req, sizeof req - 1), 0);
    run_until(f->base, &cl.called, 5000);
    assert_int_equal(cl.called, 1);
    assert_int_equal(cl.err, 0);
}

static void test_abort_and_close_while_connecting(void **state)
{
    struct fx *f = *state;
    evtls_conn *c = evtls_conn_new(f->base, f->cfg);
    int never = 0;
    assert_int_equal(evtls_conn_connect(c, "localhost", f->p.port, free_in_connect_cb, &never), 0);
    evtls_conn_abort(c); /* before the loop ran: nothing may fire */
    run_for(f->base, 100);
    assert_int_equal(never, 0);

    c = evtls_conn_new(f->base, f->cfg);
    assert_int_equal(evtls_conn_connect(c, "localhost", f->p.port, free_in_connect_cb, &never), 0);
    struct closed cl = {0, -1};
    assert_int_equal(evtls_conn_close(c, on_closed, &cl), 0);
    run_until(f->base, &cl.called, 2000);
    assert_int_equal(cl.called, 1);
    assert_int_equal(never, 0);

    /* Usage errors are returned, never called back. */
    c = evtls_conn_new(f->base, f->cfg);
    assert_int_equal(evtls_conn_connect(c, "", 443, free_in_connect_cb, &never),
                     EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_conn_connect(c, "a b", 443, free_in_connect_cb, &never),
                     EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_conn_connect(c, "[1.2.3.4]", 443, free_in_connect_cb, &never),
                     EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_conn_connect(c, "localhost", 0, free_in_connect_cb, &never),
                     EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_conn_write(c, "x", 1), EVTLS_ERR_STATE);
    evtls_conn_free(c);
    run_for(f->base, 50);
    assert_int_equal(never, 0);
}

/* ---- the polling API, with poll(2) and no libevent loop of ours */

static int wait_want(const evtls_want *w)
{
    struct pollfd pfd = {w->fd,
                         (short)(((w->events & EVTLS_WANT_READ) ? POLLIN : 0) |
                                 ((w->events & EVTLS_WANT_WRITE) ? POLLOUT : 0)),
                         0};
    assert_true(w->fd >= 0 || w->timeout_ms >= 0); /* something to wait for */
    return poll(&pfd, w->fd >= 0 ? 1 : 0, w->timeout_ms);
}

/* Drives a connect by polling; *pending counts the calls that returned 0
 * (in progress). How many there are is the scheduler's (a server can
 * answer before a slow client's first call returns): it is printed, not
 * asserted; test_poll_api_handshake_timeout shows that calls do not block. */
static int poll_connect(evtls_conn *c, const char *host, uint16_t port, unsigned *pending)
{
    evtls_want w;
    int rc;
    *pending = 0;
    for (int i = 0; i < 100000; i++) {
        rc = evtls_conn_connect_poll(c, i == 0 ? host : NULL, i == 0 ? port : 0, &w);
        if (rc != 0)
            return rc;
        ++*pending;
        wait_want(&w);
    }
    return 0;
}

static void test_poll_api(void **state)
{
    struct fx *f = *state;
    /* NULL base: the connection owns a private one; the caller runs none. */
    evtls_conn *c = evtls_conn_new(NULL, f->cfg);
    unsigned pending;
    assert_int_equal(poll_connect(c, "localhost", f->p.port, &pending), 1);
    printf("poll api: %u calls in progress before the connect completed\n", pending);
    assert_int_equal(evtls_conn_get_state(c), EVTLS_STATE_CONNECTED);
    static const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    evtls_want w;
    ssize_t n;
    while ((n = evtls_conn_send(c, req, sizeof req - 1, &w)) == EVTLS_ERR_WOULDBLOCK)
        wait_want(&w);
    assert_int_equal(n, (ssize_t)(sizeof req - 1));
    char buf[4096];
    size_t len = 0;
    for (;;) {
        n = evtls_conn_recv(c, buf + len, sizeof buf - 1 - len, &w);
        if (n == EVTLS_ERR_WOULDBLOCK) {
            assert_true(w.fd >= 0 && (w.events & EVTLS_WANT_READ));
            wait_want(&w);
            continue;
        }
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    assert_non_null(strstr(buf, "hello from nginx"));
    assert_true(n == EVTLS_EOF || n == EVTLS_ERR_PEER_CLOSED);
    evtls_conn_free(c);
}

static void test_poll_api_handshake_timeout(void **state)
{
    struct fx *f = *state;
    (void)f;
    uint16_t port;
    int lfd = listen_loopback(16, &port);
    /* A call returns while the peer stays silent: with a handshake timer of
     * 10 minutes, a call that blocked would not return for 10 minutes
     * (ctest's limit would end the test); a call that does not block can
     * only say "in progress", whatever the machine's speed. */
    evtls_cfg *patient = test_cfg(0, 600000);
    evtls_conn *c = evtls_conn_new(NULL, patient);
    evtls_want w;
    assert_int_equal(evtls_conn_connect_poll(c, "127.0.0.1", port, &w), 0);
    assert_true(w.fd >= 0 || w.timeout_ms >= 0);
    evtls_conn_free(c);
    evtls_cfg_unref(patient);
    /* Only a later call reports the handshake timer's error, not before it
     * was due. */
    evtls_cfg *cfg = test_cfg(0, 400);
    c = evtls_conn_new(NULL, cfg);
    unsigned pending;
    uint64_t t0 = now_ms();
    assert_int_equal(poll_connect(c, "127.0.0.1", port, &pending), -1);
    assert_true(now_ms() - t0 >= 380);
    assert_int_equal(evtls_conn_get_last_error(c)->code, EVTLS_ERR_HANDSHAKE_TIMEOUT);
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keepalive_and_graceful_close, setup_nginx, teardown),
        cmocka_unit_test_setup_teardown(test_backpressure, setup_nginx, teardown),
        cmocka_unit_test_setup_teardown(test_free_inside_callback, setup_nginx, teardown),
        cmocka_unit_test_setup_teardown(test_close_inside_read_callback, setup_nginx, teardown),
        cmocka_unit_test_setup_teardown(test_abort_and_close_while_connecting, setup_nginx,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_poll_api, setup_nginx, teardown),
        cmocka_unit_test_setup_teardown(test_poll_api_handshake_timeout, setup_nginx, teardown),
    };
    return cmocka_run_group_tests_name("io", tests, NULL, NULL);
}
