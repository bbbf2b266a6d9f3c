/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_pool_contract.c - the pool as an embedder uses it, in the orders of
 * calls that evtls's own programs never make: the next checkout from the
 * exchange's done callback, the pool freed or shut down under pending
 * checkouts and exchanges in flight, a cancel inside the checkout's own
 * callback, a checked-out connection freed by its holder or carrying the
 * holder's userdata, the total limit shared across origins, origins
 * dropped when empty, an ALPN protocol other than HTTP/1.1, and a failed
 * connect's error record. Each case reproduces a reported failure; the
 * suite runs it under ASan+UBSan and valgrind too. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <evtls/client.h>
#include <evtls/http.h>

#include "harness.h"
#include "peer.h"

static struct peer web;    /* nginx, keep-alive */
static struct peer silent; /* TLS, never answers a request */

static int group_setup(void **state)
{
    (void)state;
    if (peer_nginx(&web, "keepalive_requests 100000; keepalive_timeout 60s;") != 0)
        return -1;
    return peer_fault(&silent, "silent", NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    peer_stop(&silent);
    peer_stop(&web);
    return 0;
}

/* ---- one GET over a checked-out connection, with callbacks */

struct done {
    int calls, err, status;
};

static void on_done(evtls_http_exchange *x, int err, const evtls_http_resp *r, void *arg)
{
    (void)x;
    struct done *d = arg;
    d->calls++;
    d->err = err;
    d->status = err == 0 ? evtls_http_resp_get_status(r) : 0;
}

static evtls_http_exchange *start_get(evtls_conn *c, struct done *d)
{
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/");
    evtls_http_cbs cbs = {NULL, NULL, on_done};
    evtls_http_exchange *x = NULL;
    memset(d, 0, sizeof *d);
    int rc = evtls_http_exchange_start(c, req, NULL, &cbs, d, &x);
    evtls_http_req_free(req);
    assert_int_equal(rc, 0);
    return x;
}

/* ---- 1. the next checkout from the exchange's done callback */

struct chain {
    evtls_pool *p;
    evtls_cfg *cfg;
    evtls_conn *c;
    int left, failed, finished;
};

static void chain_checkout(struct chain *ch);

static void chain_done(evtls_http_exchange *x, int err, const evtls_http_resp *r, void *arg)
{
    (void)x;
    struct chain *ch = arg;
    if (err != 0 || evtls_http_resp_get_status(r) != 200) {
        ch->failed++;
        evtls_pool_release(ch->p, ch->c);
    } else {
        assert_int_equal(evtls_pool_checkin(ch->p, ch->c), 0);
    }
    ch->c = NULL;
    if (--ch->left > 0)
        chain_checkout(ch); /* from inside the callback, as an application would */
    else
        ch->finished = 1;
}

static void chain_got(evtls_pool *p, evtls_conn *c, int err, const evtls_checkout_info *i,
                      void *arg)
{
    (void)p;
    (void)i;
    struct chain *ch = arg;
    if (err != 0) {
        ch->failed++;
        ch->finished = 1;
        return;
    }
    ch->c = c;
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/");
    evtls_http_cbs cbs = {NULL, NULL, chain_done};
    int rc = evtls_http_exchange_start(c, req, NULL, &cbs, ch, NULL);
    evtls_http_req_free(req);
    assert_int_equal(rc, 0);
}

static void chain_checkout(struct chain *ch)
{
    assert_int_equal(
        evtls_pool_checkout(ch->p, ch->cfg, "localhost", web.port, chain_got, ch, NULL), 0);
}

static void test_reuse_from_the_done_callback(void **state)
{
    struct loop_fx *f = *state;
    struct chain ch = {evtls_pool_new(f->base, NULL), test_cfg(0, 0), NULL, 100, 0, 0};
    chain_checkout(&ch);
    run_until(f->base, &ch.finished, 30000);
    assert_true(ch.finished);
    assert_int_equal(ch.failed, 0);
    evtls_pool_stats st;
    evtls_pool_get_stats(ch.p, &st);
    assert_int_equal(st.created, 1);
    assert_int_equal(st.reused, 99);
    assert_int_equal(st.dead_idle, 0);
    evtls_pool_free(ch.p);
    evtls_cfg_unref(ch.cfg);
}

/* ---- 2. the pool freed under pending checkouts */

struct cb_count {
    int calls, err;
    evtls_pool *p;
    evtls_conn *c;
};

static void count_cb(evtls_pool *p, evtls_conn *c, int err, const evtls_checkout_info *i, void *arg)
{
    (void)i;
    struct cb_count *k = arg;
    k->calls++;
    k->err = err;
    k->p = p;
    k->c = c;
}

static void test_free_with_pending_checkouts(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool_opts o;
    evtls_pool_opts_default(&o);
    o.max_per_origin = 1;
    evtls_pool *p = evtls_pool_new(f->base, &o);
    evtls_cfg *cfg = test_cfg(0, 0);
    struct got g;
    assert_int_equal(pool_checkout_wait(f->base, p, cfg, "localhost", web.port, &g), 0);
    assert_int_equal(evtls_pool_checkin(p, g.c), 0);
    /* a: gets the idle connection, its delivery pending; b, c: queued. */
    struct cb_count k[3] = {{0}};
    for (int i = 0; i < 3; i++)
        assert_int_equal(evtls_pool_checkout(p, cfg, "localhost", web.port, count_cb, &k[i], NULL),
                         0);
    evtls_pool_free(p);
    for (int i = 0; i < 3; i++)
        assert_int_equal(k[i].calls, 0); /* never from inside the call */
    run_for(f->base, 50);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(k[i].calls, 1);
        assert_int_equal(k[i].err, EVTLS_ERR_POOL_FREED);
        assert_null(k[i].c);
        assert_null(k[i].p); /* the pool is gone */
    }
    evtls_cfg_unref(cfg);
}

/* The same, but the application frees its event_base without running it
 * again: each callback still runs once (from event_base_free), nothing
 * leaks and no socket stays open. */
static void test_free_pool_then_base(void **state)
{
    (void)state;
    int fds = count_open_fds();
    struct event_base *base = event_base_new();
    evtls_pool_opts o;
    evtls_pool_opts_default(&o);
    o.max_per_origin = 1;
    o.max_uses = 1; /* the check-in below starts a graceful close */
    evtls_pool *p = evtls_pool_new(base, &o);
    evtls_cfg *cfg = test_cfg(0, 0);
    struct got g;
    assert_int_equal(pool_checkout_wait(base, p, cfg, "localhost", web.port, &g), 0);
    struct done d;
    start_get(g.c, &d);
    run_until(base, &d.calls, 10000);
    assert_int_equal(d.err, 0);
    assert_int_equal(evtls_pool_checkin(p, g.c), 0); /* closing now */
    struct cb_count k[2] = {{0}};
    for (int i = 0; i < 2; i++)
        assert_int_equal(evtls_pool_checkout(p, cfg, "localhost", web.port, count_cb, &k[i], NULL),
                         0);
    evtls_pool_free(p);
    event_base_free(base);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(k[i].calls, 1);
        assert_int_equal(k[i].err, EVTLS_ERR_POOL_FREED);
    }
    assert_int_equal(count_open_fds(), fds);
    evtls_cfg_unref(cfg);
}

/* ---- 3. the pool freed, or its shutdown timing out, under an exchange */

static void release_in_done(evtls_http_exchange *x, int err, const evtls_http_resp *r, void *arg)
{
    (void)r;
    struct cb_count *k = arg;
    k->calls++;
    k->err = err;
    /* What the application does with a connection that failed: give it
     * back. The pool may be gone: the connection is freed either way. */
    evtls_pool_release(k->p, evtls_http_exchange_get_conn(x));
}

static void exchange_under(struct loop_fx *f, int free_pool, int want)
{
    evtls_pool *p = evtls_pool_new(f->base, NULL);
    evtls_cfg *cfg = test_cfg(0, 0);
    struct got g;
    assert_int_equal(pool_checkout_wait(f->base, p, cfg, "localhost", silent.port, &g), 0);
    struct cb_count k = {0, 0, p, NULL};
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/");
    evtls_http_cbs cbs = {NULL, NULL, release_in_done};
    assert_int_equal(evtls_http_exchange_start(g.c, req, NULL, &cbs, &k, NULL), 0);
    evtls_http_req_free(req);
    run_for(f->base, 50); /* the request is out; the peer stays silent */
    if (free_pool)
        evtls_pool_free(p);
    else
        evtls_pool_shutdown(p, 100, NULL, NULL); /* times out: the exchange is still out */
    assert_int_equal(k.calls, 0);
    run_until(f->base, &k.calls, 10000);
    assert_int_equal(k.calls, 1);
    assert_int_equal(k.err, want);
    if (!free_pool) {
        evtls_pool_stats st;
        evtls_pool_get_stats(p, &st);
        assert_int_equal(st.busy + st.idle + st.connecting, 0);
        evtls_pool_free(p);
    }
    run_for(f->base, 50);
    assert_int_equal(k.calls, 1);
    evtls_cfg_unref(cfg);
}

static void test_free_under_an_exchange(void **state)
{
    exchange_under(*state, 1, EVTLS_ERR_POOL_FREED);
}

static void test_shutdown_timeout_under_an_exchange(void **state)
{
    exchange_under(*state, 0, EVTLS_ERR_POOL_CLOSED);
}

/* ---- 4. cancel inside the checkout's own callback */

struct canceller {
    evtls_checkout *h;
    int calls;
    evtls_conn *c;
};

static void cancel_in_cb(evtls_pool *p, evtls_conn *c, int err, const evtls_checkout_info *i,
                         void *arg)
{
    (void)p;
    (void)i;
    struct canceller *k = arg;
    k->calls++;
    assert_int_equal(err, 0);
    k->c = c;
    evtls_pool_cancel(k->h); /* too late: does nothing */
}

static void test_cancel_inside_own_callback(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool *p = evtls_pool_new(f->base, NULL);
    evtls_cfg *cfg = test_cfg(0, 0);
    struct canceller k = {0};
    assert_int_equal(evtls_pool_checkout(p, cfg, "localhost", web.port, cancel_in_cb, &k, &k.h), 0);
    run_until(f->base, &k.calls, 10000);
    assert_int_equal(k.calls, 1);
    /* Two more checkouts while the first is held: three distinct
     * connections, each handed to one holder. */
    struct got a, b;
    assert_int_equal(pool_checkout_wait(f->base, p, cfg, "localhost", web.port, &a), 0);
    assert_int_equal(pool_checkout_wait(f->base, p, cfg, "localhost", web.port, &b), 0);
    assert_ptr_not_equal(a.c, k.c);
    assert_ptr_not_equal(b.c, k.c);
    assert_ptr_not_equal(a.c, b.c);
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.busy, 3);
    /* A cancel before the callback: it never runs. */
    struct cb_count never = {0};
    evtls_checkout *h;
    assert_int_equal(evtls_pool_checkout(p, cfg, "localhost", web.port, count_cb, &never, &h), 0);
    evtls_pool_cancel(h);
    run_for(f->base, 50);
    assert_int_equal(never.calls, 0);
    evtls_pool_free(p);
    run_for(f->base, 20);
    evtls_conn_free(k.c);
    evtls_conn_free(a.c);
    evtls_conn_free(b.c);
    evtls_cfg_unref(cfg);
}

/* ---- 5. the holder frees a checked-out connection */

static void test_conn_free_while_checked_out(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool_opts o;
    evtls_pool_opts_default(&o);
    o.max_per_origin = 1;
    o.wait_timeout_ms = 5000;
    evtls_pool *p = evtls_pool_new(f->base, &o);
    evtls_cfg *cfg = test_cfg(0, 0);
    struct got g;
    assert_int_equal(pool_checkout_wait(f->base, p, cfg, "localhost", web.port, &g), 0);
    evtls_conn_free(g.c);
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.busy, 0);
    /* The slot is free again: the next checkout connects, no wait. */
    assert_int_equal(pool_checkout_wait(f->base, p, cfg, "localhost", web.port, &g), 0);
    assert_int_equal(g.info.reused, 0);
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.wait_timeouts, 0);
    assert_int_equal(st.busy, 1);
    evtls_pool_free(p); /* with one out: the holder's to free */
    evtls_conn_free(g.c);
    evtls_cfg_unref(cfg);
}

/* ---- 6. the holder's userdata */

static void test_userdata_is_the_holders(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool *p = evtls_pool_new(f->base, NULL);
    evtls_cfg *cfg = test_cfg(0, 0);
    struct got g;
    assert_int_equal(pool_checkout_wait(f->base, p, cfg, "localhost", web.port, &g), 0);
    assert_null(evtls_conn_get_userdata(g.c));
    uint64_t *small = malloc(sizeof *small);
    evtls_conn_set_userdata(g.c, small);
    assert_int_equal(evtls_pool_checkin(p, g.c), 0);
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.idle, 1);
    assert_int_equal(st.busy, 0);
    assert_int_equal(pool_checkout_wait(f->base, p, cfg, "localhost", web.port, &g), 0);
    assert_int_equal(g.info.reused, 1);
    assert_ptr_equal(evtls_conn_get_userdata(g.c), small);
    char big[256];
    evtls_conn_set_userdata(g.c, big);
    evtls_pool_release(p, g.c);
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.busy, 0);
    free(small);
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
}

/* ---- 7. max_total shared across origins */

static void total_case(struct loop_fx *f, int by_checkin)
{
    evtls_pool_opts o;
    evtls_pool_opts_default(&o);
    o.max_total = 2;
    o.wait_timeout_ms = 10000;
    evtls_pool *p = evtls_pool_new(f->base, &o);
    evtls_cfg *cfg = test_cfg(0, 0);
    struct got a1, a2;
    assert_int_equal(pool_checkout_wait(f->base, p, cfg, "localhost", web.port, &a1), 0);
    assert_int_equal(pool_checkout_wait(f->base, p, cfg, "localhost", web.port, &a2), 0);
    /* Origin B (another host name) waits: the total is used up. */
    struct cb_count b = {0};
    assert_int_equal(evtls_pool_checkout(p, cfg, "127.0.0.1", web.port, count_cb, &b, NULL), 0);
    run_for(f->base, 50);
    assert_int_equal(b.calls, 0);
    if (by_checkin) {
        assert_int_equal(evtls_pool_checkin(p, a1.c), 0); /* idle in A, closed for B */
    } else {
        evtls_pool_release(p, a1.c);
    }
    run_until(f->base, &b.calls, 10000);
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.err, 0);
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.wait_timeouts, 0);
    assert_true(st.busy + st.idle + st.connecting <= 2);
    evtls_pool_checkin(p, b.c);
    evtls_pool_checkin(p, a2.c);
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
}

static void test_total_limit_serves_another_origin(void **state)
{
    total_case(*state, 1);
    total_case(*state, 0);
}

/* Many origins through a small total: every checkout is served, none
 * waits its timeout out. */
#define ORIGINS 40
struct many {
    evtls_pool *p;
    int served, failed;
};

static void many_cb(evtls_pool *p, evtls_conn *c, int err, const evtls_checkout_info *i, void *arg)
{
    (void)i;
    struct many *m = arg;
    if (err) {
        m->failed++;
        return;
    }
    m->served++;
    assert_int_equal(evtls_pool_checkin(p, c), 0);
}

static void test_many_origins_small_total(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool_opts o;
    evtls_pool_opts_default(&o);
    o.max_total = 4;
    o.wait_timeout_ms = 20000;
    o.idle_timeout_ms = 200;
    struct many m = {evtls_pool_new(f->base, &o), 0, 0};
    evtls_cfg *cfgs[ORIGINS];
    for (int i = 0; i < ORIGINS; i++) {
        cfgs[i] = test_cfg(0, 0);
        assert_int_equal(
            evtls_pool_checkout(m.p, cfgs[i], "localhost", web.port, many_cb, &m, NULL), 0);
    }
    evtls_pool_stats st;
    evtls_pool_get_stats(m.p, &st);
    assert_int_equal(st.origins, ORIGINS); /* every origin counted while it waits */
    for (unsigned t = 0; t < 2000 * test_time_scale() && m.served + m.failed < ORIGINS; t++)
        run_for(f->base, 10);
    assert_int_equal(m.failed, 0);
    assert_int_equal(m.served, ORIGINS);
    evtls_pool_get_stats(m.p, &st);
    assert_int_equal(st.wait_timeouts, 0);
    assert_true(st.idle <= 4);
    /* Empty origins go once their idle time is up; their configurations
     * with them. */
    uint64_t t0 = now_ms();
    while (st.origins > 0 && now_ms() - t0 < 10000 * test_time_scale()) {
        run_for(f->base, 50);
        evtls_pool_get_stats(m.p, &st);
    }
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.origins, 0);
    evtls_pool_free(m.p);
    for (int i = 0; i < ORIGINS; i++)
        evtls_cfg_unref(cfgs[i]);
}

/* ---- 8. a server that chose another protocol than HTTP/1.1 and h2:
 * HTTP/1.1 is refused before a byte is sent */

static void test_alpn_other_than_http11_refused(void **state)
{
    struct loop_fx *f = *state;
    struct peer h2;
    const char *args[] = {"-cert", pki("server.pem"), "-key", pki("server.key"),
                          "-alpn", "spdy/3",          NULL};
    assert_int_equal(peer_s_server(&h2, args), 0);
    evtls_pool *p = evtls_pool_new(f->base, NULL);
    evtls_cfg *cfg = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_alpn(cfg, "spdy/3,http/1.1", 0), 0);
    struct got g;
    assert_int_equal(pool_checkout_wait(f->base, p, cfg, "localhost", h2.port, &g), 0);
    assert_string_equal(evtls_conn_get_info(g.c)->alpn, "spdy/3");
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/");
    evtls_http_cbs cbs = {NULL, NULL, on_done};
    struct done d = {0};
    uint64_t out = evtls_conn_get_info(g.c)->bytes_out;
    assert_int_equal(evtls_http_exchange_start(g.c, req, NULL, &cbs, &d, NULL),
                     EVTLS_ERR_HTTP_ALPN);
    evtls_http_req_free(req);
    /* Nothing was sent or queued. */
    assert_int_equal(evtls_conn_get_info(g.c)->bytes_out, out);
    assert_int_equal(evtls_conn_get_write_pending(g.c), 0);
    run_for(f->base, 20);
    assert_int_equal(d.calls, 0);
    evtls_pool_release(p, g.c);
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
    peer_stop(&h2);
}

/* ---- 9. a failed connect: the record reaches every waiter, once */

struct rec {
    int calls, err, cert_flags_seen;
    char detail[160];
};

static void rec_cb(evtls_pool *p, evtls_conn *c, int err, const evtls_checkout_info *i, void *arg)
{
    (void)p;
    (void)c;
    struct rec *r = arg;
    r->calls++;
    r->err = err;
    if (i->error) {
        assert_int_equal(i->error->code, err);
        snprintf(r->detail, sizeof r->detail, "%s", i->error->detail);
        r->cert_flags_seen = i->error->cert_flags != 0;
    }
}

static void test_connect_error_record_to_every_waiter(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool_opts o;
    evtls_pool_opts_default(&o);
    o.max_per_origin = 1;
    evtls_pool *p = evtls_pool_new(f->base, &o);
    evtls_cfg *cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_ca_file(cfg, pki("other-ca.pem")), 0);
    struct rec r[3] = {{0}};
    for (int i = 0; i < 3; i++)
        assert_int_equal(evtls_pool_checkout(p, cfg, "localhost", web.port, rec_cb, &r[i], NULL),
                         0);
    for (unsigned t = 0; t < 500 * test_time_scale() && r[2].calls == 0; t++)
        run_for(f->base, 10);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].err, EVTLS_ERR_CERT_UNTRUSTED);
        assert_true(r[i].cert_flags_seen);
        assert_true(r[i].detail[0] != '\0');
    }
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.failed[EVTLS_CLASS_CERT], 1); /* one handshake, not three */
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
}

/* ---- the loop ends by itself when nothing is left to do */

/* A watcher, every 50 ms: when no event but itself is pending, it removes
 * itself, and event_base_dispatch returns as it would in an application
 * with nothing else to do. Only if evtls keeps something armed for a
 * minute does it give up (breaking the loop) so that the test fails
 * instead of hanging. */
struct watch {
    struct event *ev;
    uint64_t t0;
    int gave_up, others;
};

static int count_others(const struct event_base *base, const struct event *ev, void *arg)
{
    (void)base;
    struct watch *w = arg;
    if (ev != w->ev)
        w->others++;
    return 0;
}

static void watch_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct watch *w = arg;
    struct event_base *base = event_get_base(w->ev);
    w->others = 0;
    event_base_foreach_event(base, count_others, w);
    if (w->others == 0) {
        event_del(w->ev);
    } else if (now_ms() - w->t0 > 60000) {
        w->gave_up = 1;
        event_base_loopbreak(base);
    }
}

static void checked_in_after(evtls_pool *p, evtls_conn *c, int err, const evtls_checkout_info *i,
                             void *arg)
{
    (void)i;
    int *got = arg;
    *got = err == 0 ? 1 : -1;
    if (err == 0)
        assert_int_equal(evtls_pool_checkin(p, c), 0);
}

static void fetched_once(int err, const evtls_http_resp *r, const evtls_fetch_info *i, void *arg)
{
    (void)i;
    int *got = arg;
    *got = err == 0 && evtls_http_resp_get_status(r) == 200 ? 1 : -1;
}

/* After one checkout through a pool (and one fetch through a client), with
 * the default resolver kept by the pool, event_base_dispatch returns by
 * itself once the idle connection expires. Before, libevent 2.1.12's
 * resolver armed its name servers' UDP sockets before it learnt that it
 * should leave them off when idle, and the loop never ended. */
static void test_loop_ends_by_itself(void **state)
{
    struct loop_fx *f = *state;
    for (int via_client = 0; via_client < 2; via_client++) {
        evtls_pool_opts o;
        evtls_pool_opts_default(&o);
        o.idle_timeout_ms = 200;
        evtls_cfg *cfg = test_cfg(0, 0);
        evtls_pool *p = NULL;
        evtls_client *cl = NULL;
        int got = 0;
        if (via_client) {
            evtls_client_opts co;
            evtls_client_opts_default(&co);
            co.pool = &o;
            cl = evtls_client_new(f->base, cfg, &co);
            assert_non_null(cl);
            char url[64];
            snprintf(url, sizeof url, "https://localhost:%u/", web.port);
            assert_int_equal(
                evtls_client_fetch(cl, &(evtls_request){.url = url}, fetched_once, &got, NULL), 0);
        } else {
            p = evtls_pool_new(f->base, &o);
            assert_non_null(p);
            assert_int_equal(
                evtls_pool_checkout(p, cfg, "localhost", web.port, checked_in_after, &got, NULL),
                0);
        }
        struct watch w = {.t0 = now_ms()};
        w.ev = event_new(f->base, -1, EV_PERSIST, watch_tick, &w);
        struct timeval every = {0, 50000};
        event_add(w.ev, &every);
        assert_int_equal(event_base_dispatch(f->base), 1); /* 1: it ran out of events */
        assert_int_equal(w.gave_up, 0);
        assert_int_equal(got, 1);
        event_free(w.ev);
        if (cl)
            evtls_client_free(cl);
        evtls_pool_free(p);
        evtls_cfg_unref(cfg);
    }
}

/* ---- one origin, several spellings of its host */

/* "localhost." (absolute, for DNS), "LOCALHOST" and "localhost" are one
 * origin and one TLS name: each checkout is verified against the name
 * without its trailing dot, whichever spelling opened the connection.
 * Before, "localhost." failed CERT_HOSTNAME and so did every later
 * "localhost" from the same pool (the origin kept the first spelling). */
static void test_host_spellings(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool_opts o;
    evtls_pool_opts_default(&o);
    evtls_pool *p = evtls_pool_new(f->base, &o);
    evtls_cfg *cfg = test_cfg(0, 0);
    const char *spellings[] = {"localhost.", "localhost", "LOCALHOST", "localhost."};
    evtls_conn *held[4] = {NULL};
    for (int i = 0; i < 4; i++) { /* each held: four connections of one origin */
        struct got g;
        assert_int_equal(pool_checkout_wait(f->base, p, cfg, spellings[i], web.port, &g), 0);
        held[i] = g.c;
    }
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.origins, 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(evtls_pool_checkin(p, held[i]), 0);
    /* Plain "localhost" then reuses one of them. */
    struct got g;
    assert_int_equal(pool_checkout_wait(f->base, p, cfg, "localhost", web.port, &g), 0);
    assert_true(g.info.reused);
    evtls_pool_release(p, g.c);
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
}

/* ---- check-in under a running exchange */

/* A connection whose exchange still runs is not taken back (the next
 * holder would read this request's response): STATE, and it stays the
 * holder's; a second exchange on it is refused too. Once the response is
 * in, check-in works. Before, the check-in was accepted. */
static void test_checkin_refused_under_an_exchange(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool *p = evtls_pool_new(f->base, NULL);
    evtls_cfg *cfg = test_cfg(0, 0);
    struct got g;
    assert_int_equal(pool_checkout_wait(f->base, p, cfg, "localhost", web.port, &g), 0);
    struct done d;
    start_get(g.c, &d);
    assert_int_equal(evtls_pool_checkin(p, g.c), EVTLS_ERR_STATE);
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/");
    evtls_http_cbs cbs = {NULL, NULL, on_done};
    struct done d2;
    memset(&d2, 0, sizeof d2);
    assert_int_equal(evtls_http_exchange_start(g.c, req, NULL, &cbs, &d2, NULL), EVTLS_ERR_STATE);
    evtls_http_req_free(req);
    run_until(f->base, &d.calls, 10000);
    assert_int_equal(d.err, 0);
    assert_int_equal(d.status, 200);
    assert_int_equal(d2.calls, 0);
    assert_int_equal(evtls_pool_checkin(p, g.c), 0);
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.idle, 1);
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
}

/* ---- calls from the log handler */

/* A log handler that frees the pool (and tries a checkout and a client
 * free) when a connect fails: refused, nothing freed under the line being
 * logged. Before, evtls_pool_free ran inside evtls__conn_fail's line (a
 * warning then, information now: the caller is told) and freed the
 * connection it was failing (heap-use-after-free). */
struct from_log {
    evtls_pool *p;
    evtls_cfg *cfg;
    int tries, checkout_rc;
};
static struct from_log fl;

static void freeing_handler(evtls_log_level level, unsigned long ms, const char *msg, void *arg)
{
    (void)ms, (void)arg;
    if (level > EVTLS_LOG_INFO || fl.p == NULL || strstr(msg, " failed in ") == NULL)
        return;
    fl.tries++;
    fl.checkout_rc =
        evtls_pool_checkout(fl.p, fl.cfg, "localhost", web.port, got_checkout_cb, NULL, NULL);
    assert_int_equal(evtls_log_set_handler(NULL, NULL), EVTLS_ERR_STATE);
    evtls_pool_free(fl.p);
}

static void test_pool_free_from_the_log_handler(void **state)
{
    struct loop_fx *f = *state;
    fl = (struct from_log){.cfg = test_cfg(0, 0)};
    fl.p = evtls_pool_new(f->base, NULL);
    assert_int_equal(evtls_log_set_level(EVTLS_LOG_INFO), 0); /* the failure's line */
    assert_int_equal(evtls_log_set_handler(freeing_handler, NULL), 0);
    struct got g;
    memset(&g, 0, sizeof g);
    assert_int_equal(
        evtls_pool_checkout(fl.p, fl.cfg, "127.0.0.1", unused_port(), got_checkout_cb, &g, NULL),
        0);
    run_until(f->base, &g.done, 10000);
    assert_int_equal(evtls_log_set_handler(NULL, NULL), 0);
    assert_int_equal(evtls_log_set_level(EVTLS_LOG_WARN), 0);
    assert_int_equal(g.err, EVTLS_ERR_CONN_REFUSED);
    assert_true(fl.tries >= 1);
    assert_int_equal(fl.checkout_rc, EVTLS_ERR_STATE);
    evtls_pool_stats st;
    evtls_pool_get_stats(fl.p, &st); /* still there */
    assert_int_equal(st.checkouts, 1);
    evtls_pool_free(fl.p);
    fl.p = NULL;
    evtls_cfg_unref(fl.cfg);
}

/* ---- one session cache, two pools */

/* A session made through one pool resumes through another that was given
 * the same cache (evtls_pool_set_session_cache); a third pool with its own
 * cache makes a full handshake. */
static void test_pools_share_a_session_cache(void **state)
{
    struct loop_fx *f = *state;
    evtls_cfg *cfg = test_cfg(0, 0);
    evtls_session_cache *sc = evtls_session_cache_new(0);
    evtls_pool *pools[3];
    int resumed[3];
    for (int i = 0; i < 3; i++) {
        pools[i] = evtls_pool_new(f->base, NULL);
        if (i < 2)
            assert_int_equal(evtls_pool_set_session_cache(pools[i], sc), 0);
        struct got g;
        assert_int_equal(pool_checkout_wait(f->base, pools[i], cfg, "localhost", web.port, &g), 0);
        resumed[i] = g.info.resumed;
        /* A TLS 1.3 ticket comes after the handshake: read it in (the
         * pool would, at the next checkout). */
        evtls_session_cache *mine = evtls_pool_get_session_cache(pools[i]);
        evtls_session_stats ss;
        uint64_t t0 = now_ms();
        do {
            run_for(f->base, 10);
            assert_int_equal(evtls_conn_check_alive(g.c), 1);
            evtls_session_cache_get_stats(mine, &ss);
        } while (ss.sessions == 0 && now_ms() - t0 < 10000 * test_time_scale());
        assert_true(ss.sessions > 0);
        evtls_pool_release(pools[i], g.c);
    }
    assert_int_equal(resumed[0], 0);
    assert_int_equal(resumed[1], 1);
    assert_int_equal(resumed[2], 0);
    evtls_session_cache_unref(sc); /* the pools hold theirs */
    for (int i = 0; i < 3; i++)
        evtls_pool_free(pools[i]);
    evtls_cfg_unref(cfg);
}

/* ---- handles that cannot alias */

/* A checkout's handle, spent once its callback ran, names nothing: a late
 * cancel through it leaves the next checkout (which reuses the recycled
 * record) alone, and so does a cancel after the pool was freed. Before,
 * the handle was the record's address and the late cancel took the newer
 * checkout's callback away. */
static void test_late_cancel_is_a_no_op(void **state)
{
    struct loop_fx *f = *state;
    evtls_pool *p = evtls_pool_new(f->base, NULL);
    evtls_cfg *cfg = test_cfg(0, 0);
    struct got a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    evtls_checkout *ha = NULL, *hb = NULL;
    assert_int_equal(evtls_pool_checkout(p, cfg, "localhost", web.port, got_checkout_cb, &a, &ha),
                     0);
    assert_non_null(ha);
    run_until(f->base, &a.done, 10000);
    assert_int_equal(a.err, 0);
    assert_int_equal(evtls_pool_checkin(p, a.c), 0);
    /* b reuses the idle connection; its callback is due from the loop. */
    assert_int_equal(evtls_pool_checkout(p, cfg, "localhost", web.port, got_checkout_cb, &b, &hb),
                     0);
    assert_true(hb != ha);
    evtls_pool_cancel(ha); /* spent: must not touch b */
    evtls_pool_cancel(ha);
    run_until(f->base, &b.done, 10000);
    assert_int_equal(b.done, 1);
    assert_int_equal(b.err, 0);
    assert_true(b.info.reused);
    evtls_pool_cancel(hb); /* inside-or-after: nothing */
    evtls_pool_release(p, b.c);
    evtls_pool_free(p);
    evtls_pool_cancel(ha); /* after the pool is gone */
    evtls_pool_cancel(hb);
    evtls_cfg_unref(cfg);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]); /* one case by name (a glob) */
#define T(fn) cmocka_unit_test_setup_teardown(fn, loop_fx_setup, loop_fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_reuse_from_the_done_callback),
        T(test_free_with_pending_checkouts),
        cmocka_unit_test(test_free_pool_then_base),
        T(test_free_under_an_exchange),
        T(test_shutdown_timeout_under_an_exchange),
        T(test_cancel_inside_own_callback),
        T(test_conn_free_while_checked_out),
        T(test_userdata_is_the_holders),
        T(test_total_limit_serves_another_origin),
        T(test_many_origins_small_total),
        T(test_alpn_other_than_http11_refused),
        T(test_connect_error_record_to_every_waiter),
        T(test_loop_ends_by_itself),
        T(test_host_spellings),
        T(test_late_cancel_is_a_no_op),
        T(test_checkin_refused_under_an_exchange),
        T(test_pool_free_from_the_log_handler),
        T(test_pools_share_a_session_cache),
    };
#undef T
    return cmocka_run_group_tests_name("pool contract", tests, group_setup, group_teardown);
}
