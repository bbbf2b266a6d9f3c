/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench_h2.c - what HTTP/2 costs the pool and how it opens connections.
 *
 *   bench_h2 N        (bash bench/h2.sh runs it)
 *
 * Against one nginx with http2 on loopback (TLS 1.3):
 *   1. heap bytes per idle pooled connection, HTTP/1.1 and HTTP/2: N
 *      fetches at once through a client whose pool opens N connections
 *      (HTTP/2 with a cap of one stream, so that it opens as many), all
 *      then idle in the pool; malloc's bytes in use (mallinfo2) from before
 *      the client to then, divided by N. The configurations are built
 *      before the baseline (their TLS context is no connection's).
 *   2. 1,000 fetches at once to one origin with a cap of 100 streams: the
 *      connections the pool made, and how many it started before the
 *      first was up (one: no burst before the server's SETTINGS).
 * Prints one JSON object. */
#include <event2/event.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "peer.h"

struct run {
    int done, ok;
    int connecting_before_up, up;
};

static void on_fetched(int err, const evtls_http_resp *r, const evtls_fetch_info *info, void *arg)
{
    (void)info;
    struct run *run = arg;
    run->done++;
    run->ok += err == 0 && evtls_http_resp_get_status(r) == 200;
}

static void on_state(evtls_pool *p, evtls_conn *c, evtls_pool_conn_state from,
                     evtls_pool_conn_state to, void *arg)
{
    (void)p, (void)c, (void)from;
    struct run *run = arg;
    if (to == EVTLS_POOL_CONNECTING && !run->up)
        run->connecting_before_up++;
    if (to == EVTLS_POOL_IDLE || to == EVTLS_POOL_BUSY)
        run->up = 1;
}

static evtls_client *client_for(struct event_base *base, evtls_cfg *cfg, unsigned per_origin)
{
    evtls_pool_opts po;
    evtls_pool_opts_default(&po);
    po.max_per_origin = po.max_idle_per_origin = per_origin;
    po.idle_timeout_ms = 0;
    evtls_client_opts co;
    evtls_client_opts_default(&co);
    co.pool = &po;
    return evtls_client_new(base, cfg, &co);
}

static int fetch_all(struct event_base *base, evtls_client *cl, const char *url, int n,
                     struct run *run)
{
    for (int i = 0; i < n; i++) {
        evtls_request rq = {.url = url};
        if (evtls_client_fetch(cl, &rq, on_fetched, run, NULL) != 0)
            return -1;
    }
    while (run->done < n)
        event_base_loop(base, EVLOOP_ONCE);
    return run->ok == n ? 0 : -1;
}

static evtls_cfg *cfg_for(int http2, unsigned streams)
{
    evtls_cfg *cfg = test_cfg(0, 0);
    if ((http2 && evtls_cfg_set_http2(cfg, EVTLS_HTTP2_AUTO, streams) != 0) ||
        evtls_cfg_build(cfg) != 0) {
        evtls_cfg_unref(cfg);
        return NULL;
    }
    return cfg;
}

/* Heap bytes per idle connection, n of them opened through cfg. */
static double idle_bytes(struct event_base *base, evtls_cfg *cfg, const char *url, int n)
{
    size_t before = mallinfo2().uordblks;
    evtls_client *cl = client_for(base, cfg, (unsigned)n);
    struct run run = {0};
    if (cl == NULL || fetch_all(base, cl, url, n, &run) != 0) {
        fprintf(stderr, "bench_h2: %d fetches did not all succeed (%d did)\n", n, run.ok);
        exit(1);
    }
    run_for(base, 50); /* late session tickets and SETTINGS acks settle */
    evtls_pool_stats st;
    evtls_pool_get_stats(evtls_client_get_pool(cl), &st);
    if (st.idle != (unsigned)n) {
        fprintf(stderr, "bench_h2: %u idle connections, not %d\n", st.idle, n);
        exit(1);
    }
    size_t after = mallinfo2().uordblks;
    evtls_client_free(cl);
    event_base_loop(base, EVLOOP_NONBLOCK);
    return ((double)after - (double)before) / n;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    if (n < 1 || n > 5000) {
        fprintf(stderr, "usage: bench_h2 [N (1 to 5000)]\n");
        return 2;
    }
    evtls_log_set_level(EVTLS_LOG_WARN);
    struct peer ng;
    if (pki_ensure() != 0 ||
        peer_nginx_ex(&ng, PEER_NGINX_HTTP2,
                      "keepalive_requests 1000000; keepalive_timeout 600s;") != 0) {
        fprintf(stderr, "bench_h2: cannot start nginx\n");
        return 1;
    }
    char url[96];
    snprintf(url, sizeof url, "https://localhost:%u/", ng.port);
    struct event_base *base = event_base_new();
    evtls_cfg *h1 = cfg_for(0, 0), *h2 = cfg_for(1, 1), *h2_100 = cfg_for(1, 100);
    if (base == NULL || h1 == NULL || h2 == NULL || h2_100 == NULL) {
        peer_stop(&ng);
        return 1;
    }
    /* warm-up: each configuration's context, wolfSSL's caches */
    (void)idle_bytes(base, h1, url, 2);
    (void)idle_bytes(base, h2, url, 2);
    double b1 = idle_bytes(base, h1, url, n);
    double b2 = idle_bytes(base, h2, url, n);

    evtls_client *cl = client_for(base, h2_100, 32);
    struct run run = {0};
    evtls_pool_set_state_cb(evtls_client_get_pool(cl), on_state, &run);
    int rc = cl ? fetch_all(base, cl, url, 1000, &run) : -1;
    evtls_pool_stats st;
    evtls_pool_get_stats(evtls_client_get_pool(cl), &st);
    evtls_client_free(cl);
    event_base_loop(base, EVLOOP_NONBLOCK);
    if (rc != 0) {
        fprintf(stderr, "bench_h2: 1,000 fetches: %d succeeded\n", run.ok);
        peer_stop(&ng);
        return 1;
    }
    printf("{\"n\":%d,\"h1_idle_bytes\":%.0f,\"h2_idle_bytes\":%.0f,\"h2_extra_kib\":%.2f,"
           "\"fetches\":1000,\"fetches_ok\":%d,\"connections\":%llu,\"connecting_before_up\":%d,"
           "\"shared\":%llu}\n",
           n, b1, b2, (b2 - b1) / 1024, run.ok, (unsigned long long)st.created,
           run.connecting_before_up, (unsigned long long)st.shared);
    evtls_cfg_unref(h1);
    evtls_cfg_unref(h2);
    evtls_cfg_unref(h2_100);
    event_base_free(base);
    peer_stop(&ng);
    return 0;
}
