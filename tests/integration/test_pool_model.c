/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_pool_model.c - the pool's lifecycle against a model.
 *
 * Each sequence makes a pool with random limits and runs a random, seeded
 * sequence of checkouts (to nginx under two names, a second nginx that is
 * restarted now and then, a peer that stalls after the handshake, one that
 * stalls in it, nginx with an untrusted CA, and nginx speaking HTTP/2, once
 * with a GOAWAY after every 5 requests), cancels (outside and
 * inside the checkout's own callback, and after the pool is gone),
 * check-ins, releases, frees of checked-out connections, GETs, nested
 * checkouts and pool frees from inside callbacks, shutdowns with a timeout
 * and pool frees, interleaved with loop turns. After every step it checks
 * the pool against the model:
 *
 *   - no callback runs inside an API call;
 *   - every checkout gets exactly one callback unless cancelled before it;
 *     a connection comes with err 0 only, and is never handed to a second
 *     holder while the first has it, but for an HTTP/2 one, shared by at
 *     most the configuration's cap of holders (frees of a shared one give
 *     a share back);
 *   - the gauges add up: busy >= connections the holders have, waiting <=
 *     checkouts pending, no origin over max_per_origin, the pool not over
 *     max_total, the checkout counter = checkouts made;
 *   - every exchange ends with exactly one done callback;
 *   - at the end of a sequence every fd is closed again (and ASan/LSan or
 *     valgrind see every byte freed at exit);
 *   - no connection or pool entry makes a move its state table does not
 *     have (a debug build aborts at one; here the log's internal errors
 *     are counted and must be none).
 *
 *   test_pool_model [--seed N] [--sequences N] [--seconds S] [--verbose]
 *
 * Sequence k runs with seed N+k, so a failure reported for one seed is run
 * again alone with --seed THAT --sequences 1 (the network's timing is not
 * replayed, the calls are). Ends with "N passed, M failed". */
#include <event2/event.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <evtls/evtls.h>
#include <evtls/http.h>

#include "harness.h"
#include "peer.h"

#define MAX_CO   256
#define MAX_HELD 64

enum { O_WEB, O_WEB_IP, O_WEB2, O_STALL, O_HS_STALL, O_BADCA, O_H2, O_H2_GOAWAY, N_ORIGINS };
#define H2_CAP 3 /* the HTTP/2 configuration's streams per connection */

struct co {
    evtls_checkout *h;
    int origin;
    int calls;
    int cancelled;   /* cancelled before its callback: it must never come */
    int self_cancel; /* cancel itself inside its callback (a no-op) */
    int cb_action;   /* what its callback does with the connection */
    int err;
};

struct held {
    evtls_conn *c;
    evtls_http_exchange *x; /* a GET running on it */
    int orphaned;           /* its pool let go of it */
};

static struct {
    struct event_base *base;
    evtls_pool *p;
    int pool_gone;
    evtls_pool_opts o;
    evtls_cfg *cfg, *badca, *h2;
    struct peer web, web2, stall, hs_stall, h2web, h2goaway;
    uint64_t rng;
    struct co co[MAX_CO];
    int n_co;
    uint64_t checkouts_made;
    struct held held[MAX_HELD];
    int n_held;
    int in_api;
    int exchanges_started, exchanges_done;
    int shutdown_calls;
    int verbose;
    int settled; /* all_settled(), as of the last callback */
    char fail[512];
    unsigned seed;
} M;

static void failf(const char *fmt, ...)
{
    if (M.fail[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(M.fail, sizeof M.fail, fmt, ap);
    va_end(ap);
}

static unsigned rnd(unsigned n)
{
    /* xorshift64*: reproducible from the seed on every machine */
    M.rng ^= M.rng >> 12;
    M.rng ^= M.rng << 25;
    M.rng ^= M.rng >> 27;
    return (unsigned)((M.rng * 2685821657736338717ull) >> 33) % n;
}

#define API(call)                                                                                  \
    do {                                                                                           \
        M.in_api++;                                                                                \
        call;                                                                                      \
        M.in_api--;                                                                                \
    } while (0)

static void say(const char *fmt, ...)
{
    if (!M.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int all_settled(void);

/* Every callback ends here: the drain at the end of a sequence waits on it. */
static void note_settled(void)
{
    M.settled = all_settled();
}

/* ---- held connections */

static int held_find(const evtls_conn *c)
{
    for (int i = 0; i < M.n_held; i++)
        if (M.held[i].c == c)
            return i;
    return -1;
}

/* How many holders have c (an HTTP/2 connection may have several). */
static int holders_of(const evtls_conn *c)
{
    int n = 0;
    for (int i = 0; i < M.n_held; i++)
        n += M.held[i].c == c;
    return n;
}

static void held_drop(int i)
{
    M.held[i] = M.held[--M.n_held];
}

/* Gives a held connection back in one of the three ways. A connection its
 * pool let go of is freed by checkin or release, which then need no live
 * pool (NULL here once the pool is gone). */
static void give_back(int i, int how)
{
    evtls_conn *c = M.held[i].c;
    int orphaned = M.held[i].orphaned;
    held_drop(i);
    evtls_pool *p = M.pool_gone ? NULL : M.p;
    switch (how) {
    case 0: {
        int rc;
        API(rc = evtls_pool_checkin(p, c));
        say("  checkin %p -> %s", (void *)c, evtls_err_name(rc));
        if (rc != 0 && rc != EVTLS_ERR_POOL_FREED && rc != EVTLS_ERR_POOL_CLOSED)
            failf("checkin of a held connection: %s", evtls_err_name(rc));
        if (rc != 0 && !orphaned)
            failf("checkin: %s for a connection its pool still had", evtls_err_name(rc));
        return;
    }
    case 1:
        say("  release %p", (void *)c);
        API(evtls_pool_release(p, c));
        return;
    default:
        say("  conn_free %p", (void *)c);
        API(evtls_conn_free(c));
        return;
    }
}

/* ---- exchanges */

static void on_done(evtls_http_exchange *x, int err, const evtls_http_resp *r, void *arg)
{
    (void)r;
    (void)arg;
    if (M.in_api)
        failf("exchange done callback inside an API call");
    M.exchanges_done++;
    evtls_conn *c = evtls_http_exchange_get_conn(x);
    int i = -1;
    for (int j = 0; j < M.n_held && i < 0; j++)
        if (M.held[j].x == x)
            i = j;
    if (i < 0 || M.held[i].c != c) {
        failf("done callback for an exchange nobody runs");
        return;
    }
    M.held[i].x = NULL;
    say("  done %p err %s", (void *)c, evtls_err_name(err));
    if (err == EVTLS_ERR_POOL_FREED || err == EVTLS_ERR_POOL_CLOSED)
        M.held[i].orphaned = 1;
    give_back(i, err == 0 ? (int)rnd(3) : 1 + (int)rnd(2));
    note_settled();
}

static void start_get(int i)
{
    if (M.held[i].x || M.held[i].orphaned)
        return;
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/");
    evtls_http_opts ho;
    evtls_http_opts_default(&ho);
    ho.ttfb_timeout_ms = 300; /* the stalling peer never answers */
    evtls_http_cbs cbs = {NULL, NULL, on_done};
    int rc;
    API(rc = evtls_http_exchange_start(M.held[i].c, req, &ho, &cbs, NULL, &M.held[i].x));
    evtls_http_req_free(req);
    if (rc == 0) {
        M.exchanges_started++;
        say("  GET on %p", (void *)M.held[i].c);
    } else {
        M.held[i].x = NULL; /* e.g. failed in place by its pool: give it back */
        give_back(i, 1 + (int)rnd(2));
    }
}

/* ---- checkouts */

static void do_checkout(void);

static uint16_t port_of(int origin)
{
    switch (origin) {
    case O_WEB2: return M.web2.port;
    case O_STALL: return M.stall.port;
    case O_HS_STALL: return M.hs_stall.port;
    case O_H2: return M.h2web.port;
    case O_H2_GOAWAY: return M.h2goaway.port;
    default: return M.web.port;
    }
}

static void checkout_cb_body(evtls_pool *p, evtls_conn *c, int err, const evtls_checkout_info *info,
                             struct co *k);

static void on_checkout(evtls_pool *p, evtls_conn *c, int err, const evtls_checkout_info *info,
                        void *arg)
{
    checkout_cb_body(p, c, err, info, arg);
    note_settled();
}

static void checkout_cb_body(evtls_pool *p, evtls_conn *c, int err, const evtls_checkout_info *info,
                             struct co *k)
{
    if (M.in_api)
        failf("checkout callback inside an API call");
    if (k->cancelled)
        failf("a cancelled checkout was called back");
    if (++k->calls > 1)
        failf("a checkout was called back twice");
    k->err = err;
    if ((err == 0) != (c != NULL))
        failf("checkout callback: err %d with connection %p", err, (void *)c);
    if (err == EVTLS_ERR_POOL_FREED && (p != NULL || !M.pool_gone))
        failf("POOL_FREED with a pool");
    if (err != 0 && evtls_err_get_class(err) == EVTLS_CLASS_CERT && info->error == NULL)
        failf("a failed connect without its record");
    say("  checkout #%d (origin %d) -> %s %p", (int)(k - M.co), k->origin, evtls_err_name(err),
        (void *)c);
    if (k->self_cancel)
        API(evtls_pool_cancel(k->h)); /* spent: nothing happens */
    if (c == NULL)
        return;
    int shared = k->origin == O_H2 || k->origin == O_H2_GOAWAY;
    if (!shared && held_find(c) >= 0) {
        failf("one connection handed to two holders");
        return;
    }
    if (shared && holders_of(c) >= H2_CAP) {
        failf("an HTTP/2 connection handed to more holders than its %d streams", H2_CAP);
        return;
    }
    if (evtls_conn_get_state(c) != EVTLS_STATE_CONNECTED)
        failf("a checked-out connection in state %s",
              evtls_conn_state_name(evtls_conn_get_state(c)));
    if (M.n_held == MAX_HELD) {
        API(evtls_conn_free(c));
        return;
    }
    int i = M.n_held++;
    M.held[i] = (struct held){c, NULL, 0};
    switch (k->cb_action) {
    case 0: return; /* keep it */
    case 1: give_back(i, 0); return;
    case 2: give_back(i, 1); return;
    case 3: give_back(i, 2); return;
    case 4: start_get(i); return;
    case 5:
        evtls_conn_set_userdata(c, &M.held[i]); /* the holder's slot */
        do_checkout();                          /* the next one, from in here */
        return;
    case 6:
        if (!M.pool_gone) {
            say("  pool_free inside a checkout callback");
            API(evtls_pool_free(M.p));
            M.pool_gone = 1;
            for (int j = 0; j < M.n_held; j++)
                M.held[j].orphaned = 1;
        }
        return;
    default: failf("unknown action"); return;
    }
}

static evtls_cfg *cfg_of(int origin)
{
    return origin == O_BADCA ? M.badca : origin == O_H2 || origin == O_H2_GOAWAY ? M.h2 : M.cfg;
}

static void do_checkout(void)
{
    if (M.pool_gone || M.n_co == MAX_CO)
        return;
    struct co *k = &M.co[M.n_co++];
    memset(k, 0, sizeof *k);
    k->origin = (int)rnd(N_ORIGINS);
    k->self_cancel = rnd(8) == 0;
    unsigned a = rnd(40);
    k->cb_action = a < 12 ? 0 : a < 20 ? 1 : a < 24 ? 2 : a < 27 ? 3 : a < 36 ? 4 : a < 39 ? 5 : 6;
    const char *host = k->origin == O_WEB_IP ? "127.0.0.1" : "localhost";
    evtls_cfg *cfg = cfg_of(k->origin);
    int rc;
    API(rc = evtls_pool_checkout(M.p, cfg, host, port_of(k->origin), on_checkout, k, &k->h));
    if (rc == 0) {
        M.checkouts_made++;
    } else if (rc == EVTLS_ERR_POOL_CLOSED) {
        k->cancelled = 1; /* refused at once: no callback is owed */
    } else {
        failf("checkout failed at once: %s", evtls_err_name(rc));
    }
    say("checkout #%d origin %d action %d -> %d", (int)(k - M.co), k->origin, k->cb_action, rc);
}

static void do_cancel(void)
{
    if (M.n_co == 0)
        return;
    struct co *k = &M.co[rnd((unsigned)M.n_co)];
    if (k->calls || k->cancelled)
        return; /* spent or gone: the handle may not be used */
    say("cancel #%d", (int)(k - M.co));
    API(evtls_pool_cancel(k->h));
    k->cancelled = 1;
}

static void on_shutdown(evtls_pool *p, int err, void *arg)
{
    (void)p;
    (void)arg;
    if (M.in_api)
        failf("shutdown callback inside an API call");
    M.shutdown_calls++;
    say("shutdown done: %s", evtls_err_name(err));
    if (err == EVTLS_ERR_TIMEOUT)
        for (int j = 0; j < M.n_held; j++)
            M.held[j].orphaned = 1;
}

static void pool_free_now(void)
{
    if (M.pool_gone)
        return;
    say("pool_free");
    API(evtls_pool_free(M.p));
    M.pool_gone = 1;
    for (int j = 0; j < M.n_held; j++)
        M.held[j].orphaned = 1;
}

/* ---- the model's checks between steps */

static void check_gauges(void)
{
    if (M.pool_gone)
        return;
    evtls_pool_stats st;
    evtls_pool_get_stats(M.p, &st);
    unsigned pooled = 0, pending = 0;
    for (int i = 0; i < M.n_held; i++) { /* distinct connections */
        int first = 1;
        for (int j = 0; j < i; j++)
            first &= M.held[j].c != M.held[i].c;
        pooled += !M.held[i].orphaned && first;
    }
    for (int i = 0; i < M.n_co; i++)
        pending += !M.co[i].calls && !M.co[i].cancelled;
    if (st.busy < pooled)
        failf("busy %u < %u connections held", st.busy, pooled);
    if (st.waiting > pending)
        failf("waiting %u > %u checkouts pending", st.waiting, pending);
    if (st.idle + st.busy + st.connecting > M.o.max_total)
        failf("%u connections over max_total %u", st.idle + st.busy + st.connecting, M.o.max_total);
    if (st.checkouts != M.checkouts_made)
        failf("checkouts %llu, made %llu", (unsigned long long)st.checkouts,
              (unsigned long long)M.checkouts_made);
    for (int k = 0; k < N_ORIGINS; k++) {
        evtls_pool_stats os;
        evtls_pool_get_origin_stats(M.p, cfg_of(k), k == O_WEB_IP ? "127.0.0.1" : "localhost",
                                    port_of(k), &os);
        if (os.idle + os.busy + os.connecting > M.o.max_per_origin)
            failf("origin %d: %u connections over max_per_origin %u", k,
                  os.idle + os.busy + os.connecting, M.o.max_per_origin);
    }
}

static void restart_web2(void)
{
    say("restart the second nginx");
    peer_stop(&M.web2);
    if (peer_nginx(&M.web2, "keepalive_timeout 60s;") != 0)
        failf("cannot restart nginx");
}

static int all_settled(void)
{
    for (int i = 0; i < M.n_co; i++)
        if (!M.co[i].calls && !M.co[i].cancelled)
            return 0;
    for (int i = 0; i < M.n_held; i++)
        if (M.held[i].x)
            return 0;
    return M.exchanges_done == M.exchanges_started;
}

/* One sequence; returns 0 or -1 with M.fail set. */
static int sequence(unsigned seed)
{
    M.seed = seed;
    M.rng = 0x9E3779B97F4A7C15ull ^ ((uint64_t)seed * 0x100000001B3ull) ^ 1;
    M.n_co = M.n_held = 0;
    M.checkouts_made = 0;
    M.exchanges_started = M.exchanges_done = M.shutdown_calls = 0;
    M.pool_gone = 0;
    M.fail[0] = '\0';
    int fds = count_open_fds();
    M.base = event_base_new();
    evtls_pool_opts_default(&M.o);
    M.o.max_per_origin = 1 + rnd(3);
    M.o.max_total = 2 + rnd(4);
    M.o.wait_timeout_ms = 100 + rnd(1500);
    M.o.idle_timeout_ms = rnd(3) ? 50 + rnd(500) : 0;
    M.o.max_uses = rnd(3) ? 0 : 1 + rnd(3);
    M.p = evtls_pool_new(M.base, &M.o);
    unsigned steps = 10 + rnd(40);
    int shut = 0;
    for (unsigned s = 0; s < steps && !M.fail[0]; s++) {
        unsigned op = rnd(100);
        if (op < 35) {
            do_checkout();
        } else if (op < 42) {
            do_cancel();
        } else if (op < 55 && M.n_held) {
            int i = (int)rnd((unsigned)M.n_held);
            if (M.held[i].x == NULL) {
                unsigned how = rnd(5);
                if (how < 3)
                    give_back(i, (int)how);
                else
                    start_get(i);
            }
        } else if (op < 80) {
            event_base_loop(M.base, EVLOOP_NONBLOCK);
        } else if (op < 95) {
            run_for(M.base, rnd(15));
        } else if (op < 97 && !shut && !M.pool_gone) {
            shut = 1;
            say("shutdown");
            API(evtls_pool_shutdown(M.p, rnd(2) ? 0 : 1 + rnd(200), on_shutdown, NULL));
        } else if (op < 98) {
            pool_free_now();
            do_cancel(); /* a cancel after the pool is gone: its callback is off */
        } else if (rnd(4) == 0) {
            /* Its connections are reset under the pool; checkouts to its
             * old port are refused, to the new one connect. */
            restart_web2();
        }
        check_gauges();
    }
    /* The end: free the pool now (pending work and all) or after a drain. */
    if (!M.pool_gone && rnd(2))
        run_for(M.base, rnd(30));
    pool_free_now();
    note_settled();
    if (!M.settled)
        run_until(M.base, &M.settled, 10000);
    if (!M.fail[0] && !all_settled())
        failf("not settled: a checkout or exchange never got its callback");
    for (int i = 0; i < M.n_co && !M.fail[0]; i++)
        if (!M.co[i].cancelled && M.co[i].calls != 1)
            failf("checkout #%d called %d times", i, M.co[i].calls);
    while (M.n_held)
        give_back(0, 2);
    event_base_loop(M.base, EVLOOP_NONBLOCK);
    event_base_free(M.base);
    int now = count_open_fds();
    if (!M.fail[0] && now != fds)
        failf("%d fds open after the sequence, %d before", now, fds);
    return M.fail[0] ? -1 : 0;
}

int main(int argc, char **argv)
{
    unsigned seed = 1, count = 0, seconds = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--sequences") == 0 && i + 1 < argc)
            count = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--verbose") == 0)
            M.verbose = 1;
        else {
            fprintf(stderr, "usage: %s [--seed N] [--sequences N] [--seconds S] [--verbose]\n",
                    argv[0]);
            return 2;
        }
    }
    if (count == 0 && seconds == 0)
        count = 1000;
    if (pki_ensure() != 0)
        return 2;
    /* Thousands of expected failures are not printed; a move the state
     * tables do not have is counted (and fails the run). */
    internal_errors_watch(getenv("EVTLS_LOG") ? EVTLS_LOG_DEBUG : EVTLS_LOG_NONE);
    if (peer_nginx(&M.web, "keepalive_requests 100000; keepalive_timeout 60s;") != 0 ||
        peer_nginx(&M.web2, "keepalive_timeout 60s;") != 0 ||
        peer_fault(&M.stall, "silent", NULL) || peer_fault(&M.hs_stall, "hs-silent", NULL) ||
        peer_nginx_ex(&M.h2web, PEER_NGINX_HTTP2, "keepalive_timeout 60s;") != 0 ||
        peer_nginx_ex(&M.h2goaway, PEER_NGINX_HTTP2, "keepalive_requests 5;") != 0) {
        fprintf(stderr, "cannot start the peers\n");
        return 2;
    }
    M.cfg = test_cfg(0, 300);
    M.badca = evtls_cfg_new();
    evtls_cfg_set_ca_file(M.badca, pki("other-ca.pem"));
    evtls_cfg_set_timeout(M.badca, EVTLS_TIMEOUT_HANDSHAKE, 300);
    M.h2 = test_cfg(0, 300);
    evtls_cfg_set_http2(M.h2, EVTLS_HTTP2_AUTO, H2_CAP);
    uint64_t t0 = now_ms();
    unsigned passed = 0, failed = 0, checkouts = 0, gets = 0;
    for (unsigned k = 0; count ? k < count : now_ms() - t0 < seconds * 1000ull; k++) {
        if (sequence(seed + k) != 0) {
            failed++;
            fprintf(stderr,
                    "sequence with seed %u FAILED: %s (again: --seed %u --sequences 1 "
                    "--verbose)\n",
                    seed + k, M.fail, seed + k);
            if (failed >= 5)
                break;
        } else {
            passed++;
        }
        checkouts += (unsigned)M.checkouts_made;
        gets += (unsigned)M.exchanges_started;
    }
    printf("pool model: %u sequences from seed %u, %u checkouts, %u GETs, in %.1f s\n",
           passed + failed, seed, checkouts, gets, (double)(now_ms() - t0) / 1000);
    evtls_cfg_unref(M.cfg);
    evtls_cfg_unref(M.badca);
    evtls_cfg_unref(M.h2);
    peer_stop(&M.h2web);
    peer_stop(&M.h2goaway);
    peer_stop(&M.web);
    peer_stop(&M.web2);
    peer_stop(&M.stall);
    peer_stop(&M.hs_stall);
    evtls_thread_cleanup();
    unsigned long illegal = internal_errors();
    printf("illegal state moves: %lu\n", illegal);
    printf("%u passed, %u failed\n", passed, failed);
    return failed || illegal ? 1 : 0;
}
