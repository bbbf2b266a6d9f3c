/* SPDX-License-Identifier: GPL-2.0-or-later */
/* harness.c - drives evtls connections on a test's event_base. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "peer.h"

int write_until_refused(struct event_base *base, evtls_conn *c, size_t chunk, int max_writes,
                        size_t *accepted)
{
    char *buf = malloc(chunk);
    if (buf == NULL)
        return EVTLS_ERR_NOMEM;
    memset(buf, 'w', chunk);
    int rc = 0;
    *accepted = 0;
    for (int i = 0; i < max_writes && rc == 0; i++) {
        rc = evtls_conn_write(c, buf, chunk);
        if (rc == 0)
            *accepted += chunk;
        event_base_loop(base, EVLOOP_NONBLOCK);
    }
    free(buf);
    return rc;
}

unsigned test_time_scale(void)
{
    const char *s = getenv("EVTLS_TEST_TIME_SCALE");
    int n = s ? atoi(s) : 1;
    return n >= 1 && n <= 100 ? (unsigned)n : 1;
}

uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

evtls_cfg *test_cfg(unsigned connect_ms, unsigned handshake_ms)
{
    evtls_cfg *cfg = evtls_cfg_new();
    if (cfg == NULL || evtls_cfg_set_ca_file(cfg, pki("ca.pem")) != 0)
        return NULL;
    if (connect_ms)
        evtls_cfg_set_timeout(cfg, EVTLS_TIMEOUT_CONNECT, connect_ms);
    if (handshake_ms)
        evtls_cfg_set_timeout(cfg, EVTLS_TIMEOUT_HANDSHAKE, handshake_ms);
    return cfg;
}

static void limit_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(int *)arg = 1;
}

void run_until(struct event_base *base, const int *flag, unsigned ms)
{
    int expired = 0;
    struct event *t = evtimer_new(base, limit_cb, &expired);
    uint64_t lim = (uint64_t)ms * test_time_scale();
    struct timeval tv = {(time_t)(lim / 1000), (suseconds_t)(lim % 1000) * 1000};
    evtimer_add(t, &tv);
    while (!*flag && !expired)
        if (event_base_loop(base, EVLOOP_ONCE) != 0)
            break;
    event_free(t);
}

struct waiter {
    struct event_base *base;
    struct connect_result *r;
    uint64_t start;
};

static void on_connect(evtls_conn *c, int err, void *arg)
{
    struct waiter *w = arg;
    w->r->done = 1;
    w->r->err = err;
    w->r->elapsed_ms = now_ms() - w->start;
    w->r->last = *evtls_conn_get_last_error(c);
}

int connect_wait(struct event_base *base, evtls_conn *c, const char *host, uint16_t port,
                 struct connect_result *r)
{
    memset(r, 0, sizeof *r);
    struct waiter w = {base, r, now_ms()};
    int rc = evtls_conn_connect(c, host, port, on_connect, &w);
    if (rc != 0)
        return rc;
    run_until(base, &r->done, 30000);
    return r->done ? r->err : -9999;
}

struct ex {
    struct event_base *base;
    char *buf;
    size_t max, len;
    int end, finished;
};

static void on_read(evtls_conn *c, const uint8_t *data, ssize_t n, void *arg)
{
    (void)c;
    struct ex *x = arg;
    if (n > 0) {
        size_t take = (size_t)n;
        if (x->len + take > x->max)
            take = x->max - x->len;
        memcpy(x->buf + x->len, data, take);
        x->len += take;
        return;
    }
    x->end = (int)n;
    x->finished = 1;
}

int exchange(struct event_base *base, evtls_conn *c, const char *req, char *buf, size_t max,
             size_t *len)
{
    struct ex x = {base, buf, max - 1, 0, 1, 0};
    int rc = evtls_conn_write(c, req, strlen(req));
    if (rc != 0)
        return rc;
    rc = evtls_conn_read_start(c, on_read, &x);
    if (rc != 0)
        return rc;
    run_until(base, &x.finished, 30000);
    evtls_conn_read_stop(c);
    buf[x.len] = '\0';
    *len = x.len;
    return x.end;
}

void run_for(struct event_base *base, unsigned ms)
{
    int never = 0;
    run_until(base, &never, ms);
}

int finish_loop(struct event_base *base, int fds_before)
{
    int rc = event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_free(base);
    int fds = count_open_fds();
    if (fds != fds_before)
        fprintf(stderr, "fd leak: %d open before the test, %d after\n", fds_before, fds);
    return rc < 0 || fds != fds_before ? -1 : 0;
}

int loop_fx_setup(void **state)
{
    static struct loop_fx f;
    f.fds = count_open_fds();
    f.base = event_base_new();
    *state = &f;
    return f.base ? 0 : -1;
}

int loop_fx_teardown(void **state)
{
    struct loop_fx *f = *state;
    /* Nothing may be left behind: no open fd. */
    return finish_loop(f->base, f->fds);
}

void got_checkout_cb(evtls_pool *p, evtls_conn *c, int err, const evtls_checkout_info *i, void *arg)
{
    (void)p;
    struct got *g = arg;
    g->done = 1;
    g->err = err;
    g->c = c;
    g->info = *i;
}

int pool_checkout_wait(struct event_base *base, evtls_pool *p, evtls_cfg *cfg, const char *host,
                       uint16_t port, struct got *g)
{
    memset(g, 0, sizeof *g);
    int rc = evtls_pool_checkout(p, cfg, host, port, got_checkout_cb, g, NULL);
    if (rc)
        return rc;
    run_until(base, &g->done, 10000);
    return g->done ? g->err : -9999;
}

static _Atomic unsigned long internal_seen;
static evtls_log_level internal_print;

static void count_internal(evtls_log_level level, unsigned long ms, const char *msg, void *arg)
{
    (void)arg;
    if (level == EVTLS_LOG_ERROR && strstr(msg, "internal error") != NULL)
        internal_seen++;
    if (internal_print != EVTLS_LOG_NONE && level <= internal_print)
        fprintf(stderr, "%6lu.%03lu %s\n", ms / 1000, ms % 1000, msg);
}

void internal_errors_watch(evtls_log_level print_level)
{
    internal_print = print_level;
    evtls_log_set_handler(count_internal, NULL);
    evtls_log_set_level(print_level != EVTLS_LOG_NONE && print_level > EVTLS_LOG_ERROR
                            ? print_level
                            : EVTLS_LOG_ERROR);
}

unsigned long internal_errors(void)
{
    return internal_seen;
}
