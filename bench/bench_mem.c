/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench_mem.c - resident memory per idle pooled TLS connection, and where
 * the heap goes, by owner.
 *
 *   bench_mem N        (bash bench/mem_per_conn.sh runs it at 1,000 and 10,000)
 *
 * N connections to one nginx on loopback (TLS 1.3, X25519, ECDSA P-256
 * certificate, verification and host-name check on, full handshakes: no
 * session tickets) are opened by the pool and left idle in it. The figure
 * is the growth of the process's resident set from a baseline taken after
 * a warm-up (which builds the TLS context and wolfSSL's per-thread ECC
 * cache) to the state with N idle, divided by N. The heap is split by
 * owner: wolfSSL's blocks by evtls's allocator layer (evtls/mem.h),
 * libevent's through event_set_mem_functions, and the rest of malloc's
 * bytes in use (mallinfo2). */
#include <event2/event.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "peer.h"

static size_t event_bytes; /* libevent's live bytes (malloc_usable_size) */

static void *ev_malloc(size_t n)
{
    void *p = malloc(n);
    if (p)
        event_bytes += malloc_usable_size(p);
    return p;
}

static void *ev_realloc(void *p, size_t n)
{
    size_t old = p ? malloc_usable_size(p) : 0;
    void *q = realloc(p, n);
    if (q) {
        event_bytes -= old;
        event_bytes += malloc_usable_size(q);
    }
    return q;
}

static void ev_free(void *p)
{
    if (p)
        event_bytes -= malloc_usable_size(p);
    free(p);
}

struct snap {
    long rss_kb;
    size_t heap; /* malloc's bytes in use */
    size_t event;
    evtls_mem_stats mem;
};

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void take(struct snap *s)
{
    struct mallinfo2 mi = mallinfo2();
    s->rss_kb = rss_kb();
    s->heap = mi.uordblks + mi.hblkhd;
    s->event = event_bytes;
    evtls_mem_get_stats(&s->mem);
}

/* Runs what is ready (deferred work, the last handshakes' follow-ups,
 * closes) without waiting. */
static void settle(struct event_base *base)
{
    for (int i = 0; i < 50; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
}

/* Opens n idle connections in p; returns how many became idle. */
static unsigned fill(struct event_base *base, evtls_pool *p, evtls_cfg *cfg, uint16_t port,
                     unsigned n)
{
    int rc = evtls_pool_prewarm(p, cfg, "localhost", port, n);
    if (rc != 0) {
        fprintf(stderr, "bench_mem: prewarm: %s (%s)\n", evtls_strerror(rc),
                evtls_cfg_get_last_error(cfg)->detail);
        return 0;
    }
    evtls_pool_stats st;
    uint64_t t0 = now_ms();
    do {
        event_base_loop(base, EVLOOP_ONCE);
        evtls_pool_get_stats(p, &st);
    } while (st.idle < n && st.connecting > 0 && now_ms() - t0 < 600000);
    settle(base);
    evtls_pool_get_stats(p, &st);
    for (int c = 0; c < EVTLS_CLASS_COUNT; c++)
        if (st.failed[c])
            fprintf(stderr, "bench_mem: %lu connections failed (%s)\n", (unsigned long)st.failed[c],
                    evtls_err_class_name((evtls_err_class)c));
    return st.idle;
}

static evtls_pool *new_pool(struct event_base *base, unsigned n)
{
    evtls_pool_opts o;
    evtls_pool_opts_default(&o);
    o.max_per_origin = o.max_idle_per_origin = n;
    o.max_total = n;
    o.idle_timeout_ms = 0;
    return evtls_pool_new(base, &o);
}

static double per(size_t a, size_t b, unsigned n)
{
    return ((double)b - (double)a) / (double)n / 1024.0;
}

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 1000;
    int resumed = argc > 2 && strcmp(argv[2], "resumed") == 0;
    if (n == 0 || n > 15000 || (argc > 2 && !resumed && strcmp(argv[2], "full") != 0)) {
        fprintf(stderr, "usage: bench_mem N (1..15000) [full|resumed]\n");
        return 2;
    }
    event_set_mem_functions(ev_malloc, ev_realloc, ev_free);
    evtls_log_set_level(EVTLS_LOG_ERROR);
    if (pki_ensure() != 0)
        return 1;
    struct peer web;
    /* resumed: TLS 1.2 resuming one cached session, so no certificate is
     * sent and wolfSSL keeps no copy of it: the difference to a full
     * handshake is what that copy costs. */
    if (peer_nginx(&web, "keepalive_timeout 600s;") != 0)
        return 1;
    struct event_base *base = event_base_new();
    evtls_cfg *cfg = test_cfg(0, 0);
    evtls_tls_version v = resumed ? EVTLS_TLS_1_2 : EVTLS_TLS_1_3;
    evtls_cfg_set_tls_versions(cfg, v, v);
    evtls_cfg_set_groups(cfg, "X25519:P-256"); /* P-256: the certificate's curve (TLS 1.2) */
    evtls_cfg_set_session_tickets(cfg, resumed);

    /* Warm-up: the context, the resolver and wolfSSL's per-thread ECC
     * point cache are built once, not per connection. */
    evtls_pool *warm = new_pool(base, 16);
    unsigned w = fill(base, warm, cfg, web.port, 16);
    evtls_pool_free(warm);
    settle(base);
    malloc_trim(0);
    struct snap a, b;
    take(&a);

    evtls_pool *p = new_pool(base, n);
    uint64_t t0 = now_ms();
    if (resumed) /* one full handshake first: the others resume its session */
        fill(base, p, cfg, web.port, 1);
    unsigned idle = fill(base, p, cfg, web.port, n);
    double secs = (double)(now_ms() - t0) / 1000.0;
    take(&b);
    int rc = idle == n && w == 16 ? 0 : 1;

    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    printf("bench_mem: %u idle pooled connections (%s, X25519, ECDSA P-256, verified, "
           "%lu of %lu resumed) opened in %.1f s\n",
           idle, resumed ? "TLS 1.2" : "TLS 1.3", (unsigned long)st.resumed,
           (unsigned long)st.created, secs);
    /* resumed: all but the first, which made the session */
    if (resumed ? st.resumed + 1 != st.created : st.resumed != 0) {
        fprintf(stderr, "bench_mem: %lu of %lu resumed, not as asked\n", (unsigned long)st.resumed,
                (unsigned long)st.created);
        rc = 1;
    }
    printf("  resident memory per connection: %.1f KiB (RSS %ld KiB -> %ld KiB)\n",
           (double)(b.rss_kb - a.rss_kb) / (double)n, a.rss_kb, b.rss_kb);
    printf("  heap per connection by owner (bytes asked for, KiB):\n");
    size_t owned_a = 0, owned_b = 0;
    for (int i = 0; i < EVTLS_MEM_OWNERS; i++) {
        owned_a += a.mem.bytes[i];
        owned_b += b.mem.bytes[i];
        printf("    %-14s %7.2f  (%.1f blocks)\n", evtls_mem_owner_name((evtls_mem_owner)i),
               per(a.mem.bytes[i], b.mem.bytes[i], n),
               ((double)b.mem.blocks[i] - (double)a.mem.blocks[i]) / (double)n);
    }
    printf("    %-14s %7.2f\n", "libevent", per(a.event, b.event, n));
    double rest = per(a.heap, b.heap, n) - per(owned_a, owned_b, n) - per(a.event, b.event, n);
    printf("    %-14s %7.2f  (pool entries, keys, malloc headers)\n", "other malloc", rest);
    printf("    %-14s %7.2f\n", "heap in use", per(a.heap, b.heap, n));
    double given = ((double)b.mem.released_pages - (double)a.mem.released_pages) * 4.0 / n;
    printf("  zero pages of the session object given back: %.2f KiB per connection\n", given);
    printf("  heap in use less pages given back: %.2f KiB; the rest of the resident growth "
           "(malloc's free lists, stacks): %.2f KiB\n",
           per(a.heap, b.heap, n) - given,
           (double)(b.rss_kb - a.rss_kb) / (double)n - (per(a.heap, b.heap, n) - given));
    if (!b.mem.enabled)
        printf("  (evtls's allocator layer is off: wolfSSL's share is in \"other malloc\")\n");

    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
    settle(base);
    event_base_free(base);
    evtls_thread_cleanup();
    peer_stop(&web);
    if (idle != n)
        fprintf(stderr, "bench_mem: only %u of %u connections became idle\n", idle, n);
    return rc;
}
