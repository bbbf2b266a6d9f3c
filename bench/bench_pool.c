/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench_pool.c - the cost of a checkout of an idle pooled connection, at
 * 100 and at 10,000 idle connections to one nginx on loopback, in the same
 * run (the ratio is the figure: O(1) means about 1.0).
 *
 *   bench_pool [N1 N2 iterations]        wall-clock checkouts per second
 *   bash bench/pool_instructions.sh      instructions per checkout (callgrind)
 *
 * Connections are TLS 1.2 and all but the first resume a session, which
 * keeps setting up 10,000 of them short. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "peer.h"

static int got;
static evtls_conn *got_c;

static void on_co(evtls_pool *p, evtls_conn *c, int err, const evtls_checkout_info *i, void *arg)
{
    (void)p;
    (void)i;
    (void)arg;
    got = err ? -1 : 1;
    got_c = c;
}

/* The measured loop (callgrind collects only this function). */
void bench_checkouts(struct event_base *base, evtls_pool *p, evtls_cfg *cfg, uint16_t port,
                     long iters);
__attribute__((noinline)) void bench_checkouts(struct event_base *base, evtls_pool *p,
                                               evtls_cfg *cfg, uint16_t port, long iters)
{
    for (long i = 0; i < iters; i++) {
        got = 0;
        if (evtls_pool_checkout(p, cfg, "localhost", port, on_co, NULL, NULL) != 0)
            abort();
        while (!got)
            event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        if (got < 0 || evtls_pool_checkin(p, got_c) != 0)
            abort();
    }
}

static double run(unsigned n, long iters, uint16_t port)
{
    struct event_base *base = event_base_new();
    evtls_pool_opts o;
    evtls_pool_opts_default(&o);
    o.max_per_origin = o.max_idle_per_origin = n;
    o.max_total = n;
    o.idle_timeout_ms = 0;
    evtls_pool *p = evtls_pool_new(base, &o);
    evtls_cfg *cfg = test_cfg(0, 0);
    evtls_cfg_set_tls_versions(cfg, EVTLS_TLS_1_2, EVTLS_TLS_1_2);
    bench_checkouts(base, p, cfg, port, 1); /* one full handshake: its session is cached */
    if (evtls_pool_prewarm(p, cfg, "localhost", port, n) != 0)
        abort();
    evtls_pool_stats st;
    uint64_t t0 = now_ms();
    do {
        event_base_loop(base, EVLOOP_ONCE);
        evtls_pool_get_stats(p, &st);
    } while (st.idle < n && now_ms() - t0 < 300000);
    fprintf(stderr, "bench_pool: %u idle connections (%lu resumed) in %.1f s\n", st.idle,
            (unsigned long)st.resumed, (double)(now_ms() - t0) / 1000.0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    bench_checkouts(base, p, cfg, port, iters);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
    event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_free(base);
    return (double)iters / secs;
}

int main(int argc, char **argv)
{
    unsigned n1 = argc > 1 ? (unsigned)atoi(argv[1]) : 100;
    unsigned n2 = argc > 2 ? (unsigned)atoi(argv[2]) : 10000;
    long iters = argc > 3 ? atol(argv[3]) : 200000;
    evtls_log_set_level(EVTLS_LOG_ERROR);
    if (pki_ensure() != 0)
        return 1;
    struct peer web;
    if (peer_nginx(&web, "keepalive_requests 1000000; keepalive_timeout 600s;") != 0)
        return 1;
    double r1 = run(n1, iters, web.port);
    double r2 = run(n2, iters, web.port);
    printf("pool checkout+checkin of an idle connection:\n");
    printf("  %6u pooled: %10.0f checkouts/s\n", n1, r1);
    printf("  %6u pooled: %10.0f checkouts/s\n", n2, r2);
    printf("  ratio %u/%u: %.2f (1.00 = no cost from pool size)\n", n2, n1, r2 / r1);
    peer_stop(&web);
    return 0;
}
