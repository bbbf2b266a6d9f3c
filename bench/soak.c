/* SPDX-License-Identifier: GPL-2.0-or-later */
/* soak.c - a bounded soak on loopback: N operations (default 100,000),
 * each a GET through one evtls_client (a new connection from its pool),
 * to nginx and, one operation in ten, to the fault peer in its "mix" mode
 * (closes and resets mid-handshake, random bytes, bad record MACs,
 * truncated bodies with and without close_notify, garbage responses).
 *
 *   soak [-n N] [-c CONCURRENCY] [--max-seconds S]
 *
 * It checks, and exits 1 unless all hold:
 *   - every operation ended (within the time limit), in success or in a
 *     classified error: every nginx operation succeeded, every fault
 *     operation failed with one of the errors its modes cause;
 *   - after the run the process has the open fds, the heap (malloc's
 *     bytes in use, within 256 KiB) and the per-owner TLS memory it had
 *     after a warm-up of 2,000 operations, and its heap did not grow by
 *     more than 64 KiB over the second half of the run (buffers that
 *     grow to their working size grow early; a leak grows in both halves);
 *   - the run ended within --max-seconds (default 900).
 * It prints the counts by outcome and the figures it compared. */
#include <event2/event.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "peer.h"

#define MAX_SLOTS   512
#define FAULT_EVERY 10
#define WARM_UP     2000
#define HEAP_SLACK  (256 * 1024)

struct soak;

struct slot {
    struct soak *s;
    struct event *next; /* starts the slot's next operation from the loop */
    int fault;          /* this operation goes to the fault peer */
    uint64_t t0;
};

struct soak {
    struct event_base *base;
    evtls_client *client; /* over one pool: checkout, GET, checkin in one call */
    evtls_pool *pool;
    char web_url[64], fault_url[64];
    uint64_t issued, target, ended;
    uint64_t ok[2], failed[2]; /* [0] nginx, [1] fault peer */
    uint64_t by_err[2][128];   /* failures by -code */
    uint64_t unclassified, unexpected;
    struct slot slots[MAX_SLOTS];
    unsigned n_slots;
};

/* The errors the fault peer's mix modes may cause. */
static int expected_fault(int err)
{
    switch (err) {
    case EVTLS_ERR_PEER_CLOSED:
    case EVTLS_ERR_PEER_RESET:
    case EVTLS_ERR_PROTOCOL:
    case EVTLS_ERR_HTTP_TRUNCATED:
    case EVTLS_ERR_HTTP_MALFORMED:
    case EVTLS_ERR_HANDSHAKE_TIMEOUT: /* random bytes that read as the start of a long record */
        return 1;
    default: return 0;
    }
}

static void start_op(evutil_socket_t fd, short what, void *arg);

static void end_op(struct slot *sl, int err)
{
    struct soak *s = sl->s;
    int f = sl->fault;
    s->ended++;
    if (err == 0) {
        s->ok[f]++;
        if (f)
            s->unexpected++; /* a fault mode that did not fail */
    } else {
        s->failed[f]++;
        if (-err > 0 && -err < 128)
            s->by_err[f][-err]++;
        evtls_err_class cls = evtls_err_get_class(err); /* INTERNAL for an unknown code */
        if (cls == EVTLS_CLASS_NONE || cls == EVTLS_CLASS_INTERNAL)
            s->unclassified++;
        if (!f || !expected_fault(err))
            s->unexpected++;
    }
    if (s->ended % 10000 == 0)
        fprintf(stderr, "soak: %llu operations ended\n", (unsigned long long)s->ended);
    if (s->issued < s->target)
        event_active(sl->next, 0, 0);
}

static void on_fetched(int err, const evtls_http_resp *r, const evtls_fetch_info *info, void *arg)
{
    (void)r;
    (void)info;
    end_op(arg, err);
}

static void start_op(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct slot *sl = arg;
    struct soak *s = sl->s;
    if (s->issued >= s->target)
        return;
    sl->fault = s->issued % FAULT_EVERY == FAULT_EVERY - 1;
    s->issued++;
    evtls_request rq = {.url = sl->fault ? s->fault_url : s->web_url};
    int rc = evtls_client_fetch(s->client, &rq, on_fetched, sl, NULL);
    if (rc != 0)
        end_op(sl, rc);
}

/* Runs ops more operations to their end (or until deadline). */
static int run_ops(struct soak *s, uint64_t ops, uint64_t deadline_ms)
{
    s->target = s->issued + ops;
    for (unsigned i = 0; i < s->n_slots; i++)
        event_active(s->slots[i].next, 0, 0);
    while (s->ended < s->target && now_ms() < deadline_ms)
        event_base_loop(s->base, EVLOOP_ONCE);
    return s->ended == s->target ? 0 : -1;
}

struct mark {
    int fds;
    size_t heap;
    evtls_mem_stats mem;
    evtls_session_stats sessions;
};

static void take_mark(struct soak *s, struct mark *m)
{
    run_for(s->base, 200); /* closes finish, deferred callbacks run */
    m->fds = count_open_fds();
    m->heap = mallinfo2().uordblks;
    evtls_mem_get_stats(&m->mem);
    evtls_session_cache_get_stats(evtls_pool_get_session_cache(s->pool), &m->sessions);
}

static void print_errors(const struct soak *s, int f)
{
    for (int e = 1; e < 128; e++)
        if (s->by_err[f][e])
            printf("      %-20s %8llu\n", evtls_err_name(-e), (unsigned long long)s->by_err[f][e]);
}

int main(int argc, char **argv)
{
    uint64_t n = 100000;
    unsigned conc = 50, max_s = 900;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-n") == 0)
            n = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "-c") == 0)
            conc = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--max-seconds") == 0)
            max_s = (unsigned)atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: soak [-n N] [-c CONCURRENCY] [--max-seconds S]\n");
            return 2;
        }
    }
    if (n == 0 || conc == 0 || conc > MAX_SLOTS) {
        fprintf(stderr, "soak: -n must be > 0 and -c 1..%d\n", MAX_SLOTS);
        return 2;
    }
    internal_errors_watch(EVTLS_LOG_ERROR); /* errors printed, illegal state moves counted */
    if (pki_ensure() != 0)
        return 1;
    struct peer web, fault;
    if (peer_nginx(&web, "keepalive_requests 1000000;") != 0 ||
        peer_fault(&fault, "mix", NULL) != 0) {
        fprintf(stderr, "soak: cannot start nginx and the fault peer\n");
        return 1;
    }
    static struct soak s;
    s.base = event_base_new();
    snprintf(s.web_url, sizeof s.web_url, "https://localhost:%u/", web.port);
    snprintf(s.fault_url, sizeof s.fault_url, "https://localhost:%u/", fault.port);
    evtls_cfg *cfg = test_cfg(0, 1000); /* the fault peer serves one at a time: stalls stay short */
    evtls_pool_opts po;
    evtls_pool_opts_default(&po);
    po.max_per_origin = conc;
    po.max_uses = 1; /* every operation a new connection */
    evtls_client_opts o;
    evtls_client_opts_default(&o);
    o.pool = &po;
    s.client = evtls_client_new(s.base, cfg, &o);
    evtls_cfg_unref(cfg);
    if (s.client == NULL) {
        fprintf(stderr, "soak: cannot set up the client\n");
        return 1;
    }
    s.pool = evtls_client_get_pool(s.client);
    s.n_slots = conc;
    for (unsigned i = 0; i < conc; i++) {
        s.slots[i].s = &s;
        s.slots[i].next = event_new(s.base, -1, 0, start_op, &s.slots[i]);
    }
    uint64_t t0 = now_ms(), deadline = t0 + (uint64_t)max_s * 1000;
    struct mark start, end;
    int rc = run_ops(&s, WARM_UP, deadline);
    take_mark(&s, &start);
    uint64_t t1 = now_ms();
    struct mark mid;
    if (rc == 0)
        rc = run_ops(&s, n / 2, deadline);
    take_mark(&s, &mid);
    if (rc == 0)
        rc = run_ops(&s, n - n / 2, deadline);
    double secs = (double)(now_ms() - t1) / 1000.0;
    take_mark(&s, &end);

    evtls_pool_stats st;
    evtls_pool_get_stats(s.pool, &st);
    uint64_t total = s.ended - WARM_UP;
    printf("soak: %llu operations after a warm-up of %d, %u at a time, in %.1f s (%.0f/s)\n",
           (unsigned long long)total, WARM_UP, conc, secs, (double)total / secs);
    printf("  to nginx:      %8llu ok, %llu failed\n", (unsigned long long)s.ok[0],
           (unsigned long long)s.failed[0]);
    print_errors(&s, 0);
    printf("  to fault peer: %8llu ok, %llu failed\n", (unsigned long long)s.ok[1],
           (unsigned long long)s.failed[1]);
    print_errors(&s, 1);
    printf("  pool: %llu connections made, %llu resumed\n", (unsigned long long)st.created,
           (unsigned long long)st.resumed);
    printf("  unclassified errors: %llu, unexpected outcomes: %llu, illegal state moves: %lu\n",
           (unsigned long long)s.unclassified, (unsigned long long)s.unexpected, internal_errors());
    long heap_diff = (long)end.heap - (long)start.heap;
    printf("  open fds: %d after the warm-up, %d at the end\n", start.fds, end.fds);
    long heap_late = (long)end.heap - (long)mid.heap;
    printf("  heap in use: %zu bytes after the warm-up, %zu half-way, %zu at the end (%+ld in "
           "all, %+ld in the second half)\n",
           start.heap, mid.heap, end.heap, heap_diff, heap_late);
    printf("  sessions cached: %zu after the warm-up, %zu at the end\n", start.sessions.sessions,
           end.sessions.sessions);
    int mem_ok = 1;
    for (int k = 0; k < EVTLS_MEM_OWNERS; k++) {
        /* Not checked: the context, and wolfSSL's per-thread ECC cache,
         * which fills up to its fixed size. */
        int checked = k != EVTLS_MEM_TLS_HANDSHAKE && k != EVTLS_MEM_TLS_CONFIG;
        printf("  %-14s %8zu bytes after the warm-up, %8zu at the end%s\n",
               evtls_mem_owner_name((evtls_mem_owner)k), start.mem.bytes[k], end.mem.bytes[k],
               checked ? "" : " (not checked)");
        if (checked && end.mem.bytes[k] > start.mem.bytes[k] + 4096)
            mem_ok = 0;
    }
    /* (Every ended operation is counted once as ok or failed: no sum to
     * check. That all of them ended is rc == 0.) */
    int pass = rc == 0 && s.unclassified == 0 && s.unexpected == 0 && internal_errors() == 0 &&
               end.fds == start.fds && heap_diff <= HEAP_SLACK && heap_late <= HEAP_SLACK / 4 &&
               mem_ok;
    if (rc != 0)
        printf("  ran out of time: %llu of %llu ended\n", (unsigned long long)s.ended,
               (unsigned long long)(WARM_UP + n));
    printf("soak: %s\n", pass ? "PASS" : "FAIL");

    evtls_client_free(s.client);
    for (unsigned i = 0; i < conc; i++)
        event_free(s.slots[i].next);
    event_base_free(s.base);
    peer_stop(&web);
    peer_stop(&fault);
    return pass ? 0 : 1;
}
